/* SPDX-License-Identifier: MIT */
/* cpumask.c - the public view of the topology: possible and online CPUs, nodes, iteration.
 * Everything is read once at initialization (alloc.c) and never changes afterwards. */
#include "internal.h"

static const struct pcpu_topology *topo(void)
{
	static const struct pcpu_topology empty;

	return pcpu_ensure_init() == 0 ? &pcpu.topo : &empty;
}

unsigned int pcpu_nr_cpu_ids(void)
{
	return topo()->nr_cpu_ids;
}

unsigned int pcpu_num_possible_cpus(void)
{
	return topo()->nr_possible;
}

unsigned int pcpu_num_online_cpus(void)
{
	return topo()->nr_online;
}

bool pcpu_cpu_possible(unsigned int cpu)
{
	const struct pcpu_topology *t = topo();
	return cpu < t->nr_cpu_ids && pcpu_topology_test(t->possible, cpu);
}

bool pcpu_cpu_online(unsigned int cpu)
{
	const struct pcpu_topology *t = topo();
	return cpu < t->nr_cpu_ids && pcpu_topology_test(t->online, cpu);
}

int pcpu_cpu_to_node(unsigned int cpu)
{
	const struct pcpu_topology *t = topo();
	return cpu < t->nr_cpu_ids && pcpu_topology_test(t->possible, cpu) ? t->cpu_to_node[cpu] : -1;
}

static int next_in(const uint64_t *bits, unsigned int nbits, int cpu)
{
	if (cpu >= (int)nbits)
		return (int)nbits;
	for (unsigned int c = (unsigned int)(cpu + 1); c < nbits; c++)
		if (pcpu_topology_test(bits, c))
			return (int)c;
	return (int)nbits;
}

int pcpu_next_possible_cpu(int cpu)
{
	const struct pcpu_topology *t = topo();
	return next_in(t->possible, t->nr_cpu_ids, cpu < -1 ? -1 : cpu);
}

int pcpu_next_online_cpu(int cpu)
{
	const struct pcpu_topology *t = topo();
	return next_in(t->online, t->nr_cpu_ids, cpu < -1 ? -1 : cpu);
}
