/* SPDX-License-Identifier: MIT */
/* bitmap.c - the bit operations of the cpumask API (cpumask.c), on bitmaps of nbits bits.
 * Pure: no system call, no global state.  Bits at or above nbits in the last word are
 * ignored on reads, so a mask whose tail holds garbage (a user's struct on the stack)
 * reads the same as a clean one; writes keep the tail clear. */
#include <stdio.h>

#include "bitmap.h"

static uint64_t load(const uint64_t *w)
{
	return __atomic_load_n(w, __ATOMIC_RELAXED);
}

static void store(uint64_t *w, uint64_t v)
{
	__atomic_store_n(w, v, __ATOMIC_RELAXED);
}

/* The bits of word @i that lie below @nbits. */
static uint64_t valid(size_t i, unsigned int nbits)
{
	size_t full = nbits / 64;

	if (i < full)
		return ~0ull;
	return nbits % 64 ? (1ull << (nbits % 64)) - 1 : 0;
}

static uint64_t join(uint64_t a, uint64_t b, enum pcpu_bitmap_op op)
{
	switch (op) {
	case PCPU_BM_A: return a;
	case PCPU_BM_NOT_A: return ~a;
	case PCPU_BM_AND: return a & b;
	case PCPU_BM_OR: return a | b;
	case PCPU_BM_ANDNOT: return a & ~b;
	case PCPU_BM_XOR: return a ^ b;
	}
	return 0;
}

/* Word @i of a OP b, restricted to the bits below @nbits. */
static uint64_t word(const uint64_t *a, const uint64_t *b, enum pcpu_bitmap_op op, size_t i,
		     unsigned int nbits)
{
	uint64_t wb = op == PCPU_BM_A || op == PCPU_BM_NOT_A ? 0 : load(&b[i]);

	return join(load(&a[i]), wb, op) & valid(i, nbits);
}

bool _pcpu_bitmap_test(const uint64_t *bits, unsigned int bit)
{
	return (load(&bits[bit / 64]) >> (bit % 64)) & 1;
}

bool _pcpu_bitmap_set(uint64_t *bits, unsigned int bit)
{
	uint64_t m = 1ull << (bit % 64);

	return __atomic_fetch_or(&bits[bit / 64], m, __ATOMIC_RELAXED) & m;
}

bool _pcpu_bitmap_clear(uint64_t *bits, unsigned int bit)
{
	uint64_t m = 1ull << (bit % 64);

	return __atomic_fetch_and(&bits[bit / 64], ~m, __ATOMIC_RELAXED) & m;
}

void _pcpu_bitmap_fill(uint64_t *bits, unsigned int nbits, bool fill)
{
	for (size_t i = 0; i < _pcpu_bitmap_words(nbits); i++)
		store(&bits[i], fill ? valid(i, nbits) : 0);
}

bool _pcpu_bitmap_combine(uint64_t *dst, const uint64_t *a, const uint64_t *b,
			 enum pcpu_bitmap_op op, unsigned int nbits)
{
	uint64_t any = 0;

	for (size_t i = 0; i < _pcpu_bitmap_words(nbits); i++) {
		uint64_t w = word(a, b, op, i, nbits);

		store(&dst[i], w);
		any |= w;
	}
	return any != 0;
}

unsigned int _pcpu_bitmap_find(const uint64_t *a, const uint64_t *b, enum pcpu_bitmap_op op,
			      unsigned int nbits, unsigned int start)
{
	size_t i = start / 64;
	uint64_t w;

	if (start >= nbits)
		return nbits;
	w = word(a, b, op, i, nbits) & (~0ull << (start % 64));
	while (!w) {
		if (++i >= _pcpu_bitmap_words(nbits))
			return nbits;
		w = word(a, b, op, i, nbits);
	}
	return (unsigned int)(i * 64 + (size_t)__builtin_ctzll(w));
}

unsigned int _pcpu_bitmap_weight(const uint64_t *bits, unsigned int nbits)
{
	unsigned int n = 0;

	for (size_t i = 0; i < _pcpu_bitmap_words(nbits); i++)
		n += (unsigned int)__builtin_popcountll(word(bits, NULL, PCPU_BM_A, i, nbits));
	return n;
}

bool _pcpu_bitmap_any(const uint64_t *a, const uint64_t *b, enum pcpu_bitmap_op op,
		     unsigned int nbits)
{
	return _pcpu_bitmap_find(a, b, op, nbits, 0) < nbits;
}

bool _pcpu_bitmap_equal(const uint64_t *a, const uint64_t *b, unsigned int nbits)
{
	return !_pcpu_bitmap_any(a, b, PCPU_BM_XOR, nbits);
}

/* Appends to @buf as snprintf does: *@len counts what would have been written. */
static void append(char *buf, size_t size, size_t *len, const char *fmt, unsigned int x,
		   unsigned int y)
{
	size_t room = *len < size ? size - *len : 0;
	int n = snprintf(room ? buf + *len : NULL, room, fmt, x, y);

	if (n > 0)
		*len += (size_t)n;
}

size_t _pcpu_bitmap_print(bool list, char *buf, size_t size, const uint64_t *bits,
			 unsigned int nbits)
{
	size_t len = 0;

	buf[0] = '\0';
	if (list) {
		unsigned int first = _pcpu_bitmap_find(bits, NULL, PCPU_BM_A, nbits, 0);

		while (first < nbits) {
			unsigned int end = _pcpu_bitmap_find(bits, NULL, PCPU_BM_NOT_A, nbits, first);

			append(buf, size, &len, len ? ",%u" : "%u", first, 0);
			if (end - 1 > first)
				append(buf, size, &len, "-%u", end - 1, 0);
			first = _pcpu_bitmap_find(bits, NULL, PCPU_BM_A, nbits, end);
		}
	} else {
		/* 32-bit chunks, highest first; the highest has as many hex digits as its
		 * bits need (the kernel's "%*pb") */
		unsigned int top = nbits ? (nbits - 1) / 32 * 32 : 0;

		for (unsigned int at = top; nbits; at -= 32) {
			unsigned int width = at == top ? nbits - top : 32;
			uint64_t w = word(bits, NULL, PCPU_BM_A, at / 64, nbits) >> (at % 64);
			unsigned int v = (unsigned int)(w & (width == 32 ? 0xffffffffu
								     : (1u << width) - 1));

			append(buf, size, &len, at == top ? "%0*x" : ",%0*x", (width + 3) / 4, v);
			if (at == 0)
				break;
		}
	}
	append(buf, size, &len, "\n", 0, 0);
	return len < size ? len : size - 1;
}
