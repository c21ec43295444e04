/* apply.c - plan and apply a nic: configuration (channels, offloads, IRQ affinity, XPS) */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nic/testhook.h"
#include "nic/nic.h"
#include "nic/state.h"
#include "nic/safety.h"
#include "nic/ethnl.h"
#include "nic/drvinfo.h"
#include "nic/irq.h"
#include "nic/xps.h"
#include "nic/qstats.h"
#include "nic/cpulist.h"
#include "nic/link.h"

struct nic_applied {
	struct nic_lock lk;
	struct ethnl *nl;
	json_t *snap;          /* this apply's own "before", for nic_undo() */
	bool own_state;        /* the state file is ours (not an earlier pin's) */
	char ifname[IF_NAMESIZE];
	char root[256];
};

/* Everything one apply works with; built by the checks, used by the changes. */
struct plan {
	const struct nic_apply_cfg *cfg;
	const char *root, *dev;
	struct ethnl *nl;
	bool has_channels;
	struct ethnl_channels cur, want;  /* want: ETHNL_KEEP where unchanged */
	unsigned int ntx_before, ntx_after;
	unsigned int mtu_before;          /* with cfg->mtu */
};

static int vadd(char ***v, unsigned int *n, const char *fmt, va_list ap)
{
	char **nv, *s;

	if (vasprintf(&s, fmt, ap) < 0)
		return -ENOMEM;
	nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	nv[(*n)++] = s;
	*v = nv;
	return 0;
}

__attribute__((format(printf, 2, 3))) static void line(struct nic_apply_out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd(&o->lines, &o->n_lines, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 2, 3))) static void note(struct nic_apply_out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd(&o->notes, &o->n_notes, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4))) static int fail(struct nic_apply_out *o, int ret,
						     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->err, sizeof(o->err), fmt, ap);
	va_end(ap);
	return ret;
}

void nic_apply_out_free(struct nic_apply_out *out)
{
	for (unsigned int i = 0; i < out->n_lines; i++)
		free(out->lines[i]);
	for (unsigned int i = 0; i < out->n_notes; i++)
		free(out->notes[i]);
	free(out->lines);
	free(out->notes);
	out->lines = out->notes = NULL;
	out->n_lines = out->n_notes = 0;
}

static const char *kmsg(struct ethnl *nl, int ret, char *buf, size_t len)
{
	const char *m = ethnl_errmsg(nl);

	snprintf(buf, len, "%s%s%s", m && *m ? m : "", m && *m ? ": " : "", strerror(-ret));
	return buf;
}

static unsigned int tx_total(const struct ethnl_channels *cur, const struct ethnl_channels *want)
{
	uint32_t comb = want->combined != ETHNL_KEEP ? want->combined : cur->combined;
	uint32_t tx = want->tx != ETHNL_KEEP ? want->tx : cur->tx;

	return comb + tx;
}

