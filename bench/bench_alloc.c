/* SPDX-License-Identifier: MIT */
/* bench_alloc.c - the kernel's percpu allocator benchmark, in userspace: N = 1,000,000
 * allocations of S bytes (align 4), freed in order, every other one then the rest, and
 * in reverse, for S = 4, 16, 64, 256, 1024.  Prints ns per allocation, ns per free and
 * resident memory for libpercpu and, in the same run, for glibc malloc of the same sizes;
 * the ratio column is libpercpu / malloc.  (The kernel's bitmap allocator: about 600 ns
 * per 64-byte allocation and 75 ns per free; kmalloc 25 and 45, on its author's machine.)
 * Usage: bench_alloc [N]   Environment: the usual LIBPERCPU_* settings. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "percpu.h"
#include "testutil.h"

enum { IN_ORDER, ALTERNATE, REVERSE, NR_PATTERNS };
static const char *const pattern_names[] = { "in order", "alternate", "reverse" };

struct result {
	double alloc_ns;                 /* per allocation, mean over the three rounds */
	double free_ns[NR_PATTERNS];     /* per free */
	long rss_kib;                    /* resident growth with N live objects */
};

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

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
		double t0 = now_ns();
		for (long i = 0; i < n; i++) {
			objs[i] = al(size);
			if (!objs[i]) {
				fprintf(stderr, "allocation %ld of %zu bytes failed\n", i, size);
				return -1;
			}
		}
		double t1 = now_ns();
		if (pat == 0)
			r->rss_kib = tu_rss_kib() - rss0;
		free_pattern(objs, n, pat, fr);
		double t2 = now_ns();
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
	printf("bench_alloc: N = %ld allocations, align 4, %u possible CPUs (resident memory of\n"
	       "libpercpu counts every CPU's copy: ideal = N * S * CPUs)\n\n",
	       n, pcpu_num_possible_cpus());
	printf("%6s %-9s | %10s %10s | %10s %10s | %8s\n", "size", "free", "percpu ns", "malloc ns",
	       "percpu MiB", "malloc MiB", "ratio");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct result p, m;
		size_t s = sizes[i];

		if (run(objs, n, s, alloc_percpu_obj, free_percpu_obj, &p) ||
		    run(objs, n, s, alloc_malloc, free_malloc, &m)) {
			status = 1;
			break;
		}
		pcpu_balance();
		double ideal = (double)n * (double)s * pcpu_num_possible_cpus() / 1048576.0;
		printf("%6zu %-9s | %10.1f %10.1f | %10.1f %10.1f | %7.2fx  (ideal %.1f MiB, %+.1f%%)\n",
		       s, "alloc", p.alloc_ns, m.alloc_ns, p.rss_kib / 1024.0, m.rss_kib / 1024.0,
		       p.alloc_ns / m.alloc_ns, ideal, 100.0 * (p.rss_kib / 1024.0 - ideal) / ideal);
		for (int pat = 0; pat < NR_PATTERNS; pat++)
			printf("%6s %-9s | %10.1f %10.1f | %10s %10s | %7.2fx\n", "",
			       pattern_names[pat], p.free_ns[pat], m.free_ns[pat], "", "",
			       p.free_ns[pat] / m.free_ns[pat]);
		double pf = (p.free_ns[0] + p.free_ns[1] + p.free_ns[2]) / 3;
		double mf = (m.free_ns[0] + m.free_ns[1] + m.free_ns[2]) / 3;
		printf("%6s %-9s | %10.1f %10.1f | %10s %10s | %7.2fx\n\n", "", "alloc+free",
		       p.alloc_ns + pf, m.alloc_ns + mf, "", "", (p.alloc_ns + pf) / (m.alloc_ns + mf));
	}
	struct pcpu_stats st;
	pcpu_get_stats(&st);
	printf("after all rounds: %u chunks, %zu populated pages per unit, %zu empty populated\n",
	       st.nr_chunks, st.nr_populated_pages, st.nr_empty_pop_pages);
	free(objs);
	return status;
}
