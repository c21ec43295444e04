/* metrics.h - a Prometheus text file (node_exporter's textfile collector), replaced atomically */
#ifndef ZCGEN_METRICS_H
#define ZCGEN_METRICS_H

#include <stdint.h>
#include <stdio.h>

/*
 * One write of the file: metrics_begin() opens PATH.tmp in the same
 * directory, the families and samples go there, metrics_commit() renames it
 * over PATH, so that a collector reading PATH sees the old file or the new
 * one, never half of one.
 */
struct metrics_file {
	const char *path;
	char tmp[4200];
	FILE *f;
};

/* Return: 0, or -errno (PATH.tmp cannot be created). */
int metrics_begin(struct metrics_file *m, const char *path);
/* "# HELP zcgen_NAME HELP" and "# TYPE zcgen_NAME TYPE" (counter names end in _total). */
void metrics_family(struct metrics_file *m, const char *name, const char *type, const char *help);
/* zcgen_NAME{LABEL="ID"} VALUE; @label NULL: no label. */
void metrics_sample(struct metrics_file *m, const char *name, const char *label, unsigned id,
		    double value);
/* Return: 0, or -errno (the write, close or rename failed; PATH.tmp is removed then). */
int metrics_commit(struct metrics_file *m);

#endif
