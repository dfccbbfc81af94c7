/* SPDX-License-Identifier: MIT */
/* alloc.c - the per-CPU allocator: initialization, chunks, slots, alloc and free,
 * population and the balance work.  The design follows the kernel's mm/percpu.c.
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
 * Pages.  "Page" is the allocator's page, pcpu.page_size: the system's, or a multiple
 * of it up to 64 KiB chosen with LIBPERCPU_PAGE_SIZE, so that a machine with 4 KiB pages
 * runs the allocator as on arm64 kernels with 16 or 64 KiB pages.  Population,
 * depopulation, the bitmap blocks, the layout's rounding and the alignment limit all
 * work in it; only vm.c knows the system's page size.
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
 * Locking.  pcpu.lock guards the maps, slots and counters and is never held across a
 * system call; pcpu.alloc_mutex serializes what does make system calls (creating,
 * populating, depopulating, destroying chunks).  Atomic allocations take only pcpu.lock.
 * fork() is safe: atfork handlers hold both (and the sections lock) across it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anchor.h"
#include "internal.h"
#include "size.h"
#include "vm.h"

struct pcpu_state pcpu = {
	.alloc_mutex = PTHREAD_MUTEX_INITIALIZER,
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

struct __pcpu_fast __pcpu_fast = { .size = sizeof(struct __pcpu_fast),
				   .version = __PCPU_FAST_VERSION };

static pthread_once_t init_once_control = PTHREAD_ONCE_INIT;

void _pcpu_fatal(const char *call, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	n = snprintf(msg, sizeof(msg), "libpercpu: %s: ", call);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", msg);
	abort();
}

/* ---------------------------------------------------------------------------------
 * Lists and slots
 * --------------------------------------------------------------------------------- */

static void list_init(struct pcpu_list *l)
{
	l->prev = l->next = l;
}

static bool list_empty(const struct pcpu_list *l)
{
	return l->next == l;
}

static void list_del_init(struct pcpu_list *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	list_init(e);
}

static void list_add_front(struct pcpu_list *e, struct pcpu_list *head)
{
	e->next = head->next;
	e->prev = head;
	head->next->prev = e;
	head->next = e;
}

static void list_add_tail(struct pcpu_list *e, struct pcpu_list *head)
{
	list_add_front(e, head->prev);
}

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
	return bytes == pcpu.unit_size ? pcpu.free_slot : size_to_slot_raw(bytes);
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
	if (c->slot >= 0 && list_empty(&pcpu.slots[c->slot]))
		pcpu.slot_mask &= ~(1ull << c->slot);
	c->slot = -1;
}

static void chunk_move(struct pcpu_chunk *c, int slot, bool front)
{
	if (c == pcpu.reserved_chunk)
		return;
	chunk_unlink(c);
	if (front)
		list_add_front(&c->list, &pcpu.slots[slot]);
	else
		list_add_tail(&c->list, &pcpu.slots[slot]);
	pcpu.slot_mask |= 1ull << slot;
	c->slot = slot;
}

/* Moves @c to the slot its largest free area calls for; @oslot is where it was. */
static void chunk_relocate(struct pcpu_chunk *c, int oslot)
{
	int nslot = chunk_slot(c);

	if (c->isolated || c == pcpu.reserved_chunk)
		return;
	if (oslot != nslot)
		chunk_move(c, nslot, oslot < nslot);
}

/* Keeps the global count of empty populated pages in step with a chunk's.  Isolated
 * chunks and the reserved chunk do not count: atomic allocations cannot use them. */
static void account_empty(struct pcpu_chunk *c, int before)
{
	int delta = c->map.nr_empty_pop_pages - before;

	if (delta && !c->isolated && c != pcpu.reserved_chunk)
		pcpu.nr_empty_pop_pages += delta;
}

static void chunk_isolate(struct pcpu_chunk *c)
{
	if (!c->isolated) {
		c->isolated = true;
		pcpu.nr_empty_pop_pages -= c->map.nr_empty_pop_pages;
	}
	chunk_move(c, pcpu.to_depopulate_slot, true);
}

static void chunk_reintegrate(struct pcpu_chunk *c)
{
	if (c->isolated) {
		c->isolated = false;
		pcpu.nr_empty_pop_pages += c->map.nr_empty_pop_pages;
		chunk_relocate(c, -1);
	}
}

/* Should @c give its empty pages back?  Not the first or reserved chunk; an isolated
 * chunk that gained an empty page; or one that is a quarter empty while the pool of
 * empty pages elsewhere is large enough without it. */
static bool should_reclaim(const struct pcpu_chunk *c)
{
	int pool_without = pcpu.nr_empty_pop_pages - (c->isolated ? 0 : c->map.nr_empty_pop_pages);

	if (c->immutable || !c->map.nr_empty_pop_pages)
		return false;
	/* Beyond the kernel: an entirely free chunk (the one balance keeps) gives back its
	 * pages too when the pool is full without them, or would be more than full with
	 * them (with big pages a unit has few: 16 of 64 KiB in a 1 MiB unit); the balance
	 * work then tops the pool up to PCPU_EMPTY_POP_PAGES_HIGH again.  The kernel
	 * leaves them. */
	if (c->map.free_bytes == (int)pcpu.unit_size)
		return c->isolated ||
		       pool_without + c->map.nr_empty_pop_pages > PCPU_EMPTY_POP_PAGES_HIGH;
	return c->isolated || (pool_without > PCPU_EMPTY_POP_PAGES_HIGH &&
			       c->map.nr_empty_pop_pages >= c->map.nr_pages / 4);
}

/* After an area of @c was freed (lock held): does the balance work have work to do? */
static bool after_free(struct pcpu_chunk *c)
{
	if (should_reclaim(c)) {
		/* The kernel's balance work runs later from a workqueue and so reclaims many
		 * pages at a time; without a thread, batch instead: an already isolated
		 * chunk waits until it has PCPU_RECLAIM_BATCH empty pages, or is empty. */
		bool now = !c->isolated || c->map.nr_empty_pop_pages >= PCPU_RECLAIM_BATCH ||
			   c->map.free_bytes == (int)pcpu.unit_size;
		chunk_isolate(c);
		return now;
	}
	if (!c->isolated && c->map.free_bytes == (int)pcpu.unit_size) {
		/* more than one entirely free chunk: free the surplus */
		struct pcpu_list *head = &pcpu.slots[pcpu.free_slot];
		return head->next != &c->list || head->next->next != head;
	}
	return false;
}

