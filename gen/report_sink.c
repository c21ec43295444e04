/* report_sink.c - `zcgen sink`'s report: rows computed once, printed as text, JSON and metrics */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "gen/report_sink.h"
#include "gen/report.h"
#include "gen/metrics.h"

static double bps(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes * 8e9 / (double)ns : 0.0;
}

/* b - a, never below zero: a stream whose measured part never began has first > last */
static uint64_t span(uint64_t a, uint64_t b)
{
	return b > a ? b - a : 0;
}

static double loss_pct(uint64_t lost, uint64_t expected)
{
	return expected ? 100.0 * (double)lost / (double)expected : 0.0;
}

const char *report_sink_proto_name(int protocol)
{
	return protocol == IPPROTO_UDP ? "udp" : protocol == SINK_PROTO_BOTH ? "both" : "tcp";
}

static const char *end_name(int end)
{
	return end == 0 ? "open" : end == 1 ? "closed" : "reset";
}

static void sum_up(const struct sink_result *r, struct report_sink_total *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < r->n_workers; i++) {
		const struct sink_worker_result *w = &r->workers[i];

		t->bytes += w->bytes;
		t->packets += w->packets;
		t->omitted_bytes += w->omitted_bytes;
		t->omitted_packets += w->omitted_packets;
		t->foreign += w->foreign;
		t->foreign_bytes += w->foreign_bytes;
		t->connections += w->connections;
		t->resets += w->resets;
		t->truncated += w->truncated;
		t->iperf3_denied += w->iperf3_denied;
		t->corrupt_bytes += w->corrupt_bytes;
		t->corrupt_datagrams += w->corrupt_datagrams;
		t->gro_receives += w->gro_receives;
		t->ts_kernel += w->ts_kernel;
		t->ts_user += w->ts_user;
	}
	for (unsigned i = 0; i < r->n_streams; i++) {
		const struct sink_stream_result *s = &r->streams[i];

		t->lost += s->seq.lost;
		t->reordered += s->seq.reordered;
		t->duplicates += s->seq.duplicates;
		t->too_late += s->seq.too_late;
		t->highest += s->seq.highest;
		/* a stream with nothing measured (its warm-up only) has no active time */
		if (!s->bytes && !s->seq.packets && s->omitted_bytes)
			continue;
		if (!t->first_ns || s->first_ns < t->first_ns)
			t->first_ns = s->first_ns;
		if (s->last_ns > t->last_ns)
			t->last_ns = s->last_ns;
	}
	t->active_ns = span(t->first_ns, t->last_ns);
	t->listen_ns = span(r->start_ns, r->stop_ns);
	t->bps = bps(t->bytes, t->active_ns);
	t->loss_pct = loss_pct(t->lost, t->highest);
}

/* The time a worker's data arrived over: its streams' first to last byte (0: none came). */
static uint64_t worker_active_ns(const struct sink_result *r, unsigned worker)
{
	uint64_t first = UINT64_MAX, last = 0;

	for (unsigned i = 0; i < r->n_streams; i++) {
		const struct sink_stream_result *s = &r->streams[i];

		if (s->worker != worker || !s->bytes)
			continue;
		if (s->first_ns < first)
			first = s->first_ns;
		if (s->last_ns > last)
			last = s->last_ns;
	}
	return last > first ? last - first : 0;
}

