/* unit_pacer.c - rate control on a simulated clock: long-run rates, overheads, ramps, steps, bursts, IMIX, misses, streams' turns */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "gen/pacer.h"

#define US 1000ull
#define MS 1000000ull
#define SEC 1000000000ull
/* an arbitrary clock origin, far from 0, as CLOCK_MONOTONIC is after weeks up */
#define T0 (1234567ull * SEC + 89)

static uint64_t rng(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

/*
 * A sender on a simulated clock: it sleeps until pacer_next_ns(), wakes up
 * 0 to @wake_ns late (a timer's slack), and sends everything due, at most
 * @max_per_loop (0: no limit) taking @loop_ns per loop. Sizes come from
 * @mix when given, else @size. Runs until @end (absolute).
 */
struct sender {
	uint64_t size;
	struct imix *mix;
	uint64_t wake_ns, loop_ns;
	unsigned max_per_loop;
	uint64_t seed;
	unsigned max_due;          /* the largest due count seen */
};

static uint64_t run_until(struct pacer *p, struct sender *s, uint64_t now, uint64_t end)
{
	while (now < end) {
		unsigned due = pacer_due(p, now), n = due;
		uint64_t next;

		if (due != PACER_UNLIMITED && due > s->max_due)
			s->max_due = due;
		if (s->max_per_loop && n > s->max_per_loop)
			n = s->max_per_loop;
		for (unsigned i = 0; i < n; i++)
			pacer_sent(p, s->mix ? imix_next(s->mix) : s->size);
		now += s->loop_ns;
		next = pacer_next_ns(p, now);
		if (next == UINT64_MAX)
			return end;
		if (next > now)
			now = next + (s->wake_ns ? rng(&s->seed) % s->wake_ns : 0);
	}
	return now;
}

static void check_rate(const char *what, double got, double want, double tol)
{
	double e = fabs(got - want) / want;

	print_message("%-40s target %.6g, achieved %.6g (%.4f%% off)\n", what, want, got, 100 * e);
	if (e > tol)
		fail_msg("%s: achieved %.6g, target %.6g: %.4f%% off, more than %.2f%%", what, got, want,
			 100 * e, 100 * tol);
}

/* ------------------------------------------------------------- arithmetic */

static void test_wire_bytes(void **state)
{
	struct pacer_wire udp4 = { .layer = PACER_LAYER_L2 }, udp6 = { .layer = PACER_LAYER_L2, .ipv6 = true };
	struct pacer_wire tcp4 = { .layer = PACER_LAYER_L2, .tcp = true, .mss = 1448 };
	struct pacer_wire tcp6 = { .layer = PACER_LAYER_L2, .tcp = true, .ipv6 = true };
	struct pacer_wire pay = { .layer = PACER_LAYER_PAYLOAD, .tcp = true };

	/* 64-byte UDP payload, IPv4: 64 + 8 UDP + 20 IPv4 + 14 Ethernet */
	assert_int_equal(pacer_wire_bytes(&udp4, 64), 106);
	udp4.layer = PACER_LAYER_L1;   /* + 4 FCS + 8 preamble/SFD + 12 IFG */
	assert_int_equal(pacer_wire_bytes(&udp4, 64), 130);
	/* full-size frame: 1472 + 28 = 1500 MTU, 1514 at L2, 1538 on the wire */
	assert_int_equal(pacer_wire_bytes(&udp4, 1472), 1538);
	/* short frames are padded to 60 bytes (64 with the FCS): 16 + 42 = 58 -> 60 */
	assert_int_equal(pacer_wire_bytes(&udp4, 16), 84);
	udp4.layer = PACER_LAYER_L2;
	assert_int_equal(pacer_wire_bytes(&udp4, 16), 60);
	assert_int_equal(pacer_wire_bytes(&udp4, 18), 60);
	assert_int_equal(pacer_wire_bytes(&udp4, 19), 61);
	/* IPv6: 40-byte header */
	assert_int_equal(pacer_wire_bytes(&udp6, 64), 126);
	udp6.layer = PACER_LAYER_L1;
	assert_int_equal(pacer_wire_bytes(&udp6, 64), 150);
	assert_int_equal(pacer_frames(&udp6, 9000), 1);

	/*
	 * TCP, 64 KiB send, MSS 1448: ceil(65536 / 1448) = 46 segments, 45 full
	 * (1448 + 32 TCP with timestamps + 20 + 14 = 1514) and one of 376 (442):
	 * 45 * 1514 + 442 = 68572 at L2, + 46 * 24 = 69676 at L1.
	 */
	assert_int_equal(pacer_frames(&tcp4, 65536), 46);
	assert_int_equal(pacer_wire_bytes(&tcp4, 65536), 68572);
	tcp4.layer = PACER_LAYER_L1;
	assert_int_equal(pacer_wire_bytes(&tcp4, 65536), 69676);
	assert_int_equal(pacer_frames(&tcp4, 1448), 1);
	assert_int_equal(pacer_frames(&tcp4, 1449), 2);
	assert_int_equal(pacer_wire_bytes(&tcp4, 2 * 1448), 2 * 1538);
	/* default MSS from a 1500 MTU: IPv6 1500 - 40 - 32 = 1428, one full frame of 1514 */
	assert_int_equal(pacer_frames(&tcp6, 1428), 1);
	assert_int_equal(pacer_frames(&tcp6, 1429), 2);
	assert_int_equal(pacer_wire_bytes(&tcp6, 1428), 1514);
	tcp6.ipv6 = false;             /* IPv4: 1448 */
	assert_int_equal(pacer_frames(&tcp6, 1448), 1);
	assert_int_equal(pacer_wire_bytes(&tcp6, 1448), 1514);
	/* payload: the bytes themselves */
	assert_int_equal(pacer_wire_bytes(&pay, 65536), 65536);
}

static void test_cost_units(void **state)
{
	struct pacer p;
	struct pacer_cfg c = { .unit = PACER_BPS, .rate = 10e9, .size = 64,
			       .wire = { .layer = PACER_LAYER_L1 } };

	assert_int_equal(pacer_init(&p, &c, T0), 0);
	assert_true(pacer_cost(&p, 64) == 1040);   /* 130 bytes on the wire */
	c.unit = PACER_PPS;
	c.rate = 1e6;
	c.wire = (struct pacer_wire){ .layer = PACER_LAYER_PAYLOAD, .tcp = true, .mss = 1000 };
	assert_int_equal(pacer_init(&p, &c, T0), 0);
	assert_true(pacer_cost(&p, 64) == 1);
	assert_true(pacer_cost(&p, 2500) == 3);    /* frames */
}

static void test_split(void **state)
{
	/* 10 Gbit/s over 4 queues of 2 streams */
	assert_true(pacer_split(10e9, PACER_PER_TOTAL, 4, 2, 2) == 2.5e9);
	assert_true(pacer_split(10e9, PACER_PER_TOTAL, 4, 2, 1) == 1.25e9);
	assert_true(pacer_split(10e9, PACER_PER_QUEUE, 4, 2, 2) == 10e9);
	assert_true(pacer_split(10e9, PACER_PER_QUEUE, 4, 2, 1) == 5e9);
	assert_true(pacer_split(10e9, PACER_PER_STREAM, 4, 2, 2) == 20e9);
	assert_true(pacer_split(10e9, PACER_PER_STREAM, 4, 2, 1) == 10e9);
}

/* ---------------------------------------------------------- long-run rate */

static void test_long_run_rates(void **state)
{
	static const struct {
		const char *what;
		enum pacer_unit unit;
		double rate;
		enum pacer_layer layer;
		bool tcp;
		uint64_t size, wake_ns, dur;
	} t[] = {
		{ "1 Gbit/s payload, UDP 1400 B", PACER_BPS, 1e9, PACER_LAYER_PAYLOAD, false, 1400, 30 * US, SEC },
		{ "40 Gbit/s L1, TCP 64 KiB", PACER_BPS, 40e9, PACER_LAYER_L1, true, 65536, 50 * US, SEC },
		{ "10 Gbit/s L1, UDP 64 B", PACER_BPS, 10e9, PACER_LAYER_L1, false, 64, 20 * US, SEC / 5 },
		{ "3 Mpps, UDP 64 B", PACER_PPS, 3e6, PACER_LAYER_PAYLOAD, false, 64, 20 * US, SEC / 2 },
		{ "100 kbit/s L2, UDP 100 B", PACER_BPS, 100e3, PACER_LAYER_L2, false, 100, 0, 60 * SEC },
		{ "7 pps, UDP 1000 B", PACER_PPS, 7, PACER_LAYER_PAYLOAD, false, 1000, 0, 1000 * SEC },
		{ "2.5 Gbit/s L2, TCP 9000 B", PACER_BPS, 2.5e9, PACER_LAYER_L2, true, 9000, 80 * US, SEC },
	};

	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct pacer p;
		struct pacer_cfg c = { .unit = t[i].unit, .rate = t[i].rate, .size = t[i].size,
				       .wire = { .layer = t[i].layer, .tcp = t[i].tcp } };
		struct sender s = { .size = t[i].size, .wake_ns = t[i].wake_ns, .seed = i + 1 };
		uint64_t end = T0 + t[i].dur;

		assert_int_equal(pacer_init(&p, &c, T0), 0);
		run_until(&p, &s, T0, end);
		check_rate(t[i].what, pacer_achieved(&p, end), t[i].rate, 0.001);
		assert_false(p.missed);
		assert_true(p.dropped == 0);
	}
}

