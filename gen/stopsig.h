/* stopsig.h - the signals that end a run (SIGINT, SIGTERM, SIGHUP): noted, passed on, held, exit */
#ifndef ZCGEN_STOPSIG_H
#define ZCGEN_STOPSIG_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

/*
 * SIGINT (Ctrl-C), SIGTERM and SIGHUP (a closed terminal, a dropped ssh
 * session) all mean the same: stop, put back what was changed, write the
 * report. The handler only notes the first of them in gen_stop (below),
 * which every long loop polls. While a device is being changed or put back
 * they are held (stopsig_hold), so that neither is cut in half and no
 * netlink or sysfs call of theirs fails with EINTR; they arrive once it is
 * done. After kill -9 nothing runs: `zcgen nic restore` finishes the job.
 *
 * This is the only file in gen/ that installs a signal handler: every
 * command calls stopsig_install() before it touches a lab or a NIC. A
 * process that runs the user's work in a child (the lab runner, compare)
 * passes the signals on to that child (stopsig_forward, set by
 * spawn_child in gen/spawn.h), which stops as it would on its own.
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
 * stopsig_forward() - pass every stop signal on to @pid as well
 * @pid: the child; 0: to nobody
 *
 * One child at a time. spawn_child() sets it with the signals held, so
 * that a signal sent just before the child's pid was known is passed on
 * too; spawn_wait() clears it when it reaps that child, whose pid may be
 * anyone's after that.
 */
void stopsig_forward(pid_t pid);

/** stopsig_forwarded() - the child the stop signals are passed on to; 0: none */
pid_t stopsig_forwarded(void);

/**
 * stopsig_exec_defaults() - in a child about to exec: SIGPIPE back to its
 * default, the stop signals unblocked (both would survive exec)
 */
void stopsig_exec_defaults(void);

/**
 * stopsig_hold() - block the stop signals in the calling thread
 * @old: output: the mask to give stopsig_release()
 *
 * For a step that must not be cut in half (a NIC changed or put back, a
 * child made in spawn_child). A signal sent meanwhile stays pending.
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
 * global; tests/layers.sh checks that only cmd_*.c and the helpers beside them
 * (stopsig, spawn, labrun) name it.
 */
extern volatile sig_atomic_t gen_stop;

#endif
