/* SPDX-License-Identifier: MIT */
/* anchor.c - publishes where the allocator state lies, for percpu-info --pid (anchor.h). */
#include <string.h>

#include "anchor.h"
#include "vm.h"

uint64_t _pcpu_state_seq;

void _pcpu_anchor_init(void)
{
	struct pcpu_anchor *a = _pcpu_vm_named_page(PCPU_ANCHOR_NAME, sizeof(*a));

	if (!a)
		return;
	memcpy(a->magic, PCPU_ANCHOR_MAGIC, sizeof(a->magic));
	a->abi = PCPU_ANCHOR_ABI;
	a->state_size = sizeof(struct pcpu_alloc_state);
	a->chunk_size = sizeof(struct pcpu_chunk);
	a->map_size = sizeof(struct pcpu_chunk_map);
	strncpy(a->version, pcpu_version(), sizeof(a->version) - 1);
	a->self = (uintptr_t)a;
	a->state = (uintptr_t)&_pcpu_alloc;
	a->seq = (uintptr_t)&_pcpu_state_seq;
	a->alloc_size = _pcpu_geo->ai->alloc_size;
	a->geometry = (uintptr_t)_pcpu_geo;
	a->geometry_size = sizeof(struct pcpu_geometry);
	_pcpu_vm_seal_page(a, sizeof(*a));
}