static void debug_verify(const struct pcpu_chunk *c, const char *when)
{
	char err[256];

	if (pcpu.debug && _pcpu_chunk_map_verify(&c->map, err, sizeof(err)) != 0)
		_pcpu_fatal("LIBPERCPU_DEBUG", "chunk %d inconsistent after %s: %s", c->index, when,
			   err);
}

/* ---------------------------------------------------------------------------------
 * Chunk creation, population, destruction (alloc_mutex held, lock not held)
 * --------------------------------------------------------------------------------- */

static char *chunk_area(int index)
{
	return pcpu.arena + (size_t)index * pcpu.chunk_bytes;
}

/* Tests set this to see binding on a simulated topology through a fake backend. */
bool _pcpu_bind_simulated_nodes;

static bool topology_is_real_numa(void)
{
	return (!pcpu.topo.simulated || _pcpu_bind_simulated_nodes) && pcpu.topo.nr_nodes > 1;
}

/* Binds each group's units in [area, area + chunk_bytes) to the node of its CPUs. */
static void chunk_bind(char *area)
{
	if (!topology_is_real_numa())
		return;
	for (int g = 0; g < pcpu.ai->nr_groups; g++) {
		const struct pcpu_group_info *gi = &pcpu.ai->groups[g];
		int node = pcpu.topo.cpu_to_node[gi->cpu_map[0]];

		/* A failed bind costs locality, not correctness: ignore it. */
		(void)_pcpu_vm->bind(area + gi->base_offset, (size_t)gi->nr_units * pcpu.unit_size,
				    node);
	}
}

static int chunk_populate(struct pcpu_chunk *c, int rs, int re)
{
	size_t off = (size_t)rs * pcpu.page_size, len = (size_t)(re - rs) * pcpu.page_size;

	/* cid mode: an ID's pages fault in when it first writes them (index.c) */
	for (int u = 0; u < pcpu.nr_used && !pcpu_index_cid(); u++) {
		if (_pcpu_vm->populate(c->base + pcpu.used_unit_base[u] + off, len) != 0) {
			int saved = errno;
			while (u-- > 0)
				(void)_pcpu_vm->depopulate(c->base + pcpu.used_unit_base[u] + off, len);
			errno = saved == 0 ? ENOMEM : saved;
			return -1;
		}
	}
	__atomic_fetch_add(&pcpu.nr_populate_calls, 1, __ATOMIC_RELAXED);
	return 0;
}

static void chunk_depopulate(struct pcpu_chunk *c, int rs, int re)
{
	size_t off = (size_t)rs * pcpu.page_size, len = (size_t)(re - rs) * pcpu.page_size;

	for (int u = 0; u < pcpu.nr_used; u++)
		(void)_pcpu_vm->depopulate(c->base + pcpu.used_unit_base[u] + off, len);
	__atomic_fetch_add(&pcpu.nr_depopulate_calls, 1, __ATOMIC_RELAXED);
}

static size_t meta_bytes(void)
{
	return (_pcpu_chunk_map_meta_bytes(pcpu.unit_size, pcpu.page_size) + pcpu.page_size - 1) &
	       ~(size_t)(pcpu.page_size - 1);
}

/* Grows the arena by one chunk, slot pcpu.max_chunks (alloc_mutex held): reserves the
 * range right above it, then publishes the new size.  0, or -1 with ENOMEM and nothing
 * changed. */
