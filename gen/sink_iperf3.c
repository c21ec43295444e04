/* sink_iperf3.c - inside the sink: iperf3 tests (control thread, streams shared with the workers) */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "gen/sink_iperf3.h"

#define QUIET_STEP_MS   50    /* after TEST_END: how often the counters are looked at */
#define QUIET_STEPS     4     /* unchanged this many times in a row: everything was read */
#define QUIET_MAX_MS    3000  /* give up waiting for quiet (a sender that goes on) */

/*
 * A test's life: NEW (its control connection handed over by a worker),
 * STARTING (its thread reads the parameters), STREAMS (CREATE_STREAMS sent:
 * its data streams are taken), RUNNING, ENDING (TEST_END came: results),
 * DONE (control connection closed; its thread is joined by the manager).
 */
enum { ST_NEW, ST_STARTING, ST_STREAMS, ST_RUNNING, ST_ENDING, ST_DONE };

struct ip3_test {
	struct sink_iperf3_test pub;  /* streams is NULL here; built by sink_ip3_results() */
	struct sink_ip3 *ip;
	char cookie[IPERF3_COOKIE_LEN];
	bool params_known;
	struct iperf3_params params;
	unsigned n_streams;
	struct ip3_stream *streams[IPERF3_MAX_STREAMS];  /* registration order */
	struct ip3_stream *order[IPERF3_MAX_STREAMS];    /* id order, once ids_given */
	bool ids_given;
	bool finished;                /* the results were snapshot for the client */
	/* Under the sink_ip3 lock: */
	int state;
	int ctrl_fd;                  /* its control connection, -1 once closed */
	pthread_t thread;
	bool thread_ok;               /* created and not joined yet */
};

