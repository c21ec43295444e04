/* plot.c - a report's throughput over time as an SVG picture (zcgen plot) */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gen/plot.h"

#define PLOT_W 960
#define PLOT_H 520
#define PLOT_L 80  /* left margin: the y axis labels */
#define PLOT_R 200 /* right margin: the legend */
#define PLOT_T 56
#define PLOT_B 56
#define PLOT_MAX_SERIES 64

static const char *const palette[] = {
	"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
	"#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
};

/* The per-unit series of one report: queues of a run, workers of a sink. */
struct plot_data {
	bool sink;
	size_t n;                       /* intervals */
	unsigned ns;                    /* series other than the total */
	int id[PLOT_MAX_SERIES];        /* queue or worker number */
	double *t;                      /* interval midpoints, s */
	double *total;                  /* bit/s per interval */
	double *v[PLOT_MAX_SERIES];     /* bit/s per interval and series */
	double rx_bps;                  /* receiver's rate, < 0: none */
	double loss;                    /* receiver's loss %, < 0: none */
	char title[256];
};

static double num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static int series_of(struct plot_data *pd, int id)
{
	for (unsigned i = 0; i < pd->ns; i++)
		if (pd->id[i] == id)
			return (int)i;
	if (pd->ns == PLOT_MAX_SERIES)
		return -1;
	pd->id[pd->ns] = id;
	return (int)pd->ns++;
}

static void data_free(struct plot_data *pd)
{
	free(pd->t);
	free(pd->total);
	for (unsigned i = 0; i < PLOT_MAX_SERIES; i++)
		free(pd->v[i]);
}

static int data_load(const json_t *rep, struct plot_data *pd, char *err, size_t errlen)
{
	const json_t *iv = json_object_get(rep, "intervals"), *x;
	const char *unit_key, *id_key, *t0k, *t1k;
	size_t i, j;

	memset(pd, 0, sizeof(*pd));
	pd->rx_bps = pd->loss = -1;
	if (!json_is_array(iv) || !json_array_size(iv)) {
		snprintf(err, errlen, "the report has no intervals to draw (a run with --interval 0, "
			 "or not a zcgen run or sink report)");
		return -EINVAL;
	}
	pd->sink = json_object_get(rep, "workers") != NULL;
	unit_key = pd->sink ? "workers" : "queues";
	id_key = pd->sink ? "worker" : "queue";
	t0k = pd->sink ? "start_s" : "start";
	t1k = pd->sink ? "end_s" : "end";
	pd->n = json_array_size(iv);
	pd->t = calloc(pd->n, sizeof(double));
	pd->total = calloc(pd->n, sizeof(double));
	if (!pd->t || !pd->total)
		return -ENOMEM;
	json_array_foreach(iv, i, x) {
		const json_t *units = json_object_get(x, unit_key), *u;
		double t0 = num(x, t0k), t1 = num(x, t1k);

		if (!isfinite(t0) || !isfinite(t1) || !isfinite(num(x, "bits_per_second"))) {
			snprintf(err, errlen, "intervals[%zu] lacks %s, %s or bits_per_second", i, t0k, t1k);
			return -EINVAL;
		}
		pd->t[i] = t0 / 2 + t1 / 2; /* no overflow for huge times */
		pd->total[i] = num(x, "bits_per_second");
		json_array_foreach(units, j, u) {
			double id = num(u, id_key), bps = num(u, "bits_per_second");
			int s;

			if (!(id >= 0 && id <= INT_MAX) || !isfinite(bps))
				continue;
			s = series_of(pd, (int)id);
			if (s < 0)
				continue;
			if (!pd->v[s] && !(pd->v[s] = calloc(pd->n, sizeof(double))))
				return -ENOMEM;
			pd->v[s][i] = bps;
		}
	}
	if (pd->sink) {
		pd->loss = num(json_object_get(rep, "total"), "loss_percent");
		if (isnan(pd->loss) || !num(json_object_get(rep, "total"), "packets"))
			pd->loss = -1;
		snprintf(pd->title, sizeof(pd->title), "zcgen sink %s",
			 json_string_value(json_object_get(rep, "listen")) ?: "");
	} else {
		const json_t *rx = json_object_get(rep, "receiver");
		const json_t *prof = json_object_get(json_object_get(rep, "environment"), "profile");
		const char *plan_dest = json_string_value(json_object_get(json_object_get(rep, "plan"), "dest"));

		if (json_is_object(rx)) {
			pd->rx_bps = num(rx, "bits_per_second");
			pd->loss = num(rx, "lost_percent");
			if (!isfinite(pd->rx_bps))
				pd->rx_bps = -1;
			if (isnan(pd->loss))
				pd->loss = -1;
		}
		snprintf(pd->title, sizeof(pd->title), "zcgen %s to %s",
			 json_string_value(json_object_get(prof, "name")) ?: "run", plan_dest ?: "?");
	}
	return 0;
}

