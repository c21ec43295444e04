/* merge.c - one report from several runs' JSON: a fleet's ranks, or `zcgen merge`'s files */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gen/merge.h"
#include "gen/runnic.h"

/*
 * Add @src's numbers into @dst: counts and rates add, durations take the
 * longest, flags or; what has no fleet-wide meaning (a ratio, a nested
 * object such as cpu) is left out rather than showing one run's value.
 */
static void json_sum(json_t *dst, json_t *src, bool first)
{
	const char *k;
	void *tmp;
	json_t *v;

	if (first) {
		json_object_foreach(src, k, v)
			json_object_set_new(dst, k, json_deep_copy(v)); /* never share: summed in place */
	} else {
		json_object_foreach(src, k, v) {
			json_t *d = json_object_get(dst, k);

			if (!d)
				continue;
			if (json_is_integer(d) && json_is_integer(v))
				json_integer_set(d, json_integer_value(d) + json_integer_value(v));
			else if (json_is_real(d) && json_is_real(v) && strstr(k, "per_second"))
				json_real_set(d, json_real_value(d) + json_real_value(v));
			else if (json_is_real(d) && json_is_real(v))
				json_real_set(d, fmax(json_real_value(d), json_real_value(v)));
			else if (json_is_boolean(d) && json_is_boolean(v))
				json_object_set_new(dst, k, json_boolean(json_is_true(d) || json_is_true(v)));
		}
	}
	json_object_foreach_safe(dst, tmp, k, v) {
		bool keep = json_is_integer(v) || json_is_boolean(v) || json_is_null(v) ||
			    (json_is_real(v) && (strstr(k, "per_second") || strstr(k, "duration") ||
						 strstr(k, "omitted") || strstr(k, "active_s")));

		if (!keep)
			json_object_del(dst, k);
	}
}

static json_t *real_or_null(double v)
{
	return isnan(v) ? json_null() : json_real(v);
}

static const char *run_ifname(json_t *report)
{
	json_t *nic = json_object_get(json_object_get(json_object_get(report, "environment"), "profile"),
				      "nic");

	return json_string_value(json_object_get(nic, "interface"));
}

/*
 * Runs on one host that share one device each saw only their own queues'
 * counters, and every queue's share of the whole device's bytes: the host's
 * split is judged here, over all of them, against the rings' bytes (the
 * single run's steering figure, runnic.h). A device used by one run keeps
 * that run's own figure (total.steering) and gets no entry.
 */
/* Runs @a and @b counted the same device on the same host. */
static bool same_device(const struct merge_in *a, const struct merge_in *b)
{
	const char *af = run_ifname(a->report), *bf = run_ifname(b->report);

	return af && bf && a->host && b->host && !strcmp(af, bf) && !strcmp(a->host, b->host);
}

static json_t *host_steering(const struct merge_in *in, int n)
{
	json_t *all = json_array();
	bool *seen = calloc((size_t)n + 1, sizeof(bool));
	int *grp = calloc((size_t)n + 1, sizeof(int));

	for (int i = 0; all && seen && grp && i < n; i++) {
		double ring_total = 0, ns[GEN_MAX_CPUS * 4], rs[GEN_MAX_CPUS * 4];
		int members = 0;
		unsigned nq = 0;
		json_t *q;
		size_t k;

		if (seen[i] || !same_device(&in[i], &in[i]))
			continue;
		for (int j = i; j < n; j++)
			if (!seen[j] && same_device(&in[i], &in[j])) {
				seen[j] = true;
				grp[members++] = j;
			}
		if (members < 2)
			continue;
		/* the rings' bytes of the queues that counted the device, as many as fit (and the rest) */
		for (int m = 0; m < members; m++)
			json_array_foreach(json_object_get(in[grp[m]].report, "queues"), k, q)
				if (json_is_object(json_object_get(q, "nic")) && nq + 1 < sizeof(ns) / sizeof(ns[0])) {
					ns[nq] = json_real_value(json_object_get(json_object_get(q, "nic"), "share"));
					rs[nq] = (double)json_integer_value(json_object_get(q, "bytes"));
					ring_total += rs[nq++];
				}
		if (ring_total <= 0)
			continue;
		json_t *e = json_object(), *ranks = json_array(), *qs = json_array();
		unsigned at = 0;

		for (int m = 0; m < members; m++) {
			json_array_append_new(ranks, json_integer(grp[m]));
			json_array_foreach(json_object_get(in[grp[m]].report, "queues"), k, q) {
				json_t *nq_o = json_object_get(q, "nic");

				if (!json_is_object(nq_o) || at >= nq)
					continue;
				rs[at] /= ring_total;
				json_array_append_new(qs, json_pack("{s:i, s:O, s:f, s:f}", "rank", grp[m], "tx_queue",
					json_object_get(nq_o, "tx_queue"), "nic_share", ns[at], "ring_share", rs[at]));
				at++;
			}
		}
		/* the device's queues that no run used carried the rest: none of it was asked for */
		double rest = 1;

		for (unsigned x = 0; x < nq; x++)
			rest -= ns[x];
		ns[nq] = rest > 0 ? rest : 0;
		rs[nq] = 0;
		json_object_set_new(e, "host", json_string(in[i].host));
		json_object_set_new(e, "interface", json_string(run_ifname(in[i].report)));
		json_object_set_new(e, "ranks", ranks);
		json_object_set_new(e, "steering", json_real(steering_figure(ns, rs, nq + 1)));
		json_object_set_new(e, "queues", qs);
		json_array_append_new(all, e);
	}
	free(seen);
	free(grp);
	return all;
}

