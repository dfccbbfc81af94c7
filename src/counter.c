/* SPDX-License-Identifier: MIT */
/* counter.c - batched per-CPU counters, after the kernel's lib/percpu_counter.c.
 *
 * State: a shared 64-bit count under a lock, and a 32-bit delta per possible CPU
 * (pcpu_alloc).  The value of the counter is count + the sum of the deltas.
 *
 * Adds.  The fast path adds to the delta of the CPU the thread runs on, as long as the
 * new delta stays within (-batch, batch): inline, one rseq section that checks the bound
 * and stores (<percpu/counter.h>); here, a this_cpu try_cmpxchg loop.  The update is
 * atomic with respect to every other this_cpu operation on that CPU's copy, whichever
 * thread runs it.  Past the batch, the slow path takes the lock, swaps this CPU's delta
 * for 0 (one rseq section, else this_cpu xchg) and adds it and the amount to the count.
 * The swap happens inside the lock (the kernel's, since preemption and interrupts are
 * off around it, has the same effect): an amount is always either in a delta or in the
 * count, never in a thread's hands between the two while the lock is free.  The thread may have moved to
 * another CPU between the failed check and the lock; it then folds that CPU's delta,
 * which is as correct (any delta may be folded at any time under the lock).
 *
 * Sums.  Under the lock, count + every possible CPU's delta read with atomic loads.  A
 * delta changes outside the lock only by a fast-path add of its own CPU, which is an add
 * that overlaps the sum; moves between the deltas and the count need the lock.  So a sum
 * counts every add completed before it, and any subset of those overlapping it.
 *
 * Hotplug.  As the kernel's, every counter is on a list, and when pcpu_cpus_refresh()
 * sees a CPU go offline, _pcpu_counter_cpu_dead() folds that CPU's delta into the count
 * of each (swapped for 0 atomically, under the counter's lock), so that
 * pcpu_counter_read() stays close.  The kernel then sums the online CPUs only; here a
 * thread on the sched_getcpu fallback may still add to a CPU's delta after it went (it
 * read the CPU number before), so the deltas of every possible CPU are summed, and
 * pcpu_counter_compare_batch() bounds the error of the count by possible CPUs, not
 * online ones (plus one: see there).  The swap is atomic with respect to such atomic
 * adds; an rseq add commits with a plain store, but none runs on an offline CPU.
 *
 * Set writes every delta remotely with atomic stores.  The this_cpu operations are
 * atomic only with respect to their own CPU (an rseq commit is a plain store), so a set
 * racing with adds can lose updates; as in the kernel, callers must not let it race.
 *
 * The lock is a word, not a mutex (see "the counter's lock" below): a fold, every
 * batch-th add, costs one atomic exchange to lock and a plain store to unlock, where
 * a mutex pays a second atomic instruction (measured on bench/'s 2-CPU VM: 6.6 ns for
 * a lock and unlock of the word, 10 ns for an adaptive mutex's).  The inline adds call
 * __pcpu_counter_fold() straight from the section that found the batch passed, without
 * the entry point's checks and second attempt.
 *
 * Arithmetic on the count is modulo 2^64 (done on uint64_t), like the kernel's, which is
 * compiled with -fno-strict-overflow.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "internal.h"

/* A counter that is not initialized (all-zero, destroyed, or after a failed init) has no
 * deltas: every call but destroy reports the misuse by name instead of faulting on a
 * NULL per-CPU pointer or a destroyed mutex.  One predictable branch on the add path. */
static inline void check_counter(const struct pcpu_counter *fbc, const char *call)
{
	if (__builtin_expect(!fbc || !fbc->counters, 0))
		_pcpu_fatal(call, "%p: counter not initialized (never passed to pcpu_counter_init(), "
			   "or destroyed)", (const void *)fbc);
}

static int64_t wrap_add(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + (uint64_t)b);
}

int32_t pcpu_counter_batch(void)
{
	static int32_t batch; /* 0 until computed; kept across CPU hotplug (see counter.h) */
	int32_t b = __atomic_load_n(&batch, __ATOMIC_RELAXED);

	if (__builtin_expect(b == 0, 0)) {
		unsigned int nr = pcpu_num_online_cpus(); /* 0 if the library cannot initialize */

		b = nr > 16 ? (nr > INT32_MAX / 2 ? INT32_MAX : (int32_t)(2 * nr)) : 32;
		if (nr) {
			__atomic_store_n(&batch, b, __ATOMIC_RELAXED);
			/* for the inline adds of <percpu/counter.h> */
			__atomic_store_n(&__pcpu_fast.counter_batch, (uintptr_t)b, __ATOMIC_RELAXED);
		}
	}
	return b;
}

