/* SPDX-License-Identifier: MIT */
/* size.h - the one size grammar of the LIBPERCPU_*_SIZE variables and of percpu-info's
 * options.  Pure parsing, no messages: callers name what was wrong. */
#ifndef PCPU_SRC_SIZE_H
#define PCPU_SRC_SIZE_H

#include <stddef.h>

/* A size: a number in C syntax (decimal, 0x hexadecimal, 0 octal; no sign, no blanks)
 * with an optional K, M or G suffix (either case; binary multiples) naming a unit no
 * larger than @max, at most @max bytes.  Returns 0 with *@out set, -1 if @text is not a
 * size, -2 if it is one above @max. */
int _pcpu_parse_size(const char *text, size_t max, size_t *out);

/* The grammar for sizes up to @max, in words, for messages: "a number, optionally
 * followed by K or M". */
const char *_pcpu_size_grammar(size_t max);

#endif
