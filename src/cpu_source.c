/* SPDX-License-Identifier: MIT */
/* cpu_source.c - which CPU the calling thread runs on.  The fast path (percpu.h) reads cpu_id
 * from the thread's rseq area at thread pointer + __pcpu_fast.rseq_offset.  This file
 * chooses that area once: glibc's own registration when it made one (__rseq_offset,
 * __rseq_size), else an area of ours registered per thread on first use and unregistered
 * at thread exit; where rseq is unavailable (ENOSYS, seccomp) it points at an area that
 * stays unregistered so that every call takes the slow path, sched_getcpu(). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/* The signature must be the one the sections' abort handlers carry: on x86-64 it comes
 * from the same definition (percpu/arch/x86_64.h); other architectures have no rseq
 * sections yet, only the kernel's documented value for their registration. */
#if defined(__PCPU_RSEQ_SIG)
#define PCPU_RSEQ_SIG ((uint32_t)__PCPU_RSEQ_SIG)
#elif defined(__aarch64__)
#define PCPU_RSEQ_SIG 0xd428bc00u
#else
#define PCPU_RSEQ_SIG 0x53053053u
#endif
#define PCPU_RSEQ_FLAG_UNREGISTER 1
#define PCPU_RSEQ_CPU_ID_UNINITIALIZED ((uint32_t)-1)

/* The kernel's struct rseq, version 0 layout (32 bytes, 32-byte aligned). */
struct pcpu_rseq_area {
	uint32_t cpu_id_start;
	uint32_t cpu_id;
	uint64_t rseq_cs;
	uint32_t flags;
	uint32_t node_id;
	uint32_t mm_cid;
	uint32_t pad;
} __attribute__((aligned(32)));
#if defined(__PCPU_RSEQ_SIG)
_Static_assert(offsetof(struct pcpu_rseq_area, cpu_id) == __PCPU_RSEQ_CPU_ID_OFFSET,
	       "the sections read cpu_id where the kernel writes it");
_Static_assert(offsetof(struct pcpu_rseq_area, rseq_cs) == __PCPU_RSEQ_CS_OFFSET,
	       "the sections store their descriptor where the kernel reads it");
#endif

/* glibc 2.35+ exports these; weak so that the library loads under any libc. */
extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));

/* Initial-exec TLS: its offset from the thread pointer is the same in every thread. */
/* Both indexes start out of range, so that a thread not registered yet takes the slow
 * path in either index mode (the kernel's unregistration sets mm_cid to 0: it is put
 * back below). */
static __thread struct pcpu_rseq_area own_area
	__attribute__((tls_model("initial-exec"))) = { .cpu_id = PCPU_RSEQ_CPU_ID_UNINITIALIZED,
						       .mm_cid = PCPU_RSEQ_CPU_ID_UNINITIALIZED };
static __thread int own_state __attribute__((tls_model("initial-exec"))); /* 0 new, 1 registered, -1 failed */

enum { MODE_GLIBC, MODE_OWN, MODE_GETCPU };
/* CONTEXT: written once by _pcpu_cpu_init() inside initialization, read after it (the
 * entry points' acquire of "initialized" orders them); own_area and own_state are
 * per thread. */
static int cpu_mode = MODE_GETCPU;
/* The field of the rseq area that indexes units: cpu_id, or mm_cid in cid mode. */
static size_t index_field = offsetof(struct pcpu_rseq_area, cpu_id);
static pthread_key_t exit_key;

static const char *const mode_names[] = {
	[MODE_GLIBC] = "rseq (glibc registration)",
	[MODE_OWN] = "rseq (libpercpu registration)",
	[MODE_GETCPU] = "sched_getcpu (rseq unavailable)",
};

static long rseq_syscall(struct pcpu_rseq_area *area, int flags)
{
	return syscall(SYS_rseq, area, sizeof(*area), flags, PCPU_RSEQ_SIG);
}

