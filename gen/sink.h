/* sink.h - the receiving side: per-worker io_uring, multishot accept/recv, UDP sequences, iperf3 */
#ifndef ZCGEN_SINK_H
#define ZCGEN_SINK_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "gen/sink_acct.h"
#include "gen/udpseq.h"

#define SINK_MAX_WORKERS 256
/* iperf3 tests served at once (zcgen sink --max-tests): each has a thread and up to 128 streams. */
#define SINK_MAX_TESTS 1024
#define SINK_DEFAULT_TESTS 64
/* "[v6addr%scope]:port" with room to spare */
#define SINK_ADDRSTRLEN 80

/* sink_cfg.protocol: both TCP and UDP are plain traffic the sink expects. */
#define SINK_PROTO_BOTH (-1)

struct sink;

/*
 * What to listen on. The sink always listens on both TCP and UDP on its
 * port, so that iperf3 clients can run TCP and UDP tests (the control
 * connection of a UDP test is TCP). @protocol is the plain traffic it
 * expects: that protocol's port must be free; the other one is taken when
 * it is free (sink_other_err() says when it was not). With
 * SINK_PROTO_BOTH both must be free.
 */
struct sink_cfg {
	const char *host;       /* numeric address or name; "" or NULL: any (dual stack) */
	uint16_t port;          /* 0: the kernel picks a port free on both protocols */
	int protocol;           /* IPPROTO_TCP, IPPROTO_UDP or SINK_PROTO_BOTH */
	unsigned workers;       /* 1..SINK_MAX_WORKERS, one io_uring and socket pair each */
	bool verify;            /* check plain streams' payload (gen/payload.h) */
	bool gro;               /* UDP_GRO on the UDP sockets: coalesced receives, split here */
	unsigned max_tests;     /* iperf3 tests served at once; 0: SINK_DEFAULT_TESTS */
};

/*
 * How TCP streams are received: without --verify nothing needs the bytes,
 * so the receive discards them in the kernel (MSG_TRUNC: the data is
 * consumed and acknowledged but never copied to user space, as
 * liburing's send-zerocopy -R receiver does); with --verify every byte is
 * copied into the buffer ring and checked.
 */
static inline bool sink_tcp_discard(const struct sink_cfg *cfg)
{
	return !cfg->verify;
}

/*
 * One worker's totals. bytes/packets are zcgen payload only (see foreign),
 * of the measured part: the warm-up (omit) that zcgen marks on the wire is
 * counted in omitted_bytes/omitted_packets alone (docs/sink.md, "Warm-up").
 */
struct sink_worker_result {
	unsigned worker;
	int cpu;                 /* CPU it was pinned to, -1 if not pinned */
	uint64_t bytes;          /* TCP: all bytes; UDP: payload of zcgen datagrams */
	uint64_t packets;        /* UDP: zcgen datagrams; TCP: 0 */
	uint64_t omitted_bytes;  /* the senders' warm-up: TCP bytes and UDP payload */
	uint64_t omitted_packets; /* UDP: warm-up datagrams */
	uint64_t foreign;        /* UDP datagrams shorter than the header or with sequence 0 */
	uint64_t foreign_bytes;
	uint64_t truncated;      /* UDP datagrams larger than a receive buffer (counted in full) */
	uint64_t connections;    /* plain TCP connections accepted (not iperf3's) */
	uint64_t resets;         /* TCP connections that ended in an error (reset, ...) */
	uint64_t nobufs;         /* times the buffer ring ran dry (-ENOBUFS, re-armed) */
	uint64_t iperf3_denied;  /* iperf3 connections refused (busy, or not wanted) */
	uint64_t corrupt_bytes;  /* --verify: payload bytes that were not the pattern */
	uint64_t corrupt_datagrams;
	uint64_t gro_receives;   /* --gro: receives that carried more than one datagram */
	uint64_t ts_kernel;      /* UDP datagrams timed by the kernel's receive timestamp */
	uint64_t ts_user;        /* ... by clock_gettime() once per completion batch (no timestamp) */
	bool ring_fallback;      /* SINGLE_ISSUER|DEFER_TASKRUN were not available */
	int err;                 /* 0, or the -errno that stopped this worker */
};

