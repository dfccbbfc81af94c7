/* SPDX-License-Identifier: MIT */
/* test_remote.c - folding other CPUs' copies while they are being updated: adders run
 * this_cpu increments on a per-CPU counter while a folder visits every CPU with
 * pcpu_run_on_cpu() and moves that CPU's count into its own total with this_cpu_xchg;
 * the folded total plus what is left must equal the increments exactly.  Also the
 * errors of pcpu_run_on_cpu(). */
#include <errno.h>
#include <pthread.h>

#include "percpu.h"
#include "testutil.h"

static uint64_t *ctr;
static int stop;
static uint64_t folded;
static unsigned int visited_ok, visits;

static void fold(void *arg)
{
	unsigned int want = (unsigned int)(uintptr_t)arg;

	visits++;
	visited_ok += pcpu_current_cpu() == want;
	folded += pcpu_this_xchg(*ctr, 0);
}

static void *adder(void *arg)
{
	long n = (long)(intptr_t)arg;

	for (long i = 0; i < n; i++)
		pcpu_this_inc(*ctr);
	return NULL;
}

static void *folder(void *arg)
{
	unsigned int cpu;

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
		pcpu_for_each_online_cpu(cpu)
			CHECK_EQ(pcpu_run_on_cpu(cpu, fold, (void *)(uintptr_t)cpu), 0);
	return NULL;
}

static void nop(void *arg)
{
	(void)arg;
}

int main(void)
{
	pthread_t a[3], f;
	long per_thread = tu_scaled(20000000);
	uint64_t left = 0;
	unsigned int cpu;

	ctr = pcpu_alloc_type(uint64_t);
	CHECK(ctr != NULL);
	pthread_create(&f, NULL, folder, NULL);
	for (int i = 0; i < 3; i++)
		pthread_create(&a[i], NULL, adder, (void *)(intptr_t)per_thread);
	for (int i = 0; i < 3; i++)
		pthread_join(a[i], NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(f, NULL);
	pcpu_for_each_possible_cpu(cpu)
		left += *pcpu_ptr(ctr, cpu);
	fprintf(stderr, "%u visits, folded %llu, left %llu\n", visits, (unsigned long long)folded,
		(unsigned long long)left);
	CHECK_EQ(folded + left, 3 * (uint64_t)per_thread);
	CHECK(visits > 0);
	CHECK_EQ(visited_ok, visits);

	errno = 0;
	CHECK_EQ(pcpu_run_on_cpu(pcpu_nr_cpu_ids(), nop, NULL), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(pcpu_run_on_cpu(0, NULL, NULL), -1);
	pcpu_free(ctr);
	TEST_DONE();
}
