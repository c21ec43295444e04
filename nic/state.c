/* state.c - snapshot of what zcgen changes on a NIC, the state file, its lock, and restore */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>
#include <linux/pkt_sched.h>

#include "nic/state.h"
#include "nic/ethnl.h"
#include "nic/irq.h"
#include "nic/xps.h"
#include "nic/qstats.h"
#include "nic/cpulist.h"
#include "nic/link.h"

/* Linux 5.14: a network namespace's cookie, unique within a boot (asm-generic's number) */
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

static const char *state_dir(void)
{
	const char *d = getenv(NIC_STATE_DIR_ENV);

	return d && *d ? d : NIC_STATE_DIR;
}

int nic_state_paths(const char *dev, char *state, char *lock, size_t len)
{
	struct stat st;
	int n;

	if (stat("/proc/self/ns/net", &st))
		return -errno;
	n = snprintf(state, len, "%s/net-%llu-%s.json", state_dir(), (unsigned long long)st.st_ino, dev);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (lock) {
		n = snprintf(lock, len, "%s/net-%llu-%s.lock", state_dir(),
			     (unsigned long long)st.st_ino, dev);
		if (n < 0 || (size_t)n >= len)
			return -ENAMETOOLONG;
	}
	return 0;
}

/* mkdir -p for the state directory; the last component is private (0700). */
static int make_dir(const char *dir)
{
	char tmp[512];
	size_t n = strlen(dir);

	if (n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, dir, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int nic_state_lock(const char *dev, struct nic_lock *lk, pid_t *holder)
{
	char pid[32];
	int ret, n;

	lk->fd = -1;
	if (holder)
		*holder = 0;
	ret = nic_state_paths(dev, lk->state_path, lk->lock_path, sizeof(lk->state_path));
	if (ret)
		return ret;
	ret = make_dir(state_dir());
	if (ret)
		return ret;
again:
	lk->fd = open(lk->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lk->fd < 0)
		return -errno;
	if (!flock(lk->fd, LOCK_EX | LOCK_NB)) {
		struct stat a, b;

		/* The holder before us may have unlinked the file as it left: lock the one in place. */
		if (fstat(lk->fd, &a) || stat(lk->lock_path, &b) || a.st_ino != b.st_ino) {
			close(lk->fd);
			goto again;
		}
	} else {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (ret == -EBUSY && holder) {
			ssize_t r = pread(lk->fd, pid, sizeof(pid) - 1, 0);

			if (r > 0) {
				pid[r] = '\0';
				*holder = (pid_t)atoi(pid);
			}
		}
		close(lk->fd);
		lk->fd = -1;
		return ret;
	}
	/* The holder's pid, so that a second process can name it. */
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(lk->fd, 0) || pwrite(lk->fd, pid, (size_t)n, 0) != n) {
		ret = -errno;
		close(lk->fd);
		lk->fd = -1;
		return ret;
	}
	return 0;
}

void nic_state_unlock(struct nic_lock *lk)
{
	if (lk->fd < 0)
		return;
	/*
	 * With no state file left the lock file goes too, so that /run does not
	 * fill with files of namespaces long gone; nic_state_lock() copes with
	 * a file unlinked under it. Else it is emptied, so that a stale pid is
	 * never blamed.
	 */
	if (access(lk->state_path, F_OK) && errno == ENOENT)
		unlink(lk->lock_path);
	else if (ftruncate(lk->fd, 0)) {
		/* nothing to do: the pid is only informative */
	}
	close(lk->fd);
	lk->fd = -1;
}

int nic_state_root_qdisc(const char *dev, char *kind, size_t len)
{
	struct nl_sock *sk;
	struct nl_cache *cache = NULL;
	struct rtnl_qdisc *q;
	unsigned int ifindex = if_nametoindex(dev);
	int ret;

	if (!ifindex)
		return -ENODEV;
	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	ret = nl_connect(sk, NETLINK_ROUTE);
	if (ret) {
		ret = -EIO;
		goto out_sock;
	}
	ret = rtnl_qdisc_alloc_cache(sk, &cache);
	if (ret) {
		ret = -EIO;
		goto out_sock;
	}
	q = rtnl_qdisc_get_by_parent(cache, (int)ifindex, TC_H_ROOT);
	snprintf(kind, len, "%s", q && rtnl_tc_get_kind(TC_CAST(q)) ? rtnl_tc_get_kind(TC_CAST(q)) :
				   "noqueue");
	if (q)
		rtnl_qdisc_put(q);
	nl_cache_free(cache);
	ret = 0;
out_sock:
	nl_socket_free(sk);
	return ret;
}

static json_t *channels_json(const struct ethnl_channels *c)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I,s:I}}", "rx", (json_int_t)c->rx, "tx",
			 (json_int_t)c->tx, "other", (json_int_t)c->other, "combined",
			 (json_int_t)c->combined, "max", "rx", (json_int_t)c->rx_max, "tx",
			 (json_int_t)c->tx_max, "other", (json_int_t)c->other_max, "combined",
			 (json_int_t)c->combined_max);
}

