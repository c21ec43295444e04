/* drvinfo.c - driver identity and driver statistics through the SIOCETHTOOL ioctl */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/sockios.h>

#include "nic/nic.h"
#include "nic/drvinfo.h"

/* Any socket carries SIOCETHTOOL; a datagram one needs no connection. */
static int drvinfo_ioctl(const char *dev, void *cmd)
{
	struct ifreq ifr;
	int fd, err = 0;

	if (strlen(dev) >= IFNAMSIZ)
		return -ENODEV;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, dev, strlen(dev));
	ifr.ifr_data = cmd;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* @dst has 32 bytes, as every field of struct drvinfo. */
static void drvinfo_copy(char *dst, const char *src, size_t srclen)
{
	size_t n = strnlen(src, srclen);

	if (n > 31)
		n = 31;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int drvinfo_get(const char *dev, struct drvinfo *out)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	int err;

	memset(out, 0, sizeof(*out));
	err = drvinfo_ioctl(dev, &di);
	if (err < 0)
		return err;
	/* The kernel's fields are NUL-padded but not promised NUL-terminated. */
	drvinfo_copy(out->driver, di.driver, sizeof(di.driver));
	drvinfo_copy(out->version, di.version, sizeof(di.version));
	drvinfo_copy(out->fw_version, di.fw_version, sizeof(di.fw_version));
	drvinfo_copy(out->bus_info, di.bus_info, sizeof(di.bus_info));
	return 0;
}

static int drvinfo_stats_count(const char *dev, unsigned int *count)
{
	struct {
		struct ethtool_sset_info hdr;
		uint32_t len;
	} si = { .hdr = { .cmd = ETHTOOL_GSSET_INFO, .sset_mask = 1ULL << ETH_SS_STATS } };
	int err = drvinfo_ioctl(dev, &si);

	if (err < 0)
		return err;
	if (!(si.hdr.sset_mask & (1ULL << ETH_SS_STATS)) || si.len == 0)
		return -EOPNOTSUPP;
	*count = si.len;
	return 0;
}

/*
 * The kernel writes as many names and values as the driver has *now*,
 * whatever count we asked with; a channel change between our calls could
 * make it write more. Room for some extra absorbs that, and a count that
 * moved is reported as -EAGAIN.
 */
#define DRVINFO_SLACK 256

int drvinfo_stats_get(const char *dev, struct drvinfo_stats *out)
{
	struct ethtool_gstrings *gs = NULL;
	struct ethtool_stats *gst = NULL;
	unsigned int n;
	int err;

	memset(out, 0, sizeof(*out));
	err = drvinfo_stats_count(dev, &n);
	if (err < 0)
		return err;
	if (n > 1u << 20)
		return -EOVERFLOW;
	gs = calloc(1, sizeof(*gs) + (size_t)(n + DRVINFO_SLACK) * ETH_GSTRING_LEN);
	gst = calloc(1, sizeof(*gst) + (size_t)(n + DRVINFO_SLACK) * sizeof(uint64_t));
	if (!gs || !gst) {
		err = -ENOMEM;
		goto out;
	}
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_STATS;
	gs->len = n;
	err = drvinfo_ioctl(dev, gs);
	if (err < 0)
		goto out;
	gst->cmd = ETHTOOL_GSTATS;
	gst->n_stats = n;
	err = drvinfo_ioctl(dev, gst);
	if (err < 0)
		goto out;
	if (gs->len != n || gst->n_stats != n) {
		err = -EAGAIN;
		goto out;
	}
	out->names = calloc(n, ETH_GSTRING_LEN);
	out->values = calloc(n, sizeof(uint64_t));
	if (!out->names || !out->values) {
		err = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < n; i++) {
		memcpy(out->names[i], gs->data + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN - 1);
		out->names[i][ETH_GSTRING_LEN - 1] = '\0';
		out->values[i] = gst->data[i];
	}
	out->count = n;
out:
	if (err < 0)
		drvinfo_stats_free(out);
	free(gs);
	free(gst);
	return err;
}

void drvinfo_stats_free(struct drvinfo_stats *st)
{
	free(st->names);
	free(st->values);
	st->names = NULL;
	st->values = NULL;
	st->count = 0;
}

int drvinfo_stats_each(void *unused, const char *dev,
		       void (*each)(void *ctx, const char *name, uint64_t value), void *each_ctx)
{
	struct drvinfo_stats st;
	int err = drvinfo_stats_get(dev, &st);

	if (err < 0)
		return err;
	for (unsigned int i = 0; i < st.count; i++)
		each(each_ctx, st.names[i], st.values[i]);
	drvinfo_stats_free(&st);
	return 0;
}

int drvinfo_stat_find(const struct drvinfo_stats *st, const char *name)
{
	for (unsigned int i = 0; i < st->count; i++)
		if (!strcmp(st->names[i], name))
			return (int)i;
	return -ENOENT;
}

int nic_driver_name(const char *dev, char *buf, size_t len)
{
	struct drvinfo di;
	int ret = drvinfo_get(dev, &di);

	if (ret)
		return ret;
	snprintf(buf, len, "%s", di.driver);
	return 0;
}