/* ---- the counter's lock ----------------------------------------------------------------
 * A word, 0 free, 1 held, and a count of the threads asleep on it.  Taking it is one
 * atomic exchange; releasing it a plain store of 0 (a release store is a plain store on
 * x86), then a plain load of the sleepers, and a futex wake only if there are any:
 * where a mutex pays a second atomic instruction to release.  The critical sections
 * are a few instructions (a fold) or one pass over the CPUs (a sum, set, compare,
 * limited add, hotplug fold), so a waiter first polls the word LOCK_SPINS times; then
 * it counts itself among the sleepers and sleeps on the word (the holder may be
 * preempted: userspace cannot disable preemption around a spinlock as the kernel does,
 * and a thread that only spun or yielded could keep a preempted holder of lower
 * priority from running).
 * The release's load of the sleepers may be done before its store is seen by the
 * others (x86 orders a store before a later load only with a fence, which is what it
 * saves): a thread that counted itself, then found the word still held, may then sleep
 * with no one to wake it.  In practice the store is visible long before the sleeper's
 * system call reads the word (the kernel sleeps only if it is still 1); in any case
 * each sleep is bounded, after which the sleeper looks again, so a wake lost so costs
 * at most that: LOCK_SLEEP_NS the first time, doubling up to LOCK_MAX_SLEEP_NS for a
 * holder that keeps the lock (a thread that keeps it while it does not run, as a
 * test does, then costs its waiters a few wake-ups, not one per LOCK_SLEEP_NS).  No
 * fairness (a woken thread may find the word taken again and sleep again), no owner:
 * fork() behaves as documented in <percpu/counter.h> (a lock held by another thread
 * stays held in the child). */
#define LOCK_SPINS 128
#define LOCK_SLEEP_NS 1000000L
#define LOCK_MAX_SLEEP_NS 64000000L

static __attribute__((noinline)) void lock_wait(uint32_t *held, uint32_t *sleepers)
{
	long sleep_ns = LOCK_SLEEP_NS;

	for (int i = 0; i < LOCK_SPINS; i++) {
		_pcpu_cpu_relax();
		if (!__atomic_load_n(held, __ATOMIC_RELAXED) &&
		    !__atomic_exchange_n(held, 1, __ATOMIC_ACQUIRE))
			return;
	}
	for (;;) {
		/* counted before the exchange (both are full barriers on x86), so that a
		 * release after it sees a sleeper */
		__atomic_add_fetch(sleepers, 1, __ATOMIC_SEQ_CST);
		if (!__atomic_exchange_n(held, 1, __ATOMIC_SEQ_CST)) {
			__atomic_sub_fetch(sleepers, 1, __ATOMIC_RELAXED);
			return;
		}
		_pcpu_futex_wait(held, 1, sleep_ns);
		__atomic_sub_fetch(sleepers, 1, __ATOMIC_RELAXED);
		sleep_ns = sleep_ns < LOCK_MAX_SLEEP_NS / 2 ? sleep_ns * 2 : LOCK_MAX_SLEEP_NS;
	}
}

void _pcpu_counter_lock(struct pcpu_counter *fbc)
{
	if (__builtin_expect(__atomic_exchange_n(&fbc->lock.__pcpu_word.__pcpu_held, 1,
						 __ATOMIC_ACQUIRE), 0))
		lock_wait(&fbc->lock.__pcpu_word.__pcpu_held, &fbc->lock.__pcpu_word.__pcpu_sleepers);
}

void _pcpu_counter_unlock(struct pcpu_counter *fbc)
{
	__atomic_store_n(&fbc->lock.__pcpu_word.__pcpu_held, 0, __ATOMIC_RELEASE);
	if (__builtin_expect(__atomic_load_n(&fbc->lock.__pcpu_word.__pcpu_sleepers,
					     __ATOMIC_RELAXED), 0))
		_pcpu_futex_wake(&fbc->lock.__pcpu_word.__pcpu_held, 1);
}

/* Every initialized counter, for _pcpu_counter_cpu_dead().  Lock order: the hotplug
 * registry's lock (cpuhp.c), then this, then a counter's own. */
static pthread_mutex_t counters_lock = PTHREAD_MUTEX_INITIALIZER;

/* fork(): held across it by init.c's handlers (the list is taken only for list updates
 * and the hotplug fold, never while calling out). */
void _pcpu_counter_fork_lock(void)
{
	pthread_mutex_lock(&counters_lock);
}

void _pcpu_counter_fork_unlock(void)
{
	pthread_mutex_unlock(&counters_lock);
}
static struct pcpu_counter *counters_head;

