/* SPDX-License-Identifier: MIT */
/* fuzz_size.c - libFuzzer target for the one size grammar (src/size.c, _pcpu_parse_size:
 * C syntax, a K, M or G suffix naming a unit no larger than the limit, at most the limit)
 * that the LIBPERCPU_*_SIZE variables and percpu-info's options share.  The first input
 * byte picks the limit, the rest is the text.  A reference written from the documented
 * grammars, with 128-bit arithmetic so that nothing it computes can wrap, decides
 * acceptance and the value. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "size.h"
#include "../tests/testutil.h"

typedef unsigned __int128 u128;

/* Saturates at 2^80: far above any size_t, and digit strings of any length fit. */
static u128 add_digit(u128 v, unsigned int base, unsigned int d)
{
	const u128 cap = (u128)1 << 80;

	return v >= cap ? cap : v * base + d;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/* K, M and G, each only where its unit is no larger than @max */
static int ref_suffix(char c, size_t max)
{
	int shift = c == 'k' || c == 'K' ? 10 : c == 'm' || c == 'M' ? 20 :
		    c == 'g' || c == 'G' ? 30 : -1;

	return shift >= 0 && ((u128)1 << shift) <= max ? shift : -1;
}

/* Digits of base @base over [s, e): at least one, all valid.  -1 if not. */
static int ref_digits(const char *s, const char *e, unsigned int base, u128 *v)
{
	*v = 0;
	if (s == e)
		return -1;
	for (; s < e; s++) {
		int d = digit_value(*s);

		if (d >= (int)base)
			return -1;
		*v = add_digit(*v, base, (unsigned int)d);
	}
	return 0;
}

/* 0x hexadecimal, 0 octal, else decimal; an optional suffix; at most @max.
 * 0, -1 not a size, -2 above the limit. */
static int ref_size(const char *text, size_t max, size_t *out)
{
	size_t len = strlen(text);
	const char *e = text + len;
	int shift = 0;
	u128 v;
	int bad;

	if (len && ref_suffix(e[-1], max) >= 0)
		shift = ref_suffix(*--e, max);
	if (e - text >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
		bad = ref_digits(text + 2, e, 16, &v);
	else if (e - text >= 1 && text[0] == '0')
		bad = ref_digits(text, e, 8, &v);
	else
		bad = ref_digits(text, e, 10, &v);
	if (bad)
		return -1;
	if ((v << shift) > max)
		return -2;
	*out = (size_t)(v << shift);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, data + size };
	unsigned int kind = take8(&in);
	size_t max = kind % 4 == 0 ? SIZE_MAX : kind % 4 == 1 ? (size_t)1 << 30 :
		     kind % 4 == 2 ? (size_t)take_bytes(&in, 4) : (size_t)take_bytes(&in, 8);
	size_t len = (size_t)(in.end - in.p), got = 7, want = 7;
	char *text = malloc(len + 1);
	int ret, expect;

	if (!text)
		abort();
	memcpy(text, in.p, len);
	text[len] = '\0';  /* environment and argv hold C strings: up to the first NUL */

	expect = ref_size(text, max, &want);
	ret = _pcpu_parse_size(text, max, &got);
	if (ret != expect || got != want)
		fprintf(stderr, "'%s' (limit %zu): %d, %zu; the reference: %d, %zu\n", text,
			max, ret, got, expect, want);
	CHECK_EQ(ret, expect);
	CHECK_EQ(got, want);
	free(text);
	if (tu_failures)
		abort();
	return 0;
}
