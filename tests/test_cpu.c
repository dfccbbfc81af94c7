/* SPDX-License-Identifier: MIT */
/* test_cpu.c - the current CPU, in each of the three sources: glibc's rseq registration,
 * the library's own (glibc's disabled with GLIBC_TUNABLES=glibc.pthread.rseq=0) and
 * sched_getcpu (LIBPERCPU_CPU_SOURCE=getcpu).  A thread pinned to a CPU must see that
 * CPU; threads that register their own rseq area must unregister it at exit (many short
 * threads: a leftover registration would make the kernel write into freed memory). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "percpu.h"
#include "testutil.h"

static int pinned_ok(void)
{
	cpu_set_t set;
	int ok = 1;

	for (unsigned int cpu = 0; cpu < pcpu_nr_cpu_ids(); cpu++) {
		if (!pcpu_cpu_online(cpu))
			continue;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0)
			continue; /* not allowed here (cpuset): skip that CPU */
		for (int i = 0; i < 1000; i++)
			if (pcpu_current_cpu() != cpu)
				ok = 0;
	}
	return ok;
}

static void *thread_fn(void *arg)
{
	long *counter = (long *)arg;
	long *mine = pcpu_this_ptr(counter);

	__atomic_fetch_add(mine, 1, __ATOMIC_RELAXED);
	return (void *)(intptr_t)pinned_ok();
}

static int run_mode(const char *want)
{
	long *counter = pcpu_alloc_type(long);
	unsigned int cpu;
	long sum = 0;

	fprintf(stderr, "source: %s\n", pcpu_cpu_source());
	CHECK(tu_source_is(want));
	CHECK(pinned_ok());
	for (int round = 0; round < 50; round++) {
		pthread_t t[4];
		void *ok;
		for (int i = 0; i < 4; i++)
			CHECK_EQ(pthread_create(&t[i], NULL, thread_fn, counter), 0);
		for (int i = 0; i < 4; i++) {
			pthread_join(t[i], &ok);
			CHECK(ok != NULL);
		}
	}
	pcpu_for_each_possible_cpu(cpu)
		sum += *pcpu_ptr(counter, cpu);
	CHECK_EQ(sum, 200);
	pcpu_free(counter);
	return tu_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	return tu_run_modes(argc, argv, run_mode);
}
