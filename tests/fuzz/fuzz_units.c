/* fuzz_units.c - libFuzzer harness: every units parser (gen/units.c), and the printers on what they accept */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gen/units.h"

#define MAX_CPUS 1024

/* A broken promise of the parser's contract is a finding, as a crash is. */
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_units: %s:%d: %s\n", __FILE__, __LINE__, #c); abort(); } } while (0)

static void cpulist(const char *s)
{
	static unsigned cpus[MAX_CPUS], again[MAX_CPUS];
	static char text[MAX_CPUS * 12];
	unsigned n = 0, n2 = 0;
	int r = units_cpulist(s, cpus, MAX_CPUS, &n);

	CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
	if (r)
		return;
	CHECK(n >= 1 && n <= MAX_CPUS);
	/* What is printed back parses to the same list. */
	units_fmt_cpulist(cpus, n, text, sizeof(text));
	CHECK(units_cpulist(text, again, MAX_CPUS, &n2) == 0);
	CHECK(n2 == n && !memcmp(cpus, again, n * sizeof(cpus[0])));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), host[256], buf[64];
	uint64_t u;
	uint16_t port;
	double d;
	int r;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';  /* the parsers take C strings: bytes after a NUL are not seen */

	r = units_size(s, &u);
	CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
	if (!r)
		units_fmt_size(u, buf, sizeof(buf));
	r = units_time_ns(s, &u);
	CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
	r = units_rate_bps(s, &d);
	CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
	if (!r) {
		CHECK(d >= 0);
		units_fmt_bps(d, buf, sizeof(buf));
	}
	r = units_rate_pps(s, &d);
	CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
	if (!r)
		CHECK(d >= 0);
	r = units_uint(s, 1, 65535, &u);
	CHECK(r || (u >= 1 && u <= 65535));
	r = units_uint(s, 0, UINT64_MAX, &u);
	CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
	cpulist(s);
	/* A host buffer just big enough, and a small one (-ERANGE, nothing written past it). */
	r = units_hostport(s, host, sizeof(host), &port);
	if (!r)
		CHECK(strlen(host) < sizeof(host) && port >= 1);
	r = units_hostport(s, buf, 8, &port);
	if (!r)
		CHECK(strlen(buf) < 8);
	free(s);
	return 0;
}
