/* cmd_compare.c - `zcgen compare`: zcgen and iperf3 against the same iperf3 server, side by side */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <jansson.h>
#include "gen/gen.h"
#include "gen/profile.h"
#include "gen/cmd.h"
#include "gen/compare.h"
#include "gen/report_compare.h"
#include "gen/cpustat.h"
#include "gen/calib.h"
#include "gen/labrun.h"
#include "gen/spawn.h"
#include "gen/stopsig.h"

#define CMP_SERVER_PORT 5301        /* beside iperf3's 5201, which the lab's sinks hold */
#define CMP_SERVER_PORTS 20         /* tried from CMP_SERVER_PORT on when busy */
#define CMP_PAUSE_US 500000         /* between runs: the iperf3 server closes the last test */

static const char compare_usage[] =
	"usage: zcgen compare --profile FILE [options]\n"
	"\n"
	"Runs zcgen (as an iperf3 client, --server iperf3) and iperf3 itself against the\n"
	"same `iperf3 -s`, alternating which goes first, and prints both side by side\n"
	"with the ratio zcgen/iperf3 (medians over the repeats, with min and max).\n"
	"  --profile FILE       YAML profile (the run's; its target is the iperf3 server)\n"
	"  --dest HOST:PORT     an `iperf3 -s` you started (without --lab)\n"
	"  --lab[=veth]         use the built-in veth lab; an iperf3 -s is started in its\n"
	"                       receiving namespace and stopped at the end\n"
	"  --protocol P, --queues N, --cpus LIST, --streams N, --size SIZE, --mode M,\n"
	"  --depth N, --duration TIME, --omit TIME, --gso N\n"
	"                       as for a run (docs/cli.md); iperf3 gets -P queues x streams,\n"
	"                       -l size, -Z for zc/zc-fixed/auto, -u -b 0 for UDP; the\n"
	"                       duration is rounded to whole seconds (iperf3 -t)\n"	"                       (--gso is zcgen's alone: iperf3 has no UDP GSO)\n"
	"  --no-nic             do not apply the profile's nic: section\n"
	"  --repeat N           runs of each tool (default 1, at most 100)\n"
	"  --iperf3 PATH        the iperf3 program (default: iperf3 from PATH)\n"
	"  --json FILE          write the comparison as JSON (docs/compare.md); - for stdout\n"
	"  --help               this text\n"
	"Exit: 0 both tools ran every repeat, 1 a run failed (the tool's words are printed),\n"
	"2 usage or profile error.\n";

/*
 * The profile keys compare takes as options (cmd_key_options()), passed
 * through to the zcgen run as they were given.
 */
static const char *const pass_opts[] = {
	"dest", "protocol", "queues", "cpus", "streams", "size", "mode", "depth", "duration", "omit",
	"gso", NULL,
};
#define NPASS (sizeof(pass_opts) / sizeof(pass_opts[0]) - 1)

enum { O_PROFILE = 1000, O_LAB, O_NONIC, O_REPEAT, O_IPERF3, O_JSON, O_HELP, O_PASS };

struct cmp_opts {
	const char *profile, *json, *iperf3;
	bool lab, no_nic, omit_given;
	unsigned repeat;
	struct {
		const char *key, *value;
	} ov[64];
	unsigned nov;
};

/* What both tools are asked to do, resolved once. */
struct cmp_setup {
	struct gen_profile *prof;
	bool udp;
	char host[256];
	unsigned port;
	unsigned dur_s, omit_s;
	uint64_t size;
	unsigned parallel;
	char cpus[256];
	cpu_set_t cpuset;           /* the queues' CPUs: iperf3 is pinned to them */
	cpu_set_t server_set;       /* the lab's iperf3 -s: the other CPUs (empty: not pinned) */
	char server_cpus[256];      /* "" when not pinned */
	char iperf3[4096];
	bool lab;
	struct lab_info li;
	pid_t server;               /* our iperf3 -s (lab), 0 none */
	char dir[64];               /* temporary directory for the tools' output */
	bool nic_off;               /* --no-nic passed to the zcgen run */
};

static void server_cpus(struct cmp_setup *s);

