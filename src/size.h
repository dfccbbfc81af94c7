/* SPDX-License-Identifier: MIT */
/* size.h - the two size grammars: the LIBPERCPU_*_SIZE environment variables' and
 * percpu-info's options'.  Pure parsing, no messages: callers name what was wrong. */
#ifndef PCPU_SRC_SIZE_H
#define PCPU_SRC_SIZE_H

#include <stddef.h>

/* An environment size: a number in C syntax (decimal, 0x hexadecimal, 0 octal; no sign, no
 * blanks) with an optional K or M suffix (either case), at most @max bytes.  Returns 0 with
 * *@out set, -1 if @text is not a size, -2 if it is one above @max. */
int _pcpu_parse_env_size(const char *text, size_t max, size_t *out);

/* A command-line size: decimal digits only (so "010" is ten, not eight) with an optional
 * K, M or G suffix (either case), within size_t.  Returns 0 with *@out set, or -1. */
int _pcpu_parse_cli_size(const char *text, size_t *out);

#endif
