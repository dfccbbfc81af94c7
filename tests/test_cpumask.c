/* SPDX-License-Identifier: MIT */
/* test_cpumask.c - the cpumask API against a plain bool-array model: random operations
 * on masks of 1 to 4,096 bits through the bit layer (bitmap.c), and through the kernel's
 * names of <percpu/kernel.h> on simulated topologies of 24 CPUs (two interleaved
 * nodes), 1,024 and 4,096 CPUs and on this machine; the printed and parsed formats, the
 * system masks, and the misuse reports. */
#include <percpu/kernel.h>

#include "bitmap.h"
#include "testutil.h"

/* The masks under test: full-size structs, whose bits at and above nbits hold garbage
 * that no operation may read. */
#define NMASKS 4
static unsigned int nb;  /* bits in use */
static bool pub;         /* through the kernel's names (nb == nr_cpu_ids) or bitmap.c */
static struct cpumask *m[NMASKS];
static bool model[NMASKS][4096];

static uint64_t *W(int i)
{
	return m[i]->bits;
}

/* ---- one function per operation, dispatching to the layer under test ---- */

static void op_set(unsigned int c, int i)
{
	if (pub)
		cpumask_set_cpu(c, m[i]);
	else
		_pcpu_bitmap_set(W(i), c);
}

static void op_clear(unsigned int c, int i)
{
	if (pub)
		cpumask_clear_cpu(c, m[i]);
	else
		_pcpu_bitmap_clear(W(i), c);
}

static bool op_test(unsigned int c, int i)
{
	return pub ? cpumask_test_cpu(c, m[i]) : _pcpu_bitmap_test(W(i), c);
}

static bool op_test_and_set(unsigned int c, int i)
{
	return pub ? cpumask_test_and_set_cpu(c, m[i]) : _pcpu_bitmap_set(W(i), c);
}

static bool op_test_and_clear(unsigned int c, int i)
{
	return pub ? cpumask_test_and_clear_cpu(c, m[i]) : _pcpu_bitmap_clear(W(i), c);
}

static void op_fill(int i, bool fill)
{
	if (!pub)
		_pcpu_bitmap_fill(W(i), nb, fill);
	else if (fill)
		cpumask_setall(m[i]);
	else
		cpumask_clear(m[i]);
}

static bool op_combine(int d, int a, int b, enum pcpu_bitmap_op op)
{
	if (!pub)
		return _pcpu_bitmap_combine(W(d), W(a), W(b), op, nb);
	switch (op) {
	case PCPU_BM_AND: return cpumask_and(m[d], m[a], m[b]);
	case PCPU_BM_OR: cpumask_or(m[d], m[a], m[b]); break;
	case PCPU_BM_ANDNOT: return cpumask_andnot(m[d], m[a], m[b]);
	case PCPU_BM_XOR: cpumask_xor(m[d], m[a], m[b]); break;
	default: cpumask_copy(m[d], m[a]); break;
	}
	return false; /* or and xor return nothing: not compared */
}

static unsigned int op_find(int a, int b, enum pcpu_bitmap_op op, int n)
{
	unsigned int start = n < -1 ? ~0u : (unsigned int)(n + 1);

	if (!pub)
		return _pcpu_bitmap_find(W(a), W(b), op, nb, start);
	switch (op) {
	case PCPU_BM_A: return n == -1 && tu_rand() % 2 ? cpumask_first(m[a]) : cpumask_next(n, m[a]);
	case PCPU_BM_NOT_A: return cpumask_next_zero(n, m[a]);
	case PCPU_BM_AND:
		return n == -1 && tu_rand() % 2 ? cpumask_first_and(m[a], m[b])
						: cpumask_next_and(n, m[a], m[b]);
	default: return pcpu_cpumask_next_andnot(n, m[a], m[b]);
	}
}

/* ---- the model ---- */

static bool mjoin(bool a, bool b, enum pcpu_bitmap_op op)
{
	switch (op) {
	case PCPU_BM_A: return a;
	case PCPU_BM_NOT_A: return !a;
	case PCPU_BM_AND: return a && b;
	case PCPU_BM_OR: return a || b;
	case PCPU_BM_ANDNOT: return a && !b;
	case PCPU_BM_XOR: return a != b;
	}
	return false;
}

static unsigned int mfind(int a, int b, enum pcpu_bitmap_op op, int n)
{
	if (n < -1)
		return nb;
	for (unsigned int c = (unsigned int)(n + 1); c < nb; c++)
		if (mjoin(model[a][c], model[b][c], op))
			return c;
	return nb;
}

