/* cmd_ndr.c - `zcgen ndr`: RFC 2544 throughput (NDR/PDR) per frame size, with latency at that load */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/wait.h>
#include <jansson.h>
#include "gen/gen.h"
#include "gen/profile.h"
#include "gen/cmd.h"
#include "gen/engine.h"
#include "gen/expect_eval.h"
#include "gen/iperf3run.h"
#include "gen/ndr.h"
#include "gen/report_ndr.h"
#include "gen/labrun.h"
#include "gen/stopsig.h"

_Static_assert(NDR_MAX_SIZES <= EXPECT_MAX_NDR_SIZES, "a min_ndr_fps miss per size must fit");
/* Ethernet: header 14 + FCS 4 (the L1 extra: gen/report_ndr.h) */
#define ETH_OVERHEAD 18
#define UDP_HDR 8

static const char ndr_usage[] =
	"usage: zcgen ndr --profile FILE [options]   (or --dest HOST:PORT, or --lab)\n"
	"\n"
	"RFC 2544 throughput: per frame size, the highest UDP rate whose loss at the\n"
	"receiver is at most --loss, to --precision, with latency at that rate and at\n"
	"--latency-loads of it (docs/ndr.md). The receiver must answer the iperf3\n"
	"control protocol: a zcgen sink (loss and latency) or iperf3 -s (loss only).\n"
	"  --profile FILE       YAML profile (UDP; its size, rate and duration are the search's)\n"
	"  --dest HOST:PORT     the receiver\n"
	"  --server KIND        zcgen|iperf3 (default: the profile's, zcgen when it says none)\n"
	"  --lab                search through the built-in veth lab against its sink\n"
	"  --queues N / --streams N / --cpus LIST / --mode M / --depth N   as for zcgen run\n"
	"  --frame-sizes LIST   Ethernet frame sizes with FCS (default 64,128,256,512,1024,\n"
	"                       1280,1518); UDP payload = frame - 18 - IP header - 8\n"
	"  --loss PCT           loss allowed at the rate found, in percent (default 0: NDR)\n"
	"  --precision PCT      stop when the lowest failing rate is within PCT of the\n"
	"                       highest passing one (default 1)\n"
	"  --trial-duration T   each trial's measured time (default 2s; RFC 2544: 60s)\n"
	"  --settle T           idle time before each trial, so that queues drain (default 500ms)\n"
	"  --max-trials N       search trials per size, the unpaced one included (default 40)\n"
	"  --latency-loads LIST percentages of the rate found to measure latency at\n"
	"                       (default 10,50,90; none to skip)\n"
	"  --json FILE          the report as JSON (docs/ndr.md); - for stdout\n"
	"  --help               this text\n"
	"Exit: 0 a rate found for every size, 1 a size failed or the search was stopped,\n"
	"      2 usage or profile error, 3 a rate found is below the profile's\n"
	"      expect.min_ndr_fps.\n";

struct ndr_opts {
	const char *profile, *json;
	unsigned frames[NDR_MAX_SIZES], nframes;
	double loss_pct, precision;
	uint64_t trial_ns, settle_ns;
	unsigned max_trials;
	double loads[NDR_MAX_LOADS];
	unsigned nloads;
	bool lab;
	struct { const char *key, *value; } ov[32];
	unsigned nov;
};


static int parse_list(const char *s, double *v, unsigned max, unsigned *n, double lo, double hi)
{
	char buf[512], *save = NULL, *tok, *end;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -EINVAL;
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		double x = strtod(tok, &end);

		if (end == tok || *end || !(x >= lo && x <= hi) || *n == max)
			return -EINVAL;
		v[(*n)++] = x;
	}
	return *n ? 0 : -EINVAL;
}

