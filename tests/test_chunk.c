/* SPDX-License-Identifier: MIT */
/* test_chunk.c - the chunk bitmap allocator (src/chunk.c): each hint case by hand, then
 * millions of random operations checked against a plain reference model.  (Its timing
 * is bench/bench_chunk.c's.) */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chunk.h"
#include "chunk_model.h"
#include "testutil.h"

/* The page size of the chunks under test: the directed tests use 4 KiB pages, the
 * random ones each supported size. */
static int page_bytes = 4096;
#define PAGE page_bytes
#define BLOCK_BITS (page_bytes / PCPU_MIN_ALLOC_SIZE)

static char errbuf[512];

/* Full recount; reports the reason and the test step on failure. */
#define VERIFY(m, step)                                                             \
	do {                                                                        \
		if (_pcpu_chunk_map_verify((m), errbuf, sizeof(errbuf))) {           \
			fprintf(stderr, "%s:%d: verify failed (%s): %s\n", __FILE__,    \
				__LINE__, (step), errbuf);                          \
			tu_failures++;                                              \
			if (tu_failures > 20)                                       \
				abort();                                            \
		}                                                                   \
	} while (0)

/* find_fit + alloc_area, as alloc.c will call them; returns the byte offset or -1. */
static int chunk_alloc(struct pcpu_chunk_map *m, int bytes, size_t align, bool pop_only)
{
	int bits = (bytes + PCPU_MIN_ALLOC_SIZE - 1) / PCPU_MIN_ALLOC_SIZE;
	int start = _pcpu_chunk_find_fit(m, bits, align, pop_only);

	if (start < 0)
		return -1;
	return _pcpu_chunk_alloc_area(m, bits, align, start);
}

/* ---- deterministic cases ------------------------------------------------------- */

static void check_md(const struct pcpu_block_md *md, int first_free, int left, int right,
		     int contig, int contig_start, int scan, int scan_start)
{
	CHECK_EQ(md->first_free, first_free);
	CHECK_EQ(md->left_free, left);
	CHECK_EQ(md->right_free, right);
	CHECK_EQ(md->contig_hint, contig);
	if (contig)
		CHECK_EQ(md->contig_hint_start, contig_start);
	CHECK_EQ(md->scan_hint, scan);
	if (scan)
		CHECK_EQ(md->scan_hint_start, scan_start);
}

