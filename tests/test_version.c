/* SPDX-License-Identifier: MIT */
/* test_version.c - pcpu_version() is the version of the header the library was built
 * with, in MAJOR.MINOR.PATCH form, before and after initialization, and
 * PCPU_VERSION_NUMBER orders as the three numbers do.  (make check-install checks that
 * the .pc, the CMake package, the man pages and percpu-info --version agree.) */
#include <string.h>

#include "percpu.h"
#include "testutil.h"

int main(void)
{
	char want[64];
	const char *v = pcpu_version(); /* no initialization needed */
	unsigned int major, minor, patch;
	int end = 0;

	snprintf(want, sizeof(want), "%d.%d.%d", PCPU_VERSION_MAJOR, PCPU_VERSION_MINOR,
		 PCPU_VERSION_PATCH);
	CHECK(v != NULL);
	CHECK(strcmp(v, want) == 0);
	CHECK_EQ(sscanf(v, "%u.%u.%u%n", &major, &minor, &patch, &end), 3);
	CHECK_EQ((size_t)end, strlen(v));
	CHECK(minor < 100 && patch < 100);
	CHECK_EQ(PCPU_VERSION_NUMBER, major * 10000 + minor * 100 + patch);
	CHECK_EQ(pcpu_init(), 0);
	CHECK(pcpu_version() == v);
	TEST_DONE();
}
