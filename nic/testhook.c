/* testhook.c - delays that tests ask for through the environment */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include "nic/testhook.h"

void nic_test_delay(const char *var)
{
	const char *e = getenv(var);
	struct timespec ts;
	unsigned long ms;
	char *end;

	if (!e || !*e)
		return;
	errno = 0;
	ms = strtoul(e, &end, 10);
	if (errno || *end || ms > 10000)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}
