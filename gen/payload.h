/* payload.h - the test payload pattern: each byte a function of its stream offset */
#ifndef ZCGEN_PAYLOAD_H
#define ZCGEN_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The byte at stream offset o is o % PAYLOAD_PERIOD. The period is a prime,
 * so a message size is almost never a multiple of it: a message sent at the
 * wrong offset, a short send that was not resumed, or data from another
 * stream shows up as mismatches. Any region filled with payload_fill(region,
 * len, 0) holds the bytes of stream offset o from region + o % PAYLOAD_PERIOD
 * on: a UDP sender fills each datagram's payload once, a TCP sender sends
 * from the page of its region that starts at o's phase (payload_aligned_at(),
 * below).
 *
 * TCP: the offset counts from the first byte of the connection. UDP: the
 * offset counts from the first byte after the 16-byte header, in every
 * datagram (the header carries the sequence).
 *
 * The first byte of a stream is 0, never a character of an iperf3 cookie
 * ([a-z2-7]): the sink tells zcgen's streams from iperf3's by that.
 *
 * TCP with a warm-up (omit) that the receiver is to see: the warm-up's bytes
 * carry the pattern shifted by PAYLOAD_WARMUP_SHIFT, (o + SHIFT) % PERIOD,
 * the measured part's the plain one. No byte fits both (SHIFT is not a
 * multiple of PERIOD), so the receiver finds the stream offset where the
 * measured part starts from the bytes alone (gen/sink_acct.h, tcpwin_add()).
 * Such a stream starts with byte 128: neither 0 nor a cookie character.
 * A sender sends from region + payload_aligned_at(offset + SHIFT).
 */
#define PAYLOAD_PERIOD 251u
#define PAYLOAD_WARMUP_SHIFT 128u

/*
 * TCP sends start on a page. A region filled with payload_fill(region, len,
 * 0) holds at page k the pattern from phase (k * PAGE) % PERIOD. The period
 * is a prime that does not divide the page size, so pages 0 to PERIOD - 1
 * start at every phase once: a region of PAYLOAD_ALIGNED_PAGES pages plus
 * one send has, for every stream offset, a page where a send of that
 * offset's bytes can start (payload_aligned_at()). A send from a page spans
 * one page fewer than one from inside a page, and a zero-copy send's pages
 * become the frags of the kernel's buffers: unaligned, every 64 KiB send
 * costs one frag more and the socket's buffers carry less per frag
 * (docs/performance.md: 2026-12-05, aligned sends).
 */
#define PAYLOAD_PAGE 4096u
#define PAYLOAD_ALIGNED_PAGES PAYLOAD_PERIOD
/* the inverse of PAGE modulo PERIOD: (4096 % 251) * 91 = 80 * 91 = 7280 = 29 * 251 + 1 */
#define PAYLOAD_PAGE_INV 91u
_Static_assert((PAYLOAD_PAGE % PAYLOAD_PERIOD) * PAYLOAD_PAGE_INV % PAYLOAD_PERIOD == 1,
	       "PAYLOAD_PAGE_INV is the inverse of PAYLOAD_PAGE modulo PAYLOAD_PERIOD");

/* The byte at stream offset @off: of the measured part, or (@warmup) of the warm-up. */
static inline uint8_t payload_byte(uint64_t off, bool warmup)
{
	return (uint8_t)((off + (warmup ? PAYLOAD_WARMUP_SHIFT : 0)) % PAYLOAD_PERIOD);
}

/*
 * Where in a region of PAYLOAD_ALIGNED_PAGES pages plus a send (filled from
 * phase 0) the bytes of stream offset @off (already shifted for a warm-up)
 * start on a page: the region offset of page (phase * PAGE_INV) % PERIOD.
 */
static inline uint64_t payload_aligned_at(uint64_t off)
{
	return (uint64_t)((off % PAYLOAD_PERIOD) * PAYLOAD_PAGE_INV % PAYLOAD_PERIOD) * PAYLOAD_PAGE;
}

/**
 * payload_fill() - write the pattern
 * @buf: where
 * @len: how many bytes
 * @stream_offset: stream offset of @buf[0]
 */
void payload_fill(uint8_t *buf, size_t len, uint64_t stream_offset);

/**
 * payload_check() - compare with the pattern
 * @buf: received bytes
 * @len: how many
 * @stream_offset: stream offset of @buf[0]
 *
 * Fast path: memcmp against a pre-built copy of the pattern; bytes are only
 * counted one by one in a chunk that differs.
 *
 * Return: the number of bytes that differ from the pattern.
 */
uint64_t payload_check(const uint8_t *buf, size_t len, uint64_t stream_offset);

#endif
