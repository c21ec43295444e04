/* iperf3cli.h - iperf3's client flags (zcgen -c HOST -t 10 -P 4 ...) as a zcgen run's options */
#ifndef ZCGEN_IPERF3CLI_H
#define ZCGEN_IPERF3CLI_H

#include <stdbool.h>
#include <stddef.h>

#define IPERF3CLI_MAX_ARGS 64

/* A zcgen run's argument vector, argv[0] "run"; the strings live in buf. */
struct iperf3cli {
	int argc;
	char *argv[IPERF3CLI_MAX_ARGS + 1];
	char buf[4096];
	size_t used;
};

/**
 * iperf3cli_wanted() - whether a command line is in iperf3's words: it has
 * -c (or --client), which no zcgen command takes.
 */
bool iperf3cli_wanted(int argc, char **argv);

/**
 * iperf3cli_translate() - iperf3's client flags as zcgen run options.
 * @argc, @argv: the whole command line (argv[0] is the program)
 * @out: the zcgen run command line
 * @err: why not, for the user
 *
 * iperf3's defaults: port 5201, 10 s, the iperf3 control protocol towards
 * the server (--server iperf3), UDP at 1 Mbit/s unless -b is given (-b 0: no
 * limit), -P N as N queues of one stream each; the send mode is zcgen's auto,
 * -Z asks for zero-copy (zc-fixed). -J writes only JSON, in iperf3's layout,
 * to standard output. Options after `--` are zcgen's own and passed as they are.
 *
 * Return: 0, or -EINVAL with @err naming the flag (and what zcgen offers
 * instead, where it has it).
 */
int iperf3cli_translate(int argc, char **argv, struct iperf3cli *out, char *err, size_t errlen);

#endif
