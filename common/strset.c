/* strset.c: a set of byte strings by open addressing (see strset.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "strset.h"

/* Eight bytes a step: the strings hashed at load are issuer URLs of some
 * sixty bytes, thousands of them. */
uint64_t
ts_hash(uint64_t seed, const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ seed ^ ((uint64_t)len * 0xff51afd7ed558ccdULL);
	uint64_t w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
	}
	w = 0;
	memcpy(&w, s, len);
	h ^= w;
	/* every input bit reaches the low bits a table mask keeps */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

int
ts_strset_init(ts_strset *s, size_t n)
{
	size_t cap = 8;

	s->slot = NULL;
	if (n > UINT32_MAX / 4)
		return -1;
	/* at most half full, so that a probe chain stays short */
	while (cap < 2 * n)
		cap *= 2;
	s->mask = cap - 1;
	s->slot = calloc(cap, sizeof(*s->slot));
	return s->slot == NULL ? -1 : 0;
}

static size_t
find(const ts_strset *s, const char *k, size_t len)
{
	size_t j = (size_t)ts_hash(0, k, len) & s->mask;

	for (; s->slot[j].k != NULL; j = (j + 1) & s->mask)
		if (s->slot[j].len == len && memcmp(s->slot[j].k, k, len) == 0)
			break;
	return j;
}

size_t
ts_strset_put(ts_strset *s, const char *k, size_t len, size_t idx)
{
	size_t j = find(s, k, len);

	if (s->slot[j].k != NULL)
		return s->slot[j].idx;
	s->slot[j] = (ts_strset_slot){ k, (uint32_t)len, (uint32_t)idx };
	return TS_STRSET_NONE;
}

size_t
ts_strset_get(const ts_strset *s, const char *k, size_t len)
{
	size_t j = find(s, k, len);

	return s->slot[j].k != NULL ? s->slot[j].idx : TS_STRSET_NONE;
}

void
ts_strset_free(ts_strset *s)
{
	free(s->slot);
	s->slot = NULL;
}
