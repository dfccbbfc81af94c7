/* SPDX-License-Identifier: MIT */
/* test_this_cpu.c - the this_cpu operations.  (1) Every operation and width against its
 * definition, on a thread pinned to each CPU in turn: the copy of that CPU changes as
 * the definition says, every other copy and the neighbouring bytes stay as they were.
 * (2) Exactness under migration and signals: threads run millions of inc / add /
 * add_return / try_cmpxchg loops while another thread moves them between CPUs and
 * interrupts them with signals whose handler also uses this_cpu operations; the sum over
 * all CPUs must equal the number of updates exactly.  Then again with every section
 * widened through the test hook, where no signal may find a commit window outside its
 * section.  The whole test runs in each mode:
 * glibc's rseq, the library's own rseq registration, and the atomic fallback. */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The test hook of percpu/arch/x86_64.h.  In the widened exactness run every section
 * turns `widen` times in a loop at its start and again right before its commit, so that
 * preemption, migration and signals land inside sections far more often.  The loop
 * before the commit (point 2) travels with the commit, and publishes its own address
 * in `window` while it runs: a signal handler that finds itself delivered inside that
 * loop, instead of at an abort handler, has caught a commit window outside the section
 * (a misplaced commit), which loses no update when the commit is a single
 * read-modify-write instruction, and is counted as an escape.
 * The loop is exactly WINDOW_BYTES long (decl %r10d: 3 bytes, jns: 2), so that no
 * other code is taken for it: `window` stays set when the kernel aborts the section
 * in the loop for a preemption, and the code after the section (the result test, the
 * retry) lies a few bytes further on, where a signal then may land. */
#include <stdint.h>
#include <ucontext.h>
static int widen;
static __thread uintptr_t window;
#define PCPU_RSEQ_INJECT_INPUT , [widen] "m"(widen), [window] "m"(window)
#define PCPU_RSEQ_INJECT_CLOBBER , "r10", "r11"
#define PCPU_RSEQ_INJECT_ASM(n)                                                         \
	"movl %[widen], %%r10d\n\t"                                                  \
	".if " #n " == 2\n\t"                                                         \
	"leaq 9f(%%rip), %%r11\n\t"                                                   \
	"movq %%r11, %[window]\n\t"                                                   \
	".endif\n\t"                                                                  \
	"9:\n\t"                                                                      \
	"decl %%r10d\n\t"                                                             \
	"jns 9b\n\t"                                                                  \
	".if " #n " == 2\n\t"                                                         \
	"movq $0, %[window]\n\t"                                                      \
	".endif\n\t"
#define WINDOW_BYTES 5 /* the loop: decl %r10d (41 ff ca), jns 9b (79 fb) */

#include "percpu.h"
#include "testutil.h"

struct widths {
	uint8_t b;
	uint8_t guard1;
	uint16_t w;
	uint32_t l;
	uint64_t q;
	void *ptr;
	uint64_t pair[2] __attribute__((aligned(16)));
};

PCPU_DEFINE(struct widths, static_w);

/* Checks that only @cpu's copy differs from the model @m (same for every CPU but cpu). */
static void expect(struct widths *w, unsigned int cpu, const struct widths *mine,
		   const struct widths *others)
{
	unsigned int c;

	pcpu_for_each_possible_cpu(c) {
		const struct widths *got = pcpu_ptr(w, c);
		CHECK(memcmp(got, c == cpu ? mine : others, sizeof(*got)) == 0);
	}
}

