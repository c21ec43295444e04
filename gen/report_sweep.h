/* report_sweep.h - `zcgen sweep`'s report: one row per cell, the crossover, as a table and JSON */
#ifndef ZCGEN_REPORT_SWEEP_H
#define ZCGEN_REPORT_SWEEP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "gen/gen.h"
#include "gen/engine.h"
#include "gen/cpustat.h"

/* One cell's results: one run at one message size in one send mode. */
struct sweep_cell {
	uint64_t size;
	enum gen_mode mode;         /* the column: copy, zc, zc-fixed or auto */
	bool ok;
	bool planned;               /* mode_planned and mode_reason are set */
	enum gen_mode mode_planned; /* what the plan chose: auto resolved per size */
	char mode_reason[512];
	/*
	 * What the rings sent with in the end (report_mode_used()): the plan's
	 * mode, "copy" when auto's zero-copy rings all switched to copy at run
	 * time because the kernel copied their sends, "mixed" when some did.
	 */
	char mode_used[16];
	unsigned depth, depth_copy; /* the plan's (engine_plan(): by mode when not given) */
	unsigned nq, switched;      /* rings, and those that switched */
	uint64_t switch_sends;      /* mean sends before a ring switched */
	char err[600];
	uint64_t bytes, sends, notifs, zc_copied;
	double duration_s;
	struct cpustat_delta cpu;
};

struct sweep_crossover {
	bool found;
	bool have_below;
	uint64_t below, at;
	enum gen_mode zc_mode;      /* the better zero-copy mode at @at */
};

/* One cell's figures, computed once; 0 where the cell failed. */
struct report_sweep_row {
	double mib, sps, bps;       /* MiB/s, sends/s, bit/s */
	double copied_pct;          /* < 0: not a zero-copy cell, or no notifications */
	double vs_best;             /* auto: its MiB/s over the better of copy and zc-fixed; < 0: none */
};

struct report_sweep {
	/* what was swept: nsizes x nmodes cells, size-major */
	const uint64_t *sizes;
	unsigned nsizes;
	const enum gen_mode *modes;
	unsigned nmodes;
	const struct sweep_cell *cells;
	bool dest_given;            /* --dest: no receiver of ours on this host */
	const char *lab_flavour;    /* --lab: "veth" or "drop"; NULL without */
	/* computed by report_sweep_make() */
	struct report_sweep_row *rows;
	struct sweep_crossover x;
	bool crossover_modes;       /* copy and a zero-copy mode were swept */
};

/**
 * report_sweep_make() - the rows and the crossover of a sweep
 * @r: its inputs set (sizes .. lab_flavour); rows and x filled in.
 *
 * The crossover is the smallest size from which the better zero-copy mode
 * beats copy at that size and at every larger one (a single noisy win below
 * a loss does not count).
 * Return: 0, or -ENOMEM. report_sweep_free() it either way.
 */
int report_sweep_make(struct report_sweep *r);
void report_sweep_free(struct report_sweep *r);

/* The table, the failed cells, the crossover and the notes. */
void report_sweep_text(FILE *out, const struct report_sweep *r);
/*
 * The cells as JSON (docs/json.md, "zcgen sweep"). @plan: the first cell's
 * (what was asked); @driver, @kernel: as the calibration names them. New reference.
 */
json_t *report_sweep_json(const struct report_sweep *r, const struct engine_plan *plan,
			  const char *driver, const char *kernel);

#endif
