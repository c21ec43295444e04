/* drvinfo.h - what the kernel gives only through the SIOCETHTOOL ioctl: driver identity and its own statistics */
#ifndef ZCGEN_NIC_DRVINFO_H
#define ZCGEN_NIC_DRVINFO_H

#include <stdint.h>
#include <linux/ethtool.h> /* ETH_GSTRING_LEN */

/*
 * Both calls act on the network namespace of the calling thread (the ioctl
 * goes through a socket made for the call). They return 0 or -errno.
 */

struct drvinfo {
	char driver[32];     /* "mlx5_core", "virtio_net", "veth" */
	char version[32];
	char fw_version[32];
	char bus_info[32];   /* PCI address where there is one, "" on veth */
};

/**
 * drvinfo_get() - the driver's name and version (`ethtool -i`)
 * @dev: interface name
 * @out: filled
 *
 * Return: 0, -ENODEV for an unknown device, -EOPNOTSUPP, or another -errno.
 */
int drvinfo_get(const char *dev, struct drvinfo *out);

/* The driver's statistics (`ethtool -S`): names and values in the driver's order. */
struct drvinfo_stats {
	unsigned int count;
	char (*names)[ETH_GSTRING_LEN];
	uint64_t *values;
};

/**
 * drvinfo_stats_get() - the driver's own counters (`ethtool -S`)
 * @dev: interface name
 * @out: filled; free with drvinfo_stats_free() (also safe after an error)
 *
 * These often include per-queue counters under driver-specific names
 * (veth: rx_queue_0_xdp_packets; mlx5: tx0_bytes; Intel: tx-0.bytes).
 *
 * Return: 0; -EOPNOTSUPP when the driver has no statistics; -EAGAIN when
 * their number changed while reading (channels were being changed: retry);
 * or another -errno.
 */
int drvinfo_stats_get(const char *dev, struct drvinfo_stats *out);
void drvinfo_stats_free(struct drvinfo_stats *st);

/**
 * drvinfo_stats_each() - drvinfo_stats_get(), handed out one counter at a time
 * @unused: ignored; there so that this fits qstats_drv_fn (nic/qstats.h) as is
 * @dev: interface name
 * @each: called once per counter, in the driver's order
 * @each_ctx: passed to @each
 *
 * Return: as drvinfo_stats_get().
 */
int drvinfo_stats_each(void *unused, const char *dev,
		       void (*each)(void *ctx, const char *name, uint64_t value), void *each_ctx);

/**
 * drvinfo_stat_find() - one counter by its exact name
 *
 * Return: index into @st->names and @st->values, or -ENOENT.
 */
int drvinfo_stat_find(const struct drvinfo_stats *st, const char *name);

#endif
