/* SPDX-License-Identifier: MIT */
/* anchor.h - how another process finds this one's allocator state: a small mapping named
 * "libpercpu-anchor" (a memfd, so /proc/PID/maps shows the name) holding a magic, the
 * layout version and the address of the state, plus the sequence count that the
 * allocator makes odd while it changes that state (a seqlock: the reader retries a torn
 * read).  Nothing runs in this process on the reader's behalf: percpu-info reads its
 * memory with process_vm_readv, with the permission ptrace needs. */
#ifndef PCPU_SRC_ANCHOR_H
#define PCPU_SRC_ANCHOR_H

#include <stdint.h>

#include "alloc_state.h"

#define PCPU_ANCHOR_NAME "libpercpu-anchor"
#define PCPU_ANCHOR_MAGIC "libpercpu-anchr" /* 15 characters and the NUL */
/* Raised whenever struct pcpu_anchor changes meaning; the reader also compares the sizes of
 * the structures it copies, so that it refuses another build's layout instead of
 * misreading it. */
#define PCPU_ANCHOR_ABI 2

struct pcpu_anchor {
	char magic[16];
	uint32_t abi;
	uint32_t state_size;  /* sizeof(struct pcpu_alloc_state) */
	uint32_t chunk_size;  /* sizeof(struct pcpu_chunk) */
	uint32_t map_size;    /* sizeof(struct pcpu_chunk_map) */
	char version[16];     /* pcpu_version() */
	uint64_t self;        /* the anchor's own address */
	uint64_t state;       /* &_pcpu_alloc, the allocator's state */
	uint64_t seq;         /* &_pcpu_state_seq */
	uint64_t alloc_size;  /* the layout's allocation size */
	uint64_t geometry;    /* _pcpu_geo: the arena and the unit geometry */
	uint32_t geometry_size; /* sizeof(struct pcpu_geometry) */
	uint32_t pad;
};

/* Even while the allocator state is stable, odd while it changes (under pcpu_lock). */
extern uint64_t _pcpu_state_seq PCPU_HIDDEN;

/* _pcpu_anchor_init() (internal.h) maps the anchor once the allocator is set up.  Failure
 * only costs the inspection from outside, so it is silent. */

/* pcpu_lock with the sequence count around it: every change to the maps, slots, chunk
 * table and counters is made between these two. */
#if defined(__SANITIZE_THREAD__)
#define PCPU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PCPU_TSAN 1
#endif
#endif

static inline void _pcpu_state_lock(void)
{
	/* With one thread an odd count means that this thread holds the lock already: a
	 * signal handler entered the allocator while its thread was inside, and would
	 * change the state under its feet (mutex.h does not take the mutex then) */
	if (__builtin_expect(PCPU_SINGLE_THREADED() &&
			     (__atomic_load_n(&_pcpu_state_seq, __ATOMIC_RELAXED) & 1), 0))
		_pcpu_mutex_reentered(&_pcpu_alloc.lock);
	/* the holder is asked for only under LIBPERCPU_DEBUG (alloc_internal.h) */
	_pcpu_mutex_lock_tracked(&_pcpu_alloc.lock, _pcpu_alloc.debug);
	__atomic_store_n(&_pcpu_state_seq, _pcpu_state_seq + 1, __ATOMIC_RELAXED);
	/* the odd count is visible before any change (the reader is another process; TSan,
	 * which sees no reader, does not support the fence) */
#ifndef PCPU_TSAN
	__atomic_thread_fence(__ATOMIC_RELEASE);
#endif
}

static inline void _pcpu_state_unlock(void)
{
	__atomic_store_n(&_pcpu_state_seq, _pcpu_state_seq + 1, __ATOMIC_RELEASE);
	_pcpu_mutex_unlock(&_pcpu_alloc.lock);
}

#endif
