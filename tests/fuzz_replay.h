/* SPDX-License-Identifier: MIT */
/* fuzz_replay.h - runs inputs through a fuzz target (fuzz/fuzz_NAME.c, included by
 * tests/test_fuzz_NAME.c): the inputs that once found a bug, then the target's seed corpus
 * fuzz/corpus/NAME/.  So each finding stays a regression test of the plain suite, and
 * every target is built and run by every compiler and sanitizer configuration, without
 * clang's fuzzer runtime.  The targets abort on a failed check, which fails the test. */
#ifndef PCPU_TESTS_FUZZ_REPLAY_H
#define PCPU_TESTS_FUZZ_REPLAY_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct fuzz_case {
	const char *what;    /* the bug this input found */
	const char *bytes;
	size_t len;
};

/* A case from a string literal: its bytes without the terminating NUL. */
#define FUZZ_CASE(what, bytes) { (what), (bytes), sizeof(bytes) - 1 }

/* Every file of @dir through the target; the tests run from the source tree (make check),
 * elsewhere the corpus is skipped with a note.  Returns the number replayed. */
static inline size_t fuzz_replay_dir(const char *test, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (!d) {
		fprintf(stderr, "%s: no %s here: seed corpus not replayed\n", test, dir);
		return 0;
	}
	while ((de = readdir(d))) {
		char path[512], *buf;
		FILE *f;
		long len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
		    !(buf = malloc((size_t)len + 1)) || fread(buf, 1, (size_t)len, f) != (size_t)len) {
			fprintf(stderr, "%s: cannot read %s\n", test, path);
			abort();
		}
		fclose(f);
		LLVMFuzzerTestOneInput((const uint8_t *)buf, (size_t)len);
		free(buf);
		n++;
	}
	closedir(d);
	return n;
}

static inline int fuzz_replay(const char *test, const struct fuzz_case *cases, size_t n,
			      const char *corpus)
{
	size_t seeds;

	for (size_t i = 0; i < n; i++) {
		fprintf(stderr, "%s: %s\n", test, cases[i].what);
		LLVMFuzzerTestOneInput((const uint8_t *)cases[i].bytes, cases[i].len);
	}
	seeds = fuzz_replay_dir(test, corpus);
	fprintf(stderr, "%s: %zu finding(s) and %zu seed(s) replayed\n", test, n, seeds);
	return 0;
}

#endif
