/* SPDX-License-Identifier: MIT */
/* tool_run.h - runs the built percpu-info (../percpu-info next to the tests folder) with
 * a time limit and collects its exit status, stdout and stderr: the tests of the tool
 * share it. */
#ifndef PCPU_TOOL_RUN_H
#define PCPU_TOOL_RUN_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "testutil.h"

static char tool[PATH_MAX];
static int run_as_uid = -1; /* > 0: run() runs the tool as this user (and group) */

struct result {
	int status;        /* exit status, or 128 + signal, or -1 if it had to be killed */
	char out[65536];
	char err[8192];
};

/* Appends what is available on @fd to @buf; returns 0 at end of file. */
static int drain(int fd, char *buf, size_t size, size_t *len)
{
	ssize_t n = read(fd, buf + *len, size - 1 - *len);

	if (n > 0) {
		*len += (size_t)n;
		buf[*len] = '\0';
		return 1;
	}
	if (n < 0 && errno == EINTR)
		return 1;
	return *len + 1 >= size ? 1 : 0;
}

/* Runs the tool with @args (NULL-terminated after argv[0]), environment variable
 * @env ("NAME=value" or NULL) added and stdout to @out_path if not NULL, killing it
 * after @timeout_s seconds. */
static void run(struct result *r, const char *env, const char *out_path, int timeout_s,
		const char *const *args)
{
	int out[2], err[2], status;
	size_t olen = 0, elen = 0;
	bool oopen = true, eopen = true;
	time_t deadline = time(NULL) + timeout_s;
	char *argv[16];
	pid_t pid;
	int i;

	argv[0] = tool;
	for (i = 0; args[i] && i < 14; i++)
		argv[i + 1] = (char *)args[i];
	argv[i + 1] = NULL;
	memset(r, 0, sizeof(*r));
	CHECK_EQ(pipe(out), 0);
	CHECK_EQ(pipe(err), 0);
	pid = fork();
	if (pid == 0) {
		if (out_path) {
			int fd = open(out_path, O_WRONLY);
			if (fd < 0)
				_exit(126);
			dup2(fd, 1);
		} else {
			dup2(out[1], 1);
		}
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		if (env)
			putenv((char *)env);
		if (run_as_uid > 0 && (setgid((gid_t)run_as_uid) != 0 || setuid((uid_t)run_as_uid) != 0))
			_exit(125);
		tu_execv(tool, argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	while (oopen || eopen) {
		struct pollfd p[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };

		if (time(NULL) >= deadline)
			break;
		p[0].fd = oopen ? out[0] : -1;
		p[1].fd = eopen ? err[0] : -1;
		if (poll(p, 2, 200) <= 0)
			continue;
		if (oopen && (p[0].revents & (POLLIN | POLLHUP)))
			oopen = drain(out[0], r->out, sizeof(r->out), &olen);
		if (eopen && (p[1].revents & (POLLIN | POLLHUP)))
			eopen = drain(err[0], r->err, sizeof(r->err), &elen);
	}
	if (oopen || eopen) { /* it blocked */
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		r->status = -1;
	} else {
		waitpid(pid, &status, 0);
		r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	close(out[0]);
	close(err[0]);
}

/* Checks exit status @status and that stderr contains each of @want (NULL-terminated). */
__attribute__((unused)) static void expect(const struct result *r, const char *what, int status, const char *const *want)
{
	bool ok = r->status == status;

	for (int i = 0; want[i]; i++)
		ok = ok && strstr(r->err, want[i]);
	if (!ok)
		fprintf(stderr, "%s: status %d (wanted %d), stderr:\n%s\n", what, r->status, status,
			r->err);
	CHECK_EQ(r->status, status);
	for (int i = 0; want[i]; i++)
		CHECK(strstr(r->err, want[i]) != NULL);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Finds the tool next to the folder of @argv0 (the test program).  0, or 1 with a message. */
__attribute__((unused)) static int tool_find(const char *argv0)
{
	char *slash;

	snprintf(tool, sizeof(tool), "%s", argv0);
	slash = strrchr(tool, '/');
	if (!slash || (size_t)(slash - tool) + sizeof("/../percpu-info") > sizeof(tool)) {
		fprintf(stderr, "run me by path from the build folder\n");
		return 1;
	}
	strcpy(slash, "/../percpu-info");
	if (access(tool, X_OK) != 0) {
		fprintf(stderr, "%s: %s\n", tool, strerror(errno));
		return 1;
	}
	return 0;
}

/* The path of program @name found in $PATH, in @buf; NULL if it is not installed. */
__attribute__((unused)) static const char *find_in_path(const char *name, char *buf, size_t size)
{
	const char *path = getenv("PATH");

	while (path && *path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, size, "%.*s/%s", (int)n, path, name);
		if (access(buf, X_OK) == 0)
			return buf;
		path += n + (path[n] == ':');
	}
	return NULL;
}

#endif
