/* safety.c - checks made before zcgen touches a NIC: privileges, the default route, irqbalance */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "nic/safety.h"
#include "nic/sysfs.h"

#define CAP_NET_ADMIN_BIT 12 /* linux/capability.h */

static FILE *open_under(const char *root, const char *abs)
{
	char path[512];

	if (sysfs_path(path, sizeof(path), root, "%s", abs))
		return NULL;
	return fopen(path, "re");
}

int safety_cap_net_admin(const char *root)
{
	char line[256];
	int ret = -ENOENT;
	FILE *f = open_under(root, "/proc/self/status");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long eff;

		if (sscanf(line, "CapEff: %llx", &eff) == 1) {
			ret = !!(eff & (1ULL << CAP_NET_ADMIN_BIT));
			break;
		}
	}
	fclose(f);
	return ret;
}

/* A growing list of the routes that leave through the device. */
struct routes {
	struct safety_route *v;
	unsigned int n, cap;
};

static int routes_add(struct routes *rs, int family, const void *dst, size_t dlen,
		      unsigned int dst_len, unsigned int table)
{
	struct safety_route *r;

	if (rs->n == rs->cap) {
		unsigned int c = rs->cap ? rs->cap * 2 : 16;
		void *v = realloc(rs->v, c * sizeof(*rs->v));

		if (!v)
			return -ENOMEM;
		rs->v = v;
		rs->cap = c;
	}
	r = &rs->v[rs->n++];
	memset(r, 0, sizeof(*r));
	r->family = family;
	memcpy(r->dst, dst, dlen > sizeof(r->dst) ? sizeof(r->dst) : dlen);
	r->dst_len = dst_len;
	r->table = table;
	return 0;
}

/* /proc/net/route: "Iface Destination Gateway Flags ... Mask ..." in hex (the main table only). */
static int proc_v4(const char *root, const char *dev, struct routes *rs)
{
	char line[512];
	int ret = 0;
	FILE *f = open_under(root, "/proc/net/route");

	if (!f)
		return -errno;
	while (!ret && fgets(line, sizeof(line), f)) {
		char ifn[64];
		unsigned long dst, gw, flags, mask;
		unsigned int len = 0;
		uint32_t d, m;
		int refcnt, use, metric;

		if (sscanf(line, "%63s %lx %lx %lx %d %d %d %lx", ifn, &dst, &gw, &flags, &refcnt,
			   &use, &metric, &mask) != 8)
			continue; /* the header line */
		if (!(flags & 1 /* RTF_UP */) || strcmp(ifn, dev))
			continue;
		/* in the kernel's byte order, as the file is: network order in memory */
		d = (uint32_t)dst;
		m = (uint32_t)mask;
		for (uint32_t h = ntohl(m); h & 0x80000000u; h <<= 1)
			len++;
		ret = routes_add(rs, AF_INET, &d, 4, len, RT_TABLE_MAIN);
	}
	fclose(f);
	return ret;
}

/* /proc/net/ipv6_route: dst dstlen src srclen nexthop metric ref use flags iface. */
static int proc_v6(const char *root, const char *dev, struct routes *rs)
{
	char line[512];
	int ret = 0;
	FILE *f = open_under(root, "/proc/net/ipv6_route");

	if (!f)
		return -errno;
	while (!ret && fgets(line, sizeof(line), f)) {
		char dst[40], src[40], nh[40], ifn[64];
		unsigned int dlen, slen, metric, ref, use, flags;
		unsigned char bin[16];

		if (sscanf(line, "%39s %x %39s %x %39s %x %x %x %x %63s", dst, &dlen, src, &slen, nh,
			   &metric, &ref, &use, &flags, ifn) != 10 || strlen(dst) != 32)
			continue;
		/* The kernel lists unreachable catch-alls on "lo"; only a real route counts. */
		if (!(flags & 1 /* RTF_UP */) || (flags & 0x0200 /* RTF_REJECT */) || strcmp(ifn, dev))
			continue;
		for (int i = 0; i < 16; i++)
			if (sscanf(dst + 2 * i, "%2hhx", &bin[i]) != 1)
				break;
		ret = routes_add(rs, AF_INET6, bin, 16, dlen, RT_TABLE_MAIN);
	}
	fclose(f);
	return ret;
}

