/* SPDX-License-Identifier: MIT */
/* test_fuzz_topology_spec.c - fuzz/fuzz_topology_spec.c's seeds replayed through it in
 * every build of the plain suite (LIBPERCPU_TOPOLOGY text against a reference parser).  An
 * input the fuzzer finds failing goes in a cases[] array here, as in test_fuzz_sysfs.c. */
#include "../fuzz/fuzz_topology_spec.c"
#include "fuzz_replay.h"

int main(void)
{
	return fuzz_replay("test_fuzz_topology_spec", NULL, 0, "fuzz/corpus/topology_spec");
}
