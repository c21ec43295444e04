/* cmd_output.c - output files named on the command line (--json, --csv), checked before a run */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "gen/cmd.h"

/*
 * Whether @path can be written, as far as can be told without writing it:
 * 0 or -errno. An existing regular file is opened for writing but not
 * truncated (the old report stays until the new one replaces it); a new one
 * is created and removed again, which catches a missing directory, one
 * without write permission and a read-only file system. A FIFO, a terminal
 * or /dev/null is only checked for permission: opening a FIFO would wait
 * for a reader.
 */
static int output_probe(const char *path)
{
	struct stat st;
	int fd;

	if (!strcmp(path, "-") || !path[0])
		return path[0] ? 0 : -ENOENT;
	if (!stat(path, &st)) {
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		if (!S_ISREG(st.st_mode))
			return access(path, W_OK) ? -errno : 0;
		fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		close(fd);
		return 0;
	}
	if (errno != ENOENT)
		return -errno;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	close(fd);
	/* it did not exist: leave nothing behind if the run never writes it */
	unlink(path);
	return 0;
}

bool cmd_output_check(const char *who, const char *opt, const char *path)
{
	int r;

	if (!path)
		return true;
	if (!strcmp(path, "-") && strcmp(opt, "json")) {
		fprintf(stderr, "%s: --%s -: only --json writes to standard output; give --%s a file\n",
			who, opt, opt);
		return false;
	}
	r = output_probe(path);
	if (!r)
		return true;
	fprintf(stderr, "%s: --%s %s: cannot write the report there: %s%s\n", who,
		opt, path, strerror(-r), r == -ENOENT ? " (its directory does not exist)" :
		r == -EISDIR ? " (give a file name)" : "");
	return false;
}
