/* offload.c - offload-check's logic: feature groups, figures of a state, verdicts */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "gen/offload.h"

const char *offload_verdict_name(enum offload_verdict v)
{
	static const char *const n[] = {
		[OFFLOAD_EFFECTIVE] = "effective", [OFFLOAD_NO_EFFECT] = "no-effect",
		[OFFLOAD_UNSUPPORTED] = "unsupported", [OFFLOAD_BROKEN] = "broken",
		[OFFLOAD_UNTESTED] = "untested",
	};

	return (unsigned)v < sizeof(n) / sizeof(n[0]) ? n[v] : "?";
}

static bool is_segmentation(const char *kname)
{
	return !fnmatch("tx-tcp*-segmentation", kname, 0) || !strcmp(kname, "tx-udp-segmentation");
}

int offload_resolve(const struct ethnl_features *fs, const char *name, struct offload_group *g)
{
	unsigned seg = 0, sg = 0;
	int n;

	memset(g, 0, sizeof(*g));
	n = ethnl_feature_expand(fs, name, g->idx, OFFLOAD_GROUP_MAX);
	if (n < 0)
		return n;
	g->n = (unsigned)n;
	g->all_fixed = true;
	for (unsigned i = 0; i < g->n; i++) {
		const struct ethnl_feature *f = &fs->f[g->idx[i]];

		g->all_fixed &= f->fixed;
		g->any_active |= f->active;
		seg += is_segmentation(f->name);
		sg += !fnmatch("tx-scatter-gather*", f->name, 0);
	}
	g->kind = seg == g->n ? OFFLOAD_KIND_SEGMENTATION : sg ? OFFLOAD_KIND_SG : OFFLOAD_KIND_OTHER;
	return 0;
}

/* What the kernel holds a feature off without (netdev_fix_features), as ethtool names. */
static const struct {
	const char *pattern;
	const char *needs[3];
} need_tab[] = {
	{ "tx-tcp*-segmentation", { "sg", "tx", NULL } },
	{ "tx-udp-segmentation", { "tx", NULL } },
	{ "tx-generic-segmentation", { "sg", NULL } },
};

unsigned offload_needs(const struct ethnl_features *fs, const struct offload_group *g,
		       const char **needs)
{
	unsigned n = 0;

	for (size_t t = 0; t < sizeof(need_tab) / sizeof(need_tab[0]); t++) {
		bool match = false;

		for (unsigned i = 0; i < g->n && !match; i++)
			match = !fnmatch(need_tab[t].pattern, fs->f[g->idx[i]].name, 0);
		if (!match)
			continue;
		for (unsigned k = 0; need_tab[t].needs[k]; k++) {
			const char *need = need_tab[t].needs[k];
			struct offload_group ng;
			bool dup = false;

			for (unsigned j = 0; j < n; j++)
				dup |= !strcmp(needs[j], need);
			/* on already, or nothing to turn on: the test goes on without */
			if (dup || offload_resolve(fs, need, &ng) || ng.any_active || ng.all_fixed)
				continue;
			if (n < OFFLOAD_NEEDS_MAX)
				needs[n++] = need;
		}
	}
	return n;
}

/*
 * One run's receiver counts into its state's. Loss is what was sent and did
 * not arrive, so that drops after the last datagram the receiver saw count
 * too (sequence gaps alone would miss them).
 */
static void rx_add(struct offload_rx *rx, const struct offload_sample *x)
{
	if (!x->have_rx) {
		if (!rx->error[0] && x->rx_error[0])
			snprintf(rx->error, sizeof(rx->error), "%s", x->rx_error);
		return;
	}
	rx->runs++;
	rx->udp |= x->udp;
	rx->bytes += x->rx_bytes;
	rx->sent_bytes += x->sent_bytes;
	rx->packets += x->rx_packets;
	rx->sent_datagrams += x->sent_datagrams;
	rx->corrupt_bytes += x->rx_corrupt_bytes;
	rx->corrupt_datagrams += x->rx_corrupt_datagrams;
	if (x->udp && x->sent_datagrams > x->rx_packets)
		rx->lost += x->sent_datagrams - x->rx_packets;
	if (!x->udp && x->sent_bytes > x->rx_bytes)
		rx->missing_bytes += x->sent_bytes - x->rx_bytes;
}

