/* SPDX-License-Identifier: MIT */
/* percpu.h - libpercpu: the Linux kernel's per-CPU variables and per-CPU allocator for
 * userspace processes.  This header defines only names that start with pcpu_, PCPU_ or
 * __pcpu; include <percpu/kernel.h> for the kernel's own names (DEFINE_PER_CPU,
 * alloc_percpu, per_cpu_ptr, ...).
 *
 * Model (as in the kernel): every possible CPU has a "unit" in every chunk of per-CPU
 * memory.  A per-CPU pointer names an object in all units at once; pcpu_ptr(p, cpu)
 * is the copy of CPU cpu, found by adding that CPU's unit offset, the same arithmetic for
 * every chunk.  Static per-CPU variables (PCPU_DEFINE) live in the first chunk; dynamic
 * ones come from pcpu_alloc().
 *
 * Thread-safety: every function here may be called from any thread at any time.  None
 * may be called from a signal handler unless it says so.  No function starts a thread.
 * Environment (read once, ignored in setuid/setgid processes): see libpercpu(3).
 */
#ifndef PERCPU_H
#define PERCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PCPU_API __attribute__((visibility("default")))

/* The version of libpercpu, written here only: the Makefile, libpercpu.pc, the CMake
 * package, the man pages and percpu-info take it from these lines.  NEWS says what
 * each version changed.  PCPU_VERSION_NUMBER is for #if: 0.1.0 is 100, 1.2.3 is 10203.
 * pcpu_version() gives the version of the library actually loaded. */
#define PCPU_VERSION_MAJOR 0
#define PCPU_VERSION_MINOR 1
#define PCPU_VERSION_PATCH 0
#define PCPU_VERSION_NUMBER \
	(PCPU_VERSION_MAJOR * 10000 + PCPU_VERSION_MINOR * 100 + PCPU_VERSION_PATCH)

/* Marks a per-CPU pointer in declarations, like the kernel's __percpu.  It has no effect
 * on the type: dereference a per-CPU pointer only through pcpu_ptr()/pcpu_this_ptr(). */
#define __pcpu

/* The version of the libpercpu library running, "MAJOR.MINOR.PATCH" (a static string),
 * which may be newer than the header the program was compiled with.  Never fails;
 * needs no initialization; thread-safe and async-signal-safe. */
PCPU_API const char *pcpu_version(void);

/* ------------------------------------------------------------------------------------
 * CPUs and topology.  The possible CPUs, their nodes and the online CPUs are read once,
 * when the library initializes (or from LIBPERCPU_TOPOLOGY, a simulated topology).
 * Possible CPUs never change afterwards: every possible CPU owns a unit forever.  The
 * online CPUs change when pcpu_cpus_refresh() (or pcpu_balance()) re-reads them; masks
 * and hotplug callbacks are in <percpu/cpumask.h>.
 * Safe in signal handlers once the library is initialized.
 * ------------------------------------------------------------------------------------ */

/* Highest possible CPU number + 1. */
PCPU_API unsigned int pcpu_nr_cpu_ids(void);
/* Number of possible / online CPUs (online: as of the last refresh). */
PCPU_API unsigned int pcpu_num_possible_cpus(void);
PCPU_API unsigned int pcpu_num_online_cpus(void);
/* Whether @cpu is possible / was online at the last refresh (or at initialization).
 * False for cpu >= nr_cpu_ids. */
PCPU_API bool pcpu_cpu_possible(unsigned int cpu);
PCPU_API bool pcpu_cpu_online(unsigned int cpu);
/* NUMA node of a possible CPU, -1 for an impossible one. */
PCPU_API int pcpu_cpu_to_node(unsigned int cpu);
/* The next possible / online CPU after @cpu (pass -1 to start), or nr_cpu_ids if none. */
PCPU_API int pcpu_next_possible_cpu(int cpu);
PCPU_API int pcpu_next_online_cpu(int cpu);

/* Loops setting @cpu (an int or unsigned int lvalue) to each possible / online CPU in
 * increasing order.  Inline (no call per step once the library is initialized; the
 * first step initializes it); the online CPUs are read as they are at each step, so a
 * concurrent pcpu_cpus_refresh() may add or drop a CPU not yet reached. */
