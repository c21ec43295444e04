/* lab.h - nic/lab.c's own: the pure rule that tells the lab's flavour from its qdiscs (the lab's API is in nic/nic.h) */
#ifndef ZCGEN_NIC_LAB_H
#define ZCGEN_NIC_LAB_H

#include <stddef.h>

#include "nic/nic.h"

/**
 * lab_qdisc_flavour() - which flavour the sending device's qdiscs make
 * @tc_json: what `tc -j qdisc show dev DEV` printed
 * @dev: the device, for @msg
 * @queues: its TX queues
 * @out: LAB_DROP when every TX queue has a `pfifo limit 0` (the mq root's
 *       children; with one queue, the root itself), else LAB_VETH
 * @msg: buffer for what is wrong
 * @msglen: its size
 *
 * Pure: lab_query() reads the device and calls this.
 *
 * Return: 0; -ENOLINK when the qdiscs are neither flavour's (no mq root on
 * a multi-queue device, or only some queues with the drop qdisc: half
 * built or changed by hand); -EPROTO for output that is not tc's JSON.
 */
int lab_qdisc_flavour(const char *tc_json, const char *dev, unsigned queues,
		      enum lab_flavour *out, char *msg, size_t msglen);

#endif
