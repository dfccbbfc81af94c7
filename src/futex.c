/* SPDX-License-Identifier: MIT */
/* futex.c - the futex system calls of the library's own lock words (cpu_lock.c's
 * get_cpu locks, counter.c's counter locks): sleep while a word holds a value, wake
 * sleepers.  Both keep errno: EAGAIN, EINTR and ETIMEDOUT are expected (the callers
 * look at the word again), and a signal handler's call must not change it. */
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

void _pcpu_futex_wait(uint32_t *word, uint32_t val, long timeout_ns)
{
	struct timespec ts = { timeout_ns / 1000000000L, timeout_ns % 1000000000L };
	int saved = errno;

	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, timeout_ns ? &ts : NULL, NULL, 0);
	errno = saved;
}

void _pcpu_futex_wake(uint32_t *word, int nr)
{
	int saved = errno;

	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, nr, NULL, NULL, 0);
	errno = saved;
}
