/* yamltree.c - a YAML file through libyaml's events into a small tree of nodes with their file:line:col */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "gen/yamltree.h"

#define YAML_MAX_DEPTH 32

struct yanchor {
	char *name;
	int node;
	int next;                   /* the next of its hash chain, -1 ends */
};

struct ytabfix {
	int line;                   /* 1-based */
	int orig, now;              /* indentation width before and after expanding tabs */
};

/* The tab fix of @line, if it had one (detab adds them in line order: a binary search). */
static const struct ytabfix *line_fix(const struct ytree *y, int line)
{
	unsigned lo = 0, hi = y->n_fix;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (y->fix[mid].line < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < y->n_fix && y->fix[lo].line == line ? &y->fix[lo] : NULL;
}

/* A libyaml mark (0-based, in the tab-expanded text) as LINE:COL of the file. */
static void ymark(const struct ytree *y, yaml_mark_t m, int *line, int *col)
{
	int l = (int)m.line + 1, c = (int)m.column;
	const struct ytabfix *f = line_fix(y, l);

	if (f && c >= f->now)
		c = c - f->now + f->orig;
	else if (f && c > f->orig)
		c = f->orig;
	*line = l;
	*col = c + 1;
}

static bool line_fixed(const struct ytree *y, int line)
{
	return line_fix(y, line) != NULL;
}

/*
 * The indentation step of a file: its smallest indentation made of spaces
 * only, 2 if none. One tab stands for one step: whoever mixes tabs in
 * meant one level per tab, whatever their editor's tab width.
 */
static int indent_unit(const char *buf, size_t len)
{
	int unit = 0;

	for (size_t i = 0; i < len;) {
		size_t ws = i;

		while (ws < len && buf[ws] == ' ')
			ws++;
		if (ws > i && ws < len && buf[ws] != '\t' && buf[ws] != '\n' && buf[ws] != '\r' &&
		    buf[ws] != '#' && (!unit || (int)(ws - i) < unit))
			unit = (int)(ws - i);
		while (ws < len && buf[ws] != '\n')
			ws++;
		i = ws + 1;
	}
	return unit ? unit : 2;
}

/* Make room for @need bytes in *@buf (of *@cap), growing it by at least half. */
static int reserve(char **buf, size_t *cap, size_t need)
{
	size_t c = *cap;
	char *n;

	if (need <= c)
		return 0;
	c = need > c + c / 2 ? need : c + c / 2;
	n = realloc(*buf, c);
	if (!n)
		return -ENOMEM;
	*buf = n;
	*cap = c;
	return 0;
}

/*
 * YAML forbids tabs in indentation, and libyaml says only "found character
 * that cannot start any token" there. Report each such line plainly, then
 * parse a copy with each tab replaced by one indentation step, so that the
 * rest of the file is still checked.
 */
static char *detab(struct ytree *y, const char *buf, size_t len, size_t *outlen)
{
	size_t cap = len + 1, o = 0;
	char *out = malloc(cap);
	int line = 1, unit = indent_unit(buf, len);

	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t ws = i, first_tab = SIZE_MAX;
		int width = 0;

		while (ws < len && (buf[ws] == ' ' || buf[ws] == '\t')) {
			if (buf[ws] == '\t' && first_tab == SIZE_MAX)
				first_tab = ws;
			width += buf[ws] == '\t' ? unit : 1;
			ws++;
		}
		bool content = ws < len && buf[ws] != '\n' && buf[ws] != '\r' && buf[ws] != '#';
		if (first_tab != SIZE_MAX && content) {
			diags_at(&y->at, line, (int)(first_tab - i) + 1, "",
				 "tab character used for indentation; use spaces");
			if (y->n_fix == y->cap_fix) {
				unsigned c = y->cap_fix ? y->cap_fix * 2 : 8;
				struct ytabfix *f = realloc(y->fix, c * sizeof(*f));

				if (!f)
					goto fail;
				y->fix = f;
				y->cap_fix = c;
			}
			y->fix[y->n_fix++] = (struct ytabfix){ line, (int)(ws - i), width };
			if (reserve(&out, &cap, o + (size_t)width + (len - ws) + 1))
				goto fail;
			memset(out + o, ' ', (size_t)width);
			o += (size_t)width;
			i = ws;
		}
		/* the rest of the line as is */
		while (i < len && buf[i] != '\n') {
			if (reserve(&out, &cap, o + 2))
				goto fail;
			out[o++] = buf[i++];
		}
		if (i < len) {
			if (reserve(&out, &cap, o + 2))
				goto fail;
			out[o++] = buf[i++];
			line++;
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
fail:
	free(out);
	return NULL;
}

static int ynode_new(struct ytree *y, yaml_node_type_t type, yaml_mark_t m)
{
	struct ynode *n;

	if (y->n == y->cap) {
		unsigned c = y->cap ? y->cap * 2 : 64;
		struct ynode *v = realloc(y->nodes, c * sizeof(*v));

		if (!v)
			return -ENOMEM;
		y->nodes = v;
		y->cap = c;
	}
	n = &y->nodes[y->n];
	memset(n, 0, sizeof(*n));
	n->type = type;
	ymark(y, m, &n->line, &n->col);
	return (int)y->n++;
}

static int ynode_attach(struct ytree *y, int parent, int child)
{
	struct ynode *p;

	if (parent < 0) {
		if (y->root < 0)
			y->root = child;
		return 0;
	}
	p = &y->nodes[parent];
	if (p->n == p->cap) {
		unsigned c = p->cap ? p->cap * 2 : 8;
		int *v = realloc(p->items, c * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->items = v;
		p->cap = c;
	}
	p->items[p->n++] = child;
	return 0;
}

static unsigned yanchor_hash(const char *name, unsigned nbucket)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h & (nbucket - 1);
}

/*
 * Anchors by name in a hash table, so that a file of thousands of anchors
 * and aliases is not quadratic. A name may be defined again: the latest is
 * at the head of its chain, and wins, as in YAML.
 */
static int yanchor_add(struct ytree *y, const char *name, int node)
{
	unsigned h;

	if (y->n_anchors == y->cap_anchors) {
		unsigned c = y->cap_anchors ? y->cap_anchors * 2 : 8;
		void *v = realloc(y->anchors, c * sizeof(*y->anchors));

		if (!v)
			return -ENOMEM;
		y->anchors = v;
		y->cap_anchors = c;
	}
	if (y->n_anchors >= y->n_abucket) {
		unsigned nb = y->n_abucket ? y->n_abucket * 2 : 16;
		int *b = malloc(nb * sizeof(*b));

		if (!b)
			return -ENOMEM;
		for (unsigned i = 0; i < nb; i++)
			b[i] = -1;
		/* in the order defined, so that later ones end up first in their chain */
		for (unsigned i = 0; i < y->n_anchors; i++) {
			h = yanchor_hash(y->anchors[i].name, nb);
			y->anchors[i].next = b[h];
			b[h] = (int)i;
		}
		free(y->abucket);
		y->abucket = b;
		y->n_abucket = nb;
	}
	y->anchors[y->n_anchors].name = strdup(name);
	if (!y->anchors[y->n_anchors].name)
		return -ENOMEM;
	h = yanchor_hash(name, y->n_abucket);
	y->anchors[y->n_anchors].node = node;
	y->anchors[y->n_anchors].next = y->abucket[h];
	y->abucket[h] = (int)y->n_anchors++;
	return 0;
}

static int yanchor_find(const struct ytree *y, const char *name)
{
	if (!y->n_abucket)
		return -1;
	for (int i = y->abucket[yanchor_hash(name, y->n_abucket)]; i >= 0; i = y->anchors[i].next)
		if (!strcmp(y->anchors[i].name, name))
			return y->anchors[i].node;
	return -1;
}

/* line/column of a byte offset, for reader errors (bad UTF-8), which carry no mark */
static void offset_mark(const char *buf, size_t len, size_t off, yaml_mark_t *m)
{
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			m->line++;
			m->column = 0;
		} else {
			m->column++;
		}
	}
}

