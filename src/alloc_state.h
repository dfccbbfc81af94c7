/* SPDX-License-Identifier: MIT */
/* alloc_state.h - the allocator's private state: its chunks, slots, counters and locks.
 * alloc.c owns it and changes it; besides, only the allocator's statistics read it, as
 * the kernel's percpu-stats.c reads percpu-internal.h: stats.c under the locks, and
 * percpu-info --pid from another process through the anchor (anchor.h).  Every other
 * file calls alloc.c's functions in internal.h.  White-box tests include it too. */
#ifndef PCPU_SRC_ALLOC_STATE_H
#define PCPU_SRC_ALLOC_STATE_H

#include "chunk_vm.h"
#include "internal.h"
#include "list.h"
#include "mutex.h"

#define PCPU_EMPTY_POP_PAGES_LOW 2
#define PCPU_EMPTY_POP_PAGES_HIGH 4
#define PCPU_RECLAIM_BATCH 16 /* empty pages an isolated chunk gathers before reclaim */
#define PCPU_SLOT_BASE_SHIFT 5
#define PCPU_SLOT_FAIL_HINT 3
/* The reserve: empty populated pages kept for reuse beyond the kernel's pool, up to this
 * much memory over all used units (and at least PCPU_EMPTY_POP_PAGES_HIGH pages per
 * unit), until pcpu_balance(), or until the allocator has been idle (no page
 * populated, emptied or reused, no area cached or taken from the cache) for
 * PCPU_RESERVE_IDLE_MS, which one allocator call in PCPU_RESERVE_CHECK_CALLS looks at.
 * 256 MiB: a churn of 100,000 1 KiB objects on 2 CPUs (200 MiB) kept only 64 MiB of
 * its pages and spent half its time faulting the rest in again, every round (librseq's
 * pool keeps them all until it is destroyed). */
#define PCPU_RESERVE_BYTES ((size_t)256 << 20)
#define PCPU_RESERVE_IDLE_MS 1000
#define PCPU_RESERVE_CHECK_CALLS 64
/* The cache: freed areas of up to PCPU_CACHE_MAX_BITS bits (1 KiB) wait on a list per
 * size for the next allocation of that size, at most PCPU_CACHE_BYTES of them over all
 * used units, and go back to their chunks when the reserve is trimmed. */
#define PCPU_CACHE_MAX_BITS 256
#define PCPU_CACHE_BYTES ((size_t)64 << 20)

/*
 * The allocator's state.  Two locks (order: alloc_mutex, then lock; sections.c's
 * sec_mutex comes before both):
 *   lock ("pcpu_lock")  the maps, slots and counters; never held across a system call.
 *   alloc_mutex         serializes what makes system calls: creating, populating,
 *                       depopulating and destroying chunks, growing the arena.
 * Each field says what guards it.  "setup" fields are written by _pcpu_alloc_setup()
 * before the library is published and never after.  Under LIBPERCPU_DEBUG the
 * functions that need a lock check that their thread holds it.
 */
struct pcpu_alloc_state {
	struct pcpu_mutex alloc_mutex;
	struct pcpu_mutex lock;

	size_t arena_bytes;          /* lock and alloc_mutex to write (release store), atomic
				      * loads to read without them: max_chunks * chunk_bytes */
	int max_chunks;              /* lock and alloc_mutex to write; either to read */
	struct pcpu_chunk **chunks;  /* lock: chunks_cap >= max_chunks entries, by arena slot */
	int chunks_cap;              /* lock and alloc_mutex to write */
	int chunk_hwm;               /* lock: highest arena slot ever used + 1 */
	int nr_chunks;               /* lock */

	/* setup: what every free and every allocation from the cache reads of the geometry,
	 * copied here: one load each instead of two through _pcpu_geo */
	char *arena;                 /* _pcpu_geo->arena */
	size_t unit_size;            /* _pcpu_geo->unit_size */
	int chunk_shift;             /* _pcpu_geo->chunk_shift */
	int page_shift;              /* log2(_pcpu_geo->page_size) */
	ptrdiff_t link_offset;       /* _pcpu_geo->used_unit_base[0]: where the copy that
				      * holds a cached area's link is */
	const ptrdiff_t *used_unit_base; /* _pcpu_geo->used_unit_base, nr_used entries */
	int nr_used;                 /* _pcpu_geo->nr_used */
	bool cid;                    /* _pcpu_index_cid(): units indexed by concurrency ID */

	struct pcpu_chunk *first_chunk;    /* setup */
	struct pcpu_chunk *reserved_chunk; /* setup; NULL without a reserved region */

	int nr_slots, free_slot, to_depopulate_slot, sidelined_slot; /* setup */
	struct pcpu_list *slots;     /* lock: nr_slots circular lists of chunks, by contig hint */
	uint64_t slot_mask;          /* lock: bit s set: slots[s] is not empty */

	int nr_empty_pop_pages;      /* lock: over non-isolated, non-reserved chunks */
	bool balance_pending;        /* lock */

	int reserve_pages;           /* lock (setup; tests change it): most empty populated
				      * pages per unit kept between trims, PCPU_RESERVE_BYTES' */
	bool reserve_active;         /* lock: a page entered or left the pool, or an area the
				      * cache, since the last idle check */
	bool trim_pending;           /* lock: the next balance work trims the reserve */
	int calls_to_check;          /* lock: allocator calls until the next idle check */
	uint64_t reserve_stamp_ms;   /* lock: _pcpu_vm->now_ms() when last seen active */
	/* lock: cache[b] lists the freed areas of b bits, linked through the copy of their
	 * first used unit; cache_bytes of them per unit, at most cache_max_bytes (setup,
	 * PCPU_CACHE_BYTES'; tests change it) */
	void *cache[PCPU_CACHE_MAX_BITS + 1];
	size_t cache_bytes, cache_max_bytes;
	bool always_zero;            /* atomic: a depopulation failed, so pages populated
				      * again may hold old bytes: every allocation zeroes */

	struct pcpu_stats stats;     /* lock, but for the two counts below */
	/* Counted outside the lock (population runs under alloc_mutex only): atomic
	 * updates and loads, kept out of stats so that copying stats under the lock races
	 * with nothing. */
	uint64_t nr_populate_calls, nr_depopulate_calls;
	bool debug;                  /* LIBPERCPU_DEBUG: verify maps and lock ownership; setup
				      * (tests switch it between operations) */
	bool use_huge_first_chunk;   /* setup: the first chunk is on huge pages */
};

extern struct pcpu_alloc_state _pcpu_alloc PCPU_HIDDEN;

#endif
