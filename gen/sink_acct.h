/* sink_acct.h - the sink's per-datagram accounting: one-way latency, UDP GRO splitting, TCP warm-up */
#ifndef ZCGEN_SINK_ACCT_H
#define ZCGEN_SINK_ACCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gen/hist.h"

/*
 * One-way latency of a UDP stream: arrival (CLOCK_REALTIME, the kernel's
 * receive timestamp where there is one) minus the send time in the
 * datagram's header (seconds and microseconds, iperf3's layout). The header
 * has microsecond resolution and the sender truncates, so every figure can
 * be up to 1 us high; the histogram's 0.4% comes on top.
 *
 * The figure means something only when both ends read the same clock (one
 * host, the veth lab, PTP-synchronised hosts). A latency below zero proves
 * they do not: it is counted in @negative and kept out of the histogram,
 * never clamped to 0. More than LAT_NEG_SHARE of them and the stream's
 * figures are marked invalid.
 *
 * Memory: fixed, sizeof(struct lat_acct) (about 31.8 KB), whatever the run's length.
 */
#define LAT_NEG_SHARE 0.001

struct lat_acct {
	struct hist h;          /* latencies >= 0, nanoseconds */
	uint64_t negative;      /* arrival before the send time */
};

/* Percentiles and the rest, in microseconds, for reports. */
struct lat_summary {
	uint64_t count;         /* latencies in the histogram (>= 0) */
	uint64_t negative;      /* latencies below 0: not in the figures */
	uint64_t over;          /* above the histogram's range (137 s), counted as its top */
	double p50, p90, p99, p99_9, min, max, mean;
	bool valid;             /* count > 0 and at most LAT_NEG_SHARE of all were negative */
};

static inline void lat_init(struct lat_acct *l)
{
	hist_init(&l->h);
	l->negative = 0;
}

/* The latency of a datagram sent at @sec.@usec (header) that arrived at @arrived_ns (epoch ns). */
static inline int64_t lat_ns(uint32_t sec, uint32_t usec, uint64_t arrived_ns)
{
	uint64_t sent = (uint64_t)sec * 1000000000ull + (uint64_t)usec * 1000ull;

	return (int64_t)(arrived_ns - sent);
}

static inline void lat_add(struct lat_acct *l, uint32_t sec, uint32_t usec, uint64_t arrived_ns)
{
	int64_t v = lat_ns(sec, usec, arrived_ns);

	if (v < 0)
		l->negative++;
	else
		hist_record(&l->h, v);
}

/* @dst += @src. */
void lat_merge(struct lat_acct *dst, const struct lat_acct *src);

/**
 * lat_summarize() - the figures of a histogram
 * @h: latencies, ns (may be NULL: nothing recorded)
 * @negative: how many were below zero
 * @s: filled in; all zero (and not valid) when nothing was recorded
 */
void lat_summarize(const struct hist *h, uint64_t negative, struct lat_summary *s);

/*
 * UDP GRO: one receive carries several datagrams of one flow back to back,
 * each @seg bytes (the UDP_GRO control message) but the last, which may be
 * shorter. @total is the whole length (the kernel's, with MSG_TRUNC), @inbuf
 * how much of it is in the buffer. @seg 0 (no control message): one datagram.
 */
static inline unsigned gro_count(unsigned total, unsigned seg)
{
	if (!seg || total <= seg)
		return 1;
	return (total + seg - 1) / seg;
}

/**
 * gro_seg() - datagram @k of a coalesced receive
 * @off: its offset in the buffer
 * @len: its real length
 * @in: how much of it is in the buffer (less than @len: truncated; 0: none)
 */
static inline void gro_seg(unsigned total, unsigned inbuf, unsigned seg, unsigned k,
			   unsigned *off, unsigned *len, unsigned *in)
{
	unsigned o = seg ? k * seg : 0;
	unsigned l = seg && total > seg ? (total - o < seg ? total - o : seg) : total;

	*off = o;
	*len = l;
	*in = inbuf <= o ? 0 : (inbuf - o < l ? inbuf - o : l);
}

/*
 * TCP: where zcgen's warm-up (omit) ends in a stream. A zcgen sender that
 * marks its warm-up writes those bytes with the shifted pattern, the
 * measured part with the plain one (gen/payload.h); the measured part starts
 * at the first byte in the plain pattern. A stream is taken for one with a
 * warm-up when its first TCPWIN_PROBE bytes (or all of its first receive,
 * if shorter) are the shifted pattern, possibly followed by the plain one:
 * any other stream (zcgen without warm-up, iperf3, anything else) is
 * measured from its first byte. A receive is classified with two byte
 * compares, and a binary search in the one receive that holds the switch.
 *
 * Zero-initialised is the start state.
 */
#define TCPWIN_PROBE 16u

enum tcpwin_state { TCPWIN_START, TCPWIN_WARMUP, TCPWIN_MEASURED };

struct tcpwin {
	enum tcpwin_state state;
	uint64_t start;         /* TCPWIN_MEASURED: the stream offset where the measured part starts */
};

/**
 * tcpwin_add() - classify the next received bytes of a stream
 * @w: the stream's state
 * @buf: the bytes
 * @len: how many
 * @off: the stream offset of @buf[0] (every byte of the stream is passed, in order)
 *
 * Return: how many of the first bytes of @buf belong to the warm-up; the
 * rest belong to the measured part.
 */
size_t tcpwin_add(struct tcpwin *w, const uint8_t *buf, size_t len, uint64_t off);

#endif