static void definitions(struct widths *w, const char *what)
{
	unsigned int cpu, c;
	struct widths zero, m;

	memset(&zero, 0, sizeof(zero));
	(void)tu_allowed_cpus(); /* before pinning */
	for (unsigned int i = 0; i < tu_nr_allowed_cpus(); i++) {
		unsigned int self;

		cpu = tu_nth_allowed_cpu(i);
		if (tu_pin(cpu) != 0)
			continue;
		/* pinned: the library and the kernel both say this CPU; in cid mode the
		 * library says the ID of this thread, the only one running */
		self = tu_index_cid() ? pcpu_current_cpu() : cpu;
		CHECK(self < pcpu_nr_cpu_ids());
		CHECK_EQ(pcpu_current_cpu(), self);
		CHECK_EQ(sched_getcpu(), (int)cpu);
		pcpu_for_each_possible_cpu(c)
			memset(pcpu_ptr(w, c), 0, sizeof(*w));
		m = zero;

		pcpu_this_write(w->b, 250);
		m.b = 250;
		pcpu_this_add(w->b, 10); /* wraps: 4 */
		m.b = 4;
		CHECK_EQ(pcpu_this_read(w->b), 4);
		CHECK_EQ(pcpu_this_add_return(w->b, 3), 7);
		m.b = 7;
		pcpu_this_dec(w->b);
		m.b = 6;
		CHECK_EQ(pcpu_this_xchg(w->b, 0x81), 6);
		m.b = 0x81;
		pcpu_this_and(w->b, 0x0f);
		m.b = 0x01;
		pcpu_this_or(w->b, 0x30);
		m.b = 0x31;

		pcpu_this_write(w->w, 65535);
		pcpu_this_inc(w->w); /* wraps to 0 */
		CHECK_EQ(pcpu_this_inc_return(w->w), 1);
		CHECK_EQ(pcpu_this_sub_return(w->w, 3), 65534);
		m.w = 65534;

		pcpu_this_add(w->l, 100000);
		pcpu_this_sub(w->l, 1);
		CHECK_EQ(pcpu_this_dec_return(w->l), 99998);
		CHECK_EQ(pcpu_this_cmpxchg(w->l, 5, 6), 99998); /* no match: unchanged */
		CHECK_EQ(pcpu_this_cmpxchg(w->l, 99998, 7), 99998);
		m.l = 7;
		uint32_t old = 1;
		CHECK(!pcpu_this_try_cmpxchg(w->l, &old, 9));
		CHECK_EQ(old, 7);
		CHECK(pcpu_this_try_cmpxchg(w->l, &old, 9));
		m.l = 9;

		pcpu_this_write(w->q, 1ull << 40);
		pcpu_this_add(w->q, -1);
		m.q = (1ull << 40) - 1;
		CHECK_EQ(pcpu_this_read(w->q), m.q);

		pcpu_this_write(w->ptr, &m);
		CHECK(pcpu_this_xchg(w->ptr, (void *)w) == &m);
		CHECK(pcpu_this_cmpxchg(w->ptr, (void *)w, NULL) == (void *)w);
		m.ptr = NULL;

		CHECK(pcpu_this_cmpxchg_double(w->pair[0], w->pair[1], 0, 0, 11, 22));
		CHECK(!pcpu_this_cmpxchg_double(w->pair[0], w->pair[1], 11, 0, 33, 44));
		m.pair[0] = 11;
		m.pair[1] = 22;

		CHECK_EQ(pcpu_current_cpu(), self);
		expect(w, self, &m, &zero);
		fprintf(stderr, "  %s: definitions hold on CPU %u (index %u)\n", what, cpu, self);
	}
	tu_unpin();
}

/* ---- a misplaced cmpxchg_double pair is rejected ---- */

static uint64_t *bad_pair; /* 16-byte aligned per-CPU memory, 32 bytes */

static void misaligned_pair(int fd)
{
	uint64_t *x = bad_pair + 1; /* adjacent, but at 8 mod 16 */

	tu_say(fd, x);
	(void)pcpu_this_cmpxchg_double(x[0], x[1], 0, 0, 1, 2);
}

static void distant_pair(int fd)
{
	tu_say(fd, &bad_pair[2]);
	(void)pcpu_this_cmpxchg_double(bad_pair[0], bad_pair[2], 0, 0, 1, 2);
}

/* ---- objects that are not per-CPU ---------------------------------------------------- */

/* Plain memory next to per-CPU objects: the inline check that an object is per-CPU
 * (arena or this object's static section, x86_64.h's __pcpu_canon_at) must send each
 * of these to the library, which reports it by name, instead of updating memory at its
 * address plus a unit offset. */
static uint64_t plain_q;
static uint32_t plain_l;
static uint64_t *loop_objs[8];

static void plain_inc(int fd)
{
	tu_say(fd, &plain_q);
	pcpu_this_inc(plain_q);
}

static void plain_read(int fd)
{
	tu_say(fd, &plain_l);
	(void)pcpu_this_read(plain_l);
}

/* In a loop of eight objects, the sixth plain: the check is the sixth object's own,
 * not one shared with the per-CPU objects beside it. */
