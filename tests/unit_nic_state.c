/* unit_nic_state.c - nic/state: the state file's atomic write, what a kill -9 inside it leaves, the lock */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <jansson.h>
#include "nic/nic.h"
#include "nic/state.h"

/* The state directory of these tests: a fresh one under /tmp (ZCGEN_NIC_STATE_DIR). */
static char dir[64];

static int group_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/zcgen-unit-state.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return setenv(NIC_STATE_DIR_ENV, dir, 1);
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

static json_t *snapshot(void)
{
	return json_pack("{s:i, s:s, s:i, s:{s:b}}", "version", NIC_STATE_VERSION, "device", "zcgt0",
			 "ifindex", 0, "features", "rx-gro", 1);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* Saved whole, mode 0600, no .tmp left beside it; removed with nic_state_remove(). */
static void test_save_load_remove(void **state)
{
	struct nic_lock lk;
	char tmp[600];
	json_t *st = snapshot(), *back = NULL;
	struct stat sb;

	(void)state;
	assert_int_equal(nic_state_lock("zcgt0", &lk, NULL), 0);
	assert_int_equal(nic_state_save(&lk, st), 0);
	assert_int_equal(stat(lk.state_path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(nic_state_tmp_path(&lk, tmp, sizeof(tmp)), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(nic_state_load(&lk, &back), 0);
	assert_true(json_equal(st, back));
	json_decref(back);
	assert_int_equal(nic_state_load_unfinished(&lk, &back), -ENOENT);
	assert_int_equal(nic_state_remove(&lk), 0);
	assert_int_equal(nic_state_load(&lk, &back), -ENOENT);
	nic_state_unlock(&lk);
	assert_int_equal(access(lk.lock_path, F_OK), -1); /* no state: the lock file goes too */
	json_decref(st);
}

/*
 * A kill -9 between the .tmp's sync and the rename: no state file, a whole
 * snapshot in the .tmp, which nic_state_load_unfinished() reads; a kill
 * inside the write: a half one, -EINVAL. nic_state_remove() removes either.
 */
static void test_unfinished(void **state)
{
	struct nic_lock lk;
	char tmp[600], *text;
	json_t *st = snapshot(), *back = NULL;

	(void)state;
	assert_int_equal(nic_state_lock("zcgt0", &lk, NULL), 0);
	assert_int_equal(nic_state_tmp_path(&lk, tmp, sizeof(tmp)), 0);
	text = json_dumps(st, 0);
	write_file(tmp, text);
	assert_int_equal(nic_state_load(&lk, &back), -ENOENT);
	assert_int_equal(nic_state_load_unfinished(&lk, &back), 0);
	assert_true(json_equal(st, back));
	json_decref(back);

	text[strlen(text) / 2] = '\0';
	write_file(tmp, text);
	assert_int_equal(nic_state_load_unfinished(&lk, &back), -EINVAL);
	assert_null(back);
	assert_int_equal(nic_state_remove(&lk), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(nic_state_load_unfinished(&lk, &back), -ENOENT);

	/* a whole state file and an old .tmp beside it: the file counts, both go */
	write_file(tmp, "{");
	assert_int_equal(nic_state_save(&lk, st), 0);
	assert_int_equal(access(tmp, F_OK), -1); /* the save wrote over it and renamed it */
	write_file(tmp, "{");
	assert_int_equal(nic_state_load(&lk, &back), 0);
	json_decref(back);
	assert_int_equal(nic_state_remove(&lk), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(access(lk.state_path, F_OK), -1);
	nic_state_unlock(&lk);
	free(text);
	json_decref(st);
}

/*
 * The lock: a second holder gets -EBUSY and the first one's pid; the lock
 * of a process that died (kill -9) is free again, whatever pid its file holds.
 */
static void test_lock(void **state)
{
	struct nic_lock lk, lk2;
	pid_t holder = 0, child;
	int ready[2], status;
	char c;

	(void)state;
	assert_int_equal(pipe(ready), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct nic_lock cl;

		if (nic_state_lock("zcgt1", &cl, NULL))
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(nic_state_lock("zcgt1", &lk, &holder), -EBUSY);
	assert_int_equal(holder, child);
	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, &status, 0), child);
	/* the file still names the dead pid; the kernel dropped its flock */
	assert_int_equal(nic_state_lock("zcgt1", &lk, &holder), 0);
	assert_int_equal(nic_state_lock("zcgt1", &lk2, &holder), -EBUSY);
	assert_int_equal(holder, getpid());
	nic_state_unlock(&lk);
	close(ready[0]);
	close(ready[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_save_load_remove),
		cmocka_unit_test(test_unfinished),
		cmocka_unit_test(test_lock),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
