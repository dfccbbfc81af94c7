/* SPDX-License-Identifier: MIT */
/* test_getcpu.c - pcpu_get_cpu()/pcpu_put_cpu().  (1) Mutual exclusion: threads update
 * a CPU's copy non-atomically between get and put while some of them move between CPUs,
 * also while holding; no update is lost.  (2) Nesting returns the held CPU and holds
 * until the outermost put.  (3) A waiter sleeps: its CPU time stays far below the time
 * it waits.  (4) Signal handlers nest in the thread they interrupt, at any point.
 * (5) Misuse: a put without a get aborts with a message; a thread that exits holding a
 * CPU is reported and the CPU released.  (6) fork() while holding: the child's thread
 * still holds its CPU, every other CPU is free.  (7) The kernel's names. */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "percpu.h"
#include "percpu/kernel.h"
#include "testutil.h"

struct pair {
	long a, b;
};

static unsigned int cpus[1024]; /* CPUs this process may run on and that are online */
static unsigned int nr_cpus;

/* A usable CPU other than @cpu, or @cpu if there is none. */
static unsigned int other_cpu(unsigned int cpu)
{
	for (unsigned int i = 0; i < nr_cpus; i++)
		if (cpus[i] != cpu)
			return cpus[i];
	return cpu;
}

static double now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0)
		;
}

static void sleep_us(long us)
{
	struct timespec ts = { 0, us * 1000 };

	nanosleep(&ts, NULL);
}

static void delay(int n)
{
	for (volatile int i = 0; i < n; i++)
		;
}

/* ---- (1) mutual exclusion under migration ---- */
enum { NR_THREADS = 4 };

struct excl_arg {
	struct pair *data;
	int *inside;           /* per CPU: holders inside the section now, must stay <= 1 */
	long iters;
	int id;
	long overlaps;         /* sections that found another thread inside */
	long moved_holding;    /* sections that went on after moving to another CPU */
};

static void *excl_thread(void *argp)
{
	struct excl_arg *arg = argp;
	unsigned int next = (unsigned int)arg->id;

	for (long i = 0; i < arg->iters; i++) {
		struct pair *p = pcpu_get_cpu_ptr(arg->data);
		int *in = pcpu_get_cpu_ptr(arg->inside); /* nested: the same CPU */
		long a;

		if (__atomic_fetch_add(in, 1, __ATOMIC_RELAXED) != 0)
			arg->overlaps++;
		a = p->a;
		delay(20);
		/* thread 0 moves while holding, thread 1 between sections */
		if (arg->id == 0 && nr_cpus > 1 && i % 64 == 0) {
			tu_pin(cpus[next++ % nr_cpus]);
			if (pcpu_ptr(arg->data, pcpu_current_cpu()) != p)
				arg->moved_holding++;
			if (i % 256 == 0)
				sleep_us(50); /* make the others wait for the CPU we took away */
		}
		p->a = a + 1;
		delay(5);
		p->b++;
		__atomic_fetch_sub(in, 1, __ATOMIC_RELAXED);
		pcpu_put_cpu_ptr(arg->inside);
		pcpu_put_cpu_ptr(arg->data);
		if (arg->id == 1 && nr_cpus > 1 && i % 64 == 32)
			tu_pin(cpus[next++ % nr_cpus]);
	}
	return NULL;
}

static void test_exclusion(void)
{
	struct pair *data = pcpu_alloc_type(struct pair);
	int *inside = pcpu_alloc_type(int);
	struct excl_arg args[NR_THREADS];
	pthread_t t[NR_THREADS];
	long total = 0, sum = 0, overlaps = 0, moved = 0;
	double t0 = now(CLOCK_MONOTONIC);
	unsigned int cpu;

	CHECK(data && inside);
	for (int i = 0; i < NR_THREADS; i++) {
		args[i] = (struct excl_arg){ data, inside, tu_scaled(200000), i, 0, 0 };
		total += args[i].iters;
		CHECK_EQ(pthread_create(&t[i], NULL, excl_thread, &args[i]), 0);
	}
	for (int i = 0; i < NR_THREADS; i++) {
		pthread_join(t[i], NULL);
		overlaps += args[i].overlaps;
		moved += args[i].moved_holding;
	}
	pcpu_for_each_possible_cpu(cpu) {
		struct pair *p = pcpu_ptr(data, cpu);
		CHECK_EQ(p->a, p->b);
		sum += p->a;
	}
	CHECK_EQ(sum, total);
	CHECK_EQ(overlaps, 0);
	if (nr_cpus > 1)
		CHECK(moved > 0); /* the migration while holding did happen */
	fprintf(stderr, "exclusion: %ld sections in %.2f s, %ld went on on another CPU\n",
		total, now(CLOCK_MONOTONIC) - t0, moved);
	pcpu_free(data);
	pcpu_free(inside);
}