static int arena_grow(void)
{
	int index = pcpu.max_chunks, cap = pcpu.chunks_cap;
	struct pcpu_chunk **grown = NULL, **old = NULL;
	size_t bytes = (size_t)(index + 1) * pcpu.chunk_bytes;

	if (index >= pcpu.arena_limit_chunks) {
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
	if (_pcpu_vm->reserve_at(pcpu.arena + pcpu.arena_bytes, pcpu.chunk_bytes) != 0) {
		free(grown);
		errno = ENOMEM; /* the range above is taken, or no address space is left */
		return -1;
	}
	pcpu_state_lock();
	if (grown) {
		memcpy(grown, pcpu.chunks, (size_t)pcpu.max_chunks * sizeof(*grown));
		old = pcpu.chunks;
		pcpu.chunks = grown;
		pcpu.chunks_cap = cap;
	}
	pcpu.max_chunks = index + 1;
	__atomic_store_n(&pcpu.arena_bytes, bytes, __ATOMIC_RELEASE);
	__atomic_store_n(&__pcpu_fast.arena_size, bytes, __ATOMIC_RELEASE);
	pcpu_state_unlock();
	free(old);
	return 0;
}

/* Makes a chunk, in the lowest free slot of the arena, growing it if none is free.
 * With @listed it goes on its slot list at once; without, the caller gets it off every
 * list (under pcpu.lock) to allocate from first. */
static struct pcpu_chunk *chunk_create(bool listed)
{
	struct pcpu_chunk *c;
	int index = -1;

	pcpu_state_lock();
	for (int i = 1; i < pcpu.max_chunks; i++) {
		if (!pcpu.chunks[i]) {
			index = i;
			break;
		}
	}
	pcpu_state_unlock();
	if (index < 0) {
		/* only this thread (alloc_mutex) changes max_chunks */
		index = pcpu.max_chunks;
		if (arena_grow() != 0)
			return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	list_init(&c->list);
	c->slot = -1;
	c->index = index;
	c->base = chunk_area(index);
	/* the maps get a mapping of their own: they go back to the system with the
	 * chunk instead of staying in malloc's heap */
	c->meta = _pcpu_vm->reserve(meta_bytes(), pcpu.page_size);
	if (!c->meta)
		goto out_free;
	if (_pcpu_vm->commit(c->meta, meta_bytes(), false) != 0 ||
	    _pcpu_chunk_map_init_mem(&c->map, pcpu.unit_size, pcpu.page_size, 0, 0, c->meta) != 0)
		goto out_meta;
	if (_pcpu_vm->commit(c->base, pcpu.chunk_bytes, false) != 0)
		goto out_map;
	chunk_bind(c->base);
	pcpu_san_poison_area(c->base, 0, pcpu.unit_size);

	pcpu_state_lock();
	pcpu.chunks[index] = c;
	if (index >= pcpu.chunk_hwm)
		pcpu.chunk_hwm = index + 1;
	pcpu.nr_chunks++;
	pcpu.stats.nr_chunks = (unsigned int)pcpu.nr_chunks;
	if (pcpu.stats.nr_chunks > pcpu.stats.nr_max_chunks)
		pcpu.stats.nr_max_chunks = pcpu.stats.nr_chunks;
	if (listed) {
		chunk_relocate(c, -1);
	} else {
		c->isolated = true; /* off the lists until the caller has its area */
	}
	pcpu_state_unlock();
	return c;

out_map:
	_pcpu_chunk_map_destroy(&c->map);
out_meta:
	_pcpu_vm->release(c->meta, meta_bytes());
out_free:
	free(c);
	errno = ENOMEM;
	return NULL;
}

/* @c is already off every list and out of the count of empty pages. */
static void chunk_destroy(struct pcpu_chunk *c)
{
	pcpu_state_lock();
	pcpu.chunks[c->index] = NULL;
	pcpu.nr_chunks--;
	pcpu.stats.nr_chunks = (unsigned int)pcpu.nr_chunks;
	pcpu_state_unlock();
	/* Back to PROT_NONE: every page of every unit is freed in one call. */
	if (_pcpu_vm->decommit(c->base, pcpu.chunk_bytes) != 0)
		for (int rs = 0, re; _pcpu_chunk_next_pop(&c->map, &rs, &re, c->map.nr_pages); rs = re)
			chunk_depopulate(c, rs, re);
	_pcpu_chunk_map_destroy(&c->map);
	_pcpu_vm->release(c->meta, meta_bytes());
	free(c);
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
 * populated page). */
static void balance_free(bool empty_only)
{
	struct pcpu_list doomed, *head = &pcpu.slots[pcpu.free_slot], *pos, *next;

	list_init(&doomed);
	pcpu_state_lock();
	for (pos = head->next; pos != head; pos = next) {
		struct pcpu_chunk *c = chunk_of(pos);

		next = pos->next;
		if (pos == head->next || c->immutable)
			continue; /* spare the first one */
		if (!empty_only || c->map.nr_populated == 0) {
			pcpu.nr_empty_pop_pages -= c->map.nr_empty_pop_pages;
			chunk_unlink(c);
			list_add_tail(&c->list, &doomed);
		}
	}
	pcpu_state_unlock();

	while (!list_empty(&doomed)) {
		struct pcpu_chunk *c = chunk_of(doomed.next);

		list_del_init(&c->list);
		chunk_destroy(c);
	}
}

/* Gives back the empty pages of isolated chunks, scanning from the end so that the
 * populated pages stay near the start; then returns each chunk to the slots, or
 * sidelines it until it empties further. */
static void reclaim_populated(void)
{
	struct pcpu_list *head = &pcpu.slots[pcpu.to_depopulate_slot];

	pcpu_state_lock();
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
			if (pcpu.nr_empty_pop_pages + c->map.nr_empty_pop_pages <=
			    PCPU_EMPTY_POP_PAGES_HIGH) {
				reintegrate = true;
				break;
			}
			if (_pcpu_chunk_page_empty(&c->map, i) && page_populated(&c->map, i)) {
				if (end == -1)
					end = i;
				if (i > 0)
					continue;
				i--; /* the range reaches page 0: depopulate it now */
			}
			if (end == -1)
				continue;
			/* isolated: no allocation can land in [i + 1, end] meanwhile */
			pcpu_state_unlock();
			chunk_depopulate(c, i + 1, end + 1);
			pcpu_state_lock();
			_pcpu_chunk_mark_depopulated(&c->map, i + 1, end + 1);
			debug_verify(c, "depopulate");
			end = -1;
		}
		if (reintegrate || c->map.free_bytes == (int)pcpu.unit_size)
			chunk_reintegrate(c);
		else
			chunk_move(c, pcpu.sidelined_slot, false);
	}
	pcpu_state_unlock();
}

/* Tops the pool of empty populated pages up to PCPU_EMPTY_POP_PAGES_HIGH. */
static void balance_populated(void)
{
	int nr_to_pop, tries = 0;

retry:
	pcpu_state_lock();
	nr_to_pop = PCPU_EMPTY_POP_PAGES_HIGH - pcpu.nr_empty_pop_pages;
	for (int slot = size_to_slot(pcpu.page_size); slot <= pcpu.free_slot && nr_to_pop > 0;
	     slot++) {
		struct pcpu_list *head = &pcpu.slots[slot], *pos;
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

			pcpu_state_unlock();
			ret = chunk_populate(c, rs, rs + nr);
			pcpu_state_lock();
			if (ret != 0) {
				nr_to_pop = 0;
				break;
			}
			before = c->map.nr_empty_pop_pages;
			_pcpu_chunk_mark_populated(&c->map, rs, rs + nr);
			account_empty(c, before);
			nr_to_pop -= nr;
			re = rs + nr;
		}
	}
	pcpu_state_unlock();
	/* every chunk is fully populated: make a new one, as the kernel does */
	if (nr_to_pop > 0 && tries++ == 0 && chunk_create(true))
		goto retry;
}

/* Sends the entirely free chunks that should give pages back to reclaim. */
static void isolate_free_chunks(void)
{
	struct pcpu_list *head = &pcpu.slots[pcpu.free_slot], *pos, *next;

	pcpu_state_lock();
	for (pos = head->next; pos != head; pos = next) {
		next = pos->next;
		if (should_reclaim(chunk_of(pos)))
			chunk_isolate(chunk_of(pos));
	}
	pcpu_state_unlock();
}

static void balance_locked(void)
{
	pcpu_state_lock(); /* balance_pending is read and set under it */
	pcpu.balance_pending = false;
	pcpu_state_unlock();
	balance_free(false);
	isolate_free_chunks();
	reclaim_populated();
	/* reclaim may have put entirely free chunks back: free the surplus now rather
	 * than on the next run (the kernel's workqueue would simply run again) */
	balance_free(false);
	balance_populated();
	balance_free(true);
}

/* The housekeeping of the slow paths of allocation and free. */
static void balance(void)
{
	pthread_mutex_lock(&pcpu.alloc_mutex);
	balance_locked();
	pthread_mutex_unlock(&pcpu.alloc_mutex);
}

/* The application's call also re-reads the online CPUs (cpuhp.c): the slow paths leave
 * that out, so that a free never runs hotplug callbacks. */
void pcpu_balance(void)
{
	int saved = errno;

	if (_pcpu_ensure_init())
		return;
	(void)pcpu_cpus_refresh();
	errno = saved;
	balance();
}

