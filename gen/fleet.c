/* fleet.c - one profile over the ranks of an Open MPI job: parts, synchronized start, one report */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/uio.h>
#include <unistd.h>
#include <mpi.h>
#include <yaml.h>
#include "gen/fleet.h"
#include "gen/cmd.h"
#include "gen/profile.h"
#include "gen/merge.h"
#include "gen/startat.h"
#include "gen/stopsig.h"

#define FLEET_START_LEAD_NS 200000000ull   /* the common start: this far after the barrier */
#define FLEET_CLOCK_WARN_S 0.001            /* clocks further apart than this (+ rtt/2): warn */
#define FLEET_HOST_LEN 64
/*
 * After a stop signal, the most the collectives wait, all together. mpirun
 * ends a job whose rank died (or that got SIGINT) with SIGTERM to every
 * rank and SIGKILL odls_base_sigkill_timeout (1 s) later: a rank that is
 * gone never answers, and the others must still put their NIC back and
 * write what they have before then.
 */
#define FLEET_STOP_WAIT_NS 500000000ull

/* The collectives every rank passes through, in this order (a missed one is done as failed). */
enum fleet_stage { ST_SHARE, ST_NIC, ST_START, ST_REPORT, ST_UNDO, ST_END };

/* What each rank sends rank 0 at the end: fixed size (MPI_Gather), the texts by MPI_Gatherv. */
struct fleet_row {
	double start_rt;          /* CLOCK_REALTIME when this rank started, its own clock */
	double offset_s;          /* its clock minus rank 0's (ping-pong), rtt_s its uncertainty */
	double rtt_s;
	int json_len, csv_len;
	char host[FLEET_HOST_LEN];
};

struct fleet {
	int rank, size, node_rank;
	MPI_Comm node;
	char host[FLEET_HOST_LEN];
	enum fleet_stage done;    /* the next collective to pass */
	bool start_ok;            /* every rank passed ST_START */
	bool broken;              /* a collective gave up after a signal: none is tried again */
	uint64_t stop_ns;         /* CLOCK_MONOTONIC when a wait first saw the stop signal */
	const volatile sig_atomic_t *stop; /* the run's stop flag (fleet_begin's @stop), never NULL */
	bool dry;
	double start_rt, offset_s, rtt_s;
	struct engine_ctl ctl, *inner;
	/* output tagging: fds 1 and 2 are pipes read by a thread that prefixes "[rank N] " */
	int save_out, save_err, pipe_out, pipe_err;
	pthread_t tagger;
	bool tagging;
	FILE *out0;               /* rank 0's untagged fleet report (the real standard output) */
};

static double now_rt(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * The buffers of operations given up on (fleet_wait): MPI may still hold
 * them, so they are never freed; kept here, reachable, they are not
 * reported as leaks either. One give-up per process: no collective follows.
 */
static void *abandoned[16];
static unsigned n_abandoned;

static void abandon(void *p)
{
	if (p && n_abandoned < sizeof(abandoned) / sizeof(abandoned[0]))
		abandoned[n_abandoned++] = p;
}

/*
 * Wait for a nonblocking MPI operation: without limit while the run goes
 * on (a rank still draining its sends is waited for), at most
 * FLEET_STOP_WAIT_NS in all once a stop signal came. Return: true when it
 * completed; false when the fleet is (now) broken: the caller skips what
 * needed it, and no other collective is started.
 */
static bool fleet_wait(struct fleet *f, MPI_Request *rq)
{
	uint64_t t0 = mono_ns();
	long nap_ns = 20000;

	if (f->broken)
		return false;
	for (;;) {
		struct timespec ts = { 0, nap_ns };
		uint64_t now;
		int done = 0;

		MPI_Test(rq, &done, MPI_STATUS_IGNORE);
		if (done)
			return true;
		now = mono_ns();
		if (*f->stop) {
			if (!f->stop_ns)
				f->stop_ns = now;
			if (now - f->stop_ns > FLEET_STOP_WAIT_NS) {
				f->broken = true;
				return false;
			}
		}
		/* Spin first: the clock ping-pong's round trips stay short (and its offsets exact). */
		if (now - t0 < 200000)
			continue;
		nanosleep(&ts, NULL);
		if (nap_ns < 1000000)
			nap_ns *= 2;
	}
}

/* -------------------------------------------------------------- output tagging */

/*
 * Each line goes out with its tag in one writev(): every rank's output meets
 * in mpirun's, and a tag written apart from its line could be separated from
 * it there by another rank's line.
 */
static void tag_write(int fd, const char *tag, size_t tl, const char *buf, size_t n, bool *bol)
{
	size_t s = 0;

	while (s < n) {
		const char *nl = memchr(buf + s, '\n', n - s);
		size_t e = nl ? (size_t)(nl - buf) + 1 : n;
		struct iovec v[2] = { { (void *)tag, *bol ? tl : 0 }, { (void *)(buf + s), e - s } };

		(void)!writev(fd, v, 2);
		*bol = nl != NULL;
		s = e;
	}
}

static void *tagger_main(void *arg)
{
	struct fleet *f = arg;
	struct pollfd p[2] = { { .fd = f->pipe_out, .events = POLLIN }, { .fd = f->pipe_err, .events = POLLIN } };
	int out[2] = { f->save_out, f->save_err };
	bool bol[2] = { true, true };
	char tag[32], buf[4096];
	size_t tl = (size_t)snprintf(tag, sizeof(tag), "[rank %d] ", f->rank);

	while (p[0].fd >= 0 || p[1].fd >= 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				if (n < 0 && errno == EINTR)
					continue;
				close(p[i].fd);
				p[i].fd = -1;
				continue;
			}
			tag_write(out[i], tag, tl, buf, (size_t)n, &bol[i]);
		}
	}
	return NULL;
}

