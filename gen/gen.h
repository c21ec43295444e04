/* gen.h - the generator's outward interface: profiles, units, engine, sink, reports */
#ifndef ZCGEN_GEN_H
#define ZCGEN_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <net/if.h>

#define GEN_MAX_QUEUES 256
#define GEN_MAX_CPUS 1024
#define GEN_MAX_STREAMS 1024      /* per queue */
#define GEN_MAX_OFFLOADS 64

enum gen_proto { GEN_PROTO_TCP, GEN_PROTO_UDP };
enum gen_mode { GEN_MODE_COPY, GEN_MODE_ZC, GEN_MODE_ZC_FIXED, GEN_MODE_AUTO };
enum gen_server { GEN_SERVER_NONE, GEN_SERVER_ZCGEN, GEN_SERVER_IPERF3 };

const char *gen_proto_name(enum gen_proto p);
const char *gen_mode_name(enum gen_mode m);
const char *gen_server_name(enum gen_server s);

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
};

/* A fully resolved profile: file, then CLI overrides. Times in nanoseconds. */
struct gen_profile {
	char name[128];
	char path[4096];          /* file it came from, "" if none */
	char host[256];
	uint16_t port;
	enum gen_server server;
	enum gen_proto proto;
	unsigned queues;
	unsigned cpus[GEN_MAX_CPUS];
	unsigned n_cpus;          /* 0: not given, use the CPUs the process may use */
	unsigned streams;         /* per queue */
	uint64_t size;            /* message (send) size in bytes; UDP: datagram payload */
	bool size_set;            /* size given explicitly (UDP default follows the MTU) */
	enum gen_mode mode;
	unsigned depth;           /* sends in flight per stream */
	uint64_t duration_ns;
	uint64_t omit_ns;
	uint64_t interval_ns;
	struct gen_nic_cfg nic;
};

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

/* Stop flag set from the signal handler; every long loop polls it. */
extern volatile sig_atomic_t gen_stop;

#include "gen/units.h"
#include "gen/profile.h"

#endif
