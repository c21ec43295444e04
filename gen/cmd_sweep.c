/* cmd_sweep.c - `zcgen sweep`: copy vs zero-copy over message sizes, the crossover, CPU cost */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <jansson.h>
#include "gen/gen.h"
#include "gen/cmd.h"
#include "gen/engine.h"
#include "gen/report.h"
#include "gen/cpustat.h"
#include "gen/calib.h"
#include "zcgen_version.h"


#define SWEEP_MAX_SIZES 32
#define SWEEP_MAX_MODES 3

static const char sweep_usage[] =
	"usage: zcgen sweep [options]\n"
	"\n"
	"One run per message size and send mode; prints MiB/s and sends/s per cell,\n"
	"marks the size where zero-copy overtakes copy, and CPU-seconds per GB.\n"
	"  --sizes LIST         message sizes (default 1200,4000,8000,16K,65435)\n"
	"  --modes LIST         send modes among copy,zc,zc-fixed (default all three)\n"
	"  --protocol P         tcp|udp (default tcp)\n"
	"  --duration TIME      per cell (default 2s)\n"
	"  --dest HOST:PORT     receiver; without it a `zcgen sink` is started on 127.0.0.1\n"
	"  --queues N           queues (default 1)\n"
	"  --streams N          streams per queue (default 1)\n"
	"  --depth N            sends in flight per stream (default 8)\n"
	"  --cpus LIST          CPUs for the queues\n"
	"  --json FILE          write the cells as JSON (docs/json.md); - for stdout\n"
	"  --save-calibration   save the crossover for mode auto ($ZCGEN_CALIBRATION,\n"
	"                       default " CALIB_DEFAULT_PATH ")\n"
	"  --help               this text\n"
	"Exit: 0 success, 1 a cell failed or nothing to save, 2 usage error.\n";

struct sweep_opts {
	uint64_t sizes[SWEEP_MAX_SIZES];
	unsigned nsizes;
	enum gen_mode modes[SWEEP_MAX_MODES];
	unsigned nmodes;
	const char *protocol, *duration, *dest, *queues, *streams, *depth, *cpus, *json;
	bool save_calib;
};

struct sweep_cell {
	uint64_t size;
	enum gen_mode mode;
	bool ok;
	char err[600];
	uint64_t bytes, sends, notifs, zc_copied;
	double duration_s;
	struct cpustat_delta cpu;
};

struct sweep_crossover {
	bool found;
	bool have_below;
	uint64_t below, at;
	enum gen_mode zc_mode;      /* the better zero-copy mode at @at */
};

/* The receiver we started ourselves: a `zcgen sink` child. */
struct sweep_sink {
	pid_t pid;
	int out;                    /* read end of its stdout */
	char dest[300];
};

static void on_signal(int sig)
{
	gen_stop = sig;
}

static int parse_sizes(const char *s, struct sweep_opts *o)
{
	char buf[512], *save = NULL, *tok;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -EINVAL;
	o->nsizes = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (o->nsizes == SWEEP_MAX_SIZES || units_size(tok, &v) || !v)
			return -EINVAL;
		o->sizes[o->nsizes++] = v;
	}
	if (!o->nsizes)
		return -EINVAL;
	/* ascending and unique: the crossover is read from small to large */
	for (unsigned i = 1; i < o->nsizes; i++)
		for (unsigned j = i; j > 0 && o->sizes[j - 1] > o->sizes[j]; j--) {
			uint64_t t = o->sizes[j];

			o->sizes[j] = o->sizes[j - 1];
			o->sizes[j - 1] = t;
		}
	for (unsigned i = 1; i < o->nsizes; i++)
		if (o->sizes[i] == o->sizes[i - 1])
			return -EINVAL;
	return 0;
}

static int parse_modes(const char *s, struct sweep_opts *o)
{
	char buf[128], *save = NULL, *tok;
	bool seen[SWEEP_MAX_MODES] = { false };

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -EINVAL;
	o->nmodes = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		enum gen_mode m;

		/* auto is what a sweep calibrates; it is not a cell of its own */
		if (gen_mode_parse(tok, &m) || m == GEN_MODE_AUTO || seen[m])
			return -EINVAL;
		seen[m] = true;
	}
	/* columns always in the order copy, zc, zc-fixed */
	for (int m = GEN_MODE_COPY; m <= GEN_MODE_ZC_FIXED; m++)
		if (seen[m])
			o->modes[o->nmodes++] = (enum gen_mode)m;
	return o->nmodes ? 0 : -EINVAL;
}

