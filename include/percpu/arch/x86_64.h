/* SPDX-License-Identifier: MIT */
/* percpu/arch/x86_64.h - restartable sequences (rseq) for the this_cpu operations on
 * x86-64.  Each primitive runs one critical section that reads the thread's index (its
 * CPU) from the rseq area, finds that CPU's copy through the unit offset table, and
 * ends in a single committing instruction (a store, or a read-modify-write without
 * lock prefix).  If the thread is preempted, migrated or signalled before the commit,
 * the kernel moves it to the abort handler, which runs the section again.
 *
 * Each section registers its descriptor (struct rseq_cs: version, flags, start_ip,
 * post_commit_offset, abort_ip) in the __rseq_cs section and a pointer to it in
 * __rseq_cs_ptr_array, and its abort handler is preceded by the signature the thread
 * registered with (0x53053053, after the bytes of a ud1 instruction so that it does not
 * decode as code by accident).  Internal: included by <percpu/this_cpu.h>.
 *
 * Code that can be unloaded (PCPU_RSEQ_UNLOADABLE, below) clears the thread's rseq_cs
 * on every way out of a section, because the descriptor lives in that code's object.
 *
 * Test hook (PCPU_RSEQ_INJECT_ASM, below): tests splice their own instructions into
 * every section, to widen its window or to force its abort path.
 *
 * Speed (bench/, make bench and make bench-peer measure each choice): every function
 * here is always inline; the fields of __pcpu_fast are read once per function, not
 * once per operation (__pcpu_fld_*, below); no section clobbers "memory", so the
 * compiler keeps its own values in registers across operations; the check that the
 * object is per-CPU (arena or this object's static section) is branch-free, hoisted
 * out of loops, and folded into the index bound; the index is read inside the section
 * (no comparison with one read before it) and an abort restarts the section within
 * the asm.  So an operation has two conditional branches, the index bound and the
 * result test (tests/check-inline.sh counts them), against four before: this machine
 * (Sapphire Rapids) runs two not-taken branches per cycle, and that bounded the
 * eight-counter loops.  What remains per operation beyond a minimal section (store the
 * descriptor, load the index, commit) is one unit-offset load, the bound and the
 * result test.  The unit offsets stay a table (the allocator lays units out by NUMA
 * group, not at one stride).
 *
 * Ordering: as the kernel's this_cpu operations, these are not compiler barriers:
 * the compiler may move other memory accesses across them (never the accesses to the
 * object operated on). */
#ifndef PERCPU_ARCH_X86_64_H
#define PERCPU_ARCH_X86_64_H

#define __PCPU_HAVE_RSEQ_OPS 1

/* The rseq ABI (linux/rseq.h), defined once for these sections and for src/cpu_source.c, which
 * registers areas with the same signature.  Spliced into the assembly as text, so plain
 * numbers without suffixes. */
#define __PCPU_RSEQ_SIG 0x53053053       /* the abort signature on x86 */
#define __PCPU_RSEQ_CPU_ID_OFFSET 4      /* struct rseq: u32 cpu_id */
#define __PCPU_RSEQ_CS_OFFSET 8          /* struct rseq: u64 rseq_cs */
#define __PCPU_STR_(x) #x
#define __PCPU_STR(x) __PCPU_STR_(x)
#define __PCPU_RSEQ_CS_FIELD __PCPU_STR(__PCPU_RSEQ_CS_OFFSET) "(%[area])"

/* Code that may be unloaded (dlclose) must not leave the thread's rseq_cs pointing at a
 * descriptor of its own: the kernel reads rseq_cs at the thread's next preemption,
 * migration or signal, and kills the thread if the object is gone by then.  So such code
 * clears rseq_cs on every way out of a section: after the commit, when the comparison
 * fails and when no CPU is found (on an abort the kernel clears it itself).  That is one
 * store per operation.  Code that stays loaded (the executable, libpercpu itself) leaves
 * the pointer in place as librseq does, and pays nothing: the kernel clears it lazily.
 *
 * The default is decided at compile time: position-independent code that is not a
 * position-independent executable (-fPIC without -fPIE) is taken to be a shared object
 * that may be unloaded.  Define PCPU_RSEQ_UNLOADABLE to 1 or 0 before including
 * <percpu.h> to say otherwise: 1 for code linked into something that may be unloaded
 * however it is compiled, 0 for a shared object that is never unloaded (for example
 * loaded with RTLD_NODELETE, linked with -z nodelete, or a dependency of the program). */
