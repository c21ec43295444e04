/* report_ndr.c - `zcgen ndr`'s report: a trial's figures and one row per frame size, as text and JSON */
#define _GNU_SOURCE
#include <string.h>
#include "gen/report_ndr.h"
#include "zcgen_version.h"

void report_ndr_trial_figures(struct ndr_trial *t)
{
	t->offered_fps = t->received_fps = 0;
	if (t->duration_s > 0) {
		t->offered_fps = t->sent / t->duration_s;
		t->received_fps = t->received / t->duration_s;
	}
	t->loss_pct = t->sent && t->received < t->sent ?
		100.0 * (double)(t->sent - t->received) / (double)t->sent : 0;
}

void report_ndr_make(struct report_ndr *r, const struct ndr_size *szs, unsigned n)
{
	memset(r, 0, sizeof(*r));
	r->n = n < NDR_MAX_SIZES ? n : NDR_MAX_SIZES;
	for (unsigned i = 0; i < r->n; i++) {
		const struct ndr_size *sz = &szs[i];
		struct report_ndr_row *w = &r->rows[i];

		w->sz = sz;
		w->best = sz->done && sz->best >= 0 ? &sz->t[sz->best] : NULL;
		w->fps = w->best ? w->best->offered_fps : 0;
		w->l1_bps = w->fps * (sz->frame + ETH_L1_EXTRA) * 8.0;
		w->l2_bps = w->fps * sz->frame * 8.0;
	}
}

/* A trial's latency, when the receiver timed any datagram of it. */
static bool has_lat(const struct report_latency *l)
{
	return l->present && l->count;
}

void report_ndr_trial(FILE *out, const struct ndr_size *sz, const struct ndr_trial *t)
{
	const char *kind = t->kind == TRIAL_CEILING ? "unpaced" :
			   t->kind == TRIAL_LATENCY ? "latency" : "trial";

	fprintf(out, "  %4u B %-7s", sz->frame, kind);
	if (t->kind == TRIAL_CEILING)
		fprintf(out, " %12s", "line");
	else
		fprintf(out, " %12.0f", t->asked_fps);
	fprintf(out, " offered %12.0f fps, received %12.0f fps, loss %8.4f %%", t->offered_fps,
		t->received_fps, t->loss_pct);
	if (has_lat(&t->lat))
		fprintf(out, ", latency p50 %.1f p99 %.1f us", t->lat.p50, t->lat.p99);
	if (t->kind != TRIAL_LATENCY)
		fprintf(out, "  %s%s", t->passed ? "pass" : "fail",
			t->sender_missed ? " (zcgen missed the rate)" : "");
	fputc('\n', out);
	fflush(out);
}

void report_ndr_text(FILE *out, const struct report_ndr *r)
{
	fprintf(out, "\n%6s %14s %10s %10s %9s %10s %10s  %-26s %s\n", "frame", "throughput", "L1",
		"L2", "loss", "lat p50", "lat p99", "p50 at loads (us)", "");
	fprintf(out, "%6s %14s %10s %10s %9s %10s %10s\n", "B", "fps", "Gbit/s", "Gbit/s", "%", "us",
		"us");
	for (unsigned i = 0; i < r->n; i++) {
		const struct report_ndr_row *w = &r->rows[i];
		const struct ndr_size *sz = w->sz;
		const struct ndr_trial *b = w->best;
		char loads[128] = "", *p = loads;

		if (!b) {
			fprintf(out, "%6u %14s  %s\n", sz->frame, "-", sz->err[0] ? sz->err : "not run");
			continue;
		}
		for (unsigned k = 0; k < sz->nt; k++)
			if (sz->t[k].kind == TRIAL_LATENCY && p < loads + sizeof(loads) - 16)
				p += has_lat(&sz->t[k].lat) ?
					snprintf(p, (size_t)(loads + sizeof(loads) - p), "%s%.0f%%:%.1f",
						 p == loads ? "" : " ", sz->t[k].load_pct, sz->t[k].lat.p50) :
					snprintf(p, (size_t)(loads + sizeof(loads) - p), "%s%.0f%%:-",
						 p == loads ? "" : " ", sz->t[k].load_pct);
		fprintf(out, "%6u %14.0f %10.4f %10.4f %9.4f", sz->frame, w->fps, w->l1_bps / 1e9,
			w->l2_bps / 1e9, b->loss_pct);
		if (has_lat(&b->lat))
			fprintf(out, " %10.1f %10.1f", b->lat.p50, b->lat.p99);
		else
			fprintf(out, " %10s %10s", "-", "-");
		fprintf(out, "  %-26s %s\n", loads[0] ? loads : "-",
			sz->sender_limited ? "sender-limited (zcgen's ceiling, not the path's)" : "");
	}
}

