/* SPDX-License-Identifier: MIT */
/* remote.c - reads another process's allocator state for percpu-info --pid.  The process
 * runs nothing for us: its libpercpu anchor (src/anchor.h), a mapping that
 * /proc/PID/maps names, says where the state lies; process_vm_readv copies it (the
 * permission ptrace needs); the state's sequence count tells a consistent copy from one
 * torn by a concurrent change, which is retried for a bounded time. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "anchor.h"
#include "remote.h"

#define RETRY_SECONDS 2 /* a state changing without a pause for this long: give up */

struct target {
	pid_t pid;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct target *t, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(t->err, t->errlen, "process %d: ", (int)t->pid);

	va_start(ap, fmt);
	vsnprintf(t->err + n, t->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int permission_error(struct target *t)
{
	return fail(t, "not permitted to read its memory (the permission of ptrace: the same "
		    "user, or CAP_SYS_PTRACE)");
}

/* Copies @len bytes at @addr of the target.  0; 1 if the range is not (or no longer)
 * mapped, which a concurrent change can explain; -1 with the reason otherwise. */
static int peek(struct target *t, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = process_vm_readv(t->pid, &local, 1, &remote, 1, 0);

	if (n == (ssize_t)len)
		return 0;
	if (n >= 0 || errno == EFAULT)
		return 1;
	if (errno == ESRCH)
		return fail(t, "exited while being read");
	if (errno == EPERM || errno == EACCES)
		return permission_error(t);
	return fail(t, "cannot read its memory: %s", strerror(errno));
}

/* Whether the target is a zombie (it has exited: its memory is gone, its maps empty). */
static bool exited(struct target *t)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)t->pid);
	f = fopen(path, "re");
	if (!f)
		return true;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold anything */
	return !p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X';
}

/* Whether /proc/PID/maps lists at least one mapping now.  A process killed while its maps
 * were read can end the read early (the kernel reads the maps a page at a time, and its
 * memory goes before it becomes a zombie): a second read then finds none. */
static bool has_mappings(struct target *t)
{
	char path[64], line[512];
	bool any;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)t->pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	any = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	return any;
}

/* The address of the anchor mapping, from /proc/PID/maps; 0 with the reason if none. */
static uint64_t find_anchor(struct target *t)
{
	char path[64], line[512];
	uint64_t addr = 0;
	long lines = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)t->pid);
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT || errno == ESRCH)
			fail(t, "no such process");
		else if (errno == EACCES || errno == EPERM)
			permission_error(t);
		else
			fail(t, "cannot open %s: %s", path, strerror(errno));
		return 0;
	}
	while (!addr && fgets(line, sizeof(line), f)) {
		lines++;
		if (strstr(line, "/memfd:" PCPU_ANCHOR_NAME))
			addr = strtoull(line, NULL, 16);
	}
	if (!addr && ferror(f)) {
		if (errno == EACCES || errno == EPERM)
			permission_error(t);
		else
			fail(t, "cannot read %s: %s", path, strerror(errno));
	} else if (!addr && (!lines || exited(t) || !has_mappings(t))) {
		/* a live process has mappings: none means its memory is gone already */
		fail(t, "has exited");
	} else if (!addr) {
		/* the anchor appears when the library initializes: a process that links it but
		 * has not used it yet has none either */
		fail(t, "does not use libpercpu (no %s mapping: not linked, or not initialized "
		     "yet)", PCPU_ANCHOR_NAME);
	}
	fclose(f);
	return addr;
}

static int read_anchor(struct target *t, uint64_t addr, struct pcpu_anchor *a)
{
	int r = peek(t, addr, a, sizeof(*a));

	if (r > 0)
		return fail(t, "exited while being read (its anchor is gone)");
	if (r < 0)
		return -1;
	if (memcmp(a->magic, PCPU_ANCHOR_MAGIC, sizeof(a->magic)) || a->self != addr)
		return fail(t, "its %s mapping is not a libpercpu anchor", PCPU_ANCHOR_NAME);
	a->version[sizeof(a->version) - 1] = '\0';
	if (a->abi != PCPU_ANCHOR_ABI || a->state_size != sizeof(struct pcpu_alloc_state) ||
	    a->geometry_size != sizeof(struct pcpu_geometry) ||
	    a->chunk_size != sizeof(struct pcpu_chunk) ||
	    a->map_size != sizeof(struct pcpu_chunk_map))
		return fail(t, "uses libpercpu %s, whose state this percpu-info (libpercpu %s) "
			    "cannot read: use the percpu-info of that version", a->version,
			    pcpu_version());
	return 0;
}

