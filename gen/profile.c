/*
 * profile.c - the profile's keys: what each means and accepts, from a YAML file (read by
 * gen/yamltree.c) or the command line, through one key table; then the checks across keys
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <yaml.h>
#include "gen/gen.h"
#include "gen/profile.h"
#include "gen/expect.h"
#include "gen/yamltree.h"
#include "zcgen_version.h"

/*
 * A profile is a handful of lines (the shipped ones are under 2 KiB); a
 * file 30 times that is not one, whatever it is.
 */
#define PROFILE_MAX_BYTES (64u << 10)

/* Words of keys that are no enum of their own. */
static const char *const auto_none_words[] = { "auto", "none", NULL };

/* A time for a message, in the largest unit that divides it: "100ms", "1h". */
static const char *fmt_ns(uint64_t ns, char *buf, size_t len)
{
	static const struct { uint64_t ns; const char *u; } t[] = {
		{ 3600000000000ull, "h" }, { 60000000000ull, "m" }, { 1000000000ull, "s" },
		{ 1000000ull, "ms" }, { 1000ull, "us" }, { 1, "ns" },
	};

	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (ns % t[i].ns == 0 || t[i].ns == 1) {
			if (ns == 0)
				snprintf(buf, len, "0s");
			else
				snprintf(buf, len, "%llu%s", (unsigned long long)(ns / t[i].ns), t[i].u);
			break;
		}
	}
	return buf;
}

/* -------------------------------------------------------------- key table */

enum ktype {
	KT_MAP,       /* a section: target:, nic:, nic.channels: */
	KT_STR,
	KT_IFNAME,
	KT_UINT,
	KT_SIZE,
	KT_TIME,
	KT_ENUM,
	KT_CPUS,
	KT_HOSTPORT,  /* --dest only */
	KT_OFFLOADS,  /* nic.offloads: name -> on/off */
	KT_RATE,      /* line, 500M, 3Mpps; .min 1: not 0, line allowed; .keys: or a mapping */
	KT_STEPS,     /* rate.steps: a list of {rate, for} */
	KT_SIZES,     /* sizes: datagram size -> weight */
	KT_BOOL,
	KT_EXPECT,    /* expect.*: parsed and described by gen/expect.c */
	KT_ADDRS,     /* source.address: numeric addresses, comma-separated or a list */
	KT_PORTS,     /* source.ports, target.ports: LO-HI or one port */
	KT_FLEET,     /* fleet: read by gen/fleet.c under mpirun; here its place only */
};

union kval {
	uint64_t u;
	const char *s;
	int e;
	struct { const unsigned *v; unsigned n; } cpus;
	struct { const char *host; uint16_t port; } hp;
	struct { double v; bool pps, line; } rate;
	bool b;
	struct { char (*v)[48]; unsigned n; } addrs;
	struct { uint16_t lo, hi; } ports;
};

struct pkey {
	const char *path;          /* key path in a file; NULL: command line only */
	const char *cli;           /* name for profile_set, and zcgen run's --NAME (profile_option());
				      NULL: file only */
	bool no_option;            /* .cli is profile_set's alone (a fleet's parts): no --NAME on a run */
	enum ktype type;
	uint64_t min, max;         /* UINT, SIZE, TIME: range; STR: max length */
	const char *const *words;  /* ENUM */
	const char *keys;          /* MAP: the keys it holds, for messages */
	bool nullable;             /* a written null means "not given" (the JSON report writes it) */
	void (*set)(struct gen_profile *p, const union kval *v);
};

static void set_name(struct gen_profile *p, const union kval *v) { snprintf(p->name, sizeof(p->name), "%s", v->s); }
static void set_host(struct gen_profile *p, const union kval *v) { snprintf(p->host, sizeof(p->host), "%s", v->s); }
static void set_port(struct gen_profile *p, const union kval *v) { p->port = (uint16_t)v->u; }
static void set_server(struct gen_profile *p, const union kval *v) { p->server = (enum gen_server)v->e; }
static void set_dst_ports(struct gen_profile *p, const union kval *v)
{
	p->dport_lo = v->ports.lo;
	p->dport_hi = v->ports.hi;
}
static void set_dest(struct gen_profile *p, const union kval *v)
{
	snprintf(p->host, sizeof(p->host), "%s", v->hp.host);
	p->port = v->hp.port;
}
static void set_proto(struct gen_profile *p, const union kval *v) { p->proto = (enum gen_proto)v->e; }
static void set_queues(struct gen_profile *p, const union kval *v) { p->queues = (unsigned)v->u; }
static void set_cpus(struct gen_profile *p, const union kval *v)
{
	memcpy(p->cpus, v->cpus.v, v->cpus.n * sizeof(p->cpus[0]));
	p->n_cpus = v->cpus.n;
}
static void set_streams(struct gen_profile *p, const union kval *v) { p->streams = (unsigned)v->u; }
static void set_size(struct gen_profile *p, const union kval *v) { p->size = v->u; p->size_set = true; }
static void set_mode(struct gen_profile *p, const union kval *v) { p->mode = (enum gen_mode)v->e; }
static void set_depth(struct gen_profile *p, const union kval *v)
{
	p->depth = (unsigned)v->u;
	p->depth_set = true;
}
static void set_duration(struct gen_profile *p, const union kval *v) { p->duration_ns = v->u; }
static void set_omit(struct gen_profile *p, const union kval *v) { p->omit_ns = v->u; }
static void set_interval(struct gen_profile *p, const union kval *v) { p->interval_ns = v->u; }
static void set_stall_timeout(struct gen_profile *p, const union kval *v) { p->stall_timeout_ns = v->u; }
static void set_nic(struct gen_profile *p, const union kval *v) { p->nic.present = true; }
static void set_ifname(struct gen_profile *p, const union kval *v)
{
	snprintf(p->nic.interface, sizeof(p->nic.interface), "%s", v->s);
}
static void set_combined(struct gen_profile *p, const union kval *v) { p->nic.combined = (int)v->u; }
static void set_rx(struct gen_profile *p, const union kval *v) { p->nic.rx = (int)v->u; }
static void set_tx(struct gen_profile *p, const union kval *v) { p->nic.tx = (int)v->u; }
static void set_irq(struct gen_profile *p, const union kval *v) { p->nic.irq_affinity_auto = v->e == 0; }
static void set_xps(struct gen_profile *p, const union kval *v) { p->nic.xps_auto = v->e == 0; }
static void rate_update(struct gen_rate *r) { r->set = (r->value_given && !r->line) || r->n_steps; }
static void set_rate_value(struct gen_profile *p, const union kval *v)
{
	p->rate.value_given = true;
	p->rate.line = v->rate.line;
	p->rate.value = v->rate.line ? 0 : v->rate.v;
	p->rate.pps = v->rate.pps;
	rate_update(&p->rate);
}
/* A plain rate: (or --rate) is the whole target: no ramp, no steps; per, layer, burst stay. */
static void set_rate(struct gen_profile *p, const union kval *v)
{
	p->rate.ramp_keys = 0;
	p->rate.ramp_ns = 0;
	p->rate.n_steps = 0;
	p->rate.steps_pps = p->rate.steps_bps = false;
	set_rate_value(p, v);
}
static void set_rate_per(struct gen_profile *p, const union kval *v) { p->rate.per = (enum pacer_per)v->e; }
static void set_rate_layer(struct gen_profile *p, const union kval *v) { p->rate.layer = (enum pacer_layer)v->e; }
static void set_ramp_from(struct gen_profile *p, const union kval *v)
{
	p->rate.ramp_from = v->rate.v;
	p->rate.ramp_from_pps = v->rate.pps && v->rate.v > 0;
	p->rate.ramp_keys |= 1;
}
static void set_ramp_over(struct gen_profile *p, const union kval *v) { p->rate.ramp_ns = v->u; p->rate.ramp_keys |= 2; }
static void set_burst(struct gen_profile *p, const union kval *v) { p->rate.burst = (unsigned)v->u; }
static void set_tcp_pacing(struct gen_profile *p, const union kval *v) { p->rate.tcp_pacing = v->b; }
static void set_gso(struct gen_profile *p, const union kval *v) { p->gso_segments = (unsigned)v->u; }
static void set_expect(struct gen_profile *p, const union kval *v) { p->expect.present = true; }
static void set_mtu(struct gen_profile *p, const union kval *v) { p->nic.mtu = (unsigned)v->u; }
static void set_src_addrs(struct gen_profile *p, const union kval *v)
{
	memcpy(p->source.addr, v->addrs.v, v->addrs.n * sizeof(p->source.addr[0]));
	p->source.n_addr = v->addrs.n;
}
static void set_src_device(struct gen_profile *p, const union kval *v)
{
	snprintf(p->source.device, sizeof(p->source.device), "%s", v->s);
}
static void set_src_ports(struct gen_profile *p, const union kval *v)
{
	p->source.port_lo = v->ports.lo;
	p->source.port_hi = v->ports.hi;
}
static void set_congestion(struct gen_profile *p, const union kval *v)
{
	snprintf(p->congestion, sizeof(p->congestion), "%s", v->s);
}
static void set_dscp(struct gen_profile *p, const union kval *v) { p->dscp = (int)v->u; }
static void set_tos(struct gen_profile *p, const union kval *v) { p->tos = (int)v->u; }
static void set_hugepages(struct gen_profile *p, const union kval *v) { p->hugepages = (enum gen_hugepages)v->e; }

#define SEC_NS 1000000000ull
#define GIB (1ull << 30)

