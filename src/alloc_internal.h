/* SPDX-License-Identifier: MIT */
/* alloc_internal.h - what the allocator's three files share: alloc.c (chunks, slots,
 * alloc and free), balance.c (the balance work and the reserve's bounds) and
 * alloc_cache.c (the cache of freed small areas).  The lock helpers, and the functions
 * each calls in the others; every other file goes through internal.h.  Each function
 * names in a comment the lock it needs (alloc_state.h gives the order). */
#ifndef PCPU_SRC_ALLOC_INTERNAL_H
#define PCPU_SRC_ALLOC_INTERNAL_H

#include "alloc_state.h"
#include "anchor.h"

static struct pcpu_alloc_state *const pa = &_pcpu_alloc;

/* pcpu_lock with the sequence count around it that percpu-info --pid reads (anchor.h) */
static inline void lock(void)
{
	_pcpu_state_lock();
}

static inline void unlock(void)
{
	_pcpu_state_unlock();
}

static inline void lock_alloc_mutex(void)
{
	_pcpu_mutex_lock(&pa->alloc_mutex);
}

static inline void unlock_alloc_mutex(void)
{
	_pcpu_mutex_unlock(&pa->alloc_mutex);
}

static inline void assert_held(const struct pcpu_mutex *l, const char *name, const char *fn)
{
	if (pa->debug && !_pcpu_mutex_held(l))
		_pcpu_fatal("LIBPERCPU_DEBUG", "%s() runs without %s held", fn, name);
}

/* CONTEXT: pcpu_lock, or alloc_mutex: the caller holds it (checked with LIBPERCPU_DEBUG). */
#define ASSERT_LOCKED() assert_held(&pa->lock, "pcpu_lock", __func__)
#define ASSERT_ALLOC_MUTEX() assert_held(&pa->alloc_mutex, "alloc_mutex", __func__)

static inline struct pcpu_chunk *chunk_of(struct pcpu_list *l)
{
	return (struct pcpu_chunk *)l; /* list is the first member */
}

/* The chunk that owns @a and the map offset of @a in it, or NULL (pcpu_lock held).
 * Inline: every free and every allocation from the cache looks an address up. */
static inline struct pcpu_chunk *chunk_lookup(uintptr_t a, int *offp)
{
	const struct pcpu_geometry *g = _pcpu_geo;
	size_t index, in_chunk;
	uintptr_t rel;
	struct pcpu_chunk *c;

	ASSERT_LOCKED();
	/* arena_bytes is 0 until _pcpu_alloc_setup() is done: every address is outside, and
	 * the geometry is read after */
	rel = a - (uintptr_t)pa->arena;
	if (rel >= pa->arena_bytes)
		return NULL;
	if (__builtin_expect(pa->chunk_shift != 0, 1)) { /* the usual case: no division */
		index = rel >> pa->chunk_shift;
		in_chunk = rel & (((size_t)1 << pa->chunk_shift) - 1);
	} else {
		index = rel / g->chunk_bytes;
		in_chunk = rel % g->chunk_bytes;
	}
	c = pa->chunks[index];
	if (!c)
		return NULL;
	if (__builtin_expect(index == 0, 0)) {
		if (in_chunk < g->static_size)
			return NULL; /* a static per-CPU variable */
		if (pa->reserved_chunk && in_chunk < g->static_size + g->reserved_size)
			c = pa->reserved_chunk;
	}
	/* Only the part of unit 0 that the chunk's map shows holds allocations: the first
	 * chunk's base is its region's (past the static area), so another unit's copy of a
	 * static variable or of one of its areas, or the unused tail of a unit, lands
	 * within unit_size of it but past its map.  Below the lower bound, the difference
	 * wraps: larger than any map. */
	if (a - c->map_lo >= c->map_span)
		return NULL; /* another CPU's copy, a padding unit, or a hidden area */
	*offp = (int)(a - (uintptr_t)c->base);
	return c;
}

/* alloc.c: slots (pcpu_lock) */
int _pcpu_alloc_size_to_slot(size_t bytes) PCPU_HIDDEN;
void _pcpu_alloc_chunk_unlink(struct pcpu_chunk *c) PCPU_HIDDEN;
void _pcpu_alloc_chunk_move(struct pcpu_chunk *c, int slot, bool front) PCPU_HIDDEN;
void _pcpu_alloc_chunk_relocate(struct pcpu_chunk *c, int oslot) PCPU_HIDDEN;
void _pcpu_alloc_account_empty(struct pcpu_chunk *c, int before) PCPU_HIDDEN;
void _pcpu_alloc_chunk_isolate(struct pcpu_chunk *c) PCPU_HIDDEN;
void _pcpu_alloc_chunk_reintegrate(struct pcpu_chunk *c) PCPU_HIDDEN;
bool _pcpu_alloc_should_reclaim(const struct pcpu_chunk *c, int high) PCPU_HIDDEN;
bool _pcpu_alloc_reserve_keeps_chunks(int high) PCPU_HIDDEN;
bool _pcpu_alloc_after_free(struct pcpu_chunk *c) PCPU_HIDDEN;
void _pcpu_alloc_debug_verify(const struct pcpu_chunk *c, const char *when) PCPU_HIDDEN;
void _pcpu_alloc_dirty_set(struct pcpu_chunk *c, int ps, int pe, bool dirty) PCPU_HIDDEN;
int _pcpu_alloc_chunk_free_locked(struct pcpu_chunk *c, int off) PCPU_HIDDEN;
/* alloc.c: chunks and their pages (alloc_mutex held, pcpu_lock not) */
int _pcpu_alloc_chunk_populate(struct pcpu_chunk *c, int rs, int re) PCPU_HIDDEN;
void _pcpu_alloc_chunk_depopulate(struct pcpu_chunk *c, int rs, int re) PCPU_HIDDEN;
struct pcpu_chunk *_pcpu_alloc_chunk_create(bool listed) PCPU_HIDDEN;
void _pcpu_alloc_chunk_destroy(struct pcpu_chunk *c) PCPU_HIDDEN;

/* balance.c */
void _pcpu_alloc_balance_run(bool trim) PCPU_HIDDEN; /* takes alloc_mutex */
bool _pcpu_alloc_reserve_check(void) PCPU_HIDDEN;    /* pcpu_lock */

/* Every allocator call counts down (pcpu_lock held); one in PCPU_RESERVE_CHECK_CALLS
 * reads the clock (_pcpu_alloc_reserve_check()): true if the reserve is idle and the
 * balance work that the caller runs should trim it. */
static inline bool reserve_idle(void)
{
	ASSERT_LOCKED();
	if (__builtin_expect(--pa->calls_to_check > 0, 1))
		return false;
	return _pcpu_alloc_reserve_check();
}

/* The reserve or the cache was used (pcpu_lock held).  Stored only when it changes: on
 * a churn every store of a free waits behind the one into the freed area. */
static inline void reserve_touch(void)
{
	if (!pa->reserve_active)
		pa->reserve_active = true;
}

/* alloc_cache.c (pcpu_lock); its inline put and get are in alloc_cache.h */
void _pcpu_cache_drain(void) PCPU_HIDDEN;

#endif