static int parse_args(int argc, char **argv, struct cmp_opts *o)
{
	struct option lo[8 + NPASS + 1] = {
		{ "profile", required_argument, NULL, O_PROFILE },
		{ "lab", optional_argument, NULL, O_LAB },
		{ "no-nic", no_argument, NULL, O_NONIC },
		{ "repeat", required_argument, NULL, O_REPEAT },
		{ "iperf3", required_argument, NULL, O_IPERF3 },
		{ "json", required_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, 'v' },
	};
	const char *key;
	uint64_t v;
	int c;

	if (cmd_key_options("zcgen compare", lo, 8, pass_opts, O_PASS) < 0)
		return EXIT_RUN_FAILED;
	o->repeat = 1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hv", lo, NULL)) != -1) {
		switch (c) {
		case O_PROFILE: o->profile = optarg; break;
		case O_LAB: {
			enum lab_flavour f;

			o->lab = true;
			if (lab_flavour_parse(optarg, &f)) {
				fprintf(stderr, "zcgen compare: --lab=%s: veth or drop\n", optarg);
				return EXIT_USAGE;
			}
			/* iperf3 -c cannot even start there: its control connection is TCP */
			if (f == LAB_DROP) {
				fprintf(stderr, "zcgen compare: --lab=drop: iperf3 needs a TCP control "
					"connection to its server, and the drop lab drops every packet at "
					"the sending veth's qdisc; compare zcgen with liburing's "
					"send-zerocopy there with tests/bench.sh (SENDZC=PATH, the drop* "
					"cases), or use --lab\n");
				return EXIT_USAGE;
			}
			break;
		}
		case O_NONIC: o->no_nic = true; break;
		case O_IPERF3: o->iperf3 = optarg; break;
		case O_JSON: o->json = optarg; break;
		case O_REPEAT:
			if (units_uint(optarg, 1, CMP_MAX_REPEAT, &v)) {
				fprintf(stderr, "zcgen compare: --repeat '%s': expected 1 to %d\n", optarg,
					CMP_MAX_REPEAT);
				return EXIT_USAGE;
			}
			o->repeat = (unsigned)v;
			break;
		case 'h':
		case O_HELP: fputs(compare_usage, stdout); return EXIT_OK + 100;
		case 'v': return cmd_version() + 100;
		default:
			if ((key = cmd_key_option(c, O_PASS)) && o->nov < 64) {
				o->ov[o->nov].key = key;
				o->ov[o->nov++].value = optarg;
				o->omit_given |= !strcmp(key, "omit");
				break;
			}
			return cmd_bad_option("zcgen compare", lo, argc, argv);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "zcgen compare: unexpected argument '%s'\n%s", argv[optind],
			compare_usage);
		return EXIT_USAGE;
	}
	if (!o->profile && !o->nov && !o->lab) {
		fprintf(stderr, "zcgen compare: a profile (--profile FILE), --dest or --lab is needed\n%s",
			compare_usage);
		return EXIT_USAGE;
	}
	if (!cmd_output_check("zcgen compare", "json", o->json))
		return EXIT_USAGE;
	return -1;
}

/* PATH lookup as execvp does it, so that a missing iperf3 is said before anything starts. */
static int find_program(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (strchr(name, '/')) {
		snprintf(out, len, "%s", name);
		return access(name, X_OK) ? -errno : 0;
	}
	snprintf(buf, sizeof(buf), "%s", path && path[0] ? path : "/usr/local/bin:/usr/bin:/bin");
	for (char *save = NULL, *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(out, len, "%s/%s", d, name);
		if (!access(out, X_OK))
			return 0;
	}
	snprintf(out, len, "%s", name);
	return -ENOENT;
}

static char *read_file(const char *path, size_t max)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, max, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The last @max bytes of a file, for messages: what a tool printed before it failed. */
static void file_tail(const char *path, char *out, size_t max)
{
	char *t = read_file(path, 1 << 20);
	size_t n = t ? strlen(t) : 0;
	const char *s = t ? t : "";

	if (n >= max)
		s = t + n - (max - 1);
	snprintf(out, max, "%s", s);
	n = strlen(out);
	while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	free(t);
}

static void path_in(const struct cmp_setup *s, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", s->dir, name);
}

