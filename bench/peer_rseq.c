/* SPDX-License-Identifier: MIT */
/* peer_rseq.c - libpercpu against librseq, its closest peer, in the same process (make
 * bench-peer builds librseq from ../shared/peers into build/peer/ for this program only):
 * one counter incremented in a loop, and eight counters per iteration, libpercpu's
 * this_cpu_inc on pcpu_alloc'd objects and on static per-CPU variables against librseq's
 * rseq_load_add_store__ptr on objects of its per-CPU mempool (its documented idiom: the
 * CPU from rseq_cpu_start(), the copy by rseq_percpu_ptr(), retry on abort).  Rows of
 * bench.h's table; exits 1 if a total is wrong.
 * Usage: peer_rseq [iterations]   (default 20,000,000; BENCH_REPS, see bench.h) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <rseq/mempool.h>
#include <rseq/rseq.h>

#include "percpu.h"
#include "bench.h"
#include "this_cpu_loops.h"

static intptr_t __rseq_percpu *peer[NCTR];
static uint64_t count_peer0;

static inline __attribute__((always_inline)) void peer_inc(intptr_t __rseq_percpu *p)
{
	for (;;) {
		int cpu = (int)rseq_cpu_start();

		if (!rseq_load_add_store__ptr(RSEQ_MO_RELAXED, RSEQ_PERCPU_CPU_ID,
					      rseq_percpu_ptr(p, cpu), 1, cpu))
			return;
	}
}

static void peer_one(void *arg, long n)
{
	intptr_t __rseq_percpu *c = peer[0];

	(void)arg;
	for (long i = 0; i < n; i++)
		peer_inc(c);
	count_peer0 += (uint64_t)n;
}

static void peer_eight(void *arg, long n)
{
	intptr_t __rseq_percpu *c0 = peer[0], *c1 = peer[1], *c2 = peer[2], *c3 = peer[3];
	intptr_t __rseq_percpu *c4 = peer[4], *c5 = peer[5], *c6 = peer[6], *c7 = peer[7];

	(void)arg;
	for (long i = 0; i < n; i++) {
		peer_inc(c0);
		peer_inc(c1);
		peer_inc(c2);
		peer_inc(c3);
		peer_inc(c4);
		peer_inc(c5);
		peer_inc(c6);
		peer_inc(c7);
	}
	count_peer0 += (uint64_t)n;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000000;
	struct rseq_mempool_attr *attr = rseq_mempool_attr_create();
	struct rseq_mempool *pool;
	int max_cpus = rseq_get_max_nr_cpus();
	double l, b;
	uint64_t peer_total = 0;

	if (max_cpus <= 0)
		max_cpus = (int)pcpu_nr_cpu_ids();
	if (!attr || rseq_mempool_attr_set_percpu(attr, RSEQ_MEMPOOL_STRIDE, max_cpus) ||
	    !(pool = rseq_mempool_create("peer_rseq", sizeof(intptr_t), attr)) ||
	    rseq_register_current_thread() != 0) {
		fprintf(stderr, "peer_rseq: librseq setup failed\n");
		return 1;
	}
	rseq_mempool_attr_destroy(attr);
	for (int i = 0; i < NCTR; i++) {
		dyn[i] = pcpu_alloc_type(uint64_t);
		peer[i] = (intptr_t __rseq_percpu *)rseq_mempool_percpu_zmalloc(pool);
		if (!dyn[i] || !peer[i]) {
			fprintf(stderr, "peer_rseq: allocation failed\n");
			return 1;
		}
	}
	if (n <= 0 || pcpu_current_cpu() >= pcpu_nr_cpu_ids()) {
		fprintf(stderr, "peer_rseq: bad arguments or no CPU\n");
		return 1;
	}
	bench_header();
	bench_compare(dyn_one, NULL, peer_one, NULL, n, 1, &l, &b);
	bench_row("this_cpu_inc, 1 dynamic counter", l, "ns", "librseq mempool", b);
	bench_compare(st_one, NULL, peer_one, NULL, n, 1, &l, &b);
	bench_row("this_cpu_inc, 1 static variable", l, "ns", "librseq mempool", b);
	bench_compare(dyn_eight, NULL, peer_eight, NULL, n / NCTR, NCTR, &l, &b);
	bench_row("this_cpu_inc, 8 dynamic counters per iteration (goal <= 1.00)", l, "ns",
		  "librseq mempool", b);
	bench_compare(st_eight, NULL, peer_eight, NULL, n / NCTR, NCTR, &l, &b);
	bench_row("this_cpu_inc, 8 static variables per iteration (goal <= 1.00)", l, "ns",
		  "librseq mempool", b);

	for (int cpu = 0; cpu < max_cpus; cpu++)
		peer_total += (uint64_t)*rseq_percpu_ptr(peer[0], cpu);
	int ok = tu_sum_u64(dyn[0]) == count_dyn0 && tu_sum_u64(&st0) == count_st0 &&
		 peer_total == count_peer0;
	if (!ok)
		fprintf(stderr, "peer_rseq: wrong totals\n");
	for (int i = 0; i < NCTR; i++) {
		pcpu_free(dyn[i]);
		rseq_mempool_percpu_free(peer[i]);
	}
	rseq_mempool_destroy(pool);
	rseq_unregister_current_thread();
	return ok ? 0 : 1;
}
