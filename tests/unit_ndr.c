/* unit_ndr.c - the NDR search against simulated devices: found within precision, trials bounded, faults */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "gen/ndr.h"

static uint64_t rng(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

/* uniform in [-1, 1] */
static double urand(uint64_t *s)
{
	return (double)rng(s) / (double)(1ull << 31) * 2 - 1;
}

/*
 * A device that carries @capacity frames/s (varying by +-@noise of it per
 * trial) and drops the rest, behind a sender that offers at most @sender
 * frames/s (and misses a paced rate above 99 % of that). Under overload
 * the receiver gets @overload_share of the capacity: a sink sharing a CPU
 * with an unpaced sender gets less, a deep queue gives more.
 */
struct dut {
	double capacity, noise, sender, overload_share, loss_floor_pct;
	uint64_t seed;
	unsigned trials;
};

static struct ndr_result trial(struct dut *d, bool unpaced, double rate)
{
	double cap = d->capacity * (1 + d->noise * urand(&d->seed));
	struct ndr_result r = { 0 };

	d->trials++;
	r.offered_fps = unpaced ? d->sender : fmin(rate, d->sender);
	r.sender_missed = !unpaced && rate > d->sender * 0.99;
	if (r.offered_fps > cap)
		r.received_fps = unpaced ? fmin(cap * d->overload_share, r.offered_fps * 0.999) : cap;
	else
		r.received_fps = r.offered_fps * (1 - d->loss_floor_pct / 100);
	r.loss_pct = 100 * (r.offered_fps - r.received_fps) / r.offered_fps;
	if (r.loss_pct < 0)
		r.loss_pct = 0;
	return r;
}

static enum ndr_step search(struct dut *d, const struct ndr_cfg *cfg, struct ndr *s)
{
	ndr_init(s, cfg);
	assert_int_equal(s->step, NDR_CEILING);
	d->trials = 0;
	while (s->step == NDR_CEILING || s->step == NDR_TRIAL) {
		struct ndr_result r = trial(d, s->step == NDR_CEILING, s->next);

		if (s->step == NDR_TRIAL) {
			assert_true(s->next > 0);
			assert_true(s->next >= cfg->floor_fps * (1 - 1e-9));
		}
		ndr_feed(s, &r);
		assert_true(d->trials <= 200);
	}
	assert_int_equal(s->trials, d->trials);
	return s->step;
}

/*
 * At most twice geometric bisection over the whole range (floor to
 * ceiling), plus the ceiling trial: a bad guess costs its galloping, never
 * more than that.
 */
static unsigned trial_bound(double ceiling, double floor_fps, double p)
{
	return 1 + 2 * (unsigned)ceil(log2(log(ceiling / floor_fps) / log(1 + p)));
}

static void test_found_within_precision(void **state)
{
	/* capacities from far below the sender to just below it; precisions 0.5 % to 10 % */
	const double caps[] = { 1e4, 1.4e5, 1e6, 3.3e6, 9.5e6 };
	const double precs[] = { 0.005, 0.01, 0.05, 0.1 };
	const double shares[] = { 0.3, 0.8, 1.0, 1.3 };
	uint64_t seed = 42;

	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++)
		for (size_t p = 0; p < sizeof(precs) / sizeof(precs[0]); p++)
			for (size_t sh = 0; sh < sizeof(shares) / sizeof(shares[0]); sh++) {
				struct dut d = { .capacity = caps[c], .noise = precs[p] / 10,
						 .sender = 1e7, .overload_share = shares[sh],
						 .seed = seed++ };
				struct ndr_cfg cfg = { .loss_pct = 0, .precision = precs[p],
						       .floor_fps = 100 };
				struct ndr s;
				double f;

				assert_int_equal(search(&d, &cfg, &s), NDR_DONE);
				f = ndr_found(&s);
				/* passed, so at most the capacity (plus its noise) ... */
				if (f > caps[c] * (1 + d.noise))
					fail_msg("cap %g p %g share %g: found %g", caps[c], precs[p], shares[sh], f);
				/* ... and the failing rate above it is within the precision */
				assert_true(f >= caps[c] * (1 - d.noise) / (1 + precs[p]));
				assert_true(s.hi <= f * (1 + precs[p]) * (1 + 1e-12));
				assert_false(s.sender_limited);
				assert_true(fabs((s.ceiling_fps) - (1e7)) <= (1e-6));
				if (d.trials > trial_bound(1e7, 100, precs[p]))
					fail_msg("capacity %g precision %g share %g: %u trials (bound %u)",
						 caps[c], precs[p], shares[sh], d.trials,
						 trial_bound(1e7, 100, precs[p]));
			}
}

