/* SPDX-License-Identifier: MIT */
/* counter.c - batched per-CPU counters, after the kernel's lib/percpu_counter.c.
 *
 * State: a shared 64-bit count under a mutex, and a 32-bit delta per possible CPU
 * (pcpu_alloc).  The value of the counter is count + the sum of the deltas.
 *
 * Adds.  The fast path adds to the delta of the CPU the thread runs on with a this_cpu
 * try_cmpxchg loop, as long as the new delta stays within (-batch, batch); the update is
 * atomic with respect to every other this_cpu operation on that CPU's copy, whichever
 * thread runs it.  Past the batch, the slow path takes the lock, swaps this CPU's delta
 * for 0 with this_cpu xchg and adds it and the amount to the count.  The xchg happens
 * inside the lock (the kernel's, since preemption and interrupts are off around it, has
 * the same effect): an amount is always either in a delta or in the count, never in a
 * thread's hands between the two while the lock is free.  The thread may have moved to
 * another CPU between the failed check and the lock; it then folds that CPU's delta,
 * which is as correct (any delta may be folded at any time under the lock).
 *
 * Sums.  Under the lock, count + every possible CPU's delta read with atomic loads.  A
 * delta changes outside the lock only by a fast-path add of its own CPU, which is an add
 * that overlaps the sum; moves between the deltas and the count need the lock.  So a sum
 * counts every add completed before it, and any subset of those overlapping it.
 *
 * Hotplug.  As the kernel's, every counter is on a list, and when pcpu_cpus_refresh()
 * sees a CPU go offline, pcpu_counter_cpu_dead() folds that CPU's delta into the count
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
 * The lock is a pthread mutex, adaptive where glibc offers it: the critical sections
 * are a few instructions (a fold) or one pass over the CPUs (a sum), so a short spin
 * usually wins, while a waiter still sleeps if the holder is preempted.  A raw spinlock,
 * as the kernel's, would spin for a whole time slice behind a preempted holder: the
 * kernel disables preemption around it, userspace cannot.
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
		pcpu_fatal(call, "%p: counter not initialized (never passed to pcpu_counter_init(), "
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
		if (nr)
			__atomic_store_n(&batch, b, __ATOMIC_RELAXED);
	}
	return b;
}

/* Every initialized counter, for pcpu_counter_cpu_dead().  Lock order: the hotplug
 * registry's lock (cpuhp.c), then this, then a counter's own. */
static pthread_mutex_t counters_lock = PTHREAD_MUTEX_INITIALIZER;
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

void pcpu_counter_cpu_dead(unsigned int cpu)
{
	pthread_mutex_lock(&counters_lock);
	for (struct pcpu_counter *fbc = counters_head; fbc; fbc = fbc->__pcpu_next) {
		pthread_mutex_lock(&fbc->lock);
		int32_t delta = __atomic_exchange_n(pcpu_ptr(fbc->counters, cpu), 0, __ATOMIC_RELAXED);
		int64_t count = __atomic_load_n(&fbc->count, __ATOMIC_RELAXED);

		__atomic_store_n(&fbc->count, wrap_add(count, delta), __ATOMIC_RELAXED);
		pthread_mutex_unlock(&fbc->lock);
	}
	pthread_mutex_unlock(&counters_lock);
}

int pcpu_counter_init(struct pcpu_counter *fbc, int64_t amount, unsigned int gfp)
{
	pthread_mutexattr_t attr;
	int err;

	if (!fbc) {
		errno = EINVAL;
		return -1;
	}
	fbc->counters = NULL; /* destroyable whatever happens below */
	fbc->count = amount;
	if (gfp & ~PCPU_GFP_ATOMIC) {
		errno = EINVAL;
		return -1;
	}
	fbc->counters = pcpu_alloc_gfp(sizeof(int32_t), sizeof(int32_t), gfp);
	if (!fbc->counters)
		return -1; /* errno ENOMEM from pcpu_alloc_gfp() */

	err = pthread_mutexattr_init(&attr);
	if (!err) {
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
		pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
		err = pthread_mutex_init(&fbc->lock, &attr);
		pthread_mutexattr_destroy(&attr);
	}
	if (err) {
		pcpu_free(fbc->counters);
		fbc->counters = NULL;
		errno = err == EAGAIN ? ENOMEM : err;
		return -1;
	}
	list_add(fbc);
	return 0;
}

void pcpu_counter_destroy(struct pcpu_counter *fbc)
{
	if (!fbc || !fbc->counters)
		return;
	list_del(fbc);
	pcpu_free(fbc->counters);
	fbc->counters = NULL;
	pthread_mutex_destroy(&fbc->lock);
}

void pcpu_counter_set(struct pcpu_counter *fbc, int64_t amount)
{
	unsigned int cpu;

	check_counter(fbc, "pcpu_counter_set");
	pthread_mutex_lock(&fbc->lock);
	pcpu_for_each_possible_cpu(cpu)
		__atomic_store_n(pcpu_ptr(fbc->counters, cpu), 0, __ATOMIC_RELAXED);
	__atomic_store_n(&fbc->count, amount, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&fbc->lock);
}

/* The slow path: fold this CPU's delta and @amount into the count. */
__attribute__((noinline)) static void fold(struct pcpu_counter *fbc, int64_t amount)
{
	int32_t delta;
	int64_t count;

	pthread_mutex_lock(&fbc->lock);
	delta = pcpu_this_xchg(*fbc->counters, 0);
	count = __atomic_load_n(&fbc->count, __ATOMIC_RELAXED);
	__atomic_store_n(&fbc->count, wrap_add(wrap_add(count, delta), amount), __ATOMIC_RELAXED);
	pthread_mutex_unlock(&fbc->lock);
}

/* The add of every pcpu_counter_add*() entry point; @call names it in reports. */
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

void pcpu_counter_add_batch(struct pcpu_counter *fbc, int64_t amount, int32_t batch)
{
	add_batch(fbc, amount, batch, "pcpu_counter_add_batch");
}

void pcpu_counter_add(struct pcpu_counter *fbc, int64_t amount)
{
	add_batch(fbc, amount, pcpu_counter_batch(), "pcpu_counter_add");
}

void pcpu_counter_inc(struct pcpu_counter *fbc)
{
	add_batch(fbc, 1, pcpu_counter_batch(), "pcpu_counter_inc");
}

void pcpu_counter_dec(struct pcpu_counter *fbc)
{
	add_batch(fbc, -1, pcpu_counter_batch(), "pcpu_counter_dec");
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

static int64_t sum(struct pcpu_counter *fbc, const char *call)
{
	unsigned int cpu;
	int64_t v;

	check_counter(fbc, call);
	pthread_mutex_lock(&fbc->lock);
	v = __atomic_load_n(&fbc->count, __ATOMIC_RELAXED);
	pcpu_for_each_possible_cpu(cpu)
		v = wrap_add(v, __atomic_load_n(pcpu_ptr(fbc->counters, cpu), __ATOMIC_RELAXED));
	pthread_mutex_unlock(&fbc->lock);
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
