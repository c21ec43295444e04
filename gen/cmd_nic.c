/* cmd_nic.c - `zcgen nic show|pin|restore`: look at a NIC, pin queues to CPUs, put it back */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "gen/cmd.h"
#include "gen/gen.h"
#include "gen/stopsig.h"
#include "nic/nic.h"

static const char usage_nic[] =
	"usage: zcgen nic show DEV [--json]\n"
	"       zcgen nic pin DEV --queues N [--cpus LIST] [--force] [--dry-run] [--no-mq]\n"
	"       zcgen nic restore DEV [--discard]\n"
	"See `zcgen nic show|pin|restore --help` and docs/nic.md.\n";

static const char usage_show[] =
	"usage: zcgen nic show DEV [--json]\n"
	"Driver, speed, channels (current and maximum), ring sizes, offloads, and per TX\n"
	"queue its IRQs, their CPUs, its XPS CPUs and its TX counters with their source.\n"
	"  --json   one JSON object (docs/json.md, \"zcgen nic show --json\")\n";

static const char usage_pin[] =
	"usage: zcgen nic pin DEV --queues N [--cpus LIST] [--force] [--dry-run] [--no-mq]\n"
	"Sets DEV's TX channels to N, each queue's IRQs to one CPU and XPS so that the CPU\n"
	"of queue i transmits on tx-i, prints the queue -> CPU map and leaves it so. What\n"
	"was there before is kept in a state file until `zcgen nic restore DEV`.\n"
	"  --queues N    queues to pin (and TX channels to set)\n"
	"  --cpus LIST   CPUs, one per queue in turn (\"0-3,8\"); default: the CPUs this\n"
	"                process may use, those local to the device first\n"
	"  --force       also change the interface that carries the default route\n"
	"  --dry-run     print the changes, make none\n"
	"  --no-mq       do not add an mq root qdisc for per-queue counters\n";

static const char usage_restore[] =
	"usage: zcgen nic restore DEV [--discard]\n"
	"Puts back what the state file of DEV (in this network namespace) holds: after a\n"
	"`zcgen nic pin`, a crash or a kill -9. Says \"nothing to restore\" when there is none.\n"
	"  --discard   remove the state file without restoring (the device is gone)\n";

/* Options shared by the subcommands; each takes the ones its usage lists. */
enum { OPT_JSON = 1, OPT_QUEUES, OPT_CPUS, OPT_FORCE, OPT_DRY, OPT_NOMQ, OPT_DISCARD, OPT_HELP };

struct nic_opts {
	bool json, force, dry_run, no_mq, discard, help;
	long queues;
	const char *cpus;
	const char *dev;
};

static int parse_opts(int argc, char **argv, const char *usage, const struct option *lo,
		      struct nic_opts *o)
{
	int c;
	char *end;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hv", lo, NULL)) != -1) {
		switch (c) {
		case OPT_JSON: o->json = true; break;
		case OPT_FORCE: o->force = true; break;
		case OPT_DRY: o->dry_run = true; break;
		case OPT_NOMQ: o->no_mq = true; break;
		case OPT_DISCARD: o->discard = true; break;
		case OPT_CPUS: o->cpus = optarg; break;
		case OPT_QUEUES:
			errno = 0;
			o->queues = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || o->queues < 1 ||
			    o->queues > NIC_APPLY_MAX_QUEUES) {
				fprintf(stderr, "zcgen nic %s: --queues: '%s' is not a number from 1 to %d\n",
					argv[0], optarg, NIC_APPLY_MAX_QUEUES);
				return -EINVAL;
			}
			break;
		case 'h':
		case OPT_HELP: o->help = true; break;
		case 'v':
			cmd_version();
			return 1;
		default: {
			char who[64];

			snprintf(who, sizeof(who), "zcgen nic %s", argv[0]);
			cmd_bad_option(who, lo, argc, argv);
			return -EINVAL;
		}
		}
	}
	if (o->help) {
		fputs(usage, stdout);
		return 1;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "zcgen nic %s: %s\n%s", argv[0],
			optind >= argc ? "no device given" : "one device only", usage);
		return -EINVAL;
	}
	o->dev = argv[optind];
	if (strlen(o->dev) >= IF_NAMESIZE) {
		fprintf(stderr, "zcgen nic %s: '%s' is too long for an interface name\n", argv[0], o->dev);
		return -EINVAL;
	}
	return 0;
}

