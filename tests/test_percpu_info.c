/* SPDX-License-Identifier: MIT */
/* test_percpu_info.c - runs the built percpu-info tool (../percpu-info next to the
 * tests folder) and checks exit codes and messages of what goes wrong: a sysfs tree with
 * FIFOs (and other non-regular files) in it is refused without blocking, arguments a
 * command does not take are called unexpected, an initialization failure gets the tool's
 * own line, and output to a full device is an error for every command. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "testutil.h"

#include "tool_run.h"

/* ---- sysfs trees with non-regular files ---- */

static char root[256];

static void put(const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void sub(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	CHECK_EQ(mkdir(path, 0755), 0);
}

/* A valid two-node machine of 4 CPUs. */
static void make_tree(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	CHECK_EQ(system(cmd), 0);
	CHECK_EQ(mkdir(root, 0755), 0);
	sub("cpu");
	sub("node");
	sub("node/node0");
	sub("node/node1");
	put("cpu/possible", "0-3\n");
	put("cpu/present", "0-3\n");
	put("cpu/online", "0-3\n");
	put("node/node0/cpulist", "0-1\n");
	put("node/node1/cpulist", "2-3\n");
	put("node/node0/distance", "10 20\n");
	put("node/node1/distance", "20 10\n");
}

/* Replaces @rel by a FIFO that no one writes: reading it would block forever. */
static void fifo(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	CHECK_EQ(unlink(path), 0);
	CHECK_EQ(mkfifo(path, 0644), 0);
}

static void test_sysfs(void)
{
	static const char *const files[] = {
		"cpu/possible", "cpu/present", "cpu/online", "node/node0/cpulist",
		"node/node1/cpulist", "node/node0/distance", "node/node1/distance",
	};
	struct result r;
	char what[512];

	snprintf(root, sizeof(root), "/tmp/pcpu-info-test.%d", (int)getpid());
	make_tree();
	run(&r, NULL, NULL, 20, ARGS("topology", "--sysfs", root));
	expect(&r, "valid tree", 0, ARGS(""));
	CHECK(strstr(r.out, "node 1 cpus: 2-3") != NULL);
	CHECK(strstr(r.out, "online: 0-3") != NULL);

	/* each file a FIFO in turn; all three CPU lists FIFOs; the layout command too */
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		make_tree();
		fifo(files[i]);
		snprintf(what, sizeof(what), "FIFO at %s", files[i]);
		run(&r, NULL, NULL, 20, ARGS("topology", "--sysfs", root));
		CHECK(r.status != -1); /* did not block */
		if (r.status == -1)
			fprintf(stderr, "%s: percpu-info blocked\n", what);
		/* whatever it makes of the rest, it says so in its own words */
		CHECK(r.status == 0 || r.status == 1);
		if (r.status == 1)
			expect(&r, what, 1, ARGS("percpu-info: cannot read the CPU topology below"));
		run(&r, NULL, NULL, 20, ARGS("layout", "--sysfs", root));
		CHECK(r.status == 0 || r.status == 1);
	}
	make_tree();
	fifo("cpu/possible");
	fifo("cpu/present");
	fifo("cpu/online");
	run(&r, NULL, NULL, 20, ARGS("topology", "--sysfs", root));
	expect(&r, "FIFOs for every CPU list", 1,
	       ARGS("percpu-info: cannot read the CPU topology below", root));
	/* a node's cpulist that cannot be read: not silently a node without CPUs */
	make_tree();
	fifo("node/node1/cpulist");
	run(&r, NULL, NULL, 20, ARGS("topology", "--sysfs", root));
	CHECK(r.status != -1);
	/* a directory where a file should be */
	make_tree();
	CHECK_EQ(unlink(strcat(strcpy(what, root), "/cpu/possible")), 0);
	CHECK_EQ(mkdir(what, 0755), 0);
	run(&r, NULL, NULL, 20, ARGS("topology", "--sysfs", root));
	CHECK(r.status == 0 || r.status == 1);

	snprintf(what, sizeof(what), "rm -rf %s", root);
	CHECK_EQ(system(what), 0);
}

/* ---- arguments ---- */

