/* SPDX-License-Identifier: MIT */
/* test_inspect.c - percpu-info stats --pid and map --pid against a real child process:
 * the child makes random allocations and frees, then reports what it holds (every live
 * allocation, and which pages of its chunks are resident, from mincore) and its own
 * pcpu_dump_stats().  The tool's statistics must equal the child's own dump byte for
 * byte and a model computed here from the allocations alone (the kernel's per-chunk
 * figures); its map must show exactly the pages the model says are full, partly used,
 * free and resident, or free and not.  Then the errors (no such process, not
 * libpercpu, not permitted, exits while read), torn reads of a process that allocates
 * all the time, and LIBPERCPU_STATS=stderr. */
#include <pthread.h>
#include <sys/prctl.h>

#include "tool_run.h"

#define MAX_ALLOCS 2048
#define MAX_CHUNKS 64

struct alloc {
	size_t off;  /* from the arena's base, in the unit at offset 0 */
	size_t size; /* rounded up to 4, as the allocator counts */
};

struct geometry {
	size_t chunk_bytes, unit_size, page_size, static_size, reserved_size, dyn_size;
	unsigned long nr_chunk_slots;
};

/* What the child reports. */
struct report {
	struct geometry g;
	int nr;
	struct alloc live[MAX_ALLOCS];
	size_t max_size[MAX_CHUNKS]; /* largest allocation ever made in each arena slot */
	char resident[MAX_CHUNKS][1100]; /* '0'/'1' per unit page */
};

/* ---- the child ---- */

static void child_report(const char *path, const struct report *rep)
{
	FILE *f = fopen(path, "w");

	if (!f)
		_exit(3);
	fprintf(f, "geom %zu %zu %zu %zu %zu %zu %lu\n", rep->g.chunk_bytes, rep->g.unit_size,
		rep->g.page_size, rep->g.static_size, rep->g.reserved_size, rep->g.dyn_size,
		rep->g.nr_chunk_slots);
	for (int i = 0; i < rep->nr; i++)
		fprintf(f, "alloc %zu %zu\n", rep->live[i].off, rep->live[i].size);
	for (unsigned long c = 0; c < rep->g.nr_chunk_slots && c < MAX_CHUNKS; c++)
		fprintf(f, "res %lu %zu %s\n", c, rep->max_size[c], rep->resident[c]);
	if (fclose(f) != 0)
		_exit(3);
}

