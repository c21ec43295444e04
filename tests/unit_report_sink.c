/* unit_report_sink.c - `zcgen sink`'s report rows from hand-made results: totals, rates, JSON, text */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "gen/report_sink.h"

#define S 1000000000ull

/* cmocka 1.1 has no assert_double_equal */
#define assert_near(a, b, eps) near_(a, b, eps, #a, __FILE__, __LINE__)

static void near_(double a, double b, double eps, const char *what, const char *file, int line)
{
	if (!(fabs(a - b) <= eps))
		fail_msg("%s:%d: %s is %.17g, not %.17g", file, line, what, a, b);
}

/* The text of a report; no "nan" or "inf" in it, whatever the results. */
static char *text_of(const struct report_sink *rep)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	report_sink_text(f, rep);
	fclose(f);
	assert_null(strcasestr(buf, "nan"));
	assert_null(strcasestr(buf, "inf"));
	return buf;
}

static double jreal(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_number(v))
		fail_msg("%s is not a number", key);
	assert_true(isfinite(json_number_value(v)));
	return json_number_value(v);
}

/* Two workers: UDP streams on worker 0 (one of them warm-up only), a TCP connection on worker 1. */
static void test_rows(void **state)
{
	struct sink_worker_result w[2] = {
		{ .worker = 0, .cpu = 2, .bytes = 3000, .packets = 3, .omitted_bytes = 500,
		  .omitted_packets = 1, .ts_kernel = 3 },
		{ .worker = 1, .cpu = -1, .bytes = 1000, .connections = 1 },
	};
	struct sink_stream_result st[3] = {
		{ .peer = "192.0.2.1:1000", .worker = 0, .protocol = IPPROTO_UDP, .bytes = 3000,
		  .first_ns = 10 * S, .last_ns = 12 * S,
		  .seq = { .highest = 4, .packets = 3, .lost = 1 } },
		/* warm-up only: its measured part never began (first after last) */
		{ .peer = "192.0.2.1:1001", .worker = 0, .protocol = IPPROTO_UDP, .omitted_bytes = 500,
		  .first_ns = 20 * S, .last_ns = 0, .seq = { .omitted = 1 } },
		{ .peer = "192.0.2.2:2000", .worker = 1, .protocol = IPPROTO_TCP, .bytes = 1000,
		  .first_ns = 11 * S, .last_ns = 15 * S, .end = 1 },
	};
	struct sink_result r = { .n_workers = 2, .workers = w, .n_streams = 3, .streams = st,
				 .start_ns = 5 * S, .stop_ns = 25 * S };
	struct sink_cfg cfg = { .protocol = SINK_PROTO_BOTH, .workers = 2 };
	struct report_sink rep;
	json_t *j, *tot;
	char *txt;

	(void)state;
	assert_int_equal(report_sink_make(&rep, &cfg, &r), 0);
	/* the total spans the measured streams only: 10 s to 15 s */
	assert_int_equal(rep.t.bytes, 4000);
	assert_int_equal(rep.t.active_ns, 5 * S);
	assert_int_equal(rep.t.listen_ns, 20 * S);
	assert_near(rep.t.bps, 4000 * 8 / 5.0, 1e-9);
	assert_near(rep.t.loss_pct, 25.0, 1e-12);
	assert_int_equal(rep.t.omitted_bytes, 500);
	/* a worker's rate is over the time its data came */
	assert_int_equal(rep.w[0].active_ns, 2 * S);
	assert_near(rep.w[0].bps, 3000 * 8 / 2.0, 1e-9);
	assert_int_equal(rep.w[1].active_ns, 4 * S);
	/* the warm-up-only stream: no time, no rate (not a wrapped-around span) */
	assert_int_equal(rep.s[1].active_ns, 0);
	assert_near(rep.s[1].bps, 0, 0);
	assert_near(rep.s[0].loss_pct, 25.0, 1e-12);

	j = report_sink_json(&rep, "0.0.0.0:5201", NULL, 0);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "protocol")), "both");
	assert_string_equal(json_string_value(json_object_get(j, "tcp_receive")), "discard");
	assert_near(jreal(j, "duration_s"), 20.0, 1e-12);
	tot = json_object_get(j, "total");
	assert_int_equal(json_integer_value(json_object_get(tot, "bytes")), 4000);
	assert_near(jreal(tot, "active_s"), 5.0, 1e-12);
	assert_near(jreal(tot, "loss_percent"), 25.0, 1e-12);
	assert_null(json_object_get(tot, "corrupt_bytes"));   /* no --verify */
	assert_near(jreal(json_array_get(json_object_get(j, "streams"), 1), "active_s"), 0, 0);
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(json_object_get(j, "streams"), 2), "end")), "closed");
	json_decref(j);

	txt = text_of(&rep);
	assert_non_null(strstr(txt, "total: 4000 bytes, 0.000 Gbit/s over 5.00 s active (20.00 s "
				    "listening), 1 connection, 0 reset, 3 streams, 3 packets, 1 lost "
				    "(25.000%)"));
	assert_non_null(strstr(txt, "warm-up: 500 bytes in 1 datagrams"));
	assert_non_null(strstr(txt, "192.0.2.2:2000"));
	free(txt);
	report_sink_free(&rep);
}

