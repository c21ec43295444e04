/* fuzz_udpseq.c - libFuzzer harness: the sink's datagram path (GRO split, headers, sequence, latency, payload) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <endian.h>
#include "gen/gen.h"
#include "gen/iperf3.h"
#include "gen/payload.h"
#include "gen/sink_acct.h"
#include "gen/udpseq.h"

/*
 * Input: a flags byte, 8 bytes of arrival time, then receives, each
 *   u16 len, u16 gro_seg, u16 extra, u8 stream, then len bytes
 * (little-endian; len is cut to what is left). A receive is split as the
 * sink splits a UDP GRO receive (gro_count/gro_seg: the kernel's length is
 * len + extra, of which len is in the buffer), and each datagram is read the
 * two ways the sink reads one: zcgen's header (gen_udp_hdr) and iperf3's
 * (iperf3_udp_parse, 32- or 64-bit sequence by flag bit 0), then counted
 * (udpseq), timed (lat_*, jitter) and, with flag bit 1, checked (payload).
 *
 * udpseq is compared with a plain model that remembers every sequence: its
 * verdicts and counters must match exactly, the window only bounds what
 * udpseq can tell (older than UDPSEQ_WINDOW: TOO_LATE).
 */

#define STREAMS 4
#define MODEL_MAX 8192

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "fuzz_udpseq: %s:%d: %s\n", __FILE__, __LINE__, #c); abort(); } } while (0)

struct model {
	uint64_t seen[MODEL_MAX];
	unsigned n;
	uint64_t highest, packets, accepted, reordered, duplicates, too_late, omitted;
};

struct stream {
	struct udpseq seq;
	struct model m;
	struct lat_acct lat;
	uint64_t lat_adds;
	double jitter, transit;
};

static struct stream zs[STREAMS], is[STREAMS];

static bool model_has(const struct model *m, uint64_t s)
{
	for (unsigned i = 0; i < m->n; i++)
		if (m->seen[i] == s)
			return true;
	return false;
}

static enum udpseq_verdict model_add(struct model *m, uint64_t s)
{
	enum udpseq_verdict v;

	if (!(s & ~UDPSEQ_WARMUP))
		return UDPSEQ_FOREIGN;
	if (s & UDPSEQ_WARMUP) {
		/* the sender's warm-up: counted apart, nothing else moves */
		m->omitted++;
		return UDPSEQ_OMITTED;
	}
	m->packets++;
	if (s > m->highest) {
		v = s == m->highest + 1 ? UDPSEQ_IN_ORDER : UDPSEQ_GAP;
		m->highest = s;
	} else if (m->highest - s >= UDPSEQ_WINDOW) {
		m->too_late++;
		return UDPSEQ_TOO_LATE;
	} else if (model_has(m, s)) {
		m->duplicates++;
		return UDPSEQ_DUPLICATE;
	} else {
		m->reordered++;
		v = UDPSEQ_LATE;
	}
	m->accepted++;
	if (m->n < MODEL_MAX)
		m->seen[m->n++] = s;
	return v;
}

static void account(struct stream *st, uint64_t s, uint32_t sec, uint32_t usec, uint64_t arrived)
{
	enum udpseq_verdict got = udpseq_add(&st->seq, s), want = model_add(&st->m, s);
	double loss;

	CHECK(got == want);
	CHECK(st->seq.highest == st->m.highest);
	CHECK(st->seq.packets == st->m.packets);
	CHECK(st->seq.reordered == st->m.reordered);
	CHECK(st->seq.duplicates == st->m.duplicates);
	CHECK(st->seq.too_late == st->m.too_late);
	CHECK(st->seq.omitted == st->m.omitted);
	/* lost: every sequence up to the highest that was not taken */
	CHECK(st->seq.lost == st->m.highest - st->m.accepted);
	CHECK(udpseq_expected(&st->seq) == st->seq.highest);
	loss = udpseq_loss_pct(&st->seq);
	CHECK(loss >= 0.0 && loss <= 100.0);
	if (!s)
		return;
	lat_add(&st->lat, sec, usec, arrived);
	st->lat_adds++;
	iperf3_jitter_update(&st->jitter, &st->transit, (double)sec + (double)usec / 1e6,
			     (double)(arrived / 1000000000ull) + (double)(arrived % 1000000000ull) / 1e9);
	CHECK(isfinite(st->jitter) && st->jitter >= 0);
}

