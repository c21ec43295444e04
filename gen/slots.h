/* slots.h - buffer slots recycled on zero-copy notification, and per-ring send accounting */
#ifndef ZCGEN_SLOTS_H
#define ZCGEN_SLOTS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A slot's life: FREE -> SENDING (submitted) -> WAIT_NOTIF (send CQE had
 * IORING_CQE_F_MORE) -> FREE (its notification arrived). A send CQE without
 * F_MORE (copy sends, errors) frees it at once. Only a FREE slot may be
 * written: the kernel may still read a slot until its notification.
 */
enum slot_state { SLOT_FREE = 0, SLOT_SENDING, SLOT_WAIT_NOTIF };

struct slot_pool {
	uint32_t *stack;      /* free slot indices */
	uint8_t *state;       /* enum slot_state per slot */
	unsigned n, nfree;
	uint64_t violations;  /* a CQE that did not fit the slot's state: a bug, reported */
};

int slots_init(struct slot_pool *p, unsigned n);
void slots_destroy(struct slot_pool *p);
/* Return: a free slot's index, now SENDING, or -1 when none is free. */
static inline int slots_get(struct slot_pool *p)
{
	uint32_t i;

	if (!p->nfree)
		return -1;
	i = p->stack[--p->nfree];
	p->state[i] = SLOT_SENDING;
	return (int)i;
}
void slots_put(struct slot_pool *p, uint32_t i);

/* Counters of one ring; plain integers, owned by the ring's thread. */
struct tx_acct {
	uint64_t bytes;         /* payload bytes the kernel accepted */
	uint64_t sends;         /* send CQEs with res >= 0 */
	uint64_t zc_sends;      /* send CQEs with F_MORE: each owes one notification */
	uint64_t notifs;        /* notification CQEs (F_NOTIF) */
	uint64_t zc_copied;     /* notifications with IORING_NOTIF_USAGE_ZC_COPIED */
	uint64_t short_sends;   /* res < requested length */
	uint64_t errors;        /* send CQEs with res < 0 */
	uint64_t inflight;      /* sends submitted, CQE not yet seen */
	uint32_t err_count[8];  /* by errno, the first distinct ones */
	int err_errno[8];
};

/*
 * Account one CQE of a send (or its notification) for slot @slot (-1 when
 * the send used no slot: shared content). @want is the length submitted.
 * Return: true when the CQE was a notification.
 */
bool tx_acct_cqe(struct tx_acct *a, struct slot_pool *p, int slot, int32_t res,
		 uint32_t flags, uint32_t want);

#endif
