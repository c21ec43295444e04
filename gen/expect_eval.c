/* expect_eval.c - a profile's expect: thresholds against a run's figures: missed ones, printed and in the JSON */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "gen/expect_eval.h"

/* 12.3, 4.56, 123: three significant figures, no exponent. */
static const char *fmt_num(double v, char *buf, size_t len)
{
	double a = fabs(v);

	snprintf(buf, len, a >= 100 || a == floor(a) ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3g", v);
	return buf;
}

static void miss_add(struct expect_result *out, const char *key, double thr, const char *unit,
		     bool known, double meas, const char *note)
{
	struct expect_miss *m;
	char a[32], b[32];

	if (out->n_missed == EXPECT_MAX_MISSED)
		return;
	m = &out->miss[out->n_missed++];
	memset(m, 0, sizeof(*m));
	snprintf(m->key, sizeof(m->key), "%s", key);
	snprintf(m->unit, sizeof(m->unit), "%s", unit);
	m->threshold_value = thr;
	m->measured_value = known ? meas : 0;
	m->measured_known = known;
	snprintf(m->threshold, sizeof(m->threshold), "%s%s%s", fmt_num(thr, a, sizeof(a)),
		 *unit ? " " : "", unit);
	if (known)
		snprintf(m->measured, sizeof(m->measured), "%s%s%s%s", fmt_num(meas, b, sizeof(b)),
			 *unit ? " " : "", unit, note ? note : "");
	else
		snprintf(m->measured, sizeof(m->measured), "not measured%s", note ? note : "");
}

void expect_eval(const struct gen_expect *ex, const struct expect_measured *m,
		 struct expect_result *out)
{
	memset(out, 0, sizeof(*out));
	out->present = ex->present;
	if (ex->has_min_bps_total) {
		out->n_checked++;
		if (m->bps_total < 0 || m->bps_total < ex->min_bps_total)
			miss_add(out, "min_gbps_total", ex->min_bps_total / 1e9, "Gbit/s",
				 m->bps_total >= 0, m->bps_total / 1e9, NULL);
	}
	if (ex->has_min_bps_queue) {
		double worst = -1;
		unsigned wq = 0;
		char note[48];

		out->n_checked++;
		for (unsigned q = 0; m->bps_queue && q < m->nq; q++)
			if (worst < 0 || m->bps_queue[q] < worst) {
				worst = m->bps_queue[q];
				wq = q;
			}
		snprintf(note, sizeof(note), " (queue %u)", wq);
		if (worst < 0 || worst < ex->min_bps_queue)
			miss_add(out, "min_gbps_per_queue", ex->min_bps_queue / 1e9, "Gbit/s", worst >= 0,
				 worst / 1e9, worst >= 0 ? note : NULL);
	}
	if (ex->has_max_loss) {
		out->n_checked++;
		if (m->loss_percent < 0 || m->loss_percent > ex->max_loss_percent)
			miss_add(out, "max_loss_percent", ex->max_loss_percent, "%", m->loss_percent >= 0,
				 m->loss_percent, m->loss_percent < 0 ?
				 " (this run has no loss figure: that needs a receiver that reports it)" : NULL);
	}
	if (ex->has_max_p99) {
		double thr = ex->max_p99_ns / 1e9;

		out->n_checked++;
		if (m->p99_latency_s < 0 || m->p99_latency_s > thr)
			miss_add(out, "max_p99_latency", thr, "s", m->p99_latency_s >= 0, m->p99_latency_s,
				 m->p99_latency_s < 0 ? " (this run has no latency figure)" : NULL);
	}
	if (ex->has_min_steering) {
		out->n_checked++;
		if (m->steering < 0 || m->steering < ex->min_steering)
			miss_add(out, "min_steering", ex->min_steering, "", m->steering >= 0, m->steering,
				 m->steering >= 0 ? NULL : m->steering_shared ?
				 " (device shared with other ranks: see the fleet's host_steering)" :
				 " (no per-queue NIC counters: a nic: section or --lab gives them)");
	}
}

bool expect_eval_offload(const struct gen_expect *ex, const char *name, const char *verdict,
			 struct expect_result *out)
{
	struct expect_miss *m;
	bool listed = false;

	for (unsigned i = 0; i < ex->n_offloads_effective && !listed; i++)
		listed = !strcmp(ex->offloads_effective[i], name);
	if (!listed)
		return false;
	out->present = true;
	out->n_checked++;
	if (verdict && !strcmp(verdict, "effective"))
		return true;
	if (out->n_missed == EXPECT_MAX_MISSED)
		return true;
	m = &out->miss[out->n_missed++];
	memset(m, 0, sizeof(*m));
	snprintf(m->key, sizeof(m->key), "offloads_effective");
	snprintf(m->threshold, sizeof(m->threshold), "%s effective", name);
	snprintf(m->measured, sizeof(m->measured), "%s", verdict ? verdict : "not measured");
	m->measured_known = verdict != NULL;
	return true;
}

bool expect_eval_ndr(const struct gen_expect *ex, unsigned frame_size, bool found, double fps,
		     struct expect_result *out)
{
	unsigned n;

	if (!ex->has_min_ndr_fps)
		return false;
	out->present = true;
	out->n_checked++;
	if (found && fps >= ex->min_ndr_fps)
		return true;
	n = out->n_missed;
	miss_add(out, "min_ndr_fps", ex->min_ndr_fps, "fps", found, fps,
		 found ? NULL : " (the search found no rate at this size)");
	if (out->n_missed > n)
		out->miss[n].frame_size = frame_size;
	return true;
}

double expect_receiver_loss(const struct engine_result *res, const struct report_receiver *rcv)
{
	uint64_t sent = 0, missing;

	if (!rcv)
		return -1;    /* the sender alone cannot know */
	if (rcv->udp) {
		uint64_t gone = rcv->lost + rcv->tail_lost, all = rcv->packets + gone;

		return all ? 100.0 * (double)gone / (double)all : -1;
	}
	for (unsigned q = 0; q < res->nq; q++)
		sent += res->q[q].bytes;
	if (!sent)
		return -1;
	missing = sent > rcv->bytes ? sent - rcv->bytes : 0;
	return 100.0 * (double)missing / (double)sent;
}

void expect_measure_run(const struct engine_result *res, const struct report_receiver *rcv,
			double steering, double *bps_queue, struct expect_measured *m)
{
	uint64_t total = 0;

	memset(m, 0, sizeof(*m));
	for (unsigned q = 0; q < res->nq; q++) {
		total += res->q[q].bytes;
		bps_queue[q] = res->duration_s > 0 ? res->q[q].bytes * 8.0 / res->duration_s : 0;
	}
	m->bps_total = res->duration_s > 0 ? total * 8.0 / res->duration_s : 0;
	m->bps_queue = bps_queue;
	m->nq = res->nq;
	m->loss_percent = expect_receiver_loss(res, rcv);
	/* a zcgen sink's one-way latency (UDP), when its clock agreed with ours */
	m->p99_latency_s = rcv && rcv->x.lat.present && rcv->x.lat.valid && rcv->x.lat.count ?
			   rcv->x.lat.p99 / 1e6 : -1;
	m->steering = steering;
}

/* "min_gbps_total 50 Gbit/s missed: measured 12.3 Gbit/s" */
static const char *miss_text(const struct expect_miss *m, char *buf, size_t len)
{
	if (m->frame_size)
		snprintf(buf, len, "%s at %u B: %s missed: found %s", m->key, m->frame_size,
			 m->threshold, m->measured);
	else
		snprintf(buf, len, "%s %s missed: measured %s", m->key, m->threshold, m->measured);
	return buf;
}

void expect_print(FILE *out, const struct expect_result *r)
{
	char text[300];

	for (unsigned i = 0; i < r->n_missed; i++)
		fprintf(out, "zcgen: expect: %s\n", miss_text(&r->miss[i], text, sizeof(text)));
}

int expect_json_add(json_t *report, const struct expect_result *r)
{
	json_t *e, *missed;

	if (!r->present)
		return 0;
	e = json_object();
	missed = json_array();
	if (!e || !missed)
		goto nomem;
	for (unsigned i = 0; i < r->n_missed; i++) {
		const struct expect_miss *m = &r->miss[i];
		char text[300];
		json_t *o;

		miss_text(m, text, sizeof(text));
		if (!strcmp(m->key, "offloads_effective"))
			o = json_pack("{s:s, s:s, s:s, s:s}", "key", m->key, "threshold", m->threshold,
				      "measured", m->measured, "message", text);
		else
			o = json_pack("{s:s, s:f, s:o, s:s, s:s}", "key", m->key, "threshold",
				      m->threshold_value, "measured", m->measured_known ?
				      json_real(m->measured_value) : json_null(), "unit", m->unit,
				      "message", text);
		if (o && m->frame_size &&
		    json_object_set_new(o, "frame_size", json_integer(m->frame_size))) {
			json_decref(o);
			o = NULL;
		}
		if (!o || json_array_append_new(missed, o))
			goto nomem;
	}
	/* json_object_set_new() takes the value also when it fails */
	if (json_object_set_new(e, "missed", missed) ||
	    json_object_set_new(e, "met", json_boolean(r->n_missed == 0)) ||
	    json_object_set_new(e, "checked", json_integer(r->n_checked)))
		goto nomem_e;
	return json_object_set_new(report, "expect", e) ? -ENOMEM : 0;
nomem:
	json_decref(missed);
nomem_e:
	json_decref(e);
	return -ENOMEM;
}
