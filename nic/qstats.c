/* qstats.c - per-TX-queue byte and packet counters from the best source a device has */
#define _GNU_SOURCE
#include "nic/qstats.h"
#include "nic/namepat.h"
#include "nic/drvinfo.h"

#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pkt_sched.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/fifo.h>
#include <netlink/route/rtnl.h>
#include <netlink/route/tc.h>

/*
 * Per-queue TX counters in drivers' statistics, by driver. Only byte and
 * packet totals: XDP or per-type counters would not add up to the queue.
 */
static const struct drv_pattern {
	const char *tmpl;
	bool bytes;	/* else packets */
} drv_patterns[] = {
	{ "tx_queue_{n}_bytes", true },		/* ixgbe, igb, ice */
	{ "tx_queue_{n}_packets", false },
	{ "tx{n}_bytes", true },		/* mlx5, virtio-net before 6.x qstats */
	{ "tx{n}_packets", false },
	{ "tx-{n}.bytes", true },		/* i40e */
	{ "tx-{n}.packets", false },
	{ "tx-{n}.tx_bytes", true },		/* iavf */
	{ "tx-{n}.tx_packets", false },
	{ "queue_{n}_tx_bytes", true },		/* ena */
	{ "queue_{n}_tx_cnt", false },
};

const char *qstats_source_name(enum qstats_source src)
{
	switch (src) {
	case QSTATS_SRC_NETDEV: return "netdev-netlink";
	case QSTATS_SRC_DRIVER: return "driver-stats";
	case QSTATS_SRC_MQ: return "mq-qdisc";
	case QSTATS_SRC_DROPS: return "qdisc-drops";
	case QSTATS_SRC_NONE: break;
	}
	return "none";
}

int qstats_open(struct qstats_ctx *c, qstats_drv_fn drv, void *drv_arg)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->nd.family = -1;
	c->drv = drv;
	c->drv_arg = drv_arg;
	c->rt = nl_socket_alloc();
	if (!c->rt)
		return -ENOMEM;
	ret = nl_connect(c->rt, NETLINK_ROUTE);
	if (ret < 0) {
		ret = nlerr_errno(ret);
		goto out_free;
	}
	/* Kernels before 6.3 have no netdev family: that source is then skipped. */
	if (netdev_nl_open(&c->nd))
		c->nd.sk = NULL;
	return 0;
out_free:
	nl_socket_free(c->rt);
	c->rt = NULL;
	return ret;
}

void qstats_close(struct qstats_ctx *c)
{
	netdev_nl_close(&c->nd);
	if (c->rt)
		nl_socket_free(c->rt);
	c->rt = NULL;
}

static void tx_reset(struct qstats_tx *out, enum qstats_source src)
{
	out->source = src;
	out->nqueues = 0;
	out->no_bytes = false;
	memset(out->q, 0, sizeof(out->q));
}

static int read_netdev(struct qstats_ctx *c, int ifindex, struct qstats_tx *out)
{
	struct netdev_qstat *st = NULL;
	unsigned int n = 0, i;
	bool any = false;
	int ret;

	if (!c->nd.sk)
		return -ENOENT;
	ret = netdev_qstats_tx(&c->nd, ifindex, &st, &n);
	if (ret == -EOPNOTSUPP)
		return -ENOENT;
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		if (st[i].id >= QSTATS_MAX_QUEUES || !st[i].has_bytes)
			continue;
		out->q[st[i].id].bytes = st[i].tx_bytes;
		out->q[st[i].id].packets = st[i].tx_packets;
		if (st[i].id + 1 > out->nqueues)
			out->nqueues = st[i].id + 1;
		any = true;
	}
	free(st);
	return any ? 0 : -ENOENT;
}

struct drv_collect {
	struct qstats_tx *out;
	bool any_bytes;
};

static void drv_each(void *ctx, const char *name, uint64_t value)
{
	struct drv_collect *dc = ctx;
	unsigned int i, q;

	for (i = 0; i < sizeof(drv_patterns) / sizeof(drv_patterns[0]); i++) {
		if (!namepat_match(drv_patterns[i].tmpl, name, NULL, 0, &q) || q >= QSTATS_MAX_QUEUES)
			continue;
		if (drv_patterns[i].bytes) {
			dc->out->q[q].bytes = value;
			dc->any_bytes = true;
		} else {
			dc->out->q[q].packets = value;
		}
		if (q + 1 > dc->out->nqueues)
			dc->out->nqueues = q + 1;
		return;
	}
}

