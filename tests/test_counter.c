/* SPDX-License-Identifier: MIT */
/* test_counter.c - pcpu_counter, the kernel's percpu_counter.
 * (1) Semantics on a pinned thread: which adds stay in this CPU's delta and which fold
 *     into the count, batch edge cases, wrap-around, read/sum/compare/set.
 * (2) A reference model, single thread: random add / add_batch (random batches) / inc /
 *     dec / set; after each step the sum is exact, the read is within N * (batch - 1) of
 *     the truth (N possible CPUs, batch the largest in use), every compare is right, and
 *     compare skips the sum (it runs while the test holds the counter's lock) when the
 *     read is far enough.
 * (3) Concurrency: 4 threads add random amounts (both signs, some past the batch) while
 *     a fifth sums and compares; each adder publishes, around each add, the totals of
 *     its positive and negative amounts started and done, which bound what any sum may
 *     see; the final sum is exact.  Then the same with the adders migrating between
 *     CPUs (sched_setaffinity), and with all of them pinned to one CPU (contention on
 *     one delta).  Every read meanwhile is within (N + 1) * (batch - 1) of the window.
 *     These run in each CPU-source mode: glibc's rseq, the library's own rseq
 *     registration, and the sched_getcpu atomic fallback.  And folds that wait for a
 *     lock holder that does not run: they sleep, then all complete.
 * (4) Lifecycle and errors: destroy on a zeroed counter and twice, init with bad
 *     arguments (EINVAL) and out of per-CPU memory (ENOMEM), each leaving the counter
 *     destroyable and re-initializable; the kernel names of <percpu/kernel.h>. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"
#include "vm.h"
#include <percpu/kernel.h>

static unsigned int nr_possible;
static int32_t dflt_batch;

/* CPUs this process may run on that the library knows as online. */
static unsigned int cpus[1024];
static unsigned int nr_cpus;

static int32_t delta_of(struct pcpu_counter *c, unsigned int cpu)
{
	return __atomic_load_n(pcpu_ptr(c->counters, cpu), __ATOMIC_RELAXED);
}

static int64_t abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

static int sign(int64_t v)
{
	return v > 0 ? 1 : v < 0 ? -1 : 0;
}

/* ---- (1) semantics on a pinned thread ------------------------------------------------ */

