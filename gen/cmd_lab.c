/* cmd_lab.c - `zcgen lab up|down|status|exec`: the built-in veth lab from the command line */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "gen/gen.h"
#include "gen/cmd.h"
#include "gen/labrun.h"
#include "gen/stopsig.h"
#include "nic/nic.h"

static const char lab_usage[] =
	"usage: zcgen lab up [--queues N] [--mtu N] [--gro|--no-gro] [--no-sink] [--drop] [--json]\n"
	"       zcgen lab down\n"
	"       zcgen lab status [--json]\n"
	"       zcgen lab exec [--] COMMAND [ARG...]\n"
	"\n"
	"A veth pair between two network namespaces, for running zcgen without a\n"
	"second machine. See docs/lab.md.\n"
	"  up      build the lab (or keep the one that is up, if it has N queues)\n"
	"  down    stop the sink and delete the lab's namespaces\n"
	"  status  print the lab's layout; exit 1 when there is no complete lab\n"
	"  exec    run COMMAND on the sending side, with /sys showing the lab's devices\n"
	"Namespaces are named $" LAB_PREFIX_ENV "-tx and -rx (default prefix " LAB_PREFIX_DEFAULT ").\n";

static const char lab_up_usage[] =
	"usage: zcgen lab up [--queues N] [--mtu N] [--gro|--no-gro] [--no-sink] [--drop] [--json]\n"
	"  --queues N  TX and RX queues on each veth end, 1-64 (default 2)\n"
	"  --mtu N     MTU of both ends, 68-65535 (default 1500; IPv6 needs 1280)\n"
	"  --gro       UDP GRO on zcl-rx0 (rx-gro, rx-udp-gro-forwarding, threaded NAPI)\n"
	"              and the sink with --gro; a lab that is up is changed in place\n"
	"  --no-gro    all of that off; neither option: a lab that is up keeps its setting\n"
	"  --no-sink   do not start `zcgen sink` (tcp and udp, port 5201) in the receiving namespace\n"
	"  --drop      the drop lab: every packet is dropped at zcl-tx0's qdisc (pfifo limit 0\n"
	"              per queue), MTU 65535 unless --mtu, no sink: the sender measured alone\n"
	"  --json      print the layout as JSON\n"
	"A lab with the same queue count and kind is kept; another rebuilds it. Needs root.\n";

static const char lab_down_usage[] =
	"usage: zcgen lab down\n"
	"Stops the lab's sinks and deletes its namespaces. Not an error when there is no lab.\n";

static const char lab_status_usage[] =
	"usage: zcgen lab status [--json]\n"
	"Prints the lab's layout. Exit 0 when the lab is up, 1 when there is none or it is incomplete.\n";

static const char lab_exec_usage[] =
	"usage: zcgen lab exec [--] COMMAND [ARG...]\n"
	"Runs COMMAND in the lab's sending namespace, in a mount namespace of its own\n"
	"with /sys mounted for the lab, so that /sys/class/net shows zcl-tx0.\n"
	"Example: zcgen lab exec -- cat /sys/class/net/zcl-tx0/queues/tx-0/xps_cpus\n";

/* Text and JSON come from this one description of the layout. */
static json_t *lab_json(const struct lab_info *li)
{
	json_t *sink = json_object();
	json_t *o = json_object();

	json_object_set_new(o, "prefix", json_string(li->prefix));
	json_object_set_new(o, "queues", json_integer(li->queues));
	json_object_set_new(o, "mtu", json_integer(li->mtu));
	json_object_set_new(o, "reused", json_boolean(li->reused));
	json_object_set_new(o, "flavour", json_string(lab_flavour_name(li->flavour)));
	json_object_set_new(o, "gro", json_boolean(li->gro));
	json_object_set_new(o, "gro_settings",
			    json_pack("{s:b, s:b, s:b}", "rx_gro", li->rx_gro, "rx_udp_gro_forwarding",
				      li->rx_udp_gro_forwarding, "napi_threaded", li->napi_threaded));
	json_object_set_new(o, "tx", json_pack("{s:s, s:s, s:s, s:s?}", "netns", li->tx_netns,
					       "device", li->tx_dev, "ipv4", li->tx_ipv4,
					       "ipv6", *li->tx_ipv6 ? li->tx_ipv6 : NULL));
	json_object_set_new(o, "rx", json_pack("{s:s, s:s, s:s, s:s?}", "netns", li->rx_netns,
					       "device", li->rx_dev, "ipv4", li->rx_ipv4,
					       "ipv6", *li->rx_ipv6 ? li->rx_ipv6 : NULL));
	json_object_set_new(o, "ipv4_prefixlen", json_integer(li->ipv4_prefixlen));
	json_object_set_new(o, "ipv6_prefixlen", json_integer(li->ipv6_prefixlen));
	json_object_set_new(sink, "tcp", li->sink_tcp_pid ?
			    json_pack("{s:i, s:i, s:b}", "port", li->sink_tcp_port, "pid", (int)li->sink_tcp_pid,
				      "gro", li->sink_gro) :
			    json_null());
	json_object_set_new(sink, "udp", li->sink_udp_pid ?
			    json_pack("{s:i, s:i, s:b}", "port", li->sink_udp_port, "pid", (int)li->sink_udp_pid,
				      "gro", li->sink_gro) :
			    json_null());
	json_object_set_new(o, "sink", sink);
	return o;
}