/* The rate in packets per second at L1 is what the frame arithmetic says. */
static void test_line_rate_pps(void **state)
{
	struct pacer p;
	struct pacer_cfg c = { .unit = PACER_BPS, .rate = 10e9, .size = 64,
			       .wire = { .layer = PACER_LAYER_L1 } };
	struct sender s = { .size = 64, .wake_ns = 10 * US, .seed = 5 };
	uint64_t end = T0 + SEC / 10;

	assert_int_equal(pacer_init(&p, &c, T0), 0);
	run_until(&p, &s, T0, end);
	/* 10e9 / (130 * 8) = 9615384.6 pps */
	check_rate("10 Gbit/s L1 64 B in pps", (double)p.sends * 10, 10e9 / 1040, 0.001);
}

/* ------------------------------------------------------------------ ramps */

static void test_ramp(void **state)
{
	struct pacer p;
	/* 0 to 1 Gbit/s over 1 s, 1250-byte payload sends (10000 bit) */
	struct pacer_cfg c = { .unit = PACER_BPS, .rate = 1e9, .ramp_from = 0, .ramp_ns = SEC,
			       .size = 1250 };
	struct sender s = { .size = 1250, .wake_ns = 20 * US, .seed = 9 };
	uint64_t now;

	assert_int_equal(pacer_init(&p, &c, T0), 0);
	assert_true(pacer_rate_at(&p, 0) == 0);
	assert_true(fabs(pacer_rate_at(&p, SEC / 4) - 0.25e9) < 1);
	assert_true(fabs(pacer_rate_at(&p, SEC / 2) - 0.5e9) < 1);
	assert_true(fabs(pacer_rate_at(&p, SEC) - 1e9) < 1);
	assert_true(fabs(pacer_rate_at(&p, 5 * SEC) - 1e9) < 1);
	/* sends so far follow the integral: t^2 / 2 * 1e9 bit/s^2 */
	now = run_until(&p, &s, T0, T0 + SEC / 2);
	check_rate("ramp 0->1G, sent by 0.5 s", p.cost_sent, 0.125e9, 0.001);
	now = run_until(&p, &s, now, T0 + SEC);
	check_rate("ramp 0->1G, sent by 1 s", p.cost_sent, 0.5e9, 0.001);
	run_until(&p, &s, now, T0 + 3 * SEC);
	check_rate("ramp 0->1G, sent by 3 s", p.cost_sent, 2.5e9, 0.001);
	assert_false(p.missed);

	/* downwards: 2 Gbit/s to 1 Gbit/s over 2 s, then held */
	c.ramp_from = 2e9;
	c.ramp_ns = 2 * SEC;
	assert_int_equal(pacer_init(&p, &c, T0), 0);
	assert_true(fabs(pacer_rate_at(&p, 0) - 2e9) < 1);
	assert_true(fabs(pacer_rate_at(&p, SEC) - 1.5e9) < 1);
	assert_true(fabs(pacer_rate_at(&p, 2 * SEC) - 1e9) < 1);
	run_until(&p, &s, T0, T0 + 4 * SEC);
	check_rate("ramp 2G->1G, sent by 4 s", p.cost_sent, 3e9 + 2e9, 0.001);
}

