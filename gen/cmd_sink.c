/* cmd_sink.c - `zcgen sink`: options, live interval lines, final summary and JSON */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "gen/cmd.h"
#include "gen/metrics.h"
#include "gen/gen.h"
#include "gen/sampler.h"
#include "gen/sink.h"

struct sink_opts {
	char host[256];
	uint16_t port;
	bool listen_set;
	int protocol;
	unsigned queues;
	uint64_t duration_ns;     /* 0: until SIGINT/SIGTERM */
	uint64_t interval_ns;     /* 0: no interval lines */
	const char *json;
	bool json_stream;         /* --json-stream: start, interval and end events on stdout */
	const char *metrics;      /* --metrics FILE */
	bool quiet;
	bool verify;
	bool gro;
	unsigned max_tests;       /* --max-tests: iperf3 tests at once, 0: the default */
};

/* One interval: bytes per worker in it. */
struct sink_interval {
	uint64_t start_ns, end_ns;    /* relative to the start */
	uint64_t *bytes;              /* per worker, bytes of the measured part in this interval */
	uint64_t omitted;             /* all workers: bytes of the senders' warm-up in it */
};

static const char usage_text[] =
	"usage: zcgen sink --listen HOST:PORT [options]\n"
	"\n"
	"Receive traffic (from zcgen or anything else) and count it.\n"
	"\n"
	"  --listen HOST:PORT   address to listen on; IPv6 in brackets ([::]:5201);\n"
	"                       port 0 picks a free port (printed on the first line)\n"
	"  --protocol tcp|udp|both  the plain traffic expected (default tcp); the sink\n"
	"                       listens on both TCP and UDP anyway, for iperf3 clients\n"
	"  --verify             check every payload byte of plain streams (zcgen's pattern)\n"
	"  --gro                UDP_GRO on the UDP sockets: coalesced receives, split here\n"
	"  --queues N           worker threads, one io_uring and SO_REUSEPORT socket each (default 1)\n"
	"  --max-tests N        iperf3 tests served at once, one per client (1-1024, default 64);\n"
	"                       a client beyond them is told the server is busy\n"
	"  --duration TIME      stop after TIME (10s, 500ms, 2m); default: until SIGINT/SIGTERM\n"
	"  --interval TIME      live report interval (default 1s, 0: none)\n"
	"  --json FILE          write the results as JSON (docs/json.md); - for stdout (then\n"
	"                       everything else, the listening line too, goes to stderr)\n"
	"  --json-stream        one JSON line per event on stdout (start, interval, end);\n"
	"                       text goes to stderr\n"
	"  --metrics FILE       a Prometheus text file, replaced every interval (docs/sink.md)\n"
	"  --quiet              no interval lines\n"
	"  --help               this text\n";

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "zcgen sink: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'zcgen sink --help'.\n");
	return EXIT_USAGE;
}

/* HOST:PORT; units_hostport() wants ports 1-65535, the sink also takes 0. */
static int parse_listen(const char *arg, struct sink_opts *o)
{
	size_t len = strlen(arg);
	char tmp[300];

	if (!units_hostport(arg, o->host, sizeof(o->host), &o->port))
		return 0;
	if (len >= 2 && len < sizeof(tmp) && !strcmp(arg + len - 2, ":0")) {
		memcpy(tmp, arg, len + 1);
		tmp[len - 1] = '1';
		if (!units_hostport(tmp, o->host, sizeof(o->host), &o->port)) {
			o->port = 0;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct sink_opts *o, bool *help)
{
	enum { O_LISTEN = 256, O_PROTOCOL, O_QUEUES, O_DURATION, O_INTERVAL, O_JSON, O_QUIET, O_HELP,
	       O_VERIFY, O_GRO, O_JSON_STREAM, O_METRICS, O_MAX_TESTS };
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "protocol", required_argument, NULL, O_PROTOCOL },
		{ "queues", required_argument, NULL, O_QUEUES },
		{ "max-tests", required_argument, NULL, O_MAX_TESTS },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "json", required_argument, NULL, O_JSON },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "json-stream", no_argument, NULL, O_JSON_STREAM },
		{ "metrics", required_argument, NULL, O_METRICS },
		{ "verify", no_argument, NULL, O_VERIFY },
		{ "gro", no_argument, NULL, O_GRO },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	*help = false;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		switch (c) {
		case O_LISTEN:
			if (parse_listen(optarg, o))
				return usage_error("--listen: '%s' is not HOST:PORT "
						   "(IPv6 in brackets: [::1]:5201; port 0-65535)", optarg);
			o->listen_set = true;
			break;
		case O_PROTOCOL:
			if (!strcmp(optarg, "tcp"))
				o->protocol = IPPROTO_TCP;
			else if (!strcmp(optarg, "udp"))
				o->protocol = IPPROTO_UDP;
			else if (!strcmp(optarg, "both"))
				o->protocol = SINK_PROTO_BOTH;
			else
				return usage_error("--protocol: '%s' is not tcp, udp or both", optarg);
			break;
		case O_QUEUES:
			if (units_uint(optarg, 1, SINK_MAX_WORKERS, &v))
				return usage_error("--queues: '%s' is not a number from 1 to 256", optarg);
			o->queues = (unsigned)v;
			break;
		case O_MAX_TESTS:
			if (units_uint(optarg, 1, SINK_MAX_TESTS, &v))
				return usage_error("--max-tests: '%s' is not a number from 1 to %u", optarg,
						   SINK_MAX_TESTS);
			o->max_tests = (unsigned)v;
			break;
		case O_DURATION:
			if (units_time_ns(optarg, &o->duration_ns))
				return usage_error("--duration: '%s' is not a time (10s, 500ms, 2m)", optarg);
			break;
		case O_INTERVAL:
			if (units_time_ns(optarg, &o->interval_ns))
				return usage_error("--interval: '%s' is not a time (1s, 500ms)", optarg);
			if (o->interval_ns && o->interval_ns < 10 * 1000 * 1000ull)
				return usage_error("--interval: '%s' is shorter than 10ms", optarg);
			break;
		case O_JSON:
			o->json = optarg;
			break;
		case O_QUIET:
			o->quiet = true;
			break;
		case O_JSON_STREAM:
			o->json_stream = true;
			break;
		case O_METRICS:
			o->metrics = optarg;
			break;
		case O_VERIFY:
			o->verify = true;
			break;
		case O_GRO:
			o->gro = true;
			break;
		case 'h':
		case O_HELP:
			*help = true;
			return EXIT_OK;
		case 'v':
			return cmd_version() + 100;
		default:
			return cmd_bad_option("zcgen sink", longopts, argc, argv);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->listen_set)
		return usage_error("%s", "--listen HOST:PORT is required");
	if (o->json_stream && o->json && !strcmp(o->json, "-"))
		return usage_error("%s", "--json - and --json-stream both want standard output; write "
				   "the report to a file (--json FILE) or give one");
	if (o->metrics && !strcmp(o->metrics, "-"))
		return usage_error("%s", "--metrics -: the metrics go to a file that is replaced "
				   "atomically; name one");
	if (!cmd_output_check("zcgen sink", "json", o->json) ||
	    !cmd_output_check("zcgen sink", "metrics", o->metrics))
		return EXIT_USAGE;
	return EXIT_OK;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double bps(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes * 8e9 / (double)ns : 0.0;
}