static void ysyntax(struct ytree *y, yaml_parser_t *ps, const char *buf, size_t len)
{
	yaml_mark_t m = ps->problem_mark;
	int line, col, cl, cc;
	const char *problem = ps->problem ? ps->problem : "cannot parse";

	if (ps->error == YAML_MEMORY_ERROR) {
		y->at.err = -ENOMEM;
		return;
	}
	if (ps->error == YAML_READER_ERROR)
		offset_mark(buf, len, ps->problem_offset, &m);
	ymark(y, m, &line, &col);
	y->cut_line = line;
	/* the tab was reported already; what libyaml says of that line follows from it */
	if (line_fixed(y, line))
		return;
	if (ps->context) {
		ymark(y, ps->context_mark, &cl, &cc);
		diags_at(&y->at, line, col, "", "YAML syntax error: %s (%s at line %d, column %d)",
			 problem, ps->context, cl, cc);
	} else {
		diags_at(&y->at, line, col, "", "YAML syntax error: %s", problem);
	}
}

static bool scalar_is_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

void ytree_path_join(char *out, size_t len, const char *prefix, const char *leaf)
{
	if (snprintf(out, len, "%s%s%s", prefix, *prefix ? "." : "", leaf) >= (int)len)
		memcpy(out + len - 4, "...", 4);
}

