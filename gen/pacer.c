/* pacer.c - rate control arithmetic: send schedule, wire overheads, ramps, bursts, IMIX */
#include <errno.h>
#include <math.h>
#include <string.h>
#include "gen/pacer.h"

/* ------------------------------------------------------------ wire sizes */

static unsigned wire_mss(const struct pacer_wire *w)
{
	if (w->mss)
		return w->mss;
	return PACER_DEFAULT_MTU - (w->ipv6 ? PACER_IPV6_HDR : PACER_IPV4_HDR) - PACER_TCP_HDR;
}

uint64_t pacer_frames(const struct pacer_wire *w, uint64_t size)
{
	uint64_t mss;

	if (!w->tcp)
		return 1;
	mss = wire_mss(w);
	return size ? (size + mss - 1) / mss : 1;
}

/* One frame carrying @payload bytes of transport payload, at the layer. */
static uint64_t frame_bytes(const struct pacer_wire *w, uint64_t payload)
{
	uint64_t l2 = payload + (w->tcp ? PACER_TCP_HDR : PACER_UDP_HDR) +
		      (w->ipv6 ? PACER_IPV6_HDR : PACER_IPV4_HDR) + PACER_ETH_HDR;

	if (l2 < PACER_ETH_MIN)
		l2 = PACER_ETH_MIN;
	return w->layer == PACER_LAYER_L1 ? l2 + PACER_L1_EXTRA : l2;
}

uint64_t pacer_wire_bytes(const struct pacer_wire *w, uint64_t size)
{
	uint64_t mss, full, rem;

	if (w->layer == PACER_LAYER_PAYLOAD)
		return size;
	if (!w->tcp)
		return frame_bytes(w, size);
	mss = wire_mss(w);
	full = size / mss;
	rem = size % mss;
	return full * frame_bytes(w, mss) + (rem || !size ? frame_bytes(w, rem) : 0);
}

/* ------------------------------------------------------------------ IMIX */

int imix_init(struct imix *m, const struct imix_entry *e, unsigned n)
{
	if (!n || n > IMIX_MAX)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	for (unsigned i = 0; i < n; i++) {
		if (!e[i].size || !e[i].weight || e[i].weight > IMIX_MAX_WEIGHT)
			return -EINVAL;
		m->e[i] = e[i];
		m->total += e[i].weight;
	}
	m->n = n;
	return 0;
}

uint32_t imix_next(struct imix *m)
{
	unsigned best = 0;

	for (unsigned i = 0; i < m->n; i++) {
		m->cur[i] += m->e[i].weight;
		if (m->cur[i] > m->cur[best])
			best = i;
	}
	m->cur[best] -= (int64_t)m->total;
	return m->e[best].size;
}

double imix_mean(const struct imix *m)
{
	double sum = 0;

	if (!m->total)
		return 0;
	for (unsigned i = 0; i < m->n; i++)
		sum += (double)m->e[i].size * m->e[i].weight;
	return sum / (double)m->total;
}

/* ---------------------------------------------------------- rate schedule */

static double seg_end(const struct pacer *p, unsigned i)
{
	return i + 1 < p->n_seg ? p->seg[i + 1].t0 : INFINITY;
}

static double seg_rate(const struct pacer_seg *s, double t)
{
	return s->a + s->b * (t - s->t0);
}

static unsigned seg_of(const struct pacer *p, double t)
{
	unsigned i = 0;

	while (i + 1 < p->n_seg && p->seg[i + 1].t0 <= t)
		i++;
	return i;
}

/* Cost units the schedule allows between @t0 and @t1 (ns since start). */
static double sched_integral(const struct pacer *p, double t0, double t1)
{
	double sum = 0;

	for (unsigned i = seg_of(p, t0); i < p->n_seg && t0 < t1; i++) {
		double hi = fmin(t1, seg_end(p, i));

		if (hi > t0)
			sum += (seg_rate(&p->seg[i], t0) + seg_rate(&p->seg[i], hi)) / 2 * (hi - t0);
		t0 = hi;
	}
	return sum;
}

/* The time at which @cost units after @t are used up. INFINITY if never. */
static double sched_advance(const struct pacer *p, double t, double cost)
{
	for (unsigned i = seg_of(p, t); i < p->n_seg; i++) {
		const struct pacer_seg *s = &p->seg[i];
		double end = seg_end(p, i), ra = seg_rate(s, t), cap;

		if (isinf(end))
			return ra > 0 ? t + cost / ra : INFINITY;
		cap = (ra + seg_rate(s, end)) / 2 * (end - t);
		if (cap >= cost && cap > 0) {
			if (s->b == 0)
				return t + cost / ra;
			/* a t^2 / 2 + ... = cost, solved in the form that does not cancel */
			return t + 2 * cost / (ra + sqrt(fmax(0, ra * ra + 2 * s->b * cost)));
		}
		cost -= cap;
		t = end;
	}
	return INFINITY;
}

/* Out of a pause (a segment of rate 0): the next send is due when it ends. */
static double skip_zero(const struct pacer *p, double t)
{
	for (unsigned i = seg_of(p, t); i < p->n_seg && isfinite(t); i++) {
		const struct pacer_seg *s = &p->seg[i];

		if (s->a != 0 || s->b != 0)
			break;
		t = seg_end(p, i);
	}
	return t;
}

double pacer_rate_at(const struct pacer *p, uint64_t t_ns)
{
	if (p->unlimited)
		return INFINITY;
	return seg_rate(&p->seg[seg_of(p, (double)t_ns)], (double)t_ns) * 1e9;
}

/* -------------------------------------------------------------- the pacer */

double pacer_cost(const struct pacer *p, uint64_t size)
{
	if (p->unit == PACER_PPS)
		return (double)pacer_frames(&p->wire, size);
	return 8.0 * (double)pacer_wire_bytes(&p->wire, size);
}

