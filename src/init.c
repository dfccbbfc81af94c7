/* SPDX-License-Identifier: MIT */
/* init.c - initialization, once per process: reads the LIBPERCPU_* settings (options.c),
 * chooses the topology (the machine's, or a simulated one), lays out the first chunk,
 * fills in the geometry, reserves the arena, then hands over to the layers below in order: the
 * allocator (_pcpu_alloc_setup), the static sections (placed in the first chunk), the
 * CPU source; last, it publishes the fast path's __pcpu_fast and the "initialized" flag
 * that every entry point checks.  Also the atfork handlers, which take every lock of the
 * library in the one order (internal.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "size.h"
#include "vm.h"

/* CONTEXT: written once, inside init_once(); initialized is then read with acquire. */
bool _pcpu_init_done; /* internal.h: _pcpu_initialized() */
static int init_errno;
static pthread_once_t init_once_control = PTHREAD_ONCE_INIT;
static struct pcpu_geometry *geo; /* the geometry, writable here only */

/*
 * The allocator's page size: the system's, or LIBPERCPU_PAGE_SIZE, a multiple of it up to
 * 64 KiB, to work in pages of that size (population, bitmap blocks, layout) as on a kernel
 * with 16 or 64 KiB pages.  0, or -1 with EINVAL (bad setting) or ENOTSUP (a system page
 * size outside 4 to 64 KiB).
 */
static int read_page_size(size_t *out)
{
	size_t sys = _pcpu_vm_page_size(), page = sys;

	if (_pcpu_option(PCPU_OPT_PAGE_SIZE) &&
	    (_pcpu_parse_size(_pcpu_option(PCPU_OPT_PAGE_SIZE), PCPU_MAX_PAGE_SIZE, &page) != 0 ||
	     page < sys || page % sys || (page & (page - 1))))
		return _pcpu_option_bad(PCPU_OPT_PAGE_SIZE, "not a power of two from the system's "
					"page size (%zu) to %d", sys, PCPU_MAX_PAGE_SIZE);
	if (page < PCPU_MIN_PAGE_SIZE || page > PCPU_MAX_PAGE_SIZE || (page & (page - 1))) {
		fprintf(stderr, "libpercpu: page size %zu not supported (a power of two from %d "
			"to %d)\n", page, PCPU_MIN_PAGE_SIZE, PCPU_MAX_PAGE_SIZE);
		errno = ENOTSUP;
		return -1;
	}
	*out = page;
	return 0;
}

/* The three size settings (see libpercpu(3)). */
static int read_size_settings(struct pcpu_layout_params *params)
{
	if (_pcpu_option_size(PCPU_OPT_RESERVED_SIZE, PCPU_MAX_REGION_SIZE,
			      &params->reserved_size) ||
	    _pcpu_option_size(PCPU_OPT_DYN_SIZE, PCPU_MAX_REGION_SIZE, &params->dyn_size) ||
	    _pcpu_option_size(PCPU_OPT_ATOM_SIZE, PCPU_MAX_ATOM_SIZE, &params->atom_size))
		return -1;
	if (params->atom_size < params->page_size || params->atom_size > PCPU_MAX_ATOM_SIZE ||
	    (params->atom_size & (params->atom_size - 1)))
		return _pcpu_option_bad(PCPU_OPT_ATOM_SIZE, "not a power of two from %zu to %zuM "
					"(at least the page size)", params->page_size,
					PCPU_MAX_ATOM_SIZE >> 20);
	params->reserved_size = (params->reserved_size + 3) & ~(size_t)3;
	return 0;
}

