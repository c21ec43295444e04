/* engine.c - the TX engine: one pinned worker with its own io_uring per queue */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "gen/calib.h"
#include "gen/compat.h"
#include "gen/engine.h"
#include "gen/slots.h"

#define DRAIN_TIMEOUT_NS (3ULL * 1000000000ULL)
#define LINGER_WAIT_NS (1ULL * 1000000000ULL)
#define WAIT_TICK_NS (100ULL * 1000000ULL)

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- planning ---- */

static unsigned pow2_at_least(unsigned v)
{
	unsigned p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static int allowed_cpus(unsigned *cpus, unsigned max, unsigned *n)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -errno;
	*n = 0;
	for (unsigned c = 0; c < CPU_SETSIZE && *n < max; c++)
		if (CPU_ISSET(c, &set))
			cpus[(*n)++] = c;
	return *n ? 0 : -ENOENT;
}

/* The route's MTU towards @dest, from a connected UDP socket. */
static int route_mtu(const struct sockaddr_storage *dest, socklen_t len, uint64_t *mtu)
{
	int fd = socket(dest->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int v = 0, ret = 0;
	socklen_t vl = sizeof(v);

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)dest, len) ||
	    getsockopt(fd, dest->ss_family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
		       dest->ss_family == AF_INET6 ? IPV6_MTU : IP_MTU, &v, &vl))
		ret = -errno;
	else
		*mtu = (uint64_t)v;
	close(fd);
	return ret;
}

static void format_dest(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	}
}

int engine_plan(const struct gen_profile *prof, struct engine_plan *plan, char *err, size_t errlen)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char port[8];
	unsigned cpus[GEN_MAX_CPUS], ncpus = 0;
	int ret;

	memset(plan, 0, sizeof(*plan));
	plan->prof = *prof;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = prof->proto == GEN_PROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	snprintf(port, sizeof(port), "%u", prof->port);
	ret = getaddrinfo(prof->host, port, &hints, &ai);
	if (ret) {
		snprintf(err, errlen, "cannot resolve %s: %s", prof->host, gai_strerror(ret));
		return -ENOENT;
	}
	memcpy(&plan->dest, ai->ai_addr, ai->ai_addrlen);
	plan->destlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	format_dest(&plan->dest, plan->dest_str, sizeof(plan->dest_str));

	if (prof->n_cpus) {
		ncpus = prof->n_cpus;
		memcpy(cpus, prof->cpus, ncpus * sizeof(cpus[0]));
	} else if ((ret = allowed_cpus(cpus, GEN_MAX_CPUS, &ncpus))) {
		snprintf(err, errlen, "cannot read the CPUs this process may use: %s", strerror(-ret));
		return ret;
	}
	plan->nq = prof->queues;
	plan->cpus_wrapped = plan->nq > ncpus;
	for (unsigned i = 0; i < plan->nq; i++) {
		plan->q[i].queue = i;
		plan->q[i].cpu = cpus[i % ncpus];
		plan->q[i].streams = prof->streams;
	}

	plan->msg_size = prof->size;
	if (prof->proto == GEN_PROTO_UDP) {
		uint64_t hdrs = plan->dest.ss_family == AF_INET6 ? 48 : 28;
		uint64_t maxdg = plan->dest.ss_family == AF_INET6 ? 65527 : 65507;

		if (route_mtu(&plan->dest, plan->destlen, &plan->path_mtu))
			plan->path_mtu = 0;
		if (!prof->size_set)
			plan->msg_size = plan->path_mtu > hdrs ? plan->path_mtu - hdrs : 1472;
		if (plan->msg_size > maxdg)
			plan->msg_size = maxdg;
		if (plan->msg_size < GEN_UDP_HDR_LEN) {
			snprintf(err, errlen, "UDP size %llu is below the %u-byte zcgen header",
				 (unsigned long long)plan->msg_size, GEN_UDP_HDR_LEN);
			return -EINVAL;
		}
	}

	plan->mode = prof->mode;
	if (prof->mode == GEN_MODE_AUTO) {
		uint64_t x = ENGINE_AUTO_CROSSOVER_DEFAULT;
		char drv[64], krel[128], src[300] = "built-in default, no calibration";
		bool zc;

		/* a crossover measured by `zcgen sweep --save-calibration` wins */
		if (!calib_driver((const struct sockaddr *)&plan->dest, plan->destlen, drv, sizeof(drv)) &&
		    !calib_kernel(krel, sizeof(krel)) &&
		    calib_lookup(drv, krel, gen_proto_name(prof->proto), &x, src, sizeof(src)))
			x = ENGINE_AUTO_CROSSOVER_DEFAULT;
		plan->auto_crossover = x;
		zc = plan->msg_size >= x;
		plan->mode = zc ? GEN_MODE_ZC_FIXED : GEN_MODE_COPY;
		snprintf(plan->mode_reason, sizeof(plan->mode_reason),
			 "auto chose %s: size %llu B %s the crossover %llu B (%s)",
			 gen_mode_name(plan->mode), (unsigned long long)plan->msg_size,
			 zc ? ">=" : "<", (unsigned long long)x, src);
	} else {
		snprintf(plan->mode_reason, sizeof(plan->mode_reason), "%s as asked",
			 gen_mode_name(plan->mode));
	}

	plan->depth = prof->depth;
	if (prof->proto == GEN_PROTO_TCP) {
		/* TCP content never changes: every send shares one region */
		plan->slots = 1;
		plan->slot_size = plan->msg_size;
	} else {
		/*
		 * Each datagram carries its own header, so each send owns a slot
		 * until its notification; twice the sends in flight leaves room
		 * for notifications that lag their send CQE.
		 */
		plan->slots = prof->streams * prof->depth * 2;
		plan->slot_size = (plan->msg_size + 63) & ~63ULL;
	}
	plan->ring_buf_bytes = (plan->slots * plan->slot_size + 4095) & ~4095ULL;
	plan->sq_entries = pow2_at_least(prof->streams * prof->depth < 8 ? 8 : prof->streams * prof->depth);
	if (plan->sq_entries > 4096)
		plan->sq_entries = 4096;
	return 0;
}

