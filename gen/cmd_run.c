/* cmd_run.c - `zcgen [run] --profile FILE`: profile + overrides -> plan -> engine -> report */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gen/gen.h"
#include "gen/profile.h"
#include "gen/cmd.h"
#include "gen/engine.h"
#include "gen/report.h"
#include "gen/runnic.h"
#include "gen/iperf3run.h"
#include "gen/expect_eval.h"
#include "gen/report_iperf3.h"
#include "gen/stopsig.h"
#include "gen/labdrop.h"
#include "gen/metrics.h"
#include "gen/fleet.h"
#include "gen/startat.h"
#include "gen/labrun.h"
#include <arpa/inet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/wait.h>

volatile sig_atomic_t gen_stop;

bool cmd_colour(int fd)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(fd) && !(nc && nc[0]);
}

static const char run_usage[] =
	"usage: zcgen [run] --profile FILE [options]\n"
	"\n"
	"Send TCP or UDP through the kernel's stack from one io_uring per queue.\n"
	"Options override the profile's keys (docs/profiles.md):\n"
	"  --profile FILE       YAML profile\n"
	"  --dest HOST:PORT     target ([::1]:5201 for IPv6)\n"
	"  --dest-ports LO-HI   destination ports of the data sockets, split over the queues like\n"
	"                       --source-ports (server none only; --dest's port is then unused)\n"
	"  --server KIND        none|zcgen|iperf3: plain streams, or the iperf3 control protocol\n"
	"                       with that server (its counts are reported beside zcgen's)\n"
	"  --iperf3-server      the same as --server iperf3 (against `iperf3 -s`)\n"
	"  --protocol P         tcp|udp\n"
	"  --queues N           queues (one ring and one pinned thread each)\n"
	"  --cpus LIST          CPUs for the queues, e.g. 0-7 or 0,2,4\n"
	"  --streams N          streams (sockets) per queue\n"
	"  --size SIZE          bytes per send (64K = 65536); UDP: datagram payload\n"
	"  --mode M             copy|zc|zc-fixed|auto\n"
	"  --depth N            sends in flight per stream (TCP: 1 zero-copy, 8 copy; UDP: 8)\n"
	"  --duration TIME      measured time (10s, 500ms, 2m)\n"
	"  --omit TIME          warm-up not counted (like iperf3 -O)\n"
	"  --interval TIME      live and JSON interval\n"
	"  --stall-timeout TIME no progress on any stream this long ends the run as stalled\n"
	"                       (exit 1; default 2s, 0 never)\n"
	"  --rate RATE          line, 500M (bit/s) or 3Mpps (UDP): the profile's rate:\n"
	"  --gso N              UDP: N datagrams per send (UDP_SEGMENT), 1 to 64\n"
	"  --source ADDR[,ADDR] source address(es) of the data sockets, one per queue in turn\n"
	"  --source-ports LO-HI source ports, split evenly over the queues, one per stream\n"
	"  --source-device DEV  bind the data sockets to DEV (SO_BINDTODEVICE)\n"
	"  --congestion NAME    TCP congestion control (reno, cubic, bbr, ...)\n"
	"  --dscp N / --tos N   DSCP 0-63, or the whole TOS / traffic class byte 0-255\n"
	"  --hugepages M        auto|on|off: huge pages for the rings' buffers\n"
	"  --no-nic             do not apply the profile's nic: section\n"
	"  --lab[=veth|drop]    run against the built-in veth lab (zcgen lab up; torn down after);\n"
	"                       drop: the drop lab, UDP only, the sender measured alone\n"
	"  --force              allow changing the interface that carries the default route\n"
	"  --json FILE          write the report as JSON (docs/json.md); - for stdout (then\n"
	"                       everything else goes to stderr)\n"
	"  --json-format F      zcgen (default) or iperf3: iperf3 -J's layout (docs/json.md)\n"
	"  --json-stream        one JSON line per event on stdout while running (start,\n"
	"                       interval, end: iperf3 3.17's model); text goes to stderr\n"
	"  --metrics FILE       a Prometheus text file, replaced every interval (docs/cli.md)\n"
	"  --csv FILE           one row per queue and interval\n"
	"  --live / --quiet     interval lines on or off (default: on a terminal only)\n"
	"  --start-at TIME      set up (NIC, rings, connections), then start at TIME on the\n"
	"                       wall clock: RFC 3339 (2026-12-05T04:00:00Z) or Unix seconds\n"
	"  --dry-run            print the resolved plan and exit\n"
	"  --help               this text\n"
	"Exit: 0 success, 1 the run failed (nothing sent), 2 usage or profile error,\n"
	"      3 an expect: threshold was missed, 128+N ended by signal N (130 SIGINT,\n"
	"      143 SIGTERM, 129 SIGHUP) after the NIC was put back and the report written.\n";

struct run_opts {
	const char *profile;
	const char *json, *csv;
	int json_fd;             /* --json - or --json-stream: the real standard output (stdout now writes to stderr) */
	bool json_iperf3;        /* --json-format iperf3 */
	bool json_stream;        /* --json-stream: events on json_fd */
	const char *metrics;     /* --metrics FILE */
	bool dry_run, no_nic, live, quiet, lab, force;
	enum lab_flavour lab_flavour;   /* --lab=KIND */
	struct fleet *fleet;     /* started by mpirun with a fleet: section (gen/fleet.h) */
	json_t *fleet_json;      /* rank 0: the fleet's report, written instead of its own */
	char *fleet_csv;
	const char *start_at_arg;  /* --start-at as given; NULL: start once set up */
	struct timespec start_at;
	const struct startat *sa;  /* the run's --start-at controller, once it ran */
};

