/* labrun.c - the lab runner: stop handling, lab up, the work in a child inside the lab, lab down */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "gen/labrun.h"
#include "gen/gen.h"
#include "gen/spawn.h"
#include "gen/stopsig.h"

/* zcgen's sink, as the lab runs it: both protocols on one port; --quiet keeps its log small */
static const char *const sink_argv[] = { "zcgen", "sink", "--listen", LAB_SINK_LISTEN,
					 "--protocol", "both", "--quiet", NULL };

void labrun_cfg_init(struct lab_cfg *cfg)
{
	lab_cfg_init(cfg);
	cfg->sink_argv = sink_argv;
	cfg->sink_gro_arg = "--gro";
}

void labrun_init(struct labrun *lr, const char *who, int enter_fail)
{
	memset(lr, 0, sizeof(*lr));
	labrun_cfg_init(&lr->cfg);
	lr->who = who;
	lr->enter_fail = enter_fail;
	lr->says.stop_who = who;
	lr->says.not_done = "nothing was sent";
}

int labrun_up(struct labrun *lr)
{
	const struct labrun_says *say = &lr->says;
	char msg[2048];
	int ret;

	msg[0] = '\0';
	stopsig_install(true);
	ret = lab_up(&lr->cfg, &lr->info, msg, sizeof(msg));
	lr->made = !ret && !lr->info.reused;
	if (ret) {
		/* lab_up took down what it had made */
		fprintf(stderr, "%s: lab: %s\n", lr->who, msg[0] ? msg : say->no_words ? say->no_words :
			strerror(-ret));
		if (gen_stop && say->none_left)
			fprintf(stderr, "%s: stopped by %s during lab up; no lab is left\n",
				say->stop_who, stopsig_name(gen_stop));
		return ret;
	}
	if (gen_stop) {
		fprintf(stderr, "%s: stopped by %s during lab up: %s; %s\n", say->stop_who,
			stopsig_name(gen_stop), lr->info.reused ? "the lab that was up stays" :
			"the lab is taken down", say->not_done);
		return LABRUN_STOPPED;
	}
	return 0;
}

void labrun_line(const struct lab_info *li, char *buf, size_t len)
{
	snprintf(buf, len, "lab: %s %s (%s) -> %s %s (%s), %u queues%s", li->tx_netns, li->tx_dev,
		 li->tx_ipv4, li->rx_netns, li->rx_dev, li->rx_ipv4, li->queues,
		 li->reused ? ", reused" : "");
}

/* In the child: into the lab, then the work. */
static int lab_child(void *arg)
{
	struct labrun *lr = arg;
	char msg[512];

	if (lab_enter(&lr->info, msg, sizeof(msg))) {
		fprintf(stderr, "%s: lab: %s\n", lr->who, msg);
		return lr->enter_fail;
	}
	return lr->fn(lr->arg);
}

int labrun_run(struct labrun *lr, int (*fn)(void *arg), void *arg, int *status)
{
	struct spawn sp = SPAWN_INIT;
	pid_t pid;
	int ret;

	lr->fn = fn;
	lr->arg = arg;
	sp.fn = lab_child;
	sp.arg = lr;
	/* a parent killed with -9 still ends the work cleanly (a NIC put back) */
	sp.death_sig = SIGTERM;
	sp.forward = true;
	ret = spawn_child(&sp, &pid);
	if (ret)
		return ret;
	return spawn_wait(pid, status);
}

int labrun_down(struct labrun *lr)
{
	char msg[2048];
	int ret;

	if (!lr->made)
		return 0;
	msg[0] = '\0';
	ret = lab_down(&lr->cfg, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "%s: lab: could not take the lab down: %s\n", lr->who, msg);
		return ret;
	}
	lr->made = false;
	return 0;
}

int labrun_fit(struct gen_profile *prof, bool cpus_too, struct lab_fit *fit)
{
	cpu_set_t set;
	unsigned allowed;

	fit->queues_was = fit->queues = prof->queues;
	fit->cpus_dropped = false;
	if (sched_getaffinity(0, sizeof(set), &set))
		return -errno;
	allowed = (unsigned)CPU_COUNT(&set);
	if (prof->queues > allowed)
		prof->queues = fit->queues = allowed;
	for (unsigned i = 0; cpus_too && i < prof->n_cpus; i++)
		if (prof->cpus[i] >= CPU_SETSIZE || !CPU_ISSET(prof->cpus[i], &set)) {
			prof->n_cpus = 0;
			fit->cpus_dropped = true;
			break;
		}
	return 0;
}

void labrun_fit_say(const struct lab_fit *fit)
{
	if (fit->queues != fit->queues_was)
		printf("lab: queues %u -> %u (the CPUs this process may use)\n", fit->queues_was,
		       fit->queues);
	if (fit->cpus_dropped)
		printf("lab: cpus -> the CPUs this process may use\n");
}