static unsigned int mweight(int a)
{
	unsigned int w = 0;

	for (unsigned int c = 0; c < nb; c++)
		w += model[a][c];
	return w;
}

/* The kernel's "%*pbl\n" of model @a, written the plain way: a run per range. */
static void mlist(int a, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned int c = 0; c < nb; c++) {
		unsigned int e = c;

		if (!model[a][c])
			continue;
		while (e + 1 < nb && model[a][e + 1])
			e++;
		len += (size_t)snprintf(buf + len, size - len, "%s%u", len ? "," : "", c);
		if (e > c)
			len += (size_t)snprintf(buf + len, size - len, "-%u", e);
		c = e;
	}
	snprintf(buf + len, size - len, "\n");
}

/* The kernel's "%*pb\n": 32-bit hex chunks from the top, the first as wide as needed. */
static void mhex(int a, char *buf, size_t size)
{
	size_t len = 0;
	int chunks = (int)(nb + 31) / 32;

	for (int k = chunks - 1; k >= 0; k--) {
		unsigned int v = 0, bits = k == chunks - 1 && nb % 32 ? nb % 32 : 32;

		for (unsigned int j = 0; j < bits; j++)
			v |= (unsigned int)model[a][(unsigned int)k * 32 + j] << j;
		len += (size_t)snprintf(buf + len, size - len, "%s%0*x", k == chunks - 1 ? "" : ",",
					(int)(bits + 3) / 4, v);
	}
	snprintf(buf + len, size - len, "\n");
}

static void check_same(int i, const char *what)
{
	for (unsigned int c = 0; c < nb; c++)
		if (op_test(c, i) != model[i][c]) {
			fprintf(stderr, "%s: mask %d cpu %u: %d, model %d (nbits %u, %s)\n", what, i,
				c, op_test(c, i), model[i][c], nb, pub ? "kernel names" : "bitmap.c");
			CHECK(0);
			return;
		}
}

static bool pred(int a, int b, int which)
{
	switch (which) {
	case 0: return pub ? cpumask_equal(m[a], m[b]) : _pcpu_bitmap_equal(W(a), W(b), nb);
	case 1: return pub ? cpumask_empty(m[a]) : !_pcpu_bitmap_any(W(a), NULL, PCPU_BM_A, nb);
	case 2: return pub ? cpumask_full(m[a]) : !_pcpu_bitmap_any(W(a), NULL, PCPU_BM_NOT_A, nb);
	case 3: return pub ? cpumask_subset(m[a], m[b]) : !_pcpu_bitmap_any(W(a), W(b), PCPU_BM_ANDNOT, nb);
	default: return pub ? cpumask_intersects(m[a], m[b]) : _pcpu_bitmap_any(W(a), W(b), PCPU_BM_AND, nb);
	}
}

static bool mpred(int a, int b, int which)
{
	bool r = which == 1 || which == 2 || which == 3 || which == 0;

	for (unsigned int c = 0; c < nb; c++) {
		bool x = model[a][c], y = model[b][c];

		switch (which) {
		case 0: r = r && x == y; break;
		case 1: r = r && !x; break;
		case 2: r = r && x; break;
		case 3: r = r && (!x || y); break;
		default: r = r || (x && y); break;
		}
	}
	return r;
}

static unsigned int rcpu(void)
{
	return (unsigned int)(tu_rand() % nb);
}

/* A random start for the searches: mostly inside, sometimes -1, below -1 or past the end. */
static int rstart(void)
{
	switch (tu_rand() % 8) {
	case 0: return -1;
	case 1: return -2 - (int)(tu_rand() % 3);
	case 2: return (int)nb - 1 + (int)(tu_rand() % 3);
	default: return (int)rcpu();
	}
}