/*
 * The key path of what comes next under the open containers @stack
 * ("nic.channels.combined"; "" at the top level), for a message about it.
 * Return: true when it comes as a key of the innermost mapping, not a value.
 */
static bool ystack_path(const struct ytree *y, const int *stack, unsigned depth, char *out, size_t len)
{
	bool is_key = false;

	out[0] = '\0';
	for (unsigned i = 0; i < depth; i++) {
		const struct ynode *n = &y->nodes[stack[i]], *k = NULL;
		bool last = i + 1 == depth;
		char prefix[128];

		if (n->type != YAML_MAPPING_NODE)
			continue;
		/* inner levels: the open container is the last item, its key just before */
		if (last && n->n % 2)
			k = &y->nodes[n->items[n->n - 1]];
		else if (!last && n->n >= 2)
			k = &y->nodes[n->items[n->n - 2]];
		else if (last)
			is_key = true;
		if (!k)
			continue;
		snprintf(prefix, sizeof(prefix), "%s", out);
		ytree_path_join(out, len, prefix, k->type == YAML_SCALAR_NODE ? k->val : "?");
	}
	return is_key;
}

/* Build the node tree from libyaml's events; stop at the first syntax error. */
static int yparse(struct ytree *y, const char *buf, size_t len)
{
	yaml_parser_t ps;
	yaml_event_t ev;
	int stack[YAML_MAX_DEPTH];
	unsigned depth = 0, docs = 0;
	int r = 0;

	if (!yaml_parser_initialize(&ps))
		return -ENOMEM;
	yaml_parser_set_input_string(&ps, (const unsigned char *)buf, len);
	for (bool done = false; !done && !r;) {
		int parent = depth ? stack[depth - 1] : -1, idx = -1, line, col;
		const char *anchor = NULL;

		if (!yaml_parser_parse(&ps, &ev)) {
			ysyntax(y, &ps, buf, len);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				ymark(y, ev.start_mark, &line, &col);
				diags_at(&y->at, line, col, "", "a profile is one YAML document; "
					 "remove this second one (a line '---' starts a new "
					 "document)");
				done = true;
			}
			break;
		case YAML_SCALAR_EVENT:
			idx = ynode_new(y, YAML_SCALAR_NODE, ev.start_mark);
			if (idx < 0) {
				r = idx;
				break;
			}
			ymark(y, ev.end_mark, &y->nodes[idx].end_line, &col);
			y->nodes[idx].val = strdup((const char *)ev.data.scalar.value);
			y->nodes[idx].null = scalar_is_null(&ev);
			if (!y->nodes[idx].val)
				r = -ENOMEM;
			anchor = (const char *)ev.data.scalar.anchor;
			if (!r && anchor)
				r = yanchor_add(y, anchor, idx);
			if (!r)
				r = ynode_attach(y, parent, idx);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth == YAML_MAX_DEPTH) {
				ymark(y, ev.start_mark, &line, &col);
				diags_at(&y->at, line, col, "", "nested more than %d levels deep; "
					 "a profile has at most 3", YAML_MAX_DEPTH);
				done = true;
				break;
			}
			idx = ynode_new(y, ev.type == YAML_MAPPING_START_EVENT ? YAML_MAPPING_NODE :
					YAML_SEQUENCE_NODE, ev.start_mark);
			if (idx < 0) {
				r = idx;
				break;
			}
			anchor = ev.type == YAML_MAPPING_START_EVENT ?
				 (const char *)ev.data.mapping_start.anchor :
				 (const char *)ev.data.sequence_start.anchor;
			y->nodes[idx].open = true;
			if (anchor && !(y->nodes[idx].anchor = strdup(anchor)))
				r = -ENOMEM;
			if (!r)
				r = ynode_attach(y, parent, idx);
			stack[depth++] = idx;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth) {
				struct ynode *n = &y->nodes[stack[--depth]];

				n->open = false;
				if (n->anchor)
					r = yanchor_add(y, n->anchor, stack[depth]);
			}
			break;
		case YAML_ALIAS_EVENT:
			idx = yanchor_find(y, (const char *)ev.data.alias.anchor);
			if (idx < 0) {
				char path[128];
				bool is_key = ystack_path(y, stack, depth, path, sizeof(path));

				ymark(y, ev.start_mark, &line, &col);
				diags_at(&y->at, line, col, path, "alias '*%.60s'%s names no "
					 "complete anchor above it (an anchor is &NAME before a "
					 "value, and must come first)",
					 (const char *) ev.data.alias.anchor,
					 is_key ? ", used as a key," : "");
				break;
			}
			r = ynode_attach(y, parent, idx);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&ps);
	return r;
}