/* a good guess (receiver under overload = capacity) costs only a few trials */
static void test_good_guess_is_cheap(void **state)
{
	struct dut d = { .capacity = 2e6, .sender = 1e7, .overload_share = 1.0, .seed = 7 };
	struct ndr_cfg cfg = { .precision = 0.01, .floor_fps = 100 };
	struct ndr s;

	assert_int_equal(search(&d, &cfg, &s), NDR_DONE);
	/* bisection from [0, 1e7] to 1 % needs about 17; the guess needs the ceiling and ~3 */
	assert_true(d.trials <= 5);
	assert_true(ndr_found(&s) >= 2e6 / 1.01 && ndr_found(&s) <= 2e6);
}

/* the path carries everything the sender offers: its ceiling, sender-limited, one trial */
static void test_sender_limited_ceiling(void **state)
{
	struct dut d = { .capacity = 5e6, .sender = 1e6, .overload_share = 1, .seed = 3 };
	struct ndr_cfg cfg = { .precision = 0.01, .floor_fps = 100 };
	struct ndr s;

	assert_int_equal(search(&d, &cfg, &s), NDR_DONE);
	assert_int_equal(d.trials, 1);
	assert_true(s.sender_limited);
	assert_true(fabs((ndr_found(&s)) - (1e6)) <= (1e-6));
}

/*
 * Capacity just above what the sender can pace: the unpaced ceiling loses
 * (a burst), the paced trials near it miss their rate: sender-limited.
 */
static void test_sender_limited_missed(void **state)
{
	struct dut d = { .capacity = 0.9e6, .sender = 1.005e6, .overload_share = 1, .seed = 5 };
	struct ndr_cfg cfg = { .precision = 0.001, .floor_fps = 100 };
	struct ndr s;

	/* capacity well below the sender: a path limit that is found, not sender-limited */
	assert_int_equal(search(&d, &cfg, &s), NDR_DONE);
	assert_false(s.sender_limited);

	/* capacity above the sender's pacing limit but the unpaced burst loses */
	d = (struct dut){ .capacity = 1.0e6, .sender = 1.0e6 * 1.003, .overload_share = 1, .seed = 5 };
	d.capacity = d.sender * 0.995; /* paced trials above 99 % of the sender miss first */
	cfg.precision = 0.002;
	assert_int_equal(search(&d, &cfg, &s), NDR_DONE);
	/* a trial passes only at a rate the sender offered: at most 99 % of its limit */
	assert_true(ndr_found(&s) <= d.sender * 0.99);
	assert_true(ndr_found(&s) >= d.sender * 0.99 / (1 + cfg.precision));
	/*
	 * The failing rate within 0.2 % above it is below the capacity: it
	 * failed only because the sender missed it, so the path's limit was
	 * not found.
	 */
	assert_true(s.hi > d.sender * 0.99 && s.hi <= d.capacity);
	assert_true(s.hi_sender);
	assert_true(s.sender_limited);
}

/*
 * A busy CPU: one paced trial misses its rate (a late ring, no loss), the
 * same rate offered again passes. The miss is repeated, not counted: the
 * search finds the path's limit and is not sender-limited; a sender that
 * misses every time is still found out after NDR_SENDER_REPEATS repeats.
 */
static void test_sender_miss_repeated(void **state)
{
	struct ndr_cfg cfg = { .precision = 0.01, .floor_fps = 100 };
	struct ndr s;
	struct ndr_result r = { 0 };
	double at;

	(void)state;
	ndr_init(&s, &cfg);
	/* unpaced: 100k offered, 20k received: the path's limit is near 20k */
	r.offered_fps = 100000;
	r.received_fps = 20000;
	r.loss_pct = 80;
	assert_int_equal(ndr_feed(&s, &r), NDR_TRIAL);
	at = s.next;
	/* the trial at @at: zcgen offered 5 % less, nothing lost */
	r = (struct ndr_result){ .offered_fps = at * 0.95, .received_fps = at * 0.95,
				 .loss_pct = 0, .sender_missed = true };
	assert_int_equal(ndr_feed(&s, &r), NDR_TRIAL);
	assert_true(s.next == at);           /* the same rate again */
	assert_int_equal(s.repeated, 1);
	assert_true(s.lo == 0 && s.hi == 100000);  /* nothing concluded from it */
	/* offered as asked this time: it passes */
	r = (struct ndr_result){ .offered_fps = at, .received_fps = at, .loss_pct = 0 };
	ndr_feed(&s, &r);
	assert_true(s.lo == at);
	assert_int_equal(s.repeats, 0);

	/* a sender that misses every time: after the repeats, the miss counts */
	ndr_init(&s, &cfg);
	r = (struct ndr_result){ .offered_fps = 100000, .received_fps = 20000, .loss_pct = 80 };
	ndr_feed(&s, &r);
	at = s.next;
	r = (struct ndr_result){ .offered_fps = at * 0.95, .received_fps = at * 0.95,
				 .loss_pct = 0, .sender_missed = true };
	for (unsigned i = 0; i < NDR_SENDER_REPEATS; i++) {
		assert_int_equal(ndr_feed(&s, &r), NDR_TRIAL);
		assert_true(s.next == at);
	}
	ndr_feed(&s, &r);
	assert_true(s.hi == at);             /* now a failure at @at */
	assert_true(s.hi_sender);
	assert_int_equal(s.repeated, NDR_SENDER_REPEATS);
	assert_int_equal(s.trials, 2 + NDR_SENDER_REPEATS);
}