static const char *proto_name(int protocol)
{
	return protocol == IPPROTO_UDP ? "udp" : protocol == SINK_PROTO_BOTH ? "both" : "tcp";
}

static const char *end_name(int end)
{
	return end == 0 ? "open" : end == 1 ? "closed" : "reset";
}

struct totals {
	uint64_t bytes, packets, lost, reordered, duplicates, too_late, highest;
	uint64_t omitted_bytes, omitted_packets;
	uint64_t foreign, foreign_bytes, connections, resets, truncated;
	uint64_t iperf3_denied, corrupt_bytes, corrupt_datagrams;
	uint64_t gro_receives, ts_kernel, ts_user;
	uint64_t first_ns, last_ns;   /* span of all streams' activity */
};

static void sum_up(const struct sink_result *r, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < r->n_workers; i++) {
		const struct sink_worker_result *w = &r->workers[i];

		t->bytes += w->bytes;
		t->packets += w->packets;
		t->omitted_bytes += w->omitted_bytes;
		t->omitted_packets += w->omitted_packets;
		t->foreign += w->foreign;
		t->foreign_bytes += w->foreign_bytes;
		t->connections += w->connections;
		t->resets += w->resets;
		t->truncated += w->truncated;
		t->iperf3_denied += w->iperf3_denied;
		t->corrupt_bytes += w->corrupt_bytes;
		t->corrupt_datagrams += w->corrupt_datagrams;
		t->gro_receives += w->gro_receives;
		t->ts_kernel += w->ts_kernel;
		t->ts_user += w->ts_user;
	}
	for (unsigned i = 0; i < r->n_streams; i++) {
		const struct sink_stream_result *s = &r->streams[i];

		t->lost += s->seq.lost;
		t->reordered += s->seq.reordered;
		t->duplicates += s->seq.duplicates;
		t->too_late += s->seq.too_late;
		t->highest += s->seq.highest;
		/* a stream with nothing measured (its warm-up only) has no active time */
		if (!s->bytes && !s->seq.packets && s->omitted_bytes)
			continue;
		if (!t->first_ns || s->first_ns < t->first_ns)
			t->first_ns = s->first_ns;
		if (s->last_ns > t->last_ns)
			t->last_ns = s->last_ns;
	}
}

static double loss_pct(uint64_t lost, uint64_t expected)
{
	return expected ? 100.0 * (double)lost / (double)expected : 0.0;
}

/* {p50, p90, p99, p99_9, max, mean, count} in us; null when nothing was timed. */
static json_t *latency_json(const struct lat_summary *l)
{
	if (!l->count)
		return json_null();
	return json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:I}", "p50", l->p50, "p90", l->p90,
			 "p99", l->p99, "p99_9", l->p99_9, "max", l->max, "mean", l->mean,
			 "count", (json_int_t)l->count);
}

static void latency_keys(json_t *o, const struct lat_summary *l, double jitter_s)
{
	json_object_set_new(o, "jitter_ms", json_real(jitter_s * 1e3));
	json_object_set_new(o, "latency_us", latency_json(l));
	json_object_set_new(o, "latency_negative", json_integer((json_int_t)l->negative));
	json_object_set_new(o, "latency_valid", json_boolean(l->valid));
}

