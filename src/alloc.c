/* SPDX-License-Identifier: MIT */
/* alloc.c - the per-CPU allocator: chunks, slots, alloc and free, population and the
 * balance work.  The design follows the kernel's mm/percpu.c.  It owns its state
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

#include "alloc_state.h"
#include "anchor.h"
#include "vm.h"

struct pcpu_alloc_state _pcpu_alloc = {
	.alloc_mutex = PCPU_MUTEX_INITIALIZER,
	.lock = PCPU_MUTEX_INITIALIZER,
};

static struct pcpu_alloc_state *const pa = &_pcpu_alloc;

/* ---------------------------------------------------------------------------------
 * Locks (order: alloc_mutex, then lock; see alloc_state.h)
 * --------------------------------------------------------------------------------- */

/* pcpu_lock with the sequence count around it that percpu-info --pid reads (anchor.h) */
static void lock(void)
{
	_pcpu_state_lock();
}

static void unlock(void)
{
	_pcpu_state_unlock();
}

static void lock_alloc_mutex(void)
{
	_pcpu_mutex_lock(&pa->alloc_mutex);
}

static void unlock_alloc_mutex(void)
{
	_pcpu_mutex_unlock(&pa->alloc_mutex);
}

static void assert_held(const struct pcpu_mutex *l, const char *name, const char *fn)
{
	if (pa->debug && !_pcpu_mutex_held(l))
		_pcpu_fatal("LIBPERCPU_DEBUG", "%s() runs without %s held", fn, name);
}

/* CONTEXT: pcpu_lock, or alloc_mutex: the caller holds it (checked with LIBPERCPU_DEBUG). */
#define ASSERT_LOCKED() assert_held(&pa->lock, "pcpu_lock", __func__)
#define ASSERT_ALLOC_MUTEX() assert_held(&pa->alloc_mutex, "alloc_mutex", __func__)

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

static struct pcpu_chunk *chunk_of(struct pcpu_list *l)
{
	return (struct pcpu_chunk *)l; /* list is the first member */
}

static int fls_size(size_t v)
{
	return v ? (int)(sizeof(long) * 8) - __builtin_clzl(v) : 0;
}

static int size_to_slot_raw(size_t bytes)
{
	int s = fls_size(bytes) - PCPU_SLOT_BASE_SHIFT + 2;
	return s > 1 ? s : 1;
}

static int size_to_slot(size_t bytes)
{
	return bytes == _pcpu_geo->unit_size ? pa->free_slot : size_to_slot_raw(bytes);
}

static int chunk_slot(const struct pcpu_chunk *c)
{
	const struct pcpu_block_md *md = &c->map.chunk_md;

	if (c->map.free_bytes < PCPU_MIN_ALLOC_SIZE || md->contig_hint == 0)
		return 0;
	return size_to_slot((size_t)md->contig_hint * PCPU_MIN_ALLOC_SIZE);
}

/* Takes @c off its slot list, keeping the mask of non-empty slots right. */
static void chunk_unlink(struct pcpu_chunk *c)
{
	list_del_init(&c->list);
	if (c->slot >= 0 && list_empty(&pa->slots[c->slot]))
		pa->slot_mask &= ~(1ull << c->slot);
	c->slot = -1;
}

static void chunk_move(struct pcpu_chunk *c, int slot, bool front)
{
	ASSERT_LOCKED();
	if (c == pa->reserved_chunk)
		return;
	chunk_unlink(c);
	if (front)
		list_add_front(&c->list, &pa->slots[slot]);
	else
		list_add_tail(&c->list, &pa->slots[slot]);
	pa->slot_mask |= 1ull << slot;
	c->slot = slot;
}

/* Moves @c to the slot its largest free area calls for; @oslot is where it was. */
static void chunk_relocate(struct pcpu_chunk *c, int oslot)
{
	int nslot = chunk_slot(c);

	if (c->isolated || c == pa->reserved_chunk)
		return;
	if (oslot != nslot)
		chunk_move(c, nslot, oslot < nslot);
}

/* Keeps the global count of empty populated pages in step with a chunk's.  Isolated
 * chunks and the reserved chunk do not count: atomic allocations cannot use them. */
static void account_empty(struct pcpu_chunk *c, int before)
{
	int delta = c->map.nr_empty_pop_pages - before;

	ASSERT_LOCKED();
	if (delta && !c->isolated && c != pa->reserved_chunk) {
		pa->nr_empty_pop_pages += delta;
		pa->reserve_active = true;
	}
}

