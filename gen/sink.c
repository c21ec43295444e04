/* sink.c - the receiving side: per-worker io_uring, multishot accept/recv, UDP sequences, iperf3 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <liburing.h>
#include <netdb.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <math.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <netinet/udp.h>
#include "gen/compat.h"
#include "gen/gen.h"
#include "gen/payload.h"
#include "gen/sink.h"
#include "gen/sink_acct.h"
#include "gen/sink_iperf3.h"

/*
 * Receive buffers: one provided-buffer ring per protocol per worker. TCP
 * takes large buffers, one CQE per 64 KiB at most; UDP takes one buffer per
 * datagram, so many small ones. A UDP buffer holds the recvmsg header, the
 * source address and as much payload as fits: only the first 16 bytes matter
 * for counting, and MSG_TRUNC makes the kernel report the full length anyway.
 * With --verify every payload byte is checked, so UDP buffers then hold the
 * largest datagram (fewer of them); so they do with --gro, where one receive
 * carries up to 64 KiB of datagrams whose every header is read.
 */
#define TCP_BUF_SIZE   (64u * 1024)
#define TCP_BUF_COUNT  128u
#define UDP_BUF_SIZE   2048u
#define UDP_BUF_COUNT  2048u
#define UDPV_BUF_SIZE  (66u * 1024)   /* 65507 bytes of payload + recvmsg_out + name */
#define UDPV_BUF_COUNT 512u
#define TCP_BGID       0
#define UDP_BGID       1
#define RING_SQ        256u
#define RING_CQ        8192u   /* multishot posts many CQEs per SQE */
#define WAIT_NS        (100 * 1000 * 1000ull)  /* how often a worker looks at the stop flag */
#define UDP_RCVBUF     (8 * 1024 * 1024)
#define IP3_TIMEOUT_MS 10000   /* per iperf3 control message */
#define PORT0_TRIES    20      /* port 0: find one free on both protocols */

enum { UD_ACCEPT = 1, UD_RECV = 2, UD_RECVMSG = 3, UD_POLL = 4 };
#define UD(type, idx) (((uint64_t)(type) << 32) | (uint32_t)(idx))

/*
 * What a TCP connection is. PENDING: its first bytes may still turn out to
 * be an iperf3 cookie (nothing is read, only peeked); PLAIN: counted as
 * before; IP3: a data stream of an iperf3 test; GONE: a control connection
 * handed to the control thread, or a refused one: not a stream.
 */
enum conn_kind { CONN_PENDING, CONN_PLAIN, CONN_IP3, CONN_GONE };

/* A TCP connection or a UDP stream, private to its worker. */
struct conn {
	struct sockaddr_storage peer;
	socklen_t peerlen;
	int fd;                   /* TCP, -1 once closed */
	enum conn_kind kind;
	bool udp;
	bool lowat;               /* SO_RCVLOWAT raised while waiting for a whole cookie */
	bool got_data;
	bool warm_seen;           /* data of the sender's warm-up came */
	bool meas_seen;           /* data of the measured part came */
	uint64_t offset;          /* TCP stream offset of the next byte (iperf3: after the cookie) */
	struct tcpwin win;        /* TCP: where the sender's warm-up ends */
	struct ip3_stream *ip3;   /* iperf3 stream (owned by the sink's iperf3 side) */
	double jitter, transit;   /* UDP: jitter state */
	struct lat_acct *lat;     /* UDP: latency histogram, allocated with the first datagram */
	struct sink_stream_result r;
};

struct bufring {
	struct io_uring_buf_ring *br;
	size_t br_len;
	unsigned char *bufs;
	size_t bufs_len;
	unsigned nbufs, bufsize;
	unsigned short bgid;
	bool registered;
	unsigned added;           /* buffers given back in this batch */
};

struct sink_worker {
	/* Read by the sampler: the only fields another thread touches while running. */
	_Atomic uint64_t live_bytes;
	_Atomic uint64_t live_omitted;
	char pad[64 - 2 * sizeof(uint64_t)];

	struct sink *s;
	unsigned idx;
	int cpu;
	int tcp_fd, udp_fd;       /* listening TCP and bound UDP socket; -1 when that protocol is off */
	pthread_t thread;
	bool thread_ok;

	struct io_uring ring;
	bool ring_ok;
	struct bufring tcp, udp;
	struct msghdr msg;        /* UDP: shape of the recvmsg output (name and control lengths) */
	uint64_t batch_rt;        /* CLOCK_REALTIME ns of this completion batch, 0: not read yet */

	struct conn *conns;
	unsigned n_conns, cap_conns;
	uint32_t *hash;           /* UDP: conn index + 1, 0 = empty; open addressing */
	unsigned hash_cap;

	struct sink_worker_result res;
} __attribute__((aligned(64)));

struct sink {
	int protocol;             /* expected plain traffic: IPPROTO_TCP, IPPROTO_UDP, SINK_PROTO_BOTH */
	bool verify;
	bool gro;
	int tcp_flags;            /* the TCP receive's flags: MSG_TRUNC when nothing reads the bytes */
	bool have_tcp, have_udp;
	int other_err, other_proto;
	unsigned n;
	struct sockaddr_storage local;
	socklen_t locallen;
	struct sink_worker *w[SINK_MAX_WORKERS];
	struct sink_ip3 *ip3;
	atomic_bool stop;

	pthread_mutex_t lock;     /* start-up hand-shake only */
	pthread_cond_t cond;
	unsigned n_ready;
	int first_err;

	uint64_t start_ns, stop_ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* "1.2.3.4:5", "[::1]:5"; an IPv4-mapped IPv6 peer (dual-stack socket) is shown as IPv4. */
static void fmt_addr(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(buf, len, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		port = ntohs(in6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], host, sizeof(host));
			snprintf(buf, len, "%s:%u", host, port);
		} else {
			inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
			snprintf(buf, len, "[%s]:%u", host, port);
		}
	} else {
		snprintf(buf, len, "?");
	}
}