/* ---------------------------------------------------------------------------------
 * Allocation and free
 * --------------------------------------------------------------------------------- */

/* Tries the chunks of the slots from the one @bytes needs upwards (lock held). */
static struct pcpu_chunk *alloc_from_slots(int bits, size_t align, bool atomic, int *offp)
{
	int first = size_to_slot((size_t)bits * PCPU_MIN_ALLOC_SIZE);
	/* non-empty slots from the first that can fit up to the free slot */
	uint64_t mask = pcpu.slot_mask & (~0ull << first) & (~0ull >> (63 - pcpu.free_slot));

	for (; mask; mask &= mask - 1) {
		int slot = __builtin_ctzll(mask);
		struct pcpu_list *head = &pcpu.slots[slot], *pos, *next;

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
	struct pcpu_chunk *c = pcpu.reserved_chunk;
	int off;

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
	*page_start = off / pcpu.page_size;
	*page_end = (int)((off + bytes + pcpu.page_size - 1) / pcpu.page_size);
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
 * pcpu.lock here, and no page of the area can be depopulated meanwhile (the area's
 * allocation keeps its pages from being empty). */
static int populate_area(struct pcpu_chunk *c, int off, size_t bytes)
{
	int ps, pe, ret = 0;

	page_range(off, bytes, &ps, &pe);
	pthread_mutex_lock(&pcpu.alloc_mutex);
	for (int rs = ps, re; _pcpu_chunk_next_unpop(&c->map, &rs, &re, pe); rs = re) {
		int before;

		if (chunk_populate(c, rs, re) != 0) {
			ret = -1;
			break;
		}
		pcpu_state_lock();
		before = c->map.nr_empty_pop_pages;
		_pcpu_chunk_mark_populated(&c->map, rs, re);
		account_empty(c, before);
		pcpu_state_unlock();
	}
	pthread_mutex_unlock(&pcpu.alloc_mutex);
	return ret;
}

static void count_alloc(struct pcpu_chunk *c, int off, size_t size)
{
	pcpu_san_alloc(c->base + off, size);
	if (size > c->max_alloc_size)
		c->max_alloc_size = size;
	pcpu.stats.nr_alloc++;
	pcpu.stats.nr_cur_alloc++;
	if (pcpu.stats.nr_cur_alloc > pcpu.stats.nr_max_alloc)
		pcpu.stats.nr_max_alloc = pcpu.stats.nr_cur_alloc;
	if (!pcpu.stats.min_alloc_size || size < pcpu.stats.min_alloc_size)
		pcpu.stats.min_alloc_size = size;
	if (size > pcpu.stats.max_alloc_size)
		pcpu.stats.max_alloc_size = size;
}

/* Sidelined chunks are kept off the slot lists so that their depopulated, fragmented
 * space is not refilled page by page; before making a new chunk, though, put them back
 * (lock held). */
static bool reintegrate_sidelined(void)
{
	struct pcpu_list *head = &pcpu.slots[pcpu.sidelined_slot];
	bool any = !list_empty(head);

	while (!list_empty(head))
		chunk_reintegrate(chunk_of(head->next));
	return any;
}

/* No chunk had room: reuse sidelined chunks, else make a chunk and take the area from
 * it before any other thread can see it.  alloc_mutex serializes creators.  Sets
 * *populated: whether the area's pages are all populated already. */
static struct pcpu_chunk *alloc_new_chunk(int bits, size_t align, size_t size, int *offp,
					  bool *populated)
{
	struct pcpu_chunk *c;

	pthread_mutex_lock(&pcpu.alloc_mutex);
	pcpu_state_lock();
	c = alloc_from_slots(bits, align, false, offp);
	if (!c && reintegrate_sidelined())
		c = alloc_from_slots(bits, align, false, offp);
	pcpu_state_unlock();
	if (!c) {
		c = chunk_create(false);
		pcpu_state_lock();
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
		pcpu_state_lock();
	}
	if (c) {
		count_alloc(c, *offp, size);
		*populated = area_populated(c, *offp, size);
		debug_verify(c, "alloc");
	} else {
		pcpu.stats.nr_alloc_failed++;
	}
	pcpu_state_unlock();
	pthread_mutex_unlock(&pcpu.alloc_mutex);
	return c;
}

/* Allocation takes pcpu.lock once on the common path; population, chunk creation and
 * the balance work take alloc_mutex on their own.  Atomic allocations only take areas
 * whose pages are all populated (_pcpu_chunk_find_fit's pop_only). */
static bool all_zero(const char *p, size_t size)
{
	return p[0] == 0 && memcmp(p, p + 1, size - 1) == 0;
}

/* Zeroes a new object's copy in every unit.  In cid mode only the copies that are not
 * zero already: reading an ID's untouched page maps the zero page, writing it would
 * make it resident (index.c). */
static void zero_copies(char *ptr, size_t size)
{
	bool cid = pcpu_index_cid();

	for (int u = 0; u < pcpu.nr_used; u++) {
		char *copy = ptr + pcpu.used_unit_base[u];

		if (!cid || !all_zero(copy, size))
			memset(copy, 0, size);
	}
}

void *_pcpu_alloc_internal(size_t size, size_t align, bool reserved, unsigned int gfp)
{
	bool atomic = gfp & PCPU_GFP_ATOMIC, populated = true, need_balance;
	struct pcpu_chunk *c;
	int bits, off = -1;
	char *ptr;

	if (size == 0 || size > PCPU_MAX_ALLOC_SIZE || align > PCPU_MAX_PAGE_SIZE ||
	    (align & (align - 1)) || (gfp & ~PCPU_GFP_ATOMIC)) {
		errno = EINVAL;
		return NULL;
	}
	if (align < PCPU_MIN_ALLOC_SIZE)
		align = PCPU_MIN_ALLOC_SIZE;
	if (_pcpu_ensure_init())
		return NULL;
	if (align > pcpu.page_size) { /* the page size is known once initialized */
		errno = EINVAL;
		return NULL;
	}
	size = (size + PCPU_MIN_ALLOC_SIZE - 1) & ~(size_t)(PCPU_MIN_ALLOC_SIZE - 1);
	bits = (int)(size / PCPU_MIN_ALLOC_SIZE);

	pcpu_state_lock();
	c = reserved ? alloc_reserved(bits, align, &off) : alloc_from_slots(bits, align, atomic, &off);
	if (c) {
		count_alloc(c, off, size);
		populated = atomic || area_populated(c, off, size);
		debug_verify(c, "alloc");
	} else if (atomic) {
		pcpu.stats.nr_alloc_failed++;
		pcpu.balance_pending = true; /* the next blocking call tops the pool up */
	}
	need_balance = !atomic && (pcpu.nr_empty_pop_pages < PCPU_EMPTY_POP_PAGES_LOW ||
				   pcpu.balance_pending);
	pcpu_state_unlock();

	if (!c && !atomic && !reserved)
		c = alloc_new_chunk(bits, align, size, &off, &populated);
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	if (!populated && populate_area(c, off, size) != 0) {
		int before, oslot;

		pcpu_state_lock();
		oslot = chunk_slot(c);
		before = c->map.nr_empty_pop_pages;
		_pcpu_chunk_free_area(&c->map, off);
		pcpu_san_free(c->base + off, size);
		account_empty(c, before);
		chunk_relocate(c, oslot);
		need_balance = c != pcpu.reserved_chunk && after_free(c);
		pcpu.stats.nr_alloc--;
		pcpu.stats.nr_cur_alloc--;
		pcpu.stats.nr_alloc_failed++;
		pcpu_state_unlock();
		if (need_balance)
			balance();
		errno = ENOMEM;
		return NULL;
	}
	if (need_balance)
		balance();

	ptr = c->base + off;
	zero_copies(ptr, size);
	return ptr;
}

/* The chunk that owns @a and the map offset of @a in it, or NULL (lock held). */
static struct pcpu_chunk *chunk_lookup(uintptr_t a, int *offp)
{
	uintptr_t rel = a - (uintptr_t)pcpu.arena;
	size_t index, in_chunk;
	struct pcpu_chunk *c;

	if (!pcpu.initialized || rel >= pcpu.arena_bytes)
		return NULL;
	if (pcpu.chunk_shift) { /* the usual case: no division on the free path */
		index = rel >> pcpu.chunk_shift;
		in_chunk = rel & (pcpu.chunk_bytes - 1);
	} else {
		index = rel / pcpu.chunk_bytes;
		in_chunk = rel % pcpu.chunk_bytes;
	}
	c = pcpu.chunks[index];
	if (!c)
		return NULL;
	if (index == 0) {
		if (in_chunk < pcpu.static_size)
			return NULL; /* a static per-CPU variable */
		if (pcpu.reserved_chunk && in_chunk < pcpu.static_size + pcpu.reserved_size)
			c = pcpu.reserved_chunk;
	}
	if (a < (uintptr_t)c->base || a - (uintptr_t)c->base >= pcpu.unit_size)
		return NULL; /* another CPU's copy, or a padding unit */
	*offp = (int)(a - (uintptr_t)c->base);
	return c;
}

void _pcpu_free_internal(void *ptr, const char *caller)
{
	struct pcpu_chunk *c;
	bool need_balance = false;
	int off, oslot, before, freed;

	if (!ptr)
		return;
	pcpu_state_lock();
	c = chunk_lookup((uintptr_t)ptr, &off);
	if (!c) {
		pcpu_state_unlock();
		_pcpu_fatal(caller, "%p is not a per-CPU pointer returned by pcpu_alloc()", ptr);
	}
	oslot = chunk_slot(c);
	before = c->map.nr_empty_pop_pages;
	freed = _pcpu_chunk_free_area(&c->map, off);
	if (freed < 0) {
		pcpu_state_unlock();
		_pcpu_fatal(caller, "%p: double free, or not the start of a live per-CPU allocation",
			   ptr);
	}
	pcpu_san_free(ptr, (size_t)freed);
	account_empty(c, before);
	chunk_relocate(c, oslot);
	debug_verify(c, "free");
	pcpu.stats.nr_dealloc++;
	pcpu.stats.nr_cur_alloc--;

	need_balance = after_free(c);
	pcpu_state_unlock();

	if (need_balance)
		balance();
}

void *pcpu_alloc(size_t size, size_t align)
{
	return _pcpu_alloc_internal(size, align, false, PCPU_GFP_KERNEL);
}

void *pcpu_alloc_gfp(size_t size, size_t align, unsigned int gfp)
{
	return _pcpu_alloc_internal(size, align, false, gfp);
}

void pcpu_free(void *ptr)
{
	_pcpu_free_internal(ptr, "pcpu_free");
}

/* Whether @p lies in the arena, without the lock: the arena may grow meanwhile. */
static bool in_arena(const void *p)
{
	return (uintptr_t)p - (uintptr_t)pcpu.arena <
	       __atomic_load_n(&pcpu.arena_bytes, __ATOMIC_ACQUIRE);
}

void *__pcpu_canon_slow(const void *p)
{
	char *canon;

	if (_pcpu_ensure_init())
		_pcpu_fatal("this_cpu operation", "library initialization failed: %s",
			   strerror(pcpu.init_errno));
	if (in_arena(p))
		return (void *)p;
	canon = _pcpu_sections_translate(p);
	if (!canon)
		_pcpu_fatal("this_cpu operation", "%p is not a per-CPU object (neither from "
			   "pcpu_alloc() nor a registered PCPU_DEFINE variable)", p);
	return canon;
}

void *__pcpu_ptr_slow(const void *p, unsigned int cpu)
{
	char *canon;

	if (!p)
		return NULL;
	if (_pcpu_ensure_init())
		_pcpu_fatal("pcpu_ptr", "library initialization failed: %s", strerror(pcpu.init_errno));
	if (cpu >= pcpu.topo.nr_cpu_ids || !_pcpu_topology_test(pcpu.topo.possible, cpu))
		_pcpu_fatal("pcpu_ptr", "(%p, %u): CPU %u is not a possible CPU (nr_cpu_ids %u)", p,
			   cpu, cpu, pcpu.topo.nr_cpu_ids);
	if (in_arena(p))
		canon = (char *)p;
	else
		canon = _pcpu_sections_translate(p);
	if (!canon)
		_pcpu_fatal("pcpu_ptr", "(%p, %u): %p is not a per-CPU pointer (neither from "
			   "pcpu_alloc() nor a registered PCPU_DEFINE variable)", p, cpu, p);
	return canon + pcpu.unit_offsets[cpu];
}

/* ---------------------------------------------------------------------------------
 * Initialization
 * --------------------------------------------------------------------------------- */

/* Prints "libpercpu: NAME=VALUE: why" for a rejected setting; returns -1 with EINVAL. */
__attribute__((format(printf, 3, 4)))
static int bad_setting(const char *name, const char *value, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "libpercpu: %s=%s: ", name, value);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	errno = EINVAL;
	return -1;
}

/* Reads size variable @name into *@out if it is set (the grammar of _pcpu_parse_env_size),
 * at most @max bytes.  0, or -1 with EINVAL and a message naming the variable. */
static int env_size(const char *name, size_t max, size_t *out)
{
	const char *v = secure_getenv(name);

	if (!v || !*v)
		return 0;
	switch (_pcpu_parse_env_size(v, max, out)) {
	case 0:
		return 0;
	case -2:
		return bad_setting(name, v, "more than the limit of %zuM (%zu bytes)", max >> 20, max);
	default:
		return bad_setting(name, v, "not a size (a number, optionally followed by K or M)");
	}
}

/*
 * The allocator's page size: the system's, or LIBPERCPU_PAGE_SIZE, a multiple of it up to
 * 64 KiB, to work in pages of that size (population, bitmap blocks, layout) as on a kernel
 * with 16 or 64 KiB pages.  0, or -1 with EINVAL (bad setting) or ENOTSUP (a system page
 * size outside 4 to 64 KiB).
 */
static int read_page_size(size_t *out)
{
	const char *name = "LIBPERCPU_PAGE_SIZE", *v = secure_getenv(name);
	size_t sys = _pcpu_vm_page_size(), page = sys;

	if (v && *v && (_pcpu_parse_env_size(v, PCPU_MAX_PAGE_SIZE, &page) != 0 || page < sys ||
			page % sys || (page & (page - 1))))
		return bad_setting(name, v, "not a power of two from the system's page size (%zu) "
				   "to %d", sys, PCPU_MAX_PAGE_SIZE);
	if (page < PCPU_MIN_PAGE_SIZE || page > PCPU_MAX_PAGE_SIZE || (page & (page - 1))) {
		fprintf(stderr, "libpercpu: page size %zu not supported (a power of two from %d "
			"to %d)\n", page, PCPU_MIN_PAGE_SIZE, PCPU_MAX_PAGE_SIZE);
		errno = ENOTSUP;
		return -1;
	}
	*out = page;
	return 0;
}

/* The three size settings (see libpercpu(3)). */
static int read_size_settings(struct pcpu_layout_params *params)
{
	const char *atom = "LIBPERCPU_ATOM_SIZE";

	if (env_size("LIBPERCPU_RESERVED_SIZE", PCPU_MAX_REGION_SIZE, &params->reserved_size) ||
	    env_size("LIBPERCPU_DYN_SIZE", PCPU_MAX_REGION_SIZE, &params->dyn_size) ||
	    env_size(atom, PCPU_MAX_ATOM_SIZE, &params->atom_size))
		return -1;
	if (params->atom_size < params->page_size || params->atom_size > PCPU_MAX_ATOM_SIZE ||
	    (params->atom_size & (params->atom_size - 1)))
		return bad_setting(atom, secure_getenv(atom), "not a power of two from %zu to %zuM "
				   "(at least the page size)", params->page_size,
				   PCPU_MAX_ATOM_SIZE >> 20);
	params->reserved_size = (params->reserved_size + 3) & ~(size_t)3;
	return 0;
}

static int read_topology(void)
{
	const char *spec = secure_getenv("LIBPERCPU_TOPOLOGY");
	struct pcpu_topology real;
	char err[256];

	if (_pcpu_topology_read_sysfs(&real, "/sys/devices/system") != 0) {
		long n = sysconf(_SC_NPROCESSORS_CONF);
		char fallback[32];

		snprintf(fallback, sizeof(fallback), "0-%ld", n > 0 ? n - 1 : 0);
		if (_pcpu_topology_from_spec(&real, fallback, err, sizeof(err)) != 0)
			return -1;
		real.simulated = false;
	}
	if (!spec || !*spec) {
		pcpu.topo = real;
		return 0;
	}
	if (_pcpu_topology_from_spec(&pcpu.topo, spec, err, sizeof(err)) != 0) {
		fprintf(stderr, "libpercpu: LIBPERCPU_TOPOLOGY=%s: %s\n", spec, err);
		_pcpu_topology_free(&real);
		errno = EINVAL;
		return -1;
	}
	/* a simulated topology must give every real CPU a unit */
	for (unsigned int cpu = 0; cpu < real.nr_cpu_ids; cpu++) {
		if (_pcpu_topology_test(real.possible, cpu) &&
		    (cpu >= pcpu.topo.nr_cpu_ids || !_pcpu_topology_test(pcpu.topo.possible, cpu))) {
			fprintf(stderr, "libpercpu: LIBPERCPU_TOPOLOGY=%s lacks CPU %u of this "
				"machine\n", spec, cpu);
			_pcpu_topology_free(&real);
			_pcpu_topology_free(&pcpu.topo);
			errno = EINVAL;
			return -1;
		}
	}
	_pcpu_topology_free(&real);
	return 0;
}

static int setup_units(void)
{
	const struct pcpu_alloc_info *ai = pcpu.ai;

	pcpu.unit_size = ai->unit_size;
	pcpu.unit_pages = (int)(ai->unit_size / pcpu.page_size);
	pcpu.chunk_bytes = (size_t)ai->nr_units * ai->unit_size;
	if ((pcpu.chunk_bytes & (pcpu.chunk_bytes - 1)) == 0)
		pcpu.chunk_shift = __builtin_ctzl(pcpu.chunk_bytes);
	pcpu.unit_offsets = calloc(pcpu.topo.nr_cpu_ids, sizeof(*pcpu.unit_offsets));
	pcpu.used_unit_base = calloc((size_t)ai->nr_units, sizeof(*pcpu.used_unit_base));
	if (!pcpu.unit_offsets || !pcpu.used_unit_base)
		return -1;
	/* An impossible CPU's copy is a non-canonical address: using it faults at once
	 * instead of aliasing another CPU's copy (pcpu_ptr's fast path checks only the
	 * range of the CPU number; its slow path reports the CPU by name). */
	for (unsigned int cpu = 0; cpu < pcpu.topo.nr_cpu_ids; cpu++)
		pcpu.unit_offsets[cpu] = (ptrdiff_t)1 << 62;
	_pcpu_alloc_info_unit_offsets(ai, pcpu.unit_offsets);
	pcpu.nr_used = 0;
	for (int g = 0; g < ai->nr_groups; g++)
		for (int u = 0; u < ai->groups[g].nr_units; u++)
			if (ai->groups[g].cpu_map[u] != PCPU_NO_CPU)
				pcpu.used_unit_base[pcpu.nr_used++] =
					(ptrdiff_t)(ai->groups[g].base_offset + (size_t)u * ai->unit_size);
	return 0;
}

/* Without a roomy address (no /proc): lets the kernel place a larger reservation, as
 * large as the address space allows up to PCPU_ARENA_PROBE_BYTES, and keeps only its
 * first chunk.  The rest is free again, so the arena can grow into it until the
 * process's own mappings, placed top-down, come down to it. */
static char *arena_probe(void)
{
	for (size_t span = PCPU_ARENA_PROBE_BYTES; span >= pcpu.chunk_bytes; span /= 2) {
		size_t chunks = span / pcpu.chunk_bytes;
		char *p = _pcpu_vm->reserve(chunks * pcpu.chunk_bytes, pcpu.ai->atom_size);

		if (p) {
			if (chunks > 1)
				_pcpu_vm->release(p + pcpu.chunk_bytes, (chunks - 1) * pcpu.chunk_bytes);
			return p;
		}
	}
	return NULL;
}

/* Reserves the arena for the first chunk alone, where it has room to grow upward in
 * place (arena_grow). */
static int setup_arena(void)
{
	size_t limit = PCPU_ARENA_MAX_BYTES / pcpu.chunk_bytes;
	char *hint = _pcpu_vm->roomy_address(pcpu.ai->atom_size);

	if (hint && _pcpu_vm->reserve_at(hint, pcpu.chunk_bytes) == 0)
		pcpu.arena = hint;
	else
		pcpu.arena = arena_probe();
	if (!pcpu.arena) {
		errno = ENOMEM;
		return -1;
	}
	pcpu.arena_bytes = pcpu.chunk_bytes;
	pcpu.max_chunks = 1;
	pcpu.arena_limit_chunks = limit > PCPU_ARENA_MAX_CHUNKS ? PCPU_ARENA_MAX_CHUNKS :
				  limit < 1 ? 1 : (int)limit;
	pcpu.chunks_cap = 16;
	pcpu.chunks = calloc((size_t)pcpu.chunks_cap, sizeof(*pcpu.chunks));
	return pcpu.chunks ? 0 : -1;
}

/* One of the two chunk structures over the first chunk's memory, covering
 * [start, start + bytes) of each unit: its base is the page below start. */
static struct pcpu_chunk *first_chunk_part(size_t start, size_t bytes)
{
	struct pcpu_chunk *c = calloc(1, sizeof(*c));
	size_t aligned = start & ~(size_t)(pcpu.page_size - 1), head = start - aligned;
	size_t region = (head + bytes + pcpu.page_size - 1) & ~(size_t)(pcpu.page_size - 1);

