/* iperf3.h - the iperf3 control protocol (3.12 on the wire), client and server side */
#ifndef ZCGEN_IPERF3_H
#define ZCGEN_IPERF3_H

/*
 * What this module does and does not do: it speaks the control connection
 * (cookie, states, length-prefixed JSON) and the first bytes of each data
 * connection (cookie on TCP, the connect handshake on UDP). It never moves
 * test data: the engine and the sink drive their own data sockets and hand
 * their counts in. Every function returns 0 (or a non-negative value where
 * documented) or -errno; on error a readable message is left in the
 * context's err[] where there is a context. Nothing prints.
 *
 * Client sequence (the engine):
 *   iperf3_client_connect() -> iperf3_client_params()
 *   -> iperf3_client_wait_create_streams()
 *   -> for each stream, one after another: connect(), iperf3_data_hello()
 *   -> iperf3_client_wait_start() -> send data
 *   -> iperf3_drain_wait() (send queues empty + settle)
 *   -> iperf3_client_end() -> iperf3_client_close()
 *   On SIGINT at any point after connect: iperf3_client_terminate().
 *
 * Server sequence (the sink), after accept() of a control connection:
 *   iperf3_server_start() -> for each of params.parallel streams:
 *   accept() + iperf3_server_add_tcp_stream() or iperf3_udp_accept() +
 *   iperf3_server_add_stream() -> iperf3_server_run() -> receive data,
 *   polling iperf3_server_wait_end(s, 0) on the control fd
 *   -> iperf3_server_finish() -> iperf3_server_close().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <jansson.h>

/* Control states: one signed byte on the control connection (iperf.h). */
enum iperf3_state {
	IPERF3_TEST_START = 1,
	IPERF3_TEST_RUNNING = 2,
	IPERF3_TEST_END = 4,
	IPERF3_PARAM_EXCHANGE = 9,
	IPERF3_CREATE_STREAMS = 10,
	IPERF3_SERVER_TERMINATE = 11,
	IPERF3_CLIENT_TERMINATE = 12,
	IPERF3_EXCHANGE_RESULTS = 13,
	IPERF3_DISPLAY_RESULTS = 14,
	IPERF3_IPERF_START = 15,
	IPERF3_IPERF_DONE = 16,
	IPERF3_ACCESS_DENIED = -1,
	IPERF3_SERVER_ERROR = -2,
};

/* 36 characters of [a-z2-7] and a NUL, on the control and every TCP data connection. */
#define IPERF3_COOKIE_LEN 37
#define IPERF3_COOKIE_CHARS "abcdefghijklmnopqrstuvwxyz234567"

/* iperf3's own limit on -P (MAX_STREAMS); results carry one entry per stream. */
#define IPERF3_MAX_STREAMS 128

/*
 * UDP connect handshake. iperf3 writes these 32-bit values in host byte
 * order (UDP_CONNECT_MSG 0x36373839, UDP_CONNECT_REPLY 0x39383736), so on the
 * wire from a little-endian host they are the bytes "9876" and "6789". We
 * send the little-endian bytes (what every x86/arm64 iperf3 sends) and accept
 * either order, plus the legacy value 987654321 of iperf3 before 3.11.
 */
#define IPERF3_UDP_CONNECT_MSG 0x36373839u
#define IPERF3_UDP_CONNECT_REPLY 0x39383736u
#define IPERF3_UDP_CONNECT_REPLY_LEGACY 987654321u

/* iperf3 error numbers (i_errno) we send or name; the rest shows as a number. */
#define IPERF3_IENUMSTREAMS 6
#define IPERF3_IEUNIMP 13
#define IPERF3_IERECVRESULTS 117
#define IPERF3_IEACCESSDENIED 121
#define IPERF3_IESTREAMID 208

/* Longest JSON message accepted from a peer (server output can be large). */
#define IPERF3_JSON_MAX (4u << 20)

