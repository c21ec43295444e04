/* engine.h - the TX engine: one pinned worker with its own io_uring per queue */
#ifndef ZCGEN_ENGINE_H
#define ZCGEN_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include "gen/gen.h"

/* The crossover used by mode auto when no calibration exists (bytes). */
#define ENGINE_AUTO_CROSSOVER_DEFAULT 3000

struct engine_queue_plan {
	unsigned queue;
	unsigned cpu;
	unsigned streams;
};

/* Everything a run needs, resolved before any traffic. */
struct engine_plan {
	struct gen_profile prof;
	struct sockaddr_storage dest;
	socklen_t destlen;
	char dest_str[300];          /* "198.18.0.2:5201", "[::1]:5201" */
	unsigned nq;
	struct engine_queue_plan q[GEN_MAX_QUEUES];
	bool cpus_wrapped;           /* more queues than CPUs */
	enum gen_mode mode;          /* never AUTO once resolved */
	char mode_reason[512];       /* why this mode, for auto and forced cases */
	uint64_t auto_crossover;     /* auto: the crossover used (bytes) */
	uint64_t msg_size;           /* bytes per send (UDP: whole datagram payload) */
	uint64_t path_mtu;           /* UDP: the route's MTU, 0 if unknown */
	unsigned depth;
	unsigned slots;              /* buffer slots per ring */
	uint64_t slot_size;          /* bytes per slot */
	uint64_t ring_buf_bytes;     /* registered buffer per ring */
	unsigned sq_entries;
};

/*
 * Resolve @prof into @plan: the destination (resolved once), queue -> CPU
 * (wrapping), the send mode auto picks, message and buffer sizes.
 * Return: 0, or -errno with a message for the user in @err.
 */
int engine_plan(const struct gen_profile *prof, struct engine_plan *plan, char *err, size_t errlen);

/* Live counters of one ring: written by its worker, read by the sampler. */
struct engine_live {
	_Atomic uint64_t bytes;
	_Atomic uint64_t sends;
	_Atomic uint64_t notifs;
	_Atomic uint64_t zc_copied;
	_Atomic uint64_t errors;
} __attribute__((aligned(64)));

struct engine_queue_result {
	unsigned queue, cpu, streams;
	unsigned streams_ok;         /* streams that connected */
	unsigned streams_failed;     /* refused, reset, or failed later */
	uint64_t bytes, sends, zc_sends, notifs, zc_copied, short_sends, errors;
	uint64_t bytes_all;          /* warm-up included */
	uint64_t retransmits;        /* TCP: sum of tcpi_total_retrans */
	uint64_t slot_violations;    /* must be 0: a slot CQE out of order */
	uint64_t outstanding;        /* sends or notifications still owed at close */
	bool lingered;               /* drain timed out: closed with SO_LINGER 0 */
	unsigned ring_flags;         /* IORING_SETUP_* the ring got */
	int err_errno[8];
	uint32_t err_count[8];
	char first_error[400];
};

struct engine_interval {
	double start_s, end_s;       /* since the measured part began (after omit) */
	uint64_t *bytes;             /* per queue */
	uint64_t *sends;
};

struct engine_result {
	unsigned nq;
	struct engine_queue_result *q;
	unsigned nint;
	struct engine_interval *iv;
	double duration_s;           /* measured part: omit excluded */
	double omitted_s;
	bool interrupted;            /* stopped by SIGINT/SIGTERM */
	char ring_note[200];         /* ring set-up fallbacks, if any */
};

/* Called by the sampler for each finished interval (live lines). */
typedef void (*engine_interval_cb)(const struct engine_plan *plan, const struct engine_interval *iv,
				   void *arg);

/*
 * Run the plan: start one worker per queue, sample every interval, stop at
 * the duration or when gen_stop is set, drain, and fill @res.
 * Return: 0 when the run took place (even if streams failed: see @res),
 * -errno when it could not start at all.
 */
int engine_run(const struct engine_plan *plan, struct engine_result *res, engine_interval_cb cb,
	       void *cb_arg);
void engine_result_free(struct engine_result *res);

#endif
