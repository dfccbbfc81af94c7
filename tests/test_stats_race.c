/* SPDX-License-Identifier: MIT */
/* test_stats_race.c - pcpu_get_stats() while other threads allocate, free and balance:
 * no data race (the TSan build of make check reports one as a failure), every snapshot
 * self-consistent, and exact totals once the workers are done.  In every CPU-source
 * mode. */
#include <pthread.h>
#include <string.h>

#include "percpu.h"
#include "testutil.h"

#define NR_WORKERS 2
#define LIVE 64

struct worker {
	pthread_t thread;
	uint64_t seed;
	long rounds;
	uint64_t allocs, frees; /* successful ones, counted by the worker */
};

static int stop_reader;
static int reader_ready; /* the reader has taken a snapshot: the workers may start */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	void *live[LIVE] = { 0 };
	uint64_t rng = w->seed;

	/* start only once the reader reads, so that its snapshots overlap the work even
	 * when a loaded machine runs the reader late */
	while (!__atomic_load_n(&reader_ready, __ATOMIC_ACQUIRE))
		sched_yield();

	for (long r = 0; r < w->rounds; r++) {
		unsigned int i;

		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		i = (unsigned int)(rng >> 33) % LIVE;
		if (live[i]) {
			pcpu_free(live[i]);
			live[i] = NULL;
			w->frees++;
		} else {
			/* up to the largest size: new pages, and now and then a new chunk */
			size_t size = 1 + (size_t)((rng >> 13) % PCPU_MAX_ALLOC_SIZE);

			live[i] = pcpu_alloc(size, 8);
			CHECK(live[i] != NULL);
			if (live[i]) {
				*(char *)pcpu_this_ptr(live[i]) = 1;
				w->allocs++;
			}
		}
		if ((rng >> 40) % 16 == 0)
			pcpu_balance(); /* populates and depopulates without an allocation */
	}
	for (int i = 0; i < LIVE; i++) {
		if (live[i]) {
			pcpu_free(live[i]);
			w->frees++;
		}
	}
	return NULL;
}

/* One snapshot must hold together, and the monotonic counts never go back. */
static void check_snapshot(const struct pcpu_stats *st, const struct pcpu_stats *prev)
{
	CHECK_EQ(st->nr_cur_alloc, st->nr_alloc - st->nr_dealloc);
	CHECK(st->nr_cur_alloc <= st->nr_max_alloc);
	CHECK(st->nr_empty_pop_pages <= st->nr_populated_pages);
	CHECK(st->nr_chunks >= 1 && st->nr_chunks <= st->nr_max_chunks);
	CHECK(st->nr_max_chunks <= st->max_chunks);
	CHECK(st->free_bytes <= (size_t)st->nr_chunks * st->unit_size);
	CHECK(st->nr_populated_pages <= (size_t)st->nr_chunks * (st->unit_size / 4096));
	CHECK(st->nr_alloc >= prev->nr_alloc);
	CHECK(st->nr_dealloc >= prev->nr_dealloc);
	CHECK(st->nr_max_alloc >= prev->nr_max_alloc);
	CHECK(st->nr_max_chunks >= prev->nr_max_chunks);
	CHECK(st->nr_populate_calls >= prev->nr_populate_calls);
	CHECK(st->nr_depopulate_calls >= prev->nr_depopulate_calls);
	CHECK(st->nr_alloc_failed == prev->nr_alloc_failed);
}

static void *reader_main(void *arg)
{
	struct pcpu_stats prev, st;
	long *reads = arg;

	CHECK_EQ(pcpu_get_stats(&prev), 0);
	while (!__atomic_load_n(&stop_reader, __ATOMIC_ACQUIRE)) {
		CHECK_EQ(pcpu_get_stats(&st), 0);
		check_snapshot(&st, &prev);
		prev = st;
		++*reads;
		__atomic_store_n(&reader_ready, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static int run(const char *want)
{
	struct worker w[NR_WORKERS];
	struct pcpu_stats before, after;
	pthread_t reader;
	long reads = 0;
	uint64_t allocs = 0, frees = 0;

	CHECK_EQ(pcpu_init(), 0);
	CHECK(tu_source_is(want));
	CHECK_EQ(pcpu_get_stats(&before), 0);
	CHECK_EQ(pthread_create(&reader, NULL, reader_main, &reads), 0);
	for (int i = 0; i < NR_WORKERS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].seed = tu_rand();
		w[i].rounds = tu_scaled(20000);
		CHECK_EQ(pthread_create(&w[i].thread, NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < NR_WORKERS; i++) {
		pthread_join(w[i].thread, NULL);
		allocs += w[i].allocs;
		frees += w[i].frees;
	}
	__atomic_store_n(&stop_reader, 1, __ATOMIC_RELEASE);
	pthread_join(reader, NULL);

	/* quiescence: exact totals */
	pcpu_balance();
	CHECK_EQ(pcpu_get_stats(&after), 0);
	check_snapshot(&after, &before);
	CHECK_EQ(allocs, frees);
	CHECK_EQ(after.nr_alloc - before.nr_alloc, allocs);
	CHECK_EQ(after.nr_dealloc - before.nr_dealloc, frees);
	CHECK_EQ(after.nr_cur_alloc, before.nr_cur_alloc);
	CHECK(after.nr_populate_calls > before.nr_populate_calls);
	CHECK(after.nr_depopulate_calls > before.nr_depopulate_calls);
	CHECK(reads > 0);
	fprintf(stderr, "%s: %llu allocations, %ld stats reads, %llu populate calls\n",
		pcpu_cpu_source(), (unsigned long long)allocs, reads,
		(unsigned long long)(after.nr_populate_calls - before.nr_populate_calls));
	return tu_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	tu_seed("test_stats_race");
	return tu_run_modes(argc, argv, run);
}
