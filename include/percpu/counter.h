/* SPDX-License-Identifier: MIT */
/* percpu/counter.h - batched per-CPU counters, the kernel's percpu_counter
 * (lib/percpu_counter.c).  Included by <percpu.h>; see pcpu_counter(3).
 *
 * A pcpu_counter is a 64-bit shared count plus a 32-bit delta per possible CPU.  An add
 * goes to the delta of the CPU the thread runs on, without a lock, while that delta stays
 * within (-batch, batch); otherwise the thread takes the counter's lock (a lock word:
 * one atomic exchange; a waiter spins briefly, then sleeps) and folds the delta and the
 * amount into the shared count.  So adds scale with the number of CPUs,
 * pcpu_counter_read() is one load but approximate (off by less than batch per possible
 * CPU), and pcpu_counter_sum() is exact but takes the lock and visits every CPU.
 *
 *     struct pcpu_counter c;
 *     if (pcpu_counter_init(&c, 0, PCPU_GFP_KERNEL))  ... errno ...
 *     pcpu_counter_inc(&c);  pcpu_counter_add(&c, -5);
 *     int64_t approx = pcpu_counter_read(&c), exact = pcpu_counter_sum(&c);
 *     pcpu_counter_destroy(&c);
 *
 * Thread-safety: unless a function says otherwise, every function may be called from any
 * number of threads at once on the same counter, between its pcpu_counter_init() and its
 * pcpu_counter_destroy().  None may be called from a signal handler (the slow paths take
 * the counter's lock), nor on a counter that is not initialized, except pcpu_counter_destroy():
 * such a call (all-zero, destroyed or failed-init counter, or NULL) prints
 * "libpercpu: CALL: ADDRESS: counter not initialized ..." on stderr and aborts.  The
 * lock is a member of the structure: do not copy or move an initialized counter.
 * A process that fork()s while another thread holds a counter's lock (inside a fold,
 * pcpu_counter_sum(), _set() or _compare()) must not use that counter in the child.
 *
 * Arithmetic: the count is kept modulo 2^64, as the kernel's (which is compiled with
 * wrapping signed arithmetic): adds that take it past INT64_MAX wrap, they are not
 * undefined behaviour.
 */
#ifndef PERCPU_COUNTER_H
#define PERCPU_COUNTER_H

#include <pthread.h>
#include <stdint.h>

#include <percpu.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pcpu_counter {
	/* Guards the folds of deltas into count, sum, set: a lock word and a count of the
	 * threads asleep on it (src/counter.c); the union keeps the size and layout of
	 * libpercpu 0.1, where it was a mutex. */
	union {
		struct {
			uint32_t __pcpu_held, __pcpu_sleepers;
		} __pcpu_word;
		pthread_mutex_t __pcpu_layout;
	} lock;
	int64_t count;              /* written under lock, read atomically without it */
	int32_t __pcpu *counters;   /* per-CPU deltas from pcpu_alloc_gfp(); NULL when the
				     * counter is not initialized */
	struct pcpu_counter *__pcpu_prev, *__pcpu_next; /* the library's list of counters,
							  * for CPU hotplug */
};

/* Initializes @fbc with the value @amount: allocates the per-CPU deltas with
 * pcpu_alloc_gfp(4, 4, @gfp) (PCPU_GFP_KERNEL, or PCPU_GFP_ATOMIC, which never blocks on
 * page population but fails sooner) and initializes the lock.
 * Returns 0, or -1 with errno: EINVAL (@fbc NULL, or @gfp not a PCPU_GFP_* value),
 * ENOMEM (no per-CPU memory).  On failure @fbc is left uninitialized but safe to pass
 * to pcpu_counter_destroy() (and to init again).
 * Not thread-safe on the same @fbc (nothing else may use it during the call). */
PCPU_API int pcpu_counter_init(struct pcpu_counter *fbc, int64_t amount, unsigned int gfp);

