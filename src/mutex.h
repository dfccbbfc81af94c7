/* SPDX-License-Identifier: MIT */
/* mutex.h - a mutex that knows which thread holds it, so that a function that needs the
 * lock can check that its caller took it (the kernel's lockdep_assert_held).  The
 * library's core locks are these; the checks run under LIBPERCPU_DEBUG, where a
 * forgotten lock is reported where it was forgotten instead of as corrupted state later. */
#ifndef PCPU_SRC_MUTEX_H
#define PCPU_SRC_MUTEX_H

#include <pthread.h>
#include <stdbool.h>

#include "internal.h"

#if defined(__has_include)
#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#define PCPU_HAVE_SINGLE_THREADED 1
#define PCPU_SINGLE_THREADED() (__libc_single_threaded != 0)
#endif
#endif
#ifndef PCPU_SINGLE_THREADED
#define PCPU_SINGLE_THREADED() false
#endif

struct pcpu_mutex {
	pthread_mutex_t m;
	const void *owner; /* the holder's _pcpu_thread_token, NULL if free (atomic) */
	bool taken;        /* the holder took m (the holder's alone to read and write) */
};

#define PCPU_MUTEX_INITIALIZER { PTHREAD_MUTEX_INITIALIZER, NULL, false }

/* Its address tells threads apart: distinct per live thread, kept by a fork's child. */
extern __thread char _pcpu_thread_token PCPU_HIDDEN
	__attribute__((tls_model("initial-exec")));

/* diag.c: @l taken again by the thread that holds it (reported, aborts) */
_Noreturn void _pcpu_mutex_reentered(const struct pcpu_mutex *l) PCPU_HIDDEN;

/* _pcpu_mutex_lock_tracked(l, false) takes the mutex without noting the holder: for
 * pcpu_lock on the allocator's hot paths, where _pcpu_mutex_held() is asked only under
 * LIBPERCPU_DEBUG (alloc_internal.h), and each store counts (a free of a 64-byte area
 * that missed in the cache waits for its stores to drain behind the area's link).
 *
 * While the process has one thread (glibc's __libc_single_threaded, which libstdc++'s
 * reference counts and glibc's own stdio trust the same way), nothing can contend, and
 * no second thread can start before this one, inside the library, lets go: the mutex is
 * not taken at all.  That is what a churn of pcpu_alloc() and pcpu_free() in a
 * single-threaded process pays for two calls into libc per operation, about 2 ns of
 * 10 here (glibc's mutex itself already skips its atomics then).  Once a thread is
 * created the flag stays false for good.  Unlocking looks at what locking did (taken),
 * not at the flag again: a fork()'s child, single-threaded, must release what its
 * parent's atfork handler took. */
static inline void _pcpu_mutex_lock_tracked(struct pcpu_mutex *l, bool track)
{
	/* The noted holder itself again: a signal handler that entered the allocator while
	 * its thread was inside.  Reported: with one thread the lock below is skipped and
	 * the handler would change the state under its own thread's feet; with more, the
	 * thread would wait for itself forever.  (pcpu_lock, not noted outside
	 * LIBPERCPU_DEBUG, has its own check with one thread: anchor.h.) */
	if (__builtin_expect(__atomic_load_n(&l->owner, __ATOMIC_RELAXED) == &_pcpu_thread_token, 0))
		_pcpu_mutex_reentered(l);
	if (!PCPU_SINGLE_THREADED()) {
		pthread_mutex_lock(&l->m);
		l->taken = true;
	}
	if (track)
		__atomic_store_n(&l->owner, &_pcpu_thread_token, __ATOMIC_RELAXED);
}

static inline void _pcpu_mutex_lock(struct pcpu_mutex *l)
{
	_pcpu_mutex_lock_tracked(l, true);
}

/* A lock taken with @track false has no holder to forget: no store. */
static inline void _pcpu_mutex_unlock(struct pcpu_mutex *l)
{
	if (__atomic_load_n(&l->owner, __ATOMIC_RELAXED))
		__atomic_store_n(&l->owner, NULL, __ATOMIC_RELAXED);
	if (l->taken) {
		l->taken = false;
		pthread_mutex_unlock(&l->m);
	}
}

static inline bool _pcpu_mutex_held(const struct pcpu_mutex *l)
{
	return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) == &_pcpu_thread_token;
}

#endif