static void test_init_and_bad_args(void)
{
	struct pcpu_chunk_map m;

	CHECK_EQ(_pcpu_chunk_map_init(&m, 4 * PAGE, (size_t)PAGE, 0, 0), 0);
	VERIFY(&m, "init");
	CHECK_EQ(m.nr_pages, 4);
	CHECK_EQ(m.map_bits, 4 * BLOCK_BITS);
	CHECK_EQ(m.free_bytes, 4 * PAGE);
	CHECK_EQ(m.nr_populated, 0);
	CHECK_EQ(m.nr_empty_pop_pages, 0);
	check_md(&m.chunk_md, 0, 4096, 4096, 4096, 0, 0, 0);
	for (int i = 0; i < 4; i++) {
		check_md(&m.md_blocks[i], 0, 1024, 1024, 1024, 0, 0, 0);
		CHECK(_pcpu_chunk_page_empty(&m, i));
	}
	CHECK_EQ(_pcpu_chunk_find_fit(&m, 4097, 4, false), -1);
	CHECK_EQ(_pcpu_chunk_find_fit(&m, 0, 4, false), -1);
	CHECK_EQ(_pcpu_chunk_find_fit(&m, 1, 3, false), -1);      /* not a power of two */
	CHECK_EQ(_pcpu_chunk_find_fit(&m, 1, 8192, false), -1);   /* above a page */
	CHECK_EQ(_pcpu_chunk_find_fit(&m, 1, 4, true), -1);       /* nothing populated */
	CHECK_EQ(_pcpu_chunk_find_fit(&m, 4096, 4096, false), 0);
	CHECK_EQ(_pcpu_chunk_alloc_area(&m, INT_MAX, 4, 0), -1);
	CHECK_EQ(_pcpu_chunk_alloc_area(&m, 4, 4, -1), -1);
	CHECK_EQ(_pcpu_chunk_alloc_area(&m, 4, 4, 4096), -1);
	CHECK_EQ(_pcpu_chunk_alloc_area(&m, 4096, 4, 1), -1);  /* window ends at the map */
	VERIFY(&m, "refused allocations");
	_pcpu_chunk_map_destroy(&m);

	CHECK_EQ(_pcpu_chunk_map_init(&m, 0, (size_t)PAGE, 0, 0), -1);
	CHECK_EQ(_pcpu_chunk_map_init(&m, PAGE + 4, (size_t)PAGE, 0, 0), -1);
	CHECK_EQ(_pcpu_chunk_map_init(&m, PAGE, (size_t)PAGE, 2, 0), -1);
	CHECK_EQ(_pcpu_chunk_map_init(&m, PAGE, (size_t)PAGE, 0, -4), -1);
	CHECK_EQ(_pcpu_chunk_map_init(&m, PAGE, (size_t)PAGE, 2048, 2048), -1);
	/* page sizes: powers of two from 4 to 64 KiB that divide the unit */
	CHECK_EQ(_pcpu_chunk_map_init(&m, 65536, 2048, 0, 0), -1);
	CHECK_EQ(_pcpu_chunk_map_init(&m, 65536, 12288, 0, 0), -1);
	CHECK_EQ(_pcpu_chunk_map_init(&m, 131072, 131072, 0, 0), -1);
	CHECK_EQ(_pcpu_chunk_map_init(&m, 65536, 32768, 0, 0), 0);
	CHECK_EQ(m.nr_pages, 2);
	CHECK_EQ(m.map_bits, 65536 / PCPU_MIN_ALLOC_SIZE);
	_pcpu_chunk_map_destroy(&m);
	CHECK_EQ(_pcpu_chunk_map_init(&m, 3 * 16384, 16384, 0, 0), 0);
	CHECK_EQ(chunk_alloc(&m, 4, 16384, false), 0);
	CHECK_EQ(chunk_alloc(&m, 4, 16384, false), 16384);   /* aligned to a whole page */
	CHECK_EQ(chunk_alloc(&m, 4, 32768, false), -1);      /* more than a page: refused */
	VERIFY(&m, "16 KiB pages");
	_pcpu_chunk_map_destroy(&m);
}

/* An allocation at the start of the contig run, then one in its middle. */
static void test_alloc_contig_start_and_middle(void)
{
	struct pcpu_chunk_map m;

	CHECK_EQ(_pcpu_chunk_map_init(&m, 4 * PAGE, (size_t)PAGE, 0, 0), 0);
	CHECK_EQ(chunk_alloc(&m, 64, 4, false), 0);
	VERIFY(&m, "alloc at contig start");
	check_md(&m.md_blocks[0], 16, 0, 1008, 1008, 16, 0, 0);
	check_md(&m.chunk_md, 16, 0, 4080, 4080, 16, 0, 0);
	CHECK_EQ(m.free_bytes, 4 * PAGE - 64);

	/* 16 bits at bit 500 cut block 0's run into [16, 500) and [516, 1024) */
	CHECK_EQ(_pcpu_chunk_alloc_area(&m, 16, 4, 500), 2000);
	VERIFY(&m, "alloc in contig middle");
	check_md(&m.md_blocks[0], 16, 0, 508, 508, 516, 484, 16);
	check_md(&m.chunk_md, 16, 0, 3580, 3580, 516, 484, 16);

	/* a request longer than the scan run starts after it */
	CHECK_EQ(_pcpu_chunk_find_fit(&m, 600, 4, false), 516);
	/* a short one starts at first_free */
	CHECK_EQ(_pcpu_chunk_find_fit(&m, 8, 4, false), 16);
	/* filling the scan run promotes nothing; the hint just goes */
	CHECK_EQ(_pcpu_chunk_alloc_area(&m, 484, 4, 16), 64);
	VERIFY(&m, "scan run filled");
	check_md(&m.md_blocks[0], 516, 0, 508, 508, 516, 0, 0);
	CHECK_EQ(m.chunk_md.first_free, 516);

	/* an allocation that takes the whole contig run of block 0 and more */
	CHECK_EQ(_pcpu_chunk_alloc_area(&m, 1000, 4, 516), 516 * 4);
	VERIFY(&m, "across blocks");
	check_md(&m.md_blocks[0], 1024, 0, 0, 0, 0, 0, 0);
	check_md(&m.md_blocks[1], 492, 0, 532, 532, 492, 0, 0);
	check_md(&m.chunk_md, 1516, 0, 2580, 2580, 1516, 0, 0);
	_pcpu_chunk_map_destroy(&m);
}

