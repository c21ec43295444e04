/* sink_acct.c - the sink's per-datagram accounting: latency summaries */
#include <string.h>
#include "gen/sink_acct.h"

void lat_merge(struct lat_acct *dst, const struct lat_acct *src)
{
	hist_merge(&dst->h, &src->h);
	dst->negative += src->negative;
}

void lat_summarize(const struct hist *h, uint64_t negative, struct lat_summary *s)
{
	uint64_t n = h ? hist_count(h) : 0;

	memset(s, 0, sizeof(*s));
	s->negative = negative;
	if (!n)
		return;
	s->count = n;
	s->over = h->over;
	s->p50 = (double)hist_percentile(h, 50) / 1e3;
	s->p90 = (double)hist_percentile(h, 90) / 1e3;
	s->p99 = (double)hist_percentile(h, 99) / 1e3;
	s->p99_9 = (double)hist_percentile(h, 99.9) / 1e3;
	s->min = (double)hist_min(h) / 1e3;
	s->max = (double)hist_max(h) / 1e3;
	s->mean = hist_mean(h) / 1e3;
	s->valid = (double)negative <= LAT_NEG_SHARE * (double)(n + negative);
}