static void chunk_isolate(struct pcpu_chunk *c)
{
	ASSERT_LOCKED();
	if (!c->isolated) {
		c->isolated = true;
		pa->nr_empty_pop_pages -= c->map.nr_empty_pop_pages;
	}
	chunk_move(c, pa->to_depopulate_slot, true);
}

static void chunk_reintegrate(struct pcpu_chunk *c)
{
	if (c->isolated) {
		c->isolated = false;
		pa->nr_empty_pop_pages += c->map.nr_empty_pop_pages;
		chunk_relocate(c, -1);
	}
}

/* Should @c give its empty pages back?  Not the first or reserved chunk; an isolated
 * chunk that gained an empty page; or one that is a quarter empty while the pool of
 * empty pages elsewhere is above @high without it: the kernel's
 * PCPU_EMPTY_POP_PAGES_HIGH when the reserve is trimmed, pa->reserve_pages otherwise. */
static bool should_reclaim(const struct pcpu_chunk *c, int high)
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
static bool reserve_keeps_chunks(int high)
{
	return high > PCPU_EMPTY_POP_PAGES_HIGH;
}

/* After an area of @c was freed (lock held): does the balance work have work to do? */
static bool after_free(struct pcpu_chunk *c)
{
	ASSERT_LOCKED();
	if (should_reclaim(c, pa->reserve_pages)) {
		/* The kernel's balance work runs later from a workqueue and so reclaims many
		 * pages at a time; without a thread, batch instead: an already isolated
		 * chunk waits until it has PCPU_RECLAIM_BATCH empty pages, or is empty. */
		bool now = !c->isolated || c->map.nr_empty_pop_pages >= PCPU_RECLAIM_BATCH ||
			   c->map.free_bytes == (int)_pcpu_geo->unit_size;
		chunk_isolate(c);
		return now;
	}
	if (!c->isolated && c->map.free_bytes == (int)_pcpu_geo->unit_size) {
		/* more than one entirely free chunk: free the surplus (beyond what the
		 * reserve keeps, see balance_free) */
		struct pcpu_list *head = &pa->slots[pa->free_slot];
		return (head->next != &c->list || head->next->next != head) &&
		       (!reserve_keeps_chunks(pa->reserve_pages) ||
			pa->nr_empty_pop_pages > pa->reserve_pages);
	}
	return false;
}

static void debug_verify(const struct pcpu_chunk *c, const char *when)
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
static void dirty_set(struct pcpu_chunk *c, int ps, int pe, bool dirty)
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

static int chunk_populate(struct pcpu_chunk *c, int rs, int re)
{
	ASSERT_ALLOC_MUTEX();
	if (_pcpu_chunk_vm_populate(c, rs, re) != 0)
		return -1;
	__atomic_fetch_add(&pa->nr_populate_calls, 1, __ATOMIC_RELAXED);
	return 0;
}

static void chunk_depopulate(struct pcpu_chunk *c, int rs, int re)
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
static struct pcpu_chunk *chunk_create(bool listed)
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
		chunk_relocate(c, -1);
	} else {
		c->isolated = true; /* off the lists until the caller has its area */
	}
	unlock();
	return c;
}

/* @c is already off every list and out of the count of empty pages. */
static void chunk_destroy(struct pcpu_chunk *c)
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
			chunk_depopulate(c, rs, re);
	_pcpu_chunk_vm_free(c);
}

/* ---------------------------------------------------------------------------------
 * Balance (alloc_mutex held, lock not held)
 * --------------------------------------------------------------------------------- */

static bool page_populated(const struct pcpu_chunk_map *m, int page)
{
	const int bpl = (int)(sizeof(long) * 8);
	return (m->populated[page / bpl] >> (page % bpl)) & 1;
}

/* Destroys every entirely free chunk but one (with @empty_only, only those with no
 * populated page); a reserve beyond the kernel's pool (@high) keeps those whose pages it
 * has room for. */
