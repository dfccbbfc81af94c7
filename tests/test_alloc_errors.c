/* SPDX-License-Identifier: MIT */
/* test_alloc_errors.c - bad input, misuse and failure paths of the allocator: EINVAL
 * cases change nothing, out-of-memory returns ENOMEM and leaves the allocator
 * consistent, double free / wild pointers / bad CPUs abort with a message naming the
 * call and the address, atomic allocations never populate, and fork works, also while
 * other threads are inside the allocator. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc_state.h"
#include "testutil.h"
#include "vm.h"

static void stats(struct pcpu_stats *st)
{
	CHECK_EQ(pcpu_get_stats(st), 0);
}

static void test_einval(void)
{
	struct pcpu_stats before, after;
	static const struct {
		size_t size, align;
	} bad[] = {
		{ 0, 4 }, { PCPU_MAX_ALLOC_SIZE + 1, 4 }, { (size_t)-1, 4 }, { 8, 3 },
		{ 8, 12 }, { 8, 2 * (size_t)PCPU_PAGE_ALIGN }, { 8, (size_t)1 << 40 }, { 0, 0 },
	};

	stats(&before);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		CHECK(pcpu_alloc(bad[i].size, bad[i].align) == NULL);
		CHECK_EQ(errno, EINVAL);
	}
	errno = 0;
	CHECK(pcpu_alloc_gfp(8, 8, 0x80) == NULL); /* unknown flag */
	CHECK_EQ(errno, EINVAL);
	stats(&after);
	CHECK_EQ(after.nr_alloc, before.nr_alloc);
	CHECK_EQ(after.nr_cur_alloc, before.nr_cur_alloc);
	CHECK_EQ(after.nr_chunks, before.nr_chunks);
	CHECK_EQ(after.free_bytes, before.free_bytes);

	/* the limits themselves are fine */
	void *p = pcpu_alloc(PCPU_MAX_ALLOC_SIZE, before.page_size);
	CHECK(p != NULL);
	CHECK_EQ((uintptr_t)p % before.page_size, 0);
	pcpu_free(p);
	/* alignments up to the page size in effect (LIBPERCPU_PAGE_SIZE), no more */
	for (size_t a = 8192; a <= PCPU_PAGE_ALIGN; a *= 2) {
		p = pcpu_alloc(64, a);
		CHECK_EQ(p != NULL, a <= before.page_size);
		if (p)
			CHECK_EQ((uintptr_t)p % a, 0);
		else
			CHECK_EQ(errno, EINVAL);
		pcpu_free(p);
	}
	p = pcpu_alloc(64, 2 * PCPU_PAGE_ALIGN);
	CHECK(p == NULL);
	CHECK_EQ(errno, EINVAL);
	p = pcpu_alloc(64, 64);
	CHECK(p != NULL);
	pcpu_free(p);
	p = pcpu_alloc(1, 0);
	CHECK(p != NULL);
	pcpu_free(p);
	pcpu_free(NULL); /* no-op */
	CHECK_EQ(pcpu_get_stats(NULL), -1);
}

static void double_free(int fd)
{
	void *p = pcpu_alloc(16, 8);
	tu_say(fd, p);
	pcpu_free(p);
	pcpu_free(p);
}

static void interior_free(int fd)
{
	char *p = pcpu_alloc(64, 8);
	tu_say(fd, p + 8);
	pcpu_free(p + 8);
}

static void malloc_free(int fd)
{
	void *p = calloc(1, 32);
	tu_say(fd, p);
	pcpu_free(p);
}

static void other_cpu_copy_free(int fd)
{
	/* a CPU's copy is not the per-CPU pointer; use the last possible CPU's copy */
	int last = 0;
	unsigned int cpu;
	char *p = pcpu_alloc(64, 8);

	pcpu_for_each_possible_cpu(cpu)
		last = (int)cpu;
	if (pcpu_ptr(p, last) == p) /* a one-CPU machine: use an interior address */
		p += 4;
	else
		p = pcpu_ptr(p, last);
	tu_say(fd, p);
	pcpu_free(p);
}

