/* SPDX-License-Identifier: MIT */
/* vm.h - the only interface through which libpercpu touches the address space: reserve,
 * commit, populate, depopulate, bind to a node, release.  Everything above it is plain C.
 * Tests swap _pcpu_vm for a wrapper that injects failures or records calls. */
#ifndef PCPU_SRC_VM_H
#define PCPU_SRC_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pcpu_vm_ops {
	/* Reserves @size bytes of address space aligned to @align, inaccessible and costing
	 * no memory.  Returns the address, or NULL with errno. */
	void *(*reserve)(size_t size, size_t align);
	/* Makes [addr, addr+size) of a reservation readable and writable, still costing no
	 * memory until populated.  @huge: whether transparent huge pages are wanted. */
	int (*commit)(void *addr, size_t size, bool huge);
	/* Returns [addr, addr+size) to the reserved, inaccessible state; memory is freed. */
	int (*decommit)(void *addr, size_t size);
	/* Backs [addr, addr+size) (page aligned) with memory now.  -1 with ENOMEM if not. */
	int (*populate)(void *addr, size_t size);
	/* Gives the memory of [addr, addr+size) back; the pages read as zero afterwards. */
	int (*depopulate)(void *addr, size_t size);
	/* Asks that memory for [addr, addr+size) come from NUMA node @node. */
	int (*bind)(void *addr, size_t size, int node);
	/* Unmaps [addr, addr+size) of a reservation: all of it, or a page-aligned part. */
	void (*release)(void *addr, size_t size);
	/* Reserves exactly [addr, addr+size) as reserve() does, if nothing is mapped there.
	 * 0, or -1 with errno: EEXIST (something is there), ENOMEM (no address space). */
	int (*reserve_at)(void *addr, size_t size);
	/* An address aligned to @align in the middle of the largest unmapped range of the
	 * address space, where a reservation can grow upward for long; NULL if unknown. */
	void *(*roomy_address)(size_t align);
	/* Milliseconds on a monotonic clock (a coarse one is fine): how long the allocator's
	 * reserve has been idle.  Tests swap it to move time on without waiting. */
	uint64_t (*now_ms)(void);
};

extern const struct pcpu_vm_ops _pcpu_vm_os;  /* the real one: mmap, madvise, mbind */
extern const struct pcpu_vm_ops *_pcpu_vm;    /* the one in use */

/* Transparent huge pages: true unless /sys/kernel/mm/transparent_hugepage/enabled says
 * [never] (or does not exist). */
bool _pcpu_vm_thp_available(void);
/* The system page size. */
size_t _pcpu_vm_page_size(void);
/* A zero-filled mapping of @size bytes whose name /proc/PID/maps shows ("/memfd:@name"),
 * private to this process (a fork()ed child gets a copy); NULL if there is none. */
void *_pcpu_vm_named_page(const char *name, size_t size);
/* Makes such a mapping read-only. */
void _pcpu_vm_seal_page(void *addr, size_t size);

#endif
