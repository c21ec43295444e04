/* unit_nic_irq.c - IRQ discovery, affinity, XPS and NUMA against /proc and /sys trees built at test time */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "nic/cpulist.h"
#include "nic/irq.h"
#include "nic/namepat.h"
#include "nic/sysfs.h"
#include "nic/xps.h"

/* ---- building a tree: real directories, files and symlinks under a mkdtemp dir ---- */

static void mkparents(const char *path)
{
	char buf[4096];
	char *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			fail_msg("mkdir %s: %s", buf, strerror(errno));
		*p = '/';
	}
}

static void put(const char *root, const char *rel, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void put(const char *root, const char *rel, const char *fmt, ...)
{
	char path[4096];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	mkparents(path);
	f = fopen(path, "w");
	assert_non_null(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	assert_int_equal(fclose(f), 0);
}

static void link_to(const char *root, const char *rel, const char *target)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s%s", root, rel);
	mkparents(path);
	assert_int_equal(symlink(target, path), 0);
}

static void mkdir_p(const char *root, const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s%s/", root, rel);
	mkparents(path);
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void rm_tree(const char *root)
{
	char cmd[4200];

	/* The path is ours, from mkdtemp: no quoting trouble. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", root);
}

/* A network interface: class/net entry, queue directories, XPS files. */
static void add_netdev(const char *root, const char *ifname, const char *device_target,
		       unsigned int nq)
{
	char rel[512];
	unsigned int q;

	for (q = 0; q < nq; q++) {
		snprintf(rel, sizeof(rel), "/sys/class/net/%s/queues/rx-%u/rps_cpus", ifname, q);
		put(root, rel, "00000000,00000000\n");
		snprintf(rel, sizeof(rel), "/sys/class/net/%s/queues/tx-%u/xps_cpus", ifname, q);
		put(root, rel, "00000000,00000000\n");
	}
	if (device_target) {
		snprintf(rel, sizeof(rel), "/sys/class/net/%s/device", ifname);
		link_to(root, rel, device_target);
	}
}

static void add_irqs(const char *root, const char *pcidir, int first, int last, const char *aff)
{
	char rel[512];
	int irq;

	for (irq = first; irq <= last; irq++) {
		if (pcidir) {
			snprintf(rel, sizeof(rel), "%s/msi_irqs/%d", pcidir, irq);
			put(root, rel, "msix\n");
		}
		snprintf(rel, sizeof(rel), "/proc/irq/%d/smp_affinity_list", irq);
		put(root, rel, "%s\n", aff);
	}
}

static int tree_setup(void **state)
{
	char *root = strdup("/tmp/zcgen-irq-XXXXXX");

	assert_non_null(root);
	assert_non_null(mkdtemp(root));
	put(root, "/sys/devices/system/cpu/possible", "0-63\n");
	*state = root;
	return 0;
}

static int tree_teardown(void **state)
{
	rm_tree(*state);
	free(*state);
	return 0;
}

/* An mlx5 machine: two ports of one ConnectX, 4 channels each, plus the async IRQ. */
static void build_mlx5(const char *root)
{
	const char *p0 = "/sys/devices/pci0000:00/0000:00:01.0/0000:08:00.0";
	const char *p1 = "/sys/devices/pci0000:00/0000:00:01.0/0000:08:00.1";
	char rel[512];

	add_netdev(root, "eth2", "../../../devices/pci0000:00/0000:00:01.0/0000:08:00.0", 4);
	add_netdev(root, "eth3", "../../../devices/pci0000:00/0000:00:01.0/0000:08:00.1", 4);
	add_irqs(root, p0, 60, 64, "0-63");
	add_irqs(root, p1, 70, 74, "0-63");
	add_irqs(root, NULL, 99, 99, "0");
	snprintf(rel, sizeof(rel), "%s/local_cpulist", p0);
	put(root, rel, "0-15,32-47\n");
	snprintf(rel, sizeof(rel), "%s/numa_node", p0);
	put(root, rel, "0\n");
	put(root, "/proc/interrupts",
	    "            CPU0       CPU1       CPU2       CPU3\n"
	    "   0:         44          0          0          0  IR-IO-APIC    2-edge      timer\n"
	    "  60:        112          0          0          0  IR-PCI-MSIX-0000:08:00.0    0-edge      mlx5_async0@pci:0000:08:00.0\n"
	    "  61:       1000          0          0          0  IR-PCI-MSIX-0000:08:00.0    1-edge      mlx5_comp0@pci:0000:08:00.0\n"
	    "  62:          0       2000          0          0  IR-PCI-MSIX-0000:08:00.0    2-edge      mlx5_comp1@pci:0000:08:00.0\n"
	    "  63:          0          0       3000          0  IR-PCI-MSIX-0000:08:00.0    3-edge      mlx5_comp2@pci:0000:08:00.0\n"
	    "  64:          0          0          0       4000  IR-PCI-MSIX-0000:08:00.0    4-edge      mlx5_comp3@pci:0000:08:00.0\n"
	    "  70:         10          0          0          0  IR-PCI-MSIX-0000:08:00.1    0-edge      mlx5_async0@pci:0000:08:00.1\n"
	    "  71:         11          0          0          0  IR-PCI-MSIX-0000:08:00.1    1-edge      mlx5_comp0@pci:0000:08:00.1\n"
	    "  72:         12          0          0          0  IR-PCI-MSIX-0000:08:00.1    2-edge      mlx5_comp1@pci:0000:08:00.1\n"
	    "  73:         13          0          0          0  IR-PCI-MSIX-0000:08:00.1    3-edge      mlx5_comp2@pci:0000:08:00.1\n"
	    "  74:         14          0          0          0  IR-PCI-MSIX-0000:08:00.1    4-edge      mlx5_comp3@pci:0000:08:00.1\n"
	    /* Names eth2's pattern would accept, on an IRQ that is not eth2's: must be ignored. */
	    "  99:          0          0          0          0  IR-PCI-MSIX-0000:09:00.0    0-edge      eth2-TxRx-7\n"
	    " NMI:          0          0          0          0   Non-maskable interrupts\n"
	    " LOC:    7946823    8217012    7946823    8217012   Local timer interrupts\n"
	    " ERR:          0\n");
}

/* An i40e machine: two ports, misc and flow-director IRQs that are not data queues. */
static void build_i40e(const char *root)
{
	const char *p0 = "/sys/devices/pci0000:00/0000:00:02.0/0000:03:00.0";
	const char *p1 = "/sys/devices/pci0000:00/0000:00:02.0/0000:03:00.1";

	add_netdev(root, "enp3s0f0", "../../../devices/pci0000:00/0000:00:02.0/0000:03:00.0", 4);
	add_netdev(root, "enp3s0f1", "../../../devices/pci0000:00/0000:00:02.0/0000:03:00.1", 2);
	add_irqs(root, p0, 80, 85, "0-63");
	add_irqs(root, p1, 90, 92, "0-63");
	put(root, "/proc/interrupts",
	    "            CPU0       CPU1\n"
	    "  80:          1          0  IR-PCI-MSIX-0000:03:00.0    0-edge      i40e-0000:03:00.0:misc\n"
	    "  81:        100          0  IR-PCI-MSIX-0000:03:00.0    1-edge      i40e-enp3s0f0-TxRx-0\n"
	    "  82:        101          0  IR-PCI-MSIX-0000:03:00.0    2-edge      i40e-enp3s0f0-TxRx-1\n"
	    "  83:        102          0  IR-PCI-MSIX-0000:03:00.0    3-edge      i40e-enp3s0f0-TxRx-2\n"
	    "  84:        103          0  IR-PCI-MSIX-0000:03:00.0    4-edge      i40e-enp3s0f0-TxRx-3\n"
	    "  85:          0          0  IR-PCI-MSIX-0000:03:00.0    5-edge      i40e-enp3s0f0-fdir-TxRx-0\n"
	    "  90:          1          0  IR-PCI-MSIX-0000:03:00.1    0-edge      i40e-0000:03:00.1:misc\n"
	    "  91:        200          0  IR-PCI-MSIX-0000:03:00.1    1-edge      i40e-enp3s0f1-TxRx-0\n"
	    "  92:        201          0  IR-PCI-MSIX-0000:03:00.1    2-edge      i40e-enp3s0f1-TxRx-1\n");
}

static const char *fixture_dir(void)
{
	static char dir[4096];
	const char *src = getenv("ZCGEN_SRC");

	if (src && *src) {
		snprintf(dir, sizeof(dir), "%s/tests/fixtures", src);
	} else {
		/* Run by hand: next to this source file. */
		snprintf(dir, sizeof(dir), "%s", __FILE__);
		*strrchr(dir, '/') = '\0';
		strncat(dir, "/fixtures", sizeof(dir) - strlen(dir) - 1);
	}
	return dir;
}

/* Our development machine: virtio-net eth0 is virtio2 on PCI 0000:00:03.0 (layout.txt). */
static void build_virtio(const char *root)
{
	const char *pci = "/sys/devices/pci0000:00/0000:00:03.0";
	char path[4096], rel[512], *text;

	add_netdev(root, "eth0", "../../../devices/pci0000:00/0000:00:03.0/virtio2", 1);
	mkdir_p(root, "/sys/devices/pci0000:00/0000:00:03.0/virtio2");
	add_irqs(root, pci, 37, 39, "0-1");
	snprintf(rel, sizeof(rel), "%s/local_cpulist", pci);
	put(root, rel, "0-1\n");
	snprintf(rel, sizeof(rel), "%s/numa_node", pci);
	put(root, rel, "-1\n");
	snprintf(path, sizeof(path), "%s/virtio-net/proc-interrupts.txt", fixture_dir());
	text = read_all(path);
	if (!text)
		fail_msg("fixture %s: %s", path, strerror(errno));
	put(root, "/proc/interrupts", "%s", text);
	free(text);
}

static void expect_queue(const struct irq_table *t, unsigned int q, unsigned int nirqs, const int *irqs,
			 const unsigned int *dirs)
{
	unsigned int i;

	assert_true(q < t->nqueues);
	assert_int_equal(t->q[q].nirqs, nirqs);
	for (i = 0; i < nirqs; i++) {
		assert_int_equal(t->q[q].irq[i], irqs[i]);
		assert_int_equal(t->q[q].dir[i], dirs[i]);
	}
}

/* ---- tests ---- */

static void test_mlx5(void **state)
{
	const char *root = *state;
	const unsigned int both[] = { IRQ_DIR_BOTH };
	struct irq_table t;
	unsigned int q;

	build_mlx5(root);
	assert_int_equal(irq_discover(root, "eth2", &t), 0);
	assert_int_equal(t.source, IRQ_SRC_PROC);
	assert_string_equal(irq_source_name(t.source), "proc-interrupts");
	assert_int_equal(t.nqueues, 4);	/* not 8: queue 7's "eth2-TxRx-7" is not eth2's IRQ */
	for (q = 0; q < 4; q++) {
		int irq = 61 + (int)q;

		expect_queue(&t, q, 1, &irq, both);
	}
	irq_table_free(&t);

	/* The second port's channels, not the first's. */
	assert_int_equal(irq_discover(root, "eth3", &t), 0);
	assert_int_equal(t.nqueues, 4);
	assert_int_equal(t.q[0].irq[0], 71);
	assert_int_equal(t.q[3].irq[0], 74);
	irq_table_free(&t);
}

static void test_i40e(void **state)
{
	const char *root = *state;
	struct irq_table t;

	build_i40e(root);
	assert_int_equal(irq_discover(root, "enp3s0f0", &t), 0);
	assert_int_equal(t.source, IRQ_SRC_PROC);
	assert_int_equal(t.nqueues, 4);
	assert_int_equal(t.q[0].nirqs, 1);
	assert_int_equal(t.q[0].irq[0], 81);
	assert_int_equal(t.q[3].irq[0], 84);
	assert_int_equal(t.q[3].dir[0], IRQ_DIR_BOTH);
	irq_table_free(&t);

	assert_int_equal(irq_discover(root, "enp3s0f1", &t), 0);
	assert_int_equal(t.nqueues, 2);
	assert_int_equal(t.q[1].irq[0], 92);
	irq_table_free(&t);
}

static void test_virtio(void **state)
{
	const char *root = *state;
	const int irqs[] = { 38, 39 };
	const unsigned int dirs[] = { IRQ_DIR_RX, IRQ_DIR_TX };
	struct irq_table t;
	char buf[64];
	unsigned int n;
	int node;

	build_virtio(root);
	assert_int_equal(irq_discover(root, "eth0", &t), 0);
	assert_int_equal(t.source, IRQ_SRC_PROC);
	/* Queue 0 has two IRQs; 37 (virtio2-config) and other virtio devices' IRQs are not queues. */
	assert_int_equal(t.nqueues, 1);
	expect_queue(&t, 0, 2, irqs, dirs);
	irq_table_free(&t);

	assert_int_equal(irq_affinity_get(root, 38, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0-1");
	/* local_cpulist and numa_node live on the PCI parent of the virtio device. */
	assert_int_equal(numa_cpu_is_local(root, "eth0", 1), 1);
	assert_int_equal(numa_cpu_is_local(root, "eth0", 2), 0);
	assert_int_equal(numa_dev_node(root, "eth0", &node), 0);
	assert_int_equal(node, -1);
	assert_int_equal(xps_tx_count(root, "eth0", &n), 0);
	assert_int_equal(n, 1);
}

static void test_affinity_roundtrip(void **state)
{
	const char *root = *state;
	char buf[64];

	build_mlx5(root);
	assert_int_equal(irq_affinity_get(root, 62, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0-63");
	assert_int_equal(irq_affinity_set(root, 62, "2-3,8"), 0);
	assert_int_equal(irq_affinity_get(root, 62, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2-3,8");
	/* Refused before anything is written. */
	assert_int_equal(irq_affinity_set(root, 62, "3-2"), -EINVAL);
	assert_int_equal(irq_affinity_set(root, 62, ""), -EINVAL);
	assert_int_equal(irq_affinity_set(root, 62, "x"), -EINVAL);
	assert_int_equal(irq_affinity_get(root, 62, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2-3,8");
	assert_int_equal(irq_affinity_get(root, 12345, buf, sizeof(buf)), -ENOENT);
}

static void test_xps_and_numa(void **state)
{
	const char *root = *state;
	char path[4096], buf[128], *raw;
	cpu_set_t set, got;
	unsigned int n;
	int node;

	build_mlx5(root);
	assert_int_equal(xps_tx_count(root, "eth2", &n), 0);
	assert_int_equal(n, 4);
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	CPU_SET(33, &set);
	assert_int_equal(xps_set(root, "eth2", 1, &set), 0);
	/* The file holds exactly what the kernel would print for 64 possible CPUs. */
	snprintf(path, sizeof(path), "%s/sys/class/net/eth2/queues/tx-1/xps_cpus", root);
	raw = read_all(path);
	assert_non_null(raw);
	assert_string_equal(raw, "00000002,00000001");
	free(raw);
	assert_int_equal(xps_get(root, "eth2", 1, &got), 0);
	assert_true(CPU_EQUAL(&set, &got));
	assert_int_equal(xps_get_raw(root, "eth2", 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "00000002,00000001");
	CPU_SET(64, &set);	/* not a possible CPU */
	assert_int_equal(xps_set(root, "eth2", 1, &set), -ERANGE);
	assert_int_equal(xps_get(root, "eth2", 9, &got), -ENOENT);

	assert_int_equal(numa_dev_cpus(root, "eth2", &got), 0);
	assert_int_equal(cpulist_format(&got, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0-15,32-47");
	assert_int_equal(numa_cpu_is_local(root, "eth2", 33), 1);
	assert_int_equal(numa_cpu_is_local(root, "eth2", 16), 0);
	assert_int_equal(numa_dev_node(root, "eth2", &node), 0);
	assert_int_equal(node, 0);
}

static void test_no_irqs(void **state)
{
	const char *root = *state;
	struct irq_table t;
	cpu_set_t set;
	unsigned int n;

	/* veth: class/net entry and queues, no device link. */
	add_netdev(root, "veth0", NULL, 2);
	put(root, "/proc/interrupts", "           CPU0\n  0:  1  IO-APIC  2-edge  timer\n");
	assert_int_equal(irq_discover(root, "veth0", &t), 0);
	assert_int_equal(t.source, IRQ_SRC_NONE);
	assert_string_equal(irq_source_name(t.source), "none");
	assert_int_equal(t.nqueues, 0);
	irq_table_free(&t);
	assert_int_equal(numa_dev_cpus(root, "veth0", &set), -ENOENT);
	assert_int_equal(numa_cpu_is_local(root, "veth0", 0), -ENOENT);
	assert_int_equal(xps_tx_count(root, "veth0", &n), 0);
	assert_int_equal(n, 2);

	assert_int_equal(irq_discover(root, "nosuchdev", &t), -ENODEV);
	assert_int_equal(t.nqueues, 0);
	assert_int_equal(xps_tx_count(root, "nosuchdev", &n), -ENODEV);
}

static void test_names(void **state)
{
	static const struct {
		const char *ifname, *dev, *irqname;
		bool match;
		unsigned int queue, dir;
	} cases[] = {
		{ "eth2", "0000:08:00.0", "mlx5_comp12@pci:0000:08:00.0", true, 12, IRQ_DIR_BOTH },
		{ "eth2", "0000:08:00.0", "mlx5_comp1@pci:0000:08:00.1", false, 0, 0 },
		{ "eth2", "0000:08:00.0", "mlx5_async0@pci:0000:08:00.0", false, 0, 0 },
		{ "eth4", "0000:05:00.0", "eth4-TxRx-3", true, 3, IRQ_DIR_BOTH },	/* ixgbe, bnxt */
		{ "eth4", "0000:05:00.0", "eth4-rx-1", true, 1, IRQ_DIR_RX },
		{ "eth4", "0000:05:00.0", "eth40-TxRx-3", false, 0, 0 },
		{ "eth4", "0000:05:00.0", "eth4-TxRx-", false, 0, 0 },
		{ "p1", "0000:03:00.0", "i40e-p1-TxRx-5", true, 5, IRQ_DIR_BOTH },
		{ "p1", "0000:03:00.0", "ice-p1-TxRx-6", true, 6, IRQ_DIR_BOTH },
		{ "ens5", "0000:00:05.0", "ens5-Tx-Rx-7", true, 7, IRQ_DIR_BOTH },	/* ena */
		{ "eth0", "virtio2", "virtio2-input.3", true, 3, IRQ_DIR_RX },
		{ "eth0", "virtio2", "virtio2-output.3", true, 3, IRQ_DIR_TX },
		{ "eth0", "virtio2", "virtio2-config", false, 0, 0 },
		{ "eth0", "virtio2", "virtio4-input", false, 0, 0 },
		{ "eth0", "virtio2", "virtio1-input.0", false, 0, 0 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned int q = 999, dir = 0;
		bool m = irq_name_queue(cases[i].ifname, cases[i].dev, cases[i].irqname, &q, &dir);

		if (m != cases[i].match)
			fail_msg("%s: match %d, expected %d", cases[i].irqname, m, cases[i].match);
		if (m) {
			assert_int_equal(q, cases[i].queue);
			assert_int_equal(dir, cases[i].dir);
		}
	}
}

static void test_cpusets(void **state)
{
	static const struct {
		const char *list;
		unsigned int nbits;
		const char *mask;
	} cases[] = {
		{ "0,33", 64, "00000002,00000001" },
		{ "0,33", 34, "2,00000001" },
		{ "0-1", 2, "3" },
		{ "", 2, "0" },
		{ "0-3,8", 16, "010f" },
		{ "31", 32, "80000000" },
		{ "0-63", 64, "ffffffff,ffffffff" },
	};
	char buf[256];
	cpu_set_t a, b;
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(cpulist_parse(cases[i].list, &a), 0);
		assert_int_equal(cpumask_format(&a, cases[i].nbits, buf, sizeof(buf)), 0);
		assert_string_equal(buf, cases[i].mask);
		assert_int_equal(cpumask_parse(cases[i].mask, &b), 0);
		assert_true(CPU_EQUAL(&a, &b));
		assert_int_equal(cpulist_format(&b, buf, sizeof(buf)), 0);
		assert_string_equal(buf, cases[i].list);
	}
	assert_int_equal(cpulist_parse("1-", &a), -EINVAL);
	assert_int_equal(cpulist_parse("1,,2", &a), -EINVAL);
	assert_int_equal(cpulist_parse("0-1\n", &a), 0);
	assert_int_equal(CPU_COUNT(&a), 2);
	assert_int_equal(cpumask_parse("xyz", &a), -EINVAL);
	assert_int_equal(cpumask_parse("", &a), -EINVAL);
	CPU_ZERO(&a);
	CPU_SET(40, &a);
	assert_int_equal(cpumask_format(&a, 32, buf, sizeof(buf)), -ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_cpusets),
		cmocka_unit_test_setup_teardown(test_mlx5, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_i40e, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_virtio, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_affinity_roundtrip, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_xps_and_numa, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_no_irqs, tree_setup, tree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