/* latency_us with its verdict; null when the receiver timed nothing */
static json_t *lat_json(const struct report_latency *l)
{
	struct report_latency c = *l;

	c.present = has_lat(l);
	return report_latency_json(&c, true);
}

json_t *report_ndr_json(const struct report_ndr *r, const struct report_ndr_params *p,
			const struct expect_result *ex)
{
	json_t *root = json_object(), *arr = json_array();

	for (unsigned i = 0; i < r->n; i++) {
		const struct report_ndr_row *w = &r->rows[i];
		const struct ndr_size *sz = w->sz;
		const struct ndr_trial *b = w->best;
		json_t *tr = json_array(), *ll = json_array(), *sj;

		for (unsigned k = 0; k < sz->nt; k++) {
			const struct ndr_trial *t = &sz->t[k];
			static const char *const kinds[] = { "ceiling", "search", "latency" };
			json_t *tj = json_pack("{s:s, s:o, s:f, s:f, s:f, s:I, s:I, s:f, s:b, s:b, s:o}",
				"kind", kinds[t->kind], "asked_fps",
				t->kind == TRIAL_CEILING ? json_null() : json_real(t->asked_fps),
				"offered_fps", t->offered_fps, "received_fps", t->received_fps,
				"loss_percent", t->loss_pct, "sent", (json_int_t)t->sent, "received",
				(json_int_t)t->received, "duration_s", t->duration_s, "passed", t->passed,
				"sender_missed", t->sender_missed, "latency_us", lat_json(&t->lat));

			if (t->kind == TRIAL_LATENCY) {
				json_object_set_new(tj, "load_percent", json_real(t->load_pct));
				json_array_append_new(ll, json_pack("{s:f, s:f, s:o}", "load_percent",
					t->load_pct, "offered_fps", t->offered_fps, "latency_us",
					lat_json(&t->lat)));
			}
			json_array_append_new(tr, tj);
		}
		sj = json_pack("{s:I, s:I, s:b, s:f, s:f, s:f, s:f, s:o, s:o, s:b, s:o, s:o}",
			"frame_size", (json_int_t)sz->frame, "payload_size", (json_int_t)sz->payload,
			"found", sz->done, "ceiling_fps", sz->ceiling_fps, "throughput_fps", w->fps,
			"l1_bits_per_second", w->l1_bps, "l2_bits_per_second", w->l2_bps,
			"loss_percent", b ? json_real(b->loss_pct) : json_null(),
			"latency_us", b ? lat_json(&b->lat) : json_null(),
			"sender_limited", sz->sender_limited, "latency_loads", ll, "trials", tr);
		if (sj)
			json_object_set_new(sj, "sender_repeats", json_integer(sz->sender_repeats));
		if (sj && sz->err[0])
			json_object_set_new(sj, "error", json_string(sz->err));
		json_array_append_new(arr, sj);
	}
	json_object_set_new(root, "schema", json_string(NDR_SCHEMA));
	json_object_set_new(root, "zcgen", json_string(ZCGEN_VERSION));
	json_object_set_new(root, "dest", json_string(p->dest));
	json_object_set_new(root, "server", json_string(p->server));
	json_object_set_new(root, "lab", json_boolean(p->lab));
	json_object_set_new(root, "loss_threshold_percent", json_real(p->loss_pct));
	json_object_set_new(root, "precision_percent", json_real(p->precision));
	json_object_set_new(root, "trial_duration_s", json_real(p->trial_ns / 1e9));
	json_object_set_new(root, "settle_s", json_real(p->settle_ns / 1e9));
	json_object_set_new(root, "interrupted", json_boolean(p->interrupted));
	json_object_set_new(root, "sizes", arr);
	if (expect_json_add(root, ex)) {
		json_decref(root);
		return NULL;
	}
	return root;
}
