/* SPDX-License-Identifier: MIT */
/* bitmap.h - the bit operations under the cpumask API, on bitmaps of @nbits bits in 64-bit
 * words; pure (no system call, no global state), so tests run them at any width. */
#ifndef PCPU_SRC_BITMAP_H
#define PCPU_SRC_BITMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How the two operands of a search or a combination are joined word by word. */
enum pcpu_bitmap_op {
	PCPU_BM_A,      /* a (b unused) */
	PCPU_BM_NOT_A,  /* ~a (b unused) */
	PCPU_BM_AND,    /* a & b */
	PCPU_BM_OR,     /* a | b */
	PCPU_BM_ANDNOT, /* a & ~b */
	PCPU_BM_XOR,    /* a ^ b */
};

static inline size_t _pcpu_bitmap_words(unsigned int nbits)
{
	return ((size_t)nbits + 63) / 64;
}

/* Every word is loaded and stored with relaxed atomics: a mask may be read while
 * another thread changes it (the online mask under pcpu_cpus_refresh()). */
bool _pcpu_bitmap_test(const uint64_t *bits, unsigned int bit);
/* Atomic: return the old value of the bit. */
bool _pcpu_bitmap_set(uint64_t *bits, unsigned int bit);
bool _pcpu_bitmap_clear(uint64_t *bits, unsigned int bit);
/* Sets every bit below @nbits (@fill) or clears them; the rest of the last word is
 * cleared either way. */
void _pcpu_bitmap_fill(uint64_t *bits, unsigned int nbits, bool fill);
/* dst = a OP b over @nbits; returns whether dst is not empty. */
bool _pcpu_bitmap_combine(uint64_t *dst, const uint64_t *a, const uint64_t *b,
			 enum pcpu_bitmap_op op, unsigned int nbits);
/* The lowest bit >= @start of a OP b below @nbits, or @nbits. */
unsigned int _pcpu_bitmap_find(const uint64_t *a, const uint64_t *b, enum pcpu_bitmap_op op,
			      unsigned int nbits, unsigned int start);
unsigned int _pcpu_bitmap_weight(const uint64_t *bits, unsigned int nbits);
bool _pcpu_bitmap_equal(const uint64_t *a, const uint64_t *b, unsigned int nbits);
/* Whether a & ~b (subset: empty), a & b (intersects) has a bit below @nbits. */
bool _pcpu_bitmap_any(const uint64_t *a, const uint64_t *b, enum pcpu_bitmap_op op,
		     unsigned int nbits);
/* The kernel's "%*pbl" (@list) or "%*pb" of @nbits bits, then a newline, into @buf of
 * @size bytes (> 0), truncated as snprintf does; returns the length written. */
size_t _pcpu_bitmap_print(bool list, char *buf, size_t size, const uint64_t *bits,
			 unsigned int nbits);

#endif