static void summary_ok(const struct lat_acct *l, uint64_t adds)
{
	struct lat_summary s;

	lat_summarize(&l->h, l->negative, &s);
	CHECK(s.count + s.negative == adds);
	if (!s.count)
		return;
	CHECK(s.min <= s.p50 && s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.p99_9 &&
	      s.p99_9 <= s.max);
	CHECK(s.mean >= s.min && s.mean <= s.max);
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* One datagram: @in of its @len bytes at @p. */
static void datagram(const uint8_t *p, unsigned in, unsigned len, unsigned stream, uint8_t flags,
		     uint64_t arrived)
{
	bool c64 = flags & 1;
	uint32_t sec, usec;
	uint64_t seq;

	CHECK(in <= len);
	if (in >= GEN_UDP_HDR_LEN) {
		struct gen_udp_hdr h;

		memcpy(&h, p, sizeof(h));
		account(&zs[stream], be64toh(h.seq), be32toh(h.sec), be32toh(h.usec), arrived);
		if (flags & 2) {
			uint64_t bad = payload_check(p + GEN_UDP_HDR_LEN, in - GEN_UDP_HDR_LEN, 0);

			CHECK(bad <= in - GEN_UDP_HDR_LEN);
		}
	}
	if (!iperf3_udp_parse(p, in, c64, &sec, &usec, &seq)) {
		CHECK(in >= (c64 ? 16u : 12u));
		CHECK(c64 || seq <= UINT32_MAX);
		account(&is[stream], seq, sec, usec, arrived);
	} else {
		CHECK(in < (c64 ? 16u : 12u));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t arrived;
	uint8_t flags;
	size_t o = 9;
	struct lat_acct *all;

	if (size < 9)
		return 0;
	flags = data[0];
	arrived = get_le(data + 1, 8);
	for (unsigned i = 0; i < STREAMS; i++) {
		memset(&zs[i], 0, sizeof(zs[i]));
		memset(&is[i], 0, sizeof(is[i]));
		lat_init(&zs[i].lat);
		lat_init(&is[i].lat);
		zs[i].transit = is[i].transit = NAN;
	}
	while (size - o >= 7) {
		unsigned len = (unsigned)get_le(data + o, 2), seg = (unsigned)get_le(data + o + 2, 2);
		unsigned extra = (unsigned)get_le(data + o + 4, 2), stream = data[o + 6] % STREAMS;
		unsigned total, n, prev_end = 0;

		o += 7;
		if (len > size - o)
			len = (unsigned)(size - o);
		total = len + extra % 2048;
		n = gro_count(total, seg);
		CHECK(n >= 1 && n <= total + 1);
		for (unsigned k = 0; k < n; k++) {
			unsigned off, slen, in;

			gro_seg(total, len, seg, k, &off, &slen, &in);
			/* The pieces tile the receive: in order, no overlap, nothing read past the buffer. */
			CHECK(off == prev_end || n == 1);
			CHECK(in <= slen && (in == 0 || off + in <= len));
			CHECK(n == 1 || slen <= seg);
			prev_end = off + slen;
			datagram(data + o + (in ? off : 0), in, slen, stream, flags, arrived);
		}
		CHECK(prev_end == total);
		o += len;
		arrived += 1000;
	}
	all = malloc(sizeof(*all));
	if (!all)
		return 0;
	lat_init(all);
	for (unsigned i = 0; i < STREAMS; i++) {
		summary_ok(&zs[i].lat, zs[i].lat_adds);
		summary_ok(&is[i].lat, is[i].lat_adds);
		lat_merge(all, &zs[i].lat);
	}
	{
		uint64_t adds = 0;

		for (unsigned i = 0; i < STREAMS; i++)
			adds += zs[i].lat_adds;
		summary_ok(all, adds);
	}
	free(all);
	return 0;
}