#define pcpu_for_each_possible_cpu(cpu)                                                  \
	for ((cpu) = __pcpu_next_cpu(0, false); (unsigned int)(cpu) < __pcpu_nr_cpu_ids(); \
	     (cpu) = __pcpu_next_cpu((unsigned int)(cpu) + 1, false))
#define pcpu_for_each_online_cpu(cpu)                                                    \
	for ((cpu) = __pcpu_next_cpu(0, true); (unsigned int)(cpu) < __pcpu_nr_cpu_ids();  \
	     (cpu) = __pcpu_next_cpu((unsigned int)(cpu) + 1, true))

/* ------------------------------------------------------------------------------------
 * Initialization.  Optional: the library initializes itself on first use.  Calling it
 * early reports problems early.  Returns 0, or -1 with errno (ENOMEM: the address space
 * for the chunks could not be reserved; EINVAL: a bad LIBPERCPU_* setting).
 * Thread-safe; not async-signal-safe: a signal handler that uses the library while its
 * own thread is initializing it is reported ("libpercpu: pcpu_init: called again by the
 * thread that is initializing the library, ...") and the process aborts, so call
 * pcpu_init() before installing such handlers.
 * ------------------------------------------------------------------------------------ */
PCPU_API int pcpu_init(void);

/* ------------------------------------------------------------------------------------
 * Dynamic per-CPU memory, like the kernel's __alloc_percpu()/free_percpu().
 * ------------------------------------------------------------------------------------ */

/* Allocation flags for pcpu_alloc_gfp(). */
#define PCPU_GFP_KERNEL 0u  /* may block, may populate pages and create chunks */
#define PCPU_GFP_ATOMIC 1u  /* once the library is initialized: never populates pages,
			     * never creates chunks, never makes a system call other than a
			     * brief futex wait if the allocator lock is contended; serves
			     * only already-populated memory */
#define PCPU_GFP_NOWAIT PCPU_GFP_ATOMIC

/* Largest size pcpu_alloc() accepts (the kernel's PCPU_MIN_UNIT_SIZE). */
#define PCPU_MAX_ALLOC_SIZE (32u << 10)

/* Allocates @size bytes for every possible CPU, aligned to @align (a power of two, at
 * most the page size in effect, pcpu_stats.page_size; 0 means 4), zero-filled in every
 * CPU's copy.  Returns the per-CPU pointer, or NULL with errno EINVAL (size 0 or > PCPU_MAX_ALLOC_SIZE, bad alignment;
 * nothing changed) or ENOMEM (no memory or address space; nothing leaked).
 * Thread-safe; may block; not for signal handlers. */
PCPU_API void *pcpu_alloc(size_t size, size_t align);

/* As pcpu_alloc(), with PCPU_GFP_* flags.  With PCPU_GFP_ATOMIC, fails with ENOMEM when
 * no populated free area fits. */
PCPU_API void *pcpu_alloc_gfp(size_t size, size_t align, unsigned int gfp);

/* Frees a per-CPU pointer returned by pcpu_alloc().  NULL is a no-op.  A double free, or
 * a pointer pcpu_alloc() did not return, is detected and reported on stderr with the
 * address, then the process aborts ("libpercpu: pcpu_free: 0x...: double free, ...").
 * Thread-safe; may block (it may give empty pages back to the system). */
PCPU_API void pcpu_free(void *ptr);

/* Typed allocation: a per-CPU pointer to @type. */
#define pcpu_alloc_type(type) ((__typeof__(type) *)pcpu_alloc(sizeof(type), __alignof__(type)))

/* Runs the allocator's housekeeping now: frees surplus empty chunks, gives back empty
 * pages of sparse chunks, tops up the pool of empty populated pages that
 * PCPU_GFP_ATOMIC allocations use.  The library also does this itself, on the slow paths
 * of allocation and free; call this from a thread of your own to keep it off them.
 * This call (not the library's own) also runs pcpu_cpus_refresh() first, and so the
 * CPU-hotplug callbacks (see <percpu/cpumask.h>), from the calling thread. */
PCPU_API void pcpu_balance(void);