/* What the client asks for; the server side fills the same from the peer. */
struct iperf3_params {
	bool udp;
	unsigned parallel;        /* data streams, 1..IPERF3_MAX_STREAMS */
	unsigned time_s;          /* whole seconds: iperf3 reads an integer */
	unsigned omit_s;
	uint64_t len;             /* send size; UDP: datagram payload */
	/*
	 * Bits per second; 0 = unlimited. iperf3 -u needs a rate, and
	 * `iperf3 -u -b 0` (unlimited) sends no "bandwidth" key at all:
	 * we do the same for 0.
	 */
	uint64_t bandwidth;
	unsigned pacing_timer_us; /* 0: iperf3's default 1000 */
	bool udp_counters_64bit;  /* always sent as 1 for UDP by the client */
	bool nodelay;
	unsigned mss;             /* 0: not sent */
	uint64_t window;          /* socket buffer, 0: not sent */
	char congestion[32];      /* "" : not sent */
	/*
	 * zcgen's addition, sent only to a zcgen sink (iperf3 ignores it): the
	 * client marks its warm-up on the wire (gen/udpseq.h UDPSEQ_WARMUP,
	 * gen/payload.h PAYLOAD_WARMUP_SHIFT), so the server leaves it out by
	 * what it sees, not by its own omit timer.
	 */
	bool zcgen_warmup;
	/* Server side only: what the peer asked that we do not do. */
	bool reverse, bidirectional;
	char client_version[32];
};

/*
 * zcgen's additions to a receiver's results: keys named zcgen_* that a zcgen
 * sink sends per stream (and zcgen_latency_us at the top, over all streams),
 * which iperf3 clients ignore and zcgen reads when present (docs/iperf3.md).
 */
struct iperf3_zcgen_latency {
	bool present;             /* zcgen_latency_us was there (and held figures) */
	double p50, p90, p99, p99_9, max, mean;   /* microseconds */
	uint64_t count;           /* latencies behind the figures */
	uint64_t negative;        /* arrivals before the send time: clocks not shared */
	bool valid;               /* the sink's verdict (few or no negative ones) */
};

struct iperf3_zcgen {
	bool present;             /* any zcgen_* key */
	struct iperf3_zcgen_latency lat;
	bool verified;            /* zcgen_corrupt_* present: the payload was checked */
	uint64_t corrupt_bytes, corrupt_datagrams;
	uint64_t duplicates, reordered;
};

/* One stream's counts, as iperf3's results JSON carries them. */
struct iperf3_stream_result {
	int id;                   /* 1, 3, 4, ... (iperf3_stream_id()) */
	uint64_t bytes;           /* payload only: cookies are never counted */
	int64_t retransmits;      /* -1: not known (receivers, UDP) */
	double jitter;            /* seconds */
	int64_t errors;           /* UDP: datagrams lost */
	int64_t omitted_errors;
	/*
	 * UDP. Sender: datagrams sent. Receiver, in iperf3's meaning: the
	 * highest sequence seen, i.e. received + lost (iperf3 computes the
	 * loss percentage as errors / packets).
	 */
	uint64_t packets;
	uint64_t omitted_packets;
	bool omitted_known;          /* omitted_packets was in the JSON (iperf3 3.12's server omits it) */
	double start_time, end_time; /* seconds from test start */
	struct iperf3_zcgen zcgen;   /* receiver only, zcgen sinks only */
};

/*
 * Results of one side. Used both for what we send (ours) and what we
 * receive (the peer's); total is filled by iperf3_results_from_json() as the
 * sum over streams (jitter: the mean, as iperf3 shows it).
 */
struct iperf3_results {
	double cpu_util_total, cpu_util_user, cpu_util_system; /* percent */
	int sender_has_retransmits;   /* 1, 0, -1 (receiver) */
	char congestion_used[32];     /* "" : not sent / not given */
	unsigned n_streams;
	struct iperf3_stream_result streams[IPERF3_MAX_STREAMS];
	struct iperf3_stream_result total;
	struct iperf3_zcgen_latency zcgen_latency; /* top-level zcgen_latency_us: all streams */
};

struct iperf3_client {
	int ctrl_fd;
	char cookie[IPERF3_COOKIE_LEN];
	int timeout_ms;               /* per control message, default 10000 */
	struct iperf3_params params;  /* as sent */
	int server_ierrno;            /* from SERVER_ERROR, else 0 */
	int server_errno;
	char err[256];
};

