/* sink.c - the receiving side: per-worker io_uring, multishot accept/recv, UDP sequence checks */
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
#include "gen/compat.h"
#include "gen/gen.h"
#include "gen/sink.h"

/*
 * Receive buffers: one provided-buffer ring per worker (buffer group 0).
 * TCP takes large buffers, one CQE per 64 KiB at most; UDP takes one buffer
 * per datagram, so many small ones. A UDP buffer holds the recvmsg header,
 * the source address and as much payload as fits: only the first 16 bytes
 * matter, and MSG_TRUNC makes the kernel report the full length anyway.
 */
#define TCP_BUF_SIZE   (64u * 1024)
#define TCP_BUF_COUNT  128u
#define UDP_BUF_SIZE   2048u
#define UDP_BUF_COUNT  2048u
#define SINK_BGID      0
#define RING_SQ        256u
#define RING_CQ        8192u   /* multishot posts many CQEs per SQE */
#define WAIT_NS        (100 * 1000 * 1000ull)  /* how often a worker looks at the stop flag */
#define UDP_RCVBUF     (8 * 1024 * 1024)

enum { UD_ACCEPT = 1, UD_RECV = 2, UD_RECVMSG = 3 };
#define UD(type, idx) (((uint64_t)(type) << 32) | (uint32_t)(idx))

/* A TCP connection or a UDP stream, private to its worker. */
struct conn {
	struct sockaddr_storage peer;
	socklen_t peerlen;
	int fd;                   /* TCP, -1 once closed */
	struct sink_stream_result r;
};

struct sink_worker {
	/* Read by the sampler: the only field another thread touches while running. */
	_Atomic uint64_t live_bytes;
	char pad[64 - sizeof(uint64_t)];

	struct sink *s;
	unsigned idx;
	int cpu;
	int fd;                   /* listening (TCP) or bound (UDP) socket */
	pthread_t thread;
	bool thread_ok;

	struct io_uring ring;
	bool ring_ok;
	struct io_uring_buf_ring *br;
	size_t br_len;
	unsigned char *bufs;
	size_t bufs_len;
	unsigned nbufs, bufsize;
	bool br_registered;
	struct msghdr msg;        /* UDP: shape of the recvmsg output (name length) */

	struct conn *conns;
	unsigned n_conns, cap_conns;
	uint32_t *hash;           /* UDP: conn index + 1, 0 = empty; open addressing */
	unsigned hash_cap;

	struct sink_worker_result res;
} __attribute__((aligned(64)));

