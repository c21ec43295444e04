/* link.h - link attributes over rtnetlink (libnl-route): the MTU */
#ifndef ZCGEN_NIC_LINK_H
#define ZCGEN_NIC_LINK_H

#include <stddef.h>

/**
 * link_mtu_get() - @dev's MTU
 * @dev: interface name, in the calling thread's network namespace
 * @mtu: output
 *
 * Return: 0; -ENODEV; -errno.
 */
int link_mtu_get(const char *dev, unsigned int *mtu);

/**
 * link_mtu_set() - set @dev's MTU (RTM_NEWLINK with IFLA_MTU)
 * @dev: interface name
 * @mtu: the new MTU
 * @err: output: the kernel's reason in words when it refuses ("" otherwise)
 * @errlen: size of @err
 *
 * Return: 0; -ENODEV; -EINVAL (out of the device's range); -EPERM; -errno.
 */
int link_mtu_set(const char *dev, unsigned int mtu, char *err, size_t errlen);

#endif
