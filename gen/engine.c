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
#include <math.h>
#include <netinet/udp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include "gen/calib.h"
#include "gen/compat.h"
#include "gen/cpustat.h"
#include "gen/engine.h"
#include "gen/hugebuf.h"
#include "gen/payload.h"
#include "gen/sampler.h"
#include "gen/slots.h"
#include "gen/stall.h"
#include "gen/udpseq.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

#define DRAIN_TIMEOUT_NS (3ULL * 1000000000ULL)
#define LINGER_WAIT_NS (1ULL * 1000000000ULL)
#define WAIT_TICK_NS (100ULL * 1000000ULL)
/*
 * After a stall the connections are reset at once, not drained: this long
 * for the notifications the reset releases (TCP: at once; UDP datagrams held
 * in a neighbour queue come back only when the neighbour fails, seconds on).
 */
#define STALL_LINGER_WAIT_NS (300ULL * 1000000ULL)
/* How often a ring looks for progress (TCP_INFO): at most this, at least the timeout / 8. */
#define STALL_LOOK_NS (100ULL * 1000000ULL)
#define STALL_LOOK_MIN_NS (10ULL * 1000000ULL)
/*
 * Pacing: a paced worker sleeps at least this long between batches (so a
 * high packet rate is sent in batches, not a syscall per packet), and its
 * pacers catch up at most a bucket's worth after a late wake-up. The
 * bucket (5 ms) is larger than the pacer's default: a shared CPU wakes
 * late by more than 1 ms often enough that credit lost there lowered the
 * long-run rate by 1-4% on a busy 2-core box.
 */
#define PACE_TICK_NS (50ULL * 1000ULL)
#define PACE_BUCKET_NS (ENGINE_PACE_BUCKET_MS * 1000ULL * 1000ULL)
#define PACE_MISS_RATIO 0.99      /* achieved below this share of the target: missed */
#define TCP_PACING_HEADROOM 1.02  /* SO_MAX_PACING_RATE above the share: the pacer sets the mean */

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

/*
 * UDP: the largest datagram (sizes:), and what one GSO send may carry:
 * UDP_SEGMENT cuts a send of N x size bytes into N datagrams, each of which
 * must fit the path MTU, and the whole send must fit one IP packet's
 * 64 KiB (the kernel answers EINVAL or EMSGSIZE otherwise).
 */
static int plan_udp_sizes(const struct gen_profile *prof, struct engine_plan *plan, char *err,
			  size_t errlen)
{
	bool v6 = plan->dest.ss_family == AF_INET6;
	uint64_t ip = v6 ? 40 : 20, maxsend = v6 ? 65527 : 65507;
	unsigned long long sz = plan->msg_size, tot = sz * plan->gso;

	if (prof->n_sizes) {
		plan->max_size = 0;
		for (unsigned i = 0; i < prof->n_sizes; i++)
			if (prof->sizes[i].size > plan->max_size)
				plan->max_size = prof->sizes[i].size;
		plan->msg_size = plan->max_size;
	}
	if (plan->gso == 1)
		return 0;
	if (tot > maxsend) {
		snprintf(err, errlen, "UDP GSO: %u datagrams of %llu B are %llu B in one send, more "
			 "than one UDP send can carry (%llu B over IPv%d): lower --gso "
			 "(udp.gso_segments) to %llu or the size", plan->gso, sz, tot,
			 (unsigned long long)maxsend, v6 ? 6 : 4, (unsigned long long)(maxsend / sz));
		return -EINVAL;
	}
	if (plan->path_mtu && sz + 8 + ip > plan->path_mtu) {
		snprintf(err, errlen, "UDP GSO: each datagram must fit the path MTU (%llu B), but "
			 "%llu B of payload make a %llu B packet: give a size of at most %llu",
			 (unsigned long long)plan->path_mtu, sz, sz + 8 + ip,
			 (unsigned long long)(plan->path_mtu - 8 - ip));
		return -EINVAL;
	}
	return 0;
}

/*
 * How far apart a ring's UDP slots are: a send of @bytes (all its datagrams)
 * starts on a page when it is longer than a page, and otherwise at a
 * power-of-two stride that divides the page, so no send spans more pages
 * than its length needs. A zero-copy send's pages become the frags of the
 * kernel's buffer: 1400 B at a 1408 B stride cross a page boundary in one
 * send of three, 65000 B from inside a page span 17 pages instead of 16.
 */
static uint64_t udp_slot_stride(uint64_t bytes)
{
	uint64_t s = 64;

	if (bytes > PAYLOAD_PAGE)
		return (bytes + PAYLOAD_PAGE - 1) & ~(uint64_t)(PAYLOAD_PAGE - 1);
	while (s < bytes)
		s <<= 1;
	return s;
}

/* The rate: which pacers, and the share of the profile's rates each gets. */
static void plan_rate(const struct gen_profile *prof, struct engine_plan *plan)
{
	const struct gen_rate *r = &prof->rate;

	plan->paced = r->set;
	if (!plan->paced)
		return;
	plan->rate_pps = r->n_steps ? r->steps_pps : r->pps;
	plan->pacer_per_stream = r->per == PACER_PER_STREAM;
	plan->pace_share = pacer_split(1.0, r->per, plan->nq, prof->streams,
				       plan->pacer_per_stream ? 1 : prof->streams);
}

/* ---- resolve: the facts of this host a plan is made from ---- */

int engine_resolve(const struct gen_profile *prof, struct engine_facts *f, char *err, size_t errlen)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char port[8];
	int ret;

	memset(f, 0, sizeof(*f));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = prof->proto == GEN_PROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	snprintf(port, sizeof(port), "%u", prof->port);
	ret = getaddrinfo(prof->host, port, &hints, &ai);
	if (ret) {
		snprintf(err, errlen, "cannot resolve %s: %s", prof->host, gai_strerror(ret));
		return -ENOENT;
	}
	memcpy(&f->dest, ai->ai_addr, ai->ai_addrlen);
	f->destlen = ai->ai_addrlen;
	freeaddrinfo(ai);

	if (prof->n_cpus) {
		f->ncpus = prof->n_cpus;
		memcpy(f->cpus, prof->cpus, f->ncpus * sizeof(f->cpus[0]));
	} else if ((ret = allowed_cpus(f->cpus, GEN_MAX_CPUS, &f->ncpus))) {
		snprintf(err, errlen, "cannot read the CPUs this process may use: %s", strerror(-ret));
		return ret;
	}
	if (prof->proto == GEN_PROTO_UDP)
		engine_resolve_mtu(f);
	if (prof->mode == GEN_MODE_AUTO) {
		char drv[64], krel[128];

		/* a crossover measured by `zcgen sweep --save-calibration` wins */
		snprintf(f->crossover_src, sizeof(f->crossover_src), "built-in default, no calibration");
		if (calib_driver((const struct sockaddr *)&f->dest, f->destlen, drv, sizeof(drv)) ||
		    calib_kernel(krel, sizeof(krel)) ||
		    calib_lookup(drv, krel, gen_proto_name(prof->proto), &f->crossover, f->crossover_src,
				 sizeof(f->crossover_src)))
			f->crossover = ENGINE_AUTO_CROSSOVER_DEFAULT;
	}
	if (prof->proto == GEN_PROTO_TCP)
		sockopts_congestion_default(f->congestion_default, sizeof(f->congestion_default));
	return 0;
}

void engine_resolve_mtu(struct engine_facts *f)
{
	if (route_mtu(&f->dest, f->destlen, &f->path_mtu))
		f->path_mtu = 0;
}

void engine_facts_cpus(struct engine_facts *f, const unsigned *cpus, unsigned n)
{
	if (!n)
		return;
	f->ncpus = n < GEN_MAX_CPUS ? n : GEN_MAX_CPUS;
	memcpy(f->cpus, cpus, f->ncpus * sizeof(f->cpus[0]));
}

/* ---- the plan: the profile and the facts, nothing else ---- */

int engine_plan(const struct gen_profile *prof, const struct engine_facts *f,
		struct engine_plan *plan, char *err, size_t errlen)
{
	unsigned deepest;
	bool tcp;
	int ret;

	memset(plan, 0, sizeof(*plan));
	plan->prof = *prof;
	plan->dest = f->dest;
	plan->destlen = f->destlen;
	format_dest(&plan->dest, plan->dest_str, sizeof(plan->dest_str));

	if (!f->ncpus) {
		snprintf(err, errlen, "no CPU to run the queues on");
		return -ENOENT;
	}
	plan->nq = prof->queues;
	plan->cpus_wrapped = plan->nq > f->ncpus;
	for (unsigned i = 0; i < plan->nq; i++) {
		plan->q[i].queue = i;
		plan->q[i].cpu = f->cpus[i % f->ncpus];
		plan->q[i].streams = prof->streams;
	}

	plan->msg_size = prof->size;
	if (prof->proto == GEN_PROTO_UDP) {
		uint64_t hdrs = plan->dest.ss_family == AF_INET6 ? 48 : 28;
		uint64_t maxdg = plan->dest.ss_family == AF_INET6 ? 65527 : 65507;

		plan->path_mtu = f->path_mtu;
		/*
		 * Without size: one datagram fills the path's MTU. Above a jumbo
		 * frame's 9216 the route is loopback's (65536), where a datagram
		 * that size would be one no network carries: a 1500 MTU's payload.
		 */
		if (!prof->size_set && plan->path_mtu > 9216) {
			plan->msg_size = 1500 - hdrs;
			snprintf(plan->size_note, sizeof(plan->size_note),
				 "%llu B by default: a 1500 MTU's payload, as the path MTU %llu is "
				 "loopback's (--size sets it)", (unsigned long long)plan->msg_size,
				 (unsigned long long)plan->path_mtu);
		} else if (!prof->size_set) {
			plan->msg_size = plan->path_mtu > hdrs ? plan->path_mtu - hdrs : 1500 - hdrs;
			snprintf(plan->size_note, sizeof(plan->size_note),
				 "%llu B by default: %s (--size sets it)", (unsigned long long)plan->msg_size,
				 plan->path_mtu > hdrs ? "the path MTU's payload" :
				 "a 1500 MTU's payload (the path MTU is unknown)");
		}
		if (plan->msg_size > maxdg)
			plan->msg_size = maxdg;
		if (plan->msg_size < GEN_UDP_HDR_LEN) {
			snprintf(err, errlen, "UDP size %llu is below the %u-byte zcgen header",
				 (unsigned long long)plan->msg_size, GEN_UDP_HDR_LEN);
			return -EINVAL;
		}
	}

