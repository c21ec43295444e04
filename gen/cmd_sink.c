/* cmd_sink.c - `zcgen sink`: options, the listening loop and its intervals; the report is report_sink.c */
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
#include "gen/gen.h"
#include "gen/report_sink.h"
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

/* How TCP streams are received, for the start-up line (gen/sink.h) */
static const char *tcp_receive_what(const struct sink_cfg *cfg)
{
	return sink_tcp_discard(cfg) ?
		"discard (recv with MSG_TRUNC: counted, nothing copied to user space)" :
		"copy (every byte read into user space and checked: --verify)";
}

/* One --json-stream event on its own line; @data is taken. */
static int stream_event(int fd, const char *name, json_t *data)
{
	json_t *e = json_pack("{s:s, s:o}", "event", name, "data", data);
	int w = e ? json_dumpfd(e, fd, JSON_COMPACT | JSON_ENSURE_ASCII) : -1;

	json_decref(e);
	return w ?: -(write(fd, "\n", 1) != 1);
}

/* The sink's intervals: the sampler (gen/sampler.h), its counters, and the intervals kept. */
struct sink_ivs {
	struct sampler smp;
	unsigned nw;
	uint64_t *cur, *delta;        /* nw + 1: bytes per worker, then all workers' warm-up bytes */
	struct sink_interval *iv;
	unsigned n, cap;
};

static int ivs_init(struct sink_ivs *v, unsigned nw, uint64_t interval_ns, uint64_t start)
{
	/* a last interval under a tenth of one (a signal just after a tick) joins the one before */
	struct sampler_cfg c = { .n = nw + 1, .interval_ns = interval_ns, .sliver_ns = interval_ns / 10,
				 .sliver_merge = true };

	memset(v, 0, sizeof(*v));
	v->nw = nw;
	v->cur = calloc(2 * (nw + 1), sizeof(*v->cur));
	if (!v->cur)
		return -ENOMEM;
	v->delta = v->cur + nw + 1;
	return sampler_init(&v->smp, &c, start);
}

static void ivs_free(struct sink_ivs *v)
{
	for (unsigned i = 0; i < v->n; i++)
		free(v->iv[i].bytes);
	free(v->iv);
	free(v->cur);
	sampler_free(&v->smp);
}

/* Keep a new interval from the sampler's span and deltas. Return: it, or NULL out of memory. */
static struct sink_interval *ivs_keep(struct sink_ivs *v, const struct sampler_span *sp)
{
	struct sink_interval *iv;

	if (v->n == v->cap) {
		unsigned ncap = v->cap ? v->cap * 2 : 64;
		struct sink_interval *p = realloc(v->iv, ncap * sizeof(*p));

		if (!p)
			return NULL;
		v->iv = p;
		v->cap = ncap;
	}
	iv = &v->iv[v->n];
	iv->start_ns = sp->start_ns;
	iv->end_ns = sp->end_ns;
	iv->bytes = malloc(v->nw * sizeof(uint64_t));
	if (!iv->bytes)
		return NULL;
	memcpy(iv->bytes, v->delta, v->nw * sizeof(uint64_t));
	iv->omitted = v->delta[v->nw];
	v->n++;
	return iv;
}

/* A tick: the workers' counts now. Return: the interval that ended, or NULL out of memory. */
static struct sink_interval *ivs_tick(struct sink_ivs *v, const struct sink *s)
{
	struct sampler_span sp;
	unsigned nw = v->nw;

	sink_sample(s, v->cur, v->delta);
	v->cur[nw] = 0;
	for (unsigned k = 0; k < nw; k++)
		v->cur[nw] += v->delta[k];
	if (sampler_tick(&v->smp, mono_ns(), v->cur, &sp, v->delta) != SAMPLER_INTERVAL)
		return NULL;
	return ivs_keep(v, &sp);
}

/*
 * The part after the last full interval, from the final counts @res at
 * @now, so that the intervals add up to the total. Return: a new interval
 * to give out, or NULL (none, or a sliver added to the one before, unprinted).
 */