/* ---- workers ---- */

struct stream {
	int fd;          /* the socket (closed at the end) */
	int file;        /* what SQEs name: fixed-file index or fd */
	unsigned inflight;
	uint64_t notif_pending;
	uint64_t seq;    /* UDP: next sequence number */
	bool dead;
};

struct run_shared {
	atomic_uint ready;   /* workers that finished their set-up */
	atomic_bool go;
	atomic_bool stop;
};

struct worker {
	const struct engine_plan *plan;
	struct run_shared *shared;
	unsigned idx;
	struct engine_live live;
	struct engine_queue_result *out;
	pthread_t th;
	bool started;
	atomic_bool done;    /* left its send loop */
};

/* user_data: stream index in the high half, slot + 1 in the low half (0: no slot) */
static inline uint64_t ud_pack(unsigned stream, int slot)
{
	return ((uint64_t)stream << 32) | (uint32_t)(slot + 1);
}

/* The first error of a queue, as "WHAT: strerror" (the ones after it are counted by errno). */
static void set_first_error(struct engine_queue_result *o, const char *what, int err)
{
	if (!o->first_error[0])
		snprintf(o->first_error, sizeof(o->first_error), "%s: %s", what, strerror(err));
}

static int ring_setup(struct io_uring *ring, const struct engine_plan *plan, unsigned *got)
{
	static const unsigned tries[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN,
		IORING_SETUP_COOP_TASKRUN,
		0,
	};
	int ret = -EINVAL;

	for (unsigned i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		struct io_uring_params p = { 0 };

		/* notifications double the CQEs: size the CQ for them */
		p.flags = tries[i] | IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
		p.cq_entries = plan->sq_entries * 4;
		ret = io_uring_queue_init_params(plan->sq_entries, ring, &p);
		if (!ret) {
			*got = tries[i];
			return 0;
		}
	}
	return ret;
}

