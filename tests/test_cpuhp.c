/* SPDX-License-Identifier: MIT */
/* test_cpuhp.c - CPU hotplug on a simulated machine of 8 CPUs whose sysfs tree (cpu/online,
 * cpu/present) the test rewrites: pcpu_cpus_refresh() and pcpu_balance() against a model
 * of the online and present masks, the order of the callbacks registered with the
 * kernel's cpuhp_setup_state(), a failed setup rolled back, calls back into the registry
 * from a callback, and percpu_counter folding the delta of a CPU that went while threads
 * add (exact totals).  In every CPU-source mode. */
#include <percpu/kernel.h>
#include <pthread.h>
#include <sys/stat.h>

#include "testutil.h"

/* The library's test hook (cpuhp.c): the sysfs tree pcpu_cpus_refresh() re-reads. */
extern const char *_pcpu_cpus_sysfs_root_hook;

#define NCPUS 8
static char root[64];
static bool online[NCPUS], present[NCPUS];

/* ---- the fake sysfs tree ---- */

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cpu/%s", root, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

/* Writes @set as a CPU list, in one of the forms sysfs or an administrator would. */
static void write_set(const char *name, const bool *set)
{
	char text[128] = "";
	size_t len = 0;

	for (int c = 0; c < NCPUS; c++) {
		int e = c;

		if (!set[c])
			continue;
		while (e + 1 < NCPUS && set[e + 1] && tu_rand() % 4)
			e++;
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%d", len ? "," : "", c);
		if (e > c)
			len += (size_t)snprintf(text + len, sizeof(text) - len, "-%d", e);
		c = e;
	}
	snprintf(text + len, sizeof(text) - len, "\n");
	write_file(name, text);
}

static void check_masks(const char *when)
{
	unsigned int n = 0, want = 0, seen = 0;
	int cpu;

	/* the inline iterator reads the refreshed mask: the online CPUs, in order */
	for_each_online_cpu(cpu) {
		while (want < NCPUS && !online[want])
			want++;
		CHECK_EQ(cpu, want);
		want++;
		seen++;
	}

	for (unsigned int c = 0; c < NCPUS; c++) {
		if (cpu_online(c) != online[c] || cpumask_test_cpu(c, cpu_online_mask) != online[c])
			fprintf(stderr, "%s: cpu %u online %d, model %d\n", when, c, cpu_online(c),
				online[c]);
		CHECK_EQ(cpu_online(c), online[c]);
		CHECK_EQ(cpumask_test_cpu(c, cpu_online_mask), online[c]);
		CHECK_EQ(cpu_present(c), present[c] || online[c]);
		n += online[c];
	}
	CHECK_EQ(num_online_cpus(), n);
	CHECK_EQ(cpumask_weight(cpu_online_mask), n);
	CHECK_EQ(seen, n);
}

/* ---- callbacks that log what they see ---- */

struct event {
	char reg;    /* 'a', 'b', 'c' */
	bool up;
	unsigned int cpu;
	bool online; /* cpu_online(cpu) during the call */
};
static struct event events[4 * NCPUS * 4];
static int nr_events;

static int log_event(char reg, bool up, unsigned int cpu)
{
	if (nr_events < (int)(sizeof(events) / sizeof(events[0])))
		events[nr_events] = (struct event){ reg, up, cpu, cpu_online(cpu) };
	nr_events++;
	return 0;
}

static int a_up(unsigned int cpu) { return log_event('a', true, cpu); }
static int a_down(unsigned int cpu) { return log_event('a', false, cpu); }
static int b_up(unsigned int cpu) { return log_event('b', true, cpu); }
static int b_down(unsigned int cpu) { return log_event('b', false, cpu); }

