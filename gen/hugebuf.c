/* hugebuf.c - the registered buffer of a ring: huge pages where asked and free, else normal pages */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include "gen/hugebuf.h"

/* One "Key: value" of /proc/meminfo (kB values stay in kB); -ENOENT when absent. */
static long meminfo(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	size_t kl = strlen(key);
	long v = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			if (sscanf(line + kl + 1, "%ld", &v) != 1)
				v = -EINVAL;
			break;
		}
	fclose(f);
	return v;
}

uint64_t hugebuf_page_size(void)
{
	long kb = meminfo("Hugepagesize");

	return kb > 0 ? (uint64_t)kb * 1024 : 0;
}

long hugebuf_free_pages(void)
{
	return meminfo("HugePages_Free");
}

static uint64_t round_up(uint64_t v, uint64_t to)
{
	return (v + to - 1) / to * to;
}

int hugebuf_check(enum gen_hugepages mode, unsigned nbufs, uint64_t bytes, char *err, size_t errlen)
{
	uint64_t hp = hugebuf_page_size(), need;
	long nfree;

	if (mode != GEN_HUGEPAGES_ON)
		return 0;
	if (!hp) {
		snprintf(err, errlen, "buffers.hugepages on: this kernel has no huge pages "
			 "(no Hugepagesize in /proc/meminfo); use auto or off");
		return -ENOMEM;
	}
	need = (uint64_t)nbufs * (round_up(bytes, hp) / hp);
	nfree = hugebuf_free_pages();
	if (nfree < 0 || (uint64_t)nfree < need) {
		snprintf(err, errlen, "buffers.hugepages on: %llu huge page%s of %llu KiB needed (%u "
			 "ring%s), %ld free; reserve them (echo N > /proc/sys/vm/nr_hugepages) or use "
			 "hugepages auto", (unsigned long long)need, need == 1 ? "" : "s",
			 (unsigned long long)(hp / 1024), nbufs, nbufs == 1 ? "" : "s",
			 nfree < 0 ? 0 : nfree);
		return -ENOMEM;
	}
	return 0;
}

void *hugebuf_alloc(uint64_t bytes, enum gen_hugepages mode, bool *huge, uint64_t *maplen)
{
	uint64_t hp = hugebuf_page_size();
	void *p;

	*huge = false;
	if (mode != GEN_HUGEPAGES_OFF && hp) {
		/* munmap of a hugetlb mapping wants whole huge pages: map whole ones */
		*maplen = round_up(bytes, hp);
		p = mmap(NULL, *maplen, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
		if (p != MAP_FAILED) {
			*huge = true;
			return p;
		}
		if (mode == GEN_HUGEPAGES_ON)
			return NULL;
	} else if (mode == GEN_HUGEPAGES_ON) {
		errno = ENOMEM;
		return NULL;
	}
	*maplen = round_up(bytes, 4096);
	p = mmap(NULL, *maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		 -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void hugebuf_release(void *p, uint64_t maplen)
{
	if (p)
		munmap(p, maplen);
}

void hugebuf_describe_plan(enum gen_hugepages mode, char *buf, size_t len)
{
	uint64_t hp = hugebuf_page_size();
	long nfree = hugebuf_free_pages();

	if (mode == GEN_HUGEPAGES_OFF)
		snprintf(buf, len, "off: normal pages");
	else if (!hp)
		snprintf(buf, len, "%s: this kernel has no huge pages%s", gen_hugepages_name(mode),
			 mode == GEN_HUGEPAGES_AUTO ? ", normal pages" : "");
	else
		snprintf(buf, len, "%s: huge pages of %llu KiB (%ld free now)%s", gen_hugepages_name(mode),
			 (unsigned long long)(hp / 1024), nfree < 0 ? 0 : nfree,
			 mode == GEN_HUGEPAGES_AUTO && nfree <= 0 ?
			 ": none free, the rings will get normal pages" :
			 mode == GEN_HUGEPAGES_AUTO ? ", else normal pages" : "");
}

void hugebuf_describe_result(enum gen_hugepages mode, unsigned n_huge, unsigned nbufs, char *buf,
			     size_t len)
{
	if (mode == GEN_HUGEPAGES_OFF)
		snprintf(buf, len, "normal pages (hugepages off)");
	else if (n_huge == nbufs)
		snprintf(buf, len, "huge pages (%llu KiB) on every ring (hugepages %s)",
			 (unsigned long long)(hugebuf_page_size() / 1024), gen_hugepages_name(mode));
	else if (!n_huge)
		snprintf(buf, len, "normal pages: hugepages auto found no huge page free "
			 "(vm.nr_hugepages reserves them)");
	else
		snprintf(buf, len, "huge pages on %u of %u rings, normal pages on the rest (hugepages "
			 "auto: not enough free)", n_huge, nbufs);
}
