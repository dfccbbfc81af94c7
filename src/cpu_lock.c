/* SPDX-License-Identifier: MIT */
/* cpu_lock.c - pcpu_get_cpu()/pcpu_put_cpu(): the kernel's get_cpu()/put_cpu() as a lock per
 * CPU number.
 *
 * The kernel's get_cpu() disables preemption; a process cannot, so each possible CPU
 * has a lock word of its own (one cache line each, allocated on first use) and
 * pcpu_get_cpu() locks the word of the CPU it runs on.  The word holds the owner's
 * thread id, plus a bit that says a thread sleeps on it (the futex protocol of Drepper's
 * "Futexes Are Tricky", mutex3, with the owner's id in place of 1):
 *
 *   0            free
 *   tid          held by thread tid, nobody asleep
 *   tid|WAITERS  held, and a thread may be asleep in FUTEX_WAIT on the word
 *
 * Knowing the owner makes taking a lock idempotent for its owner, which is what lets a
 * signal handler nest anywhere in the thread it interrupts (see below).
 *
 * Per thread, one initial-exec TLS word holds the nesting depth and the held CPU,
 * changed only by single stores so that a signal handler of the thread sees either the
 * old or the new value:
 *
 *   bits 63..32  held CPU (last held CPU when the depth is 0)
 *   bit  31      RELEASING: the outermost put is freeing that CPU's lock
 *   bits 30..0   depth
 *
 * Signal handlers.  get and put are balanced within a handler, so a handler leaves the
 * TLS word as it found it.  Where it can interrupt:
 *  - a holder (depth > 0): it nests and returns the held CPU, no wait;
 *  - an outermost get after the depth was stored, before the lock is owned (maybe
 *    asleep on the futex): it nests and takes the lock itself, for both; the interrupted
 *    get then finds the lock owned by its thread and returns;
 *  - an outermost put after RELEASING was stored: if the lock is still owned, the
 *    handler takes the same CPU (owned already) and frees it in its put; the interrupted
 *    put then finds the lock no longer owned and does nothing.  This is why release
 *    checks the owner with a compare-and-swap instead of storing 0.
 *  Anywhere else the thread holds nothing and the handler is an ordinary caller.
 *
 * fork().  The child has one thread, the one that forked: an atfork child handler frees
 * every lock except the one that thread holds, which gets the child's new thread id.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define LOCK_WAITERS 0x80000000u
#define ST_RELEASING 0x80000000u
#define ST_DEPTH_MASK 0x7fffffffu
#define SPIN_TRIES 64

struct cpu_lock {
	uint32_t word;
} __attribute__((aligned(PCPU_CACHELINE)));

static struct cpu_lock *locks;   /* nr_locks entries, published once (release) */
static unsigned int nr_locks;
static pthread_once_t locks_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;
static bool exit_key_ok;

static __thread uint64_t tls_state __attribute__((tls_model("initial-exec")));
static __thread uint32_t tls_tid __attribute__((tls_model("initial-exec"))); /* 0: unset */

static inline unsigned int st_cpu(uint64_t s)
{
	return (unsigned int)(s >> 32);
}

static inline unsigned int st_depth(uint64_t s)
{
	return (unsigned int)s & ST_DEPTH_MASK;
}

/* Stores the TLS word; the signal fences keep it in program order with the lock's
 * atomics, as a handler of this thread sees them. */
static inline void st_set(uint64_t s)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&tls_state, s, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static inline bool owned_by(uint32_t v, uint32_t tid)
{
	return (v & ~LOCK_WAITERS) == tid;
}

