/* unit_iperf3.c - iperf3 control protocol: framing, JSON, and both sides against Debian's iperf3 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gen/gen.h"
#include "gen/iperf3.h"

/* ---------------- unit: cookie, framing, JSON ---------------- */

static void test_cookie(void **state)
{
	char a[IPERF3_COOKIE_LEN], b[IPERF3_COOKIE_LEN];

	assert_int_equal(iperf3_make_cookie(a), 0);
	assert_int_equal(iperf3_make_cookie(b), 0);
	assert_int_equal(strlen(a), 36);
	assert_int_equal(a[36], '\0');
	for (int i = 0; i < 36; i++)
		assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz234567", a[i]));
	assert_true(iperf3_cookie_valid(a));
	assert_memory_not_equal(a, b, 36);
	b[5] = '8'; /* not in the alphabet */
	assert_false(iperf3_cookie_valid(b));
	b[5] = 'a';
	b[36] = 'x';
	assert_false(iperf3_cookie_valid(b));
}

static void test_stream_ids(void **state)
{
	assert_int_equal(iperf3_stream_id(0), 1);
	assert_int_equal(iperf3_stream_id(1), 3);
	assert_int_equal(iperf3_stream_id(2), 4);
	assert_int_equal(iperf3_stream_id(9), 11);
}

static void test_framing(void **state)
{
	int sv[2];
	unsigned char hdr[4];
	char text[64];
	json_t *j = json_pack("{s:i}", "a", 7), *got;
	uint32_t len;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(iperf3_json_send(sv[0], j), 0);
	assert_int_equal(read(sv[1], hdr, 4), 4);
	assert_int_equal(hdr[0] | hdr[1] | hdr[2], 0); /* big-endian length */
	assert_int_equal(hdr[3], strlen("{\"a\":7}"));
	assert_int_equal(read(sv[1], text, hdr[3]), hdr[3]);
	assert_memory_equal(text, "{\"a\":7}", hdr[3]);

	/* Round trip, then a state byte. */
	assert_int_equal(iperf3_json_send(sv[0], j), 0);
	assert_int_equal(iperf3_json_recv(sv[1], 1000, &got), 0);
	assert_int_equal(json_number_value(json_object_get(got, "a")), 7);
	json_decref(got);
	assert_int_equal(iperf3_send_state(sv[0], IPERF3_ACCESS_DENIED), 0);
	signed char st = 0;
	assert_int_equal(iperf3_recv_state(sv[1], 1000, &st), 0);
	assert_int_equal(st, -1);
	assert_int_equal(iperf3_recv_state(sv[1], 0, &st), -EAGAIN);

	/* Too long, and not an object. */
	len = htonl(IPERF3_JSON_MAX + 1);
	assert_int_equal(write(sv[0], &len, 4), 4);
	assert_int_equal(iperf3_json_recv(sv[1], 1000, &got), -EMSGSIZE);
	len = htonl(3);
	assert_int_equal(write(sv[0], &len, 4), 4);
	assert_int_equal(write(sv[0], "[1]", 3), 3);
	assert_int_equal(iperf3_json_recv(sv[1], 1000, &got), -EBADMSG);
	/* A peer that goes away. */
	close(sv[0]);
	assert_int_equal(iperf3_recv_state(sv[1], 1000, &st), -ECONNRESET);
	close(sv[1]);
	json_decref(j);
}

