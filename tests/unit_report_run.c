/* unit_report_run.c - a run's report rows from a hand-made plan and result: zero duration, no receiver, loss, NaN */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "gen/report.h"
#include "gen/profile.h"

struct fixture {
	struct engine_plan *plan;
	struct engine_queue_result q[2];
	struct engine_result res;
};

/* Two UDP queues; @dur seconds measured. */
static void make(struct fixture *f, double dur)
{
	memset(f, 0, sizeof(*f));
	f->plan = calloc(1, sizeof(*f->plan));
	assert_non_null(f->plan);
	profile_init(&f->plan->prof);
	f->plan->prof.proto = GEN_PROTO_UDP;
	snprintf(f->plan->dest_str, sizeof(f->plan->dest_str), "192.0.2.1:5201");
	f->plan->mode = GEN_MODE_ZC;
	f->plan->msg_size = 1400;
	f->plan->gso = 1;
	f->plan->nq = 2;
	for (unsigned i = 0; i < 2; i++) {
		f->plan->q[i] = (struct engine_queue_plan){ .queue = i, .cpu = i, .streams = 1 };
		f->q[i] = (struct engine_queue_result){ .queue = i, .cpu = i, .streams = 1,
							.bytes = 1400000 * (i + 1),
							.sends = 1000 * (i + 1),
							.datagrams = 1000 * (i + 1),
							.notifs = 1000 * (i + 1) };
	}
	f->res = (struct engine_result){ .nq = 2, .q = f->q, .duration_s = dur,
					 .end = ENGINE_END_DURATION };
}

static char *text_of(const struct report_ctx *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	report_table(f, r);
	report_csv(f, r);
	fclose(f);
	assert_null(strcasestr(buf, "nan"));
	assert_null(strcasestr(buf, " inf"));
	return buf;
}

static double num(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_number(v))
		fail_msg("%s is not a number", key);
	assert_true(isfinite(json_number_value(v)));
	return json_number_value(v);
}

/* Nothing measured (stopped at once): every rate 0, no NaN, no receiver keys. */
static void test_zero_duration(void **state)
{
	struct fixture f;
	uint64_t b[2] = { 5, 6 }, s[2] = { 1, 1 };
	struct engine_interval iv = { .start_s = 0, .end_s = 0, .bytes = b, .sends = s };
	struct report_ctx r;
	json_t *j, *t, *q;
	char *txt;

	(void)state;
	make(&f, 0);
	f.res.nint = 1;
	f.res.iv = &iv;
	r = (struct report_ctx){ .plan = f.plan, .res = &f.res, .steering = -1 };
	j = report_json(&r);
	assert_non_null(j);
	t = json_object_get(j, "total");
	assert_int_equal(json_integer_value(json_object_get(t, "bytes")), 4200000);
	assert_true(num(t, "bits_per_second") == 0);
	assert_true(num(t, "sends_per_second") == 0);
	assert_true(num(t, "datagrams_per_second") == 0);
	assert_null(json_object_get(j, "receiver"));
	assert_null(json_object_get(t, "received_bits_per_second"));
	assert_null(json_object_get(t, "steering"));
	q = json_array_get(json_object_get(j, "queues"), 1);
	assert_true(num(q, "bits_per_second") == 0);
	assert_true(fabs(num(q, "share") - 2.0 / 3) < 1e-12);
	assert_true(num(json_array_get(json_object_get(j, "intervals"), 0), "bits_per_second") == 0);
	json_decref(j);
	txt = text_of(&r);
	assert_null(strstr(txt, "receiver ("));
	assert_non_null(strstr(txt, "4200000 bytes in 0.000 s"));
	assert_non_null(strstr(txt, "0.000000,0.000000,1,1,6,1,0\n"));   /* CSV: no rate of no time */
	free(txt);
	free(f.plan);
}

/*
 * The receiver's loss is lost over what it expected (received + lost):
 * never above 100 %, even when it saw nothing at all.
 */
static void test_receiver_loss(void **state)
{
	static const struct {
		uint64_t packets, lost;
		double pct;
	} t[] = {
		{ 990, 10, 1.0 },
		{ 0, 3000, 100.0 },
		{ 0, 0, 0.0 },       /* nothing expected: no loss, not 0/0 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct fixture f;
		struct report_receiver_stream rs = { .id = 1, .queue = 0, .stream = 0,
						     .bytes = t[i].packets * 1400,
						     .packets = t[i].packets, .lost = t[i].lost };
		struct report_receiver rv = { .source = "zcgen", .udp = true,
					      .bytes = t[i].packets * 1400, .packets = t[i].packets,
					      .lost = t[i].lost, .n = 1, .streams = &rs };
		struct report_ctx r;
		json_t *j, *v;
		char *txt, want[64];

		make(&f, 2);
		r = (struct report_ctx){ .plan = f.plan, .res = &f.res, .steering = -1, .receiver = &rv };
		j = report_json(&r);
		assert_non_null(j);
		v = json_object_get(j, "receiver");
		assert_true(fabs(num(v, "lost_percent") - t[i].pct) < 1e-9);
		assert_true(num(v, "lost_percent") <= 100);
		assert_true(fabs(num(json_object_get(j, "total"), "received_bits_per_second") -
				 t[i].packets * 1400 * 8 / 2.0) < 1e-6);
		/* not a zcgen sink's extras: null, not zeros */
		assert_true(json_is_null(json_object_get(v, "latency_us")));
		assert_true(json_is_null(json_object_get(v, "duplicates")));
		json_decref(j);
		txt = text_of(&r);
		snprintf(want, sizeof(want), "lost (%.2f%%)", t[i].pct);
		assert_non_null(strstr(txt, want));
		free(txt);
		free(f.plan);
	}
}

/* A zcgen sink's latency through the one writer, and its verdict beside it. */
static void test_receiver_latency(void **state)
{
	struct fixture f;
	struct report_receiver rv = {
		.source = "zcgen", .udp = true, .bytes = 1400, .packets = 1,
		.x = { .extra = true, .lat = { .present = true, .valid = false, .p50 = 5, .p90 = 6,
					       .p99 = 7, .p99_9 = 8, .max = 9, .mean = 5.5,
					       .count = 1, .negative = 4 } },
	};
	struct report_ctx r;
	json_t *j, *l, *v;

	(void)state;
	make(&f, 1);
	r = (struct report_ctx){ .plan = f.plan, .res = &f.res, .steering = -1, .receiver = &rv };
	j = report_json(&r);
	v = json_object_get(j, "receiver");
	l = json_object_get(v, "latency_us");
	assert_int_equal(json_object_size(l), 7);
	assert_true(num(l, "p99_9") == 8);
	assert_null(json_object_get(l, "valid"));
	assert_true(json_is_false(json_object_get(v, "latency_valid")));
	assert_int_equal(json_integer_value(json_object_get(v, "latency_negative")), 4);
	assert_int_equal(json_integer_value(json_object_get(v, "duplicates")), 0);
	json_decref(j);
	/* ndr's form carries the verdict inside */
	l = report_latency_json(&rv.x.lat, true);
	assert_true(json_is_false(json_object_get(l, "valid")));
	json_decref(l);
	rv.x.lat.present = false;
	l = report_latency_json(&rv.x.lat, true);
	assert_true(json_is_null(l));
	json_decref(l);
	free(f.plan);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zero_duration),
		cmocka_unit_test(test_receiver_loss),
		cmocka_unit_test(test_receiver_latency),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
