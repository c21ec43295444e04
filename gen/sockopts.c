/* sockopts.c - what a data socket is set to before it connects: source, device, TOS, congestion */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "gen/sockopts.h"

#define CC_AVAILABLE "/proc/sys/net/ipv4/tcp_available_congestion_control"
#define CC_ALLOWED "/proc/sys/net/ipv4/tcp_allowed_congestion_control"
#define CC_DEFAULT "/proc/sys/net/ipv4/tcp_congestion_control"

/* One line of a /proc file, without its newline; "?" when it cannot be read. */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	snprintf(buf, len, "?");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

uint16_t sockopts_port(const struct sockopts_plan *so, unsigned q, unsigned s)
{
	if (!so->port_lo)
		return 0;
	return (uint16_t)(so->port_lo + q * so->per_queue + s);
}

uint16_t sockopts_dport(const struct sockopts_plan *so, unsigned q, unsigned s)
{
	if (!so->dport_lo)
		return 0;
	return (uint16_t)(so->dport_lo + q * so->dper_queue + s);
}

/* The address (or wildcard) and port queue @q stream @s binds to. */
static socklen_t bind_addr(const struct sockopts_plan *so, unsigned q, unsigned s,
			   struct sockaddr_storage *ss)
{
	uint16_t port = htons(sockopts_port(so, q, s));

	memset(ss, 0, sizeof(*ss));
	if (so->n_addr)
		*ss = so->addr[q % so->n_addr];
	ss->ss_family = (sa_family_t)so->family;
	if (so->family == AF_INET6) {
		((struct sockaddr_in6 *)ss)->sin6_port = port;
		return sizeof(struct sockaddr_in6);
	}
	((struct sockaddr_in *)ss)->sin_port = port;
	return sizeof(struct sockaddr_in);
}

static const char *src_str(const struct sockopts_plan *so, unsigned q)
{
	if (so->n_addr)
		return so->addr_str[q % so->n_addr];
	return so->family == AF_INET6 ? "::" : "0.0.0.0";
}

static int set_congestion(const struct sockopts_plan *so, int fd, char *err, size_t errlen)
{
	char avail[256], allowed[256];
	int e;

	if (!setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, so->congestion, strlen(so->congestion)))
		return 0;
	e = errno;
	read_line(CC_AVAILABLE, avail, sizeof(avail));
	if (e == EPERM) {
		read_line(CC_ALLOWED, allowed, sizeof(allowed));
		snprintf(err, errlen, "tcp.congestion %s: not allowed for this process (without "
			 "CAP_NET_ADMIN only %s may be used: net.ipv4.tcp_allowed_congestion_control)",
			 so->congestion, allowed);
	} else if (e == ENOENT) {
		snprintf(err, errlen, "tcp.congestion %s: not available on this kernel; available: %s "
			 "(%s; a module such as tcp_%s may need loading)", so->congestion, avail,
			 CC_AVAILABLE, so->congestion);
	} else {
		snprintf(err, errlen, "tcp.congestion %s: %s", so->congestion, strerror(e));
	}
	return -e;
}

int sockopts_apply(const struct sockopts_plan *so, unsigned q, unsigned s, int fd, char *err,
		   size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	uint16_t port = sockopts_port(so, q, s);
	int one = 1, e;

	if (so->device[0] &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, so->device, (socklen_t)strlen(so->device))) {
		e = errno;
		if (e == ENODEV)
			snprintf(err, errlen, "source.device %s: no such device in this network namespace "
				 "(ip link shows the devices)", so->device);
		else
			snprintf(err, errlen, "source.device %s: SO_BINDTODEVICE: %s%s", so->device,
				 strerror(e), e == EPERM ? " (needs CAP_NET_RAW)" : "");
		return -e;
	}
	if (so->tos >= 0) {
		int v = so->tos;
		bool v6 = so->family == AF_INET6;

		if (setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_TCLASS : IP_TOS, &v,
			       sizeof(v))) {
			e = errno;
			snprintf(err, errlen, "%s %d: %s: %s", so->dscp >= 0 ? "dscp" : "tos",
				 so->dscp >= 0 ? so->dscp : so->tos, v6 ? "IPV6_TCLASS" : "IP_TOS",
				 strerror(e));
			return -e;
		}
	}
	if (so->tcp && so->congestion[0] && (e = set_congestion(so, fd, err, errlen)))
		return e;
	if (!so->n_addr && !port)
		return 0;
	/* our own ports may still be in TIME_WAIT from the last run: that is no conflict */
	if (port && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) {
		e = errno;
		snprintf(err, errlen, "SO_REUSEADDR: %s", strerror(e));
		return -e;
	}
	sl = bind_addr(so, q, s, &ss);
	if (!bind(fd, (struct sockaddr *)&ss, sl))
		return 0;
	e = errno;
	if (e == EADDRNOTAVAIL)
		snprintf(err, errlen, "source.address %s (queue %u): not an address of this host in "
			 "this network namespace (EADDRNOTAVAIL); `ip addr` lists them", src_str(so, q), q);
	else if (e == EADDRINUSE)
		snprintf(err, errlen, "source port %u on %s (queue %u stream %u) is in use "
			 "(EADDRINUSE): another socket holds it (`ss -anp sport = :%u`); pick a free "
			 "source.ports range", port, src_str(so, q), q, s, port);
	else if (e == EACCES)
		snprintf(err, errlen, "source port %u (queue %u stream %u): EACCES: ports below %s "
			 "need CAP_NET_BIND_SERVICE", port, q, s, "net.ipv4.ip_unprivileged_port_start");
	else
		snprintf(err, errlen, "bind to %s port %u (queue %u stream %u): %s", src_str(so, q), port,
			 q, s, strerror(e));
	return -e;
}