static json_t *stream_json(const struct sink_stream_result *s)
{
	uint64_t active = s->last_ns - s->first_ns;
	bool udp = s->protocol == IPPROTO_UDP;
	json_t *js = json_pack("{s:s, s:s, s:s, s:I, s:I, s:f, s:f}",
		"peer", s->peer, "protocol", udp ? "udp" : "tcp",
		"source", s->iperf3_test ? "iperf3" : "plain", "worker", (json_int_t)s->worker,
		"bytes", (json_int_t)s->bytes, "active_s", (double)active / 1e9,
		"bits_per_second", bps(s->bytes, active));

	json_object_set_new(js, "omitted_bytes", json_integer((json_int_t)s->omitted_bytes));
	if (udp)
		json_object_set_new(js, "omitted_packets", json_integer((json_int_t)s->seq.omitted));
	if (s->iperf3_test) {
		json_object_set_new(js, "iperf3_test", json_integer(s->iperf3_test));
		json_object_set_new(js, "iperf3_id", json_integer(s->iperf3_id));
	}
	if (udp) {
		json_object_set_new(js, "packets", json_integer((json_int_t)s->seq.packets));
		json_object_set_new(js, "highest_seq", json_integer((json_int_t)s->seq.highest));
		json_object_set_new(js, "lost", json_integer((json_int_t)s->seq.lost));
		json_object_set_new(js, "loss_percent", json_real(udpseq_loss_pct(&s->seq)));
		json_object_set_new(js, "reordered", json_integer((json_int_t)s->seq.reordered));
		json_object_set_new(js, "duplicates", json_integer((json_int_t)s->seq.duplicates));
		json_object_set_new(js, "too_late", json_integer((json_int_t)s->seq.too_late));
		latency_keys(js, &s->lat, s->jitter_s);
	} else {
		json_object_set_new(js, "end", json_string(end_name(s->end)));
	}
	if (s->verified) {
		json_object_set_new(js, "corrupt_bytes", json_integer((json_int_t)s->corrupt_bytes));
		if (udp)
			json_object_set_new(js, "corrupt_datagrams",
					    json_integer((json_int_t)s->corrupt_datagrams));
	}
	return js;
}

/* @sink_start_ns: the sink's start (CLOCK_MONOTONIC), for the test's start_s and end_s. */
static json_t *iperf3_test_json(const struct sink_iperf3_test *t, uint64_t sink_start_ns)
{
	uint64_t bytes = 0, client_bytes = 0, dur = t->end_ns > t->start_ns ? t->end_ns - t->start_ns : 0;
	json_t *jt, *arr = json_array();

	for (unsigned k = 0; k < t->n_streams; k++) {
		const struct sink_iperf3_stream *st = &t->streams[k];
		json_t *js = json_pack("{s:i, s:s, s:I, s:I, s:f}", "id", st->id, "peer", st->peer,
			"worker", (json_int_t)st->worker, "bytes", (json_int_t)st->bytes,
			"bits_per_second", bps(st->bytes, dur));

		if (st->client_known)
			json_object_set_new(js, "client_bytes", json_integer((json_int_t)st->client_bytes));
		if (t->udp) {
			json_object_set_new(js, "packets", json_integer((json_int_t)st->packets));
			json_object_set_new(js, "highest_seq", json_integer((json_int_t)st->highest));
			json_object_set_new(js, "lost", json_integer((json_int_t)st->lost));
			json_object_set_new(js, "jitter_ms", json_real(st->jitter_s * 1e3));
			if (st->client_known)
				json_object_set_new(js, "client_packets",
						    json_integer((json_int_t)st->client_packets));
		}
		bytes += st->bytes;
		client_bytes += st->client_bytes;
		json_array_append_new(arr, js);
	}
	jt = json_pack("{s:i, s:s, s:s, s:i, s:i, s:I, s:I, s:s, s:s, s:f, s:I, s:f, s:o}",
		"test", (int)t->n, "peer", t->peer, "protocol", t->udp ? "udp" : "tcp",
		"parallel", (int)t->parallel, "time_s", (int)t->time_s, "len", (json_int_t)t->len,
		"bandwidth", (json_int_t)t->bandwidth, "client_version", t->client_version,
		"result", t->err ? "error" : "ok", "duration_s", (double)dur / 1e9,
		"bytes", (json_int_t)bytes, "bits_per_second", bps(bytes, dur), "streams", arr);
	if (t->err)
		json_object_set_new(jt, "error", json_string(t->msg));
	else
		json_object_set_new(jt, "client_bytes", json_integer((json_int_t)client_bytes));
	/* When the test ran on the sink's clock: tests of several clients at once overlap. */
	if (t->start_ns >= sink_start_ns)
		json_object_set_new(jt, "start_s", json_real((double)(t->start_ns - sink_start_ns) / 1e9));
	if (t->end_ns >= sink_start_ns && t->end_ns)
		json_object_set_new(jt, "end_s", json_real((double)(t->end_ns - sink_start_ns) / 1e9));
	return jt;
}

/* What the latency figures are, and how far to trust them. */
static const char *clock_note(const struct totals *t)
{
	if (t->ts_user && t->ts_kernel)
		return "one-way latency: arrival (the kernel's receive timestamp; for some datagrams "
		       "the clock read once per batch) minus the send time in the datagram's header, "
		       "CLOCK_REALTIME, microsecond resolution; valid only when sender and sink "
		       "share a clock (one host, the veth lab, PTP-synchronised hosts)";
	if (t->ts_user)
		return "one-way latency: arrival (CLOCK_REALTIME read once per completion batch: "
		       "no kernel receive timestamps) minus the send time in the datagram's header, "
		       "microsecond resolution; valid only when sender and sink share a clock "
		       "(one host, the veth lab, PTP-synchronised hosts)";
	return "one-way latency: arrival (the kernel's receive timestamp, CLOCK_REALTIME) minus "
	       "the send time in the datagram's header, microsecond resolution; valid only when "
	       "sender and sink share a clock (one host, the veth lab, PTP-synchronised hosts)";
}

/* How TCP streams are received, for the start-up line (gen/sink.h) */
static const char *tcp_receive_what(const struct sink_cfg *cfg)
{
	return sink_tcp_discard(cfg) ?
		"discard (recv with MSG_TRUNC: counted, nothing copied to user space)" :
		"copy (every byte read into user space and checked: --verify)";
}

/* The time a worker's data arrived over: its streams' first to last byte (0: none came). */
static uint64_t worker_active_ns(const struct sink_result *r, unsigned worker)
{
	uint64_t first = UINT64_MAX, last = 0;

	for (unsigned i = 0; i < r->n_streams; i++) {
		const struct sink_stream_result *s = &r->streams[i];

		if (s->worker != worker || !s->bytes)
			continue;
		if (s->first_ns < first)
			first = s->first_ns;
		if (s->last_ns > last)
			last = s->last_ns;
	}
	return last > first ? last - first : 0;
}

