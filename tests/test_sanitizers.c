/* SPDX-License-Identifier: MIT */
/* test_sanitizers.c - AddressSanitizer and valgrind see per-CPU objects.  Runs
 * san_client.c, linked with the plain (non-sanitized) libpercpu.so as an installed
 * library is: built with -fsanitize=address, a write to a freed object and a write past
 * an object's end into free space get an ASan report, in the first CPU's copy and in
 * another's, and ordinary use gets none; under valgrind's memcheck (when installed), an
 * object whose pointer is dropped is a leak reported with its allocation's stack, and a
 * write to a freed object an invalid write.  The clients are built by plain builds only
 * (make check's sanitized builds have no non-sanitized library to link): elsewhere this
 * test says so and passes. */
#include "tool_run.h"

static char dir[PATH_MAX / 2];

/* Runs @prog (a file next to this test, or an absolute path) with @args. */
static void run_prog(struct result *r, const char *prog, int timeout_s, const char *const *args)
{
	if (prog[0] == '/')
		snprintf(tool, sizeof(tool), "%s", prog);
	else
		snprintf(tool, sizeof(tool), "%s/%s", dir, prog);
	run(r, NULL, NULL, timeout_s, args);
}

/* The address the client announced for @mode ("san_client: MODE 0x..."), or "". */
static const char *announced(const struct result *r, const char *mode, char *buf, size_t size)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "san_client: %s ", mode);
	p = strstr(r->err, key);
	buf[0] = '\0';
	if (p)
		sscanf(p + strlen(key), "%63s", buf);
	(void)size;
	return buf;
}

static void test_asan(void)
{
	static const char *const modes[] = { "uaf", "uaf-other", "overflow", "overflow-other" };
	struct result r;

	run_prog(&r, "san_client_asan", 60, ARGS("clean"));
	if (r.status != 0 || strstr(r.err, "AddressSanitizer"))
		fprintf(stderr, "clean run under ASan: status %d\n%s\n", r.status, r.err);
	CHECK_EQ(r.status, 0);
	CHECK(strstr(r.err, "AddressSanitizer") == NULL);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		char addr[64], want[96];

		run_prog(&r, "san_client_asan", 60, ARGS(modes[i]));
		if (r.status == 77) {
			printf("%s: one possible CPU, skipped\n", modes[i]);
			continue;
		}
		announced(&r, modes[i], addr, sizeof(addr));
		snprintf(want, sizeof(want), "on address %s ", addr);
		if (!addr[0] || !strstr(r.err, "ERROR: AddressSanitizer: use-after-poison") ||
		    !strstr(r.err, want) || !strstr(r.err, "WRITE of size 1"))
			fprintf(stderr, "%s under ASan: status %d, no report on %s:\n%s\n", modes[i],
				r.status, addr, r.err);
		CHECK(r.status != 0);
		CHECK(addr[0] != '\0');
		CHECK(strstr(r.err, "ERROR: AddressSanitizer: use-after-poison") != NULL);
		CHECK(strstr(r.err, want) != NULL);
		CHECK(strstr(r.err, "WRITE of size 1") != NULL);
	}
}

static void test_valgrind(void)
{
	char vg[PATH_MAX], client[PATH_MAX + 16], addr[64], want[96];
	struct result r;

	if (!find_in_path("valgrind", vg, sizeof(vg))) {
		printf("valgrind not installed: memcheck part skipped\n");
		return;
	}
	snprintf(client, sizeof(client), "%s/san_client", dir);
	run_prog(&r, vg, 120, ARGS("-q", "--error-exitcode=99", "--leak-check=full",
				   "--errors-for-leak-kinds=definite", client, "clean"));
	if (strstr(r.err, "Valgrind: debuginfo reader")) { /* valgrind 3.19 and clang's DWARF 5 */
		printf("valgrind cannot read this build's debugging information: memcheck part "
		       "skipped\n");
		return;
	}
	if (r.status != 0)
		fprintf(stderr, "clean run under valgrind: status %d\n%s\n", r.status, r.err);
	CHECK_EQ(r.status, 0);

	run_prog(&r, vg, 120, ARGS("-q", "--error-exitcode=99", "--leak-check=full",
				   "--errors-for-leak-kinds=definite", client, "leak"));
	if (r.status != 99 || !strstr(r.err, "48 bytes in 1 blocks are definitely lost") ||
	    !strstr(r.err, "make_leak") || !strstr(r.err, "pcpu_alloc"))
		fprintf(stderr, "leak under valgrind: status %d\n%s\n", r.status, r.err);
	CHECK_EQ(r.status, 99);
	CHECK(strstr(r.err, "48 bytes in 1 blocks are definitely lost") != NULL);
	CHECK(strstr(r.err, "make_leak") != NULL); /* the allocation's stack */
	CHECK(strstr(r.err, "pcpu_alloc") != NULL);

	for (int other = 0; other < 2; other++) {
		const char *mode = other ? "uaf-other" : "uaf";

		run_prog(&r, vg, 120, ARGS("-q", "--error-exitcode=99", client, mode));
		if (r.status == 77)
			continue;
		announced(&r, mode, addr, sizeof(addr));
		snprintf(want, sizeof(want), "Address %s ", addr);
		if (r.status != 99 || !strstr(r.err, "Invalid write of size 1") || !strstr(r.err, want))
			fprintf(stderr, "%s under valgrind: status %d\n%s\n", mode, r.status, r.err);
		CHECK_EQ(r.status, 99);
		CHECK(strstr(r.err, "Invalid write of size 1") != NULL);
		CHECK(addr[0] && strstr(r.err, want) != NULL);
	}
}

int main(int argc, char **argv)
{
	char *slash;

	(void)argc;
	if (getenv("PCPU_TEST_RUNNER")) {
		/* qemu-user runs neither valgrind nor ASan's shadow memory for the guest */
		printf("under %s: skipped\n", getenv("PCPU_TEST_RUNNER"));
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s", argv[0]);
	slash = strrchr(dir, '/');
	if (!slash) {
		fprintf(stderr, "run me by path from the build folder\n");
		return 1;
	}
	*slash = '\0';
	snprintf(tool, sizeof(tool), "%s/san_client_asan", dir);
	if (access(tool, X_OK) != 0) {
		printf("no san_client_asan next to this test (a sanitized build): skipped\n");
		return 0;
	}
	test_asan();
	test_valgrind();
	TEST_DONE();
}