static json_t *rings_json(const struct ethnl_rings *r)
{
	return json_pack("{s:I,s:I,s:I,s:I}", "rx", (json_int_t)r->rx, "rx_mini",
			 (json_int_t)r->rx_mini, "rx_jumbo", (json_int_t)r->rx_jumbo, "tx",
			 (json_int_t)r->tx);
}

/*
 * The cookie of the calling thread's network namespace: a socket is made in
 * it, and any socket will do. The kernel hands cookies out from a counter,
 * once per namespace and boot, so unlike the inode it is never reused.
 */
static int netns_cookie(uint64_t *cookie)
{
	socklen_t len = sizeof(*cookie);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len))
		ret = -errno; /* ENOPROTOOPT before Linux 5.14 */
	else if (len != sizeof(*cookie))
		ret = -EPROTO;
	close(fd);
	return ret;
}

/* The boot id, a UUID made anew at each boot: 36 characters. */
static int boot_id(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	int ret = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		ret = -EIO;
	fclose(f);
	if (ret)
		return ret;
	buf[strcspn(buf, "\n")] = '\0';
	return strlen(buf) == 36 ? 0 : -EPROTO;
}

int nic_state_identity(const char *dev, json_t *st)
{
	unsigned int ifindex = if_nametoindex(dev);
	struct stat nst;
	uint64_t cookie;
	char bid[64];
	int ret = 0;

	if (ifindex)
		ret |= json_object_set_new(st, "ifindex", json_integer(ifindex));
	if (!stat("/proc/self/ns/net", &nst))
		ret |= json_object_set_new(st, "netns_inode", json_integer((json_int_t)nst.st_ino));
	/* a counter from 1: far below what a JSON integer (int64) holds */
	if (!netns_cookie(&cookie) && cookie <= (uint64_t)INT64_MAX)
		ret |= json_object_set_new(st, "netns_cookie", json_integer((json_int_t)cookie));
	if (!boot_id(bid, sizeof(bid)))
		ret |= json_object_set_new(st, "boot_id", json_string(bid));
	return ret ? -ENOMEM : 0;
}

int nic_state_stale(const json_t *saved, const json_t *now, char *why, size_t len)
{
	const char *sb = json_string_value(json_object_get(saved, "boot_id"));
	const char *nb = json_string_value(json_object_get(now, "boot_id"));
	const char *dev = json_string_value(json_object_get(saved, "device"));
	const json_t *sc = json_object_get(saved, "netns_cookie");
	const json_t *nc = json_object_get(now, "netns_cookie");
	json_int_t si = json_integer_value(json_object_get(saved, "ifindex"));
	json_int_t ni = json_integer_value(json_object_get(now, "ifindex"));

	if (len)
		why[0] = '\0';
	if (sb && nb && *sb && *nb && strcmp(sb, nb)) {
		snprintf(why, len, "it was saved in another boot of this machine (boot id %s, now %s)",
			 sb, nb);
		return 1;
	}
	if (json_is_integer(sc) && json_is_integer(nc) &&
	    json_integer_value(sc) != json_integer_value(nc)) {
		snprintf(why, len, "it was saved in another network namespace, gone since, whose inode "
			 "the kernel gave to this one (netns cookie %lld then, %lld now)",
			 (long long)json_integer_value(sc), (long long)json_integer_value(nc));
		return 1;
	}
	/* 0: not known (a snapshot's ifindex is never 0) */
	if (si && ni && si != ni) {
		snprintf(why, len, "%s has ifindex %lld now, %lld when the state was saved: it is "
			 "another device of that name (deleted and made again)", dev ? dev : "the device",
			 (long long)ni, (long long)si);
		return 1;
	}
	return 0;
}

