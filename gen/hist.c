/* hist.c - log-linear latency histogram: merge, percentiles, summary values */
#include <math.h>
#include <string.h>
#include "gen/hist.h"

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void hist_reset(struct hist *h)
{
	hist_init(h);
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	uint64_t lo = dst->sum_lo + src->sum_lo;

	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->under += src->under;
	dst->over += src->over;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->sum_hi += src->sum_hi + (lo < dst->sum_lo);
	dst->sum_lo = lo;
}

uint64_t hist_bucket_low(unsigned i)
{
	unsigned k = i / HIST_SUB;

	if (!k)
		return i;
	return (uint64_t)(HIST_SUB + i % HIST_SUB) << (k - 1);
}

uint64_t hist_bucket_high(unsigned i)
{
	unsigned k = i / HIST_SUB;

	if (!k)
		return i;
	return hist_bucket_low(i) + (1ull << (k - 1)) - 1;
}

uint64_t hist_percentile(const struct hist *h, double p)
{
	uint64_t rank, seen = 0;
	double r;

	if (!h->count)
		return 0;
	if (!(p > 0))           /* NaN too */
		return h->min;
	if (p >= 100)
		return h->max;
	/*
	 * Nearest rank, ceil(p / 100 * n). p = 99.9 is not exact in binary:
	 * without the small allowance, 99.9% of 10^6 could come out as rank
	 * 999001 instead of 999000.
	 */
	r = p / 100.0 * (double)h->count;
	rank = (uint64_t)ceil(r - r * 1e-12);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		uint64_t low, high, mid;

		seen += h->b[i];
		if (seen < rank)
			continue;
		low = hist_bucket_low(i);
		high = hist_bucket_high(i);
		mid = low + (high - low + 1) / 2;
		if (mid < h->min)
			mid = h->min;
		if (mid > h->max)
			mid = h->max;
		return mid;
	}
	return h->max;          /* not reached: the buckets add up to count */
}

uint64_t hist_count(const struct hist *h)
{
	return h->count;
}

uint64_t hist_min(const struct hist *h)
{
	return h->count ? h->min : 0;
}

uint64_t hist_max(const struct hist *h)
{
	return h->max;
}

double hist_mean(const struct hist *h)
{
	if (!h->count)
		return 0;
	return ((double)h->sum_hi * 18446744073709551616.0 + (double)h->sum_lo) / (double)h->count;
}
