/* gen.h - the generator's outward interface: profiles, units, engine, sink, reports */
#ifndef ZCGEN_GEN_H
#define ZCGEN_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <net/if.h>
#include "gen/pacer.h"
#include "gen/names.h"      /* enum gen_proto, gen_mode, gen_server, gen_hugepages */

#define GEN_MAX_QUEUES 256
#define GEN_MAX_CPUS 1024
#define GEN_MAX_STREAMS 1024      /* per queue */
#define GEN_MAX_OFFLOADS 64

struct gen_offload {
	char name[64];          /* as written: kernel name or ethtool short name */
	bool on;
};

/* The profile's nic: section. Parsed and validated here, applied by nic/. */
struct gen_nic_cfg {
	bool present;
	char interface[IF_NAMESIZE];
	int combined, rx, tx;     /* -1: not given, leave as is */
	struct gen_offload offloads[GEN_MAX_OFFLOADS];
	unsigned n_offloads;
	bool irq_affinity_auto;   /* irq_affinity: auto (default) | none */
	bool xps_auto;            /* xps: auto (default) | none */
	unsigned mtu;             /* nic.mtu; 0: not given, leave as is */
};

#define GEN_MAX_SOURCE_ADDRS 64

/*
 * The profile's source: section (docs/profiles.md, "Addresses and socket
 * options"): what the data sockets are bound to before they connect.
 */
struct gen_source {
	char addr[GEN_MAX_SOURCE_ADDRS][48]; /* numeric, one per queue in turn (wrapping) */
	unsigned n_addr;
	char device[IF_NAMESIZE];  /* SO_BINDTODEVICE; "" none */
	uint16_t port_lo, port_hi; /* 0: the kernel picks the ports */
};

#define GEN_MAX_EXPECT_OFFLOADS 16

/*
 * The profile's expect: section, pass/fail thresholds (docs/profiles.md): parsed
 * by gen/expect.h, checked against a run by gen/expect_eval.h. A threshold is
 * set when its has_ flag is.
 */
struct gen_expect {
	bool present;
	bool has_min_bps_total, has_min_bps_queue, has_max_loss, has_max_p99, has_min_steering;
	bool has_min_ndr_fps;
	double min_bps_total;     /* bit/s */
	double min_bps_queue;     /* bit/s, every queue */
	double max_loss_percent;  /* 0..100 */
	uint64_t max_p99_ns;
	double min_steering;      /* 0..1 */
	double min_ndr_fps;       /* frames/s found at every frame size; checked by zcgen ndr */
	char offloads_effective[GEN_MAX_EXPECT_OFFLOADS][64]; /* checked by offload-check */
	unsigned n_offloads_effective;
};

#define GEN_MAX_RATE_STEPS PACER_MAX_STEPS
#define GEN_MAX_SIZES IMIX_MAX

/*
 * The profile's rate: and sizes: (docs/profiles.md, "Rate"). Checked here;
 * the arithmetic is gen/pacer.h's. Rates are per second, in packets when
 * @pps, else in bits at @layer; a rate of 0 (a pause step, a ramp from 0)
 * has no unit of its own.
 */
struct gen_rate {
	bool set;                 /* a limit applies: a value other than line, or steps */
	bool given;               /* a rate: mapping was given (it needs value or steps) */
	bool value_given;         /* value (or a plain rate:, --rate) given, line included */
	bool line;                /* value: line, no limit */
	bool pps;                 /* @value is in packets/s */
	double value;
	enum pacer_per per;       /* total (default) | queue | stream */
	enum pacer_layer layer;   /* payload (default) | l2 | l1 */
	unsigned ramp_keys;       /* ramp keys given: 1 from, 2 over (a ramp needs both) */
	double ramp_from;         /* with ramp_ns > 0: linear from this to @value */
	bool ramp_from_pps;
	uint64_t ramp_ns;
	struct pacer_step steps[GEN_MAX_RATE_STEPS];
	unsigned n_steps;
	bool steps_pps, steps_bps;   /* units the nonzero steps used (both: an error) */
	unsigned burst;           /* 0: none; N: N sends back to back */
	bool tcp_pacing;          /* also SO_MAX_PACING_RATE on TCP sockets */
};

/* A fully resolved profile: file, then CLI overrides. Times in nanoseconds. */
/* Where a key of the profile was set last, so that a check across keys can point at it. */
struct gen_keypos {
	int line, col;            /* 1-based, in gen_profile.path; 0: not from the file */
	const char *opt;          /* the command-line option that set it ("omit"), or NULL */
};
#define GEN_MAX_KEYS 128          /* at least the entries of gen/profile.c's key table */

struct gen_profile {
	char name[128];
	char path[4096];          /* file it came from, "" if none */
	struct gen_keypos pos[GEN_MAX_KEYS]; /* by key (gen/profile.c's table), for messages */
	char host[256];
	uint16_t port;
	uint16_t dport_lo, dport_hi; /* target.ports: data sockets spread over them; 0: port alone */
	enum gen_server server;
	enum gen_proto proto;
	unsigned queues;
	unsigned cpus[GEN_MAX_CPUS];
	unsigned n_cpus;          /* 0: not given, use the CPUs the process may use */
	unsigned streams;         /* per queue */
	uint64_t size;            /* message (send) size in bytes; UDP: datagram payload */
	bool size_set;            /* size given explicitly (UDP default follows the MTU) */
	enum gen_mode mode;
	unsigned depth;           /* sends in flight per stream, when depth_set */
	bool depth_set;           /* depth given explicitly (else GEN_DEPTH_*: engine_plan()) */
	uint64_t duration_ns;
	uint64_t omit_ns;
	uint64_t interval_ns;
	uint64_t stall_timeout_ns; /* no progress this long ends the run (stalled); 0: never */
	struct gen_nic_cfg nic;
	struct gen_rate rate;
	struct imix_entry sizes[GEN_MAX_SIZES];   /* sizes: a weighted mix (UDP) */
	unsigned n_sizes;
	unsigned gso_segments;    /* UDP: datagrams per send (UDP_SEGMENT, udp.gso_segments); 0/1: none */
	struct gen_expect expect;
	struct gen_source source;
	int fleet_line, fleet_col; /* the fleet: section (gen/fleet.c reads it); 0: none */
	char congestion[16];      /* tcp.congestion (TCP_CONGESTION); "" the system's default */
	int dscp;                 /* 0..63, -1 not given */
	int tos;                  /* 0..255, -1 not given (dscp or tos, not both) */
	enum gen_hugepages hugepages; /* buffers.hugepages */
};

/*
 * The depth when the profile gives none (docs/cli.md, "Depth and the order
 * of a TCP stream"): TCP zero-copy sends one at a time, TCP copy sends in
 * chains of 8 (the sending thread's copy is the work, and a chain is one
 * system call), UDP 8 datagrams in flight.
 */
#define GEN_DEPTH_TCP_ZC 1u
#define GEN_DEPTH_TCP_COPY 8u
#define GEN_DEPTH_UDP 8u

/*
 * UDP datagram header, laid out as iperf3's with 64-bit counters: all fields
 * in network byte order. Sequence numbers start at 1 per stream.
 */
struct gen_udp_hdr {
	uint32_t sec;
	uint32_t usec;
	uint64_t seq;
} __attribute__((packed));
#define GEN_UDP_HDR_LEN ((unsigned)sizeof(struct gen_udp_hdr))

#include "gen/units.h"

#endif
