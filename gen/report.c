/* report.c - a run's results as a table, JSON and CSV, all from one set of rows */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include "gen/report.h"
#include "gen/hugebuf.h"
#include "zcgen_version.h"

/* One queue's figures, computed once and printed by every form. */
struct row {
	unsigned queue, cpu, streams, failed;
	uint64_t bytes, sends, notifs, zc_sends, copied, errors, retrans, short_sends, outstanding;
	double bps, sps, copied_pct, ring_share;
	double cpu_s;            /* the worker thread's CPU over the measured part */
	uint64_t rx_bytes;       /* what the receiver counted of this queue's streams */
	double rx_bps;
	uint64_t datagrams;      /* UDP: sends x gso */
	double target, achieved; /* paced: in the rate's unit (bits at the layer, or packets) */
	double forfeited;        /* paced: the schedule's credit given up (engine.h), the same unit */
	bool missed;
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
	w->cpu_s = q->cpu_s;
	w->datagrams = q->datagrams;
	w->target = q->rate_target;
	w->achieved = q->rate_achieved;
	w->forfeited = q->rate_forfeited;
	w->missed = q->rate_missed;
	for (unsigned k = 0; r->receiver && k < r->receiver->n; k++)
		if (r->receiver->streams[k].queue == q->queue)
			w->rx_bytes += r->receiver->streams[k].bytes;
	w->rx_bps = safe_div(w->rx_bytes * 8.0, d);
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
		t->cpu_s += rows[i].cpu_s;
		t->datagrams += rows[i].datagrams;
		t->target += rows[i].target;
		t->achieved += rows[i].achieved;
		t->forfeited += rows[i].forfeited;
		t->missed |= rows[i].missed;
	}
	for (unsigned i = 0; i < r->res->nq; i++)
		rows[i].ring_share = safe_div((double)rows[i].bytes, (double)t->bytes);
	t->bps = safe_div(t->bytes * 8.0, r->res->duration_s);
	t->sps = safe_div((double)t->sends, r->res->duration_s);
	t->copied_pct = safe_div(100.0 * t->copied, (double)t->notifs);
	if (r->receiver) {
		t->rx_bytes = r->receiver->bytes;
		t->rx_bps = safe_div(t->rx_bytes * 8.0, r->res->duration_s);
	}
}

/* A rate with an SI prefix: "500.00M" (bit/s) or "100.00kpps". */
static const char *fmt_rate(double v, bool pps, char *buf, size_t len)
{
	static const char pre[] = " kMGTP";
	unsigned i = 0;

	while (v >= 1000 && i + 1 < sizeof(pre) - 1) {
		v /= 1000;
		i++;
	}
	snprintf(buf, len, "%.2f%.*s%s", v, pre[i] != ' ', &pre[i], pps ? "pps" : "");
	return buf;
}

