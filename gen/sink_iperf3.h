/* sink_iperf3.h - inside the sink: iperf3 tests (control thread, streams shared with the workers) */
#ifndef ZCGEN_SINK_IPERF3_H
#define ZCGEN_SINK_IPERF3_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "gen/iperf3.h"
#include "gen/sink.h"
#include "gen/sink_acct.h"

/*
 * Division of labour. Workers see every connection and datagram first:
 * they tell an iperf3 connection by its first 37 bytes (a cookie) and a UDP
 * stream by its 4-byte connect message, and ask here what it is. A control
 * connection is handed to the one control thread, which speaks the
 * (blocking, slow) control protocol, so that data receive never waits on
 * it. Data streams stay with the worker that received them: it counts into
 * the stream's live counters below (one writer), which the control thread
 * reads at TEST_END. Several tests run at once, each with a thread of its
 * own (started by a manager thread), so that many clients can send to one
 * sink (an incast); a new test beyond max_tests gets ACCESS_DENIED, as
 * iperf3 -s answers any second client.
 */

#define SINK_IP3_MAX_TESTS SINK_MAX_TESTS
#define SINK_IP3_DEFAULT_TESTS SINK_DEFAULT_TESTS

struct sink_ip3;
struct ip3_test;

/* One data stream of a test. Allocated here, never freed before sink_ip3_free(). */
struct ip3_stream {
	struct ip3_test *t;
	unsigned index;               /* registration order */
	bool udp;
	uint64_t order_ns;            /* arrival of its first bytes: orders the ids */
	atomic_bool counters64;       /* UDP header with a 64-bit sequence (known after params) */
	/* Live counters: written by the stream's worker only, read by the control thread. */
	_Atomic uint64_t bytes, packets, highest, lost, first_ns, last_ns;
	_Atomic uint64_t jitter_bits; /* a double */
	/* UDP, zcgen's additions to the results (zcgen_* keys): same writer, same reader. */
	_Atomic uint64_t reordered, duplicates, corrupt_bytes, corrupt_datagrams;
	atomic_bool verified;
	/*
	 * The worker's latency histogram of this stream (it owns it), and how
	 * many values it holds: stored with release after each one, so that the
	 * control thread, which loads it with acquire after the counters stood
	 * still (wait_quiet), sees the histogram at least that far.
	 */
	struct lat_acct *_Atomic lat;
	_Atomic uint64_t lat_count;
	/* Filled by the control thread: the id and what was reported. */
	struct sink_iperf3_stream out;
	unsigned test_n;
};

enum ip3_verdict {
	IP3_STREAM,     /* a data stream of the running test: consume the cookie, count the rest */
	IP3_CONTROL,    /* a new test: the fd now belongs to the iperf3 side */
	IP3_DENY,       /* max_tests running, or a stream not wanted: consume the cookie,
			   send ACCESS_DENIED, close */
};

/*
 * Return: 0 or -errno. @timeout_ms: per control message (0: iperf3's 10 s).
 * @max_tests: tests served at once (0: SINK_IP3_DEFAULT_TESTS; at most SINK_IP3_MAX_TESTS).
 */
int sink_ip3_init(struct sink_ip3 **out, int timeout_ms, unsigned max_tests);
int sink_ip3_start(struct sink_ip3 *ip);
/* Ends a test in progress (its control connection is shut down), joins the thread. */
void sink_ip3_stop(struct sink_ip3 *ip);
void sink_ip3_free(struct sink_ip3 *ip);

/**
 * sink_ip3_tcp() - a TCP connection whose first 37 bytes are a valid cookie
 * @ip: the iperf3 side
 * @cookie: those bytes (still in the socket)
 * @fd: the connection; with IP3_CONTROL the control thread owns it from now on
 * @peer: its address, for the report
 * @worker: the worker that has it
 * @order_ns: when the cookie arrived: orders the test's streams (their ids)
 * @st: with IP3_STREAM, the stream to count into
 */
enum ip3_verdict sink_ip3_tcp(struct sink_ip3 *ip, const char cookie[IPERF3_COOKIE_LEN], int fd,
			      const char *peer, unsigned worker, uint64_t order_ns,
			      struct ip3_stream **st);

/**
 * sink_ip3_udp_hello() - a UDP connect message from @peer
 * @order_ns: when it came (the client sends the next one only after our reply)
 * Return: the new stream when a UDP test is waiting for one (the caller
 * replies), NULL when none is.
 */
struct ip3_stream *sink_ip3_udp_hello(struct sink_ip3 *ip, const char *peer, unsigned worker,
				      uint64_t order_ns);

/**
 * sink_ip3_results() - copies of every test so far (after sink_ip3_stop())
 * Return: 0 or -ENOMEM; free each test's streams, then the array.
 */
int sink_ip3_results(struct sink_ip3 *ip, struct sink_iperf3_test **tests, unsigned *n);

/*
 * The worker side: publish a stream's counters. Relaxed: one writer, and a reader that
 * only needs them eventually (after TEST_END it waits until they stand still).
 */
static inline void ip3_publish_tcp(struct ip3_stream *st, uint64_t bytes, uint64_t first_ns,
				   uint64_t last_ns)
{
	atomic_store_explicit(&st->bytes, bytes, memory_order_relaxed);
	atomic_store_explicit(&st->first_ns, first_ns, memory_order_relaxed);
	atomic_store_explicit(&st->last_ns, last_ns, memory_order_relaxed);
}

static inline void ip3_publish_udp(struct ip3_stream *st, uint64_t bytes, uint64_t packets,
				   uint64_t highest, uint64_t lost, double jitter, uint64_t first_ns,
				   uint64_t last_ns)
{
	uint64_t jb;

	memcpy(&jb, &jitter, sizeof(jb));
	ip3_publish_tcp(st, bytes, first_ns, last_ns);
	atomic_store_explicit(&st->packets, packets, memory_order_relaxed);
	atomic_store_explicit(&st->highest, highest, memory_order_relaxed);
	atomic_store_explicit(&st->lost, lost, memory_order_relaxed);
	atomic_store_explicit(&st->jitter_bits, jb, memory_order_relaxed);
}

/* The worker side, UDP: what only zcgen's results carry. */
static inline void ip3_publish_extra(struct ip3_stream *st, const struct udpseq *seq, bool verified,
				     uint64_t corrupt_bytes, uint64_t corrupt_datagrams,
				     struct lat_acct *lat)
{
	atomic_store_explicit(&st->reordered, seq->reordered, memory_order_relaxed);
	atomic_store_explicit(&st->duplicates, seq->duplicates, memory_order_relaxed);
	atomic_store_explicit(&st->verified, verified, memory_order_relaxed);
	atomic_store_explicit(&st->corrupt_bytes, corrupt_bytes, memory_order_relaxed);
	atomic_store_explicit(&st->corrupt_datagrams, corrupt_datagrams, memory_order_relaxed);
	if (lat) {
		atomic_store_explicit(&st->lat, lat, memory_order_release);
		atomic_store_explicit(&st->lat_count, hist_count(&lat->h) + lat->negative,
				      memory_order_release);
	}
}

#endif