static void test_params_json(void **state)
{
	struct iperf3_params p = { .parallel = 2, .time_s = 3, .len = 131072 }, q;
	json_t *j = iperf3_params_to_json(&p);
	const char *keys[] = { "tcp", "omit", "time", "num", "blockcount", "parallel", "len",
			       "pacing_timer", "client_version" };

	assert_non_null(j);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_non_null(json_object_get(j, keys[i]));
	assert_true(json_is_integer(json_object_get(j, "time"))); /* iperf3 reads valueint */
	assert_int_equal(json_integer_value(json_object_get(j, "num")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "blockcount")), 0);
	assert_null(json_object_get(j, "udp"));
	assert_null(json_object_get(j, "bandwidth"));
	assert_null(json_object_get(j, "udp_counters_64bit"));
	assert_int_equal(iperf3_params_from_json(j, &q), 0);
	assert_false(q.udp);
	assert_int_equal(q.parallel, 2);
	assert_int_equal(q.time_s, 3);
	assert_int_equal(q.len, 131072);
	assert_false(q.zcgen_warmup);
	json_decref(j);

	/* zcgen's addition for a zcgen sink: only when set, read back */
	p.zcgen_warmup = true;
	j = iperf3_params_to_json(&p);
	assert_true(json_is_true(json_object_get(j, "zcgen_warmup")));
	assert_int_equal(iperf3_params_from_json(j, &q), 0);
	assert_true(q.zcgen_warmup);
	json_decref(j);
	p.zcgen_warmup = false;

	/* UDP as fast as possible: like `iperf3 -u -b 0`, no bandwidth key. */
	p = (struct iperf3_params){ .udp = true, .parallel = 1, .time_s = 1, .len = 1400,
				    .udp_counters_64bit = true };
	j = iperf3_params_to_json(&p);
	assert_true(json_is_true(json_object_get(j, "udp")));
	assert_null(json_object_get(j, "tcp"));
	assert_null(json_object_get(j, "bandwidth"));
	assert_int_equal(json_integer_value(json_object_get(j, "udp_counters_64bit")), 1);
	json_decref(j);
	p.bandwidth = 10000000;
	j = iperf3_params_to_json(&p);
	assert_int_equal(json_integer_value(json_object_get(j, "bandwidth")), 10000000);
	json_decref(j);

	/* What iperf3 3.12's client really sends, and what we refuse. */
	j = json_loads("{\"udp\":true,\"omit\":0,\"time\":1,\"num\":0,\"blockcount\":0,"
		       "\"parallel\":1,\"len\":1400,\"bandwidth\":10000000,\"pacing_timer\":1000,"
		       "\"udp_counters_64bit\":1,\"client_version\":\"3.12\"}", 0, NULL);
	assert_int_equal(iperf3_params_from_json(j, &q), 0);
	assert_true(q.udp && q.udp_counters_64bit);
	assert_int_equal(q.bandwidth, 10000000);
	assert_string_equal(q.client_version, "3.12");
	json_decref(j);
	j = json_loads("{\"sctp\":true,\"parallel\":1}", 0, NULL);
	assert_int_equal(iperf3_params_from_json(j, &q), -EINVAL);
	json_decref(j);
	j = json_loads("{\"tcp\":true,\"parallel\":129}", 0, NULL);
	assert_int_equal(iperf3_params_from_json(j, &q), -EINVAL);
	json_decref(j);
	j = json_loads("{\"tcp\":true,\"parallel\":1,\"reverse\":true}", 0, NULL);
	assert_int_equal(iperf3_params_from_json(j, &q), 0);
	assert_true(q.reverse);
	json_decref(j);
}

