/* nic.h - nic/'s one outward header: apply, undo, restore, show, the lab, counters */
#ifndef ZCGEN_NIC_H
#define ZCGEN_NIC_H

/*
 * This is the door between gen/ and nic/ (as ethtool's netlink/extapi.h is
 * for its netlink code): gen/ includes no other nic/ header, and the
 * unit test unit_layers_nic (tests/layers.sh) fails when one does. nic/
 * knows nothing of io_uring or of the generator; it deals in devices, queues
 * and CPUs. Its other headers (ethnl.h, irq.h, xps.h, qstats.h, state.h,
 * lab.h, ...) are nic/'s own and its unit tests'. A device is changed in one place: nic_apply() and the handle
 * it returns (nic_features_change(), nic_undo(), nic_keep()).
 *
 * Below, as everywhere in nic/: functions return 0 or -errno, never print.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/ethtool.h> /* ETH_GSTRING_LEN */

/* ---- What ethtool says of a device (types shared with nic/ethnl.c) ---- */

/*
 * Channel counts. A device has either combined channels (most NICs) or
 * separate rx and tx ones (veth): a max of 0 means the kind does not exist.
 */
struct ethnl_channels {
	uint32_t rx, tx, other, combined;
	uint32_t rx_max, tx_max, other_max, combined_max;
};

/* Ring (descriptor queue) sizes; a max of 0 means the ring kind does not exist. */
struct ethnl_rings {
	uint32_t rx, rx_mini, rx_jumbo, tx;
	uint32_t rx_max, rx_mini_max, rx_jumbo_max, tx_max;
};

/* One netdev feature, by the kernel's name ("tx-tcp-segmentation"). */
struct ethnl_feature {
	char name[ETH_GSTRING_LEN];
	bool active;  /* in effect now */
	bool wanted;  /* what was asked for; differs from active when a dependency forbids it */
	bool fixed;   /* cannot be changed on this device (ethtool's "[fixed]") */
};

struct ethnl_features {
	unsigned int count;          /* every feature the kernel knows, in its bit order */
	struct ethnl_feature *f;
};

/** ethnl_features_free() - free what ethnl_features_get() or nic_features_read() filled */
void ethnl_features_free(struct ethnl_features *fs);

/**
 * ethnl_feature_expand() - the kernel features a user's name stands for
 * @fs: features of the device, from ethnl_features_get()
 * @name: a kernel name ("tx-udp-segmentation") or a name the ethtool program
 *        accepts for -K: short ("tso", "gso", "sg", "tx", "rx", "gro", "lro",
 *        "ufo", "rxvlan", "txvlan", "ntuple", "rxhash") or long
 *        ("tcp-segmentation-offload", "scatter-gather", ...)
 * @idx: where the indexes into @fs->f go
 * @max: room in @idx
 *
 * A kernel name maps to itself. An ethtool name maps, as in ethtool, to the
 * kernel features that match its pattern and can be changed on this device
 * ("tso" is tx-tcp*-segmentation), or to all matching ones when none can.
 *
 * Return: how many indexes were written (at least 1), -ENOENT for a name
 * neither the kernel nor ethtool knows, -ENOSPC when @max is too small.
 */
int ethnl_feature_expand(const struct ethnl_features *fs, const char *name,
			 unsigned int *idx, unsigned int max);

struct ethnl_feature_req {
	const char *name;   /* kernel or ethtool name, see ethnl_feature_expand() */
	bool on;
};

/* What a FEATURES_SET did to one feature, from the kernel's reply. */
struct ethnl_feature_change {
	char name[ETH_GSTRING_LEN];
	bool requested;       /* named (directly or through an ethtool name) in the request */
	bool active;          /* state now */
	bool active_changed;  /* active state differs from before the request */
	bool not_as_requested; /* requested, but not active as asked (fixed, or held back by a dependency) */
};

struct ethnl_features_result {
	unsigned int count;
	struct ethnl_feature_change *c;
};

/** ethnl_features_result_free() - free what a features change filled */
void ethnl_features_result_free(struct ethnl_features_result *res);

