/* SPDX-License-Identifier: MIT */
/* chunk_model.h - a plain reference model of one chunk (a byte per bitmap bit, a bool per
 * page) and the chunk operations checked against it, shared by tests/test_chunk.c (random
 * operations) and fuzz/fuzz_chunk.c (operations decoded from fuzzer input).  Failed
 * checks count in testutil.h's tu_failures. */
#ifndef PCPU_TESTS_CHUNK_MODEL_H
#define PCPU_TESTS_CHUNK_MODEL_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "testutil.h"

/* Bits per block (page) of the chunk under test: set it with the page size handed to
 * _pcpu_chunk_map_init(). */
static int model_block_bits __attribute__((unused)) = 4096 / PCPU_MIN_ALLOC_SIZE;
#define MODEL_BLOCK_BITS model_block_bits

/* ---- snapshots: "nothing changed" ------------------------------------------------ */

struct snapshot {
	struct pcpu_chunk_map copy;
	unsigned long *alloc_map, *bound_map, *populated;
	struct pcpu_block_md *md_blocks;
};

static inline size_t map_words(int bits)
{
	size_t per_word = 8 * sizeof(unsigned long);

	return ((size_t)bits + per_word - 1) / per_word;
}

static inline void snap_take(struct snapshot *s, const struct pcpu_chunk_map *m)
{
	memcpy(&s->copy, m, sizeof(*m));  /* padding included, for the memcmp below */
	s->alloc_map = malloc(map_words(m->map_bits) * sizeof(unsigned long));
	s->bound_map = malloc(map_words(m->map_bits + 1) * sizeof(unsigned long));
	s->populated = malloc(map_words(m->nr_pages) * sizeof(unsigned long));
	s->md_blocks = malloc((size_t)m->nr_pages * sizeof(*m->md_blocks));
	if (!s->alloc_map || !s->bound_map || !s->populated || !s->md_blocks)
		abort();
	memcpy(s->alloc_map, m->alloc_map, map_words(m->map_bits) * sizeof(unsigned long));
	memcpy(s->bound_map, m->bound_map, map_words(m->map_bits + 1) * sizeof(unsigned long));
	memcpy(s->populated, m->populated, map_words(m->nr_pages) * sizeof(unsigned long));
	memcpy(s->md_blocks, m->md_blocks, (size_t)m->nr_pages * sizeof(*m->md_blocks));
}

/* True if @m still equals the snapshot; frees the snapshot. */
static inline bool snap_same(struct snapshot *s, const struct pcpu_chunk_map *m)
{
	size_t word = sizeof(unsigned long);
	bool same = !memcmp(&s->copy, m, sizeof(*m)) &&
		!memcmp(s->alloc_map, m->alloc_map, map_words(m->map_bits) * word) &&
		!memcmp(s->bound_map, m->bound_map, map_words(m->map_bits + 1) * word) &&
		!memcmp(s->populated, m->populated, map_words(m->nr_pages) * word) &&
		!memcmp(s->md_blocks, m->md_blocks, (size_t)m->nr_pages * sizeof(*m->md_blocks));

	free(s->alloc_map);
	free(s->bound_map);
	free(s->populated);
	free(s->md_blocks);
	return same;
}

/* ---- the model -------------------------------------------------------------------- */

struct model {
	int map_bits, nr_pages, vis_start, vis_end;  /* visible bits [vis_start, vis_end) */
	unsigned char *used;      /* per bit: 1 allocated or hidden */
	int *size_at;             /* per bit: bits of the allocation starting here, else 0 */
	int *live_idx;            /* per bit: index in live[] of the allocation starting here */
	int *live;                /* start bits of live allocations */
	int nr_live;
	bool *populated;
	long free_bits;
	int recent[16];           /* recently freed byte offsets, for double frees */
	unsigned int nr_recent;
};

static inline void model_init(struct model *md, const struct pcpu_chunk_map *m)
{
	memset(md, 0, sizeof(*md));
	md->map_bits = m->map_bits;
	md->nr_pages = m->nr_pages;
	md->vis_start = m->start_offset / PCPU_MIN_ALLOC_SIZE;
	md->vis_end = m->map_bits - m->end_offset / PCPU_MIN_ALLOC_SIZE;
	md->used = calloc((size_t)md->map_bits, 1);
	md->size_at = calloc((size_t)md->map_bits, sizeof(int));
	md->live_idx = calloc((size_t)md->map_bits, sizeof(int));
	md->live = calloc((size_t)md->map_bits, sizeof(int));
	md->populated = calloc((size_t)md->nr_pages, sizeof(bool));
	if (!md->used || !md->size_at || !md->live_idx || !md->live || !md->populated)
		abort();
	for (int i = 0; i < md->map_bits; i++)
		md->used[i] = i < md->vis_start || i >= md->vis_end;
	md->free_bits = md->vis_end - md->vis_start;
	for (int i = 0; i < 16; i++)
		md->recent[i] = -1;
}

