/* profile.h - YAML profiles and CLI overrides into one validated struct gen_profile */
#ifndef ZCGEN_PROFILE_H
#define ZCGEN_PROFILE_H

#include <stdbool.h>
#include <stdio.h>

/* gen.h defines the profile, gen/names.h its enums */
#include "gen/gen.h"
#include "gen/diags.h"

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
 * A full key path of the profile ("nic.xps", "target.port") is accepted too.
 * The same key table as the YAML loader, so units and ranges are checked
 * one way. Return: 0 or -EINVAL with a problem added to @d.
 */
int profile_set(struct gen_profile *p, const char *key, const char *value, struct gen_diags *d);

/**
 * profile_option() - the options of zcgen run that set a profile key
 * @i: 0, 1, ...: the keys with a command-line name, in the key table's order
 *
 * zcgen run builds its getopt_long() table from these; each takes a value,
 * which goes to profile_set() under this same name.
 * Return: the option's name without "--" ("dest", "stall-timeout"), NULL past the last.
 */
const char *profile_option(unsigned i);

/*
 * Checks across keys, done after the overrides: a target is given, the CPUs
 * exist and the process may use them (sched_getaffinity), omit < duration,
 * UDP size fits a datagram, enough NIC channels for the queues, the open-file
 * limit covers the sockets, ... Warnings (queues wrapping onto CPUs, a
 * documentation address as target) are added to @d with .warning set and do
 * not fail the check.
 * When no cpus were given (n_cpus 0), fills p->cpus with the CPUs the process
 * may use, so that every later stage sees the resolved list.
 * Return: 0 (possibly with warnings in @d) or -EINVAL with errors in @d.
 */
int profile_validate(struct gen_profile *p, struct gen_diags *d);

/*
 * The CPU queue @q runs on: the q-th CPU of p->cpus, wrapping around.
 * Only meaningful after profile_validate (n_cpus > 0).
 */
unsigned profile_queue_cpu(const struct gen_profile *p, unsigned q);

/**
 * profile_edit_distance() - Levenshtein distance between @a and @b, ignoring
 * case and only their first 64 characters: for "did you mean" on profile keys
 * and on command-line options.
 */
unsigned profile_edit_distance(const char *a, const char *b);

#endif