/* One intervals[] entry (also --json-stream's interval event). */
static json_t *interval_json(const struct sink_interval *iv, unsigned nw)
{
	uint64_t len = iv->end_ns - iv->start_ns, sum = 0;
	json_t *ws = json_array();

	for (unsigned k = 0; k < nw; k++) {
		sum += iv->bytes[k];
		json_array_append_new(ws, json_pack("{s:I, s:I, s:f}", "worker", (json_int_t)k,
			"bytes", (json_int_t)iv->bytes[k], "bits_per_second", bps(iv->bytes[k], len)));
	}
	/* start/end too: the names a run's intervals use */
	return json_pack("{s:f, s:f, s:f, s:f, s:I, s:f, s:I, s:o}",
		"start_s", (double)iv->start_ns / 1e9, "end_s", (double)iv->end_ns / 1e9,
		"start", (double)iv->start_ns / 1e9, "end", (double)iv->end_ns / 1e9,
		"bytes", (json_int_t)sum, "bits_per_second", bps(sum, len),
		"omitted_bytes", (json_int_t)iv->omitted, "workers", ws);
}

static json_t *build_json(const struct sink_opts *o, const char *local, const struct sink_result *r,
			  const struct sink_interval *iv, unsigned n_iv)
{
	json_t *root = json_object(), *arr, *total;
	struct totals t;

	sum_up(r, &t);
	json_object_set_new(root, "schema", json_integer(1));
	json_object_set_new(root, "listen", json_string(local));
	json_object_set_new(root, "protocol", json_string(proto_name(o->protocol)));
	json_object_set_new(root, "verify", json_boolean(o->verify));
	json_object_set_new(root, "gro", json_boolean(o->gro));
	{
		struct sink_cfg c = { .verify = o->verify };

		json_object_set_new(root, "tcp_receive",
				    json_string(sink_tcp_discard(&c) ? "discard" : "copy"));
	}
	json_object_set_new(root, "clock_note", json_string(clock_note(&t)));
	json_object_set_new(root, "duration_s", json_real((double)(r->stop_ns - r->start_ns) / 1e9));

	arr = json_array();
	for (unsigned i = 0; i < r->n_workers; i++) {
		const struct sink_worker_result *w = &r->workers[i];
		json_t *jw = json_pack("{s:I, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:b}",
			"worker", (json_int_t)w->worker, "cpu", w->cpu,
			"bytes", (json_int_t)w->bytes, "packets", (json_int_t)w->packets,
			"foreign", (json_int_t)w->foreign, "connections", (json_int_t)w->connections,
			"nobufs", (json_int_t)w->nobufs, "iperf3_denied", (json_int_t)w->iperf3_denied,
			"ring_fallback", w->ring_fallback);

		json_object_set_new(jw, "gro_receives", json_integer((json_int_t)w->gro_receives));
		json_object_set_new(jw, "omitted_bytes", json_integer((json_int_t)w->omitted_bytes));
		json_object_set_new(jw, "omitted_packets", json_integer((json_int_t)w->omitted_packets));
		json_object_set_new(jw, "active_s", json_real(worker_active_ns(r, w->worker) / 1e9));
		json_object_set_new(jw, "bits_per_second",
				    json_real(bps(w->bytes, worker_active_ns(r, w->worker))));

		if (o->verify)
			json_object_set_new(jw, "corrupt_bytes", json_integer((json_int_t)w->corrupt_bytes));
		json_array_append_new(arr, jw);
	}
	json_object_set_new(root, "workers", arr);

	arr = json_array();
	for (unsigned i = 0; i < r->n_streams; i++)
		json_array_append_new(arr, stream_json(&r->streams[i]));
	json_object_set_new(root, "streams", arr);

	arr = json_array();
	for (unsigned i = 0; i < r->n_tests; i++)
		json_array_append_new(arr, iperf3_test_json(&r->tests[i], r->start_ns));
	json_object_set_new(root, "iperf3_tests", arr);

	arr = json_array();
	for (unsigned i = 0; i < n_iv; i++)
		json_array_append_new(arr, interval_json(&iv[i], r->n_workers));
	json_object_set_new(root, "intervals", arr);

	total = json_pack(
		"{s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:I, s:I, s:I}",
		"bytes", (json_int_t)t.bytes, "packets", (json_int_t)t.packets,
		"lost", (json_int_t)t.lost, "loss_percent", loss_pct(t.lost, t.highest),
		"reordered", (json_int_t)t.reordered, "duplicates", (json_int_t)t.duplicates,
		"too_late", (json_int_t)t.too_late, "foreign", (json_int_t)t.foreign,
		"foreign_bytes", (json_int_t)t.foreign_bytes, "truncated", (json_int_t)t.truncated,
		"active_s", (double)(t.last_ns - t.first_ns) / 1e9,
		"bits_per_second", bps(t.bytes, t.last_ns - t.first_ns),
		"connections", (json_int_t)t.connections, "resets", (json_int_t)t.resets,
		"streams", (json_int_t)r->n_streams, "iperf3_tests", (json_int_t)r->n_tests,
		"iperf3_denied", (json_int_t)t.iperf3_denied);
	latency_keys(total, &r->lat, r->jitter_s);
	json_object_set_new(total, "gro_receives", json_integer((json_int_t)t.gro_receives));
	json_object_set_new(total, "timestamps_kernel", json_integer((json_int_t)t.ts_kernel));
	json_object_set_new(total, "timestamps_batch", json_integer((json_int_t)t.ts_user));
	json_object_set_new(total, "omitted_bytes", json_integer((json_int_t)t.omitted_bytes));
	json_object_set_new(total, "omitted_packets", json_integer((json_int_t)t.omitted_packets));
	if (o->verify) {
		json_object_set_new(total, "corrupt_bytes", json_integer((json_int_t)t.corrupt_bytes));
		json_object_set_new(total, "corrupt_datagrams", json_integer((json_int_t)t.corrupt_datagrams));
	}
	json_object_set_new(root, "total", total);
	return root;
}

