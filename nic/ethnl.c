/* ethnl.c - the ethtool generic-netlink family through libnl: link, channels, rings, features */
#include <errno.h>
#include <stddef.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/ethtool_netlink.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/socket.h>
#include <netlink/handlers.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include "nic/ethnl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* Larger than any ETHTOOL_A_*_MAX we parse; attributes above maxattr are skipped by libnl. */
#define ETHNL_TB 32

struct ethnl {
	struct nl_sock *sk;
	int family;
	char errmsg[256];
};

/* Called with the attributes of each reply message of the expected command. */
typedef int (*ethnl_parse_fn)(struct nlattr **tb, void *arg);

struct ethnl_xfer {
	struct ethnl *nl;
	int maxattr;
	ethnl_parse_fn parse;
	void *arg;
	int done;
	int err;        /* from the kernel's NLMSG_ERROR, negative errno */
	int parse_err;  /* from @parse */
};

/* libnl reports its own error codes; only a few have an errno worth keeping. */
static int ethnl_nlerr(int nlerr)
{
	switch (-nlerr) {
	case NLE_NOMEM: return -ENOMEM;
	case NLE_OBJ_NOTFOUND: return -EPROTONOSUPPORT; /* family not registered */
	case NLE_PERM: return -EPERM;
	case NLE_NODEV: return -ENODEV;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_INVAL: return -EINVAL;
	case NLE_AGAIN: return -EAGAIN;
	case NLE_INTR: return -EINTR;
	default: return -EIO;
	}
}

/*
 * libnl 3.7 knows nothing of extended acks: the TLVs follow the nlmsgerr,
 * after a copy of the request unless the kernel capped it (NETLINK_CAP_ACK).
 */
static void ethnl_extack(struct ethnl *nl, const struct nlmsghdr *hdr)
{
	const struct nlmsgerr *e = NLMSG_DATA(hdr);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = sizeof(*e);

	if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (hdr->nlmsg_len < NLMSG_HDRLEN + off)
		return;
	if (!(hdr->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	off = NLMSG_ALIGN(off);
	if (hdr->nlmsg_len < NLMSG_HDRLEN + off)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)NLMSG_DATA(hdr) + off),
		      (int)(hdr->nlmsg_len - NLMSG_HDRLEN - off), NULL) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(nl->errmsg, sizeof(nl->errmsg), "%s", nla_get_string(tb[NLMSGERR_ATTR_MSG]));
}

static int ethnl_on_valid(struct nl_msg *msg, void *arg)
{
	struct ethnl_xfer *x = arg;
	struct nlattr *tb[ETHNL_TB] = { 0 };
	int err;

	if (!x->parse)
		return NL_OK;
	err = genlmsg_parse(nlmsg_hdr(msg), 0, tb, x->maxattr, NULL);
	if (err < 0) {
		x->parse_err = -EPROTO;
		return NL_OK;
	}
	err = x->parse(tb, x->arg);
	if (err < 0 && !x->parse_err)
		x->parse_err = err;
	return NL_OK;
}

static int ethnl_on_ack(struct nl_msg *msg, void *arg)
{
	struct ethnl_xfer *x = arg;

	ethnl_extack(x->nl, nlmsg_hdr(msg)); /* a warning on success */
	x->done = 1;
	return NL_STOP;
}

static int ethnl_on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct ethnl_xfer *x = arg;

	ethnl_extack(x->nl, (const struct nlmsghdr *)((char *)e - NLMSG_HDRLEN));
	x->err = e->error;
	x->done = 1;
	return NL_STOP;
}

static struct nl_msg *ethnl_msg(struct ethnl *nl, uint8_t cmd, const char *dev, uint32_t flags)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct nlattr *hdr;

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, 0, cmd, ETHTOOL_GENL_VERSION))
		goto fail;
	/* Every ethtool request has its header as attribute 1. */
	hdr = nla_nest_start(msg, ETHTOOL_A_STRSET_HEADER);
	if (!hdr)
		goto fail;
	if (dev && nla_put_string(msg, ETHTOOL_A_HEADER_DEV_NAME, dev) < 0)
		goto fail;
	if (flags && nla_put_u32(msg, ETHTOOL_A_HEADER_FLAGS, flags) < 0)
		goto fail;
	nla_nest_end(msg, hdr);
	return msg;
