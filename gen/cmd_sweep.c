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
#include <sched.h>
#include <sys/wait.h>
#include <jansson.h>
#include "gen/gen.h"
#include "gen/profile.h"
#include "gen/cmd.h"
#include "gen/engine.h"
#include "gen/report.h"
#include "gen/report_sweep.h"
#include "gen/cpustat.h"
#include "gen/calib.h"
#include "gen/labrun.h"
#include "gen/spawn.h"
#include "gen/stopsig.h"


#define SWEEP_MAX_SIZES 32
#define SWEEP_MAX_MODES 4           /* copy, zc, zc-fixed, auto */

static const char sweep_usage[] =
	"usage: zcgen sweep [options]\n"
	"\n"
	"One run per message size and send mode; prints MiB/s and sends/s per cell,\n"
	"marks the size where zero-copy overtakes copy, and CPU-seconds per GB.\n"
	"  --sizes LIST         message sizes (default 1200,4000,8000,16K,65435)\n"
	"  --modes LIST         send modes among copy,zc,zc-fixed,auto (default\n"
	"                       copy,zc,zc-fixed); an auto cell shows the mode it used\n"
	"                       and its ratio to the better of copy and zc-fixed\n"
	"  --protocol P         tcp|udp (default tcp)\n"
	"  --duration TIME      per cell (default 2s)\n"
	"  --dest HOST:PORT     receiver; without it (and --lab) a `zcgen sink` is started\n"
	"                       on 127.0.0.1\n"
	"  --lab[=veth|drop]    run in the built-in veth lab against its sink (zcgen lab up;\n"
	"                       taken down after, unless it was already up); drop: the drop\n"
	"                       lab, UDP only, the sender alone (no receiver)\n"
	"  --queues N           queues (default 1)\n"
	"  --streams N          streams per queue (default 1)\n"
	"  --depth N            sends in flight per stream (default: TCP 1 zero-copy, 8 copy; UDP 8)\n"
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
	bool lab;
	enum lab_flavour lab_flavour;   /* --lab=drop: the drop lab, no receiver */
	char queues_buf[16];        /* --lab: queues fitted to the CPUs we may use */
};

/* The receiver we started ourselves: a `zcgen sink` child. */
struct sweep_sink {
	pid_t pid;
	int out;                    /* read end of its stdout */
	char dest[300];
};

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

		if (gen_mode_parse(tok, &m) || m >= SWEEP_MAX_MODES || seen[m])
			return -EINVAL;
		seen[m] = true;
	}
	/* columns always in the order copy, zc, zc-fixed, auto */
	for (int m = GEN_MODE_COPY; m <= GEN_MODE_AUTO; m++)
		if (seen[m])
			o->modes[o->nmodes++] = (enum gen_mode)m;
	return o->nmodes ? 0 : -EINVAL;
}