/* ------------------------------------------------------------------------------------
 * Static per-CPU variables.  PCPU_DEFINE(type, name) defines a variable of which every
 * possible CPU has its own copy, initialized from the initializer:
 *     PCPU_DEFINE(long, hits) = 0;      pcpu_var(hits, cpu)++;
 * The definitions go to the ELF section "pcpu_data" of the executable or shared object;
 * a constructor in each object registers the section and every CPU gets a copy in the
 * first chunk (or, for an object loaded later with dlopen, in the reserved region; the
 * copies are released by dlclose).  &name is a per-CPU pointer: pcpu_ptr(&name, cpu).
 * ------------------------------------------------------------------------------------ */
#define PCPU_SECTION_NAME "pcpu_data"
#define PCPU_CACHELINE 64
/* The largest page size libpercpu supports (arm64 with 64 KiB pages): a variable this
 * aligned is page-aligned in every CPU's copy whatever the system's page size, since the
 * copies keep their alignment up to the page size in effect. */
#define PCPU_PAGE_ALIGN 65536

#define PCPU_DEFINE(type, name) \
	__attribute__((section(PCPU_SECTION_NAME), used)) __typeof__(type) name
#define PCPU_DEFINE_ALIGNED(type, name) \
	__attribute__((section(PCPU_SECTION_NAME), used, aligned(PCPU_CACHELINE))) __typeof__(type) name
#define PCPU_DEFINE_SHARED_ALIGNED(type, name) PCPU_DEFINE_ALIGNED(type, name)
#define PCPU_DEFINE_PAGE_ALIGNED(type, name) \
	__attribute__((section(PCPU_SECTION_NAME), used, aligned(PCPU_PAGE_ALIGN))) __typeof__(type) name
#define PCPU_DEFINE_READ_MOSTLY(type, name) PCPU_DEFINE(type, name)
/* Declarations are weak references: the compiler then reaches a variable of another
 * object through the GOT instead of copying it into the executable (a copy relocation
 * would move the variable out of its object's per-CPU section).  Executables that use
 * per-CPU variables of shared libraries must be position-independent (-fPIE, the
 * default on Debian and most distributions). */
#define PCPU_DECLARE(type, name) extern __attribute__((weak)) __typeof__(type) name
#define PCPU_DECLARE_ALIGNED(type, name) \
	extern __attribute__((weak, aligned(PCPU_CACHELINE))) __typeof__(type) name
#define PCPU_DECLARE_SHARED_ALIGNED(type, name) PCPU_DECLARE_ALIGNED(type, name)
#define PCPU_DECLARE_PAGE_ALIGNED(type, name) \
	extern __attribute__((weak, aligned(PCPU_PAGE_ALIGN))) __typeof__(type) name
#define PCPU_DECLARE_READ_MOSTLY(type, name) PCPU_DECLARE(type, name)

/* The copy of static per-CPU variable @var of CPU @cpu, as an lvalue. */
#define pcpu_var(var, cpu) (*pcpu_ptr(&(var), (cpu)))

/* ------------------------------------------------------------------------------------
 * Reaching a CPU's copy.
 *
 * pcpu_ptr(p, cpu): pointer to CPU @cpu's copy of the per-CPU object @p (from
 * pcpu_alloc, or &var of a static per-CPU variable).  @cpu must be a possible CPU; a
 * pointer outside all per-CPU memory and all registered sections, or a CPU number at or
 * above nr_cpu_ids, is reported and aborts the process (a pointer inside per-CPU memory
 * that is not an object's per-CPU pointer, such as another CPU's copy or a freed object,
 * is not detected).  NULL gives NULL.  Safe in signal handlers once the library is
 * initialized.
 *
 * pcpu_this_ptr(p): the copy of the CPU this thread runs on now.  Without exclusion the
 * thread may move to another CPU right after; the pointer stays valid (every copy lives
 * as long as the object) but may then be another CPU's copy.
 *
 * pcpu_current_cpu(): the CPU this thread runs on, from the thread's rseq area (glibc's
 * registration, or the library's own where glibc did not register one), else from
 * sched_getcpu().  Async-signal-safe once the library is initialized and, with the
 * library's own registration, once the thread has called it outside a handler.
 *
 * The copy of an impossible CPU below nr_cpu_ids is a non-canonical address: using it
 * faults.  A CPU at or above nr_cpu_ids is reported by name.
 * ------------------------------------------------------------------------------------ */
