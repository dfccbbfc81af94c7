/* SPDX-License-Identifier: MIT */
/* bench.h - what every benchmark shares: best-of-N timing and the one table that
 * `make bench` and `make bench-peer` print, a row per figure:
 *
 *   | figure | libpercpu | baseline | ratio |
 *
 * ratio = libpercpu / baseline, so below 1 is libpercpu faster (or smaller).  Absolute
 * times drift on a loaded machine; the ratio of two loops timed alternately in the same
 * process does much less, which is why every figure is a ratio and why bench_compare()
 * interleaves the two loops it compares and keeps the best run of each.
 *
 * Environment: BENCH_REPS runs of each loop (default 5, the best counts);
 * BENCH_NO_HEADER=1 prints rows only (make bench prints the header once, then runs
 * each program with it set, so that their rows form one table). */
#ifndef PCPU_BENCH_H
#define PCPU_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BENCH_BARRIER() __asm__ __volatile__("" ::: "memory")

/* A loop to time: runs @iters iterations of the measured work on @arg. */
typedef void (*bench_loop)(void *arg, long iters);

static inline double bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline int bench_reps(void)
{
	const char *s = getenv("BENCH_REPS");
	int n = s ? atoi(s) : 5;

	return n > 0 ? n : 1;
}

/* ns per iteration of one run of @fn. */
static inline double bench_once(bench_loop fn, void *arg, long iters)
{
	double t0 = bench_now_ns();

	fn(arg, iters);
	return (bench_now_ns() - t0) / (double)iters;
}

/* The best of bench_reps() runs: ns per iteration. */
static inline double bench_best(bench_loop fn, void *arg, long iters)
{
	double best = bench_once(fn, arg, iters);

	for (int r = 1; r < bench_reps(); r++) {
		double t = bench_once(fn, arg, iters);
		best = t < best ? t : best;
	}
	return best;
}

/* Times @lib and @base alternately, bench_reps() runs each, the best of each counts;
 * returns ns per iteration in *lib_ns and *base_ns (each divided by @per, the operations
 * per iteration). */
static inline void bench_compare(bench_loop lib, void *lib_arg, bench_loop base, void *base_arg,
				 long iters, double per, double *lib_ns, double *base_ns)
{
	double l = 1e300, b = 1e300;

	/* one short run each first: page faults and cold caches are not the figure */
	lib(lib_arg, iters / 10 + 1);
	base(base_arg, iters / 10 + 1);
	for (int r = 0; r < bench_reps(); r++) {
		double tl = bench_once(lib, lib_arg, iters), tb = bench_once(base, base_arg, iters);
		l = tl < l ? tl : l;
		b = tb < b ? tb : b;
	}
	*lib_ns = l / per;
	*base_ns = b / per;
}

static inline void bench_header(void)
{
	const char *s = getenv("BENCH_NO_HEADER");

	if (s && *s == '1')
		return;
	printf("| %-64s | %-14s | %-30s | %-6s |\n", "figure", "libpercpu", "baseline", "ratio");
	printf("|%.66s|%.16s|%.32s|%.8s|\n",
	       "--------------------------------------------------------------------------",
	       "----------------", "--------------------------------", "--------");
}

/* One row: @figure, libpercpu's value @lib in @unit, the baseline named @base_name with
 * its value @base, and lib / base. */
static inline void bench_row(const char *figure, double lib, const char *unit,
			     const char *base_name, double base)
{
	char l[32], b[64];

	snprintf(l, sizeof(l), "%.2f %s", lib, unit);
	snprintf(b, sizeof(b), "%.2f %s (%s)", base, unit, base_name);
	printf("| %-64s | %-14s | %-30s | %5.2fx |\n", figure, l, b, lib / base);
	fflush(stdout);
}

#endif /* PCPU_BENCH_H */