static void test_steps(void **state)
{
	static const struct pacer_step st[] = {
		{ 1e6, SEC }, { 0, SEC }, { 3e6, SEC },
	};
	struct pacer p;
	/* 125-byte payload: 1000 bit a send */
	struct pacer_cfg c = { .unit = PACER_BPS, .steps = st, .n_steps = 3, .size = 125 };
	struct sender s = { .size = 125 };
	uint64_t now, sends;

	assert_int_equal(pacer_init(&p, &c, T0), 0);
	assert_true(pacer_rate_at(&p, 0) == 1e6);
	assert_true(pacer_rate_at(&p, SEC - 1) == 1e6);
	assert_true(pacer_rate_at(&p, SEC) == 0);
	assert_true(pacer_rate_at(&p, 2 * SEC + 1) == 3e6);
	assert_true(pacer_rate_at(&p, 100 * SEC) == 3e6);    /* the last step holds */

	now = run_until(&p, &s, T0, T0 + SEC - 1);
	assert_in_range(p.sends, 999, 1000);
	/* the pause: nothing is due, the next send is when it ends */
	now = run_until(&p, &s, now, T0 + SEC + 1);
	sends = p.sends;
	assert_int_equal(pacer_due(&p, T0 + SEC + SEC / 2), 0);
	assert_int_equal(pacer_next_ns(&p, T0 + SEC + SEC / 2), T0 + 2 * SEC);
	now = run_until(&p, &s, now, T0 + 2 * SEC - 1);
	assert_int_equal(p.sends, sends);
	now = run_until(&p, &s, now, T0 + 3 * SEC - 1);
	assert_in_range(p.sends - sends, 2999, 3001);
	run_until(&p, &s, now, T0 + 13 * SEC);
	check_rate("steps 1M/0/3M then held", p.cost_sent, 1e6 + 3e6 * 11, 0.001);
	assert_false(p.missed);
	assert_true(p.dropped == 0);

	/* a last step of 0 stops sending */
	{
		static const struct pacer_step stop[] = { { 1e6, SEC }, { 0, SEC } };

		c.steps = stop;
		c.n_steps = 2;
		assert_int_equal(pacer_init(&p, &c, T0), 0);
		run_until(&p, &s, T0, T0 + 10 * SEC);
		assert_in_range(p.sends, 1000, 1001);
		assert_int_equal(pacer_next_ns(&p, T0 + 10 * SEC), UINT64_MAX);
		assert_int_equal(pacer_due(&p, T0 + 10 * SEC), 0);
	}
}