/* The next CPU's copy of an area at the very start of a dynamic chunk: one past the
 * end of the chunk's first unit, which is not the pointer of any area. */
static void unit_end_free(int fd)
{
	char *p;

	do
		p = pcpu_alloc(_pcpu_geo->page_size, _pcpu_geo->page_size);
	while (p && (p - _pcpu_geo->arena) % (ptrdiff_t)_pcpu_geo->chunk_bytes != 0);
	CHECK(p != NULL);
	p += _pcpu_geo->unit_size; /* a padding unit's, if no CPU has the next unit */
	tu_say(fd, p);
	pcpu_free(p);
}

/* Copies in other units of the first chunk, where the chunk's base is its dynamic
 * region's, not the unit's: a static variable's copy, an area's copy, and the unused tail
 * of unit 0 (past the dynamic region) are within unit_size of that base but past the
 * chunk's map, and are no area's per-CPU pointer. */
PCPU_DEFINE(long, copied_static);
static unsigned int copy_cpu; /* the CPU whose copy the children below free */

static void static_copy_free(int fd)
{
	long *p = pcpu_ptr(&copied_static, copy_cpu);

	tu_say(fd, p);
	pcpu_free(p);
}

static void first_chunk_copy_free(int fd)
{
	char *p = pcpu_alloc(16, 8);

	CHECK(p != NULL && (size_t)(p - _pcpu_geo->arena) < _pcpu_geo->chunk_bytes);
	p = pcpu_ptr(p, copy_cpu);
	tu_say(fd, p);
	pcpu_free(p);
}

static size_t tail_off; /* the byte of unit 0 that unit_tail_free() frees */

static void unit_tail_free(int fd)
{
	char *p = _pcpu_geo->arena + tail_off;

	tu_say(fd, p);
	pcpu_free(p);
}

static void test_first_chunk_copies(void)
{
	const struct pcpu_geometry *g = _pcpu_geo;
	size_t end = g->static_size + g->reserved_size + g->dyn_size;
	unsigned int cpu, first = pcpu_nr_cpu_ids(), n = 0, nr_possible = 0, cpus[3];

	pcpu_for_each_possible_cpu(cpu) {
		if (first == pcpu_nr_cpu_ids())
			first = cpu;
		nr_possible++;
	}
	/* CPUs other than the first (whose unit is unit 0): the second, one at random and
	 * the last, a child each (there may be hundreds of CPUs) */
	pcpu_for_each_possible_cpu(cpu) {
		if (cpu == first)
			continue;
		if (!n++)
			cpus[0] = cpus[1] = cpu;
		else if (tu_rand() % nr_possible == 0)
			cpus[1] = cpu;
		cpus[2] = cpu;
	}
	for (unsigned int i = 0; n && i < 3; i++) {
		if (i && (cpus[i] == cpus[i - 1] || cpus[i] == cpus[0]))
			continue; /* fewer than four possible CPUs */
		copy_cpu = cpus[i];
		CHECK(pcpu_ptr(&copied_static, copy_cpu) != &copied_static);
		tu_expect_abort("static copy free", static_copy_free, "is not a per-CPU pointer");
		tu_expect_abort("first chunk copy free", first_chunk_copy_free,
				"is not a per-CPU pointer");
	}
	/* the unit's tail past the dynamic region: its first byte, in the map's hidden end
	 * unless page-aligned, and its last word, past the map */
	if (end < g->unit_size) {
		tail_off = end;
		tu_expect_abort("unit tail free", unit_tail_free, "is not a per-CPU pointer");
		tail_off = g->unit_size - PCPU_MIN_ALLOC_SIZE;
		tu_expect_abort("unit tail free", unit_tail_free, "is not a per-CPU pointer");
	}
}

