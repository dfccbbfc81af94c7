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
static inline int percpu_counter_init_many(struct pcpu_counter *__pcpu_fbc, int64_t __pcpu_value,
					   unsigned int __pcpu_gfp, uint32_t __pcpu_nr)
{
	return pcpu_counter_init_many(__pcpu_fbc, __pcpu_value, __pcpu_gfp, __pcpu_nr) ? -errno : 0;
}
#define percpu_counter_destroy_many(fbc, nr) pcpu_counter_destroy_many((fbc), (nr))
#define percpu_counter_add_local(fbc, amount) pcpu_counter_add_local((fbc), (amount))
#define percpu_counter_sub_local(fbc, amount) pcpu_counter_sub_local((fbc), (amount))
#define percpu_counter_limited_add(fbc, limit, amount) \
	pcpu_counter_limited_add((fbc), (limit), (amount))
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

/* CPU masks (see pcpu_cpumask(3)): struct cpumask is struct pcpu_cpumask, so that
 * masks pass between the two sets of names.  The library's masks (cpu_online_mask,
 * cpumask_of(), alloc_cpumask_var(), ...) hold nr_cpu_ids bits only, as the kernel's
 * off-stack masks: copy them with cpumask_copy(), not by assignment. */
#define cpumask pcpu_cpumask
typedef struct pcpu_cpumask cpumask_t;
typedef pcpu_cpumask_var_t cpumask_var_t;
#define NR_CPUS PCPU_NR_CPUS
#define nr_cpumask_bits (pcpu_nr_cpu_ids())
#define cpumask_bits(maskp) ((maskp)->bits)
#define cpumask_size() pcpu_cpumask_size()
#define alloc_cpumask_var(mask, gfp) pcpu_alloc_cpumask_var((mask), (gfp))
#define zalloc_cpumask_var(mask, gfp) pcpu_zalloc_cpumask_var((mask), (gfp))
#define free_cpumask_var(mask) pcpu_free_cpumask_var(mask)
#define cpu_possible_mask (__pcpu_possible_mask())
#define cpu_online_mask (__pcpu_online_mask())
#define cpu_present_mask (pcpu_cpu_present_mask())
#define num_present_cpus() pcpu_num_present_cpus()
#define cpu_present(cpu) pcpu_cpu_present(cpu)
#define cpumask_of(cpu) pcpu_cpumask_of(cpu)
#define get_cpu_mask(cpu) pcpu_cpumask_of(cpu)
#define cpumask_of_node(node) pcpu_cpumask_of_node(node)
#define cpumask_set_cpu(cpu, dstp) pcpu_cpumask_set_cpu((cpu), (dstp))
#define cpumask_clear_cpu(cpu, dstp) pcpu_cpumask_clear_cpu((cpu), (dstp))
#define cpumask_test_cpu(cpu, mask) pcpu_cpumask_test_cpu((cpu), (mask))
#define cpumask_test_and_set_cpu(cpu, mask) pcpu_cpumask_test_and_set_cpu((cpu), (mask))
#define cpumask_test_and_clear_cpu(cpu, mask) pcpu_cpumask_test_and_clear_cpu((cpu), (mask))
#define cpumask_setall(dstp) pcpu_cpumask_setall(dstp)
#define cpumask_clear(dstp) pcpu_cpumask_clear(dstp)
#define cpumask_copy(dstp, srcp) pcpu_cpumask_copy((dstp), (srcp))
#define cpumask_and(dstp, a, b) pcpu_cpumask_and((dstp), (a), (b))
#define cpumask_or(dstp, a, b) pcpu_cpumask_or((dstp), (a), (b))
#define cpumask_andnot(dstp, a, b) pcpu_cpumask_andnot((dstp), (a), (b))
#define cpumask_xor(dstp, a, b) pcpu_cpumask_xor((dstp), (a), (b))
#define cpumask_equal(a, b) pcpu_cpumask_equal((a), (b))
#define cpumask_empty(srcp) pcpu_cpumask_empty(srcp)
#define cpumask_full(srcp) pcpu_cpumask_full(srcp)
#define cpumask_subset(a, b) pcpu_cpumask_subset((a), (b))
#define cpumask_intersects(a, b) pcpu_cpumask_intersects((a), (b))
#define cpumask_weight(srcp) pcpu_cpumask_weight(srcp)
#define cpumask_first(srcp) pcpu_cpumask_first(srcp)
#define cpumask_any(srcp) pcpu_cpumask_first(srcp)
#define cpumask_first_and(a, b) pcpu_cpumask_first_and((a), (b))
#define cpumask_next(n, srcp) pcpu_cpumask_next((n), (srcp))
#define cpumask_next_zero(n, srcp) pcpu_cpumask_next_zero((n), (srcp))
#define cpumask_next_and(n, a, b) pcpu_cpumask_next_and((n), (a), (b))
#define for_each_cpu(cpu, mask) pcpu_for_each_cpu(cpu, mask)
#define for_each_cpu_and(cpu, a, b) pcpu_for_each_cpu_and(cpu, a, b)
#define for_each_cpu_andnot(cpu, a, b) pcpu_for_each_cpu_andnot(cpu, a, b)
#define for_each_present_cpu(cpu) pcpu_for_each_present_cpu(cpu)
/* As the kernel's: 0, or a negative errno (-EINVAL, -ERANGE). */
static inline int cpulist_parse(const char *__pcpu_buf, struct pcpu_cpumask *__pcpu_dst)
{
	return pcpu_cpumask_parselist(__pcpu_buf, __pcpu_dst) ? -errno : 0;
}
#define cpumap_print_to_pagebuf(list, buf, mask) \
	pcpu_cpumap_print_to_pagebuf((list), (buf), (mask))

