/* sampler.c - the interval sampler: ticks, the warm-up (omit) window, the last partial interval */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "gen/sampler.h"

/* The first grid point after @now (the grid: t_meas + k x interval). */
static uint64_t next_tick(const struct sampler *s, uint64_t now)
{
	uint64_t iv = s->cfg.interval_ns;

	if (!iv)
		return UINT64_MAX;
	return s->t_meas + ((now - s->t_meas) / iv + 1) * iv;
}

int sampler_init(struct sampler *s, const struct sampler_cfg *cfg, uint64_t start_ns)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	s->prev = calloc(cfg->n ? cfg->n : 1, sizeof(*s->prev));
	if (!s->prev)
		return -ENOMEM;
	s->t_meas = start_ns + cfg->omit_ns;
	s->t_prev = start_ns;
	s->measuring = cfg->omit_ns == 0;
	/* in the warm-up the one tick that matters is its end */
	s->t_next = s->measuring ? next_tick(s, start_ns) : s->t_meas;
	return 0;
}

void sampler_free(struct sampler *s)
{
	free(s->prev);
	s->prev = NULL;
}

/* @delta = @cur - prev, and @cur becomes prev. Return: whether anything was counted. */
static bool take(struct sampler *s, const uint64_t *cur, uint64_t *delta)
{
	bool any = false;

	for (unsigned i = 0; i < s->cfg.n; i++) {
		delta[i] = cur[i] - s->prev[i];
		any |= delta[i] != 0;
		s->prev[i] = cur[i];
	}
	return any;
}

enum sampler_what sampler_tick(struct sampler *s, uint64_t now, const uint64_t *cur,
			       struct sampler_span *iv, uint64_t *delta)
{
	if (!s->measuring) {
		if (now < s->t_meas)
			return SAMPLER_NONE;
		s->measuring = true;
		memcpy(s->prev, cur, s->cfg.n * sizeof(*cur));
		s->t_prev = now;
		s->t_next = next_tick(s, now);
		return SAMPLER_MEASURING;
	}
	if (now < s->t_prev)
		now = s->t_prev;
	iv->start_ns = s->t_prev - s->t_meas;
	iv->end_ns = now - s->t_meas;
	take(s, cur, delta);
	s->t_prev = now;
	s->t_next = next_tick(s, now);
	s->nint++;
	return SAMPLER_INTERVAL;
}

enum sampler_what sampler_end(struct sampler *s, uint64_t now, const uint64_t *cur,
			      struct sampler_span *iv, uint64_t *delta)
{
	bool any, sliver;

	if (!s->measuring || !s->cfg.interval_ns)
		return SAMPLER_NONE;
	if (now < s->t_prev)
		now = s->t_prev;
	iv->start_ns = s->t_prev - s->t_meas;
	iv->end_ns = now - s->t_meas;
	any = take(s, cur, delta);
	s->t_prev = now;
	s->t_next = UINT64_MAX;
	sliver = iv->end_ns - iv->start_ns < s->cfg.sliver_ns;
	if (sliver && s->cfg.sliver_merge && s->nint)
		return SAMPLER_MERGE;
	if (sliver && !(s->cfg.sliver_merge && any))
		return SAMPLER_NONE;
	s->nint++;
	return SAMPLER_INTERVAL;
}

uint64_t sampler_measured_ns(const struct sampler *s, uint64_t end)
{
	return s->measuring && end > s->t_meas ? end - s->t_meas : 0;
}
