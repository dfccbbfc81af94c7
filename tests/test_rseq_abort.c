/* SPDX-License-Identifier: MIT */
/* test_rseq_abort.c - the abort path of every rseq primitive (load, store, add,
 * compare-and-store for 1, 2, 4 and 8 bytes, and the 16-byte compare-and-store), forced
 * through the test hook PCPU_RSEQ_INJECT_ASM: at the injection point armed for the next
 * operation the section executes int3, the kernel delivers SIGTRAP and, the thread being
 * inside a registered section, moves it to the section's abort handler.  The SIGTRAP
 * handler checks where it will return: right after the abort signature (the kernel's
 * abort) or right after the int3 (not in a section).  In the getcpu mode no section
 * runs: the operations find no index and take the atomic fallback.  A random sequence
 * of operations, each with an abort at point 1 (start of the section), at point 2
 * (right before the commit) or none, runs on a pinned thread against a model of the
 * copies: every result and every CPU's copy must match the model exactly, so an aborted
 * attempt is never half-applied and the retry applies it once.  The same for
 * pcpu_counter's inline add (its own section, which commits, or finds the batch passed
 * and leaves the fold to the library), against a model of this CPU's delta and the
 * count.  All CPU-source modes. */
#include <signal.h>
#include <string.h>
#include <ucontext.h>

/* The hook: point n traps when arm == n.  The handler disarms it, so the retry runs. */
static volatile int arm;
#define PCPU_RSEQ_INJECT_INPUT , [arm] "m"(arm)
#define PCPU_RSEQ_INJECT_ASM(n) "cmpl $" #n ", %[arm]\n\tjne 8f\n\tint3\n\t8:\n\t"

#include "percpu.h"
#include "testutil.h"

#if defined(__x86_64__) && !defined(PCPU_NO_RSEQ_OPS)

static volatile long traps, kernel_aborts;

static void on_trap(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	const unsigned char *ip = (const unsigned char *)uc->uc_mcontext.gregs[REG_RIP];
	uint32_t before;

	(void)sig;
	(void)si;
	memcpy(&before, ip - 4, sizeof(before));
	traps++;
	if (before == (uint32_t)__PCPU_RSEQ_SIG && ip[-7] == 0x0f && ip[-6] == 0xb9)
		kernel_aborts++;
	arm = 0;
}

struct copy {
	uint8_t b;
	uint8_t pad1;
	uint16_t w;
	uint32_t l;
	uint64_t q;
	uint64_t pair[2] __attribute__((aligned(16)));
};

static uint64_t rnd_val(void)
{
	/* small values often, so that compare-and-store succeeds often */
	uint64_t r = tu_rand();
	return (r & 3) ? (r >> 8) % 4 : r;
}

static void run(int rseq, long steps)
{
	struct copy *c = pcpu_alloc_type(struct copy), m, zero;
	unsigned int cpu, self;
	long expect_traps = 0, expect_aborts = 0, done[3] = { 0, 0, 0 };

	CHECK(c != NULL);
	memset(&zero, 0, sizeof(zero));
	m = zero;
	/* pinned: the CPU, and in cid mode the ID of this only running thread, stay */
	CHECK_EQ(tu_pin((unsigned int)sched_getcpu()), 0);
	self = pcpu_current_cpu();
	(void)pcpu_this_read(c->q); /* registers the thread where the library does */

	for (long i = 0; i < steps; i++) {
		int op = (int)(tu_rand() % 5), width = 1 << (tu_rand() % 4), point = (int)(tu_rand() % 3);
		uint64_t v = rnd_val(), o = rnd_val(), got = 0;
		int reaches_commit = 1;
		long t0 = traps, a0 = kernel_aborts;

		if (op == 4)
			width = 16;
		arm = point;
		switch (op * 100 + width) {
#define W(N, FIELD, T)                                                                  \
		case 0 * 100 + N: got = pcpu_this_read(c->FIELD);                       \
			CHECK_EQ(got, m.FIELD); break;                                  \
		case 1 * 100 + N: pcpu_this_write(c->FIELD, (T)v); m.FIELD = (T)v; break; \
		case 2 * 100 + N: pcpu_this_add(c->FIELD, (T)v); m.FIELD = (T)(m.FIELD + (T)v); \
			break;                                                          \
		case 3 * 100 + N: {                                                     \
			T old = (T)o;                                                   \
			_Bool ok = pcpu_this_try_cmpxchg(c->FIELD, &old, (T)v);          \
			CHECK_EQ(ok, m.FIELD == (T)o);                                  \
			CHECK_EQ(old, ok ? (T)o : m.FIELD);                             \
			reaches_commit = ok;                                            \
			if (ok)                                                         \
				m.FIELD = (T)v;                                         \
			break;                                                          \
		}
		W(1, b, uint8_t)
		W(2, w, uint16_t)
		W(4, l, uint32_t)
		W(8, q, uint64_t)
#undef W
		default: { /* cmpxchg_double */
			uint64_t o2 = rnd_val(), v2 = rnd_val();
			_Bool ok = pcpu_this_cmpxchg_double(c->pair[0], c->pair[1], o, o2, v, v2);
			CHECK_EQ(ok, m.pair[0] == o && m.pair[1] == o2);
			reaches_commit = ok;
			if (ok) {
				m.pair[0] = v;
				m.pair[1] = v2;
			}
			break;
		}
		}
		/* with rseq, point 1 is reached by every operation, point 2 by a section
		 * that commits; without, no section runs (the thread has no index) */
		int trapped = rseq && (point == 1 || (point == 2 && reaches_commit));
		arm = 0;
		expect_traps += trapped;
		expect_aborts += trapped && rseq;
		done[point] += trapped;
		CHECK_EQ(traps - t0, trapped);
		CHECK_EQ(kernel_aborts - a0, trapped && rseq);
		pcpu_for_each_possible_cpu(cpu)
			CHECK(memcmp(pcpu_ptr(c, cpu), cpu == self ? &m : &zero, sizeof(m)) == 0);
		if (tu_failures)
			break;
	}
	fprintf(stderr, "  %ld operations: %ld forced aborts at the section start, %ld before "
		"the commit; %ld taken by the kernel\n", steps, done[1], done[2], kernel_aborts);
	CHECK_EQ(traps, expect_traps);
	CHECK_EQ(kernel_aborts, expect_aborts);
	pcpu_free(c);
}