/* Makes @n random allocations and frees about 40 % of them; reports into @rep. */
static void child_allocate(struct report *rep, int n, void **ptrs)
{
	struct pcpu_stats st;
	size_t sys = (size_t)sysconf(_SC_PAGESIZE);
	unsigned int cpu0 = (unsigned int)pcpu_next_possible_cpu(-1);
	ptrdiff_t unit0 = 0;

	if (pcpu_get_stats(&st) != 0 || st.nr_cur_alloc != 0)
		_exit(4); /* the model assumes the child starts with nothing allocated */
	memset(rep, 0, sizeof(*rep));
	for (int i = 0; i < n; i++) {
		uint64_t r = tu_rand();
		size_t size = r % 8 == 0 ? 4096 + r / 8 % (PCPU_MAX_ALLOC_SIZE - 4096) : r % 8 == 1 ? 1 + r / 8 % 4000 :
			      1 + r / 8 % 200;
		size_t align = (size_t)4 << (r >> 40) % 8;
		char *p = pcpu_alloc(size, align);

		if (!p)
			_exit(5);
		ptrs[i] = p;
		size = (size + 3) & ~(size_t)3;
		rep->live[i].off = (size_t)((uintptr_t)p - __pcpu_fast.arena_base);
		rep->live[i].size = size;
	}
	if (pcpu_get_stats(&st) != 0)
		_exit(4);
	rep->g.unit_size = st.unit_size;
	rep->g.chunk_bytes = st.unit_size * st.nr_units;
	rep->g.page_size = st.page_size;
	rep->g.static_size = st.static_size;
	rep->g.reserved_size = st.reserved_size;
	rep->g.dyn_size = st.dyn_size;
	for (int i = 0; i < n; i++) {
		size_t c = rep->live[i].off / rep->g.chunk_bytes;

		if (c < MAX_CHUNKS && rep->live[i].size > rep->max_size[c])
			rep->max_size[c] = rep->live[i].size;
	}
	rep->nr = 0;
	for (int i = 0; i < n; i++) {
		if (tu_rand() % 10 < 4)
			pcpu_free(ptrs[i]);
		else
			rep->live[rep->nr++] = rep->live[i];
	}
	/* freed areas of up to 1 KiB wait in the allocator's cache, allocated in their
	 * chunk's map, until pcpu_balance() gives them back (pcpu_alloc(3)): the model
	 * counts every freed area free */
	pcpu_balance();
	unit0 = (char *)pcpu_ptr(ptrs[0], cpu0) - (char *)ptrs[0];
	if (rep->nr == 0 || rep->g.unit_size / rep->g.page_size >= sizeof(rep->resident[0]))
		_exit(6);
	rep->g.nr_chunk_slots = __atomic_load_n(&__pcpu_fast.arena_size, __ATOMIC_ACQUIRE) /
				rep->g.chunk_bytes;
	/* Which pages are resident: the allocator's bookkeeping is not consulted. */
	for (unsigned long c = 0; c < rep->g.nr_chunk_slots && c < MAX_CHUNKS; c++) {
		size_t pages = rep->g.unit_size / rep->g.page_size;

		for (size_t pg = 0; pg < pages; pg++) {
			uintptr_t a = __pcpu_fast.arena_base + c * rep->g.chunk_bytes +
				      (uintptr_t)unit0 + pg * rep->g.page_size;
			unsigned char v = 0;

			if (mincore((void *)(a & ~(uintptr_t)(sys - 1)), sys, &v) != 0)
				v = 0;
			rep->resident[c][pg] = (v & 1) ? '1' : '0';
		}
	}
}

/* The child: allocates, reports to @info and @dump, says so on @ready, then lives until
 * @hold reads end of file. */
static void child_main(int n, const char *info, const char *dump, int ready, int hold)
{
	static struct report rep;
	static void *ptrs[MAX_ALLOCS];
	FILE *f;
	char c;

	child_allocate(&rep, n, ptrs);
	child_report(info, &rep);
	f = fopen(dump, "w");
	if (!f || pcpu_dump_stats(f) != 0 || fclose(f) != 0)
		_exit(7);
	if (write(ready, "r", 1) != 1)
		_exit(8);
	while (read(hold, &c, 1) > 0)
		;
	_exit(0);
}

/* ---- the model ---- */

static struct report want;

static bool read_report(const char *path)
{
	FILE *f = fopen(path, "r");
	char word[16];
	bool ok = true;

	if (!f)
		return false;
	memset(&want, 0, sizeof(want));
	while (ok && fscanf(f, "%15s", word) == 1) {
		if (!strcmp(word, "geom")) {
			ok = fscanf(f, "%zu %zu %zu %zu %zu %zu %lu", &want.g.chunk_bytes,
				    &want.g.unit_size, &want.g.page_size, &want.g.static_size,
				    &want.g.reserved_size, &want.g.dyn_size,
				    &want.g.nr_chunk_slots) == 7;
		} else if (!strcmp(word, "alloc") && want.nr < MAX_ALLOCS) {
			ok = fscanf(f, "%zu %zu", &want.live[want.nr].off,
				    &want.live[want.nr].size) == 2;
			want.nr++;
		} else if (!strcmp(word, "res")) {
			unsigned long c;
			size_t max;

			ok = fscanf(f, "%lu %zu", &c, &max) == 2 && c < MAX_CHUNKS &&
			     fscanf(f, "%1099s", want.resident[c]) == 1;
			if (ok)
				want.max_size[c] = max;
		} else {
			ok = false;
		}
	}
	fclose(f);
	return ok;
}