/* ---- a thread that takes a CPU and says when it has it ---- */
struct taker {
	unsigned int cpu;      /* CPU to run on before pcpu_get_cpu() */
	unsigned int got;
	int done;              /* set once pcpu_get_cpu() returned */
	double waited;         /* seconds in pcpu_get_cpu(), wall clock and thread CPU time */
	double cpu_time;
	double got_at;         /* CLOCK_MONOTONIC when pcpu_get_cpu() returned */
	pthread_t thread;
};

static void *taker_thread(void *argp)
{
	struct taker *tk = argp;
	double w0, c0;

	tu_pin(tk->cpu);
	w0 = now(CLOCK_MONOTONIC);
	c0 = now(CLOCK_THREAD_CPUTIME_ID);
	tk->got = pcpu_get_cpu();
	tk->cpu_time = now(CLOCK_THREAD_CPUTIME_ID) - c0;
	tk->got_at = now(CLOCK_MONOTONIC);
	tk->waited = tk->got_at - w0;
	__atomic_store_n(&tk->done, 1, __ATOMIC_RELEASE);
	pcpu_put_cpu();
	return NULL;
}

static void taker_start(struct taker *tk, unsigned int cpu)
{
	memset(tk, 0, sizeof(*tk));
	tk->cpu = cpu;
	CHECK_EQ(pthread_create(&tk->thread, NULL, taker_thread, tk), 0);
}

static int taker_done(struct taker *tk)
{
	return __atomic_load_n(&tk->done, __ATOMIC_ACQUIRE);
}

/* ---- (2) nesting ---- */
static void test_nesting(void)
{
	unsigned int c1, c2, c3;
	struct taker tk;

	c1 = pcpu_get_cpu();
	tu_pin(other_cpu(c1));
	c2 = pcpu_get_cpu();  /* on another CPU now, still the held one */
	CHECK_EQ(c2, c1);
	c3 = pcpu_get_cpu();
	CHECK_EQ(c3, c1);
	pcpu_put_cpu();
	pcpu_put_cpu();
	/* still held at depth 1: a thread on c1 waits */
	taker_start(&tk, c1);
	sleep_ms(30);
	CHECK(!taker_done(&tk));
	pcpu_put_cpu();
	pthread_join(tk.thread, NULL);
	CHECK(taker_done(&tk));
	CHECK_EQ(tk.got, c1);
	tu_unpin();
}

/* ---- (3) contention sleeps ---- */
static void test_contention_sleeps(void)
{
	unsigned int c = pcpu_get_cpu();
	struct taker tk;
	double put_at;

	tu_pin(other_cpu(c)); /* the hold stays with c wherever the holder runs */
	taker_start(&tk, c);
	sleep_ms(50);
	CHECK(!taker_done(&tk));
	put_at = now(CLOCK_MONOTONIC);
	pcpu_put_cpu();
	pthread_join(tk.thread, NULL);
	CHECK_EQ(tk.got, c);
	fprintf(stderr, "contention: waited %.1f ms, used %.3f ms of CPU\n", tk.waited * 1e3,
		tk.cpu_time * 1e3);
	/* it got the CPU only once released: not a wall-clock bound, which a loaded
	 * machine that starts the taker late makes fail (the taker may have waited
	 * less than the 50 ms slept here) */
	CHECK(tk.got_at >= put_at);
	CHECK(tk.cpu_time < 0.005);
	tu_unpin();
}

/* ---- (4) signal handlers nest ----
 * The target thread updates data[0] between get and put; a handler interrupting it
 * (anywhere: inside the section, inside pcpu_get_cpu()/pcpu_put_cpu(), outside) updates
 * data[1] of the CPU it gets, and must get the held CPU when it interrupts a holder.  A
 * rival thread updates both, so the handler's section also excludes another thread.
 * (The handler must not update data[0]: nesting keeps other threads out, not the
 * interrupted code of its own thread, as with the kernel's get_cpu() and interrupts.) */
static struct pair *sig_data;
static volatile unsigned int sig_holding;  /* the target's held CPU + 1, or 0 */
static volatile long sig_handled, sig_wrong_cpu; /* written by the handler only */
static int sig_stop;

static void on_signal(int sig)
{
	unsigned int held = sig_holding;
	unsigned int cpu = pcpu_get_cpu();
	struct pair *p = &pcpu_ptr(sig_data, cpu)[1];
	long a = p->a;

	(void)sig;
	if (held && cpu != held - 1)
		sig_wrong_cpu++;
	delay(10);
	p->a = a + 1;
	p->b++;
	pcpu_put_cpu();
	sig_handled++;
}

