/* SPDX-License-Identifier: MIT */
/* test_alloc_policy.c - the allocator's memory policy, step by step: an entirely free
 * chunk is reused before a new one is made; exactly one spare free chunk is kept; a
 * chunk gives its empty pages back exactly when it is a quarter empty and the pool
 * elsewhere is above PCPU_EMPTY_POP_PAGES_HIGH, then in batches of PCPU_RECLAIM_BATCH;
 * page 0 goes back like any other; a failed population leaves nothing resident on any
 * unit; the first chunk is populated whole; frees at the static/reserved and
 * reserved/dynamic boundaries find the right chunk.  After every step, what the maps
 * say is populated must be what mincore() finds resident, unit by unit. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc_state.h"
#include "vm.h"
#include "testutil.h"

/* ---- a backend that counts chunks made and destroyed, and fails populate on demand ---- */
static long nr_reserve, nr_release, nr_populate;
static int fail_populate_at; /* > 0: the populate call with this count fails */

static void *counting_reserve(size_t size, size_t align)
{
	nr_reserve++;
	return _pcpu_vm_os.reserve(size, align);
}

static void counting_release(void *addr, size_t size)
{
	nr_release++;
	_pcpu_vm_os.release(addr, size);
}

static int counting_populate(void *addr, size_t size)
{
	if (fail_populate_at && ++nr_populate == fail_populate_at) {
		errno = ENOMEM;
		return -1;
	}
	return _pcpu_vm_os.populate(addr, size);
}

static struct pcpu_vm_ops counting_vm;

/* ---- helpers ---------------------------------------------------------------------- */

static int chunk_index(const void *p)
{
	return (int)(((const char *)p - _pcpu_geo->arena) / (ptrdiff_t)_pcpu_geo->chunk_bytes);
}

static bool map_populated(const struct pcpu_chunk_map *m, int page)
{
	return (m->populated[page / (8 * sizeof(long))] >> (page % (8 * sizeof(long)))) & 1;
}

/* Populated in the map <=> resident in every used unit, for every page of every chunk
 * (the first chunk's dynamic map included).  Returns the number of mismatches. */
static int residency_mismatches(const char *when)
{
	/* mincore() counts system pages: an allocator page is per_page of them */
	size_t sys_page = (size_t)sysconf(_SC_PAGESIZE), per_page = _pcpu_geo->page_size / sys_page;
	unsigned char *vec = malloc(_pcpu_geo->unit_size / sys_page + 1);
	bool exact = tu_populate_makes_resident();
	int mismatches = 0;

	for (int i = 0; i < _pcpu_alloc.max_chunks && i < _pcpu_alloc.chunk_hwm; i++) {
		struct pcpu_chunk *c = _pcpu_alloc.chunks[i];

		if (!c)
			continue;
		for (int u = 0; u < _pcpu_geo->nr_used; u++) {
			size_t bytes = (size_t)c->map.nr_pages * _pcpu_geo->page_size;

			CHECK_EQ(mincore(c->base + _pcpu_geo->used_unit_base[u], bytes, vec), 0);
			for (size_t sp = 0; sp < bytes / sys_page; sp++) {
				int pg = (int)(sp / per_page);

				if (map_populated(&c->map, pg) != (vec[sp] & 1) &&
				    (exact || !map_populated(&c->map, pg))) {
					if (mismatches < 5)
						fprintf(stderr, "%s: chunk %d unit %d page %d: map says "
							"%spopulated, mincore %sresident\n", when, i,
							u, pg, map_populated(&c->map, pg) ? "" : "not ",
							vec[sp] & 1 ? "" : "not ");
					mismatches++;
				}
			}
		}
	}
	free(vec);
	return mismatches;
}

/* The statistics count every chunk's populated pages and free bytes (summed here over
 * every arena slot, not only up to the high-water mark the library keeps). */