/* ------------------------------------------------------------------ burst */

static void test_burst(void **state)
{
	struct pacer p;
	/* 1 Mpps: a send every 1 us; groups of 10, every 10 us */
	struct pacer_cfg c = { .unit = PACER_PPS, .rate = 1e6, .size = 64, .burst = 10 };
	struct sender s = { .size = 64, .wake_ns = 3 * US, .seed = 4 };

	assert_int_equal(pacer_init(&p, &c, T0), 0);
	assert_int_equal(pacer_due(&p, T0), 10);
	for (unsigned i = 0; i < 10; i++)
		pacer_sent(&p, 64);
	assert_int_equal(pacer_due(&p, T0), 0);
	assert_int_equal(pacer_next_ns(&p, T0), T0 + 10 * US);
	assert_int_equal(pacer_due(&p, T0 + 9999), 0);
	assert_int_equal(pacer_due(&p, T0 + 10 * US), 10);
	/* a group cut short (ring full) is finished at once, back to back */
	for (unsigned i = 0; i < 4; i++)
		pacer_sent(&p, 64);
	assert_int_equal(pacer_due(&p, T0 + 10 * US), 6);
	assert_int_equal(pacer_next_ns(&p, T0 + 10 * US), T0 + 10 * US);
	for (unsigned i = 0; i < 6; i++)
		pacer_sent(&p, 64);
	assert_int_equal(pacer_due(&p, T0 + 10 * US), 0);
	assert_int_equal(pacer_next_ns(&p, T0 + 10 * US), T0 + 20 * US);
	/* a late wake-up still gets whole groups */
	assert_int_equal(pacer_due(&p, T0 + 25 * US) % 10, 0);

	/* long run: the rate holds, and every due count is a whole group */
	assert_int_equal(pacer_init(&p, &c, T0), 0);
	run_until(&p, &s, T0, T0 + SEC / 10);
	check_rate("burst 10 at 1 Mpps", pacer_achieved(&p, T0 + SEC / 10), 1e6, 0.001);
	assert_int_equal(s.max_due % 10, 0);
}

