/* SPDX-License-Identifier: MIT */
/* test_counter_calls.c - the newer percpu_counter calls, in kernel style:
 * percpu_counter_init_many()/destroy_many() (one allocation, independent counters,
 * errors), percpu_counter_add_local()/sub_local() (the amount stays in the delta), and
 * percpu_counter_limited_add() against a model on one thread (every call exact, on both
 * sides of the limit, near and far from it, with every CPU's delta moved about), then with threads racing to a limit
 * (exact totals; the limit passed at most by the amounts in flight).  In every
 * CPU-source mode. */
#include <percpu/kernel.h>
#include <pthread.h>

#include "testutil.h"

static void test_many(void)
{
	struct percpu_counter c[5], bad[2];
	unsigned int cpu;

	CHECK_EQ(percpu_counter_init_many(c, 7, GFP_KERNEL, 5), 0);
	/* one allocation: counter i owns the i'th delta */
	for (int i = 1; i < 5; i++)
		CHECK(c[i].counters == c[0].counters + i);
	for (int i = 0; i < 5; i++) {
		for (int k = 0; k <= i * 100; k++)
			percpu_counter_add(&c[i], i + 1);
		percpu_counter_sub(&c[i], 2);
	}
	for (int i = 0; i < 5; i++) {
		CHECK_EQ(percpu_counter_sum(&c[i]), 7 + (i * 100 + 1) * (i + 1) - 2);
		CHECK(percpu_counter_initialized(&c[i]));
	}
	for_each_possible_cpu(cpu)
		CHECK(per_cpu_ptr(c[4].counters, cpu) == per_cpu_ptr(c[0].counters, cpu) + 4);
	percpu_counter_destroy_many(c, 5);
	for (int i = 0; i < 5; i++)
		CHECK(!percpu_counter_initialized(&c[i]));
	percpu_counter_destroy_many(c, 5); /* a no-op now */

	/* errors leave every counter destroyable */
	CHECK_EQ(percpu_counter_init_many(bad, 0, GFP_KERNEL, 0), -EINVAL);
	CHECK_EQ(percpu_counter_init_many(bad, 0, 99, 2), -EINVAL);
	CHECK(!percpu_counter_initialized(&bad[0]) && !percpu_counter_initialized(&bad[1]));
	CHECK_EQ(percpu_counter_init_many(NULL, 0, GFP_KERNEL, 1), -EINVAL);
	{ /* too many: refused before a write, the array may be as short as this one */
		struct {
			struct percpu_counter c[2];
			unsigned char after[64];
		} small;
		const unsigned char *b = (const unsigned char *)&small;
		bool intact = true;

		memset(&small, 0xa5, sizeof(small));
		CHECK_EQ(percpu_counter_init_many(small.c, 0, GFP_KERNEL,
						  PCPU_MAX_ALLOC_SIZE / sizeof(int32_t) + 1), -EINVAL);
		for (size_t i = 0; i < sizeof(small); i++)
			intact &= b[i] == 0xa5;
		CHECK(intact);
	}
	percpu_counter_destroy_many(bad, 2);
	/* the single forms are the many forms with one */
	CHECK_EQ(percpu_counter_init_many(bad, 3, GFP_ATOMIC, 1), 0);
	CHECK_EQ(percpu_counter_sum(&bad[0]), 3);
	percpu_counter_destroy(&bad[0]);
}

static void test_local(void)
{
	struct percpu_counter c;
	int64_t model = 0;

	CHECK_EQ(percpu_counter_init(&c, 0, GFP_KERNEL), 0);
	for (int k = 0; k < 1000; k++) {
		int64_t v = (int64_t)(tu_rand() % 100000);

		if (tu_rand() % 2) {
			percpu_counter_add_local(&c, v);
			model += v;
		} else {
			percpu_counter_sub_local(&c, v);
			model -= v;
		}
	}
	/* far past the default batch, yet nothing (or little: a delta that would
	 * overflow folds) reached the count */
	CHECK_EQ(percpu_counter_sum(&c), model);
	percpu_counter_add_local(&c, INT64_C(1) << 40); /* larger than a delta holds */
	model += INT64_C(1) << 40;
	CHECK(percpu_counter_read(&c) >= INT64_C(1) << 39);
	CHECK_EQ(percpu_counter_sum(&c), model);
	percpu_counter_destroy(&c);

	/* small amounts stay in the delta */
	CHECK_EQ(percpu_counter_init(&c, 0, GFP_KERNEL), 0);
	for (int k = 0; k < 100; k++)
		percpu_counter_add_local(&c, 1000);
	CHECK_EQ(percpu_counter_sum(&c), 100000);
	CHECK(percpu_counter_read(&c) < 100000);
	percpu_counter_destroy(&c);
}

/* Sets a random CPU's delta to a random value a default-batch add could leave there,
 * often at the edge: the lock-free path must allow for every delta at once.  One thread
 * only, so no add races with it. */