struct sink {
	int protocol;
	unsigned n;
	struct sockaddr_storage local;
	socklen_t locallen;
	struct sink_worker *w[SINK_MAX_WORKERS];
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
	*out = fd;
	return 0;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

int sink_open(const struct sink_cfg *cfg, struct sink **out)
{
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	struct sink *s;
	int rc, probe;
	unsigned i;

	if (!cfg || !cfg->workers || cfg->workers > SINK_MAX_WORKERS ||
	    (cfg->protocol != IPPROTO_TCP && cfg->protocol != IPPROTO_UDP))
		return -EINVAL;
	rc = resolve(cfg->host, cfg->protocol, &ss, &sslen);
	if (rc)
		return rc;
	set_port(&ss, cfg->port);

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->protocol = cfg->protocol;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	atomic_init(&s->stop, false);

	/* Probe: fails with EADDRINUSE if anyone holds the port; with port 0 it picks one. */
	rc = open_socket(cfg->protocol, &ss, sslen, false, &probe);
	if (rc)
		goto fail;
	s->locallen = sizeof(s->local);
	if (getsockname(probe, (struct sockaddr *)&s->local, &s->locallen)) {
		rc = -errno;
		close(probe);
		goto fail;
	}
	close(probe);

	for (i = 0; i < cfg->workers; i++) {
		struct sink_worker *w = aligned_alloc(64, sizeof(*w));

		if (!w) {
			rc = -ENOMEM;
			goto fail;
		}
		memset(w, 0, sizeof(*w));
		w->fd = -1;
		w->s = s;
		w->idx = i;
		w->cpu = -1;
		w->res.worker = i;
		w->res.cpu = -1;
		atomic_init(&w->live_bytes, 0);
		s->w[i] = w;
		s->n = i + 1;
		rc = open_socket(cfg->protocol, &s->local, s->locallen, true, &w->fd);
		if (rc)
			goto fail;
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
	io_uring_prep_multishot_accept(sqe, w->fd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, UD(UD_ACCEPT, 0));
	return 0;
}

static int arm_recv(struct sink_worker *w, unsigned ci)
{
	struct io_uring_sqe *sqe = get_sqe(w);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_recv_multishot(sqe, w->conns[ci].fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = SINK_BGID;
	io_uring_sqe_set_data64(sqe, UD(UD_RECV, ci));
	return 0;
}

static int arm_recvmsg(struct sink_worker *w)
{
	struct io_uring_sqe *sqe = get_sqe(w);

	if (!sqe)
		return -EBUSY;
	/* MSG_TRUNC: the recvmsg_out payloadlen is the datagram's real length. */
	io_uring_prep_recvmsg_multishot(sqe, w->fd, &w->msg, MSG_TRUNC);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = SINK_BGID;
	io_uring_sqe_set_data64(sqe, UD(UD_RECVMSG, 0));
	return 0;
}

static int ring_setup(struct sink_worker *w)
{
	static const unsigned flag_sets[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_COOP_TASKRUN,
		0,
	};
	struct io_uring_params p;
	struct io_uring_buf_reg reg;
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

	w->nbufs = w->s->protocol == IPPROTO_TCP ? TCP_BUF_COUNT : UDP_BUF_COUNT;
	w->bufsize = w->s->protocol == IPPROTO_TCP ? TCP_BUF_SIZE : UDP_BUF_SIZE;
	/* liburing 2.3 has no io_uring_setup_buf_ring(): map and register it ourselves. */
	w->br_len = w->nbufs * sizeof(struct io_uring_buf);
	w->br = mmap(NULL, w->br_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w->br == MAP_FAILED) {
		w->br = NULL;
		return -errno;
	}
	w->bufs_len = (size_t)w->nbufs * w->bufsize;
	w->bufs = mmap(NULL, w->bufs_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w->bufs == MAP_FAILED) {
		w->bufs = NULL;
		return -errno;
	}
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uintptr_t)w->br;
	reg.ring_entries = w->nbufs;
	reg.bgid = SINK_BGID;
	rc = io_uring_register_buf_ring(&w->ring, &reg, 0);
	if (rc)
		return rc;
	w->br_registered = true;
	io_uring_buf_ring_init(w->br);
	for (i = 0; i < w->nbufs; i++)
		io_uring_buf_ring_add(w->br, w->bufs + (size_t)i * w->bufsize, w->bufsize, (unsigned short)i,
				      io_uring_buf_ring_mask(w->nbufs), (int)i);
	io_uring_buf_ring_advance(w->br, (int)w->nbufs);

	if (w->s->protocol == IPPROTO_TCP)
		rc = arm_accept(w);
	else {
		/* Room for an IPv6 source address; no control messages. */
		memset(&w->msg, 0, sizeof(w->msg));
		w->msg.msg_namelen = sizeof(struct sockaddr_in6);
		rc = arm_recvmsg(w);
	}
	if (rc)
		return rc;
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

		while (h[k])
			k = (k + 1) & (cap - 1);
		h[k] = i + 1;
	}
	free(w->hash);
	w->hash = h;
	w->hash_cap = cap;
	return 0;
}

/* The stream of this source, created on its first datagram. Return: index or -errno. */
static int stream_find(struct sink_worker *w, const struct sockaddr *sa, socklen_t salen, uint64_t now)
{
	uint32_t k;
	int ci;

	if (w->hash_cap) {
		k = peer_hash(sa) & (w->hash_cap - 1);
		while (w->hash[k]) {
			if (same_peer(sa, &w->conns[w->hash[k] - 1].peer))
				return (int)w->hash[k] - 1;
			k = (k + 1) & (w->hash_cap - 1);
		}
	}
	/* Keep the table at most half full. */
	if ((w->n_conns + 1) * 2 > w->hash_cap) {
		int rc = hash_grow(w);

		if (rc)
			return rc;
	}
	ci = conn_new(w, sa, salen, now);
	if (ci < 0)
		return ci;
	k = peer_hash(sa) & (w->hash_cap - 1);
	while (w->hash[k])
		k = (k + 1) & (w->hash_cap - 1);
	w->hash[k] = (uint32_t)ci + 1;
	return ci;
}

static void on_datagram(struct sink_worker *w, void *buf, int len, uint64_t now)
{
	struct io_uring_recvmsg_out *o = io_uring_recvmsg_validate(buf, len, &w->msg);
	const struct gen_udp_hdr *h;
	unsigned inbuf;
	uint64_t seq;
	int ci;

	if (!o)
		return;
	if (o->flags & MSG_TRUNC)
		w->res.truncated++;
	inbuf = io_uring_recvmsg_payload_length(o, len, &w->msg);
	if (o->payloadlen < GEN_UDP_HDR_LEN || inbuf < GEN_UDP_HDR_LEN)
		goto foreign;
	h = io_uring_recvmsg_payload(o, &w->msg);
	memcpy(&seq, &h->seq, sizeof(seq));  /* the payload follows the name: unaligned */
	seq = be64toh(seq);
	if (!seq)
		goto foreign;
	ci = stream_find(w, io_uring_recvmsg_name(o),
			 o->namelen < w->msg.msg_namelen ? o->namelen : w->msg.msg_namelen, now);
	if (ci < 0)
		goto foreign;  /* out of memory for a new stream: keep receiving the others */
	udpseq_add(&w->conns[ci].r.seq, seq);
	w->conns[ci].r.bytes += o->payloadlen;
	w->conns[ci].r.last_ns = now;
	w->res.bytes += o->payloadlen;
	w->res.packets++;
	return;
foreign:
	w->res.foreign++;
	w->res.foreign_bytes += o->payloadlen;
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
			w->res.connections++;
			rc = arm_recv(w, (unsigned)ci);
		}
	} else if (fd != -ECONNABORTED && fd != -EMFILE && fd != -ENFILE &&
		   fd != -ENOBUFS && fd != -ENOMEM && fd != -EINTR) {
		return fd;  /* not transient: re-arming would spin */
	}
	if (!rc && !(cqe->flags & IORING_CQE_F_MORE))
		rc = arm_accept(w);
	return rc;
}

