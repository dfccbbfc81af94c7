/* SPDX-License-Identifier: MIT */
/* test_reserve.c - what the allocator keeps for reuse, in exact page counts through the
 * vm seam's recording wrapper: freed pages stay populated up to the reserve's bound, so
 * a second round of the same allocations populates nothing; beyond the bound they go
 * back; pcpu_balance() trims the pool down to the kernel's PCPU_EMPTY_POP_PAGES_HIGH, and
 * so does the allocator call that finds it idle for PCPU_RESERVE_IDLE_MS (time moved
 * through the seam's clock, not waited for).  Freed small areas wait in a cache: reused
 * zeroed, bounded, given back by pcpu_balance(); freeing one twice, or writing one after
 * its free, is reported. */
#include <string.h>
#include <unistd.h>

#include "alloc_state.h"
#include "vm.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static long populated_bytes, depopulated_bytes;
static uint64_t fake_ms;

static int recording_populate(void *addr, size_t size)
{
	populated_bytes += (long)size;
	return _pcpu_vm_os.populate(addr, size);
}

static int recording_depopulate(void *addr, size_t size)
{
	depopulated_bytes += (long)size;
	return _pcpu_vm_os.depopulate(addr, size);
}

static uint64_t fake_now_ms(void)
{
	return fake_ms;
}

static struct pcpu_vm_ops recording;

/* Recorded bytes as pages of each used unit. */
static long unit_pages(long bytes)
{
	return bytes / (long)_pcpu_geo->page_size / _pcpu_geo->nr_used;
}

static void reset_counts(void)
{
	populated_bytes = depopulated_bytes = 0;
}

/* @n page-sized areas, every copy written. */
static void alloc_pages(void **objs, int n)
{
	for (int i = 0; i < n; i++) {
		unsigned int cpu;

		objs[i] = pcpu_alloc(_pcpu_geo->page_size, _pcpu_geo->page_size);
		CHECK(objs[i] != NULL);
		pcpu_for_each_possible_cpu(cpu)
			memset(pcpu_ptr(objs[i], cpu), 0x5a, _pcpu_geo->page_size);
	}
}

static void free_all(void **objs, int n)
{
	for (int i = 0; i < n; i++)
		pcpu_free(objs[i]);
}

static int first_chunk_empty(void)
{
	return _pcpu_alloc.first_chunk->map.nr_empty_pop_pages;
}

/* What a trim leaves: the kernel's pool, or more if the first chunk (never reclaimed)
 * alone has more empty pages. */
static int trimmed_pool(void)
{
	return first_chunk_empty() > PCPU_EMPTY_POP_PAGES_HIGH ? first_chunk_empty() :
								  PCPU_EMPTY_POP_PAGES_HIGH;
}

/* Freed pages within the reserve stay populated: the next round of the same
 * allocations populates nothing, and the round after the free gives nothing back. */
static void test_churn_within_reserve(int n)
{
	void *objs[256];

	_pcpu_alloc.reserve_pages = 2 * n + 16;
	alloc_pages(objs, n);
	free_all(objs, n);
	for (int round = 0; round < 3; round++) {
		reset_counts();
		alloc_pages(objs, n);
		CHECK_EQ(unit_pages(populated_bytes), 0);
		free_all(objs, n);
		CHECK_EQ(unit_pages(depopulated_bytes), 0);
	}
	CHECK(_pcpu_alloc.nr_empty_pop_pages >= n);
	/* pcpu_balance() gives the reserve back down to the kernel's pool */
	int before = _pcpu_alloc.nr_empty_pop_pages, want = trimmed_pool();
	reset_counts();
	pcpu_balance();
	CHECK_EQ(_pcpu_alloc.nr_empty_pop_pages, want);
	CHECK_EQ(unit_pages(depopulated_bytes), before - want);
}

/* Beyond the bound, freed pages go back until the pool is at the bound exactly. */
static void test_reserve_bound(int n)
{
	void *objs[256];
	int bound = PCPU_EMPTY_POP_PAGES_HIGH + n / 2, empty0;

	pcpu_balance();
	CHECK(first_chunk_empty() <= bound);
	_pcpu_alloc.reserve_pages = bound;
	alloc_pages(objs, n);
	empty0 = _pcpu_alloc.nr_empty_pop_pages;
	reset_counts();
	free_all(objs, n);
	CHECK_EQ(_pcpu_alloc.nr_empty_pop_pages, bound);
	CHECK_EQ(unit_pages(depopulated_bytes), empty0 + n - bound);
	CHECK(_pcpu_alloc.slots[_pcpu_alloc.to_depopulate_slot].next == &_pcpu_alloc.slots[_pcpu_alloc.to_depopulate_slot]);
	CHECK(_pcpu_alloc.slots[_pcpu_alloc.sidelined_slot].next == &_pcpu_alloc.slots[_pcpu_alloc.sidelined_slot]);
	pcpu_balance();
}

