/* iperf3run.c - a zcgen run as the client side of the iperf3 control protocol */
#define _GNU_SOURCE
#include "gen/iperf3run.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "gen/engine.h"
#include "gen/pacer.h"
#include "gen/stall.h"
#include <time.h>

static struct iperf3run *of(struct engine_ctl *ctl)
{
	return ctl->arg;
}

/* "the iperf3 server" / "the zcgen sink": the peer in messages */
static const char *peer_name(const struct iperf3run *r)
{
	return r->kind == GEN_SERVER_ZCGEN ? "the zcgen sink" : "the iperf3 server";
}

/* The peer took the connection but did not speak the protocol. */
static void not_iperf3(struct iperf3run *r, int err)
{
	char why[128];

	if (err == -ETIMEDOUT)
		snprintf(why, sizeof(why), "no answer to the cookie within %d ms",
			 IPERF3RUN_HELLO_TIMEOUT_MS);
	else
		snprintf(why, sizeof(why), "%s", strerror(-err));
	if (r->kind == GEN_SERVER_ZCGEN)
		snprintf(r->msg, sizeof(r->msg),
			 "the receiver at %s does not answer the iperf3 control protocol (%s): is "
			 "it a zcgen sink older than its iperf3 server side, or a plain receiver? "
			 "use --server none", r->where, why);
	else
		snprintf(r->msg, sizeof(r->msg),
			 "the receiver at %s does not answer the iperf3 control protocol (%s): is "
			 "it `iperf3 -s`? a plain receiver (or zcgen sink) needs --server none",
			 r->where, why);
}

/* Whole seconds, rounded up: the server is never told less than the run. */
/*
 * iperf3's "bandwidth": payload bit/s per stream (iperf3 applies -b to each
 * stream), from the rate's target (a ramp's value, or the last step), its
 * share of one stream and its unit. 0 (no key) when the run is not paced.
 */
static uint64_t stream_bandwidth(const struct engine_plan *plan)
{
	const struct gen_profile *p = &plan->prof;
	const struct gen_rate *r = &p->rate;
	struct pacer_wire w = { .layer = r->layer, .tcp = p->proto == GEN_PROTO_TCP,
				.ipv6 = plan->dest.ss_family == AF_INET6 };
	double v = r->n_steps ? r->steps[r->n_steps - 1].rate : r->value, size = 0, wire = 0;

	if (!plan->paced)
		return 0;
	v *= pacer_split(1.0, r->per, plan->nq, p->streams, 1);
	if (p->n_sizes) {
		uint64_t n = 0;

		for (unsigned i = 0; i < p->n_sizes; i++) {
			size += (double)p->sizes[i].size * p->sizes[i].weight;
			wire += (double)pacer_wire_bytes(&w, p->sizes[i].size) * p->sizes[i].weight;
			n += p->sizes[i].weight;
		}
		size /= (double)n;
		wire /= (double)n;
	} else {
		size = (double)plan->msg_size;
		wire = (double)pacer_wire_bytes(&w, plan->msg_size);
	}
	if (plan->rate_pps)
		v *= size * 8;
	else
		v *= size / wire;
	return v >= 1 ? (uint64_t)v : 1;   /* 0 would mean unlimited: a pause is not that */
}

static unsigned whole_s(uint64_t ns, bool *rounded)
{
	*rounded = ns % 1000000000ULL != 0;
	return (unsigned)((ns + 999999999ULL) / 1000000000ULL);
}

