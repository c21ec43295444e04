/* netdev.c - client of the kernel's "netdev" generic-netlink family (queues, NAPIs, queue stats) */
#define _GNU_SOURCE
#include "nic/netdev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

/* libnl reports its own error codes; callers of nic/ want -errno. */
int nlerr_errno(int err)
{
	switch (err < 0 ? -err : err) {
	case 0: return 0;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_PERM: return -EPERM;
	case NLE_INVAL: return -EINVAL;
	case NLE_NODEV: return -ENODEV;
	case NLE_EXIST: return -EEXIST;
	case NLE_BUSY: return -EBUSY;
	case NLE_RANGE: return -ERANGE;
	case NLE_AGAIN: return -EAGAIN;
	case NLE_MSGSIZE: return -EMSGSIZE;
	case NLE_NOACCESS: return -EACCES;
	case NLE_AF_NOSUPPORT: return -EAFNOSUPPORT;
	default: return -EIO;
	}
}

int netdev_nl_open(struct netdev_nl *nl)
{
	int ret;

	nl->family = -1;
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return -ENOMEM;
	ret = genl_connect(nl->sk);
	if (ret < 0) {
		ret = nlerr_errno(ret);
		goto out_free;
	}
	ret = genl_ctrl_resolve(nl->sk, ZC_NETDEV_FAMILY_NAME);
	if (ret < 0) {
		ret = -ENOENT;
		goto out_free;
	}
	nl->family = ret;
	return 0;
out_free:
	nl_socket_free(nl->sk);
	nl->sk = NULL;
	return ret;
}

void netdev_nl_close(struct netdev_nl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->sk = NULL;
	nl->family = -1;
}

/* One dump: a growing array, a parser per message, and the kernel's error kept as -errno. */
struct dump {
	int err;
	int maxattr;
	size_t elsize;
	void *arr;
	unsigned int n, cap;
	/* Fill @el from @tb; return 1 to keep it, 0 to skip it. */
	int (*parse)(struct nlattr **tb, void *el);
};

static int dump_valid(struct nl_msg *msg, void *arg)
{
	struct dump *d = arg;
	struct nlattr *tb[ZC_NETDEV_A_QSTATS_MAX_USED + 1];
	char el[64];

	_Static_assert(sizeof(struct netdev_qstat) <= sizeof(el), "dump element too large");

	/* Attributes beyond @maxattr (newer kernels add them) are skipped by nla_parse. */
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, d->maxattr, NULL) < 0)
		return NL_SKIP;
	memset(el, 0, sizeof(el));
	if (!d->parse(tb, el))
		return NL_OK;
	if (d->n == d->cap) {
		unsigned int cap = d->cap ? d->cap * 2 : 16;
		void *p = realloc(d->arr, cap * d->elsize);

		if (!p) {
			d->err = -ENOMEM;
			return NL_STOP;
		}
		d->arr = p;
		d->cap = cap;
	}
	memcpy((char *)d->arr + d->n * d->elsize, el, d->elsize);
	d->n++;
	return NL_OK;
}

static int dump_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct dump *d = arg;

	d->err = e->error;
	return NL_STOP;
}

static int dump_run(struct netdev_nl *nl, uint8_t cmd, int ifindex_attr, int ifindex,
		    int scope_attr, uint32_t scope, struct dump *d)
{
	struct nl_msg *msg;
	struct nl_cb *cb;
	int ret;

	if (!nl->sk || nl->family < 0)
		return -EBADF;
	msg = nlmsg_alloc();
	if (!msg)
		return -ENOMEM;
	/* A fresh set: nl_socket_get_cb() would take a reference we would have to drop. */
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		ret = -ENOMEM;
		goto out_msg;
	}
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, NLM_F_DUMP, cmd,
			 ZC_NETDEV_FAMILY_VERSION) ||
	    nla_put_u32(msg, ifindex_attr, (uint32_t)ifindex) < 0 ||
	    (scope_attr && nla_put_u32(msg, scope_attr, scope) < 0)) {
		ret = -EMSGSIZE;
		goto out_cb;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, dump_valid, d);
	nl_cb_err(cb, NL_CB_CUSTOM, dump_error, d);
	ret = nl_send_auto(nl->sk, msg);
	if (ret < 0) {
		ret = nlerr_errno(ret);
		goto out_cb;
	}
	ret = nl_recvmsgs(nl->sk, cb);
	if (d->err)
		ret = d->err;
	else
		ret = nlerr_errno(ret);
out_cb:
	nl_cb_put(cb);
