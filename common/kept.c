/* kept.c: key file bytes kept for their first use (see kept.h). */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kept.h"

/* Linux 5.14; a C library older than 2.35 may not name it */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* A chunk is address space reserved, not memory: only the pages handed
 * out are populated, so its size costs no resident memory (a host with
 * strict overcommit charges it all the same). */
#define KEPT_CHUNK (1024 * 1024)

struct ts_kept_chunk {
	atomic_long refs;
	size_t size; /* of the whole mapping, this header included */
};

/* The header rounded up so the first bytes after it are aligned (the
 * bytes are only ever read as chars: the rest need not be). */
#define KEPT_HDR ((sizeof(ts_kept_chunk) + 15) & ~(size_t)15)

static size_t
page_size(void)
{
	long page = sysconf(_SC_PAGESIZE);

	return page > 0 ? (size_t)page : 4096;
}

static ts_kept_chunk *
chunk_new(size_t need)
{
	size_t size = KEPT_CHUNK, page = page_size();
	ts_kept_chunk *c;
	void *m;

	if (need > (size_t)-1 / 2 - KEPT_HDR - page)
		return NULL;
	if (size < need + KEPT_HDR) /* a file larger than a chunk gets its own */
		size = (need + KEPT_HDR + page - 1) & ~(page - 1);
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	(void)madvise(m, size, MADV_DONTDUMP); /* best effort: M4 */
	c = m; /* faults in the first page */
	atomic_init(&c->refs, 1); /* the load filling it */
	c->size = size;
	return c;
}

/* Set once a kernel (before 5.14) refused MADV_POPULATE_WRITE: not asked
 * again in this process. */
static atomic_int no_populate;

/* The pages under [populated, end) that are not yet, in one system call
 * rather than a fault per page as the read fills them. Best effort: a
 * kernel without MADV_POPULATE_WRITE, or one short of memory, leaves the
 * read to fault them in one by one. */
static void
populate(ts_kept_fill *fill, char *end)
{
	size_t page = page_size();
	char *to;

	if (end <= fill->populated)
		return;
	to = fill->populated + (((size_t)(end - fill->populated) + page - 1) & ~(page - 1));
	if (!atomic_load_explicit(&no_populate, memory_order_relaxed) &&
	    madvise(fill->populated, (size_t)(to - fill->populated), MADV_POPULATE_WRITE) != 0 &&
	    errno == EINVAL)
		atomic_store_explicit(&no_populate, 1, memory_order_relaxed);
	fill->populated = to;
}

char *
ts_kept_alloc(ts_kept_fill *fill, size_t need, ts_kept_chunk **chunk)
{
	char *p;

	*chunk = NULL;
	if (fill->cur == NULL || fill->left < need) {
		ts_kept_chunk *c = chunk_new(need);

		if (c == NULL)
			return NULL;
		ts_kept_done(fill);
		fill->cur = c;
		fill->populated = (char *)c + page_size(); /* the header's page */
		fill->next = (char *)c + KEPT_HDR;
		fill->left = c->size - KEPT_HDR;
	}
	p = fill->next;
	fill->next += need;
	fill->left -= need;
	populate(fill, fill->next);
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
	fill->populated = NULL;
}