fail:
	nlmsg_free(msg);
	return NULL;
}

/* Sends @msg (and frees it), feeds each reply to @parse, waits for the ack. */
static int ethnl_xfer(struct ethnl *nl, struct nl_msg *msg, int maxattr,
		      ethnl_parse_fn parse, void *arg)
{
	struct ethnl_xfer x = { .nl = nl, .maxattr = maxattr, .parse = parse, .arg = arg };
	struct nl_cb *cb;
	int err;

	nl->errmsg[0] = '\0';
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		err = -ENOMEM;
		goto out_msg;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, ethnl_on_valid, &x);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, ethnl_on_ack, &x);
	nl_cb_err(cb, NL_CB_CUSTOM, ethnl_on_error, &x);

	err = nl_send_auto(nl->sk, msg);
	if (err < 0) {
		err = ethnl_nlerr(err);
		goto out_cb;
	}
	while (!x.done) {
		err = nl_recvmsgs(nl->sk, cb);
		if (err < 0 && !x.done) {
			err = ethnl_nlerr(err);
			goto out_cb;
		}
	}
	err = x.err ? x.err : x.parse_err;
out_cb:
	nl_cb_put(cb);
out_msg:
	nlmsg_free(msg);
	return err;
}

int ethnl_open(struct ethnl **out)
{
	struct ethnl *nl;
	int one = 1;
	int err;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		err = -ENOMEM;
		goto out_free;
	}
	err = genl_connect(nl->sk);
	if (err < 0) {
		err = ethnl_nlerr(err);
		goto out_sock;
	}
	/* Replies (string sets, statistics) can exceed a page. */
	nl_socket_enable_msg_peek(nl->sk);
	nl->family = genl_ctrl_resolve(nl->sk, ETHTOOL_GENL_NAME);
	if (nl->family < 0) {
		err = -EPROTONOSUPPORT;
		goto out_sock;
	}
	/* Without these the kernel's reason for a refusal is lost; both exist since 4.12. */
	if (setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) < 0 ||
	    setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one)) < 0) {
		err = -errno;
		goto out_sock;
	}
	*out = nl;
	return 0;
out_sock:
	nl_socket_free(nl->sk);
out_free:
	free(nl);
	return err;
}

void ethnl_close(struct ethnl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk);
	free(nl);
}

const char *ethnl_errmsg(const struct ethnl *nl)
{
	return nl->errmsg;
}

/* ---- bitsets ---- */

/*
 * One ethtool bitset unpacked into bools. We always ask for the compact form
 * (ETHTOOL_FLAG_COMPACT_BITSETS): SIZE, then VALUE and MASK as u32 words;
 * without a mask (NOMASK) every bit is in the set.
 */
struct ethnl_bits {
	unsigned int n;
	bool *val;
	bool *mask;
};

