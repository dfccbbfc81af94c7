/* SPDX-License-Identifier: MIT */
/* lib_this_cpu.c - bench_this_cpu's this_cpu_inc loop compiled into a shared object
 * (-fPIC, not -fPIE), whose rseq sections are the unloadable kind: they clear the
 * thread's rseq_cs on the way out.  The benchmark runs it next to the same loop in the
 * executable to show what that store costs. */
#include "percpu.h"

void bench_so_inc_loop(uint64_t *counter, long iters);

void bench_so_inc_loop(uint64_t *counter, long iters)
{
	for (long i = 0; i < iters; i++) {
		pcpu_this_inc(*counter);
		__asm__ __volatile__("" ::: "memory");
	}
}
