/* unit_sampler.c - the interval sampler: the grid of ticks, the warm-up, the last partial interval, zero lengths */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "gen/sampler.h"

#define S 1000000000ULL
#define MS 1000000ULL
#define T0 (1000 * S) /* a monotonic clock does not start at 0 */

/* one counter, so that the cases read as (time, count) pairs */
static enum sampler_what tick1(struct sampler *s, uint64_t now, uint64_t cur,
			       struct sampler_span *sp, uint64_t *d)
{
	return sampler_tick(s, now, &cur, sp, d);
}

static enum sampler_what end1(struct sampler *s, uint64_t now, uint64_t cur,
			      struct sampler_span *sp, uint64_t *d)
{
	return sampler_end(s, now, &cur, sp, d);
}

/* Without a warm-up: ticks every interval from the start, deltas per interval. */
static void test_intervals(void **state)
{
	struct sampler_cfg c = { .n = 2, .interval_ns = 1 * S, .sliver_ns = 1 * MS };
	struct sampler s;
	struct sampler_span sp;
	uint64_t cur[2], d[2];

	(void)state;
	assert_int_equal(sampler_init(&s, &c, T0), 0);
	assert_true(s.measuring);
	assert_int_equal(sampler_due(&s), T0 + 1 * S);
	cur[0] = 100, cur[1] = 7;
	assert_int_equal(sampler_tick(&s, T0 + 1 * S, cur, &sp, d), SAMPLER_INTERVAL);
	assert_int_equal(sp.start_ns, 0);
	assert_int_equal(sp.end_ns, 1 * S);
	assert_int_equal(d[0], 100);
	assert_int_equal(d[1], 7);
	assert_int_equal(sampler_due(&s), T0 + 2 * S);
	cur[0] = 250, cur[1] = 7;
	assert_int_equal(sampler_tick(&s, T0 + 2 * S, cur, &sp, d), SAMPLER_INTERVAL);
	assert_int_equal(sp.start_ns, 1 * S);
	assert_int_equal(sp.end_ns, 2 * S);
	assert_int_equal(d[0], 150);
	assert_int_equal(d[1], 0);
	assert_int_equal(s.nint, 2);
	assert_int_equal(sampler_measured_ns(&s, T0 + 2500 * MS), 2500 * MS);
	sampler_free(&s);
}

/* A late tick ends a longer interval; the next is due on the grid, not an interval after it. */
static void test_late_tick(void **state)
{
	struct sampler_cfg c = { .n = 1, .interval_ns = 1 * S, .sliver_ns = 1 * MS };
	struct sampler s;
	struct sampler_span sp;
	uint64_t d;

	(void)state;
	assert_int_equal(sampler_init(&s, &c, T0), 0);
	assert_int_equal(tick1(&s, T0 + 1 * S + 30 * MS, 10, &sp, &d), SAMPLER_INTERVAL);
	assert_int_equal(sp.end_ns, 1 * S + 30 * MS);
	assert_int_equal(sampler_due(&s), T0 + 2 * S);
	/* late by more than an interval: the grid points missed are skipped, no sliver after */
	assert_int_equal(tick1(&s, T0 + 3 * S + 500 * MS, 40, &sp, &d), SAMPLER_INTERVAL);
	assert_int_equal(sp.start_ns, 1 * S + 30 * MS);
	assert_int_equal(sp.end_ns, 3 * S + 500 * MS);
	assert_int_equal(d, 30);
	assert_int_equal(sampler_due(&s), T0 + 4 * S);
	/* a tick exactly on a grid point: the next one is a whole interval on */
	assert_int_equal(tick1(&s, T0 + 4 * S, 40, &sp, &d), SAMPLER_INTERVAL);
	assert_int_equal(sampler_due(&s), T0 + 5 * S);
	/* the run's tick at the end of its duration, between grid points */
	assert_int_equal(tick1(&s, T0 + 4 * S + 500 * MS, 45, &sp, &d), SAMPLER_INTERVAL);
	assert_int_equal(sp.start_ns, 4 * S);
	assert_int_equal(sp.end_ns, 4 * S + 500 * MS);
	assert_int_equal(d, 5);
	sampler_free(&s);
}