int report_sink_make(struct report_sink *rep, const struct sink_cfg *cfg,
		     const struct sink_result *res)
{
	memset(rep, 0, sizeof(*rep));
	rep->cfg = *cfg;
	rep->cfg.host = NULL;
	rep->res = res;
	rep->w = calloc(res->n_workers ? res->n_workers : 1, sizeof(*rep->w));
	rep->s = calloc(res->n_streams ? res->n_streams : 1, sizeof(*rep->s));
	rep->tests = calloc(res->n_tests ? res->n_tests : 1, sizeof(*rep->tests));
	if (!rep->w || !rep->s || !rep->tests) {
		report_sink_free(rep);
		return -ENOMEM;
	}
	sum_up(res, &rep->t);
	for (unsigned i = 0; i < res->n_workers; i++) {
		struct report_sink_worker *w = &rep->w[i];

		w->w = &res->workers[i];
		w->active_ns = worker_active_ns(res, w->w->worker);
		w->bps = bps(w->w->bytes, w->active_ns);
	}
	for (unsigned i = 0; i < res->n_streams; i++) {
		struct report_sink_stream *s = &rep->s[i];

		s->s = &res->streams[i];
		s->active_ns = span(s->s->first_ns, s->s->last_ns);
		s->bps = bps(s->s->bytes, s->active_ns);
		s->loss_pct = udpseq_loss_pct(&s->s->seq);
	}
	for (unsigned i = 0; i < res->n_tests; i++) {
		struct report_sink_test *t = &rep->tests[i];

		t->t = &res->tests[i];
		t->dur_ns = span(t->t->start_ns, t->t->end_ns);
		for (unsigned k = 0; k < t->t->n_streams; k++) {
			t->bytes += t->t->streams[k].bytes;
			t->client_bytes += t->t->streams[k].client_bytes;
		}
		t->bps = bps(t->bytes, t->dur_ns);
	}
	return 0;
}

void report_sink_free(struct report_sink *rep)
{
	free(rep->w);
	free(rep->s);
	free(rep->tests);
	rep->w = NULL;
	rep->s = NULL;
	rep->tests = NULL;
}

/* --- text --- */

void report_sink_interval(FILE *out, const struct sink_interval *iv, unsigned nw)
{
	uint64_t len = iv->end_ns - iv->start_ns, sum = 0;

	for (unsigned k = 0; k < nw; k++)
		sum += iv->bytes[k];
	fprintf(out, "[%7.2f-%7.2f s] %8.2f Gbit/s", (double)iv->start_ns / 1e9,
		(double)iv->end_ns / 1e9, bps(sum, len) / 1e9);
	if (nw > 1) {
		fprintf(out, "  |");
		for (unsigned k = 0; k < nw; k++)
			fprintf(out, " w%u %.2f", k, bps(iv->bytes[k], len) / 1e9);
	}
	if (iv->omitted)
		fprintf(out, "  (warm-up %.2f Gbit/s, not counted)", bps(iv->omitted, len) / 1e9);
	fprintf(out, "\n");
	fflush(out);
}

static void print_workers(FILE *out, const struct report_sink *rep)
{
	bool tcp = rep->cfg.protocol != IPPROTO_UDP, udp = rep->cfg.protocol != IPPROTO_TCP;
	char b1[32];

	fprintf(out, "\n%-6s %4s", "worker", "cpu");
	if (tcp)
		fprintf(out, " %12s", "connections");
	if (udp)
		fprintf(out, " %12s", "packets");
	fprintf(out, " %16s %12s\n", "bytes", "Gbit/s");
	for (unsigned i = 0; i < rep->res->n_workers; i++) {
		const struct sink_worker_result *w = rep->w[i].w;

		snprintf(b1, sizeof(b1), "%d", w->cpu);
		fprintf(out, "%-6u %4s", w->worker, w->cpu < 0 ? "-" : b1);
		if (tcp)
			fprintf(out, " %12llu", (unsigned long long)w->connections);
		if (udp)
			fprintf(out, " %12llu", (unsigned long long)w->packets);
		fprintf(out, " %16llu %12.3f\n", (unsigned long long)w->bytes, rep->w[i].bps / 1e9);
	}
}

