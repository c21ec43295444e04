/* unit_offload.c - offload-check's rules: feature groups, needs, figures, verdicts from synthetic numbers */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "gen/offload.h"

/* name, active, wanted, fixed: a veth on 6.18, with sg and tx as the test sets them */
static struct ethnl_feature table[] = {
	{ "tx-scatter-gather", true, true, false },
	{ "tx-checksum-ipv4", false, false, true },
	{ "tx-checksum-ip-generic", true, true, false },
	{ "tx-scatter-gather-fraglist", true, true, false },
	{ "tx-tcp-segmentation", true, true, false },
	{ "tx-tcp6-segmentation", true, true, false },
	{ "tx-generic-segmentation", true, true, false },
	{ "tx-udp-segmentation", true, true, false },
	{ "rx-gro", false, false, false },
	{ "rx-lro", false, false, true },
	{ "tx-lockless", true, true, true },
};
static struct ethnl_features fs = { sizeof(table) / sizeof(table[0]), table };

static struct ethnl_feature *feat(const char *name)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i].name, name))
			return &table[i];
	fail_msg("no feature %s", name);
	return NULL;
}

static void test_resolve_groups(void **state)
{
	static const struct {
		const char *name;
		int ret;
		unsigned n;
		bool all_fixed, any_active;
		enum offload_kind kind;
	} t[] = {
		{ "tso", 0, 2, false, true, OFFLOAD_KIND_SEGMENTATION },
		{ "tcp-segmentation-offload", 0, 2, false, true, OFFLOAD_KIND_SEGMENTATION },
		{ "tx-udp-segmentation", 0, 1, false, true, OFFLOAD_KIND_SEGMENTATION },
		{ "gso", 0, 1, false, true, OFFLOAD_KIND_OTHER },
		{ "sg", 0, 2, false, true, OFFLOAD_KIND_SG },
		/* the changeable one only: ipv4 is fixed */
		{ "tx", 0, 1, false, true, OFFLOAD_KIND_OTHER },
		{ "gro", 0, 1, false, false, OFFLOAD_KIND_OTHER },
		/* nothing changeable: all matching ones, fixed */
		{ "lro", 0, 1, true, false, OFFLOAD_KIND_OTHER },
		{ "tx-lockless", 0, 1, true, true, OFFLOAD_KIND_OTHER },
		{ "tsoo", -ENOENT, 0, false, false, OFFLOAD_KIND_OTHER },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct offload_group g;
		int ret = offload_resolve(&fs, t[i].name, &g);

		if (ret != t[i].ret)
			fail_msg("%s: ret %d, want %d", t[i].name, ret, t[i].ret);
		if (ret)
			continue;
		if (g.n != t[i].n || g.all_fixed != t[i].all_fixed || g.any_active != t[i].any_active ||
		    g.kind != t[i].kind)
			fail_msg("%s: n %u fixed %d active %d kind %d", t[i].name, g.n, g.all_fixed,
				 g.any_active, g.kind);
	}
}

static void test_needs(void **state)
{
	struct offload_group g;
	const char *needs[OFFLOAD_NEEDS_MAX];

	/* everything on: nothing to turn on */
	assert_int_equal(offload_resolve(&fs, "tso", &g), 0);
	assert_int_equal(offload_needs(&fs, &g, needs), 0);

	/* UDP GSO needs TX checksumming */
	feat("tx-checksum-ip-generic")->active = false;
	assert_int_equal(offload_resolve(&fs, "tx-udp-segmentation", &g), 0);
	assert_int_equal(offload_needs(&fs, &g, needs), 1);
	assert_string_equal(needs[0], "tx");

	/* TSO needs sg and tx; GSO needs sg only */
	feat("tx-scatter-gather")->active = false;
	feat("tx-scatter-gather-fraglist")->active = false;
	assert_int_equal(offload_resolve(&fs, "tso", &g), 0);
	assert_int_equal(offload_needs(&fs, &g, needs), 2);
	assert_string_equal(needs[0], "sg");
	assert_string_equal(needs[1], "tx");
	assert_int_equal(offload_resolve(&fs, "gso", &g), 0);
	assert_int_equal(offload_needs(&fs, &g, needs), 1);
	assert_string_equal(needs[0], "sg");
	/* GRO needs nothing */
	assert_int_equal(offload_resolve(&fs, "gro", &g), 0);
	assert_int_equal(offload_needs(&fs, &g, needs), 0);

	feat("tx-checksum-ip-generic")->active = true;
	feat("tx-scatter-gather")->active = true;
	feat("tx-scatter-gather-fraglist")->active = true;
}

