/* lab.h - the built-in veth lab: two network namespaces, a multi-queue veth pair, a sink */
#ifndef ZCGEN_NIC_LAB_H
#define ZCGEN_NIC_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <net/if.h>
#include <netinet/in.h>

/*
 * Layout (defaults; PREFIX is "zcgen-lab" or $ZCGEN_LAB_PREFIX):
 *
 *   netns PREFIX-tx                          netns PREFIX-rx
 *   zcl-tx0 198.18.0.1/30  <--- veth --->    zcl-rx0 198.18.0.2/30
 *           fd00:7a63::1/64                          fd00:7a63::2/64
 *   root qdisc mq (per-TX-queue counters)    zcgen sink tcp+udp on port 5201
 *
 * 198.18.0.0/15 is the benchmarking range (RFC 2544); the device names
 * live inside the lab's namespaces, so they cannot clash with the host's.
 * State (sink pids and logs, a lock) lives in LAB_RUN_DIR, one set of files
 * per prefix, so that two labs with different prefixes never meet.
 */
#define LAB_PREFIX_DEFAULT "zcgen-lab"
#define LAB_PREFIX_ENV "ZCGEN_LAB_PREFIX"
#define LAB_PREFIX_MAX 32          /* so that "PREFIX-tx" stays a short file name */
#define LAB_NETNS_MAX (LAB_PREFIX_MAX + 4)
#define LAB_RUN_DIR "/run/zcgen/lab"
#define LAB_MAX_QUEUES 64
#define LAB_DEFAULT_QUEUES 2
#define LAB_DEFAULT_MTU 1500
#define LAB_MIN_MTU 68             /* IPv4 minimum; IPv6 needs 1280 and is skipped below */
#define LAB_MAX_MTU 65535
#define LAB_SINK_PORT 5201
#define LAB_SINK_LISTEN "{listen}"  /* in lab_cfg.sink_argv: the address the sink listens on */
#define LAB_SINK_ARGV_MAX 32       /* entries of lab_cfg.sink_argv, its NULL included */
#define LAB_DROP_MTU 65535         /* the drop lab's default: the largest datagram in one skb */

/*
 * What the lab models (docs/lab.md):
 * - LAB_VETH: a path to a receiver; zcl-tx0 has an mq root (per-queue
 *   counters) and the sink answers on zcl-rx0.
 * - LAB_DROP: the sender alone. zcl-tx0 has an mq root with a `pfifo
 *   limit 0` child per queue (a single-queue device: that pfifo at the
 *   root), so every skb is built by the whole stack and dropped at the
 *   qdisc, before segmentation; a permanent neighbour entry for the far
 *   addresses, since ARP and ND are dropped too; no sink.
 */
enum lab_flavour { LAB_VETH = 0, LAB_DROP };

/* What to build. Fill with lab_cfg_init(), then change what you need. */
struct lab_cfg {
	char prefix[LAB_PREFIX_MAX + 1];
	unsigned queues;            /* TX and RX queues on each side, 1..LAB_MAX_QUEUES */
	unsigned mtu;               /* LAB_MIN_MTU..LAB_MAX_MTU */
	bool sink;                  /* start a sink (@sink_argv) in the receiving namespace */
	const char *sink_exe;       /* binary to run as the sink; NULL: /proc/self/exe */
	/*
	 * The sink's command line, from the caller: nic/ knows no program's
	 * options. LAB_SINK_LISTEN in it stands for the address to take TCP
	 * and UDP on ("[::]:PORT", or "0.0.0.0:PORT" where the lab has no
	 * IPv6); @sink_gro_arg is added at the end for a sink that is to take
	 * coalesced datagrams, and a running sink's command line is searched
	 * for it to tell whether it has GRO. Needed to start a sink; NULL: a
	 * lab whose sink must be (re)started is refused with -EINVAL.
	 */
	const char *const *sink_argv;
	const char *sink_gro_arg;
	uint16_t sink_port;
	int gro;                    /* 1: GRO on the receiving veth, the sink with --gro; 0: off;
				     * LAB_GRO_KEEP: as the lab is (a new lab: off) */
	enum lab_flavour flavour;   /* LAB_DROP: no sink, gro must not be 1 */
};

#define LAB_GRO_KEEP (-1)

/* What the rest of the program needs to use the lab. */
struct lab_info {
	char prefix[LAB_PREFIX_MAX + 1];
	char tx_netns[LAB_NETNS_MAX];   /* sending side, as `ip netns` names it */
	char rx_netns[LAB_NETNS_MAX];
	char tx_dev[IF_NAMESIZE];       /* inside tx_netns */
	char rx_dev[IF_NAMESIZE];       /* inside rx_netns */
	char tx_ipv4[INET_ADDRSTRLEN];
	char rx_ipv4[INET_ADDRSTRLEN];
	unsigned ipv4_prefixlen;
	char tx_ipv6[INET6_ADDRSTRLEN]; /* "" where IPv6 is disabled or the MTU is below 1280 */
	char rx_ipv6[INET6_ADDRSTRLEN];
	unsigned ipv6_prefixlen;
	unsigned queues;
	unsigned mtu;
	uint16_t sink_tcp_port;         /* 0: no sink running */
	uint16_t sink_udp_port;
	pid_t sink_tcp_pid;             /* 0: none */
	pid_t sink_udp_pid;             /* one sink takes both: the same pid */
	bool reused;                    /* lab_up found the lab in place and kept it */
	/*
	 * UDP GRO on the receiving veth, read from the device: all three are
	 * needed for datagrams sent one by one to be coalesced (docs/lab.md).
	 */
	bool gro;                       /* rx_gro && rx_udp_gro_forwarding && napi_threaded */
	bool rx_gro;                    /* feature rx-gro (ethtool's "gro"): veth's NAPI mode */
	bool rx_udp_gro_forwarding;     /* feature rx-udp-gro-forwarding: UDP skbs take the NAPI path */
	bool napi_threaded;             /* /sys/class/net/zcl-rx0/threaded: NAPI polls in batches */
	bool sink_gro;                  /* the running sink has --gro */
	enum lab_flavour flavour;       /* read from the device's qdiscs */
};

