/* SPDX-License-Identifier: MIT */
/* test_kernel_compat.c - the rest of the kernel's per-CPU names of <percpu/kernel.h>,
 * used as kernel code uses them: DEFINE_PER_CPU_FIRST and _SECTION variables,
 * raw_cpu_{add,sub,inc,dec}_return, the cmpxchg64/128 and try_ forms, the __this_cpu_
 * and raw_cpu_ cmpxchg_double, per_cpu_offset() and my_cpu_offset, __get_cpu_var() and
 * __this_cpu_ptr(), this_cpu_cpumask_var_ptr() and get_cpu_mask().  On a pinned thread
 * against a model (the current CPU cannot change there), then with threads migrating
 * (exact totals; a 16-byte counter whose halves must move together).  In every
 * CPU-source mode. */
#include <percpu/kernel.h>
#include <pthread.h>
#include <sched.h>

#include "testutil.h"

DECLARE_PER_CPU_FIRST(long, first_var);
DEFINE_PER_CPU_FIRST(long, first_var);
DECLARE_PER_CPU_SECTION(int, sect_var, "..shared_aligned");
DEFINE_PER_CPU_SECTION(int, sect_var, "..shared_aligned") = 5;
DEFINE_PER_CPU(long, ret_var);
DEFINE_PER_CPU(uint64_t, var64);
#ifdef __SIZEOF_INT128__
DEFINE_PER_CPU_ALIGNED(__pcpu_u128, var128);
#endif
struct pair {
	uint64_t a, b;
};
DEFINE_PER_CPU_ALIGNED(struct pair, pair);
DEFINE_PER_CPU(cpumask_var_t, cpu_masks);
DEFINE_PER_CPU(long, old_style);

/* The CPUs this thread may run on (and the library knows online). */
static unsigned int cpus[1024], nr_cpus;

/* Static variables of every definition form: one copy per CPU, initialized from the
 * definition, reached by per_cpu() and per_cpu_ptr(). */
static void test_definitions(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		CHECK_EQ(per_cpu(sect_var, cpu), 5);
		CHECK_EQ(per_cpu(first_var, cpu), 0);
		per_cpu(first_var, cpu) = (long)cpu * 3;
		per_cpu(sect_var, cpu) += (int)cpu;
	}
	for_each_possible_cpu(cpu) {
		CHECK_EQ(*per_cpu_ptr(&first_var, cpu), (long)cpu * 3);
		CHECK_EQ(*per_cpu_ptr(&sect_var, cpu), 5 + (int)cpu);
		if (cpu)
			CHECK(per_cpu_ptr(&first_var, cpu) != per_cpu_ptr(&first_var, 0));
	}
}

/* Pinned to each CPU in turn: the operations act on that CPU's copy (in cid mode, the
 * copy of the thread's ID), as a model says. */
