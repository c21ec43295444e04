/* iperf3cli.c - iperf3's client flags (zcgen -c HOST -t 10 -P 4 ...) as a zcgen run's options */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gen/iperf3cli.h"

enum i3arg { I3_NONE, I3_VALUE };

/* iperf3's client flags that zcgen takes; ".zc" is the zcgen option (NULL: handled below). */
static const struct i3flag {
	char letter;
	const char *name;
	enum i3arg arg;
	const char *zc;
} i3flags[] = {
	{ 'c', "client", I3_VALUE, NULL },
	{ 'p', "port", I3_VALUE, NULL },
	{ 't', "time", I3_VALUE, NULL },
	{ 'P', "parallel", I3_VALUE, NULL },
	{ 'l', "length", I3_VALUE, "--size" },
	{ 'u', "udp", I3_NONE, NULL },
	{ 'b', "bitrate", I3_VALUE, NULL },
	{ 'b', "bandwidth", I3_VALUE, NULL },
	{ 'Z', "zerocopy", I3_NONE, NULL },
	{ 'J', "json", I3_NONE, NULL },
	{ 'i', "interval", I3_VALUE, NULL },
	{ 'O', "omit", I3_VALUE, "--omit" },
	{ 'A', "affinity", I3_VALUE, NULL },
	{ 'C', "congestion", I3_VALUE, "--congestion" },
	{ 'S', "tos", I3_VALUE, "--tos" },
	{ 0, "dscp", I3_VALUE, "--dscp" },
	{ 'B', "bind", I3_VALUE, "--source" },
	{ 0, "cport", I3_VALUE, "--source-ports" },
	{ '4', "version4", I3_NONE, NULL },
	{ '6', "version6", I3_NONE, NULL },
};

/* iperf3 flags zcgen does not take, with what it offers instead. */
static const struct {
	char letter;
	const char *name, *why;
} i3refused[] = {
	{ 'R', "reverse", "zcgen sends; run `zcgen sink` on this host and zcgen on the other" },
	{ 0, "bidir", "zcgen sends one way; run one zcgen on each host" },
	{ 'n', "bytes", "zcgen runs for a time: use -t" },
	{ 'k', "blockcount", "zcgen runs for a time: use -t" },
	{ 'w', "window", "zcgen leaves the socket buffers to the kernel" },
	{ 'M', "set-mss", "zcgen does not set the MSS" },
	{ 'N', "no-delay", "zcgen's sends are large and full; TCP_NODELAY changes nothing" },
	{ 'F', "file", "zcgen sends its own pattern (sink --verify checks it)" },
	{ 's', "server", "the receiver is `zcgen sink --listen HOST:PORT` (or iperf3 -s)" },
	{ 'f', "format", "zcgen prints Gbit/s; -J gives bits per second" },
	{ 'V', "verbose", "" },
	{ 0, "logfile", "redirect standard output" },
	{ 0, "get-server-output", "the receiver's counts are in the report already" },
	{ 0, "udp-counters-64bit", "zcgen's sequence numbers are 64-bit already" },
};

static int push(struct iperf3cli *o, const char *s)
{
	size_t n = strlen(s) + 1;

	if (o->argc >= IPERF3CLI_MAX_ARGS || o->used + n > sizeof(o->buf))
		return -E2BIG;
	memcpy(o->buf + o->used, s, n);
	o->argv[o->argc++] = o->buf + o->used;
	o->argv[o->argc] = NULL;
	o->used += n;
	return 0;
}

static int push2(struct iperf3cli *o, const char *opt, const char *val)
{
	return push(o, opt) ?: push(o, val);
}

bool iperf3cli_wanted(int argc, char **argv)
{
	/* iperf3's form starts with a flag: `zcgen lab exec ping -c 1` is zcgen's own */
	if (argc < 2 || argv[1][0] != '-')
		return false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strncmp(argv[i], "-c", 2) || !strcmp(argv[i], "--client") ||
		    !strncmp(argv[i], "--client=", 9))
			return true;
	}
	return false;
}