/* A round step for about 5 ticks up to @max. */
static double tick_step(double max)
{
	double raw = max / 5, mag = pow(10, floor(log10(raw))), f = raw / mag;

	return mag * (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10);
}

static void xml_text(FILE *o, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '&': fputs("&amp;", o); break;
		case '"': fputs("&quot;", o); break;
		default: fputc(*s, o);
		}
	}
}

static void polyline(FILE *o, const struct plot_data *pd, const double *v, double tmax,
		     double ymax, double scale, const char *colour, double width)
{
	double pw = PLOT_W - PLOT_L - PLOT_R, ph = PLOT_H - PLOT_T - PLOT_B;

	fprintf(o, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\" points=\"", colour, width);
	for (size_t i = 0; i < pd->n; i++)
		fprintf(o, "%s%.1f,%.1f", i ? " " : "", PLOT_L + pd->t[i] / tmax * pw,
			PLOT_T + ph - v[i] / scale / ymax * ph);
	fputs("\"/>\n", o);
}

/*
 * An ndr report (zcgen ndr --json): throughput at L1 and L2 against frame
 * size (left axis, Gbit/s), and latency p50 and p99 at that rate (right
 * axis, microseconds). Sizes sit evenly along the x axis, as RFC 2544's
 * tables list them; a size without a result is left out of the lines.
 */
