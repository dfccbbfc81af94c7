/* SPDX-License-Identifier: MIT */
/* ops.c - the out-of-line parts of the this_cpu operations: the atomic fallback of
 * cmpxchg_double (16 bytes at once needs cmpxchg16b, or a lock elsewhere). */
#include "internal.h"

void __pcpu_bad_double(const void *p)
{
	_pcpu_fatal("this_cpu_cmpxchg_double", "%p: the pair must be two adjacent 8-byte words "
		   "aligned to 16 bytes", p);
}

_Bool __pcpu_cmpxchg_double_atomic(uint64_t *p, uint64_t o1, uint64_t o2, uint64_t n1, uint64_t n2)
{
#if defined(__x86_64__)
	_Bool ok;

	__asm__ __volatile__("lock cmpxchg16b %[mem]"
			     : [mem] "+m"(*(unsigned __int128 *)p), "=@ccz"(ok), "+a"(o1), "+d"(o2)
			     : "b"(n1), "c"(n2)
			     : "memory");
	return ok;
#else
	/* striped locks: correct against every other fallback operation on the pair */
	static pthread_mutex_t locks[64] = { [0 ... 63] = PTHREAD_MUTEX_INITIALIZER };
	pthread_mutex_t *l = &locks[((uintptr_t)p >> 4) % 64];
	_Bool ok;

	pthread_mutex_lock(l);
	ok = p[0] == o1 && p[1] == o2;
	if (ok) {
		p[0] = n1;
		p[1] = n2;
	}
	pthread_mutex_unlock(l);
	return ok;
#endif
}
