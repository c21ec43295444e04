/* unit_stall.c - the stall watch: idle is not stalled, every live ring must be stuck, the words for a stuck socket; stall_timeout parsed and checked */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "gen/gen.h"
#include "gen/profile.h"
#include "gen/stall.h"

#define S 1000000000ULL
#define MS 1000000ULL

/* One ring's looks: (time, progress, owed) in order, then what its watch says. */
static void test_watch(void **state)
{
	struct stall_watch w;

	(void)state;
	stall_watch_start(&w, 0);
	stall_watch_note(&w, 100 * MS, true, true);
	assert_int_equal(w.progress_ns, 100 * MS);
	/* owed, no progress: the progress time stays */
	stall_watch_note(&w, 200 * MS, false, true);
	assert_int_equal(w.progress_ns, 100 * MS);
	assert_int_equal(w.checked_ns, 200 * MS);
	/* nothing owed (a paced pause): idle counts as progress */
	stall_watch_note(&w, 5 * S, false, false);
	assert_int_equal(w.progress_ns, 5 * S);
}

static const struct {
	const char *what;
	unsigned n;
	uint64_t progress[3], checked[3];
	bool live[3];
	uint64_t timeout;
	bool stalled;
	uint64_t for_ns;
} judge_cases[] = {
	{ "one ring stuck 2 s", 1, { 1 * S }, { 3 * S }, { true }, 2 * S, true, 2 * S },
	{ "one ring stuck just under", 1, { 1 * S }, { 3 * S - 1 }, { true }, 2 * S, false, 0 },
	{ "timeout 0: never", 1, { 0 }, { 100 * S }, { true }, 0, false, 0 },
	{ "one of two still moving", 2, { 1 * S, 5 * S }, { 5 * S, 5 * S }, { true, true }, 2 * S,
	  false, 0 },
	{ "both stuck: the shorter time", 2, { 1 * S, 2 * S }, { 5 * S, 5 * S }, { true, true },
	  2 * S, true, 3 * S },
	{ "a failed ring does not count", 2, { 1 * S, 4 * S }, { 5 * S, 5 * S }, { true, false },
	  2 * S, true, 4 * S },
	{ "no live ring: not a stall", 2, { 0, 0 }, { 9 * S, 9 * S }, { false, false }, 2 * S,
	  false, 0 },
	/* a ring starved of CPU: its last look is as old as its last progress */
	{ "a starved ring is judged by its own looks", 1, { 1 * S }, { 1 * S + 100 * MS },
	  { true }, 2 * S, false, 0 },
	{ "not yet published (zeros)", 2, { 0, 1 * S }, { 0, 4 * S }, { true, true }, 2 * S, false,
	  0 },
};

static void test_judge(void **state)
{
	(void)state;
	for (unsigned i = 0; i < sizeof(judge_cases) / sizeof(judge_cases[0]); i++) {
		uint64_t f = 0;
		bool got = stall_judge(judge_cases[i].progress, judge_cases[i].checked,
				       judge_cases[i].live, judge_cases[i].n, judge_cases[i].timeout,
				       &f);

		if (got != judge_cases[i].stalled || (got && f != judge_cases[i].for_ns))
			fail_msg("%s: stalled %d for %llu, expected %d for %llu", judge_cases[i].what,
				 got, (unsigned long long)f, judge_cases[i].stalled,
				 (unsigned long long)judge_cases[i].for_ns);
	}
}

static const struct {
	struct stall_tcp t;
	const char *want;
} describe_cases[] = {
	{ { .state = 1, .retransmits = 4, .backoff = 4, .unacked = 10, .snd_mss = 1000,
	    .last_ack_ms = 2200 },
	  "10 segments (about 10.0 kB) not acknowledged, 0 B not yet sent, last ACK 2.2 s ago, "
	  "4 retransmission timeouts in a row without an ACK (backoff 4): nothing answers, "
	  "state established" },
	{ { .state = 1, .probes = 3, .notsent = 2000000, .has_notsent = true, .last_ack_ms = 2100 },
	  "0 segments (about 0 B) not acknowledged, 2.0 MB not yet sent, last ACK 2.1 s ago, "
	  "3 window probes in a row without an answer: nothing answers, state established" },
	{ { .state = 1, .notsent = 4096, .has_notsent = true, .last_ack_ms = 150 },
	  "0 segments (about 0 B) not acknowledged, 4.1 kB not yet sent, last ACK 0.1 s ago, the "
	  "receiver's window is closed and it answers: it stopped reading, state established" },
	{ { .state = 8, .unacked = 1, .snd_mss = 500 },
	  "1 segments (about 500 B) not acknowledged, 0 B not yet sent, last ACK 0.0 s ago, "
	  "state close-wait" },
};

static void test_describe(void **state)
{
	char buf[400];

	(void)state;
	for (unsigned i = 0; i < sizeof(describe_cases) / sizeof(describe_cases[0]); i++) {
		stall_tcp_describe(&describe_cases[i].t, buf, sizeof(buf));
		assert_string_equal(buf, describe_cases[i].want);
	}
	assert_string_equal(stall_tcp_state_name(0), "unknown");
	assert_string_equal(stall_tcp_state_name(200), "unknown");
	assert_true(stall_tcp_owed(&describe_cases[0].t));
	assert_true(stall_tcp_owed(&describe_cases[1].t));
}

/* The key: default 2 s, a time with units, 0 off; 1..99 ms refused by the cross-key check. */
static void test_profile_key(void **state)
{
	struct gen_profile p;
	struct gen_diags d = { 0 };

	(void)state;
	profile_init(&p);
	assert_int_equal(p.stall_timeout_ns, 2 * S);
	assert_int_equal(profile_set(&p, "stall-timeout", "500ms", &d), 0);
	assert_int_equal(p.stall_timeout_ns, 500 * MS);
	assert_int_equal(profile_set(&p, "stall_timeout", "0", &d), 0);
	assert_int_equal(p.stall_timeout_ns, 0);
	assert_int_equal(diags_errors(&d), 0);
	assert_int_not_equal(profile_set(&p, "stall-timeout", "soon", &d), 0);
	assert_int_equal(diags_errors(&d), 1);
	diags_free(&d);

	memset(&d, 0, sizeof(d));
	assert_int_equal(profile_set(&p, "dest", "127.0.0.1:5201", &d), 0);
	assert_int_equal(profile_set(&p, "stall-timeout", "50ms", &d), 0);
	profile_validate(&p, &d);
	assert_int_equal(diags_errors(&d), 1);
	/* set by the option: the error is told at --stall-timeout, as other options' are */
	assert_string_equal(d.v[0].key, "stall-timeout");
	assert_non_null(strstr(d.v[0].msg, "at least 100ms"));
	diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watch),
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_profile_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