	if (!c)
		return NULL;
	list_init(&c->list);
	c->slot = -1;
	c->index = 0;
	c->immutable = true;
	c->base = pcpu.arena + aligned;
	if (_pcpu_chunk_map_init(&c->map, region, pcpu.page_size, (int)head,
				(int)(region - head - bytes)) != 0) {
		free(c);
		return NULL;
	}
	_pcpu_chunk_mark_populated(&c->map, 0, c->map.nr_pages);
	return c;
}

static int setup_first_chunk(void)
{
	const struct pcpu_alloc_info *ai = pcpu.ai;
	size_t size_sum = ai->static_size + ai->reserved_size + ai->dyn_size;
	size_t static_aligned = (ai->static_size + PCPU_MIN_ALLOC_SIZE - 1) &
				~(size_t)(PCPU_MIN_ALLOC_SIZE - 1);

	/* Huge pages make whole units resident, the unused tail of each unit (past the
	 * dynamic region) included, where the kernel frees each unit's tail: they are used
	 * only when that tail is at most a sixth of what is used, so that the first chunk
	 * costs at most 1.2 times what it holds.  Never in cid mode, where a unit is
	 * resident only once its ID writes it (index.c). */
	pcpu.use_huge_first_chunk = ai->atom_size > pcpu.page_size && !pcpu_index_cid() &&
				    size_sum * (size_t)pcpu.nr_used * 6 >= pcpu.chunk_bytes * 5;
	if (_pcpu_vm->commit(pcpu.arena, pcpu.chunk_bytes, pcpu.use_huge_first_chunk) != 0)
		return -1;
	chunk_bind(pcpu.arena);
	for (int u = 0; u < pcpu.nr_used && !pcpu_index_cid(); u++)
		if (_pcpu_vm->populate(pcpu.arena + pcpu.used_unit_base[u], size_sum) != 0)
			return -1;

	pcpu.static_size = static_aligned;
	pcpu.reserved_size = ai->reserved_size;
	pcpu.dyn_size = ai->dyn_size - (static_aligned - ai->static_size);
	if (pcpu.reserved_size) {
		pcpu.reserved_chunk = first_chunk_part(static_aligned, pcpu.reserved_size);
		if (!pcpu.reserved_chunk)
			return -1;
	}
	pcpu.first_chunk = first_chunk_part(static_aligned + pcpu.reserved_size, pcpu.dyn_size);
	if (!pcpu.first_chunk)
		return -1;
	pcpu.chunks[0] = pcpu.first_chunk;
	pcpu.chunk_hwm = 1;
	pcpu.nr_chunks = 1;
	pcpu.stats.nr_chunks = pcpu.stats.nr_max_chunks = 1;

	pcpu.free_slot = size_to_slot_raw(pcpu.unit_size) + 1;
	pcpu.to_depopulate_slot = pcpu.free_slot + 1;
	pcpu.sidelined_slot = pcpu.to_depopulate_slot + 1;
	pcpu.nr_slots = pcpu.sidelined_slot + 1;
	if (pcpu.nr_slots > 64) { /* unit sizes up to 2^65 bytes: cannot happen */
		errno = EINVAL;
		return -1;
	}
	pcpu.slots = calloc((size_t)pcpu.nr_slots, sizeof(*pcpu.slots));
	if (!pcpu.slots)
		return -1;
	for (int i = 0; i < pcpu.nr_slots; i++)
		list_init(&pcpu.slots[i]);
	pcpu.nr_empty_pop_pages = pcpu.first_chunk->map.nr_empty_pop_pages;
	pcpu_san_poison_area(pcpu.arena, static_aligned, pcpu.reserved_size + pcpu.dyn_size);
	chunk_relocate(pcpu.first_chunk, -1);
	_pcpu_sections_place_first(pcpu.arena);
	return 0;
}

static void atfork_prepare(void)
{
	_pcpu_sections_lock();
	pthread_mutex_lock(&pcpu.alloc_mutex);
	pthread_mutex_lock(&pcpu.lock);
}

static void atfork_release(void)
{
	pthread_mutex_unlock(&pcpu.lock);
	pthread_mutex_unlock(&pcpu.alloc_mutex);
	_pcpu_sections_unlock();
}

/* Registered when the library is loaded, before any of its locks can be taken, so that
 * a fork() at any moment (registration, initialization, allocation) finds them free in
 * the child. */
__attribute__((constructor(101))) static void register_atfork(void)
{
	pthread_atfork(atfork_prepare, atfork_release, atfork_release);
}

static int do_init(void)
{
	struct pcpu_layout_params params = {
		.reserved_size = PCPU_MODULE_RESERVE,
		.dyn_size = PCPU_DYNAMIC_RESERVE,
	};
	const char *debug = secure_getenv("LIBPERCPU_DEBUG");
	bool use_rseq;

	/* held throughout: a fork() waits for initialization to finish (atfork_prepare) */
	_pcpu_sections_lock();
	pcpu.debug = debug && *debug && strcmp(debug, "0") != 0;
	if (read_page_size(&params.page_size)) {
		int saved = errno;
		_pcpu_sections_unlock();
		errno = saved;
		return -1;
	}
	pcpu.page_size = params.page_size; /* before the sections' layout, which aligns to it */
	use_rseq = _pcpu_cpu_init(); /* before the index mode, which depends on it */
	params.atom_size = _pcpu_vm_thp_available() ? (2u << 20) : params.page_size;
	if (read_size_settings(&params) || pcpu_stats_read_setting() || read_topology() ||
	    pcpu_index_choose()) {
		int saved = errno;
		_pcpu_sections_unlock();
		errno = saved;
		return -1;
	}
	params.static_size = _pcpu_sections_layout();
	pcpu.ai = _pcpu_build_alloc_info(&pcpu.topo, &params);
	if (pcpu.ai && pcpu.ai->unit_size > PCPU_CHUNK_MAX_UNIT_BYTES) {
		/* only static sections of hundreds of MiB get here past the limits */
		fprintf(stderr, "libpercpu: a unit of %zu bytes per CPU (static %zu, reserved %zu, "
			"dynamic %zu, atom %zu) is more than the limit of %zuM\n",
			pcpu.ai->unit_size, params.static_size, params.reserved_size,
			params.dyn_size, params.atom_size, PCPU_CHUNK_MAX_UNIT_BYTES >> 20);
		_pcpu_free_alloc_info(pcpu.ai);
		pcpu.ai = NULL;
		_pcpu_sections_unlock();
		errno = EINVAL;
		return -1;
	}
	if (!pcpu.ai)
		fprintf(stderr, "libpercpu: no first-chunk layout for static %zu reserved %zu "
			"dynamic %zu atom %zu: %s\n", params.static_size, params.reserved_size,
			params.dyn_size, params.atom_size, strerror(errno));
	if (!pcpu.ai || setup_units() || setup_arena() || setup_first_chunk()) {
		int saved = errno ? errno : ENOMEM;

		if (pcpu.ai) /* the layout's own failure is reported above */
			fprintf(stderr, "libpercpu: cannot set up the first chunk (unit %zu bytes, "
				"%d units): %s\n", pcpu.ai->unit_size, pcpu.ai->nr_units,
				strerror(saved));
		_pcpu_sections_unlock();
		errno = saved;
		return -1;
	}
	pcpu.stats.unit_size = pcpu.unit_size;
	pcpu.stats.static_size = pcpu.static_size;
	pcpu.stats.reserved_size = pcpu.reserved_size;
	pcpu.stats.dyn_size = pcpu.dyn_size;
	pcpu.stats.atom_size = pcpu.ai->atom_size;
	pcpu.stats.page_size = pcpu.page_size;
	pcpu.stats.nr_units = (unsigned int)pcpu.ai->nr_units;
	pcpu.stats.nr_groups = (unsigned int)pcpu.ai->nr_groups;
	pcpu.stats.max_chunks = (unsigned int)pcpu.arena_limit_chunks;

	__pcpu_fast.arena_base = (uintptr_t)pcpu.arena;
	__atomic_store_n(&__pcpu_fast.arena_size, pcpu.arena_bytes, __ATOMIC_RELAXED);
	__pcpu_fast.unit_offsets = pcpu.unit_offsets;
	pcpu_cpu_set_index(pcpu_index_cid());
	__atomic_store_n(&__pcpu_fast.nr_cpu_ids, pcpu.topo.nr_cpu_ids, __ATOMIC_RELEASE);
	__atomic_store_n(&__pcpu_fast.rseq_index_bound, use_rseq ? pcpu.topo.nr_cpu_ids : 0,
			 __ATOMIC_RELEASE);
	pcpu_anchor_init();
	pcpu_stats_arm_exit();
	__atomic_store_n(&pcpu.initialized, true, __ATOMIC_RELEASE);
	_pcpu_sections_unlock();
	return 0;
}

/* Set while this thread runs the initialization: a call that comes back into it from
 * the same thread (a signal handler that interrupted it) would wait in pthread_once()
 * for itself forever; it is reported instead. */
static __thread bool initializing_here __attribute__((tls_model("initial-exec")));

static void init_once(void)
{
	initializing_here = true;
	errno = 0;
	if (do_init() != 0)
		pcpu.init_errno = errno ? errno : ENOMEM;
	initializing_here = false;
}

int _pcpu_ensure_init(void)
{
	if (__builtin_expect(__atomic_load_n(&pcpu.initialized, __ATOMIC_ACQUIRE), 1))
		return 0;
	if (initializing_here)
		_pcpu_fatal("pcpu_init", "called again by the thread that is initializing the library, "
			   "from a signal handler: initialize first (pcpu_init()), then install "
			   "handlers that use it");
	pthread_once(&init_once_control, init_once);
	if (!__atomic_load_n(&pcpu.initialized, __ATOMIC_ACQUIRE)) {
		errno = pcpu.init_errno;
		return -1;
	}
	return 0;
}

int pcpu_init(void)
{
	return _pcpu_ensure_init();
}
