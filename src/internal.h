/* SPDX-License-Identifier: MIT */
/* internal.h - state and functions shared by the library's files; never installed. */
#ifndef PCPU_SRC_INTERNAL_H
#define PCPU_SRC_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "percpu.h"
#include "chunk.h"
#include "layout.h"
#include "topology.h"

#define PCPU_HIDDEN __attribute__((visibility("hidden")))

#define PCPU_MODULE_RESERVE (8u << 10)     /* default reserved region, as the kernel's */
#define PCPU_DYNAMIC_RESERVE (28u << 10)   /* default first-chunk dynamic region */
/* Largest LIBPERCPU_RESERVED_SIZE and LIBPERCPU_DYN_SIZE: both regions are populated in
 * every CPU's unit at start-up, so 64 MiB already costs 4 GiB of memory on 64 CPUs,
 * and the unit (static + reserved + dynamic) must stay within the chunk map's
 * PCPU_CHUNK_MAX_UNIT_BYTES whatever the static sections add. */
#define PCPU_MAX_REGION_SIZE ((size_t)64 << 20)
#define PCPU_MAX_ATOM_SIZE ((size_t)1 << 30) /* largest LIBPERCPU_ATOM_SIZE */
/* The arena grows to at most this much address space, and this many chunks. */
#define PCPU_ARENA_MAX_BYTES ((size_t)1 << 40)
#define PCPU_ARENA_MAX_CHUNKS (1 << 20)
#define PCPU_ARENA_PROBE_BYTES ((size_t)64 << 30) /* room kept above it without /proc */
#define PCPU_EMPTY_POP_PAGES_LOW 2
#define PCPU_EMPTY_POP_PAGES_HIGH 4
#define PCPU_RECLAIM_BATCH 16 /* empty pages an isolated chunk gathers before reclaim */
#define PCPU_SLOT_BASE_SHIFT 5
#define PCPU_SLOT_FAIL_HINT 3

/* A chunk: one reservation in the arena holding every unit, plus its allocation map.
 * The first chunk's address range is shared by the reserved chunk (its map covers the
 * reserved region) and the first dynamic chunk (its map covers the dynamic region). */
struct pcpu_list {
	struct pcpu_list *prev, *next;
};

struct pcpu_chunk {
	struct pcpu_list list;      /* on a slot list (first member: see chunk_of) */
	struct pcpu_chunk_map map;
	char *base;                 /* map offset 0 of the unit at offset 0 */
	void *meta;                 /* dynamic chunks: the mapping holding the maps */
	int index;                  /* arena slot */
	int slot;                   /* allocator slot list it is on, -1 if none */
	bool isolated;              /* off the slot lists, awaiting depopulation */
	bool immutable;             /* first chunk or reserved chunk: never destroyed */
	size_t max_alloc_size;      /* largest allocation ever made in it (percpu_stats) */
};

/* Global allocator state (alloc.c).  pcpu.lock guards maps, slots and counters and is
 * never held across a system call; pcpu.alloc_mutex serializes the slow paths that
 * create chunks and populate or depopulate pages.  Order: alloc_mutex, then lock. */
struct pcpu_state {
	pthread_mutex_t alloc_mutex;
	pthread_mutex_t lock;
	bool initialized;
	int init_errno;

	struct pcpu_topology topo;
	struct pcpu_alloc_info *ai;
	ptrdiff_t *unit_offsets;     /* nr_cpu_ids entries */
	ptrdiff_t *used_unit_base;   /* offsets of the units that have a CPU, nr_used entries */
	int nr_used;
	size_t page_size;            /* the allocator's page (and bitmap block) size */
	size_t unit_size;
	size_t chunk_bytes;          /* nr_units * unit_size */
	int chunk_shift;             /* log2(chunk_bytes) if a power of two, else 0 */
	int unit_pages;

	char *arena;                 /* reserved address space for every chunk, fixed */
	size_t arena_bytes;          /* max_chunks * chunk_bytes; grows (under lock, with
				      * atomic stores: read it with atomic loads) */
	int max_chunks;              /* chunks the arena holds now */
	int arena_limit_chunks;      /* most chunks it may grow to */
	struct pcpu_chunk **chunks;  /* chunks_cap >= max_chunks entries, by arena slot */
	int chunks_cap;
	int chunk_hwm;               /* highest arena slot ever used + 1 */
	int nr_chunks;

	struct pcpu_chunk *first_chunk;
	struct pcpu_chunk *reserved_chunk;
	size_t static_size, reserved_size, dyn_size;

	int nr_slots, free_slot, to_depopulate_slot, sidelined_slot;
	struct pcpu_list *slots;     /* nr_slots circular lists of chunks, by contig hint */
	uint64_t slot_mask;          /* bit s set: slots[s] is not empty */