/* The warm-up: no interval in it, the counters at its end are the base, times count from it. */
static void test_omit(void **state)
{
	struct sampler_cfg c = { .n = 1, .interval_ns = 1 * S, .omit_ns = 1500 * MS,
				 .sliver_ns = 1 * MS };
	struct sampler s;
	struct sampler_span sp;
	uint64_t d;

	(void)state;
	assert_int_equal(sampler_init(&s, &c, T0), 0);
	assert_false(s.measuring);
	/* longer than an interval: the one tick in the warm-up is its end */
	assert_int_equal(sampler_due(&s), T0 + 1500 * MS);
	assert_int_equal(tick1(&s, T0 + 1 * S, 5, &sp, &d), SAMPLER_NONE);
	assert_false(s.measuring);
	assert_int_equal(tick1(&s, T0 + 1500 * MS + 2 * MS, 9, &sp, &d), SAMPLER_MEASURING);
	assert_true(s.measuring);
	assert_int_equal(sampler_due(&s), T0 + 2500 * MS);
	assert_int_equal(tick1(&s, T0 + 2500 * MS, 109, &sp, &d), SAMPLER_INTERVAL);
	/* from the warm-up's end; the first interval starts at the tick that saw it end */
	assert_int_equal(sp.start_ns, 2 * MS);
	assert_int_equal(sp.end_ns, 1 * S);
	assert_int_equal(d, 100);
	assert_int_equal(sampler_measured_ns(&s, T0 + 3500 * MS), 2 * S);
	sampler_free(&s);

	/* shorter than an interval */
	c.omit_ns = 300 * MS;
	assert_int_equal(sampler_init(&s, &c, T0), 0);
	assert_int_equal(sampler_due(&s), T0 + 300 * MS);
	assert_int_equal(tick1(&s, T0 + 300 * MS, 0, &sp, &d), SAMPLER_MEASURING);
	assert_int_equal(sampler_due(&s), T0 + 1300 * MS);
	sampler_free(&s);

	/* stopped in the warm-up: nothing measured, no last interval */
	c.omit_ns = 2 * S;
	assert_int_equal(sampler_init(&s, &c, T0), 0);
	assert_int_equal(end1(&s, T0 + 1 * S, 50, &sp, &d), SAMPLER_NONE);
	assert_int_equal(sampler_measured_ns(&s, T0 + 1 * S), 0);
	sampler_free(&s);
}

/* The last partial interval: kept when long enough; a sliver dropped, merged, or kept. */
static void test_last_partial(void **state)
{
	struct sampler_cfg drop = { .n = 1, .interval_ns = 1 * S, .sliver_ns = 1 * MS };
	struct sampler_cfg merge = { .n = 1, .interval_ns = 1 * S, .sliver_ns = 100 * MS,
				     .sliver_merge = true };
	struct sampler s;
	struct sampler_span sp;
	uint64_t d;

	(void)state;
	/* long enough: a new interval from the final counts */
	assert_int_equal(sampler_init(&s, &drop, T0), 0);
	assert_int_equal(tick1(&s, T0 + 1 * S, 10, &sp, &d), SAMPLER_INTERVAL);
	assert_int_equal(end1(&s, T0 + 1 * S + 400 * MS, 14, &sp, &d), SAMPLER_INTERVAL);
	assert_int_equal(sp.start_ns, 1 * S);
	assert_int_equal(sp.end_ns, 1 * S + 400 * MS);
	assert_int_equal(d, 4);
	assert_int_equal(s.nint, 2);
	assert_int_equal(sampler_due(&s), UINT64_MAX);
	sampler_free(&s);

	/* a sliver without merge: dropped, even with counts */
	assert_int_equal(sampler_init(&s, &drop, T0), 0);
	assert_int_equal(tick1(&s, T0 + 1 * S, 10, &sp, &d), SAMPLER_INTERVAL);
	assert_int_equal(end1(&s, T0 + 1 * S + 200000, 12, &sp, &d), SAMPLER_NONE);
	assert_int_equal(s.nint, 1);
	sampler_free(&s);

	/* a sliver with merge: into the interval before, which ends later */
	assert_int_equal(sampler_init(&s, &merge, T0), 0);
	assert_int_equal(tick1(&s, T0 + 1 * S, 10, &sp, &d), SAMPLER_INTERVAL);
	assert_int_equal(end1(&s, T0 + 1 * S + 50 * MS, 13, &sp, &d), SAMPLER_MERGE);
	assert_int_equal(sp.end_ns, 1 * S + 50 * MS);
	assert_int_equal(d, 3);
	assert_int_equal(s.nint, 1);
	sampler_free(&s);

	/* ... with no interval before: kept when it counted anything, else dropped */
	assert_int_equal(sampler_init(&s, &merge, T0), 0);
	assert_int_equal(end1(&s, T0 + 50 * MS, 3, &sp, &d), SAMPLER_INTERVAL);
	assert_int_equal(sp.start_ns, 0);
	assert_int_equal(sp.end_ns, 50 * MS);
	sampler_free(&s);
	assert_int_equal(sampler_init(&s, &merge, T0), 0);
	assert_int_equal(end1(&s, T0 + 50 * MS, 0, &sp, &d), SAMPLER_NONE);
	sampler_free(&s);

	/* the same boundary: exactly sliver_ns long is not a sliver */
	assert_int_equal(sampler_init(&s, &merge, T0), 0);
	assert_int_equal(tick1(&s, T0 + 1 * S, 10, &sp, &d), SAMPLER_INTERVAL);
	assert_int_equal(end1(&s, T0 + 1 * S + 100 * MS, 10, &sp, &d), SAMPLER_INTERVAL);
	sampler_free(&s);
}