struct iperf3_server {
	int ctrl_fd;
	char cookie[IPERF3_COOKIE_LEN]; /* the client's */
	int timeout_ms;
	struct iperf3_params params;    /* as the client asked */
	unsigned n_streams;             /* accepted so far */
	struct iperf3_results client;   /* the client's results, after finish */
	char err[256];
};

/**
 * iperf3_results_cb - the receiver's counts for one stream, asked at
 * EXCHANGE_RESULTS time.
 * @arg: the caller's pointer
 * @index: 0-based stream index in accept order
 * @out: pre-filled with id, retransmits -1 and zeros; set bytes, packets,
 *       errors, jitter, start_time, end_time
 * Return: 0 or -errno (aborts the exchange with SERVER_ERROR).
 */
typedef int (*iperf3_results_cb)(void *arg, unsigned index, struct iperf3_stream_result *out);

/* ---- pieces (exposed for tests and for callers with their own loops) ---- */

/** iperf3_stream_id - iperf3's id of the @index-th stream (0-based): 1, 3, 4, 5, ... */
static inline int iperf3_stream_id(unsigned index)
{
	return index == 0 ? 1 : (int)index + 2;
}

/**
 * iperf3_make_cookie - 36 random characters of IPERF3_COOKIE_CHARS and a NUL
 * Return: 0 or -errno from getrandom().
 */
int iperf3_make_cookie(char cookie[IPERF3_COOKIE_LEN]);

/** iperf3_cookie_valid - true when @cookie is 36 cookie characters and a NUL */
bool iperf3_cookie_valid(const char cookie[IPERF3_COOKIE_LEN]);

/** iperf3_send_state - write one state byte. Return: 0 or -errno. */
int iperf3_send_state(int fd, signed char state);

/**
 * iperf3_recv_state - read one state byte within @timeout_ms (-1: forever,
 * 0: only if one is already there, else -EAGAIN).
 * Return: 0 or -errno; -ECONNRESET when the peer closed.
 */
int iperf3_recv_state(int fd, int timeout_ms, signed char *state);

/** iperf3_json_send - 4-byte big-endian length, then the compact JSON text. */
int iperf3_json_send(int fd, const json_t *j);

/**
 * iperf3_json_recv - read one length-prefixed JSON message
 * @out: new reference on success
 * Return: 0, -EMSGSIZE over IPERF3_JSON_MAX, -EBADMSG if not a JSON object.
 */
int iperf3_json_recv(int fd, int timeout_ms, json_t **out);

/** iperf3_params_to_json - the client's parameter object (new reference, NULL on ENOMEM). */
json_t *iperf3_params_to_json(const struct iperf3_params *p);

/**
 * iperf3_params_from_json - what a client asked for
 * Return: 0, -EINVAL when neither "tcp" nor "udp" or "parallel" is out of range.
 */
int iperf3_params_from_json(const json_t *j, struct iperf3_params *p);

/**
 * iperf3_results_to_json - a results object with every key iperf3 3.12
 * requires (cpu_util_*, sender_has_retransmits, per stream id, bytes,
 * retransmits, jitter, errors, packets, ...). Stream ids of 0 are filled
 * from the index. New reference, NULL on ENOMEM.
 */
json_t *iperf3_results_to_json(const struct iperf3_results *r);

/**
 * iperf3_results_from_json - parse a peer's results; fills total.
 * Unsigned 2^64-1 (how iperf3 writes -1) reads back as -1.
 * Return: 0 or -EBADMSG naming the missing key in @err (may be NULL).
 */
int iperf3_results_from_json(const json_t *j, struct iperf3_results *r,
			     char *err, size_t errlen);

/* ---- data connections ---- */

/**
 * iperf3_data_hello - first bytes of a client data connection, right after
 * connect(): TCP writes the 37-byte cookie (not test data); UDP sends the
 * connect message and waits (up to 10 s) for the server's reply, whose
 * arrival also proves the server has its socket for this stream.
 * Return: 0, -ETIMEDOUT, -EPROTO on an unexpected reply, or -errno.
 */