/*
 * Every key a profile or the command line can set. The loader walks a file's
 * mappings against .path; profile_set looks up .cli (or .path): both end in
 * key_apply(), so a unit or a range is checked in one place only. A key with
 * a .cli name is also an option of zcgen run (profile_option()): a new one
 * needs only its line in cmd_run.c's --help text and in docs/zcgen.1.scd
 * (unit_profile and t_package check both).
 */
static const struct pkey keys[] = {
	{ .path = "name", .cli = "name", .no_option = true, .type = KT_STR, .max = 127, .set = set_name },
	{ .path = "target", .type = KT_MAP, .keys = "host, port, server, ports" },
	{ .path = "target.host", .type = KT_STR, .max = 255, .set = set_host },
	{ .path = "target.port", .type = KT_UINT, .min = 1, .max = 65535, .set = set_port },
	{ .path = "target.server", .cli = "server", .type = KT_ENUM, .words = gen_server_words,
	  .set = set_server },
	{ .cli = "dest", .type = KT_HOSTPORT, .set = set_dest },
	{ .path = "protocol", .cli = "protocol", .type = KT_ENUM, .words = gen_proto_words,
	  .set = set_proto },
	{ .path = "queues", .cli = "queues", .type = KT_UINT, .min = 1, .max = GEN_MAX_QUEUES,
	  .set = set_queues },
	{ .path = "cpus", .cli = "cpus", .type = KT_CPUS, .nullable = true, .set = set_cpus },
	{ .path = "streams", .cli = "streams", .type = KT_UINT, .min = 1, .max = GEN_MAX_STREAMS,
	  .set = set_streams },
	{ .path = "size", .cli = "size", .type = KT_SIZE, .min = 1, .max = GIB, .nullable = true,
	  .set = set_size },
	{ .path = "mode", .cli = "mode", .type = KT_ENUM, .words = gen_mode_words, .set = set_mode },
	{ .path = "depth", .cli = "depth", .type = KT_UINT, .min = 1, .max = 1024, .set = set_depth },
	{ .path = "duration", .cli = "duration", .type = KT_TIME, .min = 1, .max = UINT64_MAX,
	  .set = set_duration },
	{ .path = "omit", .cli = "omit", .type = KT_TIME, .min = 0, .max = UINT64_MAX,
	  .set = set_omit },
	{ .path = "interval", .cli = "interval", .type = KT_TIME, .min = SEC_NS / 10,
	  .max = 3600 * SEC_NS, .set = set_interval },
	/* 0 turns it off; below 100 ms a healthy path's round trip could look like a stall */
	{ .path = "stall_timeout", .cli = "stall-timeout", .type = KT_TIME, .min = 0,
	  .max = 3600 * SEC_NS, .set = set_stall_timeout },
	/* the same in seconds, as a JSON report's environment.profile writes them (docs/json.md) */
	{ .path = "duration_s", .type = KT_TIME, .min = 1, .max = UINT64_MAX, .set = set_duration },
	{ .path = "omit_s", .type = KT_TIME, .min = 0, .max = UINT64_MAX, .set = set_omit },
	{ .path = "interval_s", .type = KT_TIME, .min = SEC_NS / 10, .max = 3600 * SEC_NS,
	  .set = set_interval },
	{ .path = "stall_timeout_s", .type = KT_TIME, .min = 0, .max = 3600 * SEC_NS,
	  .set = set_stall_timeout },
	{ .path = "nic", .type = KT_MAP, .nullable = true, .keys = "interface, channels, offloads, irq_affinity, xps, mtu",
	  .set = set_nic },
	{ .path = "nic.mtu", .type = KT_UINT, .min = 68, .max = 65535, .set = set_mtu },
	{ .path = "nic.interface", .type = KT_IFNAME, .max = IF_NAMESIZE - 1, .set = set_ifname },
	{ .path = "nic.channels", .type = KT_MAP, .keys = "combined, or rx and tx" },
	{ .path = "nic.channels.combined", .type = KT_UINT, .min = 1, .max = 4096,
	  .set = set_combined },
	{ .path = "nic.channels.rx", .type = KT_UINT, .min = 1, .max = 4096, .set = set_rx },
	{ .path = "nic.channels.tx", .type = KT_UINT, .min = 1, .max = 4096, .set = set_tx },
	{ .path = "nic.offloads", .type = KT_OFFLOADS },
	{ .path = "nic.irq_affinity", .type = KT_ENUM, .words = auto_none_words, .set = set_irq },
	{ .path = "nic.xps", .type = KT_ENUM, .words = auto_none_words, .set = set_xps },
	{ .path = "rate", .cli = "rate", .type = KT_RATE, .min = 1, .set = set_rate,
	  .keys = "value, per, layer, ramp, steps, burst, tcp_pacing" },
	{ .path = "rate.value", .type = KT_RATE, .min = 1, .set = set_rate_value },
	{ .path = "rate.per", .type = KT_ENUM, .words = gen_rate_per_words, .set = set_rate_per },
	{ .path = "rate.layer", .type = KT_ENUM, .words = gen_rate_layer_words, .set = set_rate_layer },
	{ .path = "rate.ramp", .type = KT_MAP, .keys = "from, over" },
	{ .path = "rate.ramp.from", .type = KT_RATE, .min = 0, .set = set_ramp_from },
	{ .path = "rate.ramp.over", .type = KT_TIME, .min = 1, .max = UINT64_MAX, .set = set_ramp_over },
	{ .path = "rate.steps", .type = KT_STEPS },
	{ .path = "rate.burst", .type = KT_UINT, .min = 1, .max = 65536, .set = set_burst },
	{ .path = "rate.tcp_pacing", .type = KT_BOOL, .set = set_tcp_pacing },
	{ .path = "sizes", .type = KT_SIZES },
	{ .path = "udp", .type = KT_MAP, .keys = "gso_segments" },
	{ .path = "udp.gso_segments", .cli = "gso", .type = KT_UINT, .min = 1, .max = 64,
	  .set = set_gso },
	{ .path = "source", .type = KT_MAP, .keys = "address, device, ports" },
	{ .path = "source.address", .cli = "source", .type = KT_ADDRS, .set = set_src_addrs },
	{ .path = "source.device", .cli = "source-device", .type = KT_IFNAME, .max = IF_NAMESIZE - 1,
	  .set = set_src_device },
	{ .path = "source.ports", .cli = "source-ports", .type = KT_PORTS, .set = set_src_ports },
	/* here, not under target: --help-style key lists name it beside --source-ports */
	{ .path = "target.ports", .cli = "dest-ports", .type = KT_PORTS, .set = set_dst_ports },
	{ .path = "tcp", .type = KT_MAP, .keys = "congestion" },
	{ .path = "tcp.congestion", .cli = "congestion", .type = KT_STR, .max = 15,
	  .set = set_congestion },
	{ .path = "dscp", .cli = "dscp", .type = KT_UINT, .min = 0, .max = 63, .set = set_dscp },
	{ .path = "tos", .cli = "tos", .type = KT_UINT, .min = 0, .max = 255, .set = set_tos },
	{ .path = "buffers", .type = KT_MAP, .keys = "hugepages" },
	{ .path = "buffers.hugepages", .cli = "hugepages", .type = KT_ENUM,
	  .words = gen_hugepages_words, .set = set_hugepages },
	/* the expect keys come from gen/expect.h's list: "min_gbps_total, min_gbps_per_queue, ..." */
#define EXPECT_NAME(name, kind) ", " #name
	{ .path = "expect", .type = KT_MAP, .keys = EXPECT_KEYS(EXPECT_NAME) + 2, .set = set_expect },
#undef EXPECT_NAME
	{ .path = "fleet", .type = KT_FLEET },
#define EXPECT_ROW(name, kind) { .path = "expect." #name, .type = KT_EXPECT },
	EXPECT_KEYS(EXPECT_ROW)
#undef EXPECT_ROW
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))
_Static_assert(N_KEYS <= GEN_MAX_KEYS, "raise GEN_MAX_KEYS (gen/gen.h) to the key table's size");

static const struct pkey *key_by_path(const char *path)
{
	for (unsigned i = 0; i < N_KEYS; i++)
		if (keys[i].path && !strcmp(keys[i].path, path))
			return &keys[i];
	return NULL;
}