#define pcpu_ptr(p, cpu) ((__pcpu_ptr_type(p))__pcpu_ptr((const void *)(p), (cpu)))
/* The type of pointer @p without its own qualifiers: C++ warns on a cast to a const
 * type, as from a const member function's per-CPU pointer; unary + makes a prvalue
 * (C has no unary + on pointers, but does not warn). */
#ifdef __cplusplus
#define __pcpu_ptr_type(p) __typeof__(+(p))
#else
#define __pcpu_ptr_type(p) __typeof__(p)
#endif
#define pcpu_this_ptr(p) pcpu_ptr(p, pcpu_current_cpu())

/* The offset of CPU @cpu's unit from a chunk's unit at offset 0, the kernel's
 * per_cpu_offset(): pcpu_ptr(p, cpu) == (char *)p + pcpu_cpu_offset(cpu) for every p
 * from pcpu_alloc() (not for &var of a static variable, whose copies are elsewhere).
 * A CPU at or above nr_cpu_ids is reported and aborts.  Async-signal-safe once the
 * library is initialized. */
PCPU_API ptrdiff_t pcpu_cpu_offset(unsigned int cpu);

/* Where pcpu_current_cpu() gets the CPU from, as a human-readable string: "rseq (glibc
 * registration)", "rseq (libpercpu registration)" (where glibc registered none, e.g.
 * under GLIBC_TUNABLES=glibc.pthread.rseq=0) or "sched_getcpu (rseq unavailable)".
 * LIBPERCPU_CPU_SOURCE=getcpu forces the last at start-up. */
PCPU_API const char *pcpu_cpu_source(void);

/* ------------------------------------------------------------------------------------
 * Index mode: what "CPU" means for the whole process, chosen once before
 * initialization.
 *
 * PCPU_INDEX_CPU (the default): units are indexed by CPU number, as in the kernel.
 * PCPU_INDEX_CID: by the thread's rseq concurrency ID (mm_cid, Linux 6.3 and later), a
 * number unique among the threads running at one moment, below min(threads of the
 * process, CPUs it may run on).  pcpu_current_cpu(), the this_cpu operations,
 * pcpu_get_cpu() and pcpu_counter then work on IDs; pcpu_nr_cpu_ids(),
 * pcpu_for_each_possible_cpu() and pcpu_ptr(p, i) range over the IDs 0 .. N-1, N the
 * number of possible CPUs (all possible and online, node 0).  A unit's memory becomes
 * resident only when written, so memory follows the IDs in use rather than the possible
 * CPUs; an unused ID's copy reads as zeros (a static variable's copy: its initializer).
 * Where the kernel or the rseq registration gives no mm_cid (Linux before 6.3, a
 * registered area too small, no rseq at all), the library runs in PCPU_INDEX_CPU mode
 * and pcpu_index_source() says why.
 * ------------------------------------------------------------------------------------ */
#define PCPU_INDEX_CPU 0
#define PCPU_INDEX_CID 1

/* Asks for index mode @mode (PCPU_INDEX_CPU or PCPU_INDEX_CID) instead of what
 * LIBPERCPU_INDEX says.  Only before the library initializes: returns 0, or -1 with
 * errno EINVAL (another value; nothing changed) or EBUSY (the library has initialized,
 * or failed to after reading the mode; the mode stays).  Thread-safe; not for signal handlers. */
PCPU_API int pcpu_set_index_mode(int mode);
/* The index mode in effect (initializes the library): PCPU_INDEX_CID only where it was
 * asked for and is available, else PCPU_INDEX_CPU (also when initialization fails).
 * Thread-safe; async-signal-safe once the library is initialized. */
PCPU_API int pcpu_index_mode(void);
/* The index mode as a human-readable string: "cpu", "cid (rseq mm_cid, N IDs)", or
 * "cpu (cid asked for, unavailable: REASON)".  A static string; same safety as above. */
PCPU_API const char *pcpu_index_source(void);

/* ------------------------------------------------------------------------------------
 * Observability.
 * ------------------------------------------------------------------------------------ */