/* Paced runs: target and achieved in total, and every queue that missed its rate. */
static void print_rate(FILE *out, const struct report_ctx *r, const struct row *rows,
		       const struct row *t)
{
	const struct engine_plan *plan = r->plan;
	bool pps = plan->rate_pps;
	char a[32], b[32];

	fprintf(out, "rate: target %s, achieved %s (%.2f%%), counted as %s, charged when "
		"submitted\n", fmt_rate(t->target, pps, a, sizeof(a)),
		fmt_rate(t->achieved, pps, b, sizeof(b)), safe_div(100.0 * t->achieved, t->target),
		pps ? "packets (datagrams)" : gen_rate_layer_name(plan->prof.rate.layer));
	if (t->forfeited > 0)
		fprintf(out, "rate: %s of the schedule (%.2f%%) forfeited: a ring woke more than "
			"%llu ms late (a busy CPU) and did not send what was due in a rush "
			"afterwards\n", fmt_rate(t->forfeited, pps, a, sizeof(a)),
			safe_div(100.0 * t->forfeited, t->target), ENGINE_PACE_BUCKET_MS);
	for (unsigned i = 0; i < r->res->nq; i++)
		if (rows[i].missed)
			fprintf(out, "rate missed: queue %u reached %s of its %s: %s (reported as "
				"measured, not rounded up)\n", rows[i].queue,
				fmt_rate(rows[i].achieved, pps, a, sizeof(a)),
				fmt_rate(rows[i].target, pps, b, sizeof(b)),
				r->res->end == ENGINE_END_STALLED ? "the path stalled" :
				r->res->end == ENGINE_END_ERROR ? "the run ended on an error" :
				"the machine could not keep up");
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

void report_nic_section(FILE *out, const struct gen_nic_cfg *nic)
{
	fprintf(out, "nic:       %s:", nic->interface);
	if (nic->combined >= 0)
		fprintf(out, " channels combined %d,", nic->combined);
	if (nic->rx >= 0 || nic->tx >= 0)
		fprintf(out, " channels rx %d tx %d,", nic->rx, nic->tx);
	if (nic->mtu)
		fprintf(out, " mtu %u,", nic->mtu);
	for (unsigned i = 0; i < nic->n_offloads; i++)
		fprintf(out, " %s %s,", nic->offloads[i].name, nic->offloads[i].on ? "on" : "off");
	fprintf(out, " irq_affinity %s, xps %s (as written; not checked against the device)\n",
		nic->irq_affinity_auto ? "auto" : "none", nic->xps_auto ? "auto" : "none");
}

void report_plan(FILE *out, const struct engine_plan *plan)
{
	const struct gen_profile *p = &plan->prof;
	char b1[160], b2[32];

	fprintf(out, "profile:   %s%s%s\n", p->name, p->path[0] ? " from " : "", p->path);
	fprintf(out, "target:    %s %s (server: %s)\n", gen_proto_name(p->proto), plan->dest_str,
		gen_server_name(p->server));
	fprintf(out, "mode:      %s (%s)\n", gen_mode_name(plan->mode), plan->mode_reason);
	fprintf(out, "message:   %llu B per send, depth %u per stream", (unsigned long long)plan->msg_size,
		plan->depth);
	if (plan->depth_copy != plan->depth)
		fprintf(out, " (%u if auto switches to copy)", plan->depth_copy);
	fputc('\n', out);
	if (p->proto == GEN_PROTO_UDP)
		fprintf(out, "datagram:  %llu B payload incl. %u B zcgen header; path MTU %llu\n",
			(unsigned long long)plan->msg_size, GEN_UDP_HDR_LEN,
			(unsigned long long)plan->path_mtu);
	if (p->proto == GEN_PROTO_UDP && plan->size_note[0] && !p->n_sizes)
		fprintf(out, "size:      %s\n", plan->size_note);
	fprintf(out, "buffers:   %u slot%s of %s per ring, %s registered per ring\n", plan->slots,
		plan->slots == 1 ? " (shared by every send: TCP content never changes)" : "s",
		units_fmt_size(plan->slot_size, b1, sizeof(b1)),
		units_fmt_size(plan->ring_buf_bytes, b2, sizeof(b2)));
	fprintf(out, "time:      %.3f s measured after %.3f s warm-up, interval %.3f s\n",
		p->duration_ns / 1e9, p->omit_ns / 1e9, p->interval_ns / 1e9);
	if (p->stall_timeout_ns)
		fprintf(out, "stall:     no progress for %.3f s ends the run (exit 1)\n",
			p->stall_timeout_ns / 1e9);
	else
		fprintf(out, "stall:     not watched (stall_timeout 0)\n");
	fprintf(out, "queues:    %u%s\n", plan->nq,
		plan->cpus_wrapped ? " (more queues than CPUs: CPUs are shared)" : "");
	for (unsigned i = 0; i < plan->nq; i++)
		fprintf(out, "  queue %u: cpu %u, %u stream%s, ring of %u SQEs\n", plan->q[i].queue,
			plan->q[i].cpu, plan->q[i].streams, plan->q[i].streams == 1 ? "" : "s",
			plan->sq_entries);
	sockopts_print(out, &plan->so, plan->nq);
	hugebuf_describe_plan(p->hugepages, b1, sizeof(b1));
	fprintf(out, "hugepages: %s\n", b1);
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

/* The receiver's counts in one line, beside zcgen's total. */
const char *report_mode_used(const struct engine_plan *plan, const struct engine_result *res)
{
	unsigned n = 0;

	for (unsigned i = 0; plan->auto_adapt && i < res->nq; i++)
		n += res->q[i].auto_switched;
	if (!n)
		return gen_mode_name(plan->mode);
	return n == res->nq ? gen_mode_name(GEN_MODE_COPY) : "mixed";
}

/* Mode auto: which rings went from zero-copy to copy, and why. */
static void print_auto(FILE *out, const struct report_ctx *r)
{
	unsigned n = 0;
	double pct = 0;
	uint64_t after = 0;

	for (unsigned i = 0; r->plan->auto_adapt && i < r->res->nq; i++) {
		const struct engine_queue_result *q = &r->res->q[i];

		if (!q->auto_switched)
			continue;
		n++;
		pct += q->auto_copied_pct;
		after += q->auto_switch_sends;
	}
	if (!n)
		return;
	fprintf(out, "auto: %u of %u rings switched from %s to copy after about %llu sends: the kernel "
		"copied %.1f%% of their first %u zero-copy sends (the receiver is on this host, or the "
		"device cannot send from our pages), so copying once ourselves is cheaper\n",
		n, r->res->nq, gen_mode_name(r->plan->mode), (unsigned long long)(after / n), pct / n,
		ENGINE_AUTO_ADAPT_NOTIFS);
}

static void print_receiver(FILE *out, const struct report_receiver *v, const struct row *t)
{
	fprintf(out, "receiver (%s): %llu bytes, %.3f Gbit/s received, %.2f%% of the bytes sent",
		v->source, (unsigned long long)v->bytes, t->rx_bps / 1e9,
		safe_div(100.0 * v->bytes, (double)t->bytes));
	if (v->udp)
		fprintf(out, "; %llu datagrams, %llu lost (%.2f%%), jitter %.3f ms",
			(unsigned long long)v->packets, (unsigned long long)v->lost,
			safe_div(100.0 * v->lost, (double)(v->packets + v->lost)), v->jitter_ms);
	if (v->tail_lost)
		fprintf(out, "; %llu more sent after the last one it saw (lost at the end: not in "
			"its count)", (unsigned long long)v->tail_lost);
	if (v->x.extra)
		fprintf(out, "; %llu reordered, %llu duplicates", (unsigned long long)v->x.reordered,
			(unsigned long long)v->x.duplicates);
	if (v->x.extra && v->x.verified)
		fprintf(out, "; %llu corrupt bytes in %llu datagrams",
			(unsigned long long)v->x.corrupt_bytes,
			(unsigned long long)v->x.corrupt_datagrams);
	if (v->x.lat.present)
		fprintf(out, "; latency p50 %.1f p99 %.1f max %.1f us%s", v->x.lat.p50, v->x.lat.p99,
			v->x.lat.max, v->x.lat.valid ? "" :
			" (NOT VALID: datagrams arrived before they were sent; the clocks differ)");
	fputc('\n', out);
}

/* A wait this long with every UDP slot held by the kernel is not back-pressure but a stall. */
#define REPORT_DRY_NOTE_S 0.5

void report_table(FILE *out, const struct report_ctx *r)
{
	struct row t, *rows = make_rows(r, &t);
	const char *b = r->colour ? "\033[1m" : "", *n = r->colour ? "\033[0m" : "";
	bool nic = r->nic != NULL, rx = r->receiver != NULL;
	bool paced = r->plan->paced, pps = r->plan->rate_pps;
	char ra[32], rb[32];

	if (!rows)
		return;
	fprintf(out, "%s%5s %4s %7s %10s %11s %10s %7s %7s %8s %6s", b, "queue", "cpu", "streams",
		"Gbit/s", "sends/s", "zc-notifs", "copied", "errors", "retrans", "cpu-s");
	if (rx)
		fprintf(out, " %10s", "rx-Gbit/s");
	if (paced)
		fprintf(out, " %12s %12s", "target", "achieved");
	if (nic)
		fprintf(out, " %12s %10s %7s %7s", "nic-tx-bytes", "nic-pkts", "nic%", "ring%");
	fprintf(out, "%s\n", n);
	for (unsigned i = 0; i < r->res->nq; i++) {
		struct row *w = &rows[i];

		fprintf(out, "%5u %4u %7u %10.3f %11.0f %10llu %6.1f%% %7llu %8llu %6.2f", w->queue,
			w->cpu, w->streams, w->bps / 1e9, w->sps, (unsigned long long)w->notifs,
			w->copied_pct, (unsigned long long)w->errors, (unsigned long long)w->retrans,
			w->cpu_s);
		if (rx)
			fprintf(out, " %10.3f", w->rx_bps / 1e9);
		if (paced)
			fprintf(out, " %12s %11s%c", fmt_rate(w->target, pps, ra, sizeof(ra)),
				fmt_rate(w->achieved, pps, rb, sizeof(rb)), w->missed ? '!' : ' ');
		if (nic && r->nic[i].valid && r->nic[i].no_bytes)
			fprintf(out, " %12s %10llu %6.1f%% %6.1f%%", "-",
				(unsigned long long)r->nic[i].tx_packets, 100 * r->nic[i].share,
				100 * w->ring_share);
		else if (nic && r->nic[i].valid)
			fprintf(out, " %12llu %10llu %6.1f%% %6.1f%%",
				(unsigned long long)r->nic[i].tx_bytes,
				(unsigned long long)r->nic[i].tx_packets, 100 * r->nic[i].share,
				100 * w->ring_share);
		fputc('\n', out);
	}
	fprintf(out, "%s%5s %4s %7u %10.3f %11.0f %10llu %6.1f%% %7llu %8llu %6.2f", b, "total", "",
		t.streams, t.bps / 1e9, t.sps, (unsigned long long)t.notifs, t.copied_pct,
		(unsigned long long)t.errors, (unsigned long long)t.retrans, t.cpu_s);
	if (rx)
		fprintf(out, " %10.3f", t.rx_bps / 1e9);
	if (paced)
		fprintf(out, " %12s %11s%c", fmt_rate(t.target, pps, ra, sizeof(ra)),
			fmt_rate(t.achieved, pps, rb, sizeof(rb)), t.missed ? '!' : ' ');
	fprintf(out, "%s\n", n);
	/* the mode that ran: auto's rings may all have switched to copy */
	fprintf(out, "%llu bytes in %.3f s (%s, %llu B sends)", (unsigned long long)t.bytes,
		r->res->duration_s, report_mode_used(r->plan, r->res),
		(unsigned long long)r->plan->msg_size);
	if (r->res->omitted_s > 0)
		fprintf(out, ", first %.3f s omitted", r->res->omitted_s);
	fputc('\n', out);
	if (r->plan->prof.proto == GEN_PROTO_UDP)
		fprintf(out, "udp: %llu datagrams in %llu sends (%u per send%s), %.0f datagrams/s\n",
			(unsigned long long)t.datagrams, (unsigned long long)t.sends, r->plan->gso,
			r->plan->gso > 1 ? ": UDP GSO" : "", safe_div((double)t.datagrams,
								      r->res->duration_s));
	if (paced)
		print_rate(out, r, rows, &t);
	if (rx)
		print_receiver(out, r->receiver, &t);
	if (t.zc_sends)
		fprintf(out, "zero-copy: %llu of %llu notifications say the kernel copied (%.1f%%)%s\n",
			(unsigned long long)t.copied, (unsigned long long)t.notifs, t.copied_pct,
			t.copied_pct > 99.9 ? ": expected when the receiver is on this host" : "");
	print_auto(out, r);
	if (r->cpu)
		fprintf(out, "cpu: system busy %.2f CPU-s (softirq %.2f) of %.2f, zcgen %.2f user + %.2f "
			"system; %.3f CPU-s per GB sent; the workers %.2f CPU-s while measuring "
			"(cpu-s)\n", r->cpu->sys_busy_s, r->cpu->sys_softirq_s, r->cpu->sys_total_s,
			r->cpu->proc_user_s, r->cpu->proc_system_s, r->cpu->cpu_seconds_per_gb, t.cpu_s);
	if (r->steering >= 0)
		fprintf(out, "steering: %.3f (1.0: the NIC's per-queue split matches the rings')\n",
			r->steering);
	if (r->nic_note && r->nic_note[0])
		fprintf(out, "nic: %s\n", r->nic_note);
	if (r->nic && r->res->nq && r->nic[0].valid && r->nic[0].no_bytes)
		fprintf(out, "nic: %s: nic-pkts are the packets each queue's qdisc dropped (one per "
			"send, a GSO send once); it counts no bytes\n", r->nic[0].source);
	if (r->lab && !strcmp(r->lab, "drop"))
		fprintf(out, "drop lab: every packet was dropped at the sending veth's qdisc, before "
			"segmentation and the wire: these figures are the sender's ceiling, not a "
			"path's rate\n");
	if (r->server_note && r->server_note[0])
		fprintf(out, "server: %s\n", r->server_note);
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
		if (q->slots_dry_max_s >= REPORT_DRY_NOTE_S)
			fprintf(out, "queue %u: every buffer slot waited %.1f s for its zero-copy "
				"notification, so nothing was sent meanwhile: the kernel held the "
				"datagrams (a next hop whose address does not resolve keeps them in its "
				"neighbour queue until it fails: see `ip neigh`)\n", q->queue,
				q->slots_dry_max_s);
	}
	if (r->res->ring_note[0])
		fprintf(out, "note: %s\n", r->res->ring_note);
	{
		char hb[200];
		unsigned nh = 0;

		for (unsigned i = 0; i < r->res->nq; i++)
			nh += r->res->q[i].buf_huge;
		hugebuf_describe_result(r->plan->prof.hugepages, nh, r->res->nq, hb, sizeof(hb));
		fprintf(out, "buffers: %s\n", hb);
	}
	if (r->res->interrupted)
		fprintf(out, "interrupted: the report covers the time until the signal\n");
	if (r->res->end != ENGINE_END_DURATION)
		fprintf(out, "%send: %s%s%s%s\n", b, engine_end_name(r->res->end), n,
			r->res->end_msg[0] ? ": " : "", r->res->end_msg);
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

/* A rate as the profile loader reads it back: "line", "500000000" (bit/s) or "3000000pps". */
static json_t *rate_str(double v, bool pps, bool line)
{
	char b[48];

	if (line)
		return json_string("line");
	snprintf(b, sizeof(b), "%.17g%s", v, pps && v > 0 ? "pps" : "");
	return json_string(b);
}

static json_t *ports_str(uint16_t lo, uint16_t hi)
{
	char b[16];

	snprintf(b, sizeof(b), "%u-%u", lo, hi);
	return json_string(b);
}

/*
 * The keys beyond the basics, each only when the profile set it, written as
 * the loader reads them back (docs/profiles.md): with them the profile
 * repeats the run (rate, sizes, udp.gso_segments, source, target.ports,
 * tcp.congestion, dscp/tos, buffers.hugepages, expect, nic.mtu).
 */
static void profile_json_more(json_t *o, const struct gen_profile *p)
{
	const struct gen_rate *r = &p->rate;
	const struct gen_expect *ex = &p->expect;

	/* UDP without size: (or with sizes:) the plan derives it: null, as the profile left it */
	if (p->proto == GEN_PROTO_UDP && !p->size_set)
		json_object_set_new(o, "size", json_null());
	/* depth only as given: the default depends on the mode the plan chose (plan.depth) */
	if (!p->depth_set)
		json_object_del(o, "depth");
	if (p->dport_lo)
		json_object_set_new(json_object_get(o, "target"), "ports",
				    ports_str(p->dport_lo, p->dport_hi));
	if (r->value_given || r->n_steps) {
		json_t *ro = json_pack("{s:s, s:s}", "per", gen_rate_per_name(r->per), "layer",
				       gen_rate_layer_name(r->layer));

		if (r->value_given)
			json_object_set_new(ro, "value", rate_str(r->value, r->pps, r->line));
		if (r->ramp_keys == 3)
			json_object_set_new(ro, "ramp", json_pack("{s:o, s:f}", "from",
					    rate_str(r->ramp_from, r->ramp_from_pps, false), "over",
					    r->ramp_ns / 1e9));
		if (r->n_steps) {
			json_t *st = json_array();

			for (unsigned i = 0; i < r->n_steps; i++)
				json_array_append_new(st, json_pack("{s:o, s:f}", "rate",
						      rate_str(r->steps[i].rate, r->steps_pps, false),
						      "for", r->steps[i].for_ns / 1e9));
			json_object_set_new(ro, "steps", st);
		}
		if (r->burst)
			json_object_set_new(ro, "burst", json_integer(r->burst));
		json_object_set_new(ro, "tcp_pacing", json_boolean(r->tcp_pacing));
		json_object_set_new(o, "rate", ro);
	}
	if (p->n_sizes) {
		json_t *sz = json_object();
		char k[16];

		for (unsigned i = 0; i < p->n_sizes; i++) {
			snprintf(k, sizeof(k), "%u", p->sizes[i].size);
			json_object_set_new(sz, k, json_integer(p->sizes[i].weight));
		}
		json_object_set_new(o, "sizes", sz);
	}
	if (p->gso_segments)
		json_object_set_new(o, "udp", json_pack("{s:i}", "gso_segments", (int)p->gso_segments));
	if (p->source.n_addr || p->source.device[0] || p->source.port_lo) {
		json_t *so = json_object();

		if (p->source.n_addr) {
			json_t *a = json_array();

			for (unsigned i = 0; i < p->source.n_addr; i++)
				json_array_append_new(a, json_string(p->source.addr[i]));
			json_object_set_new(so, "address", a);
		}
		if (p->source.device[0])
			json_object_set_new(so, "device", json_string(p->source.device));
		if (p->source.port_lo)
			json_object_set_new(so, "ports", ports_str(p->source.port_lo, p->source.port_hi));
		json_object_set_new(o, "source", so);
	}
	if (p->congestion[0])
		json_object_set_new(o, "tcp", json_pack("{s:s}", "congestion", p->congestion));
	if (p->dscp >= 0)
		json_object_set_new(o, "dscp", json_integer(p->dscp));
	if (p->tos >= 0)
		json_object_set_new(o, "tos", json_integer(p->tos));
	json_object_set_new(o, "buffers", json_pack("{s:s}", "hugepages",
						    gen_hugepages_name(p->hugepages)));
	if (p->nic.present && p->nic.mtu)
		json_object_set_new(json_object_get(o, "nic"), "mtu", json_integer(p->nic.mtu));
	if (ex->present) {
		json_t *eo = json_object();

		/* bare numbers: Gbit/s, percent, seconds, a fraction (docs/profiles.md) */
		if (ex->has_min_bps_total)
			json_object_set_new(eo, "min_gbps_total", json_real(ex->min_bps_total / 1e9));
		if (ex->has_min_bps_queue)
			json_object_set_new(eo, "min_gbps_per_queue", json_real(ex->min_bps_queue / 1e9));
		if (ex->has_max_loss)
			json_object_set_new(eo, "max_loss_percent", json_real(ex->max_loss_percent));
		if (ex->has_max_p99)
			json_object_set_new(eo, "max_p99_latency", json_real(ex->max_p99_ns / 1e9));
		if (ex->has_min_steering)
			json_object_set_new(eo, "min_steering", json_real(ex->min_steering));
		if (ex->has_min_ndr_fps)
			json_object_set_new(eo, "min_ndr_fps", json_real(ex->min_ndr_fps));
		if (ex->n_offloads_effective) {
			json_t *a = json_array();

			for (unsigned i = 0; i < ex->n_offloads_effective; i++)
				json_array_append_new(a, json_string(ex->offloads_effective[i]));
			json_object_set_new(eo, "offloads_effective", a);
		}
		json_object_set_new(o, "expect", eo);
	}
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
	if (o) {
		json_object_set_new(o, "stall_timeout_s", json_real(p->stall_timeout_ns / 1e9));
		profile_json_more(o, p);
	}
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

/* UDP figures, null for TCP */
static json_t *udp_int(const struct report_receiver *v, uint64_t x)
{
	return v->udp ? json_integer((json_int_t)x) : json_null();
}

static json_t *udp_real(const struct report_receiver *v, double x)
{
	return v->udp ? json_real(x) : json_null();
}

json_t *report_latency_json(const struct report_latency *l, bool with_valid)
{
	json_t *o;

	if (!l->present)
		return json_null();
	o = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:I}", "p50", l->p50, "p90", l->p90,
		      "p99", l->p99, "p99_9", l->p99_9, "max", l->max, "mean", l->mean,
		      "count", (json_int_t)l->count);
	if (o && with_valid)
		json_object_set_new(o, "valid", json_boolean(l->valid));
	return o;
}

/* A zcgen sink's additions (null where the server is not one, or for TCP). */
static void extra_json(json_t *o, const struct report_receiver_extra *x)
{
	json_t *n = json_null();

	json_object_set_new(o, "latency_us", report_latency_json(&x->lat, false));
	json_object_set_new(o, "latency_valid", x->lat.present ? json_boolean(x->lat.valid) : n);
	json_object_set_new(o, "latency_negative", x->lat.present ?
			    json_integer((json_int_t)x->lat.negative) : n);
	json_object_set_new(o, "corrupt_bytes", x->verified ?
			    json_integer((json_int_t)x->corrupt_bytes) : n);
	json_object_set_new(o, "corrupt_datagrams", x->verified ?
			    json_integer((json_int_t)x->corrupt_datagrams) : n);
	json_object_set_new(o, "duplicates", x->extra ? json_integer((json_int_t)x->duplicates) : n);
	json_object_set_new(o, "reordered", x->extra ? json_integer((json_int_t)x->reordered) : n);
}

static json_t *receiver_json(const struct report_receiver *v, const struct row *t)
{
	json_t *streams = json_array(), *o;

	for (unsigned k = 0; k < v->n; k++) {
		const struct report_receiver_stream *s = &v->streams[k];

		o = json_pack("{s:i, s:i, s:i, s:I, s:o, s:o, s:o, s:o}", "id", s->id, "queue",
			      (int)s->queue, "stream", (int)s->stream, "bytes",
			      (json_int_t)s->bytes, "packets", udp_int(v, s->packets), "lost",
			      udp_int(v, s->lost), "tail_lost", udp_int(v, s->tail_lost),
			      "jitter_ms", udp_real(v, s->jitter_ms));
		if (o)
			extra_json(o, &s->x);
		json_array_append_new(streams, o);
	}
	o = json_pack("{s:s, s:I, s:f, s:o, s:o, s:o, s:o, s:o, s:o}", "source", v->source,
		      "bytes", (json_int_t)v->bytes, "bits_per_second", t->rx_bps, "packets",
		      udp_int(v, v->packets), "lost", udp_int(v, v->lost), "tail_lost",
		      udp_int(v, v->tail_lost), "lost_percent",
		      udp_real(v, safe_div(100.0 * v->lost, (double)(v->packets + v->lost))),
		      "jitter_ms", udp_real(v, v->jitter_ms), "streams", streams);
	if (o)
		extra_json(o, &v->x);
	return o;
}

/* Rate and datagram keys of a queue or the total (null where they do not apply). */
static void rate_json(json_t *o, const struct engine_plan *plan, const struct row *w)
{
	bool udp = plan->prof.proto == GEN_PROTO_UDP, p = plan->paced, pps = plan->rate_pps;

	json_object_set_new(o, "datagrams", udp ? json_integer((json_int_t)w->datagrams) : json_null());
	json_object_set_new(o, "target_bits_per_second", p && !pps ? json_real(w->target) : json_null());
	json_object_set_new(o, "target_packets_per_second", p && pps ? json_real(w->target) : json_null());
	json_object_set_new(o, "achieved_bits_per_second", p && !pps ? json_real(w->achieved) :
			    json_null());
	json_object_set_new(o, "achieved_packets_per_second", p && pps ? json_real(w->achieved) :
			    json_null());
	json_object_set_new(o, "forfeited_bits_per_second", p && !pps ? json_real(w->forfeited) :
			    json_null());
	json_object_set_new(o, "forfeited_packets_per_second", p && pps ? json_real(w->forfeited) :
			    json_null());
	json_object_set_new(o, "rate_missed", p ? json_boolean(w->missed) : json_null());
}

json_t *report_interval_json(const struct engine_plan *plan, const struct engine_interval *iv)
{
	double d = iv->end_s - iv->start_s;
	json_t *qa = json_array();
	uint64_t tot = 0;

	for (unsigned i = 0; i < plan->nq; i++) {
		tot += iv->bytes[i];
		json_array_append_new(qa, json_pack("{s:i, s:I, s:I, s:f}", "queue",
						    (int)plan->q[i].queue, "bytes",
						    (json_int_t)iv->bytes[i], "sends",
						    (json_int_t)iv->sends[i], "bits_per_second",
						    safe_div(iv->bytes[i] * 8.0, d)));
	}
	/* start_s/end_s too: the names the sink's intervals use */
	return json_pack("{s:f, s:f, s:f, s:f, s:I, s:f, s:o}", "start", iv->start_s, "end",
			 iv->end_s, "start_s", iv->start_s, "end_s", iv->end_s, "bytes",
			 (json_int_t)tot, "bits_per_second", safe_div(tot * 8.0, d), "queues", qa);
}

/* environment (profile included) and plan: what a report and a stream's start event share */
static json_t *environment_json(const struct engine_plan *plan)
{
	struct utsname u;
	char cpu[256];

	uname(&u);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "zcgen", ZCGEN_VERSION, "host", u.nodename,
			 "kernel", u.release, "liburing", ZCGEN_LIBURING_VERSION, "cpu_model",
			 read_cpu_model(cpu, sizeof(cpu)), "profile", report_profile_json(&plan->prof));
}

