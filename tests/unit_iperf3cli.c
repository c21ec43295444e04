/* unit_iperf3cli.c - iperf3's client flags become the zcgen run options a user would have typed */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "gen/iperf3cli.h"

/* the translation of a space-separated command line, space-separated, or "ERR: message" */
static void translate(const char *line, char *out, size_t len)
{
	char buf[1024], *argv[64], *tok, *save = NULL;
	struct iperf3cli i3;
	char err[400];
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (tok = strtok_r(buf, " ", &save); tok && argc < 63; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	if (iperf3cli_translate(argc, argv, &i3, err, sizeof(err))) {
		snprintf(out, len, "ERR: %s", err);
		return;
	}
	out[0] = '\0';
	for (int i = 0; i < i3.argc; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? " " : "", i3.argv[i]);
}

static void test_translate(void **state)
{
	static const struct { const char *in, *want; } t[] = {
		{ "zcgen -c 192.0.2.1",
		  "run --dest 192.0.2.1:5201 --server iperf3 --duration 10 --protocol tcp --mode auto" },
		{ "zcgen -c h -p 5999 -t 3 -P 4 -Z",
		  "run --dest h:5999 --server iperf3 --duration 3 --protocol tcp --mode zc-fixed --queues 4 --streams 1" },
		{ "zcgen -c h -u",
		  "run --dest h:5201 --server iperf3 --duration 10 --protocol udp --mode auto --rate 1M" },
		{ "zcgen -c h -u -b 0 -l 1400",
		  "run --size 1400 --dest h:5201 --server iperf3 --duration 10 --protocol udp --mode auto --rate line" },
		{ "zcgen -c h -b 2G",
		  "run --dest h:5201 --server iperf3 --duration 10 --protocol tcp --mode auto --rate 2G" },
		{ "zcgen -c 2001:db8::2 -J -O 1 -i 0.5 -A 3,5",
		  "run --omit 1 --dest [2001:db8::2]:5201 --server iperf3 --duration 10 --protocol tcp --mode auto "
		  "--interval 0.5 --cpus 3 --json - --json-format iperf3 --quiet" },
		{ "zcgen --client=h --time=2 -i 0",
		  "run --dest h:5201 --server iperf3 --duration 2 --protocol tcp --mode auto --quiet" },
		{ "zcgen -ch -t2 -C bbr -- --depth 4",
		  "run --congestion bbr --dest h:5201 --server iperf3 --duration 2 --protocol tcp --mode auto --depth 4" },
		{ "zcgen -c h -R", "ERR: iperf3's -R (--reverse) is not supported: zcgen sends; run `zcgen sink` on this host and zcgen on the other" },
		{ "zcgen -c h --bidir", "ERR: iperf3's --bidir is not supported: zcgen sends one way; run one zcgen on each host" },
		{ "zcgen -c h -n 1G", "ERR: iperf3's -n (--bytes) is not supported: zcgen runs for a time: use -t" },
		{ "zcgen -c h --mode copy", "ERR: --mode is not one of iperf3's client options that zcgen takes (zcgen's own options go after --: zcgen -c HOST -- --mode copy)" },
		{ "zcgen -c h -t 0", "ERR: -t 0 (no end) is not supported: give a time" },
		{ "zcgen -c h -t", "ERR: -t needs a value" },
		{ "zcgen -c", "ERR: -c needs a value" },
		{ "zcgen -c h -uZ", "ERR: -uZ is not one of iperf3's client options that zcgen takes (one flag per argument; zcgen's own options go after --)" },
	};
	char got[2048];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		translate(t[i].in, got, sizeof(got));
		if (strcmp(got, t[i].want))
			fail_msg("%s\n  got:  %s\n  want: %s", t[i].in, got, t[i].want);
	}
}

static void test_wanted(void **state)
{
	char *a[] = { "zcgen", "-t", "5", "-c", "h", NULL };
	char *b[] = { "zcgen", "--profile", "x.yaml", NULL };
	char *c[] = { "zcgen", "--dest", "h:1", "--", "-c", NULL };
	char *d[] = { "zcgen", "--client=h", NULL };
	char *e[] = { "zcgen", "lab", "exec", "ping", "-c", "1", "127.0.0.1", NULL };

	assert_true(iperf3cli_wanted(5, a));
	assert_false(iperf3cli_wanted(3, b));
	assert_false(iperf3cli_wanted(5, c));
	assert_true(iperf3cli_wanted(2, d));
	assert_false(iperf3cli_wanted(7, e));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_translate),
		cmocka_unit_test(test_wanted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
