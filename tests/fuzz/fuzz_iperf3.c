/* fuzz_iperf3.c - libFuzzer harness: the iperf3 control protocol, both sides, as a peer could speak it */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "gen/iperf3.h"
#include "gen/sink_iperf3.h"

/*
 * The first byte picks a side; the rest is what the peer sends, written
 * into one end of a socketpair whose writing half is then shut: the code
 * under test reads it as a peer's bytes and then end of file (never a
 * wait for a timeout), and what it writes back stays unread in the pair.
 *
 *   0  server (gen/iperf3.c): cookie, params, TEST_END, the client's results
 *   1  client (gen/iperf3.c): the server's states, SERVER_ERROR, its results
 *   2  UDP data hello: the server's reply datagram
 *   3  the sink's control thread (gen/sink_iperf3.c): byte 1 says which data
 *      streams the workers hand it before it starts (bits 0-2: TCP with the
 *      test's cookie, 3-5: UDP hellos, 6: a second test's cookie, 7: the
 *      streams' counters published); then the control connection's bytes,
 *      whose first 37 become a valid cookie, as a worker hands over only those
 */

#define MAX_INPUT (64u << 10)  /* fits the socketpair's buffer: the write never blocks */
#define TIMEOUT_MS 2000

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_iperf3: %s:%d: %s\n", __FILE__, __LINE__, #c); abort(); } } while (0)

/* A socketpair with @data waiting at sv[0]'s end; sv[1] is the peer, shut for writing. */
static int pair_with(int type, const uint8_t *data, size_t size, int sv[2])
{
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv))
		return -1;
	/* A datagram is sent even when empty: a reply of 0 bytes, not none. */
	if ((size || type == SOCK_DGRAM) && send(sv[1], data, size, MSG_NOSIGNAL) != (ssize_t)size) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (type == SOCK_STREAM)
		shutdown(sv[1], SHUT_WR);
	return 0;
}

static int server_cb(void *arg, unsigned index, struct iperf3_stream_result *out)
{
	const uint8_t *b = arg;

	out->bytes = (uint64_t)b[index % 4] << 20;
	out->packets = b[(index + 1) % 4];
	out->errors = b[(index + 2) % 4] & 7;
	out->jitter = b[(index + 3) % 4] / 1e6;
	out->end_time = 1.0;
	return 0;
}

static void server_side(const uint8_t *data, size_t size)
{
	struct iperf3_server *s = calloc(1, sizeof(*s));
	static const uint8_t counts[4] = { 7, 1, 2, 3 };
	int sv[2];

	if (!s || pair_with(SOCK_STREAM, data, size, sv)) {
		free(s);
		return;
	}
	if (iperf3_server_start(s, sv[0], TIMEOUT_MS))
		goto out;
	CHECK(s->params.parallel >= 1 && s->params.parallel <= IPERF3_MAX_STREAMS);
	CHECK(!s->params.reverse && !s->params.bidirectional);
	while (iperf3_server_add_stream(s) >= 0)
		;
	CHECK(s->n_streams == s->params.parallel);
	if (iperf3_server_run(s) || iperf3_server_wait_end(s, 0))
		goto out;
	if (!iperf3_server_finish(s, server_cb, (void *)counts, NULL))
		CHECK(s->client.n_streams <= IPERF3_MAX_STREAMS);
out:
	iperf3_server_close(s);
	close(sv[1]);
	free(s);
}

static void client_side(const uint8_t *data, size_t size)
{
	struct iperf3_client *c = calloc(1, sizeof(*c));
	struct iperf3_results *mine = calloc(1, sizeof(*mine)), *theirs = calloc(1, sizeof(*theirs));
	struct iperf3_params p = { .parallel = 2, .time_s = 1, .len = 1400, .bandwidth = 1000000 };
	int sv[2];

	if (!c || !mine || !theirs || pair_with(SOCK_STREAM, data, size, sv))
		goto out_mem;
	c->ctrl_fd = sv[0];
	c->timeout_ms = TIMEOUT_MS;
	memset(c->cookie, 'a', IPERF3_COOKIE_LEN - 1);
	p.udp = size && (data[0] & 1);
	mine->n_streams = p.parallel;
	for (unsigned i = 0; i < p.parallel; i++) {
		mine->streams[i].bytes = 1000 * (i + 1);
		mine->streams[i].packets = i + 1;
		mine->streams[i].retransmits = p.udp ? -1 : 0;
	}
	/* Bit 1: the server says something while the data flows (else it waits for TEST_END). */
	if (iperf3_client_params(c, &p) || iperf3_client_wait_create_streams(c) ||
	    iperf3_client_wait_start(c) || (size && (data[0] & 2) && iperf3_client_check(c)) ||
	    iperf3_client_end(c, mine, theirs)) {
		CHECK(memchr(c->err, '\0', sizeof(c->err)));
		iperf3_client_terminate(c);
	} else {
		CHECK(theirs->n_streams <= IPERF3_MAX_STREAMS);
	}
	iperf3_client_close(c);
	close(sv[1]);
out_mem:
	free(theirs);
	free(mine);
	free(c);
}

