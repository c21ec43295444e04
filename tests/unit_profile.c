/* unit_profile.c - profiles: every class of error with its line, column and key; shipped profiles; overrides */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <getopt.h>
#include <fcntl.h>
#include "gen/gen.h"
#include "gen/profile.h"
#include "gen/cmd.h"
#include "gen/yamltree.h"
#include "gen/expect.h"

static char tmpdir[256];

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/zcgen-profile-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Write @text to a fresh file under tmpdir; the name says which case it is. */
static const char *write_profile(const char *name, const char *text, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s.yaml", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* A CPU this process may not run on (there is always one below 65536 in practice). */
static unsigned forbidden_cpu(void)
{
	cpu_set_t set;

	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	for (unsigned c = 0; c < CPU_SETSIZE; c++)
		if (!CPU_ISSET(c, &set))
			return c;
	return 4000; /* 1024 CPUs all allowed: 4000 cannot be, the mask only covers 1024 */
}

static void allowed_list(char *buf, size_t len)
{
	cpu_set_t set;
	unsigned cpus[CPU_SETSIZE], n = 0;

	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	for (unsigned c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	units_fmt_cpulist(cpus, n, buf, len);
}

/* ---------------------------------------------------------- invalid files */

struct bad_case {
	const char *name;
	const char *yaml;      /* "@CPU@" is replaced by a CPU the process may not use */
	bool validate;         /* the error comes from profile_validate */
	int line, col;         /* expected position; 0 for a profile_validate error of no key */
	const char *key;
	const char *msg;       /* a substring of the message */
};

static const struct bad_case bad_cases[] = {
	{ .name = "syntax", .yaml = "target:\n  host: x\nqueues: 4\n  streams: 2\n",
	  .line = 4, .col = 10, .key = "", .msg = "YAML syntax error: mapping values are not allowed" },
	{ .name = "syntax-flow", .yaml = "target: {host: x\nqueues: 2\n",
	  .line = 2, .col = 7, .key = "", .msg = "did not find expected ',' or '}'" },
	{ .name = "tab", .yaml = "target:\n  host: x\n\tport: 5201\n",
	  .line = 3, .col = 1, .key = "", .msg = "tab character used for indentation; use spaces" },
	{ .name = "tab-nested", .yaml = "target:\n  host: x\nnic:\n  interface: eth1\n  channels:\n  \tcombined: 2\n",
	  .line = 6, .col = 3, .key = "", .msg = "tab character used for indentation; use spaces" },
	{ .name = "duplicate", .yaml = "target:\n  host: x\nqueues: 2\nstreams: 1\nqueues: 4\n",
	  .line = 5, .col = 1, .key = "queues", .msg = "duplicate key 'queues' (first given at line 3, column 1)" },
	{ .name = "duplicate-nested", .yaml = "target:\n  host: x\n  port: 1\n  port: 2\n",
	  .line = 4, .col = 3, .key = "target.port", .msg = "duplicate key 'port'" },
	{ .name = "unknown-top", .yaml = "target:\n  host: x\nstreem: 2\n",
	  .line = 3, .col = 1, .key = "streem", .msg = "did you mean 'streams'?" },
	{ .name = "unknown-nested", .yaml = "target:\n  host: x\nnic:\n  interface: eth1\n  chanels:\n    combined: 2\n",
	  .line = 5, .col = 3, .key = "nic.chanels", .msg = "did you mean 'channels'?" },
	{ .name = "unknown-deep", .yaml = "target:\n  host: x\nnic:\n  interface: eth1\n  channels:\n    combine: 2\n",
	  .line = 6, .col = 5, .key = "nic.channels.combine", .msg = "did you mean 'combined'?" },
	{ .name = "unknown-far", .yaml = "target:\n  host: x\nwibble: 2\n",
	  .line = 3, .col = 1, .key = "wibble", .msg = "valid keys here: name, target, protocol" },
	{ .name = "misplaced", .yaml = "host: x\n",
	  .line = 1, .col = 1, .key = "host", .msg = "did you mean 'target.host'" },
	{ .name = "type-map-for-scalar", .yaml = "target:\n  host: x\nqueues:\n  n: 2\n",
	  .line = 4, .col = 3, .key = "queues", .msg = "expected an integer from 1 to 256, got a mapping" },
	{ .name = "type-scalar-for-map", .yaml = "target: 192.0.2.2\n",
	  .line = 1, .col = 9, .key = "target", .msg = "expected a mapping with the keys host, port, server" },
	{ .name = "type-word-for-number", .yaml = "target:\n  host: x\n  port: http\n",
	  .line = 3, .col = 9, .key = "target.port", .msg = "'http' is not an integer; expected an integer from 1 to 65535" },
	{ .name = "type-list-for-scalar", .yaml = "target:\n  host: x\nstreams: [1, 2]\n",
	  .line = 3, .col = 10, .key = "streams", .msg = "got a list" },
	{ .name = "missing-value", .yaml = "target:\n  host: x\ndepth:\n",
	  .line = 3, .col = 7, .key = "depth", .msg = "missing value; expected an integer from 1 to 1024" },
	{ .name = "bad-enum", .yaml = "target:\n  host: x\nmode: fast\n",
	  .line = 3, .col = 7, .key = "mode", .msg = "expected one of copy, zc, zc-fixed, auto" },
	{ .name = "bad-offload", .yaml = "target:\n  host: x\nnic:\n  interface: eth1\n  offloads:\n    tso: maybe\n",
	  .line = 6, .col = 10, .key = "nic.offloads.tso", .msg = "expected on or off" },
	{ .name = "bad-unit", .yaml = "target:\n  host: x\nduration: 10 parsecs\n",
	  .line = 3, .col = 11, .key = "duration", .msg = "'10 parsecs' is not a time" },
	{ .name = "bad-size-unit", .yaml = "target:\n  host: x\nsize: 64Q\n",
	  .line = 3, .col = 7, .key = "size", .msg = "'64Q' is not a size" },
	{ .name = "range-low", .yaml = "target:\n  host: x\nqueues: 0\n",
	  .line = 3, .col = 9, .key = "queues", .msg = "'0' is out of range; expected an integer from 1 to 256" },
	{ .name = "range-high", .yaml = "target:\n  host: x\nqueues: 100000\n",
	  .line = 3, .col = 9, .key = "queues", .msg = "'100000' is out of range; expected an integer from 1 to 256" },
	{ .name = "range-interval", .yaml = "target:\n  host: x\ninterval: 10ms\n",
	  .line = 3, .col = 11, .key = "interval", .msg = "from 100ms to 1h" },
	{ .name = "range-channels", .yaml = "target:\n  host: x\nnic:\n  interface: eth1\n  channels:\n    combined: 5000\n",
	  .line = 6, .col = 15, .key = "nic.channels.combined", .msg = "from 1 to 4096" },
	{ .name = "long-ifname", .yaml = "target:\n  host: x\nnic:\n  interface: abcdefghijklmnop\n",
	  .line = 4, .col = 14, .key = "nic.interface", .msg = "1 to 15 characters" },
	{ .name = "cpulist-syntax", .yaml = "target:\n  host: x\ncpus: 3-1\n",
	  .line = 3, .col = 7, .key = "cpus", .msg = "'3-1' is not a CPU list; expected a CPU list such as 0-7" },
	{ .name = "cpulist-item", .yaml = "target:\n  host: x\ncpus: [0, two]\n",
	  .line = 3, .col = 11, .key = "cpus", .msg = "'two' is not a CPU number or range" },
	{ .name = "empty", .yaml = "",
	  .line = 1, .col = 1, .key = "", .msg = "empty profile; expected a mapping of keys" },
	{ .name = "only-comments", .yaml = "# nothing here\n\n",
	  .line = 1, .col = 1, .key = "", .msg = "empty profile" },
	{ .name = "not-a-mapping", .yaml = "- queues\n- 2\n",
	  .line = 1, .col = 1, .key = "", .msg = "expected a mapping of keys such as target:" },
	{ .name = "two-documents", .yaml = "target:\n  host: x\n---\nqueues: 2\n",
	  .line = 3, .col = 1, .key = "", .msg = "a profile is one YAML document" },
	/* rate: and sizes: */
	{ .name = "rate-word", .yaml = "target:\n  host: x\nrate: fast\n",
	  .line = 3, .col = 7, .key = "rate", .msg = "'fast' is not a rate; expected line, a bit rate (500M, 40G)" },
	{ .name = "rate-zero", .yaml = "target:\n  host: x\nrate: 0\n",
	  .line = 3, .col = 7, .key = "rate", .msg = "0 is not a rate; for no limit write line" },
	{ .name = "rate-list", .yaml = "target:\n  host: x\nrate: [1G]\n",
	  .line = 3, .col = 7, .key = "rate", .msg = "or a mapping with the keys value, per, layer, ramp, steps, burst, tcp_pacing, got a list" },
	{ .name = "rate-unknown", .yaml = "target:\n  host: x\nrate:\n  valu: 1G\n",
	  .line = 4, .col = 3, .key = "rate.valu", .msg = "did you mean 'value'?" },
	{ .name = "rate-per", .yaml = "target:\n  host: x\nrate:\n  value: 1G\n  per: flow\n",
	  .line = 5, .col = 8, .key = "rate.per", .msg = "expected one of total, queue, stream" },
	{ .name = "rate-layer", .yaml = "target:\n  host: x\nrate:\n  value: 1G\n  layer: l3\n",
	  .line = 5, .col = 10, .key = "rate.layer", .msg = "expected one of payload, l2, l1" },
	{ .name = "ramp-from-line", .yaml = "target:\n  host: x\nrate:\n  value: 1G\n  ramp: {from: line, over: 5s}\n",
	  .line = 5, .col = 16, .key = "rate.ramp.from", .msg = "line is not a rate here" },
	{ .name = "ramp-over-zero", .yaml = "target:\n  host: x\nrate:\n  value: 1G\n  ramp: {from: 1G, over: 0}\n",
	  .line = 5, .col = 26, .key = "rate.ramp.over", .msg = "'0' is out of range; expected a time greater than 0" },
	{ .name = "burst-zero", .yaml = "target:\n  host: x\nrate:\n  value: 1G\n  burst: 0\n",
	  .line = 5, .col = 10, .key = "rate.burst", .msg = "from 1 to 65536" },
	{ .name = "tcp-pacing-word", .yaml = "target:\n  host: x\nrate:\n  value: 1G\n  tcp_pacing: maybe\n",
	  .line = 5, .col = 15, .key = "rate.tcp_pacing", .msg = "'maybe' is not on or off" },
	{ .name = "steps-scalar", .yaml = "target:\n  host: x\nrate:\n  steps: 1G\n",
	  .line = 4, .col = 10, .key = "rate.steps", .msg = "expected a list of steps such as [{rate: 1G, for: 10s}" },
	{ .name = "steps-item-scalar", .yaml = "target:\n  host: x\nrate:\n  steps: [1G]\n",
	  .line = 4, .col = 11, .key = "rate.steps", .msg = "step 1: expected a mapping {rate: RATE, for: TIME}, got a value" },
	{ .name = "step-missing-for", .yaml = "target:\n  host: x\nrate:\n  steps:\n    - {rate: 1G, for: 1s}\n    - {rate: 2G}\n",
	  .line = 6, .col = 7, .key = "rate.steps", .msg = "step 2: missing for" },
	{ .name = "step-unknown", .yaml = "target:\n  host: x\nrate:\n  steps: [{rate: 1G, for: 1s, burst: 2}]\n",
	  .line = 4, .col = 31, .key = "rate.steps", .msg = "step 1: unknown key 'burst'; a step has rate and for" },
	{ .name = "step-rate", .yaml = "target:\n  host: x\nrate:\n  steps: [{rate: fast, for: 1s}]\n",
	  .line = 4, .col = 18, .key = "rate.steps", .msg = "step 1: 'fast' is not a rate" },
	{ .name = "step-line", .yaml = "target:\n  host: x\nrate:\n  steps: [{rate: line, for: 1s}]\n",
	  .line = 4, .col = 18, .key = "rate.steps", .msg = "(no line in steps)" },
	{ .name = "step-time", .yaml = "target:\n  host: x\nrate:\n  steps: [{rate: 1G, for: 0}]\n",
	  .line = 4, .col = 27, .key = "rate.steps", .msg = "step 1: '0' is not a time greater than 0" },
	{ .name = "steps-empty", .yaml = "target:\n  host: x\nrate:\n  steps: []\n",
	  .line = 4, .col = 10, .key = "rate.steps", .msg = "0 steps; give 1 to 32" },
	{ .name = "sizes-scalar", .yaml = "target:\n  host: x\nprotocol: udp\nsizes: 64\n",
	  .line = 4, .col = 8, .key = "sizes", .msg = "expected a mapping of datagram sizes to weights" },
	{ .name = "sizes-small", .yaml = "target:\n  host: x\nprotocol: udp\nsizes: {8: 1}\n",
	  .line = 4, .col = 9, .key = "sizes.8", .msg = "'8' is not a datagram size; expected 16 to 65507" },
	{ .name = "sizes-weight", .yaml = "target:\n  host: x\nprotocol: udp\nsizes: {64: 0}\n",
	  .line = 4, .col = 13, .key = "sizes.64", .msg = "expected a weight, an integer from 1 to 1000000, got '0'" },
	{ .name = "sizes-dup", .yaml = "target:\n  host: x\nprotocol: udp\nsizes: {1K: 1, 1024: 2}\n",
	  .line = 4, .col = 16, .key = "sizes.1024", .msg = "size 1024 given twice" },
	{ .name = "rate-tcp-pps", .yaml = "target:\n  host: x\nrate: 3Mpps\n", .validate = true,
	  .line = 3, .col = 1, .key = "rate", .msg = "TCP takes a bit rate only" },
	{ .name = "rate-tcp-pps-steps", .yaml = "target:\n  host: x\nrate:\n  steps: [{rate: 1Mpps, for: 1s}]\n", .validate = true,
	  .line = 3, .col = 1, .key = "rate", .msg = "TCP takes a bit rate only" },
	{ .name = "rate-no-value", .yaml = "target:\n  host: x\nrate:\n  per: queue\n", .validate = true,
	  .line = 3, .col = 1, .key = "rate", .msg = "a rate: mapping needs value" },
	{ .name = "rate-value-steps", .yaml = "target:\n  host: x\nrate:\n  value: 1G\n  steps: [{rate: 1G, for: 1s}]\n",
	  .validate = true, .line = 5, .col = 3, .key = "rate.steps", .msg = "give value (with an optional ramp) or steps, not both" },
	{ .name = "ramp-half", .yaml = "target:\n  host: x\nrate: {value: 1G, ramp: {from: 0}}\n", .validate = true,
	  .line = 3, .col = 19, .key = "rate.ramp", .msg = "a ramp needs both from and over" },
	{ .name = "ramp-line", .yaml = "target:\n  host: x\nrate: {value: line, ramp: {from: 0, over: 1s}}\n", .validate = true,
	  .line = 3, .col = 21, .key = "rate.ramp", .msg = "a ramp needs a target" },
	{ .name = "ramp-steps", .yaml = "target:\n  host: x\nrate: {ramp: {from: 0, over: 1s}, steps: [{rate: 1G, for: 1s}]}\n",
	  .validate = true, .line = 3, .col = 8, .key = "rate.ramp", .msg = "with steps, give each rate as a step" },
	{ .name = "ramp-units", .yaml = "target:\n  host: x\nprotocol: udp\nrate: {value: 1Mpps, ramp: {from: 1G, over: 1s}}\n", .validate = true,
	  .line = 4, .col = 29, .key = "rate.ramp.from", .msg = "ramp.from is a bit rate but value is a packet rate" },
	{ .name = "steps-units", .yaml = "target:\n  host: x\nprotocol: udp\nrate:\n  steps: [{rate: 1Mpps, for: 1s}, {rate: 0, for: 1s}, {rate: 1G, for: 1s}]\n",
	  .validate = true, .line = 5, .col = 3, .key = "rate.steps", .msg = "some steps are packet rates and some bit rates" },
	{ .name = "pacing-udp", .yaml = "target:\n  host: x\nprotocol: udp\nrate: {value: 1G, tcp_pacing: on}\n", .validate = true,
	  .line = 4, .col = 19, .key = "rate.tcp_pacing", .msg = "on TCP sockets only" },
	{ .name = "pacing-no-rate", .yaml = "target:\n  host: x\nrate: {value: line, tcp_pacing: on}\n", .validate = true,
	  .line = 3, .col = 21, .key = "rate.tcp_pacing", .msg = "needs a rate" },
	{ .name = "sizes-tcp", .yaml = "target:\n  host: x\nsizes: {64: 1}\n", .validate = true,
	  .line = 3, .col = 1, .key = "sizes", .msg = "a size mix is for UDP datagrams" },
	{ .name = "sizes-and-size", .yaml = "target:\n  host: x\nprotocol: udp\nsize: 1400\nsizes: {64: 1}\n", .validate = true,
	  .line = 5, .col = 1, .key = "sizes", .msg = "give size or sizes, not both" },
	{ .name = "missing-target", .yaml = "queues: 1\n", .validate = true,
	  .key = "target.host", .msg = "give target.host in the profile or --dest HOST:PORT" },
	{ .name = "cpus-not-allowed", .yaml = "target:\n  host: x\ncpus: [@CPU@]\n", .validate = true,
	  .line = 3, .col = 1, .key = "cpus", .msg = "not available to this process; it may use " },
	{ .name = "omit-duration", .yaml = "target:\n  host: x\nduration: 5s\nomit: 5s\n", .validate = true,
	  .line = 4, .col = 1, .key = "omit", .msg = "omit (5s) must be shorter than duration (5s)" },
	{ .name = "udp-size", .yaml = "target:\n  host: x\nprotocol: udp\nsize: 64K\n", .validate = true,
	  .line = 4, .col = 1, .key = "size", .msg = "expected 16 to 65507" },
	{ .name = "udp-size-header", .yaml = "target:\n  host: x\nprotocol: udp\nsize: 8\n", .validate = true,
	  .line = 4, .col = 1, .key = "size", .msg = "16-byte header" },
	{ .name = "channels-both", .validate = true,
	  .yaml = "target:\n  host: x\nnic:\n  interface: eth1\n  channels: {combined: 2, tx: 2}\n",
	  .line = 5, .col = 3, .key = "nic.channels", .msg = "either combined, or rx and tx" },
	{ .name = "channels-few", .validate = true,
	  .yaml = "target:\n  host: x\ncpus: 0\nqueues: 4\nnic:\n  interface: eth1\n  channels: {combined: 2}\n",
	  .line = 4, .col = 1, .key = "queues", .msg = "4 queues but nic.channels gives 2 TX channels" },
	{ .name = "nic-no-interface", .validate = true, .yaml = "target:\n  host: x\nnic:\n  xps: none\n",
	  .line = 3, .col = 1, .key = "nic.interface", .msg = "missing" },
	{ .name = "dscp-tos", .validate = true, .yaml = "target:\n  host: x\ndscp: 4\ntos: 8\n",
	  .line = 4, .col = 1, .key = "tos", .msg = "give dscp or tos, not both (dscp N is tos N << 2); dscp is given too (set at " },
	{ .name = "gso-tcp", .validate = true, .yaml = "target:\n  host: x\nudp: {gso_segments: 4}\n",
	  .line = 3, .col = 7, .key = "udp.gso_segments", .msg = "is for UDP; TCP segments by itself (TSO/GSO): drop --gso or use protocol: udp; protocol is tcp (the default)" },
	{ .name = "alias-undefined", .yaml = "target:\n  host: x\nnic:\n  channels:\n    combined: *n\n",
	  .line = 5, .col = 15, .key = "nic.channels.combined", .msg = "alias '*n' names no complete anchor above it" },
	{ .name = "alias-undefined-key", .yaml = "target:\n  host: x\n*k : 1\n",
	  .line = 3, .col = 1, .key = "", .msg = "alias '*k', used as a key, names no complete anchor" },
	{ .name = "alias-in-list", .yaml = "target:\n  host: x\ncpus: [0, *c]\n",
	  .line = 3, .col = 11, .key = "cpus", .msg = "alias '*c' names no complete anchor" },
};

static const struct gen_diag *only_error(const struct gen_diags *d, const char *name)
{
	const struct gen_diag *found = NULL;

	for (unsigned i = 0; i < d->n; i++) {
		if (d->v[i].warning)
			continue;
		if (found) {
			print_error("case %s: more than one error:\n", name);
			diags_print(d, stderr);
			fail();
		}
		found = &d->v[i];
	}
	if (!found) {
		print_error("case %s: no error\n", name);
		fail();
	}
	return found;
}

static void test_bad_profiles(void **state)
{
	char allowed[256];

	allowed_list(allowed, sizeof(allowed));
	for (unsigned i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct gen_profile *p = calloc(1, sizeof(*p));
		struct gen_diags d = { 0 };
		const struct gen_diag *g;
		char path[PATH_MAX], text[512];
		int r;

		assert_non_null(p);
		const char *at = strstr(c->yaml, "@CPU@");

		if (at)
			snprintf(text, sizeof(text), "%.*s%u%s", (int)(at - c->yaml), c->yaml, forbidden_cpu(),
				 at + 5);
		else
			snprintf(text, sizeof(text), "%s", c->yaml);
		write_profile(c->name, text, path, sizeof(path));
		profile_init(p);
		r = profile_load(p, path, &d);
		if (c->validate) {
			if (r) {
				diags_print(&d, stderr);
				fail_msg("case %s: load failed", c->name);
			}
			r = profile_validate(p, &d);
		}
		if (r != -EINVAL)
			fail_msg("case %s: returned %d, not -EINVAL", c->name, r);
		g = only_error(&d, c->name);
		if (!strstr(g->msg, c->msg) || strcmp(g->key, c->key) || g->line != c->line ||
		    g->col != c->col || g->cli) {
			diags_print(&d, stderr);
			fail_msg("case %s: got %d:%d key '%s' msg '%s'; want %d:%d key '%s' msg '...%s...'",
				 c->name, g->line, g->col, g->key, g->msg, c->line, c->col, c->key, c->msg);
		}
		/* profile_validate's errors too are told at the key's place in the file */
		if (!c->validate || c->line)
			assert_string_equal(g->file, path);
		if (!strcmp(c->name, "cpus-not-allowed")) {
			char want[300];

			snprintf(want, sizeof(want), "it may use %s ", allowed);
			if (!strstr(g->msg, want))
				fail_msg("allowed list '%s' not in '%s'", allowed, g->msg);
		}
		diags_free(&d);
		free(p);
	}
}

/* One file, three different mistakes: all three reported, in line order. */
static void test_all_errors_reported(void **state)
{
	static const char yaml[] =
		"target:\n"
		"  host: 127.0.0.1\n"
		"queues: 100000\n"          /* out of range */
		"streem: 2\n"               /* unknown key */
		"duration: 10 parsecs\n"    /* bad unit */
		"mode: zc-fixed\n";
	struct gen_profile p;
	struct gen_diags d = { 0 };
	char path[PATH_MAX];

	profile_init(&p);
	assert_int_equal(profile_load(&p, write_profile("three", yaml, path, sizeof(path)), &d), -EINVAL);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.v[0].line, 3);
	assert_string_equal(d.v[0].key, "queues");
	assert_non_null(strstr(d.v[0].msg, "out of range"));
	assert_int_equal(d.v[1].line, 4);
	assert_string_equal(d.v[1].key, "streem");
	assert_int_equal(d.v[2].line, 5);
	assert_string_equal(d.v[2].key, "duration");
	/* what could be read was read */
	assert_int_equal(p.mode, GEN_MODE_ZC_FIXED);
	assert_string_equal(p.host, "127.0.0.1");
	diags_free(&d);
}

/* A tab does not end the checking: errors after it are still found. */
static void test_errors_after_tab(void **state)
{
	static const char yaml[] = "target:\n\thost: x\nqueues: 0\n";
	struct gen_profile p;
	struct gen_diags d = { 0 };
	char path[PATH_MAX];

	profile_init(&p);
	assert_int_equal(profile_load(&p, write_profile("tab-then", yaml, path, sizeof(path)), &d), -EINVAL);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.v[0].line, 2);
	assert_non_null(strstr(d.v[0].msg, "tab character"));
	assert_int_equal(d.v[1].line, 3);
	assert_int_equal(d.v[1].col, 9);
	assert_string_equal(d.v[1].key, "queues");
	assert_string_equal(p.host, "x");
	diags_free(&d);
}