/* Join a named network namespace (/run/netns/NAME), network only. */
static int join_netns(const char *name)
{
	char path[128];
	int fd, ret;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return ret;
}

/* A child's output: stdout to @out, stderr to @err (the same file if equal), stdin from /dev/null. */
struct child_fds {
	int in, out, err;
};

static void child_fds_open(struct child_fds *c, const char *out, const char *err)
{
	c->out = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	c->err = strcmp(out, err) ? open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : c->out;
	c->in = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void child_fds_close(struct child_fds *c)
{
	if (c->err >= 0 && c->err != c->out)
		close(c->err);
	if (c->out >= 0)
		close(c->out);
	if (c->in >= 0)
		close(c->in);
}

static void child_fds_spawn(const struct child_fds *c, struct spawn *sp)
{
	sp->in = c->in;
	sp->out = c->out;
	sp->err = c->err;
}

/* Is @pid listening on TCP @port (its namespace's /proc/PID/net/tcp{,6})? */
static bool listening(pid_t pid, unsigned port)
{
	char path[64], line[512];
	bool found = false;

	for (int v6 = 0; v6 < 2 && !found; v6++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/net/tcp%s", (int)pid, v6 ? "6" : "");
		f = fopen(path, "r");
		if (!f)
			continue;
		while (!found && fgets(line, sizeof(line), f)) {
			unsigned lport, state;

			/* "  0: 00000000:14B5 00000000:0000 0A ...": local port, state LISTEN */
			found = sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", &lport,
				       &state) == 2 && lport == port && state == 0x0A;
		}
		fclose(f);
	}
	return found;
}

/* SIGTERM, up to 2 s for it to finish, then SIGKILL. */
static void server_stop(struct cmp_setup *s)
{
	if (s->server <= 0)
		return;
	spawn_stop(s->server, SIGTERM, 2000, NULL, NULL, NULL);
	s->server = 0;
}

/* In the server's child: into the receiving namespace, on the CPUs the queues leave free. */
static int server_setup(void *arg)
{
	const struct cmp_setup *s = arg;
	int ret = join_netns(s->li.rx_netns);

	if (ret) {
		fprintf(stderr, "cannot join %s: %s\n", s->li.rx_netns, strerror(-ret));
		return 126;
	}
	if (CPU_COUNT(&s->server_set))
		(void)sched_setaffinity(0, sizeof(s->server_set), &s->server_set);
	return 0;
}

/*
 * One `iperf3 -s -p PORT` in the lab's receiving namespace: a child that
 * joins it and execs with an argument vector. Ready when it listens; a
 * port in use moves on to the next one.
 */
static int server_start(struct cmp_setup *s, char *err, size_t errlen)
{
	char log[128], tail[600];

	path_in(s, "server.log", log, sizeof(log));
	for (unsigned port = CMP_SERVER_PORT; port < CMP_SERVER_PORT + CMP_SERVER_PORTS; port++) {
		char portstr[8];
		char *const argv[] = { s->iperf3, "-s", "-p", portstr, NULL };
		struct spawn sp = SPAWN_INIT;
		struct child_fds fds;
		int st, ret;

		snprintf(portstr, sizeof(portstr), "%u", port);
		child_fds_open(&fds, log, log);
		child_fds_spawn(&fds, &sp);
		sp.exe = s->iperf3;
		sp.argv = argv;
		sp.setup = server_setup;
		sp.arg = s;
		sp.own_group = true; /* a ^C reaches compare, which stops the server itself */
		sp.death_sig = SIGKILL;
		ret = spawn_child(&sp, &s->server);
		child_fds_close(&fds);
		if (ret) {
			s->server = 0;
			snprintf(err, errlen, "cannot start the iperf3 server: %s", strerror(-ret));
			return ret;
		}
		for (int i = 0; i < 100; i++) {
			if (listening(s->server, port)) {
				s->port = port;
				return 0;
			}
			if (spawn_poll(s->server, &st) == 1) {
				s->server = 0;
				break;
			}
			usleep(50000);
		}
		server_stop(s);
		file_tail(log, tail, sizeof(tail));
		if (!strstr(tail, "in use")) {
			snprintf(err, errlen, "the iperf3 server (%.300s -s -p %u in %s) did not start: %s",
				 s->iperf3, port, s->li.rx_netns, tail[0] ? tail : "no output");
			return -EIO;
		}
	}
	snprintf(err, errlen, "no free port for the iperf3 server in %s (tried %u to %u)",
		 s->li.rx_netns, CMP_SERVER_PORT, CMP_SERVER_PORT + CMP_SERVER_PORTS - 1);
	return -EADDRINUSE;
}

