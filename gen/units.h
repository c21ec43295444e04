/* units.h - sizes, times, rates, CPU lists and host:port, parsed and printed one way */
#ifndef ZCGEN_UNITS_H
#define ZCGEN_UNITS_H

#include <stddef.h>
#include <stdint.h>

/*
 * All parsers return 0 or -EINVAL (bad syntax or unit) / -ERANGE (out of
 * range) and never print. Whitespace around the value is not accepted.
 */

/* Sizes in bytes, binary suffixes: "1400", "64K" (65536), "1M", "2G", "64KiB". */
int units_size(const char *s, uint64_t *out);
/* Times: "10s", "500ms", "250us", "2m", "1h"; a bare number is seconds ("0.5"). */
int units_time_ns(const char *s, uint64_t *out);
/* Bit rates, decimal suffixes: "500M", "40G", "40Gbit", "1.5G" -> bit/s. */
int units_rate_bps(const char *s, double *out);
/* Packet rates, decimal suffixes, "pps" required: "800pps", "10kpps", "3Mpps", "1.2Gpps". */
int units_rate_pps(const char *s, double *out);
/*
 * CPU lists: "0-7", "0,2,4", "0-3,8-11", optionally in brackets "[0,2,4]".
 * Writes up to max CPU numbers in the order given; -ERANGE if more.
 */
int units_cpulist(const char *s, unsigned *cpus, unsigned max, unsigned *n);
/* Unsigned integer with range check [min, max]. */
int units_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* "HOST:PORT", "[v6addr]:PORT"; host may be a name. */
int units_hostport(const char *s, char *host, size_t hostlen, uint16_t *port);

/* Printers: "12.34 Gbit/s", "64 KiB", "1.50 s". Return buf. */
const char *units_fmt_bps(double bps, char *buf, size_t len);
const char *units_fmt_size(uint64_t bytes, char *buf, size_t len);
/* A CPU list back in compact form: "0-3,8". */
const char *units_fmt_cpulist(const unsigned *cpus, unsigned n, char *buf, size_t len);

#endif
