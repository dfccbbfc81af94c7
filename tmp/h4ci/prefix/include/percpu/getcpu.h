/* SPDX-License-Identifier: MIT */
/* percpu/getcpu.h - exclusion on a CPU's copies: the kernel's get_cpu()/put_cpu() family.
 * Included by <percpu.h>; see pcpu_get_cpu(3).
 *
 * In the kernel, get_cpu() disables preemption, so nothing else runs on the CPU until
 * put_cpu() and the CPU's copies of per-CPU data are the caller's alone.  A process
 * cannot stop the scheduler, so here pcpu_get_cpu() takes a lock that belongs to the
 * current CPU's number.  Between pcpu_get_cpu() and pcpu_put_cpu() no other thread of
 * the process holds that CPU through these calls, even if the holder is preempted or
 * moves to another CPU meanwhile: the copies stay the held CPU's, not the CPU the thread
 * runs on.
 *
 * What this excludes: only other pcpu_get_cpu() holders.  The this_cpu operations,
 * pcpu_this_ptr() and pcpu_ptr() of other threads do not take the lock.  A this_cpu
 * operation is an rseq critical section on whatever CPU its thread runs on; when that is
 * the held CPU (the holder was preempted there, or has moved on), it writes the held
 * CPU's copy, possibly between the holder's load and store, and one update is lost.
 * Data written between get and put must be written only by a thread holding that CPU
 * (reading it from elsewhere, as the kernel's summing loops do, is fine).
 */
#ifndef PERCPU_GETCPU_H
#define PERCPU_GETCPU_H

#include <percpu.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Takes the calling thread's current CPU (pcpu_current_cpu()) for exclusive use and
 * returns its number.  Until the matching pcpu_put_cpu(), no other thread of the process
 * gets that CPU from pcpu_get_cpu(): another thread asking for it sleeps (futex) until
 * it is released.  The hold belongs to the CPU number, not to where the thread runs: a
 * holder that migrates keeps the CPU it got, and should go on using that CPU's copies.
 *
 * Nesting: calls nest in one thread, as preempt_disable() does.  A nested call returns
 * the CPU already held, whatever CPU the thread runs on now, and only the outermost
 * pcpu_put_cpu() releases it.  At most 2^31 - 1 nested holds.
 *
 * Errors: none returned.  The first call initializes the library if needed and
 * allocates the locks (one cache line per possible CPU); if either fails, or the nesting
 * overflows, the process aborts after one line on stderr ("libpercpu: pcpu_get_cpu:
 * ...").  Thread-safe.  May block (futex), after a short spin.  Not async-signal-safe,
 * except for nesting: in a thread that has called pcpu_get_cpu() before, outside a
 * handler, a signal handler may call pcpu_get_cpu()/pcpu_put_cpu() (balanced), wherever
 * it interrupts the thread, these functions included; interrupting a holder, it gets the
 * held CPU without waiting.  Nesting does not protect the copy against the interrupted
 * code of the same thread: a handler must not update what that code may be updating.
 *
 * Context: the lock is a sleeping lock, not disabled preemption.  Anything may be done
 * while holding a CPU (system calls, blocking), but other threads that want the same
 * CPU wait meanwhile, so keep the section short.  A thread must not exit holding a CPU:
 * if it does, the CPU is released at thread exit with a note on stderr.  fork() in a
 * holding thread leaves the child's thread holding the same CPU (the child's other locks
 * are free); the child puts it as usual. */
PCPU_API unsigned int pcpu_get_cpu(void);

/* Releases one level of the calling thread's hold taken with pcpu_get_cpu(); the
 * outermost call frees the CPU and wakes one thread waiting for it.  Must be called by
 * the thread that called pcpu_get_cpu().  Without a matching pcpu_get_cpu() in this
 * thread, the process aborts after one line on stderr ("libpercpu: pcpu_put_cpu: ...").
 * Thread-safe; never blocks; the same signal-handler rule as pcpu_get_cpu(). */
PCPU_API void pcpu_put_cpu(void);

/* The held CPU's copy of the static per-CPU variable @var, as an lvalue (the kernel's
 * get_cpu_var()); release with pcpu_put_cpu_var(var). */
#define pcpu_get_cpu_var(var) (*pcpu_ptr(&(var), pcpu_get_cpu()))
#define pcpu_put_cpu_var(var) ((void)&(var), pcpu_put_cpu())

/* The held CPU's copy of the per-CPU object @p (from pcpu_alloc() or &var); release with
 * pcpu_put_cpu_ptr(p). */
#define pcpu_get_cpu_ptr(p) pcpu_ptr((p), pcpu_get_cpu())
#define pcpu_put_cpu_ptr(p) ((void)(p), pcpu_put_cpu())

#ifdef __cplusplus
}
#endif

#endif /* PERCPU_GETCPU_H */