static int tag_start(struct fleet *f)
{
	int po[2], pe[2];

	fflush(stdout);
	fflush(stderr);
	if (pipe2(po, O_CLOEXEC))
		return -errno;
	if (pipe2(pe, O_CLOEXEC)) {
		close(po[0]);
		close(po[1]);
		return -errno;
	}
	f->save_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	f->save_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	f->pipe_out = po[0];
	f->pipe_err = pe[0];
	dup2(po[1], STDOUT_FILENO);
	dup2(pe[1], STDERR_FILENO);
	close(po[1]);
	close(pe[1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pthread_create(&f->tagger, NULL, tagger_main, f)) {
		dup2(f->save_out, STDOUT_FILENO);
		dup2(f->save_err, STDERR_FILENO);
		return -EAGAIN;
	}
	f->tagging = true;
	if (f->rank == 0)
		f->out0 = fdopen(dup(f->save_out), "w");
	return 0;
}

static void tag_stop(struct fleet *f)
{
	if (!f->tagging)
		return;
	fflush(stdout);
	fflush(stderr);
	if (f->out0)
		fclose(f->out0);
	f->out0 = NULL;
	/* the pipes' last write ends: the tagger reads to their end and returns */
	dup2(f->save_out, STDOUT_FILENO);
	dup2(f->save_err, STDERR_FILENO);
	pthread_join(f->tagger, NULL);
	close(f->save_out);
	close(f->save_err);
	f->tagging = false;
}

/* -------------------------------------------------------------- the fleet: section */

/* The value of @key in mapping @map, or NULL. */
static yaml_node_t *ymap_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);

		if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

/* "{rank}" in @s replaced by @rank, "{local_rank}" by @local (the rank's index on its host). */
static void subst_rank(char *dst, size_t len, const char *s, int rank, int local)
{
	size_t o = 0;

	while (*s && o + 1 < len) {
		if (!strncmp(s, "{rank}", 6)) {
			o += (size_t)snprintf(dst + o, len - o, "%d", rank);
			s += 6;
		} else if (!strncmp(s, "{local_rank}", 12)) {
			o += (size_t)snprintf(dst + o, len - o, "%d", local);
			s += 12;
		} else {
			dst[o++] = *s++;
		}
	}
	dst[o < len ? o : len - 1] = '\0';
}

/*
 * Apply this rank's part: the keys of @part (command-line option names)
 * through profile_set, with {rank} substituted. Return: 0 or -EINVAL with @msg.
 */
static int apply_part(struct gen_profile *prof, yaml_document_t *doc, yaml_node_t *part, int rank,
		      int local, const char *where, char *msg, size_t len)
{
	struct gen_diags d = { 0 };
	int ret = 0;

	if (part->type != YAML_MAPPING_NODE) {
		snprintf(msg, len, "%.300s:%zu: a rank's part is a mapping of option names to values "
			 "({dest: 127.0.0.1:5201, cpus: 0})", where, part->start_mark.line + 1);
		return -EINVAL;
	}
	for (yaml_node_pair_t *p = part->data.mapping.pairs.start; p < part->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key), *v = yaml_document_get_node(doc, p->value);
		char val[512];

		if (!k || !v || k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE) {
			snprintf(msg, len, "%.300s:%zu: a rank's part takes single values (dest: HOST:PORT)",
				 where, (k ? k->start_mark.line : part->start_mark.line) + 1);
			ret = -EINVAL;
			break;
		}
		subst_rank(val, sizeof(val), (char *)v->data.scalar.value, rank, local);
		if (profile_set(prof, (char *)k->data.scalar.value, val, &d) || diags_errors(&d)) {
			snprintf(msg, len, "%.300s:%zu: fleet part of rank %d: %s: %s", where,
				 k->start_mark.line + 1, rank, (char *)k->data.scalar.value,
				 d.n ? d.v[0].msg : "not a profile option");
			ret = -EINVAL;
			break;
		}
	}
	diags_free(&d);
	return ret;
}

/*
 * Whether a fleet.hosts key names @host (gethostname()): the same name, or
 * the same short name (up to the first dot) where one of them is a fully
 * qualified name: "sender1" names sender1.lab.example and the other way round.
 */
static bool host_match(const char *key, const char *host)
{
	size_t kl = strcspn(key, "."), hl = strcspn(host, ".");

	if (!strcmp(key, host))
		return true;
	if (key[kl] && host[hl])
		return false;  /* two full names that differ */
	return kl == hl && kl && !strncmp(key, host, kl);
}

/*
 * fleet.hosts: the part of the entry that names this rank's host, or NULL;
 * *@bad: the node when fleet.hosts is not a mapping of names to parts.
 * Also writes the names it gives (for a refusal) to @names.
 */