static void udp_hello(const uint8_t *data, size_t size)
{
	char cookie[IPERF3_COOKIE_LEN];
	int sv[2];

	if (pair_with(SOCK_DGRAM, data, size, sv))
		return;
	iperf3_make_cookie(cookie);
	iperf3_data_hello(sv[0], cookie, true);
	close(sv[0]);
	close(sv[1]);
}

/* Until the control thread has closed its end: EOF on ours. */
static void wait_closed(int fd)
{
	char buf[4096];

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 10 * TIMEOUT_MS) <= 0)
			return;  /* sink_ip3_stop() will end it */
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			return;
	}
}

static void sink_side(const uint8_t *data, size_t size)
{
	static const char chars[] = IPERF3_COOKIE_CHARS;
	struct sink_ip3 *ip;
	struct sink_iperf3_test *tests;
	struct ip3_stream *st, *streams[16];
	char cookie[IPERF3_COOKIE_LEN], other[IPERF3_COOKIE_LEN];
	unsigned n = 0, ns = 0, cfg;
	uint8_t *ctl;
	int sv[2];

	if (size < 1 + IPERF3_COOKIE_LEN)
		return;
	cfg = data[0];
	ctl = malloc(size - 1);
	if (!ctl)
		return;
	memcpy(ctl, data + 1, size - 1);
	for (unsigned i = 0; i < IPERF3_COOKIE_LEN - 1; i++)
		ctl[i] = (uint8_t)chars[ctl[i] % 32];
	ctl[IPERF3_COOKIE_LEN - 1] = '\0';
	memcpy(cookie, ctl, sizeof(cookie));
	memcpy(other, cookie, sizeof(other));
	other[0] = other[0] == 'a' ? 'b' : 'a';
	if (sink_ip3_init(&ip, TIMEOUT_MS, 0)) {
		free(ctl);
		return;
	}
	if (pair_with(SOCK_STREAM, ctl, size - 1, sv))
		goto out_ip;
	/* As the workers would: the control connection first, then its streams. */
	CHECK(sink_ip3_tcp(ip, cookie, sv[0], "127.0.0.1:1", 0, 1, &st) == IP3_CONTROL);
	for (unsigned i = 0; i < (cfg & 7); i++)
		if (sink_ip3_tcp(ip, cookie, -1, "127.0.0.1:2", 0, 10 - i, &st) == IP3_STREAM)
			streams[ns++] = st;
	for (unsigned i = 0; i < ((cfg >> 3) & 7); i++) {
		st = sink_ip3_udp_hello(ip, "127.0.0.1:3", 1, 20 + i);
		if (st)
			streams[ns++] = st;
	}
	if (cfg & 0x40)
		CHECK(sink_ip3_tcp(ip, other, -1, "127.0.0.1:4", 0, 30, &st) == IP3_DENY);
	if (cfg & 0x80)
		for (unsigned i = 0; i < ns; i++)
			ip3_publish_udp(streams[i], 1000 * (i + 1), i + 1, i + 2, 1, 0.001, 1, 2);
	if (sink_ip3_start(ip)) {
		close(sv[1]);
		sink_ip3_stop(ip);
		goto out_ip;
	}
	wait_closed(sv[1]);
	close(sv[1]);
	sink_ip3_stop(ip);
	if (!sink_ip3_results(ip, &tests, &n)) {
		for (unsigned i = 0; i < n; i++) {
			CHECK(tests[i].n_streams <= IPERF3_MAX_STREAMS);
			free(tests[i].streams);
		}
		free(tests);
	}
out_ip:
	sink_ip3_free(ip);
	free(ctl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size || size > MAX_INPUT)
		return 0;
	switch (data[0] % 4) {
	case 0: server_side(data + 1, size - 1); break;
	case 1: client_side(data + 1, size - 1); break;
	case 2: udp_hello(data + 1, size - 1); break;
	case 3: sink_side(data + 1, size - 1); break;
	}
	return 0;
}