static void add_note(struct iperf3run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_note(struct iperf3run *r, const char *fmt, ...)
{
	size_t n = strlen(r->note);
	va_list ap;

	if (n && n + 2 < sizeof(r->note)) {
		strcpy(r->note + n, "; ");
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(r->note + n, sizeof(r->note) - n, fmt, ap);
	va_end(ap);
}

/* ---- the engine's callbacks ---- */

static int cb_stream_open(struct engine_ctl *ctl, unsigned queue, unsigned stream, int fd)
{
	struct iperf3run *r = of(ctl);
	int ret = iperf3_data_hello(fd, r->c.cookie, r->udp);

	if (ret == -ETIMEDOUT)
		snprintf(ctl->err, sizeof(ctl->err),
			 "%s did not answer the UDP handshake of queue %u stream %u within 10 s "
			 "(is UDP to %s blocked?)", peer_name(r), queue, stream, r->where);
	else if (ret)
		snprintf(ctl->err, sizeof(ctl->err), "queue %u stream %u: iperf3 %s: %s", queue,
			 stream, r->udp ? "UDP handshake" : "cookie", strerror(-ret));
	return ret;
}

static int cb_start(struct engine_ctl *ctl)
{
	struct iperf3run *r = of(ctl);
	int ret = iperf3_client_wait_start(&r->c);

	if (ret) {
		snprintf(ctl->err, sizeof(ctl->err), "%s at %s did not start the test: %s",
			 peer_name(r), r->where, r->c.err);
		r->failed = true;
		return ret;
	}
	r->running = true;
	return 0;
}

static int cb_poll(struct engine_ctl *ctl)
{
	struct iperf3run *r = of(ctl);
	int ret = iperf3_client_check(&r->c);

	if (ret) {
		snprintf(r->msg, sizeof(r->msg), "%s at %s ended the test early: %s", peer_name(r),
			 r->where, r->c.err);
		r->failed = true;
	}
	return ret;
}

/* zcgen's counts as iperf3's sender results: payload bytes only, per stream in connection order. */
static void fill_mine(struct iperf3run *r, const struct engine_result *res)
{
	struct iperf3_results *m = &r->mine;
	double cpu = 0;
	unsigned k = 0;

	memset(m, 0, sizeof(*m));
	m->sender_has_retransmits = r->udp ? 0 : 1;
	for (unsigned q = 0; q < res->nq; q++) {
		const struct engine_queue_result *qr = &res->q[q];

		cpu += qr->cpu_s;
		for (unsigned s = 0; s < qr->streams && k < IPERF3_MAX_STREAMS; s++, k++) {
			const struct engine_stream_result *st = &qr->st[s];
			struct iperf3_stream_result *o = &m->streams[k];

			o->id = iperf3_stream_id(k);
			o->bytes = st->bytes;
			o->retransmits = r->udp ? -1 : (int64_t)st->retransmits;
			if (r->udp) {
				/* iperf3's sender: every datagram, and those of the warm-up */
				o->packets = st->datagrams_all;
				o->omitted_packets = st->datagrams_all - st->datagrams;
			}
			o->end_time = res->duration_s;
		}
	}
	m->n_streams = k;
	/* iperf3 only displays it: the workers' own CPU over the measured time */
	if (res->duration_s > 0)
		m->cpu_util_total = 100.0 * cpu / res->duration_s;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Bytes acknowledged on the TCP data sockets so far (UDP sockets have none). */
static uint64_t acked_sum(const int *fds, unsigned n)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < n; i++) {
		struct stall_tcp t;

		if (fds[i] >= 0 && !stall_tcp_read(fds[i], &t) && t.has_acked)
			sum += t.bytes_acked;
	}
	return sum;
}

/*
 * iperf3_drain_wait() in short slices, so that a path that dies now (after
 * the rings drained) is seen after the stall timeout without an ACK, not
 * after the whole drain timeout. Return: 0, -ETIMEDOUT (the queues did not
 * empty in time, still moving), -EPIPE (nothing acknowledged for @stall_ms).
 */
/* The command asked to stop (a signal). */
static bool stopped(const struct iperf3run *r)
{
	return r->stop && *r->stop;
}

static int drain_wait_watched(const struct iperf3run *r, const int *fds, unsigned n,
			      int64_t stall_ms)
{
	int64_t start = mono_ms(), moved = start, now;
	uint64_t acked = acked_sum(fds, n), a;
	int ret;

	for (;;) {
		ret = iperf3_drain_wait(fds, n, 100, 0);
		if (ret != -ETIMEDOUT)
			break;
		if (stopped(r))
			return -EINTR; /* Ctrl-C while the queues empty: stop waiting */
		now = mono_ms();
		if (now - start >= IPERF3RUN_DRAIN_TIMEOUT_MS)
			return -ETIMEDOUT;
		a = acked_sum(fds, n);
		if (a != acked) {
			acked = a;
			moved = now;
		} else if (stall_ms > 0 && now - moved >= stall_ms) {
			return -EPIPE;
		}
	}
	if (!ret) { /* the settle (iperf3.h): for a receiver we cannot see */
		struct timespec ts = { 0, IPERF3RUN_SETTLE_MS * 1000000L };

		while (nanosleep(&ts, &ts) && errno == EINTR && !stopped(r))
			;
		if (stopped(r))
			return -EINTR;
	}
	return ret;
}

static void cb_finish(struct engine_ctl *ctl, const int *fds, unsigned nfds,
		      const struct engine_plan *plan, const struct engine_result *res)
{
	struct iperf3run *r = of(ctl);
	int ret;

	if (r->failed)
		return; /* the server gave up: nothing to exchange */
	if (res->interrupted) {
		/* as iperf3's client does on SIGINT: no results, the server ends too */
		if (!iperf3_client_terminate(&r->c))
			r->terminated = true;
		add_note(r, "interrupted: CLIENT_TERMINATE sent, so %s reports no counts",
			 peer_name(r));
		return;
	}
	if (res->end == ENGINE_END_STALLED || res->end == ENGINE_END_ERROR) {
		/*
		 * The path is dead, the server stopped reading, or every data
		 * connection failed (a killed server resets them): the send queues
		 * will not empty and results would not come back. Say
		 * CLIENT_TERMINATE (one byte, it does not wait) and go, so the run
		 * ends within seconds of the fault.
		 */
		if (!iperf3_client_terminate(&r->c))
			r->terminated = true;
		add_note(r, "%s: CLIENT_TERMINATE sent, so %s reports no counts",
			 res->end == ENGINE_END_STALLED ? "the path stalled" : "every stream failed",
			 peer_name(r));
		return;
	}
	ret = drain_wait_watched(r, fds, nfds, (int64_t)(plan->prof.stall_timeout_ns / 1000000));
	if (ret == -EINTR) {
		/* a signal after the duration: as on SIGINT during the run */
		if (!iperf3_client_terminate(&r->c))
			r->terminated = true;
		add_note(r, "interrupted while the send queues emptied: CLIENT_TERMINATE sent, so %s "
			 "reports no counts", peer_name(r));
		return;
	}
	if (ret == -EPIPE) {
		if (!iperf3_client_terminate(&r->c))
			r->terminated = true;
		snprintf(r->msg, sizeof(r->msg), "path stalled after the run: no bytes acknowledged "
			 "for %.1f s while the send queues emptied; CLIENT_TERMINATE sent, so %s at %s "
			 "reports no counts", plan->prof.stall_timeout_ns / 1e9, peer_name(r), r->where);
		r->failed = true;
		return;
	}
	if (ret == -ETIMEDOUT)
		add_note(r, "the send queues had not emptied %d ms after the stop: %s's count "
			 "may miss the bytes still queued", IPERF3RUN_DRAIN_TIMEOUT_MS, peer_name(r));
	fill_mine(r, res);
	/* a server that is up answers at once: a dead one must not hold the run for long */
	r->c.timeout_ms = IPERF3RUN_END_TIMEOUT_MS;
	ret = iperf3_client_end(&r->c, &r->mine, &r->theirs);
	if (ret) {
		snprintf(r->msg, sizeof(r->msg), "%s at %s: exchanging results: %s", peer_name(r),
			 r->where, r->c.err);
		r->failed = true;
		return;
	}
	r->ended = true;
}

/* ---- the run ---- */

int iperf3run_begin(struct iperf3run *r, const struct engine_plan *plan,
		    const volatile sig_atomic_t *stop)
{
	const struct gen_profile *p = &plan->prof;
	struct iperf3_params par = { 0 };
	bool rounded;
	unsigned k = 0;
	int ret;

	memset(r, 0, sizeof(*r));
	r->stop = stop;
	r->c.ctrl_fd = -1;
	r->kind = p->server;
	r->udp = p->proto == GEN_PROTO_UDP;
	snprintf(r->where, sizeof(r->where), "%s", plan->dest_str);
	r->ctl.arg = r;
	r->ctl.stream_open = cb_stream_open;
	r->ctl.start = cb_start;
	r->ctl.poll = cb_poll;
	r->ctl.finish = cb_finish;

	for (unsigned q = 0; q < plan->nq; q++)
		k += plan->q[q].streams;
	if (k > IPERF3_MAX_STREAMS) {
		snprintf(r->msg, sizeof(r->msg),
			 "the iperf3 protocol carries at most %d streams (iperf3 -P), and queues x "
			 "streams is %u: lower queues or streams, or use --server none",
			 IPERF3_MAX_STREAMS, k);
		return -EINVAL;
	}
	r->nstreams = k;
	k = 0;
	for (unsigned q = 0; q < plan->nq; q++)
		for (unsigned s = 0; s < plan->q[q].streams; s++, k++) {
			r->q_of[k] = plan->q[q].queue;
			r->s_of[k] = s;
		}

	par.udp = r->udp;
	par.parallel = r->nstreams;
	r->time_s = par.time_s = whole_s(p->duration_ns, &rounded);
	if (rounded)
		add_note(r, "iperf3 takes whole seconds: the test time was sent as %u s (zcgen "
			 "still stops after %.3f s)", r->time_s, p->duration_ns / 1e9);
	r->omit_s = par.omit_s = whole_s(p->omit_ns, &rounded);
	if (rounded)
		add_note(r, "the warm-up was sent as omit %u s (zcgen omits %.3f s)", r->omit_s,
			 p->omit_ns / 1e9);
	par.len = plan->msg_size;
	par.bandwidth = stream_bandwidth(plan); /* 0: as fast as it goes, no "bandwidth" key */
	par.udp_counters_64bit = r->udp;
	/* a zcgen sink leaves out the warm-up the engine marks on the wire (plan->mark_warmup) */
	par.zcgen_warmup = r->kind == GEN_SERVER_ZCGEN;

	ret = iperf3_client_connect(&r->c, p->host, p->port, 0);
	if (ret) {
		snprintf(r->msg, sizeof(r->msg), "cannot open the control connection to %s at %s: %s%s",
			 peer_name(r), r->where, strerror(-ret),
			 ret == -ECONNREFUSED ? (r->kind == GEN_SERVER_ZCGEN ?
				" (is `zcgen sink` listening there, on TCP?)" :
				" (is `iperf3 -s` listening there?)") : "");
		return ret;
	}
	r->connected = true;
	/* a real server answers the cookie at once; a plain receiver never does */
	r->c.timeout_ms = IPERF3RUN_HELLO_TIMEOUT_MS;
	ret = iperf3_client_params(&r->c, &par);
	r->c.timeout_ms = 10000;
	r->failed = ret != 0; /* refused or not understood: nothing to terminate */
	if (ret == -EACCES) {
		snprintf(r->msg, sizeof(r->msg), "%s at %s is busy with another test "
			 "(ACCESS_DENIED): try again when it is done", peer_name(r), r->where);
		return ret;
	}
	if (ret == -ETIMEDOUT || ret == -ECONNRESET || (ret == -EPROTO && !r->c.server_ierrno)) {
		not_iperf3(r, ret);
		return ret;
	}
	if (ret) {
		snprintf(r->msg, sizeof(r->msg), "%s at %s refused the test: %s", peer_name(r),
			 r->where, r->c.err);
		return ret;
	}
	ret = iperf3_client_wait_create_streams(&r->c);
	if (ret) {
		r->failed = true;
		snprintf(r->msg, sizeof(r->msg), "%s at %s refused the test: %s", peer_name(r),
			 r->where, r->c.err);
		return ret;
	}
	return 0;
}

/* The server's stream id back to the index of zcgen's connection: 1 -> 0, 3 -> 1, 4 -> 2 ... */
static int index_of_id(int id)
{
	return id == 1 ? 0 : id >= 3 ? id - 2 : -1;
}

static void lat_copy(const struct iperf3_zcgen_latency *l, struct report_latency *o)
{
	memset(o, 0, sizeof(*o));
	if (!l->present)
		return;
	o->present = true;
	o->valid = l->valid;
	o->p50 = l->p50;
	o->p90 = l->p90;
	o->p99 = l->p99;
	o->p99_9 = l->p99_9;
	o->max = l->max;
	o->mean = l->mean;
	o->count = l->count;
	o->negative = l->negative;
}

/* A zcgen sink's additions to one stream, and their sums in @v. */
static void extra_copy(const struct iperf3_zcgen *z, struct report_receiver_stream *o,
		       struct report_receiver *v)
{
	if (!z->present)
		return;
	o->x.extra = true;
	lat_copy(&z->lat, &o->x.lat);
	o->x.verified = z->verified;
	o->x.corrupt_bytes = z->corrupt_bytes;
	o->x.corrupt_datagrams = z->corrupt_datagrams;
	o->x.duplicates = z->duplicates;
	o->x.reordered = z->reordered;
	if (!v->x.extra) {
		v->x.extra = true;
		v->x.verified = true;
	}
	v->x.verified &= z->verified;
	v->x.corrupt_bytes += z->corrupt_bytes;
	v->x.corrupt_datagrams += z->corrupt_datagrams;
	v->x.duplicates += z->duplicates;
	v->x.reordered += z->reordered;
}

const struct report_receiver *iperf3run_receiver(struct iperf3run *r)
{
	struct report_receiver *v = &r->rcv;
	double jit = 0;

	if (!r->ended)
		return NULL;
	memset(v, 0, sizeof(*v));
	v->source = r->kind == GEN_SERVER_ZCGEN ? "zcgen" : "iperf3";
	v->udp = r->udp;
	for (unsigned i = 0; i < r->theirs.n_streams; i++) {
		const struct iperf3_stream_result *t = &r->theirs.streams[i];
		struct report_receiver_stream *o = &r->rs[v->n];
		int k = index_of_id(t->id);
		/*
		 * iperf3: packets is the highest sequence seen (received + lost),
		 * warm-up apart. iperf3 3.12's server sends no omitted_packets
		 * (its packets cover the whole run): its own client then takes
		 * its own warm-up's datagrams, and so does zcgen.
		 */
		uint64_t om = t->omitted_known || k < 0 || (unsigned)k >= r->nstreams ?
			      t->omitted_packets : r->mine.streams[k].omitted_packets;
		uint64_t highest = t->packets - (om <= t->packets ? om : 0);
		int64_t lost = t->errors - (t->omitted_errors > 0 ? t->omitted_errors : 0);

		if (k < 0 || (unsigned)k >= r->nstreams) {
			add_note(r, "%s reported a stream id %d that zcgen did not open", peer_name(r),
				 t->id);
			continue;
		}
		memset(o, 0, sizeof(*o));
		o->id = t->id;
		o->queue = r->q_of[k];
		o->stream = r->s_of[k];
		o->bytes = t->bytes;
		if (r->udp) {
			o->lost = lost > 0 ? (uint64_t)lost : 0;
			o->packets = highest > o->lost ? highest - o->lost : 0;
			o->jitter_ms = t->jitter * 1e3;
			/*
			 * What we sent beyond the highest sequence it saw: iperf3's
			 * packets count from the first datagram of the run; a zcgen
			 * sink's from the first of the measured part (the warm-up
			 * has its own sequences, gen/udpseq.h).
			 */
			uint64_t sent = r->mine.streams[k].packets;

			if (r->kind == GEN_SERVER_ZCGEN)
				sent -= r->mine.streams[k].omitted_packets;
			if (sent > t->packets)
				o->tail_lost = sent - t->packets;
			extra_copy(&t->zcgen, o, v);
		}
		v->bytes += o->bytes;
		v->packets += o->packets;
		v->lost += o->lost;
		v->tail_lost += o->tail_lost;
		jit += o->jitter_ms;
		v->n++;
	}
	if (r->theirs.n_streams != r->nstreams)
		add_note(r, "%s counted %u streams, zcgen opened %u", peer_name(r),
			 r->theirs.n_streams, r->nstreams);
	if (v->n)
		v->jitter_ms = jit / v->n;
	if (r->udp)
		lat_copy(&r->theirs.zcgen_latency, &v->x.lat);
	v->streams = r->rs;
	return v;
}

void iperf3run_done(struct iperf3run *r)
{
	if (r->connected && !r->ended && !r->terminated && !r->failed &&
	    !iperf3_client_terminate(&r->c))
		r->terminated = true;
	iperf3_client_close(&r->c);
	r->connected = false;
}
