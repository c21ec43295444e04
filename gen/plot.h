/* plot.h - a report's throughput over time as an SVG picture (zcgen plot) */
#ifndef ZCGEN_PLOT_H
#define ZCGEN_PLOT_H

#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

/**
 * plot_svg() - draw a run's or a sink's JSON report as SVG.
 * @report: the parsed report (zcgen run --json, or zcgen sink --json)
 * @out:    where the SVG goes
 * @err:    why, when it fails
 *
 * One line per queue (run) or worker (sink) from `intervals[]`, the total as a
 * thicker line, and when the report has them the receiver's rate (a dashed
 * level) and its loss (in the legend). Rates in Gbit/s (Mbit/s below 1 Gbit/s).
 *
 * An ndr report (schema zcgen-ndr/1) is drawn instead as throughput at L1 and
 * L2 and latency p50/p99 against frame size.
 *
 * Return: 0, -EINVAL when the report has no intervals to draw (@err says why),
 * -EIO when writing failed.
 */
int plot_svg(const json_t *report, FILE *out, char *err, size_t errlen);

#endif