static void unregister_at_exit(void *arg)
{
	sigset_t all, old;

	(void)arg;
	if (own_state != 1)
		return;
	/* The kernel writes to the area until unregistered; the area dies with the thread.
	 * Unregistering leaves 0 in mm_cid, a valid ID: until it is put back out of range,
	 * a signal handler's this_cpu operation in cid mode would run its section on ID 0's
	 * copy unprotected (no abort on preemption) while another thread holds ID 0, and
	 * lose an update.  Signals wait until the area says "unregistered" again. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (rseq_syscall(&own_area, PCPU_RSEQ_FLAG_UNREGISTER) == 0) {
		own_state = 0;
		/* a later this_cpu operation (a signal handler, another key's destructor)
		 * finds no index and registers again */
		__atomic_store_n(&own_area.mm_cid, PCPU_RSEQ_CPU_ID_UNINITIALIZED, __ATOMIC_RELAXED);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static int register_own(void)
{
	if (own_state)
		return own_state > 0 ? 0 : -1;
	if (rseq_syscall(&own_area, 0) != 0) {
		own_state = -1;
		return -1;
	}
	own_state = 1;
	/* any non-NULL value makes the key's destructor run at thread exit */
	pthread_setspecific(exit_key, &own_area);
	return 0;
}

/* The rseq area is at thread pointer + @offset in every thread; this_cpu operations
 * index units by its cpu_id (by its mm_cid once _pcpu_cpu_set_index() says so). */
static void set_area(ptrdiff_t offset)
{
	__pcpu_fast.rseq_offset = offset;
	__pcpu_fast.rseq_index_offset = offset + (ptrdiff_t)offsetof(struct pcpu_rseq_area, cpu_id);
}

/* Chooses the CPU source; returns whether this_cpu operations may use rseq sections. */
bool _pcpu_cpu_init(void)
{
	const char *force = _pcpu_option(PCPU_OPT_CPU_SOURCE);
	bool use_rseq = false;

	if (force && strcmp(force, "getcpu") != 0) {
		/* a misspelt setting must not pass for the default without a word; not an
		 * error, though: the default works */
		int saved = errno;

		_pcpu_option_bad(PCPU_OPT_CPU_SOURCE, "unknown value (the one value is getcpu); "
				 "ignored");
		errno = saved;
		force = NULL;
	}

	if (&__rseq_size && &__rseq_offset && __rseq_size >= 8 &&
	    !(force && strcmp(force, "getcpu") == 0)) {
		cpu_mode = MODE_GLIBC;
		set_area(__rseq_offset);
		use_rseq = true;
		return use_rseq;
	}
	set_area((char *)&own_area - (char *)__pcpu_thread_pointer());
	if (force && strcmp(force, "getcpu") == 0) {
		own_state = -1;
		cpu_mode = MODE_GETCPU;
		return use_rseq;
	}
	if (pthread_key_create(&exit_key, unregister_at_exit) == 0 && register_own() == 0) {
		cpu_mode = MODE_OWN;
		use_rseq = true;
		return use_rseq;
	}
	/* EINVAL/EBUSY: another registration (an unknown libc's) owns this thread */
	cpu_mode = MODE_GETCPU;
	return use_rseq;
}

/* The part of the registered area the kernel fills, as far as the registration limits
 * it (the kernel's own feature size limits it further: index.c).  glibc up to 2.39
 * says 32, and glibc 2.40 (and its backports, Debian 12's 2.36 among them) says 20
 * without asking the kernel, both for a 32-byte area: both mean 32, as librseq reads
 * them.  Any other value is the active feature size itself. */
unsigned int _pcpu_cpu_area_size(void)
{
	if (cpu_mode == MODE_GLIBC)
		return __rseq_size == 20 ? 32 : __rseq_size;
	return cpu_mode == MODE_OWN ? (unsigned int)sizeof(own_area) : 0;
}

void _pcpu_cpu_set_index(bool cid)
{
	index_field = cid ? offsetof(struct pcpu_rseq_area, mm_cid) :
			    offsetof(struct pcpu_rseq_area, cpu_id);
	__pcpu_fast.rseq_index_offset = __pcpu_fast.rseq_offset + (ptrdiff_t)index_field;
}

/* The calling thread's index as its rseq area holds it now (out of range if none). */
static uint32_t area_index(void)
{
	return *(const volatile uint32_t *)((char *)__pcpu_thread_pointer() +
					     __pcpu_fast.rseq_offset + index_field);
}

/* The source in use; sched_getcpu's until _pcpu_cpu_init() chose. */
const char *_pcpu_cpu_source_name(void)
{
	return mode_names[cpu_mode];
}

/* A this_cpu operation found no CPU in the thread's rseq area: register the thread's
 * own area if that is the mode; true if rseq sections can now be used by this thread. */
bool _pcpu_cpu_rseq_thread_ok(void)
{
	if (cpu_mode == MODE_GETCPU)
		return 0;
	if (cpu_mode == MODE_OWN && own_state == 0)
		register_own();
	if (cpu_mode == MODE_OWN)
		return own_state == 1;
	/* glibc's area: usable only if it holds a CPU (someone may have unregistered it) */
	return area_index() < _pcpu_geo->topo.nr_cpu_ids;
}

/* The CPU of the calling thread when the inline fast path found none. */
unsigned int _pcpu_cpu_current_slow(void)
{
	const struct pcpu_topology *topo = &_pcpu_geo->topo;
	unsigned int first = 0;
	int cpu;

	if (cpu_mode == MODE_OWN && own_state == 0 && register_own() == 0 &&
	    area_index() < topo->nr_cpu_ids)
		return area_index();
	if (_pcpu_index_cid()) {
		/* no ID here (a registration that failed), or one beyond the space: any ID's
		 * copy is correct to use, as any CPU's is below */
		uint32_t id = area_index();

		return id == PCPU_RSEQ_CPU_ID_UNINITIALIZED ? 0 : id % topo->nr_cpu_ids;
	}
	cpu = sched_getcpu();
	if (cpu >= 0 && (unsigned int)cpu < topo->nr_cpu_ids)
		return (unsigned int)cpu;
	/* getcpu failed, or a CPU outside the possible mask (hotplug racing the sysfs
	 * read): any possible CPU's copy is correct to use, the first one is. */
	while (first < topo->nr_cpu_ids && !_pcpu_topology_test(topo->possible, first))
		first++;
	return first;
}
