/* xps.c - transmit packet steering (tx-N/xps_cpus) and the device's NUMA locality */
#define _GNU_SOURCE
#include "nic/xps.h"
#include "nic/cpulist.h"
#include "nic/sysfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int xps_tx_count(const char *root, const char *ifname, unsigned int *n)
{
	char path[4096];
	struct dirent *de;
	unsigned int max = 0;
	bool any = false;
	DIR *d;
	int ret;

	ret = sysfs_path(path, sizeof(path), root, "/sys/class/net/%s/queues", ifname);
	if (ret)
		return ret;
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ENODEV : -errno;
	/* Count by the highest index: tx-N directories are contiguous from 0. */
	while ((de = readdir(d))) {
		char *end;
		unsigned long q;

		if (strncmp(de->d_name, "tx-", 3) || !isdigit((unsigned char)de->d_name[3]))
			continue;
		q = strtoul(de->d_name + 3, &end, 10);
		if (*end || q > 65535)
			continue;
		if (!any || q + 1 > max)
			max = (unsigned int)q + 1;
		any = true;
	}
	closedir(d);
	*n = max;
	return 0;
}

int xps_get_raw(const char *root, const char *ifname, unsigned int txq, char *buf, size_t len)
{
	return sysfs_read(root, buf, len, "/sys/class/net/%s/queues/tx-%u/xps_cpus", ifname, txq);
}

int xps_set_raw(const char *root, const char *ifname, unsigned int txq, const char *mask)
{
	cpu_set_t set;

	if (cpumask_parse(mask, &set))
		return -EINVAL;
	return sysfs_write(root, mask, "/sys/class/net/%s/queues/tx-%u/xps_cpus", ifname, txq);
}

int xps_get(const char *root, const char *ifname, unsigned int txq, cpu_set_t *set)
{
	char buf[1024];
	int ret;

	ret = xps_get_raw(root, ifname, txq, buf, sizeof(buf));
	if (ret)
		return ret;
	return cpumask_parse(buf, set);
}

int xps_set(const char *root, const char *ifname, unsigned int txq, const cpu_set_t *set)
{
	char buf[1024];
	unsigned int nbits;
	int ret, c;

	ret = cpumask_nbits(root, &nbits);
	if (ret) {
		/* No "possible" file: size the mask by the highest CPU, in whole groups. */
		nbits = 32;
		for (c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, set))
				nbits = ((unsigned int)c / 32 + 1) * 32;
	}
	ret = cpumask_format(set, nbits, buf, sizeof(buf));
	if (ret)
		return ret;
	return sysfs_write(root, buf, "/sys/class/net/%s/queues/tx-%u/xps_cpus", ifname, txq);
}

int numa_dev_cpus(const char *root, const char *ifname, cpu_set_t *set)
{
	char rel[512], buf[1024];
	int ret;

	ret = sysfs_dev_attr(root, ifname, "local_cpulist", rel, sizeof(rel));
	if (ret)
		return ret;
	ret = sysfs_read(root, buf, sizeof(buf), "%s", rel);
	if (ret)
		return ret;
	return cpulist_parse(buf, set);
}

int numa_dev_node(const char *root, const char *ifname, int *node)
{
	char rel[512], buf[64], *end;
	long v;
	int ret;

	ret = sysfs_dev_attr(root, ifname, "numa_node", rel, sizeof(rel));
	if (ret)
		return ret;
	ret = sysfs_read(root, buf, sizeof(buf), "%s", rel);
	if (ret)
		return ret;
	v = strtol(buf, &end, 10);
	if (end == buf || *end || v < -1 || v > 65535)
		return -EINVAL;
	*node = (int)v;
	return 0;
}

int numa_cpu_is_local(const char *root, const char *ifname, int cpu)
{
	cpu_set_t set;
	int ret;

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return -EINVAL;
	ret = numa_dev_cpus(root, ifname, &set);
	if (ret)
		return ret;
	return CPU_ISSET(cpu, &set) ? 1 : 0;
}
