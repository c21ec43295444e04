/* unit_nic_qstats.c - per-queue TX counters: driver-stat names, and mq + XPS on a veth in a throwaway namespace */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "nic/qstats.h"
#include "nic/xps.h"

/* ---- driver statistics, through a fake supplier (no root needed) ---- */

struct fake_stat {
	const char *name;
	uint64_t value;
};

struct fake_drv {
	const struct fake_stat *stats;
	unsigned int n;
};

static int fake_drv_fn(void *arg, const char *ifname, qstats_stat_fn each, void *each_ctx)
{
	const struct fake_drv *d = arg;
	unsigned int i;

	for (i = 0; i < d->n; i++)
		each(each_ctx, d->stats[i].name, d->stats[i].value);
	return 0;
}

#define FAKE(arr) { arr, sizeof(arr) / sizeof(arr[0]) }

static void read_fake(const struct fake_drv *d, int expect_ret, struct qstats_tx *out)
{
	struct qstats_ctx c;

	assert_int_equal(qstats_open(&c, fake_drv_fn, (void *)d), 0);
	/* Any existing device will do: the fake ignores it. Loopback exists everywhere. */
	assert_int_equal(qstats_tx_read_from(&c, "lo", QSTATS_SRC_DRIVER, out), expect_ret);
	qstats_close(&c);
}

static void test_driver_names(void **state)
{
	static const struct fake_stat mlx5[] = {
		{ "rx_packets", 99 }, { "tx_bytes", 5000 }, { "tx0_packets", 10 }, { "tx0_bytes", 1000 },
		{ "tx1_packets", 20 }, { "tx1_bytes", 2000 }, { "tx1_xmit_more", 7 }, { "rx0_bytes", 55 },
	};
	static const struct fake_stat i40e[] = {
		{ "tx-0.packets", 3 }, { "tx-0.bytes", 300 }, { "rx-0.bytes", 77 },
		{ "tx-2.packets", 5 }, { "tx-2.bytes", 500 },
	};
	static const struct fake_stat ixgbe[] = {
		{ "tx_queue_0_packets", 1 }, { "tx_queue_0_bytes", 64 }, { "rx_queue_0_bytes", 9 },
	};
	/* What virtio-net (6.18, from shared/reference) and veth give: no per-queue TX bytes. */
	static const struct fake_stat virtio[] = {
		{ "tx_kicks", 287 }, { "tx0_kicks", 287 }, { "tx0_xdp_tx", 0 }, { "rx0_drops", 0 },
	};
	static const struct fake_stat veth[] = {
		{ "peer_ifindex", 5 }, { "rx_queue_0_xdp_packets", 4 }, { "tx_queue_0_xdp_xmit", 3 },
	};
	const struct fake_drv d_mlx5 = FAKE(mlx5), d_i40e = FAKE(i40e), d_ixgbe = FAKE(ixgbe);
	const struct fake_drv d_virtio = FAKE(virtio), d_veth = FAKE(veth);
	struct qstats_tx *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	read_fake(&d_mlx5, 0, t);
	assert_int_equal(t->source, QSTATS_SRC_DRIVER);
	assert_string_equal(qstats_source_name(t->source), "driver-stats");
	assert_int_equal(t->nqueues, 2);
	assert_int_equal(t->q[0].bytes, 1000);
	assert_int_equal(t->q[0].packets, 10);
	assert_int_equal(t->q[1].bytes, 2000);
	assert_int_equal(t->q[1].packets, 20);

	read_fake(&d_i40e, 0, t);
	assert_int_equal(t->nqueues, 3);
	assert_int_equal(t->q[0].bytes, 300);
	assert_int_equal(t->q[1].bytes, 0);
	assert_int_equal(t->q[2].packets, 5);

	read_fake(&d_ixgbe, 0, t);
	assert_int_equal(t->nqueues, 1);
	assert_int_equal(t->q[0].bytes, 64);

	read_fake(&d_virtio, -ENOENT, t);
	assert_int_equal(t->source, QSTATS_SRC_NONE);
	read_fake(&d_veth, -ENOENT, t);
	assert_int_equal(t->nqueues, 0);
	free(t);
}

/* ---- mq counters and XPS on a 2-queue veth (root, namespaces) ---- */

#define DEST "10.9.0.3"	/* a neighbour behind zq0 that is no local address: packets leave on zq0 */
#define PAYLOAD 1000
#define COUNT 3000

static bool g_xps_ok;
static int g_send_cpu = -1;

struct sender {
	int cpu;
	int sent;
	int err;
};

static void *send_thread(void *arg)
{
	struct sender *s = arg;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	char buf[PAYLOAD];
	cpu_set_t set;
	int fd, i;

	CPU_ZERO(&set);
	CPU_SET(s->cpu, &set);
	s->err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (s->err)
		return NULL;
	inet_pton(AF_INET, DEST, &to.sin_addr);
	memset(buf, 0x5a, sizeof(buf));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		s->err = errno;
		return NULL;
	}
	for (i = 0; i < COUNT; i++)
		if (sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)sizeof(buf))
			s->sent++;
	close(fd);
	return NULL;
}

