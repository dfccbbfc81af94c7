/* SPDX-License-Identifier: MIT */
/* this_cpu_loops.h - the libpercpu loops that bench_this_cpu and peer_rseq time against
 * their baselines: this_cpu_inc on one counter, and on eight counters per iteration, for
 * pcpu_alloc'd objects (dyn[]) and static per-CPU variables (st0..st7).  Each loop adds
 * what it did to count_dyn0 or count_st0, which tu_sum_u64() checks at the end.  Include once
 * per program (it defines the variables). */
#ifndef PCPU_BENCH_THIS_CPU_LOOPS_H
#define PCPU_BENCH_THIS_CPU_LOOPS_H

#include <stdint.h>

#include "percpu.h"
#include "testutil.h"

#define NCTR 8

PCPU_DEFINE(uint64_t, st0);
PCPU_DEFINE(uint64_t, st1);
PCPU_DEFINE(uint64_t, st2);
PCPU_DEFINE(uint64_t, st3);
PCPU_DEFINE(uint64_t, st4);
PCPU_DEFINE(uint64_t, st5);
PCPU_DEFINE(uint64_t, st6);
PCPU_DEFINE(uint64_t, st7);

static uint64_t *dyn[NCTR];
static uint64_t count_dyn0, count_st0;

static void dyn_one(void *arg, long n)
{
	uint64_t *c = dyn[0];

	(void)arg;
	for (long i = 0; i < n; i++)
		pcpu_this_inc(*c);
	count_dyn0 += (uint64_t)n;
}

static void dyn_eight(void *arg, long n)
{
	uint64_t *c0 = dyn[0], *c1 = dyn[1], *c2 = dyn[2], *c3 = dyn[3];
	uint64_t *c4 = dyn[4], *c5 = dyn[5], *c6 = dyn[6], *c7 = dyn[7];

	(void)arg;
	for (long i = 0; i < n; i++) {
		pcpu_this_inc(*c0);
		pcpu_this_inc(*c1);
		pcpu_this_inc(*c2);
		pcpu_this_inc(*c3);
		pcpu_this_inc(*c4);
		pcpu_this_inc(*c5);
		pcpu_this_inc(*c6);
		pcpu_this_inc(*c7);
	}
	count_dyn0 += (uint64_t)n;
}

static void st_one(void *arg, long n)
{
	(void)arg;
	for (long i = 0; i < n; i++)
		pcpu_this_inc(st0);
	count_st0 += (uint64_t)n;
}

static void st_eight(void *arg, long n)
{
	(void)arg;
	for (long i = 0; i < n; i++) {
		pcpu_this_inc(st0);
		pcpu_this_inc(st1);
		pcpu_this_inc(st2);
		pcpu_this_inc(st3);
		pcpu_this_inc(st4);
		pcpu_this_inc(st5);
		pcpu_this_inc(st6);
		pcpu_this_inc(st7);
	}
	count_st0 += (uint64_t)n;
}

#endif /* PCPU_BENCH_THIS_CPU_LOOPS_H */
