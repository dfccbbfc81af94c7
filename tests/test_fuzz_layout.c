/* SPDX-License-Identifier: MIT */
/* test_fuzz_layout.c - fuzz/fuzz_layout.c's seeds replayed through it in every build of
 * the plain suite (layouts and their invariants).  An input the fuzzer finds failing goes
 * in a cases[] array here, as in test_fuzz_sysfs.c. */
#include "../fuzz/fuzz_layout.c"
#include "fuzz_replay.h"

int main(void)
{
	return fuzz_replay("test_fuzz_layout", NULL, 0, "fuzz/corpus/layout");
}
