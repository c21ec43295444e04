/* report_sweep.c - `zcgen sweep`'s report: one row per cell, the crossover, as a table and JSON */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gen/report_sweep.h"
#include "zcgen_version.h"

static double cell_mib(const struct sweep_cell *c)
{
	return c->ok && c->duration_s > 0 ? c->bytes / c->duration_s / (1024.0 * 1024.0) : 0;
}

static const struct sweep_cell *cell_at(const struct report_sweep *r, unsigned si, unsigned mi)
{
	return &r->cells[si * r->nmodes + mi];
}

static bool mode_is_zc(enum gen_mode m)
{
	return m == GEN_MODE_ZC || m == GEN_MODE_ZC_FIXED;
}

static int mode_col(const struct report_sweep *r, enum gen_mode m)
{
	for (unsigned i = 0; i < r->nmodes; i++)
		if (r->modes[i] == m)
			return (int)i;
	return -1;
}

/*
 * An auto cell against the better of copy and zc-fixed at its size: the
 * two modes auto chooses between. Return: the ratio, or -1 when either is
 * not in the sweep or a cell of the three failed.
 */
static double auto_vs_best(const struct report_sweep *r, unsigned si)
{
	int a = mode_col(r, GEN_MODE_AUTO), cp = mode_col(r, GEN_MODE_COPY);
	int zf = mode_col(r, GEN_MODE_ZC_FIXED);
	const struct sweep_cell *ac, *cc, *zc;
	double best;

	if (a < 0 || cp < 0 || zf < 0)
		return -1;
	ac = cell_at(r, si, (unsigned)a);
	cc = cell_at(r, si, (unsigned)cp);
	zc = cell_at(r, si, (unsigned)zf);
	if (!ac->ok || !cc->ok || !zc->ok)
		return -1;
	best = cell_mib(cc) > cell_mib(zc) ? cell_mib(cc) : cell_mib(zc);
	return best > 0 ? cell_mib(ac) / best : -1;
}

/* copy and at least one zero-copy mode: what a crossover needs */
static bool have_crossover_modes(const struct report_sweep *r)
{
	bool zc = false;

	for (unsigned m = 0; m < r->nmodes; m++)
		zc |= mode_is_zc(r->modes[m]);
	return zc && mode_col(r, GEN_MODE_COPY) >= 0;
}

static void find_crossover(const struct report_sweep *r, struct sweep_crossover *x)
{
	int copy = mode_col(r, GEN_MODE_COPY);
	unsigned start = r->nsizes;
	double best = -1;

	memset(x, 0, sizeof(*x));
	if (!have_crossover_modes(r))
		return;
	for (unsigned s = r->nsizes; s-- > 0;) {
		double cp = cell_mib(cell_at(r, s, (unsigned)copy)), zbest = 0;

		for (unsigned m = 0; m < r->nmodes; m++)
			if (mode_is_zc(r->modes[m]) && cell_mib(cell_at(r, s, m)) > zbest)
				zbest = cell_mib(cell_at(r, s, m));
		if (zbest <= cp || !cell_at(r, s, (unsigned)copy)->ok)
			break;
		start = s;
	}
	if (start == r->nsizes)
		return;
	x->found = true;
	x->at = r->sizes[start];
	x->have_below = start > 0;
	x->below = start > 0 ? r->sizes[start - 1] : 0;
	for (unsigned m = 0; m < r->nmodes; m++)
		if (mode_is_zc(r->modes[m]) && cell_mib(cell_at(r, start, m)) > best) {
			best = cell_mib(cell_at(r, start, m));
			x->zc_mode = r->modes[m];
		}
}

int report_sweep_make(struct report_sweep *r)
{
	unsigned n = r->nsizes * r->nmodes;

	r->rows = calloc(n ? n : 1, sizeof(*r->rows));
	if (!r->rows)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		const struct sweep_cell *c = &r->cells[i];
		struct report_sweep_row *w = &r->rows[i];
		bool ok = c->ok && c->duration_s > 0;

		w->mib = cell_mib(c);
		w->sps = ok ? c->sends / c->duration_s : 0.0;
		w->bps = ok ? c->bytes * 8.0 / c->duration_s : 0.0;
		w->copied_pct = c->mode != GEN_MODE_COPY && c->notifs ?
				100.0 * c->zc_copied / c->notifs : -1;
		w->vs_best = c->mode == GEN_MODE_AUTO ? auto_vs_best(r, i / r->nmodes) : -1;
	}
	r->crossover_modes = have_crossover_modes(r);
	find_crossover(r, &r->x);
	return 0;
}

void report_sweep_free(struct report_sweep *r)
{
	free(r->rows);
	r->rows = NULL;
}

