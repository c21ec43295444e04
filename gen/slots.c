/* slots.c - buffer slots recycled on zero-copy notification, and per-ring send accounting */
#include <errno.h>
#include <stdlib.h>
#include "gen/compat.h"
#include "gen/slots.h"

int slots_init(struct slot_pool *p, unsigned n)
{
	p->stack = calloc(n ? n : 1, sizeof(*p->stack));
	p->state = calloc(n ? n : 1, 1);
	if (!p->stack || !p->state) {
		slots_destroy(p);
		return -ENOMEM;
	}
	p->n = p->nfree = n;
	/* hand out low indices first: they share pages and TLB entries */
	for (unsigned i = 0; i < n; i++)
		p->stack[i] = n - 1 - i;
	p->violations = 0;
	return 0;
}

void slots_destroy(struct slot_pool *p)
{
	free(p->stack);
	free(p->state);
	p->stack = NULL;
	p->state = NULL;
	p->n = p->nfree = 0;
}

void slots_put(struct slot_pool *p, uint32_t i)
{
	if (i >= p->n || p->state[i] == SLOT_FREE) {
		p->violations++;
		return;
	}
	p->state[i] = SLOT_FREE;
	p->stack[p->nfree++] = i;
}

static void count_errno(struct tx_acct *a, int err)
{
	for (unsigned i = 0; i < 8; i++) {
		if (a->err_errno[i] == err || !a->err_count[i]) {
			a->err_errno[i] = err;
			a->err_count[i]++;
			return;
		}
	}
}

bool tx_acct_cqe(struct tx_acct *a, struct slot_pool *p, int slot, int32_t res,
		 uint32_t flags, uint32_t want)
{
	if (flags & IORING_CQE_F_NOTIF) {
		a->notifs++;
		if ((uint32_t)res & IORING_NOTIF_USAGE_ZC_COPIED)
			a->zc_copied++;
		if (slot >= 0) {
			if (p->state[slot] != SLOT_WAIT_NOTIF)
				p->violations++;
			else
				slots_put(p, (uint32_t)slot);
		}
		return true;
	}
	a->inflight--;
	if (res < 0) {
		a->errors++;
		count_errno(a, -res);
	} else {
		a->sends++;
		a->bytes += (uint64_t)res;
		if ((uint32_t)res < want)
			a->short_sends++;
	}
	if (flags & IORING_CQE_F_MORE) {
		a->zc_sends++;
		if (slot >= 0) {
			if (p->state[slot] != SLOT_SENDING)
				p->violations++;
			else
				p->state[slot] = SLOT_WAIT_NOTIF;
		}
	} else if (slot >= 0) {
		if (p->state[slot] != SLOT_SENDING)
			p->violations++;
		else
			slots_put(p, (uint32_t)slot);
	}
	return false;
}
