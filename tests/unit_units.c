/* unit_units.c - sizes, times, rates, CPU lists and host:port parse one way */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "gen/units.h"

static void test_size(void **state)
{
	static const struct { const char *in; int ret; uint64_t v; } t[] = {
		{ "1400", 0, 1400 }, { "64K", 0, 65536 }, { "64KiB", 0, 65536 },
		{ "1M", 0, 1048576 }, { "2G", 0, 2147483648ULL }, { "0.5K", 0, 512 },
		{ "64k", 0, 65536 }, { "", -EINVAL, 0 }, { "-1", -EINVAL, 0 },
		{ "10 parsecs", -EINVAL, 0 }, { "1.5", -EINVAL, 0 }, { " 64K", -EINVAL, 0 },
		{ "0x10", -EINVAL, 0 }, { "K", -EINVAL, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t v = 0;
		int ret = units_size(t[i].in, &v);

		assert_int_equal(ret, t[i].ret);
		if (!ret)
			assert_int_equal(v, t[i].v);
	}
}

static void test_time(void **state)
{
	static const struct { const char *in; int ret; uint64_t ns; } t[] = {
		{ "10s", 0, 10000000000ULL }, { "10", 0, 10000000000ULL },
		{ "500ms", 0, 500000000ULL }, { "2m", 0, 120000000000ULL },
		{ "0.5", 0, 500000000ULL }, { "250us", 0, 250000ULL }, { "1h", 0, 3600000000000ULL },
		{ "10 s", -EINVAL, 0 }, { "ten", -EINVAL, 0 }, { "5d", -EINVAL, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t v = 0;
		int ret = units_time_ns(t[i].in, &v);

		assert_int_equal(ret, t[i].ret);
		if (!ret)
			assert_int_equal(v, t[i].ns);
	}
}

static void test_rate(void **state)
{
	double v;

	assert_int_equal(units_rate_bps("40G", &v), 0);
	assert_true(v == 40e9);
	assert_int_equal(units_rate_bps("500M", &v), 0);
	assert_true(v == 500e6);
	assert_int_equal(units_rate_bps("1.5Gbit", &v), 0);
	assert_true(v == 1.5e9);
	assert_int_equal(units_rate_bps("40Q", &v), -EINVAL);
	assert_int_equal(units_rate_bps("3Mpps", &v), -EINVAL);    /* a packet rate is not a bit rate */
	assert_int_equal(units_rate_pps("3Mpps", &v), 0);
	assert_true(v == 3e6);
	assert_int_equal(units_rate_pps("10kpps", &v), 0);
	assert_true(v == 1e4);
	assert_int_equal(units_rate_pps("10Kpps", &v), 0);
	assert_true(v == 1e4);
	assert_int_equal(units_rate_pps("800pps", &v), 0);
	assert_true(v == 800);
	assert_int_equal(units_rate_pps("1.5Gpps", &v), 0);
	assert_true(v == 1.5e9);
	assert_int_equal(units_rate_pps("3M", &v), -EINVAL);       /* a bit rate is not a packet rate */
	assert_int_equal(units_rate_pps("3", &v), -EINVAL);
	assert_int_equal(units_rate_pps("3 Mpps", &v), -EINVAL);
	assert_int_equal(units_rate_pps("-3Mpps", &v), -EINVAL);
}

static void test_cpulist(void **state)
{
	unsigned c[16], n = 0;
	char buf[64];

	assert_int_equal(units_cpulist("0-3,8", c, 16, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(c[3], 3);
	assert_int_equal(c[4], 8);
	assert_string_equal(units_fmt_cpulist(c, n, buf, sizeof(buf)), "0-3,8");
	assert_int_equal(units_cpulist("[0, 2, 4]", c, 16, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(c[2], 4);
	assert_string_equal(units_fmt_cpulist(c, n, buf, sizeof(buf)), "0,2,4");
	assert_int_equal(units_cpulist("0,1", c, 16, &n), 0);
	assert_string_equal(units_fmt_cpulist(c, n, buf, sizeof(buf)), "0,1");
	assert_int_equal(units_cpulist("3-1", c, 16, &n), -EINVAL);
	assert_int_equal(units_cpulist("a", c, 16, &n), -EINVAL);
	assert_int_equal(units_cpulist("", c, 16, &n), -EINVAL);
	assert_int_equal(units_cpulist("0-31", c, 16, &n), -ERANGE);
}

static void test_hostport(void **state)
{
	char h[64];
	uint16_t p;

	assert_int_equal(units_hostport("127.0.0.1:5201", h, sizeof(h), &p), 0);
	assert_string_equal(h, "127.0.0.1");
	assert_int_equal(p, 5201);
	assert_int_equal(units_hostport("[::1]:9", h, sizeof(h), &p), 0);
	assert_string_equal(h, "::1");
	assert_int_equal(p, 9);
	assert_int_equal(units_hostport("::1:9", h, sizeof(h), &p), -EINVAL);
	assert_int_equal(units_hostport("host:0", h, sizeof(h), &p), -ERANGE);
	assert_int_equal(units_hostport("host:70000", h, sizeof(h), &p), -ERANGE);
	assert_int_equal(units_hostport("host", h, sizeof(h), &p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_cpulist),
		cmocka_unit_test(test_hostport),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
