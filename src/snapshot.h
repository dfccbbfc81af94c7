/* SPDX-License-Identifier: MIT */
/* snapshot.h - a copy of the allocator's state (statistics and every chunk's maps) taken
 * in one consistent moment, and what is computed and printed from it: the kernel's
 * percpu_stats, per chunk too.  The copy comes from this process (stats.c, under the
 * allocator lock) or from another one (percpu-info --pid, through the anchor); printing
 * and the per-chunk figures are the same pure code for both. */
#ifndef PCPU_SRC_SNAPSHOT_H
#define PCPU_SRC_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "percpu.h"
#include "chunk.h"

enum pcpu_snap_kind { PCPU_SNAP_RESERVED, PCPU_SNAP_FIRST, PCPU_SNAP_DYNAMIC };
enum pcpu_snap_list { PCPU_SNAP_LISTED, PCPU_SNAP_TO_DEPOPULATE, PCPU_SNAP_SIDELINED };

struct pcpu_snap_chunk {
	int index;                 /* arena slot (0 for the first and the reserved chunk) */
	int slot;                  /* slot list it was on, -1 if none */
	enum pcpu_snap_kind kind;
	enum pcpu_snap_list list;
	size_t unit_start;         /* unit offset of the map's byte 0 */
	size_t max_alloc_size;     /* largest allocation ever made in it */
	int nr_cached;             /* of the areas its map holds, those freed into the
				    * allocator's cache (pcpu_alloc(3)): not counted as live */
	struct pcpu_chunk_map map; /* the pointers point into meta, the snapshot's copy */
};

struct pcpu_snapshot {
	struct pcpu_stats st;
	size_t alloc_size;         /* the layout's allocation size (pcpu-alloc) */
	int nr_chunks;
	struct pcpu_snap_chunk *chunks; /* the kernel's order: reserved, then by slot */
};

/* The kernel's per-chunk percpu_stats figures. */
struct pcpu_chunk_stats {
	long nr_alloc, max_alloc_size, empty_pop_pages, first_bit, free_bytes, contig_bytes;
	long sum_frag, max_frag, cur_min_alloc, cur_med_alloc, cur_max_alloc;
};

/* Copies the map @m into @dst, its maps pointing into @meta, the caller's copy of the
 * _pcpu_snap_map_meta_bytes(@m) bytes at m->meta.  -1 if @m's geometry or pointers do not
 * hold together (a map read from another process is not trusted), else 0. */
int _pcpu_snap_map_rebase(struct pcpu_chunk_map *dst, const struct pcpu_chunk_map *m,
			  void *meta) __attribute__((visibility("hidden")));
/* Bytes of a map's meta block, 0 if its geometry is not one a map can have. */
size_t _pcpu_snap_map_meta_bytes(const struct pcpu_chunk_map *m)
	__attribute__((visibility("hidden")));
/* Sorts chunks in the kernel's order of percpu_stats: the reserved chunk, then by slot
 * list, then by arena slot. */
void _pcpu_snap_sort(struct pcpu_snapshot *s) __attribute__((visibility("hidden")));
/* Computes one chunk's figures, as the kernel's percpu_stats does.  0, or -1 with ENOMEM. */
int _pcpu_snap_chunk_stats(const struct pcpu_snap_chunk *c, struct pcpu_chunk_stats *out)
	__attribute__((visibility("hidden")));
/* Prints @s in the format of /sys/kernel/debug/percpu_stats, "Per Chunk Stats:" included. */
int _pcpu_snap_print(FILE *out, const struct pcpu_snapshot *s) __attribute__((visibility("hidden")));
/* Fills the totals of s->st that sum over chunks (populated pages, free bytes, the
 * reserved region's free bytes) from the chunks' maps. */
void _pcpu_snap_totals(struct pcpu_snapshot *s) __attribute__((visibility("hidden")));
void _pcpu_snap_free(struct pcpu_snapshot *s) __attribute__((visibility("hidden")));

#endif
