/* SPDX-License-Identifier: MIT */
/* cpuhp.c - CPU hotplug: pcpu_cpus_refresh() re-reads the online and present CPUs and
 * calls the callbacks registered with pcpu_cpuhp_setup() for the CPUs that came and went.
 *
 * The kernel runs a state machine per CPU and calls each state's startup callback as
 * the CPU comes up and its teardown callback, in reverse order, as it goes down.  A
 * process learns of hotplug only by looking (sysfs has the masks; nothing notifies), so
 * the states here are the kernel's dynamic ones (CPUHP_AP_ONLINE_DYN), driven by
 * whichever thread refreshes: pcpu_cpus_refresh() itself, or pcpu_balance().  Units
 * never move (every possible CPU has one from the start), so hotplug changes only the
 * masks and what the callbacks do.  One built-in state comes last on the way down:
 * percpu_counter's, which folds the deltas of a CPU that is gone (the kernel's
 * CPUHP_PERCPU_CNT_DEAD).
 *
 * Locking: one mutex serializes refreshes, registrations and removals, and is held
 * while callbacks run, as the kernel holds its hotplug lock; a callback that calls back
 * into the registry gets EDEADLK (a flag per thread says it is inside) rather than a
 * hang.  The online mask and count change with atomic stores (readers take no lock).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bitmap.h"
#include "internal.h"

struct registration {
	int id;
	char *name;
	pcpu_cpuhp_cb online, offline;
};

static pthread_mutex_t hp_lock = PTHREAD_MUTEX_INITIALIZER;
static struct registration *regs; /* in registration order */
static int nr_regs, regs_cap, last_id;
static __thread bool in_hotplug;  /* this thread holds hp_lock */

const char *_pcpu_cpus_sysfs_root_hook;

const char *_pcpu_cpus_sysfs_root(void)
{
	/* in cid mode the "CPUs" are concurrency IDs (index.c), which hotplug does not
	 * change; folding an ID's delta for a CPU that went would race with the rseq
	 * commits of the thread that holds the ID */
	if (_pcpu_index_cid())
		return NULL;
	if (_pcpu_cpus_sysfs_root_hook)
		return _pcpu_cpus_sysfs_root_hook;
	return _pcpu_geo->topo.simulated ? NULL : "/sys/devices/system";
}

/* Takes the registry: 0, or -1 with errno (EDEADLK from a callback, init's error). */
static int enter(void)
{
	if (in_hotplug) {
		errno = EDEADLK;
		return -1;
	}
	if (_pcpu_ensure_init())
		return -1;
	pthread_mutex_lock(&hp_lock);
	in_hotplug = true;
	return 0;
}

static void leave(void)
{
	in_hotplug = false;
	pthread_mutex_unlock(&hp_lock);
}

/* fork(): init.c's handlers hold the registry across it, so that the child never finds
 * it taken by a thread it does not have.  A callback that forks holds it already. */
static __thread bool fork_took_hp;

void _pcpu_cpuhp_fork_lock(void)
{
	fork_took_hp = !in_hotplug;
	if (fork_took_hp)
		pthread_mutex_lock(&hp_lock);
}

void _pcpu_cpuhp_fork_unlock(void)
{
	if (fork_took_hp)
		pthread_mutex_unlock(&hp_lock);
	fork_took_hp = false;
}

static unsigned int next_cpu(const uint64_t *a, const uint64_t *b, enum pcpu_bitmap_op op,
			     unsigned int from)
{
	return _pcpu_bitmap_find(a, b, op, _pcpu_geo->topo.nr_cpu_ids, from);
}

/* cpu/@name into @dst within the possible CPUs; an absent file means all of them. */
static int read_mask(const char *root, const char *name, uint64_t *dst)
{
	unsigned int nr = _pcpu_geo->topo.nr_cpu_ids;

	if (_pcpu_topology_read_cpus(root, name, dst, nr)) {
		if (errno != ENOENT)
			return -1;
		_pcpu_bitmap_fill(dst, nr, true);
	}
	_pcpu_bitmap_combine(dst, dst, _pcpu_geo->topo.possible, PCPU_BM_AND, nr);
	return 0;
}

static void went(unsigned int cpu)
{
	for (int i = nr_regs - 1; i >= 0; i--)
		if (regs[i].offline)
			(void)regs[i].offline(cpu);
	_pcpu_bitmap_clear(_pcpu_geo->topo.online, cpu);
	__atomic_fetch_sub(&_pcpu_geometry_rw()->topo.nr_online, 1, __ATOMIC_RELAXED);
	_pcpu_counter_cpu_dead(cpu);
}

static void came(unsigned int cpu)
{
	_pcpu_bitmap_set(_pcpu_geo->topo.online, cpu);
	__atomic_fetch_add(&_pcpu_geometry_rw()->topo.nr_online, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < nr_regs; i++)
		if (regs[i].online)
			(void)regs[i].online(cpu);
}