static void bad_cpu(int fd)
{
	void *p = pcpu_alloc(16, 8);
	tu_say(fd, p);
	(void)pcpu_ptr(p, pcpu_nr_cpu_ids() + 3);
}

static void not_percpu(int fd)
{
	static long x;
	tu_say(fd, &x);
	(void)pcpu_ptr(&x, 0);
}

static void test_misuse(void)
{
	tu_expect_abort("double free", double_free, "double free");
	tu_expect_abort("interior free", interior_free, "not the start of a live");
	tu_expect_abort("malloc free", malloc_free, "is not a per-CPU pointer");
	tu_expect_abort("copy free", other_cpu_copy_free, "pcpu_free");
	tu_expect_abort("unit end free", unit_end_free, "is not a per-CPU pointer");
	tu_expect_abort("bad cpu", bad_cpu, "is not a possible CPU");
	tu_expect_abort("not percpu", not_percpu, "is not a per-CPU pointer");
}

/* ---- out of memory: a backend that fails on demand ---- */
static int fail_populate, fail_commit;

static long populate_calls;

static int failing_populate(void *a, size_t s)
{
	populate_calls++;
	if (fail_populate && --fail_populate == 0) {
		errno = ENOMEM;
		return -1;
	}
	return _pcpu_vm_os.populate(a, s);
}

static int failing_commit(void *a, size_t s, bool huge)
{
	if (fail_commit) {
		errno = ENOMEM;
		return -1;
	}
	return _pcpu_vm_os.commit(a, s, huge);
}

static struct pcpu_vm_ops failing_vm;

static void test_enomem(void)
{
	struct pcpu_stats before, after;
	void *keep[4096];
	int n = 0;

	failing_vm = _pcpu_vm_os;
	failing_vm.populate = failing_populate;
	failing_vm.commit = failing_commit;
	_pcpu_vm = &failing_vm;

	/* commit failing: a new chunk cannot be made.  Fill until one would be needed. */
	fail_commit = 1;
	for (n = 0; n < 4096; n++) {
		keep[n] = pcpu_alloc(PCPU_MAX_ALLOC_SIZE, 4);
		if (!keep[n])
			break;
	}
	CHECK(n < 4096);
	CHECK_EQ(errno, ENOMEM);
	stats(&before);
	errno = 0;
	CHECK(pcpu_alloc(PCPU_MAX_ALLOC_SIZE, 4) == NULL);
	CHECK_EQ(errno, ENOMEM);
	stats(&after);
	CHECK_EQ(after.nr_chunks, before.nr_chunks);
	CHECK_EQ(after.nr_cur_alloc, before.nr_cur_alloc);
	CHECK_EQ(after.free_bytes, before.free_bytes);
	fail_commit = 0;

	/* populate failing on the first call: nothing allocated, nothing leaked.  An
	 * allocation that lands on populated pages calls no populate: keep those. */
	void *p = NULL;
	for (int tries = 0; tries < 1000 && n < 4000; tries++) {
		long calls = populate_calls;
		stats(&before);
		fail_populate = 1;
		errno = 0;
		p = pcpu_alloc(PCPU_MAX_ALLOC_SIZE, 4);
		if (p && populate_calls == calls) {
			keep[n++] = p;
			continue;
		}
		CHECK(p == NULL);
		CHECK_EQ(errno, ENOMEM);
		stats(&after);
		CHECK_EQ(after.nr_cur_alloc, before.nr_cur_alloc);
		/* a chunk made for the allocation stays, entirely free */
		CHECK_EQ(after.free_bytes, before.free_bytes + (after.nr_chunks - before.nr_chunks) *
							     _pcpu_geo->unit_size);
		CHECK(after.nr_alloc_failed > before.nr_alloc_failed);
		break;
	}
	CHECK(p == NULL);
	/* populate failing later, for the second unit or a later page range */
	for (int k = 2; k < 6; k++) {
		fail_populate = k;
		p = pcpu_alloc(PCPU_MAX_ALLOC_SIZE, 4);
		if (p) {
			keep[n++] = p;
		} else {
			CHECK_EQ(errno, ENOMEM);
		}
	}
	fail_populate = 0;
	_pcpu_vm = &_pcpu_vm_os;

	/* consistent afterwards: every map verifies, allocation works, frees work */
	for (int i = 0; i < _pcpu_alloc.max_chunks; i++) {
		char err[256];
		if (_pcpu_alloc.chunks[i] && _pcpu_chunk_map_verify(&_pcpu_alloc.chunks[i]->map, err, sizeof(err))) {
			fprintf(stderr, "chunk %d: %s\n", i, err);
			CHECK(0);
		}
	}
	p = pcpu_alloc(PCPU_MAX_ALLOC_SIZE, 4);
	CHECK(p != NULL);
	pcpu_free(p);
	for (int i = 0; i < n; i++)
		pcpu_free(keep[i]);
	pcpu_balance();
	stats(&after);
	CHECK(after.nr_chunks <= 2);
}

