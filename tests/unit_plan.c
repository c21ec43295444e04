/* unit_plan.c - engine_plan from a profile and hand-made facts: no root, no network, no DNS */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "gen/engine.h"
#include "gen/payload.h"
#include "gen/profile.h"

/*
 * A profile from key=value overrides, aimed at a host name that does not
 * resolve: the plan must take the address from the facts, never from DNS.
 */
static void prof_make(struct gen_profile *p, const char *const *kv)
{
	struct gen_diags d = { 0 };

	profile_init(p);
	assert_int_equal(profile_set(p, "target.host", "no-such-host.invalid", &d), 0);
	for (; kv && kv[0]; kv += 2)
		if (profile_set(p, kv[0], kv[1], &d)) {
			diags_print(&d, stderr);
			fail_msg("profile_set %s=%s", kv[0], kv[1]);
		}
}

/* Facts: 192.0.2.1:@port (or [2001:db8::1]), CPUs 4 and 5, a path MTU, the default crossover. */
static void facts_make(struct engine_facts *f, bool v6, uint16_t port, uint64_t mtu)
{
	memset(f, 0, sizeof(*f));
	if (v6) {
		struct sockaddr_in6 *s6 = (void *)&f->dest;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		inet_pton(AF_INET6, "2001:db8::1", &s6->sin6_addr);
		f->destlen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (void *)&f->dest;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, "192.0.2.1", &s4->sin_addr);
		f->destlen = sizeof(*s4);
	}
	f->cpus[0] = 4;
	f->cpus[1] = 5;
	f->ncpus = 2;
	f->path_mtu = mtu;
	f->crossover = ENGINE_AUTO_CROSSOVER_DEFAULT;
	snprintf(f->crossover_src, sizeof(f->crossover_src), "built-in default, no calibration");
	snprintf(f->congestion_default, sizeof(f->congestion_default), "cubic");
}

static struct engine_plan plan;
static char err[1200];

static int plan_of(const char *const *kv, const struct engine_facts *f)
{
	struct gen_profile p;

	prof_make(&p, kv);
	err[0] = '\0';
	return engine_plan(&p, f, &plan, err, sizeof(err));
}

/* Queues go on the facts' CPUs in turn, wrapping; each has the profile's streams. */
static void test_queues_cpus(void **state)
{
	static const char *const kv[] = { "queues", "3", "streams", "2", "mode", "copy", NULL };
	struct engine_facts f;

	(void)state;
	facts_make(&f, false, 5201, 1500);
	assert_int_equal(plan_of(kv, &f), 0);
	assert_string_equal(plan.dest_str, "192.0.2.1:5201");
	assert_int_equal(plan.nq, 3);
	assert_true(plan.cpus_wrapped);
	for (unsigned q = 0; q < 3; q++) {
		assert_int_equal(plan.q[q].queue, q);
		assert_int_equal(plan.q[q].streams, 2);
	}
	assert_int_equal(plan.q[0].cpu, 4);
	assert_int_equal(plan.q[1].cpu, 5);
	assert_int_equal(plan.q[2].cpu, 4);
	/* a NIC's queue -> CPU map replaces them */
	engine_facts_cpus(&f, (const unsigned[]){ 7, 8, 9 }, 3);
	assert_int_equal(plan_of(kv, &f), 0);
	assert_false(plan.cpus_wrapped);
	assert_int_equal(plan.q[2].cpu, 9);
	/* no CPU at all: an error, not a division by zero */
	f.ncpus = 0;
	assert_int_equal(plan_of(kv, &f), -ENOENT);
	/* the profile is copied, not changed: its own cpus stay unset */
	f.ncpus = 1;
	assert_int_equal(plan_of(kv, &f), 0);
	assert_int_equal(plan.prof.n_cpus, 0);
}

/*
 * TCP: one shared region, a page per pattern phase plus a send. Depth as
 * given, else 1 for zero-copy sends and 8 for copy sends, which also get a
 * fixed send buffer split over the streams; auto plans for both.
 */