/* Zero lengths: no interval, an end at the last tick, an end before it, no counters. */
static void test_zero(void **state)
{
	struct sampler_cfg none = { .n = 1, .interval_ns = 0, .sliver_ns = 0, .sliver_merge = true };
	struct sampler_cfg c = { .n = 1, .interval_ns = 1 * S, .sliver_ns = 1 * MS };
	struct sampler s;
	struct sampler_span sp;
	uint64_t d;

	(void)state;
	/* interval 0: never due, no intervals, not even the last */
	assert_int_equal(sampler_init(&s, &none, T0), 0);
	assert_int_equal(sampler_due(&s), UINT64_MAX);
	assert_int_equal(end1(&s, T0 + 5 * S, 99, &sp, &d), SAMPLER_NONE);
	assert_int_equal(sampler_measured_ns(&s, T0 + 5 * S), 5 * S);
	sampler_free(&s);

	/* the end at the very time of the last tick: a zero-length sliver */
	assert_int_equal(sampler_init(&s, &c, T0), 0);
	assert_int_equal(tick1(&s, T0 + 1 * S, 10, &sp, &d), SAMPLER_INTERVAL);
	assert_int_equal(end1(&s, T0 + 1 * S, 10, &sp, &d), SAMPLER_NONE);
	sampler_free(&s);

	/* a clock read before the last tick (another thread's): taken as the tick's time */
	assert_int_equal(sampler_init(&s, &c, T0), 0);
	assert_int_equal(tick1(&s, T0 + 1 * S, 10, &sp, &d), SAMPLER_INTERVAL);
	assert_int_equal(tick1(&s, T0 + 1 * S - 5, 12, &sp, &d), SAMPLER_INTERVAL);
	assert_int_equal(sp.start_ns, 1 * S);
	assert_int_equal(sp.end_ns, 1 * S);
	assert_int_equal(d, 2);
	sampler_free(&s);

	/* a zero-length run: ends where it started */
	assert_int_equal(sampler_init(&s, &c, T0), 0);
	assert_int_equal(end1(&s, T0, 0, &sp, &d), SAMPLER_NONE);
	assert_int_equal(sampler_measured_ns(&s, T0), 0);
	sampler_free(&s);

	/* no counters at all: spans only */
	c.n = 0;
	assert_int_equal(sampler_init(&s, &c, T0), 0);
	assert_int_equal(sampler_tick(&s, T0 + 1 * S, NULL, &sp, NULL), SAMPLER_INTERVAL);
	assert_int_equal(sp.end_ns, 1 * S);
	sampler_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intervals),
		cmocka_unit_test(test_late_tick),
		cmocka_unit_test(test_omit),
		cmocka_unit_test(test_last_partial),
		cmocka_unit_test(test_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