static void check_stats_cover_chunks(const char *when)
{
	struct pcpu_stats st;
	size_t pop = 0, free_bytes = 0;

	for (int i = 0; i < _pcpu_alloc.max_chunks; i++) {
		if (_pcpu_alloc.chunks[i]) {
			pop += (size_t)_pcpu_alloc.chunks[i]->map.nr_populated;
			free_bytes += (size_t)_pcpu_alloc.chunks[i]->map.free_bytes;
		}
	}
	CHECK_EQ(pcpu_get_stats(&st), 0);
	if (st.nr_populated_pages != pop || st.free_bytes != free_bytes)
		fprintf(stderr, "%s: stats say %zu populated pages, %zu free bytes; the chunks "
			"%zu and %zu\n", when, st.nr_populated_pages, st.free_bytes, pop, free_bytes);
	CHECK_EQ(st.nr_populated_pages, pop);
	CHECK_EQ(st.free_bytes, free_bytes);
}

#define CHECK_RESIDENCY(when)                                                        \
	do {                                                                         \
		CHECK_EQ(residency_mismatches(when), 0);                             \
		check_stats_cover_chunks(when);                                      \
	} while (0)

static bool list_empty_slot(int slot)
{
	return _pcpu_alloc.slots[slot].next == &_pcpu_alloc.slots[slot];
}

static int free_chunks(void)
{
	int n = 0;

	for (int i = 1; i < _pcpu_alloc.chunk_hwm; i++)
		if (_pcpu_alloc.chunks[i] && _pcpu_alloc.chunks[i]->map.free_bytes == (int)_pcpu_geo->unit_size)
			n++;
	return n;
}

/* Every dynamic chunk with free space serves allocations: on a slot list, not set
 * aside (nothing has been reclaimed while chunks are only being filled). */
static void check_all_listed(const char *when)
{
	for (int i = 1; i < _pcpu_alloc.chunk_hwm; i++) {
		struct pcpu_chunk *c = _pcpu_alloc.chunks[i];

		if (c && (c->isolated || c->slot < 0 || c->slot > _pcpu_alloc.free_slot)) {
			fprintf(stderr, "%s: chunk %d is off the slot lists\n", when, i);
			CHECK(!"a chunk with free space is set aside");
		}
	}
}

/* Allocates page-sized, page-aligned areas until @n of them lie in one dynamic chunk
 * that none of the areas in @others use; areas elsewhere go to *@fill (kept).  Returns
 * the chunk's index; @objs[k] is the area at page k. */
static int fill_new_chunk(void **objs, int n, void **fill, int *nr_fill)
{
	int idx = -1, got = 0;

	memset(objs, 0, (size_t)n * sizeof(*objs));
	while (got < n) {
		void *p = pcpu_alloc(_pcpu_geo->page_size, _pcpu_geo->page_size);
		int at;

		if (!p) {
			CHECK(!"allocation failed");
			return idx;
		}
		at = chunk_index(p);
		if (idx < 0 && at != 0 && _pcpu_alloc.chunks[at]->map.free_bytes ==
						    (int)_pcpu_geo->unit_size - (int)_pcpu_geo->page_size)
			idx = at; /* the first area in a chunk that was entirely free */
		if (at == idx) {
			int page = (int)(((char *)p - _pcpu_alloc.chunks[at]->base) / _pcpu_geo->page_size);
			CHECK(objs[page] == NULL);
			objs[page] = p;
			got++;
		} else {
			fill[(*nr_fill)++] = p;
		}
		check_all_listed("filling");
	}
	return idx;
}

/* ---- reuse and the spare chunk ---------------------------------------------------- */