void merge_steering_print(FILE *out, json_t *merged)
{
	json_t *e, *q;
	size_t i, k;

	json_array_foreach(json_object_get(merged, "host_steering"), i, e) {
		fprintf(out, "steering on %s %s: %.3f (1.0: the device's per-queue split matches the "
			"rings' of the runs sharing it):", json_string_value(json_object_get(e, "host")),
			json_string_value(json_object_get(e, "interface")),
			json_real_value(json_object_get(e, "steering")));
		json_array_foreach(json_object_get(e, "queues"), k, q)
			fprintf(out, "%s tx-%lld %.1f%% for rank %lld's %.1f%%", k ? "," : "",
				json_integer_value(json_object_get(q, "tx_queue")),
				100 * json_real_value(json_object_get(q, "nic_share")),
				json_integer_value(json_object_get(q, "rank")),
				100 * json_real_value(json_object_get(q, "ring_share")));
		fputc('\n', out);
	}
}

json_t *merge_reports(const struct merge_in *in, int n)
{
	json_t *root = n > 0 ? json_deep_copy(in[0].report) : NULL, *hosts = json_array();
	json_t *queues = json_array(), *total = json_object(), *recv = NULL;
	json_t *ivs = n > 0 ? json_deep_copy(json_object_get(in[0].report, "intervals")) : NULL;

	if (!root || !hosts || !queues || !total) {
		json_decref(root);
		json_decref(hosts);
		json_decref(queues);
		json_decref(total);
		json_decref(ivs);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		json_t *per = in[i].report, *h = json_object(), *qs = json_object_get(per, "queues"), *q;
		size_t k;

		json_object_set_new(h, "rank", json_integer(i));
		json_object_set_new(h, "host", json_string(in[i].host));
		json_object_set(h, "total", json_object_get(per, "total"));
		json_object_set(h, "queues", qs);
		json_object_set(h, "intervals", json_object_get(per, "intervals"));
		json_object_set(h, "receiver", json_object_get(per, "receiver") ?: json_null());
		json_object_set(h, "plan", json_object_get(per, "plan"));
		json_object_set_new(h, "start_offset_s", real_or_null(in[i].start_rt - in[0].start_rt));
		json_object_set_new(h, "clock_offset_s", real_or_null(in[i].offset_s));
		json_array_append_new(hosts, h);
		json_array_foreach(qs, k, q) {
			json_t *c = json_deep_copy(q);

			json_object_set_new(c, "rank", json_integer(i));
			json_array_append_new(queues, c);
		}
		if (json_is_object(json_object_get(per, "total")))
			json_sum(total, json_object_get(per, "total"), !json_object_size(total));
		if (json_is_object(json_object_get(per, "receiver"))) {
			if (!recv)
				recv = json_object();
			json_sum(recv, json_object_get(per, "receiver"), !json_object_size(recv));
		}
		/* a common start: the k-th interval of every run covers the same time */
		if (i && ivs) {
			json_t *iv;

			json_array_foreach(ivs, k, iv) {
				json_t *o = json_array_get(json_object_get(per, "intervals"), k);
				json_t *oq = json_object_get(o, "queues");

				if (o) {
					json_t *bytes = json_object_get(iv, "bytes"), *bps = json_object_get(iv, "bits_per_second");

					json_integer_set(bytes, json_integer_value(bytes) +
						json_integer_value(json_object_get(o, "bytes")));
					json_real_set(bps, json_real_value(bps) +
						json_real_value(json_object_get(o, "bits_per_second")));
					json_array_extend(json_object_get(iv, "queues"), oq);
				}
			}
		}
	}
	json_object_set_new(root, "total", total);
	json_object_set_new(root, "queues", queues);
	if (ivs)
		json_object_set_new(root, "intervals", ivs);
	if (recv)
		json_object_set_new(root, "receiver", recv);
	json_object_set_new(root, "hosts", hosts);
	json_t *hs = host_steering(in, n);

	if (json_array_size(hs))
		json_object_set_new(root, "host_steering", hs);
	else
		json_decref(hs);
	return root;
}