int iperf3_data_hello(int fd, const char cookie[IPERF3_COOKIE_LEN], bool udp);

/**
 * iperf3_drain_wait - before TEST_END: wait until every TCP socket in @fds
 * has nothing unacknowledged (SIOCOUTQ 0), then sleep @settle_ms so that the
 * receiving program reads what sits in its receive queue. iperf3's server
 * closes its data sockets at TEST_END without reading what is left: without
 * this, bytes we sent are missing from its count. UDP sockets: only the settle.
 * Return: 0, or -ETIMEDOUT after @timeout_ms with data still queued.
 */
int iperf3_drain_wait(const int *fds, unsigned n, int timeout_ms, int settle_ms);

/**
 * iperf3_udp_listen - a UDP socket bound to @addr with SO_REUSEADDR, as the
 * server needs one per stream on the same port (see iperf3_udp_accept()).
 * Return: the fd or -errno.
 */
int iperf3_udp_listen(const struct sockaddr *addr, socklen_t addrlen);

/**
 * iperf3_udp_accept - server side of the UDP connect handshake. Waits up to
 * @timeout_ms for the connect message on *@listen_fd, connects that socket
 * to the sender (it becomes the stream's socket, returned in *@stream_fd),
 * binds a fresh listener at the same address into *@listen_fd for the next
 * stream, and only then replies, as iperf3 does: the client connects its
 * next stream only after the reply.
 * Return: 0 or -errno; on error *@listen_fd is still a usable listener or -1.
 */
int iperf3_udp_accept(int *listen_fd, int *stream_fd, int timeout_ms);

/**
 * iperf3_udp_parse - read iperf3's datagram header (sec, usec, sequence;
 * network byte order; 64-bit sequence when @counters64, else 32-bit).
 * Return: 0, or -EBADMSG when @len is too short.
 */
int iperf3_udp_parse(const void *buf, size_t len, bool counters64,
		     uint32_t *sec, uint32_t *usec, uint64_t *seq);

/**
 * iperf3_jitter_update - RFC 1889 interarrival jitter as iperf3 computes it:
 * J += (|D| - J) / 16 with D the change in transit time. @transit_prev holds
 * the state (start it at NAN: the first datagram only sets it).
 * Times in seconds; the clocks need not agree, only their offset must stay.
 */
void iperf3_jitter_update(double *jitter, double *transit_prev, double sent, double arrived);

/* ---- client ---- */

/**
 * iperf3_client_connect - open the control connection and send a new cookie
 * @host: name or address; @port: iperf3's port (5201)
 * @timeout_ms: per control message from now on (0: 10000)
 * Return: 0 or -errno (-EHOSTUNREACH/-ECONNREFUSED/... from connect).
 */
int iperf3_client_connect(struct iperf3_client *c, const char *host, uint16_t port,
			  int timeout_ms);

/**
 * iperf3_client_params - wait for PARAM_EXCHANGE, send @p. For UDP,
 * udp_counters_64bit is always sent (zcgen's header has 64-bit sequences).
 * Return: 0, -EINVAL for a bad @p, -EACCES when the server is busy
 * (ACCESS_DENIED), or the server's error (SERVER_ERROR).
 */
int iperf3_client_params(struct iperf3_client *c, const struct iperf3_params *p);

/** iperf3_client_wait_create_streams - wait for CREATE_STREAMS. */
int iperf3_client_wait_create_streams(struct iperf3_client *c);

/** iperf3_client_wait_start - wait for TEST_START, then TEST_RUNNING. */
int iperf3_client_wait_start(struct iperf3_client *c);

/**
 * iperf3_client_check - while data flows, without waiting: has the server
 * said anything? It says nothing until TEST_END unless it gives up.
 * Return: 0 when nothing is waiting; -errno with c->err set when the server
 * ended the test (SERVER_TERMINATE: -ECONNRESET, SERVER_ERROR, closed
 * connection: -ECONNRESET) or sent another state (-EPROTO).
 */
int iperf3_client_check(struct iperf3_client *c);

