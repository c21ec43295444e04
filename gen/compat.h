/* compat.h - io_uring uapi constants newer than Debian 12's liburing 2.3 headers (stable ABI) */
#ifndef ZCGEN_GEN_COMPAT_H
#define ZCGEN_GEN_COMPAT_H

#include <liburing.h>

/* Linux 6.2: ask SEND_ZC notifications to say whether the data was copied. */
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
/* Linux 6.2: set in a notification's res when the kernel fell back to copying. */
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif
/* Linux 6.0 */
#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER (1U << 12)
#endif
/* Linux 6.1 */
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN (1U << 13)
#endif
/* Linux 5.19 */
#ifndef IORING_SETUP_COOP_TASKRUN
#define IORING_SETUP_COOP_TASKRUN (1U << 8)
#endif
#ifndef IORING_SETUP_SUBMIT_ALL
#define IORING_SETUP_SUBMIT_ALL (1U << 7)
#endif

#endif
