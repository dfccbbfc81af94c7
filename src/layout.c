/* SPDX-License-Identifier: MIT */
/* layout.c - shape of the first chunk: how many bytes a unit gets, which CPUs share an
 * allocation, how groups are padded, and the kernel's "pcpu-alloc:" dump of the result.
 *
 * This follows mm/percpu.c (pcpu_build_alloc_info, pcpu_dump_alloc_info) closely on
 * purpose: the same inputs must give the same layout and the same text as a booting
 * kernel, so that real boot logs can serve as test vectors.  Pure computation, no system
 * calls: callers bring the topology and the sizes.
 *
 * In short: every possible CPU gets one unit of unit_size bytes.  Memory is obtained in
 * allocations of alloc_size bytes (a multiple of the atom, 2 MiB on x86-64 so that huge
 * pages can back it), each holding upa units.  CPUs of one NUMA node form a group whose
 * units are allocated together on that node, so a group is padded up to a multiple of upa
 * and the padding is wasted.  upa starts as large as fits and shrinks for as long as that
 * costs no extra allocation (fewer units per allocation means bigger units, so the spare
 * space goes to every CPU instead of to padding), skipping any upa whose padding would
 * exceed a third of the CPU count.
 *
 * Where the kernel changed over time, the current behaviour is followed:
 *  - grouping: the lowest ungrouped CPU leads a new group and takes every other
 *    ungrouped CPU at exactly LOCAL_DISTANCE from it in both directions.  Older kernels
 *    compared a CPU against all earlier members of a candidate group and also accepted
 *    distances below LOCAL_DISTANCE; both give the same groups whenever "local" is an
 *    equivalence between nodes, which is what firmware tables describe.
 *  - dyn_size is raised to PCPU_DYNAMIC_EARLY_SIZE (20 KiB; older kernels used 12 KiB,
 *    kernels with CONFIG_RANDOM_KMALLOC_CACHES use 80 KiB).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"

/* Far above any real per-CPU area; keeps every product below free of overflow. */
#define LAYOUT_MAX_BYTES ((size_t)1 << (sizeof(size_t) >= 8 ? 40 : 28))
#define LAYOUT_MAX_ATOM_BYTES ((size_t)1 << 30)

static bool is_pow2(size_t x)
{
	return x && !(x & (x - 1));
}

static size_t round_up(size_t x, size_t to)
{
	return (x + to - 1) / to * to;
}

static bool params_valid(const struct pcpu_topology *t, const struct pcpu_layout_params *p)
{
	if (!t || !p || !t->possible || !t->cpu_to_node || !t->nr_cpu_ids || !t->nr_possible)
		return false;
	if (t->nr_cpu_ids > PCPU_MAX_CPUS || t->nr_nodes <= 0 || !t->distance)
		return false;
	if (!is_pow2(p->page_size) || !is_pow2(p->atom_size) || p->atom_size < p->page_size ||
	    p->atom_size > LAYOUT_MAX_ATOM_BYTES)
		return false;
	if (p->static_size > LAYOUT_MAX_BYTES || p->reserved_size > LAYOUT_MAX_BYTES ||
	    p->dyn_size > LAYOUT_MAX_BYTES)
		return false;
	return true;
}

/*
 * Assigns each possible CPU a group, numbering groups by their lowest CPU.  Returns the
 * number of groups; group_of[] gets each CPU's group, group_cnt[] each group's size.
 */
static int group_cpus(const struct pcpu_topology *t, int *group_of, unsigned int *group_cnt,
		      unsigned int *scratch)
{
	unsigned int nr_left = 0;
	int nr_groups = 0;

	for (unsigned int cpu = 0; cpu < t->nr_cpu_ids; cpu++)
		if (_pcpu_topology_test(t->possible, cpu))
			scratch[nr_left++] = cpu;

	while (nr_left) {
		unsigned int leader = scratch[0], kept = 0;

		group_of[leader] = nr_groups;
		group_cnt[nr_groups] = 1;
		for (unsigned int i = 1; i < nr_left; i++) {
			unsigned int cpu = scratch[i];

			if (_pcpu_topology_cpu_distance(t, leader, cpu) == PCPU_LOCAL_DISTANCE &&
			    _pcpu_topology_cpu_distance(t, cpu, leader) == PCPU_LOCAL_DISTANCE) {
				group_of[cpu] = nr_groups;
				group_cnt[nr_groups]++;
			} else {
				scratch[kept++] = cpu;
			}
		}
		nr_left = kept;
		nr_groups++;
	}
	return nr_groups;
}

/*
 * Units per allocation.  Scanning down from the most units that fit, candidates whose
 * padding exceeds a third of the CPUs are skipped (upa == 1 never pads, so something is
 * always accepted); among the rest, smaller upa is taken for as long as it does not need
 * more allocations.
 */
