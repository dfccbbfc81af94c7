/* SPDX-License-Identifier: MIT */
/* demo.c - the main demonstration: kernel-style per-CPU code in a userspace program.
 * A static per-CPU counter and a dynamically allocated per-CPU statistics block are
 * updated by several threads with this_cpu operations, each on the copy of the CPU it
 * runs on, and summed over all CPUs at the end: the sums are exact.  Then the process's
 * first-chunk layout and allocator statistics are printed as the kernel prints them. */
#include <percpu/kernel.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct net_stats {
	unsigned long packets;
	unsigned long bytes;
};

static DEFINE_PER_CPU(unsigned long, events);
static struct net_stats __percpu *stats;

#define THREADS 4
#define ROUNDS 1000000

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		/* each update lands entirely on the copy of the CPU the thread runs on, as
		 * one restartable sequence: no lock, no atomic instruction */
		this_cpu_inc(events);
		this_cpu_inc(stats->packets);
		this_cpu_add(stats->bytes, 64 + i % 1436);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	unsigned long total_events = 0, packets = 0, bytes = 0, want_bytes = 0;
	unsigned int cpu;

	stats = alloc_percpu(struct net_stats);
	if (!stats) {
		perror("alloc_percpu");
		return 1;
	}
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);

	printf("libpercpu demo: %u possible CPUs, %u online, current CPU from %s\n\n",
	       num_possible_cpus(), num_online_cpus(), pcpu_cpu_source());
	for_each_possible_cpu(cpu) {
		struct net_stats *s = per_cpu_ptr(stats, cpu);
		printf("  cpu %u: events %lu  packets %lu  bytes %lu\n", cpu, per_cpu(events, cpu),
		       s->packets, s->bytes);
		total_events += per_cpu(events, cpu);
		packets += s->packets;
		bytes += s->bytes;
	}
	for (int i = 0; i < ROUNDS; i++)
		want_bytes += 64 + (unsigned long)(i % 1436);
	want_bytes *= THREADS;
	printf("  total: events %lu  packets %lu  bytes %lu  (expected %d, %d, %lu): %s\n\n",
	       total_events, packets, bytes, THREADS * ROUNDS, THREADS * ROUNDS, want_bytes,
	       total_events == THREADS * ROUNDS && packets == THREADS * ROUNDS &&
			       bytes == want_bytes ? "exact" : "WRONG");
	free_percpu(stats);

	printf("First chunk layout (as the kernel logs it at boot):\n");
	pcpu_dump_layout(stdout);
	printf("\n");
	pcpu_dump_stats(stdout);
	return total_events == THREADS * ROUNDS && packets == THREADS * ROUNDS && bytes == want_bytes
		       ? 0 : 1;
}
