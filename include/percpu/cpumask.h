/* SPDX-License-Identifier: MIT */
/* percpu/cpumask.h - CPU masks with the kernel's cpumask semantics (include/linux/cpumask.h)
 * on the library's nr_cpu_ids, and CPU hotplug: re-reading the online CPUs and calling
 * registered callbacks for the CPUs that come and go.  Included by <percpu.h>; the
 * kernel's names are in <percpu/kernel.h>.  See pcpu_cpumask(3) and pcpu_cpuhp(3).
 *
 * A mask has PCPU_NR_CPUS bits, of which only the first pcpu_nr_cpu_ids() mean anything:
 * every operation reads and writes those only, as the kernel's do with nr_cpumask_bits.
 * The masks this library hands out (possible, online, present, pcpu_cpumask_of(), of a
 * node, pcpu_alloc_cpumask_var()) are only pcpu_cpumask_size() bytes long, as the
 * kernel's off-stack masks are: copy them with pcpu_cpumask_copy(), never by assignment.
 *
 * Errors: a CPU number at or above nr_cpu_ids given to a call that sets, clears or tests
 * that CPU is reported by name ("libpercpu: pcpu_cpumask_set_cpu: CPU 4096 >= nr_cpu_ids
 * 4096") and the process aborts, where the kernel would warn and touch memory past the
 * mask.  Thread-safety: the operations load and store whole 64-bit words atomically
 * (relaxed), and the single-CPU writes (set, clear, test_and_set, test_and_clear) are
 * atomic read-modify-writes as the kernel's set_bit(); so a mask may be read while it
 * changes, as the online mask does under pcpu_cpus_refresh().  Operations on several
 * words at once are not atomic as a whole.  Async-signal-safe once the library is
 * initialized, except the calls that allocate (the alloc calls, and the first call of
 * pcpu_cpumask_of(), pcpu_cpumask_of_node() and pcpu_cpu_present_mask()).
 */
#ifndef PERCPU_CPUMASK_H
#define PERCPU_CPUMASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <percpu.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The most CPUs a mask can hold: the library's limit on nr_cpu_ids. */
#define PCPU_NR_CPUS 65536

struct pcpu_cpumask {
	uint64_t bits[PCPU_NR_CPUS / 64]; /* CPU c is bit c % 64 of bits[c / 64] */
};

/* A mask allocated with pcpu_alloc_cpumask_var() (the kernel's CONFIG_CPUMASK_OFFSTACK
 * form: a pointer). */
typedef struct pcpu_cpumask *pcpu_cpumask_var_t;

/* Bytes of a mask as allocated: nr_cpu_ids bits rounded up to 64-bit words. */
PCPU_API size_t pcpu_cpumask_size(void);
/* Allocates a mask of pcpu_cpumask_size() bytes (contents undefined / zeroed) into
 * *@mask.  @gfp: PCPU_GFP_KERNEL or PCPU_GFP_ATOMIC (both allocate with malloc).
 * Returns true, or false with errno (ENOMEM; EINVAL: @mask NULL or a bad @gfp) and
 * *@mask NULL when @mask is not NULL. */
PCPU_API bool pcpu_alloc_cpumask_var(pcpu_cpumask_var_t *mask, unsigned int gfp);
PCPU_API bool pcpu_zalloc_cpumask_var(pcpu_cpumask_var_t *mask, unsigned int gfp);
/* Frees a mask of pcpu_alloc_cpumask_var(); NULL is a no-op. */
PCPU_API void pcpu_free_cpumask_var(pcpu_cpumask_var_t mask);

/* The possible, online and present CPUs.  The possible CPUs never change; the online
 * and present ones change only in pcpu_cpus_refresh().  Never NULL: if the library
 * cannot initialize, an empty mask with nr_cpu_ids 0. */
