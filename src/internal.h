/* SPDX-License-Identifier: MIT */
/* internal.h - what the library's files share: the layers and the lock order, the
 * geometry, and each layer's functions; never installed. */
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

/*
 * The core's layers.  Calls go down only:
 *
 *   entry points   api.c cpumask.c stats.c cpu_lock.c counter.c remote.c ops.c version.c
 *        |         (each makes sure the library is initialized, then calls a layer below)
 *   init           init.c (topology choice, geometry, arena, once, atfork)
 *        |
 *   core           sections.c -> the allocator (alloc.c, balance.c, alloc_cache.c:
 *        |         alloc_internal.h);  cpu_source.c
 *   leaves         geometry.c chunk_vm.c chunk.c layout.c topology.c vm.c options.c
 *                  size.c diag.c
 *
 * Lock order (a thread may take a later lock while holding an earlier one, never the
 * reverse): hp_lock (cpuhp.c, held across hotplug callbacks) -> counters_lock
 * (counter.c) -> lazy_lock (cpumask.c) -> sec_mutex (sections.c) -> alloc_mutex (alloc.c)
 * -> pcpu_lock (alloc.c).  init.c's atfork handlers take all of them in this order.
 * pcpu_lock is never held across a system call.  init.c holds sec_mutex while it
 * initializes, and all three across fork().
 */

/* The geometry: what initialization decides once and nothing changes afterwards.
 * geometry.c holds it; init.c fills it in (_pcpu_geometry_rw()) before the library is
 * published as initialized (a release store that every reader's acquire pairs with), so
 * every file reads it without a lock, through the const pointer.  One exception: the
 * online CPUs (topo.online, topo.nr_online) follow hotplug, changed by cpuhp.c alone
 * with atomic stores and read with atomic loads. */
struct pcpu_geometry {
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
	char *arena;                 /* base of the address space of every chunk, fixed */
	int arena_limit_chunks;      /* most chunks the arena may grow to */
	size_t static_size, reserved_size, dyn_size; /* the first chunk's regions */
};

extern const struct pcpu_geometry *const _pcpu_geo PCPU_HIDDEN;

/* geometry.c */
/* init.c only, before publishing: the geometry to fill in; the units of layout @ai (0, or
 * -1 with ENOMEM). */
struct pcpu_geometry *_pcpu_geometry_rw(void) PCPU_HIDDEN;
int _pcpu_geometry_set_units(const struct pcpu_alloc_info *ai) PCPU_HIDDEN;

/* diag.c */
__attribute__((noreturn, format(printf, 2, 3)))
void _pcpu_fatal(const char *call, const char *fmt, ...) PCPU_HIDDEN;

/* options.c: the LIBPERCPU_* settings, read once by init.c (_pcpu_options_read) before
 * anything asks for one. */
enum pcpu_option {
	PCPU_OPT_PAGE_SIZE,
	PCPU_OPT_RESERVED_SIZE,
	PCPU_OPT_DYN_SIZE,
	PCPU_OPT_ATOM_SIZE,
	PCPU_OPT_TOPOLOGY,
	PCPU_OPT_DEBUG,
	PCPU_OPT_CPU_SOURCE,
	PCPU_OPT_STATS,
	PCPU_OPT_INDEX,
	PCPU_OPT_COUNT
};
void _pcpu_options_read(void) PCPU_HIDDEN;
const char *_pcpu_option(enum pcpu_option id) PCPU_HIDDEN; /* the value, NULL if unset */
/* A size option into *@out if set (size.h's grammar, at most @max): 0, or -1 with EINVAL
 * and a message naming the variable. */
int _pcpu_option_size(enum pcpu_option id, size_t max, size_t *out) PCPU_HIDDEN;
bool _pcpu_option_flag(enum pcpu_option id) PCPU_HIDDEN;   /* set, and not "0" */
/* Reports "libpercpu: NAME=VALUE: why" on stderr; returns -1 with EINVAL. */
__attribute__((format(printf, 2, 3)))
int _pcpu_option_bad(enum pcpu_option id, const char *fmt, ...) PCPU_HIDDEN;

/* init.c: 0 once the library is initialized (initializing it on the first call), or -1
 * with errno (the same every time: initialization is tried once). */
int _pcpu_ensure_init(void) PCPU_HIDDEN;
/* Whether initialization is done, inline: what _pcpu_ensure_init() tests first. */
extern bool _pcpu_init_done PCPU_HIDDEN;
static inline bool _pcpu_initialized(void)
{
	return __atomic_load_n(&_pcpu_init_done, __ATOMIC_ACQUIRE);
}
int _pcpu_init_errno(void) PCPU_HIDDEN;   /* why initialization failed, 0 if it did not */

/* alloc.c: the allocator.  Its state is its own (alloc_state.h, for it and white-box
 * tests only); the other files reach it through these.  Every call but
 * _pcpu_alloc_setup() expects the library initialized. */
int _pcpu_alloc_setup(bool debug) PCPU_HIDDEN;  /* init.c: the first chunk, the slots */
void _pcpu_alloc_lock_all(void) PCPU_HIDDEN;          /* init.c's atfork handlers */
void _pcpu_alloc_unlock_all(void) PCPU_HIDDEN;
/* EINVAL if not a request pcpu_alloc() can take, whatever the page size; else 0. */
int _pcpu_alloc_check(size_t size, size_t align, unsigned int gfp) PCPU_HIDDEN;
void *_pcpu_alloc_internal(size_t size, size_t align, bool reserved,
			   unsigned int gfp) PCPU_HIDDEN;