static void test_unreadable(void **state)
{
	struct gen_profile p;
	struct gen_diags d = { 0 };
	char path[PATH_MAX];

	assert_true(snprintf(path, sizeof(path), "%s/does-not-exist.yaml", tmpdir) < (int)sizeof(path));
	profile_init(&p);
	assert_int_equal(profile_load(&p, path, &d), -ENOENT);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].file, path);
	assert_non_null(strstr(d.v[0].msg, "No such file"));
	diags_free(&d);
}

/* ------------------------------------------------------- shipped profiles */

static void load_shipped(struct gen_profile *p, const char *name)
{
	const char *src = getenv("ZCGEN_SRC");
	struct gen_diags d = { 0 };
	char path[PATH_MAX];

	if (!src)
		src = ".";
	snprintf(path, sizeof(path), "%s/profiles/%s", src, name);
	profile_init(p);
	if (profile_load(p, path, &d)) {
		diags_print(&d, stderr);
		fail_msg("%s does not load", path);
	}
	assert_int_equal(d.n, 0);
	diags_free(&d);
}

static void test_shipped_100g(void **state)
{
	struct gen_profile p;

	load_shipped(&p, "100g-tcp.yaml");
	assert_string_equal(p.name, "100g-tcp");
	assert_string_equal(p.host, "192.0.2.2");
	assert_int_equal(p.port, 5201);
	assert_int_equal(p.server, GEN_SERVER_ZCGEN);
	assert_int_equal(p.proto, GEN_PROTO_TCP);
	assert_int_equal(p.queues, 8);
	assert_int_equal(p.n_cpus, 8);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(p.cpus[i], i);
	assert_in_range(p.streams, 1, 2);
	assert_int_equal(p.size, 65536);
	assert_true(p.size_set);
	assert_int_equal(p.mode, GEN_MODE_ZC_FIXED);
	assert_false(p.depth_set);                   /* the mode's default */
	assert_true(p.duration_ns > p.omit_ns);
	assert_true(p.nic.present);
	assert_string_equal(p.nic.interface, "eth1");
	assert_int_equal(p.nic.combined, 8);
	assert_int_equal(p.nic.rx, -1);
	assert_int_equal(p.nic.tx, -1);
	assert_true(p.nic.irq_affinity_auto);
	assert_true(p.nic.xps_auto);
	assert_true(p.nic.n_offloads >= 3);
	for (unsigned i = 0; i < p.nic.n_offloads; i++)
		assert_true(p.nic.offloads[i].on);
	assert_string_equal(p.nic.offloads[0].name, "tso");
	assert_string_equal(p.nic.offloads[1].name, "gso");
	assert_string_equal(p.nic.offloads[2].name, "sg");

	load_shipped(&p, "100g-udp.yaml");
	assert_int_equal(p.proto, GEN_PROTO_UDP);
	assert_int_equal(p.queues, 8);
	assert_int_equal(p.n_cpus, 8);
	assert_true(p.size == 1472 || p.size == 8972);
	assert_int_equal(p.mode, GEN_MODE_ZC_FIXED);
	assert_string_equal(p.nic.interface, "eth1");
	assert_int_equal(p.nic.combined, 8);
}