int sockopts_plan_make(struct sockopts_plan *so, const struct gen_profile *prof,
		       const struct sockaddr_storage *dest, unsigned nq, unsigned streams,
		       const char *cc_default, char *err, size_t errlen)
{
	const struct gen_source *src = &prof->source;

	memset(so, 0, sizeof(*so));
	so->tcp = prof->proto == GEN_PROTO_TCP;
	so->family = dest->ss_family;
	so->tos = prof->dscp >= 0 ? prof->dscp << 2 : prof->tos;
	so->dscp = prof->dscp;
	so->streams = streams;
	snprintf(so->device, sizeof(so->device), "%s", src->device);
	snprintf(so->congestion, sizeof(so->congestion), "%s", prof->congestion);
	if (so->tcp)
		snprintf(so->congestion_default, sizeof(so->congestion_default), "%s", cc_default);
	for (unsigned i = 0; i < src->n_addr; i++) {
		void *a = so->family == AF_INET6 ? (void *)&((struct sockaddr_in6 *)&so->addr[i])->sin6_addr :
						   (void *)&((struct sockaddr_in *)&so->addr[i])->sin_addr;

		so->addr[i].ss_family = (sa_family_t)so->family;
		if (inet_pton(so->family, src->addr[i], a) != 1) {
			snprintf(err, errlen, "source.address %s is not an %s address, but the target is "
				 "(give a source of the target's family)", src->addr[i],
				 so->family == AF_INET6 ? "IPv6" : "IPv4");
			return -EAFNOSUPPORT;
		}
		snprintf(so->addr_str[i], sizeof(so->addr_str[i]), "%s", src->addr[i]);
	}
	so->n_addr = src->n_addr;
	if (src->port_lo) {
		so->port_lo = src->port_lo;
		so->port_hi = src->port_hi;
		so->per_queue = (unsigned)(src->port_hi - src->port_lo + 1) / nq;
		if (so->per_queue < streams) {
			snprintf(err, errlen, "source.ports %u-%u: too few ports for %u queues x %u streams",
				 src->port_lo, src->port_hi, nq, streams);
			return -ERANGE;
		}
	}
	if (prof->dport_lo) {
		so->dport_lo = prof->dport_lo;
		so->dport_hi = prof->dport_hi;
		so->dper_queue = (unsigned)(prof->dport_hi - prof->dport_lo + 1) / nq;
		if (so->dper_queue < streams) {
			snprintf(err, errlen, "target.ports %u-%u: too few ports for %u queues x %u streams",
				 prof->dport_lo, prof->dport_hi, nq, streams);
			return -ERANGE;
		}
	}
	return 0;
}

void sockopts_congestion_default(char *buf, size_t len)
{
	read_line(CC_DEFAULT, buf, len);
}