/* Frees that join runs across block edges, with the chunk hints following. */
static void test_free_merge_across_blocks(void)
{
	struct pcpu_chunk_map m;
	int x, y, z;

	CHECK_EQ(_pcpu_chunk_map_init(&m, 4 * PAGE, (size_t)PAGE, 0, 0), 0);
	_pcpu_chunk_mark_populated(&m, 0, 4);
	CHECK_EQ(m.nr_empty_pop_pages, 4);
	x = chunk_alloc(&m, 1000 * 4, 4, false);   /* [0, 1000) */
	y = chunk_alloc(&m, 100 * 4, 4, false);    /* [1000, 1100), crosses into block 1 */
	z = chunk_alloc(&m, 1000 * 4, 4, false);   /* [1100, 2100), crosses into block 2 */
	CHECK_EQ(x, 0);
	CHECK_EQ(y, 4000);
	CHECK_EQ(z, 4400);
	CHECK_EQ(m.nr_empty_pop_pages, 1);
	VERIFY(&m, "three allocations");

	CHECK_EQ(_pcpu_chunk_free_area(&m, y), 400);
	VERIFY(&m, "free across edge");
	CHECK_EQ(m.md_blocks[0].right_free, 24);
	CHECK_EQ(m.md_blocks[1].left_free, 76);
	check_md(&m.chunk_md, 1000, 0, 1996, 1996, 2100, 100, 1000);

	CHECK_EQ(_pcpu_chunk_free_area(&m, x), 4000);
	VERIFY(&m, "free joins left");
	check_md(&m.md_blocks[0], 0, 1024, 1024, 1024, 0, 0, 0);
	check_md(&m.chunk_md, 0, 1100, 1996, 1996, 2100, 1100, 0);
	CHECK_EQ(m.nr_empty_pop_pages, 2);

	CHECK_EQ(_pcpu_chunk_free_area(&m, z), 4000);
	VERIFY(&m, "free joins both sides");
	check_md(&m.chunk_md, 0, 4096, 4096, 4096, 0, 0, 0);
	CHECK_EQ(m.nr_empty_pop_pages, 4);
	CHECK_EQ(m.free_bytes, 4 * PAGE);

	/* a free whose left neighbour is the chunk contig run spanning whole blocks */
	x = chunk_alloc(&m, 16, 4, false);              /* [0, 4) */
	y = _pcpu_chunk_alloc_area(&m, 8, 4, 3000);      /* [3000, 3008) */
	z = _pcpu_chunk_alloc_area(&m, 8, 4, 3008);      /* [3008, 3016) */
	CHECK_EQ(y, 12000);
	CHECK_EQ(z, 12032);
	VERIFY(&m, "split chunk");
	CHECK_EQ(m.chunk_md.contig_hint, 2996);
	CHECK_EQ(_pcpu_chunk_free_area(&m, y), 32);
	VERIFY(&m, "free after contig run");
	CHECK_EQ(m.chunk_md.contig_hint, 3004);
	CHECK_EQ(m.chunk_md.contig_hint_start, 4);
	CHECK_EQ(_pcpu_chunk_free_area(&m, z), 32);
	CHECK_EQ(_pcpu_chunk_free_area(&m, x), 16);
	VERIFY(&m, "all free again");
	check_md(&m.chunk_md, 0, 4096, 4096, 4096, 0, 0, 0);
	_pcpu_chunk_map_destroy(&m);
}