static int read_driver(struct qstats_ctx *c, const char *ifname, struct qstats_tx *out)
{
	struct drv_collect dc = { .out = out };
	int ret;

	if (!c->drv)
		return -ENOENT;
	ret = c->drv(c->drv_arg, ifname, drv_each, &dc);
	if (ret == -EOPNOTSUPP)
		return -ENOENT;
	if (ret)
		return ret;
	return dc.any_bytes ? 0 : -ENOENT;
}

/* Whether @q is an mq qdisc (its children, one per TX queue, count for each queue). */
static bool is_mq(struct rtnl_qdisc *q)
{
	const char *kind = rtnl_tc_get_kind(TC_CAST(q));

	return kind && !strcmp(kind, "mq");
}

/* The mq root qdisc of @ifindex in @cache, or NULL. */
static struct rtnl_qdisc *mq_root(struct nl_cache *cache, int ifindex)
{
	struct rtnl_qdisc *root = rtnl_qdisc_get_by_parent(cache, ifindex, TC_H_ROOT);

	if (root && !is_mq(root)) {
		rtnl_qdisc_put(root);
		return NULL;
	}
	return root;
}

/*
 * A `pfifo limit 0` takes no packet: each one sent to it is dropped at
 * enqueue and counted once in its drops (a GSO skb once), never in its sent
 * bytes. Limit 0 also clears TCQ_F_CAN_BYPASS, so no packet goes around it.
 */
static bool drop_fifo(struct rtnl_qdisc *q)
{
	const char *kind = rtnl_tc_get_kind(TC_CAST(q));

	return kind && !strcmp(kind, "pfifo") && rtnl_qdisc_fifo_get_limit(q) == 0;
}

/*
 * Per-TX-queue counters from the qdiscs of @ifindex. Without @drops
 * (mq-qdisc): each mq child's sent bytes and packets. With @drops
 * (qdisc-drops): each queue's drops as its packets, where every packet is
 * dropped: a root `pfifo limit 0` (one queue), or an mq whose children all
 * are. Return: 0, -ENOENT where the qdiscs are not such, or -errno.
 */
static int read_qdiscs(struct qstats_ctx *c, int ifindex, bool drops, struct qstats_tx *out)
{
	struct nl_cache *cache;
	struct rtnl_qdisc *root;
	struct nl_object *obj;
	uint32_t major;
	int ret;

	ret = rtnl_qdisc_alloc_cache(c->rt, &cache);
	if (ret < 0)
		return nlerr_errno(ret);
	root = rtnl_qdisc_get_by_parent(cache, ifindex, TC_H_ROOT);
	if (drops && root && drop_fifo(root)) {
		out->q[0].packets = rtnl_tc_get_stat(TC_CAST(root), RTNL_TC_DROPS);
		out->nqueues = 1;
		ret = 0;
		goto out_root;
	}
	ret = -ENOENT;
	if (!root || !is_mq(root))
		goto out_root;
	major = TC_H_MAJ(rtnl_tc_get_handle(TC_CAST(root)));
	/* mq's children hang off major:(queue + 1), one per TX queue. */
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
		struct rtnl_tc *tc = (struct rtnl_tc *)obj;
		uint32_t parent = rtnl_tc_get_parent(tc);
		uint32_t minor = TC_H_MIN(parent);

		if (rtnl_tc_get_ifindex(tc) != ifindex || parent == TC_H_ROOT ||
		    TC_H_MAJ(parent) != major || minor == 0 || minor > QSTATS_MAX_QUEUES)
			continue;
		if (drops) {
			/* every queue drops, or the drops are not what was sent */
			if (!drop_fifo((struct rtnl_qdisc *)obj))
				goto out_root;
			out->q[minor - 1].packets = rtnl_tc_get_stat(tc, RTNL_TC_DROPS);
		} else {
			out->q[minor - 1].bytes = rtnl_tc_get_stat(tc, RTNL_TC_BYTES);
			out->q[minor - 1].packets = rtnl_tc_get_stat(tc, RTNL_TC_PACKETS);
		}
		if (minor > out->nqueues)
			out->nqueues = minor;
	}
	ret = out->nqueues ? 0 : -ENOENT;
out_root:
	if (root)
		rtnl_qdisc_put(root);
	nl_cache_free(cache);
	if (drops)
		out->no_bytes = !ret;
	return ret;
}

int qstats_tx_read_from(struct qstats_ctx *c, const char *ifname, enum qstats_source src,
			struct qstats_tx *out)
{
	int ifindex = (int)if_nametoindex(ifname);
	int ret;

