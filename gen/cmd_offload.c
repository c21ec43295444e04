/* cmd_offload.c - `zcgen offload-check`: each offload on vs off in short runs, a verdict, the NIC put back */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <jansson.h>
#include "gen/gen.h"
#include "gen/profile.h"
#include "gen/cmd.h"
#include "gen/engine.h"
#include "gen/cpustat.h"
#include "gen/expect_eval.h"
#include "gen/offload.h"
#include "gen/labrun.h"
#include "gen/report_offload.h"
#include "gen/spawn.h"
#include "gen/stopsig.h"
#include "nic/nic.h"

#define OC_MAX_OFFLOADS 32
#define OC_MAX_REPEAT 20
/* The receiver per run (--lab): how long it may take to listen, to stop. */
#define OC_SINK_WAIT_MS 3000
#define OC_SINK_STOP_MS 5000
/*
 * After a TCP run the engine has closed its sockets, but what was still in
 * their send queues is on its way: this long for the sink to read it before
 * it is stopped (a veth drains megabytes in a few milliseconds).
 */
#define OC_SINK_SETTLE_MS 200

static const char oc_usage[] =
	"usage: zcgen offload-check [DEV] [--profile FILE] [options]\n"
	"\n"
	"For each offload, short runs with it on and with it off (alternated, repeated),\n"
	"then every feature put back as it was. Per state: Gbit/s, sends/s, CPU-seconds\n"
	"per GB, bytes per packet as DEV counted them, zero-copy copied %, errors; and a\n"
	"verdict: effective, no-effect, unsupported, broken (docs/offload.md).\n"
	"  DEV                  the sending interface (default: the lab's, or nic.interface)\n"
	"  --profile FILE       the traffic's shape (docs/profiles.md); its nic: section\n"
	"                       is not applied, its expect.offloads_effective is checked\n"
	"  --offloads LIST      ethtool or kernel names, e.g. tso,gso,sg,tx,gro or\n"
	"                       tx-udp-segmentation (default: tso,gso,sg,tx,gro for TCP;\n"
	"                       tx-udp-segmentation,gso,sg,tx for UDP)\n"
	"  --repeat N           runs per state (default 2, alternating on/off)\n"
	"  --duration TIME      per short run (default 2s)\n"
	"  --dest HOST:PORT     receiver (any: server none)\n"
	"  --queues N, --size SIZE, --mode M, --protocol P   as for zcgen run\n"
	"  --lab                use the built-in veth lab (DEV is its sending veth); unless\n"
	"                       --dest names a receiver, each run goes to a zcgen sink\n"
	"                       --verify of its own: received bytes, loss, corrupt bytes\n"
	"  --force              allow the interface that carries the default route\n"
	"  --json FILE          write the results as JSON (docs/json.md); - for stdout\n"
	"  --help               this text\n"
	"Exit: 0 done, 1 the check failed or the NIC could not be put back, 2 usage or\n"
	"setup error, 3 an offload in expect.offloads_effective is not effective.\n";

struct oc_opts {
	const char *profile, *json, *offloads, *dev;
	unsigned repeat;
	bool lab, force;
	bool dest;          /* --dest given: with --lab, it replaces offload-check's own sink */
	int rx_nsfd;        /* --lab without --dest: the receiving namespace, a sink per run; -1: none */
	char rx_host[INET6_ADDRSTRLEN]; /* the sink's address there */
};

struct oc {
	const struct oc_opts *o;
	struct gen_profile *prof;
	const char *dev;
	unsigned mtu;
	struct ethnl_features fs0;   /* as found: what is put back between offloads */
	struct nic_applied *h;       /* the device, locked and snapshotted (nic_apply) */
	struct nic_counters *qc;     /* its link counters; NULL when they cannot be read */
	struct engine_plan *plan;
	struct oc_result r[OC_MAX_OFFLOADS];
	unsigned n;
	bool rx;                     /* a verifying sink per run (o->rx_nsfd) */
	char tmpdir[64];             /* its log and JSON */
};

static void add_changed(struct oc_result *r, const char *name)
{
	for (unsigned i = 0; i < r->n_kernel; i++)
		if (!strcmp(r->kernel[i], name))
			return;
	for (unsigned i = 0; i < r->n_changed; i++)
		if (!strcmp(r->changed_with[i], name))
			return;
	if (r->n_changed < sizeof(r->changed_with) / sizeof(r->changed_with[0]))
		snprintf(r->changed_with[r->n_changed++], sizeof(r->changed_with[0]), "%s", name);
}

/*
 * Set the offload under test on or off and check that the kernel did it:
 * every feature of the group active as asked. Features the kernel changed
 * along go to changed_with. Return: 0; -EPERM-like -errno with @why set
 * when the kernel refused or kept it.
 */