/* One copy of chunk @c (an address in the target) into @sc.  0, 1 (torn), -1. */
static int read_chunk(struct target *t, const struct pcpu_alloc_state *st,
		      const struct pcpu_geometry *g, uint64_t c, struct pcpu_snap_chunk *sc)
{
	struct pcpu_chunk chunk;
	size_t bytes;
	void *meta;
	int r = peek(t, c, &chunk, sizeof(chunk));

	if (r)
		return r;
	bytes = _pcpu_snap_map_meta_bytes(&chunk.map);
	if (!bytes)
		return 1;
	meta = malloc(bytes);
	if (!meta)
		return fail(t, "out of memory");
	r = peek(t, (uintptr_t)chunk.map.meta, meta, bytes);
	if (r == 0 && _pcpu_snap_map_rebase(&sc->map, &chunk.map, meta) != 0)
		r = 1;
	if (r) {
		free(meta);
		return r;
	}
	sc->index = chunk.index;
	sc->slot = chunk.slot;
	sc->kind = c == (uintptr_t)st->reserved_chunk ? PCPU_SNAP_RESERVED :
		   c == (uintptr_t)st->first_chunk ? PCPU_SNAP_FIRST : PCPU_SNAP_DYNAMIC;
	sc->list = chunk.slot == st->to_depopulate_slot ? PCPU_SNAP_TO_DEPOPULATE :
		   chunk.slot == st->sidelined_slot ? PCPU_SNAP_SIDELINED : PCPU_SNAP_LISTED;
	sc->unit_start = (size_t)((uintptr_t)chunk.base - (uintptr_t)g->arena) -
			 (size_t)chunk.index * g->chunk_bytes;
	sc->max_alloc_size = chunk.max_alloc_size;
	sc->nr_cached = chunk.nr_cached;
	return 0;
}

/* One attempt at a snapshot: 0, 1 if the state changed meanwhile (retry), -1. */
static int try_snapshot(struct target *t, const struct pcpu_anchor *a, struct pcpu_snapshot *s)
{
	struct pcpu_alloc_state st;
	struct pcpu_geometry g;
	uint64_t seq, seq2, *table = NULL;
	int r, n;
	char err[256];

	memset(s, 0, sizeof(*s));
	if ((r = peek(t, a->seq, &seq, sizeof(seq))) != 0)
		return r > 0 ? fail(t, "exited while being read") : -1;
	if (seq & 1)
		return 1;
	if ((r = peek(t, a->state, &st, sizeof(st))) != 0 ||
	    (r = peek(t, a->geometry, &g, sizeof(g))) != 0)
		return r > 0 ? fail(t, "exited while being read") : -1;
	if (!st.arena_bytes) /* set last by the allocator's set-up */
		return fail(t, "its libpercpu is not initialized");
	n = st.chunk_hwm;
	if (n < 1 || n > st.chunks_cap || n > PCPU_ARENA_MAX_CHUNKS)
		return 1;
	table = calloc((size_t)n + 1, sizeof(*table));
	s->chunks = calloc((size_t)n + 1, sizeof(*s->chunks));
	if (!table || !s->chunks) {
		r = fail(t, "out of memory");
		goto out;
	}
	r = peek(t, (uintptr_t)st.chunks, table + 1, (size_t)n * sizeof(*table));
	if (r)
		goto out;
	table[0] = (uintptr_t)st.reserved_chunk;
	for (int i = 0; i <= n && r == 0; i++) {
		if (!table[i])
			continue;
		r = read_chunk(t, &st, &g, table[i], &s->chunks[s->nr_chunks]);
		if (r == 0)
			s->nr_chunks++;
	}
	if (r)
		goto out;
	if ((r = peek(t, a->seq, &seq2, sizeof(seq2))) != 0)
		goto out;
	if (seq2 != seq) {
		r = 1;
		goto out;
	}
	/* Consistent: the maps must pass the allocator's own check. */
	for (int i = 0; i < s->nr_chunks; i++) {
		if (_pcpu_chunk_map_verify(&s->chunks[i].map, err, sizeof(err)) != 0) {
			r = fail(t, "chunk %d's maps do not hold together: %s", s->chunks[i].index,
				 err);
			goto out;
		}
	}
	s->st = st.stats;
	s->st.nr_empty_pop_pages = (size_t)st.nr_empty_pop_pages;
	s->st.nr_populate_calls = st.nr_populate_calls;
	s->st.nr_depopulate_calls = st.nr_depopulate_calls;
	s->alloc_size = a->alloc_size;
	_pcpu_snap_totals(s);
	_pcpu_snap_sort(s);
out:
	free(table);
	if (r)
		_pcpu_snap_free(s);
	return r;
}

int _pcpu_remote_snapshot(pid_t pid, struct pcpu_snapshot *s, char *err, size_t errlen)
{
	struct target t = { pid, err, errlen };
	struct pcpu_anchor a;
	struct timespec start, now, pause = { 0, 1000000 };
	uint64_t addr;
	int r;

	if (pid <= 0)
		return fail(&t, "not a process ID");
	addr = find_anchor(&t);
	if (!addr || read_anchor(&t, addr, &a))
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		r = try_snapshot(&t, &a, s);
		if (r <= 0)
			return r;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= RETRY_SECONDS)
			return fail(&t, "its allocator state kept changing for %d s: no consistent "
				    "copy (try again)", RETRY_SECONDS);
		nanosleep(&pause, NULL);
	}
}