/* A chunk filled to the last bit, then emptied. */
static void test_full_then_empty(void)
{
	struct pcpu_chunk_map m;
	int offs[2048], n = 0, off;

	CHECK_EQ(_pcpu_chunk_map_init(&m, 2 * PAGE, (size_t)PAGE, 0, 0), 0);
	_pcpu_chunk_mark_populated(&m, 0, 2);
	CHECK_EQ(chunk_alloc(&m, PAGE, PAGE, true), 0);
	CHECK_EQ(chunk_alloc(&m, PAGE, PAGE, true), PAGE);
	CHECK_EQ(chunk_alloc(&m, 4, 4, false), -1);
	VERIFY(&m, "full with pages");
	check_md(&m.chunk_md, 2048, 0, 0, 0, 0, 0, 0);
	CHECK_EQ(m.free_bytes, 0);
	CHECK_EQ(m.nr_empty_pop_pages, 0);
	CHECK_EQ(_pcpu_chunk_free_area(&m, PAGE), PAGE);
	CHECK_EQ(_pcpu_chunk_free_area(&m, 0), PAGE);
	VERIFY(&m, "emptied");
	CHECK_EQ(m.nr_empty_pop_pages, 2);

	/* one bit at a time, freed in a scrambled order */
	while ((off = chunk_alloc(&m, 4, 4, false)) >= 0)
		offs[n++] = off;
	CHECK_EQ(n, 2048);
	VERIFY(&m, "full with bits");
	for (int i = 0; i < n; i++) {
		int j = i + (int)(tu_rand() % (uint64_t)(n - i)), t = offs[i];

		offs[i] = offs[j];
		offs[j] = t;
		CHECK_EQ(_pcpu_chunk_free_area(&m, offs[i]), 4);
		if (i % 97 == 0)
			VERIFY(&m, "emptying");
	}
	VERIFY(&m, "emptied bits");
	check_md(&m.chunk_md, 0, 2048, 2048, 2048, 0, 0, 0);
	CHECK_EQ(m.free_bytes, 2 * PAGE);
	_pcpu_chunk_map_destroy(&m);
}

/* Hidden head and tail that are not page multiples, as in the first chunk. */
static void test_hidden_offsets(void)
{
	struct pcpu_chunk_map m;

	CHECK_EQ(_pcpu_chunk_map_init(&m, 3 * PAGE, (size_t)PAGE, PAGE + 4, 12), 0);
	VERIFY(&m, "hidden init");
	CHECK_EQ(m.free_bytes, 3 * PAGE - PAGE - 16);
	check_md(&m.md_blocks[0], 1024, 0, 0, 0, 0, 0, 0);
	check_md(&m.md_blocks[1], 1, 0, 1024 - 1, 1023, 1, 0, 0);
	check_md(&m.md_blocks[2], 0, 1021, 0, 1021, 0, 0, 0);
	check_md(&m.chunk_md, 1025, 0, 0, 2044, 1025, 0, 0);
	CHECK(!_pcpu_chunk_page_empty(&m, 0));
	CHECK(!_pcpu_chunk_page_empty(&m, 2));

	/* hidden areas and offsets around them cannot be freed */
	CHECK_EQ(_pcpu_chunk_free_area(&m, 0), -1);
	CHECK_EQ(_pcpu_chunk_free_area(&m, PAGE), -1);
	CHECK_EQ(_pcpu_chunk_free_area(&m, 3 * PAGE - 12), -1);
	CHECK_EQ(_pcpu_chunk_free_area(&m, 3 * PAGE), -1);
	CHECK_EQ(_pcpu_chunk_free_area(&m, PAGE + 4), -1);  /* visible but free */

	CHECK_EQ(chunk_alloc(&m, 2044 * 4, 4, false), PAGE + 4);
	CHECK_EQ(chunk_alloc(&m, 4, 4, false), -1);
	VERIFY(&m, "hidden full");
	CHECK_EQ(_pcpu_chunk_free_area(&m, PAGE + 4), 2044 * 4);
	VERIFY(&m, "hidden emptied");
	check_md(&m.chunk_md, 1025, 0, 0, 2044, 1025, 0, 0);

	/* aligned requests skip the unaligned head of the visible area */
	CHECK_EQ(chunk_alloc(&m, 4, 64, false), PAGE + 64);
	CHECK_EQ(chunk_alloc(&m, 4, 4, false), PAGE + 4);
	VERIFY(&m, "hidden aligned");
	_pcpu_chunk_map_destroy(&m);
}