/* Initializes the @nr counters @fbc[0] .. @fbc[nr - 1] with the value @amount, their
 * deltas sharing one per-CPU allocation of @nr * 4 bytes (the kernel's
 * percpu_counter_init_many(), for objects holding several counters).  Returns 0, or -1
 * with errno: EINVAL (@fbc NULL, @nr 0 or above PCPU_MAX_ALLOC_SIZE / 4, bad @gfp),
 * ENOMEM; on failure every counter is left uninitialized and destroyable.  Destroy them
 * together with pcpu_counter_destroy_many(), never one by one: the first owns the
 * allocation.  Not thread-safe on the same counters. */
PCPU_API int pcpu_counter_init_many(struct pcpu_counter *fbc, int64_t amount, unsigned int gfp,
				    unsigned int nr);
/* Destroys @nr counters initialized together by pcpu_counter_init_many() (a no-op if
 * the first is not initialized).  Not thread-safe on the same counters. */
PCPU_API void pcpu_counter_destroy_many(struct pcpu_counter *fbc, unsigned int nr);

/* Frees the per-CPU deltas.  A no-op on a counter that is not initialized: all-zero
 * (static or memset), after a failed init, or already destroyed.
 * Not thread-safe on the same @fbc: no other call on it may run or follow (but a new
 * pcpu_counter_init()). */
PCPU_API void pcpu_counter_destroy(struct pcpu_counter *fbc);

/* Sets the counter to @amount: zeroes every CPU's delta and sets the count, under the
 * lock.  Like the kernel's, it must not race with adds on the same counter: the per-CPU
 * updates are atomic only with respect to the CPU they run on, so an add running at the
 * same time may be lost, or may put back part of the value from before the set.  Reads,
 * sums and compares may run at the same time: they see the value from before the set
 * or the one after it. */
PCPU_API void pcpu_counter_set(struct pcpu_counter *fbc, int64_t amount);

/* Adds @amount.  While |this CPU's delta + @amount| < @batch it only updates this CPU's
 * delta (lock-free, no system call); otherwise it takes the lock, moves this CPU's delta
 * into the count and adds @amount there.  @batch <= 1 makes every non-zero add take the
 * lock.  The batch bounds how far pcpu_counter_read() may be off: less than the largest
 * batch in use per possible CPU.  Thread-safe; may block briefly on the lock. */
PCPU_API void pcpu_counter_add_batch(struct pcpu_counter *fbc, int64_t amount, int32_t batch);
/* pcpu_counter_add_batch() with the default batch, pcpu_counter_batch(). */
PCPU_API void pcpu_counter_add(struct pcpu_counter *fbc, int64_t amount);
/* Add 1, add -1 (default batch). */
PCPU_API void pcpu_counter_inc(struct pcpu_counter *fbc);
PCPU_API void pcpu_counter_dec(struct pcpu_counter *fbc);
/* Add / subtract @amount with the largest batch (the kernel's
 * PERCPU_COUNTER_LOCAL_BATCH): the amount stays in this CPU's delta unless that would
 * overflow it, so pcpu_counter_read() and the compare calls no longer bound the error;
 * for counters that are only ever summed (pcpu_counter_sum()). */
PCPU_API void pcpu_counter_add_local(struct pcpu_counter *fbc, int64_t amount);
PCPU_API void pcpu_counter_sub_local(struct pcpu_counter *fbc, int64_t amount);

/* Adds @amount if the value stays at or below @limit (@amount > 0) or at or above it
 * (@amount < 0), and returns whether it did (an @amount of 0 always succeeds).  Lock-free while the value
 * is far enough from @limit that no delta can matter (more than (batch - 1) * (N + 1),
 * N possible CPUs: see pcpu_counter_read()); else decides on the exact sum, under the
 * lock.  Exact when it does not overlap other adds; as the kernel's, calls that overlap
 * may together pass @limit by the amounts in flight (a lock-free add decided on a count
 * that a locked one then raised).  Every default-batch add keeps that bound: do not mix
 * with larger batches.  Thread-safe; may block briefly on the lock. */