static void test_semantics(void)
{
	struct pcpu_counter c;
	unsigned int cpu = cpus[nr_cpus - 1], other;

	CHECK_EQ(pcpu_counter_batch(), dflt_batch);
	CHECK_EQ(pcpu_counter_batch(), pcpu_num_online_cpus() * 2 > 32 ? pcpu_num_online_cpus() * 2 : 32);

	CHECK_EQ(pcpu_counter_init(&c, 1000, PCPU_GFP_KERNEL), 0);
	CHECK(c.counters != NULL);
	pcpu_for_each_possible_cpu(other)
		CHECK_EQ(delta_of(&c, other), 0);
	CHECK_EQ(tu_pin(cpu), 0);
	CHECK_EQ(pcpu_current_cpu(), cpu);

	pcpu_counter_add_batch(&c, 10, 32);            /* delta 10 */
	CHECK_EQ(delta_of(&c, cpu), 10);
	CHECK_EQ(pcpu_counter_read(&c), 1000);
	pcpu_counter_add_batch(&c, 21, 32);            /* 31 < 32: stays */
	CHECK_EQ(delta_of(&c, cpu), 31);
	CHECK_EQ(pcpu_counter_sum(&c), 1031);
	pcpu_counter_add_batch(&c, 1, 32);             /* 32: folds the delta and the amount */
	CHECK_EQ(delta_of(&c, cpu), 0);
	CHECK_EQ(pcpu_counter_read(&c), 1032);
	pcpu_counter_add_batch(&c, -31, 32);
	CHECK_EQ(delta_of(&c, cpu), -31);
	CHECK_EQ(pcpu_counter_read(&c), 1032);
	pcpu_counter_add_batch(&c, -1, 32);            /* -32 folds */
	CHECK_EQ(delta_of(&c, cpu), 0);
	CHECK_EQ(pcpu_counter_read(&c), 1000);
	pcpu_counter_add_batch(&c, 5, 32);
	pcpu_counter_add_batch(&c, 100, 32);           /* an amount past the batch folds with
							* the delta there is */
	CHECK_EQ(delta_of(&c, cpu), 0);
	CHECK_EQ(pcpu_counter_read(&c), 1105);
	pcpu_counter_add_batch(&c, 3, 1);              /* batch 1: every non-zero add folds */
	CHECK_EQ(pcpu_counter_read(&c), 1108);
	pcpu_counter_add_batch(&c, 0, 1);
	pcpu_counter_add_batch(&c, 3, 0);              /* batch 0 and negative: always fold */
	pcpu_counter_add_batch(&c, -4, -7);
	pcpu_counter_add_batch(&c, 1, INT32_MIN);
	CHECK_EQ(delta_of(&c, cpu), 0);
	CHECK_EQ(pcpu_counter_read(&c), 1108);
	pcpu_counter_add_batch(&c, INT32_MAX - 1, INT32_MAX); /* the largest delta */
	CHECK_EQ(delta_of(&c, cpu), INT32_MAX - 1);
	CHECK_EQ(pcpu_counter_sum(&c), 1108 + (int64_t)INT32_MAX - 1);
	pcpu_counter_add_batch(&c, -(int64_t)INT32_MAX - 5, INT32_MAX);
	CHECK_EQ(delta_of(&c, cpu), -6); /* |2^31 - 2 - 2^31 - 4| < batch: stays */
	CHECK_EQ(pcpu_counter_sum(&c), 1108 - 6);
	pcpu_counter_set(&c, 0);
	pcpu_for_each_possible_cpu(other)
		CHECK_EQ(delta_of(&c, other), 0);

	/* inc/dec/add use the default batch */
	for (int32_t i = 1; i < dflt_batch; i++)
		pcpu_counter_inc(&c);
	CHECK_EQ(delta_of(&c, cpu), dflt_batch - 1);
	CHECK_EQ(pcpu_counter_read(&c), 0);
	pcpu_counter_inc(&c);
	CHECK_EQ(delta_of(&c, cpu), 0);
	CHECK_EQ(pcpu_counter_read(&c), dflt_batch);
	pcpu_counter_dec(&c);
	pcpu_counter_add(&c, -3);
	CHECK_EQ(delta_of(&c, cpu), -4);
	CHECK_EQ(pcpu_counter_sum(&c), dflt_batch - 4);
	pcpu_counter_add(&c, dflt_batch + 4);            /* reaches the batch: folds */
	CHECK_EQ(delta_of(&c, cpu), 0);

	/* deltas on two CPUs, both counted by sum and set */
	if (nr_cpus > 1) {
		pcpu_counter_set(&c, 0);
		CHECK_EQ(tu_pin(cpus[0]), 0);
		pcpu_counter_add_batch(&c, 7, 100);
		CHECK_EQ(tu_pin(cpu), 0);
		pcpu_counter_add_batch(&c, -20, 100);
		CHECK_EQ(delta_of(&c, cpus[0]), 7);
		CHECK_EQ(delta_of(&c, cpu), -20);
		CHECK_EQ(pcpu_counter_read(&c), 0);
		CHECK_EQ(pcpu_counter_sum(&c), -13);
		CHECK_EQ(pcpu_counter_sum_positive(&c), 0);
		CHECK_EQ(pcpu_counter_read_positive(&c), 0);
		CHECK_EQ(pcpu_counter_compare_batch(&c, -13, 100), 0);
		CHECK_EQ(pcpu_counter_compare_batch(&c, -14, 100), 1);
		CHECK_EQ(pcpu_counter_compare_batch(&c, -12, 100), -1);
		pcpu_counter_add_batch(&c, -90, 100);     /* folds this CPU's -20 only */
		CHECK_EQ(delta_of(&c, cpus[0]), 7);
		CHECK_EQ(delta_of(&c, cpu), 0);
		CHECK_EQ(pcpu_counter_read(&c), -110);
		CHECK_EQ(pcpu_counter_sum(&c), -103);
		pcpu_counter_set(&c, 42);
		CHECK_EQ(delta_of(&c, cpus[0]), 0);
		CHECK_EQ(pcpu_counter_sum(&c), 42);
	}

	/* the count wraps modulo 2^64 (no undefined behaviour: UBSan runs this) */
	pcpu_counter_set(&c, INT64_MAX);
	pcpu_counter_add_batch(&c, 5, 32);
	CHECK_EQ(pcpu_counter_sum(&c), INT64_MIN + 4);
	pcpu_counter_add(&c, INT64_MAX);                  /* a huge amount folds */
	CHECK_EQ(pcpu_counter_sum(&c), 3);
	pcpu_counter_add(&c, INT64_MIN);
	CHECK_EQ(pcpu_counter_sum(&c), INT64_MIN + 3);
	pcpu_counter_set(&c, INT64_MIN);
	CHECK_EQ(pcpu_counter_compare(&c, INT64_MAX), -1);
	CHECK_EQ(pcpu_counter_compare(&c, INT64_MIN), 0);
	pcpu_counter_set(&c, INT64_MAX);
	CHECK_EQ(pcpu_counter_compare(&c, INT64_MIN), 1);
	CHECK_EQ(pcpu_counter_compare_batch(&c, INT64_MIN, INT32_MAX), 1);

	tu_unpin();
	pcpu_counter_destroy(&c);
	CHECK(c.counters == NULL);
}

