/* SPDX-License-Identifier: MIT */
/* fuzz_sysfs.c - libFuzzer target for the sysfs reader (_pcpu_topology_read_sysfs in
 * src/topology.c).  The input describes a fake /sys/devices/system tree: which of
 * cpu/possible, cpu/present and cpu/online exist, node directories (sparse ids, odd names
 * such as "node007" or "node" alone), their cpulist and distance files, the text of
 * every file, and FIFOs or directories where files are expected (never to be opened
 * for reading: a FIFO would block).  The tree is written to a temporary directory and
 * read through the real reader; a reference written from the documented rules
 * (possible, else present, else online; an online list names a possible CPU; a CPU
 * belongs to the lowest node listing it; a distance row has one value per node
 * directory, or per node id) predicts the topology, or the failure. */
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_input.h"
#include "topology.h"
#include "../tests/testutil.h"

#define MAX_FILES 32
#define MAX_DIRS 6

/* The files written this run, for the reference to look up. */
struct tree {
	char root[64];
	int nr;
	char rel[MAX_FILES][48];
	char *text[MAX_FILES];  /* NULL: a FIFO or a directory, not a regular file */
};

enum { ABSENT, REGULAR, SPECIAL };

/* What the reader finds at @rel, and a regular file's text in *@text. */
static int tree_lookup(const struct tree *tr, const char *rel, const char **text)
{
	for (int i = 0; i < tr->nr; i++) {
		if (!strcmp(tr->rel[i], rel)) {
			*text = tr->text[i];
			return tr->text[i] ? REGULAR : SPECIAL;
		}
	}
	return ABSENT;
}

/* The next file's text: input bytes up to a NUL or the end. */
static char *take_text(struct input *in)
{
	const uint8_t *start = in->p;
	char *s;

	while (in->p < in->end && *in->p)
		in->p++;
	s = strndup((const char *)start, (size_t)(in->p - start));
	if (in->p < in->end)
		in->p++;
	if (!s)
		abort();
	return s;
}

/* A regular file with the input's next text, or (@special) a FIFO or a directory. */
static void add_file(struct tree *tr, const char *rel, struct input *in, unsigned int special)
{
	const char *text;
	char path[160];
	FILE *f;

	if (tr->nr == MAX_FILES || tree_lookup(tr, rel, &text) != ABSENT)
		return;
	snprintf(tr->rel[tr->nr], sizeof(tr->rel[0]), "%s", rel);
	snprintf(path, sizeof(path), "%s/%s", tr->root, rel);
	tr->text[tr->nr] = NULL;
	if (special == 1) {
		if (mkfifo(path, 0600))
			abort();
	} else if (special) {
		if (mkdir(path, 0700))
			abort();
	} else {
		tr->text[tr->nr] = take_text(in);
		f = fopen(path, "w");
		if (!f || fputs(tr->text[tr->nr], f) < 0 || fclose(f))
			abort();
	}
	tr->nr++;
}

static char root[64];  /* this process's temporary directory */

