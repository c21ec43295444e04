/* unit_lab.c - nic/lab: config checks, sinks started and stopped, lab_enter, teardown on failure */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "nic/nic.h"

/*
 * lab_up starts SINK_EXE sink --listen [::]:PORT (0.0.0.0:PORT without IPv6) --protocol both. Here the
 * sink is this very binary (/proc/self/exe, lab_cfg's default), which plays
 * a minimal sink: bind (TCP and UDP for "both"), listen, wait for SIGTERM. So
 * the daemon, pid-file and readiness logic is tested without depending on the
 * real sink.
 */
static int fake_bind(int type, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, type, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 16) < 0))
		return -1;
	return fd;
}

static int fake_sink(int argc, char **argv)
{
	const char *listen_arg = NULL, *proto = "tcp";
	uint16_t port;

	for (int i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--listen"))
			listen_arg = argv[i + 1];
		else if (!strcmp(argv[i], "--protocol"))
			proto = argv[i + 1];
	}
	if (!listen_arg || !strchr(listen_arg, ':')) {
		fprintf(stderr, "fake sink: no --listen\n");
		return 2;
	}
	port = (uint16_t)atoi(strrchr(listen_arg, ':') + 1);
	if ((strcmp(proto, "udp") && fake_bind(SOCK_STREAM, port) < 0) ||
	    (strcmp(proto, "tcp") && fake_bind(SOCK_DGRAM, port) < 0)) {
		perror("fake sink");
		return 1;
	}
	for (;;)
		pause();
}

static struct lab_cfg base;

/* the caller gives the sink's command line (gen/ gives zcgen's): here, the same */
static const char *const sink_argv[] = { "zcgen", "sink", "--listen", LAB_SINK_LISTEN,
					 "--protocol", "both", "--quiet", NULL };

static void cfg_for_test(struct lab_cfg *cfg)
{
	lab_cfg_init(cfg);
	cfg->sink_argv = sink_argv;
	cfg->sink_gro_arg = "--gro";
	snprintf(cfg->prefix, sizeof(cfg->prefix), "zcgu%d", (int)getpid());
}

static ino_t ns_ino(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_ino : 0;
}

static bool netns_exists(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return access(path, F_OK) == 0;
}

static bool pid_gone(pid_t pid)
{
	char path[64], buf[256];
	FILE *f;
	bool gone = true;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(buf, sizeof(buf), f) && strrchr(buf, ')'))
			gone = strrchr(buf, ')')[2] == 'Z';
		fclose(f);
	}
	return gone;
}

static void test_check_cfg(void **state)
{
	static const struct {
		const char *prefix;
		unsigned queues, mtu;
		const char *want;     /* in the message */
	} cases[] = {
		{ "", 2, 1500, "1 to 32" },
		{ "../etc", 2, 1500, "only letters" },
		{ ".hidden", 2, 1500, "only letters" },
		{ "a b", 2, 1500, "only letters" },
		{ "ok", 0, 1500, "1 to 64" },
		{ "ok", 65, 1500, "1 to 64" },
		{ "ok", 2, 67, "68 to 65535" },
		{ "ok", 2, 65536, "68 to 65535" },
	};
	struct lab_cfg cfg;
	char msg[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cfg_for_test(&cfg);
		snprintf(cfg.prefix, sizeof(cfg.prefix), "%s", cases[i].prefix);
		cfg.queues = cases[i].queues;
		cfg.mtu = cases[i].mtu;
		msg[0] = '\0';
		assert_int_equal(lab_check_cfg(&cfg, msg, sizeof(msg)), -EINVAL);
		if (!strstr(msg, cases[i].want))
			fail_msg("case %zu: '%s' lacks '%s'", i, msg, cases[i].want);
	}
	cfg_for_test(&cfg);
	assert_int_equal(lab_check_cfg(&cfg, msg, sizeof(msg)), 0);
	assert_int_equal(cfg.queues, LAB_DEFAULT_QUEUES);
	assert_int_equal(cfg.mtu, LAB_DEFAULT_MTU);
}

