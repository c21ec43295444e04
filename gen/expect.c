/* expect.c - a profile's expect: keys, parsed into struct gen_expect (evaluated by gen/expect_eval.c) */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gen/expect.h"

enum ekind { EK_RATE, EK_PERCENT, EK_TIME, EK_FRACTION, EK_NAMES, EK_FPS };

static const struct ekey {
	const char *path;
	enum ekind kind;
} ekeys[] = {
#define EKEY(name, kind) { "expect." #name, EK_##kind },
	EXPECT_KEYS(EKEY)
#undef EKEY
};

static const struct ekey *ekey_find(const char *path)
{
	for (size_t i = 0; i < sizeof(ekeys) / sizeof(ekeys[0]); i++)
		if (!strcmp(ekeys[i].path, path))
			return &ekeys[i];
	return NULL;
}

const char *expect_key_describe(const char *path, char *buf, size_t len)
{
	const struct ekey *k = ekey_find(path);
	static const char *const what[] = {
		[EK_RATE] = "a bit rate greater than 0: a bare number is Gbit/s (50), or with a "
			    "unit (500M, 1.5G, 40Gbit)",
		[EK_PERCENT] = "a percentage from 0 to 100 (0.5 or 0.5%)",
		[EK_TIME] = "a time greater than 0, such as 2ms or 500us",
		[EK_FRACTION] = "a number from 0 to 1 (0.9)",
		[EK_NAMES] = "a list of offload names such as [tso, gso] (ethtool or kernel names)",
		[EK_FPS] = "a frame rate greater than 0: a bare number is frames/s (1000000), or "
			   "with pps (800kpps, 1.5Mpps)",
	};

	snprintf(buf, len, "%s", k ? what[k->kind] : "an expect key");
	return buf;
}

/* A plain decimal number, all of @s. */
static int plain_number(const char *s, double *out)
{
	char *end;

	if (!*s || !(s[0] == '.' || (s[0] >= '0' && s[0] <= '9')))
		return -EINVAL;
	errno = 0;
	*out = strtod(s, &end);
	if (*end || errno || !isfinite(*out))
		return -EINVAL;
	return 0;
}

static int parse_names(struct gen_expect *ex, const char *s, bool append, char *msg, size_t len)
{
	char buf[1024], *save = NULL, *tok;
	unsigned n = append ? ex->n_offloads_effective : 0;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf)) {
		snprintf(msg, len, "the list is too long");
		return -EINVAL;
	}
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		size_t l = strlen(tok);

		if (l >= sizeof(ex->offloads_effective[0]) ||
		    strspn(tok, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != l) {
			snprintf(msg, len, "'%.60s' is not an offload name; expected an ethtool name "
				 "such as tso, gso, sg or tx-udp-segmentation", tok);
			return -EINVAL;
		}
		if (n == GEN_MAX_EXPECT_OFFLOADS) {
			snprintf(msg, len, "more than %d offloads", GEN_MAX_EXPECT_OFFLOADS);
			return -EINVAL;
		}
		snprintf(ex->offloads_effective[n++], sizeof(ex->offloads_effective[0]), "%s", tok);
	}
	if (n == (append ? ex->n_offloads_effective : 0)) {
		snprintf(msg, len, "no offload name given; expected a list such as [tso, gso]");
		return -EINVAL;
	}
	ex->n_offloads_effective = n;
	return 0;
}

int expect_key_set(struct gen_expect *ex, const char *path, const char *value, bool append,
		   char *msg, size_t len)
{
	const struct ekey *k = ekey_find(path);
	char want[160], num[64];
	uint64_t ns;
	double v;
	int r;

	if (!k) {
		snprintf(msg, len, "not an expect key");
		return -ENOENT;
	}
	expect_key_describe(path, want, sizeof(want));
	if (!value || !*value) {
		snprintf(msg, len, "missing value; expected %s", want);
		return -EINVAL;
	}
	switch (k->kind) {
	case EK_RATE:
		r = plain_number(value, &v);
		if (!r)
			v *= 1e9;
		else
			r = units_rate_bps(value, &v);
		if (r || !(v > 0))
			goto bad;
		if (!strcmp(path, "expect.min_gbps_total")) {
			ex->min_bps_total = v;
			ex->has_min_bps_total = true;
		} else {
			ex->min_bps_queue = v;
			ex->has_min_bps_queue = true;
		}
		break;
	case EK_PERCENT:
		snprintf(num, sizeof(num), "%s", value);
		if (num[0] && num[strlen(num) - 1] == '%')
			num[strlen(num) - 1] = '\0';
		if (plain_number(num, &v) || v < 0 || v > 100)
			goto bad;
		ex->max_loss_percent = v;
		ex->has_max_loss = true;
		break;
	case EK_TIME:
		if (units_time_ns(value, &ns) || !ns)
			goto bad;
		ex->max_p99_ns = ns;
		ex->has_max_p99 = true;
		break;
	case EK_FRACTION:
		if (plain_number(value, &v) || v < 0 || v > 1)
			goto bad;
		ex->min_steering = v;
		ex->has_min_steering = true;
		break;
	case EK_NAMES:
		r = parse_names(ex, value, append, msg, len);
		if (r)
			return r;
		break;
	case EK_FPS:
		if (plain_number(value, &v) && units_rate_pps(value, &v))
			goto bad;
		if (!(v > 0))
			goto bad;
		ex->min_ndr_fps = v;
		ex->has_min_ndr_fps = true;
		break;
	}
	ex->present = true;
	return 0;
bad:
	snprintf(msg, len, "'%.60s' is not accepted; expected %s", value, want);
	return -EINVAL;
}