/* Plain streams of one protocol; iperf3's are shown with their test. */
static void print_streams(FILE *out, const struct report_sink *rep, bool udp)
{
	int proto = udp ? IPPROTO_UDP : IPPROTO_TCP;
	bool header = false, verify = rep->cfg.verify;

	for (unsigned i = 0; i < rep->res->n_streams; i++) {
		const struct report_sink_stream *row = &rep->s[i];
		const struct sink_stream_result *s = row->s;
		double g = row->bps / 1e9;

		if (s->protocol != proto || s->iperf3_test)
			continue;
		if (!header) {
			if (udp)
				fprintf(out, "\n%-46s %16s %9s %10s %10s %7s %9s %6s %9s %9s %9s %9s",
					"stream", "bytes", "Gbit/s", "packets", "lost", "loss%",
					"reordered", "dups", "jitter ms", "p50 us", "p99 us", "max us");
			else
				fprintf(out, "\n%-46s %16s %9s %6s", "connection", "bytes", "Gbit/s",
					"end");
			fprintf(out, verify ? " %12s\n" : "\n", "corrupt");
			header = true;
		}
		if (udp)
			fprintf(out, "%-46s %16llu %9.3f %10llu %10llu %7.3f %9llu %6llu %9.3f %9.1f "
				"%9.1f %9.1f%s", s->peer, (unsigned long long)s->bytes, g,
				(unsigned long long)s->seq.packets, (unsigned long long)s->seq.lost,
				row->loss_pct, (unsigned long long)s->seq.reordered,
				(unsigned long long)s->seq.duplicates, s->jitter_s * 1e3, s->lat.p50,
				s->lat.p99, s->lat.max,
				s->lat.count && !s->lat.valid ? " (clocks?)" : "");
		else
			fprintf(out, "%-46s %16llu %9.3f %6s", s->peer, (unsigned long long)s->bytes, g,
				end_name(s->end));
		if (verify)
			fprintf(out, " %12llu", (unsigned long long)s->corrupt_bytes);
		fprintf(out, "\n");
	}
}

static void print_iperf3_tests(FILE *out, const struct report_sink *rep)
{
	for (unsigned i = 0; i < rep->res->n_tests; i++) {
		const struct sink_iperf3_test *t = rep->tests[i].t;
		uint64_t dur = rep->tests[i].dur_ns;

		fprintf(out, "\niperf3 test %u from %s: %s, %u stream%s, %u s, client %s: ", t->n,
			t->peer, t->udp ? "udp" : "tcp", t->parallel, t->parallel == 1 ? "" : "s",
			t->time_s, *t->client_version ? t->client_version : "?");
		if (t->err)
			fprintf(out, "error: %s\n", t->msg);
		else
			fprintf(out, "ok\n");
		if (!t->n_streams)
			continue;
		fprintf(out, "  %4s %-40s %16s %16s %9s", "id", "stream", "received", "client sent",
			"Gbit/s");
		if (t->udp)
			fprintf(out, " %10s %10s %9s", "packets", "lost", "jitter ms");
		fprintf(out, "\n");
		for (unsigned k = 0; k < t->n_streams; k++) {
			const struct sink_iperf3_stream *st = &t->streams[k];
			char sent[32] = "-";

			if (st->client_known)
				snprintf(sent, sizeof(sent), "%llu", (unsigned long long)st->client_bytes);
			fprintf(out, "  %4d %-40s %16llu %16s %9.3f", st->id, st->peer,
				(unsigned long long)st->bytes, sent, bps(st->bytes, dur) / 1e9);
			if (t->udp)
				fprintf(out, " %10llu %10llu %9.3f", (unsigned long long)st->packets,
					(unsigned long long)st->lost, st->jitter_s * 1e3);
			fprintf(out, "\n");
		}
	}
}

static void print_latency(FILE *out, const struct sink_result *r)
{
	const struct lat_summary *l = &r->lat;

	fprintf(out, "latency (one-way, us): p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f max %.1f mean "
		"%.1f over %llu datagrams; jitter %.3f ms", l->p50, l->p90, l->p99, l->p99_9, l->max,
		l->mean, (unsigned long long)l->count, r->jitter_s * 1e3);
	if (l->negative)
		fprintf(out, "; %llu arrived before they were sent%s", (unsigned long long)l->negative,
			l->valid ? "" : ": the clocks are not shared, the latency is NOT VALID");
	fprintf(out, "\n");
}

