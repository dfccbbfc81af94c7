/* SPDX-License-Identifier: MIT */
/* index.c - which number picks a thread's unit: its CPU (the kernel's meaning, the
 * default) or its rseq concurrency ID (mm_cid, LIBPERCPU_INDEX=cid or
 * pcpu_set_index_mode()), chosen once, before initialization, for the whole process.
 *
 * Concurrency IDs.  Since Linux 6.3 the kernel writes into each thread's rseq area,
 * next to cpu_id, an mm_cid: a number unique among the process's threads running at
 * that moment, below min(threads of the process, CPUs it may run on), reused compactly
 * (the lowest free one).  It changes only when the thread is scheduled out and back in,
 * which aborts a critical section as a migration does, so an rseq section that reads it
 * at its start owns that ID's unit until its commit, exactly as with cpu_id.  That is
 * all the this_cpu operations need: they index units by the number they read, so cid
 * mode changes the number's offset in the rseq area and its bound, once at init, and
 * nothing on the fast path.
 *
 * Where mm_cid is: struct rseq offset 24 (4 bytes).  The kernel fills it only if it
 * knows the field (its rseq feature size, getauxval(AT_RSEQ_FEATURE_SIZE), is at least
 * 28: Linux 6.3 and later; older kernels have no AT_RSEQ_FEATURE_SIZE at all) and only
 * within the area the thread registered (glibc's __rseq_size: 32 up to glibc 2.39, the
 * active feature size from 2.40; the library's own registration is 32 bytes).  Without
 * rseq (sched_getcpu source) there is no ID.  In each of those cases the library runs
 * in cpu mode and pcpu_index_source() (percpu-info cpu) says why.
 *
 * The ID space.  In cid mode the topology the rest of the library sees is the ID space:
 * IDs 0 .. N-1, all possible and online, one node, where N is the number of possible
 * CPUs (real or LIBPERCPU_TOPOLOGY's), which bounds every ID the kernel can hand out.
 * pcpu_ptr(p, i), pcpu_for_each_possible_cpu(i), get_cpu() and percpu_counter all
 * range over it unchanged; NUMA placement is dropped (an ID is not tied to a node),
 * and so is CPU hotplug (the ID space is marked simulated: pcpu_cpus_refresh() has no
 * sysfs to re-read for it, and every ID stays online).  pcpu_run_on_cpu() is refused
 * (EOPNOTSUPP): a thread can go to a CPU, not to an ID.
 * An ID at or above N (a kernel that one day hands out more) takes the slow path,
 * which maps it into the space: the operations then fall back to atomics there,
 * correct, only slower.
 *
 * Memory follows the IDs used.  Chunks are committed read-write without reservation
 * (vm.c), so a page costs memory only when written.  In cpu mode population prefaults
 * every CPU's unit (an out-of-memory then fails pcpu_alloc() cleanly).  In cid mode it
 * prefaults nothing: a unit's page becomes resident when the thread holding that ID (or
 * a pcpu_ptr() write) first writes it, so resident memory follows min(threads, allowed
 * CPUs), not possible CPUs, and an unused ID's copy reads as zeros without costing a
 * page.  What keeps it so:
 *   - zeroing on allocation writes only copies that are not zero already (reading an
 *     untouched page maps the shared zero page, which costs nothing);
 *   - static sections are copied into each unit only where their image is not zero
 *     (sections.c), for the same reason;
 *   - the first chunk is never on huge pages in cid mode (a huge page would make 2 MiB
 *     of neighbouring units resident at the first write);
 *   - depopulation gives back every unit's range, touched or not (madvise on untouched
 *     memory frees nothing and costs one call, as in cpu mode).
 * The price: a page an ID touches first is faulted in then (inside a this_cpu
 * operation, which the fault may restart), and running out of memory at that moment
 * is the kernel's OOM handling rather than an ENOMEM from pcpu_alloc().  A static
 * per-CPU variable with a nonzero initializer costs its page in every ID's unit from
 * start-up (copying an ID's images on its first use would save that; not done).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "internal.h"

#ifndef AT_RSEQ_FEATURE_SIZE
#define AT_RSEQ_FEATURE_SIZE 27
#endif
#define RSEQ_MM_CID_END 28 /* offsetof(struct rseq, mm_cid) + 4 */

/* PCPU_INDEX_* asked for by pcpu_set_index_mode(), or -1: LIBPERCPU_INDEX decides.
 * frozen: initialization has read it (both under the sections lock, which
 * initialization holds throughout). */