static json_t *ju(uint64_t v)
{
	return json_integer((json_int_t)v);
}

/* Everything `nic show` prints, as one JSON object: the text form is printed from it. */
static int show_collect(const char *dev, json_t **out, char *err, size_t errlen)
{
	struct nic_show s;
	json_t *o, *a;
	int ret = nic_show_read(dev, &s, err, errlen);

	if (ret)
		goto out;
	o = json_object();
	if (!o) {
		ret = -ENOMEM;
		goto out;
	}
	json_object_set_new(o, "schema", json_integer(1));
	json_object_set_new(o, "device", json_string(s.device));
	if (!s.have_driver)
		json_object_set_new(o, "driver", json_null());
	else
		json_object_set_new(o, "driver", json_pack("{s:s,s:s,s:s}", "name", s.driver, "version",
							   s.driver_version, "bus_info", s.bus_info));
	json_object_set_new(o, "speed_mbps", s.have_speed ? ju(s.speed_mbps) : json_null());
	if (!s.have_channels)
		json_object_set_new(o, "channels", json_null());
	else
		json_object_set_new(o, "channels",
				    json_pack("{s:o,s:o,s:o,s:{s:o,s:o,s:o}}", "rx", ju(s.channels.rx),
					      "tx", ju(s.channels.tx), "combined", ju(s.channels.combined),
					      "max", "rx", ju(s.channels.rx_max), "tx",
					      ju(s.channels.tx_max), "combined",
					      ju(s.channels.combined_max)));
	if (!s.have_rings)
		json_object_set_new(o, "rings", json_null());
	else
		json_object_set_new(o, "rings",
				    json_pack("{s:o,s:o,s:o,s:o,s:{s:o,s:o,s:o,s:o}}", "rx",
					      ju(s.rings.rx), "rx_mini", ju(s.rings.rx_mini), "rx_jumbo",
					      ju(s.rings.rx_jumbo), "tx", ju(s.rings.tx), "max", "rx",
					      ju(s.rings.rx_max), "rx_mini", ju(s.rings.rx_mini_max),
					      "rx_jumbo", ju(s.rings.rx_jumbo_max), "tx",
					      ju(s.rings.tx_max)));
	a = json_object();
	for (unsigned int i = 0; i < s.features.count; i++) {
		const struct ethnl_feature *f = &s.features.f[i];

		if (f->name[0]) /* the kernel's feature set has unnamed bits */
			json_object_set_new(a, f->name, json_pack("{s:b,s:b,s:b}", "active", f->active,
								  "wanted", f->wanted, "fixed", f->fixed));
	}
	json_object_set_new(o, "features", a);
	json_object_set_new(o, "irq_source", json_string(s.irq_source));
	json_object_set_new(o, "counter_source", json_string(s.counter_source));
	a = json_array();
	for (unsigned int q = 0; q < s.nqueues; q++) {
		const struct nic_show_queue *sq = &s.q[q];
		json_t *e = json_object(), *irqs = json_array();

		json_object_set_new(e, "queue", ju(q));
		for (unsigned int k = 0; k < sq->nirqs; k++)
			json_array_append_new(irqs, json_integer(sq->irq[k]));
		json_object_set_new(e, "irq", irqs);
		json_object_set_new(e, "irq_cpus", sq->irq_cpus_known ? json_string(sq->irq_cpus) :
									json_null());
		json_object_set_new(e, "xps_cpus", sq->xps_cpus_known ? json_string(sq->xps_cpus) :
									json_null());
		if (sq->has_tx) {
			json_object_set_new(e, "tx_bytes", s.tx_no_bytes ? json_null() : ju(sq->tx_bytes));
			json_object_set_new(e, "tx_packets", ju(sq->tx_packets));
		} else {
			json_object_set_new(e, "tx_bytes", json_null());
			json_object_set_new(e, "tx_packets", json_null());
		}
		json_array_append_new(a, e);
	}
	json_object_set_new(o, "queues", a);
	*out = o;
out:
	nic_show_free(&s);
	return ret;
}