static void test_reuse_and_spare(void)
{
	int pages = _pcpu_geo->unit_pages, nr_fill = 0, a, b;
	void **objs_a = calloc((size_t)pages, sizeof(void *));
	void **objs_b = calloc((size_t)pages, sizeof(void *));
	void **fill = calloc(4096, sizeof(void *));
	long made, destroyed;

	/* two chunks full of page-sized areas; every area of A goes into A: a chunk with
	 * room serves before a new one is made */
	a = fill_new_chunk(objs_a, pages, fill, &nr_fill);
	b = fill_new_chunk(objs_b, pages, fill, &nr_fill);
	CHECK(a > 0 && b > 0 && a != b);
	CHECK_RESIDENCY("two chunks filled");

	/* free both: the free path runs the balance work itself, which keeps exactly one
	 * entirely free chunk and destroys the rest, making none */
	made = nr_reserve;
	destroyed = nr_release;
	for (int i = 0; i < pages; i++)
		pcpu_free(objs_a[i]);
	/* A is entirely free now, and so is the chunk the balance work made to keep
	 * empty pages in reserve when B filled up: one of the two goes */
	CHECK_EQ(free_chunks(), 1);
	for (int i = 0; i < pages; i++)
		pcpu_free(objs_b[i]);
	CHECK_EQ(free_chunks(), 1);
	CHECK_EQ(nr_reserve, made);
	CHECK(nr_release > destroyed);
	CHECK_RESIDENCY("both freed");
	pcpu_balance();
	CHECK_EQ(free_chunks(), 1);
	CHECK_EQ(nr_reserve, made);
	CHECK_RESIDENCY("balanced");

	/* the spare is reused: a chunk-sized run of allocations fills it, no chunk made */
	int spare = -1;
	for (int i = 1; i < _pcpu_alloc.chunk_hwm; i++)
		if (_pcpu_alloc.chunks[i] && _pcpu_alloc.chunks[i]->map.free_bytes == (int)_pcpu_geo->unit_size)
			spare = i;
	CHECK(spare > 0);
	made = nr_reserve;
	for (int i = 0; i < pages; i++) {
		objs_a[i] = pcpu_alloc(_pcpu_geo->page_size, _pcpu_geo->page_size);
		CHECK(objs_a[i] != NULL);
	}
	int in_spare = 0;
	for (int i = 0; i < pages; i++)
		in_spare += chunk_index(objs_a[i]) == spare;
	fprintf(stderr, "reuse: %d of %d page areas went to the spare chunk %d\n", in_spare,
		pages, spare);
	CHECK_EQ(in_spare, pages);
	CHECK_RESIDENCY("spare refilled");
	for (int i = 0; i < pages; i++)
		pcpu_free(objs_a[i]);
	for (int i = 0; i < nr_fill; i++)
		pcpu_free(fill[i]);
	pcpu_balance();
	CHECK_EQ(free_chunks(), 1);
	CHECK_RESIDENCY("all freed");
	free(objs_a);
	free(objs_b);
	free(fill);
}

/* ---- reclaim: the quarter, the pool above HIGH, the batches, page 0 --------------- */

static int pool_without(const struct pcpu_chunk *c)
{
	return _pcpu_alloc.nr_empty_pop_pages - (c->isolated ? 0 : c->map.nr_empty_pop_pages);
}

/* Frees one area of @objs (the first still live), or does nothing. */
static void free_one(void **objs, int n)
{
	for (int k = 0; k < n; k++) {
		if (objs[k]) {
			pcpu_free(objs[k]);
			objs[k] = NULL;
			return;
		}
	}
	CHECK(!"no area left to free");
}

/* Brings the pool outside @c to exactly @want empty pages: frees areas of @objs, or
 * takes populated pages with atomic allocations (kept in @fill). */
static void set_pool(const struct pcpu_chunk *c, int want, void **objs, int n, void **fill,
		     int *nr_fill)
{
	while (pool_without(c) < want)
		free_one(objs, n);
	while (pool_without(c) > want) {
		void *p = pcpu_alloc_gfp(_pcpu_geo->page_size, _pcpu_geo->page_size, PCPU_GFP_ATOMIC);
		CHECK(p != NULL);
		if (!p)
			break;
		fill[(*nr_fill)++] = p;
	}
	CHECK_EQ(pool_without(c), want);
}