struct sink_ip3 {
	pthread_mutex_t lock;         /* everything below, and each test's state and ctrl_fd */
	pthread_cond_t cond;
	pthread_t thread;             /* the manager: starts and joins the tests' threads */
	bool thread_ok;
	bool quit;
	struct ip3_test **tests;      /* every test, in arrival order */
	unsigned n_tests, cap_tests;
	struct ip3_test **live;       /* the tests not DONE, at most max_tests */
	unsigned n_live, max_tests;
	unsigned n_threads;           /* tests' threads created and not joined */
	unsigned n_reap;              /* of those, DONE ones */
	/*
	 * The UDP test that takes UDP connect messages now, or NULL. A UDP
	 * stream's connect message carries no cookie, so with several tests
	 * at once only one UDP test at a time may be between CREATE_STREAMS
	 * and its last stream: every connect message is then its own. The
	 * others wait (a few ms: the time the client takes to connect its
	 * streams) before they send CREATE_STREAMS. TCP streams carry the
	 * cookie and need no such turn.
	 */
	struct ip3_test *udp_taker;
	int timeout_ms;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* CLOCK_REALTIME (the condition variable's clock) @ms from now. */
static struct timespec abs_in(unsigned ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

int sink_ip3_init(struct sink_ip3 **out, int timeout_ms, unsigned max_tests)
{
	struct sink_ip3 *ip = calloc(1, sizeof(*ip));

	if (!ip)
		return -ENOMEM;
	if (!max_tests)
		max_tests = SINK_IP3_DEFAULT_TESTS;
	if (max_tests > SINK_IP3_MAX_TESTS)
		max_tests = SINK_IP3_MAX_TESTS;
	ip->live = calloc(max_tests, sizeof(*ip->live));
	if (!ip->live) {
		free(ip);
		return -ENOMEM;
	}
	pthread_mutex_init(&ip->lock, NULL);
	pthread_cond_init(&ip->cond, NULL);
	ip->max_tests = max_tests;
	ip->timeout_ms = timeout_ms;
	*out = ip;
	return 0;
}

/* ---- called by the workers, under the lock ------------------------------- */

static struct ip3_stream *stream_new(struct ip3_test *t, bool udp, const char *peer,
				     unsigned worker, uint64_t order_ns)
{
	struct ip3_stream *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->t = t;
	st->index = t->n_streams;
	st->udp = udp;
	st->order_ns = order_ns;
	st->test_n = t->pub.n;
	atomic_init(&st->counters64, t->params.udp_counters_64bit);
	snprintf(st->out.peer, sizeof(st->out.peer), "%s", peer);
	st->out.worker = worker;
	t->streams[t->n_streams++] = st;
	return st;
}

static struct ip3_test *test_new(struct sink_ip3 *ip, const char *cookie, const char *peer, int fd)
{
	struct ip3_test *t;

	if (ip->n_tests == ip->cap_tests) {
		unsigned cap = ip->cap_tests ? ip->cap_tests * 2 : 16;
		struct ip3_test **n = realloc(ip->tests, cap * sizeof(*n));

		if (!n)
			return NULL;
		ip->tests = n;
		ip->cap_tests = cap;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ip = ip;
	memcpy(t->cookie, cookie, IPERF3_COOKIE_LEN);
	t->pub.n = ip->n_tests + 1;
	snprintf(t->pub.peer, sizeof(t->pub.peer), "%s", peer);
	t->state = ST_NEW;
	t->ctrl_fd = fd;
	ip->tests[ip->n_tests++] = t;
	ip->live[ip->n_live++] = t;
	return t;
}

/* A data stream is taken once CREATE_STREAMS went out (the parameters are known by then). */
static bool taking_streams(const struct sink_ip3 *ip, const struct ip3_test *t, bool udp)
{
	return !ip->quit && t->state == ST_STREAMS && t->params.udp == udp &&
	       t->n_streams < t->params.parallel;
}

static struct ip3_test *live_by_cookie(struct sink_ip3 *ip, const char *cookie)
{
	for (unsigned i = 0; i < ip->n_live; i++)
		if (!memcmp(cookie, ip->live[i]->cookie, IPERF3_COOKIE_LEN))
			return ip->live[i];
	return NULL;
}

enum ip3_verdict sink_ip3_tcp(struct sink_ip3 *ip, const char cookie[IPERF3_COOKIE_LEN], int fd,
			      const char *peer, unsigned worker, uint64_t order_ns,
			      struct ip3_stream **st)
{
	enum ip3_verdict v = IP3_DENY;
	struct ip3_test *t;

	*st = NULL;
	pthread_mutex_lock(&ip->lock);
	t = live_by_cookie(ip, cookie);
	if (t) {
		/* The test's own cookie: one of its data streams, while it takes them. */
		if (taking_streams(ip, t, false)) {
			*st = stream_new(t, false, peer, worker, order_ns);
			if (*st) {
				v = IP3_STREAM;
				pthread_cond_broadcast(&ip->cond);
			}
		}
	} else if (!ip->quit && ip->n_live < ip->max_tests && fd >= 0) {
		/* A new test: the manager gives it a thread of its own. */
		if (test_new(ip, cookie, peer, fd)) {
			v = IP3_CONTROL;
			pthread_cond_broadcast(&ip->cond);
		}
	}
	pthread_mutex_unlock(&ip->lock);
	return v;
}

struct ip3_stream *sink_ip3_udp_hello(struct sink_ip3 *ip, const char *peer, unsigned worker,
				      uint64_t order_ns)
{
	struct ip3_stream *st = NULL;
	struct ip3_test *t;

	pthread_mutex_lock(&ip->lock);
	t = ip->udp_taker;
	if (t && taking_streams(ip, t, true)) {
		st = stream_new(t, true, peer, worker, order_ns);
		if (st)
			pthread_cond_broadcast(&ip->cond);
	}
	pthread_mutex_unlock(&ip->lock);
	return st;
}

/* ---- the control thread ----------------------------------------------------- */

static void snap(struct ip3_stream *st)
{
	uint64_t jb = atomic_load_explicit(&st->jitter_bits, memory_order_relaxed);

	st->out.bytes = atomic_load_explicit(&st->bytes, memory_order_relaxed);
	st->out.packets = atomic_load_explicit(&st->packets, memory_order_relaxed);
	st->out.highest = atomic_load_explicit(&st->highest, memory_order_relaxed);
	st->out.lost = atomic_load_explicit(&st->lost, memory_order_relaxed);
	st->out.first_ns = atomic_load_explicit(&st->first_ns, memory_order_relaxed);
	st->out.last_ns = atomic_load_explicit(&st->last_ns, memory_order_relaxed);
	memcpy(&st->out.jitter_s, &jb, sizeof(jb));
}

static void test_fail(struct sink_ip3 *ip, struct ip3_test *t, int err, const char *why)
{
	pthread_mutex_lock(&ip->lock);
	t->pub.err = err ? err : -EPROTO;
	if (ip->quit)
		snprintf(t->pub.msg, sizeof(t->pub.msg), "the sink stopped during the test");
	else
		snprintf(t->pub.msg, sizeof(t->pub.msg), "%s", why && *why ? why : strerror(-t->pub.err));
	pthread_mutex_unlock(&ip->lock);
}

/* What the client asked, for the report. Under the lock. */
static void pub_params(struct ip3_test *t, const struct iperf3_params *p)
{
	t->pub.udp = p->udp;
	t->pub.parallel = p->parallel;
	t->pub.time_s = p->time_s;
	t->pub.len = p->len;
	t->pub.bandwidth = p->bandwidth;
	snprintf(t->pub.client_version, sizeof(t->pub.client_version), "%s", p->client_version);
}

/*
 * The parameters are in: a UDP test waits for its turn to take connect
 * messages (struct sink_ip3, udp_taker), then the parameters are published
 * and streams are taken from now on; the caller sends CREATE_STREAMS.
 */
static int params_known(struct sink_ip3 *ip, struct ip3_test *t, const struct iperf3_params *p,
			char *why, size_t whylen)
{
	uint64_t deadline = mono_ns() + (uint64_t)ip->timeout_ms * 1000000ull;
	int r = 0;

	pthread_mutex_lock(&ip->lock);
	pub_params(t, p);
	while (p->udp && ip->udp_taker && !ip->quit) {
		struct timespec ts = abs_in(100);

		if (mono_ns() > deadline) {
			snprintf(why, whylen, "iperf3 test: test %u held the UDP streams' set-up for "
				 "over %d ms", ip->udp_taker->pub.n, ip->timeout_ms);
			r = -ETIMEDOUT;
			goto out;
		}
		pthread_cond_timedwait(&ip->cond, &ip->lock, &ts);
	}
	if (ip->quit) {
		r = -ESHUTDOWN;
		goto out;
	}
	if (p->udp)
		ip->udp_taker = t;
	t->params = *p;
	t->params_known = true;
	t->state = ST_STREAMS;
out:
	pthread_mutex_unlock(&ip->lock);
	return r;
}

/* The UDP turn is over (every stream came, or the test failed): the next UDP test's. */
static void udp_turn_done(struct sink_ip3 *ip, struct ip3_test *t)
{
	pthread_mutex_lock(&ip->lock);
	if (ip->udp_taker == t) {
		ip->udp_taker = NULL;
		pthread_cond_broadcast(&ip->cond);
	}
	pthread_mutex_unlock(&ip->lock);
}

/* Anything on the control connection while we wait for streams ends the test. */
static int ctrl_check(int fd, char *why, size_t whylen)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	signed char state;
	int r;

	if (poll(&p, 1, 0) <= 0)
		return 0;
	r = iperf3_recv_state(fd, 0, &state);
	if (r) {
		snprintf(why, whylen, "iperf3 control connection lost while waiting for streams: %s",
			 strerror(-r));
		return r;
	}
	snprintf(why, whylen, state == IPERF3_CLIENT_TERMINATE ?
		 "iperf3 client terminated the test" : "iperf3 control: unexpected state %d", state);
	return state == IPERF3_CLIENT_TERMINATE ? -ECONNABORTED : -EPROTO;
}

static int wait_streams(struct sink_ip3 *ip, struct ip3_test *t, int fd, char *why, size_t whylen)
{
	uint64_t deadline = mono_ns() + (uint64_t)ip->timeout_ms * 1000000ull;
	int r = 0;

	pthread_mutex_lock(&ip->lock);
	while (t->n_streams < t->params.parallel) {
		struct timespec ts = abs_in(100);

		if (ip->quit) {
			r = -ESHUTDOWN;
			break;
		}
		if (mono_ns() > deadline) {
			snprintf(why, whylen, "iperf3 test: %u of %u streams came within %d ms",
				 t->n_streams, t->params.parallel, ip->timeout_ms);
			r = -ETIMEDOUT;
			break;
		}
		pthread_cond_timedwait(&ip->cond, &ip->lock, &ts);
		pthread_mutex_unlock(&ip->lock);
		r = ctrl_check(fd, why, whylen);
		pthread_mutex_lock(&ip->lock);
		if (r)
			break;
	}
	pthread_mutex_unlock(&ip->lock);
	return r;
}

/*
 * Stream ids in the order the streams came: iperf3's client numbers its
 * streams in the order it connected them, one after another. With several
 * workers two connections can be looked at out of order, so they are sorted
 * by when their first bytes arrived rather than taken as registered.
 */
static void give_ids(struct sink_ip3 *ip, struct ip3_test *t, struct iperf3_server *srv)
{
	pthread_mutex_lock(&ip->lock);
	for (unsigned i = 0; i < t->n_streams; i++) {
		struct ip3_stream *st = t->streams[i];
		unsigned k = i;

		while (k > 0 && t->order[k - 1]->order_ns > st->order_ns) {
			t->order[k] = t->order[k - 1];
			k--;
		}
		t->order[k] = st;
	}
	for (unsigned i = 0; i < t->n_streams; i++) {
		t->order[i]->out.id = iperf3_stream_id(i);
		iperf3_server_add_stream(srv);
	}
	t->ids_given = true;
	pthread_mutex_unlock(&ip->lock);
}

/* After TEST_END: what the kernel still holds for us is read before the counts are given. */
static void wait_quiet(struct ip3_test *t)
{
	uint64_t last = UINT64_MAX;
	unsigned same = 0;

	for (unsigned waited = 0; waited < QUIET_MAX_MS && same < QUIET_STEPS; waited += QUIET_STEP_MS) {
		uint64_t sum = 0;

		for (unsigned i = 0; i < t->n_streams; i++)
			sum += atomic_load_explicit(&t->streams[i]->bytes, memory_order_relaxed);
		same = sum == last ? same + 1 : 0;
		last = sum;
		sleep_ms(QUIET_STEP_MS);
	}
}

static void zlat_out(const struct hist *h, uint64_t negative, struct iperf3_zcgen_latency *o)
{
	struct lat_summary l;

	lat_summarize(h, negative, &l);
	memset(o, 0, sizeof(*o));
	if (!l.count)
		return;
	o->present = true;
	o->p50 = l.p50;
	o->p90 = l.p90;
	o->p99 = l.p99;
	o->p99_9 = l.p99_9;
	o->max = l.max;
	o->mean = l.mean;
	o->count = l.count;
	o->negative = l.negative;
	o->valid = l.valid;
}

/*
 * The stream's histogram, once the worker's count of it is seen (acquire):
 * what the worker recorded up to then is visible. The test's counters have
 * stood still (wait_quiet), so nothing more is being written.
 */
static const struct lat_acct *stream_lat(struct ip3_stream *st)
{
	if (!atomic_load_explicit(&st->lat_count, memory_order_acquire))
		return NULL;
	return atomic_load_explicit(&st->lat, memory_order_acquire);
}

/* zcgen's additions to a UDP stream's results (iperf3 clients ignore them). */
static void zcgen_out(struct ip3_stream *st, struct iperf3_zcgen *z)
{
	const struct lat_acct *l = stream_lat(st);

	z->present = true;
	if (l)
		zlat_out(&l->h, l->negative, &z->lat);
	z->verified = atomic_load_explicit(&st->verified, memory_order_relaxed);
	z->corrupt_bytes = atomic_load_explicit(&st->corrupt_bytes, memory_order_relaxed);
	z->corrupt_datagrams = atomic_load_explicit(&st->corrupt_datagrams, memory_order_relaxed);
	z->duplicates = atomic_load_explicit(&st->duplicates, memory_order_relaxed);
	z->reordered = atomic_load_explicit(&st->reordered, memory_order_relaxed);
}

/* The top-level zcgen_latency_us: every stream's histogram merged. */
static void test_latency(struct ip3_test *t, struct iperf3_zcgen_latency *o)
{
	struct lat_acct *all = malloc(sizeof(*all));

	memset(o, 0, sizeof(*o));
	if (!all)
		return;
	lat_init(all);
	for (unsigned i = 0; i < t->n_streams; i++) {
		const struct lat_acct *l = t->streams[i]->udp ? stream_lat(t->streams[i]) : NULL;

		if (l)
			lat_merge(all, l);
	}
	zlat_out(&all->h, all->negative, o);
	free(all);
}

static int results_cb(void *arg, unsigned index, struct iperf3_stream_result *out)
{
	struct ip3_test *t = arg;
	struct ip3_stream *st;

	if (index >= t->n_streams)
		return -EINVAL;
	st = t->order[index];
	snap(st);
	/*
	 * As iperf3's server does: the bytes that arrived during the client's
	 * omit are not counted; packets (the highest sequence) and errors (the
	 * lost ones) are the whole test's, with the share of the warm-up in
	 * omitted_packets and omitted_errors. A zcgen client that marks its
	 * warm-up (zcgen_warmup) had it left out as it arrived: omit_* are 0.
	 */
	out->bytes = st->out.bytes - st->out.omit_bytes;
	if (st->udp) {
		out->packets = st->out.highest;
		out->omitted_packets = st->out.omit_highest;
		out->errors = (int64_t)st->out.lost;
		out->omitted_errors = (int64_t)st->out.omit_lost;
		out->jitter = st->out.jitter_s;
		zcgen_out(st, &out->zcgen);
	}
	out->start_time = 0;
	out->end_time = (double)(t->pub.end_ns - t->pub.start_ns) / 1e9;
	return 0;
}

/* The client's omit (warm-up) is over: what arrived until now is not counted. */
static void omit_mark(struct ip3_test *t)
{
	for (unsigned i = 0; i < t->n_streams; i++) {
		struct ip3_stream *st = t->streams[i];

		snap(st);
		st->out.omit_bytes = st->out.bytes;
		st->out.omit_highest = st->out.highest;
		st->out.omit_lost = st->out.lost;
	}
}

static void client_results(struct ip3_test *t, const struct iperf3_results *c)
{
	for (unsigned k = 0; k < c->n_streams; k++)
		for (unsigned i = 0; i < t->n_streams; i++) {
			struct ip3_stream *st = t->order[i];

			if (st->out.id != c->streams[k].id)
				continue;
			st->out.client_bytes = c->streams[k].bytes;
			st->out.client_packets = c->streams[k].packets;
			st->out.client_known = true;
		}
}

static void set_state(struct sink_ip3 *ip, struct ip3_test *t, int state)
{
	pthread_mutex_lock(&ip->lock);
	t->state = state;
	pthread_mutex_unlock(&ip->lock);
}

static bool quitting(struct sink_ip3 *ip)
{
	bool q;

	pthread_mutex_lock(&ip->lock);
	q = ip->quit;
	pthread_mutex_unlock(&ip->lock);
	return q;
}

static void run_test(struct sink_ip3 *ip, struct ip3_test *t, int fd)
{
	struct iperf3_server *srv = calloc(1, sizeof(*srv));
	struct iperf3_results *extra = NULL;
	char why[256] = "";
	uint64_t omit_at;
	int r;

	if (!srv) {
		test_fail(ip, t, -ENOMEM, NULL);
		return;
	}
	/* Reads the cookie again (the worker only peeked), PARAM_EXCHANGE, the parameters. */
	r = iperf3_server_params(srv, fd, ip->timeout_ms);
	if (r) {
		/* A refused test (reverse, ...) still shows what it asked. */
		pthread_mutex_lock(&ip->lock);
		if (srv->params.parallel)
			pub_params(t, &srv->params);
		pthread_mutex_unlock(&ip->lock);
		test_fail(ip, t, r, srv->err);
		goto out;
	}
	r = params_known(ip, t, &srv->params, why, sizeof(why));
	if (r) {
		iperf3_server_error(fd, IPERF3_IESTREAMID, 0);
		test_fail(ip, t, r, why);
		goto out;
	}
	r = iperf3_server_create_streams(srv);
	if (!r)
		r = wait_streams(ip, t, fd, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s", srv->err);
	udp_turn_done(ip, t);
	if (r) {
		iperf3_server_error(fd, IPERF3_IESTREAMID, -r);
		test_fail(ip, t, r, why);
		goto out;
	}
	give_ids(ip, t, srv);
	set_state(ip, t, ST_RUNNING);
	t->pub.start_ns = mono_ns();
	r = iperf3_server_run(srv);
	/* a client that marks its warm-up on the wire needs no timer: its warm-up is never counted */
	omit_at = srv->params.omit_s && !srv->params.zcgen_warmup ?
		  t->pub.start_ns + srv->params.omit_s * 1000000000ULL : 0;
	while (!r) {
		uint64_t now = mono_ns();
		int wait_ms = 200;

		if (omit_at && now >= omit_at) {
			omit_mark(t);
			omit_at = 0;
		} else if (omit_at && omit_at - now < 200000000ULL) {
			wait_ms = (int)((omit_at - now) / 1000000ULL) + 1;
		}
		r = iperf3_server_wait_end(srv, wait_ms);
		if (r != -EAGAIN && r != -ETIMEDOUT)
			break;
		r = quitting(ip) ? -ESHUTDOWN : 0;
	}
	if (r) {
		test_fail(ip, t, r, srv->err);
		goto out;
	}
	t->pub.end_ns = mono_ns();
	set_state(ip, t, ST_ENDING);
	wait_quiet(t);
	extra = calloc(1, sizeof(*extra));
	if (extra && t->pub.udp)
		test_latency(t, &extra->zcgen_latency);
	r = iperf3_server_finish(srv, results_cb, t, extra);
	pthread_mutex_lock(&ip->lock);
	t->finished = true;
	client_results(t, &srv->client);
	pthread_mutex_unlock(&ip->lock);
	if (r)
		test_fail(ip, t, r, srv->err);
out:
	free(extra);
	free(srv);
}

/* Under the lock: the test is over, its control connection closed; the manager joins its thread. */
static void test_done(struct sink_ip3 *ip, struct ip3_test *t)
{
	if (ip->udp_taker == t)
		ip->udp_taker = NULL;
	if (t->ctrl_fd >= 0)
		close(t->ctrl_fd);
	t->ctrl_fd = -1;
	t->state = ST_DONE;
	for (unsigned i = 0; i < ip->n_live; i++)
		if (ip->live[i] == t) {
			ip->live[i] = ip->live[--ip->n_live];
			break;
		}
	if (t->thread_ok)
		ip->n_reap++;
	pthread_cond_broadcast(&ip->cond);
}

/* One test's thread: the control protocol, blocking, apart from every other test's. */
static void *test_main(void *arg)
{
	struct ip3_test *t = arg;
	struct sink_ip3 *ip = t->ip;
	int fd;

	pthread_mutex_lock(&ip->lock);
	fd = t->ctrl_fd;
	pthread_mutex_unlock(&ip->lock);
	run_test(ip, t, fd);
	/* Closed under the lock: sink_ip3_stop() may shut it down meanwhile. */
	pthread_mutex_lock(&ip->lock);
	test_done(ip, t);
	pthread_mutex_unlock(&ip->lock);
	return NULL;
}

/* Under the lock: a test handed over and not started, or NULL. */
static struct ip3_test *next_new(struct sink_ip3 *ip)
{
	for (unsigned i = 0; i < ip->n_live; i++)
		if (ip->live[i]->state == ST_NEW)
			return ip->live[i];
	return NULL;
}

/* Under the lock: a DONE test whose thread is to be joined, or NULL. */
static struct ip3_test *next_reap(struct sink_ip3 *ip)
{
	if (!ip->n_reap)
		return NULL;
	for (unsigned i = ip->n_tests; i-- > 0;)
		if (ip->tests[i]->state == ST_DONE && ip->tests[i]->thread_ok)
			return ip->tests[i];
	return NULL;
}

/*
 * The manager: a thread per test, started from here rather than from the
 * worker that got the control connection, so that it does not inherit that
 * worker's CPU pinning; and joined here when it ends. On quit it waits for
 * every test's thread (sink_ip3_stop() has shut their connections down).
 */
static void *ctl_main(void *arg)
{
	struct sink_ip3 *ip = arg;

	pthread_mutex_lock(&ip->lock);
	for (;;) {
		struct ip3_test *t = ip->quit ? NULL : next_new(ip);
		int r;

		if (t) {
			t->state = ST_STARTING;
			pthread_mutex_unlock(&ip->lock);
			r = pthread_create(&t->thread, NULL, test_main, t);
			pthread_mutex_lock(&ip->lock);
			if (r) {
				t->pub.err = -r;
				snprintf(t->pub.msg, sizeof(t->pub.msg), "no thread for the test: %s",
					 strerror(r));
				test_done(ip, t);
			} else {
				t->thread_ok = true;
				ip->n_threads++;
				if (t->state == ST_DONE)
					ip->n_reap++;  /* ended before thread_ok was set */
			}
			continue;
		}
		t = next_reap(ip);
		if (t) {
			t->thread_ok = false;
			ip->n_reap--;
			ip->n_threads--;
			pthread_mutex_unlock(&ip->lock);
			pthread_join(t->thread, NULL);
			pthread_mutex_lock(&ip->lock);
			continue;
		}
		if (ip->quit && !ip->n_threads)
			break;
		pthread_cond_wait(&ip->cond, &ip->lock);
	}
	pthread_mutex_unlock(&ip->lock);
	return NULL;
}

int sink_ip3_start(struct sink_ip3 *ip)
{
	int r = -pthread_create(&ip->thread, NULL, ctl_main, ip);

	if (!r)
		ip->thread_ok = true;
	return r;
}

void sink_ip3_stop(struct sink_ip3 *ip)
{
	if (!ip)
		return;
	pthread_mutex_lock(&ip->lock);
	ip->quit = true;
	/* Wakes the tests' threads out of any blocking read on their control connections. */
	for (unsigned i = 0; i < ip->n_live; i++)
		if (ip->live[i]->ctrl_fd >= 0 && ip->live[i]->state != ST_NEW)
			shutdown(ip->live[i]->ctrl_fd, SHUT_RDWR);
	pthread_cond_broadcast(&ip->cond);
	pthread_mutex_unlock(&ip->lock);
	if (ip->thread_ok) {
		pthread_join(ip->thread, NULL);
		ip->thread_ok = false;
	}
	/* Control connections handed over but never started (or no manager ran). */
	pthread_mutex_lock(&ip->lock);
	while (ip->n_live) {
		struct ip3_test *t = ip->live[0];

		if (!t->pub.err) {
			t->pub.err = -ESHUTDOWN;
			snprintf(t->pub.msg, sizeof(t->pub.msg), "the sink stopped during the test");
		}
		t->thread_ok = false;
		test_done(ip, t);
	}
	pthread_mutex_unlock(&ip->lock);
}

int sink_ip3_results(struct sink_ip3 *ip, struct sink_iperf3_test **tests, unsigned *n)
{
	struct sink_iperf3_test *out;

	*tests = NULL;
	*n = 0;
	if (!ip || !ip->n_tests)
		return 0;
	out = calloc(ip->n_tests, sizeof(*out));
	if (!out)
		return -ENOMEM;
	pthread_mutex_lock(&ip->lock);
	for (unsigned i = 0; i < ip->n_tests; i++) {
		struct ip3_test *t = ip->tests[i];

		out[i] = t->pub;
		out[i].streams = calloc(t->n_streams ? t->n_streams : 1, sizeof(*out[i].streams));
		if (!out[i].streams)
			continue;
		out[i].n_streams = t->n_streams;
		for (unsigned k = 0; k < t->n_streams; k++) {
			struct ip3_stream *st = t->ids_given ? t->order[k] : t->streams[k];

			/* Not finished (refused, aborted): what was counted anyway. */
			if (!t->finished)
				snap(st);
			out[i].streams[k] = st->out;
		}
	}
	*tests = out;
	*n = ip->n_tests;
	pthread_mutex_unlock(&ip->lock);
	return 0;
}

void sink_ip3_free(struct sink_ip3 *ip)
{
	if (!ip)
		return;
	for (unsigned i = 0; i < ip->n_tests; i++) {
		for (unsigned k = 0; k < ip->tests[i]->n_streams; k++)
			free(ip->tests[i]->streams[k]);
		free(ip->tests[i]);
	}
	free(ip->tests);
	free(ip->live);
	pthread_mutex_destroy(&ip->lock);
	pthread_cond_destroy(&ip->cond);
	free(ip);
}
