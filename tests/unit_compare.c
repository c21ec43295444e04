/* unit_compare.c - zcgen compare's helpers: medians, ratios, iperf3 3.12 -J and zcgen JSON, /proc/net/snmp, argv */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "gen/compare.h"

/* A file of tests/data, from $ZCGEN_SRC (set by CTest) or the source tree next to the build. */
static char *data(const char *name)
{
	const char *src = getenv("ZCGEN_SRC");
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/tests/data/%s", src ? src : "..", name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s (set ZCGEN_SRC to the source tree)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_stat(void **state)
{
	static const struct {
		double v[6];
		unsigned n;
		bool valid;
		double median, min, max;
	} t[] = {
		{ { 5 }, 1, true, 5, 5, 5 },
		{ { 3, 1, 2 }, 3, true, 2, 1, 3 },                  /* odd: the middle one */
		{ { 4, 1, 3, 2 }, 4, true, 2.5, 1, 4 },             /* even: mean of the two middle */
		{ { 10, 10, 1, 10, 100 }, 5, true, 10, 1, 100 },
		{ { NAN, 7, NAN, 9 }, 4, true, 8, 7, 9 },           /* unknown values are left out */
		{ { NAN, NAN }, 2, false, NAN, NAN, NAN },
		{ { 0 }, 0, false, NAN, NAN, NAN },
	};
	struct cmp_stat st;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cmp_stat(t[i].v, t[i].n, &st);
		assert_int_equal(st.valid, t[i].valid);
		if (!t[i].valid) {
			assert_true(isnan(st.median));
			continue;
		}
		assert_float_equal(st.median, t[i].median, 1e-12);
		assert_float_equal(st.min, t[i].min, 1e-12);
		assert_float_equal(st.max, t[i].max, 1e-12);
	}
}

static void test_ratio(void **state)
{
	double r;

	(void)state;
	assert_int_equal(cmp_ratio(12, 10, &r), 0);
	assert_float_equal(r, 1.2, 1e-12);
	assert_int_equal(cmp_ratio(0, 10, &r), 0);
	assert_float_equal(r, 0, 0);
	assert_int_equal(cmp_ratio(5, 0, &r), -EDOM);     /* zero denominator: no ratio */
	assert_true(isnan(r));
	assert_int_equal(cmp_ratio(0, 0, &r), -EDOM);
	assert_int_equal(cmp_ratio(NAN, 1, &r), -EDOM);
	assert_int_equal(cmp_ratio(1, NAN, &r), -EDOM);
	assert_true(isnan(r));
}

static void test_iperf3_tcp(void **state)
{
	char *t = data("iperf3-3.12-tcp.json"), err[256] = "";
	struct cmp_run r;

	(void)state;
	/* iperf3 3.12 -c 127.0.0.1 -J -t 1 -P 2 -Z -l 65536 */
	assert_int_equal(cmp_iperf3_parse(t, false, &r, err, sizeof(err)), 0);
	assert_string_equal(r.version, "iperf 3.12");
	assert_int_equal(r.bytes, 2445148160ull);
	assert_float_equal(r.duration_s, 1.000311, 1e-9);
	assert_float_equal(r.v[CMP_BPS], 19555103642.7671, 1e-3);
	assert_float_equal(r.v[CMP_RX_BPS], 19553676668.159428, 1e-3);
	assert_float_equal(r.v[CMP_RETRANS], 2, 0);
	assert_true(isnan(r.v[CMP_PPS]));      /* iperf3 does not count TCP writes */
	assert_true(isnan(r.v[CMP_RX_PPS]));
	assert_int_equal(json_array_size(r.rows), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(r.rows, 1), "bytes")),
			 1223557120);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(r.rows, 0), "retransmits")),
			 2);
	assert_float_equal(json_number_value(json_object_get(
				   json_object_get(r.extra, "cpu_utilization_percent"), "host_total")),
			   43.381020206454, 1e-9);
	/* CPU per GB from bytes sent */
	cmp_run_set_cpu(&r, 2.445148160);
	assert_float_equal(r.v[CMP_CPU_GB], 1.0, 1e-9);
	cmp_run_set_rx(&r, 1000, 1000 + 50000);
	assert_float_equal(r.v[CMP_RX_COUNT], 50000, 0);
	assert_float_equal(r.v[CMP_RX_COUNT_PS], 50000 / 1.000311, 1e-6);
	cmp_run_set_rx(&r, 10, 5);              /* a counter that went backwards */
	assert_true(isnan(r.v[CMP_RX_COUNT]));
	cmp_run_free(&r);
	free(t);
}