/**
 * nic_features_read() - every feature of @dev with its state (`ethtool -k`)
 * @dev: interface name, in the calling thread's network namespace
 * @out: filled; free with ethnl_features_free() (also safe after an error)
 *
 * Return: 0; -ENODEV; -EPROTONOSUPPORT without ethtool netlink; -errno.
 */
int nic_features_read(const char *dev, struct ethnl_features *out);

/* ---- Changing a device: apply, undo, keep, restore (nic/apply.c) ---- */

#define NIC_APPLY_MAX_QUEUES 256
#define NIC_APPLY_CH_KEEP (-1) /* a channel count not given */

/**
 * struct nic_apply_cfg - what to make of a device
 * @ifname: the interface, in the calling thread's network namespace
 * @combined: channel counts to set, NIC_APPLY_CH_KEEP for those not given;
 * @rx:       when all three are NIC_APPLY_CH_KEEP, the TX channels (combined
 * @tx:       where the device has them, else tx) are set to @queues
 * @offloads: features to turn on or off (kernel or ethtool names)
 * @n_offloads: entries in @offloads
 * @irq_auto: pin each queue's IRQs to that queue's CPU ("irq_affinity: auto")
 * @xps_auto: make the CPU of queue i transmit on tx-i ("xps: auto")
 * @queues: queues (rings) the generator will drive, 1..NIC_APPLY_MAX_QUEUES
 * @cpus: CPU of each queue, taken in turn and wrapping; NULL: zcgen chooses,
 *        preferring CPUs local to the device
 * @n_cpus: entries in @cpus
 * @force: allow the interface that carries the default route
 * @mq_counters: give the device an mq root qdisc when it has no other
 *               per-queue TX counters (restored with the rest)
 * @root: "" for the running system
 * @mtu: the MTU to set (nic.mtu), 0 to leave it; restored with the rest
 * @keep_channels: leave the channels as they are, whatever @queues says
 *                 (offload-check: it only locks, snapshots and toggles features)
 * @n_own_cpus: only the first this many of @cpus must be CPUs this process
 *              may use (the rest are other processes', e.g. a fleet's ranks
 *              sharing the device, each of which checked its own); 0: all
 */
struct nic_apply_cfg {
	const char *ifname;
	int combined, rx, tx;
	const struct ethnl_feature_req *offloads;
	unsigned int n_offloads;
	bool irq_auto, xps_auto;
	unsigned int queues;
	const unsigned int *cpus;
	unsigned int n_cpus;
	bool force;
	bool mq_counters;
	const char *root;
	unsigned int mtu;
	bool keep_channels;
	unsigned int n_own_cpus;
};

/**
 * struct nic_apply_out - what nic_apply() did or would do
 * @nq: queues in @cpu
 * @cpu: queue -> CPU map
 * @lines: human-readable change lines ("channels: tx 4 -> 2",
 *         "xps tx-0: 0 -> cpu 0"), in the order they are made
 * @n_lines: entries in @lines
 * @notes: warnings and remarks for the user ("irqbalance (pid 812) runs ...",
 *         "queue 3 is pinned to CPU 9, remote to the device's NUMA node")
 * @n_notes: entries in @notes
 * @err: on failure, why, in words (the kernel's extack message where it refused)
 * @holder: on -EBUSY, the pid that holds the device's lock (0 if unknown)
 * @state_kept: an earlier state file (a `nic pin`) was found and kept, so
 *              that a restore goes back to the state before that pin
 */
struct nic_apply_out {
	unsigned int nq;
	unsigned int cpu[NIC_APPLY_MAX_QUEUES];
	char **lines;
	unsigned int n_lines;
	char **notes;
	unsigned int n_notes;
	char err[1024];
	pid_t holder;
	bool state_kept;
};

/** struct nic_applied - a device zcgen changed and holds locked; see nic_undo() */
struct nic_applied;

