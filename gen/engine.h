/* engine.h - the TX engine: one pinned worker with its own io_uring per queue */
#ifndef ZCGEN_ENGINE_H
#define ZCGEN_ENGINE_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include "gen/gen.h"
#include "gen/sockopts.h"

/* The crossover used by mode auto when no calibration exists (bytes). */
#define ENGINE_AUTO_CROSSOVER_DEFAULT 3000
/*
 * Mode auto on zero-copy watches this many notifications per ring; when at
 * least this share of them says the kernel copied, the ring sends by copy.
 */
#define ENGINE_AUTO_ADAPT_NOTIFS 64
#define ENGINE_AUTO_ADAPT_COPIED_PCT 90.0

/*
 * Unpaced TCP copy sends: each ring's streams share this much send buffer
 * (SO_SNDBUF, which the kernel doubles), and no stream gets less than the
 * kernel's own autotuning ceiling (net.ipv4.tcp_wmem's 4 MiB). On the
 * veth lab a copying stream with 4 MiB stalled whenever the sending thread
 * was late to refill it; zero-copy sends, one at a time, went faster with
 * the kernel's autotuning. docs/performance.md has the measurements.
 */
#define ENGINE_TCP_SNDBUF_RING (32u << 20)
#define ENGINE_TCP_SNDBUF_MIN (4u << 20)

/* A paced ring catches up at most this much of its schedule after a late wake-up (engine.c). */
#define ENGINE_PACE_BUCKET_MS 5ULL

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
	bool auto_adapt;             /* auto chose zero-copy: rings fall back to copy if it is copied */
	uint64_t msg_size;           /* bytes per send (UDP: whole datagram payload) */
	uint64_t path_mtu;           /* UDP: the route's MTU, 0 if unknown */
	char size_note[200];         /* UDP without size: how the default was chosen */
	unsigned depth;              /* as given, else by protocol and mode (GEN_DEPTH_*) */
	unsigned depth_copy;         /* a ring that mode auto switches to copy: its depth then */
	uint32_t tcp_sndbuf;         /* unpaced TCP copy sends: SO_SNDBUF per stream; 0 autotuning */
	unsigned slots;              /* buffer slots per ring */
	uint64_t slot_size;          /* bytes per slot */
	uint64_t ring_buf_bytes;     /* registered buffer per ring */
	unsigned sq_entries;
	struct sockopts_plan so;     /* source, device, TOS, congestion (gen/sockopts.h) */
	unsigned gso;                /* UDP: datagrams per send (UDP_SEGMENT); 1: no GSO */
	uint64_t max_size;           /* UDP: the largest datagram (sizes:), else msg_size */
	/* rate control (docs/profiles.md, "Rate"); paced false: as fast as it goes */
	bool paced;
	bool rate_pps;               /* the rate counts packets (datagrams), else bits at the layer */
	bool pacer_per_stream;       /* rate.per: stream: one pacer per stream, else one per ring */
	double pace_share;           /* a pacer's share of the profile's rates (pacer_split) */
	/*
	 * The warm-up (omit) is marked on the wire, so that the receiver
	 * counts the same measured part: UDP sequences with UDPSEQ_WARMUP
	 * (gen/udpseq.h), TCP bytes with the shifted pattern (gen/payload.h).
	 * With omit, towards server none or zcgen; never towards iperf3 -s.
	 */
	bool mark_warmup;
};

/*
 * A run is prepared in three steps (docs/engine.md, "Resolve, plan,
 * check"):
 *
 *   engine_resolve()  the facts of this host: DNS, CPUs, route MTU, calibration
 *   engine_plan()     the plan: a pure function of the profile and the facts
 *   engine_check()    the host can carry the plan: sockets, device, huge pages
 *
 * engine_prepare() does the three in a row. `zcgen run` does them apart:
 * a nic: section's queue -> CPU map (and MTU) is a fact the NIC gives only
 * once applied (gen/runnic.h), so it plans again from the facts it changed.
 */
struct engine_facts {
	struct sockaddr_storage dest;    /* the target, resolved once */
	socklen_t destlen;
	/*
	 * The CPUs the queues are pinned to, in turn and wrapping: the
	 * profile's cpus:, else those this process may use; a nic: section
	 * applied replaces them with its queue -> CPU map.
	 */
	unsigned cpus[GEN_MAX_CPUS];
	unsigned ncpus;
	uint64_t path_mtu;               /* UDP: the route's MTU towards dest, 0 unknown */
	uint64_t crossover;              /* mode auto: the crossover (bytes) ... */
	char crossover_src[300];         /* ... and where it comes from */
	char congestion_default[16];     /* TCP: net.ipv4.tcp_congestion_control */
};

/*
 * engine_resolve - gather the facts @prof's plan needs from this host: the
 * target's address (DNS), the CPUs, the route's MTU (UDP), the calibrated
 * crossover (mode auto: calibration file, the route device's driver).
 * Return: 0, or -errno with a message for the user in @err.
 */
