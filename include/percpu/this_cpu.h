/* SPDX-License-Identifier: MIT */
/* percpu/this_cpu.h - the this_cpu operations: read, write, add, sub, inc, dec, and, or,
 * *_return, xchg, cmpxchg, try_cmpxchg and cmpxchg_double on the copy of the CPU the
 * calling thread runs on.  Included by <percpu.h>; do not include it directly.
 *
 * Semantics, as in the kernel: each operation happens entirely on the copy of one CPU,
 * the one the thread runs on when the operation takes effect, never half on one CPU and
 * half on another.  @pcp is an lvalue naming a per-CPU object: a static per-CPU
 * variable (pcpu_this_inc(hits)) or a member of a dynamic one (pcpu_this_add(p->bytes,
 * n), pcpu_this_inc(*counter)).  Integers of 1, 2, 4 and 8 bytes, and pointers.
 *
 * How: with rseq (the usual case: glibc's registration, or the library's own), each
 * operation is a restartable sequence ending in one plain committing instruction: no
 * lock, no atomic instruction, about the cost of a thread-local increment.  Where rseq is
 * unavailable it is an atomic operation on the current CPU's copy: still correct,
 * slower.  pcpu_cpu_source() says which.  A program compiled with -DPCPU_NO_RSEQ_OPS
 * always uses the atomic operations (no rseq sections in its code, no __rseq_cs
 * sections in its object), with the same semantics.  As in the kernel, an operation
 * orders nothing but itself: it is no barrier to the compiler or the processor for
 * other memory (use atomics or locks to publish other data).
 *
 * Thread-safety: safe from any thread and from signal handlers (a handler's operation
 * restarts the interrupted one).  Another thread may read any CPU's copy through
 * pcpu_ptr() (aligned word-sized reads are never torn); it must not write a copy that
 * this_cpu operations update: pcpu_run_on_cpu() is the way to fold or reset one.
 *
 * Shared objects: a section's descriptor lives in the object that runs it, and the
 * thread's rseq area points at it until the kernel next clears the pointer.  Code that
 * may be unloaded (dlclose) therefore clears it after every operation, one store more;
 * by default that is position-independent code that is not an executable (-fPIC
 * without -fPIE).  Define PCPU_RSEQ_UNLOADABLE to 1 or 0 before including <percpu.h> to
 * decide otherwise (see percpu/arch/x86_64.h and pcpu_this_cpu(3)).
 *
 * The kernel's __this_cpu_* and raw_cpu_* variants (for callers that hold the CPU) are
 * the same operations here: a userspace thread can always migrate, and these are as
 * cheap as unprotected ones. */
#ifndef PERCPU_THIS_CPU_H
#define PERCPU_THIS_CPU_H

#include <percpu.h>
#ifdef __cplusplus
#include <type_traits> /* std::remove_cv, for the value an operation returns */
#endif

#if defined(__x86_64__) && !defined(PCPU_NO_RSEQ_OPS)
#include <percpu/arch/x86_64.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The canonical per-CPU address of @p (the copy of the unit at offset 0). */
__PCPU_INLINE char *__pcpu_canon(const void *__pcpu_p)
{
	char *__pcpu_c = __pcpu_canon_fast(__pcpu_p);

	if (__builtin_expect(__pcpu_c != (char *)0, 1))
		return __pcpu_c;
	return (char *)__pcpu_canon_slow(__pcpu_p);
}

/* The current CPU's copy of canonical @c, for the atomic fallback. */
#define __pcpu_here(T, c) ((T *)__pcpu_ptr((c), pcpu_current_cpu()))

/* The operations' cold path, out of line in the library (src/this_cpu.c): operation
 * @op (one of these plus the width in bytes) on the object at @p, which it resolves
 * itself, by rseq after whatever initialization or registration the thread needs, else
 * by the atomic fallback.  READ returns the value; CMPXCHG compares with *@old and
 * stores @v (returns 1) or stores the value found in *@old (returns 0); CMPXCHG + 16
 * does so with the pairs of words at @old and at (uint64_t *)@v. */
#define __PCPU_OP_READ 0x10
#define __PCPU_OP_WRITE 0x20
#define __PCPU_OP_ADD 0x30
#define __PCPU_OP_CMPXCHG 0x40
PCPU_API uint64_t __pcpu_this_slow(const void *p, unsigned int op, uint64_t v, void *old);

