/* iperf3run.h - a zcgen run as the client side of the iperf3 control protocol */
#ifndef ZCGEN_IPERF3RUN_H
#define ZCGEN_IPERF3RUN_H

/*
 * The glue between gen/iperf3.[ch] (the protocol) and the engine (the data
 * path): an engine controller that makes the data connections speak
 * iperf3's first bytes, holds the data back until TEST_RUNNING, waits for
 * the send queues to empty before TEST_END, and exchanges results.
 *
 * Use:
 *   iperf3run_begin()           control connection, parameters, CREATE_STREAMS
 *   engine_run(plan, &(struct engine_run_ctx){ .ctl = &r->ctl, ... }, &res)
 *   iperf3run_receiver()        the server's counts for the report
 *   iperf3run_done()            CLIENT_TERMINATE if the test did not end, close
 */

#include <stdbool.h>
#include "gen/engine.h"
#include "gen/iperf3.h"
#include "gen/report.h"

/*
 * After the rings are drained and the send queues are empty (every byte
 * acknowledged by the receiving kernel), this long for the server to read
 * its receive queues before TEST_END: iperf3 closes its data sockets at
 * TEST_END without reading what is left in them.
 */
#define IPERF3RUN_SETTLE_MS 250
/* How long the send queues may take to empty before TEST_END anyway. */
#define IPERF3RUN_DRAIN_TIMEOUT_MS 5000
/*
 * The result exchange after TEST_END: a server that is up answers at once
 * (each answer within this); a dead one must not hold the end of the run.
 */
#define IPERF3RUN_END_TIMEOUT_MS 3000
/* The first answer (PARAM_EXCHANGE or ACCESS_DENIED) comes at once from a real server. */
#define IPERF3RUN_HELLO_TIMEOUT_MS 3000

struct iperf3run {
	struct engine_ctl ctl;        /* hand &ctl to engine_run() */
	const volatile sig_atomic_t *stop; /* the run's stop flag (engine_run_ctx.stop), or NULL */
	struct iperf3_client c;
	enum gen_server kind;         /* GEN_SERVER_IPERF3 or GEN_SERVER_ZCGEN */
	char where[300];              /* HOST:PORT, for messages */
	bool udp;
	unsigned nstreams;
	unsigned q_of[IPERF3_MAX_STREAMS], s_of[IPERF3_MAX_STREAMS]; /* index -> queue, stream */
	unsigned time_s, omit_s;      /* as sent: whole seconds */

	/* how it went */
	bool connected;               /* control connection open */
	bool running;                 /* TEST_RUNNING seen */
	bool ended;                   /* results exchanged, IPERF_DONE sent */
	bool terminated;              /* CLIENT_TERMINATE sent */
	bool failed;                  /* a protocol or server error: msg says what */
	char msg[1024];               /* the error, for the user */
	char note[1024];              /* what the user should know, or "" */

	struct iperf3_results mine, theirs;
	struct report_receiver rcv;
	struct report_receiver_stream rs[IPERF3_MAX_STREAMS];
};

/**
 * iperf3run_begin - open the control connection to plan->prof's host and
 * port, send the parameters (the time rounded up to whole seconds: see
 * @r->note), and wait for CREATE_STREAMS.
 * @r: filled (need not be zeroed)
 * @stop: the run's stop flag (a signal): non-zero ends the wait for the
 * send queues to empty at the end; NULL: never
 * Return: 0; -EINVAL when the plan cannot be run this way (more than 128
 * streams); -EACCES when the server is busy; other -errno. @r->msg says
 * what went wrong in words for the user.
 */
int iperf3run_begin(struct iperf3run *r, const struct engine_plan *plan,
		    const volatile sig_atomic_t *stop);

/**
 * iperf3run_receiver - the server's counts after a test that ended
 * normally, matched to zcgen's (queue, stream); NULL when there are none
 * (terminated, failed).
 */
const struct report_receiver *iperf3run_receiver(struct iperf3run *r);

/** iperf3run_done - say CLIENT_TERMINATE if the test began but did not end, then close. */
void iperf3run_done(struct iperf3run *r);

#endif