/* Start `zcgen sink --listen 127.0.0.1:0` and read its port from its first line. */
static int sink_spawn(const char *proto, struct sweep_sink *sk, char *err, size_t errlen)
{
	char *const argv[] = { "zcgen", "sink", "--listen", "127.0.0.1:0", "--protocol",
			       (char *)proto, "--quiet", NULL };
	char line[512];
	size_t n = 0;
	pid_t parent = getpid();
	int fds[2];

	if (pipe2(fds, O_CLOEXEC)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -errno;
	}
	sk->pid = fork();
	if (sk->pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (sk->pid == 0) {
		/*
		 * Own process group: a ^C on the terminal reaches only the sweep,
		 * which then stops the sink itself after the cell it is in. If the
		 * sweep dies without that, the kernel sends SIGTERM.
		 */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		signal(SIGPIPE, SIG_DFL); /* an ignored signal would survive exec */
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(fds[1]);
	sk->out = fds[0];

	/* the first line, within 10 s */
	while (n < sizeof(line) - 1 && !memchr(line, '\n', n)) {
		struct pollfd p = { .fd = sk->out, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 10000) <= 0)
			break;
		r = read(sk->out, line + n, sizeof(line) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		line[n] = '\0';
	}
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';

	char *p = strncmp(line, "listening on ", 13) ? NULL : line + 13;
	char *paren = p ? strstr(p, " (") : NULL;
	char *colon;
	unsigned long port = 0;

	if (paren) {
		*paren = '\0';
		colon = strrchr(p, ':');
		if (colon)
			port = strtoul(colon + 1, NULL, 10);
	}
	if (!port || port > 65535) {
		snprintf(err, errlen, "the receiver (zcgen sink) did not start%s%.200s", n ? ": " : "",
			 line);
		return -EIO;
	}
	snprintf(sk->dest, sizeof(sk->dest), "127.0.0.1:%lu", port);
	fcntl(sk->out, F_SETFL, O_NONBLOCK);
	return 0;
}

static void sink_drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static bool sink_alive(struct sweep_sink *sk)
{
	int st;

	sink_drain(sk->out); /* its output is not ours to show; a full pipe would stall it */
	if (sk->pid <= 0)
		return false;
	if (waitpid(sk->pid, &st, WNOHANG) == sk->pid) {
		sk->pid = 0;
		return false;
	}
	return true;
}

/* SIGINT, up to 5 s for it to finish, then SIGKILL. */
static void sink_stop(struct sweep_sink *sk)
{
	int st;

	if (sk->pid > 0) {
		kill(sk->pid, SIGINT);
		for (int i = 0; i < 100; i++) {
			sink_drain(sk->out);
			if (waitpid(sk->pid, &st, WNOHANG) == sk->pid) {
				sk->pid = 0;
				break;
			}
			usleep(50000);
		}
		if (sk->pid > 0) {
			kill(sk->pid, SIGKILL);
			waitpid(sk->pid, &st, 0);
			sk->pid = 0;
		}
	}
	if (sk->out >= 0)
		close(sk->out);
	sk->out = -1;
}

/* One cell: profile from the options, plan, run, CPU deltas around the run. */
static void run_cell(const struct sweep_opts *o, const char *dest, struct sweep_cell *c,
		     struct engine_plan *plan, struct gen_profile *prof)
{
	struct engine_result res = { 0 };
	struct gen_diags d = { 0 };
	struct cpustat_snap a, b;
	char size[32];
	const char *keys[][2] = {
		{ "dest", dest },         { "protocol", o->protocol }, { "queues", o->queues },
		{ "streams", o->streams }, { "depth", o->depth },       { "duration", o->duration },
		/* one interval per cell: the sweep prints no live lines */
		{ "interval", o->duration }, { "cpus", o->cpus },     { "size", size },
		{ "mode", gen_mode_name(c->mode) },
	};
	int ret;

	snprintf(size, sizeof(size), "%llu", (unsigned long long)c->size);
	profile_init(prof);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i][1])
			profile_set(prof, keys[i][0], keys[i][1], &d);
	if (!diags_errors(&d))
		profile_validate(prof, &d);
	if (diags_errors(&d)) {
		for (unsigned i = 0; i < d.n; i++)
			if (!d.v[i].warning) {
				snprintf(c->err, sizeof(c->err), "%s: %s", d.v[i].key, d.v[i].msg);
				break;
			}
		goto out;
	}
	ret = engine_plan(prof, plan, c->err, sizeof(c->err));
	if (ret)
		goto out;
	if (cpustat_snap(&a)) {
		snprintf(c->err, sizeof(c->err), "cannot read /proc/stat");
		goto out;
	}
	ret = engine_run(plan, &res, NULL, NULL);
	if (ret) {
		snprintf(c->err, sizeof(c->err), "cannot start the run: %s", strerror(-ret));
		goto out;
	}
	cpustat_snap(&b);
	for (unsigned i = 0; i < res.nq; i++) {
		c->bytes += res.q[i].bytes;
		c->sends += res.q[i].sends;
		c->notifs += res.q[i].notifs;
		c->zc_copied += res.q[i].zc_copied;
		if (!c->err[0] && res.q[i].first_error[0])
			snprintf(c->err, sizeof(c->err), "%s", res.q[i].first_error);
	}
	c->duration_s = res.duration_s;
	cpustat_delta(&a, &b, c->bytes, 0, &c->cpu);
	c->ok = c->bytes > 0 && c->duration_s > 0 && !res.interrupted;
	if (c->ok)
		c->err[0] = '\0'; /* a stream error in a cell that moved data is not the cell's failure */
	else if (!c->err[0])
		snprintf(c->err, sizeof(c->err), res.interrupted ? "interrupted" : "nothing was sent");
out:
	engine_result_free(&res);
	diags_free(&d);
}

