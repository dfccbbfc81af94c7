/* SPDX-License-Identifier: MIT */
/* sections.c - the registry of static per-CPU sections, one per ELF object that defines
 * PCPU_DEFINE variables.  Each object's constructor registers its section; sections
 * known when the library initializes get their copies in the first chunk's static
 * region, later ones (dlopen) in the reserved region, or in dynamic memory when that is
 * full.  Lookups (image address -> canonical per-CPU address) take no lock, so that
 * pcpu_ptr() stays async-signal-safe: entries are published with release stores and
 * retired by emptying their range first. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* The library's one registration constructor (percpu.h) is this file's: the library
 * registers its own section, if it ever has one, like any object. */
#define __PCPU_LIBRARY_REGISTERS 1
#include "internal.h"

#define SEC_BLOCK_ENTRIES 64
#define SEC_MAX_BLOCKS 1024

struct pcpu_section {
	uintptr_t start, stop;  /* the image in the object; stop <= start: entry unused */
	size_t size;            /* stop - start, kept while the entry is retired */
	uintptr_t canon;        /* canonical address of the copy (the unit at offset 0) */
	intptr_t *delta;        /* the object's __pcpu_dso_delta */
	size_t first_off;       /* offset in the static region, for PCPU_SEC_FIRST */
	void *alloc;            /* _pcpu_alloc_internal() result for RESERVED/DYNAMIC */
	int where;
	unsigned int seq;       /* odd while a writer changes the entry (a seqlock) */
};
enum { SEC_PENDING, SEC_FIRST, SEC_RESERVED, SEC_DYNAMIC };

/* sec_mutex comes first in the library's lock order (internal.h).  CONTEXT: every field
 * below and every entry is written under it; lookups read without it (atomics). */
static pthread_mutex_t sec_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct pcpu_section *sec_blocks[SEC_MAX_BLOCKS];
static int nr_sec_blocks;   /* published blocks (atomic) */
static unsigned int nr_live; /* atomic */
/* Set once init placed the first chunk's sections; registrations after it are placed
 * at once (a dlopen'd object's).  The sections' own flag, so that this file
 * never asks init.c (which calls it) whether the library is initialized. */
static bool first_placed;

void _pcpu_sections_lock(void)
{
	pthread_mutex_lock(&sec_mutex);
}

void _pcpu_sections_unlock(void)
{
	pthread_mutex_unlock(&sec_mutex);
}

/* Writers (sec_mutex held) bracket every change of an entry's start, stop or canon so
 * that a lock-free reader never pairs one object's start with another's stop.  The
 * fields are stored with release and loaded with acquire, which orders them against
 * the sequence count without fences (which ThreadSanitizer cannot follow).
 *
 * A reader waits while the count is odd, which is safe only if the writer can go on
 * meanwhile.  pcpu_ptr() is async-signal-safe: a signal handler that interrupts its own
 * thread between begin and end would wait for itself forever.  So a writer blocks every
 * signal for the few stores of a write (the unblockable ones cannot run a handler), and
 * restores the thread's mask after. */
static void sec_write_begin(struct pcpu_section *s, sigset_t *saved)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, saved);
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
}

static void sec_write_end(struct pcpu_section *s, const sigset_t *saved)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}

static struct pcpu_section *sec_at(int i)
{
	return &sec_blocks[i / SEC_BLOCK_ENTRIES][i % SEC_BLOCK_ENTRIES];
}

static int sec_capacity(void)
{
	return __atomic_load_n(&nr_sec_blocks, __ATOMIC_ACQUIRE) * SEC_BLOCK_ENTRIES;
}

/* An entry is live while start < stop; it is retired by storing stop = 0 first. */
static bool sec_live(const struct pcpu_section *s)
{
	return __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE) > __atomic_load_n(&s->start, __ATOMIC_RELAXED);
}

/* Placement of a section must keep every variable's alignment: the image start is
 * aligned at least as much as the section, so keep its alignment, up to a page. */
