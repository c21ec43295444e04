/* ndr.c - RFC 2544 throughput / NDR / PDR search: which rate to try next, and when it is found */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "gen/ndr.h"

/*
 * Bounds on the precision: below 0.01 % the trials' own noise (a pacer's
 * tick, a datagram more or less in a short trial) is larger than the step;
 * above 50 % it is no longer a search.
 */
#define NDR_PRECISION_MIN 0.0001
#define NDR_PRECISION_MAX 0.5

int ndr_cfg_check(const struct ndr_cfg *cfg, char *err, size_t errlen)
{
	if (!(cfg->precision >= NDR_PRECISION_MIN && cfg->precision <= NDR_PRECISION_MAX)) {
		snprintf(err, errlen, "precision %g %% is out of range: %g %% to %g %% of the rate found",
			 cfg->precision * 100, NDR_PRECISION_MIN * 100, NDR_PRECISION_MAX * 100);
		return -EINVAL;
	}
	if (!(cfg->loss_pct >= 0 && cfg->loss_pct < 100)) {
		snprintf(err, errlen, "loss %g %% is out of range: 0 (NDR) up to, not including, 100 %%",
			 cfg->loss_pct);
		return -EINVAL;
	}
	if (!(cfg->floor_fps > 0) || !isfinite(cfg->floor_fps)) {
		snprintf(err, errlen, "the lowest rate to try must be above 0 frames/s");
		return -EINVAL;
	}
	return 0;
}

void ndr_init(struct ndr *s, const struct ndr_cfg *cfg)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	if (!s->cfg.max_trials)
		s->cfg.max_trials = NDR_DEFAULT_MAX_TRIALS;
	s->step = NDR_CEILING;
}

bool ndr_passed(const struct ndr *s, const struct ndr_result *r)
{
	return r->loss_pct <= s->cfg.loss_pct && !r->sender_missed && r->offered_fps > 0;
}

double ndr_found(const struct ndr *s)
{
	return s->lo;
}

const char *ndr_fail_name(enum ndr_fail f)
{
	switch (f) {
	case NDR_FAIL_NONE: return "none";
	case NDR_FAIL_NO_PASS: return "no rate passed";
	case NDR_FAIL_TRIALS: return "trial limit reached";
	case NDR_FAIL_CEILING: return "the unpaced trial sent nothing";
	}
	return "?";
}

/* The geometric middle of the bracket (the arithmetic one while nothing passed). */
static double bracket_mid(const struct ndr *s)
{
	return s->lo > 0 ? sqrt(s->lo * s->hi) : s->hi / 2;
}

/* Choose s->next, or end the search. */
static enum ndr_step propose(struct ndr *s)
{
	double p = s->cfg.precision, mid, next;

	if (s->lo > 0 && s->hi <= s->lo * (1 + p)) {
		s->step = NDR_DONE;
		s->sender_limited = s->hi_sender;
		return s->step;
	}
	if (s->lo <= 0 && s->hi <= s->cfg.floor_fps * (1 + 1e-9)) {
		s->step = NDR_FAILED;
		s->fail = NDR_FAIL_NO_PASS;
		return s->step;
	}
	if (s->trials >= s->cfg.max_trials) {
		s->step = NDR_FAILED;
		s->fail = NDR_FAIL_TRIALS;
		return s->step;
	}
	mid = bracket_mid(s);
	next = mid;
	/*
	 * Gallop from the guess while every paced trial went the same way:
	 * steps of p, 2p, 4p, ... of the rate, never past the middle, so that
	 * a good guess costs a few trials and a bad one no more than bisection.
	 */
	if (!s->bracketed && s->guess > 0 && s->gallop > 0) {
		double c = s->lo * (1 + p * ldexp(1, s->gallop - 1));

		if (c < mid)
			next = c;
	} else if (!s->bracketed && s->guess > 0 && s->gallop < 0) {
		double c = s->hi / (1 + p * ldexp(1, -s->gallop - 1));

		if (c > mid)
			next = c;
	}
	if (s->lo <= 0 && next < s->cfg.floor_fps)
		next = s->cfg.floor_fps;
	s->next = next;
	s->step = NDR_TRIAL;
	return s->step;
}

enum ndr_step ndr_feed(struct ndr *s, const struct ndr_result *r)
{
	bool pass = ndr_passed(s, r);

	if (s->step != NDR_CEILING && s->step != NDR_TRIAL)
		return s->step;
	s->trials++;
	if (s->step == NDR_CEILING) {
		/* unpaced: there is no asked rate to miss */
		pass = r->loss_pct <= s->cfg.loss_pct && r->offered_fps > 0;
		if (!(r->offered_fps > 0)) {
			s->step = NDR_FAILED;
			s->fail = NDR_FAIL_CEILING;
			return s->step;
		}
		s->ceiling_fps = r->offered_fps;
		if (pass) {
			/* the path carried all zcgen could offer: its own limit was found */
			s->lo = s->hi = r->offered_fps;
			s->sender_limited = true;
			s->step = NDR_DONE;
			return s->step;
		}
		s->hi = r->offered_fps;
		/*
		 * Under overload a path delivers about what it can carry: a little
		 * below that is the first guess.
		 */
		s->guess = r->received_fps * (1 - s->cfg.precision);
		if (s->guess > s->cfg.floor_fps && s->guess < s->hi) {
			s->next = s->guess;
			s->step = NDR_TRIAL;
			if (s->trials >= s->cfg.max_trials) {
				s->step = NDR_FAILED;
				s->fail = NDR_FAIL_TRIALS;
			}
			return s->step;
		}
		s->guess = 0;
		return propose(s);
	}
	if (!pass && r->sender_missed && r->loss_pct <= s->cfg.loss_pct &&
	    s->repeats < NDR_SENDER_REPEATS && s->trials < s->cfg.max_trials) {
		s->repeats++;
		s->repeated++;
		return s->step;          /* NDR_TRIAL again, at s->next */
	}
	s->repeats = 0;
	if (pass) {
		s->lo = s->next;
		if (s->hi <= s->lo) {
			/* a rate passed at or above one that failed: noise; reopen upwards */
			s->hi = s->ceiling_fps > s->lo ? s->ceiling_fps : s->lo;
			s->hi_sender = false;
			s->bracketed = false;
		}
		if (s->gallop < 0)
			s->bracketed = true;
		s->gallop = s->gallop > 0 ? s->gallop + 1 : 1;
	} else {
		s->hi = s->next;
		s->hi_sender = r->sender_missed && r->loss_pct <= s->cfg.loss_pct;
		if (s->lo >= s->hi) {
			/* a rate failed at or below one that passed: noise; reopen downwards */
			s->lo = 0;
			s->bracketed = false;
		}
		if (s->gallop > 0)
			s->bracketed = true;
		s->gallop = s->gallop < 0 ? s->gallop - 1 : -1;
	}
	return propose(s);
}