out_msg:
	nlmsg_free(msg);
	if (ret) {
		free(d->arr);
		d->arr = NULL;
		d->n = 0;
	}
	return ret;
}

static uint64_t attr_uint(const struct nlattr *a)
{
	/* "uint" attributes are 4 or 8 bytes, whichever the value needs. */
	return nla_len(a) == 8 ? nla_get_u64((struct nlattr *)a) : nla_get_u32((struct nlattr *)a);
}

static int parse_queue(struct nlattr **tb, void *el)
{
	struct netdev_queue *q = el;

	if (!tb[ZC_NETDEV_A_QUEUE_ID] || !tb[ZC_NETDEV_A_QUEUE_TYPE])
		return 0;
	q->id = nla_get_u32(tb[ZC_NETDEV_A_QUEUE_ID]);
	q->type = nla_get_u32(tb[ZC_NETDEV_A_QUEUE_TYPE]);
	q->napi_id = tb[ZC_NETDEV_A_QUEUE_NAPI_ID] ? nla_get_u32(tb[ZC_NETDEV_A_QUEUE_NAPI_ID]) : 0;
	return 1;
}

static int parse_napi(struct nlattr **tb, void *el)
{
	struct netdev_napi *p = el;

	if (!tb[ZC_NETDEV_A_NAPI_ID])
		return 0;
	p->id = nla_get_u32(tb[ZC_NETDEV_A_NAPI_ID]);
	p->irq = tb[ZC_NETDEV_A_NAPI_IRQ] ? (int)nla_get_u32(tb[ZC_NETDEV_A_NAPI_IRQ]) : -1;
	return 1;
}

static int parse_qstat(struct nlattr **tb, void *el)
{
	struct netdev_qstat *s = el;

	if (!tb[ZC_NETDEV_A_QSTATS_QUEUE_ID] || !tb[ZC_NETDEV_A_QSTATS_QUEUE_TYPE] ||
	    nla_get_u32(tb[ZC_NETDEV_A_QSTATS_QUEUE_TYPE]) != ZC_NETDEV_QUEUE_TYPE_TX)
		return 0;
	s->id = nla_get_u32(tb[ZC_NETDEV_A_QSTATS_QUEUE_ID]);
	if (tb[ZC_NETDEV_A_QSTATS_TX_BYTES]) {
		s->has_bytes = true;
		s->tx_bytes = attr_uint(tb[ZC_NETDEV_A_QSTATS_TX_BYTES]);
	}
	if (tb[ZC_NETDEV_A_QSTATS_TX_PACKETS]) {
		s->has_packets = true;
		s->tx_packets = attr_uint(tb[ZC_NETDEV_A_QSTATS_TX_PACKETS]);
	}
	return 1;
}

int netdev_queue_list(struct netdev_nl *nl, int ifindex, struct netdev_queue **out, unsigned int *n)
{
	struct dump d = { .maxattr = ZC_NETDEV_A_QUEUE_MAX_USED, .elsize = sizeof(**out),
			  .parse = parse_queue };
	int ret = dump_run(nl, ZC_NETDEV_CMD_QUEUE_GET, ZC_NETDEV_A_QUEUE_IFINDEX, ifindex, 0, 0, &d);

	*out = d.arr;
	*n = d.n;
	return ret;
}

int netdev_napi_list(struct netdev_nl *nl, int ifindex, struct netdev_napi **out, unsigned int *n)
{
	struct dump d = { .maxattr = ZC_NETDEV_A_NAPI_MAX_USED, .elsize = sizeof(**out),
			  .parse = parse_napi };
	int ret = dump_run(nl, ZC_NETDEV_CMD_NAPI_GET, ZC_NETDEV_A_NAPI_IFINDEX, ifindex, 0, 0, &d);

	*out = d.arr;
	*n = d.n;
	return ret;
}

int netdev_qstats_tx(struct netdev_nl *nl, int ifindex, struct netdev_qstat **out, unsigned int *n)
{
	struct dump d = { .maxattr = ZC_NETDEV_A_QSTATS_MAX_USED, .elsize = sizeof(**out),
			  .parse = parse_qstat };
	int ret = dump_run(nl, ZC_NETDEV_CMD_QSTATS_GET, ZC_NETDEV_A_QSTATS_IFINDEX, ifindex,
			   ZC_NETDEV_A_QSTATS_SCOPE, ZC_NETDEV_QSTATS_SCOPE_QUEUE, &d);

	*out = d.arr;
	*n = d.n;
	return ret;
}
