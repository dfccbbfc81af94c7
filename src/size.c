/* SPDX-License-Identifier: MIT */
/* size.c - the one size grammar (size.h), shared by the LIBPERCPU_*_SIZE variables
 * (options.c) and percpu-info's options.  Pure: no messages, so that callers word their
 * own errors and fuzz/fuzz_size.c can check it against a reference. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "size.h"

/* log2 of the multiplier a suffix letter stands for, or -1 if it is none of K, M and G
 * (either case). */
static int suffix_shift(char c)
{
	switch (c) {
	case 'k': case 'K':
		return 10;
	case 'm': case 'M':
		return 20;
	case 'g': case 'G':
		return 30;
	default:
		return -1;
	}
}

/* A suffix names a unit that values under @max can be counted in: G where sizes reach
 * a GiB (the atom, percpu-info), not for a 64 MiB region, where "1G" is no size at all. */
static bool suffix_allowed(int shift, size_t max)
{
	return shift >= 0 && ((size_t)1 << shift) <= max;
}

int _pcpu_parse_size(const char *text, size_t max, size_t *out)
{
	unsigned long long n;
	int shift = 0;
	char *end;

	if (*text < '0' || *text > '9') /* strtoull would take a sign or blanks */
		return -1;
	errno = 0;
	n = strtoull(text, &end, 0);
	if (*end) {
		shift = suffix_shift(*end++);
		if (!suffix_allowed(shift, max) || *end)
			return -1;
	}
	if (errno == ERANGE || n > (max >> shift))
		return -2;
	*out = (size_t)n << shift;
	return 0;
}

const char *_pcpu_size_grammar(size_t max)
{
	if (suffix_allowed(30, max))
		return "a number, optionally followed by K, M or G";
	if (suffix_allowed(20, max))
		return "a number, optionally followed by K or M";
	if (suffix_allowed(10, max))
		return "a number, optionally followed by K";
	return "a number";
}
