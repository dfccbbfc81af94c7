/* SPDX-License-Identifier: MIT */
/* alloc.c - the per-CPU allocator: chunks, slots, alloc and free, population.  The
 * balance work is in balance.c and the cache of freed small areas in alloc_cache.c
 * (alloc_internal.h joins the three).  The design follows the kernel's mm/percpu.c.  It owns its state
 * (alloc_state.h) and calls only down (chunk.c, vm.c, the geometry); init.c sets it
 * up, and the entry points (api.c) call it once the library is initialized.
 *
 * Chunks and units.  Per-CPU memory comes in chunks.  A chunk holds one unit for every
 * possible CPU (plus padding units, see below), all units the same size; an allocation
 * at offset off of a chunk owns the bytes at off in every unit.  The per-CPU pointer
 * returned to the caller is the address in the unit at offset 0 of the chunk (the first
 * possible CPU's), and CPU c's copy is that address plus unit_offsets[c].  Every chunk
 * has the same unit offsets, so pcpu_ptr() is one addition, whatever the chunk.
 *
 * Groups.  The first-chunk layout (layout.c, the kernel's build_alloc_info) puts CPUs
 * at local NUMA distance in one group and lays groups out back to back, each padded to
 * a whole number of allocations of units (upa units per atom-sized allocation).  Padding
 * units have no CPU: they are never populated, so they cost address space only.  With
 * more than one real node, each group's part of each chunk is bound to its node.
 *
 * Address space.  One reservation (the arena) holds every chunk, chunk i at
 * arena + i * chunk_bytes; it is the userspace counterpart of the kernel's vmalloc area.
 * Finding the chunk of an address is a division, and "is this a per-CPU pointer" is one
 * range check (percpu.h inlines it).  Chunk 0 is the first chunk.  The arena takes only
 * the address space of the chunks made so far: it starts with the first chunk, in the
 * middle of the largest free range of the address space, and grows upward in place one
 * chunk at a time when a new chunk needs a slot (so its base and the range check stay
 * as they are; the size grows with a release store).  If the range above is taken,
 * the new chunk cannot be made: ENOMEM.  (The kernel's vmalloc area is all reserved
 * up front; a process under RLIMIT_AS cannot afford that.)
 *
 * The first chunk.  Each unit of the first chunk starts with the static region (copies
 * of the registered "pcpu_data" sections, sections.c), then the reserved region (for
 * sections registered after start-up: dlopen'd objects, as the kernel's module percpu),
 * then the dynamic region.  As in the kernel, the reserved and the dynamic region are
 * two chunk structures over the same memory, each with a map that hides the rest; the
 * first chunk is populated whole at start-up, and the part of its units past the
 * dynamic region is never used (the kernel gives it back to the page allocator).
 *
 * Maps and hints (chunk.c).  Each chunk has an allocation bitmap of 4-byte bits, a
 * boundary bitmap, and per-page metadata blocks with contig/scan hints, first_free,
 * left/right free, plus the same for the whole chunk.
 *
 * Pages.  "Page" is the allocator's page, the geometry's page_size (init.c chooses it:
 * the system's, or larger with LIBPERCPU_PAGE_SIZE).  Population, depopulation, the
 * bitmap blocks, the layout's rounding and the alignment limit all work in it; only
 * vm.c knows the system's page size.
 *
 * Slots.  Chunks sit on lists ("slots") by the size class of their largest free area;
 * allocation scans from the smallest slot that can fit, so the fullest chunks serve
 * first.  A chunk that fails a small request is parked in slot 0 until a free moves it.
 * Three extra lists: free (entirely free chunks), to_depopulate and sidelined
 * (isolated chunks, off limits to allocation while their empty pages are given back).
 *
 * Population.  Dynamic chunks are committed read-write but cost memory only once
 * populated: allocation populates (prefaults) the pages its area covers in every used
 * unit.  The balance work gives back the empty pages of chunks that are a quarter or
 * more empty, frees surplus entirely-free chunks (keeping one), and keeps between
 * PCPU_EMPTY_POP_PAGES_LOW and _HIGH empty populated pages for PCPU_GFP_ATOMIC
 * allocations, which never populate.  The kernel runs balance from a workqueue; here it
 * runs on the slow paths of alloc and free (there is no hidden thread) or when the
 * application calls pcpu_balance().
 *
 * Reuse (beyond the kernel).  A churn of allocations should neither fault pages in again
 * nor scan the bitmap each time, so freed memory is kept for reuse, within bounds:
 * pages that frees leave empty stay populated up to pa->reserve_pages per unit (the
 * reserve, PCPU_RESERVE_BYTES over all units, instead of the kernel's
 * PCPU_EMPTY_POP_PAGES_HIGH), and freed areas of up to 1 KiB wait in a cache, a list per
 * size, for the next allocation of that size.  pcpu_balance() trims both back to the
 * kernel's pool; so does the allocator call that finds them idle for
 * PCPU_RESERVE_IDLE_MS (no thread: a program that stops calling keeps them until it
 * calls pcpu_balance()).  And an allocation zeroes its copies only where an area was
 * freed since the page was populated (the dirty map): fresh pages read as zero, and
 * at 1,024 CPUs zeroing them anyway was most of an allocation's time.
 *
 * Locking.  pcpu_lock (pa->lock) guards the maps, slots and counters and is never held
 * across a system call; alloc_mutex serializes what does make system calls (creating,
 * populating, depopulating, destroying chunks).  Atomic allocations take only pcpu_lock.
 * fork() is safe: init.c's atfork handlers hold both (and the sections lock) across it.
 * alloc_state.h tags every field with the lock that guards it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_cache.h"
#include "alloc_internal.h"
#include "anchor.h"
#include "vm.h"

struct pcpu_alloc_state _pcpu_alloc = {
	.alloc_mutex = PCPU_MUTEX_INITIALIZER,
	.lock = PCPU_MUTEX_INITIALIZER,
};

void _pcpu_alloc_lock_all(void)
{
	lock_alloc_mutex();
	lock();
}

void _pcpu_alloc_unlock_all(void)
{
	unlock();
	unlock_alloc_mutex();
}

/* ---------------------------------------------------------------------------------
 * Lists and slots
 * --------------------------------------------------------------------------------- */