/* A region of the model: the reserved or first chunk's dynamic region, or a chunk. */
struct region {
	long index;          /* arena slot */
	int kind;            /* 0 reserved, 1 first chunk's dynamic region, 2 dynamic chunk */
	size_t start, end;   /* unit offsets of what the map can allocate */
};

/* The region @kind of arena slot @index, with its bounds. */
static struct region region_make(long index, int kind)
{
	struct region r = { index, kind, 0, want.g.unit_size };

	if (kind == 0) {
		r.start = want.g.static_size;
		r.end = r.start + want.g.reserved_size;
	} else if (kind == 1) {
		r.start = want.g.static_size + want.g.reserved_size;
		r.end = r.start + want.g.dyn_size;
	}
	return r;
}

/* The region an allocation at @off (from the arena's base) lies in. */
static struct region region_of_off(size_t off)
{
	long index = (long)(off / want.g.chunk_bytes);

	if (index > 0)
		return region_make(index, 2);
	return region_make(0, off % want.g.chunk_bytes < want.g.static_size +
			   want.g.reserved_size ? 0 : 1);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return (x > y) - (x < y);
}

/* The kernel's per-chunk figures the model can know (the pool of empty pages depends on
 * the balance policy: empty_pop_pages is compared with the resident pages instead). */
struct figures {
	long nr_alloc, free_bytes, sum_frag, max_frag, cur_min, cur_med, cur_max, max_alloc;
	long empty_resident; /* resident pages with no allocation in them */
};

static void model_figures(long index, int kind, struct figures *fig)
{
	static size_t sizes[MAX_ALLOCS];
	static struct alloc in[MAX_ALLOCS];
	struct region reg = region_make(index, kind);
	size_t pos, page = want.g.page_size, used = 0;
	int n = 0;

	memset(fig, 0, sizeof(*fig));
	for (int i = 0; i < want.nr; i++) {
		struct region r = region_of_off(want.live[i].off);

		if (r.index != index || r.kind != kind)
			continue;
		in[n] = want.live[i];
		in[n].off %= want.g.chunk_bytes;
		sizes[n++] = want.live[i].size;
		used += want.live[i].size;
	}
	fig->nr_alloc = n;
	fig->free_bytes = (long)(reg.end - reg.start - used);
	qsort(sizes, (size_t)n, sizeof(*sizes), cmp_size);
	if (n) {
		fig->cur_min = (long)sizes[0];
		fig->cur_med = (long)sizes[(n - 1) / 2];
		fig->cur_max = (long)sizes[n - 1];
	}
	fig->max_alloc = index < MAX_CHUNKS && kind != 0 ? (long)want.max_size[index] : 0;
	/* fragments: the gaps between allocations, from the region's start to the last end */
	pos = reg.start;
	for (;;) {
		size_t next = (size_t)-1, next_size = 0;

		for (int i = 0; i < n; i++)
			if (in[i].off >= pos && in[i].off < next) {
				next = in[i].off;
				next_size = in[i].size;
			}
		if (next == (size_t)-1)
			break;
		if (next > pos) {
			fig->sum_frag += (long)(next - pos);
			if ((long)(next - pos) > fig->max_frag)
				fig->max_frag = (long)(next - pos);
		}
		pos = next + next_size;
	}
	/* empty resident pages of the map's own page range */
	for (size_t pg = reg.start / page; pg < (reg.end + page - 1) / page; pg++) {
		/* a page the map hides part of (another region's) is never empty */
		bool empty = pg * page >= reg.start && (pg + 1) * page <= reg.end;

		for (int i = 0; i < n && empty; i++)
			empty = in[i].off + in[i].size <= pg * page || in[i].off >= (pg + 1) * page;
		if (empty && index < MAX_CHUNKS && want.resident[index][pg] == '1')
			fig->empty_resident++;
	}
}

/* ---- parsing the tool's output ---- */

struct chunk_out {
	char label[64];
	long v[11]; /* in the kernel's order: nr_alloc ... cur_max_alloc */
};