static inline void model_destroy(struct model *md)
{
	free(md->used);
	free(md->size_at);
	free(md->live_idx);
	free(md->live);
	free(md->populated);
}

/* Is there an aligned run of @bits free bits (on populated pages for @pop_only)?  The
 * plain question asked of the plain byte map: every free run, first to last. */
static inline bool model_has_fit(const struct model *md, int bits, int align_bits, bool pop_only)
{
	int bit = 0;

	while (bit < md->map_bits) {
		size_t left = (size_t)(md->map_bits - bit);
		const unsigned char *free_at = memchr(md->used + bit, 0, left), *used_at;
		int run_start, run_end, page;

		if (!free_at)
			return false;
		run_start = (int)(free_at - md->used);
		page = run_start / MODEL_BLOCK_BITS;
		if (pop_only && !md->populated[page]) {
			bit = (page + 1) * MODEL_BLOCK_BITS;
			continue;
		}
		used_at = memchr(free_at, 1, (size_t)(md->map_bits - run_start));
		run_end = used_at ? (int)(used_at - md->used) : md->map_bits;
		/* for pop_only the run also ends at the next unpopulated page */
		while (pop_only && ++page * MODEL_BLOCK_BITS < run_end)
			if (!md->populated[page])
				run_end = page * MODEL_BLOCK_BITS;
		if (((run_start + align_bits - 1) & ~(align_bits - 1)) + bits <= run_end)
			return true;
		bit = run_end;
	}
	return false;
}

/* First aligned run of @bits free bits starting in [from, limit - bits], or -1. */
static inline int model_first_fit(const struct model *md, int from, int limit, int bits,
				  int align_bits)
{
	int bit = (from + align_bits - 1) & ~(align_bits - 1);

	while (bit + bits <= limit) {
		int i = bit;

		while (i < bit + bits && !md->used[i])
			i++;
		if (i == bit + bits)
			return bit;
		/* every start up to the used bit overlaps it */
		bit = (i + align_bits) & ~(align_bits - 1);
	}
	return -1;
}

static inline void model_add(struct model *md, int bit, int bits)
{
	bool clean = true;

	for (int i = bit; i < bit + bits; i++) {
		clean &= !md->used[i];
		md->used[i] = 1;
	}
	CHECK(clean);
	md->size_at[bit] = bits;
	md->live_idx[bit] = md->nr_live;
	md->live[md->nr_live++] = bit;
	md->free_bits -= bits;
}

static inline void model_remove(struct model *md, int bit)
{
	int bits = md->size_at[bit], idx = md->live_idx[bit];

	for (int i = bit; i < bit + bits; i++)
		md->used[i] = 0;
	md->size_at[bit] = 0;
	md->live[idx] = md->live[--md->nr_live];
	md->live_idx[md->live[idx]] = idx;
	md->free_bits += bits;
	md->recent[md->nr_recent++ % 16] = bit * PCPU_MIN_ALLOC_SIZE;
}

static inline int model_align_bits(size_t align)
{
	return align <= PCPU_MIN_ALLOC_SIZE ? 1 : (int)align / PCPU_MIN_ALLOC_SIZE;
}

/* ---- chunk operations, each checked against the model ----------------------------- */

/* One allocation through find_fit + alloc_area (as alloc.c makes them); true if it was
 * made, false if none fits, which the model must confirm. */
static inline bool model_check_alloc(struct pcpu_chunk_map *m, struct model *md, int bytes,
				     size_t align, bool pop_only)
{
	int bits = (bytes + PCPU_MIN_ALLOC_SIZE - 1) / PCPU_MIN_ALLOC_SIZE;
	int start = _pcpu_chunk_find_fit(m, bits, align, pop_only), off, bit;

	if (start < 0) {
		if (model_has_fit(md, bits, model_align_bits(align), pop_only)) {
			fprintf(stderr, "find_fit(%d bits, align %zu, pop_only %d) failed, model "
				"has a fit\n", bits, align, pop_only);
			CHECK(false);
		}
		return false;
	}
	off = _pcpu_chunk_alloc_area(m, bits, align, start);
	if (off < 0) {
		fprintf(stderr, "alloc_area(%d bits, align %zu) failed after find_fit -> %d\n",
			bits, align, start);
		CHECK(false);
		return false;
	}
	bit = off / PCPU_MIN_ALLOC_SIZE;
	CHECK(off % PCPU_MIN_ALLOC_SIZE == 0);
	CHECK(align <= PCPU_MIN_ALLOC_SIZE || off % (int)align == 0);
	CHECK(bit >= md->vis_start && bit + bits <= md->vis_end);
	if (bit < md->vis_start || bit + bits > md->vis_end)
		return false;  /* the model cannot record it */
	if (pop_only)
		for (int p = bit / MODEL_BLOCK_BITS; p <= (bit + bits - 1) / MODEL_BLOCK_BITS; p++)
			CHECK(md->populated[p]);
	model_add(md, bit, bits);
	CHECK_EQ(m->free_bytes, md->free_bits * PCPU_MIN_ALLOC_SIZE);
	return true;
}

