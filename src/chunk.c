/* SPDX-License-Identifier: MIT */
/* chunk.c - the allocator inside one chunk: an allocation bitmap, a boundary bitmap, free
 * space hints per page-sized block and for the whole chunk, and the populated-page map.
 * Pure computation, no system calls and no locking; alloc.c serializes the callers.
 *
 * Design
 * ======
 *
 * Maps.  A unit is divided into PCPU_MIN_ALLOC_SIZE (4 byte) pieces, one bit each in
 * alloc_map (set = in use).  bound_map has one bit more than alloc_map and marks the
 * edges of allocations: the first bit of every allocation and the bit just past its end.
 * An allocation's length is therefore the distance from its start to the next set
 * boundary bit, so frees need no size.  The kernel leaves boundary bits behind when it
 * frees; here a free also clears the edge bits that no longer touch any allocation, so a
 * set boundary bit always borders a live allocation.  That makes "alloc bit set and
 * boundary bit set" an exact test for "this is where a live allocation starts", which is
 * how pcpu_chunk_free_area() turns double frees and stray pointers into -1.  The hidden
 * head (start_offset) and tail (end_offset) of the unit are allocations that never end.
 *
 * Blocks.  Every page is a block of block_bits bits (the page size chosen at init,
 * 4 to 64 KiB, divided by PCPU_MIN_ALLOC_SIZE), described by a
 * struct pcpu_block_md, and chunk_md describes the whole chunk the same way, where a
 * free run may cross block edges (a block's right_free, then whole free blocks, then the
 * next block's left_free).  A "run" below is a maximal stretch of free bits (maximal
 * within the block for block hints, within the chunk for chunk_md).  The hints are kept
 * exact at all times:
 *
 *   first_free   first free bit, nr_bits if there is none;
 *   left_free    free bits at the start, right_free free bits at the end;
 *   contig_hint  length of the longest run, contig_hint_start the start of one such
 *                run; between equally long runs the better aligned start is kept (the
 *                one with more trailing zero bits), as the kernel does;
 *   scan_hint    0, or a run [scan_hint_start, +scan_hint) other than the contig run,
 *                no longer than it, lying before it unless equally long, such that no
 *                run starting before it is longer.
 *
 * The scan hint is what keeps the hints cheap.  A search for more than scan_hint bits
 * may start right after the scan run (nothing before it is big enough), and when an
 * allocation lands in the contig run, the scan run becomes the contig run and only the
 * bitmap after it has to be looked at again to find a longer one.
 *
 * Maintenance, in the kernel's shape:
 *   allocation - first_free moves on if the allocation took it; left/right_free shrink;
 *     a scan hint the allocation touched is dropped; if it touched the contig run, the
 *     block is rescanned from the scan run (or from first_free).  At chunk level the
 *     same, where the rescan walks block hints instead of bits and skips over the two
 *     known pieces of the broken contig run, so filling a chunk from the front is O(1).
 *   free - the freed bits join the runs on either side into one new run; that run is
 *     offered to each touched block and to chunk_md (md_add_free_run), which decides
 *     whether it becomes the contig hint, the scan hint or neither.
 *
 * Where this differs from mm/percpu.c, and why.  The kernel tolerates hints that drift:
 * after a free its chunk contig hint may be up to a page short, left/right_free can go
 * stale when a scan hint is promoted, a scan hint can be set past a longer run, and its
 * block fit test skips a block whose longest run loses too much to alignment even when a
 * shorter, better aligned run would do.  Its callers recheck and fall back to another
 * chunk.  Here pcpu_chunk_find_fit() returning -1 must mean that nothing fits, and the
 * test suite holds the hints to a full recount (pcpu_chunk_map_verify), so:
 *   - a free works out the whole merged run across block edges (neighbours' right_free
 *     and left_free, with the chunk contig and scan runs as shortcuts) and hands it to
 *     chunk_md, instead of bounding the run by the block and rescanning the chunk;
 *   - a scan hint is only recorded when nothing before it can be longer;
 *   - when a block's contig run cannot hold an aligned request, that block's bitmap is
 *     searched for a better aligned run instead of skipping the block.
 *
 * Cost.  Bitmaps are searched a word at a time (count trailing zeros), and a short
 * request that does not fit at the first free bit is matched against all the holes of
 * a word at once (run_starts).  A typical allocation or free touches one block: a few
 * words of each bitmap and two sets of hints.  Moving chunk_md.first_free past full
 * blocks uses a map with one bit per block that has free space.  The slow paths are the
 * kernel's: when an allocation breaks the chunk's contig run, the rescan walks the block
 * hints after the scan run, O(blocks) (but filling from the front stays O(1), see
 * above); and an aligned request that no contig run can take may look at the bitmap of
 * every block with a long enough run before answering -1, O(bitmap words).
 *
 * nr_empty_pop_pages counts pages that are populated and hold no allocation.  (The
 * kernel counts pages made empty or full by the hint updates and adds newly populated
 * pages blindly, relying on the caller to populate exactly the pages it just allocated
 * into; here the count is exact whatever the order of calls.)
 *
 * Units: names say what they count.  "bit" offsets are relative to the unit unless they
 * are block offsets ("off" within a block); "idx" is a block (= page) number.  Byte
 * offsets appear only at the API edge, converted with bytes_to_bits()/bits_to_bytes().
 */
