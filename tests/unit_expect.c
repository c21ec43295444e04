/* unit_expect.c - expect: thresholds parse with units, are met or missed, and say what was measured */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "gen/gen.h"
#include "gen/profile.h"
#include "gen/expect.h"
#include "gen/expect_eval.h"

static void test_parse_units(void **state)
{
	static const struct {
		const char *path, *value;
		int ret;
		double v;      /* bit/s, %, ns or fraction */
	} t[] = {
		{ "expect.min_gbps_total", "50", 0, 50e9 },
		{ "expect.min_gbps_total", "0.5", 0, 0.5e9 },
		{ "expect.min_gbps_total", "500M", 0, 500e6 },
		{ "expect.min_gbps_total", "40Gbit", 0, 40e9 },
		{ "expect.min_gbps_per_queue", "1.5G", 0, 1.5e9 },
		{ "expect.min_gbps_total", "0", -EINVAL, 0 },
		{ "expect.min_gbps_total", "fast", -EINVAL, 0 },
		{ "expect.min_gbps_total", "50 G", -EINVAL, 0 },
		{ "expect.max_loss_percent", "0.5", 0, 0.5 },
		{ "expect.max_loss_percent", "2%", 0, 2 },
		{ "expect.max_loss_percent", "101", -EINVAL, 0 },
		{ "expect.max_loss_percent", "-1", -EINVAL, 0 },
		{ "expect.max_p99_latency", "2ms", 0, 2e6 },
		{ "expect.max_p99_latency", "250us", 0, 250e3 },
		{ "expect.max_p99_latency", "0", -EINVAL, 0 },
		{ "expect.max_p99_latency", "soon", -EINVAL, 0 },
		{ "expect.min_steering", "0.9", 0, 0.9 },
		{ "expect.min_steering", "1.5", -EINVAL, 0 },
		{ "expect.min_ndr_fps", "1000000", 0, 1e6 },
		{ "expect.min_ndr_fps", "812345.5", 0, 812345.5 },
		{ "expect.min_ndr_fps", "1.5Mpps", 0, 1.5e6 },
		{ "expect.min_ndr_fps", "800kpps", 0, 800e3 },
		{ "expect.min_ndr_fps", "0", -EINVAL, 0 },
		{ "expect.min_ndr_fps", "1M", -EINVAL, 0 },
		{ "expect.min_ndr_fps", "10G", -EINVAL, 0 },
		{ "expect.min_ndr_fps", "-5", -EINVAL, 0 },
		{ "expect.nonsense", "1", -ENOENT, 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct gen_expect ex = { 0 };
		char msg[300] = "";
		int ret = expect_key_set(&ex, t[i].path, t[i].value, false, msg, sizeof(msg));
		double got = -1;

		if (ret != t[i].ret)
			fail_msg("%s=%s: ret %d (%s), want %d", t[i].path, t[i].value, ret, msg, t[i].ret);
		if (ret) {
			assert_true(msg[0] != '\0');
			continue;
		}
		assert_true(ex.present);
		if (strstr(t[i].path, "total"))
			got = ex.has_min_bps_total ? ex.min_bps_total : -1;
		else if (strstr(t[i].path, "per_queue"))
			got = ex.has_min_bps_queue ? ex.min_bps_queue : -1;
		else if (strstr(t[i].path, "loss"))
			got = ex.has_max_loss ? ex.max_loss_percent : -1;
		else if (strstr(t[i].path, "p99"))
			got = ex.has_max_p99 ? (double)ex.max_p99_ns : -1;
		else if (strstr(t[i].path, "steering"))
			got = ex.has_min_steering ? ex.min_steering : -1;
		else if (strstr(t[i].path, "ndr"))
			got = ex.has_min_ndr_fps ? ex.min_ndr_fps : -1;
		if (got < t[i].v * 0.999999 || got > t[i].v * 1.000001)
			fail_msg("%s=%s: got %g, want %g", t[i].path, t[i].value, got, t[i].v);
	}
}

static void test_offload_names(void **state)
{
	struct gen_expect ex = { 0 };
	char msg[300];

	assert_int_equal(expect_key_set(&ex, "expect.offloads_effective", "tso, gso", false, msg, sizeof(msg)), 0);
	assert_int_equal(ex.n_offloads_effective, 2);
	assert_int_equal(expect_key_set(&ex, "expect.offloads_effective", "tx-udp-segmentation", true, msg,
					sizeof(msg)), 0);
	assert_int_equal(ex.n_offloads_effective, 3);
	assert_string_equal(ex.offloads_effective[2], "tx-udp-segmentation");
	assert_int_equal(expect_key_set(&ex, "expect.offloads_effective", "sg", false, msg, sizeof(msg)), 0);
	assert_int_equal(ex.n_offloads_effective, 1);
	assert_int_equal(expect_key_set(&ex, "expect.offloads_effective", "ts/o", false, msg, sizeof(msg)),
			 -EINVAL);
	assert_non_null(strstr(msg, "ts/o"));
}

static void test_met_and_missed(void **state)
{
	struct gen_expect ex = { 0 };
	struct expect_result r;
	double q[2] = { 6e9, 4e9 };
	struct expect_measured m = { .bps_total = 10e9, .bps_queue = q, .nq = 2, .loss_percent = 0.1,
				     .p99_latency_s = 0.001, .steering = 0.95 };
	char msg[300];

	assert_int_equal(expect_key_set(&ex, "expect.min_gbps_total", "10", false, msg, sizeof(msg)), 0);
	assert_int_equal(expect_key_set(&ex, "expect.min_gbps_per_queue", "4G", false, msg, sizeof(msg)), 0);
	assert_int_equal(expect_key_set(&ex, "expect.max_loss_percent", "0.1", false, msg, sizeof(msg)), 0);
	assert_int_equal(expect_key_set(&ex, "expect.max_p99_latency", "1ms", false, msg, sizeof(msg)), 0);
	assert_int_equal(expect_key_set(&ex, "expect.min_steering", "0.95", false, msg, sizeof(msg)), 0);
	/* every threshold exactly met */
	expect_eval(&ex, &m, &r);
	assert_true(r.present);
	assert_int_equal(r.n_checked, 5);
	assert_int_equal(r.n_missed, 0);

	/* every one missed, each with its measured value in its unit */
	m.bps_total = 12.3e9;
	ex.min_bps_total = 50e9;
	q[1] = 3.5e9;
	m.loss_percent = 2;
	m.p99_latency_s = 0.004;
	m.steering = 0.5;
	expect_eval(&ex, &m, &r);
	assert_int_equal(r.n_missed, 5);
	assert_string_equal(r.miss[0].key, "min_gbps_total");
	assert_string_equal(r.miss[0].threshold, "50 Gbit/s");
	assert_string_equal(r.miss[0].measured, "12.3 Gbit/s");
	assert_string_equal(r.miss[1].key, "min_gbps_per_queue");
	assert_string_equal(r.miss[1].threshold, "4 Gbit/s");
	assert_string_equal(r.miss[1].measured, "3.50 Gbit/s (queue 1)");
	assert_string_equal(r.miss[2].key, "max_loss_percent");
	assert_string_equal(r.miss[2].measured, "2 %");
	assert_string_equal(r.miss[3].key, "max_p99_latency");
	assert_string_equal(r.miss[4].key, "min_steering");
	assert_string_equal(r.miss[4].measured, "0.5");

	/* figures the run does not have: not measured, which counts as missed */
	m.loss_percent = -1;
	m.p99_latency_s = -1;
	m.steering = -1;
	ex.min_bps_total = 1e9;
	q[1] = 5e9;
	expect_eval(&ex, &m, &r);
	assert_int_equal(r.n_missed, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_false(r.miss[i].measured_known);
		assert_non_null(strstr(r.miss[i].measured, "not measured"));
	}
	assert_non_null(strstr(r.miss[2].measured, "no per-queue NIC counters"));
	/* a fleet rank on a shared device: the reason is the sharing, and it fits whole */
	m.steering_shared = true;
	expect_eval(&ex, &m, &r);
	assert_string_equal(r.miss[2].measured,
			    "not measured (device shared with other ranks: see the fleet's host_steering)");

	/* no expect: section: nothing checked */
	memset(&ex, 0, sizeof(ex));
	expect_eval(&ex, &m, &r);
	assert_false(r.present);
	assert_int_equal(r.n_checked, 0);
	assert_int_equal(r.n_missed, 0);
}

static void test_offloads_effective(void **state)
{
	struct gen_expect ex = { 0 };
	struct expect_result r = { 0 };
	char msg[300];

	assert_int_equal(expect_key_set(&ex, "expect.offloads_effective", "tso,gso", false, msg, sizeof(msg)), 0);
	assert_true(expect_eval_offload(&ex, "tso", "effective", &r));
	assert_int_equal(r.n_missed, 0);
	assert_false(expect_eval_offload(&ex, "gro", "no-effect", &r));
	assert_true(expect_eval_offload(&ex, "gso", "no-effect", &r));
	assert_int_equal(r.n_missed, 1);
	assert_string_equal(r.miss[0].threshold, "gso effective");
	assert_string_equal(r.miss[0].measured, "no-effect");
	assert_int_equal(r.n_checked, 2);
}

static void test_print_and_json(void **state)
{
	struct gen_expect ex = { 0 };
	struct expect_measured m = { .bps_total = 12.3e9, .loss_percent = -1, .p99_latency_s = -1,
				     .steering = -1 };
	struct expect_result r;
	char msg[300], line[300];
	json_t *j = json_object(), *e;
	FILE *f = tmpfile();

	assert_non_null(f);
	assert_int_equal(expect_key_set(&ex, "expect.min_gbps_total", "50", false, msg, sizeof(msg)), 0);
	expect_eval(&ex, &m, &r);
	expect_print(f, &r);
	rewind(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "zcgen: expect: min_gbps_total 50 Gbit/s missed: measured 12.3 Gbit/s\n");
	fclose(f);

	assert_int_equal(expect_json_add(j, &r), 0);
	e = json_object_get(j, "expect");
	assert_non_null(e);
	assert_true(json_is_false(json_object_get(e, "met")));
	assert_int_equal(json_array_size(json_object_get(e, "missed")), 1);
	json_t *m0 = json_array_get(json_object_get(e, "missed"), 0);
	assert_string_equal(json_string_value(json_object_get(m0, "key")), "min_gbps_total");
	assert_true(json_real_value(json_object_get(m0, "measured")) > 12.29);
	assert_true(json_real_value(json_object_get(m0, "threshold")) == 50);
	json_decref(j);
}

/* min_ndr_fps: per frame size, met, missed with the figure, missed when no rate was found. */
static void test_ndr(void **state)
{
	struct gen_expect ex = { 0 };
	struct expect_measured m = { .bps_total = 1, .loss_percent = -1, .p99_latency_s = -1,
				     .steering = -1 };
	struct expect_result r;
	char msg[300], line[300];
	json_t *j = json_object(), *e, *a;
	FILE *f = tmpfile();

	assert_non_null(f);
	/* without the key nothing is checked, and no expect object is written */
	expect_eval(&ex, &m, &r);
	assert_false(expect_eval_ndr(&ex, 64, true, 5, &r));
	assert_false(r.present);
	assert_int_equal(r.n_checked, 0);

	assert_int_equal(expect_key_set(&ex, "expect.min_ndr_fps", "1000000", false, msg, sizeof(msg)), 0);
	/* zcgen run's evaluation does not look at it: nothing checked, nothing missed */
	expect_eval(&ex, &m, &r);
	assert_true(r.present);
	assert_int_equal(r.n_checked, 0);
	assert_int_equal(r.n_missed, 0);

	memset(&r, 0, sizeof(r));
	assert_true(expect_eval_ndr(&ex, 64, true, 812345, &r));    /* below: missed */
	assert_true(expect_eval_ndr(&ex, 128, true, 1000000, &r));  /* equal: met */
	assert_true(expect_eval_ndr(&ex, 256, true, 2500000, &r));  /* above: met */
	assert_true(expect_eval_ndr(&ex, 1518, false, 0, &r));      /* no rate found: missed */
	assert_true(r.present);
	assert_int_equal(r.n_checked, 4);
	assert_int_equal(r.n_missed, 2);
	assert_int_equal(r.miss[0].frame_size, 64);
	assert_true(r.miss[0].measured_known);
	assert_true(r.miss[0].measured_value == 812345);
	assert_true(r.miss[0].threshold_value == 1e6);
	assert_string_equal(r.miss[0].unit, "fps");
	assert_int_equal(r.miss[1].frame_size, 1518);
	assert_false(r.miss[1].measured_known);

	expect_print(f, &r);
	rewind(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "zcgen: expect: min_ndr_fps at 64 B: 1000000 fps missed: found 812345 fps\n");
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "zcgen: expect: min_ndr_fps at 1518 B: 1000000 fps missed: found not "
			    "measured (the search found no rate at this size)\n");
	fclose(f);

	assert_int_equal(expect_json_add(j, &r), 0);
	e = json_object_get(j, "expect");
	assert_true(json_is_false(json_object_get(e, "met")));
	assert_int_equal(json_integer_value(json_object_get(e, "checked")), 4);
	a = json_object_get(e, "missed");
	assert_int_equal(json_array_size(a), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "key")), "min_ndr_fps");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 0), "frame_size")), 64);
	assert_true(json_real_value(json_object_get(json_array_get(a, 0), "measured")) == 812345);
	assert_true(json_real_value(json_object_get(json_array_get(a, 0), "threshold")) == 1e6);
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "unit")), "fps");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 1), "frame_size")), 1518);
	assert_true(json_is_null(json_object_get(json_array_get(a, 1), "measured")));
	json_decref(j);

	/* every size met */
	memset(&r, 0, sizeof(r));
	assert_true(expect_eval_ndr(&ex, 64, true, 1.2e6, &r));
	assert_int_equal(r.n_missed, 0);
	j = json_object();
	assert_int_equal(expect_json_add(j, &r), 0);
	assert_true(json_is_true(json_object_get(json_object_get(j, "expect"), "met")));
	json_decref(j);
}

