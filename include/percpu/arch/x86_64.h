/* SPDX-License-Identifier: MIT */
/* percpu/arch/x86_64.h - restartable sequences (rseq) for the this_cpu operations on
 * x86-64.  Each primitive reads the thread's index (its CPU) from the rseq area, finds
 * that CPU's copy through the unit offset table, and runs one critical section that
 * checks the index is unchanged and ends in a single committing instruction (a store,
 * or a read-modify-write without lock prefix).
 * If the thread is preempted, migrated or signalled before the commit, the kernel moves
 * it to the abort handler, which the primitive reports so that the caller retries.
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
 * every section, to widen its window or to force its abort path. */
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
#define __PCPU_RSEQ_CS_FIELD __PCPU_STR(__PCPU_RSEQ_CS_OFFSET) "(%[rso])"

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
#define __PCPU_RSEQ_CLEAR "movq $0, %%fs:" __PCPU_RSEQ_CS_FIELD "\n\t"
#else
#define __PCPU_RSEQ_CLEAR ""
#endif

/* Test hook: PCPU_RSEQ_INJECT_ASM(n) is assembly text spliced into every section at two
 * points, librseq's RSEQ_INJECT_ASM idea.  Empty unless a test defines it before
 * including <percpu.h>.
 *   n == 1: the first instruction of the section, after the descriptor is stored in
 *           rseq_cs and before the thread's index is compared with the expected one;
 *   n == 2: immediately before the committing instruction.  It is part of the commit
 *           text (__PCPU_RSEQ_COMMIT), so it stays right before the commit wherever the
 *           commit sits: a commit placed outside [start, post_commit) takes its window
 *           with it, which is how tests catch one.
 * Contract for the injected text: it may change the flags and the registers named in
 * PCPU_RSEQ_INJECT_CLOBBER (a list that starts with a comma, e.g. , "r11"), and read the
 * operands of PCPU_RSEQ_INJECT_INPUT (same form, e.g. , [loops] "m"(n)); it must keep
 * every other register (the operands of the section live in registers the compiler
 * chose, %rcx holds the value read by a compare-and-store) and must not write memory
 * the primitive uses.  It may use the local labels 8 and 9 only.  It must not make
 * system calls (the kernel does not restart a section at one); it may trap (int3: the
 * kernel aborts the section when it delivers SIGTRAP) or "jmp 4f", which takes the
 * abort path without the kernel.  It runs only when the thread has a valid index. */
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
#define __PCPU_RSEQ_ABORT 1    /* preempted, migrated or signalled: retry */
#define __PCPU_RSEQ_NOCPU 2    /* no valid index in the rseq area: not registered */
#define __PCPU_RSEQ_CMPFAIL 3  /* compare-and-store found another value */

/* How a section names the memory it works on.  The thread's index (CPU) is read before
 * the section, the copy's address computed in C, and the section checks that the index
 * is still the same before it commits (as librseq does).  So each section is a plain
 * asm whose operands say exactly what it reads and writes ("+m" on the copy), and needs
 * no "memory" clobber: the compiler keeps __pcpu_fast's fields, the unit offsets and the
 * caller's values in registers across operations instead of reloading them after each
 * one.  The result comes back in a register (%[r]: 0 committed, 1 aborted, 3 compare
 * failed), set by the abort handler, which then jumps back to the end of the section:
 * an asm goto cannot have outputs before GCC 11, and GCC 12 loses the labels of some
 * asm goto with outputs at -O2 (undefined .L symbols at link time). */

/* The thread's index (its CPU) now: the u32 at thread pointer + rseq_index_offset.  A
 * volatile asm, so that it is read again for every operation (the kernel changes it). */
__PCPU_INLINE uint32_t __pcpu_rseq_index(void)
{
	uint32_t __pcpu_i;

	__asm__ __volatile__("movl %%fs:(%1), %0"
			     : "=r"(__pcpu_i)
			     : "r"(__pcpu_fast.rseq_index_offset));
	return __pcpu_i;
}

/* The copy of canonical @c for index @i (below rseq_index_bound). */
#define __PCPU_RSEQ_COPY(T, c, i) ((T *)((c) + __pcpu_fast.unit_offsets[(i)]))

/* Start of a critical section: result 0, descriptor 3, start 1, post-commit 2, abort
 * 4.  Stores the descriptor in rseq_cs, then aborts unless the thread's index is still
 * %[idx]. */
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
	"xorl %k[r], %k[r]\n\t"                                                         \
	"leaq 3b(%%rip), %%rax\n\t"                                                     \
	"movq %%rax, %%fs:" __PCPU_RSEQ_CS_FIELD "\n\t"                                 \
	"1:\n\t"                                                                        \
	PCPU_RSEQ_INJECT_ASM(1) "\n\t"                                                  \
	"cmpl %[idx], %%fs:(%[ioff])\n\t"                                               \
	"jne 4f\n\t"

