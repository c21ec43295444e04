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
	bool no_bytes;           /* the source counts packets only (qdisc-drops): tx_bytes unknown */
	unsigned tx_queue;       /* the device's TX queue (ranks sharing a host: not the ring's index) */
	uint64_t tx_bytes, tx_packets;
	double share;            /* of all TX-queue bytes (no_bytes: packets) */
	const char *source;      /* "mq-qdisc", "netdev-netlink", "driver-stats", "qdisc-drops" */
};

/* One-way latency as a zcgen sink measured it (docs/sink.md, "Latency"). */
struct report_latency {
	bool present;            /* the server sent it (a zcgen sink, UDP) */
	bool valid;              /* few or no arrivals before their send time */
	double p50, p90, p99, p99_9, max, mean;   /* microseconds */
	uint64_t count, negative;
};

/* What only a zcgen sink reports (its zcgen_* keys); extra false: none came. */
struct report_receiver_extra {
	bool extra;
	struct report_latency lat;
	bool verified;           /* corrupt_* known: the sink checked the payload */
	uint64_t corrupt_bytes, corrupt_datagrams, duplicates, reordered;
};

/* One data stream as the receiver (the server) counted it. */
struct report_receiver_stream {
	int id;                  /* the server's stream id (iperf3: 1, 3, 4, ...) */
	unsigned queue, stream;  /* which of zcgen's streams it is */
	uint64_t bytes;          /* payload received */
	uint64_t packets, lost;  /* UDP: datagrams received and lost */
	/*
	 * UDP: datagrams zcgen sent after the last one the server saw. iperf3
	 * counts loss from gaps in the sequence, so drops at the very end are
	 * neither received nor lost in its count.
	 */
	uint64_t tail_lost;
	double jitter_ms;        /* UDP */
	struct report_receiver_extra x;  /* UDP, zcgen sinks */
};

/* The receiver's counts from a control protocol's result exchange. */
struct report_receiver {
	const char *source;      /* "iperf3" or "zcgen" */
	bool udp;
	uint64_t bytes, packets, lost, tail_lost;
	double jitter_ms;        /* UDP: the mean over streams, as iperf3 shows it */
	struct report_receiver_extra x;  /* sums over streams; lat over all of them (the sink's) */
	unsigned n;
	const struct report_receiver_stream *streams;
};

struct report_ctx {
	const struct engine_plan *plan;
	const struct engine_result *res;
	const struct report_nic_queue *nic; /* nq entries, or NULL */
	double steering;                     /* < 0: not measured */
	const char *nic_note;                /* what was applied, or why not */
	const struct cpustat_delta *cpu;     /* CPU cost over the run, or NULL */
	const struct report_receiver *receiver; /* the server's counts, or NULL (server: none) */
	const char *server_note;             /* the control protocol's notes, or NULL */
	const char *lab;                     /* --lab: "veth" or "drop" (environment.lab); NULL */
	bool colour;
};

/**
 * report_latency_json() - the latency_us object of every report (run, sink, ndr)
 * @l: the figures, microseconds
 * @with_valid: add l->valid as "valid" (ndr's trials, which have no latency_valid beside it)
 *
 * Return: {p50, p90, p99, p99_9, max, mean, count[, valid]}, or null where
 * !l->present. New reference.
 */
json_t *report_latency_json(const struct report_latency *l, bool with_valid);

/* The final per-queue table and total row. */
void report_table(FILE *out, const struct report_ctx *r);
/* One live line for an interval. */
void report_interval(FILE *out, const struct engine_plan *plan, const struct engine_interval *iv);
/* The whole run as JSON (schema: docs/json.md). New reference. */
json_t *report_json(const struct report_ctx *r);
/* One intervals[] entry (also --json-stream's interval event). New reference. */
json_t *report_interval_json(const struct engine_plan *plan, const struct engine_interval *iv);
/* {schema, environment, plan}: --json-stream's start event, before anything is sent. */
json_t *report_start_json(const struct engine_plan *plan);
/* One row per queue and interval. */
void report_csv(FILE *out, const struct report_ctx *r);
/* The resolved profile as JSON (also for --dry-run --json). */
json_t *report_profile_json(const struct gen_profile *p);
/* The profile's nic: section as written (--dry-run without its device). */
void report_nic_section(FILE *out, const struct gen_nic_cfg *nic);
/* The resolved plan, for --dry-run. */
void report_plan(FILE *out, const struct engine_plan *plan);
/* Name of an errno value ("ECONNREFUSED"), or its number. */
const char *report_errno_name(int err, char *buf, size_t len);

/*
 * report_mode_used() - how the rings sent in the end: the plan's mode, or
 * "copy" when mode auto switched every ring to copy ("mixed" for some).
 */
const char *report_mode_used(const struct engine_plan *plan, const struct engine_result *res);

#endif