/* One TCP connection or one UDP stream (source address + port). */
struct sink_stream_result {
	char peer[SINK_ADDRSTRLEN];   /* "192.0.2.1:40000", "[2001:db8::1]:40000" */
	unsigned worker;
	int protocol;                 /* IPPROTO_TCP or IPPROTO_UDP */
	uint64_t bytes;               /* payload of the measured part; never an iperf3 cookie */
	uint64_t omitted_bytes;       /* of the sender's warm-up (UDP: seq.omitted datagrams) */
	/*
	 * CLOCK_MONOTONIC: accept (iperf3: first data) or first datagram, or
	 * after a warm-up the first data of the measured part; last data of
	 * the measured part.
	 */
	uint64_t first_ns, last_ns;
	int end;                      /* TCP: 0 open at the end, 1 closed by the peer, -errno reset/error */
	struct udpseq seq;            /* UDP only: packets, lost, reordered, ... */
	unsigned iperf3_test;         /* 0: a plain stream; else the iperf3 test's number (from 1) */
	int iperf3_id;                /* its stream id in that test (1, 3, 4, ...; 0 if never given) */
	double jitter_s;              /* UDP: RFC 1889/3550 jitter as iperf3 computes it */
	struct lat_summary lat;       /* UDP: one-way latency (gen/sink_acct.h) */
	bool verified;                /* --verify checked its payload */
	uint64_t corrupt_bytes;
	uint64_t corrupt_datagrams;   /* UDP */
};

/* One stream of an iperf3 test, as reported to the client, and what the client sent. */
struct sink_iperf3_stream {
	int id;                       /* iperf3's: 1, 3, 4, ... */
	char peer[SINK_ADDRSTRLEN];
	unsigned worker;
	uint64_t bytes;               /* received (the client is told this less omit_bytes) */
	uint64_t packets;             /* UDP: datagrams received */
	uint64_t highest;             /* UDP: highest sequence (iperf3's receiver "packets") */
	uint64_t lost;                /* UDP: iperf3's receiver "errors" */
	double jitter_s;
	uint64_t client_bytes;        /* the client's results: bytes it sent */
	uint64_t client_packets;      /* UDP: datagrams it sent */
	bool client_known;            /* the results exchange got that far */
	uint64_t first_ns, last_ns;   /* CLOCK_MONOTONIC: first and last data */
	/* the client's omit (warm-up): counts at its end, left out of what the client is told */
	uint64_t omit_bytes, omit_highest, omit_lost;
};

/* One iperf3 test: a control connection and its streams. */
struct sink_iperf3_test {
	unsigned n;                   /* 1, 2, ... in arrival order */
	char peer[SINK_ADDRSTRLEN];   /* the control connection's */
	bool udp;
	unsigned parallel, time_s;
	uint64_t len, bandwidth;
	char client_version[32];
	int err;                      /* 0: results exchanged; else -errno */
	char msg[256];                /* why, when err */
	uint64_t start_ns, end_ns;    /* CLOCK_MONOTONIC: TEST_START sent, TEST_END received */
	unsigned n_streams;
	struct sink_iperf3_stream *streams;   /* in id order */
};

struct sink_result {
	unsigned n_workers;
	struct sink_worker_result *workers;
	unsigned n_streams;
	struct sink_stream_result *streams;   /* by worker, then arrival order */
	unsigned n_tests;
	struct sink_iperf3_test *tests;       /* iperf3 tests, in arrival order */
	uint64_t start_ns, stop_ns;           /* CLOCK_MONOTONIC: sink_start() and sink_stop() */
	struct lat_summary lat;               /* UDP: latency over all streams (histograms merged) */
	double jitter_s;                      /* UDP: mean of the streams' jitter */
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
 * And the iperf3 side, which serves iperf3 clients' control connections
 * (docs/sink.md, "iperf3 clients"), several tests at once, a thread each.
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
 * @bytes: array of at least sink_workers() entries: bytes of the measured part
 * @omitted: NULL, or such an array: bytes of the senders' warm-up
 *
 * Safe while the workers run: each counter has one writer.
 */
void sink_sample(const struct sink *s, uint64_t *bytes, uint64_t *omitted);

/* Number of workers. */
unsigned sink_workers(const struct sink *s);

/**
 * sink_other_err() - whether the protocol the sink does not expect got its socket
 * @s: the sink
 * @protocol: if not NULL, that protocol (IPPROTO_TCP or IPPROTO_UDP)
 *
 * Return: 0, or the -errno of binding it (-EADDRINUSE: someone holds the
 * port on that protocol); iperf3 tests that need it will not work then.
 */
int sink_other_err(const struct sink *s, int *protocol);

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
