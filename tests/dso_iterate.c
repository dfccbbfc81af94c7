/* SPDX-License-Identifier: MIT */
/* dso_iterate.c - the CPU iterators (pcpu_for_each_possible_cpu, _online_cpu,
 * pcpu_for_each_cpu, _and, _andnot) visit exactly the CPUs of their masks, in
 * increasing order, and once the library is initialized do it inline: not one call into
 * the library per loop (the old iterators made two per CPU), also for the kernel's
 * for_each_cpu(cpu, cpu_online_mask), whose mask is evaluated at every step.  The calls are counted by
 * this program's own definitions of the library's search functions, which forward to
 * libpercpu.so's (RTLD_NEXT): a program linked with the shared library binds its own
 * calls to them.  The first loop of a process, before initialization, initializes the
 * library, as the old iterators did.  Runs in every CPU-source and index mode, and on
 * simulated topologies: 2, 64, 65, 1,024 and 4,096 CPUs, and sparse ones with holes
 * (fixed and random).  A simulated topology must hold this machine's CPUs, which this
 * test assumes are within 0-1 (it fails to initialize otherwise, and says so). */
#include <dlfcn.h>
#include <string.h>

#include <percpu.h>

/* Whether the library has initialized: the inline ABI's nr_cpu_ids (read before
 * <percpu/kernel.h> makes nr_cpu_ids a macro). */
static bool initialized(void)
{
	return __atomic_load_n(&__pcpu_fast.nr_cpu_ids, __ATOMIC_ACQUIRE) != 0;
}

#include <percpu/kernel.h>

#include "testutil.h"

static unsigned long lib_calls; /* calls of the functions below */

/* The library's function @name, found once. */
static void *real(void **slot, const char *name)
{
	if (!*slot)
		*slot = dlsym(RTLD_NEXT, name);
	if (!*slot) {
		fprintf(stderr, "dso_iterate: %s not found in libpercpu.so\n", name);
		abort();
	}
	lib_calls++;
	return *slot;
}