static int read_topology(void)
{
	const char *spec = _pcpu_option(PCPU_OPT_TOPOLOGY);
	struct pcpu_topology real;
	char err[256];

	if (_pcpu_topology_read_sysfs(&real, "/sys/devices/system") != 0) {
		long n = sysconf(_SC_NPROCESSORS_CONF);
		char fallback[32];

		snprintf(fallback, sizeof(fallback), "0-%ld", n > 0 ? n - 1 : 0);
		if (_pcpu_topology_from_spec(&real, fallback, err, sizeof(err)) != 0)
			return -1;
		real.simulated = false;
	}
	if (!spec) {
		geo->topo = real;
		return 0;
	}
	if (_pcpu_topology_from_spec(&geo->topo, spec, err, sizeof(err)) != 0) {
		_pcpu_topology_free(&real);
		return _pcpu_option_bad(PCPU_OPT_TOPOLOGY, "%s", err);
	}
	/* a simulated topology must give every real CPU a unit */
	for (unsigned int cpu = 0; cpu < real.nr_cpu_ids; cpu++) {
		if (_pcpu_topology_test(real.possible, cpu) &&
		    (cpu >= geo->topo.nr_cpu_ids || !_pcpu_topology_test(geo->topo.possible, cpu))) {
			fprintf(stderr, "libpercpu: LIBPERCPU_TOPOLOGY=%s lacks CPU %u of this "
				"machine\n", spec, cpu);
			_pcpu_topology_free(&real);
			_pcpu_topology_free(&geo->topo);
			errno = EINVAL;
			return -1;
		}
	}
	_pcpu_topology_free(&real);
	return 0;
}

/* Without a roomy address (no /proc): lets the kernel place a larger reservation, as
 * large as the address space allows up to PCPU_ARENA_PROBE_BYTES, and keeps only its
 * first chunk.  The rest is free again, so the arena can grow into it until the
 * process's own mappings, placed top-down, come down to it. */
static char *arena_probe(void)
{
	for (size_t span = PCPU_ARENA_PROBE_BYTES; span >= geo->chunk_bytes; span /= 2) {
		size_t chunks = span / geo->chunk_bytes;
		char *p = _pcpu_vm->reserve(chunks * geo->chunk_bytes, geo->ai->atom_size);

		if (p) {
			if (chunks > 1)
				_pcpu_vm->release(p + geo->chunk_bytes, (chunks - 1) * geo->chunk_bytes);
			return p;
		}
	}
	return NULL;
}

/* Reserves the arena for the first chunk alone, where it has room to grow upward in
 * place (alloc.c's arena_grow). */
static int setup_arena(void)
{
	size_t limit = PCPU_ARENA_MAX_BYTES / geo->chunk_bytes;
	char *hint = _pcpu_vm->roomy_address(geo->ai->atom_size);

	if (hint && _pcpu_vm->reserve_at(hint, geo->chunk_bytes) == 0)
		geo->arena = hint;
	else
		geo->arena = arena_probe();
	if (!geo->arena) {
		errno = ENOMEM;
		return -1;
	}
	geo->arena_limit_chunks = limit > PCPU_ARENA_MAX_CHUNKS ? PCPU_ARENA_MAX_CHUNKS :
				  limit < 1 ? 1 : (int)limit;
	return 0;
}

static void atfork_prepare(void)
{
	_pcpu_cpuhp_fork_lock();
	_pcpu_counter_fork_lock();
	_pcpu_cpumask_fork_lock();
	_pcpu_sections_lock();
	_pcpu_alloc_lock_all();
}

static void atfork_release(void)
{
	_pcpu_alloc_unlock_all();
	_pcpu_sections_unlock();
	_pcpu_cpumask_fork_unlock();
	_pcpu_counter_fork_unlock();
	_pcpu_cpuhp_fork_unlock();
}

/* Registered when the library is loaded, before any of its locks can be taken, so that
 * a fork() at any moment (registration, initialization, allocation) finds them free in
 * the child. */
__attribute__((constructor(101))) static void register_atfork(void)
{
	pthread_atfork(atfork_prepare, atfork_release, atfork_release);
}