struct pcpu_stats {
	size_t unit_size;           /* bytes per unit (per CPU per chunk) */
	size_t static_size;         /* bytes of static per-CPU variables in the first chunk,
				     * rounded up to 4 */
	size_t reserved_size;       /* bytes of the reserved region */
	size_t dyn_size;            /* bytes of the first chunk's dynamic region */
	size_t atom_size;
	unsigned int nr_units;      /* units per chunk, padding included */
	unsigned int nr_groups;
	unsigned int nr_chunks;     /* chunks now, the first chunk included */
	unsigned int nr_max_chunks; /* most chunks at once */
	unsigned int max_chunks;    /* most chunks the address space of the arena may grow
				     * to (it holds only those made so far) */
	uint64_t nr_alloc;          /* successful allocations so far (dlopen'd objects'
				     * static sections included) */
	uint64_t nr_dealloc;        /* frees (non-NULL) so far */
	uint64_t nr_cur_alloc;      /* live allocations */
	uint64_t nr_max_alloc;      /* most live allocations at once */
	uint64_t nr_alloc_failed;   /* allocations that failed with ENOMEM */
	size_t min_alloc_size;      /* smallest / largest size allocated (rounded up to 4) */
	size_t max_alloc_size;
	size_t nr_populated_pages;  /* populated pages, per unit, over the dynamic regions of
				     * all chunks (the first chunk's static and reserved
				     * regions are always populated and not counted); in cid
				     * mode a populated page becomes resident in an ID's unit
				     * only once written (pcpu_index_mode(3)) */
	size_t nr_empty_pop_pages;  /* of those, pages with no allocation */
	size_t free_bytes;          /* free bytes per unit in dynamic chunks */
	size_t reserved_free;       /* free bytes per unit in the reserved region */
	uint64_t nr_populate_calls; /* page ranges populated / depopulated so far */
	uint64_t nr_depopulate_calls;
	unsigned int nr_static_sections; /* registered ELF sections of static variables */
	size_t page_size;           /* the allocator's page size: the system's, or
				     * LIBPERCPU_PAGE_SIZE (population, nr_*_pages, align limit) */
};

/* Fills @st with one consistent snapshot (taken under the allocator lock: for example
 * nr_cur_alloc == nr_alloc - nr_dealloc and nr_empty_pop_pages <= nr_populated_pages
 * always hold; the population call counts are read atomically on their own).  Returns
 * 0, or -1 with errno EINVAL for NULL, or init's errno.  Thread-safe; not for signal
 * handlers. */
PCPU_API int pcpu_get_stats(struct pcpu_stats *st);
/* Prints the statistics in the layout of the kernel's debugfs percpu_stats. */
PCPU_API int pcpu_dump_stats(FILE *out);
/* Prints this process's first-chunk layout as the kernel logs it at boot:
 * "percpu: Embedded N pages/cpu s.. r.. d.. u.." then the "pcpu-alloc: " lines. */
PCPU_API int pcpu_dump_layout(FILE *out);

/* ------------------------------------------------------------------------------------
 * Internals used by the inline functions and macros above.  Not API: programs must not
 * use them.  But they are ABI: the inline code reads struct __pcpu_fast directly, so
 * every program and library compiled against these headers has its layout built in.
 *
 * The inline ABI, struct __pcpu_fast (symbol __pcpu_fast@LIBPERCPU_FAST_1):
 * - Within the symbol version LIBPERCPU_FAST_1, every field below keeps its offset, type
 *   and meaning, and the structure keeps its size (a program linked without -fPIE gets a
 *   copy relocation of it, sized when the program was linked).
 * - New fields take reserved words, in order.  A reserved word is 0 in every library
 *   that predates its use, so a new field must be defined so that 0 means "not
 *   available": inline code that finds 0 there takes the library's slow path, which is
 *   always correct.  __pcpu_fast.version counts the revisions that added fields (1:
 *   none yet; a revision may add several).
 * - A change that cannot follow these rules (a field moved, resized or given another
 *   meaning) takes a new symbol version, LIBPERCPU_FAST_2, and a new structure; the
 *   library then keeps exporting the old one, filled in as before, for the programs
 *   built against it.
 * The static assertions below pin the layout on every ABI these headers build for.
 * ------------------------------------------------------------------------------------ */