static bool fatal_send_errno(int err)
{
	switch (err) {
	case EAGAIN:
	case ENOBUFS:
	case EINTR:
	case ENOMEM:
		return false;
	default:
		return true;
	}
}

static void fill_pattern(uint8_t *p, uint64_t len)
{
	/* a recognisable, non-zero pattern; its period (251) is prime */
	for (uint64_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i % 251);
}

struct wstate {
	struct io_uring ring;
	struct stream *st;
	unsigned ns;
	uint8_t *buf;
	struct slot_pool pool;
	struct tx_acct acct;
	uint64_t notif_pending;
	bool fixed_files;
	bool udp;
	bool ring_ok;
};

static void publish(struct worker *w, const struct tx_acct *a)
{
	atomic_store_explicit(&w->live.bytes, a->bytes, memory_order_relaxed);
	atomic_store_explicit(&w->live.sends, a->sends, memory_order_relaxed);
	atomic_store_explicit(&w->live.notifs, a->notifs, memory_order_relaxed);
	atomic_store_explicit(&w->live.zc_copied, a->zc_copied, memory_order_relaxed);
	atomic_store_explicit(&w->live.errors, a->errors, memory_order_relaxed);
}

static unsigned reap(struct worker *w, struct wstate *s)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	uint32_t want = (uint32_t)w->plan->msg_size;

	io_uring_for_each_cqe(&s->ring, head, cqe) {
		unsigned si = (unsigned)(cqe->user_data >> 32);
		int slot = (int)(uint32_t)cqe->user_data - 1;
		struct stream *st = &s->st[si];
		bool notif = tx_acct_cqe(&s->acct, &s->pool, slot, cqe->res, cqe->flags, want);

		n++;
		if (notif) {
			st->notif_pending--;
			s->notif_pending--;
			continue;
		}
		st->inflight--;
		if (cqe->flags & IORING_CQE_F_MORE) {
			st->notif_pending++;
			s->notif_pending++;
		}
		if (cqe->res < 0 && fatal_send_errno(-cqe->res) && !st->dead) {
			st->dead = true;
			w->out->streams_failed++;
			{
			char what[340];

			snprintf(what, sizeof(what), "send to %s", w->plan->dest_str);
			set_first_error(w->out, what, -cqe->res);
		}
		}
	}
	io_uring_cq_advance(&s->ring, n);
	return n;
}

static void wait_some(struct wstate *s, uint64_t ns)
{
	struct __kernel_timespec ts = { .tv_sec = (long long)(ns / 1000000000ULL),
					.tv_nsec = (long long)(ns % 1000000000ULL) };
	struct io_uring_cqe *cqe;

	io_uring_submit_and_wait_timeout(&s->ring, &cqe, 1, &ts, NULL);
}

static void queue_sends(struct worker *w, struct wstate *s, unsigned *rr)
{
	const struct engine_plan *plan = w->plan;
	uint32_t len = (uint32_t)plan->msg_size;
	int msgflags = s->udp ? MSG_NOSIGNAL : MSG_NOSIGNAL | MSG_WAITALL;
	uint32_t sec = 0, usec = 0;

	if (s->udp) {
		/* one clock read per batch: the timestamp is the batch's submit time */
		uint64_t t = now_ns(CLOCK_REALTIME);

		sec = htonl((uint32_t)(t / 1000000000ULL));
		usec = htonl((uint32_t)((t % 1000000000ULL) / 1000));
	}
	for (unsigned k = 0; k < s->ns; k++) {
		unsigned si = (*rr + k) % s->ns;
		struct stream *st = &s->st[si];

		while (!st->dead && st->inflight < plan->depth) {
			struct io_uring_sqe *sqe;
			uint8_t *p = s->buf;
			int slot = -1;

			if (s->udp) {
				struct gen_udp_hdr *h;

				slot = slots_get(&s->pool);
				if (slot < 0)
					goto out;
				p = s->buf + (uint64_t)slot * plan->slot_size;
				h = (struct gen_udp_hdr *)p;
				h->sec = sec;
				h->usec = usec;
				h->seq = htobe64(st->seq);
			}
			sqe = io_uring_get_sqe(&s->ring);
			if (!sqe) {
				if (slot >= 0)
					slots_put(&s->pool, (uint32_t)slot);
				goto out;
			}
			if (s->udp)
				st->seq++;
			switch (plan->mode) {
			case GEN_MODE_COPY:
			case GEN_MODE_AUTO:
				io_uring_prep_send(sqe, st->file, p, len, msgflags);
				break;
			case GEN_MODE_ZC:
				io_uring_prep_send_zc(sqe, st->file, p, len, msgflags,
						      IORING_SEND_ZC_REPORT_USAGE);
				break;
			case GEN_MODE_ZC_FIXED:
				io_uring_prep_send_zc_fixed(sqe, st->file, p, len, msgflags,
							    IORING_SEND_ZC_REPORT_USAGE, 0);
				break;
			}
			if (s->fixed_files)
				sqe->flags |= IOSQE_FIXED_FILE;
			sqe->user_data = ud_pack(si, slot);
			st->inflight++;
			s->acct.inflight++;
		}
	}
out:
	*rr = (*rr + 1) % s->ns;
}

