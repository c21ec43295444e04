/* merge.c - one report from several runs' JSON: a fleet's ranks, or `zcgen merge`'s files */
#include <math.h>
#include <stdbool.h>
#include <string.h>
#include "gen/merge.h"

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
	return root;
}
