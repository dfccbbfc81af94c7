/* SPDX-License-Identifier: MIT */
/* dso_nodelete.c - libpercpu.so must stay loaded while threads hold its thread-exit
 * destructors (issue 6, item 2).  This program is NOT linked with libpercpu: it dlopens
 * a plugin that is, a worker calls pcpu_get_cpu()/pcpu_put_cpu() through it (which
 * registers the worker's thread-exit destructor, and in the library's own rseq mode its
 * rseq area), the plugin is dlclosed, then the worker exits.  Were libpercpu unloaded
 * with the plugin, the worker would die in __nptl_deallocate_tsd.  Several rounds, each
 * with a fresh worker and a fresh dlopen; the plugin's static per-CPU variable must start
 * from its initializer each time.  Every mode runs in a child, so a crash is reported
 * as a failure with its signal.  Modes: glibc's rseq, own registration, getcpu. */
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TU_WITHOUT_LIBPERCPU
#include "testutil.h"

#define ROUNDS 5

static char plugin_path[4096];
static unsigned int (*get_put)(void);
static sem_t called, closed;

static void *worker(void *arg)
{
	(void)arg;
	get_put();
	sem_post(&called);
	while (sem_wait(&closed) != 0)
		;
	return NULL; /* thread exit: libpercpu's destructors run now */
}

static int run_mode(const char *want)
{
	sem_init(&called, 0, 0);
	sem_init(&closed, 0, 0);
	for (int round = 0; round < ROUNDS; round++) {
		void *h = dlopen(plugin_path, RTLD_NOW | RTLD_LOCAL);
		pthread_t t;

		if (!h) {
			fprintf(stderr, "dlopen: %s\n", dlerror());
			CHECK(h != NULL);
			return 1;
		}
		const char *(*source)(void) = (const char *(*)(void))dlsym(h, "pcpu_cpu_source");
		unsigned int (*nposs)(void) = (unsigned int (*)(void))dlsym(h, "pcpu_num_possible_cpus");
		long (*var_sum)(void) = (long (*)(void))dlsym(h, "plugin_var_sum");
		get_put = (unsigned int (*)(void))dlsym(h, "plugin_get_put");
		CHECK(source && nposs && var_sum && get_put);
		if (!(source && nposs && var_sum && get_put))
			return 1;
		if (round == 0)
			fprintf(stderr, "mode: %s\n", source());
		CHECK(tu_source_matches(source(), want));
		/* fresh copies of the plugin's static variable (initializer 3 on every CPU) */
		CHECK_EQ(var_sum(), 3 * (long)nposs());

		pthread_create(&t, NULL, worker, NULL);
		while (sem_wait(&called) != 0)
			;
		CHECK_EQ(var_sum(), 3 * (long)nposs() + 1);
		CHECK_EQ(dlclose(h), 0);
		/* the library stays: it is marked nodelete */
		void *lib = dlopen("libpercpu.so.0", RTLD_NOW | RTLD_NOLOAD);
		CHECK(lib != NULL);
		if (lib)
			dlclose(lib);
		sem_post(&closed);
		pthread_join(t, NULL);
	}
	fprintf(stderr, "  %d rounds: worker exits after dlclose\n", ROUNDS);
	return tu_failures ? 1 : 0;
}

/* Runs one mode in a child, with @env=@value set (or nothing), so that a crash there is
 * reported here. */
static void spawn(char *self, const char *mode, const char *env, const char *value)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (env)
			setenv(env, value, 1);
		char *argv[] = { self, (char *)mode, NULL };

		tu_execv(self, argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		fprintf(stderr, "mode %s: killed by signal %d (%s)\n", mode, WTERMSIG(status),
			strsignal(WTERMSIG(status)));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(int argc, char **argv)
{
	const char *slash = strrchr(argv[0], '/');

	snprintf(plugin_path, sizeof(plugin_path), "%.*slibpcpu_unload.so",
		 slash ? (int)(slash - argv[0] + 1) : 0, argv[0]);
	if (argc > 1 && strcmp(argv[1], "glibc") == 0)
		return run_mode("glibc registration");
	if (tu_mode_source(argc, argv))
		return run_mode(tu_mode_source(argc, argv));
	spawn(argv[0], "glibc", NULL, NULL);
	spawn(argv[0], "own", "GLIBC_TUNABLES", "glibc.pthread.rseq=0");
	spawn(argv[0], "getcpu", "LIBPERCPU_CPU_SOURCE", "getcpu");
	TEST_DONE();
}
