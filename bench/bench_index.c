/* SPDX-License-Identifier: MIT */
/* bench_index.c - what the index mode costs and saves (index.c), as rows of bench.h's
 * table.  Memory: resident bytes of 100,000 objects of 64 B, each updated by 2 threads,
 * at 2, 256, 1,024 and 4,096 simulated CPUs (LIBPERCPU_TOPOLOGY), in cpu mode and in cid
 * mode, against the ideal: objects x size x the indexes the threads used.  Speed:
 * this_cpu_inc on one counter in cid mode against cpu mode.  The mode is fixed per
 * process, so each figure runs in child processes (this program again, with the
 * arguments "rss CPUS MODE" or "inc MODE"), alternately, the best of BENCH_REPS each.
 * A cpu-mode run that would need more than a quarter of the available memory is not
 * run: its row says so.  Exits 1 if a total is wrong or a child fails.
 * Usage: bench_index [objects]   (default 100,000) */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "percpu.h"
#include "bench.h"

#define OBJ_SIZE 64
#define THREADS 2

static long nr_objects = 100000;
static uint64_t **objs;
static uint64_t used_mask; /* bit i: a worker ran with index i (i < 64) */

static size_t resident_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f || fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	if (f)
		fclose(f);
	return resident * (size_t)sysconf(_SC_PAGESIZE);
}

static pthread_barrier_t start;