static void test_population(void)
{
	struct pcpu_chunk_map m;
	int rs, re, off, n;

	CHECK_EQ(_pcpu_chunk_map_init(&m, 8 * PAGE, (size_t)PAGE, 0, 0), 0);
	_pcpu_chunk_mark_populated(&m, 1, 3);
	_pcpu_chunk_mark_populated(&m, 5, 8);
	_pcpu_chunk_mark_populated(&m, 6, 7);   /* already populated: no change */
	CHECK_EQ(m.nr_populated, 5);
	CHECK_EQ(m.nr_empty_pop_pages, 5);
	VERIFY(&m, "populated");

	n = 0;
	for (rs = 0; _pcpu_chunk_next_unpop(&m, &rs, &re, 8); rs = re) {
		CHECK(n < 2);
		CHECK_EQ(rs, n ? 3 : 0);
		CHECK_EQ(re, n ? 5 : 1);
		n++;
	}
	CHECK_EQ(n, 2);
	n = 0;
	for (rs = 0; _pcpu_chunk_next_pop(&m, &rs, &re, 8); rs = re) {
		CHECK(n < 2);
		CHECK_EQ(rs, n ? 5 : 1);
		CHECK_EQ(re, n ? 8 : 3);
		n++;
	}
	CHECK_EQ(n, 2);
	rs = 2;
	CHECK(_pcpu_chunk_next_pop(&m, &rs, &re, 6));
	CHECK_EQ(rs, 2);
	CHECK_EQ(re, 3);

	/* pop_only: the first populated page */
	off = chunk_alloc(&m, 64, 4, true);
	CHECK_EQ(off, PAGE);
	CHECK_EQ(m.nr_empty_pop_pages, 4);
	/* pop_only across pages: 2040 bits need two adjacent populated pages, and pages
	 * 1-2 have only 2032 bits left */
	off = chunk_alloc(&m, 2040 * 4, 4, true);
	CHECK_EQ(off, 5 * PAGE);
	CHECK_EQ(m.nr_empty_pop_pages, 2);
	VERIFY(&m, "pop_only");
	_pcpu_chunk_mark_depopulated(&m, 2, 3);
	CHECK_EQ(m.nr_empty_pop_pages, 1);
	CHECK_EQ(_pcpu_chunk_find_fit(&m, 1032, 4, true), 7160);
	CHECK_EQ(_pcpu_chunk_find_fit(&m, 1033, 4, true), -1);
	CHECK(_pcpu_chunk_find_fit(&m, 2000, 4, false) >= 0);
	CHECK_EQ(_pcpu_chunk_free_area(&m, 5 * PAGE), 8160);
	CHECK_EQ(m.nr_empty_pop_pages, 3);
	_pcpu_chunk_mark_depopulated(&m, 0, 8);
	CHECK_EQ(m.nr_populated, 0);
	CHECK_EQ(m.nr_empty_pop_pages, 0);
	VERIFY(&m, "depopulated");
	_pcpu_chunk_map_destroy(&m);
}

/* Interior, double, unaligned and out-of-range frees change nothing. */
static void test_bad_frees(void)
{
	struct pcpu_chunk_map m;
	struct snapshot s;
	int a, b, bad[] = { -4, -1, 0, 2, 4, 60, 64, 100, 124, 128, 4 * PAGE, 1 << 30 };

	CHECK_EQ(_pcpu_chunk_map_init(&m, 4 * PAGE, (size_t)PAGE, 0, 0), 0);
	a = chunk_alloc(&m, 64, 4, false);
	b = chunk_alloc(&m, 64, 4, false);
	CHECK_EQ(_pcpu_chunk_free_area(&m, a), 64);
	CHECK_EQ(a, 0);
	CHECK_EQ(b, 64);
	snap_take(&s, &m);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (bad[i] != b)
			CHECK_EQ(_pcpu_chunk_free_area(&m, bad[i]), -1);
	CHECK(snap_same(&s, &m));
	CHECK_EQ(_pcpu_chunk_free_area(&m, b), 64);
	snap_take(&s, &m);
	CHECK_EQ(_pcpu_chunk_free_area(&m, b), -1);
	CHECK(snap_same(&s, &m));
	VERIFY(&m, "bad frees");
	_pcpu_chunk_map_destroy(&m);
}