static const char *const chunk_fields[11] = {
	"nr_alloc", "max_alloc_size", "empty_pop_pages", "first_bit", "free_bytes", "contig_bytes",
	"sum_frag", "max_frag", "cur_min_alloc", "cur_med_alloc", "cur_max_alloc",
};

/* The first "  NAME   : VALUE" of @text (Global Stats come before the chunks). */
static int global_value(const char *text, const char *name, long *v)
{
	char key[40];
	const char *q;

	snprintf(key, sizeof(key), "  %s ", name);
	q = strstr(text, key);
	if (!q || !(q = strchr(q, ':')))
		return -1;
	*v = strtol(q + 1, NULL, 10);
	return 0;
}

/* Splits percpu_stats text into its per-chunk sections; returns how many, -1 if the text
 * is not in that format.  @global_cur gets Global Stats' nr_cur_alloc. */
static int parse_stats(const char *text, struct chunk_out *out, int max, long *global_cur,
		       long *global_alloc, long *global_dealloc)
{
	const char *p = strstr(text, "\nPer Chunk Stats:\n----------------------------------------\n");
	int n = 0;

	if (!p || !strstr(text, "Percpu Memory Statistics\nAllocation Info:\n"))
		return -1;
	if (global_value(text, "nr_cur_alloc", global_cur) || global_value(text, "nr_alloc", global_alloc) ||
	    global_value(text, "nr_dealloc", global_dealloc))
		return -1;
	p = strchr(p + 1, '\n');
	p = strchr(p + 1, '\n') + 1;
	while (*p && n < max) {
		const char *eol = strchr(p, '\n');

		if (!eol || strncmp(p, "Chunk", 5))
			return -1;
		snprintf(out[n].label, sizeof(out[n].label), "%.*s", (int)(eol - p), p);
		p = eol + 1;
		for (int f = 0; f < 11; f++) {
			char name[32];
			long v;
			int used = 0;

			if (sscanf(p, "  %31s : %ld\n%n", name, &v, &used) != 2 || !used ||
			    strcmp(name, chunk_fields[f]))
				return -1;
			out[n].v[f] = v;
			p = strchr(p, '\n') + 1;
		}
		if (*p != '\n')
			return -1;
		p++;
		n++;
	}
	return n;
}

/* ---- the tests ---- */

static char info_path[64], dump_path[64], svg_path[64];

/* Starts a child running @body(@arg, ready, hold): it writes a byte to ready when it is
 * set, then lives until hold reads end of file.  Returns its PID and the write end of
 * hold (closing it ends the child). */
static pid_t start_child_with(void (*body)(void *, int, int), void *arg, int *hold_w)
{
	int ready[2], hold[2];
	char c;
	pid_t pid;

	CHECK_EQ(pipe(ready), 0);
	CHECK_EQ(pipe(hold), 0);
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]);
		prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0); /* Yama: let the tool read us */
		body(arg, ready[1], hold[0]);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	CHECK_EQ(read(ready[0], &c, 1), 1);
	close(ready[0]);
	*hold_w = hold[1];
	return pid;
}

static void allocating_child(void *arg, int ready, int hold)
{
	child_main((int)(intptr_t)arg, info_path, dump_path, ready, hold);
}

/* The child with @n random allocations (child_main). */
static pid_t start_child(int n, int *hold_w)
{
	return start_child_with(allocating_child, (void *)(intptr_t)n, hold_w);
}