static const char *js(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : dflt;
}

static void show_text(const json_t *o)
{
	const json_t *d = json_object_get(o, "driver"), *ch = json_object_get(o, "channels");
	const json_t *rg = json_object_get(o, "rings"), *fs = json_object_get(o, "features");
	const json_t *qs = json_object_get(o, "queues"), *v, *sp = json_object_get(o, "speed_mbps");
	const char *name;
	size_t i;

	printf("%s: driver %s %s, bus %s, speed ", js(o, "device", "?"), js(d, "name", "?"),
	       js(d, "version", ""), js(d, "bus_info", "-"));
	if (json_is_integer(sp))
		printf("%lld Mb/s\n", (long long)json_integer_value(sp));
	else
		printf("unknown\n");
	if (json_is_object(ch)) {
		const json_t *m = json_object_get(ch, "max");

		printf("channels (current/max): rx %lld/%lld  tx %lld/%lld  combined %lld/%lld\n",
		       json_integer_value(json_object_get(ch, "rx")), json_integer_value(json_object_get(m, "rx")),
		       json_integer_value(json_object_get(ch, "tx")), json_integer_value(json_object_get(m, "tx")),
		       json_integer_value(json_object_get(ch, "combined")),
		       json_integer_value(json_object_get(m, "combined")));
	} else {
		printf("channels: not supported by the driver\n");
	}
	if (json_is_object(rg)) {
		const json_t *m = json_object_get(rg, "max");

		printf("rings (current/max): rx %lld/%lld  tx %lld/%lld\n",
		       json_integer_value(json_object_get(rg, "rx")), json_integer_value(json_object_get(m, "rx")),
		       json_integer_value(json_object_get(rg, "tx")), json_integer_value(json_object_get(m, "tx")));
	} else {
		printf("rings: not supported by the driver\n");
	}
	printf("features:\n");
	json_object_foreach((json_t *)fs, name, v) {
		bool act = json_is_true(json_object_get(v, "active"));
		bool want = json_is_true(json_object_get(v, "wanted"));

		printf("  %s: %s%s%s\n", name, act ? "on" : "off",
		       json_is_true(json_object_get(v, "fixed")) ? " [fixed]" : "",
		       act != want ? (want ? " [wanted on]" : " [wanted off]") : "");
	}
	printf("queues (IRQs from %s, counters from %s):\n", js(o, "irq_source", "?"),
	       js(o, "counter_source", "?"));
	printf("  %-5s %-12s %-10s %-10s %16s %14s\n", "queue", "irq", "irq-cpus", "xps-cpus",
	       "tx-bytes", "tx-packets");
	json_array_foreach(qs, i, v) {
		const json_t *irqs = json_object_get(v, "irq"), *e;
		char ib[64] = "-";
		size_t k, used = 0;

		json_array_foreach(irqs, k, e)
			used += (size_t)snprintf(ib + used, used < sizeof(ib) ? sizeof(ib) - used : 0,
						 "%s%lld", k ? "," : "", json_integer_value(e));
		printf("  %-5lld %-12s %-10s %-10s", json_integer_value(json_object_get(v, "queue")), ib,
		       js(v, "irq_cpus", "-"), js(v, "xps_cpus", "-"));
		if (json_is_integer(json_object_get(v, "tx_bytes")))
			printf(" %16lld %14lld\n", json_integer_value(json_object_get(v, "tx_bytes")),
			       json_integer_value(json_object_get(v, "tx_packets")));
		else if (json_is_integer(json_object_get(v, "tx_packets")))   /* qdisc-drops */
			printf(" %16s %14lld\n", "-", json_integer_value(json_object_get(v, "tx_packets")));
		else
			printf(" %16s %14s\n", "-", "-");
	}
}

