/* SPDX-License-Identifier: MIT */
/* percpu/arch/x86_64.h - restartable sequences (rseq) for the this_cpu operations on
 * x86-64.  Each primitive is one critical section: it reads the CPU number from the
 * thread's rseq area, finds that CPU's copy through the unit offset table and ends in a
 * single committing instruction (a store, or a read-modify-write without lock prefix).
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
#define __PCPU_RSEQ_CS_FIELD __PCPU_STR(__PCPU_RSEQ_CS_OFFSET) "(%[rs])"
#define __PCPU_RSEQ_CPU_FIELD __PCPU_STR(__PCPU_RSEQ_CPU_ID_OFFSET) "(%[rs])"

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
/* no CPU: leave through label 7, which clears rseq_cs first (in END, out of line) */
#define __PCPU_RSEQ_NOCPU_JUMP "jae 7f\n\t"
#define __PCPU_RSEQ_NOCPU_EXIT "7:\n\t" __PCPU_RSEQ_CLEAR "jmp %l[nocpu]\n\t"
#else
#define __PCPU_RSEQ_CLEAR ""
#define __PCPU_RSEQ_NOCPU_JUMP "jae %l[nocpu]\n\t"
#define __PCPU_RSEQ_NOCPU_EXIT ""
#endif

/* Test hook: PCPU_RSEQ_INJECT_ASM(n) is assembly text spliced into every section at two
 * points, librseq's RSEQ_INJECT_ASM idea.  Empty unless a test defines it before
 * including <percpu.h>.
 *   n == 1: the first instruction of the section, after the descriptor is stored in
 *           rseq_cs and before cpu_id is read;
 *   n == 2: immediately before the committing instruction.  It is part of the commit
 *           text (__PCPU_RSEQ_COMMIT), so it stays right before the commit wherever the
 *           commit sits: a commit placed outside [start, post_commit) takes its window
 *           with it, which is how tests catch one.
 * Contract for the injected text: it may change the flags and the registers named in
 * PCPU_RSEQ_INJECT_CLOBBER (a list that starts with a comma, e.g. , "r11"), and read the
 * operands of PCPU_RSEQ_INJECT_INPUT (same form, e.g. , [loops] "m"(n)); it must keep
 * every other register (%rax holds the copy's address, %rcx the value read) and must not
 * write memory the primitive uses.  It may use the local labels 8 and 9 only.  It must
 * not make system calls (the kernel does not restart a section at one); it may trap
 * (int3: the kernel aborts the section when it delivers SIGTRAP) or "jmp 4f", which
 * takes the abort path without the kernel.  It runs in every mode, also when no CPU is
 * found afterwards (point 1 only). */
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
#define __PCPU_RSEQ_NOCPU 2    /* no valid CPU in the rseq area: not registered */
#define __PCPU_RSEQ_CMPFAIL 3  /* compare-and-store found another value */

/* Start of a critical section: descriptor 3, start 1, post-commit 2, abort 4.  Leaves
 * the address of this CPU's copy of @p in %rax. */
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
	"leaq 3b(%%rip), %%rax\n\t"                                                     \
	"movq %%rax, " __PCPU_RSEQ_CS_FIELD "\n\t"                                      \
	"1:\n\t"                                                                        \
	PCPU_RSEQ_INJECT_ASM(1) "\n\t"                                                  \
	"movl " __PCPU_RSEQ_CPU_FIELD ", %%eax\n\t"                                     \
	"cmpl %[nr], %%eax\n\t"                                                         \
	__PCPU_RSEQ_NOCPU_JUMP                                                          \
	"movq (%[offs], %%rax, 8), %%rax\n\t"                                           \
	"addq %[p], %%rax\n\t"

/* The committing instruction @insn, with the injection point right before it. */
#define __PCPU_RSEQ_COMMIT(insn) PCPU_RSEQ_INJECT_ASM(2) "\n\t" insn "\n\t"

/* End of a critical section: the post-commit label, the abort handler (and the way out
 * when no CPU is found, for unloadable code) out of line, then the committed path. */
#define __PCPU_RSEQ_END                                                                 \
	"2:\n\t"                                                                        \
	".pushsection __rseq_failure, \"ax\"\n\t"                                       \
	".byte 0x0f, 0xb9, 0x3d\n\t"                                                    \
	".long " __PCPU_STR(__PCPU_RSEQ_SIG) "\n\t"                                     \
	"4:\n\t"                                                                        \
	"jmp %l[abort]\n\t"                                                             \
	__PCPU_RSEQ_NOCPU_EXIT                                                          \
	".popsection\n\t"                                                               \
	__PCPU_RSEQ_CLEAR

#define __PCPU_RSEQ_INPUTS(canon)                                                       \
	[rs] "r"((char *)__pcpu_thread_pointer() + __pcpu_fast.rseq_offset),            \
	[nr] "r"(__pcpu_fast.rseq_nr_cpu_ids), [offs] "r"(__pcpu_fast.unit_offsets),   \
	[p] "r"(canon) PCPU_RSEQ_INJECT_INPUT

/* The tail of every primitive: what each way out of the section returns. */
#define __PCPU_RSEQ_RESULTS                                                             \
	return __PCPU_RSEQ_DONE;                                                        \
abort:                                                                                  \
	return __PCPU_RSEQ_ABORT;                                                       \
nocpu:                                                                                  \
	return __PCPU_RSEQ_NOCPU;

/* A primitive whose section is one instruction on the copy at (%rax): @NAME_N(copy,
 * @ARG) runs @INSN, then @AFTER outside the section; @IN names @ARG for the asm;
 * @CLOB is empty or __PCPU_CLOB_RCX (a fixed argument rather than `, ## __VA_ARGS__`,
 * which strict C99/C11 and clang -pedantic reject in a user's build). */
