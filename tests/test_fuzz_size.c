/* SPDX-License-Identifier: MIT */
/* test_fuzz_size.c - fuzz/fuzz_size.c's seeds replayed through it in every build of the
 * plain suite (the one size grammar against a reference parser).  An input the fuzzer
 * finds failing goes in a cases[] array here, as in test_fuzz_sysfs.c. */
#include "../fuzz/fuzz_size.c"
#include "fuzz_replay.h"

int main(void)
{
	return fuzz_replay("test_fuzz_size", NULL, 0, "fuzz/corpus/size");
}