struct __pcpu_fast {
	/* Identification: sizeof(struct __pcpu_fast) and the version of the fields, for
	 * tools and tests (the fast path never reads them). */
	uint32_t size;
	uint32_t version;
	/* Possible CPU numbers are below nr_cpu_ids; 0 until initialized.  Published
	 * last by initialization (release): read it first (acquire). */
	unsigned int nr_cpu_ids;
	/* this_cpu operations with rseq sections index the units by the unsigned 32-bit
	 * value at thread pointer + rseq_index_offset: the rseq area's cpu_id (or another
	 * index of the same area the library chose once at initialization, such as
	 * mm_cid).  Values at or above rseq_index_bound are not indices: the thread is
	 * not registered, or rseq sections are not used (rseq_index_bound 0, the atomic
	 * fallback for every thread); the operation then takes the slow path. */
	unsigned int rseq_index_bound;
	ptrdiff_t rseq_index_offset;
	/* Thread pointer to the thread's struct rseq (its rseq_cs field at +8). */
	ptrdiff_t rseq_offset;
	/* Per unit index (CPU): the unit's offset from a chunk's base, the same in every
	 * chunk; read-only after initialization. */
	const ptrdiff_t *unit_offsets;
	/* Every chunk lives in [arena_base, arena_base + arena_size).  arena_base is set
	 * once; arena_size is 0 until initialized and grows (read it atomically). */
	uintptr_t arena_base;
	uintptr_t arena_size;
	/* Version 2: pcpu_counter_batch() once the library has computed it, else 0 (the
	 * inline pcpu_counter_add() then calls the library, as with a library of
	 * version 1, where this word is reserved and 0). */
	uintptr_t counter_batch;
	/* Version 3: the possible and online CPU masks' words (nr_cpu_ids bits, CPU c at
	 * bit c % 64 of word c / 64), for the inline iterators; set before nr_cpu_ids is
	 * published, so valid once nr_cpu_ids is not 0.  0 in a library of an earlier
	 * version (the iterators then call pcpu_next_possible_cpu() and
	 * pcpu_next_online_cpu()).  Both pointers never change; the possible words never
	 * change; the online words change under pcpu_cpus_refresh() (read them
	 * atomically). */
	const uint64_t *possible_bits;
	const uint64_t *online_bits;
	/* Room to grow within LIBPERCPU_FAST_1 (see above): 0 in this version. */
	uintptr_t reserved[5];
};
#define __PCPU_FAST_VERSION 3
extern PCPU_API struct __pcpu_fast __pcpu_fast;

/* A compile-time check that is a statement in C99, C11 and C++ alike (C99 has no
 * _Static_assert of its own: GCC and clang accept it there as a marked extension). */
#ifdef __cplusplus
#define __PCPU_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define __PCPU_STATIC_ASSERT(cond, msg) __extension__ _Static_assert(cond, msg)
#endif

/* The inline functions of the headers: always inlined, also where the compiler would
 * rather make one out-of-line copy per object (GCC does, for a function with eight
 * this_cpu operations), which would cost a call per operation. */
#define __PCPU_INLINE static __inline__ __attribute__((always_inline))

/* The inline ABI's layout (see struct __pcpu_fast), the same on every data model. */
__PCPU_STATIC_ASSERT(offsetof(struct __pcpu_fast, rseq_index_offset) == 16 &&
			     offsetof(struct __pcpu_fast, reserved) == 16 + 8 * sizeof(void *) &&
			     sizeof(struct __pcpu_fast) == 16 + 13 * sizeof(void *),
		     "struct __pcpu_fast is ABI: its layout must not change");

PCPU_API void *__pcpu_ptr_slow(const void *p, unsigned int cpu);
PCPU_API unsigned int __pcpu_current_cpu_slow(void);
PCPU_API void *__pcpu_canon_slow(const void *p);
PCPU_API bool __pcpu_rseq_thread_ok(void);
__attribute__((noreturn)) PCPU_API void __pcpu_bad_double(const void *p);
PCPU_API bool __pcpu_cmpxchg_double_atomic(uint64_t *p, uint64_t o1, uint64_t o2, uint64_t n1,
					    uint64_t n2);
PCPU_API void __pcpu_register_section(char *start, char *stop, intptr_t *delta);
PCPU_API void __pcpu_unregister_section(char *start);