/* CPU hotplug (see pcpu_cpuhp(3)): the dynamic states only, whose callbacks run when
 * pcpu_cpus_refresh() or pcpu_balance() sees CPUs come and go.  A setup returns the
 * state (> 0) to remove later, or a negative errno, as the kernel's. */
enum cpuhp_state {
	CPUHP_BP_PREPARE_DYN = -3,
	CPUHP_AP_ONLINE_DYN = -2,
	CPUHP_INVALID = -1,
};
static inline int cpuhp_setup_state(int __pcpu_state, const char *__pcpu_name,
				    pcpu_cpuhp_cb __pcpu_up, pcpu_cpuhp_cb __pcpu_down)
{
	return __pcpu_state != CPUHP_AP_ONLINE_DYN && __pcpu_state != CPUHP_BP_PREPARE_DYN ? -EINVAL
	       : (__pcpu_state = pcpu_cpuhp_setup(__pcpu_name, __pcpu_up, __pcpu_down)) < 0
		       ? -errno : __pcpu_state;
}
static inline int cpuhp_setup_state_nocalls(int __pcpu_state, const char *__pcpu_name,
					    pcpu_cpuhp_cb __pcpu_up, pcpu_cpuhp_cb __pcpu_down)
{
	return __pcpu_state != CPUHP_AP_ONLINE_DYN && __pcpu_state != CPUHP_BP_PREPARE_DYN ? -EINVAL
	       : (__pcpu_state = pcpu_cpuhp_setup_nocalls(__pcpu_name, __pcpu_up, __pcpu_down)) < 0
		       ? -errno : __pcpu_state;
}
#define cpuhp_remove_state(state) ((void)pcpu_cpuhp_remove((int)(state)))
#define cpuhp_remove_state_nocalls(state) ((void)pcpu_cpuhp_remove_nocalls((int)(state)))

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
#define raw_cpu_sub_return(pcp, val) pcpu_this_sub_return(pcp, val)
#define raw_cpu_inc_return(pcp) pcpu_this_inc_return(pcp)
#define raw_cpu_dec_return(pcp) pcpu_this_dec_return(pcp)
#define __this_cpu_cmpxchg_double(pcp1, pcp2, o1, o2, n1, n2) \
	pcpu_this_cmpxchg_double(pcp1, pcp2, o1, o2, n1, n2)
#define raw_cpu_cmpxchg_double(pcp1, pcp2, o1, o2, n1, n2) \
	pcpu_this_cmpxchg_double(pcp1, pcp2, o1, o2, n1, n2)

/* The fixed-width forms: 8 bytes through the generic operations, 16 bytes through
 * percpu/cmpxchg128.h (64-bit targets only). */