const char *sink_local(const struct sink *s, char *buf, size_t len, uint16_t *port)
{
	const struct sockaddr *sa = (const void *)&s->local;

	fmt_addr(sa, buf, len);
	if (port)
		*port = ntohs(sa->sa_family == AF_INET ?
			      ((const struct sockaddr_in *)(const void *)sa)->sin_port :
			      ((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	return buf;
}

unsigned sink_workers(const struct sink *s)
{
	return s->n;
}

int sink_other_err(const struct sink *s, int *protocol)
{
	if (protocol)
		*protocol = s->other_proto;
	return s->other_err;
}

/* ---- sockets --------------------------------------------------------- */

static int resolve(const char *host, int protocol, struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct addrinfo hints = {
		.ai_flags = AI_PASSIVE,
		.ai_socktype = protocol == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM,
	}, *ai;
	int rc;

	if (!host || !*host || !strcmp(host, "*")) {
		/* Any address: [::] takes IPv4 too unless the host disabled IPv6. */
		int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd >= 0) {
			struct sockaddr_in6 *in6 = (void *)ss;

			close(fd);
			memset(ss, 0, sizeof(*ss));
			in6->sin6_family = AF_INET6;
			in6->sin6_addr = in6addr_any;
			*sslen = sizeof(*in6);
		} else {
			struct sockaddr_in *in = (void *)ss;

			memset(ss, 0, sizeof(*ss));
			in->sin_family = AF_INET;
			in->sin_addr.s_addr = htonl(INADDR_ANY);
			*sslen = sizeof(*in);
		}
		return 0;
	}
	rc = getaddrinfo(host, NULL, &hints, &ai);
	switch (rc) {
	case 0:
		break;
	case EAI_MEMORY:
		return -ENOMEM;
	case EAI_SYSTEM:
		return -errno;
	case EAI_FAMILY:
	case EAI_SOCKTYPE:
	case EAI_BADFLAGS:
		return -EINVAL;
	default:  /* EAI_NONAME, EAI_AGAIN, EAI_FAIL, ... */
		return -ENOENT;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)(void *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)(void *)ss)->sin6_port = htons(port);
}

/*
 * One socket bound to @ss. @reuseport: join the SO_REUSEPORT group. The probe
 * binds without it: SO_REUSEPORT would let us join another (same-user)
 * process's group on that port and silently share its traffic.
 */
static int open_socket(int protocol, const struct sockaddr_storage *ss, socklen_t sslen,
		       bool reuseport, int *out)
{
	int type = protocol == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	int fd, one = 1, rc;

	fd = socket(ss->ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* TCP: connections of an earlier run in TIME_WAIT must not block the port. */
	if (protocol == IPPROTO_TCP &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		goto fail;
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)))
		goto fail;
	if (protocol == IPPROTO_UDP) {
		/* Best effort: capped by net.core.rmem_max, a bigger buffer drops less in bursts. */
		int rcv = UDP_RCVBUF;

		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	}
	if (bind(fd, (const struct sockaddr *)ss, sslen))
		goto fail;
	if (reuseport && protocol == IPPROTO_TCP && listen(fd, 4096))
		goto fail;
	/*
	 * Receive timestamps, inherited by accepted connections: the arrival
	 * time of an iperf3 stream's cookie orders the streams of a test, which
	 * may be accepted by different workers (see on_poll()).
	 */
	if (reuseport && protocol == IPPROTO_TCP)
		(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	*out = fd;
	return 0;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

/*
 * The workers' UDP sockets: the kernel's receive timestamp of every datagram
 * (for the latency; without it the sink reads the clock once per batch),
 * and with @gro UDP_GRO: the kernel may then hand over several datagrams of
 * a flow in one receive, which the sink splits (on_datagram()).
 * Return: 0, or -errno of UDP_GRO (-ENOPROTOOPT: a kernel before 5.0).
 */
static int udp_options(int fd, bool gro)
{
	int one = 1;

	(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	if (gro && setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)))
		return -errno;
	return 0;
}

/* Bind @protocol without SO_REUSEPORT, note the address really bound, close. */
static int probe(int protocol, const struct sockaddr_storage *ss, socklen_t sslen,
		 struct sockaddr_storage *local, socklen_t *locallen)
{
	int rc, fd;

	rc = open_socket(protocol, ss, sslen, false, &fd);
	if (rc)
		return rc;
	*locallen = sizeof(*local);
	rc = getsockname(fd, (struct sockaddr *)local, locallen) ? -errno : 0;
	close(fd);
	return rc;
}

/*
 * Probes: fail with EADDRINUSE if anyone holds the port; with port 0 the
 * first picks one, which must then be free on the other protocol too (a few
 * tries). The expected protocol must be free; the other one may be held by
 * someone else unless both are expected (s->other_err says so).
 */
static int probe_both(struct sink *s, const struct sink_cfg *cfg, struct sockaddr_storage *ss,
		      socklen_t sslen)
{
	int first = cfg->protocol == IPPROTO_UDP ? IPPROTO_UDP : IPPROTO_TCP;
	int other = first == IPPROTO_TCP ? IPPROTO_UDP : IPPROTO_TCP;
	struct sockaddr_storage tmp;
	socklen_t tmplen;
	int rc, rc2 = 0;

	for (int i = 0; i < (cfg->port ? 1 : PORT0_TRIES); i++) {
		set_port(ss, cfg->port);
		rc = probe(first, ss, sslen, &s->local, &s->locallen);
		if (rc)
			return rc;
		rc2 = probe(other, &s->local, s->locallen, &tmp, &tmplen);
		if (rc2 != -EADDRINUSE)
			break;
	}
	s->have_tcp = s->have_udp = true;
	if (rc2) {
		if (cfg->protocol == SINK_PROTO_BOTH)
			return rc2;
		s->other_err = rc2;
		s->other_proto = other;
		if (other == IPPROTO_TCP)
			s->have_tcp = false;
		else
			s->have_udp = false;
	}
	return 0;
}

int sink_open(const struct sink_cfg *cfg, struct sink **out)
{
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	struct sink *s;
	int rc;
	unsigned i;

	if (!cfg || !cfg->workers || cfg->workers > SINK_MAX_WORKERS ||
	    (cfg->protocol != IPPROTO_TCP && cfg->protocol != IPPROTO_UDP &&
	     cfg->protocol != SINK_PROTO_BOTH))
		return -EINVAL;
	rc = resolve(cfg->host, IPPROTO_TCP, &ss, &sslen);
	if (rc)
		return rc;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->protocol = cfg->protocol;
	s->verify = cfg->verify;
	s->tcp_flags = sink_tcp_discard(cfg) ? MSG_TRUNC : 0;
	s->gro = cfg->gro;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	atomic_init(&s->stop, false);

	rc = probe_both(s, cfg, &ss, sslen);
	if (rc)
		goto fail;
	rc = sink_ip3_init(&s->ip3, IP3_TIMEOUT_MS, cfg->max_tests);
	if (rc)
		goto fail;

	for (i = 0; i < cfg->workers; i++) {
		struct sink_worker *w = aligned_alloc(64, sizeof(*w));

		if (!w) {
			rc = -ENOMEM;
			goto fail;
		}
		memset(w, 0, sizeof(*w));
		w->tcp_fd = w->udp_fd = -1;
		w->s = s;
		w->idx = i;
		w->cpu = -1;
		w->res.worker = i;
		w->res.cpu = -1;
		atomic_init(&w->live_bytes, 0);
		atomic_init(&w->live_omitted, 0);
		s->w[i] = w;
		s->n = i + 1;
		if (s->have_tcp) {
			rc = open_socket(IPPROTO_TCP, &s->local, s->locallen, true, &w->tcp_fd);
			if (rc)
				goto fail;
		}
		if (s->have_udp) {
			rc = open_socket(IPPROTO_UDP, &s->local, s->locallen, true, &w->udp_fd);
			if (!rc)
				rc = udp_options(w->udp_fd, s->gro);
			if (rc)
				goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	sink_close(s);
	return rc;
}

/* ---- the worker -------------------------------------------------------- */

static struct io_uring_sqe *get_sqe(struct sink_worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	if (!sqe) {
		/* SQ full: push what is queued, then there is room. */
		io_uring_submit(&w->ring);
		sqe = io_uring_get_sqe(&w->ring);
	}
	return sqe;
}

static int arm_accept(struct sink_worker *w)
{
	struct io_uring_sqe *sqe = get_sqe(w);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_multishot_accept(sqe, w->tcp_fd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, UD(UD_ACCEPT, 0));
	return 0;
}

/* A new connection: wait until it has data (or ends) before deciding what it is. */
static int arm_poll(struct sink_worker *w, unsigned ci)
{
	struct io_uring_sqe *sqe = get_sqe(w);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_add(sqe, w->conns[ci].fd, POLLIN | POLLRDHUP);
	io_uring_sqe_set_data64(sqe, UD(UD_POLL, ci));
	return 0;
}

static int arm_recv(struct sink_worker *w, unsigned ci)
{
	struct io_uring_sqe *sqe = get_sqe(w);

	struct conn *c = &w->conns[ci];

	if (!sqe)
		return -EBUSY;
	/*
	 * A selected buffer bounds each receive; with MSG_TRUNC it is never
	 * written. The discard starts only where the stream's measured part
	 * does: until then the bytes say where a zcgen sender's warm-up ends
	 * (tcpwin_add), so they are copied, one receive at a time, and the
	 * receive that finds the end re-arms this one as the discarding
	 * multishot. A stream without a warm-up is known after its first
	 * receive.
	 */
	if ((w->s->tcp_flags & MSG_TRUNC) && c->win.state != TCPWIN_MEASURED)
		io_uring_prep_recv(sqe, c->fd, NULL, 0, 0);
	else
		io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, w->s->tcp_flags);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = TCP_BGID;
	io_uring_sqe_set_data64(sqe, UD(UD_RECV, ci));
	return 0;
}

static int arm_recvmsg(struct sink_worker *w)
{
	struct io_uring_sqe *sqe = get_sqe(w);

	if (!sqe)
		return -EBUSY;
	/* MSG_TRUNC: the recvmsg_out payloadlen is the datagram's real length. */
	io_uring_prep_recvmsg_multishot(sqe, w->udp_fd, &w->msg, MSG_TRUNC);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = UDP_BGID;
	io_uring_sqe_set_data64(sqe, UD(UD_RECVMSG, 0));
	return 0;
}

/* liburing 2.3 has no io_uring_setup_buf_ring(): map and register it ourselves. */
static int bufring_setup(struct sink_worker *w, struct bufring *b, unsigned nbufs, unsigned size,
			 unsigned short bgid)
{
	struct io_uring_buf_reg reg;
	int rc;

	b->nbufs = nbufs;
	b->bufsize = size;
	b->bgid = bgid;
	b->br_len = nbufs * sizeof(struct io_uring_buf);
	b->br = mmap(NULL, b->br_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->br == MAP_FAILED) {
		b->br = NULL;
		return -errno;
	}
	b->bufs_len = (size_t)nbufs * size;
	b->bufs = mmap(NULL, b->bufs_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->bufs == MAP_FAILED) {
		b->bufs = NULL;
		return -errno;
	}
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uintptr_t)b->br;
	reg.ring_entries = nbufs;
	reg.bgid = bgid;
	rc = io_uring_register_buf_ring(&w->ring, &reg, 0);
	if (rc)
		return rc;
	b->registered = true;
	io_uring_buf_ring_init(b->br);
	for (unsigned i = 0; i < nbufs; i++)
		io_uring_buf_ring_add(b->br, b->bufs + (size_t)i * size, size, (unsigned short)i,
				      io_uring_buf_ring_mask(nbufs), (int)i);
	io_uring_buf_ring_advance(b->br, (int)nbufs);
	return 0;
}

static unsigned char *bufring_get(struct bufring *b, const struct io_uring_cqe *cqe)
{
	return b->bufs + (size_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT) * b->bufsize;
}

/* Give a filled buffer back; the ring sees it at bufring_flush(), before the next submit. */
static void bufring_put(struct bufring *b, const struct io_uring_cqe *cqe)
{
	unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;

	io_uring_buf_ring_add(b->br, b->bufs + (size_t)bid * b->bufsize, b->bufsize,
			      (unsigned short)bid, io_uring_buf_ring_mask(b->nbufs), (int)b->added);
	b->added++;
}

static void bufring_flush(struct bufring *b)
{
	if (b->added)
		io_uring_buf_ring_advance(b->br, (int)b->added);
	b->added = 0;
}

static void bufring_free(struct bufring *b)
{
	if (b->br)
		munmap(b->br, b->br_len);
	if (b->bufs)
		munmap(b->bufs, b->bufs_len);
	b->br = NULL;
	b->bufs = NULL;
}

static int ring_setup(struct sink_worker *w)
{
	static const unsigned flag_sets[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_COOP_TASKRUN,
		0,
	};
	struct io_uring_params p;
	unsigned i;
	int rc = -EINVAL;

	for (i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.flags = flag_sets[i] | IORING_SETUP_CQSIZE;
		p.cq_entries = RING_CQ;
		rc = io_uring_queue_init_params(RING_SQ, &w->ring, &p);
		if (rc != -EINVAL)
			break;
	}
	if (rc)
		return rc;
	w->ring_ok = true;
	w->res.ring_fallback = i != 0;

	if (w->tcp_fd >= 0) {
		rc = bufring_setup(w, &w->tcp, TCP_BUF_COUNT, TCP_BUF_SIZE, TCP_BGID);
		if (!rc)
			rc = arm_accept(w);
		if (rc)
			return rc;
	}
	if (w->udp_fd >= 0) {
		rc = w->s->verify || w->s->gro ? bufring_setup(w, &w->udp, UDPV_BUF_COUNT, UDPV_BUF_SIZE, UDP_BGID) :
				    bufring_setup(w, &w->udp, UDP_BUF_COUNT, UDP_BUF_SIZE, UDP_BGID);
		if (rc)
			return rc;
		/* Room for an IPv6 source address, a receive timestamp and a GRO segment size. */
		memset(&w->msg, 0, sizeof(w->msg));
		w->msg.msg_namelen = sizeof(struct sockaddr_in6);
		w->msg.msg_controllen = CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(int));
		rc = arm_recvmsg(w);
		if (rc)
			return rc;
	}
	rc = io_uring_submit(&w->ring);
	return rc < 0 ? rc : 0;
}