/* The receiving namespace's counter for the protocol, read through the server's /proc entry. */
static bool rx_counter(const struct cmp_setup *s, uint64_t *out)
{
	char path[64], *t;
	uint64_t tcp, udp;
	int ret;

	if (s->server <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/net/snmp", (int)s->server);
	t = read_file(path, 1 << 16);
	ret = t ? cmp_snmp_parse(t, &tcp, &udp) : -ENOENT;
	free(t);
	if (ret)
		return false;
	*out = s->udp ? udp : tcp;
	return true;
}

/*
 * Run one child to completion: set up (the lab entered, iperf3 pinned),
 * exec; wait with a deadline (then SIGTERM, SIGKILL). Return: its exit
 * status, 128+signal, or -errno when it could not start.
 */
enum tool { TOOL_ZCGEN, TOOL_IPERF3 };

struct tool_child {
	const struct cmp_setup *s;
	enum tool t;
};

/* In the tool's child (its stderr is the tool's log): into the lab, iperf3 on the queues' CPUs. */
static int tool_setup(void *arg)
{
	const struct tool_child *c = arg;
	const struct cmp_setup *s = c->s;
	char msg[512];

	if (s->lab && lab_enter(&s->li, msg, sizeof(msg))) {
		fprintf(stderr, "lab: %s\n", msg);
		return 126;
	}
	if (c->t == TOOL_IPERF3 && sched_setaffinity(0, sizeof(s->cpuset), &s->cpuset))
		fprintf(stderr, "note: cannot pin iperf3 to CPUs %s: %s\n", s->cpus, strerror(errno));
	return 0;
}

static int run_child(const struct cmp_setup *s, enum tool t, const struct cmp_argv *a,
		     const char *out, const char *errout, unsigned deadline_s)
{
	struct tool_child c = { .s = s, .t = t };
	struct spawn sp = SPAWN_INIT;
	struct child_fds fds;
	struct timespec t0, now;
	bool termed = false;
	pid_t pid;
	int st, ret;

	child_fds_open(&fds, out, errout);
	child_fds_spawn(&fds, &sp);
	sp.exe = t == TOOL_IPERF3 ? s->iperf3 : NULL;
	sp.argv = a->v;
	sp.setup = tool_setup;
	sp.arg = &c;
	sp.death_sig = SIGTERM;
	sp.forward = true; /* a ^C stops the tool too, which then ends as it does on its own */
	ret = spawn_child(&sp, &pid);
	child_fds_close(&fds);
	if (ret)
		return ret;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ret = spawn_poll(pid, &st);
		if (ret == 1)
			break;
		if (ret < 0) {
			stopsig_forward(0);
			return ret;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > (time_t)deadline_s + (termed ? 3 : 0)) {
			kill(pid, termed ? SIGKILL : SIGTERM);
			termed = true;
			t0 = now;
			t0.tv_sec -= deadline_s;
		}
		usleep(20000);
	}
	return spawn_exit_code(st);
}

/* One tool, one repeat: CPU and receiver counters around the child, then its JSON. */
static int run_tool(const struct cmp_setup *s, enum tool t, const struct cmp_argv *a,
		    struct cmp_run *out, char *err, size_t errlen)
{
	const char *name = t == TOOL_ZCGEN ? "zcgen" : "iperf3";
	char log[128], json[128], tail[1500];
	struct cpustat_snap c0, c1;
	struct cpustat_delta d;
	uint64_t rx0 = 0, rx1 = 0;
	bool have_rx;
	char *text;
	int rc, ret;

