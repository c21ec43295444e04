/* nic.h - nic/'s outward interface: ethtool netlink, IRQs, XPS, per-queue counters, state, lab */
#ifndef ZCGEN_NIC_H
#define ZCGEN_NIC_H

/*
 * nic/ knows nothing of io_uring or of the generator; it deals in devices,
 * queues and CPUs. Each module has its own header, included from here.
 */

#include "nic/lab.h"
#include "nic/irq.h"
#include "nic/xps.h"
#include "nic/qstats.h"
#include "nic/cpulist.h"
#include "nic/ethnl.h"
#include "nic/drvinfo.h"
#include "nic/state.h"
#include "nic/safety.h"
#include "nic/apply.h"

#endif
