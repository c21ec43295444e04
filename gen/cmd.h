/* cmd.h - the command layer: each subcommand parses its arguments, prints, and returns an exit code */
#ifndef ZCGEN_CMD_H
#define ZCGEN_CMD_H

/* Exit codes, documented in docs/cli.md. */
enum {
	EXIT_OK = 0,
	EXIT_RUN_FAILED = 1,  /* nothing could be sent, every stream failed */
	EXIT_USAGE = 2,       /* usage or profile error, before any traffic */
	EXIT_EXPECT = 3,      /* an expect: threshold was missed */
};

/* argv[0] is the subcommand's name ("sink", "nic", "lab"). */
int cmd_run(int argc, char **argv);
int cmd_sink(int argc, char **argv);
int cmd_nic(int argc, char **argv);
int cmd_lab(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_offload(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_ndr(int argc, char **argv);

/* Colour only on a terminal and never with NO_COLOR set. */
bool cmd_colour(int fd);

/*
 * cmd_output_check() - can the report named by --@opt (json, csv) be written
 * at @path ("-": stdout; NULL: not asked for)? Checked before a run, so
 * that a report is not lost after it. When not, says why on stderr,
 * prefixed with @who ("zcgen sink"), and returns false: exit EXIT_USAGE.
 */
bool cmd_output_check(const char *who, const char *opt, const char *path);

struct option;

/**
 * cmd_bad_option() - say what is wrong with the option getopt_long() just
 * refused ('?' with opterr = 0): an unknown one, with the nearest name
 * ("did you mean --duration?"), one that needs a value, or an ambiguous
 * abbreviation. One line on stderr prefixed with @who ("zcgen sink"), then a
 * pointer to `@who --help`.
 * Return: EXIT_USAGE.
 */
int cmd_bad_option(const char *who, const struct option *lo, int argc, char **argv);

/**
 * cmd_key_options() - getopt_long() rows for the options that set a profile key
 * @who: the command, for the one message ("zcgen ndr")
 * @lo: where the rows go, from @lo[@n]: room for GEN_MAX_KEYS rows and the
 * NULL row written after them
 * @n: rows already in @lo (the command's own options)
 * @names: NULL: every option of the key table (profile_option()), as zcgen run
 * takes them; else the ones this command takes, NULL-terminated, in the order
 * its --help gives them (each must be a profile_option())
 * @base: getopt's value for profile_option(0); each row gets @base plus its
 * key's index there, which cmd_key_option() turns back into the name
 *
 * So the name, the value it takes and the key it sets come from the profile's
 * key table alone; a command only says which of them it takes.
 * Return: the number of rows in @lo now; -1 (said on stderr, a bug) when a
 * name of @names is not a profile option.
 */
int cmd_key_options(const char *who, struct option *lo, unsigned n, const char *const *names,
		    int base);

/* cmd_key_option() - the profile key (its option name) of getopt's @c, NULL for another option */
const char *cmd_key_option(int c, int base);

/* cmd_version() - print the version line, as `zcgen --version` does. Return: EXIT_OK. */
int cmd_version(void);

#endif
