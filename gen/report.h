/* report.h - a run's results as a table, JSON and CSV, all from one set of rows */
#ifndef ZCGEN_REPORT_H
#define ZCGEN_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>
#include "gen/engine.h"
#include "gen/cpustat.h"

/* Extra per-queue figures from the NIC, filled by the run command when it has them. */
struct report_nic_queue {
	bool valid;
	uint64_t tx_bytes, tx_packets;
	double share;            /* of all TX-queue bytes */
	const char *source;      /* "mq-qdisc", "netdev-qstats", "driver-stats" */
};

struct report_ctx {
	const struct engine_plan *plan;
	const struct engine_result *res;
	const struct report_nic_queue *nic; /* nq entries, or NULL */
	double steering;                     /* < 0: not measured */
	const char *nic_note;                /* what was applied, or why not */
	const struct cpustat_delta *cpu;     /* CPU cost over the run, or NULL */
	bool colour;
};

/* The final per-queue table and total row. */
void report_table(FILE *out, const struct report_ctx *r);
/* One live line for an interval. */
void report_interval(FILE *out, const struct engine_plan *plan, const struct engine_interval *iv);
/* The whole run as JSON (schema: docs/json.md). New reference. */
json_t *report_json(const struct report_ctx *r);
/* One row per queue and interval. */
void report_csv(FILE *out, const struct report_ctx *r);
/* The resolved profile as JSON (also for --dry-run --json). */
json_t *report_profile_json(const struct gen_profile *p);
/* The resolved plan, for --dry-run. */
void report_plan(FILE *out, const struct engine_plan *plan);
/* Name of an errno value ("ECONNREFUSED"), or its number. */
const char *report_errno_name(int err, char *buf, size_t len);

#endif