static void test_tcp_buffers(void **state)
{
	static const char *const kv[] = { "streams", "4", "size", "16K", "depth", "8", "mode",
					   "zc", NULL };
	struct engine_facts f;

	(void)state;
	facts_make(&f, false, 5201, 1500);
	assert_int_equal(plan_of(kv, &f), 0);
	assert_int_equal(plan.mode, GEN_MODE_ZC);
	assert_string_equal(plan.mode_reason, "zc as asked");
	assert_int_equal(plan.msg_size, 16384);
	assert_int_equal(plan.slots, 1);
	assert_int_equal(plan.slot_size, PAYLOAD_PERIOD * 4096 + 16384);
	assert_int_equal(plan.ring_buf_bytes, PAYLOAD_PERIOD * 4096 + 16384);
	assert_int_equal(plan.depth, 8);
	assert_int_equal(plan.sq_entries, 32);       /* 4 streams x depth 8 */
	assert_int_equal(plan.gso, 1);
	assert_string_equal(plan.so.congestion_default, "cubic");
	assert_false(plan.paced);
	assert_int_equal(plan.tcp_sndbuf, 0);        /* zero-copy: the kernel's autotuning */
	/* zero-copy, no depth given: one send in flight per stream */
	static const char *const zc[] = { "streams", "4", "mode", "zc-fixed", NULL };

	assert_int_equal(plan_of(zc, &f), 0);
	assert_false(plan.prof.depth_set);
	assert_int_equal(plan.depth, GEN_DEPTH_TCP_ZC);
	assert_int_equal(plan.depth_copy, GEN_DEPTH_TCP_ZC);  /* never switches */
	assert_int_equal(plan.sq_entries, 8);        /* 4 x 1, at least 8 */
	assert_int_equal(plan.tcp_sndbuf, 0);
	/* copy: chains of 8, a fixed buffer; many streams: none under the floor */
	static const char *const cp[] = { "streams", "4", "mode", "copy", NULL };
	static const char *const many[] = { "streams", "64", "mode", "copy", NULL };

	assert_int_equal(plan_of(cp, &f), 0);
	assert_int_equal(plan.depth, GEN_DEPTH_TCP_COPY);
	assert_int_equal(plan.tcp_sndbuf, ENGINE_TCP_SNDBUF_RING / 4);
	assert_int_equal(plan_of(many, &f), 0);
	assert_int_equal(plan.tcp_sndbuf, ENGINE_TCP_SNDBUF_MIN);
	assert_int_equal(plan.sq_entries, 512);      /* 64 x 8, a power of two */
	/* auto starting with zero-copy: 1 now, copy's 8 and buffer if it switches */
	static const char *const au[] = { "streams", "4", "mode", "auto", NULL };

	assert_int_equal(plan_of(au, &f), 0);
	assert_true(plan.auto_adapt);
	assert_int_equal(plan.depth, GEN_DEPTH_TCP_ZC);
	assert_int_equal(plan.depth_copy, GEN_DEPTH_TCP_COPY);
	assert_int_equal(plan.sq_entries, 32);       /* room for 4 chains of 8 */
	assert_int_equal(plan.tcp_sndbuf, ENGINE_TCP_SNDBUF_RING / 4);
	/* zc-fixed registers the region: at most 1 GiB, 251 pages of it the pattern's */
	static const char *const huge[] = { "mode", "zc-fixed", "size", "1073000000", NULL };

	assert_int_equal(plan_of(huge, &f), -EINVAL);
	assert_non_null(strstr(err, "at most 1 GiB"));
	/* auto below the crossover: copy from the start, 8 and 8 */
	static const char *const au_small[] = { "streams", "4", "mode", "auto", "size", "1K", NULL };

	assert_int_equal(plan_of(au_small, &f), 0);
	assert_int_equal(plan.mode, GEN_MODE_COPY);
	assert_false(plan.auto_adapt);
	assert_int_equal(plan.depth, GEN_DEPTH_TCP_COPY);
	assert_int_equal(plan.depth_copy, GEN_DEPTH_TCP_COPY);
}