static int fls_size(size_t v)
{
	return v ? (int)(sizeof(long) * 8) - __builtin_clzl(v) : 0;
}

static int size_to_slot_raw(size_t bytes)
{
	int s = fls_size(bytes) - PCPU_SLOT_BASE_SHIFT + 2;
	return s > 1 ? s : 1;
}

int _pcpu_alloc_size_to_slot(size_t bytes)
{
	return bytes == _pcpu_geo->unit_size ? pa->free_slot : size_to_slot_raw(bytes);
}

static int chunk_slot(const struct pcpu_chunk *c)
{
	const struct pcpu_block_md *md = &c->map.chunk_md;

	if (c->map.free_bytes < PCPU_MIN_ALLOC_SIZE || md->contig_hint == 0)
		return 0;
	return _pcpu_alloc_size_to_slot((size_t)md->contig_hint * PCPU_MIN_ALLOC_SIZE);
}

/* Takes @c off its slot list, keeping the mask of non-empty slots right. */
void _pcpu_alloc_chunk_unlink(struct pcpu_chunk *c)
{
	list_del_init(&c->list);
	if (c->slot >= 0 && list_empty(&pa->slots[c->slot]))
		pa->slot_mask &= ~(1ull << c->slot);
	c->slot = -1;
}

void _pcpu_alloc_chunk_move(struct pcpu_chunk *c, int slot, bool front)
{
	ASSERT_LOCKED();
	if (c == pa->reserved_chunk)
		return;
	_pcpu_alloc_chunk_unlink(c);
	if (front)
		list_add_front(&c->list, &pa->slots[slot]);
	else
		list_add_tail(&c->list, &pa->slots[slot]);
	pa->slot_mask |= 1ull << slot;
	c->slot = slot;
}

/* Moves @c to the slot its largest free area calls for; @oslot is where it was. */
void _pcpu_alloc_chunk_relocate(struct pcpu_chunk *c, int oslot)
{
	int nslot = chunk_slot(c);

	if (c->isolated || c == pa->reserved_chunk)
		return;
	if (oslot != nslot)
		_pcpu_alloc_chunk_move(c, nslot, oslot < nslot);
}

/* Keeps the global count of empty populated pages in step with a chunk's.  Isolated
 * chunks and the reserved chunk do not count: atomic allocations cannot use them. */
void _pcpu_alloc_account_empty(struct pcpu_chunk *c, int before)
{
	int delta = c->map.nr_empty_pop_pages - before;

	ASSERT_LOCKED();
	if (delta && !c->isolated && c != pa->reserved_chunk) {
		pa->nr_empty_pop_pages += delta;
		pa->reserve_active = true;
	}
}

void _pcpu_alloc_chunk_isolate(struct pcpu_chunk *c)
{
	ASSERT_LOCKED();
	if (!c->isolated) {
		c->isolated = true;
		pa->nr_empty_pop_pages -= c->map.nr_empty_pop_pages;
	}
	_pcpu_alloc_chunk_move(c, pa->to_depopulate_slot, true);
}

void _pcpu_alloc_chunk_reintegrate(struct pcpu_chunk *c)
{
	if (c->isolated) {
		c->isolated = false;
		pa->nr_empty_pop_pages += c->map.nr_empty_pop_pages;
		_pcpu_alloc_chunk_relocate(c, -1);
	}
}

/* Should @c give its empty pages back?  Not the first or reserved chunk; an isolated
 * chunk that gained an empty page; or one that is a quarter empty while the pool of
 * empty pages elsewhere is above @high without it: the kernel's
 * PCPU_EMPTY_POP_PAGES_HIGH when the reserve is trimmed, pa->reserve_pages otherwise. */
