/* runnic.c - a run's NIC side: apply the nic: section, count per TX queue, steering, restore */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "gen/runnic.h"

double steering_figure(const double *nic_share, const double *ring_share, unsigned n)
{
	double d = 0;

	for (unsigned i = 0; i < n; i++)
		d += fabs(nic_share[i] - ring_share[i]);
	return 1.0 - d / 2;
}

int runnic_apply(struct runnic *rn, const struct gen_profile *prof, unsigned own_cpus,
		 bool dry_run, bool force, FILE *out, char *err, size_t errlen)
{
	const struct gen_nic_cfg *n = &prof->nic;
	struct ethnl_feature_req req[GEN_MAX_OFFLOADS];
	struct nic_apply_cfg cfg = {
		.ifname = n->interface,
		.combined = n->combined, .rx = n->rx, .tx = n->tx,
		.offloads = req, .n_offloads = n->n_offloads,
		.irq_auto = n->irq_affinity_auto, .xps_auto = n->xps_auto,
		.queues = prof->queues,
		.cpus = prof->n_cpus ? prof->cpus : NULL, .n_cpus = prof->n_cpus,
		.force = force,
		.mq_counters = true,
		.root = "",
		.mtu = n->mtu,
		.n_own_cpus = own_cpus,
	};
	struct nic_apply_out o = { 0 };
	int ret;

	memset(rn, 0, sizeof(*rn));
	snprintf(rn->ifname, sizeof(rn->ifname), "%s", n->interface);
	for (unsigned i = 0; i < n->n_offloads; i++)
		req[i] = (struct ethnl_feature_req){ .name = n->offloads[i].name, .on = n->offloads[i].on };
	ret = nic_apply(&cfg, dry_run, &o, dry_run ? NULL : &rn->h);
	if (ret) {
		if (ret == -EBUSY && o.holder) {
			/* o.err names the pid; its program's name tells whether it is a zcgen */
			char path[64], comm[32] = "";
			FILE *f;

			snprintf(path, sizeof(path), "/proc/%d/comm", (int)o.holder);
			f = fopen(path, "re");
			if (f) {
				if (!fgets(comm, sizeof(comm), f))
					comm[0] = '\0';
				comm[strcspn(comm, "\n")] = '\0';
				fclose(f);
			}
			snprintf(err, errlen, "%s%s%s%s: one process at a time changes a device", o.err,
				 comm[0] ? " (" : "", comm, comm[0] ? ")" : "");
		} else
			snprintf(err, errlen, "%s: %s", n->interface, o.err[0] ? o.err : strerror(-ret));
		nic_apply_out_free(&o);
		return ret;
	}
	rn->applied = !dry_run;
	for (unsigned i = 0; i < o.n_lines; i++)
		fprintf(out, "nic %s: %s%s\n", n->interface, dry_run ? "would set " : "", o.lines[i]);
	for (unsigned i = 0; i < o.n_notes; i++)
		fprintf(out, "nic %s: note: %s\n", n->interface, o.notes[i]);
	if (!o.n_lines)
		fprintf(out, "nic %s: nothing to change\n", n->interface);
	/* the engine takes its queue -> CPU map from what the NIC was set to */
	for (unsigned i = 0; i < o.nq && i < GEN_MAX_CPUS; i++)
		rn->cpu[i] = o.cpu[i];
	rn->ncpu = o.nq < GEN_MAX_CPUS ? o.nq : GEN_MAX_CPUS;
	snprintf(rn->note, sizeof(rn->note), "%s: %u change%s applied%s", n->interface, o.n_lines,
		 o.n_lines == 1 ? "" : "s", o.state_kept ? " (an earlier nic pin's state kept)" : "");
	nic_apply_out_free(&o);
	return 0;
}

void runnic_count_start(struct runnic *rn, const char *ifname)
{
	if (ifname != rn->ifname) /* never copy a string onto itself */
		snprintf(rn->ifname, sizeof(rn->ifname), "%s", ifname);
	rn->before = calloc(1, sizeof(*rn->before));
	rn->after = calloc(1, sizeof(*rn->after));
	if (!rn->before || !rn->after || nic_counters_open(&rn->qc))
		return;
	if (nic_tx_read(rn->qc, ifname, rn->before) || rn->before->source == QSTATS_SRC_NONE)
		return;
	rn->counting = true;
}

double runnic_count_end(struct runnic *rn, const struct engine_result *res,
			struct report_nic_queue *nic)
{
	struct qstats_tx *b = rn->before, *a = rn->after;
	double *ns, *rs, steering = -1;
	uint64_t nic_total = 0, ring_total = 0;
	unsigned n;

	if (!rn->counting ||
	    nic_tx_read_from(rn->qc, rn->ifname, b->source, a))
		return -1;
	/* every TX queue of the device counts in the shares, used by a ring or not */
	unsigned off = rn->qoff;
	n = a->nqueues > off + res->nq ? a->nqueues : off + res->nq;
	/* a source without bytes (qdisc-drops) splits by packets; the rings' split stays by bytes */
	bool by_pkts = a->no_bytes;
	ns = calloc(n, sizeof(double));
	rs = calloc(n, sizeof(double));
	if (!ns || !rs)
		goto out;
	for (unsigned i = 0; i < a->nqueues && i < n; i++)
		nic_total += by_pkts ? a->q[i].packets - (i < b->nqueues ? b->q[i].packets : 0) :
			    a->q[i].bytes - (i < b->nqueues ? b->q[i].bytes : 0);
	for (unsigned i = 0; i < res->nq; i++)
		ring_total += res->q[i].bytes;
	for (unsigned i = 0; i < n; i++) {
		uint64_t qb = i < a->nqueues ? a->q[i].bytes - (i < b->nqueues ? b->q[i].bytes : 0) : 0;
		uint64_t qp = i < a->nqueues ?
			a->q[i].packets - (i < b->nqueues ? b->q[i].packets : 0) : 0;
		bool ring = i >= off && i - off < res->nq;

		ns[i] = nic_total ? (double)(by_pkts ? qp : qb) / nic_total : 0;
		rs[i] = ring && ring_total ? (double)res->q[i - off].bytes / ring_total : 0;
		if (ring) {
			struct report_nic_queue *q = &nic[i - off];

			q->valid = true;
			q->tx_queue = i;
			q->tx_bytes = qb;
			q->no_bytes = by_pkts;
			q->tx_packets = qp;
			q->share = ns[i];
			q->source = qstats_source_name(b->source);
		}
	}
	/*
	 * Ranks sharing the device: its other queues carry the other ranks' traffic, which
	 * this rank's rings know nothing of; the fleet's report judges the host's split.
	 */
	if (nic_total && ring_total && !rn->own_only)
		steering = steering_figure(ns, rs, n);
out:
	free(ns);
	free(rs);
	return steering;
}

int runnic_undo(struct runnic *rn, char *err, size_t errlen)
{
	int ret = 0;

	nic_counters_close(rn->qc);
	rn->qc = NULL;
	free(rn->before);
	free(rn->after);
	rn->before = rn->after = NULL;
	if (rn->applied && rn->h)
		ret = nic_undo(rn->h, err, errlen);
	rn->applied = false;
	rn->h = NULL;
	return ret;
}
