/* report_offload.h - `zcgen offload-check`'s report: each offload's verdict and figures, as text and JSON */
#ifndef ZCGEN_REPORT_OFFLOAD_H
#define ZCGEN_REPORT_OFFLOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "gen/gen.h"
#include "gen/offload.h"
#include "gen/expect_eval.h"

/* One offload's check: its verdict, the figures of each state, what else moved. */
struct oc_result {
	char name[64];
	enum offload_verdict verdict;
	char evidence[700];
	bool measured;
	struct offload_figures on, off;
	char kernel[OFFLOAD_GROUP_MAX][ETH_GSTRING_LEN];
	unsigned n_kernel;
	char changed_with[64][ETH_GSTRING_LEN];
	unsigned n_changed;
	const char *needs[OFFLOAD_NEEDS_MAX];
	unsigned n_needs;
	char note[300];
};

/* The check as a whole: what ran where, and the results. */
struct report_offload {
	const char *dev;
	unsigned mtu;
	const char *dest;            /* the plan's destination */
	const char *rx_host;         /* a verifying sink of our own per run, its address; NULL: none */
	enum gen_proto proto;
	enum gen_mode mode;
	uint64_t size;               /* bytes per send */
	unsigned queues, repeat;
	double duration_s;           /* per run */
	const struct oc_result *r;
	unsigned n;
};

/* The lines before the first offload: the device, the traffic, the receiver. */
void report_offload_header(FILE *out, const struct report_offload *rep);
/* One offload's verdict, its table (on, off) and notes. */
void report_offload_result(FILE *out, const struct oc_result *r);
/*
 * The check as JSON (docs/json.md, "offload-check"); @restored: every
 * feature was put back; @ex: expect's verdict, or NULL. New reference, or NULL.
 */
json_t *report_offload_json(const struct report_offload *rep, bool restored,
			    const struct expect_result *ex);

#endif