static void test_env_prefix(void **state)
{
	struct lab_cfg cfg;
	char msg[256];

	setenv(LAB_PREFIX_ENV, "zcg-env", 1);
	lab_cfg_init(&cfg);
	assert_string_equal(cfg.prefix, "zcg-env");
	setenv(LAB_PREFIX_ENV, "a-prefix-that-is-far-too-long-for-the-lab", 1);
	lab_cfg_init(&cfg);
	assert_int_equal(lab_check_cfg(&cfg, msg, sizeof(msg)), -EINVAL);
	unsetenv(LAB_PREFIX_ENV);
	lab_cfg_init(&cfg);
	assert_string_equal(cfg.prefix, LAB_PREFIX_DEFAULT);
}

static void test_gro_cfg(void **state)
{
	struct lab_cfg cfg;
	char msg[256];

	lab_cfg_init(&cfg);
	assert_int_equal(cfg.gro, LAB_GRO_KEEP);
	assert_int_equal(lab_check_cfg(&cfg, msg, sizeof(msg)), 0);
	cfg.gro = 1;
	assert_int_equal(lab_check_cfg(&cfg, msg, sizeof(msg)), 0);
	cfg.gro = 2;
	assert_int_equal(lab_check_cfg(&cfg, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "gro"));
}

/* GRO on at build, off in place (the sink restarted without --gro), kept when not asked. */
static void test_gro_up_in_place(void **state)
{
	struct lab_info li, li2;
	struct lab_cfg cfg = base;
	char msg[1024] = "";

	cfg.queues = 1;
	cfg.gro = 1;
	if (lab_up(&cfg, &li, msg, sizeof(msg)))
		fail_msg("lab_up --gro: %s", msg);
	assert_true(li.gro && li.rx_gro && li.rx_udp_gro_forwarding && li.napi_threaded);
	assert_true(li.sink_gro);
	assert_true(li.sink_tcp_pid > 0);

	cfg.gro = LAB_GRO_KEEP;
	if (lab_up(&cfg, &li2, msg, sizeof(msg)))
		fail_msg("lab_up, GRO kept: %s", msg);
	assert_true(li2.reused && li2.gro && li2.sink_gro);
	assert_int_equal(li2.sink_tcp_pid, li.sink_tcp_pid);

	cfg.gro = 0;
	if (lab_up(&cfg, &li2, msg, sizeof(msg)))
		fail_msg("lab_up --no-gro: %s", msg);
	assert_true(li2.reused);
	assert_false(li2.gro || li2.rx_gro || li2.rx_udp_gro_forwarding || li2.napi_threaded);
	assert_false(li2.sink_gro);
	assert_true(li2.sink_tcp_pid > 0);
	assert_int_not_equal(li2.sink_tcp_pid, li.sink_tcp_pid);
	assert_int_equal(lab_down(&cfg, msg, sizeof(msg)), 0);
}

