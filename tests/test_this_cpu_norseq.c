/* SPDX-License-Identifier: MIT */
/* test_this_cpu_norseq.c - test_this_cpu as a program built with -DPCPU_NO_RSEQ_OPS
 * compiles it: every this_cpu operation takes the atomic fallback inline, whatever CPU
 * source the library has.  Same definitions, same exact totals. */
#define PCPU_NO_RSEQ_OPS
#include "test_this_cpu.c"