/*
 * Column widths: a plain mode has MiB/s, sends/s, CPU-s/GB (29 wide); auto
 * has "MiB/s (mode used)", sends/s, CPU-s/GB and its ratio to the better of
 * copy and zc-fixed.
 */
#define COL_W 29
#define FIG_W 23                    /* "123456 (zc-fixed->copy)" */
#define AUTO_W (FIG_W + 28)

static void print_cell(FILE *out, const struct report_sweep *r, unsigned s, unsigned m)
{
	const struct sweep_cell *c = cell_at(r, s, m);
	const struct report_sweep_row *w = &r->rows[s * r->nmodes + m];
	char fig[48], ratio[16] = "-";

	if (c->mode != GEN_MODE_AUTO) {
		if (c->ok)
			fprintf(out, "  %9.0f %10.0f %8.2f", w->mib, w->sps, c->cpu.cpu_seconds_per_gb);
		else
			fprintf(out, "  %-*s", COL_W, "failed");
		return;
	}
	if (!c->ok) {
		fprintf(out, "  %-*s", AUTO_W, "failed");
		return;
	}
	if (c->switched == c->nq && c->switched)
		snprintf(fig, sizeof(fig), "%.0f (%s->copy)", w->mib, gen_mode_name(c->mode_planned));
	else
		snprintf(fig, sizeof(fig), "%.0f (%s)", w->mib, c->mode_used);
	if (w->vs_best >= 0)
		snprintf(ratio, sizeof(ratio), "%.2fx", w->vs_best);
	fprintf(out, "  %*s %10.0f %8.2f %7s", FIG_W, fig, w->sps, c->cpu.cpu_seconds_per_gb, ratio);
}

void report_sweep_text(FILE *out, const struct report_sweep *r)
{
	const struct sweep_crossover *x = &r->x;

	fprintf(out, "%8s", "");
	for (unsigned m = 0; m < r->nmodes; m++)
		fprintf(out, "  %-*s", r->modes[m] == GEN_MODE_AUTO ? AUTO_W : COL_W,
			gen_mode_name(r->modes[m]));
	fprintf(out, "\n%8s", "size B");
	for (unsigned m = 0; m < r->nmodes; m++)
		if (r->modes[m] == GEN_MODE_AUTO)
			fprintf(out, "  %*s %10s %8s %7s", FIG_W, "MiB/s (mode used)", "sends/s",
				"CPU-s/GB", "vs best");
		else
			fprintf(out, "  %9s %10s %8s", "MiB/s", "sends/s", "CPU-s/GB");
	fputc('\n', out);
	for (unsigned s = 0; s < r->nsizes; s++) {
		fprintf(out, "%8llu", (unsigned long long)r->sizes[s]);
		for (unsigned m = 0; m < r->nmodes; m++)
			print_cell(out, r, s, m);
		if (x->found && r->sizes[s] == x->at)
			fputs("  <- crossover", out);
		fputc('\n', out);
	}
	for (unsigned i = 0; i < r->nsizes * r->nmodes; i++)
		if (!r->cells[i].ok && r->cells[i].err[0])
			fprintf(out, "%llu B %s: %s\n", (unsigned long long)r->cells[i].size,
				gen_mode_name(r->cells[i].mode), r->cells[i].err);
	if (x->found && x->have_below)
		fprintf(out, "zero-copy (%s) overtakes copy between %llu and %llu B\n",
			gen_mode_name(x->zc_mode), (unsigned long long)x->below,
			(unsigned long long)x->at);
	else if (x->found)
		fprintf(out, "zero-copy (%s) beats copy at every size measured (from %llu B)\n",
			gen_mode_name(x->zc_mode), (unsigned long long)x->at);
	else
		fprintf(out, "no crossover: zero-copy does not stay ahead of copy up to the largest "
			"size measured%s\n",
			r->crossover_modes ? "" : " (needs copy and a zero-copy mode)");
	if (mode_col(r, GEN_MODE_AUTO) >= 0) {
		fputs("auto: the mode it used in brackets (A->copy: switched to copy at run time, "
		      "the kernel copied its zero-copy sends)", out);
		if (mode_col(r, GEN_MODE_COPY) >= 0 && mode_col(r, GEN_MODE_ZC_FIXED) >= 0)
			fputs(";\n      vs best: auto's MiB/s / the better of copy and zc-fixed", out);
		fputc('\n', out);
	}
	fputs("CPU-s/GB: system-wide busy CPU-seconds (/proc/stat, softirq included) per 1e9 "
	      "bytes sent", out);
	fputs(r->dest_given ? "\n" : "; the local receiver's work is included\n", out);
	if (r->lab_flavour && !strcmp(r->lab_flavour, "drop"))
		fputs("drop lab: every datagram was dropped at the sending veth's qdisc, before the "
		      "wire: these are the sender's ceilings, not a path's rates\n", out);
}

