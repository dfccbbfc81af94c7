/* SPDX-License-Identifier: MIT */
/* bench_this_cpu.c - the this_cpu hot path, as rows of bench.h's table: one counter in a
 * loop (latency-bound) and eight different counters per iteration (throughput-bound),
 * for a dynamic object and for static per-CPU variables, each against a hand-written
 * minimal rseq section (store the descriptor, load cpu_id, index by cpu << 12, add: the
 * floor any rseq this_cpu operation can reach); the same loop compiled into a shared
 * object (unloadable sections clear rseq_cs) against the executable's; the atomic
 * fallback and pcpu_counter_add (default batch, and batch 4096) against this_cpu_add, and
 * the floor of pcpu_counter_add's folds (one atomic add per batch), and the share of its
 * branch alone (a plain add per batch).  Exits 1 if any total is wrong.
 * Usage: bench_this_cpu [iterations]   (default 20,000,000; BENCH_REPS, see bench.h) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "percpu.h"
#include "bench.h"
#include "this_cpu_loops.h"

static struct pcpu_counter fbc;
static uint64_t expected_fbc;

/* The same loop in a shared object: its sections clear rseq_cs on the way out. */
void bench_so_inc_loop(uint64_t *counter, long iters);

static void dyn_one_so(void *arg, long n)
{
	(void)arg;
	bench_so_inc_loop(dyn[0], n);
	count_dyn0 += (uint64_t)n;
}

/* What the library does without rseq: an atomic add on the copy of the CPU
 * pcpu_current_cpu() names (here with rseq giving the CPU: the fallback's best case). */
static void dyn_fallback(void *arg, long n)
{
	uint64_t *c = dyn[0];

	(void)arg;
	for (long i = 0; i < n; i++)
		__atomic_fetch_add(pcpu_this_ptr(c), 1, __ATOMIC_RELAXED);
	count_dyn0 += (uint64_t)n;
}

static void counter_add(void *arg, long n)
{
	(void)arg;
	for (long i = 0; i < n; i++)
		pcpu_counter_add(&fbc, 1);
	expected_fbc += (uint64_t)n;
}

/* The same with a batch of 4096: a fold (the counter's lock) every 4,096 adds instead
 * of every 32 or 2 * CPUs, to show the inline add alone. */
static void counter_add_big_batch(void *arg, long n)
{
	(void)arg;
	for (long i = 0; i < n; i++)
		pcpu_counter_add_batch(&fbc, 1, 4096);
	expected_fbc += (uint64_t)n;
}

/* The floor of any fold: this_cpu_inc with one atomic add to a shared word every
 * default-batch increments, what a fold of a delta into a shared count costs at least
 * (on x86 any atomic read-modify-write is a full barrier).  Not a counter: its sum is
 * this_cpu_inc's.  With @atomic 0, a plain add instead: what the branch to a fold
 * costs by itself.  Measured on the bench machine (a branch taken every k
 * increments): about 1 ns per taken branch at k = 4, 12-16 ns at k = 16 to 64, with the
 * atomic add or without; so the branch, mispredicted each time, not the atomic, is
 * most of the floor at the batch of 32. */
static int64_t fold_floor_word;

static inline __attribute__((always_inline)) void fold_floor(long n, int atomic)
{
	uint64_t *c = dyn[0];
	int32_t batch = pcpu_counter_batch(), k = 0;

	for (long i = 0; i < n; i++) {
		pcpu_this_inc(*c);
		if (++k == batch) {
			k = 0;
			if (atomic)
				__atomic_add_fetch(&fold_floor_word, 1, __ATOMIC_RELAXED);
			else
				__atomic_store_n(&fold_floor_word,
						 __atomic_load_n(&fold_floor_word, __ATOMIC_RELAXED) + 1,
						 __ATOMIC_RELAXED);
		}
	}
	count_dyn0 += (uint64_t)n;
}

static void dyn_one_fold_floor(void *arg, long n)
{
	(void)arg;
	fold_floor(n, 1);
}

static void dyn_one_fold_branch(void *arg, long n)
{
	(void)arg;
	fold_floor(n, 0);
}

/* ---- the hand-written floor: a minimal rseq section per increment ---- */

#if defined(__x86_64__)
#define FLOOR_SHIFT 12 /* one 4 KiB slot per CPU: no false sharing between CPUs */
#define PCPU_BENCH_STR_(x) #x
#define PCPU_BENCH_STR(x) PCPU_BENCH_STR_(x)
static char *floor_area;
static char *floor_rs; /* this thread's struct rseq */

/* Adds 1 to the word at @base in this CPU's slot; 1 if the section aborted.  The word
 * is addressed through one register: an add to (base, index) runs at about a third of
 * the speed in a loop on this machine (a store then a load of the same address seem to
 * be forwarded fast only in the simple form), which made this floor no floor. */
static inline __attribute__((always_inline)) int floor_inc(char *rs, char *base)
{
	__asm__ __volatile__ goto(".pushsection __rseq_cs, \"aw\"\n\t"
				  ".balign 32\n\t"
				  "3: .long 0x0, 0x0\n\t"
				  ".quad 1f, (2f - 1f), 4f\n\t"
				  ".popsection\n\t"
				  ".pushsection __rseq_cs_ptr_array, \"aw\"\n\t"
				  ".quad 3b\n\t"
				  ".popsection\n\t"
				  "leaq 3b(%%rip), %%rax\n\t"
				  "movq %%rax, 8(%[rs])\n\t"
				  "1: movl 4(%[rs]), %%eax\n\t"
				  "shlq $" PCPU_BENCH_STR(FLOOR_SHIFT) ", %%rax\n\t"
				  "addq %[base], %%rax\n\t"
				  "addq $1, (%%rax)\n\t"
				  "2:\n\t"
				  ".pushsection __rseq_failure, \"ax\"\n\t"
				  ".byte 0x0f, 0xb9, 0x3d\n\t"
				  ".long 0x53053053\n\t"
				  "4: jmp %l[abort]\n\t"
				  ".popsection\n\t"
				  : : [rs] "r"(rs), [base] "r"(base) : "memory", "cc", "rax" : abort);
	return 0;
abort:
	return 1;
}
static void floor_one(void *arg, long n)
{
	char *rs = floor_rs, *b = floor_area;

	(void)arg;
	for (long i = 0; i < n; i++)
		while (floor_inc(rs, b))
			;
}