static void test_shipped_loopback(void **state)
{
	static const struct { const char *file; enum gen_proto proto; uint64_t size; } t[] = {
		{ "loopback-tcp.yaml", GEN_PROTO_TCP, 65536 },
		{ "loopback-udp.yaml", GEN_PROTO_UDP, 1400 },
	};

	for (unsigned i = 0; i < 2; i++) {
		struct gen_profile p;
		struct gen_diags d = { 0 };

		load_shipped(&p, t[i].file);
		assert_string_equal(p.host, "127.0.0.1");
		assert_int_equal(p.port, 5201);
		assert_int_equal(p.server, GEN_SERVER_NONE);
		assert_int_equal(p.proto, t[i].proto);
		assert_int_equal(p.queues, 2);
		assert_int_equal(p.n_cpus, 2);
		assert_int_equal(p.cpus[0], 0);
		assert_int_equal(p.cpus[1], 1);
		assert_int_equal(p.size, t[i].size);
		assert_int_equal(p.duration_ns, 5000000000ull);
		assert_false(p.nic.present);
		/* CPUs 0-1 are what a small machine has: it validates, unless affinity forbids them */
		if (forbidden_cpu() > 1) {
			if (profile_validate(&p, &d)) {
				diags_print(&d, stderr);
				fail_msg("%s does not validate", t[i].file);
			}
			assert_int_equal(diags_errors(&d), 0);
		}
		diags_free(&d);
	}
}

