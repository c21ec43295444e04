/* pacer.h - rate control arithmetic: send schedule, wire overheads, ramps, bursts, IMIX (no I/O) */
#ifndef ZCGEN_PACER_H
#define ZCGEN_PACER_H

#include <stdbool.h>
#include <stdint.h>

/*
 * One pacer per ring (or per stream): it is told the time and what was
 * sent, and says how many sends are due and when the next one is. It never
 * reads a clock, sleeps or allocates; the engine owns the clock and the
 * timed wait (an io_uring timeout or clock_nanosleep until pacer_next_ns()).
 *
 * The schedule is a virtual time: each send, when charged, moves the time
 * of the next due send on by its cost divided by the rate (integrated over
 * a ramp or steps, so a changing rate is exact too). Long-run rate is
 * therefore exact whatever the sizes; a ring that falls behind catches up at
 * most @bucket_ns worth of sends at once (the token bucket's depth), and the
 * credit beyond that is forfeited and counted in @dropped.
 */

/* Where a bit rate is counted. See pacer_wire_bytes() for the arithmetic. */
enum pacer_layer { PACER_LAYER_PAYLOAD, PACER_LAYER_L2, PACER_LAYER_L1 };
/* What a rate given in a profile is for: all queues together, each queue, each stream. */
enum pacer_per { PACER_PER_TOTAL, PACER_PER_QUEUE, PACER_PER_STREAM };
/* A rate in bits per second (at a layer) or in packets (frames) per second. */
enum pacer_unit { PACER_BPS, PACER_PPS };

/*
 * Header sizes per frame. TCP: 20 bytes plus the 12-byte timestamp option
 * that Linux sends by default (net.ipv4.tcp_timestamps=1), so 32. A TCP
 * send larger than the MSS leaves as ceil(size / mss) segments, each with
 * its headers. A UDP send is one datagram, one frame (sizes are meant to
 * fit the MTU; IP fragments are not counted as frames of their own).
 * L2 is the Ethernet frame without its FCS (what Linux byte counters show),
 * padded to the 60-byte minimum; L1 adds FCS 4, preamble and SFD 8 and the
 * inter-frame gap 12: 24 bytes a frame.
 *
 * 64-byte UDP payload over IPv4: L2 = 64 + 8 + 20 + 14 = 106 bytes,
 * L1 = 106 + 24 = 130 bytes (1040 bit): 10 Gbit/s at L1 is 9.615 Mpps.
 */
#define PACER_ETH_HDR 14u
#define PACER_IPV4_HDR 20u
#define PACER_IPV6_HDR 40u
#define PACER_TCP_HDR 32u
#define PACER_UDP_HDR 8u
#define PACER_L1_EXTRA 24u        /* FCS 4 + preamble/SFD 8 + IFG 12 */
#define PACER_ETH_MIN 60u         /* minimum frame without the FCS (64 with it) */
#define PACER_DEFAULT_MTU 1500u

struct pacer_wire {
	enum pacer_layer layer;
	bool tcp;                 /* else UDP */
	bool ipv6;
	unsigned mss;             /* TCP: segment payload; 0: from a 1500 MTU (1448 v4, 1428 v6) */
};

/* Frames one send of @size payload bytes makes: TCP ceil(size / mss), UDP 1. */
uint64_t pacer_frames(const struct pacer_wire *w, uint64_t size);
/* Bytes one send of @size payload bytes counts at @w->layer (see above). */
uint64_t pacer_wire_bytes(const struct pacer_wire *w, uint64_t size);

/*
 * IMIX: a weighted mix of sizes, served as a smooth weighted round-robin
 * (nginx's): each step every entry gains its weight, the largest is served
 * and loses the total. Over every period of sum(weights) sends, each size
 * comes exactly weight times, spread out rather than in runs, and the
 * sequence is the same on every run.
 */
#define IMIX_MAX 16
#define IMIX_MAX_WEIGHT 1000000u

struct imix_entry {
	uint32_t size;
	uint32_t weight;
};

struct imix {
	unsigned n;
	struct imix_entry e[IMIX_MAX];
	int64_t cur[IMIX_MAX];
	uint64_t total;           /* sum of the weights: the period */
};

/* Return: 0, or -EINVAL (no entry, more than IMIX_MAX, a weight 0 or too big, a size 0). */
int imix_init(struct imix *m, const struct imix_entry *e, unsigned n);
/* The next size of the sequence. */
uint32_t imix_next(struct imix *m);
/* The weighted mean size, exact. */
double imix_mean(const struct imix *m);

/* A step of a stepped rate: @rate (per second) for @for_ns, then the next. */
struct pacer_step {
	double rate;
	uint64_t for_ns;
};

#define PACER_MAX_STEPS 32
#define PACER_DEFAULT_BUCKET_NS 100000ull    /* 100 us of sends at most at once after a stall */
#define PACER_DEFAULT_TICK_NS 1000000ull     /* behind for longer than this: missed */
#define PACER_UNLIMITED UINT32_MAX

struct pacer_cfg {
	enum pacer_unit unit;
	double rate;              /* per second, this pacer's share (pacer_split); 0: unlimited */
	struct pacer_wire wire;
	uint64_t size;            /* payload bytes per send, when @mix is NULL */
	const struct imix *mix;   /* sizes vary: the due count uses the mix's mean cost */
	double ramp_from;         /* with @ramp_ns: linear from this rate to @rate */
	uint64_t ramp_ns;         /* 0: no ramp */
	const struct pacer_step *steps;   /* n_steps > 0: these rates instead of @rate; */
	unsigned n_steps;                 /* the last one holds after its time (0 there: stop) */
	unsigned burst;           /* > 1: sends released in groups of @burst, the group's time apart */
	uint64_t bucket_ns;       /* 0: PACER_DEFAULT_BUCKET_NS */
	uint64_t tick_ns;         /* 0: PACER_DEFAULT_TICK_NS */
};

