/* SPDX-License-Identifier: MIT */
/* api.c - the public entry points of the core: allocation, balance, addressing and the
 * CPU source.  Each makes sure the library is initialized (init.c), then hands over to
 * the layer that does the work, which never calls back up (internal.h draws the layers). */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* Once the library is initialized, _pcpu_alloc_internal() checks the request itself (on
 * a small one in fewer tests), so neither entry point checks it first. */
static inline void *alloc_gfp(size_t size, size_t align, unsigned int gfp)
{
	if (__builtin_expect(_pcpu_initialized(), 1))
		return _pcpu_alloc_internal(size, align, false, gfp);
	/* a request no page size allows is EINVAL, initialized or not */
	if (_pcpu_alloc_check(size, align, gfp) || _pcpu_ensure_init())
		return NULL;
	return _pcpu_alloc_internal(size, align, false, gfp);
}

void *pcpu_alloc_gfp(size_t size, size_t align, unsigned int gfp)
{
	return alloc_gfp(size, align, gfp);
}

void *pcpu_alloc(size_t size, size_t align)
{
	return alloc_gfp(size, align, PCPU_GFP_KERNEL);
}

void pcpu_free(void *ptr)
{
	/* nothing to initialize: before initialization no pointer is per-CPU */
	_pcpu_free_internal(ptr, "pcpu_free", false);
}

/* The application's call also re-reads the online CPUs (cpuhp.c): the allocator's own
 * slow paths leave that out, so that a free never runs hotplug callbacks. */
void pcpu_balance(void)
{
	int saved = errno;

	if (_pcpu_ensure_init())
		return;
	(void)pcpu_cpus_refresh();
	errno = saved;
	_pcpu_alloc_balance();
}

/* Fails with a message naming @call if the library cannot initialize. */
static void init_or_die(const char *call)
{
	if (_pcpu_ensure_init())
		_pcpu_fatal(call, "library initialization failed: %s", strerror(_pcpu_init_errno()));
}

void *__pcpu_canon_slow(const void *p)
{
	char *canon;

	init_or_die("this_cpu operation");
	if (_pcpu_alloc_in_arena(p))
		return (void *)p;
	canon = _pcpu_sections_translate(p);
	if (!canon)
		_pcpu_fatal("this_cpu operation", "%p is not a per-CPU object (neither from "
			    "pcpu_alloc() nor a registered PCPU_DEFINE variable)", p);
	return canon;
}

void *__pcpu_ptr_slow(const void *p, unsigned int cpu)
{
	const struct pcpu_topology *topo = &_pcpu_geo->topo;
	char *canon;

	if (!p)
		return NULL;
	init_or_die("pcpu_ptr");
	if (cpu >= topo->nr_cpu_ids || !_pcpu_topology_test(topo->possible, cpu))
		_pcpu_fatal("pcpu_ptr", "(%p, %u): CPU %u is not a possible CPU (nr_cpu_ids %u)", p,
			    cpu, cpu, topo->nr_cpu_ids);
	if (_pcpu_alloc_in_arena(p))
		canon = (char *)p;
	else
		canon = _pcpu_sections_translate(p);
	if (!canon)
		_pcpu_fatal("pcpu_ptr", "(%p, %u): %p is not a per-CPU pointer (neither from "
			    "pcpu_alloc() nor a registered PCPU_DEFINE variable)", p, cpu, p);
	return canon + _pcpu_geo->unit_offsets[cpu];
}

const char *pcpu_cpu_source(void)
{
	(void)_pcpu_ensure_init(); /* uninitialized, the source is sched_getcpu */
	return _pcpu_cpu_source_name();
}

_Bool __pcpu_rseq_thread_ok(void)
{
	return _pcpu_ensure_init() == 0 && _pcpu_cpu_rseq_thread_ok();
}

unsigned int __pcpu_current_cpu_slow(void)
{
	init_or_die("pcpu_current_cpu");
	return _pcpu_cpu_current_slow();
}