static void floor_eight(void *arg, long n)
{
	char *rs = floor_rs, *b = floor_area;

	(void)arg;
	for (long i = 0; i < n; i++) {
		while (floor_inc(rs, b))
			;
		while (floor_inc(rs, b + 8))
			;
		while (floor_inc(rs, b + 16))
			;
		while (floor_inc(rs, b + 24))
			;
		while (floor_inc(rs, b + 32))
			;
		while (floor_inc(rs, b + 40))
			;
		while (floor_inc(rs, b + 48))
			;
		while (floor_inc(rs, b + 56))
			;
	}
}
#endif

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000000;
	double l, b;
	int ok = 1;

	for (int i = 0; i < NCTR; i++)
		dyn[i] = pcpu_alloc_type(uint64_t);
	if (n <= 0 || !dyn[NCTR - 1] || pcpu_counter_init(&fbc, 0, PCPU_GFP_KERNEL) != 0) {
		fprintf(stderr, "bench_this_cpu: setup failed\n");
		return 1;
	}
	bench_header();
#if defined(__x86_64__)
	/* the floor needs the rseq area as libpercpu uses it (glibc's or its own) */
	if (pcpu_current_cpu() < pcpu_nr_cpu_ids() && __pcpu_fast.rseq_index_bound &&
	    (floor_area = aligned_alloc(4096, (size_t)pcpu_nr_cpu_ids() << FLOOR_SHIFT))) {
		memset(floor_area, 0, (size_t)pcpu_nr_cpu_ids() << FLOOR_SHIFT);
		floor_rs = (char *)__pcpu_thread_pointer() + __pcpu_fast.rseq_offset;
		bench_compare(dyn_one, NULL, floor_one, NULL, n, 1, &l, &b);
		bench_row("this_cpu_inc, 1 dynamic counter (goal <= 1.10)", l, "ns", "minimal rseq", b);
		bench_compare(st_one, NULL, floor_one, NULL, n, 1, &l, &b);
		bench_row("this_cpu_inc, 1 static variable (goal <= 1.10)", l, "ns", "minimal rseq", b);
		bench_compare(dyn_eight, NULL, floor_eight, NULL, n / NCTR, NCTR, &l, &b);
		bench_row("this_cpu_inc, 8 dynamic counters per iteration", l, "ns", "minimal rseq", b);
		bench_compare(st_eight, NULL, floor_eight, NULL, n / NCTR, NCTR, &l, &b);
		bench_row("this_cpu_inc, 8 static variables per iteration", l, "ns", "minimal rseq", b);
		free(floor_area);
	} else {
		fprintf(stderr, "bench_this_cpu: no rseq (%s): no minimal-section rows\n",
			pcpu_cpu_source());
	}
#endif
	bench_compare(dyn_one_so, NULL, dyn_one, NULL, n, 1, &l, &b);
	bench_row("this_cpu_inc in an unloadable .so (clears rseq_cs)", l, "ns", "in the executable", b);
	bench_compare(dyn_fallback, NULL, dyn_one, NULL, n, 1, &l, &b);
	bench_row("atomic fallback (no rseq), 1 counter", l, "ns", "this_cpu_inc", b);
	bench_compare(counter_add, NULL, dyn_one, NULL, n, 1, &l, &b);
	bench_row("pcpu_counter_add (goal <= 2.00)", l, "ns", "this_cpu_inc", b);
	bench_compare(counter_add_big_batch, NULL, dyn_one, NULL, n, 1, &l, &b);
	bench_row("pcpu_counter_add_batch, batch 4096", l, "ns", "this_cpu_inc", b);
	bench_compare(dyn_one_fold_floor, NULL, dyn_one, NULL, n, 1, &l, &b);
	bench_row("this_cpu_inc + an atomic add per batch (a fold's floor)", l, "ns", "this_cpu_inc", b);
	bench_compare(dyn_one_fold_branch, NULL, dyn_one, NULL, n, 1, &l, &b);
	bench_row("this_cpu_inc + a plain add per batch (its branch alone)", l, "ns", "this_cpu_inc",
		  b);

	if (tu_sum_u64(dyn[0]) != count_dyn0 || tu_sum_u64(&st0) != count_st0 ||
	    pcpu_counter_sum(&fbc) != (int64_t)expected_fbc) {
		fprintf(stderr, "bench_this_cpu: wrong totals: %llu/%llu %llu/%llu %lld/%llu\n",
			(unsigned long long)tu_sum_u64(dyn[0]), (unsigned long long)count_dyn0,
			(unsigned long long)tu_sum_u64(&st0), (unsigned long long)count_st0,
			(long long)pcpu_counter_sum(&fbc), (unsigned long long)expected_fbc);
		ok = 0;
	}
	for (int i = 0; i < NCTR; i++)
		pcpu_free(dyn[i]);
	pcpu_counter_destroy(&fbc);
	return ok ? 0 : 1;
}