json_t *report_sweep_json(const struct report_sweep *r, const struct engine_plan *plan,
			  const char *driver, const char *kernel)
{
	const struct sweep_crossover *x = &r->x;
	json_t *root = json_object(), *arr = json_array(), *env;
	char cpus[256];

	if (!root || !arr) {
		json_decref(root);
		json_decref(arr);
		return NULL;
	}
	for (unsigned i = 0; i < r->nsizes * r->nmodes; i++) {
		const struct sweep_cell *c = &r->cells[i];
		const struct report_sweep_row *w = &r->rows[i];
		json_t *cj = json_pack(
			"{s:I, s:s, s:b, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:o, s:{s:f, s:f, s:f, s:f, s:f}}",
			"size", (json_int_t)c->size, "mode", gen_mode_name(c->mode), "ok", c->ok,
			"bytes", (json_int_t)c->bytes, "sends", (json_int_t)c->sends, "duration_s",
			c->duration_s, "mib_per_second", w->mib, "sends_per_second", w->sps,
			"bits_per_second", w->bps, "cpu_seconds_per_gb", c->cpu.cpu_seconds_per_gb,
			"zc_copied_percent", w->copied_pct >= 0 ? json_real(w->copied_pct) : json_null(),
			"cpu", "system_busy_s", c->cpu.sys_busy_s, "system_softirq_s",
			c->cpu.sys_softirq_s, "system_total_s", c->cpu.sys_total_s, "process_user_s",
			c->cpu.proc_user_s, "process_system_s", c->cpu.proc_system_s);

		if (cj && !c->ok)
			json_object_set_new(cj, "error", json_string(c->err));
		if (cj) {
			json_object_set_new(cj, "mode_used", c->planned ?
					    json_string(c->mode_used) : json_null());
			json_object_set_new(cj, "depth", c->planned ? json_integer(c->depth) :
					    json_null());
			json_object_set_new(cj, "depth_copy", c->planned ?
					    json_integer(c->depth_copy) : json_null());
		}
		if (cj && c->mode == GEN_MODE_AUTO) {
			json_object_set_new(cj, "mode_reason", c->planned ?
					    json_string(c->mode_reason) : json_null());
			json_object_set_new(cj, "vs_best", w->vs_best >= 0 ? json_real(w->vs_best) :
					    json_null());
			json_object_set_new(cj, "mode_planned", c->planned ?
					    json_string(gen_mode_name(c->mode_planned)) : json_null());
			json_object_set_new(cj, "auto_switched", json_boolean(c->switched > 0));
			json_object_set_new(cj, "auto_switched_rings", json_integer(c->switched));
			json_object_set_new(cj, "auto_switch_sends", c->switched ?
					    json_integer((json_int_t)c->switch_sends) : json_null());
		}
		json_array_append_new(arr, cj);
	}
	json_object_set_new(root, "schema", json_integer(1));
	json_object_set_new(root, "cells", arr);
	if (x->found)
		json_object_set_new(root, "crossover",
				    json_pack("{s:o, s:I, s:s}", "below",
					      x->have_below ? json_integer((json_int_t)x->below) :
							      json_null(),
					      "at", (json_int_t)x->at, "zc_mode",
					      gen_mode_name(x->zc_mode)));
	else
		json_object_set_new(root, "crossover", json_null());
	units_fmt_cpulist(plan->prof.cpus, plan->prof.n_cpus, cpus, sizeof(cpus));
	env = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:I, s:I, s:I, s:s, s:f, s:I, s:I, s:s}",
			"zcgen", ZCGEN_VERSION, "kernel", kernel, "driver", driver, "protocol",
			gen_proto_name(plan->prof.proto), "dest", plan->dest_str, "own_receiver",
			!r->dest_given && !r->lab_flavour, "lab", r->lab_flavour != NULL, "queues",
			(json_int_t)plan->prof.queues, "streams", (json_int_t)plan->prof.streams,
			"depth", (json_int_t)plan->depth, "cpus", cpus, "duration_s",
			plan->prof.duration_ns / 1e9, "online_cpus",
			(json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "clk_tck",
			(json_int_t)sysconf(_SC_CLK_TCK), "cpu_accounting",
			"system-wide busy time from /proc/stat, softirq included");
	if (r->lab_flavour)
		json_object_set_new(env, "lab_flavour", json_string(r->lab_flavour));
	/* no --depth: each cell took its mode's default (engine_plan()) */
	if (!plan->prof.depth_set)
		json_object_set_new(env, "depth", json_null());
	json_object_set_new(root, "environment", env);
	return root;
}
