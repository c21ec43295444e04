/* unit_hist.c - latency histogram: percentiles against sorted exact values, clamping, merge, memory */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "gen/hist.h"

/* Fixed memory: the size is a compile-time constant, the one the header documents. */
_Static_assert(sizeof(struct hist) == 31800, "struct hist is not the documented 31800 bytes");
_Static_assert(HIST_BUCKETS == 3968, "bucket count");

/* What the histogram promises: within 1% (its layout gives 1/256). */
#define MAX_REL_ERR 0.01
#define LAYOUT_REL_ERR (1.0 / 256)

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted @v, the definition hist.h states. */
static uint64_t exact_pct(const uint64_t *v, size_t n, double p)
{
	double r = p / 100.0 * (double)n;
	uint64_t rank;

	if (p <= 0)
		return v[0];
	if (p >= 100)
		return v[n - 1];
	rank = (uint64_t)ceil(r - r * 1e-12);
	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}

static struct hist *hist_new(void)
{
	struct hist *h = malloc(sizeof(*h));

	assert_non_null(h);
	hist_init(h);
	return h;
}

static double rel_err(uint64_t got, uint64_t want)
{
	if (got == want)
		return 0;
	return fabs((double)got - (double)want) / (double)want;
}

/*
 * Record @v (unsorted), then compare p50/p90/p99/p99.9/max, and every 0.1%
 * step, with the exact values from sorting. Sorts @v.
 */
static void check_against_sorted(const char *name, uint64_t *v, size_t n)
{
	static const double named[] = { 50, 90, 99, 99.9, 100 };
	struct hist *h = hist_new();
	double worst = 0;

	for (size_t i = 0; i < n; i++)
		hist_record(h, (int64_t)v[i]);
	qsort(v, n, sizeof(v[0]), cmp_u64);
	assert_int_equal(hist_count(h), n);
	assert_int_equal(hist_min(h), v[0]);
	assert_int_equal(hist_max(h), v[n - 1]);
	for (unsigned i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		uint64_t got = hist_percentile(h, named[i]), want = exact_pct(v, n, named[i]);

		if (rel_err(got, want) > MAX_REL_ERR)
			fail_msg("%s: p%g = %llu, exact %llu (%.3f%% off)", name, named[i],
				 (unsigned long long)got, (unsigned long long)want, 100 * rel_err(got, want));
	}
	for (unsigned k = 0; k <= 1000; k++) {
		double p = k / 10.0;
		uint64_t got = hist_percentile(h, p), want = exact_pct(v, n, p);
		double e = rel_err(got, want);

		if (e > worst)
			worst = e;
		if (e > LAYOUT_REL_ERR + 1e-12)
			fail_msg("%s: p%g = %llu, exact %llu (%.4f%% off, layout bound %.4f%%)", name, p,
				 (unsigned long long)got, (unsigned long long)want, 100 * e,
				 100 * LAYOUT_REL_ERR);
	}
	print_message("%s: %zu values, worst percentile error %.4f%%\n", name, n, 100 * worst);
	free(h);
}

