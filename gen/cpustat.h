/* cpustat.h - CPU cost of a run: system-wide busy time (/proc/stat), the process, its threads */
#ifndef ZCGEN_CPUSTAT_H
#define ZCGEN_CPUSTAT_H

#include <stdint.h>
#include <sys/types.h>

/*
 * Why system-wide: this kernel has no IRQ time accounting
 * (CONFIG_IRQ_TIME_ACCOUNTING off), so a process's CPU time includes the
 * softirq work (TCP/IP receive, ACK processing) that happened to run in its
 * context and excludes what ksoftirqd did for it. Two tools are only
 * comparable by the busy time of the whole system over the run, softirq
 * included. The per-process figures are kept beside it for reference.
 */

/* One /proc/stat "cpu" line: jiffies summed over all CPUs since boot. */
struct cpustat_sys {
	uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
};

/* Busy: user+nice+system+irq+softirq+steal (guest is already in user). */
uint64_t cpustat_sys_busy(const struct cpustat_sys *s);
/* Busy plus idle+iowait. */
uint64_t cpustat_sys_total(const struct cpustat_sys *s);

/**
 * cpustat_sys_parse() - the aggregate "cpu " line of a /proc/stat text
 * @text: the whole file's text, NUL-terminated
 * @out: filled
 *
 * Return: 0, or -EINVAL when there is no "cpu " line with at least the four
 * first fields (missing later fields, as on old kernels, count as 0).
 */
int cpustat_sys_parse(const char *text, struct cpustat_sys *out);

/**
 * cpustat_sys_read() - read and parse a /proc/stat file
 * @path: the file; NULL for /proc/stat (tests pass fixtures)
 * @out: filled
 *
 * Return: 0 or -errno (-EINVAL for a file that does not parse).
 */
int cpustat_sys_read(const char *path, struct cpustat_sys *out);

/*
 * This process's CPU, all its threads together: getrusage(RUSAGE_SELF).
 * io_uring's iou-wrk-* (async workers) and iou-sqp-* (SQPOLL) threads are
 * threads of the process that created the ring (they show in
 * /proc/self/task/ with those names), so their time is included here.
 */
struct cpustat_proc {
	double user_s, system_s;
};
int cpustat_proc_read(struct cpustat_proc *out);

/**
 * cpustat_thread_self() - CPU seconds of the calling thread (CLOCK_THREAD_CPUTIME_ID)
 * Return: 0 or -errno.
 */
int cpustat_thread_self(double *cpu_s);

/* One thread of this process, from /proc/self/task/TID/{comm,stat}. */
struct cpustat_task {
	pid_t tid;
	char comm[16];           /* "zcgen", "iou-wrk-1234", "iou-sqp-1234" */
	double user_s, system_s;
};

/**
 * cpustat_tasks_read() - every thread of this process with its CPU time
 * @tasks: array of @max entries, filled
 * @max: its size
 * @n: number of threads found (may exceed @max: only @max are filled)
 *
 * Threads that exit while the directory is read are skipped.
 * Return: 0 or -errno.
 */
int cpustat_tasks_read(struct cpustat_task *tasks, unsigned max, unsigned *n);

/* A point in time: system, process, and a monotonic wall clock. */
struct cpustat_snap {
	struct cpustat_sys sys;
	struct cpustat_proc proc;
	double wall_s;           /* CLOCK_MONOTONIC */
};

/**
 * cpustat_snap() - take a snapshot of /proc/stat, getrusage and the clock
 * Return: 0 or -errno.
 */
int cpustat_snap(struct cpustat_snap *s);

/* What happened between two snapshots. */
struct cpustat_delta {
	double wall_s;
	double sys_busy_s;       /* CPU-seconds the whole system was busy, softirq included */
	double sys_total_s;      /* CPU-seconds elapsed over all CPUs (busy + idle) */
	double sys_softirq_s;    /* of sys_busy_s, in softirq */
	double proc_user_s, proc_system_s;
	double cpu_seconds_per_gb; /* sys_busy_s per 1e9 bytes; 0 when no bytes */
};

/**
 * cpustat_delta() - the difference @b - @a
 * @a: earlier snapshot
 * @b: later snapshot
 * @bytes: bytes moved between them, for cpu_seconds_per_gb (GB = 1e9 bytes)
 * @clk_tck: jiffies per second (sysconf(_SC_CLK_TCK)); 0 means ask sysconf
 * @out: filled; counters that went backwards give 0, never negative
 */
void cpustat_delta(const struct cpustat_snap *a, const struct cpustat_snap *b, uint64_t bytes,
		   long clk_tck, struct cpustat_delta *out);

#endif