/* Start `zcgen sink --listen 127.0.0.1:0` and read its port from its first line. */
static int sink_spawn(const char *proto, struct sweep_sink *sk, char *err, size_t errlen)
{
	char *const argv[] = { "zcgen", "sink", "--listen", "127.0.0.1:0", "--protocol",
			       (char *)proto, "--quiet", NULL };
	struct spawn sp = SPAWN_INIT;
	char line[512];
	size_t n = 0;
	int fds[2], ret;

	if (pipe2(fds, O_CLOEXEC)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -errno;
	}
	/*
	 * Own process group: a ^C on the terminal reaches only the sweep,
	 * which then stops the sink itself after the cell it is in. If the
	 * sweep dies without that, the kernel sends SIGTERM.
	 */
	sp.argv = argv;
	sp.out = fds[1];
	sp.own_group = true;
	sp.death_sig = SIGTERM;
	ret = spawn_child(&sp, &sk->pid);
	if (ret) {
		snprintf(err, errlen, "cannot start the receiver (zcgen sink): %s", strerror(-ret));
		close(fds[0]);
		close(fds[1]);
		sk->pid = 0;
		return ret;
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
	if (spawn_poll(sk->pid, &st) == 1) {
		sk->pid = 0;
		return false;
	}
	return true;
}

static void sink_drain_cb(void *arg)
{
	sink_drain(*(int *)arg);
}

/* SIGINT, up to 5 s for it to finish (its pipe drained meanwhile), then SIGKILL. */
static void sink_stop(struct sweep_sink *sk)
{
	if (sk->pid > 0)
		spawn_stop(sk->pid, SIGINT, 5000, NULL, sink_drain_cb, &sk->out);
	sk->pid = 0;
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
	ret = engine_prepare(prof, plan, c->err, sizeof(c->err));
	if (ret)
		goto out;
	c->planned = true;
	c->mode_planned = plan->mode;
	c->depth = plan->depth;
	c->depth_copy = plan->depth_copy;
	snprintf(c->mode_used, sizeof(c->mode_used), "%s", gen_mode_name(plan->mode));
	snprintf(c->mode_reason, sizeof(c->mode_reason), "%s", plan->mode_reason);
	if (cpustat_snap(&a)) {
		snprintf(c->err, sizeof(c->err), "cannot read /proc/stat");
		goto out;
	}
	ret = engine_run(plan, &(struct engine_run_ctx){ .stop = &gen_stop }, &res);
	if (ret) {
		snprintf(c->err, sizeof(c->err), "cannot start the run: %s", strerror(-ret));
		goto out;
	}
	cpustat_snap(&b);
	snprintf(c->mode_used, sizeof(c->mode_used), "%s", report_mode_used(plan, &res));
	c->nq = res.nq;
	for (unsigned i = 0; i < res.nq; i++) {
		if (plan->auto_adapt && res.q[i].auto_switched) {
			c->switched++;
			c->switch_sends += res.q[i].auto_switch_sends;
		}
		c->bytes += res.q[i].bytes;
		c->sends += res.q[i].sends;
		c->notifs += res.q[i].notifs;
		c->zc_copied += res.q[i].zc_copied;
		if (!c->err[0] && res.q[i].first_error[0])
			snprintf(c->err, sizeof(c->err), "%s", res.q[i].first_error);
	}
	if (c->switched)
		c->switch_sends /= c->switched;
	c->duration_s = res.duration_s;
	cpustat_delta(&a, &b, c->bytes, 0, &c->cpu);
	c->ok = c->bytes > 0 && c->duration_s > 0 && !res.interrupted;
	if (res.end == ENGINE_END_STALLED) {
		/* its figures cover a path that stopped carrying data: not the cell's rate */
		c->ok = false;
		snprintf(c->err, sizeof(c->err), "%.599s", res.end_msg);
	} else if (c->ok)
		c->err[0] = '\0'; /* a stream error in a cell that moved data is not the cell's failure */
	else if (!c->err[0])
		snprintf(c->err, sizeof(c->err), res.interrupted ? "interrupted" : "nothing was sent");
out:
	engine_result_free(&res);
	diags_free(&d);
}

enum { O_SIZES = 1000, O_MODES, O_PROTO, O_DUR, O_DEST, O_QUEUES, O_STREAMS, O_DEPTH, O_CPUS,
       O_JSON, O_SAVE, O_LAB, O_HELP };

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
		{ "lab", optional_argument, NULL, O_LAB },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, 'v' },
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
	o->depth = NULL;     /* each cell's default: by protocol and mode (engine_plan()) */
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hv", lo, NULL)) != -1) {
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
					"copy,zc,zc-fixed,auto\n", optarg);
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
		case O_LAB:
			o->lab = true;
			if (lab_flavour_parse(optarg, &o->lab_flavour)) {
				fprintf(stderr, "zcgen sweep: --lab=%s: veth or drop\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
		case O_HELP: fputs(sweep_usage, stdout); return EXIT_OK + 100;
		case 'v': return cmd_version() + 100;
		default: return cmd_bad_option("zcgen sweep", lo, argc, argv);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "zcgen sweep: unexpected argument '%s'\n%s", argv[optind], sweep_usage);
		return EXIT_USAGE;
	}
	if (o->lab && o->dest) {
		fprintf(stderr, "zcgen sweep: --lab sends to the lab's sink; drop --dest, or drop "
			"--lab and give a receiver with --dest\n");
		return EXIT_USAGE;
	}
	if (!cmd_output_check("zcgen sweep", "json", o->json))
		return EXIT_USAGE;
	if (o->lab && o->lab_flavour == LAB_DROP && strcmp(o->protocol, "udp")) {
		fprintf(stderr, "zcgen sweep: --lab=drop takes UDP only (--protocol udp): TCP needs the "
			"receiver's ACKs, and the drop lab drops every packet at the sending veth's qdisc\n");
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

/*
 * The cells, the table, the JSON and the calibration. @lab_dest: the lab's
 * sink when the process is already inside the lab; NULL otherwise (then
 * --dest, or a sink of our own on 127.0.0.1).
 */
static int sweep_run(struct sweep_opts *o, const char *lab_dest)
{
	struct sweep_sink sk = { .pid = 0, .out = -1 };
	struct sweep_cell *cells = NULL;
	struct engine_plan *plan = NULL, *first = NULL;
	struct gen_profile *prof = NULL;
	struct report_sweep rep = { 0 };
	char err[512], driver[64] = "unknown", kernel[128] = "unknown";
	const char *dest;
	bool own_sink = !o->dest && !lab_dest;
	unsigned ncells = o->nsizes * o->nmodes, failed = 0;
	int rc = EXIT_RUN_FAILED;

	cells = calloc(ncells, sizeof(*cells));
	plan = calloc(1, sizeof(*plan));
	first = calloc(1, sizeof(*first));
	prof = calloc(1, sizeof(*prof));
	if (!cells || !plan || !first || !prof) {
		fprintf(stderr, "zcgen sweep: out of memory\n");
		goto out;
	}
	dest = lab_dest ? lab_dest : o->dest;
	if (own_sink) {
		if (sink_spawn(o->protocol, &sk, err, sizeof(err))) {
			fprintf(stderr, "zcgen sweep: %s\n", err);
			goto out;
		}
		dest = sk.dest;
	}
	/* a stop ends the cell in progress (EINTR, no SA_RESTART); the rest are not run */
	stopsig_install(false);

	printf("zcgen sweep: %s to %s%s, %s queue(s), %s stream(s), depth %s, %s per cell\n",
	       o->protocol, dest, own_sink ? " (own zcgen sink)" :
	       lab_dest && o->lab_flavour == LAB_DROP ? " (the drop lab: every datagram dropped at "
	       "the qdisc; rates are the sender's ceiling, not a path's)" :
	       lab_dest ? " (the lab's sink)" : "",
	       o->queues, o->streams,
	       o->depth ? o->depth : "by mode", o->duration);
	fflush(stdout);
	for (unsigned s = 0; s < o->nsizes; s++)
		for (unsigned m = 0; m < o->nmodes; m++) {
			struct sweep_cell *c = &cells[s * o->nmodes + m];

			c->size = o->sizes[s];
			c->mode = o->modes[m];
			if (gen_stop) {
				snprintf(c->err, sizeof(c->err), "not run (interrupted)");
				continue;
			}
			if (own_sink && !sink_alive(&sk)) {
				snprintf(c->err, sizeof(c->err), "the receiver (zcgen sink) has exited");
				continue;
			}
			run_cell(o, dest, c, plan, prof);
			if (!first->nq && plan->nq)
				*first = *plan;
		}
	for (unsigned i = 0; i < ncells; i++)
		failed += !cells[i].ok;

	rep = (struct report_sweep){ .sizes = o->sizes, .nsizes = o->nsizes, .modes = o->modes,
				     .nmodes = o->nmodes, .cells = cells, .dest_given = o->dest != NULL,
				     .lab_flavour = o->lab ? lab_flavour_name(o->lab_flavour) : NULL };
	if (report_sweep_make(&rep)) {
		fprintf(stderr, "zcgen sweep: out of memory\n");
		goto out;
	}
	report_sweep_text(stdout, &rep);
	fflush(stdout);

	calib_kernel(kernel, sizeof(kernel));
	if (first->nq)
		calib_driver((const struct sockaddr *)&first->dest, first->destlen, driver,
			     sizeof(driver));
	else
		*first = *plan; /* nothing planned: the JSON still names what was asked */
	rc = failed ? EXIT_RUN_FAILED : EXIT_OK;
	if (o->json) {
		json_t *j = report_sweep_json(&rep, first, driver, kernel);

		if (!j || json_dump_file(j, strcmp(o->json, "-") ? o->json : "/dev/stdout",
					 JSON_INDENT(2)) < 0) {
			fprintf(stderr, "zcgen sweep: cannot write JSON to %s\n", o->json);
			rc = EXIT_RUN_FAILED;
		}
		json_decref(j);
	}
	if (o->save_calib) {
		/*
		 * Copy winning at every size is a finding too: auto then uses copy
		 * up to the largest size measured, and zc-fixed only beyond it.
		 */
		uint64_t at = rep.x.found ? rep.x.at : o->sizes[o->nsizes - 1] + 1;
		int ret;

		if (failed || gen_stop || !rep.crossover_modes) {
			fprintf(stderr, "zcgen sweep: calibration not saved: %s\n",
				failed || gen_stop ? "some cells failed or were not run" :
						     "it needs copy and a zero-copy mode");
			rc = EXIT_RUN_FAILED;
		} else if ((ret = calib_save(driver, kernel, o->protocol, at, NULL))) {
			fprintf(stderr, "zcgen sweep: cannot save the calibration to %s: %s\n",
				calib_path(), strerror(-ret));
			rc = EXIT_RUN_FAILED;
		} else {
			printf("calibration saved to %s: driver %s, kernel %s, %s, crossover %llu B%s\n",
			       calib_path(), driver, kernel, o->protocol, (unsigned long long)at,
			       rep.x.found ? "" : " (copy won at every size measured)");
		}
	}
	if (gen_stop)
		rc = EXIT_RUN_FAILED;
out:
	sink_stop(&sk);
	report_sweep_free(&rep);
	free(cells);
	free(plan);
	free(first);
	free(prof);
	return rc;
}

/* --lab: queues and CPUs fitted to the CPUs this process may use, as `zcgen --lab` does. */
static int lab_fit(struct sweep_opts *o, struct gen_profile *prof)
{
	struct lab_fit fit;
	int ret = labrun_fit(prof, true, &fit);

	if (ret)
		return ret;
	labrun_fit_say(&fit);
	/* the cells are profiles of their own, made from these options */
	if (fit.queues != fit.queues_was) {
		snprintf(o->queues_buf, sizeof(o->queues_buf), "%u", fit.queues);
		o->queues = o->queues_buf;
	}
	if (fit.cpus_dropped)
		o->cpus = NULL;
	return 0;
}

struct lab_work {
	struct sweep_opts *o;
	const char *dest;
};

/* In the lab runner's child, inside the lab: the whole sweep. */
static int lab_work(void *arg)
{
	struct lab_work *w = arg;

	return sweep_run(w->o, w->dest);
}

/*
 * --lab: bring the lab up (or reuse it), then run the whole sweep in a
 * child that enters the lab's sending namespace (gen/labrun.h): lab_enter()
 * must come before any thread, and every cell starts threads. This process
 * stays outside, passes SIGINT/SIGTERM/SIGHUP on to the child (which
 * finishes its cell and prints what it has), and takes down a lab it
 * brought up on every path.
 */
static int sweep_lab(struct sweep_opts *o, struct gen_profile *prof)
{
	struct labrun lr;
	struct lab_info *li = &lr.info;
	char line[512], dest[INET_ADDRSTRLEN + 8];
	struct lab_work w = { .o = o, .dest = dest };
	uint16_t port;
	int ret, status, rc = EXIT_RUN_FAILED;

	if (lab_fit(o, prof)) {
		fprintf(stderr, "zcgen sweep: cannot read this process's CPU affinity: %s\n",
			strerror(errno));
		return EXIT_RUN_FAILED;
	}
	labrun_init(&lr, "zcgen sweep", EXIT_RUN_FAILED);
	lr.cfg.queues = prof->queues;
	lr.cfg.sink = true;
	if (o->lab_flavour == LAB_DROP) {
		lr.cfg.flavour = LAB_DROP;
		lr.cfg.sink = false;
		lr.cfg.mtu = LAB_DROP_MTU;
	}
	/* from here a SIGINT must not leave a lab behind: noted, acted on after lab up */
	ret = labrun_up(&lr);
	if (ret < 0) {
		rc = ret == -EPERM || ret == -EINVAL ? EXIT_USAGE : EXIT_RUN_FAILED;
		goto out;
	}
	if (ret == LABRUN_STOPPED)
		goto out_down;
	labrun_line(li, line, sizeof(line));
	printf("%s\n", line);
	port = strcmp(o->protocol, "udp") ? li->sink_tcp_port : li->sink_udp_port;
	if (li->flavour == LAB_DROP)
		port = LAB_SINK_PORT;   /* no sink: every datagram is dropped before the wire */
	if (!port) {
		fprintf(stderr, "zcgen sweep: lab: no sink is running in %s (see zcgen lab status)\n",
			li->rx_netns);
		goto out_down;
	}
	snprintf(dest, sizeof(dest), "%s:%u", li->rx_ipv4, port);
	ret = labrun_run(&lr, lab_work, &w, &status);
	if (ret) {
		fprintf(stderr, "zcgen sweep: cannot start the sweep in the lab: %s\n", strerror(-ret));
		goto out_down;
	}
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_RUN_FAILED;
	if (WIFSIGNALED(status))
		fprintf(stderr, "zcgen sweep: the sweep in the lab died of signal %d\n",
			WTERMSIG(status));
out_down:
	if (labrun_down(&lr))
		rc = EXIT_RUN_FAILED;
out:
	if (gen_stop)
		rc = EXIT_RUN_FAILED;
	return rc;
}

int cmd_sweep(int argc, char **argv)
{
	struct sweep_opts o = { 0 };
	struct gen_profile *prof;
	int rc;

	rc = parse_args(argc, argv, &o);
	if (rc == EXIT_OK + 100)
		return EXIT_OK;
	if (rc >= 0)
		return rc;
	prof = calloc(1, sizeof(*prof));
	if (!prof) {
		fprintf(stderr, "zcgen sweep: out of memory\n");
		return EXIT_USAGE;
	}
	if (check_opts(&o, prof))
		rc = EXIT_USAGE;
	else if (o.lab)
		rc = sweep_lab(&o, prof);
	else
		rc = sweep_run(&o, NULL);
	free(prof);
	return rc;
}
