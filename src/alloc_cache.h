/* SPDX-License-Identifier: MIT */
/* alloc_cache.h - the two hot operations of the cache of freed small areas (alloc_cache.c
 * has the design and the rest): a free that caches its area and an allocation that takes
 * one back.  Inline, so that pcpu_free() and pcpu_alloc() on a churn make no call
 * besides the lock's: at 8 bytes a call layer and its saved registers were a tenth of a
 * free.  CONTEXT: pcpu_lock held. */
#ifndef PCPU_SRC_ALLOC_CACHE_H
#define PCPU_SRC_ALLOC_CACHE_H

#include <string.h>

#include "alloc_internal.h"
#include "chunk_bitmap.h"

/* alloc_cache.c: @p's link, or one read before it (when @p is NULL), was overwritten */
_Noreturn void _pcpu_cache_written_after_free(int bits, const void *p, const void *link)
	PCPU_HIDDEN;

/* The size in bits of the live area at byte @off of @c if the cache takes it, else -1
 * (too small to hold a link, too large, in the reserved chunk, or no live area starts
 * there: the bitmap's free says which).  @off comes from chunk_lookup(), which keeps it
 * within the map.  The boundary that ends a small area is most often in the word of the
 * one that starts it. */
static inline int cacheable_bits(const struct pcpu_chunk *c, int off)
{
	const struct pcpu_chunk_map *m = &c->map;
	int bit = off / PCPU_MIN_ALLOC_SIZE, end, next;
	unsigned long bounds;

	if (c == pa->reserved_chunk || off % PCPU_MIN_ALLOC_SIZE)
		return -1;
	bounds = m->bound_map[word_of(bit)];
	/* an allocated bit with a boundary starts an area; the next boundary ends it */
	if (!((m->alloc_map[word_of(bit)] & bounds) >> shift_of(bit) & 1))
		return -1;
	bounds = bounds >> shift_of(bit) >> 1; /* the boundaries after @bit in its word */
	if (__builtin_expect(bounds != 0, 1)) {
		next = bit + 1 + __builtin_ctzl(bounds);
	} else {
		end = bit + PCPU_CACHE_MAX_BITS + 1;
		if (end > m->map_bits + 1)
			end = m->map_bits + 1;
		next = find_next_one(m->bound_map, end, bit + 1);
	}
	if (next - bit > PCPU_CACHE_MAX_BITS ||
	    (size_t)(next - bit) * PCPU_MIN_ALLOC_SIZE < sizeof(void *))
		return -1;
	return next - bit;
}

/* pcpu_free()'s first step: caches the live area at byte @off of @c instead of freeing
 * it.  1 if cached; 0 if the cache does not take it (the caller frees it in the maps,
 * which find whether it is live); -1 if it is in the cache already: a double free. */
static inline int cache_put(struct pcpu_chunk *c, int off)
{
	int bits;
	size_t bytes;
	char *p = c->base + off;

	if (bit_test(c->cached, off / PCPU_MIN_ALLOC_SIZE))
		return -1;
	bits = cacheable_bits(c, off);
	if (bits < 0)
		return 0;
	bytes = (size_t)bits * PCPU_MIN_ALLOC_SIZE;
	if (__builtin_expect(pa->cache_bytes + bytes > pa->cache_max_bytes, 0))
		return 0;
	memcpy(p + pa->link_offset, &pa->cache[bits], sizeof(void *));
	_pcpu_san_free(p, bytes); /* the link too: only the allocator reads it */
	pa->cache[bits] = p;
	bit_set(c->cached, off / PCPU_MIN_ALLOC_SIZE);
	c->nr_cached++;
	pa->cache_bytes += bytes;
	reserve_touch();
	return 1;
}

/* A cached area of @bits bits aligned to @align, taken out of the cache, or NULL;
 * *@cp and *@offp say where it is.  A link is checked in two steps, each where it is
 * cheap: when read, that it points into the arena (an overwritten link almost never
 * does); when its area is taken, that a cached area of this size starts there (its
 * cached bit, which taking it clears anyway, and its boundary bits: a link to a freed
 * area of another size would have the allocation overrun it). */
static inline char *cache_get(int bits, size_t align, struct pcpu_chunk **cp, int *offp)
{
	char *p = pa->cache[bits], *next;
	struct pcpu_chunk *c;
	int off;

	if (!p || ((uintptr_t)p & (align - 1)))
		return NULL;
	c = chunk_lookup((uintptr_t)p, &off);
	if (__builtin_expect(!c || !bit_test(c->cached, off / PCPU_MIN_ALLOC_SIZE) ||
			     cacheable_bits(c, off) != bits, 0))
		_pcpu_cache_written_after_free(bits, NULL, p);
	_pcpu_san_alloc(p, (size_t)bits * PCPU_MIN_ALLOC_SIZE); /* it is taken: readable */
	memcpy(&next, p + pa->link_offset, sizeof(next));
	if (__builtin_expect(next && ((uintptr_t)next - (uintptr_t)pa->arena >= pa->arena_bytes ||
				      (uintptr_t)next % PCPU_MIN_ALLOC_SIZE), 0))
		_pcpu_cache_written_after_free(bits, p, next);
	pa->cache[bits] = next;
	if (next) /* the next allocation of this size reads its link and zeroes its copies */
		for (int u = 0; u < pa->nr_used && u < 4; u++)
			__builtin_prefetch(next + pa->used_unit_base[u], 1);
	bit_clear(c->cached, off / PCPU_MIN_ALLOC_SIZE);
	c->nr_cached--;
	pa->cache_bytes -= (size_t)bits * PCPU_MIN_ALLOC_SIZE;
	reserve_touch();
	*cp = c;
	*offp = off;
	return p;
}

#endif
