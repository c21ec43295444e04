/* names.h - the generator's enums (protocol, send mode, server, huge pages) and the words for them */
#ifndef ZCGEN_NAMES_H
#define ZCGEN_NAMES_H

#include "gen/pacer.h"

enum gen_proto { GEN_PROTO_TCP, GEN_PROTO_UDP };
enum gen_mode { GEN_MODE_COPY, GEN_MODE_ZC, GEN_MODE_ZC_FIXED, GEN_MODE_AUTO };
enum gen_server { GEN_SERVER_NONE, GEN_SERVER_ZCGEN, GEN_SERVER_IPERF3 };
enum gen_hugepages { GEN_HUGEPAGES_AUTO, GEN_HUGEPAGES_ON, GEN_HUGEPAGES_OFF };

/*
 * The words of each enum, in its order and ended by NULL: what a profile
 * accepts (gen/profile.c's key table takes these lists), the reports print
 * and the JSON writes. rate.per and rate.layer name gen/pacer.h's enums.
 */
extern const char *const gen_proto_words[];
extern const char *const gen_mode_words[];
extern const char *const gen_server_words[];
extern const char *const gen_hugepages_words[];
extern const char *const gen_rate_per_words[];
extern const char *const gen_rate_layer_words[];

/* The word for a value: "tcp", "zc-fixed", "iperf3"; "?" for a value out of range. */
const char *gen_proto_name(enum gen_proto p);
const char *gen_mode_name(enum gen_mode m);
const char *gen_server_name(enum gen_server s);
const char *gen_hugepages_name(enum gen_hugepages h);
const char *gen_rate_per_name(enum pacer_per p);
const char *gen_rate_layer_name(enum pacer_layer l);

/* Parsers for the names printed by gen_proto_name() & co (any case): 0 or -EINVAL. */
int gen_proto_parse(const char *s, enum gen_proto *out);
int gen_mode_parse(const char *s, enum gen_mode *out);
int gen_server_parse(const char *s, enum gen_server *out);

/* The index of @s in the NULL-ended list @words, ignoring case; -1 when it is not there. */
int names_index(const char *const *words, const char *s);

#endif
