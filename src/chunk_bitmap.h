/* SPDX-License-Identifier: MIT */
/* chunk_bitmap.h - word-at-a-time bitmap primitives for the chunk allocator (chunk.c,
 * chunk_hints.c): set, clear and test bits and runs, find the next set or clear bit, and
 * find a free aligned area.  Pure and inline: they sit on every allocation's and free's
 * path, so they are compiled into each caller as they were when all lived in chunk.c.
 * Bitmaps are arrays of unsigned long, bit i in word i / BITS_PER_WORD. */
#ifndef PCPU_SRC_CHUNK_BITMAP_H
#define PCPU_SRC_CHUNK_BITMAP_H

#include <stdbool.h>

#define BITS_PER_WORD ((int)(8 * sizeof(unsigned long)))

/* @bit rounded up to a multiple of @align_bits, a power of two. */
static inline int align_up(int bit, int align_bits)
{
	return (bit + align_bits - 1) & ~(align_bits - 1);
}

/* Bit numbers are never negative here; unsigned division and remainder by the word size
 * are a shift and a mask. */
static inline unsigned word_of(int bit)
{
	return (unsigned)bit / BITS_PER_WORD;
}

static inline unsigned shift_of(int bit)
{
	return (unsigned)bit % BITS_PER_WORD;
}

static inline bool bit_test(const unsigned long *map, int bit)
{
	return (map[word_of(bit)] >> shift_of(bit)) & 1;
}

static inline void bit_set(unsigned long *map, int bit)
{
	map[word_of(bit)] |= 1UL << shift_of(bit);
}

static inline void bit_clear(unsigned long *map, int bit)
{
	map[word_of(bit)] &= ~(1UL << shift_of(bit));
}

/* Mask of bits [lo, hi] of one word, lo <= hi. */
static inline unsigned long word_mask(unsigned lo, unsigned hi)
{
	return (~0UL << lo) & (~0UL >> (BITS_PER_WORD - 1 - hi));
}

static inline void bits_set(unsigned long *map, int start, int nr)
{
	unsigned w = word_of(start), last_w;

	if (nr <= 0)
		return;
	last_w = word_of(start + nr - 1);
	if (w == last_w) {
		map[w] |= word_mask(shift_of(start), shift_of(start + nr - 1));
		return;
	}
	map[w++] |= word_mask(shift_of(start), BITS_PER_WORD - 1);
	for (; w < last_w; w++)
		map[w] = ~0UL;
	map[last_w] |= word_mask(0, shift_of(start + nr - 1));
}

static inline void bits_clear(unsigned long *map, int start, int nr)
{
	unsigned w = word_of(start), last_w;

	if (nr <= 0)
		return;
	last_w = word_of(start + nr - 1);
	if (w == last_w) {
		map[w] &= ~word_mask(shift_of(start), shift_of(start + nr - 1));
		return;
	}
	map[w++] &= ~word_mask(shift_of(start), BITS_PER_WORD - 1);
	for (; w < last_w; w++)
		map[w] = 0;
	map[last_w] &= ~word_mask(0, shift_of(start + nr - 1));
}

/* First set bit of (map ^ flip) in [off, size), or size: flip = 0 finds set bits,
 * flip = ~0 clear ones. */
static inline int find_next(const unsigned long *map, int size, int off, unsigned long flip)
{
	unsigned w, last_w;
	unsigned long v;
	int bit;

	if (off >= size)
		return size;
	w = word_of(off);
	last_w = word_of(size - 1);
	v = (map[w] ^ flip) & (~0UL << shift_of(off));
	while (!v) {
		if (++w > last_w)
			return size;
		v = map[w] ^ flip;
	}
	bit = (int)(w * BITS_PER_WORD) + __builtin_ctzl(v);
	return bit < size ? bit : size;
}

/* First set bit in [off, size), or size. */
static inline int find_next_one(const unsigned long *map, int size, int off)
{
	return find_next(map, size, off, 0);
}

/* First clear bit in [off, size), or size. */
static inline int find_next_zero(const unsigned long *map, int size, int off)
{
	return find_next(map, size, off, ~0UL);
}

/* Last set bit in [lo, hi), or -1. */
static inline int find_prev_one(const unsigned long *map, int lo, int hi)
{
	unsigned w, first_w;
	unsigned long v;
	int bit;

	if (hi <= lo)
		return -1;
	w = word_of(hi - 1);
	first_w = word_of(lo);
	v = map[w] & word_mask(0, shift_of(hi - 1));
	while (!v) {
		if (w-- == first_w)
			return -1;
		v = map[w];
	}
	bit = (int)(w * BITS_PER_WORD) + BITS_PER_WORD - 1 - __builtin_clzl(v);
	return bit >= lo ? bit : -1;
}

/*
 * Bit i of the result is set if bits i .. i + @nr - 1 of the two-word value @hi:@lo are
 * all set, for the starts i in @lo; 1 <= @nr <= BITS_PER_WORD.  Doubling the length
 * checked each round: log2(@nr) rounds of shift-and.
 */
static inline unsigned long run_starts(unsigned long lo, unsigned long hi, int nr)
{
	int have = 1;

	while (have < nr) {
		int step = have < nr - have ? have : nr - have;

		lo &= (lo >> step) | (hi << (BITS_PER_WORD - step));
		hi &= hi >> step;
		have += step;
	}
	return lo;
}

/*
 * find_zero_area() for @nr <= BITS_PER_WORD once the first candidate failed: word by
 * word, all runs of the word at once, so a block full of short holes costs a few
 * operations per word instead of two searches per hole.
 */
static inline int find_zero_area_words(const unsigned long *map, int size, int start,
				       int nr, int align_bits)
{
	unsigned first_w = word_of(start), last_w = word_of(size - 1);
	unsigned long align_mask = 0, size_mask = ~0UL;

	if (align_bits < BITS_PER_WORD)
		align_mask = ~0UL / ((1UL << align_bits) - 1);  /* one bit every align_bits */
	if (shift_of(size))
		size_mask = ~(~0UL << shift_of(size));
	for (unsigned w = first_w; w <= last_w; w++) {
		unsigned long lo = ~map[w], hi = w < last_w ? ~map[w + 1] : 0, starts;

		if (w == first_w)
			lo &= ~0UL << shift_of(start);
		if (w == last_w)
			lo &= size_mask;
		else if (w + 1 == last_w)
			hi &= size_mask;
		if (!lo)
			continue;
		starts = run_starts(lo, hi, nr);
		if (align_bits < BITS_PER_WORD)
			starts &= align_mask;
		else if ((w * BITS_PER_WORD) % (unsigned)align_bits)
			starts = 0;
		else
			starts &= 1;
		if (starts)
			return (int)(w * BITS_PER_WORD) + __builtin_ctzl(starts);
	}
	return -1;
}

/* First @nr clear bits in [start, size) beginning at a multiple of @align_bits (a power
 * of two, relative to bit 0 of @map); returns the first bit or -1. */
static inline int find_zero_area(const unsigned long *map, int size, int start, int nr,
				 int align_bits)
{
	for (;;) {
		int bit = align_up(find_next_zero(map, size, start), align_bits);
		int busy;

		if (bit + nr > size)
			return -1;
		busy = find_next_one(map, bit + nr, bit);
		if (busy >= bit + nr)
			return bit;
		/* the first free bit did not do: short areas go word by word */
		if (nr <= BITS_PER_WORD)
			return find_zero_area_words(map, size, busy + 1, nr, align_bits);
		start = busy + 1;
	}
}

#endif