bool _pcpu_alloc_should_reclaim(const struct pcpu_chunk *c, int high)
{
	int pool_without = pa->nr_empty_pop_pages - (c->isolated ? 0 : c->map.nr_empty_pop_pages);

	if (c->immutable || !c->map.nr_empty_pop_pages)
		return false;
	/* Beyond the kernel: an entirely free chunk (the one balance keeps) gives back its
	 * pages too when the pool is full without them, or would be more than full with
	 * them (with big pages a unit has few: 16 of 64 KiB in a 1 MiB unit); the balance
	 * work then tops the pool up to PCPU_EMPTY_POP_PAGES_HIGH again.  The kernel
	 * leaves them. */
	if (c->map.free_bytes == (int)_pcpu_geo->unit_size)
		return c->isolated || pool_without + c->map.nr_empty_pop_pages > high;
	return c->isolated || (pool_without > high &&
			       c->map.nr_empty_pop_pages >= c->map.nr_pages / 4);
}

/* Whether a pool bound of @high is a reserve beyond the kernel's, which keeps whole free
 * chunks with their pages too.  With the kernel's pool alone, every surplus free chunk
 * goes, as in the kernel. */
bool _pcpu_alloc_reserve_keeps_chunks(int high)
{
	return high > PCPU_EMPTY_POP_PAGES_HIGH;
}

/* After an area of @c was freed (lock held): does the balance work have work to do? */
bool _pcpu_alloc_after_free(struct pcpu_chunk *c)
{
	ASSERT_LOCKED();
	if (_pcpu_alloc_should_reclaim(c, pa->reserve_pages)) {
		/* The kernel's balance work runs later from a workqueue and so reclaims many
		 * pages at a time; without a thread, batch instead: an already isolated
		 * chunk waits until it has PCPU_RECLAIM_BATCH empty pages, or is empty. */
		bool now = !c->isolated || c->map.nr_empty_pop_pages >= PCPU_RECLAIM_BATCH ||
			   c->map.free_bytes == (int)_pcpu_geo->unit_size;
		_pcpu_alloc_chunk_isolate(c);
		return now;
	}
	if (!c->isolated && c->map.free_bytes == (int)_pcpu_geo->unit_size) {
		/* more than one entirely free chunk: free the surplus (beyond what the
		 * reserve keeps, see balance_free) */
		struct pcpu_list *head = &pa->slots[pa->free_slot];
		return (head->next != &c->list || head->next->next != head) &&
		       (!_pcpu_alloc_reserve_keeps_chunks(pa->reserve_pages) ||
			pa->nr_empty_pop_pages > pa->reserve_pages);
	}
	return false;
}

void _pcpu_alloc_debug_verify(const struct pcpu_chunk *c, const char *when)
{
	char err[256];

	if (pa->debug && _pcpu_chunk_map_verify(&c->map, err, sizeof(err)) != 0)
		_pcpu_fatal("LIBPERCPU_DEBUG", "chunk %d inconsistent after %s: %s", c->index, when,
			   err);
}

/* The dirty map (lock held).  Bytes that no allocation has held since their page was
 * populated read as zero, so an allocation needs zeroing only where an earlier area was
 * freed since: a free sets the bits of its pages; populating a page clears its bit (the
 * kernel gives zeroed pages), and so does depopulating it (its bytes go). */
void _pcpu_alloc_dirty_set(struct pcpu_chunk *c, int ps, int pe, bool dirty)
{
	const int bpl = (int)(sizeof(long) * 8);

	ASSERT_LOCKED();
	for (int p = ps; p < pe; p++) {
		if (dirty)
			c->dirty[p / bpl] |= 1ul << (p % bpl);
		else
			c->dirty[p / bpl] &= ~(1ul << (p % bpl));
	}
}

static bool dirty_any(const struct pcpu_chunk *c, int ps, int pe)
{
	const int bpl = (int)(sizeof(long) * 8);

	for (int p = ps; p < pe; p++)
		if ((c->dirty[p / bpl] >> (p % bpl)) & 1)
			return true;
	return false;
}

/* ---------------------------------------------------------------------------------
 * Chunk creation, population, destruction (alloc_mutex held, lock not held); the
 * memory work itself is chunk_vm.c's
 * --------------------------------------------------------------------------------- */

int _pcpu_alloc_chunk_populate(struct pcpu_chunk *c, int rs, int re)
{
	ASSERT_ALLOC_MUTEX();
	if (_pcpu_chunk_vm_populate(c, rs, re) != 0)
		return -1;
	__atomic_fetch_add(&pa->nr_populate_calls, 1, __ATOMIC_RELAXED);
	return 0;
}

void _pcpu_alloc_chunk_depopulate(struct pcpu_chunk *c, int rs, int re)
{
	ASSERT_ALLOC_MUTEX();
	if (_pcpu_chunk_vm_depopulate(c, rs, re) != 0)
		/* the pages may keep their bytes (mlock()ed memory refuses MADV_DONTNEED)
		 * and show them once populated again: zero every allocation from now on */
		__atomic_store_n(&pa->always_zero, true, __ATOMIC_RELAXED);
	__atomic_fetch_add(&pa->nr_depopulate_calls, 1, __ATOMIC_RELAXED);
}

