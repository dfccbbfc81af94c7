/* SPDX-License-Identifier: MIT */
/* bench_alloc.c - the allocation figures of issue 9, rows of bench.h's table: N per-CPU
 * objects of S bytes allocated (zeroed), every CPU's copy written, then all freed, for
 * S = 8, 64 and 1024, on fresh pages (cold: the allocator's memory given back first) and
 * in steady churn (the same round again); resident memory with 1,000,000 live 64-byte
 * objects and after freeing them all (and pcpu_balance()), over the ideal 64 x N x CPUs;
 * and one 64-byte allocation, no copy touched, at 1,024 simulated CPUs (in a child with
 * LIBPERCPU_TOPOLOGY=0-1023), against the goal of 25 us.
 * Built plain (make bench) the baseline is glibc calloc of S x CPUs bytes per object;
 * built as bench/peer_alloc.c (make bench-peer) it is librseq's per-CPU mempool, in the
 * same process.  Each time is the best of a few rounds (cold, churn) per object.
 * Usage: bench_alloc [N]   (default 500,000; 1 KiB objects: N / 5) */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "percpu.h"
#include "bench.h"

#ifdef BENCH_PEER
#include <rseq/mempool.h>
#define BASELINE "librseq mempool"
#else
#define BASELINE "glibc calloc"
#endif

#define SCALE_CPUS 1024
#define SCALE_ALLOCS 1024 /* 16 pages in each of 1,024 units: 64 MiB */
#define SCALE_GOAL_NS 25000.0
#define COLD_ROUNDS 2     /* each followed by CHURN_ROUNDS */
#define CHURN_ROUNDS 3