static const struct i3flag *find_flag(const char *a, const char **inline_val, char *err, size_t errlen)
{
	*inline_val = NULL;
	if (a[0] == '-' && a[1] == '-') {
		const char *eq = strchr(a + 2, '=');
		size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);

		for (size_t i = 0; i < sizeof(i3flags) / sizeof(i3flags[0]); i++)
			if (strlen(i3flags[i].name) == n && !strncmp(i3flags[i].name, a + 2, n)) {
				*inline_val = eq ? eq + 1 : NULL;
				return &i3flags[i];
			}
		for (size_t i = 0; i < sizeof(i3refused) / sizeof(i3refused[0]); i++)
			if (strlen(i3refused[i].name) == n && !strncmp(i3refused[i].name, a + 2, n)) {
				snprintf(err, errlen, "iperf3's %.*s is not supported%s%s", (int)(n + 2), a,
					 i3refused[i].why[0] ? ": " : "", i3refused[i].why);
				return NULL;
			}
		snprintf(err, errlen, "%s is not one of iperf3's client options that zcgen takes "
			 "(zcgen's own options go after --: zcgen -c HOST -- --mode copy)", a);
		return NULL;
	}
	if (a[0] == '-' && a[1]) {
		for (size_t i = 0; i < sizeof(i3flags) / sizeof(i3flags[0]); i++)
			if (i3flags[i].letter == a[1]) {
				if (a[2] && i3flags[i].arg == I3_VALUE)
					*inline_val = a + 2;
				else if (a[2])
					break; /* bundled flags (-uZ): one at a time */
				return &i3flags[i];
			}
		for (size_t i = 0; i < sizeof(i3refused) / sizeof(i3refused[0]); i++)
			if (i3refused[i].letter == a[1] && !a[2]) {
				snprintf(err, errlen, "iperf3's -%c (--%s) is not supported%s%s", a[1],
					 i3refused[i].name, i3refused[i].why[0] ? ": " : "", i3refused[i].why);
				return NULL;
			}
	}
	snprintf(err, errlen, "%s is not one of iperf3's client options that zcgen takes "
		 "(one flag per argument; zcgen's own options go after --)", a);
	return NULL;
}

int iperf3cli_translate(int argc, char **argv, struct iperf3cli *out, char *err, size_t errlen)
{
	const char *host = NULL, *port = "5201", *time = "10", *parallel = NULL, *bitrate = NULL;
	const char *interval = NULL, *affinity = NULL;
	bool udp = false, zc = false, json = false;
	char dest[300], cpu[32];
	int i, r = 0;

	memset(out, 0, sizeof(*out));
	r = push(out, "run");
	for (i = 1; i < argc && !r; i++) {
		const char *a = argv[i], *val;
		const struct i3flag *f;

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		f = find_flag(a, &val, err, errlen);
		if (!f)
			return -EINVAL;
		if (f->arg == I3_VALUE && !val) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "%s needs a value", a);
				return -EINVAL;
			}
			val = argv[++i];
		}
		switch (f->letter) {
		case 'c': host = val; break;
		case 'p': port = val; break;
		case 't': time = val; break;
		case 'P': parallel = val; break;
		case 'u': udp = true; break;
		case 'b': bitrate = val; break;
		case 'Z': zc = true; break;
		case 'J': json = true; break;
		case 'i': interval = val; break;
		case 'A': affinity = val; break;
		case '4': case '6': break; /* the address's own family decides */
		default:
			r = push2(out, f->zc, val);
		}
	}
	if (r)
		goto too_long;
	if (!host || !host[0]) {
		snprintf(err, errlen, "-c needs the server's address");
		return -EINVAL;
	}
	if (!strcmp(time, "0")) {
		snprintf(err, errlen, "-t 0 (no end) is not supported: give a time");
		return -EINVAL;
	}
	snprintf(dest, sizeof(dest), strchr(host, ':') && host[0] != '[' ? "[%s]:%s" : "%s:%s", host, port);
	/* iperf3's times are seconds: so is a bare number of zcgen's */
	r = push2(out, "--dest", dest) ?: push2(out, "--server", "iperf3") ?: push2(out, "--duration", time) ?:
	    push2(out, "--protocol", udp ? "udp" : "tcp") ?: push2(out, "--mode", zc ? "zc-fixed" : "auto");
	if (!r && parallel)
		r = push2(out, "--queues", parallel) ?: push2(out, "--streams", "1");
	/* iperf3 paces UDP at 1 Mbit/s by default; -b 0 is no limit */
	if (!r && (bitrate || udp))
		r = push2(out, "--rate", !bitrate ? "1M" : strcmp(bitrate, "0") ? bitrate : "line");
	/* -i 0: no interval lines */
	if (!r && interval)
		r = strtod(interval, NULL) == 0 ? push(out, "--quiet") : push2(out, "--interval", interval);
	if (!r && affinity) {
		/* -A n[,m]: the client's CPU is n (m is the server's) */
		snprintf(cpu, sizeof(cpu), "%.*s", (int)strcspn(affinity, ","), affinity);
		r = push2(out, "--cpus", cpu);
	}
	if (!r && json)
		r = push2(out, "--json", "-") ?: push2(out, "--json-format", "iperf3") ?: push(out, "--quiet");
	for (; i < argc && !r; i++)
		r = push(out, argv[i]);
	if (!r)
		return 0;
too_long:
	snprintf(err, errlen, "the command line is too long");
	return -EINVAL;
}
