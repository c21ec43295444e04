/* unit_sink_acct.c - the sink's accounting: loss/reorder/duplicates of a mangled sequence, latency from synthetic headers, GRO splitting, the warm-up's end */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "gen/payload.h"
#include "gen/sink_acct.h"
#include "gen/udpseq.h"

/*
 * 1..1000 sent; the test drops every 10th, swaps every 7th with its
 * successor (when neither is dropped), and sends every 50th twice.
 */
static void test_seq_mangled(void **state)
{
	uint64_t out[2000], n = 0, dropped = 0, swapped = 0, dups = 0;
	struct udpseq s;

	(void)state;
	for (uint64_t q = 1; q <= 1000; q++) {
		if (q % 10 == 0) {
			dropped++;
			continue;
		}
		out[n++] = q;
		if (q % 50 == 1) {
			out[n++] = q;
			dups++;
		}
	}
	for (uint64_t i = 0; i + 1 < n; i++)
		if (out[i] % 7 == 0 && out[i + 1] == out[i] + 1 && out[i] % 50 != 1) {
			uint64_t t = out[i];

			out[i] = out[i + 1];
			out[i + 1] = t;
			swapped++;
			i++;
		}
	memset(&s, 0, sizeof(s));
	for (uint64_t i = 0; i < n; i++)
		udpseq_add(&s, out[i]);
	assert_true(swapped > 50 && dups == 20 && dropped == 100);
	assert_int_equal(s.packets, n);
	assert_int_equal(s.highest, 999);       /* 1000 was dropped: never seen */
	assert_int_equal(s.lost, dropped - 1);  /* ... and so not counted lost */
	assert_int_equal(s.reordered, swapped);
	assert_int_equal(s.duplicates, dups);
	assert_int_equal(s.too_late, 0);
}

/* Synthetic headers: send times known, arrival = send + (i + 1) us for i in 0..9999. */
static void test_latency_percentiles(void **state)
{
	struct lat_acct *l = malloc(sizeof(*l));
	struct lat_summary m;
	uint64_t base = 1700000000ull * 1000000000ull;

	(void)state;
	assert_non_null(l);
	lat_init(l);
	for (unsigned i = 0; i < 10000; i++) {
		uint64_t sent_us = base / 1000 + i * 37ull;   /* any send times */
		uint32_t sec = (uint32_t)(sent_us / 1000000), usec = (uint32_t)(sent_us % 1000000);

		lat_add(l, sec, usec, sent_us * 1000 + (i + 1) * 1000ull);
	}
	lat_summarize(&l->h, l->negative, &m);
	assert_int_equal(m.count, 10000);
	assert_int_equal(m.negative, 0);
	assert_true(m.valid);
	/* nearest rank: p50 = 5000 us, p90 = 9000, p99 = 9900, p99.9 = 9990, max 10000: within 1% */
	assert_true(m.p50 > 5000 * 0.99 && m.p50 < 5000 * 1.01);
	assert_true(m.p90 > 9000 * 0.99 && m.p90 < 9000 * 1.01);
	assert_true(m.p99 > 9900 * 0.99 && m.p99 < 9900 * 1.01);
	assert_true(m.p99_9 > 9990 * 0.99 && m.p99_9 < 9990 * 1.01);
	assert_true(m.max == 10000.0);
	assert_true(m.min == 1.0);
	assert_true(m.mean > 5000.49 && m.mean < 5000.51);
	free(l);
}