/* The longest run is badly aligned, a shorter one is not: the fit is still found. */
static void test_alignment_fallback(void)
{
	struct pcpu_chunk_map m;
	int a, b;

	CHECK_EQ(_pcpu_chunk_map_init(&m, PAGE, (size_t)PAGE, 0, 0), 0);
	CHECK_EQ(chunk_alloc(&m, 4, 4, false), 0);         /* [0, 1) */
	a = chunk_alloc(&m, 40 * 4, 4, false);             /* [1, 41) */
	CHECK_EQ(chunk_alloc(&m, 23 * 4, 4, false), 41 * 4); /* [41, 64) */
	b = chunk_alloc(&m, 32 * 4, 4, false);             /* [64, 96) */
	CHECK_EQ(chunk_alloc(&m, 928 * 4, 4, false), 96 * 4);
	CHECK_EQ(_pcpu_chunk_free_area(&m, a), 160);
	CHECK_EQ(_pcpu_chunk_free_area(&m, b), 128);
	VERIFY(&m, "two runs");
	CHECK_EQ(m.chunk_md.contig_hint, 40);
	CHECK_EQ(m.chunk_md.contig_hint_start, 1);
	CHECK_EQ(_pcpu_chunk_find_fit(&m, 33, 128, false), -1);
	CHECK_EQ(chunk_alloc(&m, 128, 128, false), 256);
	VERIFY(&m, "aligned fit in shorter run");
	_pcpu_chunk_map_destroy(&m);
}

/* Equally long runs: the contig hint keeps the better aligned one. */
static void test_tie_prefers_alignment(void)
{
	for (int order = 0; order < 2; order++) {
		struct pcpu_chunk_map m;
		int offs[256], n = 0, off;

		CHECK_EQ(_pcpu_chunk_map_init(&m, PAGE, (size_t)PAGE, 0, 0), 0);
		while ((off = chunk_alloc(&m, 16, 4, false)) >= 0 && n < 256)
			offs[n++] = off;
		CHECK_EQ(n, 256);
		/* runs of 4 bits at bit 12 (offs[3]) and bit 32 (offs[8]) */
		CHECK_EQ(_pcpu_chunk_free_area(&m, offs[order ? 3 : 8]), 16);
		CHECK_EQ(_pcpu_chunk_free_area(&m, offs[order ? 8 : 3]), 16);
		VERIFY(&m, "tie");
		CHECK_EQ(m.md_blocks[0].contig_hint, 4);
		CHECK_EQ(m.md_blocks[0].contig_hint_start, 32);
		CHECK_EQ(m.chunk_md.contig_hint_start, 32);
		/* an aligned request goes straight to it */
		CHECK_EQ(chunk_alloc(&m, 16, 128, false), 128);
		VERIFY(&m, "tie used");
		_pcpu_chunk_map_destroy(&m);
	}
}

/* ---- randomized, against the model of chunk_model.h ------------------------------ */

/* Sizes weighted to small, as per-CPU counters and stats structures are. */
static int random_bytes(void)
{
	unsigned r = (unsigned)(tu_rand() % 100);

	if (r < 60)
		return 4 * (1 + (int)(tu_rand() % 16));                 /* 4..64 */
	if (r < 85)
		return 1 + (int)(tu_rand() % 1024);                     /* ..1 KiB */
	if (r < 97)
		return 1 + (int)(tu_rand() % 8192);                     /* ..8 KiB */
	return 1 + (int)(tu_rand() % 32768);                            /* ..32 KiB */
}

static size_t random_align(void)
{
	unsigned r = (unsigned)(tu_rand() % 100);

	if (r < 50)
		return (size_t)1 << (tu_rand() % 4);                    /* 1..8 */
	if (r < 85)
		return (size_t)1 << (4 + tu_rand() % 3);                /* 16..64 */
	return (size_t)1 << (tu_rand() % (unsigned)(__builtin_ctz((unsigned)PAGE) + 1)); /* ..page */
}

struct fuzz_stats {
	long ops, allocs, alloc_fails, frees, bad_frees, verifies;
};

static bool fuzz_alloc(struct pcpu_chunk_map *m, struct model *md, int bytes, size_t align,
		       bool pop_only, struct fuzz_stats *st)
{
	bool made = model_check_alloc(m, md, bytes, align, pop_only);

	if (made)
		st->allocs++;
	else
		st->alloc_fails++;
	return made;
}

static void fuzz_free(struct pcpu_chunk_map *m, struct model *md, int bit, struct fuzz_stats *st)
{
	model_check_free(m, md, bit);
	st->frees++;
}