static int open_streams(struct worker *w, struct wstate *s)
{
	const struct engine_plan *plan = w->plan;
	int type = s->udp ? SOCK_DGRAM : SOCK_STREAM;
	int *fds;
	unsigned ok = 0;

	fds = calloc(s->ns, sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	for (unsigned i = 0; i < s->ns; i++) {
		struct stream *st = &s->st[i];

		st->seq = 1;
		st->fd = socket(plan->dest.ss_family, type | SOCK_CLOEXEC, 0);
		if (st->fd < 0) {
			set_first_error(w->out, "socket", errno);
			st->dead = true;
			fds[i] = -1;
			continue;
		}
		if (connect(st->fd, (const struct sockaddr *)&plan->dest, plan->destlen)) {
			char what[340];

			snprintf(what, sizeof(what), "connect to %s", plan->dest_str);
			set_first_error(w->out, what, errno);
			st->dead = true;
		} else {
			ok++;
		}
		fds[i] = st->fd;
		st->file = st->fd;
	}
	w->out->streams_ok = ok;
	w->out->streams_failed = s->ns - ok;
	if (ok && !io_uring_register_files(&s->ring, fds, s->ns)) {
		s->fixed_files = true;
		for (unsigned i = 0; i < s->ns; i++)
			s->st[i].file = (int)i;
	}
	free(fds);
	return ok ? 0 : -ENOTCONN;
}

static void tcp_retrans(struct worker *w, struct wstate *s)
{
	for (unsigned i = 0; i < s->ns; i++) {
		struct tcp_info ti;
		socklen_t l = sizeof(ti);

		if (s->st[i].fd >= 0 && !getsockopt(s->st[i].fd, IPPROTO_TCP, TCP_INFO, &ti, &l))
			w->out->retransmits += ti.tcpi_total_retrans;
	}
}

/*
 * Stop: no new sends; wait (bounded) for every send CQE and notification.
 * A stalled receiver can hold TCP notifications for ever: then cancel what
 * is pending, reset the connections (SO_LINGER 0 frees their queued data)
 * and wait a little more for the notifications that this releases.
 */
static void drain(struct worker *w, struct wstate *s)
{
	uint64_t deadline = now_ns(CLOCK_MONOTONIC) + DRAIN_TIMEOUT_NS;

	while ((s->acct.inflight || s->notif_pending) && now_ns(CLOCK_MONOTONIC) < deadline) {
		wait_some(s, WAIT_TICK_NS);
		reap(w, s);
	}
	if (!s->udp)
		tcp_retrans(w, s);
	if (!s->acct.inflight && !s->notif_pending)
		return;
	w->out->outstanding = s->acct.inflight + s->notif_pending;
	w->out->lingered = true;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
	if (sqe) {
		io_uring_prep_cancel(sqe, NULL, IORING_ASYNC_CANCEL_ANY);
		sqe->user_data = UINT64_MAX;
	}
	if (s->fixed_files) {
		io_uring_unregister_files(&s->ring);
		s->fixed_files = false;
	}
	for (unsigned i = 0; i < s->ns; i++) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };

		if (s->st[i].fd < 0)
			continue;
		setsockopt(s->st[i].fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		close(s->st[i].fd);
		s->st[i].fd = -1;
	}
	deadline = now_ns(CLOCK_MONOTONIC) + LINGER_WAIT_NS;
	while ((s->acct.inflight || s->notif_pending) && now_ns(CLOCK_MONOTONIC) < deadline) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;

		wait_some(s, WAIT_TICK_NS);
		/* the cancel's own CQE is not a send */
		io_uring_for_each_cqe(&s->ring, head, cqe) {
			if (cqe->user_data == UINT64_MAX) {
				n++;
				continue;
			}
			break;
		}
		io_uring_cq_advance(&s->ring, n);
		reap(w, s);
	}
}