/* UDP without size: the path MTU's payload; loopback's or an unknown MTU: a 1500 MTU's. */
static void test_udp_default_size(void **state)
{
	static const char *const kv[] = { "protocol", "udp", "mode", "copy", NULL };
	struct engine_facts f;

	(void)state;
	facts_make(&f, false, 5201, 9000);
	assert_int_equal(plan_of(kv, &f), 0);
	assert_int_equal(plan.path_mtu, 9000);
	assert_int_equal(plan.msg_size, 9000 - 28);
	assert_non_null(strstr(plan.size_note, "the path MTU's payload"));
	facts_make(&f, false, 5201, 65536);
	assert_int_equal(plan_of(kv, &f), 0);
	assert_int_equal(plan.msg_size, 1472);
	assert_non_null(strstr(plan.size_note, "loopback's"));
	facts_make(&f, false, 5201, 0);
	assert_int_equal(plan_of(kv, &f), 0);
	assert_int_equal(plan.msg_size, 1472);
	assert_non_null(strstr(plan.size_note, "unknown"));
	/* IPv6: 48 bytes of headers */
	facts_make(&f, true, 5201, 1500);
	assert_int_equal(plan_of(kv, &f), 0);
	assert_int_equal(plan.msg_size, 1452);
	assert_string_equal(plan.dest_str, "[2001:db8::1]:5201");
	/* UDP slots: each send owns one until its notification, twice the sends in flight */
	assert_int_equal(plan.slots, 1 * 8 * 2);
	/* a power-of-two stride: two per page, none crossing a page boundary */
	assert_int_equal(plan.slot_size, 2048);
	assert_int_equal(plan.depth, 8);             /* UDP's default depth */
	assert_int_equal(plan.tcp_sndbuf, 0);
	/* a size below zcgen's header */
	static const char *const tiny[] = { "protocol", "udp", "size", "8", "mode", "copy", NULL };

	assert_int_equal(plan_of(tiny, &f), -EINVAL);
	assert_non_null(strstr(err, "below the"));
}

/* GSO: several datagrams per send, each within the path MTU, the send within 64 KiB. */
static void test_gso(void **state)
{
	static const char *const ok[] = { "protocol", "udp", "size", "1400", "gso", "4", "mode",
					  "copy", NULL };
	static const char *const big[] = { "protocol", "udp", "size", "1400", "gso", "64", "mode",
					   "copy", NULL };
	static const char *const mtu[] = { "protocol", "udp", "size", "1480", "gso", "4", "mode",
					   "copy", NULL };
	struct engine_facts f;

	(void)state;
	facts_make(&f, false, 5201, 1500);
	assert_int_equal(plan_of(ok, &f), 0);
	assert_int_equal(plan.gso, 4);
	assert_int_equal(plan.max_size, 1400);
	/* longer than a page: each send starts on one */
	assert_int_equal(plan.slot_size, 8192);
	assert_int_equal(plan_of(big, &f), -EINVAL);
	assert_non_null(strstr(err, "more than one UDP send can carry"));
	assert_non_null(strstr(err, "to 46 "));      /* 65507 / 1400 */
	assert_int_equal(plan_of(mtu, &f), -EINVAL);
	assert_non_null(strstr(err, "at most 1472"));
	/* the MTU unknown: only the 64 KiB limit */
	f.path_mtu = 0;
	assert_int_equal(plan_of(mtu, &f), 0);
}

