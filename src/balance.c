/* SPDX-License-Identifier: MIT */
/* balance.c - the allocator's balance work (the kernel's pcpu_balance_workfn), split
 * from alloc.c: free surplus entirely free chunks, give back the empty pages of chunks
 * that have many, keep the pool of empty populated pages for atomic allocations between
 * its bounds, and decide when the reserve kept for reuse has been idle long enough to
 * trim.  No thread runs it: alloc.c calls it on the slow paths of alloc and free, and
 * pcpu_balance() calls it to give everything kept for reuse back.  alloc_mutex held,
 * pcpu_lock taken inside; the design is alloc.c's top comment. */
#include "alloc_internal.h"
#include "vm.h"

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
		if (!empty_only && c->map.nr_populated && _pcpu_alloc_reserve_keeps_chunks(high) &&
		    pa->nr_empty_pop_pages <= high)
			continue;
		if (!empty_only || c->map.nr_populated == 0) {
			pa->nr_empty_pop_pages -= c->map.nr_empty_pop_pages;
			_pcpu_alloc_chunk_unlink(c);
			list_add_tail(&c->list, &doomed);
		}
	}
	unlock();

	while (!list_empty(&doomed)) {
		struct pcpu_chunk *c = chunk_of(doomed.next);

		list_del_init(&c->list);
		_pcpu_alloc_chunk_destroy(c);
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
			_pcpu_alloc_chunk_depopulate(c, i + 1, end + 1);
			lock();
			_pcpu_chunk_mark_depopulated(&c->map, i + 1, end + 1);
			_pcpu_alloc_dirty_set(c, i + 1, end + 1, false);
			_pcpu_alloc_debug_verify(c, "depopulate");
			end = -1;
		}
		if (reintegrate || c->map.free_bytes == (int)_pcpu_geo->unit_size)
			_pcpu_alloc_chunk_reintegrate(c);
		else
			_pcpu_alloc_chunk_move(c, pa->sidelined_slot, false);
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
	for (int slot = _pcpu_alloc_size_to_slot(_pcpu_geo->page_size); slot <= pa->free_slot && nr_to_pop > 0;
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
			ret = _pcpu_alloc_chunk_populate(c, rs, rs + nr);
			lock();
			if (ret != 0) {
				nr_to_pop = 0;
				break;
			}
			before = c->map.nr_empty_pop_pages;
			_pcpu_chunk_mark_populated(&c->map, rs, rs + nr);
			_pcpu_alloc_dirty_set(c, rs, rs + nr, false);
			_pcpu_alloc_account_empty(c, before);
			nr_to_pop -= nr;
			re = rs + nr;
		}
	}
	unlock();
	/* every chunk is fully populated: make a new one, as the kernel does */
	if (nr_to_pop > 0 && tries++ == 0 && _pcpu_alloc_chunk_create(true))
		goto retry;
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
		if (_pcpu_alloc_should_reclaim(chunk_of(pos), high))
			_pcpu_alloc_chunk_isolate(chunk_of(pos));
	}
	for (int i = 1; trim && _pcpu_alloc_reserve_keeps_chunks(pa->reserve_pages) && i < pa->chunk_hwm; i++) {
		struct pcpu_chunk *c = pa->chunks[i];

		if (c && !c->isolated && _pcpu_alloc_should_reclaim(c, high))
			_pcpu_alloc_chunk_isolate(c);
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
		_pcpu_cache_drain();
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

void _pcpu_alloc_balance_run(bool trim)
{
	lock_alloc_mutex();
	balance_locked(trim);
	unlock_alloc_mutex();
}

/* pcpu_balance(): everything kept for reuse goes back. */
void _pcpu_alloc_balance(void)
{
	_pcpu_alloc_balance_run(true);
}

/* The allocator call that counted down to zero (reserve_idle(), lock held) reads the
 * clock.  If nothing entered or left the pool or the cache for PCPU_RESERVE_IDLE_MS and
 * the pool holds more than the kernel's, the reserve is idle: true, and the balance work
 * that the caller runs trims it. */
bool _pcpu_alloc_reserve_check(void)
{
	uint64_t now;

	ASSERT_LOCKED();
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