static int set_state(struct oc *oc, struct oc_result *r, bool on, char *why, size_t len)
{
	struct ethnl_feature_req req = { .name = r->name, .on = on };
	struct ethnl_features_result res;
	struct ethnl_features now;
	struct offload_group g;
	char kmsg[256];
	int ret;

	ret = nic_features_change(oc->h, &req, 1, &res, kmsg, sizeof(kmsg));
	if (ret) {
		snprintf(why, len, "turning it %s: %s%s%s", on ? "on" : "off", kmsg, *kmsg ? ": " : "",
			 strerror(-ret));
		return ret;
	}
	for (unsigned i = 0; i < res.count; i++)
		if (!res.c[i].requested && res.c[i].active_changed)
			add_changed(r, res.c[i].name);
	ethnl_features_result_free(&res);
	ret = nic_features_now(oc->h, &now);
	if (ret) {
		snprintf(why, len, "cannot read the features: %s", strerror(-ret));
		return ret;
	}
	ret = offload_resolve(&now, r->name, &g);
	for (unsigned i = 0; !ret && i < g.n; i++) {
		const struct ethnl_feature *f = &now.f[g.idx[i]];

		if (f->active != on) {
			snprintf(why, len, "asked to turn it %s, the kernel kept %s %s", on ? "on" : "off",
				 f->name, f->active ? "on" : "off");
			ret = -EOPNOTSUPP;
		}
	}
	ethnl_features_free(&now);
	return ret;
}

struct oc_sink {
	pid_t pid;
	uint16_t port;
	char log[96], json[96];
};

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The sink's output so far, raw (at most @len - 1 bytes from its start). */
static void sink_log(const struct oc_sink *k, char *buf, size_t len)
{
	FILE *f = fopen(k->log, "re");
	size_t n = 0;

	buf[0] = '\0';
	if (!f)
		return;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
}

/* What the sink said besides its "listening on" line, on one line ("a; b"). */
static void sink_said(const struct oc_sink *k, char *buf, size_t len)
{
	char raw[2048], *save = NULL, *line;
	size_t o = 0;

	sink_log(k, raw, sizeof(raw));
	buf[0] = '\0';
	for (line = strtok_r(raw, "\n", &save); line && o + 1 < len; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "listening on ", 13) || !line[0])
			continue;
		int r = snprintf(buf + o, len - o, "%s%s", o ? "; " : "", line);

		if (r < 0)
			break;
		o += (size_t)r;
	}
}

/* The port of "listening on 198.18.0.2:40123 (tcp+udp, 1 worker)", 0 until it is there. */
static uint16_t sink_port(const struct oc_sink *k)
{
	char buf[512], *l, *sp, *colon;
	unsigned long port;

	sink_log(k, buf, sizeof(buf));
	l = strstr(buf, "listening on ");
	if (!l || !(sp = strchr(l + 13, ' ')))
		return 0;
	*sp = '\0';
	colon = strrchr(l, ':');
	if (!colon)
		return 0;
	port = strtoul(colon + 1, NULL, 10);
	return port > 0 && port < 65536 ? (uint16_t)port : 0;
}

/* Has the sink exited (@status set)? ECHILD counts as exited: nothing is left to wait for. */
static bool sink_exited(pid_t pid, int *status)
{
	int r = spawn_poll(pid, status);

	return r == 1 || r == -ECHILD;
}

/* Stop it for good, whatever state it is in. */
static void sink_kill(struct oc_sink *k)
{
	if (k->pid <= 0)
		return;
	spawn_stop(k->pid, SIGKILL, 0, NULL, NULL, NULL);
	k->pid = 0;
}

/* In the sink's child: into the lab's receiving namespace (its stderr is the log). */
static int sink_setup(void *arg)
{
	const struct oc *oc = arg;

	return setns(oc->o->rx_nsfd, CLONE_NEWNET) < 0 ? 126 : 0;
}

/*
 * Start `zcgen sink --verify --protocol both` in the lab's receiving
 * namespace on a free port, and wait for its "listening on" line. It runs in
 * its own process group (a ^C reaches offload-check only, which stops it
 * after the run), dies with offload-check (PDEATHSIG), and stops by itself
 * a minute after a run's time in any case.
 */