/* The batch rule at the edges of the inline section's arithmetic (x86_64.h's
 * __pcpu_rseq_add_within_4(): one unsigned comparison of delta + amount + batch - 1
 * with 2 batch - 1): on a pinned thread, this CPU's delta is set to a value near the
 * batch, near the ends of the int32 range or random (pcpu_counter_add_local()), then
 * one add of an amount near +-batch, +-1 or random, with a batch near 1, near 2^30,
 * near INT32_MAX or random, through each inline form (explicit batch, and the default
 * batch with constant and variable amounts); the delta and the count after it must be
 * those of the kernel's rule, computed in 64 bits: the add stays in the delta if
 * |delta + amount| < batch, else both move to the count.  (Written for a 32-bit form
 * of that comparison, which this catches where it is wrong: batches above 2^30.) */
static int32_t edge_pick(int64_t lo, int64_t hi, int64_t center)
{
	int64_t v;

	switch (tu_rand() % 4) {
	case 0: v = center + (int64_t)(tu_rand() % 5) - 2; break;
	case 1: v = -center + (int64_t)(tu_rand() % 5) - 2; break;
	case 2: v = (tu_rand() & 1) ? hi - (int64_t)(tu_rand() % 3)
				    : lo + (int64_t)(tu_rand() % 3);
		break;
	default: v = lo + (int64_t)(tu_rand() % (uint64_t)(hi - lo + 1)); break;
	}
	return (int32_t)(v < lo ? lo : v > hi ? hi : v);
}

static void rule_step(struct pcpu_counter *c, unsigned int cpu, int form)
{
	static const int64_t batches[] = { 1, 2, 3, 32, 33, 1000, 1 << 20, (1 << 30) - 1, 1 << 30,
					   (1 << 30) + 1, INT32_MAX };
	int64_t b = (tu_rand() % 3) ? batches[tu_rand() % (sizeof(batches) / sizeof(batches[0]))]
				    : 1 + (int64_t)(tu_rand() % (1u << 30));
	int32_t d, v;
	int64_t sum, count;

	if (form)
		b = dflt_batch;
	d = edge_pick(-(int64_t)INT32_MAX + 1, INT32_MAX - 1, b);
	v = edge_pick(-b + 1, b - 1, b - 1);
	if (tu_rand() % 8 == 0)
		v = edge_pick(INT32_MIN, INT32_MAX, b); /* past the batch too: the library's */
	if (form == 1)
		v = (tu_rand() & 1) ? 1 : -1;
	pcpu_counter_set(c, 0);
	pcpu_counter_add_local(c, d);
	CHECK_EQ(delta_of(c, cpu), d);
	switch (form) {
	case 0: pcpu_counter_add_batch(c, v, (int32_t)b); break;
	case 1: if (v > 0) pcpu_counter_inc(c); else pcpu_counter_dec(c); break;
	default: pcpu_counter_add(c, v); break;
	}
	sum = (int64_t)d + v;
	count = (sum > -b && sum < b) ? 0 : sum;
	if (delta_of(c, cpu) != (int32_t)(sum - count) || pcpu_counter_read(c) != count) {
		fprintf(stderr, "batch rule: delta %d, add %d with batch %lld (form %d): delta %d "
			"count %lld, expected %lld and %lld\n", d, v, (long long)b, form,
			delta_of(c, cpu), (long long)pcpu_counter_read(c), (long long)(sum - count),
			(long long)count);
		tu_failures++;
	}
}

static void test_batch_rule_edges(void)
{
	struct pcpu_counter c;
	unsigned int cpu = cpus[0];
	long n = tu_scaled(100000);

	CHECK_EQ(pcpu_counter_init(&c, 0, PCPU_GFP_KERNEL), 0);
	CHECK_EQ(tu_pin(cpu), 0);
	for (long i = 0; i < n && tu_failures == 0; i++)
		rule_step(&c, cpu, (int)(i % 3));
	tu_unpin();
	pcpu_counter_destroy(&c);
}

/* ---- (2) reference model, one thread ------------------------------------------------ */

static int64_t rand_amount(void)
{
	uint64_t r = tu_rand();
	int64_t mag;

	switch (r % 16) {
	case 0:
		mag = (int64_t)(tu_rand() % (1ull << 40));
		break;
	case 1: case 2:
		mag = (int64_t)(tu_rand() % 100000);
		break;
	case 3: case 4: case 5:
		mag = (int64_t)(tu_rand() % (uint64_t)(3 * dflt_batch));
		break;
	default:
		mag = (int64_t)(tu_rand() % 8);
		break;
	}
	return (r >> 8) & 1 ? mag : -mag;
}

static int32_t rand_batch(void)
{
	static const int32_t b[] = { 1, 2, 3, 7, 16, 32, 33, 100, 1000, 1 << 20, INT32_MAX, 0, -5 };

	if (tu_rand() % 4 == 0)
		return dflt_batch;
	return b[tu_rand() % (sizeof(b) / sizeof(b[0]))];
}

static struct pcpu_counter *cheap_c;
static int64_t cheap_rhs;
static int cheap_res[2];

static void *cheap_compare(void *arg)
{
	(void)arg;
	cheap_res[0] = pcpu_counter_compare(cheap_c, cheap_rhs);
	cheap_res[1] = pcpu_counter_compare_batch(cheap_c, cheap_rhs, dflt_batch);
	return NULL;
}