#ifndef PCPU_RSEQ_UNLOADABLE
#if defined(__PIC__) && !defined(__PIE__)
#define PCPU_RSEQ_UNLOADABLE 1
#else
#define PCPU_RSEQ_UNLOADABLE 0
#endif
#endif

#if PCPU_RSEQ_UNLOADABLE
#define __PCPU_RSEQ_CLEAR "movq $0, " __PCPU_RSEQ_CS_FIELD "\n\t"
#else
#define __PCPU_RSEQ_CLEAR ""
#endif

/* Test hook: PCPU_RSEQ_INJECT_ASM(n) is assembly text spliced into every section at two
 * points, librseq's RSEQ_INJECT_ASM idea.  Empty unless a test defines it before
 * including <percpu.h>.
 *   n == 1: in the section, after the thread's index is read and found below the
 *           bound, before the copy's address is computed (in %rax);
 *   n == 2: immediately before the committing instruction.  It is part of the commit
 *           text (__PCPU_RSEQ_COMMIT), so it stays right before the commit wherever the
 *           commit sits: a commit placed outside [start, post_commit) takes its window
 *           with it, which is how tests catch one.
 * Contract for the injected text: it may change the flags and the registers named in
 * PCPU_RSEQ_INJECT_CLOBBER (a list that starts with a comma, e.g. , "r11"), and read the
 * operands of PCPU_RSEQ_INJECT_INPUT (same form, e.g. , [loops] "m"(n)); it must keep
 * every other register (the operands of the section live in registers the compiler
 * chose, %rax holds the copy's address at point 2, %rcx the value read by a
 * compare-and-store) and must not write memory the primitive uses.  It may use the
 * local labels 8 and 9 only.  It must not make system calls (the kernel does not
 * restart a section at one); it may trap (int3: the kernel aborts the section when it
 * delivers SIGTRAP) or "jmp 4f", which takes the abort path without the kernel; either
 * way the section starts again, so it must not abort every time.  It runs only when
 * the thread has a valid index. */
#ifndef PCPU_RSEQ_INJECT_ASM
#define PCPU_RSEQ_INJECT_ASM(n) ""
#endif
#ifndef PCPU_RSEQ_INJECT_INPUT
#define PCPU_RSEQ_INJECT_INPUT
#endif
#ifndef PCPU_RSEQ_INJECT_CLOBBER
#define PCPU_RSEQ_INJECT_CLOBBER
#endif

/* Results of a primitive. */
#define __PCPU_RSEQ_DONE 0
#define __PCPU_RSEQ_ABORT 1    /* not returned by these primitives: they retry themselves */
#define __PCPU_RSEQ_NOCPU 2    /* no valid index in the rseq area: not registered */
#define __PCPU_RSEQ_CMPFAIL 3  /* compare-and-store found another value */

/* How a section reports its result: in the register of the index, which holds the
 * index (below 2^32) after a commit, NOINDEX when the index was not below the bound
 * and CMPFAILED after a failed compare.  One register, no instruction on the committed
 * path to set it.  An abort does not come back here: the abort handler starts the
 * section again (label 0), index and copy included. */
#define __PCPU_RSEQ_NOINDEX -1
#define __PCPU_RSEQ_CMPFAILED -2
#define __PCPU_RSEQ_RESULT(i)                                                           \
	(__builtin_expect((i) < (uintptr_t)__PCPU_RSEQ_CMPFAILED, 1) ? __PCPU_RSEQ_DONE : \
	 (i) == (uintptr_t)__PCPU_RSEQ_NOINDEX ? __PCPU_RSEQ_NOCPU : __PCPU_RSEQ_CMPFAIL)