static double cell_mib(const struct sweep_cell *c)
{
	return c->ok ? c->bytes / c->duration_s / (1024.0 * 1024.0) : 0;
}

static const struct sweep_cell *cell_at(const struct sweep_cell *cells, unsigned nmodes,
					unsigned si, unsigned mi)
{
	return &cells[si * nmodes + mi];
}

/*
 * The crossover: the smallest size from which the better zero-copy mode
 * beats copy at that size and at every larger one (a single noisy win below
 * a loss does not count). Needs copy and at least one zero-copy mode.
 */
static void find_crossover(const struct sweep_opts *o, const struct sweep_cell *cells,
			   struct sweep_crossover *x)
{
	int copy = -1;
	unsigned start = o->nsizes;

	memset(x, 0, sizeof(*x));
	for (unsigned m = 0; m < o->nmodes; m++)
		if (o->modes[m] == GEN_MODE_COPY)
			copy = (int)m;
	if (copy < 0 || o->nmodes < 2)
		return;
	for (unsigned s = o->nsizes; s-- > 0;) {
		double cp = cell_mib(cell_at(cells, o->nmodes, s, (unsigned)copy)), best = 0;

		for (unsigned m = 0; m < o->nmodes; m++)
			if ((int)m != copy && cell_mib(cell_at(cells, o->nmodes, s, m)) > best)
				best = cell_mib(cell_at(cells, o->nmodes, s, m));
		if (best <= cp || !cell_at(cells, o->nmodes, s, (unsigned)copy)->ok)
			break;
		start = s;
	}
	if (start == o->nsizes)
		return;
	x->found = true;
	x->at = o->sizes[start];
	x->have_below = start > 0;
	x->below = start > 0 ? o->sizes[start - 1] : 0;
	double best = -1;

	for (unsigned m = 0; m < o->nmodes; m++)
		if ((int)m != copy && cell_mib(cell_at(cells, o->nmodes, start, m)) > best) {
			best = cell_mib(cell_at(cells, o->nmodes, start, m));
			x->zc_mode = o->modes[m];
		}
}