/* Channels: what to set, checked against the device's maximums. */
static int plan_channels(struct plan *p, struct nic_apply_out *o)
{
	const struct nic_apply_cfg *cfg = p->cfg;
	bool given = cfg->combined >= 0 || cfg->rx >= 0 || cfg->tx >= 0;
	const char *kind;
	uint32_t max = 0;
	int ret;

	p->want.rx = p->want.tx = p->want.other = p->want.combined = ETHNL_KEEP;
	ret = xps_tx_count(p->root, p->dev, &p->ntx_before);
	if (ret)
		return fail(o, ret, "%s: cannot count its TX queues: %s", p->dev, strerror(-ret));
	if (cfg->keep_channels) {
		p->ntx_after = p->ntx_before;
		return 0;
	}
	ret = ethnl_channels_get(p->nl, p->dev, &p->cur);
	if (ret == -EOPNOTSUPP) {
		if (given)
			return fail(o, -EOPNOTSUPP, "%s: its driver does not let channels be changed",
				    p->dev);
		p->ntx_after = p->ntx_before;
		if (cfg->queues > p->ntx_after)
			return fail(o, -ERANGE, "%s: %u queues, but the device has %u TX queues (maximum)",
				    p->dev, cfg->queues, p->ntx_after);
		return 0;
	}
	if (ret) {
		char b[512];

		return fail(o, ret, "%s: cannot read channels: %s", p->dev, kmsg(p->nl, ret, b, sizeof(b)));
	}
	p->has_channels = true;
	if (given) {
		if (cfg->combined >= 0)
			p->want.combined = (uint32_t)cfg->combined;
		if (cfg->rx >= 0)
			p->want.rx = (uint32_t)cfg->rx;
		if (cfg->tx >= 0)
			p->want.tx = (uint32_t)cfg->tx;
		kind = ethnl_channels_over_max(&p->cur, &p->want, &max);
		if (kind) {
			uint32_t asked = !strcmp(kind, "rx") ? p->want.rx :
					 !strcmp(kind, "tx") ? p->want.tx : p->want.combined;

			if (!max)
				return fail(o, -ERANGE, "%s: %u %s channels asked, the device has none "
					    "(maximum 0)", p->dev, asked, kind);
			return fail(o, -ERANGE, "%s: %u %s channels asked, the device's maximum is %u",
				    p->dev, asked, kind, max);
		}
		p->ntx_after = tx_total(&p->cur, &p->want);
		if (cfg->queues > p->ntx_after)
			return fail(o, -ERANGE, "%s: %u queues, but only %u TX channels after the change",
				    p->dev, cfg->queues, p->ntx_after);
	} else {
		/* One channel per queue: idle channels would take the rest of the host's traffic. */
		if (p->cur.combined_max) {
			max = p->cur.combined_max;
			p->want.combined = cfg->queues;
			kind = "combined";
		} else {
			max = p->cur.tx_max;
			p->want.tx = cfg->queues;
			kind = "tx";
		}
		if (cfg->queues > max)
			return fail(o, -ERANGE, "%s: %u queues asked, the device's maximum is %u %s channels",
				    p->dev, cfg->queues, max, kind);
		p->ntx_after = tx_total(&p->cur, &p->want);
	}
#define CHLINE(k)                                                                          \
	if (p->want.k != ETHNL_KEEP && p->want.k != p->cur.k)                              \
		line(o, "channels: " #k " %u -> %u", p->cur.k, p->want.k);                \
	else                                                                               \
		p->want.k = ETHNL_KEEP;
	CHLINE(combined) CHLINE(rx) CHLINE(tx)
#undef CHLINE
	return 0;
}

static int cpu_at(const cpu_set_t *set, unsigned int nth)
{
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, set) && nth-- == 0)
			return c;
	return -1;
}

/* Queue -> CPU: the given list, or the CPUs we may use, those local to the device first. */
static int plan_cpus(struct plan *p, struct nic_apply_out *o)
{
	const struct nic_apply_cfg *cfg = p->cfg;
	cpu_set_t allowed, local, near, far;
	char list[1024];
	unsigned int nbits = CPU_SETSIZE, nnear, nfar;
	bool have_local;

	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return fail(o, -errno, "cannot read the CPUs this process may use: %s", strerror(errno));
	if (cpumask_nbits(p->root, &nbits))
		nbits = CPU_SETSIZE;
	cpulist_format(&allowed, list, sizeof(list));
	have_local = !numa_dev_cpus(p->root, p->dev, &local);
	o->nq = cfg->queues;
	if (cfg->cpus && cfg->n_cpus) {
		for (unsigned int i = 0; i < cfg->n_cpus; i++) {
			unsigned int c = cfg->cpus[i];

			if (c >= nbits || c >= CPU_SETSIZE)
				return fail(o, -ERANGE, "CPU %u does not exist (this machine has CPUs 0-%u)",
					    c, nbits - 1);
			if ((!cfg->n_own_cpus || i < cfg->n_own_cpus) && !CPU_ISSET(c, &allowed))
				return fail(o, -ERANGE, "CPU %u may not be used by this process (allowed: %s)",
					    c, list);
		}
		for (unsigned int q = 0; q < cfg->queues; q++)
			o->cpu[q] = cfg->cpus[q % cfg->n_cpus];
	} else {
		if (have_local)
			CPU_AND(&near, &allowed, &local);
		else
			CPU_ZERO(&near);
		CPU_XOR(&far, &allowed, &near);
		nnear = (unsigned int)CPU_COUNT(&near);
		nfar = (unsigned int)CPU_COUNT(&far);
		if (nnear + nfar == 0)
			return fail(o, -ERANGE, "this process may use no CPU");
		for (unsigned int q = 0; q < cfg->queues; q++) {
			unsigned int k = q % (nnear + nfar);

			o->cpu[q] = (unsigned int)(k < nnear ? cpu_at(&near, k) : cpu_at(&far, k - nnear));
		}
	}
	if (cfg->queues > (cfg->n_cpus ? cfg->n_cpus : (unsigned int)CPU_COUNT(&allowed)))
		note(o, "%u queues on fewer CPUs: queues share CPUs", cfg->queues);
	for (unsigned int q = 0; q < cfg->queues && have_local; q++)
		if (numa_cpu_is_local(p->root, p->dev, (int)o->cpu[q]) == 0) {
			cpulist_format(&local, list, sizeof(list));
			note(o, "queue %u is pinned to CPU %u, remote to %s's NUMA node (local CPUs: %s)",
			     q, o->cpu[q], p->dev, list);
		}
	return 0;
}

