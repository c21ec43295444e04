/* report.c - a run's results as a table, JSON and CSV, all from one set of rows */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include "gen/report.h"
#include "zcgen_version.h"

/* One queue's figures, computed once and printed by every form. */
struct row {
	unsigned queue, cpu, streams, failed;
	uint64_t bytes, sends, notifs, zc_sends, copied, errors, retrans, short_sends, outstanding;
	double bps, sps, copied_pct, ring_share;
};

static double safe_div(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static void make_row(const struct report_ctx *r, unsigned i, struct row *w)
{
	const struct engine_queue_result *q = &r->res->q[i];
	double d = r->res->duration_s;

	memset(w, 0, sizeof(*w));
	w->queue = q->queue;
	w->cpu = q->cpu;
	w->streams = q->streams;
	w->failed = q->streams_failed;
	w->bytes = q->bytes;
	w->sends = q->sends;
	w->notifs = q->notifs;
	w->zc_sends = q->zc_sends;
	w->copied = q->zc_copied;
	w->errors = q->errors;
	w->retrans = q->retransmits;
	w->short_sends = q->short_sends;
	w->outstanding = q->outstanding;
	w->bps = safe_div(q->bytes * 8.0, d);
	w->sps = safe_div((double)q->sends, d);
	w->copied_pct = safe_div(100.0 * q->zc_copied, (double)q->notifs);
}

static void make_total(const struct report_ctx *r, struct row *rows, struct row *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < r->res->nq; i++) {
		t->streams += rows[i].streams;
		t->failed += rows[i].failed;
		t->bytes += rows[i].bytes;
		t->sends += rows[i].sends;
		t->notifs += rows[i].notifs;
		t->zc_sends += rows[i].zc_sends;
		t->copied += rows[i].copied;
		t->errors += rows[i].errors;
		t->retrans += rows[i].retrans;
		t->short_sends += rows[i].short_sends;
		t->outstanding += rows[i].outstanding;
	}
	for (unsigned i = 0; i < r->res->nq; i++)
		rows[i].ring_share = safe_div((double)rows[i].bytes, (double)t->bytes);
	t->bps = safe_div(t->bytes * 8.0, r->res->duration_s);
	t->sps = safe_div((double)t->sends, r->res->duration_s);
	t->copied_pct = safe_div(100.0 * t->copied, (double)t->notifs);
}

static struct row *make_rows(const struct report_ctx *r, struct row *total)
{
	struct row *rows = calloc(r->res->nq ? r->res->nq : 1, sizeof(*rows));

	if (!rows)
		return NULL;
	for (unsigned i = 0; i < r->res->nq; i++)
		make_row(r, i, &rows[i]);
	make_total(r, rows, total);
	return rows;
}

const char *report_errno_name(int err, char *buf, size_t len)
{
	const char *n = strerrorname_np(err);

	if (n)
		return n;
	snprintf(buf, len, "%d", err);
	return buf;
}

