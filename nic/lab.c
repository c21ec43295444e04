/* lab.c - the built-in veth lab: namespaces and veth through `ip`, a sink in the receiving side */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <jansson.h>
#include "nic/testhook.h"
#include "nic/lab.h"
#include "nic/ethnl.h"

extern char **environ;

#define LAB_NETNS_DIR "/run/netns"
#define LAB_TX_DEV "zcl-tx0"
#define LAB_RX_DEV "zcl-rx0"
#define LAB_TX_IPV4 "198.18.0.1"
#define LAB_RX_IPV4 "198.18.0.2"
#define LAB_IPV4_PLEN 30
#define LAB_TX_IPV6 "fd00:7a63::1"
#define LAB_RX_IPV6 "fd00:7a63::2"
#define LAB_IPV6_PLEN 64
#define LAB_IPV6_MIN_MTU 1280
#define LAB_OUT_MAX 65536          /* stdout of one `ip -j` call */
#define LAB_SINK_WAIT_MS 3000      /* a sink that does not listen by then has failed */

enum lab_proto { LAB_TCP, LAB_UDP };

/*
 * One sink takes both protocols on the lab's port (`--protocol both`), so
 * that plain TCP and UDP streams and iperf3 clients (whose UDP tests need a
 * TCP control connection on the same port) all work. Its state files are
 * PREFIX.sink.pid and .sink.log. Labs made by an older zcgen had one sink
 * per protocol (PREFIX.sink-tcp.*, .sink-udp.*): those are still stopped.
 */
#define LAB_SINK "sink"
static const char *const lab_old_sinks[] = { "sink-tcp", "sink-udp" };

static void lab_msg(char *msg, size_t msglen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void lab_msg(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	if (!msg || !msglen)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
}

void lab_cfg_init(struct lab_cfg *cfg)
{
	const char *env = getenv(LAB_PREFIX_ENV);

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->prefix, sizeof(cfg->prefix), "%s",
		 env && *env ? env : LAB_PREFIX_DEFAULT);
	if (env && strlen(env) > LAB_PREFIX_MAX)
		cfg->prefix[0] = '\0';   /* too long: rejected by lab_check_cfg, not shortened */
	cfg->queues = LAB_DEFAULT_QUEUES;
	cfg->mtu = LAB_DEFAULT_MTU;
	cfg->sink = true;
	cfg->sink_exe = NULL;
	cfg->sink_port = LAB_SINK_PORT;
	cfg->gro = LAB_GRO_KEEP;
}

const char *lab_flavour_name(enum lab_flavour f)
{
	return f == LAB_DROP ? "drop" : "veth";
}

int lab_flavour_parse(const char *name, enum lab_flavour *out)
{
	if (!name || !*name || !strcmp(name, "veth"))
		*out = LAB_VETH;
	else if (!strcmp(name, "drop"))
		*out = LAB_DROP;
	else
		return -EINVAL;
	return 0;
}

int lab_check_cfg(const struct lab_cfg *cfg, char *msg, size_t msglen)
{
	size_t len = strnlen(cfg->prefix, sizeof(cfg->prefix));

	if (len == 0 || len > LAB_PREFIX_MAX) {
		lab_msg(msg, msglen, "lab prefix (%s) must be 1 to %d characters",
			LAB_PREFIX_ENV, LAB_PREFIX_MAX);
		return -EINVAL;
	}
	/* The prefix becomes file names under /run/netns and LAB_RUN_DIR. */
	if (cfg->prefix[0] == '.' ||
	    strspn(cfg->prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != len) {
		lab_msg(msg, msglen, "lab prefix '%s' (%s): only letters, digits, '.', '_' and '-', not starting with '.'",
			cfg->prefix, LAB_PREFIX_ENV);
		return -EINVAL;
	}
	if (cfg->queues < 1 || cfg->queues > LAB_MAX_QUEUES) {
		lab_msg(msg, msglen, "lab queues %u: must be 1 to %d", cfg->queues, LAB_MAX_QUEUES);
		return -EINVAL;
	}
	if (cfg->mtu < LAB_MIN_MTU || cfg->mtu > LAB_MAX_MTU) {
		lab_msg(msg, msglen, "lab MTU %u: must be %d to %d", cfg->mtu, LAB_MIN_MTU, LAB_MAX_MTU);
		return -EINVAL;
	}
	if (cfg->gro != LAB_GRO_KEEP && cfg->gro != 0 && cfg->gro != 1) {
		lab_msg(msg, msglen, "lab gro %d: must be 0, 1 or LAB_GRO_KEEP", cfg->gro);
		return -EINVAL;
	}
	if (cfg->flavour != LAB_VETH && cfg->flavour != LAB_DROP) {
		lab_msg(msg, msglen, "lab flavour %d: must be LAB_VETH or LAB_DROP", (int)cfg->flavour);
		return -EINVAL;
	}
	if (cfg->flavour == LAB_DROP && cfg->gro == 1) {
		lab_msg(msg, msglen, "the drop lab has no receiver: GRO on its receiving end would "
			"never see a packet (drop --gro, or use the veth lab)");
		return -EINVAL;
	}
	if (cfg->sink && cfg->sink_port == 0) {
		lab_msg(msg, msglen, "lab sink port 0: must be 1 to 65535");
		return -EINVAL;
	}
	return 0;
}

static void lab_names(const char *prefix, struct lab_info *info)
{
	memset(info, 0, sizeof(*info));
	snprintf(info->prefix, sizeof(info->prefix), "%s", prefix);
	snprintf(info->tx_netns, sizeof(info->tx_netns), "%s-tx", prefix);
	snprintf(info->rx_netns, sizeof(info->rx_netns), "%s-rx", prefix);
	snprintf(info->tx_dev, sizeof(info->tx_dev), "%s", LAB_TX_DEV);
	snprintf(info->rx_dev, sizeof(info->rx_dev), "%s", LAB_RX_DEV);
	snprintf(info->tx_ipv4, sizeof(info->tx_ipv4), "%s", LAB_TX_IPV4);
	snprintf(info->rx_ipv4, sizeof(info->rx_ipv4), "%s", LAB_RX_IPV4);
	info->ipv4_prefixlen = LAB_IPV4_PLEN;
	info->ipv6_prefixlen = LAB_IPV6_PLEN;
}

/* Capabilities of this process, without libcap: two syscalls' worth. */
static int lab_check_caps(char *msg, size_t msglen)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	const int need[] = { CAP_SYS_ADMIN, CAP_NET_ADMIN };
	const char *const need_name[] = { "CAP_SYS_ADMIN", "CAP_NET_ADMIN" };

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return 0; /* cannot tell: let the kernel refuse with its own error */
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (!(data[need[i] / 32].effective & (1u << (need[i] % 32)))) {
			lab_msg(msg, msglen, "the lab needs root (%s) to create network namespaces and veth devices",
				need_name[i]);
			return -EPERM;
		}
	}
	return 0;
}

/*
 * Run a program (never through a shell) and wait for it. Its stdout goes to
 * @out when given, else to /dev/null; its stderr, prefixed with the command,
 * becomes @msg when it fails. Return: 0 on exit status 0, -ENOENT when the
 * program is not installed, -EIO on any other failure.
 */
