/* SPDX-License-Identifier: MIT */
/* chunk_vm.h - a chunk and its memory (chunk_vm.c): the structure the allocator keeps
 * per chunk, and the calls that make, bind, populate and free its mappings. */
#ifndef PCPU_SRC_CHUNK_VM_H
#define PCPU_SRC_CHUNK_VM_H

#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "list.h"

/* A chunk: one reservation in the arena holding every unit, plus its allocation map.
 * The first chunk's address range is shared by the reserved chunk (its map covers the
 * reserved region) and the first dynamic chunk (its map covers the dynamic region).
 * CONTEXT: the map, list, slot and isolated change under pcpu_lock (alloc.c); the map's
 * populated bits change under alloc_mutex too (so alloc_mutex alone may read them). */
struct pcpu_chunk {
	struct pcpu_list list;      /* on a slot list (first member: see chunk_of) */
	struct pcpu_chunk_map map;
	char *base;                 /* map offset 0 of the unit at offset 0; fixed */
	uintptr_t map_lo, map_span; /* fixed: the addresses of the unit at offset 0 that its
				     * map shows, [map_lo, map_lo + map_span) */
	void *meta;                 /* dynamic chunks: the mapping holding the maps; fixed */
	unsigned long *dirty;       /* nr_pages bits (pcpu_lock): an area of the page was
				     * freed since it was populated, so its free bytes may
				     * not be zero; made with the chunk */
	unsigned long *cached;      /* map_bits bits (pcpu_lock): the area starting at this
				     * bit waits in alloc.c's cache */
	int nr_cached;              /* pcpu_lock: areas of it in the cache (allocated in its
				     * map, freed by their user: percpu_stats' nr_alloc
				     * leaves them out) */
	int index;                  /* arena slot; fixed */
	int slot;                   /* allocator slot list it is on, -1 if none */
	bool isolated;              /* off the slot lists, awaiting depopulation */
	bool immutable;             /* first chunk or reserved chunk: never destroyed */
	size_t max_alloc_size;      /* largest allocation ever made in it (percpu_stats) */
};

/* Each needs the geometry and nothing of the allocator's state; the caller serializes
 * (alloc.c holds alloc_mutex). */
void _pcpu_chunk_vm_bind(char *area) PCPU_HIDDEN;
struct pcpu_chunk *_pcpu_chunk_vm_create(int index) PCPU_HIDDEN;  /* NULL, ENOMEM */
void _pcpu_chunk_vm_free(struct pcpu_chunk *c) PCPU_HIDDEN;       /* after decommit */
int _pcpu_chunk_vm_first_commit(bool *huge_pages) PCPU_HIDDEN;     /* 0, -1 errno */
struct pcpu_chunk *_pcpu_chunk_vm_first_part(size_t start, size_t bytes) PCPU_HIDDEN;
int _pcpu_chunk_vm_populate(struct pcpu_chunk *c, int rs, int re) PCPU_HIDDEN; /* 0, -1 errno */
/* 0, or -1 if a unit refused (its pages may keep their bytes: mlock()ed memory) */
int _pcpu_chunk_vm_depopulate(struct pcpu_chunk *c, int rs, int re) PCPU_HIDDEN;
void _pcpu_chunk_vm_zero(char *ptr, size_t size) PCPU_HIDDEN; /* a new object, every unit */

/* Zeroes @size bytes at @p, a multiple of PCPU_MIN_ALLOC_SIZE (4) up to
 * PCPU_ZERO_SMALL_MAX, with at most four stores: overlapping ones cover the sizes
 * between their multiples.  Inline: alloc.c zeroes a small object's copies with it on its
 * cache path, without a call. */
#define PCPU_ZERO_SMALL_MAX 64
static inline void _pcpu_chunk_zero_small(char *p, size_t size)
{
	static const uint64_t z[2];

	if (size < 8) {
		memcpy(p, z, 4);
	} else if (size <= 16) {
		memcpy(p, z, 8);
		memcpy(p + size - 8, z, 8);
	} else if (size <= 32) {
		memcpy(p, z, 16);
		memcpy(p + size - 16, z, 16);
	} else { /* the first 32 bytes and the last 32: all of up to 64 */
		memcpy(p, z, 16);
		memcpy(p + 16, z, 16);
		memcpy(p + size - 32, z, 16);
		memcpy(p + size - 16, z, 16);
	}
}
extern bool _pcpu_bind_simulated_nodes PCPU_HIDDEN;   /* test hook: bind simulated nodes */

#endif