/* How a section works.  Unlike librseq's, it reads the thread's index inside the
 * section, after it stored the descriptor: from there on, a preemption, migration or
 * signal aborts it, so the index it read is the CPU it commits on, and it needs no
 * comparison of an index read before with the current one.  The index, its bound, the
 * unit-offset load and the copy's address are all in the one asm, whose abort handler
 * jumps back to its start: so the only branches on the way to a commit are the bound
 * test and the caller's result test (the machine runs two not-taken branches per
 * cycle, and with four per operation the loops of bench/ were bound by them).
 *
 * The bound (@__pcpu_eb, "effective bound") is the index bound of __pcpu_fast when
 * the caller found the object per-CPU and 0 when not (__pcpu_canon_at()): one test
 * for both.  Since the descriptor is stored before the index is tested, it is stored
 * where no test has vouched for the rseq area: through a pointer to the area when
 * __pcpu_fast's bound is set (the library then chose an area that every thread has,
 * registered or not: glibc's, or its own thread-local one), and to a sink when it is
 * 0 (fields not initialized, or no rseq): __pcpu_rseq_area().  A thread without an
 * index (not registered yet) gets the descriptor in its area: harmless, the kernel
 * clears a descriptor whose section the thread is not in.
 *
 * The copy's address is computed in the asm, from an index the compiler never sees:
 * the "m" operand that tells the compiler what the section reads and writes names the
 * canonical copy (*@__pcpu_c), with the same base object as every unit's copy, at an
 * offset (a unit offset) the compiler cannot know, as before when the operand named
 * @__pcpu_c + unit_offsets[index].  (A "memory" clobber instead cost pcpu_counter_add
 * 10%: its counter's fields were read again after each section.)  The copy is
 * addressed through one register, %rax: clang's base + index (addq $1,(%r11,%rsi,1))
 * measured 2x slower on the bench VM (Sapphire Rapids), where a load from an address
 * a store just wrote seems to be forwarded fast only in the simple form
 * (tests/check-inline.sh checks it).  The result comes back in a register
 * (__PCPU_RSEQ_RESULT): an asm goto cannot have outputs before GCC 11, and GCC 12
 * loses the labels of some asm goto with outputs at -O2 (undefined .L symbols at link
 * time). */

/* What the fast path needs of __pcpu_fast, each read by an asm that reads no memory
 * operand.  With @F 0 ("stable") the asm is not volatile either: the compiler treats
 * the value as one that never changes, reads it once per function and keeps it in
 * registers (the kernel's this_cpu_read_stable() idea; plain loads would be read again
 * after every operation, which may write memory of the same type).  That holds after
 * initialization, except the arena's size, which grows.  A stable value read before
 * initialization or before the growth that made an object's chunk fails the inline
 * checks (bound 0, a size too small, delta 0): the operation then makes a second,
 * out-of-line attempt with @F 1 ("fresh": volatile asm, read again each time), and
 * only if that fails too calls __pcpu_this_slow().  So stale values cost a detour,
 * never a wrong copy.  Every other stable field's asm takes the bound as an input, so
 * it runs after the bound's; with a bound read it finds what initialization published
 * before it (x86 does not reorder loads); with bound 0 no section commits (nor stores
 * its descriptor anywhere but the sink), whatever the other fields said.  (Fresh
 * reads are volatile asm, which stay in program order.) */
#define __PCPU_FIELD_ASM(F, ...)                                                        \
	do {                                                                            \
		if (F)                                                                  \
			__asm__ __volatile__(__VA_ARGS__);                              \
		else                                                                    \
			__asm__(__VA_ARGS__);                                           \
	} while (0)
__PCPU_INLINE uintptr_t __pcpu_fld_bound(int __pcpu_f)
{
	uintptr_t __pcpu_b; /* movl zero-extends: compared with 64-bit indices as it is */

	__PCPU_FIELD_ASM(__pcpu_f, "movl %c1(%2), %k0"
			 : "=r"(__pcpu_b)
			 : "i"(offsetof(struct __pcpu_fast, rseq_index_bound)), "r"(&__pcpu_fast));
	return __pcpu_b;
}
#define __PCPU_FIELD(T, FIELD)                                                          \
__PCPU_INLINE T __pcpu_fld_##FIELD(int __pcpu_f)                                        \
{                                                                                       \
	T __pcpu_x;                                                                     \
	if (__pcpu_f) /* volatile asm stay in order: no need of the bound */            \
		__asm__ __volatile__("mov %c1(%2), %0"                                  \
				     : "=r"(__pcpu_x)                                   \
				     : "i"(offsetof(struct __pcpu_fast, FIELD)), "r"(&__pcpu_fast)); \
	else                                                                            \
		__asm__("mov %c1(%2), %0"                                               \
			: "=r"(__pcpu_x)                                                \
			: "i"(offsetof(struct __pcpu_fast, FIELD)), "r"(&__pcpu_fast),  \
			  "r"(__pcpu_fld_bound(0)));                                    \
	return __pcpu_x;                                                                \
}
__PCPU_FIELD(const ptrdiff_t *, unit_offsets)
__PCPU_FIELD(uintptr_t, arena_base)
__PCPU_FIELD(uintptr_t, arena_size)
__PCPU_FIELD(ptrdiff_t, rseq_index_offset)
__PCPU_FIELD(ptrdiff_t, rseq_offset)
__PCPU_FIELD(uintptr_t, counter_batch)