static void test_reclaim_boundaries(void)
{
	int pages = _pcpu_geo->unit_pages, nr_fill = 0, a, b, c, quarter = pages / 4, freed = 0;
	void **objs_a = calloc((size_t)pages, sizeof(void *));
	void **objs_b = calloc((size_t)pages, sizeof(void *));
	void **objs_c = calloc((size_t)pages, sizeof(void *));
	void **fill = calloc(4096, sizeof(void *));
	struct pcpu_chunk *cb, *cc;

	a = fill_new_chunk(objs_a, pages, fill, &nr_fill);
	b = fill_new_chunk(objs_b, pages, fill, &nr_fill);
	c = fill_new_chunk(objs_c, pages, fill, &nr_fill);
	CHECK(a > 0 && b > 0 && c > 0 && a != b && b != c && a != c);
	cb = _pcpu_alloc.chunks[b];
	cc = _pcpu_alloc.chunks[c];
	CHECK_EQ(cb->map.nr_populated, pages);
	CHECK_EQ(cc->map.nr_populated, pages);
	/* the balance work keeps the pool topped up to HIGH */
	pcpu_balance();
	CHECK(_pcpu_alloc.nr_empty_pop_pages >= PCPU_EMPTY_POP_PAGES_HIGH);

	/* The quarter: with the pool above HIGH, C keeps its empty pages until a quarter
	 * of it is empty; that free gives them all back, page 0 with them. */
	set_pool(cc, PCPU_EMPTY_POP_PAGES_HIGH + 1, objs_a, pages, fill, &nr_fill);
	for (int i = 0; i < quarter - 1; i++)
		pcpu_free(objs_c[i]);
	CHECK_EQ(cc->map.nr_populated, pages);
	CHECK(!cc->isolated);
	pcpu_free(objs_c[quarter - 1]);
	CHECK_EQ(cc->map.nr_populated, pages - quarter);
	CHECK(!map_populated(&cc->map, 0));
	CHECK_RESIDENCY("C a quarter empty");

	/* The pool: B a quarter empty and more, with the pool elsewhere at HIGH but not
	 * above: kept.  One more empty page elsewhere, and B's next free reclaims. */
	set_pool(cb, PCPU_EMPTY_POP_PAGES_HIGH, objs_a, pages, fill, &nr_fill);
	for (; freed < quarter + 8; freed++)
		pcpu_free(objs_b[freed]);
	CHECK_EQ(pool_without(cb), PCPU_EMPTY_POP_PAGES_HIGH);
	CHECK_EQ(cb->map.nr_populated, pages);
	CHECK(!cb->isolated);
	CHECK_RESIDENCY("pool at HIGH");
	free_one(objs_a, pages);
	CHECK_EQ(pool_without(cb), PCPU_EMPTY_POP_PAGES_HIGH + 1);
	CHECK_EQ(cb->map.nr_populated, pages);
	pcpu_free(objs_b[freed++]);
	CHECK_EQ(cb->map.nr_populated, pages - freed);
	CHECK(!map_populated(&cb->map, 0));
	CHECK_RESIDENCY("B reclaimed");

	/* Isolated now: each further free waits until PCPU_RECLAIM_BATCH pages are empty.
	 * With no empty page elsewhere, the reclaim stops where B's remaining empty pages
	 * just make up the pool (PCPU_EMPTY_POP_PAGES_HIGH of them): B goes back to the
	 * slots with those.  Empty pages: 4 (kept), one in use, 12 (given back). */
	for (int i = 0; i < freed; i++)
		objs_b[i] = NULL;
	set_pool(cb, 0, objs_a, pages, fill, &nr_fill);
	int pop = cb->map.nr_populated, keep = freed + PCPU_EMPTY_POP_PAGES_HIGH;
	CHECK(cb->isolated);
	for (int i = freed; i < keep + PCPU_RECLAIM_BATCH - PCPU_EMPTY_POP_PAGES_HIGH; i++) {
		if (i != keep) {
			pcpu_free(objs_b[i]);
			objs_b[i] = NULL;
		}
	}
	CHECK_EQ(cb->map.nr_populated, pop);
	CHECK_EQ(cb->map.nr_empty_pop_pages, PCPU_RECLAIM_BATCH - 1);
	freed = keep + PCPU_RECLAIM_BATCH - PCPU_EMPTY_POP_PAGES_HIGH;
	pcpu_free(objs_b[freed]);
	objs_b[freed++] = NULL;
	CHECK_EQ(cb->map.nr_populated, pop - (PCPU_RECLAIM_BATCH - PCPU_EMPTY_POP_PAGES_HIGH));
	CHECK_EQ(cb->map.nr_empty_pop_pages, PCPU_EMPTY_POP_PAGES_HIGH);
	CHECK(!cb->isolated);
	CHECK_EQ(_pcpu_alloc.nr_empty_pop_pages, PCPU_EMPTY_POP_PAGES_HIGH);
	CHECK_RESIDENCY("B batch");

	/* everything of B and C freed: an entirely free chunk is not left aside */
	for (int i = 0; i < pages; i++)
		if (objs_b[i])
			pcpu_free(objs_b[i]);
	for (int i = quarter; i < pages; i++)
		pcpu_free(objs_c[i]);
	pcpu_balance();
	CHECK(list_empty_slot(_pcpu_alloc.sidelined_slot));
	CHECK(list_empty_slot(_pcpu_alloc.to_depopulate_slot));
	CHECK_EQ(free_chunks(), 1);
	CHECK_RESIDENCY("B and C freed");

	for (int i = 0; i < pages; i++)
		if (objs_a[i])
			pcpu_free(objs_a[i]);
	for (int i = 0; i < nr_fill; i++)
		pcpu_free(fill[i]);
	pcpu_balance();
	CHECK_RESIDENCY("all freed");
	free(objs_a);
	free(objs_b);
	free(objs_c);
	free(fill);
}