/**
 * nic_apply() - check, snapshot, then change a device as @cfg says
 * @cfg: the configuration
 * @dry_run: only check and describe: nothing is locked, saved or changed
 * @out: filled (free with nic_apply_out_free(), also after an error)
 * @h: output (not with @dry_run): the handle for nic_undo() or nic_keep()
 *
 * Everything is checked before anything changes: the device exists, the
 * queue count fits its maximum, the CPUs exist and the process may use them,
 * the offload names are known, CAP_NET_ADMIN, and the device does not carry
 * the default route (unless @cfg->force). Then the device is locked, its
 * state saved to the state file (nic/state.h; an earlier file is kept, one
 * that is stale is set aside as STATE.stale, with a note) and the changes made in the
 * order channels, offloads, MTU, mq qdisc, IRQ affinity, XPS. A failure half way
 * puts back what was changed and removes the state file.
 *
 * Return: 0; -ENODEV unknown device; -ERANGE too many queues or a CPU out of
 * range; -ENOENT unknown offload; -EPERM no CAP_NET_ADMIN; -EADDRINUSE the
 * device carries the default route; -EBUSY another process holds the device;
 * -errno from the kernel. @out->err says why in each case.
 */
int nic_apply(const struct nic_apply_cfg *cfg, bool dry_run, struct nic_apply_out *out,
	      struct nic_applied **h);

/**
 * nic_undo() - put the device back as it was before nic_apply(), release it
 * @h: from nic_apply(); freed
 * @err: output: what could not be put back ("" on success)
 * @errlen: size of @err
 *
 * Restores the snapshot nic_apply() took (its own, even when an earlier
 * pin's state file was kept, which then stays for `nic restore`). The state
 * file is removed when nic_apply() created it and everything came back;
 * otherwise it stays, for `zcgen nic restore`.
 *
 * Return: 0 or -errno.
 */
int nic_undo(struct nic_applied *h, char *err, size_t errlen);

/**
 * nic_keep() - leave the changes in place (`nic pin`), release the lock
 * @h: from nic_apply(); freed
 *
 * The state file stays, for `zcgen nic restore`.
 */
void nic_keep(struct nic_applied *h);

/** nic_apply_out_free() - free the lines and notes of @out */
void nic_apply_out_free(struct nic_apply_out *out);

/**
 * nic_restore_dev() - `zcgen nic restore`: put back what the state file holds
 * @root: "" for the running system
 * @dev: interface name
 * @err: output: why it failed or what could not be put back
 * @errlen: size of @err
 * @note: output: what was found besides a state file ("" when nothing): a
 *        STATE.tmp left by a zcgen killed while saving (restored from when
 *        whole, removed when half-written; nic/state.h)
 * @notelen: size of @note
 * @holder: output: on -EBUSY, the pid holding the lock
 *
 * A stale state file (nic/state.h, nic_state_stale(): saved in another
 * boot, in a namespace that is gone but had this one's inode, or from
 * another device of that name) is not applied: it is renamed to STATE.stale
 * and @err says why.
 *
 * Return: 0 restored and the state file removed; 1 nothing to restore (no
 * state file); -EBUSY; -ESTALE the state file was stale, set aside, nothing
 * restored; -errno (the file is kept).
 */
int nic_restore_dev(const char *root, const char *dev, char *err, size_t errlen, char *note,
		    size_t notelen, pid_t *holder);

/**
 * nic_features_change() - turn features of the device @h holds on or off
 * @h: from nic_apply(); the device stays locked and its snapshot kept, so
 *     that nic_undo() (or `zcgen nic restore` after a kill) puts them back
 * @req: the changes; names as ethnl_feature_expand() takes them
 * @n: entries in @req
 * @res: if not NULL, what the kernel changed (see ethnl_features_set());
 *       free with ethnl_features_result_free()
 * @kmsg: output: the kernel's message for the request ("" when none), also
 *        a warning attached to a success
 * @kmsglen: size of @kmsg
 *
 * offload-check toggles the offload under test with this, between runs.
 *
 * Return: 0 or -errno.
 */
