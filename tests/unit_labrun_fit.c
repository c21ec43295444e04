/* unit_labrun_fit.c - gen/labrun: a --lab profile fitted to the CPUs this process may use; the lab: line */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sched.h>
#include <string.h>
#include <cmocka.h>
#include "gen/gen.h"
#include "gen/labrun.h"

/* Run with only CPU @cpu allowed (a process may always narrow its own affinity). */
static void only_cpu(unsigned cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	assert_int_equal(sched_setaffinity(0, sizeof(set), &set), 0);
}

static unsigned first_allowed(void)
{
	cpu_set_t set;

	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	for (unsigned i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			return i;
	fail();
	return 0;
}

static void test_fits_queues_and_cpus(void **state)
{
	struct gen_profile p = { 0 };
	struct lab_fit fit;
	unsigned c = first_allowed();

	(void)state;
	only_cpu(c);
	p.queues = 4;
	p.n_cpus = 2;
	p.cpus[0] = c;
	p.cpus[1] = c + 1;           /* not allowed now */
	assert_int_equal(labrun_fit(&p, true, &fit), 0);
	assert_int_equal(p.queues, 1);
	assert_int_equal(fit.queues_was, 4);
	assert_int_equal(fit.queues, 1);
	assert_true(fit.cpus_dropped);
	assert_int_equal(p.n_cpus, 0);
}

static void test_leaves_a_fitting_profile(void **state)
{
	struct gen_profile p = { 0 };
	struct lab_fit fit;
	unsigned c = first_allowed();

	(void)state;
	only_cpu(c);
	p.queues = 1;
	p.n_cpus = 1;
	p.cpus[0] = c;
	assert_int_equal(labrun_fit(&p, true, &fit), 0);
	assert_int_equal(p.queues, 1);
	assert_int_equal(fit.queues, fit.queues_was);
	assert_false(fit.cpus_dropped);
	assert_int_equal(p.n_cpus, 1);
	assert_int_equal(p.cpus[0], c);
}

static void test_cpus_left_alone_without_cpus_too(void **state)
{
	struct gen_profile p = { 0 };
	struct lab_fit fit;
	unsigned c = first_allowed();

	(void)state;
	only_cpu(c);
	p.queues = 3;
	p.n_cpus = 1;
	p.cpus[0] = c + 1;
	assert_int_equal(labrun_fit(&p, false, &fit), 0);
	assert_int_equal(p.queues, 1);
	assert_false(fit.cpus_dropped);
	assert_int_equal(p.n_cpus, 1);
}

/* The line run, sweep, ndr and compare print once the lab is up: each field in its place. */
static void test_lab_line(void **state)
{
	struct lab_info li = { .tx_netns = "zcgen-lab-tx", .rx_netns = "zcgen-lab-rx",
			       .tx_dev = "zcl-tx0", .rx_dev = "zcl-rx0", .tx_ipv4 = "198.18.0.1",
			       .rx_ipv4 = "198.18.0.2", .queues = 2 };
	char buf[256];

	(void)state;
	labrun_line(&li, buf, sizeof(buf));
	assert_string_equal(buf, "lab: zcgen-lab-tx zcl-tx0 (198.18.0.1) -> zcgen-lab-rx zcl-rx0 "
			    "(198.18.0.2), 2 queues");
	li.reused = true;
	li.queues = 1;
	labrun_line(&li, buf, sizeof(buf));
	assert_string_equal(buf, "lab: zcgen-lab-tx zcl-tx0 (198.18.0.1) -> zcgen-lab-rx zcl-rx0 "
			    "(198.18.0.2), 1 queues, reused");
	/* a short buffer: cut, terminated */
	labrun_line(&li, buf, 12);
	assert_string_equal(buf, "lab: zcgen-");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fits_queues_and_cpus),
		cmocka_unit_test(test_leaves_a_fitting_profile),
		cmocka_unit_test(test_cpus_left_alone_without_cpus_too),
		cmocka_unit_test(test_lab_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