static int lab_run(char *const argv[], char *out, size_t outlen, char *msg, size_t msglen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	int opipe[2] = { -1, -1 }, epipe[2] = { -1, -1 };
	char err[1024] = "";
	size_t olen = 0, elen = 0;
	pid_t pid;
	int ret, status;

	if (pipe2(opipe, O_CLOEXEC) < 0 || pipe2(epipe, O_CLOEXEC) < 0) {
		ret = -errno;
		lab_msg(msg, msglen, "pipe: %s", strerror(-ret));
		goto out_close;
	}
	ret = -posix_spawn_file_actions_init(&fa);
	if (ret)
		goto out_close;
	ret = -posix_spawnattr_init(&at);
	if (ret) {
		posix_spawn_file_actions_destroy(&fa);
		goto out_close;
	}
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, opipe[1], 1);
	posix_spawn_file_actions_adddup2(&fa, epipe[1], 2);
	/*
	 * A process group of its own: a Ctrl-C at the terminal (or the SIGHUP
	 * of a closed one) reaches zcgen, which finishes the step or undoes
	 * it, and never kills an `ip` half way through building or tearing
	 * down the lab. Signals as a fresh program expects them: none blocked,
	 * none ignored (a caller may hold or ignore them).
	 */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGPIPE);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					  POSIX_SPAWN_SETSIGDEF);
	ret = -posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (ret) {
		if (ret == -ENOENT)
			lab_msg(msg, msglen, "%s: not found (apt-get install iproute2)", argv[0]);
		else
			lab_msg(msg, msglen, "%s: %s", argv[0], strerror(-ret));
		goto out_close;
	}
	close(opipe[1]);
	close(epipe[1]);
	opipe[1] = epipe[1] = -1;

	/* Drain both pipes together so that neither side can block the other. */
	for (;;) {
		struct pollfd pfd[2] = { { .fd = opipe[0], .events = POLLIN },
					 { .fd = epipe[0], .events = POLLIN } };
		char scratch[4096];
		int open_fds = (opipe[0] >= 0) + (epipe[0] >= 0);

		if (!open_fds)
			break;
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			int *fd = i ? &epipe[0] : &opipe[0];
			ssize_t n;

			if (*fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(*fd, scratch, sizeof(scratch));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(*fd);
				*fd = -1;
				continue;
			}
			if (i == 0 && out) {
				size_t room = outlen > olen + 1 ? outlen - olen - 1 : 0;
				size_t take = (size_t)n < room ? (size_t)n : room;

				memcpy(out + olen, scratch, take);
				olen += take;
			} else if (i == 1) {
				size_t room = sizeof(err) - elen - 1;
				size_t take = (size_t)n < room ? (size_t)n : room;

				memcpy(err + elen, scratch, take);
				elen += take;
			}
		}
	}
	if (out && outlen)
		out[olen] = '\0';
	err[elen] = '\0';
	while (elen && (err[elen - 1] == '\n' || err[elen - 1] == ' '))
		err[--elen] = '\0';

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			ret = -errno;
			goto out_close;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		ret = 0;
	} else {
		char cmd[256] = "";
		size_t cl = 0;

		for (int i = 0; argv[i] && cl + 2 < sizeof(cmd); i++)
			cl += snprintf(cmd + cl, sizeof(cmd) - cl, "%s%s", i ? " " : "", argv[i]);
		if (cl >= sizeof(cmd))
			cl = sizeof(cmd) - 1;
		lab_msg(msg, msglen, "`%s` failed: %s", cmd,
			elen ? err : WIFEXITED(status) ? "non-zero exit" : "killed by a signal");
		ret = -EIO;
	}
out_close:
	for (int i = 0; i < 2; i++) {
		if (opipe[i] >= 0)
			close(opipe[i]);
		if (epipe[i] >= 0)
			close(epipe[i]);
	}
	return ret;
}

#define LAB_RUN(msg, msglen, ...) \
	lab_run((char *const[]){ __VA_ARGS__, NULL }, NULL, 0, msg, msglen)

/* Run `ip`/`tc` with -j and parse what it prints. */
static int lab_run_json(char *const argv[], json_t **out, char *msg, size_t msglen)
{
	char *buf = malloc(LAB_OUT_MAX);
	json_error_t jerr;
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = lab_run(argv, buf, LAB_OUT_MAX, msg, msglen);
	if (ret)
		goto out;
	*out = json_loads(buf, 0, &jerr);
	if (!*out || !json_is_array(*out)) {
		lab_msg(msg, msglen, "%s -j: unexpected output: %s", argv[0], jerr.text);
		json_decref(*out);
		*out = NULL;
		ret = -EPROTO;
	}
out:
	free(buf);
	return ret;
}

static void lab_netns_path(const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", LAB_NETNS_DIR, name);
}

/*
 * 1: a live named namespace; 0: absent; -1: a file without a namespace
 * mounted on it (left by a crash), which `ip netns add` would trip over.
 */
static int lab_netns_state(const char *name, ino_t *ino)
{
	char path[PATH_MAX];
	struct statfs sfs;
	struct stat st;
	int fd, ret = -1;

	lab_netns_path(name, path, sizeof(path));
	if (lstat(path, &st) < 0)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* Mounted, the file is the namespace itself, on nsfs. */
	if (fstatfs(fd, &sfs) == 0 && sfs.f_type == NSFS_MAGIC && fstat(fd, &st) == 0) {
		if (ino)
			*ino = st.st_ino;
		ret = 1;
	}
	close(fd);
	return ret;
}

/* The network namespace inode of a process, 0 when it is gone. */
static ino_t lab_pid_netns(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (stat(path, &st) < 0)
		return 0;
	return st.st_ino;
}

/* /proc/PID/WHAT into @buf, NUL-terminated. Return: the bytes read, 0 when none or no such file. */
static ssize_t lab_proc_read(pid_t pid, const char *what, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return n;
}

/* A zombie has exited: it only waits for its parent (or init) to reap it. */
static bool lab_pid_alive(pid_t pid)
{
	char buf[256], *p;

	if (pid <= 0 || !lab_proc_read(pid, "stat", buf, sizeof(buf)))
		return false;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static void lab_state_path(const char *prefix, const char *what, char *path, size_t len)
{
	snprintf(path, len, "%s/%s.%s", LAB_RUN_DIR, prefix, what);
}

static int lab_mkdir_p(const char *dir)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * One lab operation at a time per prefix. The lock file is removed by
 * lab_down, so after locking we check that the file we hold is still the
 * one at the path (else someone removed it meanwhile: take the new one).
 */
static int lab_lock(const char *prefix, char *msg, size_t msglen)
{
	char path[PATH_MAX];
	struct stat a, b;
	int fd, ret;

	ret = lab_mkdir_p(LAB_RUN_DIR);
	if (ret) {
		lab_msg(msg, msglen, "%s: %s", LAB_RUN_DIR, strerror(-ret));
		return ret;
	}
	lab_state_path(prefix, "lock", path, sizeof(path));
	for (;;) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			ret = -errno;
			lab_msg(msg, msglen, "%s: %s", path, strerror(-ret));
			return ret;
		}
		if (flock(fd, LOCK_EX) < 0) {
			ret = -errno;
			close(fd);
			lab_msg(msg, msglen, "lock %s: %s", path, strerror(-ret));
			return ret;
		}
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			return fd;
		close(fd);
	}
}

static void lab_unlock(int fd, const char *prefix, bool remove)
{
	char path[PATH_MAX];

	if (remove) {
		lab_state_path(prefix, "lock", path, sizeof(path));
		unlink(path);
	}
	close(fd);
}