static size_t sec_align(uintptr_t start)
{
	size_t a = start ? (size_t)1 << __builtin_ctzl(start) : _pcpu_geo->page_size;
	return a < _pcpu_geo->page_size ? a : _pcpu_geo->page_size;
}

/* Copies @size bytes of image @src to @dst, which reads as zeros, leaving out the
 * pages of @dst (the allocator's pages) whose part of the image is zeros: in cid mode
 * such a page of an ID no thread has used then costs no memory (index.c). */
static void copy_nonzero(char *dst, const char *src, size_t size)
{
	size_t done = 0;

	while (done < size) {
		size_t room = _pcpu_geo->page_size - ((uintptr_t)(dst + done) & (_pcpu_geo->page_size - 1));
		size_t n = room < size - done ? room : size - done;

		if (src[done] != 0 || memcmp(src + done, src + done + 1, n - 1) != 0)
			memcpy(dst + done, src + done, n);
		done += n;
	}
}

/* Copies the image to every possible CPU's unit and publishes the entry. */
static void sec_publish(struct pcpu_section *s, char *canon)
{
	const struct pcpu_topology *topo = &_pcpu_geo->topo;
	size_t size = s->size;
	sigset_t mask;

	/* not pcpu_for_each_possible_cpu: this runs inside initialization.  Each unit's
	 * copy is zeros before: fresh first-chunk memory, or a zeroed allocation. */
	for (unsigned int cpu = 0; cpu < topo->nr_cpu_ids; cpu++)
		if (_pcpu_topology_test(topo->possible, cpu))
			copy_nonzero(canon + _pcpu_geo->unit_offsets[cpu], (const char *)s->start,
				     size);
	sec_write_begin(s, &mask);
	__atomic_store_n(&s->canon, (uintptr_t)canon, __ATOMIC_RELEASE);
	sec_write_end(s, &mask);
	__atomic_store_n(s->delta, (intptr_t)((uintptr_t)canon - s->start), __ATOMIC_RELEASE);
}

static struct pcpu_section *sec_find(uintptr_t start)
{
	for (int i = 0; i < sec_capacity(); i++) {
		struct pcpu_section *s = sec_at(i);
		if (sec_live(s) && __atomic_load_n(&s->start, __ATOMIC_RELAXED) == start)
			return s;
	}
	return NULL;
}

static struct pcpu_section *sec_new_entry(void)
{
	int cap = sec_capacity();

	for (int i = 0; i < cap; i++) {
		struct pcpu_section *s = sec_at(i);
		if (!sec_live(s))
			return s;
	}
	if (nr_sec_blocks == SEC_MAX_BLOCKS)
		return NULL;
	sec_blocks[nr_sec_blocks] = calloc(SEC_BLOCK_ENTRIES, sizeof(struct pcpu_section));
	if (!sec_blocks[nr_sec_blocks])
		return NULL;
	__atomic_store_n(&nr_sec_blocks, nr_sec_blocks + 1, __ATOMIC_RELEASE);
	return sec_at(cap);
}

/* After initialization: reserved region first, as the kernel does for modules. */
static int sec_place_late(struct pcpu_section *s)
{
	size_t size = s->size, align = sec_align(s->start);
	void *p = _pcpu_alloc_internal(size, align, true, PCPU_GFP_KERNEL);

	s->where = SEC_RESERVED;
	if (!p) {
		p = _pcpu_alloc_internal(size, align, false, PCPU_GFP_KERNEL);
		s->where = SEC_DYNAMIC;
	}
	if (!p)
		return -1;
	s->alloc = p;
	sec_publish(s, p);
	return 0;
}

