/* unit_ethnl.c - ethtool netlink and ioctl calls against a veth in a throwaway network namespace, checked by the ethtool program */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "nic/drvinfo.h"
#include "nic/ethnl.h"

#define DEV "zct0"
#define PEER "zct1"
#define QUEUES 4

/*
 * Each test gets its own anonymous network namespace: unshare() replaces
 * the last one, which the kernel frees with its veth, so a crashed test
 * leaves nothing behind. The ethnl socket is opened after, as it must be.
 */
static int setup(void **state)
{
	struct ethnl *nl;

	if (unshare(CLONE_NEWNET) < 0)
		return -1;
	if (system("ip link add name " DEV " numtxqueues 4 numrxqueues 4 type veth peer name " PEER
		   " numtxqueues 4 numrxqueues 4") != 0)
		return -1;
	if (ethnl_open(&nl) < 0)
		return -1;
	*state = nl;
	return 0;
}

static int teardown(void **state)
{
	ethnl_close(*state);
	return 0;
}

/* The output of a shell command; fails the test if it cannot run. */
static char *run(const char *cmd)
{
	static char buf[65536];
	size_t n = 0, r;
	FILE *p = popen(cmd, "r");

	if (!p)
		fail_msg("popen %s: %s", cmd, strerror(errno));
	while (n < sizeof(buf) - 1 && (r = fread(buf + n, 1, sizeof(buf) - 1 - n, p)) > 0)
		n += r;
	buf[n] = '\0';
	if (pclose(p) != 0)
		fail_msg("%s failed:\n%s", cmd, buf);
	return buf;
}

/* ethtool -l: the number after @label in the section that starts with @section. */
static uint32_t ethtool_l(const char *section, const char *label)
{
	char *out = run("ethtool -l " DEV);
	char *s = strstr(out, section);
	unsigned int v;

	assert_non_null(s);
	s = strstr(s, label);
	assert_non_null(s);
	if (sscanf(s + strlen(label), " %u", &v) != 1)
		fail_msg("ethtool -l: no number after %s in %s", label, s);
	return v;
}

static void test_channels_match_ethtool(void **state)
{
	struct ethnl *nl = *state;
	struct ethnl_channels ch;

	assert_int_equal(ethnl_channels_get(nl, DEV, &ch), 0);
	assert_int_equal(ch.rx_max, ethtool_l("Pre-set", "RX:"));
	assert_int_equal(ch.tx_max, ethtool_l("Pre-set", "TX:"));
	assert_int_equal(ch.rx, ethtool_l("Current", "RX:"));
	assert_int_equal(ch.tx, ethtool_l("Current", "TX:"));
	assert_int_equal(ch.tx_max, QUEUES);
	/* veth: separate rx and tx channels, no combined ones. */
	assert_int_equal(ch.combined_max, 0);
}

static void test_channels_set_seen_by_ethtool(void **state)
{
	struct ethnl *nl = *state;
	struct ethnl_channels want = { .rx = 2, .tx = 3, .other = ETHNL_KEEP, .combined = ETHNL_KEEP };
	struct ethnl_channels ch;

	assert_int_equal(ethnl_channels_set(nl, DEV, &want), 0);
	assert_int_equal(ethtool_l("Current", "RX:"), 2);
	assert_int_equal(ethtool_l("Current", "TX:"), 3);
	/* ETHNL_KEEP leaves a count alone. */
	want.rx = ETHNL_KEEP;
	want.tx = 1;
	assert_int_equal(ethnl_channels_set(nl, DEV, &want), 0);
	assert_int_equal(ethnl_channels_get(nl, DEV, &ch), 0);
	assert_int_equal(ch.rx, 2);
	assert_int_equal(ch.tx, 1);
	assert_int_equal(ethtool_l("Current", "TX:"), 1);
}

