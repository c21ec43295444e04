/* payload.c - the test payload pattern: each byte a function of its stream offset */
#include <pthread.h>
#include <string.h>
#include "gen/payload.h"

/* The pattern from phase 0, long enough that any phase has CHUNK bytes after it. */
#define CHUNK 4096u
static uint8_t pattern[PAYLOAD_PERIOD + CHUNK];
static pthread_once_t pattern_once = PTHREAD_ONCE_INIT;

static void pattern_init(void)
{
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i % PAYLOAD_PERIOD);
}

void payload_fill(uint8_t *buf, size_t len, uint64_t stream_offset)
{
	unsigned phase = (unsigned)(stream_offset % PAYLOAD_PERIOD);

	for (size_t i = 0; i < len; i++) {
		buf[i] = (uint8_t)phase;
		if (++phase == PAYLOAD_PERIOD)
			phase = 0;
	}
}

uint64_t payload_check(const uint8_t *buf, size_t len, uint64_t stream_offset)
{
	unsigned phase = (unsigned)(stream_offset % PAYLOAD_PERIOD);
	uint64_t bad = 0;

	pthread_once(&pattern_once, pattern_init);
	while (len) {
		size_t n = len < CHUNK ? len : CHUNK;
		const uint8_t *want = pattern + phase;

		if (memcmp(buf, want, n))
			for (size_t i = 0; i < n; i++)
				bad += buf[i] != want[i];
		buf += n;
		len -= n;
		phase = (unsigned)((phase + n) % PAYLOAD_PERIOD);
	}
	return bad;
}