int nic_features_change(struct nic_applied *h, const struct ethnl_feature_req *req, unsigned int n,
			struct ethnl_features_result *res, char *kmsg, size_t kmsglen);

/**
 * nic_features_now() - the features of the device @h holds, as they are now
 * @h: from nic_apply()
 * @out: filled; free with ethnl_features_free() (also safe after an error)
 *
 * Return: 0 or -errno.
 */
int nic_features_now(struct nic_applied *h, struct ethnl_features *out);

/**
 * nic_features_put_back() - every changeable feature back as nic_apply() found it
 * @h: from nic_apply(); still held afterwards
 * @err: output: what could not be put back ("" on success)
 * @errlen: size of @err
 *
 * Return: 0 or -errno.
 */
int nic_features_put_back(struct nic_applied *h, char *err, size_t errlen);

/**
 * nic_state_paths() - the state and lock file names for @dev in this network namespace
 * @dev: interface name
 * @state: output: DIR/net-INODE-DEV.json
 * @lock: output: DIR/net-INODE-DEV.lock (may be NULL)
 * @len: size of each buffer
 *
 * Return: 0, -ENAMETOOLONG, or -errno from stat("/proc/self/ns/net").
 */
int nic_state_paths(const char *dev, char *state, char *lock, size_t len);

/**
 * nic_discard_dev() - `zcgen nic restore --discard`: remove the state file, restore nothing
 * @dev: interface name
 * @path: output: the state file's name (for a message), once the lock is held;
 *        "" when taking the lock failed
 * @pathlen: size of @path
 * @holder: output: on -EBUSY, the pid holding the lock (0 if unknown)
 *
 * Return: 0 removed; 1 there was none; -EBUSY another process holds the
 * device; -errno (taking the lock, or removing @path).
 */
int nic_discard_dev(const char *dev, char *path, size_t pathlen, pid_t *holder);

/**
 * nic_cap_net_admin() - whether this process may change a NIC (CAP_NET_ADMIN)
 *
 * Return: 1 yes, 0 no, -errno when it cannot be told.
 */
int nic_cap_net_admin(void);

/* ---- `zcgen nic show`: what a device is and does, collected in one go (nic/show.c) ---- */

#define NIC_SHOW_MAX_IRQS 4

/**
 * struct nic_show_queue - one TX queue
 * @nirqs: IRQs of the queue (0: none of its own)
 * @irq: their numbers, ascending
 * @irq_cpus_known: @irq_cpus was read (at least one IRQ's affinity)
 * @irq_cpus: the CPUs its IRQs may run on, as a list ("0-3,8"; "" none)
 * @xps_cpus_known: @xps_cpus was read
 * @xps_cpus: the CPUs that transmit on it (XPS), as a list ("" none)
 * @has_tx: @tx_bytes and @tx_packets hold its counters
 * @tx_bytes: bytes sent; 0 with &nic_show.tx_no_bytes
 * @tx_packets: packets sent (see struct qstats_queue)
 */
struct nic_show_queue {
	unsigned int nirqs;
	int irq[NIC_SHOW_MAX_IRQS];
	bool irq_cpus_known, xps_cpus_known;
	char irq_cpus[1024];
	char xps_cpus[1024];
	bool has_tx;
	uint64_t tx_bytes, tx_packets;
};

/**
 * struct nic_show - everything `zcgen nic show` prints
 * @device: interface name
 * @have_driver: @driver, @driver_version and @bus_info were read (`ethtool -i`)
 * @have_speed: @speed_mbps is known
 * @have_channels: @channels was read (the driver has channels)
 * @have_rings: @rings was read (the driver has ring settings)
 * @features: every feature the kernel knows; unnamed bits have name ""
 * @irq_source: where the IRQs came from (irq_source_name())
 * @counter_source: where the counters came from (qstats_source_name())
 * @tx_no_bytes: the counter source counts no bytes (qdisc-drops)
 * @nqueues: TX queues, entries in @q
 * @q: one per TX queue
 */