/* One --json-stream event on its own line; @data is taken. */
static int stream_event(int fd, const char *name, json_t *data)
{
	json_t *e = json_pack("{s:s, s:o}", "event", name, "data", data);
	int w = e ? json_dumpfd(e, fd, JSON_COMPACT | JSON_ENSURE_ASCII) : -1;

	json_decref(e);
	return w ?: -(write(fd, "\n", 1) != 1);
}

/*
 * --metrics: bytes per worker since the start (@bytes, nw entries); with
 * @r (the end), packets per worker and the loss over every UDP stream.
 */
static int write_metrics(const char *path, unsigned nw, const uint64_t *bytes,
			 const struct sink_result *r)
{
	struct metrics_file m;
	int ret = metrics_begin(&m, path);

	if (ret)
		return ret;
	metrics_family(&m, "sink_bytes_total", "counter",
		       "Payload bytes the sink's worker received (TCP: all bytes).");
	for (unsigned k = 0; k < nw; k++)
		metrics_sample(&m, "sink_bytes_total", "worker", k,
			       (double)(r ? r->workers[k].bytes : bytes[k]));
	if (r) {
		struct totals t;

		sum_up(r, &t);
		metrics_family(&m, "sink_packets_total", "counter",
			       "UDP: zcgen datagrams the sink's worker received.");
		for (unsigned k = 0; k < nw; k++)
			metrics_sample(&m, "sink_packets_total", "worker", k, (double)r->workers[k].packets);
		metrics_family(&m, "sink_lost_total", "counter",
			       "UDP: datagrams missing from the sequence numbers, every stream.");
		metrics_sample(&m, "sink_lost_total", NULL, 0, (double)t.lost);
		metrics_family(&m, "sink_loss_ratio", "gauge",
			       "UDP: lost over the datagrams expected (highest sequence number), 0 to 1.");
		metrics_sample(&m, "sink_loss_ratio", NULL, 0, loss_pct(t.lost, t.highest) / 100);
	}
	metrics_family(&m, "sink_running", "gauge", "1 while the sink listens, 0 once it has stopped.");
	metrics_sample(&m, "sink_running", NULL, 0, r ? 0 : 1);
	return metrics_commit(&m);
}

/* Room for one more interval. Return: the free slot, or NULL out of memory. */
static struct sink_interval *iv_slot(struct sink_interval **iv, unsigned n, unsigned *cap)
{
	if (n == *cap) {
		unsigned ncap = *cap ? *cap * 2 : 64;
		struct sink_interval *p = realloc(*iv, ncap * sizeof(*p));

		if (!p)
			return NULL;
		*iv = p;
		*cap = ncap;
	}
	return &(*iv)[n];
}

/* @iv from the sampler's span and counters @d (bytes per worker, then the warm-up's). */
static int sink_interval_set(struct sink_interval *iv, const struct sampler_span *sp,
			     const uint64_t *d, unsigned nw)
{
	iv->start_ns = sp->start_ns;
	iv->end_ns = sp->end_ns;
	iv->bytes = malloc(nw * sizeof(uint64_t));
	if (!iv->bytes)
		return -ENOMEM;
	memcpy(iv->bytes, d, nw * sizeof(uint64_t));
	iv->omitted = d[nw];
	return 0;
}

static void print_interval(const struct sink_interval *iv, unsigned n_workers)
{
	uint64_t len = iv->end_ns - iv->start_ns, sum = 0;

	for (unsigned k = 0; k < n_workers; k++)
		sum += iv->bytes[k];
	printf("[%7.2f-%7.2f s] %8.2f Gbit/s", (double)iv->start_ns / 1e9, (double)iv->end_ns / 1e9,
	       bps(sum, len) / 1e9);
	if (n_workers > 1) {
		printf("  |");
		for (unsigned k = 0; k < n_workers; k++)
			printf(" w%u %.2f", k, bps(iv->bytes[k], len) / 1e9);
	}
	if (iv->omitted)
		printf("  (warm-up %.2f Gbit/s, not counted)", bps(iv->omitted, len) / 1e9);
	printf("\n");
	fflush(stdout);
}

static void print_workers(const struct sink_opts *o, const struct sink_result *r)
{
	bool tcp = o->protocol != IPPROTO_UDP, udp = o->protocol != IPPROTO_TCP;
	char b1[32];

	printf("\n%-6s %4s", "worker", "cpu");
	if (tcp)
		printf(" %12s", "connections");
	if (udp)
		printf(" %12s", "packets");
	printf(" %16s %12s\n", "bytes", "Gbit/s");
	for (unsigned i = 0; i < r->n_workers; i++) {
		const struct sink_worker_result *w = &r->workers[i];

		snprintf(b1, sizeof(b1), "%d", w->cpu);
		printf("%-6u %4s", w->worker, w->cpu < 0 ? "-" : b1);
		if (tcp)
			printf(" %12llu", (unsigned long long)w->connections);
		if (udp)
			printf(" %12llu", (unsigned long long)w->packets);
		/* over the time its data arrived, not the whole time it listened */
		printf(" %16llu %12.3f\n", (unsigned long long)w->bytes,
		       bps(w->bytes, worker_active_ns(r, w->worker)) / 1e9);
	}
}