void offload_figures(const struct offload_sample *s, unsigned n, struct offload_figures *f)
{
	uint64_t notifs = 0, copied = 0;
	unsigned ncpu = 0;
	double cpu_sum = 0;

	memset(f, 0, sizeof(*f));
	f->runs = n;
	f->cpu_s_per_gb = f->cpu_min = f->cpu_max = -1;
	f->bytes_per_packet = f->zc_copied_percent = -1;
	f->rx.loss_percent = -1;
	for (unsigned i = 0; i < n; i++) {
		const struct offload_sample *x = &s[i];

		rx_add(&f->rx, x);
		f->errors += x->errors;
		f->bytes += x->bytes;
		notifs += x->zc_notifs;
		copied += x->zc_copied;
		if (x->have_link) {
			f->link_bytes += x->link_bytes;
			f->link_packets += x->link_packets;
		}
		if (!f->error[0] && x->error[0])
			snprintf(f->error, sizeof(f->error), "%s", x->error);
		if (!x->bytes || x->duration_s <= 0)
			continue;

		double bps = x->bytes * 8.0 / x->duration_s;

		if (!f->runs_ok || bps < f->bps_min)
			f->bps_min = bps;
		if (!f->runs_ok || bps > f->bps_max)
			f->bps_max = bps;
		f->bps += bps;
		f->sends_per_s += x->sends / x->duration_s;
		f->runs_ok++;
		if (x->cpu_busy_s >= 0) {
			double c = x->cpu_busy_s / (x->bytes / 1e9);

			if (!ncpu || c < f->cpu_min)
				f->cpu_min = c;
			if (!ncpu || c > f->cpu_max)
				f->cpu_max = c;
			cpu_sum += c;
			ncpu++;
		}
	}
	if (f->runs_ok) {
		f->bps /= f->runs_ok;
		f->sends_per_s /= f->runs_ok;
	}
	if (ncpu)
		f->cpu_s_per_gb = cpu_sum / ncpu;
	if (f->link_packets)
		f->bytes_per_packet = (double)f->link_bytes / (double)f->link_packets;
	if (notifs)
		f->zc_copied_percent = 100.0 * (double)copied / (double)notifs;
	f->rx.checked = n && f->rx.runs == n;
	if (f->rx.udp && f->rx.sent_datagrams)
		f->rx.loss_percent = 100.0 * (double)f->rx.lost / (double)f->rx.sent_datagrams;
}

struct ev {
	char *buf;
	size_t len, o;
};

__attribute__((format(printf, 2, 3)))
static void ev_add(struct ev *e, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (e->o >= e->len)
		return;
	va_start(ap, fmt);
	r = vsnprintf(e->buf + e->o, e->len - e->o, fmt, ap);
	va_end(ap);
	if (r > 0)
		e->o += (size_t)r;
}

/* "1.9x the throughput", "45% less CPU per GB": the gains that count, and whether there is one. */
static bool gains(const struct offload_case *c, struct ev *e)
{
	const struct offload_figures *on = &c->on, *off = &c->off;
	bool cpu = on->cpu_s_per_gb >= 0 && off->cpu_s_per_gb > 0 &&
		   on->cpu_s_per_gb <= off->cpu_s_per_gb * (1 - OFFLOAD_GAIN) &&
		   on->cpu_max < off->cpu_min;
	bool bps = off->bps > 0 && on->bps >= off->bps * (1 + OFFLOAD_GAIN) &&
		   on->bps_min > off->bps_max;

	if (bps)
		ev_add(e, "%.2f vs %.2f Gbit/s (%.1fx the throughput)", on->bps / 1e9, off->bps / 1e9,
		       on->bps / off->bps);
	if (cpu)
		ev_add(e, "%s%.2f vs %.2f CPU-s/GB (%.0f%% less CPU per GB)", bps ? ", " : "",
		       on->cpu_s_per_gb, off->cpu_s_per_gb,
		       100 * (1 - on->cpu_s_per_gb / off->cpu_s_per_gb));
	return cpu || bps;
}

static const char *gbytes(uint64_t b, char *buf, size_t len)
{
	if (b >= 1000000000ull)
		snprintf(buf, len, "%.2f GB", b / 1e9);
	else
		snprintf(buf, len, "%.1f MB", b / 1e6);
	return buf;
}

/* Corrupt data at the receiver with it on, or UDP loss well above off's: broken, and why. */
static bool rx_broken(const struct offload_case *c, struct ev *e)
{
	const struct offload_rx *on = &c->on.rx, *off = &c->off.rx;
	char b[32];

	if (on->runs && on->corrupt_bytes) {
		ev_add(e, "the receiver's payload check found %llu corrupt bytes", (unsigned long long)on->corrupt_bytes);
		if (on->udp)
			ev_add(e, " in %llu datagrams", (unsigned long long)on->corrupt_datagrams);
		ev_add(e, " of %s received with it on", gbytes(on->bytes, b, sizeof(b)));
		if (off->runs && off->corrupt_bytes)
			ev_add(e, ", and %llu with it off too: the path corrupts data whatever this "
			       "offload's state", (unsigned long long)off->corrupt_bytes);
		else if (off->runs)
			ev_add(e, ", none with it off");
		return true;
	}
	if (on->loss_percent >= 0 && off->loss_percent >= 0 &&
	    on->loss_percent >= off->loss_percent + OFFLOAD_LOSS_POINTS &&
	    on->loss_percent >= 2 * off->loss_percent) {
		ev_add(e, "%.1f%% of the datagrams sent did not reach the receiver with it on (%llu of "
		       "%llu), %.1f%% with it off", on->loss_percent, (unsigned long long)on->lost,
		       (unsigned long long)on->sent_datagrams, off->loss_percent);
		return true;
	}
	return false;
}

