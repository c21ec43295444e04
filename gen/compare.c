/* compare.c - `zcgen compare`'s pure parts: statistics, ratios, iperf3 -J and zcgen JSON, argv */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gen/compare.h"

static const struct cmp_metric_info metrics[CMP_NMETRICS] = {
	[CMP_BPS] = { "bits_per_second", "bits_per_second", "Gbit/s sent", "Gbit/s sent", 1e9, 2 },
	[CMP_RX_BPS] = { "received_bits_per_second", "received_bits_per_second",
			 "Gbit/s received", "Gbit/s received", 1e9, 2 },
	[CMP_PPS] = { "packets_per_second", "packets_per_second", "ksends/s",
		      "kdatagrams/s sent", 1e3, 1 },
	[CMP_RX_PPS] = { NULL, "received_packets_per_second", NULL, "kdatagrams/s arrived", 1e3, 1 },
	[CMP_RETRANS] = { "retransmits", NULL, "retransmits", NULL, 1, 0 },
	[CMP_CPU] = { "cpu_busy_s", "cpu_busy_s", "CPU busy s (system)", "CPU busy s (system)", 1, 2 },
	[CMP_CPU_GB] = { "cpu_seconds_per_gb", "cpu_seconds_per_gb", "CPU-s per GB", "CPU-s per GB",
			 1, 3 },
	[CMP_RX_COUNT] = { "rx_segments", "rx_datagrams", "rx ns: TCP InSegs",
			   "rx ns: UDP InDatagrams", 1, 0 },
	[CMP_RX_COUNT_PS] = { "rx_segments_per_second", "rx_datagrams_per_second",
			      "rx ns: ksegments/s", "rx ns: kdatagrams/s", 1e3, 1 },
};

const struct cmp_metric_info *cmp_metric(enum cmp_metric m)
{
	return &metrics[m];
}

const char *cmp_metric_key(enum cmp_metric m, bool udp)
{
	return udp ? metrics[m].key_udp : metrics[m].key_tcp;
}

void cmp_run_init(struct cmp_run *r)
{
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < CMP_NMETRICS; i++)
		r->v[i] = NAN;
	r->duration_s = NAN;
}

void cmp_run_free(struct cmp_run *r)
{
	json_decref(r->rows);
	json_decref(r->extra);
	json_decref(r->report);
	r->rows = r->extra = r->report = NULL;
}

void cmp_run_set_cpu(struct cmp_run *r, double busy_s)
{
	r->v[CMP_CPU] = busy_s;
	r->v[CMP_CPU_GB] = r->bytes ? busy_s / (r->bytes / 1e9) : NAN;
}