static void test_channels_over_max_refused(void **state)
{
	struct ethnl *nl = *state;
	struct ethnl_channels before, after;
	struct ethnl_channels want = { .rx = ETHNL_KEEP, .tx = 9, .other = ETHNL_KEEP, .combined = ETHNL_KEEP };
	uint32_t max = 0;

	assert_int_equal(ethnl_channels_get(nl, DEV, &before), 0);
	assert_string_equal(ethnl_channels_over_max(&before, &want, &max), "tx");
	assert_int_equal(max, QUEUES);
	assert_int_equal(ethnl_channels_set(nl, DEV, &want), -EINVAL);
	/* The kernel's extended ack, as `ethtool -L` prints it. */
	assert_non_null(strstr(ethnl_errmsg(nl), "exceeds maximum"));
	assert_int_equal(ethnl_channels_get(nl, DEV, &after), 0);
	assert_memory_equal(&before, &after, sizeof(before));
	/* A success clears the message. */
	assert_string_equal(ethnl_errmsg(nl), "");
}

static void test_unknown_device(void **state)
{
	struct ethnl *nl = *state;
	struct ethnl_channels ch;
	struct ethnl_features fs;
	struct drvinfo di;

	assert_int_equal(ethnl_channels_get(nl, "zcnosuch0", &ch), -ENODEV);
	assert_non_null(strstr(ethnl_errmsg(nl), "no device"));
	assert_int_equal(ethnl_features_get(nl, "zcnosuch0", &fs), -ENODEV);
	assert_int_equal(drvinfo_get("zcnosuch0", &di), -ENODEV);
}

static void test_rings_unsupported_on_veth(void **state)
{
	struct ethnl *nl = *state;
	struct ethnl_rings r;

	/* veth has no ring settings: `ethtool -g` says "Operation not supported" too. */
	assert_int_equal(ethnl_rings_get(nl, DEV, &r), -EOPNOTSUPP);
}

/*
 * ethtool -k prints "name: on|off" with " [fixed]" or " [requested on|off]";
 * for lines naming a kernel feature, state and flags must agree with ours.
 */
static void test_features_match_ethtool(void **state)
{
	struct ethnl *nl = *state;
	struct ethnl_features fs;
	char *out, *line, *save = NULL;
	int compared = 0, requested = 0;

	/* With sg off, TSO and GSO are wanted but not active: wanted and active must not be confused. */
	run("ethtool -K " DEV " sg off 2>&1");
	assert_int_equal(ethnl_features_get(nl, DEV, &fs), 0);
	assert_true(fs.count > 40);
	out = run("ethtool -k " DEV);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[64], state_s[8];
		const struct ethnl_feature *f;

		if (sscanf(line, " %63[^:]: %7s", name, state_s) != 2)
			continue;
		f = ethnl_feature_find(&fs, name);
		if (!f)
			continue; /* an ethtool group name ("scatter-gather") or the header */
		if (f->active != !strcmp(state_s, "on"))
			fail_msg("%s: ethtool says %s, we say active=%d", name, state_s, f->active);
		if (f->fixed != (strstr(line, "[fixed]") != NULL))
			fail_msg("%s: fixed=%d, ethtool: %s", name, f->fixed, line);
		if (strstr(line, "[requested on]") && !f->wanted)
			fail_msg("%s: ethtool: %s, we say not wanted", name, line);
		requested += strstr(line, "[requested on]") != NULL;
		if (strstr(line, "[requested off]") && f->wanted)
			fail_msg("%s: ethtool: %s, we say wanted", name, line);
		compared++;
	}
	/* Guard against a parser that matched nothing. */
	assert_true(compared > 20);
	assert_true(requested >= 2);
	assert_non_null(ethnl_feature_find(&fs, "tx-tcp-segmentation"));
	assert_non_null(ethnl_feature_find(&fs, "tx-udp-segmentation"));
	ethnl_features_free(&fs);
}

static const struct ethnl_feature_change *change(const struct ethnl_features_result *res, const char *name)
{
	for (unsigned int i = 0; i < res->count; i++)
		if (!strcmp(res->c[i].name, name))
			return &res->c[i];
	return NULL;
}

