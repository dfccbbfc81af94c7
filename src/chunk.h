/* SPDX-License-Identifier: MIT */
/* chunk.h - one chunk's bitmap allocator: allocation map, boundary map, per-block hints
 * and the populated-page map.  Pure: no system calls, no locking (callers serialize).
 *
 * Units: a "bit" is PCPU_MIN_ALLOC_SIZE bytes of a unit; a "block" is exactly one page,
 * block_bits bits: the page size is the map's, chosen at init (the allocator's page size,
 * from 4 KiB to 64 KiB as on kernels with 16 or 64 KiB pages).  Offsets handed in and out of
 * the alloc/free calls are byte offsets within a unit; hint fields are in bits. */
#ifndef PCPU_SRC_CHUNK_H
#define PCPU_SRC_CHUNK_H

#include <stdbool.h>
#include <stddef.h>

#define PCPU_MIN_ALLOC_SHIFT 2
#define PCPU_MIN_ALLOC_SIZE (1 << PCPU_MIN_ALLOC_SHIFT)     /* bytes per bitmap bit */
#define PCPU_MIN_PAGE_SIZE 4096                              /* page sizes supported */
#define PCPU_MAX_PAGE_SIZE 65536
#define PCPU_CHUNK_MAX_UNIT_BYTES ((size_t)1 << 30)         /* byte offsets fit an int */

/* Hints of one block (or of the whole chunk, in chunk_md).  All in bits, relative to the
 * block's start (chunk_md: to the chunk's start). */
struct pcpu_block_md {
	int scan_hint;         /* a free area before contig_hint_start that scans may skip */
	int scan_hint_start;
	int contig_hint;       /* the largest free area */
	int contig_hint_start;
	int left_free;         /* free bits at the start */
	int right_free;        /* free bits at the end */
	int first_free;        /* first free bit */
	int nr_bits;           /* bits covered */
};

struct pcpu_chunk_map {
	int nr_pages;          /* pages (= blocks) per unit */
	int block_bits;        /* bits per block: page size / PCPU_MIN_ALLOC_SIZE */
	int block_shift;       /* log2(block_bits) */
	int map_bits;          /* nr_pages * block_bits */
	int start_offset;      /* bytes at the start of the unit hidden from this chunk */
	int end_offset;        /* bytes at the end of the unit hidden from this chunk */
	int free_bytes;        /* free bytes, hidden areas excluded */
	int nr_populated;      /* populated pages */
	int nr_empty_pop_pages;/* populated pages with no allocation in them */
	unsigned long *alloc_map;  /* map_bits bits: 1 = allocated (hidden areas too) */
	unsigned long *bound_map;  /* map_bits + 1 bits: 1 at each allocation's start and end */
	unsigned long *populated;  /* nr_pages bits */
	struct pcpu_block_md chunk_md;
	struct pcpu_block_md *md_blocks; /* nr_pages entries */
	void *meta;            /* the one block holding the maps above */
	bool meta_owned;       /* allocated by _pcpu_chunk_map_init, freed by destroy */
};

/* Sets up the maps of a chunk whose units are @unit_bytes long (a multiple of
 * @page_bytes, a power of two from PCPU_MIN_PAGE_SIZE to PCPU_MAX_PAGE_SIZE), with @start_offset and @end_offset bytes hidden (multiples of
 * PCPU_MIN_ALLOC_SIZE).  Hidden areas are marked allocated.  No page is populated.
 * Returns 0 or -1 with errno ENOMEM/EINVAL. */
int _pcpu_chunk_map_init(struct pcpu_chunk_map *m, size_t unit_bytes, size_t page_bytes,
			int start_offset, int end_offset);
/* The same, with the maps in caller-provided memory: @mem is zero-filled, word-aligned
 * and _pcpu_chunk_map_meta_bytes(@unit_bytes, @page_bytes) long, and stays the caller's (the allocator
 * maps it separately so that it goes back to the system with its chunk). */
int _pcpu_chunk_map_init_mem(struct pcpu_chunk_map *m, size_t unit_bytes, size_t page_bytes,
			    int start_offset, int end_offset, void *mem);
size_t _pcpu_chunk_map_meta_bytes(size_t unit_bytes, size_t page_bytes);
void _pcpu_chunk_map_destroy(struct pcpu_chunk_map *m);

/* Finds where an area of @alloc_bits bits aligned to @align bytes (power of two,
 * at most the map's page size) could start, using the hints.  With @pop_only, only areas whose pages
 * are all populated qualify.  Returns a bit offset to start the search from, or -1. */
int _pcpu_chunk_find_fit(struct pcpu_chunk_map *m, int alloc_bits, size_t align, bool pop_only);

/* Allocates @alloc_bits bits aligned to @align bytes, searching from bit @start (as
 * returned by _pcpu_chunk_find_fit).  Updates maps, hints, free_bytes and
 * nr_empty_pop_pages.  Returns the byte offset of the area, or -1 if none fits. */
int _pcpu_chunk_alloc_area(struct pcpu_chunk_map *m, int alloc_bits, size_t align, int start);

/* Frees the area that starts at byte offset @off.  Returns the number of bytes freed, or
 * -1 if @off is not the start of a live allocation (double free, interior or wild
 * pointer, hidden area); nothing changes then. */
int _pcpu_chunk_free_area(struct pcpu_chunk_map *m, int off);

/* Marks pages [page_start, page_end) populated / not populated and updates
 * nr_populated and nr_empty_pop_pages.  Pages already in that state are skipped. */
void _pcpu_chunk_mark_populated(struct pcpu_chunk_map *m, int page_start, int page_end);
void _pcpu_chunk_mark_depopulated(struct pcpu_chunk_map *m, int page_start, int page_end);

/* Iterates the maximal runs of unpopulated (or populated) pages within [start, end):
 * returns true with *rs, *re set to the next run at or after *rs, false when none. */
bool _pcpu_chunk_next_unpop(const struct pcpu_chunk_map *m, int *rs, int *re, int end);
bool _pcpu_chunk_next_pop(const struct pcpu_chunk_map *m, int *rs, int *re, int end);

/* True if page @page has no allocation (its block is entirely free). */
bool _pcpu_chunk_page_empty(const struct pcpu_chunk_map *m, int page);

/* Recomputes every hint and counter by a full scan of the maps and compares them with
 * the maintained ones.  Returns 0 if consistent, otherwise -1 with a description in @err. */
int _pcpu_chunk_map_verify(const struct pcpu_chunk_map *m, char *err, size_t errlen);

#endif
