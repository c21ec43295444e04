/* unit_slots.c - slot recycling and send/notification accounting */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "gen/compat.h"
#include "gen/slots.h"

#define MORE IORING_CQE_F_MORE
#define NOTIF IORING_CQE_F_NOTIF

/* A zero-copy send: the slot stays busy until its notification. */
static void test_zc_slot_waits_for_notif(void **state)
{
	struct slot_pool p;
	struct tx_acct a = { 0 };
	int s;

	assert_int_equal(slots_init(&p, 2), 0);
	s = slots_get(&p);
	assert_int_equal(s, 0);
	a.inflight = 1;
	assert_false(tx_acct_cqe(&a, &p, s, 1400, MORE, 1400));
	assert_int_equal(p.state[s], SLOT_WAIT_NOTIF);
	assert_int_equal(p.nfree, 1);       /* not yet reusable */
	assert_int_equal(slots_get(&p), 1); /* the other one is handed out instead */
	assert_int_equal(slots_get(&p), -1);
	assert_true(tx_acct_cqe(&a, &p, s, (int32_t)IORING_NOTIF_USAGE_ZC_COPIED, NOTIF, 1400));
	assert_int_equal(p.state[s], SLOT_FREE);
	assert_int_equal(slots_get(&p), s);
	assert_int_equal(a.sends, 1);
	assert_int_equal(a.zc_sends, 1);
	assert_int_equal(a.notifs, 1);
	assert_int_equal(a.zc_copied, 1);
	assert_int_equal(a.bytes, 1400);
	assert_int_equal(a.inflight, 0);
	assert_int_equal(p.violations, 0);
	slots_destroy(&p);
}

/* Copy sends and failed sends free their slot at once; errors are counted by errno. */
static void test_copy_and_error(void **state)
{
	struct slot_pool p;
	struct tx_acct a = { 0 };
	int s;

	assert_int_equal(slots_init(&p, 1), 0);
	s = slots_get(&p);
	a.inflight = 3;
	tx_acct_cqe(&a, &p, s, 1000, 0, 1400);
	assert_int_equal(p.state[s], SLOT_FREE);
	assert_int_equal(a.short_sends, 1);
	s = slots_get(&p);
	tx_acct_cqe(&a, &p, s, -111 /* -ECONNREFUSED */, 0, 1400);
	s = slots_get(&p);
	tx_acct_cqe(&a, &p, s, -111, 0, 1400);
	assert_int_equal(a.errors, 2);
	assert_int_equal(a.err_errno[0], 111);
	assert_int_equal(a.err_count[0], 2);
	assert_int_equal(a.sends, 1);
	assert_int_equal(a.inflight, 0);
	assert_int_equal(p.nfree, 1);
	assert_int_equal(p.violations, 0);
	slots_destroy(&p);
}

/* A notification for a slot that owes none, or a second one, is a violation, not a free. */
static void test_violations(void **state)
{
	struct slot_pool p;
	struct tx_acct a = { 0 };
	int s;

	assert_int_equal(slots_init(&p, 2), 0);
	s = slots_get(&p);
	a.inflight = 1;
	tx_acct_cqe(&a, &p, s, 10, MORE, 10);
	tx_acct_cqe(&a, &p, s, 0, NOTIF, 10);
	tx_acct_cqe(&a, &p, s, 0, NOTIF, 10);   /* twice */
	assert_int_equal(p.violations, 1);
	assert_int_equal(p.nfree, 2);           /* freed once only */
	slots_put(&p, (uint32_t)s);             /* putting a free slot */
	assert_int_equal(p.violations, 2);
	assert_int_equal(p.nfree, 2);
	slots_destroy(&p);
}

/* Shared content (TCP): no slot, the counts still pair sends and notifications. */
static void test_no_slot(void **state)
{
	struct slot_pool p;
	struct tx_acct a = { 0 };

	assert_int_equal(slots_init(&p, 1), 0);
	a.inflight = 100;
	for (int i = 0; i < 100; i++)
		tx_acct_cqe(&a, &p, -1, 65536, MORE, 65536);
	for (int i = 0; i < 100; i++)
		tx_acct_cqe(&a, &p, -1, 0, NOTIF, 65536);
	assert_int_equal(a.zc_sends, a.notifs);
	assert_int_equal(a.bytes, 100 * 65536ULL);
	assert_int_equal(a.zc_copied, 0);
	assert_int_equal(p.violations, 0);
	slots_destroy(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zc_slot_waits_for_notif),
		cmocka_unit_test(test_copy_and_error),
		cmocka_unit_test(test_violations),
		cmocka_unit_test(test_no_slot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
