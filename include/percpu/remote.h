/* SPDX-License-Identifier: MIT */
/* percpu/remote.h - acting on another CPU's copies.  Reading any CPU's copy through
 * pcpu_ptr() is always fine (aligned word-sized reads are never torn).  Writing another
 * CPU's copy while threads on that CPU update it with this_cpu operations loses updates:
 * those are restartable sequences that exclude only the threads of their own CPU.  To
 * fold or reset another CPU's copies, go there: pcpu_run_on_cpu() moves the calling
 * thread to that CPU for the duration of a function, the userspace counterpart of the
 * kernel's smp_call_function_single(), and this_cpu operations inside the function act
 * on that CPU's copies, serialized with everyone else's.  Included by <percpu.h>. */
#ifndef PERCPU_REMOTE_H
#define PERCPU_REMOTE_H

#include <percpu.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Runs @fn(@arg) on CPU @cpu: sets the calling thread's affinity to that CPU alone,
 * waits until the thread runs there, calls @fn, then restores the affinity it had.
 * Inside @fn, pcpu_current_cpu() is @cpu and the this_cpu operations act on @cpu's
 * copies (plain loads and stores do not get that protection: use the operations).
 * Returns 0, or -1 with errno: EINVAL (@cpu not possible, or @fn NULL), EOPNOTSUPP (cid
 * index mode, pcpu_index_mode(): no thread can choose its concurrency ID), or the error
 * of sched_setaffinity (EINVAL: @cpu offline or outside the thread's cpuset; EPERM).
 * Thread-safe; not for signal handlers; may block (it changes CPUs). */
PCPU_API int pcpu_run_on_cpu(unsigned int cpu, void (*fn)(void *arg), void *arg);

#ifdef __cplusplus
}
#endif

#endif /* PERCPU_REMOTE_H */