int engine_resolve(const struct gen_profile *prof, struct engine_facts *f, char *err, size_t errlen);
/* engine_resolve_mtu - read the route's MTU again (a nic: section may have changed it). */
void engine_resolve_mtu(struct engine_facts *f);
/* engine_facts_cpus - the queues go on @cpus (a NIC's queue -> CPU map), @n > 0. */
void engine_facts_cpus(struct engine_facts *f, const unsigned *cpus, unsigned n);

/*
 * engine_plan - @plan from @prof and @f alone (no system call): queue ->
 * CPU (wrapping), the send mode auto picks, message and buffer sizes,
 * GSO, the rate's share, socket options.
 * Return: 0, or -errno with a message for the user in @err.
 */
int engine_plan(const struct gen_profile *prof, const struct engine_facts *f,
		struct engine_plan *plan, char *err, size_t errlen);
/*
 * engine_check - can this host carry @plan: every data socket set up as
 * the run will (source addresses, ports, device, TOS, congestion), huge
 * pages when asked for. Return: 0, or -errno with a message in @err.
 */
int engine_check(const struct engine_plan *plan, char *err, size_t errlen);
/* engine_prepare - engine_resolve(), engine_plan(), engine_check(). */
int engine_prepare(const struct gen_profile *prof, struct engine_plan *plan, char *err,
		   size_t errlen);

/* Live counters of one ring: written by its worker, read by the sampler. */
struct engine_live {
	_Atomic uint64_t bytes;
	_Atomic uint64_t sends;
	_Atomic uint64_t bytes_meas;  /* of sends queued after the warm-up */
	_Atomic uint64_t sends_meas;
	_Atomic uint64_t notifs;
	_Atomic uint64_t zc_copied;
	_Atomic uint64_t errors;
} __attribute__((aligned(64)));

/* One stream's counts (a data connection), in connection order within its queue. */
struct engine_stream_result {
	uint64_t bytes;              /* measured part: sends queued after the warm-up */
	uint64_t bytes_all;          /* warm-up included */
	uint64_t sends;              /* measured part; UDP: datagrams */
	uint64_t sends_all;
	uint64_t datagrams;          /* UDP: measured part (a GSO send carries several) */
	uint64_t datagrams_all;
	uint64_t retransmits;        /* TCP: tcpi_total_retrans, whole run */
	bool failed;
};

struct engine_queue_result {
	unsigned queue, cpu, streams;
	struct engine_stream_result *st; /* streams entries */
	double cpu_s;                /* the worker thread's own CPU time over the measured part */
	unsigned streams_ok;         /* streams that connected */
	unsigned streams_failed;     /* refused, reset, or failed later */
	uint64_t bytes, sends, zc_sends, notifs, zc_copied, short_sends, errors;
	uint64_t bytes_all;          /* warm-up included */
	uint64_t datagrams;          /* UDP: datagrams in the measured sends (sends x gso) */
	uint64_t retransmits;        /* TCP: sum of tcpi_total_retrans */
	/*
	 * Rate (plan->paced): over the worker's own measured span, the mean
	 * target the schedule set and what its sends were charged, in the
	 * rate's unit (bits at the layer, or packets) per second. Missed: a
	 * pacer fell behind by more than its bucket for more than a tick, or
	 * the achieved rate is below 99% of the target.
	 */
	double rate_target, rate_achieved;
	/*
	 * ... and the schedule's credit given up over the same span, per
	 * second, in the same unit: the ring was late by more than its bucket
	 * (a busy CPU) and what was due beyond the bucket was not sent in a
	 * rush afterwards. target = achieved + forfeited, within the credit
	 * left at the span's ends (a send or so).
	 */
	double rate_forfeited;
	bool rate_missed;
	uint64_t slot_violations;    /* must be 0: a slot CQE out of order */
	/*
	 * UDP: the longest time every buffer slot waited for its zero-copy
	 * notification, so that the ring had nothing to send from. Micro-
	 * seconds normally; seconds when the kernel holds the skbs (an
	 * unresolved next hop queues them in its neighbour entry: docs/lab.md).
	 */
	double slots_dry_max_s;
	uint64_t waits;              /* unpaced: the ring's waits for completions */
	uint64_t waits_untimed;      /* of them, without a timeout (woken by the tick) */
	uint64_t outstanding;        /* sends or notifications still owed at close */
	bool lingered;               /* drain timed out: closed with SO_LINGER 0 */
	bool auto_switched;          /* auto: this ring went from zero-copy to copy */
	uint64_t auto_switch_sends;  /* ... after this many sends */
	double auto_copied_pct;      /* auto: share of the watched notifications that were copied */
	bool buf_huge;               /* the ring's buffer got huge pages (gen/hugebuf.h) */
	uint64_t buf_maplen;         /* its mapping's length */
	unsigned ring_flags;         /* IORING_SETUP_* the ring got */
	int err_errno[8];
	uint32_t err_count[8];
	char first_error[400];
	/*
	 * The run stalled (engine_result.end): what this ring showed then, the
	 * stream that held the most, the socket's state and the last error.
	 */
	char stall_note[640];
	double drain_stalled_s;      /* > 0: the path stalled while this ring drained at the end */
};