static void fuzz_alloc_from(struct pcpu_chunk_map *m, struct model *md, struct fuzz_stats *st)
{
	int bits = (random_bytes() + PCPU_MIN_ALLOC_SIZE - 1) / PCPU_MIN_ALLOC_SIZE;
	size_t align = random_align();
	int start = (int)(tu_rand() % (uint64_t)md->map_bits);

	if (model_check_alloc_from(m, md, bits, align, start))
		st->allocs++;
}

/* A free at an arbitrary offset: the model decides whether it is valid. */
static void fuzz_wild_free(struct pcpu_chunk_map *m, struct model *md, struct fuzz_stats *st)
{
	int unit = md->map_bits * PCPU_MIN_ALLOC_SIZE, off;
	unsigned r = (unsigned)(tu_rand() % 6);

	if (r == 0)
		off = (int)(tu_rand() % (uint64_t)unit);                     /* anywhere */
	else if (r == 1)
		off = (int)(tu_rand() % 3) - 1 + (tu_rand() % 2 ? unit : 0); /* edges */
	else if (r == 2 || !md->nr_live)
		off = md->recent[tu_rand() % 16];                              /* double */
	else if (r == 3)
		off = md->live[tu_rand() % (uint64_t)md->nr_live] * PCPU_MIN_ALLOC_SIZE +
		      (int)(tu_rand() % 3 + 1);                                /* unaligned */
	else
		off = (md->live[tu_rand() % (uint64_t)md->nr_live] + 1 +
		       (int)(tu_rand() % 8)) * PCPU_MIN_ALLOC_SIZE;            /* interior */

	if (model_check_free_at(m, md, off))
		st->frees++;
	else
		st->bad_frees++;
}

static void fuzz_populate(struct pcpu_chunk_map *m, struct model *md)
{
	int a = (int)(tu_rand() % (uint64_t)md->nr_pages);
	int b = a + 1 + (int)(tu_rand() % (uint64_t)(md->nr_pages - a));

	model_set_populated(m, md, a, b, tu_rand() % 3 != 0);
}

static void fuzz_verify(const struct pcpu_chunk_map *m, const struct model *md,
			struct fuzz_stats *st)
{
	st->verifies++;
	model_verify(m, md);
}

/* One chunk shape, @ops random operations; bursts (fill up, empty, thin out) happen
 * @burst_rate times per 10000 operations each. */
static void fuzz_chunk(int nr_pages, int start_offset, int end_offset, long ops, int verify_every,
		       int burst_rate, struct fuzz_stats *st)
{
	struct pcpu_chunk_map m;
	struct model md;
	long op;

	if (_pcpu_chunk_map_init(&m, (size_t)nr_pages * PAGE, (size_t)PAGE, start_offset, end_offset)) {
		CHECK(false);
		return;
	}
	model_init(&md, &m);
	if (tu_rand() % 2) {
		_pcpu_chunk_mark_populated(&m, 0, nr_pages);
		for (int p = 0; p < nr_pages; p++)
			md.populated[p] = true;
	}
	fuzz_verify(&m, &md, st);

	for (op = 0; op < ops; op++) {
		unsigned burst = (unsigned)(tu_rand() % 10000);
		unsigned r = (unsigned)(tu_rand() % 1000);

		st->ops++;
		if (burst < (unsigned)burst_rate) {
			/* fill with one size until it no longer fits */
			int bytes = random_bytes() % 256 + 4;
			size_t align = random_align();

			while (fuzz_alloc(&m, &md, bytes, align, false, st))
				;
			fuzz_verify(&m, &md, st);
		} else if (burst < 2 * (unsigned)burst_rate) {
			/* empty the chunk */
			while (md.nr_live)
				fuzz_free(&m, &md, md.live[tu_rand() % (uint64_t)md.nr_live], st);
			fuzz_verify(&m, &md, st);
			CHECK_EQ(m.chunk_md.contig_hint, md.vis_end - md.vis_start);
		} else if (burst < 3 * (unsigned)burst_rate) {
			/* free a random 10% to 90% */
			int keep = md.nr_live * (int)(1 + tu_rand() % 9) / 10;

			while (md.nr_live > keep)
				fuzz_free(&m, &md, md.live[tu_rand() % (uint64_t)md.nr_live], st);
			fuzz_verify(&m, &md, st);
		} else if (r < 16) {
			fuzz_populate(&m, &md);
		} else if (r < 60) {
			fuzz_wild_free(&m, &md, st);
		} else if (r < 80) {
			fuzz_alloc_from(&m, &md, st);
		} else if (r < 520) {
			fuzz_alloc(&m, &md, random_bytes(), random_align(), tu_rand() % 5 == 0, st);
		} else if (md.nr_live) {
			fuzz_free(&m, &md, md.live[tu_rand() % (uint64_t)md.nr_live], st);
		}
		if (op % verify_every == 0)
			fuzz_verify(&m, &md, st);
		if (tu_failures)
			break;
	}
	fuzz_verify(&m, &md, st);
	model_destroy(&md);
	_pcpu_chunk_map_destroy(&m);
}

