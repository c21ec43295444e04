/* names.c - the words for the generator's enums, printed and parsed one way */
#include <errno.h>
#include <stddef.h>
#include <strings.h>
#include "gen/names.h"

const char *const gen_proto_words[] = { "tcp", "udp", NULL };
const char *const gen_mode_words[] = { "copy", "zc", "zc-fixed", "auto", NULL };
const char *const gen_server_words[] = { "none", "zcgen", "iperf3", NULL };
const char *const gen_hugepages_words[] = { "auto", "on", "off", NULL };
/* in enum pacer_per and enum pacer_layer order */
const char *const gen_rate_per_words[] = { "total", "queue", "stream", NULL };
const char *const gen_rate_layer_words[] = { "payload", "l2", "l1", NULL };

#define N_WORDS(w) ((unsigned)(sizeof(w) / sizeof((w)[0]) - 1))
_Static_assert(N_WORDS(gen_proto_words) == GEN_PROTO_UDP + 1, "a word for each enum gen_proto");
_Static_assert(N_WORDS(gen_mode_words) == GEN_MODE_AUTO + 1, "a word for each enum gen_mode");
_Static_assert(N_WORDS(gen_server_words) == GEN_SERVER_IPERF3 + 1, "a word for each enum gen_server");
_Static_assert(N_WORDS(gen_hugepages_words) == GEN_HUGEPAGES_OFF + 1, "a word for each enum gen_hugepages");
_Static_assert(N_WORDS(gen_rate_per_words) == PACER_PER_STREAM + 1, "a word for each enum pacer_per");
_Static_assert(N_WORDS(gen_rate_layer_words) == PACER_LAYER_L1 + 1, "a word for each enum pacer_layer");

int names_index(const char *const *words, const char *s)
{
	for (int i = 0; words[i]; i++)
		if (!strcasecmp(words[i], s))
			return i;
	return -1;
}

static const char *word_name(const char *const *words, unsigned n, unsigned i)
{
	return i < n ? words[i] : "?";
}

const char *gen_proto_name(enum gen_proto p)
{
	return word_name(gen_proto_words, N_WORDS(gen_proto_words), p);
}

const char *gen_mode_name(enum gen_mode m)
{
	return word_name(gen_mode_words, N_WORDS(gen_mode_words), m);
}

const char *gen_server_name(enum gen_server s)
{
	return word_name(gen_server_words, N_WORDS(gen_server_words), s);
}

const char *gen_hugepages_name(enum gen_hugepages h)
{
	return word_name(gen_hugepages_words, N_WORDS(gen_hugepages_words), h);
}

const char *gen_rate_per_name(enum pacer_per p)
{
	return word_name(gen_rate_per_words, N_WORDS(gen_rate_per_words), p);
}

const char *gen_rate_layer_name(enum pacer_layer l)
{
	return word_name(gen_rate_layer_words, N_WORDS(gen_rate_layer_words), l);
}

int gen_proto_parse(const char *s, enum gen_proto *out)
{
	int i = names_index(gen_proto_words, s);

	if (i < 0)
		return -EINVAL;
	*out = (enum gen_proto)i;
	return 0;
}

int gen_mode_parse(const char *s, enum gen_mode *out)
{
	int i = names_index(gen_mode_words, s);

	if (i < 0)
		return -EINVAL;
	*out = (enum gen_mode)i;
	return 0;
}

int gen_server_parse(const char *s, enum gen_server *out)
{
	int i = names_index(gen_server_words, s);

	if (i < 0)
		return -EINVAL;
	*out = (enum gen_server)i;
	return 0;
}