	plan->max_size = plan->msg_size;
	plan->gso = prof->gso_segments > 1 ? prof->gso_segments : 1;
	if (prof->proto == GEN_PROTO_UDP) {
		ret = plan_udp_sizes(prof, plan, err, errlen);
		if (ret)
			return ret;
	}
	plan_rate(prof, plan);
	/* iperf3 -s would read a flagged sequence as a jump of 2^63: it keeps its own omit timer */
	plan->mark_warmup = prof->omit_ns && prof->server != GEN_SERVER_IPERF3;

	plan->mode = prof->mode;
	if (prof->mode == GEN_MODE_AUTO) {
		uint64_t x = f->crossover;
		bool zc;

		plan->auto_crossover = x;
		zc = plan->msg_size >= x;
		plan->mode = zc ? GEN_MODE_ZC_FIXED : GEN_MODE_COPY;
		plan->auto_adapt = zc;
		snprintf(plan->mode_reason, sizeof(plan->mode_reason),
			 "auto chose %s: size %llu B %s the crossover %llu B (%s)%s",
			 gen_mode_name(plan->mode), (unsigned long long)plan->msg_size,
			 zc ? ">=" : "<", (unsigned long long)x, f->crossover_src,
			 zc ? "; a ring whose zero-copy sends the kernel copies switches to copy" : "");
	} else {
		snprintf(plan->mode_reason, sizeof(plan->mode_reason), "%s as asked",
			 gen_mode_name(plan->mode));
	}

	/*
	 * The depth when the profile gives none (GEN_DEPTH_*). TCP zero-copy:
	 * one send in flight per stream, sent, waited for (without a timeout:
	 * wait_unpaced()) and followed by the next, as liburing's
	 * send-zerocopy does; chains of 8 leave more unsent data in the socket
	 * and more of it leaves from TCP's pacing timer than from the send
	 * (0.83-0.95x send-zerocopy against 0.98-0.99x). TCP copy: chains of
	 * 8 and a fixed send buffer, where the sending thread's copy is the
	 * work (1.14x send-zerocopy -z0 against 1.00x one at a time). A ring
	 * that auto switches to copy takes copy's (depth_copy, tcp_sndbuf).
	 * docs/performance.md, 2026-12-05.
	 */
	tcp = prof->proto == GEN_PROTO_TCP;
	plan->depth = prof->depth_set ? prof->depth : !tcp ? GEN_DEPTH_UDP :
		      plan->mode == GEN_MODE_COPY ? GEN_DEPTH_TCP_COPY : GEN_DEPTH_TCP_ZC;
	plan->depth_copy = tcp && !prof->depth_set && plan->auto_adapt ? GEN_DEPTH_TCP_COPY :
			   plan->depth;
	if (tcp) {
		/*
		 * TCP content never changes: every send shares one region and
		 * starts on the page of it that holds the pattern from the
		 * stream's offset (gen/payload.h, payload_aligned_at()), so what
		 * arrives is the pattern that `zcgen sink --verify` checks, and a
		 * zero-copy send gives the kernel whole pages.
		 */
		plan->slots = 1;
		plan->slot_size = (uint64_t)PAYLOAD_ALIGNED_PAGES * PAYLOAD_PAGE + plan->msg_size;
	} else {
		/*
		 * Each datagram carries its own header, so each send owns a slot
		 * until its notification; twice the sends in flight leaves room
		 * for notifications that lag their send CQE.
		 */
		plan->slots = prof->streams * plan->depth * 2;
		plan->slot_size = udp_slot_stride(plan->max_size * plan->gso);
	}
	plan->ring_buf_bytes = (plan->slots * plan->slot_size + 4095) & ~4095ULL;
	/* the kernel registers at most 1 GiB per buffer (io_uring_register_buffers: EFAULT) */
	if (plan->mode == GEN_MODE_ZC_FIXED && plan->ring_buf_bytes > (1ULL << 30)) {
		snprintf(err, errlen, "zc-fixed registers each ring's buffer with the kernel, which "
			 "takes at most 1 GiB; this plan needs %llu MiB (%s): lower %s, or use "
			 "--mode zc", (unsigned long long)(plan->ring_buf_bytes >> 20),
			 tcp ? "251 pages of pattern plus one send" : "streams x depth x 2 slots",
			 tcp ? "the size" : "the size, streams or depth");
		return -EINVAL;
	}
	deepest = plan->depth > plan->depth_copy ? plan->depth : plan->depth_copy;
	plan->sq_entries = pow2_at_least(prof->streams * deepest < 8 ? 8 : prof->streams * deepest);
	if (plan->sq_entries > 4096)
		plan->sq_entries = 4096;
	if (tcp && !plan->paced && (plan->mode == GEN_MODE_COPY || plan->auto_adapt)) {
		uint32_t per = ENGINE_TCP_SNDBUF_RING / (prof->streams ? prof->streams : 1);

		plan->tcp_sndbuf = per > ENGINE_TCP_SNDBUF_MIN ? per : ENGINE_TCP_SNDBUF_MIN;
	}
	/* source, device, TOS, congestion: the host checks them in engine_check() */
	return sockopts_plan_make(&plan->so, prof, &plan->dest, plan->nq, prof->streams,
				  f->congestion_default, err, errlen);
}

int engine_check(const struct engine_plan *plan, char *err, size_t errlen)
{
	int ret = sockopts_plan_check(&plan->so, plan->nq, err, errlen);

	if (!ret)
		ret = hugebuf_check(plan->prof.hugepages, plan->nq, plan->ring_buf_bytes, err, errlen);
	return ret;
}

int engine_prepare(const struct gen_profile *prof, struct engine_plan *plan, char *err,
		   size_t errlen)
{
	struct engine_facts f;
	int ret = engine_resolve(prof, &f, err, errlen);

	if (!ret)
		ret = engine_plan(prof, &f, plan, err, errlen);
	if (!ret)
		ret = engine_check(plan, err, errlen);
	return ret;
}



/* ---- workers ---- */

struct stream {
	int fd;          /* the socket (closed at the end) */
	int file;        /* what SQEs name: fixed-file index or fd */
	unsigned inflight;
	uint64_t notif_pending;
	uint64_t seq;    /* UDP: next sequence number */
	uint64_t wseq;   /* UDP, warm-up marked: next warm-up sequence number (UDPSEQ_WARMUP) */
	uint64_t off;    /* TCP: stream offset of the next send's first byte */
	uint64_t bytes, sends;           /* completed, whole run */
	uint64_t bytes_omit, sends_omit; /* completed sends that were queued in the warm-up */
	uint64_t acked;  /* TCP: tcpi_bytes_acked at the last look */
	struct stall_tcp ti; /* TCP: the last look */
	bool ti_ok;
	bool dead;
};

struct run_shared {
	atomic_uint ready;   /* workers that finished their set-up */
	atomic_bool go;
	atomic_bool stop;
	atomic_bool measuring; /* the warm-up is over */
	atomic_bool stalled;   /* set before stop: the sampler found the path stalled */
};

struct worker {
	const struct engine_plan *plan;
	struct run_shared *shared;
	unsigned idx;
	int *fds;            /* controller mode: the sockets, opened and owned by engine_run() */
	struct engine_live live;
	/* the ring's stall_watch, for the sampler (gen/stall.h) */
	_Atomic uint64_t stall_progress, stall_checked;
	struct engine_queue_result *out;
	pthread_t th;
	bool started;
	atomic_bool done;    /* left its send loop */
};

/*
 * user_data: stream index in the high half, slot + 1 in the low half (0: no
 * slot), and UD_WARMUP when the send was queued in the warm-up: its bytes
 * are the warm-up's wherever its completion falls, as the receiver sees
 * them (the datagram's flagged sequence, the bytes' shifted pattern).
 */
#define UD_WARMUP (1u << 31)
#define UD_TICK (UINT64_MAX - 1)   /* the ring's tick (wait_unpaced()), not a send */

