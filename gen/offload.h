/* offload.h - offload-check's logic: feature groups, figures of a state, verdicts */
#ifndef ZCGEN_OFFLOAD_H
#define ZCGEN_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nic/nic.h"

/*
 * Nothing here touches a device or runs traffic: cmd_offload.c does, and
 * hands the numbers over, so that the rules can be tested on synthetic
 * figures (tests/unit_offload.c).
 */

enum offload_verdict {
	OFFLOAD_EFFECTIVE,     /* the counters show it acting and it pays (CPU or throughput) */
	OFFLOAD_NO_EFFECT,     /* measured, no difference worth the name */
	OFFLOAD_UNSUPPORTED,   /* fixed on the device, or the kernel refused or kept the change */
	OFFLOAD_BROKEN,        /* errors (or nothing sent) with it on, not with it off; corrupt
				* data at the receiver with it on; UDP loss well above off's */
	OFFLOAD_UNTESTED,      /* the test runs failed in both states: nothing to compare */
};

/* "effective", "no-effect", "unsupported", "broken", "untested" */
const char *offload_verdict_name(enum offload_verdict v);

/* How an offload shows in the device's own counters. */
enum offload_kind {
	OFFLOAD_KIND_SEGMENTATION, /* TSO, UDP GSO: the device takes super-packets (bytes/packet >> MTU) */
	OFFLOAD_KIND_SG,           /* scatter-gather: without it zero-copy sends are copied */
	OFFLOAD_KIND_OTHER,        /* checksums, GSO, GRO, ...: only CPU and throughput tell */
};

#define OFFLOAD_GROUP_MAX 32
#define OFFLOAD_NEEDS_MAX 4

/**
 * struct offload_group - the kernel features a user's offload name stands for
 * @idx: indexes into the device's features (ethnl_features.f)
 * @n: entries in @idx
 * @all_fixed: none of them can be changed (ethtool's [fixed])
 * @any_active: at least one is active now
 * @kind: what shows it acting
 */
struct offload_group {
	unsigned idx[OFFLOAD_GROUP_MAX];
	unsigned n;
	bool all_fixed, any_active;
	enum offload_kind kind;
};

/**
 * offload_resolve() - the kernel features behind @name on a device
 * @fs: the device's features (ethnl_features_get())
 * @name: an ethtool name ("tso", "gso", "sg", "tx", "gro") or a kernel name
 *        ("tx-tcp-segmentation", "tx-udp-segmentation")
 * @g: filled
 *
 * As ethtool does: a group takes the changeable features that match its
 * pattern, or all matching ones when none is changeable (then @all_fixed).
 *
 * Return: 0, -ENOENT for a name neither the kernel nor ethtool knows.
 */
int offload_resolve(const struct ethnl_features *fs, const char *name, struct offload_group *g);

/**
 * offload_needs() - features a test of @g needs on, that are not on now
 * @fs: the device's features now
 * @g: the group under test
 * @needs: output: ethtool names to turn on for the test ("sg", "tx")
 *
 * TSO needs scatter-gather and TX checksumming, UDP GSO needs TX
 * checksumming (without it a UDP GSO send fails with EIO), GSO needs
 * scatter-gather: without them the kernel holds the feature off whatever
 * is asked, and on vs off would compare nothing.
 *
 * Return: the number of names written (at most OFFLOAD_NEEDS_MAX).
 */
unsigned offload_needs(const struct ethnl_features *fs, const struct offload_group *g,
		       const char **needs);

/* One short run, as cmd_offload measured it. */
struct offload_sample {
	double duration_s;          /* measured time */
	uint64_t bytes, sends;      /* payload accepted by the kernel */
	uint64_t zc_notifs, zc_copied;
	uint64_t errors;            /* failed sends and failed streams */
	double cpu_busy_s;          /* system-wide busy CPU-seconds over the run; < 0 unknown */
	bool have_link;             /* the device's link statistics were read */
	uint64_t link_bytes, link_packets; /* their deltas (IFLA_STATS64 tx_*) */
	char error[200];            /* the first error, if any */
	/* what a verifying receiver (offload-check's own zcgen sink) counted */
	bool have_rx;
	bool udp;
	uint64_t sent_bytes;        /* everything the kernel accepted (warm-up included) */
	uint64_t sent_datagrams;    /* UDP: datagrams of those bytes */
	uint64_t rx_bytes, rx_packets; /* received payload; UDP datagrams (duplicates apart) */
	uint64_t rx_corrupt_bytes, rx_corrupt_datagrams; /* not the payload pattern */
	char rx_error[200];         /* why the receiver's counts are missing, if they are */
};