static int on_recv(struct sink_worker *w, unsigned ci, struct io_uring_cqe *cqe, uint64_t now)
{
	struct conn *c;
	int res = cqe->res;

	if (ci >= w->n_conns || w->conns[ci].fd < 0)
		return 0;
	c = &w->conns[ci];
	if (res > 0) {
		c->r.bytes += (uint64_t)res;
		c->r.last_ns = now;
		w->res.bytes += (uint64_t)res;
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
		unsigned head, ncqe = 0, nbuf = 0;
		uint64_t now;

		rc = io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1, &ts, NULL);
		if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
			w->res.err = rc;
			break;
		}
		now = now_ns();
		rc = 0;
		io_uring_for_each_cqe(&w->ring, head, cqe) {
			uint64_t ud = io_uring_cqe_get_data64(cqe);
			unsigned type = (unsigned)(ud >> 32), idx = (unsigned)ud;

			ncqe++;
			if (type == UD_ACCEPT)
				rc = on_accept(w, cqe, now);
			else if (type == UD_RECV)
				rc = on_recv(w, idx, cqe, now);
			else if (type == UD_RECVMSG) {
				if (cqe->res > 0 && (cqe->flags & IORING_CQE_F_BUFFER)) {
					unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;

					on_datagram(w, w->bufs + (size_t)bid * w->bufsize, cqe->res, now);
				} else if (cqe->res == -ENOBUFS) {
					w->res.nobufs++;
				} else if (cqe->res < 0 && !(cqe->flags & IORING_CQE_F_MORE) &&
					   cqe->res != -EINTR && cqe->res != -ENOMEM) {
					rc = cqe->res;
				}
				if (!rc && !(cqe->flags & IORING_CQE_F_MORE))
					rc = arm_recvmsg(w);
			}
			/* Every buffer the kernel filled goes straight back to the ring. */
			if (cqe->flags & IORING_CQE_F_BUFFER) {
				unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;

				io_uring_buf_ring_add(w->br, w->bufs + (size_t)bid * w->bufsize, w->bufsize,
						      (unsigned short)bid, io_uring_buf_ring_mask(w->nbufs),
						      (int)nbuf);
				nbuf++;
			}
			if (rc)
				break;
		}
		if (nbuf)
			io_uring_buf_ring_advance(w->br, (int)nbuf);
		io_uring_cq_advance(&w->ring, ncqe);
		atomic_store_explicit(&w->live_bytes, w->res.bytes, memory_order_relaxed);
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
		atomic_store(&s->stop, true);
		for (i = 0; i < s->n; i++)
			if (s->w[i]->thread_ok) {
				pthread_join(s->w[i]->thread, NULL);
				s->w[i]->thread_ok = false;
			}
	}
	return rc;
}

void sink_sample(const struct sink *s, uint64_t *bytes)
{
	for (unsigned i = 0; i < s->n; i++)
		bytes[i] = atomic_load_explicit(&s->w[i]->live_bytes, memory_order_relaxed);
}

/* Ring and buffers go first (cancelling the multishot requests), then the connections. */
static void worker_teardown(struct sink_worker *w)
{
	if (w->ring_ok) {
		io_uring_queue_exit(&w->ring);
		w->ring_ok = false;
	}
	if (w->br) {
		munmap(w->br, w->br_len);
		w->br = NULL;
	}
	if (w->bufs) {
		munmap(w->bufs, w->bufs_len);
		w->bufs = NULL;
	}
	for (unsigned i = 0; i < w->n_conns; i++)
		if (w->conns[i].fd >= 0) {
			close(w->conns[i].fd);
			w->conns[i].fd = -1;
		}
}

int sink_stop(struct sink *s, struct sink_result *res)
{
	unsigned i, n_streams = 0, k = 0;
	int rc = 0;

	memset(res, 0, sizeof(*res));
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
	if (!res->workers || !res->streams) {
		sink_result_free(res);
		return -ENOMEM;
	}
	res->n_workers = s->n;
	for (i = 0; i < s->n; i++) {
		struct sink_worker *w = s->w[i];

		res->workers[i] = w->res;
		for (unsigned c = 0; c < w->n_conns; c++)
			res->streams[k++] = w->conns[c].r;
	}
	res->n_streams = k;
	return rc;
}

void sink_result_free(struct sink_result *res)
{
	free(res->workers);
	free(res->streams);
	memset(res, 0, sizeof(*res));
}

void sink_close(struct sink *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	for (unsigned i = 0; i < s->n; i++) {
		struct sink_worker *w = s->w[i];

		if (w->thread_ok)
			pthread_join(w->thread, NULL);
		worker_teardown(w);
		if (w->fd >= 0)
			close(w->fd);
		free(w->conns);
		free(w->hash);
		free(w);
	}
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}