/* Checks the log from @at: for each CPU of @cpus (ascending), the events of @regs. */
static int expect(int at, const bool *cpus, const char *regs, bool up)
{
	for (unsigned int c = 0; c < NCPUS; c++) {
		if (!cpus[c])
			continue;
		for (const char *r = regs; *r; r++, at++) {
			const struct event *e = &events[at];

			if (at >= nr_events || e->reg != *r || e->up != up || e->cpu != c ||
			    !e->online) {
				fprintf(stderr, "event %d: want %c %s cpu %u online; got %c %s cpu %u%s\n",
					at, *r, up ? "up" : "down", c, e->reg, e->up ? "up" : "down",
					e->cpu, e->online ? " online" : "");
				CHECK(0);
				return at;
			}
		}
	}
	return at;
}

/* Random online and present sets (online CPUs 0 and 1 always: the threads run there),
 * written out, refreshed, and the callbacks and masks checked against the model. */
static void random_step(const char *regs, bool via_balance)
{
	bool went[NCPUS], came[NCPUS], next[NCPUS];
	int changes = 0, r, at;

	for (int c = 0; c < NCPUS; c++) {
		next[c] = c < 2 || tu_rand() % 2;
		went[c] = online[c] && !next[c];
		came[c] = !online[c] && next[c];
		changes += went[c] || came[c];
		present[c] = tu_rand() % 2;
	}
	write_set("online", next);
	write_set("present", present);
	nr_events = 0;
	if (via_balance) {
		pcpu_balance();
		r = changes;
	} else {
		r = pcpu_cpus_refresh();
	}
	CHECK_EQ(r, changes);
	/* the CPUs that went, each to every registration in reverse order, then those
	 * that came, in registration order */
	char rev[8];
	size_t n = strlen(regs);
	for (size_t i = 0; i < n; i++)
		rev[i] = regs[n - 1 - i];
	rev[n] = '\0';
	at = expect(0, went, rev, false);
	at = expect(at, came, regs, true);
	CHECK_EQ(at, nr_events);
	memcpy(online, next, sizeof(online));
	check_masks("random step");
}

static int c_calls;
static int c_up(unsigned int cpu)
{
	log_event('c', true, cpu);
	return ++c_calls == 3 ? -ENOMEM : 0;
}
static int c_down(unsigned int cpu) { return log_event('c', false, cpu); }

static int reentry_results[2], reentry_errnos[2];
static int reentry_up(unsigned int cpu)
{
	errno = 0;
	reentry_results[0] = pcpu_cpus_refresh();
	reentry_errnos[0] = errno;
	errno = 0;
	reentry_results[1] = pcpu_cpuhp_setup("nested", NULL, NULL);
	reentry_errnos[1] = errno;
	return 0;
}