/* Arrivals before the send time: counted apart, never in the figures; many of them: invalid. */
static void test_latency_negative(void **state)
{
	struct lat_acct *l = malloc(sizeof(*l));
	struct lat_summary m;

	(void)state;
	assert_non_null(l);
	lat_init(l);
	for (unsigned i = 0; i < 10000; i++)
		lat_add(l, 1000, 0, 1000 * 1000000000ull + 20000);   /* 20 us */
	lat_add(l, 1000, 10, 1000 * 1000000000ull);               /* -10 us */
	lat_summarize(&l->h, l->negative, &m);
	assert_int_equal(m.negative, 1);
	assert_int_equal(m.count, 10000);
	assert_true(m.valid);                                      /* 1 in 10001: a small share */
	assert_true(m.p50 > 19.9 && m.p50 < 20.1);
	for (unsigned i = 0; i < 100; i++)
		lat_add(l, 1000, 500, 1000 * 1000000000ull);
	lat_summarize(&l->h, l->negative, &m);
	assert_int_equal(m.negative, 101);
	assert_false(m.valid);
	assert_true(m.p50 > 19.9 && m.p50 < 20.1);                 /* not dragged to 0 */

	/* merge: counts add up */
	{
		struct lat_acct *b = malloc(sizeof(*b));

		assert_non_null(b);
		lat_init(b);
		lat_add(b, 1000, 0, 1000 * 1000000000ull + 5000000);   /* 5 ms */
		lat_merge(b, l);
		lat_summarize(&b->h, b->negative, &m);
		assert_int_equal(m.count, 10001);
		assert_int_equal(m.negative, 101);
		assert_true(m.max > 4999 && m.max < 5001);
		free(b);
	}
	free(l);

	/* nothing recorded: no figures, not valid */
	lat_summarize(NULL, 0, &m);
	assert_int_equal(m.count, 0);
	assert_false(m.valid);
}

/* A coalesced buffer of 1200-byte datagrams with a short last one, split as if received one by one. */
static void test_gro_split(void **state)
{
	unsigned char buf[8 * 1200];
	unsigned total = 7 * 1200 + 300, n, off, len, in;
	uint64_t seen = 0;

	(void)state;
	for (unsigned k = 0; k < 8; k++)
		for (unsigned b = 0; b < 1200; b++)
			buf[k * 1200 + b] = (unsigned char)(k + 1);
	n = gro_count(total, 1200);
	assert_int_equal(n, 8);
	for (unsigned k = 0; k < n; k++) {
		gro_seg(total, total, 1200, k, &off, &len, &in);
		assert_int_equal(off, k * 1200);
		assert_int_equal(len, k < 7 ? 1200 : 300);
		assert_int_equal(in, len);
		assert_int_equal(buf[off], k + 1);
		assert_int_equal(buf[off + len - 1], k + 1);
		seen += len;
	}
	assert_int_equal(seen, total);

	/* exact multiple: no empty tail */
	assert_int_equal(gro_count(8 * 1200, 1200), 8);
	gro_seg(8 * 1200, 8 * 1200, 1200, 7, &off, &len, &in);
	assert_int_equal(len, 1200);

	/* the buffer holds only part: later datagrams say how much of them is there */
	gro_seg(total, 2 * 1200 + 16, 1200, 2, &off, &len, &in);
	assert_int_equal(in, 16);
	gro_seg(total, 2 * 1200 + 16, 1200, 3, &off, &len, &in);
	assert_int_equal(in, 0);
	assert_int_equal(len, 1200);

	/* no segment size (no UDP_GRO message), or one datagram: the whole receive */
	assert_int_equal(gro_count(1400, 0), 1);
	gro_seg(1400, 1400, 0, 0, &off, &len, &in);
	assert_true(off == 0 && len == 1400 && in == 1400);
	assert_int_equal(gro_count(1000, 1200), 1);
	gro_seg(1000, 1000, 1200, 0, &off, &len, &in);
	assert_true(off == 0 && len == 1000 && in == 1000);
}

/* A zcgen TCP stream: @warm bytes of warm-up (shifted pattern), then the measured part. */
static void fill_stream(uint8_t *buf, size_t len, size_t warm)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = payload_byte(i, i < warm);
}