/*
 * The options of a run's own; after them come the profile keys' (cmd_key_options():
 * --dest, --queues, ...), OPT_KEY + their index, each given to profile_set().
 */
enum { OPT_PROFILE = 1000, OPT_JSON, OPT_JSON_FORMAT, OPT_JSON_STREAM, OPT_METRICS, OPT_CSV, OPT_DRY, OPT_NONIC, OPT_LIVE, OPT_QUIET, OPT_HELP,
       OPT_LAB, OPT_FORCE, OPT_IPERF3, OPT_START_AT, OPT_KEY };

static const struct option run_opts[] = {
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "csv", required_argument, NULL, OPT_CSV },
	{ "dry-run", no_argument, NULL, OPT_DRY },
	{ "json-format", required_argument, NULL, OPT_JSON_FORMAT },
	{ "json-stream", no_argument, NULL, OPT_JSON_STREAM },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "no-nic", no_argument, NULL, OPT_NONIC },
	{ "live", no_argument, NULL, OPT_LIVE },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, 'v' },
	{ "lab", optional_argument, NULL, OPT_LAB },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "iperf3-server", no_argument, NULL, OPT_IPERF3 },
	{ "start-at", required_argument, NULL, OPT_START_AT },
};
#define N_RUN_OPTS (sizeof(run_opts) / sizeof(run_opts[0]))

struct override {
	const char *key, *value;
};

/* What each interval feeds: live lines, --json-stream's events, --metrics' file. */
struct iv_sinks {
	bool live;
	int stream_fd;               /* -1: no --json-stream */
	const char *metrics;         /* NULL: no --metrics */
	bool metrics_warned;
};

/* One event of --json-stream: {"event": NAME, "data": DATA} on a line of its own. */
static int stream_event(int fd, const char *name, json_t *data)
{
	json_t *e = json_pack("{s:s, s:o}", "event", name, "data", data);
	int w = e ? json_dumpfd(e, fd, JSON_COMPACT) : -1;

	json_decref(e);
	return w ?: -(write(fd, "\n", 1) != 1);
}

/*
 * --metrics: the queues' counters since the start (warm-up included) from
 * @tot (nq entries), the last interval's rate, and at the end the
 * receiver's counts when a control protocol brought them.
 */
static int write_metrics(const char *path, const struct engine_plan *plan,
			 const struct engine_totals *tot, const struct engine_interval *iv,
			 const struct report_receiver *rx, bool done)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} ctr[] = {
		{ "bytes_total", "Payload bytes the kernel accepted on the queue's data sockets, "
		  "warm-up included.", offsetof(struct engine_totals, bytes) },
		{ "sends_total", "Send completions with a non-negative result.",
		  offsetof(struct engine_totals, sends) },
		{ "zc_notifications_total", "Zero-copy notifications (IORING_CQE_F_NOTIF) received.",
		  offsetof(struct engine_totals, notifs) },
		{ "zc_copied_total", "Zero-copy notifications that say the kernel copied after all.",
		  offsetof(struct engine_totals, zc_copied) },
		{ "errors_total", "Send completions with a negative result.",
		  offsetof(struct engine_totals, errors) },
	};
	struct metrics_file m;
	int ret = metrics_begin(&m, path);

	if (ret)
		return ret;
	for (size_t k = 0; k < sizeof(ctr) / sizeof(ctr[0]); k++) {
		metrics_family(&m, ctr[k].name, "counter", ctr[k].help);
		for (unsigned i = 0; i < plan->nq; i++)
			metrics_sample(&m, ctr[k].name, "queue", plan->q[i].queue,
				       (double)*(const uint64_t *)((const char *)&tot[i] + ctr[k].off));
	}
	metrics_family(&m, "zc_copied_ratio", "gauge",
		       "Share of the zero-copy notifications that say the kernel copied (0 to 1).");
	for (unsigned i = 0; i < plan->nq; i++)
		metrics_sample(&m, "zc_copied_ratio", "queue", plan->q[i].queue,
			       tot[i].notifs ? (double)tot[i].zc_copied / tot[i].notifs : 0);
	if (iv) {
		double d = iv->end_s - iv->start_s;

		metrics_family(&m, "bits_per_second", "gauge",
			       "The queue's payload rate over the last interval.");
		for (unsigned i = 0; i < plan->nq; i++)
			metrics_sample(&m, "bits_per_second", "queue", plan->q[i].queue,
				       d > 0 ? iv->bytes[i] * 8.0 / d : 0);
		metrics_family(&m, "interval_end_seconds", "gauge",
			       "End of the last interval, seconds since the measured part began.");
		metrics_sample(&m, "interval_end_seconds", NULL, 0, iv->end_s);
	}
	if (rx) {
		metrics_family(&m, "receiver_bytes_total", "counter",
			       "Payload bytes the receiver counted (its result exchange).");
		metrics_sample(&m, "receiver_bytes_total", NULL, 0, (double)rx->bytes);
	}
	if (rx && rx->udp) {
		metrics_family(&m, "receiver_packets_total", "counter", "Datagrams the receiver got.");
		metrics_sample(&m, "receiver_packets_total", NULL, 0, (double)rx->packets);
		metrics_family(&m, "receiver_lost_total", "counter",
			       "Datagrams the receiver counted as lost.");
		metrics_sample(&m, "receiver_lost_total", NULL, 0, (double)rx->lost);
		metrics_family(&m, "receiver_loss_ratio", "gauge",
			       "Lost over received plus lost, as the receiver counted them (0 to 1).");
		metrics_sample(&m, "receiver_loss_ratio", NULL, 0, rx->packets + rx->lost ?
			       (double)rx->lost / (double)(rx->packets + rx->lost) : 0);
	}
	metrics_family(&m, "running", "gauge", "1 while the run sends, 0 once it has ended.");
	metrics_sample(&m, "running", NULL, 0, done ? 0 : 1);
	return metrics_commit(&m);
}

