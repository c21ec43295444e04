/* unit_report_compare.c - `zcgen compare`'s report rows from hand-made repeats: medians, ratios, NaN never printed */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "gen/report_compare.h"

/* cmocka 1.1 has no assert_double_equal */
#define assert_near(a, b, eps) near_(a, b, eps, #a, __FILE__, __LINE__)

static void near_(double a, double b, double eps, const char *what, const char *file, int line)
{
	if (!(fabs(a - b) <= eps))
		fail_msg("%s:%d: %s is %.17g, not %.17g", file, line, what, a, b);
}

static const struct report_compare_env env = {
	.kernel = "6.12", .host = "10.0.0.2", .port = 5301, .lab = true, .rx_netns = "zcgen-rx",
	.rx_counter = true, .server_cpus = "3", .queues = 2, .streams = 1, .size = 1400,
	.mode = GEN_MODE_ZC, .cpus = "0-1", .dur_s = 2, .omit_s = 0,
	.zcgen_cmd = "zcgen run --server iperf3", .iperf3_cmd = "iperf3 -c 10.0.0.2 -u",
};

static char *text_of(const struct report_compare *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	report_compare_text(f, r, &env);
	fclose(f);
	assert_null(strcasestr(buf, "nan"));
	assert_null(strcasestr(buf, "inf"));
	return buf;
}

/* Every key's value is a finite number or null (jansson holds no NaN; a NaN would drop the key). */
static void check_keys(const json_t *o, bool udp)
{
	for (int m = 0; m < CMP_NMETRICS; m++) {
		const char *k = cmp_metric_key((enum cmp_metric)m, udp);
		json_t *v;

		if (!k)
			continue;
		v = json_object_get(o, k);
		if (!v)
			fail_msg("%s missing", k);
		assert_true(json_is_null(v) || (json_is_number(v) && isfinite(json_number_value(v))));
	}
}

/* Three UDP repeats; iperf3's receiver count unknown in one, zcgen's CPU never measured. */
static void test_udp(void **state)
{
	struct cmp_run z[3], p[3];
	static const double zb[3] = { 9e9, 10e9, 11e9 }, pb[3] = { 4e9, 5e9, 6e9 };
	struct report_compare r;
	json_t *j, *ratio;
	char *txt;

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		cmp_run_init(&z[i]);
		cmp_run_init(&p[i]);
		z[i].v[CMP_BPS] = zb[i];
		p[i].v[CMP_BPS] = pb[i];
		z[i].v[CMP_RX_BPS] = zb[i] / 2;
		p[i].v[CMP_RX_BPS] = i == 1 ? NAN : pb[i] / 2;
		p[i].v[CMP_CPU] = 1.0;
		z[i].duration_s = p[i].duration_s = 2;
		z[i].rows = json_pack("[{s:i, s:i, s:f, s:f}]", "queue", 0, "cpu", 1,
				      "bits_per_second", zb[i], "sends_per_second", 1000.0);
		p[i].rows = json_pack("[{s:f, s:f, s:f}]", "bits_per_second", pb[i], "packets",
				      10.0, "lost_packets", 1.0);
	}
	/* the repeat nearest the median comes second: its rows are shown */
	report_compare_make(&r, true, z, p, 3);
	assert_int_equal(r.z_median, 1);
	assert_int_equal(r.p_median, 1);
	assert_near(r.m[CMP_BPS].z.median, 10e9, 0);
	assert_near(r.m[CMP_BPS].z.min, 9e9, 0);
	assert_near(r.m[CMP_BPS].ratio.median, 2, 1e-12);      /* of the medians */
	assert_near(r.m[CMP_BPS].ratio.min, 11.0 / 6, 1e-12);  /* per repeat */
	assert_near(r.m[CMP_BPS].ratio.max, 9.0 / 4, 1e-12);
	assert_int_equal(r.m[CMP_RX_BPS].p.n, 2);              /* the unknown one left out */
	assert_false(r.m[CMP_CPU].z.valid);
	assert_false(r.m[CMP_CPU].ratio.valid);                 /* no ratio to nothing */
	assert_null(r.m[CMP_RETRANS].key);                      /* TCP only */
	assert_null(r.m[CMP_RETRANS].label);

	txt = text_of(&r);
	assert_non_null(strstr(txt, "zcgen per queue (repeat 2, the one nearest the median):\n"));
	assert_non_null(strstr(txt, "Gbit/s sent"));
	assert_non_null(strstr(txt, "2.000 [1.833..2.250]"));
	/* CPU: only iperf3's, shown with "-" for zcgen and the ratio */
	assert_non_null(strstr(txt, "CPU busy s (system)"));
	assert_non_null(strstr(txt, "rx ns: the receiving namespace's own UDP InDatagrams counter "
				    "(/proc/net/snmp in zcgen-rx)\n"));
	assert_null(strstr(txt, "retransmits"));
	free(txt);

	j = report_compare_json(&r, &env);
	assert_non_null(j);
	ratio = json_object_get(j, "ratio");
	check_keys(ratio, true);
	check_keys(json_object_get(json_object_get(j, "zcgen"), "total"), true);
	check_keys(json_object_get(json_object_get(j, "iperf3"), "total"), true);
	assert_near(json_real_value(json_object_get(ratio, "bits_per_second")), 2, 1e-12);
	assert_true(json_is_null(json_object_get(ratio, "cpu_busy_s")));
	assert_true(json_is_null(json_object_get(json_object_get(json_object_get(j, "zcgen"), "total"),
						 "cpu_busy_s")));
	assert_int_equal(json_array_size(json_object_get(json_object_get(j, "zcgen"), "runs")), 3);
	/* repeat 2: iperf3 went first */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(
		json_object_get(j, "zcgen"), "runs"), 1), "position")), 2);
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(
		json_object_get(j, "iperf3"), "runs"), 1), "received_bits_per_second")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "environment"),
							      "rx_counter")), "UDP InDatagrams");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "environment"),
							      "server_cpus")), "3");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "iperf3"),
							      "command")), "iperf3 -c 10.0.0.2 -u");
	json_decref(j);
	for (unsigned i = 0; i < 3; i++) {
		cmp_run_free(&z[i]);
		cmp_run_free(&p[i]);
	}
}

/* One TCP repeat where iperf3 moved nothing: the ratio is not a number, so it is "-" and null. */
static void test_zero(void **state)
{
	struct cmp_run z, p;
	struct report_compare r;
	json_t *j;
	char *txt;

	(void)state;
	cmp_run_init(&z);
	cmp_run_init(&p);
	z.v[CMP_BPS] = 1e9;
	p.v[CMP_BPS] = 0;
	z.v[CMP_RETRANS] = 3;
	p.v[CMP_RETRANS] = 0;
	report_compare_make(&r, false, &z, &p, 1);
	assert_false(r.m[CMP_BPS].ratio.valid);
	txt = text_of(&r);
	assert_non_null(strstr(txt, "totals: median of 1 repeat [min..max]"));
	assert_non_null(strstr(txt, "retransmits"));
	free(txt);
	j = report_compare_json(&r, &env);
	assert_non_null(j);
	check_keys(json_object_get(j, "ratio"), false);
	assert_true(json_is_null(json_object_get(json_object_get(j, "ratio"), "bits_per_second")));
	assert_true(json_is_null(json_object_get(json_object_get(j, "zcgen"), "queues")));
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