/* What the receiver found, when it checked both states: "; at the receiver: ..." */
static void rx_intact(const struct offload_case *c, struct ev *e)
{
	const struct offload_rx *on = &c->on.rx, *off = &c->off.rx;
	char b[32];

	if (!on->runs || !off->runs)
		return;
	if (off->corrupt_bytes)
		ev_add(e, "; at the receiver: no corrupt byte with it on (%s checked), but %llu with "
		       "it off", gbytes(on->bytes, b, sizeof(b)), (unsigned long long)off->corrupt_bytes);
	else
		ev_add(e, "; at the receiver: %s of payload checked, no corrupt byte",
		       gbytes(on->bytes + off->bytes, b, sizeof(b)));
	if (on->loss_percent >= 0 && off->loss_percent >= 0)
		ev_add(e, ", %.2f%% of the datagrams lost with it on, %.2f%% off", on->loss_percent,
		       off->loss_percent);
	if (on->missing_bytes || off->missing_bytes)
		ev_add(e, ", %llu bytes sent but not received with it on, %llu off",
		       (unsigned long long)on->missing_bytes, (unsigned long long)off->missing_bytes);
}

enum offload_verdict offload_judge(const struct offload_case *c, char *evidence, size_t len)
{
	const struct offload_figures *on = &c->on, *off = &c->off;
	struct ev e = { evidence, len, 0 };
	double frame = c->mtu + 14.0;   /* the device counts the Ethernet header */
	bool counted = false;

	if (len)
		evidence[0] = '\0';
	if (c->fixed) {
		ev_add(&e, "fixed %s on this device (the kernel's features reply marks it [fixed]): "
		       "it cannot be turned %s to compare", c->fixed_on ? "on" : "off",
		       c->fixed_on ? "off" : "on");
		return OFFLOAD_UNSUPPORTED;
	}
	if (c->refused) {
		ev_add(&e, "the kernel did not change it: %s", c->refused);
		return OFFLOAD_UNSUPPORTED;
	}
	if (!on->runs_ok && !off->runs_ok) {
		ev_add(&e, "no data moved in either state%s%s", on->error[0] || off->error[0] ? ": " : "",
		       on->error[0] ? on->error : off->error);
		return OFFLOAD_UNTESTED;
	}
	if (!on->runs_ok) {
		ev_add(&e, "nothing was sent with it on%s%s, %.2f Gbit/s with it off",
		       on->error[0] ? " (" : "", on->error, off->bps / 1e9);
		if (on->error[0])
			ev_add(&e, ")");
		return OFFLOAD_BROKEN;
	}
	if (on->errors && !off->errors) {
		ev_add(&e, "%llu send errors with it on%s%s%s, none with it off",
		       (unsigned long long)on->errors, on->error[0] ? " (" : "", on->error,
		       on->error[0] ? ")" : "");
		return OFFLOAD_BROKEN;
	}
	if (rx_broken(c, &e))
		return OFFLOAD_BROKEN;
	if (c->kind == OFFLOAD_KIND_SEGMENTATION && on->bytes_per_packet >= 0 && off->bytes_per_packet >= 0) {
		bool acting = on->bytes_per_packet >= 2 * frame && off->bytes_per_packet <= frame * 1.1;

		ev_add(&e, "the device saw %.0f B per packet with it on and %.0f B off (MTU %u)",
		       on->bytes_per_packet, off->bytes_per_packet, c->mtu);
		if (!acting) {
			ev_add(&e, ": it did not take larger packets than the MTU, so it was not used");
			rx_intact(c, &e);
			return OFFLOAD_NO_EFFECT;
		}
		counted = true;
	} else if (c->kind == OFFLOAD_KIND_SEGMENTATION) {
		ev_add(&e, "the device's packet counters were not available");
		counted = true;
	} else if (c->kind == OFFLOAD_KIND_SG && on->zc_copied_percent >= 0 && off->zc_copied_percent >= 0 &&
		   off->zc_copied_percent - on->zc_copied_percent >= 10) {
		ev_add(&e, "zero-copy sends copied: %.0f%% with it off, %.0f%% on",
		       off->zc_copied_percent, on->zc_copied_percent);
		counted = true;
	}
	if (counted)
		ev_add(&e, "; ");
	size_t mark = e.o;

	if (gains(c, &e)) {
		rx_intact(c, &e);
		return OFFLOAD_EFFECTIVE;
	}
	e.o = mark;
	if (e.o < e.len)
		evidence[e.o] = '\0';
	ev_add(&e, "%s neither throughput nor CPU per GB improved by %.0f%% with it on (%.2f vs %.2f "
	       "Gbit/s", counted ? "but" : "", OFFLOAD_GAIN * 100, on->bps / 1e9, off->bps / 1e9);
	if (on->cpu_s_per_gb >= 0 && off->cpu_s_per_gb >= 0)
		ev_add(&e, ", %.2f vs %.2f CPU-s/GB", on->cpu_s_per_gb, off->cpu_s_per_gb);
	ev_add(&e, ")");
	/* "but neither" reads well after the counters; alone, the sentence starts with "neither" */
	if (!counted && evidence[0] == ' ') {
		memmove(evidence, evidence + 1, strlen(evidence));
		e.o--;
	}
	rx_intact(c, &e);
	return OFFLOAD_NO_EFFECT;
}
