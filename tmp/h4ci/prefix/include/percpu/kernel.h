/* SPDX-License-Identifier: MIT */
/* percpu/kernel.h - the Linux kernel's names for libpercpu, opt-in, so that code written
 * for the kernel's per-CPU API compiles unchanged in a userspace program:
 *     #include <percpu/kernel.h>
 *     static DEFINE_PER_CPU(long, hits);
 *     long __percpu *p = alloc_percpu(long);  ... per_cpu_ptr(p, cpu) ... free_percpu(p);
 * Every name here maps onto a pcpu_* name of <percpu.h>; see that header for the
 * semantics, errors and thread-safety of each. */
#ifndef PERCPU_KERNEL_H
#define PERCPU_KERNEL_H

#include <percpu.h>

#define __percpu __pcpu

/* Allocation flags, accepted where the kernel takes a gfp_t. */
typedef unsigned int gfp_t;
#define GFP_KERNEL PCPU_GFP_KERNEL
#define GFP_ATOMIC PCPU_GFP_ATOMIC
#define GFP_NOWAIT PCPU_GFP_NOWAIT

/* Static per-CPU variables. */
#define DEFINE_PER_CPU(type, name) PCPU_DEFINE(type, name)
#define DEFINE_PER_CPU_ALIGNED(type, name) PCPU_DEFINE_ALIGNED(type, name)
#define DEFINE_PER_CPU_SHARED_ALIGNED(type, name) PCPU_DEFINE_SHARED_ALIGNED(type, name)
#define DEFINE_PER_CPU_PAGE_ALIGNED(type, name) PCPU_DEFINE_PAGE_ALIGNED(type, name)
#define DEFINE_PER_CPU_READ_MOSTLY(type, name) PCPU_DEFINE_READ_MOSTLY(type, name)
#define DECLARE_PER_CPU(type, name) PCPU_DECLARE(type, name)
#define DECLARE_PER_CPU_ALIGNED(type, name) PCPU_DECLARE_ALIGNED(type, name)
#define DECLARE_PER_CPU_SHARED_ALIGNED(type, name) PCPU_DECLARE_SHARED_ALIGNED(type, name)
#define DECLARE_PER_CPU_PAGE_ALIGNED(type, name) PCPU_DECLARE_PAGE_ALIGNED(type, name)
#define DECLARE_PER_CPU_READ_MOSTLY(type, name) PCPU_DECLARE_READ_MOSTLY(type, name)

/* Reaching copies. */
#define per_cpu_ptr(ptr, cpu) pcpu_ptr(ptr, cpu)
#define per_cpu(var, cpu) pcpu_var(var, cpu)
#define this_cpu_ptr(ptr) pcpu_this_ptr(ptr)
#define raw_cpu_ptr(ptr) pcpu_this_ptr(ptr)

/* Dynamic allocation. */
#define alloc_percpu(type) pcpu_alloc_type(type)
#define alloc_percpu_gfp(type, gfp) \
	((__typeof__(type) *)pcpu_alloc_gfp(sizeof(type), __alignof__(type), (gfp)))
#define __alloc_percpu(size, align) pcpu_alloc((size), (align))
#define __alloc_percpu_gfp(size, align, gfp) pcpu_alloc_gfp((size), (align), (gfp))
#define free_percpu(ptr) pcpu_free(ptr)

/* CPUs. */
#define for_each_possible_cpu(cpu) pcpu_for_each_possible_cpu(cpu)
#define for_each_online_cpu(cpu) pcpu_for_each_online_cpu(cpu)
#define num_possible_cpus() pcpu_num_possible_cpus()
#define num_online_cpus() pcpu_num_online_cpus()
#define nr_cpu_ids (pcpu_nr_cpu_ids())
#define cpu_possible(cpu) pcpu_cpu_possible(cpu)
#define cpu_online(cpu) pcpu_cpu_online(cpu)
#define cpu_to_node(cpu) pcpu_cpu_to_node(cpu)
#define raw_smp_processor_id() ((int)pcpu_current_cpu())
#define smp_processor_id() ((int)pcpu_current_cpu())

/* percpu_counter. */
#include <errno.h>
#define percpu_counter pcpu_counter
/* As the kernel's: 0, or a negative errno (-ENOMEM, -EINVAL), not -1 with errno. */
static inline int percpu_counter_init(struct pcpu_counter *__pcpu_fbc, int64_t __pcpu_value,
				      unsigned int __pcpu_gfp)
{
	return pcpu_counter_init(__pcpu_fbc, __pcpu_value, __pcpu_gfp) ? -errno : 0;
}
#define percpu_counter_destroy(fbc) pcpu_counter_destroy(fbc)
#define percpu_counter_set(fbc, amount) pcpu_counter_set((fbc), (amount))
#define percpu_counter_add(fbc, amount) pcpu_counter_add((fbc), (amount))
#define percpu_counter_sub(fbc, amount) pcpu_counter_add((fbc), -(int64_t)(amount))
#define percpu_counter_add_batch(fbc, amount, batch) \
	pcpu_counter_add_batch((fbc), (amount), (batch))
#define percpu_counter_inc(fbc) pcpu_counter_inc(fbc)
#define percpu_counter_dec(fbc) pcpu_counter_dec(fbc)
#define percpu_counter_read(fbc) pcpu_counter_read(fbc)
#define percpu_counter_read_positive(fbc) pcpu_counter_read_positive(fbc)
#define percpu_counter_sum(fbc) pcpu_counter_sum(fbc)
#define __percpu_counter_sum(fbc) pcpu_counter_sum(fbc)
#define percpu_counter_sum_positive(fbc) pcpu_counter_sum_positive(fbc)
#define percpu_counter_compare(fbc, rhs) pcpu_counter_compare((fbc), (rhs))
#define __percpu_counter_compare(fbc, rhs, batch) \
	pcpu_counter_compare_batch((fbc), (rhs), (batch))