const char *nic_state_origin(const json_t *st, char *buf, size_t len)
{
	const json_t *pid = json_object_get(st, "pid"), *t = json_object_get(st, "time");
	char when[64] = "";
	struct tm tm;
	time_t tt = (time_t)json_integer_value(t);

	if (json_is_integer(t) && gmtime_r(&tt, &tm))
		strftime(when, sizeof(when), ", saved %Y-%m-%d %H:%M:%S UTC", &tm);
	if (json_is_integer(pid))
		snprintf(buf, len, "pid %lld%s", (long long)json_integer_value(pid), when);
	else
		snprintf(buf, len, "an unknown pid%s", when);
	return buf;
}

int nic_state_snapshot(struct ethnl *nl, const char *root, const char *dev, json_t **out)
{
	struct ethnl_channels ch;
	struct ethnl_rings rg;
	struct ethnl_features fs = { 0 };
	struct irq_table it = { 0 };
	char kind[64];
	unsigned int ifindex = if_nametoindex(dev), ntx = 0;
	json_t *st, *o;
	int ret;

	*out = NULL;
	if (!ifindex)
		return -ENODEV;
	st = json_object();
	if (!st)
		return -ENOMEM;
	json_object_set_new(st, "version", json_integer(NIC_STATE_VERSION));
	json_object_set_new(st, "device", json_string(dev));
	ret = nic_state_identity(dev, st);
	if (ret)
		goto out_err;
	json_object_set_new(st, "pid", json_integer(getpid()));
	json_object_set_new(st, "time", json_integer((json_int_t)time(NULL)));

	ret = ethnl_channels_get(nl, dev, &ch);
	if (ret && ret != -EOPNOTSUPP)
		goto out_err;
	json_object_set_new(st, "channels", ret ? json_null() : channels_json(&ch));

	ret = ethnl_rings_get(nl, dev, &rg);
	if (ret && ret != -EOPNOTSUPP)
		goto out_err;
	json_object_set_new(st, "rings", ret ? json_null() : rings_json(&rg));

	/* Only what can change: fixed features never do, and their wanted bit means nothing. */
	ret = ethnl_features_get(nl, dev, &fs);
	if (ret)
		goto out_err;
	o = json_object();
	for (unsigned int i = 0; i < fs.count; i++)
		if (!fs.f[i].fixed && fs.f[i].name[0])
			json_object_set_new(o, fs.f[i].name, json_boolean(fs.f[i].wanted));
	json_object_set_new(st, "features", o);

	ret = irq_discover(root, dev, &it);
	if (ret)
		goto out_err;
	json_object_set_new(st, "irq_source", json_string(irq_source_name(it.source)));
	o = json_array();
	for (unsigned int q = 0; q < it.nqueues; q++)
		for (unsigned int k = 0; k < it.q[q].nirqs; k++) {
			char cpus[1024];

			/* An IRQ we cannot read we cannot restore either: leave it out. */
			if (irq_affinity_get(root, it.q[q].irq[k], cpus, sizeof(cpus)))
				continue;
			json_array_append_new(o, json_pack("{s:i,s:i,s:s}", "irq", it.q[q].irq[k],
							   "queue", (int)q, "cpus", cpus));
		}
	json_object_set_new(st, "irqs", o);

	ret = xps_tx_count(root, dev, &ntx);
	if (ret)
		goto out_err;
	o = json_array();
	for (unsigned int q = 0; q < ntx; q++) {
		char mask[1024];

		ret = xps_get_raw(root, dev, q, mask, sizeof(mask));
		json_array_append_new(o, ret ? json_null() : json_string(mask));
	}
	json_object_set_new(st, "xps", o);

	ret = nic_state_root_qdisc(dev, kind, sizeof(kind));
	if (ret)
		goto out_err;
	json_object_set_new(st, "root_qdisc", json_string(kind));
	{
		unsigned int mtu;

		ret = link_mtu_get(dev, &mtu);
		if (ret)
			goto out_err;
		json_object_set_new(st, "mtu", json_integer(mtu));
	}
	ret = 0;
	*out = st;
	st = NULL;
out_err:
	irq_table_free(&it);
	ethnl_features_free(&fs);
	json_decref(st);
	return ret;
}

/*
 * A rename on disk too (a /run on disk survives a crash). Best effort: the
 * file is in place and whole either way, and failing here would leave a
 * state file behind a run that then changes nothing.
 */