static void lab_print(const struct lab_info *li, bool json)
{
	if (json) {
		json_t *o = lab_json(li);

		json_dumpf(o, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(o);
		return;
	}
	printf("lab %s: %s%u queues, MTU %u, GRO %s%s\n", li->prefix,
	       li->flavour == LAB_DROP ? "drop lab, " : "", li->queues, li->mtu,
	       li->gro ? "on" : li->rx_gro || li->rx_udp_gro_forwarding || li->napi_threaded ?
	       "partly on" : "off", li->reused ? " (already up, kept)" : "");
	printf("  sender    netns %-20s dev %-8s %s/%u%s%s%s\n", li->tx_netns, li->tx_dev,
	       li->tx_ipv4, li->ipv4_prefixlen, *li->tx_ipv6 ? "  " : "", li->tx_ipv6,
	       *li->tx_ipv6 ? "/64" : "");
	printf("  receiver  netns %-20s dev %-8s %s/%u%s%s%s\n", li->rx_netns, li->rx_dev,
	       li->rx_ipv4, li->ipv4_prefixlen, *li->rx_ipv6 ? "  " : "", li->rx_ipv6,
	       *li->rx_ipv6 ? "/64" : "");
	if (li->flavour == LAB_DROP) {
		if (li->queues > 1)
			printf("  qdisc     %s: mq 1: root, pfifo limit 0 on 1:1 to 1:%x: every packet is "
			       "dropped\n", li->tx_dev, li->queues);
		else
			printf("  qdisc     %s: pfifo limit 0 at the root: every packet is dropped\n",
			       li->tx_dev);
		printf("  neighbour %s%s%s permanent on %s (ARP/ND would be dropped too)\n", li->rx_ipv4,
		       *li->rx_ipv6 ? ", " : "", li->rx_ipv6, li->tx_dev);
		printf("  measures  the sender alone: UDP only, no receiver; rates are the sender's "
		       "ceiling, not a path's\n");
	} else if (li->sink_tcp_pid || li->sink_udp_pid) {
		printf("  sink      ");
		if (li->sink_tcp_pid)
			printf("tcp %s:%u (pid %d)  ", li->rx_ipv4, li->sink_tcp_port, (int)li->sink_tcp_pid);
		if (li->sink_udp_pid)
			printf("udp %s:%u (pid %d)", li->rx_ipv4, li->sink_udp_port, (int)li->sink_udp_pid);
		printf("%s\n", li->sink_gro ? "  --gro" : "");
	} else {
		printf("  sink      none running\n");
	}
	if (li->gro || li->rx_gro || li->rx_udp_gro_forwarding || li->napi_threaded)
		printf("  gro       %s: rx-gro %s, rx-udp-gro-forwarding %s, threaded NAPI %s\n", li->rx_dev,
		       li->rx_gro ? "on" : "off", li->rx_udp_gro_forwarding ? "on" : "off",
		       li->napi_threaded ? "on" : "off");
	printf("  try: zcgen lab exec -- ip addr   |   ip netns exec %s ...\n", li->tx_netns);
}

static int lab_exit_code(int err)
{
	return err == -EPERM || err == -EINVAL ? EXIT_USAGE : EXIT_RUN_FAILED;
}

/* getopt_long over argv[0] = the subcommand's name; optind reset for each use. */
static int lab_getopt(int argc, char **argv, const char *shortopts, const struct option *opts)
{
	opterr = 0;
	return getopt_long(argc, argv, shortopts, opts, NULL);
}

/* -v, or a refused option: say so (unknown, no value, did you mean). Return: the exit code. */
static int lab_other_opt(int c, int argc, char **argv, const struct option *opts)
{
	char who[64];

	if (c == 'v')
		return cmd_version();
	snprintf(who, sizeof(who), "zcgen lab %s", argv[0]);
	return cmd_bad_option(who, opts, argc, argv);
}

static int lab_cmd_up(int argc, char **argv, struct lab_cfg *cfg)
{
	static const struct option opts[] = {
		{ "queues", required_argument, NULL, 'q' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "no-sink", no_argument, NULL, 'n' },
		{ "gro", no_argument, NULL, 'g' },
		{ "no-gro", no_argument, NULL, 'G' },
		{ "drop", no_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ 0 }
	};
	struct lab_info li;
	char msg[1024] = "";
	bool json = false, mtu_given = false;
	uint64_t v;
	int c, ret;

	optind = 0;
	while ((c = lab_getopt(argc, argv, "+hv", opts)) != -1) {
		switch (c) {
		case 'q':
			if (units_uint(optarg, 1, LAB_MAX_QUEUES, &v)) {
				fprintf(stderr, "zcgen lab up: --queues '%s': must be 1 to %d\n", optarg,
					LAB_MAX_QUEUES);
				return EXIT_USAGE;
			}
			cfg->queues = (unsigned)v;
			break;
		case 'm':
			if (units_uint(optarg, LAB_MIN_MTU, LAB_MAX_MTU, &v)) {
				fprintf(stderr, "zcgen lab up: --mtu '%s': must be %d to %d\n", optarg,
					LAB_MIN_MTU, LAB_MAX_MTU);
				return EXIT_USAGE;
			}
			cfg->mtu = (unsigned)v;
			mtu_given = true;
			break;
		case 'd':
			cfg->flavour = LAB_DROP;
			break;
		case 'n':
			cfg->sink = false;
			break;
		case 'g':
		case 'G':
			if (cfg->gro != LAB_GRO_KEEP && cfg->gro != (c == 'g')) {
				fprintf(stderr, "zcgen lab up: --gro and --no-gro: give one\n");
				return EXIT_USAGE;
			}
			cfg->gro = c == 'g';
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(lab_up_usage, stdout);
			return EXIT_OK;
		default:
			return lab_other_opt(c, argc, argv, opts);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "zcgen lab up: unexpected argument '%s'\n%s", argv[optind], lab_up_usage);
		return EXIT_USAGE;
	}
	if (cfg->flavour == LAB_DROP) {
		if (cfg->gro == 1) {
			fprintf(stderr, "zcgen lab up: --drop and --gro: the drop lab has no receiver "
				"for GRO to help\n");
			return EXIT_USAGE;
		}
		cfg->sink = false;
		if (!mtu_given)
			cfg->mtu = LAB_DROP_MTU;
	}
	/*
	 * A Ctrl-C or SIGHUP now is noted (gen/stopsig.h), the lab finished or
	 * undone by lab_up, and a lab this command made taken down again: none
	 * is left half built.
	 */
	stopsig_install(true);
	ret = lab_up(cfg, &li, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "zcgen lab up: %s\n", *msg ? msg : strerror(-ret));
		if (gen_stop) /* lab_up took down what it had made */
			stopsig_die(gen_stop);
		return lab_exit_code(ret);
	}
	if (gen_stop) {
		if (!li.reused && lab_down(cfg, msg, sizeof(msg))) {
			fprintf(stderr, "zcgen lab up: stopped by %s, and the lab could not be taken "
				"down: %s\n", stopsig_name(gen_stop), msg);
			return EXIT_RUN_FAILED;
		}
		fprintf(stderr, "zcgen lab up: stopped by %s: %s\n", stopsig_name(gen_stop),
			li.reused ? "the lab that was up stays" : "the lab was taken down again");
		stopsig_die(gen_stop);
	}
	lab_print(&li, json);
	return EXIT_OK;
}