static int sink_begin(struct oc *oc, struct oc_sink *k, char *err, size_t len)
{
	char listen[INET6_ADDRSTRLEN + 8], workers[16], dur[32], out[300];
	char *const argv[] = { "zcgen", "sink", "--listen", listen, "--protocol", "both", "--verify",
			       "--quiet", "--interval", "0", "--queues", workers, "--duration", dur,
			       "--json", k->json, NULL };
	struct spawn sp = SPAWN_INIT;
	uint64_t end;
	int logfd, nullfd, status, ret;

	memset(k, 0, sizeof(*k));
	snprintf(k->log, sizeof(k->log), "%s/sink.log", oc->tmpdir);
	snprintf(k->json, sizeof(k->json), "%s/sink.json", oc->tmpdir);
	snprintf(listen, sizeof(listen), "%s:0", oc->o->rx_host);
	snprintf(workers, sizeof(workers), "%u", oc->plan->nq);
	snprintf(dur, sizeof(dur), "%llus", (unsigned long long)(oc->prof->duration_ns / 1000000000ull) + 60);
	unlink(k->json);
	logfd = open(k->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (logfd < 0 || nullfd < 0) {
		snprintf(err, len, "%s: %s", k->log, strerror(errno));
		goto out_fds;
	}
	sp.argv = argv;
	sp.in = nullfd;
	sp.out = sp.err = logfd;
	sp.setup = sink_setup;
	sp.arg = oc;
	sp.own_group = true;
	sp.death_sig = SIGTERM;
	ret = spawn_child(&sp, &k->pid);
	if (ret) {
		snprintf(err, len, "cannot start the receiver: %s", strerror(-ret));
		k->pid = 0;
		goto out_fds;
	}
	close(logfd);
	close(nullfd);
	end = now_ms() + OC_SINK_WAIT_MS;
	while (!(k->port = sink_port(k))) {
		if (sink_exited(k->pid, &status)) {
			k->pid = 0;
			sink_said(k, out, sizeof(out));
			snprintf(err, len, "the receiver (zcgen sink --verify) exited: %.150s",
				 out[0] ? out : WIFEXITED(status) && WEXITSTATUS(status) >= 126 ?
				 "it could not be started in the receiving namespace" : "no message");
			return -ECHILD;
		}
		if (now_ms() >= end) {
			sink_kill(k);
			snprintf(err, len, "the receiver (zcgen sink --listen %s --verify) did not listen "
				 "within %d ms", listen, OC_SINK_WAIT_MS);
			return -ETIMEDOUT;
		}
		sleep_ms(10);
	}
	return 0;
out_fds:
	if (logfd >= 0)
		close(logfd);
	if (nullfd >= 0)
		close(nullfd);
	return -EIO;
}

static uint64_t json_u64(json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	return v > 0 ? (uint64_t)v : 0;
}

/* Stop the sink (SIGTERM: it writes its JSON) and take its counts into @s. */
static int sink_end(struct oc_sink *k, struct offload_sample *s)
{
	json_error_t je;
	json_t *root, *t;
	char out[300];
	int status = 0, ret;

	if (k->pid <= 0)
		return -ECHILD;
	sleep_ms(OC_SINK_SETTLE_MS);
	ret = spawn_stop(k->pid, SIGTERM, OC_SINK_STOP_MS, &status, NULL, NULL);
	k->pid = 0;
	if (ret == 0) {
		snprintf(s->rx_error, sizeof(s->rx_error), "the receiver did not stop within %d ms",
			 OC_SINK_STOP_MS);
		return -ETIMEDOUT;
	}
	if (ret < 0) /* reaped by someone else: as before, an exit without a status */
		status = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		sink_said(k, out, sizeof(out));
		snprintf(s->rx_error, sizeof(s->rx_error), "the receiver ended with status %d%s%.150s",
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
			 out[0] ? ": " : "", out);
		return -EIO;
	}
	root = json_load_file(k->json, 0, &je);
	t = json_object_get(root, "total");
	if (!json_is_object(t) || !json_is_integer(json_object_get(t, "corrupt_bytes"))) {
		snprintf(s->rx_error, sizeof(s->rx_error), "the receiver's JSON has no payload check "
			 "totals%s%.100s", root ? "" : ": ", root ? "" : je.text);
		json_decref(root);
		return -EIO;
	}
	s->have_rx = true;
	s->rx_bytes = json_u64(t, "bytes");
	/* duplicates are not datagrams that arrived in addition */
	s->rx_packets = json_u64(t, "packets");
	s->rx_packets -= json_u64(t, "duplicates") < s->rx_packets ? json_u64(t, "duplicates") : s->rx_packets;
	s->rx_corrupt_bytes = json_u64(t, "corrupt_bytes");
	s->rx_corrupt_datagrams = json_u64(t, "corrupt_datagrams");
	json_decref(root);
	return 0;
}

/* The engine's destination: the sink of this run. */
static void plan_port(struct engine_plan *plan, const char *host, uint16_t port)
{
	if (plan->dest.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&plan->dest)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&plan->dest)->sin_port = htons(port);
	plan->prof.port = port;
	snprintf(plan->dest_str, sizeof(plan->dest_str), "%s:%u", host, port);
}

