/* SPDX-License-Identifier: MIT */
/* test_alloc_random.c - the whole allocator against a reference model: random sizes,
 * alignments, frees and bursts on a simulated two-node topology (so that groups and
 * padding units exist), checking for every allocation: alignment, no overlap with any
 * live allocation, zero fill in every CPU's copy, and that every byte written to every
 * copy survives until it is freed.  Maps are verified against a full scan throughout
 * (_pcpu_alloc.debug, as LIBPERCPU_DEBUG sets it) for the first part of the run and every
 * 5000 operations after, slots and counters with them. */
#include <errno.h>
#include <string.h>

#include "alloc_state.h"
#include "testutil.h"

struct live {
	unsigned char *p;
	size_t size;
	unsigned char tag;
};

static struct live *lives;
static size_t nr_live;

static int cmp_live(const void *a, const void *b)
{
	const struct live *x = a, *y = b;
	return x->p < y->p ? -1 : x->p > y->p;
}

static size_t random_size(void)
{
	switch (tu_rand() % 8) {
	case 0:
		return 1 + tu_rand() % PCPU_MAX_ALLOC_SIZE;
	case 1:
	case 2:
		return 1 + tu_rand() % 1024;
	default:
		return 1 + tu_rand() % 64;
	}
}

static void check_no_overlap(void)
{
	qsort(lives, nr_live, sizeof(*lives), cmp_live);
	for (size_t i = 1; i < nr_live; i++)
		CHECK(lives[i - 1].p + lives[i - 1].size <= lives[i].p);
}

static void check_global_state(void)
{
	int nr_chunks = 0, empty = 0, on_lists = 0;

	for (int i = 0; i < _pcpu_alloc.max_chunks; i++) {
		struct pcpu_chunk *c = _pcpu_alloc.chunks[i];
		char err[256];

		if (!c)
			continue;
		nr_chunks++;
		if (_pcpu_chunk_map_verify(&c->map, err, sizeof(err))) {
			fprintf(stderr, "chunk %d: %s\n", i, err);
			CHECK(0);
		}
		if (!c->isolated)
			empty += c->map.nr_empty_pop_pages;
	}
	CHECK_EQ(nr_chunks, _pcpu_alloc.nr_chunks);
	CHECK_EQ(empty, _pcpu_alloc.nr_empty_pop_pages);
	/* every chunk is on exactly one list, and non-isolated chunks on the slot their
	 * largest free area calls for (or slot 0, where failed scans park them) */
	for (int s = 0; s < _pcpu_alloc.nr_slots; s++)
		for (struct pcpu_list *l = _pcpu_alloc.slots[s].next; l != &_pcpu_alloc.slots[s]; l = l->next) {
			struct pcpu_chunk *c = (struct pcpu_chunk *)l;
			on_lists++;
			if (c->isolated) {
				CHECK(s == _pcpu_alloc.to_depopulate_slot || s == _pcpu_alloc.sidelined_slot);
				continue;
			}
			int want = 0;
			if (c->map.free_bytes >= PCPU_MIN_ALLOC_SIZE && c->map.chunk_md.contig_hint) {
				size_t bytes = (size_t)c->map.chunk_md.contig_hint * PCPU_MIN_ALLOC_SIZE;
				if (bytes == _pcpu_geo->unit_size) {
					want = _pcpu_alloc.free_slot;
				} else {
					want = (int)(sizeof(long) * 8) - __builtin_clzl(bytes) -
					       PCPU_SLOT_BASE_SHIFT + 2;
					if (want < 1)
						want = 1;
				}
			}
			CHECK(s == want || s == 0);
		}
	CHECK_EQ(on_lists, nr_chunks);
}

int main(void)
{
	long ops = tu_scaled(200000);
	unsigned char tag = 0;

	tu_seed("test_alloc_random");
	/* CPUs 0-1 are this machine's; 2-6 are simulated.  Two nodes: two groups. */
	setenv("LIBPERCPU_TOPOLOGY", "0,2-3;1,4-6", 1);
	CHECK_EQ(pcpu_init(), 0);
	CHECK_EQ(pcpu_num_possible_cpus(), 7);
	CHECK_EQ(_pcpu_geo->ai->nr_groups, 2);
	lives = calloc((size_t)ops + 1, sizeof(*lives));

	for (long op = 0; op < ops; op++) {
		/* every map verified after every change, for a while: it is slow */
		_pcpu_alloc.debug = op < tu_scaled(20000);
		bool do_alloc = nr_live == 0 || tu_rand() % 100 < (op % 20000 < 12000 ? 60 : 35);

		if (do_alloc) {
			size_t size = random_size();
			size_t align = (size_t)1 << (tu_rand() % 13);
			struct live *l = &lives[nr_live];
			unsigned int cpu;

			l->p = pcpu_alloc(size, align);
			if (!l->p) {
				fprintf(stderr, "alloc(%zu, %zu): %s\n", size, align, strerror(errno));
				CHECK(0);
				continue;
			}
			CHECK_EQ((uintptr_t)l->p % (align < 4 ? 4 : align), 0);
			pcpu_for_each_possible_cpu(cpu) {
				const unsigned char *q = pcpu_ptr(l->p, cpu);
				for (size_t i = 0; i < size; i++)
					if (q[i]) {
						CHECK(!"allocation not zero-filled");
						break;
					}
			}
			l->size = size;
			l->tag = tag++;
			tu_fill(l->p, l->size, l->tag);
			nr_live++;
		} else {
			size_t i = tu_rand() % nr_live;
			CHECK(tu_intact(lives[i].p, lives[i].size, lives[i].tag));
			pcpu_free(lives[i].p);
			lives[i] = lives[--nr_live];
		}
		if (op % 5000 == 0) {
			check_no_overlap();
			check_global_state();
		}
	}
	check_no_overlap();
	for (size_t i = 0; i < nr_live; i++) {
		CHECK(tu_intact(lives[i].p, lives[i].size, lives[i].tag));
		pcpu_free(lives[i].p);
	}
	nr_live = 0;
	pcpu_balance();
	check_global_state();
	struct pcpu_stats st;
	pcpu_get_stats(&st);
	CHECK_EQ(st.nr_cur_alloc, 0);
	CHECK(st.nr_chunks <= 2);
	CHECK(st.nr_empty_pop_pages >= PCPU_EMPTY_POP_PAGES_LOW);
	free(lives);
	TEST_DONE();
}
