/* main.c - zcgen's entry point: subcommand dispatch */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "gen/gen.h"
#include "gen/cmd.h"
#include "gen/iperf3cli.h"
#include "zcgen_version.h"

static const char usage[] =
	"usage: zcgen [run] --profile FILE [options]   send traffic (zcgen run --help)\n"
	"       zcgen sink --listen HOST:PORT [...]      receive and count (zcgen sink --help)\n"
	"       zcgen nic show|pin|restore DEV [...]     the NIC's channels, IRQs, XPS, counters\n"
	"       zcgen lab up|down|status [...]           a veth lab in two network namespaces\n"
	"       zcgen sweep [--sizes LIST] [--modes LIST]  copy vs zero-copy per size (zcgen sweep --help)\n"
	"       zcgen compare --profile FILE [--lab] [--repeat N]  zcgen vs iperf3 (zcgen compare --help)\n"
	"       zcgen offload-check [DEV] --profile FILE   each offload on vs off (zcgen offload-check --help)\n"
	"       zcgen ndr --profile FILE [--lab] [--frame-sizes LIST]  RFC 2544 throughput (zcgen ndr --help)\n"
	"       zcgen -c HOST [-p PORT] [-t SECS] [-P N] [-l LEN] [-u] [-b RATE] [-Z] [-J] [-i SECS]\n"
	"             [-O SECS] [-A CPU]                 iperf3's client flags for a run\n"
	"       zcgen plot REPORT.json [-o FILE.svg]     throughput over time as a picture\n"
	"       zcgen merge A.json B.json ... [-o OUT.json]  one report from several runs' (--start-at)\n"
	"       zcgen --version | --help               (also -v, -V; -h)\n";

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "run", cmd_run }, { "sink", cmd_sink }, { "nic", cmd_nic }, { "lab", cmd_lab },
		{ "offload-check", cmd_offload },
		{ "sweep", cmd_sweep }, { "compare", cmd_compare }, { "plot", cmd_plot }, { "merge", cmd_merge },
		{ "ndr", cmd_ndr },
	};

	/* -v is iperf3's letter, -V the common one */
	if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v") ||
			  !strcmp(argv[1], "-V"))) {
		printf("zcgen %s (liburing %s)\n", ZCGEN_VERSION, ZCGEN_LIBURING_VERSION);
		return EXIT_OK;
	}
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (iperf3cli_wanted(argc, argv)) {
		/* `zcgen -c HOST -t 10 -P 4 -J`: iperf3's words for a run (docs/cli.md) */
		static struct iperf3cli i3;
		char err[400];

		if (iperf3cli_translate(argc, argv, &i3, err, sizeof(err))) {
			fprintf(stderr, "zcgen: %s\n", err);
			return EXIT_USAGE;
		}
		return cmd_run(i3.argc, i3.argv);
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		return cmd_run(argc, argv); /* `zcgen --profile FILE` is `zcgen run --profile FILE` */
	fprintf(stderr, "zcgen: unknown command '%s'\n%s", argv[1], usage);
	return EXIT_USAGE;
}
