/* SPDX-License-Identifier: MIT */
/* san_client.c - a program as a user writes it, linked with the shared libpercpu and
 * built twice: with -fsanitize=address (san_client_asan) and plain, for valgrind
 * (san_client).  test_sanitizers.c runs it in each mode and reads the report:
 *   clean           random objects written in every CPU's copy, then freed: no report
 *   uaf, uaf-other  a write to a freed object, in the first / the last CPU's copy
 *   overflow, overflow-other   a write just past an object's end, into free space
 *   leak            an object whose pointer is dropped (valgrind: definitely lost)
 * Before the faulting access it prints "san_client: MODE ADDRESS" on stderr. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "percpu.h"

static void *keep; /* holds an object so that its chunk stays in use */

static unsigned int last_cpu(void)
{
	unsigned int cpu, last = 0;

	pcpu_for_each_possible_cpu(cpu)
		last = cpu;
	return last;
}

static void touch(const char *mode, char *addr)
{
	fprintf(stderr, "san_client: %s %p\n", mode, (void *)addr);
	*(volatile char *)addr = 1;
}

static void clean(void)
{
	void *p[300] = { NULL };
	size_t size[300];
	uint64_t s = 88172645463325252ull;
	unsigned int cpu;

	for (int round = 0; round < 3000; round++) {
		int i;

		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		i = (int)(s % 300);
		if (p[i]) {
			pcpu_for_each_possible_cpu(cpu)
				memset(pcpu_ptr(p[i], cpu), 0x5a, size[i]);
			pcpu_free(p[i]);
			p[i] = NULL;
		} else {
			size[i] = 1 + (s >> 16) % (s % 7 ? 64 : 9000);
			p[i] = pcpu_alloc(size[i], (size_t)1 << (s >> 40) % 7);
			if (!p[i])
				exit(3);
		}
	}
	for (int i = 0; i < 300; i++)
		pcpu_free(p[i]);
}

static void *make_leak(void)
{
	return pcpu_alloc(48, 8);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "clean";
	bool other = strstr(mode, "-other") != NULL;
	unsigned int cpu = other ? last_cpu() : (unsigned int)pcpu_next_possible_cpu(-1);
	char *p;

	if (other && cpu == (unsigned int)pcpu_next_possible_cpu(-1)) {
		printf("one possible CPU: no other copy\n");
		return 77;
	}
	keep = pcpu_alloc(64, 8);
	if (!keep)
		return 3;
	if (!strcmp(mode, "clean")) {
		clean();
	} else if (!strncmp(mode, "uaf", 3)) {
		p = pcpu_alloc(32, 8);
		pcpu_free(p);
		touch(mode, (char *)pcpu_ptr(p, cpu) + 8);
	} else if (!strncmp(mode, "overflow", 8)) {
		p = pcpu_alloc(20, 4); /* the last object: free space follows it */
		memset(pcpu_ptr(p, cpu), 1, 20);
		touch(mode, (char *)pcpu_ptr(p, cpu) + 20);
		pcpu_free(p);
	} else if (!strcmp(mode, "leak")) {
		if (!make_leak())
			return 3;
	} else {
		fprintf(stderr, "san_client: unknown mode %s\n", mode);
		return 2;
	}
	pcpu_free(keep);
	return 0;
}