static void on_interval(const struct engine_plan *plan, const struct engine_interval *iv, void *arg)
{
	struct iv_sinks *k = arg;

	if (k->live)
		report_interval(stdout, plan, iv);
	if (k->stream_fd >= 0)
		stream_event(k->stream_fd, "interval", report_interval_json(plan, iv));
	if (k->metrics && iv->total) {
		int ret = write_metrics(k->metrics, plan, iv->total, iv, NULL, false);

		if (ret && !k->metrics_warned) {
			fprintf(stderr, "zcgen: --metrics %s: %s (the run goes on)\n", k->metrics,
				strerror(-ret));
			k->metrics_warned = true;
		}
	}
}

/* --start-at in the report: the time asked, the time the measurement began, how late that was. */
static void start_at_json_add(json_t *j, const struct startat *sa)
{
	char asked[64], started[64];

	if (!j || !sa || !sa->started.tv_sec)
		return;
	startat_format(&sa->at, asked, sizeof(asked));
	startat_format(&sa->started, started, sizeof(started));
	json_object_set_new(j, "start_at", json_pack("{s:s, s:f, s:s, s:f, s:f}", "asked", asked,
			    "asked_unix", startat_seconds(&sa->at), "started", started,
			    "started_unix", startat_seconds(&sa->started), "late_s",
			    startat_seconds(&sa->started) - startat_seconds(&sa->at)));
}

static int write_outputs(const struct run_opts *o, const struct report_ctx *r,
			 const struct expect_result *ex)
{
	int ret = 0;

	if (o->json) {
		json_t *j = o->fleet_json ? json_incref(o->fleet_json) :
			    o->json_iperf3 ? report_iperf3_json(r) : report_json(r);
		FILE *f = NULL;
		int w = -1;

		if (j && ex)
			expect_json_add(o->json_iperf3 ? json_object_get(j, "zcgen") : j, ex);
		if (!o->fleet_json)
			start_at_json_add(o->json_iperf3 ? json_object_get(j, "zcgen") : j, o->sa);
		/* --json -: the standard output that was set aside, never reopened (that truncates) */
		if (j && o->json_fd >= 0 && !o->json_stream)
			w = json_dumpfd(j, o->json_fd, JSON_INDENT(2)) ?: -(write(o->json_fd, "\n", 1) != 1);
		else if (j && (f = fopen(o->json, "w")))
			w = json_dumpf(j, f, JSON_INDENT(2)) ?: -(fputc('\n', f) == EOF);
		if (f && fclose(f))
			w = -1;
		if (w < 0) {
			fprintf(stderr, "zcgen: cannot write JSON to %s\n", o->json);
			ret = -EIO;
		}
		json_decref(j);
	}
	if (o->json_stream) {
		json_t *j = report_json(r);

		if (j && ex)
			expect_json_add(j, ex);
		start_at_json_add(j, o->sa);
		if (!j || stream_event(o->json_fd, "end", j)) {
			fprintf(stderr, "zcgen: --json-stream: cannot write the end event\n");
			ret = -EIO;
		}
	}
	if (o->csv) {
		FILE *f = fopen(o->csv, "w");

		if (!f) {
			fprintf(stderr, "zcgen: cannot write %s: %s\n", o->csv, strerror(errno));
			return -errno;
		}
		if (o->fleet_csv)
			fputs(o->fleet_csv, f);
		else
			report_csv(f, r);
		if (fclose(f))
			ret = -EIO;
	}
	return ret;
}

/*
 * Before anything is sent: the options make sense together, and the
 * reports asked for can be written (found only after the run, the report
 * would be lost).
 */
static bool outputs_check(const struct run_opts *o)
{
	if (o->live && o->quiet) {
		fprintf(stderr, "zcgen: --live and --quiet contradict each other: interval lines on, or "
			"off; give one\n");
		return false;
	}
	if (o->json_stream && o->json && !strcmp(o->json, "-")) {
		fprintf(stderr, "zcgen: --json - and --json-stream both want standard output; write "
			"the report to a file (--json FILE) or give one\n");
		return false;
	}
	if (o->metrics && !strcmp(o->metrics, "-")) {
		fprintf(stderr, "zcgen: --metrics -: the metrics go to a file that is replaced "
			"atomically (a collector's textfile directory); name one\n");
		return false;
	}
	return cmd_output_check("zcgen", "json", o->json) && cmd_output_check("zcgen", "csv", o->csv) &&
	       cmd_output_check("zcgen", "metrics", o->metrics);
}

static double now_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return startat_seconds(&ts);
}

static bool dest_is_loopback(const struct engine_plan *plan)
{
	if (plan->dest.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)&plan->dest;

		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (plan->dest.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)&plan->dest;

		return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
		       (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && s6->sin6_addr.s6_addr[12] == 127);
	}
	return false;
}

