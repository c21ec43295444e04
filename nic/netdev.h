/* netdev.h - client of the kernel's "netdev" generic-netlink family (queues, NAPIs, queue stats) */
#ifndef ZCGEN_NIC_NETDEV_H
#define ZCGEN_NIC_NETDEV_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Debian 12's headers (6.1) have no <linux/netdev.h>. The values below are
 * ABI (Documentation/netlink/specs/netdev.yaml), each with the kernel that
 * introduced it; we define only what we use.
 */
#define ZC_NETDEV_FAMILY_NAME "netdev"	/* 6.3 */
#define ZC_NETDEV_FAMILY_VERSION 1

enum {
	ZC_NETDEV_CMD_DEV_GET = 1,	/* 6.3 */
	ZC_NETDEV_CMD_QUEUE_GET = 10,	/* 6.8 */
	ZC_NETDEV_CMD_NAPI_GET = 11,	/* 6.8 */
	ZC_NETDEV_CMD_QSTATS_GET = 12,	/* 6.9 */
};

enum {	/* queue attributes, 6.8 */
	ZC_NETDEV_A_QUEUE_ID = 1,
	ZC_NETDEV_A_QUEUE_IFINDEX = 2,
	ZC_NETDEV_A_QUEUE_TYPE = 3,
	ZC_NETDEV_A_QUEUE_NAPI_ID = 4,
	ZC_NETDEV_A_QUEUE_MAX_USED = 4,
};

enum {	/* enum netdev_queue_type, 6.8 */
	ZC_NETDEV_QUEUE_TYPE_RX = 0,
	ZC_NETDEV_QUEUE_TYPE_TX = 1,
};

enum {	/* NAPI attributes, 6.8 */
	ZC_NETDEV_A_NAPI_IFINDEX = 1,
	ZC_NETDEV_A_NAPI_ID = 2,
	ZC_NETDEV_A_NAPI_IRQ = 3,
	ZC_NETDEV_A_NAPI_MAX_USED = 3,
};

enum {	/* queue statistics attributes, 6.9 */
	ZC_NETDEV_A_QSTATS_IFINDEX = 1,
	ZC_NETDEV_A_QSTATS_QUEUE_TYPE = 2,
	ZC_NETDEV_A_QSTATS_QUEUE_ID = 3,
	ZC_NETDEV_A_QSTATS_SCOPE = 4,
	ZC_NETDEV_A_QSTATS_TX_PACKETS = 10,
	ZC_NETDEV_A_QSTATS_TX_BYTES = 11,
	ZC_NETDEV_A_QSTATS_MAX_USED = 11,
};

#define ZC_NETDEV_QSTATS_SCOPE_QUEUE 1	/* 6.9 */

struct nl_sock;

/** struct netdev_nl - a socket bound to the netdev family */
struct netdev_nl {
	struct nl_sock *sk;
	int family;
};

/** struct netdev_queue - one entry of a QUEUE_GET dump */
struct netdev_queue {
	uint32_t id;
	uint32_t type;		/* ZC_NETDEV_QUEUE_TYPE_RX or _TX */
	uint32_t napi_id;	/* 0: the queue has no NAPI */
};

/** struct netdev_napi - one entry of a NAPI_GET dump */
struct netdev_napi {
	uint32_t id;
	int irq;		/* -1: the driver did not say */
};

/** struct netdev_qstat - TX counters of one queue from a QSTATS_GET dump */
struct netdev_qstat {
	uint32_t id;
	bool has_bytes, has_packets;
	uint64_t tx_bytes, tx_packets;
};

/**
 * netdev_nl_open() - connect a generic-netlink socket and resolve the family
 * @nl: output
 *
 * Return: 0; -ENOENT if the kernel has no netdev family (before 6.3); -errno.
 */
int netdev_nl_open(struct netdev_nl *nl);

/**
 * netdev_nl_close() - free the socket; safe on a zeroed or closed @nl
 * @nl: the socket
 */
void netdev_nl_close(struct netdev_nl *nl);

/**
 * netdev_queue_list() - dump the queues of @ifindex (NETDEV_CMD_QUEUE_GET)
 * @nl: open socket
 * @ifindex: device, in the calling thread's network namespace
 * @out: output, malloc'd array (free() it), NULL when empty
 * @n: output: entries in @out
 *
 * Return: 0; -EOPNOTSUPP if the kernel lacks the command (before 6.8); -errno.
 */
int netdev_queue_list(struct netdev_nl *nl, int ifindex, struct netdev_queue **out, unsigned int *n);

/**
 * netdev_napi_list() - dump the NAPI instances of @ifindex (NETDEV_CMD_NAPI_GET)
 * @nl: open socket
 * @ifindex: device
 * @out: output, malloc'd array (free() it)
 * @n: output: entries in @out
 *
 * Return: 0; -EOPNOTSUPP before 6.8; -errno.
 */
int netdev_napi_list(struct netdev_nl *nl, int ifindex, struct netdev_napi **out, unsigned int *n);

/**
 * netdev_qstats_tx() - per-TX-queue counters of @ifindex (QSTATS_GET, scope queue)
 * @nl: open socket
 * @ifindex: device
 * @out: output, malloc'd array (free() it); only TX queues
 * @n: output: entries in @out; 0 when the driver has no queue stats
 *
 * Return: 0; -EOPNOTSUPP before 6.9 or when the driver has none; -errno.
 */
int netdev_qstats_tx(struct netdev_nl *nl, int ifindex, struct netdev_qstat **out, unsigned int *n);

/**
 * nlerr_errno() - a libnl error code (NLE_*) as -errno, for nic/'s callers
 * @err: what a libnl call returned
 *
 * Return: 0 for 0, else the matching -errno (-EIO for codes without one).
 */
int nlerr_errno(int err);

#endif
