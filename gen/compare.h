/* compare.h - `zcgen compare`'s pure parts: statistics over repeats, ratios, parsing the tools' JSON, argument vectors */
#ifndef ZCGEN_COMPARE_H
#define ZCGEN_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define CMP_MAX_REPEAT 100
#define CMP_ARGV_MAX 64

/*
 * The figures compared, one per row of the totals block and one key of the
 * JSON's total objects. A value is NAN where a tool does not give it (iperf3
 * counts no TCP sends; UDP has no retransmits; the receiver's kernel
 * counters are only read inside the lab).
 */
enum cmp_metric {
	CMP_BPS,          /* bits sent per second */
	CMP_RX_BPS,       /* bits the receiver got per second, as it reported them */
	CMP_PPS,          /* UDP: datagrams sent per second; TCP: sends per second (zcgen only) */
	CMP_RX_PPS,       /* UDP: datagrams that arrived per second (as the iperf3 server counted them) */
	CMP_RETRANS,      /* TCP retransmits, whole run */
	CMP_CPU,          /* system-wide busy CPU-seconds over the tool's run (/proc/stat) */
	CMP_CPU_GB,       /* CMP_CPU per 1e9 bytes sent */
	CMP_RX_COUNT,     /* the receiving namespace's TCP InSegs or UDP InDatagrams delta */
	CMP_RX_COUNT_PS,  /* the same per second of the run's measured time */
	CMP_NMETRICS
};

struct cmp_metric_info {
	const char *key_tcp, *key_udp; /* JSON key; NULL: not reported for that protocol */
	const char *label_tcp, *label_udp; /* row label in the text totals block */
	double scale;                  /* value / scale is printed */
	int decimals;
};

/* The table behind the text and JSON outputs. */
const struct cmp_metric_info *cmp_metric(enum cmp_metric m);
/* The metric's JSON key for the protocol, or NULL when it has none. */
const char *cmp_metric_key(enum cmp_metric m, bool udp);

/* One tool's result for one repeat. */
struct cmp_run {
	double v[CMP_NMETRICS];
	double duration_s;        /* measured time as the tool reported it */
	uint64_t bytes;           /* bytes sent in it */
	json_t *rows;             /* zcgen: per-queue rows; iperf3: per-stream rows (owned) */
	json_t *extra;            /* zcgen: its receiver object; iperf3: cpu_utilization_percent, UDP loss (owned) */
	json_t *report;           /* the tool's whole JSON document (owned) */
	char version[64];         /* iperf3's version string ("iperf 3.12"), "" for zcgen */
};

/* Every value NAN, pointers NULL. */
void cmp_run_init(struct cmp_run *r);
void cmp_run_free(struct cmp_run *r);

/**
 * cmp_run_set_cpu() - fill CMP_CPU and CMP_CPU_GB
 * @r: the run, with @r->bytes set
 * @busy_s: system-wide busy CPU-seconds over the run
 */
void cmp_run_set_cpu(struct cmp_run *r, double busy_s);

/**
 * cmp_run_set_rx() - fill CMP_RX_COUNT and CMP_RX_COUNT_PS from two counter readings
 * @r: the run, with @r->duration_s set
 * @before: the receiving namespace's counter before the run
 * @after: and after it; a counter that went backwards gives NAN
 */
void cmp_run_set_rx(struct cmp_run *r, uint64_t before, uint64_t after);

/* Median, minimum and maximum of the values that are not NAN. */
struct cmp_stat {
	bool valid;               /* at least one value */
	unsigned n;
	double median, min, max;
};

/**
 * cmp_stat() - statistics over repeats
 * @v: values, NAN for "not known"
 * @n: their number
 * @out: filled; valid false when no value is known. The median of an even
 *       count is the mean of the two middle values.
 */
void cmp_stat(const double *v, unsigned n, struct cmp_stat *out);

/**
 * cmp_ratio() - @num / @den
 * Return: 0 with *@out set, or -EDOM when either is NAN or @den is 0
 * (*@out is then NAN).
 */
int cmp_ratio(double num, double den, double *out);

/**
 * cmp_iperf3_parse() - read an iperf3 3.x client's -J output
 * @text: the document
 * @udp: the test was UDP (end.sum_sent/sum_received carry packets and loss)
 * @out: filled (initialised here; free with cmp_run_free even on error)
 * @err: iperf3's own "error" text, or what is missing
 * @errlen: its size
 *
 * TCP: end.sum_sent (bytes, bits_per_second, seconds, retransmits),
 * end.sum_received.bits_per_second, end.streams[].sender/receiver.
 * UDP: end.sum_sent (bytes, packets, seconds), end.sum_received (packets,
 * lost_packets, bits_per_second, jitter_ms), end.streams[].udp.
 *
 * Return: 0; -EIO when the document has an "error" key (iperf3 3.12 exits 0
 * then); -EINVAL when it is not JSON or lacks the sums.
 */
int cmp_iperf3_parse(const char *text, bool udp, struct cmp_run *out, char *err, size_t errlen);

/**
 * cmp_zcgen_parse() - read a `zcgen run --json` report
 * @text: the document
 * @udp: UDP run (received datagrams from the receiver object)
 * @out: filled (initialised here; free with cmp_run_free even on error)
 * @err: what is missing
 * @errlen: its size
 *
 * total.bytes, bits_per_second, sends_per_second, duration_s, retransmits;
 * the received rate from total.received_bits_per_second, else
 * receiver.bits_per_second; UDP arrivals from receiver.packets (datagrams
 * received; iperf3's own -J counts packets + lost there instead).
 *
 * Return: 0 or -EINVAL.
 */
int cmp_zcgen_parse(const char *text, bool udp, struct cmp_run *out, char *err, size_t errlen);

/**
 * cmp_snmp_parse() - TCP InSegs and UDP InDatagrams from a /proc/net/snmp text
 * Return: 0, or -EINVAL when either is missing.
 */
int cmp_snmp_parse(const char *text, uint64_t *tcp_in_segs, uint64_t *udp_in_datagrams);

/* An argument vector with its strings stored inside it. */
struct cmp_argv {
	char *v[CMP_ARGV_MAX + 1]; /* NULL-terminated */
	unsigned n;
	char store[4096];
	size_t used;
	bool overflow;            /* an argument did not fit: do not run it */
};

void cmp_argv_init(struct cmp_argv *a);
/* Append one printf-formatted argument. */
void cmp_argv_add(struct cmp_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* What the iperf3 client is asked to do. */
struct cmp_iperf3_args {
	const char *exe;          /* "iperf3" or a path */
	const char *host;
	unsigned port;
	bool udp;
	bool zerocopy;            /* -Z (TCP only: iperf3 has no zero-copy UDP) */
	unsigned duration_s;      /* -t takes whole seconds */
	unsigned omit_s;          /* -O; 0: not passed */
	unsigned parallel;        /* -P: queues x streams */
	uint64_t size;            /* -l */
};

/**
 * cmp_iperf3_argv() - `iperf3 -c HOST -p PORT -J -t DUR -P N -l SIZE [-Z | -u -b 0] [-O S]`
 * Return: 0 or -E2BIG.
 */
int cmp_iperf3_argv(const struct cmp_iperf3_args *ia, struct cmp_argv *a);

/* The argv as one line for messages, words with spaces or quotes in '' */
void cmp_argv_str(const struct cmp_argv *a, char *buf, size_t len);

#endif