/* A run: @gbps over 1 s, @cpu busy seconds, the device's counters with @bpp bytes per packet. */
static struct offload_sample run(double gbps, double cpu, double bpp, uint64_t errors)
{
	struct offload_sample s = { 0 };

	s.duration_s = 1;
	s.bytes = (uint64_t)(gbps * 1e9 / 8);
	s.sends = s.bytes / 65536;
	s.zc_notifs = s.sends;
	s.zc_copied = s.sends;
	s.errors = errors;
	s.cpu_busy_s = cpu;
	if (bpp > 0) {
		s.have_link = true;
		s.link_packets = (uint64_t)(s.bytes / bpp);
		s.link_bytes = s.bytes;
	}
	return s;
}

static void test_figures(void **state)
{
	struct offload_sample s[3] = { run(10, 1.25, 50000, 0), run(6, 0.75, 50000, 2), run(0, 0.1, 0, 5) };
	struct offload_figures f;

	snprintf(s[2].error, sizeof(s[2].error), "connect: Connection refused");
	offload_figures(s, 3, &f);
	assert_int_equal(f.runs, 3);
	assert_int_equal(f.runs_ok, 2);
	assert_true(f.bps > 7.99e9 && f.bps < 8.01e9);
	assert_true(f.bps_min > 5.99e9 && f.bps_max < 10.01e9);
	/* 1.25 s per 1.25 GB and 0.75 s per 0.75 GB: 1 CPU-s/GB both */
	assert_true(f.cpu_s_per_gb > 0.99 && f.cpu_s_per_gb < 1.01);
	assert_true(f.bytes_per_packet > 49000 && f.bytes_per_packet < 51000);
	assert_true(f.zc_copied_percent > 99.9);
	assert_int_equal(f.errors, 7);
	assert_string_equal(f.error, "connect: Connection refused");

	offload_figures(s, 0, &f);
	assert_int_equal(f.runs_ok, 0);
	assert_true(f.cpu_s_per_gb < 0 && f.bytes_per_packet < 0 && f.zc_copied_percent < 0);
}

static const struct offload_sample *s_plain(void)
{
	static struct offload_sample s;

	s = run(5, 1.0, 1514, 0);
	return &s;
}

static enum offload_verdict judge(enum offload_kind kind, const struct offload_sample *on, unsigned non,
				  const struct offload_sample *off, unsigned noff, char *ev, size_t len)
{
	struct offload_case c = { .name = "x", .kind = kind, .mtu = 1500 };

	offload_figures(on, non, &c.on);
	offload_figures(off, noff, &c.off);
	return offload_judge(&c, ev, len);
}

