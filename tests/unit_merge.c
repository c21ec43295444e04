/* unit_merge.c - merge_reports() from hand-made runs: exact sums, and the host's steering figure
 * for runs that share one device (each saw only its own queue's counters) */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "gen/merge.h"

/* cmocka 1.1 has no assert_double_equal */
#define assert_near(a, b, eps) near_(a, b, eps, #a, __FILE__, __LINE__)

static void near_(double a, double b, double eps, const char *what, const char *file, int line)
{
	if (!(fabs(a - b) <= eps))
		fail_msg("%s:%d: %s is %.17g, not %.17g", file, line, what, a, b);
}

/* One rank's report: one queue of @bytes on device @ifn's tx-@txq, which carried @share of it. */
static json_t *run(const char *ifn, long long bytes, int txq, double share)
{
	json_t *r = json_pack("{s:{s:{s:{s:s}}}, s:{s:I, s:f}, s:[{s:i, s:I, s:{s:i, s:I, s:f}}]}",
		"environment", "profile", "nic", "interface", ifn,
		"total", "bytes", bytes, "duration_s", 2.0,
		"queues", "queue", 0, "bytes", bytes, "nic", "tx_queue", txq, "tx_bytes",
		(long long)(share * 1e9), "share", share);

	assert_non_null(r);
	return r;
}

static json_t *merged(json_t **runs, const char **hosts, int n)
{
	struct merge_in in[4];

	for (int i = 0; i < n; i++)
		in[i] = (struct merge_in){ .report = runs[i], .host = hosts[i], .start_rt = NAN,
					   .offset_s = NAN };
	json_t *m = merge_reports(in, n);

	for (int i = 0; i < n; i++)
		json_decref(runs[i]);
	assert_non_null(m);
	return m;
}

/* Two ranks, equal bytes, on tx-0 and tx-1 of one device that sent 97% on tx-0. */
static void test_shared_device(void **state)
{
	(void)state;
	json_t *runs[] = { run("eth1", 1000, 0, 0.97), run("eth1", 1000, 1, 0.03) };
	const char *hosts[] = { "a", "a" };
	json_t *m = merged(runs, hosts, 2);
	json_t *hs = json_object_get(m, "host_steering"), *e = json_array_get(hs, 0);

	assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "total"), "bytes")), 2000);
	assert_int_equal(json_array_size(hs), 1);
	assert_string_equal(json_string_value(json_object_get(e, "host")), "a");
	assert_string_equal(json_string_value(json_object_get(e, "interface")), "eth1");
	assert_int_equal(json_array_size(json_object_get(e, "ranks")), 2);
	/* 1 - (|0.97 - 0.5| + |0.03 - 0.5|) / 2 */
	assert_near(json_real_value(json_object_get(e, "steering")), 0.53, 1e-9);
	json_t *q1 = json_array_get(json_object_get(e, "queues"), 1);

	assert_int_equal(json_integer_value(json_object_get(q1, "rank")), 1);
	assert_int_equal(json_integer_value(json_object_get(q1, "tx_queue")), 1);
	assert_near(json_real_value(json_object_get(q1, "ring_share")), 0.5, 1e-12);

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	merge_steering_print(f, m);
	fclose(f);
	assert_non_null(strstr(buf, "steering on a eth1: 0.530 "));
	assert_non_null(strstr(buf, "tx-0 97.0% for rank 0's 50.0%, tx-1 3.0% for rank 1's 50.0%"));
	free(buf);
	json_decref(m);
}

/* A queue of the device that no rank used carried a fifth: that counts against the split. */
static void test_unused_queue(void **state)
{
	(void)state;
	json_t *runs[] = { run("eth1", 3000, 0, 0.6), run("eth1", 1000, 1, 0.2) };
	const char *hosts[] = { "a", "a" };
	json_t *m = merged(runs, hosts, 2);
	json_t *e = json_array_get(json_object_get(m, "host_steering"), 0);

	/* 1 - (|0.6 - 0.75| + |0.2 - 0.25| + |0.2 - 0|) / 2 */
	assert_near(json_real_value(json_object_get(e, "steering")), 0.8, 1e-9);
	json_decref(m);
}

/* Perfect split: each rank's queue carried its rank's share. */
static void test_perfect(void **state)
{
	(void)state;
	json_t *runs[] = { run("eth1", 1000, 0, 0.5), run("eth1", 1000, 1, 0.5) };
	const char *hosts[] = { "a", "a" };
	json_t *m = merged(runs, hosts, 2);

	assert_near(json_real_value(json_object_get(json_array_get(json_object_get(m, "host_steering"), 0),
						    "steering")), 1.0, 1e-12);
	json_decref(m);
}

/* Different hosts, or different devices on one host: each run judged its own split; no entry. */
static void test_not_shared(void **state)
{
	(void)state;
	json_t *r1[] = { run("eth1", 1000, 0, 1.0), run("eth1", 1000, 0, 1.0) };
	const char *h1[] = { "a", "b" };
	json_t *m = merged(r1, h1, 2);

	assert_null(json_object_get(m, "host_steering"));
	json_decref(m);

	json_t *r2[] = { run("eth1", 1000, 0, 1.0), run("eth2", 1000, 0, 1.0) };
	const char *h2[] = { "a", "a" };

	m = merged(r2, h2, 2);
	assert_null(json_object_get(m, "host_steering"));
	json_decref(m);
}

/* Three runs: two share eth1 on host a, the third is elsewhere: one entry, ranks 0 and 2. */
static void test_group(void **state)
{
	(void)state;
	json_t *runs[] = { run("eth1", 1000, 0, 0.5), run("eth1", 1000, 0, 1.0), run("eth1", 1000, 1, 0.5) };
	const char *hosts[] = { "a", "b", "a" };
	json_t *m = merged(runs, hosts, 3);
	json_t *hs = json_object_get(m, "host_steering"), *ranks;

	assert_int_equal(json_array_size(hs), 1);
	ranks = json_object_get(json_array_get(hs, 0), "ranks");
	assert_int_equal(json_integer_value(json_array_get(ranks, 0)), 0);
	assert_int_equal(json_integer_value(json_array_get(ranks, 1)), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "total"), "bytes")), 3000);
	json_decref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_device),
		cmocka_unit_test(test_unused_queue),
		cmocka_unit_test(test_perfect),
		cmocka_unit_test(test_not_shared),
		cmocka_unit_test(test_group),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