static void remove_root(void)
{
	rmdir(root);
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

/* ---- the reference ---------------------------------------------------------------- */

struct ref {
	uint64_t *possible, *online;
	unsigned int nr_cpu_ids, online_bits;
	int ids[MAX_DIRS], nr_ids, nr_nodes;
	int *cpu_to_node;
	unsigned char *distance;
};

/* "nodeN" with N decimal (leading zeros allowed) -> N, else -1. */
static long ref_node_id(const char *name)
{
	long v = 0;

	if (strncmp(name, "node", 4) || !name[4])
		return -1;
	for (const char *p = name + 4; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
		if (v > 1 << 30)
			return -1;
	}
	return v;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* A CPU list file's text parsed, or -1 (absent: ENOENT; not a regular file: EINVAL). */
static int ref_cpulist(const struct tree *tr, const char *rel, uint64_t **bits, unsigned int *nbits)
{
	const char *text;

	switch (tree_lookup(tr, rel, &text)) {
	case ABSENT:
		errno = ENOENT;
		return -1;
	case SPECIAL:
		errno = EINVAL;
		return -1;
	default:
		return _pcpu_cpulist_parse(text, bits, nbits);
	}
}

static void ref_distance_row(struct ref *r, const struct tree *tr, int node)
{
	char rel[48];
	const char *text;
	static unsigned int vals[PCPU_MAX_NODES];
	int n = 0;

	snprintf(rel, sizeof(rel), "node/node%d/distance", node);
	if (tree_lookup(tr, rel, &text) != REGULAR)
		return;
	for (const char *p = text;;) {
		unsigned long v = 0;
		const char *q;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p)
			break;
		for (q = p; *q >= '0' && *q <= '9' && v <= 255; q++)
			v = v * 10 + (unsigned long)(*q - '0');
		if (q == p || v > 255 || (*q && *q != ' ' && *q != '\t' && *q != '\n' && *q != '\r'))
			return;
		if (n == PCPU_MAX_NODES)
			return;
		vals[n++] = (unsigned int)v;
		p = q;
	}
	if (n == r->nr_ids)
		for (int k = 0; k < n; k++)
			r->distance[node * r->nr_nodes + r->ids[k]] = (unsigned char)vals[k];
	else if (n == r->nr_nodes)
		for (int k = 0; k < n; k++)
			r->distance[node * r->nr_nodes + k] = (unsigned char)vals[k];
}

/* 0 and the topology in @r, or -1 (the reader must fail too). */
static int ref_read(struct ref *r, const struct tree *tr, char names[][16], int nr_names)
{
	memset(r, 0, sizeof(*r));
	if (ref_cpulist(tr, "cpu/possible", &r->possible, &r->nr_cpu_ids) &&
	    (errno != ENOENT || ref_cpulist(tr, "cpu/present", &r->possible, &r->nr_cpu_ids)) &&
	    (errno != ENOENT || ref_cpulist(tr, "cpu/online", &r->possible, &r->nr_cpu_ids)))
		return -1;
	if (!r->nr_cpu_ids)
		return -1;
	if (ref_cpulist(tr, "cpu/online", &r->online, &r->online_bits) == 0) {
		bool any = false; /* a listed online file must name a possible CPU */

		for (unsigned int cpu = 0; cpu < r->nr_cpu_ids && cpu < r->online_bits; cpu++)
			any |= _pcpu_topology_test(r->online, cpu) &&
			       _pcpu_topology_test(r->possible, cpu);
		if (!any)
			return -1;
	} else if (errno != ENOENT) {
		return -1;
	}
	for (int i = 0; i < nr_names; i++) {
		long id = ref_node_id(names[i]);

		if (id >= PCPU_MAX_NODES)
			return -1;
		if (id >= 0)
			r->ids[r->nr_ids++] = (int)id;
	}
	qsort(r->ids, (size_t)r->nr_ids, sizeof(int), cmp_int);
	r->nr_nodes = r->nr_ids ? r->ids[r->nr_ids - 1] + 1 : 1;
	r->cpu_to_node = calloc(r->nr_cpu_ids, sizeof(int));
	r->distance = malloc((size_t)r->nr_nodes * (size_t)r->nr_nodes);
	if (!r->cpu_to_node || !r->distance)
		abort();
	for (int a = 0; a < r->nr_nodes; a++)
		for (int b = 0; b < r->nr_nodes; b++)
			r->distance[a * r->nr_nodes + b] =
				a == b ? PCPU_LOCAL_DISTANCE : PCPU_REMOTE_DISTANCE;
	/* the lowest node listing a possible CPU gets it */
	for (int k = r->nr_ids - 1; k >= 0; k--) {
		char rel[48];
		uint64_t *cpus;
		unsigned int nbits;

		snprintf(rel, sizeof(rel), "node/node%d/cpulist", r->ids[k]);
		if (ref_cpulist(tr, rel, &cpus, &nbits)) {
			if (errno == ENOENT)
				continue;
			return -1;
		}
		for (unsigned int cpu = 0; cpu < nbits && cpu < r->nr_cpu_ids; cpu++)
			if (_pcpu_topology_test(cpus, cpu) && _pcpu_topology_test(r->possible, cpu))
				r->cpu_to_node[cpu] = r->ids[k];
		free(cpus);
	}
	for (int k = 0; k < r->nr_ids; k++)
		ref_distance_row(r, tr, r->ids[k]);
	return 0;
}

static void ref_free(struct ref *r)
{
	free(r->possible);
	free(r->online);
	free(r->cpu_to_node);
	free(r->distance);
}

static void check_topology(const struct pcpu_topology *t, const struct ref *r)
{
	unsigned int possible = 0, online = 0;

	CHECK_EQ(t->nr_cpu_ids, r->nr_cpu_ids);
	CHECK_EQ(t->nr_nodes, r->nr_nodes);
	CHECK(!t->simulated);
	if (tu_failures)
		return;
	for (unsigned int cpu = 0; cpu < t->nr_cpu_ids && !tu_failures; cpu++) {
		bool pos = _pcpu_topology_test(r->possible, cpu);
		bool on = pos && (!r->online ||
				  (cpu < r->online_bits && _pcpu_topology_test(r->online, cpu)));

		CHECK_EQ(_pcpu_topology_test(t->possible, cpu), pos);
		CHECK_EQ(_pcpu_topology_test(t->online, cpu), on);
		possible += pos;
		online += on;
		if (pos)
			CHECK_EQ(t->cpu_to_node[cpu], r->cpu_to_node[cpu]);
	}
	CHECK_EQ(t->nr_possible, possible);
	CHECK_EQ(t->nr_online, online);
	CHECK(!memcmp(t->distance, r->distance, (size_t)r->nr_nodes * (size_t)r->nr_nodes));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, data + size };
	struct tree tr = { .nr = 0 };
	char names[MAX_DIRS][16], path[160];
	unsigned int flags = take8(&in);
	int nr_names = (int)(take8(&in) % (MAX_DIRS + 1));
	struct pcpu_topology t;
	struct timespec t0, t1;
	struct ref r;
	int ret, expect;

	if (!root[0]) {
		/* a tmpfs when there is one: each run makes and removes a dozen files, and
		 * on a disk file system that costs 20 times the rest of the run */
		const char *tmp = getenv("TMPDIR");

		if (!tmp)
			tmp = access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(root, sizeof(root), "%s/pcpu-fuzz-sysfs-XXXXXX", tmp);
		if (strlen(root) >= 40 || !mkdtemp(root))
			abort();
		atexit(remove_root);
	}
	snprintf(tr.root, sizeof(tr.root), "%s/s", root);
	snprintf(path, sizeof(path), "%s/cpu", tr.root);
	if (mkdir(tr.root, 0700) || mkdir(path, 0700))
		abort();
	/* bits 0-2: possible, present, online exist; bit 3: node/ is a directory (else,
	 * with bit 7, a plain file: no nodes either); bits 4-6: the CPU files are FIFOs */
	if (flags & 1)
		add_file(&tr, "cpu/possible", &in, flags >> 4 & 1);
	if (flags & 2)
		add_file(&tr, "cpu/present", &in, flags >> 5 & 1);
	if (flags & 4)
		add_file(&tr, "cpu/online", &in, flags >> 6 & 1);
	snprintf(path, sizeof(path), "%s/node", tr.root);
	if (flags & 8) {
		if (mkdir(path, 0700))
			abort();
	} else {
		nr_names = 0;
		if (flags & 0x80)
			add_file(&tr, "node", &in, 0);
	}
	for (int i = 0; i < nr_names; i++) {
		unsigned int kind = take8(&in), id = take16(&in);
		char rel[48];

		/* mostly small ids, some near and above the limit, some names that are not
		 * node directories at all */
		id = kind & 0x80 ? id % 1100 : id % 8;
		if (kind % 8 == 6)
			snprintf(names[i], sizeof(names[i]), "node");
		else if (kind % 8 == 7)
			snprintf(names[i], sizeof(names[i]), "node%ux", id);
		else
			snprintf(names[i], sizeof(names[i]), kind & 0x40 ? "node0%u" : "node%u", id);
		snprintf(path, sizeof(path), "%s/node/%.15s", tr.root, names[i]);
		if (mkdir(path, 0700) && errno != EEXIST)
			abort();
		snprintf(rel, sizeof(rel), "node/%.15s/cpulist", names[i]);
		/* bits 3 and 4: the file is a FIFO, or with bit 5 a directory */
		if (kind & 1)
			add_file(&tr, rel, &in, kind >> 3 & 1 ? 1 + (kind >> 5 & 1) : 0);
		snprintf(rel, sizeof(rel), "node/%.15s/distance", names[i]);
		if (kind & 2)
			add_file(&tr, rel, &in, kind >> 4 & 1 ? 1 + (kind >> 5 & 1) : 0);
	}
	/* names created twice ("node1" from two entries) count once, as readdir sees them */
	for (int i = 0; i < nr_names; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp(names[i], names[j])) {
				memmove(names[i], names[i + 1], sizeof(names[0]) * (size_t)(nr_names - i - 1));
				nr_names--;
				i--;
				break;
			}

	expect = ref_read(&r, &tr, names, nr_names);
	errno = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = _pcpu_topology_read_sysfs(&t, tr.root);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* A read of a FIFO blocks until libFuzzer's watchdog signal interrupts it, seconds
	 * later, and then fails as a refusal would: only the time tells. */
	CHECK(t1.tv_sec - t0.tv_sec < 2);
	CHECK_EQ(ret, expect);
	if (ret == 0 && expect == 0) {
		check_topology(&t, &r);
		_pcpu_topology_free(&t);
	} else if (ret != 0) {
		CHECK(errno != 0);
	}
	ref_free(&r);

	if (nftw(tr.root, remove_one, 8, FTW_DEPTH | FTW_PHYS))
		abort();
	for (int i = 0; i < tr.nr; i++)
		free(tr.text[i]);
	if (tu_failures)
		abort();
	return 0;
}
