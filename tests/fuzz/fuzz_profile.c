/* fuzz_profile.c - libFuzzer harness: the profile loader, command-line overrides and the cross-key checks */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "gen/gen.h"
#include "gen/profile.h"

/*
 * The input is a profile. profile_load() reads a path, so the bytes go into
 * a memfd read back through /proc/self/fd (the loader's own read_file runs
 * too). Lines of the form "#--KEY=VALUE" are YAML comments to the loader and
 * are then applied with profile_set(), as "--KEY VALUE" on the command line
 * would be; then profile_validate() and the printer, as zcgen run does.
 */

static FILE *devnull;

static void overrides(struct gen_profile *p, const char *text, struct gen_diags *d)
{
	const char *l = text;

	while (l && *l) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);

		if (len > 3 && !strncmp(l, "#--", 3)) {
			char *kv = strndup(l + 3, len - 3), *eq;

			if (!kv)
				return;
			eq = strchr(kv, '=');
			if (eq)
				*eq++ = '\0';
			profile_set(p, kv, eq, d);
			free(kv);
		}
		l = nl ? nl + 1 : NULL;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gen_profile *p;
	struct gen_diags d = { 0 };
	char path[64], *text;
	int fd;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	fd = memfd_create("fuzz-profile", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	p = malloc(sizeof(*p));
	text = strndup((const char *)data, size);
	if (p && text) {
		profile_init(p);
		profile_load(p, path, &d);
		overrides(p, text, &d);
		profile_validate(p, &d);
		diags_print(&d, devnull);
	}
	diags_free(&d);
	free(text);
	free(p);
	close(fd);
	return 0;
}
