/* SPDX-License-Identifier: MIT */
/* test_address_space.c - the arena takes the address space the chunks need and grows on
 * demand: under RLIMIT_AS of 1 GiB, initialization maps the first chunk and little
 * else (the rest stays usable by the process), allocations grow the arena in place a
 * chunk at a time with every object's copies usable, and a growth that cannot happen
 * (the next range taken, or the backend failing) is a clean ENOMEM.  In every CPU-source
 * mode. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "alloc_state.h"
#include "testutil.h"
#include "vm.h"

#define LIMIT ((size_t)1 << 30) /* above what the process maps before init (sanitizers
				     * map terabytes of shadow) */
/* What initialization may map besides the first chunk (rounded to the atom): its own
 * tables and what malloc takes for them. */
#define INIT_SLACK ((size_t)2 << 20)

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* Mapped address space of this process in bytes (VmSize). */
static size_t vm_size(void)
{
	long kib = tu_status_kib("VmSize");

	CHECK(kib > 0);
	return (size_t)kib << 10;
}

struct obj {
	unsigned char *p;
	unsigned char tag;
};

static struct obj objs[4096];
static const char *mode_want; /* what pcpu_cpu_source() must say, from tu_run_modes */
static int nr_objs;

static void fill(const struct obj *o)
{
	unsigned int cpu;

	pcpu_for_each_possible_cpu(cpu)
		memset(pcpu_ptr(o->p, cpu), (unsigned char)(o->tag + cpu), PCPU_MAX_ALLOC_SIZE);
}

static void verify_all(void)
{
	for (int i = 0; i < nr_objs; i++) {
		unsigned int cpu;

		pcpu_for_each_possible_cpu(cpu) {
			unsigned char *c = pcpu_ptr(objs[i].p, cpu), want = (unsigned char)(objs[i].tag + cpu);
			size_t bad = 0;

			for (size_t k = 0; k < PCPU_MAX_ALLOC_SIZE; k++)
				bad += c[k] != want;
			CHECK_EQ(bad, 0);
		}
	}
}

/* One more object of the largest size; NULL (errno kept) if the allocator refuses. */
static void *add_obj(void)
{
	unsigned char *p;

	if (nr_objs == (int)(sizeof(objs) / sizeof(objs[0]))) {
		fprintf(stderr, "more objects than the test expects\n");
		CHECK(0);
		errno = E2BIG;
		return NULL;
	}
	p = pcpu_alloc(PCPU_MAX_ALLOC_SIZE, 8);
	if (!p)
		return NULL;
	objs[nr_objs].p = p;
	objs[nr_objs].tag = (unsigned char)tu_rand();
	fill(&objs[nr_objs++]);
	/* inside the arena, which starts where it always did */
	CHECK((uintptr_t)p - __pcpu_fast.arena_base <
	      __atomic_load_n(&__pcpu_fast.arena_size, __ATOMIC_RELAXED));
	return p;
}

static unsigned int nr_chunks(void)
{
	struct pcpu_stats st;

	CHECK_EQ(pcpu_get_stats(&st), 0);
	return st.nr_chunks;
}

