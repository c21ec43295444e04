/* cpulist.c - CPU sets as the kernel writes them: lists ("0-3,8") and hex masks ("00000002,00000001") */
#define _GNU_SOURCE
#include "nic/nic.h"
#include "nic/cpulist.h"
#include "nic/sysfs.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_cpu(const char **p, unsigned long *out)
{
	char *end;

	if (!isdigit((unsigned char)**p))
		return -EINVAL;
	errno = 0;
	*out = strtoul(*p, &end, 10);
	if (errno || *out >= CPU_SETSIZE)
		return -EINVAL;
	*p = end;
	return 0;
}

int cpulist_parse(const char *s, cpu_set_t *set)
{
	const char *p = s;

	CPU_ZERO(set);
	while (*p == ' ' || *p == '\n')
		p++;
	if (!*p)
		return 0;
	for (;;) {
		unsigned long lo, hi, c;

		if (parse_cpu(&p, &lo))
			return -EINVAL;
		hi = lo;
		if (*p == '-') {
			p++;
			if (parse_cpu(&p, &hi) || hi < lo)
				return -EINVAL;
		}
		for (c = lo; c <= hi; c++)
			CPU_SET(c, set);
		if (*p == ',') {
			p++;
			continue;
		}
		while (*p == '\n' || *p == ' ')
			p++;
		return *p ? -EINVAL : 0;
	}
}

int cpulist_format(const cpu_set_t *set, char *buf, size_t len)
{
	size_t off = 0;
	int c = 0;

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	while (c < CPU_SETSIZE) {
		int lo, n;

		if (!CPU_ISSET(c, set)) {
			c++;
			continue;
		}
		lo = c;
		while (c + 1 < CPU_SETSIZE && CPU_ISSET(c + 1, set))
			c++;
		if (lo == c)
			n = snprintf(buf + off, len - off, "%s%d", off ? "," : "", lo);
		else
			n = snprintf(buf + off, len - off, "%s%d-%d", off ? "," : "", lo, c);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += (size_t)n;
		c++;
	}
	return 0;
}

int cpumask_parse(const char *s, cpu_set_t *set)
{
	size_t n = strlen(s);
	unsigned int bit = 0;

	CPU_ZERO(set);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	if (n == 0)
		return -EINVAL;
	/* From the least significant end: each hex digit is 4 CPUs, commas are only separators. */
	while (n > 0) {
		char ch = s[--n];
		unsigned int v, k;

		if (ch == ',')
			continue;
		if (!isxdigit((unsigned char)ch))
			return -EINVAL;
		v = (unsigned int)(isdigit((unsigned char)ch) ? ch - '0' : tolower((unsigned char)ch) - 'a' + 10);
		for (k = 0; k < 4; k++, bit++) {
			if (!(v & (1u << k)))
				continue;
			if (bit >= CPU_SETSIZE)
				return -EINVAL;
			CPU_SET(bit, set);
		}
	}
	return 0;
}

int cpumask_format(const cpu_set_t *set, unsigned int nbits, char *buf, size_t len)
{
	unsigned int groups, g, c;
	size_t off = 0;

	if (nbits == 0 || nbits > CPU_SETSIZE)
		return -ERANGE;
	for (c = nbits; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, set))
			return -ERANGE;
	groups = (nbits + 31) / 32;
	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	for (g = groups; g-- > 0;) {
		unsigned int bits = (g == groups - 1 && nbits % 32) ? nbits % 32 : 32;
		unsigned int width = (bits + 3) / 4;
		unsigned int v = 0, k;
		int n;

		for (k = 0; k < bits; k++)
			if (CPU_ISSET(g * 32 + k, set))
				v |= 1u << k;
		n = snprintf(buf + off, len - off, "%s%0*x", off ? "," : "", (int)width, v);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	return 0;
}

int cpumask_nbits(const char *root, unsigned int *nbits)
{
	char buf[256];
	cpu_set_t set;
	int ret, c;

	ret = sysfs_read(root, buf, sizeof(buf), "/sys/devices/system/cpu/possible");
	if (ret)
		return ret;
	ret = cpulist_parse(buf, &set);
	if (ret)
		return ret;
	for (c = CPU_SETSIZE - 1; c >= 0; c--) {
		if (CPU_ISSET(c, &set)) {
			*nbits = (unsigned int)c + 1;
			return 0;
		}
	}
	return -EINVAL;
}

int nic_cpulist_parse(const char *s, unsigned int *cpus, unsigned int max, unsigned int *n)
{
	cpu_set_t set;
	int ret = cpulist_parse(s, &set);

	if (ret)
		return ret;
	*n = 0;
	for (unsigned int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &set))
			continue;
		if (*n >= max)
			return -ENOSPC;
		cpus[(*n)++] = c;
	}
	return 0;
}
