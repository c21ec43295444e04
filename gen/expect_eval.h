/* expect_eval.h - a profile's expect: thresholds against a run's figures, missed ones reported */
#ifndef ZCGEN_EXPECT_EVAL_H
#define ZCGEN_EXPECT_EVAL_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>
#include "gen/gen.h"
#include "gen/engine.h"
#include "gen/report.h"

#define EXPECT_MAX_NDR_SIZES 32  /* zcgen ndr's --frame-sizes at most */
#define EXPECT_MAX_MISSED (8 + GEN_MAX_EXPECT_OFFLOADS + EXPECT_MAX_NDR_SIZES)

/* The figures of a run that thresholds are compared with; < 0: not measured. */
struct expect_measured {
	double bps_total;
	const double *bps_queue;     /* nq entries, or NULL */
	unsigned nq;
	double loss_percent;
	double p99_latency_s;
	double steering;
	bool steering_shared;        /* none because the device is shared with other fleet ranks */
};

/* One missed threshold. @measured_known false: the run has no such figure. */
struct expect_miss {
	char key[40];                /* "min_gbps_total", "offloads_effective" */
	char threshold[80];          /* "50 Gbit/s", "tso effective" */
	char measured[96];           /* "12.3 Gbit/s", "not measured", "no-effect" */
	double threshold_value;      /* in the key's unit (Gbit/s, %, s, fraction) */
	double measured_value;
	bool measured_known;
	char unit[16];               /* "Gbit/s", "%", "s", "fps", "" */
	unsigned frame_size;         /* min_ndr_fps: the frame size in bytes; 0 otherwise */
};

struct expect_result {
	bool present;                /* the profile has an expect: section */
	unsigned n_checked;
	unsigned n_missed;
	struct expect_miss miss[EXPECT_MAX_MISSED];
};

/**
 * expect_eval() - compare a run's figures with the thresholds
 * @ex: thresholds
 * @m: figures
 * @out: filled: every missed threshold with its measured value
 *
 * A threshold whose figure the run does not have (latency, loss, steering
 * without NIC counters) is missed as "not measured". offloads_effective is
 * not looked at here (expect_eval_offload() is, by offload-check), nor is
 * min_ndr_fps (expect_eval_ndr() is, by zcgen ndr).
 */
void expect_eval(const struct gen_expect *ex, const struct expect_measured *m,
		 struct expect_result *out);

/**
 * expect_eval_offload() - one offloads_effective entry against offload-check's verdict
 * @out: a result from expect_eval() or zeroed; a miss is added when @verdict
 *       is not "effective" (NULL: not measured)
 * Return: true when the name is listed in @ex->offloads_effective.
 */
bool expect_eval_offload(const struct gen_expect *ex, const char *name, const char *verdict,
			 struct expect_result *out);

/**
 * expect_measure_run() - the figures of an engine run
 * @res: the run: total and per-queue bit/s
 * @rcv: the receiver's counts (server zcgen or iperf3), or NULL (server
 *       none): without them loss is not measured
 * @steering: the steering fraction, < 0 when none
 * @bps_queue: nq entries, filled
 * @m: filled
 *
 * Loss, from @rcv: UDP, the datagrams that did not arrive, (lost +
 * tail_lost) / (packets + lost + tail_lost); TCP, the bytes zcgen sent
 * (measured part, what it reports to the server) that the receiver did not
 * count, as a percentage of them: 0 when the receiver got every byte.
 * p99 latency: @rcv's latency_us.p99 (a zcgen sink, UDP), when the sink
 * found it valid (the clocks agree); else not measured.
 */
void expect_measure_run(const struct engine_result *res, const struct report_receiver *rcv,
			double steering, double *bps_queue, struct expect_measured *m);

/**
 * expect_eval_ndr() - expect.min_ndr_fps against the rate zcgen ndr found at one frame size
 * @ex: thresholds; nothing is checked without min_ndr_fps
 * @frame_size: the Ethernet frame size in bytes
 * @found: the search found a rate at this size
 * @fps: the rate found, frames/s
 * @out: a result from expect_eval() or zeroed; one check added, and a miss
 *       when @fps is below the threshold or nothing was found ("not measured")
 * Return: true when the threshold was checked (min_ndr_fps is set).
 */
bool expect_eval_ndr(const struct gen_expect *ex, unsigned frame_size, bool found, double fps,
		     struct expect_result *out);

/* expect_measure_run()'s loss rule alone: a percentage, < 0 when there is no figure. */
double expect_receiver_loss(const struct engine_result *res, const struct report_receiver *rcv);

/*
 * "zcgen: expect: min_gbps_total 50 Gbit/s missed: measured 12.3 Gbit/s", one line per miss;
 * "zcgen: expect: min_ndr_fps at 64 B: 1000000 fps missed: found 812345 fps" for zcgen ndr.
 */
void expect_print(FILE *out, const struct expect_result *r);

/**
 * expect_json_add() - add "expect": {met, checked, missed: [...]} to a report
 * @report: the report object (docs/json.md)
 * @r: the evaluation; nothing is added when @r->present is false
 * Return: 0 or -ENOMEM.
 */
int expect_json_add(json_t *report, const struct expect_result *r);

#endif