/* This object's __pcpu_dso_delta, read the same way: 0 until its section is placed,
 * then fixed. */
__PCPU_INLINE intptr_t __pcpu_fld_delta(int __pcpu_f)
{
	intptr_t __pcpu_d;

	__PCPU_FIELD_ASM(__pcpu_f, "movq (%1), %0" : "=r"(__pcpu_d) : "r"(&__pcpu_dso_delta));
	return __pcpu_d;
}

/* The canonical address of per-CPU object @p, when the fields can say it: a static
 * variable of this object (its section's bounds are link-time constants) is at its
 * image address plus the object's delta, and the result, like any dynamic object's
 * address, must lie in the arena.  Returns whether it does, with the address in
 * *@__pcpu_c.  Without branches, so that the compiler hoists it whole out of a loop
 * that works on one object (measured: a branch on the kind of object costs one kind
 * or the other a jump out of line and back per operation). */
__PCPU_INLINE int __pcpu_canon_at(const void *__pcpu_p, char **__pcpu_c, int __pcpu_f)
{
	uintptr_t __pcpu_a = (uintptr_t)__pcpu_p, __pcpu_d, __pcpu_cc;

	/* fresh: the bound first, and set, or base and size may be from before
	 * initialization while the section's own fresh bound is from after */
	if (__pcpu_f && !__pcpu_fld_bound(1))
		return 0;
	/* the delta where @p is in this object's section, else 0 */
	__pcpu_d = (uintptr_t)__pcpu_fld_delta(__pcpu_f) &
		   -(uintptr_t)(__pcpu_a - (uintptr_t)__start_pcpu_data <
				(uintptr_t)__stop_pcpu_data - (uintptr_t)__start_pcpu_data);
	__pcpu_cc = __pcpu_a + __pcpu_d;

	*__pcpu_c = (char *)__pcpu_cc;
	/* stable: the fields the section reads, read here too, where they run whenever
	 * the operation does.  clang merges equal asm without side effects but hoists
	 * one out of a loop only from a block that runs every iteration (an asm is never
	 * speculated), and the section's own reads run after this check: without these,
	 * clang read the three fields again in every operation.  gcc drops these unused
	 * reads (its code is unchanged). */
	if (!__pcpu_f) {
		(void)__pcpu_fld_rseq_offset(0);
		(void)__pcpu_fld_rseq_index_offset(0);
		(void)__pcpu_fld_unit_offsets(0);
	}
	return __builtin_expect(__pcpu_cc - __pcpu_fld_arena_base(__pcpu_f) <
					__pcpu_fld_arena_size(__pcpu_f), 1);
}

/* The bound a first, stable attempt's section tests the index against: __pcpu_fast's
 * index bound when @p is per-CPU (__pcpu_canon_at(), the canonical address in
 * *@__pcpu_c), else 0.  Hoisted out of loops by both compilers, each its way. */
