/* link.c - link attributes over rtnetlink (libnl-route): the MTU */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <netlink/netlink.h>
#include <netlink/errno.h>
#include <netlink/route/link.h>

#include "nic/nic.h"
#include "nic/link.h"

/* libnl's error codes as -errno, for the ones a link change gives. */
static int nlerr(int e)
{
	switch (-e) {
	case NLE_INVAL:
	case NLE_RANGE:
		return -EINVAL;
	case NLE_PERM:
		return -EPERM;
	case NLE_NODEV:
	case NLE_OBJ_NOTFOUND:
		return -ENODEV;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_BUSY:
		return -EBUSY;
	default:
		return -EIO;
	}
}

static int link_open(const char *dev, struct nl_sock **sk, struct rtnl_link **link)
{
	unsigned int ifindex = if_nametoindex(dev);
	int ret;

	*link = NULL;
	if (!ifindex)
		return -ENODEV;
	*sk = nl_socket_alloc();
	if (!*sk)
		return -ENOMEM;
	ret = nl_connect(*sk, NETLINK_ROUTE);
	if (!ret)
		ret = rtnl_link_get_kernel(*sk, (int)ifindex, NULL, link);
	if (ret) {
		nl_socket_free(*sk);
		*sk = NULL;
		return nlerr(ret);
	}
	return 0;
}

int link_mtu_get(const char *dev, unsigned int *mtu)
{
	struct nl_sock *sk;
	struct rtnl_link *link;
	int ret = link_open(dev, &sk, &link);

	if (ret)
		return ret;
	*mtu = rtnl_link_get_mtu(link);
	rtnl_link_put(link);
	nl_socket_free(sk);
	return 0;
}

int link_mtu_set(const char *dev, unsigned int mtu, char *err, size_t errlen)
{
	struct nl_sock *sk;
	struct rtnl_link *link, *change;
	int ret;

	if (errlen)
		err[0] = '\0';
	ret = link_open(dev, &sk, &link);
	if (ret)
		return ret;
	change = rtnl_link_alloc();
	if (!change) {
		ret = -ENOMEM;
		goto out;
	}
	rtnl_link_set_mtu(change, mtu);
	ret = rtnl_link_change(sk, link, change, 0);
	if (ret) {
		snprintf(err, errlen, "%s", nl_geterror(ret));
		ret = nlerr(ret);
	}
	rtnl_link_put(change);
out:
	rtnl_link_put(link);
	nl_socket_free(sk);
	return ret;
}

int nic_mtu(const char *dev, unsigned int *mtu)
{
	return link_mtu_get(dev, mtu);
}
