/* main.c - zcgen's entry point: subcommand dispatch */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "gen/gen.h"
#include "gen/cmd.h"
#include "zcgen_version.h"

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "--version")) {
		printf("zcgen %s (liburing %s)\n", ZCGEN_VERSION, ZCGEN_LIBURING_VERSION);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "sink"))
		return cmd_sink(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "nic"))
		return cmd_nic(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "lab"))
		return cmd_lab(argc - 1, argv + 1);
	fprintf(stderr, "zcgen: run not built yet\n");
	return EXIT_USAGE;
}