static inline uint64_t ud_pack(unsigned stream, int slot, bool warmup)
{
	return ((uint64_t)stream << 32) | (uint32_t)(slot + 1) | (warmup ? UD_WARMUP : 0);
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
	uint32_t *slot_len;      /* UDP: bytes submitted from each slot */
	struct imix mix;         /* sizes: the next datagram's size */
	bool use_mix;
	struct io_uring_sqe *last_sqe; /* the SQE send_one() filled last */
	struct pacer *pc;        /* paced: one per ring, or one per stream */
	unsigned npc;
	struct pacer_turn turn;  /* whose turn it is to send (gen/pacer.h) */
	uint64_t meas_t0, meas_t1;   /* the worker's measured span (CLOCK_MONOTONIC) */
	enum gen_mode mode;          /* how this ring sends now (auto may switch to copy) */
	bool adapt;                  /* auto chose zero-copy: still watching the notifications */
	double meas_c0, meas_c1;     /* pacer charges at its ends */
	double meas_f0, meas_f1;     /* pacer credit forfeited at its ends */
	/* stall watch (gen/stall.h) */
	struct stall_watch sw;
	uint64_t stall_next;         /* next look */
	uint64_t look_bytes;         /* UDP: acct.bytes at the last look */
	uint64_t queued, look_queued; /* sends queued, and at the last look */
	int last_err;                /* the last send's errno, 0 none */
	bool resetting;              /* drain: pending sends cancelled, connections reset */
	uint64_t dry_t0, dry_max;    /* UDP: since when no slot is free, the longest such time */
	bool warmup;                 /* in the warm-up: sends queued now are not measured */
	uint64_t warm_bytes, warm_sends; /* completions of the warm-up's sends */
	/* the tick: a timeout request that wakes a wait without a timeout of its own */
	struct __kernel_timespec tick_ts;
	bool tick;                   /* armed: its CQE is to come */
	bool tick_ok;                /* the kernel runs it (else: timed waits) */
	unsigned depth;              /* sends in flight per stream now (auto's switch changes it) */
	uint64_t waits, tick_waits;  /* unpaced waits; those without a timeout (the tick's) */
};

static void publish(struct worker *w, const struct wstate *s)
{
	const struct tx_acct *a = &s->acct;

	atomic_store_explicit(&w->live.bytes, a->bytes, memory_order_relaxed);
	atomic_store_explicit(&w->live.sends, a->sends, memory_order_relaxed);
	atomic_store_explicit(&w->live.bytes_meas, a->bytes - s->warm_bytes, memory_order_relaxed);
	atomic_store_explicit(&w->live.sends_meas, a->sends - s->warm_sends, memory_order_relaxed);
	atomic_store_explicit(&w->live.notifs, a->notifs, memory_order_relaxed);
	atomic_store_explicit(&w->live.zc_copied, a->zc_copied, memory_order_relaxed);
	atomic_store_explicit(&w->live.errors, a->errors, memory_order_relaxed);
}

/* A UDP GSO send the kernel refused: say what to change. */
static void gso_error(struct worker *w, int err)
{
	struct engine_queue_result *o = w->out;
	const struct engine_plan *plan = w->plan;

	if (o->first_error[0])
		return;
	if (err == EIO)
		snprintf(o->first_error, sizeof(o->first_error),
			 "UDP GSO send refused (EIO): the outgoing device has no UDP checksum "
			 "offload; turn it on (ethtool -K DEV tx on) or run without --gso");
	else if (err == EINVAL || err == EMSGSIZE)
		snprintf(o->first_error, sizeof(o->first_error),
			 "UDP GSO send refused (%s): %u x %llu B is more than the kernel takes in "
			 "one send (at most 64 segments on most kernels, 64 KiB in all, each "
			 "datagram within the MTU): lower --gso or the size",
			 err == EINVAL ? "EINVAL" : "EMSGSIZE", plan->gso,
			 (unsigned long long)plan->msg_size);
}

static unsigned reap(struct worker *w, struct wstate *s)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	io_uring_for_each_cqe(&s->ring, head, cqe) {
		unsigned si = (unsigned)(cqe->user_data >> 32);
		bool warm = cqe->user_data & UD_WARMUP;
		int slot = (int)((uint32_t)cqe->user_data & ~UD_WARMUP) - 1;
		struct stream *st;
		uint32_t want;
		bool notif;

		n++;
		if (cqe->user_data == UINT64_MAX)
			continue;    /* the drain's cancel request, not a send */
		if (cqe->user_data == UD_TICK) {
			s->tick = false;
			/* expired (or cancelled by the drain): anything else, the kernel lacks it */
			if (cqe->res != -ETIME && cqe->res != -ECANCELED)
				s->tick_ok = false;
			continue;
		}
		st = &s->st[si];
		want = slot >= 0 && s->slot_len ? s->slot_len[slot] : (uint32_t)w->plan->msg_size;
		notif = tx_acct_cqe(&s->acct, &s->pool, slot, cqe->res, cqe->flags, want);
		if (notif) {
			st->notif_pending--;
			s->notif_pending--;
			continue;
		}
		st->inflight--;
		if (cqe->res >= 0) {
			st->bytes += (uint64_t)cqe->res;
			st->sends++;
			if (warm) {
				st->bytes_omit += (uint64_t)cqe->res;
				st->sends_omit++;
				s->warm_bytes += (uint64_t)cqe->res;
				s->warm_sends++;
			}
		} else {
			s->last_err = -cqe->res;
		}
		if (cqe->flags & IORING_CQE_F_MORE) {
			st->notif_pending++;
			s->notif_pending++;
		}
		/* the drain's own cancel (a stopped or stalled run) is not the stream's failure */
		if (cqe->res == -ECANCELED && s->resetting)
			continue;
		if (cqe->res < 0 && fatal_send_errno(-cqe->res) && !st->dead) {
			char what[340];
			int err = -cqe->res, soerr = 0;
			socklen_t sl = sizeof(soerr);

			st->dead = true;
			w->out->streams_failed++;
			/*
			 * A TCP chain is cancelled behind a send that came back short:
			 * the socket's pending error (a reset, a broken pipe) says why.
			 */
			if (err == ECANCELED && st->fd >= 0 &&
			    !getsockopt(st->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) && soerr)
				err = soerr;
			snprintf(what, sizeof(what), "send to %s", w->plan->dest_str);
			if (err == ECANCELED && !s->udp && st->fd >= 0 && !w->out->first_error[0]) {
				struct stall_tcp ti;

				/* the short send took the error with it: the state tells the rest */
				if (!stall_tcp_read(st->fd, &ti) && ti.state != 1 /* established */)
					snprintf(w->out->first_error, sizeof(w->out->first_error),
						 "send to %.200s: the connection broke (TCP state %s: "
						 "the peer closed or reset it; a send came back short "
						 "and those queued behind it were cancelled)",
						 w->plan->dest_str, stall_tcp_state_name(ti.state));
			}
			if (w->plan->gso > 1)
				gso_error(w, err);
			set_first_error(w->out, what, err);
		}
	}
	io_uring_cq_advance(&s->ring, n);
	return n;
}

static void wait_n(struct wstate *s, uint64_t ns, unsigned nr)
{
	struct __kernel_timespec ts = { .tv_sec = (long long)(ns / 1000000000ULL),
					.tv_nsec = (long long)(ns % 1000000000ULL) };
	struct io_uring_cqe *cqe;

	io_uring_submit_and_wait_timeout(&s->ring, &cqe, nr ? nr : 1, &ts, NULL);
}

static void wait_some(struct wstate *s, uint64_t ns)
{
	wait_n(s, ns, 1);
}

/*
 * An unpaced ring waits for @nr completions. A wait with a timeout makes
 * the kernel start and cancel a timer on every io_uring_enter(), one per
 * send when one send is in flight; instead, a timeout request of
 * WAIT_TICK_NS (the tick) sits in the ring, re-armed when it expires, and
 * the wait has no timeout of its own: the tick's CQE wakes it for the stop
 * and the stall watch as the timeout did. tick_arm() queues it before the
 * sends, so that a batch that fills the SQ leaves it its SQE. The tick's
 * CQE counts towards a wait's number, so only waits for one CQE rely on
 * it; a TCP chain's longer wait keeps its timeout. Without the tick (a
 * kernel that refused it): the timed wait.
 */
static void tick_arm(struct wstate *s)
{
	struct io_uring_sqe *sqe;

	if (s->tick || !s->tick_ok)
		return;
	sqe = io_uring_get_sqe(&s->ring);
	if (!sqe)
		return;
	io_uring_prep_timeout(sqe, &s->tick_ts, 0, 0);
	sqe->user_data = UD_TICK;
	s->tick = true;
}

static void wait_unpaced(struct wstate *s, unsigned nr)
{
	s->waits++;
	if (nr != 1 || !s->tick) {
		wait_n(s, WAIT_TICK_NS, nr);
		return;
	}
	s->tick_waits++;
	io_uring_submit_and_wait(&s->ring, 1);
}

/*
 * How many completions an unpaced TCP ring waits for: a stream takes new
 * sends only when its whole chain has completed, so waking up for each CQE
 * of a chain finds nothing to do. Wait for the shortest chain in flight
 * (the first stream that can take more); 1 when some stream is idle.
 */
static unsigned tcp_wait_nr(const struct wstate *s)
{
	unsigned nr = UINT32_MAX;

	for (unsigned i = 0; i < s->ns; i++) {
		const struct stream *st = &s->st[i];

		if (st->dead)
			continue;
		if (!st->inflight)
			return 1;
		if (st->inflight < nr)
			nr = st->inflight;
	}
	return nr == UINT32_MAX ? 1 : nr;
}

/*
 * Queue one send on stream @si: a UDP send takes a slot and writes each of
 * its datagrams' headers (a GSO send carries plan->gso datagrams, each with
 * its own header at its own offset); TCP sends share one region.
 * Return: the datagrams it carries (1 for TCP), with their size in @dsize;
 * 0 when no slot or SQE is free.
 */
