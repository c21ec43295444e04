/* sockopts.h - what a data socket is set to before it connects: source, device, TOS, congestion */
#ifndef ZCGEN_SOCKOPTS_H
#define ZCGEN_SOCKOPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <jansson.h>
#include "gen/gen.h"

/*
 * The profile's source:, tcp.congestion, dscp/tos, resolved and checked
 * against this host (in the network namespace the run happens in).
 * Queue q binds source address q mod n_addr; with a port range, queue q
 * owns the block [port_lo + q * per_queue, port_lo + (q + 1) * per_queue)
 * and its stream s binds the block's port s. Destination ports
 * (target.ports) are split the same way: queue q stream s connects to
 * dport_lo + q * dper_queue + s.
 */
struct sockopts_plan {
	bool tcp;
	int family;                  /* the destination's */
	unsigned n_addr;             /* 0: no source address (the wildcard, with a port) */
	struct sockaddr_storage addr[GEN_MAX_SOURCE_ADDRS];
	char addr_str[GEN_MAX_SOURCE_ADDRS][48];
	char device[IF_NAMESIZE];    /* SO_BINDTODEVICE, "" none */
	uint16_t port_lo, port_hi;   /* 0: none */
	unsigned per_queue;          /* ports in each queue's block */
	uint16_t dport_lo, dport_hi; /* target.ports; 0: none (target.port for every stream) */
	unsigned dper_queue;         /* destination ports in each queue's block */
	unsigned streams;            /* per queue */
	int tos;                     /* IP_TOS / IPV6_TCLASS byte; -1: left alone */
	int dscp;                    /* the profile's dscp, -1 when not given (tos was, or nothing) */
	char congestion[16];         /* "" the default */
	char congestion_default[16]; /* net.ipv4.tcp_congestion_control, for the plan */
};

/*
 * sockopts_plan_make - the socket options of @prof's data sockets, without
 * asking the host: the addresses are of the destination's family, the
 * port ranges hold @nq queues x @streams streams. @cc_default: the
 * system's congestion algorithm (sockopts_congestion_default()), for the plan.
 * Return: 0, or -errno with a message for the user in @err.
 */
int sockopts_plan_make(struct sockopts_plan *so, const struct gen_profile *prof,
		       const struct sockaddr_storage *dest, unsigned nq, unsigned streams,
		       const char *cc_default, char *err, size_t errlen);
/*
 * sockopts_plan_check - check @so against the host: the addresses are on
 * this host, the device exists, the congestion algorithm can be used,
 * every planned source port is free (each socket set up as the run will).
 * Return: 0, or -errno with a message for the user in @err.
 */
int sockopts_plan_check(const struct sockopts_plan *so, unsigned nq, char *err, size_t errlen);
/* The system's TCP congestion algorithm ("?" when unknown). */
void sockopts_congestion_default(char *buf, size_t len);

/* The source port of queue @q stream @s, 0 when none is set. */
uint16_t sockopts_port(const struct sockopts_plan *so, unsigned q, unsigned s);
/* The destination port of queue @q stream @s (target.ports), 0 when no range is set. */
uint16_t sockopts_dport(const struct sockopts_plan *so, unsigned q, unsigned s);

/*
 * sockopts_apply - set up socket @fd of queue @q stream @s: device, TOS,
 * congestion control, then bind (SO_REUSEADDR with a fixed port). Call
 * before connect(). Return: 0, or -errno with the whole message in @err.
 */
int sockopts_apply(const struct sockopts_plan *so, unsigned q, unsigned s, int fd, char *err,
		   size_t errlen);

/* Plan lines for --dry-run ("source: ...", "dest: ...", "tcp: ..."); nothing when nothing is set. */
void sockopts_print(FILE *out, const struct sockopts_plan *so, unsigned nq);
/* The plan's "sockets" object (docs/json.md). */
json_t *sockopts_json(const struct sockopts_plan *so, unsigned nq);

#endif