/**
 * lab_flavour_name() - "veth" or "drop", the names of --lab=KIND and of the
 * reports' environment.lab
 * @f: the flavour
 *
 * Return: a static string.
 */
const char *lab_flavour_name(enum lab_flavour f);

/**
 * lab_flavour_parse() - the flavour named @name ("veth" or "drop")
 * @name: the name; NULL or "" is "veth" (a plain --lab)
 * @out: the flavour
 *
 * Return: 0, or -EINVAL for another name.
 */
int lab_flavour_parse(const char *name, enum lab_flavour *out);

/**
 * lab_qdisc_flavour() - which flavour the sending device's qdiscs make
 * @tc_json: what `tc -j qdisc show dev DEV` printed
 * @dev: the device, for @msg
 * @queues: its TX queues
 * @out: LAB_DROP when every TX queue has a `pfifo limit 0` (the mq root's
 *       children; with one queue, the root itself), else LAB_VETH
 * @msg: buffer for what is wrong
 * @msglen: its size
 *
 * Pure: lab_query() reads the device and calls this.
 *
 * Return: 0; -ENOLINK when the qdiscs are neither flavour's (no mq root on
 * a multi-queue device, or only some queues with the drop qdisc: half
 * built or changed by hand); -EPROTO for output that is not tc's JSON.
 */
int lab_qdisc_flavour(const char *tc_json, const char *dev, unsigned queues,
		      enum lab_flavour *out, char *msg, size_t msglen);

/**
 * lab_cfg_init() - defaults: 2 queues, MTU 1500, a sink on port 5201, GRO kept
 * @cfg: filled in
 *
 * The prefix comes from $ZCGEN_LAB_PREFIX when set (tests use it so that
 * they never touch a lab a user has up), else "zcgen-lab".
 */
void lab_cfg_init(struct lab_cfg *cfg);

/**
 * lab_check_cfg() - validate a configuration without touching anything
 * @cfg: the configuration
 * @msg: buffer for a message naming the bad value and its limits
 * @msglen: its size
 *
 * Return: 0, or -EINVAL with @msg filled in.
 */
int lab_check_cfg(const struct lab_cfg *cfg, char *msg, size_t msglen);

/**
 * lab_up() - build the lab, or reuse it when it is already in place
 * @cfg: what to build
 * @out: filled with the lab's layout on success
 * @msg: buffer for the reason of a failure (the `ip` program's own words
 *       where it refused)
 * @msglen: its size
 *
 * Idempotent: a lab with the same prefix and queue count is kept (its MTU
 * set and a dead sink restarted); one with another queue count, or one
 * found half built, is torn down and built again (with the GRO setting it
 * had, under LAB_GRO_KEEP); so is one of the other flavour. A kept lab whose GRO setting differs from
 * @cfg->gro is re-configured in place: the device's GRO settings changed
 * and a running sink restarted with or without --gro. Whatever fails half way
 * is torn down before returning. Needs CAP_SYS_ADMIN and CAP_NET_ADMIN.
 * Forks and runs `ip`, `tc` and the sink; never prints.
 *
 * Return: 0, -EPERM without the capabilities, -EINVAL for a bad @cfg,
 * or another -errno with @msg filled in.
 */
int lab_up(const struct lab_cfg *cfg, struct lab_info *out, char *msg, size_t msglen);

/**
 * lab_down() - stop the sinks and delete both namespaces
 * @cfg: only @cfg->prefix is used
 * @msg: buffer for the reason of a failure
 * @msglen: its size
 *
 * Idempotent: a lab that is absent, or half there, is not an error.
 *
 * Return: 0, -EPERM without the capabilities, or another -errno.
 */
int lab_down(const struct lab_cfg *cfg, char *msg, size_t msglen);

/**
 * lab_query() - describe the lab that is up, without changing it
 * @cfg: only @cfg->prefix, @cfg->sink_port and @cfg->sink_gro_arg are used
 * @out: filled with the lab's layout (queues and MTU read from the device)
 * @msg: buffer for what is missing when the lab is incomplete
 * @msglen: its size
 *
 * Return: 0 when the lab is complete, -ENOENT when there is none,
 * -ENOLINK when it is half there (@msg says what is missing),
 * or another -errno.
 */
int lab_query(const struct lab_cfg *cfg, struct lab_info *out, char *msg, size_t msglen);

/**
 * lab_enter() - move the calling process into the lab's sending side
 * @info: the lab, from lab_up() or lab_query()
 * @msg: buffer for the reason of a failure
 * @msglen: its size
 *
 * Joins the sending network namespace, then a new mount namespace in which
 * /sys is mounted again, as `ip netns exec` does. Why: setns() changes the
 * network namespace of sockets and netlink, but /sys/class/net keeps showing
 * the namespace in which sysfs was mounted, so XPS masks and queue
 * directories would be those of the host (or absent). The new mount
 * namespace is private, so the host's /sys is left alone.
 *
 * Call it before any thread is created: unshare(CLONE_NEWNS) is refused in
 * a multi-threaded process, and setns() moves only the calling thread.
 *
 * Return: 0, -EBUSY when the process already has threads, or -errno.
 */
int lab_enter(const struct lab_info *info, char *msg, size_t msglen);

#endif