PCPU_API bool pcpu_counter_limited_add(struct pcpu_counter *fbc, int64_t limit, int64_t amount);

/* The count without the per-CPU deltas: one atomic load, no lock, approximate.  With
 * every add using a batch of at most B, it is within N * (B - 1) of the sum, N being the
 * number of possible CPUs, when no add runs, and within (N + 1) * (B - 1) of the value
 * while adds run (a fold in progress holds one CPU's delta for a moment, while other
 * threads may refill it).  It may be negative for a counter whose sum never is. */
PCPU_API int64_t pcpu_counter_read(const struct pcpu_counter *fbc);
/* pcpu_counter_read(), or 0 if that is negative (the kernel's current behaviour). */
PCPU_API int64_t pcpu_counter_read_positive(const struct pcpu_counter *fbc);

/* The exact value: the count plus every possible CPU's delta, under the lock.  With adds
 * running at the same time, the result includes every add that returned before the call
 * began and any subset of those that overlap it: an amount is never in flight outside
 * both the deltas and the count.  Takes the lock; O(possible CPUs). */
PCPU_API int64_t pcpu_counter_sum(struct pcpu_counter *fbc);
/* pcpu_counter_sum(), or 0 if that is negative. */
PCPU_API int64_t pcpu_counter_sum_positive(struct pcpu_counter *fbc);

/* Compares the counter with @rhs: 1 if greater, 0 if equal, -1 if less.  Uses the cheap
 * pcpu_counter_read() when it is farther than @batch * (N + 1) from @rhs (N possible
 * CPUs; see pcpu_counter_read()), so that the deltas cannot change the answer, and
 * pcpu_counter_sum() otherwise.  The answer is exact as long as every add used a batch
 * of at most @batch (with concurrent adds: exact for some subset of them, as for
 * pcpu_counter_sum()).  The kernel's bound is @batch * online CPUs: here a thread may
 * still add to the delta of a CPU after pcpu_cpus_refresh() saw it go offline and
 * folded it (the sched_getcpu fallback reads the CPU number before the add), and a
 * fold in progress can leave one more batch outside the count.  Not exact across
 * wrap-around of the count. */
PCPU_API int pcpu_counter_compare_batch(struct pcpu_counter *fbc, int64_t rhs, int32_t batch);
/* pcpu_counter_compare_batch() with the default batch. */
PCPU_API int pcpu_counter_compare(struct pcpu_counter *fbc, int64_t rhs);

/* The default batch, as the kernel computes it: max(32, 2 * online CPUs).  The online
 * CPUs are those at the first call: the value never changes (the kernel recomputes it
 * on CPU hotplug; pcpu_cpus_refresh() leaves it). */
PCPU_API int32_t pcpu_counter_batch(void);

/* The adds are inline where the this_cpu operations use rseq sections: one section adds
 * to this CPU's delta while it stays within the batch (the common case, about the cost
 * of pcpu_this_add()); anything else (a fold, an uninitialized counter to report, the
 * batch not known yet, no rseq) calls the library's function of the same name, which
 * the parenthesized name (pcpu_counter_add)(...) also reaches directly. */
/* Internal, for the inline adds below: moves this CPU's delta and @amount into the count,
 * under the lock (the slow path of an add whose section found the batch passed). */
PCPU_API void __pcpu_counter_fold(struct pcpu_counter *fbc, int64_t amount);