/* Feed @len bytes in receives of the sizes in @cuts (cycled); Return: the warm-up bytes found. */
static uint64_t feed(struct tcpwin *w, const uint8_t *buf, size_t len, const size_t *cuts, size_t ncut)
{
	uint64_t warm = 0;

	memset(w, 0, sizeof(*w));
	for (size_t off = 0, i = 0; off < len; i++) {
		size_t n = cuts[i % ncut] < len - off ? cuts[i % ncut] : len - off;
		size_t k = tcpwin_add(w, buf + off, n, off);

		assert_true(k <= n);
		/* once measured, never warm-up again */
		assert_true(k == 0 || warm == off);
		warm += k;
		off += n;
	}
	return warm;
}

/*
 * The warm-up's end, found from the bytes alone, wherever it falls: inside
 * a receive, on a receive's edge, within the first bytes, in 1-byte
 * receives; and the sender's count of warm-up bytes is exactly what the
 * receiver leaves out.
 */
static void test_tcp_warmup_end(void **state)
{
	static const size_t cuts_a[] = { 65536, 1, 7, 4096, 65536, 33 };
	static const size_t cuts_b[] = { 1 };
	static const size_t cuts_c[] = { 1000 };
	static const size_t warms[] = { 0, 1, 5, 15, 16, 17, 999, 1000, 1001, 65536, 65537, 300000 };
	size_t len = 400000;
	uint8_t *buf = malloc(len);
	struct tcpwin w;

	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < sizeof(warms) / sizeof(warms[0]); i++) {
		fill_stream(buf, len, warms[i]);
		assert_int_equal(feed(&w, buf, len, cuts_a, 6), warms[i]);
		assert_int_equal(w.state, TCPWIN_MEASURED);
		assert_int_equal(w.start, warms[i]);
		assert_int_equal(feed(&w, buf, len, cuts_c, 1), warms[i]);
		assert_int_equal(w.start, warms[i]);
		if (warms[i] < 2000) {
			assert_int_equal(feed(&w, buf, 3000, cuts_b, 1), warms[i]);
			assert_int_equal(w.start, warms[i]);
		}
	}
	/* a stream that is all warm-up so far (the sink stopped first) */
	fill_stream(buf, len, len);
	assert_int_equal(feed(&w, buf, len, cuts_a, 6), len);
	assert_int_equal(w.state, TCPWIN_WARMUP);
	free(buf);
}

/* Streams that are not zcgen's with a warm-up: measured from their first byte. */
static void test_tcp_not_warmup(void **state)
{
	uint8_t buf[4096];
	struct tcpwin w;

	(void)state;
	/* byte 128 first, then anything else */
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 37 + 11);
	buf[0] = payload_byte(0, true);
	memset(&w, 0, sizeof(w));
	assert_int_equal(tcpwin_add(&w, buf, sizeof(buf), 0), 0);
	assert_int_equal(w.state, TCPWIN_MEASURED);
	assert_int_equal(tcpwin_add(&w, buf, sizeof(buf), sizeof(buf)), 0);

	/* the warm-up pattern with one wrong byte in the probe: not taken for a warm-up */
	fill_stream(buf, sizeof(buf), 2000);
	buf[9] ^= 0x55;
	memset(&w, 0, sizeof(w));
	assert_int_equal(tcpwin_add(&w, buf, sizeof(buf), 0), 0);
	assert_int_equal(w.start, 0);

	/* an iperf3 cookie */
	memcpy(buf, "abcdefghijklmnopqrstuvwxyz2345672345", 37);
	memset(&w, 0, sizeof(w));
	assert_int_equal(tcpwin_add(&w, buf, 37, 0), 0);

	/* zcgen without a warm-up */
	fill_stream(buf, sizeof(buf), 0);
	memset(&w, 0, sizeof(w));
	assert_int_equal(tcpwin_add(&w, buf, sizeof(buf), 0), 0);
	assert_int_equal(w.state, TCPWIN_MEASURED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seq_mangled),
		cmocka_unit_test(test_latency_percentiles),
		cmocka_unit_test(test_latency_negative),
		cmocka_unit_test(test_gro_split),
		cmocka_unit_test(test_tcp_warmup_end),
		cmocka_unit_test(test_tcp_not_warmup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
