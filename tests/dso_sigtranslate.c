/* SPDX-License-Identifier: MIT */
/* dso_sigtranslate.c - pcpu_ptr() is async-signal-safe, also in a handler that
 * interrupts its own thread while that thread registers or unregisters a static per-CPU
 * section (issue 6, item 3).  The main thread loads the plugin A (libpcpu_unload.so,
 * which has a PCPU_DEFINE) then B (libpcpu_plugin.so), and dlcloses and dlopens A over
 * and over; while A is unloaded, it also registers and unregisters a section of its own
 * (in A's entry) many times.  Another thread sends it SIGUSR1 at full rate, and the
 * handler translates B's variable with pcpu_ptr(), which scans A's entry on the way.  A handler that waited for
 * its own thread's write to finish would hang: alarm() turns that into a failure with a
 * message.  20 seconds in each CPU-source mode, the three modes at once (PCPU_TEST_SCALE
 * scales it). */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "percpu.h"
#include "testutil.h"

static long *b_var;        /* B's static per-CPU variable (initializer 77) */
static pthread_t main_thread;
static int stop;
static volatile sig_atomic_t in_handler;
static long handled, bad_value;
static char own_image[64] __attribute__((aligned(64))) = "image";
static intptr_t own_delta;

static void on_usr1(int sig)
{
	unsigned int cpu;

	(void)sig;
	in_handler = 1;
	pcpu_for_each_possible_cpu(cpu)
		if (*pcpu_ptr(b_var, cpu) != 77)
			__atomic_fetch_add(&bad_value, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&handled, 1, __ATOMIC_RELAXED);
	in_handler = 0;
}

static void on_alarm(int sig)
{
	static const char msg[] = "dso_sigtranslate: no progress: pcpu_ptr() in a signal handler "
				  "hangs (handler still running)\n";
	static const char msg2[] = "dso_sigtranslate: no progress (not in the handler)\n";
	(void)sig;
	if (in_handler)
		(void)!write(2, msg, sizeof(msg) - 1);
	else
		(void)!write(2, msg2, sizeof(msg2) - 1);
	_exit(3);
}

static void *sender(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		pthread_kill(main_thread, SIGUSR1);
	return NULL;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char dir[2048]; /* where this program and the plugins are */

static int run_mode(const char *want)
{
	char a_path[4096], b_path[4096];
	double seconds = 20.0 * atof(getenv("PCPU_TEST_SCALE") ? getenv("PCPU_TEST_SCALE") : "1");
	struct sigaction sa;
	pthread_t t;
	long cycles = 0;

	fprintf(stderr, "mode: %s\n", pcpu_cpu_source());
	CHECK(tu_source_is(want));
	snprintf(a_path, sizeof(a_path), "%slibpcpu_unload.so", dir);
	snprintf(b_path, sizeof(b_path), "%slibpcpu_plugin.so", dir);
	/* A first, so that its entry comes before B's in the registry and stays there */
	void *a = dlopen(a_path, RTLD_NOW | RTLD_LOCAL);
	void *b = dlopen(b_path, RTLD_NOW | RTLD_LOCAL);
	CHECK(a && b);
	if (!a || !b)
		return 1;
	b_var = (long *)dlsym(b, "plugin_var");
	CHECK(b_var != NULL);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	main_thread = pthread_self();
	(void)pcpu_current_cpu(); /* registers this thread where the library registers its own */
	pthread_create(&t, NULL, sender, NULL);
	for (double end = now() + (seconds < 0.5 ? 0.5 : seconds); now() < end; cycles++) {
		alarm(10);
		CHECK_EQ(dlclose(a), 0);
		/* A's entry is free: a section of our own takes it and leaves it, many times
		 * per dlopen, so that the writes (a few stores each) are often interrupted */
		for (int k = 0; k < 100; k++) {
			__pcpu_register_section(own_image, own_image + sizeof(own_image), &own_delta);
			__pcpu_unregister_section(own_image);
		}
		a = dlopen(a_path, RTLD_NOW | RTLD_LOCAL);
		CHECK(a != NULL);
		if (!a)
			break;
	}
	alarm(0);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	fprintf(stderr, "  %ld dlclose/dlopen cycles, %ld signals handled\n", cycles, handled);
	CHECK(handled > 0);
	CHECK_EQ(bad_value, 0);
	if (a)
		dlclose(a);
	dlclose(b);
	return tu_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *slash = strrchr(argv[0], '/');

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - argv[0] + 1) : 0, argv[0]);
	/* the three modes side by side: 60 s of testing in 20 s */
	return tu_run_modes_side_by_side(argc, argv, run_mode);
}
