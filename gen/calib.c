/* calib.c - the copy/zero-copy crossover measured by `zcgen sweep`, saved per driver and kernel */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/rtnetlink.h>
#include <jansson.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include "gen/calib.h"
#include "nic/nic.h"

const char *calib_path(void)
{
	const char *e = getenv("ZCGEN_CALIBRATION");

	return e && e[0] ? e : CALIB_DEFAULT_PATH;
}

/* The file's entries array, or NULL with *err set (-ENOENT, -EINVAL, -errno). */
static json_t *load_entries(const char *path, json_t **root, int *err)
{
	json_error_t je;
	json_t *arr;

	*root = json_load_file(path, 0, &je);
	if (!*root) {
		/* jansson does not keep errno: tell "missing" from "broken" ourselves */
		*err = access(path, R_OK) ? -errno : -EINVAL;
		return NULL;
	}
	arr = json_object_get(*root, "entries");
	if (!json_is_array(arr)) {
		json_decref(*root);
		*root = NULL;
		*err = -EINVAL;
		return NULL;
	}
	return arr;
}

static int entry_match(json_t *e, const char *driver, const char *kernel, const char *proto)
{
	const char *d = json_string_value(json_object_get(e, "driver"));
	const char *k = json_string_value(json_object_get(e, "kernel"));
	const char *p = json_string_value(json_object_get(e, "protocol"));

	return d && k && p && !strcmp(d, driver) && !strcmp(k, kernel) && !strcmp(p, proto);
}

int calib_lookup_at(const char *path, const char *driver, const char *kernel, const char *proto,
		    uint64_t *crossover, char *source, size_t srclen)
{
	json_t *root, *arr, *e;
	size_t i;
	int err = 0;

	arr = load_entries(path, &root, &err);
	if (!arr)
		return err;
	err = -ENOENT;
	json_array_foreach(arr, i, e) {
		json_t *x = json_object_get(e, "crossover_bytes");
		const char *when = json_string_value(json_object_get(e, "measured"));

		if (!entry_match(e, driver, kernel, proto) || !json_is_integer(x) ||
		    json_integer_value(x) <= 0)
			continue;
		*crossover = (uint64_t)json_integer_value(x);
		if (source && srclen)
			snprintf(source, srclen, "%s (measured %s)", path, when ? when : "?");
		err = 0;
		break;
	}
	json_decref(root);
	return err;
}

int calib_lookup(const char *driver, const char *kernel, const char *proto, uint64_t *crossover,
		 char *source, size_t srclen)
{
	return calib_lookup_at(calib_path(), driver, kernel, proto, crossover, source, srclen);
}

