/* sysfs.h - read and write small files under a root directory (/proc, /sys or a test tree) */
#ifndef ZCGEN_NIC_SYSFS_H
#define ZCGEN_NIC_SYSFS_H

#include <stddef.h>

/*
 * Every file the IRQ, XPS and NUMA code touches is named relative to a root
 * directory: "" or "/" is the running system, anything else a tree laid out
 * like / (with proc/ and sys/ in it), which is how the tests give us an mlx5
 * or i40e machine on a host that has neither.
 */

/**
 * sysfs_path() - build ROOT + printf(FMT, ...) into @buf
 * @buf: output
 * @len: size of @buf
 * @root: "" or "/" for the real system, else a directory
 * @fmt: absolute path format ("/sys/class/net/%s/device")
 *
 * Return: 0, or -ENAMETOOLONG.
 */
int sysfs_path(char *buf, size_t len, const char *root, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/**
 * sysfs_read() - read a small file, trailing newlines stripped
 * @root: as for sysfs_path()
 * @buf: output, always NUL-terminated on success
 * @len: size of @buf
 * @fmt: absolute path format
 *
 * Return: 0, -ENOSPC if the file does not fit, or -errno from open/read.
 */
int sysfs_read(const char *root, char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/**
 * sysfs_write() - write @val to a file in one write(2)
 * @root: as for sysfs_path()
 * @val: the text; a newline is not added (the kernel's parsers do not need one)
 * @fmt: absolute path format
 *
 * One write(2) call matters: sysfs and procfs parse each write on its own.
 *
 * Return: 0 or -errno (the kernel's refusal, e.g. -EINVAL or -EIO, as is).
 */
int sysfs_write(const char *root, const char *val, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * sysfs_exists() - whether a path exists under @root
 * @root: as for sysfs_path()
 * @fmt: absolute path format
 *
 * Return: 1 if it exists, 0 if not.
 */
int sysfs_exists(const char *root, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * sysfs_dev_attr() - find a device attribute of network interface @ifname
 * @root: as for sysfs_path()
 * @ifname: interface name
 * @attr: attribute (file or directory) name: "msi_irqs", "local_cpulist", ...
 * @rel: output: the path relative to @root ("/sys/class/net/eth0/device/../msi_irqs")
 * @len: size of @rel
 *
 * Looks in /sys/class/net/@ifname/device, then in its parent: virtio-net's
 * device is the virtio device, and the PCI attributes live one level up.
 *
 * Return: 0; -ENODEV if @ifname does not exist; -ENOENT if it has no device
 * (veth) or neither place has @attr.
 */
int sysfs_dev_attr(const char *root, const char *ifname, const char *attr, char *rel, size_t len);

/**
 * sysfs_dev_name() - basename of the target of /sys/class/net/@ifname/device
 * @root: as for sysfs_path()
 * @ifname: interface name
 * @buf: output ("0000:08:00.0" for a PCI NIC, "virtio2" for virtio-net)
 * @len: size of @buf
 *
 * Return: 0; -ENOENT if the interface has no device link; -errno.
 */
int sysfs_dev_name(const char *root, const char *ifname, char *buf, size_t len);

#endif
