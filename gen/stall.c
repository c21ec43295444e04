/* stall.c - telling a path that stopped carrying data from a slow one */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
/* linux/tcp.h, not netinet/tcp.h: glibc's struct tcp_info stops before tcpi_bytes_acked */
#include <linux/tcp.h>
#include "gen/stall.h"

void stall_watch_start(struct stall_watch *w, uint64_t now)
{
	w->progress_ns = now;
	w->checked_ns = now;
}

void stall_watch_note(struct stall_watch *w, uint64_t now, bool progress, bool owed)
{
	if (progress || !owed)
		w->progress_ns = now;
	w->checked_ns = now;
}

bool stall_judge(const uint64_t *progress, const uint64_t *checked, const bool *live, unsigned n,
		 uint64_t timeout_ns, uint64_t *for_ns)
{
	uint64_t least = UINT64_MAX;

	if (!timeout_ns)
		return false;
	for (unsigned i = 0; i < n; i++) {
		uint64_t d;

		if (!live[i])
			continue;
		d = checked[i] > progress[i] ? checked[i] - progress[i] : 0;
		if (d < timeout_ns)
			return false;
		if (d < least)
			least = d;
	}
	if (least == UINT64_MAX)
		return false;      /* no ring is live: the run ends for another reason */
	*for_ns = least;
	return true;
}

int stall_tcp_read(int fd, struct stall_tcp *t)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	memset(t, 0, sizeof(*t));
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l))
		return -errno;
	t->state = ti.tcpi_state;
	t->retransmits = ti.tcpi_retransmits;
	t->probes = ti.tcpi_probes;
	t->backoff = ti.tcpi_backoff;
	t->unacked = ti.tcpi_unacked;
	t->snd_mss = ti.tcpi_snd_mss;
	t->last_ack_ms = ti.tcpi_last_ack_recv;
	/* the kernel copies as much of its struct as it has: older ones stop earlier */
	t->has_acked = l >= offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof(ti.tcpi_bytes_acked);
	t->has_notsent = l >= offsetof(struct tcp_info, tcpi_notsent_bytes) +
			      sizeof(ti.tcpi_notsent_bytes);
	if (t->has_acked)
		t->bytes_acked = ti.tcpi_bytes_acked;
	if (t->has_notsent)
		t->notsent = ti.tcpi_notsent_bytes;
	return 0;
}

const char *stall_tcp_state_name(uint8_t state)
{
	/* the kernel's numbering (include/net/tcp_states.h, a stable ABI through TCP_INFO) */
	static const char *const names[] = {
		NULL, "established", "syn-sent", "syn-recv", "fin-wait-1", "fin-wait-2",
		"time-wait", "closed", "close-wait", "last-ack", "listen", "closing",
	};

	return state < sizeof(names) / sizeof(names[0]) && names[state] ? names[state] : "unknown";
}

static void fmt_bytes(uint64_t b, char *buf, size_t len)
{
	if (b >= 1000000)
		snprintf(buf, len, "%.1f MB", b / 1e6);
	else if (b >= 1000)
		snprintf(buf, len, "%.1f kB", b / 1e3);
	else
		snprintf(buf, len, "%llu B", (unsigned long long)b);
}

void stall_tcp_describe(const struct stall_tcp *t, char *buf, size_t len)
{
	char q[32], w[32];
	size_t o;

	fmt_bytes((uint64_t)t->unacked * t->snd_mss, q, sizeof(q));
	fmt_bytes(t->notsent, w, sizeof(w));
	o = (size_t)snprintf(buf, len, "%u segments (about %s) not acknowledged, %s not yet sent, "
			     "last ACK %.1f s ago", t->unacked, q, w, t->last_ack_ms / 1e3);
	if (o >= len)
		return;
	/*
	 * Any ACK resets both counters: retransmission timeouts or window
	 * probes in a row mean nothing answers; a closed window with neither
	 * means the far end answers but takes nothing (it stopped reading).
	 */
	if (t->retransmits)
		o += (size_t)snprintf(buf + o, len - o, ", %u retransmission timeouts in a row "
				      "without an ACK (backoff %u): nothing answers", t->retransmits,
				      t->backoff);
	else if (t->probes)
		o += (size_t)snprintf(buf + o, len - o, ", %u window probes in a row without an "
				      "answer: nothing answers", t->probes);
	else if (!t->unacked && t->notsent)
		o += (size_t)snprintf(buf + o, len - o, ", the receiver's window is closed and it "
				      "answers: it stopped reading");
	if (o < len)
		snprintf(buf + o, len - o, ", state %s", stall_tcp_state_name(t->state));
}