static int nic_show(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, OPT_JSON }, { "version", no_argument, NULL, 'v' }, { "help", no_argument, NULL, OPT_HELP }, { 0 }
	};
	struct nic_opts o = { 0 };
	char err[512] = "";
	json_t *j = NULL;
	int ret = parse_opts(argc, argv, usage_show, lo, &o);

	if (ret)
		return ret > 0 ? EXIT_OK : EXIT_USAGE;
	ret = show_collect(o.dev, &j, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "zcgen nic show: %s\n", *err ? err : strerror(-ret));
		return EXIT_USAGE;
	}
	if (o.json) {
		json_dumpf(j, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		show_text(j);
	}
	json_decref(j);
	return EXIT_OK;
}

static int nic_pin(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "queues", required_argument, NULL, OPT_QUEUES },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ "no-mq", no_argument, NULL, OPT_NOMQ },
		{ "version", no_argument, NULL, 'v' }, { "help", no_argument, NULL, OPT_HELP },
		{ 0 }
	};
	struct nic_opts o = { 0 };
	struct nic_apply_out out;
	struct nic_applied *h = NULL;
	unsigned int cpus[CPU_SETSIZE], ncpus = 0;
	sigset_t held;
	int ret = parse_opts(argc, argv, usage_pin, lo, &o);

	if (ret)
		return ret > 0 ? EXIT_OK : EXIT_USAGE;
	if (!o.queues) {
		fprintf(stderr, "zcgen nic pin: --queues N is required\n%s", usage_pin);
		return EXIT_USAGE;
	}
	if (o.cpus && (nic_cpulist_parse(o.cpus, cpus, CPU_SETSIZE, &ncpus) || !ncpus)) {
		fprintf(stderr, "zcgen nic pin: --cpus: '%s' is not a CPU list (\"0-3,8\")\n", o.cpus);
		return EXIT_USAGE;
	}
	struct nic_apply_cfg cfg = {
		.ifname = o.dev, .combined = NIC_APPLY_CH_KEEP, .rx = NIC_APPLY_CH_KEEP,
		.tx = NIC_APPLY_CH_KEEP, .irq_auto = true, .xps_auto = true,
		.queues = (unsigned int)o.queues, .cpus = ncpus ? cpus : NULL, .n_cpus = ncpus,
		.force = o.force, .mq_counters = !o.no_mq, .root = "",
	};
	/* a Ctrl-C waits for the pin to finish, then puts it back (gen/stopsig.h) */
	stopsig_install(false);
	stopsig_hold(&held);
	ret = nic_apply(&cfg, o.dry_run, &out, o.dry_run ? NULL : &h);
	stopsig_release(&held);
	if (!ret && h && gen_stop) {
		char err[2048];

		stopsig_hold(&held);
		ret = nic_undo(h, err, sizeof(err));
		stopsig_release(&held);
		nic_apply_out_free(&out);
		if (ret) {
			fprintf(stderr, "zcgen nic pin: stopped by %s, and %s could not be put back: %s; "
				"run `zcgen nic restore %s`\n", stopsig_name(gen_stop), o.dev, err, o.dev);
			return EXIT_RUN_FAILED;
		}
		fprintf(stderr, "zcgen nic pin: stopped by %s: %s put back as it was\n",
			stopsig_name(gen_stop), o.dev);
		stopsig_die(gen_stop);
	}
	for (unsigned int i = 0; i < out.n_notes; i++)
		fprintf(stderr, "zcgen nic pin: note: %s\n", out.notes[i]);
	if (ret) {
		fprintf(stderr, "zcgen nic pin: %s\n", out.err);
		if (ret == -EBUSY)
			fprintf(stderr, "zcgen nic pin: wait for it, or `zcgen nic restore %s` once it is gone\n",
				o.dev);
		nic_apply_out_free(&out);
		return EXIT_USAGE;
	}
	printf("%s%s:\n", o.dry_run ? "would change " : "changed ", o.dev);
	if (!out.n_lines)
		printf("  nothing (already so)\n");
	for (unsigned int i = 0; i < out.n_lines; i++)
		printf("  %s\n", out.lines[i]);
	printf("queue -> cpu:\n");
	for (unsigned int q = 0; q < out.nq; q++)
		printf("  queue %u (tx-%u) -> cpu %u\n", q, q, out.cpu[q]);
	if (!o.dry_run) {
		char sp[512];

		if (!nic_state_paths(o.dev, sp, NULL, sizeof(sp)))
			printf("left so; `zcgen nic restore %s` puts back what was there (%s)\n", o.dev, sp);
		nic_keep(h);
	}
	nic_apply_out_free(&out);
	return EXIT_OK;
}