/* One short run, with the device's link statistics and the CPU around it. */
static void short_run(struct oc *oc, struct offload_sample *s)
{
	struct engine_result res = { 0 };
	struct cpustat_snap a, b;
	struct oc_sink k = { 0 };
	uint64_t lb0 = 0, lp0 = 0, lb1 = 0, lp1 = 0;
	bool link, cpu;
	int ret;

	memset(s, 0, sizeof(*s));
	s->cpu_busy_s = -1;
	s->udp = oc->prof->proto == GEN_PROTO_UDP;
	if (oc->rx) {
		if (sink_begin(oc, &k, s->rx_error, sizeof(s->rx_error))) {
			/* nobody listens: no run */
			snprintf(s->error, sizeof(s->error), "%s", s->rx_error);
			return;
		}
		plan_port(oc->plan, oc->o->rx_host, k.port);
	}
	link = oc->qc && !nic_link_tx(oc->qc, oc->dev, &lb0, &lp0);
	cpu = !cpustat_snap(&a);
	ret = engine_run(oc->plan, &(struct engine_run_ctx){ .stop = &gen_stop }, &res);
	if (ret) {
		snprintf(s->error, sizeof(s->error), "cannot start the run: %s", strerror(-ret));
		sink_kill(&k);
		engine_result_free(&res);
		return;
	}
	cpu = cpu && !cpustat_snap(&b);
	link = link && !nic_link_tx(oc->qc, oc->dev, &lb1, &lp1);
	uint64_t all = 0;

	for (unsigned q = 0; q < res.nq; q++) {
		const struct engine_queue_result *x = &res.q[q];

		s->bytes += x->bytes;
		s->sends += x->sends;
		s->zc_notifs += x->notifs;
		s->zc_copied += x->zc_copied;
		s->errors += x->errors + x->streams_failed;
		all += x->bytes_all;
		for (unsigned i = 0; i < x->streams && x->st; i++)
			s->sent_datagrams += s->udp ? x->st[i].datagrams_all : 0;
		if (!s->error[0] && x->first_error[0])
			snprintf(s->error, sizeof(s->error), "%.199s", x->first_error);
	}
	s->duration_s = res.duration_s;
	if (res.end == ENGINE_END_STALLED) /* the path stopped carrying data with this setting */
		snprintf(s->error, sizeof(s->error), "%.199s", res.end_msg);
	if (cpu) {
		struct cpustat_delta d;

		cpustat_delta(&a, &b, all, 0, &d);
		/* per byte of the measured part: scale the run's busy time to it */
		s->cpu_busy_s = all ? d.sys_busy_s * (double)s->bytes / (double)all : -1;
	}
	if (link && lp1 >= lp0 && lb1 >= lb0) {
		s->have_link = true;
		s->link_bytes = lb1 - lb0;
		s->link_packets = lp1 - lp0;
	}
	s->sent_bytes = all;
	if (oc->rx)
		sink_end(&k, s);
	engine_result_free(&res);
}

/* Turn the features the test needs on. */
static void turn_needs_on(struct oc *oc, struct oc_result *r, const struct offload_group *g)
{
	struct ethnl_feature_req req[OFFLOAD_NEEDS_MAX];
	char kmsg[256];
	int ret;

	r->n_needs = offload_needs(&oc->fs0, g, r->needs);
	if (!r->n_needs)
		return;
	for (unsigned i = 0; i < r->n_needs; i++)
		req[i] = (struct ethnl_feature_req){ .name = r->needs[i], .on = true };
	ret = nic_features_change(oc->h, req, r->n_needs, NULL, kmsg, sizeof(kmsg));
	if (ret)
		snprintf(r->note, sizeof(r->note), "could not turn on what the test needs: %s%s%s",
			 kmsg, *kmsg ? ": " : "", strerror(-ret));
}