static void print_table(FILE *out, const struct sweep_opts *o, const struct sweep_cell *cells,
			const struct sweep_crossover *x)
{
	fprintf(out, "%8s", "");
	for (unsigned m = 0; m < o->nmodes; m++)
		fprintf(out, "  %-29s", gen_mode_name(o->modes[m]));
	fprintf(out, "\n%8s", "size B");
	for (unsigned m = 0; m < o->nmodes; m++)
		fprintf(out, "  %9s %10s %8s", "MiB/s", "sends/s", "CPU-s/GB");
	fputc('\n', out);
	for (unsigned s = 0; s < o->nsizes; s++) {
		fprintf(out, "%8llu", (unsigned long long)o->sizes[s]);
		for (unsigned m = 0; m < o->nmodes; m++) {
			const struct sweep_cell *c = cell_at(cells, o->nmodes, s, m);

			if (c->ok)
				fprintf(out, "  %9.0f %10.0f %8.2f", cell_mib(c), c->sends / c->duration_s,
					c->cpu.cpu_seconds_per_gb);
			else
				fprintf(out, "  %-29s", "failed");
		}
		if (x->found && o->sizes[s] == x->at)
			fputs("  <- crossover", out);
		fputc('\n', out);
	}
	for (unsigned i = 0; i < o->nsizes * o->nmodes; i++)
		if (!cells[i].ok && cells[i].err[0])
			fprintf(out, "%llu B %s: %s\n", (unsigned long long)cells[i].size,
				gen_mode_name(cells[i].mode), cells[i].err);
	if (x->found && x->have_below)
		fprintf(out, "zero-copy (%s) overtakes copy between %llu and %llu B\n",
			gen_mode_name(x->zc_mode), (unsigned long long)x->below,
			(unsigned long long)x->at);
	else if (x->found)
		fprintf(out, "zero-copy (%s) beats copy at every size measured (from %llu B)\n",
			gen_mode_name(x->zc_mode), (unsigned long long)x->at);
	else
		fprintf(out, "no crossover: zero-copy does not stay ahead of copy up to the largest "
			"size measured%s\n", o->nmodes < 2 ? " (needs copy and a zero-copy mode)" : "");
	fputs("CPU-s/GB: system-wide busy CPU-seconds (/proc/stat, softirq included) per 1e9 "
	      "bytes sent", out);
	fputs(o->dest ? "\n" : "; the local receiver's work is included\n", out);
}

static json_t *sweep_json(const struct sweep_opts *o, const struct sweep_cell *cells,
			  const struct sweep_crossover *x, const struct engine_plan *plan,
			  const char *driver, const char *kernel)
{
	json_t *root = json_object(), *arr = json_array(), *env;
	char cpus[256];

	if (!root || !arr) {
		json_decref(root);
		json_decref(arr);
		return NULL;
	}
	for (unsigned i = 0; i < o->nsizes * o->nmodes; i++) {
		const struct sweep_cell *c = &cells[i];
		json_t *cj = json_pack(
			"{s:I, s:s, s:b, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:o, s:{s:f, s:f, s:f, s:f, s:f}}",
			"size", (json_int_t)c->size, "mode", gen_mode_name(c->mode), "ok", c->ok,
			"bytes", (json_int_t)c->bytes, "sends", (json_int_t)c->sends, "duration_s",
			c->duration_s, "mib_per_second", cell_mib(c), "sends_per_second",
			c->ok ? c->sends / c->duration_s : 0.0, "bits_per_second",
			c->ok ? c->bytes * 8.0 / c->duration_s : 0.0, "cpu_seconds_per_gb",
			c->cpu.cpu_seconds_per_gb, "zc_copied_percent",
			c->mode != GEN_MODE_COPY && c->notifs ?
				json_real(100.0 * c->zc_copied / c->notifs) : json_null(),
			"cpu", "system_busy_s", c->cpu.sys_busy_s, "system_softirq_s",
			c->cpu.sys_softirq_s, "system_total_s", c->cpu.sys_total_s, "process_user_s",
			c->cpu.proc_user_s, "process_system_s", c->cpu.proc_system_s);

		if (cj && !c->ok)
			json_object_set_new(cj, "error", json_string(c->err));
		json_array_append_new(arr, cj);
	}
	json_object_set_new(root, "cells", arr);
	if (x->found)
		json_object_set_new(root, "crossover",
				    json_pack("{s:o, s:I, s:s}", "below",
					      x->have_below ? json_integer((json_int_t)x->below) :
							      json_null(),
					      "at", (json_int_t)x->at, "zc_mode",
					      gen_mode_name(x->zc_mode)));
	else
		json_object_set_new(root, "crossover", json_null());
	units_fmt_cpulist(plan->prof.cpus, plan->prof.n_cpus, cpus, sizeof(cpus));
	env = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:s, s:f, s:I, s:I, s:s}",
			"zcgen", ZCGEN_VERSION, "kernel", kernel, "driver", driver, "protocol",
			gen_proto_name(plan->prof.proto), "dest", plan->dest_str, "own_receiver",
			!o->dest, "queues", (json_int_t)plan->prof.queues, "streams",
			(json_int_t)plan->prof.streams, "depth", (json_int_t)plan->prof.depth, "cpus",
			cpus, "duration_s", plan->prof.duration_ns / 1e9, "online_cpus",
			(json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "clk_tck",
			(json_int_t)sysconf(_SC_CLK_TCK), "cpu_accounting",
			"system-wide busy time from /proc/stat, softirq included");
	json_object_set_new(root, "environment", env);
	return root;
}