static void *updater(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start); /* together: 2 threads at once, as a service runs */
	for (long i = 0; i < nr_objects; i++) {
		pcpu_this_inc(*objs[i]);
		unsigned int id = pcpu_current_cpu();
		if (id < 64)
			__atomic_fetch_or(&used_mask, 1ull << id, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Child: allocates and updates the objects; prints "RESIDENT USED_INDEXES". */
static int child_rss(void)
{
	size_t before = resident_bytes();
	pthread_t t[THREADS];
	unsigned int i;

	if (pcpu_init() != 0)
		return 1;
	objs = calloc((size_t)nr_objects, sizeof(*objs));
	for (long k = 0; k < nr_objects; k++)
		if (!objs || !(objs[k] = (uint64_t *)pcpu_alloc(OBJ_SIZE, 8)))
			return 1;
	pthread_barrier_init(&start, NULL, THREADS);
	for (int k = 0; k < THREADS; k++)
		pthread_create(&t[k], NULL, updater, NULL);
	for (int k = 0; k < THREADS; k++)
		pthread_join(t[k], NULL);
	size_t after = resident_bytes();
	for (long k = 0; k < nr_objects; k += nr_objects / 100 + 1) {
		uint64_t sum = 0;

		pcpu_for_each_possible_cpu(i)
			sum += *pcpu_ptr(objs[k], i);
		if (sum != THREADS)
			return 1;
	}
	printf("%zu %d\n", after - before, __builtin_popcountll(used_mask));
	return 0;
}

/* Child: ns per this_cpu_inc, the best of BENCH_REPS runs. */
static uint64_t *inc_ctr;
static void inc_loop(void *arg, long n)
{
	(void)arg;
	for (long k = 0; k < n; k++)
		pcpu_this_inc(*inc_ctr);
}

static int child_inc(void)
{
	unsigned int i;
	uint64_t sum = 0;
	long iters = 20000000;
	int reps = bench_reps();
	double best;

	inc_ctr = pcpu_alloc_type(uint64_t);
	if (!inc_ctr)
		return 1;
	inc_loop(NULL, iters / 10);
	best = bench_best(inc_loop, NULL, iters);
	pcpu_for_each_possible_cpu(i)
		sum += *pcpu_ptr(inc_ctr, i);
	if (sum != (uint64_t)(iters / 10) + (uint64_t)iters * (uint64_t)reps)
		return 1;
	printf("%.4f\n", best);
	return 0;
}

/* Runs this program as a child with @args and the environment @topo / @mode; reads the
 * line it prints into @out.  0, or -1 if it failed. */
static int run_child(const char *self, const char *what, const char *topo, const char *mode,
		     char *out, size_t size)
{
	char cmd[512];
	FILE *p;
	int status;

	snprintf(cmd, sizeof(cmd), "BENCH_REPS=1 LIBPERCPU_INDEX=%s %s%s %s %s %ld", mode,
		 topo ? "LIBPERCPU_TOPOLOGY=" : "", topo ? topo : "", self, what, nr_objects);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (!fgets(out, (int)size, p))
		out[0] = '\0';
	status = pclose(p);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 && out[0] ? 0 : -1;
}

static size_t mem_available(void)
{
	char line[256];
	size_t kb = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %zu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb << 10;
}

static int rss_rows(const char *self, unsigned int cpus)
{
	static const char *const modes[] = { "cpu", "cid" };
	char topo[32], out[128], fig[128];

	snprintf(topo, sizeof(topo), "0-%u", cpus - 1);
	for (int m = 0; m < 2; m++) {
		size_t best = (size_t)-1, need = (size_t)nr_objects * OBJ_SIZE * cpus;
		int used = 0;

		snprintf(fig, sizeof(fig), "RSS %ld x %d B, %d threads, %4u CPUs, %s mode", nr_objects,
			 OBJ_SIZE, THREADS, cpus, modes[m]);
		if (m == 0 && need > mem_available() / 4) {
			printf("| %-64s | %-14s | %-30s | %6s |\n", fig, "not run",
			       "would need > 1/4 of free memory", "-");
			continue;
		}
		for (int r = 0; r < bench_reps() && r < 3; r++) {
			size_t rss;
			int u;

			if (run_child(self, "rss", topo, modes[m], out, sizeof(out)) != 0 ||
			    sscanf(out, "%zu %d", &rss, &u) != 2) {
				fprintf(stderr, "bench_index: %s: child failed\n", fig);
				return 1;
			}
			best = rss < best ? rss : best;
			used = u > used ? u : used;
		}
		/* ideal: the objects times the indexes (CPUs or IDs) in use, at least one */
		double ideal = (double)nr_objects * OBJ_SIZE * (used ? used : 1);
		char base[20];

		snprintf(base, sizeof(base), "ideal, %d ID%s", used % 100, used == 1 ? "" : "s");
		bench_row(fig, (double)best / (1 << 20), "MiB", base, ideal / (1 << 20));
	}
	return 0;
}

static int inc_row(const char *self)
{
	double best[2] = { 1e300, 1e300 };
	static const char *const modes[] = { "cpu", "cid" };
	char out[128];

	/* alternately, so that a change of the machine's load hits both */
	for (int r = 0; r < bench_reps(); r++)
		for (int m = 0; m < 2; m++) {
			double ns;

			if (run_child(self, "inc", NULL, modes[m], out, sizeof(out)) != 0 ||
			    sscanf(out, "%lf", &ns) != 1) {
				fprintf(stderr, "bench_index: this_cpu_inc in %s mode failed\n", modes[m]);
				return 1;
			}
			best[m] = ns < best[m] ? ns : best[m];
		}
	bench_row("this_cpu_inc, one counter, cid mode", best[1], "ns", "cpu mode", best[0]);
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned int cpus[] = { 2, 256, 1024, 4096 };

	if (argc > 2)
		nr_objects = atol(argv[2]);
	else if (argc > 1 && strcmp(argv[1], "rss") != 0 && strcmp(argv[1], "inc") != 0)
		nr_objects = atol(argv[1]);
	if (nr_objects <= 0)
		nr_objects = 100000;
	if (argc > 1 && strcmp(argv[1], "rss") == 0)
		return child_rss();
	if (argc > 1 && strcmp(argv[1], "inc") == 0)
		return child_inc();

	bench_header();
	if (inc_row(argv[0]))
		return 1;
	for (size_t i = 0; i < sizeof(cpus) / sizeof(cpus[0]); i++)
		if (rss_rows(argv[0], cpus[i]))
			return 1;
	return 0;
}