	path_in(s, t == TOOL_ZCGEN ? "zcgen.log" : "iperf3.err", log, sizeof(log));
	path_in(s, t == TOOL_ZCGEN ? "zcgen.json" : "iperf3.json", json, sizeof(json));
	unlink(json);
	cmp_run_init(out);
	have_rx = rx_counter(s, &rx0);
	cpustat_snap(&c0);
	/* iperf3 -J writes its document to stdout: a file of its own, stderr apart */
	rc = run_child(s, t, a, t == TOOL_ZCGEN ? log : json, log, s->dur_s + s->omit_s + 30);
	cpustat_snap(&c1);
	have_rx = have_rx && rx_counter(s, &rx1);
	if (rc < 0) {
		snprintf(err, errlen, "cannot start %s: %s", name, strerror(-rc));
		return -EIO;
	}
	text = read_file(json, 64 << 20);
	if (t == TOOL_ZCGEN) {
		if (rc) {
			file_tail(log, tail, sizeof(tail));
			if (rc == EXIT_USAGE)
				snprintf(err, errlen, "the zcgen run refused its options (exit 2)%s%s%s",
					 strstr(tail, "server") ? " (does this zcgen run have "
								  "--server iperf3?)" : "",
					 tail[0] ? ":\n" : "", tail);
			else
				snprintf(err, errlen, "the zcgen run failed (exit %d)%s%s", rc,
					 tail[0] ? ":\n" : "", tail);
			free(text);
			return -EIO;
		}
		ret = cmp_zcgen_parse(text, s->udp, out, tail, sizeof(tail));
	} else {
		ret = cmp_iperf3_parse(text, s->udp, out, tail, sizeof(tail));
		if (ret == -EINVAL) {
			/* no JSON: what it printed on stderr says why (a bad option, a crash) */
			file_tail(log, tail, sizeof(tail));
			if (!tail[0])
				snprintf(tail, sizeof(tail), "no output");
		}
		if (!ret && rc) {
			snprintf(tail, sizeof(tail), "exit status %d", rc);
			ret = -EIO;
		}
	}
	free(text);
	if (ret) {
		snprintf(err, errlen, "%s failed: %s", name, tail);
		return -EIO;
	}
	cpustat_delta(&c0, &c1, out->bytes, 0, &d);
	cmp_run_set_cpu(out, d.sys_busy_s);
	if (have_rx)
		cmp_run_set_rx(out, rx0, rx1);
	return 0;
}

static void zcgen_argv(const struct cmp_opts *o, const struct cmp_setup *s, struct cmp_argv *a)
{
	char json[128];

	path_in(s, "zcgen.json", json, sizeof(json));
	cmp_argv_init(a);
	cmp_argv_add(a, "zcgen");
	cmp_argv_add(a, "run");
	if (o->profile)
		cmp_argv_add(a, "--profile=%s", o->profile);
	/* the user's overrides, less those compare resolves and passes below */
	for (unsigned i = 0; i < o->nov; i++) {
		static const char *const resolved[] = { "queues", "cpus", "size", "duration", "omit" };
		bool skip = s->lab && !strcmp(o->ov[i].key, "dest");

		for (size_t k = 0; k < sizeof(resolved) / sizeof(resolved[0]); k++)
			skip |= !strcmp(o->ov[i].key, resolved[k]);
		if (!skip)
			cmp_argv_add(a, "--%s=%s", o->ov[i].key, o->ov[i].value);
	}
	/* what compare resolved, after the user's: the last override wins */
	if (s->lab)
		cmp_argv_add(a, "--dest=%s:%u", s->host, s->port);
	cmp_argv_add(a, "--server=iperf3");
	cmp_argv_add(a, "--queues=%u", s->prof->queues);
	cmp_argv_add(a, "--cpus=%s", s->cpus);
	cmp_argv_add(a, "--size=%llu", (unsigned long long)s->size);
	cmp_argv_add(a, "--duration=%us", s->dur_s);
	cmp_argv_add(a, "--omit=%us", s->omit_s);
	if (s->nic_off)
		cmp_argv_add(a, "--no-nic");
	cmp_argv_add(a, "--quiet");
	cmp_argv_add(a, "--json=%s", json);
}

/* --lab: fit queues and CPUs to this machine as a --lab run does; the target is ours. */
static void lab_fit(struct gen_profile *prof)
{
	struct lab_fit fit;

	if (!labrun_fit(prof, true, &fit))
		labrun_fit_say(&fit);
}

