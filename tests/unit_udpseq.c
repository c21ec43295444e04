/* unit_udpseq.c - UDP sequence accounting: loss, reordering, duplicates, window, foreign */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "gen/udpseq.h"

struct expect {
	uint64_t packets, lost, reordered, duplicates, too_late, highest;
};

static void check(const struct udpseq *s, struct expect e)
{
	assert_int_equal(s->packets, e.packets);
	assert_int_equal(s->lost, e.lost);
	assert_int_equal(s->reordered, e.reordered);
	assert_int_equal(s->duplicates, e.duplicates);
	assert_int_equal(s->too_late, e.too_late);
	assert_int_equal(s->highest, e.highest);
}

static void test_in_order(void **state)
{
	struct udpseq s;

	memset(&s, 0, sizeof(s));
	for (uint64_t q = 1; q <= 10000; q++)
		assert_int_equal(udpseq_add(&s, q), UDPSEQ_IN_ORDER);
	check(&s, (struct expect){ .packets = 10000, .highest = 10000 });
	assert_true(udpseq_loss_pct(&s) == 0.0);
}

static void test_drop_one(void **state)
{
	struct udpseq s;

	memset(&s, 0, sizeof(s));
	udpseq_add(&s, 1);
	udpseq_add(&s, 2);
	assert_int_equal(udpseq_add(&s, 4), UDPSEQ_GAP);
	udpseq_add(&s, 5);
	check(&s, (struct expect){ .packets = 4, .lost = 1, .highest = 5 });
	assert_true(udpseq_loss_pct(&s) > 19.99 && udpseq_loss_pct(&s) < 20.01);
}

/* A stream seen from sequence N on: the N - 1 before it count as lost. */
/* Found by fuzz_udpseq: a huge first sequence, everything before it lost, read 100.00000000000001 %. */
static void test_loss_pct_at_most_100(void **state)
{
	struct udpseq s = { 0 };

	udpseq_add(&s, 3544668469065756977ull);
	assert_true(s.lost == 3544668469065756976ull);
	assert_true(udpseq_loss_pct(&s) <= 100.0);
	assert_true(udpseq_loss_pct(&s) > 99.99);
}

static void test_late_start(void **state)
{
	struct udpseq s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(udpseq_add(&s, 3), UDPSEQ_GAP);
	check(&s, (struct expect){ .packets = 1, .lost = 2, .highest = 3 });
	assert_int_equal(udpseq_add(&s, 1), UDPSEQ_LATE);
	check(&s, (struct expect){ .packets = 2, .lost = 1, .reordered = 1, .highest = 3 });
}

static void test_reordered_pair(void **state)
{
	struct udpseq s;

	memset(&s, 0, sizeof(s));
	udpseq_add(&s, 1);
	udpseq_add(&s, 2);
	udpseq_add(&s, 3);
	assert_int_equal(udpseq_add(&s, 5), UDPSEQ_GAP);
	check(&s, (struct expect){ .packets = 4, .lost = 1, .highest = 5 });
	assert_int_equal(udpseq_add(&s, 4), UDPSEQ_LATE);
	check(&s, (struct expect){ .packets = 5, .lost = 0, .reordered = 1, .highest = 5 });
	assert_int_equal(udpseq_add(&s, 6), UDPSEQ_IN_ORDER);
	check(&s, (struct expect){ .packets = 6, .lost = 0, .reordered = 1, .highest = 6 });
}

static void test_duplicates(void **state)
{
	struct udpseq s;

	memset(&s, 0, sizeof(s));
	udpseq_add(&s, 1);
	assert_int_equal(udpseq_add(&s, 1), UDPSEQ_DUPLICATE);   /* the highest again */
	udpseq_add(&s, 2);
	udpseq_add(&s, 3);
	assert_int_equal(udpseq_add(&s, 2), UDPSEQ_DUPLICATE);   /* an older one again */
	/* A late one is reordered once, then a duplicate. */
	udpseq_add(&s, 5);
	assert_int_equal(udpseq_add(&s, 4), UDPSEQ_LATE);
	assert_int_equal(udpseq_add(&s, 4), UDPSEQ_DUPLICATE);
	check(&s, (struct expect){ .packets = 8, .lost = 0, .reordered = 1, .duplicates = 3,
				   .highest = 5 });
}

/* The bitmap is reused as the window slides: an old bit must not make a late one a duplicate. */
static void test_window_slides(void **state)
{
	struct udpseq s;
	uint64_t q;

	memset(&s, 0, sizeof(s));
	for (q = 1; q <= 3 * UDPSEQ_WINDOW; q++)
		if (q != 2 * UDPSEQ_WINDOW + 7)
			udpseq_add(&s, q);
	assert_int_equal(s.lost, 1);
	/* Its bit was used by 7 + WINDOW before, which did arrive. */
	assert_int_equal(udpseq_add(&s, 2 * UDPSEQ_WINDOW + 7), UDPSEQ_LATE);
	assert_int_equal(s.lost, 0);
	assert_int_equal(s.duplicates, 0);
}

