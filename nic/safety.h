/* safety.h - checks made before zcgen touches a NIC: privileges, the default route, irqbalance */
#ifndef ZCGEN_NIC_SAFETY_H
#define ZCGEN_NIC_SAFETY_H

#include <stdbool.h>
#include <stddef.h>

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

/* A route through the device, as the default-route check sees it. */
struct safety_route {
	int family;                 /* AF_INET, AF_INET6 */
	unsigned char dst[16];      /* network order; 4 bytes for IPv4 */
	unsigned int dst_len;       /* prefix length */
	unsigned int table;         /* routing table: 254 main, 100 one that `ip rule` uses */
};

/**
 * safety_routes_default() - whether routes through one device carry default traffic
 * @r: the unicast routes through the device, of any routing table
 * @n: their number
 * @what: filled when so: "IPv4, routing table 100", or "split in two:
 *        0.0.0.0/1 and 128.0.0.0/1, routing table main, all of IPv4"
 * @len: size of @what
 *
 * A default route (prefix length 0), or both halves of the address space
 * (/1 each, as VPNs install to override the default), IPv4 or IPv6.
 * Return: 1 yes, 0 no.
 */
int safety_routes_default(const struct safety_route *r, unsigned int n, char *what, size_t len);

/**
 * safety_default_route() - whether @dev carries a default route (IPv4 or IPv6)
 * @root: see above. "": every routing table, over rtnetlink; else the
 *        main table of proc/net/route and proc/net/ipv6_route under @root
 * @dev: interface name
 * @what: filled with what it carries when it does (safety_routes_default())
 * @len: size of @what
 *
 * Return: 1 yes, 0 no, -errno when the routes could not be read.
 */
int safety_default_route(const char *root, const char *dev, char *what, size_t len);

/**
 * safety_irqbalance_pid() - pid of a running irqbalance, from proc/N/comm
 * @root: see above
 *
 * Return: the pid, or 0 when none runs.
 */
int safety_irqbalance_pid(const char *root);

#endif
