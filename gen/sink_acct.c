/* sink_acct.c - the sink's per-datagram accounting: latency summaries, TCP warm-up */
#include <string.h>
#include "gen/payload.h"
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

static inline bool is_warm(const uint8_t *buf, size_t i, uint64_t off)
{
	return buf[i] == payload_byte(off + i, true);
}

/* The first byte of @buf[0..@len) that is not the warm-up pattern, given that @buf[0] is. */
static size_t warm_end(const uint8_t *buf, size_t len, uint64_t off)
{
	size_t lo = 0, hi = len - 1;

	if (is_warm(buf, hi, off))
		return len;
	/* buf[lo] warm, buf[hi] not: the bytes are warm, then plain */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (is_warm(buf, mid, off))
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

size_t tcpwin_add(struct tcpwin *w, const uint8_t *buf, size_t len, uint64_t off)
{
	size_t k;

	if (!len || w->state == TCPWIN_MEASURED)
		return 0;
	if (w->state == TCPWIN_START) {
		size_t n = len < TCPWIN_PROBE ? len : TCPWIN_PROBE;

		w->state = TCPWIN_MEASURED;
		w->start = off;
		if (off != 0 || !is_warm(buf, 0, off))
			return 0;
		/* the probe: warm-up pattern, then (if it switches within it) the plain one */
		k = warm_end(buf, n, off);
		for (size_t i = 0; i < n; i++)
			if (buf[i] != payload_byte(off + i, i < k))
				return 0;
		w->state = TCPWIN_WARMUP;
	}
	k = is_warm(buf, 0, off) ? warm_end(buf, len, off) : 0;
	if (k < len) {
		w->state = TCPWIN_MEASURED;
		w->start = off + k;
	}
	return k;
}