/* PDR: a device that loses 0.05 % at any rate fails NDR's every trial but passes a 0.1 % PDR */
static void test_pdr_and_no_pass(void **state)
{
	struct dut d = { .capacity = 1e6, .sender = 1e7, .overload_share = 1, .loss_floor_pct = 0.05,
			 .seed = 11 };
	struct ndr_cfg cfg = { .loss_pct = 0.1, .precision = 0.01, .floor_fps = 1000 };
	struct ndr s;

	assert_int_equal(search(&d, &cfg, &s), NDR_DONE);
	assert_true(ndr_found(&s) <= 1e6 && ndr_found(&s) >= 1e6 / 1.01);

	cfg.loss_pct = 0;
	assert_int_equal(search(&d, &cfg, &s), NDR_FAILED);
	assert_int_equal(s.fail, NDR_FAIL_NO_PASS);
	assert_true(fabs((ndr_found(&s)) - (0)) <= (0));
	/* the floor is tried once, never gone below, and the search is short */
	assert_true(d.trials <= 40);
}

static void test_trial_limit_and_bad_input(void **state)
{
	struct dut d = { .capacity = 1e6, .sender = 1e7, .overload_share = 0.3, .seed = 13 };
	struct ndr_cfg cfg = { .precision = 0.0001, .floor_fps = 100, .max_trials = 4 };
	struct ndr s;
	char err[200];

	assert_int_equal(search(&d, &cfg, &s), NDR_FAILED);
	assert_int_equal(s.fail, NDR_FAIL_TRIALS);
	assert_int_equal(d.trials, 4);

	/* an unpaced trial that sent nothing */
	ndr_init(&s, &cfg);
	assert_int_equal(ndr_feed(&s, &(struct ndr_result){ 0 }), NDR_FAILED);
	assert_int_equal(s.fail, NDR_FAIL_CEILING);

	cfg = (struct ndr_cfg){ .precision = 0, .floor_fps = 1 };
	assert_int_equal(ndr_cfg_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "precision"));
	cfg.precision = 0.6;
	assert_int_equal(ndr_cfg_check(&cfg, err, sizeof(err)), -EINVAL);
	cfg.precision = NAN;
	assert_int_equal(ndr_cfg_check(&cfg, err, sizeof(err)), -EINVAL);
	cfg.precision = 0.01;
	cfg.loss_pct = 100;
	assert_int_equal(ndr_cfg_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "loss"));
	cfg.loss_pct = 0.5;
	assert_int_equal(ndr_cfg_check(&cfg, err, sizeof(err)), 0);
	cfg.floor_fps = 0;
	assert_int_equal(ndr_cfg_check(&cfg, err, sizeof(err)), -EINVAL);
}

/* a device whose loss is not monotonic in the rate still ends within the trial limit */
static void test_noisy_device_ends(void **state)
{
	uint64_t seed = 99;

	for (int i = 0; i < 200; i++) {
		struct dut d = { .capacity = 1e6, .noise = 0.2, .sender = 1e7, .overload_share = 0.9,
				 .seed = seed++ };
		struct ndr_cfg cfg = { .precision = 0.005, .floor_fps = 100 };
		struct ndr s;
		enum ndr_step st = search(&d, &cfg, &s);

		assert_true(st == NDR_DONE || (st == NDR_FAILED && s.fail == NDR_FAIL_TRIALS));
		assert_true(d.trials <= NDR_DEFAULT_MAX_TRIALS);
		if (st == NDR_DONE)
			assert_true(ndr_found(&s) <= 1.2e6);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_found_within_precision),
		cmocka_unit_test(test_good_guess_is_cheap),
		cmocka_unit_test(test_sender_limited_ceiling),
		cmocka_unit_test(test_sender_limited_missed),
		cmocka_unit_test(test_sender_miss_repeated),
		cmocka_unit_test(test_pdr_and_no_pass),
		cmocka_unit_test(test_trial_limit_and_bad_input),
		cmocka_unit_test(test_noisy_device_ends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