__PCPU_INLINE uintptr_t __pcpu_rseq_bound_at(const void *__pcpu_p, char **__pcpu_c)
{
	uintptr_t __pcpu_eb, __pcpu_off;

	(void)__pcpu_canon_at(__pcpu_p, __pcpu_c, 0);
	__pcpu_off = (uintptr_t)*__pcpu_c - __pcpu_fld_arena_base(0);
#ifdef __clang__
	/* clang hoists arithmetic out of a loop from any block, an asm only from one that
	 * runs in every iteration (an asm is never speculated) */
	__pcpu_eb = __pcpu_fld_bound(0) & -(uintptr_t)(__pcpu_off < __pcpu_fld_arena_size(0));
#else
	/* one asm with one output: gcc hoists it whole (written in C, gcc computed the
	 * comparison again in every iteration) */
	__asm__("cmpq %[size], %[off]\n\t"
		"sbbq %0, %0\n\t"
		"andq %[b], %0"
		: "=&r"(__pcpu_eb)
		: [off] "r"(__pcpu_off), [size] "r"(__pcpu_fld_arena_size(0)),
		  [b] "r"(__pcpu_fld_bound(0))
		: "cc");
#endif
	return __pcpu_eb;
}

/* Where a section stores its descriptor when __pcpu_fast's bound is 0: somewhere
 * harmless, as the thread's rseq area may not exist then (see above).  Written by
 * every thread, never read. */
static uint64_t __pcpu_rseq_sink[2] __attribute__((unused));

/* The thread's rseq area when @__pcpu_b, __pcpu_fast's index bound, says the library
 * chose one, else the sink.  One asm with one output and no branch, whose value is
 * the same for every operation of a function: gcc computes it once, before a loop.
 * It also takes the unit offsets and the index's offset, unused: without them gcc read
 * those two fields again in every iteration of a one-counter loop (its loop invariant
 * pass left them in the loop), and that loop measured 1.3x slower. */
__PCPU_INLINE char *__pcpu_rseq_area(uintptr_t __pcpu_b, int __pcpu_f)
{
	char *__pcpu_a;

	__asm__("movq %%fs:0, %0\n\t"
		"addq %[rso], %0\n\t"
		"testq %[b], %[b]\n\t"
		"cmovzq %[sink], %0"
		: "=&r"(__pcpu_a)
		: [rso] "r"(__pcpu_fld_rseq_offset(__pcpu_f)), [b] "r"(__pcpu_b),
		  [sink] "r"(__pcpu_rseq_sink), "r"(__pcpu_fld_unit_offsets(__pcpu_f)),
		  "r"(__pcpu_fld_rseq_index_offset(__pcpu_f))
		: "cc");
	return __pcpu_a;
}

/* Start of a critical section: restart 0, descriptor 3, start 1, post-commit 2, abort
 * 4, no index 6.  Stores the descriptor, then, in the section, reads the index, tests
 * it against the bound, and leaves the copy's address, %[c] + unit_offsets[index], in
 * %rax. */
#define __PCPU_RSEQ_START                                                               \
	".pushsection __rseq_cs, \"aw\"\n\t"                                            \
	".balign 32\n\t"                                                                \
	"3:\n\t"                                                                        \
	".long 0x0, 0x0\n\t"                                                            \
	".quad 1f, (2f - 1f), 4f\n\t"                                                   \
	".popsection\n\t"                                                               \
	".pushsection __rseq_cs_ptr_array, \"aw\"\n\t"                                  \
	".quad 3b\n\t"                                                                  \
	".popsection\n\t"                                                               \
	"0:\n\t"                                                                        \
	"leaq 3b(%%rip), %%rax\n\t"                                                     \
	"movq %%rax, " __PCPU_RSEQ_CS_FIELD "\n\t"                                      \
	"1:\n\t"                                                                        \
	"movl %%fs:(%[ioff]), %k[idx]\n\t"                                              \
	"cmpq %[eb], %[idx]\n\t"                                                        \
	"jae 6f\n\t"                                                                    \
	PCPU_RSEQ_INJECT_ASM(1) "\n\t"                                                  \
	"movq (%[uo],%[idx],8), %%rax\n\t"                                              \
	"addq %[c], %%rax\n\t"

/* The committing instruction @insn, with the injection point right before it. */
#define __PCPU_RSEQ_COMMIT(insn) PCPU_RSEQ_INJECT_ASM(2) "\n\t" insn "\n\t"

/* End of a critical section: the post-commit label, then, out of line, the abort
 * handler, which starts the section again, and the way out without an index (result
 * NOINDEX); for unloadable code, clearing rseq_cs on every way out (after a kernel
 * abort the section runs again and comes out the same ways). */