/**
 * iperf3_client_end - send TEST_END, exchange results, finish the test
 * @mine: our (sender) results; stream ids 0 are numbered 1, 3, 4, ...
 * @theirs: the server's (receiver) results, total summed
 * Sends IPERF_DONE after DISPLAY_RESULTS. Call iperf3_drain_wait() first.
 * Return: 0 or -errno; -EBADMSG when the server's results lack keys.
 */
int iperf3_client_end(struct iperf3_client *c, const struct iperf3_results *mine,
		      struct iperf3_results *theirs);

/** iperf3_client_terminate - say CLIENT_TERMINATE (on SIGINT); best effort. */
int iperf3_client_terminate(struct iperf3_client *c);

/** iperf3_client_close - close the control connection (idempotent). */
void iperf3_client_close(struct iperf3_client *c);

/* ---- server ---- */

/**
 * iperf3_server_start - on an accepted control connection: read the cookie,
 * send PARAM_EXCHANGE, read the parameters, send CREATE_STREAMS.
 * Reverse and bidirectional tests are refused with SERVER_ERROR (IEUNIMP),
 * as is a stream count over IPERF3_MAX_STREAMS.
 * @s: zeroed or not; takes @ctrl_fd (closed by iperf3_server_close()).
 * Return: 0 or -errno; -EOPNOTSUPP for a refused test.
 */
int iperf3_server_start(struct iperf3_server *s, int ctrl_fd, int timeout_ms);

/*
 * iperf3_server_start() in two halves, for a server that must decide
 * something between the parameters and the streams (the sink serving
 * several tests: which one takes the next UDP connect message):
 * iperf3_server_params() reads the cookie and the parameters and refuses
 * what iperf3_server_start() refuses; iperf3_server_create_streams() sends
 * CREATE_STREAMS. Same returns.
 */
int iperf3_server_params(struct iperf3_server *s, int ctrl_fd, int timeout_ms);
int iperf3_server_create_streams(struct iperf3_server *s);

/**
 * iperf3_server_add_tcp_stream - read the cookie on an accepted data
 * connection. A wrong cookie (another client) gets ACCESS_DENIED, as iperf3
 * does: the caller closes it and keeps waiting.
 * Return: the stream index (0-based; its id is iperf3_stream_id()), -EACCES
 * for a foreign cookie, -ENOSPC when all streams are there, or -errno.
 */
int iperf3_server_add_tcp_stream(struct iperf3_server *s, int fd);

/**
 * iperf3_server_add_stream - count a UDP stream accepted with iperf3_udp_accept().
 * Return: its index, or -ENOSPC.
 */
int iperf3_server_add_stream(struct iperf3_server *s);

/** iperf3_server_run - all streams are there: TEST_START, TEST_RUNNING. */
int iperf3_server_run(struct iperf3_server *s);

/**
 * iperf3_server_wait_end - wait for TEST_END (@timeout_ms as in
 * iperf3_recv_state(): 0 polls). Return: 0 on TEST_END, -EAGAIN/-ETIMEDOUT,
 * -ECONNABORTED on CLIENT_TERMINATE, -EPROTO on another state, or -errno.
 */
int iperf3_server_wait_end(struct iperf3_server *s, int timeout_ms);

/**
 * iperf3_server_finish - after TEST_END: EXCHANGE_RESULTS, read the client's
 * results (into s->client), send ours (per stream from @cb; @cpu may be NULL,
 * else its CPU figures and zcgen_latency are sent), DISPLAY_RESULTS, wait for
 * IPERF_DONE.
 * Return: 0 or -errno.
 */
int iperf3_server_finish(struct iperf3_server *s, iperf3_results_cb cb, void *arg,
			 const struct iperf3_results *cpu);

/**
 * iperf3_server_error - send SERVER_ERROR with iperf3's error number and an
 * errno (both may be 0); best effort, for the caller's own failures.
 */
int iperf3_server_error(int fd, int ierrno, int err);

/** iperf3_server_deny - ACCESS_DENIED on a control connection while busy. */
int iperf3_server_deny(int fd);

/** iperf3_server_close - close the control connection (idempotent). */
void iperf3_server_close(struct iperf3_server *s);

#endif
