/* SPDX-License-Identifier: MIT */
/* sanitizer.c - makes AddressSanitizer and valgrind's memcheck understand per-CPU objects.
 *
 * Free areas of every CPU's unit are poisoned (unaddressable), an allocation unpoisons
 * its bytes in every CPU's unit and a free poisons them again, so a program that touches
 * a freed object, or writes past an object's end into free space, gets a report on
 * whichever CPU's copy it used.
 *
 * AddressSanitizer: through its public interface, __asan_poison_memory_region and
 * __asan_unpoison_memory_region, declared weak: they resolve to the ASan runtime when one
 * is in the process (a program built with -fsanitize=address, whether libpercpu itself
 * was or not) and stay NULL otherwise, so that an ordinary process pays one predictable
 * branch on the allocator's slow paths.  ASan tracks 8-byte granules and can mark only a
 * granule's tail unaddressable: a free area that starts mid-granule after a live object is
 * poisoned from there, one that ends mid-granule before a live object is not.
 *
 * valgrind: through memcheck's client requests (a few no-op instructions outside
 * valgrind), when <valgrind/memcheck.h> is there at build time.  The canonical copy (the
 * pointer pcpu_alloc() returns) is a malloc-like block, so memcheck reports a per-CPU
 * object nobody points to any more as a leak with the allocation's stack, and an access
 * after free as one to a freed block; the other CPUs' copies are made accessible and
 * inaccessible with it.
 *
 * Every call is made under pcpu_lock: a free's poisoning and a concurrent allocation's
 * unpoisoning of the same granule never interleave. */
#include "internal.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define PCPU_VALGRIND 1
#endif
#endif

void __asan_poison_memory_region(void const volatile *addr, size_t size) __attribute__((weak));
void __asan_unpoison_memory_region(void const volatile *addr, size_t size) __attribute__((weak));

bool _pcpu_san_watched;

/* Whether anyone is watching: ASan in the process, or valgrind running it.  Neither
 * changes while the process runs, so _pcpu_san_setup() asks once and the allocator's
 * fast paths test the answer inline (internal.h) instead of calling here. */
static bool watched(void)
{
#ifdef PCPU_VALGRIND
	if (RUNNING_ON_VALGRIND)
		return true;
#endif
	return __asan_poison_memory_region != NULL;
}

static void poison(char *p, size_t size)
{
	if (__asan_poison_memory_region)
		__asan_poison_memory_region(p, size);
#ifdef PCPU_VALGRIND
	VALGRIND_MAKE_MEM_NOACCESS(p, size);
#endif
}

void _pcpu_san_poison_area(char *base, size_t off, size_t size)
{
	if (!watched())
		return;
	for (int u = 0; u < _pcpu_geo->nr_used; u++)
		poison(base + _pcpu_geo->used_unit_base[u] + off, size);
}

/* Makes the object of @size bytes at per-CPU pointer @p accessible in every CPU's copy
 * (@live) or not. */
static void mark_object(char *p, size_t size, bool live)
{
	if (!watched())
		return;
	for (int u = 0; u < _pcpu_geo->nr_used; u++) {
		char *copy = p + _pcpu_geo->used_unit_base[u];

		if (live && __asan_unpoison_memory_region)
			__asan_unpoison_memory_region(copy, size);
		else if (!live && __asan_poison_memory_region)
			__asan_poison_memory_region(copy, size);
#ifdef PCPU_VALGRIND
		if (copy == p && live)
			VALGRIND_MALLOCLIKE_BLOCK(copy, size, 0, 1);
		else if (copy == p)
			VALGRIND_FREELIKE_BLOCK(copy, 0);
		else if (live)
			VALGRIND_MAKE_MEM_DEFINED(copy, size);
		else
			VALGRIND_MAKE_MEM_NOACCESS(copy, size);
#endif
	}
}

void _pcpu_san_setup(void)
{
	_pcpu_san_watched = watched();
}

void _pcpu_san_mark(char *p, size_t size, bool live)
{
	mark_object(p, size, live);
}
