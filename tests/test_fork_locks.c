/* SPDX-License-Identifier: MIT */
/* test_fork_locks.c - fork() while another thread is inside a library call: the child
 * must find every library lock free.  The atfork handlers (init.c) once held only the
 * sections and allocator locks; a thread inside pcpu_cpus_refresh() (the hotplug
 * registry's lock), pcpu_counter_init()/destroy() (the counter list's) or the first
 * pcpu_cpumask_of_node() (the lazily built tables') left the child hung for good in its
 * first call of the same kind.  Each case forks while a worker loops in the call, and
 * the child makes the call under an alarm: SIGALRM means it hung. */
#include <percpu.h>
#include <percpu/counter.h>
#include <percpu/cpumask.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

enum { REFRESH, COUNTER, BALANCE, NR_CASES };
static const char *const case_name[NR_CASES] = {"pcpu_cpus_refresh", "pcpu_counter_init",
						"pcpu_balance"};
static atomic_int stop;

static void call(int which)
{
	struct pcpu_counter c;

	switch (which) {
	case REFRESH:
		(void)pcpu_cpus_refresh();
		break;
	case COUNTER:
		if (pcpu_counter_init(&c, 1, PCPU_GFP_KERNEL) == 0)
			pcpu_counter_destroy(&c);
		break;
	default:
		pcpu_balance();
		(void)pcpu_cpumask_of_node(0);
		break;
	}
}

static void *worker(void *arg)
{
	while (!atomic_load(&stop))
		call((int)(intptr_t)arg);
	return NULL;
}

static void run_case(int which, int forks)
{
	pthread_t t;
	int hung = 0;

	atomic_store(&stop, 0);
	CHECK_EQ(pthread_create(&t, NULL, worker, (void *)(intptr_t)which), 0);
	for (int i = 0; i < forks; i++) {
		int status;
		pid_t pid = fork();

		if (pid == 0) {
			alarm(10);
			call(which);
			call(which);
			_exit(0);
		}
		CHECK(pid > 0);
		if (pid < 0)
			break;
		CHECK_EQ(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "%s: fork %d: child %s %d\n", case_name[which], i,
				WIFSIGNALED(status) ? "killed by signal" : "exited with",
				WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			hung++;
			break;
		}
	}
	atomic_store(&stop, 1);
	CHECK_EQ(pthread_join(t, NULL), 0);
	CHECK_EQ(hung, 0);
}

static int run(const char *mode)
{
	(void)mode;
	CHECK_EQ(pcpu_init(), 0);
	for (int which = 0; which < NR_CASES; which++)
		run_case(which, (int)tu_scaled(100) + 5);
	TEST_DONE();
}

int main(int argc, char **argv)
{
	if (argc == 1)
		tu_seed("test_fork_locks");
	return tu_run_modes(argc, argv, run);
}