/* Offloads: every name known, and what would change. */
static int plan_offloads(struct plan *p, struct nic_apply_out *o, bool dry)
{
	const struct nic_apply_cfg *cfg = p->cfg;
	struct ethnl_features fs = { 0 };
	unsigned int idx[64];
	int ret, n;

	if (!cfg->n_offloads)
		return 0;
	ret = ethnl_features_get(p->nl, p->dev, &fs);
	if (ret) {
		char b[512];

		return fail(o, ret, "%s: cannot read features: %s", p->dev, kmsg(p->nl, ret, b, sizeof(b)));
	}
	for (unsigned int i = 0; i < cfg->n_offloads; i++) {
		n = ethnl_feature_expand(&fs, cfg->offloads[i].name, idx, 64);
		if (n < 0) {
			ret = fail(o, -ENOENT,
				   "offload '%s': neither a kernel feature name of %s nor a name ethtool knows",
				   cfg->offloads[i].name, p->dev);
			goto out;
		}
		for (int k = 0; k < n; k++) {
			const struct ethnl_feature *f = &fs.f[idx[k]];

			if (f->active == cfg->offloads[i].on)
				continue;
			if (f->fixed)
				note(o, "offload %s: fixed %s on %s, cannot be turned %s", f->name,
				     f->active ? "on" : "off", p->dev, cfg->offloads[i].on ? "on" : "off");
			else if (dry)
				line(o, "offload %s: %s -> %s", f->name, f->active ? "on" : "off",
				     cfg->offloads[i].on ? "on" : "off");
		}
	}
	if (dry)
		note(o, "the kernel may turn dependent features along (sg off takes tso and gso); "
			"a real run reports them");
	ret = 0;
out:
	ethnl_features_free(&fs);
	return ret;
}

/* MTU (nic.mtu): the current one, and what would change. The kernel checks the range. */
static int plan_mtu(struct plan *p, struct nic_apply_out *o, bool dry)
{
	int ret;

	if (!p->cfg->mtu)
		return 0;
	ret = link_mtu_get(p->dev, &p->mtu_before);
	if (ret)
		return fail(o, ret, "%s: cannot read its MTU: %s", p->dev, strerror(-ret));
	if (dry && p->mtu_before != p->cfg->mtu)
		line(o, "mtu: %u -> %u", p->mtu_before, p->cfg->mtu);
	return 0;
}

static int do_mtu(struct plan *p, struct nic_apply_out *o)
{
	char b[256];
	int ret;

	if (!p->cfg->mtu || p->mtu_before == p->cfg->mtu)
		return 0;
	ret = link_mtu_set(p->dev, p->cfg->mtu, b, sizeof(b));
	if (ret)
		return fail(o, ret, "%s: the kernel refused MTU %u: %s%s%s", p->dev, p->cfg->mtu,
			    b[0] ? b : "", b[0] ? ": " : "", strerror(-ret));
	line(o, "mtu: %u -> %u", p->mtu_before, p->cfg->mtu);
	return 0;
}