#define __PCPU_RSEQ_END                                                                 \
	"2:\n\t"                                                                        \
	".pushsection __rseq_failure, \"ax\"\n\t"                                       \
	".byte 0x0f, 0xb9, 0x3d\n\t"                                                    \
	".long " __PCPU_STR(__PCPU_RSEQ_SIG) "\n\t"                                     \
	"4:\n\t"                                                                        \
	"jmp 0b\n\t"                                                                    \
	"6:\n\t"                                                                        \
	"movq $" __PCPU_STR(__PCPU_RSEQ_NOINDEX) ", %[idx]\n\t"                          \
	"jmp 2b\n\t"                                                                    \
	".popsection\n\t"                                                               \
	__PCPU_RSEQ_CLEAR

/* The operands every section uses: the index, an output that carries the result
 * (early clobber: it is written before the inputs are all read), and as inputs the
 * canonical address, the bound, the unit offsets, the rseq area and the index's
 * offset from the thread pointer. */
#define __PCPU_RSEQ_OUT [idx] "=&r"(__pcpu_i)
#define __PCPU_RSEQ_INPUTS                                                              \
	[c] "r"(__pcpu_c), [eb] "r"(__pcpu_eb),                                         \
	[uo] "r"(__pcpu_fld_unit_offsets(__pcpu_f)),                                    \
	[area] "r"(__pcpu_rseq_area(__pcpu_fld_bound(__pcpu_f), __pcpu_f)),             \
	[ioff] "r"(__pcpu_fld_rseq_index_offset(__pcpu_f))                              \
	PCPU_RSEQ_INJECT_INPUT

/* A primitive that updates this CPU's copy with one instruction @INSN of %[v] and
 * (%%rax), the commit: the store, and the add (without lock prefix). */
#define __PCPU_RSEQ_UPDATE(NAME, N, T, INSN, VC)                                        \
__PCPU_INLINE int __pcpu_rseq_##NAME##_##N(char *__pcpu_c, T __pcpu_v, uintptr_t __pcpu_eb, \
					    int __pcpu_f)                                  \
{                                                                                       \
	uintptr_t __pcpu_i;                                                             \
	__asm__ __volatile__(__PCPU_RSEQ_START                                          \
			     __PCPU_RSEQ_COMMIT(INSN)                                   \
			     __PCPU_RSEQ_END                                            \
			     : __PCPU_RSEQ_OUT, [mem] "+m"(*(T *)__pcpu_c)              \
			     : [v] VC(__pcpu_v), __PCPU_RSEQ_INPUTS                     \
			     : "cc", "rax" PCPU_RSEQ_INJECT_CLOBBER);                   \
	return __PCPU_RSEQ_RESULT(__pcpu_i);                                            \
}

/* The primitives for one width: N bytes, type T, instruction suffix S, and the
 * constraint of an immediate-or-register value operand VC. */
#define __PCPU_RSEQ_WIDTH(N, T, S, VC)                                                  \
/* Reads this CPU's copy into *@__pcpu_out. */                                          \
__PCPU_INLINE int __pcpu_rseq_load_##N(char *__pcpu_c, T *__pcpu_out, uintptr_t __pcpu_eb, \
					 int __pcpu_f)                                     \
{                                                                                       \
	uintptr_t __pcpu_i;                                                             \
	T __pcpu_v;                                                                     \
	__asm__ __volatile__(__PCPU_RSEQ_START                                          \
			     __PCPU_RSEQ_COMMIT("mov" S " (%%rax), %[v]")               \
			     __PCPU_RSEQ_END                                            \
			     : __PCPU_RSEQ_OUT, [v] "=&r"(__pcpu_v)                     \
			     : [mem] "m"(*(const T *)__pcpu_c), __PCPU_RSEQ_INPUTS      \
			     : "cc", "rax" PCPU_RSEQ_INJECT_CLOBBER);                   \
	*__pcpu_out = __pcpu_v;                                                         \
	return __PCPU_RSEQ_RESULT(__pcpu_i);                                            \
}                                                                                       \
__PCPU_RSEQ_UPDATE(store, N, T, "mov" S " %[v], (%%rax)", VC)                         \
__PCPU_RSEQ_UPDATE(add, N, T, "add" S " %[v], (%%rax)", VC)                           \
/* If this CPU's copy equals *@__pcpu_old, store @__pcpu_new; else report the value   \
 * found in *@__pcpu_old (out of line, label 5, after the section). */                  \
