/* SPDX-License-Identifier: MIT */
/* test_numa_bind.c - each group's units of every chunk are bound to the node of the
 * group's CPUs: on a simulated three-node topology, a recording backend must see one
 * bind per group per chunk, covering exactly that group's units, with its node. */
#include <string.h>

#include "alloc_state.h"
#include "testutil.h"
#include "vm.h"

struct bind_call {
	char *addr;
	size_t size;
	int node;
};
static struct bind_call calls[256];
static int nr_calls;

static int record_bind(void *addr, size_t size, int node)
{
	if (nr_calls < 256)
		calls[nr_calls++] = (struct bind_call){ addr, size, node };
	return 0;
}

static struct pcpu_vm_ops recording;

/* Checks the binds recorded for the chunk at @base, and forgets them. */
static void check_chunk_binds(char *base)
{
	const struct pcpu_alloc_info *ai = _pcpu_geo->ai;
	int found = 0;

	for (int g = 0; g < ai->nr_groups; g++) {
		const struct pcpu_group_info *gi = &ai->groups[g];
		int node = _pcpu_geo->topo.cpu_to_node[gi->cpu_map[0]];
		for (int i = 0; i < nr_calls; i++)
			if (calls[i].addr == base + gi->base_offset &&
			    calls[i].size == (size_t)gi->nr_units * ai->unit_size && calls[i].node == node)
				found++;
		/* every CPU of the group lives on that node */
		for (int u = 0; u < gi->nr_units; u++)
			if (gi->cpu_map[u] != PCPU_NO_CPU)
				CHECK_EQ(_pcpu_geo->topo.cpu_to_node[gi->cpu_map[u]], node);
	}
	CHECK_EQ(found, ai->nr_groups);
	CHECK_EQ(nr_calls, ai->nr_groups);
	nr_calls = 0;
}

int main(void)
{
	void *objs[64];
	int n = 0;

	setenv("LIBPERCPU_TOPOLOGY", "0,3-4;1,5;2,6-9", 1);
	recording = _pcpu_vm_os;
	recording.bind = record_bind;
	_pcpu_vm = &recording;
	_pcpu_bind_simulated_nodes = true;

	CHECK_EQ(pcpu_init(), 0);
	CHECK_EQ(_pcpu_geo->ai->nr_groups, 3);
	check_chunk_binds(_pcpu_geo->arena); /* the first chunk */

	/* fill until a new chunk is made: it is bound the same way */
	int chunks = _pcpu_alloc.nr_chunks;
	while (_pcpu_alloc.nr_chunks == chunks && n < 64)
		objs[n++] = pcpu_alloc(PCPU_MAX_ALLOC_SIZE, 8);
	CHECK(_pcpu_alloc.nr_chunks > chunks);
	for (int i = 1; i < _pcpu_alloc.max_chunks; i++)
		if (_pcpu_alloc.chunks[i])
			check_chunk_binds(_pcpu_alloc.chunks[i]->base);
	for (int i = 0; i < n; i++)
		pcpu_free(objs[i]);
	TEST_DONE();
}
