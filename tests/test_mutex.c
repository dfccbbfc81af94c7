/* SPDX-License-Identifier: MIT */
/* test_mutex.c - the core's mutexes know their holder (mutex.h), which LIBPERCPU_DEBUG's
 * "runs without pcpu_lock held" checks rely on: held by the thread that locked it, by no
 * other thread meanwhile, by nobody once unlocked; the allocator's own locks behave the
 * same, and a run with the checks on reports nothing; a signal handler that enters the
 * allocator while its thread holds the lock is reported. */
#include <errno.h>
#include <pthread.h>

#include "alloc_state.h"
#include "testutil.h"
#include "vm.h"

static struct pcpu_mutex m = PCPU_MUTEX_INITIALIZER;
static pthread_barrier_t locked, checked;
static bool other_saw_held;

static void *other(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&locked);
	other_saw_held = _pcpu_mutex_held(&m);
	pthread_barrier_wait(&checked);
	return NULL;
}

static void test_holder(void)
{
	pthread_t t;

	CHECK(!_pcpu_mutex_held(&m));
	CHECK_EQ(pthread_barrier_init(&locked, NULL, 2), 0);
	CHECK_EQ(pthread_barrier_init(&checked, NULL, 2), 0);
	CHECK_EQ(pthread_create(&t, NULL, other, NULL), 0);
	_pcpu_mutex_lock(&m);
	CHECK(_pcpu_mutex_held(&m));
	pthread_barrier_wait(&locked);
	pthread_barrier_wait(&checked);
	CHECK(!other_saw_held);
	_pcpu_mutex_unlock(&m);
	CHECK(!_pcpu_mutex_held(&m));
	pthread_join(t, NULL);
	pthread_barrier_destroy(&locked);
	pthread_barrier_destroy(&checked);
}

#ifdef PCPU_HAVE_SINGLE_THREADED
/* While the process has one thread the mutex itself is not taken (mutex.h), yet the
 * holder is known as ever.  Run before any thread is created. */
static void test_single_threaded_skips_the_mutex(void)
{
	if (!__libc_single_threaded) {
		fprintf(stderr, "SKIP single-threaded locking: a thread exists already\n");
		return;
	}
	_pcpu_mutex_lock(&m);
	CHECK(_pcpu_mutex_held(&m));
	CHECK_EQ(pthread_mutex_trylock(&m.m), 0); /* free: nothing contends */
	pthread_mutex_unlock(&m.m);
	_pcpu_mutex_unlock(&m);
	CHECK(!_pcpu_mutex_held(&m));
	CHECK_EQ(pthread_mutex_trylock(&m.m), 0);
	pthread_mutex_unlock(&m.m);
}

/* A mutex taken while threads existed is released though the process is single-threaded
 * by the time it unlocks: a fork()'s child releases what the parent's atfork handler
 * took, and a C library may then say "one thread" (glibc 2.36 does not; the flag is set
 * here by hand).  Run after a thread was created. */
static void test_unlock_releases_what_lock_took(void)
{
	CHECK(!__libc_single_threaded);
	_pcpu_mutex_lock(&m);
	CHECK_EQ(pthread_mutex_trylock(&m.m), EBUSY);
	__libc_single_threaded = 1; /* no other thread runs meanwhile */
	_pcpu_mutex_unlock(&m);
	__libc_single_threaded = 0;
	CHECK_EQ(pthread_mutex_trylock(&m.m), 0);
	pthread_mutex_unlock(&m.m);
	CHECK(!_pcpu_mutex_held(&m));
}
#endif

/* A signal handler that calls the allocator while its own thread holds pcpu_lock (not
 * allowed: none of its functions is async-signal-safe) is reported by name: with one
 * thread (where mutex.h does not take the mutex, and the handler would otherwise change
 * the state under its thread's feet), with LIBPERCPU_DEBUG (which notes the holder) or
 * without, and with several threads under LIBPERCPU_DEBUG (without it, the thread waits
 * for itself, as a normal mutex does).  The signal comes from the clock the reserve's
 * idle check reads, under pcpu_lock, once every PCPU_RESERVE_CHECK_CALLS calls. */
static struct pcpu_vm_ops signalling_vm;
static volatile sig_atomic_t signal_armed;

static uint64_t signalling_now_ms(void)
{
	if (signal_armed) {
		signal_armed = 0;
		raise(SIGUSR1);
	}
	return _pcpu_vm_os.now_ms();
}

static void allocating_handler(int sig)
{
	(void)sig;
	pcpu_free(pcpu_alloc(8, 0));
}