static void test_iperf3_udp(void **state)
{
	char *t = data("iperf3-3.12-udp.json"), err[256] = "";
	struct cmp_run r;

	(void)state;
	/* iperf3 3.12 -c 127.0.0.1 -J -t 1 -u -b 0 -l 1400 */
	assert_int_equal(cmp_iperf3_parse(t, true, &r, err, sizeof(err)), 0);
	assert_int_equal(r.bytes, 323400000ull);
	assert_float_equal(r.v[CMP_PPS], 231000 / 1.000043, 1e-6);
	/* arrived: the receiver's packets minus lost, over its seconds */
	assert_float_equal(r.v[CMP_RX_PPS], (231000 - 2005) / 1.000118, 1e-6);
	assert_float_equal(r.v[CMP_RX_BPS], 2564441395.915282, 1e-3);
	assert_true(isnan(r.v[CMP_RETRANS]));
	assert_int_equal(json_array_size(r.rows), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(r.rows, 0), "lost_packets")),
			 2005);
	assert_int_equal(json_integer_value(json_object_get(r.extra, "lost_packets")), 2005);
	cmp_run_free(&r);
	free(t);
}

static void test_iperf3_errors(void **state)
{
	char *t = data("iperf3-3.12-error.json"), err[256] = "";
	struct cmp_run r;

	(void)state;
	/* iperf3 3.12 exits 0 with -J even when it fails: the "error" key says so */
	assert_int_equal(cmp_iperf3_parse(t, false, &r, err, sizeof(err)), -EIO);
	assert_string_equal(err, "unable to connect to server: Connection refused");
	cmp_run_free(&r);
	free(t);

	assert_int_equal(cmp_iperf3_parse("iperf3: parameter error", false, &r, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not JSON"));
	cmp_run_free(&r);
	assert_int_equal(cmp_iperf3_parse("{\"end\": {}}", false, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "sum_sent"));
	cmp_run_free(&r);
	assert_int_equal(cmp_iperf3_parse(NULL, false, &r, err, sizeof(err)), -EINVAL);
	cmp_run_free(&r);
}

static void test_zcgen(void **state)
{
	static const char tcp[] =
		"{\"queues\": [{\"queue\": 0, \"cpu\": 0, \"bits_per_second\": 8e9},"
		"              {\"queue\": 1, \"cpu\": 1, \"bits_per_second\": 4e9}],"
		" \"total\": {\"bytes\": 3000000000, \"duration_s\": 2.0, \"bits_per_second\": 1.2e10,"
		"            \"sends_per_second\": 22888, \"retransmits\": 7,"
		"            \"received_bits_per_second\": 1.19e10},"
		" \"receiver\": {\"source\": \"iperf3\", \"bytes\": 2975000000, \"bits_per_second\": 1.1e10}}";
	static const char udp[] =
		"{\"queues\": [], \"total\": {\"bytes\": 1400000000, \"duration_s\": 2.0,"
		" \"bits_per_second\": 5.6e9, \"sends_per_second\": 500000, \"retransmits\": 0},"
		" \"receiver\": {\"source\": \"iperf3\", \"bits_per_second\": 5.5e9, \"packets\": 980000,"
		"  \"lost\": 20000, \"lost_percent\": 2.0, \"jitter_ms\": 0.01}}";
	char err[256] = "";
	struct cmp_run r;

	(void)state;
	assert_int_equal(cmp_zcgen_parse(tcp, false, &r, err, sizeof(err)), 0);
	assert_int_equal(r.bytes, 3000000000ull);
	assert_float_equal(r.v[CMP_BPS], 1.2e10, 0);
	assert_float_equal(r.v[CMP_RX_BPS], 1.19e10, 0); /* total.received_bits_per_second first */
	assert_float_equal(r.v[CMP_PPS], 22888, 0);
	assert_float_equal(r.v[CMP_RETRANS], 7, 0);
	assert_true(isnan(r.v[CMP_RX_PPS]));
	assert_int_equal(json_array_size(r.rows), 2);
	cmp_run_free(&r);

	assert_int_equal(cmp_zcgen_parse(udp, true, &r, err, sizeof(err)), 0);
	assert_float_equal(r.v[CMP_RX_BPS], 5.5e9, 0);   /* else the receiver object's */
	/* zcgen's receiver.packets are the datagrams that arrived; lost ones are apart */
	assert_float_equal(r.v[CMP_RX_PPS], 980000 / 2.0, 1e-9);
	assert_true(isnan(r.v[CMP_RETRANS]));           /* UDP has none */
	cmp_run_free(&r);

	/* a --server none report: no receiver, no received rate */
	assert_int_equal(cmp_zcgen_parse("{\"total\": {\"bytes\": 1, \"duration_s\": 1}}", false, &r,
					 err, sizeof(err)), 0);
	assert_true(isnan(r.v[CMP_RX_BPS]));
	cmp_run_free(&r);
	assert_int_equal(cmp_zcgen_parse("{\"total\": {}}", false, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "total.bytes"));
	cmp_run_free(&r);
}

static void test_snmp(void **state)
{
	static const char snmp[] =
		"Ip: Forwarding DefaultTTL InReceives\n"
		"Ip: 1 64 123\n"
		"Icmp: InMsgs InErrors\n"
		"Icmp: 0 0\n"
		"Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails "
		"EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n"
		"Tcp: 1 200 120000 -1 4 3 0 0 2 987654321 1234 5 0 1 0\n"
		"Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors "
		"IgnoredMulti MemErrors\n"
		"Udp: 4242 1 0 17 0 0 0 0 0\n"
		"UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors "
		"InCsumErrors IgnoredMulti MemErrors\n"
		"UdpLite: 0 0 0 0 0 0 0 0 0\n";
	uint64_t tcp = 0, udp = 0;

	(void)state;
	assert_int_equal(cmp_snmp_parse(snmp, &tcp, &udp), 0);
	assert_int_equal(tcp, 987654321ull);
	assert_int_equal(udp, 4242);
	assert_int_equal(cmp_snmp_parse("Ip: Forwarding\nIp: 1\n", &tcp, &udp), -EINVAL);
	assert_int_equal(cmp_snmp_parse("", &tcp, &udp), -EINVAL);
}

static void test_argv(void **state)
{
	struct cmp_iperf3_args ia = { .exe = "iperf3", .host = "198.18.0.2", .port = 5301,
				      .zerocopy = true, .duration_s = 5, .parallel = 2,
				      .size = 65536 };
	struct cmp_argv a;
	char line[512];

	(void)state;
	assert_int_equal(cmp_iperf3_argv(&ia, &a), 0);
	cmp_argv_str(&a, line, sizeof(line));
	assert_string_equal(line, "iperf3 -c 198.18.0.2 -p 5301 -J -t 5 -P 2 -l 65536 -Z");
	assert_null(a.v[a.n]);

	/* UDP: no -Z (iperf3 has no zero-copy UDP), unlimited rate; omit passed through */
	ia.udp = true;
	ia.size = 1400;
	ia.parallel = 1;
	ia.omit_s = 1;
	assert_int_equal(cmp_iperf3_argv(&ia, &a), 0);
	cmp_argv_str(&a, line, sizeof(line));
	assert_string_equal(line, "iperf3 -c 198.18.0.2 -p 5301 -J -t 5 -P 1 -u -b 0 -l 1400 -O 1");

	/* copy mode: plain sends */
	ia.udp = false;
	ia.zerocopy = false;
	ia.omit_s = 0;
	ia.exe = "/opt/my iperf3";
	assert_int_equal(cmp_iperf3_argv(&ia, &a), 0);
	cmp_argv_str(&a, line, sizeof(line));
	assert_string_equal(line, "'/opt/my iperf3' -c 198.18.0.2 -p 5301 -J -t 5 -P 1 -l 1400");
	assert_string_equal(a.v[0], "/opt/my iperf3");

	/* too many arguments: refused, never truncated silently */
	cmp_argv_init(&a);
	for (int i = 0; i < CMP_ARGV_MAX + 5; i++)
		cmp_argv_add(&a, "--x=%d", i);
	assert_true(a.overflow);
	assert_int_equal(a.n, CMP_ARGV_MAX);
}

static void test_metric_keys(void **state)
{
	(void)state;
	assert_string_equal(cmp_metric_key(CMP_RX_COUNT, false), "rx_segments");
	assert_string_equal(cmp_metric_key(CMP_RX_COUNT, true), "rx_datagrams");
	assert_null(cmp_metric_key(CMP_RETRANS, true));
	assert_null(cmp_metric_key(CMP_RX_PPS, false));
	assert_string_equal(cmp_metric_key(CMP_RX_PPS, true), "received_packets_per_second");
	for (int m = 0; m < CMP_NMETRICS; m++)
		assert_true(cmp_metric((enum cmp_metric)m)->scale > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat),
		cmocka_unit_test(test_ratio),
		cmocka_unit_test(test_iperf3_tcp),
		cmocka_unit_test(test_iperf3_udp),
		cmocka_unit_test(test_iperf3_errors),
		cmocka_unit_test(test_zcgen),
		cmocka_unit_test(test_snmp),
		cmocka_unit_test(test_argv),
		cmocka_unit_test(test_metric_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