/* max_loss_percent and max_p99_latency from the receiver's counts, met and missed. */
static void test_loss_from_receiver(void **state)
{
	struct engine_stream_result st[1] = { { .bytes = 1000000 } };
	struct engine_queue_result q[1] = { { .streams = 1, .st = st, .bytes = 1000000 } };
	struct engine_result res = { .nq = 1, .q = q, .duration_s = 1 };
	struct report_receiver rcv = { .source = "zcgen", .udp = true, .packets = 970, .lost = 20,
				       .tail_lost = 10 };
	struct gen_expect ex = { 0 };
	struct expect_measured m;
	struct expect_result r;
	double bps[1];
	char msg[300];

	assert_int_equal(expect_key_set(&ex, "expect.max_loss_percent", "5", false, msg, sizeof(msg)), 0);

	/* UDP: 30 of 1000 datagrams did not arrive, the tail ones included: 3 % <= 5 % */
	expect_measure_run(&res, &rcv, -1, bps, &m);
	assert_true(m.loss_percent > 2.99 && m.loss_percent < 3.01);
	expect_eval(&ex, &m, &r);
	assert_int_equal(r.n_checked, 1);
	assert_int_equal(r.n_missed, 0);

	/* 100 of 1000: missed, with the figure */
	rcv.packets = 900;
	rcv.lost = 90;
	expect_measure_run(&res, &rcv, -1, bps, &m);
	expect_eval(&ex, &m, &r);
	assert_int_equal(r.n_missed, 1);
	assert_string_equal(r.miss[0].key, "max_loss_percent");
	assert_true(r.miss[0].measured_known);
	assert_string_equal(r.miss[0].measured, "10 %");

	/* TCP: every byte sent counted by the receiver is 0 % loss; a short count is not */
	rcv = (struct report_receiver){ .source = "iperf3", .bytes = 1000000 };
	expect_measure_run(&res, &rcv, -1, bps, &m);
	assert_true(m.loss_percent == 0);
	expect_eval(&ex, &m, &r);
	assert_int_equal(r.n_missed, 0);
	rcv.bytes = 900000;
	expect_measure_run(&res, &rcv, -1, bps, &m);
	assert_true(m.loss_percent > 9.99 && m.loss_percent < 10.01);
	expect_eval(&ex, &m, &r);
	assert_int_equal(r.n_missed, 1);
	assert_string_equal(r.miss[0].measured, "10 %");

	/* max_p99_latency from a zcgen sink's latency_us.p99, only when the sink found it valid */
	struct gen_expect lx = { 0 };

	assert_int_equal(expect_key_set(&lx, "expect.max_p99_latency", "2ms", false, msg, sizeof(msg)), 0);
	rcv = (struct report_receiver){ .source = "zcgen", .udp = true, .packets = 1000 };
	rcv.x.lat = (struct report_latency){ .present = true, .valid = true, .p99 = 1500, .count = 1000 };
	expect_measure_run(&res, &rcv, -1, bps, &m);
	assert_true(m.p99_latency_s > 0.00149 && m.p99_latency_s < 0.00151);
	expect_eval(&lx, &m, &r);
	assert_int_equal(r.n_missed, 0);
	rcv.x.lat.p99 = 4000;
	expect_measure_run(&res, &rcv, -1, bps, &m);
	expect_eval(&lx, &m, &r);
	assert_int_equal(r.n_missed, 1);
	assert_string_equal(r.miss[0].measured, "0.004 s");
	rcv.x.lat.valid = false;     /* the clocks differ: no figure */
	expect_measure_run(&res, &rcv, -1, bps, &m);
	assert_true(m.p99_latency_s < 0);

	/* no receiver (server none): not measured, missed */
	expect_measure_run(&res, NULL, -1, bps, &m);
	assert_true(m.loss_percent < 0);
	expect_eval(&ex, &m, &r);
	assert_int_equal(r.n_missed, 1);
	assert_false(r.miss[0].measured_known);
	assert_non_null(strstr(r.miss[0].measured, "not measured"));
}