void report_plan(FILE *out, const struct engine_plan *plan)
{
	const struct gen_profile *p = &plan->prof;
	char b1[32], b2[32];

	fprintf(out, "profile:   %s%s%s\n", p->name, p->path[0] ? " from " : "", p->path);
	fprintf(out, "target:    %s %s (server: %s)\n", gen_proto_name(p->proto), plan->dest_str,
		gen_server_name(p->server));
	fprintf(out, "mode:      %s (%s)\n", gen_mode_name(plan->mode), plan->mode_reason);
	fprintf(out, "message:   %llu B per send, depth %u per stream%s\n",
		(unsigned long long)plan->msg_size, plan->depth,
		p->proto == GEN_PROTO_UDP && plan->path_mtu ? "" : "");
	if (p->proto == GEN_PROTO_UDP)
		fprintf(out, "datagram:  %llu B payload incl. %u B zcgen header; path MTU %llu\n",
			(unsigned long long)plan->msg_size, GEN_UDP_HDR_LEN,
			(unsigned long long)plan->path_mtu);
	fprintf(out, "buffers:   %u slot%s of %s per ring, %s registered per ring\n", plan->slots,
		plan->slots == 1 ? " (shared by every send: TCP content never changes)" : "s",
		units_fmt_size(plan->slot_size, b1, sizeof(b1)),
		units_fmt_size(plan->ring_buf_bytes, b2, sizeof(b2)));
	fprintf(out, "time:      %.3f s measured after %.3f s warm-up, interval %.3f s\n",
		p->duration_ns / 1e9, p->omit_ns / 1e9, p->interval_ns / 1e9);
	fprintf(out, "queues:    %u%s\n", plan->nq,
		plan->cpus_wrapped ? " (more queues than CPUs: CPUs are shared)" : "");
	for (unsigned i = 0; i < plan->nq; i++)
		fprintf(out, "  queue %u: cpu %u, %u stream%s, ring of %u SQEs\n", plan->q[i].queue,
			plan->q[i].cpu, plan->q[i].streams, plan->q[i].streams == 1 ? "" : "s",
			plan->sq_entries);
}

void report_interval(FILE *out, const struct engine_plan *plan, const struct engine_interval *iv)
{
	double d = iv->end_s - iv->start_s;
	uint64_t tot = 0;

	for (unsigned i = 0; i < plan->nq; i++)
		tot += iv->bytes[i];
	fprintf(out, "[%6.2f-%6.2f s] %9.3f Gbit/s |", iv->start_s, iv->end_s,
		safe_div(tot * 8.0, d) / 1e9);
	for (unsigned i = 0; i < plan->nq && i < 16; i++)
		fprintf(out, " q%u %.2f", plan->q[i].queue, safe_div(iv->bytes[i] * 8.0, d) / 1e9);
	if (plan->nq > 16)
		fprintf(out, " ...");
	fputc('\n', out);
	fflush(out);
}