static void stop_child(pid_t pid, int hold_w)
{
	int status;

	close(hold_w);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		fprintf(stderr, "the child failed: status %#x\n", status);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static char *slurp(const char *path)
{
	static char buf[1 << 20];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

/* Compares the tool's per-chunk sections with the model. */
static void check_stats(const char *text)
{
	static struct chunk_out got[MAX_CHUNKS + 2];
	long cur, nalloc, ndealloc, sum_alloc = 0;
	int n = parse_stats(text, got, MAX_CHUNKS + 2, &cur, &nalloc, &ndealloc), dyn = 0;
	bool matched[MAX_CHUNKS] = { false };

	CHECK(n >= 2);
	if (n < 2) {
		fprintf(stderr, "not percpu_stats text:\n%s\n", text);
		return;
	}
	CHECK_EQ(cur, want.nr);
	CHECK_EQ(cur, nalloc - ndealloc);
	CHECK(strstr(got[0].label, "Reserved") != NULL);
	for (int i = 0; i < n; i++) {
		struct figures fig;
		long index = -1;
		int kind = strstr(got[i].label, "Reserved") ? 0 : strstr(got[i].label, "First") ? 1 : 2;

		sum_alloc += got[i].v[0];
		if (kind < 2) {
			index = 0;
		} else {
			/* the dynamic chunks' sections name no slot: find the model chunk with
			 * the same figures (no chunk matched twice) */
			for (long c = 1; c < (long)want.g.nr_chunk_slots && c < MAX_CHUNKS; c++) {
				model_figures(c, 2, &fig);
				if (!matched[c] && fig.nr_alloc == got[i].v[0] &&
				    fig.free_bytes == got[i].v[4] && fig.sum_frag == got[i].v[6] &&
				    fig.cur_med == got[i].v[9]) {
					index = c;
					matched[c] = true;
					break;
				}
			}
			dyn++;
		}
		CHECK(index >= 0);
		if (index < 0) {
			fprintf(stderr, "no chunk of the model has the figures of section %d (%s): "
				"nr_alloc %ld free_bytes %ld\n", i, got[i].label, got[i].v[0], got[i].v[4]);
			continue;
		}
		model_figures(index, kind, &fig);
		CHECK_EQ(got[i].v[0], fig.nr_alloc);
		CHECK_EQ(got[i].v[4], fig.free_bytes);
		CHECK_EQ(got[i].v[6], fig.sum_frag);
		CHECK_EQ(got[i].v[7], fig.max_frag);
		CHECK_EQ(got[i].v[8], fig.cur_min);
		CHECK_EQ(got[i].v[9], fig.cur_med);
		CHECK_EQ(got[i].v[10], fig.cur_max);
		CHECK_EQ(got[i].v[2], fig.empty_resident);
		/* the largest ever: at least the largest live one, at most the largest made */
		CHECK(got[i].v[1] >= fig.cur_max);
		if (kind != 0)
			CHECK(got[i].v[1] <= fig.max_alloc);
		/* the longest free run cannot be shorter than the longest fragment */
		CHECK(got[i].v[5] >= fig.max_frag);
		CHECK(got[i].v[5] <= got[i].v[4]);
	}
	CHECK_EQ(sum_alloc, want.nr);
	CHECK(dyn >= 1);
}

/* The map's class of each page of a region, from the model: # full, + partly used,
 * . free and resident, - free and not. */
static char model_cell(long index, int kind, size_t pg)
{
	struct region reg = region_make(index, kind);
	size_t page = want.g.page_size, lo, hi, used = 0;

	lo = pg * page > reg.start ? pg * page : reg.start;
	hi = (pg + 1) * page < reg.end ? (pg + 1) * page : reg.end;
	if (lo >= hi)
		return ' ';
	for (int i = 0; i < want.nr; i++) {
		struct region r = region_of_off(want.live[i].off);
		size_t a = want.live[i].off % want.g.chunk_bytes, b = a + want.live[i].size;

		if (r.index != index || r.kind != kind)
			continue;
		if (a < lo)
			a = lo;
		if (b > hi)
			b = hi;
		if (a < b)
			used += b - a;
	}
	if (used == hi - lo)
		return '#';
	if (used)
		return '+';
	return want.resident[index][pg] == '1' ? '.' : '-';
}

/* Compares the map's rows ("chunk N KIND  page P |cells|", continued by "page P |...|"
 * lines) with the model; returns the number of cells drawn. */
static int check_map(const char *text)
{
	const char *p = text;
	long index = -1;
	int kind = -1, rows = 0, cells = 0, bad = 0;

	while ((p = strchr(p, '\n')) != NULL) {
		const char *bar, *end;
		char label[64] = "";
		int page = -1;

		p++;
		bar = strchr(p, '|');
		end = bar ? strchr(bar + 1, '|') : NULL;
		if (!bar || !end || (strchr(p, '\n') && strchr(p, '\n') < end))
			continue;
		if (!strncmp(p, "chunk ", 6)) {
			if (sscanf(p, "chunk %ld %63s", &index, label) < 1)
				return -1;
			kind = !strcmp(label, "static") ? 3 : !strcmp(label, "reserved") ? 0 :
			       !strcmp(label, "dynamic") && index == 0 ? 1 : 2;
			rows++;
		}
		{
			const char *pg = strstr(p, " page ");

			if (!pg || pg > bar || sscanf(pg + 6, "%d", &page) != 1)
				return -1;
		}
		for (const char *c = bar + 1; c < end; c++, page++) {
			char w = kind == 3 ? 'S' : model_cell(index, kind, (size_t)page);

			cells += *c != ' ';
			if (*c != w && bad++ < 10)
				fprintf(stderr, "map: chunk %ld (%s) page %d: '%c', the model says "
					"'%c'\n", index, label, page, *c, w);
		}
	}
	CHECK_EQ(bad, 0);
	CHECK(rows >= 3);
	return cells;
}

static void test_stats_and_map(int n)
{
	struct result r;
	int hold;
	pid_t pid = start_child(n, &hold);
	char pidtext[16];
	const char *svg;
	int cells, rects = 0;

	snprintf(pidtext, sizeof(pidtext), "%d", (int)pid);
	CHECK(read_report(info_path));
	run(&r, NULL, NULL, 30, ARGS("stats", "--pid", pidtext));
	CHECK_EQ(r.status, 0);
	if (strcmp(r.out, slurp(dump_path)) != 0)
		fprintf(stderr, "stats --pid differs from the process's own dump:\n%s\n---\n%s\n",
			r.out, slurp(dump_path));
	CHECK(strcmp(r.out, slurp(dump_path)) == 0);
	check_stats(r.out);

	run(&r, NULL, NULL, 30, ARGS("map", "--pid", pidtext, "--svg", svg_path));
	CHECK_EQ(r.status, 0);
	CHECK(strstr(r.out, "libpercpu chunk map of process ") != NULL);
	cells = check_map(r.out);
	svg = slurp(svg_path);
	CHECK(!strncmp(svg, "<?xml", 5) && strstr(svg, "</svg>\n") != NULL);
	for (const char *q = svg; (q = strstr(q, "<title>")) != NULL; q++)
		rects++;
	CHECK_EQ(rects, cells); /* one cell of the picture per cell of the text */
	stop_child(pid, hold);
}

/* Errors: each is one line naming the PID and the reason, exit status 1. */
static void test_errors(void)
{
	struct result r;
	char pidtext[16], want_line[128];
	int status, in[2], hold;
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, &status, 0);
	snprintf(pidtext, sizeof(pidtext), "%d", (int)pid);
	snprintf(want_line, sizeof(want_line), "percpu-info: process %d: no such process\n", (int)pid);
	run(&r, NULL, NULL, 10, ARGS("stats", "--pid", pidtext));
	expect(&r, "stats --pid (gone)", 1, ARGS(want_line));

	/* a process without libpercpu: cat, waiting on a pipe */
	CHECK_EQ(pipe(in), 0);
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		close(in[1]);
		execl("/bin/cat", "cat", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	snprintf(pidtext, sizeof(pidtext), "%d", (int)pid);
	snprintf(want_line, sizeof(want_line), "percpu-info: process %d: does not use libpercpu",
		 (int)pid);
	run(&r, NULL, NULL, 10, ARGS("map", "--pid", pidtext));
	expect(&r, "map --pid (cat)", 1, ARGS(want_line));
	close(in[1]);
	waitpid(pid, &status, 0);

	/* not permitted: another user's process */
	if (geteuid() == 0) {
		pid = start_child(8, &hold);
		snprintf(pidtext, sizeof(pidtext), "%d", (int)pid);
		snprintf(want_line, sizeof(want_line), "percpu-info: process %d: not permitted",
			 (int)pid);
		run_as_uid = 65534;
		run(&r, NULL, NULL, 10, ARGS("stats", "--pid", pidtext));
		run_as_uid = -1;
		expect(&r, "stats --pid (another user's)", 1, ARGS(want_line));
		stop_child(pid, hold);
	} else {
		printf("test_errors: not root: the not-permitted case is skipped\n");
	}

	run(&r, NULL, NULL, 10, ARGS("stats", "--pid", "12x"));
	expect(&r, "stats --pid 12x", 2, ARGS("percpu-info: --pid: '12x' is not a process ID"));
	run(&r, NULL, NULL, 10, ARGS("stats", "--pid"));
	expect(&r, "stats --pid", 2, ARGS("percpu-info: option '--pid' needs a value"));
	run(&r, NULL, NULL, 10, ARGS("stats", "--svg", "x.svg"));
	expect(&r, "stats --svg", 2, ARGS("percpu-info: unknown option '--svg' for 'stats'"));
}

/* A process that exits at a random moment while the tool reads it: either a complete
 * answer or one line saying it went away; never a hang or a crash. */
static void test_exit_while_read(int rounds)
{
	for (int i = 0; i < rounds; i++) {
		struct result r;
		char pidtext[16];
		int hold, status;
		pid_t pid = start_child(300, &hold);
		unsigned int delay = (unsigned int)(tu_rand() % 3000);

		snprintf(pidtext, sizeof(pidtext), "%d", (int)pid);
		if (fork() == 0) { /* ends the child after @delay microseconds */
			usleep(delay);
			kill(pid, SIGKILL);
			_exit(0);
		}
		run(&r, NULL, NULL, 10, ARGS(i % 2 ? "stats" : "map", "--pid", pidtext));
		close(hold);
		waitpid(pid, &status, 0);
		while (wait(&status) > 0)
			;
		CHECK(r.status == 0 || r.status == 1);
		if (r.status == 1) {
			bool known = strstr(r.err, "exited while being read") ||
				     strstr(r.err, "no such process") || strstr(r.err, "has exited");
			char prefix[64];

			snprintf(prefix, sizeof(prefix), "percpu-info: process %d: ", (int)pid);
			if (!known || strncmp(r.err, prefix, strlen(prefix)) ||
			    strchr(r.err, '\n') != r.err + strlen(r.err) - 1)
				fprintf(stderr, "exit while read: %s", r.err);
			CHECK(known);
			CHECK(!strncmp(r.err, prefix, strlen(prefix)));
			CHECK(strchr(r.err, '\n') == r.err + strlen(r.err) - 1);
		}
	}
}

/* ---- torn reads: a process allocating and freeing in two threads ---- */

static int churn_stop;

static void *churn(void *arg)
{
	uint64_t s = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
	void *held[64] = { NULL };

	while (!__atomic_load_n(&churn_stop, __ATOMIC_RELAXED)) {
		for (int k = 0; k < 40; k++) {
			int i;

			s = s * 6364136223846793005ull + 1442695040888963407ull;
			i = (int)(s >> 58);
			if (held[i]) {
				pcpu_free(held[i]);
				held[i] = NULL;
			} else {
				held[i] = pcpu_alloc(4 + (s >> 20) % 6000, 8);
			}
		}
		usleep(100); /* pauses in which a consistent copy can be taken */
	}
	for (int i = 0; i < 64; i++)
		pcpu_free(held[i]);
	return NULL;
}

/* The busy child: two threads allocating and freeing until hold reads end of file. */
static void churning_child(void *arg, int ready, int hold)
{
	pthread_t t[2];
	char c;

	(void)arg;
	/* initialized before "ready": percpu-info finds the anchor from the first read */
	if (pcpu_init() != 0)
		_exit(9);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 1));
	if (write(ready, "r", 1) != 1)
		_exit(8);
	while (read(hold, &c, 1) > 0)
		;
	__atomic_store_n(&churn_stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
}

static void test_torn_reads(int rounds)
{
	int hold;
	pid_t pid = start_child_with(churning_child, NULL, &hold);

	for (int i = 0; i < rounds; i++) {
		static struct chunk_out got[MAX_CHUNKS + 2];
		struct result r;
		char pidtext[16];
		long cur, nalloc, ndealloc, sum = 0;
		int n;

		snprintf(pidtext, sizeof(pidtext), "%d", (int)pid);
		run(&r, NULL, NULL, 20, ARGS("stats", "--pid", pidtext));
		if (r.status != 0)
			fprintf(stderr, "stats --pid of a busy process: %s", r.err);
		CHECK_EQ(r.status, 0);
		n = parse_stats(r.out, got, MAX_CHUNKS + 2, &cur, &nalloc, &ndealloc);
		CHECK(n >= 2);
		for (int k = 0; k < n; k++)
			sum += got[k].v[0];
		/* one moment: the counters and the maps agree */
		CHECK_EQ(cur, nalloc - ndealloc);
		CHECK_EQ(sum, cur);
	}
	stop_child(pid, hold);
}

/* LIBPERCPU_STATS=stderr prints the statistics, per chunk too, when the process exits. */
static void test_stats_at_exit(void)
{
	struct result r;

	run(&r, "LIBPERCPU_STATS=stderr", NULL, 10, ARGS("cpu"));
	expect(&r, "LIBPERCPU_STATS=stderr", 0,
	       ARGS("Percpu Memory Statistics\n", "\nPer Chunk Stats:\n", "Chunk: <- First Chunk\n"));
	CHECK(strstr(r.out, "Percpu Memory Statistics") == NULL);
	run(&r, "LIBPERCPU_STATS=0", NULL, 10, ARGS("cpu"));
	expect(&r, "LIBPERCPU_STATS=0", 0, ARGS(""));
	CHECK(strstr(r.err, "Percpu Memory Statistics") == NULL);
	run(&r, "LIBPERCPU_STATS=stdout2", NULL, 10, ARGS("cpu"));
	expect(&r, "LIBPERCPU_STATS=stdout2", 1, ARGS("libpercpu: LIBPERCPU_STATS=stdout2: "));
}

int main(int argc, char **argv)
{
	(void)argc;
	if (getenv("PCPU_TEST_RUNNER")) {
		/* qemu-user: the child's /proc/PID/maps and memory are the emulator's, where
		 * the guest's addresses are not the host's */
		printf("SKIP test_inspect: --pid cannot read a process emulated by %s\n",
		       getenv("PCPU_TEST_RUNNER"));
		return 0;
	}
	if (tool_find(argv[0]) != 0)
		return 1;
	/* The model reads residency with mincore: every unit is populated in CPU mode only
	 * (in cid mode a unit is filled as its ID is first used). */
	unsetenv("LIBPERCPU_INDEX");
	tu_seed("test_inspect");
	snprintf(info_path, sizeof(info_path), "/tmp/pcpu-inspect-%d.info", (int)getpid());
	snprintf(dump_path, sizeof(dump_path), "/tmp/pcpu-inspect-%d.dump", (int)getpid());
	snprintf(svg_path, sizeof(svg_path), "/tmp/pcpu-inspect-%d.svg", (int)getpid());
	for (int i = 0; i < 3; i++)
		test_stats_and_map(i == 0 ? 40 : (int)tu_scaled(400));
	test_errors();
	test_exit_while_read((int)tu_scaled(10) + 2);
	test_torn_reads((int)tu_scaled(40) + 4);
	test_stats_at_exit();
	unlink(info_path);
	unlink(dump_path);
	unlink(svg_path);
	TEST_DONE();
}