struct nic_show {
	char device[IF_NAMESIZE];
	bool have_driver;
	char driver[32], driver_version[32], bus_info[32];
	bool have_speed;
	uint32_t speed_mbps;
	bool have_channels, have_rings;
	struct ethnl_channels channels;
	struct ethnl_rings rings;
	struct ethnl_features features;
	const char *irq_source, *counter_source;
	bool tx_no_bytes;
	unsigned int nqueues;
	struct nic_show_queue *q;
};

/**
 * nic_show_read() - collect what `zcgen nic show` prints about @dev
 * @dev: interface name, in the calling thread's network namespace
 * @out: filled; free with nic_show_free() (also after an error)
 * @err: output: why it failed, naming the device
 * @errlen: size of @err
 *
 * What a driver lacks (ethtool -i, link settings, channels, rings, per-queue
 * counters) is left out (have_* false, counter_source "none"), not an error.
 *
 * Return: 0; -ENODEV; -errno when the features, the IRQs or the TX queues
 * cannot be read.
 */
int nic_show_read(const char *dev, struct nic_show *out, char *err, size_t errlen);

/** nic_show_free() - free what nic_show_read() allocated */
void nic_show_free(struct nic_show *s);

/* ---- Per-TX-queue counters (nic/qstats.c) ---- */

/** enum qstats_source - where per-queue TX counters came from, best first */
enum qstats_source {
	QSTATS_SRC_NONE = 0,	/* "none": the device has no per-queue counters we can read */
	QSTATS_SRC_NETDEV,	/* "netdev-netlink": NETDEV_CMD_QSTATS_GET, scope queue (6.9+) */
	QSTATS_SRC_DRIVER,	/* "driver-stats": ethtool -S names such as tx_queue_N_bytes */
	QSTATS_SRC_MQ,		/* "mq-qdisc": the child qdiscs of an mq root qdisc */
	QSTATS_SRC_DROPS,	/* "qdisc-drops": every TX queue's qdisc is a `pfifo limit 0`
				 * (the drop lab): its drop counter counts what was sent */
};

#define QSTATS_MAX_QUEUES 256

/** struct qstats_queue - counters of one TX queue since the source started counting */
struct qstats_queue {
	uint64_t bytes;
	uint64_t packets;	/* mq-qdisc counts GSO segments, not super-packets;
				 * qdisc-drops counts skbs (a GSO send once) */
};

/** struct qstats_tx - result of qstats_tx_read(); q[i] is TX queue i */
struct qstats_tx {
	enum qstats_source source;
	unsigned int nqueues;
	bool no_bytes;		/* the source counts no bytes (qdisc-drops: the kernel counts
				 * a dropped packet, not its length); bytes are 0 */
	struct qstats_queue q[QSTATS_MAX_QUEUES];
};

/**
 * qstats_source_name() - "none", "netdev-netlink", "driver-stats", "mq-qdisc" or "qdisc-drops"
 * @src: the source
 *
 * Return: a static string.
 */
const char *qstats_source_name(enum qstats_source src);

/** struct nic_counters - open sockets for reading counters; see nic_counters_open() */
struct nic_counters;

/**
 * nic_counters_open() - open what the counters are read through
 * @out: the handle, to be freed with nic_counters_close()
 *
 * The sockets act in the network namespace of the thread that opens them.
 * The driver's own statistics (`ethtool -S`) are one of the sources.
 *
 * Return: 0 or -errno.
 */
int nic_counters_open(struct nic_counters **out);

/** nic_counters_close() - close what nic_counters_open() opened; NULL is allowed */
void nic_counters_close(struct nic_counters *c);

/**
 * nic_tx_read() - bytes and packets per TX queue, from the best source
 * @c: from nic_counters_open()
 * @ifname: interface name
 * @out: output; out->source says which source answered
 *
 * As qstats_tx_read(): a device with no per-queue counters gives
 * QSTATS_SRC_NONE, which is not an error. Read later samples with
 * nic_tx_read_from() and the same source.
 *
 * Return: 0; -ENODEV; -errno.
 */
int nic_tx_read(struct nic_counters *c, const char *ifname, struct qstats_tx *out);