static json_t *plan_json(const struct engine_plan *plan)
{
	json_t *pl = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:i, s:I, s:I}", "dest",
			       plan->dest_str, "protocol", gen_proto_name(plan->prof.proto), "mode",
			       gen_mode_name(plan->mode), "mode_reason", plan->mode_reason,
			       "message_size", (json_int_t)plan->msg_size, "path_mtu",
			       (json_int_t)plan->path_mtu, "depth", (int)plan->depth, "slots",
			       (int)plan->slots, "slot_size", (json_int_t)plan->slot_size,
			       "ring_buffer_bytes", (json_int_t)plan->ring_buf_bytes);

	if (!pl)
		return NULL;
	/* mode auto's rings that switch to copy take copy's depth (engine_plan()) */
	json_object_set_new(pl, "depth_copy", json_integer(plan->depth_copy));
	json_object_set_new(pl, "gso_segments", json_integer(plan->gso));
	json_object_set_new(pl, "rate", plan->paced ?
			    json_pack("{s:s, s:s, s:s}", "unit",
				      plan->rate_pps ? "packets" : "bits", "layer",
				      gen_rate_layer_name(plan->prof.rate.layer), "per",
				      gen_rate_per_name(plan->prof.rate.per)) : json_null());
	return pl;
}

json_t *report_start_json(const struct engine_plan *plan)
{
	json_t *qa = json_array(), *o;

	for (unsigned i = 0; i < plan->nq; i++)
		json_array_append_new(qa, json_pack("{s:i, s:i, s:i}", "queue", (int)plan->q[i].queue,
						    "cpu", (int)plan->q[i].cpu, "streams",
						    (int)plan->q[i].streams));
	o = json_pack("{s:i, s:o, s:o}", "schema", 1, "environment", environment_json(plan), "plan",
		      plan_json(plan));
	if (o)
		json_object_set_new(json_object_get(o, "plan"), "queues", qa);
	else
		json_decref(qa);
	return o;
}