void report_table(FILE *out, const struct report_ctx *r)
{
	struct row t, *rows = make_rows(r, &t);
	const char *b = r->colour ? "\033[1m" : "", *n = r->colour ? "\033[0m" : "";
	bool nic = r->nic != NULL;

	if (!rows)
		return;
	fprintf(out, "%s%5s %4s %7s %10s %11s %10s %7s %7s %8s", b, "queue", "cpu", "streams",
		"Gbit/s", "sends/s", "zc-notifs", "copied", "errors", "retrans");
	if (nic)
		fprintf(out, " %12s %10s %7s %7s", "nic-tx-bytes", "nic-pkts", "nic%", "ring%");
	fprintf(out, "%s\n", n);
	for (unsigned i = 0; i < r->res->nq; i++) {
		struct row *w = &rows[i];

		fprintf(out, "%5u %4u %7u %10.3f %11.0f %10llu %6.1f%% %7llu %8llu", w->queue, w->cpu,
			w->streams, w->bps / 1e9, w->sps, (unsigned long long)w->notifs, w->copied_pct,
			(unsigned long long)w->errors, (unsigned long long)w->retrans);
		if (nic && r->nic[i].valid)
			fprintf(out, " %12llu %10llu %6.1f%% %6.1f%%",
				(unsigned long long)r->nic[i].tx_bytes,
				(unsigned long long)r->nic[i].tx_packets, 100 * r->nic[i].share,
				100 * w->ring_share);
		fputc('\n', out);
	}
	fprintf(out, "%s%5s %4s %7u %10.3f %11.0f %10llu %6.1f%% %7llu %8llu%s\n", b, "total", "",
		t.streams, t.bps / 1e9, t.sps, (unsigned long long)t.notifs, t.copied_pct,
		(unsigned long long)t.errors, (unsigned long long)t.retrans, n);
	fprintf(out, "%llu bytes in %.3f s (%s, %llu B sends)", (unsigned long long)t.bytes,
		r->res->duration_s, gen_mode_name(r->plan->mode),
		(unsigned long long)r->plan->msg_size);
	if (r->res->omitted_s > 0)
		fprintf(out, ", first %.3f s omitted", r->res->omitted_s);
	fputc('\n', out);
	if (t.zc_sends)
		fprintf(out, "zero-copy: %llu of %llu notifications say the kernel copied (%.1f%%)%s\n",
			(unsigned long long)t.copied, (unsigned long long)t.notifs, t.copied_pct,
			t.copied_pct > 99.9 ? ": expected when the receiver is on this host" : "");
	if (r->cpu)
		fprintf(out, "cpu: system busy %.2f CPU-s (softirq %.2f) of %.2f, zcgen %.2f user + %.2f "
			"system; %.3f CPU-s per GB sent\n", r->cpu->sys_busy_s, r->cpu->sys_softirq_s,
			r->cpu->sys_total_s, r->cpu->proc_user_s, r->cpu->proc_system_s,
			r->cpu->cpu_seconds_per_gb);
	if (r->steering >= 0)
		fprintf(out, "steering: %.3f (1.0: the NIC's per-queue split matches the rings')\n",
			r->steering);
	if (r->nic_note && r->nic_note[0])
		fprintf(out, "nic: %s\n", r->nic_note);
	if (t.failed)
		fprintf(out, "streams failed: %u of %u\n", t.failed, t.streams);
	if (t.outstanding)
		fprintf(out, "outstanding at close: %llu sends or notifications (receiver stalled; "
			"connections reset)\n", (unsigned long long)t.outstanding);
	if (t.short_sends)
		fprintf(out, "short sends: %llu\n", (unsigned long long)t.short_sends);
	for (unsigned i = 0; i < r->res->nq; i++) {
		const struct engine_queue_result *q = &r->res->q[i];

		if (q->first_error[0])
			fprintf(out, "queue %u: %s\n", q->queue, q->first_error);
		if (q->slot_violations)
			fprintf(out, "queue %u: %llu completions did not match their slot's state "
				"(a zcgen bug: please report)\n", q->queue,
				(unsigned long long)q->slot_violations);
	}
	if (r->res->ring_note[0])
		fprintf(out, "note: %s\n", r->res->ring_note);
	if (r->res->interrupted)
		fprintf(out, "interrupted: the report covers the time until the signal\n");
	free(rows);
}

static char *read_cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(buf, len, "unknown");
	if (!f)
		return buf;
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && c) {
			c += 2;
			c[strcspn(c, "\n")] = '\0';
			snprintf(buf, len, "%s", c);
			break;
		}
	}
	fclose(f);
	return buf;
}

json_t *report_profile_json(const struct gen_profile *p)
{
	char cpus[4096];
	json_t *nic = json_null(), *o;

	if (p->nic.present) {
		json_t *ch = json_object(), *off = json_object();

		if (p->nic.combined >= 0)
			json_object_set_new(ch, "combined", json_integer(p->nic.combined));
		if (p->nic.rx >= 0)
			json_object_set_new(ch, "rx", json_integer(p->nic.rx));
		if (p->nic.tx >= 0)
			json_object_set_new(ch, "tx", json_integer(p->nic.tx));
		for (unsigned i = 0; i < p->nic.n_offloads; i++)
			json_object_set_new(off, p->nic.offloads[i].name,
					    json_string(p->nic.offloads[i].on ? "on" : "off"));
		nic = json_pack("{s:s, s:o, s:o, s:s, s:s}", "interface", p->nic.interface,
				"channels", ch, "offloads", off, "irq_affinity",
				p->nic.irq_affinity_auto ? "auto" : "none", "xps",
				p->nic.xps_auto ? "auto" : "none");
	}
	units_fmt_cpulist(p->cpus, p->n_cpus, cpus, sizeof(cpus));
	o = json_pack("{s:s, s:{s:s, s:i, s:s}, s:s, s:i, s:s?, s:i, s:I, s:s, s:i, s:f, s:f, s:f, s:o}",
		      "name", p->name, "target", "host", p->host, "port", (int)p->port, "server",
		      gen_server_name(p->server), "protocol", gen_proto_name(p->proto), "queues",
		      (int)p->queues, "cpus", p->n_cpus ? cpus : NULL, "streams", (int)p->streams,
		      "size", (json_int_t)p->size, "mode", gen_mode_name(p->mode), "depth",
		      (int)p->depth, "duration_s", p->duration_ns / 1e9, "omit_s", p->omit_ns / 1e9,
		      "interval_s", p->interval_ns / 1e9, "nic", nic);
	return o;
}

