/* SPDX-License-Identifier: MIT */
/* geometry.c - the geometry every layer reads (internal.h): units, their offsets, the
 * arena's base.  Held here, below every layer that reads it; init.c fills it in once,
 * and the inline fast path's copy, __pcpu_fast, lives beside it. */
#include <stdlib.h>

#include "internal.h"

static struct pcpu_geometry geo;

const struct pcpu_geometry *const _pcpu_geo = &geo;

struct __pcpu_fast __pcpu_fast = { .size = sizeof(struct __pcpu_fast),
				   .version = __PCPU_FAST_VERSION };

struct pcpu_geometry *_pcpu_geometry_rw(void)
{
	return &geo;
}

/* The unit geometry of layout @ai: sizes, every possible CPU's unit offset, the
 * offsets of the units that have a CPU (the only ones ever populated), and the first
 * chunk's regions in each unit. */
int _pcpu_geometry_set_units(const struct pcpu_alloc_info *ai)
{
	/* static rounded up to the allocation unit, so that the reserved region starts
	 * aligned; the dynamic region gives up what the rounding took */
	size_t static_aligned = (ai->static_size + PCPU_MIN_ALLOC_SIZE - 1) &
				~(size_t)(PCPU_MIN_ALLOC_SIZE - 1);

	geo.static_size = static_aligned;
	geo.reserved_size = ai->reserved_size;
	geo.dyn_size = ai->dyn_size - (static_aligned - ai->static_size);
	geo.unit_size = ai->unit_size;
	geo.unit_pages = (int)(ai->unit_size / geo.page_size);
	geo.chunk_bytes = (size_t)ai->nr_units * ai->unit_size;
	if ((geo.chunk_bytes & (geo.chunk_bytes - 1)) == 0)
		geo.chunk_shift = __builtin_ctzl(geo.chunk_bytes);
	geo.unit_offsets = calloc(geo.topo.nr_cpu_ids, sizeof(*geo.unit_offsets));
	geo.used_unit_base = calloc((size_t)ai->nr_units, sizeof(*geo.used_unit_base));
	if (!geo.unit_offsets || !geo.used_unit_base)
		return -1;
	/* An impossible CPU's copy is a non-canonical address: using it faults at once
	 * instead of aliasing another CPU's copy (pcpu_ptr's fast path checks only the
	 * range of the CPU number; its slow path reports the CPU by name). */
	for (unsigned int cpu = 0; cpu < geo.topo.nr_cpu_ids; cpu++)
		geo.unit_offsets[cpu] = (ptrdiff_t)1 << 62;
	_pcpu_alloc_info_unit_offsets(ai, geo.unit_offsets);
	geo.nr_used = 0;
	for (int g = 0; g < ai->nr_groups; g++)
		for (int u = 0; u < ai->groups[g].nr_units; u++)
			if (ai->groups[g].cpu_map[u] != PCPU_NO_CPU)
				geo.used_unit_base[geo.nr_used++] =
					(ptrdiff_t)(ai->groups[g].base_offset + (size_t)u * ai->unit_size);
	return 0;
}
