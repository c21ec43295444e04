/* startat.c - a run that starts at a wall-clock time (--start-at; a fleet's common start) */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gen/startat.h"

/* @n digits at *@p: the value, *@p moved past them; -1 when they are not all digits. */
static long digits(const char **p, int n)
{
	long v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

/* ".123456789": the nanoseconds; *@p moved past them. -1 when a dot has no digit after it. */
static long fraction(const char **p)
{
	long ns = 0, scale = 100000000;

	if (**p != '.')
		return 0;
	(*p)++;
	if (!isdigit((unsigned char)**p))
		return -1;
	for (; isdigit((unsigned char)**p); (*p)++, scale /= 10)
		ns += (**p - '0') * scale;  /* digits past the ninth add nothing */
	return ns;
}

static int parse_unix(const char *s, struct timespec *at, char *why, size_t len)
{
	const char *p = s;
	long long sec = 0;
	long ns;

	if (!isdigit((unsigned char)*p))
		goto bad;
	for (; isdigit((unsigned char)*p); p++) {
		if (sec > (1LL << 40))
			goto bad;
		sec = sec * 10 + (*p - '0');
	}
	ns = fraction(&p);
	if (ns < 0 || *p)
		goto bad;
	*at = (struct timespec){ .tv_sec = (time_t)sec, .tv_nsec = ns };
	return 0;
bad:
	snprintf(why, len, "not a time: give RFC 3339 (2026-12-05T04:00:00Z) or Unix seconds "
		 "(1796443200, fractions allowed)");
	return -EINVAL;
}

int startat_parse(const char *s, struct timespec *at, char *why, size_t len)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = s;
	struct tm tm = { 0 };
	long y, mo, d, h, mi, sec, ns, off = 0;

	if (!strchr(s, '-') || !strchr(s, ':'))
		return parse_unix(s, at, why, len);
	y = digits(&p, 4);
	if (y < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 0 || *p++ != '-' || (d = digits(&p, 2)) < 0)
		goto bad;
	if (*p != 'T' && *p != 't' && *p != ' ')
		goto bad;
	p++;
	if ((h = digits(&p, 2)) < 0 || *p++ != ':' || (mi = digits(&p, 2)) < 0 || *p++ != ':' ||
	    (sec = digits(&p, 2)) < 0 || (ns = fraction(&p)) < 0)
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) ||
	    h > 23 || mi > 59 || sec > 60) {
		snprintf(why, len, "no such date or time of day");
		return -EINVAL;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;
		long oh, om;

		if ((oh = digits(&p, 2)) < 0 || *p++ != ':' || (om = digits(&p, 2)) < 0 || oh > 23 || om > 59)
			goto bad;
		off = sign * (oh * 3600 + om * 60);
	} else {
		snprintf(why, len, "RFC 3339 needs a time zone: Z for UTC, or an offset such as +01:00");
		return -EINVAL;
	}
	if (*p)
		goto bad;
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)mo - 1;
	tm.tm_mday = (int)d;
	tm.tm_hour = (int)h;
	tm.tm_min = (int)mi;
	tm.tm_sec = sec == 60 ? 59 : (int)sec;   /* a leap second: the POSIX clock repeats :59 */
	*at = (struct timespec){ .tv_sec = timegm(&tm) - off, .tv_nsec = ns };
	return 0;
bad:
	snprintf(why, len, "not RFC 3339 (2026-12-05T04:00:00Z, 2026-12-05T05:00:00.5+01:00) nor "
		 "Unix seconds");
	return -EINVAL;
}

void startat_format(const struct timespec *at, char *buf, size_t len)
{
	struct tm tm;
	time_t t = at->tv_sec;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)at->tv_nsec);
}

int startat_sleep(const struct timespec *at, const volatile sig_atomic_t *stop)
{
	int ret;

	while ((ret = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, at, NULL)) == EINTR)
		if (stop && *stop)
			return -EINTR;
	return stop && *stop ? -EINTR : 0;
}

static int ctl_stream_open(struct engine_ctl *ctl, unsigned queue, unsigned stream, int fd)
{
	struct startat *s = ctl->arg;
	int ret = s->inner && s->inner->stream_open ? s->inner->stream_open(s->inner, queue, stream, fd) : 0;

	if (ret && s->inner->err[0])
		snprintf(ctl->err, sizeof(ctl->err), "%s", s->inner->err);
	return ret;
}

static int ctl_start(struct engine_ctl *ctl)
{
	struct startat *s = ctl->arg;
	struct timespec now;
	char when[64];
	int ret;

	clock_gettime(CLOCK_REALTIME, &now);
	if (now.tv_sec > s->at.tv_sec || (now.tv_sec == s->at.tv_sec && now.tv_nsec > s->at.tv_nsec)) {
		startat_format(&s->at, when, sizeof(when));
		snprintf(ctl->err, sizeof(ctl->err), "--start-at %s passed during the set-up (%.3f s "
			 "ago): the run did not start", when, startat_seconds(&now) - startat_seconds(&s->at));
		return -ETIME;
	}
	if (startat_sleep(&s->at, s->stop)) {
		snprintf(ctl->err, sizeof(ctl->err), "stopped while waiting for --start-at");
		return -EINTR;
	}
	if (s->inner && (ret = s->inner->start(s->inner))) {
		snprintf(ctl->err, sizeof(ctl->err), "%s", s->inner->err);
		return ret;
	}
	clock_gettime(CLOCK_REALTIME, &s->started);
	return 0;
}

static int ctl_poll(struct engine_ctl *ctl)
{
	struct startat *s = ctl->arg;
	int ret = s->inner && s->inner->poll ? s->inner->poll(s->inner) : 0;

	if (ret)
		snprintf(ctl->err, sizeof(ctl->err), "%s", s->inner->err);
	return ret;
}

static void ctl_finish(struct engine_ctl *ctl, const int *fds, unsigned nfds,
		       const struct engine_plan *plan, const struct engine_result *res)
{
	struct startat *s = ctl->arg;

	if (s->inner && s->inner->finish)
		s->inner->finish(s->inner, fds, nfds, plan, res);
}

struct engine_ctl *startat_ctl(struct startat *s, struct engine_ctl *inner)
{
	s->inner = inner;
	s->started = (struct timespec){ 0 };
	/* without an inner controller the workers connect, as in a run without --start-at */
	s->ctl = (struct engine_ctl){ .arg = s, .stream_open = inner && inner->stream_open ?
				      ctl_stream_open : NULL, .start = ctl_start,
				      .poll = ctl_poll, .finish = ctl_finish };
	return &s->ctl;
}