/* In a child: lab_enter, then sysfs and a TCP connect to the sink must work. */
static void check_enter(const struct lab_info *li)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(li->sink_tcp_port) };
		char msg[256], path[128];
		int fd;

		if (lab_enter(li, msg, sizeof(msg))) {
			fprintf(stderr, "lab_enter: %s\n", msg);
			_exit(1);
		}
		snprintf(path, sizeof(path), "/sys/class/net/%s/queues/tx-%u", li->tx_dev, li->queues - 1);
		if (access(path, F_OK)) {
			fprintf(stderr, "%s missing after lab_enter\n", path);
			_exit(2);
		}
		inet_pton(AF_INET, li->rx_ipv4, &sa.sin_addr);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			perror("connect to the lab's sink");
			_exit(3);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_up_sink_enter_down(void **state)
{
	struct lab_info li, li2, lq;
	struct lab_cfg cfg = base;
	char msg[1024] = "", path[128];
	pid_t tcp, udp;

	if (lab_up(&cfg, &li, msg, sizeof(msg)))
		fail_msg("lab_up: %s", msg);
	assert_false(li.reused);
	assert_int_equal(li.queues, cfg.queues);
	assert_true(li.sink_tcp_pid > 0);
	assert_int_equal(li.sink_udp_pid, li.sink_tcp_pid);  /* one sink, --protocol both */
	assert_int_equal(li.sink_tcp_port, LAB_SINK_PORT);
	/* The sinks run in the receiving namespace, not ours. */
	snprintf(path, sizeof(path), "/run/netns/%s", li.rx_netns);
	{
		char p2[64];

		snprintf(p2, sizeof(p2), "/proc/%d/ns/net", (int)li.sink_tcp_pid);
		assert_true(ns_ino(path) != 0);
		assert_int_equal(ns_ino(p2), ns_ino(path));
	}
	tcp = li.sink_tcp_pid;
	udp = li.sink_udp_pid;

	/* Kept, sinks and all. */
	if (lab_up(&cfg, &li2, msg, sizeof(msg)))
		fail_msg("second lab_up: %s", msg);
	assert_true(li2.reused);
	assert_int_equal(li2.sink_tcp_pid, tcp);
	assert_int_equal(li2.sink_udp_pid, udp);

	/* A dead sink is restarted. */
	kill(tcp, SIGKILL);
	for (int i = 0; i < 200 && !pid_gone(tcp); i++)
		usleep(10000);
	if (lab_up(&cfg, &li2, msg, sizeof(msg)))
		fail_msg("lab_up after the sink died: %s", msg);
	assert_true(li2.reused);
	assert_int_not_equal(li2.sink_tcp_pid, tcp);
	assert_int_equal(li2.sink_udp_pid, li2.sink_tcp_pid);

	if (lab_query(&cfg, &lq, msg, sizeof(msg)))
		fail_msg("lab_query: %s", msg);
	assert_int_equal(lq.queues, cfg.queues);
	assert_int_equal(lq.sink_tcp_pid, li2.sink_tcp_pid);
	assert_string_equal(lq.tx_netns, li.tx_netns);

	check_enter(&lq);

	assert_int_equal(lab_down(&cfg, msg, sizeof(msg)), 0);
	assert_false(netns_exists(li.tx_netns));
	assert_false(netns_exists(li.rx_netns));
	assert_true(pid_gone(li2.sink_tcp_pid));
	assert_true(pid_gone(udp));
	assert_int_equal(lab_query(&cfg, &lq, msg, sizeof(msg)), -ENOENT);
	assert_int_equal(lab_down(&cfg, msg, sizeof(msg)), 0);
}

/* A sink that exits at once: lab_up fails, says so, and leaves nothing. */
static void test_failed_sink_tears_down(void **state)
{
	struct lab_cfg cfg = base;
	struct lab_info li;
	char msg[1024] = "";
	int ret;

	cfg.sink_exe = "/bin/false";
	ret = lab_up(&cfg, &li, msg, sizeof(msg));
	assert_int_not_equal(ret, 0);
	if (!strstr(msg, "sink"))
		fail_msg("message does not name the sink: '%s'", msg);
	assert_false(netns_exists(li.tx_netns));
	assert_false(netns_exists(li.rx_netns));
}

/* Without the caller's command line for the sink: refused, said, nothing left. */
static void test_no_sink_argv(void **state)
{
	struct lab_cfg cfg = base;
	struct lab_info li;
	char msg[1024] = "";

	cfg.sink_argv = NULL;
	assert_int_equal(lab_up(&cfg, &li, msg, sizeof(msg)), -EINVAL);
	if (!strstr(msg, "command line for the lab's sink"))
		fail_msg("message does not say what is missing: '%s'", msg);
	assert_false(netns_exists(li.tx_netns));
	assert_false(netns_exists(li.rx_netns));
}

static int group_setup(void **state)
{
	char cmd[128];

	cfg_for_test(&base);
	base.queues = 3;
	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: needs root to create network namespaces\n");
		exit(77);
	}
	snprintf(cmd, sizeof(cmd), "ip netns add %s-probe 2>/dev/null && ip netns del %s-probe",
		 base.prefix, base.prefix);
	if (system(cmd) != 0) {
		fprintf(stderr, "SKIP: ip netns add is not permitted here\n");
		exit(77);
	}
	return 0;
}

static int group_teardown(void **state)
{
	lab_down(&base, NULL, 0);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_cfg),
		cmocka_unit_test(test_env_prefix),
		cmocka_unit_test(test_up_sink_enter_down),
		cmocka_unit_test(test_gro_cfg),
		cmocka_unit_test(test_gro_up_in_place),
		cmocka_unit_test(test_failed_sink_tears_down),
		cmocka_unit_test(test_no_sink_argv),
	};

	if (argc >= 2 && !strcmp(argv[1], "sink"))
		return fake_sink(argc, argv);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
