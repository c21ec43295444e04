/* unit_cpustat.c - /proc/stat parsing and deltas from fixtures; process and thread CPU on the real system */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "gen/cpustat.h"

static const char stat_a[] =
	"cpu  100 10 50 1000 20 5 15 3 7 0\n"
	"cpu0 50 5 25 500 10 2 8 1 0 0\n"
	"intr 12345 0 0\n";
/* 2 s later on a 2-CPU machine at 100 Hz: 400 jiffies elapsed in all */
static const char stat_b[] =
	"cpu  200 10 130 1160 20 5 75 3 7 0\n"
	"cpu0 100 5 65 575 10 2 38 1 0 0\n";

static void test_parse(void **state)
{
	struct cpustat_sys s;

	assert_int_equal(cpustat_sys_parse(stat_a, &s), 0);
	assert_int_equal(s.user, 100);
	assert_int_equal(s.nice, 10);
	assert_int_equal(s.system, 50);
	assert_int_equal(s.idle, 1000);
	assert_int_equal(s.iowait, 20);
	assert_int_equal(s.irq, 5);
	assert_int_equal(s.softirq, 15);
	assert_int_equal(s.steal, 3);
	/* guest (7) is already part of user: not added again */
	assert_int_equal(cpustat_sys_busy(&s), 100 + 10 + 50 + 5 + 15 + 3);
	assert_int_equal(cpustat_sys_total(&s), 183 + 1000 + 20);
}

static void test_parse_bad(void **state)
{
	struct cpustat_sys s;

	/* per-CPU lines alone are not the aggregate */
	assert_int_equal(cpustat_sys_parse("cpu0 1 2 3 4\n", &s), -EINVAL);
	assert_int_equal(cpustat_sys_parse("", &s), -EINVAL);
	assert_int_equal(cpustat_sys_parse("cpu  1 2 3\n", &s), -EINVAL);
	/* an old kernel's four fields: the rest count as 0 */
	assert_int_equal(cpustat_sys_parse("intr 1\ncpu  1 2 3 4\n", &s), 0);
	assert_int_equal(s.idle, 4);
	assert_int_equal(s.softirq, 0);
}

static void test_delta(void **state)
{
	struct cpustat_snap a = { .wall_s = 10.0, .proc = { 1.0, 2.0 } };
	struct cpustat_snap b = { .wall_s = 12.0, .proc = { 1.5, 3.25 } };
	struct cpustat_delta d;

	assert_int_equal(cpustat_sys_parse(stat_a, &a.sys), 0);
	assert_int_equal(cpustat_sys_parse(stat_b, &b.sys), 0);
	cpustat_delta(&a, &b, 2000000000ULL, 100, &d);
	assert_float_equal(d.wall_s, 2.0, 1e-9);
	/* busy: 100 user + 80 system + 60 softirq jiffies */
	assert_float_equal(d.sys_busy_s, 2.4, 1e-9);
	assert_float_equal(d.sys_softirq_s, 0.6, 1e-9);
	assert_float_equal(d.sys_total_s, 4.0, 1e-9);
	assert_float_equal(d.proc_user_s, 0.5, 1e-9);
	assert_float_equal(d.proc_system_s, 1.25, 1e-9);
	/* 2.4 busy seconds for 2 GB */
	assert_float_equal(d.cpu_seconds_per_gb, 1.2, 1e-9);

	/* no bytes: no ratio; swapped snapshots: nothing negative */
	cpustat_delta(&b, &a, 0, 100, &d);
	assert_float_equal(d.cpu_seconds_per_gb, 0, 0);
	assert_float_equal(d.sys_busy_s, 0, 0);
	assert_float_equal(d.proc_user_s, 0, 0);
	assert_float_equal(d.wall_s, 0, 0);
}

static void test_read_fixture(void **state)
{
	char path[] = "/tmp/zcgen-cpustat-XXXXXX";
	struct cpustat_sys s;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, stat_b, strlen(stat_b)), (ssize_t)strlen(stat_b));
	close(fd);
	assert_int_equal(cpustat_sys_read(path, &s), 0);
	assert_int_equal(s.softirq, 75);
	unlink(path);
	assert_int_equal(cpustat_sys_read(path, &s), -ENOENT);
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double thread_cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct spin {
	double seconds;      /* how much CPU time to burn (not wall time: the machine is shared) */
	double thread_cpu;   /* CLOCK_THREAD_CPUTIME_ID at the end */
	double proc_cpu;     /* this thread's /proc/self/task/TID/stat at the end */
	pid_t tid;
	int err;
};

static void *spin_main(void *arg)
{
	struct spin *sp = arg;
	double give_up = mono() + 30; /* only a machine that never schedules us gets here */
	volatile unsigned long x = 0;
	struct cpustat_task t[64];
	unsigned n = 0;

	sp->tid = gettid();
	while (thread_cpu_now() < sp->seconds && mono() < give_up)
		for (int k = 0; k < 100000; k++)
			x++;
	/* cmocka's asserts longjmp: not from this thread; the results are checked after join */
	sp->err = cpustat_thread_self(&sp->thread_cpu);
	if (!sp->err)
		sp->err = cpustat_tasks_read(t, 64, &n);
	for (unsigned i = 0; i < n && i < 64; i++)
		if (t[i].tid == sp->tid)
			sp->proc_cpu = t[i].user_s + t[i].system_s;
	return NULL;
}

/*
 * A busy loop in a thread that burns a known amount of its own CPU time
 * (by its thread CPU clock, so preemption on a shared machine does not
 * matter): the process's CPU (all threads, getrusage), the thread's /proc
 * figure and the system's busy time each account for it.
 */
static void test_real_busy_thread(void **state)
{
	struct spin sp = { .seconds = 0.4 };
	struct cpustat_snap a, b;
	struct cpustat_delta d;
	pthread_t th;

	assert_int_equal(cpustat_snap(&a), 0);
	assert_int_equal(pthread_create(&th, NULL, spin_main, &sp), 0);
	pthread_join(th, NULL);
	assert_int_equal(cpustat_snap(&b), 0);
	assert_int_equal(sp.err, 0);
	cpustat_delta(&a, &b, 1000000000ULL, 0, &d);

	assert_true(sp.thread_cpu >= sp.seconds);
	assert_true(d.wall_s >= 0.9 * sp.seconds);
	/* getrusage includes the joined thread's time */
	assert_true(d.proc_user_s + d.proc_system_s >= 0.9 * sp.seconds);
	/* /proc's per-thread figure ticks in jiffies: allow for that */
	assert_true(sp.proc_cpu > 0.5 * sp.seconds - 0.05);
	/* the whole system was at least as busy as this process */
	assert_true(d.sys_busy_s >= 0.5 * sp.seconds - 0.05);
	assert_true(d.sys_total_s >= d.sys_busy_s);
	assert_float_equal(d.cpu_seconds_per_gb, d.sys_busy_s, 1e-9);
}

static void test_tasks_names(void **state)
{
	struct cpustat_task t[64];
	unsigned n = 0;
	bool self = false;

	assert_int_equal(cpustat_tasks_read(t, 64, &n), 0);
	assert_true(n >= 1);
	for (unsigned i = 0; i < n && i < 64; i++)
		if (t[i].tid == getpid()) {
			self = true;
			assert_true(t[i].comm[0] != '\0');
			assert_null(strchr(t[i].comm, '\n'));
		}
	assert_true(self);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),         cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_delta),         cmocka_unit_test(test_read_fixture),
		cmocka_unit_test(test_real_busy_thread), cmocka_unit_test(test_tasks_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