/* Plain streams of one protocol; iperf3's are shown with their test. */
static void print_streams(const struct sink_opts *o, const struct sink_result *r, bool udp)
{
	int proto = udp ? IPPROTO_UDP : IPPROTO_TCP;
	bool header = false;

	for (unsigned i = 0; i < r->n_streams; i++) {
		const struct sink_stream_result *s = &r->streams[i];
		double g = bps(s->bytes, s->last_ns - s->first_ns) / 1e9;

		if (s->protocol != proto || s->iperf3_test)
			continue;
		if (!header) {
			if (udp)
				printf("\n%-46s %16s %9s %10s %10s %7s %9s %6s %9s %9s %9s %9s",
				       "stream", "bytes", "Gbit/s", "packets", "lost", "loss%",
				       "reordered", "dups", "jitter ms", "p50 us", "p99 us", "max us");
			else
				printf("\n%-46s %16s %9s %6s", "connection", "bytes", "Gbit/s", "end");
			printf(o->verify ? " %12s\n" : "\n", "corrupt");
			header = true;
		}
		if (udp)
			printf("%-46s %16llu %9.3f %10llu %10llu %7.3f %9llu %6llu %9.3f %9.1f %9.1f %9.1f%s",
			       s->peer, (unsigned long long)s->bytes, g, (unsigned long long)s->seq.packets,
			       (unsigned long long)s->seq.lost, udpseq_loss_pct(&s->seq),
			       (unsigned long long)s->seq.reordered, (unsigned long long)s->seq.duplicates,
			       s->jitter_s * 1e3, s->lat.p50, s->lat.p99, s->lat.max,
			       s->lat.count && !s->lat.valid ? " (clocks?)" : "");
		else
			printf("%-46s %16llu %9.3f %6s", s->peer, (unsigned long long)s->bytes, g,
			       end_name(s->end));
		if (o->verify)
			printf(" %12llu", (unsigned long long)s->corrupt_bytes);
		printf("\n");
	}
}

static void print_iperf3_tests(const struct sink_result *r)
{
	for (unsigned i = 0; i < r->n_tests; i++) {
		const struct sink_iperf3_test *t = &r->tests[i];
		uint64_t dur = t->end_ns > t->start_ns ? t->end_ns - t->start_ns : 0;

		printf("\niperf3 test %u from %s: %s, %u stream%s, %u s, client %s: ", t->n, t->peer,
		       t->udp ? "udp" : "tcp", t->parallel, t->parallel == 1 ? "" : "s", t->time_s,
		       *t->client_version ? t->client_version : "?");
		if (t->err)
			printf("error: %s\n", t->msg);
		else
			printf("ok\n");
		if (!t->n_streams)
			continue;
		printf("  %4s %-40s %16s %16s %9s", "id", "stream", "received", "client sent", "Gbit/s");
		if (t->udp)
			printf(" %10s %10s %9s", "packets", "lost", "jitter ms");
		printf("\n");
		for (unsigned k = 0; k < t->n_streams; k++) {
			const struct sink_iperf3_stream *st = &t->streams[k];
			char sent[32] = "-";

			if (st->client_known)
				snprintf(sent, sizeof(sent), "%llu", (unsigned long long)st->client_bytes);
			printf("  %4d %-40s %16llu %16s %9.3f", st->id, st->peer,
			       (unsigned long long)st->bytes, sent, bps(st->bytes, dur) / 1e9);
			if (t->udp)
				printf(" %10llu %10llu %9.3f", (unsigned long long)st->packets,
				       (unsigned long long)st->lost, st->jitter_s * 1e3);
			printf("\n");
		}
	}
}

static void print_latency(const struct sink_result *r)
{
	const struct lat_summary *l = &r->lat;

	printf("latency (one-way, us): p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f max %.1f mean %.1f "
	       "over %llu datagrams; jitter %.3f ms", l->p50, l->p90, l->p99, l->p99_9, l->max,
	       l->mean, (unsigned long long)l->count, r->jitter_s * 1e3);
	if (l->negative)
		printf("; %llu arrived before they were sent%s", (unsigned long long)l->negative,
		       l->valid ? "" : ": the clocks are not shared, the latency is NOT VALID");
	printf("\n");
}

static void print_summary(const struct sink_opts *o, const struct sink_result *r)
{
	bool tcp = o->protocol != IPPROTO_UDP, udp = o->protocol != IPPROTO_TCP;
	struct totals t;

	sum_up(r, &t);
	print_workers(o, r);
	print_streams(o, r, false);
	print_streams(o, r, true);
	print_iperf3_tests(r);
	printf("\ntotal: %llu bytes, %.3f Gbit/s over %.2f s active (%.2f s listening)",
	       (unsigned long long)t.bytes, bps(t.bytes, t.last_ns - t.first_ns) / 1e9,
	       (double)(t.last_ns - t.first_ns) / 1e9, (double)(r->stop_ns - r->start_ns) / 1e9);
	if (tcp)
		printf(", %llu connection%s, %llu reset", (unsigned long long)t.connections,
		       t.connections == 1 ? "" : "s", (unsigned long long)t.resets);
	if (udp)
		printf(", %u stream%s, %llu packet%s, %llu lost (%.3f%%), %llu reordered, "
		       "%llu duplicates, %llu too late, %llu foreign",
		       r->n_streams, r->n_streams == 1 ? "" : "s", (unsigned long long)t.packets,
		       t.packets == 1 ? "" : "s", (unsigned long long)t.lost,
		       loss_pct(t.lost, t.highest), (unsigned long long)t.reordered,
		       (unsigned long long)t.duplicates, (unsigned long long)t.too_late,
		       (unsigned long long)t.foreign);
	if (r->n_tests || t.iperf3_denied)
		printf(", %u iperf3 test%s (%llu refused)", r->n_tests, r->n_tests == 1 ? "" : "s",
		       (unsigned long long)t.iperf3_denied);
	printf("\n");
	if (t.omitted_bytes) {
		printf("warm-up: %llu bytes", (unsigned long long)t.omitted_bytes);
		if (t.omitted_packets)
			printf(" in %llu datagrams", (unsigned long long)t.omitted_packets);
		printf(" of the senders' omit, counted in none of the figures above\n");
	}
	if (udp && (r->lat.count || r->lat.negative))
		print_latency(r);
	if (o->gro)
		printf("gro: %llu receives carried more than one datagram\n",
		       (unsigned long long)t.gro_receives);
	if (o->verify)
		printf("verify: %s: %llu corrupt bytes, %llu corrupt datagrams\n",
		       t.corrupt_bytes ? "PAYLOAD CORRUPT" : "payload intact",
		       (unsigned long long)t.corrupt_bytes, (unsigned long long)t.corrupt_datagrams);
	fflush(stdout);
}