static int conn_new(struct sink_worker *w, const struct sockaddr *sa, socklen_t salen, uint64_t now)
{
	struct conn *c;

	if (w->n_conns == w->cap_conns) {
		unsigned cap = w->cap_conns ? w->cap_conns * 2 : 64;
		struct conn *n = realloc(w->conns, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		w->conns = n;
		w->cap_conns = cap;
	}
	c = &w->conns[w->n_conns];
	memset(c, 0, sizeof(*c));
	if (salen > sizeof(c->peer))
		salen = sizeof(c->peer);
	memcpy(&c->peer, sa, salen);
	c->peerlen = salen;
	c->fd = -1;
	c->r.worker = w->idx;
	c->r.first_ns = c->r.last_ns = now;
	c->r.protocol = IPPROTO_TCP;
	fmt_addr(sa, c->r.peer, sizeof(c->r.peer));
	return (int)w->n_conns++;
}

/* ---- UDP stream table: source address + port -> conn -------------------- */

static bool same_peer(const struct sockaddr *a, const struct sockaddr_storage *b)
{
	if (a->sa_family != b->ss_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

	return x->sin6_port == y->sin6_port &&
	       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
}

static uint32_t peer_hash(const struct sockaddr *sa)
{
	const unsigned char *p;
	size_t n;
	uint32_t h = 2166136261u;  /* FNV-1a */
	uint16_t port;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		p = (const void *)&in->sin_addr;
		n = sizeof(in->sin_addr);
		port = in->sin_port;
	} else {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		p = (const void *)&in6->sin6_addr;
		n = sizeof(in6->sin6_addr);
		port = in6->sin6_port;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	h = (h ^ (port & 0xff)) * 16777619u;
	h = (h ^ (port >> 8)) * 16777619u;
	return h;
}

static int hash_grow(struct sink_worker *w)
{
	unsigned cap = w->hash_cap ? w->hash_cap * 2 : 256;
	uint32_t *h = calloc(cap, sizeof(*h));

	if (!h)
		return -ENOMEM;
	for (unsigned i = 0; i < w->n_conns; i++) {
		uint32_t k = peer_hash((const struct sockaddr *)&w->conns[i].peer) & (cap - 1);

		if (!w->conns[i].udp)
			continue;
		while (h[k])
			k = (k + 1) & (cap - 1);
		h[k] = i + 1;
	}
	free(w->hash);
	w->hash = h;
	w->hash_cap = cap;
	return 0;
}

/* The stream of this source. Return: its index, or -1 when there is none yet. */
static int stream_lookup(struct sink_worker *w, const struct sockaddr *sa)
{
	uint32_t k;

	if (!w->hash_cap)
		return -1;
	k = peer_hash(sa) & (w->hash_cap - 1);
	while (w->hash[k]) {
		if (same_peer(sa, &w->conns[w->hash[k] - 1].peer))
			return (int)w->hash[k] - 1;
		k = (k + 1) & (w->hash_cap - 1);
	}
	return -1;
}

/* A new stream for this source. Return: its index or -errno. */
static int stream_new(struct sink_worker *w, const struct sockaddr *sa, socklen_t salen, uint64_t now)
{
	uint32_t k;
	int ci;

	/* Keep the table at most half full. */
	if ((w->n_conns + 1) * 2 > w->hash_cap) {
		int rc = hash_grow(w);

		if (rc)
			return rc;
	}
	ci = conn_new(w, sa, salen, now);
	if (ci < 0)
		return ci;
	w->conns[ci].udp = true;
	w->conns[ci].kind = CONN_PLAIN;
	w->conns[ci].r.protocol = IPPROTO_UDP;
	w->conns[ci].transit = NAN;
	k = peer_hash(sa) & (w->hash_cap - 1);
	while (w->hash[k])
		k = (k + 1) & (w->hash_cap - 1);
	w->hash[k] = (uint32_t)ci + 1;
	return ci;
}

/* iperf3's UDP connect message, written in host byte order by the client: either order. */
static bool is_udp_hello(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v) == IPERF3_UDP_CONNECT_MSG || be32toh(v) == IPERF3_UDP_CONNECT_MSG;
}

/*
 * A UDP stream of an iperf3 test starts here. The reply goes out of the
 * worker's own socket (bound to the sink's port, so it comes from the address
 * and port the client connected to), and the stream's datagrams keep coming
 * to this worker: SO_REUSEPORT hashes a flow to one socket. No socket per
 * stream is needed, so nothing competes with the group for the port.
 */
static bool on_udp_hello(struct sink_worker *w, const struct sockaddr *sa, socklen_t salen, int ci,
			 uint64_t now)
{
	unsigned char reply[4];
	uint32_t v = htole32(IPERF3_UDP_CONNECT_REPLY);
	struct conn *c = ci >= 0 ? &w->conns[ci] : NULL;
	char peer[SINK_ADDRSTRLEN];

	/* The same stream saying hello again (its reply was lost): only reply. */
	if (!c || !c->ip3 || c->got_data) {
		struct ip3_stream *st;

		fmt_addr(sa, peer, sizeof(peer));
		st = sink_ip3_udp_hello(w->s->ip3, peer, w->idx, now);
		if (!st)
			return false;
		if (!c) {
			ci = stream_new(w, sa, salen, now);
			if (ci < 0)
				return false;  /* the test then waits for a stream that never comes */
			c = &w->conns[ci];
		} else {
			/* A source port seen before, now an iperf3 stream: start afresh. */
			memset(&c->r.seq, 0, sizeof(c->r.seq));
			if (c->lat)
				lat_init(c->lat);
			c->r.corrupt_bytes = c->r.corrupt_datagrams = 0;
			c->r.bytes = c->r.omitted_bytes = 0;
			c->r.first_ns = c->r.last_ns = now;
			c->got_data = c->warm_seen = c->meas_seen = false;
		}
		c->kind = CONN_IP3;
		c->ip3 = st;
		c->jitter = 0;
		c->transit = NAN;
	}
	memcpy(reply, &v, sizeof(reply));
	(void)sendto(w->udp_fd, reply, sizeof(reply), MSG_DONTWAIT | MSG_NOSIGNAL, sa, salen);
	return true;
}

/* The wall-clock time of this completion batch (read once): for datagrams without a timestamp. */
static uint64_t batch_rt(struct sink_worker *w)
{
	struct timespec rt;

	if (!w->batch_rt) {
		clock_gettime(CLOCK_REALTIME, &rt);
		w->batch_rt = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
	}
	return w->batch_rt;
}

/*
 * Latency and jitter of one datagram sent at @sec.@usec (its header) that
 * arrived at @arrived (CLOCK_REALTIME ns). The histogram comes with the
 * stream's first datagram; without memory for it the stream has no latency
 * figures (count 0), the rest is counted as ever.
 */
static void udp_time(struct conn *c, uint32_t sec, uint32_t usec, uint64_t arrived)
{
	if (!c->lat) {
		c->lat = malloc(sizeof(*c->lat));
		if (c->lat)
			lat_init(c->lat);
	}
	if (c->lat)
		lat_add(c->lat, sec, usec, arrived);
	iperf3_jitter_update(&c->jitter, &c->transit, (double)sec + (double)usec / 1e6,
			     (double)(arrived / 1000000000ull) + (double)(arrived % 1000000000ull) / 1e9);
}

/*
 * Data of the sender's warm-up (omit): counted apart, in no rate, no loss
 * and no latency. Measured data: the stream's active time starts with the
 * first of it when a warm-up came before (iperf3's streams: always with
 * their first data).
 */
static void warmup_data(struct sink_worker *w, struct conn *c, uint64_t bytes, bool datagram)
{
	c->warm_seen = true;
	c->r.omitted_bytes += bytes;
	w->res.omitted_bytes += bytes;
	w->res.omitted_packets += datagram;
}

static void measured_data(struct conn *c, uint64_t now)
{
	if (!c->meas_seen) {
		c->meas_seen = true;
		if (c->warm_seen || c->ip3)
			c->r.first_ns = now;
	}
	c->r.last_ns = now;
}

/* Payload check of a UDP datagram after its 16-byte header. */
static void udp_verify(struct sink_worker *w, struct conn *c, const unsigned char *p, unsigned inbuf)
{
	uint64_t bad = payload_check(p + GEN_UDP_HDR_LEN, inbuf - GEN_UDP_HDR_LEN, 0);

	c->r.verified = true;
	if (bad) {
		c->r.corrupt_bytes += bad;
		c->r.corrupt_datagrams++;
		w->res.corrupt_bytes += bad;
		w->res.corrupt_datagrams++;
	}
}

static void on_ip3_datagram(struct sink_worker *w, struct conn *c, const void *p, unsigned inbuf,
			    unsigned len, uint64_t now, uint64_t arrived)
{
	bool c64 = atomic_load_explicit(&c->ip3->counters64, memory_order_relaxed);
	uint32_t sec, usec;
	uint64_t seq;

	if (iperf3_udp_parse(p, inbuf, c64, &sec, &usec, &seq) || !(seq & ~UDPSEQ_WARMUP)) {
		w->res.foreign++;
		w->res.foreign_bytes += len;
		return;
	}
	c->got_data = true;
	if (udpseq_add(&c->r.seq, seq) == UDPSEQ_OMITTED) {
		/* a zcgen client's warm-up: not in the counts the client is given */
		warmup_data(w, c, len, true);
		if (w->s->verify && c64 && inbuf >= GEN_UDP_HDR_LEN)
			udp_verify(w, c, p, inbuf);
		return;
	}
	measured_data(c, now);
	c->r.bytes += len;
	w->res.bytes += len;
	w->res.packets++;
	/*
	 * Arrival on the wall clock, as iperf3 does: for the jitter only the
	 * offset to the sender's clock must stay; for the latency it must be 0.
	 * --verify: zcgen's pattern follows a 64-bit header (zcgen's own
	 * header); an iperf3 client's payload is not the pattern.
	 */
	udp_time(c, sec, usec, arrived);
	if (w->s->verify && c64 && inbuf >= GEN_UDP_HDR_LEN)
		udp_verify(w, c, p, inbuf);
	ip3_publish_udp(c->ip3, c->r.bytes, c->r.seq.packets, c->r.seq.highest, c->r.seq.lost,
			c->jitter, c->r.first_ns, now);
	ip3_publish_extra(c->ip3, &c->r.seq, c->r.verified, c->r.corrupt_bytes,
			  c->r.corrupt_datagrams, c->lat);
}

/* One datagram (of a receive that may carry several, GRO), @inbuf of its @len bytes at @p. */
static void on_one(struct sink_worker *w, const struct sockaddr *sa, socklen_t salen,
		   const unsigned char *p, unsigned inbuf, unsigned len, uint64_t now, uint64_t arrived)
{
	uint32_t sec, usec;
	uint64_t seq;
	struct conn *c;
	int ci = stream_lookup(w, sa);

	if (len == 4 && inbuf == 4 && is_udp_hello(p)) {
		if (on_udp_hello(w, sa, salen, ci, now))
			return;
		goto foreign;
	}
	if (ci >= 0 && w->conns[ci].ip3) {
		on_ip3_datagram(w, &w->conns[ci], p, inbuf, len, now, arrived);
		return;
	}
	if (len < GEN_UDP_HDR_LEN || inbuf < GEN_UDP_HDR_LEN)
		goto foreign;
	memcpy(&seq, p + offsetof(struct gen_udp_hdr, seq), sizeof(seq));  /* unaligned */
	seq = be64toh(seq);
	if (!(seq & ~UDPSEQ_WARMUP))
		goto foreign;
	if (ci < 0)
		ci = stream_new(w, sa, salen, now);
	if (ci < 0)
		goto foreign;  /* out of memory for a new stream: keep receiving the others */
	c = &w->conns[ci];
	if (udpseq_add(&c->r.seq, seq) == UDPSEQ_OMITTED) {
		warmup_data(w, c, len, true);
	} else {
		measured_data(c, now);
		c->r.bytes += len;
		w->res.bytes += len;
		w->res.packets++;
		memcpy(&sec, p + offsetof(struct gen_udp_hdr, sec), sizeof(sec));
		memcpy(&usec, p + offsetof(struct gen_udp_hdr, usec), sizeof(usec));
		udp_time(c, be32toh(sec), be32toh(usec), arrived);
	}
	if (w->s->verify)
		udp_verify(w, c, p, inbuf);
	return;
foreign:
	w->res.foreign++;
	w->res.foreign_bytes += len;
}

/*
 * One receive. Its control messages: the kernel's receive timestamp
 * (SO_TIMESTAMPNS; else the batch's clock reading) and, with --gro, the
 * segment size of a coalesced receive (UDP_GRO): the datagrams in it are
 * then split and each counted as if it had come alone. They share the
 * one timestamp the coalesced packet got.
 */
static void on_datagram(struct sink_worker *w, void *buf, int len, uint64_t now)
{
	struct io_uring_recvmsg_out *o = io_uring_recvmsg_validate(buf, len, &w->msg);
	const struct sockaddr *sa;
	const unsigned char *p;
	struct cmsghdr *cm;
	uint64_t arrived = 0;
	unsigned inbuf, seg = 0, n;
	socklen_t salen;
	union {
		struct cmsghdr align;
		unsigned char b[256];
	} cbuf;
	struct msghdr mh = { 0 };
	size_t clen;

	if (!o)
		return;
	if (o->flags & MSG_TRUNC)
		w->res.truncated++;
	inbuf = io_uring_recvmsg_payload_length(o, len, &w->msg);
	p = io_uring_recvmsg_payload(o, &w->msg);
	sa = io_uring_recvmsg_name(o);
	salen = o->namelen < w->msg.msg_namelen ? o->namelen : w->msg.msg_namelen;
	/*
	 * The control messages follow the name in the ring's buffer, at an
	 * offset that need not suit struct cmsghdr (8-byte fields): walk an
	 * aligned copy of them.
	 */
	clen = o->controllen < sizeof(cbuf) ? o->controllen : sizeof(cbuf);
	memcpy(cbuf.b, (const unsigned char *)(o + 1) + w->msg.msg_namelen, clen);
	mh.msg_control = cbuf.b;
	mh.msg_controllen = clen;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			arrived = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		} else if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
			int v;

			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			seg = v > 0 ? (unsigned)v : 0;
		}
	}
	n = gro_count(o->payloadlen, seg);
	if (arrived) {
		w->res.ts_kernel += n;
	} else {
		arrived = batch_rt(w);
		w->res.ts_user += n;
	}
	if (n > 1)
		w->res.gro_receives++;
	for (unsigned k = 0; k < n; k++) {
		unsigned off, slen, in;

		gro_seg(o->payloadlen, inbuf, seg, k, &off, &slen, &in);
		on_one(w, sa, salen, p + off, in, slen, now, arrived);
	}
}