static void test_results_json(void **state)
{
	static struct iperf3_results r, back;
	const char *top[] = { "cpu_util_total", "cpu_util_user", "cpu_util_system",
			      "sender_has_retransmits", "streams" };
	const char *per[] = { "id", "bytes", "retransmits", "jitter", "errors", "packets",
			      "start_time", "end_time" };
	char err[128] = "";
	json_t *j, *s;

	memset(&r, 0, sizeof(r));
	r.sender_has_retransmits = 1;
	r.n_streams = 3;
	for (unsigned i = 0; i < 3; i++)
		r.streams[i] = (struct iperf3_stream_result){ .bytes = 1000 * (i + 1),
							      .retransmits = i, .end_time = 1.0 };
	j = iperf3_results_to_json(&r);
	assert_non_null(j);
	for (size_t k = 0; k < sizeof(top) / sizeof(top[0]); k++)
		assert_non_null(json_object_get(j, top[k]));
	s = json_object_get(j, "streams");
	assert_int_equal(json_array_size(s), 3);
	for (size_t k = 0; k < sizeof(per) / sizeof(per[0]); k++)
		assert_non_null(json_object_get(json_array_get(s, 0), per[k]));
	assert_int_equal(json_integer_value(json_object_get(json_array_get(s, 1), "id")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(s, 2), "id")), 4);
	assert_int_equal(iperf3_results_from_json(j, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n_streams, 3);
	assert_true(back.streams[0].omitted_known);   /* we always send omitted_packets */
	assert_int_equal(back.total.bytes, 6000);
	assert_int_equal(back.total.retransmits, 3);
	json_decref(j);

	/* iperf3 3.12's server, verbatim: -1 written as 2^64 - 1. */
	j = json_loads("{\"cpu_util_total\":15.3,\"cpu_util_user\":0.42,\"cpu_util_system\":14.88,"
		       "\"sender_has_retransmits\":18446744073709551615,\"streams\":[{\"id\":1,"
		       "\"bytes\":15134000,\"retransmits\":18446744073709551615,"
		       "\"jitter\":2.8769204865906058e-05,\"errors\":2,\"packets\":10810,"
		       "\"start_time\":0,\"end_time\":1.003083}]}", JSON_DECODE_INT_AS_REAL, NULL);
	assert_non_null(j);
	assert_int_equal(iperf3_results_from_json(j, &back, err, sizeof(err)), 0);
	assert_int_equal(back.sender_has_retransmits, -1);
	assert_int_equal(back.streams[0].retransmits, -1);
	assert_int_equal(back.streams[0].bytes, 15134000);
	assert_int_equal(back.streams[0].packets, 10810);
	assert_int_equal(back.streams[0].errors, 2);
	/* 3.12's server sends no omitted_packets: its packets are the whole run's */
	assert_false(back.streams[0].omitted_known);
	assert_true(fabs(back.streams[0].jitter - 2.8769204865906058e-05) < 1e-12);
	assert_int_equal(back.total.retransmits, -1);
	/* Without a key iperf3 needs, the parse fails and names it. */
	json_object_del(json_array_get(json_object_get(j, "streams"), 0), "packets");
	assert_int_equal(iperf3_results_from_json(j, &back, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "packets"));
	json_object_del(j, "cpu_util_user");
	assert_int_equal(iperf3_results_from_json(j, &back, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "cpu_util_user"));
	json_decref(j);
}

/* Found by fuzz_iperf3: numbers out of every integer's range are clamped, not converted (UB). */
static void test_json_out_of_range(void **state)
{
	static struct iperf3_results back;
	struct iperf3_params q;
	json_t *j;

	j = json_loads("{\"tcp\":true,\"parallel\":1,\"time\":1e30,\"omit\":-5,\"len\":1e300,"
		       "\"MSS\":-1e300}", JSON_DECODE_INT_AS_REAL, NULL);
	assert_non_null(j);
	assert_int_equal(iperf3_params_from_json(j, &q), 0);
	assert_int_equal(q.time_s, UINT_MAX);
	assert_int_equal(q.omit_s, 0);
	assert_true(q.len == UINT64_MAX);
	assert_int_equal(q.mss, 0);
	json_decref(j);
	j = json_loads("{\"cpu_util_total\":1,\"cpu_util_user\":0,\"cpu_util_system\":0,"
		       "\"sender_has_retransmits\":-1e300,\"streams\":[{\"id\":1e40,\"bytes\":-1,"
		       "\"retransmits\":9e18,\"jitter\":0,\"errors\":9e18,\"packets\":-3},"
		       "{\"id\":3,\"bytes\":1,\"retransmits\":9e18,\"jitter\":0,\"errors\":9e18,"
		       "\"packets\":1}]}", JSON_DECODE_INT_AS_REAL, NULL);
	assert_non_null(j);
	assert_int_equal(iperf3_results_from_json(j, &back, NULL, 0), 0);
	assert_int_equal(back.streams[0].id, INT_MAX);
	assert_true(back.streams[0].bytes == 0 && back.streams[0].packets == 0);
	assert_true(back.total.retransmits == INT64_MAX);   /* held, not overflowed */
	assert_true(back.total.errors == INT64_MAX);
	json_decref(j);
}

