/* state.h - what zcgen is about to change on a NIC, saved so that it can be put back */
#ifndef ZCGEN_NIC_STATE_H
#define ZCGEN_NIC_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

#include "nic/nic.h"

/*
 * A snapshot is a JSON object (see docs/nic.md, "State file"): channels,
 * rings, the wanted value of every changeable feature, the affinity of the
 * device's queue IRQs, the XPS mask of every TX queue and the root qdisc's
 * kind. It is saved under NIC_STATE_DIR in a file named after the network
 * namespace (the inode of /proc/self/ns/net) and the device, mode 0600,
 * before anything is changed, and removed once everything is back.
 *
 * Next to it lives a lock file, held with flock() for as long as a process
 * changes the device (a run, a pin, a restore); it holds that process's pid
 * so that a second one can say who is in the way.
 *
 * The kernel gives a deleted namespace's inode to a later one, so a file's
 * name does not tell which namespace wrote it: a lab namespace killed with
 * its run, and a new one with the same inode and a device of the same name,
 * share a file name. The snapshot therefore also holds what is never reused:
 * the namespace's cookie (SO_NETNS_COOKIE, Linux 5.14, unique within a boot),
 * the boot id, and the device's ifindex (unique within a namespace while the
 * device lives; a device made again gets another). nic_state_stale() compares
 * them; a stale file is set aside as STATE.stale (nic_state_set_aside()).
 */
#define NIC_STATE_DIR "/run/zcgen/nic"
#define NIC_STATE_DIR_ENV "ZCGEN_NIC_STATE_DIR" /* overrides NIC_STATE_DIR (unit tests) */
#define NIC_STATE_VERSION 1
#define NIC_STATE_STALE_SUFFIX ".stale" /* a stale state file is renamed to STATE.stale */

struct ethnl;

/** struct nic_lock - an flock() held on a device's lock file */
struct nic_lock {
	int fd;                 /* -1: not held */
	char lock_path[512];
	char state_path[512];
};

/* nic_state_paths() is declared in nic/nic.h */

/**
 * nic_state_lock() - take the device's lock without waiting
 * @dev: interface name
 * @lk: output; release with nic_state_unlock()
 * @holder: output: pid of the process holding it when -EBUSY (0 if unknown)
 *
 * Creates NIC_STATE_DIR (0700) as needed.
 *
 * Return: 0; -EBUSY when another process holds the lock; -errno.
 */
int nic_state_lock(const char *dev, struct nic_lock *lk, pid_t *holder);

/**
 * nic_state_unlock() - release a lock from nic_state_lock(); safe when not held
 * @lk: the lock
 */
void nic_state_unlock(struct nic_lock *lk);

/**
 * nic_state_snapshot() - read everything zcgen may change on @dev
 * @nl: ethtool netlink handle, in @dev's network namespace
 * @root: "" for the running system (see nic/sysfs.h)
 * @dev: interface name
 * @out: output: a new JSON object (json_decref() it)
 *
 * Return: 0; -ENODEV; -errno.
 */
int nic_state_snapshot(struct ethnl *nl, const char *root, const char *dev, json_t **out);

/**
 * nic_state_identity() - what tells this namespace, boot and device apart: set on @st
 * @dev: interface name, in the calling thread's network namespace
 * @st: a JSON object: gets "ifindex" (when @dev exists), "netns_inode",
 *      "netns_cookie" (where the kernel has SO_NETNS_COOKIE, Linux 5.14) and
 *      "boot_id" (/proc/sys/kernel/random/boot_id); a key that cannot be
 *      read is left out, and then not compared by nic_state_stale()
 *
 * nic_state_snapshot() puts the same keys into every snapshot.
 *
 * Return: 0, or -ENOMEM.
 */
int nic_state_identity(const char *dev, json_t *st);

/**
 * nic_state_stale() - whether a saved snapshot belongs to another boot, namespace or device
 * @saved: a loaded state file (nic_state_load())
 * @now: nic_state_identity() of the device now (or a fresh snapshot)
 * @why: output: on 1, why, in words ("" on 0)
 * @len: size of @why
 *
 * Stale: another boot id; another netns cookie (a namespace that is gone,
 * whose inode the kernel gave to this one); another ifindex (the device of
 * that name was deleted and made again). A key missing on either side is
 * not compared, so a file from before the cookie and boot id (or from a
 * kernel without SO_NETNS_COOKIE) is judged by its ifindex alone.
 *
 * Return: 1 stale, 0 not.
 */
int nic_state_stale(const json_t *saved, const json_t *now, char *why, size_t len);