static int plot_ndr(const json_t *rep, FILE *o, char *err, size_t errlen)
{
	const json_t *sizes = json_object_get(rep, "sizes"), *sz;
	double pw = PLOT_W - PLOT_L - PLOT_R, ph = PLOT_H - PLOT_T - PLOT_B;
	double gmax = 0, lmax = 0, gstep, lstep;
	size_t n = json_array_size(sizes), i;
	static const struct { const char *key, *sub, *cls, *label, *colour, *dash; } series[] = {
		{ "l1_bits_per_second", NULL, "throughput", "L1 Gbit/s", "#1f77b4", "" },
		{ "l2_bits_per_second", NULL, "throughput", "L2 Gbit/s", "#2ca02c", "" },
		{ "latency_us", "p50", "latency", "latency p50 (us)", "#ff7f0e", "6 4" },
		{ "latency_us", "p99", "latency", "latency p99 (us)", "#d62728", "6 4" },
	};

	if (!json_is_array(sizes) || !n) {
		snprintf(err, errlen, "the ndr report has no sizes to draw");
		return -EINVAL;
	}
	json_array_foreach(sizes, i, sz) {
		const json_t *lat = json_object_get(sz, "latency_us");

		gmax = fmax(gmax, num(sz, "l1_bits_per_second") / 1e9);
		if (json_is_object(lat))
			lmax = fmax(lmax, num(lat, "p99"));
	}
	if (!isfinite(gmax) || !isfinite(lmax)) {
		snprintf(err, errlen, "the ndr report's rates or latencies are out of range");
		return -EINVAL;
	}
	gstep = gmax > 0 ? tick_step(gmax) : 1;
	gmax = gmax > 0 ? ceil(gmax / gstep) * gstep : 1;
	lstep = lmax > 0 ? tick_step(lmax) : 1;
	lmax = lmax > 0 ? ceil(lmax / lstep) * lstep : 1;

	fprintf(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"13\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", PLOT_W, PLOT_H, PLOT_W, PLOT_H);
	fprintf(o, "<text x=\"%d\" y=\"28\" font-size=\"17\">zcgen ndr to ", PLOT_L);
	xml_text(o, json_string_value(json_object_get(rep, "dest")) ?: "?");
	fprintf(o, ", loss &lt;= %g %%</text>\n", num(rep, "loss_threshold_percent"));
	for (double y = 0; y <= gmax + gstep / 2; y += gstep) {
		double py = PLOT_T + ph - y / gmax * ph;

		fprintf(o, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
			PLOT_L, py, PLOT_L + pw, py, PLOT_L - 8, py + 4, y);
	}
	for (double y = 0; y <= lmax + lstep / 2; y += lstep)
		fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#d62728\">%g</text>\n", PLOT_L + pw + 6,
			PLOT_T + ph - y / lmax * ph + 4, y);
	json_array_foreach(sizes, i, sz) {
		double px = PLOT_L + (i + 0.5) / n * pw;

		fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g%s</text>\n", px,
			PLOT_T + ph + 18, num(sz, "frame_size"),
			json_is_true(json_object_get(sz, "sender_limited")) ? "*" : "");
	}
	fprintf(o, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#333\"/>\n"
		"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">frame size (B; * sender-limited)</text>\n"
		"<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 18 %.1f)\">Gbit/s</text>\n",
		PLOT_L, PLOT_T, pw, ph, PLOT_L + pw / 2, PLOT_H - 12, PLOT_T + ph / 2, PLOT_T + ph / 2);

	int ly = PLOT_T + 8;

	for (size_t s = 0; s < sizeof(series) / sizeof(series[0]); s++) {
		bool first = true;

		fprintf(o, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
			"stroke-dasharray=\"%s\" points=\"", series[s].cls, series[s].colour, series[s].dash);
		json_array_foreach(sizes, i, sz) {
			const json_t *src = series[s].sub ? json_object_get(sz, series[s].key) : sz;
			double v = num(src, series[s].sub ? series[s].sub : series[s].key);
			double max = series[s].sub ? lmax : gmax;

			if (!json_is_true(json_object_get(sz, "found")) || isnan(v))
				continue;
			if (!series[s].sub)
				v /= 1e9;
			fprintf(o, "%s%.1f,%.1f", first ? "" : " ", PLOT_L + (i + 0.5) / n * pw,
				PLOT_T + ph - v / max * ph);
			first = false;
		}
		fputs("\"/>\n", o);
		fprintf(o, "<line x1=\"%.0f\" y1=\"%d\" x2=\"%.0f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\" "
			"stroke-dasharray=\"%s\"/><text x=\"%.0f\" y=\"%d\">%s</text>\n", PLOT_L + pw + 50, ly,
			PLOT_L + pw + 74, ly, series[s].colour, series[s].dash, PLOT_L + pw + 80, ly + 4,
			series[s].label);
		ly += 20;
	}
	fputs("</svg>\n", o);
	if (ferror(o)) {
		snprintf(err, errlen, "cannot write the picture");
		return -EIO;
	}
	return 0;
}