static void test_jump_beyond_window(void **state)
{
	struct udpseq s;
	uint64_t far = 10 * UDPSEQ_WINDOW;

	memset(&s, 0, sizeof(s));
	udpseq_add(&s, 1);
	udpseq_add(&s, 2);
	assert_int_equal(udpseq_add(&s, far), UDPSEQ_GAP);
	check(&s, (struct expect){ .packets = 3, .lost = far - 3, .highest = far });
	/* Older than the window: cannot tell late from duplicate, so it stays lost. */
	assert_int_equal(udpseq_add(&s, 3), UDPSEQ_TOO_LATE);
	assert_int_equal(udpseq_add(&s, 2), UDPSEQ_TOO_LATE);
	check(&s, (struct expect){ .packets = 5, .lost = far - 3, .too_late = 2, .highest = far });
	/* Just inside the window, skipped by the jump: late, and loss shrinks. */
	assert_int_equal(udpseq_add(&s, far - UDPSEQ_WINDOW + 1), UDPSEQ_LATE);
	assert_int_equal(s.lost, far - 4);
	/* Just outside. */
	assert_int_equal(udpseq_add(&s, far - UDPSEQ_WINDOW), UDPSEQ_TOO_LATE);
	assert_int_equal(udpseq_add(&s, far + 1), UDPSEQ_IN_ORDER);
}

static void test_foreign(void **state)
{
	struct udpseq s;

	memset(&s, 0, sizeof(s));
	udpseq_add(&s, 1);
	assert_int_equal(udpseq_add(&s, 0), UDPSEQ_FOREIGN);
	check(&s, (struct expect){ .packets = 1, .highest = 1 });
	assert_int_equal(udpseq_add(&s, 2), UDPSEQ_IN_ORDER);
}

/*
 * zcgen's warm-up: flagged sequences 1..W, then the measured part from 1.
 * A lossless run is 0 lost however the two parts interleave at the
 * boundary; the warm-up counts only in omitted.
 */
static void test_warmup_window(void **state)
{
	struct udpseq s;

	memset(&s, 0, sizeof(s));
	for (uint64_t q = 1; q <= 1000; q++)
		assert_int_equal(udpseq_add(&s, UDPSEQ_WARMUP | q), UDPSEQ_OMITTED);
	check(&s, (struct expect){ 0 });
	assert_int_equal(s.omitted, 1000);
	/* the last warm-up datagrams overtaken by the first measured ones */
	assert_int_equal(udpseq_add(&s, 1), UDPSEQ_IN_ORDER);
	assert_int_equal(udpseq_add(&s, UDPSEQ_WARMUP | 1002), UDPSEQ_OMITTED);
	assert_int_equal(udpseq_add(&s, 2), UDPSEQ_IN_ORDER);
	assert_int_equal(udpseq_add(&s, UDPSEQ_WARMUP | 1001), UDPSEQ_OMITTED);
	for (uint64_t q = 3; q <= 500; q++)
		assert_int_equal(udpseq_add(&s, q), UDPSEQ_IN_ORDER);
	check(&s, (struct expect){ .packets = 500, .highest = 500 });
	assert_int_equal(s.omitted, 1002);
	assert_true(udpseq_loss_pct(&s) == 0.0);
}

/* The measured part's first datagrams lost: counted lost, never hidden by the warm-up. */
static void test_warmup_then_loss(void **state)
{
	struct udpseq s;

	memset(&s, 0, sizeof(s));
	udpseq_add(&s, UDPSEQ_WARMUP | 1);
	udpseq_add(&s, UDPSEQ_WARMUP | 2);
	assert_int_equal(udpseq_add(&s, 3), UDPSEQ_GAP);
	udpseq_add(&s, 4);
	check(&s, (struct expect){ .packets = 2, .lost = 2, .highest = 4 });
	assert_int_equal(s.omitted, 2);
	/* the flag alone is no sequence: foreign, nothing counted */
	assert_int_equal(udpseq_add(&s, UDPSEQ_WARMUP), UDPSEQ_FOREIGN);
	check(&s, (struct expect){ .packets = 2, .lost = 2, .highest = 4 });
	assert_int_equal(s.omitted, 2);
}

static void test_two_streams(void **state)
{
	struct udpseq a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	udpseq_add(&a, 1);
	udpseq_add(&b, 1);
	udpseq_add(&a, 3);   /* a loses 2 */
	udpseq_add(&b, 2);
	udpseq_add(&b, 2);   /* b duplicates 2 */
	udpseq_add(&a, 2);   /* a's late 2 is not b's duplicate */
	check(&a, (struct expect){ .packets = 3, .reordered = 1, .highest = 3 });
	check(&b, (struct expect){ .packets = 3, .duplicates = 1, .highest = 2 });
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_drop_one),
		cmocka_unit_test(test_late_start),
		cmocka_unit_test(test_loss_pct_at_most_100),
		cmocka_unit_test(test_reordered_pair),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_window_slides),
		cmocka_unit_test(test_jump_beyond_window),
		cmocka_unit_test(test_foreign),
		cmocka_unit_test(test_warmup_window),
		cmocka_unit_test(test_warmup_then_loss),
		cmocka_unit_test(test_two_streams),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
