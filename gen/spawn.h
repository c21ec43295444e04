/* spawn.h - the one place in gen/ that starts a child process: set-up, exec or a function, wait, stop */
#ifndef ZCGEN_SPAWN_H
#define ZCGEN_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Every child zcgen starts comes from spawn_child(): a receiver (`zcgen
 * sink`, `iperf3 -s`) that runs beside the work, a tool run to completion
 * (compare's zcgen and iperf3), or a copy of this process that runs a
 * function after entering the lab (gen/labrun.h). Describe it with
 * SPAWN_INIT and designated fields, e.g.
 *
 *   struct spawn sp = SPAWN_INIT;
 *   sp.argv = argv; sp.own_group = true; sp.death_sig = SIGTERM; sp.out = pipe_w;
 *
 * In the child, in this order: its own process group (@own_group), the
 * death signal (@death_sig; a parent already gone ends it with 127),
 * the stop signals back as the caller had them, descriptors 0-2 (@in,
 * @out, @err), @setup, then exec of @exe (SIGPIPE and the stop signals
 * back to their defaults first) or @fn.
 */
struct spawn {
	char *const *argv;          /* the program's arguments, NULL-terminated; NULL: call @fn */
	const char *exe;            /* the program to execv; NULL: /proc/self/exe (zcgen itself) */
	int (*fn)(void *arg);       /* without @argv: run in the child, its return the exit status */
	/*
	 * In the child, before exec or @fn: join a namespace, pin CPUs. Return
	 * 0 to go on, else the child's exit status (126: it could not be set
	 * up). It may write to the child's stderr, which is @err.
	 */
	int (*setup)(void *arg);
	void *arg;                  /* for @setup and @fn */
	int in, out, err;           /* descriptors for the child's 0, 1, 2; -1: inherited */
	bool own_group;             /* setpgid: a ^C on the terminal reaches only us, and we stop it */
	int death_sig;              /* PR_SET_PDEATHSIG: sent to the child when we die; 0: none */
	bool forward;               /* pass our stop signals on to it (gen/stopsig.h), one at a time */
};

#define SPAWN_INIT { .in = -1, .out = -1, .err = -1 }

/**
 * spawn_child() - start the child that @sp describes
 * @sp: the child
 * @pid: output: its pid
 *
 * stdio is flushed first, so that nothing buffered is written twice. The
 * stop signals are held while the child is made: with @sp->forward, one sent at any
 * moment reaches the child. An exec that fails says `cannot run EXE: why`
 * on the child's stderr and exits 127.
 *
 * Return: 0, or -errno when no child could be made.
 */
int spawn_child(const struct spawn *sp, pid_t *pid);

/**
 * spawn_wait() - wait for @pid to end (signals do not cut the wait short)
 * @pid: from spawn_child()
 * @status: output: as waitpid() gives it
 *
 * Return: 0, or -errno (-ECHILD: not our child, or reaped already).
 */
int spawn_wait(pid_t pid, int *status);

/**
 * spawn_poll() - has @pid ended? Reaps it when it has
 * @pid: from spawn_child()
 * @status: output, when it has ended
 *
 * Return: 1 ended, 0 still running, or -errno (-ECHILD: not ours).
 */
int spawn_poll(pid_t pid, int *status);

/**
 * spawn_stop() - ask @pid to end with @sig, give it @grace_ms, then SIGKILL
 * @pid: from spawn_child(); nothing happens for 0
 * @sig: the first signal to send: SIGINT, SIGTERM; SIGKILL for no grace
 * @grace_ms: how long it may take to finish
 * @status: output: how it ended; may be NULL
 * @drain: called about every 10 ms while it has not ended (a pipe it
 *         writes to emptied, so that it never blocks); may be NULL
 * @arg: for @drain
 *
 * Return: 1 when it ended within @grace_ms, 0 when it had to be killed,
 * -errno when it was not ours to wait for.
 */
int spawn_stop(pid_t pid, int sig, unsigned grace_ms, int *status, void (*drain)(void *),
	       void *arg);

/**
 * spawn_exit_code() - a shell's view of @status: the exit status, or 128+N
 * for a child killed by signal N
 */
int spawn_exit_code(int status);

#endif