static void test_arguments(void)
{
	static const char *const cmds[] = { "cpu", "stats" };
	static const char *const bare[] = { "--version", "-V", "--help", "-h" };
	struct result r;

	/* a CPU source the library does not know is named, then the default serves */
	run(&r, "LIBPERCPU_CPU_SOURCE=GETCPU", NULL, 20, ARGS("cpu"));
	expect(&r, "cpu with LIBPERCPU_CPU_SOURCE=GETCPU", 0,
	       ARGS("libpercpu: LIBPERCPU_CPU_SOURCE=GETCPU: unknown value"));
	CHECK(r.out[0] != '\0');

	/* options that stand alone say so of anything after them */
	for (size_t i = 0; i < sizeof(bare) / sizeof(bare[0]); i++) {
		run(&r, NULL, NULL, 20, ARGS(bare[i], "x"));
		expect(&r, bare[i], 2, ARGS("percpu-info: unexpected argument 'x'"));
		CHECK_EQ(r.out[0], '\0');
	}

	for (size_t i = 0; i < 2; i++) {
		run(&r, NULL, NULL, 20, ARGS(cmds[i], "extra"));
		expect(&r, cmds[i], 2, ARGS("percpu-info: unexpected argument 'extra'"));
		CHECK(strstr(r.err, "unknown command") == NULL);
		CHECK_EQ(r.out[0], '\0');
		run(&r, NULL, NULL, 20, ARGS(cmds[i], "--bogus"));
		expect(&r, cmds[i], 2, ARGS("percpu-info: unknown option '--bogus'"));
		CHECK(strstr(r.err, "unknown command") == NULL);
		run(&r, NULL, NULL, 20, ARGS(cmds[i]));
		expect(&r, cmds[i], 0, ARGS(""));
		CHECK(r.out[0] != '\0');
	}
	/* cpu in each CPU-source mode */
	run(&r, "GLIBC_TUNABLES=glibc.pthread.rseq=0", NULL, 20, ARGS("cpu"));
	expect(&r, "cpu, own registration", 0, ARGS(""));
	CHECK(tu_source_matches(r.out, "CPU source: rseq (libpercpu registration)"));
	run(&r, "LIBPERCPU_CPU_SOURCE=getcpu", NULL, 20, ARGS("cpu"));
	expect(&r, "cpu, getcpu", 0, ARGS(""));
	CHECK(strstr(r.out, "CPU source: sched_getcpu") != NULL);
	CHECK(strstr(r.out, "\nindex: cpu\n") != NULL);
	/* the index mode, and why cid mode is not there where it is not */
	run(&r, "LIBPERCPU_INDEX=cid", NULL, 20, ARGS("cpu"));
	expect(&r, "cpu, cid", 0, ARGS(""));
	if (getauxval(27 /* AT_RSEQ_FEATURE_SIZE */) >= 28 && tu_rseq_available())
		CHECK(strstr(r.out, "\nindex: cid (rseq mm_cid, ") != NULL);
	else
		CHECK(strstr(r.out, "\nindex: cpu (cid asked for, unavailable: ") != NULL);
	setenv("LIBPERCPU_CPU_SOURCE", "getcpu", 1);
	run(&r, "LIBPERCPU_INDEX=cid", NULL, 20, ARGS("cpu"));
	unsetenv("LIBPERCPU_CPU_SOURCE");
	expect(&r, "cpu, cid without rseq", 0, ARGS(""));
	CHECK(strstr(r.out, "\nindex: cpu (cid asked for, unavailable: no rseq, the CPU comes "
			    "from sched_getcpu)\n") != NULL);
	/* stats name the page size in effect */
	run(&r, "LIBPERCPU_PAGE_SIZE=16384", NULL, 20, ARGS("stats"));
	expect(&r, "stats, 16 KiB pages", 0, ARGS(""));
	CHECK(strstr(r.out, "\n  page_size           :        16384\n") != NULL);
	run(&r, "LIBPERCPU_PAGE_SIZE=12K", NULL, 20, ARGS("stats"));
	expect(&r, "stats, 12 KiB pages", 1, ARGS("libpercpu: LIBPERCPU_PAGE_SIZE=12K: not a power"));
	/* sizes in the library's grammar: one layout whatever the notation */
	static struct result dec;
	run(&dec, NULL, NULL, 20, ARGS("layout", "--dyn", "20480", "--atom", "2097152"));
	expect(&dec, "layout, decimal sizes", 0, ARGS(""));
	run(&r, NULL, NULL, 20, ARGS("layout", "--dyn", "0x5000", "--atom", "2m"));
	expect(&r, "layout, hexadecimal and suffixed sizes", 0, ARGS(""));
	CHECK(dec.out[0] != '\0' && strcmp(r.out, dec.out) == 0);
	run(&r, NULL, NULL, 20, ARGS("layout", "--dyn", "050000", "--atom", "0x200000"));
	expect(&r, "layout, octal sizes", 0, ARGS(""));
	CHECK(strcmp(r.out, dec.out) == 0);
	run(&r, NULL, NULL, 20, ARGS("layout", "--dyn", "20480", "--atom", "2Mi"));
	expect(&r, "layout, bad size", 2, ARGS("percpu-info: --atom: invalid size '2Mi'"));
	run(&r, NULL, NULL, 20, ARGS("frobnicate"));
	expect(&r, "unknown command", 2, ARGS("percpu-info: unknown command 'frobnicate'"));
	run(&r, NULL, NULL, 20, ARGS("topology", "extra"));
	expect(&r, "topology extra", 2, ARGS("percpu-info: unexpected argument 'extra'"));
}

/* ---- initialization failures ---- */

static void test_init_failure(void)
{
	static const char *const cmds[] = { "stats", "cpu", NULL };
	struct result r;

	for (int i = 0; i < 3; i++) {
		const char *const *args = cmds[i] ? ARGS(cmds[i]) : ARGS(NULL);

		run(&r, "LIBPERCPU_DYN_SIZE=12Q", NULL, 20, args);
		expect(&r, cmds[i] ? cmds[i] : "(no command)", 1,
		       ARGS("libpercpu: LIBPERCPU_DYN_SIZE=12Q", "\npercpu-info: ",
			    "Invalid argument"));
		CHECK_EQ(r.out[0], '\0');
	}
}

/* ---- output errors ---- */

static void test_full(void)
{
	const char *const *const cmds[] = {
		ARGS("--help"), ARGS("-h"), ARGS("help"), ARGS("layout", "--help"),
		ARGS("topology"), ARGS("layout"), ARGS("cpu"), ARGS("stats"), ARGS(NULL),
		ARGS("--version"), ARGS("-V"),
	};
	struct result r;

	if (access("/dev/full", W_OK) != 0) {
		fprintf(stderr, "no /dev/full: output error tests skipped\n");
		return;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char what[64];

		snprintf(what, sizeof(what), "%s >/dev/full", cmds[i][0] ? cmds[i][0] : "(none)");
		run(&r, NULL, "/dev/full", 20, cmds[i]);
		expect(&r, what, 1, ARGS("percpu-info: ", "No space left on device"));
	}
}

int main(int argc, char **argv)
{
	if (tool_find(argv[0]) != 0)
		return 1;
	(void)argc;
	test_arguments();
	test_init_failure();
	test_full();
	test_sysfs();
	TEST_DONE();
}
