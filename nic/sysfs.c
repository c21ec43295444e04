/* sysfs.c - read and write small files under a root directory (/proc, /sys or a test tree) */
#define _GNU_SOURCE
#include "nic/sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int vpath(char *buf, size_t len, const char *root, const char *fmt, va_list ap)
{
	size_t rl;
	int n;

	if (!root || !strcmp(root, "/"))
		root = "";
	rl = strlen(root);
	while (rl > 0 && root[rl - 1] == '/')
		rl--;
	if (rl >= len)
		return -ENAMETOOLONG;
	memcpy(buf, root, rl);
	n = vsnprintf(buf + rl, len - rl, fmt, ap);
	if (n < 0 || (size_t)n >= len - rl)
		return -ENAMETOOLONG;
	return 0;
}

int sysfs_path(char *buf, size_t len, const char *root, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vpath(buf, len, root, fmt, ap);
	va_end(ap);
	return ret;
}

int sysfs_read(const char *root, char *buf, size_t len, const char *fmt, ...)
{
	char path[4096];
	size_t got = 0;
	va_list ap;
	int fd, ret;

	va_start(ap, fmt);
	ret = vpath(path, sizeof(path), root, fmt, ap);
	va_end(ap);
	if (ret)
		return ret;
	if (len == 0)
		return -ENOSPC;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t r = read(fd, buf + got, len - got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out_close;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (got == len) {
			ret = -ENOSPC;
			goto out_close;
		}
	}
	while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == ' '))
		got--;
	buf[got] = '\0';
out_close:
	close(fd);
	return ret;
}

int sysfs_write(const char *root, const char *val, const char *fmt, ...)
{
	char path[4096];
	size_t len = strlen(val);
	va_list ap;
	ssize_t w;
	int fd, ret;

	va_start(ap, fmt);
	ret = vpath(path, sizeof(path), root, fmt, ap);
	va_end(ap);
	if (ret)
		return ret;
	/* O_TRUNC is harmless on sysfs/procfs and needed on a test tree. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do
		w = write(fd, val, len);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		ret = -errno;
	else if ((size_t)w != len)
		ret = -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

int sysfs_exists(const char *root, const char *fmt, ...)
{
	char path[4096];
	struct stat st;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vpath(path, sizeof(path), root, fmt, ap);
	va_end(ap);
	if (ret)
		return 0;
	return stat(path, &st) == 0;
}

int sysfs_dev_attr(const char *root, const char *ifname, const char *attr, char *rel, size_t len)
{
	static const char *const where[] = { "device", "device/.." };
	unsigned int i;

	if (!sysfs_exists(root, "/sys/class/net/%s", ifname))
		return -ENODEV;
	if (!sysfs_exists(root, "/sys/class/net/%s/device", ifname))
		return -ENOENT;
	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		int n;

		if (!sysfs_exists(root, "/sys/class/net/%s/%s/%s", ifname, where[i], attr))
			continue;
		n = snprintf(rel, len, "/sys/class/net/%s/%s/%s", ifname, where[i], attr);
		if (n < 0 || (size_t)n >= len)
			return -ENAMETOOLONG;
		return 0;
	}
	return -ENOENT;
}

int sysfs_dev_name(const char *root, const char *ifname, char *buf, size_t len)
{
	char path[4096], target[4096];
	const char *base;
	ssize_t n;
	int ret;

	ret = sysfs_path(path, sizeof(path), root, "/sys/class/net/%s/device", ifname);
	if (ret)
		return ret;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	while (n > 1 && target[n - 1] == '/')
		target[--n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	return 0;
}
