/* SPDX-License-Identifier: MIT */
/* header_client.c - a user's program that expands every kind of macro of <percpu.h> and
 * <percpu/kernel.h> once.  Not run: make check-headers compiles it in users' strictest
 * modes (C99, C11 -pedantic; C++11 to C++20; -DPCPU_NO_RSEQ_OPS; -Wshadow, -Wcast-qual), so that any
 * GNU extension left unmarked, any C-only construct, or a name of one expansion shadowing
 * another's, fails the build.  Written in the common subset of C and C++. */
#include <percpu/kernel.h>
#include <stdio.h>
struct pair { unsigned long a, b; };
DECLARE_PER_CPU(long, hits);
PCPU_DEFINE(long, hits) = 0;
DEFINE_PER_CPU_PAGE_ALIGNED(char, page[64]);
DEFINE_PER_CPU_READ_MOSTLY(int, mostly) = 3;
DEFINE_PER_CPU(unsigned int, events);
DEFINE_PER_CPU_ALIGNED(struct pair, pr);
DEFINE_PER_CPU(volatile long, vol);
DECLARE_PER_CPU_FIRST(long, first);
DEFINE_PER_CPU_FIRST(long, first);
DECLARE_PER_CPU_SECTION(int, sect, "..shared_aligned");
DEFINE_PER_CPU_SECTION(int, sect, "..shared_aligned");
DEFINE_PER_CPU(uint64_t, v64);
DEFINE_PER_CPU(cpumask_var_t, pcpu_masks);
#ifdef __SIZEOF_INT128__
DEFINE_PER_CPU_ALIGNED(__pcpu_u128, v128);
#endif
/* the names of the seeds beyond the this_cpu family's own */
static long more_names(long *p)
{
	struct percpu_counter cs[2];
	uint64_t o64 = 0;
	long n = 0;
	n += raw_cpu_sub_return(first, 1) + raw_cpu_inc_return(first) + raw_cpu_dec_return(first);
	n += __get_cpu_var(sect)++ + (long)(per_cpu_offset(0) + my_cpu_offset);
	n += *__this_cpu_ptr(p) + (long)(this_cpu_cpumask_var_ptr(pcpu_masks) != NULL);
	n += (long)this_cpu_cmpxchg64(v64, 0, 1) + (long)raw_cpu_cmpxchg64(v64, 1, 2) +
	     (long)__this_cpu_cmpxchg64(v64, 2, 3);
	n += this_cpu_try_cmpxchg64(v64, &o64, 4) + raw_cpu_try_cmpxchg64(v64, &o64, 5) +
	     __this_cpu_try_cmpxchg64(v64, &o64, 6);
	n += __this_cpu_cmpxchg_double(this_cpu_ptr(&pr)->a, this_cpu_ptr(&pr)->b, 0, 0, 1, 2) +
	     raw_cpu_cmpxchg_double(this_cpu_ptr(&pr)->a, this_cpu_ptr(&pr)->b, 1, 2, 0, 0);
#ifdef __SIZEOF_INT128__
	{
		__pcpu_u128 o = 0;
		n += (long)this_cpu_cmpxchg128(v128, 0, 1) + (long)raw_cpu_cmpxchg128(v128, 1, 2) +
		     (long)__this_cpu_cmpxchg128(v128, 2, 3);
		n += this_cpu_try_cmpxchg128(v128, &o, 4) + raw_cpu_try_cmpxchg128(v128, &o, 5) +
		     __this_cpu_try_cmpxchg128(v128, &o, 6);
	}
#endif
	if (percpu_counter_init_many(cs, 0, GFP_KERNEL, 2)) return -1;
	percpu_counter_add_local(&cs[0], 3);
	percpu_counter_sub_local(&cs[1], 3);
	n += percpu_counter_limited_add(&cs[0], 10, 5);
	percpu_counter_destroy_many(cs, 2);
	return n;
}
/* reading through a pointer to const, as a const member function or a reader does */
static long read_const(const long *q)
{
	return this_cpu_read(*q) + (long)*per_cpu_ptr(q, 0);
}
static int on_cpu(unsigned int cpu)
{
	return (int)cpu & 0;
}
/* the cpumask and hotplug names */
static long masks(void)
{
	cpumask_var_t v;
	struct cpumask *s;
	char buf[PCPU_CPUMAP_BUF_SIZE];
	unsigned int cpu;
	long n = 0;
	int st;
	if (!zalloc_cpumask_var(&v, GFP_KERNEL) || !alloc_cpumask_var(&s, GFP_KERNEL)) return -1;
	cpumask_copy(s, cpu_online_mask);
	cpumask_set_cpu(0, v);
	cpumask_clear_cpu(0, v);
	n += cpumask_test_cpu(0, cpu_possible_mask) + cpumask_test_and_set_cpu(0, v) +
	     cpumask_test_and_clear_cpu(0, v);
	cpumask_setall(v);
	cpumask_clear(v);
	n += cpumask_and(v, s, cpu_present_mask) + cpumask_andnot(v, s, cpumask_of(0));
	cpumask_or(v, v, cpumask_of_node(0));
	cpumask_xor(v, v, get_cpu_mask(0));
	n += cpumask_equal(v, s) + cpumask_empty(v) + cpumask_full(v) + cpumask_subset(v, s) +
	     cpumask_intersects(v, s) + (long)cpumask_weight(v) + (long)cpumask_first(v) +
	     (long)cpumask_any(v) + (long)cpumask_first_and(v, s) + (long)cpumask_next(-1, v) +
	     (long)cpumask_next_zero(-1, v) + (long)cpumask_next_and(-1, v, s) +
	     (long)num_present_cpus() + cpu_present(0) + (long)nr_cpumask_bits +
	     (long)cpumask_size() + (long)cpumask_bits(v)[0];
	for_each_cpu(cpu, v) n++;
	for_each_cpu_and(cpu, v, s) n++;
	for_each_cpu_andnot(cpu, v, s) n++;
	for_each_present_cpu(cpu) n++;
	n += cpulist_parse("0", v) + cpumap_print_to_pagebuf(true, buf, v);
	free_cpumask_var(v);
	free_cpumask_var(s);
	st = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "client:online", on_cpu, on_cpu);
	if (st > 0) cpuhp_remove_state(st);
	st = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "client:nocalls", on_cpu, NULL);
	if (st > 0) cpuhp_remove_state_nocalls(st);
	return n + (long)sizeof(cpumask_t) / NR_CPUS;
}
int main(void)
{
	long *p = alloc_percpu(long);
	struct pcpu_counter c;
	unsigned int cpu;
	long total = 0, o = 0;
	int id;
	if (!p) return 1;
	this_cpu_inc(hits);
	this_cpu_add(*p, 3);
	this_cpu_sub(*p, 1);
	this_cpu_inc(events);
	total = this_cpu_read(hits);
	this_cpu_write(hits, total + 1);
	(void)this_cpu_add_return(*p, 2);
	(void)this_cpu_sub_return(*p, 2);
	(void)__this_cpu_inc_return(*p);
	(void)raw_cpu_read(mostly);
	*raw_cpu_ptr(&page[0]) = 'x';
	free_percpu(alloc_percpu_gfp(int, GFP_ATOMIC));
	free_percpu(__alloc_percpu(16, 8));
	(void)this_cpu_xchg(*p, 7);
	(void)this_cpu_cmpxchg(*p, 7, 8);
	(void)this_cpu_try_cmpxchg(*p, &o, 9);
	this_cpu_inc(vol);
	this_cpu_write(vol, this_cpu_read(vol) + read_const(p));
	(void)this_cpu_cmpxchg(vol, 1, 2);
	this_cpu_sub(vol, 1);
	(void)this_cpu_add_return(vol, 2);
	(void)this_cpu_sub_return(vol, 1);
	(void)this_cpu_xchg(vol, 3);
	this_cpu_or(vol, 1);
	this_cpu_and(events, 1u);
	this_cpu_or(events, 2u);
	(void)this_cpu_cmpxchg_double(this_cpu_ptr(&pr)->a, this_cpu_ptr(&pr)->b, 0, 0, 1, 2);
	/* nested in each other's arguments: no name may shadow another (-Wshadow) */
	this_cpu_add(hits, this_cpu_read(*p));
	this_cpu_write(hits, this_cpu_add_return(*p, this_cpu_read(hits)));
	(void)this_cpu_cmpxchg(hits, this_cpu_cmpxchg(*p, 1, 2), this_cpu_xchg(*p, 3));
	(void)this_cpu_try_cmpxchg(hits, &o, this_cpu_sub_return(*p, this_cpu_read(hits)));
	for_each_possible_cpu(cpu) total += *per_cpu_ptr(p, cpu) + per_cpu(hits, cpu);
	id = get_cpu(); (void)id; put_cpu();
	get_cpu_var(hits)++; put_cpu_var(hits);
	(void)get_cpu_ptr(p); put_cpu_ptr(p);
	if (percpu_counter_init(&c, 0, GFP_KERNEL)) return 1;
	percpu_counter_add(&c, 5);
	total += percpu_counter_sum(&c);
	percpu_counter_destroy(&c);
	free_percpu(p);
	total += masks() + more_names(p);
	printf("%ld %u\n", total, smp_processor_id() >= 0);
	return 0;
}
