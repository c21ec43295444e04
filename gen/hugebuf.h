/* hugebuf.h - the registered buffer of a ring: huge pages where asked and free, else normal pages */
#ifndef ZCGEN_HUGEBUF_H
#define ZCGEN_HUGEBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gen/gen.h"

/* The default huge page size (Hugepagesize in /proc/meminfo), 0 when the kernel has none. */
uint64_t hugebuf_page_size(void);
/* HugePages_Free from /proc/meminfo; -errno when it cannot be read. */
long hugebuf_free_pages(void);

/*
 * hugebuf_check - at plan time: with @mode on, are there enough free huge
 * pages for @nbufs buffers of @bytes? Return: 0 (auto and off always), or
 * -ENOMEM with a message in @err.
 */
int hugebuf_check(enum gen_hugepages mode, unsigned nbufs, uint64_t bytes, char *err, size_t errlen);

/*
 * hugebuf_alloc - map @bytes, populated: MAP_HUGETLB for on and auto, and
 * normal pages when auto gets none (or for off). *@huge says what it got,
 * *@maplen what to give hugebuf_release(). Return: the memory, or NULL with
 * errno set (on: no huge page free is ENOMEM).
 */
void *hugebuf_alloc(uint64_t bytes, enum gen_hugepages mode, bool *huge, uint64_t *maplen);
void hugebuf_release(void *p, uint64_t maplen);

/* For the plan: what @mode will do here ("auto: huge pages of 2048 KiB (0 free now): ..."). */
void hugebuf_describe_plan(enum gen_hugepages mode, char *buf, size_t len);
/* For the report: what the rings got, @n_huge of @nbufs with huge pages. */
void hugebuf_describe_result(enum gen_hugepages mode, unsigned n_huge, unsigned nbufs, char *buf,
			     size_t len);

#endif
