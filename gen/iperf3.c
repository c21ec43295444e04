/* iperf3.c - the iperf3 control protocol (3.12 on the wire), client and server side */
#include "gen/iperf3.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>

#define DEFAULT_TIMEOUT_MS 10000
#define UDP_HELLO_TIMEOUT_MS 10000

static void seterr(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until @fd is readable. -1: forever; 0: only check. */
static int wait_readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return timeout_ms == 0 ? -EAGAIN : -ETIMEDOUT;
	return 0;
}

/* Read exactly @len bytes; the timeout covers the whole read. */
static int read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	size_t got = 0;

	while (got < len) {
		int left = -1, r;
		ssize_t n;

		if (timeout_ms > 0) {
			left = (int)(deadline - now_ms());
			if (left <= 0)
				return -ETIMEDOUT;
		} else if (timeout_ms == 0 && got > 0) {
			left = DEFAULT_TIMEOUT_MS; /* a message once begun is finished */
		} else {
			left = timeout_ms;
		}
		r = wait_readable(fd, left);
		if (r)
			return r;
		n = recv(fd, (char *)buf + got, len - got, 0);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		got += (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = send(fd, (const char *)buf + done, len - done, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

/* ---- pieces ---- */

int iperf3_make_cookie(char cookie[IPERF3_COOKIE_LEN])
{
	static const char chars[] = IPERF3_COOKIE_CHARS;
	unsigned char rnd[IPERF3_COOKIE_LEN - 1];
	size_t got = 0;

	while (got < sizeof(rnd)) {
		ssize_t n = getrandom(rnd + got, sizeof(rnd) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	/* 32 characters: a byte modulo 32 is uniform. */
	for (size_t i = 0; i < sizeof(rnd); i++)
		cookie[i] = chars[rnd[i] % (sizeof(chars) - 1)];
	cookie[IPERF3_COOKIE_LEN - 1] = '\0';
	return 0;
}

bool iperf3_cookie_valid(const char cookie[IPERF3_COOKIE_LEN])
{
	for (int i = 0; i < IPERF3_COOKIE_LEN - 1; i++)
		if (!cookie[i] || !strchr(IPERF3_COOKIE_CHARS, cookie[i]))
			return false;
	return cookie[IPERF3_COOKIE_LEN - 1] == '\0';
}

int iperf3_send_state(int fd, signed char state)
{
	return write_full(fd, &state, 1);
}

int iperf3_recv_state(int fd, int timeout_ms, signed char *state)
{
	int r = wait_readable(fd, timeout_ms);

	if (r)
		return r;
	return read_full(fd, state, 1, timeout_ms == 0 ? DEFAULT_TIMEOUT_MS : timeout_ms);
}

int iperf3_json_send(int fd, const json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	uint32_t len;
	int r;

	if (!text)
		return -ENOMEM;
	len = htonl((uint32_t)strlen(text));
	r = write_full(fd, &len, sizeof(len));
	if (!r)
		r = write_full(fd, text, strlen(text));
	free(text);
	return r;
}

int iperf3_json_recv(int fd, int timeout_ms, json_t **out)
{
	json_error_t jerr;
	uint32_t len;
	char *text;
	json_t *j;
	int r;

	*out = NULL;
	r = read_full(fd, &len, sizeof(len), timeout_ms);
	if (r)
		return r;
	len = ntohl(len);
	if (len == 0 || len > IPERF3_JSON_MAX)
		return -EMSGSIZE;
	text = malloc(len);
	if (!text)
		return -ENOMEM;
	r = read_full(fd, text, len, timeout_ms);
	if (r)
		goto out_text;
	/*
	 * iperf3 prints -1 through an unsigned conversion (2^64 - 1), which
	 * jansson's integer parser rejects as too big: read numbers as reals.
	 */
	j = json_loadb(text, len, JSON_DECODE_INT_AS_REAL, &jerr);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		r = -EBADMSG;
		goto out_text;
	}
	*out = j;
out_text:
	free(text);
	return r;
}

json_t *iperf3_params_to_json(const struct iperf3_params *p)
{
	json_t *j = json_object();
	int bad = 0;

	if (!j)
		return NULL;
	/* Same keys and order as iperf3 3.12's client sends. */
	bad |= json_object_set_new(j, p->udp ? "udp" : "tcp", json_true());
	bad |= json_object_set_new(j, "omit", json_integer(p->omit_s));
	bad |= json_object_set_new(j, "time", json_integer(p->time_s));
	bad |= json_object_set_new(j, "num", json_integer(0));
	bad |= json_object_set_new(j, "blockcount", json_integer(0));
	if (p->mss)
		bad |= json_object_set_new(j, "MSS", json_integer(p->mss));
	if (p->nodelay)
		bad |= json_object_set_new(j, "nodelay", json_true());
	bad |= json_object_set_new(j, "parallel", json_integer(p->parallel));
	if (p->window)
		bad |= json_object_set_new(j, "window", json_integer((json_int_t)p->window));
	bad |= json_object_set_new(j, "len", json_integer((json_int_t)p->len));
	if (p->bandwidth)
		bad |= json_object_set_new(j, "bandwidth", json_integer((json_int_t)p->bandwidth));
	bad |= json_object_set_new(j, "pacing_timer",
				   json_integer(p->pacing_timer_us ? p->pacing_timer_us : 1000));
	if (p->congestion[0])
		bad |= json_object_set_new(j, "congestion", json_string(p->congestion));
	if (p->udp && p->udp_counters_64bit)
		bad |= json_object_set_new(j, "udp_counters_64bit", json_integer(1));
	bad |= json_object_set_new(j, "client_version",
				   json_string(p->client_version[0] ? p->client_version : "3.12"));
	if (p->zcgen_warmup)
		bad |= json_object_set_new(j, "zcgen_warmup", json_true());
	if (bad) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* A number or boolean as a double; @def when absent. */
static double jnum(const json_t *j, const char *key, double def)
{
	const json_t *v = json_object_get(j, key);

	if (json_is_number(v))
		return json_number_value(v);
	if (json_is_boolean(v))
		return json_is_true(v);
	return def;
}

/*
 * A peer's number as an integer, clamped to [0, @max]. A double out of the
 * target's range does not convert (undefined behaviour), and a peer may send
 * anything ("time": 1e30, "bytes": -1), so every conversion goes through here.
 */
static uint64_t jnum_uint(const json_t *j, const char *key, double def, uint64_t max)
{
	double v = jnum(j, key, def);

	if (!(v >= 0))
		return 0;            /* negative (or NaN, which JSON cannot carry) */
	if (v >= (double)max)
		return max;          /* (double)UINT64_MAX is 2^64: compared, never converted */
	return (uint64_t)v;
}

/* iperf3 writes -1 through an unsigned 64-bit conversion; below INT64_MIN: clamped. */
static int64_t signed64(double v)
{
	if (v >= 9223372036854775807.0)
		return -1;
	if (!(v > -9223372036854775808.0))
		return v != v ? 0 : INT64_MIN;
	return (int64_t)v;
}

/* @a + @b, held at the limit instead of overflowing (sums of a peer's per-stream counts). */
static int64_t add_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

int iperf3_params_from_json(const json_t *j, struct iperf3_params *p)
{
	const json_t *v;
	double par;

	memset(p, 0, sizeof(*p));
	if (jnum(j, "udp", 0))
		p->udp = true;
	else if (!jnum(j, "tcp", 0))
		return -EINVAL; /* sctp, or nothing */
	par = jnum(j, "parallel", 1);
	if (par < 1 || par > IPERF3_MAX_STREAMS)
		return -EINVAL;
	p->parallel = (unsigned)par;
	p->time_s = (unsigned)jnum_uint(j, "time", 0, UINT_MAX);
	p->omit_s = (unsigned)jnum_uint(j, "omit", 0, UINT_MAX);
	p->len = jnum_uint(j, "len", 0, UINT64_MAX);
	p->bandwidth = jnum_uint(j, "bandwidth", 0, UINT64_MAX);
	p->pacing_timer_us = (unsigned)jnum_uint(j, "pacing_timer", 1000, UINT_MAX);
	p->udp_counters_64bit = jnum(j, "udp_counters_64bit", 0) != 0;
	p->nodelay = jnum(j, "nodelay", 0) != 0;
	p->mss = (unsigned)jnum_uint(j, "MSS", 0, UINT_MAX);
	p->window = jnum_uint(j, "window", 0, UINT64_MAX);
	p->reverse = jnum(j, "reverse", 0) != 0;
	p->bidirectional = jnum(j, "bidirectional", 0) != 0;
	p->zcgen_warmup = json_is_true(json_object_get(j, "zcgen_warmup"));
	v = json_object_get(j, "congestion");
	if (json_is_string(v))
		snprintf(p->congestion, sizeof(p->congestion), "%s", json_string_value(v));
	v = json_object_get(j, "client_version");
	if (json_is_string(v))
		snprintf(p->client_version, sizeof(p->client_version), "%s", json_string_value(v));
	return 0;
}

static json_t *zlat_to_json(const struct iperf3_zcgen_latency *l)
{
	return json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:I, s:b}", "p50", l->p50, "p90", l->p90,
			 "p99", l->p99, "p99_9", l->p99_9, "max", l->max, "mean", l->mean,
			 "count", (json_int_t)l->count, "negative", (json_int_t)l->negative,
			 "valid", l->valid);
}

/* The zcgen_* keys of one stream (nothing when it has none). Return: 0, or -1 out of memory. */
static int zcgen_to_json(json_t *o, const struct iperf3_zcgen *z)
{
	int bad = 0;

	if (!z->present)
		return 0;
	if (z->lat.present)
		bad |= json_object_set_new(o, "zcgen_latency_us", zlat_to_json(&z->lat));
	if (z->verified) {
		bad |= json_object_set_new(o, "zcgen_corrupt_bytes",
					   json_integer((json_int_t)z->corrupt_bytes));
		bad |= json_object_set_new(o, "zcgen_corrupt_datagrams",
					   json_integer((json_int_t)z->corrupt_datagrams));
	}
	bad |= json_object_set_new(o, "zcgen_duplicates", json_integer((json_int_t)z->duplicates));
	bad |= json_object_set_new(o, "zcgen_reordered", json_integer((json_int_t)z->reordered));
	return bad ? -1 : 0;
}

/* A zcgen_latency_us object; absent or malformed: not present. */
static void zlat_from_json(const json_t *v, struct iperf3_zcgen_latency *l)
{
	memset(l, 0, sizeof(*l));
	if (!json_is_object(v) || !json_is_number(json_object_get(v, "p50")) ||
	    !json_is_number(json_object_get(v, "max")))
		return;
	l->present = true;
	l->p50 = jnum(v, "p50", 0);
	l->p90 = jnum(v, "p90", 0);
	l->p99 = jnum(v, "p99", 0);
	l->p99_9 = jnum(v, "p99_9", 0);
	l->max = jnum(v, "max", 0);
	l->mean = jnum(v, "mean", 0);
	l->count = jnum_uint(v, "count", 0, UINT64_MAX);
	l->negative = jnum_uint(v, "negative", 0, UINT64_MAX);
	l->valid = json_is_true(json_object_get(v, "valid"));
}

static void zcgen_from_json(const json_t *o, struct iperf3_zcgen *z)
{
	memset(z, 0, sizeof(*z));
	zlat_from_json(json_object_get(o, "zcgen_latency_us"), &z->lat);
	z->verified = json_is_number(json_object_get(o, "zcgen_corrupt_bytes"));
	z->corrupt_bytes = jnum_uint(o, "zcgen_corrupt_bytes", 0, UINT64_MAX);
	z->corrupt_datagrams = jnum_uint(o, "zcgen_corrupt_datagrams", 0, UINT64_MAX);
	z->duplicates = jnum_uint(o, "zcgen_duplicates", 0, UINT64_MAX);
	z->reordered = jnum_uint(o, "zcgen_reordered", 0, UINT64_MAX);
	z->present = z->lat.present || z->verified ||
		     json_is_number(json_object_get(o, "zcgen_duplicates")) ||
		     json_is_number(json_object_get(o, "zcgen_reordered"));
}

json_t *iperf3_results_to_json(const struct iperf3_results *r)
{
	json_t *j = json_object(), *arr = json_array();
	int bad = 0;

	if (!j || !arr)
		goto out_bad;
	bad |= json_object_set_new(j, "cpu_util_total", json_real(r->cpu_util_total));
	bad |= json_object_set_new(j, "cpu_util_user", json_real(r->cpu_util_user));
	bad |= json_object_set_new(j, "cpu_util_system", json_real(r->cpu_util_system));
	bad |= json_object_set_new(j, "sender_has_retransmits",
				   json_integer(r->sender_has_retransmits));
	if (r->congestion_used[0])
		bad |= json_object_set_new(j, "congestion_used", json_string(r->congestion_used));
	for (unsigned i = 0; i < r->n_streams && i < IPERF3_MAX_STREAMS; i++) {
		const struct iperf3_stream_result *s = &r->streams[i];
		json_t *o = json_pack("{s:i,s:I,s:I,s:f,s:I,s:I,s:I,s:I,s:f,s:f}",
				      "id", s->id ? s->id : iperf3_stream_id(i),
				      "bytes", (json_int_t)s->bytes,
				      "retransmits", (json_int_t)s->retransmits,
				      "jitter", s->jitter,
				      "errors", (json_int_t)s->errors,
				      "omitted_errors", (json_int_t)s->omitted_errors,
				      "packets", (json_int_t)s->packets,
				      "omitted_packets", (json_int_t)s->omitted_packets,
				      "start_time", s->start_time,
				      "end_time", s->end_time);

		if (!o || zcgen_to_json(o, &s->zcgen) || json_array_append_new(arr, o))
			goto out_bad;
	}
	if (r->zcgen_latency.present)
		bad |= json_object_set_new(j, "zcgen_latency_us", zlat_to_json(&r->zcgen_latency));
	bad |= json_object_set_new(j, "streams", arr);
	arr = NULL;
	if (bad)
		goto out_bad;
	return j;
out_bad:
	json_decref(arr);
	json_decref(j);
	return NULL;
}

int iperf3_results_from_json(const json_t *j, struct iperf3_results *r,
			     char *err, size_t errlen)
{
	static const char *const top[] = { "cpu_util_total", "cpu_util_user",
					   "cpu_util_system", "sender_has_retransmits" };
	static const char *const per[] = { "id", "bytes", "retransmits", "jitter",
					   "errors", "packets" };
	const json_t *streams, *v;
	double jitter_sum = 0;

	memset(r, 0, sizeof(*r));
	for (size_t k = 0; k < sizeof(top) / sizeof(top[0]); k++)
		if (!json_is_number(json_object_get(j, top[k]))) {
			seterr(err, errlen, "results lack \"%s\"", top[k]);
			return -EBADMSG;
		}
	streams = json_object_get(j, "streams");
	if (!json_is_array(streams)) {
		seterr(err, errlen, "results lack \"streams\"");
		return -EBADMSG;
	}
	if (json_array_size(streams) > IPERF3_MAX_STREAMS) {
		seterr(err, errlen, "results carry %zu streams, at most %d",
		       json_array_size(streams), IPERF3_MAX_STREAMS);
		return -EBADMSG;
	}
	r->cpu_util_total = jnum(j, "cpu_util_total", 0);
	r->cpu_util_user = jnum(j, "cpu_util_user", 0);
	r->cpu_util_system = jnum(j, "cpu_util_system", 0);
	r->sender_has_retransmits = (int)signed64(jnum(j, "sender_has_retransmits", 0));
	v = json_object_get(j, "congestion_used");
	if (json_is_string(v))
		snprintf(r->congestion_used, sizeof(r->congestion_used), "%s",
			 json_string_value(v));
	r->total.retransmits = -1;
	for (size_t i = 0; i < json_array_size(streams); i++) {
		const json_t *o = json_array_get(streams, i);
		struct iperf3_stream_result *s = &r->streams[i];

		for (size_t k = 0; k < sizeof(per) / sizeof(per[0]); k++)
			if (!json_is_number(json_object_get(o, per[k]))) {
				seterr(err, errlen, "results stream %zu lacks \"%s\"", i, per[k]);
				return -EBADMSG;
			}
		s->id = (int)jnum_uint(o, "id", 0, INT_MAX);
		s->bytes = jnum_uint(o, "bytes", 0, UINT64_MAX);
		s->retransmits = signed64(jnum(o, "retransmits", -1));
		s->jitter = jnum(o, "jitter", 0);
		s->errors = signed64(jnum(o, "errors", 0));
		s->omitted_errors = signed64(jnum(o, "omitted_errors", 0));
		s->packets = jnum_uint(o, "packets", 0, UINT64_MAX);
		s->omitted_packets = jnum_uint(o, "omitted_packets", 0, UINT64_MAX);
		s->omitted_known = json_object_get(o, "omitted_packets") != NULL;
		s->start_time = jnum(o, "start_time", 0);
		s->end_time = jnum(o, "end_time", 0);
		zcgen_from_json(o, &s->zcgen);

		r->total.bytes += s->bytes;
		if (s->retransmits >= 0)
			r->total.retransmits = add_sat(r->total.retransmits < 0 ? 0 : r->total.retransmits,
						       s->retransmits);
		r->total.errors = add_sat(r->total.errors, s->errors > 0 ? s->errors : 0);
		r->total.omitted_errors = add_sat(r->total.omitted_errors,
						  s->omitted_errors > 0 ? s->omitted_errors : 0);
		r->total.packets += s->packets;
		r->total.omitted_packets += s->omitted_packets;
		jitter_sum += s->jitter;
		if (s->end_time > r->total.end_time)
			r->total.end_time = s->end_time;
		r->n_streams++;
	}
	if (r->n_streams)
		r->total.jitter = jitter_sum / r->n_streams;
	zlat_from_json(json_object_get(j, "zcgen_latency_us"), &r->zcgen_latency);
	return 0;
}

/* ---- data connections ---- */

static bool udp_reply_ok(const unsigned char b[4])
{
	uint32_t le = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
		      (uint32_t)b[3] << 24;
	uint32_t be = (uint32_t)b[3] | (uint32_t)b[2] << 8 | (uint32_t)b[1] << 16 |
		      (uint32_t)b[0] << 24;

	return le == IPERF3_UDP_CONNECT_REPLY || be == IPERF3_UDP_CONNECT_REPLY ||
	       le == IPERF3_UDP_CONNECT_REPLY_LEGACY || be == IPERF3_UDP_CONNECT_REPLY_LEGACY;
}

static void put_le32(unsigned char b[4], uint32_t v)
{
	b[0] = v & 0xff;
	b[1] = (v >> 8) & 0xff;
	b[2] = (v >> 16) & 0xff;
	b[3] = v >> 24;
}

int iperf3_data_hello(int fd, const char cookie[IPERF3_COOKIE_LEN], bool udp)
{
	unsigned char msg[4], reply[4];
	ssize_t n;
	int r;

	if (!udp)
		return write_full(fd, cookie, IPERF3_COOKIE_LEN);
	put_le32(msg, IPERF3_UDP_CONNECT_MSG);
	if (send(fd, msg, sizeof(msg), MSG_NOSIGNAL) < 0)
		return -errno;
	r = wait_readable(fd, UDP_HELLO_TIMEOUT_MS);
	if (r)
		return r;
	n = recv(fd, reply, sizeof(reply), 0);
	if (n < 0)
		return -errno;
	if (n != sizeof(reply) || !udp_reply_ok(reply))
		return -EPROTO;
	return 0;
}

/* An address as /proc/net/{tcp,udp}[6] print it: "0100007F:1451". */
static int proc_net_addr(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		snprintf(buf, len, "%08X:%04X", (unsigned)s4->sin_addr.s_addr, ntohs(s4->sin_port));
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;
		uint32_t w[4];

		memcpy(w, &s6->sin6_addr, sizeof(w));
		snprintf(buf, len, "%08X%08X%08X%08X:%04X", w[0], w[1], w[2], w[3],
			 ntohs(s6->sin6_port));
		return 0;
	}
	return -EAFNOSUPPORT;
}

/*
 * What the socket at the other end of @fd has not read yet, when that
 * socket is on this host and in this network namespace (loopback): its
 * rx_queue in /proc/net/{tcp,udp}[6] (TCP: bytes unread; UDP: memory of
 * the datagrams queued). Return: the count, or -ENOENT when the peer is
 * not visible from here (another host or namespace).
 */
static long local_peer_rxq(int fd, int type)
{
	struct sockaddr_storage me, peer;
	socklen_t ml = sizeof(me), pl = sizeof(peer);
	char mine[48], theirs[48], line[512], path[24];
	long q = -ENOENT;
	FILE *f;

	if (getsockname(fd, (struct sockaddr *)&me, &ml) ||
	    getpeername(fd, (struct sockaddr *)&peer, &pl) ||
	    proc_net_addr(&me, mine, sizeof(mine)) || proc_net_addr(&peer, theirs, sizeof(theirs)))
		return -ENOENT;
	snprintf(path, sizeof(path), "/proc/net/%s%s", type == SOCK_STREAM ? "tcp" : "udp",
		 me.ss_family == AF_INET6 ? "6" : "");
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		char la[48], ra[48];
		unsigned st;
		unsigned long txq, rxq;

		if (sscanf(line, " %*d: %47s %47s %x %lx:%lx", la, ra, &st, &txq, &rxq) == 5 &&
		    !strcmp(la, theirs) && !strcmp(ra, mine)) {
			q = (long)rxq;
			break;
		}
	}
	fclose(f);
	return q;
}

static int sock_type(int fd)
{
	int type = 0;
	socklen_t tl = sizeof(type);

	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl))
		return -1;
	return type;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int iperf3_drain_wait(const int *fds, unsigned n, int timeout_ms, int settle_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	bool queued;

	/* 1. our TCP send queues: every byte acknowledged by the receiving kernel */
	for (;;) {
		queued = false;
		for (unsigned i = 0; i < n && !queued; i++) {
			int outq = 0;

			if (sock_type(fds[i]) == SOCK_STREAM &&
			    ioctl(fds[i], SIOCOUTQ, &outq) == 0 && outq > 0)
				queued = true;
		}
		if (!queued)
			break;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		sleep_ms(1);
	}
	/*
	 * 2. a receiver on this host (loopback): until it has read its receive
	 * queues, which we can see. A loaded machine can keep it off the CPU
	 * far longer than the settle below.
	 */
	for (;;) {
		queued = false;
		for (unsigned i = 0; i < n && !queued; i++) {
			int type = sock_type(fds[i]);

			if ((type == SOCK_STREAM || type == SOCK_DGRAM) &&
			    local_peer_rxq(fds[i], type) > 0)
				queued = true;
		}
		if (!queued)
			break;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		sleep_ms(2);
	}
	/* 3. the settle: for a receiver we cannot see, and for its counters after the read */
	if (settle_ms > 0)
		sleep_ms(settle_ms);
	return 0;
}