/* Profile, overrides, checks; then everything both tools need. */
static int setup(const struct cmp_opts *o, struct cmp_setup *s)
{
	struct gen_diags d = { 0 };
	struct gen_profile *p = s->prof;
	unsigned cpus[GEN_MAX_QUEUES];
	int ret = 0;

	profile_init(p);
	if (o->profile)
		profile_load(p, o->profile, &d);
	for (unsigned i = 0; i < o->nov; i++)
		profile_set(p, o->ov[i].key, o->ov[i].value, &d);
	if (o->lab) {
		profile_set(p, "dest", "198.18.0.2:5301", &d); /* replaced once the server listens */
		lab_fit(p);
	}
	if (!o->omit_given && p->omit_ns) {
		/* the CPU window covers the whole run: a warm-up would count CPU but no bytes */
		printf("compare: omit %.3f s -> 0 (give --omit to keep a warm-up for both tools)\n",
		       p->omit_ns / 1e9);
		p->omit_ns = 0;
	}
	if (!diags_errors(&d))
		profile_validate(p, &d);
	diags_print(&d, stderr);
	if (diags_errors(&d)) {
		fprintf(stderr, "zcgen compare: nothing was run\n");
		ret = -EINVAL;
		goto out;
	}
	s->udp = p->proto == GEN_PROTO_UDP;
	s->lab = o->lab;
	snprintf(s->host, sizeof(s->host), "%s", p->host);
	s->port = p->port;
	s->dur_s = (unsigned)llround(p->duration_ns / 1e9);
	if (s->dur_s < 1)
		s->dur_s = 1;
	if ((uint64_t)s->dur_s * 1000000000ull != p->duration_ns)
		printf("compare: duration %.3f s -> %u s (iperf3 -t takes whole seconds)\n",
		       p->duration_ns / 1e9, s->dur_s);
	if (o->omit_given) {
		s->omit_s = (unsigned)llround(p->omit_ns / 1e9);
		if ((uint64_t)s->omit_s * 1000000000ull != p->omit_ns)
			printf("compare: omit %.3f s -> %u s (iperf3 -O takes whole seconds)\n",
			       p->omit_ns / 1e9, s->omit_s);
	}
	s->size = p->size;
	if (s->udp && !p->size_set) {
		/* both tools must send the same datagrams: the lab's MTU, else 1500 */
		s->size = (o->lab ? LAB_DEFAULT_MTU : 1500) - 28;
		printf("compare: UDP size %llu B (no size given; --size to choose)\n",
		       (unsigned long long)s->size);
	}
	s->parallel = p->queues * p->streams;
	if (s->parallel > 128) {
		fprintf(stderr, "zcgen compare: queues x streams = %u, iperf3 takes at most -P 128\n",
			s->parallel);
		ret = -EINVAL;
		goto out;
	}
	CPU_ZERO(&s->cpuset);
	for (unsigned q = 0; q < p->queues && q < GEN_MAX_QUEUES; q++) {
		cpus[q] = profile_queue_cpu(p, q);
		if (cpus[q] < CPU_SETSIZE)
			CPU_SET(cpus[q], &s->cpuset);
	}
	units_fmt_cpulist(cpus, p->queues < GEN_MAX_QUEUES ? p->queues : GEN_MAX_QUEUES, s->cpus,
			  sizeof(s->cpus));
	server_cpus(s);
	s->nic_off = o->no_nic;
out:
	diags_free(&d);
	return ret;
}

/*
 * The lab's iperf3 -s runs on the CPUs the senders do not use, where there
 * are any: otherwise the scheduler tends to wake it on the sender's CPU
 * (the veth delivers in the sender's softirq) and both tools measure one
 * busy CPU. Where the queues take every CPU it is not pinned.
 */
static void server_cpus(struct cmp_setup *s)
{
	unsigned list[CPU_SETSIZE], n = 0;
	cpu_set_t allowed;

	CPU_ZERO(&s->server_set);
	s->server_cpus[0] = 0;
	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return;
	for (unsigned c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &allowed) && !CPU_ISSET(c, &s->cpuset)) {
			CPU_SET(c, &s->server_set);
			list[n++] = c;
		}
	if (n)
		units_fmt_cpulist(list, n, s->server_cpus, sizeof(s->server_cpus));
}