/*
 * UDP loss "well above" the other state's: at least this many percentage
 * points more, and at least twice as much. Below that, loss is the
 * receiver's load (a faster sender overruns it), not the offload.
 */
#define OFFLOAD_LOSS_POINTS 5.0

/**
 * struct offload_rx - a state's figures at the receiver, summed over its runs
 * @checked: every run of the state has the receiver's counts
 * @runs: runs with them
 * @bytes: payload received; @sent_bytes: what the kernel accepted for them
 * @missing_bytes: TCP: sent but not received (0 when everything arrived)
 * @packets: UDP datagrams received; @sent_datagrams: sent
 * @lost: UDP: sent but not received; @loss_percent: of @sent_datagrams
 *        (< 0 for TCP or when nothing was sent)
 * @corrupt_bytes, @corrupt_datagrams: payload that was not the pattern
 */
struct offload_rx {
	bool checked, udp;
	unsigned runs;
	uint64_t bytes, sent_bytes, missing_bytes;
	uint64_t packets, sent_datagrams, lost;
	double loss_percent;
	uint64_t corrupt_bytes, corrupt_datagrams;
	char error[200];
};

/* One state (on or off) over its runs. Figures < 0: unknown. */
struct offload_figures {
	unsigned runs, runs_ok;     /* runs_ok: runs that moved data */
	double bps, bps_min, bps_max;
	double sends_per_s;
	double cpu_s_per_gb, cpu_min, cpu_max;
	double bytes_per_packet;
	uint64_t link_bytes, link_packets;
	double zc_copied_percent;
	uint64_t errors, bytes;
	char error[200];
	struct offload_rx rx;       /* the receiver's counts; rx.runs 0: not checked */
};

/**
 * offload_figures() - combine the runs of one state
 * @s: the runs
 * @n: how many
 * @f: filled: means over the runs that moved data (min and max kept for
 *     throughput and CPU), sums of counters, bytes/packet from the summed
 *     link deltas, % of zero-copy notifications that were copied; the
 *     receiver's counts summed (@f->rx), loss from what was sent and received
 */
void offload_figures(const struct offload_sample *s, unsigned n, struct offload_figures *f);

/* What offload_judge() decides on. */
struct offload_case {
	const char *name;
	enum offload_kind kind;
	unsigned mtu;               /* the device's, bytes */
	bool fixed;                 /* every feature of the group is fixed */
	bool fixed_on;              /* ... and active */
	const char *refused;        /* the kernel refused or kept the change: why; NULL if not */
	struct offload_figures on, off;
};

/* A gain must be at least this (10 %) and the runs of the two states must not overlap. */
#define OFFLOAD_GAIN 0.10

/**
 * offload_judge() - the verdict and its evidence in one sentence
 * @c: the case
 * @evidence: output: the figures the verdict rests on
 * @len: size of @evidence
 *
 * In order: fixed or refused -> unsupported; no data in either state ->
 * untested; errors or no data only with it on -> broken; corrupt bytes at
 * the receiver with it on -> broken; UDP loss with it on above off's by
 * OFFLOAD_LOSS_POINTS and at least twice off's -> broken; then, for a
 * segmentation offload whose device counters are known: bytes per packet
 * far above the MTU (>= 2x the frame) on and at most about the MTU off is
 * "acting"; not acting -> no-effect. Effective needs it acting (for other
 * kinds, nothing to see in the counters) and a gain: CPU-seconds per GB
 * down, or Gbit/s up, by OFFLOAD_GAIN, with the runs of the two states not
 * overlapping. When the receiver checked both states, the evidence ends
 * with what it found (bytes intact, loss).
 */
enum offload_verdict offload_judge(const struct offload_case *c, char *evidence, size_t len);

#endif