/* Pid files hold "PID NETNS-INODE": a reused pid in another namespace is not ours. */
static pid_t lab_sink_pid(const char *prefix, const char *name)
{
	char path[PATH_MAX], what[32];
	unsigned long long ino = 0;
	int pid = 0;
	FILE *f;

	snprintf(what, sizeof(what), "%s.pid", name);
	lab_state_path(prefix, what, path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%d %llu", &pid, &ino) != 2)
		pid = 0;
	fclose(f);
	if (pid <= 0 || !lab_pid_alive(pid) || lab_pid_netns(pid) != (ino_t)ino)
		return 0;
	return pid;
}

static void lab_sink_stop(const char *prefix, const char *name)
{
	char path[PATH_MAX], what[32];
	pid_t pid = lab_sink_pid(prefix, name);

	if (pid > 0 && kill(pid, SIGTERM) == 0) {
		/*
		 * Give it 3 s to write its report (a sanitizer build is slow), then
		 * insist, and wait until it is gone: a sink started next binds the
		 * same ports.
		 */
		for (int i = 0; i < 300 && lab_pid_alive(pid); i++)
			nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
		if (lab_pid_alive(pid)) {
			kill(pid, SIGKILL);
			for (int i = 0; i < 200 && lab_pid_alive(pid); i++)
				nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
		}
	}
	snprintf(what, sizeof(what), "%s.pid", name);
	lab_state_path(prefix, what, path, sizeof(path));
	unlink(path);
	snprintf(what, sizeof(what), "%s.log", name);
	lab_state_path(prefix, what, path, sizeof(path));
	unlink(path);
}

/* Is a socket of @proto bound to @port in the namespace of @pid? */
static bool lab_pid_listens(pid_t pid, enum lab_proto proto, uint16_t port)
{
	const char *files[2] = { proto == LAB_TCP ? "tcp" : "udp", proto == LAB_TCP ? "tcp6" : "udp6" };

	for (int i = 0; i < 2; i++) {
		char path[64], line[512];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pid, files[i]);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned lport, state;
			char laddr[64];

			/* "  0: 00000000:1451 00000000:0000 0A ..." */
			if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x",
				   laddr, &lport, &state) != 3)
				continue;
			/* TCP must be LISTEN (0x0A); UDP is bound, state 0x07 (CLOSE). */
			if (lport == port && (proto == LAB_UDP || state == 0x0A)) {
				fclose(f);
				return true;
			}
		}
		fclose(f);
	}
	return false;
}

static void lab_log_tail(const char *path, char *buf, size_t len)
{
	char line[512] = "", last[512] = "";
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '\n')
			snprintf(last, sizeof(last), "%s", line);
	fclose(f);
	last[strcspn(last, "\n")] = '\0';
	snprintf(buf, len, "%s", last);
}

/*
 * The sink's argument vector: the caller's @cfg->sink_argv with
 * LAB_SINK_LISTEN replaced by @listen, and @cfg->sink_gro_arg added for @gro.
 */
static int lab_sink_argv(const struct lab_cfg *cfg, char *listen, bool gro,
			 char *argv[LAB_SINK_ARGV_MAX], char *msg, size_t msglen)
{
	size_t n = 0;

	if (!cfg->sink_argv || !cfg->sink_argv[0] || (gro && !cfg->sink_gro_arg)) {
		lab_msg(msg, msglen, "no command line for the lab's sink%s", gro ? " with GRO" : "");
		return -EINVAL;
	}
	for (; cfg->sink_argv[n]; n++) {
		if (n + 2 >= LAB_SINK_ARGV_MAX) {
			lab_msg(msg, msglen, "the sink's command line has over %d arguments",
				LAB_SINK_ARGV_MAX - 2);
			return -E2BIG;
		}
		argv[n] = strcmp(cfg->sink_argv[n], LAB_SINK_LISTEN) ? (char *)cfg->sink_argv[n] : listen;
	}
	if (gro)
		argv[n++] = (char *)cfg->sink_gro_arg;
	argv[n] = NULL;
	return 0;
}

/*
 * Start the sink (@cfg->sink_argv: e.g. `zcgen sink --listen [::]:PORT
 * --protocol both --quiet [--gro]`; 0.0.0.0:PORT where the lab has no IPv6) in the
 * receiving namespace as a daemon; ready once it listens on TCP and UDP. Forked twice so that init, not a
 * long-lived zcgen run, reaps it; its output goes to a log file next to its
 * pid file (zcgen's --quiet: no interval lines, which would fill /run over days).
 */
