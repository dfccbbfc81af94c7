/* SPDX-License-Identifier: MIT */
/* bench_chunk.c - the bitmap allocator of one chunk (src/chunk.c), alone: ns per
 * allocation while filling a 256-page chunk with 64-byte areas from the front, then ns
 * per allocation + free of 64-byte areas with the chunk kept about half full at random.
 * The maps are verified against a full recount at the end (exit status 1 if wrong).
 * Rows of bench.h's table, against 64-byte malloc + free pairs.
 * Usage: bench_chunk [ITERATIONS]   (default 2,000,000; PCPU_TEST_SEED repeats a run) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "chunk.h"
#include "testutil.h"
#include "bench.h"

#define PAGES 256
#define AREA 64
#define BENCH_PAGE 4096 /* the usual page: blocks of 1024 bits */

static int area_alloc(struct pcpu_chunk_map *m)
{
	int bits = AREA / PCPU_MIN_ALLOC_SIZE, start = _pcpu_chunk_find_fit(m, bits, 4, false);

	return start < 0 ? -1 : _pcpu_chunk_alloc_area(m, bits, 4, start);
}

int main(int argc, char **argv)
{
	struct pcpu_chunk_map m;
	long iters = argc > 1 ? atol(argv[1]) : 2000000;
	int nr = PAGES * BENCH_PAGE / AREA, n = 0, off, *live = malloc((size_t)nr * sizeof(int));
	double t0, t_fill, t_pairs;
	char err[256];

	tu_seed("bench_chunk");
	if (!live || iters <= 0 || _pcpu_chunk_map_init(&m, PAGES * BENCH_PAGE, BENCH_PAGE, 0, 0)) {
		fprintf(stderr, "bench_chunk: cannot set up\n");
		return 1;
	}
	t0 = bench_now_ns();
	while ((off = area_alloc(&m)) >= 0)
		live[n++] = off;
	t_fill = (bench_now_ns() - t0) / n;
	for (int i = 0; i < nr / 2; i++) {
		int j = (int)(tu_rand() % (uint64_t)n);

		_pcpu_chunk_free_area(&m, live[j]);
		live[j] = live[--n];
	}

	t0 = bench_now_ns();
	for (long i = 0; i < iters; i++) {
		int j = (int)(tu_rand() % (uint64_t)n);

		off = area_alloc(&m);
		if (off < 0 || _pcpu_chunk_free_area(&m, live[j]) != AREA) {
			fprintf(stderr, "bench_chunk: allocation or free failed at %ld\n", i);
			return 1;
		}
		live[j] = off;
	}
	t_pairs = (bench_now_ns() - t0) / (double)iters;
	if (_pcpu_chunk_map_verify(&m, err, sizeof(err))) {
		fprintf(stderr, "bench_chunk: maps inconsistent: %s\n", err);
		return 1;
	}
	/* the baseline: the same pairs from glibc malloc, a few live objects apart */
	void *keep[64] = { 0 };
	t0 = bench_now_ns();
	for (long i = 0; i < iters; i++) {
		int j = (int)(tu_rand() % 64);

		free(keep[j]);
		keep[j] = malloc(AREA);
	}
	double t_malloc = (bench_now_ns() - t0) / (double)iters;
	for (int j = 0; j < 64; j++)
		free(keep[j]);
	bench_header();
	bench_row("chunk bitmap: fill a 256-page chunk with 64 B areas, ns", t_fill, "ns",
		  "glibc malloc+free", t_malloc);
	bench_row("chunk bitmap: 64 B alloc+free at ~50% random fill, ns", t_pairs, "ns",
		  "glibc malloc+free", t_malloc);
	_pcpu_chunk_map_destroy(&m);
	free(live);
	return 0;
}