#define percpu_counter_initialized(fbc) ((fbc)->counters != NULL)
/* A variable in the kernel; its value never changes here. */
#define percpu_counter_batch (pcpu_counter_batch())

/* The this_cpu operations (see pcpu_this_cpu(3)).  The __this_cpu_ and raw_cpu_
 * variants are the same operations: in userspace the thread may always migrate, and
 * the rseq operations cost no more than unprotected ones would. */
#define this_cpu_read(pcp) pcpu_this_read(pcp)
#define this_cpu_write(pcp, val) pcpu_this_write(pcp, val)
#define this_cpu_add(pcp, val) pcpu_this_add(pcp, val)
#define this_cpu_sub(pcp, val) pcpu_this_sub(pcp, val)
#define this_cpu_inc(pcp) pcpu_this_inc(pcp)
#define this_cpu_dec(pcp) pcpu_this_dec(pcp)
#define this_cpu_and(pcp, val) pcpu_this_and(pcp, val)
#define this_cpu_or(pcp, val) pcpu_this_or(pcp, val)
#define this_cpu_add_return(pcp, val) pcpu_this_add_return(pcp, val)
#define this_cpu_sub_return(pcp, val) pcpu_this_sub_return(pcp, val)
#define this_cpu_inc_return(pcp) pcpu_this_inc_return(pcp)
#define this_cpu_dec_return(pcp) pcpu_this_dec_return(pcp)
#define this_cpu_xchg(pcp, nval) pcpu_this_xchg(pcp, nval)
#define this_cpu_cmpxchg(pcp, oval, nval) pcpu_this_cmpxchg(pcp, oval, nval)
#define this_cpu_try_cmpxchg(pcp, ovalp, nval) pcpu_this_try_cmpxchg(pcp, ovalp, nval)
#define this_cpu_cmpxchg_double(pcp1, pcp2, o1, o2, n1, n2) \
	pcpu_this_cmpxchg_double(pcp1, pcp2, o1, o2, n1, n2)

#define __this_cpu_read(pcp) pcpu_this_read(pcp)
#define __this_cpu_write(pcp, val) pcpu_this_write(pcp, val)
#define __this_cpu_add(pcp, val) pcpu_this_add(pcp, val)
#define __this_cpu_sub(pcp, val) pcpu_this_sub(pcp, val)
#define __this_cpu_inc(pcp) pcpu_this_inc(pcp)
#define __this_cpu_dec(pcp) pcpu_this_dec(pcp)
#define __this_cpu_and(pcp, val) pcpu_this_and(pcp, val)
#define __this_cpu_or(pcp, val) pcpu_this_or(pcp, val)
#define __this_cpu_add_return(pcp, val) pcpu_this_add_return(pcp, val)
#define __this_cpu_sub_return(pcp, val) pcpu_this_sub_return(pcp, val)
#define __this_cpu_inc_return(pcp) pcpu_this_inc_return(pcp)
#define __this_cpu_dec_return(pcp) pcpu_this_dec_return(pcp)
#define __this_cpu_xchg(pcp, nval) pcpu_this_xchg(pcp, nval)
#define __this_cpu_cmpxchg(pcp, oval, nval) pcpu_this_cmpxchg(pcp, oval, nval)
#define __this_cpu_try_cmpxchg(pcp, ovalp, nval) pcpu_this_try_cmpxchg(pcp, ovalp, nval)

#define raw_cpu_read(pcp) pcpu_this_read(pcp)
#define raw_cpu_write(pcp, val) pcpu_this_write(pcp, val)
#define raw_cpu_add(pcp, val) pcpu_this_add(pcp, val)
#define raw_cpu_sub(pcp, val) pcpu_this_sub(pcp, val)
#define raw_cpu_inc(pcp) pcpu_this_inc(pcp)
#define raw_cpu_dec(pcp) pcpu_this_dec(pcp)
#define raw_cpu_and(pcp, val) pcpu_this_and(pcp, val)
#define raw_cpu_or(pcp, val) pcpu_this_or(pcp, val)
#define raw_cpu_add_return(pcp, val) pcpu_this_add_return(pcp, val)
#define raw_cpu_xchg(pcp, nval) pcpu_this_xchg(pcp, nval)
#define raw_cpu_cmpxchg(pcp, oval, nval) pcpu_this_cmpxchg(pcp, oval, nval)
#define raw_cpu_try_cmpxchg(pcp, ovalp, nval) pcpu_this_try_cmpxchg(pcp, ovalp, nval)

/* Exclusion (get_cpu/put_cpu).  See pcpu_get_cpu(3): a lock per CPU number, exclusive
 * among get_cpu() users only, not disabled preemption. */
#define get_cpu() ((int)pcpu_get_cpu())
#define put_cpu() pcpu_put_cpu()
#define get_cpu_var(var) pcpu_get_cpu_var(var)
#define put_cpu_var(var) pcpu_put_cpu_var(var)
#define get_cpu_ptr(ptr) pcpu_get_cpu_ptr(ptr)
#define put_cpu_ptr(ptr) pcpu_put_cpu_ptr(ptr)

#endif /* PERCPU_KERNEL_H */
