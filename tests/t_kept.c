/* t_kept.c: where a first load keeps key file bytes until their first use
 * (K15, common/kept.c): only the pages handed out are in memory, a chunk
 * goes when its last holder lets go, and a file larger than a chunk gets
 * one of its own. mincore() tells which pages are resident, and ENOMEM
 * for a range no longer mapped. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kept.h"
#include "tap.h"

#define CHUNK (1024 * 1024) /* kept.c's chunk: address space, not memory */

static size_t page;

static char *
page_of(const char *p)
{
	return (char *)((uintptr_t)p & ~(uintptr_t)(page - 1));
}

/* How many of the pages in [from, from + n pages) are resident; -1 when
 * the range is not mapped any more. */
static long
resident(char *from, size_t n)
{
	unsigned char vec[CHUNK / 4096 + 1];
	long r = 0;
	size_t i;

	if (n > sizeof(vec) || mincore(from, n * page, vec) != 0)
		return errno == ENOMEM ? -1 : -2;
	for (i = 0; i < n; i++)
		r += vec[i] & 1;
	return r;
}

/* Whether this kernel populates on request (5.14 on): if not, the pages
 * handed out come in as they are written, and only that can be checked. */
static int
kernel_populates(void)
{
	char *m = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int yes;

	if (m == MAP_FAILED)
		return 0;
	yes = madvise(m, page, 23 /* MADV_POPULATE_WRITE */) == 0;
	munmap(m, page);
	return yes;
}

int
main(void)
{
	ts_kept_fill fill;
	ts_kept_chunk *c[6];
	char *p[6], *base, *big;
	size_t sizes[] = { 1, 4000, 20000, 100, 17000 }, end, i, handed;
	long sz = sysconf(_SC_PAGESIZE);
	int populates;

	page = sz > 0 ? (size_t)sz : 4096;
	populates = kernel_populates();
	memset(&fill, 0, sizeof(fill));
	for (i = 0; i < 5; i++)
		p[i] = ts_kept_alloc(&fill, sizes[i], &c[i]);
	ok(p[0] != NULL && p[4] != NULL && c[0] == c[4], "K15_kept_small_files_share_one_chunk");
	base = page_of(p[0]);
	for (i = 1, end = 0; i < 5; i++)
		ok(p[i] == p[i - 1] + sizes[i - 1], "K15_kept_bytes_follow_each_other (%zu)", i);
	end = (size_t)(p[4] + sizes[4] - base);
	handed = (end + page - 1) / page;
	if (!populates) {
		tap_diag("this kernel refuses MADV_POPULATE_WRITE: handed-out pages come in "
		         "as written");
		for (i = 0; i < 5; i++)
			memset(p[i], 'x', sizes[i]);
	}
	ok(resident(base, handed) == (long)handed,
	    "K15_kept_pages_handed_out_are_in_memory (%ld of %zu)", resident(base, handed), handed);
	ok(resident(base + handed * page, CHUNK / page - handed) == 0,
	    "K15_kept_pages_not_handed_out_cost_no_memory (%ld)",
	    resident(base + handed * page, CHUNK / page - handed));
	memset(p[2], 'k', sizes[2]); /* bytes as a read leaves them */

	/* a file larger than a chunk: one of its own, all of it usable */
	big = ts_kept_alloc(&fill, 3 * CHUNK, &c[5]);
	ok(big != NULL && c[5] != c[0] && (big < base || big >= base + CHUNK),
	    "K15_kept_file_larger_than_a_chunk_gets_its_own");
	if (big != NULL) {
		memset(big, 'b', 3 * CHUNK);
		ok(big[0] == 'b' && big[3 * CHUNK - 1] == 'b', "K15_kept_large_file_all_usable");
	}

	/* the load is done with the first chunk (a new one was made); its
	 * files still hold it: it stays until the last of them lets go */
	for (i = 0; i < 4; i++)
		ts_kept_release(c[i]);
	ok(resident(base, 1) == 1 && p[2][0] == 'k' && p[2][sizes[2] - 1] == 'k',
	    "K15_kept_chunk_stays_while_a_file_holds_it");
	ts_kept_release(c[4]);
	ok(resident(base, 1) == -1, "K15_kept_chunk_unmapped_at_its_last_release");
	ts_kept_release(c[5]);
	ok(big == NULL || resident(page_of(big), 1) == 1,
	    "K15_kept_large_chunk_stays_while_the_load_holds_it");
	ts_kept_done(&fill);
	ok(big == NULL || resident(page_of(big), 1) == -1,
	    "K15_kept_large_chunk_unmapped_when_the_load_is_done");
	ts_kept_done(&fill); /* twice: as a failed load after a done one does */
	ok(fill.cur == NULL && fill.populated == NULL, "K15_kept_done_twice_is_harmless");
	ts_kept_release(NULL);
	return tap_done();
}