/* ---- TCP ------------------------------------------------------------- */

static int on_accept(struct sink_worker *w, struct io_uring_cqe *cqe, uint64_t now)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	int fd = cqe->res, ci, rc = 0;

	if (fd >= 0) {
		if (getpeername(fd, (struct sockaddr *)&peer, &plen)) {
			/* Gone already (reset before we looked): nothing to count. */
			close(fd);
		} else if ((ci = conn_new(w, (struct sockaddr *)&peer, plen, now)) < 0) {
			close(fd);
		} else {
			w->conns[ci].fd = fd;
			w->conns[ci].kind = CONN_PENDING;
			rc = arm_poll(w, (unsigned)ci);
		}
	} else if (fd != -ECONNABORTED && fd != -EMFILE && fd != -ENFILE &&
		   fd != -ENOBUFS && fd != -ENOMEM && fd != -EINTR) {
		return fd;  /* not transient: re-arming would spin */
	}
	if (!rc && !(cqe->flags & IORING_CQE_F_MORE))
		rc = arm_accept(w);
	return rc;
}

/* Could these first @n bytes still become an iperf3 cookie? */
static bool cookie_prefix(const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n && i < IPERF3_COOKIE_LEN - 1; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '2' && b[i] <= '7')))
			return false;
	return n < IPERF3_COOKIE_LEN || b[IPERF3_COOKIE_LEN - 1] == '\0';
}

