/* unit_ethnl_names.c - ethtool's -K names expand to the kernel features ethtool would change */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "nic/ethnl.h"

/* A feature table as a veth on 6.18 has it, with a few fixed entries. */
static struct ethnl_feature table[] = {
	{ "tx-scatter-gather", true, true, false },
	{ "tx-checksum-ipv4", false, false, true },
	{ "tx-checksum-ip-generic", true, true, false },
	{ "tx-checksum-ipv6", false, false, true },
	{ "tx-scatter-gather-fraglist", true, true, false },
	{ "tx-tcp-segmentation", true, true, false },
	{ "tx-tcp-ecn-segmentation", true, true, false },
	{ "tx-tcp6-segmentation", true, true, false },
	{ "tx-generic-segmentation", true, true, false },
	{ "tx-udp-segmentation", true, true, false },
	{ "tx-checksum-sctp", true, true, false },
	{ "rx-gro", false, false, false },
	{ "rx-lro", false, false, true },
	{ "", false, false, true }, /* an index the kernel left without a name */
};
static const struct ethnl_features fs = { sizeof(table) / sizeof(table[0]), table };

static void expect(const char *name, const char *const *want, int nwant)
{
	unsigned int idx[16];
	int n = ethnl_feature_expand(&fs, name, idx, 16);

	assert_int_equal(n, nwant);
	for (int i = 0; i < n; i++) {
		if (strcmp(table[idx[i]].name, want[i]))
			fail_msg("%s: got %s at %d, want %s", name, table[idx[i]].name, i, want[i]);
	}
}

static void test_kernel_names(void **state)
{
	expect("tx-udp-segmentation", (const char *const[]){ "tx-udp-segmentation" }, 1);
	/* A fixed feature named directly is still sent: the kernel's answer says it did not change. */
	expect("tx-checksum-ipv4", (const char *const[]){ "tx-checksum-ipv4" }, 1);
}

static void test_short_and_long_names(void **state)
{
	static const char *const tso[] = { "tx-tcp-segmentation", "tx-tcp-ecn-segmentation", "tx-tcp6-segmentation" };
	static const char *const sg[] = { "tx-scatter-gather", "tx-scatter-gather-fraglist" };
	/* Fixed ones (ipv4, ipv6) are left out while changeable ones match. */
	static const char *const tx[] = { "tx-checksum-ip-generic", "tx-checksum-sctp" };

	expect("tso", tso, 3);
	expect("tcp-segmentation-offload", tso, 3);
	expect("sg", sg, 2);
	expect("scatter-gather", sg, 2);
	expect("tx", tx, 2);
	expect("tx-checksumming", tx, 2);
	expect("gso", (const char *const[]){ "tx-generic-segmentation" }, 1);
	expect("gro", (const char *const[]){ "rx-gro" }, 1);
	/* Only fixed ones match: all of them are given, so that the kernel can refuse. */
	expect("lro", (const char *const[]){ "rx-lro" }, 1);
}

static void test_unknown_and_room(void **state)
{
	unsigned int idx[1];

	assert_int_equal(ethnl_feature_expand(&fs, "turbo", idx, 1), -ENOENT);
	assert_int_equal(ethnl_feature_expand(&fs, "", idx, 1), -ENOENT);
	/* ntuple is an ethtool name, but this device has no rx-ntuple-filter. */
	assert_int_equal(ethnl_feature_expand(&fs, "ntuple", idx, 1), -ENOENT);
	assert_int_equal(ethnl_feature_expand(&fs, "tso", idx, 1), -ENOSPC);
	assert_null(ethnl_feature_find(&fs, "tso"));
	assert_ptr_equal(ethnl_feature_find(&fs, "rx-gro"), &table[11]);
}

static void test_channels_over_max(void **state)
{
	const struct ethnl_channels cur = { .rx = 4, .tx = 4, .rx_max = 4, .tx_max = 4 };
	struct ethnl_channels want = { .rx = ETHNL_KEEP, .tx = 9, .other = ETHNL_KEEP, .combined = ETHNL_KEEP };
	uint32_t max = 0;

	assert_string_equal(ethnl_channels_over_max(&cur, &want, &max), "tx");
	assert_int_equal(max, 4);
	want.tx = 4;
	assert_null(ethnl_channels_over_max(&cur, &want, &max));
	/* veth has no combined channels: asking for one is over a maximum of 0. */
	want.combined = 1;
	assert_string_equal(ethnl_channels_over_max(&cur, &want, &max), "combined");
	assert_int_equal(max, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_names),
		cmocka_unit_test(test_short_and_long_names),
		cmocka_unit_test(test_unknown_and_room),
		cmocka_unit_test(test_channels_over_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
