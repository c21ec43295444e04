/* metrics.c - a Prometheus text file (node_exporter's textfile collector), replaced atomically */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "gen/metrics.h"

int metrics_begin(struct metrics_file *m, const char *path)
{
	m->path = path;
	/* the same directory: rename() is atomic only within one file system */
	if (snprintf(m->tmp, sizeof(m->tmp), "%s.tmp", path) >= (int)sizeof(m->tmp))
		return -ENAMETOOLONG;
	m->f = fopen(m->tmp, "w");
	return m->f ? 0 : -errno;
}

void metrics_family(struct metrics_file *m, const char *name, const char *type, const char *help)
{
	fprintf(m->f, "# HELP zcgen_%s %s\n# TYPE zcgen_%s %s\n", name, help, name, type);
}

void metrics_sample(struct metrics_file *m, const char *name, const char *label, unsigned id,
		    double value)
{
	if (label)
		fprintf(m->f, "zcgen_%s{%s=\"%u\"} %.17g\n", name, label, id, value);
	else
		fprintf(m->f, "zcgen_%s %.17g\n", name, value);
}

int metrics_commit(struct metrics_file *m)
{
	int ret = 0;

	if (ferror(m->f))
		ret = -EIO;
	if (fclose(m->f) && !ret)
		ret = -errno;
	m->f = NULL;
	if (!ret && rename(m->tmp, m->path))
		ret = -errno;
	if (ret)
		unlink(m->tmp);
	return ret;
}