static bool rate_ok(double r)
{
	return isfinite(r) && r >= 0;
}

static int build_schedule(struct pacer *p, const struct pacer_cfg *c)
{
	if (c->n_steps) {
		double t = 0;

		if (c->n_steps > PACER_MAX_STEPS)
			return -EINVAL;
		for (unsigned i = 0; i < c->n_steps; i++) {
			if (!rate_ok(c->steps[i].rate) || !c->steps[i].for_ns)
				return -EINVAL;
			p->seg[i] = (struct pacer_seg){ t, c->steps[i].rate / 1e9, 0 };
			t += (double)c->steps[i].for_ns;
		}
		p->n_seg = c->n_steps;
		return 0;
	}
	if (!rate_ok(c->rate))
		return -EINVAL;
	if (c->rate == 0) {
		p->unlimited = true;
		return 0;
	}
	if (c->ramp_ns) {
		if (!rate_ok(c->ramp_from))
			return -EINVAL;
		p->seg[0] = (struct pacer_seg){ 0, c->ramp_from / 1e9,
						(c->rate - c->ramp_from) / 1e9 / (double)c->ramp_ns };
		p->seg[1] = (struct pacer_seg){ (double)c->ramp_ns, c->rate / 1e9, 0 };
		p->n_seg = 2;
		return 0;
	}
	p->seg[0] = (struct pacer_seg){ 0, c->rate / 1e9, 0 };
	p->n_seg = 1;
	return 0;
}

int pacer_init(struct pacer *p, const struct pacer_cfg *c, uint64_t now_ns)
{
	int r;

	memset(p, 0, sizeof(*p));
	p->unit = c->unit;
	p->wire = c->wire;
	if ((!c->mix && !c->size) || (c->wire.tcp && c->wire.mss && c->wire.mss < 8))
		return -EINVAL;
	r = build_schedule(p, c);
	if (r)
		return r;
	if (c->mix) {
		double sum = 0;

		if (!c->mix->total)
			return -EINVAL;
		for (unsigned i = 0; i < c->mix->n; i++)
			sum += pacer_cost(p, c->mix->e[i].size) * c->mix->e[i].weight;
		p->mean_cost = sum / (double)c->mix->total;
	} else {
		p->mean_cost = pacer_cost(p, c->size);
	}
	p->burst = c->burst > 1 ? c->burst : 1;
	p->bucket_ns = (double)(c->bucket_ns ? c->bucket_ns : PACER_DEFAULT_BUCKET_NS);
	p->tick_ns = c->tick_ns ? c->tick_ns : PACER_DEFAULT_TICK_NS;
	p->start_ns = now_ns;
	p->vt = p->unlimited ? 0 : skip_zero(p, 0);
	return 0;
}

unsigned pacer_due(struct pacer *p, uint64_t now_ns)
{
	double now, fit;

	if (p->unlimited)
		return PACER_UNLIMITED;
	if (p->group_left)
		return p->group_left;          /* finish the group first, back to back */
	if (now_ns < p->start_ns || isinf(p->vt))
		return 0;
	now = (double)(now_ns - p->start_ns);
	if (now < p->vt) {
		p->over = false;
		return 0;
	}
	if (now - p->vt > p->bucket_ns) {
		double vt = now - p->bucket_ns;

		/* a stall: what is beyond the bucket is not sent later in a rush */
		p->dropped += sched_integral(p, p->vt, vt);
		p->vt = vt;
		if (!p->over) {
			p->over = true;
			p->over_since = now_ns;
		} else if (now_ns - p->over_since > p->tick_ns && !p->missed) {
			p->missed = true;
			p->missed_events++;
		}
	} else {
		p->over = false;
	}
	fit = 1 + floor(sched_integral(p, p->vt, now) / p->mean_cost);
	if (fit > (double)(PACER_UNLIMITED / 2))
		fit = (double)(PACER_UNLIMITED / 2);
	/* in burst mode the group starts when its first send is due */
	return (unsigned)((((uint64_t)fit + p->burst - 1) / p->burst) * p->burst);
}

void pacer_sent(struct pacer *p, uint64_t size)
{
	double cost = pacer_cost(p, size);

	p->sends++;
	p->cost_sent += cost;
	if (p->unlimited)
		return;
	if (p->burst > 1) {
		if (!p->group_left)
			p->group_left = p->burst;
		p->group_left--;
	}
	p->vt = skip_zero(p, sched_advance(p, p->vt, cost));
}

uint64_t pacer_next_ns(const struct pacer *p, uint64_t now_ns)
{
	uint64_t at;

	if (p->unlimited || p->group_left)
		return now_ns;
	if (isinf(p->vt) || p->vt >= 1.8e19 - (double)p->start_ns)
		return UINT64_MAX;
	/* the offset only in floating point: a clock's absolute ns would lose precision */
	at = p->start_ns + (uint64_t)ceil(p->vt);
	return at > now_ns ? at : now_ns;
}

double pacer_achieved(const struct pacer *p, uint64_t now_ns)
{
	if (now_ns <= p->start_ns)
		return 0;
	return p->cost_sent * 1e9 / (double)(now_ns - p->start_ns);
}

double pacer_split(double rate, enum pacer_per per, unsigned queues, unsigned streams,
		   unsigned streams_paced)
{
	if (!queues)
		queues = 1;
	if (!streams)
		streams = 1;
	switch (per) {
	case PACER_PER_TOTAL:
		return rate * streams_paced / ((double)queues * streams);
	case PACER_PER_QUEUE:
		return rate * streams_paced / streams;
	case PACER_PER_STREAM:
		return rate * streams_paced;
	}
	return rate;
}