static struct sink_interval *ivs_end(struct sink_ivs *v, const struct sink_result *res,
				     uint64_t now)
{
	struct sampler_span sp;
	struct sink_interval *last;
	unsigned nw = v->nw;

	v->cur[nw] = 0;
	for (unsigned k = 0; k < nw; k++) {
		v->cur[k] = res->workers[k].bytes;
		v->cur[nw] += res->workers[k].omitted_bytes;
	}
	switch (sampler_end(&v->smp, now, v->cur, &sp, v->delta)) {
	case SAMPLER_MERGE:
		if (!v->n) /* the one before was not kept (out of memory) */
			return NULL;
		last = &v->iv[v->n - 1];
		last->end_ns = sp.end_ns;
		for (unsigned k = 0; k < nw; k++)
			last->bytes[k] += v->delta[k];
		last->omitted += v->delta[nw];
		return NULL;
	case SAMPLER_INTERVAL:
		return ivs_keep(v, &sp);
	default:
		return NULL;
	}
}

/* An interval's line and --json-stream event. */
static void ivs_give(const struct sink_opts *o, int json_fd, const struct sink_interval *iv,
		     unsigned nw)
{
	if (!o->quiet)
		report_sink_interval(stdout, iv, nw);
	if (o->json_stream)
		stream_event(json_fd, "interval", report_sink_interval_json(iv, nw));
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
	struct sink_ivs ivs = { 0 };
	struct sink_interval *iv;
	unsigned nw;
	uint64_t start = 0, deadline;
	struct sink_result res;
	struct report_sink rep;
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
			o.host, v6 ? "]" : "", o.port, report_sink_proto_name(o.protocol), open_error(rc));
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
	       o.protocol == SINK_PROTO_BOTH ? "tcp+udp" : report_sink_proto_name(o.protocol), nw,
	       nw == 1 ? "" : "s");
	if (o.protocol != IPPROTO_UDP)
		printf("tcp receive: %s\n", tcp_receive_what(&cfg));
	fflush(stdout);
	if (o.json_stream)
		stream_event(json_fd, "start", report_sink_start_json(&cfg, local, nw));

	start = mono_ns();
	if (ivs_init(&ivs, nw, o.interval_ns, start)) {
		ret = EXIT_RUN_FAILED;
		goto out_stop;
	}
	deadline = o.duration_ns ? start + o.duration_ns : UINT64_MAX;
	for (;;) {
		uint64_t due = sampler_due(&ivs.smp), until = due < deadline ? due : deadline;

		if (until == UINT64_MAX)
			until = mono_ns() + 3600 * 1000000000ull;
		if (wait_signal(&set, until))
			break;
		/* At the end the last interval is taken after the stop, so it holds every byte. */
		if (mono_ns() >= deadline)
			break;
		if (mono_ns() < sampler_due(&ivs.smp))
			continue;
		/* One interval ends: record and print it. */
		iv = ivs_tick(&ivs, s);
		if (!iv)
			break;
		ivs_give(&o, json_fd, iv, nw);
		if (o.metrics && (rc = report_sink_metrics(o.metrics, nw, ivs.cur, NULL)) &&
		    !metrics_warned) {
			fprintf(stderr, "zcgen sink: --metrics %s: %s (the sink goes on)\n", o.metrics,
				strerror(-rc));
			metrics_warned = true;
		}
	}

out_stop:
	rc = sink_stop(s, &res);
	uint64_t stop_at = mono_ns();
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

	if (ivs.cur && (iv = ivs_end(&ivs, &res, stop_at)))
		ivs_give(&o, json_fd, iv, nw);

	if (report_sink_make(&rep, &cfg, &res)) {
		fprintf(stderr, "zcgen sink: out of memory making the report\n");
		ret = EXIT_RUN_FAILED;
		goto out_res;
	}
	report_sink_text(stdout, &rep);
	fflush(stdout);
	if (o.metrics && (rc = report_sink_metrics(o.metrics, nw, NULL, &rep))) {
		fprintf(stderr, "zcgen sink: --metrics %s: %s\n", o.metrics, strerror(-rc));
		ret = EXIT_RUN_FAILED;
	}
	if (o.json_stream) {
		json_t *root = report_sink_json(&rep, local, ivs.iv, ivs.n);

		if (!root || stream_event(json_fd, "end", root)) {
			fprintf(stderr, "zcgen sink: --json-stream: cannot write the end event\n");
			ret = EXIT_RUN_FAILED;
		}
	}
	if (o.json) {
		json_t *root = report_sink_json(&rep, local, ivs.iv, ivs.n);

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
	report_sink_free(&rep);
out_res:
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
	ivs_free(&ivs);
	return ret;
}
