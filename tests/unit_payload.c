/* unit_payload.c - the payload pattern: fill, check, corrupted bytes, offsets across the period */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "gen/iperf3.h"
#include "gen/payload.h"

static void test_fill_then_check(void **state)
{
	uint8_t buf[10000];

	(void)state;
	payload_fill(buf, sizeof(buf), 0);
	assert_int_equal(buf[0], 0);
	assert_int_equal(buf[250], 250);
	assert_int_equal(buf[251], 0);
	assert_int_equal(payload_check(buf, sizeof(buf), 0), 0);
	/* The same bytes are wrong at any offset that is not a multiple of the period. */
	assert_int_not_equal(payload_check(buf, sizeof(buf), 1), 0);
	assert_int_equal(payload_check(buf, sizeof(buf), PAYLOAD_PERIOD * 7), 0);
	assert_int_equal(payload_check(buf, 0, 3), 0);
}

static void test_one_corrupt_byte(void **state)
{
	uint8_t buf[9000];

	(void)state;
	payload_fill(buf, sizeof(buf), 12345);
	buf[4321] ^= 0x40;
	assert_int_equal(payload_check(buf, sizeof(buf), 12345), 1);
	buf[8999] = (uint8_t)(buf[8999] + 1);
	assert_int_equal(payload_check(buf, sizeof(buf), 12345), 2);
	/* A zeroed buffer: every byte but those where the pattern is 0. */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(payload_check(buf, sizeof(buf), 0), sizeof(buf) - (sizeof(buf) + 250) / 251);
}

/* Unaligned starts and lengths, across the period boundary and the check's chunks. */
static void test_unaligned_offsets(void **state)
{
	static const uint64_t offs[] = { 0, 1, 249, 250, 251, 252, 4095, 4096, 4097,
					 (1ull << 40) + 3, UINT64_MAX - 30000 };
	uint8_t *buf = malloc(20000);

	(void)state;
	assert_non_null(buf);
	for (size_t k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
		uint64_t o = offs[k];

		payload_fill(buf, 20000, o);
		for (size_t i = 0; i < 20000; i++)
			assert_int_equal(buf[i], (o + i) % PAYLOAD_PERIOD);
		/* Any piece of it, checked at its own offset. */
		for (size_t start = 0; start < 20000; start += 997) {
			size_t len = 20000 - start < 5003 ? 20000 - start : 5003;

			assert_int_equal(payload_check(buf + start, len, o + start), 0);
		}
		/* A stream cut into two recvs at a period boundary checks the same. */
		size_t cut = (size_t)(PAYLOAD_PERIOD - o % PAYLOAD_PERIOD);

		assert_int_equal(payload_check(buf, cut, o), 0);
		assert_int_equal(payload_check(buf + cut, 20000 - cut, o + cut), 0);
		buf[cut] ^= 1;
		assert_int_equal(payload_check(buf, 20000, o), 1);
	}
	free(buf);
}

/* A sender region of msg + period bytes, sent from region + offset % period. */
static void test_sender_region(void **state)
{
	enum { MSG = 1400 };
	uint8_t region[MSG + PAYLOAD_PERIOD];
	uint64_t off = 0;

	(void)state;
	payload_fill(region, sizeof(region), 0);
	for (int m = 0; m < 1000; m++) {
		assert_int_equal(payload_check(region + off % PAYLOAD_PERIOD, MSG, off), 0);
		off += MSG;
	}
}

/*
 * A TCP sender's region: every stream offset, warm-up shift included, has a
 * page of the region where its bytes start, and a whole send from there is
 * the pattern of that offset. A send size that is not a multiple of the
 * period visits every phase.
 */
static void test_aligned_region(void **state)
{
	enum { MSG = 65435 };
	size_t len = (size_t)PAYLOAD_ALIGNED_PAGES * PAYLOAD_PAGE + MSG;
	uint8_t *region = malloc(len);
	bool seen[PAYLOAD_PERIOD] = { false };
	uint64_t off = 0;

	(void)state;
	assert_non_null(region);
	payload_fill(region, len, 0);
	for (int m = 0; m < 2 * (int)PAYLOAD_PERIOD; m++) {
		for (unsigned shift = 0; shift <= PAYLOAD_WARMUP_SHIFT; shift += PAYLOAD_WARMUP_SHIFT) {
			uint64_t at = payload_aligned_at(off + shift);

			assert_int_equal(at % PAYLOAD_PAGE, 0);
			assert_true(at + MSG <= len);
			assert_int_equal(payload_check(region + at, MSG, off + shift), 0);
			/* the wrong page is seen: another phase's page mismatches */
			assert_true(payload_check(region + (at + PAYLOAD_PAGE) % (len - MSG), MSG,
						  off + shift) > 0);
		}
		seen[off % PAYLOAD_PERIOD] = true;
		off += MSG;
	}
	for (unsigned p = 0; p < PAYLOAD_PERIOD; p++)
		assert_true(seen[p]);
	free(region);
}

/* The first bytes of a stream never look like an iperf3 cookie. */
static void test_not_a_cookie(void **state)
{
	uint8_t buf[IPERF3_COOKIE_LEN];

	(void)state;
	for (uint64_t o = 0; o < 2 * PAYLOAD_PERIOD; o++) {
		payload_fill(buf, sizeof(buf), o);
		assert_false(iperf3_cookie_valid((const char *)buf));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_then_check),
		cmocka_unit_test(test_one_corrupt_byte),
		cmocka_unit_test(test_unaligned_offsets),
		cmocka_unit_test(test_sender_region),
		cmocka_unit_test(test_aligned_region),
		cmocka_unit_test(test_not_a_cookie),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
