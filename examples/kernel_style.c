/* SPDX-License-Identifier: MIT */
/* kernel_style.c - code written against the kernel's per-CPU API, compiled unchanged in
 * userspace with <percpu/kernel.h>: static and dynamic per-CPU counters updated with
 * this_cpu operations, a get_cpu_var section, a percpu_counter, and exact sums over all
 * CPUs at the end.  Exit status 0 only if every sum is exact. */
#include <percpu/kernel.h>
#include <pthread.h>
#include <stdio.h>

struct pkt_stats {
	unsigned long packets;
	unsigned long bytes;
};

static DEFINE_PER_CPU(unsigned long, softirqs);
static DEFINE_PER_CPU(long, section_events);
static struct pkt_stats __percpu *stats;
static struct percpu_counter nr_items;

#define THREADS 4
#define ROUNDS 200000

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		this_cpu_inc(softirqs);
		this_cpu_inc(stats->packets);
		this_cpu_add(stats->bytes, 1500);
		percpu_counter_inc(&nr_items);
		if (i % 64 == 0) {
			/* a longer section on one CPU's copies, as under preempt_disable() */
			long *ev = &get_cpu_var(section_events);
			(*ev)++;
			put_cpu_var(section_events);
		}
	}
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	unsigned long irqs = 0, packets = 0, bytes = 0;
	long events = 0;
	int cpu;

	stats = alloc_percpu(struct pkt_stats);
	if (!stats || percpu_counter_init(&nr_items, 0, GFP_KERNEL))
		return 1;
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);

	for_each_possible_cpu(cpu) {
		irqs += per_cpu(softirqs, cpu);
		events += per_cpu(section_events, cpu);
		packets += per_cpu_ptr(stats, cpu)->packets;
		bytes += per_cpu_ptr(stats, cpu)->bytes;
	}
	printf("cpu %d of %u: softirqs %lu packets %lu bytes %lu sections %ld items %lld\n",
	       smp_processor_id(), nr_cpu_ids, irqs, packets, bytes, events,
	       (long long)percpu_counter_sum(&nr_items));
	int ok = irqs == THREADS * ROUNDS && packets == THREADS * ROUNDS &&
		 bytes == 1500ul * THREADS * ROUNDS && events == THREADS * ((ROUNDS + 63) / 64) &&
		 percpu_counter_sum(&nr_items) == THREADS * ROUNDS;
	percpu_counter_destroy(&nr_items);
	free_percpu(stats);
	printf("%s\n", ok ? "exact" : "WRONG");
	return ok ? 0 : 1;
}
