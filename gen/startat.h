/* startat.h - a run that starts at a wall-clock time (--start-at; a fleet's common start) */
#ifndef ZCGEN_STARTAT_H
#define ZCGEN_STARTAT_H

#include <signal.h>
#include <stddef.h>
#include <time.h>
#include "gen/engine.h"

/**
 * startat_parse() - a wall-clock time: RFC 3339 or Unix seconds
 * @s: "2026-12-05T04:00:00Z", "2026-12-05T05:00:00.25+01:00" (T, t or a
 *     space between date and time; Z, z or +-HH:MM), or "1796443200" /
 *     "1796443200.25" (seconds since the epoch, UTC)
 * @at: output, CLOCK_REALTIME
 * @why: what is wrong, for the caller's message
 * @len: size of @why
 *
 * Return: 0, or -EINVAL with @why set.
 */
int startat_parse(const char *s, struct timespec *at, char *why, size_t len);

/** startat_format() - @at as RFC 3339 UTC with nanoseconds ("2026-12-05T04:00:00.000000000Z") */
void startat_format(const struct timespec *at, char *buf, size_t len);

/** startat_seconds() - @at as seconds since the epoch */
static inline double startat_seconds(const struct timespec *at)
{
	return (double)at->tv_sec + at->tv_nsec / 1e9;
}

/**
 * startat_sleep() - sleep until @at on CLOCK_REALTIME
 * @stop: non-zero ends the wait early (the run's stop flag); may be NULL
 *
 * A signal interrupts the sleep (stopsig_install without SA_RESTART), so a
 * stop is seen at once. A clock stepped meanwhile moves the wake-up with it
 * (TIMER_ABSTIME on CLOCK_REALTIME): the start stays on the wall clock.
 * Return: 0 at @at (or at once when it is past), -EINTR when *@stop was set.
 */
int startat_sleep(const struct timespec *at, const volatile sig_atomic_t *stop);

/* --start-at: a controller that waits for the time after the set-up, then starts @inner. */
struct startat {
	struct engine_ctl ctl;
	struct engine_ctl *inner;        /* iperf3's controller, or NULL */
	struct timespec at;              /* the asked start */
	const volatile sig_atomic_t *stop;
	struct timespec started;         /* CLOCK_REALTIME when the measurement began; 0: not */
};

/**
 * startat_ctl() - the controller that makes engine_run() start at @s->at
 * @s: at and stop set; the rest is filled here
 * @inner: the controller it wraps (its stream_open, start after the wait,
 *         poll and finish), or NULL
 *
 * Its start fails with -ETIME (the time passed during the set-up; nothing
 * was sent) or -EINTR (a stop signal during the wait), ctl.err saying so.
 * Return: the controller to give engine_run().
 */
struct engine_ctl *startat_ctl(struct startat *s, struct engine_ctl *inner);

#endif