static __attribute__((noinline)) void lock_slow(uint32_t *word, uint32_t tid)
{
	uint32_t v;

	for (int i = 0; i < SPIN_TRIES; i++) {
		_pcpu_cpu_relax();
		v = __atomic_load_n(word, __ATOMIC_RELAXED);
		if (owned_by(v, tid))
			return;
		if (v == 0 && __atomic_compare_exchange_n(word, &v, tid, false, __ATOMIC_ACQUIRE,
							  __ATOMIC_RELAXED))
			return;
		if (v & LOCK_WAITERS)
			break; /* others already sleep: queue behind them */
	}
	for (;;) {
		v = __atomic_load_n(word, __ATOMIC_RELAXED);
		if (owned_by(v, tid))
			return; /* a signal handler of this thread took it for us */
		if (v == 0) {
			/* having slept, we may not be the only waiter: keep the bit so that our
			 * release wakes the next one */
			if (__atomic_compare_exchange_n(word, &v, tid | LOCK_WAITERS, false,
							__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
				return;
			continue;
		}
		if (!(v & LOCK_WAITERS) &&
		    !__atomic_compare_exchange_n(word, &v, v | LOCK_WAITERS, false,
						 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			continue;
		_pcpu_futex_wait(word, v | LOCK_WAITERS, 0);
	}
}

/* Makes @word owned by @tid; returns at once if it already is. */
static inline void lock_take(uint32_t *word, uint32_t tid)
{
	uint32_t v = 0;

	if (__builtin_expect(__atomic_compare_exchange_n(word, &v, tid, false, __ATOMIC_ACQUIRE,
							 __ATOMIC_RELAXED), 1))
		return;
	if (owned_by(v, tid))
		return;
	lock_slow(word, tid);
}

/* Frees @word if @tid owns it, and wakes a sleeper if one may wait. */
static inline void lock_release(uint32_t *word, uint32_t tid)
{
	uint32_t v = tid;

	if (__builtin_expect(__atomic_compare_exchange_n(word, &v, 0, false, __ATOMIC_RELEASE,
							 __ATOMIC_RELAXED), 1))
		return;
	/* Only the owner clears the word; others only add LOCK_WAITERS. */
	while (owned_by(v, tid))
		if (__atomic_compare_exchange_n(word, &v, 0, false, __ATOMIC_RELEASE,
						__ATOMIC_RELAXED)) {
			if (v & LOCK_WAITERS)
				_pcpu_futex_wake(word, 1);
			return;
		}
}

static void thread_exit(void *arg)
{
	uint64_t s = tls_state;

	(void)arg;
	if (!st_depth(s))
		return;
	/* As the kernel does for a task that exits with preemption disabled: say so and
	 * repair, so that the other threads do not wait for the CPU forever. */
	fprintf(stderr, "libpercpu: pcpu_get_cpu: thread %u exited holding CPU %u "
		"(%u pcpu_put_cpu() missing); released\n", tls_tid, st_cpu(s), st_depth(s));
	st_set((uint64_t)st_cpu(s) << 32);
	lock_release(&__atomic_load_n(&locks, __ATOMIC_RELAXED)[st_cpu(s)].word, tls_tid);
}

static void locks_init(void)
{
	unsigned int n = pcpu_nr_cpu_ids();
	void *mem;

	if (!n)
		_pcpu_fatal("pcpu_get_cpu", "library initialization failed: %s",
			   strerror(_pcpu_init_errno()));
	if (posix_memalign(&mem, PCPU_CACHELINE, (size_t)n * sizeof(struct cpu_lock)))
		_pcpu_fatal("pcpu_get_cpu", "cannot allocate %u CPU locks", n);
	memset(mem, 0, (size_t)n * sizeof(struct cpu_lock));
	/* without the key, a thread that exits holding a CPU goes unnoticed */
	exit_key_ok = pthread_key_create(&exit_key, thread_exit) == 0;
	nr_locks = n;
	__atomic_store_n(&locks, (struct cpu_lock *)mem, __ATOMIC_RELEASE);
}

static __attribute__((noinline)) struct cpu_lock *locks_setup(void)
{
	pthread_once(&locks_once, locks_init);
	return locks;
}

/* First get of a thread: its id for the lock words, and the exit check. */
static __attribute__((noinline)) void thread_setup(void)
{
	tls_tid = (uint32_t)syscall(SYS_gettid);
	if (exit_key_ok)
		pthread_setspecific(exit_key, &tls_state); /* any non-NULL value */
}

unsigned int pcpu_get_cpu(void)
{
	uint64_t s = __atomic_load_n(&tls_state, __ATOMIC_RELAXED);
	struct cpu_lock *l = __atomic_load_n(&locks, __ATOMIC_ACQUIRE);
	unsigned int cpu;

	if (__builtin_expect(!l, 0))
		l = locks_setup();
	if (st_depth(s)) {
		if (__builtin_expect(st_depth(s) == ST_DEPTH_MASK, 0))
			_pcpu_fatal("pcpu_get_cpu", "nesting deeper than %u", ST_DEPTH_MASK);
		cpu = st_cpu(s);
		st_set(s + 1);
		/* owned already, unless this is a signal handler that interrupted a get */
		if (__builtin_expect(!owned_by(__atomic_load_n(&l[cpu].word, __ATOMIC_RELAXED),
					       tls_tid), 0))
			lock_take(&l[cpu].word, tls_tid);
		return cpu;
	}
	if (__builtin_expect(!tls_tid, 0))
		thread_setup();
	cpu = st_cpu(s);
	if (__builtin_expect(!(s & ST_RELEASING), 1) ||
	    !owned_by(__atomic_load_n(&l[cpu].word, __ATOMIC_RELAXED), tls_tid))
		cpu = pcpu_current_cpu();
	st_set((uint64_t)cpu << 32 | 1);
	lock_take(&l[cpu].word, tls_tid);
	return cpu;
}

void pcpu_put_cpu(void)
{
	uint64_t s = __atomic_load_n(&tls_state, __ATOMIC_RELAXED);
	uint64_t cpu_bits = s & ~(uint64_t)UINT32_MAX;

	if (__builtin_expect(!st_depth(s), 0))
		_pcpu_fatal("pcpu_put_cpu", "no matching pcpu_get_cpu() in this thread");
	if (st_depth(s) > 1) {
		st_set(s - 1);
		return;
	}
	st_set(cpu_bits | ST_RELEASING);
	lock_release(&__atomic_load_n(&locks, __ATOMIC_RELAXED)[st_cpu(s)].word, tls_tid);
	st_set(cpu_bits);
}

/* In the child of fork(): the threads that held or waited for CPUs are gone. */
static void atfork_child(void)
{
	struct cpu_lock *l = __atomic_load_n(&locks, __ATOMIC_ACQUIRE);
	uint64_t s = tls_state;

	if (tls_tid)
		tls_tid = (uint32_t)syscall(SYS_gettid);
	if (!l)
		return;
	for (unsigned int cpu = 0; cpu < nr_locks; cpu++)
		__atomic_store_n(&l[cpu].word, 0, __ATOMIC_RELAXED);
	if (st_depth(s))
		__atomic_store_n(&l[st_cpu(s)].word, tls_tid, __ATOMIC_RELAXED);
}

/* At load time, before any lock can be taken, so that every fork() resets them. */
__attribute__((constructor(101))) static void getcpu_register_atfork(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
}