static void check_one(struct oc *oc, struct oc_result *r)
{
	struct offload_sample s_on[OC_MAX_REPEAT], s_off[OC_MAX_REPEAT];
	struct offload_case c = { .name = r->name, .mtu = oc->mtu };
	struct offload_group g;
	char why[400] = "", err[400];
	unsigned n_on = 0, n_off = 0;

	if (offload_resolve(&oc->fs0, r->name, &g)) {
		/* checked before anything changed; a device that lost it since */
		r->verdict = OFFLOAD_UNSUPPORTED;
		snprintf(r->evidence, sizeof(r->evidence), "the device has no feature of that name");
		return;
	}
	for (unsigned i = 0; i < g.n && r->n_kernel < OFFLOAD_GROUP_MAX; i++)
		snprintf(r->kernel[r->n_kernel++], sizeof(r->kernel[0]), "%s", oc->fs0.f[g.idx[i]].name);
	c.kind = g.kind;
	if (g.all_fixed) {
		c.fixed = true;
		c.fixed_on = g.any_active;
		r->verdict = offload_judge(&c, r->evidence, sizeof(r->evidence));
		return;
	}
	turn_needs_on(oc, r, &g);
	/* on, off, off, on, on, off, ...: a drift over time hits both states alike */
	for (unsigned k = 0; k < 2 * oc->o->repeat && !gen_stop && !why[0]; k++) {
		bool on = (k % 4 == 0 || k % 4 == 3);

		if (set_state(oc, r, on, why, sizeof(why)))
			break;
		short_run(oc, on ? &s_on[n_on++] : &s_off[n_off++]);
	}
	if (why[0])
		c.refused = why;
	offload_figures(s_on, n_on, &r->on);
	offload_figures(s_off, n_off, &r->off);
	c.on = r->on;
	c.off = r->off;
	r->measured = !why[0] && n_on && n_off;
	r->verdict = offload_judge(&c, r->evidence, sizeof(r->evidence));
	if (oc->rx && r->measured && (!r->on.rx.checked || !r->off.rx.checked))
		snprintf(r->note, sizeof(r->note), "the receiver's counts are missing for some runs%s%.200s",
			 r->on.rx.error[0] || r->off.rx.error[0] ? ": " : "",
			 r->on.rx.error[0] ? r->on.rx.error : r->off.rx.error);
	if (nic_features_put_back(oc->h, err, sizeof(err)) && !r->note[0])
		snprintf(r->note, sizeof(r->note), "putting the features back after it failed: %.250s", err);
}

static int write_json(const char *path, const struct report_offload *rep, bool restored,
		      const struct expect_result *ex)
{
	json_t *root = report_offload_json(rep, restored, ex);
	int ret = 0;

	if (!root || json_dump_file(root, strcmp(path, "-") ? path : "/dev/stdout", JSON_INDENT(2)) < 0) {
		fprintf(stderr, "zcgen: cannot write JSON to %s\n", path);
		ret = -EIO;
	}
	json_decref(root);
	return ret;
}

/* The offloads to check: --offloads, else the protocol's default; plus expect.offloads_effective. */
static int offload_list(struct oc *oc, const char *list)
{
	char buf[1024], *save = NULL, *tok;
	const struct gen_expect *ex = &oc->prof->expect;

	if (!list)
		list = oc->prof->proto == GEN_PROTO_UDP ? "tx-udp-segmentation,gso,sg,tx" : "tso,gso,sg,tx,gro";
	if (snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf))
		return -EINVAL;
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		bool dup = false;

		for (unsigned i = 0; i < oc->n; i++)
			dup |= !strcmp(oc->r[i].name, tok);
		if (dup)
			continue;
		if (oc->n == OC_MAX_OFFLOADS || strlen(tok) >= sizeof(oc->r[0].name))
			return -EINVAL;
		snprintf(oc->r[oc->n++].name, sizeof(oc->r[0].name), "%s", tok);
	}
	for (unsigned k = 0; k < ex->n_offloads_effective; k++) {
		bool dup = false;

		for (unsigned i = 0; i < oc->n; i++)
			dup |= !strcmp(oc->r[i].name, ex->offloads_effective[k]);
		if (dup)
			continue;
		if (oc->n == OC_MAX_OFFLOADS)
			return -EINVAL;
		snprintf(oc->r[oc->n++].name, sizeof(oc->r[0].name), "%s", ex->offloads_effective[k]);
	}
	return oc->n ? 0 : -EINVAL;
}

/*
 * expect.offloads_effective over the offloads checked (@n of @r); one
 * listed but not reached (interrupted before it) was not measured: missed.
 */
static void expect_offloads(const struct gen_expect *e, const struct oc_result *r, unsigned n,
			    struct expect_result *ex)
{
	ex->present = e->n_offloads_effective > 0;
	for (unsigned i = 0; i < n; i++)
		expect_eval_offload(e, r[i].name, offload_verdict_name(r[i].verdict), ex);
	for (unsigned k = 0; k < e->n_offloads_effective; k++) {
		bool seen = false;

		for (unsigned i = 0; i < n; i++)
			seen |= !strcmp(r[i].name, e->offloads_effective[k]);
		if (!seen)
			expect_eval_offload(e, e->offloads_effective[k], NULL, ex);
	}
}

/* The verifying sinks' log and JSON go to a directory of their own. Return: 0, or -errno. */
static int rx_dir_make(struct oc *oc)
{
	snprintf(oc->tmpdir, sizeof(oc->tmpdir), "/tmp/zcgen-offload.XXXXXX");
	oc->rx = mkdtemp(oc->tmpdir) != NULL;
	return oc->rx ? 0 : -errno;
}

static void rx_dir_remove(struct oc *oc)
{
	char f[96];

	if (!oc->rx)
		return;
	snprintf(f, sizeof(f), "%s/sink.log", oc->tmpdir);
	unlink(f);
	snprintf(f, sizeof(f), "%s/sink.json", oc->tmpdir);
	unlink(f);
	rmdir(oc->tmpdir);
}

