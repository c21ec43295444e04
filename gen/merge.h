/* merge.h - one report from several runs' JSON: a fleet's ranks, or `zcgen merge`'s files */
#ifndef ZCGEN_MERGE_H
#define ZCGEN_MERGE_H

#include <stdio.h>
#include <jansson.h>

/* One run's report and what is known of it besides. */
struct merge_in {
	json_t *report;       /* a single run's JSON (report_json()); {} for one with nothing */
	const char *host;
	double start_rt;      /* CLOCK_REALTIME when it started, its host's clock; NAN: unknown */
	double offset_s;      /* its clock minus the first one's; NAN: unknown */
};

/**
 * merge_reports() - the merged report of @n runs (docs/fleet.md, "The report")
 *
 * The first report's document with: `hosts` (one entry per run, in order:
 * rank, host, total, queues, intervals, receiver, plan, start_offset_s,
 * clock_offset_s; null where unknown), `host_steering` (one entry per
 * device that several runs on one host shared: their queues' shares of it
 * against their rings' bytes, and the steering figure of the lot), `queues` (every run's, each with its
 * rank), `total` (counts and rates summed, durations the longest: bytes is
 * the exact sum), the k-th `intervals` summed, and `receiver` summed when
 * any run had one. The caller adds its own summary object (`fleet`).
 * Return: a new reference, or NULL without memory.
 */
json_t *merge_reports(const struct merge_in *in, int n);

/* The text lines of @merged's host_steering (none when it has none). */
void merge_steering_print(FILE *out, json_t *merged);

#endif
