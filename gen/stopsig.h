/* stopsig.h - the signals that end a run (SIGINT, SIGTERM, SIGHUP): noted, held over set-up, exit */
#ifndef ZCGEN_STOPSIG_H
#define ZCGEN_STOPSIG_H

#include <signal.h>
#include <stdbool.h>

/*
 * SIGINT (Ctrl-C), SIGTERM and SIGHUP (a closed terminal, a dropped ssh
 * session) all mean the same: stop, put back what was changed, write the
 * report. The handler only notes the first of them in gen_stop (gen/gen.h),
 * which every long loop polls. While a device is being changed or put back
 * they are held (stopsig_hold), so that neither is cut in half and no
 * netlink or sysfs call of theirs fails with EINTR; they arrive once it is
 * done. After kill -9 nothing runs: `zcgen nic restore` finishes the job.
 */

/**
 * stopsig_install() - note SIGINT, SIGTERM and SIGHUP in gen_stop; ignore SIGPIPE
 * @restart: SA_RESTART, for a process that only sets up, waits and tears
 *           down (the lab runner's parent); a run wants a blocking connect()
 *           or read to return EINTR, so that it stops at once
 *
 * A closed pipe on standard output is then a write error, not a death
 * before the NIC is put back.
 */
void stopsig_install(bool restart);

/**
 * stopsig_hold() - block the stop signals in the calling thread
 * @old: output: the mask to give stopsig_release()
 *
 * For a step that must not be cut in half (a NIC changed or put back, a
 * fork). A signal sent meanwhile stays pending.
 */
void stopsig_hold(sigset_t *old);

/**
 * stopsig_release() - unblock them again
 * @old: from stopsig_hold()
 *
 * A signal that arrived while they were held is handled before this
 * returns, so gen_stop tells right after it.
 */
void stopsig_release(const sigset_t *old);

/** stopsig_name() - "SIGINT", "SIGTERM", "SIGHUP", else "signal N" (static buffer) */
const char *stopsig_name(int sig);

/**
 * stopsig_exit_code() - the exit status of a run ended by @sig: 128 + @sig,
 * what a shell shows for a process the signal killed (130, 143, 129)
 */
static inline int stopsig_exit_code(int sig)
{
	return 128 + sig;
}

/**
 * stopsig_die() - end the process by @sig itself, once everything is put back
 * @sig: the signal that stopped it
 *
 * Flushes stdio, restores @sig's default action and raises it: a shell that
 * runs zcgen in a loop sees a child killed by SIGINT and stops too, as it
 * would for any program without a handler. Does not return.
 */
void stopsig_die(int sig) __attribute__((noreturn));

/*
 * The stop flag the handler sets: the command layer's alone (defined in
 * cmd_run.c). Below it the flag travels by pointer (engine_run_ctx.stop,
 * iperf3run_begin's and fleet_begin's @stop), so that no module reads a
 * global; tests/layers.sh checks that only cmd_*.c and stopsig.c name it.
 */
extern volatile sig_atomic_t gen_stop;

#endif
