/* cmd_run.c - `zcgen [run] --profile FILE`: profile + overrides -> plan -> engine -> report */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gen/gen.h"
#include "gen/cmd.h"
#include "gen/engine.h"
#include "gen/report.h"

volatile sig_atomic_t gen_stop;

static void on_signal(int sig)
{
	gen_stop = sig;
}

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
	"  --server KIND        none|zcgen|iperf3 (control connection; only none runs today)\n"
	"  --protocol P         tcp|udp\n"
	"  --queues N           queues (one ring and one pinned thread each)\n"
	"  --cpus LIST          CPUs for the queues, e.g. 0-7 or 0,2,4\n"
	"  --streams N          streams (sockets) per queue\n"
	"  --size SIZE          bytes per send (64K = 65536); UDP: datagram payload\n"
	"  --mode M             copy|zc|zc-fixed|auto\n"
	"  --depth N            sends in flight per stream\n"
	"  --duration TIME      measured time (10s, 500ms, 2m)\n"
	"  --omit TIME          warm-up not counted (like iperf3 -O)\n"
	"  --interval TIME      live and JSON interval\n"
	"  --no-nic             do not apply the profile's nic: section\n"
	"  --json FILE          write the report as JSON (docs/json.md); - for stdout\n"
	"  --csv FILE           one row per queue and interval\n"
	"  --live / --quiet     interval lines on or off (default: on a terminal only)\n"
	"  --dry-run            print the resolved plan and exit\n"
	"  --help               this text\n"
	"Exit: 0 success, 1 the run failed (nothing sent), 2 usage or profile error.\n";

struct run_opts {
	const char *profile;
	const char *json, *csv;
	bool dry_run, no_nic, live, quiet;
};

/* Options that map one to one onto profile keys. */
static const struct {
	const char *opt;
	const char *key;
} override_keys[] = {
	{ "dest", "dest" },         { "server", "server" },     { "protocol", "protocol" },
	{ "queues", "queues" },     { "cpus", "cpus" },         { "streams", "streams" },
	{ "size", "size" },         { "mode", "mode" },         { "depth", "depth" },
	{ "duration", "duration" }, { "omit", "omit" },         { "interval", "interval" },
};

enum { OPT_PROFILE = 1000, OPT_JSON, OPT_CSV, OPT_DRY, OPT_NONIC, OPT_LIVE, OPT_QUIET, OPT_HELP,
       OPT_KEY };

struct override {
	const char *key, *value;
};

static void on_interval(const struct engine_plan *plan, const struct engine_interval *iv, void *arg)
{
	if (*(bool *)arg)
		report_interval(stdout, plan, iv);
}

static int write_outputs(const struct run_opts *o, const struct report_ctx *r)
{
	int ret = 0;

	if (o->json) {
		json_t *j = report_json(r);

		if (!j || json_dump_file(j, strcmp(o->json, "-") ? o->json : "/dev/stdout",
					 JSON_INDENT(2)) < 0) {
			fprintf(stderr, "zcgen: cannot write JSON to %s\n", o->json);
			ret = -EIO;
		}
		json_decref(j);
	}
	if (o->csv) {
		FILE *f = fopen(o->csv, "w");

		if (!f) {
			fprintf(stderr, "zcgen: cannot write %s: %s\n", o->csv, strerror(errno));
			return -errno;
		}
		report_csv(f, r);
		if (fclose(f))
			ret = -EIO;
	}
	return ret;
}