static void plain_in_loop(int fd)
{
	uint64_t *a = loop_objs[0], *b = loop_objs[1], *c = loop_objs[2], *d = loop_objs[3];
	uint64_t *e = loop_objs[4], *f = &plain_q, *g = loop_objs[6], *h = loop_objs[7];

	tu_say(fd, f);
	for (int i = 0; i < 1000; i++) {
		pcpu_this_inc(*a); pcpu_this_inc(*b); pcpu_this_inc(*c); pcpu_this_inc(*d);
		pcpu_this_inc(*e); pcpu_this_inc(*f); pcpu_this_inc(*g); pcpu_this_inc(*h);
	}
}

static void not_percpu(void)
{
	for (int i = 0; i < 8; i++)
		CHECK((loop_objs[i] = pcpu_alloc_type(uint64_t)) != NULL);
	tu_expect_abort("inc of plain memory", plain_inc, "this_cpu operation");
	tu_expect_abort("read of plain memory", plain_read, "this_cpu operation");
	tu_expect_abort("plain memory among per-CPU objects", plain_in_loop, "this_cpu operation");
	for (int i = 0; i < 8; i++)
		pcpu_free(loop_objs[i]);
}

/* Both abort with "libpercpu: this_cpu_cmpxchg_double: ADDRESS: ..." instead of running
 * the operation on the wrong words. */
static void bad_double(void)
{
	bad_pair = (uint64_t *)pcpu_alloc(32, 16);
	CHECK(bad_pair != NULL);
	tu_expect_abort("misaligned pair", misaligned_pair, "this_cpu_cmpxchg_double");
	tu_expect_abort("distant pair", distant_pair, "this_cpu_cmpxchg_double");
	/* the aligned pair works */
	CHECK(pcpu_this_cmpxchg_double(bad_pair[0], bad_pair[1], 0, 0, 1, 2));
	pcpu_free(bad_pair);
}

/* ---- exactness under migration and signals ---- */
#define THREADS 3
#ifndef WIDEN
#define WIDEN 100 /* loop turns at each injection point */
#endif
#ifndef WIDE_ITERATIONS
#define WIDE_ITERATIONS 100000
#endif

struct counters {
	uint64_t inc, add, ret, cas;
	uint32_t narrow;
	uint64_t sig;
};

static struct counters *ctr;
static long iterations;
static int stop;
static pthread_t workers[THREADS];
static uint64_t handled[THREADS];
static __thread int my_id = -1;

static long escapes, window_aborts;
static int in_sections; /* this_cpu operations run as rseq sections in this mode */
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

static void on_signal(int sig, siginfo_t *si, void *uc_)
{
#if defined(__x86_64__)
	uintptr_t ip = (uintptr_t)((ucontext_t *)uc_)->uc_mcontext.gregs[REG_RIP];
#else
	uintptr_t ip = 0; /* no rseq sections elsewhere: no window is ever set */
	(void)uc_;
#endif
	uintptr_t w = window;

	(void)sig;
	(void)si;
	if (w) {
		/* delivered while a point-2 loop ran: the kernel must have aborted it */
		if (ip - w < WINDOW_BYTES)
			__atomic_fetch_add(&escapes, 1, __ATOMIC_RELAXED);
		else
			__atomic_fetch_add(&window_aborts, 1, __ATOMIC_RELAXED);
		window = 0;
	}
	pcpu_this_inc(ctr->sig);
	pcpu_this_add(ctr->add, 2);
	/* a compare-and-store on what the workers compare-and-store: an update of theirs
	 * whose commit a signal could slip before would overwrite this one */
	(void)pcpu_this_add_return(ctr->ret, 1);
	/* any thread may take it, a worker before it set my_id too: count them all */
	__atomic_fetch_add(&handled[my_id >= 0 ? my_id : 0], 1, __ATOMIC_RELAXED);
}

