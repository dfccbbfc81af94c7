/* SPDX-License-Identifier: MIT */
/* test_env_sizes.c - the LIBPERCPU_RESERVED_SIZE, LIBPERCPU_DYN_SIZE and
 * LIBPERCPU_ATOM_SIZE settings at their boundaries: the maximum initializes and every
 * region works right after (reserved, first-chunk dynamic, new chunks, the static
 * variable of this program), one more than the maximum, garbage and bad suffixes fail
 * with EINVAL and a message naming the variable (and the limit), 0 and the K/M
 * suffixes mean what the manual says.  Each setting initializes a forked child. */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

PCPU_DEFINE(long, env_static_var) = 42; /* a static section, as in issue 6's report */

#define MAX_REGION ((size_t)PCPU_MAX_REGION_SIZE)
#define MAX_ATOM ((size_t)PCPU_MAX_ATOM_SIZE)

/* Writes every CPU's copy of [p, p + size) and reads it back. */
static void check_copies(char *p, size_t size, unsigned int tag)
{
	unsigned int cpu;

	pcpu_for_each_possible_cpu(cpu) {
		char *c = pcpu_ptr(p, cpu);

		c[0] = (char)(tag + cpu);
		c[size - 1] = (char)(tag ^ cpu);
	}
	pcpu_for_each_possible_cpu(cpu) {
		char *c = pcpu_ptr(p, cpu);

		CHECK_EQ(c[0], (char)(tag + cpu));
		CHECK_EQ(c[size - 1], (char)(tag ^ cpu));
	}
}

/* After a successful init: the static variable, the whole reserved region, the whole
 * first-chunk dynamic region and then a new chunk all work. */
static void use_everything(void)
{
	struct pcpu_stats st, end;
	unsigned int cpu, n = 0;
	size_t taken = 0;

	CHECK_EQ(pcpu_get_stats(&st), 0);
	pcpu_for_each_possible_cpu(cpu) {
		CHECK_EQ(pcpu_var(env_static_var, cpu), 42);
		pcpu_var(env_static_var, cpu) = cpu;
	}
	pcpu_for_each_possible_cpu(cpu)
		CHECK_EQ(pcpu_var(env_static_var, cpu), cpu);

	/* the reserved region, to the last byte */
	while (taken < st.reserved_size) {
		size_t size = st.reserved_size - taken < PCPU_MAX_ALLOC_SIZE ?
				      st.reserved_size - taken : PCPU_MAX_ALLOC_SIZE;
		char *p = _pcpu_alloc_internal(size, 4, true, PCPU_GFP_KERNEL);

		CHECK(p != NULL);
		if (!p)
			break;
		check_copies(p, size, n++);
		taken += size;
	}
	CHECK_EQ(taken, st.reserved_size);
	errno = 0;
	CHECK(_pcpu_alloc_internal(4, 4, true, PCPU_GFP_KERNEL) == NULL);
	CHECK_EQ(errno, ENOMEM);

	/* dynamic memory: the whole first-chunk region, then a new chunk */
	taken = 0;
	while (taken <= st.dyn_size) {
		char *p = pcpu_alloc(PCPU_MAX_ALLOC_SIZE, 8);

		CHECK(p != NULL);
		if (!p)
			break;
		check_copies(p, PCPU_MAX_ALLOC_SIZE, n++);
		taken += PCPU_MAX_ALLOC_SIZE;
	}
	CHECK_EQ(pcpu_get_stats(&end), 0);
	CHECK(end.nr_chunks >= 2);
	CHECK_EQ(end.nr_alloc_failed, 0);
	CHECK_EQ(end.nr_cur_alloc, st.nr_cur_alloc + n);
}

struct outcome {
	int status;      /* child's exit status: 0 init succeeded and everything worked,
			  * 1 a check failed, 2 + errno of a failed init */
	char err[1024];  /* its stderr */
};

struct setting {
	const char *var, *value;
};

static void init_and_use(void *arg)
{
	const struct setting *set = arg;

	setenv(set->var, set->value, 1);
	if (pcpu_init() != 0)
		_exit(2 + errno);
	use_everything();
}

static void run_with(const char *var, const char *value, struct outcome *o)
{
	struct setting set = { var, value };
	int status = tu_in_child(init_and_use, &set, o->err, sizeof(o->err));

	o->status = WIFEXITED(status) ? WEXITSTATUS(status) : 256 + status;
}

static void expect_ok(const char *var, const char *value)
{
	struct outcome o;

	run_with(var, value, &o);
	if (o.status != 0)
		fprintf(stderr, "%s=%s: status %d, stderr: %s\n", var, value, o.status, o.err);
	CHECK_EQ(o.status, 0);
	CHECK_EQ(o.err[0], '\0'); /* nothing to say */
}

