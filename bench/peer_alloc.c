/* SPDX-License-Identifier: MIT */
/* peer_alloc.c - bench_alloc.c's figures with librseq's per-CPU mempool as the baseline,
 * in the same process (make bench-peer builds librseq from ../shared/peers into
 * build/peer/ for the bench/peer_*.c programs only): 8, 64 and 1024-byte objects
 * allocated zeroed (rseq_mempool_percpu_zmalloc, its default stride), every copy
 * written, freed; cold (a new pool) and in churn; resident memory against the ideal;
 * one allocation at 1,024 simulated CPUs.  Usage: peer_alloc [N] */
#define BENCH_PEER 1
#include "bench_alloc.c"