/* Grows the arena by one chunk, slot pa->max_chunks (alloc_mutex held): reserves the
 * range right above it, then publishes the new size.  0, or -1 with ENOMEM and nothing
 * changed. */
static int arena_grow(void)
{
	int index = pa->max_chunks, cap = pa->chunks_cap;
	struct pcpu_chunk **grown = NULL, **old = NULL;
	size_t bytes = (size_t)(index + 1) * _pcpu_geo->chunk_bytes;

	ASSERT_ALLOC_MUTEX();
	if (index >= _pcpu_geo->arena_limit_chunks) {
		errno = ENOMEM;
		return -1;
	}
	if (index >= cap) { /* the slot table doubles, allocated outside the lock */
		cap *= 2;
		grown = calloc((size_t)cap, sizeof(*grown));
		if (!grown) {
			errno = ENOMEM;
			return -1;
		}
	}
	if (_pcpu_vm->reserve_at(_pcpu_geo->arena + pa->arena_bytes, _pcpu_geo->chunk_bytes)) {
		free(grown);
		errno = ENOMEM; /* the range above is taken, or no address space is left */
		return -1;
	}
	lock();
	if (grown) {
		memcpy(grown, pa->chunks, (size_t)pa->max_chunks * sizeof(*grown));
		old = pa->chunks;
		pa->chunks = grown;
		pa->chunks_cap = cap;
	}
	pa->max_chunks = index + 1;
	__atomic_store_n(&pa->arena_bytes, bytes, __ATOMIC_RELEASE);
	__atomic_store_n(&__pcpu_fast.arena_size, bytes, __ATOMIC_RELEASE);
	unlock();
	free(old);
	return 0;
}

/* Makes a chunk, in the lowest free slot of the arena, growing it if none is free.
 * With @listed it goes on its slot list at once; without, the caller gets it off every
 * list (under pa->lock) to allocate from first. */
struct pcpu_chunk *_pcpu_alloc_chunk_create(bool listed)
{
	struct pcpu_chunk *c;
	int index = -1;

	ASSERT_ALLOC_MUTEX();
	lock();
	for (int i = 1; i < pa->max_chunks; i++) {
		if (!pa->chunks[i]) {
			index = i;
			break;
		}
	}
	unlock();
	if (index < 0) {
		/* only this thread (alloc_mutex) changes max_chunks */
		index = pa->max_chunks;
		if (arena_grow() != 0)
			return NULL;
	}
	c = _pcpu_chunk_vm_create(index);
	if (!c)
		return NULL;
	_pcpu_san_poison_area(c->base, 0, _pcpu_geo->unit_size);

	lock();
	pa->chunks[index] = c;
	if (index >= pa->chunk_hwm)
		pa->chunk_hwm = index + 1;
	pa->nr_chunks++;
	pa->stats.nr_chunks = (unsigned int)pa->nr_chunks;
	if (pa->stats.nr_chunks > pa->stats.nr_max_chunks)
		pa->stats.nr_max_chunks = pa->stats.nr_chunks;
	if (listed) {
		_pcpu_alloc_chunk_relocate(c, -1);
	} else {
		c->isolated = true; /* off the lists until the caller has its area */
	}
	unlock();
	return c;
}

/* @c is already off every list and out of the count of empty pages. */
void _pcpu_alloc_chunk_destroy(struct pcpu_chunk *c)
{
	ASSERT_ALLOC_MUTEX();
	lock();
	pa->chunks[c->index] = NULL;
	pa->nr_chunks--;
	pa->stats.nr_chunks = (unsigned int)pa->nr_chunks;
	unlock();
	/* Back to PROT_NONE: every page of every unit is freed in one call. */
	if (_pcpu_vm->decommit(c->base, _pcpu_geo->chunk_bytes) != 0)
		for (int rs = 0, re; _pcpu_chunk_next_pop(&c->map, &rs, &re, c->map.nr_pages); rs = re)
			_pcpu_alloc_chunk_depopulate(c, rs, re);
	_pcpu_chunk_vm_free(c);
}


/* ---------------------------------------------------------------------------------
 * Allocation and free
 * --------------------------------------------------------------------------------- */

/* Tries the chunks of the slots from the one @bytes needs upwards (lock held). */
static struct pcpu_chunk *alloc_from_slots(int bits, size_t align, bool atomic, int *offp)
{
	int first = _pcpu_alloc_size_to_slot((size_t)bits * PCPU_MIN_ALLOC_SIZE);
	/* non-empty slots from the first that can fit up to the free slot */
	uint64_t mask = pa->slot_mask & (~0ull << first) & (~0ull >> (63 - pa->free_slot));

