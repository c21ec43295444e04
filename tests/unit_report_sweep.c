/* unit_report_sweep.c - `zcgen sweep`'s report rows from hand-made cells: rates, crossover, vs best, JSON */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "gen/report_sweep.h"

#define MIB (1024.0 * 1024.0)

/* cmocka 1.1 has no assert_double_equal */
#define assert_near(a, b, eps) near_(a, b, eps, #a, __FILE__, __LINE__)

static void near_(double a, double b, double eps, const char *what, const char *file, int line)
{
	if (!(fabs(a - b) <= eps))
		fail_msg("%s:%d: %s is %.17g, not %.17g", file, line, what, a, b);
}

static char *text_of(const struct report_sweep *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	report_sweep_text(f, r);
	fclose(f);
	assert_null(strcasestr(buf, "nan"));
	assert_null(strcasestr(buf, " inf"));
	return buf;
}

/* A cell that ran @mib MiB/s for 2 s in @sends sends. */
static void cell(struct sweep_cell *c, uint64_t size, enum gen_mode mode, double mib)
{
	memset(c, 0, sizeof(*c));
	c->size = size;
	c->mode = mode;
	c->planned = true;
	c->mode_planned = mode;
	snprintf(c->mode_used, sizeof(c->mode_used), "%s", gen_mode_name(mode));
	c->duration_s = 2;
	c->bytes = (uint64_t)(mib * MIB * 2);
	c->sends = c->bytes / size;
	c->ok = c->bytes > 0;
	c->nq = 1;
}

/* copy wins at 1000, zero-copy from 4000 on, except a noisy zc win at 500 below a loss */
static void test_crossover(void **state)
{
	static const uint64_t sizes[] = { 500, 1000, 4000, 8000 };
	static const enum gen_mode modes[] = { GEN_MODE_COPY, GEN_MODE_ZC, GEN_MODE_ZC_FIXED,
					       GEN_MODE_AUTO };
	static const double mib[4][4] = {
		{ 100, 120, 90, 100 },  /* zc ahead: noise, copy wins at the next size */
		{ 200, 150, 180, 200 },
		{ 300, 310, 400, 380 },
		{ 400, 500, 450, 0 },   /* auto failed here */
	};
	struct sweep_cell cells[16];
	struct report_sweep r = { .sizes = sizes, .nsizes = 4, .modes = modes, .nmodes = 4,
				  .cells = cells, .dest_given = true };
	json_t *j, *c;
	char *txt;

	(void)state;
	for (unsigned s = 0; s < 4; s++)
		for (unsigned m = 0; m < 4; m++)
			cell(&cells[s * 4 + m], sizes[s], modes[m], mib[s][m]);
	cells[15].ok = false;
	snprintf(cells[15].err, sizeof(cells[15].err), "nothing was sent");
	/* zc's notifications: a quarter copied */
	cells[9].notifs = 100;
	cells[9].zc_copied = 25;
	assert_int_equal(report_sweep_make(&r), 0);
	assert_true(r.crossover_modes);
	assert_true(r.x.found);
	assert_true(r.x.have_below);
	assert_int_equal(r.x.below, 1000);
	assert_int_equal(r.x.at, 4000);
	assert_int_equal(r.x.zc_mode, GEN_MODE_ZC_FIXED);
	assert_near(r.rows[8].mib, 300, 1e-6);
	assert_near(r.rows[8].bps, 300 * MIB * 8, 1);
	assert_near(r.rows[9].copied_pct, 25, 1e-12);
	assert_near(r.rows[8].copied_pct, -1, 0);    /* copy: none */
	assert_near(r.rows[10].copied_pct, -1, 0);   /* no notifications */
	/* auto against the better of copy and zc-fixed at its size */
	assert_near(r.rows[11].vs_best, 380.0 / 400, 1e-6);
	assert_near(r.rows[3].vs_best, 1, 1e-6);
	assert_near(r.rows[15].vs_best, -1, 0);      /* the auto cell failed */
	assert_near(r.rows[15].mib, 0, 0);
	assert_near(r.rows[15].sps, 0, 0);

	txt = text_of(&r);
	assert_non_null(strstr(txt, "zero-copy (zc-fixed) overtakes copy between 1000 and 4000 B\n"));
	assert_non_null(strstr(txt, "8000 B auto: nothing was sent\n"));
	assert_non_null(strstr(txt, "  <- crossover\n"));
	assert_non_null(strstr(txt, "0.95x"));
	assert_null(strstr(txt, "local receiver"));
	free(txt);

	j = report_sweep_json(&r, &(struct engine_plan){ .dest_str = "192.0.2.1:5201" }, "veth",
			      "6.12");
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "cells")), 16);
	c = json_array_get(json_object_get(j, "cells"), 11);
	assert_near(json_real_value(json_object_get(c, "vs_best")), 0.95, 1e-6);
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(j, "cells"), 15),
						 "vs_best")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(j, "cells"), 15), "error")), "nothing was sent");
	assert_near(json_real_value(json_object_get(json_array_get(json_object_get(j, "cells"), 9),
						    "zc_copied_percent")), 25, 1e-12);
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(j, "cells"), 8),
						 "zc_copied_percent")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "crossover"), "below")),
			 1000);
	assert_true(json_is_false(json_object_get(json_object_get(j, "environment"), "own_receiver")));
	assert_null(json_object_get(json_object_get(j, "environment"), "lab_flavour"));
	json_decref(j);
	report_sweep_free(&r);
}

/* Only copy, and a cell of zero duration: no crossover, no NaN, the notes say why. */
static void test_no_crossover(void **state)
{
	static const uint64_t sizes[] = { 1200, 65000 };
	static const enum gen_mode modes[] = { GEN_MODE_COPY };
	struct sweep_cell cells[2];
	struct report_sweep r = { .sizes = sizes, .nsizes = 2, .modes = modes, .nmodes = 1,
				  .cells = cells, .lab_flavour = "drop" };
	json_t *j;
	char *txt;

	(void)state;
	cell(&cells[0], 1200, GEN_MODE_COPY, 100);
	cell(&cells[1], 65000, GEN_MODE_COPY, 100);
	cells[1].duration_s = 0;     /* a run that measured no time: never a rate */
	assert_int_equal(report_sweep_make(&r), 0);
	assert_false(r.crossover_modes);
	assert_false(r.x.found);
	assert_near(r.rows[1].mib, 0, 0);
	assert_near(r.rows[1].sps, 0, 0);
	assert_near(r.rows[1].bps, 0, 0);
	txt = text_of(&r);
	assert_non_null(strstr(txt, "no crossover: zero-copy does not stay ahead of copy up to the "
				    "largest size measured (needs copy and a zero-copy mode)\n"));
	assert_non_null(strstr(txt, "; the local receiver's work is included\n"));
	assert_non_null(strstr(txt, "drop lab: every datagram was dropped"));
	free(txt);
	j = report_sweep_json(&r, &(struct engine_plan){ .dest_str = "10.0.0.2:5201" }, "veth", "6.12");
	assert_non_null(j);
	assert_true(json_is_null(json_object_get(j, "crossover")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "environment"),
							      "lab_flavour")), "drop");
	assert_true(json_is_true(json_object_get(json_object_get(j, "environment"), "lab")));
	assert_near(json_real_value(json_object_get(json_array_get(json_object_get(j, "cells"), 1),
						    "bits_per_second")), 0, 0);
	json_decref(j);
	report_sweep_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crossover),
		cmocka_unit_test(test_no_crossover),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
