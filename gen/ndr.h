/* ndr.h - RFC 2544 throughput / NDR / PDR search: which rate to try next, and when it is found */
#ifndef ZCGEN_NDR_H
#define ZCGEN_NDR_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A pure state machine, no I/O: the command (gen/cmd_ndr.c) runs the trials
 * it proposes and feeds back each result. One search per frame size.
 *
 *   ndr_init()  ->  ndr_next() says CEILING: run unpaced, report it
 *               ->  ndr_next() says TRIAL at rate R: run paced at R, report it
 *               ->  ...
 *               ->  ndr_next() says DONE (or FAILED): read the outcome
 *
 * Method (docs/ndr.md): the first trial is unpaced and measures what zcgen
 * itself can offer (the ceiling, the upper bound). If it passes, the path
 * was not the limit: the result is the ceiling, sender-limited. Otherwise
 * the rate the receiver got during that overload is the first guess; from
 * it the search gallops (steps of precision x 1, 2, 4, ... times the rate,
 * never beyond the middle of the bracket) until it has a passing rate below
 * a failing one, then bisects that bracket geometrically until the failing
 * rate is within @precision of the passing one. RFC 2544's plain binary
 * search is the same without the guess and the galloping.
 */

#define NDR_DEFAULT_MAX_TRIALS 40

enum ndr_step { NDR_CEILING, NDR_TRIAL, NDR_DONE, NDR_FAILED };

/* Why the search stopped without a rate (NDR_FAILED). */
enum ndr_fail {
	NDR_FAIL_NONE,
	NDR_FAIL_NO_PASS,        /* every rate down to the floor failed */
	NDR_FAIL_TRIALS,         /* the trial limit came first (lo: the best pass so far, if any) */
	NDR_FAIL_CEILING,        /* the unpaced trial sent nothing */
};

struct ndr_cfg {
	double loss_pct;         /* a trial passes at loss <= this (0: NDR) */
	double precision;        /* relative, 0 < p < 1: stop when fail <= pass x (1 + p) */
	double floor_fps;        /* no trial below this rate: below it, no rate passes */
	unsigned max_trials;     /* ceiling included; 0: NDR_DEFAULT_MAX_TRIALS */
};

/* One trial's result, as the command measured it. */
struct ndr_result {
	double offered_fps;      /* what zcgen sent, per second of the trial */
	double received_fps;     /* what the receiver counted */
	double loss_pct;         /* (sent - received) / sent */
	bool sender_missed;      /* zcgen could not offer the rate asked (paced trials) */
};

struct ndr {
	struct ndr_cfg cfg;
	enum ndr_step step;
	enum ndr_fail fail;
	unsigned trials;
	double ceiling_fps;      /* what zcgen offered unpaced; 0 before */
	double lo, hi;           /* highest rate that passed (0: none), lowest that failed */
	bool hi_sender;          /* @hi failed only because zcgen missed the rate */
	double next;             /* NDR_TRIAL: the rate to try */
	double guess;            /* the receiver's rate under overload; 0: none */
	int gallop;              /* > 0: passes in a row before any fail; < 0: fails in a row */
	bool bracketed;          /* a pass and a paced fail seen: bisecting */
	bool sender_limited;     /* the result is zcgen's limit, not the path's */
	unsigned repeats;        /* the current rate's trials repeated because zcgen missed it */
	unsigned repeated;       /* such repeats over the whole search */
};

/*
 * A paced trial that failed only because zcgen did not offer the rate (no
 * loss over the threshold) measured the sender, not the device: a busy CPU
 * woke the ring late. It is repeated at the same rate up to this many
 * times before it counts as a failure (RFC 2544: a trial the tester did
 * not run as asked is not a result).
 */
#define NDR_SENDER_REPEATS 2

/**
 * ndr_cfg_check - is @cfg a search that can end?
 * Return: 0, or -EINVAL with the reason in @err.
 */
int ndr_cfg_check(const struct ndr_cfg *cfg, char *err, size_t errlen);

/** ndr_init - start a search; the first step is NDR_CEILING. @cfg must pass ndr_cfg_check(). */
void ndr_init(struct ndr *s, const struct ndr_cfg *cfg);

/**
 * ndr_passed - does @r pass the search's loss threshold (and was the rate offered)?
 */
bool ndr_passed(const struct ndr *s, const struct ndr_result *r);

/**
 * ndr_feed - report the result of the step ndr_next() proposed last.
 * Return: the next step (also in @s->step); with NDR_TRIAL, the rate in @s->next.
 */
enum ndr_step ndr_feed(struct ndr *s, const struct ndr_result *r);

/**
 * ndr_found - the throughput found: the highest rate that passed (the
 * ceiling when sender-limited); 0 when none did.
 */
double ndr_found(const struct ndr *s);

/** ndr_fail_name - the reason in words, for messages and the JSON. */
const char *ndr_fail_name(enum ndr_fail f);

#endif
