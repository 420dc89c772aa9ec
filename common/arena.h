/*
 * arena.h: memory that lives and dies with one parsed configuration.
 *
 * Why: a host with thousands of [issuer] sections has tens of thousands of
 * settings. Copying each value into its own heap block cost more than
 * reading them, and a fresh process faulted in those blocks one page at a
 * time. So the parser keeps the file's bytes in an arena, points its
 * strings into them, and frees all of it at once (ts_conf_free). Large
 * blocks are mappings made with MAP_POPULATE: their pages come in one
 * system call.
 *
 * Not for secrets (a configuration holds none; key files are read by the
 * keyring). Owned by conf.c; one thread per arena.
 */
#ifndef TS_ARENA_H
#define TS_ARENA_H

#include <stddef.h>

typedef struct ts_arena_block ts_arena_block;

typedef struct ts_arena {
	ts_arena_block *head; /* the block being filled first */
	char *next;
	size_t left;
	size_t last_size;
} ts_arena;

/* n bytes, aligned for any pointer, or NULL when out of memory. */
void *ts_arena_alloc(ts_arena *a, size_t n);
/* A copy of the n bytes at s with a NUL after them, or NULL. */
char *ts_arena_strndup(ts_arena *a, const char *s, size_t n);
/* Every block; the arena is empty again. */
void ts_arena_free(ts_arena *a);

#endif