static void balance_free(bool empty_only, int high)
{
	struct pcpu_list doomed, *head = &pa->slots[pa->free_slot], *pos, *next;

	list_init(&doomed);
	lock();
	for (pos = head->next; pos != head; pos = next) {
		struct pcpu_chunk *c = chunk_of(pos);

		next = pos->next;
		if (pos == head->next || c->immutable)
			continue; /* spare the first one */
		if (!empty_only && c->map.nr_populated && reserve_keeps_chunks(high) &&
		    pa->nr_empty_pop_pages <= high)
			continue;
		if (!empty_only || c->map.nr_populated == 0) {
			pa->nr_empty_pop_pages -= c->map.nr_empty_pop_pages;
			chunk_unlink(c);
			list_add_tail(&c->list, &doomed);
		}
	}
	unlock();

	while (!list_empty(&doomed)) {
		struct pcpu_chunk *c = chunk_of(doomed.next);

		list_del_init(&c->list);
		chunk_destroy(c);
	}
}

/* Gives back the empty pages of isolated chunks, scanning from the end so that the
 * populated pages stay near the start; then returns each chunk to the slots, or
 * sidelines it until it empties further. */
static void reclaim_populated(int high)
{
	struct pcpu_list *head = &pa->slots[pa->to_depopulate_slot];

	lock();
	while (!list_empty(head)) {
		struct pcpu_chunk *c = chunk_of(head->next);
		bool reintegrate = false;
		int end = -1;

		for (int i = c->map.nr_pages - 1; i >= 0; i--) {
			if (c->map.nr_empty_pop_pages == 0)
				break;
			/* Keep enough for atomic allocations: put the chunk back instead.  The
			 * kernel compares only the other chunks' pool with the high mark, so a
			 * chunk reintegrated when the pool is short keeps every empty page it
			 * has; counting this chunk's pages too keeps the pool near the mark. */
			if (pa->nr_empty_pop_pages + c->map.nr_empty_pop_pages <= high) {
				reintegrate = true;
				break;
			}
			if (_pcpu_chunk_page_empty(&c->map, i) && page_populated(&c->map, i)) {
				if (end == -1)
					end = i;
				/* Beyond the kernel, which gives back whole runs: the run stops
				 * where the pool comes down to @high exactly. */
				if (i > 0 && end - i + 1 < pa->nr_empty_pop_pages +
								c->map.nr_empty_pop_pages - high)
					continue;
				i--; /* the run reaches page 0 or the bound: depopulate it now */
			}
			if (end == -1)
				continue;
			/* isolated: no allocation can land in [i + 1, end] meanwhile */
			unlock();
			chunk_depopulate(c, i + 1, end + 1);
			lock();
			_pcpu_chunk_mark_depopulated(&c->map, i + 1, end + 1);
			dirty_set(c, i + 1, end + 1, false);
			debug_verify(c, "depopulate");
			end = -1;
		}
		if (reintegrate || c->map.free_bytes == (int)_pcpu_geo->unit_size)
			chunk_reintegrate(c);
		else
			chunk_move(c, pa->sidelined_slot, false);
	}
	unlock();
}

/* Tops the pool of empty populated pages up to PCPU_EMPTY_POP_PAGES_HIGH. */
static void balance_populated(void)
{
	int nr_to_pop, tries = 0;

retry:
	lock();
	nr_to_pop = PCPU_EMPTY_POP_PAGES_HIGH - pa->nr_empty_pop_pages;
	for (int slot = size_to_slot(_pcpu_geo->page_size); slot <= pa->free_slot && nr_to_pop > 0;
	     slot++) {
		struct pcpu_list *head = &pa->slots[slot], *pos;
		struct pcpu_chunk *c = NULL;

		for (pos = head->next; pos != head; pos = pos->next) {
			if (chunk_of(pos)->map.nr_populated < chunk_of(pos)->map.nr_pages) {
				c = chunk_of(pos);
				break;
			}
		}
		if (!c)
			continue;
		/* the chunk cannot go away: destroying takes alloc_mutex, which we hold */
		for (int rs = 0, re; nr_to_pop > 0 && _pcpu_chunk_next_unpop(&c->map, &rs, &re,
									    c->map.nr_pages);
		     rs = re) {
			int nr = re - rs < nr_to_pop ? re - rs : nr_to_pop, ret, before;

			unlock();
			ret = chunk_populate(c, rs, rs + nr);
			lock();
			if (ret != 0) {
				nr_to_pop = 0;
				break;
			}
			before = c->map.nr_empty_pop_pages;
			_pcpu_chunk_mark_populated(&c->map, rs, rs + nr);
			dirty_set(c, rs, rs + nr, false);
			account_empty(c, before);
			nr_to_pop -= nr;
			re = rs + nr;
		}
	}
	unlock();
	/* every chunk is fully populated: make a new one, as the kernel does */
	if (nr_to_pop > 0 && tries++ == 0 && chunk_create(true))
		goto retry;
}