/* Validate, plan, apply the NIC, run, report, put the NIC back: one resolved profile. */
static int run_resolved(struct gen_profile *prof, const struct run_opts *op)
{
	struct run_opts o = *op;
	struct engine_plan *plan = calloc(1, sizeof(*plan));
	struct engine_result res = { 0 };
	struct engine_facts facts;
	struct gen_diags d = { 0 };
	struct runnic rn = { 0 };
	struct iperf3run *i3 = NULL; /* server: iperf3 or zcgen (gen/iperf3run.h) */
	struct startat sa = { .at = op->start_at, .stop = &gen_stop };
	char err[1200];
	bool hard_fail = false;      /* the report not written or the NIC not put back: exit 1 */
	bool had_nic;
	sigset_t held;
	int ret, rc = EXIT_USAGE;

	if (!plan) {
		fprintf(stderr, "zcgen: out of memory\n");
		return EXIT_RUN_FAILED;
	}
	if (!diags_errors(&d))
		profile_validate(prof, &d);
	/*
	 * --dry-run of a profile written for a bigger host: what this host
	 * lacks (CPUs, the nic: device) is listed after the plan, not an error.
	 */
	char lacks[600] = "";
	size_t nl = 0;

	for (unsigned i = 0; o.dry_run && i < d.n; i++)
		if (d.v[i].host && !d.v[i].warning) {
			d.v[i].warning = true;
			nl += (size_t)snprintf(lacks + nl, nl < sizeof(lacks) ? sizeof(lacks) - nl : 0,
					       "  %s: %s\n", d.v[i].key, d.v[i].msg);
		}
	diags_print(&d, stderr);
	if (diags_errors(&d)) {
		unsigned ne = diags_errors(&d);

		fprintf(stderr, "zcgen: %u error%s; nothing was sent\n", ne, ne == 1 ? "" : "s");
		goto out;
	}
	/* resolve, plan, check: all before a NIC is touched */
	ret = engine_resolve(prof, &facts, err, sizeof(err));
	if (!ret)
		ret = engine_plan(prof, &facts, plan, err, sizeof(err));
	if (!ret)
		ret = engine_check(plan, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "zcgen: %s\n", err);
		fleet_failed(o.fleet, err);
		goto out;
	}
	/* from here on a signal ends the run through out_nic: NIC put back, report written */
	stopsig_install(false);
	/*
	 * Ranks sharing a host share its nic: device: the leader applies the
	 * section for all their queues (in local-rank order), each rank drives
	 * and counts its own (docs/fleet.md, "Ranks sharing a host").
	 */
	unsigned qcpu[GEN_MAX_CPUS], hcpu[GEN_MAX_CPUS], hn = 0, qoff = 0;
	unsigned nq = prof->queues < GEN_MAX_CPUS ? prof->queues : GEN_MAX_CPUS;
	bool shared = false;

	if (o.fleet && prof->nic.present && !o.no_nic) {
		for (unsigned q = 0; q < nq; q++)
			qcpu[q] = profile_queue_cpu(prof, q);
		ret = fleet_nic_share(o.fleet, nq, qcpu, hcpu, &hn, &qoff);
		if (ret) {
			snprintf(err, sizeof(err), ret == -ERANGE ?
				 "nic %s: the ranks on this host drive more than %u queues together" :
				 "nic %s: the other ranks on this host did not give their queues",
				 prof->nic.interface, GEN_MAX_CPUS);
			fprintf(stderr, "zcgen: %s; nothing was changed or sent\n", err);
			fleet_failed(o.fleet, err);
			goto out;
		}
		shared = hn > nq;
	}
	if (prof->nic.present && !o.no_nic && dest_is_loopback(plan)) {
		fprintf(stderr, "zcgen: note: the nic: section is not applied: the target %s is on "
			"loopback, there is no NIC to change\n", plan->dest_str);
	} else if (prof->nic.present && !o.no_nic && o.dry_run && !if_nametoindex(prof->nic.interface)) {
		nl += (size_t)snprintf(lacks + nl, nl < sizeof(lacks) ? sizeof(lacks) - nl : 0,
				       "  nic.interface: device %s: no such device in this network "
				       "namespace (its nic: section is shown as written, not checked)\n",
				       prof->nic.interface);
	} else if (prof->nic.present && !o.no_nic && !fleet_nic_leader(o.fleet)) {
		printf("zcgen: note: the nic: section is applied by the lowest rank on this host; "
		       "this rank's queues are its tx-%u to tx-%u\n", qoff, qoff + nq - 1);
		if (!o.dry_run) /* this rank counts its own queues of the device */
			snprintf(rn.ifname, sizeof(rn.ifname), "%s", prof->nic.interface);
		rn.qoff = qoff;
		rn.own_only = shared;
	} else if (prof->nic.present && !o.no_nic && !gen_stop) {
		struct gen_profile *hp = shared ? malloc(sizeof(*hp)) : NULL;

		if (hp) { /* the host's union of queues: channels, XPS and IRQs for every local rank */
			*hp = *prof;
			hp->queues = hn;
			memcpy(hp->cpus, hcpu, hn * sizeof(hcpu[0]));
			hp->n_cpus = hn;
		}
		/* held: a half-made change could not be undone from a handler (gen/stopsig.h) */
		stopsig_hold(&held);
		ret = shared && !hp ? -ENOMEM :
		      runnic_apply(&rn, hp ? hp : prof, hp ? nq : 0, o.dry_run, o.force, stdout, err, sizeof(err));
		stopsig_release(&held);
		free(hp);
		if (ret == -ENOMEM && shared && !rn.ifname[0])
			snprintf(err, sizeof(err), "%s: out of memory", prof->nic.interface);
		rn.own_only = shared; /* the leader's queues come first: qoff 0 */
		if (ret) {
			fprintf(stderr, "zcgen: nic %s; nothing was changed or sent\n", err);
			if (o.fleet) {
				char why[1300];

				/* rank 0 names this rank, its host and this reason */
				snprintf(why, sizeof(why), "nic %s", err);
				fleet_failed(o.fleet, why);
			}
			goto out;
		}
		if (gen_stop) {
			fprintf(stderr, "zcgen: %s arrived while nic %s was being set up: the set-up was "
				"finished first, to be undone whole; nothing was sent\n",
				stopsig_name(gen_stop), rn.ifname);
			rc = EXIT_RUN_FAILED;
			goto out_nic;
		}
		/* new facts: the queue -> CPU map is the NIC's, and its MTU may have changed */
		engine_facts_cpus(&facts, rn.cpu, shared && rn.ncpu > nq ? nq : rn.ncpu);
		if (prof->proto == GEN_PROTO_UDP)
			engine_resolve_mtu(&facts);
		ret = engine_plan(prof, &facts, plan, err, sizeof(err));
		if (!ret)
			ret = engine_check(plan, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "zcgen: %s\n", err);
			goto out_nic;
		}
	}
	fleet_nic_done(o.fleet); /* the host's other ranks wait for its nic: section */
	if (o.dry_run) {
		rc = EXIT_OK;
		if (!o.fleet)
			report_plan(stdout, plan);
		else if (!fleet_dry_run(o.fleet, plan))
			rc = EXIT_RUN_FAILED;
		if (prof->nic.present && !o.no_nic && !rn.ifname[0] && !dest_is_loopback(plan))
			report_nic_section(stdout, &prof->nic);
		if (lacks[0])
			printf("this host lacks what the profile was written for (a run here fails; the "
			       "plan above is the one it would follow there):\n%s", lacks);
		goto out_nic;
	}

	if (gen_stop) {
		rc = EXIT_RUN_FAILED; /* before the traffic: nothing measured, no report */
		goto out_nic;
	}

	struct iv_sinks ivs = { .live = !o.quiet && (o.live || isatty(STDOUT_FILENO)),
				.stream_fd = o.json_stream ? o.json_fd : -1, .metrics = o.metrics };
	bool live = ivs.live;

	if (live || isatty(STDOUT_FILENO))
		printf("zcgen: %s %s, %u queue%s, %s, %llu B sends\n", gen_proto_name(prof->proto),
		       plan->dest_str, plan->nq, plan->nq == 1 ? "" : "s", plan->mode_reason,
		       (unsigned long long)plan->msg_size);
	if (prof->nic.present && !o.no_nic && rn.ifname[0])
		runnic_count_start(&rn, rn.ifname);
	struct cpustat_snap cpu0, cpu1;
	struct cpustat_delta cpu;
	bool have_cpu = !cpustat_snap(&cpu0);

	if (prof->server != GEN_SERVER_NONE) {
		i3 = calloc(1, sizeof(*i3));
		ret = i3 ? iperf3run_begin(i3, plan, &gen_stop) : -ENOMEM;
		if (ret) {
			fprintf(stderr, "zcgen: %s; nothing was sent\n", i3 ? i3->msg : strerror(-ret));
			fleet_failed(o.fleet, i3 ? i3->msg : strerror(-ret));
			rc = ret == -EINVAL ? EXIT_USAGE : EXIT_RUN_FAILED;
			if (i3)
				iperf3run_done(i3);
			goto out_nic;
		}
	}
	if (o.json_stream)
		stream_event(o.json_fd, "start", report_start_json(plan));
	struct engine_ctl *ctl = fleet_ctl(o.fleet, i3 ? &i3->ctl : NULL);

	if (o.start_at_arg) {
		char when[64];

		/* after the set-up (NIC above, rings and connections in engine_run) it waits */
		ctl = startat_ctl(&sa, ctl);
		o.sa = &sa;
		startat_format(&sa.at, when, sizeof(when));
		printf("zcgen: --start-at %s: waiting %.3f s once set up\n", when,
		       startat_seconds(&sa.at) - now_realtime());
		fflush(stdout);
	}

	ret = engine_run(plan, &(struct engine_run_ctx){ .stop = &gen_stop, .cb = on_interval,
						   .cb_arg = &ivs, .ctl = ctl }, &res);
	have_cpu = have_cpu && !cpustat_snap(&cpu1);
	if (i3)
		iperf3run_done(i3); /* results exchanged (or CLIENT_TERMINATE): the test is over */
	if (ret) {
		if (ctl && ctl->err[0])
			fprintf(stderr, "zcgen: %s; nothing was sent\n", ctl->err);
		else
			fprintf(stderr, "zcgen: cannot start the run: %s\n", strerror(-ret));
		fleet_failed(o.fleet, ctl && ctl->err[0] ? ctl->err : strerror(-ret));
		rc = EXIT_RUN_FAILED;
		goto out_nic;
	}

	struct report_nic_queue nicq[GEN_MAX_QUEUES] = { 0 };
	struct report_ctx r = { .plan = plan, .res = &res, .steering = -1,
				.colour = cmd_colour(STDOUT_FILENO), .nic_note = rn.note,
				.lab = o.lab ? lab_flavour_name(o.lab_flavour) : NULL };

	if (o.sa && sa.started.tv_sec)
		printf("zcgen: started %.6f s after --start-at\n",
		       startat_seconds(&sa.started) - startat_seconds(&sa.at));
	if (i3) {
		r.receiver = iperf3run_receiver(i3);
		r.server_note = i3->note;
	}

	if (have_cpu) {
		uint64_t all = 0;

		for (unsigned i = 0; i < res.nq; i++)
			all += res.q[i].bytes_all;
		cpustat_delta(&cpu0, &cpu1, all, 0, &cpu);
		r.cpu = &cpu;
	}
	if (rn.counting) {
		r.steering = runnic_count_end(&rn, &res, nicq);
		r.nic = nicq;
	}
	uint64_t total = 0;
	unsigned streams = 0, failed = 0;

	for (unsigned i = 0; i < res.nq; i++) {
		total += res.q[i].bytes + res.q[i].sends;
		streams += res.q[i].streams;
		failed += res.q[i].streams_failed;
	}
	/* nothing sent: a table of zeros says nothing the error below does not */
	if (total)
		report_table(stdout, &r);
	fflush(stdout);
	if (o.metrics) {
		struct engine_totals *tt = calloc(res.nq ? res.nq : 1, sizeof(*tt));
		const struct engine_interval *last = res.nint ? &res.iv[res.nint - 1] : NULL;

		/*
		 * The final counts: sends after the last sample are in res only;
		 * the warm-up's sends are the last sample's total less the
		 * intervals' (res counts the measured part).
		 */
		for (unsigned i = 0; tt && i < res.nq; i++) {
			uint64_t omit_sends = 0;

			if (last && last->total) {
				omit_sends = last->total[i].sends;
				for (unsigned k = 0; k < res.nint; k++)
					omit_sends -= res.iv[k].sends[i];
			}
			tt[i] = (struct engine_totals){ res.q[i].bytes_all, res.q[i].sends + omit_sends,
							res.q[i].notifs, res.q[i].zc_copied,
							res.q[i].errors };
		}
		ret = tt ? write_metrics(o.metrics, plan, tt, last, r.receiver, true) : -ENOMEM;
		if (ret) {
			fprintf(stderr, "zcgen: --metrics %s: %s\n", o.metrics, strerror(-ret));
			rc = EXIT_RUN_FAILED;
		}
		free(tt);
	}
	fleet_report(o.fleet, &r, &o.fleet_json, &o.fleet_csv); /* rank 0: the fleet's table */
	/* expect: thresholds (gen/expect_eval.h): missed ones on stderr, in the JSON, exit 3 */
	struct expect_result ex;
	double ex_bps[GEN_MAX_QUEUES];
	struct expect_measured exm;

	expect_measure_run(&res, r.receiver, r.steering, ex_bps, &exm);
	exm.steering_shared = rn.own_only;
	expect_eval(&prof->expect, &exm, &ex);
	expect_print(stderr, &ex);
	if (write_outputs(&o, &r, &ex)) {
		rc = EXIT_RUN_FAILED;
		hard_fail = true;
	} else if (rc != EXIT_RUN_FAILED) {
		rc = EXIT_OK;
	}
	if (!total || failed == streams) {
		fprintf(stderr, "zcgen: %s to %s", total ? "every stream failed" : "nothing could be sent",
			plan->dest_str);
		bool refused = false;

		for (unsigned i = 0; i < res.nq; i++)
			if (res.q[i].first_error[0]) {
				fprintf(stderr, ": %s", res.q[i].first_error);
				refused = strstr(res.q[i].first_error, strerror(ECONNREFUSED)) != NULL;
				break;
			}
		fputc('\n', stderr);
		if (refused || (!total && prof->proto == GEN_PROTO_TCP)) {
			const char *c = strrchr(plan->dest_str, ':');

			fprintf(stderr, "zcgen: hint: nothing listens there; start a receiver: zcgen sink "
				"--listen %s:%s%s, or iperf3 -s -p %s\n",
				plan->dest.ss_family == AF_INET6 ? "[::]" : "0.0.0.0", c ? c + 1 : "PORT",
				prof->proto == GEN_PROTO_UDP ? " --protocol udp" : "", c ? c + 1 : "PORT");
		}
		rc = EXIT_RUN_FAILED;
	}
	if (res.end == ENGINE_END_STALLED) {
		/* the figures above are what was measured until the stall */
		fprintf(stderr, "zcgen: %s\n", res.end_msg);
		rc = EXIT_RUN_FAILED;
	}
	if (i3 && i3->failed) {
		/* zcgen's own figures are above; the server's are missing */
		fprintf(stderr, "zcgen: %s\n", i3->msg[0] ? i3->msg : i3->ctl.err);
		rc = EXIT_RUN_FAILED;
	}
	if (rc == EXIT_OK && ex.n_missed)
		rc = EXIT_EXPECT;