void report_sink_text(FILE *out, const struct report_sink *rep)
{
	const struct sink_result *r = rep->res;
	const struct report_sink_total *t = &rep->t;
	bool tcp = rep->cfg.protocol != IPPROTO_UDP, udp = rep->cfg.protocol != IPPROTO_TCP;

	print_workers(out, rep);
	print_streams(out, rep, false);
	print_streams(out, rep, true);
	print_iperf3_tests(out, rep);
	fprintf(out, "\ntotal: %llu bytes, %.3f Gbit/s over %.2f s active (%.2f s listening)",
		(unsigned long long)t->bytes, t->bps / 1e9, (double)t->active_ns / 1e9,
		(double)t->listen_ns / 1e9);
	if (tcp)
		fprintf(out, ", %llu connection%s, %llu reset", (unsigned long long)t->connections,
			t->connections == 1 ? "" : "s", (unsigned long long)t->resets);
	if (udp)
		fprintf(out, ", %u stream%s, %llu packet%s, %llu lost (%.3f%%), %llu reordered, "
			"%llu duplicates, %llu too late, %llu foreign",
			r->n_streams, r->n_streams == 1 ? "" : "s", (unsigned long long)t->packets,
			t->packets == 1 ? "" : "s", (unsigned long long)t->lost, t->loss_pct,
			(unsigned long long)t->reordered, (unsigned long long)t->duplicates,
			(unsigned long long)t->too_late, (unsigned long long)t->foreign);
	if (r->n_tests || t->iperf3_denied)
		fprintf(out, ", %u iperf3 test%s (%llu refused)", r->n_tests, r->n_tests == 1 ? "" : "s",
			(unsigned long long)t->iperf3_denied);
	fprintf(out, "\n");
	if (t->omitted_bytes) {
		fprintf(out, "warm-up: %llu bytes", (unsigned long long)t->omitted_bytes);
		if (t->omitted_packets)
			fprintf(out, " in %llu datagrams", (unsigned long long)t->omitted_packets);
		fprintf(out, " of the senders' omit, counted in none of the figures above\n");
	}
	if (udp && (r->lat.count || r->lat.negative))
		print_latency(out, r);
	if (rep->cfg.gro)
		fprintf(out, "gro: %llu receives carried more than one datagram\n",
			(unsigned long long)t->gro_receives);
	if (rep->cfg.verify)
		fprintf(out, "verify: %s: %llu corrupt bytes, %llu corrupt datagrams\n",
			t->corrupt_bytes ? "PAYLOAD CORRUPT" : "payload intact",
			(unsigned long long)t->corrupt_bytes, (unsigned long long)t->corrupt_datagrams);
	fflush(out);
}

/* --- JSON --- */

/* The sink's latency keys; the object itself is written by report_latency_json(). */
static void latency_keys(json_t *o, const struct lat_summary *l, double jitter_s)
{
	struct report_latency rl = {
		.present = l->count > 0, .valid = l->valid, .p50 = l->p50, .p90 = l->p90,
		.p99 = l->p99, .p99_9 = l->p99_9, .max = l->max, .mean = l->mean,
		.count = l->count, .negative = l->negative,
	};

	json_object_set_new(o, "jitter_ms", json_real(jitter_s * 1e3));
	json_object_set_new(o, "latency_us", report_latency_json(&rl, false));
	json_object_set_new(o, "latency_negative", json_integer((json_int_t)l->negative));
	json_object_set_new(o, "latency_valid", json_boolean(l->valid));
}

static json_t *stream_json(const struct report_sink_stream *row)
{
	const struct sink_stream_result *s = row->s;
	bool udp = s->protocol == IPPROTO_UDP;
	json_t *js = json_pack("{s:s, s:s, s:s, s:I, s:I, s:f, s:f}",
		"peer", s->peer, "protocol", udp ? "udp" : "tcp",
		"source", s->iperf3_test ? "iperf3" : "plain", "worker", (json_int_t)s->worker,
		"bytes", (json_int_t)s->bytes, "active_s", (double)row->active_ns / 1e9,
		"bits_per_second", row->bps);

	json_object_set_new(js, "omitted_bytes", json_integer((json_int_t)s->omitted_bytes));
	if (udp)
		json_object_set_new(js, "omitted_packets", json_integer((json_int_t)s->seq.omitted));
	if (s->iperf3_test) {
		json_object_set_new(js, "iperf3_test", json_integer(s->iperf3_test));
		json_object_set_new(js, "iperf3_id", json_integer(s->iperf3_id));
	}
	if (udp) {
		json_object_set_new(js, "packets", json_integer((json_int_t)s->seq.packets));
		json_object_set_new(js, "highest_seq", json_integer((json_int_t)s->seq.highest));
		json_object_set_new(js, "lost", json_integer((json_int_t)s->seq.lost));
		json_object_set_new(js, "loss_percent", json_real(row->loss_pct));
		json_object_set_new(js, "reordered", json_integer((json_int_t)s->seq.reordered));
		json_object_set_new(js, "duplicates", json_integer((json_int_t)s->seq.duplicates));
		json_object_set_new(js, "too_late", json_integer((json_int_t)s->seq.too_late));
		latency_keys(js, &s->lat, s->jitter_s);
	} else {
		json_object_set_new(js, "end", json_string(end_name(s->end)));
	}
	if (s->verified) {
		json_object_set_new(js, "corrupt_bytes", json_integer((json_int_t)s->corrupt_bytes));
		if (udp)
			json_object_set_new(js, "corrupt_datagrams",
					    json_integer((json_int_t)s->corrupt_datagrams));
	}
	return js;
}

