/* SPDX-License-Identifier: MIT */
/* fuzz_layout.c - libFuzzer target for the first-chunk layout (src/layout.c,
 * _pcpu_build_alloc_info): arbitrary static/reserved/dynamic sizes, page and atom sizes,
 * possible-CPU sets, CPU-to-node maps and node distance matrices (asymmetric and
 * non-transitive ones included).  Invalid parameters must give EINVAL; valid ones a layout
 * whose invariants are checked here from first principles: every possible CPU in exactly
 * one unit, groups as the documented grouping rule makes them, sizes and offsets
 * consistent, units within the allocation and disjoint. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "layout.h"
#include "../tests/testutil.h"

#define MAX_BYTES ((size_t)1 << 40)  /* sizes above this are refused */
#define MAX_ATOM ((size_t)1 << 30)

/* A size: mostly small and page-ish, sometimes huge (beyond the limit). */
static size_t take_size(struct input *in)
{
	unsigned int kind = take8(in);
	uint64_t v = take_bytes(in, 3);

	switch (kind % 4) {
	case 0:
		return (size_t)(v % 4096);
	case 1:
		return (size_t)v;
	case 2:
		return (size_t)(v << (kind >> 2) % 24);
	default:
		return (size_t)(take_bytes(in, 3) << 24 | v);
	}
}

static bool is_pow2(size_t x)
{
	return x && !(x & (x - 1));
}

static size_t round_up(size_t x, size_t to)
{
	return (x + to - 1) / to * to;
}

static bool local(const struct pcpu_topology *t, unsigned int a, unsigned int b)
{
	return _pcpu_topology_cpu_distance(t, a, b) == PCPU_LOCAL_DISTANCE &&
	       _pcpu_topology_cpu_distance(t, b, a) == PCPU_LOCAL_DISTANCE;
}

