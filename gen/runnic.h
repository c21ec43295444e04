/* runnic.h - a run's NIC side: apply the nic: section, count per TX queue, steering, restore */
#ifndef ZCGEN_RUNNIC_H
#define ZCGEN_RUNNIC_H

#include <stdbool.h>
#include <stdio.h>
#include "gen/engine.h"
#include "gen/report.h"
#include "nic/nic.h"

struct runnic {
	bool applied;                /* the device was changed: undo at the end */
	bool counting;               /* per-queue counters were read at the start */
	char ifname[IF_NAMESIZE];
	struct nic_applied *h;
	struct nic_counters *qc;     /* NULL until runnic_count_start() opens it */
	struct qstats_tx *before, *after;
	unsigned cpu[GEN_MAX_CPUS];  /* the NIC's queue -> CPU map (engine_facts_cpus()) ... */
	unsigned ncpu;               /* ... for this many queues; 0: none */
	unsigned qoff;               /* ranks sharing the device: ring i is its queue qoff + i ... */
	bool own_only;               /* ... and no steering figure of its own (the fleet's report has the host's) */
	char note[600];              /* for the report: what was applied, or why not */
};

/*
 * Apply @prof's nic: section (or only describe it with @dry_run), print the
 * changes and notes to @out, and keep its queue -> CPU map in @rn->cpu for
 * the plan (the profile is left as it is). @own_cpus: only the first this
 * many of @prof's CPUs are this process's (nic_apply_cfg.n_own_cpus); 0: all.
 * Return: 0, or -errno with the
 * reason in @err.
 */
int runnic_apply(struct runnic *rn, const struct gen_profile *prof, unsigned own_cpus,
		 bool dry_run, bool force, FILE *out, char *err, size_t errlen);
/* Read the device's per-TX-queue counters before the traffic (best source). */
void runnic_count_start(struct runnic *rn, const char *ifname);
/*
 * Read them again (same source) and fill @nic[0..res->nq) with each queue's
 * bytes, packets and share of all the device's TX-queue bytes; ring i is
 * the device's queue @rn->qoff + i. Return: the steering figure, or -1 when
 * there are no counters or the device is shared with other ranks
 * (@rn->own_only: their traffic is on it too; merge_reports() judges the
 * host's split from every rank's queues).
 */
double runnic_count_end(struct runnic *rn, const struct engine_result *res,
			struct report_nic_queue *nic);
/* Put the device back; Return: 0 or -errno with the reason in @err. */
int runnic_undo(struct runnic *rn, char *err, size_t errlen);

/*
 * 1 - half the sum over queues of |NIC share - ring share|: 1.0 when the
 * NIC's per-queue split matches the rings' split, 0 when they are disjoint.
 */
double steering_figure(const double *nic_share, const double *ring_share, unsigned n);

#endif