/* ---- random areas: residency, zeroed copies, the pool, the statistics ------------- */

static void test_random(long n)
{
	struct pcpu_stats st;
	void **live = calloc((size_t)n, sizeof(void *));
	size_t *size = calloc((size_t)n, sizeof(size_t));
	unsigned long max_alloc, cur0;
	long nr_live = 0, peak = 0;

	pcpu_get_stats(&st);
	max_alloc = st.nr_max_alloc;
	cur0 = st.nr_cur_alloc;
	for (long i = 0; i < n; i++) {
		bool atomic = tu_rand() % 8 == 0;
		size_t align = (size_t)4 << (tu_rand() % 11);
		size_t bytes = 1 + tu_rand() % (tu_rand() % 4 ? 512 : PCPU_MAX_ALLOC_SIZE);
		unsigned int cpu;
		void *p;

		if (nr_live && tu_rand() % 3 == 0) { /* free a random one */
			long k = (long)(tu_rand() % (uint64_t)nr_live);
			pcpu_for_each_possible_cpu(cpu)
				memset(pcpu_ptr(live[k], cpu), 0xa5, size[k]);
			pcpu_free(live[k]);
			live[k] = live[--nr_live];
			size[k] = size[nr_live];
			continue;
		}
		p = atomic ? pcpu_alloc_gfp(bytes, align, PCPU_GFP_ATOMIC) : pcpu_alloc(bytes, align);
		if (!p) {
			CHECK(atomic);
			continue;
		}
		CHECK_EQ((uintptr_t)p % align, 0);
		/* every copy zeroed, though the place may have held another area */
		pcpu_for_each_possible_cpu(cpu) {
			const unsigned char *q = pcpu_ptr(p, cpu);
			size_t nz = 0;
			for (size_t j = 0; j < bytes; j++)
				nz += q[j] != 0;
			CHECK_EQ(nz, 0);
		}
		/* a blocking allocation tops the pool up when it runs low */
		if (!atomic)
			CHECK(_pcpu_alloc.nr_empty_pop_pages >= PCPU_EMPTY_POP_PAGES_LOW);
		live[nr_live] = p;
		size[nr_live++] = bytes;
		if (nr_live > peak)
			peak = nr_live;
		pcpu_get_stats(&st);
		CHECK_EQ(st.nr_cur_alloc, cur0 + (unsigned long)nr_live);
		CHECK_EQ(st.nr_max_alloc, max_alloc > cur0 + (unsigned long)peak ?
						  max_alloc : cur0 + (unsigned long)peak);
	}
	CHECK_RESIDENCY("random areas live");
	while (nr_live)
		pcpu_free(live[--nr_live]);
	pcpu_balance();
	CHECK_RESIDENCY("random areas freed");
	free(live);
	free(size);
}