static void list_add(struct pcpu_counter *fbc)
{
	pthread_mutex_lock(&counters_lock);
	fbc->__pcpu_prev = NULL;
	fbc->__pcpu_next = counters_head;
	if (counters_head)
		counters_head->__pcpu_prev = fbc;
	counters_head = fbc;
	pthread_mutex_unlock(&counters_lock);
}

static void list_del(struct pcpu_counter *fbc)
{
	pthread_mutex_lock(&counters_lock);
	if (fbc->__pcpu_prev)
		fbc->__pcpu_prev->__pcpu_next = fbc->__pcpu_next;
	else
		counters_head = fbc->__pcpu_next;
	if (fbc->__pcpu_next)
		fbc->__pcpu_next->__pcpu_prev = fbc->__pcpu_prev;
	fbc->__pcpu_prev = fbc->__pcpu_next = NULL;
	pthread_mutex_unlock(&counters_lock);
}

void _pcpu_counter_cpu_dead(unsigned int cpu)
{
	pthread_mutex_lock(&counters_lock);
	for (struct pcpu_counter *fbc = counters_head; fbc; fbc = fbc->__pcpu_next) {
		_pcpu_counter_lock(fbc);
		int32_t delta = __atomic_exchange_n(pcpu_ptr(fbc->counters, cpu), 0, __ATOMIC_RELAXED);
		int64_t count = __atomic_load_n(&fbc->count, __ATOMIC_RELAXED);

		__atomic_store_n(&fbc->count, wrap_add(count, delta), __ATOMIC_RELAXED);
		_pcpu_counter_unlock(fbc);
	}
	pthread_mutex_unlock(&counters_lock);
}

/* As the kernel's: @nr counters share one per-CPU allocation, counter i owning the
 * i'th int32_t of it; destroy_many() frees it with the first. */
int pcpu_counter_init_many(struct pcpu_counter *fbc, int64_t amount, unsigned int gfp,
			   unsigned int nr)
{
	int32_t __pcpu *deltas;
	unsigned int i;

	if (!fbc) {
		errno = EINVAL;
		return -1;
	}
	if (nr > PCPU_MAX_ALLOC_SIZE / sizeof(int32_t)) {
		errno = EINVAL; /* before any write: the array may be shorter than @nr */
		return -1;
	}
	for (i = 0; i < nr; i++) {
		fbc[i].counters = NULL; /* destroyable whatever happens below */
		fbc[i].count = amount;
	}
	if (!nr || (gfp & ~PCPU_GFP_ATOMIC)) {
		errno = EINVAL;
		return -1;
	}
	deltas = pcpu_alloc_gfp(nr * sizeof(int32_t), sizeof(int32_t), gfp);
	if (!deltas)
		return -1; /* errno ENOMEM from pcpu_alloc_gfp() */
	(void)pcpu_counter_batch(); /* published for the inline adds before they can run */
	for (i = 0; i < nr; i++) {
		memset(&fbc[i].lock, 0, sizeof(fbc[i].lock)); /* free */
		fbc[i].counters = deltas + i;
		list_add(&fbc[i]);
	}
	return 0;
}

int pcpu_counter_init(struct pcpu_counter *fbc, int64_t amount, unsigned int gfp)
{
	return pcpu_counter_init_many(fbc, amount, gfp, 1);
}

void pcpu_counter_destroy_many(struct pcpu_counter *fbc, unsigned int nr)
{
	int32_t __pcpu *deltas;

	if (!fbc || !nr || !fbc[0].counters)
		return;
	deltas = fbc[0].counters;
	for (unsigned int i = 0; i < nr; i++) {
		if (!fbc[i].counters)
			continue;
		list_del(&fbc[i]);
		fbc[i].counters = NULL;
	}
	pcpu_free(deltas);
}

void pcpu_counter_destroy(struct pcpu_counter *fbc)
{
	pcpu_counter_destroy_many(fbc, 1);
}

void pcpu_counter_set(struct pcpu_counter *fbc, int64_t amount)
{
	unsigned int cpu;

	check_counter(fbc, "pcpu_counter_set");
	_pcpu_counter_lock(fbc);
	pcpu_for_each_possible_cpu(cpu)
		__atomic_store_n(pcpu_ptr(fbc->counters, cpu), 0, __ATOMIC_RELAXED);
	__atomic_store_n(&fbc->count, amount, __ATOMIC_RELAXED);
	_pcpu_counter_unlock(fbc);
}

