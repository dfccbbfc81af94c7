/* SPDX-License-Identifier: MIT */
/* test_sections.c - the registry of static per-CPU sections, driven directly with
 * sections of chosen sizes and alignments: a section placed after one whose size is not
 * a multiple of its alignment keeps its alignment; every possible CPU's copy starts as
 * the image; translation covers [start, stop) and nothing past it; a section registered
 * after start-up goes to the reserved region, and unregistering it (what dlclose does)
 * resets the object's delta to 0 and frees its place. */
#include <string.h>

#include "internal.h"
#include "testutil.h"

/* 13 bytes at an odd size, then a section that wants 64-byte alignment */
static char sec_a[13] __attribute__((aligned(64)));
static char sec_b[96] __attribute__((aligned(64)));
static char sec_late[40] __attribute__((aligned(16)));
static intptr_t delta_a, delta_b, delta_late;

/* The alignment placement must keep: the image's own, up to a page. */
static size_t image_align(const void *p)
{
	size_t a = (size_t)1 << __builtin_ctzl((uintptr_t)p);
	return a < _pcpu_geo->page_size ? a : _pcpu_geo->page_size;
}

static void fill(char *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)(seed + i * 7);
}

/* Every possible CPU's copy of [@image, +@n) equals the image. */
static void check_copies(const char *what, const char *image, size_t n)
{
	char *canon = _pcpu_sections_translate(image);
	unsigned int cpu;

	CHECK(canon != NULL);
	if (!canon)
		return;
	pcpu_for_each_possible_cpu(cpu) {
		if (memcmp(canon + _pcpu_geo->unit_offsets[cpu], image, n) != 0) {
			fprintf(stderr, "%s: CPU %u's copy differs from the image\n", what, cpu);
			CHECK(!"copy differs");
		}
	}
}

/* Translation of every byte of [start, stop), and of the bytes just outside. */
static void check_translation(const char *what, char *start, size_t n)
{
	char *canon = _pcpu_sections_translate(start);

	CHECK(canon != NULL);
	for (size_t i = 0; i < n; i++)
		CHECK(_pcpu_sections_translate(start + i) == canon + i);
	if (_pcpu_sections_translate(start + n) != NULL &&
	    _pcpu_sections_translate(start + n) == canon + n) {
		fprintf(stderr, "%s: one past the end translates\n", what);
		CHECK(!"one past the end translates");
	}
}

static int run(void)
{
	char *ca, *cb, *cl;

	fill(sec_a, sizeof(sec_a), 1);
	fill(sec_b, sizeof(sec_b), 2);
	fill(sec_late, sizeof(sec_late), 3);
	/* before initialization: both go to the first chunk's static region, in order */
	__pcpu_register_section(sec_a, sec_a + sizeof(sec_a), &delta_a);
	__pcpu_register_section(sec_b, sec_b + sizeof(sec_b), &delta_b);
	CHECK_EQ(pcpu_init(), 0);
	CHECK(_pcpu_geo->static_size >= sizeof(sec_a) + sizeof(sec_b));

	ca = _pcpu_sections_translate(sec_a);
	cb = _pcpu_sections_translate(sec_b);
	CHECK(ca && cb);
	if (!ca || !cb)
		return 1;
	CHECK_EQ(ca - sec_a, delta_a);
	CHECK_EQ(cb - sec_b, delta_b);
	/* placed in the static region, without overlap, each as aligned as its image */
	CHECK(ca >= _pcpu_geo->arena && ca + sizeof(sec_a) <= _pcpu_geo->arena + _pcpu_geo->static_size);
	CHECK(cb >= _pcpu_geo->arena && cb + sizeof(sec_b) <= _pcpu_geo->arena + _pcpu_geo->static_size);
	CHECK(ca + sizeof(sec_a) <= cb || cb + sizeof(sec_b) <= ca);
	CHECK_EQ((uintptr_t)ca % image_align(sec_a), 0);
	CHECK_EQ((uintptr_t)cb % image_align(sec_b), 0);
	check_copies("a", sec_a, sizeof(sec_a));
	check_copies("b", sec_b, sizeof(sec_b));
	check_translation("a", sec_a, sizeof(sec_a));
	check_translation("b", sec_b, sizeof(sec_b));

	/* after initialization: the reserved region, as a dlopen'd object's */
	__pcpu_register_section(sec_late, sec_late + sizeof(sec_late), &delta_late);
	cl = _pcpu_sections_translate(sec_late);
	CHECK(cl != NULL);
	if (!cl)
		return 1;
	CHECK_EQ(cl - sec_late, delta_late);
	CHECK(cl >= _pcpu_geo->arena + _pcpu_geo->static_size &&
	      cl + sizeof(sec_late) <= _pcpu_geo->arena + _pcpu_geo->static_size + _pcpu_geo->reserved_size);
	CHECK_EQ((uintptr_t)cl % image_align(sec_late), 0);
	check_copies("late", sec_late, sizeof(sec_late));
	check_translation("late", sec_late, sizeof(sec_late));

	/* unregistered (dlclose): no translation, delta back to 0, its place free again */
	__pcpu_unregister_section(sec_late);
	CHECK_EQ(delta_late, 0);
	CHECK(_pcpu_sections_translate(sec_late) == NULL);
	__pcpu_register_section(sec_late, sec_late + sizeof(sec_late), &delta_late);
	CHECK(_pcpu_sections_translate(sec_late) == cl);
	__pcpu_unregister_section(sec_late);
	CHECK_EQ(delta_late, 0);

	/* a first-chunk section keeps its delta: its object's code may still run */
	__pcpu_unregister_section(sec_a);
	CHECK_EQ(delta_a, ca - sec_a);
	CHECK(_pcpu_sections_translate(sec_a) == NULL);
	CHECK(_pcpu_sections_translate(sec_b) == cb);
	return 0;
}

int main(int argc, char **argv)
{
	run();
	if (argc > 1)
		TEST_DONE();
	tu_spawn_modes(argv[0]);
	TEST_DONE();
}