/* ---------------------------------------------------------------------------------
 * The cache of freed small areas (lock held)
 *
 * Beyond the kernel: a bitmap free and the next bitmap allocation cost several times a
 * list push and pop (librseq's mempool is a free list), so a freed area of up to
 * PCPU_CACHE_MAX_BITS bits waits on a list per size for the next allocation of that
 * size, linked through its first used unit's copy: it stays allocated in the maps, its
 * pages populated.  A bit per map bit marks it, so that freeing it again is caught as
 * a double free, and a link that leads to no cached area (the area was written after
 * pcpu_free()) is reported instead of followed.  At most
 * cache_max_bytes per unit; the balance work gives every cached area back to its chunk
 * when it trims the reserve.
 * --------------------------------------------------------------------------------- */

static struct pcpu_chunk *chunk_lookup(uintptr_t a, int *offp);
static int chunk_free_locked(struct pcpu_chunk *c, int off);

static bool bit_test(const unsigned long *map, int bit)
{
	const int bpl = (int)(sizeof(long) * 8);
	return (map[bit / bpl] >> (bit % bpl)) & 1;
}

static void bit_assign(unsigned long *map, int bit, bool v)
{
	const int bpl = (int)(sizeof(long) * 8);

	if (v)
		map[bit / bpl] |= 1ul << (bit % bpl);
	else
		map[bit / bpl] &= ~(1ul << (bit % bpl));
}

/* The first set bit of @map in [from, end), or -1. */
static int next_set_bit(const unsigned long *map, int from, int end)
{
	const int bpl = (int)(sizeof(long) * 8);

	while (from < end) {
		unsigned long w = map[from / bpl] >> (from % bpl);

		if (w) {
			int b = from + __builtin_ctzl(w);
			return b < end ? b : -1;
		}
		from = (from / bpl + 1) * bpl;
	}
	return -1;
}

static bool area_cached(const struct pcpu_chunk *c, int off)
{
	return bit_test(c->cached, off / PCPU_MIN_ALLOC_SIZE);
}

/* The size in bits of the live area at byte @off of @c if the cache takes it, else -1
 * (too small to hold a link, too large, in the reserved chunk, or no live area starts
 * there: the bitmap's free says which). */
static int cacheable_bits(const struct pcpu_chunk *c, int off)
{
	const struct pcpu_chunk_map *m = &c->map;
	int bit = off / PCPU_MIN_ALLOC_SIZE, end, next;

	if (c == pa->reserved_chunk || off % PCPU_MIN_ALLOC_SIZE || off < m->start_offset ||
	    bit >= m->map_bits - m->end_offset / PCPU_MIN_ALLOC_SIZE ||
	    !bit_test(m->alloc_map, bit) || !bit_test(m->bound_map, bit))
		return -1;
	/* an allocated bit with a boundary starts an area; the next boundary ends it */
	end = bit + PCPU_CACHE_MAX_BITS + 1;
	next = next_set_bit(m->bound_map, bit + 1, end < m->map_bits + 1 ? end : m->map_bits + 1);
	if (next < 0 || (size_t)(next - bit) * PCPU_MIN_ALLOC_SIZE < sizeof(void *))
		return -1;
	return next - bit;
}

/* Caches the area of @bits bits at @off of @c instead of freeing it; false if the cache
 * is full (the caller frees it). */
static bool cache_put(struct pcpu_chunk *c, int off, int bits)
{
	size_t bytes = (size_t)bits * PCPU_MIN_ALLOC_SIZE;
	char *p = c->base + off;

	if (pa->cache_bytes + bytes > pa->cache_max_bytes)
		return false;
	memcpy(p + _pcpu_geo->used_unit_base[0], &pa->cache[bits], sizeof(void *));
	_pcpu_san_free(p, bytes); /* the link too: only the allocator reads it */
	pa->cache[bits] = p;
	bit_assign(c->cached, off / PCPU_MIN_ALLOC_SIZE, true);
	c->nr_cached++;
	pa->cache_bytes += bytes;
	pa->reserve_active = true;
	return true;
}