static yaml_node_t *host_part(yaml_document_t *doc, yaml_node_t *hosts, const char *host,
			      yaml_node_t **bad, char *names, size_t nlen)
{
	yaml_node_t *found = NULL;
	size_t o = 0;

	*bad = NULL;
	names[0] = '\0';
	if (hosts->type != YAML_MAPPING_NODE) {
		*bad = hosts;
		return NULL;
	}
	for (yaml_node_pair_t *p = hosts->data.mapping.pairs.start; p < hosts->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);

		if (!k || k->type != YAML_SCALAR_NODE) {
			*bad = k ? k : hosts;
			return NULL;
		}
		if (!found && host_match((char *)k->data.scalar.value, host))
			found = yaml_document_get_node(doc, p->value);
		if (o < nlen)
			o += (size_t)snprintf(names + o, nlen - o, "%s%s", o ? ", " : "",
					      (char *)k->data.scalar.value);
	}
	return found;
}

/* Scale the profile's rate by @share (this rank's part of it). */
static void rate_scale(struct gen_profile *prof, double share)
{
	if (!prof->rate.set)
		return;
	prof->rate.value *= share;
	prof->rate.ramp_from *= share;
	for (unsigned i = 0; i < prof->rate.n_steps; i++)
		prof->rate.steps[i].rate *= share;
}

static int fleet_part(struct fleet *f, struct gen_profile *prof, char *msg, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *fl, *ranks, *tmpl, *step, *share, *hosts, *hpart = NULL, *hbad;
	char hnames[256] = "";
	FILE *in = fopen(prof->path, "r");
	const char *where = prof->path;
	double my_share = 1.0 / f->size;
	int ret = -EINVAL;

	if (!prof->path[0] || !prof->fleet_line) {
		snprintf(msg, len, "started by mpirun (%d ranks), but %.300s has no fleet: section to say what "
			 "each rank does (docs/fleet.md)", f->size, prof->path[0] ? prof->path : "no profile");
		if (in)
			fclose(in);
		return -EINVAL;
	}
	if (!in) {
		snprintf(msg, len, "%.300s: %s", where, strerror(errno));
		return -errno;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, in);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(msg, len, "%.300s: cannot read the fleet: section", where);
		yaml_parser_delete(&parser);
		fclose(in);
		return -EINVAL;
	}
	root = yaml_document_get_root_node(&doc);
	fl = ymap_get(&doc, root, "fleet");
	ranks = ymap_get(&doc, fl, "ranks");
	tmpl = ymap_get(&doc, fl, "template");
	step = ymap_get(&doc, fl, "port_step");
	share = ymap_get(&doc, fl, "rate_share");
	hosts = ymap_get(&doc, fl, "hosts");
	if (fl) {
		for (yaml_node_pair_t *p = fl->data.mapping.pairs.start; p < fl->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(&doc, p->key);
			const char *kn = k && k->type == YAML_SCALAR_NODE ? (char *)k->data.scalar.value : "";

			if (strcmp(kn, "ranks") && strcmp(kn, "template") && strcmp(kn, "port_step") &&
			    strcmp(kn, "rate_share") && strcmp(kn, "hosts")) {
				snprintf(msg, len, "%.300s:%zu: fleet: unknown key '%.60s'; valid keys here: ranks, "
					 "hosts, template, port_step, rate_share", where,
					 k ? k->start_mark.line + 1 : 0, kn);
				goto out;
			}
		}
	}
	if (ranks && ranks->type != YAML_SEQUENCE_NODE) {
		snprintf(msg, len, "%.300s:%zu: fleet.ranks: a list of parts, one per rank "
			 "([{dest: ..., cpus: 0}, {dest: ..., cpus: 1}])", where, ranks->start_mark.line + 1);
		goto out;
	}
	if (!ranks && !tmpl && !hosts) {
		snprintf(msg, len, "%.300s:%d: fleet: needs ranks: (a part per rank), hosts: (a part per host "
			 "name) or template: (one part, {rank} substituted)", where, prof->fleet_line);
		goto out;
	}
	if (hosts) {
		hpart = host_part(&doc, hosts, f->host, &hbad, hnames, sizeof(hnames));
		if (hbad) {
			snprintf(msg, len, "%.300s:%zu: fleet.hosts: a mapping of host names to parts "
				 "({sender1: {cpus: 0-3}, sender2: {cpus: 0-3}})", where, hbad->start_mark.line + 1);
			goto out;
		}
	}
	/* Parts in this order, each over the one before: template, this host's, this rank's. */
	if (tmpl && (ret = apply_part(prof, &doc, tmpl, f->rank, f->node_rank, where, msg, len)))
		goto out;
	if (hpart && (ret = apply_part(prof, &doc, hpart, f->rank, f->node_rank, where, msg, len)))
		goto out;
	if (ranks) {
		long n = ranks->data.sequence.items.top - ranks->data.sequence.items.start;

		if (f->rank >= n && !tmpl && !hpart) {
			if (hosts)
				snprintf(msg, len, "%.300s:%zu: rank %d (host %s) has no part: fleet.hosts names "
					 "%.100s, not %s, and fleet.ranks gives parts for ranks 0-%ld only; add "
					 "its host to fleet.hosts, or give fleet.template", where,
					 hosts->start_mark.line + 1, f->rank, f->host, hnames, f->host, n - 1);
			else
				snprintf(msg, len, "%.300s:%zu: %d ranks were started, but fleet.ranks gives parts "
					 "for %ld (ranks 0-%ld): rank %d has no part; add one per rank, give "
					 "fleet.template, or start %ld ranks (mpirun -np %ld)", where,
					 ranks->start_mark.line + 1, f->size, n, n - 1, f->rank, n, n);
			/* the same words on every rank: a rank past the list is not the only one to say it */
			ret = -EINVAL;
			goto out;
		}
		if (f->rank < n) {
			yaml_node_t *part = yaml_document_get_node(&doc, ranks->data.sequence.items.start[f->rank]);

			if ((ret = apply_part(prof, &doc, part, f->rank, f->node_rank, where, msg, len)))
				goto out;
		}
	} else if (hosts && !hpart && !tmpl) {
		snprintf(msg, len, "%.300s:%zu: rank %d (host %s) has no part: fleet.hosts names %.100s, not "
			 "%s; add its host, or give fleet.template for hosts not named", where,
			 hosts->start_mark.line + 1, f->rank, f->host, hnames, f->host);
		ret = -EINVAL;
		goto out;
	}
	ret = -EINVAL;
	if (step) {
		char *end;
		long s = step->type == YAML_SCALAR_NODE ? strtol((char *)step->data.scalar.value, &end, 10) : -1;

		if (step->type != YAML_SCALAR_NODE || *end || s < 0 || s > 65535 ||
		    prof->port + (long)f->rank * s > 65535) {
			snprintf(msg, len, "%.300s:%zu: fleet.port_step: a whole number of ports from 0 such that "
				 "port + rank x port_step stays at most 65535", where, step->start_mark.line + 1);
			goto out;
		}
		prof->port = (uint16_t)(prof->port + f->rank * s);
	}
	if (share && share->type == YAML_SCALAR_NODE && !strcmp((char *)share->data.scalar.value, "each")) {
		my_share = 1.0;
	} else if (share && share->type == YAML_SEQUENCE_NODE) {
		long n = share->data.sequence.items.top - share->data.sequence.items.start;
		double sum = 0, mine = 0;

		for (long i = 0; i < n; i++) {
			yaml_node_t *w = yaml_document_get_node(&doc, share->data.sequence.items.start[i]);
			char *end;
			double x = w && w->type == YAML_SCALAR_NODE ? strtod((char *)w->data.scalar.value, &end) : -1;

			if (!w || w->type != YAML_SCALAR_NODE || *end || !(x >= 0) || !isfinite(x)) {
				n = -1;
				break;
			}
			sum += x;
			if (i == f->rank)
				mine = x;
		}
		if (n != f->size || !(sum > 0)) {
			snprintf(msg, len, "%.300s:%zu: fleet.rate_share: a weight from 0 per rank (%d ranks), not "
				 "all 0, such as [1, 3]; or even (the default) or each", where,
				 share->start_mark.line + 1, f->size);
			goto out;
		}
		my_share = mine / sum;
	} else if (share && !(share->type == YAML_SCALAR_NODE &&
			      !strcmp((char *)share->data.scalar.value, "even"))) {
		snprintf(msg, len, "%.300s:%zu: fleet.rate_share: even (the profile's rate split evenly, the "
			 "default), each (every rank the whole rate), or a list of weights", where,
			 share->start_mark.line + 1);
		goto out;
	}
	rate_scale(prof, my_share);
	ret = 0;
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(in);
	return ret;
}

