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
 * decode as code by accident).  Internal: included by <percpu/this_cpu.h>. */
#ifndef PERCPU_ARCH_X86_64_H
#define PERCPU_ARCH_X86_64_H

#define __PCPU_HAVE_RSEQ_OPS 1

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
	"movq %%rax, 8(%[rs])\n\t"                                                      \
	"1:\n\t"                                                                        \
	"movl 4(%[rs]), %%eax\n\t"                                                      \
	"cmpl %[nr], %%eax\n\t"                                                         \
	"jae %l[nocpu]\n\t"                                                             \
	"movq (%[offs], %%rax, 8), %%rax\n\t"                                           \
	"addq %[p], %%rax\n\t"

/* End of a critical section: the post-commit label and the abort handler. */
#define __PCPU_RSEQ_END                                                                 \
	"2:\n\t"                                                                        \
	".pushsection __rseq_failure, \"ax\"\n\t"                                       \
	".byte 0x0f, 0xb9, 0x3d\n\t"                                                    \
	".long 0x53053053\n\t"                                                          \
	"4:\n\t"                                                                        \
	"jmp %l[abort]\n\t"                                                             \
	".popsection\n\t"

#define __PCPU_RSEQ_INPUTS(canon)                                                       \
	[rs] "r"((char *)__pcpu_thread_pointer() + __pcpu_fast.rseq_offset),            \
	[nr] "r"(__pcpu_fast.rseq_nr_cpu_ids), [offs] "r"(__pcpu_fast.unit_offsets),   \
	[p] "r"(canon)

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
#define __PCPU_RSEQ_ONE(NAME, N, ARGT, INSN, AFTER, IN, CLOB)                          \
static inline int __pcpu_rseq_##NAME##_##N(char *__pcpu_c, ARGT __pcpu_arg)            \
{                                                                                       \
	__asm__ __volatile__ goto(__PCPU_RSEQ_START INSN "\n\t" __PCPU_RSEQ_END AFTER    \
				  : : __PCPU_RSEQ_INPUTS(__pcpu_c), [IN] "r"(__pcpu_arg) \
				  : "memory", "cc", "rax" CLOB : abort, nocpu);          \
	__PCPU_RSEQ_RESULTS                                                             \
}

/* The primitives for one width: N bytes, type T, instruction suffix S, %rcx as R. */
#define __PCPU_RSEQ_WIDTH(N, T, S, R)                                                   \
__PCPU_RSEQ_ONE(load, N, T *, "mov" S " (%%rax), " R, "mov" S " " R ", (%[out])\n\t", out, \
		__PCPU_CLOB_RCX)                                                        \
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
				  "mov" S " %[v], (%%rax)\n\t"                          \
				  __PCPU_RSEQ_END                                       \
				  "jmp 6f\n\t"                                          \
				  "5:\n\t"                                              \
				  "mov" S " " R ", (%[old])\n\t"                        \
				  "jmp %l[cmpfail]\n\t"                                 \
				  "6:\n\t"                                              \
				  : : __PCPU_RSEQ_INPUTS(__pcpu_c), [v] "r"(__pcpu_new), \
				    [old] "r"(__pcpu_old)                               \
				  : "memory", "cc", "rax", "rcx" : abort, nocpu, cmpfail); \
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
				  "movups %%xmm0, (%%rax)\n\t"
				  __PCPU_RSEQ_END
				  "jmp 6f\n\t"
				  "5:\n\t"
				  "movq (%%rax), %%rcx\n\t"
				  "movq %%rcx, (%[old])\n\t"
				  "movq 8(%%rax), %%rcx\n\t"
				  "movq %%rcx, 8(%[old])\n\t"
				  "jmp %l[cmpfail]\n\t"
				  "6:\n\t"
				  : : __PCPU_RSEQ_INPUTS(__pcpu_c), [n1] "r"(__pcpu_n1), [n2] "r"(__pcpu_n2),
				    [old] "r"(__pcpu_o)
				  : "memory", "cc", "rax", "rcx", "xmm0", "xmm1" : abort, nocpu, cmpfail);
	__PCPU_RSEQ_RESULTS
cmpfail:
	return __PCPU_RSEQ_CMPFAIL;
}

#endif /* PERCPU_ARCH_X86_64_H */