static const char *open_error(int rc)
{
	switch (rc) {
	case -EADDRINUSE: return "address already in use";
	case -EADDRNOTAVAIL: return "not an address of this host";
	case -EACCES: return "permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)";
	case -ENOENT: return "host name does not resolve";
	case -EAFNOSUPPORT: return "address family not supported (IPv6 disabled?)";
	default: return strerror(-rc);
	}
}

/* Wait for SIGINT/SIGTERM until @deadline_ns (monotonic). Return: true if a signal came. */
static bool wait_signal(const sigset_t *set, uint64_t deadline_ns)
{
	for (;;) {
		uint64_t now = mono_ns();
		struct timespec ts;
		int sig;

		if (now >= deadline_ns)
			return false;
		ts.tv_sec = (time_t)((deadline_ns - now) / 1000000000ull);
		ts.tv_nsec = (long)((deadline_ns - now) % 1000000000ull);
		sig = sigtimedwait(set, NULL, &ts);
		if (sig > 0)
			return true;
		if (errno == EAGAIN)
			return false;
		/* EINTR: some other signal; wait on. */
	}
}

int cmd_sink(int argc, char **argv)
{
	struct sink_opts o = { .protocol = IPPROTO_TCP, .queues = 1, .interval_ns = 1000000000ull };
	struct sink_interval *iv = NULL;
	unsigned n_iv = 0, cap_iv = 0, nw;
	uint64_t *cur = NULL, *delta = NULL, start = 0, deadline, stop_at = 0;
	struct sampler smp = { 0 };
	struct sampler_span sp;
	struct sink_result res;
	char local[SINK_ADDRSTRLEN];
	sigset_t set, oldset;
	struct sink *s = NULL;
	bool help, metrics_warned = false;
	int rc, ret = EXIT_OK;

	rc = parse_args(argc, argv, &o, &help);
	if (rc == EXIT_OK + 100) /* -v: the version is printed */
		return EXIT_OK;
	if (rc || help) {
		if (help)
			fputs(usage_text, stdout);
		return rc;
	}

	int json_fd = -1;

	if ((o.json && !strcmp(o.json, "-")) || o.json_stream) {
		/* the JSON alone on standard output; the listening line and the rest on stderr */
		fflush(stdout);
		json_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		if (json_fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
			fprintf(stderr, "zcgen sink: --json -: %s\n", strerror(errno));
			return EXIT_RUN_FAILED;
		}
	}

	struct sink_cfg cfg = { .host = o.host, .port = o.port, .protocol = o.protocol,
				.workers = o.queues, .verify = o.verify, .gro = o.gro,
				.max_tests = o.max_tests };

	rc = sink_open(&cfg, &s);
	if (rc) {
		bool v6 = strchr(o.host, ':') != NULL;

		fprintf(stderr, "zcgen sink: cannot listen on %s%s%s:%u (%s): %s\n", v6 ? "[" : "",
			o.host, v6 ? "]" : "", o.port, proto_name(o.protocol), open_error(rc));
		return EXIT_USAGE;
	}
	sink_local(s, local, sizeof(local), NULL);
	nw = sink_workers(s);
	{
		int other, err = sink_other_err(s, &other);

		if (err)
			fprintf(stderr, "zcgen sink: note: %s port %s: %s: iperf3 %s tests will not work "
				"against this sink\n", other == IPPROTO_UDP ? "udp" : "tcp", local,
				open_error(err), other == IPPROTO_UDP ? "-u" : "TCP and UDP");
	}

	/* Workers inherit the blocked mask; the signals are taken here with sigtimedwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &oldset);

	rc = sink_start(s);
	if (rc) {
		fprintf(stderr, "zcgen sink: cannot start the workers (io_uring set-up): %s\n",
			strerror(-rc));
		ret = EXIT_RUN_FAILED;
		goto out;
	}
	printf("listening on %s (%s, %u worker%s)\n", local,
	       o.protocol == SINK_PROTO_BOTH ? "tcp+udp" : proto_name(o.protocol), nw,
	       nw == 1 ? "" : "s");
	if (o.protocol != IPPROTO_UDP)
		printf("tcp receive: %s\n", tcp_receive_what(&cfg));
	fflush(stdout);
	if (o.json_stream)
		stream_event(json_fd, "start", json_pack("{s:i, s:s, s:s, s:i, s:b, s:b}", "schema", 1,
			     "listen", local, "protocol", o.protocol == SINK_PROTO_BOTH ? "both" :
			     proto_name(o.protocol), "workers", (int)nw, "verify", o.verify, "gro",
			     o.gro));

	/* counters: bytes per worker, then the senders' warm-up bytes of every worker */
	cur = calloc(2 * (nw + 1), sizeof(*cur));
	start = mono_ns();
	if (!cur || sampler_init(&smp, &(struct sampler_cfg){ .n = nw + 1,
			.interval_ns = o.interval_ns, .sliver_ns = o.interval_ns / 10,
			.sliver_merge = true }, start)) {
		ret = EXIT_RUN_FAILED;
		goto out_stop;
	}
	delta = cur + nw + 1;
	deadline = o.duration_ns ? start + o.duration_ns : UINT64_MAX;
	for (;;) {
		uint64_t due = sampler_due(&smp), until = due < deadline ? due : deadline;

		if (until == UINT64_MAX)
			until = mono_ns() + 3600 * 1000000000ull;
		if (wait_signal(&set, until))
			break;
		/* At the end the last interval is taken after the stop, so it holds every byte. */
		if (mono_ns() >= deadline)
			break;
		if (mono_ns() < sampler_due(&smp))
			continue;
		/* One interval ends: record and print it. */
		if (!iv_slot(&iv, n_iv, &cap_iv))
			break;
		sink_sample(s, cur, delta);
		cur[nw] = 0;
		for (unsigned k = 0; k < nw; k++)
			cur[nw] += delta[k];
		if (sampler_tick(&smp, mono_ns(), cur, &sp, delta) != SAMPLER_INTERVAL ||
		    sink_interval_set(&iv[n_iv], &sp, delta, nw))
			break;
		if (!o.quiet)
			print_interval(&iv[n_iv], nw);
		if (o.json_stream)
			stream_event(json_fd, "interval", interval_json(&iv[n_iv], nw));
		if (o.metrics && (rc = write_metrics(o.metrics, nw, cur, NULL)) && !metrics_warned) {
			fprintf(stderr, "zcgen sink: --metrics %s: %s (the sink goes on)\n", o.metrics,
				strerror(-rc));
			metrics_warned = true;
		}
		n_iv++;
	}

out_stop:
	rc = sink_stop(s, &res);
	stop_at = mono_ns() - start;
	if (rc == -ENOMEM) {
		fprintf(stderr, "zcgen sink: out of memory collecting the results\n");
		ret = EXIT_RUN_FAILED;
		goto out;
	}
	if (rc)
		fprintf(stderr, "zcgen sink: a worker stopped early: %s\n", strerror(-rc));
	for (unsigned k = 0; k < nw; k++)
		if (res.workers[k].ring_fallback) {
			fprintf(stderr, "zcgen sink: io_uring without SINGLE_ISSUER|DEFER_TASKRUN "
				"(kernel too old), running without\n");
			break;
		}

	/* The part after the last full interval, so that the intervals add up to the total. */
	if (cur && iv_slot(&iv, n_iv, &cap_iv)) {
		cur[nw] = 0;
		for (unsigned k = 0; k < nw; k++) {
			cur[k] = res.workers[k].bytes;
			cur[nw] += res.workers[k].omitted_bytes;
		}
		switch (sampler_end(&smp, start + stop_at, cur, &sp, delta)) {
		case SAMPLER_MERGE:
			/* a sliver: its bytes go to the interval before, unprinted */
			if (!n_iv) /* that one was not kept (out of memory) */
				break;
			iv[n_iv - 1].end_ns = sp.end_ns;
			for (unsigned k = 0; k < nw; k++)
				iv[n_iv - 1].bytes[k] += delta[k];
			iv[n_iv - 1].omitted += delta[nw];
			break;
		case SAMPLER_INTERVAL:
			if (sink_interval_set(&iv[n_iv], &sp, delta, nw))
				break;
			if (!o.quiet)
				print_interval(&iv[n_iv], nw);
			if (o.json_stream)
				stream_event(json_fd, "interval", interval_json(&iv[n_iv], nw));
			n_iv++;
			break;
		default:
			break;
		}
	}

	print_summary(&o, &res);
	fflush(stdout);
	if (o.metrics && (rc = write_metrics(o.metrics, nw, NULL, &res))) {
		fprintf(stderr, "zcgen sink: --metrics %s: %s\n", o.metrics, strerror(-rc));
		ret = EXIT_RUN_FAILED;
	}
	if (o.json_stream) {
		json_t *root = build_json(&o, local, &res, iv, n_iv);

		if (!root || stream_event(json_fd, "end", root)) {
			fprintf(stderr, "zcgen sink: --json-stream: cannot write the end event\n");
			ret = EXIT_RUN_FAILED;
		}
	}
	if (o.json) {
		json_t *root = build_json(&o, local, &res, iv, n_iv);

		FILE *f = json_fd >= 0 && !o.json_stream ? fdopen(json_fd, "w") : fopen(o.json, "w");
		int w = -1;

		if (f) {
			if (json_fd >= 0 && !o.json_stream)
				json_fd = -1; /* the stream owns it now */
			w = root ? json_dumpf(root, f, JSON_INDENT(2) | JSON_ENSURE_ASCII) : -1;
			if (!w && fputc('\n', f) == EOF)
				w = -1;
			if (fclose(f))
				w = -1;
		}
		if (w) {
			fprintf(stderr, "zcgen sink: cannot write %s: %s\n", o.json, strerror(errno));
			ret = EXIT_RUN_FAILED;
		}
		json_decref(root);
	}
	sink_result_free(&res);
out:
	if (json_fd >= 0)
		close(json_fd);
	sink_close(s);
	{
		/* A stop signal sent twice (timeout(1) does: to the child, then the group) was honoured once already. */
		struct timespec zero = { 0, 0 };

		while (sigtimedwait(&set, NULL, &zero) > 0)
			;
	}
	pthread_sigmask(SIG_SETMASK, &oldset, NULL);
	for (unsigned i = 0; i < n_iv; i++)
		free(iv[i].bytes);
	free(iv);
	free(cur);
	sampler_free(&smp);
	return ret;
}
