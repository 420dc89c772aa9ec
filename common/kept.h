/*
 * kept.h: the bytes of key files a process's first load reads but parses
 * only at their first use (K15), kept in a few large mappings.
 *
 * Why not malloc: a fresh smtpd process or auth worker with 10,000 keys
 * keeps about 2 MB of such bytes, and faulting in 500 fresh heap pages one
 * by one cost more than the rest of its load. A chunk is a large mapping
 * whose pages are populated as they are handed out (MADV_POPULATE_WRITE),
 * a few at a time in one system call, and none of its unused end.
 *
 * A chunk is one anonymous private mapping, left out of core dumps; its
 * header counts the files whose bytes it holds, plus the load still
 * filling it. The last release unmaps it. The bytes should be public keys
 * (a file that may hold an HMAC secret is parsed at load), but a private
 * member put there by mistake is what K7 refuses at the parse: keyring.c
 * wipes each file's bytes when it drops them (M4).
 *
 * Owned by keyring.c; one ts_kept_fill per load, used by one thread.
 */
#ifndef TS_KEPT_H
#define TS_KEPT_H

#include <stddef.h>

typedef struct ts_kept_chunk ts_kept_chunk;

/* The chunk a load is filling, and how much of it is left. */
typedef struct ts_kept_fill {
	ts_kept_chunk *cur;
	char *next;
	size_t left;
	char *populated; /* cur's pages below this were asked for */
} ts_kept_fill;

/* need bytes in fill's chunk (a new chunk when it is full), with a
 * reference on that chunk in *chunk; NULL when out of memory. A file is
 * read straight into them (ts_read_file_with): one copy, not two. */
char *ts_kept_alloc(ts_kept_fill *fill, size_t need, ts_kept_chunk **chunk);
/* Drops one reference; the last unmaps the chunk. NULL is ignored. */
void ts_kept_release(ts_kept_chunk *chunk);
/* The load is done filling: drops its reference on the current chunk. */
void ts_kept_done(ts_kept_fill *fill);

#endif
