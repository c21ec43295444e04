/* stopsig.c - the signals that end a run (SIGINT, SIGTERM, SIGHUP): noted, passed on, held, exit */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gen/gen.h"
#include "gen/stopsig.h"

static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };

/* the child that hears our stop signals too (stopsig_forward); 0: none */
static volatile pid_t forward_to;

static void on_stop(int sig)
{
	int e = errno;

	/* the first one names the cause; a second Ctrl-C changes nothing here */
	if (!gen_stop)
		gen_stop = sig;
	/* every one is passed on: the child decides what a second one means */
	if (forward_to > 0)
		kill(forward_to, sig);
	errno = e;
}

static void stop_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigaddset(set, stop_signals[i]);
}

void stopsig_install(bool restart)
{
	struct sigaction sa = { .sa_handler = on_stop, .sa_flags = restart ? SA_RESTART : 0 };

	/* while one is handled the others wait: gen_stop is written by one handler at a time */
	stop_set(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigaction(stop_signals[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void stopsig_forward(pid_t pid)
{
	forward_to = pid;
}

pid_t stopsig_forwarded(void)
{
	return forward_to;
}

void stopsig_exec_defaults(void)
{
	sigset_t set;

	/* an ignored signal and a blocked mask both survive exec; handlers do not */
	signal(SIGPIPE, SIG_DFL);
	stop_set(&set);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

void stopsig_hold(sigset_t *old)
{
	sigset_t set;

	stop_set(&set);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

void stopsig_release(const sigset_t *old)
{
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

const char *stopsig_name(int sig)
{
	static char buf[24];

	switch (sig) {
	case SIGINT: return "SIGINT";
	case SIGTERM: return "SIGTERM";
	case SIGHUP: return "SIGHUP";
	default:
		snprintf(buf, sizeof(buf), "signal %d", sig);
		return buf;
	}
}

void stopsig_die(int sig)
{
	sigset_t set;

	fflush(NULL);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	/* not reached for SIGINT, SIGTERM or SIGHUP, whose default is to terminate */
	_exit(stopsig_exit_code(sig));
}
