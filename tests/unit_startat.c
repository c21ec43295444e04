/* unit_startat.c - --start-at's times: RFC 3339 and Unix seconds parse one way, and print back */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "gen/startat.h"

static void test_parse(void **state)
{
	static const struct { const char *in; int ret; long long sec; long ns; } t[] = {
		{ "1796443200", 0, 1796443200, 0 },
		{ "1796443200.25", 0, 1796443200, 250000000 },
		{ "1796443200.123456789999", 0, 1796443200, 123456789 },
		{ "2026-12-05T04:00:00Z", 0, 1796443200, 0 },
		{ "2026-12-05t04:00:00z", 0, 1796443200, 0 },
		{ "2026-12-05 04:00:00Z", 0, 1796443200, 0 },
		{ "2026-12-05T05:00:00.5+01:00", 0, 1796443200, 500000000 },
		{ "2026-12-04T22:30:00-05:30", 0, 1796443200, 0 },
		{ "2028-02-29T00:00:00Z", 0, 1835395200, 0 },
		{ "1970-01-01T00:00:00Z", 0, 0, 0 },
		{ "2026-12-05T04:00:00", -EINVAL, 0, 0 },     /* no zone */
		{ "2026-02-29T00:00:00Z", -EINVAL, 0, 0 },    /* not a leap year */
		{ "2026-13-01T00:00:00Z", -EINVAL, 0, 0 },
		{ "2026-12-05T24:00:00Z", -EINVAL, 0, 0 },
		{ "2026-12-05T04:00:00Zx", -EINVAL, 0, 0 },
		{ "2026-12-05T04:00:00+1:00", -EINVAL, 0, 0 },
		{ "2026-12-05T04:00:00.Z", -EINVAL, 0, 0 },
		{ "26-12-05T04:00:00Z", -EINVAL, 0, 0 },
		{ "", -EINVAL, 0, 0 }, { "now", -EINVAL, 0, 0 }, { "1e9", -EINVAL, 0, 0 },
		{ "-5", -EINVAL, 0, 0 }, { " 1796443200", -EINVAL, 0, 0 }, { "1796443200.", -EINVAL, 0, 0 },
		{ "99999999999999999999999", -EINVAL, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct timespec at = { -1, -1 };
		char why[200] = "";
		int ret = startat_parse(t[i].in, &at, why, sizeof(why));

		print_message("%s\n", t[i].in);
		assert_int_equal(ret, t[i].ret);
		if (ret) {
			assert_true(why[0] != '\0');
			continue;
		}
		assert_int_equal(at.tv_sec, t[i].sec);
		assert_int_equal(at.tv_nsec, t[i].ns);
	}
}

static void test_format(void **state)
{
	struct timespec at = { 1796443200, 5 }, back;
	char buf[64], why[200];

	startat_format(&at, buf, sizeof(buf));
	assert_string_equal(buf, "2026-12-05T04:00:00.000000005Z");
	assert_int_equal(startat_parse(buf, &back, why, sizeof(why)), 0);
	assert_int_equal(back.tv_sec, at.tv_sec);
	assert_int_equal(back.tv_nsec, at.tv_nsec);
}

/* A past time: no sleep at all; a stop already set: -EINTR at once. */
static void test_sleep(void **state)
{
	struct timespec past = { 1, 0 }, soon;
	volatile sig_atomic_t stop = 0;

	assert_int_equal(startat_sleep(&past, &stop), 0);
	assert_int_equal(startat_sleep(&past, NULL), 0);
	clock_gettime(CLOCK_REALTIME, &soon);
	soon.tv_nsec += 20000000;
	if (soon.tv_nsec >= 1000000000) {
		soon.tv_sec++;
		soon.tv_nsec -= 1000000000;
	}
	assert_int_equal(startat_sleep(&soon, &stop), 0);
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	assert_true(now.tv_sec > soon.tv_sec || (now.tv_sec == soon.tv_sec && now.tv_nsec >= soon.tv_nsec));
	stop = 1;
	assert_int_equal(startat_sleep(&past, &stop), -EINTR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_sleep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