static int random_offset(int max_bytes)
{
	if (tu_rand() % 3 == 0)
		return 0;
	return (int)(tu_rand() % (uint64_t)(max_bytes / PCPU_MIN_ALLOC_SIZE)) * PCPU_MIN_ALLOC_SIZE;
}

static void test_fuzz(void)
{
	static const int shapes[] = { 1, 2, 3, 4, 5, 8, 13, 32 };
	struct fuzz_stats st = { 0 };
	long total = tu_scaled(2000000) / (PAGE / 4096), per_shape; /* bigger pages, more bits */
	int rounds = 4;
	clock_t t0 = clock();

	per_shape = total / (long)(rounds * (sizeof(shapes) / sizeof(shapes[0])));
	if (per_shape < 1)
		per_shape = 1;
	for (int round = 0; round < rounds && !tu_failures; round++) {
		for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]) && !tu_failures; i++) {
			int pages = shapes[i], unit = pages * PAGE;
			int so = random_offset(pages > 1 ? PAGE + PAGE / 2 : PAGE / 2);
			int eo = random_offset(pages > 1 ? PAGE + PAGE / 2 : PAGE / 2);

			if (so + eo >= unit)
				eo = 0;
			/* a full recount costs about as much as a few hundred bits per page of
			 * operations: verify small chunks often, large ones less */
			fuzz_chunk(pages, so, eo, per_shape, 8 * pages, 20, &st);
		}
	}
	fprintf(stderr, "fuzz: %ld ops (%ld allocs, %ld failed allocs, %ld frees, %ld bad "
		"frees, %ld full verifies) in %.2f s\n", st.ops, st.allocs, st.alloc_fails,
		st.frees, st.bad_frees, st.verifies, (double)(clock() - t0) / CLOCKS_PER_SEC);
}

/* One large chunk as alloc.c will have them: 256 pages, fewer recounts. */
static void test_fuzz_large(void)
{
	struct fuzz_stats st = { 0 };
	clock_t t0 = clock();

	fuzz_chunk(256, random_offset(3 * PAGE), random_offset(PAGE),
		   tu_scaled(100000) / (PAGE / 4096), 25000, 2, &st);
	fprintf(stderr, "fuzz 256 pages: %ld ops (%ld allocs, %ld failed) in %.2f s\n", st.ops,
		st.allocs, st.alloc_fails, (double)(clock() - t0) / CLOCKS_PER_SEC);
}

int main(void)
{
	tu_seed("test_chunk");
	test_init_and_bad_args();
	test_alloc_contig_start_and_middle();
	test_free_merge_across_blocks();
	test_full_then_empty();
	test_hidden_offsets();
	test_population();
	test_bad_frees();
	test_alignment_fallback();
	test_tie_prefers_alignment();
	if (!tu_failures)
		test_fuzz();
	if (!tu_failures)
		test_fuzz_large();
	/* the same random tests as on kernels with 16 and 64 KiB pages (blocks are pages) */
	for (page_bytes = 16384; page_bytes <= 65536 && !tu_failures; page_bytes *= 4) {
		model_block_bits = BLOCK_BITS;
		fprintf(stderr, "page size %d:\n", page_bytes);
		test_fuzz();
		if (!tu_failures)
			test_fuzz_large();
	}
	page_bytes = 4096;
	model_block_bits = BLOCK_BITS;
	TEST_DONE();
}
