/* SPDX-License-Identifier: MIT */
/* lib_unload.c - a plugin that is loaded and unloaded over and over (dso_dlclose,
 * dso_sigtranslate, dso_nodelete).  Built like any shared object (-fPIC, not -fPIE), so
 * its rseq sections clear the thread's rseq_cs on the way out: after dlclose no thread
 * may hold a pointer to a descriptor in it.  It has a static per-CPU variable (its
 * section is registered at dlopen and unregistered at dlclose), the one-line
 * this_cpu plugin, every primitive for the rseq_cs check, pcpu_counter's inline add,
 * and get_cpu/put_cpu (which leave a thread-exit destructor in libpercpu). */
#include <percpu.h>

PCPU_DEFINE(long, unload_var) = 3;

void plugin_add(long *p);
uint64_t plugin_rseq_cs(void);
uint64_t plugin_op(int op, uint64_t *p);
unsigned int plugin_get_put(void);
uint64_t plugin_counter_add(struct pcpu_counter *c, int64_t amount, int32_t batch);
long plugin_var_sum(void);

/* The reproducer, verbatim. */
void plugin_add(long *p)
{
	pcpu_this_inc(*p);
}

/* The calling thread's rseq_cs field (what the kernel will read at its next preemption). */
uint64_t plugin_rseq_cs(void)
{
	return *(volatile uint64_t *)((char *)__pcpu_thread_pointer() + __pcpu_fast.rseq_offset + 8);
}

/* Runs primitive @op on the per-CPU words at @p (16-byte aligned pair) and returns the
 * thread's rseq_cs right after: each way out of a section must leave it clear. */
uint64_t plugin_op(int op, uint64_t *p)
{
	uint8_t *b = (uint8_t *)p;
	uint16_t *w = (uint16_t *)p;
	uint32_t *l = (uint32_t *)p;
	uint64_t v;

	switch (op) {
	case 0: (void)pcpu_this_read(b[1]); break;
	case 1: pcpu_this_write(w[1], 7); break;
	case 2: pcpu_this_add(l[1], 5); break;
	case 3: v = pcpu_this_read(p[0]); (void)pcpu_this_cmpxchg(p[0], v, v + 1); break; /* commit */
	case 4: v = pcpu_this_read(p[0]); (void)pcpu_this_cmpxchg(p[0], v + 1, v); break; /* cmp fails */
	case 5: v = pcpu_this_read(p[0]); /* both ways of cmpxchg_double */
		(void)pcpu_this_cmpxchg_double(p[0], p[1], v, pcpu_this_read(p[1]), v + 1, 0);
		(void)pcpu_this_cmpxchg_double(p[0], p[1], ~v, 0, 0, 0);
		break;
	}
	return plugin_rseq_cs();
}

/* pcpu_counter_add_batch() inline, then the thread's rseq_cs: clear where the add
 * stayed in the delta; where it passed the batch, the fold in libpercpu ran a section
 * of its own (that object stays loaded). */
uint64_t plugin_counter_add(struct pcpu_counter *c, int64_t amount, int32_t batch)
{
	pcpu_counter_add_batch(c, amount, batch);
	return plugin_rseq_cs();
}

unsigned int plugin_get_put(void)
{
	unsigned int cpu = pcpu_get_cpu();

	pcpu_this_inc(unload_var);
	pcpu_put_cpu();
	return cpu;
}

/* The sum over all CPUs of the static variable (its initial value on each CPU after a
 * fresh dlopen, plus what plugin_get_put added). */
long plugin_var_sum(void)
{
	unsigned int cpu;
	long sum = 0;

	pcpu_for_each_possible_cpu(cpu)
		sum += pcpu_var(unload_var, cpu);
	return sum;
}
