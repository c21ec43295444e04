/* report_compare.h - `zcgen compare`'s report: per-metric statistics computed once, as text and JSON */
#ifndef ZCGEN_REPORT_COMPARE_H
#define ZCGEN_REPORT_COMPARE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "gen/gen.h"
#include "gen/compare.h"

/* What both tools were asked to do, and where: the JSON's environment. */
struct report_compare_env {
	const char *kernel;
	const char *host;
	unsigned port;
	bool lab;
	const char *rx_netns;       /* the receiving namespace (lab); NULL without */
	bool rx_counter;            /* our own iperf3 -s: that namespace's counter was read */
	const char *server_cpus;    /* our iperf3 -s's CPUs; NULL or "": not pinned */
	unsigned queues, streams;
	uint64_t size;
	enum gen_mode mode;
	const char *cpus;
	unsigned dur_s, omit_s;
	const char *zcgen_cmd, *iperf3_cmd;  /* the two command lines */
};

/* One metric over the repeats: each tool's median [min..max] and their ratio. */
struct report_compare_metric {
	const char *key;            /* JSON key for the protocol; NULL: not reported */
	const char *label;          /* text label; NULL: not in the text */
	struct cmp_stat z, p;
	/* median: the ratio of the medians (valid: it exists); min, max: of the per-repeat ratios */
	struct cmp_stat ratio;
};

struct report_compare {
	bool udp;
	unsigned n;                 /* repeats done */
	const struct cmp_run *z, *p;
	unsigned z_median, p_median; /* the repeats nearest the median bit rate: their rows are shown */
	struct report_compare_metric m[CMP_NMETRICS];
};

/**
 * report_compare_make() - the statistics of @n repeats of each tool
 * @r: filled in; keeps @z and @p, which must outlive it
 * @udp: the protocol (which metrics apply)
 */
void report_compare_make(struct report_compare *r, bool udp, const struct cmp_run *z,
			 const struct cmp_run *p, unsigned n);

/* One repeat's progress line (@i from 0; zcgen ran first in even repeats). */
void report_compare_repeat(FILE *out, unsigned i, unsigned of, const struct cmp_run *z,
			   const struct cmp_run *p);
/* The median repeats' rows and the totals. */
void report_compare_text(FILE *out, const struct report_compare *r,
			 const struct report_compare_env *env);
/* The comparison as JSON (docs/compare.md). New reference. */
json_t *report_compare_json(const struct report_compare *r, const struct report_compare_env *env);

#endif
