/* udpseq.h - per-stream UDP sequence accounting: loss, reordering, duplicates */
#ifndef ZCGEN_UDPSEQ_H
#define ZCGEN_UDPSEQ_H

#include <stdint.h>

/*
 * How far back (in sequence numbers) a late datagram can still be told apart
 * from a duplicate. 4096 sequences is 4 ms at 1 Mpps: more reordering than
 * any sane path produces, and the bitmap stays at 512 bytes per stream.
 */
#define UDPSEQ_WINDOW 4096u

/*
 * zcgen's warm-up (omit) on the wire: a datagram sent during the warm-up
 * carries its sequence with this bit set. The warm-up and the measured part
 * each number their datagrams from 1, so that the measured part is exactly
 * the unflagged sequences 1, 2, ...: loss and latency are counted there
 * alone, and the first measured datagrams lost are counted lost like any
 * others. iperf3 never sets the bit (it would take 2^63 datagrams).
 * zcgen marks its warm-up so only towards a receiver that reads it
 * (server none or zcgen, docs/sink.md "Warm-up").
 */
#define UDPSEQ_WARMUP (1ull << 63)

/* What one datagram turned out to be. */
enum udpseq_verdict {
	UDPSEQ_IN_ORDER,   /* highest + 1 (or the first one when it is 1) */
	UDPSEQ_GAP,        /* beyond highest + 1: the ones skipped count as lost */
	UDPSEQ_LATE,       /* below highest, not seen yet: reordered, loss - 1 */
	UDPSEQ_DUPLICATE,  /* seen already (within the window) */
	UDPSEQ_TOO_LATE,   /* below highest - window: cannot tell, stays lost */
	UDPSEQ_FOREIGN,    /* sequence 0: not a zcgen datagram, nothing counted */
	UDPSEQ_OMITTED,    /* a warm-up datagram (UDPSEQ_WARMUP): counted in omitted alone */
};

/*
 * The state of one stream. Zero-initialised is the start state: sequences
 * start at 1, so a stream whose first datagram is N has lost N - 1.
 *
 * Counters: packets counts every datagram of the measured part with a valid
 * sequence (duplicates and too-late ones included); omitted counts the
 * warm-up's datagrams (UDPSEQ_WARMUP), which count nowhere else; lost is
 * the number of sequences up to highest that have not arrived (a late
 * arrival within the window takes one off); reordered counts late arrivals within the window; duplicates counts
 * sequences seen twice within the window; too_late counts arrivals older
 * than the window, which stay counted as lost because a duplicate cannot be
 * ruled out.
 */
struct udpseq {
	uint64_t highest;     /* highest sequence of the measured part seen, 0 = none yet */
	uint64_t packets;
	uint64_t lost;
	uint64_t reordered;
	uint64_t duplicates;
	uint64_t too_late;
	uint64_t omitted;
	/* bit (s % UDPSEQ_WINDOW) set: sequence s arrived, for s in (highest - WINDOW, highest] */
	uint64_t seen[UDPSEQ_WINDOW / 64];
};

/**
 * udpseq_add() - account for one datagram's sequence number
 * @s: the stream's state
 * @seq: the sequence number from the header, host byte order
 *
 * Return: what the datagram was. Sequence 0 (or UDPSEQ_WARMUP alone) is
 * UDPSEQ_FOREIGN and changes nothing; the caller counts it apart. A warm-up
 * sequence is UDPSEQ_OMITTED: only omitted changes.
 */
enum udpseq_verdict udpseq_add(struct udpseq *s, uint64_t seq);

/**
 * udpseq_expected() - how many datagrams the sender sent, as far as we know
 * @s: the stream's state
 *
 * Return: the highest sequence of the measured part seen (sequences start at 1).
 */
static inline uint64_t udpseq_expected(const struct udpseq *s)
{
	return s->highest;
}

/**
 * udpseq_loss_pct() - lost sequences in percent of the expected ones
 * @s: the stream's state
 *
 * Return: 0.0 for a stream with nothing expected.
 */
double udpseq_loss_pct(const struct udpseq *s);

#endif
