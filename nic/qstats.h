/* qstats.h - per-TX-queue byte and packet counters from the best source a device has */
#ifndef ZCGEN_NIC_QSTATS_H
#define ZCGEN_NIC_QSTATS_H

#include <stdbool.h>
#include <stdint.h>

#include "nic/nic.h" /* the counter types */
#include "nic/netdev.h"

/**
 * typedef qstats_stat_fn - receives one driver statistic
 * @ctx: the @each_ctx given to the &qstats_drv_fn
 * @name: the driver's name for it ("tx_queue_3_bytes")
 * @value: its value
 */
typedef void (*qstats_stat_fn)(void *ctx, const char *name, uint64_t value);

/**
 * typedef qstats_drv_fn - supplies a device's driver statistics (ethtool -S)
 * @arg: the caller's argument given to qstats_open()
 * @ifname: interface name
 * @each: to be called once per statistic
 * @each_ctx: to be passed to @each
 *
 * nic/ keeps the SIOCETHTOOL ioctl in one place (drvinfo_stats_get()); the
 * caller wires it in with an adapter of this type, and tests with a fake.
 *
 * Return: 0 or -errno (-EOPNOTSUPP: the driver has no statistics).
 */
typedef int (*qstats_drv_fn)(void *arg, const char *ifname, qstats_stat_fn each, void *each_ctx);

struct nl_sock;

/** struct qstats_ctx - sockets and the driver-statistics hook; see qstats_open() */
struct qstats_ctx {
	struct nl_sock *rt;	/* rtnetlink, for qdiscs and link stats */
	struct netdev_nl nd;	/* netdev family; nd.sk NULL when the kernel lacks it */
	qstats_drv_fn drv;
	void *drv_arg;
};

/**
 * qstats_open() - open the netlink sockets the counters are read through
 * @c: output
 * @drv: driver statistics supplier, or NULL to skip that source
 * @drv_arg: passed to @drv
 *
 * The sockets act in the network namespace of the thread that opens them.
 *
 * Return: 0 or -errno. A kernel without the netdev family is not an error.
 */
int qstats_open(struct qstats_ctx *c, qstats_drv_fn drv, void *drv_arg);

/**
 * qstats_close() - close what qstats_open() opened; safe on a zeroed @c
 * @c: the context
 */
void qstats_close(struct qstats_ctx *c);

/**
 * qstats_tx_read() - bytes and packets per TX queue, from the best source
 * @c: open context
 * @ifname: interface name
 * @out: output; out->source says which source answered
 *
 * Tries, in order: the drop counters of qdiscs that drop every packet (a
 * `pfifo limit 0` on each mq child, or at the root of a single-queue device:
 * nothing reaches the driver, so nothing else counts), the netdev family's
 * per-queue stats (where the driver implements them), the driver's
 * statistics with per-queue names, the child qdiscs of an mq root qdisc. A device with none of them gives
 * QSTATS_SRC_NONE and no queues, which is not an error. A sampler should
 * read the first sample with this and later ones with qstats_tx_read_from()
 * and the same source, so that deltas compare like with like.
 *
 * Return: 0; -ENODEV for an unknown device; -errno.
 */
int qstats_tx_read(struct qstats_ctx *c, const char *ifname, struct qstats_tx *out);

/**
 * qstats_tx_read_from() - bytes and packets per TX queue, from one given source
 * @c: open context
 * @ifname: interface name
 * @src: the source to use (not QSTATS_SRC_NONE)
 * @out: output
 *
 * Return: 0; -ENOENT when that source has no per-queue TX counters for the
 * device (no mq root, no per-queue names, no driver support, not every
 * queue's qdisc a `pfifo limit 0`); -ENODEV; -errno.
 */
int qstats_tx_read_from(struct qstats_ctx *c, const char *ifname, enum qstats_source src,
			struct qstats_tx *out);

/**
 * qstats_mq_add() - give @ifname an mq root qdisc (one child qdisc per TX queue)
 * @c: open context
 * @ifname: interface name
 *
 * Replaces the root qdisc (veth has none by default). Needs CAP_NET_ADMIN.
 *
 * Return: 0; -EOPNOTSUPP for a single-queue device; -errno.
 */
int qstats_mq_add(struct qstats_ctx *c, const char *ifname);

/**
 * qstats_mq_del() - delete @ifname's root qdisc if it is an mq
 * @c: open context
 * @ifname: interface name
 *
 * Return: 0; -ENOENT if the root qdisc is not an mq (nothing deleted); -errno.
 */
int qstats_mq_del(struct qstats_ctx *c, const char *ifname);

/**
 * qstats_link_tx() - the device's own TX counters (IFLA_STATS64)
 * @c: open context
 * @ifname: interface name
 * @bytes: output: tx_bytes
 * @packets: output: tx_packets; per skb (a TSO super-packet counts once on
 *           veth), unlike mq-qdisc's per-segment counts
 *
 * Return: 0; -ENODEV; -errno.
 */
int qstats_link_tx(struct qstats_ctx *c, const char *ifname, uint64_t *bytes, uint64_t *packets);

#endif
