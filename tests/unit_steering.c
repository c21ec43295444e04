/* unit_steering.c - the steering figure: 1 - half the sum of |NIC share - ring share| */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "gen/runnic.h"

static void test_steering(void **state)
{
	const double match_n[] = { 0.5, 0.5 }, match_r[] = { 0.5, 0.5 };
	const double one_n[] = { 0.9, 0.1 }, one_r[] = { 1.0, 0.0 };
	const double cross_n[] = { 0.0, 1.0 }, cross_r[] = { 1.0, 0.0 };
	const double three_n[] = { 0.2, 0.3, 0.5 }, three_r[] = { 0.5, 0.5, 0.0 };

	assert_float_equal(steering_figure(match_n, match_r, 2), 1.0, 1e-12);
	assert_float_equal(steering_figure(one_n, one_r, 2), 0.9, 1e-12);
	assert_float_equal(steering_figure(cross_n, cross_r, 2), 0.0, 1e-12);
	/* |0.2-0.5| + |0.3-0.5| + |0.5-0| = 1.0 -> 0.5 */
	assert_float_equal(steering_figure(three_n, three_r, 3), 0.5, 1e-12);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_steering) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