__PCPU_INLINE void *__pcpu_thread_pointer(void)
{
#if defined(__x86_64__)
	void *__pcpu_tp;
	__asm__("mov %%fs:0, %0" : "=r"(__pcpu_tp));
	return __pcpu_tp;
#elif defined(__aarch64__)
	void *__pcpu_tp;
	__asm__("mrs %0, tpidr_el0" : "=r"(__pcpu_tp));
	return __pcpu_tp;
#else
	return __builtin_thread_pointer();
#endif
}

__PCPU_INLINE unsigned int pcpu_current_cpu(void)
{
	/* The rseq area's cpu_id (or mm_cid in cid mode) is out of range until the thread
	 * is registered, which the unsigned comparison sends to the slow path, as it does
	 * before initialization (nr_cpu_ids 0). */
	unsigned int __pcpu_nr = __atomic_load_n(&__pcpu_fast.nr_cpu_ids, __ATOMIC_ACQUIRE);
	unsigned int __pcpu_cpu = *(const volatile uint32_t *)((char *)__pcpu_thread_pointer() +
							       __pcpu_fast.rseq_index_offset);

	if (__builtin_expect(__pcpu_cpu < __pcpu_nr, 1))
		return __pcpu_cpu;
	return __pcpu_current_cpu_slow();
}

/* Each object that includes this header finds its own static per-CPU section through
 * these linker-made symbols (hidden: each object sees its own, weak: absent without
 * per-CPU variables) and registers it from a constructor. */
extern char __start_pcpu_data[] __attribute__((weak, visibility("hidden")));
extern char __stop_pcpu_data[] __attribute__((weak, visibility("hidden")));
/* Distance from this object's section image to its copy in the first chunk's canonical
 * unit; 0 until placed.  One per object (weak definitions merge). */
__attribute__((weak, visibility("hidden"))) intptr_t __pcpu_dso_delta;

/* The registration is one per object by design; each translation unit of a user's
 * object emits its own copy (they register the same section: repeats are ignored).
 * libpercpu's own sources are built with __PCPU_LIBRARY_BUILD defined so that the
 * library carries one copy, emitted by the one file that defines __PCPU_LIBRARY_REGISTERS. */
#if !defined(__PCPU_LIBRARY_BUILD) || defined(__PCPU_LIBRARY_REGISTERS)
__attribute__((constructor(102), used)) static void __pcpu_dso_register(void)
{
	if ((uintptr_t)__start_pcpu_data != (uintptr_t)__stop_pcpu_data)
		__pcpu_register_section(__start_pcpu_data, __stop_pcpu_data, &__pcpu_dso_delta);
}

__attribute__((destructor(102), used)) static void __pcpu_dso_unregister(void)
{
	if ((uintptr_t)__start_pcpu_data != (uintptr_t)__stop_pcpu_data)
		__pcpu_unregister_section(__start_pcpu_data);
}
#endif

/* The canonical address of per-CPU object @p (its copy in the unit at offset 0 of its
 * chunk), when it can be had inline: @p itself inside the arena, or a static variable
 * of this object (its image address plus the object's delta).  NULL otherwise: before
 * initialization, another object's static variable, or not per-CPU at all. */
__PCPU_INLINE char *__pcpu_canon_fast(const void *__pcpu_p)
{
	uintptr_t __pcpu_a = (uintptr_t)__pcpu_p;
	intptr_t __pcpu_delta;

	/* the arena grows in place: its size is read atomically (a plain load on x86-64
	 * and arm64); a pointer from pcpu_alloc() was made after the growth it needs */
	if (__builtin_expect(__pcpu_a - __pcpu_fast.arena_base <
				     __atomic_load_n(&__pcpu_fast.arena_size, __ATOMIC_RELAXED),
			     1))
		return (char *)__pcpu_a;
	__pcpu_delta = __atomic_load_n(&__pcpu_dso_delta, __ATOMIC_ACQUIRE);
	if (__pcpu_a - (uintptr_t)__start_pcpu_data <
		    (uintptr_t)__stop_pcpu_data - (uintptr_t)__start_pcpu_data &&
	    __pcpu_delta)
		return (char *)(__pcpu_a + (uintptr_t)__pcpu_delta);
	return (char *)0;
}