static int choose_upa(int max_upa, size_t alloc_bytes, size_t page_bytes, int nr_groups,
		      const unsigned int *group_cnt, unsigned int nr_possible)
{
	size_t last_allocs = SIZE_MAX;
	int best = 1;

	for (int upa = max_upa; upa > 0; upa--) {
		size_t allocs = 0, wasted = 0;

		if (alloc_bytes % (size_t)upa || (alloc_bytes / (size_t)upa) % page_bytes)
			continue;
		for (int g = 0; g < nr_groups; g++) {
			size_t this_allocs = (group_cnt[g] + (size_t)upa - 1) / (size_t)upa;

			allocs += this_allocs;
			wasted += this_allocs * (size_t)upa - group_cnt[g];
		}
		if (wasted > nr_possible / 3)
			continue;
		if (allocs > last_allocs)
			break;
		last_allocs = allocs;
		best = upa;
	}
	return best;
}

/*
 * Sizes every unit has to hold: dyn_size raised so early allocations fit and rounded so
 * the unit is whole pages; then the smallest whole number of atoms holding at least one
 * unit (returned) and the most page-aligned units that evenly divide it (*max_upa).
 */
static size_t alloc_bytes_for(const struct pcpu_layout_params *p, size_t *dyn_size,
			      int *max_upa)
{
	size_t size_sum, min_unit_size, alloc_size;
	int upa;

	*dyn_size = p->dyn_size > PCPU_DYNAMIC_EARLY_SIZE ? p->dyn_size : PCPU_DYNAMIC_EARLY_SIZE;
	size_sum = round_up(p->static_size + p->reserved_size + *dyn_size, p->page_size);
	*dyn_size = size_sum - p->static_size - p->reserved_size;

	min_unit_size = round_up(PCPU_MIN_UNIT_SIZE, p->page_size); /* the kernel's PFN_ALIGN */
	if (size_sum > min_unit_size)
		min_unit_size = size_sum;
	alloc_size = round_up(min_unit_size, p->atom_size);
	upa = (int)(alloc_size / min_unit_size);
	while (alloc_size % (size_t)upa || (alloc_size / (size_t)upa) % p->page_size)
		upa--;
	*max_upa = upa;
	return alloc_size;
}

/* One zeroed block, as the kernel does: the info, the groups, then every cpu_map. */
static struct pcpu_alloc_info *alloc_info_new(int nr_groups, int nr_units)
{
	struct pcpu_alloc_info *ai;

	ai = calloc(1, sizeof(*ai) + (size_t)nr_groups * sizeof(ai->groups[0]) +
			       (size_t)nr_units * sizeof(unsigned int));
	if (!ai)
		return NULL;
	ai->groups = (struct pcpu_group_info *)(ai + 1);
	ai->nr_groups = nr_groups;
	ai->nr_units = nr_units;
	return ai;
}

/*
 * Lays the groups out one after the other, each padded to a multiple of @upa units, and
 * fills their cpu_map: ascending CPU order within each group, padding at the end.
 * @fill is zeroed scratch, one entry per group.
 */
static void place_groups(struct pcpu_alloc_info *ai, const struct pcpu_topology *t,
			 const int *group_of, const unsigned int *group_cnt, int upa,
			 unsigned int *fill)
{
	unsigned int *cpu_map = (unsigned int *)(ai->groups + ai->nr_groups);
	size_t units_before = 0;

	for (int g = 0; g < ai->nr_groups; g++) {
		struct pcpu_group_info *gi = &ai->groups[g];

		gi->nr_units = (int)round_up(group_cnt[g], (size_t)upa);
		gi->base_offset = units_before * ai->unit_size;
		gi->cpu_map = cpu_map;
		for (int u = 0; u < gi->nr_units; u++)
			cpu_map[u] = PCPU_NO_CPU;
		cpu_map += gi->nr_units;
		units_before += (size_t)gi->nr_units;
	}
	for (unsigned int cpu = 0; cpu < t->nr_cpu_ids; cpu++) {
		if (_pcpu_topology_test(t->possible, cpu)) {
			int g = group_of[cpu];

			ai->groups[g].cpu_map[fill[g]++] = cpu;
		}
	}
}

