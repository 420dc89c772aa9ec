/*
 * strset.h: a set of byte strings, each with the index of the record it
 * names, by open addressing. For the checks that would otherwise compare
 * every pair (or sort) when a host has thousands of sections: a lookup
 * costs one hash of the string and, almost always, one comparison. The
 * set borrows the strings: they must outlive it.
 */
#ifndef TS_STRSET_H
#define TS_STRSET_H

#include <stddef.h>
#include <stdint.h>

/* Not a keyed hash: the tables it indexes are the administrator's, and a
 * chosen lookup string only walks one table's probe chain. */
uint64_t ts_hash(uint64_t seed, const void *p, size_t len);

typedef struct ts_strset_slot {
	const char *k; /* NULL: free */
	uint32_t len, idx;
} ts_strset_slot;

typedef struct ts_strset {
	ts_strset_slot *slot;
	size_t mask;
} ts_strset;

#define TS_STRSET_NONE ((size_t)-1)

/* Room for n strings, each shorter than 4 GiB, with indexes below 4 Gi
 * (a configuration is at most 1 MiB). Returns -1 when out of memory. */
int ts_strset_init(ts_strset *s, size_t n);
/* The index stored under k (len bytes), or TS_STRSET_NONE after storing
 * idx under it. At most n strings (ts_strset_init) may be put. */
size_t ts_strset_put(ts_strset *s, const char *k, size_t len, size_t idx);
/* The index stored under k, or TS_STRSET_NONE. */
size_t ts_strset_get(const ts_strset *s, const char *k, size_t len);
void ts_strset_free(ts_strset *s);

#endif
