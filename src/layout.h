/* SPDX-License-Identifier: MIT */
/* layout.h - first-chunk layout: the kernel's build_alloc_info algorithm and the
 * pcpu-alloc dump.  Pure computation: no system calls. */
#ifndef PCPU_SRC_LAYOUT_H
#define PCPU_SRC_LAYOUT_H

#include <stddef.h>
#include <stdio.h>

#include "topology.h"

#define PCPU_MIN_UNIT_SIZE (32u << 10)       /* smallest unit; also the largest allocation */
#define PCPU_DYNAMIC_EARLY_SIZE (20u << 10)  /* dyn_size is raised to at least this */
#define PCPU_NO_CPU 0xffffffffu              /* cpu_map entry of an unused (padding) unit */

struct pcpu_group_info {
	int nr_units;          /* units in this group, padding included */
	size_t base_offset;    /* byte offset of the group's first unit from the chunk base */
	unsigned int *cpu_map; /* nr_units entries: CPU of each unit, PCPU_NO_CPU if unused */
};

struct pcpu_alloc_info {
	size_t static_size;
	size_t reserved_size;
	size_t dyn_size;
	size_t unit_size;
	size_t atom_size;
	size_t alloc_size;
	size_t page_size;
	int nr_groups;
	int nr_units;          /* sum of the groups' nr_units */
	unsigned int num_possible_cpus;
	struct pcpu_group_info *groups;
};

struct pcpu_layout_params {
	size_t static_size;
	size_t reserved_size;
	size_t dyn_size;
	size_t atom_size; /* power of two, multiple of page_size */
	size_t page_size; /* power of two */
};

/* The build_alloc_info algorithm: groups CPUs at local distance, picks units per
 * allocation, pads groups.  Groups are laid out back to back: group g's base_offset is
 * (units before it) * unit_size.  Returns NULL with errno EINVAL (bad parameters, empty
 * topology) or ENOMEM.  Free with _pcpu_free_alloc_info(). */
struct pcpu_alloc_info *_pcpu_build_alloc_info(const struct pcpu_topology *t,
					      const struct pcpu_layout_params *p);
void _pcpu_free_alloc_info(struct pcpu_alloc_info *ai);

/* Byte offset of each possible CPU's unit from the chunk base, in @offsets
 * (nr_cpu_ids entries; entries of impossible CPUs are left untouched). */
void _pcpu_alloc_info_unit_offsets(const struct pcpu_alloc_info *ai, ptrdiff_t *offsets);

/* Prints the lines _pcpu_dump_alloc_info prints, each starting with "pcpu-alloc: ". */
void _pcpu_dump_alloc_info(FILE *out, const struct pcpu_alloc_info *ai);

/* Prints "percpu: Embedded N pages/cpu sS rR dD uU" as pcpu_embed_first_chunk does. */
void _pcpu_dump_embedded(FILE *out, const struct pcpu_alloc_info *ai);

#endif