/* One allocator call that changes no page of the pool: a 4-byte area (too small for
 * the cache) next to a live one, or its free. */
static void *call_area;

static void one_call(void)
{
	int pool = _pcpu_alloc.nr_empty_pop_pages;

	if (call_area) {
		pcpu_free(call_area);
		call_area = NULL;
	} else {
		call_area = pcpu_alloc(4, 4);
		CHECK(call_area != NULL);
	}
	if (_pcpu_alloc.nr_empty_pop_pages != pool && depopulated_bytes == 0)
		CHECK(!"the call changed the pool");
}

/* The allocator calls give the reserve back once it has been idle for
 * PCPU_RESERVE_IDLE_MS: not a millisecond earlier, at the first call that checks. */
static void test_return_after_idle(int n)
{
	void *objs[256], *anchor;
	int pool, want;

	pcpu_balance();
	_pcpu_alloc.reserve_pages = 2 * n + 16;
	anchor = pcpu_alloc(4, 4); /* the 4-byte calls land next to it */
	alloc_pages(objs, n);
	free_all(objs, n);
	pool = _pcpu_alloc.nr_empty_pop_pages;
	want = trimmed_pool();
	CHECK(pool > want);
	reset_counts();
	fake_ms = _pcpu_vm_os.now_ms();
	recording.now_ms = fake_now_ms;

	/* the frees were activity: the next check starts the idle period */
	while (_pcpu_alloc.calls_to_check > 1)
		one_call();
	one_call();
	CHECK(!_pcpu_alloc.reserve_active);
	CHECK_EQ(_pcpu_alloc.reserve_stamp_ms, fake_ms);

	fake_ms += PCPU_RESERVE_IDLE_MS - 1;
	for (int i = 0; i < 3 * PCPU_RESERVE_CHECK_CALLS; i++)
		one_call();
	CHECK_EQ(unit_pages(depopulated_bytes), 0);
	CHECK_EQ(_pcpu_alloc.nr_empty_pop_pages, pool);

	fake_ms += 1;
	while (_pcpu_alloc.calls_to_check > 1)
		one_call();
	CHECK_EQ(unit_pages(depopulated_bytes), 0); /* no check yet */
	one_call();
	CHECK_EQ(unit_pages(depopulated_bytes), pool - want);
	CHECK_EQ(_pcpu_alloc.nr_empty_pop_pages, want);

	recording.now_ms = _pcpu_vm_os.now_ms;
	if (call_area)
		one_call();
	pcpu_free(anchor);
	pcpu_balance();
}

static bool copies_zero(const void *p, size_t size)
{
	unsigned int cpu;

	pcpu_for_each_possible_cpu(cpu) {
		const unsigned char *q = pcpu_ptr(p, cpu);
		for (size_t i = 0; i < size; i++)
			if (q[i])
				return false;
	}
	return true;
}

/* A depopulation that fails (mlock()ed memory refuses MADV_DONTNEED) leaves the bytes
 * in place: once the pages are populated again, allocations there are zeroed all the
 * same. */
static int refusing_depopulate(void *addr, size_t size)
{
	(void)addr;
	(void)size;
	errno = EINVAL;
	return -1;
}

static void test_failed_depopulate(int n)
{
	void *objs[256];

	pcpu_balance();
	_pcpu_alloc.reserve_pages = PCPU_EMPTY_POP_PAGES_HIGH;
	recording.depopulate = refusing_depopulate;
	alloc_pages(objs, n); /* every copy 0x5a */
	free_all(objs, n);
	pcpu_balance();
	recording.depopulate = recording_depopulate;
	for (int i = 0; i < n; i++) {
		objs[i] = pcpu_alloc(_pcpu_geo->page_size, _pcpu_geo->page_size);
		CHECK(objs[i] != NULL && copies_zero(objs[i], _pcpu_geo->page_size));
	}
	free_all(objs, n);
	pcpu_balance();
}

/* ---- the cache of freed areas ------------------------------------------------------ */

/* The cache is bounded as set up, whatever comes: freeing more small areas than the
 * bound holds sends the rest to their chunks at once (an unbounded cache kept them all,
 * resident, and the first allocation it could not serve, an atomic one too, then gave
 * back the excess in one pass under the lock). */
