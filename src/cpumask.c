/* SPDX-License-Identifier: MIT */
/* cpumask.c - the public view of the topology: possible, online and present CPUs, nodes,
 * iteration, and the kernel's cpumask API on nr_cpu_ids bits (bitmap.c does the bits).
 * The possible CPUs and nodes are read once at initialization (init.c) and never change;
 * the online and present masks change only in pcpu_cpus_refresh() (cpuhp.c), with atomic
 * word stores, so every read here is an atomic load. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bitmap.h"
#include "internal.h"

static const struct pcpu_topology *topo(void)
{
	static const struct pcpu_topology empty;

	return _pcpu_ensure_init() == 0 ? &_pcpu_geo->topo : &empty;
}

unsigned int pcpu_nr_cpu_ids(void)
{
	return topo()->nr_cpu_ids;
}

unsigned int pcpu_num_possible_cpus(void)
{
	return topo()->nr_possible;
}

unsigned int pcpu_num_online_cpus(void)
{
	return __atomic_load_n(&topo()->nr_online, __ATOMIC_RELAXED);
}

bool pcpu_cpu_possible(unsigned int cpu)
{
	const struct pcpu_topology *t = topo();
	return cpu < t->nr_cpu_ids && _pcpu_bitmap_test(t->possible, cpu);
}

bool pcpu_cpu_online(unsigned int cpu)
{
	const struct pcpu_topology *t = topo();
	return cpu < t->nr_cpu_ids && _pcpu_bitmap_test(t->online, cpu);
}

int pcpu_cpu_to_node(unsigned int cpu)
{
	const struct pcpu_topology *t = topo();
	return cpu < t->nr_cpu_ids && _pcpu_bitmap_test(t->possible, cpu) ? t->cpu_to_node[cpu] : -1;
}

/* The possible and online CPU iterators of <percpu.h>: below -1 counts as -1 there. */
int pcpu_next_possible_cpu(int cpu)
{
	const struct pcpu_topology *t = topo();
	return (int)_pcpu_bitmap_find(t->possible, NULL, PCPU_BM_A, t->nr_cpu_ids,
				     cpu < 0 ? 0 : (unsigned int)cpu + 1);
}

int pcpu_next_online_cpu(int cpu)
{
	const struct pcpu_topology *t = topo();
	return (int)_pcpu_bitmap_find(t->online, NULL, PCPU_BM_A, t->nr_cpu_ids,
				     cpu < 0 ? 0 : (unsigned int)cpu + 1);
}

/* ---------------------------------------------------------------------------------
 * The cpumask API
 * --------------------------------------------------------------------------------- */

/* The library's masks are bitmaps of nr_cpu_ids bits seen through the mask type; only
 * those bits are ever read (see <percpu/cpumask.h>). */
static const struct pcpu_cpumask *as_mask(const uint64_t *bits)
{
	return (const struct pcpu_cpumask *)(const void *)bits;
}

static const uint64_t empty_bits[1];

static unsigned int nbits(void)
{
	return topo()->nr_cpu_ids;
}

static unsigned int check_cpu(const char *call, unsigned int cpu)
{
	unsigned int nr = nbits();

	if (cpu >= nr)
		_pcpu_fatal(call, "CPU %u >= nr_cpu_ids %u", cpu, nr);
	return cpu;
}

size_t pcpu_cpumask_size(void)
{
	return _pcpu_bitmap_words(nbits()) * sizeof(uint64_t);
}

static bool alloc_var(pcpu_cpumask_var_t *mask, unsigned int gfp, bool zero)
{
	size_t size = pcpu_cpumask_size();

	if (mask)
		*mask = NULL;
	if (!mask || (gfp & ~PCPU_GFP_ATOMIC)) {
		errno = EINVAL;
		return false;
	}
	/* at least a word: nr_cpu_ids is 0 only if the library could not initialize */
	*mask = zero ? calloc(1, size ? size : 8) : malloc(size ? size : 8);
	return *mask != NULL; /* errno ENOMEM from malloc */
}

bool pcpu_alloc_cpumask_var(pcpu_cpumask_var_t *mask, unsigned int gfp)
{
	return alloc_var(mask, gfp, false);
}