static int lab_cmd_simple(int argc, char **argv, const char *usage, bool *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ 0 }
	};
	int c;

	optind = 0;
	while ((c = lab_getopt(argc, argv, "+hv", opts)) != -1) {
		if (c == 'j' && json) {
			*json = true;
		} else if (c == 'h') {
			fputs(usage, stdout);
			return EXIT_OK;
		} else {
			if (c == 'j') {
				fprintf(stderr, "zcgen lab %s: --json is not an option here\n%s", argv[0], usage);
				return EXIT_USAGE;
			}
			return lab_other_opt(c, argc, argv, opts);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "zcgen lab %s: unexpected argument '%s'\n%s", argv[0], argv[optind], usage);
		return EXIT_USAGE;
	}
	return -1;
}

static int lab_cmd_down(int argc, char **argv, struct lab_cfg *cfg)
{
	char msg[1024] = "";
	int ret;

	ret = lab_cmd_simple(argc, argv, lab_down_usage, NULL);
	if (ret >= 0)
		return ret;
	ret = lab_down(cfg, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "zcgen lab down: %s\n", *msg ? msg : strerror(-ret));
		return lab_exit_code(ret);
	}
	return EXIT_OK;
}

static int lab_cmd_status(int argc, char **argv, struct lab_cfg *cfg)
{
	struct lab_info li;
	char msg[1024] = "";
	bool json = false;
	int ret;

	ret = lab_cmd_simple(argc, argv, lab_status_usage, &json);
	if (ret >= 0)
		return ret;
	ret = lab_query(cfg, &li, msg, sizeof(msg));
	if (ret == -ENOENT || ret == -ENOLINK) {
		if (json)
			printf("null\n");
		if (ret == -ENOENT)
			fprintf(json ? stderr : stdout, "no lab is up (prefix %s)\n", cfg->prefix);
		else
			fprintf(json ? stderr : stdout,
				"lab %s is incomplete: %s\n(`zcgen lab up` rebuilds it, `zcgen lab down` removes it)\n",
				cfg->prefix, msg);
		return EXIT_RUN_FAILED;
	}
	if (ret) {
		fprintf(stderr, "zcgen lab status: %s\n", *msg ? msg : strerror(-ret));
		return lab_exit_code(ret);
	}
	lab_print(&li, json);
	return EXIT_OK;
}