static void set_lowat(struct conn *c, int v)
{
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v));
	c->lowat = v > 1;
}

static int go_plain(struct sink_worker *w, unsigned ci)
{
	struct conn *c = &w->conns[ci];

	if (c->lowat)
		set_lowat(c, 1);
	c->kind = CONN_PLAIN;
	c->r.verified = w->s->verify;
	w->res.connections++;
	return arm_recv(w, ci);
}

/* Take the cookie out of the socket (it is there: it was peeked). */
static void eat_cookie(int fd)
{
	char cookie[IPERF3_COOKIE_LEN];

	(void)recv(fd, cookie, sizeof(cookie), MSG_DONTWAIT);
}

static int on_cookie(struct sink_worker *w, unsigned ci, const unsigned char *cookie,
		     uint64_t arrived_ns)
{
	struct conn *c = &w->conns[ci];
	struct ip3_stream *st;
	enum ip3_verdict v;

	/* Before anyone else reads it: a lowat of 37 would stall 1-byte control reads. */
	if (c->lowat)
		set_lowat(c, 1);
	v = sink_ip3_tcp(w->s->ip3, (const char *)cookie, c->fd, c->r.peer, w->idx, arrived_ns, &st);
	switch (v) {
	case IP3_STREAM:
		eat_cookie(c->fd);
		c->kind = CONN_IP3;
		c->ip3 = st;
		return arm_recv(w, ci);
	case IP3_CONTROL:
		c->fd = -1;   /* the control thread's now */
		c->kind = CONN_GONE;
		return 0;
	case IP3_DENY:
	default:
		/* As iperf3 does: read the cookie, say ACCESS_DENIED, close (cleanly: nothing unread). */
		eat_cookie(c->fd);
		iperf3_server_deny(c->fd);
		close(c->fd);
		c->fd = -1;
		c->kind = CONN_GONE;
		w->res.iperf3_denied++;
		return 0;
	}
}