/* This CPU's delta of @fbc, swapped for 0: one rseq section where the library uses them,
 * else pcpu_this_xchg().  The section reads the fields as stable values (see
 * percpu/arch/x86_64.h): the compiler may load them before the caller's lock, whose
 * atomic exchange would otherwise hold them up (the library is initialized once a
 * counter is, so they are not stale; if they were, the section would find no index). */
/* Where no section can: the this_cpu operation, out of line (its cold paths would
 * otherwise give the fold a stack frame). */
static __attribute__((noinline)) int32_t take_delta_slow(struct pcpu_counter *fbc)
{
	return pcpu_this_xchg(*fbc->counters, 0);
}

__attribute__((always_inline)) static inline int32_t take_delta(struct pcpu_counter *fbc)
{
#ifdef __PCPU_HAVE_RSEQ_OPS
	int32_t delta;
	int r;

	while (__builtin_expect((r = __pcpu_rseq_swap_4((char *)fbc->counters, &delta, 0, 0)) ==
					__PCPU_RSEQ_ABORT, 0))
		;
	if (__builtin_expect(r == __PCPU_RSEQ_DONE, 1))
		return delta;
#endif
	return take_delta_slow(fbc);
}

/* The slow path: fold this CPU's delta and @amount into the count. */
static inline void fold(struct pcpu_counter *fbc, int64_t amount)
{
	int32_t delta;
	int64_t count;

	_pcpu_counter_lock(fbc);
	delta = take_delta(fbc);
	count = __atomic_load_n(&fbc->count, __ATOMIC_RELAXED);
	__atomic_store_n(&fbc->count, wrap_add(wrap_add(count, delta), amount), __ATOMIC_RELAXED);
	_pcpu_counter_unlock(fbc);
}

/* For the inline adds of <percpu/counter.h>, once their section found the batch passed:
 * the fold alone (they checked the counter: a section ran on its deltas). */
void __pcpu_counter_fold(struct pcpu_counter *fbc, int64_t amount)
{
	fold(fbc, amount);
}

/* The add of every pcpu_counter_add*() entry point; @call names it in reports.  (The
 * headers inline the common case and call these when it does not apply: their names
 * are parenthesized below, past the macros of <percpu/counter.h>.) */
static inline void add_batch(struct pcpu_counter *fbc, int64_t amount, int32_t batch,
			     const char *call)
{
	int32_t delta;
	int64_t next;

	check_counter(fbc, call);
	delta = pcpu_this_read(*fbc->counters);

	do {
		/* |delta| < 2^31, so only a huge @amount overflows; it folds. */
		if (__builtin_add_overflow((int64_t)delta, amount, &next) ||
		    next >= (int64_t)batch || next <= -(int64_t)batch) {
			fold(fbc, amount);
			return;
		}
	} while (!pcpu_this_try_cmpxchg(*fbc->counters, &delta, (int32_t)next));
}

void (pcpu_counter_add_batch)(struct pcpu_counter *fbc, int64_t amount, int32_t batch)
{
	add_batch(fbc, amount, batch, "pcpu_counter_add_batch");
}

void (pcpu_counter_add)(struct pcpu_counter *fbc, int64_t amount)
{
	add_batch(fbc, amount, pcpu_counter_batch(), "pcpu_counter_add");
}

void (pcpu_counter_inc)(struct pcpu_counter *fbc)
{
	add_batch(fbc, 1, pcpu_counter_batch(), "pcpu_counter_inc");
}

void (pcpu_counter_dec)(struct pcpu_counter *fbc)
{
	add_batch(fbc, -1, pcpu_counter_batch(), "pcpu_counter_dec");
}

/* The kernel's PERCPU_COUNTER_LOCAL_BATCH: the delta takes everything it can hold. */
void pcpu_counter_add_local(struct pcpu_counter *fbc, int64_t amount)
{
	add_batch(fbc, amount, INT32_MAX, "pcpu_counter_add_local");
}

void pcpu_counter_sub_local(struct pcpu_counter *fbc, int64_t amount)
{
	add_batch(fbc, (int64_t)(0 - (uint64_t)amount), INT32_MAX, "pcpu_counter_sub_local");
}

static int64_t read_count(const struct pcpu_counter *fbc, const char *call)
{
	check_counter(fbc, call);
	return __atomic_load_n(&fbc->count, __ATOMIC_RELAXED);
}

int64_t pcpu_counter_read(const struct pcpu_counter *fbc)
{
	return read_count(fbc, "pcpu_counter_read");
}

int64_t pcpu_counter_read_positive(const struct pcpu_counter *fbc)
{
	int64_t v = read_count(fbc, "pcpu_counter_read_positive");

	return v > 0 ? v : 0;
}

