/* SPDX-License-Identifier: MIT */
/* percpu/cmpxchg128.h - compare-and-exchange of a 16-byte per-CPU object on the current
 * CPU's copy (the kernel's this_cpu_cmpxchg128 and this_cpu_try_cmpxchg128), built on
 * pcpu_this_cmpxchg_double() over its two 8-byte halves.  Needs a compiler with
 * unsigned __int128 (64-bit targets).  Included by <percpu/kernel.h>; see
 * pcpu_this_cmpxchg128(3).
 *
 * pcpu_this_cmpxchg_double() says only whether it stored, not what it found.  On
 * failure the value found is read and confirmed by a second double-word
 * compare-and-exchange that stores it back unchanged: a success there means the copy
 * held exactly that value at that moment (two plain loads could tear, or come from two
 * CPUs if the thread migrates between them). */
#ifndef PERCPU_CMPXCHG128_H
#define PERCPU_CMPXCHG128_H

#include <percpu.h>

#ifdef __SIZEOF_INT128__

#ifdef __cplusplus
extern "C" {
#endif

__extension__ typedef unsigned __int128 __pcpu_u128;

/* If the current CPU's copy of the 16-byte, 16-byte-aligned per-CPU object at @pcp
 * equals *@ovalp, stores @nval there and returns true; else stores the value found in
 * *@ovalp and returns false.  Atomic with respect to every this_cpu operation on that
 * copy.  Safe where the this_cpu operations are (signal handlers included). */
__PCPU_INLINE bool pcpu_this_try_cmpxchg128(void *pcp, __pcpu_u128 *ovalp, __pcpu_u128 nval)
{
	uint64_t *__pcpu_w = (uint64_t *)pcp;
	__pcpu_u128 __pcpu_o = *ovalp, __pcpu_cur;

	for (;;) {
		if (pcpu_this_cmpxchg_double(__pcpu_w[0], __pcpu_w[1], (uint64_t)__pcpu_o,
					     (uint64_t)(__pcpu_o >> 64), (uint64_t)nval,
					     (uint64_t)(nval >> 64)))
			return true;
		__pcpu_cur = ((__pcpu_u128)pcpu_this_read(__pcpu_w[1]) << 64) |
			     pcpu_this_read(__pcpu_w[0]);
		if (__pcpu_cur == __pcpu_o)
			continue; /* it changed back meanwhile: try again */
		if (pcpu_this_cmpxchg_double(__pcpu_w[0], __pcpu_w[1], (uint64_t)__pcpu_cur,
					     (uint64_t)(__pcpu_cur >> 64), (uint64_t)__pcpu_cur,
					     (uint64_t)(__pcpu_cur >> 64))) {
			*ovalp = __pcpu_cur;
			return false;
		}
	}
}

/* As pcpu_this_try_cmpxchg128(), returning the value found (@oval if it stored). */
__PCPU_INLINE __pcpu_u128 pcpu_this_cmpxchg128(void *pcp, __pcpu_u128 oval, __pcpu_u128 nval)
{
	(void)pcpu_this_try_cmpxchg128(pcp, &oval, nval);
	return oval;
}

#ifdef __cplusplus
}
#endif

#endif /* __SIZEOF_INT128__ */
#endif /* PERCPU_CMPXCHG128_H */
