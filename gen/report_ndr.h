/* report_ndr.h - `zcgen ndr`'s report: a trial's figures and one row per frame size, as text and JSON */
#ifndef ZCGEN_REPORT_NDR_H
#define ZCGEN_REPORT_NDR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "gen/report.h"
#include "gen/expect_eval.h"

#define NDR_MAX_SIZES 32
#define NDR_MAX_LOADS 8
#define NDR_MAX_TRIALS_ALL 64        /* per size: the search's and the latency loads' */
/* Ethernet L1 adds preamble 7 + SFD 1 + inter-frame gap 12 to a frame */
#define ETH_L1_EXTRA 20
#define NDR_SCHEMA "zcgen-ndr/1"

enum trial_kind { TRIAL_CEILING, TRIAL_SEARCH, TRIAL_LATENCY };

struct ndr_trial {
	enum trial_kind kind;
	double asked_fps;            /* 0: unpaced */
	double load_pct;             /* TRIAL_LATENCY: of the rate found */
	/* counted: datagrams zcgen sent and the receiver got, over the measured time */
	uint64_t sent, received;
	double duration_s;
	/* from those, by report_ndr_trial_figures() */
	double offered_fps, received_fps, loss_pct;
	bool sender_missed, passed;
	struct report_latency lat;
};

struct ndr_size {
	unsigned frame;
	uint64_t payload;
	struct ndr_trial t[NDR_MAX_TRIALS_ALL];
	unsigned nt;
	int best;                    /* index of the passing trial at the rate found; -1 none */
	double ceiling_fps;
	bool done, sender_limited;
	unsigned sender_repeats;     /* trials repeated because zcgen missed the rate (NDR_SENDER_REPEATS) */
	char err[600];
};

/* One frame size's row: the rate found and what it carries. */
struct report_ndr_row {
	const struct ndr_size *sz;
	const struct ndr_trial *best; /* the passing trial at the rate found; NULL: none */
	double fps;                  /* frames/s found; 0 when none */
	double l1_bps, l2_bps;       /* that rate with the L1 extra and without */
};

struct report_ndr {
	unsigned n;
	struct report_ndr_row rows[NDR_MAX_SIZES];
};

/* The search's settings and where it ran: the JSON's top-level keys. */
struct report_ndr_params {
	double loss_pct, precision;  /* percent */
	uint64_t trial_ns, settle_ns;
	const char *dest, *server;
	bool lab, interrupted;
};

/**
 * report_ndr_trial_figures() - offered and received frames/s and the loss of a trial
 * @t: sent, received and duration_s set; offered_fps, received_fps, loss_pct set here
 *
 * Loss counts what zcgen sent against what the receiver got (a lost tail
 * counts too); more received than sent (duplicates) is no loss, never a
 * negative one, and a trial of no time has no rate.
 */
void report_ndr_trial_figures(struct ndr_trial *t);

/* The rows of @n sizes (at most NDR_MAX_SIZES); @szs must outlive @r. */
void report_ndr_make(struct report_ndr *r, const struct ndr_size *szs, unsigned n);

/* One trial's live line. */
void report_ndr_trial(FILE *out, const struct ndr_size *sz, const struct ndr_trial *t);
/* The table of every size. */
void report_ndr_text(FILE *out, const struct report_ndr *r);
/* The report as JSON (docs/ndr.md), with expect's verdict when @ex checked one. New reference, or NULL. */
json_t *report_ndr_json(const struct report_ndr *r, const struct report_ndr_params *p,
			const struct expect_result *ex);

#endif