/* The committing instruction @insn, with the injection point right before it. */
#define __PCPU_RSEQ_COMMIT(insn) PCPU_RSEQ_INJECT_ASM(2) "\n\t" insn "\n\t"

/* End of a critical section: the post-commit label, the abort handler out of line
 * (result 1, back to label 2), then, for unloadable code, clearing rseq_cs on every way
 * out (after a kernel abort it is already clear: once more does no harm). */
#define __PCPU_RSEQ_END                                                                 \
	"2:\n\t"                                                                        \
	".pushsection __rseq_failure, \"ax\"\n\t"                                       \
	".byte 0x0f, 0xb9, 0x3d\n\t"                                                    \
	".long " __PCPU_STR(__PCPU_RSEQ_SIG) "\n\t"                                     \
	"4:\n\t"                                                                        \
	"movl $" __PCPU_STR(__PCPU_RSEQ_ABORT) ", %k[r]\n\t"                            \
	"jmp 2b\n\t"                                                                    \
	".popsection\n\t"                                                               \
	__PCPU_RSEQ_CLEAR

/* The operands every section uses: the rseq area's offset (for rseq_cs), the index's
 * offset and the index expected. */
#define __PCPU_RSEQ_INPUTS(i)                                                           \
	[rso] "r"(__pcpu_fast.rseq_offset), [ioff] "r"(__pcpu_fast.rseq_index_offset),  \
	[idx] "r"(i) PCPU_RSEQ_INJECT_INPUT

/* The prologue of every primitive: the index, or NOCPU when there is none. */
#define __PCPU_RSEQ_GET_INDEX(i)                                                        \
	uint32_t i = __pcpu_rseq_index();                                               \
	if (__builtin_expect(i >= __pcpu_fast.rseq_index_bound, 0))                     \
		return __PCPU_RSEQ_NOCPU

/* A primitive that updates this CPU's copy with one instruction @INSN of %[v] and
 * %[mem], the commit: the store, and the add (without lock prefix). */
#define __PCPU_RSEQ_UPDATE(NAME, N, T, INSN, VC)                                        \
__PCPU_INLINE int __pcpu_rseq_##NAME##_##N(char *__pcpu_c, T __pcpu_v)                 \
{                                                                                       \
	__PCPU_RSEQ_GET_INDEX(__pcpu_i);                                                \
	T *__pcpu_m = __PCPU_RSEQ_COPY(T, __pcpu_c, __pcpu_i);                          \
	int __pcpu_r;                                                                   \
	__asm__ __volatile__(__PCPU_RSEQ_START                                          \
			     __PCPU_RSEQ_COMMIT(INSN)                                   \
			     __PCPU_RSEQ_END                                            \
			     : [r] "=&r"(__pcpu_r), [mem] "+m"(*__pcpu_m)               \
			     : [v] VC(__pcpu_v), __PCPU_RSEQ_INPUTS(__pcpu_i)           \
			     : "cc", "rax" PCPU_RSEQ_INJECT_CLOBBER);                   \
	return __pcpu_r;                                                                \
}

/* The primitives for one width: N bytes, type T, instruction suffix S, and the
 * constraint of an immediate-or-register value operand VC. */
#define __PCPU_RSEQ_WIDTH(N, T, S, VC)                                                  \
/* Reads this CPU's copy into *@__pcpu_out. */                                          \
__PCPU_INLINE int __pcpu_rseq_load_##N(char *__pcpu_c, T *__pcpu_out)                  \
{                                                                                       \
	__PCPU_RSEQ_GET_INDEX(__pcpu_i);                                                \
	T *__pcpu_m = __PCPU_RSEQ_COPY(T, __pcpu_c, __pcpu_i);                          \
	int __pcpu_r;                                                                   \
	T __pcpu_v;                                                                     \
	__asm__ __volatile__(__PCPU_RSEQ_START                                          \
			     __PCPU_RSEQ_COMMIT("mov" S " %[mem], %[v]")                \
			     __PCPU_RSEQ_END                                            \
			     : [r] "=&r"(__pcpu_r), [v] "=&r"(__pcpu_v)                 \
			     : [mem] "m"(*__pcpu_m), __PCPU_RSEQ_INPUTS(__pcpu_i)       \
			     : "cc", "rax" PCPU_RSEQ_INJECT_CLOBBER);                   \
	*__pcpu_out = __pcpu_v;                                                         \
	return __pcpu_r;                                                                \
}                                                                                       \
__PCPU_RSEQ_UPDATE(store, N, T, "mov" S " %[v], %[mem]", VC)                          \
__PCPU_RSEQ_UPDATE(add, N, T, "add" S " %[v], %[mem]", VC)                            \
/* If this CPU's copy equals *@__pcpu_old, store @__pcpu_new; else report the value   \
 * found in *@__pcpu_old (out of line, label 5, after the section). */                  \
