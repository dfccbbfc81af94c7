/* SPDX-License-Identifier: MIT */
/* bench_alloc.c - the kernel's percpu allocator benchmark, in userspace: N = 1,000,000
 * allocations of S bytes (align 4), freed in order, every other one then the rest, and
 * in reverse, for S = 4, 16, 64, 256, 1024.  Prints ns per allocation, ns per free and
 * resident memory for libpercpu and, in the same run, for glibc malloc of the same sizes:
 * rows of bench.h's table, alloc + free against malloc, resident memory against ideal.  (The kernel's bitmap allocator: about 600 ns
 * per 64-byte allocation and 75 ns per free; kmalloc 25 and 45, on its author's machine.)
 * Usage: bench_alloc [N]   Environment: the usual LIBPERCPU_* settings. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "percpu.h"
#include "testutil.h"
#include "bench.h"

enum { IN_ORDER, ALTERNATE, REVERSE, NR_PATTERNS };

struct result {
	double alloc_ns;                 /* per allocation, mean over the three rounds */
	double free_ns[NR_PATTERNS];     /* per free */
	long rss_kib;                    /* resident growth with N live objects */
};

static void *alloc_percpu_obj(size_t size)
{
	return pcpu_alloc(size, 4);
}

static void free_percpu_obj(void *p)
{
	pcpu_free(p);
}

static void *alloc_malloc(size_t size)
{
	return malloc(size);
}

static void free_malloc(void *p)
{
	free(p);
}

static void free_pattern(void **objs, long n, int pattern, void (*fr)(void *))
{
	switch (pattern) {
	case IN_ORDER:
		for (long i = 0; i < n; i++)
			fr(objs[i]);
		break;
	case ALTERNATE:
		for (long i = 0; i < n; i += 2)
			fr(objs[i]);
		for (long i = 1; i < n; i += 2)
			fr(objs[i]);
		break;
	case REVERSE:
		for (long i = n - 1; i >= 0; i--)
			fr(objs[i]);
		break;
	}
}

static int run(void **objs, long n, size_t size, void *(*al)(size_t), void (*fr)(void *),
	       struct result *r)
{
	double alloc_total = 0;

	memset(r, 0, sizeof(*r));
	for (int pat = 0; pat < NR_PATTERNS; pat++) {
		long rss0 = tu_rss_kib();
		double t0 = bench_now_ns();
		for (long i = 0; i < n; i++) {
			objs[i] = al(size);
			if (!objs[i]) {
				fprintf(stderr, "allocation %ld of %zu bytes failed\n", i, size);
				return -1;
			}
		}
		double t1 = bench_now_ns();
		if (pat == 0)
			r->rss_kib = tu_rss_kib() - rss0;
		free_pattern(objs, n, pat, fr);
		double t2 = bench_now_ns();
		alloc_total += t1 - t0;
		r->free_ns[pat] = (t2 - t1) / (double)n;
	}
	r->alloc_ns = alloc_total / (NR_PATTERNS * (double)n);
	return 0;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 4, 16, 64, 256, 1024 };
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	void **objs = malloc((size_t)n * sizeof(void *));
	int status = 0;

	if (!objs || n <= 0 || pcpu_init() != 0) {
		fprintf(stderr, "bench_alloc: setup failed\n");
		return 1;
	}
	memset(objs, 0xff, (size_t)n * sizeof(void *)); /* resident before any baseline */
	bench_header();
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct result p, m;
		size_t s = sizes[i];
		char fig[96];

		if (run(objs, n, s, alloc_percpu_obj, free_percpu_obj, &p) ||
		    run(objs, n, s, alloc_malloc, free_malloc, &m)) {
			status = 1;
			break;
		}
		pcpu_balance();
		double ideal = (double)n * (double)s * pcpu_num_possible_cpus() / 1048576.0;
		double pf = (p.free_ns[0] + p.free_ns[1] + p.free_ns[2]) / 3;
		double mf = (m.free_ns[0] + m.free_ns[1] + m.free_ns[2]) / 3;
		snprintf(fig, sizeof(fig), "%ld x %zu B: alloc + free (3 free orders), ns", n, s);
		bench_row(fig, p.alloc_ns + pf, "ns", "glibc malloc", m.alloc_ns + mf);
		snprintf(fig, sizeof(fig), "%ld x %zu B live on %u CPUs: resident MiB", n, s,
			 pcpu_num_possible_cpus());
		bench_row(fig, p.rss_kib / 1024.0, "MiB", "ideal N*S*CPUs", ideal);
	}
	free(objs);
	return status;
}
