/* cmd_merge.c - `zcgen merge A.json B.json ... -o OUT.json`: one fleet-shaped report from single runs */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "gen/cmd.h"
#include "gen/merge.h"

static const char merge_usage[] =
	"usage: zcgen merge REPORT.json REPORT.json ... [-o OUT.json]\n"
	"\n"
	"One report from single runs' JSON (zcgen run --json), started by another\n"
	"launcher than MPI (--start-at): a hosts array with one entry per report, in\n"
	"order, and a total whose bytes are the exact sum (docs/fleet.md).\n"
	"  -o, --output FILE    the merged report (default: standard output)\n"
	"  -h, --help           this text\n"
	"Exit: 0 merged, 1 a report cannot be read, is not a zcgen run report, or its\n"
	"      protocol differs from the others' (FILE: reason), 2 usage error.\n";

/* What is wrong with @j as a single run's report (zcgen run --json), or NULL. */
static const char *not_a_run(json_t *j)
{
	json_t *env = json_object_get(j, "environment");

	if (!json_is_object(j))
		return "not a JSON object: not a zcgen run report (zcgen run --json)";
	if (json_object_get(j, "hosts"))
		return "already a merged or fleet report (it has hosts[]): merge the runs' own reports";
	if (json_object_get(j, "end") && json_object_get(j, "zcgen"))
		return "iperf3's layout (--json-format iperf3): merge takes zcgen's (--json-format zcgen)";
	if (!json_is_string(json_object_get(env, "zcgen")))
		return "not a zcgen run report (zcgen run --json): no environment.zcgen";
	if (!json_is_integer(json_object_get(json_object_get(j, "total"), "bytes")) ||
	    !json_is_array(json_object_get(j, "queues")))
		return "not a zcgen run report (zcgen run --json): no total.bytes or queues[] "
		       "(a sink's, sweep's or ndr's report?)";
	if (!json_is_string(json_object_get(json_object_get(j, "plan"), "protocol")))
		return "not a zcgen run report (zcgen run --json): no plan.protocol";
	return NULL;
}

int cmd_merge(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ 0 },
	};
	const char *out = NULL, *proto0 = NULL;
	struct merge_in *in = NULL;
	json_t *root = NULL, *starts = NULL, *files = NULL;
	double lo_t = INFINITY, hi_t = -INFINITY;
	bool all_starts = true;
	int c, n, rc = EXIT_RUN_FAILED;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:hv", lo, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'h':
			fputs(merge_usage, stdout);
			return EXIT_OK;
		case 'v':
			return cmd_version();
		default:
			return cmd_bad_option("zcgen merge", lo, argc, argv);
		}
	}
	n = argc - optind;
	if (n < 1) {
		fprintf(stderr, "zcgen merge: which reports? give the runs' JSON files\n%s", merge_usage);
		return EXIT_USAGE;
	}
	if (out && strcmp(out, "-") && !cmd_output_check("zcgen merge", "output", out))
		return EXIT_USAGE;
	in = calloc((size_t)n, sizeof(*in));
	starts = json_array();
	files = json_array();
	if (!in || !starts || !files) {
		fprintf(stderr, "zcgen merge: out of memory\n");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const char *path = argv[optind + i], *why, *proto, *base;
		json_t *j, *host, *st;
		json_error_t je;

		j = json_load_file(path, 0, &je);
		if (!j) {
			if (je.line > 0)
				fprintf(stderr, "zcgen merge: %s:%d:%d: %s\n", path, je.line, je.column, je.text);
			else
				fprintf(stderr, "zcgen merge: %s: %s\n", path, je.text);
			goto out;
		}
		in[i].report = j;
		if ((why = not_a_run(j))) {
			fprintf(stderr, "zcgen merge: %s: %s\n", path, why);
			goto out;
		}
		proto = json_string_value(json_object_get(json_object_get(j, "plan"), "protocol"));
		if (!proto0) {
			proto0 = proto;
		} else if (strcmp(proto, proto0)) {
			fprintf(stderr, "zcgen merge: %s: protocol %s, but %s is %s: a merged report adds "
				"like with like; merge each protocol's reports apart\n", path, proto,
				argv[optind], proto0);
			goto out;
		}
		/* the host: the report's environment when it names one, else the file's name */
		host = json_object_get(json_object_get(j, "environment"), "host");
		base = strrchr(path, '/');
		in[i].host = json_is_string(host) ? json_string_value(host) : base ? base + 1 : path;
		/* the start: --start-at's measured one (docs/json.md), the only start a report gives */
		st = json_object_get(json_object_get(j, "start_at"), "started_unix");
		in[i].start_rt = json_is_number(st) ? json_number_value(st) : NAN;
		in[i].offset_s = NAN;  /* no clock comparison without a runtime between the hosts */
		if (isnan(in[i].start_rt)) {
			all_starts = false;
		} else {
			lo_t = fmin(lo_t, in[i].start_rt);
			hi_t = fmax(hi_t, in[i].start_rt);
		}
		json_array_append_new(starts, isnan(in[i].start_rt) ? json_null() : json_real(in[i].start_rt));
		json_array_append_new(files, json_string(path));
	}
	root = merge_reports(in, n);
	if (!root || json_object_set_new(root, "fleet", json_pack("{s:i, s:o, s:O, s:n, s:n, s:b, s:O}",
			"ranks", n, "start_skew_s", all_starts ? json_real(hi_t - lo_t) : json_null(),
			"start_times", starts, "clock_offsets_s", "clock_offset_max_s",
			"clock_warning", 0, "merged_from", files))) {
		fprintf(stderr, "zcgen merge: out of memory\n");
		goto out;
	}
	FILE *f = out && strcmp(out, "-") ? fopen(out, "w") : stdout;
	int w = f ? json_dumpf(root, f, JSON_INDENT(2)) ?: -(fputc('\n', f) == EOF) : -1;

	if (f && f != stdout && fclose(f))
		w = -1;
	if (w) {
		fprintf(stderr, "zcgen merge: cannot write %s: %s\n", out ? out : "standard output",
			strerror(errno));
		goto out;
	}
	if (out && strcmp(out, "-")) {
		json_t *t = json_object_get(json_object_get(root, "total"), "bytes");

		printf("zcgen merge: %d reports -> %s: %lld bytes in all", n, out,
		       (long long)json_integer_value(t));
		if (all_starts)
			printf(", start skew %.3f ms\n", (hi_t - lo_t) * 1e3);
		else
			printf(", start skew unknown (a report without --start-at has no start time)\n");
		merge_steering_print(stdout, root);
	}
	rc = EXIT_OK;
out:
	for (int i = 0; in && i < n; i++)
		json_decref(in[i].report);
	free(in);
	json_decref(root);
	json_decref(starts);
	json_decref(files);
	return rc;
}