/* -------------------------------------------------------------- setup */

int fleet_rank(const struct fleet *f)
{
	return f ? f->rank : 0;
}

bool fleet_nic_leader(const struct fleet *f)
{
	return !f || f->node_rank == 0;
}

int fleet_begin(struct fleet **fp, struct gen_profile *prof, bool json_iperf3,
		const volatile sig_atomic_t *stop)
{
	static const volatile sig_atomic_t never;
	struct fleet *f = calloc(1, sizeof(*f));
	char msg[1024] = "";
	int ret, first;

	*fp = NULL;
	if (!f) {
		fprintf(stderr, "zcgen: out of memory\n");
		return EXIT_RUN_FAILED;
	}
	f->stop = stop ? stop : &never;
	if (MPI_Init(NULL, NULL) != MPI_SUCCESS) {
		fprintf(stderr, "zcgen: started by mpirun, but MPI_Init failed\n");
		free(f);
		return EXIT_RUN_FAILED;
	}
	MPI_Comm_rank(MPI_COMM_WORLD, &f->rank);
	MPI_Comm_size(MPI_COMM_WORLD, &f->size);
	MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, f->rank, MPI_INFO_NULL, &f->node);
	MPI_Comm_rank(f->node, &f->node_rank);
	if (gethostname(f->host, sizeof(f->host)))
		snprintf(f->host, sizeof(f->host), "?");
	f->host[sizeof(f->host) - 1] = '\0';
	*fp = f;
	if ((ret = tag_start(f)))
		snprintf(msg, sizeof(msg), "cannot tag the output lines: %s", strerror(-ret));
	else if (json_iperf3)
		snprintf(msg, sizeof(msg), "--json-format iperf3 describes one sender; a fleet writes "
			 "zcgen's JSON (hosts[] per rank): drop --json-format");
	else
		ret = fleet_part(f, prof, msg, sizeof(msg));
	if (msg[0] && !ret)
		ret = -EINVAL;
	/* the first rank that failed speaks for all: every rank exits 2 with its words */
	int mine = ret ? f->rank : f->size;

	MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	if (first == f->size)
		return EXIT_OK;
	MPI_Bcast(msg, sizeof(msg), MPI_CHAR, first, MPI_COMM_WORLD);
	fprintf(stderr, "zcgen: fleet: %s; nothing was sent\n", msg);
	f->done = ST_END; /* every rank stops here: no collective follows */
	return EXIT_USAGE;
}

/* -------------------------------------------------------------- the collectives */