/* Nothing came, and the sink stopped as it started: every figure 0, none NaN. */
static void test_nothing(void **state)
{
	struct sink_worker_result w = { .worker = 0, .cpu = 0 };
	struct sink_result r = { .n_workers = 1, .workers = &w, .start_ns = 7 * S, .stop_ns = 7 * S };
	struct sink_cfg cfg = { .protocol = IPPROTO_UDP, .workers = 1, .verify = true, .gro = true };
	uint64_t b0 = 0;
	struct sink_interval iv = { .start_ns = 3 * S, .end_ns = 3 * S, .bytes = &b0 };
	struct report_sink rep;
	json_t *j, *tot, *ij;
	char *txt;

	(void)state;
	assert_int_equal(report_sink_make(&rep, &cfg, &r), 0);
	assert_int_equal(rep.t.active_ns, 0);
	assert_near(rep.t.bps, 0, 0);
	assert_near(rep.t.loss_pct, 0, 0);
	assert_near(rep.w[0].bps, 0, 0);

	j = report_sink_json(&rep, "[::]:5201", &iv, 1);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "tcp_receive")), "copy");
	tot = json_object_get(j, "total");
	assert_near(jreal(tot, "bits_per_second"), 0, 0);
	assert_near(jreal(tot, "loss_percent"), 0, 0);
	assert_near(jreal(tot, "jitter_ms"), 0, 0);
	/* nothing timed: the object is null, its companions still there */
	assert_true(json_is_null(json_object_get(tot, "latency_us")));
	assert_true(json_is_false(json_object_get(tot, "latency_valid")));
	assert_int_equal(json_integer_value(json_object_get(tot, "latency_negative")), 0);
	assert_int_equal(json_integer_value(json_object_get(tot, "corrupt_bytes")), 0);
	/* a zero-length interval: rate 0 */
	ij = json_array_get(json_object_get(j, "intervals"), 0);
	assert_near(jreal(ij, "bits_per_second"), 0, 0);
	assert_near(jreal(json_array_get(json_object_get(ij, "workers"), 0),
				  "bits_per_second"), 0, 0);
	json_decref(j);

	txt = text_of(&rep);
	assert_non_null(strstr(txt, "total: 0 bytes, 0.000 Gbit/s over 0.00 s active (0.00 s listening)"));
	assert_non_null(strstr(txt, "verify: payload intact"));
	assert_non_null(strstr(txt, "gro: 0 receives"));
	assert_null(strstr(txt, "latency"));
	free(txt);
	report_sink_free(&rep);
}