/* ---- a failed population leaves nothing behind ------------------------------------- */

static void test_failed_population(void)
{
	struct pcpu_stats before, after;
	int failures = 0;

	/* fail the first, a middle and the last unit's populate call of an allocation that
	 * needs pages populated: whatever was populated before is given back */
	for (int unit = 1; unit <= _pcpu_geo->nr_used; unit++) {
		void *p;

		pcpu_get_stats(&before);
		nr_populate = 0;
		fail_populate_at = unit;
		errno = 0;
		p = pcpu_alloc(PCPU_MAX_ALLOC_SIZE, _pcpu_geo->page_size);
		fail_populate_at = 0;
		if (p) { /* it landed on populated pages: no population to fail */
			CHECK_EQ(nr_populate, 0);
			pcpu_free(p);
			continue;
		}
		failures++;
		CHECK_EQ(errno, ENOMEM);
		pcpu_get_stats(&after);
		CHECK_EQ(after.nr_cur_alloc, before.nr_cur_alloc);
		CHECK_RESIDENCY("failed population");
	}
	/* with bigger pages (LIBPERCPU_PAGE_SIZE=16384) the pool of empty populated pages
	 * can hold every attempt: nothing to fail then */
	CHECK(failures > 0 || _pcpu_geo->page_size > 4096);
	pcpu_balance();
	CHECK_RESIDENCY("after failed populations");
}

/* ---- the first chunk ------------------------------------------------------------- */

static void test_first_chunk(void)
{
	struct pcpu_chunk *fc = _pcpu_alloc.first_chunk;
	unsigned char vec[64];
	size_t bytes = _pcpu_geo->static_size + _pcpu_geo->reserved_size + _pcpu_geo->dyn_size;
	int pages = (int)((bytes + _pcpu_geo->page_size - 1) / _pcpu_geo->page_size);

	/* populated whole at start-up, in the map and in memory */
	CHECK_EQ(fc->map.nr_populated, fc->map.nr_pages);
	if (_pcpu_alloc.reserved_chunk)
		CHECK_EQ(_pcpu_alloc.reserved_chunk->map.nr_populated, _pcpu_alloc.reserved_chunk->map.nr_pages);
	CHECK(pages <= 64);
	for (int u = 0; u < _pcpu_geo->nr_used && pages <= 64; u++) {
		CHECK_EQ(mincore(_pcpu_geo->arena + _pcpu_geo->used_unit_base[u], (size_t)pages * _pcpu_geo->page_size,
				 vec), 0);
		for (int pg = 0; pg < pages && tu_populate_makes_resident(); pg++)
			CHECK(vec[pg] & 1);
	}
	/* so every free byte of its dynamic region is there for atomic allocations */
	void *objs[64 * 1024];
	int n = 0;
	long in_first = 0;
	while (n < (int)(sizeof(objs) / sizeof(objs[0])) && in_first < (long)_pcpu_geo->dyn_size) {
		objs[n] = pcpu_alloc_gfp(4, 4, PCPU_GFP_ATOMIC);
		if (!objs[n])
			break;
		if (chunk_index(objs[n]) == 0)
			in_first += 4;
		n++;
	}
	CHECK_EQ(fc->map.free_bytes, 0);
	while (n > 0)
		pcpu_free(objs[--n]);
}

