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
 * pcpu_free()) is reported instead of followed (cache_get() in alloc_cache.h says when).  Both
 * paths touch no bitmap but the words of the area's own bits: a free and the next
 * allocation of its size cost a lookup, a few bit tests and a list push or pop.  At most
 * cache_max_bytes per unit; the balance work gives every cached area back to its chunk
 * when it trims the reserve. */
#include "alloc_cache.h"

/* @p's link, or one read before it (when @p is NULL), was overwritten. */
_Noreturn void _pcpu_cache_written_after_free(int bits, const void *p, const void *link)
{
	if (p)
		_pcpu_fatal("pcpu_alloc", "the freed %d-byte area %p was written after "
			   "pcpu_free(): its cache link %p leads to no freed area",
			   bits * PCPU_MIN_ALLOC_SIZE, p, link);
	_pcpu_fatal("pcpu_alloc", "a freed %d-byte area was written after pcpu_free(): a "
		   "cache link leads to %p, no freed area of that size",
		   bits * PCPU_MIN_ALLOC_SIZE, link);
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

		while (cache_get(bits, 1, &c, &off)) {
			(void)_pcpu_alloc_chunk_free_locked(c, off);
			(void)_pcpu_alloc_after_free(c); /* isolates it if it should give pages back */
		}
	}
	if (pa->cache_bytes)
		lost_from_cache();
}