/* ------------------------------------------------------------------- IMIX */

static void test_imix(void **state)
{
	static const struct imix_entry e[] = { { 64, 7 }, { 576, 4 }, { 1500, 1 } };
	struct imix m, m2;
	unsigned count[3] = { 0 }, run = 0, maxrun = 0;
	uint32_t prev = 0, seq[12];

	assert_int_equal(imix_init(&m, e, 3), 0);
	assert_int_equal(m.total, 12);
	assert_true(fabs(imix_mean(&m) - 4252.0 / 12) < 1e-9);
	/* every period of 12 has exactly 7, 4 and 1 */
	for (unsigned period = 0; period < 100; period++) {
		unsigned c[3] = { 0 };

		for (unsigned i = 0; i < 12; i++) {
			uint32_t sz = imix_next(&m);

			if (period == 0)
				seq[i] = sz;
			for (unsigned k = 0; k < 3; k++)
				c[k] += sz == e[k].size;
			run = sz == prev ? run + 1 : 1;
			if (run > maxrun)
				maxrun = run;
			prev = sz;
		}
		assert_int_equal(c[0], 7);
		assert_int_equal(c[1], 4);
		assert_int_equal(c[2], 1);
		for (unsigned k = 0; k < 3; k++)
			count[k] += c[k];
	}
	assert_int_equal(count[0], 700);
	/* smooth: the 64-byte sends are spread out, not 7 in a row */
	assert_true(maxrun <= 2);
	/* deterministic: the same sequence from a fresh start */
	assert_int_equal(imix_init(&m2, e, 3), 0);
	for (unsigned i = 0; i < 12; i++)
		assert_int_equal(imix_next(&m2), seq[i]);

	/* bad mixes */
	{
		struct imix_entry bad[IMIX_MAX + 1];

		for (unsigned i = 0; i <= IMIX_MAX; i++)
			bad[i] = (struct imix_entry){ 64, 1 };
		assert_int_equal(imix_init(&m2, bad, IMIX_MAX + 1), -EINVAL);
		assert_int_equal(imix_init(&m2, bad, 0), -EINVAL);
		bad[0].weight = 0;
		assert_int_equal(imix_init(&m2, bad, 2), -EINVAL);
		bad[0] = (struct imix_entry){ 0, 1 };
		assert_int_equal(imix_init(&m2, bad, 2), -EINVAL);
		bad[0] = (struct imix_entry){ 64, IMIX_MAX_WEIGHT + 1 };
		assert_int_equal(imix_init(&m2, bad, 2), -EINVAL);
	}
}

/* A mix under a bit rate at L1: the long-run rate is exact, the mean cost is the mix's. */
static void test_imix_paced(void **state)
{
	static const struct imix_entry e[] = { { 64, 7 }, { 576, 4 }, { 1500, 1 } };
	struct imix m;
	struct pacer p;
	struct pacer_cfg c = { .unit = PACER_BPS, .rate = 1e9, .mix = &m,
			       .wire = { .layer = PACER_LAYER_L1 } };
	struct sender s = { .mix = &m, .wake_ns = 20 * US, .seed = 3 };
	/* L1 bytes: 64 -> 130, 576 -> 642, 1500 -> 1566; mean (7*130 + 4*642 + 1566) / 12 */
	double mean_bits = 8.0 * (7 * 130 + 4 * 642 + 1566) / 12;

	assert_int_equal(imix_init(&m, e, 3), 0);
	assert_int_equal(pacer_init(&p, &c, T0), 0);
	assert_true(fabs(p.mean_cost - mean_bits) < 1e-9);
	run_until(&p, &s, T0, T0 + SEC / 2);
	check_rate("IMIX at 1 Gbit/s L1", pacer_achieved(&p, T0 + SEC / 2), 1e9, 0.001);
	check_rate("IMIX at 1 Gbit/s L1, pps", (double)p.sends * 2, 1e9 / mean_bits, 0.001);
}

/* ---------------------------------------------------------------- misses */