/**
 * nic_state_origin() - "pid 4242, saved 2026-12-04 23:50:58 UTC": who wrote a snapshot, and when
 * @st: a snapshot
 * @buf: output
 * @len: size of @buf
 *
 * Return: @buf.
 */
const char *nic_state_origin(const json_t *st, char *buf, size_t len);

/**
 * nic_state_set_aside() - rename a stale state file to STATE.stale, over an earlier one
 * @lk: a held lock (names the state file)
 * @from: the file to move: the state file, or its STATE.tmp
 * @to: output: where it went
 * @len: size of @to
 *
 * Kept rather than deleted, so that what it held can still be read; the
 * directory is synced as nic_state_save() does.
 *
 * Return: 0 or -errno.
 */
int nic_state_set_aside(const struct nic_lock *lk, const char *from, char *to, size_t len);

/**
 * nic_state_save() - write a snapshot to the lock's state file, mode 0600
 * @lk: a held lock (names the file)
 * @st: the snapshot
 *
 * Written to STATE.tmp, synced, renamed and the directory synced, so that a
 * crash leaves either no state file or a whole one (and perhaps a STATE.tmp:
 * see nic_state_load_unfinished()).
 *
 * Return: 0 or -errno.
 */
int nic_state_save(const struct nic_lock *lk, const json_t *st);

/**
 * nic_state_load() - read the state file named by @lk
 * @lk: a held lock
 * @out: output: the snapshot (json_decref() it)
 *
 * Return: 0; -ENOENT when there is no state file; -EINVAL when it is not
 * one of ours; -errno.
 */
int nic_state_load(const struct nic_lock *lk, json_t **out);

/**
 * nic_state_tmp_path() - the name nic_state_save() writes to before the rename
 * @lk: the lock (names the state file)
 * @path: output: STATE.tmp
 * @len: size of @path
 *
 * Return: 0 or -ENAMETOOLONG.
 */
int nic_state_tmp_path(const struct nic_lock *lk, char *path, size_t len);

/**
 * nic_state_load_unfinished() - read the STATE.tmp that a process killed
 * inside nic_state_save() left behind
 * @lk: a held lock
 * @out: output: the snapshot (json_decref() it)
 *
 * nic_apply() saves before it changes anything, so such a process changed
 * nothing; a whole snapshot in it is the device's state all the same.
 *
 * Return: 0; -ENOENT when there is none; -EINVAL when it is half-written
 * (not a whole snapshot); -errno.
 */
int nic_state_load_unfinished(const struct nic_lock *lk, json_t **out);

/**
 * nic_state_remove() - delete the state file named by @lk, and a STATE.tmp beside it
 * @lk: a held lock
 *
 * Return: 0 (also when there was none) or -errno.
 */
int nic_state_remove(const struct nic_lock *lk);

/**
 * nic_state_root_qdisc() - kind of @dev's root qdisc ("mq", "noqueue", "fq_codel")
 * @dev: interface name
 * @kind: output
 * @len: size of @kind
 *
 * A device without a root qdisc of its own (veth) gives "noqueue".
 *
 * Return: 0; -ENODEV; -errno.
 */
int nic_state_root_qdisc(const char *dev, char *kind, size_t len);

/**
 * nic_state_restore() - put back what a snapshot holds
 * @nl: ethtool netlink handle, in @dev's network namespace
 * @root: "" for the running system
 * @dev: interface name
 * @st: a snapshot from nic_state_snapshot() or nic_state_load()
 * @err: output: what could not be put back, one "what: why" per line ("" on success)
 * @errlen: size of @err
 *
 * In an order that works: channels first (tx-N directories come and go with
 * them, and a channel change may reallocate IRQs), then features, rings,
 * IRQ affinity (IRQs looked up again), XPS masks, and the root qdisc. Every
 * step is tried even when an earlier one failed; the state file is not
 * touched (the caller removes it on success).
 *
 * Return: 0 when everything is back; -ESTALE when @dev is not the device the
 * snapshot was taken from (another ifindex); else the first -errno.
 */
int nic_state_restore(struct ethnl *nl, const char *root, const char *dev, const json_t *st,
		      char *err, size_t errlen);

/**
 * nic_state_restore_features() - only the features of a snapshot: every changeable one back
 * @nl: open ethtool netlink handle
 * @dev: interface name
 * @st: a snapshot
 * @err: output: what could not be put back ("" on success)
 * @errlen: size of @err
 *
 * Return: 0 or the first -errno.
 */
int nic_state_restore_features(struct ethnl *nl, const char *dev, const json_t *st, char *err,
			       size_t errlen);

#endif