/* The slack of compare is exactly @batch * (possible CPUs + 1): as far from the count
 * as that, the deltas are summed; one further, the count alone answers.  The deltas are
 * written directly, to put the truth on the other side of rhs from the count, as a fold
 * in progress on every CPU could. */
static void test_compare_slack(void)
{
	const int32_t batch = 10;
	int64_t slack = (int64_t)batch * (nr_possible + 1), count = 1000;
	unsigned int first = (unsigned int)pcpu_next_possible_cpu(-1);
	struct pcpu_counter c;

	CHECK_EQ(pcpu_counter_init(&c, count, PCPU_GFP_KERNEL), 0);
	for (int side = -1; side <= 1; side += 2) {
		int64_t rhs = count + side * slack;

		/* the truth one past rhs, on the count's side of it... */
		__atomic_store_n(pcpu_ptr(c.counters, first), (int32_t)(side * (slack - 1)),
				 __ATOMIC_RELAXED);
		CHECK_EQ(pcpu_counter_read(&c), count);
		CHECK_EQ(pcpu_counter_compare_batch(&c, rhs, batch), -side);
		/* ...and one past it on the other side: summed, since |count - rhs| = slack */
		__atomic_store_n(pcpu_ptr(c.counters, first), (int32_t)(side * (slack + 1)),
				 __ATOMIC_RELAXED);
		CHECK_EQ(pcpu_counter_compare_batch(&c, rhs, batch), side);
		/* one further from the count: the count answers alone */
		CHECK_EQ(pcpu_counter_compare_batch(&c, rhs + side, batch), -side);
		__atomic_store_n(pcpu_ptr(c.counters, first), 0, __ATOMIC_RELAXED);
	}
	pcpu_counter_destroy(&c);
}

/* compare(@rhs) must answer without pcpu_counter_sum(): the test holds the lock. */
static void check_cheap(struct pcpu_counter *c, int64_t rhs, int want)
{
	pthread_t t;
	struct timespec deadline;

	cheap_c = c;
	cheap_rhs = rhs;
	memset(cheap_res, 0x55, sizeof(cheap_res));
	_pcpu_counter_lock(c);
	CHECK_EQ(pthread_create(&t, NULL, cheap_compare, NULL), 0);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 20;
	int err = pthread_timedjoin_np(t, NULL, &deadline);
	CHECK_EQ(err, 0); /* ETIMEDOUT: compare took the lock when it needed not */
	_pcpu_counter_unlock(c);
	if (err)
		pthread_join(t, NULL);
	CHECK_EQ(cheap_res[0], want);
	CHECK_EQ(cheap_res[1], want);
}

static void test_model(void)
{
	struct pcpu_counter c;
	int64_t truth = (int64_t)(tu_rand() % 2000) - 1000;
	int64_t maxb = 0; /* largest batch used since the last set (deltas are below it) */
	long n = tu_scaled(300000), sums = 0;

	CHECK_EQ(pcpu_counter_init(&c, truth, PCPU_GFP_KERNEL), 0);
	for (long i = 0; i < n && tu_failures == 0; i++) {
		unsigned int op = (unsigned int)(tu_rand() % 100);
		int64_t a = rand_amount();
		int32_t b;

		if (op < 30) {
			pcpu_counter_add(&c, a);
			truth += a;
			b = dflt_batch;
		} else if (op < 60) {
			b = rand_batch();
			pcpu_counter_add_batch(&c, a, b);
			truth += a;
		} else if (op < 75) {
			pcpu_counter_inc(&c);
			truth++;
			b = dflt_batch;
		} else if (op < 90) {
			pcpu_counter_dec(&c);
			truth--;
			b = dflt_batch;
		} else if (op < 92) {
			truth = a;
			pcpu_counter_set(&c, a);
			maxb = 0;
			b = 0;
		} else {
			/* every CPU's delta: none reaches the largest batch in use */
			unsigned int cpu;
			int64_t total = pcpu_counter_read(&c);
			pcpu_for_each_possible_cpu(cpu) {
				int32_t d = delta_of(&c, cpu);
				CHECK(maxb > 0 ? abs64(d) < maxb : d == 0);
				total += d;
			}
			CHECK_EQ(total, truth);
			b = 0;
		}
		if (b > maxb)
			maxb = b;

		int64_t rd = pcpu_counter_read(&c);
		int64_t slack = maxb > 0 ? (int64_t)nr_possible * (maxb - 1) : 0;
		CHECK(abs64(rd - truth) <= slack);
		CHECK_EQ(pcpu_counter_read_positive(&c), rd > 0 ? rd : 0);
		if (i % 4 == 0) {
			CHECK_EQ(pcpu_counter_sum(&c), truth);
			CHECK_EQ(pcpu_counter_sum_positive(&c), truth > 0 ? truth : 0);
			sums++;
		}

		/* compare against values near and far from the truth */
		int64_t rhs;
		switch (tu_rand() % 6) {
		case 0: rhs = truth; break;
		case 1: rhs = truth + 1; break;
		case 2: rhs = truth - 1; break;
		case 3: rhs = rd + (int64_t)(tu_rand() % 64) - 32; break;
		case 4: rhs = truth + (int64_t)(tu_rand() % (uint64_t)(4 * slack + 3)) - 2 * slack - 1; break;
		default: rhs = truth + rand_amount(); break;
		}
		int want = sign(truth - rhs);
		CHECK_EQ(pcpu_counter_compare_batch(&c, rhs, maxb > 0 ? (int32_t)maxb : 1), want);
		if (maxb <= dflt_batch) {
			CHECK_EQ(pcpu_counter_compare(&c, rhs), want);
			CHECK_EQ(percpu_counter_compare(&c, rhs), want);
		}
		if (i % 1000 == 0 && maxb <= dflt_batch) {
			/* far from the read: no sum needed */
			int64_t far = ((int64_t)nr_possible + 1) * dflt_batch + 1 +
				      (int64_t)(tu_rand() % 1000);
			check_cheap(&c, rd - far, 1);
			check_cheap(&c, rd + far, -1);
		}
	}
	CHECK_EQ(pcpu_counter_sum(&c), truth);
	pcpu_counter_destroy(&c);
	fprintf(stderr, "model: %ld steps, %ld sums\n", n, sums);
}

