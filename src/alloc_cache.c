/* SPDX-License-Identifier: MIT */
/* alloc_cache.c - the allocator's cache of freed small areas (pcpu_lock held), split from
 * alloc.c.
 *
 * Beyond the kernel: a bitmap free and the next bitmap allocation cost several times a
 * list push and pop (librseq's mempool is a free list), so a freed area of up to
 * PCPU_CACHE_MAX_BITS bits waits on a list per size for the next allocation of that
 * size, linked through its first used unit's copy: it stays allocated in the maps, its
 * pages populated.  A bit per map bit marks it, so that freeing it again is caught as
 * a double free, and a link that leads to no cached area (the area was written after
 * pcpu_free()) is reported instead of followed (_pcpu_cache_get() says when).  Both
 * paths touch no bitmap but the words of the area's own bits: a free and the next
 * allocation of its size cost a lookup, a few bit tests and a list push or pop.  At most
 * cache_max_bytes per unit; the balance work gives every cached area back to its chunk
 * when it trims the reserve. */
#include <string.h>

#include "alloc_internal.h"
#include "chunk_bitmap.h"

/* The size in bits of the live area at byte @off of @c if the cache takes it, else -1
 * (too small to hold a link, too large, in the reserved chunk, or no live area starts
 * there: the bitmap's free says which).  @off comes from chunk_lookup(), which keeps it
 * within the map.  Inline on pcpu_free()'s path: the boundary that ends a small area
 * is most often in the word of the one that starts it. */
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
	if (bounds) {
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
int _pcpu_cache_put(struct pcpu_chunk *c, int off)
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
	if (pa->cache_bytes + bytes > pa->cache_max_bytes)
		return 0;
	memcpy(p + pa->link_offset, &pa->cache[bits], sizeof(void *));
	_pcpu_san_free(p, bytes); /* the link too: only the allocator reads it */
	pa->cache[bits] = p;
	bit_set(c->cached, off / PCPU_MIN_ALLOC_SIZE);
	c->nr_cached++;
	pa->cache_bytes += bytes;
	pa->reserve_active = true;
	return 1;
}

/* @p's link, or one read before it (when @p is NULL), was overwritten. */
static _Noreturn void written_after_free(int bits, const void *p, const void *link)
{
	if (p)
		_pcpu_fatal("pcpu_alloc", "the freed %d-byte area %p was written after "
			   "pcpu_free(): its cache link %p leads to no freed area",
			   bits * PCPU_MIN_ALLOC_SIZE, p, link);
	_pcpu_fatal("pcpu_alloc", "a freed %d-byte area was written after pcpu_free(): a "
		   "cache link leads to %p, no freed area of that size",
		   bits * PCPU_MIN_ALLOC_SIZE, link);
}

/* A cached area of @bits bits aligned to @align, taken out of the cache, or NULL;
 * *@cp and *@offp say where it is.  A link is checked in two steps, each where it is
 * cheap: when read, that it points into the arena (an overwritten link almost never
 * does); when its area is taken, that a cached area of this size starts there (its
 * cached bit, which taking it clears anyway, and its boundary bits: a link to a freed
 * area of another size would have the allocation overrun it). */
char *_pcpu_cache_get(int bits, size_t align, struct pcpu_chunk **cp, int *offp)
{
	char *p = pa->cache[bits], *next;
	struct pcpu_chunk *c;
	int off;

	if (!p || ((uintptr_t)p & (align - 1)))
		return NULL;
	c = chunk_lookup((uintptr_t)p, &off);
	if (!c || !bit_test(c->cached, off / PCPU_MIN_ALLOC_SIZE) || cacheable_bits(c, off) != bits)
		written_after_free(bits, NULL, p);
	_pcpu_san_alloc(p, (size_t)bits * PCPU_MIN_ALLOC_SIZE); /* it is taken: readable */
	memcpy(&next, p + pa->link_offset, sizeof(next));
	if (next && ((uintptr_t)next - (uintptr_t)pa->arena >= pa->arena_bytes ||
		     (uintptr_t)next % PCPU_MIN_ALLOC_SIZE))
		written_after_free(bits, p, next);
	pa->cache[bits] = next;
	bit_clear(c->cached, off / PCPU_MIN_ALLOC_SIZE);
	c->nr_cached--;
	pa->cache_bytes -= (size_t)bits * PCPU_MIN_ALLOC_SIZE;
	pa->reserve_active = true;
	*cp = c;
	*offp = off;
	return p;
}

/* Reports the first cached area no list reaches any more (the failure path: it may
 * look at every chunk). */
static _Noreturn void lost_from_cache(void)
{
	for (int slot = 0; slot < pa->nr_slots; slot++) {
		struct pcpu_list *head = &pa->slots[slot], *pos;

		for (pos = head->next; pos != head; pos = pos->next) {
			struct pcpu_chunk *c = chunk_of(pos);
			int bit = c->nr_cached ? find_next_one(c->cached, c->map.map_bits, 0) :
						 c->map.map_bits;

			if (bit < c->map.map_bits)
				_pcpu_fatal("pcpu_balance", "the freed area %p is lost from the "
					   "cache (%zu bytes per CPU in all): a freed area was "
					   "written after pcpu_free() (its cache link overwritten)",
					   (void *)(c->base + (size_t)bit * PCPU_MIN_ALLOC_SIZE),
					   pa->cache_bytes);
		}
	}
	_pcpu_fatal("pcpu_balance", "%zu bytes per CPU of freed areas are lost from the cache: "
		   "a freed area was written after pcpu_free() (its cache link overwritten)",
		   pa->cache_bytes);
}

/* Gives every cached area back to its chunk.  An area the lists no longer reach (a
 * link overwritten with NULL or with the address of a later area of the list, by a
 * write after pcpu_free()) would stay allocated for good: its bytes are still counted,
 * so it is reported here. */
void _pcpu_cache_drain(void)
{
	for (int bits = 1; bits <= PCPU_CACHE_MAX_BITS; bits++) {
		struct pcpu_chunk *c;
		int off;

		while (_pcpu_cache_get(bits, 1, &c, &off)) {
			(void)_pcpu_alloc_chunk_free_locked(c, off);
			(void)_pcpu_alloc_after_free(c); /* isolates it if it should give pages back */
		}
	}
	if (pa->cache_bytes)
		lost_from_cache();
}