int pcpu_cpus_refresh(void)
{
	const uint64_t *online = _pcpu_geo->topo.online;
	uint64_t *now, *present;
	const char *root;
	unsigned int nr, cpu;
	size_t words;
	int changes = 0, e;

	if (enter())
		return -1;
	root = _pcpu_cpus_sysfs_root();
	if (!root) {
		leave(); /* a simulated topology: nothing to re-read */
		return 0;
	}
	nr = _pcpu_geo->topo.nr_cpu_ids;
	words = _pcpu_bitmap_words(nr);
	now = calloc(2 * words, sizeof(*now));
	present = _pcpu_cpus_present_bits();
	if (!now || !present) {
		errno = ENOMEM;
		goto fail;
	}
	if (read_mask(root, "online", now) || read_mask(root, "present", now + words))
		goto fail;
	/* a running system has at least the CPU reading the file online: a list without
	 * a possible CPU is not the kernel's, and would take every CPU offline */
	if (!_pcpu_bitmap_weight(now, nr)) {
		errno = EINVAL;
		goto fail;
	}
	/* first the CPUs that went, then those that came: the kernel would see them in
	 * that order only by chance, but a callback then never sees more CPUs at once
	 * than either mask holds */
	for (cpu = next_cpu(online, now, PCPU_BM_ANDNOT, 0); cpu < nr;
	     cpu = next_cpu(online, now, PCPU_BM_ANDNOT, cpu + 1), changes++)
		went(cpu);
	for (cpu = next_cpu(now, online, PCPU_BM_ANDNOT, 0); cpu < nr;
	     cpu = next_cpu(now, online, PCPU_BM_ANDNOT, cpu + 1), changes++)
		came(cpu);
	/* an online CPU is present */
	_pcpu_bitmap_combine(present, now + words, now, PCPU_BM_OR, nr);
	free(now);
	leave();
	return changes;
fail:
	e = errno;
	free(now);
	leave();
	errno = e;
	return -1;
}

/* Calls @cb for each online CPU below @end.  With @stop, returns the first non-zero
 * result (and the CPU that gave it in *@failed); else calls it for every CPU. */
static int call_online(pcpu_cpuhp_cb cb, unsigned int end, bool stop, unsigned int *failed)
{
	for (unsigned int cpu = next_cpu(_pcpu_geo->topo.online, NULL, PCPU_BM_A, 0); cpu < end;
	     cpu = next_cpu(_pcpu_geo->topo.online, NULL, PCPU_BM_A, cpu + 1)) {
		int r = cb(cpu);

		if (r && stop) {
			*failed = cpu;
			return r;
		}
	}
	return 0;
}

static int setup(const char *name, pcpu_cpuhp_cb online, pcpu_cpuhp_cb offline, bool calls)
{
	unsigned int failed;
	char *copy;
	int r;

	if (!name) {
		errno = EINVAL;
		return -1;
	}
	if (enter())
		return -1;
	if (nr_regs == regs_cap) {
		int cap = regs_cap ? 2 * regs_cap : 8;
		struct registration *n = realloc(regs, (size_t)cap * sizeof(*n));

		if (!n)
			goto nomem;
		regs = n;
		regs_cap = cap;
	}
	copy = strdup(name);
	if (!copy)
		goto nomem;
	if (calls && online && (r = call_online(online, _pcpu_geo->topo.nr_cpu_ids, true, &failed))) {
		/* undo the CPUs done, as the kernel rolls back a failed setup */
		if (offline)
			(void)call_online(offline, failed, false, NULL);
		free(copy);
		leave();
		errno = r < 0 && r > -4096 ? -r : ECANCELED;
		return -1;
	}
	regs[nr_regs] = (struct registration){ ++last_id, copy, online, offline };
	r = regs[nr_regs++].id;
	leave();
	return r;
nomem:
	leave();
	errno = ENOMEM;
	return -1;
}

int pcpu_cpuhp_setup(const char *name, pcpu_cpuhp_cb online, pcpu_cpuhp_cb offline)
{
	return setup(name, online, offline, true);
}

int pcpu_cpuhp_setup_nocalls(const char *name, pcpu_cpuhp_cb online, pcpu_cpuhp_cb offline)
{
	return setup(name, online, offline, false);
}

static int remove_reg(int id, bool calls)
{
	int i;

	if (enter())
		return -1;
	for (i = 0; i < nr_regs && regs[i].id != id; i++)
		;
	if (i == nr_regs) {
		leave();
		errno = EINVAL;
		return -1;
	}
	/* every CPU, whatever the callback says: nothing can stop a removal */
	if (calls && regs[i].offline)
		(void)call_online(regs[i].offline, _pcpu_geo->topo.nr_cpu_ids, false, NULL);
	free(regs[i].name);
	memmove(&regs[i], &regs[i + 1], (size_t)(nr_regs - i - 1) * sizeof(*regs));
	nr_regs--;
	leave();
	return 0;
}

int pcpu_cpuhp_remove(int id)
{
	return remove_reg(id, true);
}

int pcpu_cpuhp_remove_nocalls(int id)
{
	return remove_reg(id, false);
}