/* ------------------------------------------------------------- overrides */

static void test_overrides(void **state)
{
	struct gen_profile p;
	struct gen_diags d = { 0 };

	load_shipped(&p, "100g-tcp.yaml");
	assert_int_equal(profile_set(&p, "dest", "127.0.0.1:6000", &d), 0);
	assert_int_equal(profile_set(&p, "queues", "2", &d), 0);
	assert_int_equal(profile_set(&p, "cpus", "0", &d), 0);
	assert_int_equal(profile_set(&p, "size", "1M", &d), 0);
	assert_int_equal(profile_set(&p, "mode", "copy", &d), 0);
	assert_int_equal(profile_set(&p, "duration", "2m", &d), 0);
	assert_int_equal(profile_set(&p, "omit", "500ms", &d), 0);
	assert_int_equal(profile_set(&p, "interval", "2", &d), 0);
	assert_int_equal(profile_set(&p, "server", "none", &d), 0);
	assert_int_equal(profile_set(&p, "protocol", "udp", &d), 0);
	assert_int_equal(profile_set(&p, "protocol", "tcp", &d), 0);
	assert_int_equal(profile_set(&p, "name", "mine", &d), 0);
	assert_int_equal(profile_set(&p, "streams", "3", &d), 0);
	assert_int_equal(profile_set(&p, "depth", "16", &d), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(p.host, "127.0.0.1");
	assert_int_equal(p.port, 6000);
	assert_int_equal(p.queues, 2);
	assert_int_equal(p.n_cpus, 1);
	assert_int_equal(p.cpus[0], 0);
	assert_int_equal(p.size, 1 << 20);
	assert_int_equal(p.mode, GEN_MODE_COPY);
	assert_int_equal(p.duration_ns, 120000000000ull);
	assert_int_equal(p.omit_ns, 500000000ull);
	assert_int_equal(p.interval_ns, 2000000000ull);
	assert_int_equal(p.server, GEN_SERVER_NONE);
	assert_string_equal(p.name, "mine");
	assert_int_equal(p.streams, 3);
	assert_int_equal(p.depth, 16);
	/* the file's nic: section is untouched by overrides */
	assert_int_equal(p.nic.combined, 8);

	/* IPv6 in brackets */
	assert_int_equal(profile_set(&p, "dest", "[::1]:5202", &d), 0);
	assert_string_equal(p.host, "::1");
	assert_int_equal(p.port, 5202);

	/* two queues on one CPU: valid, with the wrap-around warning */
	if (forbidden_cpu() > 0) {
		assert_int_equal(profile_validate(&p, &d), 0);
		assert_int_equal(diags_errors(&d), 0);
		assert_int_equal(d.n, 1);
		assert_true(d.v[0].warning);
		assert_string_equal(d.v[0].key, "queues");
		assert_int_equal(profile_queue_cpu(&p, 0), 0);
		assert_int_equal(profile_queue_cpu(&p, 1), 0);
	}
	diags_free(&d);
}

/* A check across keys names the option that set a key last, or the key's place in the file. */
static void test_cross_key_places(void **state)
{
	static const char yaml[] = "target:\n  host: 192.0.2.1\nduration: 5s\ndscp: 4\n";
	struct gen_profile *p = calloc(1, sizeof(*p));
	struct gen_diags d = { 0 };
	char path[PATH_MAX], want[PATH_MAX + 64];
	const struct gen_diag *g;

	assert_non_null(p);
	write_profile("cross", yaml, path, sizeof(path));
	profile_init(p);
	assert_int_equal(profile_load(p, path, &d), 0);
	/* a documentation address: a warning at target.host's line */
	assert_int_equal(profile_validate(p, &d), 0);
	assert_int_equal(d.n, 1);
	assert_true(d.v[0].warning);
	assert_int_equal(d.v[0].line, 2);
	assert_int_equal(d.v[0].col, 3);
	assert_string_equal(d.v[0].file, path);
	diags_free(&d);

	/* the same from --dest: told as --dest, not at the line it overrode */
	assert_int_equal(profile_set(p, "dest", "198.51.100.1:5201", &d), 0);
	assert_int_equal(profile_set(p, "omit", "5s", &d), 0);
	assert_int_equal(profile_set(p, "tos", "8", &d), 0);
	assert_int_equal(profile_validate(p, &d), -EINVAL);
	assert_int_equal(diags_errors(&d), 2);
	for (unsigned i = 0; i < d.n; i++) {
		g = &d.v[i];
		assert_true(g->cli);
		assert_int_equal(g->line, 0);
		if (!strcmp(g->key, "dest")) {
			assert_true(g->warning);
			assert_non_null(strstr(g->msg, "documentation address"));
		} else if (!strcmp(g->key, "omit")) {
			snprintf(want, sizeof(want), "(duration: set at %s:3:1)", path);
			if (!strstr(g->msg, "omit (5s) must be shorter than duration (5s)") || !strstr(g->msg, want))
				fail_msg("omit: '%s' lacks '%s'", g->msg, want);
		} else if (!strcmp(g->key, "tos")) {
			snprintf(want, sizeof(want), "dscp is given too (set at %s:4:1)", path);
			if (!strstr(g->msg, want))
				fail_msg("tos: '%s' lacks '%s'", g->msg, want);
		} else {
			fail_msg("unexpected: --%s: %s", g->key, g->msg);
		}
	}
	diags_free(&d);

	/* duration too from the command line: the message says so */
	assert_int_equal(profile_set(p, "duration", "4s", &d), 0);
	assert_int_equal(profile_set(p, "dscp", "1", &d), 0);
	assert_int_equal(profile_validate(p, &d), -EINVAL);
	for (unsigned i = 0; i < d.n; i++) {
		g = &d.v[i];
		if (!strcmp(g->key, "omit"))
			assert_non_null(strstr(g->msg, "(duration: set by --duration)"));
		/* both dscp and tos from options: told at the last key of the check */
		if (!strcmp(g->key, "tos"))
			assert_non_null(strstr(g->msg, "dscp is given too (set by --dscp)"));
	}
	diags_free(&d);
	free(p);
}

/* A profile of thousands of mistakes: all counted, the first ones in line order kept and shown. */
static void test_many_errors(void **state)
{
	size_t cap = 64 << 10, o = 0;
	char *text = malloc(cap), path[PATH_MAX], *out = NULL, last[128];
	struct gen_profile p;
	struct gen_diags d = { 0 };
	size_t len = 0;
	unsigned lines = 0;
	FILE *f;

	assert_non_null(text);
	/* 300 unknown keys, then a section of 300 tab-indented lines (the tabs are found first) */
	for (unsigned i = 0; i < 300; i++)
		o += (size_t)snprintf(text + o, cap - o, "k%u: 1\n", i);
	o += (size_t)snprintf(text + o, cap - o, "nic:\n  interface: eth1\n");
	for (unsigned i = 0; i < 300; i++)
		o += (size_t)snprintf(text + o, cap - o, "\tx%u: 1\n", i);
	write_profile("many", text, path, sizeof(path));
	profile_init(&p);
	assert_int_equal(profile_load(&p, path, &d), -EINVAL);
	/* 300 unknown keys, 300 tabs; under nic: 300 unknown keys more */
	assert_int_equal(diags_errors(&d), 900);
	assert_int_equal(d.n, DIAGS_KEEP);
	assert_int_equal(d.dropped, 900 - DIAGS_KEEP);
	for (unsigned i = 0; i < d.n; i++)
		if (d.v[i].line != (int)i + 1)
			fail_msg("kept #%u is at line %d, not %u", i, d.v[i].line, i + 1);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	diags_print(&d, f);
	assert_int_equal(fclose(f), 0);
	for (char *l = out; *l; l = strchr(l, '\n') + 1) {
		lines++;
		snprintf(last, sizeof(last), "%.*s", (int)(strchr(l, '\n') - l), l);
	}
	assert_int_equal(lines, DIAGS_PRINT + 1);
	snprintf(path, sizeof(path), "... and %u more errors (900 in all)", 900 - DIAGS_PRINT);
	assert_string_equal(last, path);
	free(out);
	free(text);
	diags_free(&d);
}

/* CPU time of loading a file of @n distinct unknown keys, best of 5. */
static double load_cpu_s(unsigned n)
{
	size_t cap = 64 << 10, o = 0;
	char *text = malloc(cap), path[PATH_MAX], name[32];
	double best = 1e9;

	assert_non_null(text);
	for (unsigned i = 0; i < n; i++)
		o += (size_t)snprintf(text + o, cap - o, "k%04u:\n", i);
	assert_true(o < cap);
	snprintf(name, sizeof(name), "keys-%u", n);
	write_profile(name, text, path, sizeof(path));
	for (int rep = 0; rep < 5; rep++) {
		struct gen_profile p;
		struct gen_diags d = { 0 };
		struct timespec a, b;

		profile_init(&p);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
		assert_int_equal(profile_load(&p, path, &d), -EINVAL);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
		assert_int_equal(diags_errors(&d), n);
		diags_free(&d);
		double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
		if (s < best)
			best = s;
	}
	free(text);
	return best;
}

/*
 * Nine times the keys, about nine times the time: no quadratic step (the
 * duplicate check once compared every key with every earlier one: x30 here).
 */
static void test_load_linear(void **state)
{
	double t1 = load_cpu_s(1000), t9 = load_cpu_s(9000);

	print_message("1000 keys: %.1f ms, 9000 keys: %.1f ms (x%.1f)\n", t1 * 1e3, t9 * 1e3, t9 / t1);
	if (t9 > 18 * t1)
		fail_msg("9000 keys took %.1fx the time of 1000: more than linear", t9 / t1);
}

/* Only a regular file is read: a FIFO would block, a directory or a device is no profile. */
static void test_not_regular(void **state)
{
	static const struct { const char *path, *msg; } c[] = {
		{ NULL, "it is a FIFO (named pipe), not a regular file" },
		{ "/dev/null", "it is a character device, not a regular file" },
		{ "/", "it is a directory, not a regular file" },
	};
	char fifo[PATH_MAX];

	snprintf(fifo, sizeof(fifo), "%s/fifo.yaml", tmpdir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct gen_profile p;
		struct gen_diags d = { 0 };

		profile_init(&p);
		assert_int_equal(profile_load(&p, c[i].path ? c[i].path : fifo, &d), -EBADFD);
		assert_int_equal(d.n, 1);
		if (!strstr(d.v[0].msg, c[i].msg))
			fail_msg("'%s' lacks '%s'", d.v[0].msg, c[i].msg);
		diags_free(&d);
	}
}

/* A profile is at most 64 KiB: a bigger file is refused with its size. */
static void test_too_big(void **state)
{
	size_t n = (64 << 10) + 1;
	char *text = malloc(n + 1), path[PATH_MAX];
	struct gen_profile p;
	struct gen_diags d = { 0 };

	assert_non_null(text);
	memset(text, '#', n);
	text[n] = '\0';
	write_profile("big", text, path, sizeof(path));
	profile_init(&p);
	assert_int_equal(profile_load(&p, path, &d), -EFBIG);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].msg, "it is 65537 bytes, and a profile is at most 64 KiB"));
	diags_free(&d);
	/* one byte less is read (and is an empty profile: all comment) */
	text[n - 1] = '\0';
	write_profile("big", text, path, sizeof(path));
	assert_int_equal(profile_load(&p, path, &d), -EINVAL);
	assert_non_null(strstr(d.v[0].msg, "empty profile"));
	diags_free(&d);
	free(text);
}

