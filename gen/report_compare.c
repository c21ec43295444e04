/* report_compare.c - `zcgen compare`'s report: per-metric statistics computed once, as text and JSON */
#define _GNU_SOURCE
#include <math.h>
#include <string.h>
#include <unistd.h>
#include "gen/report_compare.h"
#include "zcgen_version.h"

static json_t *num_or_null(double v)
{
	return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

/* The repeat whose value is nearest the median: its rows are the ones shown. */
static unsigned median_repeat(const struct cmp_run *r, unsigned n)
{
	double v[CMP_MAX_REPEAT] = { 0 };
	struct cmp_stat st;
	unsigned best = 0;

	for (unsigned i = 0; i < n; i++)
		v[i] = r[i].v[CMP_BPS];
	cmp_stat(v, n, &st);
	for (unsigned i = 1; i < n && st.valid; i++)
		if (fabs(r[i].v[CMP_BPS] - st.median) < fabs(r[best].v[CMP_BPS] - st.median))
			best = i;
	return best;
}

static void stats_of(const struct cmp_run *r, unsigned n, enum cmp_metric m, struct cmp_stat *st)
{
	double v[CMP_MAX_REPEAT] = { 0 };

	for (unsigned i = 0; i < n; i++)
		v[i] = r[i].v[m];
	cmp_stat(v, n, st);
}

/* Ratio of the medians, and min/max of the per-repeat ratios (the two ran back to back). */
static void ratio_of(const struct cmp_run *z, const struct cmp_run *p, unsigned n,
		     enum cmp_metric m, const struct cmp_stat *sz, const struct cmp_stat *sp,
		     struct cmp_stat *out)
{
	double v[CMP_MAX_REPEAT] = { 0 };
	double r;

	for (unsigned i = 0; i < n; i++)
		cmp_ratio(z[i].v[m], p[i].v[m], &v[i]);
	cmp_stat(v, n, out);
	out->valid = !cmp_ratio(sz->median, sp->median, &r);
	out->median = r;
}

void report_compare_make(struct report_compare *r, bool udp, const struct cmp_run *z,
			 const struct cmp_run *p, unsigned n)
{
	if (n > CMP_MAX_REPEAT)
		n = CMP_MAX_REPEAT;
	memset(r, 0, sizeof(*r));
	r->udp = udp;
	r->n = n;
	r->z = z;
	r->p = p;
	r->z_median = median_repeat(z, n);
	r->p_median = median_repeat(p, n);
	for (int m = 0; m < CMP_NMETRICS; m++) {
		const struct cmp_metric_info *mi = cmp_metric((enum cmp_metric)m);
		struct report_compare_metric *w = &r->m[m];

		w->key = cmp_metric_key((enum cmp_metric)m, udp);
		w->label = udp ? mi->label_udp : mi->label_tcp;
		stats_of(z, n, (enum cmp_metric)m, &w->z);
		stats_of(p, n, (enum cmp_metric)m, &w->p);
		ratio_of(z, p, n, (enum cmp_metric)m, &w->z, &w->p, &w->ratio);
	}
}

/* --- text --- */

void report_compare_repeat(FILE *out, unsigned i, unsigned of, const struct cmp_run *z,
			   const struct cmp_run *p)
{
	fprintf(out, "repeat %u/%u: zcgen %.2f Gbit/s, iperf3 %.2f Gbit/s (%s first)\n", i + 1, of,
		z->v[CMP_BPS] / 1e9, p->v[CMP_BPS] / 1e9, i % 2 ? "iperf3" : "zcgen");
	fflush(out);
}

static void fmt_stat(const struct cmp_stat *st, double scale, int dec, char *buf, size_t len)
{
	if (!st->valid || isnan(st->median))
		snprintf(buf, len, "-");
	else if (isnan(st->min) || st->n < 2)
		snprintf(buf, len, "%.*f", dec, st->median / scale);
	else
		snprintf(buf, len, "%.*f [%.*f..%.*f]", dec, st->median / scale, dec,
			 st->min / scale, dec, st->max / scale);
}

static const char *retrans_str(bool udp, json_t *row, char *buf, size_t len)
{
	json_t *v = json_object_get(row, "retransmits");

	if (udp || !json_is_integer(v))
		return "";
	snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	return buf;
}

static void print_rows(FILE *out, const struct report_compare *c)
{
	unsigned zi = c->z_median, pi = c->p_median;
	bool udp = c->udp;
	char rb[32];
	size_t i;
	json_t *r;

	fprintf(out, "\nzcgen per queue (repeat %u, the one nearest the median):\n", zi + 1);
	fprintf(out, "  %5s %4s %10s %12s %8s\n", "queue", "cpu", "Gbit/s",
		udp ? "datagrams/s" : "sends/s", udp ? "" : "retrans");
	json_array_foreach(c->z[zi].rows, i, r)
		fprintf(out, "  %5lld %4lld %10.2f %12.0f %8s\n",
			(long long)json_integer_value(json_object_get(r, "queue")),
			(long long)json_integer_value(json_object_get(r, "cpu")),
			json_number_value(json_object_get(r, "bits_per_second")) / 1e9,
			json_number_value(json_object_get(r, "sends_per_second")),
			retrans_str(udp, r, rb, sizeof(rb)));
	fprintf(out, "iperf3 per stream (repeat %u):\n", pi + 1);
	if (udp)
		fprintf(out, "  %6s %10s %12s %10s\n", "stream", "Gbit/s", "datagrams", "lost");
	else
		fprintf(out, "  %6s %10s %12s %8s\n", "stream", "Gbit/s", "rcvd Gbit/s", "retrans");
	json_array_foreach(c->p[pi].rows, i, r) {
		if (udp)
			fprintf(out, "  %6zu %10.2f %12.0f %10.0f\n", i,
				json_number_value(json_object_get(r, "bits_per_second")) / 1e9,
				json_number_value(json_object_get(r, "packets")),
				json_number_value(json_object_get(r, "lost_packets")));
		else
			fprintf(out, "  %6zu %10.2f %12.2f %8.0f\n", i,
				json_number_value(json_object_get(r, "bits_per_second")) / 1e9,
				json_number_value(json_object_get(r, "received_bits_per_second")) / 1e9,
				json_number_value(json_object_get(r, "retransmits")));
	}
}

static void print_totals(FILE *out, const struct report_compare *c,
			 const struct report_compare_env *env)
{
	char a[64], b[64], d[64];

	fprintf(out, "\ntotals: median of %u repeat%s [min..max]; ratio: of the medians [per-repeat "
		"min..max]\n", c->n, c->n == 1 ? "" : "s");
	fprintf(out, "  %-24s %-28s %-28s %s\n", "", "zcgen", "iperf3", "zcgen/iperf3");
	for (int m = 0; m < CMP_NMETRICS; m++) {
		const struct cmp_metric_info *mi = cmp_metric((enum cmp_metric)m);
		const struct report_compare_metric *w = &c->m[m];

		if (!w->label || (!w->z.valid && !w->p.valid))
			continue;
		fmt_stat(&w->z, mi->scale, mi->decimals, a, sizeof(a));
		fmt_stat(&w->p, mi->scale, mi->decimals, b, sizeof(b));
		fmt_stat(&w->ratio, 1, 3, d, sizeof(d));
		fprintf(out, "  %-24s %-28s %-28s %s\n", w->label, a, b, d);
	}
	fprintf(out, "CPU: system-wide busy time (/proc/stat, softirq included) over each tool's run, "
		"the receiver's work on this host included\n");
	if (env->rx_counter)
		fprintf(out, "rx ns: the receiving namespace's own %s counter (/proc/net/snmp in %s)\n",
			c->udp ? "UDP InDatagrams" : "TCP InSegs", env->rx_netns ? env->rx_netns : "");
}

void report_compare_text(FILE *out, const struct report_compare *r,
			 const struct report_compare_env *env)
{
	print_rows(out, r);
	print_totals(out, r, env);
}

/* --- JSON --- */

static json_t *total_json(const struct report_compare *c, bool zcgen)
{
	json_t *o = json_object();
	char key[96];

	for (int m = 0; m < CMP_NMETRICS; m++) {
		const struct report_compare_metric *w = &c->m[m];
		const struct cmp_stat *st = zcgen ? &w->z : &w->p;

		if (!w->key)
			continue;
		json_object_set_new(o, w->key, num_or_null(st->median));
		snprintf(key, sizeof(key), "%s_min", w->key);
		json_object_set_new(o, key, num_or_null(st->min));
		snprintf(key, sizeof(key), "%s_max", w->key);
		json_object_set_new(o, key, num_or_null(st->max));
	}
	json_object_set_new(o, "repeats", json_integer(c->n));
	return o;
}

static json_t *run_json(const struct report_compare *c, const struct cmp_run *r, unsigned rep,
			unsigned position, bool zcgen)
{
	json_t *o = json_object();

	json_object_set_new(o, "repeat", json_integer(rep + 1));
	json_object_set_new(o, "position", json_integer(position));
	json_object_set_new(o, "bytes", json_integer((json_int_t)r->bytes));
	json_object_set_new(o, "duration_s", num_or_null(r->duration_s));
	for (int m = 0; m < CMP_NMETRICS; m++)
		if (c->m[m].key)
			json_object_set_new(o, c->m[m].key, num_or_null(r->v[m]));
	json_object_set(o, zcgen ? "queues" : "streams", r->rows ? r->rows : json_null());
	json_object_set(o, zcgen ? "receiver" : "end", r->extra ? r->extra : json_null());
	json_object_set(o, "report", r->report ? r->report : json_null());
	return o;
}

json_t *report_compare_json(const struct report_compare *c, const struct report_compare_env *env)
{
	json_t *root = json_object(), *zj, *pj, *ratio = json_object(), *zr = json_array(),
	       *pr = json_array(), *envj;
	const struct cmp_run *z = c->z, *p = c->p;
	unsigned n = c->n;
	char key[96];

	for (unsigned i = 0; i < n; i++) {
		bool zfirst = i % 2 == 0; /* repeat 1, 3, ...: zcgen first */

		json_array_append_new(zr, run_json(c, &z[i], i, zfirst ? 1 : 2, true));
		json_array_append_new(pr, run_json(c, &p[i], i, zfirst ? 2 : 1, false));
	}
	zj = json_pack("{s:s, s:o, s:O, s:o}", "command", env->zcgen_cmd, "total",
		       total_json(c, true), "queues", z[c->z_median].rows ?: json_null(), "runs", zr);
	pj = json_pack("{s:s, s:s, s:o, s:O, s:o}", "command", env->iperf3_cmd, "version",
		       p[0].version, "total", total_json(c, false), "streams",
		       p[c->p_median].rows ?: json_null(), "runs", pr);
	for (int m = 0; m < CMP_NMETRICS; m++) {
		const struct report_compare_metric *w = &c->m[m];

		if (!w->key)
			continue;
		json_object_set_new(ratio, w->key, num_or_null(w->ratio.valid ? w->ratio.median : NAN));
		snprintf(key, sizeof(key), "%s_min", w->key);
		json_object_set_new(ratio, key, num_or_null(w->ratio.min));
		snprintf(key, sizeof(key), "%s_max", w->key);
		json_object_set_new(ratio, key, num_or_null(w->ratio.max));
	}
	envj = json_pack("{s:s, s:s, s:s, s:s, s:I, s:b, s:s?, s:I, s:I, s:I, s:s, s:s, s:I, s:I, "
			 "s:I, s:I, s:s, s:s?}",
			 "zcgen", ZCGEN_VERSION, "kernel", env->kernel, "iperf3", p[0].version,
			 "protocol", c->udp ? "udp" : "tcp", "port", (json_int_t)env->port, "lab",
			 env->lab, "rx_netns", env->lab ? env->rx_netns : NULL,
			 "queues", (json_int_t)env->queues, "streams", (json_int_t)env->streams,
			 "size", (json_int_t)env->size, "mode", gen_mode_name(env->mode), "cpus",
			 env->cpus, "duration_s", (json_int_t)env->dur_s, "omit_s",
			 (json_int_t)env->omit_s, "repeat", (json_int_t)n, "online_cpus",
			 (json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "cpu_accounting",
			 "system-wide busy time from /proc/stat over each tool's run, softirq included",
			 "rx_counter", env->rx_counter ? (c->udp ? "UDP InDatagrams" : "TCP InSegs") :
			 NULL);
	json_object_set_new(envj, "host", json_string(env->host));
	json_object_set_new(envj, "server_cpus", env->lab && env->server_cpus && env->server_cpus[0] ?
			    json_string(env->server_cpus) : json_null());
	json_object_set_new(root, "schema", json_integer(1));
	json_object_set_new(root, "environment", envj);
	json_object_set_new(root, "zcgen", zj);
	json_object_set_new(root, "iperf3", pj);
	json_object_set_new(root, "ratio", ratio);
	return root;
}