static unsigned send_one(struct worker *w, struct wstate *s, unsigned si, uint32_t sec,
			 uint32_t usec, uint32_t *dsize)
{
	const struct engine_plan *plan = w->plan;
	struct stream *st = &s->st[si];
	uint32_t size = (uint32_t)plan->msg_size, len;
	unsigned n = s->udp ? plan->gso : 1;
	int msgflags = s->udp ? MSG_NOSIGNAL : MSG_NOSIGNAL | MSG_WAITALL;
	struct io_uring_sqe *sqe;
	uint8_t *p = s->buf;
	int slot = -1;
	bool mark = s->warmup && plan->mark_warmup;

	if (s->udp) {
		slot = slots_get(&s->pool);
		if (slot < 0)
			return 0;
	}
	sqe = io_uring_get_sqe(&s->ring);
	if (!sqe) {
		if (slot >= 0)
			slots_put(&s->pool, (uint32_t)slot);
		return 0;
	}
	if (s->udp) {
		if (s->use_mix)
			size = imix_next(&s->mix);
		p = s->buf + (uint64_t)slot * plan->slot_size;
		for (unsigned k = 0; k < n; k++) {
			struct gen_udp_hdr *h = (struct gen_udp_hdr *)(p + (uint64_t)k * size);

			h->sec = sec;
			h->usec = usec;
			h->seq = htobe64(mark ? UDPSEQ_WARMUP | st->wseq++ : st->seq++);
		}
		s->slot_len[slot] = size * n;
	}
	len = size * n;
	if (!s->udp) {
		p += payload_aligned_at(st->off + (mark ? PAYLOAD_WARMUP_SHIFT : 0));
		st->off += len;
	}
	switch (s->mode) {
	case GEN_MODE_COPY:
	case GEN_MODE_AUTO:
		io_uring_prep_send(sqe, st->file, p, len, msgflags);
		break;
	case GEN_MODE_ZC:
		io_uring_prep_send_zc(sqe, st->file, p, len, msgflags, IORING_SEND_ZC_REPORT_USAGE);
		break;
	case GEN_MODE_ZC_FIXED:
		io_uring_prep_send_zc_fixed(sqe, st->file, p, len, msgflags,
					    IORING_SEND_ZC_REPORT_USAGE, 0);
		break;
	}
	if (s->fixed_files)
		sqe->flags |= IOSQE_FIXED_FILE;
	sqe->user_data = ud_pack(si, slot, s->warmup);
	s->last_sqe = sqe;
	st->inflight++;
	s->acct.inflight++;
	s->queued++;
	*dsize = size;
	return n;
}

/*
 * TCP: the sends of one stream must reach the socket in order. io_uring
 * does not order requests on one socket: a send that finds the socket
 * buffer full waits for space, and another send queued behind it may be
 * retried first, so their bytes interleave in the stream. A stream
 * therefore takes new sends only when none is in flight, and takes them as
 * one linked chain (IOSQE_IO_LINK): each starts when the one before it has
 * completed. Up to depth sends per chain, submitted in one go.
 */
static void queue_tcp_chains(struct worker *w, struct wstate *s, unsigned *budget)
{
	unsigned first = s->turn.next;

	for (unsigned k = 0; k < s->ns; k++) {
		unsigned si = (first + k) % s->ns, b = s->npc > 1 ? si : 0;
		struct stream *st = &s->st[si];
		struct io_uring_sqe *prev = NULL;
		uint32_t dsize = 0;

		if (st->dead || st->inflight)
			continue;
		for (unsigned d = 0; d < s->depth && budget[b]; d++) {
			if (!send_one(w, s, si, 0, 0, &dsize))
				return;      /* the SQ is full: the next batch goes on */
			if (prev)
				prev->flags |= IOSQE_IO_LINK;
			else
				pacer_turn_served(&s->turn, si);
			prev = s->last_sqe;
			if (s->npc) {
				budget[b]--;
				pacer_sent(&s->pc[b], dsize);
			}
		}
	}
}

/* One UDP batch: what pacer_turn_fill() asks of stream @si (see pacer_turn_send_fn). */
struct udp_batch {
	struct worker *w;
	struct wstate *s;
	uint32_t sec, usec;
};

static inline int udp_send_turn(void *ctx, unsigned si)
{
	struct udp_batch *c = ctx;
	struct wstate *s = c->s;
	struct stream *st = &s->st[si];
	uint32_t dsize = 0;
	unsigned n;

	if (st->dead || st->inflight >= s->depth)
		return 0;
	n = send_one(c->w, s, si, c->sec, c->usec, &dsize);
	if (!n)
		return -1;
	for (unsigned d = 0; s->npc && d < n; d++)
		pacer_sent(&s->pc[s->npc > 1 ? si : 0], dsize);
	return (int)n;
}

/*
 * Queue what is due, the streams taking turns one send at a time
 * (pacer_turn_fill), until the budget is spent or no stream can take more
 * (depth, slots, SQEs). An unpaced ring's budget is unlimited: every stream
 * fills up to its depth. A paced ring asks each pacer once per batch and
 * charges each datagram. TCP streams take whole chains, in the same turn.
 */
static void queue_sends(struct worker *w, struct wstate *s, uint64_t now)
{
	struct udp_batch c = { .w = w, .s = s };
	unsigned budget[GEN_MAX_STREAMS];

	for (unsigned i = 0; i < (s->npc ? s->npc : 1); i++)
		budget[i] = s->npc ? pacer_due(&s->pc[i], now) : PACER_UNLIMITED;
	if (!s->udp) {
		queue_tcp_chains(w, s, budget);
		return;
	}
	/* one clock read per batch: the timestamp is the batch's submit time */
	{
		uint64_t t = now_ns(CLOCK_REALTIME);

		c.sec = htonl((uint32_t)(t / 1000000000ULL));
		c.usec = htonl((uint32_t)((t % 1000000000ULL) / 1000));
	}
	pacer_turn_fill(&s->turn, budget, s->npc > 1 ? s->npc : 1, udp_send_turn, &c);
}

/* How long a paced worker waits for the next due send (or a completion). */
static uint64_t pace_wait(const struct wstate *s)
{
	uint64_t t = now_ns(CLOCK_MONOTONIC), next = UINT64_MAX, d;

	for (unsigned i = 0; i < s->npc; i++) {
		uint64_t n = pacer_next_ns(&s->pc[i], t);

		if (n < next)
			next = n;
	}
	if (next == UINT64_MAX)
		return WAIT_TICK_NS;       /* the schedule has ended (a last step of 0) */
	d = next > t ? next - t : 0;
	if (d < PACE_TICK_NS)
		d = PACE_TICK_NS;
	return d < WAIT_TICK_NS ? d : WAIT_TICK_NS;
}

static double pace_charged(const struct wstate *s)
{
	double c = 0;

	for (unsigned i = 0; i < s->npc; i++)
		c += s->pc[i].cost_sent;
	return c;
}

/* The pacers' credit given up after late wake-ups (pacer_due()'s @dropped), in the rate's unit. */
static double pace_forfeited(const struct wstate *s)
{
	double c = 0;

	for (unsigned i = 0; i < s->npc; i++)
		c += s->pc[i].dropped;
	return c;
}

/* The pacers start with the traffic: a ramp or the steps count from here. */
static int pace_start(struct worker *w, struct wstate *s)
{
	const struct engine_plan *plan = w->plan;
	const struct gen_rate *r = &plan->prof.rate;
	struct pacer_step steps[PACER_MAX_STEPS];
	struct pacer_cfg c = { 0 };
	double f = plan->pace_share;
	uint64_t now = now_ns(CLOCK_MONOTONIC);

	c.unit = plan->rate_pps ? PACER_PPS : PACER_BPS;
	c.rate = r->n_steps ? 0 : r->value * f;
	c.wire.layer = r->layer;
	c.wire.tcp = !s->udp;
	c.wire.ipv6 = plan->dest.ss_family == AF_INET6;
	c.size = plan->msg_size;
	c.mix = s->use_mix ? &s->mix : NULL;
	c.ramp_from = r->ramp_from * f;
	c.ramp_ns = r->ramp_ns;
	for (unsigned i = 0; i < r->n_steps && i < PACER_MAX_STEPS; i++)
		steps[i] = (struct pacer_step){ r->steps[i].rate * f, r->steps[i].for_ns };
	c.steps = steps;
	c.n_steps = r->n_steps;
	c.burst = r->burst;
	c.bucket_ns = PACE_BUCKET_NS;
	s->npc = plan->pacer_per_stream ? s->ns : 1;
	s->pc = calloc(s->npc, sizeof(*s->pc));
	if (!s->pc) {
		s->npc = 0;
		set_first_error(w->out, "allocation", ENOMEM);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < s->npc; i++) {
		int ret = pacer_init(&s->pc[i], &c, now);

		if (ret) {
			s->npc = 0;
			set_first_error(w->out, "the rate", -ret);
			return ret;
		}
	}
	/* wake-ups on time: the default 50 us timer slack is a whole tick */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	return 0;
}

/* Units (bits at the layer, or packets) the pacer's schedule set between two times. */
static double pace_scheduled(const struct pacer *p, uint64_t a, uint64_t b)
{
	const unsigned n = 4096;
	double sum = 0, dt;

	a = a > p->start_ns ? a - p->start_ns : 0;
	b = b > p->start_ns ? b - p->start_ns : 0;
	dt = (double)(b - a) / n;
	for (unsigned i = 0; i < n && b > a; i++)
		sum += pacer_rate_at(p, (uint64_t)(a + (i + 0.5) * dt)) * dt / 1e9;
	return sum;
}

/* Target and achieved rate over the worker's measured span, and whether it was missed. */
static void pace_result(struct worker *w, struct wstate *s)
{
	struct engine_queue_result *o = w->out;
	double span = (double)(s->meas_t1 - s->meas_t0) / 1e9, sched = 0;

	if (!s->npc || s->meas_t1 <= s->meas_t0)
		return;
	for (unsigned i = 0; i < s->npc; i++) {
		sched += pace_scheduled(&s->pc[i], s->meas_t0, s->meas_t1);
		o->rate_missed |= s->pc[i].missed;
	}
	o->rate_target = sched / span;
	o->rate_achieved = (s->meas_c1 - s->meas_c0) / span;
	o->rate_forfeited = (s->meas_f1 - s->meas_f0) / span;
	if (o->rate_achieved < PACE_MISS_RATIO * o->rate_target)
		o->rate_missed = true;
}