/* A cached area of @bits bits aligned to @align, taken out of the cache, or NULL;
 * *@cp and *@offp say where it is. */
static char *cache_get(int bits, size_t align, struct pcpu_chunk **cp, int *offp)
{
	char *p = pa->cache[bits], *next;
	struct pcpu_chunk *c, *nc;
	int off, noff;

	if (!p || ((uintptr_t)p & (align - 1)))
		return NULL;
	c = chunk_lookup((uintptr_t)p, &off); /* checked when it was linked */
	_pcpu_san_alloc(p, (size_t)bits * PCPU_MIN_ALLOC_SIZE); /* it is taken: readable */
	memcpy(&next, p + _pcpu_geo->used_unit_base[0], sizeof(next));
	if (next && (!(nc = chunk_lookup((uintptr_t)next, &noff)) || !area_cached(nc, noff)))
		_pcpu_fatal("pcpu_alloc", "the freed %d-byte area %p was written after pcpu_free(): "
			   "its cache link %p leads to no freed area",
			   bits * PCPU_MIN_ALLOC_SIZE, (void *)p, (void *)next);
	pa->cache[bits] = next;
	bit_assign(c->cached, off / PCPU_MIN_ALLOC_SIZE, false);
	c->nr_cached--;
	pa->cache_bytes -= (size_t)bits * PCPU_MIN_ALLOC_SIZE;
	pa->reserve_active = true;
	*cp = c;
	*offp = off;
	return p;
}

/* Gives every cached area back to its chunk. */
static void cache_drain(void)
{
	for (int bits = 1; bits <= PCPU_CACHE_MAX_BITS; bits++) {
		struct pcpu_chunk *c;
		int off;

		while (cache_get(bits, 1, &c, &off)) {
			(void)chunk_free_locked(c, off);
			(void)after_free(c); /* isolates it if it should give pages back */
		}
	}
}

/* Sends the entirely free chunks that should give pages back to reclaim; when the
 * reserve is trimmed (@trim, @high the kernel's pool), every chunk that should: the free
 * path isolated only those beyond the reserve. */
static void isolate_reclaimable(int high, bool trim)
{
	struct pcpu_list *head = &pa->slots[pa->free_slot], *pos, *next;

	lock();
	for (pos = head->next; pos != head; pos = next) {
		next = pos->next;
		if (should_reclaim(chunk_of(pos), high))
			chunk_isolate(chunk_of(pos));
	}
	for (int i = 1; trim && reserve_keeps_chunks(pa->reserve_pages) && i < pa->chunk_hwm; i++) {
		struct pcpu_chunk *c = pa->chunks[i];

		if (c && !c->isolated && should_reclaim(c, high))
			chunk_isolate(c);
	}
	unlock();
}

/* The balance work.  With @trim (pcpu_balance(), or the reserve found idle) the cache
 * goes back to the chunks and the pool of empty populated pages down to the kernel's
 * PCPU_EMPTY_POP_PAGES_HIGH; without (the slow paths of alloc and free), the pool down
 * to the reserve's bound. */
static void balance_locked(bool trim)
{
	int high;

	ASSERT_ALLOC_MUTEX();
	lock(); /* balance_pending and trim_pending are read and set under it */
	pa->balance_pending = false;
	trim |= pa->trim_pending;
	pa->trim_pending = false;
	if (trim)
		cache_drain();
	unlock();
	high = trim ? PCPU_EMPTY_POP_PAGES_HIGH : pa->reserve_pages;
	balance_free(false, high);
	isolate_reclaimable(high, trim);
	reclaim_populated(high);
	/* reclaim may have put entirely free chunks back: free the surplus now rather
	 * than on the next run (the kernel's workqueue would simply run again) */
	balance_free(false, high);
	balance_populated();
	balance_free(true, high);
}

static void balance_run(bool trim)
{
	lock_alloc_mutex();
	balance_locked(trim);
	unlock_alloc_mutex();
}

/* pcpu_balance(): everything kept for reuse goes back. */
void _pcpu_alloc_balance(void)
{
	balance_run(true);
}

/* Every allocator call counts down (lock held); one in PCPU_RESERVE_CHECK_CALLS reads
 * the clock.  If nothing entered or left the pool or the cache for PCPU_RESERVE_IDLE_MS
 * and the pool holds more than the kernel's, the reserve is idle: true, and the balance
 * work that the caller runs trims it. */