int iperf3_udp_listen(const struct sockaddr *addr, socklen_t addrlen)
{
	int one = 1, fd;

	fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, addr, addrlen)) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

int iperf3_udp_accept(int *listen_fd, int *stream_fd, int timeout_ms)
{
	struct sockaddr_storage peer, local;
	socklen_t plen = sizeof(peer), llen = sizeof(local);
	unsigned char msg[64], reply[4];
	int fd = *listen_fd, next, r;
	ssize_t n;

	*stream_fd = -1;
	r = wait_readable(fd, timeout_ms);
	if (r)
		return r;
	/* Any first datagram opens the stream, as in iperf3's server. */
	n = recvfrom(fd, msg, sizeof(msg), 0, (struct sockaddr *)&peer, &plen);
	if (n < 0)
		return -errno;
	if (getsockname(fd, (struct sockaddr *)&local, &llen))
		return -errno;
	if (connect(fd, (struct sockaddr *)&peer, plen))
		return -errno;
	/* The stream keeps this socket; the next stream needs a new listener. */
	*stream_fd = fd;
	*listen_fd = -1;
	next = iperf3_udp_listen((struct sockaddr *)&local, llen);
	if (next < 0)
		return next;
	*listen_fd = next;
	put_le32(reply, IPERF3_UDP_CONNECT_REPLY);
	if (send(fd, reply, sizeof(reply), MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

int iperf3_udp_parse(const void *buf, size_t len, bool counters64,
		     uint32_t *sec, uint32_t *usec, uint64_t *seq)
{
	const unsigned char *b = buf;
	uint32_t v32;

	if (len < (counters64 ? 16u : 12u))
		return -EBADMSG;
	memcpy(&v32, b, 4);
	*sec = ntohl(v32);
	memcpy(&v32, b + 4, 4);
	*usec = ntohl(v32);
	memcpy(&v32, b + 8, 4);
	*seq = ntohl(v32);
	if (counters64) {
		memcpy(&v32, b + 12, 4);
		*seq = *seq << 32 | ntohl(v32);
	}
	return 0;
}

void iperf3_jitter_update(double *jitter, double *transit_prev, double sent, double arrived)
{
	double transit = arrived - sent;

	if (!isnan(*transit_prev))
		*jitter += (fabs(transit - *transit_prev) - *jitter) / 16.0;
	*transit_prev = transit;
}

/* ---- client ---- */

static const char *ierr_name(int e)
{
	switch (e) {
	case IPERF3_IENUMSTREAMS: return "too many streams";
	case IPERF3_IEUNIMP: return "not implemented";
	case IPERF3_IERECVRESULTS: return "cannot receive results";
	case IPERF3_IEACCESSDENIED: return "server busy";
	case IPERF3_IESTREAMID: return "stream has an invalid id";
	default: return "see iperf_api.h";
	}
}

/* Read the next state; turn the server's refusals into errors. */
static int client_state(struct iperf3_client *c, signed char *st, const char *waiting)
{
	int32_t v[2];
	int r = iperf3_recv_state(c->ctrl_fd, c->timeout_ms, st);

	if (r) {
		seterr(c->err, sizeof(c->err), "iperf3 control: waiting for %s: %s",
		       waiting, strerror(-r));
		return r;
	}
	switch (*st) {
	case IPERF3_ACCESS_DENIED:
		seterr(c->err, sizeof(c->err), "iperf3 server is busy (ACCESS_DENIED)");
		return -EACCES;
	case IPERF3_SERVER_ERROR:
		/* Two 32-bit big-endian numbers follow: iperf3's i_errno and errno. */
		r = read_full(c->ctrl_fd, v, sizeof(v), c->timeout_ms);
		if (r) {
			seterr(c->err, sizeof(c->err), "iperf3 server error (details lost: %s)",
			       strerror(-r));
			return -EPROTO;
		}
		c->server_ierrno = (int32_t)ntohl((uint32_t)v[0]);
		c->server_errno = (int32_t)ntohl((uint32_t)v[1]);
		seterr(c->err, sizeof(c->err), "iperf3 server error %d (%s), errno %d (%s)",
		       c->server_ierrno, ierr_name(c->server_ierrno), c->server_errno,
		       c->server_errno ? strerror(c->server_errno) : "none");
		return c->server_errno > 0 ? -c->server_errno : -EPROTO;
	case IPERF3_SERVER_TERMINATE:
		seterr(c->err, sizeof(c->err), "iperf3 server terminated the test");
		return -ECONNRESET;
	default:
		return 0;
	}
}

static int client_expect(struct iperf3_client *c, signed char want, const char *name)
{
	signed char st;
	int r = client_state(c, &st, name);

	if (r)
		return r;
	if (st != want) {
		seterr(c->err, sizeof(c->err), "iperf3 control: expected %s (%d), got state %d",
		       name, want, st);
		return -EPROTO;
	}
	return 0;
}

int iperf3_client_connect(struct iperf3_client *c, const char *host, uint16_t port,
			  int timeout_ms)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char svc[8];
	int r, fd = -1;

	memset(c, 0, sizeof(*c));
	c->ctrl_fd = -1;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS;
	r = iperf3_make_cookie(c->cookie);
	if (r) {
		seterr(c->err, sizeof(c->err), "cookie: %s", strerror(-r));
		return r;
	}
	snprintf(svc, sizeof(svc), "%u", port);
	r = getaddrinfo(host, svc, &hints, &res);
	if (r) {
		seterr(c->err, sizeof(c->err), "%s: %s", host, gai_strerror(r));
		return r == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	}
	r = -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			r = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		r = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		seterr(c->err, sizeof(c->err), "iperf3 server %s port %u: %s", host, port,
		       strerror(-r));
		return r;
	}
	c->ctrl_fd = fd;
	r = write_full(fd, c->cookie, IPERF3_COOKIE_LEN);
	if (r) {
		seterr(c->err, sizeof(c->err), "iperf3 control: sending cookie: %s", strerror(-r));
		iperf3_client_close(c);
	}
	return r;
}

int iperf3_client_params(struct iperf3_client *c, const struct iperf3_params *p)
{
	json_t *j;
	int r;

	if (!p->parallel || p->parallel > IPERF3_MAX_STREAMS || !p->len) {
		seterr(c->err, sizeof(c->err), "iperf3 params: %u streams (1..%d), len %llu",
		       p->parallel, IPERF3_MAX_STREAMS, (unsigned long long)p->len);
		return -EINVAL;
	}
	c->params = *p;
	if (p->udp)
		c->params.udp_counters_64bit = true; /* zcgen's header has 64-bit sequences */
	r = client_expect(c, IPERF3_PARAM_EXCHANGE, "PARAM_EXCHANGE");
	if (r)
		return r;
	j = iperf3_params_to_json(&c->params);
	if (!j)
		return -ENOMEM;
	r = iperf3_json_send(c->ctrl_fd, j);
	json_decref(j);
	if (r)
		seterr(c->err, sizeof(c->err), "iperf3 control: sending params: %s", strerror(-r));
	return r;
}

int iperf3_client_wait_create_streams(struct iperf3_client *c)
{
	return client_expect(c, IPERF3_CREATE_STREAMS, "CREATE_STREAMS");
}

int iperf3_client_wait_start(struct iperf3_client *c)
{
	int r = client_expect(c, IPERF3_TEST_START, "TEST_START");

	if (!r)
		r = client_expect(c, IPERF3_TEST_RUNNING, "TEST_RUNNING");
	return r;
}

int iperf3_client_check(struct iperf3_client *c)
{
	signed char st;
	int r = wait_readable(c->ctrl_fd, 0);

	if (r == -EAGAIN)
		return 0;
	if (r) {
		seterr(c->err, sizeof(c->err), "iperf3 control: %s", strerror(-r));
		return r;
	}
	r = client_state(c, &st, "the end of the test");
	if (r)
		return r;
	seterr(c->err, sizeof(c->err), "iperf3 control: unexpected state %d during the test", st);
	return -EPROTO;
}

int iperf3_client_end(struct iperf3_client *c, const struct iperf3_results *mine,
		      struct iperf3_results *theirs)
{
	json_t *j;
	int r;

	r = iperf3_send_state(c->ctrl_fd, IPERF3_TEST_END);
	if (r) {
		seterr(c->err, sizeof(c->err), "iperf3 control: sending TEST_END: %s", strerror(-r));
		return r;
	}
	r = client_expect(c, IPERF3_EXCHANGE_RESULTS, "EXCHANGE_RESULTS");
	if (r)
		return r;
	j = iperf3_results_to_json(mine);
	if (!j)
		return -ENOMEM;
	r = iperf3_json_send(c->ctrl_fd, j);
	json_decref(j);
	if (r) {
		seterr(c->err, sizeof(c->err), "iperf3 control: sending results: %s", strerror(-r));
		return r;
	}
	r = iperf3_json_recv(c->ctrl_fd, c->timeout_ms, &j);
	if (r) {
		seterr(c->err, sizeof(c->err), "iperf3 control: reading server results: %s",
		       strerror(-r));
		return r;
	}
	r = iperf3_results_from_json(j, theirs, c->err, sizeof(c->err));
	json_decref(j);
	if (r)
		return r;
	r = client_expect(c, IPERF3_DISPLAY_RESULTS, "DISPLAY_RESULTS");
	if (r)
		return r;
	r = iperf3_send_state(c->ctrl_fd, IPERF3_IPERF_DONE);
	if (r)
		seterr(c->err, sizeof(c->err), "iperf3 control: sending IPERF_DONE: %s", strerror(-r));
	return r;
}

int iperf3_client_terminate(struct iperf3_client *c)
{
	if (c->ctrl_fd < 0)
		return -EBADF;
	return iperf3_send_state(c->ctrl_fd, IPERF3_CLIENT_TERMINATE);
}

void iperf3_client_close(struct iperf3_client *c)
{
	if (c->ctrl_fd >= 0)
		close(c->ctrl_fd);
	c->ctrl_fd = -1;
}

/* ---- server ---- */

int iperf3_server_error(int fd, int ierrno, int err)
{
	unsigned char buf[9];
	uint32_t v;

	buf[0] = (unsigned char)(signed char)IPERF3_SERVER_ERROR;
	v = htonl((uint32_t)ierrno);
	memcpy(buf + 1, &v, 4);
	v = htonl((uint32_t)err);
	memcpy(buf + 5, &v, 4);
	return write_full(fd, buf, sizeof(buf));
}

int iperf3_server_deny(int fd)
{
	return iperf3_send_state(fd, IPERF3_ACCESS_DENIED);
}

int iperf3_server_params(struct iperf3_server *s, int ctrl_fd, int timeout_ms)
{
	json_t *j;
	int r;

	memset(s, 0, sizeof(*s));
	s->ctrl_fd = ctrl_fd;
	s->timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS;
	r = read_full(ctrl_fd, s->cookie, IPERF3_COOKIE_LEN, s->timeout_ms);
	if (r) {
		seterr(s->err, sizeof(s->err), "iperf3 control: reading cookie: %s", strerror(-r));
		return r;
	}
	if (!iperf3_cookie_valid(s->cookie)) {
		seterr(s->err, sizeof(s->err), "iperf3 control: not an iperf3 cookie");
		return -EPROTO;
	}
	r = iperf3_send_state(ctrl_fd, IPERF3_PARAM_EXCHANGE);
	if (r)
		goto out_io;
	r = iperf3_json_recv(ctrl_fd, s->timeout_ms, &j);
	if (r) {
		seterr(s->err, sizeof(s->err), "iperf3 control: reading params: %s", strerror(-r));
		return r;
	}
	r = iperf3_params_from_json(j, &s->params);
	json_decref(j);
	if (r) {
		seterr(s->err, sizeof(s->err), "iperf3 params: not TCP or UDP, or bad stream count");
		iperf3_server_error(ctrl_fd, IPERF3_IENUMSTREAMS, 0);
		return -EOPNOTSUPP;
	}
	if (s->params.reverse || s->params.bidirectional) {
		seterr(s->err, sizeof(s->err), "iperf3 params: %s test refused: zcgen sink only receives",
		       s->params.reverse ? "reverse" : "bidirectional");
		iperf3_server_error(ctrl_fd, IPERF3_IEUNIMP, 0);
		return -EOPNOTSUPP;
	}
	return 0;
out_io:
	seterr(s->err, sizeof(s->err), "iperf3 control: %s", strerror(-r));
	return r;
}

int iperf3_server_create_streams(struct iperf3_server *s)
{
	int r = iperf3_send_state(s->ctrl_fd, IPERF3_CREATE_STREAMS);

	if (r)
		seterr(s->err, sizeof(s->err), "iperf3 control: %s", strerror(-r));
	return r;
}

int iperf3_server_start(struct iperf3_server *s, int ctrl_fd, int timeout_ms)
{
	int r = iperf3_server_params(s, ctrl_fd, timeout_ms);

	return r ? r : iperf3_server_create_streams(s);
}

int iperf3_server_add_tcp_stream(struct iperf3_server *s, int fd)
{
	char cookie[IPERF3_COOKIE_LEN];
	int r;

	if (s->n_streams >= s->params.parallel)
		return -ENOSPC;
	r = read_full(fd, cookie, sizeof(cookie), s->timeout_ms);
	if (r) {
		seterr(s->err, sizeof(s->err), "iperf3 data: reading cookie: %s", strerror(-r));
		return r;
	}
	if (memcmp(cookie, s->cookie, sizeof(cookie))) {
		iperf3_server_deny(fd);
		return -EACCES;
	}
	return (int)s->n_streams++;
}

int iperf3_server_add_stream(struct iperf3_server *s)
{
	if (s->n_streams >= s->params.parallel)
		return -ENOSPC;
	return (int)s->n_streams++;
}

int iperf3_server_run(struct iperf3_server *s)
{
	int r = iperf3_send_state(s->ctrl_fd, IPERF3_TEST_START);

	if (!r)
		r = iperf3_send_state(s->ctrl_fd, IPERF3_TEST_RUNNING);
	if (r)
		seterr(s->err, sizeof(s->err), "iperf3 control: starting test: %s", strerror(-r));
	return r;
}

int iperf3_server_wait_end(struct iperf3_server *s, int timeout_ms)
{
	signed char st;
	int r = iperf3_recv_state(s->ctrl_fd, timeout_ms, &st);

	if (r == -EAGAIN || r == -ETIMEDOUT)
		return r;
	if (r) {
		seterr(s->err, sizeof(s->err), "iperf3 control: waiting for TEST_END: %s",
		       strerror(-r));
		return r;
	}
	if (st == IPERF3_TEST_END)
		return 0;
	if (st == IPERF3_CLIENT_TERMINATE) {
		seterr(s->err, sizeof(s->err), "iperf3 client terminated the test");
		return -ECONNABORTED;
	}
	seterr(s->err, sizeof(s->err), "iperf3 control: expected TEST_END, got state %d", st);
	return -EPROTO;
}

int iperf3_server_finish(struct iperf3_server *s, iperf3_results_cb cb, void *arg,
			 const struct iperf3_results *cpu)
{
	struct iperf3_results *ours;
	signed char st;
	json_t *j;
	int r;

	ours = calloc(1, sizeof(*ours));
	if (!ours)
		return -ENOMEM;
	r = iperf3_send_state(s->ctrl_fd, IPERF3_EXCHANGE_RESULTS);
	if (r)
		goto out_io;
	/* The server reads the client's results first, then sends its own. */
	r = iperf3_json_recv(s->ctrl_fd, s->timeout_ms, &j);
	if (r)
		goto out_io;
	r = iperf3_results_from_json(j, &s->client, s->err, sizeof(s->err));
	json_decref(j);
	if (r) {
		iperf3_server_error(s->ctrl_fd, IPERF3_IERECVRESULTS, 0);
		goto out_ours;
	}
	if (cpu) {
		ours->cpu_util_total = cpu->cpu_util_total;
		ours->cpu_util_user = cpu->cpu_util_user;
		ours->cpu_util_system = cpu->cpu_util_system;
		snprintf(ours->congestion_used, sizeof(ours->congestion_used), "%s",
			 cpu->congestion_used);
		ours->zcgen_latency = cpu->zcgen_latency;
	}
	ours->sender_has_retransmits = -1; /* we are the receiver */
	ours->n_streams = s->n_streams;
	for (unsigned i = 0; i < s->n_streams; i++) {
		struct iperf3_stream_result *sr = &ours->streams[i];

		sr->id = iperf3_stream_id(i);
		sr->retransmits = -1;
		r = cb(arg, i, sr);
		if (r) {
			seterr(s->err, sizeof(s->err), "iperf3 results for stream %u: %s", i,
			       strerror(-r));
			iperf3_server_error(s->ctrl_fd, IPERF3_IERECVRESULTS, -r);
			goto out_ours;
		}
		sr->id = iperf3_stream_id(i);
	}
	j = iperf3_results_to_json(ours);
	if (!j) {
		r = -ENOMEM;
		goto out_ours;
	}
	r = iperf3_json_send(s->ctrl_fd, j);
	json_decref(j);
	if (r)
		goto out_io;
	r = iperf3_send_state(s->ctrl_fd, IPERF3_DISPLAY_RESULTS);
	if (r)
		goto out_io;
	r = iperf3_recv_state(s->ctrl_fd, s->timeout_ms, &st);
	if (r)
		goto out_io;
	if (st != IPERF3_IPERF_DONE) {
		seterr(s->err, sizeof(s->err), "iperf3 control: expected IPERF_DONE, got state %d", st);
		r = -EPROTO;
	}
	goto out_ours;
out_io:
	seterr(s->err, sizeof(s->err), "iperf3 control: exchanging results: %s", strerror(-r));
out_ours:
	free(ours);
	return r;
}

void iperf3_server_close(struct iperf3_server *s)
{
	if (s->ctrl_fd >= 0)
		close(s->ctrl_fd);
	s->ctrl_fd = -1;
}