static void test_registry(void)
{
	int a, b, d;

	/* setup calls the online callback for every online CPU now */
	nr_events = 0;
	a = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "test:a", a_up, a_down);
	CHECK(a > 0);
	CHECK_EQ(expect(0, online, "a", true), nr_events);
	nr_events = 0;
	b = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "test:b", b_up, b_down);
	CHECK(b > 0 && b != a);
	CHECK_EQ(nr_events, 0);
	CHECK_EQ(cpuhp_setup_state(CPUHP_INVALID, "test:x", a_up, a_down), -EINVAL);

	for (int k = 0; k < 40; k++)
		random_step("ab", k % 5 == 4);

	/* a failed setup: the online callback fails on its third CPU; the two done are
	 * undone, and it stays unregistered */
	for (int cpu = 0; cpu < NCPUS; cpu++)
		online[cpu] = true;
	write_set("online", online);
	CHECK_EQ(pcpu_cpus_refresh() >= 0, 1);
	nr_events = 0;
	c_calls = 0;
	CHECK_EQ(cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "test:c", c_up, c_down), -ENOMEM);
	CHECK_EQ(nr_events, 5);
	CHECK(events[0].reg == 'c' && events[0].up && events[0].cpu == 0);
	CHECK(events[2].reg == 'c' && events[2].up && events[2].cpu == 2);
	CHECK(events[3].reg == 'c' && !events[3].up && events[3].cpu == 0);
	CHECK(events[4].reg == 'c' && !events[4].up && events[4].cpu == 1);
	random_step("ab", false);

	/* from a callback, the registry answers EDEADLK instead of hanging */
	d = pcpu_cpuhp_setup("test:reentry", reentry_up, NULL);
	CHECK(d > 0);
	CHECK_EQ(reentry_results[0], -1);
	CHECK_EQ(reentry_errnos[0], EDEADLK);
	CHECK_EQ(reentry_results[1], -1);
	CHECK_EQ(reentry_errnos[1], EDEADLK);
	CHECK_EQ(pcpu_cpuhp_remove_nocalls(d), 0);

	/* removal calls the offline callback for every online CPU, then no more */
	nr_events = 0;
	cpuhp_remove_state(a);
	CHECK_EQ(expect(0, online, "a", false), nr_events);
	errno = 0;
	CHECK_EQ(pcpu_cpuhp_remove(a), -1);
	CHECK_EQ(errno, EINVAL);
	for (int k = 0; k < 10; k++)
		random_step("b", false);
	cpuhp_remove_state_nocalls(b);
	CHECK_EQ(pcpu_cpuhp_setup(NULL, a_up, a_down), -1);

	/* a malformed file changes nothing; an absent one means every possible CPU */
	write_file("online", "0-\n");
	errno = 0;
	CHECK_EQ(pcpu_cpus_refresh(), -1);
	CHECK_EQ(errno, EINVAL);
	check_masks("malformed");
	/* so does an online list without a possible CPU (the calling thread runs on one) */
	write_file("online", "\n");
	errno = 0;
	CHECK_EQ(pcpu_cpus_refresh(), -1);
	CHECK_EQ(errno, EINVAL);
	check_masks("no CPU online");
	{
		char path[128];
		int changes = 0;

		snprintf(path, sizeof(path), "%s/cpu/online", root);
		unlink(path);
		for (int c = 0; c < NCPUS; c++) {
			changes += !online[c];
			online[c] = true;
		}
		CHECK_EQ(pcpu_cpus_refresh(), changes);
		check_masks("absent");
	}
}

/* ---- percpu_counter across hotplug ---- */

static struct percpu_counter counter;
static volatile int stop;

static void *adder(void *arg)
{
	int64_t *total = (int64_t *)arg;
	uint64_t x = (uint64_t)(uintptr_t)arg; /* xorshift: tu_rand() is not thread-safe */

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		int64_t v;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = (int64_t)(x % 200) - 100;

		percpu_counter_add(&counter, v);
		*total += v;
	}
	return NULL;
}

/* Walks the online CPUs while the main thread refreshes them: every walk is strictly
 * increasing, below nr_cpu_ids, and holds CPUs 0 and 1, which stay online throughout
 * (the inline iterator reads the words the refresh stores; a torn walk would show). */
static void *walker(void *arg)
{
	long *bad = (long *)arg;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		int cpu, last = -1, low = 0;

		for_each_online_cpu(cpu) {
			if (cpu <= last || (unsigned int)cpu >= nr_cpu_ids)
				++*bad;
			low += cpu < 2;
			last = cpu;
		}
		if (low != 2)
			++*bad;
	}
	return NULL;
}