struct bad_set {
	const char *key, *value, *msg;
};

static const struct bad_set bad_sets[] = {
	{ "queues", "0", "'0' is out of range; expected an integer from 1 to 256" },
	{ "queues", "257", "out of range" },
	{ "streams", "lots", "'lots' is not an integer" },
	{ "size", "10 parsecs", "is not a size" },
	{ "size", "2G", "from 1 B to 1 GiB" },
	{ "duration", "0", "greater than 0" },
	{ "interval", "2h", "from 100ms to 1h" },
	{ "mode", "fast", "one of copy, zc, zc-fixed, auto" },
	{ "server", "netperf", "one of none, zcgen, iperf3" },
	{ "protocol", "sctp", "one of tcp, udp" },
	{ "cpus", "0-", "is not a CPU list" },
	{ "dest", "::1:5201", "[2001:db8::2]:5201" },
	{ "dest", "host:0", "out of range" },
	{ "depth", "", "missing value" },
	{ "nic", "x", "a section cannot be set from the command line" },
	{ "nic.offloads", "x", "set its keys one by one (nic.offloads.KEY)" },
	{ "bogus", "1", "expected one of name, server, dest, protocol" },
	{ "nic.channels.combined", "0", "from 1 to 4096" },
	{ "rate", "fast", "'fast' is not a rate" },
	{ "rate", "0", "for no limit write line" },
	{ "rate", "1e3G", "is not a rate" },
	{ "rate", "2000Tbit", "out of range" },
	{ "rate.value", "", "missing value" },
	{ "rate.layer", "l4", "one of payload, l2, l1" },
	{ "rate.burst", "65537", "from 1 to 65536" },
	{ "rate.steps", "1G", "cannot be given as a single value; expected a list of steps" },
	{ "rate.ramp", "x", "a section cannot be set from the command line" },
	{ "sizes", "64", "cannot be given as a single value" },
};

