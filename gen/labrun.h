/* labrun.h - the lab runner: stop handling, lab up, the work in a child inside the lab, lab down */
#ifndef ZCGEN_LABRUN_H
#define ZCGEN_LABRUN_H

#include <stdbool.h>
#include <stddef.h>
#include "nic/nic.h"

struct gen_profile;

/*
 * Every command with --lab (run, sweep, ndr, offload-check; compare runs
 * its tools in the lab one by one) goes the same way:
 *
 *   labrun_init(&lr, "zcgen sweep", EXIT_RUN_FAILED);   then lr.cfg (and
 *                             lr.says) as needed
 *   labrun_up(&lr)            SIGINT/SIGTERM/SIGHUP noted from before the lab
 *                             is touched; lab_up finishes, or undoes itself;
 *                             a failure, or a stop during it, told the user
 *   labrun_line(&lr.info, ..) the "lab: ..." line the command prints
 *   labrun_run(&lr, fn, arg)  fn in a child that entered the lab's sending
 *                             namespace (it must, before any thread); the
 *                             stop signals passed on to it, its end awaited
 *   labrun_down(&lr, ...)     the lab taken down, if this command made it
 *
 * The parent stays outside the lab, so that it can take the lab down
 * whatever the child does; a parent killed with -9 stops the child
 * (PR_SET_PDEATHSIG) but leaves the lab: `zcgen lab down` removes it.
 */

/*
 * What labrun_up() says where the commands differ in their words; the
 * rest of its lines are the same for all. labrun_init() sets the usual.
 */
struct labrun_says {
	const char *stop_who;       /* "STOP_WHO: stopped by SIG during lab up...": @who */
	const char *not_done;       /* ... "; NOT_DONE" after the lab's fate: "nothing was sent" */
	bool none_left;             /* a lab up that failed under a stop: "...; no lab is left" too */
	const char *no_words;       /* a failed lab up that gave no reason: NULL, strerror()'s */
};

struct labrun {
	struct lab_cfg cfg;         /* what to bring up: labrun_init's defaults */
	struct lab_info info;       /* the lab, after labrun_up */
	bool made;                  /* brought up here (not reused): labrun_down takes it down */
	const char *who;            /* the messages' prefix: "WHO: lab: why" (the child's too) */
	int enter_fail;             /* the child's exit status when it cannot enter */
	struct labrun_says says;    /* labrun_up's words */
	int (*fn)(void *arg);       /* labrun_run's, for the child */
	void *arg;
};

/**
 * labrun_cfg_init() - lab_cfg_init(), with zcgen's own sink as the lab's sink
 * @cfg: filled in
 *
 * `zcgen sink --listen ADDR --protocol both --quiet [--gro]`: nic/ starts
 * it, gen/ says how. For every lab_cfg gen/ hands to nic/ (lab up, status,
 * exec as well).
 */
void labrun_cfg_init(struct lab_cfg *cfg);

/**
 * labrun_init() - a runner with labrun_cfg_init()'s lab
 * @lr: filled in
 * @who: the command's message prefix ("zcgen", "zcgen sweep")
 * @enter_fail: the child's exit status when it cannot enter the lab
 */
void labrun_init(struct labrun *lr, const char *who, int enter_fail);

/* labrun_up()'s return for a stop during lab up (the lab, if made, still to be taken down) */
#define LABRUN_STOPPED 1

/**
 * labrun_up() - the stop signals noted (stopsig_install, SA_RESTART: the
 * lab's own calls go on), then the lab up or reused, and the user told
 * what went wrong
 * @lr: from labrun_init()
 *
 * A stop signal during it is only noted (gen_stop): the lab is finished,
 * and the caller takes it down again (labrun_down()) without running
 * anything. On stderr, with @lr->who and @lr->says:
 *   "WHO: lab: why"                                        lab_up failed
 *   "STOP_WHO: stopped by SIG during lab up; no lab is left"  ... under a stop (says.none_left)
 *   "STOP_WHO: stopped by SIG during lab up: the lab is taken down; NOT_DONE"
 *                          (or "the lab that was up stays")  a stop, the lab up
 *
 * Return: 0, the lab up and no stop; LABRUN_STOPPED; or lab_up()'s -errno
 * (it undid its half: nothing to take down).
 */
int labrun_up(struct labrun *lr);

/**
 * labrun_line() - the line run, sweep, ndr and compare print once the lab is up
 * @li: the lab (labrun_up()'s, or lab_query()'s)
 * @buf: "lab: TXNS TXDEV (TXIP) -> RXNS RXDEV (RXIP), N queues[, reused]",
 *       no newline, cut to @len
 * @len: its size
 */
void labrun_line(const struct lab_info *li, char *buf, size_t len);

/**
 * labrun_run() - @fn in a child inside the lab's sending namespace, to its end
 * @lr: after labrun_up()
 * @fn: the work; its return value is the child's exit status
 * @arg: for @fn
 * @status: output: the child's wait status
 *
 * The child dies with this process (SIGTERM). Our stop signals are passed
 * on to it, so it stops as if it had them itself; it starts with this
 * process's handler (stopsig's), until @fn installs its own.
 *
 * Return: 0, or -errno when no child could be made or awaited.
 */
int labrun_run(struct labrun *lr, int (*fn)(void *arg), void *arg, int *status);

/**
 * labrun_down() - take the lab down if labrun_up() made it
 * @lr: the runner
 *
 * A lab that would not go says so on stderr: "WHO: lab: could not take the
 * lab down: why".
 *
 * Return: 0 (also for a lab that was reused, and stays), or lab_down()'s -errno.
 */
int labrun_down(struct labrun *lr);

/* What labrun_fit() changed, for labrun_fit_say(). */
struct lab_fit {
	unsigned queues_was, queues; /* the profile's queues before and after */
	bool cpus_dropped;           /* its CPU list named a CPU this process may not use */
};

/**
 * labrun_fit() - fit a profile to the CPUs this process may use, as every
 * --lab command does before the lab is brought up (the lab gets a queue
 * per CPU, and the target is ours)
 * @prof: its queues lowered to that many CPUs; with @cpus_too, its CPU
 *        list dropped (n_cpus 0: the run places the rings itself) when it
 *        names a CPU outside them
 * @cpus_too: also check the CPU list (offload-check has none to check)
 * @fit: output: what changed
 *
 * Return: 0, or -errno when the allowed CPUs cannot be read (nothing changed).
 */
int labrun_fit(struct gen_profile *prof, bool cpus_too, struct lab_fit *fit);

/**
 * labrun_fit_say() - the lines that tell the user what labrun_fit() changed
 * @fit: from labrun_fit()
 *
 * "lab: queues 4 -> 2 (the CPUs this process may use)" and
 * "lab: cpus -> the CPUs this process may use", on stdout, as the run's
 * own lines go.
 */
void labrun_fit_say(const struct lab_fit *fit);

#endif