/**
 * nic_tx_read_from() - bytes and packets per TX queue, from one given source
 *
 * Return: 0; -ENOENT when that source has none for the device; -ENODEV; -errno.
 */
int nic_tx_read_from(struct nic_counters *c, const char *ifname, enum qstats_source src,
		     struct qstats_tx *out);

/**
 * nic_link_tx() - the device's own TX counters (IFLA_STATS64 tx_bytes, tx_packets)
 *
 * Return: 0; -ENODEV; -errno.
 */
int nic_link_tx(struct nic_counters *c, const char *ifname, uint64_t *bytes, uint64_t *packets);

/* ---- Small facts about a device ---- */

/**
 * nic_driver_name() - the driver's name (`ethtool -i`: "mlx5_core", "veth")
 * @dev: interface name
 * @buf: output
 * @len: size of @buf
 *
 * Return: 0; -ENODEV; -EOPNOTSUPP; -errno.
 */
int nic_driver_name(const char *dev, char *buf, size_t len);

/**
 * nic_mtu() - @dev's MTU
 *
 * Return: 0; -ENODEV; -errno.
 */
int nic_mtu(const char *dev, unsigned int *mtu);

/**
 * nic_cpulist_parse() - the CPUs of a list such as "0-3,8" ("" none), ascending, each once
 * @s: the text, as the kernel writes CPU lists
 * @cpus: output
 * @max: room in @cpus
 * @n: output: how many
 *
 * Return: 0; -EINVAL (syntax, a CPU the kernel's sets cannot hold); -ENOSPC.
 */
int nic_cpulist_parse(const char *s, unsigned int *cpus, unsigned int max, unsigned int *n);

/* ---- The lab: two namespaces, a veth pair, a sink (nic/lab.c, docs/lab.md) ---- */

/*
 * Layout (defaults; PREFIX is "zcgen-lab" or $ZCGEN_LAB_PREFIX):
 *
 *   netns PREFIX-tx                          netns PREFIX-rx
 *   zcl-tx0 198.18.0.1/30  <--- veth --->    zcl-rx0 198.18.0.2/30
 *           fd00:7a63::1/64                          fd00:7a63::2/64
 *   root qdisc mq (per-TX-queue counters)    zcgen sink tcp+udp on port 5201
 *
 * 198.18.0.0/15 is the benchmarking range (RFC 2544); the device names
 * live inside the lab's namespaces, so they cannot clash with the host's.
 * State (sink pids and logs, a lock) lives in LAB_RUN_DIR, one set of files
 * per prefix, so that two labs with different prefixes never meet.
 */
#define LAB_PREFIX_DEFAULT "zcgen-lab"
#define LAB_PREFIX_ENV "ZCGEN_LAB_PREFIX"
#define LAB_PREFIX_MAX 32          /* so that "PREFIX-tx" stays a short file name */
#define LAB_NETNS_MAX (LAB_PREFIX_MAX + 4)
#define LAB_RUN_DIR "/run/zcgen/lab"
#define LAB_MAX_QUEUES 64
#define LAB_DEFAULT_QUEUES 2
#define LAB_DEFAULT_MTU 1500
#define LAB_MIN_MTU 68             /* IPv4 minimum; IPv6 needs 1280 and is skipped below */
#define LAB_MAX_MTU 65535
#define LAB_SINK_PORT 5201
#define LAB_SINK_LISTEN "{listen}"  /* in lab_cfg.sink_argv: the address the sink listens on */
#define LAB_SINK_ARGV_MAX 32       /* entries of lab_cfg.sink_argv, its NULL included */
#define LAB_DROP_MTU 65535         /* the drop lab's default: the largest datagram in one skb */

/*
 * What the lab models (docs/lab.md):
 * - LAB_VETH: a path to a receiver; zcl-tx0 has an mq root (per-queue
 *   counters) and the sink answers on zcl-rx0.
 * - LAB_DROP: the sender alone. zcl-tx0 has an mq root with a `pfifo
 *   limit 0` child per queue (a single-queue device: that pfifo at the
 *   root), so every skb is built by the whole stack and dropped at the
 *   qdisc, before segmentation; a permanent neighbour entry for the far
 *   addresses, since ARP and ND are dropped too; no sink.
 */