/* Does a route message's RTA_OIF or RTA_MULTIPATH name @ifindex? -1: it names none (RTA_NH_ID). */
static int route_uses(struct rtattr **tb, int ifindex)
{
	if (tb[RTA_OIF] && RTA_PAYLOAD(tb[RTA_OIF]) >= sizeof(int))
		return *(int *)RTA_DATA(tb[RTA_OIF]) == ifindex;
	if (tb[RTA_MULTIPATH]) {
		struct rtnexthop *nh = RTA_DATA(tb[RTA_MULTIPATH]);
		int left = (int)RTA_PAYLOAD(tb[RTA_MULTIPATH]);

		while (left >= (int)sizeof(*nh) && nh->rtnh_len >= sizeof(*nh) && nh->rtnh_len <= left) {
			if (nh->rtnh_ifindex == ifindex)
				return 1;
			left -= RTNH_ALIGN(nh->rtnh_len);
			nh = RTNH_NEXT(nh);
		}
		return 0;
	}
	return -1;
}

/*
 * Dump the routes of @family, of every table (main, local, and those that
 * `ip rule ... lookup N` uses), and keep the unicast ones through @ifindex.
 * With @strict the kernel filters by device itself (NETLINK_GET_STRICT_CHK,
 * Linux 4.20), which also covers routes through nexthop objects (RTA_NH_ID,
 * Linux 5.3) that name no device in the message.
 */
static int dump_family(int family, int ifindex, bool strict, struct routes *rs)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
		struct rtattr oif;
		int oif_val;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETROUTE,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.rt = { .rtm_family = (unsigned char)family },
		.oif = { .rta_len = RTA_LENGTH(sizeof(int)), .rta_type = RTA_OIF },
		.oif_val = ifindex,
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	static char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	int one = 1, fd, ret = 0;
	bool done = false;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (strict && setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one))) {
		ret = -ENOPROTOOPT;
		goto out;
	}
	if (!strict)
		req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		ret = -errno;
		goto out;
	}
	while (!done && !ret) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		for (; !done && !ret && NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			struct rtmsg *rt = NLMSG_DATA(h);
			struct rtattr *tb[RTA_MAX + 1] = { 0 }, *a;
			int len, uses;
			unsigned int table;

			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				ret = e->error ? e->error : -EIO;
				break;
			}
			if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(*rt)))
				continue;
			if (rt->rtm_family != family || rt->rtm_type != RTN_UNICAST ||
			    (rt->rtm_flags & RTM_F_CLONED))
				continue;
			len = (int)RTM_PAYLOAD(h);
			for (a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len))
				if (a->rta_type <= RTA_MAX)
					tb[a->rta_type] = a;
			uses = route_uses(tb, ifindex);
			/* a nexthop object names no device here: the kernel's filter chose it */
			if (uses == 0 || (uses < 0 && !strict))
				continue;
			table = tb[RTA_TABLE] && RTA_PAYLOAD(tb[RTA_TABLE]) >= 4 ?
				*(unsigned int *)RTA_DATA(tb[RTA_TABLE]) : rt->rtm_table;
			ret = routes_add(rs, family, tb[RTA_DST] ? RTA_DATA(tb[RTA_DST]) : (void *)"",
					 tb[RTA_DST] ? RTA_PAYLOAD(tb[RTA_DST]) : 0, rt->rtm_dst_len, table);
		}
	}
out:
	close(fd);
	return ret;
}