static json_t *errno_json(const struct engine_queue_result *q)
{
	json_t *o = json_object();
	char b[16];

	for (unsigned k = 0; k < 8; k++)
		if (q->err_count[k])
			json_object_set_new(o, report_errno_name(q->err_errno[k], b, sizeof(b)),
					    json_integer(q->err_count[k]));
	return o;
}

json_t *report_json(const struct report_ctx *r)
{
	const struct engine_plan *plan = r->plan;
	struct row t, *rows = make_rows(r, &t);
	json_t *root, *queues, *ivs, *env;
	struct utsname u;
	char cpu[256];

	if (!rows)
		return NULL;
	uname(&u);
	env = json_pack("{s:s, s:s, s:s, s:s, s:o}", "zcgen", ZCGEN_VERSION, "kernel", u.release,
			"liburing", ZCGEN_LIBURING_VERSION, "cpu_model",
			read_cpu_model(cpu, sizeof(cpu)), "profile", report_profile_json(&plan->prof));
	if (r->res->ring_note[0])
		json_object_set_new(env, "ring_note", json_string(r->res->ring_note));

	queues = json_array();
	for (unsigned i = 0; i < r->res->nq; i++) {
		const struct engine_queue_result *q = &r->res->q[i];
		struct row *w = &rows[i];
		json_t *qo = json_pack(
			"{s:i, s:i, s:i, s:i, s:I, s:I, s:f, s:f, s:I, s:I, s:I, s:f, s:I, s:I, s:o, s:I, s:I, s:f, s:b}",
			"queue", (int)w->queue, "cpu", (int)w->cpu, "streams", (int)w->streams,
			"streams_failed", (int)w->failed, "bytes", (json_int_t)w->bytes, "sends",
			(json_int_t)w->sends, "bits_per_second", w->bps, "sends_per_second", w->sps,
			"zc_sends", (json_int_t)w->zc_sends, "zc_notifications", (json_int_t)w->notifs,
			"zc_copied", (json_int_t)w->copied, "zc_copied_percent", w->copied_pct,
			"errors", (json_int_t)w->errors, "short_sends", (json_int_t)w->short_sends,
			"errors_by_errno", errno_json(q), "retransmits", (json_int_t)w->retrans,
			"outstanding_at_close", (json_int_t)w->outstanding, "share", w->ring_share,
			"lingered", q->lingered);

		if (q->first_error[0])
			json_object_set_new(qo, "error", json_string(q->first_error));
		if (r->nic && r->nic[i].valid)
			json_object_set_new(qo, "nic",
					    json_pack("{s:I, s:I, s:f, s:s}", "tx_bytes",
						      (json_int_t)r->nic[i].tx_bytes, "tx_packets",
						      (json_int_t)r->nic[i].tx_packets, "share",
						      r->nic[i].share, "source", r->nic[i].source));
		json_array_append_new(queues, qo);
	}

	ivs = json_array();
	for (unsigned k = 0; k < r->res->nint; k++) {
		const struct engine_interval *iv = &r->res->iv[k];
		double d = iv->end_s - iv->start_s;
		json_t *qa = json_array();
		uint64_t tot = 0;

		for (unsigned i = 0; i < r->res->nq; i++) {
			tot += iv->bytes[i];
			json_array_append_new(qa, json_pack("{s:i, s:I, s:I, s:f}", "queue",
							    (int)plan->q[i].queue, "bytes",
							    (json_int_t)iv->bytes[i], "sends",
							    (json_int_t)iv->sends[i], "bits_per_second",
							    safe_div(iv->bytes[i] * 8.0, d)));
		}
		json_array_append_new(ivs, json_pack("{s:f, s:f, s:I, s:f, s:o}", "start", iv->start_s,
						     "end", iv->end_s, "bytes", (json_int_t)tot,
						     "bits_per_second", safe_div(tot * 8.0, d),
						     "queues", qa));
	}

	root = json_pack(
		"{s:i, s:o, s:{s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:i, s:I, s:I}, s:o, s:o, "
		"s:{s:I, s:f, s:I, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:i, s:i, s:b}}",
		"schema", 1, "environment", env, "plan", "dest", plan->dest_str, "protocol",
		gen_proto_name(plan->prof.proto), "mode", gen_mode_name(plan->mode), "mode_reason",
		plan->mode_reason, "message_size", (json_int_t)plan->msg_size, "path_mtu",
		(json_int_t)plan->path_mtu, "depth", (int)plan->depth, "slots", (int)plan->slots,
		"slot_size", (json_int_t)plan->slot_size, "ring_buffer_bytes",
		(json_int_t)plan->ring_buf_bytes, "queues", queues, "intervals", ivs, "total", "bytes",
		(json_int_t)t.bytes, "bits_per_second", t.bps, "sends", (json_int_t)t.sends,
		"sends_per_second", t.sps, "duration_s", r->res->duration_s, "omitted_s",
		r->res->omitted_s, "zc_sends", (json_int_t)t.zc_sends, "zc_notifications",
		(json_int_t)t.notifs, "zc_copied", (json_int_t)t.copied, "errors", (json_int_t)t.errors,
		"retransmits", (json_int_t)t.retrans, "streams", (int)t.streams, "streams_failed",
		(int)t.failed, "interrupted", r->res->interrupted);
	if (root && r->cpu)
		json_object_set_new(json_object_get(root, "total"), "cpu",
				    json_pack("{s:f, s:f, s:f, s:f, s:f, s:f}", "wall_s", r->cpu->wall_s,
					      "system_busy_s", r->cpu->sys_busy_s, "system_total_s",
					      r->cpu->sys_total_s, "system_softirq_s",
					      r->cpu->sys_softirq_s, "process_user_s",
					      r->cpu->proc_user_s, "process_system_s",
					      r->cpu->proc_system_s));
	if (root && r->cpu)
		json_object_set_new(json_object_get(root, "total"), "cpu_seconds_per_gb",
				    json_real(r->cpu->cpu_seconds_per_gb));
	if (root && r->steering >= 0)
		json_object_set_new(json_object_get(root, "total"), "steering", json_real(r->steering));
	if (root && r->nic_note && r->nic_note[0])
		json_object_set_new(root, "nic_note", json_string(r->nic_note));
	free(rows);
	return root;
}

void report_csv(FILE *out, const struct report_ctx *r)
{
	fprintf(out, "interval_start_s,interval_end_s,queue,cpu,bytes,sends,bits_per_second\n");
	for (unsigned k = 0; k < r->res->nint; k++) {
		const struct engine_interval *iv = &r->res->iv[k];
		double d = iv->end_s - iv->start_s;

		for (unsigned i = 0; i < r->res->nq; i++)
			fprintf(out, "%.6f,%.6f,%u,%u,%llu,%llu,%.0f\n", iv->start_s, iv->end_s,
				r->plan->q[i].queue, r->plan->q[i].cpu,
				(unsigned long long)iv->bytes[i], (unsigned long long)iv->sends[i],
				safe_div(iv->bytes[i] * 8.0, d));
	}
}
