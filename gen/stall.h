/* stall.h - telling a path that stopped carrying data from a slow one */
#ifndef ZCGEN_STALL_H
#define ZCGEN_STALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A run is stalled when, for the stall timeout, no ring has made progress
 * while it had something owed: sends in flight, zero-copy notifications
 * outstanding, sends it tried to submit, or (TCP) bytes in the socket not
 * yet acknowledged. Progress is judged by what the far end confirms where
 * the kernel says it: for TCP, tcpi_bytes_acked moving (a send that
 * completes only means the data entered the socket buffer, which takes
 * megabytes before it stops); for UDP, a send completing with bytes (the
 * kernel's acceptance is all UDP has). A ring with nothing owed (a paced
 * pause, a rate of a few packets a second) is idle, not stalled.
 *
 * Each ring judges itself by its own clock readings (@checked_ns is when it
 * last looked): a worker starved of CPU on a busy host is not taken for a
 * dead path, since its last look and its last progress are both old.
 */
struct stall_watch {
	uint64_t progress_ns;   /* last look that saw progress, or nothing owed */
	uint64_t checked_ns;    /* last look */
};

/** stall_watch_start - no progress owed before @now. */
void stall_watch_start(struct stall_watch *w, uint64_t now);

/** stall_watch_note - one look at @now: @progress since the last look, @owed something. */
void stall_watch_note(struct stall_watch *w, uint64_t now, bool progress, bool owed);

/**
 * stall_judge - whether a run is stalled.
 * @progress, @checked: each ring's stall_watch fields (as published)
 * @live: rings still sending (a ring whose streams all failed is left out)
 * @n: rings
 * @timeout_ns: the stall timeout; 0 never stalls
 * @for_ns: set, when stalled, to the shortest time without progress
 * Return: true when at least one ring is live and every live ring has gone
 * @timeout_ns without progress.
 */
bool stall_judge(const uint64_t *progress, const uint64_t *checked, const bool *live, unsigned n,
		 uint64_t timeout_ns, uint64_t *for_ns);

/* The TCP_INFO fields a stall is judged and explained by. */
struct stall_tcp {
	uint8_t state;          /* TCP_ESTABLISHED, ... */
	uint8_t retransmits;    /* consecutive timeouts without an ACK */
	uint8_t probes;         /* zero-window (or keepalive) probes without an answer */
	uint8_t backoff;        /* the retransmission timer's exponent */
	uint32_t unacked;       /* segments sent and not acknowledged */
	uint32_t notsent;       /* bytes written and not yet sent */
	uint32_t snd_mss;
	uint32_t last_ack_ms;   /* since the last ACK came in */
	uint64_t bytes_acked;
	bool has_acked;         /* the kernel filled tcpi_bytes_acked (Linux 4.1) */
	bool has_notsent;       /* ... and tcpi_notsent_bytes (Linux 4.6) */
};

/** stall_tcp_read - TCP_INFO of @fd into @t. Return: 0 or -errno. */
int stall_tcp_read(int fd, struct stall_tcp *t);

/** stall_tcp_owed - the socket holds bytes not yet acknowledged (or not yet sent). */
static inline bool stall_tcp_owed(const struct stall_tcp *t)
{
	return t->unacked || (t->has_notsent && t->notsent);
}

/**
 * stall_tcp_describe - what a stuck TCP socket shows, in words: "1.2 MB not
 * acknowledged, no ACK for 6 retransmissions (backoff 6), state
 * established", or the receiver's window closed when the far end is up but
 * does not read.
 */
void stall_tcp_describe(const struct stall_tcp *t, char *buf, size_t len);

/** stall_tcp_state_name - "established", "fin-wait-1", ... */
const char *stall_tcp_state_name(uint8_t state);

#endif