#define FORWARD(ret, name, params, args)                                        \
	ret name params                                                         \
	{                                                                       \
		static void *slot;                                              \
		ret(*fn) params;                                                \
		*(void **)&fn = real(&slot, #name);                             \
		return fn args;                                                 \
	}

FORWARD(unsigned int, pcpu_nr_cpu_ids, (void), ())
FORWARD(int, pcpu_next_possible_cpu, (int cpu), (cpu))
FORWARD(int, pcpu_next_online_cpu, (int cpu), (cpu))
FORWARD(unsigned int, pcpu_cpumask_next, (int n, const struct pcpu_cpumask *m), (n, m))
FORWARD(unsigned int, pcpu_cpumask_next_and,
	(int n, const struct pcpu_cpumask *a, const struct pcpu_cpumask *b), (n, a, b))
FORWARD(unsigned int, pcpu_cpumask_next_andnot,
	(int n, const struct pcpu_cpumask *a, const struct pcpu_cpumask *b), (n, a, b))
FORWARD(const struct pcpu_cpumask *, pcpu_cpu_possible_mask, (void), ())
FORWARD(const struct pcpu_cpumask *, pcpu_cpu_online_mask, (void), ())

#define MAX_CPUS 4096
static unsigned int seen[MAX_CPUS + 1];

/* Checks that the @n CPUs in seen[] are, in order, every CPU below nr_cpu_ids for which
 * @in(cpu) holds, and nothing else. */
static void check_visits(const char *what, unsigned int n, bool (*in)(unsigned int, const void *),
			 const void *arg)
{
	unsigned int k = 0, nr = nr_cpu_ids;

	for (unsigned int cpu = 0; cpu < nr; cpu++) {
		if (!in(cpu, arg))
			continue;
		if (k >= n || seen[k] != cpu) {
			fprintf(stderr, "%s: visit %u is %u, want %u (nr_cpu_ids %u)\n", what, k,
				k < n ? seen[k] : nr, cpu, nr);
			CHECK(0);
			return;
		}
		k++;
	}
	if (k != n)
		fprintf(stderr, "%s: %u visits, want %u\n", what, n, k);
	CHECK_EQ(k, n);
}

static bool possible(unsigned int cpu, const void *arg)
{
	return pcpu_cpu_possible(cpu);
}

static bool online(unsigned int cpu, const void *arg)
{
	return pcpu_cpu_online(cpu);
}

/* The model of a mask pair: a alone (op 0), a & b (1), a & ~b (2), bit by bit. */
struct pair {
	const struct cpumask *a, *b;
	int op;
};

static bool bit(const struct cpumask *m, unsigned int cpu)
{
	return (m->bits[cpu / 64] >> (cpu % 64)) & 1;
}

static bool in_pair(unsigned int cpu, const void *arg)
{
	const struct pair *p = (const struct pair *)arg;

	return bit(p->a, cpu) && (p->op == 0 || bit(p->b, cpu) == (p->op == 1));
}

/* Iterates with @loop (one of the macros under test) into seen[], counting calls; the
 * loop ends with the CPU variable at nr_cpu_ids, as the kernel's do. */
#define VISIT(n, calls, loop)                                                   \
	do {                                                                    \
		unsigned long before_ = lib_calls;                              \
		int cpu_;                                                       \
		(n) = 0;                                                        \
		loop(cpu_) if ((n) <= MAX_CPUS) seen[(n)++] = (unsigned int)cpu_; \
		(calls) = lib_calls - before_;                                  \
		CHECK_EQ(cpu_, nr_cpu_ids);                                     \
	} while (0)

/* VISIT with an inline iterator: no call into the library, and the CPUs @in says. */
#define VISIT_INLINE(n, calls, loop, what, in, arg)                             \
	do {                                                                    \
		VISIT(n, calls, loop);                                          \
		CHECK_EQ(calls, 0);                                             \
		check_visits(what, n, in, arg);                                 \
	} while (0)

#define POSSIBLE(c) for_each_possible_cpu(c)
#define ONLINE(c) for_each_online_cpu(c)
#define OF(c) for_each_cpu(c, pr.a)
#define AND(c) for_each_cpu_and(c, pr.a, pr.b)
#define ANDNOT(c) for_each_cpu_andnot(c, pr.a, pr.b)
/* the kernel's idiom: the library's masks by their kernel names, evaluated each step */
#define OF_POSSIBLE(c) for_each_cpu(c, cpu_possible_mask)
#define OF_ONLINE(c) for_each_cpu(c, cpu_online_mask)
#define POSSIBLE_AND_ONLINE(c) for_each_cpu_and(c, cpu_possible_mask, cpu_online_mask)

/* A random mask, with garbage above nr_cpu_ids (which no iterator may read as CPUs). */
static void random_mask(struct cpumask *m, unsigned int density)
{
	for (size_t w = 0; w < sizeof(m->bits) / sizeof(m->bits[0]); w++) {
		uint64_t x = ~0ull;

		for (unsigned int d = 0; d < density; d++)
			x &= tu_rand(); /* density d: a bit set with probability 2^-d */
		m->bits[w] = x;
	}
	if (tu_rand() % 4 == 0) /* sometimes one CPU alone, or none */
		memset(m->bits, 0, sizeof(m->bits));
	if (tu_rand() % 8 == 0 && nr_cpu_ids)
		cpumask_set_cpu((unsigned int)(tu_rand() % nr_cpu_ids), m);
}

static int run(const char *want)
{
	static struct cpumask ma, mb;
	struct pair pr = { &ma, &mb, 0 };
	unsigned int n;
	unsigned long calls;
	bool fresh = !initialized(); /* (cid mode's children have initialized) */

	/* first use: initializes the library (through the library's search), visiting the
	 * same CPUs as afterwards */
	VISIT(n, calls, POSSIBLE);
	CHECK(calls >= 1 || !fresh);
	CHECK(initialized());
	if (want)
		CHECK(tu_source_is(want));
	check_visits("possible, first loop", n, possible, NULL);
	CHECK_EQ(n, num_possible_cpus());

	/* then inline: no call into the library at all */
	VISIT_INLINE(n, calls, POSSIBLE, "possible", possible, NULL);
	VISIT_INLINE(n, calls, ONLINE, "online", online, NULL);
	CHECK_EQ(n, num_online_cpus());
	VISIT_INLINE(n, calls, OF_POSSIBLE, "for_each_cpu(cpu_possible_mask)", possible, NULL);
	VISIT_INLINE(n, calls, OF_ONLINE, "for_each_cpu(cpu_online_mask)", online, NULL);
	VISIT_INLINE(n, calls, POSSIBLE_AND_ONLINE, "for_each_cpu_and(possible, online)", online,
		     NULL);
	/* the masks themselves, as the library hands them out */
	CHECK(cpu_possible_mask == pcpu_cpu_possible_mask());
	CHECK(cpu_online_mask == pcpu_cpu_online_mask());

	for (int k = 0; k < 60; k++) {
		random_mask(&ma, (unsigned int)(tu_rand() % 4));
		random_mask(&mb, (unsigned int)(tu_rand() % 3));
		pr.op = 0;
		VISIT_INLINE(n, calls, OF, "for_each_cpu", in_pair, &pr);
		CHECK_EQ(n, cpumask_weight(&ma));
		pr.op = 1;
		VISIT_INLINE(n, calls, AND, "for_each_cpu_and", in_pair, &pr);
		pr.op = 2;
		VISIT_INLINE(n, calls, ANDNOT, "for_each_cpu_andnot", in_pair, &pr);
	}
	return tu_failures != 0;
}

/* A random sparse topology of up to 4,096 CPUs: 0-1 (this machine's), then random runs
 * of CPUs and holes. */
static void random_spec(char *spec, size_t size)
{
	unsigned int top = 3 + (unsigned int)(tu_rand() % (MAX_CPUS - 2));
	unsigned int cpu = 2 + (unsigned int)(tu_rand() % 2);
	size_t len = (size_t)snprintf(spec, size, "0-1");

	while (cpu < top && len + 16 < size) {
		unsigned int span = 1 + (unsigned int)(tu_rand() % 80);

		if (cpu + span > top)
			span = top - cpu;
		len += (size_t)snprintf(spec + len, size - len, ",%u-%u", cpu, cpu + span - 1);
		cpu += span + 1 + (unsigned int)(tu_rand() % 100);
	}
}

int main(int argc, char **argv)
{
	static const char *const specs[] = { "0-1", "0-63", "0-64", "0-1023", "0-4095", "0-1,4095",
					     "0-1,3-62,64,127-129;65-126", "0-1,5,64-70,1000" };
	char spec[8192];

	tu_seed("dso_iterate");
	if (argc > 1 && strcmp(argv[1], "topology") == 0)
		return run(NULL);
	if (argc > 1)
		return tu_run_modes(argc, argv, run);
	run("glibc registration");
	tu_spawn_modes(argv[0]);
	tu_spawn_cid_modes(argv[0]);
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		tu_spawn_mode(argv[0], "topology", "LIBPERCPU_TOPOLOGY", specs[i]);
	for (int i = 0; i < 4; i++) {
		random_spec(spec, sizeof(spec));
		tu_spawn_mode(argv[0], "topology", "LIBPERCPU_TOPOLOGY", spec);
	}
	TEST_DONE();
}