PCPU_API const struct pcpu_cpumask *pcpu_cpu_possible_mask(void);
PCPU_API const struct pcpu_cpumask *pcpu_cpu_online_mask(void);
PCPU_API const struct pcpu_cpumask *pcpu_cpu_present_mask(void);
PCPU_API unsigned int pcpu_num_present_cpus(void);
/* Whether @cpu is present (false for cpu >= nr_cpu_ids). */
PCPU_API bool pcpu_cpu_present(unsigned int cpu);
/* A constant mask holding @cpu alone; @cpu >= nr_cpu_ids is reported and aborts. */
PCPU_API const struct pcpu_cpumask *pcpu_cpumask_of(unsigned int cpu);
/* The possible CPUs of NUMA node @node; -1 (no node) gives the possible mask; a node
 * outside 0 .. nodes - 1 is reported and aborts. */
PCPU_API const struct pcpu_cpumask *pcpu_cpumask_of_node(int node);

/* One CPU: set, clear, test, and test-then-set/clear (returning the old bit). */
PCPU_API void pcpu_cpumask_set_cpu(unsigned int cpu, struct pcpu_cpumask *dst);
PCPU_API void pcpu_cpumask_clear_cpu(unsigned int cpu, struct pcpu_cpumask *dst);
PCPU_API bool pcpu_cpumask_test_cpu(unsigned int cpu, const struct pcpu_cpumask *mask);
PCPU_API bool pcpu_cpumask_test_and_set_cpu(unsigned int cpu, struct pcpu_cpumask *mask);
PCPU_API bool pcpu_cpumask_test_and_clear_cpu(unsigned int cpu, struct pcpu_cpumask *mask);

/* Whole masks. */
PCPU_API void pcpu_cpumask_setall(struct pcpu_cpumask *dst);
PCPU_API void pcpu_cpumask_clear(struct pcpu_cpumask *dst);
PCPU_API void pcpu_cpumask_copy(struct pcpu_cpumask *dst, const struct pcpu_cpumask *src);
/* dst = a & b, a | b, a & ~b, a ^ b; and and andnot return whether dst is not empty.
 * dst may be a or b. */
PCPU_API bool pcpu_cpumask_and(struct pcpu_cpumask *dst, const struct pcpu_cpumask *a,
			       const struct pcpu_cpumask *b);
PCPU_API void pcpu_cpumask_or(struct pcpu_cpumask *dst, const struct pcpu_cpumask *a,
			      const struct pcpu_cpumask *b);
PCPU_API bool pcpu_cpumask_andnot(struct pcpu_cpumask *dst, const struct pcpu_cpumask *a,
				  const struct pcpu_cpumask *b);
PCPU_API void pcpu_cpumask_xor(struct pcpu_cpumask *dst, const struct pcpu_cpumask *a,
			       const struct pcpu_cpumask *b);

/* Predicates: a == b; no CPU; every CPU below nr_cpu_ids; a within b; a and b share one. */
PCPU_API bool pcpu_cpumask_equal(const struct pcpu_cpumask *a, const struct pcpu_cpumask *b);
PCPU_API bool pcpu_cpumask_empty(const struct pcpu_cpumask *mask);
PCPU_API bool pcpu_cpumask_full(const struct pcpu_cpumask *mask);
PCPU_API bool pcpu_cpumask_subset(const struct pcpu_cpumask *a, const struct pcpu_cpumask *b);
PCPU_API bool pcpu_cpumask_intersects(const struct pcpu_cpumask *a, const struct pcpu_cpumask *b);
/* Number of CPUs in the mask. */
PCPU_API unsigned int pcpu_cpumask_weight(const struct pcpu_cpumask *mask);

/* Searches.  Each returns the lowest CPU found, or nr_cpu_ids if there is none.  The
 * next calls search above @n (-1 starts; below -1 finds none, as the kernel's). */
PCPU_API unsigned int pcpu_cpumask_first(const struct pcpu_cpumask *mask);
PCPU_API unsigned int pcpu_cpumask_first_and(const struct pcpu_cpumask *a,
					     const struct pcpu_cpumask *b);
PCPU_API unsigned int pcpu_cpumask_next(int n, const struct pcpu_cpumask *mask);
PCPU_API unsigned int pcpu_cpumask_next_zero(int n, const struct pcpu_cpumask *mask);
PCPU_API unsigned int pcpu_cpumask_next_and(int n, const struct pcpu_cpumask *a,
					    const struct pcpu_cpumask *b);