enum { O_SIZES = 1000, O_MODES, O_PROTO, O_DUR, O_DEST, O_QUEUES, O_STREAMS, O_DEPTH, O_CPUS,
       O_JSON, O_SAVE, O_HELP };

static int parse_args(int argc, char **argv, struct sweep_opts *o)
{
	struct option lo[] = {
		{ "sizes", required_argument, NULL, O_SIZES },
		{ "modes", required_argument, NULL, O_MODES },
		{ "protocol", required_argument, NULL, O_PROTO },
		{ "duration", required_argument, NULL, O_DUR },
		{ "dest", required_argument, NULL, O_DEST },
		{ "queues", required_argument, NULL, O_QUEUES },
		{ "streams", required_argument, NULL, O_STREAMS },
		{ "depth", required_argument, NULL, O_DEPTH },
		{ "cpus", required_argument, NULL, O_CPUS },
		{ "json", required_argument, NULL, O_JSON },
		{ "save-calibration", no_argument, NULL, O_SAVE },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	enum gen_proto p;
	int c;

	parse_sizes("1200,4000,8000,16K,65435", o);
	parse_modes("copy,zc,zc-fixed", o);
	o->protocol = "tcp";
	o->duration = "2s";
	o->queues = "1";
	o->streams = "1";
	o->depth = "8";
	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case O_SIZES:
			if (parse_sizes(optarg, o)) {
				fprintf(stderr, "zcgen sweep: --sizes '%s': expected distinct sizes "
					"like 1200,4000,16K (at most %d)\n", optarg, SWEEP_MAX_SIZES);
				return EXIT_USAGE;
			}
			break;
		case O_MODES:
			if (parse_modes(optarg, o)) {
				fprintf(stderr, "zcgen sweep: --modes '%s': expected distinct modes among "
					"copy,zc,zc-fixed\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_PROTO:
			if (gen_proto_parse(optarg, &p)) {
				fprintf(stderr, "zcgen sweep: --protocol '%s': expected tcp or udp\n",
					optarg);
				return EXIT_USAGE;
			}
			o->protocol = gen_proto_name(p);
			break;
		case O_DUR: o->duration = optarg; break;
		case O_DEST: o->dest = optarg; break;
		case O_QUEUES: o->queues = optarg; break;
		case O_STREAMS: o->streams = optarg; break;
		case O_DEPTH: o->depth = optarg; break;
		case O_CPUS: o->cpus = optarg; break;
		case O_JSON: o->json = optarg; break;
		case O_SAVE: o->save_calib = true; break;
		case O_HELP: fputs(sweep_usage, stdout); return EXIT_OK + 100;
		default: fputs(sweep_usage, stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "zcgen sweep: unexpected argument '%s'\n%s", argv[optind], sweep_usage);
		return EXIT_USAGE;
	}
	return -1;
}

/* Check the options once, through the same profile code every cell uses. */
static int check_opts(const struct sweep_opts *o, struct gen_profile *prof)
{
	struct gen_diags d = { 0 };
	const char *keys[][2] = {
		{ "dest", o->dest ? o->dest : "127.0.0.1:9" }, { "protocol", o->protocol },
		{ "queues", o->queues }, { "streams", o->streams }, { "depth", o->depth },
		{ "duration", o->duration }, { "interval", o->duration }, { "cpus", o->cpus },
	};
	int ret = 0;

	profile_init(prof);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i][1])
			profile_set(prof, keys[i][0], keys[i][1], &d);
	for (unsigned s = 0; s < o->nsizes; s++) {
		char v[32];

		snprintf(v, sizeof(v), "%llu", (unsigned long long)o->sizes[s]);
		profile_set(prof, "size", v, &d);
		if (!diags_errors(&d))
			profile_validate(prof, &d);
		if (diags_errors(&d))
			break;
	}
	if (diags_errors(&d)) {
		diags_print(&d, stderr);
		ret = -EINVAL;
	}
	diags_free(&d);
	return ret;
}