/* The server's refusals become errors with its numbers. */
static void test_server_refusals(void **state)
{
	struct iperf3_params p = { .parallel = 1, .time_s = 1, .len = 1000 };
	struct iperf3_client c;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(&c, 0, sizeof(c));
	c.ctrl_fd = sv[0];
	c.timeout_ms = 1000;
	assert_int_equal(iperf3_server_error(sv[1], IPERF3_IEUNIMP, 0), 0);
	assert_int_equal(iperf3_client_params(&c, &p), -EPROTO);
	assert_int_equal(c.server_ierrno, 13);
	assert_non_null(strstr(c.err, "not implemented"));
	assert_int_equal(iperf3_server_error(sv[1], 200, ENOMEM), 0);
	assert_int_equal(iperf3_client_params(&c, &p), -ENOMEM);
	assert_int_equal(c.server_errno, ENOMEM);
	assert_int_equal(iperf3_server_deny(sv[1]), 0);
	assert_int_equal(iperf3_client_params(&c, &p), -EACCES);
	/* An out-of-order state is a protocol error. */
	assert_int_equal(iperf3_send_state(sv[1], IPERF3_TEST_START), 0);
	assert_int_equal(iperf3_client_params(&c, &p), -EPROTO);
	p.parallel = 0;
	assert_int_equal(iperf3_client_params(&c, &p), -EINVAL);
	close(sv[0]);
	close(sv[1]);
}

static void test_udp_helpers(void **state)
{
	struct gen_udp_hdr h = { htonl(1700000000u), htonl(123456u), 0 };
	uint32_t sec, usec, seq32 = htonl(77);
	unsigned char b[16];
	uint64_t seq;
	double jit = 0, prev = NAN;

	/* 64-bit sequence in network byte order, exactly zcgen's header. */
	h.seq = htobe64(0x0000000100000002ull);
	assert_int_equal(iperf3_udp_parse(&h, sizeof(h), true, &sec, &usec, &seq), 0);
	assert_int_equal(sec, 1700000000u);
	assert_int_equal(usec, 123456u);
	assert_int_equal(seq, 0x0000000100000002ull);
	memcpy(b, &h, 8);
	memcpy(b + 8, &seq32, 4);
	assert_int_equal(iperf3_udp_parse(b, 12, false, &sec, &usec, &seq), 0);
	assert_int_equal(seq, 77);
	assert_int_equal(iperf3_udp_parse(b, 12, true, &sec, &usec, &seq), -EBADMSG);

	/* Constant transit: no jitter. One 16 ms step: 1 ms. */
	iperf3_jitter_update(&jit, &prev, 0.0, 0.5);
	iperf3_jitter_update(&jit, &prev, 1.0, 1.5);
	assert_true(jit == 0.0);
	iperf3_jitter_update(&jit, &prev, 2.0, 2.516);
	assert_true(fabs(jit - 0.001) < 1e-9);
}

/*
 * iperf3_drain_wait() on loopback also waits for the receiving program to
 * read: unread data at the peer keeps it waiting (here until its timeout),
 * and once read, it returns at once. TCP and UDP.
 */
