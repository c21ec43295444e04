/* namepat.c - match names against templates such as "i40e-{if}-TxRx-{n}" */
#define _GNU_SOURCE
#include "nic/namepat.h"

#include <ctype.h>
#include <string.h>

bool namepat_match(const char *tmpl, const char *name, const struct namepat_var *vars,
		   unsigned int nvars, unsigned int *n)
{
	const char *t = tmpl, *s = name;

	while (*t) {
		const char *close;
		size_t klen;
		unsigned int i;

		if (*t != '{') {
			if (*t++ != *s++)
				return false;
			continue;
		}
		close = strchr(t, '}');
		if (!close)
			return false;
		klen = (size_t)(close - t - 1);
		if (klen == 1 && t[1] == 'n') {
			unsigned long v = 0;

			if (!isdigit((unsigned char)*s))
				return false;
			while (isdigit((unsigned char)*s)) {
				v = v * 10 + (unsigned long)(*s++ - '0');
				if (v > 1000000)
					return false;
			}
			if (n)
				*n = (unsigned int)v;
		} else {
			const char *val = NULL;
			size_t vlen;

			for (i = 0; i < nvars; i++)
				if (strlen(vars[i].key) == klen && !strncmp(vars[i].key, t + 1, klen))
					val = vars[i].val;
			if (!val || !*val)
				return false;
			vlen = strlen(val);
			if (strncmp(s, val, vlen))
				return false;
			s += vlen;
		}
		t = close + 1;
	}
	return *s == '\0';
}
