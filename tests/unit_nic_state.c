/* unit_nic_state.c - nic/state: the state file's atomic write, what a kill -9 inside it leaves, the lock, staleness */
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

#define BOOT_A "0f3c2a9e-5b1d-4c7e-9a6f-2d8b1e4c7a90"
#define BOOT_B "7d1e4b2c-9a3f-4e8d-b5c6-1a2f3e4d5c6b"

/*
 * The staleness decision: a table of a saved file's identity keys and
 * those of now, with the verdict and a word its reason must hold. JSON
 * text, so that a missing key (a file from before the cookie, a kernel
 * without SO_NETNS_COOKIE) is written as it is found.
 */
static void test_stale_table(void **state)
{
	static const struct {
		const char *saved, *now;
		int stale;
		const char *why; /* a piece of the reason ("" when not stale) */
	} cases[] = {
		/* the same namespace, boot and device: a pin's or a killed run's file, kept */
		{ "{\"ifindex\":2,\"netns_cookie\":4101,\"boot_id\":\"" BOOT_A "\"}",
		  "{\"ifindex\":2,\"netns_cookie\":4101,\"boot_id\":\"" BOOT_A "\"}", 0, "" },
		/* the inode came back to a new namespace: the cookie tells them apart */
		{ "{\"ifindex\":2,\"netns_cookie\":4101,\"boot_id\":\"" BOOT_A "\"}",
		  "{\"ifindex\":2,\"netns_cookie\":61442,\"boot_id\":\"" BOOT_A "\"}", 1,
		  "netns cookie 4101 then, 61442 now" },
		/* another boot (a /run on disk): cookies start again, so the boot id is asked first */
		{ "{\"ifindex\":2,\"netns_cookie\":4101,\"boot_id\":\"" BOOT_A "\"}",
		  "{\"ifindex\":2,\"netns_cookie\":4101,\"boot_id\":\"" BOOT_B "\"}", 1,
		  "another boot of this machine (boot id " BOOT_A ", now " BOOT_B ")" },
		/* the device was deleted and made again in the same namespace */
		{ "{\"ifindex\":2,\"netns_cookie\":4101,\"boot_id\":\"" BOOT_A "\"}",
		  "{\"ifindex\":9,\"netns_cookie\":4101,\"boot_id\":\"" BOOT_A "\"}", 1,
		  "zcgt0 has ifindex 9 now, 2 when the state was saved" },
		/* an old file (no cookie, no boot id): as before, kept while the ifindex matches */
		{ "{\"ifindex\":2}", "{\"ifindex\":2,\"netns_cookie\":61442,\"boot_id\":\"" BOOT_A "\"}",
		  0, "" },
		{ "{\"ifindex\":2}", "{\"ifindex\":3,\"netns_cookie\":61442,\"boot_id\":\"" BOOT_A "\"}",
		  1, "ifindex 3 now, 2 when" },
		/* a kernel without SO_NETNS_COOKIE now (and so then, in the same boot): ifindex and boot */
		{ "{\"ifindex\":2,\"boot_id\":\"" BOOT_A "\"}", "{\"ifindex\":2,\"boot_id\":\"" BOOT_A "\"}",
		  0, "" },
		{ "{\"ifindex\":2,\"netns_cookie\":4101,\"boot_id\":\"" BOOT_A "\"}",
		  "{\"ifindex\":2,\"boot_id\":\"" BOOT_A "\"}", 0, "" },
		/* the device is gone now (no ifindex): only the namespace and boot are judged */
		{ "{\"ifindex\":2,\"netns_cookie\":4101}", "{\"netns_cookie\":4101}", 0, "" },
		{ "{\"ifindex\":2,\"netns_cookie\":4101}", "{\"netns_cookie\":4102}", 1, "cookie 4101 then" },
		/* unknown (0) ifindex on either side is not compared */
		{ "{\"ifindex\":0}", "{\"ifindex\":5}", 0, "" },
		/* a cookie of another type (hand-edited) is not compared */
		{ "{\"ifindex\":2,\"netns_cookie\":\"4101\"}", "{\"ifindex\":2,\"netns_cookie\":4102}", 0, "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *saved = json_loads(cases[i].saved, 0, NULL), *now = json_loads(cases[i].now, 0, NULL);
		char why[512] = "x";
		int got;

		assert_non_null(saved);
		assert_non_null(now);
		json_object_set_new(saved, "device", json_string("zcgt0"));
		got = nic_state_stale(saved, now, why, sizeof(why));
		if (got != cases[i].stale || !strstr(why, cases[i].why) || (!got && why[0]))
			fail_msg("case %zu: %s against %s: stale %d (want %d), why '%s'", i, cases[i].saved,
				 cases[i].now, got, cases[i].stale, why);
		json_decref(saved);
		json_decref(now);
	}
}

/*
 * What this process's namespace and boot are: the loopback's ifindex, the
 * inode, the boot id, and where the kernel has SO_NETNS_COOKIE (5.14) the
 * cookie; a device that does not exist has no ifindex. Two reads agree, so
 * that a run never judges its own file stale.
 */
static void test_identity(void **state)
{
	json_t *a = json_object(), *b = json_object();
	const char *bid;
	char why[512];

	(void)state;
	assert_int_equal(nic_state_identity("lo", a), 0);
	assert_int_equal(nic_state_identity("lo", b), 0);
	assert_int_equal(json_integer_value(json_object_get(a, "ifindex")), 1);
	assert_true(json_integer_value(json_object_get(a, "netns_inode")) > 0);
	bid = json_string_value(json_object_get(a, "boot_id"));
	assert_non_null(bid);
	assert_int_equal(strlen(bid), 36);
	if (json_object_get(a, "netns_cookie"))
		assert_true(json_integer_value(json_object_get(a, "netns_cookie")) > 0);
	else
		print_message("note: no SO_NETNS_COOKIE on this kernel (before 5.14): not checked\n");
	assert_true(json_equal(a, b));
	json_object_set_new(a, "device", json_string("lo"));
	assert_int_equal(nic_state_stale(a, b, why, sizeof(why)), 0);
	json_decref(b);
	b = json_object();
	assert_int_equal(nic_state_identity("zcgt-none", b), 0);
	assert_null(json_object_get(b, "ifindex"));
	assert_non_null(json_object_get(b, "boot_id"));
	json_decref(a);
	json_decref(b);
}

/* A stale file is renamed to STATE.stale (over an earlier one), and the lock file goes with it. */
static void test_set_aside(void **state)
{
	struct nic_lock lk;
	char to[600], tmp[600], origin[128];
	json_t *st = snapshot(), *back = NULL;

	(void)state;
	json_object_set_new(st, "pid", json_integer(20727));
	json_object_set_new(st, "time", json_integer(1796428258));
	assert_string_equal(nic_state_origin(st, origin, sizeof(origin)),
			    "pid 20727, saved 2026-12-04 23:50:58 UTC");
	json_object_del(st, "time");
	assert_string_equal(nic_state_origin(st, origin, sizeof(origin)), "pid 20727");

	assert_int_equal(nic_state_lock("zcgt2", &lk, NULL), 0);
	write_file(lk.state_path, "{ \"old\": 1 }"); /* an earlier .stale: replaced */
	assert_int_equal(nic_state_set_aside(&lk, lk.state_path, to, sizeof(to)), 0);
	assert_int_equal(nic_state_save(&lk, st), 0);
	assert_int_equal(nic_state_set_aside(&lk, lk.state_path, to, sizeof(to)), 0);
	assert_true(strlen(to) > strlen(NIC_STATE_STALE_SUFFIX));
	assert_string_equal(to + strlen(to) - strlen(NIC_STATE_STALE_SUFFIX), NIC_STATE_STALE_SUFFIX);
	assert_int_equal(strncmp(to, lk.state_path, strlen(lk.state_path)), 0);
	assert_int_equal(nic_state_load(&lk, &back), -ENOENT);
	back = json_load_file(to, 0, NULL);
	assert_true(json_equal(st, back));
	json_decref(back);
	/* a whole .tmp (restore reads it when there is no state file) goes to the same name */
	assert_int_equal(nic_state_tmp_path(&lk, tmp, sizeof(tmp)), 0);
	write_file(tmp, "{}");
	assert_int_equal(nic_state_set_aside(&lk, tmp, to, sizeof(to)), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(nic_state_set_aside(&lk, tmp, to, sizeof(to)), -ENOENT);
	nic_state_unlock(&lk);
	assert_int_equal(access(lk.lock_path, F_OK), -1);
	assert_int_equal(unlink(to), 0);
	json_decref(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_save_load_remove),
		cmocka_unit_test(test_unfinished),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_stale_table),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_set_aside),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