static void test_bad_overrides(void **state)
{
	for (unsigned i = 0; i < sizeof(bad_sets) / sizeof(bad_sets[0]); i++) {
		const struct bad_set *c = &bad_sets[i];
		struct gen_profile p, before;
		struct gen_diags d = { 0 };

		profile_init(&p);
		memcpy(&before, &p, sizeof(p));
		assert_int_equal(profile_set(&p, c->key, c->value, &d), -EINVAL);
		assert_int_equal(d.n, 1);
		assert_true(d.v[0].cli);
		assert_int_equal(d.v[0].line, 0);
		assert_string_equal(d.v[0].key, c->key);
		if (!strstr(d.v[0].msg, c->msg))
			fail_msg("--%s %s: '%s' lacks '%s'", c->key, c->value, d.v[0].msg, c->msg);
		/* a rejected value changes nothing */
		assert_memory_equal(&p, &before, sizeof(p));
		diags_free(&d);
	}
}

/*
 * The keys' options of zcgen run come from the key table (profile_option()),
 * its --help text is written by hand: every such option is in it (and then
 * t_package checks that the man page has it too), named once, and profile_set
 * takes it.
 */
static void test_run_options_in_help(void **state)
{
	char path[PATH_MAX], help[16384], *argv[] = { "run", "--help", NULL };
	const char *name;
	unsigned n = 0;
	ssize_t len;
	int fd, out;

	snprintf(path, sizeof(path), "%s/run-help.txt", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	fflush(stdout);
	out = dup(STDOUT_FILENO);
	assert_true(out >= 0);
	assert_true(dup2(fd, STDOUT_FILENO) >= 0);
	assert_int_equal(cmd_run(2, argv), EXIT_OK);
	fflush(stdout);
	assert_true(dup2(out, STDOUT_FILENO) >= 0);
	close(out);
	len = pread(fd, help, sizeof(help) - 1, 0);
	close(fd);
	assert_true(len > 0 && len < (ssize_t)sizeof(help) - 1);
	help[len] = '\0';
	for (unsigned i = 0; (name = profile_option(i)); i++, n++) {
		char opt[80];
		const char *at = help;
		struct gen_profile p;
		struct gen_diags d = { 0 };
		bool found = false;

		snprintf(opt, sizeof(opt), "--%s", name);
		/* "--source" is not found in "--source-ports" */
		while ((at = strstr(at, opt)) && !found) {
			at += strlen(opt);
			found = !strchr("abcdefghijklmnopqrstuvwxyz0123456789-", *at);
		}
		if (!found)
			fail_msg("--%s is an option of zcgen run (a key's .cli), but run --help does "
				 "not list it", name);
		for (unsigned j = 0; j < i; j++)
			assert_string_not_equal(profile_option(j), name);
		profile_init(&p);
		profile_set(&p, name, "", &d);
		assert_int_equal(d.n, 1);
		if (strstr(d.v[0].msg, "not a key that can be set"))
			fail_msg("--%s: profile_set does not take it: %s", name, d.v[0].msg);
		diags_free(&d);
	}
	/* the 23 that zcgen run had when they were listed by hand; --name is profile_set's alone */
	assert_true(n >= 23);
	assert_true(!strstr(help, "--name"));
}

/*
 * cmd_key_options(): the getopt rows of a command that takes some profile keys
 * come from the key table, in the order the command gives them, each value
 * turning back into its key's name; a name that is no profile option is refused.
 */
static void test_key_options(void **state)
{
	static const char *const some[] = { "dest", "duration", "gso", "queues", NULL };
	static const char *const bad[] = { "dest", "no-such-key", NULL };
	struct option lo[2 + GEN_MAX_KEYS + 1] = {
		{ "help", no_argument, NULL, 1 },
		{ "json", required_argument, NULL, 2 },
	};
	unsigned all = 0;
	int n;

	n = cmd_key_options("t", lo, 2, some, 100);
	assert_int_equal(n, 6);
	assert_string_equal(lo[0].name, "help");
	for (unsigned i = 0; some[i]; i++) {
		assert_string_equal(lo[2 + i].name, some[i]);
		assert_int_equal(lo[2 + i].has_arg, required_argument);
		assert_string_equal(cmd_key_option(lo[2 + i].val, 100), some[i]);
	}
	assert_null(lo[6].name);
	assert_null(cmd_key_option(2, 100)); /* a command's own option */
	assert_int_equal(cmd_key_options("t", lo, 2, bad, 100), -1);
	/* NULL: every option of the key table, as zcgen run takes them */
	while (profile_option(all))
		all++;
	n = cmd_key_options("t", lo, 2, NULL, 100);
	assert_int_equal(n, 2 + (int)all);
	for (unsigned i = 0; i < all; i++)
		assert_string_equal(cmd_key_option(lo[2 + i].val, 100), profile_option(i));
}

/*
 * The expect: keys come from one list (EXPECT_KEYS): the section's message
 * names each of them, and each is a key of the table.
 */
static void test_expect_keys_one_list(void **state)
{
	static const char *const names[] = {
#define NAME(name, kind) #name,
		EXPECT_KEYS(NAME)
#undef NAME
	};
	char path[PATH_MAX];
	struct gen_profile p;
	struct gen_diags d = { 0 };

	profile_init(&p);
	assert_int_equal(profile_load(&p, write_profile("expect-scalar", "expect: 3\n", path,
							 sizeof(path)), &d), -EINVAL);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].msg, "min_gbps_total, min_gbps_per_queue, max_loss_percent, "
			       "max_p99_latency, min_steering, offloads_effective, min_ndr_fps"));
	diags_free(&d);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char key[64];

		snprintf(key, sizeof(key), "expect.%s", names[i]);
		profile_init(&p);
		/* a value of the wrong kind: the key is known, its value refused */
		assert_int_equal(profile_set(&p, key, "!", &d), -EINVAL);
		assert_int_equal(d.n, 1);
		if (strstr(d.v[0].msg, "not a key that can be set"))
			fail_msg("%s: not a key of the table: %s", key, d.v[0].msg);
		diags_free(&d);
	}
}

/*
 * gen/yamltree.c alone: nodes with the line and column they were written at
 * (a tab counted as written, not as expanded), a repeated key pointing at
 * the first, and the tree kept up to a syntax error.
 */