#define this_cpu_cmpxchg64(pcp, oval, nval) pcpu_this_cmpxchg(pcp, oval, nval)
#define __this_cpu_cmpxchg64(pcp, oval, nval) pcpu_this_cmpxchg(pcp, oval, nval)
#define raw_cpu_cmpxchg64(pcp, oval, nval) pcpu_this_cmpxchg(pcp, oval, nval)
#define this_cpu_try_cmpxchg64(pcp, ovalp, nval) pcpu_this_try_cmpxchg(pcp, ovalp, nval)
#define __this_cpu_try_cmpxchg64(pcp, ovalp, nval) pcpu_this_try_cmpxchg(pcp, ovalp, nval)
#define raw_cpu_try_cmpxchg64(pcp, ovalp, nval) pcpu_this_try_cmpxchg(pcp, ovalp, nval)
#ifdef __SIZEOF_INT128__
#define this_cpu_cmpxchg128(pcp, oval, nval) pcpu_this_cmpxchg128(&(pcp), (oval), (nval))
#define __this_cpu_cmpxchg128(pcp, oval, nval) pcpu_this_cmpxchg128(&(pcp), (oval), (nval))
#define raw_cpu_cmpxchg128(pcp, oval, nval) pcpu_this_cmpxchg128(&(pcp), (oval), (nval))
#define this_cpu_try_cmpxchg128(pcp, ovalp, nval) \
	pcpu_this_try_cmpxchg128(&(pcp), (ovalp), (nval))
#define __this_cpu_try_cmpxchg128(pcp, ovalp, nval) \
	pcpu_this_try_cmpxchg128(&(pcp), (ovalp), (nval))
#define raw_cpu_try_cmpxchg128(pcp, ovalp, nval) \
	pcpu_this_try_cmpxchg128(&(pcp), (ovalp), (nval))
#endif

/* The seeds' other names for static per-CPU variables.  The kernel places these in
 * sub-sections of its per-CPU section (..first, or the one named by @sec); here every
 * static per-CPU variable of an object is in its one section, in the order the linker
 * chooses: DEFINE_PER_CPU_FIRST does not make a variable first, and @sec is ignored. */
#define DEFINE_PER_CPU_FIRST(type, name) PCPU_DEFINE(type, name)
#define DECLARE_PER_CPU_FIRST(type, name) PCPU_DECLARE(type, name)
#define DEFINE_PER_CPU_SECTION(type, name, sec) PCPU_DEFINE(type, name)
#define DECLARE_PER_CPU_SECTION(type, name, sec) PCPU_DECLARE(type, name)

/* A CPU's offset: per_cpu_ptr(p, cpu) == (char *)p + per_cpu_offset(cpu) for a pointer
 * from alloc_percpu() (not for &var of a static variable: use per_cpu_ptr() there). */
#define per_cpu_offset(cpu) pcpu_cpu_offset(cpu)
#define my_cpu_offset pcpu_cpu_offset(pcpu_current_cpu())

/* The names the kernel had before 3.19 / 4.x removed them. */
#define __get_cpu_var(var) (*pcpu_this_ptr(&(var)))
#define __this_cpu_ptr(ptr) pcpu_this_ptr(ptr)

/* cpumask_var_t is the kernel's off-stack (pointer) form here: a per-CPU one is read. */
#define this_cpu_cpumask_var_ptr(x) pcpu_this_read(x)

/* 16-byte compare-and-exchange on two 8-byte halves (percpu/cmpxchg128.h), where the
 * compiler has unsigned __int128. */
#include <percpu/cmpxchg128.h>

/* Exclusion (get_cpu/put_cpu).  See pcpu_get_cpu(3): a lock per CPU number, exclusive
 * among get_cpu() users only, not disabled preemption. */
#define get_cpu() ((int)pcpu_get_cpu())
#define put_cpu() pcpu_put_cpu()
#define get_cpu_var(var) pcpu_get_cpu_var(var)
#define put_cpu_var(var) pcpu_put_cpu_var(var)
#define get_cpu_ptr(ptr) pcpu_get_cpu_ptr(ptr)
#define put_cpu_ptr(ptr) pcpu_put_cpu_ptr(ptr)

#endif /* PERCPU_KERNEL_H */