static void *sig_target(void *arg)
{
	long iters = *(long *)arg;

	tu_pin(cpus[0]);
	pcpu_get_cpu(); /* the thread's first use, outside a handler */
	pcpu_put_cpu();
	for (long i = 0; i < iters; i++) {
		unsigned int cpu = pcpu_get_cpu();
		struct pair *p = pcpu_ptr(sig_data, cpu);
		long a;

		sig_holding = cpu + 1;
		a = p->a;
		delay(10);
		p->a = a + 1;
		p->b++;
		sig_holding = 0;
		pcpu_put_cpu();
	}
	__atomic_store_n(&sig_stop, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void *sig_rival(void *arg)
{
	long n = 0;

	(void)arg;
	tu_pin(cpus[0]);
	while (!__atomic_load_n(&sig_stop, __ATOMIC_RELAXED)) {
		struct pair *p = pcpu_get_cpu_ptr(sig_data);
		long a0 = p[0].a, a1 = p[1].a;
		delay(10);
		p[0].a = a0 + 1;
		p[1].a = a1 + 1;
		p[0].b++;
		p[1].b++;
		pcpu_put_cpu_ptr(sig_data);
		n++;
	}
	return (void *)n;
}

static void test_signal_nesting(void)
{
	struct sigaction sa;
	pthread_t target, rival;
	long iters = tu_scaled(10000000), sent = 0, rival_n, sum[2] = { 0, 0 };
	double t0 = now(CLOCK_MONOTONIC);
	void *ret;
	unsigned int cpu;

	sig_data = pcpu_alloc(2 * sizeof(struct pair), __alignof__(struct pair));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: futex waits see EINTR too */
	sigaction(SIGUSR1, &sa, NULL);
	/* All three on one CPU: the sender's wake-ups preempt the target at random points
	 * and the signal is handled there when it resumes; the rival contends for the
	 * same CPU's lock, so the target also sleeps in pcpu_get_cpu(). */
	tu_pin(cpus[0]);
	CHECK_EQ(pthread_create(&target, NULL, sig_target, &iters), 0);
	CHECK_EQ(pthread_create(&rival, NULL, sig_rival, NULL), 0);
	while (!__atomic_load_n(&sig_stop, __ATOMIC_RELAXED)) {
		if (pthread_kill(target, SIGUSR1) == 0)
			sent++;
		sleep_us(20);
	}
	tu_unpin();
	pthread_join(target, NULL);
	pthread_join(rival, &ret);
	rival_n = (long)ret;
	signal(SIGUSR1, SIG_DFL);
	pcpu_for_each_possible_cpu(cpu) {
		struct pair *p = pcpu_ptr(sig_data, cpu);
		for (int i = 0; i < 2; i++) {
			CHECK_EQ(p[i].a, p[i].b);
			sum[i] += p[i].a;
		}
	}
	fprintf(stderr, "signals: %ld sent, %ld handled, rival %ld sections, %.2f s\n", sent,
		sig_handled, rival_n, now(CLOCK_MONOTONIC) - t0);
	CHECK(sig_handled > 0);
	CHECK_EQ(sig_wrong_cpu, 0);
	CHECK_EQ(sum[0], iters + rival_n);
	CHECK_EQ(sum[1], sig_handled + rival_n);
	pcpu_free(sig_data);
}

/* ---- (5) misuse ---- */
/* Runs @fn in a child (tu_in_child); returns its stderr in @buf and its wait status. */
struct thunk {
	void (*fn)(void);
};

static void run_thunk(void *arg)
{
	((struct thunk *)arg)->fn();
}

static int in_child(void (*fn)(void), char *buf, size_t size)
{
	struct thunk t = { fn };

	return tu_in_child(run_thunk, &t, buf, size);
}

static void put_without_get(void)
{
	pcpu_put_cpu();
}

static void put_twice(void)
{
	pcpu_get_cpu();
	pcpu_get_cpu();
	pcpu_put_cpu();
	pcpu_put_cpu();
	pcpu_put_cpu();
}

static void expect_abort(const char *name, void (*fn)(void), const char *want)
{
	char buf[4096];
	int status = in_child(fn, buf, sizeof(buf));

	if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT) || !strstr(buf, want))
		fprintf(stderr, "%s: status %#x, stderr \"%s\", wanted \"%s\"\n", name, status,
			buf, want);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	CHECK(strstr(buf, want) != NULL);
}

static void *exit_holding(void *arg)
{
	*(unsigned int *)arg = pcpu_get_cpu();
	pcpu_get_cpu();
	return NULL;
}

static void thread_exits_holding(void)
{
	unsigned int c = 0;
	pthread_t t;

	pthread_create(&t, NULL, exit_holding, &c);
	pthread_join(t, NULL);
	tu_pin(c);
	if (pcpu_get_cpu() != c) /* does not wait: the exit released it */
		_exit(3);
	pcpu_put_cpu();
}