/* What a key accepts, for messages: "an integer from 1 to 256". */
static const char *key_expect(const struct pkey *e, char *buf, size_t len)
{
	char a[32], b[32], c[80];
	size_t o;

	switch (e->type) {
	case KT_MAP:
		snprintf(buf, len, "a mapping with the keys %s", e->keys);
		break;
	case KT_STR:
		snprintf(buf, len, "a string of at most %llu characters", (unsigned long long)e->max);
		break;
	case KT_IFNAME:
		snprintf(buf, len, "an interface name of 1 to %llu characters, without '/', ':' or spaces",
			 (unsigned long long)e->max);
		break;
	case KT_UINT:
		snprintf(buf, len, "an integer from %llu to %llu", (unsigned long long)e->min,
			 (unsigned long long)e->max);
		break;
	case KT_SIZE:
		snprintf(buf, len, "a size in bytes from %s to %s, with an optional binary suffix (1472, 64K, 1M)",
			 units_fmt_size(e->min, a, sizeof(a)), units_fmt_size(e->max, b, sizeof(b)));
		break;
	case KT_TIME:
		if (e->min <= 1 && e->max == UINT64_MAX)
			snprintf(c, sizeof(c), e->min ? "greater than 0" : "0 or more");
		else
			snprintf(c, sizeof(c), "from %s to %s", fmt_ns(e->min, a, sizeof(a)),
				 fmt_ns(e->max, b, sizeof(b)));
		snprintf(buf, len, "a time %s, such as 10s, 500ms or 2m (a bare number is seconds)", c);
		break;
	case KT_ENUM:
		o = (size_t)snprintf(buf, len, "one of");
		for (unsigned i = 0; e->words[i] && o < len; i++)
			o += (size_t)snprintf(buf + o, len - o, "%s %s", i ? "," : "", e->words[i]);
		break;
	case KT_CPUS:
		snprintf(buf, len, "a CPU list such as 0-7, 0,2,4 or [0, 2, 4]");
		break;
	case KT_HOSTPORT:
		snprintf(buf, len, "HOST:PORT, such as 192.0.2.2:5201 or [2001:db8::2]:5201");
		break;
	case KT_OFFLOADS:
		snprintf(buf, len, "a mapping of feature names to on or off (tso: on)");
		break;
	case KT_RATE:
		snprintf(buf, len, "%sa bit rate (500M, 40G) or a packet rate (3Mpps, UDP only)%s%s%s",
			 e->min ? "line, " : "", e->min ? "" : ", 0 allowed",
			 e->keys ? "; or a mapping with the keys " : "", e->keys ? e->keys : "");
		break;
	case KT_STEPS:
		snprintf(buf, len, "a list of steps such as [{rate: 1G, for: 10s}, {rate: 5G, for: 10s}]");
		break;
	case KT_SIZES:
		snprintf(buf, len, "a mapping of datagram sizes to weights, such as {64: 7, 576: 4, 1500: 1}");
		break;
	case KT_FLEET:
		snprintf(buf, len, "a mapping with ranks:, hosts: or template: (docs/fleet.md)");
		break;
	case KT_BOOL:
		snprintf(buf, len, "on or off (true, false, yes, no)");
		break;
	case KT_EXPECT:
		expect_key_describe(e->path, buf, len);
		break;
	case KT_ADDRS:
		snprintf(buf, len, "an IPv4 or IPv6 address, or a list of them (one per queue in turn), "
			 "such as 192.0.2.1 or [192.0.2.1, 192.0.2.2]");
		break;
	case KT_PORTS:
		snprintf(buf, len, "a port range LO-HI such as 40000-40063 (or one port), 1 to 65535");
		break;
	}
	return buf;
}

static bool bool_word(const char *s, bool *on)
{
	static const char *const t[] = { "on", "true", "yes", NULL }, *const f[] = { "off", "false", "no", NULL };

	if (names_index(t, s) >= 0)
		*on = true;
	else if (names_index(f, s) >= 0)
		*on = false;
	else
		return false;
	return true;
}

/* "line", a bit rate ("500M": bit/s) or a packet rate ("3Mpps"). Finite, at most 10^15. */
static int rate_parse(const char *s, union kval *v)
{
	if (!strcasecmp(s, "line")) {
		v->rate.line = true;
		return 0;
	}
	if (units_rate_bps(s, &v->rate.v)) {
		if (units_rate_pps(s, &v->rate.v))
			return -EINVAL;
		v->rate.pps = true;
	}
	return v->rate.v > 1e15 ? -ERANGE : 0;
}

/* "LO-HI" or "N": ports 1..65535, LO <= HI. */
static int ports_parse(const char *s, uint16_t *lo, uint16_t *hi)
{
	char a[16], *dash;
	uint64_t l, h;

	if (strlen(s) >= sizeof(a))
		return -EINVAL;
	snprintf(a, sizeof(a), "%s", s);
	dash = strchr(a, '-');
	if (dash)
		*dash = '\0';
	if (units_uint(a, 1, 65535, &l) || units_uint(dash ? dash + 1 : a, 1, 65535, &h))
		return -EINVAL;
	if (l > h)
		return -ERANGE;
	*lo = (uint16_t)l;
	*hi = (uint16_t)h;
	return 0;
}

/* source.address: "A", "A,B,..." (the CLI) or a YAML list joined the same way. */
static int addrs_apply(struct gen_profile *p, const struct pkey *e, const char *s, const char *want,
		       char *msg, size_t len)
{
	char (*v)[48] = calloc(GEN_MAX_SOURCE_ADDRS, sizeof(*v));
	char *copy = strdup(s), *tok, *save = NULL;
	unsigned n = 0;
	int r = 0;

	if (!v || !copy) {
		r = -ENOMEM;
		goto out;
	}
	for (tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		unsigned char bin[16];

		if (n == GEN_MAX_SOURCE_ADDRS) {
			snprintf(msg, len, "more than %d source addresses", GEN_MAX_SOURCE_ADDRS);
			r = -EINVAL;
			goto out;
		}
		if (strlen(tok) >= sizeof(v[0]) || (inet_pton(AF_INET, tok, bin) != 1 &&
						     inet_pton(AF_INET6, tok, bin) != 1)) {
			snprintf(msg, len, "'%.60s' is not a numeric IPv4 or IPv6 address; expected %s",
				 tok, want);
			r = -EINVAL;
			goto out;
		}
		snprintf(v[n++], sizeof(v[0]), "%s", tok);
	}
	if (!n) {
		snprintf(msg, len, "missing value; expected %s", want);
		r = -EINVAL;
		goto out;
	}
	{
		union kval kv = { .addrs = { v, n } };

		e->set(p, &kv);
	}
out:
	free(copy);
	free(v);
	return r;
}

/*
 * Parse @s for key @e and store it in @p. The one place where a value from
 * a file or the command line is checked. Return: 0, or -EINVAL with @msg
 * saying what was wrong and what is accepted.
 */
static int key_apply(struct gen_profile *p, const struct pkey *e, const char *s, char *msg, size_t len)
{
	unsigned cpus[GEN_MAX_CPUS];
	char host[sizeof(p->host)], want[200];
	union kval v = { 0 };
	const char *noun = "a valid value";
	int r = 0;

	key_expect(e, want, sizeof(want));
	if (!*s) {
		snprintf(msg, len, "missing value; expected %s", want);
		return -EINVAL;
	}
	switch (e->type) {
	case KT_STR:
	case KT_IFNAME:
		if (strlen(s) > e->max) {
			snprintf(msg, len, "'%.40s...' is too long (%zu characters); expected %s", s,
				 strlen(s), want);
			return -EINVAL;
		}
		if (e->type == KT_IFNAME && (strpbrk(s, "/: \t") || !strcmp(s, ".") || !strcmp(s, ".."))) {
			snprintf(msg, len, "'%s' is not an interface name; expected %s", s, want);
			return -EINVAL;
		}
		v.s = s;
		break;
	case KT_UINT:
		noun = "an integer";
		r = units_uint(s, e->min, e->max, &v.u);
		break;
	case KT_SIZE:
		noun = "a size";
		r = units_size(s, &v.u);
		if (!r && (v.u < e->min || v.u > e->max))
			r = -ERANGE;
		break;
	case KT_TIME:
		noun = "a time";
		r = units_time_ns(s, &v.u);
		if (!r && (v.u < e->min || v.u > e->max))
			r = -ERANGE;
		break;
	case KT_ENUM:
		v.e = names_index(e->words, s);
		r = v.e < 0 ? -EINVAL : 0;
		break;
	case KT_CPUS:
		noun = "a CPU list";
		r = units_cpulist(s, cpus, GEN_MAX_CPUS, &v.cpus.n);
		if (r == -ERANGE) {
			snprintf(msg, len, "'%.60s' names more than %d CPUs or a CPU above 65535", s, GEN_MAX_CPUS);
			return -EINVAL;
		}
		if (!r && !v.cpus.n)
			r = -EINVAL;
		v.cpus.v = cpus;
		break;
	case KT_HOSTPORT:
		noun = "HOST:PORT";
		r = units_hostport(s, host, sizeof(host), &v.hp.port);
		if (!r && !v.hp.port)
			r = -ERANGE;
		v.hp.host = host;
		break;
	case KT_RATE: {
		struct pkey plain = *e;

		/* a scalar's message leaves the mapping form out (it is no help on --rate) */
		plain.keys = NULL;
		key_expect(&plain, want, sizeof(want));
		noun = "a rate";
		r = rate_parse(s, &v);
		if (!r && v.rate.line && !e->min) {
			snprintf(msg, len, "line is not a rate here; expected %s", want);
			return -EINVAL;
		}
		if (!r && e->min && !v.rate.line && v.rate.v == 0) {
			snprintf(msg, len, "0 is not a rate; for no limit write line");
			return -EINVAL;
		}
		break;
	}
	case KT_BOOL:
		r = bool_word(s, &v.b) ? 0 : -EINVAL;
		noun = "on or off";
		break;
	case KT_STEPS:
	case KT_SIZES:
	case KT_MAP:
	case KT_OFFLOADS:
	case KT_FLEET:
		snprintf(msg, len, "cannot be given as a single value; expected %s", want);
		return -EINVAL;
	case KT_EXPECT:
		return expect_key_set(&p->expect, e->path, s, false, msg, len) ? -EINVAL : 0;
	case KT_ADDRS:
		return addrs_apply(p, e, s, want, msg, len);
	case KT_PORTS:
		noun = "a port range";
		r = ports_parse(s, &v.ports.lo, &v.ports.hi);
		break;
	}
	if (r == -ERANGE) {
		snprintf(msg, len, "'%.60s' is out of range; expected %s", s, want);
		return -EINVAL;
	}
	if (r) {
		if (e->type == KT_ENUM)
			snprintf(msg, len, "'%.60s' is not accepted; expected %s", s, want);
		else
			snprintf(msg, len, "'%.60s' is not %s; expected %s", s, noun, want);
		return -EINVAL;
	}
	if (e->set)
		e->set(p, &v);
	return 0;
}