/* The profile's expect: section, through the YAML loader and the key table. */
static void test_profile(void **state)
{
	char path[] = "/tmp/unit_expect_XXXXXX";
	int fd = mkstemp(path);
	struct gen_profile *p = calloc(1, sizeof(*p));
	struct gen_diags d = { 0 };
	static const char good[] =
		"target:\n  host: 127.0.0.1\n"
		"expect:\n  min_gbps_total: 40\n  min_gbps_per_queue: 5G\n  max_loss_percent: 0.5%\n"
		"  max_p99_latency: 2ms\n  min_steering: 0.9\n  offloads_effective: [tso, gso]\n"
		"  min_ndr_fps: 1.5Mpps\n";
	static const char bad[] =
		"target:\n  host: 127.0.0.1\n"
		"expect:\n  min_gbps_totl: 40\n  min_steering: 2\n  offloads_effective: [tso, {a: b}]\n";

	assert_true(fd >= 0 && p);
	assert_int_equal(write(fd, good, sizeof(good) - 1), (ssize_t)sizeof(good) - 1);
	profile_init(p);
	assert_int_equal(profile_load(p, path, &d), 0);
	assert_true(p->expect.present);
	assert_true(p->expect.min_bps_total == 40e9);
	assert_true(p->expect.min_bps_queue == 5e9);
	assert_true(p->expect.max_loss_percent == 0.5);
	assert_true(p->expect.max_p99_ns == 2000000);
	assert_true(p->expect.min_steering == 0.9);
	assert_int_equal(p->expect.n_offloads_effective, 2);
	assert_string_equal(p->expect.offloads_effective[1], "gso");
	assert_true(p->expect.has_min_ndr_fps && p->expect.min_ndr_fps == 1.5e6);
	/* an override by key path */
	assert_int_equal(profile_set(p, "expect.min_gbps_total", "100000", &d), 0);
	assert_true(p->expect.min_bps_total == 100000e9);
	diags_free(&d);

	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(pwrite(fd, bad, sizeof(bad) - 1, 0), (ssize_t)sizeof(bad) - 1);
	profile_init(p);
	assert_int_equal(profile_load(p, path, &d), -EINVAL);
	assert_int_equal(diags_errors(&d), 3);
	assert_string_equal(d.v[0].key, "expect.min_gbps_totl");
	assert_non_null(strstr(d.v[0].msg, "min_gbps_total"));
	assert_string_equal(d.v[1].key, "expect.min_steering");
	assert_non_null(strstr(d.v[1].msg, "from 0 to 1"));
	assert_string_equal(d.v[2].key, "expect.offloads_effective");
	diags_free(&d);
	close(fd);
	unlink(path);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_units),
		cmocka_unit_test(test_offload_names),
		cmocka_unit_test(test_met_and_missed),
		cmocka_unit_test(test_offloads_effective),
		cmocka_unit_test(test_loss_from_receiver),
		cmocka_unit_test(test_print_and_json),
		cmocka_unit_test(test_ndr),
		cmocka_unit_test(test_profile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
