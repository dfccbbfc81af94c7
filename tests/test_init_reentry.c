/* SPDX-License-Identifier: MIT */
/* test_init_reentry.c - a signal handler that uses the library while its own thread is
 * initializing it: the initialization is not async-signal-safe (as documented), and
 * such a call must be reported and abort, not wait in pthread_once() for itself
 * forever.  The signal is raised from inside the initialization through the vm seam,
 * so that it lands there every run. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"
#include "vm.h"

static struct pcpu_vm_ops raising_vm;
static int raised;

/* The first chunk's commit, during pcpu_init(): the handler runs there. */
static int commit_and_raise(void *addr, size_t size, bool huge)
{
	if (!raised) {
		raised = 1;
		raise(SIGUSR1);
	}
	return _pcpu_vm_os.commit(addr, size, huge);
}

static void handler(int sig)
{
	(void)sig;
	pcpu_free(pcpu_alloc(8, 8)); /* needs the library initialized */
}

static void init_with_reentry(void *arg)
{
	(void)arg;
	alarm(10); /* before the fix: a hang, here a SIGALRM */
	raising_vm = _pcpu_vm_os;
	raising_vm.commit = commit_and_raise;
	_pcpu_vm = &raising_vm;
	signal(SIGUSR1, handler);
	(void)pcpu_init();
	fprintf(stderr, "pcpu_init returned: %s\n", raised ? "signal delivered" : "no signal");
}

/* Control: the same handler, once the library is initialized, works. */
static void init_then_signal(void *arg)
{
	(void)arg;
	alarm(10);
	CHECK_EQ(pcpu_init(), 0);
	signal(SIGUSR1, handler);
	raise(SIGUSR1);
	CHECK(pcpu_alloc(8, 8) != NULL);
}

int main(void)
{
	char buf[4096];
	int status;

	status = tu_in_child(init_with_reentry, NULL, buf, sizeof(buf));
	if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT))
		fprintf(stderr, "re-entry: status %#x, stderr \"%s\"\n", status, buf);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	CHECK(strstr(buf, "libpercpu: pcpu_init: called again by the thread that is "
			  "initializing the library") != NULL);

	status = tu_in_child(init_then_signal, NULL, buf, sizeof(buf));
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		fprintf(stderr, "control: status %#x, stderr \"%s\"\n", status, buf);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	TEST_DONE();
}