/* @sink_start_ns: the sink's start (CLOCK_MONOTONIC), for the test's start_s and end_s. */
static json_t *iperf3_test_json(const struct report_sink_test *row, uint64_t sink_start_ns)
{
	const struct sink_iperf3_test *t = row->t;
	json_t *jt, *arr = json_array();

	for (unsigned k = 0; k < t->n_streams; k++) {
		const struct sink_iperf3_stream *st = &t->streams[k];
		json_t *js = json_pack("{s:i, s:s, s:I, s:I, s:f}", "id", st->id, "peer", st->peer,
			"worker", (json_int_t)st->worker, "bytes", (json_int_t)st->bytes,
			"bits_per_second", bps(st->bytes, row->dur_ns));

		if (st->client_known)
			json_object_set_new(js, "client_bytes", json_integer((json_int_t)st->client_bytes));
		if (t->udp) {
			json_object_set_new(js, "packets", json_integer((json_int_t)st->packets));
			json_object_set_new(js, "highest_seq", json_integer((json_int_t)st->highest));
			json_object_set_new(js, "lost", json_integer((json_int_t)st->lost));
			json_object_set_new(js, "jitter_ms", json_real(st->jitter_s * 1e3));
			if (st->client_known)
				json_object_set_new(js, "client_packets",
						    json_integer((json_int_t)st->client_packets));
		}
		json_array_append_new(arr, js);
	}
	jt = json_pack("{s:i, s:s, s:s, s:i, s:i, s:I, s:I, s:s, s:s, s:f, s:I, s:f, s:o}",
		"test", (int)t->n, "peer", t->peer, "protocol", t->udp ? "udp" : "tcp",
		"parallel", (int)t->parallel, "time_s", (int)t->time_s, "len", (json_int_t)t->len,
		"bandwidth", (json_int_t)t->bandwidth, "client_version", t->client_version,
		"result", t->err ? "error" : "ok", "duration_s", (double)row->dur_ns / 1e9,
		"bytes", (json_int_t)row->bytes, "bits_per_second", row->bps, "streams", arr);
	if (t->err)
		json_object_set_new(jt, "error", json_string(t->msg));
	else
		json_object_set_new(jt, "client_bytes", json_integer((json_int_t)row->client_bytes));
	/* When the test ran on the sink's clock: tests of several clients at once overlap. */
	if (t->start_ns >= sink_start_ns)
		json_object_set_new(jt, "start_s", json_real((double)(t->start_ns - sink_start_ns) / 1e9));
	if (t->end_ns >= sink_start_ns && t->end_ns)
		json_object_set_new(jt, "end_s", json_real((double)(t->end_ns - sink_start_ns) / 1e9));
	return jt;
}

/* What the latency figures are, and how far to trust them. */
static const char *clock_note(const struct report_sink_total *t)
{
	if (t->ts_user && t->ts_kernel)
		return "one-way latency: arrival (the kernel's receive timestamp; for some datagrams "
		       "the clock read once per batch) minus the send time in the datagram's header, "
		       "CLOCK_REALTIME, microsecond resolution; valid only when sender and sink "
		       "share a clock (one host, the veth lab, PTP-synchronised hosts)";
	if (t->ts_user)
		return "one-way latency: arrival (CLOCK_REALTIME read once per completion batch: "
		       "no kernel receive timestamps) minus the send time in the datagram's header, "
		       "microsecond resolution; valid only when sender and sink share a clock "
		       "(one host, the veth lab, PTP-synchronised hosts)";
	return "one-way latency: arrival (the kernel's receive timestamp, CLOCK_REALTIME) minus "
	       "the send time in the datagram's header, microsecond resolution; valid only when "
	       "sender and sink share a clock (one host, the veth lab, PTP-synchronised hosts)";
}

