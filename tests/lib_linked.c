/* SPDX-License-Identifier: MIT */
/* lib_linked.c - a shared library with static per-CPU variables, linked into the test
 * executable dso_static (its section is placed in the first chunk at start-up). */
#include <percpu/kernel.h>

DEFINE_PER_CPU(long, linked_counter) = 5;
DEFINE_PER_CPU_ALIGNED(long, linked_aligned) = 6;

long linked_get(unsigned int cpu);
void linked_add(unsigned int cpu, long v);
long *linked_ptr(unsigned int cpu);
long *linked_aligned_ptr(unsigned int cpu);

long linked_get(unsigned int cpu)
{
	return per_cpu(linked_counter, cpu);
}

void linked_add(unsigned int cpu, long v)
{
	per_cpu(linked_counter, cpu) += v;
}

long *linked_ptr(unsigned int cpu)
{
	return &per_cpu(linked_counter, cpu);
}

long *linked_aligned_ptr(unsigned int cpu)
{
	return per_cpu_ptr(&linked_aligned, cpu);
}
