/* SPDX-License-Identifier: MIT */
/* test_alloc_mt.c - multi-threaded alloc/free stress: threads allocate, write a pattern
 * naming the thread, the allocation and the CPU into every CPU's copy, hand some
 * allocations to a neighbour thread to free, and check every byte before freeing.
 * Afterwards the counters must balance exactly and every map verify. */
#include <pthread.h>
#include <string.h>

#include "alloc_state.h"
#include "testutil.h"

#define THREADS 4
#define POOL 256

struct obj {
	unsigned char *p;
	uint32_t size;
	uint32_t stamp;
};

/* a one-slot mailbox per thread for cross-thread frees */
static struct obj mailbox[THREADS];
static pthread_mutex_t mailbox_lock[THREADS];
static long iterations;
static unsigned long allocs[THREADS], frees[THREADS], bad[THREADS];

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	struct obj pool[POOL] = { { 0 } };
	uint64_t rng = 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1);

	for (long it = 0; it < iterations; it++) {
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		struct obj *o = &pool[rng % POOL];

		if (o->p) {
			if (!tu_intact(o->p, o->size, o->stamp))
				bad[id]++;
			if ((rng >> 20) % 4 == 0) {
				/* hand it to the next thread, free what was there */
				int to = (id + 1) % THREADS;
				struct obj old;
				pthread_mutex_lock(&mailbox_lock[to]);
				old = mailbox[to];
				mailbox[to] = *o;
				pthread_mutex_unlock(&mailbox_lock[to]);
				if (old.p) {
					if (!tu_intact(old.p, old.size, old.stamp))
						bad[id]++;
					pcpu_free(old.p);
					frees[id]++;
				}
			} else {
				pcpu_free(o->p);
				frees[id]++;
			}
			o->p = NULL;
		} else {
			size_t size = (rng >> 32) % 16 == 0 ? 1 + (rng >> 40) % 4096 : 1 + (rng >> 40) % 96;
			size_t align = (size_t)1 << ((rng >> 50) % 7);
			o->p = pcpu_alloc(size, align);
			if (!o->p || (uintptr_t)o->p % (align < 4 ? 4 : align)) {
				bad[id]++;
				o->p = NULL;
				continue;
			}
			allocs[id]++;
			o->size = (uint32_t)size;
			o->stamp = (uint32_t)(rng >> 16) ^ (uint32_t)id << 28;
			tu_fill(o->p, o->size, o->stamp);
		}
	}
	for (int i = 0; i < POOL; i++)
		if (pool[i].p) {
			if (!tu_intact(pool[i].p, pool[i].size, pool[i].stamp))
				bad[id]++;
			pcpu_free(pool[i].p);
			frees[id]++;
		}
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	unsigned long a = 0, f = 0, b = 0;
	struct pcpu_stats before, after;

	iterations = tu_scaled(300000);
	CHECK_EQ(pcpu_init(), 0);
	pcpu_get_stats(&before);
	for (int i = 0; i < THREADS; i++)
		pthread_mutex_init(&mailbox_lock[i], NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < THREADS; i++) {
		if (mailbox[i].p) {
			CHECK(tu_intact(mailbox[i].p, mailbox[i].size, mailbox[i].stamp));
			pcpu_free(mailbox[i].p);
			f++;
		}
		a += allocs[i];
		f += frees[i];
		b += bad[i];
	}
	CHECK_EQ(b, 0);
	CHECK_EQ(a, f);
	pcpu_get_stats(&after);
	CHECK_EQ(after.nr_alloc - before.nr_alloc, a);
	CHECK_EQ(after.nr_dealloc - before.nr_dealloc, f);
	CHECK_EQ(after.nr_cur_alloc, before.nr_cur_alloc);
	for (int i = 0; i < _pcpu_alloc.max_chunks; i++) {
		char err[256];
		if (_pcpu_alloc.chunks[i] && _pcpu_chunk_map_verify(&_pcpu_alloc.chunks[i]->map, err, sizeof(err))) {
			fprintf(stderr, "chunk %d: %s\n", i, err);
			CHECK(0);
		}
	}
	fprintf(stderr, "%lu allocations, %lu frees over %d threads\n", a, f, THREADS);
	TEST_DONE();
}