__PCPU_INLINE int __pcpu_rseq_cmpstore_##N(char *__pcpu_c, T *__pcpu_old, T __pcpu_new) \
{                                                                                       \
	__PCPU_RSEQ_GET_INDEX(__pcpu_i);                                                \
	T *__pcpu_m = __PCPU_RSEQ_COPY(T, __pcpu_c, __pcpu_i);                          \
	int __pcpu_r;                                                                   \
	T __pcpu_t;                                                                     \
	__asm__ __volatile__(__PCPU_RSEQ_START                                          \
			     "mov" S " %[mem], %[t]\n\t"                                \
			     "cmp" S " %[old], %[t]\n\t"                                \
			     "jne 5f\n\t"                                               \
			     __PCPU_RSEQ_COMMIT("mov" S " %[v], %[mem]")                \
			     __PCPU_RSEQ_END                                            \
			     ".pushsection __rseq_failure, \"ax\"\n\t"                  \
			     "5:\n\t"                                                   \
			     "mov" S " %[t], %[old]\n\t"                                \
			     "movl $" __PCPU_STR(__PCPU_RSEQ_CMPFAIL) ", %k[r]\n\t"     \
			     "jmp 2b\n\t"                                               \
			     ".popsection\n\t"                                          \
			     : [r] "=&r"(__pcpu_r), [t] "=&r"(__pcpu_t),                \
			       [mem] "+m"(*__pcpu_m), [old] "+m"(*__pcpu_old)           \
			     : [v] "r"(__pcpu_new), __PCPU_RSEQ_INPUTS(__pcpu_i)        \
			     : "cc", "rax" PCPU_RSEQ_INJECT_CLOBBER);                   \
	return __pcpu_r;                                                                \
}

__PCPU_RSEQ_WIDTH(1, uint8_t, "b", "iq")
__PCPU_RSEQ_WIDTH(2, uint16_t, "w", "ir")
__PCPU_RSEQ_WIDTH(4, uint32_t, "l", "ir")
__PCPU_RSEQ_WIDTH(8, uint64_t, "q", "er")

/* Two adjacent words: compare both, then store both with one 16-byte store (the commit
 * must be a single instruction).  @__pcpu_o holds the expected pair and receives the
 * pair found when they differ.  The words are addressed through registers (%[p],
 * %[op]); the "m" operands tell the compiler what the section reads and writes. */
__PCPU_INLINE int __pcpu_rseq_cmpstore_double(char *__pcpu_c, uint64_t *__pcpu_o,
					      uint64_t __pcpu_n1, uint64_t __pcpu_n2)
{
	__PCPU_RSEQ_GET_INDEX(__pcpu_i);
	uint64_t(*__pcpu_m)[2] = (uint64_t(*)[2])__PCPU_RSEQ_COPY(char, __pcpu_c, __pcpu_i);
	uint64_t(*__pcpu_om)[2] = (uint64_t(*)[2])__pcpu_o;
	int __pcpu_r;

	__asm__ __volatile__("movq %[n1], %%xmm0\n\t"
			     "movq %[n2], %%xmm1\n\t"
			     "punpcklqdq %%xmm1, %%xmm0\n\t"
			     __PCPU_RSEQ_START
			     "movq (%[p]), %%rcx\n\t"
			     "cmpq (%[op]), %%rcx\n\t"
			     "jne 5f\n\t"
			     "movq 8(%[p]), %%rcx\n\t"
			     "cmpq 8(%[op]), %%rcx\n\t"
			     "jne 5f\n\t"
			     __PCPU_RSEQ_COMMIT("movups %%xmm0, (%[p])")
			     __PCPU_RSEQ_END
			     ".pushsection __rseq_failure, \"ax\"\n\t"
			     "5:\n\t"
			     "movq (%[p]), %%rcx\n\t"
			     "movq %%rcx, (%[op])\n\t"
			     "movq 8(%[p]), %%rcx\n\t"
			     "movq %%rcx, 8(%[op])\n\t"
			     "movl $" __PCPU_STR(__PCPU_RSEQ_CMPFAIL) ", %k[r]\n\t"
			     "jmp 2b\n\t"
			     ".popsection\n\t"
			     : [r] "=&r"(__pcpu_r), [mem] "+m"(*__pcpu_m), [old] "+m"(*__pcpu_om)
			     : [p] "r"(__pcpu_m), [op] "r"(__pcpu_om), [n1] "r"(__pcpu_n1),
			       [n2] "r"(__pcpu_n2), __PCPU_RSEQ_INPUTS(__pcpu_i)
			     : "cc", "rax", "rcx", "xmm0", "xmm1" PCPU_RSEQ_INJECT_CLOBBER);
	return __pcpu_r;
}

#endif /* PERCPU_ARCH_X86_64_H */