	tx_reset(out, QSTATS_SRC_NONE);
	if (!ifindex)
		return -ENODEV;
	out->source = src;
	switch (src) {
	case QSTATS_SRC_NETDEV:
		ret = read_netdev(c, ifindex, out);
		break;
	case QSTATS_SRC_DRIVER:
		ret = read_driver(c, ifname, out);
		break;
	case QSTATS_SRC_MQ:
	case QSTATS_SRC_DROPS:
		ret = read_qdiscs(c, ifindex, src == QSTATS_SRC_DROPS, out);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	if (ret)
		tx_reset(out, QSTATS_SRC_NONE);
	return ret;
}

int qstats_tx_read(struct qstats_ctx *c, const char *ifname, struct qstats_tx *out)
{
	/* drops first: where every packet is dropped, the other counters read zero */
	static const enum qstats_source order[] = { QSTATS_SRC_DROPS, QSTATS_SRC_NETDEV,
						    QSTATS_SRC_DRIVER, QSTATS_SRC_MQ };
	unsigned int i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		int ret = qstats_tx_read_from(c, ifname, order[i], out);

		if (ret != -ENOENT)
			return ret;
	}
	tx_reset(out, QSTATS_SRC_NONE);
	return 0;
}

static int mq_qdisc(int ifindex, struct rtnl_qdisc **out)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	int ret;

	if (!q)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	ret = rtnl_tc_set_kind(TC_CAST(q), "mq");
	if (ret < 0) {
		rtnl_qdisc_put(q);
		return nlerr_errno(ret);
	}
	*out = q;
	return 0;
}

int qstats_mq_add(struct qstats_ctx *c, const char *ifname)
{
	int ifindex = (int)if_nametoindex(ifname);
	struct rtnl_qdisc *q = NULL;
	int ret;

	if (!ifindex)
		return -ENODEV;
	ret = mq_qdisc(ifindex, &q);
	if (ret)
		return ret;
	ret = nlerr_errno(rtnl_qdisc_add(c->rt, q, NLM_F_CREATE | NLM_F_REPLACE));
	rtnl_qdisc_put(q);
	return ret;
}

int qstats_mq_del(struct qstats_ctx *c, const char *ifname)
{
	int ifindex = (int)if_nametoindex(ifname);
	struct nl_cache *cache;
	struct rtnl_qdisc *root, *q = NULL;
	int ret;

	if (!ifindex)
		return -ENODEV;
	ret = rtnl_qdisc_alloc_cache(c->rt, &cache);
	if (ret < 0)
		return nlerr_errno(ret);
	root = mq_root(cache, ifindex);
	nl_cache_free(cache);
	if (!root)
		return -ENOENT;
	rtnl_qdisc_put(root);
	ret = mq_qdisc(ifindex, &q);
	if (ret)
		return ret;
	/* The kind goes in the request: the kernel refuses if the root changed meanwhile. */
	ret = nlerr_errno(rtnl_qdisc_delete(c->rt, q));
	rtnl_qdisc_put(q);
	return ret;
}

int qstats_link_tx(struct qstats_ctx *c, const char *ifname, uint64_t *bytes, uint64_t *packets)
{
	struct rtnl_link *link;
	int ret;

	ret = rtnl_link_get_kernel(c->rt, 0, ifname, &link);
	if (ret < 0)
		return ret == -NLE_OBJ_NOTFOUND || ret == -NLE_NODEV ? -ENODEV : nlerr_errno(ret);
	*bytes = rtnl_link_get_stat(link, RTNL_LINK_TX_BYTES);
	*packets = rtnl_link_get_stat(link, RTNL_LINK_TX_PACKETS);
	rtnl_link_put(link);
	return 0;
}

/* The door's handle (nic/nic.h): a context with the driver's statistics wired in. */
struct nic_counters {
	struct qstats_ctx qc;
};

static int drv_stats(void *arg, const char *ifname, qstats_stat_fn each, void *ctx)
{
	return drvinfo_stats_each(arg, ifname, each, ctx);
}

int nic_counters_open(struct nic_counters **out)
{
	struct nic_counters *c = calloc(1, sizeof(*c));
	int ret;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	ret = qstats_open(&c->qc, drv_stats, NULL);
	if (ret) {
		free(c);
		return ret;
	}
	*out = c;
	return 0;
}

void nic_counters_close(struct nic_counters *c)
{
	if (!c)
		return;
	qstats_close(&c->qc);
	free(c);
}

int nic_tx_read(struct nic_counters *c, const char *ifname, struct qstats_tx *out)
{
	return qstats_tx_read(&c->qc, ifname, out);
}

int nic_tx_read_from(struct nic_counters *c, const char *ifname, enum qstats_source src,
		     struct qstats_tx *out)
{
	return qstats_tx_read_from(&c->qc, ifname, src, out);
}

int nic_link_tx(struct nic_counters *c, const char *ifname, uint64_t *bytes, uint64_t *packets)
{
	return qstats_link_tx(&c->qc, ifname, bytes, packets);
}