/* The rate as a piecewise linear function of time: a ramp or steps. */
struct pacer_seg {
	double t0;                /* ns since start */
	double a, b;              /* rate at t0 (units per ns) and its slope (units per ns^2) */
};

struct pacer {
	bool unlimited;
	enum pacer_unit unit;
	struct pacer_wire wire;
	struct pacer_seg seg[PACER_MAX_STEPS + 1];
	unsigned n_seg;
	double mean_cost;         /* units per send: bits at the layer, or frames */
	unsigned burst, group_left;
	double bucket_ns;
	uint64_t tick_ns;
	uint64_t start_ns;
	double vt;                /* when the next send is due, ns since start (INFINITY: never) */
	bool over;                /* behind by more than the bucket at the last look */
	uint64_t over_since;
	/* bookkeeping, read by reports */
	bool missed;              /* behind by more than the bucket for more than a tick */
	uint64_t missed_events;   /* times it became so */
	uint64_t sends;
	double cost_sent;         /* units (bits at the layer, or frames) */
	double dropped;           /* units of credit forfeited after stalls */
};

/**
 * pacer_init - set up a pacer starting at @now_ns
 * Return: 0, or -EINVAL for a negative or non-finite rate, a step without
 * time, more than PACER_MAX_STEPS steps, no size, or an MSS too small.
 */
int pacer_init(struct pacer *p, const struct pacer_cfg *c, uint64_t now_ns);

/**
 * pacer_due - how many sends are due at @now_ns
 *
 * At most the bucket's worth (plus a group in burst mode); when the ring is
 * further behind than that, the excess credit is forfeited (@dropped), and
 * if that lasts longer than a tick @missed is set. An unlimited pacer
 * returns PACER_UNLIMITED. The caller may send fewer; it charges what it
 * sent with pacer_sent().
 */
unsigned pacer_due(struct pacer *p, uint64_t now_ns);

/* Charge one send of @size payload bytes. */
void pacer_sent(struct pacer *p, uint64_t size);

/*
 * When the next send is due (absolute ns, the clock @now_ns came from):
 * @now_ns when one is due already, UINT64_MAX when none ever will be.
 */
uint64_t pacer_next_ns(const struct pacer *p, uint64_t now_ns);

/* The target rate (units per second) @t_ns after the start. */
double pacer_rate_at(const struct pacer *p, uint64_t t_ns);
/* Cost units of one send of @size bytes: bits at the layer, or frames. */
double pacer_cost(const struct pacer *p, uint64_t size);
/* What was charged so far, per second since the start (not rounded in any way). */
double pacer_achieved(const struct pacer *p, uint64_t now_ns);

/**
 * pacer_split - the rate one pacer gets
 * @rate: as given, for @per
 * @queues, @streams: the run's queues, and streams per queue
 * @streams_paced: streams this pacer drives: @streams for a pacer per ring,
 * 1 for a pacer per stream
 */
double pacer_split(double rate, enum pacer_per per, unsigned queues, unsigned streams,
		   unsigned streams_paced);

/*
 * Streams that share one pacer (a pacer per ring) take turns, one send at a
 * time. The turn moves on only when a stream is served, to the stream after
 * it; a batch that finds nothing due leaves it where it is. (It used to
 * move once per batch: a paced ring wakes twice per due send, once for the
 * send and once for its completion, so with 2 streams the turn was back on
 * the same stream at every due send and the other one never sent.)
 */
struct pacer_turn {
	unsigned n;               /* streams */
	unsigned next;            /* whose turn it is */
};

/*
 * What pacer_turn_fill() asks of a stream @si: queue one send and charge
 * it. Return: the sends (datagrams) it charged, 0 when this stream cannot
 * take one now (dead, at its depth), or -1 when the ring can take no more
 * (no free slot or SQE): the batch ends there.
 */
typedef int (*pacer_turn_send_fn)(void *ctx, unsigned si);

static inline void pacer_turn_init(struct pacer_turn *t, unsigned n)
{
	t->n = n ? n : 1;
	t->next = 0;
}

/* @si was served: the stream after it is next. */
static inline void pacer_turn_served(struct pacer_turn *t, unsigned si)
{
	t->next = si + 1 < t->n ? si + 1 : 0;
}

/**
 * pacer_turn_fill - queue one batch: the streams in turn, one send each
 * time round, until the budget is spent or a whole round serves no one
 * @budget: sends allowed now, lowered by what is sent: @nbudget entries,
 * one for all the streams (1) or one per stream (@t->n); an entry of
 * PACER_UNLIMITED is not lowered
 * @send: queues and charges one send (see pacer_turn_send_fn)
 * Return: the sends charged. Static inline so that @send inlines into the
 * engine's hot path.
 */
static inline unsigned pacer_turn_fill(struct pacer_turn *t, unsigned *budget, unsigned nbudget,
				       pacer_turn_send_fn send, void *ctx)
{
	unsigned si = t->next, idle = 0, sent = 0;

	while (idle < t->n) {
		unsigned *b = &budget[nbudget > 1 ? si : 0];
		int r = *b ? send(ctx, si) : 0;

		if (r < 0)
			break;
		if (r > 0) {
			/* a GSO send may run ahead of the schedule by up to gso - 1 datagrams */
			if (*b != PACER_UNLIMITED)
				*b = *b > (unsigned)r ? *b - (unsigned)r : 0;
			sent += (unsigned)r;
			pacer_turn_served(t, si);
			idle = 0;
		} else {
			idle++;
		}
		si = si + 1 < t->n ? si + 1 : 0;
	}
	return sent;
}

#endif