/*
 * A new connection has data, or ended. Its first bytes are only peeked: a
 * plain stream is then received exactly as if they had never been looked
 * at. Zcgen's own streams start with byte 0 (gen/payload.h), so they are
 * told apart at the first byte. A connection whose bytes so far could still
 * be a cookie waits (SO_RCVLOWAT 37: no wake-up per byte) for the 37th.
 */
/* Peek at the first bytes; *@arrived_ns: when the last of them arrived (CLOCK_REALTIME). */
static ssize_t peek(int fd, unsigned char *buf, size_t len, uint64_t *arrived_ns)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} cb;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.buf,
			    .msg_controllen = sizeof(cb.buf) };
	struct cmsghdr *cm;
	struct timespec ts;
	ssize_t n = recvmsg(fd, &m, MSG_PEEK | MSG_DONTWAIT);

	clock_gettime(CLOCK_REALTIME, &ts);
	for (cm = CMSG_FIRSTHDR(&m); n > 0 && cm; cm = CMSG_NXTHDR(&m, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS)
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
	*arrived_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return n;
}

static int on_poll(struct sink_worker *w, unsigned ci, struct io_uring_cqe *cqe)
{
	unsigned char buf[IPERF3_COOKIE_LEN];
	uint64_t arrived;
	struct conn *c;
	bool ended;
	ssize_t n;

	if (ci >= w->n_conns || w->conns[ci].fd < 0 || w->conns[ci].kind != CONN_PENDING)
		return 0;
	c = &w->conns[ci];
	ended = cqe->res < 0 || (cqe->res & (POLLRDHUP | POLLHUP | POLLERR));
	n = peek(c->fd, buf, sizeof(buf), &arrived);
	if (n < 0 && (errno == EAGAIN || errno == EINTR) && !ended)
		return arm_poll(w, ci);
	if (n > 0 && cookie_prefix(buf, (size_t)n)) {
		/*
		 * The cookie's arrival time, taken by the kernel, orders the
		 * streams of a test: the client writes one stream's cookie
		 * before it connects the next, but two workers may look at
		 * their connections in either order.
		 */
		if (n == IPERF3_COOKIE_LEN)
			return on_cookie(w, ci, buf, arrived);
		if (!ended) {
			if (!c->lowat)
				set_lowat(c, IPERF3_COOKIE_LEN);
			return arm_poll(w, ci);
		}
	}
	/* Not a cookie, too short and ended, or an error: recv counts it or reports it. */
	return go_plain(w, ci);
}

