/* namepat.h - match names against templates such as "i40e-{if}-TxRx-{n}" */
#ifndef ZCGEN_NIC_NAMEPAT_H
#define ZCGEN_NIC_NAMEPAT_H

#include <stdbool.h>

/** struct namepat_var - a named value substituted for "{key}" in a template */
struct namepat_var {
	const char *key;
	const char *val;	/* NULL: templates that use {key} never match */
};

/**
 * namepat_match() - whether @name matches @tmpl exactly
 * @tmpl: literal text with placeholders: "{n}" is a decimal number (the
 *        queue), "{key}" the value of the variable @key in @vars
 * @name: the name to test ("eth1-TxRx-3")
 * @vars: variables
 * @nvars: number of @vars
 * @n: output: the number that matched "{n}" (untouched if the template has none)
 *
 * Drivers name IRQs and statistics from a handful of shapes; a table of
 * templates keeps them in one place instead of a parser per driver.
 *
 * Return: true on a match.
 */
bool namepat_match(const char *tmpl, const char *name, const struct namepat_var *vars,
		   unsigned int nvars, unsigned int *n);

#endif