/* Everything in the namespace of DEV: checks, lock and state file, the runs, putting back. */
static int check_dev(struct gen_profile *prof, const struct oc_opts *o, const char *dev)
{
	struct oc *oc = calloc(1, sizeof(*oc));
	struct engine_plan *plan = calloc(1, sizeof(*plan));
	struct gen_diags d = { 0 };
	struct nic_apply_out ao = { 0 };
	struct nic_applied *h = NULL;
	struct expect_result ex = { 0 };
	struct report_offload rep;
	char err[1200];
	sigset_t held;
	int rc = EXIT_USAGE, ret;
	bool restored = true, interrupted;

	if (!oc || !plan) {
		fprintf(stderr, "zcgen: out of memory\n");
		rc = EXIT_RUN_FAILED;
		goto out;
	}
	oc->o = o;
	oc->prof = prof;
	oc->dev = dev;
	oc->plan = plan;
	profile_validate(prof, &d);
	diags_print(&d, stderr);
	if (diags_errors(&d))
		goto out;
	if (prof->server != GEN_SERVER_NONE) {
		fprintf(stderr, "zcgen: offload-check sends raw streams: use server: none (--dest HOST:PORT "
			"to any receiver)\n");
		goto out;
	}
	if (engine_prepare(prof, plan, err, sizeof(err))) {
		fprintf(stderr, "zcgen: %s\n", err);
		goto out;
	}
	if (!if_nametoindex(dev)) {
		fprintf(stderr, "zcgen: offload-check: %s: no such device in this network namespace\n", dev);
		goto out;
	}
	if (nic_mtu(dev, &oc->mtu))
		oc->mtu = 1500;
	ret = nic_features_read(dev, &oc->fs0);
	if (ret) {
		fprintf(stderr, "zcgen: offload-check: %s: cannot read its features: %s\n", dev, strerror(-ret));
		goto out;
	}
	if (offload_list(oc, o->offloads)) {
		fprintf(stderr, "zcgen: offload-check: --offloads: expected up to %d names such as "
			"tso,gso,sg,tx,gro\n", OC_MAX_OFFLOADS);
		goto out;
	}
	for (unsigned i = 0; i < oc->n; i++) {
		struct offload_group g;

		if (offload_resolve(&oc->fs0, oc->r[i].name, &g)) {
			fprintf(stderr, "zcgen: offload-check: offload '%s': neither a kernel feature name of "
				"%s nor a name ethtool knows (tso, gso, sg, tx, gro, ...)\n", oc->r[i].name, dev);
			goto out;
		}
	}

	/*
	 * The lock and the state file of nic/apply (a kill -9 leaves `zcgen nic
	 * restore DEV`); the features are then toggled through the same handle.
	 */
	struct nic_apply_cfg cfg = {
		.ifname = dev, .combined = NIC_APPLY_CH_KEEP, .rx = NIC_APPLY_CH_KEEP,
		.tx = NIC_APPLY_CH_KEEP, .queues = 1, .force = o->force, .root = "",
		.keep_channels = true,
	};

	/*
	 * SIGINT/SIGTERM/SIGHUP noted from here, held over the apply so that it
	 * is not cut in half (gen/stopsig.h): the loop below then checks
	 * nothing, and everything is put back at out.
	 */
	stopsig_install(false);
	stopsig_hold(&held);
	ret = nic_apply(&cfg, false, &ao, &h);
	stopsig_release(&held);
	if (ret) {
		fprintf(stderr, "zcgen: offload-check: %s; nothing was changed\n", ao.err);
		nic_apply_out_free(&ao);
		goto out;
	}
	nic_apply_out_free(&ao);
	oc->h = h;

	if (nic_counters_open(&oc->qc))
		oc->qc = NULL;
	if (o->rx_nsfd >= 0 && rx_dir_make(oc))
		fprintf(stderr, "zcgen: offload-check: cannot make a directory for the receiver's "
			"files (%s): the runs go nowhere\n", strerror(errno));
	rep = (struct report_offload){
		.dev = dev, .mtu = oc->mtu, .dest = plan->dest_str,
		.rx_host = oc->rx ? o->rx_host : NULL, .proto = prof->proto, .mode = plan->mode,
		.size = plan->msg_size, .queues = plan->nq, .repeat = o->repeat,
		.duration_s = prof->duration_ns / 1e9, .r = oc->r,
	};
	report_offload_header(stdout, &rep);
	unsigned done = 0;

	for (unsigned i = 0; i < oc->n && !gen_stop; i++, done++) {
		check_one(oc, &oc->r[i]);
		if (gen_stop)
			break;
		report_offload_result(stdout, &oc->r[i]);
	}
	interrupted = gen_stop != 0;
	nic_counters_close(oc->qc);
	oc->qc = NULL;
	oc->h = NULL;
	if (nic_undo(h, err, sizeof(err))) {
		fprintf(stderr, "zcgen: offload-check: %s: could not put everything back: %s; run "
			"`zcgen nic restore %s`\n", dev, err, dev);
		restored = false;
	} else {
		printf("%s: every feature put back as it was\n", dev);
	}
	h = NULL;
	oc->n = done;
	rc = EXIT_OK;
	expect_offloads(&prof->expect, oc->r, oc->n, &ex);
	expect_print(stderr, &ex);
	rep.n = oc->n;
	if (o->json && write_json(o->json, &rep, restored, &ex))
		rc = EXIT_RUN_FAILED;
	if (interrupted) {
		fprintf(stderr, "zcgen: offload-check interrupted after %u of the offloads\n", done);
		rc = EXIT_RUN_FAILED;
	} else if (!restored) {
		rc = EXIT_RUN_FAILED;
	} else if (ex.n_missed) {
		rc = EXIT_EXPECT;
	}
out:
	stopsig_hold(&held);
	if (h && nic_undo(h, err, sizeof(err)))
		fprintf(stderr, "zcgen: offload-check: %s: could not put everything back: %s\n", dev, err);
	stopsig_release(&held);
	if (oc) {
		rx_dir_remove(oc);
		ethnl_features_free(&oc->fs0);
	}
	diags_free(&d);
	free(plan);
	free(oc);
	fflush(stdout); /* the --lab child ends with _exit() */
	return rc;
}

