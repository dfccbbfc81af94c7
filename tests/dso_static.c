/* SPDX-License-Identifier: MIT */
/* dso_static.c - static per-CPU variables across ELF objects: the executable's own, a
 * linked shared library's (also reached from the executable with DECLARE_PER_CPU), and
 * a dlopen'd library's, which takes space from the reserved region and gives it back on
 * dlclose.  Run again with LIBPERCPU_RESERVED_SIZE=0, the plugin goes to dynamic memory. */
#include <dlfcn.h>
#include <percpu/kernel.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

DEFINE_PER_CPU(long, exe_var) = 11;
DECLARE_PER_CPU(long, linked_counter);
DECLARE_PER_CPU_ALIGNED(long, linked_aligned);

long linked_get(unsigned int cpu);
void linked_add(unsigned int cpu, long v);
long *linked_ptr(unsigned int cpu);
long *linked_aligned_ptr(unsigned int cpu);

struct plugin {
	void *h;
	long (*get)(unsigned int);
	void (*set)(unsigned int, long);
	char *(*buf)(unsigned int);
	long (*linked_get)(unsigned int);
	long *(*this_ptr)(void);
};

static int open_plugin(struct plugin *p, const char *path)
{
	p->h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!p->h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return -1;
	}
	p->get = (long (*)(unsigned int))dlsym(p->h, "plugin_get");
	p->set = (void (*)(unsigned int, long))dlsym(p->h, "plugin_set");
	p->buf = (char *(*)(unsigned int))dlsym(p->h, "plugin_buf_ptr");
	p->linked_get = (long (*)(unsigned int))dlsym(p->h, "plugin_linked_get");
	p->this_ptr = (long *(*)(void))dlsym(p->h, "plugin_this_ptr");
	return p->get && p->set && p->buf && p->linked_get && p->this_ptr ? 0 : -1;
}

static void test_linked(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		CHECK_EQ(per_cpu(exe_var, cpu), 11);
		CHECK_EQ(linked_get(cpu), 5);
		/* the executable reaches the library's variable: the same copy */
		CHECK(&per_cpu(linked_counter, cpu) == linked_ptr(cpu));
		CHECK(per_cpu_ptr(&linked_aligned, cpu) == linked_aligned_ptr(cpu));
		CHECK_EQ((uintptr_t)linked_aligned_ptr(cpu) % 64, 0);
		CHECK_EQ(*linked_aligned_ptr(cpu), 6);
		linked_add(cpu, (long)cpu * 10);
	}
	for_each_possible_cpu(cpu) {
		CHECK_EQ(per_cpu(linked_counter, cpu), 5 + (long)cpu * 10);
		per_cpu(exe_var, cpu) += cpu;
	}
	for_each_possible_cpu(cpu)
		CHECK_EQ(per_cpu(exe_var, cpu), 11 + (long)cpu);
	struct pcpu_stats st;
	pcpu_get_stats(&st);
	CHECK(st.nr_static_sections >= 2); /* executable and lib_linked (in the first chunk) */
}

static void test_plugin(const char *path, int expect_reserved)
{
	struct pcpu_stats s0, s1, s2;
	struct plugin p;
	unsigned int cpu;

	pcpu_get_stats(&s0);
	for (int round = 0; round < 3; round++) {
		CHECK_EQ(open_plugin(&p, path), 0);
		if (!p.h)
			return;
		pcpu_get_stats(&s1);
		CHECK_EQ(s1.nr_static_sections, s0.nr_static_sections + 1);
		if (expect_reserved)
			CHECK(s1.reserved_free < s0.reserved_free);
		else
			CHECK(s1.nr_cur_alloc == s0.nr_cur_alloc + 1);
		for_each_possible_cpu(cpu) {
			CHECK_EQ(p.get(cpu), 77); /* fresh copies each time it is loaded */
			CHECK(strcmp(p.buf(cpu), "plugin") == 0);
			CHECK_EQ((uintptr_t)p.buf(cpu) % 64, 0);
			CHECK_EQ(p.linked_get(cpu), linked_get(cpu));
			p.set(cpu, 1000 + cpu);
		}
		for_each_possible_cpu(cpu)
			CHECK_EQ(p.get(cpu), 1000 + (long)cpu);
		long *mine = p.this_ptr(); /* one CPU's copy */
		CHECK(*mine >= 1000 && *mine < 1000 + (long)nr_cpu_ids);
		CHECK_EQ(dlclose(p.h), 0);
		pcpu_get_stats(&s2);
		CHECK_EQ(s2.nr_static_sections, s0.nr_static_sections);
		CHECK_EQ(s2.reserved_free, s0.reserved_free);
		CHECK_EQ(s2.nr_cur_alloc, s0.nr_cur_alloc);
	}
}

/* pcpu_free() of a dlopen'd object's static variable, by its first CPU's copy (which is
 * its per-CPU address): reported by name, while the variable sits in the reserved
 * region, instead of freeing it for dlclose() to find freed ("double free"). */
static char plugin_path[4096];

static void free_plugin_var(int fd)
{
	struct plugin p;
	unsigned int first = 0;

	CHECK_EQ(open_plugin(&p, plugin_path), 0);
	if (!p.h)
		return;
	while (!pcpu_cpu_possible(first))
		first++;
	tu_say(fd, p.buf(first));
	pcpu_free(p.buf(first));
	dlclose(p.h);
}

int main(int argc, char **argv)
{
	char path[4096];
	const char *slash = strrchr(argv[0], '/');

	snprintf(path, sizeof(path), "%.*slibpcpu_plugin.so", slash ? (int)(slash - argv[0] + 1) : 0,
		 argv[0]);
	CHECK_EQ(pcpu_init(), 0);
	test_linked();
	test_plugin(path, argc < 2);
	snprintf(plugin_path, sizeof(plugin_path), "%s", path);
	if (argc < 2)
		tu_expect_abort("free of a dlopen'd static variable", free_plugin_var,
				"is a static per-CPU variable of an object loaded with dlopen()");
	if (argc < 2) {
		/* again, with no reserved region: the plugin's section goes to dynamic memory */
		tu_spawn_mode(argv[0], "dynamic", "LIBPERCPU_RESERVED_SIZE", "0");
	}
	TEST_DONE();
}