/* The latency object: written by report_latency_json(), count and all, without "valid". */
static void test_latency(void **state)
{
	struct sink_worker_result w = { .worker = 0, .cpu = 0, .bytes = 100, .packets = 1 };
	struct sink_stream_result st = {
		.peer = "192.0.2.1:1000", .protocol = IPPROTO_UDP, .bytes = 100, .first_ns = S,
		.last_ns = 2 * S, .seq = { .highest = 1, .packets = 1 }, .jitter_s = 0.002,
		.lat = { .count = 1, .p50 = 10, .p90 = 11, .p99 = 12, .p99_9 = 13, .max = 14,
			 .mean = 10.5, .valid = true },
	};
	struct sink_result r = { .n_workers = 1, .workers = &w, .n_streams = 1, .streams = &st,
				 .start_ns = 0, .stop_ns = 3 * S, .lat = st.lat, .jitter_s = 0.002 };
	struct sink_cfg cfg = { .protocol = IPPROTO_UDP, .workers = 1 };
	struct report_sink rep;
	json_t *j, *l;
	char *txt;

	(void)state;
	assert_int_equal(report_sink_make(&rep, &cfg, &r), 0);
	j = report_sink_json(&rep, "127.0.0.1:5201", NULL, 0);
	l = json_object_get(json_object_get(j, "total"), "latency_us");
	assert_true(json_is_object(l));
	assert_int_equal(json_object_size(l), 7);
	assert_near(jreal(l, "p99_9"), 13, 0);
	assert_int_equal(json_integer_value(json_object_get(l, "count")), 1);
	assert_null(json_object_get(l, "valid"));
	assert_true(json_is_true(json_object_get(json_object_get(j, "total"), "latency_valid")));
	assert_near(jreal(json_object_get(j, "total"), "jitter_ms"), 2, 1e-12);
	l = json_object_get(json_array_get(json_object_get(j, "streams"), 0), "latency_us");
	assert_near(jreal(l, "mean"), 10.5, 0);
	json_decref(j);
	txt = text_of(&rep);
	assert_non_null(strstr(txt, "latency (one-way, us): p50 10.0 p90 11.0 p99 12.0 p99.9 13.0 "
				    "max 14.0 mean 10.5 over 1 datagrams; jitter 2.000 ms\n"));
	free(txt);
	report_sink_free(&rep);
}

/* An iperf3 test that failed before TEST_END: no duration, rate 0. */
static void test_iperf3_unfinished(void **state)
{
	struct sink_iperf3_stream s = { .id = 1, .peer = "192.0.2.9:3000", .bytes = 500 };
	struct sink_iperf3_test t = { .n = 1, .peer = "192.0.2.9:2999", .parallel = 1, .time_s = 10,
				      .err = -1, .msg = "the client went away",
				      .start_ns = 9 * S, .end_ns = 0, .n_streams = 1, .streams = &s };
	struct sink_worker_result w = { .worker = 0, .cpu = 0 };
	struct sink_result r = { .n_workers = 1, .workers = &w, .n_tests = 1, .tests = &t,
				 .stop_ns = 10 * S };
	struct sink_cfg cfg = { .protocol = IPPROTO_TCP, .workers = 1 };
	struct report_sink rep;
	json_t *j, *tj;
	char *txt;

	(void)state;
	assert_int_equal(report_sink_make(&rep, &cfg, &r), 0);
	assert_int_equal(rep.tests[0].dur_ns, 0);
	assert_int_equal(rep.tests[0].bytes, 500);
	assert_near(rep.tests[0].bps, 0, 0);
	j = report_sink_json(&rep, "127.0.0.1:5201", NULL, 0);
	tj = json_array_get(json_object_get(j, "iperf3_tests"), 0);
	assert_string_equal(json_string_value(json_object_get(tj, "result")), "error");
	assert_string_equal(json_string_value(json_object_get(tj, "error")), "the client went away");
	assert_near(jreal(tj, "duration_s"), 0, 0);
	assert_near(jreal(tj, "bits_per_second"), 0, 0);
	assert_null(json_object_get(tj, "client_bytes"));
	assert_near(jreal(tj, "start_s"), 9, 0);   /* on the sink's clock */
	assert_null(json_object_get(tj, "end_s"));  /* it never ended */
	json_decref(j);
	txt = text_of(&rep);
	assert_non_null(strstr(txt, "iperf3 test 1 from 192.0.2.9:2999: tcp, 1 stream, 10 s, client ?: "
				    "error: the client went away\n"));
	free(txt);
	report_sink_free(&rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_nothing),
		cmocka_unit_test(test_latency),
		cmocka_unit_test(test_iperf3_unfinished),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