struct lab_work {
	struct gen_profile *prof;
	struct oc_opts *o;
	const char *dev;
};

/* In the lab runner's child, inside the lab: the check. */
static int lab_work(void *arg)
{
	struct lab_work *w = arg;

	return check_dev(w->prof, w->o, w->dev);
}

/* --lab: as `zcgen run --lab`: the lab up (or reused), the check in its sending namespace. */
static int check_lab(struct gen_profile *prof, const struct oc_opts *opts)
{
	struct oc_opts lo = *opts, *o = &lo;
	struct labrun lr;
	struct lab_info *li = &lr.info;
	struct lab_work w = { .prof = prof, .o = o };
	struct lab_fit fit;
	char nspath[PATH_MAX];
	int status = 0, rc, ret;

	if (!labrun_fit(prof, false, &fit))
		labrun_fit_say(&fit);
	labrun_init(&lr, "zcgen", EXIT_USAGE);
	lr.says = (struct labrun_says){ .stop_who = "zcgen: offload-check",
					.not_done = "nothing was changed", .none_left = true,
					.no_words = "cannot build the lab" };
	lr.cfg.queues = prof->queues;
	/* without --dest, each run has a verifying sink of its own: the lab's is not needed */
	lr.cfg.sink = false;
	ret = labrun_up(&lr);
	if (ret < 0)
		return gen_stop ? EXIT_RUN_FAILED : EXIT_USAGE;
	if (ret == LABRUN_STOPPED) {
		rc = EXIT_RUN_FAILED;
		goto out_down;
	}
	printf("lab: %s %s -> %s %s, %u queues%s\n", li->tx_netns, li->tx_dev, li->rx_netns, li->rx_ipv4,
	       li->queues, li->reused ? ", reused" : "");
	if (!o->dest) {
		snprintf(prof->host, sizeof(prof->host), "%s", li->rx_ipv4);
		snprintf(o->rx_host, sizeof(o->rx_host), "%s", li->rx_ipv4);
		prof->port = 0; /* each run's sink picks a free port */
		snprintf(nspath, sizeof(nspath), "/run/netns/%s", li->rx_netns);
		o->rx_nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
		if (o->rx_nsfd < 0) {
			fprintf(stderr, "zcgen: lab: %s: %s\n", nspath, strerror(errno));
			rc = EXIT_USAGE;
			goto out_down;
		}
	}
	prof->server = GEN_SERVER_NONE;
	w.dev = o->dev ? o->dev : li->tx_dev;
	ret = labrun_run(&lr, lab_work, &w, &status);
	if (ret) {
		fprintf(stderr, "zcgen: offload-check: cannot start the check in the lab: %s\n",
			strerror(-ret));
		rc = EXIT_RUN_FAILED;
		goto out_down;
	}
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_RUN_FAILED;
out_down:
	if (o->rx_nsfd >= 0)
		close(o->rx_nsfd);
	labrun_down(&lr);
	return rc;
}

enum { OC_PROFILE = 1000, OC_JSON, OC_OFFLOADS, OC_REPEAT, OC_LAB, OC_FORCE, OC_HELP, OC_KEY };

/* The profile keys offload-check takes as options (cmd_key_options()), set in this order. */
static const char *const oc_keys[] = { "dest", "duration", "queues", "size", "mode", "protocol", NULL };
#define N_OC_KEYS (sizeof(oc_keys) / sizeof(oc_keys[0]) - 1)

