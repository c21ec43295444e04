/* apply.h - plan and apply a nic: configuration (channels, offloads, IRQ affinity, XPS) */
#ifndef ZCGEN_NIC_APPLY_H
#define ZCGEN_NIC_APPLY_H

#include <stdbool.h>
#include <sys/types.h>

#include "nic/ethnl.h"

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
 * state saved to the state file (nic/state.h) and the changes made in the
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
 * Return: 0 restored and the state file removed; 1 nothing to restore (no
 * state file); -EBUSY; -ESTALE the state file is for another device of that
 * name (the file is kept); -errno (the file is kept).
 */
int nic_restore_dev(const char *root, const char *dev, char *err, size_t errlen, char *note,
		    size_t notelen, pid_t *holder);

#endif