__PCPU_INLINE int __pcpu_rseq_cmpstore_##N(char *__pcpu_c, T *__pcpu_old, T __pcpu_new, \
					    uintptr_t __pcpu_eb, int __pcpu_f)             \
{                                                                                       \
	uintptr_t __pcpu_i;                                                             \
	T __pcpu_t;                                                                     \
	__asm__ __volatile__(__PCPU_RSEQ_START                                          \
			     "mov" S " (%%rax), %[t]\n\t"                               \
			     "cmp" S " %[old], %[t]\n\t"                                \
			     "jne 5f\n\t"                                               \
			     __PCPU_RSEQ_COMMIT("mov" S " %[v], (%%rax)")               \
			     __PCPU_RSEQ_END                                            \
			     ".pushsection __rseq_failure, \"ax\"\n\t"                  \
			     "5:\n\t"                                                   \
			     "mov" S " %[t], %[old]\n\t"                                \
			     "movq $" __PCPU_STR(__PCPU_RSEQ_CMPFAILED) ", %[idx]\n\t"  \
			     "jmp 2b\n\t"                                               \
			     ".popsection\n\t"                                          \
			     : __PCPU_RSEQ_OUT, [t] "=&r"(__pcpu_t), [old] "+m"(*__pcpu_old), \
			       [mem] "+m"(*(T *)__pcpu_c)                               \
			     : [v] "r"(__pcpu_new), __PCPU_RSEQ_INPUTS                  \
			     : "cc", "rax" PCPU_RSEQ_INJECT_CLOBBER);                   \
	return __PCPU_RSEQ_RESULT(__pcpu_i);                                            \
}

__PCPU_RSEQ_WIDTH(1, uint8_t, "b", "iq")
__PCPU_RSEQ_WIDTH(2, uint16_t, "w", "ir")
__PCPU_RSEQ_WIDTH(4, uint32_t, "l", "ir")
__PCPU_RSEQ_WIDTH(8, uint64_t, "q", "er")

/* Adds @__pcpu_v to this CPU's 32-bit copy if the sum stays within (-@__pcpu_lim,
 * @__pcpu_lim) (the pcpu_counter batch rule); else CMPFAIL and nothing changes.  The
 * caller has checked |@__pcpu_v| < @__pcpu_lim.  One unsigned comparison, in 64 bits
 * (no overflow: the copy is any int32_t, |v| < lim <= INT32_MAX): with u = copy + v +
 * (lim - 1), |copy + v| < lim exactly when u < 2 lim - 1.  The three constants are
 * immediates for a constant batch and amount, else registers the compiler hoists.
 * A counter's deltas are always per-CPU (counter.h): the bound is __pcpu_fast's. */
__PCPU_INLINE int __pcpu_rseq_add_within_4(char *__pcpu_c, int32_t __pcpu_v, int32_t __pcpu_lim,
					   int __pcpu_f)
{
	uintptr_t __pcpu_i, __pcpu_eb = __pcpu_fld_bound(__pcpu_f);
	int64_t __pcpu_lm1 = (int64_t)__pcpu_lim - 1, __pcpu_u;

	__asm__ __volatile__(__PCPU_RSEQ_START
			     "movl (%%rax), %k[u]\n\t"
			     "movslq %k[u], %[u]\n\t"
			     "addq %[vb], %[u]\n\t"
			     "cmpq %[rng], %[u]\n\t"
			     "jae 5f\n\t"
			     "subq %[lm1], %[u]\n\t"
			     __PCPU_RSEQ_COMMIT("movl %k[u], (%%rax)")
			     __PCPU_RSEQ_END
			     ".pushsection __rseq_failure, \"ax\"\n\t"
			     "5:\n\t"
			     "movq $" __PCPU_STR(__PCPU_RSEQ_CMPFAILED) ", %[idx]\n\t"
			     "jmp 2b\n\t"
			     ".popsection\n\t"
			     : __PCPU_RSEQ_OUT, [u] "=&r"(__pcpu_u), [mem] "+m"(*(int32_t *)__pcpu_c)
			     : [vb] "er"(__pcpu_v + __pcpu_lm1), [rng] "er"(2 * __pcpu_lm1 + 1),
			       [lm1] "er"(__pcpu_lm1), __PCPU_RSEQ_INPUTS
			     : "cc", "rax" PCPU_RSEQ_INJECT_CLOBBER);
	return __PCPU_RSEQ_RESULT(__pcpu_i);
}