static void *worker(void *arg)
{
	struct sigevent sev;
	struct itimerspec its = { .it_interval = { 0, 50000 }, .it_value = { 0, 50000 } };
	timer_t timer;

	my_id = (int)(intptr_t)arg;
	/* a signal every 50 us, delivered to this thread: they
	 * land inside critical sections often */
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGUSR1;
	sev._sigev_un._tid = (pid_t)gettid();
	CHECK_EQ(timer_create(CLOCK_MONOTONIC, &sev, &timer), 0);
	CHECK_EQ(timer_settime(timer, 0, &its, NULL), 0);
	for (long i = 0; i < iterations; i++) {
		pcpu_this_inc(ctr->inc);
		pcpu_this_add(ctr->add, 3);
		(void)pcpu_this_add_return(ctr->ret, 1);
		uint64_t old = pcpu_this_read(ctr->cas);
		while (!pcpu_this_try_cmpxchg(ctr->cas, &old, old + 1))
			;
		pcpu_this_inc(ctr->narrow);
	}
	timer_delete(timer);
	return NULL;
}

static void *disturber(void *arg)
{
	/* real CPUs, not pcpu_nr_cpu_ids(): in cid mode that counts IDs */
	unsigned int k = 0;
	(void)arg;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		for (int t = 0; t < THREADS; t++) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(tu_nth_allowed_cpu(k + (unsigned)t), &set);
			pthread_setaffinity_np(workers[t], sizeof(set), &set);
			pthread_kill(workers[t], SIGUSR1);
		}
		k++;
		sched_yield();
	}
	return NULL;
}

static void exactness(const char *what)
{
	pthread_t d;
	struct counters sum = { 0 };
	uint64_t sigs = 0;
	unsigned int cpu;

	ctr = pcpu_alloc_type(struct counters);
	CHECK(ctr != NULL);
	stop = 0;
	for (int t = 0; t < THREADS; t++)
		handled[t] = 0;
	for (int t = 0; t < THREADS; t++)
		pthread_create(&workers[t], NULL, worker, (void *)(intptr_t)t);
	pthread_create(&d, NULL, disturber, NULL);
	for (int t = 0; t < THREADS; t++)
		pthread_join(workers[t], NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(d, NULL);
	for (int t = 0; t < THREADS; t++)
		sigs += handled[t];

	pcpu_for_each_possible_cpu(cpu) {
		const struct counters *c = pcpu_ptr(ctr, cpu);
		sum.inc += c->inc;
		sum.add += c->add;
		sum.ret += c->ret;
		sum.cas += c->cas;
		sum.narrow += c->narrow;
		sum.sig += c->sig;
	}
	uint64_t n = (uint64_t)THREADS * (uint64_t)iterations;
	fprintf(stderr, "  %s: %lu updates per counter, %lu signals handled\n", what,
		(unsigned long)n, (unsigned long)sigs);
	CHECK_EQ(sum.inc, n);
	CHECK_EQ(sum.add, 3 * n + 2 * sum.sig);
	CHECK_EQ(sum.ret, n + sum.sig);
	CHECK_EQ(sum.cas, n);
	CHECK_EQ(sum.narrow, (uint32_t)n);
	CHECK_EQ(sum.sig, sigs);
	if (widen) {
		fprintf(stderr, "  %s: %ld signals inside commit windows aborted them, %ld did not\n",
			what, window_aborts, escapes);
		CHECK_EQ(escapes, 0);
		/* signals do land there (ThreadSanitizer delays handlers to its own points) */
		if (in_sections && !UNDER_TSAN)
			CHECK(window_aborts > 0);
	}
	pcpu_free(ctr);
}

static int run_mode(const char *want)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	fprintf(stderr, "mode: %s\n", pcpu_cpu_source());
	CHECK(tu_source_is(want));
#ifdef __PCPU_HAVE_RSEQ_OPS
	in_sections = strstr(pcpu_cpu_source(), "registration") != NULL;
#else
	in_sections = 0; /* built with -DPCPU_NO_RSEQ_OPS: every operation is the fallback */
#endif

	struct widths *w = pcpu_alloc_type(struct widths);
	definitions(w, "dynamic");
	pcpu_free(w);
	definitions(&static_w, "static");
	bad_double();
	not_percpu();
	iterations = tu_scaled(3000000);
	exactness("dynamic counters");
	/* again with wide sections: fewer iterations, each takes far longer */
	iterations = tu_scaled(WIDE_ITERATIONS);
	widen = WIDEN;
	escapes = window_aborts = 0;
	exactness("dynamic counters, widened sections");
	widen = 0;
	return tu_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	return tu_run_modes_cid(argc, argv, run_mode);
}