static int ethnl_bits_alloc(struct ethnl_bits *b, unsigned int n)
{
	b->n = n;
	b->val = calloc(n ? n : 1, sizeof(bool));
	b->mask = calloc(n ? n : 1, sizeof(bool));
	if (!b->val || !b->mask) {
		free(b->val);
		free(b->mask);
		b->val = b->mask = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void ethnl_bits_free(struct ethnl_bits *b)
{
	free(b->val);
	free(b->mask);
	b->val = b->mask = NULL;
}

static bool ethnl_word_bit(const struct nlattr *a, unsigned int i)
{
	const uint32_t *w = nla_data(a);

	if ((size_t)(i / 32 + 1) * 4 > (size_t)nla_len(a))
		return false;
	return w[i / 32] >> (i % 32) & 1;
}

static int ethnl_bits_parse(struct nlattr *attr, struct ethnl_bits *b)
{
	struct nlattr *tb[ETHTOOL_A_BITSET_MAX + 1];
	unsigned int size;
	bool nomask;

	if (nla_parse_nested(tb, ETHTOOL_A_BITSET_MAX, attr, NULL) < 0 ||
	    !tb[ETHTOOL_A_BITSET_VALUE] || !tb[ETHTOOL_A_BITSET_SIZE])
		return -EPROTO;
	nomask = tb[ETHTOOL_A_BITSET_NOMASK] != NULL;
	size = nla_get_u32(tb[ETHTOOL_A_BITSET_SIZE]);
	for (unsigned int i = 0; i < b->n && i < size; i++) {
		b->val[i] = ethnl_word_bit(tb[ETHTOOL_A_BITSET_VALUE], i);
		b->mask[i] = nomask || (tb[ETHTOOL_A_BITSET_MASK] &&
					ethnl_word_bit(tb[ETHTOOL_A_BITSET_MASK], i));
	}
	return 0;
}

/* Compact form: SIZE, VALUE and MASK words for the bits set in @mask. */
static int ethnl_bits_put(struct nl_msg *msg, int type, const struct ethnl_bits *b)
{
	size_t words = (b->n + 31) / 32;
	uint32_t *val = calloc(words ? words : 1, sizeof(uint32_t));
	uint32_t *mask = calloc(words ? words : 1, sizeof(uint32_t));
	struct nlattr *nest;
	int err = -EMSGSIZE;

	if (!val || !mask) {
		err = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < b->n; i++) {
		if (!b->mask[i])
			continue;
		mask[i / 32] |= 1u << (i % 32);
		if (b->val[i])
			val[i / 32] |= 1u << (i % 32);
	}
	nest = nla_nest_start(msg, type);
	if (!nest)
		goto out;
	if (nla_put_u32(msg, ETHTOOL_A_BITSET_SIZE, b->n) < 0 ||
	    nla_put(msg, ETHTOOL_A_BITSET_VALUE, (int)(words * 4), val) < 0 ||
	    nla_put(msg, ETHTOOL_A_BITSET_MASK, (int)(words * 4), mask) < 0)
		goto out;
	nla_nest_end(msg, nest);
	err = 0;
out:
	free(val);
	free(mask);
	return err;
}

/* ---- link ---- */

static int ethnl_parse_linkmodes(struct nlattr **tb, void *arg)
{
	struct ethnl_link *link = arg;
	struct nlattr *bs[ETHTOOL_A_BITSET_MAX + 1];
	struct nlattr *bit;
	int rem;

	if (tb[ETHTOOL_A_LINKMODES_SPEED])
		link->speed = nla_get_u32(tb[ETHTOOL_A_LINKMODES_SPEED]);
	if (tb[ETHTOOL_A_LINKMODES_DUPLEX])
		link->duplex = nla_get_u8(tb[ETHTOOL_A_LINKMODES_DUPLEX]);
	if (tb[ETHTOOL_A_LINKMODES_AUTONEG])
		link->autoneg = nla_get_u8(tb[ETHTOOL_A_LINKMODES_AUTONEG]) == AUTONEG_ENABLE;
	/* Asked for verbose bitsets: the names come with the bits. Mask is supported, value advertised. */
	if (!tb[ETHTOOL_A_LINKMODES_OURS])
		return 0;
	if (nla_parse_nested(bs, ETHTOOL_A_BITSET_MAX, tb[ETHTOOL_A_LINKMODES_OURS], NULL) < 0 ||
	    !bs[ETHTOOL_A_BITSET_BITS])
		return 0;
	nla_for_each_nested(bit, bs[ETHTOOL_A_BITSET_BITS], rem) {
		struct nlattr *bt[ETHTOOL_A_BITSET_BIT_MAX + 1];
		void *grown;

		if (nla_parse_nested(bt, ETHTOOL_A_BITSET_BIT_MAX, bit, NULL) < 0 ||
		    !bt[ETHTOOL_A_BITSET_BIT_NAME])
			continue;
		if (!bs[ETHTOOL_A_BITSET_NOMASK] && !bt[ETHTOOL_A_BITSET_BIT_VALUE])
			continue; /* supported, not advertised */
		grown = realloc(link->modes, (link->n_modes + 1) * sizeof(*link->modes));
		if (!grown)
			return -ENOMEM;
		link->modes = grown;
		snprintf(link->modes[link->n_modes++], ETH_GSTRING_LEN, "%s",
			 nla_get_string(bt[ETHTOOL_A_BITSET_BIT_NAME]));
	}
	return 0;
}

static int ethnl_parse_linkstate(struct nlattr **tb, void *arg)
{
	struct ethnl_link *link = arg;

	if (tb[ETHTOOL_A_LINKSTATE_LINK])
		link->link_up = nla_get_u8(tb[ETHTOOL_A_LINKSTATE_LINK]) != 0;
	return 0;
}

int ethnl_link_get(struct ethnl *nl, const char *dev, struct ethnl_link *out)
{
	struct nl_msg *msg;
	int err;

	memset(out, 0, sizeof(*out));
	out->speed = ETHNL_SPEED_UNKNOWN;
	out->duplex = DUPLEX_UNKNOWN;
	out->link_up = -1;

	msg = ethnl_msg(nl, ETHTOOL_MSG_LINKMODES_GET, dev, 0);
	if (!msg)
		return -ENOMEM;
	err = ethnl_xfer(nl, msg, ETHTOOL_A_LINKMODES_MAX, ethnl_parse_linkmodes, out);
	/* A driver without link settings is not an error: speed stays unknown. */
	if (err < 0 && err != -EOPNOTSUPP)
		return err;

	msg = ethnl_msg(nl, ETHTOOL_MSG_LINKSTATE_GET, dev, 0);
	if (!msg)
		return -ENOMEM;
	err = ethnl_xfer(nl, msg, ETHTOOL_A_LINKSTATE_MAX, ethnl_parse_linkstate, out);
	if (err < 0 && err != -EOPNOTSUPP)
		return err;
	return 0;
}

void ethnl_link_free(struct ethnl_link *link)
{
	free(link->modes);
	link->modes = NULL;
	link->n_modes = 0;
}

/* ---- channels and rings: tables of (attribute, field) pairs ---- */

struct ethnl_u32_field {
	int attr;
	size_t off;
	const char *name;
};

#define CH(a, f) { ETHTOOL_A_CHANNELS_##a, offsetof(struct ethnl_channels, f), #f }
static const struct ethnl_u32_field ethnl_channel_fields[] = {
	CH(RX_MAX, rx_max), CH(TX_MAX, tx_max), CH(OTHER_MAX, other_max), CH(COMBINED_MAX, combined_max),
	CH(RX_COUNT, rx), CH(TX_COUNT, tx), CH(OTHER_COUNT, other), CH(COMBINED_COUNT, combined),
};
#undef CH
/* The counts that a set sends: the last four entries above. */
#define ETHNL_CHANNEL_COUNTS 4

#define RG(a, f) { ETHTOOL_A_RINGS_##a, offsetof(struct ethnl_rings, f), #f }
static const struct ethnl_u32_field ethnl_ring_fields[] = {
	RG(RX_MAX, rx_max), RG(RX_MINI_MAX, rx_mini_max), RG(RX_JUMBO_MAX, rx_jumbo_max), RG(TX_MAX, tx_max),
	RG(RX, rx), RG(RX_MINI, rx_mini), RG(RX_JUMBO, rx_jumbo), RG(TX, tx),
};
#undef RG
#define ETHNL_RING_COUNTS 4

struct ethnl_u32_parse {
	const struct ethnl_u32_field *fields;
	size_t n;
	void *out;
};

static int ethnl_parse_u32s(struct nlattr **tb, void *arg)
{
	struct ethnl_u32_parse *p = arg;

	for (size_t i = 0; i < p->n; i++)
		if (tb[p->fields[i].attr])
			*(uint32_t *)((char *)p->out + p->fields[i].off) = nla_get_u32(tb[p->fields[i].attr]);
	return 0;
}

static int ethnl_u32s_get(struct ethnl *nl, uint8_t cmd, int maxattr, const char *dev,
			  const struct ethnl_u32_field *fields, size_t n, void *out)
{
	struct ethnl_u32_parse p = { .fields = fields, .n = n, .out = out };
	struct nl_msg *msg = ethnl_msg(nl, cmd, dev, 0);

	if (!msg)
		return -ENOMEM;
	return ethnl_xfer(nl, msg, maxattr, ethnl_parse_u32s, &p);
}

/* Sends the last @counts fields of @fields whose value is not ETHNL_KEEP. */
static int ethnl_u32s_set(struct ethnl *nl, uint8_t cmd, const char *dev,
			  const struct ethnl_u32_field *fields, size_t n, size_t counts,
			  const void *want)
{
	struct nl_msg *msg = ethnl_msg(nl, cmd, dev, 0);

	if (!msg)
		return -ENOMEM;
	for (size_t i = n - counts; i < n; i++) {
		uint32_t v = *(const uint32_t *)((const char *)want + fields[i].off);

		if (v != ETHNL_KEEP && nla_put_u32(msg, fields[i].attr, v) < 0) {
			nlmsg_free(msg);
			return -EMSGSIZE;
		}
	}
	return ethnl_xfer(nl, msg, 0, NULL, NULL);
}

int ethnl_channels_get(struct ethnl *nl, const char *dev, struct ethnl_channels *out)
{
	memset(out, 0, sizeof(*out));
	return ethnl_u32s_get(nl, ETHTOOL_MSG_CHANNELS_GET, ETHTOOL_A_CHANNELS_MAX, dev,
			      ethnl_channel_fields, sizeof(ethnl_channel_fields) / sizeof(ethnl_channel_fields[0]), out);
}

int ethnl_channels_set(struct ethnl *nl, const char *dev, const struct ethnl_channels *want)
{
	return ethnl_u32s_set(nl, ETHTOOL_MSG_CHANNELS_SET, dev, ethnl_channel_fields,
			      sizeof(ethnl_channel_fields) / sizeof(ethnl_channel_fields[0]),
			      ETHNL_CHANNEL_COUNTS, want);
}

const char *ethnl_channels_over_max(const struct ethnl_channels *cur,
				    const struct ethnl_channels *want, uint32_t *max)
{
	const struct { const char *name; uint32_t want, max; } kinds[] = {
		{ "rx", want->rx, cur->rx_max },
		{ "tx", want->tx, cur->tx_max },
		{ "other", want->other, cur->other_max },
		{ "combined", want->combined, cur->combined_max },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (kinds[i].want == ETHNL_KEEP || kinds[i].want <= kinds[i].max)
			continue;
		if (max)
			*max = kinds[i].max;
		return kinds[i].name;
	}
	return NULL;
}

int ethnl_rings_get(struct ethnl *nl, const char *dev, struct ethnl_rings *out)
{
	memset(out, 0, sizeof(*out));
	return ethnl_u32s_get(nl, ETHTOOL_MSG_RINGS_GET, ETHTOOL_A_RINGS_MAX, dev,
			      ethnl_ring_fields, sizeof(ethnl_ring_fields) / sizeof(ethnl_ring_fields[0]), out);
}

int ethnl_rings_set(struct ethnl *nl, const char *dev, const struct ethnl_rings *want)
{
	return ethnl_u32s_set(nl, ETHTOOL_MSG_RINGS_SET, dev, ethnl_ring_fields,
			      sizeof(ethnl_ring_fields) / sizeof(ethnl_ring_fields[0]),
			      ETHNL_RING_COUNTS, want);
}

/* ---- features ---- */

/* The feature names: the kernel's ETH_SS_FEATURES string set. */
static int ethnl_parse_strset(struct nlattr **tb, void *arg)
{
	struct ethnl_features *fs = arg;
	struct nlattr *set, *str;
	int rem, rem2;

	if (!tb[ETHTOOL_A_STRSET_STRINGSETS])
		return -EPROTO;
	nla_for_each_nested(set, tb[ETHTOOL_A_STRSET_STRINGSETS], rem) {
		struct nlattr *st[ETHTOOL_A_STRINGSET_MAX + 1];
		unsigned int count;

		if (nla_parse_nested(st, ETHTOOL_A_STRINGSET_MAX, set, NULL) < 0)
			return -EPROTO;
		if (!st[ETHTOOL_A_STRINGSET_ID] || nla_get_u32(st[ETHTOOL_A_STRINGSET_ID]) != ETH_SS_FEATURES ||
		    !st[ETHTOOL_A_STRINGSET_COUNT])
			continue;
		count = nla_get_u32(st[ETHTOOL_A_STRINGSET_COUNT]);
		if (count > 4096)
			return -EPROTO;
		fs->f = calloc(count ? count : 1, sizeof(*fs->f));
		if (!fs->f)
			return -ENOMEM;
		fs->count = count;
		if (!st[ETHTOOL_A_STRINGSET_STRINGS])
			return 0;
		nla_for_each_nested(str, st[ETHTOOL_A_STRINGSET_STRINGS], rem2) {
			struct nlattr *s[ETHTOOL_A_STRING_MAX + 1];
			unsigned int i;

			if (nla_parse_nested(s, ETHTOOL_A_STRING_MAX, str, NULL) < 0 ||
			    !s[ETHTOOL_A_STRING_INDEX] || !s[ETHTOOL_A_STRING_VALUE])
				continue;
			i = nla_get_u32(s[ETHTOOL_A_STRING_INDEX]);
			if (i < count)
				snprintf(fs->f[i].name, ETH_GSTRING_LEN, "%s", nla_get_string(s[ETHTOOL_A_STRING_VALUE]));
		}
		return 0;
	}
	return -EPROTO;
}

static int ethnl_feature_names(struct ethnl *nl, const char *dev, struct ethnl_features *fs)
{
	struct nl_msg *msg = ethnl_msg(nl, ETHTOOL_MSG_STRSET_GET, dev, 0);
	struct nlattr *sets, *set;

	if (!msg)
		return -ENOMEM;
	sets = nla_nest_start(msg, ETHTOOL_A_STRSET_STRINGSETS);
	if (!sets)
		goto fail;
	set = nla_nest_start(msg, ETHTOOL_A_STRINGSETS_STRINGSET);
	if (!set || nla_put_u32(msg, ETHTOOL_A_STRINGSET_ID, ETH_SS_FEATURES) < 0)
		goto fail;
	nla_nest_end(msg, set);
	nla_nest_end(msg, sets);
	return ethnl_xfer(nl, msg, ETHTOOL_A_STRSET_MAX, ethnl_parse_strset, fs);
fail:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

struct ethnl_features_parse {
	struct ethnl_bits hw, wanted, active, nochange;
};

static int ethnl_parse_features(struct nlattr **tb, void *arg)
{
	struct ethnl_features_parse *p = arg;
	const struct { int attr; struct ethnl_bits *b; } sets[] = {
		{ ETHTOOL_A_FEATURES_HW, &p->hw },
		{ ETHTOOL_A_FEATURES_WANTED, &p->wanted },
		{ ETHTOOL_A_FEATURES_ACTIVE, &p->active },
		{ ETHTOOL_A_FEATURES_NOCHANGE, &p->nochange },
	};

	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		int err;

		if (!tb[sets[i].attr])
			return -EPROTO;
		err = ethnl_bits_parse(tb[sets[i].attr], sets[i].b);
		if (err < 0)
			return err;
	}
	return 0;
}

int ethnl_features_get(struct ethnl *nl, const char *dev, struct ethnl_features *out)
{
	struct ethnl_features_parse p = { 0 };
	struct nl_msg *msg;
	int err;

	memset(out, 0, sizeof(*out));
	err = ethnl_feature_names(nl, dev, out);
	if (err < 0)
		goto fail;
	err = -ENOMEM;
	if (ethnl_bits_alloc(&p.hw, out->count) < 0 || ethnl_bits_alloc(&p.wanted, out->count) < 0 ||
	    ethnl_bits_alloc(&p.active, out->count) < 0 || ethnl_bits_alloc(&p.nochange, out->count) < 0)
		goto out_bits;
	msg = ethnl_msg(nl, ETHTOOL_MSG_FEATURES_GET, dev, ETHTOOL_FLAG_COMPACT_BITSETS);
	if (!msg)
		goto out_bits;
	err = ethnl_xfer(nl, msg, ETHTOOL_A_FEATURES_MAX, ethnl_parse_features, &p);
	if (err < 0)
		goto out_bits;
	for (unsigned int i = 0; i < out->count; i++) {
		out->f[i].active = p.active.val[i];
		out->f[i].wanted = p.wanted.val[i];
		/* As ethtool's "[fixed]": not changeable by the driver, or never by anyone. */
		out->f[i].fixed = !p.hw.val[i] || p.nochange.val[i];
	}
out_bits:
	ethnl_bits_free(&p.hw);
	ethnl_bits_free(&p.wanted);
	ethnl_bits_free(&p.active);
	ethnl_bits_free(&p.nochange);
	if (err < 0)
		goto fail;
	return 0;
fail:
	ethnl_features_free(out);
	return err;
}

void ethnl_features_free(struct ethnl_features *fs)
{
	free(fs->f);
	fs->f = NULL;
	fs->count = 0;
}

const struct ethnl_feature *ethnl_feature_find(const struct ethnl_features *fs, const char *name)
{
	for (unsigned int i = 0; i < fs->count; i++)
		if (fs->f[i].name[0] && !strcmp(fs->f[i].name, name))
			return &fs->f[i];
	return NULL;
}

/* The names the ethtool program accepts for -K, with the kernel features each stands for (its off_flag_def). */
static const struct {
	const char *short_name, *long_name, *pattern;
} ethnl_offload_names[] = {
	{ "rx", "rx-checksumming", "rx-checksum" },
	{ "tx", "tx-checksumming", "tx-checksum-*" },
	{ "sg", "scatter-gather", "tx-scatter-gather*" },
	{ "tso", "tcp-segmentation-offload", "tx-tcp*-segmentation" },
	{ "ufo", "udp-fragmentation-offload", "tx-udp-fragmentation" },
	{ "gso", "generic-segmentation-offload", "tx-generic-segmentation" },
	{ "gro", "generic-receive-offload", "rx-gro" },
	{ "lro", "large-receive-offload", "rx-lro" },
	{ "rxvlan", "rx-vlan-offload", "rx-vlan-hw-parse" },
	{ "txvlan", "tx-vlan-offload", "tx-vlan-hw-insert" },
	{ "ntuple", "ntuple-filters", "rx-ntuple-filter" },
	{ "rxhash", "receive-hashing", "rx-hashing" },
};

int ethnl_feature_expand(const struct ethnl_features *fs, const char *name,
			 unsigned int *idx, unsigned int max)
{
	const struct ethnl_feature *f = ethnl_feature_find(fs, name);
	unsigned int n = 0;

	if (f) {
		if (max < 1)
			return -ENOSPC;
		idx[0] = (unsigned int)(f - fs->f);
		return 1;
	}
	for (size_t k = 0; k < sizeof(ethnl_offload_names) / sizeof(ethnl_offload_names[0]); k++) {
		const char *pat = ethnl_offload_names[k].pattern;

		if (strcmp(name, ethnl_offload_names[k].short_name) && strcmp(name, ethnl_offload_names[k].long_name))
			continue;
		/* Changeable ones first; if there are none, all of them, so that the kernel's answer says why. */
		for (int pass = 0; pass < 2 && n == 0; pass++) {
			for (unsigned int i = 0; i < fs->count; i++) {
				if (!fs->f[i].name[0] || fnmatch(pat, fs->f[i].name, 0))
					continue;
				if (pass == 0 && fs->f[i].fixed)
					continue;
				if (n == max)
					return -ENOSPC;
				idx[n++] = i;
			}
		}
		return n ? (int)n : -ENOENT;
	}
	return -ENOENT;
}

struct ethnl_features_reply {
	struct ethnl_bits wanted, active;
};

static int ethnl_parse_features_reply(struct nlattr **tb, void *arg)
{
	struct ethnl_features_reply *r = arg;
	int err;

	if (tb[ETHTOOL_A_FEATURES_WANTED]) {
		err = ethnl_bits_parse(tb[ETHTOOL_A_FEATURES_WANTED], &r->wanted);
		if (err < 0)
			return err;
	}
	if (tb[ETHTOOL_A_FEATURES_ACTIVE]) {
		err = ethnl_bits_parse(tb[ETHTOOL_A_FEATURES_ACTIVE], &r->active);
		if (err < 0)
			return err;
	}
	return 0;
}

int ethnl_features_set(struct ethnl *nl, const char *dev, const struct ethnl_feature_req *req,
		       unsigned int n, struct ethnl_features_result *res)
{
	struct ethnl_features fs;
	struct ethnl_features_reply r = { 0 };
	struct ethnl_bits want = { 0 };
	unsigned int *idx = NULL;
	struct nl_msg *msg;
	int err;

	if (res)
		memset(res, 0, sizeof(*res));
	/* The current state: names for the bits, and the expansion of ethtool's names. */
	err = ethnl_features_get(nl, dev, &fs);
	if (err < 0)
		return err;
	err = -ENOMEM;
	idx = calloc(fs.count ? fs.count : 1, sizeof(*idx));
	if (!idx || ethnl_bits_alloc(&want, fs.count) < 0 || ethnl_bits_alloc(&r.wanted, fs.count) < 0 ||
	    ethnl_bits_alloc(&r.active, fs.count) < 0)
		goto out;
	for (unsigned int k = 0; k < n; k++) {
		int m = ethnl_feature_expand(&fs, req[k].name, idx, fs.count);

		if (m < 0) {
			err = m;
			snprintf(nl->errmsg, sizeof(nl->errmsg), "unknown feature '%s'", req[k].name);
			goto out;
		}
		for (int j = 0; j < m; j++) {
			want.mask[idx[j]] = true;
			want.val[idx[j]] = req[k].on;
		}
	}

	err = -ENOMEM;
	msg = ethnl_msg(nl, ETHTOOL_MSG_FEATURES_SET, dev, ETHTOOL_FLAG_COMPACT_BITSETS);
	if (!msg)
		goto out;
	err = ethnl_bits_put(msg, ETHTOOL_A_FEATURES_WANTED, &want);
	if (err < 0) {
		nlmsg_free(msg);
		goto out;
	}
	/*
	 * The reply holds two differences: WANTED, the requested bits whose
	 * state is not what was asked; ACTIVE, every bit whose active state
	 * changed, dependencies included, with its new value.
	 */
	err = ethnl_xfer(nl, msg, ETHTOOL_A_FEATURES_MAX, ethnl_parse_features_reply, &r);
	if (err < 0 || !res)
		goto out;
	for (unsigned int i = 0; i < fs.count; i++) {
		struct ethnl_feature_change *c;

		if (!r.wanted.mask[i] && !r.active.mask[i])
			continue;
		c = realloc(res->c, (res->count + 1) * sizeof(*res->c));
		if (!c) {
			ethnl_features_result_free(res);
			err = -ENOMEM;
			goto out;
		}
		res->c = c;
		c = &res->c[res->count++];
		memset(c, 0, sizeof(*c));
		memcpy(c->name, fs.f[i].name, sizeof(c->name));
		c->requested = want.mask[i];
		c->active_changed = r.active.mask[i];
		c->active = r.active.mask[i] ? r.active.val[i] : fs.f[i].active;
		c->not_as_requested = r.wanted.mask[i];
	}
out:
	ethnl_bits_free(&want);
	ethnl_bits_free(&r.wanted);
	ethnl_bits_free(&r.active);
	free(idx);
	ethnl_features_free(&fs);
	return err;
}

void ethnl_features_result_free(struct ethnl_features_result *res)
{
	free(res->c);
	res->c = NULL;
	res->count = 0;
}
