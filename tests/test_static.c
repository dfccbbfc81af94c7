/* SPDX-License-Identifier: MIT */
/* test_static.c - static per-CPU variables in the executable: every possible CPU gets
 * its own copy of the initial contents, copies are independent, the alignment variants
 * hold in every copy, arrays and structs work, and the kernel names from
 * <percpu/kernel.h> compile and behave as the kernel's. */
#include <string.h>

#include "internal.h" /* before kernel.h: its struct fields have kernel names */
#include "testutil.h"
#include <percpu/kernel.h>

struct pair {
	long a;
	char name[12];
};

DECLARE_PER_CPU(long, counter); /* as a header would, before the definition */
DEFINE_PER_CPU(long, counter) = 42;
static DEFINE_PER_CPU(int[5], array) = { 1, 2, 3, 4, 5 };
DEFINE_PER_CPU(struct pair, pair) = { 7, "seven" };
DEFINE_PER_CPU_ALIGNED(char, aligned_byte) = 'x';
DEFINE_PER_CPU_SHARED_ALIGNED(long, shared_aligned) = 9;
DEFINE_PER_CPU_PAGE_ALIGNED(char, page_buf[100]) = "page";
DEFINE_PER_CPU_READ_MOSTLY(unsigned, read_mostly) = 0xabcd;
static DEFINE_PER_CPU(long, zeroed);

int main(void)
{
	unsigned int cpu;
	int nr = 0;
	struct pcpu_stats st0;

	CHECK_EQ(pcpu_init(), 0);
	CHECK_EQ(pcpu_get_stats(&st0), 0);
	for_each_possible_cpu(cpu) {
		nr++;
		CHECK_EQ(per_cpu(counter, cpu), 42);
		for (int i = 0; i < 5; i++)
			CHECK_EQ(per_cpu(array, cpu)[i], i + 1);
		CHECK_EQ(per_cpu(pair, cpu).a, 7);
		CHECK(strcmp(per_cpu(pair, cpu).name, "seven") == 0);
		CHECK_EQ(per_cpu(aligned_byte, cpu), 'x');
		CHECK_EQ((uintptr_t)&per_cpu(aligned_byte, cpu) % 64, 0);
		CHECK_EQ((uintptr_t)&per_cpu(shared_aligned, cpu) % 64, 0);
		CHECK_EQ((uintptr_t)per_cpu(page_buf, cpu) % st0.page_size, 0);
		CHECK(strcmp(per_cpu(page_buf, cpu), "page") == 0);
		CHECK_EQ(per_cpu(read_mostly, cpu), 0xabcd);
		CHECK_EQ(per_cpu(zeroed, cpu), 0);
		/* copies live in the first chunk's static region */
		CHECK((char *)&per_cpu(counter, cpu) >= _pcpu_geo->arena &&
		      (char *)&per_cpu(counter, cpu) < _pcpu_geo->arena + _pcpu_geo->chunk_bytes);
	}
	CHECK_EQ(nr, num_possible_cpus());

	/* independent copies */
	for_each_possible_cpu(cpu)
		per_cpu(counter, cpu) = 1000 + cpu;
	for_each_possible_cpu(cpu)
		CHECK_EQ(per_cpu(counter, cpu), 1000 + cpu);
	/* the image in the executable is not a copy: writes to copies leave it alone */
	CHECK_EQ(counter, 42);

	/* per_cpu_ptr(&var) and this_cpu_ptr(&var) agree with per_cpu */
	for_each_possible_cpu(cpu)
		CHECK(per_cpu_ptr(&pair, cpu) == &per_cpu(pair, cpu));
	long *mine = this_cpu_ptr(&counter);
	int found = 0;
	for_each_possible_cpu(cpu)
		found += mine == &per_cpu(counter, cpu);
	CHECK_EQ(found, 1);
	CHECK(smp_processor_id() >= 0 && (unsigned)smp_processor_id() < nr_cpu_ids);
	CHECK(cpu_possible(smp_processor_id()));

	/* the static region holds them all, and stats say so */
	struct pcpu_stats st;
	pcpu_get_stats(&st);
	CHECK(st.static_size >= 100 + 100); /* page_buf and what precedes it */
	CHECK_EQ(st.nr_static_sections, 1);

	/* kernel-style dynamic use */
	struct pair __percpu *pp = alloc_percpu(struct pair);
	CHECK(pp != NULL);
	for_each_possible_cpu(cpu)
		per_cpu_ptr(pp, cpu)->a = cpu;
	for_each_online_cpu(cpu)
		CHECK_EQ(per_cpu_ptr(pp, cpu)->a, cpu);
	free_percpu(pp);
	long __percpu *gp = alloc_percpu_gfp(long, GFP_KERNEL);
	CHECK(gp != NULL);
	free_percpu(gp);
	void __percpu *raw = __alloc_percpu(24, 8);
	CHECK(raw != NULL);
	free_percpu(raw);
	TEST_DONE();
}