static void drain_pair(int type)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int lfd = socket(AF_INET, type, 0), cfd = socket(AF_INET, type, 0), sfd;
	char buf[4096] = { 0 };

	assert_true(lfd >= 0 && cfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &l), 0);
	if (type == SOCK_STREAM) {
		assert_int_equal(listen(lfd, 1), 0);
		assert_int_equal(connect(cfd, (struct sockaddr *)&a, sizeof(a)), 0);
		sfd = accept(lfd, NULL, NULL);
		assert_true(sfd >= 0);
	} else {
		struct sockaddr_in c;
		socklen_t cl = sizeof(c);

		assert_int_equal(connect(cfd, (struct sockaddr *)&a, sizeof(a)), 0);
		assert_int_equal(getsockname(cfd, (struct sockaddr *)&c, &cl), 0);
		assert_int_equal(connect(lfd, (struct sockaddr *)&c, cl), 0); /* as iperf3 does */
		sfd = lfd;
		lfd = -1;
	}
	assert_int_equal(send(cfd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	assert_int_equal(iperf3_drain_wait(&cfd, 1, 200, 0), -ETIMEDOUT);
	while (recv(sfd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	assert_int_equal(iperf3_drain_wait(&cfd, 1, 200, 0), 0);
	close(cfd);
	close(sfd);
	if (lfd >= 0)
		close(lfd);
}

static void test_drain_local_peer(void **state)
{
	(void)state;
	drain_pair(SOCK_STREAM);
	drain_pair(SOCK_DGRAM);
}

/* ---------------- end to end helpers ---------------- */

static bool have_iperf3(void)
{
	return system("iperf3 --version >/dev/null 2>&1") == 0;
}

static uint16_t free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Listening on 127.0.0.1:port, read from /proc (a probe connection would be its test). */
static bool listening(uint16_t port)
{
	char want[32], line[256];
	bool found = false;
	FILE *f = fopen("/proc/net/tcp", "r");

	if (!f)
		return false;
	snprintf(want, sizeof(want), "0100007F:%04X", port);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, want) && strstr(line, " 0A "))
			found = true;
	fclose(f);
	return found;
}

static pid_t spawn(char *const argv[], const char *out_path)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int null = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

struct srv {
	pid_t pid;
	uint16_t port;
};

static int start_iperf3_server(void **state)
{
	static struct srv s;
	char port[8];

	if (!have_iperf3())
		return 0; /* the test skips */
	s.port = free_port();
	snprintf(port, sizeof(port), "%u", s.port);
	char *argv[] = { "iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", port, NULL };
	s.pid = spawn(argv, NULL);
	if (s.pid < 0)
		return -1;
	for (int i = 0; i < 300 && !listening(s.port); i++)
		sleep_ms(10);
	*state = &s;
	return listening(s.port) ? 0 : -1;
}

static int stop_iperf3_server(void **state)
{
	struct srv *s = *state;

	if (s && s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	return 0;
}

/* The one-off server exits on its own after a good test: its status says it liked it. */
static void server_exits_cleanly(struct srv *s)
{
	int status = -1;

	for (int i = 0; i < 300; i++) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			break;
		}
		sleep_ms(10);
	}
	assert_int_equal(s->pid, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static int data_socket(uint16_t port, bool udp)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void write_bytes(int fd, uint64_t n)
{
	static char buf[65536];

	while (n) {
		size_t chunk = n < sizeof(buf) ? n : sizeof(buf);
		ssize_t w = write(fd, buf, chunk);

		assert_true(w > 0);
		n -= (uint64_t)w;
	}
}

/* ---------------- our client against `iperf3 -s` ---------------- */

static void client_tcp(void **state, unsigned nstreams)
{
	struct srv *s = *state;
	static struct iperf3_results mine, theirs;
	const uint64_t bytes[2] = { 50000000, 30000000 };
	struct iperf3_params p = { .parallel = nstreams, .time_s = 1, .len = 131072 };
	struct iperf3_client c;
	int fds[2];

	if (!have_iperf3())
		skip();
	assert_int_equal(iperf3_client_connect(&c, "127.0.0.1", s->port, 5000), 0);
	assert_int_equal(iperf3_client_params(&c, &p), 0);
	assert_int_equal(iperf3_client_wait_create_streams(&c), 0);
	for (unsigned i = 0; i < nstreams; i++) { /* one after another: ids 1, 3 */
		fds[i] = data_socket(s->port, false);
		assert_int_equal(iperf3_data_hello(fds[i], c.cookie, false), 0);
	}
	assert_int_equal(iperf3_client_wait_start(&c), 0);
	memset(&mine, 0, sizeof(mine));
	mine.sender_has_retransmits = 0;
	mine.n_streams = nstreams;
	for (unsigned i = 0; i < nstreams; i++) {
		write_bytes(fds[i], bytes[i]);
		mine.streams[i].bytes = bytes[i];
		mine.streams[i].end_time = 1.0;
	}
	assert_int_equal(iperf3_drain_wait(fds, nstreams, 5000, 200), 0);
	assert_int_equal(iperf3_client_end(&c, &mine, &theirs), 0);
	assert_int_equal(theirs.n_streams, nstreams);
	for (unsigned i = 0; i < nstreams; i++) {
		/* The server's streams come back by id; match them to ours. */
		unsigned k;

		for (k = 0; k < theirs.n_streams; k++)
			if (theirs.streams[k].id == iperf3_stream_id(i))
				break;
		assert_true(k < theirs.n_streams);
		assert_int_equal(theirs.streams[k].bytes, bytes[i]); /* exactly: no cookie */
		close(fds[i]);
	}
	assert_int_equal(theirs.sender_has_retransmits, -1);
	iperf3_client_close(&c);
	server_exits_cleanly(s);
}

static void test_client_tcp_1(void **state)
{
	client_tcp(state, 1);
}

static void test_client_tcp_2(void **state)
{
	client_tcp(state, 2);
}

static void test_client_udp(void **state)
{
	struct srv *s = *state;
	static struct iperf3_results mine, theirs;
	struct iperf3_params p = { .udp = true, .parallel = 1, .time_s = 1, .len = 1400 };
	const unsigned count = 2000;
	unsigned char dgram[1400];
	struct iperf3_client c;
	int fd;

	if (!have_iperf3())
		skip();
	assert_int_equal(iperf3_client_connect(&c, "127.0.0.1", s->port, 5000), 0);
	assert_int_equal(iperf3_client_params(&c, &p), 0);
	assert_true(c.params.udp_counters_64bit);
	assert_int_equal(iperf3_client_wait_create_streams(&c), 0);
	fd = data_socket(s->port, true);
	assert_int_equal(iperf3_data_hello(fd, c.cookie, true), 0);
	assert_int_equal(iperf3_client_wait_start(&c), 0);
	memset(dgram, 0xab, sizeof(dgram));
	for (unsigned i = 1; i <= count; i++) {
		struct timeval tv;
		struct gen_udp_hdr h;

		gettimeofday(&tv, NULL);
		h.sec = htonl((uint32_t)tv.tv_sec);
		h.usec = htonl((uint32_t)tv.tv_usec);
		h.seq = htobe64(i);
		memcpy(dgram, &h, sizeof(h));
		assert_int_equal(send(fd, dgram, sizeof(dgram), 0), sizeof(dgram));
		if (i % 20 == 0)
			sleep_ms(1); /* modest rate: no loss on loopback */
	}
	assert_int_equal(iperf3_drain_wait(&fd, 1, 5000, 200), 0);
	memset(&mine, 0, sizeof(mine));
	mine.n_streams = 1;
	mine.streams[0] = (struct iperf3_stream_result){ .bytes = (uint64_t)count * sizeof(dgram),
							 .packets = count, .retransmits = -1,
							 .end_time = 1.0 };
	assert_int_equal(iperf3_client_end(&c, &mine, &theirs), 0);
	assert_int_equal(theirs.n_streams, 1);
	assert_int_equal(theirs.streams[0].id, 1);
	/* iperf3 reads our 64-bit sequences: highest seen is what we sent, none lost. */
	assert_int_equal(theirs.streams[0].packets, count);
	assert_int_equal(theirs.streams[0].errors, 0);
	assert_int_equal(theirs.streams[0].bytes, (uint64_t)count * sizeof(dgram));
	assert_true(theirs.streams[0].jitter >= 0 && theirs.streams[0].jitter < 1.0);
	close(fd);
	iperf3_client_close(&c);
	server_exits_cleanly(s);
}

/* ---------------- `iperf3 -c` against a server built on our API ---------------- */

struct tsrv {
	bool udp;
	int listen_fd, udp_fd;
	uint16_t port;
	int rc;
	char err[256];
	unsigned n;
	int fds[8];
	uint64_t bytes[8], packets[8], highest[8];
	double jitter[8], transit[8];
};

static int tsrv_results(void *arg, unsigned index, struct iperf3_stream_result *out)
{
	struct tsrv *t = arg;

	out->bytes = t->bytes[index];
	if (t->udp) {
		out->packets = t->highest[index]; /* iperf3's meaning: received + lost */
		out->errors = (int64_t)(t->highest[index] - t->packets[index]);
		out->jitter = t->jitter[index];
	}
	out->end_time = 1.0;
	return 0;
}

static void tsrv_read(struct tsrv *t, unsigned i, bool counters64)
{
	static unsigned char buf[65536];
	ssize_t n;

	while ((n = recv(t->fds[i], buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		t->bytes[i] += (uint64_t)n;
		if (t->udp) {
			uint32_t sec, usec;
			uint64_t seq;
			struct timeval tv;

			if (iperf3_udp_parse(buf, (size_t)n, counters64, &sec, &usec, &seq))
				continue;
			gettimeofday(&tv, NULL);
			t->packets[i]++;
			if (seq > t->highest[i])
				t->highest[i] = seq;
			iperf3_jitter_update(&t->jitter[i], &t->transit[i], sec + usec / 1e6,
					     tv.tv_sec + tv.tv_usec / 1e6);
		}
	}
}

static void *tsrv_main(void *arg)
{
	struct tsrv *t = arg;
	struct iperf3_server s;
	int ctrl, r;

	ctrl = accept(t->listen_fd, NULL, NULL);
	if (ctrl < 0) {
		t->rc = -errno;
		return NULL;
	}
	r = iperf3_server_start(&s, ctrl, 5000);
	if (r)
		goto out;
	for (unsigned i = 0; i < s.params.parallel && i < 8; i++) {
		int fd = -1, idx;

		if (t->udp) {
			r = iperf3_udp_accept(&t->udp_fd, &fd, 5000);
			if (r)
				goto out;
			idx = iperf3_server_add_stream(&s);
		} else {
			fd = accept(t->listen_fd, NULL, NULL);
			if (fd < 0) {
				r = -errno;
				goto out;
			}
			idx = iperf3_server_add_tcp_stream(&s, fd);
		}
		if (idx < 0) {
			close(fd);
			r = idx;
			goto out;
		}
		t->fds[idx] = fd;
		t->transit[idx] = NAN;
		t->n++;
	}
	r = iperf3_server_run(&s);
	if (r)
		goto out;
	for (;;) {
		struct pollfd p[9];

		for (unsigned i = 0; i < t->n; i++)
			p[i] = (struct pollfd){ .fd = t->fds[i], .events = POLLIN };
		p[t->n] = (struct pollfd){ .fd = s.ctrl_fd, .events = POLLIN };
		if (poll(p, t->n + 1, 10000) <= 0) {
			r = -ETIMEDOUT;
			goto out;
		}
		for (unsigned i = 0; i < t->n; i++)
			if (p[i].revents)
				tsrv_read(t, i, s.params.udp_counters_64bit);
		if (p[t->n].revents) {
			r = iperf3_server_wait_end(&s, 0);
			if (r == -EAGAIN)
				continue;
			if (r)
				goto out;
			break;
		}
	}
	/* Unlike iperf3's server, read what is still queued before counting. */
	sleep_ms(50);
	for (unsigned i = 0; i < t->n; i++)
		tsrv_read(t, i, s.params.udp_counters_64bit);
	r = iperf3_server_finish(&s, tsrv_results, t, NULL);
out:
	if (r)
		snprintf(t->err, sizeof(t->err), "%s", s.err);
	t->rc = r;
	for (unsigned i = 0; i < t->n; i++)
		close(t->fds[i]);
	iperf3_server_close(&s);
	return NULL;
}

static json_t *run_iperf3_client(uint16_t port, bool udp, int *status)
{
	char portbuf[8], path[] = "/tmp/zcgen-iperf3-XXXXXX";
	int fd = mkstemp(path);
	json_t *j;
	pid_t pid;

	assert_true(fd >= 0);
	close(fd);
	snprintf(portbuf, sizeof(portbuf), "%u", port);
	char *tcp_argv[] = { "iperf3", "-c", "127.0.0.1", "-p", portbuf, "-t", "1", "-J", NULL };
	char *udp_argv[] = { "iperf3", "-c", "127.0.0.1", "-p", portbuf, "-t", "1", "-J",
			     "-u", "-b", "20M", "-l", "1400", NULL };
	pid = spawn(udp ? udp_argv : tcp_argv, path);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, status, 0), pid);
	j = json_load_file(path, 0, NULL);
	unlink(path);
	return j;
}

static void server_side(bool udp)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	static struct tsrv t;
	pthread_t th;
	int status, one = 1;
	uint64_t total = 0;
	json_t *j, *recv_sum;

	if (!have_iperf3())
		skip();
	memset(&t, 0, sizeof(t));
	t.udp = udp;
	t.udp_fd = -1;
	t.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(t.listen_fd >= 0);
	setsockopt(t.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(t.listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(t.listen_fd, 8), 0);
	assert_int_equal(getsockname(t.listen_fd, (struct sockaddr *)&a, &l), 0);
	t.port = ntohs(a.sin_port);
	if (udp) {
		t.udp_fd = iperf3_udp_listen((struct sockaddr *)&a, sizeof(a));
		assert_true(t.udp_fd >= 0);
	}
	assert_int_equal(pthread_create(&th, NULL, tsrv_main, &t), 0);
	j = run_iperf3_client(t.port, udp, &status);
	pthread_join(th, NULL);
	close(t.listen_fd);
	if (t.udp_fd >= 0)
		close(t.udp_fd);
	if (t.rc)
		fail_msg("test server: %s (%d)", t.err, t.rc);
	assert_non_null(j);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_null(json_object_get(j, "error"));
	for (unsigned i = 0; i < t.n; i++)
		total += t.bytes[i];
	assert_true(total > 0);
	if (udp) {
		/* iperf3 -u -J: end.sum carries the receiver's view (packets, lost). */
		recv_sum = json_object_get(json_object_get(j, "end"), "sum");
		assert_non_null(recv_sum);
		assert_int_equal(json_integer_value(json_object_get(recv_sum, "packets")),
				 t.highest[0]);
		assert_int_equal(json_integer_value(json_object_get(recv_sum, "lost_packets")),
				 t.highest[0] - t.packets[0]);
	} else {
		recv_sum = json_object_get(json_object_get(j, "end"), "sum_received");
		assert_non_null(recv_sum);
		assert_int_equal(json_integer_value(json_object_get(recv_sum, "bytes")), total);
	}
	json_decref(j);
}

static void test_server_tcp(void **state)
{
	server_side(false);
}

static void test_server_udp(void **state)
{
	server_side(true);
}

int main(void)
{
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_stream_ids),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_params_json),
		cmocka_unit_test(test_results_json),
		cmocka_unit_test(test_json_out_of_range),
		cmocka_unit_test(test_server_refusals),
		cmocka_unit_test(test_udp_helpers),
		cmocka_unit_test(test_drain_local_peer),
	};
	const struct CMUnitTest e2e[] = {
		cmocka_unit_test_setup_teardown(test_client_tcp_1, start_iperf3_server,
						stop_iperf3_server),
		cmocka_unit_test_setup_teardown(test_client_tcp_2, start_iperf3_server,
						stop_iperf3_server),
		cmocka_unit_test_setup_teardown(test_client_udp, start_iperf3_server,
						stop_iperf3_server),
		cmocka_unit_test(test_server_tcp),
		cmocka_unit_test(test_server_udp),
	};
	int fails;

	signal(SIGPIPE, SIG_IGN);
	fails = cmocka_run_group_tests_name("iperf3 protocol", unit, NULL, NULL);
	if (!have_iperf3()) {
		printf("SKIP: iperf3 not installed (apt-get install iperf3): end-to-end tests not run\n");
		return fails ? fails : 77;
	}
	return fails + cmocka_run_group_tests_name("iperf3 end to end", e2e, NULL, NULL);
}