static int lab_sink_start(const struct lab_cfg *cfg, const struct lab_info *info, bool gro,
			  pid_t *out, char *msg, size_t msglen)
{
	char nspath[PATH_MAX], pidpath[PATH_MAX], logpath[PATH_MAX], listen[32];
	const char *exe = cfg->sink_exe ? cfg->sink_exe : "/proc/self/exe";
	char *argv[LAB_SINK_ARGV_MAX];
	int pfd[2], nsfd, logfd, nullfd, ret, status;
	ino_t nsino = 0;
	pid_t a, pid = 0;
	FILE *f;

	/* dual-stack where the lab has IPv6: one socket takes 198.18.0.2 and fd00:7a63::2 */
	snprintf(listen, sizeof(listen), info->rx_ipv6[0] ? "[::]:%u" : "0.0.0.0:%u",
		 cfg->sink_port);
	ret = lab_sink_argv(cfg, listen, gro, argv, msg, msglen);
	if (ret)
		return ret;
	lab_netns_path(info->rx_netns, nspath, sizeof(nspath));
	lab_state_path(info->prefix, LAB_SINK ".log", logpath, sizeof(logpath));
	lab_state_path(info->prefix, LAB_SINK ".pid", pidpath, sizeof(pidpath));
	if (lab_netns_state(info->rx_netns, &nsino) != 1) {
		lab_msg(msg, msglen, "namespace %s is gone", info->rx_netns);
		return -ENOENT;
	}

	/* Everything the child needs is opened here: after fork only syscalls. */
	nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0) {
		ret = -errno;
		lab_msg(msg, msglen, "%s: %s", nspath, strerror(-ret));
		return ret;
	}
	logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (logfd < 0 || nullfd < 0 || pipe2(pfd, O_CLOEXEC) < 0) {
		ret = -errno;
		lab_msg(msg, msglen, "sink log %s: %s", logpath, strerror(-ret));
		goto out_fds;
	}

	a = fork();
	if (a < 0) {
		ret = -errno;
		lab_msg(msg, msglen, "fork: %s", strerror(-ret));
		goto out_pipe;
	}
	if (a == 0) {
		pid_t b;

		setsid();
		b = fork();
		if (b == 0) {
			if (setns(nsfd, CLONE_NEWNET) < 0)
				_exit(126);
			/* dup2 clears O_CLOEXEC on the copies, so 0-2 survive exec. */
			if (dup2(nullfd, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
				_exit(126);
			if (chdir("/") < 0)
				_exit(126);
			execv(exe, argv);
			_exit(127);
		}
		if (write(pfd[1], &b, sizeof(b)) != sizeof(b))
			_exit(1);
		_exit(b > 0 ? 0 : 1);
	}
	close(pfd[1]);
	pfd[1] = -1;
	if (read(pfd[0], &pid, sizeof(pid)) != sizeof(pid))
		pid = 0;
	while (waitpid(a, &status, 0) < 0 && errno == EINTR)
		;
	if (pid <= 0) {
		ret = -ECHILD;
		lab_msg(msg, msglen, "could not start the sink");
		goto out_pipe;
	}

	/* Record it first, so that a teardown after any failure below stops it. */
	f = fopen(pidpath, "we");
	if (!f) {
		ret = -errno;
		kill(pid, SIGKILL);
		lab_msg(msg, msglen, "%s: %s", pidpath, strerror(-ret));
		goto out_pipe;
	}
	fprintf(f, "%d %llu\n", (int)pid, (unsigned long long)nsino);
	fclose(f);

	ret = -ETIMEDOUT;
	for (int waited = 0; waited < LAB_SINK_WAIT_MS; waited += 10) {
		/* Until it has joined the namespace it may still look like us. */
		if (lab_pid_netns(pid) == nsino && lab_pid_listens(pid, LAB_TCP, cfg->sink_port) &&
		    lab_pid_listens(pid, LAB_UDP, cfg->sink_port)) {
			ret = 0;
			break;
		}
		if (!lab_pid_alive(pid)) {
			ret = -ECHILD;
			break;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	if (ret) {
		char tail[400];

		lab_log_tail(logpath, tail, sizeof(tail));
		lab_msg(msg, msglen, "the sink (%s sink --listen %s --protocol both%s) %s%s%s",
			exe, listen, gro ? " --gro" : "",
			ret == -ECHILD ? "exited" : "did not listen within 3 s",
			*tail ? ": " : "", tail);
		goto out_pipe;
	}
	*out = pid;
out_pipe:
	close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
out_fds:
	if (logfd >= 0)
		close(logfd);
	if (nullfd >= 0)
		close(nullfd);
	close(nsfd);
	return ret;
}

/* The veth end @dev in @ns: its queue count and MTU; -ENODEV if absent. */
static int lab_read_dev(const char *ns, const char *dev, unsigned *queues, unsigned *mtu,
			bool *up, char *msg, size_t msglen)
{
	json_t *arr = NULL, *link;
	int ret;

	ret = lab_run_json((char *const[]){ "ip", "-j", "-d", "-n", (char *)ns, "link", "show",
					     "dev", (char *)dev, NULL }, &arr, msg, msglen);
	if (ret) {
		lab_msg(msg, msglen, "device %s missing in namespace %s", dev, ns);
		return -ENODEV;
	}
	link = json_array_get(arr, 0);
	if (!link || strcmp(json_string_value(json_object_get(link, "ifname")) ?: "", dev) ||
	    !json_is_integer(json_object_get(link, "num_tx_queues"))) {
		lab_msg(msg, msglen, "device %s in namespace %s: unexpected `ip -j` output", dev, ns);
		ret = -EPROTO;
		goto out;
	}
	*queues = (unsigned)json_integer_value(json_object_get(link, "num_tx_queues"));
	*mtu = (unsigned)json_integer_value(json_object_get(link, "mtu"));
	*up = false;
	{
		size_t i;
		json_t *flag;

		json_array_foreach(json_object_get(link, "flags"), i, flag)
			if (!strcmp(json_string_value(flag) ?: "", "UP"))
				*up = true;
	}
out:
	json_decref(arr);
	return ret;
}

/* Which of the lab's addresses @dev carries: bit 0 the IPv4 one, bit 1 the IPv6 one. */
static int lab_read_addrs(const char *ns, const char *dev, const char *v4, const char *v6,
			  unsigned *have, char *msg, size_t msglen)
{
	json_t *arr = NULL, *ai;
	size_t i;
	int ret;

	*have = 0;
	ret = lab_run_json((char *const[]){ "ip", "-j", "-n", (char *)ns, "addr", "show",
					     "dev", (char *)dev, NULL }, &arr, msg, msglen);
	if (ret)
		return ret;
	json_array_foreach(json_object_get(json_array_get(arr, 0), "addr_info"), i, ai) {
		const char *local = json_string_value(json_object_get(ai, "local")) ?: "";

		if (!strcmp(local, v4))
			*have |= 1;
		if (!strcmp(local, v6))
			*have |= 2;
	}
	json_decref(arr);
	return 0;
}

/* "1:" or "1:2" as tc -j prints handles and parents: major and minor (hex). */
static bool lab_tc_handle(const char *s, unsigned *maj, unsigned *min)
{
	char *end;

	if (!s)
		return false;
	*maj = (unsigned)strtoul(s, &end, 16);
	if (end == s || *end != ':')
		return false;
	*min = end[1] ? (unsigned)strtoul(end + 1, &end, 16) : 0;
	return *end == '\0' || *end == ':';
}

/* A pfifo that takes no packet: `pfifo limit 0`, the drop lab's qdisc. */
static bool lab_is_drop_fifo(json_t *q)
{
	json_t *limit = json_object_get(json_object_get(q, "options"), "limit");

	return !strcmp(json_string_value(json_object_get(q, "kind")) ?: "", "pfifo") &&
	       json_is_integer(limit) && json_integer_value(limit) == 0;
}

int lab_qdisc_flavour(const char *tc_json, const char *dev, unsigned queues,
		      enum lab_flavour *out, char *msg, size_t msglen)
{
	json_t *arr, *q, *root = NULL;
	json_error_t jerr;
	unsigned rmaj = 0, rmin, maj, min, drops = 0;
	bool seen[LAB_MAX_QUEUES] = { false };
	size_t i;
	int ret = 0;

	if (queues > LAB_MAX_QUEUES) {
		/* seen[] has a slot per queue a lab can have; this device is not one of ours */
		lab_msg(msg, msglen, "%s has %u TX queues: a zcgen lab has at most %d", dev, queues,
			LAB_MAX_QUEUES);
		return -ENOLINK;
	}
	arr = json_loads(tc_json, 0, &jerr);
	if (!json_is_array(arr)) {
		lab_msg(msg, msglen, "tc -j qdisc show dev %s: unexpected output: %s", dev, jerr.text);
		json_decref(arr);
		return -EPROTO;
	}
	json_array_foreach(arr, i, q)
		if (json_is_true(json_object_get(q, "root")))
			root = q;
	*out = LAB_VETH;
	if (queues <= 1) {
		/* mq needs two queues: the one queue's pfifo sits at the root */
		if (root && lab_is_drop_fifo(root))
			*out = LAB_DROP;
		goto out;
	}
	if (!root || strcmp(json_string_value(json_object_get(root, "kind")) ?: "", "mq") ||
	    !lab_tc_handle(json_string_value(json_object_get(root, "handle")), &rmaj, &rmin)) {
		lab_msg(msg, msglen, "no mq root qdisc on %s", dev);
		ret = -ENOLINK;
		goto out;
	}
	/* mq's children hang off its handle's major, minor = TX queue + 1 */
	json_array_foreach(arr, i, q) {
		if (q == root ||
		    !lab_tc_handle(json_string_value(json_object_get(q, "parent")), &maj, &min) ||
		    maj != rmaj || min < 1 || min > queues || seen[min - 1])
			continue;
		seen[min - 1] = true;
		drops += lab_is_drop_fifo(q);
	}
	if (drops == queues) {
		*out = LAB_DROP;
	} else if (drops) {
		lab_msg(msg, msglen, "only %u of the %u TX queues of %s have the drop lab's pfifo limit 0",
			drops, queues, dev);
		ret = -ENOLINK;
	}
out:
	json_decref(arr);
	return ret;
}

/* The flavour that @dev's qdiscs make (lab_qdisc_flavour()), read with tc. */
static int lab_read_flavour(const char *ns, const char *dev, unsigned queues,
			    enum lab_flavour *out, char *msg, size_t msglen)
{
	char *buf = malloc(LAB_OUT_MAX);
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = lab_run((char *const[]){ "tc", "-j", "-n", (char *)ns, "qdisc", "show", "dev",
				       (char *)dev, NULL }, buf, LAB_OUT_MAX, msg, msglen);
	if (!ret)
		ret = lab_qdisc_flavour(buf, dev, queues, out, msg, msglen);
	free(buf);
	return ret;
}

/* The link-layer address of @dev in @ns, as `ip` prints it. */
static int lab_read_mac(const char *ns, const char *dev, char *mac, size_t len, char *msg,
			size_t msglen)
{
	json_t *arr = NULL;
	const char *a;
	int ret;

	ret = lab_run_json((char *const[]){ "ip", "-j", "-n", (char *)ns, "link", "show", "dev",
					     (char *)dev, NULL }, &arr, msg, msglen);
	if (ret)
		return ret;
	a = json_string_value(json_object_get(json_array_get(arr, 0), "address"));
	if (a && *a)
		snprintf(mac, len, "%s", a);
	else
		lab_msg(msg, msglen, "device %s in namespace %s has no link-layer address", dev, ns);
	ret = a && *a ? 0 : -EPROTO;
	json_decref(arr);
	return ret;
}

/*
 * The drop lab's neighbour entries: @addr (and @addr6 when not "") on @dev,
 * permanent, with the peer's address @mac. Return: 0 when all are there,
 * -ENOLINK with @msg saying which is missing.
 */
static int lab_check_neigh(const char *ns, const char *dev, const char *addr, const char *addr6,
			   const char *mac, char *msg, size_t msglen)
{
	const char *want[2] = { addr, addr6 };
	json_t *arr = NULL, *n, *st;
	int ret;

	ret = lab_run_json((char *const[]){ "ip", "-j", "-n", (char *)ns, "neigh", "show", "dev",
					     (char *)dev, NULL }, &arr, msg, msglen);
	if (ret)
		return ret;
	for (int k = 0; k < 2 && !ret; k++) {
		bool found = false;
		size_t i, j;

		if (!want[k] || !*want[k])
			continue;
		json_array_foreach(arr, i, n) {
			if (strcmp(json_string_value(json_object_get(n, "dst")) ?: "", want[k]) ||
			    strcasecmp(json_string_value(json_object_get(n, "lladdr")) ?: "", mac))
				continue;
			json_array_foreach(json_object_get(n, "state"), j, st)
				found |= !strcmp(json_string_value(st) ?: "", "PERMANENT");
		}
		if (!found) {
			lab_msg(msg, msglen, "no permanent neighbour entry %s lladdr %s on %s (without it "
				"the drop lab drops ARP/ND too and nothing reaches the device)",
				want[k], mac, dev);
			ret = -ENOLINK;
		}
	}
	json_decref(arr);
	return ret;
}

/* Does the command line of @pid have the argument @arg? */
static bool lab_pid_has_arg(pid_t pid, const char *arg)
{
	char buf[4096];
	ssize_t n = lab_proc_read(pid, "cmdline", buf, sizeof(buf));

	for (char *p = buf; p < buf + n; p += strlen(p) + 1)
		if (!strcmp(p, arg))
			return true;
	return false;
}

/*
 * UDP GRO on the receiving veth (docs/lab.md, "UDP GRO"). Found by
 * experiment on 6.18, for datagrams sent one by one (no GSO):
 * - rx-gro gives veth a NAPI instance (without it, no GRO at all);
 * - an skb from a sender whose device has TSO (zcl-tx0 has) takes that NAPI
 *   path only when the receiver also has rx-udp-gro-forwarding (or
 *   rx-gro-list); else it goes straight to the stack, uncoalesced;
 * - NAPI scheduled from the sender's transmit runs at once, in the same
 *   softirq, and finds one packet: nothing to merge. Threaded NAPI polls in
 *   a kernel thread of its own, which finds several datagrams waiting.
 * rx-udp-gro-forwarding coalesces for sockets without UDP_GRO only when no
 * socket takes the datagram (forwarding); a socket without UDP_GRO still
 * gets its datagrams one by one.
 */
#define LAB_FEAT_GRO "rx-gro"
#define LAB_FEAT_UDP_FWD "rx-udp-gro-forwarding"

/* An ethtool netlink handle that works in @netns: the socket keeps the namespace it was made in. */
static int lab_ethnl_open(const char *netns, struct ethnl **nl, char *msg, size_t msglen)
{
	char path[PATH_MAX];
	int self, target, ret;

	*nl = NULL;
	lab_netns_path(netns, path, sizeof(path));
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || target < 0) {
		ret = -errno;
		lab_msg(msg, msglen, "%s: %s", self < 0 ? "/proc/thread-self/ns/net" : path, strerror(-ret));
		goto out;
	}
	/* setns() moves only this thread, and only for the one call. */
	if (setns(target, CLONE_NEWNET) < 0) {
		ret = -errno;
		lab_msg(msg, msglen, "setns %s: %s", netns, strerror(-ret));
		goto out;
	}
	ret = ethnl_open(nl);
	if (setns(self, CLONE_NEWNET) < 0) {
		ret = -errno;
		lab_msg(msg, msglen, "cannot return from namespace %s: %s", netns, strerror(-ret));
		ethnl_close(*nl);
		*nl = NULL;
		goto out;
	}
	if (ret)
		lab_msg(msg, msglen, "ethtool netlink in %s: %s", netns, strerror(-ret));
out:
	if (self >= 0)
		close(self);
	if (target >= 0)
		close(target);
	return ret;
}

/*
 * /sys/class/net/@dev/threaded in @netns: @val "1" or "0" to write, NULL to
 * read. sysfs shows the namespace of whoever mounted it, so a child joins
 * @netns and mounts a sysfs of its own, in a private mount namespace, as
 * lab_enter() does. The child makes only system calls: the parent may have
 * threads. Return: the value read (0 or 1), 0 after a write, or -errno.
 */
static int lab_napi_threaded(const char *netns, const char *dev, const char *val)
{
	char nspath[PATH_MAX], path[PATH_MAX], c = 0;
	int nsfd, pfd[2], status, ret;
	pid_t pid;

	lab_netns_path(netns, nspath, sizeof(nspath));
	snprintf(path, sizeof(path), "/sys/class/net/%s/threaded", dev);
	nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return -errno;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		ret = -errno;
		close(nsfd);
		return ret;
	}
	pid = fork();
	if (pid == 0) {
		int fd, e = 0;

		if (setns(nsfd, CLONE_NEWNET) < 0 || unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(errno & 0xff);
		umount2("/sys", MNT_DETACH);
		if (mount("sysfs", "/sys", "sysfs", 0, NULL) < 0 &&
		    mount("sysfs", "/sys", "sysfs", MS_RDONLY, NULL) < 0)
			_exit(errno & 0xff);
		fd = open(path, (val ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
		if (fd < 0)
			_exit(errno & 0xff);
		if (val ? write(fd, val, strlen(val)) < 0 : read(fd, &c, 1) != 1)
			e = errno ? errno : EIO;
		if (!val && !e && write(pfd[1], &c, 1) != 1)
			e = EIO;
		_exit(e & 0xff);
	}
	ret = pid < 0 ? -errno : 0;
	close(pfd[1]);
	close(nsfd);
	if (pid > 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status))
			ret = -EIO;
		else if (WEXITSTATUS(status))
			ret = -WEXITSTATUS(status);
		else if (!val)
			ret = read(pfd[0], &c, 1) == 1 ? c == '1' : -EIO;
	}
	close(pfd[0]);
	return ret;
}

/* Fill @info's GRO fields from the receiving device; what cannot be read is off. */
static void lab_read_gro(struct lab_info *info)
{
	struct ethnl_features fs = { 0 };
	const struct ethnl_feature *f;
	struct ethnl *nl = NULL;

	info->rx_gro = info->rx_udp_gro_forwarding = false;
	if (!lab_ethnl_open(info->rx_netns, &nl, NULL, 0) &&
	    !ethnl_features_get(nl, info->rx_dev, &fs)) {
		f = ethnl_feature_find(&fs, LAB_FEAT_GRO);
		info->rx_gro = f && f->active;
		f = ethnl_feature_find(&fs, LAB_FEAT_UDP_FWD);
		info->rx_udp_gro_forwarding = f && f->active;
	}
	ethnl_features_free(&fs);
	ethnl_close(nl);
	info->napi_threaded = lab_napi_threaded(info->rx_netns, info->rx_dev, NULL) == 1;
	info->gro = info->rx_gro && info->rx_udp_gro_forwarding && info->napi_threaded;
}

/* Turn GRO on or off on the receiving device, all three settings; the device must be up. */
static int lab_set_gro(struct lab_info *info, bool on, char *msg, size_t msglen)
{
	const struct ethnl_feature_req req[] = { { LAB_FEAT_GRO, on }, { LAB_FEAT_UDP_FWD, on } };
	struct ethnl *nl = NULL;
	int ret;

	/* Off: the thread goes first, while the NAPI instance still exists. */
	if (!on && info->napi_threaded) {
		ret = lab_napi_threaded(info->rx_netns, info->rx_dev, "0");
		if (ret) {
			lab_msg(msg, msglen, "threaded NAPI off on %s: %s", info->rx_dev, strerror(-ret));
			return ret;
		}
	}
	ret = lab_ethnl_open(info->rx_netns, &nl, msg, msglen);
	if (ret)
		return ret;
	ret = ethnl_features_set(nl, info->rx_dev, req, 2, NULL);
	if (ret)
		lab_msg(msg, msglen, "%s and %s %s on %s: %s", LAB_FEAT_GRO, LAB_FEAT_UDP_FWD,
			on ? "on" : "off", info->rx_dev,
			*ethnl_errmsg(nl) ? ethnl_errmsg(nl) : strerror(-ret));
	ethnl_close(nl);
	if (ret)
		return ret;
	if (on) {
		ret = lab_napi_threaded(info->rx_netns, info->rx_dev, "1");
		if (ret) {
			lab_msg(msg, msglen, "threaded NAPI on %s (/sys/class/net/%s/threaded): %s",
				info->rx_dev, info->rx_dev, strerror(-ret));
			return ret;
		}
	}
	lab_read_gro(info);
	if (on ? !info->gro : info->rx_gro || info->rx_udp_gro_forwarding || info->napi_threaded) {
		lab_msg(msg, msglen, "GRO %s on %s did not take: %s %s, %s %s, threaded NAPI %s",
			on ? "on" : "off", info->rx_dev, LAB_FEAT_GRO, info->rx_gro ? "on" : "off",
			LAB_FEAT_UDP_FWD, info->rx_udp_gro_forwarding ? "on" : "off",
			info->napi_threaded ? "on" : "off");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Fill @out from what is there; sinks are looked for but not required here. */
static int lab_query_locked(const struct lab_cfg *cfg, struct lab_info *out, char *msg, size_t msglen)
{
	unsigned rxq, rxmtu, have_tx, have_rx;
	bool txup, rxup;
	int tx, rx, ret;

	lab_names(cfg->prefix, out);
	tx = lab_netns_state(out->tx_netns, NULL);
	rx = lab_netns_state(out->rx_netns, NULL);
	if (tx == 0 && rx == 0) {
		lab_msg(msg, msglen, "no lab (namespaces %s and %s do not exist)", out->tx_netns, out->rx_netns);
		return -ENOENT;
	}
	if (tx != 1 || rx != 1) {
		lab_msg(msg, msglen, "namespace %s missing", tx != 1 ? out->tx_netns : out->rx_netns);
		return -ENOLINK;
	}
	ret = lab_read_dev(out->tx_netns, out->tx_dev, &out->queues, &out->mtu, &txup, msg, msglen);
	if (!ret)
		ret = lab_read_dev(out->rx_netns, out->rx_dev, &rxq, &rxmtu, &rxup, msg, msglen);
	if (ret)
		return ret == -ENODEV ? -ENOLINK : ret;
	if (!txup || !rxup) {
		lab_msg(msg, msglen, "device %s is down", !txup ? out->tx_dev : out->rx_dev);
		return -ENOLINK;
	}
	ret = lab_read_addrs(out->tx_netns, out->tx_dev, LAB_TX_IPV4, LAB_TX_IPV6, &have_tx, msg, msglen);
	if (!ret)
		ret = lab_read_addrs(out->rx_netns, out->rx_dev, LAB_RX_IPV4, LAB_RX_IPV6, &have_rx, msg, msglen);
	if (ret)
		return ret;
	if (!(have_tx & have_rx & 1)) {
		lab_msg(msg, msglen, "IPv4 address missing on %s", !(have_tx & 1) ? out->tx_dev : out->rx_dev);
		return -ENOLINK;
	}
	if (have_tx & have_rx & 2) {
		snprintf(out->tx_ipv6, sizeof(out->tx_ipv6), "%s", LAB_TX_IPV6);
		snprintf(out->rx_ipv6, sizeof(out->rx_ipv6), "%s", LAB_RX_IPV6);
	}
	ret = lab_read_flavour(out->tx_netns, out->tx_dev, out->queues, &out->flavour, msg, msglen);
	if (ret)
		return ret;
	if (out->flavour == LAB_DROP) {
		char mac[64];

		ret = lab_read_mac(out->rx_netns, out->rx_dev, mac, sizeof(mac), msg, msglen);
		if (!ret)
			ret = lab_check_neigh(out->tx_netns, out->tx_dev, out->rx_ipv4, out->rx_ipv6,
					      mac, msg, msglen);
		if (ret)
			return ret;
	}
	/* One sink serves both protocols. */
	out->sink_tcp_pid = out->sink_udp_pid = lab_sink_pid(cfg->prefix, LAB_SINK);
	out->sink_tcp_port = out->sink_tcp_pid ? cfg->sink_port : 0;
	out->sink_udp_port = out->sink_udp_pid ? cfg->sink_port : 0;
	out->sink_gro = out->sink_tcp_pid && cfg->sink_gro_arg &&
			lab_pid_has_arg(out->sink_tcp_pid, cfg->sink_gro_arg);
	lab_read_gro(out);
	return 0;
}

static void lab_down_locked(const char *prefix)
{
	struct lab_info names;

	lab_names(prefix, &names);
	lab_sink_stop(prefix, LAB_SINK);
	for (size_t i = 0; i < sizeof(lab_old_sinks) / sizeof(lab_old_sinks[0]); i++)
		lab_sink_stop(prefix, lab_old_sinks[i]);
	/*
	 * Delete the veth explicitly: a process still inside a namespace (a
	 * `lab exec` shell) keeps it alive after `ip netns del`, and the pair
	 * would live on with it.
	 */
	if (lab_netns_state(names.tx_netns, NULL) == 1)
		LAB_RUN(NULL, 0, "ip", "-n", names.tx_netns, "link", "del", "dev", names.tx_dev);
	if (lab_netns_state(names.tx_netns, NULL) != 0)
		LAB_RUN(NULL, 0, "ip", "netns", "del", names.tx_netns);
	if (lab_netns_state(names.rx_netns, NULL) != 0)
		LAB_RUN(NULL, 0, "ip", "netns", "del", names.rx_netns);
}

/* Start the sink if asked and not running; one running without @gro as asked is restarted. */
static int lab_start_sinks(const struct lab_cfg *cfg, struct lab_info *info, bool gro,
			   char *msg, size_t msglen)
{
	bool restart = false;
	int ret = 0;

	if (info->sink_tcp_pid && info->sink_gro != gro) {
		lab_sink_stop(cfg->prefix, LAB_SINK);
		info->sink_tcp_pid = info->sink_udp_pid = 0;
		info->sink_tcp_port = info->sink_udp_port = 0;
		restart = true;
	}
	if ((!cfg->sink || cfg->flavour == LAB_DROP) && !restart)
		return 0;
	if (!info->sink_tcp_pid) {
		/* Sinks of an older zcgen (one per protocol) would hold the port. */
		for (size_t i = 0; i < sizeof(lab_old_sinks) / sizeof(lab_old_sinks[0]); i++)
			lab_sink_stop(cfg->prefix, lab_old_sinks[i]);
		/*
		 * A sink that was just stopped may still hold the port for a
		 * moment after its process is gone: its sockets are referenced by
		 * its io_uring requests, which the kernel cancels in the ring's
		 * exit work, later. Try again for up to 3 s while the port is in use.
		 */
		for (int tries = 0;; tries++) {
			ret = lab_sink_start(cfg, info, gro, &info->sink_tcp_pid, msg, msglen);
			if (!ret || tries >= 15 || !strstr(msg, "already in use"))
				break;
			nanosleep(&(struct timespec){ .tv_nsec = 200 * 1000 * 1000 }, NULL);
		}
	}
	if (ret)
		return ret;
	info->sink_gro = gro;
	info->sink_udp_pid = info->sink_tcp_pid;
	info->sink_tcp_port = info->sink_udp_port = cfg->sink_port;
	return 0;
}

/*
 * The drop lab's qdiscs: an mq root with handle 1: and a `pfifo limit 0` on
 * each of its children 1:1..1:N (one queue: that pfifo at the root). Limit
 * 0 matters twice: the pfifo takes no packet, and a fifo whose limit is 0
 * loses TCQ_F_CAN_BYPASS, so no packet goes around it to the driver when
 * the queue is empty. Every skb is then dropped at enqueue, counted in the
 * child's drop counter: one per skb, a GSO skb once.
 */
static int lab_build_drop(const struct lab_cfg *cfg, struct lab_info *info, char *msg, size_t msglen)
{
	char parent[16];
	int ret;

	/*
	 * No IPv6 link-local address on the sending end (set before it goes up):
	 * without one there is no DAD and no router solicitation, so what the
	 * qdiscs count is the sender's traffic, save two MLD reports for
	 * fd00:7a63::1 in the first two seconds.
	 */
	ret = LAB_RUN(msg, msglen, "ip", "-n", info->tx_netns, "link", "set", "dev", info->tx_dev,
		      "addrgenmode", "none");
	if (ret)
		return ret;
	if (cfg->queues == 1)
		return LAB_RUN(msg, msglen, "tc", "-n", info->tx_netns, "qdisc", "replace", "dev",
			       info->tx_dev, "root", "pfifo", "limit", "0");
	ret = LAB_RUN(msg, msglen, "tc", "-n", info->tx_netns, "qdisc", "replace", "dev", info->tx_dev,
		      "root", "handle", "1:", "mq");
	for (unsigned q = 1; !ret && q <= cfg->queues; q++) {
		snprintf(parent, sizeof(parent), "1:%x", q);
		ret = LAB_RUN(msg, msglen, "tc", "-n", info->tx_netns, "qdisc", "replace", "dev",
			      info->tx_dev, "parent", parent, "pfifo", "limit", "0");
	}
	return ret;
}

/*
 * The drop lab's neighbour entries: ARP requests and ND solicitations are
 * dropped at the qdisc like everything else, so without a permanent entry
 * the neighbour stays INCOMPLETE, then FAILED, and datagrams wait in its
 * queue instead of reaching the device (zero-copy ones hold their buffers
 * there until it fails: docs/lab.md).
 */
static int lab_add_neigh(const struct lab_info *info, char *msg, size_t msglen)
{
	const char *addr[2] = { info->rx_ipv4, info->rx_ipv6 };
	char mac[64];
	int ret;

	ret = lab_read_mac(info->rx_netns, info->rx_dev, mac, sizeof(mac), msg, msglen);
	for (int k = 0; k < 2 && !ret; k++)
		if (*addr[k])
			ret = LAB_RUN(msg, msglen, "ip", "-n", (char *)info->tx_netns, "neigh",
				      "replace", (char *)addr[k], "lladdr", mac, "dev",
				      (char *)info->tx_dev, "nud", "permanent");
	return ret;
}

static int lab_build(const struct lab_cfg *cfg, struct lab_info *info, bool gro, char *msg, size_t msglen)
{
	char q[16], mtu[16], a4[64], b4[64], a6[64], b6[64];
	int ret;

	lab_names(cfg->prefix, info);
	snprintf(q, sizeof(q), "%u", cfg->queues);
	snprintf(mtu, sizeof(mtu), "%u", cfg->mtu);
	snprintf(a4, sizeof(a4), "%s/%d", LAB_TX_IPV4, LAB_IPV4_PLEN);
	snprintf(b4, sizeof(b4), "%s/%d", LAB_RX_IPV4, LAB_IPV4_PLEN);
	snprintf(a6, sizeof(a6), "%s/%d", LAB_TX_IPV6, LAB_IPV6_PLEN);
	snprintf(b6, sizeof(b6), "%s/%d", LAB_RX_IPV6, LAB_IPV6_PLEN);

	if ((ret = LAB_RUN(msg, msglen, "ip", "netns", "add", info->tx_netns)) ||
	    (ret = LAB_RUN(msg, msglen, "ip", "netns", "add", info->rx_netns)) ||
	    /* Created in the sending namespace, its peer moved to the receiving one. */
	    (ret = LAB_RUN(msg, msglen, "ip", "-n", info->tx_netns, "link", "add", info->tx_dev,
			   "numtxqueues", q, "numrxqueues", q, "type", "veth", "peer", "name",
			   info->rx_dev, "numtxqueues", q, "numrxqueues", q, "netns", info->rx_netns)) ||
	    (ret = LAB_RUN(msg, msglen, "ip", "-n", info->tx_netns, "link", "set", "dev", "lo", "up")) ||
	    (ret = LAB_RUN(msg, msglen, "ip", "-n", info->rx_netns, "link", "set", "dev", "lo", "up")) ||
	    (ret = LAB_RUN(msg, msglen, "ip", "-n", info->tx_netns, "link", "set", "dev", info->tx_dev,
			   "mtu", mtu)) ||
	    (ret = LAB_RUN(msg, msglen, "ip", "-n", info->rx_netns, "link", "set", "dev", info->rx_dev,
			   "mtu", mtu)) ||
	    (ret = LAB_RUN(msg, msglen, "ip", "-n", info->tx_netns, "addr", "add", a4, "dev", info->tx_dev)) ||
	    (ret = LAB_RUN(msg, msglen, "ip", "-n", info->rx_netns, "addr", "add", b4, "dev", info->rx_dev)))
		return ret;
	nic_test_delay("ZCGEN_TEST_LAB_UP_DELAY_MS");

	/*
	 * IPv6 is a bonus: it is refused where IPv6 is disabled, and an MTU
	 * below 1280 removes it from the device. nodad: no 1-2 s of "tentative"
	 * during which the address cannot be bound.
	 */
	if (cfg->mtu >= LAB_IPV6_MIN_MTU &&
	    !LAB_RUN(NULL, 0, "ip", "-n", info->tx_netns, "addr", "add", a6, "dev", info->tx_dev, "nodad") &&
	    !LAB_RUN(NULL, 0, "ip", "-n", info->rx_netns, "addr", "add", b6, "dev", info->rx_dev, "nodad")) {
		snprintf(info->tx_ipv6, sizeof(info->tx_ipv6), "%s", LAB_TX_IPV6);
		snprintf(info->rx_ipv6, sizeof(info->rx_ipv6), "%s", LAB_RX_IPV6);
	}

	/*
	 * veth has no qdisc; mq gives one child per TX queue, with its own
	 * counters. The kernel refuses mq on a single-queue device: one queue
	 * needs no per-queue split.
	 */
	if (cfg->flavour == LAB_DROP && (ret = lab_build_drop(cfg, info, msg, msglen)))
		return ret;
	if ((cfg->flavour == LAB_VETH && cfg->queues > 1 &&
	     (ret = LAB_RUN(msg, msglen, "tc", "-n", info->tx_netns, "qdisc", "replace", "dev",
			    info->tx_dev, "root", "mq"))) ||
	    (ret = LAB_RUN(msg, msglen, "ip", "-n", info->rx_netns, "link", "set", "dev", info->rx_dev, "up")) ||
	    (ret = LAB_RUN(msg, msglen, "ip", "-n", info->tx_netns, "link", "set", "dev", info->tx_dev, "up")))
		return ret;
	info->queues = cfg->queues;
	info->mtu = cfg->mtu;
	info->flavour = cfg->flavour;
	if (cfg->flavour == LAB_DROP && (ret = lab_add_neigh(info, msg, msglen)))
		return ret;
	/* After the devices are up: veth makes its NAPI instance only on an up device. */
	if (gro && (ret = lab_set_gro(info, true, msg, msglen)))
		return ret;
	return lab_start_sinks(cfg, info, gro, msg, msglen);
}

/* The checks every entry point makes, then the lab's lock. Return: the lock's fd or -errno. */
static int lab_begin(const struct lab_cfg *cfg, char *msg, size_t msglen)
{
	int ret = lab_check_cfg(cfg, msg, msglen);

	if (!ret)
		ret = lab_check_caps(msg, msglen);
	return ret ? ret : lab_lock(cfg->prefix, msg, msglen);
}

int lab_up(const struct lab_cfg *cfg, struct lab_info *out, char *msg, size_t msglen)
{
	char mtu[16];
	bool gro;
	int lock, ret;

	lock = lab_begin(cfg, msg, msglen);
	if (lock < 0)
		return lock;

	ret = lab_query_locked(cfg, out, msg, msglen);
	/* LAB_GRO_KEEP: as the lab is, also through a rebuild; a new lab without. */
	gro = cfg->gro == LAB_GRO_KEEP ? ret == 0 && out->gro : cfg->gro == 1;
	gro = gro && cfg->flavour == LAB_VETH;   /* nothing arrives at the drop lab's receiving end */
	if (ret == 0 && out->queues == cfg->queues && out->flavour == cfg->flavour) {
		out->reused = true;
		snprintf(mtu, sizeof(mtu), "%u", cfg->mtu);
		if (out->mtu != cfg->mtu) {
			/* MTU, unlike the queue count, changes in place. */
			if ((ret = LAB_RUN(msg, msglen, "ip", "-n", out->rx_netns, "link", "set", "dev",
					   out->rx_dev, "mtu", mtu)) ||
			    (ret = LAB_RUN(msg, msglen, "ip", "-n", out->tx_netns, "link", "set", "dev",
					   out->tx_dev, "mtu", mtu)))
				goto out_fail;
			out->mtu = cfg->mtu;
		}
		/*
		 * A GRO setting other than asked is changed in place, off also
		 * when half on. Kept: the device and a running sink as they are.
		 */
		if (cfg->gro == LAB_GRO_KEEP) {
			gro = out->sink_tcp_pid ? out->sink_gro : out->gro;
		} else if ((gro && !out->gro) ||
			   (!gro && (out->rx_gro || out->rx_udp_gro_forwarding || out->napi_threaded))) {
			ret = lab_set_gro(out, gro, msg, msglen);
			if (ret)
				goto out_fail;
		}
		ret = lab_start_sinks(cfg, out, gro, msg, msglen);
		if (ret)
			goto out_fail;
		goto out_unlock;
	}
	if (ret != 0 && ret != -ENOENT && ret != -ENOLINK)
		goto out_unlock;

	/* Absent, half there, or another queue count: start clean. */
	lab_down_locked(cfg->prefix);
	ret = lab_build(cfg, out, gro, msg, msglen);
	if (ret)
		goto out_fail;
	goto out_unlock;

out_fail:
	lab_down_locked(cfg->prefix);
out_unlock:
	lab_unlock(lock, cfg->prefix, false);
	return ret;
}

int lab_down(const struct lab_cfg *cfg, char *msg, size_t msglen)
{
	struct lab_info info;
	int lock, ret = 0;

	lock = lab_begin(cfg, msg, msglen);
	if (lock < 0)
		return lock;
	lab_down_locked(cfg->prefix);
	lab_names(cfg->prefix, &info);
	if (lab_netns_state(info.tx_netns, NULL) || lab_netns_state(info.rx_netns, NULL)) {
		lab_msg(msg, msglen, "could not delete namespace %s or %s", info.tx_netns, info.rx_netns);
		ret = -EBUSY;
	}
	lab_unlock(lock, cfg->prefix, ret == 0);
	return ret;
}

int lab_query(const struct lab_cfg *cfg, struct lab_info *out, char *msg, size_t msglen)
{
	struct lab_info names;
	int lock, ret;

	ret = lab_check_cfg(cfg, msg, msglen);
	if (ret)
		return ret;
	/* Without root there is nothing to lock, and `ip -n` needs root too. */
	lab_names(cfg->prefix, &names);
	if (!lab_netns_state(names.tx_netns, NULL) && !lab_netns_state(names.rx_netns, NULL)) {
		*out = names;
		lab_msg(msg, msglen, "no lab (namespaces %s and %s do not exist)", names.tx_netns, names.rx_netns);
		return -ENOENT;
	}
	ret = lab_check_caps(msg, msglen);
	if (ret)
		return ret;
	lock = lab_lock(cfg->prefix, msg, msglen);
	if (lock < 0)
		return lock;
	ret = lab_query_locked(cfg, out, msg, msglen);
	lab_unlock(lock, cfg->prefix, false);
	return ret;
}

static int lab_count_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int lab_enter(const struct lab_info *info, char *msg, size_t msglen)
{
	char path[PATH_MAX];
	struct statvfs vfs;
	unsigned long flags = 0;
	int fd, ret;

	if (lab_count_threads() > 1) {
		lab_msg(msg, msglen, "lab_enter: the process already has threads; enter the lab before starting them");
		return -EBUSY;
	}
	lab_netns_path(info->tx_netns, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		lab_msg(msg, msglen, "%s: %s (is the lab up?)", path, strerror(-ret));
		return ret;
	}
	ret = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
	close(fd);
	if (ret) {
		lab_msg(msg, msglen, "setns %s: %s", info->tx_netns, strerror(-ret));
		return ret;
	}
	/*
	 * sysfs shows the network namespace of whoever mounted it: mount it
	 * again from inside, in a mount namespace of our own so the host's
	 * /sys is untouched and nothing propagates back.
	 */
	if (unshare(CLONE_NEWNS) < 0) {
		ret = -errno;
		lab_msg(msg, msglen, "unshare(CLONE_NEWNS): %s", strerror(-ret));
		return ret;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		ret = -errno;
		lab_msg(msg, msglen, "making / private: %s", strerror(-ret));
		return ret;
	}
	if (umount2("/sys", MNT_DETACH) < 0) {
		/* As ip does: a read-only /sys cannot be shadowed by a read-write one. */
		if (statvfs("/sys", &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
			flags |= MS_RDONLY;
	}
	if (mount("sysfs", "/sys", "sysfs", flags, NULL) < 0) {
		ret = -errno;
		lab_msg(msg, msglen, "mounting sysfs for %s: %s", info->tx_netns, strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "/sys/class/net/%s", info->tx_dev);
	if (access(path, F_OK) < 0) {
		ret = -errno;
		lab_msg(msg, msglen, "%s not visible after entering %s: %s", path, info->tx_netns,
			strerror(-ret));
		return ret;
	}
	return 0;
}