static void *nothing(void *arg)
{
	return arg;
}

enum { REENTRY_ONE_THREAD, REENTRY_ONE_THREAD_DEBUG, REENTRY_THREADS_DEBUG, REENTRY_CASES };

static void reenter_from_handler(void *arg)
{
	int how = *(const int *)arg;
	pthread_t t;

#ifdef PCPU_HAVE_SINGLE_THREADED
	if (how != REENTRY_THREADS_DEBUG && !__libc_single_threaded) {
#else
	if (how != REENTRY_THREADS_DEBUG) {
#endif
		/* TSan's own thread: no process of one thread here */
		fprintf(stderr, "SKIP re-entry with one thread: the process has more\n");
		return;
	}
	if (how == REENTRY_ONE_THREAD)
		unsetenv("LIBPERCPU_DEBUG");
	CHECK_EQ(pcpu_init(), 0);
	CHECK_EQ(_pcpu_alloc.debug, how != REENTRY_ONE_THREAD);
	if (how == REENTRY_THREADS_DEBUG) { /* a second thread has been: the mutex is taken */
		CHECK_EQ(pthread_create(&t, NULL, nothing, NULL), 0);
		pthread_join(t, NULL);
	}
#ifdef PCPU_HAVE_SINGLE_THREADED
	CHECK_EQ(__libc_single_threaded, how != REENTRY_THREADS_DEBUG);
#endif
	signal(SIGUSR1, allocating_handler);
	signalling_vm = _pcpu_vm_os;
	signalling_vm.now_ms = signalling_now_ms;
	_pcpu_vm = &signalling_vm;
	signal_armed = 1;
	for (int i = 0; i < 4 * PCPU_RESERVE_CHECK_CALLS; i++)
		pcpu_free(pcpu_alloc(8, 0));
	_pcpu_vm = &_pcpu_vm_os;
	CHECK(!signal_armed); /* the handler ran, and came back: not reported */
}

static void test_signal_handler_reentry(void)
{
	for (int how = 0; how < REENTRY_CASES; how++) {
		char buf[4096];
		int status = tu_in_child(reenter_from_handler, &how, buf, sizeof(buf));

		if (status == 0 && strstr(buf, "SKIP")) {
			fputs(buf, stderr);
			continue;
		}
		if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT) ||
		    !strstr(buf, "libpercpu: allocator: ") || !strstr(buf, "signal handler"))
			fprintf(stderr, "re-entry from a handler (case %d): status %#x, \"%s\"\n",
				how, status, buf);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
		CHECK(strstr(buf, "libpercpu: allocator: ") != NULL);
		CHECK(strstr(buf, "taken again by the thread that holds it") != NULL);
	}
}

/* Every path of the allocator under the checks: alloc and free from the slots, a new
 * chunk, population, the balance work; then the locks are free again. */
static void test_allocator_paths_checked(void)
{
	enum { MAX = 160 };
	static void *p[MAX];
	/* enough to fill the first chunk and make a new one, fewer under the sanitizers */
	int n = (int)(tu_scaled(MAX) < 64 ? 64 : tu_scaled(MAX));

	CHECK_EQ(pcpu_init(), 0);
	CHECK(_pcpu_alloc.debug); /* LIBPERCPU_DEBUG=1, set before init */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < n; i++) {
			p[i] = pcpu_alloc_gfp((size_t)(tu_rand() % 1024) + 1, 8,
					      i % 7 ? PCPU_GFP_KERNEL : PCPU_GFP_ATOMIC);
			CHECK(p[i] != NULL || i % 7 == 0);
		}
		/* every other one first: frees in the middle of used space, then the rest */
		for (int i = round % 2; i < n; i += 2)
			pcpu_free(p[i]);
		for (int i = 1 - round % 2; i < n; i += 2)
			pcpu_free(p[i]);
		pcpu_balance();
	}
	CHECK(!_pcpu_mutex_held(&_pcpu_alloc.lock));
	CHECK(!_pcpu_mutex_held(&_pcpu_alloc.alloc_mutex));
}

int main(void)
{
	tu_seed("test_mutex");
	setenv("LIBPERCPU_DEBUG", "1", 1);
#ifdef PCPU_HAVE_SINGLE_THREADED
	test_single_threaded_skips_the_mutex();
#endif
	test_signal_handler_reentry(); /* before any thread: its first child has one */
	test_holder();
#ifdef PCPU_HAVE_SINGLE_THREADED
	test_unlock_releases_what_lock_took();
#endif
	test_allocator_paths_checked();
	TEST_DONE();
}