enum lab_flavour { LAB_VETH = 0, LAB_DROP };

/* What to build. Fill with lab_cfg_init(), then change what you need. */
struct lab_cfg {
	char prefix[LAB_PREFIX_MAX + 1];
	unsigned queues;            /* TX and RX queues on each side, 1..LAB_MAX_QUEUES */
	unsigned mtu;               /* LAB_MIN_MTU..LAB_MAX_MTU */
	bool sink;                  /* start a sink (@sink_argv) in the receiving namespace */
	const char *sink_exe;       /* binary to run as the sink; NULL: /proc/self/exe */
	/*
	 * The sink's command line, from the caller: nic/ knows no program's
	 * options. LAB_SINK_LISTEN in it stands for the address to take TCP
	 * and UDP on ("[::]:PORT", or "0.0.0.0:PORT" where the lab has no
	 * IPv6); @sink_gro_arg is added at the end for a sink that is to take
	 * coalesced datagrams, and a running sink's command line is searched
	 * for it to tell whether it has GRO. Needed to start a sink; NULL: a
	 * lab whose sink must be (re)started is refused with -EINVAL.
	 */
	const char *const *sink_argv;
	const char *sink_gro_arg;
	uint16_t sink_port;
	int gro;                    /* 1: GRO on the receiving veth, the sink with --gro; 0: off;
				     * LAB_GRO_KEEP: as the lab is (a new lab: off) */
	enum lab_flavour flavour;   /* LAB_DROP: no sink, gro must not be 1 */
};

#define LAB_GRO_KEEP (-1)

/* What the rest of the program needs to use the lab. */
struct lab_info {
	char prefix[LAB_PREFIX_MAX + 1];
	char tx_netns[LAB_NETNS_MAX];   /* sending side, as `ip netns` names it */
	char rx_netns[LAB_NETNS_MAX];
	char tx_dev[IF_NAMESIZE];       /* inside tx_netns */
	char rx_dev[IF_NAMESIZE];       /* inside rx_netns */
	char tx_ipv4[INET_ADDRSTRLEN];
	char rx_ipv4[INET_ADDRSTRLEN];
	unsigned ipv4_prefixlen;
	char tx_ipv6[INET6_ADDRSTRLEN]; /* "" where IPv6 is disabled or the MTU is below 1280 */
	char rx_ipv6[INET6_ADDRSTRLEN];
	unsigned ipv6_prefixlen;
	unsigned queues;
	unsigned mtu;
	uint16_t sink_tcp_port;         /* 0: no sink running */
	uint16_t sink_udp_port;
	pid_t sink_tcp_pid;             /* 0: none */
	pid_t sink_udp_pid;             /* one sink takes both: the same pid */
	bool reused;                    /* lab_up found the lab in place and kept it */
	/*
	 * UDP GRO on the receiving veth, read from the device: all three are
	 * needed for datagrams sent one by one to be coalesced (docs/lab.md).
	 */
	bool gro;                       /* rx_gro && rx_udp_gro_forwarding && napi_threaded */
	bool rx_gro;                    /* feature rx-gro (ethtool's "gro"): veth's NAPI mode */
	bool rx_udp_gro_forwarding;     /* feature rx-udp-gro-forwarding: UDP skbs take the NAPI path */
	bool napi_threaded;             /* /sys/class/net/zcl-rx0/threaded: NAPI polls in batches */
	bool sink_gro;                  /* the running sink has --gro */
	enum lab_flavour flavour;       /* read from the device's qdiscs */
};

/**
 * lab_flavour_name() - "veth" or "drop", the names of --lab=KIND and of the
 * reports' environment.lab
 * @f: the flavour
 *
 * Return: a static string.
 */
const char *lab_flavour_name(enum lab_flavour f);