static bool ethtool_k_says(const char *feature, const char *state_s)
{
	char cmd[128], want[96];

	snprintf(cmd, sizeof(cmd), "ethtool -k " DEV);
	snprintf(want, sizeof(want), "\t%s: %s", feature, state_s);
	return strstr(run(cmd), want) != NULL;
}

static void test_sg_off_drags_tso_gso_and_restore(void **state)
{
	struct ethnl *nl = *state;
	struct ethnl_features before, after;
	const struct ethnl_feature_req off[] = { { "sg", false } };
	struct ethnl_feature_req *back;
	struct ethnl_features_result res;
	const struct ethnl_feature_change *c;
	unsigned int nback = 0;

	assert_int_equal(ethnl_features_get(nl, DEV, &before), 0);
	assert_true(ethnl_feature_find(&before, "tx-tcp-segmentation")->active);
	assert_true(ethnl_feature_find(&before, "tx-generic-segmentation")->active);

	assert_int_equal(ethnl_features_set(nl, DEV, off, 1, &res), 0);
	c = change(&res, "tx-scatter-gather");
	assert_non_null(c);
	assert_true(c->requested && c->active_changed && !c->active && !c->not_as_requested);
	/* Dragged along: not asked for, but off now. */
	c = change(&res, "tx-tcp-segmentation");
	assert_non_null(c);
	assert_true(!c->requested && c->active_changed && !c->active);
	c = change(&res, "tx-generic-segmentation");
	assert_non_null(c);
	assert_true(!c->requested && c->active_changed && !c->active);
	ethnl_features_result_free(&res);
	assert_true(ethtool_k_says("tx-scatter-gather", "off"));
	assert_true(ethtool_k_says("tx-tcp-segmentation", "off [requested on]"));

	/* Restore as the state module will: every changeable feature's wanted value, by kernel name. */
	back = calloc(before.count, sizeof(*back));
	assert_non_null(back);
	for (unsigned int i = 0; i < before.count; i++) {
		if (before.f[i].fixed || !before.f[i].name[0])
			continue;
		back[nback].name = before.f[i].name;
		back[nback++].on = before.f[i].wanted;
	}
	assert_int_equal(ethnl_features_set(nl, DEV, back, nback, &res), 0);
	assert_non_null(change(&res, "tx-tcp-segmentation"));
	ethnl_features_result_free(&res);
	assert_int_equal(ethnl_features_get(nl, DEV, &after), 0);
	assert_int_equal(after.count, before.count);
	assert_memory_equal(after.f, before.f, before.count * sizeof(*before.f));
	assert_true(ethtool_k_says("tx-tcp-segmentation", "on"));
	free(back);
	ethnl_features_free(&before);
	ethnl_features_free(&after);
}

static void test_fixed_feature_reported(void **state)
{
	struct ethnl *nl = *state;
	const struct ethnl_feature_req on[] = { { "rx-lro", true } };
	struct ethnl_features_result res;
	const struct ethnl_feature_change *c;

	/* rx-lro is fixed off on veth: the kernel leaves it and its reply says so. */
	assert_int_equal(ethnl_features_set(nl, DEV, on, 1, &res), 0);
	c = change(&res, "rx-lro");
	assert_non_null(c);
	assert_true(c->requested && c->not_as_requested && !c->active && !c->active_changed);
	ethnl_features_result_free(&res);
}

static void test_unknown_feature_changes_nothing(void **state)
{
	struct ethnl *nl = *state;
	const struct ethnl_feature_req req[] = { { "sg", false }, { "warp-drive", true } };
	struct ethnl_features_result res;

	assert_int_equal(ethnl_features_set(nl, DEV, req, 2, &res), -ENOENT);
	assert_non_null(strstr(ethnl_errmsg(nl), "warp-drive"));
	assert_int_equal(res.count, 0);
	assert_true(ethtool_k_says("tx-scatter-gather", "on"));
}

