/* unit_safety.c - the default-route guard: a default route of any table, a split default, /proc under a root */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "nic/safety.h"

static struct safety_route rt(const char *prefix, unsigned int table)
{
	struct safety_route r = { .table = table };
	char addr[64], *slash;

	snprintf(addr, sizeof(addr), "%s", prefix);
	slash = strchr(addr, '/');
	assert_non_null(slash);
	*slash = '\0';
	r.dst_len = (unsigned int)atoi(slash + 1);
	r.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(r.family, addr, r.dst), 1);
	return r;
}

struct guard_case {
	const char *name;
	const char *routes[4];       /* "PREFIX@TABLE" */
	int want;
	const char *what;            /* a substring of what is said */
};

static const struct guard_case cases[] = {
	{ "none", { NULL }, 0, NULL },
	{ "subnet only", { "192.0.2.0/24@254", "2001:db8::/64@254" }, 0, NULL },
	{ "default, main", { "192.0.2.0/24@254", "0.0.0.0/0@254" }, 1, "IPv4, routing table main" },
	{ "default, table 100", { "0.0.0.0/0@100" }, 1, "IPv4, routing table 100" },
	{ "IPv6 default", { "::/0@254" }, 1, "IPv6, routing table main" },
	{ "split v4", { "0.0.0.0/1@254", "128.0.0.0/1@254" }, 1,
	  "split in two: 0.0.0.0/1 and 128.0.0.0/1, routing table main, all of IPv4" },
	{ "split v4 over two tables", { "128.0.0.0/1@100", "0.0.0.0/1@254" }, 1,
	  "routing table main and 100" },
	{ "split v6", { "::/1@254", "8000::/1@254" }, 1, "split in two: ::/1 and 8000::/1" },
	{ "half only", { "0.0.0.0/1@254" }, 0, NULL },
	{ "halves of different families", { "0.0.0.0/1@254", "8000::/1@254" }, 0, NULL },
	{ "two low halves", { "0.0.0.0/1@254", "64.0.0.0/2@254" }, 0, NULL },
};

static void test_classify(void **state)
{
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct guard_case *c = &cases[i];
		struct safety_route r[4];
		unsigned int n = 0;
		char what[160] = "", pfx[64];

		for (; n < 4 && c->routes[n]; n++) {
			const char *at = strchr(c->routes[n], '@');

			snprintf(pfx, sizeof(pfx), "%.*s", (int)(at - c->routes[n]), c->routes[n]);
			r[n] = rt(pfx, (unsigned int)atoi(at + 1));
		}
		if (safety_routes_default(r, n, what, sizeof(what)) != c->want)
			fail_msg("%s: not %d (%s)", c->name, c->want, what);
		if (c->what && !strstr(what, c->what))
			fail_msg("%s: '%s' lacks '%s'", c->name, what, c->what);
	}
}

static void put(const char *root, const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* With a root (a tree laid out like /), the main table of /proc/net is read. */
static void test_proc(void **state)
{
	static const char hdr[] = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";
	char root[] = "/tmp/zcgen-safety-XXXXXX", path[PATH_MAX], text[1024], what[160];

	assert_non_null(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/proc", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/proc/net", root);
	assert_int_equal(mkdir(path, 0755), 0);
	/* a subnet on v0, the default on eth0: v0 is free */
	snprintf(text, sizeof(text), "%sv0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
		 "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n", hdr);
	put(root, "/proc/net/route", text);
	put(root, "/proc/net/ipv6_route",
	    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
	    "00000000000000000000000000000000 ffffffff 00000001 00000000 00200200 lo\n");
	assert_int_equal(safety_default_route(root, "v0", what, sizeof(what)), 0);
	assert_int_equal(safety_default_route(root, "eth0", what, sizeof(what)), 1);
	assert_string_equal(what, "IPv4, routing table main");
	/* the unreachable IPv6 catch-all on lo is no default route */
	assert_int_equal(safety_default_route(root, "lo", what, sizeof(what)), 0);
	/* 0.0.0.0/1 and 128.0.0.0/1 on v0 (in the file's byte order: little-endian hex) */
	snprintf(text, sizeof(text), "%sv0\t00000000\t020200C0\t0003\t0\t0\t0\t00000080\t0\t0\t0\n"
		 "v0\t00000080\t020200C0\t0003\t0\t0\t0\t00000080\t0\t0\t0\n", hdr);
	put(root, "/proc/net/route", text);
	if (ntohl(1) != 1) {
		assert_int_equal(safety_default_route(root, "v0", what, sizeof(what)), 1);
		assert_non_null(strstr(what, "0.0.0.0/1 and 128.0.0.0/1"));
	}
	/* an IPv6 default on v0 */
	put(root, "/proc/net/route", hdr);
	put(root, "/proc/net/ipv6_route",
	    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
	    "20010db8000000000000000000000002 00000400 00000001 00000000 00000003 v0\n");
	assert_int_equal(safety_default_route(root, "v0", what, sizeof(what)), 1);
	assert_string_equal(what, "IPv6, routing table main");
	snprintf(text, sizeof(text), "rm -rf '%s'", root);
	assert_int_equal(system(text), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_proc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
