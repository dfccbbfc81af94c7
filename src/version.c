/* SPDX-License-Identifier: MIT */
/* version.c - pcpu_version(): the library's version at run time, from the numbers of
 * <percpu.h> it was built with. */
#include "internal.h"

#define PCPU_STR_(x) #x
#define PCPU_STR(x) PCPU_STR_(x)

const char *pcpu_version(void)
{
	return PCPU_STR(PCPU_VERSION_MAJOR) "." PCPU_STR(PCPU_VERSION_MINOR) "." PCPU_STR(
		PCPU_VERSION_PATCH);
}