static void now_iso(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Create the file's directory if it is missing (one level, as for /var/lib/zcgen). */
static int make_parent(const char *path)
{
	char dir[4096];
	char *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int calib_save_at(const char *path, const char *driver, const char *kernel, const char *proto,
		  uint64_t crossover, const char *measured)
{
	char when[32], tmp[4200];
	json_t *root = NULL, *arr, *e, *entry;
	FILE *f;
	size_t i;
	int ret = 0;

	if (!measured) {
		now_iso(when, sizeof(when));
		measured = when;
	}
	arr = load_entries(path, &root, &ret);
	if (!arr) {
		if (ret != -ENOENT)
			return ret;
		ret = 0;
		root = json_object();
		arr = json_array();
		if (!root || !arr || json_object_set_new(root, "entries", arr)) {
			ret = -ENOMEM;
			goto out;
		}
	}
	entry = json_pack("{s:s, s:s, s:s, s:I, s:s}", "driver", driver, "kernel", kernel,
			  "protocol", proto, "crossover_bytes", (json_int_t)crossover, "measured",
			  measured);
	if (!entry) {
		ret = -ENOMEM;
		goto out;
	}
	json_array_foreach(arr, i, e)
		if (entry_match(e, driver, kernel, proto))
			break;
	if (i < json_array_size(arr))
		ret = json_array_set_new(arr, i, entry) ? -ENOMEM : 0;
	else
		ret = json_array_append_new(arr, entry) ? -ENOMEM : 0;
	if (ret)
		goto out;

	ret = make_parent(path);
	if (ret)
		goto out;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
		ret = -ENAMETOOLONG;
		goto out;
	}
	/* write beside it and rename: a reader sees the old file or the new one */
	f = fopen(tmp, "w");
	if (!f) {
		ret = -errno;
		goto out;
	}
	if (json_dumpf(root, f, JSON_INDENT(2)) < 0 || fputc('\n', f) == EOF)
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	if (ret || rename(tmp, path)) {
		ret = ret ? ret : -errno;
		ret = -errno;
		unlink(tmp);
	}
out:
	json_decref(root);
	return ret;
}

int calib_save(const char *driver, const char *kernel, const char *proto, uint64_t crossover,
	       const char *measured)
{
	return calib_save_at(calib_path(), driver, kernel, proto, crossover, measured);
}

int calib_kernel(char *buf, size_t len)
{
	struct utsname u;

	if (uname(&u))
		return -errno;
	snprintf(buf, len, "%s", u.release);
	return 0;
}

struct route_ans {
	int oif;
	unsigned char type;
};

static int route_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct route_ans *ans = arg;
	struct nlattr *tb[RTA_MAX + 1];
	struct rtmsg *rtm;

	if (nlh->nlmsg_type != RTM_NEWROUTE || nlmsg_parse(nlh, sizeof(*rtm), tb, RTA_MAX, NULL))
		return NL_SKIP;
	rtm = nlmsg_data(nlh);
	ans->type = rtm->rtm_type;
	if (tb[RTA_OIF])
		ans->oif = (int)nla_get_u32(tb[RTA_OIF]);
	return NL_OK;
}

/* The output interface for @dest, as `ip route get` finds it. */
static int route_get(const struct sockaddr *dest, struct route_ans *ans)
{
	struct rtmsg rtm = { .rtm_family = (unsigned char)dest->sa_family };
	struct nl_sock *sk;
	struct nl_msg *msg = NULL;
	const void *addr;
	int alen, ret;

	if (dest->sa_family == AF_INET) {
		addr = &((const struct sockaddr_in *)dest)->sin_addr;
		alen = 4;
	} else {
		addr = &((const struct sockaddr_in6 *)dest)->sin6_addr;
		alen = 16;
	}
	rtm.rtm_dst_len = (unsigned char)(alen * 8);
	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	ret = nl_connect(sk, NETLINK_ROUTE);
	if (ret)
		goto out_sock;
	msg = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_REQUEST);
	if (!msg || nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) ||
	    nla_put(msg, RTA_DST, alen, addr)) {
		ret = -NLE_NOMEM;
		goto out_msg;
	}
	ret = nl_send_auto(sk, msg);
	if (ret < 0)
		goto out_msg;
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, route_cb, ans);
	ret = nl_recvmsgs_default(sk);
out_msg:
	nlmsg_free(msg);
out_sock:
	nl_socket_free(sk);
	return ret < 0 ? -EIO : 0; /* libnl error codes are not errno values */
}

static int is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

int calib_driver(const struct sockaddr *dest, socklen_t len, char *driver, size_t drvlen)
{
	struct route_ans ans = { 0 };
	char ifname[IF_NAMESIZE];

	if ((dest->sa_family != AF_INET || len < sizeof(struct sockaddr_in)) &&
	    (dest->sa_family != AF_INET6 || len < sizeof(struct sockaddr_in6)))
		return -EINVAL;
	if (is_loopback(dest)) {
		snprintf(driver, drvlen, "loopback");
		return 0;
	}
	/* the host's own addresses (RTN_LOCAL) go out through lo too */
	if (route_get(dest, &ans) || !ans.oif || !if_indextoname((unsigned)ans.oif, ifname)) {
		snprintf(driver, drvlen, "unknown");
		return 0;
	}
	if (ans.type == RTN_LOCAL || !strcmp(ifname, "lo")) {
		snprintf(driver, drvlen, "loopback");
		return 0;
	}
	if (nic_driver_name(ifname, driver, drvlen) || !driver[0])
		snprintf(driver, drvlen, "unknown");
	return 0;
}
