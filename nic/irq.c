/* irq.c - which IRQs serve each queue of a network device, and their CPU affinity */
#define _GNU_SOURCE
#include "nic/irq.h"
#include "nic/cpulist.h"
#include "nic/namepat.h"
#include "nic/netdev.h"
#include "nic/sysfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * How drivers name their per-queue MSI-X vectors in /proc/interrupts.
 * {if} is the interface name, {dev} the basename of its device link (the PCI
 * address for mlx5, "virtioN" for virtio-net), {n} the queue. Names that are
 * not here (mlx5_async*, virtioN-config, ...) are not data queues.
 */
static const struct irq_pattern {
	const char *tmpl;
	unsigned char dir;
} irq_patterns[] = {
	{ "mlx5_comp{n}@pci:{dev}", IRQ_DIR_BOTH },	/* mlx5 */
	{ "i40e-{if}-TxRx-{n}", IRQ_DIR_BOTH },		/* i40e */
	{ "ice-{if}-TxRx-{n}", IRQ_DIR_BOTH },		/* ice */
	{ "{if}-TxRx-{n}", IRQ_DIR_BOTH },		/* ixgbe, bnxt, igb */
	{ "{if}-rx-{n}", IRQ_DIR_RX },			/* ixgbe/igb with separate vectors */
	{ "{if}-tx-{n}", IRQ_DIR_TX },
	{ "{if}-Tx-Rx-{n}", IRQ_DIR_BOTH },		/* ena */
	{ "{dev}-input.{n}", IRQ_DIR_RX },		/* virtio-net */
	{ "{dev}-output.{n}", IRQ_DIR_TX },
};

const char *irq_source_name(enum irq_source src)
{
	switch (src) {
	case IRQ_SRC_NETDEV: return "netdev-netlink";
	case IRQ_SRC_PROC: return "proc-interrupts";
	case IRQ_SRC_NONE: break;
	}
	return "none";
}

void irq_table_free(struct irq_table *t)
{
	free(t->q);
	t->q = NULL;
	t->nqueues = 0;
	t->source = IRQ_SRC_NONE;
}

static int table_add(struct irq_table *t, unsigned int queue, int irq, unsigned int dir)
{
	struct irq_queue *q;
	unsigned int i;

	if (queue >= 65536)
		return -ERANGE;
	if (queue >= t->nqueues) {
		struct irq_queue *p = realloc(t->q, (queue + 1) * sizeof(*p));

		if (!p)
			return -ENOMEM;
		memset(p + t->nqueues, 0, (queue + 1 - t->nqueues) * sizeof(*p));
		t->q = p;
		t->nqueues = queue + 1;
	}
	q = &t->q[queue];
	for (i = 0; i < q->nirqs; i++) {
		if (q->irq[i] == irq) {
			q->dir[i] |= (unsigned char)dir;
			return 0;
		}
	}
	if (q->nirqs == IRQ_MAX_PER_QUEUE)
		return -E2BIG;
	for (i = q->nirqs; i > 0 && q->irq[i - 1] > irq; i--) {
		q->irq[i] = q->irq[i - 1];
		q->dir[i] = q->dir[i - 1];
	}
	q->irq[i] = irq;
	q->dir[i] = (unsigned char)dir;
	q->nirqs++;
	return 0;
}

bool irq_name_queue(const char *ifname, const char *devname, const char *irqname,
		    unsigned int *queue, unsigned int *dir)
{
	const struct namepat_var vars[] = { { "if", ifname }, { "dev", devname } };
	unsigned int i;

	for (i = 0; i < sizeof(irq_patterns) / sizeof(irq_patterns[0]); i++) {
		if (namepat_match(irq_patterns[i].tmpl, irqname, vars, 2, queue)) {
			*dir = irq_patterns[i].dir;
			return true;
		}
	}
	return false;
}

static bool root_is_system(const char *root)
{
	return !root || !root[0] || !strcmp(root, "/");
}

/* The netdev family: queue -> NAPI -> IRQ. 0 with t->source set when it gave IRQs. */
static int discover_netdev(const char *ifname, struct irq_table *t)
{
	struct netdev_queue *qs = NULL;
	struct netdev_napi *napis = NULL;
	unsigned int nq = 0, nn = 0, i, j;
	struct netdev_nl nl;
	int ifindex, ret;

	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return -ENODEV;
	ret = netdev_nl_open(&nl);
	if (ret)
		return ret;
	ret = netdev_queue_list(&nl, ifindex, &qs, &nq);
	if (ret)
		goto out_close;
	ret = netdev_napi_list(&nl, ifindex, &napis, &nn);
	if (ret)
		goto out_free;
	for (i = 0; i < nq; i++) {
		if (!qs[i].napi_id)
			continue;
		for (j = 0; j < nn; j++) {
			if (napis[j].id != qs[i].napi_id || napis[j].irq < 0)
				continue;
			ret = table_add(t, qs[i].id, napis[j].irq,
					qs[i].type == ZC_NETDEV_QUEUE_TYPE_TX ? IRQ_DIR_TX : IRQ_DIR_RX);
			if (ret)
				goto out_free;
		}
	}
	if (t->nqueues)
		t->source = IRQ_SRC_NETDEV;
out_free:
	free(napis);
	free(qs);
out_close:
	netdev_nl_close(&nl);
	return ret;
}