static bool reserve_idle(void)
{
	uint64_t now;

	ASSERT_LOCKED();
	if (--pa->calls_to_check > 0)
		return false;
	pa->calls_to_check = PCPU_RESERVE_CHECK_CALLS;
	now = _pcpu_vm->now_ms();
	if (pa->reserve_active) {
		pa->reserve_active = false;
		pa->reserve_stamp_ms = now;
		return false;
	}
	if ((pa->nr_empty_pop_pages <= PCPU_EMPTY_POP_PAGES_HIGH && !pa->cache_bytes) ||
	    now - pa->reserve_stamp_ms < PCPU_RESERVE_IDLE_MS)
		return false;
	pa->trim_pending = true;
	pa->reserve_active = true; /* the trim starts the next period */
	return true;
}

/* ---------------------------------------------------------------------------------
 * Allocation and free
 * --------------------------------------------------------------------------------- */

/* Tries the chunks of the slots from the one @bytes needs upwards (lock held). */
static struct pcpu_chunk *alloc_from_slots(int bits, size_t align, bool atomic, int *offp)
{
	int first = size_to_slot((size_t)bits * PCPU_MIN_ALLOC_SIZE);
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
					chunk_move(c, 0, false);
				continue;
			}
			oslot = chunk_slot(c);
			before = c->map.nr_empty_pop_pages;
			off = _pcpu_chunk_alloc_area(&c->map, bits, align, off);
			if (off < 0)
				continue;
			account_empty(c, before);
			chunk_relocate(c, oslot);
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
	*page_start = off / _pcpu_geo->page_size;
	*page_end = (int)((off + bytes + _pcpu_geo->page_size - 1) / _pcpu_geo->page_size);
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

		if (chunk_populate(c, rs, re) != 0) {
			ret = -1;
			break;
		}
		lock();
		before = c->map.nr_empty_pop_pages;
		_pcpu_chunk_mark_populated(&c->map, rs, re);
		dirty_set(c, rs, re, false);
		account_empty(c, before);
		unlock();
	}
	unlock_alloc_mutex();
	return ret;
}