static int requested = -1;
static bool frozen;
static int mode = PCPU_INDEX_CPU;
static char source[192] = "cpu";

/* Test hooks, to test the fallbacks on a kernel that has mm_cid: when nonzero, taken as
 * the kernel's rseq feature size (1 stands for "no AT_RSEQ_FEATURE_SIZE", a kernel
 * before 6.3) and as the size of the registered area. */
unsigned long _pcpu_index_test_feature_size;
unsigned int _pcpu_index_test_area_size;

int pcpu_set_index_mode(int m)
{
	if (m != PCPU_INDEX_CPU && m != PCPU_INDEX_CID) {
		errno = EINVAL;
		return -1;
	}
	/* the same lock as initialization's: a mode set later than the start of init is
	 * refused rather than half taken */
	_pcpu_sections_lock();
	if (frozen) {
		_pcpu_sections_unlock();
		errno = EBUSY;
		return -1;
	}
	requested = m;
	_pcpu_sections_unlock();
	return 0;
}

int pcpu_index_mode(void)
{
	return _pcpu_ensure_init() == 0 ? mode : PCPU_INDEX_CPU;
}

const char *pcpu_index_source(void)
{
	return _pcpu_ensure_init() == 0 ? source : "cpu";
}

static unsigned long kernel_feature_size(void)
{
	unsigned long v = _pcpu_index_test_feature_size;

	if (v)
		return v == 1 ? 0 : v;
	return getauxval(AT_RSEQ_FEATURE_SIZE);
}

/* Reads the mode wanted: 0 with *want set, or -1 with errno EINVAL for a bad
 * LIBPERCPU_INDEX (reported). */
static int wanted(int *want)
{
	const char *env = _pcpu_option(PCPU_OPT_INDEX);

	*want = PCPU_INDEX_CPU;
	if (requested >= 0) {
		*want = requested;
		return 0;
	}
	if (!env || strcmp(env, "cpu") == 0)
		return 0;
	if (strcmp(env, "cid") == 0) {
		*want = PCPU_INDEX_CID;
		return 0;
	}
	return _pcpu_option_bad(PCPU_OPT_INDEX, "unknown value (cpu or cid)");
}

/* Builds the ID space 0 .. n-1 as a topology of one node. */
static int id_topology(struct pcpu_topology *t, unsigned int n)
{
	char spec[32], err[128];

	snprintf(spec, sizeof(spec), "0-%u", n - 1);
	if (_pcpu_topology_from_spec(t, spec, err, sizeof(err)) != 0)
		return -1;
	t->simulated = true; /* never bound to a node */
	return 0;
}

int _pcpu_index_choose(void)
{
	unsigned int area = _pcpu_cpu_area_size();

	if (area && _pcpu_index_test_area_size)
		area = _pcpu_index_test_area_size;
	unsigned long feat;
	struct pcpu_topology ids;
	int want;

	mode = PCPU_INDEX_CPU;
	frozen = true;
	if (wanted(&want) != 0)
		return -1;
	if (want == PCPU_INDEX_CPU) {
		snprintf(source, sizeof(source), "cpu");
		return 0;
	}
	feat = kernel_feature_size();
	if (area == 0) {
		snprintf(source, sizeof(source), "cpu (cid asked for, unavailable: no rseq, "
			 "the CPU comes from sched_getcpu)");
		return 0;
	}
	if (feat < RSEQ_MM_CID_END) {
		if (feat == 0)
			snprintf(source, sizeof(source), "cpu (cid asked for, unavailable: the "
				 "kernel has no mm_cid, Linux 6.3 or later has)");
		else
			snprintf(source, sizeof(source), "cpu (cid asked for, unavailable: the "
				 "kernel's rseq feature size %lu has no mm_cid)", feat);
		return 0;
	}
	if (area < RSEQ_MM_CID_END) {
		snprintf(source, sizeof(source), "cpu (cid asked for, unavailable: the registered "
			 "rseq area is %u bytes, mm_cid needs %d)", area, RSEQ_MM_CID_END);
		return 0;
	}
	if (id_topology(&ids, _pcpu_geo->topo.nr_possible) != 0)
		return -1;
	/* init.c calls this while it fills in the geometry */
	_pcpu_topology_free(&_pcpu_geometry_rw()->topo);
	_pcpu_geometry_rw()->topo = ids;
	mode = PCPU_INDEX_CID;
	snprintf(source, sizeof(source), "cid (rseq mm_cid, %u IDs)", ids.nr_cpu_ids);
	return 0;
}

bool _pcpu_index_cid(void)
{
	return mode == PCPU_INDEX_CID;
}
