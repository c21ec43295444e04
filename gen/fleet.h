/* fleet.h - one profile over many ranks of an Open MPI job (docs/fleet.md) */
#ifndef ZCGEN_FLEET_H
#define ZCGEN_FLEET_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "gen/gen.h"
#include "gen/engine.h"
#include "gen/report.h"

/*
 * A zcgen started by mpirun (Open MPI sets OMPI_COMM_WORLD_SIZE, PMIx
 * PMIX_RANK): only then is MPI initialized, so a plain run is unchanged.
 */
static inline bool fleet_launched(void)
{
	return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK");
}

/* The rank mpirun gave this process (from the environment, before MPI_Init), 0 if none. */
static inline int fleet_env_rank(void)
{
	const char *r = getenv("OMPI_COMM_WORLD_RANK");

	if (!r)
		r = getenv("PMIX_RANK");
	return r ? atoi(r) : 0;
}

struct fleet;

#ifdef ZCGEN_HAVE_MPI
/*
 * fleet_begin - MPI_Init, tag this rank's output lines, and apply its part
 * of the profile's fleet: section to @prof. Every rank returns the same
 * exit code: EXIT_OK, or EXIT_USAGE after every rank printed the first
 * failing rank's message. @json_iperf3: --json-format iperf3 (refused).
 * @stop: the run's stop flag (the one engine_run_ctx.stop gets): once it is
 * non-zero, a wait for the other ranks gives up after FLEET_STOP_WAIT_NS;
 * NULL: never.
 */
int fleet_begin(struct fleet **fp, struct gen_profile *prof, bool json_iperf3,
		const volatile sig_atomic_t *stop);
int fleet_rank(const struct fleet *f);
/* This rank applies the nic: section (the lowest rank on its host). */
bool fleet_nic_leader(const struct fleet *f);
/*
 * fleet_nic_share - before the nic: section is applied: every rank on this
 * host gives its queue count @nq and each queue's CPU (@cpu[0..nq)); all get
 * the host's union in local-rank order (@all[0..*n_all), GEN_MAX_CPUS entries
 * of room), and *@offset, where this rank's queues begin among the device's.
 * Collective over the host's ranks; without a fleet: @all is @cpu, offset 0.
 * Return: 0, -ERANGE (more than GEN_MAX_CPUS queues on the host) or
 * -ECANCELED (a rank is gone); then *@n_all and *@offset are this rank's alone.
 */
int fleet_nic_share(struct fleet *f, unsigned nq, const unsigned *cpu, unsigned *all,
		    unsigned *n_all, unsigned *offset);
/* After the nic: section was applied (or not): the ranks of a host wait for its leader. */
void fleet_nic_done(struct fleet *f);
/* The controller that synchronizes the start; wraps @inner (iperf3's), which may be NULL. */
struct engine_ctl *fleet_ctl(struct fleet *f, struct engine_ctl *inner);
/* --dry-run: every rank's plan, printed by rank 0. Return: false when a rank failed. */
bool fleet_dry_run(struct fleet *f, const struct engine_plan *plan);
/* This rank cannot start (@why): the fleet is told before any data. */
void fleet_failed(struct fleet *f, const char *why);
/*
 * fleet_report - gather every rank's report to rank 0, which prints the
 * fleet's table and gets the merged JSON (*@json) and CSV text (*@csv);
 * the others get NULL. Collective after a started run.
 */
void fleet_report(struct fleet *f, const struct report_ctx *r, json_t **json, char **csv);
/* Before the NIC is put back: the host's leader waits for its other ranks. */
void fleet_undo_wait(struct fleet *f);
/*
 * Finish the collectives this rank missed, restore its output, MPI_Finalize.
 * Return: the exit code of the lowest rank whose @rc is not 0 (every rank
 * exits with the same), or @rc when a rank is gone.
 */
int fleet_end(struct fleet *f, int rc);
#else
static inline int fleet_begin(struct fleet **fp, struct gen_profile *prof, bool json_iperf3,
			      const volatile sig_atomic_t *stop)
{
	*fp = NULL;
	return 0;
}
static inline int fleet_rank(const struct fleet *f) { return 0; }
static inline bool fleet_nic_leader(const struct fleet *f) { return true; }
static inline int fleet_nic_share(struct fleet *f, unsigned nq, const unsigned *cpu, unsigned *all,
				  unsigned *n_all, unsigned *offset)
{
	*n_all = nq < GEN_MAX_CPUS ? nq : GEN_MAX_CPUS;
	*offset = 0;
	if (all && cpu)
		memcpy(all, cpu, *n_all * sizeof(*all));
	return 0;
}
static inline void fleet_nic_done(struct fleet *f) { }
static inline struct engine_ctl *fleet_ctl(struct fleet *f, struct engine_ctl *inner) { return inner; }
static inline bool fleet_dry_run(struct fleet *f, const struct engine_plan *plan) { return true; }
static inline void fleet_failed(struct fleet *f, const char *why) { }
static inline void fleet_report(struct fleet *f, const struct report_ctx *r, json_t **json, char **csv)
{
	*json = NULL;
	*csv = NULL;
}
static inline void fleet_undo_wait(struct fleet *f) { }
static inline int fleet_end(struct fleet *f, int rc) { return rc; }
#endif

#endif
