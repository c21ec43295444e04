/* sink.h - the receiving side: per-worker io_uring, multishot accept/recv, UDP sequence checks */
#ifndef ZCGEN_SINK_H
#define ZCGEN_SINK_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "gen/udpseq.h"

#define SINK_MAX_WORKERS 256
/* "[v6addr%scope]:port" with room to spare */
#define SINK_ADDRSTRLEN 80

struct sink;

/* What to listen on. protocol is IPPROTO_TCP or IPPROTO_UDP. */
struct sink_cfg {
	const char *host;       /* numeric address or name; "" or NULL: any (dual stack) */
	uint16_t port;          /* 0: the kernel picks a free one, all workers share it */
	int protocol;           /* IPPROTO_TCP or IPPROTO_UDP */
	unsigned workers;       /* 1..SINK_MAX_WORKERS, one io_uring and socket each */
};

/* One worker's totals. bytes/packets are zcgen payload only (see foreign). */
struct sink_worker_result {
	unsigned worker;
	int cpu;                 /* CPU it was pinned to, -1 if not pinned */
	uint64_t bytes;          /* TCP: all bytes; UDP: payload of zcgen datagrams */
	uint64_t packets;        /* UDP: zcgen datagrams; TCP: 0 */
	uint64_t foreign;        /* UDP datagrams shorter than the header or with sequence 0 */
	uint64_t foreign_bytes;
	uint64_t truncated;      /* UDP datagrams larger than a receive buffer (counted in full) */
	uint64_t connections;    /* TCP connections accepted */
	uint64_t resets;         /* TCP connections that ended in an error (reset, ...) */
	uint64_t nobufs;         /* times the buffer ring ran dry (-ENOBUFS, re-armed) */
	bool ring_fallback;      /* SINGLE_ISSUER|DEFER_TASKRUN were not available */
	int err;                 /* 0, or the -errno that stopped this worker */
};

/* One TCP connection or one UDP stream (source address + port). */
struct sink_stream_result {
	char peer[SINK_ADDRSTRLEN];   /* "192.0.2.1:40000", "[2001:db8::1]:40000" */
	unsigned worker;
	uint64_t bytes;
	uint64_t first_ns, last_ns;   /* CLOCK_MONOTONIC: accept/first datagram, close/last one */
	int end;                      /* TCP: 0 open at the end, 1 closed by the peer, -errno reset/error */
	struct udpseq seq;            /* UDP only: packets, lost, reordered, ... */
};

struct sink_result {
	unsigned n_workers;
	struct sink_worker_result *workers;
	unsigned n_streams;
	struct sink_stream_result *streams;   /* by worker, then arrival order */
	uint64_t start_ns, stop_ns;           /* CLOCK_MONOTONIC: sink_start() and sink_stop() */
};

/**
 * sink_open() - create and bind the sockets (SO_REUSEPORT, one per worker)
 * @cfg: what to listen on
 * @out: the new sink
 *
 * Binding happens here, in the caller's thread, so that an address in use is
 * known before any thread starts. With port 0 the first socket gets a free
 * port and the others bind to that one.
 *
 * Return: 0, -EINVAL (bad cfg), -EADDRNOTAVAIL / -ENOENT (host does not
 * resolve to a local address), -EADDRINUSE, -EACCES, or another -errno.
 */
int sink_open(const struct sink_cfg *cfg, struct sink **out);

/**
 * sink_local() - the address really bound, e.g. "127.0.0.1:40123" or "[::1]:40123"
 * @s: the sink
 * @buf: where to write it
 * @len: size of @buf (SINK_ADDRSTRLEN is enough)
 * @port: if not NULL, the port
 *
 * Return: @buf.
 */
const char *sink_local(const struct sink *s, char *buf, size_t len, uint16_t *port);

/**
 * sink_start() - start the workers: pinned threads, each with its own io_uring
 * @s: the sink
 *
 * Worker i is pinned to the i-th CPU the process may use if there are at
 * least as many CPUs as workers. Returns once every worker has its ring set up
 * and its first accept/receive armed, so that data sent after the return is
 * counted.
 *
 * Return: 0, or the -errno of the first worker that failed to set up (the
 * others are stopped again).
 */
int sink_start(struct sink *s);

/**
 * sink_sample() - cumulative bytes per worker, for interval lines
 * @s: the sink
 * @bytes: array of at least sink_workers() entries
 *
 * Safe while the workers run: each counter has one writer.
 */
void sink_sample(const struct sink *s, uint64_t *bytes);

/* Number of workers. */
unsigned sink_workers(const struct sink *s);

/**
 * sink_stop() - stop the workers and collect what they counted
 * @s: the sink
 * @res: filled in; free with sink_result_free()
 *
 * Return: 0, -ENOMEM, or the first worker's -errno if one failed while
 * running (@res is filled in anyway).
 */
int sink_stop(struct sink *s, struct sink_result *res);

void sink_result_free(struct sink_result *res);

/* Close the sockets and free @s (after sink_stop(), or instead of sink_start()). */
void sink_close(struct sink *s);

#endif