#ifdef __PCPU_HAVE_RSEQ_OPS
/* One attempt of the rseq primitive expression @op: the primitives retry an aborted
 * section themselves (percpu/arch/x86_64.h), so an attempt is one evaluation, and its
 * result DONE, NOCPU or CMPFAIL.  (A loop on ABORT here made clang duplicate every
 * out-of-line attempt.) */
#define __PCPU_RSEQ_RUN(op) (op)

/* Inline, an operation makes an attempt with the stable fields, which the compiler
 * hoists and keeps in registers; if that cannot commit (fields read before the library
 * was initialized or before the arena grew, no index, an object not resolvable
 * inline), a second attempt with fresh fields, out of line; if neither can,
 * __pcpu_this_slow().  An aborted section is retried within its attempt.  The first
 * attempt does not branch on whether the object is per-CPU: the primitive's index
 * bound, __pcpu_eb, is 0 when it is not known to be, so that one test in the section
 * says both (percpu/arch/x86_64.h).  @op, run with __pcpu_f 0 then 1, sets __pcpu_r. */
#define __PCPU_RSEQ_TRY(op)                                                             \
	char *__pcpu_c;                                                                 \
	int __pcpu_f = 0;                                                               \
	uintptr_t __pcpu_eb = __pcpu_rseq_bound_at(__pcpu_p, &__pcpu_c);                \
	int __pcpu_r = __PCPU_RSEQ_RUN(op);                                             \
	if (__builtin_expect(__pcpu_r == __PCPU_RSEQ_NOCPU, 0)) {                       \
		__pcpu_f = 1;                                                           \
		if (__pcpu_canon_at(__pcpu_p, &__pcpu_c, 1)) {                          \
			__pcpu_eb = __pcpu_fld_bound(1);                                \
			__pcpu_r = __PCPU_RSEQ_RUN(op);                                 \
		}                                                                       \
	}