PCPU_API unsigned int pcpu_cpumask_next_andnot(int n, const struct pcpu_cpumask *a,
					       const struct pcpu_cpumask *b);

/* Loops setting @cpu (an int or unsigned int lvalue) to each CPU of the mask(s), in
 * increasing order; the masks are evaluated on every step.  Inline: no call per step
 * once the library is initialized (the first step initializes it). */
#define pcpu_for_each_cpu(cpu, mask)                                                     \
	for ((cpu) = __pcpu_cpumask_next(0, (mask), (const struct pcpu_cpumask *)0, 0);   \
	     (unsigned int)(cpu) < __pcpu_nr_cpu_ids();                                  \
	     (cpu) = __pcpu_cpumask_next((unsigned int)(cpu) + 1, (mask),                \
					 (const struct pcpu_cpumask *)0, 0))
#define pcpu_for_each_cpu_and(cpu, a, b)                                                 \
	for ((cpu) = __pcpu_cpumask_next(0, (a), (b), 1);                                \
	     (unsigned int)(cpu) < __pcpu_nr_cpu_ids();                                  \
	     (cpu) = __pcpu_cpumask_next((unsigned int)(cpu) + 1, (a), (b), 1))
#define pcpu_for_each_cpu_andnot(cpu, a, b)                                              \
	for ((cpu) = __pcpu_cpumask_next(0, (a), (b), 2);                                \
	     (unsigned int)(cpu) < __pcpu_nr_cpu_ids();                                  \
	     (cpu) = __pcpu_cpumask_next((unsigned int)(cpu) + 1, (a), (b), 2))
#define pcpu_for_each_present_cpu(cpu) pcpu_for_each_cpu(cpu, pcpu_cpu_present_mask())

/* Parses a CPU list in the kernel's format ("0-3,8", "0-15:2/4" for 2 of every 4;
 * blanks and a final newline are ignored; "" is the empty mask) into @dst.  Returns 0,
 * or -1 with errno EINVAL (malformed; @dst NULL) or ERANGE (a CPU at or above
 * nr_cpu_ids), leaving @dst unchanged. */
PCPU_API int pcpu_cpumask_parselist(const char *buf, struct pcpu_cpumask *dst);
/* Prints @mask as sysfs does into @buf, which holds PCPU_CPUMAP_BUF_SIZE bytes: with
 * @list a CPU list ("0-3,8\n"), else comma-separated 32-bit hex words, highest first
 * ("00000000,0000010f\n" for 64 CPUs).  Truncated (without the newline) to fit the
 * buffer, as the kernel's.  Returns the length written (the terminating NUL not
 * counted). */
#define PCPU_CPUMAP_BUF_SIZE 4096
PCPU_API int pcpu_cpumap_print_to_pagebuf(bool list, char *buf, const struct pcpu_cpumask *mask);

/* ------------------------------------------------------------------------------------
 * CPU hotplug.  The kernel calls a subsystem's callbacks when a CPU comes online or goes
 * offline; userspace gets no such event, so the library looks when asked:
 * pcpu_cpus_refresh() (also run by pcpu_balance()) re-reads the online and present
 * CPUs and, from the calling thread, calls each registration's online callback for
 * every CPU that came online (in registration order, after the CPU is in the online
 * mask) and each offline callback for every CPU that went (in reverse order, before it
 * leaves the mask).  A CPU that went and came back between two refreshes is not seen.
 * Callbacks run one at a time, under the registry's lock: from a callback, calling
 * pcpu_cpus_refresh() or pcpu_cpuhp_* fails with EDEADLK.
 * ------------------------------------------------------------------------------------ */

/* A callback: @cpu came (went); its return value matters only during setup/remove. */
typedef int (*pcpu_cpuhp_cb)(unsigned int cpu);

/* Re-reads the online and present CPUs (a simulated topology, LIBPERCPU_TOPOLOGY, has
 * nothing to re-read: it never changes; nor has the ID space of PCPU_INDEX_CID).  Returns the number of CPUs that came or
 * went, or -1 with errno (EDEADLK from a callback; EINVAL: a malformed online or
 * present file, or an online list without a possible CPU; a read error: nothing
 * changed).
 * Thread-safe; not for signal handlers. */