/* --------------------------------------- YAML: a file's tree against the key table */

/* A file's tree (gen/yamltree.h) walked against the key table into a profile. */
struct yload {
	struct gen_profile *p;
	struct diags_file at;       /* the file's problems; at.err: -ENOMEM seen */
	struct ytree t;
};

/* Edit distance, for "did you mean": keys and option names are short. */
unsigned profile_edit_distance(const char *a, const char *b)
{
	unsigned row[65], la = (unsigned)strnlen(a, 64), lb = (unsigned)strnlen(b, 64);

	for (unsigned j = 0; j <= lb; j++)
		row[j] = j;
	for (unsigned i = 1; i <= la; i++) {
		unsigned diag = row[0];

		row[0] = i;
		for (unsigned j = 1; j <= lb; j++) {
			unsigned up = row[j], best = diag + (tolower((unsigned char)a[i - 1]) !=
							     tolower((unsigned char)b[j - 1]));

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* Is @path a direct child of @prefix ("" for the top level)? Then its last part. */
static const char *child_of(const char *path, const char *prefix)
{
	size_t pl = strlen(prefix);

	if (!path)
		return NULL;
	if (!pl)
		return strchr(path, '.') ? NULL : path;
	if (strncmp(path, prefix, pl) || path[pl] != '.' || strchr(path + pl + 1, '.'))
		return NULL;
	return path + pl + 1;
}

static void yunknown(struct yload *y, const struct ynode *k, const char *prefix, const char *path)
{
	const char *best = NULL, *elsewhere = NULL;
	unsigned bestd = UINT_MAX;
	char valid[200] = "";
	size_t o = 0;

	for (unsigned i = 0; i < N_KEYS; i++) {
		const char *leaf = child_of(keys[i].path, prefix), *dot;
		unsigned dist;

		if (!leaf) {
			dot = keys[i].path ? strrchr(keys[i].path, '.') : NULL;
			if (dot && !strcmp(dot + 1, k->val) && !elsewhere)
				elsewhere = keys[i].path;
			else if (keys[i].path && !dot && !strcmp(keys[i].path, k->val) && !elsewhere)
				elsewhere = keys[i].path;
			continue;
		}
		if (o < sizeof(valid))
			o += (size_t)snprintf(valid + o, sizeof(valid) - o, "%s%s", o ? ", " : "", leaf);
		dist = profile_edit_distance(k->val, leaf);
		if (dist < bestd) {
			bestd = dist;
			best = leaf;
		}
	}
	/* the very name in another section beats a near name here ("host" is not "tos") */
	if (elsewhere && bestd)
		diags_at(&y->at, k->line, k->col, path, "unknown key '%.60s' here; did you mean "
			 "'%s' (it belongs in a section)?", k->val, elsewhere);
	else if (best && bestd <= 2 && bestd < strlen(k->val))
		diags_at(&y->at, k->line, k->col, path, "unknown key '%.60s'; did you mean '%s'?",
			 k->val, best);
	else
		diags_at(&y->at, k->line, k->col, path, "unknown key '%.60s'; valid keys here: %s",
			 k->val, valid);
}

/* Checks common to every key of a mapping: plain, given once. */
static bool ykey_ok(struct yload *y, const struct ynode *map, unsigned i, const char *prefix)
{
	const struct ynode *k = &y->t.nodes[map->items[i]], *first;

	if (k->type != YAML_SCALAR_NODE) {
		diags_at(&y->at, k->line, k->col, prefix, "a key must be a plain word, not %s",
			 ynode_kind(k));
		return false;
	}
	first = ytree_dup(&y->t, map, i);
	if (first) {
		char path[128];

		ytree_path_join(path, sizeof(path), prefix, k->val);
		diags_at(&y->at, k->line, k->col, path, "duplicate key '%.60s' (first given at "
			 "line %d, column %d); give each key once", k->val, first->line,
			 first->col);
		return false;
	}
	return true;
}

static void ywrong_type(struct yload *y, const struct pkey *e, const struct ynode *v, const char *path)
{
	char want[200];

	key_expect(e, want, sizeof(want));
	if (v->type == YAML_SCALAR_NODE && v->null)
		diags_at(&y->at, v->line, v->col, path, "missing value; expected %s", want);
	else if (v->type == YAML_SCALAR_NODE)
		diags_at(&y->at, v->line, v->col, path, "expected %s, got the value '%.60s'", want,
			 v->val);
	else
		diags_at(&y->at, v->line, v->col, path, "expected %s, got %s", want, ynode_kind(v));
}

static void yscalar(struct yload *y, const struct pkey *e, const struct ynode *v, const char *path)
{
	char msg[sizeof(((struct gen_diag *)0)->msg)];

	if (v->type != YAML_SCALAR_NODE || v->null) {
		ywrong_type(y, e, v, path);
		return;
	}
	if (key_apply(y->p, e, v->val, msg, sizeof(msg)))
		diags_at(&y->at, v->line, v->col, path, "%s", msg);
}

/* cpus: as one scalar ("0-7") or a YAML sequence of numbers or ranges ([0, 2, 4-5]). */
static void ycpus(struct yload *y, const struct pkey *e, const struct ynode *v, const char *path)
{
	unsigned cpus[GEN_MAX_CPUS], n = 0;
	char want[100];
	union kval kv;
	bool bad = false;

	if (v->type != YAML_SEQUENCE_NODE) {
		yscalar(y, e, v, path);
		return;
	}
	key_expect(e, want, sizeof(want));
	if (!v->n) {
		diags_at(&y->at, v->line, v->col, path, "empty list; expected %s", want);
		return;
	}
	for (unsigned i = 0; i < v->n; i++) {
		const struct ynode *it = &y->t.nodes[v->items[i]];
		unsigned k = 0;
		int r;

		if (it->type != YAML_SCALAR_NODE || it->null) {
			diags_at(&y->at, it->line, it->col, path, "expected a CPU number or range "
				 "(4, 0-3), got %s", it->null ? "an empty value" : ynode_kind(it));
			bad = true;
			continue;
		}
		r = units_cpulist(it->val, cpus + n, GEN_MAX_CPUS - n, &k);
		if (r == -ERANGE) {
			diags_at(&y->at, it->line, it->col, path, "the list names more than %d "
				 "CPUs or a CPU above 65535", GEN_MAX_CPUS);
			return;
		}
		if (r || !k) {
			diags_at(&y->at, it->line, it->col, path, "'%.60s' is not a CPU number or "
				 "range; expected %s", it->val, want);
			bad = true;
			continue;
		}
		n += k;
	}
	if (bad)
		return;
	kv.cpus.v = cpus;
	kv.cpus.n = n;
	e->set(y->p, &kv);
}

static void yoffloads(struct yload *y, const struct pkey *e, const struct ynode *v, const char *path)
{
	struct gen_nic_cfg *nic = &y->p->nic;

	if (v->type != YAML_MAPPING_NODE) {
		ywrong_type(y, e, v, path);
		return;
	}
	for (unsigned i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *k = &y->t.nodes[v->items[i]], *val = &y->t.nodes[v->items[i + 1]];
		char kpath[128];
		size_t kl;
		bool on;

		if (!ykey_ok(y, v, i, path))
			continue;
		ytree_path_join(kpath, sizeof(kpath), path, k->val);
		kl = strlen(k->val);
		if (!kl || kl >= sizeof(nic->offloads[0].name) ||
		    strspn(k->val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != kl) {
			diags_at(&y->at, k->line, k->col, kpath, "'%.60s' is not a feature name; "
				 "expected an ethtool name such as tso, gso, sg or "
				 "tx-tcp-segmentation", k->val);
			continue;
		}
		if (val->type != YAML_SCALAR_NODE || val->null || !bool_word(val->val, &on)) {
			diags_at(&y->at, val->line, val->col, kpath,
				 "expected on or off, got %s%.60s%s",
				 val->type == YAML_SCALAR_NODE && !val->null ? "'" : "",
				 val->type != YAML_SCALAR_NODE ? ynode_kind(val) :
				 val->null ? "an empty value" : val->val,
				 val->type == YAML_SCALAR_NODE && !val->null ? "'" : "");
			continue;
		}
		if (nic->n_offloads == GEN_MAX_OFFLOADS) {
			diags_at(&y->at, k->line, k->col, kpath, "more than %d offloads",
				 GEN_MAX_OFFLOADS);
			return;
		}
		snprintf(nic->offloads[nic->n_offloads].name, sizeof(nic->offloads[0].name), "%s", k->val);
		nic->offloads[nic->n_offloads++].on = on;
	}
}

/* expect.offloads_effective may be a YAML list; every other expect key is a scalar. */
static void yexpect(struct yload *y, const struct pkey *e, const struct ynode *v, const char *path)
{
	char msg[sizeof(((struct gen_diag *)0)->msg)];

	if (v->type != YAML_SEQUENCE_NODE || strcmp(e->path, "expect.offloads_effective")) {
		yscalar(y, e, v, path);
		return;
	}
	y->p->expect.n_offloads_effective = 0;
	for (unsigned i = 0; i < v->n; i++) {
		const struct ynode *it = &y->t.nodes[v->items[i]];

		if (it->type != YAML_SCALAR_NODE || it->null)
			diags_at(&y->at, it->line, it->col, path, "expected an offload name, got "
				 "%s", it->null ? "an empty value" : ynode_kind(it));
		else if (expect_key_set(&y->p->expect, e->path, it->val, true, msg, sizeof(msg)))
			diags_at(&y->at, it->line, it->col, path, "%s", msg);
	}
}

static void ymap(struct yload *y, const struct ynode *map, const char *prefix);

/* rate: a plain rate, or a mapping of rate.* keys */
static void yrate(struct yload *y, const struct pkey *e, const struct ynode *v, const char *path)
{
	if (v->type == YAML_MAPPING_NODE && e->keys) {
		y->p->rate.given = true;
		ymap(y, v, path);
		return;
	}
	yscalar(y, e, v, path);
}

/* A scalar of a list item: NULL with a message when it is something else. */
static const char *yitem_scalar(struct yload *y, const struct ynode *v, const char *path,
				unsigned step, const char *what)
{
	if (v->type == YAML_SCALAR_NODE && !v->null)
		return v->val;
	diags_at(&y->at, v->line, v->col, path, "step %u: expected %s, got %s", step, what,
		 v->type == YAML_SCALAR_NODE ? "an empty value" : ynode_kind(v));
	return NULL;
}

/* One {rate: RATE, for: TIME} of rate.steps (1-based @step, for messages). */
static bool ystep(struct yload *y, const struct ynode *it, const char *path, unsigned step,
		  struct pacer_step *st, bool *pps)
{
	const struct pkey *re = key_by_path("rate.ramp.from");     /* a rate, 0 allowed */
	const struct ynode *rv = NULL, *fv = NULL;
	char want[200];
	const char *s;
	union kval kv = { 0 };
	bool ok = true;

	if (it->type != YAML_MAPPING_NODE) {
		diags_at(&y->at, it->line, it->col, path, "step %u: expected a mapping {rate: "
			 "RATE, for: TIME}, got %s", step,
			 it->type == YAML_SCALAR_NODE ? "a value" : ynode_kind(it));
		return false;
	}
	for (unsigned i = 0; i + 1 < it->n; i += 2) {
		const struct ynode *k = &y->t.nodes[it->items[i]];

		if (!ykey_ok(y, it, i, path)) {
			ok = false;
		} else if (!strcmp(k->val, "rate")) {
			rv = &y->t.nodes[it->items[i + 1]];
		} else if (!strcmp(k->val, "for")) {
			fv = &y->t.nodes[it->items[i + 1]];
		} else {
			diags_at(&y->at, k->line, k->col, path, "step %u: unknown key '%.60s'; a "
				 "step has rate and for", step, k->val);
			ok = false;
		}
	}
	if (!ok)
		return false;
	if (!rv || !fv) {
		diags_at(&y->at, it->line, it->col, path, "step %u: missing %s; a step is {rate: "
			 "RATE, for: TIME}", step, !rv ? "rate" : "for");
		return false;
	}
	key_expect(re, want, sizeof(want));
	s = yitem_scalar(y, rv, path, step, "a rate");
	if (!s)
		return false;
	if (rate_parse(s, &kv) || kv.rate.line) {
		diags_at(&y->at, rv->line, rv->col, path, "step %u: '%.60s' is not a rate; "
			 "expected %s%s", step, s, want, kv.rate.line ? " (no line in steps)" : "");
		return false;
	}
	st->rate = kv.rate.v;
	*pps = kv.rate.pps;
	s = yitem_scalar(y, fv, path, step, "a time");
	if (!s)
		return false;
	if (units_time_ns(s, &st->for_ns) || !st->for_ns) {
		diags_at(&y->at, fv->line, fv->col, path, "step %u: '%.60s' is not a time greater "
			 "than 0, such as 10s or 500ms", step, s);
		return false;
	}
	return true;
}

static void ysteps(struct yload *y, const struct pkey *e, const struct ynode *v, const char *path)
{
	struct pacer_step st[GEN_MAX_RATE_STEPS];
	struct gen_rate *r = &y->p->rate;
	bool ok = true, pps_seen = false, bps_seen = false;

	if (v->type != YAML_SEQUENCE_NODE) {
		ywrong_type(y, e, v, path);
		return;
	}
	if (!v->n || v->n > GEN_MAX_RATE_STEPS) {
		diags_at(&y->at, v->line, v->col, path, "%u steps; give 1 to %d", v->n,
			 GEN_MAX_RATE_STEPS);
		return;
	}
	for (unsigned i = 0; i < v->n; i++) {
		bool pps = false;

		if (!ystep(y, &y->t.nodes[v->items[i]], path, i + 1, &st[i], &pps)) {
			ok = false;
			continue;
		}
		/* a pause (0) has no unit of its own */
		pps_seen |= pps && st[i].rate > 0;
		bps_seen |= !pps && st[i].rate > 0;
	}
	if (!ok)
		return;
	memcpy(r->steps, st, v->n * sizeof(st[0]));
	r->n_steps = v->n;
	r->steps_pps = pps_seen;
	r->steps_bps = bps_seen;
	rate_update(r);
}

/* sizes: {64: 7, 576: 4, 1500: 1}: datagram size (as size:) -> weight */
static void ysizes(struct yload *y, const struct pkey *e, const struct ynode *v, const char *path)
{
	struct imix_entry mix[GEN_MAX_SIZES];
	unsigned n = 0;
	bool ok = true;

	if (v->type != YAML_MAPPING_NODE || v->n < 2) {
		ywrong_type(y, e, v, path);
		return;
	}
	for (unsigned i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *k = &y->t.nodes[v->items[i]], *w = &y->t.nodes[v->items[i + 1]];
		uint64_t size, weight;
		char kpath[128];

		if (!ykey_ok(y, v, i, path)) {
			ok = false;
			continue;
		}
		ytree_path_join(kpath, sizeof(kpath), path, k->val);
		if (units_size(k->val, &size) || size < GEN_UDP_HDR_LEN || size > 65507) {
			diags_at(&y->at, k->line, k->col, kpath, "'%.60s' is not a datagram size; "
				 "expected %u to 65507 bytes (the UDP payload, as size:)", k->val,
				 GEN_UDP_HDR_LEN);
			ok = false;
			continue;
		}
		for (unsigned j = 0; j < n; j++) {
			if (mix[j].size == size) {
				diags_at(&y->at, k->line, k->col, kpath, "size %llu given twice; "
					 "give each size once", (unsigned long long)size);
				ok = false;
			}
		}
		if (w->type != YAML_SCALAR_NODE || w->null ||
		    units_uint(w->val, 1, IMIX_MAX_WEIGHT, &weight)) {
			diags_at(&y->at, w->line, w->col, kpath, "expected a weight, an integer "
				 "from 1 to %u, got %s%.60s%s", IMIX_MAX_WEIGHT,
				 w->type == YAML_SCALAR_NODE && !w->null ? "'" : "",
				 w->type != YAML_SCALAR_NODE ? ynode_kind(w) :
				 w->null ? "an empty value" : w->val,
				 w->type == YAML_SCALAR_NODE && !w->null ? "'" : "");
			ok = false;
			continue;
		}
		if (n == GEN_MAX_SIZES) {
			diags_at(&y->at, k->line, k->col, kpath, "more than %d sizes",
				 GEN_MAX_SIZES);
			return;
		}
		mix[n++] = (struct imix_entry){ (uint32_t)size, (uint32_t)weight };
	}
	if (!ok)
		return;
	memcpy(y->p->sizes, mix, n * sizeof(mix[0]));
	y->p->n_sizes = n;
}

/* source.address: one scalar, or a list of them (joined with commas, then checked as one). */
static void yaddrs(struct yload *y, const struct pkey *e, const struct ynode *v, const char *path)
{
	char msg[sizeof(((struct gen_diag *)0)->msg)], want[200];
	char *all;
	size_t o = 0, cap = 1;

	if (v->type != YAML_SEQUENCE_NODE) {
		yscalar(y, e, v, path);
		return;
	}
	key_expect(e, want, sizeof(want));
	for (unsigned i = 0; i < v->n; i++) {
		const struct ynode *it = &y->t.nodes[v->items[i]];

		if (it->type != YAML_SCALAR_NODE || it->null || strpbrk(it->val, ", ")) {
			diags_at(&y->at, it->line, it->col, path, "expected one address per list "
				 "item; expected %s", want);
			return;
		}
		cap += strlen(it->val) + 1;
	}
	all = calloc(1, cap);
	if (!all) {
		y->at.err = -ENOMEM;
		return;
	}
	for (unsigned i = 0; i < v->n; i++)
		o += (size_t)snprintf(all + o, cap - o, "%s%s", i ? "," : "", y->t.nodes[v->items[i]].val);
	if (key_apply(y->p, e, all, msg, sizeof(msg)))
		diags_at(&y->at, v->line, v->col, path, "%s", msg);
	free(all);
}

/*
 * fleet: (docs/fleet.md) is read by gen/fleet.c once mpirun started the
 * ranks; here only its place is noted, and a zcgen built without MPI
 * refuses it rather than running one host's part as if it were the fleet.
 */
static void yfleet(struct yload *y, const struct pkey *e, const struct ynode *v, const char *path)
{
	if (v->type != YAML_MAPPING_NODE) {
		ywrong_type(y, e, v, path);
		return;
	}
#ifdef ZCGEN_HAVE_MPI
	y->p->fleet_line = v->line;
	y->p->fleet_col = v->col;
#else
	diags_at(&y->at, v->line, v->col, path, "this zcgen was built without MPI, and a fleet "
		 "runs on Open MPI: install libopenmpi-dev and build with cmake -DZCGEN_MPI=ON "
		 "(docs/fleet.md)");
#endif
}

static void yvalue(struct yload *y, const struct pkey *e, const struct ynode *v, const char *path)
{
	switch (e->type) {
	case KT_MAP:
		if (v->type != YAML_MAPPING_NODE) {
			ywrong_type(y, e, v, path);
			return;
		}
		if (e->set)
			e->set(y->p, NULL);
		ymap(y, v, path);
		break;
	case KT_OFFLOADS:
		yoffloads(y, e, v, path);
		break;
	case KT_CPUS:
		ycpus(y, e, v, path);
		break;
	case KT_RATE:
		yrate(y, e, v, path);
		break;
	case KT_STEPS:
		ysteps(y, e, v, path);
		break;
	case KT_SIZES:
		ysizes(y, e, v, path);
		break;
	case KT_FLEET:
		yfleet(y, e, v, path);
		break;
	case KT_EXPECT:
		yexpect(y, e, v, path);
		break;
	case KT_ADDRS:
		yaddrs(y, e, v, path);
		break;
	default:
		yscalar(y, e, v, path);
		break;
	}
}

static void ymap(struct yload *y, const struct ynode *map, const char *prefix)
{
	/* an odd count is a key whose value a syntax error cut off: nothing to check */
	for (unsigned i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = &y->t.nodes[map->items[i]], *v = &y->t.nodes[map->items[i + 1]];
		const struct pkey *e, *f;
		char path[128];

		if (!ykey_ok(y, map, i, prefix))
			continue;
		/*
		 * A plain scalar runs on until the next line that ends it; when a
		 * syntax error cut the file there, it swallowed the next line
		 * ("4\n  streams: 2" reads as "4 streams"): report only the error.
		 */
		if (y->t.cut_line && v->type == YAML_SCALAR_NODE && v->end_line >= y->t.cut_line)
			continue;
		ytree_path_join(path, sizeof(path), prefix, k->val);
		e = key_by_path(path);
		if (!e) {
			yunknown(y, k, prefix, path);
			continue;
		}
		/* a list or mapping cut short: only a section is worth looking into */
		if (v->open && (v->type != YAML_MAPPING_NODE || (e->type != KT_MAP && e->type != KT_OFFLOADS)))
			continue;
		/* the word null (not an empty value) where the report writes it for "not given" */
		if (e->nullable && v->type == YAML_SCALAR_NODE && v->null && v->val[0])
			continue;
		/* an alias (duration_s) records its place under the key it stands for (duration) */
		for (f = e->set ? keys : e; f->set != e->set || f->type != e->type; f++)
			;
		y->p->pos[f - keys] = (struct gen_keypos){ .line = k->line, .col = k->col };
		yvalue(y, e, v, path);
	}
}

/* "a FIFO", "a directory": what a path is, when it is not a regular file. */
static const char *file_kind(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO (named pipe)";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/*
 * Read a profile whole. Only a regular file: a FIFO blocks until someone
 * writes to it, a device may never end or change state when opened (a tape
 * rewinds), so both are refused before they are opened (-EBADFD, *@mode
 * says what it is). -EFBIG when larger than PROFILE_MAX_BYTES, *@len its size.
 */
static int read_file(const char *path, char **buf, size_t *len, mode_t *mode)
{
	struct stat st;
	char *b;
	size_t n = 0;
	int fd, r = 0;

	if (stat(path, &st))
		return -errno;
	*mode = st.st_mode;
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	/* not blocking, in case it was swapped for a FIFO since the stat */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		r = -errno;
		goto out_fd;
	}
	*mode = st.st_mode;
	if (!S_ISREG(st.st_mode)) {
		r = -EBADFD;
		goto out_fd;
	}
	*len = (size_t)st.st_size;
	if (st.st_size > (off_t)PROFILE_MAX_BYTES) {
		r = -EFBIG;
		goto out_fd;
	}
	b = malloc(PROFILE_MAX_BYTES + 1);
	if (!b) {
		r = -ENOMEM;
		goto out_fd;
	}
	/* up to one byte more than allowed: a file that grew since the fstat is caught too */
	while (n < PROFILE_MAX_BYTES + 1) {
		ssize_t got = read(fd, b + n, PROFILE_MAX_BYTES + 1 - n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			goto out_buf;
		}
		if (!got)
			break;
		n += (size_t)got;
	}
	*len = n;
	if (n > PROFILE_MAX_BYTES) {
		r = -EFBIG;
		goto out_buf;
	}
	b[n] = '\0';
	*buf = b;
	goto out_fd;
out_buf:
	free(b);
out_fd:
	close(fd);
	return r;
}

void profile_init(struct gen_profile *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "unnamed");
	p->port = 5201;
	p->server = GEN_SERVER_NONE;
	p->proto = GEN_PROTO_TCP;
	p->queues = 1;
	p->n_cpus = 0;
	p->streams = 1;
	p->size = 64 * 1024;
	p->size_set = false;
	p->mode = GEN_MODE_AUTO;
	p->depth = GEN_DEPTH_UDP;
	p->depth_set = false;
	p->duration_ns = 10 * SEC_NS;
	p->omit_ns = 0;
	p->interval_ns = SEC_NS;
	p->stall_timeout_ns = 2 * SEC_NS;
	p->nic.present = false;
	p->nic.combined = p->nic.rx = p->nic.tx = -1;
	p->nic.irq_affinity_auto = true;
	p->nic.xps_auto = true;
	p->dscp = p->tos = -1;
	p->hugepages = GEN_HUGEPAGES_AUTO;
}

/*
 * An argument that names no file but has no '/' is looked for as an installed profile
 * (`--profile lab-tcp` or `lab-tcp.yaml`): first under the prefix of the running binary
 * (a package unpacked anywhere, e.g. with dpkg-deb -x), then under the configured data
 * directory. Returns @arg itself when it exists or nothing else is found.
 */
static const char *profile_resolve(const char *arg, char *buf, size_t len)
{
	static const char *const ext[] = { "", ".yaml", ".yml" };
	char exe[PATH_MAX], dirs[2][PATH_MAX];
	ssize_t n;

	if (access(arg, F_OK) == 0 || strchr(arg, '/') || !arg[0])
		return arg;
	dirs[0][0] = '\0';
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		/* PREFIX/bin/zcgen -> PREFIX/share/zcgen/profiles */
		for (int up = 0; up < 2 && (slash = strrchr(exe, '/')); up++)
			*slash = '\0';
		if (exe[0] && snprintf(dirs[0], sizeof(dirs[0]), "%s/%s", exe,
				       ZCGEN_PROFILE_RELDIR) >= (int)sizeof(dirs[0]))
			dirs[0][0] = '\0';
	}
	snprintf(dirs[1], sizeof(dirs[1]), "%s", ZCGEN_PROFILE_DIR);
	for (unsigned i = 0; i < 2; i++)
		for (unsigned e = 0; e < sizeof(ext) / sizeof(ext[0]); e++) {
			if (!dirs[i][0])
				continue;
			if (snprintf(buf, len, "%s/%s%s", dirs[i], arg, ext[e]) >= (int)len)
				continue;
			if (access(buf, R_OK) == 0)
				return buf;
		}
	return arg;
}

int profile_load(struct gen_profile *p, const char *path, struct gen_diags *d)
{
	char found[PATH_MAX];

	path = profile_resolve(path, found, sizeof(found));

	struct yload y = { .p = p, .at = { .d = d, .file = path } };
	unsigned errors = diags_errors(d), first = d->n;
	const struct ynode *root;
	char *raw = NULL;
	size_t len = 0;
	mode_t mode = 0;
	int r, r2 = 0;

	r = read_file(path, &raw, &len, &mode);
	if (r == -EBADFD)
		r2 = diags_add(d, path, 0, 0, "", false, false, "cannot read the profile: it is %s, not a "
			       "regular file; %s", file_kind(mode), S_ISDIR(mode) ?
			       "give the profile's file in it" : "write the profile to a file and give that");
	else if (r == -EFBIG)
		r2 = diags_add(d, path, 0, 0, "", false, false, "cannot read the profile: it is %zu bytes, "
			       "and a profile is at most %u KiB (the shipped ones are under 2 KiB): is it "
			       "the right file?", len, PROFILE_MAX_BYTES >> 10);
	else if (r)
		r2 = diags_add(d, path, 0, 0, "", false, false, "cannot read the profile: %s",
			       strerror(-r));
	if (r2)
		return -ENOMEM;
	if (r)
		return r;
	snprintf(p->path, sizeof(p->path), "%s", path);
	r = ytree_parse(&y.t, path, raw, len, d);
	if (r)
		goto out;
	root = y.t.root >= 0 ? &y.t.nodes[y.t.root] : NULL;
	if (!root || (root->type == YAML_SCALAR_NODE && root->null)) {
		/* a syntax error on the first line leaves no root either; that error says enough */
		if (diags_errors(d) == errors)
			diags_at(&y.at, 1, 1, "", "empty profile; expected a mapping of keys such "
				 "as target:, protocol:, queues: (see docs/profiles.md)");
	} else if (root->type != YAML_MAPPING_NODE) {
		diags_at(&y.at, root->line, root->col, "", "expected a mapping of keys such as "
			 "target:, protocol:, queues: at the top level, got %s", ynode_kind(root));
	} else {
		ymap(&y, root, "");
	}
	r = y.at.err;
	diags_sort(d, first);
out:
	free(raw);
	ytree_free(&y.t);
	if (r)
		return r;
	return diags_errors(d) > errors ? -EINVAL : 0;
}

/* -------------------------------------------------------------- overrides */

int profile_set(struct gen_profile *p, const char *key, const char *value, struct gen_diags *d)
{
	const struct pkey *e = NULL;
	char msg[sizeof(((struct gen_diag *)0)->msg)];

	for (unsigned i = 0; i < N_KEYS && !e; i++)
		if (keys[i].cli && !strcmp(keys[i].cli, key))
			e = &keys[i];
	if (!e)
		e = key_by_path(key);
	if (!e) {
		char list[200];
		size_t o = 0;

		for (unsigned i = 0; i < N_KEYS; i++)
			if (keys[i].cli && o < sizeof(list))
				o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", o ? ", " : "", keys[i].cli);
		diags_add(d, "", 0, 0, key, true, false, "not a key that can be set from the command line; "
			  "expected one of %s, or a key path of the profile (nic.xps)", list);
		return -EINVAL;
	}
	if (e->type == KT_MAP || e->type == KT_OFFLOADS) {
		diags_add(d, "", 0, 0, key, true, false, "a section cannot be set from the command line; "
			  "set its keys one by one (%s.KEY)", e->path);
		return -EINVAL;
	}
	if (key_apply(p, e, value ? value : "", msg, sizeof(msg))) {
		diags_add(d, "", 0, 0, key, true, false, "%s", msg);
		return -EINVAL;
	}
	/* later checks across keys name the option, not a line of the file it overrode */
	p->pos[e - keys] = (struct gen_keypos){ .opt = e->cli ? e->cli : e->path };
	if (e->type == KT_HOSTPORT) {
		p->pos[key_by_path("target.host") - keys] = p->pos[e - keys];
		p->pos[key_by_path("target.port") - keys] = p->pos[e - keys];
	}
	return 0;
}

const char *profile_option(unsigned i)
{
	for (unsigned k = 0; k < N_KEYS; k++)
		if (keys[k].cli && !keys[k].no_option && !i--)
			return keys[k].cli;
	return NULL;
}

/* ------------------------------------------------------------- validation */

/* Where key @path was set last: NULL for a key that is not in the table. */
static const struct gen_keypos *key_pos(const struct gen_profile *p, const char *path)
{
	const struct pkey *e = key_by_path(path);

	return e ? &p->pos[e - keys] : NULL;
}

/*
 * "set at FILE:LINE:COL", "set by --tos" or "the default": where a second
 * key named in a message came from.
 */
static const char *key_where(const struct gen_profile *p, const char *path, char *buf, size_t len)
{
	const struct gen_keypos *w = key_pos(p, path);

	if (w && w->opt)
		snprintf(buf, len, "set by --%s", w->opt);
	else if (w && w->line > 0)
		snprintf(buf, len, "set at %s:%d:%d", p->path, w->line, w->col);
	else
		snprintf(buf, len, "the default");
	return buf;
}

/*
 * One problem found across keys, told where key @at was set: at its
 * FILE:LINE:COL, as "--OPT:" when an option set it last, else without a
 * place. @key is the key the message is about (a missing nic.interface is
 * told at its nic: section).
 */
__attribute__((format(printf, 6, 7)))
static void vdiag_at(struct gen_diags *d, const struct gen_profile *p, bool warning, const char *at,
		     const char *key, const char *fmt, ...)
{
	const struct gen_keypos *w = key_pos(p, at);
	char msg[sizeof(((struct gen_diag *)0)->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (w && w->opt)
		diags_add(d, "", 0, 0, w->opt, true, warning, "%s", msg);
	else if (w && w->line > 0)
		diags_add(d, p->path, w->line, w->col, key, false, warning, "%s", msg);
	else
		diags_add(d, "", 0, 0, key, false, warning, "%s", msg);
}

#define vdiag(d, p, warning, key, ...) vdiag_at(d, p, warning, key, key, __VA_ARGS__)

/* The CPUs this process may run on, in increasing order. */
static int allowed_cpus(unsigned *cpus, unsigned max, unsigned *n)
{
	cpu_set_t *set = NULL;
	size_t size = 0;
	int ncpu = 1024, r = 0;

	for (;;) {
		set = CPU_ALLOC(ncpu);
		if (!set)
			return -ENOMEM;
		size = CPU_ALLOC_SIZE(ncpu);
		if (!sched_getaffinity(0, size, set))
			break;
		r = -errno;
		CPU_FREE(set);
		/* EINVAL: the kernel's mask is larger than ours */
		if (r != -EINVAL || ncpu >= (1 << 20))
			return r;
		ncpu *= 2;
		r = 0;
	}
	*n = 0;
	for (int c = 0; c < ncpu && *n < max; c++)
		if (CPU_ISSET_S(c, size, set))
			cpus[(*n)++] = (unsigned)c;
	CPU_FREE(set);
	return 0;
}

static bool cpu_in(const unsigned *cpus, unsigned n, unsigned c)
{
	for (unsigned i = 0; i < n; i++)
		if (cpus[i] == c)
			return true;
	return false;
}

/* rate: and sizes: across their keys and the protocol */
static void rate_validate(const struct gen_profile *p, struct gen_diags *d)
{
	const struct gen_rate *r = &p->rate;
	char where[sizeof(p->path) + 64];
	bool value = r->value_given && !r->line;

	if (r->given && !r->value_given && !r->n_steps)
		vdiag(d, p, false, "rate", "a rate: mapping needs value (and optionally a ramp) or steps");
	if (r->n_steps && r->value_given)
		vdiag(d, p, false, "rate.steps", "give value (with an optional ramp) or steps, not both");
	if (r->ramp_keys && r->ramp_keys != 3)
		vdiag(d, p, false, "rate.ramp", "a ramp needs both from and over: ramp: {from: 0, over: 10s}");
	else if (r->ramp_keys && r->n_steps)
		vdiag(d, p, false, "rate.ramp", "a ramp goes to value; with steps, give each rate as a step");
	else if (r->ramp_keys && !value)
		vdiag(d, p, false, "rate.ramp", "a ramp needs a target: give rate.value (not line)");
	else if (r->ramp_keys && r->ramp_from > 0 && r->ramp_from_pps != r->pps)
		vdiag(d, p, false, "rate.ramp.from", "ramp.from is a %s rate but value is a %s rate; give "
		      "both in the same unit", r->ramp_from_pps ? "packet" : "bit", r->pps ? "packet" : "bit");
	if (r->steps_pps && r->steps_bps)
		vdiag(d, p, false, "rate.steps", "some steps are packet rates and some bit rates; give all "
		      "in the same unit");
	if (p->proto == GEN_PROTO_TCP && r->set &&
	    ((value && r->pps) || r->steps_pps || (r->ramp_keys && r->ramp_from_pps)))
		vdiag(d, p, false, "rate", "TCP takes a bit rate only (500M, 40G): a TCP send is a byte "
		      "stream that the kernel cuts into segments, so its packets per second cannot be set");
	if (r->tcp_pacing && p->proto != GEN_PROTO_TCP)
		vdiag(d, p, false, "rate.tcp_pacing", "SO_MAX_PACING_RATE is set on TCP sockets only; UDP "
		      "sends are spaced by zcgen's own pacer");
	else if (r->tcp_pacing && !r->set)
		vdiag(d, p, false, "rate.tcp_pacing", "needs a rate to pace at: give rate.value");
	if (r->set && r->layer != PACER_LAYER_PAYLOAD &&
	    ((value && r->pps) || (r->n_steps && r->steps_pps)))
		vdiag(d, p, true, "rate.layer", "a packet rate counts frames: the layer does not change it");
	if (p->n_sizes && p->proto != GEN_PROTO_UDP)
		vdiag(d, p, false, "sizes", "a size mix is for UDP datagrams; TCP sends a byte stream: "
		      "use size");
	else if (p->n_sizes && p->size_set)
		vdiag(d, p, false, "sizes", "give size or sizes, not both");
	if (p->gso_segments > 1 && p->proto != GEN_PROTO_UDP)
		vdiag(d, p, false, "udp.gso_segments", "UDP GSO (UDP_SEGMENT) is for UDP; TCP segments "
		      "by itself (TSO/GSO): drop --gso or use protocol: udp; protocol is %s (%s)",
		      gen_proto_name(p->proto), key_where(p, "protocol", where, sizeof(where)));
	else if (p->gso_segments > 1 && p->n_sizes)
		vdiag(d, p, false, "udp.gso_segments", "one GSO send cuts datagrams of one size: use "
		      "size with gso_segments, or sizes without it");
}

/* source:, tcp:, dscp/tos across keys; what the host has is checked when the run is planned */
static void source_validate(const struct gen_profile *p, struct gen_diags *d)
{
	const struct gen_source *s = &p->source;
	char where[sizeof(p->path) + 64];
	unsigned long long nports = s->port_lo ? (unsigned long long)s->port_hi - s->port_lo + 1 : 0;
	unsigned long long nstreams = (unsigned long long)p->queues * p->streams;
	unsigned long long ndports = p->dport_lo ? (unsigned long long)p->dport_hi - p->dport_lo + 1 : 0;

	if (p->dscp >= 0 && p->tos >= 0) {
		/* at the one given last: an option, else the later line */
		const struct gen_keypos *dp = key_pos(p, "dscp"), *tp = key_pos(p, "tos");
		bool at_tos = tp->opt ? true : dp->opt ? false :
			      tp->line > dp->line || (tp->line == dp->line && tp->col > dp->col);

		vdiag(d, p, false, at_tos ? "tos" : "dscp", "give dscp or tos, not both (dscp N is tos "
		      "N << 2); %s is given too (%s)", at_tos ? "dscp" : "tos",
		      key_where(p, at_tos ? "dscp" : "tos", where, sizeof(where)));
	}
	for (unsigned i = 1; i < s->n_addr; i++)
		if (!strchr(s->addr[i], ':') != !strchr(s->addr[0], ':'))
			vdiag(d, p, false, "source.address", "%s and %s are of different families; give "
			      "addresses of the target's family only", s->addr[0], s->addr[i]);
	if (s->n_addr > p->queues)
		vdiag(d, p, true, "source.address", "%u addresses for %u queue%s: the last %u are not "
		      "used", s->n_addr, p->queues, p->queues == 1 ? "" : "s", s->n_addr - p->queues);
	if (nports && nports / p->queues < p->streams)
		vdiag(d, p, false, "source.ports", "%u-%u is %llu port%s for %u queue%s x %u stream%s: "
		      "each queue takes an equal block and each stream its own port, so at least "
		      "%llu are needed", s->port_lo, s->port_hi, nports, nports == 1 ? "" : "s",
		      p->queues, p->queues == 1 ? "" : "s", p->streams, p->streams == 1 ? "" : "s",
		      nstreams);
	if (p->dport_lo && p->server != GEN_SERVER_NONE)
		vdiag(d, p, false, "target.ports", "%u-%u: a destination port range needs server none; "
		      "the iperf3 control protocol (server %s) has one port for all streams: give "
		      "target.port (--dest HOST:PORT) only, or --server none", p->dport_lo,
		      p->dport_hi, gen_server_name(p->server));
	else if (p->dport_lo && ndports / p->queues < p->streams)
		vdiag(d, p, false, "target.ports", "%u-%u is %llu port%s for %u queue%s x %u stream%s: "
		      "each queue takes an equal block and each stream its own port, so at least "
		      "%llu are needed", p->dport_lo, p->dport_hi, ndports, ndports == 1 ? "" : "s",
		      p->queues, p->queues == 1 ? "" : "s", p->streams, p->streams == 1 ? "" : "s",
		      nstreams);
	if (p->congestion[0] && p->proto != GEN_PROTO_TCP)
		vdiag(d, p, false, "tcp.congestion", "congestion control is TCP's; this run is %s",
		      gen_proto_name(p->proto));
	else if (p->congestion[0] &&
		 strspn(p->congestion, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(p->congestion))
		vdiag(d, p, false, "tcp.congestion", "'%s' is not an algorithm name such as cubic, reno "
		      "or bbr", p->congestion);
}

/* RFC 5737 / RFC 3849: addresses no real host has. */
static bool documentation_address(const char *h)
{
	return !strncmp(h, "192.0.2.", 8) || !strncmp(h, "198.51.100.", 11) ||
	       !strncmp(h, "203.0.113.", 10) || !strncasecmp(h, "2001:db8:", 9);
}

int profile_validate(struct gen_profile *p, struct gen_diags *d)
{
	unsigned errors = diags_errors(d);
	unsigned allowed[GEN_MAX_CPUS], n_allowed = 0, bad[GEN_MAX_CPUS], n_bad = 0;
	char a[64], b[64], list[256], list2[256], where[sizeof(p->path) + 64];
	struct rlimit rl;
	int r;

	/* target */
	if (!p->host[0])
		vdiag(d, p, false, "target.host", "no target host; give target.host in the profile or "
		      "--dest HOST:PORT");
	else if (p->host[0] == '[')
		vdiag(d, p, false, "target.host", "'%s': write an IPv6 address without brackets here "
		      "(brackets are for --dest [::1]:5201)", p->host);
	else if (strpbrk(p->host, " \t/"))
		vdiag(d, p, false, "target.host", "'%s' is not a host name or address", p->host);
	else if (documentation_address(p->host))
		vdiag(d, p, true, "target.host", "%s is a documentation address (RFC 5737/3849) that no "
		      "real host has; change target.host or use --dest HOST:PORT", p->host);

	/* CPUs: what sched_getaffinity allows (taskset, cgroup cpuset) */
	r = allowed_cpus(allowed, GEN_MAX_CPUS, &n_allowed);
	if (r) {
		vdiag(d, p, false, "cpus", "cannot read the CPUs this process may use: %s", strerror(-r));
	} else if (!p->n_cpus) {
		memcpy(p->cpus, allowed, n_allowed * sizeof(p->cpus[0]));
		p->n_cpus = n_allowed;
	} else {
		for (unsigned i = 0; i < p->n_cpus; i++)
			if (!cpu_in(allowed, n_allowed, p->cpus[i]) && !cpu_in(bad, n_bad, p->cpus[i]))
				bad[n_bad++] = p->cpus[i];
		if (n_bad) {
			vdiag(d, p, false, "cpus", "CPU%s %s %s not available to this process; it may use "
			      "%s (sched_getaffinity: taskset or cgroup cpuset)", n_bad > 1 ? "s" : "",
			      units_fmt_cpulist(bad, n_bad, list, sizeof(list)), n_bad > 1 ? "are" : "is",
			      units_fmt_cpulist(allowed, n_allowed, list2, sizeof(list2)));
			/* this host's lack, not the profile's mistake (diag_add keeps line order) */
			for (unsigned i = d->n; i-- > 0;)
				if (!strcmp(d->v[i].key, "cpus") && strstr(d->v[i].msg, "not available to")) {
					d->v[i].host = true;
					break;
				}
		}
	}
	if (p->n_cpus && p->queues > p->n_cpus)
		vdiag(d, p, true, "queues", "%u queues on %u CPU%s (%s): queue i runs on the (i mod %u)-th "
		      "CPU, so queues share CPUs", p->queues, p->n_cpus, p->n_cpus > 1 ? "s" : "",
		      units_fmt_cpulist(p->cpus, p->n_cpus, list, sizeof(list)), p->n_cpus);

	/* times */
	if (p->omit_ns >= p->duration_ns)
		vdiag(d, p, false, "omit", "omit (%s) must be shorter than duration (%s): nothing would be "
		      "counted (duration: %s)", fmt_ns(p->omit_ns, a, sizeof(a)),
		      fmt_ns(p->duration_ns, b, sizeof(b)), key_where(p, "duration", where, sizeof(where)));
	else if (p->interval_ns > p->duration_ns)
		vdiag(d, p, true, "interval", "interval (%s) is longer than duration (%s): no interval "
		      "lines", fmt_ns(p->interval_ns, a, sizeof(a)), fmt_ns(p->duration_ns, b, sizeof(b)));
	/* the rings look for progress every timeout / 8, at least 10 ms apart */
	if (p->stall_timeout_ns && p->stall_timeout_ns < SEC_NS / 10)
		vdiag(d, p, false, "stall_timeout", "stall_timeout (%s) must be 0 (off) or at least 100ms: "
		      "a shorter one takes a slow round trip for a dead path",
		      fmt_ns(p->stall_timeout_ns, a, sizeof(a)));

	/* a datagram holds at most 65535 - 20 (IPv4) - 8 (UDP) bytes, our header included */
	if (p->proto == GEN_PROTO_UDP && p->size_set &&
	    (p->size < GEN_UDP_HDR_LEN || p->size > 65507))
		vdiag(d, p, false, "size", "%llu bytes do not fit a UDP datagram with zcgen's %u-byte "
		      "header; expected %u to 65507", (unsigned long long)p->size, GEN_UDP_HDR_LEN,
		      GEN_UDP_HDR_LEN);

	rate_validate(p, d);
	source_validate(p, d);

	/* nic: */
	if (p->nic.present) {
		int txch = p->nic.combined >= 0 ? p->nic.combined : p->nic.tx;

		if (!p->nic.interface[0])
			vdiag_at(d, p, false, "nic", "nic.interface", "missing; a nic: section names the "
				 "interface whose channels, offloads, IRQs and XPS are set");
		if (p->nic.combined >= 0 && (p->nic.rx >= 0 || p->nic.tx >= 0))
			vdiag(d, p, false, "nic.channels", "give either combined, or rx and tx, not both");
		else if (txch >= 0 && p->nic.xps_auto && p->queues > (unsigned)txch)
			vdiag(d, p, false, "queues", "%u queues but nic.channels gives %d TX channel%s: each "
			      "queue needs its own; raise the channels or lower queues to %d",
			      p->queues, txch, txch > 1 ? "s" : "", txch);
	}

	/* one socket per stream, plus rings and a few for the process itself */
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		unsigned long long need = (unsigned long long)p->queues * p->streams + p->queues + 32;

		if (rl.rlim_max != RLIM_INFINITY && need > rl.rlim_max)
			vdiag(d, p, false, "streams", "%u queues x %u streams need about %llu open files, "
			      "above this process's hard limit %llu (ulimit -Hn); lower queues or streams",
			      p->queues, p->streams, need, (unsigned long long)rl.rlim_max);
		else if (rl.rlim_cur != RLIM_INFINITY && need > rl.rlim_cur)
			vdiag(d, p, true, "streams", "%u queues x %u streams need about %llu open files, "
			      "above the soft limit %llu (ulimit -n)", p->queues, p->streams, need,
			      (unsigned long long)rl.rlim_cur);
	}
	return diags_errors(d) > errors ? -EINVAL : 0;
}

unsigned profile_queue_cpu(const struct gen_profile *p, unsigned q)
{
	return p->n_cpus ? p->cpus[q % p->n_cpus] : q;
}