static void check_layout(const struct pcpu_topology *t, const struct pcpu_layout_params *p,
			 const struct pcpu_alloc_info *ai)
{
	size_t dyn = p->dyn_size > PCPU_DYNAMIC_EARLY_SIZE ? p->dyn_size : PCPU_DYNAMIC_EARLY_SIZE;
	size_t sum = ai->static_size + ai->reserved_size + ai->dyn_size;
	size_t min_unit = sum > PCPU_MIN_UNIT_SIZE ? sum : PCPU_MIN_UNIT_SIZE, upa, units = 0;
	size_t wasted = 0;
	unsigned int *leader = calloc(t->nr_cpu_ids, sizeof(*leader));
	int *group = calloc(t->nr_cpu_ids, sizeof(*group));
	unsigned int *seen = calloc(t->nr_cpu_ids, sizeof(*seen));
	ptrdiff_t *off = calloc(t->nr_cpu_ids, sizeof(*off));
	unsigned char *used;

	if (!leader || !group || !seen || !off)
		abort();
	CHECK_EQ(ai->static_size, p->static_size);
	CHECK_EQ(ai->reserved_size, p->reserved_size);
	CHECK_EQ(ai->page_size, p->page_size);
	CHECK_EQ(ai->atom_size, p->atom_size);
	CHECK_EQ(ai->num_possible_cpus, t->nr_possible);
	/* dyn raised to the early minimum, then to the next page boundary, not beyond */
	CHECK(ai->dyn_size >= dyn);
	CHECK_EQ(sum % p->page_size, 0);
	CHECK(sum - p->page_size < p->static_size + p->reserved_size + dyn);
	CHECK(ai->unit_size >= min_unit);
	CHECK_EQ(ai->unit_size % p->page_size, 0);
	CHECK_EQ(ai->alloc_size, round_up(min_unit, p->atom_size));
	CHECK(ai->unit_size && ai->alloc_size % ai->unit_size == 0);
	if (tu_failures || !ai->unit_size)
		goto out;
	upa = ai->alloc_size / ai->unit_size;
	CHECK(ai->nr_groups >= 1);

	for (int g = 0; g < ai->nr_groups; g++) {
		const struct pcpu_group_info *gi = &ai->groups[g];
		int cpus = 0;

		CHECK(gi->nr_units > 0 && (size_t)gi->nr_units % upa == 0);
		CHECK_EQ(gi->base_offset, units * ai->unit_size);
		for (int u = 0; u < gi->nr_units; u++) {
			unsigned int cpu = gi->cpu_map[u];

			if (cpu == PCPU_NO_CPU)
				continue;
			/* possible, once, ascending, before any padding */
			CHECK(cpu < t->nr_cpu_ids && _pcpu_topology_test(t->possible, cpu));
			if (cpu >= t->nr_cpu_ids)
				continue;
			CHECK_EQ(seen[cpu]++, 0);
			CHECK_EQ(u, cpus);
			CHECK(!cpus || cpu > gi->cpu_map[u - 1]);
			group[cpu] = g;
			leader[cpu] = gi->cpu_map[0];
			cpus++;
		}
		CHECK(cpus > 0);
		CHECK((size_t)(gi->nr_units - cpus) < upa);
		wasted += (size_t)(gi->nr_units - cpus);
		units += (size_t)gi->nr_units;
	}
	CHECK_EQ(units, ai->nr_units);
	CHECK(upa == 1 || wasted <= t->nr_possible / 3);

	/* The grouping rule: a CPU joins the first group (by leader, lowest CPU first) whose
	 * leader is local to it in both directions, and leads a new group if none is. */
	for (unsigned int cpu = 0; cpu < t->nr_cpu_ids; cpu++) {
		if (!_pcpu_topology_test(t->possible, cpu)) {
			CHECK_EQ(seen[cpu], 0);
			continue;
		}
		CHECK_EQ(seen[cpu], 1);
		if (seen[cpu] != 1)
			continue;
		CHECK(leader[cpu] == cpu || local(t, leader[cpu], cpu));
		for (int g = 0; g < group[cpu]; g++)
			CHECK(!local(t, ai->groups[g].cpu_map[0], cpu));
		if (tu_failures)
			break;
	}

	/* Units: inside the allocation, a multiple of the unit size apart, never shared. */
	_pcpu_alloc_info_unit_offsets(ai, off);
	used = calloc((size_t)ai->nr_units, 1);
	if (!used)
		abort();
	for (unsigned int cpu = 0; cpu < t->nr_cpu_ids; cpu++) {
		size_t u;

		if (!_pcpu_topology_test(t->possible, cpu))
			continue;
		CHECK(off[cpu] >= 0 && (size_t)off[cpu] % ai->unit_size == 0);
		u = (size_t)off[cpu] / ai->unit_size;
		CHECK(u < (size_t)ai->nr_units);
		if (u < (size_t)ai->nr_units)
			CHECK_EQ(used[u]++, 0);
	}
	free(used);
out:
	free(leader);
	free(group);
	free(seen);
	free(off);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct input in = { data, data + size };
	struct pcpu_layout_params p;
	struct pcpu_topology t;
	struct pcpu_alloc_info *ai;
	unsigned int page_shift = take8(&in), atom_shift = take8(&in), topo = take8(&in);
	bool valid;

	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	p.static_size = take_size(&in);
	p.reserved_size = take_size(&in);
	p.dyn_size = take_size(&in);
	/* mostly 4 KiB to 64 KiB pages; 1 in 16 an arbitrary value */
	p.page_size = page_shift >= 240 ? (size_t)take_bytes(&in, 2)
					: (size_t)1 << (12 + page_shift % 5);
	p.atom_size = atom_shift >= 240 ? (size_t)take_bytes(&in, 4)
					: p.page_size << atom_shift % 20;

	/* topology: CPU i is impossible or on a node; distances default or from the input */
	memset(&t, 0, sizeof(t));
	t.nr_cpu_ids = 1 + (unsigned int)(take_bytes(&in, 2) % (topo & 1 ? 2048 : 64));
	t.nr_nodes = 1 + (int)(take8(&in) % 16);
	t.possible = calloc((t.nr_cpu_ids + 63) / 64, sizeof(uint64_t));
	t.online = calloc((t.nr_cpu_ids + 63) / 64, sizeof(uint64_t));
	t.cpu_to_node = calloc(t.nr_cpu_ids, sizeof(int));
	t.distance = malloc((size_t)t.nr_nodes * (size_t)t.nr_nodes);
	if (!t.possible || !t.online || !t.cpu_to_node || !t.distance)
		abort();
	for (unsigned int cpu = 0; cpu < t.nr_cpu_ids; cpu++) {
		/* the input's bytes while they last, then a repeating pattern */
		unsigned int b = in.p < in.end ? take8(&in) : cpu * 7 % 11;

		if (b % 8 == 7)
			continue;
		t.possible[cpu / 64] |= UINT64_C(1) << (cpu % 64);
		t.online[cpu / 64] |= UINT64_C(1) << (cpu % 64);
		t.nr_possible++;
		t.nr_online++;
		t.cpu_to_node[cpu] = (int)(b / 8 % (unsigned int)t.nr_nodes);
	}
	for (int a = 0; a < t.nr_nodes; a++)
		for (int b = 0; b < t.nr_nodes; b++)
			t.distance[a * t.nr_nodes + b] =
				a == b ? PCPU_LOCAL_DISTANCE : PCPU_REMOTE_DISTANCE;
	if (topo & 2)
		for (int i = 0; i < t.nr_nodes * t.nr_nodes && in.p < in.end; i++)
			t.distance[i] = take8(&in) % 2 ? PCPU_LOCAL_DISTANCE : (unsigned char)take8(&in);

	valid = t.nr_possible && is_pow2(p.page_size) && is_pow2(p.atom_size) &&
		p.atom_size >= p.page_size && p.atom_size <= MAX_ATOM &&
		p.static_size <= MAX_BYTES && p.reserved_size <= MAX_BYTES &&
		p.dyn_size <= MAX_BYTES;
	errno = 0;
	ai = _pcpu_build_alloc_info(&t, &p);
	if (!valid) {
		CHECK(!ai);
		CHECK_EQ(errno, EINVAL);
	} else if (!ai) {
		fprintf(stderr, "no layout for valid parameters: %s\n", strerror(errno));
		CHECK(false);
	} else {
		check_layout(&t, &p, ai);
		_pcpu_dump_alloc_info(devnull, ai);
		_pcpu_dump_embedded(devnull, ai);
	}
	if (tu_failures) {
		fprintf(stderr, "s%zu r%zu d%zu page %zu atom %zu, %u CPU ids, %u possible, "
			"%d nodes\n", p.static_size, p.reserved_size, p.dyn_size, p.page_size,
			p.atom_size, t.nr_cpu_ids, t.nr_possible, t.nr_nodes);
		abort();
	}
	_pcpu_free_alloc_info(ai);
	_pcpu_topology_free(&t);
	return 0;
}
