/* unit_report_offload.c - `zcgen offload-check`'s report from hand-made results: unknown figures, JSON, text */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "gen/report_offload.h"

static char *result_text(const struct oc_result *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	report_offload_result(f, r);
	fclose(f);
	assert_null(strcasestr(buf, "nan"));
	assert_null(strcasestr(buf, " inf"));
	return buf;
}

/* A state whose CPU and bytes/packet are unknown, and one with a verifying receiver. */
static void test_results(void **state)
{
	struct oc_result r[2];
	struct report_offload rep = {
		.dev = "zcgen-tx0", .mtu = 1500, .dest = "10.0.0.2:5201", .rx_host = "10.0.0.2",
		.proto = GEN_PROTO_UDP, .mode = GEN_MODE_ZC, .size = 1400, .queues = 1, .repeat = 2,
		.duration_s = 0.5, .r = r, .n = 2,
	};
	json_t *j, *o, *on, *off;
	char *txt;

	(void)state;
	memset(r, 0, sizeof(r));
	snprintf(r[0].name, sizeof(r[0].name), "gso");
	r[0].verdict = OFFLOAD_EFFECTIVE;
	snprintf(r[0].evidence, sizeof(r[0].evidence), "bytes/packet 64000 on, 1428 off");
	r[0].measured = true;
	r[0].on = (struct offload_figures){ .runs = 2, .runs_ok = 2, .bps = 5e9, .sends_per_s = 1000,
					    .cpu_s_per_gb = 0.5, .bytes_per_packet = 64000,
					    .zc_copied_percent = -1,
					    .rx = { .checked = true, .udp = true, .runs = 2,
						    .loss_percent = 0.25, .corrupt_bytes = 0 } };
	r[0].off = (struct offload_figures){ .runs = 2, .runs_ok = 0, .cpu_s_per_gb = -1,
					     .bytes_per_packet = -1, .zc_copied_percent = -1,
					     .rx = { .loss_percent = -1 } };
	snprintf(r[0].kernel[0], sizeof(r[0].kernel[0]), "tx-generic-segmentation");
	r[0].n_kernel = 1;
	r[0].needs[0] = "tx-scatter-gather";
	r[0].n_needs = 1;
	snprintf(r[1].name, sizeof(r[1].name), "tso");
	r[1].verdict = OFFLOAD_UNSUPPORTED;
	snprintf(r[1].evidence, sizeof(r[1].evidence), "fixed off on this device");
	snprintf(r[1].note, sizeof(r[1].note), "a note");

	txt = result_text(&r[0]);
	assert_non_null(strstr(txt, "gso: effective\n"));
	assert_non_null(strstr(txt, "  on        5.00       1000      0.50     64000       -       0 "
				    "       0   0.25%\n"));
	/* unknown figures print as "-", never as a number */
	assert_non_null(strstr(txt, "  off       0.00          0         -         -       -       0 "
				    "       -       -\n"));
	assert_non_null(strstr(txt, "  turned on for the test (it needs them): tx-scatter-gather\n"));
	free(txt);
	txt = result_text(&r[1]);
	assert_string_equal(txt, "tso: unsupported\n  evidence: fixed off on this device\n"
			    "  note: a note\n");
	free(txt);

	j = report_offload_json(&rep, true, NULL);
	assert_non_null(j);
	assert_true(json_is_true(json_object_get(j, "integrity_checked")));
	assert_true(json_is_true(json_object_get(j, "restored")));
	assert_null(json_object_get(j, "expect"));
	o = json_array_get(json_object_get(j, "offloads"), 0);
	on = json_object_get(o, "on");
	off = json_object_get(o, "off");
	assert_true(json_is_null(json_object_get(on, "zc_copied_percent")));
	assert_true(json_is_null(json_object_get(off, "cpu_seconds_per_gb")));
	assert_true(json_is_null(json_object_get(off, "bytes_per_packet")));
	assert_true(json_is_null(json_object_get(off, "receiver")));   /* no run had its counts */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(on, "receiver"), "sent_bytes")), 0);
	assert_true(fabs(json_real_value(json_object_get(json_object_get(on, "receiver"),
							 "loss_percent")) - 0.25) < 1e-12);
	assert_string_equal(json_string_value(json_array_get(json_object_get(o, "needed_on"), 0)),
			    "tx-scatter-gather");
	o = json_array_get(json_object_get(j, "offloads"), 1);
	assert_true(json_is_null(json_object_get(o, "on")));            /* not measured */
	assert_string_equal(json_string_value(json_object_get(o, "note")), "a note");
	assert_int_equal(json_array_size(json_object_get(o, "kernel_features")), 0);
	json_decref(j);

	/* without a receiver of its own: integrity not checked, the header says where it went */
	rep.rx_host = NULL;
	j = report_offload_json(&rep, false, NULL);
	assert_true(json_is_false(json_object_get(j, "integrity_checked")));
	assert_true(json_is_false(json_object_get(j, "restored")));
	json_decref(j);
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		report_offload_header(f, &rep);
		fclose(f);
		assert_string_equal(buf, "offload-check zcgen-tx0 (MTU 1500): udp 10.0.0.2:5201, 1 queue, "
				    "zc, 1400 B sends, 0.5 s per run, 2 runs per state\nreceiver: "
				    "10.0.0.2:5201, not offload-check's own: data integrity and loss are "
				    "not checked (--lab without --dest checks them)\n");
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_results),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