static int worker_setup(struct worker *w, struct wstate *s)
{
	const struct engine_plan *plan = w->plan;
	struct engine_queue_result *o = w->out;
	cpu_set_t set;
	int ret;

	CPU_ZERO(&set);
	CPU_SET(plan->q[w->idx].cpu, &set);
	ret = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (ret) {
		snprintf(o->first_error, sizeof(o->first_error), "cannot pin queue %u to CPU %u: %s",
			 w->idx, plan->q[w->idx].cpu, strerror(ret));
		return -ret;
	}
	/* DEFER_TASKRUN rings must be created by the thread that drives them */
	ret = ring_setup(&s->ring, plan, &o->ring_flags);
	if (ret) {
		set_first_error(o, "io_uring setup", -ret);
		return ret;
	}
	s->ring_ok = true;
	s->st = calloc(s->ns, sizeof(*s->st));
	if (!s->st || slots_init(&s->pool, plan->slots)) {
		set_first_error(o, "allocation", ENOMEM);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < s->ns; i++)
		s->st[i].fd = -1;
	s->buf = mmap(NULL, plan->ring_buf_bytes, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (s->buf == MAP_FAILED) {
		ret = -errno;
		s->buf = NULL;
		set_first_error(o, "the ring's buffer", -ret);
		return ret;
	}
	fill_pattern(s->buf, plan->ring_buf_bytes);
	if (plan->mode == GEN_MODE_ZC_FIXED) {
		struct iovec iov = { .iov_base = s->buf, .iov_len = plan->ring_buf_bytes };

		ret = io_uring_register_buffers(&s->ring, &iov, 1);
		if (ret) {
			set_first_error(o, "registering the zc-fixed buffer", -ret);
			return ret;
		}
	}
	return open_streams(w, s);
}

static void worker_teardown(struct worker *w, struct wstate *s)
{
	struct engine_queue_result *o = w->out;

	for (unsigned i = 0; s->st && i < s->ns; i++)
		if (s->st[i].fd >= 0)
			close(s->st[i].fd);
	/* exiting the ring waits for the kernel to let go of the buffer */
	if (s->ring_ok)
		io_uring_queue_exit(&s->ring);
	if (s->buf)
		munmap(s->buf, w->plan->ring_buf_bytes);
	o->bytes = s->acct.bytes;
	o->sends = s->acct.sends;
	o->zc_sends = s->acct.zc_sends;
	o->notifs = s->acct.notifs;
	o->zc_copied = s->acct.zc_copied;
	o->short_sends = s->acct.short_sends;
	o->errors = s->acct.errors;
	o->slot_violations = s->pool.violations;
	memcpy(o->err_errno, s->acct.err_errno, sizeof(o->err_errno));
	memcpy(o->err_count, s->acct.err_count, sizeof(o->err_count));
	slots_destroy(&s->pool);
	free(s->st);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct wstate s = { 0 };
	unsigned rr = 0;
	int ret;

	s.udp = w->plan->prof.proto == GEN_PROTO_UDP;
	s.ns = w->plan->q[w->idx].streams;
	ret = worker_setup(w, &s);
	/* all rings start together: wait for the go (or the stop) */
	atomic_fetch_add(&w->shared->ready, 1);
	while (!atomic_load(&w->shared->go) && !atomic_load(&w->shared->stop))
		usleep(200);
	while (!ret && !atomic_load_explicit(&w->shared->stop, memory_order_relaxed)) {
		bool alive = false;

		for (unsigned i = 0; i < s.ns && !alive; i++)
			alive = !s.st[i].dead;
		if (!alive && !s.acct.inflight)
			break;
		queue_sends(w, &s, &rr);
		wait_some(&s, WAIT_TICK_NS);
		reap(w, &s);
		publish(w, &s.acct);
	}
	if (!ret)
		drain(w, &s);
	publish(w, &s.acct);
	atomic_store(&w->done, true);
	worker_teardown(w, &s);
	return NULL;
}

/* ---- the run ---- */

static void sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ULL), .tv_nsec = (long)(t % 1000000000ULL) };

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static int add_interval(struct engine_result *res, unsigned nq, double a, double b,
			const uint64_t *bytes_prev, const uint64_t *bytes_now,
			const uint64_t *sends_prev, const uint64_t *sends_now)
{
	struct engine_interval *iv = realloc(res->iv, (res->nint + 1) * sizeof(*iv));

	if (!iv)
		return -ENOMEM;
	res->iv = iv;
	iv = &res->iv[res->nint];
	iv->start_s = a;
	iv->end_s = b;
	iv->bytes = calloc(nq, sizeof(uint64_t));
	iv->sends = calloc(nq, sizeof(uint64_t));
	if (!iv->bytes || !iv->sends) {
		free(iv->bytes);
		free(iv->sends);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < nq; i++) {
		iv->bytes[i] = bytes_now[i] - bytes_prev[i];
		iv->sends[i] = sends_now[i] - sends_prev[i];
	}
	res->nint++;
	return 0;
}