/* ---- the command ---- */

static void cleanup_dir(struct cmp_setup *s)
{
	static const char *const files[] = { "zcgen.json", "zcgen.log", "iperf3.json", "iperf3.err",
					     "server.log" };
	char p[128];

	if (!s->dir[0])
		return;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		path_in(s, files[i], p, sizeof(p));
		unlink(p);
	}
	rmdir(s->dir);
	s->dir[0] = '\0';
}

int cmd_compare(int argc, char **argv)
{
	struct cmp_opts o = { 0 };
	struct cmp_setup s = { 0 };
	struct cmp_run *z = NULL, *p = NULL;
	struct cmp_argv *za = NULL, *pa = NULL;
	struct cmp_iperf3_args ia;
	struct labrun lr;
	struct report_compare rep;
	struct report_compare_env env;
	json_t *j = NULL;
	char err[2048];
	unsigned done = 0;
	int rc, ret;

	labrun_init(&lr, "zcgen compare", EXIT_RUN_FAILED);
	lr.says.not_done = "nothing was run";
	rc = parse_args(argc, argv, &o);
	if (rc == EXIT_OK + 100)
		return EXIT_OK;
	if (rc >= 0)
		return rc;
	rc = EXIT_USAGE;
	s.prof = calloc(1, sizeof(*s.prof));
	z = calloc(o.repeat, sizeof(*z));
	p = calloc(o.repeat, sizeof(*p));
	za = calloc(1, sizeof(*za));
	pa = calloc(1, sizeof(*pa));
	if (!s.prof || !z || !p || !za || !pa) {
		fprintf(stderr, "zcgen compare: out of memory\n");
		goto out;
	}
	for (unsigned i = 0; i < o.repeat; i++) {
		cmp_run_init(&z[i]);
		cmp_run_init(&p[i]);
	}
	if (setup(&o, &s))
		goto out;
	if (o.lab && s.prof->nic.present && !o.no_nic && strcmp(s.prof->nic.interface, "zcl-tx0")) {
		printf("lab: the profile's nic: section names %s, not the lab's zcl-tx0: not applied "
		       "(--no-nic)\n", s.prof->nic.interface);
		s.nic_off = true;
	}

	rc = EXIT_RUN_FAILED;
	if (find_program(o.iperf3 ? o.iperf3 : "iperf3", s.iperf3, sizeof(s.iperf3))) {
		fprintf(stderr, "zcgen compare: iperf3 not found (%s): install it (apt-get install "
			"iperf3) or name it with --iperf3 PATH\n", s.iperf3);
		goto out;
	}
	snprintf(s.dir, sizeof(s.dir), "/tmp/zcgen-compare.XXXXXX");
	if (!mkdtemp(s.dir)) {
		fprintf(stderr, "zcgen compare: cannot make a temporary directory: %s\n",
			strerror(errno));
		s.dir[0] = '\0';
		goto out;
	}
	/* SIGINT/SIGTERM/SIGHUP (a closed terminal) noted from here: the lab is taken down too */
	stopsig_install(false);

	if (o.lab) {
		lr.cfg.queues = s.prof->queues;
		lr.cfg.sink = false; /* the iperf3 server is the receiver */
		ret = labrun_up(&lr);
		if (ret < 0) {
			rc = ret == -EPERM || ret == -EINVAL ? EXIT_USAGE : EXIT_RUN_FAILED;
			goto out;
		}
		s.li = lr.info;
		if (ret == LABRUN_STOPPED)
			goto out_lab;
		snprintf(s.host, sizeof(s.host), "%s", s.li.rx_ipv4);
		if (server_start(&s, err, sizeof(err))) {
			fprintf(stderr, "zcgen compare: %s\n", err);
			goto out_lab;
		}
		labrun_line(&s.li, err, sizeof(err));
		printf("%s; iperf3 -s -p %u in %s (pid %d, %s%s)\n", err, s.port, s.li.rx_netns,
		       (int)s.server,
		       s.server_cpus[0] ? "on CPUs " : "not pinned: the queues use every CPU",
		       s.server_cpus);
	}

	zcgen_argv(&o, &s, za);
	ia = (struct cmp_iperf3_args){ .exe = s.iperf3, .host = s.host, .port = s.port,
				       .udp = s.udp, .zerocopy = s.prof->mode != GEN_MODE_COPY,
				       .duration_s = s.dur_s, .omit_s = s.omit_s,
				       .parallel = s.parallel, .size = s.size };
	if (cmp_iperf3_argv(&ia, pa) || za->overflow) {
		fprintf(stderr, "zcgen compare: the command lines are too long\n");
		goto out_server;
	}
	cmp_argv_str(za, err, sizeof(err));
	printf("zcgen:  %s\n", err);
	cmp_argv_str(pa, err, sizeof(err));
	printf("iperf3: %s (pinned to CPUs %s)\n", err, s.cpus);
	fflush(stdout);

	for (unsigned i = 0; i < o.repeat && !gen_stop; i++) {
		/* odd repeats zcgen first, even ones iperf3 first: a drifting machine favours neither */
		enum tool order[2] = { TOOL_ZCGEN, TOOL_IPERF3 };
		bool ok = true;

		if (i % 2) {
			order[0] = TOOL_IPERF3;
			order[1] = TOOL_ZCGEN;
		}
		for (int k = 0; k < 2 && ok && !gen_stop; k++) {
			struct cmp_run *r = order[k] == TOOL_ZCGEN ? &z[i] : &p[i];

			if (i || k)
				usleep(CMP_PAUSE_US);
			cmp_run_free(r);
			if (run_tool(&s, order[k], order[k] == TOOL_ZCGEN ? za : pa, r, err,
				     sizeof(err))) {
				/* a tool stopped by our SIGINT is not a failure: the repeat is dropped */
				if (!gen_stop)
					fprintf(stderr, "zcgen compare: repeat %u: %s\n", i + 1, err);
				ok = false;
			}
		}
		if (!ok && !gen_stop)
			goto out_server;
		if (gen_stop)
			break;
		done++;
		report_compare_repeat(stdout, i, o.repeat, &z[i], &p[i]);
	}
	if (!done) {
		fprintf(stderr, "zcgen compare: interrupted before a repeat completed\n");
		goto out_server;
	}
	report_compare_make(&rep, s.udp, z, p, done);
	{
		char zcmd[4096], pcmd[4096], kernel[128] = "unknown";

		cmp_argv_str(za, zcmd, sizeof(zcmd));
		cmp_argv_str(pa, pcmd, sizeof(pcmd));
		calib_kernel(kernel, sizeof(kernel));
		env = (struct report_compare_env){
			.kernel = kernel, .host = s.host, .port = s.port, .lab = s.lab,
			.rx_netns = s.lab ? s.li.rx_netns : NULL, .rx_counter = s.server > 0,
			.server_cpus = s.server_cpus, .queues = s.prof->queues,
			.streams = s.prof->streams, .size = s.size, .mode = s.prof->mode,
			.cpus = s.cpus, .dur_s = s.dur_s, .omit_s = s.omit_s, .zcgen_cmd = zcmd,
			.iperf3_cmd = pcmd,
		};
		report_compare_text(stdout, &rep, &env);
		if (o.json)
			j = report_compare_json(&rep, &env);
	}
	rc = gen_stop ? EXIT_RUN_FAILED : EXIT_OK;
	if (gen_stop)
		fprintf(stderr, "zcgen compare: interrupted: the figures cover %u of %u repeats\n",
			done, o.repeat);
	if (o.json) {
		if (!j || json_dump_file(j, strcmp(o.json, "-") ? o.json : "/dev/stdout",
					 JSON_INDENT(2)) < 0) {
			fprintf(stderr, "zcgen compare: cannot write JSON to %s\n", o.json);
			rc = EXIT_RUN_FAILED;
		}
		json_decref(j);
	}
out_server:
	server_stop(&s);
out_lab:
	labrun_down(&lr);
out:
	cleanup_dir(&s);
	for (unsigned i = 0; z && p && i < o.repeat; i++) {
		cmp_run_free(&z[i]);
		cmp_run_free(&p[i]);
	}
	free(z);
	free(p);
	free(za);
	free(pa);
	free(s.prof);
	return rc;
}