static int on_recv(struct sink_worker *w, unsigned ci, struct io_uring_cqe *cqe, uint64_t now)
{
	struct conn *c;
	int res = cqe->res;

	if (ci >= w->n_conns || w->conns[ci].fd < 0)
		return 0;
	c = &w->conns[ci];
	if (res > 0) {
		/* a discarding receive's buffer was never written (arm_recv): no bytes to look at */
		bool discarded = (w->s->tcp_flags & MSG_TRUNC) && c->win.state == TCPWIN_MEASURED;
		const uint8_t *buf = (cqe->flags & IORING_CQE_F_BUFFER) ? bufring_get(&w->tcp, cqe) : NULL;
		/* a zcgen sender's warm-up: the first bytes, in the shifted pattern */
		size_t warm = buf && !discarded ? tcpwin_add(&c->win, buf, (size_t)res, c->offset) : 0;
		uint64_t meas = (uint64_t)res - warm;

		if (warm)
			warmup_data(w, c, warm, false);
		if (meas) {
			measured_data(c, now);
			c->r.bytes += meas;
			w->res.bytes += meas;
		}
		c->got_data = true;
		if (c->ip3) {
			if (meas)
				ip3_publish_tcp(c->ip3, c->r.bytes, c->r.first_ns, now);
		} else if (w->s->verify && buf) {
			uint64_t bad = payload_check(buf, warm, c->offset + PAYLOAD_WARMUP_SHIFT) +
				       payload_check(buf + warm, meas, c->offset + warm);

			c->r.corrupt_bytes += bad;
			w->res.corrupt_bytes += bad;
		}
		c->offset += (uint64_t)res;
		if (!(cqe->flags & IORING_CQE_F_MORE))
			return arm_recv(w, ci);
		return 0;
	}
	if (res == -ENOBUFS) {
		/* Buffers come back at the end of this batch, before the next submit. */
		w->res.nobufs++;
		return (cqe->flags & IORING_CQE_F_MORE) ? 0 : arm_recv(w, ci);
	}
	if (cqe->flags & IORING_CQE_F_MORE)
		return 0;
	if (res == 0) {
		c->r.end = 1;  /* orderly close by the peer */
	} else {
		c->r.end = res;
		w->res.resets++;
	}
	close(c->fd);
	c->fd = -1;
	return 0;
}

static int on_recvmsg(struct sink_worker *w, struct io_uring_cqe *cqe, uint64_t now)
{
	if (cqe->res > 0 && (cqe->flags & IORING_CQE_F_BUFFER))
		on_datagram(w, bufring_get(&w->udp, cqe), cqe->res, now);
	else if (cqe->res == -ENOBUFS)
		w->res.nobufs++;
	else if (cqe->res < 0 && !(cqe->flags & IORING_CQE_F_MORE) &&
		 cqe->res != -EINTR && cqe->res != -ENOMEM)
		return cqe->res;
	if (!(cqe->flags & IORING_CQE_F_MORE))
		return arm_recvmsg(w);
	return 0;
}

static void *worker_main(void *arg)
{
	struct sink_worker *w = arg;
	struct sink *s = w->s;
	struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = WAIT_NS };
	int rc = ring_setup(w);

	pthread_mutex_lock(&s->lock);
	s->n_ready++;
	if (rc && !s->first_err)
		s->first_err = rc;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (rc) {
		w->res.err = rc;
		return NULL;
	}

	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		struct io_uring_cqe *cqe;
		unsigned head, ncqe = 0;
		uint64_t now;

		rc = io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1, &ts, NULL);
		if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
			w->res.err = rc;
			break;
		}
		now = now_ns();
		w->batch_rt = 0;
		rc = 0;
		io_uring_for_each_cqe(&w->ring, head, cqe) {
			uint64_t ud = io_uring_cqe_get_data64(cqe);
			unsigned type = (unsigned)(ud >> 32), idx = (unsigned)ud;

			ncqe++;
			switch (type) {
			case UD_ACCEPT:
				rc = on_accept(w, cqe, now);
				break;
			case UD_POLL:
				rc = on_poll(w, idx, cqe);
				break;
			case UD_RECV:
				rc = on_recv(w, idx, cqe, now);
				break;
			case UD_RECVMSG:
				rc = on_recvmsg(w, cqe, now);
				break;
			}
			/* Every buffer the kernel filled goes straight back to its ring. */
			if (cqe->flags & IORING_CQE_F_BUFFER)
				bufring_put(type == UD_RECVMSG ? &w->udp : &w->tcp, cqe);
			if (rc)
				break;
		}
		bufring_flush(&w->tcp);
		bufring_flush(&w->udp);
		io_uring_cq_advance(&w->ring, ncqe);
		atomic_store_explicit(&w->live_bytes, w->res.bytes, memory_order_relaxed);
		atomic_store_explicit(&w->live_omitted, w->res.omitted_bytes, memory_order_relaxed);
		if (rc) {
			w->res.err = rc;
			break;
		}
	}
	return NULL;
}

/* ---- start / stop ------------------------------------------------------- */