static void test_mq_counters(void **state)
{
	struct qstats_tx *before = calloc(1, sizeof(*before)), *after = calloc(1, sizeof(*after));
	uint64_t lb0, lp0, lb1, lp1, q0, q1, sum, lbytes, lpkts;
	struct sender s = { .cpu = g_send_cpu };
	struct qstats_ctx c;
	pthread_t th;

	assert_non_null(before);
	assert_non_null(after);
	assert_int_equal(qstats_open(&c, NULL, NULL), 0);
	/* Before mq: veth has no per-queue counters at all, and that is not an error. */
	assert_int_equal(qstats_tx_read(&c, "zq0", before), 0);
	assert_int_equal(before->source, QSTATS_SRC_NONE);
	assert_int_equal(qstats_mq_del(&c, "zq0"), -ENOENT);

	assert_int_equal(qstats_mq_add(&c, "zq0"), 0);
	assert_int_equal(qstats_tx_read(&c, "zq0", before), 0);
	assert_int_equal(before->source, QSTATS_SRC_MQ);
	assert_string_equal(qstats_source_name(before->source), "mq-qdisc");
	assert_int_equal(before->nqueues, 2);
	assert_int_equal(qstats_link_tx(&c, "zq0", &lb0, &lp0), 0);

	assert_int_equal(pthread_create(&th, NULL, send_thread, &s), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(s.err, 0);
	assert_true(s.sent > COUNT / 2);

	assert_int_equal(qstats_tx_read_from(&c, "zq0", QSTATS_SRC_MQ, after), 0);
	assert_int_equal(after->nqueues, 2);
	assert_int_equal(qstats_link_tx(&c, "zq0", &lb1, &lp1), 0);
	q0 = after->q[0].bytes - before->q[0].bytes;
	q1 = after->q[1].bytes - before->q[1].bytes;
	sum = q0 + q1;
	lbytes = lb1 - lb0;
	lpkts = lp1 - lp0;
	printf("# sent %d x %d B from CPU %d: tx-0 %llu B, tx-1 %llu B; link %llu B %llu pkts\n",
	       s.sent, PAYLOAD, s.cpu, (unsigned long long)q0, (unsigned long long)q1,
	       (unsigned long long)lbytes, (unsigned long long)lpkts);
	assert_true(sum >= (uint64_t)s.sent * PAYLOAD);
	if (g_xps_ok)
		assert_true(q0 * 10 >= sum * 8);	/* most, not all: see DESIGN.md */
	else
		printf("# XPS part skipped: sysfs could not be mounted for this namespace\n");
	/* The device's own counters agree roughly, and give a sane size per packet. */
	assert_true(lbytes > 0);
	assert_true(lpkts > 0);
	assert_true(lbytes / lpkts >= PAYLOAD && lbytes / lpkts <= PAYLOAD + 100);
	assert_true(lbytes * 2 >= sum && lbytes <= sum * 2);

	assert_int_equal(qstats_mq_del(&c, "zq0"), 0);
	assert_int_equal(qstats_tx_read_from(&c, "zq0", QSTATS_SRC_MQ, after), -ENOENT);
	assert_int_equal(qstats_mq_add(&c, "nosuchdev"), -ENODEV);
	qstats_close(&c);
	free(before);
	free(after);
}

/* Namespace, sysfs for it, the veth pair, XPS. Returns 77 with a reason where the machine cannot. */
static int setup_netns(void)
{
	cpu_set_t allowed, one, rest;
	int c;

	if (geteuid() != 0) {
		printf("SKIP mq/XPS part: needs root (network namespace, qdisc, sysfs)\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET | CLONE_NEWNS)) {
		printf("SKIP mq/XPS part: unshare(CLONE_NEWNET|CLONE_NEWNS): %s\n", strerror(errno));
		return 77;
	}
	/* /sys/class/net shows the namespace sysfs was mounted in: mount it again for ours. */
	g_xps_ok = !mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) &&
		   !mount("sysfs", "/sys", "sysfs", 0, NULL);
	if (system("ip link add zq0 numtxqueues 2 numrxqueues 2 type veth peer zq1 numtxqueues 2 numrxqueues 2"
		   " && ip addr add 10.9.0.1/24 dev zq0 && ip link set zq0 up && ip link set zq1 up"
		   " && ip neigh add " DEST " lladdr 02:00:00:00:00:03 dev zq0 nud permanent")) {
		printf("FAIL: could not create the veth pair with ip(8)\n");
		return 1;
	}
	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return 1;
	CPU_ZERO(&one);
	rest = allowed;
	for (c = 0; c < CPU_SETSIZE; c++) {
		if (CPU_ISSET(c, &allowed)) {
			g_send_cpu = c;
			break;
		}
	}
	CPU_SET(g_send_cpu, &one);
	CPU_CLR(g_send_cpu, &rest);
	/* The sender's CPU transmits on tx-0, every other CPU on tx-1. */
	if (g_xps_ok && (xps_set("", "zq0", 0, &one) || xps_set("", "zq0", 1, &rest))) {
		printf("# XPS could not be set in this namespace: the tx-0 share is not checked\n");
		g_xps_ok = false;
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_driver_names),
	};
	const struct CMUnitTest netns[] = {
		cmocka_unit_test(test_mq_counters),
	};
	int ret;

	ret = cmocka_run_group_tests_name("qstats_plain", plain, NULL, NULL);
	if (ret)
		return ret;
	ret = setup_netns();
	if (ret)
		return ret;
	return cmocka_run_group_tests_name("qstats_netns", netns, NULL, NULL);
}