	ASSERT_LOCKED();
	for (; mask; mask &= mask - 1) {
		int slot = __builtin_ctzll(mask);
		struct pcpu_list *head = &pa->slots[slot], *pos, *next;

		for (pos = head->next; pos != head; pos = next) {
			struct pcpu_chunk *c = chunk_of(pos);
			int off, oslot, before;

			next = pos->next;
			off = _pcpu_chunk_find_fit(&c->map, bits, align, atomic);
			if (off < 0) {
				if (slot < PCPU_SLOT_FAIL_HINT)
					_pcpu_alloc_chunk_move(c, 0, false);
				continue;
			}
			oslot = chunk_slot(c);
			before = c->map.nr_empty_pop_pages;
			off = _pcpu_chunk_alloc_area(&c->map, bits, align, off);
			if (off < 0)
				continue;
			_pcpu_alloc_account_empty(c, before);
			_pcpu_alloc_chunk_relocate(c, oslot);
			*offp = off;
			return c;
		}
	}
	return NULL;
}

static struct pcpu_chunk *alloc_reserved(int bits, size_t align, int *offp)
{
	struct pcpu_chunk *c = pa->reserved_chunk;
	int off;

	ASSERT_LOCKED();
	if (!c)
		return NULL;
	off = _pcpu_chunk_find_fit(&c->map, bits, align, false);
	if (off >= 0)
		off = _pcpu_chunk_alloc_area(&c->map, bits, align, off);
	if (off < 0)
		return NULL;
	*offp = off;
	return c;
}

static void page_range(int off, size_t bytes, int *page_start, int *page_end)
{
	/* shifts: a division by the page size, unknown at compile time, was half of
	 * area_dirty()'s time on a cold allocation */
	*page_start = off >> pa->page_shift;
	*page_end = (int)((off + bytes + ((size_t)1 << pa->page_shift) - 1) >> pa->page_shift);
}

/* Whether some page of [off, off + bytes) of @c held an area freed since it was
 * populated (lock held): the area's bytes there may not be zero. */
static bool area_dirty(const struct pcpu_chunk *c, int off, size_t bytes)
{
	int ps, pe;

	ASSERT_LOCKED();
	page_range(off, bytes, &ps, &pe);
	return dirty_any(c, ps, pe);
}

/* Whether every page of [off, off + bytes) is populated (lock held). */
static bool area_populated(const struct pcpu_chunk *c, int off, size_t bytes)
{
	int ps, pe, rs;

	page_range(off, bytes, &ps, &pe);
	rs = ps;
	int re;
	return !_pcpu_chunk_next_unpop(&c->map, &rs, &re, pe);
}

/* Populates the pages of [off, off + bytes) of @c that are not.  Takes alloc_mutex:
 * every change of a populated bit happens under it, so the map can be read without
 * pa->lock here, and no page of the area can be depopulated meanwhile (the area's
 * allocation keeps its pages from being empty). */
static int populate_area(struct pcpu_chunk *c, int off, size_t bytes)
{
	int ps, pe, ret = 0;

	page_range(off, bytes, &ps, &pe);
	lock_alloc_mutex();
	for (int rs = ps, re; _pcpu_chunk_next_unpop(&c->map, &rs, &re, pe); rs = re) {
		int before;

		if (_pcpu_alloc_chunk_populate(c, rs, re) != 0) {
			ret = -1;
			break;
		}
		lock();
		before = c->map.nr_empty_pop_pages;
		_pcpu_chunk_mark_populated(&c->map, rs, re);
		_pcpu_alloc_dirty_set(c, rs, re, false);
		_pcpu_alloc_account_empty(c, before);
		unlock();
	}
	unlock_alloc_mutex();
	return ret;
}

/* Counts an allocation.  One from the cache needs only this: an area of its size was
 * allocated in its chunk before, so the size statistics count it already. */
static inline void count_alloc_cached(void)
{
	ASSERT_LOCKED();
	pa->stats.nr_alloc++;
	pa->stats.nr_cur_alloc++;
	if (pa->stats.nr_cur_alloc > pa->stats.nr_max_alloc)
		pa->stats.nr_max_alloc = pa->stats.nr_cur_alloc;
}

static void count_alloc(struct pcpu_chunk *c, int off, size_t size)
{
	_pcpu_san_alloc(c->base + off, size);
	if (size > c->max_alloc_size)
		c->max_alloc_size = size;
	count_alloc_cached();
	if (!pa->stats.min_alloc_size || size < pa->stats.min_alloc_size)
		pa->stats.min_alloc_size = size;
	if (size > pa->stats.max_alloc_size)
		pa->stats.max_alloc_size = size;
}

/* Sidelined chunks are kept off the slot lists so that their depopulated, fragmented
 * space is not refilled page by page; before making a new chunk, though, put them back
 * (lock held). */
static bool reintegrate_sidelined(void)
{
	struct pcpu_list *head = &pa->slots[pa->sidelined_slot];
	bool any = !list_empty(head);

	ASSERT_LOCKED();
	while (!list_empty(head))
		_pcpu_alloc_chunk_reintegrate(chunk_of(head->next));
	return any;
}