int fleet_nic_share(struct fleet *f, unsigned nq, const unsigned *cpu, unsigned *all,
		    unsigned *n_all, unsigned *offset)
{
	int mine = (int)nq, *counts, *displs, size = 0, total = 0, ret = 0;
	unsigned *buf = NULL;
	MPI_Request rq;

	*offset = 0;
	*n_all = nq <= GEN_MAX_CPUS ? nq : GEN_MAX_CPUS;
	if (all && cpu)
		memcpy(all, cpu, *n_all * sizeof(*all));
	if (!f || f->done != ST_SHARE)
		return 0;
	f->done = ST_NIC;
	if (f->broken)
		return -ECANCELED;
	MPI_Comm_size(f->node, &size);
	counts = calloc((size_t)size, sizeof(*counts));
	displs = calloc((size_t)size, sizeof(*displs));
	if (!counts || !displs)
		MPI_Abort(MPI_COMM_WORLD, 1); /* the host's others wait in this gather: end the job */
	MPI_Iallgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, f->node, &rq);
	if (!fleet_wait(f, &rq)) {
		ret = -ECANCELED;
		goto out;
	}
	for (int i = 0; i < size; i++) {
		displs[i] = total;
		if (i < f->node_rank)
			*offset += (unsigned)counts[i];
		total += counts[i];
	}
	buf = calloc(total ? (size_t)total : 1, sizeof(*buf));
	if (!buf)
		MPI_Abort(MPI_COMM_WORLD, 1);
	MPI_Iallgatherv(cpu, mine, MPI_UNSIGNED, buf, counts, displs, MPI_UNSIGNED, f->node, &rq);
	if (!fleet_wait(f, &rq)) {
		ret = -ECANCELED;
		goto out;
	}
	if (total > GEN_MAX_CPUS) {
		ret = -ERANGE;
		goto out;
	}
	*n_all = (unsigned)total;
	if (all)
		memcpy(all, buf, (size_t)total * sizeof(*all));
out:
	if (ret)
		*offset = 0;
	free(buf);
	free(counts);
	free(displs);
	return ret;
}

void fleet_nic_done(struct fleet *f)
{
	MPI_Request rq;

	if (f && f->done == ST_SHARE) { /* a rank that failed before: its host gathers nothing of it */
		unsigned all[GEN_MAX_CPUS], n, off;

		fleet_nic_share(f, 0, NULL, all, &n, &off);
	}
	if (!f || f->done != ST_NIC)
		return;
	if (!f->broken) {
		MPI_Ibarrier(f->node, &rq);
		fleet_wait(f, &rq);
	}
	f->done = ST_START;
}

/*
 * ST_START: whether every rank is ready, each rank's text (a plan, or why
 * it failed) to rank 0. Return: every rank ok.
 */
static bool start_vote(struct fleet *f, bool ok, const char *text, bool print_all)
{
	int me = ok, *oks = NULL, *lens = NULL, *offs = NULL, len = (int)strlen(text), all = 0;
	char *buf = NULL, *hosts = NULL;

	fleet_nic_done(f);
	if (f->rank == 0) {
		hosts = calloc((size_t)f->size, FLEET_HOST_LEN);
		oks = calloc((size_t)f->size, sizeof(int));
		lens = calloc((size_t)f->size, sizeof(int));
		offs = calloc((size_t)f->size, sizeof(int));
	}
	MPI_Request rq;

	if (f->broken)
		goto out;
	MPI_Igather(&len, 1, MPI_INT, lens, 1, MPI_INT, 0, MPI_COMM_WORLD, &rq);
	if (!fleet_wait(f, &rq))
		goto out;
	if (f->rank == 0 && lens && offs) {
		for (int i = 0; i < f->size; i++) {
			offs[i] = all;
			all += lens[i];
		}
		buf = malloc((size_t)all + 1);
	}
	MPI_Igatherv(text, len, MPI_CHAR, buf, lens, offs, MPI_CHAR, 0, MPI_COMM_WORLD, &rq);
	if (!fleet_wait(f, &rq))
		goto out;
	MPI_Igather(&me, 1, MPI_INT, oks, 1, MPI_INT, 0, MPI_COMM_WORLD, &rq);
	if (!fleet_wait(f, &rq))
		goto out;
	MPI_Igather(f->host, FLEET_HOST_LEN, MPI_CHAR, hosts, FLEET_HOST_LEN, MPI_CHAR, 0, MPI_COMM_WORLD, &rq);
	if (!fleet_wait(f, &rq))
		goto out;
	MPI_Iallreduce(&me, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &rq);
	if (!fleet_wait(f, &rq))
		goto out;
	if (f->rank == 0 && buf && oks && hosts) {
		for (int i = 0; i < f->size; i++) {
			if (print_all && oks[i])
				fprintf(f->out0, "rank %d (%s):\n%.*s", i, hosts + i * FLEET_HOST_LEN,
					lens[i], buf + offs[i]);
			else if (!oks[i])
				fprintf(f->out0, "zcgen: fleet: rank %d (%s) could not start: %.*s\n", i,
					hosts + i * FLEET_HOST_LEN, lens[i], buf + offs[i]);
		}
		if (!all)
			fprintf(f->out0, "zcgen: fleet: stopped before any data was sent\n");
		fflush(f->out0);
	}
out:
	if (f->broken) {
		all = 0;  /* a rank is gone: the fleet does not start */
		if (f->rank == 0)
			fprintf(f->out0, "zcgen: fleet: the ranks did not all answer within %llu ms of %s "
				"(a rank is gone?): stopped before any data\n",
				FLEET_STOP_WAIT_NS / 1000000, stopsig_name(*f->stop));
		abandon(oks);
		abandon(lens);
		abandon(offs);
		abandon(buf);
		abandon(hosts);
		oks = lens = offs = NULL;
		buf = hosts = NULL;
	}
	free(oks);
	free(lens);
	free(offs);
	free(buf);
	free(hosts);
	f->done = ST_REPORT;
	f->start_ok = all;
	return all;
}