static void test_counter_fold(long steps)
{
	pthread_t threads[2], walk;
	long walk_bad = 0;
	int64_t totals[2] = { 0, 0 }, remote = 0, sum;

	CHECK_EQ(percpu_counter_init(&counter, 1000, GFP_KERNEL), 0);
	for (int c = 0; c < NCPUS; c++)
		online[c] = true;
	write_set("online", online);
	CHECK(pcpu_cpus_refresh() >= 0);

	/* one CPU: its delta moves to the count, the sum stays */
	*per_cpu_ptr(counter.counters, 5) = 17;
	CHECK_EQ(percpu_counter_read(&counter), 1000);
	online[5] = false;
	write_set("online", online);
	CHECK_EQ(pcpu_cpus_refresh(), 1);
	CHECK_EQ(percpu_counter_read(&counter), 1017);
	CHECK_EQ(*per_cpu_ptr(counter.counters, 5), 0);
	CHECK_EQ(percpu_counter_sum(&counter), 1017);

	/* threads add on the real CPUs while this one adds to the deltas of the others
	 * (atomically, as a thread on the sched_getcpu fallback would) and takes them
	 * offline and online again */
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pthread_create(&threads[i], NULL, adder, &totals[i]), 0);
	CHECK_EQ(pthread_create(&walk, NULL, walker, &walk_bad), 0);
	for (long k = 0; k < steps; k++) {
		unsigned int cpu = 2 + (unsigned int)(tu_rand() % (NCPUS - 2));
		int32_t v = (int32_t)(tu_rand() % 20) - 10;

		__atomic_fetch_add(per_cpu_ptr(counter.counters, cpu), v, __ATOMIC_RELAXED);
		remote += v;
		if (tu_rand() % 4 == 0) {
			for (int c = 2; c < NCPUS; c++)
				online[c] = tu_rand() % 2;
			write_set("online", online);
			CHECK(pcpu_cpus_refresh() >= 0);
		}
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 2; i++)
		pthread_join(threads[i], NULL);
	pthread_join(walk, NULL);
	CHECK_EQ(walk_bad, 0);
	sum = 1017 + totals[0] + totals[1] + remote;
	CHECK_EQ(percpu_counter_sum(&counter), sum);

	/* a CPU that was offline already keeps what was added to it since (it did not
	 * go again): all online, then all but the real CPUs offline, and the count holds
	 * everything but the real CPUs' deltas */
	for (int c = 2; c < NCPUS; c++)
		online[c] = true;
	write_set("online", online);
	CHECK(pcpu_cpus_refresh() >= 0);
	for (int c = 2; c < NCPUS; c++)
		online[c] = false;
	write_set("online", online);
	CHECK_EQ(pcpu_cpus_refresh(), NCPUS - 2);
	for (int c = 2; c < NCPUS; c++)
		CHECK_EQ(*per_cpu_ptr(counter.counters, c), 0);
	CHECK_EQ(percpu_counter_read(&counter) + *per_cpu_ptr(counter.counters, 0) +
			 *per_cpu_ptr(counter.counters, 1),
		 sum);
	CHECK_EQ(percpu_counter_sum(&counter), sum);
	percpu_counter_destroy(&counter);
}

static int run(const char *want)
{
	CHECK(tu_source_is(want));
	CHECK_EQ(nr_cpu_ids, NCPUS);
	/* a simulated topology without a tree to re-read: nothing changes */
	_pcpu_cpus_sysfs_root_hook = NULL;
	CHECK_EQ(pcpu_cpus_refresh(), 0);

	snprintf(root, sizeof(root), "/tmp/pcpu-cpuhp-XXXXXX");
	CHECK(mkdtemp(root) != NULL);
	{
		char dir[96];

		snprintf(dir, sizeof(dir), "%s/cpu", root);
		CHECK_EQ(mkdir(dir, 0700), 0);
	}
	for (int c = 0; c < NCPUS; c++)
		online[c] = present[c] = true;
	write_set("online", online);
	write_set("present", present);
	_pcpu_cpus_sysfs_root_hook = root;
	CHECK_EQ(pcpu_cpus_refresh(), 0);
	check_masks("start");

	test_registry();
	test_counter_fold(tu_scaled(600));

	{
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
		CHECK_EQ(system(cmd), 0);
	}
	TEST_DONE();
}

int main(int argc, char **argv)
{
	/* 8 CPUs, of which this machine's are the first (it has fewer: see the checks) */
	setenv("LIBPERCPU_TOPOLOGY", "0-7", 1);
	if (argc == 1)
		tu_seed("test_cpuhp");
	if (sysconf(_SC_NPROCESSORS_CONF) > NCPUS) {
		fprintf(stderr, "SKIP: this machine has more than %d CPUs\n", NCPUS);
		return 0;
	}
	CHECK_EQ(pcpu_init(), 0);
	if (pcpu_index_mode() == PCPU_INDEX_CID) {
		fprintf(stderr, "SKIP: LIBPERCPU_INDEX=cid: the IDs do not come and go with CPUs\n");
		CHECK_EQ(pcpu_cpus_refresh(), 0);
		TEST_DONE();
	}
	return tu_run_modes(argc, argv, run);
}