static void test_verdicts(void **state)
{
	/* not static: the samples are made by run() */
	const struct {
		const char *what;
		enum offload_kind kind;
		struct offload_sample on[2], off[2];
		enum offload_verdict want;
		const char *evidence;    /* a part of it */
	} t[] = {
		{ "TSO as on veth: 48 KB vs 1.5 KB, faster and cheaper", OFFLOAD_KIND_SEGMENTATION,
		  { run(10, 1.0, 48000, 0), run(9.5, 1.0, 49000, 0) },
		  { run(4, 1.0, 1514, 0), run(4.2, 1.0, 1514, 0) },
		  OFFLOAD_EFFECTIVE, "48" },
		{ "segments on the device, but no gain", OFFLOAD_KIND_SEGMENTATION,
		  { run(10, 1.25, 48000, 0), run(10, 1.25, 48000, 0) },
		  { run(10, 1.25, 1514, 0), run(10, 1.25, 1514, 0) },
		  OFFLOAD_NO_EFFECT, "but neither" },
		{ "faster, but the device saw MTU-sized packets either way", OFFLOAD_KIND_SEGMENTATION,
		  { run(10, 1.0, 1514, 0), run(10, 1.0, 1514, 0) },
		  { run(5, 1.0, 1514, 0), run(5, 1.0, 1514, 0) },
		  OFFLOAD_NO_EFFECT, "did not take larger packets" },
		{ "checksum offload saving CPU only", OFFLOAD_KIND_OTHER,
		  { run(10, 0.6, 48000, 0), run(10, 0.6, 48000, 0) },
		  { run(10, 1.25, 48000, 0), run(10, 1.25, 48000, 0) },
		  OFFLOAD_EFFECTIVE, "less CPU per GB" },
		{ "a 5% difference is noise", OFFLOAD_KIND_OTHER,
		  { run(10.5, 1.25, 48000, 0), run(10.5, 1.25, 48000, 0) },
		  { run(10, 1.25, 48000, 0), run(10, 1.25, 48000, 0) },
		  OFFLOAD_NO_EFFECT, "neither" },
		{ "better on average, but the runs overlap", OFFLOAD_KIND_OTHER,
		  { run(16, 2.0, 0, 0), run(6, 0.75, 0, 0) },
		  { run(8, 1.0, 0, 0), run(7, 0.875, 0, 0) },
		  OFFLOAD_NO_EFFECT, "neither" },
		{ "errors only with it on", OFFLOAD_KIND_SEGMENTATION,
		  { run(1, 0.2, 48000, 12), run(1, 0.2, 48000, 3) },
		  { run(5, 1.0, 1514, 0), run(5, 1.0, 1514, 0) },
		  OFFLOAD_BROKEN, "15 send errors" },
		{ "nothing sent with it on", OFFLOAD_KIND_OTHER,
		  { run(0, 0.1, 0, 1), run(0, 0.1, 0, 1) },
		  { run(5, 1.0, 1514, 0), run(5, 1.0, 1514, 0) },
		  OFFLOAD_BROKEN, "nothing was sent with it on" },
		{ "nothing sent at all", OFFLOAD_KIND_OTHER,
		  { run(0, 0.1, 0, 1), run(0, 0.1, 0, 1) },
		  { run(0, 0.1, 0, 1), run(0, 0.1, 0, 1) },
		  OFFLOAD_UNTESTED, "either state" },
		{ "errors in both states are not the offload's", OFFLOAD_KIND_OTHER,
		  { run(5, 1.0, 0, 1), run(5, 1.0, 0, 1) },
		  { run(5, 1.0, 0, 1), run(5, 1.0, 0, 1) },
		  OFFLOAD_NO_EFFECT, "neither" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char ev[700];
		enum offload_verdict v = judge(t[i].kind, t[i].on, 2, t[i].off, 2, ev, sizeof(ev));

		if (v != t[i].want || !strstr(ev, t[i].evidence))
			fail_msg("%s: %s (%s), want %s with '%s'", t[i].what, offload_verdict_name(v), ev,
				 offload_verdict_name(t[i].want), t[i].evidence);
	}
}

/* @s as a verifying receiver counted it: everything arrived but @lost datagrams, @corrupt bytes bad. */
static struct offload_sample rx(struct offload_sample s, bool udp, uint64_t lost, uint64_t corrupt)
{
	s.have_rx = true;
	s.udp = udp;
	s.sent_bytes = s.bytes;
	s.rx_bytes = s.bytes;
	if (udp) {
		s.sent_datagrams = s.bytes / 1472;
		s.rx_packets = s.sent_datagrams - lost;
		s.rx_corrupt_datagrams = corrupt ? 1 : 0;
	}
	s.rx_corrupt_bytes = corrupt;
	return s;
}

static void test_receiver(void **state)
{
	struct offload_sample on[2], off[2];
	struct offload_figures f;
	char ev[700];

	/* TSO as on veth, but 3 bytes corrupt at the receiver with it on: broken, the figure named */
	on[0] = rx(run(10, 1.0, 48000, 0), false, 0, 3);
	on[1] = rx(run(10, 1.0, 48000, 0), false, 0, 0);
	off[0] = rx(run(4, 1.0, 1514, 0), false, 0, 0);
	off[1] = rx(run(4, 1.0, 1514, 0), false, 0, 0);
	assert_int_equal(judge(OFFLOAD_KIND_SEGMENTATION, on, 2, off, 2, ev, sizeof(ev)), OFFLOAD_BROKEN);
	assert_non_null(strstr(ev, "3 corrupt bytes"));
	assert_non_null(strstr(ev, "none with it off"));

	/* the same with every byte intact: effective, and the evidence says what the receiver found */
	on[0] = rx(run(10, 1.0, 48000, 0), false, 0, 0);
	assert_int_equal(judge(OFFLOAD_KIND_SEGMENTATION, on, 2, off, 2, ev, sizeof(ev)), OFFLOAD_EFFECTIVE);
	assert_non_null(strstr(ev, "no corrupt byte"));

	/* corrupt in both states: still broken, and said to be the path's */
	on[0] = rx(run(10, 1.0, 48000, 0), false, 0, 3);
	off[0] = rx(run(4, 1.0, 1514, 0), false, 0, 7);
	assert_int_equal(judge(OFFLOAD_KIND_SEGMENTATION, on, 2, off, 2, ev, sizeof(ev)), OFFLOAD_BROKEN);
	assert_non_null(strstr(ev, "7 with it off too"));

	/* UDP: 10 % lost with it on, 1 % off: broken; 3 % vs 1 % is the receiver's load, not broken */
	on[0] = rx(run(2, 1.0, 1514, 0), true, 16983, 0);
	on[1] = on[0];
	off[0] = rx(run(2, 1.0, 1514, 0), true, 1698, 0);
	off[1] = off[0];
	offload_figures(on, 2, &f);
	assert_true(f.rx.checked);
	assert_true(f.rx.loss_percent > 9.9 && f.rx.loss_percent < 10.1);
	assert_int_equal(judge(OFFLOAD_KIND_OTHER, on, 2, off, 2, ev, sizeof(ev)), OFFLOAD_BROKEN);
	assert_non_null(strstr(ev, "10.0% of the datagrams"));
	on[0] = rx(run(2, 1.0, 1514, 0), true, 5095, 0);
	on[1] = on[0];
	assert_int_equal(judge(OFFLOAD_KIND_OTHER, on, 2, off, 2, ev, sizeof(ev)), OFFLOAD_NO_EFFECT);
	assert_non_null(strstr(ev, "3.00% of the datagrams lost with it on, 1.00% off"));

	/* no receiver counts: nothing said about integrity, and not checked */
	offload_figures(s_plain(), 1, &f);
	assert_false(f.rx.checked);
	assert_true(f.rx.loss_percent < 0);
	assert_int_equal(judge(OFFLOAD_KIND_OTHER, s_plain(), 1, s_plain(), 1, ev, sizeof(ev)),
			 OFFLOAD_NO_EFFECT);
	assert_null(strstr(ev, "receiver"));
}

static void test_unsupported(void **state)
{
	struct offload_case c = { .name = "lro", .kind = OFFLOAD_KIND_OTHER, .mtu = 1500, .fixed = true };
	char ev[400];

	assert_int_equal(offload_judge(&c, ev, sizeof(ev)), OFFLOAD_UNSUPPORTED);
	assert_non_null(strstr(ev, "fixed off"));
	c.fixed = false;
	c.refused = "turning it on: Operation not supported";
	assert_int_equal(offload_judge(&c, ev, sizeof(ev)), OFFLOAD_UNSUPPORTED);
	assert_non_null(strstr(ev, "Operation not supported"));
	assert_string_equal(offload_verdict_name(OFFLOAD_NO_EFFECT), "no-effect");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_groups),
		cmocka_unit_test(test_needs),
		cmocka_unit_test(test_figures),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_receiver),
		cmocka_unit_test(test_unsupported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