/* ---- (3) concurrency ------------------------------------------------------------------ */

enum mode { FREE, MIGRATE, SAME_CPU };

struct adder {
	/* totals of the positive / negative amounts whose add has started / returned */
	int64_t pos_started, neg_started, pos_done, neg_done;
	uint64_t seed;
	long migrations, bad_cpu;
	pthread_t thread;
} __attribute__((aligned(64)));

#define NR_ADDERS 4
static struct adder adders[NR_ADDERS];
static struct pcpu_counter shared;
static enum mode run_mode;
static long adds_per_thread;
static int adders_running;

static uint64_t xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *adder_main(void *arg)
{
	struct adder *ad = arg;
	unsigned int my_cpu = cpus[(ad - adders) % nr_cpus];

	if (run_mode == SAME_CPU)
		CHECK_EQ(tu_pin(cpus[0]), 0);
	for (long i = 0; i < adds_per_thread; i++) {
		uint64_t r = xs(&ad->seed);
		int64_t a;
		int kind = (int)(r % 8);

		if (run_mode == MIGRATE && (r >> 8) % 64 == 0) {
			my_cpu = cpus[(r >> 16) % nr_cpus];
			if (tu_pin(my_cpu) == 0) {
				ad->migrations++;
				/* in cid mode the index is an ID, not the CPU */
				if (pcpu_current_cpu() != my_cpu && !tu_index_cid())
					ad->bad_cpu++;
			}
		}
		if (kind == 6) {
			a = 1;
		} else if (kind == 7) {
			a = -1;
		} else {
			int64_t mag = (r >> 24) % 16 == 0 ? (int64_t)((r >> 32) % (uint64_t)(4 * dflt_batch))
							   : (int64_t)((r >> 32) % 6);
			a = (r >> 30) & 1 ? mag : -mag;
		}
		__atomic_add_fetch(a > 0 ? &ad->pos_started : &ad->neg_started, a, __ATOMIC_SEQ_CST);
		switch (kind) {
		case 0: case 1: case 2:
			pcpu_counter_add(&shared, a);
			break;
		case 3: case 4:
			pcpu_counter_add_batch(&shared, a, (int32_t)((r >> 40) % (uint64_t)dflt_batch) + 1);
			break;
		case 5:
			pcpu_counter_add_batch(&shared, a, dflt_batch);
			break;
		case 6:
			pcpu_counter_inc(&shared);
			break;
		default:
			pcpu_counter_dec(&shared);
			break;
		}
		__atomic_add_fetch(a > 0 ? &ad->pos_done : &ad->neg_done, a, __ATOMIC_SEQ_CST);
	}
	__atomic_sub_fetch(&adders_running, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Bounds of what a sum over the window [before, after] may see. */
static void window_start(int64_t done[2])
{
	done[0] = done[1] = 0;
	for (int i = 0; i < NR_ADDERS; i++) {
		done[0] += __atomic_load_n(&adders[i].pos_done, __ATOMIC_SEQ_CST);
		done[1] += __atomic_load_n(&adders[i].neg_done, __ATOMIC_SEQ_CST);
	}
}

static void window_end(int64_t init, const int64_t done[2], int64_t *lo, int64_t *hi)
{
	int64_t ps = 0, ns = 0;

	for (int i = 0; i < NR_ADDERS; i++) {
		ps += __atomic_load_n(&adders[i].pos_started, __ATOMIC_SEQ_CST);
		ns += __atomic_load_n(&adders[i].neg_started, __ATOMIC_SEQ_CST);
	}
	/* at least: every positive add done, every negative one started; at most: the
	 * other way round */
	*lo = init + done[0] + ns;
	*hi = init + ps + done[1];
}

/* How far pcpu_counter_read() may be from the value while adds of batch at most
 * dflt_batch run (pcpu_counter_read() in <percpu/counter.h>). */
static int64_t read_slack(void)
{
	return ((int64_t)nr_possible + 1) * (dflt_batch - 1);
}

static void concurrent(enum mode mode, const char *name, long per_thread)
{
	int64_t init = (int64_t)(tu_rand() % 100000) - 50000;
	long sums = 0, compares = 0;
	int64_t last = init;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_mode = mode;
	adds_per_thread = per_thread;
	CHECK_EQ(pcpu_counter_init(&shared, init, PCPU_GFP_KERNEL), 0);
	memset(adders, 0, sizeof(adders));
	adders_running = NR_ADDERS;
	for (int i = 0; i < NR_ADDERS; i++) {
		adders[i].seed = tu_rand() | 1;
		CHECK_EQ(pthread_create(&adders[i].thread, NULL, adder_main, &adders[i]), 0);
	}

	while (__atomic_load_n(&adders_running, __ATOMIC_SEQ_CST) > 0) {
		int64_t done[2], lo, hi, s;

		window_start(done);
		s = pcpu_counter_sum(&shared);
		window_end(init, done, &lo, &hi);
		if (!(lo <= s && s <= hi))
			fprintf(stderr, "%s: sum %lld outside [%lld, %lld]\n", name, (long long)s,
				(long long)lo, (long long)hi);
		CHECK(lo <= s && s <= hi);
		sums++;
		last = s;

		/* the read, one load, within (N + 1) * (batch - 1) of a value in the window:
		 * every delta below the batch (no add here uses a larger one), and at most
		 * one more batch in the hands of a fold between its delta and the count */
		window_start(done);
		int64_t rd = pcpu_counter_read(&shared), slack = read_slack();
		window_end(init, done, &lo, &hi);
		if (!(lo - slack <= rd && rd <= hi + slack))
			fprintf(stderr, "%s: read %lld outside [%lld, %lld] +- %lld\n", name,
				(long long)rd, (long long)lo, (long long)hi, (long long)slack);
		CHECK(lo - slack <= rd && rd <= hi + slack);

		/* compare with a value near the last sum, or far from it */
		int64_t rhs = last;
		uint64_t r = tu_rand();
		if (r % 4 == 1)
			rhs += (int64_t)((r >> 8) % (uint64_t)(8 * dflt_batch)) - 4 * dflt_batch;
		else if (r % 4 == 2)
			rhs += (r >> 8) & 1 ? 100000000 : -100000000;
		window_start(done);
		int res = pcpu_counter_compare(&shared, rhs);
		window_end(init, done, &lo, &hi);
		/* right for some value the counter held in the window */
		CHECK(res == 1 ? hi > rhs : res == -1 ? lo < rhs : lo <= rhs && rhs <= hi);
		compares++;
	}
	for (int i = 0; i < NR_ADDERS; i++)
		CHECK_EQ(pthread_join(adders[i].thread, NULL), 0);

	int64_t truth = init, migrations = 0, bad = 0;
	for (int i = 0; i < NR_ADDERS; i++) {
		CHECK_EQ(adders[i].pos_started, adders[i].pos_done);
		CHECK_EQ(adders[i].neg_started, adders[i].neg_done);
		truth += adders[i].pos_done + adders[i].neg_done;
		migrations += adders[i].migrations;
		bad += adders[i].bad_cpu;
	}
	CHECK_EQ(pcpu_counter_sum(&shared), truth);
	CHECK(abs64(pcpu_counter_read(&shared) - truth) <= (int64_t)nr_possible * (dflt_batch - 1));
	CHECK_EQ(pcpu_counter_compare(&shared, truth), 0);
	CHECK_EQ(pcpu_counter_compare(&shared, truth - 1), 1);
	CHECK_EQ(pcpu_counter_compare(&shared, truth + 1), -1);
	CHECK_EQ(bad, 0); /* after sched_setaffinity returns, the thread is on that CPU */
	if (mode == MIGRATE)
		CHECK(migrations > 0);
	pcpu_counter_destroy(&shared);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "%s: %d x %ld adds, %ld sums, %ld compares, %lld migrations, %.2f s\n",
		name, NR_ADDERS, per_thread, sums, compares, (long long)migrations,
		(double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
}

static void test_concurrency(long per_thread)
{
	concurrent(FREE, "free threads", per_thread);
	if (nr_cpus < 2)
		fprintf(stderr, "one CPU allowed: migrations between the same CPU only\n");
	concurrent(MIGRATE, "migrating threads", per_thread);
	/* cheap (no migration, no contention on the lock): longer, for more preemptions
	 * inside the updates of the one delta */
	concurrent(SAME_CPU, "one CPU, one delta", per_thread * 4);
}

/* The counter's lock, held by a thread that does not run (here: sleeps): the folds of
 * other threads wait for it without spinning (they sleep on the word; a spinning
 * waiter would burn its CPU for as long as a preempted holder is off its own), take
 * nothing while it is held, and all complete once it is released. */
#define HOLD_WAITERS 3
#define HOLD_ADDS 20000
static struct pcpu_counter held_c;

static void *hold_adder(void *arg)
{
	(void)arg;
	for (int i = 0; i < HOLD_ADDS; i++)
		pcpu_counter_inc(&held_c);
	return NULL;
}

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_lock_holder_sleeps(void)
{
	pthread_t t[HOLD_WAITERS];
	int64_t init = (int64_t)(tu_rand() % 1000);
	struct timespec hold = { 0, 200 * 1000 * 1000 };
	double cpu0, cpu1;

	CHECK_EQ(pcpu_counter_init(&held_c, init, PCPU_GFP_KERNEL), 0);
	_pcpu_counter_lock(&held_c);
	for (int i = 0; i < HOLD_WAITERS; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, hold_adder, NULL), 0);
	nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL); /* they reach the lock */
	cpu0 = cpu_seconds();
	nanosleep(&hold, NULL);
	cpu1 = cpu_seconds();
	/* no fold got past the lock: the count is untouched */
	CHECK_EQ(pcpu_counter_read(&held_c), init);
	_pcpu_counter_unlock(&held_c);
	for (int i = 0; i < HOLD_WAITERS; i++)
		CHECK_EQ(pthread_join(t[i], NULL), 0);
	CHECK_EQ(pcpu_counter_sum(&held_c), init + HOLD_WAITERS * HOLD_ADDS);
	/* asleep, not spinning: a spinner takes its share of a CPU whatever the load */
	fprintf(stderr, "lock held %.0f ms: %d waiters used %.1f ms of CPU\n", hold.tv_nsec / 1e6,
		HOLD_WAITERS, (cpu1 - cpu0) * 1e3);
	CHECK(cpu1 - cpu0 < hold.tv_nsec / 1e9 / 10);
	pcpu_counter_destroy(&held_c);
}

/* ---- (4) lifecycle and errors ------------------------------------------------------- */

static int fail_vm;

static int failing_commit(void *a, size_t s, bool huge)
{
	if (fail_vm) {
		errno = ENOMEM;
		return -1;
	}
	return _pcpu_vm_os.commit(a, s, huge);
}

static int failing_populate(void *a, size_t s)
{
	if (fail_vm) {
		errno = ENOMEM;
		return -1;
	}
	return _pcpu_vm_os.populate(a, s);
}

static struct pcpu_vm_ops failing_vm;

static void test_lifecycle(void)
{
	struct pcpu_counter c;
	static struct pcpu_counter zero_static;

	/* destroy of a zeroed counter, of a destroyed one */
	pcpu_counter_destroy(&zero_static);
	memset(&c, 0, sizeof(c));
	pcpu_counter_destroy(&c);
	pcpu_counter_destroy(NULL);
	CHECK_EQ(pcpu_counter_init(&c, 5, PCPU_GFP_KERNEL), 0);
	pcpu_counter_destroy(&c);
	CHECK(c.counters == NULL);
	pcpu_counter_destroy(&c);

	/* bad arguments */
	memset(&c, 0xa5, sizeof(c));
	errno = 0;
	CHECK_EQ(pcpu_counter_init(&c, 1, 0x80), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK(c.counters == NULL);
	pcpu_counter_destroy(&c);
	errno = 0;
	CHECK_EQ(pcpu_counter_init(&c, 1, 2), -1);
	CHECK_EQ(errno, EINVAL);
	pcpu_counter_destroy(&c);
	errno = 0;
	CHECK_EQ(pcpu_counter_init(NULL, 1, PCPU_GFP_KERNEL), -1);
	CHECK_EQ(errno, EINVAL);
	/* ... then the same struct initializes */
	CHECK_EQ(pcpu_counter_init(&c, -9, PCPU_GFP_ATOMIC), 0);
	CHECK_EQ(pcpu_counter_sum(&c), -9);
	pcpu_counter_destroy(&c);

	/* out of per-CPU memory: no chunk can be made, no page populated, and every
	 * populated free area taken by atomic allocations */
	size_t cap = 1024, n = 0;
	void **keep = malloc(cap * sizeof(*keep));
	static const size_t sizes[] = { PCPU_MAX_ALLOC_SIZE, 4096, 256, 4 };

	failing_vm = _pcpu_vm_os;
	failing_vm.commit = failing_commit;
	failing_vm.populate = failing_populate;
	_pcpu_vm = &failing_vm;
	fail_vm = 1;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		for (;;) {
			void *p = pcpu_alloc_gfp(sizes[k], 4, PCPU_GFP_ATOMIC);
			if (!p)
				break;
			if (n == cap)
				keep = realloc(keep, (cap *= 2) * sizeof(*keep));
			keep[n++] = p;
		}
	}
	memset(&c, 0, sizeof(c));
	errno = 0;
	CHECK_EQ(pcpu_counter_init(&c, 3, PCPU_GFP_KERNEL), -1);
	CHECK_EQ(errno, ENOMEM);
	CHECK(c.counters == NULL);
	pcpu_counter_destroy(&c);
	pcpu_counter_destroy(&c);
	errno = 0;
	CHECK_EQ(pcpu_counter_init(&c, 3, PCPU_GFP_ATOMIC), -1);
	CHECK_EQ(errno, ENOMEM);
	CHECK_EQ(percpu_counter_init(&c, 3, GFP_KERNEL), -ENOMEM);
	CHECK(!percpu_counter_initialized(&c));
	percpu_counter_destroy(&c);
	fail_vm = 0;
	_pcpu_vm = &_pcpu_vm_os;
	/* memory comes back: the same struct initializes */
	CHECK_EQ(pcpu_counter_init(&c, 3, PCPU_GFP_KERNEL), 0);
	pcpu_counter_inc(&c);
	CHECK_EQ(pcpu_counter_sum(&c), 4);
	pcpu_counter_destroy(&c);
	for (size_t i = 0; i < n; i++)
		pcpu_free(keep[i]);
	free(keep);
	pcpu_balance();
	fprintf(stderr, "lifecycle: %zu atomic allocations filled the populated memory\n", n);
}

/* The kernel's names, as kernel code spells them. */
static void test_kernel_names(void)
{
	struct percpu_counter k;

	CHECK_EQ(percpu_counter_init(&k, 0, 0x80), -EINVAL);
	CHECK_EQ(percpu_counter_init(&k, 10, GFP_KERNEL), 0);
	CHECK(percpu_counter_initialized(&k));
	percpu_counter_add(&k, 5);
	percpu_counter_sub(&k, 2);
	percpu_counter_inc(&k);
	percpu_counter_dec(&k);
	percpu_counter_add_batch(&k, 100, percpu_counter_batch);
	CHECK_EQ(percpu_counter_sum(&k), 113);
	CHECK_EQ(__percpu_counter_sum(&k), 113);
	CHECK_EQ(percpu_counter_sum_positive(&k), 113);
	CHECK(abs64(percpu_counter_read(&k) - 113) < (int64_t)nr_possible * percpu_counter_batch);
	percpu_counter_add_batch(&k, 100, 1);          /* batch 1: folds, the count is > 0 */
	CHECK(percpu_counter_read(&k) > 0);
	CHECK_EQ(percpu_counter_read_positive(&k), percpu_counter_read(&k));
	CHECK_EQ(percpu_counter_compare(&k, 213), 0);
	CHECK_EQ(__percpu_counter_compare(&k, 300, 32), -1);
	percpu_counter_set(&k, -1);
	CHECK_EQ(percpu_counter_sum_positive(&k), 0);
	CHECK_EQ(percpu_counter_read_positive(&k), 0);
	percpu_counter_destroy(&k);
	CHECK(!percpu_counter_initialized(&k));
}

/* ---- modes ----------------------------------------------------------------------------- */

static void setup(void)
{
	CHECK_EQ(pcpu_init(), 0);
	nr_possible = pcpu_num_possible_cpus();
	dflt_batch = pcpu_counter_batch();
	nr_cpus = tu_usable_cpus(cpus, 1024);
}

static int child_mode(const char *want)
{
	tu_seed(want);
	setup();
	fprintf(stderr, "mode: %s\n", pcpu_cpu_source());
	CHECK(tu_source_is(want));
	test_semantics();
	test_batch_rule_edges();
	test_concurrency(tu_scaled(100000));
	return tu_failures ? 1 : 0;
}

/* cid mode: the sums stay exact when deltas are per concurrency ID (the semantics
 * test pins threads and expects the CPU's delta: not for IDs) */
static int cid_mode(const char *want)
{
	tu_seed(want);
	setup();
	test_concurrency(tu_scaled(100000));
	return tu_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "cid") == 0)
		return tu_cid_child(cid_mode, "glibc registration");
	if (argc > 1 && strcmp(argv[1], "cid-own") == 0)
		return tu_cid_child(cid_mode, "libpercpu registration");
	if (tu_mode_source(argc, argv))
		return child_mode(tu_mode_source(argc, argv));
	if (argc > 1 && strcmp(argv[1], "big") == 0)
		return child_mode("glibc registration");

	tu_seed("test_counter");
	setup();
	fprintf(stderr, "mode: %s; %u possible CPUs, %u usable, default batch %d\n",
		pcpu_cpu_source(), nr_possible, nr_cpus, dflt_batch);
	test_lifecycle();
	test_kernel_names();
	test_semantics();
	test_batch_rule_edges();
	test_compare_slack();
	test_model();
	test_concurrency(tu_scaled(300000));
	test_lock_holder_sleeps();

	tu_spawn_modes(argv[0]);
	tu_spawn_cid_modes(argv[0]);
	/* more than 16 CPUs (simulated): the default batch grows with them */
	tu_spawn_mode(argv[0], "big", "LIBPERCPU_TOPOLOGY", "0-39");
	TEST_DONE();
}
