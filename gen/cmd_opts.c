/* cmd_opts.c - the options that set profile keys, what every subcommand says about a bad option, and -v/--version */
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "profile.h"
#include "zcgen_version.h"

int cmd_version(void)
{
	printf("zcgen %s (liburing %s)\n", ZCGEN_VERSION, ZCGEN_LIBURING_VERSION);
	return EXIT_OK;
}

int cmd_key_options(const char *who, struct option *lo, unsigned n, const char *const *names,
		    int base)
{
	const char *key;
	unsigned i;

	if (!names) {
		for (i = 0; i < GEN_MAX_KEYS && (key = profile_option(i)); i++)
			lo[n++] = (struct option){ key, required_argument, NULL, base + (int)i };
		lo[n] = (struct option){ NULL, 0, NULL, 0 };
		return (int)n;
	}
	for (; *names; names++) {
		for (i = 0; (key = profile_option(i)) && strcmp(key, *names); i++)
			;
		if (!key) {
			fprintf(stderr, "%s: internal error: --%s sets no key of the profile's key table\n",
				who, *names);
			return -1;
		}
		lo[n++] = (struct option){ key, required_argument, NULL, base + (int)i };
	}
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	return (int)n;
}

const char *cmd_key_option(int c, int base)
{
	return c >= base ? profile_option((unsigned)(c - base)) : NULL;
}

/* The long option for short letter @c, if @lo names one. */
static const struct option *long_of(const struct option *lo, int c)
{
	for (; lo->name; lo++)
		if (!lo->flag && lo->val == c)
			return lo;
	return NULL;
}

static void bad_long(const char *who, const struct option *lo, const char *arg)
{
	const char *name = arg + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct option *exact = NULL, *best = NULL;
	unsigned bestd = UINT_MAX, nprefix = 0;
	char typed[64];

	snprintf(typed, sizeof(typed), "%.*s", (int)(len < 60 ? len : 60), name);
	for (const struct option *o = lo; o->name; o++) {
		unsigned d;

		if (!strncmp(o->name, name, len)) {
			nprefix++;
			if (strlen(o->name) == len)
				exact = o;
		}
		d = profile_edit_distance(typed, o->name);
		if (d < bestd) {
			bestd = d;
			best = o;
		}
	}
	if (exact || nprefix == 1) {
		const struct option *o = exact ? exact : best;

		if (!exact)
			for (o = lo; strncmp(o->name, name, len); o++)
				;
		if (eq && o->has_arg == no_argument)
			fprintf(stderr, "%s: --%s takes no value (got '%.60s')\n", who, o->name, eq + 1);
		else
			fprintf(stderr, "%s: --%s needs a value\n", who, o->name);
	} else if (nprefix > 1) {
		unsigned n = 0;

		fprintf(stderr, "%s: option --%s is ambiguous (", who, typed);
		for (const struct option *o = lo; o->name; o++)
			if (!strncmp(o->name, name, len))
				fprintf(stderr, "%s--%s", n++ ? ", " : "", o->name);
		fputs("); give more of its name\n", stderr);
	} else if (best && bestd <= 2 && bestd < len) {
		fprintf(stderr, "%s: unknown option --%s; did you mean --%s?\n", who, typed, best->name);
	} else {
		fprintf(stderr, "%s: unknown option --%s\n", who, typed);
	}
}

int cmd_bad_option(const char *who, const struct option *lo, int argc, char **argv)
{
	const char *arg = optind >= 1 && optind <= argc ? argv[optind - 1] : NULL;

	if (arg && !strncmp(arg, "--", 2) && arg[2]) {
		bad_long(who, lo, arg);
	} else {
		const struct option *o = long_of(lo, optopt);

		/* glibc leaves optind on a cluster ("-xq") until its last letter */
		if (optopt && o && o->has_arg == required_argument && arg && arg[0] == '-' &&
		    arg[strlen(arg) - 1] == optopt)
			fprintf(stderr, "%s: -%c (--%s) needs a value\n", who, optopt, o->name);
		else if (optopt > ' ' && optopt < 127)
			fprintf(stderr, "%s: unknown option -%c\n", who, optopt);
		else
			fprintf(stderr, "%s: unknown option '%.60s'\n", who, arg ? arg : "?");
	}
	fprintf(stderr, "(`%s --help` lists the options)\n", who);
	return EXIT_USAGE;
}