static void test_link_matches_ethtool(void **state)
{
	struct ethnl *nl = *state;
	struct ethnl_link link;
	char *out, *s;
	unsigned int speed;

	assert_int_equal(ethnl_link_get(nl, DEV, &link), 0);
	out = run("ethtool " DEV);
	s = strstr(out, "Speed: ");
	assert_non_null(s);
	if (sscanf(s, "Speed: %uMb/s", &speed) == 1)
		assert_int_equal(link.speed, speed);
	else
		assert_int_equal(link.speed, ETHNL_SPEED_UNKNOWN);
	if (strstr(out, "Duplex: Full"))
		assert_int_equal(link.duplex, DUPLEX_FULL);
	/* Both ends down: no carrier. */
	assert_int_equal(link.link_up, 0);
	ethnl_link_free(&link);
}

static void test_drvinfo_and_stats_match_ethtool(void **state)
{
	struct drvinfo di;
	struct drvinfo_stats st;
	char *out, *s;
	char want[128];
	int i;

	assert_int_equal(drvinfo_get(DEV, &di), 0);
	assert_string_equal(di.driver, "veth");
	snprintf(want, sizeof(want), "driver: %s\nversion: %s\n", di.driver, di.version);
	assert_non_null(strstr(run("ethtool -i " DEV), want));

	assert_int_equal(drvinfo_stats_get(DEV, &st), 0);
	out = run("ethtool -S " DEV);
	/* Every name ethtool prints is ours, in the same order, with the same value for the static ones. */
	s = out;
	for (unsigned int k = 0; k < st.count; k++) {
		snprintf(want, sizeof(want), "     %s: ", st.names[k]);
		s = strstr(s, want);
		if (!s)
			fail_msg("ethtool -S lacks %s (or order differs)", st.names[k]);
	}
	i = drvinfo_stat_find(&st, "peer_ifindex");
	assert_true(i >= 0);
	snprintf(want, sizeof(want), "peer_ifindex: %llu\n", (unsigned long long)st.values[i]);
	assert_non_null(strstr(out, want));
	/* Per-queue names: one set per rx queue. */
	assert_true(drvinfo_stat_find(&st, "rx_queue_3_xdp_packets") >= 0);
	assert_int_equal(drvinfo_stat_find(&st, "no_such_counter"), -ENOENT);
	drvinfo_stats_free(&st);
}

static void count_stat(void *ctx, const char *name, uint64_t value)
{
	unsigned int *n = ctx;

	if (!strncmp(name, "rx_queue_", 9))
		(*n)++;
}

static void test_drvinfo_stats_each(void **state)
{
	unsigned int n = 0;

	assert_int_equal(drvinfo_stats_each(NULL, DEV, count_stat, &n), 0);
	/* veth: 7 counters per rx queue (xdp_packets, xdp_bytes, drops, ...), ethtool -S shows the same. */
	assert_int_equal(n, (unsigned int)atoi(run("ethtool -S " DEV " | grep -c '^ *rx_queue_'")));
	assert_true(n >= QUEUES);
	assert_int_equal(drvinfo_stats_each(NULL, "zcnosuch0", count_stat, &n), -ENODEV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_channels_match_ethtool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_channels_set_seen_by_ethtool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_channels_over_max_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rings_unsupported_on_veth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_match_ethtool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sg_off_drags_tso_gso_and_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fixed_feature_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_feature_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_matches_ethtool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drvinfo_and_stats_match_ethtool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drvinfo_stats_each, setup, teardown),
	};

	if (geteuid() != 0) {
		printf("skip: needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) for a network namespace and a veth\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		printf("skip: cannot create a network namespace: %s\n", strerror(errno));
		return 77;
	}
	if (system("command -v ethtool >/dev/null && command -v ip >/dev/null") != 0) {
		printf("skip: needs the ethtool and ip programs to check against\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
