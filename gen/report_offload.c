/* report_offload.c - `zcgen offload-check`'s report: each offload's verdict and figures, as text and JSON */
#define _GNU_SOURCE
#include "gen/report_offload.h"

void report_offload_header(FILE *out, const struct report_offload *rep)
{
	fprintf(out, "offload-check %s (MTU %u): %s %s, %u queue%s, %s, %llu B sends, %.3g s per run, "
		"%u run%s per state\n", rep->dev, rep->mtu, gen_proto_name(rep->proto),
		rep->rx_host ? rep->rx_host : rep->dest, rep->queues, rep->queues == 1 ? "" : "s",
		gen_mode_name(rep->mode), (unsigned long long)rep->size, rep->duration_s, rep->repeat,
		rep->repeat == 1 ? "" : "s");
	if (rep->rx_host)
		fprintf(out, "receiver: a zcgen sink --verify per run in the lab's receiving namespace: "
			"received bytes, loss and every payload byte checked\n");
	else
		fprintf(out, "receiver: %s, not offload-check's own: data integrity and loss are not "
			"checked (--lab without --dest checks them)\n", rep->dest);
	fflush(out);
}

/* One state's row; figures below 0 are unknown: "-" */
static void print_state(FILE *out, const char *state, const struct offload_figures *f)
{
	char cpu[16] = "-", bpp[16] = "-", zc[16] = "-", bad[24] = "-", lost[16] = "-";

	if (f->cpu_s_per_gb >= 0)
		snprintf(cpu, sizeof(cpu), "%.2f", f->cpu_s_per_gb);
	if (f->bytes_per_packet >= 0)
		snprintf(bpp, sizeof(bpp), "%.0f", f->bytes_per_packet);
	if (f->zc_copied_percent >= 0)
		snprintf(zc, sizeof(zc), "%.0f%%", f->zc_copied_percent);
	if (f->rx.runs)
		snprintf(bad, sizeof(bad), "%llu", (unsigned long long)f->rx.corrupt_bytes);
	if (f->rx.loss_percent >= 0)
		snprintf(lost, sizeof(lost), "%.2f%%", f->rx.loss_percent);
	fprintf(out, "  %-4s %9.2f %10.0f %9s %9s %7s %7llu %8s %7s\n", state, f->bps / 1e9,
		f->sends_per_s, cpu, bpp, zc, (unsigned long long)f->errors, bad, lost);
}

void report_offload_result(FILE *out, const struct oc_result *r)
{
	fprintf(out, "%s: %s\n", r->name, offload_verdict_name(r->verdict));
	if (r->measured) {
		fprintf(out, "  %-4s %9s %10s %9s %9s %7s %7s %8s %7s\n", "", "Gbit/s", "sends/s",
			"CPU-s/GB", "B/packet", "zc-cp", "errors", "corrupt", "lost");
		print_state(out, "on", &r->on);
		print_state(out, "off", &r->off);
	}
	fprintf(out, "  evidence: %s\n", r->evidence);
	if (r->n_changed) {
		fprintf(out, "  changed with it:");
		for (unsigned i = 0; i < r->n_changed; i++)
			fprintf(out, " %s", r->changed_with[i]);
		fputc('\n', out);
	}
	if (r->n_needs) {
		fprintf(out, "  turned on for the test (it needs them):");
		for (unsigned i = 0; i < r->n_needs; i++)
			fprintf(out, " %s", r->needs[i]);
		fputc('\n', out);
	}
	if (r->note[0])
		fprintf(out, "  note: %s\n", r->note);
	fflush(out);
}

