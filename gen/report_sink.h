/* report_sink.h - `zcgen sink`'s report: rows computed once, printed as text, JSON and metrics */
#ifndef ZCGEN_REPORT_SINK_H
#define ZCGEN_REPORT_SINK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "gen/sink.h"

/* One interval: bytes per worker in it. */
struct sink_interval {
	uint64_t start_ns, end_ns;    /* relative to the start */
	uint64_t *bytes;              /* per worker, bytes of the measured part in this interval */
	uint64_t omitted;             /* all workers: bytes of the senders' warm-up in it */
};

/* One worker's row. */
struct report_sink_worker {
	const struct sink_worker_result *w;
	uint64_t active_ns;           /* its streams' first to last byte (0: none came) */
	double bps;                   /* over active_ns, not the whole time it listened */
};

/* One plain stream's or connection's row. */
struct report_sink_stream {
	const struct sink_stream_result *s;
	uint64_t active_ns;           /* first to last byte of the measured part */
	double bps, loss_pct;
};

/* One iperf3 test's row; its streams' rates are over the test's duration. */
struct report_sink_test {
	const struct sink_iperf3_test *t;
	uint64_t dur_ns;              /* TEST_START to TEST_END (0: it never ended) */
	uint64_t bytes, client_bytes; /* sums over its streams */
	double bps;
};

/* Sums over every worker and stream. */
struct report_sink_total {
	uint64_t bytes, packets, lost, reordered, duplicates, too_late, highest;
	uint64_t omitted_bytes, omitted_packets;
	uint64_t foreign, foreign_bytes, connections, resets, truncated;
	uint64_t iperf3_denied, corrupt_bytes, corrupt_datagrams;
	uint64_t gro_receives, ts_kernel, ts_user;
	uint64_t first_ns, last_ns;   /* span of all streams' activity */
	uint64_t active_ns;           /* last_ns - first_ns */
	uint64_t listen_ns;           /* sink_start() to sink_stop() */
	double bps, loss_pct;         /* over active_ns; lost over the highest sequences */
};

/* The sink's results as rows; every form below prints these. */
struct report_sink {
	struct sink_cfg cfg;          /* protocol, verify, gro (host not kept) */
	const struct sink_result *res;
	struct report_sink_total t;
	struct report_sink_worker *w; /* res->n_workers */
	struct report_sink_stream *s; /* res->n_streams */
	struct report_sink_test *tests; /* res->n_tests */
};

/**
 * report_sink_make() - compute the rows of a sink's results
 * @rep: filled in; report_sink_free() it
 * @cfg: what the sink listened for (protocol, verify, gro)
 * @res: its results; must outlive @rep
 *
 * Return: 0, or -ENOMEM.
 */
int report_sink_make(struct report_sink *rep, const struct sink_cfg *cfg,
		     const struct sink_result *res);
void report_sink_free(struct report_sink *rep);

/* The final tables and summary lines. */
void report_sink_text(FILE *out, const struct report_sink *rep);
/* The whole report as JSON (docs/json.md, "zcgen sink"). New reference. */
json_t *report_sink_json(const struct report_sink *rep, const char *local,
			 const struct sink_interval *iv, unsigned n_iv);

/* One live line for an interval. */
void report_sink_interval(FILE *out, const struct sink_interval *iv, unsigned nw);
/* One intervals[] entry (also --json-stream's interval event). New reference. */
json_t *report_sink_interval_json(const struct sink_interval *iv, unsigned nw);
/* --json-stream's start event. New reference. */
json_t *report_sink_start_json(const struct sink_cfg *cfg, const char *local, unsigned nw);

/**
 * report_sink_metrics() - write --metrics' Prometheus file
 * @path: the file, replaced atomically
 * @nw: workers
 * @bytes: bytes per worker since the start (while running; NULL at the end)
 * @rep: at the end, the rows (packets per worker, loss over every UDP stream); else NULL
 *
 * Return: 0, or -errno.
 */
int report_sink_metrics(const char *path, unsigned nw, const uint64_t *bytes,
			const struct report_sink *rep);

/* "tcp", "udp" or "both" for a sink_cfg.protocol. */
const char *report_sink_proto_name(int protocol);

#endif
