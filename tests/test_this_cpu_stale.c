/* SPDX-License-Identifier: MIT */
/* test_this_cpu_stale.c - the this_cpu operations stay exact when the values the
 * compiler keeps for them go stale within one function (include/percpu/arch/x86_64.h
 * reads __pcpu_fast's fields once per function): (1) a loop whose first operation
 * initializes the library (the first call into it in the process, on a static per-CPU
 * variable and on the members of a struct of them); (2) a loop that allocates objects
 * until the arena has grown by several chunks and updates each new object, of every
 * width, right after allocating it.  Every copy must hold exactly what was added, and
 * nothing else may change.  In each mode: glibc's rseq, the library's own
 * registration, and the atomic fallback (each mode is a new process, so (1) always
 * runs before the library is initialized).  (3) A section stores its descriptor
 * before it tests the index: with fields read before initialization, or without
 * rseq, it must store it in a sink, not at the thread pointer plus a zero offset (the
 * thread's TCB: its dtv pointer is at +8): after (1) and after operations in the
 * atomic fallback, no word of the TCB's header points at a descriptor. */
#include "percpu.h"
#include "testutil.h"

struct widths {
	uint8_t b;
	uint16_t w;
	uint32_t l;
	uint64_t q;
};

PCPU_DEFINE(uint64_t, first_counter);
PCPU_DEFINE(struct widths, first_w);

/* Not inlined into main: the function that initializes the library must be the one
 * that loops, with whatever it read before the first call. */
__attribute__((noinline)) static void first_use(long n)
{
	for (long i = 0; i < n; i++) {
		pcpu_this_inc(first_counter);
		pcpu_this_add(first_w.b, 1);
		pcpu_this_add(first_w.w, 2);
		pcpu_this_add(first_w.l, 3);
		pcpu_this_add(first_w.q, 4);
	}
}

#if defined(__x86_64__) && !defined(PCPU_NO_RSEQ_OPS)
/* The rseq descriptors of this executable (the sections' __rseq_cs). */
extern const char __start___rseq_cs[], __stop___rseq_cs[];

/* Whether a word of the thread's TCB header (tcbhead_t's first 64 bytes on x86-64:
 * tcb, dtv, self, ..., the stack guard) holds the address of a descriptor. */
static int tcb_points_at_descriptor(void)
{
	const uintptr_t *tcb = __pcpu_thread_pointer();

	for (int k = 0; k < 8; k++)
		if (tcb[k] >= (uintptr_t)__start___rseq_cs && tcb[k] < (uintptr_t)__stop___rseq_cs)
			return 1;
	return 0;
}
#else
static int tcb_points_at_descriptor(void)
{
	return 0; /* no rseq sections */
}
#endif

#define OBJ_BYTES (32u << 10) /* the largest allocation: few per chunk */
#define MAX_OBJS 4096

struct big {
	struct widths w;
	char rest[OBJ_BYTES - sizeof(struct widths)];
};

/* Allocates and updates in one loop, until the arena has grown by @grow chunks. */
__attribute__((noinline)) static int grow_and_update(struct big **objs, unsigned int grow)
{
	struct pcpu_stats st;
	unsigned int start;
	int n = 0;

	CHECK_EQ(pcpu_get_stats(&st), 0);
	start = st.nr_chunks;
	while (n < MAX_OBJS) {
		struct big *o = pcpu_alloc(sizeof(struct big), 8);

		if (!o)
			break;
		objs[n++] = o;
		pcpu_this_add(o->w.b, 1);
		pcpu_this_add(o->w.w, 2);
		pcpu_this_add(o->w.l, 3);
		pcpu_this_inc(o->w.q);
		pcpu_this_add(o->w.q, (uint64_t)n);
		CHECK_EQ(pcpu_get_stats(&st), 0);
		if (st.nr_chunks >= start + grow)
			break;
	}
	CHECK(st.nr_chunks >= start + grow);
	return n;
}

static int run(const char *want)
{
	static struct big *objs[MAX_OBJS];
	long n = tu_scaled(200000);
	unsigned int cpu;
	int nobj;

	/* (1) before anything else: this is the process's first call into the library */
	first_use(n);
	CHECK(tu_source_is(want));
	CHECK_EQ(tu_sum_u64(&first_counter), n);
	CHECK(!tcb_points_at_descriptor()); /* (3) */
	{
		uint64_t b = 0, w = 0, l = 0, q = 0;

		pcpu_for_each_possible_cpu(cpu) {
			const struct widths *c = pcpu_ptr(&first_w, cpu);

			b += c->b, w += c->w, l += c->l, q += c->q;
		}
		/* each copy wraps on its own: the sum is exact modulo the width */
		CHECK_EQ(b & 0xff, (uint64_t)n & 0xff);
		CHECK_EQ(w & 0xffff, (2 * (uint64_t)n) & 0xffff);
		CHECK_EQ(l, 3 * (uint64_t)n);
		CHECK_EQ(q, 4 * (uint64_t)n);
	}

	/* (2) */
	nobj = grow_and_update(objs, 3);
	CHECK(!tcb_points_at_descriptor()); /* (3), in every mode, the fallback's too */
	for (int i = 0; i < nobj; i++) {
		uint64_t b = 0, w = 0, l = 0, q = 0, rest = 0;

		pcpu_for_each_possible_cpu(cpu) {
			const struct big *c = pcpu_ptr(objs[i], cpu);

			b += c->w.b, w += c->w.w, l += c->w.l, q += c->w.q;
			for (size_t k = 0; k < sizeof(c->rest); k += 512)
				rest |= (uint64_t)(unsigned char)c->rest[k];
		}
		CHECK_EQ(b, 1);
		CHECK_EQ(w, 2);
		CHECK_EQ(l, 3);
		CHECK_EQ(q, (uint64_t)i + 2);
		CHECK_EQ(rest, 0);
		if (tu_failures)
			break;
	}
	fprintf(stderr, "  %s: %ld operations from the first call on; %d objects over 3 new chunks\n",
		want, 5 * n, nobj);
	for (int i = 0; i < nobj; i++)
		pcpu_free(objs[i]);
	return tu_failures != 0;
}

int main(int argc, char **argv)
{
	return tu_run_modes(argc, argv, run);
}
