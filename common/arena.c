/* arena.c: a configuration's memory, freed at once (see arena.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arena.h"

/* Under AddressSanitizer, what no request was given stays poisoned, and
 * requests are kept apart by a red zone: a write one byte past a string
 * (the parser splits values in place) is caught as it would be between
 * heap blocks, by the tests and the fuzzer alike. */
#if defined(__SANITIZE_ADDRESS__)
#define TS_ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TS_ARENA_ASAN 1
#endif
#endif
#ifdef TS_ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define ARENA_REDZONE 16
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define ARENA_REDZONE 0
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define ARENA_FIRST 2048
#define ARENA_GROW_MAX (64 * 1024)
/* from this size on a block is a populated mapping */
#define ARENA_MAP_MIN (64 * 1024)

struct ts_arena_block {
	ts_arena_block *next;
	size_t size; /* of the whole block, this header included */
	int mapped;
};

#define ARENA_ALIGN 16
#define ARENA_HDR ((sizeof(ts_arena_block) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

static ts_arena_block *
block_new(ts_arena *a, size_t need)
{
	size_t size = a->last_size ? a->last_size * 2 : ARENA_FIRST;
	ts_arena_block *b;

	if (size > ARENA_GROW_MAX)
		size = ARENA_GROW_MAX;
	if (need > (size_t)-1 / 2 - ARENA_HDR)
		return NULL;
	if (size < need + ARENA_HDR) /* a large request gets its own */
		size = need + ARENA_HDR;
	else
		a->last_size = size;
	if (size >= ARENA_MAP_MIN) {
		long page = sysconf(_SC_PAGESIZE);
		void *m;

		if (page <= 0)
			page = 4096;
		size = (size + (size_t)page - 1) & ~((size_t)page - 1);
		m = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		b = m;
		b->mapped = 1;
	} else {
		if ((b = malloc(size)) == NULL)
			return NULL;
		b->mapped = 0;
	}
	b->size = size;
	POISON((char *)b + ARENA_HDR, size - ARENA_HDR);
	return b;
}

void *
ts_arena_alloc(ts_arena *a, size_t n)
{
	size_t want = n;
	char *p;

	if (n > (size_t)-1 / 2)
		return NULL;
	n = (n + ARENA_REDZONE + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (n == 0)
		n = ARENA_ALIGN;
	if (a->head == NULL || a->left < n) {
		ts_arena_block *b = block_new(a, n);

		if (b == NULL)
			return NULL;
		if (a->head != NULL && b->size - ARENA_HDR - n < a->left) {
			/* a block filled by this one request: keep filling the
			 * current one afterwards */
			b->next = a->head->next;
			a->head->next = b;
			UNPOISON((char *)b + ARENA_HDR, want);
			return (char *)b + ARENA_HDR;
		}
		b->next = a->head;
		a->head = b;
		a->next = (char *)b + ARENA_HDR;
		a->left = b->size - ARENA_HDR;
	}
	p = a->next;
	a->next += n;
	a->left -= n;
	UNPOISON(p, want);
	return p;
}

char *
ts_arena_strndup(ts_arena *a, const char *s, size_t n)
{
	char *p = n < (size_t)-1 / 2 ? ts_arena_alloc(a, n + 1) : NULL;

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

void
ts_arena_free(ts_arena *a)
{
	ts_arena_block *b = a->head, *next;

	for (; b != NULL; b = next) {
		next = b->next;
		UNPOISON((char *)b + ARENA_HDR, b->size - ARENA_HDR);
		if (b->mapped)
			munmap(b, b->size);
		else
			free(b);
	}
	memset(a, 0, sizeof(*a));
}