void fleet_failed(struct fleet *f, const char *why)
{
	if (f && f->done <= ST_START)
		start_vote(f, false, why, false);
}

bool fleet_dry_run(struct fleet *f, const struct engine_plan *plan)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m;
	bool ok;

	if (!f)
		return true;
	f->dry = true;
	m = open_memstream(&text, &len);
	if (m) {
		report_plan(m, plan);
		fclose(m);
	}
	ok = start_vote(f, true, text ? text : "", true);
	free(text);
	return ok;
}

/* Each rank's clock against rank 0's: three ping-pongs, the one with the shortest round trip. */
static void clock_check(struct fleet *f)
{
	for (int i = 1; i < f->size; i++) {
		for (int k = 0; k < 3; k++) {
			double t[2];

			MPI_Request rq;

			if (f->broken)
				return;
			if (f->rank == 0) {
				t[0] = now_rt();
				MPI_Isend(t, 1, MPI_DOUBLE, i, 7, MPI_COMM_WORLD, &rq);
				if (!fleet_wait(f, &rq))
					return;
				MPI_Irecv(t + 1, 1, MPI_DOUBLE, i, 7, MPI_COMM_WORLD, &rq);
				if (!fleet_wait(f, &rq))
					return;
				double t2 = now_rt(), rtt = t2 - t[0], off = t[1] - (t[0] + t2) / 2;
				double r[2] = { off, rtt };

				MPI_Isend(r, 2, MPI_DOUBLE, i, 8, MPI_COMM_WORLD, &rq);
				fleet_wait(f, &rq);
			} else if (f->rank == i) {
				double r[2];

				MPI_Irecv(t, 1, MPI_DOUBLE, 0, 7, MPI_COMM_WORLD, &rq);
				if (!fleet_wait(f, &rq))
					return;
				t[1] = now_rt();
				MPI_Isend(t + 1, 1, MPI_DOUBLE, 0, 7, MPI_COMM_WORLD, &rq);
				if (!fleet_wait(f, &rq))
					return;
				MPI_Irecv(r, 2, MPI_DOUBLE, 0, 8, MPI_COMM_WORLD, &rq);
				if (!fleet_wait(f, &rq))
					return;
				if (k == 0 || r[1] < f->rtt_s) {
					f->offset_s = r[0];
					f->rtt_s = r[1];
				}
			}
		}
	}
}

static int ctl_stream_open(struct engine_ctl *ctl, unsigned queue, unsigned stream, int fd)
{
	struct fleet *f = ctl->arg;

	int ret = f->inner && f->inner->stream_open ? f->inner->stream_open(f->inner, queue, stream, fd) : 0;

	if (ret && f->inner->err[0])
		snprintf(ctl->err, sizeof(ctl->err), "%s", f->inner->err);
	return ret;
}

/*
 * Every rank's rings and connections are up: vote, check the clocks, and
 * start together at a time rank 0 picks FLEET_START_LEAD_NS ahead.
 */
static int ctl_start(struct engine_ctl *ctl)
{
	struct fleet *f = ctl->arg;
	struct timespec ts;
	int ret;

	if (!start_vote(f, true, "", false)) {
		snprintf(ctl->err, sizeof(ctl->err), "the fleet stopped before any data: another rank "
			 "could not start (rank 0 names it)");
		return -ECANCELED;
	}
	clock_check(f);
	if (f->rank == 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += FLEET_START_LEAD_NS;
		ts.tv_sec += ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
	}
	long long wire[2] = { ts.tv_sec, ts.tv_nsec };
	MPI_Request rq;

	if (f->broken)
		goto broken;
	MPI_Ibcast(wire, 2, MPI_LONG_LONG, 0, MPI_COMM_WORLD, &rq);
	if (!fleet_wait(f, &rq)) {
broken:
		snprintf(ctl->err, sizeof(ctl->err), "the fleet stopped before any data: the ranks did "
			 "not all answer after %s", stopsig_name(*f->stop));
		return -ECANCELED;
	}
	ts.tv_sec = (time_t)wire[0];
	ts.tv_nsec = (long)wire[1];
	/* a stop during the wait: the engine sees it at once and ends the run (nothing sent) */
	startat_sleep(&ts, f->stop);
	if (f->inner && (ret = f->inner->start(f->inner))) {
		snprintf(ctl->err, sizeof(ctl->err), "%s", f->inner->err);
		return ret;
	}
	f->start_rt = now_rt();
	return 0;
}

static int ctl_poll(struct engine_ctl *ctl)
{
	struct fleet *f = ctl->arg;
	int ret = f->inner && f->inner->poll ? f->inner->poll(f->inner) : 0;

	if (ret)
		snprintf(ctl->err, sizeof(ctl->err), "%s", f->inner->err);
	return ret;
}