struct keyref {
	const char *val;
	unsigned i;                 /* index in the mapping's items */
};

static int keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *z = b;
	int c = strcmp(x->val, z->val);

	return c ? c : (x->i > z->i) - (x->i < z->i);
}

/*
 * For every mapping, which keys repeat an earlier one: sorted once, so that a
 * mapping of 80000 keys costs n log n, not n^2 string compares.
 */
static int ydups(struct ytree *y)
{
	struct keyref *ref = NULL;
	unsigned cap = 0;
	int r = 0;

	for (unsigned m = 0; m < y->n && !r; m++) {
		struct ynode *map = &y->nodes[m];
		unsigned nk = map->n / 2, nr = 0;

		if (map->type != YAML_MAPPING_NODE || !nk)
			continue;
		map->first = malloc(nk * sizeof(*map->first));
		if (!map->first) {
			r = -ENOMEM;
			break;
		}
		if (nk > cap) {
			struct keyref *v = realloc(ref, nk * sizeof(*v));

			if (!v) {
				r = -ENOMEM;
				break;
			}
			ref = v;
			cap = nk;
		}
		for (unsigned k = 0; k < nk; k++) {
			const struct ynode *kn = &y->nodes[map->items[2 * k]];

			map->first[k] = -1;
			if (kn->type == YAML_SCALAR_NODE)
				ref[nr++] = (struct keyref){ kn->val, 2 * k };
		}
		qsort(ref, nr, sizeof(*ref), keyref_cmp);
		/* the first of each run of one name has the earliest index, as sorted */
		for (unsigned k = 1, head = 0; k < nr; k++) {
			if (strcmp(ref[head].val, ref[k].val))
				head = k;
			else
				map->first[ref[k].i / 2] = map->items[ref[head].i];
		}
	}
	free(ref);
	return r;
}

void ytree_free(struct ytree *y)
{
	for (unsigned i = 0; i < y->n; i++) {
		free(y->nodes[i].val);
		free(y->nodes[i].anchor);
		free(y->nodes[i].items);
		free(y->nodes[i].first);
	}
	free(y->nodes);
	for (unsigned i = 0; i < y->n_anchors; i++)
		free(y->anchors[i].name);
	free(y->anchors);
	free(y->abucket);
	free(y->fix);
}

int ytree_parse(struct ytree *y, const char *file, const char *buf, size_t len, struct gen_diags *d)
{
	char *text;
	size_t tlen;
	int r;

	memset(y, 0, sizeof(*y));
	y->root = -1;
	y->at.file = file;
	y->at.d = d;
	text = detab(y, buf, len, &tlen);
	if (!text)
		return -ENOMEM;
	r = yparse(y, text, tlen);
	if (!r)
		r = ydups(y);
	free(text);
	return r ? r : y->at.err;
}

const struct ynode *ytree_dup(const struct ytree *y, const struct ynode *map, unsigned i)
{
	int f = map->first ? map->first[i / 2] : -1;

	return f >= 0 ? &y->nodes[f] : NULL;
}

const char *ynode_kind(const struct ynode *n)
{
	return n->type == YAML_SEQUENCE_NODE ? "a list" : n->type == YAML_MAPPING_NODE ? "a mapping" :
	       "a value";
}
