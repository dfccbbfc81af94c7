/* SPDX-License-Identifier: MIT */
/* topology.h - possible/online CPUs, CPU-to-node map and node distances, read from sysfs
 * or simulated from a node specification.  Used by the layout and the allocator. */
#ifndef PCPU_SRC_TOPOLOGY_H
#define PCPU_SRC_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCPU_LOCAL_DISTANCE 10
#define PCPU_REMOTE_DISTANCE 20
#define PCPU_MAX_CPUS 65536 /* refuse topologies larger than this */
#define PCPU_MAX_NODES 1024

struct pcpu_topology {
	unsigned int nr_cpu_ids;   /* highest possible CPU + 1 */
	unsigned int nr_possible;  /* population count of possible */
	unsigned int nr_online;
	uint64_t *possible;        /* bitmap, nr_cpu_ids bits */
	uint64_t *online;          /* bitmap, nr_cpu_ids bits */
	int *cpu_to_node;          /* nr_cpu_ids entries; node of each possible CPU, 0 if unknown */
	int nr_nodes;              /* node ids are 0 .. nr_nodes - 1 */
	unsigned char *distance;   /* nr_nodes * nr_nodes, row-major: distance[a * nr_nodes + b] */
	bool simulated;            /* true: built from a spec, must not be used for mbind */
};

/* Reads the topology below @sysfs_root (normally "/sys/devices/system").  Missing node
 * information means one node.  Returns 0, or -1 with errno set. */
int _pcpu_topology_read_sysfs(struct pcpu_topology *t, const char *sysfs_root);

/* Builds a simulated topology from "LIST;LIST;..." where each LIST is a CPU list in the
 * kernel's format ("0-5,12-17") naming the CPUs of one node; node i is the i-th list.
 * All CPUs named are possible and online.  Distances: 10 within a node, 20 across.
 * Returns 0, or -1 with errno EINVAL (and a message in @err when not NULL). */
int _pcpu_topology_from_spec(struct pcpu_topology *t, const char *spec, char *err, size_t errlen);

void _pcpu_topology_free(struct pcpu_topology *t);

static inline bool _pcpu_topology_test(const uint64_t *bits, unsigned int cpu)
{
	return (bits[cpu / 64] >> (cpu % 64)) & 1;
}

/* Distance between the nodes of two possible CPUs. */
int _pcpu_topology_cpu_distance(const struct pcpu_topology *t, unsigned int a, unsigned int b);

/* Parses a kernel CPU list ("0-3,8,10-11") into a freshly allocated bitmap of *nbits bits
 * (highest CPU + 1).  Returns 0, or -1 with errno EINVAL/ENOMEM. */
int _pcpu_cpulist_parse(const char *s, uint64_t **bits, unsigned int *nbits);

/* Reads the CPU list file cpu/@name ("online", "present") below @sysfs_root into @dst,
 * a bitmap of @nbits bits (CPUs at or above @nbits are left out).  Returns 0, or -1 with
 * errno (ENOENT if the file is absent, EINVAL if malformed; @dst unchanged then). */
int _pcpu_topology_read_cpus(const char *sysfs_root, const char *name, uint64_t *dst,
			    unsigned int nbits);

#endif