static void count_alloc(struct pcpu_chunk *c, int off, size_t size)
{
	ASSERT_LOCKED();
	if (off >= 0) /* < 0: an area from the cache, which cache_get() marked already */
		_pcpu_san_alloc(c->base + off, size);
	if (size > c->max_alloc_size)
		c->max_alloc_size = size;
	pa->stats.nr_alloc++;
	pa->stats.nr_cur_alloc++;
	if (pa->stats.nr_cur_alloc > pa->stats.nr_max_alloc)
		pa->stats.nr_max_alloc = pa->stats.nr_cur_alloc;
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
		chunk_reintegrate(chunk_of(head->next));
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
		c = chunk_create(false);
		lock();
		if (c) {
			int off = _pcpu_chunk_find_fit(&c->map, bits, align, false);

			if (off >= 0)
				off = _pcpu_chunk_alloc_area(&c->map, bits, align, off);
			c->isolated = false;
			chunk_relocate(c, -1);
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
		debug_verify(c, "alloc");
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

/* Allocation takes pa->lock once on the common path; population, chunk creation and
 * the balance work take alloc_mutex on their own.  Atomic allocations only take areas
 * whose pages are all populated (_pcpu_chunk_find_fit's pop_only). */
void *_pcpu_alloc_internal(size_t size, size_t align, bool reserved, unsigned int gfp)
{
	bool atomic = gfp & PCPU_GFP_ATOMIC, populated = true, dirty = false, need_balance;
	struct pcpu_chunk *c;
	int bits, off = -1;
	char *ptr;

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
	if (!reserved && bits <= PCPU_CACHE_MAX_BITS && cache_get(bits, align, &c, &off)) {
		count_alloc(c, -1, size);
		need_balance = reserve_idle() && !atomic;
		unlock();
		if (need_balance)
			balance_run(false);
		ptr = c->base + off; /* its copies hold what its last user left there */
		_pcpu_chunk_vm_zero(ptr, size);
		return ptr;
	}
	c = reserved ? alloc_reserved(bits, align, &off) :
		       alloc_from_slots(bits, align, atomic, &off);
	if (c) {
		count_alloc(c, off, size);
		populated = atomic || area_populated(c, off, size);
		dirty = area_dirty(c, off, size);
		debug_verify(c, "alloc");
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
		account_empty(c, before);
		chunk_relocate(c, oslot);
		need_balance = c != pa->reserved_chunk && after_free(c);
		pa->stats.nr_alloc--;
		pa->stats.nr_cur_alloc--;
		pa->stats.nr_alloc_failed++;
		unlock();
		if (need_balance)
			balance_run(false);
		errno = ENOMEM;
		return NULL;
	}
	if (need_balance)
		balance_run(false);

	ptr = c->base + off;
	if (dirty || __atomic_load_n(&pa->always_zero, __ATOMIC_RELAXED))
		_pcpu_chunk_vm_zero(ptr, size);
	return ptr;
}

/* The chunk that owns @a and the map offset of @a in it, or NULL (lock held). */
static struct pcpu_chunk *chunk_lookup(uintptr_t a, int *offp)
{
	size_t index, in_chunk;
	uintptr_t rel;
	struct pcpu_chunk *c;

	ASSERT_LOCKED();
	/* arena_bytes is 0 until _pcpu_alloc_setup() is done: the geometry is read after */
	if (!pa->arena_bytes)
		return NULL;
	rel = a - (uintptr_t)_pcpu_geo->arena;
	if (rel >= pa->arena_bytes)
		return NULL;
	if (_pcpu_geo->chunk_shift) { /* the usual case: no division on the free path */
		index = rel >> _pcpu_geo->chunk_shift;
		in_chunk = rel & (_pcpu_geo->chunk_bytes - 1);
	} else {
		index = rel / _pcpu_geo->chunk_bytes;
		in_chunk = rel % _pcpu_geo->chunk_bytes;
	}
	c = pa->chunks[index];
	if (!c)
		return NULL;
	if (index == 0) {
		if (in_chunk < _pcpu_geo->static_size)
			return NULL; /* a static per-CPU variable */
		if (pa->reserved_chunk && in_chunk < _pcpu_geo->static_size + _pcpu_geo->reserved_size)
			c = pa->reserved_chunk;
	}
	if (a < (uintptr_t)c->base || a - (uintptr_t)c->base >= _pcpu_geo->unit_size)
		return NULL; /* another CPU's copy, or a padding unit */
	*offp = (int)(a - (uintptr_t)c->base);
	return c;
}

/* Frees the area at byte @off of @c in its maps: the bytes freed, or -1 if no live area
 * starts there (lock held). */
static int chunk_free_locked(struct pcpu_chunk *c, int off)
{
	int oslot = chunk_slot(c), before = c->map.nr_empty_pop_pages, freed, ps, pe;

	ASSERT_LOCKED();
	freed = _pcpu_chunk_free_area(&c->map, off);
	if (freed < 0)
		return -1;
	_pcpu_san_free(c->base + off, (size_t)freed);
	page_range(off, (size_t)freed, &ps, &pe);
	dirty_set(c, ps, pe, true);
	account_empty(c, before);
	chunk_relocate(c, oslot);
	debug_verify(c, "free");
	return freed;
}

void _pcpu_free_internal(void *ptr, const char *caller)
{
	struct pcpu_chunk *c;
	bool need_balance = false, cached;
	int off, bits;

	if (!ptr)
		return;
	lock();
	c = chunk_lookup((uintptr_t)ptr, &off);
	if (!c) {
		unlock();
		_pcpu_fatal(caller, "%p is not a per-CPU pointer returned by pcpu_alloc()", ptr);
	}
	bits = area_cached(c, off) ? -1 : cacheable_bits(c, off);
	cached = bits > 0 && cache_put(c, off, bits);
	if (!cached && (area_cached(c, off) || chunk_free_locked(c, off) < 0)) {
		unlock();
		_pcpu_fatal(caller, "%p: double free, or not the start of a live per-CPU allocation",
			   ptr);
	}
	pa->stats.nr_dealloc++;
	pa->stats.nr_cur_alloc--;

	need_balance = reserve_idle();
	need_balance = (!cached && after_free(c)) || need_balance;
	unlock();

	if (need_balance)
		balance_run(false);
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

	if (_pcpu_chunk_vm_first_commit(&pa->use_huge_first_chunk) != 0)
		return -1;
	lock_alloc_mutex();
	lock();
	pa->debug = debug;
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
	chunk_relocate(pa->first_chunk, -1);
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
