/* SPDX-License-Identifier: MIT */
/* remote.c - pcpu_run_on_cpu: act on another CPU's copies by running there. */
#include <errno.h>
#include <sched.h>

#include "internal.h"

int pcpu_run_on_cpu(unsigned int cpu, void (*fn)(void *arg), void *arg)
{
	cpu_set_t saved, only;
	int ret = 0;

	if (!fn || !pcpu_cpu_possible(cpu) || cpu >= CPU_SETSIZE) {
		errno = EINVAL;
		return -1;
	}
	/* cid mode: @cpu names a concurrency ID, which the kernel hands out and no thread
	 * can choose; running on a CPU gives no particular ID */
	if (pcpu_index_mode() == PCPU_INDEX_CID) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (sched_getaffinity(0, sizeof(saved), &saved) != 0)
		return -1;
	CPU_ZERO(&only);
	CPU_SET(cpu, &only);
	if (sched_setaffinity(0, sizeof(only), &only) != 0)
		return -1;
	/* sched_setaffinity migrates the thread before it returns; a short wait covers a
	 * CPU number that the rseq area has not refreshed yet */
	for (int tries = 0; pcpu_current_cpu() != cpu; tries++) {
		if (tries == 1000) {
			errno = EAGAIN;
			ret = -1;
			goto out;
		}
		sched_yield();
	}
	fn(arg);
out:
	if (sched_setaffinity(0, sizeof(saved), &saved) != 0 && ret == 0)
		ret = -1;
	return ret;
}