/* No chunk had room: reuse sidelined chunks, else make a chunk and take the area from
 * it before any other thread can see it.  alloc_mutex serializes creators.  Sets
 * *populated: whether the area's pages are all populated already; *dirty: whether it
 * needs zeroing. */
static struct pcpu_chunk *alloc_new_chunk(int bits, size_t align, size_t size, int *offp,
					  bool *populated, bool *dirty)
{
	struct pcpu_chunk *c;

	lock_alloc_mutex();
	lock();
	c = alloc_from_slots(bits, align, false, offp);
	if (!c && reintegrate_sidelined())
		c = alloc_from_slots(bits, align, false, offp);
	unlock();
	if (!c) {
		c = _pcpu_alloc_chunk_create(false);
		lock();
		if (c) {
			int off = _pcpu_chunk_find_fit(&c->map, bits, align, false);

			if (off >= 0)
				off = _pcpu_chunk_alloc_area(&c->map, bits, align, off);
			c->isolated = false;
			_pcpu_alloc_chunk_relocate(c, -1);
			if (off < 0) /* a new chunk fits any valid request: cannot happen */
				c = NULL;
			*offp = off;
		}
	} else {
		lock();
	}
	if (c) {
		count_alloc(c, *offp, size);
		*populated = area_populated(c, *offp, size);
		*dirty = area_dirty(c, *offp, size);
		_pcpu_alloc_debug_verify(c, "alloc");
	} else {
		pa->stats.nr_alloc_failed++;
	}
	unlock();
	unlock_alloc_mutex();
	return c;
}

