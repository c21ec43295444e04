/* labdrop.c - what a run in the drop lab needs: UDP, no server, the lab's settings */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include "gen/labdrop.h"

int labdrop_fit(struct gen_profile *prof, struct lab_cfg *lc, char *note, size_t notelen)
{
	note[0] = '\0';
	if (prof->proto != GEN_PROTO_UDP) {
		snprintf(note, notelen, "the drop lab takes UDP only: TCP needs the receiver's "
			 "SYN-ACK and ACKs, and the drop lab drops every packet at the sending "
			 "veth's qdisc; use --protocol udp, or --lab (the veth lab) for TCP");
		return -EPROTONOSUPPORT;
	}
	lc->flavour = LAB_DROP;
	lc->sink = false;
	lc->mtu = LAB_DROP_MTU;
	if (prof->server != GEN_SERVER_NONE) {
		snprintf(note, notelen, "server %s -> none (the drop lab has no receiver)",
			 prof->server == GEN_SERVER_IPERF3 ? "iperf3" : "zcgen");
		prof->server = GEN_SERVER_NONE;
	}
	return 0;
}