__PCPU_INLINE void *__pcpu_ptr(const void *__pcpu_p, unsigned int __pcpu_cpu)
{
	/* nr_cpu_ids is published last by initialization: acquire it first */
	unsigned int __pcpu_nr = __atomic_load_n(&__pcpu_fast.nr_cpu_ids, __ATOMIC_ACQUIRE);
	char *__pcpu_c = __pcpu_canon_fast(__pcpu_p);

	if (__builtin_expect(__pcpu_c != (char *)0 && __pcpu_cpu < __pcpu_nr, 1))
		return __pcpu_c + __pcpu_fast.unit_offsets[__pcpu_cpu];
	return __pcpu_ptr_slow(__pcpu_p, __pcpu_cpu);
}

/* nr_cpu_ids as the inline iterators read it: 0 until initialized (their first step
 * initializes the library), then the value pcpu_nr_cpu_ids() returns. */
__PCPU_INLINE unsigned int __pcpu_nr_cpu_ids(void)
{
	return __atomic_load_n(&__pcpu_fast.nr_cpu_ids, __ATOMIC_ACQUIRE);
}

/* The first CPU at or above @__pcpu_n whose bit is set in @__pcpu_a (@__pcpu_op 0),
 * in @__pcpu_a and @__pcpu_b (1), in @__pcpu_a and not @__pcpu_b (2); @__pcpu_nr,
 * the number of bits, if none.  Words are loaded atomically: a mask may change while
 * it is read (the online mask under pcpu_cpus_refresh(), any mask a cpumask call
 * writes), as the library's own searches allow. */
__PCPU_INLINE unsigned int __pcpu_bits_next(const uint64_t *__pcpu_a, const uint64_t *__pcpu_b,
					    int __pcpu_op, unsigned int __pcpu_nr,
					    unsigned int __pcpu_n)
{
	while (__pcpu_n < __pcpu_nr) {
		uint64_t __pcpu_w = __atomic_load_n(&__pcpu_a[__pcpu_n / 64], __ATOMIC_RELAXED);

		if (__pcpu_op == 1)
			__pcpu_w &= __atomic_load_n(&__pcpu_b[__pcpu_n / 64], __ATOMIC_RELAXED);
		else if (__pcpu_op == 2)
			__pcpu_w &= ~__atomic_load_n(&__pcpu_b[__pcpu_n / 64], __ATOMIC_RELAXED);
		__pcpu_w >>= __pcpu_n % 64;
		if (__builtin_expect(__pcpu_w != 0, 1)) {
			__pcpu_n += (unsigned int)__builtin_ctzll(__pcpu_w);
			return __pcpu_n < __pcpu_nr ? __pcpu_n : __pcpu_nr;
		}
		__pcpu_n = (__pcpu_n | 63) + 1; /* nr_cpu_ids <= 65536: no overflow */
	}
	return __pcpu_nr;
}

/* The possible (@__pcpu_online false) or online CPU at or above @__pcpu_n, else
 * nr_cpu_ids: inline from the published masks, or through the library before
 * initialization (which it does) and with a library that publishes no masks
 * (version < 3). */
__PCPU_INLINE int __pcpu_next_cpu(unsigned int __pcpu_n, bool __pcpu_online)
{
	unsigned int __pcpu_nr = __pcpu_nr_cpu_ids();
	const uint64_t *__pcpu_bits = !__pcpu_nr      ? (const uint64_t *)0
				      : __pcpu_online ? __pcpu_fast.online_bits
						      : __pcpu_fast.possible_bits;

	if (__builtin_expect(__pcpu_bits != (const uint64_t *)0, 1))
		return (int)__pcpu_bits_next(__pcpu_bits, __pcpu_bits, 0, __pcpu_nr, __pcpu_n);
	return __pcpu_online ? pcpu_next_online_cpu((int)__pcpu_n - 1)
			     : pcpu_next_possible_cpu((int)__pcpu_n - 1);
}

#ifdef __cplusplus
}
#endif

/* Outside the extern "C" block: each has its own, and the system headers they include
 * (<pthread.h>) must not be read with C linkage forced on them. */
#include <percpu/this_cpu.h>
#include <percpu/remote.h>
#include <percpu/getcpu.h>
#include <percpu/counter.h>
#include <percpu/cpumask.h>

#endif /* PERCPU_H */