int cmd_run(int argc, char **argv)
{
	struct option lo[] = {
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "csv", required_argument, NULL, OPT_CSV },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ "no-nic", no_argument, NULL, OPT_NONIC },
		{ "live", no_argument, NULL, OPT_LIVE },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "help", no_argument, NULL, OPT_HELP },
		/* the profile overrides, in override_keys order */
		{ "dest", required_argument, NULL, OPT_KEY + 0 },
		{ "server", required_argument, NULL, OPT_KEY + 1 },
		{ "protocol", required_argument, NULL, OPT_KEY + 2 },
		{ "queues", required_argument, NULL, OPT_KEY + 3 },
		{ "cpus", required_argument, NULL, OPT_KEY + 4 },
		{ "streams", required_argument, NULL, OPT_KEY + 5 },
		{ "size", required_argument, NULL, OPT_KEY + 6 },
		{ "mode", required_argument, NULL, OPT_KEY + 7 },
		{ "depth", required_argument, NULL, OPT_KEY + 8 },
		{ "duration", required_argument, NULL, OPT_KEY + 9 },
		{ "omit", required_argument, NULL, OPT_KEY + 10 },
		{ "interval", required_argument, NULL, OPT_KEY + 11 },
		{ NULL, 0, NULL, 0 },
	};
	struct override ov[64];
	unsigned nov = 0;
	struct run_opts o = { 0 };
	struct gen_profile *prof = NULL;
	struct engine_plan *plan = NULL;
	struct engine_result res = { 0 };
	struct gen_diags d = { 0 };
	char err[512];
	int c, ret, rc = EXIT_USAGE;

	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case OPT_PROFILE: o.profile = optarg; break;
		case OPT_JSON: o.json = optarg; break;
		case OPT_CSV: o.csv = optarg; break;
		case OPT_DRY: o.dry_run = true; break;
		case OPT_NONIC: o.no_nic = true; break;
		case OPT_LIVE: o.live = true; break;
		case OPT_QUIET: o.quiet = true; break;
		case OPT_HELP: fputs(run_usage, stdout); return EXIT_OK;
		default:
			if (c >= OPT_KEY && c < OPT_KEY + (int)(sizeof(override_keys) / sizeof(override_keys[0]))) {
				if (nov < sizeof(ov) / sizeof(ov[0]))
					ov[nov++] = (struct override){ override_keys[c - OPT_KEY].key, optarg };
				break;
			}
			fputs(run_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "zcgen: unexpected argument '%s'\n%s", argv[optind], run_usage);
		return EXIT_USAGE;
	}
	if (!o.profile && !nov) {
		fprintf(stderr, "zcgen: a profile (--profile FILE) or at least --dest is needed\n%s",
			run_usage);
		return EXIT_USAGE;
	}

	prof = calloc(1, sizeof(*prof));
	plan = calloc(1, sizeof(*plan));
	if (!prof || !plan) {
		fprintf(stderr, "zcgen: out of memory\n");
		goto out;
	}
	profile_init(prof);
	if (o.profile)
		profile_load(prof, o.profile, &d);
	for (unsigned i = 0; i < nov; i++)
		profile_set(prof, ov[i].key, ov[i].value, &d);
	if (!diags_errors(&d))
		profile_validate(prof, &d);
	diags_print(&d, stderr); /* warnings too */
	if (diags_errors(&d)) {
		unsigned ne = diags_errors(&d);

		fprintf(stderr, "zcgen: %u error%s; nothing was sent\n", ne, ne == 1 ? "" : "s");
		goto out;
	}
	if (prof->server != GEN_SERVER_NONE) {
		fprintf(stderr, "zcgen: target.server '%s' needs the control protocol, which this build "
			"does not have yet; use server: none (or --server none) against any receiver\n",
			gen_server_name(prof->server));
		goto out;
	}
	ret = engine_plan(prof, plan, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "zcgen: %s\n", err);
		goto out;
	}
	if (prof->nic.present && !o.no_nic)
		fprintf(stderr, "zcgen: note: the nic: section (%s) is not applied by this build; "
			"run with --no-nic to silence this\n", prof->nic.interface);
	if (o.dry_run) {
		report_plan(stdout, plan);
		rc = EXIT_OK;
		goto out;
	}

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	bool live = !o.quiet && (o.live || isatty(STDOUT_FILENO));
	if (live || isatty(STDOUT_FILENO))
		printf("zcgen: %s %s, %u queue%s, %s, %llu B sends\n", gen_proto_name(prof->proto),
		       plan->dest_str, plan->nq, plan->nq == 1 ? "" : "s", plan->mode_reason,
		       (unsigned long long)plan->msg_size);
	ret = engine_run(plan, &res, on_interval, &live);
	if (ret) {
		fprintf(stderr, "zcgen: cannot start the run: %s\n", strerror(-ret));
		rc = EXIT_RUN_FAILED;
		goto out;
	}

	struct report_ctx r = { .plan = plan, .res = &res, .steering = -1,
				.colour = cmd_colour(STDOUT_FILENO) };
	uint64_t total = 0;
	unsigned streams = 0, failed = 0;

	for (unsigned i = 0; i < res.nq; i++) {
		total += res.q[i].bytes + res.q[i].sends;
		streams += res.q[i].streams;
		failed += res.q[i].streams_failed;
	}
	report_table(stdout, &r);
	fflush(stdout);
	rc = write_outputs(&o, &r) ? EXIT_RUN_FAILED : EXIT_OK;
	if (!total || failed == streams) {
		fprintf(stderr, "zcgen: %s to %s", total ? "every stream failed" : "nothing could be sent",
			plan->dest_str);
		for (unsigned i = 0; i < res.nq; i++)
			if (res.q[i].first_error[0]) {
				fprintf(stderr, ": %s", res.q[i].first_error);
				break;
			}
		fputc('\n', stderr);
		rc = EXIT_RUN_FAILED;
	}
out:
	engine_result_free(&res);
	diags_free(&d);
	free(plan);
	free(prof);
	return rc;
}