/* The exact value; the lock held. */
static int64_t sum_locked(const struct pcpu_counter *fbc)
{
	int64_t v = __atomic_load_n(&fbc->count, __ATOMIC_RELAXED);
	unsigned int cpu;

	pcpu_for_each_possible_cpu(cpu)
		v = wrap_add(v, __atomic_load_n(pcpu_ptr(fbc->counters, cpu), __ATOMIC_RELAXED));
	return v;
}

static int64_t sum(struct pcpu_counter *fbc, const char *call)
{
	int64_t v;

	check_counter(fbc, call);
	_pcpu_counter_lock(fbc);
	v = sum_locked(fbc);
	_pcpu_counter_unlock(fbc);
	return v;
}

int64_t pcpu_counter_sum(struct pcpu_counter *fbc)
{
	return sum(fbc, "pcpu_counter_sum");
}

int64_t pcpu_counter_sum_positive(struct pcpu_counter *fbc)
{
	int64_t v = sum(fbc, "pcpu_counter_sum_positive");

	return v > 0 ? v : 0;
}

static int compare(struct pcpu_counter *fbc, int64_t rhs, int32_t batch, const char *call)
{
	/* Every delta is within (-batch, batch) if every add used at most @batch, and so is
	 * the one a fold in progress holds between its xchg and its store to the count
	 * (other threads may meanwhile refill that CPU's delta: the kernel's fold runs with
	 * interrupts off and has no such window).  Hence one batch more than the kernel. */
	uint64_t slack = (uint64_t)(batch > 0 ? batch : 0) * (pcpu_num_possible_cpus() + 1ull);
	int64_t count = read_count(fbc, call);

	/* The differences are computed in uint64_t: exact, as count and rhs are ordered. */
	if (count > rhs && (uint64_t)count - (uint64_t)rhs > slack)
		return 1;
	if (count < rhs && (uint64_t)rhs - (uint64_t)count > slack)
		return -1;
	count = sum(fbc, call);
	return count > rhs ? 1 : count < rhs ? -1 : 0;
}

int pcpu_counter_compare_batch(struct pcpu_counter *fbc, int64_t rhs, int32_t batch)
{
	return compare(fbc, rhs, batch, "pcpu_counter_compare_batch");
}

int pcpu_counter_compare(struct pcpu_counter *fbc, int64_t rhs)
{
	return compare(fbc, rhs, pcpu_counter_batch(), "pcpu_counter_compare");
}

/* Whether count + @amount is on the allowed side of @limit: at most @limit for a
 * positive amount (@up), at least @limit for a negative one.  Overflow counts as beyond. */
static bool within(int64_t count, int64_t amount, int64_t limit, bool up)
{
	int64_t next;

	if (__builtin_add_overflow(count, amount, &next))
		return false;
	return up ? next <= limit : next >= limit;
}

/*
 * After the kernel's __percpu_counter_limited_add().  Fast path: the new delta stays
 * within the batch and the limit holds even if every other delta were at the batch in
 * the wrong direction (count +- (batch - 1) * (possible CPUs + 1), the bound of
 * pcpu_counter_compare_batch()).  Otherwise, under the lock, this CPU's delta moves to
 * the count and the exact sum decides.
 */
bool pcpu_counter_limited_add(struct pcpu_counter *fbc, int64_t limit, int64_t amount)
{
	int32_t batch = pcpu_counter_batch(), delta;
	int64_t unknown = (int64_t)(batch - 1) * (int64_t)(pcpu_num_possible_cpus() + 1), next;
	bool good;

	check_counter(fbc, "pcpu_counter_limited_add");
	if (amount == 0)
		return true;
	delta = pcpu_this_read(*fbc->counters);
	do {
		int64_t count = __atomic_load_n(&fbc->count, __ATOMIC_RELAXED);

		if (__builtin_add_overflow((int64_t)delta, amount, &next) || next >= batch ||
		    next <= -batch || !within(count, amount > 0 ? unknown : -unknown, limit, amount > 0))
			goto slow;
	} while (!pcpu_this_try_cmpxchg(*fbc->counters, &delta, (int32_t)next));
	return true;
slow:
	_pcpu_counter_lock(fbc);
	delta = take_delta(fbc);
	__atomic_store_n(&fbc->count, wrap_add(__atomic_load_n(&fbc->count, __ATOMIC_RELAXED), delta),
			 __ATOMIC_RELAXED);
	good = within(sum_locked(fbc), amount, limit, amount > 0);
	if (good)
		__atomic_store_n(&fbc->count,
				 wrap_add(__atomic_load_n(&fbc->count, __ATOMIC_RELAXED), amount),
				 __ATOMIC_RELAXED);
	_pcpu_counter_unlock(fbc);
	return good;
}
