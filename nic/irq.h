/* irq.h - which IRQs serve each queue of a network device, and their CPU affinity */
#ifndef ZCGEN_NIC_IRQ_H
#define ZCGEN_NIC_IRQ_H

#include <stdbool.h>
#include <stddef.h>

/** enum irq_source - where irq_discover() found the queue -> IRQ map */
enum irq_source {
	IRQ_SRC_NONE = 0,	/* "none": the device has no IRQs (veth) */
	IRQ_SRC_NETDEV,		/* "netdev-netlink": queue-get + napi-get (6.8+, driver fills irq) */
	IRQ_SRC_PROC,		/* "proc-interrupts": MSI IRQs matched by name */
};

/** enum irq_dir - which direction of a queue an IRQ serves */
enum irq_dir {
	IRQ_DIR_RX = 1,
	IRQ_DIR_TX = 2,
	IRQ_DIR_BOTH = 3,	/* combined channel: "TxRx", "comp" */
};

#define IRQ_MAX_PER_QUEUE 4

/** struct irq_queue - the IRQs of one queue (index in &irq_table.q is the queue id) */
struct irq_queue {
	unsigned int nirqs;			/* 0: this queue has no IRQ of its own */
	int irq[IRQ_MAX_PER_QUEUE];		/* ascending */
	unsigned char dir[IRQ_MAX_PER_QUEUE];	/* enum irq_dir of irq[i] */
};

/** struct irq_table - result of irq_discover(); free with irq_table_free() */
struct irq_table {
	enum irq_source source;
	unsigned int nqueues;	/* highest queue with an IRQ + 1; 0 with IRQ_SRC_NONE */
	struct irq_queue *q;	/* nqueues entries */
};

/**
 * irq_source_name() - "none", "netdev-netlink" or "proc-interrupts"
 * @src: the source
 *
 * Return: a static string.
 */
const char *irq_source_name(enum irq_source src);

/**
 * irq_discover() - find the IRQs of each queue of @ifname
 * @root: "" or "/" for the running system, else a tree laid out like / (tests)
 * @ifname: interface name
 * @t: output; free with irq_table_free() (also after an error: it is then empty)
 *
 * Best source first: on the running system, the netdev generic-netlink family
 * (NETDEV_CMD_QUEUE_GET gives each queue's NAPI, NETDEV_CMD_NAPI_GET that
 * NAPI's IRQ), used when the driver fills the IRQ in. Otherwise the device's
 * MSI IRQs (device/msi_irqs, or its parent's for virtio-net), matched by name
 * in /proc/interrupts against a table of driver naming schemes (mlx5, ixgbe,
 * i40e, ice, bnxt, ena, virtio-net). IRQs of other devices and non-queue IRQs
 * (mlx5_async, virtio config) are left out. A device without a device link
 * (veth) gives an empty table with IRQ_SRC_NONE, which is not an error.
 * The netlink part needs @ifname in the calling thread's network namespace.
 *
 * Return: 0; -ENODEV if @ifname does not exist under @root; -errno.
 */
int irq_discover(const char *root, const char *ifname, struct irq_table *t);

/**
 * irq_table_free() - free what irq_discover() allocated and empty @t
 * @t: the table
 */
void irq_table_free(struct irq_table *t);

/**
 * irq_name_queue() - match one /proc/interrupts name against the naming table
 * @ifname: interface name ("eth1")
 * @devname: basename of the device link ("0000:08:00.0", "virtio2"), or NULL
 * @irqname: the IRQ's name, the last column of /proc/interrupts
 * @queue: output: the queue number in the name
 * @dir: output: enum irq_dir
 *
 * Return: true if @irqname names a data queue of this device.
 */
bool irq_name_queue(const char *ifname, const char *devname, const char *irqname,
		    unsigned int *queue, unsigned int *dir);

/**
 * irq_affinity_get() - read /proc/irq/@irq/smp_affinity_list
 * @root: as for irq_discover()
 * @irq: IRQ number
 * @buf: output, a CPU list ("0-3,8")
 * @len: size of @buf
 *
 * Return: 0 or -errno (-ENOENT: no such IRQ).
 */
int irq_affinity_get(const char *root, int irq, char *buf, size_t len);

/**
 * irq_affinity_set() - write a CPU list to /proc/irq/@irq/smp_affinity_list
 * @root: as for irq_discover()
 * @irq: IRQ number
 * @cpulist: CPU list ("2", "0-3"); checked before it is written
 *
 * Needs root on the running system. Some IRQs (managed affinity, e.g.
 * virtio-net's on some kernels) refuse with -EIO; that is reported as is.
 *
 * Return: 0; -EINVAL for a malformed or empty list; -errno from the kernel.
 */
int irq_affinity_set(const char *root, int irq, const char *cpulist);

#endif