static void test_yamltree(void **state)
{
	static const char text[] = "a: 1\nb:\n  - x\n\t- y\nc: {d: 2}\na: 3\n";
	static const char cut[] = "a: 1\nb: [1, 2\nc: 3\n";
	struct gen_diags d = { 0 };
	const struct ynode *root, *b, *y;
	struct ytree t;

	assert_int_equal(ytree_parse(&t, "t.yaml", text, strlen(text), &d), 0);
	/* the tab on line 4, reported and read as one indentation step */
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 4);
	assert_int_equal(d.v[0].col, 1);
	assert_string_equal(d.v[0].file, "t.yaml");
	assert_non_null(strstr(d.v[0].msg, "tab character"));
	assert_true(t.root >= 0);
	root = &t.nodes[t.root];
	assert_int_equal(root->type, YAML_MAPPING_NODE);
	assert_int_equal(root->n, 8);
	assert_string_equal(ynode_kind(root), "a mapping");
	b = &t.nodes[root->items[3]];
	assert_string_equal(ynode_kind(b), "a list");
	assert_int_equal(b->n, 2);
	y = &t.nodes[b->items[1]];
	assert_string_equal(y->val, "y");
	assert_int_equal(y->line, 4);
	assert_int_equal(y->col, 4);     /* "\t- y": the tab is one column as written */
	assert_string_equal(ynode_kind(y), "a value");
	assert_null(ytree_dup(&t, root, 0));
	assert_ptr_equal(ytree_dup(&t, root, 6), &t.nodes[root->items[0]]);
	assert_int_equal(t.cut_line, 0);
	ytree_free(&t);
	diags_free(&d);

	assert_int_equal(ytree_parse(&t, "cut.yaml", cut, strlen(cut), &d), 0);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.v[0].msg, "YAML syntax error"));
	assert_true(t.cut_line > 0);
	assert_int_equal(t.cut_line, d.v[0].line);
	root = &t.nodes[t.root];
	assert_string_equal(t.nodes[root->items[0]].val, "a");
	assert_string_equal(t.nodes[root->items[1]].val, "1");
	ytree_free(&t);
	diags_free(&d);
}

/* ------------------------------------------------- defaults, names, print */

static void test_defaults(void **state)
{
	struct gen_profile p;

	profile_init(&p);
	assert_string_equal(p.name, "unnamed");
	assert_string_equal(p.host, "");
	assert_int_equal(p.port, 5201);
	assert_int_equal(p.server, GEN_SERVER_NONE);
	assert_int_equal(p.proto, GEN_PROTO_TCP);
	assert_int_equal(p.queues, 1);
	assert_int_equal(p.n_cpus, 0);
	assert_int_equal(p.streams, 1);
	assert_int_equal(p.size, 65536);
	assert_false(p.size_set);
	assert_int_equal(p.mode, GEN_MODE_AUTO);
	assert_false(p.depth_set);                   /* the plan picks it (unit_plan) */
	assert_int_equal(p.duration_ns, 10000000000ull);
	assert_int_equal(p.omit_ns, 0);
	assert_int_equal(p.interval_ns, 1000000000ull);
	assert_false(p.nic.present);
	assert_int_equal(p.nic.combined, -1);
	assert_int_equal(p.nic.rx, -1);
	assert_int_equal(p.nic.tx, -1);
	assert_true(p.nic.irq_affinity_auto);
	assert_true(p.nic.xps_auto);
}

static void test_names(void **state)
{
	enum gen_mode m;
	enum gen_proto pr;
	enum gen_server s;

	assert_string_equal(gen_proto_name(GEN_PROTO_UDP), "udp");
	assert_string_equal(gen_mode_name(GEN_MODE_ZC_FIXED), "zc-fixed");
	assert_string_equal(gen_server_name(GEN_SERVER_IPERF3), "iperf3");
	assert_int_equal(gen_mode_parse("zc-fixed", &m), 0);
	assert_int_equal(m, GEN_MODE_ZC_FIXED);
	assert_int_equal(gen_proto_parse("tcp", &pr), 0);
	assert_int_equal(pr, GEN_PROTO_TCP);
	assert_int_equal(gen_server_parse("zcgen", &s), 0);
	assert_int_equal(s, GEN_SERVER_ZCGEN);
	assert_int_equal(gen_mode_parse("zcfixed", &m), -EINVAL);
	assert_int_equal(gen_mode_parse("ZC", &m), 0);
	assert_int_equal(m, GEN_MODE_ZC);
	assert_string_equal(gen_hugepages_name(GEN_HUGEPAGES_OFF), "off");
	/* what the JSON report writes for rate.per and rate.layer, as the profile takes them */
	assert_string_equal(gen_rate_per_name(PACER_PER_TOTAL), "total");
	assert_string_equal(gen_rate_per_name(PACER_PER_STREAM), "stream");
	assert_string_equal(gen_rate_layer_name(PACER_LAYER_PAYLOAD), "payload");
	assert_string_equal(gen_rate_layer_name(PACER_LAYER_L1), "l1");
	assert_string_equal(gen_mode_name((enum gen_mode)7), "?");
	assert_int_equal(names_index(gen_rate_layer_words, "L2"), PACER_LAYER_L2);
	assert_int_equal(names_index(gen_rate_layer_words, "l3"), -1);
}

static void test_print_format(void **state)
{
	static const char yaml[] = "target:\n  host: x\nqueues: 0\n";
	struct gen_profile p;
	struct gen_diags d = { 0 };
	char path[PATH_MAX], want[PATH_MAX + 64], *out = NULL;
	size_t len = 0;
	FILE *f;

	profile_init(&p);
	write_profile("print", yaml, path, sizeof(path));
	assert_int_equal(profile_load(&p, path, &d), -EINVAL);
	assert_int_equal(profile_set(&p, "streams", "0", &d), -EINVAL);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	diags_print(&d, f);
	assert_int_equal(fclose(f), 0);
	assert_true(snprintf(want, sizeof(want), "%s:3:9: error: queues: '0' is out of range; expected an "
			     "integer from 1 to 256\n--streams: '0' is out of range; expected an integer "
			     "from 1 to 1024\n", path) < (int)sizeof(want));
	assert_string_equal(out, want);
	free(out);
	diags_free(&d);
}

/* Values a YAML writer may use: quoted numbers, a CPU sequence with ranges, booleans. */
static void test_yaml_forms(void **state)
{
	static const char yaml[] =
		"name: 'quoted name'\n"
		"target: {host: \"2001:db8::2\", port: \"6001\", server: none}\n"
		"cpus: [0, 2-3]\n"
		"size: 9000\n"
		"interval: 0.5\n"
		"nic:\n"
		"  interface: veth0\n"
		"  channels: {rx: 2, tx: 4}\n"
		"  offloads: {tx-tcp-segmentation: off, gro: true, lro: no}\n"
		"  irq_affinity: none\n"
		"  xps: none\n";
	struct gen_profile p;
	struct gen_diags d = { 0 };
	char path[PATH_MAX];

	profile_init(&p);
	if (profile_load(&p, write_profile("forms", yaml, path, sizeof(path)), &d)) {
		diags_print(&d, stderr);
		fail();
	}
	assert_string_equal(p.name, "quoted name");
	assert_string_equal(p.host, "2001:db8::2");
	assert_int_equal(p.port, 6001);
	assert_int_equal(p.n_cpus, 3);
	assert_int_equal(p.cpus[2], 3);
	assert_int_equal(p.size, 9000);
	assert_int_equal(p.interval_ns, 500000000ull);
	assert_int_equal(p.nic.rx, 2);
	assert_int_equal(p.nic.tx, 4);
	assert_int_equal(p.nic.combined, -1);
	assert_int_equal(p.nic.n_offloads, 3);
	assert_string_equal(p.nic.offloads[0].name, "tx-tcp-segmentation");
	assert_false(p.nic.offloads[0].on);
	assert_true(p.nic.offloads[1].on);
	assert_false(p.nic.offloads[2].on);
	assert_false(p.nic.irq_affinity_auto);
	assert_false(p.nic.xps_auto);
	diags_free(&d);
}

/* ---------------------------------------------------------- rate and sizes */

/* Load @yaml, expect no problem at all (validate too when @validate). */
static void load_ok(struct gen_profile *p, const char *name, const char *yaml, bool validate)
{
	struct gen_diags d = { 0 };
	char path[PATH_MAX];

	profile_init(p);
	if (profile_load(p, write_profile(name, yaml, path, sizeof(path)), &d) ||
	    (validate && profile_validate(p, &d)) || d.n) {
		diags_print(&d, stderr);
		fail_msg("%s: not accepted", name);
	}
	diags_free(&d);
}