bool pcpu_zalloc_cpumask_var(pcpu_cpumask_var_t *mask, unsigned int gfp)
{
	return alloc_var(mask, gfp, true);
}

void pcpu_free_cpumask_var(pcpu_cpumask_var_t mask)
{
	free(mask);
}

const struct pcpu_cpumask *pcpu_cpu_possible_mask(void)
{
	return as_mask(_pcpu_ensure_init() == 0 ? _pcpu_geo->topo.possible : empty_bits);
}

const struct pcpu_cpumask *pcpu_cpu_online_mask(void)
{
	return as_mask(_pcpu_ensure_init() == 0 ? _pcpu_geo->topo.online : empty_bits);
}

/* Masks made on first use, published with a release store once complete. */
static pthread_mutex_t lazy_lock = PTHREAD_MUTEX_INITIALIZER;

/* fork(): held across it by init.c's handlers. */
void _pcpu_cpumask_fork_lock(void)
{
	pthread_mutex_lock(&lazy_lock);
}

void _pcpu_cpumask_fork_unlock(void)
{
	pthread_mutex_unlock(&lazy_lock);
}
static uint64_t *present_bits, *of_table, *node_table;

uint64_t *_pcpu_cpus_present_bits(void)
{
	uint64_t *p = __atomic_load_n(&present_bits, __ATOMIC_ACQUIRE);
	unsigned int nr = nbits();
	size_t words = _pcpu_bitmap_words(nr);
	const char *root;

	if (p || !nr)
		return p;
	pthread_mutex_lock(&lazy_lock);
	p = present_bits;
	if (!p && (p = calloc(words, sizeof(*p)))) {
		root = _pcpu_cpus_sysfs_root();
		/* present: what sysfs says within the possible CPUs, or all of them */
		if (!root || _pcpu_topology_read_cpus(root, "present", p, nr))
			_pcpu_bitmap_fill(p, nr, true);
		_pcpu_bitmap_combine(p, p, _pcpu_geo->topo.possible, PCPU_BM_AND, nr);
		_pcpu_bitmap_combine(p, p, _pcpu_geo->topo.online, PCPU_BM_OR, nr);
		__atomic_store_n(&present_bits, p, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&lazy_lock);
	return p;
}

const struct pcpu_cpumask *pcpu_cpu_present_mask(void)
{
	const uint64_t *p = _pcpu_cpus_present_bits();

	/* without memory for the mask: the possible CPUs, which is what it holds unless
	 * hotplug hardware says otherwise */
	return p ? as_mask(p) : pcpu_cpu_possible_mask();
}

unsigned int pcpu_num_present_cpus(void)
{
	return pcpu_cpumask_weight(pcpu_cpu_present_mask());
}

bool pcpu_cpu_present(unsigned int cpu)
{
	return cpu < nbits() && _pcpu_bitmap_test(pcpu_cpu_present_mask()->bits, cpu);
}

/*
 * cpumask_of(cpu) without a mask per CPU: row r of the table is 2 * words - 1 words with
 * only bit r of the middle word set, so the words - 1 - cpu / 64 'th word of row cpu % 64
 * starts a mask of words words holding @cpu alone, inside the row (the kernel's
 * cpu_bit_bitmap trick, kept within its array).  64 * (2 * words - 1) words: 64 KiB for
 * 4,096 CPUs.
 */
const struct pcpu_cpumask *pcpu_cpumask_of(unsigned int cpu)
{
	size_t words = _pcpu_bitmap_words(nbits()), row = 2 * words - 1;
	uint64_t *t = __atomic_load_n(&of_table, __ATOMIC_ACQUIRE);

	check_cpu("pcpu_cpumask_of", cpu);

	if (!t) {
		pthread_mutex_lock(&lazy_lock);
		t = of_table;
		if (!t && (t = calloc(64 * row, sizeof(*t)))) {
			for (size_t r = 0; r < 64; r++)
				t[r * row + words - 1] = 1ull << r;
			__atomic_store_n(&of_table, t, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&lazy_lock);
		if (!t)
			_pcpu_fatal("pcpu_cpumask_of", "no memory for the masks of single CPUs "
				   "(%zu bytes)", 64 * row * sizeof(*t));
	}
	return as_mask(&t[(cpu % 64) * row + words - 1 - cpu / 64]);
}

const struct pcpu_cpumask *pcpu_cpumask_of_node(int node)
{
	const struct pcpu_topology *t = topo();
	size_t words = _pcpu_bitmap_words(t->nr_cpu_ids);
	uint64_t *n;

	if (node == -1)
		return pcpu_cpu_possible_mask();
	if (node < 0 || node >= t->nr_nodes)
		_pcpu_fatal("pcpu_cpumask_of_node", "node %d outside 0..%d", node, t->nr_nodes - 1);
	n = __atomic_load_n(&node_table, __ATOMIC_ACQUIRE);
	if (!n) {
		pthread_mutex_lock(&lazy_lock);
		n = node_table;
		if (!n && (n = calloc((size_t)t->nr_nodes * words, sizeof(*n)))) {
			for (unsigned int cpu = 0; cpu < t->nr_cpu_ids; cpu++)
				if (_pcpu_bitmap_test(t->possible, cpu))
					_pcpu_bitmap_set(&n[(size_t)t->cpu_to_node[cpu] * words], cpu);
			__atomic_store_n(&node_table, n, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&lazy_lock);
		if (!n)
			_pcpu_fatal("pcpu_cpumask_of_node", "no memory for the masks of %d nodes",
				   t->nr_nodes);
	}
	return as_mask(&n[(size_t)node * words]);
}

void pcpu_cpumask_set_cpu(unsigned int cpu, struct pcpu_cpumask *dst)
{
	_pcpu_bitmap_set(dst->bits, check_cpu("pcpu_cpumask_set_cpu", cpu));
}

void pcpu_cpumask_clear_cpu(unsigned int cpu, struct pcpu_cpumask *dst)
{
	_pcpu_bitmap_clear(dst->bits, check_cpu("pcpu_cpumask_clear_cpu", cpu));
}

bool pcpu_cpumask_test_cpu(unsigned int cpu, const struct pcpu_cpumask *mask)
{
	return _pcpu_bitmap_test(mask->bits, check_cpu("pcpu_cpumask_test_cpu", cpu));
}

bool pcpu_cpumask_test_and_set_cpu(unsigned int cpu, struct pcpu_cpumask *mask)
{
	return _pcpu_bitmap_set(mask->bits, check_cpu("pcpu_cpumask_test_and_set_cpu", cpu));
}

bool pcpu_cpumask_test_and_clear_cpu(unsigned int cpu, struct pcpu_cpumask *mask)
{
	return _pcpu_bitmap_clear(mask->bits, check_cpu("pcpu_cpumask_test_and_clear_cpu", cpu));
}

void pcpu_cpumask_setall(struct pcpu_cpumask *dst)
{
	_pcpu_bitmap_fill(dst->bits, nbits(), true);
}

void pcpu_cpumask_clear(struct pcpu_cpumask *dst)
{
	_pcpu_bitmap_fill(dst->bits, nbits(), false);
}

void pcpu_cpumask_copy(struct pcpu_cpumask *dst, const struct pcpu_cpumask *src)
{
	_pcpu_bitmap_combine(dst->bits, src->bits, NULL, PCPU_BM_A, nbits());
}

bool pcpu_cpumask_and(struct pcpu_cpumask *dst, const struct pcpu_cpumask *a,
		      const struct pcpu_cpumask *b)
{
	return _pcpu_bitmap_combine(dst->bits, a->bits, b->bits, PCPU_BM_AND, nbits());
}

void pcpu_cpumask_or(struct pcpu_cpumask *dst, const struct pcpu_cpumask *a,
		     const struct pcpu_cpumask *b)
{
	_pcpu_bitmap_combine(dst->bits, a->bits, b->bits, PCPU_BM_OR, nbits());
}

bool pcpu_cpumask_andnot(struct pcpu_cpumask *dst, const struct pcpu_cpumask *a,
			 const struct pcpu_cpumask *b)
{
	return _pcpu_bitmap_combine(dst->bits, a->bits, b->bits, PCPU_BM_ANDNOT, nbits());
}

void pcpu_cpumask_xor(struct pcpu_cpumask *dst, const struct pcpu_cpumask *a,
		      const struct pcpu_cpumask *b)
{
	_pcpu_bitmap_combine(dst->bits, a->bits, b->bits, PCPU_BM_XOR, nbits());
}

bool pcpu_cpumask_equal(const struct pcpu_cpumask *a, const struct pcpu_cpumask *b)
{
	return _pcpu_bitmap_equal(a->bits, b->bits, nbits());
}

bool pcpu_cpumask_empty(const struct pcpu_cpumask *mask)
{
	return !_pcpu_bitmap_any(mask->bits, NULL, PCPU_BM_A, nbits());
}

bool pcpu_cpumask_full(const struct pcpu_cpumask *mask)
{
	return !_pcpu_bitmap_any(mask->bits, NULL, PCPU_BM_NOT_A, nbits());
}

bool pcpu_cpumask_subset(const struct pcpu_cpumask *a, const struct pcpu_cpumask *b)
{
	return !_pcpu_bitmap_any(a->bits, b->bits, PCPU_BM_ANDNOT, nbits());
}

bool pcpu_cpumask_intersects(const struct pcpu_cpumask *a, const struct pcpu_cpumask *b)
{
	return _pcpu_bitmap_any(a->bits, b->bits, PCPU_BM_AND, nbits());
}

unsigned int pcpu_cpumask_weight(const struct pcpu_cpumask *mask)
{
	return _pcpu_bitmap_weight(mask->bits, nbits());
}

/* The kernel's n + 1 as an unsigned start: -1 starts at 0, below -1 wraps past the end. */
static unsigned int after(int n)
{
	return n < -1 ? ~0u : (unsigned int)n + 1;
}

unsigned int pcpu_cpumask_first(const struct pcpu_cpumask *mask)
{
	return _pcpu_bitmap_find(mask->bits, NULL, PCPU_BM_A, nbits(), 0);
}

unsigned int pcpu_cpumask_first_and(const struct pcpu_cpumask *a, const struct pcpu_cpumask *b)
{
	return _pcpu_bitmap_find(a->bits, b->bits, PCPU_BM_AND, nbits(), 0);
}

unsigned int pcpu_cpumask_next(int n, const struct pcpu_cpumask *mask)
{
	return _pcpu_bitmap_find(mask->bits, NULL, PCPU_BM_A, nbits(), after(n));
}

unsigned int pcpu_cpumask_next_zero(int n, const struct pcpu_cpumask *mask)
{
	return _pcpu_bitmap_find(mask->bits, NULL, PCPU_BM_NOT_A, nbits(), after(n));
}

unsigned int pcpu_cpumask_next_and(int n, const struct pcpu_cpumask *a,
				   const struct pcpu_cpumask *b)
{
	return _pcpu_bitmap_find(a->bits, b->bits, PCPU_BM_AND, nbits(), after(n));
}

unsigned int pcpu_cpumask_next_andnot(int n, const struct pcpu_cpumask *a,
				      const struct pcpu_cpumask *b)
{
	return _pcpu_bitmap_find(a->bits, b->bits, PCPU_BM_ANDNOT, nbits(), after(n));
}

int pcpu_cpumask_parselist(const char *buf, struct pcpu_cpumask *dst)
{
	unsigned int nr = nbits(), width;
	uint64_t *bits;

	if (!buf || !dst) {
		errno = EINVAL;
		return -1;
	}
	if (_pcpu_cpulist_parse(buf, &bits, &width))
		return -1; /* EINVAL, or ENOMEM */
	if (width > nr) {
		free(bits);
		errno = ERANGE;
		return -1;
	}
	_pcpu_bitmap_fill(dst->bits, nr, false);
	_pcpu_bitmap_combine(dst->bits, bits, NULL, PCPU_BM_A, width);
	free(bits);
	return 0;
}

int pcpu_cpumap_print_to_pagebuf(bool list, char *buf, const struct pcpu_cpumask *mask)
{
	return (int)_pcpu_bitmap_print(list, buf, PCPU_CPUMAP_BUF_SIZE, mask->bits, nbits());
}

/* The kernel's per_cpu_offset(): every chunk has its units at the same offsets. */
ptrdiff_t pcpu_cpu_offset(unsigned int cpu)
{
	return _pcpu_geo->unit_offsets[check_cpu("pcpu_cpu_offset", cpu)];
}
