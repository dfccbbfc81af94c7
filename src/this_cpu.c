/* SPDX-License-Identifier: MIT */
/* this_cpu.c - the cold path of the this_cpu operations (include/percpu/this_cpu.h).
 * What the inline attempts cannot do comes here: an object they cannot resolve
 * (another object's static variable, a section not placed yet: __pcpu_canon resolves
 * it or reports it), a thread without an index (registered here when the library
 * registers threads), the library not initialized yet, or no rseq at all (the atomic
 * fallback).  Every attempt here reads __pcpu_fast afresh (the primitives' @f 1). */
#include <string.h>

#include "internal.h"

/* Expands W(N, T) for every width of the this_cpu operations. */
#define FOR_EACH_WIDTH(W) W(1, uint8_t) W(2, uint16_t) W(4, uint32_t) W(8, uint64_t)

/* One rseq attempt of @op on canonical @c until it does not abort: a __PCPU_RSEQ_*
 * result, NOCPU also where no rseq sections exist.  READ leaves the value in *@val. */
static int rseq_attempt(char *c, unsigned int op, uint64_t v, void *old, uint64_t *val)
{
#ifdef __PCPU_HAVE_RSEQ_OPS
	/* @c is per-CPU (the callers resolved it): the bound alone decides */
	uintptr_t eb = __pcpu_fld_bound(1);

	switch (op) {
#define W(N, T)                                                                         \
	case __PCPU_OP_READ + N: {                                                      \
		T x = 0;                                                                \
		int r = __PCPU_RSEQ_RUN(__pcpu_rseq_load_##N(c, &x, eb, 1));                   \
		*val = x;                                                               \
		return r;                                                               \
	}                                                                               \
	case __PCPU_OP_WRITE + N: return __PCPU_RSEQ_RUN(__pcpu_rseq_store_##N(c, (T)v, eb, 1)); \
	case __PCPU_OP_ADD + N: return __PCPU_RSEQ_RUN(__pcpu_rseq_add_##N(c, (T)v, eb, 1));     \
	case __PCPU_OP_CMPXCHG + N: return __PCPU_RSEQ_RUN(__pcpu_rseq_cmpstore_##N(c, (T *)old, (T)v, eb, 1));
	FOR_EACH_WIDTH(W)
#undef W
	case __PCPU_OP_CMPXCHG + 16: {
		const uint64_t *n = (const uint64_t *)(uintptr_t)v;
		return __PCPU_RSEQ_RUN(__pcpu_rseq_cmpstore_double(c, (uint64_t *)old, n[0], n[1], eb, 1));
	}
	}
#else
	(void)c, (void)op, (void)v, (void)old, (void)val;
#endif
	return 2; /* __PCPU_RSEQ_NOCPU where it exists */
}

/* @op by an atomic operation on the copy of the CPU the thread runs on. */
static uint64_t atomic_op(char *c, unsigned int op, uint64_t v, void *old)
{
	switch (op) {
#define W(N, T)                                                                         \
	case __PCPU_OP_READ + N: return __atomic_load_n(__pcpu_here(T, c), __ATOMIC_RELAXED); \
	case __PCPU_OP_WRITE + N: __atomic_store_n(__pcpu_here(T, c), (T)v, __ATOMIC_RELAXED); return 0; \
	case __PCPU_OP_ADD + N: (void)__atomic_fetch_add(__pcpu_here(T, c), (T)v, __ATOMIC_RELAXED); return 0; \
	case __PCPU_OP_CMPXCHG + N:                                                     \
		return __atomic_compare_exchange_n(__pcpu_here(T, c), (T *)old, (T)v, 0,  \
						   __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	FOR_EACH_WIDTH(W)
#undef W
	case __PCPU_OP_CMPXCHG + 16: {
		uint64_t *o = old;
		const uint64_t *n = (const uint64_t *)(uintptr_t)v;
		uint64_t *here = __pcpu_here(uint64_t, c);

		if (__pcpu_cmpxchg_double_atomic(here, o[0], o[1], n[0], n[1]))
			return 1;
		/* the pair found, as the rseq section reports it (read after the failed
		 * compare: another update may come between, as with any retry) */
		o[0] = __atomic_load_n(&here[0], __ATOMIC_RELAXED);
		o[1] = __atomic_load_n(&here[1], __ATOMIC_RELAXED);
		return 0;
	}
	}
	_pcpu_fatal("this_cpu operation", "unknown operation code %#x", op);
}

uint64_t __pcpu_this_slow(const void *p, unsigned int op, uint64_t v, void *old)
{
	char *c = __pcpu_canon(p);
	uint64_t val = 0;

	for (;;) {
		int r = rseq_attempt(c, op, v, old, &val);

		if (r == 0) /* done */
			return (op & 0xf0) == __PCPU_OP_CMPXCHG ? 1 : val;
		if (r == 3) /* compare failed */
			return 0;
		/* no index: register the thread if the library does, else the fallback */
		if (!__pcpu_rseq_thread_ok())
			return atomic_op(c, op, v, old);
	}
}
