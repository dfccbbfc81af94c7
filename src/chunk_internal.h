/* SPDX-License-Identifier: MIT */
/* chunk_internal.h - what the chunk allocator's files share and nothing else includes:
 * unit conversions (bits, bytes, blocks, words), the non-full block map, and the hint
 * maintenance entry points chunk_hints.c gives chunk.c.  The design and the invariants
 * of every hint are at the top of chunk.c. */
#ifndef PCPU_SRC_CHUNK_INTERNAL_H
#define PCPU_SRC_CHUNK_INTERNAL_H

#include <stddef.h>

#include "chunk.h"
#include "chunk_bitmap.h"

_Static_assert((PCPU_MIN_PAGE_SIZE >> PCPU_MIN_ALLOC_SHIFT) % 64 == 0,
	       "a block must be a whole number of words");
_Static_assert(sizeof(struct pcpu_block_md) % sizeof(unsigned long) == 0,
	       "the non-full map after md_blocks must be word aligned");

/* ---- unit conversions ---------------------------------------------------------------- */

static inline int bytes_to_bits(int bytes)
{
	return bytes >> PCPU_MIN_ALLOC_SHIFT;
}

static inline int bits_to_bytes(int bits)
{
	return bits << PCPU_MIN_ALLOC_SHIFT;
}

/* A block is a page: m->block_bits bits, a power of two (1 << m->block_shift). */
static inline int bit_to_block(const struct pcpu_chunk_map *m, int bit)
{
	return (int)((unsigned)bit >> m->block_shift);
}

static inline int bit_to_block_off(const struct pcpu_chunk_map *m, int bit)
{
	return bit & (m->block_bits - 1);
}

static inline int block_to_bit(const struct pcpu_chunk_map *m, int idx)
{
	return idx << m->block_shift;
}

static inline int bits_to_words(int bits)
{
	return (bits + BITS_PER_WORD - 1) / BITS_PER_WORD;
}

/* Byte alignment to bit alignment; anything below PCPU_MIN_ALLOC_SIZE is free. */
static inline int align_to_bits(size_t align)
{
	return align <= PCPU_MIN_ALLOC_SIZE ? 1 : (int)(align >> PCPU_MIN_ALLOC_SHIFT);
}

static inline bool align_valid(const struct pcpu_chunk_map *m, size_t align)
{
	return (align & (align - 1)) == 0 && align <= (size_t)bits_to_bytes(m->block_bits);
}

static inline int min_int(int a, int b)
{
	return a < b ? a : b;
}

static inline int max_int(int a, int b)
{
	return a > b ? a : b;
}

/* [a, b) and [x, y) share a bit */
static inline bool ranges_overlap(int a, int b, int x, int y)
{
	return a < y && x < b;
}

static inline unsigned long *block_alloc_words(const struct pcpu_chunk_map *m, int idx)
{
	return m->alloc_map + ((size_t)idx << m->block_shift) / BITS_PER_WORD;
}

/*
 * One bit per block, set while the block has a free bit, so that moving first_free
 * past full blocks is a word scan rather than a walk over their hints.  struct
 * pcpu_chunk_map has no field for it; it lives in the same allocation as md_blocks,
 * right after the last entry (only this file allocates and frees md_blocks).
 */
static inline unsigned long *nonfull_map(const struct pcpu_chunk_map *m)
{
	return (unsigned long *)(m->md_blocks + m->nr_pages);
}

static inline bool page_populated(const struct pcpu_chunk_map *m, int page)
{
	return bit_test(m->populated, page);
}

static inline bool block_empty(const struct pcpu_block_md *md)
{
	return md->contig_hint == md->nr_bits;
}

/* ---- hint maintenance (chunk_hints.c) ------------------------------------------------- */

/* Sets every block's hints and chunk_md from the maps (set-up). */
void _pcpu_chunk_init_hints(struct pcpu_chunk_map *m);
/* Bits [start, end) were just allocated (alloc_map already updated). */
void _pcpu_chunk_hints_alloc(struct pcpu_chunk_map *m, int start, int end);
/* Bits [start, end) were just freed (alloc_map already updated). */
void _pcpu_chunk_hints_free(struct pcpu_chunk_map *m, int start, int end);

#endif