static void test_misuse(void)
{
	char buf[4096];
	int status;

	expect_abort("put without get", put_without_get,
		     "libpercpu: pcpu_put_cpu: no matching pcpu_get_cpu() in this thread");
	expect_abort("put twice", put_twice, "libpercpu: pcpu_put_cpu: no matching");
	status = in_child(thread_exits_holding, buf, sizeof(buf));
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) || !strstr(buf, "exited holding"))
		fprintf(stderr, "exit holding: status %#x, stderr \"%s\"\n", status, buf);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(strstr(buf, "libpercpu: pcpu_get_cpu: thread ") != NULL);
	CHECK(strstr(buf, "exited holding CPU") != NULL);
}

/* ---- (6) fork ---- */
static int child_status(pid_t pid)
{
	int status;

	waitpid(pid, &status, 0);
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		fprintf(stderr, "child status %#x\n", status);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int parked_stop;

static void *hold_parked(void *arg)
{
	tu_pin(*(unsigned int *)arg);
	*(unsigned int *)arg = pcpu_get_cpu();
	__atomic_store_n(&parked_stop, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&parked_stop, __ATOMIC_ACQUIRE) != 2)
		sleep_ms(1);
	pcpu_put_cpu();
	return NULL;
}

static void test_fork(void)
{
	unsigned int c = pcpu_get_cpu(), d;
	pthread_t t;
	pid_t pid;

	CHECK_EQ(pcpu_get_cpu(), c);
	/* Single-threaded parent: the child's thread holds c, another thread waits for it. */
	pid = fork();
	if (pid == 0) {
		struct taker tk;
		alarm(10);
		taker_start(&tk, c);
		sleep_ms(30);
		if (taker_done(&tk))
			_exit(2);
		pcpu_put_cpu();
		pcpu_put_cpu();
		pthread_join(tk.thread, NULL);
		if (tk.got != c)
			_exit(3);
		pcpu_get_cpu();
		pcpu_put_cpu();
		_exit(0);
	}
	CHECK(child_status(pid));

	/* Another thread of the parent holds d: in the child, d is free, c still held. */
	d = other_cpu(c);
	if (d != c) {
		CHECK_EQ(pthread_create(&t, NULL, hold_parked, &d), 0);
		while (__atomic_load_n(&parked_stop, __ATOMIC_ACQUIRE) != 1)
			sleep_ms(1);
		pid = fork();
		if (pid == 0) {
			alarm(10);
			if (pcpu_get_cpu() != c) /* nests */
				_exit(2);
			pcpu_put_cpu();
			pcpu_put_cpu();
			pcpu_put_cpu();
			tu_pin(d);
			if (pcpu_get_cpu() != d) /* free in the child */
				_exit(3);
			pcpu_put_cpu();
			_exit(0);
		}
		CHECK(child_status(pid));
		__atomic_store_n(&parked_stop, 2, __ATOMIC_RELEASE);
		pthread_join(t, NULL);
	}
	pcpu_put_cpu();
	pcpu_put_cpu();
	tu_unpin();
}

/* ---- (7) kernel names ---- */
static DEFINE_PER_CPU(long, kernel_hits);

static void test_kernel_names(void)
{
	long __percpu *dyn = alloc_percpu(long);
	long sum_static = 0, sum_dyn = 0;
	int cpu, inner;

	cpu = get_cpu();
	CHECK(cpu >= 0 && (unsigned int)cpu < nr_cpu_ids);
	get_cpu_var(kernel_hits)++;           /* nests: the held CPU's copy */
	CHECK_EQ(per_cpu(kernel_hits, cpu), 1);
	put_cpu_var(kernel_hits);
	*get_cpu_ptr(dyn) += 5;
	inner = get_cpu();
	CHECK_EQ(inner, cpu);
	put_cpu();
	CHECK_EQ(*per_cpu_ptr(dyn, cpu), 5);
	put_cpu_ptr(dyn);
	put_cpu();
	for (int i = 0; i < 100; i++) {
		get_cpu_var(kernel_hits) += 2;
		put_cpu_var(kernel_hits);
	}
	for_each_possible_cpu(cpu) {
		sum_static += per_cpu(kernel_hits, cpu);
		sum_dyn += *per_cpu_ptr(dyn, cpu);
	}
	CHECK_EQ(sum_static, 201);
	CHECK_EQ(sum_dyn, 5);
	free_percpu(dyn);
}

int main(void)
{
	alarm(120); /* a lost wake-up fails the test instead of hanging the suite */
	CHECK_EQ(pcpu_init(), 0);
	nr_cpus = tu_usable_cpus(cpus, 1024);
	fprintf(stderr, "%u usable CPU(s)\n", nr_cpus);
	test_nesting();
	test_contention_sleeps();
	test_exclusion();
	test_signal_nesting();
	test_misuse();
	test_fork();
	test_kernel_names();
	TEST_DONE();
}