/* Mode auto: the crossover is a fact (the calibration file's, or the default). */
static void test_auto(void **state)
{
	static const char *const small[] = { "size", "1K", NULL };
	static const char *const large[] = { "size", "64K", NULL };
	struct engine_facts f;

	(void)state;
	facts_make(&f, false, 5201, 1500);
	f.crossover = 4096;
	snprintf(f.crossover_src, sizeof(f.crossover_src), "calibrated on veth");
	assert_int_equal(plan_of(small, &f), 0);
	assert_int_equal(plan.mode, GEN_MODE_COPY);
	assert_false(plan.auto_adapt);
	assert_int_equal(plan.auto_crossover, 4096);
	assert_non_null(strstr(plan.mode_reason, "auto chose copy"));
	assert_non_null(strstr(plan.mode_reason, "calibrated on veth"));
	assert_int_equal(plan_of(large, &f), 0);
	assert_int_equal(plan.mode, GEN_MODE_ZC_FIXED);
	assert_true(plan.auto_adapt);
}

/* The rate: which pacers and each one's share of the profile's rate. */
static void test_rate(void **state)
{
	static const char *const total[] = { "queues", "2", "streams", "2", "rate", "1G", "mode",
					     "copy", NULL };
	static const char *const stream[] = { "queues", "2", "streams", "2", "rate", "1G",
					      "rate.per", "stream", "mode", "copy", NULL };
	struct engine_facts f;

	(void)state;
	facts_make(&f, false, 5201, 1500);
	assert_int_equal(plan_of(total, &f), 0);
	assert_true(plan.paced);
	assert_false(plan.pacer_per_stream);
	assert_false(plan.rate_pps);
	assert_true(plan.pace_share > 0.4999 && plan.pace_share < 0.5001);   /* a ring's half */
	assert_int_equal(plan.tcp_sndbuf, 0);                                /* paced: the kernel's */
	assert_int_equal(plan_of(stream, &f), 0);
	assert_true(plan.pacer_per_stream);
	assert_true(plan.pace_share > 0.9999 && plan.pace_share < 1.0001);   /* each stream the rate */
}

/* Destination ports: one per stream, in blocks per queue; too few is an error. */
static void test_ports(void **state)
{
	static const char *const kv[] = { "queues", "2", "streams", "3", "dest-ports", "6000-6009",
					  "mode", "copy", NULL };
	static const char *const few[] = { "queues", "2", "streams", "3", "dest-ports", "6000-6004",
					   "mode", "copy", NULL };
	struct engine_facts f;

	(void)state;
	facts_make(&f, false, 5201, 1500);
	assert_int_equal(plan_of(kv, &f), 0);
	assert_int_equal(plan.so.dper_queue, 5);
	assert_int_equal(sockopts_dport(&plan.so, 0, 0), 6000);
	assert_int_equal(sockopts_dport(&plan.so, 0, 2), 6002);
	assert_int_equal(sockopts_dport(&plan.so, 1, 0), 6005);
	assert_int_equal(plan_of(few, &f), -ERANGE);
	assert_non_null(strstr(err, "too few ports"));
}

/* The warm-up is marked on the wire unless the receiver is iperf3 -s. */
static void test_warmup_mark(void **state)
{
	static const char *const none[] = { "omit", "1s", "mode", "copy", NULL };
	static const char *const i3[] = { "omit", "1s", "server", "iperf3", "mode", "copy", NULL };
	static const char *const no_omit[] = { "mode", "copy", NULL };
	struct engine_facts f;

	(void)state;
	facts_make(&f, false, 5201, 1500);
	assert_int_equal(plan_of(none, &f), 0);
	assert_true(plan.mark_warmup);
	assert_int_equal(plan_of(i3, &f), 0);
	assert_false(plan.mark_warmup);
	assert_int_equal(plan_of(no_omit, &f), 0);
	assert_false(plan.mark_warmup);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queues_cpus),
		cmocka_unit_test(test_tcp_buffers),
		cmocka_unit_test(test_udp_default_size),
		cmocka_unit_test(test_gso),
		cmocka_unit_test(test_auto),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_warmup_mark),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
