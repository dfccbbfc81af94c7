/* SPDX-License-Identifier: MIT */
/* test_fuzz_chunk.c - fuzz/fuzz_chunk.c's seeds replayed through it in every build of the
 * plain suite (chunk allocator steps against tests/chunk_model.h).  An input the fuzzer
 * finds failing goes in a cases[] array here, as in test_fuzz_sysfs.c. */
#include "../fuzz/fuzz_chunk.c"
#include "fuzz_replay.h"

int main(void)
{
	return fuzz_replay("test_fuzz_chunk", NULL, 0, "fuzz/corpus/chunk");
}
