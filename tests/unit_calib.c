/* unit_calib.c - calibration file: save, lookup by driver/kernel/protocol, errors, driver of a destination */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>
#include "gen/calib.h"

struct dir {
	char path[64];
	char file[128];
};

static int setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	snprintf(d->path, sizeof(d->path), "/tmp/zcgen-calib-XXXXXX");
	if (!mkdtemp(d->path))
		return -1;
	/* one level below: calib_save creates the directory, as for /var/lib/zcgen */
	snprintf(d->file, sizeof(d->file), "%s/sub/calibration.json", d->path);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct dir *d = *state;
	char sub[128];

	unlink(d->file);
	snprintf(sub, sizeof(sub), "%s/sub", d->path);
	rmdir(sub);
	rmdir(d->path);
	free(d);
	return 0;
}

static void test_missing(void **state)
{
	struct dir *d = *state;
	uint64_t x = 7;

	assert_int_equal(calib_lookup_at(d->file, "veth", "6.18.44", "tcp", &x, NULL, 0), -ENOENT);
	assert_int_equal(x, 7);
}

static void test_save_lookup(void **state)
{
	struct dir *d = *state;
	char src[512];
	uint64_t x = 0;

	assert_int_equal(calib_save_at(d->file, "veth", "6.18.44", "tcp", 3500, "2026-01-02T03:04:05Z"), 0);
	assert_int_equal(calib_lookup_at(d->file, "veth", "6.18.44", "tcp", &x, src, sizeof(src)), 0);
	assert_int_equal(x, 3500);
	assert_non_null(strstr(src, d->file));
	assert_non_null(strstr(src, "2026-01-02T03:04:05Z"));

	/* every key must match */
	assert_int_equal(calib_lookup_at(d->file, "veth", "6.1.0", "tcp", &x, NULL, 0), -ENOENT);
	assert_int_equal(calib_lookup_at(d->file, "mlx5_core", "6.18.44", "tcp", &x, NULL, 0), -ENOENT);
	assert_int_equal(calib_lookup_at(d->file, "veth", "6.18.44", "udp", &x, NULL, 0), -ENOENT);

	/* a second entry is added, the first replaced in place, not duplicated */
	assert_int_equal(calib_save_at(d->file, "loopback", "6.18.44", "tcp", 65436, NULL), 0);
	assert_int_equal(calib_save_at(d->file, "veth", "6.18.44", "tcp", 4000, NULL), 0);
	assert_int_equal(calib_lookup_at(d->file, "veth", "6.18.44", "tcp", &x, NULL, 0), 0);
	assert_int_equal(x, 4000);
	assert_int_equal(calib_lookup_at(d->file, "loopback", "6.18.44", "tcp", &x, NULL, 0), 0);
	assert_int_equal(x, 65436);

	FILE *f = fopen(d->file, "r");
	char buf[4096];
	size_t n;
	unsigned count = 0;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (char *p = buf; (p = strstr(p, "\"driver\"")); p++)
		count++;
	assert_int_equal(count, 2);
}

static void test_env_path(void **state)
{
	struct dir *d = *state;
	uint64_t x = 0;

	setenv("ZCGEN_CALIBRATION", d->file, 1);
	assert_string_equal(calib_path(), d->file);
	assert_int_equal(calib_save("veth", "6.18.44", "udp", 9000, NULL), 0);
	assert_int_equal(calib_lookup("veth", "6.18.44", "udp", &x, NULL, 0), 0);
	assert_int_equal(x, 9000);
	setenv("ZCGEN_CALIBRATION", "", 1);
	assert_string_equal(calib_path(), CALIB_DEFAULT_PATH);
	unsetenv("ZCGEN_CALIBRATION");
}

static void test_broken_file(void **state)
{
	struct dir *d = *state;
	char sub[128];
	uint64_t x = 0;
	FILE *f;

	snprintf(sub, sizeof(sub), "%s/sub", d->path);
	mkdir(sub, 0755);
	f = fopen(d->file, "w");
	assert_non_null(f);
	fputs("{\"entries\": 3}\n", f);
	fclose(f);
	assert_int_equal(calib_lookup_at(d->file, "veth", "6.18.44", "tcp", &x, NULL, 0), -EINVAL);
	/* a file that is not ours is not overwritten */
	assert_int_equal(calib_save_at(d->file, "veth", "6.18.44", "tcp", 1, NULL), -EINVAL);
	f = fopen(d->file, "w");
	assert_non_null(f);
	fputs("not json", f);
	fclose(f);
	assert_int_equal(calib_lookup_at(d->file, "veth", "6.18.44", "tcp", &x, NULL, 0), -EINVAL);
}

static void test_driver(void **state)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(5201) };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	char drv[64];
	char k[128];

	inet_pton(AF_INET, "127.0.0.53", &s4.sin_addr);
	assert_int_equal(calib_driver((struct sockaddr *)&s4, sizeof(s4), drv, sizeof(drv)), 0);
	assert_string_equal(drv, "loopback");
	assert_int_equal(calib_driver((struct sockaddr *)&s6, sizeof(s6), drv, sizeof(drv)), 0);
	assert_string_equal(drv, "loopback");
	/* a documentation address: whatever the route, an answer and no error */
	inet_pton(AF_INET, "192.0.2.1", &s4.sin_addr);
	assert_int_equal(calib_driver((struct sockaddr *)&s4, sizeof(s4), drv, sizeof(drv)), 0);
	assert_true(drv[0] != '\0');
	s4.sin_family = AF_UNIX;
	assert_int_equal(calib_driver((struct sockaddr *)&s4, sizeof(s4), drv, sizeof(drv)), -EINVAL);

	assert_int_equal(calib_kernel(k, sizeof(k)), 0);
	assert_true(k[0] >= '0' && k[0] <= '9');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_file, setup, teardown),
		cmocka_unit_test(test_driver),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