static void test_rate_scalars(void **state)
{
	static const struct {
		const char *rate;
		bool set, pps;
		double value;
	} t[] = {
		{ "500M", true, false, 500e6 },
		{ "40Gbit", true, false, 40e9 },
		{ "1.5G", true, false, 1.5e9 },
		{ "3Mpps", true, true, 3e6 },
		{ "10kpps", true, true, 1e4 },
		{ "line", false, false, 0 },
		{ "LINE", false, false, 0 },
	};

	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct gen_profile p;
		char yaml[200];

		snprintf(yaml, sizeof(yaml), "target:\n  host: x\nprotocol: udp\nrate: %s\n", t[i].rate);
		load_ok(&p, "rate-scalar", yaml, true);
		assert_int_equal(p.rate.set, t[i].set);
		assert_int_equal(p.rate.pps, t[i].pps);
		assert_true(p.rate.value == t[i].value);
		assert_true(p.rate.value_given);
		assert_false(p.rate.given);
		assert_int_equal(p.rate.per, PACER_PER_TOTAL);
		assert_int_equal(p.rate.layer, PACER_LAYER_PAYLOAD);
	}
}

static void test_rate_mapping(void **state)
{
	static const char udp[] =
		"target:\n  host: x\n"
		"protocol: udp\n"
		"rate:\n"
		"  value: 10G\n"
		"  per: queue\n"
		"  layer: l1\n"
		"  ramp: {from: 1G, over: 5s}\n"
		"  burst: 32\n"
		"sizes: {64: 7, 576: 4, 1500: 1}\n";
	static const char tcp[] =
		"target:\n  host: x\n"
		"rate:\n"
		"  per: stream\n"
		"  steps:\n"
		"    - {rate: 1G, for: 10s}\n"
		"    - {rate: 0, for: 2s}\n"
		"    - rate: 5G\n"
		"      for: 1m\n"
		"  tcp_pacing: on\n";
	struct gen_profile p;
	struct gen_diags d = { 0 };

	load_ok(&p, "rate-udp", udp, true);
	assert_true(p.rate.set);
	assert_true(p.rate.given);
	assert_true(p.rate.value == 10e9);
	assert_false(p.rate.pps);
	assert_int_equal(p.rate.per, PACER_PER_QUEUE);
	assert_int_equal(p.rate.layer, PACER_LAYER_L1);
	assert_true(p.rate.ramp_from == 1e9);
	assert_int_equal(p.rate.ramp_ns, 5000000000ull);
	assert_int_equal(p.rate.burst, 32);
	assert_false(p.rate.tcp_pacing);
	assert_int_equal(p.n_sizes, 3);
	assert_int_equal(p.sizes[0].size, 64);
	assert_int_equal(p.sizes[0].weight, 7);
	assert_int_equal(p.sizes[1].size, 576);
	assert_int_equal(p.sizes[1].weight, 4);
	assert_int_equal(p.sizes[2].size, 1500);
	assert_int_equal(p.sizes[2].weight, 1);

	/* --rate replaces the target and its ramp; per, layer and burst stay */
	assert_int_equal(profile_set(&p, "rate", "2G", &d), 0);
	assert_true(p.rate.value == 2e9);
	assert_int_equal(p.rate.ramp_ns, 0);
	assert_int_equal(p.rate.ramp_keys, 0);
	assert_int_equal(p.rate.per, PACER_PER_QUEUE);
	assert_int_equal(p.rate.layer, PACER_LAYER_L1);
	assert_int_equal(p.rate.burst, 32);
	/* key paths work as overrides too */
	assert_int_equal(profile_set(&p, "rate.layer", "l2", &d), 0);
	assert_int_equal(p.rate.layer, PACER_LAYER_L2);
	assert_int_equal(profile_set(&p, "rate.per", "total", &d), 0);
	assert_int_equal(p.rate.per, PACER_PER_TOTAL);
	assert_int_equal(profile_set(&p, "rate.value", "7kpps", &d), 0);
	assert_true(p.rate.pps && p.rate.value == 7000);
	/* a packet rate at a layer: valid, with a warning that the layer does nothing */
	assert_int_equal(profile_validate(&p, &d), 0);
	assert_int_equal(d.n, 1);
	assert_true(d.v[0].warning);
	assert_string_equal(d.v[0].key, "rate.layer");
	diags_free(&d);
	assert_int_equal(profile_set(&p, "rate", "line", &d), 0);
	assert_false(p.rate.set);
	assert_int_equal(d.n, 0);

	load_ok(&p, "rate-tcp", tcp, true);
	assert_true(p.rate.set);
	assert_false(p.rate.value_given);
	assert_int_equal(p.rate.per, PACER_PER_STREAM);
	assert_true(p.rate.tcp_pacing);
	assert_int_equal(p.rate.n_steps, 3);
	assert_true(p.rate.steps[0].rate == 1e9);
	assert_int_equal(p.rate.steps[0].for_ns, 10000000000ull);
	assert_true(p.rate.steps[1].rate == 0);
	assert_int_equal(p.rate.steps[1].for_ns, 2000000000ull);
	assert_true(p.rate.steps[2].rate == 5e9);
	assert_int_equal(p.rate.steps[2].for_ns, 60000000000ull);
	assert_false(p.rate.steps_pps);
	assert_true(p.rate.steps_bps);
	/* --rate over steps: the steps go, so value and steps do not clash */
	assert_int_equal(profile_set(&p, "rate", "3G", &d), 0);
	assert_int_equal(p.rate.n_steps, 0);
	assert_int_equal(profile_validate(&p, &d), 0);
	assert_int_equal(d.n, 0);
	/* and a TCP profile refuses a packet rate from the command line */
	assert_int_equal(profile_set(&p, "rate", "1Mpps", &d), 0);
	assert_int_equal(profile_validate(&p, &d), -EINVAL);
	assert_int_equal(diags_errors(&d), 1);
	assert_string_equal(d.v[0].key, "rate");
	assert_non_null(strstr(d.v[0].msg, "TCP takes a bit rate only"));
	diags_free(&d);
}

/* The profile's rate drives a pacer as it is: the types line up. */
static void test_rate_to_pacer(void **state)
{
	static const char yaml[] =
		"target:\n  host: x\nprotocol: udp\nqueues: 2\nstreams: 2\n"
		"rate: {value: 8G, layer: l1, per: total}\n"
		"sizes: {64: 7, 576: 4, 1500: 1}\n";
	struct gen_profile p;
	struct pacer pc;
	struct imix m;
	struct pacer_cfg c = { 0 };

	load_ok(&p, "rate-pacer", yaml, false);
	assert_int_equal(imix_init(&m, p.sizes, p.n_sizes), 0);
	c.unit = p.rate.pps ? PACER_PPS : PACER_BPS;
	c.rate = pacer_split(p.rate.value, p.rate.per, p.queues, p.streams, p.streams);
	c.wire.layer = p.rate.layer;
	c.mix = &m;
	assert_true(c.rate == 4e9);
	assert_int_equal(pacer_init(&pc, &c, 0), 0);
}

/* diags_at(): the one file:line:col error of the YAML reader and the profile loader. */
static void test_diags_at(void **state)
{
	struct gen_diags d = { 0 };
	struct diags_file at = { .d = &d, .file = "p.yaml" };
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	diags_at(&at, 3, 5, "target.port", "'%s' is not a port; expected %d to %d", "x", 1, 65535);
	diags_at(&at, 1, 1, "", "empty profile");
	assert_int_equal(at.err, 0);
	assert_int_equal(diags_errors(&d), 2);
	assert_false(d.v[0].cli);
	assert_false(d.v[0].warning);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	diags_print(&d, f);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(out, "p.yaml:3:5: error: target.port: 'x' is not a port; expected 1 to "
			    "65535\np.yaml:1:1: error: empty profile\n");
	free(out);
	diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_bad_profiles),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_errors_after_tab),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_shipped_100g),
		cmocka_unit_test(test_shipped_loopback),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_bad_overrides),
		cmocka_unit_test(test_run_options_in_help),
		cmocka_unit_test(test_yamltree),
		cmocka_unit_test(test_print_format),
		cmocka_unit_test(test_yaml_forms),
		cmocka_unit_test(test_rate_scalars),
		cmocka_unit_test(test_rate_mapping),
		cmocka_unit_test(test_rate_to_pacer),
		cmocka_unit_test(test_cross_key_places),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_load_linear),
		cmocka_unit_test(test_not_regular),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_key_options),
		cmocka_unit_test(test_expect_keys_one_list),
		cmocka_unit_test(test_diags_at),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