/* A percentage: "0.5", "0.5%". */
static int parse_pct(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || (*end && strcmp(end, "%")) || !isfinite(v))
		return -EINVAL;
	*out = v;
	return 0;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ull),
			       .tv_nsec = (long)(ns % 1000000000ull) };

	while (!gen_stop && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static uint64_t ip_overhead(const struct engine_plan *plan)
{
	return plan->dest.ss_family == AF_INET6 ? 40 : 20;
}

/*
 * One trial: the base profile at @payload bytes, paced at @fps (0: as
 * fast as it goes) for the trial duration, against the receiver through
 * the iperf3 control protocol. Return: 0 with @t filled; -errno when the
 * trial could not take place (@err says why: the receiver stopped
 * answering, the plan failed).
 */
static int trial_run(const struct ndr_opts *o, const struct gen_profile *base, uint64_t payload,
		     double fps, struct ndr_trial *t, char *err, size_t errlen)
{
	struct gen_profile *prof = malloc(sizeof(*prof));
	struct engine_plan *plan = calloc(1, sizeof(*plan));
	struct iperf3run *i3 = calloc(1, sizeof(*i3));
	struct engine_result res = { 0 };
	struct gen_diags d = { 0 };
	const struct report_receiver *rcv;
	char v[64], dur[32];
	int ret = -ENOMEM;

	if (!prof || !plan || !i3) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	*prof = *base;
	snprintf(v, sizeof(v), "%llu", (unsigned long long)payload);
	profile_set(prof, "size", v, &d);
	snprintf(dur, sizeof(dur), "%lluns", (unsigned long long)o->trial_ns);
	profile_set(prof, "duration", dur, &d);
	profile_set(prof, "interval", dur, &d);
	/* no warm-up: loss is counted over the whole trial; the settle time comes before it */
	profile_set(prof, "omit", "0", &d);
	if (fps > 0)
		snprintf(v, sizeof(v), "%.3fpps", fps);
	profile_set(prof, "rate", fps > 0 ? v : "line", &d);
	if (!diags_errors(&d))
		profile_validate(prof, &d);
	if (diags_errors(&d)) {
		for (unsigned i = 0; i < d.n; i++)
			if (!d.v[i].warning) {
				snprintf(err, errlen, "%s: %s", d.v[i].key, d.v[i].msg);
				break;
			}
		ret = -EINVAL;
		goto out;
	}
	ret = engine_prepare(prof, plan, err, errlen);
	if (ret)
		goto out;
	sleep_ns(o->settle_ns);
	if (gen_stop) {
		snprintf(err, errlen, "interrupted");
		ret = -EINTR;
		goto out;
	}
	ret = iperf3run_begin(i3, plan, &gen_stop);
	if (ret) {
		snprintf(err, errlen, "%.590s", i3->msg);
		iperf3run_done(i3);
		goto out;
	}
	ret = engine_run(plan, &(struct engine_run_ctx){ .stop = &gen_stop, .ctl = &i3->ctl }, &res);
	iperf3run_done(i3);
	if (ret) {
		snprintf(err, errlen, "%.590s", i3->ctl.err[0] ? i3->ctl.err : strerror(-ret));
		goto out;
	}
	if (res.interrupted) {
		snprintf(err, errlen, "interrupted");
		ret = -EINTR;
		goto out;
	}
	rcv = iperf3run_receiver(i3);
	if (!rcv || i3->failed) {
		snprintf(err, errlen, "the receiver gave no counts for the trial: %.500s",
			 i3->msg[0] ? i3->msg : "no results");
		ret = -EIO;
		goto out;
	}
	memset(t, 0, sizeof(*t));
	t->asked_fps = fps;
	t->duration_s = res.duration_s;
	for (unsigned q = 0; q < res.nq; q++) {
		for (unsigned k = 0; res.q[q].st && k < res.q[q].streams; k++)
			t->sent += res.q[q].st[k].datagrams_all;
		t->sender_missed |= plan->paced && res.q[q].rate_missed;
	}
	t->received = rcv->packets;
	report_ndr_trial_figures(t);
	t->lat = rcv->x.lat;
	if (!t->sent) {
		snprintf(err, errlen, "nothing was sent%s%s", res.nq && res.q[0].first_error[0] ? ": " : "",
			 res.nq ? res.q[0].first_error : "");
		ret = -EIO;
	}
out:
	engine_result_free(&res);
	diags_free(&d);
	free(i3);
	free(plan);
	free(prof);
	return ret;
}

/* The search for one size; 0 when it ran to its end (found or not), -errno when a trial could not run. */
static int search_size(const struct ndr_opts *o, const struct gen_profile *base, struct ndr_size *sz)
{
	struct ndr_cfg cfg = { .loss_pct = o->loss_pct, .precision = o->precision / 100,
			       .max_trials = o->max_trials };
	struct ndr s;
	double found;
	int ret;

	/* a trial needs a few hundred frames for its loss to mean something */
	cfg.floor_fps = fmax(100, 200e9 / (double)o->trial_ns);
	ndr_init(&s, &cfg);
	sz->best = -1;
	while (s.step == NDR_CEILING || s.step == NDR_TRIAL) {
		struct ndr_trial *t = &sz->t[sz->nt];
		struct ndr_result r;
		bool ceiling = s.step == NDR_CEILING;

		if (sz->nt == NDR_MAX_TRIALS_ALL - NDR_MAX_LOADS)
			break;
		ret = trial_run(o, base, sz->payload, ceiling ? 0 : s.next, t, sz->err, sizeof(sz->err));
		if (ret)
			return ret;
		t->kind = ceiling ? TRIAL_CEILING : TRIAL_SEARCH;
		r = (struct ndr_result){ .offered_fps = t->offered_fps, .received_fps = t->received_fps,
					 .loss_pct = t->loss_pct, .sender_missed = t->sender_missed };
		t->passed = ceiling ? r.loss_pct <= cfg.loss_pct : ndr_passed(&s, &r);
		if (t->passed && (sz->best < 0 || t->asked_fps >= sz->t[sz->best].asked_fps ||
				  ceiling))
			sz->best = (int)sz->nt;
		sz->nt++;
		report_ndr_trial(stdout, sz, t);
		ndr_feed(&s, &r);
	}
	sz->ceiling_fps = s.ceiling_fps;
	sz->sender_repeats = s.repeated;
	found = ndr_found(&s);
	/* the passing trial at the rate found (a later fail below it reopens the search) */
	sz->best = -1;
	for (unsigned i = 0; i < sz->nt; i++)
		if (sz->t[i].passed && found > 0 &&
		    (sz->t[i].kind == TRIAL_CEILING ? s.sender_limited && s.ceiling_fps == found :
						      sz->t[i].asked_fps == found))
			sz->best = (int)i;
	if (s.step != NDR_DONE || sz->best < 0) {
		snprintf(sz->err, sizeof(sz->err), "%s", s.step == NDR_FAILED ? ndr_fail_name(s.fail) :
			 "too many trials");
		if (s.fail == NDR_FAIL_NO_PASS)
			snprintf(sz->err, sizeof(sz->err), "no rate passed: loss above %g %% down to %.0f "
				 "frames/s", o->loss_pct, cfg.floor_fps);
		return 0;
	}
	sz->done = true;
	sz->sender_limited = s.sender_limited;
	for (unsigned l = 0; l < o->nloads && !gen_stop; l++) {
		struct ndr_trial *t = &sz->t[sz->nt];
		double rate = sz->t[sz->best].kind == TRIAL_CEILING ? sz->t[sz->best].offered_fps : found;

		ret = trial_run(o, base, sz->payload, rate * o->loads[l] / 100, t, sz->err,
				sizeof(sz->err));
		if (ret)
			return ret;
		t->kind = TRIAL_LATENCY;
		t->load_pct = o->loads[l];
		t->passed = t->loss_pct <= o->loss_pct && !t->sender_missed;
		sz->nt++;
		report_ndr_trial(stdout, sz, t);
	}
	return 0;
}

/*
 * The search over every size, the table and the JSON. @base: the resolved
 * profile (the lab's receiver in it when in the lab).
 */
static int ndr_run(const struct ndr_opts *o, const struct gen_profile *base, bool lab)
{
	struct ndr_size *szs = calloc(o->nframes, sizeof(*szs));
	struct engine_plan *plan = calloc(1, sizeof(*plan));
	struct expect_result ex;
	struct report_ndr rep;
	char err[600];
	int rc = EXIT_RUN_FAILED, ret;
	unsigned failed = 0;

	if (!szs || !plan) {
		fprintf(stderr, "zcgen ndr: out of memory\n");
		goto out;
	}
	/* a stop ends the trial in progress (EINTR, no SA_RESTART); no further trial starts */
	stopsig_install(false);
	if (engine_prepare(base, plan, err, sizeof(err))) {
		fprintf(stderr, "zcgen ndr: %s\n", err);
		rc = EXIT_USAGE;
		goto out;
	}
	for (unsigned i = 0; i < o->nframes; i++) {
		uint64_t ovh = ETH_OVERHEAD + ip_overhead(plan) + UDP_HDR;

		szs[i].frame = o->frames[i];
		if (o->frames[i] < ovh + GEN_UDP_HDR_LEN) {
			fprintf(stderr, "zcgen ndr: --frame-sizes %u: too small for zcgen's %u-byte datagram "
				"header over %s: the smallest frame is %llu B\n", o->frames[i],
				GEN_UDP_HDR_LEN, plan->dest.ss_family == AF_INET6 ? "IPv6" : "IPv4",
				(unsigned long long)(ovh + GEN_UDP_HDR_LEN));
			rc = EXIT_USAGE;
			goto out;
		}
		if (plan->path_mtu && o->frames[i] - ETH_OVERHEAD > plan->path_mtu) {
			fprintf(stderr, "zcgen ndr: --frame-sizes %u: the IP packet (%u B) is larger than "
				"the path MTU to %s (%llu B): it would be fragmented\n", o->frames[i],
				o->frames[i] - ETH_OVERHEAD, plan->dest_str,
				(unsigned long long)plan->path_mtu);
			rc = EXIT_USAGE;
			goto out;
		}
		szs[i].payload = o->frames[i] - ovh;
	}
	printf("zcgen ndr: UDP to %s (%s%s), %u queue(s), loss <= %g %%, precision %g %%, "
	       "trials of %.3g s after %.3g s idle\n", plan->dest_str, gen_server_name(base->server),
	       lab ? ", the lab's sink" : "", plan->nq, o->loss_pct, o->precision, o->trial_ns / 1e9,
	       o->settle_ns / 1e9);
	fflush(stdout);
	for (unsigned i = 0; i < o->nframes && !gen_stop; i++) {
		ret = search_size(o, base, &szs[i]);
		if (ret && ret != -EINTR) {
			/* the receiver or the plan failed: no later size can do better */
			fprintf(stderr, "zcgen ndr: frame %u B, trial %u: %s; stopping the search\n",
				szs[i].frame, szs[i].nt + 1, szs[i].err);
			break;
		}
	}
	for (unsigned i = 0; i < o->nframes; i++) {
		if (!szs[i].done && !szs[i].err[0])
			snprintf(szs[i].err, sizeof(szs[i].err), "not run%s", gen_stop ? " (interrupted)" : "");
		failed += !szs[i].done;
	}
	report_ndr_make(&rep, szs, o->nframes);
	report_ndr_text(stdout, &rep);
	fflush(stdout);
	/* expect.min_ndr_fps, at every size; a size without a rate misses it (not measured) */
	memset(&ex, 0, sizeof(ex));
	for (unsigned i = 0; i < o->nframes; i++)
		expect_eval_ndr(&base->expect, szs[i].frame, szs[i].done, rep.rows[i].fps, &ex);
	expect_print(stderr, &ex);
	rc = failed || gen_stop ? EXIT_RUN_FAILED : ex.n_missed ? EXIT_EXPECT : EXIT_OK;
	if (o->json) {
		json_t *j = report_ndr_json(&rep, &(struct report_ndr_params){
			.loss_pct = o->loss_pct, .precision = o->precision, .trial_ns = o->trial_ns,
			.settle_ns = o->settle_ns, .dest = plan->dest_str,
			.server = gen_server_name(base->server), .lab = lab,
			.interrupted = gen_stop != 0 }, &ex);

		if (!j || json_dump_file(j, strcmp(o->json, "-") ? o->json : "/dev/stdout",
					 JSON_INDENT(2)) < 0) {
			fprintf(stderr, "zcgen ndr: cannot write JSON to %s\n", o->json);
			rc = EXIT_RUN_FAILED;
		}
		json_decref(j);
	}
out:
	free(szs);
	free(plan);
	return rc;
}

struct lab_work {
	const struct ndr_opts *o;
	struct gen_profile *prof;
};

/* In the lab runner's child, inside the lab: the search. */
static int lab_work(void *arg)
{
	struct lab_work *w = arg;

	return ndr_run(w->o, w->prof, true);
}

/* --lab: bring the lab up (or reuse it), search from inside it in a child, take it down. */
static int ndr_lab(const struct ndr_opts *o, struct gen_profile *prof)
{
	struct labrun lr;
	struct lab_info *li = &lr.info;
	struct lab_work w = { .o = o, .prof = prof };
	struct lab_fit fit;
	char line[512];
	int ret, status, rc = EXIT_RUN_FAILED;

	if (labrun_fit(prof, true, &fit))
		return EXIT_RUN_FAILED;
	labrun_fit_say(&fit);
	labrun_init(&lr, "zcgen ndr", EXIT_RUN_FAILED);
	lr.cfg.queues = prof->queues;
	lr.cfg.sink = true;
	ret = labrun_up(&lr);
	if (ret < 0) {
		rc = ret == -EPERM || ret == -EINVAL ? EXIT_USAGE : EXIT_RUN_FAILED;
		goto out;
	}
	if (ret == LABRUN_STOPPED)
		goto out_down;
	labrun_line(li, line, sizeof(line));
	printf("%s\n", line);
	if (!li->sink_udp_port) {
		fprintf(stderr, "zcgen ndr: lab: no sink is running in %s (see zcgen lab status)\n",
			li->rx_netns);
		goto out_down;
	}
	snprintf(prof->host, sizeof(prof->host), "%s", li->rx_ipv4);
	prof->port = li->sink_udp_port;
	ret = labrun_run(&lr, lab_work, &w, &status);
	if (ret) {
		fprintf(stderr, "zcgen ndr: cannot start the search in the lab: %s\n", strerror(-ret));
		goto out_down;
	}
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_RUN_FAILED;
	if (WIFSIGNALED(status))
		fprintf(stderr, "zcgen ndr: the search in the lab died of signal %d\n", WTERMSIG(status));
out_down:
	if (labrun_down(&lr))
		rc = EXIT_RUN_FAILED;
out:
	if (gen_stop)
		rc = EXIT_RUN_FAILED;
	return rc;
}

enum { O_PROFILE = 1000, O_LAB, O_FRAMES, O_LOSS, O_PREC, O_TRIAL, O_SETTLE, O_MAXT, O_LOADS,
       O_JSON, O_HELP, O_KEY };

/* The profile keys ndr takes as options (cmd_key_options()), in its --help's order. */
static const char *const key_opts[] = { "dest", "server", "queues", "streams", "cpus", "mode",
					"depth", "protocol", NULL };

/* ndr's own options; cmd_key_options() adds key_opts' after them */
static const struct option ndr_own[] = {
	{ "profile", required_argument, NULL, O_PROFILE },
	{ "lab", no_argument, NULL, O_LAB },
	{ "frame-sizes", required_argument, NULL, O_FRAMES },
	{ "loss", required_argument, NULL, O_LOSS },
	{ "precision", required_argument, NULL, O_PREC },
	{ "trial-duration", required_argument, NULL, O_TRIAL },
	{ "settle", required_argument, NULL, O_SETTLE },
	{ "max-trials", required_argument, NULL, O_MAXT },
	{ "latency-loads", required_argument, NULL, O_LOADS },
	{ "json", required_argument, NULL, O_JSON },
	{ "help", no_argument, NULL, O_HELP },
	{ "version", no_argument, NULL, 'v' },
};
#define N_NDR_OWN (sizeof(ndr_own) / sizeof(ndr_own[0]))

static int parse_args(int argc, char **argv, struct ndr_opts *o)
{
	struct option lo[N_NDR_OWN + sizeof(key_opts) / sizeof(key_opts[0])];
	double v[NDR_MAX_SIZES];
	struct ndr_cfg cfg;
	const char *key;
	uint64_t u;
	char err[256];
	int c;

	memcpy(lo, ndr_own, sizeof(ndr_own));
	if (cmd_key_options("zcgen ndr", lo, N_NDR_OWN, key_opts, O_KEY) < 0)
		return EXIT_RUN_FAILED;
	parse_list("64,128,256,512,1024,1280,1518", v, NDR_MAX_SIZES, &o->nframes, 1, 65535);
	for (unsigned i = 0; i < o->nframes; i++)
		o->frames[i] = (unsigned)v[i];
	parse_list("10,50,90", o->loads, NDR_MAX_LOADS, &o->nloads, 1, 100);
	o->precision = 1;
	o->trial_ns = 2000000000ull;
	o->settle_ns = 500000000ull;
	o->max_trials = NDR_DEFAULT_MAX_TRIALS;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hv", lo, NULL)) != -1) {
		switch (c) {
		case O_PROFILE: o->profile = optarg; break;
		case O_LAB: o->lab = true; break;
		case O_JSON: o->json = optarg; break;
		case O_FRAMES:
			if (parse_list(optarg, v, NDR_MAX_SIZES, &o->nframes, 1, 65535)) {
				fprintf(stderr, "zcgen ndr: --frame-sizes '%s': expected frame sizes in bytes "
					"like 64,512,1518 (at most %d)\n", optarg, NDR_MAX_SIZES);
				return EXIT_USAGE;
			}
			for (unsigned i = 0; i < o->nframes; i++) {
				if (v[i] != floor(v[i])) {
					fprintf(stderr, "zcgen ndr: --frame-sizes: %g is not a whole number "
						"of bytes\n", v[i]);
					return EXIT_USAGE;
				}
				o->frames[i] = (unsigned)v[i];
			}
			break;
		case O_LOADS:
			if (!strcmp(optarg, "none")) {
				o->nloads = 0;
			} else if (parse_list(optarg, o->loads, NDR_MAX_LOADS, &o->nloads, 1, 100)) {
				fprintf(stderr, "zcgen ndr: --latency-loads '%s': expected percentages of "
					"the rate found, 1 to 100, like 10,50,90 (at most %d), or none\n",
					optarg, NDR_MAX_LOADS);
				return EXIT_USAGE;
			}
			break;
		case O_LOSS:
			if (parse_pct(optarg, &o->loss_pct)) {
				fprintf(stderr, "zcgen ndr: --loss '%s': expected a percentage like 0 or 0.1\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case O_PREC:
			if (parse_pct(optarg, &o->precision)) {
				fprintf(stderr, "zcgen ndr: --precision '%s': expected a percentage like "
					"0.5\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_TRIAL:
		case O_SETTLE:
			if (units_time_ns(optarg, &u) || (c == O_TRIAL && u < 100000000ull) ||
			    u > 3600000000000ull) {
				fprintf(stderr, "zcgen ndr: --%s '%s': expected a time like 2s or 500ms "
					"(%s to 1h)\n", c == O_TRIAL ? "trial-duration" : "settle", optarg,
					c == O_TRIAL ? "100ms" : "0");
				return EXIT_USAGE;
			}
			*(c == O_TRIAL ? &o->trial_ns : &o->settle_ns) = u;
			break;
		case O_MAXT:
			if (units_uint(optarg, 2, NDR_MAX_TRIALS_ALL - NDR_MAX_LOADS, &u)) {
				fprintf(stderr, "zcgen ndr: --max-trials '%s': expected 2 to %d\n", optarg,
					NDR_MAX_TRIALS_ALL - NDR_MAX_LOADS);
				return EXIT_USAGE;
			}
			o->max_trials = (unsigned)u;
			break;
		case 'h':
		case O_HELP: fputs(ndr_usage, stdout); return EXIT_OK + 100;
		case 'v': return cmd_version() + 100;
		default:
			if ((key = cmd_key_option(c, O_KEY))) {
				if (o->nov < sizeof(o->ov) / sizeof(o->ov[0]))
					o->ov[o->nov++] = (typeof(o->ov[0])){ key, optarg };
				break;
			}
			return cmd_bad_option("zcgen ndr", lo, argc, argv);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "zcgen ndr: unexpected argument '%s'\n%s", argv[optind], ndr_usage);
		return EXIT_USAGE;
	}
	cfg = (struct ndr_cfg){ .loss_pct = o->loss_pct, .precision = o->precision / 100,
				.floor_fps = 1 };
	if (ndr_cfg_check(&cfg, err, sizeof(err))) {
		fprintf(stderr, "zcgen ndr: %s\n", err);
		return EXIT_USAGE;
	}
	if (!o->profile && !o->nov && !o->lab) {
		fprintf(stderr, "zcgen ndr: a profile (--profile FILE), --dest or --lab is needed\n%s",
			ndr_usage);
		return EXIT_USAGE;
	}
	if (!cmd_output_check("zcgen ndr", "json", o->json))
		return EXIT_USAGE;
	return -1;
}

/* The profile and overrides, checked as the search will use them. */
static int load_profile(const struct ndr_opts *o, struct gen_profile *prof)
{
	struct gen_diags d = { 0 };
	int ret = 0;

	profile_init(prof);
	/* UDP unless the profile or --protocol says otherwise (then refused below, with the reason) */
	profile_set(prof, "protocol", "udp", &d);
	if (o->profile)
		profile_load(prof, o->profile, &d);
	for (unsigned i = 0; i < o->nov; i++)
		profile_set(prof, o->ov[i].key, o->ov[i].value, &d);
	if (o->lab && !prof->host[0])
		profile_set(prof, "dest", "127.0.0.1:9", &d); /* replaced by the lab's sink */
	if (!diags_errors(&d) && !prof->size_set)
		profile_set(prof, "size", "64", &d); /* replaced per frame size */
	if (!diags_errors(&d))
		profile_validate(prof, &d);
	diags_print(&d, stderr);
	if (diags_errors(&d)) {
		ret = -EINVAL;
		goto out;
	}
	if (prof->proto != GEN_PROTO_UDP) {
		fprintf(stderr, "zcgen ndr: protocol %s: the search needs UDP (profile protocol: udp "
			"or --protocol udp): TCP has no offered rate of its own, it slows down to what "
			"the path carries instead of losing\n", gen_proto_name(prof->proto));
		ret = -EINVAL;
	} else if (prof->n_sizes) {
		fprintf(stderr, "zcgen ndr: the profile's sizes: mix cannot be searched: each trial "
			"sends one frame size\n");
		ret = -EINVAL;
	} else if (prof->gso_segments > 1) {
		fprintf(stderr, "zcgen ndr: udp.gso_segments %u: the search sends one datagram per "
			"send; drop it\n", prof->gso_segments);
		ret = -EINVAL;
	} else if (prof->dport_lo) {
		fprintf(stderr, "zcgen ndr: target.ports: the iperf3 control protocol needs one port\n");
		ret = -EINVAL;
	}
	if (!ret && prof->server == GEN_SERVER_NONE) {
		/* loss needs the receiver's count: a zcgen sink speaks the control protocol */
		prof->server = GEN_SERVER_ZCGEN;
		printf("ndr: server zcgen (the search needs the receiver's counts)\n");
	}
	if (!ret && prof->nic.present)
		printf("ndr: note: the profile's nic: section is not applied (zcgen nic pin first)\n");
	if (!ret && (prof->expect.has_min_bps_total || prof->expect.has_min_bps_queue ||
		     prof->expect.has_max_loss || prof->expect.has_max_p99 ||
		     prof->expect.has_min_steering || prof->expect.n_offloads_effective))
		printf("ndr: note: of the profile's expect: section only min_ndr_fps is checked "
		       "(the others are zcgen run's and offload-check's)\n");
out:
	diags_free(&d);
	return ret;
}

int cmd_ndr(int argc, char **argv)
{
	struct ndr_opts o = { 0 };
	struct gen_profile *prof;
	int rc;

	rc = parse_args(argc, argv, &o);
	if (rc == EXIT_OK + 100)
		return EXIT_OK;
	if (rc >= 0)
		return rc;
	for (unsigned i = 0; o.lab && i < o.nov; i++)
		if (!strcmp(o.ov[i].key, "dest")) {
			fprintf(stderr, "zcgen ndr: --lab sends to the lab's sink; drop --dest, or drop "
				"--lab and give a receiver with --dest\n");
			return EXIT_USAGE;
		}
	prof = calloc(1, sizeof(*prof));
	if (!prof) {
		fprintf(stderr, "zcgen ndr: out of memory\n");
		return EXIT_RUN_FAILED;
	}
	if (load_profile(&o, prof))
		rc = EXIT_USAGE;
	else if (o.lab)
		rc = ndr_lab(&o, prof);
	else
		rc = ndr_run(&o, prof, false);
	free(prof);
	return rc;
}