/* Under RLIMIT_AS: init takes about one chunk; several growths; all copies usable. */
static void test_rlimit(void)
{
	struct pcpu_stats st;
	size_t before = vm_size(), after, grown, left, meta;
	bool emulated;
	struct rlimit rl;
	uintptr_t base;
	void *probe;

	CHECK_EQ(getrlimit(RLIMIT_AS, &rl), 0);
	rl.rlim_cur = before + LIMIT;
	CHECK_EQ(setrlimit(RLIMIT_AS, &rl), 0);
	CHECK_EQ(pcpu_init(), 0);
	after = vm_size();
	CHECK(tu_source_is(mode_want));
	CHECK_EQ(pcpu_get_stats(&st), 0);
	fprintf(stderr, "%s: init mapped %zu KiB (chunk %zu KiB, atom %zu KiB); %zu MiB left\n",
		pcpu_cpu_source(), (after - before) >> 10, _pcpu_geo->chunk_bytes >> 10,
		st.atom_size >> 10, (before + LIMIT - after) >> 20);
	/* under an emulator (make check-cross), VmSize is the emulator's */
	emulated = getenv("PCPU_TEST_RUNNER") != NULL;
	if (emulated)
		fprintf(stderr, "SKIP the VmSize bounds: %s runs this test\n",
			getenv("PCPU_TEST_RUNNER"));
	CHECK(emulated || after - before <= _pcpu_geo->chunk_bytes + st.atom_size + INIT_SLACK);
	CHECK_EQ(__pcpu_fast.arena_size, _pcpu_geo->chunk_bytes);
	CHECK(st.max_chunks > 1);

	/* what is left is the process's: one mapping of nearly all of it works */
	left = before + LIMIT - after;
	probe = mmap(NULL, left - (8u << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		     -1, 0);
	CHECK(probe != MAP_FAILED);
	if (probe != MAP_FAILED)
		munmap(probe, left - (8u << 20));

	/* several growths, each exactly one chunk, the base fixed */
	base = __pcpu_fast.arena_base;
	meta = (_pcpu_chunk_map_meta_bytes(_pcpu_geo->unit_size, _pcpu_geo->page_size) + _pcpu_geo->page_size - 1) &
	       ~(size_t)(_pcpu_geo->page_size - 1);
	while (nr_chunks() < 6) {
		size_t arena = __pcpu_fast.arena_size;

		if (!add_obj()) {
			fprintf(stderr, "allocation %d failed: %s\n", nr_objs, strerror(errno));
			CHECK(0);
			break;
		}
		CHECK(__pcpu_fast.arena_size == arena ||
		      __pcpu_fast.arena_size == arena + _pcpu_geo->chunk_bytes);
	}
	CHECK_EQ(__pcpu_fast.arena_base, base);
	CHECK_EQ(__pcpu_fast.arena_size, (size_t)_pcpu_alloc.max_chunks * _pcpu_geo->chunk_bytes);
	CHECK(_pcpu_alloc.max_chunks >= 6);
	grown = vm_size();
	fprintf(stderr, "%d chunks: %zu KiB more\n", _pcpu_alloc.max_chunks, (grown - after) >> 10);
	/* each chunk costs its range and its maps, nothing more */
	CHECK(emulated ||
	      grown - after <= (size_t)(_pcpu_alloc.max_chunks - 1) * (_pcpu_geo->chunk_bytes + meta) + INIT_SLACK);
	verify_all();
}

/* The range above the arena taken: the next growth fails with ENOMEM, nothing changes,
 * and it works again once the range is free. */
static void test_blocked(void)
{
	struct pcpu_stats st0, st1;
	size_t arena = __pcpu_fast.arena_size;
	char *next = (char *)__pcpu_fast.arena_base + arena;
	void *blocker = mmap(next, _pcpu_geo->page_size, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	int before = nr_objs;

	CHECK(blocker == next);
	if (blocker != next)
		return;
	errno = 0;
	while (nr_objs - before < 1000 && add_obj())
		; /* the chunks there are fill up */
	CHECK(nr_objs - before < 1000);
	CHECK_EQ(errno, ENOMEM);
	CHECK_EQ(pcpu_get_stats(&st0), 0);
	CHECK_EQ(__pcpu_fast.arena_size, arena);
	/* again, and through the balance work, which makes chunks too */
	errno = 0;
	CHECK(pcpu_alloc(PCPU_MAX_ALLOC_SIZE, 8) == NULL);
	CHECK_EQ(errno, ENOMEM);
	pcpu_balance();
	CHECK_EQ(pcpu_get_stats(&st1), 0);
	CHECK_EQ(st1.nr_alloc_failed, st0.nr_alloc_failed + 1);
	CHECK_EQ(st1.nr_cur_alloc, st0.nr_cur_alloc);
	CHECK_EQ(st1.nr_chunks, st0.nr_chunks);
	CHECK_EQ(__pcpu_fast.arena_size, arena);
	verify_all();
	/* small allocations still fit where there is room, frees work */
	void *small = pcpu_alloc(4, 4);
	CHECK(small != NULL || errno == ENOMEM);
	pcpu_free(small);
	pcpu_free(objs[--nr_objs].p);
	CHECK(add_obj() != NULL);

	CHECK_EQ(munmap(blocker, _pcpu_geo->page_size), 0);
	CHECK(add_obj() != NULL);
	CHECK(add_obj() != NULL);
	while (__pcpu_fast.arena_size == arena && add_obj())
		;
	CHECK_EQ(__pcpu_fast.arena_size, arena + _pcpu_geo->chunk_bytes);
	verify_all();
}

/* The backend failing to reserve the next range (injected): the same clean ENOMEM. */
static int fail_reserve_at;

static int failing_reserve_at(void *addr, size_t size)
{
	if (fail_reserve_at) {
		errno = ENOMEM;
		return -1;
	}
	return _pcpu_vm_os.reserve_at(addr, size);
}

static struct pcpu_vm_ops failing_vm;

static void test_injected(void)
{
	struct pcpu_stats st0, st1;
	size_t arena;

	failing_vm = _pcpu_vm_os;
	failing_vm.reserve_at = failing_reserve_at;
	_pcpu_vm = &failing_vm;
	fail_reserve_at = 1;
	arena = __pcpu_fast.arena_size;
	CHECK_EQ(pcpu_get_stats(&st0), 0);
	errno = 0;
	while (add_obj())
		;
	CHECK_EQ(errno, ENOMEM);
	CHECK_EQ(__pcpu_fast.arena_size, arena);
	CHECK_EQ(pcpu_get_stats(&st1), 0);
	CHECK_EQ(st1.nr_chunks, st0.nr_chunks);
	CHECK_EQ(st1.nr_alloc_failed, st0.nr_alloc_failed + 1);
	verify_all();
	fail_reserve_at = 0;
	CHECK(add_obj() != NULL);
	CHECK_EQ(__pcpu_fast.arena_size, arena + _pcpu_geo->chunk_bytes);
	_pcpu_vm = &_pcpu_vm_os;

	/* everything goes back; the arena stays as large as it grew */
	while (nr_objs)
		pcpu_free(objs[--nr_objs].p);
	pcpu_balance();
	CHECK(nr_chunks() <= 2);
	CHECK_EQ(__pcpu_fast.arena_size, (size_t)_pcpu_alloc.max_chunks * _pcpu_geo->chunk_bytes);
	for (int i = 0; i < _pcpu_alloc.max_chunks; i++) {
		char err[256];

		if (_pcpu_alloc.chunks[i] && _pcpu_chunk_map_verify(&_pcpu_alloc.chunks[i]->map, err, sizeof(err))) {
			fprintf(stderr, "chunk %d: %s\n", i, err);
			CHECK(0);
		}
	}
}

/* No address with room known (no /proc, say): the kernel places a larger reservation of
 * which the arena keeps the first chunk, and grows into the rest. */
static void *no_room(size_t align)
{
	(void)align;
	return NULL;
}

static void without_hint(void *arg)
{
	static struct pcpu_vm_ops vm;

	(void)arg;
	vm = _pcpu_vm_os;
	vm.roomy_address = no_room;
	_pcpu_vm = &vm;
	CHECK_EQ(pcpu_init(), 0);
	while (nr_chunks() < 6) {
		if (!add_obj()) {
			fprintf(stderr, "allocation %d failed: %s\n", nr_objs, strerror(errno));
			CHECK(0);
			break;
		}
	}
	CHECK_EQ(__pcpu_fast.arena_size, (size_t)_pcpu_alloc.max_chunks * _pcpu_geo->chunk_bytes);
	verify_all();
}

static void with_hint(void *arg)
{
	(void)arg;
	test_rlimit();
	test_blocked();
	test_injected();
}

/* Each in a child: the limit on the address space stays there, and the parent does not
 * initialize the library (the children measure what initialization maps). */
static int run(const char *want)
{
	mode_want = want;
	static const struct {
		const char *name;
		void (*fn)(void *);
	} parts[] = { { "under RLIMIT_AS", with_hint }, { "without a hint", without_hint } };
	char buf[8192];

	for (int i = 0; i < 2; i++) {
		int status = tu_in_child(parts[i].fn, NULL, buf, sizeof(buf));

		fputs(buf, stderr);
		if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
			fprintf(stderr, "%s: status %#x\n", parts[i].name, status);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	return tu_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	tu_seed("test_address_space");
	return tu_run_modes(argc, argv, run);
}
