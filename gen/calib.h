/* calib.h - the copy/zero-copy crossover measured by `zcgen sweep`, saved per driver and kernel */
#ifndef ZCGEN_CALIB_H
#define ZCGEN_CALIB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Where calibrations live unless $ZCGEN_CALIBRATION names another file. */
#define CALIB_DEFAULT_PATH "/var/lib/zcgen/calibration.json"

/**
 * calib_path() - the calibration file: $ZCGEN_CALIBRATION if set and
 * non-empty, else CALIB_DEFAULT_PATH
 */
const char *calib_path(void);

/**
 * calib_lookup() - the saved crossover for a driver, kernel release and protocol
 * @driver: "loopback", "veth", "mlx5_core", ... (see calib_driver())
 * @kernel: kernel release (uname -r)
 * @proto: "tcp" or "udp"
 * @crossover: set to the size in bytes from which zc-fixed wins
 * @source: set to a description for the user ("FILE (measured TIME)"); may be NULL
 * @srclen: size of @source
 *
 * Reads calib_path(). Only an exact match of all three keys counts.
 * Return: 0; -ENOENT when the file does not exist or has no matching entry;
 * -EINVAL when the file is not a calibration file; another -errno.
 */
int calib_lookup(const char *driver, const char *kernel, const char *proto, uint64_t *crossover,
		 char *source, size_t srclen);
/* The same, for an explicit file. */
int calib_lookup_at(const char *path, const char *driver, const char *kernel, const char *proto,
		    uint64_t *crossover, char *source, size_t srclen);

/**
 * calib_save() - add or replace the entry for (driver, kernel, proto)
 * @measured: ISO 8601 UTC time of the measurement; NULL for now
 *
 * Writes calib_path() through a temporary file and rename(), so that a
 * reader never sees half a file; creates the directory if it is missing
 * (one level). Other entries are kept.
 * Return: 0 or -errno (-EINVAL if the existing file is not a calibration file).
 */
int calib_save(const char *driver, const char *kernel, const char *proto, uint64_t crossover,
	       const char *measured);
int calib_save_at(const char *path, const char *driver, const char *kernel, const char *proto,
		  uint64_t crossover, const char *measured);

/**
 * calib_driver() - the driver of the interface traffic to @dest leaves by
 * @dest: destination address (port ignored)
 * @len: its length
 * @driver: set to "loopback" for 127.0.0.0/8, ::1 and anything routed via
 *          lo (the host's own addresses), else the driver's name as
 *          `ethtool -i` gives it ("veth", "virtio_net"), or "unknown"
 *          when the route or the driver cannot be found
 * @drvlen: size of @driver
 *
 * Asks the kernel for the route (RTM_GETROUTE, in the calling thread's
 * network namespace), then ETHTOOL_GDRVINFO on its output device.
 * Return: 0 (also for "unknown"), or -EINVAL for an unsupported family.
 */
int calib_driver(const struct sockaddr *dest, socklen_t len, char *driver, size_t drvlen);

/* calib_kernel() - the running kernel's release (uname -r). Return: 0 or -errno. */
int calib_kernel(char *buf, size_t len);

#endif
