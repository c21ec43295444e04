/* nic.h - nic/'s outward interface: ethtool netlink, IRQs, XPS, per-queue counters, state, lab */
#ifndef ZCGEN_NIC_H
#define ZCGEN_NIC_H

/*
 * nic/ knows nothing of io_uring or of the generator; it deals in devices,
 * queues and CPUs. Each module has its own header, included from here.
 */

#endif
