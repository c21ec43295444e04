/* testhook.h - delays that tests ask for through the environment (nic/ internal) */
#ifndef ZCGEN_NIC_TESTHOOK_H
#define ZCGEN_NIC_TESTHOOK_H

/**
 * nic_test_delay() - sleep the milliseconds that environment variable @var
 * names (at most 10 s), so that a test's signal lands inside a NIC or lab
 * set-up as it does on a real NIC whose changes take seconds
 * @var: ZCGEN_TEST_APPLY_DELAY_MS or ZCGEN_TEST_LAB_UP_DELAY_MS (tests/t_faults.sh)
 *
 * Unset, empty or not a number up to 10000: nothing. A signal does not cut
 * the sleep short.
 */
void nic_test_delay(const char *var);

#endif
