/* SPDX-License-Identifier: MIT */
/* chunk.c - the allocator inside one chunk: an allocation bitmap, a boundary bitmap, free
 * space hints per page-sized block and for the whole chunk, and the populated-page map.
 * Pure computation, no system calls and no locking; alloc.c serializes the callers.
 *
 * This file sets a chunk up, finds and allocates areas, frees them and tracks population;
 * chunk_hints.c keeps the hints described below exact, chunk_verify.c recounts them for
 * the tests, chunk_bitmap.h holds the word-at-a-time bitmap primitives and
 * chunk_internal.h what the three files share.
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
 * how _pcpu_chunk_free_area() turns double frees and stray pointers into -1.  The hidden
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
 *     block is rescanned from the scan run (or from first_free), unless that run was
 *     the block's only one and the allocation took its front (a fresh block filling
 *     up: the rest is the only run, no rescan; the kernel rescans).  At chunk level the
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
 * chunk.  Here _pcpu_chunk_find_fit() returning -1 must mean that nothing fits, and the
 * test suite holds the hints to a full recount (_pcpu_chunk_map_verify), so:
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
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunk_internal.h"

/* ---- set-up ------------------------------------------------------------------------ */

size_t _pcpu_chunk_map_meta_bytes(size_t unit_bytes, size_t page_bytes)
{
	int map_bits = bytes_to_bits((int)unit_bytes), nr_pages = (int)(unit_bytes / page_bytes);

	return ((size_t)bits_to_words(map_bits) + (size_t)bits_to_words(map_bits + 1) +
		(size_t)bits_to_words(nr_pages) * 2) * sizeof(unsigned long) +
	       (size_t)nr_pages * sizeof(struct pcpu_block_md);
}

int _pcpu_chunk_map_init(struct pcpu_chunk_map *m, size_t unit_bytes, size_t page_bytes,
			int start_offset, int end_offset)
{
	return _pcpu_chunk_map_init_mem(m, unit_bytes, page_bytes, start_offset, end_offset, NULL);
}

int _pcpu_chunk_map_init_mem(struct pcpu_chunk_map *m, size_t unit_bytes, size_t page_bytes,
			    int start_offset, int end_offset, void *mem)
{
	int map_bits, start_bits, end_bits;

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
		mem = calloc(1, _pcpu_chunk_map_meta_bytes(unit_bytes, page_bytes));
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

	_pcpu_chunk_init_hints(m);
	return 0;
}

void _pcpu_chunk_map_destroy(struct pcpu_chunk_map *m)
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
int _pcpu_chunk_find_fit(struct pcpu_chunk_map *m, int alloc_bits, size_t align, bool pop_only)
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

int _pcpu_chunk_alloc_area(struct pcpu_chunk_map *m, int alloc_bits, size_t align, int start)
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
	_pcpu_chunk_hints_alloc(m, bit, bit + alloc_bits);
	return bits_to_bytes(bit);
}

int _pcpu_chunk_free_area(struct pcpu_chunk_map *m, int off)
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
	_pcpu_chunk_hints_free(m, bit, end);
	return bits_to_bytes(end - bit);
}

/* ---- population ---------------------------------------------------------------------- */

void _pcpu_chunk_mark_populated(struct pcpu_chunk_map *m, int page_start, int page_end)
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

void _pcpu_chunk_mark_depopulated(struct pcpu_chunk_map *m, int page_start, int page_end)
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

bool _pcpu_chunk_next_unpop(const struct pcpu_chunk_map *m, int *rs, int *re, int end)
{
	end = min_int(end, m->nr_pages);
	*rs = find_next_zero(m->populated, end, max_int(*rs, 0));
	if (*rs >= end)
		return false;
	*re = find_next_one(m->populated, end, *rs + 1);
	return true;
}

bool _pcpu_chunk_next_pop(const struct pcpu_chunk_map *m, int *rs, int *re, int end)
{
	end = min_int(end, m->nr_pages);
	*rs = find_next_one(m->populated, end, max_int(*rs, 0));
	if (*rs >= end)
		return false;
	*re = find_next_zero(m->populated, end, *rs + 1);
	return true;
}

bool _pcpu_chunk_page_empty(const struct pcpu_chunk_map *m, int page)
{
	return page >= 0 && page < m->nr_pages && block_empty(&m->md_blocks[page]);
}
