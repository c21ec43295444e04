/* safety.c - checks made before zcgen touches a NIC: privileges, the default route, irqbalance */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nic/safety.h"
#include "nic/sysfs.h"

#define CAP_NET_ADMIN_BIT 12 /* linux/capability.h */

static FILE *open_under(const char *root, const char *abs)
{
	char path[512];

	if (sysfs_path(path, sizeof(path), root, "%s", abs))
		return NULL;
	return fopen(path, "re");
}

int safety_cap_net_admin(const char *root)
{
	char line[256];
	int ret = -ENOENT;
	FILE *f = open_under(root, "/proc/self/status");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long eff;

		if (sscanf(line, "CapEff: %llx", &eff) == 1) {
			ret = !!(eff & (1ULL << CAP_NET_ADMIN_BIT));
			break;
		}
	}
	fclose(f);
	return ret;
}

/* /proc/net/route: "Iface Destination Gateway Flags ... Mask ..." in hex. */
static int default_v4(const char *root, const char *dev)
{
	char line[512];
	int ret = 0;
	FILE *f = open_under(root, "/proc/net/route");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char ifn[64];
		unsigned long dst, gw, flags, mask;
		int refcnt, use, metric;

		if (sscanf(line, "%63s %lx %lx %lx %d %d %d %lx", ifn, &dst, &gw, &flags, &refcnt,
			   &use, &metric, &mask) != 8)
			continue; /* the header line */
		if (dst == 0 && mask == 0 && (flags & 1 /* RTF_UP */) && !strcmp(ifn, dev)) {
			ret = 1;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* /proc/net/ipv6_route: dst dstlen src srclen nexthop metric ref use flags iface. */
static int default_v6(const char *root, const char *dev)
{
	char line[512];
	int ret = 0;
	FILE *f = open_under(root, "/proc/net/ipv6_route");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char dst[40], src[40], nh[40], ifn[64];
		unsigned int dlen, slen, metric, ref, use, flags;

		if (sscanf(line, "%39s %x %39s %x %39s %x %x %x %x %63s", dst, &dlen, src, &slen, nh,
			   &metric, &ref, &use, &flags, ifn) != 10)
			continue;
		/* The kernel lists unreachable catch-alls on "lo"; only a real route counts. */
		if (dlen == 0 && strspn(dst, "0") == 32 && (flags & 1 /* RTF_UP */) &&
		    !(flags & 0x0200 /* RTF_REJECT */) && !strcmp(ifn, dev)) {
			ret = 1;
			break;
		}
	}
	fclose(f);
	return ret;
}

int safety_default_route(const char *root, const char *dev)
{
	int v4 = default_v4(root, dev);
	int v6 = default_v6(root, dev);

	if (v4 == 1 || v6 == 1)
		return 1;
	if (v4 < 0 && v6 < 0)
		return v4;
	return 0;
}

int safety_irqbalance_pid(const char *root)
{
	char path[512];
	struct dirent *de;
	DIR *d;
	int pid = 0;

	if (sysfs_path(path, sizeof(path), root, "/proc"))
		return 0;
	d = opendir(path);
	if (!d)
		return 0;
	while (!pid && (de = readdir(d))) {
		char comm[64];

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (sysfs_read(root, comm, sizeof(comm), "/proc/%s/comm", de->d_name))
			continue;
		if (!strcmp(comm, "irqbalance"))
			pid = atoi(de->d_name);
	}
	closedir(d);
	return pid;
}