void _pcpu_free_internal(void *ptr, const char *caller, bool section) PCPU_HIDDEN;
void _pcpu_alloc_balance(void) PCPU_HIDDEN;
bool _pcpu_alloc_in_arena(const void *p) PCPU_HIDDEN; /* lock-free: the arena may grow */

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
int _pcpu_stats_read_setting(void) PCPU_HIDDEN;
void _pcpu_stats_arm_exit(void) PCPU_HIDDEN;
/* A snapshot of this process's allocator (snapshot.h), initializing the library first if
 * needed.  0, or -1 with errno (init's, or ENOMEM). */
struct pcpu_snapshot;
int _pcpu_snap_take_self(struct pcpu_snapshot *s) PCPU_HIDDEN;

/* anchor.c: where percpu-info --pid finds the allocator (anchor.h), once it is set up. */
void _pcpu_anchor_init(void) PCPU_HIDDEN;

/* cpumask.c: the present mask, made on first use (NULL without memory for it). */
uint64_t *_pcpu_cpus_present_bits(void) PCPU_HIDDEN;

/* cpuhp.c: where the online and present CPUs are re-read from: the test hook
 * _pcpu_cpus_sysfs_root_hook if set, else /sys/devices/system, or NULL for a simulated
 * topology (nothing to re-read). */
extern const char *_pcpu_cpus_sysfs_root_hook PCPU_HIDDEN;
const char *_pcpu_cpus_sysfs_root(void) PCPU_HIDDEN;

/* A spin-wait hint to the processor (pause): for the loops that poll a lock word. */
static inline void _pcpu_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* futex.c: sleeps while *@word is @val, at most @timeout_ns (0: no limit), or less (a
 * wake, a signal, *@word already other); wakes up to @nr threads asleep on @word. */
void _pcpu_futex_wait(uint32_t *word, uint32_t val, long timeout_ns) PCPU_HIDDEN;
void _pcpu_futex_wake(uint32_t *word, int nr) PCPU_HIDDEN;

/* counter.c: a counter's lock (the word in struct pcpu_counter; see counter.c). */
void _pcpu_counter_lock(struct pcpu_counter *fbc) PCPU_HIDDEN;
void _pcpu_counter_unlock(struct pcpu_counter *fbc) PCPU_HIDDEN;

/* counter.c: folds each counter's delta of @cpu, which went offline, into its count (the
 * kernel's percpu_counter_cpu_dead hotplug state). */
void _pcpu_counter_cpu_dead(unsigned int cpu) PCPU_HIDDEN;

/* sanitizer.c: AddressSanitizer poisoning and valgrind client requests, no-ops unless
 * one of them watches (pcpu_lock held, or before the memory is published). */
void _pcpu_san_poison_area(char *base, size_t off, size_t size) PCPU_HIDDEN; /* every unit */
void _pcpu_san_setup(void) PCPU_HIDDEN; /* once, before the first call below */
void _pcpu_san_mark(char *p, size_t size, bool live) PCPU_HIDDEN;
extern bool _pcpu_san_watched PCPU_HIDDEN; /* ASan or valgrind: set by _pcpu_san_setup() */

/* An object made accessible in every unit (allocated) or not (freed); a test inline, so
 * that an unwatched process pays no call on the allocator's fast paths. */
static inline void _pcpu_san_alloc(char *p, size_t size)
{
	if (__builtin_expect(_pcpu_san_watched, 0))
		_pcpu_san_mark(p, size, true);
}

static inline void _pcpu_san_free(char *p, size_t size)
{
	if (__builtin_expect(_pcpu_san_watched, 0))
		_pcpu_san_mark(p, size, false);
}

/* index.c: after the topology is read and _pcpu_cpu_init(), before the layout:
 * chooses the index mode, and in cid mode replaces the geometry's topology with the ID
 * space.  0, or -1 with errno (EINVAL: a bad LIBPERCPU_INDEX). */
int _pcpu_index_choose(void) PCPU_HIDDEN;
bool _pcpu_index_cid(void) PCPU_HIDDEN;
extern unsigned long _pcpu_index_test_feature_size PCPU_HIDDEN; /* test hooks */
extern unsigned int _pcpu_index_test_area_size PCPU_HIDDEN;

/* cpu_source.c: chooses the CPU source at init (returns whether this_cpu operations may
 * use rseq sections); the others are the slow paths of the inline code, after init. */
bool _pcpu_cpu_init(void) PCPU_HIDDEN;
const char *_pcpu_cpu_source_name(void) PCPU_HIDDEN;
bool _pcpu_cpu_rseq_thread_ok(void) PCPU_HIDDEN;
unsigned int _pcpu_cpu_current_slow(void) PCPU_HIDDEN;
unsigned int _pcpu_cpu_area_size(void) PCPU_HIDDEN;  /* registered rseq area, 0 if none */
void _pcpu_cpu_set_index(bool cid) PCPU_HIDDEN;      /* index by mm_cid instead of cpu_id */

/* the atfork handlers (init.c) hold these across fork(), in the lock order above */
void _pcpu_cpuhp_fork_lock(void) PCPU_HIDDEN;
void _pcpu_cpuhp_fork_unlock(void) PCPU_HIDDEN;
void _pcpu_counter_fork_lock(void) PCPU_HIDDEN;
void _pcpu_counter_fork_unlock(void) PCPU_HIDDEN;
void _pcpu_cpumask_fork_lock(void) PCPU_HIDDEN;
void _pcpu_cpumask_fork_unlock(void) PCPU_HIDDEN;

#endif