static void fmt_set(const cpu_set_t *s, char *buf, size_t len)
{
	if (!CPU_COUNT(s))
		snprintf(buf, len, "none");
	else if (cpulist_format(s, buf, len))
		snprintf(buf, len, "?");
}

/* IRQ affinity: the IRQs of queue q go to the CPU of queue q. */
static int do_irqs(struct plan *p, struct nic_apply_out *o, bool dry)
{
	struct irq_table it = { 0 };
	int ret;

	if (!p->cfg->irq_auto)
		return 0;
	ret = irq_discover(p->root, p->dev, &it);
	if (ret)
		return fail(o, ret, "%s: cannot find its IRQs: %s", p->dev, strerror(-ret));
	if (it.source == IRQ_SRC_NONE || !it.nqueues) {
		note(o, "%s has no IRQs of its own (a virtual device such as veth): pinned through XPS alone",
		     p->dev);
		goto out;
	}
	for (unsigned int q = 0; q < o->nq && q < it.nqueues; q++)
		for (unsigned int k = 0; k < it.q[q].nirqs; k++) {
			int irq = it.q[q].irq[k];
			char cur[1024], want[16];
			cpu_set_t a;

			if (irq_affinity_get(p->root, irq, cur, sizeof(cur)))
				snprintf(cur, sizeof(cur), "?");
			snprintf(want, sizeof(want), "%u", o->cpu[q]);
			if (!cpulist_parse(cur, &a) && CPU_COUNT(&a) == 1 && CPU_ISSET(o->cpu[q], &a))
				continue;
			if (!dry) {
				ret = irq_affinity_set(p->root, irq, want);
				if (ret) {
					ret = fail(o, ret, "irq %d (queue %u): cannot set its CPUs to %s: %s%s",
						   irq, q, want, strerror(-ret),
						   ret == -EIO ? " (the kernel manages this IRQ's affinity)" : "");
					goto out;
				}
			}
			line(o, "irq %d (queue %u): %s -> cpu %u", irq, q, cur, o->cpu[q]);
		}
	if (o->nq > it.nqueues)
		note(o, "queues %u and up have no IRQ of their own", it.nqueues);
	ret = 0;
out:
	irq_table_free(&it);
	return ret;
}

/*
 * XPS: tx-q's mask is exactly the CPU of queue q. TX queues beyond the used
 * ones are cleared: with no mask, XPS sends none of our CPUs there, so our
 * traffic cannot leak onto a queue nobody counts for it.
 */
static int do_xps(struct plan *p, struct nic_apply_out *o, bool dry)
{
	if (!p->cfg->xps_auto)
		return 0;
	for (unsigned int q = 0; q < p->ntx_after; q++) {
		cpu_set_t cur, want;
		char a[1024], b[1024];
		int ret = q < p->ntx_before ? xps_get(p->root, p->dev, q, &cur) : 0;

		if (q >= p->ntx_before)
			CPU_ZERO(&cur);
		if (ret == -ENOENT) {
			note(o, "%s has no XPS (tx-%u/xps_cpus missing): queues are not steered", p->dev, q);
			return 0;
		}
		if (ret)
			return fail(o, ret, "xps tx-%u: cannot read it: %s", q, strerror(-ret));
		CPU_ZERO(&want);
		if (q < o->nq)
			CPU_SET(o->cpu[q], &want);
		if (CPU_EQUAL(&cur, &want) && q < p->ntx_before)
			continue;
		if (!dry) {
			ret = xps_set(p->root, p->dev, q, &want);
			if (ret)
				return fail(o, ret, "xps tx-%u: cannot set it: %s", q, strerror(-ret));
		}
		if (CPU_EQUAL(&cur, &want))
			continue; /* a queue that came back with the channels, already right */
		fmt_set(&cur, a, sizeof(a));
		fmt_set(&want, b, sizeof(b));
		line(o, "xps tx-%u: %s -> %s%s", q, a, q < o->nq ? "cpu " : "", b);
	}
	return 0;
}

static int drv_stats(void *arg, const char *ifname, qstats_stat_fn each, void *ctx)
{
	return drvinfo_stats_each(arg, ifname, each, ctx);
}

