/* SPDX-License-Identifier: MIT */
/* bench_this_cpu.c - cost of one counter increment, with 1 thread and with one thread per
 * online CPU, in the same run: this_cpu_inc on a dynamic per-CPU u64 (rseq), the same
 * operation in the atomic fallback mode, a single shared atomic counter, an array of
 * cache-line-padded atomic counters indexed by sched_getcpu(), a thread-local counter
 * (the floor any per-CPU scheme can approach) and pcpu_counter_add; and this_cpu_inc
 * compiled into a shared object, whose sections clear rseq_cs (the price of being
 * unloadable), as a ratio to the same loop in the executable.  Prints ns per
 * increment, total throughput and the ratio to the thread-local floor.
 * Usage: bench_this_cpu [iterations per thread] */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "percpu.h"

#define BARRIER() __asm__ __volatile__("" ::: "memory")
#define REPS 3 /* runs of each this_cpu row; the best counts */

static long iters;
static uint64_t *dyn_counter;
static uint64_t shared_counter;
static struct padded {
	uint64_t v;
	char pad[56];
} *getcpu_array;
static __thread uint64_t tls_counter;
static struct pcpu_counter fbc;
static int counter_ok;

static void *run_this_cpu(void *arg)
{
	(void)arg;
	for (long i = 0; i < iters; i++) {
		pcpu_this_inc(*dyn_counter);
		BARRIER();
	}
	return NULL;
}

/* The same loop in a shared object: its sections clear rseq_cs on the way out. */
void bench_so_inc_loop(uint64_t *counter, long iters);

static void *run_this_cpu_so(void *arg)
{
	(void)arg;
	bench_so_inc_loop(dyn_counter, iters);
	return NULL;
}

/* What the library does when rseq is unavailable: an atomic add on the copy of the CPU
 * pcpu_current_cpu() names (here with rseq giving the CPU: the fallback's best case). */
static void *run_fallback(void *arg)
{
	(void)arg;
	for (long i = 0; i < iters; i++) {
		__atomic_fetch_add(__pcpu_here(uint64_t, __pcpu_canon(dyn_counter)), 1,
				   __ATOMIC_RELAXED);
		BARRIER();
	}
	return NULL;
}

static void *run_shared(void *arg)
{
	(void)arg;
	for (long i = 0; i < iters; i++) {
		__atomic_fetch_add(&shared_counter, 1, __ATOMIC_RELAXED);
		BARRIER();
	}
	return NULL;
}

static void *run_getcpu_array(void *arg)
{
	(void)arg;
	for (long i = 0; i < iters; i++) {
		int cpu = sched_getcpu();
		__atomic_fetch_add(&getcpu_array[cpu < 0 ? 0 : cpu].v, 1, __ATOMIC_RELAXED);
		BARRIER();
	}
	return NULL;
}

static void *run_tls(void *arg)
{
	(void)arg;
	for (long i = 0; i < iters; i++) {
		tls_counter++;
		BARRIER();
	}
	return NULL;
}

static void *run_counter(void *arg)
{
	(void)arg;
	for (long i = 0; i < iters; i++) {
		pcpu_counter_add(&fbc, 1);
		BARRIER();
	}
	return NULL;
}

static double run(void *(*fn)(void *), int threads)
{
	pthread_t t[256];
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, fn, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void *(*fn)(void *);
	} cases[] = {
		{ "thread-local (floor)", run_tls },
		{ "this_cpu_inc (rseq)", run_this_cpu },
		{ "this_cpu_inc in a .so", run_this_cpu_so },
		{ "atomic fallback", run_fallback },
		{ "sched_getcpu array", run_getcpu_array },
		{ "shared atomic", run_shared },
		{ "percpu_counter_add", run_counter },
	};
	int ncpu = (int)pcpu_num_online_cpus(), nthreads[2] = { 1, ncpu };
	double floor_ns[2] = { 0, 0 }, exe_ns[2] = { 0, 0 }, so_ns[2] = { 0, 0 };

	iters = argc > 1 ? atol(argv[1]) : 20000000;
	dyn_counter = pcpu_alloc_type(uint64_t);
	getcpu_array = calloc(pcpu_nr_cpu_ids(), sizeof(*getcpu_array));
	counter_ok = pcpu_counter_init(&fbc, 0, PCPU_GFP_KERNEL) == 0;
	if (!dyn_counter || !getcpu_array || !counter_ok) {
		fprintf(stderr, "bench_this_cpu: setup failed\n");
		return 1;
	}
	printf("bench_this_cpu: %ld increments per thread; CPU source: %s\n\n", iters,
	       pcpu_cpu_source());
	printf("%-22s | %8s %12s %8s | %8s %12s %8s\n", "", "1 thread", "", "",
	       "all CPUs", "", "");
	printf("%-22s | %8s %12s %8s | %8s %12s %8s\n", "counter", "ns/inc", "Minc/s",
	       "vs TLS", "ns/inc", "Minc/s", "vs TLS");
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		printf("%-22s", cases[c].name);
		for (int k = 0; k < 2; k++) {
			/* the two this_cpu rows are compared with each other: best of a few
			 * runs each, so that a busy machine does not decide their ratio */
			int reps = cases[c].fn == run_this_cpu || cases[c].fn == run_this_cpu_so ? REPS : 1;
			double ns = run(cases[c].fn, nthreads[k]);
			for (int r = 1; r < reps; r++) {
				double again = run(cases[c].fn, nthreads[k]);
				ns = again < ns ? again : ns;
			}
			double per_inc = ns / (double)iters; /* wall time per increment per thread */
			double rate = (double)iters * nthreads[k] / ns * 1e3;

			if (c == 0)
				floor_ns[k] = per_inc;
			if (cases[c].fn == run_this_cpu)
				exe_ns[k] = per_inc;
			if (cases[c].fn == run_this_cpu_so)
				so_ns[k] = per_inc;
			printf(" | %8.2f %12.1f %7.2fx", per_inc, rate, per_inc / floor_ns[k]);
		}
		printf("\n");
	}
	printf("\nthis_cpu_inc in a shared object (clears rseq_cs) vs in the executable, best of %d: "
	       "%.2fx (1 thread), %.2fx (all CPUs)\n", REPS, so_ns[0] / exe_ns[0], so_ns[1] / exe_ns[1]);
	unsigned int cpu;
	uint64_t total = 0;
	pcpu_for_each_possible_cpu(cpu)
		total += *pcpu_ptr(dyn_counter, cpu);
	printf("\nchecks: this_cpu, .so and fallback total %llu (expected %llu), percpu_counter sum %lld "
	       "(expected %lld)\n",
	       (unsigned long long)total, (unsigned long long)(iters * (1 + ncpu) * (2 * REPS + 1)),
	       (long long)pcpu_counter_sum(&fbc), (long long)(iters * (1 + ncpu)));
	int ok = total == (uint64_t)(iters * (1 + ncpu) * (2 * REPS + 1)) &&
		 pcpu_counter_sum(&fbc) == iters * (1 + ncpu);
	pcpu_counter_destroy(&fbc);
	pcpu_free(dyn_counter);
	return ok ? 0 : 1;
}