static void random_ops(long n)
{
	for (int i = 0; i < NMASKS; i++) {
		/* garbage everywhere first, then the bits in use cleared: the tail keeps it */
		for (size_t w = 0; w < PCPU_NR_CPUS / 64; w++)
			m[i]->bits[w] = tu_rand();
		op_fill(i, false);
		if (pub)
			for (size_t w = 0; w < _pcpu_bitmap_words(nb); w++)
				CHECK_EQ(m[i]->bits[w], 0); /* the tail of the last word cleared */
		memset(model[i], 0, sizeof(model[i]));
	}
	for (long k = 0; k < n; k++) {
		int a = (int)(tu_rand() % NMASKS), b = (int)(tu_rand() % NMASKS);
		int d = (int)(tu_rand() % NMASKS), s = rstart();
		unsigned int c = rcpu();
		enum pcpu_bitmap_op op = (enum pcpu_bitmap_op)(tu_rand() % 6);
		bool r, want;

		switch (tu_rand() % 12) {
		case 0: op_set(c, a); model[a][c] = true; break;
		case 1: op_clear(c, a); model[a][c] = false; break;
		case 2:
			CHECK_EQ(op_test_and_set(c, a), model[a][c]);
			model[a][c] = true;
			break;
		case 3:
			CHECK_EQ(op_test_and_clear(c, a), model[a][c]);
			model[a][c] = false;
			break;
		case 4: /* mostly sparse masks: a few bits at random */
			for (unsigned int j = (unsigned int)(tu_rand() % 8); j; j--) {
				c = rcpu();
				op_set(c, a);
				model[a][c] = true;
			}
			break;
		case 5:
			if (tu_rand() % 4 == 0) {
				bool fill = tu_rand() % 2;

				op_fill(a, fill);
				for (unsigned int j = 0; j < nb; j++)
					model[a][j] = fill;
			}
			break;
		case 6:
			if (op == PCPU_BM_NOT_A)
				op = PCPU_BM_A; /* no complement: the kernel has no cpumask_not */
			r = op_combine(d, a, b, op);
			want = false;
			for (unsigned int j = 0; j < nb; j++) {
				model[d][j] = mjoin(model[a][j], model[b][j], op);
				want = want || model[d][j];
			}
			/* dst may be a or b: each bit depends on its own position alone */
			if (op == PCPU_BM_AND || op == PCPU_BM_ANDNOT || !pub)
				CHECK_EQ(r, want);
			check_same(d, "combine");
			break;
		case 7:
		case 8:
			if (op == PCPU_BM_OR || op == PCPU_BM_XOR)
				op = PCPU_BM_A;
			CHECK_EQ(op_find(a, b, op, s), mfind(a, b, op, s));
			break;
		case 9:
			CHECK_EQ(pub ? cpumask_weight(m[a]) : _pcpu_bitmap_weight(W(a), nb), mweight(a));
			break;
		case 10: {
			int which = (int)(tu_rand() % 5);
			CHECK_EQ(pred(a, b, which), mpred(a, b, which));
			break;
		}
		default:
			CHECK_EQ(op_test(c, a), model[a][c]);
			break;
		}
	}
	for (int i = 0; i < NMASKS; i++)
		check_same(i, "end");
}

/* The printed forms, against the model's own printing; the list form parsed back. */
static void check_print_parse(void)
{
	static char got[PCPU_CPUMAP_BUF_SIZE], want[1 << 16];
	int len;

	for (int i = 0; i < NMASKS; i++) {
		for (int list = 0; list < 2; list++) {
			if (pub)
				len = cpumap_print_to_pagebuf(list, got, m[i]);
			else
				len = (int)_pcpu_bitmap_print(list, got, sizeof(got), W(i), nb);
			if (list)
				mlist(i, want, sizeof(want));
			else
				mhex(i, want, sizeof(want));
			/* truncated to the page, as the kernel's scnprintf */
			if (strlen(want) >= sizeof(got))
				want[sizeof(got) - 1] = '\0';
			CHECK_EQ(len, strlen(want));
			CHECK_EQ(strlen(got), len);
			if (strcmp(got, want)) {
				fprintf(stderr, "printed %s\nmodel   %s\n", got, want);
				CHECK(0);
			}
		}
		if (!pub)
			continue;
		mlist(i, want, sizeof(want));
		if (strlen(want) >= sizeof(got))
			continue; /* a truncated list does not parse back */
		cpumask_setall(m[(i + 1) % NMASKS]);
		CHECK_EQ(cpulist_parse(want, m[(i + 1) % NMASKS]), 0);
		CHECK(cpumask_equal(m[(i + 1) % NMASKS], m[i]));
		for (unsigned int c = 0; c < nb; c++)
			model[(i + 1) % NMASKS][c] = model[i][c];
	}
}