void cmp_run_set_rx(struct cmp_run *r, uint64_t before, uint64_t after)
{
	if (after < before) {
		r->v[CMP_RX_COUNT] = r->v[CMP_RX_COUNT_PS] = NAN;
		return;
	}
	r->v[CMP_RX_COUNT] = (double)(after - before);
	r->v[CMP_RX_COUNT_PS] = r->duration_s > 0 ? (after - before) / r->duration_s : NAN;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void cmp_stat(const double *v, unsigned n, struct cmp_stat *out)
{
	double s[CMP_MAX_REPEAT];
	unsigned k = 0;

	memset(out, 0, sizeof(*out));
	out->median = out->min = out->max = NAN;
	for (unsigned i = 0; i < n && k < CMP_MAX_REPEAT; i++)
		if (!isnan(v[i]))
			s[k++] = v[i];
	if (!k)
		return;
	qsort(s, k, sizeof(s[0]), cmp_double);
	out->valid = true;
	out->n = k;
	out->min = s[0];
	out->max = s[k - 1];
	out->median = k % 2 ? s[k / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
}

int cmp_ratio(double num, double den, double *out)
{
	*out = NAN;
	if (isnan(num) || isnan(den) || den == 0)
		return -EDOM;
	*out = num / den;
	return 0;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A number at a path of object keys, NAN when absent or not a number. */
static double num_at(json_t *o, ...)
{
	const char *k;
	va_list ap;

	va_start(ap, o);
	while (o && (k = va_arg(ap, const char *)))
		o = json_is_object(o) ? json_object_get(o, k) : NULL;
	va_end(ap);
	return json_is_number(o) ? json_number_value(o) : NAN;
}

static json_t *load(const char *text, const char *what, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loads(text ? text : "", 0, &je);

	if (!root)
		set_err(err, errlen, "%s output is not JSON (line %d: %s)", what, je.line, je.text);
	else if (!json_is_object(root)) {
		set_err(err, errlen, "%s output is not a JSON object", what);
		json_decref(root);
		root = NULL;
	}
	return root;
}

static json_t *iperf3_stream_row(json_t *s, unsigned i, bool udp)
{
	json_t *snd = json_object_get(s, udp ? "udp" : "sender");
	json_t *rcv = json_object_get(s, "receiver");
	json_t *row = json_object();

	json_object_set_new(row, "stream", json_integer(i));
	json_object_set(row, "socket", json_object_get(snd, "socket") ?: json_null());
	json_object_set(row, "bytes", json_object_get(snd, "bytes") ?: json_null());
	json_object_set(row, "bits_per_second", json_object_get(snd, "bits_per_second") ?: json_null());
	if (udp) {
		json_object_set(row, "packets", json_object_get(snd, "packets") ?: json_null());
		json_object_set(row, "lost_packets", json_object_get(snd, "lost_packets") ?: json_null());
		json_object_set(row, "jitter_ms", json_object_get(snd, "jitter_ms") ?: json_null());
	} else {
		json_object_set(row, "received_bits_per_second",
				json_object_get(rcv, "bits_per_second") ?: json_null());
		json_object_set(row, "retransmits", json_object_get(snd, "retransmits") ?: json_null());
	}
	return row;
}

int cmp_iperf3_parse(const char *text, bool udp, struct cmp_run *out, char *err, size_t errlen)
{
	json_t *root, *end, *sent, *rcvd, *streams, *e, *s;
	const char *ver;
	size_t i;

	cmp_run_init(out);
	root = load(text, "iperf3's", err, errlen);
	if (!root)
		return -EINVAL;
	out->report = root;
	ver = json_string_value(json_object_get(json_object_get(root, "start"), "version"));
	snprintf(out->version, sizeof(out->version), "%s", ver ? ver : "");
	e = json_object_get(root, "error");
	if (e) {
		set_err(err, errlen, "%s", json_is_string(e) ? json_string_value(e) : "an error");
		return -EIO;
	}
	end = json_object_get(root, "end");
	sent = json_object_get(end, "sum_sent");
	rcvd = json_object_get(end, "sum_received");
	if (udp && !sent)
		sent = json_object_get(end, "sum"); /* iperf3 before 3.11 had only end.sum for UDP */
	if (!json_is_object(sent) || isnan(num_at(sent, "bytes", NULL)) ||
	    isnan(num_at(sent, "seconds", NULL))) {
		set_err(err, errlen, "iperf3's output has no end.sum_sent with bytes and seconds");
		return -EINVAL;
	}
	out->bytes = (uint64_t)num_at(sent, "bytes", NULL);
	out->duration_s = num_at(sent, "seconds", NULL);
	out->v[CMP_BPS] = num_at(sent, "bits_per_second", NULL);
	out->v[CMP_RX_BPS] = num_at(rcvd, "bits_per_second", NULL);
	if (udp) {
		double pk = num_at(sent, "packets", NULL), rs = num_at(rcvd, "seconds", NULL);
		double rp = num_at(rcvd, "packets", NULL), lost = num_at(rcvd, "lost_packets", NULL);

		if (isnan(rp)) { /* end.sum: the receiver's packet and loss counts */
			rp = num_at(end, "sum", "packets", NULL);
			lost = num_at(end, "sum", "lost_packets", NULL);
		}
		if (isnan(rs) || rs <= 0)
			rs = out->duration_s;
		out->v[CMP_PPS] = out->duration_s > 0 ? pk / out->duration_s : NAN;
		out->v[CMP_RX_PPS] = rs > 0 ? (rp - lost) / rs : NAN;
	} else {
		out->v[CMP_RETRANS] = num_at(sent, "retransmits", NULL);
	}
	out->rows = json_array();
	streams = json_object_get(end, "streams");
	json_array_foreach(streams, i, s)
		json_array_append_new(out->rows, iperf3_stream_row(s, (unsigned)i, udp));
	out->extra = json_object();
	json_object_set(out->extra, "cpu_utilization_percent",
			json_object_get(end, "cpu_utilization_percent") ?: json_null());
	if (udp) {
		json_object_set(out->extra, "packets", json_object_get(rcvd, "packets") ?: json_null());
		json_object_set(out->extra, "lost_packets",
				json_object_get(rcvd, "lost_packets") ?: json_null());
		json_object_set(out->extra, "lost_percent",
				json_object_get(rcvd, "lost_percent") ?: json_null());
		json_object_set(out->extra, "jitter_ms", json_object_get(rcvd, "jitter_ms") ?: json_null());
	}
	return 0;
}

int cmp_zcgen_parse(const char *text, bool udp, struct cmp_run *out, char *err, size_t errlen)
{
	json_t *root, *total, *recv, *q;
	double rx;

	cmp_run_init(out);
	root = load(text, "zcgen's", err, errlen);
	if (!root)
		return -EINVAL;
	out->report = root;
	total = json_object_get(root, "total");
	if (isnan(num_at(total, "bytes", NULL)) || isnan(num_at(total, "duration_s", NULL))) {
		set_err(err, errlen, "zcgen's report has no total.bytes and total.duration_s");
		return -EINVAL;
	}
	out->bytes = (uint64_t)num_at(total, "bytes", NULL);
	out->duration_s = num_at(total, "duration_s", NULL);
	out->v[CMP_BPS] = num_at(total, "bits_per_second", NULL);
	out->v[CMP_PPS] = num_at(total, "sends_per_second", NULL);
	/* UDP: datagrams, not sends (a GSO send carries several) */
	if (udp && !isnan(num_at(total, "datagrams_per_second", NULL)))
		out->v[CMP_PPS] = num_at(total, "datagrams_per_second", NULL);
	if (!udp)
		out->v[CMP_RETRANS] = num_at(total, "retransmits", NULL);
	recv = json_object_get(root, "receiver");
	rx = num_at(total, "received_bits_per_second", NULL);
	out->v[CMP_RX_BPS] = isnan(rx) ? num_at(recv, "bits_per_second", NULL) : rx;
	/* receiver.packets are the datagrams that arrived (lost ones are apart: docs/json.md) */
	if (udp && out->duration_s > 0)
		out->v[CMP_RX_PPS] = num_at(recv, "packets", NULL) / out->duration_s;
	q = json_object_get(root, "queues");
	out->rows = json_is_array(q) ? json_deep_copy(q) : json_array();
	out->extra = recv ? json_deep_copy(recv) : json_null();
	return 0;
}

int cmp_snmp_parse(const char *text, uint64_t *tcp_in_segs, uint64_t *udp_in_datagrams)
{
	/* Two lines per protocol: "Tcp: Name Name ..." then "Tcp: value value ..." */
	static const struct {
		const char *proto, *field;
	} want[2] = { { "Tcp:", "InSegs" }, { "Udp:", "InDatagrams" } };
	uint64_t *dst[2] = { tcp_in_segs, udp_in_datagrams };
	bool found[2] = { false, false };

	for (int w = 0; w < 2; w++) {
		size_t pl = strlen(want[w].proto);
		const char *names = text, *vals;

		while (names && strncmp(names, want[w].proto, pl))
			names = (names = strchr(names, '\n')) ? names + 1 : NULL;
		vals = names ? strchr(names, '\n') : NULL;
		if (!vals || strncmp(++vals, want[w].proto, pl))
			continue;
		/* walk both lines word by word */
		const char *n = names + pl, *v = vals + pl;

		for (;;) {
			size_t nl, vl;

			n += strspn(n, " ");
			v += strspn(v, " ");
			nl = strcspn(n, " \n");
			vl = strcspn(v, " \n");
			if (!nl || !vl)
				break;
			if (nl == strlen(want[w].field) && !strncmp(n, want[w].field, nl)) {
				*dst[w] = strtoull(v, NULL, 10);
				found[w] = true;
				break;
			}
			n += nl;
			v += vl;
		}
	}
	return found[0] && found[1] ? 0 : -EINVAL;
}

void cmp_argv_init(struct cmp_argv *a)
{
	memset(a, 0, sizeof(*a));
}

void cmp_argv_add(struct cmp_argv *a, const char *fmt, ...)
{
	size_t room = sizeof(a->store) - a->used;
	va_list ap;
	int n;

	if (a->overflow || a->n == CMP_ARGV_MAX) {
		a->overflow = true;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(a->store + a->used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		a->overflow = true;
		return;
	}
	a->v[a->n++] = a->store + a->used;
	a->v[a->n] = NULL;
	a->used += (size_t)n + 1;
}

int cmp_iperf3_argv(const struct cmp_iperf3_args *ia, struct cmp_argv *a)
{
	cmp_argv_init(a);
	cmp_argv_add(a, "%s", ia->exe);
	cmp_argv_add(a, "-c");
	cmp_argv_add(a, "%s", ia->host);
	cmp_argv_add(a, "-p");
	cmp_argv_add(a, "%u", ia->port);
	cmp_argv_add(a, "-J");
	cmp_argv_add(a, "-t");
	cmp_argv_add(a, "%u", ia->duration_s);
	cmp_argv_add(a, "-P");
	cmp_argv_add(a, "%u", ia->parallel);
	if (ia->udp) {
		cmp_argv_add(a, "-u");
		cmp_argv_add(a, "-b");
		cmp_argv_add(a, "0");
	}
	cmp_argv_add(a, "-l");
	cmp_argv_add(a, "%llu", (unsigned long long)ia->size);
	if (ia->zerocopy && !ia->udp)
		cmp_argv_add(a, "-Z");
	if (ia->omit_s) {
		cmp_argv_add(a, "-O");
		cmp_argv_add(a, "%u", ia->omit_s);
	}
	return a->overflow ? -E2BIG : 0;
}

void cmp_argv_str(const struct cmp_argv *a, char *buf, size_t len)
{
	size_t off = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (unsigned i = 0; i < a->n && off < len; i++) {
		bool q = a->v[i][0] == '\0' || strpbrk(a->v[i], " \t'\"\\$");
		int n = snprintf(buf + off, len - off, "%s%s%s%s", i ? " " : "", q ? "'" : "",
				 a->v[i], q ? "'" : "");

		if (n < 0)
			break;
		off += (size_t)n;
	}
}