int sink_start(struct sink *s)
{
	cpu_set_t allowed;
	unsigned cpus[CPU_SETSIZE], ncpu = 0, i;
	int rc = 0;

	if (!sched_getaffinity(0, sizeof(allowed), &allowed))
		for (i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &allowed))
				cpus[ncpu++] = i;

	s->start_ns = now_ns();
	/* The control thread first: a control connection may come with the first accept. */
	rc = sink_ip3_start(s->ip3);
	if (rc)
		return rc;
	for (i = 0; i < s->n; i++) {
		struct sink_worker *w = s->w[i];
		pthread_attr_t attr;

		pthread_attr_init(&attr);
		if (ncpu >= s->n) {
			cpu_set_t one;

			CPU_ZERO(&one);
			CPU_SET(cpus[i], &one);
			if (!pthread_attr_setaffinity_np(&attr, sizeof(one), &one))
				w->cpu = w->res.cpu = (int)cpus[i];
		}
		rc = -pthread_create(&w->thread, &attr, worker_main, w);
		pthread_attr_destroy(&attr);
		if (rc)
			break;
		w->thread_ok = true;
	}

	pthread_mutex_lock(&s->lock);
	while (s->n_ready < i)
		pthread_cond_wait(&s->cond, &s->lock);
	if (!rc)
		rc = s->first_err;
	pthread_mutex_unlock(&s->lock);

	if (rc) {
		sink_ip3_stop(s->ip3);
		atomic_store(&s->stop, true);
		for (i = 0; i < s->n; i++)
			if (s->w[i]->thread_ok) {
				pthread_join(s->w[i]->thread, NULL);
				s->w[i]->thread_ok = false;
			}
	}
	return rc;
}

void sink_sample(const struct sink *s, uint64_t *bytes, uint64_t *omitted)
{
	for (unsigned i = 0; i < s->n; i++) {
		bytes[i] = atomic_load_explicit(&s->w[i]->live_bytes, memory_order_relaxed);
		if (omitted)
			omitted[i] = atomic_load_explicit(&s->w[i]->live_omitted, memory_order_relaxed);
	}
}

/*
 * Ring and buffers go first (cancelling the multishot requests), then the
 * connections. One still waiting to be told apart (fewer than 37 bytes, all
 * of them cookie characters) is a plain one after all: what it sent counts.
 */
static void worker_teardown(struct sink_worker *w)
{
	if (w->ring_ok) {
		io_uring_queue_exit(&w->ring);
		w->ring_ok = false;
	}
	bufring_free(&w->tcp);
	bufring_free(&w->udp);
	for (unsigned i = 0; i < w->n_conns; i++) {
		struct conn *c = &w->conns[i];
		int queued = 0;

		if (c->fd < 0)
			continue;
		if (c->kind == CONN_PENDING) {
			c->kind = CONN_PLAIN;
			w->res.connections++;
			if (!ioctl(c->fd, FIONREAD, &queued) && queued > 0) {
				c->r.bytes += (uint64_t)queued;
				w->res.bytes += (uint64_t)queued;
			}
		}
		close(c->fd);
		c->fd = -1;
	}
}

static void stream_out(const struct conn *c, struct sink_stream_result *r)
{
	*r = c->r;
	if (c->ip3) {
		r->iperf3_test = c->ip3->test_n;
		r->iperf3_id = c->ip3->out.id;
	}
	if (c->udp) {
		r->jitter_s = c->jitter;
		lat_summarize(c->lat ? &c->lat->h : NULL, c->lat ? c->lat->negative : 0, &r->lat);
	}
}

/* Latency over all UDP streams (histograms merged) and their mean jitter. */
static int total_latency(struct sink *s, struct sink_result *res)
{
	struct lat_acct *all = malloc(sizeof(*all));
	unsigned n = 0;
	double jit = 0;

	if (!all)
		return -ENOMEM;
	lat_init(all);
	for (unsigned i = 0; i < s->n; i++)
		for (unsigned k = 0; k < s->w[i]->n_conns; k++) {
			const struct conn *c = &s->w[i]->conns[k];

			if (!c->udp || c->kind == CONN_GONE || !c->r.seq.packets)
				continue;
			if (c->lat)
				lat_merge(all, c->lat);
			jit += c->jitter;
			n++;
		}
	lat_summarize(&all->h, all->negative, &res->lat);
	res->jitter_s = n ? jit / n : 0;
	free(all);
	return 0;
}

int sink_stop(struct sink *s, struct sink_result *res)
{
	unsigned i, n_streams = 0, k = 0;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	/* A test in progress ends first (its control connection is shut down). */
	sink_ip3_stop(s->ip3);
	atomic_store(&s->stop, true);
	for (i = 0; i < s->n; i++)
		if (s->w[i]->thread_ok) {
			pthread_join(s->w[i]->thread, NULL);
			s->w[i]->thread_ok = false;
		}
	s->stop_ns = now_ns();
	for (i = 0; i < s->n; i++) {
		worker_teardown(s->w[i]);
		n_streams += s->w[i]->n_conns;
		if (!rc)
			rc = s->w[i]->res.err;
	}

	res->start_ns = s->start_ns;
	res->stop_ns = s->stop_ns;
	res->workers = calloc(s->n, sizeof(*res->workers));
	res->streams = calloc(n_streams ? n_streams : 1, sizeof(*res->streams));
	if (!res->workers || !res->streams || total_latency(s, res) ||
	    sink_ip3_results(s->ip3, &res->tests, &res->n_tests)) {
		sink_result_free(res);
		return -ENOMEM;
	}
	res->n_workers = s->n;
	for (i = 0; i < s->n; i++) {
		struct sink_worker *w = s->w[i];

		res->workers[i] = w->res;
		for (unsigned c = 0; c < w->n_conns; c++)
			if (w->conns[c].kind != CONN_GONE)
				stream_out(&w->conns[c], &res->streams[k++]);
	}
	res->n_streams = k;
	return rc;
}

void sink_result_free(struct sink_result *res)
{
	free(res->workers);
	free(res->streams);
	for (unsigned i = 0; i < res->n_tests; i++)
		free(res->tests[i].streams);
	free(res->tests);
	memset(res, 0, sizeof(*res));
}

void sink_close(struct sink *s)
{
	if (!s)
		return;
	sink_ip3_stop(s->ip3);
	atomic_store(&s->stop, true);
	for (unsigned i = 0; i < s->n; i++) {
		struct sink_worker *w = s->w[i];

		if (w->thread_ok)
			pthread_join(w->thread, NULL);
		worker_teardown(w);
		if (w->tcp_fd >= 0)
			close(w->tcp_fd);
		if (w->udp_fd >= 0)
			close(w->udp_fd);
		for (unsigned k = 0; k < w->n_conns; k++)
			free(w->conns[k].lat);
		free(w->conns);
		free(w->hash);
		free(w);
	}
	sink_ip3_free(s->ip3);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}
