/* unit_report_ndr.c - `zcgen ndr`'s trial figures and per-size rows from hand-made trials: loss, rates, JSON, text */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "gen/report_ndr.h"

/* cmocka 1.1 has no assert_double_equal */
#define assert_near(a, b, eps) near_(a, b, eps, #a, __FILE__, __LINE__)

static void near_(double a, double b, double eps, const char *what, const char *file, int line)
{
	if (!(fabs(a - b) <= eps))
		fail_msg("%s:%d: %s is %.17g, not %.17g", file, line, what, a, b);
}

/* Loss and rates of a trial: table of sent, received, duration and what they make. */
static void test_trial_figures(void **state)
{
	static const struct {
		uint64_t sent, received;
		double dur, offered, rcvd, loss;
	} t[] = {
		{ 1000, 990, 2, 500, 495, 1 },
		{ 1000, 1000, 2, 500, 500, 0 },
		{ 1000, 1005, 2, 500, 502.5, 0 },   /* duplicates: more received than sent, no loss */
		{ 1000, 0, 2, 500, 0, 100 },        /* everything lost: 100, never more */
		{ 1000, 900, 0, 0, 0, 10 },         /* no measured time: no rate, the loss still true */
		{ 0, 0, 0, 0, 0, 0 },
		{ 0, 5, 1, 0, 5, 0 },               /* nothing sent: no loss */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct ndr_trial tr = { .sent = t[i].sent, .received = t[i].received,
					.duration_s = t[i].dur, .offered_fps = NAN, .loss_pct = NAN };

		report_ndr_trial_figures(&tr);
		assert_near(tr.offered_fps, t[i].offered, 1e-9);
		assert_near(tr.received_fps, t[i].rcvd, 1e-9);
		assert_near(tr.loss_pct, t[i].loss, 1e-9);
		assert_true(tr.loss_pct >= 0 && tr.loss_pct <= 100);
	}
}

static char *text_of(const struct report_ndr *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	report_ndr_text(f, r);
	fclose(f);
	assert_null(strcasestr(buf, "nan"));
	assert_null(strcasestr(buf, "inf"));
	return buf;
}

static void trial(struct ndr_trial *t, enum trial_kind kind, double fps, uint64_t sent,
		  uint64_t received, bool passed)
{
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->asked_fps = fps;
	t->sent = sent;
	t->received = received;
	t->duration_s = 1;
	t->passed = passed;
	report_ndr_trial_figures(t);
}

/* Two sizes: one found (with latency at two loads, one untimed), one never run. */
static void test_rows(void **state)
{
	struct ndr_size *szs = calloc(2, sizeof(*szs));
	struct report_ndr r;
	struct report_ndr_params p = { .loss_pct = 0, .precision = 1, .trial_ns = 1000000000,
				       .settle_ns = 500000000, .dest = "10.0.0.2:5201",
				       .server = "zcgen", .lab = true };
	struct expect_result ex = { 0 };
	json_t *j, *s0, *s1;
	char *txt;

	(void)state;
	assert_non_null(szs);
	szs[0].frame = 64;
	szs[0].payload = 18;
	szs[0].ceiling_fps = 2e6;
	trial(&szs[0].t[0], TRIAL_CEILING, 0, 2000000, 1500000, false);
	trial(&szs[0].t[1], TRIAL_SEARCH, 1e6, 1000000, 1000000, true);
	szs[0].t[1].lat = (struct report_latency){ .present = true, .count = 10, .p50 = 12.5,
						   .p99 = 40, .max = 50, .valid = true };
	trial(&szs[0].t[2], TRIAL_LATENCY, 1e5, 100000, 100000, true);
	szs[0].t[2].load_pct = 10;
	szs[0].t[2].lat = (struct report_latency){ .present = true, .count = 5, .p50 = 8 };
	trial(&szs[0].t[3], TRIAL_LATENCY, 5e5, 500000, 500000, true);
	szs[0].t[3].load_pct = 50;
	szs[0].t[3].lat = (struct report_latency){ .present = true, .count = 0 }; /* nothing timed */
	szs[0].nt = 4;
	szs[0].best = 1;
	szs[0].done = true;
	szs[1].frame = 1518;
	szs[1].best = -1;
	snprintf(szs[1].err, sizeof(szs[1].err), "not run (interrupted)");

	report_ndr_make(&r, szs, 2);
	assert_int_equal(r.n, 2);
	assert_ptr_equal(r.rows[0].best, &szs[0].t[1]);
	assert_near(r.rows[0].fps, 1e6, 0);
	assert_near(r.rows[0].l1_bps, 1e6 * (64 + 20) * 8, 0);
	assert_near(r.rows[0].l2_bps, 1e6 * 64 * 8, 0);
	assert_null(r.rows[1].best);
	assert_near(r.rows[1].fps, 0, 0);

	txt = text_of(&r);
	assert_non_null(strstr(txt, "\n    64        1000000     0.6720     0.5120    0.0000       12.5       40.0  "
				     "10%:8.0 50%:-"));
	assert_non_null(strstr(txt, "  1518              -  not run (interrupted)\n"));
	free(txt);

	j = report_ndr_json(&r, &p, &ex);
	assert_non_null(j);
	assert_null(json_object_get(j, "expect"));   /* the profile has none */
	assert_string_equal(json_string_value(json_object_get(j, "schema")), "zcgen-ndr/1");
	s0 = json_array_get(json_object_get(j, "sizes"), 0);
	s1 = json_array_get(json_object_get(j, "sizes"), 1);
	assert_near(json_real_value(json_object_get(s0, "throughput_fps")), 1e6, 0);
	assert_true(json_is_true(json_object_get(json_object_get(s0, "latency_us"), "valid")));
	assert_int_equal(json_object_size(json_object_get(s0, "latency_us")), 8);
	/* the untimed load: null, not zeros */
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(s0, "latency_loads"),
								1), "latency_us")));
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(s0, "trials"), 0),
						 "asked_fps")));
	assert_near(json_real_value(json_object_get(json_array_get(json_object_get(s0, "trials"), 0),
						    "loss_percent")), 25, 1e-9);
	assert_true(json_is_null(json_object_get(s1, "loss_percent")));
	assert_true(json_is_null(json_object_get(s1, "latency_us")));
	assert_near(json_real_value(json_object_get(s1, "l1_bits_per_second")), 0, 0);
	assert_string_equal(json_string_value(json_object_get(s1, "error")), "not run (interrupted)");
	json_decref(j);
	free(szs);
}

/* One trial's live line. */
static void test_trial_line(void **state)
{
	struct ndr_size sz = { .frame = 128 };
	struct ndr_trial t;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	trial(&t, TRIAL_SEARCH, 2000, 2000, 1990, false);
	t.sender_missed = true;
	report_ndr_trial(f, &sz, &t);
	fclose(f);
	assert_string_equal(buf, "   128 B trial           2000 offered         2000 fps, received "
			    "        1990 fps, loss   0.5000 %  fail (zcgen missed the rate)\n");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trial_figures),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_trial_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