json_t *report_json(const struct report_ctx *r)
{
	const struct engine_plan *plan = r->plan;
	struct row t, *rows = make_rows(r, &t);
	json_t *root, *queues, *ivs, *env;

	if (!rows)
		return NULL;
	env = environment_json(plan);
	if (r->res->ring_note[0])
		json_object_set_new(env, "ring_note", json_string(r->res->ring_note));
	if (r->lab)
		json_object_set_new(env, "lab", json_string(r->lab));

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

		json_object_set_new(qo, "cpu_s", json_real(w->cpu_s));
		json_object_set_new(qo, "zc_slots_dry_max_s", plan->prof.proto == GEN_PROTO_UDP ?
				    json_real(q->slots_dry_max_s) : json_null());
		/* unpaced rings: how they waited (docs/cli.md, "Depth and the order of a TCP stream") */
		json_object_set_new(qo, "waits", plan->paced ? json_null() : json_integer((json_int_t)q->waits));
		json_object_set_new(qo, "waits_untimed", plan->paced ? json_null() :
				    json_integer((json_int_t)q->waits_untimed));
		if (plan->auto_adapt) {
			json_object_set_new(qo, "auto_switched", json_boolean(q->auto_switched));
			json_object_set_new(qo, "auto_copied_percent", json_real(q->auto_copied_pct));
		}
		rate_json(qo, plan, w);
		if (q->first_error[0])
			json_object_set_new(qo, "error", json_string(q->first_error));
		if (q->stall_note[0])
			json_object_set_new(qo, "stall", json_string(q->stall_note));
		if (r->nic && r->nic[i].valid)
			json_object_set_new(qo, "nic",
					    json_pack("{s:I, s:o, s:I, s:f, s:s}", "tx_queue",
						      (json_int_t)r->nic[i].tx_queue, "tx_bytes",
						      r->nic[i].no_bytes ? json_null() :
						      json_integer((json_int_t)r->nic[i].tx_bytes),
						      "tx_packets", (json_int_t)r->nic[i].tx_packets,
						      "share", r->nic[i].share, "source",
						      r->nic[i].source));
		json_array_append_new(queues, qo);
	}

	ivs = json_array();
	for (unsigned k = 0; k < r->res->nint; k++)
		json_array_append_new(ivs, report_interval_json(plan, &r->res->iv[k]));

	root = json_pack(
		"{s:i, s:o, s:o, s:o, s:o, "
		"s:{s:I, s:f, s:I, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:i, s:i, s:b}}",
		"schema", 1, "environment", env, "plan", plan_json(plan), "queues", queues, "intervals", ivs, "total", "bytes",
		(json_int_t)t.bytes, "bits_per_second", t.bps, "sends", (json_int_t)t.sends,
		"sends_per_second", t.sps, "duration_s", r->res->duration_s, "omitted_s",
		r->res->omitted_s, "zc_sends", (json_int_t)t.zc_sends, "zc_notifications",
		(json_int_t)t.notifs, "zc_copied", (json_int_t)t.copied, "errors", (json_int_t)t.errors,
		"retransmits", (json_int_t)t.retrans, "streams", (int)t.streams, "streams_failed",
		(int)t.failed, "interrupted", r->res->interrupted);
	if (root)
		json_object_set_new(json_object_get(root, "plan"), "mode_used",
				    json_string(report_mode_used(r->plan, r->res)));
	if (root) {
		json_object_set_new(root, "end_reason", json_string(engine_end_name(r->res->end)));
		json_object_set_new(root, "end_message", r->res->end_msg[0] ?
				    json_string(r->res->end_msg) : json_null());
		json_object_set_new(json_object_get(root, "total"), "stalled_s",
				    r->res->end == ENGINE_END_STALLED ?
				    json_real(r->res->stalled_s) : json_null());
	}
	if (root) {
		json_t *tot = json_object_get(root, "total");

		rate_json(tot, plan, &t);
		json_object_set_new(tot, "datagrams_per_second",
				    plan->prof.proto == GEN_PROTO_UDP ?
				    json_real(safe_div((double)t.datagrams, r->res->duration_s)) :
				    json_null());
	}
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
	if (root && r->receiver) {
		json_object_set_new(root, "receiver", receiver_json(r->receiver, &t));
		json_object_set_new(json_object_get(root, "total"), "received_bits_per_second",
				    json_real(t.rx_bps));
	}
	if (root && r->server_note && r->server_note[0])
		json_object_set_new(root, "server_note", json_string(r->server_note));
	if (root) {
		json_t *pl = json_object_get(root, "plan");
		char hb[200];
		unsigned nh = 0;

		json_object_set_new(pl, "sockets", sockopts_json(&plan->so, plan->nq));
		hugebuf_describe_plan(plan->prof.hugepages, hb, sizeof(hb));
		json_object_set_new(pl, "hugepages", json_pack("{s:s, s:s}", "mode",
				    gen_hugepages_name(plan->prof.hugepages), "plan", hb));
		for (unsigned i = 0; i < r->res->nq; i++)
			nh += r->res->q[i].buf_huge;
		hugebuf_describe_result(plan->prof.hugepages, nh, r->res->nq, hb, sizeof(hb));
		json_object_set_new(json_object_get(root, "total"), "buffers",
				    json_pack("{s:i, s:i, s:s}", "rings_huge", (int)nh, "rings",
					      (int)r->res->nq, "note", hb));
	}
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