int cmd_sweep(int argc, char **argv)
{
	struct sweep_opts o = { 0 };
	struct sweep_sink sk = { .pid = 0, .out = -1 };
	struct sweep_cell *cells = NULL;
	struct engine_plan *plan = NULL, *first = NULL;
	struct gen_profile *prof = NULL;
	struct sweep_crossover x;
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
	char err[512], driver[64] = "unknown", kernel[128] = "unknown";
	const char *dest;
	unsigned ncells, failed = 0;
	int rc;

	rc = parse_args(argc, argv, &o);
	if (rc == EXIT_OK + 100)
		return EXIT_OK;
	if (rc >= 0)
		return rc;
	rc = EXIT_USAGE;
	ncells = o.nsizes * o.nmodes;
	cells = calloc(ncells, sizeof(*cells));
	plan = calloc(1, sizeof(*plan));
	first = calloc(1, sizeof(*first));
	prof = calloc(1, sizeof(*prof));
	if (!cells || !plan || !first || !prof) {
		fprintf(stderr, "zcgen sweep: out of memory\n");
		goto out;
	}
	if (check_opts(&o, prof))
		goto out;

	rc = EXIT_RUN_FAILED;
	dest = o.dest;
	if (!dest) {
		if (sink_spawn(o.protocol, &sk, err, sizeof(err))) {
			fprintf(stderr, "zcgen sweep: %s\n", err);
			goto out;
		}
		dest = sk.dest;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	signal(SIGPIPE, SIG_IGN);

	printf("zcgen sweep: %s to %s%s, %s queue(s), %s stream(s), depth %s, %s per cell\n",
	       o.protocol, dest, o.dest ? "" : " (own zcgen sink)", o.queues, o.streams, o.depth,
	       o.duration);
	fflush(stdout);
	for (unsigned s = 0; s < o.nsizes; s++)
		for (unsigned m = 0; m < o.nmodes; m++) {
			struct sweep_cell *c = &cells[s * o.nmodes + m];

			c->size = o.sizes[s];
			c->mode = o.modes[m];
			if (gen_stop) {
				snprintf(c->err, sizeof(c->err), "not run (interrupted)");
				continue;
			}
			if (!o.dest && !sink_alive(&sk)) {
				snprintf(c->err, sizeof(c->err), "the receiver (zcgen sink) has exited");
				continue;
			}
			run_cell(&o, dest, c, plan, prof);
			if (!first->nq && plan->nq)
				*first = *plan;
		}
	for (unsigned i = 0; i < ncells; i++)
		failed += !cells[i].ok;

	find_crossover(&o, cells, &x);
	print_table(stdout, &o, cells, &x);
	fflush(stdout);

	calib_kernel(kernel, sizeof(kernel));
	if (first->nq)
		calib_driver((const struct sockaddr *)&first->dest, first->destlen, driver,
			     sizeof(driver));
	else
		*first = *plan; /* nothing planned: the JSON still names what was asked */
	rc = failed ? EXIT_RUN_FAILED : EXIT_OK;
	if (o.json) {
		json_t *j = sweep_json(&o, cells, &x, first, driver, kernel);

		if (!j || json_dump_file(j, strcmp(o.json, "-") ? o.json : "/dev/stdout",
					 JSON_INDENT(2)) < 0) {
			fprintf(stderr, "zcgen sweep: cannot write JSON to %s\n", o.json);
			rc = EXIT_RUN_FAILED;
		}
		json_decref(j);
	}
	if (o.save_calib) {
		/*
		 * Copy winning at every size is a finding too: auto then uses copy
		 * up to the largest size measured, and zc-fixed only beyond it.
		 */
		uint64_t at = x.found ? x.at : o.sizes[o.nsizes - 1] + 1;
		int ret;

		if (failed || gen_stop || o.nmodes < 2 || o.modes[0] != GEN_MODE_COPY) {
			fprintf(stderr, "zcgen sweep: calibration not saved: %s\n",
				failed || gen_stop ? "some cells failed or were not run" :
						     "it needs copy and a zero-copy mode");
			rc = EXIT_RUN_FAILED;
		} else if ((ret = calib_save(driver, kernel, o.protocol, at, NULL))) {
			fprintf(stderr, "zcgen sweep: cannot save the calibration to %s: %s\n",
				calib_path(), strerror(-ret));
			rc = EXIT_RUN_FAILED;
		} else {
			printf("calibration saved to %s: driver %s, kernel %s, %s, crossover %llu B%s\n",
			       calib_path(), driver, kernel, o.protocol, (unsigned long long)at,
			       x.found ? "" : " (copy won at every size measured)");
		}
	}
	if (gen_stop)
		rc = EXIT_RUN_FAILED;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
out:
	sink_stop(&sk);
	free(cells);
	free(plan);
	free(first);
	free(prof);
	return rc;
}
