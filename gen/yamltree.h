/* yamltree.h - a YAML file as a small tree of nodes, each with its line and column in the file */
#ifndef ZCGEN_YAMLTREE_H
#define ZCGEN_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>
#include "gen/diags.h"

/*
 * The file as a small tree built from libyaml's events (not its document
 * loader), so that a syntax error keeps what came before it, and every node
 * knows where it was written.
 */
struct ynode {
	yaml_node_type_t type;      /* SCALAR, SEQUENCE or MAPPING */
	char *val;                  /* scalar text */
	bool null;                  /* plain "", "~" or "null" */
	char *anchor;               /* containers: registered when complete (no cycles) */
	int line, col;              /* 1-based, in the file as written */
	int end_line;               /* scalars: the line where the value ends */
	bool open;                  /* containers: no end event yet (cut by a syntax error) */
	int *items;                 /* sequence items; mapping key, value, key, value... */
	unsigned n, cap;
	int *first;                 /* mappings: per key (items[2i]), the node of the same key
				       given earlier in this mapping, or -1 (ytree_dup()) */
};

struct ytree {
	struct ynode *nodes;
	unsigned n;
	int root;                   /* the document's node; -1: none (an empty file) */
	int cut_line;               /* line of a syntax error: values reaching it are suspect; 0 none */

	/* the reader's own */
	unsigned cap;
	struct diags_file at;       /* the file's problems; at.err: -ENOMEM seen */
	struct yanchor *anchors;
	unsigned n_anchors, cap_anchors;
	int *abucket;               /* anchor hash: latest of each chain first, -1 ends */
	unsigned n_abucket;         /* a power of 2, at least n_anchors */
	struct ytabfix *fix;        /* lines whose tab indentation was expanded */
	unsigned n_fix, cap_fix;
};

/**
 * ytree_parse() - read YAML text into a tree
 * @y: filled; ytree_free() it after, whatever the return
 * @file: the file's name, for messages (kept, not copied)
 * @buf: the file's text, @len bytes
 * @d: where the problems of the text go as FILE:LINE:COL: a tab in an
 *     indentation (the line is read with the tab as one indentation step, so
 *     that the rest is still checked), a syntax error (the tree keeps what came
 *     before it; @y->cut_line is its line), a second document, nesting too
 *     deep, an alias with no anchor before it
 *
 * Lines and columns are those of the file as written, before tabs were expanded.
 * Return: 0, also with problems added to @d, or -ENOMEM.
 */
int ytree_parse(struct ytree *y, const char *file, const char *buf, size_t len, struct gen_diags *d);
void ytree_free(struct ytree *y);

/* The earlier key of the same name in mapping @map, if its key item @i repeats one; else NULL. */
const struct ynode *ytree_dup(const struct ytree *y, const struct ynode *map, unsigned i);

/* What a node is, for messages: "a value", "a list", "a mapping". */
const char *ynode_kind(const struct ynode *n);

/* "prefix.leaf" (or "leaf" at the top level) into @out; a path longer than @len is cut with "...". */
void ytree_path_join(char *out, size_t len, const char *prefix, const char *leaf);

#endif
