/* SPDX-License-Identifier: MIT */
/* fuzz_replay.h - runs inputs a fuzzer found through its target (fuzz/fuzz_NAME.c,
 * included by tests/test_fuzz_NAME.c), so that each finding stays a regression test of the
 * plain suite under every compiler and sanitizer build, without clang's fuzzer runtime.
 * The targets abort on a failed check, which fails the test. */
#ifndef PCPU_TESTS_FUZZ_REPLAY_H
#define PCPU_TESTS_FUZZ_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct fuzz_case {
	const char *what;    /* the bug this input found */
	const char *bytes;
	size_t len;
};

/* A case from a string literal: its bytes without the terminating NUL. */
#define FUZZ_CASE(what, bytes) { (what), (bytes), sizeof(bytes) - 1 }

static inline int fuzz_replay(const char *test, const struct fuzz_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(stderr, "%s: %s\n", test, cases[i].what);
		LLVMFuzzerTestOneInput((const uint8_t *)cases[i].bytes, cases[i].len);
	}
	fprintf(stderr, "%s: %zu input(s) replayed\n", test, n);
	return 0;
}

#endif