int plot_svg(const json_t *report, FILE *o, char *err, size_t errlen)
{
	struct plot_data pd;
	double pw = PLOT_W - PLOT_L - PLOT_R, ph = PLOT_H - PLOT_T - PLOT_B;
	double tmax = 0, vmax = 0, scale, ymax, step;
	const char *unit;
	const char *schema = json_string_value(json_object_get(report, "schema"));
	int r;

	if (schema && !strncmp(schema, "zcgen-ndr/", 10))
		return plot_ndr(report, o, err, errlen);
	r = data_load(report, &pd, err, errlen);

	if (r) {
		if (r == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < pd.n; i++) {
		tmax = fmax(tmax, pd.t[i]);
		vmax = fmax(vmax, pd.total[i]);
	}
	/* the x axis ends at the last interval's end: its midpoint plus half of a step */
	tmax = pd.n > 1 ? tmax + (pd.t[pd.n - 1] - pd.t[pd.n - 2]) / 2 : 2 * tmax;
	if (!isfinite(tmax) || !isfinite(vmax) || tmax > 1e9 || vmax > 1e15 || pd.rx_bps > 1e15) {
		/* a hand-made or corrupt report: no scale to draw it on */
		snprintf(err, errlen, "the report's times or rates are out of range (over 1e9 s or 1e15 bit/s)");
		r = -EINVAL;
		goto out;
	}
	if (tmax <= 0)
		tmax = 1;
	vmax = fmax(vmax, pd.rx_bps);
	scale = vmax >= 1e9 ? 1e9 : 1e6;
	unit = scale == 1e9 ? "Gbit/s" : "Mbit/s";
	step = vmax > 0 ? tick_step(vmax / scale) : 1;
	ymax = vmax > 0 ? ceil(vmax / scale / step) * step : 1;

	fprintf(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"13\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", PLOT_W, PLOT_H, PLOT_W, PLOT_H);
	fputs("<text x=\"", o);
	fprintf(o, "%d\" y=\"28\" font-size=\"17\">", PLOT_L);
	xml_text(o, pd.title);
	fputs("</text>\n", o);
	/* grid and y labels */
	for (double y = 0; y <= ymax + step / 2; y += step) {
		double py = PLOT_T + ph - y / ymax * ph;

		fprintf(o, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
			PLOT_L, py, PLOT_L + pw, py, PLOT_L - 8, py + 4, y);
	}
	double xstep = tick_step(tmax);

	for (double x = 0; x <= tmax + xstep / 100; x += xstep) {
		double px = PLOT_L + x / tmax * pw;

		fprintf(o, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
			px, PLOT_T, px, PLOT_T + ph, px, PLOT_T + ph + 18, x);
	}
	fprintf(o, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#333\"/>\n"
		"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">time (s)</text>\n"
		"<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 18 %.1f)\">%s</text>\n",
		PLOT_L, PLOT_T, pw, ph, PLOT_L + pw / 2, PLOT_H - 12, PLOT_T + ph / 2, PLOT_T + ph / 2, unit);

	/* the lines: units first, the total on top */
	int ly = PLOT_T + 8;

	for (unsigned s = 0; s < pd.ns; s++) {
		const char *c = palette[s % (sizeof(palette) / sizeof(palette[0]))];

		polyline(o, &pd, pd.v[s], tmax, ymax, scale, c, 1.6);
		fprintf(o, "<line x1=\"%.0f\" y1=\"%d\" x2=\"%.0f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>"
			"<text x=\"%.0f\" y=\"%d\">%s %d</text>\n", PLOT_L + pw + 16, ly, PLOT_L + pw + 40, ly,
			c, PLOT_L + pw + 46, ly + 4, pd.sink ? "worker" : "queue", pd.id[s]);
		ly += 20;
	}
	polyline(o, &pd, pd.total, tmax, ymax, scale, "#000", 2.6);
	fprintf(o, "<line x1=\"%.0f\" y1=\"%d\" x2=\"%.0f\" y2=\"%d\" stroke=\"#000\" stroke-width=\"3\"/>"
		"<text x=\"%.0f\" y=\"%d\">total</text>\n", PLOT_L + pw + 16, ly, PLOT_L + pw + 40, ly,
		PLOT_L + pw + 46, ly + 4);
	ly += 20;
	if (pd.rx_bps >= 0) {
		double py = PLOT_T + ph - pd.rx_bps / scale / ymax * ph;

		fprintf(o, "<line class=\"receiver\" x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#c00\" "
			"stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n", PLOT_L, py, PLOT_L + pw, py);
		fprintf(o, "<line x1=\"%.0f\" y1=\"%d\" x2=\"%.0f\" y2=\"%d\" stroke=\"#c00\" stroke-width=\"2\" "
			"stroke-dasharray=\"6 4\"/><text x=\"%.0f\" y=\"%d\">receiver %.3g %s</text>\n",
			PLOT_L + pw + 16, ly, PLOT_L + pw + 40, ly, PLOT_L + pw + 46, ly + 4,
			pd.rx_bps / scale, unit);
		ly += 20;
	}
	if (pd.loss >= 0)
		fprintf(o, "<text class=\"loss\" x=\"%.0f\" y=\"%d\">loss %.3g %%</text>\n",
			PLOT_L + pw + 16, ly + 4, pd.loss);
	fputs("</svg>\n", o);
	r = ferror(o) ? -EIO : 0;
	if (r)
		snprintf(err, errlen, "cannot write the picture");
out:
	data_free(&pd);
	return r;
}