static void sync_dir(void)
{
	int dfd = open(state_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
}

int nic_state_save(const struct nic_lock *lk, const json_t *st)
{
	char tmp[600];
	char *text = json_dumps(st, JSON_INDENT(2) | JSON_SORT_KEYS);
	size_t len, off = 0;
	int fd, ret = 0;

	if (!text)
		return -ENOMEM;
	ret = nic_state_tmp_path(lk, tmp, sizeof(tmp));
	if (ret)
		goto out_text;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		goto out_text;
	}
	len = strlen(text);
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		off += (size_t)w;
	}
	if (!ret && (write(fd, "\n", 1) != 1 || fchmod(fd, 0600) || fsync(fd)))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, lk->state_path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	else
		sync_dir();
out_text:
	free(text);
	return ret;
}

static int load_path(const char *path, json_t **out)
{
	json_error_t jerr;
	json_t *st;

	*out = NULL;
	if (access(path, F_OK))
		return -errno;
	st = json_load_file(path, 0, &jerr);
	if (!st)
		return -EINVAL;
	if (!json_is_object(st) ||
	    json_integer_value(json_object_get(st, "version")) != NIC_STATE_VERSION ||
	    !json_is_string(json_object_get(st, "device"))) {
		json_decref(st);
		return -EINVAL;
	}
	*out = st;
	return 0;
}

int nic_state_load(const struct nic_lock *lk, json_t **out)
{
	return load_path(lk->state_path, out);
}