static void test_cache_bounded(void)
{
	size_t max = PCPU_CACHE_BYTES / (size_t)_pcpu_geo->nr_used, n = max / 1024 + 64;
	void **objs = calloc(n, sizeof(*objs));

	CHECK(objs != NULL);
	pcpu_balance();
	for (size_t i = 0; i < n && objs; i++)
		CHECK((objs[i] = pcpu_alloc(1024, 8)) != NULL);
	for (size_t i = 0; i < n && objs; i++)
		pcpu_free(objs[i]);
	CHECK(_pcpu_alloc.cache_bytes <= max);
	CHECK(_pcpu_alloc.cache_bytes + 64 * 1024 > max); /* it did fill up */
	pcpu_balance();
	CHECK_EQ(_pcpu_alloc.cache_bytes, 0);
	free(objs);
}

static void test_cache(void)
{
	const size_t sizes[] = { 8, 12, 64, 1024 };
	struct pcpu_stats st0, st;
	void *objs[5];

	pcpu_balance();
	_pcpu_alloc.cache_max_bytes = PCPU_CACHE_BYTES;
	CHECK_EQ(_pcpu_alloc.cache_bytes, 0);
	pcpu_get_stats(&st0);
	/* the last freed area of a size is the next one given, zeroed */
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		unsigned int cpu;
		void *p = pcpu_alloc(sizes[k], 4), *q;
		size_t cached = _pcpu_alloc.cache_bytes;

		CHECK(p != NULL);
		pcpu_for_each_possible_cpu(cpu)
			memset(pcpu_ptr(p, cpu), 0xa5, sizes[k]);
		pcpu_free(p);
		CHECK_EQ(_pcpu_alloc.cache_bytes, cached + sizes[k]);
		q = pcpu_alloc(sizes[k], 4);
		CHECK(q == p);
		CHECK(copies_zero(q, sizes[k]));
		CHECK_EQ(_pcpu_alloc.cache_bytes, cached);
		pcpu_free(q);
	}
	pcpu_get_stats(&st);
	CHECK_EQ(st.nr_cur_alloc, st0.nr_cur_alloc);

	/* bounded: three 64-byte areas fit, the next two are freed into the maps */
	pcpu_balance();
	CHECK_EQ(_pcpu_alloc.cache_bytes, 0);
	_pcpu_alloc.cache_max_bytes = 3 * 64;
	for (int i = 0; i < 5; i++)
		CHECK((objs[i] = pcpu_alloc(64, 4)) != NULL);
	pcpu_get_stats(&st0);
	for (int i = 0; i < 5; i++)
		pcpu_free(objs[i]);
	CHECK_EQ(_pcpu_alloc.cache_bytes, 3 * 64);
	pcpu_get_stats(&st);
	CHECK_EQ(st.free_bytes, st0.free_bytes + 2 * 64);
	/* pcpu_balance() gives them back to the maps */
	pcpu_balance();
	CHECK_EQ(_pcpu_alloc.cache_bytes, 0);
	pcpu_get_stats(&st);
	CHECK_EQ(st.free_bytes, st0.free_bytes + 5 * 64);
	_pcpu_alloc.cache_max_bytes = PCPU_CACHE_BYTES;
}

/* Every size the cache serves comes back zeroed in every copy, after its last user
 * filled the whole area: alloc.c zeroes the small ones with a few stores per copy,
 * overlapping where the size is not a multiple of theirs, and the rest through
 * _pcpu_chunk_vm_zero().  Each size twice: from the cache, then from an area the cache
 * did not take (cache_max_bytes 0), whose page the free left dirty. */
static void test_cache_zeroes_every_size(void)
{
	for (int pass = 0; pass < 2; pass++) {
		pcpu_balance();
		_pcpu_alloc.cache_max_bytes = pass ? 0 : PCPU_CACHE_BYTES;
		for (size_t size = 1; size <= 4 * PCPU_CACHE_MAX_BITS + 8; size++) {
			size_t rounded = (size + 3) & ~(size_t)3;
			unsigned int cpu;
			void *p = pcpu_alloc(size, 4), *q;

			CHECK(p != NULL);
			pcpu_for_each_possible_cpu(cpu)
				memset(pcpu_ptr(p, cpu), 0xa5, rounded);
			pcpu_free(p);
			q = pcpu_alloc(size, 4);
			CHECK(q != NULL);
			/* the same area again, from the cache or the maps' first fit */
			CHECK(q == p || pass || rounded < sizeof(void *));
			CHECK(copies_zero(q, size));
			pcpu_free(q);
		}
	}
	_pcpu_alloc.cache_max_bytes = PCPU_CACHE_BYTES;
	pcpu_balance();
}