struct pcpu_alloc_info *_pcpu_build_alloc_info(const struct pcpu_topology *t,
					      const struct pcpu_layout_params *p)
{
	size_t dyn_size, alloc_size, unit_size, total_bytes;
	int *group_of = NULL;
	unsigned int *group_cnt = NULL, *scratch = NULL, *fill = NULL;
	struct pcpu_alloc_info *ai = NULL;
	int nr_groups, upa, max_upa, nr_units = 0, err = ENOMEM;

	if (!params_valid(t, p)) {
		errno = EINVAL;
		return NULL;
	}
	alloc_size = alloc_bytes_for(p, &dyn_size, &max_upa);

	group_of = malloc(t->nr_cpu_ids * sizeof(*group_of));
	group_cnt = calloc(t->nr_possible, sizeof(*group_cnt));
	scratch = malloc(t->nr_possible * sizeof(*scratch));
	fill = calloc(t->nr_possible, sizeof(*fill));
	if (!group_of || !group_cnt || !scratch || !fill)
		goto out;

	nr_groups = group_cpus(t, group_of, group_cnt, scratch);
	upa = choose_upa(max_upa, alloc_size, p->page_size, nr_groups, group_cnt, t->nr_possible);
	unit_size = alloc_size / (size_t)upa;

	for (int g = 0; g < nr_groups; g++)
		nr_units += (int)round_up(group_cnt[g], (size_t)upa);
	if (__builtin_mul_overflow(unit_size, (size_t)nr_units, &total_bytes) ||
	    total_bytes > PTRDIFF_MAX) {
		err = EINVAL;
		goto out;
	}

	ai = alloc_info_new(nr_groups, nr_units);
	if (!ai)
		goto out;
	ai->static_size = p->static_size;
	ai->reserved_size = p->reserved_size;
	ai->dyn_size = dyn_size;
	ai->unit_size = unit_size;
	ai->atom_size = p->atom_size;
	ai->alloc_size = alloc_size;
	ai->page_size = p->page_size;
	ai->num_possible_cpus = t->nr_possible;
	place_groups(ai, t, group_of, group_cnt, upa, fill);
	err = 0;
out:
	free(group_of);
	free(group_cnt);
	free(scratch);
	free(fill);
	if (err) {
		free(ai);
		errno = err;
		return NULL;
	}
	return ai;
}

void _pcpu_free_alloc_info(struct pcpu_alloc_info *ai)
{
	free(ai);
}

void _pcpu_alloc_info_unit_offsets(const struct pcpu_alloc_info *ai, ptrdiff_t *offsets)
{
	for (int g = 0; g < ai->nr_groups; g++) {
		const struct pcpu_group_info *gi = &ai->groups[g];

		for (int u = 0; u < gi->nr_units; u++)
			if (gi->cpu_map[u] != PCPU_NO_CPU)
				offsets[gi->cpu_map[u]] =
					(ptrdiff_t)(gi->base_offset + (size_t)u * ai->unit_size);
	}
}

static int decimal_digits(unsigned int v)
{
	int n = 1;

	while (v /= 10)
		n++;
	return n;
}

/*
 * The kernel's text, byte for byte: widths come from the number of groups and of possible
 * CPUs (not from the largest CPU number), a line holds a power of two of allocations
 * sized to stay near 60 columns, lines wrap on the running allocation count across all
 * groups, and every entry, the last on a line included, is followed by a space.
 */
void _pcpu_dump_alloc_info(FILE *out, const struct pcpu_alloc_info *ai)
{
	int group_width = decimal_digits((unsigned int)ai->nr_groups);
	int cpu_width = decimal_digits(ai->num_possible_cpus);
	char empty[9];
	int upa, width, apl, alloc = 0, alloc_end = 0;

	memset(empty, '-', sizeof(empty) - 1);
	empty[cpu_width < 8 ? cpu_width : 8] = '\0';

	upa = ai->unit_size ? (int)(ai->alloc_size / ai->unit_size) : 1;
	if (upa < 1)
		upa = 1;
	width = upa * (cpu_width + 1) + group_width + 3;
	apl = 60 / width > 1 ? 60 / width : 1;
	while (apl & (apl - 1))
		apl &= apl - 1;

	fprintf(out, "pcpu-alloc: s%zu r%zu d%zu u%zu alloc=%zu*%zu", ai->static_size,
		ai->reserved_size, ai->dyn_size, ai->unit_size,
		ai->atom_size ? ai->alloc_size / ai->atom_size : 0, ai->atom_size);

	for (int g = 0; g < ai->nr_groups; g++) {
		const struct pcpu_group_info *gi = &ai->groups[g];
		int unit = 0;

		for (alloc_end += gi->nr_units / upa; alloc < alloc_end; alloc++) {
			if (alloc % apl == 0)
				fputs("\npcpu-alloc: ", out);
			fprintf(out, "[%0*d] ", group_width, g);
			for (int end = unit + upa; unit < end; unit++) {
				if (gi->cpu_map[unit] != PCPU_NO_CPU)
					fprintf(out, "%0*u ", cpu_width, gi->cpu_map[unit]);
				else
					fprintf(out, "%s ", empty);
			}
		}
	}
	fputc('\n', out);
}

void _pcpu_dump_embedded(FILE *out, const struct pcpu_alloc_info *ai)
{
	size_t size_sum = ai->static_size + ai->reserved_size + ai->dyn_size;

	fprintf(out, "percpu: Embedded %zu pages/cpu s%zu r%zu d%zu u%zu\n",
		ai->page_size ? size_sum / ai->page_size : 0, ai->static_size, ai->reserved_size,
		ai->dyn_size, ai->unit_size);
}