static void test_pinned(unsigned int cpu)
{
	long model, *dyn = alloc_percpu(long);
	uint64_t m64, o64;
	cpumask_var_t mine;
	unsigned int idx;

	/* pinned, the thread keeps its index: the CPU, or in cid mode its concurrency ID */
	CHECK_EQ(tu_pin(cpu), 0);
	idx = (unsigned int)smp_processor_id();
	if (pcpu_index_mode() == PCPU_INDEX_CPU)
		CHECK_EQ(idx, cpu);
	model = per_cpu(ret_var, idx);
	m64 = per_cpu(var64, idx);
	for (int k = 0; k < 200; k++) {
		long v = (long)(tu_rand() % 1000) - 500;

		switch (tu_rand() % 4) {
		case 0: CHECK_EQ(raw_cpu_add_return(ret_var, v), model += v); break;
		case 1: CHECK_EQ(raw_cpu_sub_return(ret_var, v), model -= v); break;
		case 2: CHECK_EQ(raw_cpu_inc_return(ret_var), ++model); break;
		default: CHECK_EQ(raw_cpu_dec_return(ret_var), --model); break;
		}
		/* 64-bit compare-and-exchange, hit or miss */
		o64 = tu_rand() % 2 ? m64 : m64 + 1;
		switch (tu_rand() % 3) {
		case 0: CHECK_EQ(this_cpu_cmpxchg64(var64, o64, o64 * 7 + 1), m64); break;
		case 1: CHECK_EQ(raw_cpu_cmpxchg64(var64, o64, o64 * 7 + 1), m64); break;
		default: CHECK_EQ(__this_cpu_cmpxchg64(var64, o64, o64 * 7 + 1), m64); break;
		}
		if (o64 == m64)
			m64 = o64 * 7 + 1;
		o64 = tu_rand() % 2 ? m64 : m64 ^ 4;
		{
			uint64_t want = o64;
			bool hit = want == m64, r;

			switch (tu_rand() % 3) {
			case 0: r = this_cpu_try_cmpxchg64(var64, &o64, m64 + 3); break;
			case 1: r = raw_cpu_try_cmpxchg64(var64, &o64, m64 + 3); break;
			default: r = __this_cpu_try_cmpxchg64(var64, &o64, m64 + 3); break;
			}
			CHECK_EQ(r, hit);
			CHECK_EQ(o64, hit ? want : m64); /* a miss reports the value found */
			if (hit)
				m64 += 3;
		}
		CHECK_EQ(per_cpu(var64, idx), m64);
		CHECK_EQ(per_cpu(ret_var, idx), model);
	}

#ifdef __SIZEOF_INT128__
	{
		__pcpu_u128 m128 = per_cpu(var128, idx), o, n;

		for (int k = 0; k < 100; k++) {
			o = tu_rand() % 2 ? m128 : m128 ^ ((__pcpu_u128)1 << (tu_rand() % 128));
			n = ((__pcpu_u128)tu_rand() << 64) | tu_rand();
			if (tu_rand() % 2) {
				CHECK(this_cpu_cmpxchg128(var128, o, n) == m128);
			} else {
				__pcpu_u128 seen = o;
				bool r = k % 3 ? this_cpu_try_cmpxchg128(var128, &seen, n)
					       : raw_cpu_try_cmpxchg128(var128, &seen, n);

				CHECK_EQ(r, o == m128);
				CHECK(seen == m128 || r);
			}
			if (o == m128)
				m128 = n;
			CHECK(per_cpu(var128, idx) == m128);
		}
		CHECK(__this_cpu_cmpxchg128(var128, m128, 1) == m128);
		CHECK(raw_cpu_cmpxchg128(var128, (__pcpu_u128)1, 2) == 1);
		CHECK(per_cpu(var128, idx) == 2);
	}
#endif

	/* the double forms */
	per_cpu(pair, idx).a = 1;
	per_cpu(pair, idx).b = 2;
	CHECK(!__this_cpu_cmpxchg_double(pair.a, pair.b, 1, 3, 5, 6));
	CHECK(__this_cpu_cmpxchg_double(pair.a, pair.b, 1, 2, 5, 6));
	CHECK(raw_cpu_cmpxchg_double(pair.a, pair.b, 5, 6, 7, 8));
	CHECK(per_cpu(pair, idx).a == 7 && per_cpu(pair, idx).b == 8);

	/* offsets: a dynamic pointer plus a CPU's offset is that CPU's copy */
	CHECK(dyn != NULL);
	CHECK((long *)((char *)dyn + my_cpu_offset) == this_cpu_ptr(dyn));
	CHECK_EQ(my_cpu_offset, per_cpu_offset(idx));

	/* the old names */
	__get_cpu_var(old_style) += 2;
	CHECK_EQ(per_cpu(old_style, idx), 2);
	CHECK(__this_cpu_ptr(&old_style) == per_cpu_ptr(&old_style, idx));
	CHECK(__this_cpu_ptr(dyn) == per_cpu_ptr(dyn, idx));
	per_cpu(old_style, idx) = 0;

	/* a per-CPU cpumask_var_t, as the kernel's off-stack form */
	mine = this_cpu_cpumask_var_ptr(cpu_masks);
	CHECK(mine == per_cpu(cpu_masks, idx));
	CHECK(mine && cpumask_test_cpu(idx, mine) && cpumask_weight(mine) == 1);
	CHECK(cpumask_equal(mine, get_cpu_mask(idx)));
	free_percpu(dyn);
	CHECK_EQ(tu_unpin(), 0);
}

