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

struct pcpu_mutex {
	pthread_mutex_t m;
	const void *owner; /* the holder's _pcpu_thread_token, NULL if free (atomic) */
};

#define PCPU_MUTEX_INITIALIZER { PTHREAD_MUTEX_INITIALIZER, NULL }

/* Its address tells threads apart: distinct per live thread, kept by a fork's child. */
extern __thread char _pcpu_thread_token PCPU_HIDDEN
	__attribute__((tls_model("initial-exec")));

static inline void _pcpu_mutex_lock(struct pcpu_mutex *l)
{
	pthread_mutex_lock(&l->m);
	__atomic_store_n(&l->owner, &_pcpu_thread_token, __ATOMIC_RELAXED);
}

static inline void _pcpu_mutex_unlock(struct pcpu_mutex *l)
{
	__atomic_store_n(&l->owner, NULL, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&l->m);
}

static inline bool _pcpu_mutex_held(const struct pcpu_mutex *l)
{
	return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) == &_pcpu_thread_token;
}

#endif
