/* cmd_nic.c - `zcgen nic` (placeholder until the module lands) */
#include <stdio.h>
#include <stdbool.h>
#include "gen/cmd.h"

int cmd_nic(int argc, char **argv)
{
	fprintf(stderr, "zcgen nic: not built yet\n");
	return EXIT_USAGE;
}