void __pcpu_register_section(char *start, char *stop, intptr_t *delta)
{
	struct pcpu_section *s;
	sigset_t mask;

	if (!start || stop <= start || !delta)
		return;
	pthread_mutex_lock(&sec_mutex);
	if (sec_find((uintptr_t)start)) /* every translation unit of an object calls this */
		goto out;
	if ((size_t)(stop - start) > PCPU_MAX_ALLOC_SIZE && first_placed)
		_pcpu_fatal("pcpu_register_section",
			   "object with static per-CPU section %p has %zu bytes, more than the %u a "
			   "late (dlopen) registration can place", (void *)start,
			   (size_t)(stop - start), PCPU_MAX_ALLOC_SIZE);
	s = sec_new_entry();
	if (!s)
		_pcpu_fatal("pcpu_register_section", "out of memory registering section %p",
			   (void *)start);
	/* the entry is retired (stop 0): set it up, then make it live in one step */
	s->delta = delta;
	s->alloc = NULL;
	s->first_off = 0;
	s->where = SEC_PENDING;
	s->size = (size_t)(stop - start);
	sec_write_begin(s, &mask);
	__atomic_store_n(&s->canon, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->start, (uintptr_t)start, __ATOMIC_RELEASE);
	sec_write_end(s, &mask);
	if (first_placed && sec_place_late(s) != 0)
		_pcpu_fatal("pcpu_register_section",
			   "no per-CPU memory for the %zu-byte static section %p: %s",
			   (size_t)(stop - start), (void *)start, strerror(errno));
	sec_write_begin(s, &mask);
	__atomic_store_n(&s->stop, (uintptr_t)stop, __ATOMIC_RELEASE);
	sec_write_end(s, &mask);
	__atomic_fetch_add(&nr_live, 1, __ATOMIC_RELAXED);
out:
	pthread_mutex_unlock(&sec_mutex);
}

void __pcpu_unregister_section(char *start)
{
	struct pcpu_section *s;
	sigset_t mask;

	pthread_mutex_lock(&sec_mutex);
	s = sec_find((uintptr_t)start);
	if (s) {
		/* retire the range first, so that lookups stop matching it */
		sec_write_begin(s, &mask);
		__atomic_store_n(&s->stop, 0, __ATOMIC_RELEASE);
		sec_write_end(s, &mask);
		__atomic_fetch_sub(&nr_live, 1, __ATOMIC_RELAXED);
		if (s->where == SEC_RESERVED || s->where == SEC_DYNAMIC) {
			__atomic_store_n(s->delta, 0, __ATOMIC_RELEASE);
			_pcpu_free_internal(s->alloc, "dlclose", true);
		}
		/* First-chunk copies are never reused: the object's own code may still run
		 * (exit-time destructors), so its delta stays valid. */
	}
	pthread_mutex_unlock(&sec_mutex);
}

size_t _pcpu_sections_layout(void)
{
	size_t cursor = 0;

	for (int i = 0; i < sec_capacity(); i++) {
		struct pcpu_section *s = sec_at(i);
		size_t align;

		if (!sec_live(s) || s->where != SEC_PENDING)
			continue;
		align = sec_align(s->start);
		cursor = (cursor + align - 1) & ~(align - 1);
		s->first_off = cursor;
		cursor += s->size;
	}
	return cursor;
}

void _pcpu_sections_place_first(char *first_chunk_base)
{
	for (int i = 0; i < sec_capacity(); i++) {
		struct pcpu_section *s = sec_at(i);

		if (!sec_live(s) || s->where != SEC_PENDING)
			continue;
		s->where = SEC_FIRST;
		sec_publish(s, first_chunk_base + s->first_off);
	}
	first_placed = true;
}

void *_pcpu_sections_translate(const void *p)
{
	uintptr_t a = (uintptr_t)p;
	int cap = sec_capacity();

	for (int i = 0; i < cap; i++) {
		struct pcpu_section *s = sec_at(i);
		uintptr_t start, stop, canon;
		unsigned int seq;

		do {
			while ((seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE)) & 1)
				; /* a writer is changing it: a few stores, under sec_mutex */
			stop = __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE);
			start = __atomic_load_n(&s->start, __ATOMIC_ACQUIRE);
			canon = __atomic_load_n(&s->canon, __ATOMIC_ACQUIRE);
		} while (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) != seq);
		if (a < start || a >= stop)
			continue;
		return canon ? (void *)(canon + (a - start)) : NULL;
	}
	return NULL;
}

unsigned int _pcpu_sections_count(void)
{
	return __atomic_load_n(&nr_live, __ATOMIC_RELAXED);
}
