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

#endif /* PERCPU_KERNEL_H */
