/* hist.h - log-linear latency histogram: bounded relative error, fixed memory, no allocation */
#ifndef ZCGEN_HIST_H
#define ZCGEN_HIST_H

#include <stdint.h>

/*
 * Values are nanoseconds. Values 0 to 127 have a bucket each (exact); above,
 * every power of two [2^e, 2^(e+1)) is cut into 128 equal buckets of width
 * 2^(e-7), so a bucket is at most 1/128 of its lower bound wide. A
 * percentile is reported as the middle of its bucket (clamped to the
 * recorded min and max): at most half a bucket off, a relative error below
 * 1/256 = 0.39%, well inside the 1% promised.
 *
 * Range: 0 to 2^37 - 1 ns (137.4 s). Values above are recorded as the top
 * value and counted in @over; negative values (a receiver clock behind the
 * sender's) as 0 and counted in @under: both are shown, never hidden.
 *
 * Memory: 128 + (37 - 7) * 128 = 3968 buckets of 8 bytes, 31744 bytes, plus
 * a 56-byte header: sizeof(struct hist) = 31800 bytes, fixed at compile
 * time. Nothing is allocated after the histogram itself.
 *
 * Jitter (RFC 3550: J += (|D| - J) / 16) is iperf3_jitter_update() in
 * gen/iperf3.h, not repeated here.
 */
#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)                  /* buckets per power of two */
#define HIST_MAX_BITS 37
#define HIST_MAX_NS ((1ull << HIST_MAX_BITS) - 1)       /* 137.4 s */
#define HIST_BUCKETS (HIST_SUB + (HIST_MAX_BITS - HIST_SUB_BITS) * HIST_SUB)

struct hist {
	uint64_t count;            /* values recorded, @under and @over included */
	uint64_t under, over;      /* clamped to 0 / to HIST_MAX_NS */
	uint64_t min, max;         /* after clamping; min is UINT64_MAX while empty */
	uint64_t sum_lo, sum_hi;   /* 128-bit sum, for an exact mean */
	uint64_t b[HIST_BUCKETS];
};

_Static_assert(sizeof(struct hist) == 7 * 8 + HIST_BUCKETS * 8, "struct hist has padding");

/* The bucket a value in [0, HIST_MAX_NS] falls in. */
static inline unsigned hist_index(uint64_t v)
{
	unsigned e;

	if (v < HIST_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);     /* v in [2^e, 2^(e+1)), e >= 7 */
	return HIST_SUB * (e - HIST_SUB_BITS + 1) + (unsigned)((v >> (e - HIST_SUB_BITS)) - HIST_SUB);
}

/**
 * hist_record - count one value (hot path: no branch beyond the clamping)
 * @v: nanoseconds; negative ones count as 0 (in @under), ones above
 * HIST_MAX_NS as HIST_MAX_NS (in @over).
 */
static inline void hist_record(struct hist *h, int64_t v)
{
	uint64_t u, lo;

	if (v < 0) {
		u = 0;
		h->under++;
	} else if ((uint64_t)v > HIST_MAX_NS) {
		u = HIST_MAX_NS;
		h->over++;
	} else {
		u = (uint64_t)v;
	}
	h->b[hist_index(u)]++;
	h->count++;
	if (u < h->min)
		h->min = u;
	if (u > h->max)
		h->max = u;
	lo = h->sum_lo + u;
	h->sum_hi += lo < h->sum_lo;
	h->sum_lo = lo;
}

/* An empty histogram. hist_reset is the same. */
void hist_init(struct hist *h);
void hist_reset(struct hist *h);

/* Add @src's values to @dst, as if they had been recorded into @dst. */
void hist_merge(struct hist *dst, const struct hist *src);

/**
 * hist_percentile - the value at percentile @p (0 to 100; outside: clamped)
 *
 * The exact percentile is the nearest-rank one: the smallest recorded value
 * with at least ceil(p / 100 * count) values at or below it (rank 1 for
 * p = 0: the minimum). The answer is within 0.39% of it (exact below 128 ns,
 * and for p = 0 and p = 100).
 * Return: nanoseconds; 0 when empty.
 */
uint64_t hist_percentile(const struct hist *h, double p);

uint64_t hist_count(const struct hist *h);
uint64_t hist_min(const struct hist *h);     /* 0 when empty */
uint64_t hist_max(const struct hist *h);
double hist_mean(const struct hist *h);      /* exact (from the sum); 0 when empty */

/* The lowest and highest value bucket @i holds (for tests and exports). */
uint64_t hist_bucket_low(unsigned i);
uint64_t hist_bucket_high(unsigned i);

#endif
