/* diags.c - problems found in a profile or an override: collected, kept within bounds, printed */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gen/diags.h"

void diags_free(struct gen_diags *d)
{
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
	d->dropped = d->dropped_warnings = 0;
}

unsigned diags_errors(const struct gen_diags *d)
{
	unsigned n = 0;

	for (unsigned i = 0; i < d->n; i++)
		n += !d->v[i].warning;
	return n + d->dropped;
}

void diags_print(const struct gen_diags *d, FILE *out)
{
	unsigned shown = 0, errors = diags_errors(d);

	for (unsigned i = 0; i < d->n; i++) {
		const struct gen_diag *g = &d->v[i];
		const char *sev = g->warning ? "warning" : "error";

		/* the first ones say what is wrong; 80000 more lines of it help nobody */
		if (!g->warning && shown++ >= DIAGS_PRINT)
			continue;
		if (g->cli) {
			fprintf(out, "--%s: %s%s\n", g->key, g->warning ? "warning: " : "", g->msg);
			continue;
		}
		if (g->file[0] && g->line > 0)
			fprintf(out, "%s:%d:%d: ", g->file, g->line, g->col);
		else if (g->file[0])
			fprintf(out, "%s: ", g->file);
		fprintf(out, "%s: ", sev);
		if (g->key[0])
			fprintf(out, "%s: ", g->key);
		fprintf(out, "%s\n", g->msg);
	}
	if (errors > DIAGS_PRINT)
		fprintf(out, "... and %u more error%s (%u in all)\n", errors - DIAGS_PRINT,
			errors - DIAGS_PRINT == 1 ? "" : "s", errors);
	if (d->dropped_warnings)
		fprintf(out, "... and %u more warning%s\n", d->dropped_warnings,
			d->dropped_warnings == 1 ? "" : "s");
}

/*
 * With DIAGS_KEEP problems kept, where a new one goes: -1 nowhere (counted
 * only), else the slot it takes. A file's problem found late but placed
 * early (the loader reports tabs first, then the rest) displaces the kept
 * one of the same file that comes last, so that the first ones in line
 * order are the ones kept.
 */
static int diag_slot(struct gen_diags *d, const char *file, int line, int col, bool warning)
{
	int last = -1;

	if (d->n < DIAGS_KEEP)
		return (int)d->n;
	if (warning) {
		d->dropped_warnings++;
		return -1;
	}
	d->dropped++;
	if (!file || !file[0] || line <= 0)
		return -1;
	for (unsigned i = 0; i < d->n; i++) {
		const struct gen_diag *g = &d->v[i];

		if (g->warning || g->line <= 0 || strcmp(g->file, file))
			continue;
		if (last < 0 || g->line > d->v[last].line ||
		    (g->line == d->v[last].line && g->col > d->v[last].col))
			last = (int)i;
	}
	if (last < 0 || d->v[last].line < line || (d->v[last].line == line && d->v[last].col <= col))
		return -1;
	return last;
}

static int diags_vadd(struct gen_diags *d, const char *file, int line, int col, const char *key,
		      bool cli, bool warning, const char *fmt, va_list ap)
{
	struct gen_diag *g;
	int slot = diag_slot(d, file, line, col, warning);

	if (slot < 0)
		return 0;
	if (d->n == d->cap && (unsigned)slot == d->n) {
		unsigned cap = d->cap ? d->cap * 2 : 8;
		struct gen_diag *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	if ((unsigned)slot == d->n)
		d->n++;
	g = &d->v[slot];
	memset(g, 0, sizeof(*g));
	snprintf(g->file, sizeof(g->file), "%s", file ? file : "");
	g->line = line;
	g->col = col;
	snprintf(g->key, sizeof(g->key), "%s", key ? key : "");
	g->cli = cli;
	g->warning = warning;
	vsnprintf(g->msg, sizeof(g->msg), fmt, ap);
	return 0;
}

int diags_add(struct gen_diags *d, const char *file, int line, int col, const char *key,
	      bool cli, bool warning, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = diags_vadd(d, file, line, col, key, cli, warning, fmt, ap);
	va_end(ap);
	return ret;
}

void diags_at(struct diags_file *f, int line, int col, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (diags_vadd(f->d, f->file, line, col, key, false, false, fmt, ap))
		f->err = -ENOMEM;
	va_end(ap);
}

void diags_sort(struct gen_diags *d, unsigned from)
{
	for (unsigned i = from + 1; i < d->n; i++) {
		struct gen_diag t = d->v[i];
		unsigned j = i;

		while (j > from && (d->v[j - 1].line > t.line ||
				    (d->v[j - 1].line == t.line && d->v[j - 1].col > t.col))) {
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = t;
	}
}
