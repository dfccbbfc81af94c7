/* SPDX-License-Identifier: MIT */
/* size.c - the two size grammars of size.h, the LIBPERCPU_*_SIZE variables' (C syntax,
 * K or M, a limit) and percpu-info's options' (decimal, K, M or G).  Pure: no messages, so
 * that callers word their own errors and fuzz/fuzz_size.c can check both against a
 * reference. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "size.h"

/* log2 of the multiplier a suffix letter stands for, or -1 if it is none of K, M and
 * (with @giga) G, in either case. */
static int suffix_shift(char c, bool giga)
{
	switch (c) {
	case 'k': case 'K':
		return 10;
	case 'm': case 'M':
		return 20;
	case 'g': case 'G':
		return giga ? 30 : -1;
	default:
		return -1;
	}
}

int _pcpu_parse_env_size(const char *text, size_t max, size_t *out)
{
	unsigned long long n;
	int shift = 0;
	char *end;

	if (*text < '0' || *text > '9') /* strtoull would take a sign or blanks */
		return -1;
	errno = 0;
	n = strtoull(text, &end, 0);
	if (*end) {
		shift = suffix_shift(*end++, false);
		if (shift < 0 || *end)
			return -1;
	}
	if (errno == ERANGE || n > (max >> shift))
		return -2;
	*out = (size_t)n << shift;
	return 0;
}

int _pcpu_parse_cli_size(const char *text, size_t *out)
{
	const char *p = text;
	size_t v = 0;
	int shift = 0;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (SIZE_MAX - (size_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (size_t)(*p - '0');
	}
	if (p == text)
		return -1;
	if (*p) {
		shift = suffix_shift(*p++, true);
		if (shift < 0 || *p)
			return -1;
	}
	if (v > SIZE_MAX >> shift)
		return -1;
	*out = v << shift;
	return 0;
}