/* An mq root where the device has no other per-queue TX counters (veth). */
static int do_mq(struct plan *p, struct nic_apply_out *o, bool dry)
{
	struct qstats_ctx qc = { 0 };
	struct qstats_tx *tx = NULL;
	char kind[64];
	int ret;

	if (!p->cfg->mq_counters || p->ntx_after < 2)
		return 0;
	ret = nic_state_root_qdisc(p->dev, kind, sizeof(kind));
	if (ret || !strcmp(kind, "mq"))
		return 0;
	tx = malloc(sizeof(*tx));
	ret = tx ? qstats_open(&qc, drv_stats, NULL) : -ENOMEM;
	if (ret)
		goto out;
	ret = qstats_tx_read(&qc, p->dev, tx);
	if (ret || tx->source != QSTATS_SRC_NONE)
		goto out_ok;
	if (!dry) {
		ret = qstats_mq_add(&qc, p->dev);
		if (ret) {
			note(o, "%s: no per-queue TX counters (adding an mq root qdisc failed: %s)", p->dev,
			     strerror(-ret));
			goto out_ok;
		}
	}
	line(o, "qdisc root: %s -> mq (per-queue TX counters)", kind);
out_ok:
	ret = 0;
out:
	qstats_close(&qc);
	free(tx);
	return ret;
}

static int do_channels(struct plan *p, struct nic_apply_out *o)
{
	char b[512];
	int ret;

	if (!p->has_channels || (p->want.combined == ETHNL_KEEP && p->want.rx == ETHNL_KEEP &&
				 p->want.tx == ETHNL_KEEP))
		return 0;
	ret = ethnl_channels_set(p->nl, p->dev, &p->want);
	if (ret)
		return fail(o, ret, "%s: the kernel refused the channels: %s", p->dev,
			    kmsg(p->nl, ret, b, sizeof(b)));
	return 0;
}

static int do_offloads(struct plan *p, struct nic_apply_out *o)
{
	struct ethnl_features_result res = { 0 };
	char b[512];
	int ret;

	if (!p->cfg->n_offloads)
		return 0;
	ret = ethnl_features_set(p->nl, p->dev, p->cfg->offloads, p->cfg->n_offloads, &res);
	if (ret)
		return fail(o, ret, "%s: the kernel refused the offloads: %s", p->dev,
			    kmsg(p->nl, ret, b, sizeof(b)));
	for (unsigned int i = 0; i < res.count; i++) {
		const struct ethnl_feature_change *c = &res.c[i];

		if (c->active_changed)
			line(o, "offload %s: %s -> %s%s", c->name, c->active ? "off" : "on",
			     c->active ? "on" : "off", c->requested ? "" : " (changed along by the kernel)");
		if (c->not_as_requested)
			note(o, "offload %s: still %s (fixed, or held by another feature)", c->name,
			     c->active ? "on" : "off");
	}
	ethnl_features_result_free(&res);
	return 0;
}

static int checks(struct plan *p, struct nic_apply_out *o, bool dry)
{
	const struct nic_apply_cfg *cfg = p->cfg;
	char what[160];
	int ret, pid;

	if (!cfg->ifname || !*cfg->ifname || strlen(cfg->ifname) >= IF_NAMESIZE)
		return fail(o, -EINVAL, "no interface given");
	if (!if_nametoindex(cfg->ifname))
		return fail(o, -ENODEV, "%s: no such device in this network namespace", cfg->ifname);
	if (!cfg->queues || cfg->queues > NIC_APPLY_MAX_QUEUES)
		return fail(o, -ERANGE, "%u queues: zcgen drives 1 to %u", cfg->queues,
			    NIC_APPLY_MAX_QUEUES);
	ret = plan_channels(p, o);
	if (ret)
		return ret;
	ret = plan_cpus(p, o);
	if (ret)
		return ret;
	ret = plan_offloads(p, o, dry);
	if (ret)
		return ret;
	ret = plan_mtu(p, o, dry);
	if (ret)
		return ret;
	ret = safety_cap_net_admin(p->root);
	if (ret == 0 && !dry)
		return fail(o, -EPERM, "changing %s needs CAP_NET_ADMIN (run as root)", p->dev);
	if (ret == 0)
		note(o, "this process lacks CAP_NET_ADMIN: a real run would be refused");
	if (!cfg->force && safety_default_route(p->root, p->dev, what, sizeof(what)) == 1)
		return fail(o, -EADDRINUSE,
			    "%s carries the default route (%s): zcgen does not reconfigure it unless "
			    "forced with --force on the command line", p->dev, what);
	pid = safety_irqbalance_pid(p->root);
	if (pid && cfg->irq_auto)
		note(o, "irqbalance (pid %d) runs and may overwrite the IRQ affinity zcgen sets", pid);
	return 0;
}