	int nr_empty_pop_pages;      /* over non-isolated, non-reserved chunks */
	bool balance_pending;

	struct pcpu_stats stats;     /* under lock, but for the two counts below */
	/* Counted outside the lock (population runs under alloc_mutex only): atomic
	 * updates and loads, kept out of stats so that copying stats under the lock races
	 * with nothing. */
	uint64_t nr_populate_calls, nr_depopulate_calls;
	bool debug;                  /* LIBPERCPU_DEBUG: verify maps after each change */
	bool use_huge_first_chunk;
};

extern struct pcpu_state pcpu PCPU_HIDDEN;
extern bool _pcpu_bind_simulated_nodes PCPU_HIDDEN; /* test hook: bind simulated nodes */

/* alloc.c */
int _pcpu_ensure_init(void) PCPU_HIDDEN;               /* 0, or -1 with errno */
void *_pcpu_alloc_internal(size_t size, size_t align, bool reserved, unsigned int gfp) PCPU_HIDDEN;
void _pcpu_free_internal(void *ptr, const char *caller) PCPU_HIDDEN;
__attribute__((noreturn, format(printf, 2, 3)))
void _pcpu_fatal(const char *call, const char *fmt, ...) PCPU_HIDDEN;

/* sections.c: the registry of static per-CPU sections.  Init calls
 * _pcpu_sections_lock(), _pcpu_sections_layout() to size the static region,
 * _pcpu_sections_place_first() once the first chunk is populated, then
 * _pcpu_sections_unlock(). */
void _pcpu_sections_lock(void) PCPU_HIDDEN;
void _pcpu_sections_unlock(void) PCPU_HIDDEN;
size_t _pcpu_sections_layout(void) PCPU_HIDDEN;
void _pcpu_sections_place_first(char *first_chunk_base) PCPU_HIDDEN;
void *_pcpu_sections_translate(const void *p) PCPU_HIDDEN;  /* canonical address or NULL */
unsigned int _pcpu_sections_count(void) PCPU_HIDDEN;

/* stats.c: LIBPERCPU_STATS, read with the other settings (0, or -1 with EINVAL and a
 * message), then armed once the library is set up (the statistics print at exit). */
int pcpu_stats_read_setting(void) PCPU_HIDDEN;
void pcpu_stats_arm_exit(void) PCPU_HIDDEN;
/* A snapshot of this process's allocator (snapshot.h), initializing the library first if
 * needed.  0, or -1 with errno (init's, or ENOMEM). */
struct pcpu_snapshot;
int pcpu_snap_take_self(struct pcpu_snapshot *s) PCPU_HIDDEN;

/* cpumask.c: the present mask, made on first use (NULL without memory for it). */
uint64_t *pcpu_cpus_present_bits(void) PCPU_HIDDEN;

/* cpuhp.c: where the online and present CPUs are re-read from: the test hook
 * pcpu_cpus_sysfs_root_hook if set, else /sys/devices/system, or NULL for a simulated
 * topology (nothing to re-read). */
extern const char *pcpu_cpus_sysfs_root_hook PCPU_HIDDEN;
const char *pcpu_cpus_sysfs_root(void) PCPU_HIDDEN;

/* counter.c: folds each counter's delta of @cpu, which went offline, into its count (the
 * kernel's percpu_counter_cpu_dead hotplug state). */
void pcpu_counter_cpu_dead(unsigned int cpu) PCPU_HIDDEN;

/* sanitizer.c: AddressSanitizer poisoning and valgrind client requests, no-ops unless
 * one of them watches (pcpu.lock held, or before the memory is published). */
void pcpu_san_poison_area(char *base, size_t off, size_t size) PCPU_HIDDEN; /* every unit */
void pcpu_san_alloc(char *p, size_t size) PCPU_HIDDEN;
void pcpu_san_free(char *p, size_t size) PCPU_HIDDEN;

/* cpu_source.c */
bool _pcpu_cpu_init(void) PCPU_HIDDEN;
unsigned int pcpu_cpu_area_size(void) PCPU_HIDDEN;  /* registered rseq area, 0 if none */
void pcpu_cpu_set_index(bool cid) PCPU_HIDDEN;      /* index by mm_cid instead of cpu_id */

/* index.c: after the topology is read and _pcpu_cpu_init(), before the layout:
 * chooses the index mode, and in cid mode replaces pcpu.topo with the ID space.  0, or
 * -1 with errno (EINVAL: a bad LIBPERCPU_INDEX). */
int pcpu_index_choose(void) PCPU_HIDDEN;
bool pcpu_index_cid(void) PCPU_HIDDEN;
extern unsigned long pcpu_index_test_feature_size PCPU_HIDDEN; /* test hooks */
extern unsigned int pcpu_index_test_area_size PCPU_HIDDEN;

#endif
