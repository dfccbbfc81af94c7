/* SPDX-License-Identifier: MIT */
/* bench_sum.c - summing one per-CPU counter over every possible CPU, the kernel's
 * for_each_possible_cpu + per_cpu_ptr loop, at 1,024 simulated CPUs
 * (LIBPERCPU_TOPOLOGY=0-1023 unless set), against the same loads from a plain array
 * laid out as the units are (the same stride, so the same cache and TLB misses): the
 * ratio is what the iterator and pcpu_ptr() add per CPU.  Exits 1 if a sum is wrong.
 * Usage: bench_sum [iterations]   (default 20,000; BENCH_REPS, see bench.h) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "percpu.h"
#include "bench.h"

static uint64_t *counter;
static char *plain;
static size_t stride;
static unsigned int nr;
static uint64_t sink_lib, sink_plain;

static void sum_percpu(void *arg, long n)
{
	(void)arg;
	for (long i = 0; i < n; i++) {
		uint64_t total = 0;
		unsigned int cpu;

		pcpu_for_each_possible_cpu(cpu)
			total += *pcpu_ptr(counter, cpu);
		sink_lib = total;
		BENCH_BARRIER();
	}
}

static void sum_plain(void *arg, long n)
{
	(void)arg;
	for (long i = 0; i < n; i++) {
		uint64_t total = 0;

		for (unsigned int cpu = 0; cpu < nr; cpu++)
			total += *(uint64_t *)(plain + (size_t)cpu * stride);
		sink_plain = total;
		BENCH_BARRIER();
	}
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000;
	uint64_t expected = 0;
	double l, b;
	char figure[96];

	setenv("LIBPERCPU_TOPOLOGY", "0-1023", 0);
	counter = pcpu_alloc_type(uint64_t);
	nr = pcpu_nr_cpu_ids();
	if (n <= 0 || !counter || nr < 2 || pcpu_num_possible_cpus() != nr) {
		fprintf(stderr, "bench_sum: setup failed (needs possible CPUs 0..N-1)\n");
		return 1;
	}
	stride = (size_t)((char *)pcpu_ptr(counter, 1) - (char *)pcpu_ptr(counter, 0));
	plain = calloc(nr, stride);
	if (!plain) {
		fprintf(stderr, "bench_sum: no memory for the plain array\n");
		return 1;
	}
	for (unsigned int cpu = 0; cpu < nr; cpu++) {
		*pcpu_ptr(counter, cpu) = cpu * 3 + 1;
		*(uint64_t *)(plain + (size_t)cpu * stride) = cpu * 3 + 1;
		expected += cpu * 3 + 1;
	}
	bench_header();
	bench_compare(sum_percpu, NULL, sum_plain, NULL, n, nr, &l, &b);
	snprintf(figure, sizeof(figure), "sum over %u CPUs, ns per CPU (goal <= 1.50)", nr);
	bench_row(figure, l, "ns", "plain array", b);
	free(plain);
	pcpu_free(counter);
	if (sink_lib != expected || sink_plain != expected) {
		fprintf(stderr, "bench_sum: wrong sums %llu, %llu (expected %llu)\n",
			(unsigned long long)sink_lib, (unsigned long long)sink_plain,
			(unsigned long long)expected);
		return 1;
	}
	return 0;
}