/* The operations for one width, on the object at @p. */
#define __PCPU_OPS_WIDTH(N, T)                                                          \
__PCPU_INLINE T __pcpu_read_##N(const void *__pcpu_p)                                   \
{                                                                                       \
	T __pcpu_v;                                                                     \
	__PCPU_RSEQ_TRY(__pcpu_rseq_load_##N(__pcpu_c, &__pcpu_v, __pcpu_eb, __pcpu_f))                      \
	if (__builtin_expect(__pcpu_r == __PCPU_RSEQ_DONE, 1))                          \
		return __pcpu_v;                                                        \
	return (T)__pcpu_this_slow(__pcpu_p, __PCPU_OP_READ + N, 0, (void *)0);         \
}                                                                                       \
__PCPU_INLINE void __pcpu_write_##N(const void *__pcpu_p, T __pcpu_v)                  \
{                                                                                       \
	__PCPU_RSEQ_TRY(__pcpu_rseq_store_##N(__pcpu_c, __pcpu_v, __pcpu_eb, __pcpu_f))                      \
	if (__builtin_expect(__pcpu_r != __PCPU_RSEQ_DONE, 0))                          \
		(void)__pcpu_this_slow(__pcpu_p, __PCPU_OP_WRITE + N, __pcpu_v, (void *)0); \
}                                                                                       \
__PCPU_INLINE void __pcpu_add_##N(const void *__pcpu_p, T __pcpu_v)                    \
{                                                                                       \
	__PCPU_RSEQ_TRY(__pcpu_rseq_add_##N(__pcpu_c, __pcpu_v, __pcpu_eb, __pcpu_f))                        \
	if (__builtin_expect(__pcpu_r != __PCPU_RSEQ_DONE, 0))                          \
		(void)__pcpu_this_slow(__pcpu_p, __PCPU_OP_ADD + N, __pcpu_v, (void *)0); \
}                                                                                       \
/* Compare-and-store on this CPU's copy; *o receives the value found on failure. */    \
__PCPU_INLINE bool __pcpu_try_cmpxchg_##N(const void *__pcpu_p, T *__pcpu_o, T __pcpu_n) \
{                                                                                       \
	__PCPU_RSEQ_TRY(__pcpu_rseq_cmpstore_##N(__pcpu_c, __pcpu_o, __pcpu_n, __pcpu_eb, __pcpu_f))         \
	if (__builtin_expect(__pcpu_r != __PCPU_RSEQ_NOCPU, 1))                         \
		return __pcpu_r == __PCPU_RSEQ_DONE;                                    \
	return __pcpu_this_slow(__pcpu_p, __PCPU_OP_CMPXCHG + N, __pcpu_n, __pcpu_o) != 0; \
}                                                                                       \
__PCPU_OPS_RMW(N, T)
#else
/* Without rseq sections: atomic operations on the copy of the CPU the thread runs on. */
#define __PCPU_OPS_WIDTH(N, T)                                                          \
__PCPU_INLINE T __pcpu_read_##N(const void *__pcpu_p)                                   \
{                                                                                       \
	return __atomic_load_n(__pcpu_here(T, __pcpu_canon(__pcpu_p)), __ATOMIC_RELAXED); \
}                                                                                       \
__PCPU_INLINE void __pcpu_write_##N(const void *__pcpu_p, T __pcpu_v)                  \
{                                                                                       \
	__atomic_store_n(__pcpu_here(T, __pcpu_canon(__pcpu_p)), __pcpu_v, __ATOMIC_RELAXED); \
}                                                                                       \
__PCPU_INLINE void __pcpu_add_##N(const void *__pcpu_p, T __pcpu_v)                    \
{                                                                                       \
	__atomic_fetch_add(__pcpu_here(T, __pcpu_canon(__pcpu_p)), __pcpu_v, __ATOMIC_RELAXED); \
}                                                                                       \
/* Compare-and-store on this CPU's copy; *o receives the value found on failure. */    \
__PCPU_INLINE bool __pcpu_try_cmpxchg_##N(const void *__pcpu_p, T *__pcpu_o, T __pcpu_n) \
{                                                                                       \
	return __atomic_compare_exchange_n(__pcpu_here(T, __pcpu_canon(__pcpu_p)), __pcpu_o, \
					   __pcpu_n, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED); \
}                                                                                       \
__PCPU_OPS_RMW(N, T)
#endif

/* Read-modify-write by compare-and-store: @op is 0 add, 1 and, 2 or, 3 xchg. Returns
 * the old value.  Each attempt is on the CPU the thread runs on then; a failed one
 * (another CPU's value, or a signal handler's update) is retried with what it found. */
#define __PCPU_OPS_RMW(N, T)                                                            \
__PCPU_INLINE T __pcpu_rmw_##N(const void *__pcpu_p, int __pcpu_op, T __pcpu_v)        \
{                                                                                       \
	T __pcpu_old = __pcpu_read_##N(__pcpu_p), __pcpu_new;                           \
	do {                                                                            \
		switch (__pcpu_op) {                                                    \
		case 0: __pcpu_new = (T)(__pcpu_old + __pcpu_v); break;                 \
		case 1: __pcpu_new = (T)(__pcpu_old & __pcpu_v); break;                 \
		case 2: __pcpu_new = (T)(__pcpu_old | __pcpu_v); break;                 \
		default: __pcpu_new = __pcpu_v; break;                                  \
		}                                                                       \
	} while (!__pcpu_try_cmpxchg_##N(__pcpu_p, &__pcpu_old, __pcpu_new));            \
	return __pcpu_old;                                                              \
}

__PCPU_OPS_WIDTH(1, uint8_t)
__PCPU_OPS_WIDTH(2, uint16_t)
__PCPU_OPS_WIDTH(4, uint32_t)
__PCPU_OPS_WIDTH(8, uint64_t)

__PCPU_INLINE bool __pcpu_cmpxchg_double(const void *__pcpu_p, uint64_t __pcpu_o1, uint64_t __pcpu_o2,
					  uint64_t __pcpu_n1, uint64_t __pcpu_n2)
{
	char *__pcpu_c = __pcpu_canon(__pcpu_p);

	if (__builtin_expect((uintptr_t)__pcpu_c & 15, 0))
		__pcpu_bad_double(__pcpu_c);
#ifdef __PCPU_HAVE_RSEQ_OPS
	{
		uint64_t __pcpu_o[2] = { __pcpu_o1, __pcpu_o2 }, __pcpu_n[2] = { __pcpu_n1, __pcpu_n2 };
		int __pcpu_res = __PCPU_RSEQ_RUN(
			__pcpu_rseq_cmpstore_double(__pcpu_c, __pcpu_o, __pcpu_n1, __pcpu_n2,
						    __pcpu_fld_bound(1), 1));

		if (__builtin_expect(__pcpu_res != __PCPU_RSEQ_NOCPU, 1))
			return __pcpu_res == 0;
		__pcpu_o[0] = __pcpu_o1;
		__pcpu_o[1] = __pcpu_o2;
		return __pcpu_this_slow(__pcpu_p, __PCPU_OP_CMPXCHG + 16, (uintptr_t)__pcpu_n,
					__pcpu_o) != 0;
	}
#endif
	return __pcpu_cmpxchg_double_atomic((uint64_t *)__pcpu_ptr(__pcpu_c, pcpu_current_cpu()),
					    __pcpu_o1, __pcpu_o2, __pcpu_n1, __pcpu_n2);
}

/* ---- dispatch on the size of the object ---------------------------------------------- */

#define __pcpu_size_check(pcp)                                                          \
	__PCPU_STATIC_ASSERT(sizeof(pcp) == 1 || sizeof(pcp) == 2 || sizeof(pcp) == 4 || \
				     sizeof(pcp) == 8,                                  \
			     "this_cpu operations take 1, 2, 4 or 8-byte objects")

/* Converts between the object's type and the unsigned type of its size, for integers
 * and pointers alike. */
#define __pcpu_to_u(N, v) ((uint##N##_t)(uintptr_t)(v))
#define __pcpu_from_u(pcp, u) ((__PCPU_UNQUAL_TYPEOF(pcp))(uintptr_t)(u))

/* The address of per-CPU lvalue @pcp as the untyped pointer the helpers take, whatever
 * its qualifiers: a const object (read through a pointer to const) or a volatile one
 * must neither warn (-Wcast-qual, -Wdiscarded-qualifiers) nor fail in C++. */
#define __PCPU_ADDR(pcp) ((const void *)(uintptr_t)&(pcp))

/* The type of @x without const or volatile, for the value an operation returns: g++
 * rejects a cast to a const-qualified type under -Wextra (-Wignored-qualifiers). */
#ifdef __cplusplus
#define __PCPU_UNQUAL_TYPEOF(x) typename std::remove_cv<__typeof__(x)>::type
#else
#define __PCPU_UNQUAL_TYPEOF(x) __typeof__(x)
#endif

/* The macros below that declare variables do it under names ending in a number unique
 * to each expansion (__COUNTER__): an operation nested in another's argument, such as
 * pcpu_this_add(a, pcpu_this_read(b)), then declares nothing that shadows the outer
 * operation's names (which users' -Wshadow -Werror builds reject).  Each has its own _x
 * step, which expands __COUNTER__ before the _id macro pastes it (one shared step
 * would not expand again inside itself when the macros use each other). */
#define __pcpu_dispatch_void(fn, pcp, v) \
	__pcpu_dispatch_void_x(fn, pcp, v, __COUNTER__)
#define __pcpu_dispatch_void_x(fn, pcp, v, id) __pcpu_dispatch_void_id(fn, pcp, v, id)
#define __pcpu_dispatch_void_id(fn, pcp, v, id)                                         \
	do {                                                                            \
		__pcpu_size_check(pcp);                                                 \
		const void *__pcpu_dc##id = __PCPU_ADDR(pcp);                           \
		switch (sizeof(pcp)) {                                                  \
		case 1: fn##_1(__pcpu_dc##id, __pcpu_to_u(8, v)); break;                \
		case 2: fn##_2(__pcpu_dc##id, __pcpu_to_u(16, v)); break;               \
		case 4: fn##_4(__pcpu_dc##id, __pcpu_to_u(32, v)); break;               \
		default: fn##_8(__pcpu_dc##id, __pcpu_to_u(64, v)); break;              \
		}                                                                       \
	} while (0)

/* A read-modify-write returning the old value, in the object's type. */
#define __pcpu_dispatch_rmw(op, pcp, v) \
	__pcpu_dispatch_rmw_x(op, pcp, v, __COUNTER__)
#define __pcpu_dispatch_rmw_x(op, pcp, v, id) __pcpu_dispatch_rmw_id(op, pcp, v, id)
#define __pcpu_dispatch_rmw_id(op, pcp, v, id)                                          \
	__extension__ ({                                                                \
		__pcpu_size_check(pcp);                                                 \
		const void *__pcpu_dc##id = __PCPU_ADDR(pcp);                           \
		uint64_t __pcpu_du##id;                                                 \
		switch (sizeof(pcp)) {                                                  \
		case 1: __pcpu_du##id = __pcpu_rmw_1(__pcpu_dc##id, op, __pcpu_to_u(8, v)); break; \
		case 2: __pcpu_du##id = __pcpu_rmw_2(__pcpu_dc##id, op, __pcpu_to_u(16, v)); break; \
		case 4: __pcpu_du##id = __pcpu_rmw_4(__pcpu_dc##id, op, __pcpu_to_u(32, v)); break; \
		default: __pcpu_du##id = __pcpu_rmw_8(__pcpu_dc##id, op, __pcpu_to_u(64, v)); break; \
		}                                                                       \
		__pcpu_from_u(pcp, __pcpu_du##id);                                      \
	})

#define pcpu_this_read(pcp) __pcpu_this_read_x(pcp, __COUNTER__)
#define __pcpu_this_read_x(pcp, id) __pcpu_this_read_id(pcp, id)
#define __pcpu_this_read_id(pcp, id)                                                    \
	__extension__ ({                                                                \
		__pcpu_size_check(pcp);                                                 \
		const void *__pcpu_dc##id = __PCPU_ADDR(pcp);                           \
		uint64_t __pcpu_du##id;                                                 \
		switch (sizeof(pcp)) {                                                  \
		case 1: __pcpu_du##id = __pcpu_read_1(__pcpu_dc##id); break;            \
		case 2: __pcpu_du##id = __pcpu_read_2(__pcpu_dc##id); break;            \
		case 4: __pcpu_du##id = __pcpu_read_4(__pcpu_dc##id); break;            \
		default: __pcpu_du##id = __pcpu_read_8(__pcpu_dc##id); break;           \
		}                                                                       \
		__pcpu_from_u(pcp, __pcpu_du##id);                                      \
	})

#define pcpu_this_write(pcp, v) __pcpu_dispatch_void(__pcpu_write, pcp, v)
#define pcpu_this_add(pcp, v) __pcpu_dispatch_void(__pcpu_add, pcp, v)
/* Negation and the sum of add_return wrap in uint64_t, as the kernel's arithmetic does
 * (it builds with -fno-strict-overflow): signed overflow here would be undefined. */
#define __pcpu_neg(pcp, v) ((uint64_t)0 - __pcpu_to_u(64, (__PCPU_UNQUAL_TYPEOF(pcp))(v)))
#define pcpu_this_sub(pcp, v) pcpu_this_add(pcp, __pcpu_neg(pcp, v))
#define pcpu_this_inc(pcp) pcpu_this_add(pcp, 1)
#define pcpu_this_dec(pcp) pcpu_this_add(pcp, -1)
#define pcpu_this_and(pcp, v) ((void)__pcpu_dispatch_rmw(1, pcp, v))
#define pcpu_this_or(pcp, v) ((void)__pcpu_dispatch_rmw(2, pcp, v))
#define pcpu_this_add_return(pcp, v) __pcpu_this_add_return_x(pcp, v, __COUNTER__)
#define __pcpu_this_add_return_x(pcp, v, id) __pcpu_this_add_return_id(pcp, v, id)
#define __pcpu_this_add_return_id(pcp, v, id)                                           \
	__extension__ ({                                                                \
		__PCPU_UNQUAL_TYPEOF(pcp) __pcpu_arv##id = (__PCPU_UNQUAL_TYPEOF(pcp))(v); \
		__pcpu_from_u(pcp, __pcpu_to_u(64, __pcpu_dispatch_rmw(0, pcp, __pcpu_arv##id)) + \
				   __pcpu_to_u(64, __pcpu_arv##id));                    \
	})
#define pcpu_this_sub_return(pcp, v) pcpu_this_add_return(pcp, __pcpu_neg(pcp, v))
#define pcpu_this_inc_return(pcp) pcpu_this_add_return(pcp, 1)
#define pcpu_this_dec_return(pcp) pcpu_this_add_return(pcp, -1)
#define pcpu_this_xchg(pcp, v) __pcpu_dispatch_rmw(3, pcp, v)

/* Returns the old value; stores @n only if it equalled @o. */
#define pcpu_this_cmpxchg(pcp, o, n) __pcpu_this_cmpxchg_x(pcp, o, n, __COUNTER__)
#define __pcpu_this_cmpxchg_x(pcp, o, n, id) __pcpu_this_cmpxchg_id(pcp, o, n, id)
#define __pcpu_this_cmpxchg_id(pcp, o, n, id)                                           \
	__extension__ ({                                                                \
		__PCPU_UNQUAL_TYPEOF(pcp) __pcpu_cxo##id = (o);                         \
		(void)pcpu_this_try_cmpxchg(pcp, &__pcpu_cxo##id, (n));                 \
		__pcpu_cxo##id;                                                         \
	})

/* Stores @n if the copy equals *@ovalp and returns true; else stores the value found in
 * *@ovalp and returns false. */
#define pcpu_this_try_cmpxchg(pcp, ovalp, n) \
	__pcpu_this_try_cmpxchg_x(pcp, ovalp, n, __COUNTER__)
#define __pcpu_this_try_cmpxchg_x(pcp, ovalp, n, id) __pcpu_this_try_cmpxchg_id(pcp, ovalp, n, id)
#define __pcpu_this_try_cmpxchg_id(pcp, ovalp, n, id)                                   \
	__extension__ ({                                                                \
		__pcpu_size_check(pcp);                                                 \
		const void *__pcpu_dc##id = __PCPU_ADDR(pcp);                           \
		__typeof__(pcp) *__pcpu_op##id = (ovalp);                               \
		bool __pcpu_ok##id;                                                     \
		switch (sizeof(pcp)) {                                                  \
		case 1: { uint8_t __pcpu_u##id = __pcpu_to_u(8, *__pcpu_op##id);        \
			__pcpu_ok##id = __pcpu_try_cmpxchg_1(__pcpu_dc##id, &__pcpu_u##id, \
							     __pcpu_to_u(8, n));        \
			*__pcpu_op##id = __pcpu_from_u(pcp, __pcpu_u##id); break; }     \
		case 2: { uint16_t __pcpu_u##id = __pcpu_to_u(16, *__pcpu_op##id);      \
			__pcpu_ok##id = __pcpu_try_cmpxchg_2(__pcpu_dc##id, &__pcpu_u##id, \
							     __pcpu_to_u(16, n));       \
			*__pcpu_op##id = __pcpu_from_u(pcp, __pcpu_u##id); break; }     \
		case 4: { uint32_t __pcpu_u##id = __pcpu_to_u(32, *__pcpu_op##id);      \
			__pcpu_ok##id = __pcpu_try_cmpxchg_4(__pcpu_dc##id, &__pcpu_u##id, \
							     __pcpu_to_u(32, n));       \
			*__pcpu_op##id = __pcpu_from_u(pcp, __pcpu_u##id); break; }     \
		default: { uint64_t __pcpu_u##id = __pcpu_to_u(64, *__pcpu_op##id);     \
			__pcpu_ok##id = __pcpu_try_cmpxchg_8(__pcpu_dc##id, &__pcpu_u##id, \
							     __pcpu_to_u(64, n));       \
			*__pcpu_op##id = __pcpu_from_u(pcp, __pcpu_u##id); break; }     \
		}                                                                       \
		__pcpu_ok##id;                                                          \
	})

/* Two adjacent 8-byte words @pcp1, @pcp2 (pcp2 right after pcp1, together 16-byte
 * aligned): if they equal @o1, @o2, store @n1, @n2 and return true. */
#define pcpu_this_cmpxchg_double(pcp1, pcp2, o1, o2, n1, n2)                            \
	__extension__ ({                                                                \
		__PCPU_STATIC_ASSERT(sizeof(pcp1) == 8 && sizeof(pcp2) == 8,            \
				     "cmpxchg_double takes two 8-byte words");          \
		if ((uintptr_t)&(pcp2) != (uintptr_t)&(pcp1) + 8)                       \
			__pcpu_bad_double(__PCPU_ADDR(pcp2));                           \
		__pcpu_cmpxchg_double(__PCPU_ADDR(pcp1), __pcpu_to_u(64, o1),                  \
				      __pcpu_to_u(64, o2), __pcpu_to_u(64, n1),         \
				      __pcpu_to_u(64, n2));                             \
	})

#ifdef __cplusplus
}
#endif

#endif /* PERCPU_THIS_CPU_H */
