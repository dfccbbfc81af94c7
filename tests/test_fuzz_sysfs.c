/* SPDX-License-Identifier: MIT */
/* test_fuzz_sysfs.c - inputs fuzz/fuzz_sysfs.c found, and its seeds, replayed through that
 * target: each builds a fake sysfs tree and checks _pcpu_topology_read_sysfs against the
 * reference. */
#include "../fuzz/fuzz_sysfs.c"
#include "fuzz_replay.h"

static const struct fuzz_case cases[] = {
	/* cpu/possible and a node/ directory without any nodeN in it: list_node_dirs handed
	 * qsort a NULL array (undefined behaviour, caught by UBSan) */
	FUZZ_CASE("empty node directory", "\x09\x00" "0-3\n"),
};

int main(void)
{
	return fuzz_replay("test_fuzz_sysfs", cases, sizeof(cases) / sizeof(cases[0]),
			   "fuzz/corpus/sysfs");
}
