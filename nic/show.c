/* show.c - `zcgen nic show`: driver, link, channels, rings, features, and each TX queue's IRQs, XPS and counters */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nic/nic.h"
#include "nic/ethnl.h"
#include "nic/drvinfo.h"
#include "nic/irq.h"
#include "nic/xps.h"
#include "nic/qstats.h"
#include "nic/cpulist.h"

_Static_assert(NIC_SHOW_MAX_IRQS == IRQ_MAX_PER_QUEUE, "nic_show_queue holds a queue's IRQs");

int nic_features_read(const char *dev, struct ethnl_features *out)
{
	struct ethnl *nl = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = ethnl_open(&nl);
	if (!ret)
		ret = ethnl_features_get(nl, dev, out);
	ethnl_close(nl);
	return ret;
}

void nic_show_free(struct nic_show *s)
{
	ethnl_features_free(&s->features);
	free(s->q);
	s->q = NULL;
	s->nqueues = 0;
}

/* One TX queue: its IRQs and their CPUs, its XPS CPUs, its counters from @tx. */
static void show_queue(const char *dev, unsigned int q, const struct irq_table *it,
		       const struct qstats_tx *tx, struct nic_show_queue *e)
{
	cpu_set_t set, one;
	bool have = false;

	CPU_ZERO(&set);
	for (unsigned int k = 0; q < it->nqueues && k < it->q[q].nirqs; k++) {
		e->irq[e->nirqs++] = it->q[q].irq[k];
		if (!irq_affinity_get("", it->q[q].irq[k], e->irq_cpus, sizeof(e->irq_cpus)) &&
		    !cpulist_parse(e->irq_cpus, &one)) {
			CPU_OR(&set, &set, &one);
			have = true;
		}
	}
	e->irq_cpus_known = have && !cpulist_format(&set, e->irq_cpus, sizeof(e->irq_cpus));
	if (!e->irq_cpus_known)
		e->irq_cpus[0] = '\0';
	e->xps_cpus_known = !xps_get("", dev, q, &set) &&
			    !cpulist_format(&set, e->xps_cpus, sizeof(e->xps_cpus));
	if (!e->xps_cpus_known)
		e->xps_cpus[0] = '\0';
	if (tx->source != QSTATS_SRC_NONE && q < tx->nqueues) {
		e->has_tx = true;
		e->tx_bytes = tx->q[q].bytes;
		e->tx_packets = tx->q[q].packets;
	}
}

int nic_show_read(const char *dev, struct nic_show *out, char *err, size_t errlen)
{
	struct ethnl *nl = NULL;
	struct drvinfo di;
	struct ethnl_link link = { 0 };
	struct irq_table it = { 0 };
	struct qstats_ctx qc = { 0 };
	struct qstats_tx *tx = calloc(1, sizeof(*tx));
	unsigned int ntx = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!tx) {
		ret = -ENOMEM;
		goto out;
	}
	if (!if_nametoindex(dev)) {
		snprintf(err, errlen, "%s: no such device in this network namespace", dev);
		ret = -ENODEV;
		goto out;
	}
	ret = ethnl_open(&nl);
	if (ret) {
		snprintf(err, errlen, "cannot open ethtool netlink: %s", strerror(-ret));
		goto out;
	}
	snprintf(out->device, sizeof(out->device), "%s", dev);
	if (!drvinfo_get(dev, &di)) {
		out->have_driver = true;
		memcpy(out->driver, di.driver, sizeof(out->driver));
		memcpy(out->driver_version, di.version, sizeof(out->driver_version));
		memcpy(out->bus_info, di.bus_info, sizeof(out->bus_info));
	}
	ret = ethnl_link_get(nl, dev, &link);
	out->have_speed = !ret && link.speed != ETHNL_SPEED_UNKNOWN;
	out->speed_mbps = out->have_speed ? link.speed : 0;
	ethnl_link_free(&link);
	out->have_channels = !ethnl_channels_get(nl, dev, &out->channels);
	out->have_rings = !ethnl_rings_get(nl, dev, &out->rings);
	ret = ethnl_features_get(nl, dev, &out->features);
	if (ret) {
		snprintf(err, errlen, "%s: cannot read features: %s", dev, strerror(-ret));
		goto out;
	}
	ret = irq_discover("", dev, &it);
	if (ret) {
		snprintf(err, errlen, "%s: cannot find its IRQs: %s", dev, strerror(-ret));
		goto out;
	}
	out->irq_source = irq_source_name(it.source);
	tx->source = QSTATS_SRC_NONE;
	if (qstats_open(&qc, drvinfo_stats_each, NULL) || qstats_tx_read(&qc, dev, tx))
		tx->source = QSTATS_SRC_NONE;
	out->counter_source = qstats_source_name(tx->source);
	out->tx_no_bytes = tx->source != QSTATS_SRC_NONE && tx->no_bytes;
	ret = xps_tx_count("", dev, &ntx);
	if (ret) {
		snprintf(err, errlen, "%s: cannot count its TX queues: %s", dev, strerror(-ret));
		goto out;
	}
	out->q = calloc(ntx ? ntx : 1, sizeof(*out->q));
	if (!out->q) {
		ret = -ENOMEM;
		goto out;
	}
	out->nqueues = ntx;
	for (unsigned int q = 0; q < ntx; q++)
		show_queue(dev, q, &it, tx, &out->q[q]);
	ret = 0;
out:
	qstats_close(&qc);
	irq_table_free(&it);
	ethnl_close(nl);
	free(tx);
	return ret;
}