/* The device's MSI IRQ numbers; *n = 0 and 0 returned if it has no msi_irqs directory. */
static int msi_irqs(const char *root, const char *ifname, int **out, unsigned int *n)
{
	char rel[512], path[4096];
	unsigned int cap = 0;
	struct dirent *de;
	int *v = NULL;
	DIR *d;
	int ret;

	*out = NULL;
	*n = 0;
	ret = sysfs_dev_attr(root, ifname, "msi_irqs", rel, sizeof(rel));
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	ret = sysfs_path(path, sizeof(path), root, "%s", rel);
	if (ret)
		return ret;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		long irq = strtol(de->d_name, &end, 10);

		if (!isdigit((unsigned char)de->d_name[0]) || *end || irq < 0 || irq > 1 << 24)
			continue;
		if (*n == cap) {
			int *p;

			cap = cap ? cap * 2 : 64;
			p = realloc(v, cap * sizeof(*p));
			if (!p) {
				ret = -ENOMEM;
				goto out_close;
			}
			v = p;
		}
		v[(*n)++] = (int)irq;
	}
	*out = v;
	v = NULL;
out_close:
	free(v);
	closedir(d);
	return ret;
}

/* Split a /proc/interrupts line into IRQ number and name (last column). */
static bool parse_interrupts_line(char *line, int *irq, char **name)
{
	char *p = line, *end;
	long v;
	size_t len;

	while (*p == ' ')
		p++;
	if (!isdigit((unsigned char)*p))
		return false;	/* NMI:, LOC:, the CPU header */
	v = strtol(p, &end, 10);
	if (*end != ':' || v < 0 || v > 1 << 24)
		return false;
	len = strlen(end);
	while (len > 0 && isspace((unsigned char)end[len - 1]))
		end[--len] = '\0';
	p = strrchr(end, ' ');
	p = p ? p + 1 : end + 1;
	if (!*p)
		return false;
	*irq = (int)v;
	*name = p;
	return true;
}

static int discover_proc(const char *root, const char *ifname, const char *devname,
			 struct irq_table *t)
{
	unsigned int nmsi, i;
	char path[4096];
	int *msi = NULL;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;
	int ret;

	ret = msi_irqs(root, ifname, &msi, &nmsi);
	if (ret)
		return ret;
	ret = sysfs_path(path, sizeof(path), root, "/proc/interrupts");
	if (ret)
		goto out_msi;
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		goto out_msi;
	}
	while (getline(&line, &cap, f) > 0) {
		unsigned int queue, dir;
		char *name;
		int irq;

		if (!parse_interrupts_line(line, &irq, &name))
			continue;
		/* Without an msi_irqs directory the names alone decide: they carry ifname or device. */
		if (nmsi) {
			for (i = 0; i < nmsi && msi[i] != irq; i++)
				;
			if (i == nmsi)
				continue;
		}
		if (!irq_name_queue(ifname, devname, name, &queue, &dir))
			continue;
		ret = table_add(t, queue, irq, dir);
		if (ret)
			goto out_close;
	}
	if (t->nqueues)
		t->source = IRQ_SRC_PROC;
out_close:
	free(line);
	fclose(f);
out_msi:
	free(msi);
	return ret;
}

int irq_discover(const char *root, const char *ifname, struct irq_table *t)
{
	char devname[256];
	int ret;

	memset(t, 0, sizeof(*t));
	if (!ifname || !*ifname || strchr(ifname, '/'))
		return -EINVAL;
	if (!sysfs_exists(root, "/sys/class/net/%s", ifname))
		return -ENODEV;
	ret = sysfs_dev_name(root, ifname, devname, sizeof(devname));
	if (ret == -ENOENT || ret == -EINVAL)
		return 0;	/* no device behind it (veth, bridge): no IRQs */
	if (ret)
		return ret;
	/* A test tree has no kernel behind it to ask over netlink. */
	if (root_is_system(root)) {
		ret = discover_netdev(ifname, t);
		if (!ret && t->source == IRQ_SRC_NETDEV)
			return 0;
		irq_table_free(t);
	}
	ret = discover_proc(root, ifname, devname, t);
	if (ret)
		irq_table_free(t);
	return ret;
}

int irq_affinity_get(const char *root, int irq, char *buf, size_t len)
{
	if (irq < 0)
		return -EINVAL;
	return sysfs_read(root, buf, len, "/proc/irq/%d/smp_affinity_list", irq);
}

int irq_affinity_set(const char *root, int irq, const char *cpulist)
{
	cpu_set_t set;

	if (irq < 0 || cpulist_parse(cpulist, &set) || CPU_COUNT(&set) == 0)
		return -EINVAL;
	return sysfs_write(root, cpulist, "/proc/irq/%d/smp_affinity_list", irq);
}
