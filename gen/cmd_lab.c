/* cmd_lab.c - `zcgen lab` (placeholder until the module lands) */
#include <stdio.h>
#include <stdbool.h>
#include "gen/cmd.h"

int cmd_lab(int argc, char **argv)
{
	fprintf(stderr, "zcgen lab: not built yet\n");
	return EXIT_USAGE;
}
