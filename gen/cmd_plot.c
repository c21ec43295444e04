/* cmd_plot.c - `zcgen plot REPORT.json -o FILE.svg`: a report's throughput over time */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "gen/cmd.h"
#include "gen/plot.h"

static const char plot_usage[] =
	"usage: zcgen plot REPORT.json [-o FILE.svg]\n"
	"\n"
	"Draws a run's or a sink's JSON report (--json) as SVG: throughput per queue\n"
	"(or sink worker) over time, the total, and when the report has them the\n"
	"receiver's rate and loss. An ndr report (zcgen ndr --json) is drawn as\n"
	"throughput and latency against frame size.\n"
	"  -o, --output FILE    the picture (default: standard output)\n"
	"  -h, --help           this text\n"
	"Exit: 0 drawn, 1 the report cannot be drawn or the file written, 2 usage error.\n";

int cmd_plot(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ 0 },
	};
	const char *out = NULL;
	json_error_t je;
	char err[256];
	json_t *rep;
	FILE *f;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:hv", lo, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'h':
			fputs(plot_usage, stdout);
			return EXIT_OK;
		case 'v':
			return cmd_version();
		default:
			return cmd_bad_option("zcgen plot", lo, argc, argv);
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "zcgen plot: %s\n%s", optind == argc ? "which report? give one JSON file" :
			"one report at a time", plot_usage);
		return EXIT_USAGE;
	}
	rep = json_load_file(argv[optind], 0, &je);
	if (!rep) {
		fprintf(stderr, "zcgen plot: %s:%d:%d: %s\n", argv[optind], je.line, je.column, je.text);
		return EXIT_RUN_FAILED;
	}
	f = out && strcmp(out, "-") ? fopen(out, "w") : stdout;
	if (!f) {
		fprintf(stderr, "zcgen plot: cannot write %s: %m\n", out);
		json_decref(rep);
		return EXIT_RUN_FAILED;
	}
	r = plot_svg(rep, f, err, sizeof(err));
	if (f != stdout && fclose(f) && !r) {
		snprintf(err, sizeof(err), "cannot write %s: %s", out, strerror(errno));
		r = -1;
	}
	json_decref(rep);
	if (r) {
		fprintf(stderr, "zcgen plot: %s: %s\n", argv[optind], err);
		if (f != stdout)
			remove(out);
		return EXIT_RUN_FAILED;
	}
	return EXIT_OK;
}
