/* ethnl.h - the ethtool generic-netlink family through libnl: link, channels, rings, features */
#ifndef ZCGEN_NIC_ETHNL_H
#define ZCGEN_NIC_ETHNL_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/ethtool.h> /* ETH_GSTRING_LEN */

#include "nic/nic.h" /* the feature, channel and ring types */

/*
 * A struct ethnl is one generic-netlink socket bound to the ethtool family.
 * It speaks to the network namespace of the thread that opened it (netlink
 * sockets keep the namespace they were created in), so a caller that works
 * on a lab device opens it after setns(). One per thread: it is not locked.
 *
 * Every function returns 0 or -errno. When the kernel refused a request,
 * ethnl_errmsg() holds the kernel's extended ack message (the text `ethtool`
 * prints after "netlink error:"); for errors found before anything was sent
 * (an unknown feature name) it holds our own explanation.
 */
struct ethnl;

/* In a set request, a field left at ETHNL_KEEP is not sent: the kernel keeps it. */
#define ETHNL_KEEP UINT32_MAX
/* Link speed when the driver does not know it (no carrier, virtual device). */
#define ETHNL_SPEED_UNKNOWN UINT32_MAX

/**
 * ethnl_open() - connect to the ethtool generic-netlink family
 * @out: the new handle, to be freed with ethnl_close()
 *
 * Also asks for extended acks (NETLINK_EXT_ACK), so that refusals carry the
 * kernel's message.
 *
 * Return: 0, -EPROTONOSUPPORT when the kernel has no ethtool netlink
 * (before 5.6), or another -errno.
 */
int ethnl_open(struct ethnl **out);

/** ethnl_close() - free a handle from ethnl_open(); NULL is allowed */
void ethnl_close(struct ethnl *nl);

/**
 * ethnl_errmsg() - why the last request failed, in words
 * @nl: handle
 *
 * Return: the kernel's extended ack message for the last request (also a
 * warning the kernel attached to a success), our own explanation for an
 * error found before sending, or "" when there is none. Valid until the
 * next request on @nl.
 */
const char *ethnl_errmsg(const struct ethnl *nl);

struct ethnl_link {
	uint32_t speed;      /* Mbit/s, or ETHNL_SPEED_UNKNOWN */
	uint8_t duplex;      /* DUPLEX_HALF, DUPLEX_FULL or DUPLEX_UNKNOWN (linux/ethtool.h) */
	bool autoneg;
	int link_up;         /* 1 up, 0 down, -1 the driver does not say */
	unsigned int n_modes;                 /* advertised link modes */
	char (*modes)[ETH_GSTRING_LEN];       /* their kernel names ("100000baseCR4/Full") */
};

/**
 * ethnl_link_get() - speed, duplex, autonegotiation, carrier and advertised modes
 * @nl: handle
 * @dev: interface name
 * @out: filled; free with ethnl_link_free() also after an error
 *
 * Return: 0, -ENODEV for an unknown device, or another -errno. A driver
 * without link settings gives speed ETHNL_SPEED_UNKNOWN and no modes, not an error.
 */
int ethnl_link_get(struct ethnl *nl, const char *dev, struct ethnl_link *out);
void ethnl_link_free(struct ethnl_link *link);

/**
 * ethnl_channels_get() - current and maximum channel counts
 * @nl: handle
 * @dev: interface name
 * @out: filled (all counts 0 where the kernel leaves one out)
 *
 * Return: 0, -ENODEV, -EOPNOTSUPP when the driver has no channels, or another -errno.
 */
int ethnl_channels_get(struct ethnl *nl, const char *dev, struct ethnl_channels *out);

/**
 * ethnl_channels_set() - change channel counts
 * @nl: handle
 * @dev: interface name
 * @want: the counts to set; a count at ETHNL_KEEP is not sent; the *_max
 *        fields are ignored
 *
 * The kernel checks the counts against its maximums and refuses the whole
 * request (-EINVAL, "requested channel count exceeds maximum") without
 * changing anything; check first with ethnl_channels_over_max() to name the limit.
 *
 * Return: 0 or -errno, with ethnl_errmsg() set when the kernel refused.
 */
int ethnl_channels_set(struct ethnl *nl, const char *dev, const struct ethnl_channels *want);

/**
 * ethnl_channels_over_max() - the first requested count above the device's maximum
 * @cur: counts and maximums from ethnl_channels_get()
 * @want: requested counts (ETHNL_KEEP fields are skipped)
 * @max: where the maximum of the offending kind goes (may be NULL)
 *
 * Return: "rx", "tx", "other" or "combined" for the first count over its
 * maximum (a kind the device lacks has maximum 0), or NULL when all fit.
 */
const char *ethnl_channels_over_max(const struct ethnl_channels *cur,
				    const struct ethnl_channels *want, uint32_t *max);

/**
 * ethnl_rings_get() - current and maximum ring sizes
 *
 * Return: 0, -ENODEV, -EOPNOTSUPP when the driver has no ring settings
 * (veth), or another -errno.
 */
int ethnl_rings_get(struct ethnl *nl, const char *dev, struct ethnl_rings *out);

/**
 * ethnl_rings_set() - change ring sizes; fields at ETHNL_KEEP are not sent
 *
 * Return: 0 or -errno, with ethnl_errmsg() set when the kernel refused.
 */
int ethnl_rings_set(struct ethnl *nl, const char *dev, const struct ethnl_rings *want);

/**
 * ethnl_features_get() - every feature of a device with its state
 * @nl: handle
 * @dev: interface name
 * @out: filled; free with ethnl_features_free() (also safe after an error)
 *
 * Names come from the kernel's feature string set, so features newer than
 * our headers appear too.
 *
 * Return: 0, -ENODEV or another -errno.
 */
int ethnl_features_get(struct ethnl *nl, const char *dev, struct ethnl_features *out);

/**
 * ethnl_feature_find() - a feature by its kernel name
 *
 * Return: the feature, or NULL when @fs has none of that name.
 */
const struct ethnl_feature *ethnl_feature_find(const struct ethnl_features *fs, const char *name);

/**
 * ethnl_features_set() - turn features on or off and report what changed
 * @nl: handle
 * @dev: interface name
 * @req: the changes; names are resolved as by ethnl_feature_expand()
 * @n: number of entries in @req
 * @res: if not NULL, filled with every feature the kernel reports as changed
 *       or not set as requested; features dragged along by a dependency
 *       (scatter-gather off takes TSO and GSO with it) have requested false
 *       and active_changed true. Free with ethnl_features_result_free().
 *
 * Names are all checked before anything is sent: an unknown one gives
 * -ENOENT, with ethnl_errmsg() naming it, and nothing changes.
 *
 * Return: 0 or -errno, with ethnl_errmsg() set when the kernel refused.
 */
int ethnl_features_set(struct ethnl *nl, const char *dev, const struct ethnl_feature_req *req,
		       unsigned int n, struct ethnl_features_result *res);

#endif