static void run_widths(void)
{
	static const unsigned int widths[] = { 1, 2, 24, 63, 64, 65, 127, 1024, 4096 };

	pub = false;
	for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
		nb = widths[w];
		random_ops(tu_scaled(nb > 1000 ? 3000 : 6000));
		check_print_parse();
		/* alternating bits: a list longer than the page at 4,096 bits */
		for (unsigned int c = 0; c < nb; c++) {
			model[0][c] = c % 2 == 0;
			(model[0][c] ? _pcpu_bitmap_set : _pcpu_bitmap_clear)(W(0), c);
		}
		check_print_parse();
	}
}

/* Through the kernel's names, on the library's nr_cpu_ids. */
static void run_public(unsigned int nodes_interleaved)
{
	char buf[PCPU_CPUMAP_BUF_SIZE];
	cpumask_var_t v;
	unsigned int cpu, n = 0;

	pub = true;
	nb = nr_cpu_ids;
	if (pcpu_index_mode() == PCPU_INDEX_CID)
		nodes_interleaved = 0; /* the IDs (LIBPERCPU_INDEX=cid) are on one node */
	random_ops(tu_scaled(nb > 1000 ? 3000 : 6000));
	check_print_parse();

	/* the system masks: the whole simulated (or this) machine, every CPU online */
	CHECK_EQ(cpumask_weight(cpu_possible_mask), num_possible_cpus());
	CHECK_EQ(cpumask_weight(cpu_online_mask), num_online_cpus());
	CHECK_EQ(num_present_cpus(), cpumask_weight(cpu_present_mask));
	CHECK(cpumask_subset(cpu_online_mask, cpu_present_mask));
	CHECK(cpumask_subset(cpu_present_mask, cpu_possible_mask));
	for_each_possible_cpu(cpu) {
		CHECK(cpumask_test_cpu(cpu, cpu_possible_mask));
		CHECK_EQ(cpumask_test_cpu(cpu, cpu_online_mask), cpu_online(cpu));
		CHECK_EQ(cpumask_test_cpu(cpu, cpu_present_mask), cpu_present(cpu));
		n++;
	}
	CHECK_EQ(n, num_possible_cpus());
	n = 0;
	for_each_present_cpu(cpu)
		n++;
	CHECK_EQ(n, num_present_cpus());

	/* cpumask_of: one CPU each, read through the whole of nr_cpu_ids */
	for (int k = 0; k < 200; k++) {
		const struct cpumask *one;

		cpu = rcpu();
		one = k % 2 ? cpumask_of(cpu) : get_cpu_mask(cpu);
		CHECK_EQ(cpumask_weight(one), 1);
		CHECK_EQ(cpumask_first(one), cpu);
		CHECK(cpumask_test_cpu(cpu, one));
		CHECK_EQ(cpumask_next(cpu, one), nr_cpu_ids);
	}
	cpu = nr_cpu_ids - 1;
	CHECK_EQ(cpumask_first(cpumask_of(cpu)), cpu);

	/* nodes: the union of the nodes' masks is the possible mask, and each CPU is in
	 * the mask of its node */
	CHECK(zalloc_cpumask_var(&v, GFP_KERNEL));
	CHECK(cpumask_empty(v));
	for (int node = 0; cpumask_weight(v) < num_possible_cpus(); node++) {
		CHECK(!cpumask_intersects(v, cpumask_of_node(node)));
		cpumask_or(v, v, cpumask_of_node(node));
		for_each_cpu(cpu, cpumask_of_node(node))
			CHECK_EQ(cpu_to_node(cpu), node);
		if (nodes_interleaved)
			for_each_cpu(cpu, cpumask_of_node(node))
				CHECK_EQ(cpu % nodes_interleaved, (unsigned int)node);
	}
	CHECK(cpumask_equal(v, cpu_possible_mask));
	CHECK(cpumask_equal(cpumask_of_node(-1), cpu_possible_mask));
	free_cpumask_var(v);
	CHECK(alloc_cpumask_var(&v, GFP_ATOMIC));
	CHECK_EQ(cpumask_size(), (nr_cpu_ids + 63) / 64 * 8);
	cpumask_copy(v, cpu_possible_mask);
	n = 0;
	for_each_cpu_andnot(cpu, v, cpumask_of(0)) {
		CHECK(cpu != 0);
		n++;
	}
	CHECK_EQ(n, num_possible_cpus() - 1);
	n = 0;
	for_each_cpu_and(cpu, v, cpumask_of(nr_cpu_ids - 1)) {
		CHECK_EQ(cpu, nr_cpu_ids - 1);
		n++;
	}
	CHECK_EQ(n, 1);
	free_cpumask_var(v);
	free_cpumask_var(NULL);
	errno = 0;
	CHECK(!alloc_cpumask_var(&v, 7));
	CHECK_EQ(errno, EINVAL);
	CHECK(v == NULL);

	/* parsing: the kernel's errors, and the mask left as it was */
	cpumask_setall(m[0]);
	snprintf(buf, sizeof(buf), "0,%u", nr_cpu_ids);
	CHECK_EQ(cpulist_parse(buf, m[0]), -ERANGE);
	CHECK(cpumask_full(m[0]));
	CHECK_EQ(cpulist_parse("1-", m[0]), -EINVAL);
	CHECK_EQ(cpulist_parse("3-1", m[0]), -EINVAL);
	CHECK(cpumask_full(m[0]));
	CHECK_EQ(cpulist_parse("", m[0]), 0);
	CHECK(cpumask_empty(m[0]));
	if (nr_cpu_ids >= 24) {
		CHECK_EQ(cpulist_parse("0-7:2/4,16\n", m[0]), 0);
		CHECK_EQ(cpumap_print_to_pagebuf(true, buf, m[0]), 11);
		CHECK(strcmp(buf, "0-1,4-5,16\n") == 0);
	}
	CHECK_EQ(pcpu_cpumask_parselist(NULL, m[0]), -1);
}