/* The settings, the topology and the first chunk's layout, into the geometry. */
static int choose_geometry(bool *debug, bool *use_rseq)
{
	struct pcpu_layout_params params = {
		.reserved_size = PCPU_MODULE_RESERVE,
		.dyn_size = PCPU_DYNAMIC_RESERVE,
	};
	*debug = _pcpu_option_flag(PCPU_OPT_DEBUG);
	if (read_page_size(&params.page_size))
		return -1;
	geo->page_size = params.page_size; /* before the sections' layout, which aligns to it */
	*use_rseq = _pcpu_cpu_init(); /* before the index mode, which depends on it */
	params.atom_size = _pcpu_vm_thp_available() ? (2u << 20) : params.page_size;
	if (read_size_settings(&params) || _pcpu_stats_read_setting() || read_topology() ||
	    _pcpu_index_choose())
		return -1;
	params.static_size = _pcpu_sections_layout();
	geo->ai = _pcpu_build_alloc_info(&geo->topo, &params);
	if (geo->ai && geo->ai->unit_size > PCPU_CHUNK_MAX_UNIT_BYTES) {
		/* only static sections of hundreds of MiB get here past the limits */
		fprintf(stderr, "libpercpu: a unit of %zu bytes per CPU (static %zu, reserved %zu, "
			"dynamic %zu, atom %zu) is more than the limit of %zuM\n",
			geo->ai->unit_size, params.static_size, params.reserved_size,
			params.dyn_size, params.atom_size, PCPU_CHUNK_MAX_UNIT_BYTES >> 20);
		_pcpu_free_alloc_info(geo->ai);
		geo->ai = NULL;
		errno = EINVAL;
		return -1;
	}
	if (!geo->ai) {
		fprintf(stderr, "libpercpu: no first-chunk layout for static %zu reserved %zu "
			"dynamic %zu atom %zu: %s\n", params.static_size, params.reserved_size,
			params.dyn_size, params.atom_size, strerror(errno));
		return -1;
	}
	return 0;
}

static int do_init(void)
{
	bool debug, use_rseq;

	geo = _pcpu_geometry_rw();
	_pcpu_options_read();
	if (choose_geometry(&debug, &use_rseq))
		return -1;
	if (_pcpu_geometry_set_units(geo->ai) || setup_arena() || _pcpu_alloc_setup(debug)) {
		int saved = errno ? errno : ENOMEM;

		fprintf(stderr, "libpercpu: cannot set up the first chunk (unit %zu bytes, "
			"%d units): %s\n", geo->ai->unit_size, geo->ai->nr_units, strerror(saved));
		errno = saved;
		return -1;
	}
	_pcpu_sections_place_first(geo->arena);

	__pcpu_fast.arena_base = (uintptr_t)geo->arena;
	__atomic_store_n(&__pcpu_fast.arena_size, geo->chunk_bytes, __ATOMIC_RELAXED);
	__pcpu_fast.unit_offsets = geo->unit_offsets;
	__pcpu_fast.possible_bits = geo->topo.possible;
	__pcpu_fast.online_bits = geo->topo.online;
	_pcpu_cpu_set_index(_pcpu_index_cid());
	__atomic_store_n(&__pcpu_fast.nr_cpu_ids, geo->topo.nr_cpu_ids, __ATOMIC_RELEASE);
	__atomic_store_n(&__pcpu_fast.rseq_index_bound, use_rseq ? geo->topo.nr_cpu_ids : 0,
			 __ATOMIC_RELEASE);
	_pcpu_anchor_init();
	_pcpu_stats_arm_exit();
	return 0;
}

/* Set while this thread runs the initialization: a call that comes back into it from
 * the same thread (a signal handler that interrupted it) would wait in pthread_once()
 * for itself forever; it is reported instead. */
static __thread bool initializing_here __attribute__((tls_model("initial-exec")));

static void init_once(void)
{
	int ret, saved;

	initializing_here = true;
	errno = 0;
	/* held throughout: a fork() waits for initialization to finish (atfork_prepare),
	 * and no section registers halfway through */
	_pcpu_sections_lock();
	ret = do_init();
	saved = errno ? errno : ENOMEM;
	if (ret == 0)
		__atomic_store_n(&_pcpu_init_done, true, __ATOMIC_RELEASE);
	else
		init_errno = saved;
	_pcpu_sections_unlock();
	initializing_here = false;
}

int _pcpu_ensure_init(void)
{
	if (__builtin_expect(__atomic_load_n(&_pcpu_init_done, __ATOMIC_ACQUIRE), 1))
		return 0;
	if (initializing_here)
		_pcpu_fatal("pcpu_init", "called again by the thread that is initializing the library, "
			   "from a signal handler: initialize first (pcpu_init()), then install "
			   "handlers that use it");
	pthread_once(&init_once_control, init_once);
	if (!__atomic_load_n(&_pcpu_init_done, __ATOMIC_ACQUIRE)) {
		errno = init_errno;
		return -1;
	}
	return 0;
}

int _pcpu_init_errno(void)
{
	_pcpu_ensure_init();
	return init_errno;
}

int pcpu_init(void)
{
	return _pcpu_ensure_init();
}
