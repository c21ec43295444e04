/* spawn.c - the one place in gen/ that starts a child process: set-up, exec or a function, wait, stop */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "gen/spawn.h"
#include "gen/stopsig.h"

/* In the child: everything up to exec or @fn. Does not return. */
static void __attribute__((noreturn)) child(const struct spawn *sp, pid_t parent,
					     const sigset_t *old)
{
	const char *exe = sp->exe ? sp->exe : "/proc/self/exe";
	int rc;

	if (sp->own_group)
		setpgid(0, 0);
	if (sp->death_sig) {
		prctl(PR_SET_PDEATHSIG, sp->death_sig);
		/* the parent may have died before the line above: then nobody would stop us */
		if (getppid() != parent)
			_exit(127);
	}
	/* the caller's handler stays until the child installs its own; it forwards to nobody */
	stopsig_forward(0);
	stopsig_release(old);
	/* dup2 clears O_CLOEXEC on the copy, so 0-2 survive exec */
	if ((sp->in >= 0 && dup2(sp->in, STDIN_FILENO) < 0) ||
	    (sp->out >= 0 && dup2(sp->out, STDOUT_FILENO) < 0) ||
	    (sp->err >= 0 && dup2(sp->err, STDERR_FILENO) < 0))
		_exit(126);
	if (sp->setup && (rc = sp->setup(sp->arg)))
		_exit(rc);
	if (!sp->argv) {
		rc = sp->fn(sp->arg);
		fflush(NULL);
		_exit(rc);
	}
	stopsig_exec_defaults();
	execv(exe, sp->argv);
	fprintf(stderr, "cannot run %s: %s\n", sp->exe ? sp->exe : "zcgen", strerror(errno));
	fflush(stderr);
	_exit(127);
}

int spawn_child(const struct spawn *sp, pid_t *pid)
{
	pid_t parent = getpid(), p;
	sigset_t old;
	int ret = 0;

	fflush(NULL);
	stopsig_hold(&old);
	p = fork();
	if (p < 0) {
		ret = -errno;
		stopsig_release(&old);
		return ret;
	}
	if (p == 0)
		child(sp, parent, &old);
	if (sp->forward)
		stopsig_forward(p);
	*pid = p;
	/* a stop signal sent while they were held is handled now, and reaches the child */
	stopsig_release(&old);
	return 0;
}

static void reaped(pid_t pid)
{
	if (stopsig_forwarded() == pid)
		stopsig_forward(0);
}

int spawn_wait(pid_t pid, int *status)
{
	pid_t r;

	while ((r = waitpid(pid, status, 0)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return -errno;
	reaped(pid);
	return 0;
}

int spawn_poll(pid_t pid, int *status)
{
	pid_t r = waitpid(pid, status, WNOHANG);

	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (r == 0)
		return 0;
	reaped(pid);
	return 1;
}

int spawn_stop(pid_t pid, int sig, unsigned grace_ms, int *status, void (*drain)(void *),
	       void *arg)
{
	struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
	int st, ret;

	if (pid <= 0)
		return 1;
	if (!status)
		status = &st;
	kill(pid, sig);
	for (unsigned waited = 0; sig != SIGKILL && waited < grace_ms; waited += 10) {
		if (drain)
			drain(arg);
		ret = spawn_poll(pid, status);
		if (ret)
			return ret;
		nanosleep(&tick, NULL);
	}
	if (drain)
		drain(arg);
	ret = spawn_poll(pid, status);
	if (ret)
		return ret;
	kill(pid, SIGKILL);
	ret = spawn_wait(pid, status);
	return ret ? ret : sig == SIGKILL;
}

int spawn_exit_code(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}
