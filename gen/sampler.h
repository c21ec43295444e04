/* sampler.h - the interval sampler: ticks, the warm-up (omit) window, the last partial interval */
#ifndef ZCGEN_SAMPLER_H
#define ZCGEN_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>

/*
 * One sampler serves the run (gen/engine.c) and the sink (gen/cmd_sink.c).
 * Its caller owns the clock and the counters: it calls sampler_tick() with
 * the time and the counters' current values, gets back what changed since
 * the tick before, and keeps the intervals it wants. The sampler never
 * reads a clock, so its rules are unit tested with made-up times
 * (tests/unit_sampler.c).
 *
 * Times are monotonic nanoseconds. An interval's start and end count from
 * the end of the warm-up (the start when there is none).
 *
 * Ticks fall on a grid: the end of the warm-up plus whole intervals. A tick
 * that comes late (a busy CPU) ends a longer interval, and the next is due
 * at the next grid point after it, so that no interval is a sliver.
 */

struct sampler_cfg {
	unsigned n;            /* counters per sample */
	uint64_t interval_ns;  /* 0: no intervals, not even the last */
	uint64_t omit_ns;      /* the warm-up: no interval in it */
	/*
	 * The last interval (sampler_end()) shorter than this is a sliver:
	 * a signal just after a tick, or the drain after the duration's own
	 * tick. Its rate would say nothing.
	 */
	uint64_t sliver_ns;
	/*
	 * true: a sliver's counts join the interval before it (or, when there
	 * is none, it stands alone if it counted anything), so that the
	 * intervals add up to the total. false: a sliver is dropped (its
	 * counts stay in the totals only), so that the intervals given out
	 * live are the whole list.
	 */
	bool sliver_merge;
};

struct sampler {
	struct sampler_cfg cfg;
	uint64_t t_meas;       /* the warm-up ends: the measured part begins */
	uint64_t t_prev;       /* the tick before: the current interval's start */
	uint64_t t_next;       /* the next tick is due (UINT64_MAX: none) */
	bool measuring;        /* the warm-up is over */
	unsigned nint;         /* intervals given out, merges not counted */
	uint64_t *prev;        /* the counters at t_prev */
};

/* What a tick gave. */
enum sampler_what {
	SAMPLER_NONE,          /* nothing: in the warm-up, or a sliver dropped */
	SAMPLER_MEASURING,     /* the warm-up just ended: the counters are the base */
	SAMPLER_INTERVAL,      /* a new interval: @iv and @delta */
	SAMPLER_MERGE,         /* a sliver: add @delta to the interval before, which now ends at @iv's end */
};

/* An interval's span, in nanoseconds since the measured part began. */
struct sampler_span {
	uint64_t start_ns, end_ns;
};

/*
 * sampler_init - start sampling at @start_ns with @cfg (copied)
 * Return: 0, or -ENOMEM.
 */
int sampler_init(struct sampler *s, const struct sampler_cfg *cfg, uint64_t start_ns);
void sampler_free(struct sampler *s);

/* When the next tick is due (UINT64_MAX: never). */
static inline uint64_t sampler_due(const struct sampler *s)
{
	return s->t_next;
}

/*
 * sampler_tick - the counters @cur (cfg.n values, each never going down)
 * at @now, whether or not a tick is due (the run also ticks at the end of
 * its duration). The first tick at or after the warm-up's end only sets
 * the base.
 * Return: SAMPLER_NONE, SAMPLER_MEASURING, or SAMPLER_INTERVAL with @iv and
 * @delta (cfg.n values: @cur less the counters at the tick before).
 */
enum sampler_what sampler_tick(struct sampler *s, uint64_t now, const uint64_t *cur,
			       struct sampler_span *iv, uint64_t *delta);

/*
 * sampler_end - the last, partial interval: the final counters @cur at
 * @now (the moment the counting stopped).
 * Return: SAMPLER_NONE (no intervals, still in the warm-up, or a sliver
 * dropped), SAMPLER_INTERVAL, or SAMPLER_MERGE (cfg.sliver_merge).
 */
enum sampler_what sampler_end(struct sampler *s, uint64_t now, const uint64_t *cur,
			      struct sampler_span *iv, uint64_t *delta);

/* The measured part's length if it ended at @end: 0 when the warm-up never ended. */
uint64_t sampler_measured_ns(const struct sampler *s, uint64_t end);

#endif
