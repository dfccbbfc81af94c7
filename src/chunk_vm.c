/* SPDX-License-Identifier: MIT */
/* chunk_vm.c - a chunk's memory, the kernel's percpu-vm.c: makes a chunk (its range of
 * the arena committed, its maps in a mapping of their own), binds each group's units to
 * their node, populates and depopulates page ranges in every used unit, and frees it.
 * Reads the geometry, calls vm.c, and touches none of the allocator's state: alloc.c
 * decides when, and serializes the calls under alloc_mutex. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chunk_vm.h"
#include "vm.h"

/* Tests set this to see binding on a simulated topology through a fake backend. */
bool _pcpu_bind_simulated_nodes;

static bool topology_is_real_numa(void)
{
	const struct pcpu_topology *topo = &_pcpu_geo->topo;

	return (!topo->simulated || _pcpu_bind_simulated_nodes) && topo->nr_nodes > 1;
}

/* Binds each group's units in [area, area + chunk_bytes) to the node of its CPUs. */
void _pcpu_chunk_vm_bind(char *area)
{
	const struct pcpu_geometry *g = _pcpu_geo;

	if (!topology_is_real_numa())
		return;
	for (int i = 0; i < g->ai->nr_groups; i++) {
		const struct pcpu_group_info *gi = &g->ai->groups[i];
		int node = g->topo.cpu_to_node[gi->cpu_map[0]];

		/* A failed bind costs locality, not correctness: ignore it. */
		(void)_pcpu_vm->bind(area + gi->base_offset, (size_t)gi->nr_units * g->unit_size,
				     node);
	}
}

int _pcpu_chunk_vm_populate(struct pcpu_chunk *c, int rs, int re)
{
	const struct pcpu_geometry *g = _pcpu_geo;
	size_t off = (size_t)rs * g->page_size, len = (size_t)(re - rs) * g->page_size;

	/* cid mode: an ID's pages fault in when it first writes them (index.c) */
	for (int u = 0; u < g->nr_used && !_pcpu_index_cid(); u++) {
		if (_pcpu_vm->populate(c->base + g->used_unit_base[u] + off, len) != 0) {
			int saved = errno;
			while (u-- > 0)
				(void)_pcpu_vm->depopulate(c->base + g->used_unit_base[u] + off, len);
			errno = saved == 0 ? ENOMEM : saved;
			return -1;
		}
	}
	return 0;
}

int _pcpu_chunk_vm_depopulate(struct pcpu_chunk *c, int rs, int re)
{
	const struct pcpu_geometry *g = _pcpu_geo;
	size_t off = (size_t)rs * g->page_size, len = (size_t)(re - rs) * g->page_size;
	int ret = 0;

	for (int u = 0; u < g->nr_used; u++)
		if (_pcpu_vm->depopulate(c->base + g->used_unit_base[u] + off, len) != 0)
			ret = -1;
	return ret;
}

static unsigned long *page_bits(int nr_pages)
{
	const int bpl = (int)(sizeof(long) * 8);

	return calloc((size_t)(nr_pages + bpl - 1) / (size_t)bpl, sizeof(long));
}

static bool all_zero(const char *p, size_t size)
{
	return p[0] == 0 && memcmp(p, p + 1, size - 1) == 0;
}

/* Zeroes a new object's copy in every unit.  In cid mode only the copies that are not
 * zero already: reading an ID's untouched page maps the zero page, writing it would
 * make it resident (index.c). */
void _pcpu_chunk_vm_zero(char *ptr, size_t size)
{
	const struct pcpu_geometry *g = _pcpu_geo;
	bool cid = _pcpu_index_cid();

	if (!cid && size <= PCPU_ZERO_SMALL_MAX) { /* small objects: stores, not memset calls */
		for (int u = 0; u < g->nr_used; u++)
			_pcpu_chunk_zero_small(ptr + g->used_unit_base[u], size);
		return;
	}
	for (int u = 0; u < g->nr_used; u++) {
		char *copy = ptr + g->used_unit_base[u];

		if (!cid || !all_zero(copy, size))
			memset(copy, 0, size);
	}
}

static size_t meta_bytes(void)
{
	size_t page = _pcpu_geo->page_size;

	return (_pcpu_chunk_map_meta_bytes(_pcpu_geo->unit_size, page) + page - 1) &
	       ~(size_t)(page - 1);
}

/* The range chunk_lookup() (alloc_internal.h) accepts in @c: the part of its first unit
 * that its map shows, past the hidden areas. */
static void set_lookup_range(struct pcpu_chunk *c)
{
	c->map_lo = (uintptr_t)c->base + (uintptr_t)c->map.start_offset;
	c->map_span = (uintptr_t)c->map.map_bits * PCPU_MIN_ALLOC_SIZE -
		      (uintptr_t)c->map.end_offset - (uintptr_t)c->map.start_offset;
}