/* Resident memory in KiB (/proc/self/statm). */
static long rss_kib(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* ---- the two allocators behind one interface ------------------------------------ */

struct allocator {
	void *(*alloc)(struct allocator *a);
	void (*free)(struct allocator *a, void *p);
	void (*write)(struct allocator *a, void *p); /* every CPU's copy */
	int (*reset)(struct allocator *a);          /* memory given back: the next round is cold */
	size_t size;
	unsigned int cpus;
#ifdef BENCH_PEER
	struct rseq_mempool *pool;
#endif
};

static void *pcpu_a_alloc(struct allocator *a)
{
	return pcpu_alloc(a->size, 4);
}

static void pcpu_a_free(struct allocator *a, void *p)
{
	(void)a;
	pcpu_free(p);
}

static void pcpu_a_write(struct allocator *a, void *p)
{
	unsigned int cpu;

	pcpu_for_each_possible_cpu(cpu)
		memset(pcpu_ptr(p, cpu), 1, a->size);
}

static int pcpu_a_reset(struct allocator *a)
{
	(void)a;
	pcpu_balance();
	return 0;
}

#ifdef BENCH_PEER
static void *base_alloc(struct allocator *a)
{
	return rseq_mempool_percpu_zmalloc(a->pool);
}

static void base_free(struct allocator *a, void *p)
{
	(void)a;
	rseq_mempool_percpu_free(p);
}

static void base_write(struct allocator *a, void *p)
{
	for (unsigned int cpu = 0; cpu < a->cpus; cpu++)
		memset(rseq_percpu_ptr((char *)p, cpu), 1, a->size);
}

/* A new pool: librseq keeps freed memory until its pool is destroyed. */
static int base_reset(struct allocator *a)
{
	struct rseq_mempool_attr *attr = rseq_mempool_attr_create();

	if (a->pool)
		rseq_mempool_destroy(a->pool);
	rseq_mempool_attr_set_percpu(attr, 0, (int)a->cpus);
	a->pool = rseq_mempool_create("bench_alloc", a->size, attr);
	rseq_mempool_attr_destroy(attr);
	return a->pool ? 0 : -1;
}

static void base_done(struct allocator *a)
{
	if (a->pool)
		rseq_mempool_destroy(a->pool);
	a->pool = NULL;
}
#else
static void *base_alloc(struct allocator *a)
{
	return calloc(a->cpus, a->size); /* zeroed, as both per-CPU allocators' objects are */
}

static void base_free(struct allocator *a, void *p)
{
	(void)a;
	free(p);
}

static void base_write(struct allocator *a, void *p)
{
	memset(p, 1, a->size * a->cpus);
}

static int base_reset(struct allocator *a)
{
	(void)a;
	return 0;
}

static void base_done(struct allocator *a)
{
	(void)a;
}
#endif

static struct allocator lib_allocator(size_t size, unsigned int cpus)
{
	return (struct allocator){ .alloc = pcpu_a_alloc, .free = pcpu_a_free,
				   .write = pcpu_a_write, .reset = pcpu_a_reset,
				   .size = size, .cpus = cpus };
}

static struct allocator base_allocator(size_t size, unsigned int cpus)
{
	return (struct allocator){ .alloc = base_alloc, .free = base_free,
				   .write = base_write, .reset = base_reset,
				   .size = size, .cpus = cpus };
}

/* One round: N allocations, each followed by writing every copy, then N frees in order;
 * ns per object in *alloc_ns and *free_ns.  -1 if an allocation failed. */
static int round_ns(struct allocator *a, void **objs, long n, double *alloc_ns, double *free_ns)
{
	double t0 = bench_now_ns(), t1, t2;

	for (long i = 0; i < n; i++) {
		objs[i] = a->alloc(a);
		if (!objs[i]) {
			while (i-- > 0)
				a->free(a, objs[i]);
			return -1;
		}
		a->write(a, objs[i]);
	}
	t1 = bench_now_ns();
	for (long i = 0; i < n; i++)
		a->free(a, objs[i]);
	t2 = bench_now_ns();
	*alloc_ns = (t1 - t0) / (double)n;
	*free_ns = (t2 - t1) / (double)n;
	return 0;
}

struct timing {
	double cold_alloc, cold_free, churn_alloc, churn_free;
};

static void keep_best(double al, double fr, double *best_al, double *best_fr)
{
	if (al + fr < *best_al + *best_fr) {
		*best_al = al;
		*best_fr = fr;
	}
}

static int measure(struct allocator *a, void **objs, long n, struct timing *t)
{
	t->cold_alloc = t->cold_free = t->churn_alloc = t->churn_free = 1e300;
	for (int rep = 0; rep < COLD_ROUNDS; rep++) {
		double al, fr;

		if (a->reset(a) != 0 || round_ns(a, objs, n, &al, &fr) != 0)
			return -1;
		keep_best(al, fr, &t->cold_alloc, &t->cold_free);
		for (int r = 0; r < CHURN_ROUNDS; r++) {
			if (round_ns(a, objs, n, &al, &fr) != 0)
				return -1;
			keep_best(al, fr, &t->churn_alloc, &t->churn_free);
		}
	}
	return 0;
}

/* A row whose baseline could not run. */
static void failed_row(const char *figure, double lib, const char *why)
{
	char l[32];

	snprintf(l, sizeof(l), "%.2f ns", lib);
	printf("| %-64s | %-14s | %-30s | %6s |\n", figure, l, why, "-");
}

static void size_rows(size_t size, long n, void **objs, unsigned int cpus)
{
	struct allocator ours = lib_allocator(size, cpus), base = base_allocator(size, cpus);
	struct timing to, tb;
	const char *what[4] = { "alloc + write every copy, cold", "free, cold",
				"alloc + write every copy, churn", "free, churn" };
	double lib[4], bas[4];
	bool base_ok;

	if (measure(&ours, objs, n, &to) != 0) {
		fprintf(stderr, "bench_alloc: libpercpu failed %zu-byte allocations\n", size);
		exit(1);
	}
	base_ok = measure(&base, objs, n, &tb) == 0;
	base_done(&base);
	lib[0] = to.cold_alloc, lib[1] = to.cold_free, lib[2] = to.churn_alloc, lib[3] = to.churn_free;
	bas[0] = tb.cold_alloc, bas[1] = tb.cold_free, bas[2] = tb.churn_alloc, bas[3] = tb.churn_free;
	for (int k = 0; k < 4; k += 2) {
		char fig[96];

		snprintf(fig, sizeof(fig), "%ld x %zu B: alloc + write copies + free, %s", n, size,
			 k ? "churn" : "cold");
		if (base_ok)
			bench_row(fig, lib[k] + lib[k + 1], "ns", BASELINE, bas[k] + bas[k + 1]);
		else
			failed_row(fig, lib[k] + lib[k + 1], BASELINE " fails this size");
		for (int j = k; j < k + 2; j++) {
			snprintf(fig, sizeof(fig), "  of which %s", what[j]);
			if (base_ok)
				bench_row(fig, lib[j], "ns", BASELINE, bas[j]);
		}
	}
}

/* Resident memory with @n live 64-byte objects and after freeing them all (libpercpu:
 * and pcpu_balance()), over the ideal 64 x n x CPUs; the baseline's ratio in brackets. */
static void memory_rows(long n, void **objs, unsigned int cpus)
{
	struct allocator ours = lib_allocator(64, cpus), base = base_allocator(64, cpus);
	struct allocator *as[2] = { &ours, &base };
	double live[2] = { -1, -1 }, after[2] = { -1, -1 }, ideal = 64.0 * (double)n * cpus / 1024;
	char fig[96], note[64];

	for (int k = 0; k < 2; k++) {
		struct allocator *a = as[k];
		long rss0, i;

		if (a->reset(a) != 0)
			continue;
		rss0 = rss_kib();
		for (i = 0; i < n && (objs[i] = a->alloc(a)) != NULL; i++)
			a->write(a, objs[i]);
		if (i == n)
			live[k] = (double)(rss_kib() - rss0) / ideal;
		while (i-- > 0)
			a->free(a, objs[i]);
		if (k == 0)
			pcpu_balance();
		if (live[k] >= 0)
			after[k] = (double)(rss_kib() - rss0) / ideal;
	}
	base_done(&base);
	snprintf(fig, sizeof(fig), "%ld x 64 B live: resident / ideal (goal <= 1.10)", n);
	snprintf(note, sizeof(note), "ideal; " BASELINE " %.2f", live[1]);
	bench_row(fig, live[0], "", note, 1.0);
	snprintf(fig, sizeof(fig), "%ld x 64 B freed, pcpu_balance(): resident / ideal (<= 0.10)",
		 n);
	snprintf(note, sizeof(note), "ideal; " BASELINE " %.2f", after[1]);
	bench_row(fig, after[0], "", note, 1.0);
}

/* The child of scale_row: SCALE_ALLOCS allocations of 64 bytes, none of their copies
 * touched, at SCALE_CPUS simulated CPUs, from fresh pages: the mean. */
static int scale_child(void)
{
	static void *objs[SCALE_ALLOCS];
	double t0, lib, base = SCALE_GOAL_NS;

	if (pcpu_init() != 0 || pcpu_num_possible_cpus() != SCALE_CPUS) {
		fprintf(stderr, "bench_alloc scale: LIBPERCPU_TOPOLOGY=0-%d not in effect\n",
			SCALE_CPUS - 1);
		return 1;
	}
	t0 = bench_now_ns();
	for (int i = 0; i < SCALE_ALLOCS; i++)
		if (!(objs[i] = pcpu_alloc(64, 4)))
			return 1;
	lib = (bench_now_ns() - t0) / SCALE_ALLOCS;
	for (int i = 0; i < SCALE_ALLOCS; i++)
		pcpu_free(objs[i]);
#ifdef BENCH_PEER
	struct rseq_mempool_attr *attr = rseq_mempool_attr_create();
	struct rseq_mempool *pool;

	rseq_mempool_attr_set_percpu(attr, 0, SCALE_CPUS);
	pool = rseq_mempool_create("bench_alloc scale", 64, attr);
	rseq_mempool_attr_destroy(attr);
	if (!pool) {
		failed_row("1 x 64 B alloc at 1,024 simulated CPUs, copies untouched", lib,
			   BASELINE " fails");
		return 0;
	}
	t0 = bench_now_ns();
	for (int i = 0; i < SCALE_ALLOCS; i++)
		if (!(objs[i] = rseq_mempool_percpu_zmalloc(pool)))
			return 1;
	base = (bench_now_ns() - t0) / SCALE_ALLOCS;
	rseq_mempool_destroy(pool);
	bench_row("1 x 64 B alloc (zeroed) at 1,024 simulated CPUs", lib, "ns", BASELINE, base);
#else
	bench_row("1 x 64 B alloc at 1,024 simulated CPUs, copies untouched", lib, "ns",
		  "goal", base);
#endif
	return 0;
}

static void scale_row(char *self)
{
	char spec[32];
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char *argv[] = { self, (char *)"scale", NULL };

		snprintf(spec, sizeof(spec), "0-%d", SCALE_CPUS - 1);
		setenv("LIBPERCPU_TOPOLOGY", spec, 1);
		execv(self, argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		printf("| %-64s | the child failed\n", "1 x 64 B alloc at 1,024 simulated CPUs");
}

int main(int argc, char **argv)
{
	long n = 500000, n_mem = 1000000;
	unsigned int cpus;
	void **objs;

	if (argc > 1 && strcmp(argv[1], "scale") == 0)
		return scale_child();
	if (argc > 1)
		n = atol(argv[1]);
	if (n <= 0 || pcpu_init() != 0) {
		fprintf(stderr, "bench_alloc: bad N, or pcpu_init() failed\n");
		return 1;
	}
	if (n_mem < n)
		n_mem = n;
	objs = malloc((size_t)n_mem * sizeof(void *));
	if (!objs)
		return 1;
	memset(objs, 0xff, (size_t)n_mem * sizeof(void *)); /* resident before any baseline */
	cpus = pcpu_num_possible_cpus();
	bench_header();
	size_rows(8, n, objs, cpus);
	size_rows(64, n, objs, cpus);
	size_rows(1024, n / 5, objs, cpus);
	memory_rows(n_mem, objs, cpus);
	scale_row(argv[0]);
	free(objs);
	return 0;
}
