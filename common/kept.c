/* kept.c: key file bytes kept for their first use (see kept.h). */
#include "config.h"

#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kept.h"

#define KEPT_FIRST (16 * 1024)
#define KEPT_MAX (256 * 1024)

struct ts_kept_chunk {
	atomic_long refs;
	size_t size; /* of the whole mapping, this header included */
};

/* The header rounded up so the bytes after it stay aligned. */
#define KEPT_HDR ((sizeof(ts_kept_chunk) + 15) & ~(size_t)15)

static ts_kept_chunk *
chunk_new(ts_kept_fill *fill, size_t need)
{
	size_t size = fill->last_size ? fill->last_size * 2 : KEPT_FIRST;
	long page = sysconf(_SC_PAGESIZE);
	ts_kept_chunk *c;
	void *m;

	if (page <= 0)
		page = 4096;
	if (size > KEPT_MAX)
		size = KEPT_MAX;
	if (size < need + KEPT_HDR) /* a file larger than a chunk gets its own */
		size = (need + KEPT_HDR + (size_t)page - 1) & ~((size_t)page - 1);
	m = mmap(
	    NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	(void)madvise(m, size, MADV_DONTDUMP); /* best effort: M4 */
	c = m;
	atomic_init(&c->refs, 1); /* the load filling it */
	c->size = size;
	fill->last_size = size;
	return c;
}

char *
ts_kept_alloc(ts_kept_fill *fill, size_t need, ts_kept_chunk **chunk)
{
	char *p;

	*chunk = NULL;
	if (fill->cur == NULL || fill->left < need) {
		ts_kept_chunk *c = chunk_new(fill, need);

		if (c == NULL)
			return NULL;
		ts_kept_done(fill);
		fill->cur = c;
		fill->next = (char *)c + KEPT_HDR;
		fill->left = c->size - KEPT_HDR;
	}
	p = fill->next;
	fill->next += need;
	fill->left -= need;
	atomic_fetch_add(&fill->cur->refs, 1);
	*chunk = fill->cur;
	return p;
}

void
ts_kept_release(ts_kept_chunk *chunk)
{
	if (chunk != NULL && atomic_fetch_sub(&chunk->refs, 1) == 1)
		munmap(chunk, chunk->size);
}

void
ts_kept_done(ts_kept_fill *fill)
{
	ts_kept_release(fill->cur);
	fill->cur = NULL;
	fill->next = NULL;
	fill->left = 0;
}