json_t *report_sink_interval_json(const struct sink_interval *iv, unsigned nw)
{
	uint64_t len = iv->end_ns - iv->start_ns, sum = 0;
	json_t *ws = json_array();

	for (unsigned k = 0; k < nw; k++) {
		sum += iv->bytes[k];
		json_array_append_new(ws, json_pack("{s:I, s:I, s:f}", "worker", (json_int_t)k,
			"bytes", (json_int_t)iv->bytes[k], "bits_per_second", bps(iv->bytes[k], len)));
	}
	/* start/end too: the names a run's intervals use */
	return json_pack("{s:f, s:f, s:f, s:f, s:I, s:f, s:I, s:o}",
		"start_s", (double)iv->start_ns / 1e9, "end_s", (double)iv->end_ns / 1e9,
		"start", (double)iv->start_ns / 1e9, "end", (double)iv->end_ns / 1e9,
		"bytes", (json_int_t)sum, "bits_per_second", bps(sum, len),
		"omitted_bytes", (json_int_t)iv->omitted, "workers", ws);
}

json_t *report_sink_start_json(const struct sink_cfg *cfg, const char *local, unsigned nw)
{
	return json_pack("{s:i, s:s, s:s, s:i, s:b, s:b}", "schema", 1, "listen", local,
			 "protocol", report_sink_proto_name(cfg->protocol), "workers", (int)nw,
			 "verify", cfg->verify, "gro", cfg->gro);
}

