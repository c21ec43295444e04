/* report_iperf3.h - a run's report in iperf3 -J's layout, for scripts written for iperf3 */
#ifndef ZCGEN_REPORT_IPERF3_H
#define ZCGEN_REPORT_IPERF3_H

#include <jansson.h>
#include "gen/report.h"

/**
 * report_iperf3_json() - the run as `iperf3 -c ... -J` writes it.
 * @r: the same context as report_json()
 *
 * start (connected, version, system_info, timestamp, connecting_to,
 * test_start), intervals[] (streams, sum), end (streams, sum_sent,
 * sum_received, sum for UDP, cpu_utilization_percent). iperf3's streams are
 * zcgen's queues (`zcgen -c -P N` makes N queues of one stream each); their
 * "socket" is the queue number. sum_received is the receiver's count when
 * the run had one (server iperf3 or zcgen), else zcgen's own (as iperf3
 * would have nothing better). A `zcgen` object carries zcgen's own report.
 *
 * Return: a new reference, or NULL when out of memory.
 */
json_t *report_iperf3_json(const struct report_ctx *r);

#endif