int _pcpu_alloc_check(size_t size, size_t align, unsigned int gfp)
{
	if (size == 0 || size > PCPU_MAX_ALLOC_SIZE || align > PCPU_MAX_PAGE_SIZE ||
	    (align & (align - 1)) || (gfp & ~PCPU_GFP_ATOMIC)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* Whether a request is one the cache may serve: valid (_pcpu_alloc_check()) and aligned
 * within any page size, of at most PCPU_CACHE_MAX_BITS bits.  One test instead of
 * _pcpu_alloc_check()'s five on a churn of small objects. */
static inline bool cacheable_request(size_t size, size_t align, unsigned int gfp)
{
	return size - 1 < (size_t)PCPU_CACHE_MAX_BITS * PCPU_MIN_ALLOC_SIZE &&
	       !(align & (align - 1)) && align <= PCPU_MIN_PAGE_SIZE && !(gfp & ~PCPU_GFP_ATOMIC);
}

/* Zeroes a new object's copy in every unit: small ones here, a few stores per copy,
 * instead of a call that asks for the index mode first; the rest, and cid mode (which
 * leaves untouched pages alone), through _pcpu_chunk_vm_zero. */
static inline void zero_copies(char *ptr, size_t size)
{
	if (__builtin_expect(size > PCPU_ZERO_SMALL_MAX || pa->cid, 0)) {
		_pcpu_chunk_vm_zero(ptr, size);
		return;
	}
	for (int u = 0; u < pa->nr_used; u++)
		_pcpu_chunk_zero_small(ptr + pa->used_unit_base[u], size);
}

/* Allocation takes pa->lock once on the common path; population, chunk creation and
 * the balance work take alloc_mutex on their own.  Atomic allocations only take areas
 * whose pages are all populated (_pcpu_chunk_find_fit's pop_only).  A small request
 * tries the cache first, with no other check: cacheable_request() implies them. */
void *_pcpu_alloc_internal(size_t size, size_t align, bool reserved, unsigned int gfp)
{
	bool atomic = gfp & PCPU_GFP_ATOMIC, populated = true, dirty = false, need_balance;
	struct pcpu_chunk *c;
	int bits, off = -1;
	char *ptr;

	if (__builtin_expect(!reserved && cacheable_request(size, align, gfp), 1)) {
		if (align < PCPU_MIN_ALLOC_SIZE)
			align = PCPU_MIN_ALLOC_SIZE;
		size = (size + PCPU_MIN_ALLOC_SIZE - 1) & ~(size_t)(PCPU_MIN_ALLOC_SIZE - 1);
		bits = (int)(size / PCPU_MIN_ALLOC_SIZE);
		lock();
		if (cache_get(bits, align, &c, &off)) {
			count_alloc_cached();
			need_balance = reserve_idle() && !atomic;
			unlock();
			if (need_balance)
				_pcpu_alloc_balance_run(false);
			ptr = c->base + off; /* its copies hold what its last user left there */
			zero_copies(ptr, size);
			return ptr;
		}
	} else {
		if (_pcpu_alloc_check(size, align, gfp))
			return NULL;
		if (align < PCPU_MIN_ALLOC_SIZE)
			align = PCPU_MIN_ALLOC_SIZE;
		if (align > _pcpu_geo->page_size) { /* the page size is known once initialized */
			errno = EINVAL;
			return NULL;
		}
		size = (size + PCPU_MIN_ALLOC_SIZE - 1) & ~(size_t)(PCPU_MIN_ALLOC_SIZE - 1);
		bits = (int)(size / PCPU_MIN_ALLOC_SIZE);
		lock();
	}
	c = reserved ? alloc_reserved(bits, align, &off) :
		       alloc_from_slots(bits, align, atomic, &off);
	if (c) {
		count_alloc(c, off, size);
		populated = atomic || area_populated(c, off, size);
		dirty = area_dirty(c, off, size);
		_pcpu_alloc_debug_verify(c, "alloc");
	} else if (atomic) {
		pa->stats.nr_alloc_failed++;
		pa->balance_pending = true; /* the next blocking call tops the pool up */
	}
	need_balance = reserve_idle();
	need_balance = !atomic && (pa->nr_empty_pop_pages < PCPU_EMPTY_POP_PAGES_LOW ||
				   pa->balance_pending || need_balance);
	unlock();

	if (!c && !atomic && !reserved)
		c = alloc_new_chunk(bits, align, size, &off, &populated, &dirty);
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	if (!populated && populate_area(c, off, size) != 0) {
		int before, oslot;

		lock();
		oslot = chunk_slot(c);
		before = c->map.nr_empty_pop_pages;
		_pcpu_chunk_free_area(&c->map, off);
		_pcpu_san_free(c->base + off, size);
		_pcpu_alloc_account_empty(c, before);
		_pcpu_alloc_chunk_relocate(c, oslot);
		need_balance = c != pa->reserved_chunk && _pcpu_alloc_after_free(c);
		pa->stats.nr_alloc--;
		pa->stats.nr_cur_alloc--;
		pa->stats.nr_alloc_failed++;
		unlock();
		if (need_balance)
			_pcpu_alloc_balance_run(false);
		errno = ENOMEM;
		return NULL;
	}
	if (need_balance)
		_pcpu_alloc_balance_run(false);

	ptr = c->base + off;
	if (dirty || __atomic_load_n(&pa->always_zero, __ATOMIC_RELAXED))
		zero_copies(ptr, size);
	return ptr;
}

/* Frees the area at byte @off of @c in its maps: the bytes freed, or -1 if no live area
 * starts there (lock held). */
int _pcpu_alloc_chunk_free_locked(struct pcpu_chunk *c, int off)
{
	int oslot = chunk_slot(c), before = c->map.nr_empty_pop_pages, freed, ps, pe;

	ASSERT_LOCKED();
	freed = _pcpu_chunk_free_area(&c->map, off);
	if (freed < 0)
		return -1;
	_pcpu_san_free(c->base + off, (size_t)freed);
	page_range(off, (size_t)freed, &ps, &pe);
	_pcpu_alloc_dirty_set(c, ps, pe, true);
	_pcpu_alloc_account_empty(c, before);
	_pcpu_alloc_chunk_relocate(c, oslot);
	_pcpu_alloc_debug_verify(c, "free");
	return freed;
}

/* The rest of a free (lock held, released here): @c and @off are chunk_lookup()'s
 * answer, @cached cache_put()'s (-1 when it was not asked), @section whether a dlopen'd
 * object's section is freed (sections.c).  Out of line, so that the common path, an
 * area cached, keeps to a few registers and calls nothing. */
static __attribute__((noinline)) void free_slow(void *ptr, const char *caller,
						struct pcpu_chunk *c, int off, int cached,
						bool section)
{
	bool need_balance;

	if (!c) {
		unlock();
		_pcpu_fatal(caller, "%p is not a per-CPU pointer returned by pcpu_alloc()", ptr);
	}
	/* The reserved region holds dlopen'd objects' static variables only: the first
	 * CPU's copy of one is its per-CPU address, which a free would otherwise take
	 * (the object's variables would then be handed out again, and its dlclose() would
	 * report a double free it did not make). */
	if (c == pa->reserved_chunk && !section) {
		unlock();
		_pcpu_fatal(caller, "%p is a static per-CPU variable of an object loaded with "
			    "dlopen() (in the reserved region), not from pcpu_alloc()", ptr);
	}
	if (cached < 0 || (!cached && _pcpu_alloc_chunk_free_locked(c, off) < 0)) {
		unlock();
		_pcpu_fatal(caller, "%p: double free, or not the start of a live per-CPU allocation",
			   ptr);
	}
	pa->stats.nr_dealloc++;
	pa->stats.nr_cur_alloc--;

	need_balance = reserve_idle();
	need_balance = (!cached && _pcpu_alloc_after_free(c)) || need_balance;
	unlock();

	if (need_balance)
		_pcpu_alloc_balance_run(false);
}

void _pcpu_free_internal(void *ptr, const char *caller, bool section)
{
	struct pcpu_chunk *c;
	int off = 0, cached = -1;

	if (!ptr)
		return;
	lock();
	c = chunk_lookup((uintptr_t)ptr, &off);
	/* the common path: cached, and no idle check due (it may run the balance work) */
	if (__builtin_expect(c != NULL, 1)) {
		cached = cache_put(c, off);
		if (__builtin_expect(cached > 0 && pa->calls_to_check > 1, 1)) {
			pa->calls_to_check--;
			pa->stats.nr_dealloc++;
			pa->stats.nr_cur_alloc--;
			unlock();
			return;
		}
	}
	free_slow(ptr, caller, c, off, cached, section);
}

/* Whether @p lies in the arena, without the lock: the arena may grow meanwhile. */
bool _pcpu_alloc_in_arena(const void *p)
{
	return (uintptr_t)p - (uintptr_t)_pcpu_geo->arena <
	       __atomic_load_n(&pa->arena_bytes, __ATOMIC_ACQUIRE);
}

/* ---------------------------------------------------------------------------------
 * Set-up
 * --------------------------------------------------------------------------------- */

/* The kernel's pcpu_setup_first_chunk: the first chunk's memory (init.c reserved its
 * address range) is made usable and populated in every used unit (chunk_vm.c), then the
 * allocator's structures are set up over it.  Called once, by init.c, before the
 * library is published (which orders all of this before any other thread's use).
 * 0, or -1 with errno. */
int _pcpu_alloc_setup(bool debug)
{
	const struct pcpu_geometry *g = _pcpu_geo;
	int ret = -1;

	_pcpu_san_setup();
	if (_pcpu_chunk_vm_first_commit(&pa->use_huge_first_chunk) != 0)
		return -1;
	pa->debug = debug; /* first: lock() notes the holder under LIBPERCPU_DEBUG only */
	lock_alloc_mutex();
	lock();
	pa->arena = g->arena;
	pa->unit_size = g->unit_size;
	pa->chunk_shift = g->chunk_shift;
	pa->page_shift = __builtin_ctzl(g->page_size); /* a power of two (init.c) */
	pa->link_offset = g->used_unit_base[0];
	pa->used_unit_base = g->used_unit_base;
	pa->nr_used = g->nr_used;
	pa->cid = _pcpu_index_cid();
	pa->chunks_cap = 16;
	pa->chunks = calloc((size_t)pa->chunks_cap, sizeof(*pa->chunks));
	if (!pa->chunks)
		goto out;
	pa->max_chunks = 1;
	if (g->reserved_size) {
		pa->reserved_chunk = _pcpu_chunk_vm_first_part(g->static_size, g->reserved_size);
		if (!pa->reserved_chunk)
			goto out;
	}
	pa->first_chunk = _pcpu_chunk_vm_first_part(g->static_size + g->reserved_size,
						    g->dyn_size);
	if (!pa->first_chunk)
		goto out;
	pa->chunks[0] = pa->first_chunk;
	pa->chunk_hwm = 1;
	pa->nr_chunks = 1;
	pa->stats.nr_chunks = pa->stats.nr_max_chunks = 1;

	pa->free_slot = size_to_slot_raw(g->unit_size) + 1;
	pa->to_depopulate_slot = pa->free_slot + 1;
	pa->sidelined_slot = pa->to_depopulate_slot + 1;
	pa->nr_slots = pa->sidelined_slot + 1;
	if (pa->nr_slots > 64) { /* unit sizes up to 2^65 bytes: cannot happen */
		errno = EINVAL;
		goto out;
	}
	pa->slots = calloc((size_t)pa->nr_slots, sizeof(*pa->slots));
	if (!pa->slots)
		goto out;
	for (int i = 0; i < pa->nr_slots; i++)
		list_init(&pa->slots[i]);
	pa->nr_empty_pop_pages = pa->first_chunk->map.nr_empty_pop_pages;
	_pcpu_san_poison_area(g->arena, g->static_size, g->reserved_size + g->dyn_size);
	_pcpu_alloc_chunk_relocate(pa->first_chunk, -1);
	size_t reserve = PCPU_RESERVE_BYTES / (g->page_size * (size_t)g->nr_used);
	pa->reserve_pages = reserve > PCPU_EMPTY_POP_PAGES_HIGH ? (int)reserve :
			    PCPU_EMPTY_POP_PAGES_HIGH;
	pa->calls_to_check = PCPU_RESERVE_CHECK_CALLS;
	pa->reserve_stamp_ms = _pcpu_vm->now_ms();
	pa->cache_max_bytes = PCPU_CACHE_BYTES / (size_t)g->nr_used;

	pa->stats.unit_size = g->unit_size;
	pa->stats.static_size = g->static_size;
	pa->stats.reserved_size = g->reserved_size;
	pa->stats.dyn_size = g->dyn_size;
	pa->stats.atom_size = g->ai->atom_size;
	pa->stats.page_size = g->page_size;
	pa->stats.nr_units = (unsigned int)g->ai->nr_units;
	pa->stats.nr_groups = (unsigned int)g->ai->nr_groups;
	pa->stats.max_chunks = (unsigned int)g->arena_limit_chunks;
	/* last: chunk_lookup() and _pcpu_alloc_in_arena() see the arena from here on */
	__atomic_store_n(&pa->arena_bytes, g->chunk_bytes, __ATOMIC_RELEASE);
	ret = 0;
out:
	unlock();
	unlock_alloc_mutex();
	return ret;
}