#ifdef __PCPU_HAVE_RSEQ_OPS
/* One attempt to add @amount to this CPU's delta of @fbc within @batch, with the stable
 * (@f 0) or fresh (@f 1) fields of __pcpu_fast: a section's result, or NOCPU where no
 * section ran (no counter, an amount outside the batch).  The deltas come from
 * pcpu_alloc_gfp(), never from a static section, and unit offsets are the same in
 * every chunk: so, unlike the this_cpu operations, no check that the object is per-CPU
 * (the arena's bounds, a static section's): an initialized counter's deltas always
 * are, and an uninitialized one has none (NULL, which the library reports).  A @batch
 * of 0 or less (not known yet, or the caller's) fails the range test. */
__PCPU_INLINE int __pcpu_counter_try(struct pcpu_counter *__pcpu_fbc, int64_t __pcpu_amount,
				     int32_t __pcpu_batch, int __pcpu_f)
{
	char *__pcpu_c;

	if (__builtin_expect(!__pcpu_fbc || __pcpu_amount <= -(int64_t)__pcpu_batch ||
				     __pcpu_amount >= (int64_t)__pcpu_batch, 0))
		return __PCPU_RSEQ_NOCPU;
	__pcpu_c = (char *)__pcpu_fbc->counters;
	if (__builtin_expect(!__pcpu_c, 0))
		return __PCPU_RSEQ_NOCPU;
	return __pcpu_rseq_add_within_4(__pcpu_c, (int32_t)__pcpu_amount, __pcpu_batch, __pcpu_f);
}
#define pcpu_counter_add_batch(fbc, amount, batch) __pcpu_counter_add_x((fbc), (amount), (batch), 0)
#define pcpu_counter_add(fbc, amount) __pcpu_counter_add_x((fbc), (amount), 0, 1)
#define pcpu_counter_inc(fbc) __pcpu_counter_add_x((fbc), 1, 0, 2)
#define pcpu_counter_dec(fbc) __pcpu_counter_add_x((fbc), -1, 0, 3)
/* @call: 0 pcpu_counter_add_batch (with @batch), 1 _add, 2 _inc, 3 _dec (the default
 * batch, __pcpu_fast.counter_batch: 0 until the library computed it); the library
 * function it falls back on is that one, which reports misuse under its own name.
 * The first attempt reads only stable fields, which the compiler keeps in registers
 * across a loop; past the batch (CMPFAIL) the library folds at once; an abort or
 * stale fields (a batch or index bound read as 0) make a second attempt with fresh
 * fields, retried while it aborts, out of the way of the first. */
__PCPU_INLINE void __pcpu_counter_add_x(struct pcpu_counter *__pcpu_fbc, int64_t __pcpu_amount,
					int32_t __pcpu_batch, int __pcpu_call)
{
	int __pcpu_r = __pcpu_counter_try(
		__pcpu_fbc, __pcpu_amount,
		__pcpu_call ? (int32_t)__pcpu_fld_counter_batch(0) : __pcpu_batch, 0);

	if (__builtin_expect(__pcpu_r == __PCPU_RSEQ_DONE, 1))
		return;
	if (__pcpu_r == __PCPU_RSEQ_CMPFAIL) {
		__pcpu_counter_fold(__pcpu_fbc, __pcpu_amount);
		return;
	}
	if (__PCPU_RSEQ_RUN(__pcpu_counter_try(
		    __pcpu_fbc, __pcpu_amount,
		    __pcpu_call ? (int32_t)__pcpu_fld_counter_batch(1) : __pcpu_batch, 1)) ==
	    __PCPU_RSEQ_DONE)
		return;
	switch (__pcpu_call) {
	case 0: (pcpu_counter_add_batch)(__pcpu_fbc, __pcpu_amount, __pcpu_batch); break;
	case 1: (pcpu_counter_add)(__pcpu_fbc, __pcpu_amount); break;
	case 2: (pcpu_counter_inc)(__pcpu_fbc); break;
	default: (pcpu_counter_dec)(__pcpu_fbc); break;
	}
}
#endif

#ifdef __cplusplus
}
#endif

#endif /* PERCPU_COUNTER_H */