static int64_t shift_delta(struct percpu_counter *c, int32_t batch)
{
	unsigned int cpu;
	int32_t v;

	do
		cpu = (unsigned int)(tu_rand() % nr_cpu_ids);
	while (!cpu_possible(cpu));
	v = tu_rand() % 2 ? (int32_t)(tu_rand() % (2 * (uint32_t)batch - 1)) - (batch - 1)
			  : (tu_rand() % 2 ? batch - 1 : 1 - batch);
	return (int64_t)v - __atomic_exchange_n(per_cpu_ptr(c->counters, cpu), v, __ATOMIC_RELAXED);
}

/* One thread: every limited add is decided on the exact value. */
static void test_limited_model(void)
{
	struct percpu_counter c;
	int32_t batch = percpu_counter_batch;
	int64_t slack = (int64_t)batch * (num_possible_cpus() + 1);
	int64_t value = 0;

	CHECK_EQ(percpu_counter_init(&c, 0, GFP_KERNEL), 0);
	for (int k = 0; k < 20000; k++) {
		int64_t limit, amount;
		bool want;

		/* limits near the value (the slow path decides) and far (the fast one) */
		switch (tu_rand() % 3) {
		case 0: limit = value + (int64_t)(tu_rand() % 40) - 20; break;
		case 1: limit = value + (int64_t)(tu_rand() % (4 * (uint64_t)slack)) - 2 * slack; break;
		default: limit = tu_rand() % 2 ? value + 3 * slack : value - 3 * slack; break;
		}
		amount = (int64_t)(tu_rand() % (2 * (uint64_t)batch)) - batch;
		want = amount == 0 || (amount > 0 ? value + amount <= limit : value + amount >= limit);
		CHECK_EQ(percpu_counter_limited_add(&c, limit, amount), want);
		if (want)
			value += amount;
		if (k % 64 == 0)
			CHECK_EQ(percpu_counter_sum(&c), value);
		if (k % 8 == 0)
			value += shift_delta(&c, batch);
	}
	CHECK_EQ(percpu_counter_sum(&c), value);
	/* extremes: a result past the int64_t range is beyond any limit, not wrapped */
	percpu_counter_set(&c, 5);
	CHECK(!percpu_counter_limited_add(&c, INT64_MAX, INT64_MAX));
	CHECK(percpu_counter_limited_add(&c, INT64_MAX, INT64_MAX - 5));
	percpu_counter_set(&c, -5);
	CHECK(!percpu_counter_limited_add(&c, INT64_MIN, INT64_MIN));
	CHECK(percpu_counter_limited_add(&c, INT64_MIN, INT64_MIN + 5));
	CHECK_EQ(percpu_counter_sum(&c), INT64_MIN);
	percpu_counter_destroy(&c);
}

/* Threads take units from a budget with limited adds until it is spent. */
#define NTHREADS 3
static struct percpu_counter budget;
static int64_t limit_total;

struct taker {
	pthread_t thread;
	int64_t taken;
	uint64_t rng;
};

static void *take(void *arg)
{
	struct taker *t = (struct taker *)arg;
	int fails = 0;

	while (fails < 200) {
		int64_t amount;

		t->rng ^= t->rng << 13;
		t->rng ^= t->rng >> 7;
		t->rng ^= t->rng << 17;
		amount = 1 + (int64_t)(t->rng % 8);
		if (percpu_counter_limited_add(&budget, limit_total, amount)) {
			t->taken += amount;
			fails = 0;
		} else {
			fails++;
		}
	}
	return NULL;
}

static void test_limited_threads(int64_t limit)
{
	struct taker t[NTHREADS];
	int64_t total = 0, sum;

	CHECK_EQ(percpu_counter_init(&budget, 0, GFP_KERNEL), 0);
	limit_total = limit;
	for (int i = 0; i < NTHREADS; i++) {
		t[i].taken = 0;
		t[i].rng = tu_rand() | 1;
		CHECK_EQ(pthread_create(&t[i].thread, NULL, take, &t[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(t[i].thread, NULL);
		total += t[i].taken;
	}
	sum = percpu_counter_sum(&budget);
	CHECK_EQ(sum, total);
	/* at most the amounts in flight past the limit, and close to it once the takers
	 * failed 200 times in a row (a failure means the exact sum was within 8 of it) */
	CHECK(sum <= limit + (NTHREADS - 1) * 8);
	CHECK(sum > limit - 8);
	/* the other way: giving back down to 0 */
	CHECK(!percpu_counter_limited_add(&budget, sum, -1));
	CHECK(percpu_counter_limited_add(&budget, 0, -sum));
	CHECK(!percpu_counter_limited_add(&budget, 0, -1));
	CHECK_EQ(percpu_counter_sum(&budget), 0);
	percpu_counter_destroy(&budget);
}

static int run(const char *want)
{
	CHECK(tu_source_is(want));
	test_many();
	test_local();
	test_limited_model();
	test_limited_threads(tu_scaled(200000));
	TEST_DONE();
}

int main(int argc, char **argv)
{
	if (argc == 1)
		tu_seed("test_counter_calls");
	return tu_run_modes(argc, argv, run);
}
