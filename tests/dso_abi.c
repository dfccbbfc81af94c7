/* SPDX-License-Identifier: MIT */
/* dso_abi.c - the inline ABI, struct __pcpu_fast, as a program linked with
 * libpercpu.so sees it: the symbol carries its own version (LIBPERCPU_FAST_1) and is
 * the object the program's inline code reads; it says its size and field version;
 * its reserved words are zero; and its fields mean what include/percpu.h says they
 * do, in every CPU-source mode: the index is read at rseq_offset + 4 (cpu_id), below
 * rseq_index_bound (nr_cpu_ids, or 0 in the fallback mode), counter_batch is
 * pcpu_counter_batch() once that was called, and possible_bits and online_bits are the
 * words of the possible and online masks. */
#include <dlfcn.h>
#include <string.h>

#include "percpu.h"
#include "testutil.h"

static int run(const char *want)
{
	const struct __pcpu_fast *f = &__pcpu_fast;
	const void *versioned = dlvsym(RTLD_DEFAULT, "__pcpu_fast", "LIBPERCPU_FAST_1");
	uint64_t *p = pcpu_alloc_type(uint64_t); /* initializes the library */
	int rseq;
	int32_t batch;

	CHECK(p != NULL);
	CHECK(tu_source_is(want));
	rseq = strncmp(pcpu_cpu_source(), "rseq", 4) == 0;
	CHECK(versioned == (const void *)f);
	CHECK_EQ(f->size, sizeof(struct __pcpu_fast));
	CHECK_EQ(f->version, __PCPU_FAST_VERSION);
	for (size_t i = 0; i < sizeof(f->reserved) / sizeof(f->reserved[0]); i++)
		CHECK_EQ(f->reserved[i], 0);
	CHECK_EQ(f->nr_cpu_ids, pcpu_nr_cpu_ids());
	CHECK_EQ(f->rseq_index_bound, rseq ? pcpu_nr_cpu_ids() : 0);
	CHECK_EQ(f->rseq_index_offset, f->rseq_offset + 4);
	if (rseq)
		CHECK_EQ(*(const volatile uint32_t *)((char *)__pcpu_thread_pointer() +
						       f->rseq_index_offset),
			 pcpu_current_cpu());
	CHECK((uintptr_t)p - f->arena_base < f->arena_size);
	CHECK(f->possible_bits == pcpu_cpu_possible_mask()->bits);
	CHECK(f->online_bits == pcpu_cpu_online_mask()->bits);
	CHECK_EQ(f->counter_batch, 0); /* not computed before it is asked for */
	batch = pcpu_counter_batch();
	CHECK_EQ(f->counter_batch, (uintptr_t)batch);
	pcpu_free(p);
	return tu_failures != 0;
}

int main(int argc, char **argv)
{
	return tu_run_modes(argc, argv, run);
}
