/* SPDX-License-Identifier: MIT */
/* test_index.c - the index mode (index.c): how it is chosen (pcpu_set_index_mode(),
 * LIBPERCPU_INDEX) and refused, the fallbacks to cpu mode and what they say, exact
 * totals in cid mode from more threads than CPUs under migration (this_cpu operations,
 * get_cpu() exclusion), and memory: in cid mode an ID no thread uses has no resident
 * page in any chunk and reads as zeros, and with 4,096 simulated CPUs the first chunk
 * costs under 16 MiB in cid mode and at most 1.2 times what it holds in cpu mode.
 * Each case runs in a child process of its own: the mode is chosen once per process. */
#include <pthread.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc_state.h"
#include "percpu/kernel.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER_MEMORY 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER_MEMORY 1
#endif
#endif
#ifndef UNDER_SANITIZER_MEMORY
#define UNDER_SANITIZER_MEMORY 0
#endif

static int kernel_has_cid(void)
{
	return getauxval(27 /* AT_RSEQ_FEATURE_SIZE */) >= 28 && tu_rseq_available();
}

/* The process's resident bytes, from /proc/self/statm. */
static size_t resident_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	CHECK(f != NULL);
	if (!f)
		return 0;
	CHECK_EQ(fscanf(f, "%lu %lu", &size, &resident), 2);
	fclose(f);
	return resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* Runs @fn in a child with @env (NAME=VALUE, or NULL) set; checks it passed and returns
 * its stderr in @buf. */
