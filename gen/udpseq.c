/* udpseq.c - per-stream UDP sequence accounting: loss, reordering, duplicates */
#include <string.h>
#include "gen/udpseq.h"

static inline void seen_set(struct udpseq *s, uint64_t seq)
{
	uint64_t bit = seq % UDPSEQ_WINDOW;

	s->seen[bit / 64] |= 1ull << (bit % 64);
}

static inline void seen_clear(struct udpseq *s, uint64_t seq)
{
	uint64_t bit = seq % UDPSEQ_WINDOW;

	s->seen[bit / 64] &= ~(1ull << (bit % 64));
}

static inline int seen_test(const struct udpseq *s, uint64_t seq)
{
	uint64_t bit = seq % UDPSEQ_WINDOW;

	return !!(s->seen[bit / 64] & (1ull << (bit % 64)));
}

enum udpseq_verdict udpseq_add(struct udpseq *s, uint64_t seq)
{
	uint64_t gap;

	if ((seq & ~UDPSEQ_WARMUP) == 0)
		return UDPSEQ_FOREIGN;
	if (seq & UDPSEQ_WARMUP) {
		s->omitted++;
		return UDPSEQ_OMITTED;
	}
	s->packets++;

	/* The common case first: the next one. Its bit held seq - WINDOW's. */
	if (seq == s->highest + 1) {
		seen_set(s, seq);
		s->highest = seq;
		return UDPSEQ_IN_ORDER;
	}

	if (seq > s->highest) {
		gap = seq - s->highest - 1;
		s->lost += gap;
		/* The skipped sequences take over bits of ones now out of the window. */
		if (gap >= UDPSEQ_WINDOW)
			memset(s->seen, 0, sizeof(s->seen));
		else
			for (uint64_t q = s->highest + 1; q < seq; q++)
				seen_clear(s, q);
		seen_set(s, seq);
		s->highest = seq;
		return UDPSEQ_GAP;
	}

	/* seq <= highest: a late one, a duplicate, or too old to tell. */
	if (s->highest - seq >= UDPSEQ_WINDOW) {
		s->too_late++;
		return UDPSEQ_TOO_LATE;
	}
	if (seen_test(s, seq)) {
		s->duplicates++;
		return UDPSEQ_DUPLICATE;
	}
	seen_set(s, seq);
	s->reordered++;
	s->lost--;  /* it was counted lost when the gap opened */
	return UDPSEQ_LATE;
}

double udpseq_loss_pct(const struct udpseq *s)
{
	if (!s->highest)
		return 0.0;
	/*
	 * The ratio first: lost <= highest, so it is at most 1.0 and the
	 * percentage at most 100. 100 * lost rounded first can come out above
	 * 100 for sequences past 2^53 (a stray datagram with a huge sequence).
	 */
	return 100.0 * ((double)s->lost / (double)s->highest);
}
