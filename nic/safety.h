/* safety.h - checks made before zcgen touches a NIC: privileges, the default route, irqbalance */
#ifndef ZCGEN_NIC_SAFETY_H
#define ZCGEN_NIC_SAFETY_H

#include <stdbool.h>

/*
 * @root is "" for the running system, else a tree laid out like / (tests).
 * The route tables read are those of the calling process's network namespace.
 */

/**
 * safety_cap_net_admin() - whether the process has CAP_NET_ADMIN in effect
 * @root: see above (reads proc/self/status)
 *
 * Return: 1 yes, 0 no, -errno when it cannot be told.
 */
int safety_cap_net_admin(const char *root);

/**
 * safety_default_route() - whether @dev carries a default route (IPv4 or IPv6)
 * @root: see above (reads proc/net/route and proc/net/ipv6_route)
 * @dev: interface name
 *
 * Return: 1 yes, 0 no, -errno when neither table could be read.
 */
int safety_default_route(const char *root, const char *dev);

/**
 * safety_irqbalance_pid() - pid of a running irqbalance, from proc/N/comm
 * @root: see above
 *
 * Return: the pid, or 0 when none runs.
 */
int safety_irqbalance_pid(const char *root);

#endif