/**
 * lab_flavour_parse() - the flavour named @name ("veth" or "drop")
 * @name: the name; NULL or "" is "veth" (a plain --lab)
 * @out: the flavour
 *
 * Return: 0, or -EINVAL for another name.
 */
int lab_flavour_parse(const char *name, enum lab_flavour *out);

/**
 * lab_cfg_init() - defaults: 2 queues, MTU 1500, a sink on port 5201, GRO kept
 * @cfg: filled in
 *
 * The prefix comes from $ZCGEN_LAB_PREFIX when set (tests use it so that
 * they never touch a lab a user has up), else "zcgen-lab".
 */
void lab_cfg_init(struct lab_cfg *cfg);

/**
 * lab_check_cfg() - validate a configuration without touching anything
 * @cfg: the configuration
 * @msg: buffer for a message naming the bad value and its limits
 * @msglen: its size
 *
 * Return: 0, or -EINVAL with @msg filled in.
 */
int lab_check_cfg(const struct lab_cfg *cfg, char *msg, size_t msglen);

/**
 * lab_up() - build the lab, or reuse it when it is already in place
 * @cfg: what to build
 * @out: filled with the lab's layout on success
 * @msg: buffer for the reason of a failure (the `ip` program's own words
 *       where it refused)
 * @msglen: its size
 *
 * Idempotent: a lab with the same prefix and queue count is kept (its MTU
 * set and a dead sink restarted); one with another queue count, or one
 * found half built, is torn down and built again (with the GRO setting it
 * had, under LAB_GRO_KEEP); so is one of the other flavour. A kept lab whose GRO setting differs from
 * @cfg->gro is re-configured in place: the device's GRO settings changed
 * and a running sink restarted with or without --gro. Whatever fails half way
 * is torn down before returning. Needs CAP_SYS_ADMIN and CAP_NET_ADMIN.
 * Forks and runs `ip`, `tc` and the sink; never prints.
 *
 * Return: 0, -EPERM without the capabilities, -EINVAL for a bad @cfg,
 * or another -errno with @msg filled in.
 */
int lab_up(const struct lab_cfg *cfg, struct lab_info *out, char *msg, size_t msglen);

/**
 * lab_down() - stop the sinks and delete both namespaces
 * @cfg: only @cfg->prefix is used
 * @msg: buffer for the reason of a failure
 * @msglen: its size
 *
 * Idempotent: a lab that is absent, or half there, is not an error.
 *
 * Return: 0, -EPERM without the capabilities, or another -errno.
 */
int lab_down(const struct lab_cfg *cfg, char *msg, size_t msglen);

/**
 * lab_query() - describe the lab that is up, without changing it
 * @cfg: only @cfg->prefix, @cfg->sink_port and @cfg->sink_gro_arg are used
 * @out: filled with the lab's layout (queues and MTU read from the device)
 * @msg: buffer for what is missing when the lab is incomplete
 * @msglen: its size
 *
 * Return: 0 when the lab is complete, -ENOENT when there is none,
 * -ENOLINK when it is half there (@msg says what is missing),
 * or another -errno.
 */
int lab_query(const struct lab_cfg *cfg, struct lab_info *out, char *msg, size_t msglen);

/**
 * lab_enter() - move the calling process into the lab's sending side
 * @info: the lab, from lab_up() or lab_query()
 * @msg: buffer for the reason of a failure
 * @msglen: its size
 *
 * Joins the sending network namespace, then a new mount namespace in which
 * /sys is mounted again, as `ip netns exec` does. Why: setns() changes the
 * network namespace of sockets and netlink, but /sys/class/net keeps showing
 * the namespace in which sysfs was mounted, so XPS masks and queue
 * directories would be those of the host (or absent). The new mount
 * namespace is private, so the host's /sys is left alone.
 *
 * Call it before any thread is created: unshare(CLONE_NEWNS) is refused in
 * a multi-threaded process, and setns() moves only the calling thread.
 *
 * Return: 0, -EBUSY when the process already has threads, or -errno.
 */
int lab_enter(const struct lab_info *info, char *msg, size_t msglen);

#endif