static int nic_restore(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "discard", no_argument, NULL, OPT_DISCARD },
		{ "version", no_argument, NULL, 'v' }, { "help", no_argument, NULL, OPT_HELP },
		{ 0 }
	};
	struct nic_opts o = { 0 };
	char err[2048], note[1200];
	pid_t holder = 0;
	sigset_t held;
	int ret = parse_opts(argc, argv, usage_restore, lo, &o);

	if (ret)
		return ret > 0 ? EXIT_OK : EXIT_USAGE;
	/* the state files are root's (0700), and so is putting a NIC back */
	if (nic_cap_net_admin() == 0) {
		fprintf(stderr, "zcgen nic restore: %s: putting a NIC back needs root (CAP_NET_ADMIN); "
			"run it as root (sudo zcgen nic restore %s)\n", o.dev, o.dev);
		return EXIT_USAGE;
	}
	if (o.discard) {
		char path[512];

		ret = nic_discard_dev(o.dev, path, sizeof(path), &holder);
		if (ret < 0 && !path[0]) {
			fprintf(stderr, "zcgen nic restore: %s: %s\n", o.dev,
				ret == -EBUSY ? "is being changed by another process" : strerror(-ret));
			return EXIT_USAGE;
		}
		if (ret < 0) {
			fprintf(stderr, "zcgen nic restore: cannot remove %s: %s\n", path, strerror(-ret));
			return EXIT_RUN_FAILED;
		}
		printf(ret ? "%s: nothing to discard\n" : "%s: state file discarded, nothing restored\n",
		       o.dev);
		return EXIT_OK;
	}
	/* not cut in half by a Ctrl-C (gen/stopsig.h): it ends once all is back */
	stopsig_install(false);
	stopsig_hold(&held);
	ret = nic_restore_dev("", o.dev, err, sizeof(err), note, sizeof(note), &holder);
	stopsig_release(&held);
	if (note[0])
		printf("%s: %s\n", o.dev, note);
	if (ret == 1) {
		printf("%s: nothing to restore\n", o.dev);
		if (gen_stop)
			stopsig_die(gen_stop);
		return EXIT_OK;
	}
	if (ret == 0) {
		printf("%s: restored\n", o.dev);
		if (gen_stop)
			stopsig_die(gen_stop);
		return EXIT_OK;
	}
	fprintf(stderr, "zcgen nic restore: %s\n", err);
	if (ret == -ESTALE)
		fprintf(stderr, "zcgen nic restore: nothing restored; %s is left as it is\n", o.dev);
	else if (ret == -ENODEV)
		fprintf(stderr, "zcgen nic restore: the state file stays; `zcgen nic restore %s --discard` "
			"removes it\n", o.dev);
	else if (ret != -EBUSY)
		fprintf(stderr, "zcgen nic restore: the state file stays; fix the cause and run it again\n");
	return ret == -EBUSY || ret == -ESTALE || ret == -ENODEV ? EXIT_USAGE : EXIT_RUN_FAILED;
}

int cmd_nic(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} sub[] = { { "show", nic_show }, { "pin", nic_pin }, { "restore", nic_restore } };

	if (argc < 2) {
		fputs(usage_nic, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v"))
		return cmd_version();
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_nic, stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
		if (!strcmp(argv[1], sub[i].name))
			return sub[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "zcgen nic: unknown subcommand '%s'\n%s", argv[1], usage_nic);
	return EXIT_USAGE;
}
