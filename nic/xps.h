/* xps.h - transmit packet steering (tx-N/xps_cpus) and the device's NUMA locality */
#ifndef ZCGEN_NIC_XPS_H
#define ZCGEN_NIC_XPS_H

/* cpu_set_t needs _GNU_SOURCE, defined first thing in every .c file of ours. */
#include <sched.h>
#ifndef CPU_SETSIZE
#error "nic/xps.h needs _GNU_SOURCE defined before the first #include (cpu_set_t)"
#endif
#include <stdbool.h>
#include <stddef.h>

/*
 * All functions take @root: "" or "/" for the running system, else a tree
 * laid out like / for tests. /sys/class/net shows the devices of the network
 * namespace sysfs was mounted in, not the caller's: code that works inside a
 * lab namespace must remount sysfs in its own mount namespace first.
 */

/**
 * xps_tx_count() - number of TX queues, from the tx-N directories
 * @root: see above
 * @ifname: interface name
 * @n: output
 *
 * Return: 0; -ENODEV if @ifname does not exist; -errno.
 */
int xps_tx_count(const char *root, const char *ifname, unsigned int *n);

/**
 * xps_get_raw() - the text of /sys/class/net/@ifname/queues/tx-@txq/xps_cpus
 * @root: see above
 * @ifname: interface name
 * @txq: TX queue
 * @buf: output ("00000002,00000001"), as the kernel prints it (for snapshots)
 * @len: size of @buf
 *
 * Return: 0; -ENOENT if the queue has no xps_cpus (single-queue devices); -errno.
 */
int xps_get_raw(const char *root, const char *ifname, unsigned int txq, char *buf, size_t len);

/**
 * xps_set_raw() - write a hex mask to tx-@txq/xps_cpus as is (to restore a snapshot)
 * @root: see above
 * @ifname: interface name
 * @txq: TX queue
 * @mask: hex mask in the kernel's format
 *
 * Return: 0 or -errno.
 */
int xps_set_raw(const char *root, const char *ifname, unsigned int txq, const char *mask);

/**
 * xps_get() - the CPUs that transmit on tx-@txq
 * @root: see above
 * @ifname: interface name
 * @txq: TX queue
 * @set: output (empty: XPS not set for this queue)
 *
 * Return: 0 or -errno.
 */
int xps_get(const char *root, const char *ifname, unsigned int txq, cpu_set_t *set);

/**
 * xps_set() - make the CPUs in @set transmit on tx-@txq
 * @root: see above
 * @ifname: interface name
 * @txq: TX queue
 * @set: the CPUs (empty clears XPS for the queue)
 *
 * The mask is written as the kernel prints one, sized by the number of
 * possible CPUs (/sys/devices/system/cpu/possible).
 *
 * Return: 0; -ERANGE for a CPU that is not possible; -errno.
 */
int xps_set(const char *root, const char *ifname, unsigned int txq, const cpu_set_t *set);

/**
 * numa_dev_cpus() - the CPUs local to @ifname's device (its local_cpulist)
 * @root: see above
 * @ifname: interface name
 * @set: output
 *
 * Reads device/local_cpulist, or the parent's for virtio-net.
 *
 * Return: 0; -ENOENT if the device has no locality (veth); -ENODEV; -errno.
 */
int numa_dev_cpus(const char *root, const char *ifname, cpu_set_t *set);

/**
 * numa_dev_node() - the NUMA node of @ifname's device
 * @root: see above
 * @ifname: interface name
 * @node: output; -1 when the platform has no NUMA information
 *
 * Return: 0; -ENOENT if the device has no numa_node (veth); -errno.
 */
int numa_dev_node(const char *root, const char *ifname, int *node);

/**
 * numa_cpu_is_local() - whether @cpu is local to @ifname's device
 * @root: see above
 * @ifname: interface name
 * @cpu: CPU number
 *
 * Return: 1 local, 0 remote (a queue pinned there is worth pointing out),
 * -ENOENT when the device has no locality information (veth), -errno.
 */
int numa_cpu_is_local(const char *root, const char *ifname, int cpu);

#endif