static void test_missed_slow_sender(void **state)
{
	struct pacer p;
	/* 1 Mpps asked; the sender manages 50 sends per 100 us loop: 0.5 Mpps */
	struct pacer_cfg c = { .unit = PACER_PPS, .rate = 1e6, .size = 64 };
	struct sender s = { .size = 64, .loop_ns = 100 * US, .max_per_loop = 50 };
	uint64_t end = T0 + SEC / 10;

	assert_int_equal(pacer_init(&p, &c, T0), 0);
	run_until(&p, &s, T0, T0 + 900 * US);
	assert_false(p.missed);                    /* behind, but not for a tick yet */
	run_until(&p, &s, T0 + 900 * US, end);
	assert_true(p.missed);
	assert_int_equal(p.missed_events, 1);
	assert_true(p.dropped > 0);
	/* the achieved rate is what was sent, not the target */
	check_rate("slow sender achieves half", pacer_achieved(&p, end), 0.5e6, 0.01);
	/* and the backlog stayed bounded: at most the bucket (100 us = 100 sends) + 1 */
	assert_true(s.max_due <= 101);
}

static void test_stall_bounded(void **state)
{
	struct pacer p;
	struct pacer_cfg c = { .unit = PACER_PPS, .rate = 1e6, .size = 64 };
	struct sender s = { .size = 64, .wake_ns = 5 * US, .seed = 2 };
	uint64_t now;
	unsigned due;

	assert_int_equal(pacer_init(&p, &c, T0), 0);
	now = run_until(&p, &s, T0, T0 + 10 * MS);
	/* a 5 ms stall: on waking, only the bucket's worth is due, not 5000 */
	due = pacer_due(&p, now + 5 * MS);
	assert_in_range(due, 100, 101);
	assert_true(fabs(p.dropped - 4900) < 10);
	for (unsigned i = 0; i < due; i++)
		pacer_sent(&p, 64);
	run_until(&p, &s, now + 5 * MS, T0 + SEC / 10);
	/* one stall, then keeping up: not a miss, and the rate is short by what was dropped */
	assert_false(p.missed);
	check_rate("after one 5 ms stall", (double)p.sends + p.dropped, 1e5, 0.001);

	/* a larger bucket lets more catch up */
	c.bucket_ns = MS;
	assert_int_equal(pacer_init(&p, &c, T0), 0);
	assert_in_range(pacer_due(&p, T0 + 50 * MS), 1000, 1001);
}

/* ----------------------------------------------------------- odds and ends */

static void test_unlimited_and_invalid(void **state)
{
	static const struct pacer_step nostep[] = { { 1e6, 0 } };
	static const struct pacer_step negstep[] = { { -1, SEC } };
	struct pacer p;
	struct pacer_cfg c = { .unit = PACER_BPS, .rate = 0, .size = 1400 };

	assert_int_equal(pacer_init(&p, &c, T0), 0);
	assert_true(p.unlimited);
	assert_int_equal(pacer_due(&p, T0 + 5), PACER_UNLIMITED);
	assert_int_equal(pacer_next_ns(&p, T0 + 5), T0 + 5);
	pacer_sent(&p, 1400);
	assert_true(pacer_achieved(&p, T0 + SEC) == 1400 * 8);

	c.rate = -1;
	assert_int_equal(pacer_init(&p, &c, T0), -EINVAL);
	c.rate = NAN;
	assert_int_equal(pacer_init(&p, &c, T0), -EINVAL);
	c.rate = INFINITY;
	assert_int_equal(pacer_init(&p, &c, T0), -EINVAL);
	c.rate = 1e6;
	c.size = 0;
	assert_int_equal(pacer_init(&p, &c, T0), -EINVAL);
	c.size = 100;
	c.steps = nostep;
	c.n_steps = 1;
	assert_int_equal(pacer_init(&p, &c, T0), -EINVAL);
	c.steps = negstep;
	assert_int_equal(pacer_init(&p, &c, T0), -EINVAL);
	c.n_steps = PACER_MAX_STEPS + 1;
	assert_int_equal(pacer_init(&p, &c, T0), -EINVAL);
	c.n_steps = 0;
	c.ramp_ns = SEC;
	c.ramp_from = -5;
	assert_int_equal(pacer_init(&p, &c, T0), -EINVAL);
	/* a time before the start: nothing due yet */
	c.ramp_ns = 0;
	assert_int_equal(pacer_init(&p, &c, T0), 0);
	assert_int_equal(pacer_due(&p, T0 - 1), 0);
	assert_int_equal(pacer_due(&p, T0), 1);
	assert_int_equal(pacer_next_ns(&p, T0 - 1000), T0);
}

