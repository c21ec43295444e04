/* cmd_sink.c - `zcgen sink` (placeholder until the module lands) */
#include <stdio.h>
#include <stdbool.h>
#include "gen/cmd.h"

int cmd_sink(int argc, char **argv)
{
	fprintf(stderr, "zcgen sink: not built yet\n");
	return EXIT_USAGE;
}