/* Fails with EINVAL and a "libpercpu: VAR=VALUE: ..." line containing @why. */
static void expect_einval(const char *var, const char *value, const char *why)
{
	struct outcome o;
	char head[256];

	run_with(var, value, &o);
	snprintf(head, sizeof(head), "libpercpu: %s=%s: ", var, value);
	if (o.status != 2 + EINVAL || !strstr(o.err, head) || !strstr(o.err, why))
		fprintf(stderr, "%s=%s: status %d, stderr \"%s\"; wanted EINVAL and \"%s...%s\"\n",
			var, value, o.status, o.err, head, why);
	CHECK_EQ(o.status, 2 + EINVAL);
	CHECK(strstr(o.err, head) != NULL);
	CHECK(strstr(o.err, why) != NULL);
}

/* The sizes a child sees, to check that a value means what the manual says: the
 * reserved region and the atom exactly, the dynamic region raised to at least
 * PCPU_DYNAMIC_EARLY_SIZE and then so that the three regions end on a page. */
static void expect_size(const char *var, const char *value, const char *field, size_t want)
{
	int out[2], status;
	char buf[128] = "";
	size_t rsv = 0, dyn = 0, stat = 0, atom = 0, page = 0, low;
	int failures = tu_failures;
	ssize_t n;
	pid_t pid;

	CHECK_EQ(pipe(out), 0);
	pid = fork();
	if (pid == 0) {
		struct pcpu_stats st;

		close(out[0]);
		setenv(var, value, 1);
		if (pcpu_init() != 0 || pcpu_get_stats(&st) != 0)
			_exit(1);
		dprintf(out[1], "%zu %zu %zu %zu %zu", st.reserved_size, st.dyn_size, st.static_size,
			st.atom_size, st.page_size);
		_exit(0);
	}
	close(out[1]);
	n = read(out[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(out[0]);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ(sscanf(buf, "%zu %zu %zu %zu %zu", &rsv, &dyn, &stat, &atom, &page), 5);
	if (!strcmp(field, "reserved")) {
		CHECK_EQ(rsv, want);
	} else if (!strcmp(field, "atom")) {
		CHECK_EQ(atom, want);
	} else if (!strcmp(field, "page")) {
		CHECK_EQ(page, want);
		CHECK_EQ((stat + rsv + dyn) % page, 0);
	} else {
		low = want > PCPU_DYNAMIC_EARLY_SIZE ? want : PCPU_DYNAMIC_EARLY_SIZE;
		CHECK(dyn >= low && dyn < low + page);
		CHECK_EQ((stat + rsv + dyn) % page, 0);
	}
	if (tu_failures != failures)
		fprintf(stderr, "%s=%s: %s wanted %zu; reserved, dyn, static, atom: %s\n", var,
			value, field, want, buf);
}

static void test_region(const char *var, const char *field)
{
	char v[64];

	/* the maximum, in each notation */
	snprintf(v, sizeof(v), "%zuM", MAX_REGION >> 20);
	expect_ok(var, v);
	snprintf(v, sizeof(v), "%zu", MAX_REGION);
	expect_size(var, v, field, MAX_REGION);
	/* the other notations, on smaller values (each init populates the regions) */
	expect_size(var, "0x3000", field, 0x3000);
	expect_size(var, "0100000", field, 0100000);
	expect_size(var, "0x10K", field, 16u << 10);
	/* one more, in bytes and in the suffixes */
	snprintf(v, sizeof(v), "%zu", MAX_REGION + 1);
	expect_einval(var, v, "more than the limit");
	snprintf(v, sizeof(v), "%zuK", (MAX_REGION >> 10) + 1);
	expect_einval(var, v, "more than the limit");
	snprintf(v, sizeof(v), "%zuM", (MAX_REGION >> 20) + 1);
	expect_einval(var, v, "more than the limit");
	expect_einval(var, "1024M", "more than the limit");
	expect_einval(var, "18446744073709551615", "more than the limit");
	expect_einval(var, "99999999999999999999999", "more than the limit");
	expect_einval(var, "18014398509481984K", "more than the limit"); /* overflows */
	/* garbage */
	expect_einval(var, "12Q", "not a size");
	expect_einval(var, "K", "not a size");
	expect_einval(var, "8KK", "not a size");
	expect_einval(var, "-4096", "not a size");
	expect_einval(var, " 4096", "not a size");
	expect_einval(var, "4096 ", "not a size");
	expect_einval(var, "0x", "not a size");
	expect_einval(var, "1G", "not a size");
	/* the suffixes, small values */
	expect_size(var, "12k", field, 12u << 10);
	expect_size(var, "1m", field, 1u << 20);
	expect_size(var, "12K", field, 12u << 10);
}

/* The page size the children start with: this run's LIBPERCPU_PAGE_SIZE (make check
 * runs the suite again with 64 KiB pages) or the system's. */
static size_t run_page_size(void)
{
	const char *v = getenv("LIBPERCPU_PAGE_SIZE");

	return v && *v ? (size_t)strtoul(v, NULL, 0) : (size_t)sysconf(_SC_PAGESIZE);
}

/* LIBPERCPU_PAGE_SIZE: powers of two from the system's page size to 64 KiB. */
static void test_page_size(void)
{
	const char *var = "LIBPERCPU_PAGE_SIZE", *why = "not a power of two from the system's";
	size_t sys = (size_t)sysconf(_SC_PAGESIZE);

	for (size_t page = sys; page <= 65536; page *= 2) {
		char v[32];

		snprintf(v, sizeof(v), "%zu", page);
		expect_size(var, v, "page", page);
		expect_ok(var, v);
	}
	expect_size(var, "16K", "page", 16384);
	expect_size(var, "", "page", sys); /* empty: unset */
	expect_einval(var, "131072", why);
	expect_einval(var, "12288", why);
	expect_einval(var, "2048", why);
	expect_einval(var, "0", why);
	expect_einval(var, "64KB", why);
}

static void test_all(void)
{
	char v[64], pow2[64], limit[64];
	size_t page = run_page_size();

	test_region("LIBPERCPU_RESERVED_SIZE", "reserved");
	expect_size("LIBPERCPU_RESERVED_SIZE", "0", "reserved", 0);
	expect_size("LIBPERCPU_RESERVED_SIZE", "10", "reserved", 12); /* rounded up to 4 */
	expect_size("LIBPERCPU_RESERVED_SIZE", "", "reserved", 8192); /* empty: unset */
	test_region("LIBPERCPU_DYN_SIZE", "dyn");
	/* dyn 0 is raised to the early minimum, then to the page boundary */
	expect_ok("LIBPERCPU_DYN_SIZE", "0");

	snprintf(v, sizeof(v), "%zuM", MAX_ATOM >> 20);
	expect_ok("LIBPERCPU_ATOM_SIZE", v);
	expect_size("LIBPERCPU_ATOM_SIZE", v, "atom", MAX_ATOM);
	snprintf(pow2, sizeof(pow2), "power of two from %zu to", page);
	if (page == 4096) {
		expect_size("LIBPERCPU_ATOM_SIZE", "4K", "atom", 4096);
		expect_ok("LIBPERCPU_ATOM_SIZE", "4096");
	} else {    /* the atom is at least a page */
		expect_einval("LIBPERCPU_ATOM_SIZE", "4K", pow2);
		snprintf(v, sizeof(v), "%zu", page);
		expect_size("LIBPERCPU_ATOM_SIZE", v, "atom", page);
	}
	expect_size("LIBPERCPU_ATOM_SIZE", "2m", "atom", 2u << 20);
	/* G counts where the limit reaches a GiB, as in percpu-info's sizes */
	expect_size("LIBPERCPU_ATOM_SIZE", "1g", "atom", MAX_ATOM);
	/* past the maximum: the message names the limit itself, however large the value */
	snprintf(v, sizeof(v), "%zu", MAX_ATOM * 2);
	snprintf(limit, sizeof(limit), "more than the limit of %zuM", MAX_ATOM >> 20);
	expect_einval("LIBPERCPU_ATOM_SIZE", v, limit);
	expect_einval("LIBPERCPU_ATOM_SIZE", "99999999999999999999999", limit);
	snprintf(v, sizeof(v), "%zu", MAX_ATOM + 1);
	expect_einval("LIBPERCPU_ATOM_SIZE", v, limit);
	expect_einval("LIBPERCPU_ATOM_SIZE", "0", pow2);
	expect_einval("LIBPERCPU_ATOM_SIZE", "2048", pow2);
	expect_einval("LIBPERCPU_ATOM_SIZE", "12K", pow2);
	expect_einval("LIBPERCPU_ATOM_SIZE", "4097", pow2);
	expect_einval("LIBPERCPU_ATOM_SIZE", "2MB", "not a size");
}

/* In the other CPU-source modes: each maximum, used right after init. */
static void test_maxima(void)
{
	char v[64];

	snprintf(v, sizeof(v), "%zuM", MAX_REGION >> 20);
	expect_ok("LIBPERCPU_RESERVED_SIZE", v);
	expect_ok("LIBPERCPU_DYN_SIZE", v);
	snprintf(v, sizeof(v), "%zuM", MAX_ATOM >> 20);
	expect_ok("LIBPERCPU_ATOM_SIZE", v);
}

int main(int argc, char **argv)
{
	if (argc > 1) { /* a CPU-source mode of tu_spawn_mode */
		test_maxima();
		return tu_failures ? 1 : 0;
	}
	test_all();
	test_page_size();
	tu_spawn_modes(argv[0]);
	TEST_DONE();
}
