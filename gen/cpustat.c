/* cpustat.c - CPU cost of a run: system-wide busy time (/proc/stat), the process, its threads */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "gen/cpustat.h"

uint64_t cpustat_sys_busy(const struct cpustat_sys *s)
{
	return s->user + s->nice + s->system + s->irq + s->softirq + s->steal;
}

uint64_t cpustat_sys_total(const struct cpustat_sys *s)
{
	return cpustat_sys_busy(s) + s->idle + s->iowait;
}

int cpustat_sys_parse(const char *text, struct cpustat_sys *out)
{
	const char *p = text;
	uint64_t v[8] = { 0 };
	int n = 0;

	/* the aggregate line is "cpu " (per-CPU lines are "cpu0 " ...) */
	while (p && strncmp(p, "cpu ", 4)) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p)
		return -EINVAL;
	p += 4;
	while (n < 8) {
		char *end;
		unsigned long long x;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p < '0' || *p > '9')
			break;
		errno = 0;
		x = strtoull(p, &end, 10);
		if (errno || end == p)
			return -EINVAL;
		v[n++] = x;
		p = end;
	}
	if (n < 4)
		return -EINVAL;
	*out = (struct cpustat_sys){ .user = v[0], .nice = v[1], .system = v[2], .idle = v[3],
				     .iowait = v[4], .irq = v[5], .softirq = v[6], .steal = v[7] };
	return 0;
}

int cpustat_sys_read(const char *path, struct cpustat_sys *out)
{
	/* /proc/stat is long on big machines; the "cpu " line comes first */
	char buf[4096];
	ssize_t n;
	int fd, ret;

	fd = open(path ? path : "/proc/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (ret)
		return ret;
	buf[n] = '\0';
	return cpustat_sys_parse(buf, out);
}

static double tv_s(const struct timeval *tv)
{
	return tv->tv_sec + tv->tv_usec / 1e6;
}

int cpustat_proc_read(struct cpustat_proc *out)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return -errno;
	out->user_s = tv_s(&ru.ru_utime);
	out->system_s = tv_s(&ru.ru_stime);
	return 0;
}

int cpustat_thread_self(double *cpu_s)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return -errno;
	*cpu_s = ts.tv_sec + ts.tv_nsec / 1e9;
	return 0;
}

/* utime and stime (fields 14 and 15) of a /proc/.../stat line, in jiffies */
static int task_times(int dirfd, pid_t tid, double *user_s, double *system_s)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	long tck = sysconf(_SC_CLK_TCK);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%d/stat", (int)tid);
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EINVAL;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: the fields start after the last ')' */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			 &st) != 2)
		return -EINVAL;
	if (tck <= 0)
		tck = 100;
	*user_s = (double)ut / tck;
	*system_s = (double)st / tck;
	return 0;
}

static int task_comm(int dirfd, pid_t tid, char *comm, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%d/comm", (int)tid);
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, comm, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	return 0;
}

int cpustat_tasks_read(struct cpustat_task *tasks, unsigned max, unsigned *n)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	unsigned cnt = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		struct cpustat_task t = { 0 };

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		t.tid = (pid_t)atoi(e->d_name);
		/* a thread that exited meanwhile is simply not counted */
		if (task_comm(dirfd(d), t.tid, t.comm, sizeof(t.comm)) ||
		    task_times(dirfd(d), t.tid, &t.user_s, &t.system_s))
			continue;
		if (cnt < max)
			tasks[cnt] = t;
		cnt++;
	}
	closedir(d);
	*n = cnt;
	return 0;
}

int cpustat_snap(struct cpustat_snap *s)
{
	struct timespec ts;
	int ret;

	ret = cpustat_sys_read(NULL, &s->sys);
	if (ret)
		return ret;
	ret = cpustat_proc_read(&s->proc);
	if (ret)
		return ret;
	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		return -errno;
	s->wall_s = ts.tv_sec + ts.tv_nsec / 1e9;
	return 0;
}

static double jdiff(uint64_t a, uint64_t b, long tck)
{
	return b > a ? (double)(b - a) / tck : 0;
}

static double ddiff(double a, double b)
{
	return b > a ? b - a : 0;
}

void cpustat_delta(const struct cpustat_snap *a, const struct cpustat_snap *b, uint64_t bytes,
		   long clk_tck, struct cpustat_delta *out)
{
	long tck = clk_tck > 0 ? clk_tck : sysconf(_SC_CLK_TCK);

	if (tck <= 0)
		tck = 100;
	out->wall_s = ddiff(a->wall_s, b->wall_s);
	out->sys_busy_s = jdiff(cpustat_sys_busy(&a->sys), cpustat_sys_busy(&b->sys), tck);
	out->sys_total_s = jdiff(cpustat_sys_total(&a->sys), cpustat_sys_total(&b->sys), tck);
	out->sys_softirq_s = jdiff(a->sys.softirq, b->sys.softirq, tck);
	out->proc_user_s = ddiff(a->proc.user_s, b->proc.user_s);
	out->proc_system_s = ddiff(a->proc.system_s, b->proc.system_s);
	out->cpu_seconds_per_gb = bytes ? out->sys_busy_s / (bytes / 1e9) : 0;
}