int nic_state_tmp_path(const struct nic_lock *lk, char *path, size_t len)
{
	int n = snprintf(path, len, "%s.tmp", lk->state_path);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int nic_state_load_unfinished(const struct nic_lock *lk, json_t **out)
{
	char tmp[600];
	int ret = nic_state_tmp_path(lk, tmp, sizeof(tmp));

	*out = NULL;
	return ret ? ret : load_path(tmp, out);
}

int nic_state_remove(const struct nic_lock *lk)
{
	char tmp[600];

	/* and an unfinished one beside it: it is older than any change, or a copy of the state */
	if (!nic_state_tmp_path(lk, tmp, sizeof(tmp)) && unlink(tmp) && errno != ENOENT)
		return -errno;
	if (unlink(lk->state_path) && errno != ENOENT)
		return -errno;
	return 0;
}

int nic_state_set_aside(const struct nic_lock *lk, const char *from, char *to, size_t len)
{
	int n = snprintf(to, len, "%s%s", lk->state_path, NIC_STATE_STALE_SUFFIX);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (rename(from, to))
		return -errno;
	sync_dir();
	return 0;
}

/* Append one "what: why" line to @err; keep the first error code. */
static void problem(char *err, size_t errlen, int *first, int code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void problem(char *err, size_t errlen, int *first, int code, const char *fmt, ...)
{
	size_t used = strlen(err);
	va_list ap;

	if (!*first)
		*first = code ? code : -EIO;
	if (used + 2 >= errlen)
		return;
	if (used)
		err[used++] = '\n', err[used] = '\0';
	va_start(ap, fmt);
	vsnprintf(err + used, errlen - used, fmt, ap);
	va_end(ap);
}

static const char *why(struct ethnl *nl, int code, char *buf, size_t len)
{
	const char *m = ethnl_errmsg(nl);

	if (m && *m)
		snprintf(buf, len, "%s (%s)", m, strerror(-code));
	else
		snprintf(buf, len, "%s", strerror(-code));
	return buf;
}

static uint32_t jget(const json_t *o, const char *key)
{
	return (uint32_t)json_integer_value(json_object_get(o, key));
}

static void restore_channels(struct ethnl *nl, const char *dev, const json_t *sc, char *err,
			     size_t errlen, int *first)
{
	struct ethnl_channels cur, want;
	char b[512];
	bool diff = false;
	int ret;

	if (!json_is_object(sc))
		return;
	ret = ethnl_channels_get(nl, dev, &cur);
	if (ret) {
		problem(err, errlen, first, ret, "channels: cannot read them: %s", why(nl, ret, b, sizeof(b)));
		return;
	}
	want.rx = want.tx = want.other = want.combined = ETHNL_KEEP;
#define CH(kind)                                                   \
	if (cur.kind##_max && jget(sc, #kind) != cur.kind) {       \
		want.kind = jget(sc, #kind);                       \
		diff = true;                                       \
	}
	CH(rx) CH(tx) CH(other) CH(combined)
#undef CH
	if (!diff)
		return;
	ret = ethnl_channels_set(nl, dev, &want);
	if (ret)
		problem(err, errlen, first, ret, "channels: cannot set rx %u tx %u combined %u again: %s",
			jget(sc, "rx"), jget(sc, "tx"), jget(sc, "combined"), why(nl, ret, b, sizeof(b)));
}

static void restore_features(struct ethnl *nl, const char *dev, const json_t *sf, char *err,
			     size_t errlen, int *first)
{
	struct ethnl_features fs = { 0 };
	struct ethnl_feature_req *req;
	const char *name;
	json_t *v;
	unsigned int n = 0;
	char b[512];
	int ret;

	if (!json_is_object(sf))
		return;
	ret = ethnl_features_get(nl, dev, &fs);
	if (ret) {
		problem(err, errlen, first, ret, "features: cannot read them: %s", why(nl, ret, b, sizeof(b)));
		return;
	}
	req = calloc(json_object_size(sf) + 1, sizeof(*req));
	if (!req) {
		problem(err, errlen, first, -ENOMEM, "features: out of memory");
		goto out;
	}
	json_object_foreach((json_t *)sf, name, v) {
		const struct ethnl_feature *f = ethnl_feature_find(&fs, name);

		if (!f || f->fixed || f->wanted == json_is_true(v))
			continue;
		req[n].name = name;
		req[n].on = json_is_true(v);
		n++;
	}
	if (n) {
		ret = ethnl_features_set(nl, dev, req, n, NULL);
		if (ret)
			problem(err, errlen, first, ret, "features: cannot put %u back: %s", n,
				why(nl, ret, b, sizeof(b)));
	}
	free(req);
out:
	ethnl_features_free(&fs);
}

static void restore_rings(struct ethnl *nl, const char *dev, const json_t *sr, char *err,
			  size_t errlen, int *first)
{
	struct ethnl_rings cur, want;
	bool diff = false;
	char b[512];
	int ret;

	if (!json_is_object(sr))
		return;
	ret = ethnl_rings_get(nl, dev, &cur);
	if (ret) {
		problem(err, errlen, first, ret, "rings: cannot read them: %s", why(nl, ret, b, sizeof(b)));
		return;
	}
	want.rx = want.rx_mini = want.rx_jumbo = want.tx = ETHNL_KEEP;
#define RG(kind)                                                   \
	if (cur.kind##_max && jget(sr, #kind) != cur.kind) {       \
		want.kind = jget(sr, #kind);                       \
		diff = true;                                       \
	}
	RG(rx) RG(rx_mini) RG(rx_jumbo) RG(tx)
#undef RG
	if (!diff)
		return;
	ret = ethnl_rings_set(nl, dev, &want);
	if (ret)
		problem(err, errlen, first, ret, "rings: cannot set rx %u tx %u again: %s", jget(sr, "rx"),
			jget(sr, "tx"), why(nl, ret, b, sizeof(b)));
}

/*
 * IRQs are found again: a channel change may have freed and reallocated
 * them. An IRQ of the snapshot that the device no longer has cannot be put
 * back, and is said so; one that the device has again gets its CPUs back.
 */
static void restore_irqs(const char *root, const char *dev, const json_t *si, char *err,
			 size_t errlen, int *first)
{
	struct irq_table it = { 0 };
	size_t i;
	json_t *e;
	int ret;

	if (!json_is_array(si) || !json_array_size(si))
		return;
	ret = irq_discover(root, dev, &it);
	if (ret) {
		problem(err, errlen, first, ret, "irq: cannot find the device's IRQs again: %s",
			strerror(-ret));
		return;
	}
	json_array_foreach(si, i, e) {
		int irq = (int)json_integer_value(json_object_get(e, "irq"));
		const char *cpus = json_string_value(json_object_get(e, "cpus"));
		bool found = false;
		char cur[1024];
		cpu_set_t a, b;

		for (unsigned int q = 0; q < it.nqueues && !found; q++)
			for (unsigned int k = 0; k < it.q[q].nirqs; k++)
				found |= it.q[q].irq[k] == irq;
		if (!cpus)
			continue;
		if (!found) {
			problem(err, errlen, first, -ENOENT,
				"irq %d (queue %d): the device no longer has it; its CPUs were %s", irq,
				(int)json_integer_value(json_object_get(e, "queue")), cpus);
			continue;
		}
		if (!irq_affinity_get(root, irq, cur, sizeof(cur)) && !cpulist_parse(cur, &a) &&
		    !cpulist_parse(cpus, &b) && CPU_EQUAL(&a, &b))
			continue;
		ret = irq_affinity_set(root, irq, cpus);
		if (ret)
			problem(err, errlen, first, ret, "irq %d: cannot set its CPUs to %s again: %s", irq,
				cpus, strerror(-ret));
	}
	irq_table_free(&it);
}

static void restore_xps(const char *root, const char *dev, const json_t *sx, char *err,
			size_t errlen, int *first)
{
	size_t i;
	json_t *e;

	if (!json_is_array(sx))
		return;
	json_array_foreach(sx, i, e) {
		const char *mask = json_string_value(e);
		char cur[1024];
		cpu_set_t a, b;
		int ret;

		if (!mask)
			continue;
		ret = xps_get_raw(root, dev, (unsigned int)i, cur, sizeof(cur));
		if (!ret && !cpumask_parse(cur, &a) && !cpumask_parse(mask, &b) && CPU_EQUAL(&a, &b))
			continue;
		ret = xps_set_raw(root, dev, (unsigned int)i, mask);
		if (ret)
			problem(err, errlen, first, ret, "xps tx-%zu: cannot set mask %s again: %s", i,
				mask, strerror(-ret));
	}
}

static void restore_qdisc(const char *dev, const char *was, char *err, size_t errlen, int *first)
{
	struct qstats_ctx qc = { 0 };
	char now[64];
	int ret;

	if (!was)
		return;
	ret = nic_state_root_qdisc(dev, now, sizeof(now));
	if (ret) {
		problem(err, errlen, first, ret, "qdisc: cannot read the root qdisc: %s", strerror(-ret));
		return;
	}
	/* zcgen only ever adds an mq root (for per-queue counters), so only that is undone. */
	if (!strcmp(now, was) || (strcmp(now, "mq") && strcmp(was, "mq")))
		return;
	ret = qstats_open(&qc, NULL, NULL);
	if (!ret)
		ret = !strcmp(now, "mq") ? qstats_mq_del(&qc, dev) : qstats_mq_add(&qc, dev);
	if (ret)
		problem(err, errlen, first, ret, "qdisc: cannot make the root qdisc %s again (it is %s): %s",
			was, now, strerror(-ret));
	qstats_close(&qc);
}

/* Only when the snapshot has one (state files from before nic.mtu have none). */
static void restore_mtu(const char *dev, const json_t *sm, char *err, size_t errlen, int *first)
{
	unsigned int now, was = (unsigned int)json_integer_value(sm);
	char why[256];
	int ret;

	if (!json_is_integer(sm) || !was)
		return;
	ret = link_mtu_get(dev, &now);
	if (!ret && now == was)
		return;
	if (!ret)
		ret = link_mtu_set(dev, was, why, sizeof(why));
	else
		why[0] = '\0';
	if (ret)
		problem(err, errlen, first, ret, "mtu: cannot set it back to %u: %s%s%s", was, why,
			why[0] ? ": " : "", strerror(-ret));
}

int nic_state_restore_features(struct ethnl *nl, const char *dev, const json_t *st, char *err,
			       size_t errlen)
{
	int first = 0;

	if (errlen)
		err[0] = '\0';
	restore_features(nl, dev, json_object_get(st, "features"), err, errlen, &first);
	return first;
}

int nic_state_restore(struct ethnl *nl, const char *root, const char *dev, const json_t *st,
		      char *err, size_t errlen)
{
	unsigned int ifindex = if_nametoindex(dev);
	json_int_t was = json_integer_value(json_object_get(st, "ifindex"));
	int first = 0;

	if (errlen)
		err[0] = '\0';
	if (!ifindex) {
		snprintf(err, errlen, "%s: no such device in this network namespace", dev);
		return -ENODEV;
	}
	if (was && was != (json_int_t)ifindex) {
		snprintf(err, errlen,
			 "%s is not the device the state was saved from (ifindex %lld then, %u now)",
			 dev, (long long)was, ifindex);
		return -ESTALE;
	}
	restore_channels(nl, dev, json_object_get(st, "channels"), err, errlen, &first);
	restore_features(nl, dev, json_object_get(st, "features"), err, errlen, &first);
	restore_rings(nl, dev, json_object_get(st, "rings"), err, errlen, &first);
	restore_irqs(root, dev, json_object_get(st, "irqs"), err, errlen, &first);
	restore_xps(root, dev, json_object_get(st, "xps"), err, errlen, &first);
	restore_qdisc(dev, json_string_value(json_object_get(st, "root_qdisc")), err, errlen, &first);
	restore_mtu(dev, json_object_get(st, "mtu"), err, errlen, &first);
	return first;
}