out_nic:
	fleet_undo_wait(o.fleet); /* the host's ranks are done before its NIC is put back */
	had_nic = rn.applied;
	stopsig_hold(&held);
	if (runnic_undo(&rn, err, sizeof(err))) {
		fprintf(stderr, "zcgen: nic %s: could not put everything back: %s; "
			"run `zcgen nic restore %s`\n", rn.ifname, err, rn.ifname);
		if (rc == EXIT_OK)
			rc = EXIT_RUN_FAILED;
		hard_fail = true;
	}
	stopsig_release(&held);
	/* a signal ends the run with 128+N unless something is left to do by hand */
	if (gen_stop && rc != EXIT_USAGE && !hard_fail) {
		rc = stopsig_exit_code(gen_stop);
		fprintf(stderr, "zcgen: stopped by %s%s%s%s\n", stopsig_name(gen_stop),
			had_nic ? "; nic " : "", had_nic ? rn.ifname : "", had_nic ? " put back" : "");
	}
out:
	fleet_failed(o.fleet, "its error is above, tagged with its rank");
	json_decref(o.fleet_json);
	free(o.fleet_csv);
	free(i3);
	engine_result_free(&res);
	diags_free(&d);
	free(plan);
	return rc;
}

struct lab_work {
	struct gen_profile *prof;
	const struct run_opts *o;
};