static void test_atomic(void)
{
	struct pcpu_stats before, after;
	void *p;

	pcpu_balance(); /* tops up the pool of empty populated pages */
	stats(&before);
	CHECK(before.nr_empty_pop_pages >= PCPU_EMPTY_POP_PAGES_LOW);
	p = pcpu_alloc_gfp(64, 8, PCPU_GFP_ATOMIC);
	CHECK(p != NULL);
	stats(&after);
	CHECK_EQ(after.nr_populate_calls, before.nr_populate_calls); /* never populates */
	CHECK_EQ(after.nr_chunks, before.nr_chunks);
	unsigned int cpu;
	pcpu_for_each_possible_cpu(cpu)
		CHECK_EQ(*(long *)pcpu_ptr(p, cpu), 0);
	pcpu_free(p);

	/* more than the populated pool holds: atomic fails, normal succeeds */
	void *big[64];
	int n = 0, failed = 0;
	stats(&before);
	for (n = 0; n < 64; n++) {
		big[n] = pcpu_alloc_gfp(PCPU_MAX_ALLOC_SIZE, 4, PCPU_GFP_ATOMIC);
		if (!big[n]) {
			failed = 1;
			CHECK_EQ(errno, ENOMEM);
			break;
		}
	}
	CHECK(failed);
	stats(&after);
	CHECK_EQ(after.nr_populate_calls, before.nr_populate_calls);
	CHECK_EQ(after.nr_chunks, before.nr_chunks);
	p = pcpu_alloc_gfp(PCPU_MAX_ALLOC_SIZE, 4, PCPU_GFP_KERNEL);
	CHECK(p != NULL);
	pcpu_free(p);
	for (int i = 0; i < n; i++)
		pcpu_free(big[i]);
}

/* ---- fork ---- */
static int stop_threads;

static void *churn(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop_threads, __ATOMIC_RELAXED)) {
		void *p[16];
		for (int i = 0; i < 16; i++)
			p[i] = pcpu_alloc(8 + (size_t)i * 200, 8);
		for (int i = 0; i < 16; i++)
			pcpu_free(p[i]);
	}
	return NULL;
}

static void test_fork(void)
{
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, churn, NULL);
	for (int round = 0; round < 20; round++) {
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			/* the other threads are gone; the allocator must work */
			for (int i = 0; i < 1000; i++) {
				long *p = pcpu_alloc(sizeof(long) * 4, 8);
				if (!p)
					_exit(2);
				*(long *)pcpu_this_ptr(p) = i;
				pcpu_free(p);
			}
			pcpu_balance();
			_exit(0);
		}
		CHECK(pid > 0);
		waitpid(pid, &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	__atomic_store_n(&stop_threads, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
}

int main(void)
{
	CHECK_EQ(pcpu_init(), 0);
	test_einval();
	test_misuse();
	test_first_chunk_copies();
	test_atomic();
	test_enomem();
	test_fork();
	TEST_DONE();
}