/* ------------------------------------------------- streams sharing a pacer */

/*
 * A ring's streams on a simulated clock, as the engine drives them: each
 * send of stream i counts in sent[i] and is charged to the ring's pacer
 * (@pc, when given: @gso datagrams a send); a stream with blocked[i] set
 * cannot take a send (at its depth); @room sends fit in the ring per batch
 * (0: no limit), then it is full.
 */
#define NS_MAX 8
struct ring_sim {
	struct pacer *pc;
	uint64_t size;
	unsigned gso;
	unsigned room, used;
	bool blocked[NS_MAX];
	unsigned sent[NS_MAX];
	unsigned order[64], norder;   /* the first sends, by stream */
};

static int sim_send(void *ctx, unsigned si)
{
	struct ring_sim *r = ctx;
	unsigned n = r->gso ? r->gso : 1;

	assert_true(si < NS_MAX);
	if (r->blocked[si])
		return 0;
	if (r->room && r->used == r->room)
		return -1;
	r->used++;
	r->sent[si] += n;
	if (r->norder < 64)
		r->order[r->norder++] = si;
	for (unsigned d = 0; r->pc && d < n; d++)
		pacer_sent(r->pc, r->size);
	return (int)n;
}

static unsigned sim_batch(struct pacer_turn *t, struct ring_sim *r, uint64_t now)
{
	unsigned budget = pacer_due(r->pc, now);

	r->used = 0;
	return pacer_turn_fill(t, &budget, 1, sim_send, r);
}

/*
 * The t_dest_ports failure: 2 queues x 2 streams, --rate 40M, 1200 B UDP.
 * Each ring's pacer (20 Mbit/s) allows one datagram every 480 us; the
 * ring sends it, sleeps, wakes up for the completion (nothing due: an
 * empty batch), sleeps until the next one is due. Both streams must get
 * half, alternating. The turn that moved once per batch gave stream 0
 * every datagram and stream 1 none.
 */
static void test_turn_paced_fair(void **state)
{
	struct pacer_cfg c = { .unit = PACER_BPS, .rate = 20e6, .size = 1200 };
	struct pacer p;
	struct ring_sim r = { .pc = &p, .size = 1200 };
	struct pacer_turn t;
	uint64_t now = T0, seed = 7;
	unsigned total = 0, empty = 0;

	assert_int_equal(pacer_init(&p, &c, T0), 0);
	pacer_turn_init(&t, 2);
	while (now < T0 + SEC) {
		unsigned n = sim_batch(&t, &r, now);

		total += n;
		/* the completion arrives a few us later: a batch with nothing due */
		now += 5 * US + rng(&seed) % (20 * US);
		if (!sim_batch(&t, &r, now))
			empty++;
		now = pacer_next_ns(&p, now) + rng(&seed) % (50 * US);
	}
	print_message("2 streams, 1 pacer: %u and %u datagrams, %u empty batches\n", r.sent[0],
		      r.sent[1], empty);
	assert_true(empty > 1000);
	assert_true(total > 2000);
	assert_true(r.sent[0] + 1 >= r.sent[1] && r.sent[1] + 1 >= r.sent[0]);
	for (unsigned i = 1; i < r.norder; i++)
		assert_int_not_equal(r.order[i], r.order[i - 1]);
}

/* Late wake-ups (several due at once), 3 streams, any pattern of empty batches: equal shares. */
static void test_turn_paced_late(void **state)
{
	/* the engine's bucket (5 ms): no credit is forfeited at these gaps */
	struct pacer_cfg c = { .unit = PACER_PPS, .rate = 100000, .size = 64, .bucket_ns = 5 * MS };
	struct pacer p;
	struct ring_sim r = { .pc = &p, .size = 64 };
	struct pacer_turn t;
	uint64_t now = T0, seed = 11;
	unsigned total = 0, lo = UINT32_MAX, hi = 0;

	assert_int_equal(pacer_init(&p, &c, T0), 0);
	pacer_turn_init(&t, 3);
	while (now < T0 + SEC) {
		total += sim_batch(&t, &r, now);
		for (unsigned k = rng(&seed) % 3; k; k--)
			sim_batch(&t, &r, now + 1);
		now += 1 + rng(&seed) % (200 * US);
	}
	for (unsigned i = 0; i < 3; i++) {
		lo = r.sent[i] < lo ? r.sent[i] : lo;
		hi = r.sent[i] > hi ? r.sent[i] : hi;
	}
	print_message("3 streams, late wake-ups: %u %u %u of %u\n", r.sent[0], r.sent[1], r.sent[2],
		      total);
	assert_true(total >= 99990 && total <= 100010);
	assert_true(hi - lo <= 1);
}