static void test_offsets(void)
{
	long *p = alloc_percpu(long);
	unsigned int cpu;

	CHECK(p != NULL);
	for_each_possible_cpu(cpu)
		CHECK((long *)((char *)p + per_cpu_offset(cpu)) == per_cpu_ptr(p, cpu));
	free_percpu(p);
}

/* ---- threads migrating between CPUs: totals exact ---- */

#define NTHREADS 3
static long per_thread;

static void *worker(void *arg)
{
	uint64_t x = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;

	for (long k = 0; k < per_thread; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (nr_cpus > 1 && k % 1024 == 0)
			tu_pin(cpus[x % nr_cpus]); /* migrate */
		(void)raw_cpu_add_return(ret_var, 3);
		(void)raw_cpu_sub_return(ret_var, 1);
		(void)raw_cpu_inc_return(ret_var);
		(void)raw_cpu_dec_return(ret_var);
		{
			uint64_t o = this_cpu_read(var64);

			while (!this_cpu_try_cmpxchg64(var64, &o, o + 1))
				;
		}
#ifdef __SIZEOF_INT128__
		{
			/* both halves move together, or the pair would tear */
			__pcpu_u128 o = 0;

			while (!this_cpu_try_cmpxchg128(var128, &o, o + (((__pcpu_u128)1 << 64) | 1)))
				;
		}
#endif
	}
	return NULL;
}

static void test_threads(long n)
{
	pthread_t t[NTHREADS];
	unsigned int cpu;
	long sum = 0;
	uint64_t s64 = 0, lo = 0;

	for_each_possible_cpu(cpu) {
		per_cpu(ret_var, cpu) = 0;
		per_cpu(var64, cpu) = 0;
#ifdef __SIZEOF_INT128__
		per_cpu(var128, cpu) = 0;
#endif
	}
	per_thread = n;
	for (uintptr_t i = 0; i < NTHREADS; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, worker, (void *)(i + 1)), 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	for_each_possible_cpu(cpu) {
		sum += per_cpu(ret_var, cpu);
		s64 += per_cpu(var64, cpu);
#ifdef __SIZEOF_INT128__
		CHECK_EQ((uint64_t)(per_cpu(var128, cpu) >> 64), (uint64_t)per_cpu(var128, cpu));
		lo += (uint64_t)per_cpu(var128, cpu);
#endif
	}
	CHECK_EQ(sum, 2 * NTHREADS * n);
	CHECK_EQ(s64, (uint64_t)NTHREADS * (uint64_t)n);
#ifdef __SIZEOF_INT128__
	CHECK_EQ(lo, (uint64_t)NTHREADS * (uint64_t)n);
#else
	(void)lo;
#endif
}

static void bad_offset(void *arg)
{
	(void)per_cpu_offset(nr_cpu_ids);
}

static int run(const char *want)
{
	unsigned int cpu;
	char buf[4096], msg[128];
	int status;

	CHECK(tu_source_is(want));
	nr_cpus = tu_usable_cpus(cpus, 1024);
	test_definitions();
	for_each_possible_cpu(cpu) {
		CHECK(alloc_cpumask_var(&per_cpu(cpu_masks, cpu), GFP_KERNEL));
		cpumask_clear(per_cpu(cpu_masks, cpu));
		cpumask_set_cpu(cpu, per_cpu(cpu_masks, cpu));
	}
	for (unsigned int i = 0; i < nr_cpus; i++)
		test_pinned(cpus[i]);
	test_offsets();
	test_threads(tu_scaled(50000));
	for_each_possible_cpu(cpu)
		free_cpumask_var(per_cpu(cpu_masks, cpu));

	status = tu_in_child(bad_offset, NULL, buf, sizeof(buf));
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	snprintf(msg, sizeof(msg), "libpercpu: pcpu_cpu_offset: CPU %u >= nr_cpu_ids %u",
		 nr_cpu_ids, nr_cpu_ids);
	CHECK(strstr(buf, msg) != NULL);
	TEST_DONE();
}

int main(int argc, char **argv)
{
	if (argc == 1)
		tu_seed("test_kernel_compat");
	return tu_run_modes(argc, argv, run);
}
