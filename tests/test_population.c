/* SPDX-License-Identifier: MIT */
/* test_population.c - pages cost memory only once an allocation covers them, and are
 * given back when empty: the populated map of every chunk must match, page by page and
 * unit by unit, what mincore() says is resident; and the process's resident memory with
 * 1,000,000 live 64-byte allocations must be within 15% of 64 MB per possible CPU, and
 * fall back when they are freed. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc_state.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#ifndef UNDER_SANITIZER
#define UNDER_SANITIZER 0
#endif

/* Compares populated bits with residency for every dynamic chunk and used unit, system
 * page by system page (an allocator page is several of them under LIBPERCPU_PAGE_SIZE). */
static void check_residency_matches(const char *when)
{
	size_t sys_page = (size_t)sysconf(_SC_PAGESIZE), per_page = _pcpu_geo->page_size / sys_page;
	int sys_pages = (int)(_pcpu_geo->unit_size / sys_page);
	unsigned char *vec = malloc((size_t)sys_pages);
	bool exact = tu_populate_makes_resident();
	int mismatches = 0;

	for (int i = 1; i < _pcpu_alloc.max_chunks; i++) {
		struct pcpu_chunk *c = _pcpu_alloc.chunks[i];
		if (!c)
			continue;
		for (int u = 0; u < _pcpu_geo->nr_used; u++) {
			CHECK_EQ(mincore(c->base + _pcpu_geo->used_unit_base[u], _pcpu_geo->unit_size, vec), 0);
			for (int sp = 0; sp < sys_pages; sp++) {
				size_t pg = (size_t)sp / per_page;
				bool pop = (c->map.populated[pg / (8 * sizeof(long))] >>
					    (pg % (8 * sizeof(long)))) & 1;
				if (pop != (vec[sp] & 1) && (exact || !pop))
					mismatches++;
			}
		}
	}
	if (mismatches)
		fprintf(stderr, "%s: %d pages whose residency differs from the populated map\n",
			when, mismatches);
	CHECK_EQ(mismatches, 0);
	free(vec);
}

static size_t populated_pages(void)
{
	struct pcpu_stats st;
	pcpu_get_stats(&st);
	return st.nr_populated_pages;
}

int main(void)
{
	long n = UNDER_SANITIZER ? 100000 : 1000000;
	void **objs = malloc((size_t)n * sizeof(void *));
	size_t first_pages, pages_live, pages_after;
	long rss0, rss1, rss2;

	/* resident before the baseline (a zero memset after malloc may be folded away) */
	memset(objs, 0xff, (size_t)n * sizeof(void *));
	CHECK_EQ(pcpu_init(), 0);
	pcpu_balance();
	first_pages = populated_pages();
	rss0 = tu_rss_kib();

	for (long i = 0; i < n; i++) {
		objs[i] = pcpu_alloc(64, 4);
		if (!objs[i]) {
			CHECK(!"allocation failed");
			n = i;
			break;
		}
		/* writing every copy is what a user does; it must not add memory */
		unsigned int cpu;
		pcpu_for_each_possible_cpu(cpu)
			memset(pcpu_ptr(objs[i], cpu), 0x5a, 64);
	}
	pages_live = populated_pages();
	rss1 = tu_rss_kib();
	check_residency_matches("with live allocations");
	/* 64-byte objects: the populated pages are what the objects need, plus the
	 * small pool of empty populated pages kept for atomic allocations */
	size_t need = ((size_t)n * 64 + _pcpu_geo->page_size - 1) / _pcpu_geo->page_size;
	fprintf(stderr, "populated pages per unit: %zu before, %zu with %ld objects (need %zu)\n",
		first_pages, pages_live, n, need);
	CHECK(pages_live >= need);
	CHECK(pages_live <= first_pages + need + PCPU_EMPTY_POP_PAGES_HIGH + 2);

	double expect_kib = (double)n * 64 * pcpu_num_possible_cpus() / 1024;
	fprintf(stderr, "RSS: %ld KiB before, %ld KiB live (+%ld, ideal %.0f)\n", rss0, rss1,
		rss1 - rss0, expect_kib);
	if (!UNDER_SANITIZER) {
		CHECK((rss1 - rss0) <= expect_kib * 1.15);
		CHECK((rss1 - rss0) >= expect_kib * 0.95);
	}

	/* free every other one, then the rest */
	for (long i = 0; i < n; i += 2)
		pcpu_free(objs[i]);
	check_residency_matches("after freeing half");
	for (long i = 1; i < n; i += 2)
		pcpu_free(objs[i]);
	pcpu_balance();
	pages_after = populated_pages();
	rss2 = tu_rss_kib();
	check_residency_matches("after freeing all");
	fprintf(stderr, "after free: %zu populated pages per unit, RSS %ld KiB\n", pages_after,
		rss2);
	CHECK(pages_after <= first_pages + PCPU_EMPTY_POP_PAGES_HIGH + 2);
	if (!UNDER_SANITIZER)
		CHECK(rss2 - rss0 <= (rss1 - rss0) / 20);
	free(objs);
	TEST_DONE();
}
