/* profile.h - YAML profiles and CLI overrides into one validated struct gen_profile */
#ifndef ZCGEN_PROFILE_H
#define ZCGEN_PROFILE_H

#include <stdio.h>

struct gen_profile;

/* One problem found in a profile or an override; all of them are collected. */
struct gen_diag {
	char file[256];   /* "" for command-line overrides */
	int line, col;    /* 1-based; 0 when not from a file */
	char key[128];    /* key path: "nic.channels.combined", "target.port" */
	char msg[320];    /* what is wrong and what would be accepted */
};

struct gen_diags {
	struct gen_diag *v;
	unsigned n, cap;
};

void diags_free(struct gen_diags *d);
/* "FILE:LINE:COL: KEY: MSG" one per line; "--KEY: MSG" for overrides. */
void diags_print(const struct gen_diags *d, FILE *out);

/* Defaults for every key (see docs/profiles.md). */
void profile_init(struct gen_profile *p);

/*
 * Load a YAML file over the current contents of @p. Every problem is added
 * to @d (not only the first).
 * Return: 0 when the file was read and had no problem, -EINVAL when @d has
 * problems, -errno when the file could not be read (also added to @d).
 */
int profile_load(struct gen_profile *p, const char *path, struct gen_diags *d);

/*
 * Apply one override by key, as given on the command line: "dest"
 * (HOST:PORT), "server", "protocol", "queues", "cpus", "streams", "size",
 * "mode", "depth", "duration", "omit", "interval", "name".
 * The same key table as the YAML loader, so units and ranges are checked
 * one way. Return: 0 or -EINVAL with a problem added to @d.
 */
int profile_set(struct gen_profile *p, const char *key, const char *value, struct gen_diags *d);

/*
 * Checks across keys, done after the overrides: a target is given, the CPUs
 * exist and the process may use them (sched_getaffinity), omit < duration,
 * UDP size fits a datagram, ... Return: 0 or -EINVAL with problems in @d.
 */
int profile_validate(struct gen_profile *p, struct gen_diags *d);

#endif