int nic_apply(const struct nic_apply_cfg *cfg, bool dry_run, struct nic_apply_out *out,
	      struct nic_applied **hp)
{
	struct plan p = { .cfg = cfg, .root = cfg->root ? cfg->root : "", .dev = cfg->ifname };
	struct nic_applied *h = NULL;
	json_t *old = NULL;
	char rerr[1024], snote[1400] = "";
	int ret;

	memset(out, 0, sizeof(*out));
	if (hp)
		*hp = NULL;
	ret = ethnl_open(&p.nl);
	if (ret)
		return fail(out, ret, "cannot open ethtool netlink: %s", strerror(-ret));
	ret = checks(&p, out, dry_run);
	if (ret)
		goto out_nl;
	if (dry_run) {
		/* The same steps as below, describing instead of doing. */
		ret = do_mq(&p, out, true);
		if (!ret)
			ret = do_irqs(&p, out, true);
		if (!ret)
			ret = do_xps(&p, out, true);
		goto out_nl;
	}

	h = calloc(1, sizeof(*h));
	if (!h) {
		ret = fail(out, -ENOMEM, "out of memory");
		goto out_nl;
	}
	snprintf(h->ifname, sizeof(h->ifname), "%s", cfg->ifname);
	snprintf(h->root, sizeof(h->root), "%s", p.root);
	ret = nic_state_lock(cfg->ifname, &h->lk, &out->holder);
	if (ret == -EBUSY) {
		ret = out->holder ? fail(out, -EBUSY, "%s is being changed by pid %d", cfg->ifname,
					 (int)out->holder) :
				    fail(out, -EBUSY, "%s is being changed by another process", cfg->ifname);
		goto out_h;
	}
	if (ret) {
		fail(out, ret, "cannot lock %s in %s: %s", cfg->ifname, NIC_STATE_DIR, strerror(-ret));
		goto out_h;
	}
	ret = nic_state_snapshot(p.nl, p.root, cfg->ifname, &h->snap);
	if (ret) {
		fail(out, ret, "%s: cannot read its state: %s", cfg->ifname, strerror(-ret));
		goto out_unlock;
	}
	/*
	 * An earlier pin's (or a crashed run's) file holds the state zcgen first
	 * found: keep it. Unless it is stale: the namespace's inode (the file's
	 * name) is reused by the kernel, and a device's name by whoever makes
	 * one, so a file left by a run in a namespace that is gone would put
	 * another device's settings on this one. Such a file is set aside, and
	 * this device's own state saved.
	 */
	if (!nic_state_load(&h->lk, &old)) {
		char why[512], from[128], to[600];

		if (nic_state_stale(old, h->snap, why, sizeof(why))) {
			nic_state_origin(old, from, sizeof(from));
			ret = nic_state_set_aside(&h->lk, h->lk.state_path, to, sizeof(to));
			json_decref(old);
			old = NULL;
			if (ret) {
				fail(out, ret, "%s: the state file %s (%s) is stale, and setting it aside "
				     "failed: %s", cfg->ifname, h->lk.state_path, from, strerror(-ret));
				goto out_unlock;
			}
			snprintf(snote, sizeof(snote), "a stale state file (%s) is set aside as %s, "
				 "not used: %s; %s's state now is saved instead", from, to, why,
				 cfg->ifname);
		}
	}
	if (old) {
		out->state_kept = true;
		snprintf(snote, sizeof(snote), "a state file from pid %lld is kept: `zcgen nic restore %s` "
			 "goes back to the state before that",
			 (long long)json_integer_value(json_object_get(old, "pid")), cfg->ifname);
		json_decref(old);
	} else {
		ret = nic_state_save(&h->lk, h->snap);
		if (ret) {
			fail(out, ret, "cannot save the state of %s to %s: %s", cfg->ifname,
			     h->lk.state_path, strerror(-ret));
			goto out_unlock;
		}
		h->own_state = true;
	}
	h->nl = p.nl;