/* Where queue @q stream @s connects: the target, with its port from target.ports if given. */
static void dest_for(const struct engine_plan *plan, unsigned q, unsigned s,
		     struct sockaddr_storage *ss)
{
	uint16_t port = sockopts_dport(&plan->so, q, s);

	*ss = plan->dest;
	if (!port)
		return;
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
}

static int open_streams(struct worker *w, struct wstate *s)
{
	const struct engine_plan *plan = w->plan;
	int type = s->udp ? SOCK_DGRAM : SOCK_STREAM;
	char soerr[sizeof(w->out->first_error)];
	int *fds;
	unsigned ok = 0;

	fds = calloc(s->ns, sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	for (unsigned i = 0; i < s->ns; i++) {
		struct stream *st = &s->st[i];
		struct sockaddr_storage dest;

		st->seq = st->wseq = 1;
		if (w->fds) {
			/* connected (and greeted) by the controller, in its order */
			st->fd = fds[i] = st->file = w->fds[i];
			ok++;
			continue;
		}
		/* target.ports: each stream its own destination port (gen/sockopts.h) */
		dest_for(plan, w->idx, i, &dest);
		st->fd = socket(plan->dest.ss_family, type | SOCK_CLOEXEC, 0);
		if (st->fd < 0) {
			set_first_error(w->out, "socket", errno);
			st->dead = true;
			fds[i] = -1;
			continue;
		}
		if (sockopts_apply(&plan->so, w->idx, i, st->fd, soerr, sizeof(soerr))) {
			if (!w->out->first_error[0])
				snprintf(w->out->first_error, sizeof(w->out->first_error), "%s", soerr);
			st->dead = true;
		} else if (connect(st->fd, (const struct sockaddr *)&dest, plan->destlen)) {
			char what[340], ds[300];

			format_dest(&dest, ds, sizeof(ds));
			snprintf(what, sizeof(what), "connect to %s (queue %u stream %u)", ds, w->idx, i);
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

		if (s->st[i].fd >= 0 && !getsockopt(s->st[i].fd, IPPROTO_TCP, TCP_INFO, &ti, &l)) {
			w->out->retransmits += ti.tcpi_total_retrans;
			if (w->out->st)
				w->out->st[i].retransmits = ti.tcpi_total_retrans;
		}
	}
}

/* ---- stall watch (gen/stall.h) ---- */

static uint64_t stall_look_ns(const struct engine_plan *plan)
{
	uint64_t t = plan->prof.stall_timeout_ns / 8;

	if (t > STALL_LOOK_NS)
		return STALL_LOOK_NS;
	return t < STALL_LOOK_MIN_NS ? STALL_LOOK_MIN_NS : t;
}

/*
 * One look for progress, published for the sampler. TCP: did any stream's
 * tcpi_bytes_acked move, and does any hold bytes not yet acknowledged or
 * sends not yet completed. UDP: did sends complete with bytes, and is
 * anything in flight, a notification outstanding or a send tried since.
 */
static void stall_look(struct worker *w, struct wstate *s, uint64_t now)
{
	bool progress = false, owed = s->acct.inflight || s->notif_pending ||
				      s->queued != s->look_queued;

	if (s->udp) {
		progress = s->acct.bytes != s->look_bytes;
	} else {
		for (unsigned i = 0; i < s->ns; i++) {
			struct stream *st = &s->st[i];

			if (st->dead || st->fd < 0)
				continue;
			st->ti_ok = !stall_tcp_read(st->fd, &st->ti);
			if (!st->ti_ok || !st->ti.has_acked) {
				/* no TCP_INFO: completed sends are all there is */
				progress |= st->bytes != st->acked;
				st->acked = st->bytes;
				continue;
			}
			progress |= st->ti.bytes_acked != st->acked;
			owed |= st->inflight || stall_tcp_owed(&st->ti);
			st->acked = st->ti.bytes_acked;
		}
	}
	s->look_bytes = s->acct.bytes;
	s->look_queued = s->queued;
	stall_watch_note(&s->sw, now, progress, owed);
	/* progress before checked (release): a sampler that sees this look sees its progress */
	atomic_store_explicit(&w->stall_progress, s->sw.progress_ns, memory_order_relaxed);
	atomic_store_explicit(&w->stall_checked, s->sw.checked_ns, memory_order_release);
	s->stall_next = now + stall_look_ns(w->plan);
}

/* After a stall: what this ring shows, for the report (engine_queue_result.stall_note). */
static void stall_note(struct worker *w, struct wstate *s)
{
	struct engine_queue_result *o = w->out;
	char last[128], d[360];
	int best = -1;
	unsigned owing = 0;

	if (s->last_err)
		snprintf(last, sizeof(last), "last send error %s", strerror(s->last_err));
	else
		snprintf(last, sizeof(last), "no send error");
	if (s->udp) {
		snprintf(o->stall_note, sizeof(o->stall_note),
			 "%llu sends in flight, %llu zero-copy notifications outstanding, %u of %u "
			 "slots free%s; %s", (unsigned long long)s->acct.inflight,
			 (unsigned long long)s->notif_pending, s->pool.nfree, s->pool.n,
			 s->notif_pending && !s->pool.nfree ?
			 " (the kernel holds every buffer: datagrams queued behind a next hop whose "
			 "address does not resolve, or a device that does not transmit)" : "", last);
		return;
	}
	for (unsigned i = 0; i < s->ns; i++) {
		struct stream *st = &s->st[i];

		if (st->dead || st->fd < 0 || stall_tcp_read(st->fd, &st->ti))
			continue;
		if (!st->inflight && !stall_tcp_owed(&st->ti))
			continue;
		owing++;
		if (best < 0 || st->ti.unacked > s->st[best].ti.unacked)
			best = (int)i;
	}
	if (best < 0) {
		snprintf(o->stall_note, sizeof(o->stall_note), "no stream holds unacknowledged "
			 "bytes; %s", last);
		return;
	}
	stall_tcp_describe(&s->st[best].ti, d, sizeof(d));
	snprintf(o->stall_note, sizeof(o->stall_note), "%u of %u streams waiting; stream %d: %s; "
		 "%s", owing, s->ns, best, d, last);
}

/*
 * Stop: no new sends; wait (bounded) for every send CQE and notification.
 * A stalled receiver can hold TCP notifications for ever: then cancel what
 * is pending, reset the connections (SO_LINGER 0 frees their queued data)
 * and wait a little more for the notifications that this releases.
 */
static void drain(struct worker *w, struct wstate *s)
{
	/* a stalled path drains nothing: reset at once, so the end comes soon after the fault */
	bool stalled = atomic_load(&w->shared->stalled);
	uint64_t deadline = now_ns(CLOCK_MONOTONIC) + (stalled ? 0 : DRAIN_TIMEOUT_NS);
	uint64_t timeout = w->plan->prof.stall_timeout_ns, now;

	while ((s->acct.inflight || s->notif_pending) &&
	       (now = now_ns(CLOCK_MONOTONIC)) < deadline) {
		wait_some(s, WAIT_TICK_NS);
		reap(w, s);
		/*
		 * The watch goes on while draining: a path that died just before
		 * the stop is found here (the ring's own looks, from before the
		 * stop too) rather than after the whole drain timeout.
		 */
		/*
		 * UDP has no progress to see while draining (nothing is sent; the
		 * notifications the kernel still holds are the drain's own
		 * figures, outstanding and lingered): only TCP's acks are judged.
		 */
		now = now_ns(CLOCK_MONOTONIC);
		if (!timeout || s->udp || now < s->stall_next)
			continue;
		stall_look(w, s, now);
		if (s->sw.checked_ns - s->sw.progress_ns >= timeout) {
			w->out->drain_stalled_s = (s->sw.checked_ns - s->sw.progress_ns) / 1e9;
			stall_note(w, s);
			stalled = true;
			break;
		}
	}
	if (!s->udp)
		tcp_retrans(w, s);
	/* stalled: reset even sockets with nothing in the ring (their data sits unacknowledged) */
	if (!s->acct.inflight && !s->notif_pending && !stalled)
		return;
	w->out->outstanding = s->acct.inflight + s->notif_pending;
	w->out->lingered = true;
	s->resetting = true;
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
		if (w->fds)
			w->fds[i] = -1; /* the controller must not touch it any more */
	}
	deadline = now_ns(CLOCK_MONOTONIC) + (stalled ? STALL_LINGER_WAIT_NS : LINGER_WAIT_NS);
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

/*
 * UDP slots: each datagram (a GSO send's too) is its header, rewritten per
 * send, then the payload pattern from offset 0 (gen/payload.h), written once.
 */
static int udp_slots_setup(struct worker *w, struct wstate *s)
{
	const struct engine_plan *plan = w->plan;
	const struct gen_profile *prof = &plan->prof;

	s->slot_len = calloc(plan->slots, sizeof(*s->slot_len));
	if (!s->slot_len) {
		set_first_error(w->out, "allocation", ENOMEM);
		return -ENOMEM;
	}
	if (prof->n_sizes && imix_init(&s->mix, prof->sizes, prof->n_sizes) == 0)
		s->use_mix = true;
	for (unsigned i = 0; i < plan->slots; i++)
		for (unsigned k = 0; k < plan->gso; k++)
			payload_fill(s->buf + i * plan->slot_size + k * plan->max_size + GEN_UDP_HDR_LEN,
				     plan->max_size - GEN_UDP_HDR_LEN, 0);
	return 0;
}

/*
 * A TCP stream's send buffer for copy sends (plan->tcp_sndbuf):
 * SO_SNDBUFFORCE where the process may (CAP_NET_ADMIN), else SO_SNDBUF,
 * which the kernel caps at net.core.wmem_max. Either fixes the size:
 * autotuning stops for the socket.
 */
static int set_sndbuf(int fd, uint32_t bytes)
{
	int v = (int)bytes;

	if (!setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) ||
	    !setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)))
		return 0;
	return -errno;
}