/* The routes through @dev of every table, over rtnetlink: 0 or -errno. */
static int netlink_routes(const char *dev, struct routes *rs)
{
	static const int fam[] = { AF_INET, AF_INET6 };
	int ifindex = (int)if_nametoindex(dev), ret = 0;

	if (!ifindex)
		return -ENODEV;
	for (unsigned int i = 0; i < 2 && !ret; i++) {
		unsigned int before = rs->n;

		ret = dump_family(fam[i], ifindex, true, rs);
		/* a kernel before 4.20 refuses the filtered dump: filter here */
		if (ret && ret != -ENOMEM) {
			rs->n = before;
			ret = dump_family(fam[i], ifindex, false, rs);
		}
		/* no IPv6 in this kernel: nothing to find there */
		if (ret == -EAFNOSUPPORT && fam[i] == AF_INET6)
			ret = 0;
	}
	return ret;
}

static void table_name(unsigned int table, char *buf, size_t len)
{
	if (table == RT_TABLE_MAIN)
		snprintf(buf, len, "main");
	else if (table == RT_TABLE_DEFAULT)
		snprintf(buf, len, "default");
	else if (table == RT_TABLE_LOCAL)
		snprintf(buf, len, "local");
	else
		snprintf(buf, len, "%u", table);
}

int safety_routes_default(const struct safety_route *r, unsigned int n, char *what, size_t len)
{
	static const struct { int family; const char *lo, *hi; } split[] = {
		{ AF_INET, "0.0.0.0/1", "128.0.0.0/1" }, { AF_INET6, "::/1", "8000::/1" },
	};
	char t[16];

	for (unsigned int i = 0; i < n; i++) {
		if (r[i].dst_len)
			continue;
		table_name(r[i].table, t, sizeof(t));
		snprintf(what, len, "%s, routing table %s", r[i].family == AF_INET ? "IPv4" : "IPv6", t);
		return 1;
	}
	/* both halves of the address space, as VPNs install them to override a default route */
	for (unsigned int f = 0; f < 2; f++) {
		int lo = -1, hi = -1;

		for (unsigned int i = 0; i < n; i++) {
			if (r[i].family != split[f].family || r[i].dst_len != 1)
				continue;
			if (r[i].dst[0] & 0x80)
				hi = (int)i;
			else
				lo = (int)i;
		}
		if (lo >= 0 && hi >= 0) {
			char t2[16];

			table_name(r[lo].table, t, sizeof(t));
			table_name(r[hi].table, t2, sizeof(t2));
			snprintf(what, len, "split in two: %s and %s, routing table %s%s%s, all of "
				 "%s", split[f].lo, split[f].hi, t, strcmp(t, t2) ? " and " : "",
				 strcmp(t, t2) ? t2 : "", split[f].family == AF_INET ? "IPv4" : "IPv6");
			return 1;
		}
	}
	return 0;
}

int safety_default_route(const char *root, const char *dev, char *what, size_t len)
{
	struct routes rs = { 0 };
	int ret;

	if (root && root[0]) {
		int v4 = proc_v4(root, dev, &rs);
		int v6 = proc_v6(root, dev, &rs);

		ret = v4 < 0 && v6 < 0 ? v4 : (v4 == -ENOMEM || v6 == -ENOMEM) ? -ENOMEM : 0;
	} else {
		ret = netlink_routes(dev, &rs);
	}
	if (!ret)
		ret = safety_routes_default(rs.v, rs.n, what, len);
	free(rs.v);
	return ret;
}

int safety_irqbalance_pid(const char *root)
{
	char path[512];
	struct dirent *de;
	DIR *d;
	int pid = 0;

	if (sysfs_path(path, sizeof(path), root, "/proc"))
		return 0;
	d = opendir(path);
	if (!d)
		return 0;
	while (!pid && (de = readdir(d))) {
		char comm[64];

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (sysfs_read(root, comm, sizeof(comm), "/proc/%s/comm", de->d_name))
			continue;
		if (!strcmp(comm, "irqbalance"))
			pid = atoi(de->d_name);
	}
	closedir(d);
	return pid;
}