	/* Replace the plan's lines with what is done now, in the order it is done. */
	nic_apply_out_free(out);
	out->nq = cfg->queues;
	if (snote[0])
		note(out, "%s", snote);
	nic_test_delay("ZCGEN_TEST_APPLY_DELAY_MS");
	ret = do_channels(&p, out);
	if (!ret) {
#define CHLINE(k)                                                                   \
	if (p.want.k != ETHNL_KEEP)                                                 \
		line(out, "channels: " #k " %u -> %u", p.cur.k, p.want.k);
		CHLINE(combined) CHLINE(rx) CHLINE(tx)
#undef CHLINE
		/* Count again: some devices have TX queues that are no channel (XDP). */
		if (xps_tx_count(p.root, cfg->ifname, &p.ntx_after))
			p.ntx_after = 0;
		nic_test_delay("ZCGEN_TEST_APPLY_DELAY_MS");
		ret = do_offloads(&p, out);
	}
	if (!ret) {
		nic_test_delay("ZCGEN_TEST_APPLY_DELAY_MS");
		ret = do_mtu(&p, out);
	}
	if (!ret) {
		nic_test_delay("ZCGEN_TEST_APPLY_DELAY_MS");
		ret = do_mq(&p, out, false);
	}
	if (!ret) {
		nic_test_delay("ZCGEN_TEST_APPLY_DELAY_MS");
		ret = do_irqs(&p, out, false);
	}
	if (!ret) {
		nic_test_delay("ZCGEN_TEST_APPLY_DELAY_MS");
		ret = do_xps(&p, out, false);
	}
	if (!ret) {
		*hp = h;
		return 0;
	}

	/* Half way: put back what was changed, keep the state file if that fails. */
	if (nic_state_restore(p.nl, p.root, cfg->ifname, h->snap, rerr, sizeof(rerr))) {
		size_t used = strlen(out->err);

		snprintf(out->err + used, sizeof(out->err) - used,
			 "\nand putting %s back failed too:\n%s\nthe state file %s stays for "
			 "`zcgen nic restore %s`", cfg->ifname, rerr, h->lk.state_path, cfg->ifname);
	} else if (h->own_state) {
		nic_state_remove(&h->lk);
	}
out_unlock:
	nic_state_unlock(&h->lk);
out_h:
	json_decref(h->snap);
	free(h);
out_nl:
	ethnl_close(p.nl);
	return ret;
}

int nic_undo(struct nic_applied *h, char *err, size_t errlen)
{
	int ret;

	ret = nic_state_restore(h->nl, h->root, h->ifname, h->snap, err, errlen);
	if (!ret && h->own_state) {
		ret = nic_state_remove(&h->lk);
		if (ret)
			snprintf(err, errlen, "cannot remove %s: %s", h->lk.state_path, strerror(-ret));
	}
	nic_state_unlock(&h->lk);
	ethnl_close(h->nl);
	json_decref(h->snap);
	free(h);
	return ret;
}

void nic_keep(struct nic_applied *h)
{
	nic_state_unlock(&h->lk);
	ethnl_close(h->nl);
	json_decref(h->snap);
	free(h);
}

int nic_features_change(struct nic_applied *h, const struct ethnl_feature_req *req, unsigned int n,
			struct ethnl_features_result *res, char *kmsg, size_t kmsglen)
{
	int ret = ethnl_features_set(h->nl, h->ifname, req, n, res);

