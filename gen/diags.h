/* diags.h - problems found in a profile or an override, each with its FILE:LINE:COL or --OPTION */
#ifndef ZCGEN_DIAGS_H
#define ZCGEN_DIAGS_H

#include <stdbool.h>
#include <stdio.h>

/* One problem found in a profile or an override; all of them are collected. */
struct gen_diag {
	char file[256];   /* "" for command-line overrides and cross-key checks */
	int line, col;    /* 1-based; 0 when not from a file */
	char key[128];    /* key path: "nic.channels.combined", "target.port" */
	char msg[320];    /* what is wrong and what would be accepted */
	bool cli;         /* from profile_set: printed as "--KEY: MSG" */
	bool warning;     /* not an error: the run may go on (e.g. queues wrap onto CPUs) */
	bool host;        /* a fact of this machine (CPUs it lacks), not of the profile: an error
			   * for a run, but --dry-run shows the plan and lists it */
};

/*
 * At most DIAGS_KEEP problems are kept (a file of 80000 bad lines would
 * otherwise cost 60 MB and minutes); the rest are only counted. Within one
 * file the ones kept are those first in line order.
 */
#define DIAGS_KEEP 200
/* diags_print shows the first DIAGS_PRINT errors, then how many more there are. */
#define DIAGS_PRINT 20

struct gen_diags {
	struct gen_diag *v;
	unsigned n, cap;
	unsigned dropped;     /* errors found beyond DIAGS_KEEP, counted but not kept */
	unsigned dropped_warnings;
};

void diags_free(struct gen_diags *d);

/**
 * diags_add() - add one problem to @d
 * @file: the file it is in; "" or NULL for an override or a check across keys
 * @line: 1-based, with @col; 0 when not from a file
 * @key: the key path it is about ("nic.channels.combined"), or the option (@cli)
 * @cli: from the command line: printed as "--KEY: MSG"
 * @warning: not an error; the run may go on
 *
 * Beyond DIAGS_KEEP problems, only counted, except a file's problem earlier in
 * line order than one kept, which takes that one's place.
 * Return: 0 or -ENOMEM.
 */
__attribute__((format(printf, 8, 9)))
int diags_add(struct gen_diags *d, const char *file, int line, int col, const char *key,
	      bool cli, bool warning, const char *fmt, ...);

/*
 * One file's problems as a reader finds them (the YAML reader, the profile
 * loader): each an error at LINE:COL of @file, the reader going on after it.
 */
struct diags_file {
	struct gen_diags *d;
	const char *file;           /* kept, not copied */
	int err;                    /* -ENOMEM once a problem could not be kept */
};

/**
 * diags_at() - an error (not a warning) at @line:@col of @f's file, about @key
 * @f: where it goes; @f->err becomes -ENOMEM when it cannot be kept
 * @line: 1-based, with @col
 * @key: the key path it is about, "" for none
 */
__attribute__((format(printf, 5, 6)))
void diags_at(struct diags_file *f, int line, int col, const char *key, const char *fmt, ...);

/* diags_sort() - @d's problems from index @from on (one file's) into line and column order. */
void diags_sort(struct gen_diags *d, unsigned from);

/*
 * diags_print - one line per problem:
 *   "FILE:LINE:COL: error: KEY: MSG"   from a file
 *   "--KEY: MSG"                       from a command-line override
 *   "error: KEY: MSG"                  from profile_validate's cross-key checks
 * Warnings say "warning:" instead of "error:" ("--KEY: warning: MSG").
 * Every warning kept is printed, errors up to DIAGS_PRINT; then one line
 * "... and N more errors" when there were more.
 */
void diags_print(const struct gen_diags *d, FILE *out);
/* Number of errors in @d (not warnings), those counted beyond DIAGS_KEEP included. */
unsigned diags_errors(const struct gen_diags *d);

#endif
