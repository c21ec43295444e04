/* cpulist.h - CPU sets as the kernel writes them: lists ("0-3,8") and hex masks ("00000002,00000001") */
#ifndef ZCGEN_NIC_CPULIST_H
#define ZCGEN_NIC_CPULIST_H

/* cpu_set_t needs _GNU_SOURCE, defined first thing in every .c file of ours. */
#include <sched.h>
#ifndef CPU_SETSIZE
#error "nic/cpulist.h needs _GNU_SOURCE defined before the first #include (cpu_set_t)"
#endif
#include <stddef.h>

/**
 * cpulist_parse() - parse a CPU list ("0-3,8,10-11"; empty means no CPU)
 * @s: the text; a trailing newline is accepted
 * @set: output
 *
 * Return: 0, or -EINVAL (bad syntax, reversed range, CPU >= CPU_SETSIZE).
 */
int cpulist_parse(const char *s, cpu_set_t *set);

/**
 * cpulist_format() - write @set as a CPU list with ranges ("0-3,8")
 * @set: the CPUs
 * @buf: output ("" for an empty set)
 * @len: size of @buf
 *
 * Return: 0 or -ENOSPC.
 */
int cpulist_format(const cpu_set_t *set, char *buf, size_t len);

/**
 * cpumask_parse() - parse a hex mask in comma-separated 32-bit groups
 * @s: "00000002,00000001", "3", "0"; most significant group first
 * @set: output
 *
 * Return: 0, or -EINVAL.
 */
int cpumask_parse(const char *s, cpu_set_t *set);

/**
 * cpumask_format() - write @set as the kernel prints a cpumask of @nbits bits
 * @set: the CPUs
 * @nbits: number of bits the kernel's mask has (nr_cpu_ids, see cpumask_nbits())
 * @buf: output
 * @len: size of @buf
 *
 * Groups of 32 bits, most significant first, each 8 hex digits except the
 * first, which has as many digits as its bits need (the kernel's "%*pb"):
 * CPUs {0, 33} with 64 bits give "00000002,00000001", with 34 bits "2,00000001".
 *
 * Return: 0, -ENOSPC, or -ERANGE if @set has a CPU >= @nbits.
 */
int cpumask_format(const cpu_set_t *set, unsigned int nbits, char *buf, size_t len);

/**
 * cpumask_nbits() - the kernel's nr_cpu_ids, from /sys/devices/system/cpu/possible
 * @root: "" or "/" for the real system, else a tree laid out like /
 * @nbits: output: highest possible CPU + 1
 *
 * Return: 0 or -errno.
 */
int cpumask_nbits(const char *root, unsigned int *nbits);

#endif