PCPU_API int pcpu_cpus_refresh(void);

/* Registers @online and @offline (either may be NULL) under @name (copied; for
 * messages), then calls @online for every online CPU, as the kernel's
 * cpuhp_setup_state().  If a call returns non-zero, @offline is called for the CPUs
 * already done, nothing stays registered, and -1 is returned with errno -(the return
 * value) if it was a negative errno, else ECANCELED.  Returns an id > 0 for
 * pcpu_cpuhp_remove(), or -1 with errno (EINVAL: @name NULL; ENOMEM; EDEADLK).
 * Thread-safe; not for signal handlers. */
PCPU_API int pcpu_cpuhp_setup(const char *name, pcpu_cpuhp_cb online, pcpu_cpuhp_cb offline);
/* As pcpu_cpuhp_setup(), without calling @online now (cpuhp_setup_state_nocalls()). */
PCPU_API int pcpu_cpuhp_setup_nocalls(const char *name, pcpu_cpuhp_cb online,
				      pcpu_cpuhp_cb offline);
/* Calls the registration's offline callback for every online CPU (return values
 * ignored), then removes it.  Returns 0, or -1 with errno (EINVAL: no such id;
 * EDEADLK). */
PCPU_API int pcpu_cpuhp_remove(int id);
/* As pcpu_cpuhp_remove(), without calling the offline callback. */
PCPU_API int pcpu_cpuhp_remove_nocalls(int id);

/* The iterators' step: the first CPU at or above @__pcpu_n in @__pcpu_a (@__pcpu_op
 * 0; @__pcpu_b NULL), in both (1), in @__pcpu_a and not @__pcpu_b (2), else
 * nr_cpu_ids; before initialization through the library's searches, which
 * initialize it. */
__PCPU_INLINE unsigned int __pcpu_cpumask_next(unsigned int __pcpu_n,
					       const struct pcpu_cpumask *__pcpu_a,
					       const struct pcpu_cpumask *__pcpu_b, int __pcpu_op)
{
	unsigned int __pcpu_nr = __pcpu_nr_cpu_ids();
	int __pcpu_prev = (int)__pcpu_n - 1;

	if (__builtin_expect(__pcpu_nr != 0, 1))
		return __pcpu_bits_next(__pcpu_a->bits, __pcpu_op ? __pcpu_b->bits : __pcpu_a->bits,
					__pcpu_op, __pcpu_nr, __pcpu_n);
	if (__pcpu_op == 1)
		return pcpu_cpumask_next_and(__pcpu_prev, __pcpu_a, __pcpu_b);
	if (__pcpu_op == 2)
		return pcpu_cpumask_next_andnot(__pcpu_prev, __pcpu_a, __pcpu_b);
	return pcpu_cpumask_next(__pcpu_prev, __pcpu_a);
}

/* The possible / online mask without a call once the library is initialized (the
 * words struct __pcpu_fast publishes are the masks': a mask is its words), else the
 * library's call, which initializes it: what <percpu/kernel.h>'s cpu_possible_mask
 * and cpu_online_mask expand to, so that for_each_cpu(cpu, cpu_online_mask), which
 * evaluates the mask at every step as the kernel's does, makes no call per step. */
__PCPU_INLINE const struct pcpu_cpumask *__pcpu_possible_mask(void)
{
	const uint64_t *__pcpu_w = __pcpu_nr_cpu_ids() ? __pcpu_fast.possible_bits : (const uint64_t *)0;

	return __pcpu_w ? (const struct pcpu_cpumask *)(const void *)__pcpu_w
			: pcpu_cpu_possible_mask();
}

__PCPU_INLINE const struct pcpu_cpumask *__pcpu_online_mask(void)
{
	const uint64_t *__pcpu_w = __pcpu_nr_cpu_ids() ? __pcpu_fast.online_bits : (const uint64_t *)0;

	return __pcpu_w ? (const struct pcpu_cpumask *)(const void *)__pcpu_w
			: pcpu_cpu_online_mask();
}

#ifdef __cplusplus
}
#endif

#endif /* PERCPU_CPUMASK_H */