/*
 * Per-socket options of this work: UDP_SEGMENT for GSO (one send of N x
 * size bytes leaves as N datagrams of size), and SO_MAX_PACING_RATE for
 * rate.tcp_pacing (the stream's share of the highest rate of the schedule,
 * counted as the kernel counts it, with headers, plus a little headroom:
 * zcgen's pacer keeps the mean, the kernel spaces the segments).
 */
static int stream_options(struct worker *w, struct wstate *s)
{
	const struct engine_plan *plan = w->plan;
	const struct gen_rate *r = &plan->prof.rate;
	uint64_t pacing = 0;

	if (!s->udp && plan->paced && r->tcp_pacing) {
		struct pacer_wire at = { .layer = r->layer, .tcp = true,
					 .ipv6 = plan->dest.ss_family == AF_INET6 };
		struct pacer_wire l2 = at;
		double peak = r->n_steps ? 0 : r->value, bps;

		l2.layer = PACER_LAYER_L2;
		if (r->ramp_ns && r->ramp_from > peak)
			peak = r->ramp_from;
		for (unsigned i = 0; i < r->n_steps; i++)
			if (r->steps[i].rate > peak)
				peak = r->steps[i].rate;
		bps = peak * pacer_split(1.0, r->per, plan->nq, plan->prof.streams, 1) *
		      (double)pacer_wire_bytes(&l2, plan->msg_size) /
		      (double)pacer_wire_bytes(&at, plan->msg_size);
		pacing = (uint64_t)(bps / 8 * TCP_PACING_HEADROOM);
	}
	for (unsigned i = 0; i < s->ns; i++) {
		struct stream *st = &s->st[i];

		if (st->dead || st->fd < 0)
			continue;
		if (plan->tcp_sndbuf && s->mode == GEN_MODE_COPY) {
			int ret = set_sndbuf(st->fd, plan->tcp_sndbuf);

			if (ret) {
				set_first_error(w->out, "SO_SNDBUF", -ret);
				return ret;
			}
		}
		if (s->udp && plan->gso > 1) {
			int seg = (int)plan->msg_size;

			if (setsockopt(st->fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg))) {
				int e = errno;

				snprintf(w->out->first_error, sizeof(w->out->first_error),
					 "UDP GSO: setting UDP_SEGMENT to %d failed: %s%s", seg,
					 strerror(e), e == ENOPROTOOPT ? " (the kernel lacks UDP GSO, "
					 "Linux 4.18 or later has it): run without --gso" : "");
				return -e;
			}
		}
		if (pacing && setsockopt(st->fd, SOL_SOCKET, SO_MAX_PACING_RATE, &pacing,
					 sizeof(pacing))) {
			set_first_error(w->out, "rate.tcp_pacing: SO_MAX_PACING_RATE", errno);
			return -errno;
		}
	}
	return 0;
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
	s->buf = hugebuf_alloc(plan->ring_buf_bytes, plan->prof.hugepages, &o->buf_huge,
			       &o->buf_maplen);
	if (!s->buf) {
		ret = -errno;
		set_first_error(o, plan->prof.hugepages == GEN_HUGEPAGES_ON ?
				"the ring's buffer (buffers.hugepages on: no huge page free)" :
				"the ring's buffer", -ret);
		return ret;
	}
	payload_fill(s->buf, plan->ring_buf_bytes, 0);
	if (s->udp) {
		ret = udp_slots_setup(w, s);
		if (ret)
			return ret;
	}
	/* each io_uring_enter() then skips the ring file's lookup (optional: older kernels lack it) */
	(void)io_uring_register_ring_fd(&s->ring);
	if (plan->mode == GEN_MODE_ZC_FIXED) {
		struct iovec iov = { .iov_base = s->buf, .iov_len = plan->ring_buf_bytes };

		ret = io_uring_register_buffers(&s->ring, &iov, 1);
		if (ret) {
			set_first_error(o, "registering the zc-fixed buffer", -ret);
			return ret;
		}
	}
	ret = open_streams(w, s);
	return ret ? ret : stream_options(w, s);
}

static void worker_teardown(struct worker *w, struct wstate *s)
{
	struct engine_queue_result *o = w->out;

	/* controller mode: the sockets stay open until the controller is done */
	for (unsigned i = 0; s->st && i < s->ns && !w->fds; i++)
		if (s->st[i].fd >= 0)
			close(s->st[i].fd);
	for (unsigned i = 0; s->st && o->st && i < s->ns; i++) {
		struct stream *st = &s->st[i];

		o->st[i].bytes_all = st->bytes;
		o->st[i].sends_all = st->sends;
		o->st[i].bytes = st->bytes - st->bytes_omit;
		o->st[i].sends = st->sends - st->sends_omit;
		o->st[i].failed = st->dead;
		if (s->udp) {
			o->st[i].datagrams_all = st->sends * w->plan->gso;
			o->st[i].datagrams = o->st[i].sends * w->plan->gso;
		}
	}
	/* exiting the ring waits for the kernel to let go of the buffer */
	if (s->ring_ok)
		io_uring_queue_exit(&s->ring);
	hugebuf_release(s->buf, o->buf_maplen);
	/* the measured part: the sends queued after the warm-up */
	o->bytes_all = s->acct.bytes;
	o->bytes = s->acct.bytes - s->warm_bytes;
	o->sends = s->acct.sends - s->warm_sends;
	o->zc_sends = s->acct.zc_sends;
	o->notifs = s->acct.notifs;
	o->zc_copied = s->acct.zc_copied;
	o->short_sends = s->acct.short_sends;
	o->errors = s->acct.errors;
	o->slot_violations = s->pool.violations;
	o->waits = s->waits;
	o->waits_untimed = s->tick_waits;
	o->slots_dry_max_s = s->dry_max / 1e9;
	memcpy(o->err_errno, s->acct.err_errno, sizeof(o->err_errno));
	memcpy(o->err_count, s->acct.err_count, sizeof(o->err_count));
	slots_destroy(&s->pool);
	free(s->st);
	free(s->slot_len);
	free(s->pc);
}

/*
 * UDP: every slot waiting for its notification. Only the transitions read
 * the clock, so the hot path pays one branch.
 */
static inline void dry_watch(struct wstate *s, bool end)
{
	bool dry = s->udp && !s->pool.nfree && !end;
	uint64_t t;

	if (dry == (s->dry_t0 != 0))
		return;
	t = now_ns(CLOCK_MONOTONIC);
	if (dry) {
		s->dry_t0 = t;
		return;
	}
	if (t - s->dry_t0 > s->dry_max)
		s->dry_max = t - s->dry_t0;
	s->dry_t0 = 0;
}

/* The warm-up is over: sends queued from here on, and this thread's CPU time, are measured. */
static void mark_measuring(struct wstate *s, double *cpu0)
{
	s->meas_t0 = now_ns(CLOCK_MONOTONIC);
	s->meas_c0 = pace_charged(s);
	s->meas_f0 = pace_forfeited(s);
	s->warmup = false;
	if (cpustat_thread_self(cpu0))
		*cpu0 = -1;
}

/*
 * Mode auto, once zero-copy was chosen: the first notifications say whether
 * the kernel really sent from our pages. When it copied nearly all of them
 * (the receiver is on this host, or the device lacks scatter-gather), a
 * zero-copy send costs a copy plus the notification: the ring switches to
 * copy sends for the rest of the run, and the report says so.
 */
