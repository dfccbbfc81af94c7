/* SPDX-License-Identifier: MIT */
/* testutil.h - the helpers test programs share: checks that report the file, line and
 * expression, a seeded random generator (seed printed, PCPU_TEST_SEED reproduces a run),
 * the runs in each CPU-source mode, pinning to CPUs, and stamping per-CPU objects with a
 * pattern that shows whether anything else wrote over them. */
#ifndef PCPU_TESTUTIL_H
#define PCPU_TESTUTIL_H

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A test program that is not linked with libpercpu (dso_nodelete) defines
 * TU_WITHOUT_LIBPERCPU: the helpers that call the library are left out. */
#ifndef TU_WITHOUT_LIBPERCPU
#include "percpu.h"
#endif

static int tu_failures __attribute__((unused));

#define CHECK(cond)                                                                 \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,      \
				__LINE__, #cond);                                   \
			tu_failures++;                                              \
			if (tu_failures > 20)                                       \
				abort();                                            \
		}                                                                   \
	} while (0)

#define CHECK_EQ(a, b)                                                              \
	do {                                                                        \
		long long tu_a = (long long)(a), tu_b = (long long)(b);             \
		if (tu_a != tu_b) {                                                 \
			fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n", \
				__FILE__, __LINE__, #a, tu_a, #b, tu_b);            \
			tu_failures++;                                              \
			if (tu_failures > 20)                                       \
				abort();                                            \
		}                                                                   \
	} while (0)

/* Ends a test program: exit status 0 only if no check failed. */
#define TEST_DONE()                                                                 \
	do {                                                                        \
		if (tu_failures) {                                                  \
			fprintf(stderr, "%d check(s) failed\n", tu_failures);       \
			return 1;                                                   \
		}                                                                   \
		return 0;                                                           \
	} while (0)

static uint64_t tu_rng_state __attribute__((unused));

static inline uint64_t tu_rand(void)
{
	/* splitmix64 */
	uint64_t z = (tu_rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t tu_seed(const char *test)
{
	const char *s = getenv("PCPU_TEST_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)clock();
	tu_rng_state = seed;
	fprintf(stderr, "%s: seed %" PRIu64 " (set PCPU_TEST_SEED to repeat)\n", test, seed);
	return seed;
}

/* A "Vm...:" figure of /proc/self/status in KiB (@field "VmRSS", "VmSize", ...), or -1. */
static inline long tu_status_kib(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	size_t len = strlen(field);
	char line[256];
	long kib = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':' &&
		    sscanf(line + len + 1, "%ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

/* The process's resident memory in KiB (VmRSS), or -1. */
static inline long tu_rss_kib(void)
{
	return tu_status_kib("VmRSS");
}

/* Scales iteration counts: PCPU_TEST_SCALE=0.1 for quick runs under heavy sanitizers. */
static inline long tu_scaled(long n)
{
	const char *s = getenv("PCPU_TEST_SCALE");
	double f = s ? atof(s) : 1.0;
	long r = (long)(n * f);
	return r > 0 ? r : 1;
}

#ifndef TU_WITHOUT_LIBPERCPU
/* The sum of every possible CPU's copy of the per-CPU u64 @p. */
static inline uint64_t tu_sum_u64(const uint64_t *p)
{
	uint64_t t = 0;
	unsigned int cpu;

	pcpu_for_each_possible_cpu(cpu)
		t += *pcpu_ptr(p, cpu);
	return t;
}
#endif

/* Binds the calling thread to @cpu alone.  0, or -1 with errno. */
static inline int tu_pin(unsigned int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* The CPUs this process may run on, as the first call finds them: real CPU numbers,
 * whatever the library's index mode (in cid mode its "CPUs" are IDs). */
static inline const cpu_set_t *tu_allowed_cpus(void)
{
	static cpu_set_t allowed;
	static int known;

	if (!__atomic_load_n(&known, __ATOMIC_ACQUIRE)) {
		cpu_set_t set;

		if (sched_getaffinity(0, sizeof(set), &set) != 0) {
			CPU_ZERO(&set);
			CPU_SET(0, &set);
		}
		allowed = set;
		__atomic_store_n(&known, 1, __ATOMIC_RELEASE);
	}
	return &allowed;
}

static inline unsigned int tu_nr_allowed_cpus(void)
{
	return (unsigned int)CPU_COUNT(tu_allowed_cpus());
}

/* The @i-th allowed CPU (i taken modulo their number). */
static inline unsigned int tu_nth_allowed_cpu(unsigned int i)
{
	unsigned int n = i % tu_nr_allowed_cpus();

	for (unsigned int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, tu_allowed_cpus()) && n-- == 0)
			return cpu;
	return 0;
}

/* Undoes tu_pin(): the calling thread may run on every allowed CPU again.  0, or -1
 * with errno. */
static inline int tu_unpin(void)
{
	return sched_setaffinity(0, sizeof(cpu_set_t), tu_allowed_cpus());
}

/* execv(@path, @argv), or under PCPU_TEST_RUNNER (make check-cross: qemu-user, which
 * cannot start another architecture's binary by itself without binfmt_misc).  Returns
 * only on failure. */
static inline void tu_execv(const char *path, char *const argv[])
{
	const char *runner = getenv("PCPU_TEST_RUNNER");
	char *rargv[32];
	int i;

	if (!runner || !*runner) {
		execv(path, argv);
		return;
	}
	rargv[0] = (char *)runner;
	rargv[1] = (char *)path;
	for (i = 1; argv[i] && i < 30; i++)
		rargv[i + 1] = argv[i];
	rargv[i + 1] = NULL;
	execvp(runner, rargv);
}

/* Starts this test program again as "@self @mode" with @env=@value set, without
 * waiting: returns the child for tu_wait_mode().  Long tests run their modes side by
 * side this way. */
static inline pid_t tu_start_mode(char *self, const char *mode, const char *env, const char *value)
{
	pid_t pid = fork();

	if (pid == 0) {
		char *argv[] = { self, (char *)mode, NULL };

		setenv(env, value, 1);
		tu_execv(self, argv);
		_exit(127);
	}
	return pid;
}

/* Waits for the child of tu_start_mode() and checks that it passed. */
static inline void tu_wait_mode(pid_t pid, const char *mode)
{
	int status = 0;

	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		status = 0x7f00; /* could not run it: a failure */
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		fprintf(stderr, "mode %s failed (status %#x)\n", mode, status);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Runs this test program again as "@self @mode" with @env=@value set, and checks that
 * it passed: the way each test repeats itself in another CPU-source mode. */
static inline void tu_spawn_mode(char *self, const char *mode, const char *env, const char *value)
{
	tu_wait_mode(tu_start_mode(self, mode, env, value), mode);
}

/* Runs @fn(@arg) in a forked child with its stderr in @buf (NUL-terminated) and returns
 * its wait status: exit 0 if @fn returns without a failed check, 1 if one failed.
 * SIGABRT is the default action in the child, and a child that hangs dies of SIGALRM
 * after 60 s instead of stopping the test. */
static inline int tu_in_child(void (*fn)(void *), void *arg, char *buf, size_t size)
{
	int err[2], status;
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	CHECK_EQ(pipe(err), 0);
	pid = fork();
	if (pid == 0) {
		close(err[0]);
		dup2(err[1], 2);
		signal(SIGABRT, SIG_DFL);
		alarm(60);
		tu_failures = 0; /* the child's status speaks of its own checks only */
		fn(arg);
		_exit(tu_failures ? 1 : 0);
	}
	close(err[1]);
	while (n < size - 1 && (r = read(err[0], buf + n, size - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	close(err[0]);
	waitpid(pid, &status, 0);
	return status;
}

struct tu_abort_ctx {
	void (*fn)(int fd);
	int pipe[2];
};

static inline void tu_abort_child(void *arg)
{
	struct tu_abort_ctx *ctx = (struct tu_abort_ctx *)arg;

	close(ctx->pipe[0]);
	ctx->fn(ctx->pipe[1]);
}

/* Runs @fn in a child and checks it aborts (SIGABRT) with a "libpercpu: " message on
 * stderr containing @want and the address the child reports through the pipe @fn gets
 * (tu_say).  For misuse that the library must report rather than crash on. */
static inline void tu_expect_abort(const char *name, void (*fn)(int fd), const char *want)
{
	struct tu_abort_ctx ctx = { fn, { -1, -1 } };
	char buf[4096], addr[64] = "";
	int status;
	ssize_t n;

	CHECK_EQ(pipe(ctx.pipe), 0);
	status = tu_in_child(tu_abort_child, &ctx, buf, sizeof(buf));
	close(ctx.pipe[1]);
	n = read(ctx.pipe[0], addr, sizeof(addr) - 1); /* written before the abort */
	addr[n > 0 ? n : 0] = '\0';
	close(ctx.pipe[0]);
	if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT))
		fprintf(stderr, "%s: child did not abort (status %#x)\n", name, status);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	if (!strstr(buf, want) || !strstr(buf, addr) || !strstr(buf, "libpercpu: "))
		fprintf(stderr, "%s: message \"%s\" lacks \"%s\" or address \"%s\"\n", name, buf,
			want, addr);
	CHECK(strstr(buf, want) != NULL);
	CHECK(strstr(buf, "libpercpu: ") != NULL);
	CHECK(addr[0] && strstr(buf, addr) != NULL);
}

/* For tu_expect_abort's @fn: reports address @p to the parent and closes the pipe. */
static inline void tu_say(int fd, const void *p)
{
	char s[64];
	int n = snprintf(s, sizeof(s), "%p", p);
	CHECK_EQ(write(fd, s, (size_t)n), n);
	close(fd);
}

/* Runs this test program again in the two other CPU-source modes (the library's own rseq
 * registration, and sched_getcpu), each child seeded from this run's generator. */
static inline void tu_spawn_modes(char *self)
{
	char seed[32];

	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)tu_rand());
	setenv("PCPU_TEST_SEED", seed, 1);
	tu_spawn_mode(self, "own", "GLIBC_TUNABLES", "glibc.pthread.rseq=0");
	tu_spawn_mode(self, "getcpu", "LIBPERCPU_CPU_SOURCE", "getcpu");
}

/* In a child started by tu_spawn_modes(): what pcpu_cpu_source() must contain in its
 * mode ("own" or "getcpu" in argv[1]).  NULL in the parent (or another mode). */
static inline const char *tu_mode_source(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "own") == 0)
		return "libpercpu registration";
	if (argc > 1 && strcmp(argv[1], "getcpu") == 0)
		return "sched_getcpu";
	return NULL;
}

/* The main() of a test that runs in every CPU-source mode: @run(@want) here with glibc's
 * rseq registration, then in child processes with the library's own registration and
 * with sched_getcpu (@want: what pcpu_cpu_source() must contain), each child with a seed
 * of its own from tu_rand(). */
#ifndef TU_WITHOUT_LIBPERCPU
static inline int tu_cid_child(int (*run)(const char *want), const char *want);
#endif

static inline int tu_run_modes(int argc, char **argv, int (*run)(const char *want))
{
	const char *want = tu_mode_source(argc, argv);

	if (want)
		return run(want);
#ifndef TU_WITHOUT_LIBPERCPU
	if (argc > 1 && strcmp(argv[1], "cid") == 0)
		return tu_cid_child(run, "glibc registration");
	if (argc > 1 && strcmp(argv[1], "cid-own") == 0)
		return tu_cid_child(run, "libpercpu registration");
#endif
	run("glibc registration");
	/* PCPU_TEST_SEED repeats the whole run: the children's seeds come from it */
	tu_spawn_modes(argv[0]);
	TEST_DONE();
}

/* Runs this test program again in cid mode (LIBPERCPU_INDEX=cid, units indexed by the
 * rseq concurrency ID) with glibc's and with the library's own registration: for the
 * tests whose exactness must hold there too.  The children are "cid" and "cid-own". */
static inline void tu_spawn_cid_modes(char *self)
{
	setenv("LIBPERCPU_INDEX", "cid", 1);
	tu_spawn_mode(self, "cid", "LIBPERCPU_INDEX", "cid");
	tu_spawn_mode(self, "cid-own", "GLIBC_TUNABLES", "glibc.pthread.rseq=0");
	unsetenv("LIBPERCPU_INDEX");
}

/* tu_run_modes(), then the two cid modes. */
static inline int tu_run_modes_cid(int argc, char **argv, int (*run)(const char *want))
{
	if (argc > 1)
		return tu_run_modes(argc, argv, run);
	run("glibc registration");
	tu_spawn_modes(argv[0]);
	tu_spawn_cid_modes(argv[0]);
	TEST_DONE();
}

/* Whether the CPU source @have (pcpu_cpu_source()'s text) names @want.  Where rseq is
 * unavailable (qemu-user, seccomp filters) only the sched_getcpu fallback can run: a mode
 * that expects rseq then says it skips that expectation instead of failing, and the
 * caller tests the fallback. */
/* Whether this kernel offers rseq to this process: an invalid registration is refused
 * with EINVAL where it does, ENOSYS (qemu-user, old kernels) or EPERM (seccomp) where not. */
static inline int tu_rseq_available(void)
{
	int saved = errno, ok = syscall(SYS_rseq, NULL, 0, 0, 0) == 0 || errno == EINVAL ||
			       errno == EBUSY;

	errno = saved;
	return ok;
}

static inline int tu_source_matches(const char *have, const char *want)
{
	if (strstr(have, want))
		return 1;
	/* only where rseq really is unavailable: a library that falls back to
	 * sched_getcpu on a kernel with rseq is wrong */
	if (strstr(have, "rseq unavailable") && strstr(want, "registration") &&
	    !tu_rseq_available()) {
		fprintf(stderr, "SKIP %s: rseq unavailable here; the fallback runs instead\n", want);
		return 1;
	}
	fprintf(stderr, "CPU source is %s, expected %s\n", have, want);
	return 0;
}

#ifndef TU_WITHOUT_LIBPERCPU
/* tu_source_matches() for this process's CPU source. */
static inline int tu_source_is(const char *want)
{
	return tu_source_matches(pcpu_cpu_source(), want);
}

/* Byte @i of CPU @cpu's copy of an object stamped @tag: differs between neighbouring
 * bytes, CPUs and tags, so a copy written through the wrong CPU, offset or object shows. */
static inline unsigned char tu_pattern(uint32_t tag, unsigned int cpu, size_t i)
{
	return (unsigned char)(tag ^ (tag >> 8) ^ (cpu * 13) ^ i);
}

/* Stamps every possible CPU's copy of the @size bytes at per-CPU pointer @p with @tag. */
static inline void tu_fill(void *p, size_t size, uint32_t tag)
{
	unsigned int cpu;

	pcpu_for_each_possible_cpu(cpu) {
		unsigned char *q = (unsigned char *)pcpu_ptr(p, cpu);

		for (size_t i = 0; i < size; i++)
			q[i] = tu_pattern(tag, cpu, i);
	}
}

/* Whether every possible CPU's copy still holds what tu_fill(@p, @size, @tag) wrote. */
static inline int tu_intact(void *p, size_t size, uint32_t tag)
{
	unsigned int cpu;

	pcpu_for_each_possible_cpu(cpu) {
		const unsigned char *q = (const unsigned char *)pcpu_ptr(p, cpu);

		for (size_t i = 0; i < size; i++)
			if (q[i] != tu_pattern(tag, cpu, i))
				return 0;
	}
	return 1;
}

/* The allowed CPUs (tu_allowed_cpus()) that the library knows as online, in ascending
 * order in @cpus (at most @max of them); checks that there is one.  Returns how many.
 * Call it before any tu_pin(): the allowed set is taken on first use. */
static inline unsigned int tu_usable_cpus(unsigned int *cpus, unsigned int max)
{
	unsigned int cpu, n = 0;

	pcpu_for_each_online_cpu(cpu)
		if (cpu < CPU_SETSIZE && CPU_ISSET(cpu, tu_allowed_cpus()) && n < max)
			cpus[n++] = cpu;
	CHECK(n > 0);
	return n;
}

/* Whether units are indexed by concurrency ID in this process. */
static inline int tu_index_cid(void)
{
	return pcpu_index_mode() == PCPU_INDEX_CID;
}

/* A cid-mode child: checks that cid mode is on where the kernel has mm_cid (and says it
 * skips that where not: cpu mode then runs), then runs @run(@want). */
static inline int tu_cid_child(int (*run)(const char *want), const char *want)
{
	fprintf(stderr, "index: %s\n", pcpu_index_source());
	if (getauxval(27 /* AT_RSEQ_FEATURE_SIZE */) < 28 || !tu_rseq_available())
		fprintf(stderr, "SKIP cid mode: no mm_cid from this kernel; cpu mode runs\n");
	else
		CHECK(tu_index_cid());
	return run(want) || tu_failures ? 1 : 0;
}
#endif

/* As tu_run_modes(), with the three modes running at the same time: for tests that
 * mostly sleep or run for a fixed time. */
static inline int tu_run_modes_side_by_side(int argc, char **argv, int (*run)(const char *want))
{
	if (argc > 1)
		return tu_run_modes(argc, argv, run);
	pid_t own = tu_start_mode(argv[0], "own", "GLIBC_TUNABLES", "glibc.pthread.rseq=0");
	pid_t getcpu = tu_start_mode(argv[0], "getcpu", "LIBPERCPU_CPU_SOURCE", "getcpu");
	run("glibc registration");
	tu_wait_mode(own, "own");
	tu_wait_mode(getcpu, "getcpu");
	TEST_DONE();
}

/* Whether madvise(MADV_POPULATE_WRITE) makes pages resident.  qemu-user (make
 * check-cross) accepts the advice and does nothing: pages then become resident when first
 * touched, and only "resident implies populated" can be checked. */
static inline bool tu_populate_makes_resident(void)
{
	static int known = -1;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char v = 0;
	void *p;

	if (known >= 0)
		return known;
	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	if (madvise(p, page, 23 /* MADV_POPULATE_WRITE */) != 0)
		((volatile char *)p)[0] = 0; /* older kernels: the library touches pages */
	CHECK_EQ(mincore(p, page, &v), 0);
	munmap(p, page);
	known = v & 1;
	if (!known)
		fprintf(stderr, "SKIP populated pages not resident: MADV_POPULATE_WRITE is a no-op "
			"here (qemu-user); checking only that resident pages are populated\n");
	return known;
}

#endif