static void cached_double_free(int fd)
{
	void *p = pcpu_alloc(64, 4);

	tu_say(fd, p);
	pcpu_free(p);
	pcpu_free(p);
}

static void written_after_free(int fd)
{
	void *p = pcpu_alloc(64, 4), *q = pcpu_alloc(64, 4);

	pcpu_free(p);
	pcpu_free(q);        /* q's link leads to p */
	tu_say(fd, q);
	memset(q, 0x11, 16); /* the first CPU's copy, where the link is */
	pcpu_alloc(64, 4);   /* takes q, follows its link */
}

/* The link overwritten with the address of a live area: it points into the arena, so
 * taking q trusts it, and taking the live area (not a cached one) reports. */
static void written_into_arena_after_free(int fd)
{
	void *p = pcpu_alloc(64, 4), *q = pcpu_alloc(64, 4), *live = pcpu_alloc(64, 4);

	pcpu_free(p);
	pcpu_free(q);
	tu_say(fd, live);
	memcpy(q, &live, sizeof(live)); /* the first CPU's copy, where the link is */
	CHECK(pcpu_alloc(64, 4) == q);
	pcpu_alloc(64, 4); /* would be live, which nobody freed */
}

/* The link overwritten with NULL: the areas freed before q are no longer reached, and
 * the balance work, which finds their bytes still counted, reports them. */
static void link_cleared_after_free(int fd)
{
	void *p = pcpu_alloc(64, 4), *q = pcpu_alloc(64, 4);

	pcpu_free(p);
	pcpu_free(q);        /* q's link leads to p */
	tu_say(fd, p);
	memset(q, 0, 16);    /* the first CPU's copy, where the link is */
	pcpu_balance();      /* gives q back, cannot reach p */
}

/* The link overwritten with the address of a freed area of another size: taking it as
 * a 64-byte area would overrun the 8-byte one into its live neighbours. */
static void link_to_other_size_after_free(int fd)
{
	void *a = pcpu_alloc(8, 4), *b = pcpu_alloc(64, 4);

	pcpu_free(a);
	pcpu_free(b);
	tu_say(fd, a);
	memcpy(b, &a, sizeof(a)); /* the first CPU's copy, where the link is */
	CHECK(pcpu_alloc(64, 4) == b);
	pcpu_alloc(64, 4); /* would be a, an 8-byte area */
}

static int run(const char *want)
{
	int n;

	CHECK_EQ(pcpu_init(), 0);
	CHECK(strstr(pcpu_cpu_source(), want) != NULL || !tu_rseq_available());
	tu_expect_abort("cached double free", cached_double_free, "double free");
	/* under ASan the freed area is poisoned: ASan reports the write itself */
	if (!UNDER_ASAN) {
		tu_expect_abort("written after free", written_after_free,
				"written after pcpu_free()");
		tu_expect_abort("written into the arena after free",
				written_into_arena_after_free, "written after pcpu_free()");
		tu_expect_abort("link cleared after free", link_cleared_after_free,
				"written after pcpu_free()");
		tu_expect_abort("link to another size after free", link_to_other_size_after_free,
				"no freed area of that size");
	}
	test_cache_bounded();
	test_cache();
	test_cache_zeroes_every_size();
	if (_pcpu_geo->page_size > PCPU_MAX_ALLOC_SIZE) {
		fprintf(stderr, "SKIP the page tests: %zu-byte pages are more than one allocation "
			"can hold\n", _pcpu_geo->page_size);
		TEST_DONE();
	}
	recording = _pcpu_vm_os;
	recording.populate = recording_populate;
	recording.depopulate = recording_depopulate;
	_pcpu_vm = &recording;
	_pcpu_alloc.cache_max_bytes = 0; /* the page tests count pages alone */
	/* most of a chunk: the frees empty it, or nearly */
	n = _pcpu_geo->unit_pages * 3 / 4 < 64 ? _pcpu_geo->unit_pages * 3 / 4 : 64;
	test_churn_within_reserve(n);
	test_reserve_bound(n);
	test_return_after_idle(n);
	test_failed_depopulate(n);
	_pcpu_vm = &_pcpu_vm_os;
	TEST_DONE();
}

int main(int argc, char **argv)
{
	tu_seed("test_reserve");
	return tu_run_modes(argc, argv, run);
}