static void auto_adapt(struct worker *w, struct wstate *s)
{
	struct engine_queue_result *o = w->out;

	if (s->acct.notifs < ENGINE_AUTO_ADAPT_NOTIFS)
		return;
	s->adapt = false;
	o->auto_copied_pct = 100.0 * (double)s->acct.zc_copied / (double)s->acct.notifs;
	if (o->auto_copied_pct < ENGINE_AUTO_ADAPT_COPIED_PCT)
		return;
	s->mode = GEN_MODE_COPY;
	/* and copy's depth and send buffer (engine_plan()); a refused buffer only tunes less */
	s->depth = w->plan->depth_copy;
	for (unsigned i = 0; w->plan->tcp_sndbuf && i < s->ns; i++)
		if (!s->st[i].dead && s->st[i].fd >= 0)
			(void)set_sndbuf(s->st[i].fd, w->plan->tcp_sndbuf);
	o->auto_switched = true;
	o->auto_switch_sends = s->acct.sends;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct wstate s = { 0 };
	bool meas = false;
	double cpu0 = -1, cpu1;
	int ret;

	s.udp = w->plan->prof.proto == GEN_PROTO_UDP;
	s.ns = w->plan->q[w->idx].streams;
	pacer_turn_init(&s.turn, s.ns);
	s.mode = w->plan->mode;
	s.adapt = w->plan->auto_adapt;
	s.warmup = w->plan->prof.omit_ns != 0;
	s.tick_ts.tv_sec = (long long)(WAIT_TICK_NS / 1000000000ULL);
	s.tick_ts.tv_nsec = (long long)(WAIT_TICK_NS % 1000000000ULL);
	s.tick_ok = true;
	s.depth = w->plan->depth;
	ret = worker_setup(w, &s);
	/* all rings start together: wait for the go (or the stop) */
	atomic_fetch_add(&w->shared->ready, 1);
	while (!atomic_load(&w->shared->go) && !atomic_load(&w->shared->stop))
		usleep(200);
	if (!ret && w->plan->paced)
		ret = pace_start(w, &s);
	if (!ret) {
		stall_watch_start(&s.sw, now_ns(CLOCK_MONOTONIC));
		atomic_store(&w->stall_progress, s.sw.progress_ns);
		atomic_store(&w->stall_checked, s.sw.checked_ns);
		s.stall_next = s.sw.checked_ns + stall_look_ns(w->plan);
	}
	while (!ret && !atomic_load_explicit(&w->shared->stop, memory_order_relaxed)) {
		uint64_t now;
		bool alive = false;

		for (unsigned i = 0; i < s.ns && !alive; i++)
			alive = !s.st[i].dead;
		if (!alive && !s.acct.inflight)
			break;
		if (!meas && atomic_load_explicit(&w->shared->measuring, memory_order_relaxed)) {
			meas = true;
			mark_measuring(&s, &cpu0);
		}
		if (!s.npc)
			tick_arm(&s);
		queue_sends(w, &s, now_ns(CLOCK_MONOTONIC));
		if (s.npc)
			wait_some(&s, pace_wait(&s));
		else
			wait_unpaced(&s, s.udp ? 1 : tcp_wait_nr(&s));
		reap(w, &s);
		dry_watch(&s, false);
		if (s.adapt)
			auto_adapt(w, &s);
		publish(w, &s);
		if (w->plan->prof.stall_timeout_ns && (now = now_ns(CLOCK_MONOTONIC)) >= s.stall_next)
			stall_look(w, &s, now);
	}
	dry_watch(&s, true);
	/* CPU over the measured part: the drain is not part of it */
	s.meas_t1 = now_ns(CLOCK_MONOTONIC);
	s.meas_c1 = pace_charged(&s);
	s.meas_f1 = pace_forfeited(&s);
	if (meas)
		pace_result(w, &s);
	if (meas && cpu0 >= 0 && !cpustat_thread_self(&cpu1))
		w->out->cpu_s = cpu1 - cpu0;
	/* stopped in the warm-up: every send was the warm-up's, nothing is measured */
	if (!ret && atomic_load(&w->shared->stalled))
		stall_note(w, &s);
	if (!ret)
		drain(w, &s);
	publish(w, &s);
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

/* Keep a new interval: bytes and sends per queue from @d (2 x nq: bytes, then sends). */
static int add_interval(struct engine_result *res, unsigned nq, const struct sampler_span *sp,
			const uint64_t *d)
{
	struct engine_interval *iv = realloc(res->iv, (res->nint + 1) * sizeof(*iv));

	if (!iv)
		return -ENOMEM;
	res->iv = iv;
	iv = &res->iv[res->nint];
	iv->start_s = sp->start_ns / 1e9;
	iv->end_s = sp->end_ns / 1e9;
	iv->bytes = calloc(nq, sizeof(uint64_t));
	iv->sends = calloc(nq, sizeof(uint64_t));
	iv->total = calloc(nq, sizeof(*iv->total));
	if (!iv->bytes || !iv->sends || !iv->total) {
		free(iv->bytes);
		free(iv->sends);
		free(iv->total);
		return -ENOMEM;
	}
	memcpy(iv->bytes, d, nq * sizeof(uint64_t));
	memcpy(iv->sends, d + nq, nq * sizeof(uint64_t));
	res->nint++;
	return 0;
}

/*
 * Controller mode: every data connection from this thread, one after
 * another in (queue, stream) order, each greeted by the controller before
 * the next, so that the peer's numbering of streams maps to known pairs.
 */
static int ctl_connect(const struct engine_plan *plan, const volatile sig_atomic_t *stop,
		       struct engine_ctl *ctl, int *fds)
{
	int type = plan->prof.proto == GEN_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
	unsigned k = 0;
	int ret;

	for (unsigned q = 0; q < plan->nq; q++) {
		for (unsigned i = 0; i < plan->q[q].streams; i++, k++) {
			if (stop && *stop) {
				snprintf(ctl->err, sizeof(ctl->err),
					 "interrupted while opening the data connections");
				return -EINTR;
			}
			fds[k] = socket(plan->dest.ss_family, type | SOCK_CLOEXEC, 0);
			if (fds[k] < 0) {
				ret = -errno;
				snprintf(ctl->err, sizeof(ctl->err), "data socket: %s", strerror(-ret));
				return ret;
			}
			ret = sockopts_apply(&plan->so, q, i, fds[k], ctl->err, sizeof(ctl->err));
			if (ret)
				return ret;
			if (connect(fds[k], (const struct sockaddr *)&plan->dest, plan->destlen)) {
				ret = -errno;
				snprintf(ctl->err, sizeof(ctl->err),
					 "data connection %u (queue %u stream %u) to %s: %s", k + 1,
					 plan->q[q].queue, i, plan->dest_str, strerror(-ret));
				return ret;
			}
			ret = ctl->stream_open(ctl, plan->q[q].queue, i, fds[k]);
			if (ret) {
				if (!ctl->err[0])
					snprintf(ctl->err, sizeof(ctl->err),
						 "data connection %u (queue %u stream %u): %s", k + 1,
						 plan->q[q].queue, i, strerror(-ret));
				return ret;
			}
		}
	}
	return 0;
}

const char *engine_end_name(enum engine_end e)
{
	switch (e) {
	case ENGINE_END_DURATION: return "duration";
	case ENGINE_END_SIGNAL: return "signal";
	case ENGINE_END_STALLED: return "stalled";
	case ENGINE_END_ERROR: return "error";
	}
	return "?";
}

/*
 * The whole run's counts so far, warm-up included, for --metrics: what the
 * workers last published (after their drain, for the last interval).
 */
static void fill_totals(struct engine_totals *tt, struct worker *w, unsigned nq)
{
	for (unsigned i = 0; i < nq; i++)
		tt[i] = (struct engine_totals){
			atomic_load_explicit(&w[i].live.bytes, memory_order_relaxed),
			atomic_load_explicit(&w[i].live.sends, memory_order_relaxed),
			atomic_load_explicit(&w[i].live.notifs, memory_order_relaxed),
			atomic_load_explicit(&w[i].live.zc_copied, memory_order_relaxed),
			atomic_load_explicit(&w[i].live.errors, memory_order_relaxed) };
}

/* The sampler's stall check: every live ring without progress for the timeout. */
static bool run_stalled(struct worker *w, unsigned nq, uint64_t timeout, uint64_t *sp,
			bool *live, uint64_t *for_ns)
{
	uint64_t *checked = sp + nq;

	for (unsigned i = 0; i < nq; i++) {
		live[i] = w[i].started && !atomic_load(&w[i].done);
		/* checked first (acquire), then the progress published before it */
		checked[i] = atomic_load_explicit(&w[i].stall_checked, memory_order_acquire);
		sp[i] = atomic_load_explicit(&w[i].stall_progress, memory_order_relaxed);
	}
	return stall_judge(sp, checked, live, nq, timeout, for_ns);
}

/* Why the run ended, in words, once the workers are joined. */
static void end_message(const struct engine_plan *plan, struct engine_result *res)
{
	size_t o = 0, len = sizeof(res->end_msg);
	char *m = res->end_msg;

	if (res->end == ENGINE_END_ERROR) {
		for (unsigned i = 0; i < res->nq; i++)
			if (res->q[i].first_error[0]) {
				snprintf(m, len, "every ring stopped: queue %u: %s", res->q[i].queue,
					 res->q[i].first_error);
				return;
			}
		return;
	}
	if (res->end != ENGINE_END_STALLED)
		return;
	o = (size_t)snprintf(m, len, "path stalled: %s on %s for %.1f s (stall timeout %.1f s)%s",
			     plan->prof.proto == GEN_PROTO_TCP ? "no bytes acknowledged" :
			     "no datagram sent", res->stalled_in_drain ? "a draining ring" :
			     "any stream", res->stalled_s, plan->prof.stall_timeout_ns / 1e9,
			     res->stalled_in_drain ? ", while it drained after the duration" : "");
	for (unsigned i = 0; i < res->nq && o < len; i++)
		if (res->q[i].stall_note[0])
			o += (size_t)snprintf(m + o, len - o, "; queue %u: %s", res->q[i].queue,
					      res->q[i].stall_note);
}

/* One run, for engine_run() and its helpers. */
struct run {
	const struct engine_plan *plan;
	struct engine_result *res;
	const volatile sig_atomic_t *stop;
	engine_interval_cb cb;
	void *cb_arg;
	struct engine_ctl *ctl;
	struct run_shared shared;
	struct worker *w;
	unsigned nq, started;
	int *fds;                    /* controller mode: nfds data sockets in connection order */
	unsigned nfds;
	struct sampler_cfg scfg;
	struct sampler smp;
	uint64_t *cur, *delta;       /* 2 x nq: measured bytes, then sends, per queue */
	uint64_t *stall_sp;          /* 2 x nq for run_stalled() */
	bool *stall_live;
};

/* The caller asked the run to stop (a signal). */
static bool run_stopped(const struct run *r)
{
	return r->stop && *r->stop;
}

static int run_alloc(struct run *r)
{
	unsigned nq = r->nq;

	r->scfg = (struct sampler_cfg){
		.n = 2 * r->nq, .interval_ns = r->plan->prof.interval_ns,
		.omit_ns = r->plan->prof.omit_ns,
		/*
		 * The drain after the duration's own tick: a sliver is dropped,
		 * not merged, as the interval before it was given out live
		 * already (--json-stream, --metrics).
		 */
		.sliver_ns = 1000000ULL, .sliver_merge = false,
	};
	r->res->nq = nq;
	r->res->q = calloc(nq, sizeof(*r->res->q));
	r->w = calloc(nq, sizeof(*r->w));
	r->cur = calloc(nq * 6, sizeof(uint64_t));
	r->stall_live = calloc(nq, sizeof(bool));
	if (!r->res->q || !r->w || !r->cur || !r->stall_live)
		return -ENOMEM;
	r->delta = r->cur + 2 * nq;
	r->stall_sp = r->cur + 4 * nq;
	for (unsigned i = 0; i < nq; i++) {
		r->res->q[i].st = calloc(r->plan->q[i].streams, sizeof(*r->res->q[i].st));
		if (!r->res->q[i].st)
			return -ENOMEM;
		r->nfds += r->plan->q[i].streams;
	}
	if (r->ctl && r->ctl->stream_open) {
		r->fds = malloc(r->nfds * sizeof(*r->fds));
		if (!r->fds)
			return -ENOMEM;
		for (unsigned k = 0; k < r->nfds; k++)
			r->fds[k] = -1;
	}
	return 0;
}

static void run_free(struct run *r)
{
	for (unsigned k = 0; r->fds && k < r->nfds; k++)
		if (r->fds[k] >= 0)
			close(r->fds[k]);
	free(r->fds);
	sampler_free(&r->smp);
	free(r->cur);
	free(r->stall_live);
	free(r->w);
}

/* One worker per queue; a worker that cannot start is a ring that failed. */
static void run_start_workers(struct run *r)
{
	const struct engine_plan *plan = r->plan;

	atomic_init(&r->shared.stop, false);
	atomic_init(&r->shared.go, false);
	atomic_init(&r->shared.measuring, plan->prof.omit_ns == 0);
	atomic_init(&r->shared.ready, 0);
	atomic_init(&r->shared.stalled, false);
	for (unsigned i = 0, off = 0; i < r->nq; off += plan->q[i].streams, i++) {
		struct worker *w = &r->w[i];
		struct engine_queue_result *q = &r->res->q[i];

		w->plan = plan;
		w->fds = r->fds ? r->fds + off : NULL;
		w->shared = &r->shared;
		w->idx = i;
		w->out = q;
		q->queue = plan->q[i].queue;
		q->cpu = plan->q[i].cpu;
		q->streams = plan->q[i].streams;
		atomic_init(&w->done, false);
		atomic_init(&w->stall_progress, 0);
		atomic_init(&w->stall_checked, 0);
		if (pthread_create(&w->th, NULL, worker_main, w)) {
			snprintf(q->first_error, sizeof(q->first_error), "cannot start the worker thread");
			atomic_store(&w->done, true);
			continue;
		}
		w->started = true;
		r->started++;
	}
	while (atomic_load(&r->shared.ready) < r->started)
		usleep(1000);
}

static void run_join(struct run *r)
{
	atomic_store(&r->shared.stop, true);
	for (unsigned i = 0; i < r->nq; i++)
		if (r->w[i].started)
			pthread_join(r->w[i].th, NULL);
}

/* A new interval from the sampler: kept, with the totals so far, and given to the callback. */
static void run_interval(struct run *r, const struct sampler_span *sp)
{
	struct engine_result *res = r->res;

	if (add_interval(res, r->nq, sp, r->delta))
		return;
	fill_totals(res->iv[res->nint - 1].total, r->w, r->nq);
	if (r->cb)
		r->cb(r->plan, &res->iv[res->nint - 1], r->cb_arg);
}

/*
 * Sample until the duration ends (from the end of the warm-up), a signal,
 * the controller's peer ends it, the path stalls, or every ring stopped.
 * Return: the time the sampling stopped.
 */
static uint64_t run_sample(struct run *r)
{
	const struct engine_plan *plan = r->plan;
	struct engine_result *res = r->res;
	unsigned nq = r->nq;
	uint64_t t_end = r->smp.t_meas + plan->prof.duration_ns;

	while (!run_stopped(r) && !atomic_load(&r->shared.stop)) {
		uint64_t now = now_ns(CLOCK_MONOTONIC), due = sampler_due(&r->smp);
		uint64_t wake = due < t_end ? due : t_end, stalled_for;
		struct sampler_span sp;
		bool all_done = true;

		if (r->ctl && r->ctl->poll && r->ctl->poll(r->ctl)) {
			res->end = ENGINE_END_ERROR; /* the peer ended the test */
			break;
		}
		if (run_stalled(r->w, nq, plan->prof.stall_timeout_ns, r->stall_sp, r->stall_live,
				&stalled_for)) {
			res->end = ENGINE_END_STALLED;
			res->stalled_s = stalled_for / 1e9;
			atomic_store(&r->shared.stalled, true);   /* before stop: the workers reset */
			break;
		}
		if (now < wake) {
			/* short naps so that SIGINT, dead workers and a stall are seen quickly */
			sleep_until(now + 50000000ULL < wake ? now + 50000000ULL : wake);
			/* every ring gave up (all streams failed): no point waiting */
			for (unsigned i = 0; i < nq; i++)
				all_done &= atomic_load(&r->w[i].done);
			if (all_done) {
				res->end = ENGINE_END_ERROR;
				break;
			}
			continue;
		}
		/*
		 * The measured counts: 0 until the workers see the warm-up end
		 * (they mark it after the store below), so that the intervals
		 * add up to the total.
		 */
		for (unsigned i = 0; i < nq; i++) {
			r->cur[i] = atomic_load_explicit(&r->w[i].live.bytes_meas, memory_order_relaxed);
			r->cur[nq + i] = atomic_load_explicit(&r->w[i].live.sends_meas,
							      memory_order_relaxed);
		}
		switch (sampler_tick(&r->smp, now, r->cur, &sp, r->delta)) {
		case SAMPLER_MEASURING:
			atomic_store(&r->shared.measuring, true);
			break;
		case SAMPLER_INTERVAL:
			run_interval(r, &sp);
			break;
		default:
			break;
		}
		if (now >= t_end)
			break;
	}
	return now_ns(CLOCK_MONOTONIC);
}

/* After the join: the last partial interval, and the run's totals and end. */
static void run_finish(struct run *r, uint64_t t_end)
{
	const struct engine_plan *plan = r->plan;
	struct engine_result *res = r->res;
	struct sampler_span sp;

	/* the last partial interval, from the final counts */
	for (unsigned i = 0; i < r->nq; i++) {
		r->cur[i] = res->q[i].bytes;
		r->cur[r->nq + i] = res->q[i].sends;
	}
	if (sampler_end(&r->smp, t_end, r->cur, &sp, r->delta) == SAMPLER_INTERVAL)
		run_interval(r, &sp);

	/* the workers counted the measured part apart from the warm-up */
	for (unsigned i = 0; i < r->nq; i++) {
		if (plan->prof.proto == GEN_PROTO_UDP)
			res->q[i].datagrams = res->q[i].sends * plan->gso;
	}
	/* stopped during the warm-up: nothing measured */
	res->duration_s = sampler_measured_ns(&r->smp, t_end) / 1e9;
	/* a path that died just before the end was found by the rings' drains */
	for (unsigned i = 0; i < r->nq && res->end == ENGINE_END_DURATION; i++)
		if (res->q[i].drain_stalled_s > 0) {
			res->end = ENGINE_END_STALLED;
			res->stalled_in_drain = true;
			res->stalled_s = res->q[i].drain_stalled_s;
		}
	end_message(plan, res);
	if (!(res->q[0].ring_flags & IORING_SETUP_DEFER_TASKRUN))
		snprintf(res->ring_note, sizeof(res->ring_note),
			 "io_uring without DEFER_TASKRUN (kernel refused it): flags 0x%x",
			 res->q[0].ring_flags);
}

int engine_run(const struct engine_plan *plan, const struct engine_run_ctx *ctx,
	       struct engine_result *res)
{
	struct engine_ctl *ctl = ctx->ctl;
	struct run r = { .plan = plan, .res = res, .stop = ctx->stop, .cb = ctx->cb,
			 .cb_arg = ctx->cb_arg, .ctl = ctl, .nq = plan->nq };
	uint64_t t_end;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = run_alloc(&r);
	if (ret)
		goto out;
	if (ctl)
		ctl->err[0] = '\0';
	if (ctl && ctl->stream_open) {
		ret = ctl_connect(plan, r.stop, ctl, r.fds);
		if (ret)
			goto out;
	}
	run_start_workers(&r);
	if (ctl && (ret = ctl->start(ctl))) {
		if (!ctl->err[0])
			snprintf(ctl->err, sizeof(ctl->err), "the test did not start: %s",
				 strerror(-ret));
		run_join(&r);
		goto out;
	}
	atomic_store(&r.shared.go, true);
	ret = sampler_init(&r.smp, &r.scfg, now_ns(CLOCK_MONOTONIC));
	if (ret) {
		run_join(&r);
		goto out;
	}
	res->omitted_s = plan->prof.omit_ns / 1e9;
	t_end = run_sample(&r);
	res->interrupted = run_stopped(&r);
	if (res->interrupted)
		res->end = ENGINE_END_SIGNAL;
	run_join(&r);
	run_finish(&r, t_end);
	/* the workers have drained; the sockets are still open for the controller */
	if (ctl && ctl->finish)
		ctl->finish(ctl, r.fds, r.fds ? r.nfds : 0, plan, res);
	/*
	 * A signal after the duration (in the drain or the controller's result
	 * exchange) cut the run's end short: it ended by that signal, as the
	 * exit status will say. A stall or an error found first keeps its name.
	 */
	if (run_stopped(&r) && res->end == ENGINE_END_DURATION) {
		res->end = ENGINE_END_SIGNAL;
		res->interrupted = true;
	}
out:
	run_free(&r);
	return ret;
}

void engine_result_free(struct engine_result *res)
{
	for (unsigned i = 0; i < res->nint; i++) {
		free(res->iv[i].bytes);
		free(res->iv[i].sends);
		free(res->iv[i].total);
	}
	free(res->iv);
	for (unsigned i = 0; res->q && i < res->nq; i++)
		free(res->q[i].st);
	free(res->q);
	memset(res, 0, sizeof(*res));
}