static int lab_cmd_exec(int argc, char **argv, struct lab_cfg *cfg)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ 0 }
	};
	struct lab_info li;
	char msg[1024] = "";
	int c, ret;

	optind = 0;
	/* '+': stop at the command, whose own options are not ours. */
	while ((c = lab_getopt(argc, argv, "+hv", opts)) != -1) {
		if (c == 'h') {
			fputs(lab_exec_usage, stdout);
			return EXIT_OK;
		}
		return lab_other_opt(c, argc, argv, opts);
	}
	if (optind >= argc) {
		fprintf(stderr, "zcgen lab exec: no command given\n%s", lab_exec_usage);
		return EXIT_USAGE;
	}
	ret = lab_query(cfg, &li, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "zcgen lab exec: %s%s\n", *msg ? msg : strerror(-ret),
			ret == -ENOENT ? " (run `zcgen lab up` first)" : "");
		return lab_exit_code(ret);
	}
	ret = lab_enter(&li, msg, sizeof(msg));
	if (ret) {
		fprintf(stderr, "zcgen lab exec: %s\n", *msg ? msg : strerror(-ret));
		return lab_exit_code(ret);
	}
	execvp(argv[optind], argv + optind);
	fprintf(stderr, "zcgen lab exec: %s: %s\n", argv[optind], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

int cmd_lab(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv, struct lab_cfg *cfg);
	} subs[] = {
		{ "up", lab_cmd_up },
		{ "down", lab_cmd_down },
		{ "status", lab_cmd_status },
		{ "exec", lab_cmd_exec },
	};
	struct lab_cfg cfg;
	char msg[256];

	if (argc < 2) {
		fputs(lab_usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v"))
		return cmd_version();
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(lab_usage, stdout);
		return EXIT_OK;
	}
	labrun_cfg_init(&cfg); /* zcgen sink as the lab's sink */
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i].name))
			continue;
		if (lab_check_cfg(&cfg, msg, sizeof(msg))) {
			fprintf(stderr, "zcgen lab: %s\n", msg);
			return EXIT_USAGE;
		}
		return subs[i].fn(argc - 1, argv + 1, &cfg);
	}
	fprintf(stderr, "zcgen lab: unknown subcommand '%s'\n%s", argv[1], lab_usage);
	return EXIT_USAGE;
}