/* Frees the live allocation that starts at bit @bit. */
static inline void model_check_free(struct pcpu_chunk_map *m, struct model *md, int bit)
{
	int bits = md->size_at[bit];

	CHECK_EQ(_pcpu_chunk_free_area(m, bit * PCPU_MIN_ALLOC_SIZE), bits * PCPU_MIN_ALLOC_SIZE);
	model_remove(md, bit);
	CHECK_EQ(m->free_bytes, md->free_bits * PCPU_MIN_ALLOC_SIZE);
}

/*
 * alloc_area from an arbitrary start bit, not one find_fit chose: it must take exactly
 * the first aligned fit in the window it searches, [start, start + bits + one block).
 * True if it allocated.
 */
static inline bool model_check_alloc_from(struct pcpu_chunk_map *m, struct model *md, int bits,
					  size_t align, int start)
{
	int limit = start + bits + MODEL_BLOCK_BITS < md->map_bits ? start + bits + MODEL_BLOCK_BITS
								   : md->map_bits;
	int expect = model_first_fit(md, start, limit, bits, model_align_bits(align));
	int off = _pcpu_chunk_alloc_area(m, bits, align, start);

	CHECK_EQ(off, expect < 0 ? -1 : expect * PCPU_MIN_ALLOC_SIZE);
	if (off >= 0 && off == expect * PCPU_MIN_ALLOC_SIZE) {
		model_add(md, expect, bits);
		return true;
	}
	return false;
}

/* A free at an arbitrary byte offset: the model decides whether it is valid; an invalid
 * one must change nothing.  True if it freed. */
static inline bool model_check_free_at(struct pcpu_chunk_map *m, struct model *md, int off)
{
	int unit = md->map_bits * PCPU_MIN_ALLOC_SIZE;
	struct snapshot s;

	if (off >= 0 && off < unit && off % PCPU_MIN_ALLOC_SIZE == 0 &&
	    md->size_at[off / PCPU_MIN_ALLOC_SIZE]) {
		model_check_free(m, md, off / PCPU_MIN_ALLOC_SIZE);
		return true;
	}
	snap_take(&s, m);
	CHECK_EQ(_pcpu_chunk_free_area(m, off), -1);
	CHECK(snap_same(&s, m));
	return false;
}

/* Marks pages [a, b) populated (@pop) or not, in the chunk and the model. */
static inline void model_set_populated(struct pcpu_chunk_map *m, struct model *md, int a, int b,
				       bool pop)
{
	if (pop)
		_pcpu_chunk_mark_populated(m, a, b);
	else
		_pcpu_chunk_mark_depopulated(m, a, b);
	for (int p = a; p < b; p++)
		md->populated[p] = pop;
}

static inline bool model_page_empty(const struct model *md, int page)
{
	for (int i = page * MODEL_BLOCK_BITS; i < (page + 1) * MODEL_BLOCK_BITS; i++)
		if (md->used[i])
			return false;
	return true;
}

/* The page counters and page_empty against the model. */
static inline void model_check_counters(const struct pcpu_chunk_map *m, const struct model *md)
{
	int pop = 0, empty_pop = 0;

	for (int p = 0; p < md->nr_pages; p++) {
		bool empty = model_page_empty(md, p);

		CHECK_EQ(_pcpu_chunk_page_empty(m, p), empty);
		pop += md->populated[p];
		empty_pop += md->populated[p] && empty;
	}
	CHECK_EQ(m->nr_populated, pop);
	CHECK_EQ(m->nr_empty_pop_pages, empty_pop);
}

/* Everything: the chunk's own full recount, the counters and the allocation map. */
static inline void model_verify(const struct pcpu_chunk_map *m, const struct model *md)
{
	char err[512];

	if (_pcpu_chunk_map_verify(m, err, sizeof(err))) {
		fprintf(stderr, "_pcpu_chunk_map_verify: %s\n", err);
		CHECK(false);
	}
	model_check_counters(m, md);
	for (int i = 0; i < md->map_bits; i++) {
		int word = i / (8 * (int)sizeof(unsigned long));
		int shift = i % (8 * (int)sizeof(unsigned long));
		bool used = (m->alloc_map[word] >> shift) & 1;

		if (used != (bool)md->used[i]) {
			fprintf(stderr, "bit %d: chunk says %d, model says %d\n", i, used,
				md->used[i]);
			CHECK(false);
			break;
		}
	}
}

#endif