static void ctl_finish(struct engine_ctl *ctl, const int *fds, unsigned nfds,
		       const struct engine_plan *plan, const struct engine_result *res)
{
	struct fleet *f = ctl->arg;

	if (f->inner && f->inner->finish)
		f->inner->finish(f->inner, fds, nfds, plan, res);
}

struct engine_ctl *fleet_ctl(struct fleet *f, struct engine_ctl *inner)
{
	if (!f)
		return inner;
	f->inner = inner;
	f->ctl = (struct engine_ctl){ .arg = f, .stream_open = ctl_stream_open, .start = ctl_start,
				      .poll = ctl_poll, .finish = ctl_finish };
	return &f->ctl;
}

/* -------------------------------------------------------------- the report */

/* Rank 0: the fleet's JSON from the ranks' own (gen/merge.h), their rows and the start figures. */
static json_t *merge(struct fleet *f, json_t **per, const struct fleet_row *rows, double skew,
		     double worst_off, bool clock_warn)
{
	struct merge_in *in = calloc((size_t)f->size, sizeof(*in));
	json_t *root, *starts = json_array(), *offs = json_array();

	if (!in || !starts || !offs) {
		free(in);
		json_decref(starts);
		json_decref(offs);
		return NULL;
	}
	for (int i = 0; i < f->size; i++) {
		in[i] = (struct merge_in){ .report = per[i], .host = rows[i].host,
					   .start_rt = rows[i].start_rt, .offset_s = rows[i].offset_s };
		json_array_append_new(starts, json_real(rows[i].start_rt));
		json_array_append_new(offs, json_real(rows[i].offset_s));
	}
	root = merge_reports(in, f->size);
	free(in);
	if (!root) {
		json_decref(starts);
		json_decref(offs);
		return NULL;
	}
	json_object_set_new(root, "fleet", json_pack("{s:i, s:f, s:o, s:o, s:f, s:b}", "ranks", f->size,
		"start_skew_s", skew, "start_times", starts, "clock_offsets_s", offs,
		"clock_offset_max_s", worst_off, "clock_warning", clock_warn));
	return root;
}