/* In the lab runner's child, inside the lab: the run itself. */
static int lab_work(void *arg)
{
	struct lab_work *w = arg;

	return run_resolved(w->prof, w->o);
}

/*
 * --lab: fit queues and CPUs to this machine, bring the lab up (or reuse
 * it), point the profile at it, and run in a child that enters the lab's
 * sending namespace (network, and a mount namespace with the lab's sysfs):
 * gen/labrun.h. The parent stays outside, passes SIGINT/SIGTERM/SIGHUP on,
 * and tears down a lab it created even when the child fails or dies. A
 * signal during lab up is noted, the lab finished (or undone by lab_up
 * itself) and taken down again: no half lab is left, and no run starts.
 */
static int run_lab(struct gen_profile *prof, const struct run_opts *o)
{
	struct labrun lr;
	struct lab_cfg *lc = &lr.cfg;
	struct lab_info *li = &lr.info;
	struct lab_work w = { .prof = prof, .o = o };
	struct lab_fit fit;
	char msg[512];
	int ret, status, rc;

	if (prof->dport_lo) {
		fprintf(stderr, "zcgen: target.ports %u-%u: the lab's sink listens on one port; drop "
			"--dest-ports (target.ports) with --lab\n", prof->dport_lo, prof->dport_hi);
		return EXIT_USAGE;
	}
	if (labrun_fit(prof, true, &fit))
		return EXIT_USAGE;
	labrun_fit_say(&fit);
	labrun_init(&lr, "zcgen", EXIT_USAGE);
	lr.says.none_left = true;
	lc->queues = prof->queues;
	lc->sink = true;
	if (o->lab_flavour == LAB_DROP) {
		if (labdrop_fit(prof, lc, msg, sizeof(msg))) {
			fprintf(stderr, "zcgen: --lab=drop: %s\n", msg);
			return EXIT_USAGE;
		}
		if (msg[0])
			printf("lab: %s\n", msg);
	}
	if (o->dry_run) {
		ret = lab_query(lc, li, msg, sizeof(msg));
		if (ret) {
			printf("lab: not up; a run would create it with %u queues (zcgen lab up to see "
			       "its NIC changes)\n", lc->queues);
			return EXIT_OK;
		}
	} else {
		ret = labrun_up(&lr);
		if (ret < 0)
			return gen_stop ? stopsig_exit_code(gen_stop) : EXIT_USAGE;
		if (ret == LABRUN_STOPPED) {
			rc = stopsig_exit_code(gen_stop);
			goto out_down;
		}
	}
	labrun_line(li, msg, sizeof(msg));
	printf("%s\n", msg);
	snprintf(prof->host, sizeof(prof->host), "%s", li->rx_ipv4);
	prof->port = prof->proto == GEN_PROTO_UDP ? li->sink_udp_port : li->sink_tcp_port;
	if (!prof->port && (li->flavour == LAB_DROP || o->dry_run)) {
		prof->port = LAB_SINK_PORT;   /* the drop lab: no sink, any port */
	} else if (!prof->port) {
		fprintf(stderr, "zcgen: lab: no sink is running in %s (zcgen lab status; zcgen lab down, "
			"then run again to start a lab with its sink)\n", li->rx_netns);
		rc = EXIT_RUN_FAILED;
		goto out_down;
	}
	/*
	 * The lab's sink answers the iperf3 control protocol (server zcgen or
	 * iperf3) and takes plain streams (server none): the profile decides.
	 */
	if (!o->no_nic) {
		if (prof->nic.present && strcmp(prof->nic.interface, li->tx_dev))
			printf("lab: nic.interface %s -> %s\n", prof->nic.interface, li->tx_dev);
		prof->nic.present = true;
		snprintf(prof->nic.interface, sizeof(prof->nic.interface), "%s", li->tx_dev);
		/* the lab's veth already has one TX queue per ring */
		prof->nic.combined = prof->nic.rx = prof->nic.tx = -1;
	}
	ret = labrun_run(&lr, lab_work, &w, &status);
	if (ret) {
		fprintf(stderr, "zcgen: lab: cannot start the run in the lab: %s\n", strerror(-ret));
		rc = EXIT_RUN_FAILED;
		goto out_down;
	}
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_RUN_FAILED;
	if (WIFSIGNALED(status))
		fprintf(stderr, "zcgen: the lab run died of signal %d\n", WTERMSIG(status));
out_down:
	labrun_down(&lr);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct option lo[N_RUN_OPTS + GEN_MAX_KEYS + 1];
	const char *key;
	unsigned nlo = 0;
	struct override ov[64];
	unsigned nov = 0;
	struct run_opts o = { 0 };
	struct gen_profile *prof = NULL;
	struct gen_diags d = { 0 };
	int c, rc = EXIT_USAGE;

	for (; nlo < N_RUN_OPTS; nlo++)
		lo[nlo] = run_opts[nlo];
	if (cmd_key_options("zcgen run", lo, nlo, NULL, OPT_KEY) < 0)
		return EXIT_RUN_FAILED;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hv", lo, NULL)) != -1) {
		switch (c) {
		case OPT_PROFILE: o.profile = optarg; break;
		case OPT_JSON: o.json = optarg; break;
		case OPT_JSON_FORMAT:
			if (strcmp(optarg, "zcgen") && strcmp(optarg, "iperf3")) {
				fprintf(stderr, "zcgen: --json-format %s: zcgen or iperf3\n", optarg);
				return EXIT_USAGE;
			}
			o.json_iperf3 = !strcmp(optarg, "iperf3");
			break;
		case OPT_CSV: o.csv = optarg; break;
		case OPT_JSON_STREAM: o.json_stream = true; break;
		case OPT_METRICS: o.metrics = optarg; break;
		case OPT_DRY: o.dry_run = true; break;
		case OPT_NONIC: o.no_nic = true; break;
		case OPT_LIVE: o.live = true; break;
		case OPT_QUIET: o.quiet = true; break;
		case OPT_LAB:
			o.lab = true;
			if (lab_flavour_parse(optarg, &o.lab_flavour)) {
				fprintf(stderr, "zcgen: --lab=%s: veth or drop\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_FORCE: o.force = true; break;
		case OPT_START_AT: {
			char why[200];

			if (startat_parse(optarg, &o.start_at, why, sizeof(why))) {
				fprintf(stderr, "zcgen: --start-at %s: %s\n", optarg, why);
				return EXIT_USAGE;
			}
			o.start_at_arg = optarg;
			break;
		}
		case OPT_IPERF3: /* = --server iperf3, in its place among the overrides */
			if (nov < sizeof(ov) / sizeof(ov[0]))
				ov[nov++] = (struct override){ "server", "iperf3" };
			break;
		case 'h':
		case OPT_HELP: fputs(run_usage, stdout); return EXIT_OK;
		case 'v': return cmd_version();
		default:
			if ((key = cmd_key_option(c, OPT_KEY))) {
				if (nov < sizeof(ov) / sizeof(ov[0]))
					ov[nov++] = (struct override){ key, optarg };
				break;
			}
			return cmd_bad_option("zcgen run", lo, argc, argv);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "zcgen: unexpected argument '%s'\n%s", argv[optind], run_usage);
		return EXIT_USAGE;
	}
	if (!o.profile && !nov && !o.lab) {
		fprintf(stderr, "zcgen: a profile (--profile FILE) or at least --dest is needed\n%s",
			run_usage);
		return EXIT_USAGE;
	}
	if (o.start_at_arg && fleet_launched()) {
		fprintf(stderr, "zcgen: --start-at: a fleet started by mpirun has its own common start "
			"(docs/fleet.md); drop --start-at\n");
		return EXIT_USAGE;
	}
	if (o.start_at_arg && !o.dry_run && startat_seconds(&o.start_at) <= now_realtime()) {
		char when[64];

		startat_format(&o.start_at, when, sizeof(when));
		fprintf(stderr, "zcgen: --start-at %s: that time (%s) is %.3f s in the past; nothing "
			"was sent\n", o.start_at_arg, when, now_realtime() - startat_seconds(&o.start_at));
		return EXIT_USAGE;
	}
	/* a fleet's other ranks write no report: only rank 0 checks (and creates) the files */
	if ((!fleet_launched() || fleet_env_rank() == 0) && !outputs_check(&o))
		return EXIT_USAGE;

	o.json_fd = -1;
	if ((o.json && !strcmp(o.json, "-")) || o.json_stream) {
		/* the JSON alone on standard output, for pipelines: every other line goes to stderr */
		fflush(stdout);
		o.json_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		if (o.json_fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
			fprintf(stderr, "zcgen: --json -: %s\n", strerror(errno));
			return EXIT_RUN_FAILED;
		}
	}
	prof = calloc(1, sizeof(*prof));
	if (!prof) {
		fprintf(stderr, "zcgen: out of memory\n");
		goto out;
	}
	profile_init(prof);
	if (o.profile)
		profile_load(prof, o.profile, &d);
	for (unsigned i = 0; i < nov; i++)
		profile_set(prof, ov[i].key, ov[i].value, &d);
	diags_print(&d, stderr); /* warnings too */
	if (diags_errors(&d)) {
		unsigned ne = diags_errors(&d);

		fprintf(stderr, "zcgen: %u error%s; nothing was sent\n", ne, ne == 1 ? "" : "s");
		goto out;
	}
	if (fleet_launched() && !o.lab) {
		/* one rank of a fleet: its part of the profile (gen/fleet.h) */
		rc = fleet_begin(&o.fleet, prof, o.json_iperf3, &gen_stop);
		if (rc)
			goto out;
		if (fleet_rank(o.fleet))
			o.json = o.csv = NULL; /* rank 0 writes the fleet's */
	} else if (prof->fleet_line) {
		fprintf(stderr, "zcgen: %s:%d: the profile has a fleet: section: start it with mpirun "
			"-np N zcgen --profile %s (docs/fleet.md)%s\n", prof->path, prof->fleet_line,
			prof->path, o.lab ? "; with the lab: zcgen lab exec -- mpirun ..." : "");
		goto out;
	}
	if (o.lab) {
		/* the lab owns the namespaces: this process only waits and cleans up */
		rc = run_lab(prof, &o);
		goto out;
	}
	rc = run_resolved(prof, &o);
out:
	if (o.json_fd >= 0)
		close(o.json_fd);
	rc = fleet_end(o.fleet, rc);
	diags_free(&d);
	free(prof);
	/* everything is back and written: end as the signal would have (gen/stopsig.h) */
	if (gen_stop && rc == stopsig_exit_code(gen_stop))
		stopsig_die(gen_stop);
	return rc;
}
