/* SPDX-License-Identifier: MIT */
/* lib_plugin.c - a shared library loaded with dlopen by dso_static: its static per-CPU
 * section goes to the reserved region (or dynamic memory) and is released by dlclose.
 * It also uses a variable of lib_linked.c through DECLARE_PER_CPU. */
#include <percpu/kernel.h>

DEFINE_PER_CPU(long, plugin_var) = 77;
DEFINE_PER_CPU_ALIGNED(char, plugin_buf[256]) = "plugin";
DECLARE_PER_CPU(long, linked_counter);

long plugin_get(unsigned int cpu);
void plugin_set(unsigned int cpu, long v);
char *plugin_buf_ptr(unsigned int cpu);
long plugin_linked_get(unsigned int cpu);
long *plugin_this_ptr(void);

long plugin_get(unsigned int cpu)
{
	return per_cpu(plugin_var, cpu);
}

void plugin_set(unsigned int cpu, long v)
{
	per_cpu(plugin_var, cpu) = v;
}

char *plugin_buf_ptr(unsigned int cpu)
{
	return per_cpu(plugin_buf, cpu);
}

long plugin_linked_get(unsigned int cpu)
{
	return per_cpu(linked_counter, cpu);
}

long *plugin_this_ptr(void)
{
	return this_cpu_ptr(&plugin_var);
}