/* What the verifying sink counted in one state; null when no run had its counts. */
static json_t *rx_json(const struct offload_rx *x)
{
	json_t *o;

	if (!x->runs)
		return json_null();
	o = json_pack("{s:i, s:b, s:I, s:I, s:I, s:I}", "runs", (int)x->runs, "checked", x->checked,
		      "bytes", (json_int_t)x->bytes, "sent_bytes", (json_int_t)x->sent_bytes,
		      "corrupt_bytes", (json_int_t)x->corrupt_bytes, "missing_bytes",
		      (json_int_t)x->missing_bytes);
	if (!o)
		return json_null();
	json_object_set_new(o, "packets", x->udp ? json_integer((json_int_t)x->packets) : json_null());
	json_object_set_new(o, "sent_datagrams", x->udp ? json_integer((json_int_t)x->sent_datagrams) :
			    json_null());
	json_object_set_new(o, "lost", x->udp ? json_integer((json_int_t)x->lost) : json_null());
	json_object_set_new(o, "loss_percent", x->loss_percent >= 0 ? json_real(x->loss_percent) :
			    json_null());
	json_object_set_new(o, "corrupt_datagrams", x->udp ?
			    json_integer((json_int_t)x->corrupt_datagrams) : json_null());
	if (x->error[0])
		json_object_set_new(o, "error", json_string(x->error));
	return o;
}

/* A figure, or null where it is unknown (below 0). */
static json_t *known(double v)
{
	return v >= 0 ? json_real(v) : json_null();
}

static json_t *figures_json(const struct offload_figures *f)
{
	json_t *o = json_pack("{s:i, s:i, s:f, s:f, s:I, s:I, s:I, s:I}", "runs", (json_int_t)f->runs,
			      "runs_ok", (json_int_t)f->runs_ok, "bits_per_second", f->bps,
			      "sends_per_second", f->sends_per_s, "bytes", (json_int_t)f->bytes,
			      "errors", (json_int_t)f->errors, "link_tx_bytes", (json_int_t)f->link_bytes,
			      "link_tx_packets", (json_int_t)f->link_packets);

	if (!o)
		return NULL;
	json_object_set_new(o, "cpu_seconds_per_gb", known(f->cpu_s_per_gb));
	json_object_set_new(o, "bytes_per_packet", known(f->bytes_per_packet));
	json_object_set_new(o, "zc_copied_percent", known(f->zc_copied_percent));
	if (f->error[0])
		json_object_set_new(o, "error", json_string(f->error));
	json_object_set_new(o, "receiver", rx_json(&f->rx));
	return o;
}

static json_t *strings_json(const char (*v)[ETH_GSTRING_LEN], unsigned n)
{
	json_t *a = json_array();

	for (unsigned i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *report_offload_json(const struct report_offload *rep, bool restored,
			    const struct expect_result *ex)
{
	json_t *root, *arr = json_array();

	root = json_pack("{s:i, s:s, s:i, s:s, s:s, s:s, s:I, s:i, s:f, s:i, s:b}", "schema", 1,
			 "device", rep->dev, "mtu", (int)rep->mtu, "dest", rep->dest,
			 "protocol", gen_proto_name(rep->proto), "mode", gen_mode_name(rep->mode),
			 "size", (json_int_t)rep->size, "queues", (int)rep->queues,
			 "duration_s", rep->duration_s, "repeat", (int)rep->repeat,
			 "restored", restored);
	if (root)
		json_object_set_new(root, "integrity_checked", json_boolean(rep->rx_host != NULL));
	if (!root || !arr) {
		json_decref(root);
		json_decref(arr);
		return NULL;
	}
	for (unsigned i = 0; i < rep->n; i++) {
		const struct oc_result *r = &rep->r[i];
		json_t *needs = json_array(), *o;

		for (unsigned k = 0; needs && k < r->n_needs; k++)
			json_array_append_new(needs, json_string(r->needs[k]));
		o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "name", r->name,
			      "verdict", offload_verdict_name(r->verdict), "evidence", r->evidence,
			      "on", r->measured ? figures_json(&r->on) : json_null(),
			      "off", r->measured ? figures_json(&r->off) : json_null(),
			      "kernel_features", strings_json(r->kernel, r->n_kernel),
			      "changed_with", strings_json(r->changed_with, r->n_changed),
			      "needed_on", needs ? needs : json_array());
		if (o && r->note[0])
			json_object_set_new(o, "note", json_string(r->note));
		if (o)
			json_array_append_new(arr, o);
	}
	json_object_set_new(root, "offloads", arr);
	if (ex)
		expect_json_add(root, ex);
	return root;
}