int engine_run(const struct engine_plan *plan, struct engine_result *res, engine_interval_cb cb,
	       void *cb_arg)
{
	struct run_shared shared;
	struct worker *w;
	unsigned nq = plan->nq;
	uint64_t *b_prev, *b_now, *s_prev, *s_now, *b_omit, *s_omit;
	uint64_t t0, t_meas, t_end, t_next, interval = plan->prof.interval_ns;
	unsigned started = 0;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	res->nq = nq;
	res->q = calloc(nq, sizeof(*res->q));
	w = calloc(nq, sizeof(*w));
	b_prev = calloc(nq * 6, sizeof(uint64_t));
	if (!res->q || !w || !b_prev) {
		ret = -ENOMEM;
		goto out_free;
	}
	b_now = b_prev + nq;
	s_prev = b_prev + 2 * nq;
	s_now = b_prev + 3 * nq;
	b_omit = b_prev + 4 * nq;
	s_omit = b_prev + 5 * nq;

	atomic_init(&shared.stop, false);
	atomic_init(&shared.go, false);
	atomic_init(&shared.ready, 0);
	for (unsigned i = 0; i < nq; i++) {
		w[i].plan = plan;
		w[i].shared = &shared;
		w[i].idx = i;
		w[i].out = &res->q[i];
		res->q[i].queue = plan->q[i].queue;
		res->q[i].cpu = plan->q[i].cpu;
		res->q[i].streams = plan->q[i].streams;
		atomic_init(&w[i].done, false);
		if (pthread_create(&w[i].th, NULL, worker_main, &w[i])) {
			snprintf(res->q[i].first_error, sizeof(res->q[i].first_error),
				 "cannot start the worker thread");
			atomic_store(&w[i].done, true);
			continue;
		}
		w[i].started = true;
		started++;
	}
	while (atomic_load(&shared.ready) < started)
		usleep(1000);
	atomic_store(&shared.go, true);

	t0 = now_ns(CLOCK_MONOTONIC);
	t_meas = t0 + plan->prof.omit_ns;
	t_end = t_meas + plan->prof.duration_ns;
	res->omitted_s = plan->prof.omit_ns / 1e9;
	t_next = t_meas < t0 + interval ? t_meas : t0 + interval;
	if (plan->prof.omit_ns == 0)
		t_next = t0 + interval;
	bool measuring = plan->prof.omit_ns == 0;
	uint64_t t_prev = t0;

	while (!gen_stop && !atomic_load(&shared.stop)) {
		uint64_t now = now_ns(CLOCK_MONOTONIC), wake = t_next < t_end ? t_next : t_end;
		bool all_done = true;

		if (now < wake) {
			/* short naps so that SIGINT and dead workers are seen quickly */
			sleep_until(now + 50000000ULL < wake ? now + 50000000ULL : wake);
			/* every ring gave up (all streams failed): no point waiting */
			for (unsigned i = 0; i < nq; i++)
				all_done &= atomic_load(&w[i].done);
			if (all_done)
				break;
			continue;
		}
		for (unsigned i = 0; i < nq; i++) {
			b_now[i] = atomic_load_explicit(&w[i].live.bytes, memory_order_relaxed);
			s_now[i] = atomic_load_explicit(&w[i].live.sends, memory_order_relaxed);
		}
		if (!measuring && now >= t_meas) {
			measuring = true;
			memcpy(b_omit, b_now, nq * sizeof(uint64_t));
			memcpy(s_omit, s_now, nq * sizeof(uint64_t));
		} else if (measuring) {
			if (!add_interval(res, nq, (t_prev - t_meas) / 1e9, (now - t_meas) / 1e9,
					  b_prev, b_now, s_prev, s_now) && cb)
				cb(plan, &res->iv[res->nint - 1], cb_arg);
		}
		memcpy(b_prev, b_now, nq * sizeof(uint64_t));
		memcpy(s_prev, s_now, nq * sizeof(uint64_t));
		t_prev = now;
		if (now >= t_end)
			break;
		t_next = now + interval;
	}
	t_end = now_ns(CLOCK_MONOTONIC);
	res->interrupted = gen_stop != 0;
	atomic_store(&shared.stop, true);
	if (!measuring) { /* stopped during the warm-up: nothing measured */
		memcpy(b_omit, b_prev, nq * sizeof(uint64_t));
		memcpy(s_omit, s_prev, nq * sizeof(uint64_t));
		t_meas = t_end;
	}
	for (unsigned i = 0; i < nq; i++)
		if (w[i].started)
			pthread_join(w[i].th, NULL);

	/* the last partial interval, from the final counts */
	for (unsigned i = 0; i < nq; i++) {
		b_now[i] = res->q[i].bytes;
		s_now[i] = res->q[i].sends;
	}
	if (measuring && t_end > t_prev + 1000000ULL &&
	    !add_interval(res, nq, (t_prev - t_meas) / 1e9, (t_end - t_meas) / 1e9, b_prev, b_now,
			  s_prev, s_now) && cb)
		cb(plan, &res->iv[res->nint - 1], cb_arg);

	/* the measured part excludes the warm-up */
	for (unsigned i = 0; i < nq; i++) {
		res->q[i].bytes_all = res->q[i].bytes;
		res->q[i].bytes -= b_omit[i];
		res->q[i].sends -= s_omit[i];
	}
	res->duration_s = (t_end - t_meas) / 1e9;
	{
		unsigned f = res->q[0].ring_flags;

		if (!(f & IORING_SETUP_DEFER_TASKRUN))
			snprintf(res->ring_note, sizeof(res->ring_note),
				 "io_uring without DEFER_TASKRUN (kernel refused it): flags 0x%x", f);
	}
out_free:
	free(b_prev);
	free(w);
	return ret;
}

void engine_result_free(struct engine_result *res)
{
	for (unsigned i = 0; i < res->nint; i++) {
		free(res->iv[i].bytes);
		free(res->iv[i].sends);
	}
	free(res->iv);
	free(res->q);
	memset(res, 0, sizeof(*res));
}