/*
 * A stream that cannot take a send is passed over, not dropped from the
 * turn; a full ring ends the batch and the stream it stopped at is first
 * in the next; per-stream budgets; GSO sends lower the budget by their
 * datagrams; an unlimited budget is not lowered.
 */
static void test_turn_edges(void **state)
{
	struct ring_sim r = { 0 };
	struct pacer_turn t;
	unsigned b[NS_MAX];

	/* budget 4 over 3 streams, stream 1 at its depth: 0 2 0 2 */
	pacer_turn_init(&t, 3);
	r.blocked[1] = true;
	b[0] = 4;
	assert_int_equal(pacer_turn_fill(&t, b, 1, sim_send, &r), 4);
	assert_int_equal(r.norder, 4);
	assert_int_equal(r.order[0], 0);
	assert_int_equal(r.order[1], 2);
	assert_int_equal(r.order[2], 0);
	assert_int_equal(r.order[3], 2);
	assert_int_equal(b[0], 0);
	assert_int_equal(t.next, 0);
	/* stream 1 free again: its turn comes after stream 0's */
	r.blocked[1] = false;
	r.norder = 0;
	b[0] = 2;
	assert_int_equal(pacer_turn_fill(&t, b, 1, sim_send, &r), 2);
	assert_int_equal(r.order[0], 0);
	assert_int_equal(r.order[1], 1);
	assert_int_equal(t.next, 2);

	/* a budget of 0: nothing sent, the turn stays */
	b[0] = 0;
	assert_int_equal(pacer_turn_fill(&t, b, 1, sim_send, &r), 0);
	assert_int_equal(t.next, 2);

	/* the ring full after 2 sends: the batch ends; the next one starts where it stopped */
	memset(&r, 0, sizeof(r));
	pacer_turn_init(&t, 4);
	r.room = 2;
	b[0] = PACER_UNLIMITED;
	assert_int_equal(pacer_turn_fill(&t, b, 1, sim_send, &r), 2);
	assert_int_equal(b[0], PACER_UNLIMITED);
	r.used = 0;
	assert_int_equal(pacer_turn_fill(&t, b, 1, sim_send, &r), 2);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(r.order[i], i);

	/* a budget per stream: each stream its own */
	memset(&r, 0, sizeof(r));
	pacer_turn_init(&t, 3);
	b[0] = 2;
	b[1] = 0;
	b[2] = 3;
	assert_int_equal(pacer_turn_fill(&t, b, 3, sim_send, &r), 5);
	assert_int_equal(r.sent[0], 2);
	assert_int_equal(r.sent[1], 0);
	assert_int_equal(r.sent[2], 3);

	/* GSO: a send of 4 datagrams with 6 due leaves 2, then one more send runs 2 ahead */
	memset(&r, 0, sizeof(r));
	pacer_turn_init(&t, 2);
	r.gso = 4;
	b[0] = 6;
	assert_int_equal(pacer_turn_fill(&t, b, 1, sim_send, &r), 8);
	assert_int_equal(r.sent[0], 4);
	assert_int_equal(r.sent[1], 4);
	assert_int_equal(b[0], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_bytes),
		cmocka_unit_test(test_cost_units),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_long_run_rates),
		cmocka_unit_test(test_line_rate_pps),
		cmocka_unit_test(test_ramp),
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_burst),
		cmocka_unit_test(test_imix),
		cmocka_unit_test(test_imix_paced),
		cmocka_unit_test(test_missed_slow_sender),
		cmocka_unit_test(test_stall_bounded),
		cmocka_unit_test(test_unlimited_and_invalid),
		cmocka_unit_test(test_turn_paced_fair),
		cmocka_unit_test(test_turn_paced_late),
		cmocka_unit_test(test_turn_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