	snprintf(kmsg, kmsglen, "%s", ethnl_errmsg(h->nl));
	return ret;
}

int nic_features_now(struct nic_applied *h, struct ethnl_features *out)
{
	return ethnl_features_get(h->nl, h->ifname, out);
}

int nic_features_put_back(struct nic_applied *h, char *err, size_t errlen)
{
	return nic_state_restore_features(h->nl, h->ifname, h->snap, err, errlen);
}

int nic_cap_net_admin(void)
{
	return safety_cap_net_admin("");
}

int nic_discard_dev(const char *dev, char *path, size_t pathlen, pid_t *holder)
{
	struct nic_lock lk;
	int ret;

	if (pathlen)
		path[0] = '\0';
	ret = nic_state_lock(dev, &lk, holder);
	if (ret)
		return ret;
	snprintf(path, pathlen, "%s", lk.state_path);
	ret = access(lk.state_path, F_OK) ? 1 : nic_state_remove(&lk);
	nic_state_unlock(&lk);
	return ret;
}

int nic_restore_dev(const char *root, const char *dev, char *err, size_t errlen, char *note,
		    size_t notelen, pid_t *holder)
{
	struct nic_lock lk;
	struct ethnl *nl = NULL;
	json_t *st = NULL, *now = NULL;
	char tmp[600], why[512], from[128], to[600];
	const char *src;
	int ret;

	err[0] = '\0';
	if (notelen)
		note[0] = '\0';
	ret = nic_state_lock(dev, &lk, holder);
	if (ret == -EBUSY) {
		if (*holder && kill(*holder, 0) && errno == ESRCH)
			snprintf(err, errlen, "%s is locked by a process that pid %d (gone now) started",
				 dev, (int)*holder);
		else if (*holder)
			snprintf(err, errlen, "%s is being changed by pid %d", dev, (int)*holder);
		else
			snprintf(err, errlen, "%s is being changed by another process", dev);
		return ret;
	}
	if (ret) {
		snprintf(err, errlen, "cannot lock %s: %s", dev, strerror(-ret));
		return ret;
	}
	ret = nic_state_load(&lk, &st);
	src = lk.state_path;
	if (ret == -ENOENT) {
		/* killed inside nic_state_save(): before any change, see nic_state_load_unfinished() */
		ret = nic_state_load_unfinished(&lk, &st);
		if (nic_state_tmp_path(&lk, tmp, sizeof(tmp)))
			tmp[0] = '\0';
		if (ret == -EINVAL) {
			ret = nic_state_remove(&lk);
			if (ret) {
				snprintf(err, errlen, "cannot remove %s: %s", tmp, strerror(-ret));
				goto out_unlock;
			}
			snprintf(note, notelen, "%s was half-written by a zcgen killed before it changed "
				 "anything: removed", tmp);
			ret = 1;
			goto out_unlock;
		}
		if (ret == -ENOENT) {
			ret = 1;
			goto out_unlock;
		}
		if (!ret) {
			src = tmp;
			snprintf(note, notelen, "%s, written whole by a zcgen killed before it was "
				 "renamed into place, holds the state", tmp);
		}
	}
	if (ret) {
		snprintf(err, errlen, "%s: not a zcgen state file (%s)", lk.state_path, strerror(-ret));
		goto out_unlock;
	}
	/* Never another namespace's or device's settings (see nic/state.h): refused and set aside. */
	now = json_object();
	if (!now || nic_state_identity(dev, now)) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out_st;
	}
	if (nic_state_stale(st, now, why, sizeof(why))) {
		if (notelen)
			note[0] = '\0';
		nic_state_origin(st, from, sizeof(from));
		ret = nic_state_set_aside(&lk, src, to, sizeof(to));
		if (ret) {
			snprintf(err, errlen, "%s (%s) is stale: %s; nothing restored, and setting it "
				 "aside failed: %s", src, from, why, strerror(-ret));
			goto out_st;
		}
		snprintf(err, errlen, "%s (%s) is stale, not applied: %s; set aside as %s", src, from,
			 why, to);
		ret = -ESTALE;
		goto out_st;
	}
	ret = ethnl_open(&nl);
	if (ret) {
		snprintf(err, errlen, "cannot open ethtool netlink: %s", strerror(-ret));
		goto out_st;
	}
	ret = nic_state_restore(nl, root ? root : "", dev, st, err, errlen);
	if (!ret) {
		ret = nic_state_remove(&lk);
		if (ret)
			snprintf(err, errlen, "cannot remove %s: %s", lk.state_path, strerror(-ret));
	}
	ethnl_close(nl);
out_st:
	json_decref(now);
	json_decref(st);
out_unlock:
	nic_state_unlock(&lk);
	return ret;
}
