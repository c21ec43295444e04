/*
 * expect.h - a profile's expect: keys, parsed for the profile loader; gen/expect_eval.h
 * compares them with a run
 */
#ifndef ZCGEN_EXPECT_H
#define ZCGEN_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include "gen/gen.h"

/*
 * The expect: keys, the one list of them: X(name, kind) for each, in the
 * order messages give them. gen/expect.c parses each by its kind (RATE,
 * PERCENT, TIME, FRACTION, NAMES, FPS); the profile's key table
 * (gen/profile.c) makes its expect.NAME rows and the expect: section's
 * list of keys from it.
 */
#define EXPECT_KEYS(X)                     \
	X(min_gbps_total, RATE)            \
	X(min_gbps_per_queue, RATE)        \
	X(max_loss_percent, PERCENT)       \
	X(max_p99_latency, TIME)           \
	X(min_steering, FRACTION)          \
	X(offloads_effective, NAMES)       \
	X(min_ndr_fps, FPS)

/**
 * expect_key_set() - set one expect: key from its text
 * @ex: the profile's expect section (marked present)
 * @path: "expect.min_gbps_total", ... (the profile's key path)
 * @value: the text: a bit rate ("50" is Gbit/s, "50G", "500M"), a percentage
 *         ("0.5", "0.5%"), a time ("2ms"), a fraction ("0.9"), or names
 *         ("tso, gso") for expect.offloads_effective, a frame rate ("1000000",
 *         "1Mpps") for expect.min_ndr_fps
 * @append: offloads_effective only: add to the list instead of replacing it
 *          (one YAML sequence item at a time)
 * @msg: what was wrong and what is accepted, on -EINVAL
 * @len: size of @msg
 *
 * Return: 0, -EINVAL, or -ENOENT for a path that is no expect key.
 */
int expect_key_set(struct gen_expect *ex, const char *path, const char *value, bool append,
		   char *msg, size_t len);

/* What an expect key accepts, for messages ("a bit rate such as 50 (Gbit/s) or 500M"). */
const char *expect_key_describe(const char *path, char *buf, size_t len);

#endif