void fleet_report(struct fleet *f, const struct report_ctx *r, json_t **json, char **csv)
{
	struct fleet_row me = { 0 }, *rows = NULL;
	char *js = NULL, *cs = NULL, *jall = NULL, *call = NULL;
	size_t cl = 0;
	int *jl = NULL, *jo = NULL, *cln = NULL, *co = NULL, jt = 0, ct = 0;
	FILE *m;

	*json = NULL;
	*csv = NULL;
	if (!f || f->done != ST_REPORT || !f->start_ok || f->dry)
		return;
	f->done = ST_UNDO;
	if (!r) {
		js = strdup("{}"); /* this rank ran but has nothing to report */
	} else {
		json_t *j = report_json(r);

		js = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		m = open_memstream(&cs, &cl);
		if (m) {
			report_csv(m, r);
			fclose(m);
		}
	}
	me.start_rt = f->start_rt;
	me.offset_s = f->offset_s;
	me.rtt_s = f->rtt_s;
	me.json_len = js ? (int)strlen(js) : 0;
	me.csv_len = cs ? (int)strlen(cs) : 0;
	snprintf(me.host, sizeof(me.host), "%s", f->host);
	if (f->rank == 0) {
		rows = calloc((size_t)f->size, sizeof(*rows));
		jl = calloc((size_t)f->size, sizeof(int));
		jo = calloc((size_t)f->size, sizeof(int));
		cln = calloc((size_t)f->size, sizeof(int));
		co = calloc((size_t)f->size, sizeof(int));
	}
	MPI_Request rq;

	MPI_Igather(&me, sizeof(me), MPI_BYTE, rows, sizeof(me), MPI_BYTE, 0, MPI_COMM_WORLD, &rq);
	if (!fleet_wait(f, &rq))
		goto broken;
	if (f->rank == 0 && rows && jl && jo && cln && co) {
		for (int i = 0; i < f->size; i++) {
			jl[i] = rows[i].json_len;
			jo[i] = jt;
			jt += jl[i];
			cln[i] = rows[i].csv_len;
			co[i] = ct;
			ct += cln[i];
		}
		jall = malloc((size_t)jt + 1);
		call = malloc((size_t)ct + 1);
	}
	MPI_Igatherv(js, me.json_len, MPI_CHAR, jall, jl, jo, MPI_CHAR, 0, MPI_COMM_WORLD, &rq);
	if (!fleet_wait(f, &rq))
		goto broken;
	MPI_Igatherv(cs, me.csv_len, MPI_CHAR, call, cln, co, MPI_CHAR, 0, MPI_COMM_WORLD, &rq);
	if (!fleet_wait(f, &rq))
		goto broken;
	if (f->rank == 0 && jall && call) {
		json_t **per = calloc((size_t)f->size, sizeof(*per));
		double lo = INFINITY, hi = -INFINITY, worst = 0, dur = 0;
		bool warn = false, all = per != NULL;
		FILE *o = f->out0;

		for (int i = 0; per && i < f->size; i++) {
			per[i] = json_loadb(jall + jo[i], (size_t)jl[i], 0, NULL);
			all &= per[i] != NULL;
			lo = fmin(lo, rows[i].start_rt);
			hi = fmax(hi, rows[i].start_rt);
			if (fabs(rows[i].offset_s) > fabs(worst))
				worst = rows[i].offset_s;
			warn |= fabs(rows[i].offset_s) > FLEET_CLOCK_WARN_S + rows[i].rtt_s / 2;
		}
		fprintf(o, "\nfleet: %d ranks; start skew %.3f ms (spread of the ranks' start times, each "
			"on its host's clock); clocks within %.3f ms of rank 0's\n", f->size, (hi - lo) * 1e3,
			fabs(worst) * 1e3);
		if (warn)
			fprintf(o, "zcgen: fleet: warning: a host's clock is %.3f ms off rank 0's (more than "
				"%.0f ms): the start skew and the receivers' latencies are off by as much; "
				"synchronize the clocks (chrony, PTP)\n", worst * 1e3, FLEET_CLOCK_WARN_S * 1e3);
		fprintf(o, "%-5s %-20s %-7s %16s %12s\n", "rank", "host", "queues", "bytes", "Gbit/s");
		uint64_t sum = 0;
		double bps = 0;

		for (int i = 0; all && i < f->size; i++) {
			json_t *t = json_object_get(per[i], "total");
			uint64_t b = (uint64_t)json_integer_value(json_object_get(t, "bytes"));
			double x = json_real_value(json_object_get(t, "bits_per_second"));

			fprintf(o, "%-5d %-20.20s %-7zu %16llu %12.3f\n", i, rows[i].host,
				json_array_size(json_object_get(per[i], "queues")), (unsigned long long)b, x / 1e9);
			sum += b;
			bps += x;
			dur = fmax(dur, json_real_value(json_object_get(t, "duration_s")));
		}
		fprintf(o, "%-5s %-20s %-7s %16llu %12.3f\n", "total", "", "", (unsigned long long)sum, bps / 1e9);
		if (all)
			*json = merge(f, per, rows, hi - lo, worst, warn);
		if (*json)
			merge_steering_print(o, *json);
		fflush(o);
		/* the CSV: one header, a rank column in front */
		size_t n = 0;
		char *out = malloc((size_t)ct + 16 * (size_t)(ct + 1) + 64);

		for (int i = 0; out && i < f->size; i++) {
			char *p = call + co[i], *e = p + cln[i];
			bool first = true;

			while (p < e) {
				char *nl = memchr(p, '\n', (size_t)(e - p));
				size_t l = nl ? (size_t)(nl - p + 1) : (size_t)(e - p);

				if (first && i == 0)
					n += (size_t)sprintf(out + n, "rank,");
				if (!first)
					n += (size_t)sprintf(out + n, "%d,", i);
				if (!first || i == 0) {
					memcpy(out + n, p, l);
					n += l;
				}
				first = false;
				p += l;
			}
		}
		if (out)
			out[n] = '\0';
		*csv = out;
		for (int i = 0; per && i < f->size; i++)
			json_decref(per[i]);
		free(per);
	}
broken:
	/* A rank gone (mpirun ends the job): rank 0 writes its own report. */
	if (f->broken) {
		if (f->rank == 0) {
			fprintf(f->out0, "zcgen: fleet: the ranks did not all answer within %llu ms of %s (a "
				"rank is gone: Open MPI ends the job when one dies): the report is rank 0's "
				"own\n", FLEET_STOP_WAIT_NS / 1000000, stopsig_name(*f->stop));
			fflush(f->out0);
		}
		abandon(rows);
		abandon(jl);
		abandon(jo);
		abandon(cln);
		abandon(co);
		abandon(jall);
		abandon(call);
		abandon(js);
		abandon(cs);
		return;
	}
	free(rows);
	free(jl);
	free(jo);
	free(cln);
	free(co);
	free(jall);
	free(call);
	free(js);
	free(cs);
}

void fleet_undo_wait(struct fleet *f)
{
	if (!f || f->done > ST_UNDO)
		return;
	if (f->done < ST_REPORT)
		fleet_failed(f, "stopped before the start");
	if (f->done == ST_REPORT) {
		json_t *j;
		char *c;

		/* a started rank whose run failed: it still takes part, with nothing to report */
		if (f->start_ok && !f->dry) {
			fleet_report(f, NULL, &j, &c);
			json_decref(j);
			free(c);
		}
		f->done = ST_UNDO;
	}
	if (!f->broken) {
		MPI_Request rq;

		MPI_Ibarrier(f->node, &rq);
		fleet_wait(f, &rq);
	}
	f->done = ST_END;
}

int fleet_end(struct fleet *f, int rc)
{
	if (!f)
		return rc;
	fleet_undo_wait(f);
	tag_stop(f);
	/*
	 * Every rank's last lines are in mpirun's pipes before any rank exits:
	 * a rank that exits non-zero makes mpirun end the job, and what another
	 * rank had not written yet would be lost.
	 */
	/*
	 * And every rank exits with the same code, the lowest failed rank's:
	 * mpirun passes on the first non-zero code it sees, and which rank
	 * exits first would otherwise decide it.
	 */
	if (!f->broken) {
		int mine = rc ? f->rank : f->size, first = f->size, code = rc;
		MPI_Request rq;

		MPI_Iallreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &rq);
		if (fleet_wait(f, &rq) && first < f->size) {
			MPI_Ibcast(&code, 1, MPI_INT, first, MPI_COMM_WORLD, &rq);
			if (fleet_wait(f, &rq))
				rc = code;
		}
	}
	/* With a rank gone, MPI_Finalize could wait for it: the job is being ended anyway. */
	if (!f->broken) {
		MPI_Comm_free(&f->node);
		MPI_Finalize();
	}
	free(f);
	return rc;
}