int sockopts_plan_check(const struct sockopts_plan *so, unsigned nq, char *err, size_t errlen)
{
	int type = so->tcp ? SOCK_STREAM : SOCK_DGRAM;
	unsigned streams = so->streams;
	bool probe;
	int ret;

	if (so->device[0] && !if_nametoindex(so->device)) {
		snprintf(err, errlen, "source.device %s: no such device in this network namespace "
			 "(ip link shows the devices)", so->device);
		return -ENODEV;
	}
	/*
	 * Try every socket as the run will set it up (without connecting), so
	 * that a missing address, a port in use or an unknown algorithm stops
	 * the run before anything is sent, with the queue and stream named.
	 */
	probe = so->n_addr || so->port_lo || so->device[0] || so->tos >= 0 || so->congestion[0];
	for (unsigned q = 0; probe && q < nq; q++) {
		/* without fixed ports every stream of a queue is set up alike */
		unsigned ns = so->port_lo ? streams : 1;

		if (!so->port_lo && q >= (so->n_addr > 1 ? so->n_addr : 1))
			break;
		for (unsigned s = 0; s < ns; s++) {
			int fd = socket(so->family, type | SOCK_CLOEXEC, 0);

			if (fd < 0) {
				ret = -errno;
				snprintf(err, errlen, "socket: %s", strerror(-ret));
				return ret;
			}
			ret = sockopts_apply(so, q, s, fd, err, errlen);
			close(fd);
			if (ret)
				return ret;
		}
	}
	return 0;
}

void sockopts_print(FILE *out, const struct sockopts_plan *so, unsigned nq)
{
	if (so->n_addr || so->port_lo || so->device[0]) {
		if (so->device[0])
			fprintf(out, "source:    device %s (SO_BINDTODEVICE)\n", so->device);
		else
			fprintf(out, "source:    bound before connect\n");
		for (unsigned q = 0; q < nq && (so->n_addr || so->port_lo); q++) {
			fprintf(out, "  queue %u: %s", q, src_str(so, q));
			if (so->port_lo)
				fprintf(out, " ports %u-%u (of its block %u-%u)", sockopts_port(so, q, 0),
					sockopts_port(so, q, so->streams - 1), sockopts_port(so, q, 0),
					sockopts_port(so, q, so->per_queue - 1));
			fputc('\n', out);
		}
	}
	if (so->dport_lo) {
		fprintf(out, "dest:      ports %u-%u, one per stream (target.ports)\n", so->dport_lo,
			so->dport_hi);
		for (unsigned q = 0; q < nq; q++)
			fprintf(out, "  queue %u: ports %u-%u (of its block %u-%u)\n", q,
				sockopts_dport(so, q, 0), sockopts_dport(so, q, so->streams - 1),
				sockopts_dport(so, q, 0), sockopts_dport(so, q, so->dper_queue - 1));
	}
	if (so->tos >= 0)
		fprintf(out, "tos:       0x%02x (%s %d; %s)\n", so->tos, so->dscp >= 0 ? "dscp" : "tos",
			so->dscp >= 0 ? so->dscp : so->tos, so->family == AF_INET6 ? "IPV6_TCLASS" : "IP_TOS");
	if (so->tcp)
		fprintf(out, "tcp:       congestion %s\n", so->congestion[0] ? so->congestion :
			so->congestion_default);
}

json_t *sockopts_json(const struct sockopts_plan *so, unsigned nq)
{
	json_t *o = json_object(), *qa = json_array();

	for (unsigned q = 0; q < nq && (so->n_addr || so->port_lo); q++) {
		json_t *qo = json_pack("{s:i, s:s}", "queue", (int)q, "address", src_str(so, q));

		if (so->port_lo)
			json_object_set_new(qo, "ports", json_pack("{s:i, s:i, s:i, s:i}", "first",
						(int)sockopts_port(so, q, 0), "last",
						(int)sockopts_port(so, q, so->streams - 1), "block_first",
						(int)sockopts_port(so, q, 0), "block_last",
						(int)sockopts_port(so, q, so->per_queue - 1)));
		json_array_append_new(qa, qo);
	}
	json_object_set_new(o, "source", qa);
	qa = json_array();
	for (unsigned q = 0; q < nq && so->dport_lo; q++)
		json_array_append_new(qa, json_pack("{s:i, s:{s:i, s:i, s:i, s:i}}", "queue", (int)q,
				      "ports", "first", (int)sockopts_dport(so, q, 0), "last",
				      (int)sockopts_dport(so, q, so->streams - 1), "block_first",
				      (int)sockopts_dport(so, q, 0), "block_last",
				      (int)sockopts_dport(so, q, so->dper_queue - 1)));
	json_object_set_new(o, "destination", qa);
	json_object_set_new(o, "device", so->device[0] ? json_string(so->device) : json_null());
	json_object_set_new(o, "tos", so->tos >= 0 ? json_integer(so->tos) : json_null());
	json_object_set_new(o, "dscp", so->tos >= 0 ? json_integer(so->tos >> 2) : json_null());
	if (so->tcp)
		json_object_set_new(o, "congestion", json_string(so->congestion[0] ? so->congestion :
								   so->congestion_default));
	return o;
}