static void in_child_with(const char *name, const char *env, void (*fn)(void *), char *buf,
			  size_t size)
{
	char copy[256];
	int status;

	if (env) {
		snprintf(copy, sizeof(copy), "%s", env);
		char *eq = strchr(copy, '=');
		*eq = '\0';
		setenv(copy, eq + 1, 1);
	}
	status = tu_in_child(fn, NULL, buf, size);
	if (env)
		unsetenv(copy);
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		fprintf(stderr, "%s: child failed (status %#x):\n%s\n", name, status, buf);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---- choosing the mode ---------------------------------------------------------------- */

static int nop_ran;

static void nop(void *arg)
{
	(void)arg;
	nop_ran = 1;
}

static void set_before_init(void *arg)
{
	unsigned int n = 0, id;
	int cpu;

	(void)arg;
	errno = 0;
	CHECK_EQ(pcpu_set_index_mode(2), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(pcpu_set_index_mode(-1), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(pcpu_set_index_mode(PCPU_INDEX_CID), 0);
	CHECK_EQ(pcpu_init(), 0);
	errno = 0;
	CHECK_EQ(pcpu_set_index_mode(PCPU_INDEX_CPU), -1);
	CHECK_EQ(errno, EBUSY);
	CHECK_EQ(pcpu_set_index_mode(PCPU_INDEX_CID), -1);
	CHECK_EQ(errno, EBUSY);
	if (!kernel_has_cid()) {
		fprintf(stderr, "SKIP cid mode: no mm_cid from this kernel\n");
		CHECK_EQ(pcpu_index_mode(), PCPU_INDEX_CPU);
		return;
	}
	CHECK_EQ(pcpu_index_mode(), PCPU_INDEX_CID);
	/* the ID space: 0 .. N-1, N the machine's possible CPUs, all online, node 0 */
	char want[64];
	snprintf(want, sizeof(want), "cid (rseq mm_cid, %u IDs)", pcpu_nr_cpu_ids());
	CHECK(strcmp(pcpu_index_source(), want) == 0);
	pcpu_for_each_possible_cpu(cpu) {
		CHECK_EQ((unsigned int)cpu, n);
		CHECK(pcpu_cpu_online((unsigned int)cpu));
		CHECK_EQ(pcpu_cpu_to_node((unsigned int)cpu), 0);
		n++;
	}
	CHECK_EQ(n, pcpu_nr_cpu_ids());
	CHECK_EQ(n, pcpu_num_possible_cpus());
	/* one thread: the kernel's ID is the library's index, as the rseq area holds it */
	id = pcpu_current_cpu();
	CHECK_EQ(id, *(volatile uint32_t *)((char *)__pcpu_thread_pointer() +
					    __pcpu_fast.rseq_offset + 24));
	CHECK_EQ(smp_processor_id(), id);
	CHECK_EQ(get_cpu(), id);
	put_cpu();
	/* no thread can choose its ID: going to an ID's copies is refused, by name */
	errno = 0;
	CHECK_EQ(pcpu_run_on_cpu(0, nop, NULL), -1);
	CHECK_EQ(errno, EOPNOTSUPP);
	CHECK(!nop_ran);
}

/* The call wins over the environment, both ways. */
static void call_wins_cpu(void *arg)
{
	(void)arg;
	CHECK_EQ(pcpu_set_index_mode(PCPU_INDEX_CPU), 0);
	CHECK_EQ(pcpu_index_mode(), PCPU_INDEX_CPU);
	CHECK(strcmp(pcpu_index_source(), "cpu") == 0);
}

static void env_cid(void *arg)
{
	(void)arg;
	CHECK_EQ(pcpu_index_mode(), kernel_has_cid() ? PCPU_INDEX_CID : PCPU_INDEX_CPU);
	fprintf(stderr, "index: %s\n", pcpu_index_source());
}

static void env_bad(void *arg)
{
	(void)arg;
	errno = 0;
	CHECK_EQ(pcpu_init(), -1);
	CHECK_EQ(errno, EINVAL);
	CHECK_EQ(pcpu_index_mode(), PCPU_INDEX_CPU);
	errno = 0;
	CHECK_EQ(pcpu_set_index_mode(PCPU_INDEX_CID), -1); /* failed init: too late too */
	CHECK_EQ(errno, EBUSY);
}

static void test_choosing(void)
{
	char buf[4096];

	in_child_with("set before init", NULL, set_before_init, buf, sizeof(buf));
	in_child_with("call wins", "LIBPERCPU_INDEX=cid", call_wins_cpu, buf, sizeof(buf));
	in_child_with("LIBPERCPU_INDEX=cid", "LIBPERCPU_INDEX=cid", env_cid, buf, sizeof(buf));
	in_child_with("LIBPERCPU_INDEX=cpu", "LIBPERCPU_INDEX=cpu", call_wins_cpu, buf, sizeof(buf));
	in_child_with("LIBPERCPU_INDEX=CID", "LIBPERCPU_INDEX=CID", env_bad, buf, sizeof(buf));
	CHECK(strstr(buf, "libpercpu: LIBPERCPU_INDEX=CID: unknown value (cpu or cid)") != NULL);
}

/* ---- fallbacks ------------------------------------------------------------------------- */

static const char *fallback_want;
static long *fallback_ctr;

/* cpu mode with the reason, and this_cpu operations as exact as ever */
static void fallback_child(void *arg)
{
	unsigned int cpu;
	uint64_t sum = 0;

	(void)arg;
	CHECK_EQ(pcpu_set_index_mode(PCPU_INDEX_CID), 0);
	CHECK_EQ(pcpu_index_mode(), PCPU_INDEX_CPU);
	if (!strstr(pcpu_index_source(), fallback_want))
		fprintf(stderr, "index source \"%s\" lacks \"%s\"\n", pcpu_index_source(),
			fallback_want);
	CHECK(strstr(pcpu_index_source(), fallback_want) != NULL);
	CHECK(strncmp(pcpu_index_source(), "cpu (cid asked for, unavailable: ", 33) == 0);
	fallback_ctr = pcpu_alloc_type(long);
	for (int i = 0; i < 1000; i++)
		pcpu_this_inc(*fallback_ctr);
	pcpu_for_each_possible_cpu(cpu)
		sum += (uint64_t)*pcpu_ptr(fallback_ctr, cpu);
	CHECK_EQ(sum, 1000);
	CHECK_EQ(pcpu_current_cpu(), (unsigned int)sched_getcpu());
}

static void old_kernel(void *arg)
{
	_pcpu_index_test_feature_size = 1; /* no AT_RSEQ_FEATURE_SIZE: before 6.3 */
	fallback_want = "the kernel has no mm_cid";
	fallback_child(arg);
}

static void small_feature(void *arg)
{
	_pcpu_index_test_feature_size = 20;
	fallback_want = "the kernel's rseq feature size 20 has no mm_cid";
	fallback_child(arg);
}

static void small_area(void *arg)
{
	_pcpu_index_test_area_size = 24;
	fallback_want = "the registered rseq area is 24 bytes, mm_cid needs 28";
	fallback_child(arg);
}

static void no_rseq(void *arg)
{
	fallback_want = "no rseq, the CPU comes from sched_getcpu";
	fallback_child(arg);
}

static void test_fallbacks(void)
{
	char buf[4096];

	/* without rseq (qemu-user, seccomp) that is the reason given, whatever the kernel's
	 * feature size: the first three cases need rseq to reach their own reason */
	if (tu_rseq_available()) {
		in_child_with("old kernel", NULL, old_kernel, buf, sizeof(buf));
		in_child_with("small feature size", NULL, small_feature, buf, sizeof(buf));
		in_child_with("small area", NULL, small_area, buf, sizeof(buf));
		in_child_with("small area, own registration", "GLIBC_TUNABLES=glibc.pthread.rseq=0",
			      small_area, buf, sizeof(buf));
	}
	in_child_with("no rseq", "LIBPERCPU_CPU_SOURCE=getcpu", no_rseq, buf, sizeof(buf));
}

/* ---- exactness in cid mode ------------------------------------------------------------- */

#define THREADS 5 /* more than the CPUs of small machines: IDs are shared over time */

struct cid_counts {
	uint64_t ops;     /* this_cpu_inc */
	uint64_t locked;  /* plain increments under get_cpu() */
	uint64_t seen;    /* bit i: ID i was seen (i < 64) */
};

PCPU_DEFINE(uint64_t, static_ops);
static struct cid_counts *counts;
static long per_thread;
static unsigned int max_id_seen;

static void *cid_worker(void *arg)
{
	unsigned int first = (unsigned int)(uintptr_t)arg;

	for (long i = 0; i < per_thread; i++) {
		unsigned int id;

		if (i % 4096 == 0) /* hop between CPUs: migrations change the ID too */
			tu_pin(tu_nth_allowed_cpu(first + (unsigned int)(i / 4096)));
		pcpu_this_inc(counts->ops);
		pcpu_this_inc(static_ops);
		id = get_cpu();
		pcpu_ptr(counts, id)->locked++; /* get_cpu() excludes every other holder of id */
		put_cpu();
		unsigned int old = __atomic_load_n(&max_id_seen, __ATOMIC_RELAXED);
		while (id > old && !__atomic_compare_exchange_n(&max_id_seen, &old, id, 0,
							       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			;
	}
	return NULL;
}

static int run_exact(const char *want)
{
	pthread_t t[THREADS];
	uint64_t ops = 0, locked = 0, st = 0;
	unsigned int id;

	CHECK(tu_source_is(want));
	(void)tu_allowed_cpus();
	counts = pcpu_alloc_type(struct cid_counts);
	CHECK(counts != NULL);
	per_thread = tu_scaled(200000);
	for (int i = 0; i < THREADS; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, cid_worker, (void *)(uintptr_t)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	pcpu_for_each_possible_cpu(id) {
		ops += pcpu_ptr(counts, id)->ops;
		locked += pcpu_ptr(counts, id)->locked;
		st += pcpu_var(static_ops, id);
	}
	CHECK_EQ(ops, (uint64_t)THREADS * (uint64_t)per_thread);
	CHECK_EQ(locked, (uint64_t)THREADS * (uint64_t)per_thread);
	CHECK_EQ(st, (uint64_t)THREADS * (uint64_t)per_thread);
	CHECK(max_id_seen < pcpu_nr_cpu_ids());
	if (tu_index_cid()) {
		/* the kernel's bound: below min(threads, CPUs the process may use) */
		CHECK(max_id_seen < tu_nr_allowed_cpus() && max_id_seen < THREADS);
		fprintf(stderr, "  %s: exact over %d threads, IDs up to %u of %u\n", want, THREADS,
			max_id_seen, pcpu_nr_cpu_ids());
	}
	pcpu_free(counts);
	return tu_failures ? 1 : 0;
}

/* ---- memory follows the IDs used ------------------------------------------------------- */

#define OBJECTS 10000

static void *two_threads_worker(void *arg)
{
	uint64_t **objs = (uint64_t **)arg;

	for (int i = 0; i < OBJECTS; i++)
		pcpu_this_add(*objs[i], (uint64_t)i);
	return NULL;
}

/* 4,096 simulated CPUs, cid mode: init costs under 16 MiB; OBJECTS objects updated by
 * two threads make only the units of the IDs those threads held resident; every other
 * ID's copy reads zeros, sums are exact, and reading all IDs makes nothing resident. */
static void cid_memory(void *arg)
{
	static uint64_t *objs[OBJECTS];
	size_t before = resident_bytes(), after_init, after_use, after_sum, ideal;
	pthread_t t[2];
	unsigned int id, ids;

	(void)arg;
	CHECK_EQ(pcpu_set_index_mode(PCPU_INDEX_CID), 0);
	CHECK_EQ(pcpu_init(), 0);
	CHECK_EQ(pcpu_index_mode(), PCPU_INDEX_CID);
	CHECK_EQ(pcpu_nr_cpu_ids(), 4096);
	after_init = resident_bytes();
	fprintf(stderr, "  cid mode, 4096 IDs: init made %zu KiB resident\n",
		(after_init - before) >> 10);
	CHECK(after_init - before < ((size_t)16 << 20));

	for (int i = 0; i < OBJECTS; i++) {
		objs[i] = pcpu_alloc_type(uint64_t);
		CHECK(objs[i] != NULL);
	}
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, two_threads_worker, objs), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	after_use = resident_bytes();
	/* the two threads (and the main one, waiting) held IDs below min(threads, CPUs),
	 * the kernel's bound: at most that many copies of each object are resident (a
	 * page of a unit is resident or not: mincore() cannot tell, it counts the shared
	 * zero page that reading maps, so this counts the process's resident memory) */
	ids = tu_nr_allowed_cpus() < 3 ? tu_nr_allowed_cpus() : 3;
	ideal = (size_t)OBJECTS * sizeof(uint64_t) * ids;
	fprintf(stderr, "  cid mode, 4096 IDs: %d objects used by 2 threads: %zu KiB more, "
		"at most %zu KiB in use\n", OBJECTS, (after_use - after_init) >> 10, ideal >> 10);
	CHECK(after_use - after_init <= 2 * ideal + ((size_t)512 << 10));
	for (int i = 0; i < OBJECTS; i++) {
		uint64_t sum = 0;

		pcpu_for_each_possible_cpu(id)
			sum += *pcpu_ptr(objs[i], id);
		CHECK_EQ(sum, 2 * (uint64_t)i);
		CHECK_EQ(*pcpu_ptr(objs[i], 4095), 0);
	}
	after_sum = resident_bytes();
	fprintf(stderr, "  cid mode, 4096 IDs: reading every ID's copy of each: %zu KiB more\n",
		(after_sum - after_use) >> 10);
	CHECK(after_sum - after_use < ((size_t)1 << 20));
	/* a freed object's copies come back zeroed, and allocating writes no unused ID */
	for (int i = 0; i < OBJECTS; i += 2)
		pcpu_free(objs[i]);
	for (int i = 0; i < OBJECTS; i += 2) {
		objs[i] = pcpu_alloc_type(uint64_t);
		CHECK(objs[i] != NULL);
		pcpu_for_each_possible_cpu(id)
			CHECK_EQ(*pcpu_ptr(objs[i], id), 0);
	}
	CHECK(resident_bytes() - after_sum < ((size_t)1 << 20));
	for (int i = 0; i < OBJECTS; i++)
		pcpu_free(objs[i]);
}

/* 4,096 simulated CPUs, cpu mode: the first chunk costs at most 1.2 times its static,
 * reserved and dynamic regions in every CPU's unit (no unit's tail is resident). */
static void cpu_first_chunk(void *arg)
{
	size_t before = resident_bytes(), after, held;

	(void)arg;
	CHECK_EQ(pcpu_init(), 0);
	after = resident_bytes();
	held = (_pcpu_geo->static_size + _pcpu_geo->reserved_size + _pcpu_geo->dyn_size) *
	       _pcpu_geo->nr_used;
	fprintf(stderr, "  cpu mode, 4096 CPUs: init made %zu KiB resident for %zu KiB held "
		"(unit %zu KiB)\n", (after - before) >> 10, held >> 10, _pcpu_geo->unit_size >> 10);
	CHECK_EQ(_pcpu_geo->nr_used, 4096);
	CHECK((after - before) * 5 <= held * 6);
}

/* Units all but full (dynamic region 52K of a 64K unit): cpu mode puts the first chunk
 * on huge pages where it can, cid mode never (a huge page would make 32 units resident
 * at an ID's first write). */
static void huge_when_full(void *arg)
{
	(void)arg;
	CHECK_EQ(pcpu_init(), 0);
	if (_pcpu_geo->ai->atom_size > _pcpu_geo->page_size) {
		fprintf(stderr, "  %s mode, unit %zu KiB holding %zu KiB: first chunk %s\n",
			tu_index_cid() ? "cid" : "cpu", _pcpu_geo->unit_size >> 10,
			(_pcpu_geo->static_size + _pcpu_geo->reserved_size + _pcpu_geo->dyn_size) >> 10,
			_pcpu_alloc.use_huge_first_chunk ? "on huge pages" : "on small pages");
		CHECK_EQ(_pcpu_alloc.use_huge_first_chunk, !tu_index_cid());
	}
}

static void test_memory(void)
{
	char buf[8192];

	if (UNDER_SANITIZER_MEMORY) { /* shadow memory makes resident sizes meaningless */
		fprintf(stderr, "SKIP resident memory under a sanitizer\n");
		return;
	}
	setenv("LIBPERCPU_TOPOLOGY", "0-4095", 1);
	if (kernel_has_cid())
		in_child_with("cid memory", NULL, cid_memory, buf, sizeof(buf));
	fprintf(stderr, "%s", buf);
	in_child_with("cpu first chunk", NULL, cpu_first_chunk, buf, sizeof(buf));
	fprintf(stderr, "%s", buf);
	setenv("LIBPERCPU_TOPOLOGY", "0-63", 1);
	setenv("LIBPERCPU_DYN_SIZE", "52K", 1);
	in_child_with("full units, cpu mode", NULL, huge_when_full, buf, sizeof(buf));
	fprintf(stderr, "%s", buf);
	if (kernel_has_cid()) {
		in_child_with("full units, cid mode", "LIBPERCPU_INDEX=cid", huge_when_full, buf,
			      sizeof(buf));
		fprintf(stderr, "%s", buf);
	}
	unsetenv("LIBPERCPU_DYN_SIZE");
	unsetenv("LIBPERCPU_TOPOLOGY");
}

static int run_mode(const char *want)
{
	tu_seed(want);
	return run_exact(want);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return tu_run_modes(argc, argv, run_mode);
	tu_seed("test_index");
	test_choosing();
	test_fallbacks();
	test_memory();
	run_mode("glibc registration");
	tu_spawn_modes(argv[0]);
	tu_spawn_cid_modes(argv[0]);
	TEST_DONE();
}