json_t *report_sink_json(const struct report_sink *rep, const char *local,
			 const struct sink_interval *iv, unsigned n_iv)
{
	const struct sink_result *r = rep->res;
	const struct report_sink_total *t = &rep->t;
	json_t *root = json_object(), *arr, *total;

	json_object_set_new(root, "schema", json_integer(1));
	json_object_set_new(root, "listen", json_string(local));
	json_object_set_new(root, "protocol", json_string(report_sink_proto_name(rep->cfg.protocol)));
	json_object_set_new(root, "verify", json_boolean(rep->cfg.verify));
	json_object_set_new(root, "gro", json_boolean(rep->cfg.gro));
	json_object_set_new(root, "tcp_receive",
			    json_string(sink_tcp_discard(&rep->cfg) ? "discard" : "copy"));
	json_object_set_new(root, "clock_note", json_string(clock_note(t)));
	json_object_set_new(root, "duration_s", json_real((double)t->listen_ns / 1e9));

	arr = json_array();
	for (unsigned i = 0; i < r->n_workers; i++) {
		const struct sink_worker_result *w = rep->w[i].w;
		json_t *jw = json_pack("{s:I, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:b}",
			"worker", (json_int_t)w->worker, "cpu", w->cpu,
			"bytes", (json_int_t)w->bytes, "packets", (json_int_t)w->packets,
			"foreign", (json_int_t)w->foreign, "connections", (json_int_t)w->connections,
			"nobufs", (json_int_t)w->nobufs, "iperf3_denied", (json_int_t)w->iperf3_denied,
			"ring_fallback", w->ring_fallback);

		json_object_set_new(jw, "gro_receives", json_integer((json_int_t)w->gro_receives));
		json_object_set_new(jw, "omitted_bytes", json_integer((json_int_t)w->omitted_bytes));
		json_object_set_new(jw, "omitted_packets", json_integer((json_int_t)w->omitted_packets));
		json_object_set_new(jw, "active_s", json_real(rep->w[i].active_ns / 1e9));
		json_object_set_new(jw, "bits_per_second", json_real(rep->w[i].bps));
		if (rep->cfg.verify)
			json_object_set_new(jw, "corrupt_bytes", json_integer((json_int_t)w->corrupt_bytes));
		json_array_append_new(arr, jw);
	}
	json_object_set_new(root, "workers", arr);

	arr = json_array();
	for (unsigned i = 0; i < r->n_streams; i++)
		json_array_append_new(arr, stream_json(&rep->s[i]));
	json_object_set_new(root, "streams", arr);

	arr = json_array();
	for (unsigned i = 0; i < r->n_tests; i++)
		json_array_append_new(arr, iperf3_test_json(&rep->tests[i], r->start_ns));
	json_object_set_new(root, "iperf3_tests", arr);

	arr = json_array();
	for (unsigned i = 0; i < n_iv; i++)
		json_array_append_new(arr, report_sink_interval_json(&iv[i], r->n_workers));
	json_object_set_new(root, "intervals", arr);

	total = json_pack(
		"{s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:I, s:I, s:I}",
		"bytes", (json_int_t)t->bytes, "packets", (json_int_t)t->packets,
		"lost", (json_int_t)t->lost, "loss_percent", t->loss_pct,
		"reordered", (json_int_t)t->reordered, "duplicates", (json_int_t)t->duplicates,
		"too_late", (json_int_t)t->too_late, "foreign", (json_int_t)t->foreign,
		"foreign_bytes", (json_int_t)t->foreign_bytes, "truncated", (json_int_t)t->truncated,
		"active_s", (double)t->active_ns / 1e9, "bits_per_second", t->bps,
		"connections", (json_int_t)t->connections, "resets", (json_int_t)t->resets,
		"streams", (json_int_t)r->n_streams, "iperf3_tests", (json_int_t)r->n_tests,
		"iperf3_denied", (json_int_t)t->iperf3_denied);
	latency_keys(total, &r->lat, r->jitter_s);
	json_object_set_new(total, "gro_receives", json_integer((json_int_t)t->gro_receives));
	json_object_set_new(total, "timestamps_kernel", json_integer((json_int_t)t->ts_kernel));
	json_object_set_new(total, "timestamps_batch", json_integer((json_int_t)t->ts_user));
	json_object_set_new(total, "omitted_bytes", json_integer((json_int_t)t->omitted_bytes));
	json_object_set_new(total, "omitted_packets", json_integer((json_int_t)t->omitted_packets));
	if (rep->cfg.verify) {
		json_object_set_new(total, "corrupt_bytes", json_integer((json_int_t)t->corrupt_bytes));
		json_object_set_new(total, "corrupt_datagrams",
				    json_integer((json_int_t)t->corrupt_datagrams));
	}
	json_object_set_new(root, "total", total);
	return root;
}

/* --- metrics --- */

int report_sink_metrics(const char *path, unsigned nw, const uint64_t *bytes,
			const struct report_sink *rep)
{
	const struct sink_result *r = rep ? rep->res : NULL;
	struct metrics_file m;
	int ret = metrics_begin(&m, path);

	if (ret)
		return ret;
	metrics_family(&m, "sink_bytes_total", "counter",
		       "Payload bytes the sink's worker received (TCP: all bytes).");
	for (unsigned k = 0; k < nw; k++)
		metrics_sample(&m, "sink_bytes_total", "worker", k,
			       (double)(r ? r->workers[k].bytes : bytes[k]));
	if (r) {
		metrics_family(&m, "sink_packets_total", "counter",
			       "UDP: zcgen datagrams the sink's worker received.");
		for (unsigned k = 0; k < nw; k++)
			metrics_sample(&m, "sink_packets_total", "worker", k, (double)r->workers[k].packets);
		metrics_family(&m, "sink_lost_total", "counter",
			       "UDP: datagrams missing from the sequence numbers, every stream.");
		metrics_sample(&m, "sink_lost_total", NULL, 0, (double)rep->t.lost);
		metrics_family(&m, "sink_loss_ratio", "gauge",
			       "UDP: lost over the datagrams expected (highest sequence number), 0 to 1.");
		metrics_sample(&m, "sink_loss_ratio", NULL, 0, rep->t.loss_pct / 100);
	}
	metrics_family(&m, "sink_running", "gauge", "1 while the sink listens, 0 once it has stopped.");
	metrics_sample(&m, "sink_running", NULL, 0, r ? 0 : 1);
	return metrics_commit(&m);
}