/* offload-check's own options; cmd_key_options() adds oc_keys' after them */
static const struct option oc_own[] = {
	{ "profile", required_argument, NULL, OC_PROFILE },
	{ "json", required_argument, NULL, OC_JSON },
	{ "offloads", required_argument, NULL, OC_OFFLOADS },
	{ "repeat", required_argument, NULL, OC_REPEAT },
	{ "lab", no_argument, NULL, OC_LAB },
	{ "force", no_argument, NULL, OC_FORCE },
	{ "help", no_argument, NULL, OC_HELP },
	{ "version", no_argument, NULL, 'v' },
};
#define N_OC_OWN (sizeof(oc_own) / sizeof(oc_own[0]))

int cmd_offload(int argc, char **argv)
{
	struct option lo[N_OC_OWN + N_OC_KEYS + 1];
	const char *ov[N_OC_KEYS] = { NULL }; /* by oc_keys: the last value given for each */
	struct oc_opts o = { .repeat = 2, .rx_nsfd = -1 };
	struct gen_profile *prof = NULL;
	struct gen_diags d = { 0 };
	const char *key;
	uint64_t rep;
	char dur[64];
	int c, rc = EXIT_USAGE;

	memcpy(lo, oc_own, sizeof(oc_own));
	if (cmd_key_options("zcgen offload-check", lo, N_OC_OWN, oc_keys, OC_KEY) < 0)
		return EXIT_RUN_FAILED;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hv", lo, NULL)) != -1) {
		switch (c) {
		case OC_PROFILE: o.profile = optarg; break;
		case OC_JSON: o.json = optarg; break;
		case OC_OFFLOADS: o.offloads = optarg; break;
		case OC_LAB: o.lab = true; break;
		case OC_FORCE: o.force = true; break;
		case 'h':
		case OC_HELP: fputs(oc_usage, stdout); return EXIT_OK;
		case 'v': return cmd_version();
		case OC_REPEAT:
			if (units_uint(optarg, 1, OC_MAX_REPEAT, &rep)) {
				fprintf(stderr, "--repeat: '%s' is out of range; expected an integer from 1 "
					"to %d\n", optarg, OC_MAX_REPEAT);
				return EXIT_USAGE;
			}
			o.repeat = (unsigned)rep;
			break;
		default:
			if ((key = cmd_key_option(c, OC_KEY))) {
				for (size_t i = 0; i < N_OC_KEYS; i++)
					if (!strcmp(key, oc_keys[i]))
						ov[i] = optarg;
				break;
			}
			return cmd_bad_option("zcgen offload-check", lo, argc, argv);
		}
	}
	if (optind < argc)
		o.dev = argv[optind++];
	o.dest = ov[0] != NULL;
	if (optind < argc) {
		fprintf(stderr, "zcgen: offload-check: unexpected argument '%s'\n%s", argv[optind], oc_usage);
		return EXIT_USAGE;
	}
	if (!o.profile && !ov[0] && !o.lab) {
		fprintf(stderr, "zcgen: offload-check: a profile (--profile FILE), --dest or --lab is "
			"needed\n%s", oc_usage);
		return EXIT_USAGE;
	}
	if (!cmd_output_check("zcgen: offload-check", "json", o.json))
		return EXIT_USAGE;
	prof = calloc(1, sizeof(*prof));
	if (!prof) {
		fprintf(stderr, "zcgen: out of memory\n");
		return EXIT_RUN_FAILED;
	}
	profile_init(prof);
	if (o.profile)
		profile_load(prof, o.profile, &d);
	/* short runs: one interval each, no warm-up */
	snprintf(dur, sizeof(dur), "%s", ov[1] ? ov[1] : "2s");
	ov[1] = dur;
	prof->omit_ns = 0;
	for (size_t i = 0; i < N_OC_KEYS; i++)
		if (ov[i])
			profile_set(prof, oc_keys[i], ov[i], &d);
	if (!diags_errors(&d))
		profile_set(prof, "interval", dur, &d);
	diags_print(&d, stderr);
	if (diags_errors(&d)) {
		fprintf(stderr, "zcgen: offload-check: errors above; nothing was changed\n");
		goto out;
	}
	if (prof->nic.present)
		printf("offload-check: the profile's nic: section is not applied (only the offloads "
		       "under test change)\n");
	if (o.lab) {
		rc = check_lab(prof, &o);
		goto out;
	}
	if (!o.dev && prof->nic.present && prof->nic.interface[0])
		o.dev = prof->nic.interface;
	if (!o.dev) {
		fprintf(stderr, "zcgen: offload-check: name the sending interface (DEV, or nic.interface "
			"in the profile)\n");
		goto out;
	}
	rc = check_dev(prof, &o, o.dev);
out:
	diags_free(&d);
	free(prof);
	return rc;
}