/* Stores @__pcpu_v in this CPU's 32-bit copy and reports the value it replaced in
 * *@__pcpu_old (valid when DONE): an exchange in one section (pcpu_counter's fold). */
__PCPU_INLINE int __pcpu_rseq_swap_4(char *__pcpu_c, int32_t *__pcpu_old, int32_t __pcpu_v,
				     int __pcpu_f)
{
	uintptr_t __pcpu_i, __pcpu_eb = __pcpu_fld_bound(__pcpu_f);
	int32_t __pcpu_t;

	__asm__ __volatile__(__PCPU_RSEQ_START
			     "movl (%%rax), %[t]\n\t"
			     __PCPU_RSEQ_COMMIT("movl %[v], (%%rax)")
			     __PCPU_RSEQ_END
			     : __PCPU_RSEQ_OUT, [t] "=&r"(__pcpu_t), [mem] "+m"(*(int32_t *)__pcpu_c)
			     : [v] "ir"(__pcpu_v), __PCPU_RSEQ_INPUTS
			     : "cc", "rax" PCPU_RSEQ_INJECT_CLOBBER);
	*__pcpu_old = __pcpu_t;
	return __PCPU_RSEQ_RESULT(__pcpu_i);
}

/* Two adjacent words: compare both, then store both with one 16-byte store (the commit
 * must be a single instruction).  @__pcpu_o holds the expected pair and receives the
 * pair found when they differ (through %[op]).  The new pair comes in one SSE register
 * (%[nv]): with the two words in general registers, gcc -O0 (which gives each memory
 * operand an address register of its own) ran out of them ("impossible constraints"). */
typedef uint64_t __pcpu_u64x2 __attribute__((vector_size(16)));
__PCPU_INLINE int __pcpu_rseq_cmpstore_double(char *__pcpu_c, uint64_t *__pcpu_o,
					      uint64_t __pcpu_n1, uint64_t __pcpu_n2,
					      uintptr_t __pcpu_eb, int __pcpu_f)
{
	uintptr_t __pcpu_i;
	__pcpu_u64x2 __pcpu_nv;

	__pcpu_nv[0] = __pcpu_n1;
	__pcpu_nv[1] = __pcpu_n2;
	__asm__ __volatile__(__PCPU_RSEQ_START
			     "movq (%%rax), %%rcx\n\t"
			     "cmpq (%[op]), %%rcx\n\t"
			     "jne 5f\n\t"
			     "movq 8(%%rax), %%rcx\n\t"
			     "cmpq 8(%[op]), %%rcx\n\t"
			     "jne 5f\n\t"
			     __PCPU_RSEQ_COMMIT("movups %[nv], (%%rax)")
			     __PCPU_RSEQ_END
			     ".pushsection __rseq_failure, \"ax\"\n\t"
			     "5:\n\t"
			     "movq (%%rax), %%rcx\n\t"
			     "movq %%rcx, (%[op])\n\t"
			     "movq 8(%%rax), %%rcx\n\t"
			     "movq %%rcx, 8(%[op])\n\t"
			     "movq $" __PCPU_STR(__PCPU_RSEQ_CMPFAILED) ", %[idx]\n\t"
			     "jmp 2b\n\t"
			     ".popsection\n\t"
			     : __PCPU_RSEQ_OUT, [mem] "+m"(*(uint64_t(*)[2])__pcpu_c),
			       [old] "+m"(*(uint64_t(*)[2])__pcpu_o)
			     : [op] "r"(__pcpu_o), [nv] "x"(__pcpu_nv), __PCPU_RSEQ_INPUTS
			     : "cc", "rax", "rcx" PCPU_RSEQ_INJECT_CLOBBER);
	return __PCPU_RSEQ_RESULT(__pcpu_i);
}

#endif /* PERCPU_ARCH_X86_64_H */