/* A dynamic chunk in arena slot @index (already reserved), on no list, all free and
 * unpopulated. */
struct pcpu_chunk *_pcpu_chunk_vm_create(int index)
{
	const struct pcpu_geometry *g = _pcpu_geo;
	struct pcpu_chunk *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	list_init(&c->list);
	c->slot = -1;
	c->index = index;
	c->base = g->arena + (size_t)index * g->chunk_bytes;
	/* the maps get a mapping of their own: they go back to the system with the
	 * chunk instead of staying in malloc's heap */
	c->meta = _pcpu_vm->reserve(meta_bytes(), g->page_size);
	if (!c->meta)
		goto out_free;
	if (_pcpu_vm->commit(c->meta, meta_bytes(), false) != 0 ||
	    _pcpu_chunk_map_init_mem(&c->map, g->unit_size, g->page_size, 0, 0, c->meta) != 0)
		goto out_meta;
	/* the allocator's maps, made now: its free path, which signal handlers may run
	 * once the library is initialized, then allocates nothing */
	c->dirty = page_bits(c->map.nr_pages);
	c->cached = page_bits(c->map.map_bits);
	if (!c->dirty || !c->cached || _pcpu_vm->commit(c->base, g->chunk_bytes, false) != 0)
		goto out_map;
	_pcpu_chunk_vm_bind(c->base);
	set_lookup_range(c);
	return c;

out_map:
	free(c->dirty);
	free(c->cached);
	_pcpu_chunk_map_destroy(&c->map);
out_meta:
	_pcpu_vm->release(c->meta, meta_bytes());
out_free:
	free(c);
	errno = ENOMEM;
	return NULL;
}

/* Frees @c's maps and structure; its range of the arena is the caller's (decommitted). */
void _pcpu_chunk_vm_free(struct pcpu_chunk *c)
{
	_pcpu_chunk_map_destroy(&c->map);
	_pcpu_vm->release(c->meta, meta_bytes());
	free(c->dirty);
	free(c->cached);
	free(c);
}

/* One of the two chunk structures over the first chunk's memory, covering
 * [start, start + bytes) of each unit: its base is the page below start. */
struct pcpu_chunk *_pcpu_chunk_vm_first_part(size_t start, size_t bytes)
{
	size_t page = _pcpu_geo->page_size;
	struct pcpu_chunk *c = calloc(1, sizeof(*c));
	size_t aligned = start & ~(size_t)(page - 1), head = start - aligned;
	size_t region = (head + bytes + page - 1) & ~(size_t)(page - 1);

	if (!c)
		return NULL;
	list_init(&c->list);
	c->slot = -1;
	c->index = 0;
	c->immutable = true;
	c->base = _pcpu_geo->arena + aligned;
	if (_pcpu_chunk_map_init(&c->map, region, page, (int)head,
				 (int)(region - head - bytes)) != 0) {
		free(c);
		return NULL;
	}
	c->dirty = page_bits(c->map.nr_pages);
	c->cached = page_bits(c->map.map_bits);
	if (!c->dirty || !c->cached) {
		free(c->dirty);
		free(c->cached);
		_pcpu_chunk_map_destroy(&c->map);
		free(c);
		return NULL;
	}
	_pcpu_chunk_mark_populated(&c->map, 0, c->map.nr_pages);
	set_lookup_range(c);
	return c;
}

/* Makes the first chunk's memory usable (init.c reserved it) and populates the part of
 * every used unit that its regions take: it is all in use from the start. */
int _pcpu_chunk_vm_first_commit(bool *huge_pages)
{
	const struct pcpu_geometry *g = _pcpu_geo;
	const struct pcpu_alloc_info *ai = g->ai;
	size_t size_sum = ai->static_size + ai->reserved_size + ai->dyn_size;
	/* Huge pages make whole units resident, the unused tail of each unit (past the
	 * dynamic region) included, where the kernel frees each unit's tail: they are used
	 * only when that tail is at most a sixth of what is used, so that the first chunk
	 * costs at most 1.2 times what it holds.  Never in cid mode, where a unit is
	 * resident only once its ID writes it (index.c). */
	bool huge = ai->atom_size > g->page_size && !_pcpu_index_cid() &&
		    size_sum * (size_t)g->nr_used * 6 >= g->chunk_bytes * 5;

	*huge_pages = huge;
	if (_pcpu_vm->commit(g->arena, g->chunk_bytes, huge) != 0)
		return -1;
	_pcpu_chunk_vm_bind(g->arena);
	for (int u = 0; u < g->nr_used && !_pcpu_index_cid(); u++)
		if (_pcpu_vm->populate(g->arena + g->used_unit_base[u], size_sum) != 0)
			return -1;
	return 0;
}