static unsigned int bad_cpu;

static void set_bad(void *arg)
{
	cpumask_set_cpu(bad_cpu, (struct cpumask *)arg);
}

static void of_bad(void *arg)
{
	(void)cpumask_of(bad_cpu);
}

static void node_bad(void *arg)
{
	(void)cpumask_of_node(*(int *)arg);
}

static void test_bad_cpu(void (*fn)(void *), void *arg, const char *want)
{
	char buf[4096];
	int status = tu_in_child(fn, arg, buf, sizeof(buf));

	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	if (!strstr(buf, want))
		fprintf(stderr, "message \"%s\" lacks \"%s\"\n", buf, want);
	CHECK(strstr(buf, want) != NULL);
}

static void test_misuse(void)
{
	char want[128];
	int node = 4096;

	bad_cpu = nr_cpu_ids;
	snprintf(want, sizeof(want), "libpercpu: pcpu_cpumask_set_cpu: CPU %u >= nr_cpu_ids %u",
		 bad_cpu, nr_cpu_ids);
	test_bad_cpu(set_bad, m[0], want);
	snprintf(want, sizeof(want), "libpercpu: pcpu_cpumask_of: CPU %u >= nr_cpu_ids", bad_cpu);
	test_bad_cpu(of_bad, NULL, want);
	test_bad_cpu(node_bad, &node, "libpercpu: pcpu_cpumask_of_node: node 4096 outside 0..");
}

static int run(unsigned int nodes_interleaved)
{
	for (int i = 0; i < NMASKS; i++)
		m[i] = malloc(sizeof(struct cpumask));
	run_public(nodes_interleaved);
	test_misuse();
	for (int i = 0; i < NMASKS; i++)
		free(m[i]);
	TEST_DONE();
}

int main(int argc, char **argv)
{
	char spec[256] = "", *p = spec;

	if (argc > 1)
		return run((unsigned int)atoi(argv[1]));
	tu_seed("test_cpumask");
	for (int i = 0; i < NMASKS; i++)
		m[i] = malloc(sizeof(struct cpumask));
	run_widths();
	for (int i = 0; i < NMASKS; i++)
		free(m[i]);
	/* this machine, then simulated machines: 24 CPUs on two interleaved nodes, 1,024
	 * CPUs on four nodes, 4,096 on one */
	run(0);
	for (int c = 0; c < 2; c++) {
		for (int cpu = c; cpu < 24; cpu += 2)
			p += sprintf(p, "%s%d", cpu == c ? "" : ",", cpu);
		p += sprintf(p, c ? "" : ";");
	}
	char seed[32];
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)tu_rand());
	setenv("PCPU_TEST_SEED", seed, 1);
	tu_spawn_mode(argv[0], "2", "LIBPERCPU_TOPOLOGY", spec);
	tu_spawn_mode(argv[0], "0", "LIBPERCPU_TOPOLOGY", "0-255;256-511;512-767;768-1023");
	tu_spawn_mode(argv[0], "0", "LIBPERCPU_TOPOLOGY", "0-4095");
	TEST_DONE();
}
