/* units.c - sizes, times, rates, CPU lists and host:port, parsed and printed one way */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "gen/units.h"

struct unit {
	const char *suffix;
	double mult;
};

/*
 * Split "12.5K" into a non-negative number and a suffix looked up in @tab
 * (case-insensitive, "" must be in the table for a bare number).
 */
static int parse_scaled(const char *s, const struct unit *tab, double *out)
{
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)*s) || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(v))
		return -EINVAL;
	/* strtod takes hex and "inf"/"nan"; units never need them */
	for (const char *c = s; c < end; c++)
		if (!isdigit((unsigned char)*c) && *c != '.')
			return -EINVAL;
	for (const struct unit *u = tab; u->suffix; u++) {
		if (!strcasecmp(end, u->suffix)) {
			*out = v * u->mult;
			return 0;
		}
	}
	return -EINVAL;
}

int units_size(const char *s, uint64_t *out)
{
	static const struct unit tab[] = {
		{ "", 1 }, { "B", 1 },
		{ "K", 1024.0 }, { "KiB", 1024.0 }, { "KB", 1024.0 },
		{ "M", 1048576.0 }, { "MiB", 1048576.0 }, { "MB", 1048576.0 },
		{ "G", 1073741824.0 }, { "GiB", 1073741824.0 }, { "GB", 1073741824.0 },
		{ NULL, 0 },
	};
	double v;
	int ret = parse_scaled(s, tab, &v);

	if (ret)
		return ret;
	if (v != floor(v))
		return -EINVAL; /* a fraction of a byte */
	if (v >= 18446744073709551615.0)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}

int units_time_ns(const char *s, uint64_t *out)
{
	static const struct unit tab[] = {
		{ "", 1e9 }, { "s", 1e9 }, { "sec", 1e9 },
		{ "ms", 1e6 }, { "us", 1e3 }, { "ns", 1 },
		{ "m", 60e9 }, { "min", 60e9 }, { "h", 3600e9 },
		{ NULL, 0 },
	};
	double v;
	int ret = parse_scaled(s, tab, &v);

	if (ret)
		return ret;
	if (v >= 9.2e18)
		return -ERANGE;
	*out = (uint64_t)llround(v);
	return 0;
}

int units_rate_bps(const char *s, double *out)
{
	static const struct unit tab[] = {
		{ "", 1 }, { "bit", 1 }, { "bps", 1 },
		{ "K", 1e3 }, { "Kbit", 1e3 }, { "Kbps", 1e3 },
		{ "M", 1e6 }, { "Mbit", 1e6 }, { "Mbps", 1e6 },
		{ "G", 1e9 }, { "Gbit", 1e9 }, { "Gbps", 1e9 },
		{ "T", 1e12 }, { "Tbit", 1e12 }, { "Tbps", 1e12 },
		{ NULL, 0 },
	};

	return parse_scaled(s, tab, out);
}

int units_rate_pps(const char *s, double *out)
{
	static const struct unit tab[] = {
		{ "pps", 1 }, { "kpps", 1e3 }, { "Mpps", 1e6 }, { "Gpps", 1e9 },
		{ NULL, 0 },
	};

	/* case-insensitive like every unit: "kpps" and "Kpps" are the same */
	return parse_scaled(s, tab, out);
}

int units_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int units_cpulist(const char *s, unsigned *cpus, unsigned max, unsigned *n)
{
	char buf[4096], *p, *tok, *save = NULL;
	size_t len;
	unsigned cnt = 0;

	if (!s)
		return -EINVAL;
	len = strlen(s);
	if (len >= sizeof(buf))
		return -ERANGE;
	memcpy(buf, s, len + 1);
	p = buf;
	if (*p == '[') {
		if (len < 2 || p[len - 1] != ']')
			return -EINVAL;
		p[len - 1] = '\0';
		p++;
	}
	if (!*p)
		return -EINVAL;
	for (tok = strtok_r(p, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *dash, *end;
		unsigned long lo, hi;

		while (*tok == ' ')
			tok++;
		len = strlen(tok);
		while (len && tok[len - 1] == ' ')
			tok[--len] = '\0';
		if (!isdigit((unsigned char)*tok))
			return -EINVAL;
		dash = strchr(tok, '-');
		lo = strtoul(tok, &end, 10);
		if (dash) {
			if (end != dash || !isdigit((unsigned char)dash[1]))
				return -EINVAL;
			hi = strtoul(dash + 1, &end, 10);
		} else {
			hi = lo;
		}
		if (*end || hi < lo)
			return -EINVAL;
		if (hi >= 65536)
			return -ERANGE;
		for (unsigned long c = lo; c <= hi; c++) {
			if (cnt >= max)
				return -ERANGE;
			cpus[cnt++] = (unsigned)c;
		}
	}
	if (!cnt)
		return -EINVAL;
	*n = cnt;
	return 0;
}

int units_hostport(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon, *h = s;
	size_t hl;
	uint64_t p;

	if (!s || !*s)
		return -EINVAL;
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			return -EINVAL; /* IPv6 must be in brackets */
		hl = (size_t)(colon - s);
	}
	if (!hl)
		return -EINVAL;
	if (hl >= hostlen)
		return -ERANGE;
	if (units_uint(colon + 1, 1, 65535, &p))
		return -ERANGE;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return 0;
}

const char *units_fmt_bps(double bps, char *buf, size_t len)
{
	if (bps >= 1e9)
		snprintf(buf, len, "%.2f Gbit/s", bps / 1e9);
	else if (bps >= 1e6)
		snprintf(buf, len, "%.2f Mbit/s", bps / 1e6);
	else if (bps >= 1e3)
		snprintf(buf, len, "%.2f Kbit/s", bps / 1e3);
	else
		snprintf(buf, len, "%.0f bit/s", bps);
	return buf;
}

const char *units_fmt_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const suf[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned i = 0;
	double v = (double)bytes;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	if (i == 0 || v == floor(v))
		snprintf(buf, len, "%.0f %s", v, suf[i]);
	else
		snprintf(buf, len, "%.2f %s", v, suf[i]);
	return buf;
}

const char *units_fmt_cpulist(const unsigned *cpus, unsigned n, char *buf, size_t len)
{
	size_t off = 0;

	if (len)
		buf[0] = '\0';
	for (unsigned i = 0; i < n;) {
		unsigned j = i;

		while (j + 1 < n && cpus[j + 1] == cpus[j] + 1)
			j++;
		int w = (j > i + 1) ?
			snprintf(buf + off, len - off, "%s%u-%u", i ? "," : "", cpus[i], cpus[j]) :
			snprintf(buf + off, len - off, "%s%u", i ? "," : "", cpus[i]);
		if (w < 0 || (size_t)w >= len - off)
			break;
		off += (size_t)w;
		if (j > i + 1)
			i = j + 1;
		else
			i++;
	}
	return buf;
}