/* A small deterministic generator, so that a failure can be reproduced. */
static uint64_t rng(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

static void test_uniform(void **state)
{
	size_t n = 1000000;
	uint64_t *v = malloc(n * sizeof(*v)), seed = 1;

	assert_non_null(v);
	/* 1..1e6, each once, in a shuffled order */
	for (size_t i = 0; i < n; i++)
		v[i] = i + 1;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = rng(&seed) % (i + 1);
		uint64_t t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
	check_against_sorted("uniform 1..1e6", v, n);
	/* p50 of 1..1e6 is 500000: the histogram says so within 0.39% */
	free(v);
}

static void test_bimodal(void **state)
{
	size_t n = 200000, i;
	uint64_t *v = malloc(n * sizeof(*v)), seed = 7;

	assert_non_null(v);
	/* 95%: 8-12 us (a fast path); 5%: 2-6 ms (a slow one) */
	for (i = 0; i < n; i++) {
		if (rng(&seed) % 100 < 95)
			v[i] = 8000 + rng(&seed) % 4001;
		else
			v[i] = 2000000 + rng(&seed) % 4000001;
	}
	check_against_sorted("bimodal", v, n);
	/* p90 is on the fast mode, p99 on the slow one */
	{
		struct hist *h = hist_new();

		for (i = 0; i < n; i++)
			hist_record(h, (int64_t)v[i]);
		assert_in_range(hist_percentile(h, 90), 8000, 12100);
		assert_in_range(hist_percentile(h, 99), 1990000, 6100000);
		free(h);
	}
	free(v);
}

static void test_single_value(void **state)
{
	static const uint64_t vals[] = { 0, 1, 127, 128, 12345, 999999937, HIST_MAX_NS };

	for (unsigned k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
		struct hist *h = hist_new();

		for (unsigned i = 0; i < 3; i++)
			hist_record(h, (int64_t)vals[k]);
		/* clamped to min and max: every percentile is the value itself */
		assert_int_equal(hist_percentile(h, 0), vals[k]);
		assert_int_equal(hist_percentile(h, 50), vals[k]);
		assert_int_equal(hist_percentile(h, 99.9), vals[k]);
		assert_int_equal(hist_percentile(h, 100), vals[k]);
		assert_int_equal(hist_min(h), vals[k]);
		assert_int_equal(hist_max(h), vals[k]);
		assert_true(hist_mean(h) == (double)vals[k]);
		assert_int_equal(h->under + h->over, 0);
		free(h);
	}
}

/* The range ends: tiny values are exact, huge ones within the bound. */
static void test_range_ends(void **state)
{
	uint64_t v[2000], seed = 3;
	size_t n = 0;

	for (uint64_t i = 0; i < 500; i++)
		v[n++] = i % 130;                       /* 0..129: the exact buckets and the first log one */
	for (uint64_t i = 0; i < 500; i++)
		v[n++] = HIST_MAX_NS - rng(&seed) % (HIST_MAX_NS / 4);   /* 103 s .. 137 s */
	v[n++] = HIST_MAX_NS;
	v[n++] = 0;
	check_against_sorted("range ends", v, n);

	{
		struct hist *h = hist_new();

		for (uint64_t i = 0; i < 128; i++)
			hist_record(h, (int64_t)i);
		/* below 128 ns every value has its own bucket: percentiles are exact */
		for (unsigned k = 1; k <= 128; k++)
			assert_int_equal(hist_percentile(h, k * 100.0 / 128), k - 1);
		free(h);
	}
}

static void test_out_of_range(void **state)
{
	struct hist *h = hist_new();

	hist_record(h, 1000);
	hist_record(h, -5);
	hist_record(h, -1);
	hist_record(h, (int64_t)HIST_MAX_NS + 1);
	hist_record(h, INT64_MAX);
	hist_record(h, (int64_t)HIST_MAX_NS);   /* the top value itself is in range */
	assert_int_equal(hist_count(h), 6);
	assert_int_equal(h->under, 2);
	assert_int_equal(h->over, 2);
	assert_int_equal(hist_min(h), 0);
	assert_int_equal(hist_max(h), HIST_MAX_NS);
	assert_int_equal(hist_percentile(h, 0), 0);
	assert_int_equal(hist_percentile(h, 100), HIST_MAX_NS);
	/* sorted: 0 0 1000 MAX MAX MAX */
	assert_int_equal(hist_percentile(h, 33), 0);          /* rank 2: the second clamped to 0 */
	assert_in_range(hist_percentile(h, 50), 996, 1004);   /* rank 3 */
	/* clamped values enter the mean as clamped */
	assert_true(fabs(hist_mean(h) - (1000.0 + 3.0 * (double)HIST_MAX_NS) / 6) < 1);
	free(h);
}

static void test_empty_and_reset(void **state)
{
	struct hist *h = hist_new(), *fresh = hist_new();

	assert_int_equal(hist_count(h), 0);
	assert_int_equal(hist_min(h), 0);
	assert_int_equal(hist_max(h), 0);
	assert_int_equal(hist_percentile(h, 50), 0);
	assert_true(hist_mean(h) == 0);
	hist_record(h, 5);
	hist_record(h, -5);
	hist_reset(h);
	assert_memory_equal(h, fresh, sizeof(*h));
	free(h);
	free(fresh);
}

static void test_merge(void **state)
{
	struct hist *a = hist_new(), *b = hist_new(), *all = hist_new(), *empty = hist_new();
	uint64_t seed = 11;

	for (unsigned i = 0; i < 50000; i++) {
		int64_t v = (int64_t)(rng(&seed) % 50000000) - 1000;    /* some negative */

		if (i % 3)
			hist_record(a, v);
		else
			hist_record(b, v);
		hist_record(all, v);
	}
	hist_record(b, INT64_MAX);
	hist_record(all, INT64_MAX);
	hist_merge(a, b);
	assert_memory_equal(a, all, sizeof(*a));
	/* merging an empty one changes nothing, into an empty one copies */
	hist_merge(a, empty);
	assert_memory_equal(a, all, sizeof(*a));
	hist_merge(empty, all);
	assert_memory_equal(empty, all, sizeof(*a));
	free(a);
	free(b);
	free(all);
	free(empty);
}

/* The sum passes 2^64 (2^27 values of 2^37 - 1 ns): the mean stays right. */
static void test_sum_carry(void **state)
{
	struct hist *h = hist_new(), *one = hist_new();
	double mean;

	hist_record(h, (int64_t)HIST_MAX_NS);
	for (unsigned i = 0; i < 27; i++)
		hist_merge(h, h);                       /* doubles every count and the sum */
	assert_int_equal(hist_count(h), 1ull << 27);
	assert_int_equal(h->sum_hi, 0);             /* (2^37 - 1) * 2^27 < 2^64 */
	hist_merge(h, h);
	assert_int_equal(h->sum_hi, 1);             /* now above: the carry went in */
	mean = hist_mean(h);
	assert_true(fabs(mean - (double)HIST_MAX_NS) / (double)HIST_MAX_NS < 1e-12);
	/* and through hist_record */
	hist_record(one, 1);
	one->sum_lo = UINT64_MAX;
	hist_record(one, 1);
	assert_int_equal(one->sum_hi, 1);
	assert_int_equal(one->sum_lo, 0);
	free(h);
	free(one);
}

/* Bucket bounds tile the range without gaps and keep the width bound. */
static void test_buckets(void **state)
{
	assert_int_equal(hist_bucket_low(0), 0);
	for (unsigned i = 1; i < HIST_BUCKETS; i++) {
		uint64_t lo = hist_bucket_low(i), hi = hist_bucket_high(i);

		assert_int_equal(lo, hist_bucket_high(i - 1) + 1);
		assert_int_equal(hist_index(lo), i);
		assert_int_equal(hist_index(hi), i);
		assert_true((double)(hi - lo + 1) <= (double)lo / 128 || lo < 128);
	}
	assert_int_equal(hist_bucket_high(HIST_BUCKETS - 1), HIST_MAX_NS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_bimodal),
		cmocka_unit_test(test_single_value),
		cmocka_unit_test(test_range_ends),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_empty_and_reset),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_sum_carry),
		cmocka_unit_test(test_buckets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