/* ---- the region boundaries ------------------------------------------------------- */

/* In a fresh process: the first reserved area starts where the static region ends, the
 * first dynamic area where the reserved region ends; both are freed (a wrong chunk
 * aborts with "double free"). */
static void boundaries_child(void)
{
	char *r, *d;

	CHECK_EQ(pcpu_init(), 0);
	CHECK(_pcpu_geo->reserved_size > 0);
	r = _pcpu_alloc_internal(8, 4, true, PCPU_GFP_KERNEL);
	d = pcpu_alloc(8, 4);
	CHECK(r == _pcpu_geo->arena + _pcpu_geo->static_size);
	CHECK(d == _pcpu_geo->arena + _pcpu_geo->static_size + _pcpu_geo->reserved_size);
	_pcpu_free_internal(r, "test", true);
	pcpu_free(d);
	/* both areas are free again: the same places are given out once more */
	CHECK(_pcpu_alloc_internal(8, 4, true, PCPU_GFP_KERNEL) == r);
	CHECK(pcpu_alloc(8, 4) == d);
}

static void test_boundaries(char *self)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		char *argv[] = { self, (char *)"boundaries", NULL };

		tu_execv(self, argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_all(char *self)
{
	CHECK_EQ(pcpu_init(), 0);
	/* The kernel's policy, step by step: no reserve beyond its pool of
	 * PCPU_EMPTY_POP_PAGES_HIGH empty pages, no cache of freed areas (test_reserve
	 * checks those). */
	pcpu_balance();
	_pcpu_alloc.reserve_pages = PCPU_EMPTY_POP_PAGES_HIGH;
	_pcpu_alloc.cache_max_bytes = 0;
	counting_vm = _pcpu_vm_os;
	counting_vm.reserve = counting_reserve;
	counting_vm.release = counting_release;
	counting_vm.populate = counting_populate;
	_pcpu_vm = &counting_vm;
	fprintf(stderr, "%s: %d used units, %d pages per unit\n", pcpu_cpu_source(), _pcpu_geo->nr_used,
		_pcpu_geo->unit_pages);
	CHECK_RESIDENCY("start");
	test_first_chunk();
	test_boundaries(self);
	test_reuse_and_spare();
	test_reclaim_boundaries();
	test_failed_population();
	test_random(tu_scaled(3000));
	_pcpu_vm = &_pcpu_vm_os;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "boundaries") == 0) {
		boundaries_child();
		TEST_DONE();
	}
	tu_seed("test_alloc_policy");
	CHECK_EQ(pcpu_init(), 0);
	if (_pcpu_geo->page_size > PCPU_MAX_ALLOC_SIZE) {
		/* the policy tests allocate one page per object */
		fprintf(stderr, "SKIP test_alloc_policy: %zu-byte pages are more than one "
			"allocation can hold (PCPU_MAX_ALLOC_SIZE)\n", _pcpu_geo->page_size);
		TEST_DONE();
	}
	test_all(argv[0]);
	if (argc > 1)
		TEST_DONE(); /* a mode's child */
	tu_spawn_modes(argv[0]);
	/* and with more units than CPUs here, as on a bigger machine (4 units, 2 nodes) */
	tu_spawn_mode(argv[0], "simulated", "LIBPERCPU_TOPOLOGY", "0-1;2-3");
	TEST_DONE();
}
