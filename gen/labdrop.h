/* labdrop.h - what a run in the drop lab needs: UDP, no server, the lab's settings */
#ifndef ZCGEN_LABDROP_H
#define ZCGEN_LABDROP_H

#include <stddef.h>
#include "gen/gen.h"
#include "nic/nic.h"

/**
 * labdrop_fit() - fit a profile and a lab configuration to the drop lab
 * @prof: the profile; target.server becomes none (the lab has no receiver)
 * @lc: set to the drop flavour, no sink, MTU LAB_DROP_MTU
 * @note: what was changed in @prof, in words; "" when nothing
 * @notelen: its size
 *
 * TCP is refused: a connection needs the receiver's SYN-ACK and ACKs, and
 * the drop lab drops every packet before the wire.
 *
 * Return: 0, or -EPROTONOSUPPORT for TCP with the reason in @note.
 */
int labdrop_fit(struct gen_profile *prof, struct lab_cfg *lc, char *note, size_t notelen);

#endif