/* pcpu_counter_add_batch() inline, with amounts below the batch, some adds passing it
 * (the section then leaves without reaching point 2, and the fold, in the library, has
 * no hook). */
static void run_counter(int rseq, long steps)
{
	struct pcpu_counter fbc;
	int64_t count = 0;
	int32_t delta = 0;
	long traps0 = traps, aborts0 = kernel_aborts, expect = 0, folds = 0;
	unsigned int cpu, self;

	CHECK_EQ(pcpu_counter_init(&fbc, 0, PCPU_GFP_KERNEL), 0);
	CHECK_EQ(tu_pin((unsigned int)sched_getcpu()), 0);
	self = pcpu_current_cpu();
	for (long i = 0; i < steps && !tu_failures; i++) {
		int32_t batch = (int32_t)(1 + tu_rand() % ((tu_rand() & 1) ? 8 : 100000));
		int32_t v = (int32_t)(tu_rand() % (2u * (uint32_t)batch - 1)) - (batch - 1);
		int point = (int)(tu_rand() % 3), stays;
		int64_t sum = (int64_t)delta + v;
		long t0 = traps;

		stays = sum > -batch && sum < batch;
		arm = point;
		pcpu_counter_add_batch(&fbc, v, batch);
		arm = 0;
		if (stays) {
			delta = (int32_t)sum;
		} else {
			count += sum;
			delta = 0;
			folds++;
		}
		expect += rseq && (point == 1 || (point == 2 && stays));
		CHECK_EQ(traps - t0, rseq && (point == 1 || (point == 2 && stays)));
		pcpu_for_each_possible_cpu(cpu)
			CHECK_EQ(*pcpu_ptr(fbc.counters, cpu), cpu == self ? delta : 0);
		CHECK_EQ(pcpu_counter_read(&fbc), count);
	}
	fprintf(stderr, "  pcpu_counter: %ld adds, %ld folds, %ld forced aborts\n", steps, folds,
		traps - traps0);
	CHECK_EQ(traps - traps0, expect);
	CHECK_EQ(kernel_aborts - aborts0, rseq ? expect : 0);
	CHECK_EQ(pcpu_counter_sum(&fbc), count + delta);
	tu_unpin();
	pcpu_counter_destroy(&fbc);
}

static int run_mode(const char *want)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGTRAP, &sa, NULL);
	tu_seed("test_rseq_abort");
	fprintf(stderr, "mode: %s\n", pcpu_cpu_source());
	CHECK(tu_source_is(want));
	run(strstr(pcpu_cpu_source(), "registration") != NULL, tu_scaled(20000));
	run_counter(strstr(pcpu_cpu_source(), "registration") != NULL, tu_scaled(20000));
	return tu_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	return tu_run_modes_cid(argc, argv, run_mode);
}
#else
/* The rseq primitives and this hook exist on x86-64 only (make check-cross builds the
 * suite for aarch64 and riscv64). */
int main(void)
{
	fprintf(stderr, "SKIP test_rseq_abort: no rseq primitives on this architecture\n");
	return 0;
}
#endif
