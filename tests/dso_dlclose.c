/* SPDX-License-Identifier: MIT */
/* dso_dlclose.c - a plugin's this_cpu operations must not leave a thread pointing at a
 * descriptor that dlclose unmaps (issue 6, item 1).  (1) After each primitive run in the
 * plugin (every way out of a section: committed, comparison failed), the thread's rseq_cs
 * is clear; the executable's own sections, which stay loaded, may leave it set.  (2) The
 * issue's reproducer at scale: the main thread dlopens the plugin, calls its
 * pcpu_this_inc(), dlcloses it, yields and sleeps, 10,000 times, while other threads do
 * the same with handles of their own and others run this_cpu operations in the program;
 * any thread left pointing into the unmapped plugin is killed at its next preemption.
 * The per-CPU total must equal the number of increments.  Runs with glibc's rseq, the
 * library's own registration, and the getcpu fallback. */
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "percpu.h"
#include "testutil.h"

#define PLUGIN_THREADS 2
#define EXE_THREADS 1

static char plugin_path[4096];
static long *counter;
static int stop;

struct plugin {
	void *h;
	void (*add)(long *);
	uint64_t (*op)(int, uint64_t *);
	uint64_t (*counter_add)(struct pcpu_counter *, int64_t, int32_t);
};

static int plugin_open(struct plugin *p)
{
	p->h = dlopen(plugin_path, RTLD_NOW | RTLD_LOCAL);
	if (!p->h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return -1;
	}
	p->add = (void (*)(long *))dlsym(p->h, "plugin_add");
	p->op = (uint64_t(*)(int, uint64_t *))dlsym(p->h, "plugin_op");
	p->counter_add = (uint64_t(*)(struct pcpu_counter *, int64_t, int32_t))dlsym(
		p->h, "plugin_counter_add");
	return p->add && p->op && p->counter_add ? 0 : -1;
}

static uint64_t exe_rseq_cs(void)
{
	return *(volatile uint64_t *)((char *)__pcpu_thread_pointer() + __pcpu_fast.rseq_offset + 8);
}

/* Whether @cs, an rseq_cs value, points into the object that holds @fn. */
static int in_object_of(uint64_t cs, void *fn)
{
	Dl_info a, b;

	return cs && dladdr((void *)(uintptr_t)cs, &a) && dladdr(fn, &b) &&
	       a.dli_fbase == b.dli_fbase;
}

/* (1): every primitive, every way out, leaves rseq_cs clear in the plugin; so does
 * pcpu_counter's inline add, or, past the batch, leaves it to libpercpu's fold. */
static void rseq_cs_cleared(int rseq_mode)
{
	struct plugin p;
	uint64_t *pair = pcpu_alloc(16, 16);
	struct pcpu_counter c;
	int seen_set = 0;

	CHECK(pair != NULL);
	CHECK_EQ(pcpu_counter_init(&c, 0, PCPU_GFP_KERNEL), 0);
	CHECK_EQ(plugin_open(&p), 0);
	for (int round = 0; round < 100; round++) {
		for (int op = 0; op <= 5; op++) {
			uint64_t cs = p.op(op, pair);
			if (cs != 0)
				fprintf(stderr, "  op %d left rseq_cs = %#llx\n", op,
					(unsigned long long)cs);
			CHECK_EQ(cs, 0);
		}
		pcpu_counter_set(&c, 0);
		CHECK_EQ(p.counter_add(&c, 999, 1000), 0);  /* stays in the delta */
		CHECK(!in_object_of(p.counter_add(&c, 1, 1000), (void *)p.op)); /* folds */
		CHECK_EQ(pcpu_counter_sum(&c), 1000);
		/* the executable's sections leave it set (nothing to pay): this shows that
		 * the check above reads the field the kernel reads */
		pcpu_this_inc(*counter);
		seen_set += exe_rseq_cs() != 0;
	}
	if (rseq_mode)
		CHECK(seen_set > 0);
	CHECK_EQ(dlclose(p.h), 0);
	pcpu_free(pair);
	pcpu_counter_destroy(&c);
	unsigned int cpu;
	pcpu_for_each_possible_cpu(cpu)
		*pcpu_ptr(counter, cpu) = 0;
}

static void *plugin_thread(void *arg)
{
	long *calls = arg;
	struct plugin p;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		if (plugin_open(&p) != 0) {
			CHECK(!"plugin_open");
			break;
		}
		for (int i = 0; i < 20; i++)
			p.add(counter);
		*calls += 20;
		dlclose(p.h);
		usleep(150); /* let the main thread's dlclose be the last one, often */
	}
	return NULL;
}

static void *exe_thread(void *arg)
{
	long *calls = arg;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		for (int i = 0; i < 100; i++)
			pcpu_this_inc(*counter);
		*calls += 100;
		usleep(100);
	}
	return NULL;
}

static int run_mode(const char *want)
{
	/* the fallback has no rseq_cs to leave behind: fewer cycles there */
	long cycles = tu_scaled(strstr(want, "sched_getcpu") ? 1000 : 10000);
	pthread_t t[PLUGIN_THREADS + EXE_THREADS];
	long calls[PLUGIN_THREADS + EXE_THREADS] = { 0 }, total = cycles, sum = 0;
	unsigned int cpu;

	fprintf(stderr, "mode: %s\n", pcpu_cpu_source());
	CHECK(tu_source_is(want));
	counter = pcpu_alloc_type(long);
	CHECK(counter != NULL);
	rseq_cs_cleared(strstr(pcpu_cpu_source(), "registration") != NULL);

	for (int i = 0; i < PLUGIN_THREADS; i++)
		pthread_create(&t[i], NULL, plugin_thread, &calls[i]);
	for (int i = PLUGIN_THREADS; i < PLUGIN_THREADS + EXE_THREADS; i++)
		pthread_create(&t[i], NULL, exe_thread, &calls[i]);
	for (long c = 0; c < cycles; c++) {
		struct plugin p;

		if (plugin_open(&p) != 0) {
			CHECK(!"plugin_open");
			break;
		}
		p.add(counter);
		CHECK_EQ(dlclose(p.h), 0);
		sched_yield();
		usleep(100);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < PLUGIN_THREADS + EXE_THREADS; i++) {
		pthread_join(t[i], NULL);
		total += calls[i];
	}
	pcpu_for_each_possible_cpu(cpu)
		sum += *pcpu_ptr(counter, cpu);
	fprintf(stderr, "  %ld dlopen/dlclose cycles in the main thread, %ld increments in all\n",
		cycles, total);
	CHECK_EQ(sum, total);
	pcpu_free(counter);
	return tu_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *slash = strrchr(argv[0], '/');

	snprintf(plugin_path, sizeof(plugin_path), "%.*slibpcpu_unload.so",
		 slash ? (int)(slash - argv[0] + 1) : 0, argv[0]);
	/* the modes side by side: the cycles mostly sleep */
	return tu_run_modes_side_by_side(argc, argv, run_mode);
}