#include "chunk.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BITS_PER_WORD ((int)(8 * sizeof(unsigned long)))

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

static inline int align_up(int bit, int align_bits)
{
	return (bit + align_bits - 1) & ~(align_bits - 1);
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

/* ---- word-at-a-time bitmap helpers --------------------------------------------------- */

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
		int step = min_int(have, nr - have);

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
static int find_zero_area_words(const unsigned long *map, int size, int start, int nr,
				int align_bits)
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
static int find_zero_area(const unsigned long *map, int size, int start, int nr,
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

/* ---- hints ------------------------------------------------------------------------------ */

static void md_set_empty(struct pcpu_block_md *md)
{
	md->scan_hint = 0;
	md->scan_hint_start = 0;
	md->contig_hint = md->nr_bits;
	md->contig_hint_start = 0;
	md->left_free = md->nr_bits;
	md->right_free = md->nr_bits;
	md->first_free = 0;
}

static void md_set_full(struct pcpu_block_md *md)
{
	md->scan_hint = 0;
	md->scan_hint_start = 0;
	md->contig_hint = 0;
	md->contig_hint_start = 0;
	md->left_free = 0;
	md->right_free = 0;
	md->first_free = md->nr_bits;
}

/* Ties between equally long runs go to the start with more trailing zero bits, which
 * suits aligned requests better; offset 0 beats everything. */
static inline bool start_better_aligned(int start, int cur)
{
	return cur && (!start || __builtin_ctz((unsigned)start) > __builtin_ctz((unsigned)cur));
}

/*
 * Offers the run [s, e) to the hints of @md.  The run is maximal (bounded by allocated
 * bits or by the edges of what @md describes) and is either new (a free joined it
 * together) or met by a front-to-back rescan.  A hint run lying inside it is stale.
 * Keeps every invariant listed at the top of the file.
 */
static void md_add_free_run(struct pcpu_block_md *md, int s, int e)
{
	int n = e - s;
	bool scan_swallowed = md->scan_hint &&
		ranges_overlap(md->scan_hint_start, md->scan_hint_start + md->scan_hint, s, e);

	if (s < md->first_free)
		md->first_free = s;
	if (s == 0)
		md->left_free = n;
	if (e == md->nr_bits)
		md->right_free = n;
	if (scan_swallowed)
		md->scan_hint = 0;

	if (n > md->contig_hint) {
		/*
		 * The run is the new longest.  A run before it may serve as scan hint: the old
		 * contig run (nothing before it was longer) or the current scan run.
		 */
		bool contig_before = md->contig_hint && md->contig_hint_start < s;
		bool scan_before = md->scan_hint && md->scan_hint_start < s;

		if (contig_before && (!scan_before || md->contig_hint > md->scan_hint ||
				      md->contig_hint_start > md->scan_hint_start)) {
			md->scan_hint = md->contig_hint;
			md->scan_hint_start = md->contig_hint_start;
		} else if (!scan_before) {
			md->scan_hint = 0;
		}
		md->contig_hint = n;
		md->contig_hint_start = s;
	} else if (n == md->contig_hint) {
		if (start_better_aligned(s, md->contig_hint_start)) {
			md->contig_hint_start = s;
			/* a shorter scan run must stay in front of the contig run */
			if (md->scan_hint && md->scan_hint < n && md->scan_hint_start > s)
				md->scan_hint = 0;
		} else if (!md->scan_hint || md->scan_hint < n || md->scan_hint_start < s) {
			/* equally long: valid anywhere; the farther one lets rescans skip more */
			md->scan_hint = n;
			md->scan_hint_start = s;
		}
	} else if (s < md->contig_hint_start) {
		/*
		 * Shorter than the contig run and in front of it: a scan hint only if no run
		 * before it can be longer - it grew out of the scan run, or it starts before
		 * the scan run and beats it, or there is no free bit before it at all.
		 */
		if (scan_swallowed ||
		    (md->scan_hint ? s < md->scan_hint_start && n > md->scan_hint
				   : md->first_free == s)) {
			md->scan_hint = n;
			md->scan_hint_start = s;
		}
	}
}

/* Offers the hints of block @idx every run from block offset @off on, in order. */
static void block_scan_runs(struct pcpu_chunk_map *m, int idx, int off)
{
	struct pcpu_block_md *md = &m->md_blocks[idx];
	const unsigned long *words = block_alloc_words(m, idx);

	while (off < m->block_bits) {
		int rs = find_next_zero(words, m->block_bits, off), re;

		if (rs >= m->block_bits)
			break;
		re = find_next_one(words, m->block_bits, rs + 1);
		md_add_free_run(md, rs, re);
		off = re + 1;
	}
}

/*
 * Block @idx lost the allocation's bits to its contig run: find the longest run again.
 * The scan run, if any, is the longest run up to its end, so it becomes the contig run
 * and only the bits after it are rescanned.  first_free, left_free and right_free are
 * already right.
 */
static void block_refresh(struct pcpu_chunk_map *m, int idx)
{
	struct pcpu_block_md *md = &m->md_blocks[idx];

	if (md->scan_hint) {
		md->contig_hint = md->scan_hint;
		md->contig_hint_start = md->scan_hint_start;
		md->scan_hint = 0;
		block_scan_runs(m, idx, md->contig_hint_start + md->contig_hint);
	} else {
		md->contig_hint = 0;
		block_scan_runs(m, idx, md->first_free);
	}
}

/* Bits [a, b) of block @idx were just allocated. */
static void block_update_alloc(struct pcpu_chunk_map *m, int idx, int a, int b)
{
	struct pcpu_block_md *md = &m->md_blocks[idx];

	if (a == 0 && b == m->block_bits) {
		md_set_full(md);
		return;
	}
	if (a == md->first_free)
		md->first_free = find_next_zero(block_alloc_words(m, idx), m->block_bits, b);
	md->left_free = min_int(md->left_free, a);
	md->right_free = min_int(md->right_free, m->block_bits - b);
	if (md->scan_hint &&
	    ranges_overlap(md->scan_hint_start, md->scan_hint_start + md->scan_hint, a, b))
		md->scan_hint = 0;
	if (md->contig_hint &&
	    ranges_overlap(md->contig_hint_start, md->contig_hint_start + md->contig_hint, a, b))
		block_refresh(m, idx);
}

struct run {
	int start, end; /* bits */
};

static int known_run_end(const struct run *known, int nr_known, int bit)
{
	for (int i = 0; i < nr_known; i++)
		if (known[i].start == bit)
			return known[i].end;
	return -1;
}

/*
 * Offers chunk_md every run that can matter from @bit on, in address order, built from
 * the block hints: each block's contig run unless it touches the block's end, and each
 * block's right_free extended through following free blocks into their left_free.  A run
 * that starts at a block's start after a carried run is part of that run and is not
 * offered again.  Runs a block hides (neither its contig run nor at its end) are no
 * longer than a run offered no later than they are, which is all the scan hint needs.
 * @known lists runs whose extent is already known; they are jumped over in one step.
 * @bit must be a free bit that starts a run, an allocated bit, or map_bits.
 */
static void chunk_scan_runs(struct pcpu_chunk_map *m, int bit, const struct run *known,
			    int nr_known)
{
	struct pcpu_block_md *cmd = &m->chunk_md;

	while (bit < m->map_bits) {
		int idx = bit_to_block(m, bit), off = bit_to_block_off(m, bit);
		int base = block_to_bit(m, idx);
		const struct pcpu_block_md *blk = &m->md_blocks[idx];
		int end = known_run_end(known, nr_known, bit);
		int start;

		if (end >= 0) {
			md_add_free_run(cmd, bit, end);
			bit = end;
			continue;
		}
		if (blk->contig_hint && blk->contig_hint_start >= off &&
		    blk->contig_hint_start + blk->contig_hint < m->block_bits)
			md_add_free_run(cmd, base + blk->contig_hint_start,
					base + blk->contig_hint_start + blk->contig_hint);
		if (!blk->right_free || m->block_bits - blk->right_free < off) {
			bit = base + m->block_bits;
			continue;
		}
		start = base + m->block_bits - blk->right_free;
		end = known_run_end(known, nr_known, start);
		if (end < 0) {
			end = base + m->block_bits;
			for (int j = idx + 1; j < m->nr_pages; j++) {
				end += m->md_blocks[j].left_free;
				if (m->md_blocks[j].left_free != m->block_bits)
					break;
			}
		}
		md_add_free_run(cmd, start, end);
		bit = end;
	}
}

/* chunk_md lost bits of its contig run: as block_refresh, over block hints.  @known are
 * the pieces of the broken contig run. */
static void chunk_refresh(struct pcpu_chunk_map *m, const struct run *known, int nr_known)
{
	struct pcpu_block_md *cmd = &m->chunk_md;
	int bit;

	if (cmd->scan_hint) {
		cmd->contig_hint = cmd->scan_hint;
		cmd->contig_hint_start = cmd->scan_hint_start;
		cmd->scan_hint = 0;
		bit = cmd->contig_hint_start + cmd->contig_hint;
	} else {
		cmd->contig_hint = 0;
		bit = cmd->first_free;
	}
	chunk_scan_runs(m, bit, known, nr_known);
}

/* First free bit at or after @bit, knowing every bit before @bit is allocated. */
static int first_free_from(const struct pcpu_chunk_map *m, int bit)
{
	int idx = find_next_one(nonfull_map(m), m->nr_pages, bit_to_block(m, bit));

	if (idx >= m->nr_pages)
		return m->map_bits;
	return block_to_bit(m, idx) + m->md_blocks[idx].first_free;
}

/* Block @idx's hints changed: keep its bit in the non-full map in step. */
static inline void note_block_fill(struct pcpu_chunk_map *m, int idx)
{
	if (m->md_blocks[idx].first_free < m->block_bits)
		bit_set(nonfull_map(m), idx);
	else
		bit_clear(nonfull_map(m), idx);
}

static inline bool page_populated(const struct pcpu_chunk_map *m, int page)
{
	return bit_test(m->populated, page);
}

static inline bool block_empty(const struct pcpu_block_md *md)
{
	return md->contig_hint == md->nr_bits;
}

/* Bits [start, end) were just allocated (alloc_map already updated). */
static void update_hints_alloc(struct pcpu_chunk_map *m, int start, int end)
{
	struct pcpu_block_md *cmd = &m->chunk_md;
	int s_idx = bit_to_block(m, start), e_idx = bit_to_block(m, end - 1);

	for (int idx = s_idx; idx <= e_idx; idx++) {
		int base = block_to_bit(m, idx);
		bool was_empty = block_empty(&m->md_blocks[idx]);

		block_update_alloc(m, idx, idx == s_idx ? start - base : 0,
				   idx == e_idx ? end - base : m->block_bits);
		note_block_fill(m, idx);
		if (was_empty && page_populated(m, idx))
			m->nr_empty_pop_pages--;
	}

	if (start == cmd->first_free)
		cmd->first_free = first_free_from(m, end);
	cmd->left_free = min_int(cmd->left_free, start);
	cmd->right_free = min_int(cmd->right_free, m->map_bits - end);
	if (cmd->scan_hint &&
	    ranges_overlap(cmd->scan_hint_start, cmd->scan_hint_start + cmd->scan_hint, start, end))
		cmd->scan_hint = 0;
	if (cmd->contig_hint &&
	    ranges_overlap(cmd->contig_hint_start, cmd->contig_hint_start + cmd->contig_hint,
			   start, end)) {
		struct run known[2];
		int nr_known = 0;

		if (cmd->contig_hint_start < start)
			known[nr_known++] = (struct run){ cmd->contig_hint_start, start };
		if (end < cmd->contig_hint_start + cmd->contig_hint)
			known[nr_known++] = (struct run){ end, cmd->contig_hint_start +
								cmd->contig_hint };
		chunk_refresh(m, known, nr_known);
	}
}

/* Start of the run that ends at @bit (@bit itself was allocated until now): hints
 * before bitmap, block hints for whole free blocks. */
static int free_run_start(const struct pcpu_chunk_map *m, int bit)
{
	const struct pcpu_block_md *cmd = &m->chunk_md;
	int idx = bit_to_block(m, bit), base = block_to_bit(m, idx), last;

	if (cmd->contig_hint && bit == cmd->contig_hint_start + cmd->contig_hint)
		return cmd->contig_hint_start;
	if (cmd->scan_hint && bit == cmd->scan_hint_start + cmd->scan_hint)
		return cmd->scan_hint_start;
	last = find_prev_one(m->alloc_map, base, bit);
	if (last >= 0)
		return last + 1;
	while (idx > 0) {
		int right_free = m->md_blocks[--idx].right_free;

		base -= right_free;
		if (right_free != m->block_bits)
			break;
	}
	return base;
}

/* End of the run that starts at @bit (@bit - 1 was allocated until now). */
static int free_run_end(const struct pcpu_chunk_map *m, int bit)
{
	const struct pcpu_block_md *cmd = &m->chunk_md;
	int idx, end, next;

	if (bit >= m->map_bits)
		return m->map_bits;
	if (cmd->contig_hint && bit == cmd->contig_hint_start)
		return cmd->contig_hint_start + cmd->contig_hint;
	if (cmd->scan_hint && bit == cmd->scan_hint_start)
		return cmd->scan_hint_start + cmd->scan_hint;
	idx = bit_to_block(m, bit);
	end = block_to_bit(m, idx) + m->block_bits;
	next = find_next_one(m->alloc_map, end, bit);
	if (next < end)
		return next;
	while (++idx < m->nr_pages) {
		int left_free = m->md_blocks[idx].left_free;

		end += left_free;
		if (left_free != m->block_bits)
			break;
	}
	return end;
}

/* Bits [start, end) were just freed (alloc_map already updated). */
static void update_hints_free(struct pcpu_chunk_map *m, int start, int end)
{
	int run_start = free_run_start(m, start), run_end = free_run_end(m, end);
	int s_idx = bit_to_block(m, start), e_idx = bit_to_block(m, end - 1);

	for (int idx = s_idx; idx <= e_idx; idx++) {
		struct pcpu_block_md *md = &m->md_blocks[idx];
		int base = block_to_bit(m, idx);
		int lo = max_int(run_start, base) - base;
		int hi = min_int(run_end, base + m->block_bits) - base;

		if (idx != s_idx && idx != e_idx)
			md_set_empty(md);
		else
			md_add_free_run(md, lo, hi);
		bit_set(nonfull_map(m), idx);
		if (lo == 0 && hi == m->block_bits && page_populated(m, idx))
			m->nr_empty_pop_pages++;
	}
	md_add_free_run(&m->chunk_md, run_start, run_end);
}

/* Recomputes all hints of block @idx from its bitmap (set-up only). */
static void block_init_hints(struct pcpu_chunk_map *m, int idx)
{
	struct pcpu_block_md *md = &m->md_blocks[idx];

	md->nr_bits = m->block_bits;
	md_set_full(md);
	block_scan_runs(m, idx, 0);
	note_block_fill(m, idx);
}

/* Recomputes chunk_md from the block hints (set-up only). */
static void chunk_init_hints(struct pcpu_chunk_map *m)
{
	struct pcpu_block_md *cmd = &m->chunk_md;
	int bit;

	cmd->nr_bits = m->map_bits;
	md_set_full(cmd);
	cmd->first_free = first_free_from(m, 0);
	for (bit = 0; bit < m->map_bits; bit += m->block_bits) {
		cmd->left_free += m->md_blocks[bit_to_block(m, bit)].left_free;
		if (m->md_blocks[bit_to_block(m, bit)].left_free != m->block_bits)
			break;
	}
	for (bit = m->map_bits; bit > 0; bit -= m->block_bits) {
		cmd->right_free += m->md_blocks[bit_to_block(m, bit - 1)].right_free;
		if (m->md_blocks[bit_to_block(m, bit - 1)].right_free != m->block_bits)
			break;
	}
	chunk_scan_runs(m, cmd->first_free, NULL, 0);
}

/* ---- set-up ------------------------------------------------------------------------ */

size_t pcpu_chunk_map_meta_bytes(size_t unit_bytes, size_t page_bytes)
{
	int map_bits = bytes_to_bits((int)unit_bytes), nr_pages = (int)(unit_bytes / page_bytes);

	return ((size_t)bits_to_words(map_bits) + (size_t)bits_to_words(map_bits + 1) +
		(size_t)bits_to_words(nr_pages) * 2) * sizeof(unsigned long) +
	       (size_t)nr_pages * sizeof(struct pcpu_block_md);
}

int pcpu_chunk_map_init(struct pcpu_chunk_map *m, size_t unit_bytes, size_t page_bytes,
			int start_offset, int end_offset)
{
	return pcpu_chunk_map_init_mem(m, unit_bytes, page_bytes, start_offset, end_offset, NULL);
}

int pcpu_chunk_map_init_mem(struct pcpu_chunk_map *m, size_t unit_bytes, size_t page_bytes,
			    int start_offset, int end_offset, void *mem)
{
	int map_bits, start_bits, end_bits, idx;

	memset(m, 0, sizeof(*m));
	if (page_bytes < PCPU_MIN_PAGE_SIZE || page_bytes > PCPU_MAX_PAGE_SIZE ||
	    (page_bytes & (page_bytes - 1)) || !unit_bytes || unit_bytes % page_bytes ||
	    unit_bytes > PCPU_CHUNK_MAX_UNIT_BYTES ||
	    start_offset < 0 || end_offset < 0 || start_offset % PCPU_MIN_ALLOC_SIZE ||
	    end_offset % PCPU_MIN_ALLOC_SIZE ||
	    (size_t)start_offset + (size_t)end_offset >= unit_bytes) {
		errno = EINVAL;
		return -1;
	}

	m->block_bits = bytes_to_bits((int)page_bytes);
	m->block_shift = __builtin_ctz((unsigned)m->block_bits);
	m->nr_pages = (int)(unit_bytes / page_bytes);
	m->map_bits = map_bits = bytes_to_bits((int)unit_bytes);
	m->start_offset = start_offset;
	m->end_offset = end_offset;
	if (!mem) {
		mem = calloc(1, pcpu_chunk_map_meta_bytes(unit_bytes, page_bytes));
		if (!mem) {
			errno = ENOMEM;
			return -1;
		}
		m->meta_owned = true;
	}
	m->meta = mem;
	/* one block: alloc map, bound map, populated map, md_blocks, then the non-full
	 * map (see nonfull_map()), each starting on a word */
	m->alloc_map = mem;
	m->bound_map = m->alloc_map + bits_to_words(map_bits);
	m->populated = m->bound_map + bits_to_words(map_bits + 1);
	m->md_blocks = (struct pcpu_block_md *)(m->populated + bits_to_words(m->nr_pages));

	/* the hidden head and tail are allocations that are never freed */
	start_bits = bytes_to_bits(start_offset);
	end_bits = bytes_to_bits(end_offset);
	if (start_bits) {
		bits_set(m->alloc_map, 0, start_bits);
		bit_set(m->bound_map, 0);
		bit_set(m->bound_map, start_bits);
	}
	if (end_bits) {
		bits_set(m->alloc_map, map_bits - end_bits, end_bits);
		bit_set(m->bound_map, map_bits - end_bits);
		bit_set(m->bound_map, map_bits);
	}
	m->free_bytes = (int)unit_bytes - start_offset - end_offset;

	for (idx = 0; idx < m->nr_pages; idx++)
		block_init_hints(m, idx);
	chunk_init_hints(m);
	return 0;
}

void pcpu_chunk_map_destroy(struct pcpu_chunk_map *m)
{
	if (m->meta_owned)
		free(m->meta);
	memset(m, 0, sizeof(*m));
}

/* ---- finding and allocating ------------------------------------------------------------- */

/* Where a search for @alloc_bits bits may start in what @md describes: after the scan
 * run if the request is longer than it (nothing before it is), else at first_free. */
static int md_search_start(const struct pcpu_block_md *md, int alloc_bits)
{
	if (md->scan_hint && md->contig_hint_start > md->scan_hint_start &&
	    alloc_bits > md->scan_hint)
		return md->scan_hint_start + md->scan_hint;
	return md->first_free;
}

/*
 * Whether block @idx holds, within itself, @alloc_bits free bits aligned to
 * @align_bits.  Returns the bit to search from (the area found is in this block, no
 * earlier than @from), or -1.
 */
static int block_fit(const struct pcpu_chunk_map *m, int idx, int alloc_bits,
		     int align_bits, int from)
{
	const struct pcpu_block_md *md = &m->md_blocks[idx];
	int base = block_to_bit(m, idx), pad, off;

	if (md->contig_hint < alloc_bits)
		return -1;
	pad = align_up(md->contig_hint_start, align_bits) - md->contig_hint_start;
	if (pad + alloc_bits <= md->contig_hint && base + md->contig_hint_start >= from)
		return max_int(base + md_search_start(md, alloc_bits), from);
	/* the longest run loses too much to alignment (or lies before @from, which the
	 * callers rule out); a shorter, better aligned run may still do */
	off = find_zero_area(block_alloc_words(m, idx), m->block_bits,
			     max_int(md_search_start(md, alloc_bits), from - base), alloc_bits,
			     align_bits);
	return off < 0 ? -1 : base + off;
}

/* For a pop_only search: -1 if the pages under bits [bit, bit + nr_bits) are all
 * populated (or @pop_only is false), otherwise the page just past the first unpopulated
 * stretch among them, where the search goes on: every area starting before it would
 * need an unpopulated page. */
static int unpopulated_skip(const struct pcpu_chunk_map *m, bool pop_only, int bit, int nr_bits)
{
	int last = bit_to_block(m, bit + nr_bits - 1), hole;

	if (!pop_only)
		return -1;
	hole = find_next_zero(m->populated, last + 1, bit_to_block(m, bit));
	if (hole > last)
		return -1;
	return find_next_one(m->populated, m->nr_pages, hole + 1);
}

/*
 * pcpu_find_block_fit's walk: reject on the chunk's contig hint, start after the chunk's
 * scan run when the request is longer than it, then block by block: a run carried over
 * from the free ends of the blocks before, the block's own runs, then its free end.  For
 * pop_only, a candidate over an unpopulated page moves the walk past that stretch.
 */
int pcpu_chunk_find_fit(struct pcpu_chunk_map *m, int alloc_bits, size_t align, bool pop_only)
{
	const struct pcpu_block_md *cmd = &m->chunk_md;
	int align_bits, bit, carry_start = -1, carry = 0;

	if (alloc_bits <= 0 || !align_valid(m, align) || alloc_bits > cmd->contig_hint)
		return -1;
	align_bits = align_to_bits(align);

	bit = md_search_start(cmd, alloc_bits);
	while (bit < m->map_bits) {
		int idx = bit_to_block(m, bit);
		const struct pcpu_block_md *md = &m->md_blocks[idx];
		int found, skip;

		/* a run carried over from the blocks before */
		if (carry_start >= 0) {
			carry += md->left_free;
			if (carry >= alloc_bits) {
				skip = unpopulated_skip(m, pop_only, carry_start, alloc_bits);
				if (skip < 0)
					return carry_start;
				carry_start = -1;
				bit = block_to_bit(m, skip);
				continue;
			}
			if (md->left_free == m->block_bits) {
				bit = block_to_bit(m, idx + 1);
				continue;
			}
			carry_start = -1;
		}

		/* inside this block */
		found = block_fit(m, idx, alloc_bits, align_bits, bit);
		if (found >= 0) {
			skip = unpopulated_skip(m, pop_only, block_to_bit(m, idx), m->block_bits);
			if (skip < 0)
				return found;
			bit = block_to_bit(m, skip);
			continue;
		}

		/* starting in this block's free end, going on into the next */
		if (md->right_free) {
			int off = align_up(m->block_bits - md->right_free, align_bits);

			if (off < m->block_bits && block_to_bit(m, idx) + off >= bit) {
				carry_start = block_to_bit(m, idx) + off;
				carry = m->block_bits - off;
			}
		}
		bit = block_to_bit(m, idx + 1);
	}
	return -1;
}

int pcpu_chunk_alloc_area(struct pcpu_chunk_map *m, int alloc_bits, size_t align, int start)
{
	int align_bits, end, bit;

	if (alloc_bits <= 0 || alloc_bits > m->map_bits || !align_valid(m, align) || start < 0 ||
	    start >= m->map_bits)
		return -1;
	align_bits = align_to_bits(align);

	/* find_fit guarantees a fit within a block's length past its answer */
	end = min_int(start + alloc_bits + m->block_bits, m->map_bits);
	bit = find_zero_area(m->alloc_map, end, start, alloc_bits, align_bits);
	if (bit < 0)
		return -1;

	bits_set(m->alloc_map, bit, alloc_bits);
	bit_set(m->bound_map, bit);
	bits_clear(m->bound_map, bit + 1, alloc_bits - 1);
	bit_set(m->bound_map, bit + alloc_bits);
	m->free_bytes -= bits_to_bytes(alloc_bits);
	update_hints_alloc(m, bit, bit + alloc_bits);
	return bits_to_bytes(bit);
}

int pcpu_chunk_free_area(struct pcpu_chunk_map *m, int off)
{
	int unit_bytes = bits_to_bytes(m->map_bits), bit, end;

	if (off < m->start_offset || off >= unit_bytes - m->end_offset ||
	    off % PCPU_MIN_ALLOC_SIZE)
		return -1;
	bit = bytes_to_bits(off);
	if (!bit_test(m->alloc_map, bit) || !bit_test(m->bound_map, bit))
		return -1;

	end = find_next_one(m->bound_map, m->map_bits + 1, bit + 1);
	bits_clear(m->alloc_map, bit, end - bit);
	/* drop the edges that no longer touch an allocation */
	if (bit == 0 || !bit_test(m->alloc_map, bit - 1))
		bit_clear(m->bound_map, bit);
	if (end == m->map_bits || !bit_test(m->alloc_map, end))
		bit_clear(m->bound_map, end);
	m->free_bytes += bits_to_bytes(end - bit);
	update_hints_free(m, bit, end);
	return bits_to_bytes(end - bit);
}

/* ---- population ---------------------------------------------------------------------- */

void pcpu_chunk_mark_populated(struct pcpu_chunk_map *m, int page_start, int page_end)
{
	page_end = min_int(page_end, m->nr_pages);
	for (int page = max_int(page_start, 0); page < page_end; page++) {
		if (page_populated(m, page))
			continue;
		bit_set(m->populated, page);
		m->nr_populated++;
		if (block_empty(&m->md_blocks[page]))
			m->nr_empty_pop_pages++;
	}
}

void pcpu_chunk_mark_depopulated(struct pcpu_chunk_map *m, int page_start, int page_end)
{
	page_end = min_int(page_end, m->nr_pages);
	for (int page = max_int(page_start, 0); page < page_end; page++) {
		if (!page_populated(m, page))
			continue;
		bit_clear(m->populated, page);
		m->nr_populated--;
		if (block_empty(&m->md_blocks[page]))
			m->nr_empty_pop_pages--;
	}
}

bool pcpu_chunk_next_unpop(const struct pcpu_chunk_map *m, int *rs, int *re, int end)
{
	end = min_int(end, m->nr_pages);
	*rs = find_next_zero(m->populated, end, max_int(*rs, 0));
	if (*rs >= end)
		return false;
	*re = find_next_one(m->populated, end, *rs + 1);
	return true;
}

bool pcpu_chunk_next_pop(const struct pcpu_chunk_map *m, int *rs, int *re, int end)
{
	end = min_int(end, m->nr_pages);
	*rs = find_next_one(m->populated, end, max_int(*rs, 0));
	if (*rs >= end)
		return false;
	*re = find_next_zero(m->populated, end, *rs + 1);
	return true;
}

bool pcpu_chunk_page_empty(const struct pcpu_chunk_map *m, int page)
{
	return page >= 0 && page < m->nr_pages && block_empty(&m->md_blocks[page]);
}

/* ---- verification -------------------------------------------------------------------- */

/*
 * Everything below recounts from the bitmaps one bit at a time and shares nothing with
 * the maintenance code above, so a slip there cannot hide itself here.
 */

static bool vtest(const unsigned long *map, long bit)
{
	return (map[bit / BITS_PER_WORD] >> (bit % BITS_PER_WORD)) & 1;
}

/* Checks @md against bits [base, base + nr_bits) of the allocation map. */
static int verify_md(const struct pcpu_chunk_map *m, const struct pcpu_block_md *md,
		     const char *what, int idx, int base, int nr_bits, char *err, size_t errlen)
{
	int first_free = nr_bits, left = 0, right = 0, longest = 0, run = 0;
	int longest_before_scan = 0, i;

#define VFAIL(...)                                                                   \
	do {                                                                         \
		int n_ = snprintf(err, errlen, "%s %d: ", what, idx);                \
		if (n_ >= 0 && (size_t)n_ < errlen)                                  \
			snprintf(err + n_, errlen - (size_t)n_, __VA_ARGS__);        \
		return -1;                                                           \
	} while (0)
#define FREE_AT(i) (!vtest(m->alloc_map, (long)base + (i)))

	if (md->nr_bits != nr_bits)
		VFAIL("nr_bits %d, expected %d", md->nr_bits, nr_bits);
	for (i = 0; i < nr_bits && FREE_AT(i); i++)
		left++;
	for (i = nr_bits - 1; i >= 0 && FREE_AT(i); i--)
		right++;
	for (i = 0; i < nr_bits; i++) {
		if (FREE_AT(i)) {
			if (first_free == nr_bits)
				first_free = i;
			run++;
			if (run > longest)
				longest = run;
		} else {
			run = 0;
		}
	}
	if (md->first_free != first_free)
		VFAIL("first_free %d, expected %d", md->first_free, first_free);
	if (md->left_free != left)
		VFAIL("left_free %d, expected %d", md->left_free, left);
	if (md->right_free != right)
		VFAIL("right_free %d, expected %d", md->right_free, right);
	if (md->contig_hint != longest)
		VFAIL("contig_hint %d, expected %d", md->contig_hint, longest);
	if (longest) {
		if (md->contig_hint_start < 0 || md->contig_hint_start + longest > nr_bits)
			VFAIL("contig_hint_start %d out of range", md->contig_hint_start);
		for (i = md->contig_hint_start; i < md->contig_hint_start + longest; i++)
			if (!FREE_AT(i))
				VFAIL("contig run [%d, +%d) has allocated bit %d",
				      md->contig_hint_start, longest, i);
	}

	if (md->scan_hint < 0)
		VFAIL("negative scan_hint %d", md->scan_hint);
	if (!md->scan_hint)
		return 0;
	if (md->scan_hint_start < 0 || md->scan_hint_start + md->scan_hint > nr_bits)
		VFAIL("scan run [%d, +%d) out of range", md->scan_hint_start, md->scan_hint);
	for (i = md->scan_hint_start; i < md->scan_hint_start + md->scan_hint; i++)
		if (!FREE_AT(i))
			VFAIL("scan run [%d, +%d) has allocated bit %d", md->scan_hint_start,
			      md->scan_hint, i);
	if ((md->scan_hint_start > 0 && FREE_AT(md->scan_hint_start - 1)) ||
	    (md->scan_hint_start + md->scan_hint < nr_bits &&
	     FREE_AT(md->scan_hint_start + md->scan_hint)))
		VFAIL("scan run [%d, +%d) is not a whole free run", md->scan_hint_start,
		      md->scan_hint);
	if (md->scan_hint > md->contig_hint)
		VFAIL("scan_hint %d longer than contig_hint %d", md->scan_hint, md->contig_hint);
	if (md->scan_hint_start == md->contig_hint_start)
		VFAIL("scan run and contig run both at %d", md->scan_hint_start);
	if (md->scan_hint < md->contig_hint && md->scan_hint_start > md->contig_hint_start)
		VFAIL("shorter scan run at %d after contig run at %d", md->scan_hint_start,
		      md->contig_hint_start);
	run = 0;
	for (i = 0; i < md->scan_hint_start; i++) {
		run = FREE_AT(i) ? run + 1 : 0;
		if (run > longest_before_scan)
			longest_before_scan = run;
	}
	if (longest_before_scan > md->scan_hint)
		VFAIL("a run of %d before scan run [%d, +%d)", longest_before_scan,
		      md->scan_hint_start, md->scan_hint);
	return 0;
#undef FREE_AT
#undef VFAIL
}

int pcpu_chunk_map_verify(const struct pcpu_chunk_map *m, char *err, size_t errlen)
{
	long map_bits = m->map_bits, start_bits, end_bits, bit, free_bits = 0;
	int page, nr_populated = 0, nr_empty_pop = 0;

#define FAIL(...)                                                                    \
	do {                                                                         \
		snprintf(err, errlen, __VA_ARGS__);                                  \
		return -1;                                                           \
	} while (0)

	if (m->nr_pages <= 0 || map_bits != (long)m->nr_pages * m->block_bits)
		FAIL("map_bits %ld does not match nr_pages %d", map_bits, m->nr_pages);
	if (m->start_offset < 0 || m->end_offset < 0 || m->start_offset % PCPU_MIN_ALLOC_SIZE ||
	    m->end_offset % PCPU_MIN_ALLOC_SIZE ||
	    (long)m->start_offset + m->end_offset >= map_bits * PCPU_MIN_ALLOC_SIZE)
		FAIL("bad hidden areas: start_offset %d end_offset %d", m->start_offset,
		     m->end_offset);
	start_bits = m->start_offset / PCPU_MIN_ALLOC_SIZE;
	end_bits = map_bits - m->end_offset / PCPU_MIN_ALLOC_SIZE; /* first hidden tail bit */

	for (bit = 0; bit < map_bits; bit++) {
		bool used = vtest(m->alloc_map, bit);

		if ((bit < start_bits || bit >= end_bits) && !used)
			FAIL("hidden bit %ld is free", bit);
		if (!used)
			free_bits++;
	}
	if ((long)m->free_bytes != free_bits * PCPU_MIN_ALLOC_SIZE)
		FAIL("free_bytes %d, bitmap has %ld free bytes", m->free_bytes,
		     free_bits * PCPU_MIN_ALLOC_SIZE);

	/* boundary bits: exactly the edges of allocated stretches, plus the edges
	 * between allocations inside them; the hidden areas are single allocations */
	for (bit = 0; bit <= map_bits; bit++) {
		bool edge = vtest(m->bound_map, bit);
		bool before = bit > 0 && vtest(m->alloc_map, bit - 1);
		bool at = bit < map_bits && vtest(m->alloc_map, bit);

		if (edge && !before && !at)
			FAIL("boundary bit %ld touches no allocation", bit);
		if (!edge && at && !before)
			FAIL("allocated stretch at %ld has no start boundary", bit);
		if (!edge && before && !at)
			FAIL("allocated stretch ending at %ld has no end boundary", bit);
		if (edge && ((bit > 0 && bit < start_bits) || (bit > end_bits && bit < map_bits)))
			FAIL("boundary bit %ld inside a hidden area", bit);
		if (!edge && ((start_bits && (bit == 0 || bit == start_bits)) ||
			      (end_bits < map_bits && (bit == end_bits || bit == map_bits))))
			FAIL("hidden area edge %ld has no boundary bit", bit);
	}

	for (page = 0; page < m->nr_pages; page++) {
		bool empty = true, full = true;

		if (verify_md(m, &m->md_blocks[page], "block", page, page * m->block_bits,
			      m->block_bits, err, errlen))
			return -1;
		for (bit = 0; bit < m->block_bits; bit++) {
			if (vtest(m->alloc_map, (long)page * m->block_bits + bit))
				empty = false;
			else
				full = false;
		}
		if (vtest(nonfull_map(m), page) != !full)
			FAIL("non-full map bit %d is %d, block %s", page,
			     vtest(nonfull_map(m), page), full ? "full" : "has free bits");
		if (vtest(m->populated, page)) {
			nr_populated++;
			nr_empty_pop += empty;
		}
	}
	if (verify_md(m, &m->chunk_md, "chunk", 0, 0, (int)map_bits, err, errlen))
		return -1;
	if (m->nr_populated != nr_populated)
		FAIL("nr_populated %d, populated map has %d", m->nr_populated, nr_populated);
	if (m->nr_empty_pop_pages != nr_empty_pop)
		FAIL("nr_empty_pop_pages %d, expected %d", m->nr_empty_pop_pages, nr_empty_pop);
	for (page = m->nr_pages; page % BITS_PER_WORD; page++)
		if (vtest(m->populated, page))
			FAIL("populated bit %d past the last page", page);
	return 0;
#undef FAIL
}