#define __PCPU_CLOB_RCX , "rcx"
#define __PCPU_RSEQ_ONE(NAME, N, ARGT, INSN, AFTER, IN, CLOB)                           \
static inline int __pcpu_rseq_##NAME##_##N(char *__pcpu_c, ARGT __pcpu_arg)            \
{                                                                                       \
	__asm__ __volatile__ goto(__PCPU_RSEQ_START __PCPU_RSEQ_COMMIT(INSN)             \
				  __PCPU_RSEQ_END AFTER                                 \
				  : : __PCPU_RSEQ_INPUTS(__pcpu_c), [IN] "r"(__pcpu_arg) \
				  : "memory", "cc", "rax" CLOB PCPU_RSEQ_INJECT_CLOBBER \
				  : abort, nocpu);                                      \
	__PCPU_RSEQ_RESULTS                                                             \
}

/* The primitives for one width: N bytes, type T, instruction suffix S, %rcx as R. */
#define __PCPU_RSEQ_WIDTH(N, T, S, R)                                                   \
__PCPU_RSEQ_ONE(load, N, T *, "mov" S " (%%rax), " R, "mov" S " " R ", (%[out])\n\t", out, \
		__PCPU_CLOB_RCX)                                                     \
__PCPU_RSEQ_ONE(store, N, T, "mov" S " %[v], (%%rax)", "", v, )                          \
__PCPU_RSEQ_ONE(add, N, T, "add" S " %[v], (%%rax)", "", v, )                            \
/* If this CPU's copy equals *@__pcpu_old, store @__pcpu_new; else report the value   \
 * found in *@__pcpu_old. */                                                            \
static inline int __pcpu_rseq_cmpstore_##N(char *__pcpu_c, T *__pcpu_old, T __pcpu_new) \
{                                                                                       \
	__asm__ __volatile__ goto(__PCPU_RSEQ_START                                     \
				  "mov" S " (%%rax), " R "\n\t"                         \
				  "cmp" S " (%[old]), " R "\n\t"                        \
				  "jne 5f\n\t"                                          \
				  __PCPU_RSEQ_COMMIT("mov" S " %[v], (%%rax)")          \
				  __PCPU_RSEQ_END                                       \
				  "jmp 6f\n\t"                                          \
				  "5:\n\t"                                              \
				  __PCPU_RSEQ_CLEAR                                     \
				  "mov" S " " R ", (%[old])\n\t"                        \
				  "jmp %l[cmpfail]\n\t"                                 \
				  "6:\n\t"                                              \
				  : : __PCPU_RSEQ_INPUTS(__pcpu_c), [v] "r"(__pcpu_new), \
				    [old] "r"(__pcpu_old)                               \
				  : "memory", "cc", "rax", "rcx" PCPU_RSEQ_INJECT_CLOBBER \
				  : abort, nocpu, cmpfail);                             \
	__PCPU_RSEQ_RESULTS                                                             \
cmpfail:                                                                                \
	return __PCPU_RSEQ_CMPFAIL;                                                     \
}

__PCPU_RSEQ_WIDTH(1, uint8_t, "b", "%%cl")
__PCPU_RSEQ_WIDTH(2, uint16_t, "w", "%%cx")
__PCPU_RSEQ_WIDTH(4, uint32_t, "l", "%%ecx")
__PCPU_RSEQ_WIDTH(8, uint64_t, "q", "%%rcx")

/* Two adjacent words: compare both, then store both with one 16-byte store (the commit
 * must be a single instruction).  @__pcpu_o holds the expected pair and receives the
 * pair found when they differ. */
static inline int __pcpu_rseq_cmpstore_double(char *__pcpu_c, uint64_t *__pcpu_o,
					      uint64_t __pcpu_n1, uint64_t __pcpu_n2)
{
	__asm__ __volatile__ goto("movq %[n1], %%xmm0\n\t"
				  "movq %[n2], %%xmm1\n\t"
				  "punpcklqdq %%xmm1, %%xmm0\n\t"
				  __PCPU_RSEQ_START
				  "movq (%%rax), %%rcx\n\t"
				  "cmpq (%[old]), %%rcx\n\t"
				  "jne 5f\n\t"
				  "movq 8(%%rax), %%rcx\n\t"
				  "cmpq 8(%[old]), %%rcx\n\t"
				  "jne 5f\n\t"
				  __PCPU_RSEQ_COMMIT("movups %%xmm0, (%%rax)")
				  __PCPU_RSEQ_END
				  "jmp 6f\n\t"
				  "5:\n\t"
				  __PCPU_RSEQ_CLEAR
				  "movq (%%rax), %%rcx\n\t"
				  "movq %%rcx, (%[old])\n\t"
				  "movq 8(%%rax), %%rcx\n\t"
				  "movq %%rcx, 8(%[old])\n\t"
				  "jmp %l[cmpfail]\n\t"
				  "6:\n\t"
				  : : __PCPU_RSEQ_INPUTS(__pcpu_c), [n1] "r"(__pcpu_n1), [n2] "r"(__pcpu_n2),
				    [old] "r"(__pcpu_o)
				  : "memory", "cc", "rax", "rcx", "xmm0", "xmm1" PCPU_RSEQ_INJECT_CLOBBER
				  : abort, nocpu, cmpfail);
	__PCPU_RSEQ_RESULTS
cmpfail:
	return __PCPU_RSEQ_CMPFAIL;
}

#endif /* PERCPU_ARCH_X86_64_H */
