/* unit_spawn.c - gen/spawn: a function or a program in a child, its set-up, descriptors, group, stop; stop signals passed on */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "gen/gen.h"
#include "gen/spawn.h"
#include "gen/stopsig.h"

static int ret_seven(void *arg)
{
	(void)arg;
	return 7;
}

static void test_fn_status(void **state)
{
	struct spawn sp = SPAWN_INIT;
	pid_t pid;
	int st;

	(void)state;
	sp.fn = ret_seven;
	assert_int_equal(spawn_child(&sp, &pid), 0);
	assert_int_equal(spawn_wait(pid, &st), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 7);
	assert_int_equal(spawn_exit_code(st), 7);
	/* reaped: not ours any more */
	assert_int_equal(spawn_wait(pid, &st), -ECHILD);
}

/* Read all of @fd into @buf (NUL-terminated) until EOF. */
static void read_all(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;

	while (n < len - 1 && (r = read(fd, buf + n, len - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
}

/* A program with an argument vector; its stdout to our pipe. */
static void test_exec_out(void **state)
{
	char *const argv[] = { "sh", "-c", "echo hello; exit 5", NULL };
	struct spawn sp = SPAWN_INIT;
	char buf[64];
	int fds[2], st;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	sp.exe = "/bin/sh";
	sp.argv = argv;
	sp.out = fds[1];
	assert_int_equal(spawn_child(&sp, &pid), 0);
	close(fds[1]);
	read_all(fds[0], buf, sizeof(buf));
	close(fds[0]);
	assert_int_equal(spawn_wait(pid, &st), 0);
	assert_string_equal(buf, "hello\n");
	assert_int_equal(spawn_exit_code(st), 5);
}

/* An exec that fails: said on the child's stderr, exit 127. */
static void test_exec_fails(void **state)
{
	char *const argv[] = { "nothing", NULL };
	struct spawn sp = SPAWN_INIT;
	char buf[256];
	int fds[2], st;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	sp.exe = "/nonexistent/zcgen-test";
	sp.argv = argv;
	sp.err = fds[1];
	assert_int_equal(spawn_child(&sp, &pid), 0);
	close(fds[1]);
	read_all(fds[0], buf, sizeof(buf));
	close(fds[0]);
	assert_int_equal(spawn_wait(pid, &st), 0);
	assert_int_equal(spawn_exit_code(st), 127);
	if (!strstr(buf, "cannot run /nonexistent/zcgen-test: No such file or directory"))
		fail_msg("the child's stderr: '%s'", buf);
}

static int setup_fails(void *arg)
{
	(void)arg;
	return 126;
}

/* A set-up that fails ends the child with its status; nothing is run. */
static void test_setup_fails(void **state)
{
	char *const argv[] = { "sh", "-c", "exit 0", NULL };
	struct spawn sp = SPAWN_INIT;
	pid_t pid;
	int st;

	(void)state;
	sp.exe = "/bin/sh";
	sp.argv = argv;
	sp.setup = setup_fails;
	assert_int_equal(spawn_child(&sp, &pid), 0);
	assert_int_equal(spawn_wait(pid, &st), 0);
	assert_int_equal(spawn_exit_code(st), 126);
}

static int own_group(void *arg)
{
	(void)arg;
	return getpgid(0) == getpid() ? 0 : 1;
}

static void test_own_group(void **state)
{
	struct spawn sp = SPAWN_INIT;
	pid_t pid;
	int st;

	(void)state;
	sp.fn = own_group;
	sp.own_group = true;
	assert_int_equal(spawn_child(&sp, &pid), 0);
	assert_int_equal(spawn_wait(pid, &st), 0);
	assert_int_equal(spawn_exit_code(st), 0);
	sp.own_group = false;
	assert_int_equal(spawn_child(&sp, &pid), 0);
	assert_int_equal(spawn_wait(pid, &st), 0);
	assert_int_equal(spawn_exit_code(st), 1);
}

/* The child: until a stop signal is noted (stopsig's handler, inherited), then its number. */
static int until_stopped(void *arg)
{
	(void)arg;
	for (int i = 0; i < 500 && !gen_stop; i++)
		usleep(10000);
	return gen_stop;
}

/* A stop signal of ours reaches the child named by spawn's forward; reaping forgets it. */
static void test_forward(void **state)
{
	struct spawn sp = SPAWN_INIT;
	pid_t pid;
	int st;

	(void)state;
	gen_stop = 0;
	stopsig_install(false);
	sp.fn = until_stopped;
	sp.forward = true;
	assert_int_equal(spawn_child(&sp, &pid), 0);
	assert_int_equal(stopsig_forwarded(), pid);
	usleep(50000);
	raise(SIGTERM);
	assert_int_equal(gen_stop, SIGTERM);
	assert_int_equal(spawn_wait(pid, &st), 0);
	assert_int_equal(spawn_exit_code(st), SIGTERM);
	assert_int_equal(stopsig_forwarded(), 0);
	gen_stop = 0;
}

static int sleeps(void *arg)
{
	/* tests only: gen/ installs handlers in gen/stopsig.c alone */
	signal(SIGTERM, arg ? SIG_IGN : SIG_DFL);
	for (;;)
		pause();
	return 0;
}

/* A child that ends on SIGTERM ends within the grace; one that ignores it is killed. */
static void test_stop(void **state)
{
	struct spawn sp = SPAWN_INIT;
	pid_t pid;
	int st;

	(void)state;
	sp.fn = sleeps;
	sp.arg = NULL;
	assert_int_equal(spawn_child(&sp, &pid), 0);
	usleep(50000);
	assert_int_equal(spawn_stop(pid, SIGTERM, 2000, &st, NULL, NULL), 1);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);

	sp.arg = &sp; /* ignore SIGTERM */
	assert_int_equal(spawn_child(&sp, &pid), 0);
	usleep(50000);
	assert_int_equal(spawn_stop(pid, SIGTERM, 100, &st, NULL, NULL), 0);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(spawn_poll(pid, &st), -ECHILD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fn_status),
		cmocka_unit_test(test_exec_out),
		cmocka_unit_test(test_exec_fails),
		cmocka_unit_test(test_setup_fails),
		cmocka_unit_test(test_own_group),
		cmocka_unit_test(test_forward),
		cmocka_unit_test(test_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