/* One queue's counters since the run started (warm-up included): for --metrics. */
struct engine_totals {
	uint64_t bytes, sends, notifs, zc_copied, errors;
};

struct engine_interval {
	double start_s, end_s;       /* since the measured part began (after omit) */
	uint64_t *bytes;             /* per queue */
	uint64_t *sends;
	struct engine_totals *total; /* per queue, cumulative at the interval's end */
};

/* Why the run ended (engine_end_name(): the JSON's end_reason). */
enum engine_end {
	ENGINE_END_DURATION,   /* the duration ran out */
	ENGINE_END_SIGNAL,     /* the run's stop flag was set (SIGINT, SIGTERM, ...) */
	ENGINE_END_STALLED,    /* no progress for the stall timeout (gen/stall.h) */
	ENGINE_END_ERROR,      /* every ring stopped (all streams failed), or the peer ended it */
};
const char *engine_end_name(enum engine_end e);

struct engine_result {
	unsigned nq;
	struct engine_queue_result *q;
	unsigned nint;
	struct engine_interval *iv;
	double duration_s;           /* measured part: omit excluded */
	double omitted_s;
	bool interrupted;            /* stopped by SIGINT/SIGTERM */
	enum engine_end end;
	char end_msg[1600];          /* stalled or error: why, in words; "" otherwise */
	double stalled_s;            /* stalled: the time without progress that ended it */
	bool stalled_in_drain;       /* ... found by a ring's drain after the duration ended */
	char ring_note[200];         /* ring set-up fallbacks, if any */
};

/* Called by the sampler for each finished interval (live lines). */
typedef void (*engine_interval_cb)(const struct engine_plan *plan, const struct engine_interval *iv,
				   void *arg);

/*
 * A controller: a control protocol around the data path (iperf3's). With
 * one, engine_run() changes the run's shape as follows:
 *
 * - Only when @stream_open is set (a controller without it, --start-at's
 *   alone, leaves the connections to the workers, as without one): the
 *   data connections are made by the calling thread, one after another
 *   in a fixed order: queue 0 stream 0, queue 0 stream 1, ..., queue 1
 *   stream 0, ... After each connect(), @stream_open is called with the
 *   socket before anything else is written on it (iperf3: the cookie, or
 *   the UDP handshake). The sockets are then handed to the pinned workers.
 * - @start is called once every worker is set up; no data is sent before it
 *   returns 0 (iperf3: TEST_START and TEST_RUNNING).
 * - @poll (may be NULL) is called every 50 ms or so while data flows; a
 *   non-zero return stops the run (the peer gave up or failed).
 * - At the end the workers stop submitting and drain their completions and
 *   notifications but leave the sockets open; @finish is then called with
 *   @res complete and every data socket in connection order (-1 where the
 *   drain had to reset one; none without @stream_open), and only after it
 *   are the sockets closed.
 *
 * Callbacks return 0 or -errno and may leave a message in @err; the engine
 * writes its own failures (a data connection that failed) there too.
 */
struct engine_ctl {
	void *arg;
	int (*stream_open)(struct engine_ctl *ctl, unsigned queue, unsigned stream, int fd);
	int (*start)(struct engine_ctl *ctl);
	int (*poll)(struct engine_ctl *ctl);
	void (*finish)(struct engine_ctl *ctl, const int *fds, unsigned nfds,
		       const struct engine_plan *plan, const struct engine_result *res);
	char err[1024];
};

/* What a run is given besides its plan: when to stop, where the intervals go, a controller. */
struct engine_run_ctx {
	/*
	 * Non-zero: stop now (the command's signal flag, gen/stopsig.h; the
	 * run ends with ENGINE_END_SIGNAL). NULL: only the run's own ends.
	 */
	const volatile sig_atomic_t *stop;
	engine_interval_cb cb;       /* each finished interval (NULL: none) */
	void *cb_arg;
	/*
	 * NULL, or a controller without stream_open: the engine makes its
	 * connections itself (in the workers); with stream_open, the
	 * controller's mode above. Its start, if any, runs once every ring
	 * is set up, before the first send (--start-at waits there).
	 */
	struct engine_ctl *ctl;
};

/*
 * engine_run - run the plan: start one worker per queue, sample every
 * interval, stop at the duration, when *@ctx->stop is set, when every ring
 * stopped, or when the path stalled (prof.stall_timeout_ns without
 * progress: gen/stall.h); drain (at once, with the connections reset,
 * after a stall), and fill @res, @res->end saying which.
 * Return: 0 when the run took place (even if streams failed: see @res),
 * -errno when it could not start at all; with a controller, -errno and
 * @ctx->ctl->err set when a data connection, @stream_open or @start failed
 * (nothing was sent then).
 */
int engine_run(const struct engine_plan *plan, const struct engine_run_ctx *ctx,
	       struct engine_result *res);
void engine_result_free(struct engine_result *res);

#endif
