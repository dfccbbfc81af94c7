/* SPDX-License-Identifier: MIT */
/* topology.c - which CPUs exist, which node each belongs to and how far apart the nodes are:
 * read from sysfs for the real machine, or built from a "LIST;LIST" spec for simulations. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "topology.h"

/* sysfs files here are a few KiB at most; a node distance row for 1024 nodes is ~4 KiB. */
#define SYSFS_FILE_MAX_BYTES (1u << 20)

/* One element of a CPU list: CPUs first..last, of which the first @used of every @group
 * (the kernel's "a-b:used/group" form; plain "a-b" is used == group == 1). */
struct cpu_range {
	unsigned int first;
	unsigned int last;
	unsigned int used;
	unsigned int group;
};

static size_t bitmap_words(unsigned int nbits)
{
	return nbits ? (nbits + 63) / 64 : 1;
}

static void bitmap_set(uint64_t *bits, unsigned int bit)
{
	bits[bit / 64] |= UINT64_C(1) << (bit % 64);
}

static unsigned int bitmap_weight(const uint64_t *bits, unsigned int nbits)
{
	unsigned int n = 0;

	for (size_t i = 0; i < bitmap_words(nbits); i++)
		n += (unsigned int)__builtin_popcountll(bits[i]);
	return n;
}

static bool range_has(const struct cpu_range *r, unsigned int cpu)
{
	return cpu >= r->first && cpu <= r->last && (cpu - r->first) % r->group < r->used;
}

static void set_msg(char *msg, size_t msglen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_msg(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	if (!msg || !msglen)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
}

/* Decimal number without sign; stops at the first non-digit.  Values above @max fail so
 * that "99999999999" is reported rather than wrapped. */
static int parse_uint(const char **pp, const char *end, unsigned int max, unsigned int *val)
{
	const char *p = *pp;
	unsigned long v = 0;

	if (p == end || !isdigit((unsigned char)*p))
		return -1;
	while (p < end && isdigit((unsigned char)*p)) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > max)
			return -1;
		p++;
	}
	*pp = p;
	*val = (unsigned int)v;
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A number in element elem[0..len) failed to parse at @q: out of range if digits
 * remain there, else malformed (@what: "element" or "range"). */
static void bad_number(char *why, size_t whylen, const char *elem, const char *elem_end,
		       const char *q, const char *what)
{
	if (q < elem_end && isdigit((unsigned char)*q))
		set_msg(why, whylen, "CPU number in '%.*s' out of range (limit %u)",
			(int)(elem_end - elem), elem, PCPU_MAX_CPUS - 1);
	else
		set_msg(why, whylen, "malformed %s '%.*s'", what, (int)(elem_end - elem), elem);
}

/* One element of a CPU list, elem[0..elem_end): "a", "a-b" or "a-b:used/group". */
static int parse_range(const char *elem, const char *elem_end, struct cpu_range *r,
		       char *why, size_t whylen)
{
	const char *q = elem;

	if (parse_uint(&q, elem_end, PCPU_MAX_CPUS - 1, &r->first)) {
		bad_number(why, whylen, elem, elem_end, q, "element");
		return -1;
	}
	r->last = r->first;
	r->used = r->group = 1;
	if (q < elem_end && *q == '-') {
		q++;
		if (parse_uint(&q, elem_end, PCPU_MAX_CPUS - 1, &r->last)) {
			bad_number(why, whylen, elem, elem_end, q, "range");
			return -1;
		}
		if (q < elem_end && *q == ':') {
			q++;
			if (parse_uint(&q, elem_end, PCPU_MAX_CPUS, &r->used) || q == elem_end ||
			    *q++ != '/' ||
			    parse_uint(&q, elem_end, PCPU_MAX_CPUS, &r->group) ||
			    r->used == 0 || r->group == 0 || r->used > r->group) {
				set_msg(why, whylen, "malformed stride in '%.*s'",
					(int)(elem_end - elem), elem);
				return -1;
			}
		}
	}
	if (q != elem_end) {
		set_msg(why, whylen, "malformed element '%.*s'", (int)(elem_end - elem), elem);
		return -1;
	}
	if (r->last < r->first) {
		set_msg(why, whylen, "malformed range '%.*s' (end before start)",
			(int)(elem_end - elem), elem);
		return -1;
	}
	return 0;
}

/* Appends @r to the growing array *ranges of *n entries and room for *cap. */
static int push_range(struct cpu_range **ranges, size_t *n, size_t *cap,
		      const struct cpu_range *r)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct cpu_range *nr = realloc(*ranges, ncap * sizeof(*nr));

		if (!nr)
			return -1;
		*ranges = nr;
		*cap = ncap;
	}
	(*ranges)[(*n)++] = *r;
	return 0;
}

/*
 * Splits s[0..len) into ranges.  Surrounding blanks are ignored (sysfs ends its lists
 * with a newline); an empty list yields no ranges.  On error, @why names the element.
 */
static int parse_ranges(const char *s, size_t len, struct cpu_range **out, size_t *count,
			char *why, size_t whylen)
{
	const char *p = s, *end = s + len;
	struct cpu_range *ranges = NULL;
	size_t n = 0, cap = 0;

	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;

	while (p < end) {
		const char *elem_end = memchr(p, ',', (size_t)(end - p));
		struct cpu_range r;

		if (!elem_end)
			elem_end = end;
		if (p == elem_end) {
			set_msg(why, whylen, "empty element in CPU list");
			goto bad;
		}
		if (parse_range(p, elem_end, &r, why, whylen))
			goto bad;
		if (push_range(&ranges, &n, &cap, &r)) {
			free(ranges);
			errno = ENOMEM;
			return -1;
		}
		p = elem_end;
		if (p < end) {
			p++; /* the comma */
			if (p == end) {
				set_msg(why, whylen, "trailing ',' in CPU list");
				goto bad;
			}
		}
	}
	*out = ranges;
	*count = n;
	return 0;
bad:
	free(ranges);
	errno = EINVAL;
	return -1;
}

static unsigned int ranges_nbits(const struct cpu_range *r, size_t n)
{
	unsigned int nbits = 0;

	for (size_t i = 0; i < n; i++) {
		/* highest CPU actually named: the stride may skip the end of the range */
		unsigned int span = r[i].last - r[i].first;
		unsigned int top = r[i].first + span / r[i].group * r[i].group;

		top += span % r[i].group < r[i].used ? span % r[i].group : r[i].used - 1;
		if (top + 1 > nbits)
			nbits = top + 1;
	}
	return nbits;
}

int _pcpu_cpulist_parse(const char *s, uint64_t **bits, unsigned int *nbits)
{
	struct cpu_range *ranges;
	size_t n;
	unsigned int width;
	uint64_t *map;

	if (!s || !bits || !nbits) {
		errno = EINVAL;
		return -1;
	}
	if (parse_ranges(s, strlen(s), &ranges, &n, NULL, 0))
		return -1;
	width = ranges_nbits(ranges, n);
	map = calloc(bitmap_words(width), sizeof(*map));
	if (!map) {
		free(ranges);
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		for (unsigned int cpu = ranges[i].first; cpu <= ranges[i].last; cpu++)
			if (range_has(&ranges[i], cpu))
				bitmap_set(map, cpu);
	free(ranges);
	*bits = map;
	*nbits = width;
	return 0;
}

void _pcpu_topology_free(struct pcpu_topology *t)
{
	if (!t)
		return;
	free(t->possible);
	free(t->online);
	free(t->cpu_to_node);
	free(t->distance);
	memset(t, 0, sizeof(*t));
}

int _pcpu_topology_cpu_distance(const struct pcpu_topology *t, unsigned int a, unsigned int b)
{
	int na, nb;

	if (a >= t->nr_cpu_ids || b >= t->nr_cpu_ids)
		return PCPU_REMOTE_DISTANCE;
	na = t->cpu_to_node[a];
	nb = t->cpu_to_node[b];
	if (na < 0 || nb < 0 || na >= t->nr_nodes || nb >= t->nr_nodes)
		return PCPU_REMOTE_DISTANCE;
	return t->distance[na * t->nr_nodes + nb];
}

/* Allocates the arrays for @nr_cpu_ids CPUs and @nr_nodes nodes with default distances. */
static int topology_alloc(struct pcpu_topology *t, unsigned int nr_cpu_ids, int nr_nodes)
{
	memset(t, 0, sizeof(*t));
	t->nr_cpu_ids = nr_cpu_ids;
	t->nr_nodes = nr_nodes;
	t->possible = calloc(bitmap_words(nr_cpu_ids), sizeof(uint64_t));
	t->online = calloc(bitmap_words(nr_cpu_ids), sizeof(uint64_t));
	t->cpu_to_node = calloc(nr_cpu_ids ? nr_cpu_ids : 1, sizeof(int));
	t->distance = malloc((size_t)nr_nodes * (size_t)nr_nodes);
	if (!t->possible || !t->online || !t->cpu_to_node || !t->distance) {
		_pcpu_topology_free(t);
		errno = ENOMEM;
		return -1;
	}
	for (int a = 0; a < nr_nodes; a++)
		for (int b = 0; b < nr_nodes; b++)
			t->distance[a * nr_nodes + b] =
				a == b ? PCPU_LOCAL_DISTANCE : PCPU_REMOTE_DISTANCE;
	return 0;
}

/* Number of nodes in @spec (one more than its ';'), or -1 if over PCPU_MAX_NODES. */
static int spec_nr_nodes(const char *spec, char *err, size_t errlen)
{
	int nr_nodes = 1;

	for (const char *p = spec; *p; p++)
		if (*p == ';' && ++nr_nodes > PCPU_MAX_NODES) {
			set_msg(err, errlen, "more than %d nodes in topology specification",
				PCPU_MAX_NODES);
			return -1;
		}
	return nr_nodes;
}

/* Parses the CPU list of each node of @spec into lists[node] and counts[node]; *nbits
 * becomes the width that holds every CPU named.  -1 with errno and @err on failure. */
static int parse_spec_lists(const char *spec, int nr_nodes, struct cpu_range **lists,
			    size_t *counts, unsigned int *nbits, char *err, size_t errlen)
{
	const char *p = spec;
	char why[160];

	*nbits = 0;
	for (int node = 0; node < nr_nodes; node++) {
		const char *end = strchr(p, ';');

		if (!end)
			end = p + strlen(p);
		if (parse_ranges(p, (size_t)(end - p), &lists[node], &counts[node], why, sizeof(why))) {
			set_msg(err, errlen, "node %d ('%.*s'): %s", node, (int)(end - p), p, why);
			return -1;
		}
		if (!counts[node]) {
			set_msg(err, errlen, "node %d: empty CPU list", node);
			errno = EINVAL;
			return -1;
		}
		if (ranges_nbits(lists[node], counts[node]) > *nbits)
			*nbits = ranges_nbits(lists[node], counts[node]);
		p = *end ? end + 1 : end;
	}
	return 0;
}

/* Marks the CPUs of @node's ranges possible and online in @t, on that node.  A CPU
 * already placed (by this node or an earlier one) is an error. */
static int place_node_cpus(struct pcpu_topology *t, int node, const struct cpu_range *ranges,
			   size_t count, char *err, size_t errlen)
{
	for (size_t i = 0; i < count; i++) {
		const struct cpu_range *r = &ranges[i];

		for (unsigned int cpu = r->first; cpu <= r->last; cpu++) {
			if (!range_has(r, cpu))
				continue;
			if (_pcpu_topology_test(t->possible, cpu)) {
				if (t->cpu_to_node[cpu] == node)
					set_msg(err, errlen, "CPU %u named twice in node %d", cpu, node);
				else
					set_msg(err, errlen, "CPU %u named twice (nodes %d and %d)", cpu,
						t->cpu_to_node[cpu], node);
				return -1;
			}
			bitmap_set(t->possible, cpu);
			bitmap_set(t->online, cpu);
			t->cpu_to_node[cpu] = node;
		}
	}
	return 0;
}

int _pcpu_topology_from_spec(struct pcpu_topology *t, const char *spec, char *err, size_t errlen)
{
	struct cpu_range **lists = NULL;
	size_t *counts = NULL;
	int nr_nodes, ret = -1, saved_errno = EINVAL;
	unsigned int nbits;

	if (!t || !spec) {
		set_msg(err, errlen, "no topology specification");
		errno = EINVAL;
		return -1;
	}
	nr_nodes = spec_nr_nodes(spec, err, errlen);
	if (nr_nodes < 0) {
		errno = EINVAL;
		return -1;
	}
	lists = calloc((size_t)nr_nodes, sizeof(*lists));
	counts = calloc((size_t)nr_nodes, sizeof(*counts));
	if (!lists || !counts) {
		saved_errno = ENOMEM;
		goto out;
	}
	if (parse_spec_lists(spec, nr_nodes, lists, counts, &nbits, err, errlen) ||
	    topology_alloc(t, nbits, nr_nodes)) {
		saved_errno = errno;
		goto out;
	}
	for (int node = 0; node < nr_nodes; node++)
		if (place_node_cpus(t, node, lists[node], counts[node], err, errlen)) {
			_pcpu_topology_free(t);
			goto out;
		}
	t->nr_possible = bitmap_weight(t->possible, nbits);
	t->nr_online = t->nr_possible;
	t->simulated = true;
	ret = 0;
out:
	if (lists)
		for (int node = 0; node < nr_nodes; node++)
			free(lists[node]);
	free(lists);
	free(counts);
	if (ret)
		errno = saved_errno;
	return ret;
}

/* ---- sysfs ------------------------------------------------------------------------ */

/* Reads a whole small file into a NUL-terminated buffer.  NULL with errno on failure.
 * Only regular files: a FIFO, a device or a socket in a --sysfs tree could block the
 * open or the reads forever (or never end), so they are opened without blocking and
 * refused (EINVAL); reads stop at SYSFS_FILE_MAX_BYTES (EFBIG). */
static char *read_text_file(const char *path)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	struct stat st;
	int fd;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd >= 0 && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		fd = -1;
		errno = EINVAL;
	}
	if (fd < 0) {
		int e = errno;

		free(buf);
		errno = e;
		return NULL;
	}
	for (;;) {
		ssize_t n;

		if (len + 1 == cap) {
			char *nb;

			if (cap >= SYSFS_FILE_MAX_BYTES) {
				close(fd);
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				close(fd);
				free(buf);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			close(fd);
			free(buf);
			errno = e;
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

static char *path_join(const char *root, const char *rel)
{
	size_t a = strlen(root), b = strlen(rel);
	char *s = malloc(a + b + 2);

	if (!s)
		return NULL;
	memcpy(s, root, a);
	s[a] = '/';
	memcpy(s + a + 1, rel, b + 1);
	return s;
}

/* Reads and parses a CPU list file.  Returns 0, or -1 with errno (ENOENT if absent). */
static int read_cpulist_file(const char *root, const char *rel, uint64_t **bits,
			     unsigned int *nbits)
{
	char *path = path_join(root, rel), *text;
	int ret;

	if (!path) {
		errno = ENOMEM;
		return -1;
	}
	text = read_text_file(path);
	free(path);
	if (!text)
		return -1;
	ret = _pcpu_cpulist_parse(text, bits, nbits);
	free(text);
	return ret;
}

/* "node12" -> 12; anything else (has_cpu, online, power, "node", "node1x") -> -1. */
static int node_dir_id(const char *name)
{
	const char *p = name + 4;
	unsigned int id;

	if (strncmp(name, "node", 4) || parse_uint(&p, p + strlen(p), INT_MAX, &id) || *p)
		return -1;
	return (int)id;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Node ids present under root/node, sorted.  No directory means no ids. */
static int list_node_dirs(const char *root, int **ids, int *count)
{
	char *path = path_join(root, "node");
	DIR *dir;
	struct dirent *de;
	int *v = NULL, n = 0, cap = 0;

	*ids = NULL;
	*count = 0;
	if (!path) {
		errno = ENOMEM;
		return -1;
	}
	dir = opendir(path);
	free(path);
	if (!dir)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	while ((de = readdir(dir))) {
		int id = node_dir_id(de->d_name);

		if (id < 0)
			continue;
		if (id >= PCPU_MAX_NODES) {
			closedir(dir);
			free(v);
			errno = EINVAL;
			return -1;
		}
		if (n == cap) {
			int *nv = realloc(v, (size_t)(cap ? cap * 2 : 16) * sizeof(*nv));

			if (!nv) {
				closedir(dir);
				free(v);
				errno = ENOMEM;
				return -1;
			}
			v = nv;
			cap = cap ? cap * 2 : 16;
		}
		v[n++] = id;
	}
	closedir(dir);
	if (n)  /* v is NULL when there is none, and qsort's base must not be */
		qsort(v, (size_t)n, sizeof(*v), cmp_int);
	*ids = v;
	*count = n;
	return 0;
}

/*
 * Fills row @node of the distance matrix from its sysfs "distance" file.  The kernel
 * prints one value per online node in id order, so with sparse ids the k-th value
 * belongs to the k-th node directory, not to node k.  A row that fits neither reading
 * is ignored and the defaults stay.
 */
static void read_distance_row(struct pcpu_topology *t, const char *root, int node,
			      const int *ids, int nr_ids)
{
	char rel[64], *path, *text, *p;
	unsigned int vals[PCPU_MAX_NODES];
	int n = 0;

	snprintf(rel, sizeof(rel), "node/node%d/distance", node);
	path = path_join(root, rel);
	if (!path)
		return;
	text = read_text_file(path);
	free(path);
	if (!text)
		return;
	for (p = text; *p;) {
		const char *q;

		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		q = p;
		if (n == PCPU_MAX_NODES || parse_uint(&q, q + strlen(q), 255, &vals[n]) ||
		    (*q && !is_blank(*q)))
			goto out;
		n++;
		p = (char *)q;
	}
	if (n == nr_ids) {
		for (int k = 0; k < n; k++)
			t->distance[node * t->nr_nodes + ids[k]] = (unsigned char)vals[k];
	} else if (n == t->nr_nodes) {
		for (int k = 0; k < n; k++)
			t->distance[node * t->nr_nodes + k] = (unsigned char)vals[k];
	}
out:
	free(text);
}

static bool any_common_bit(const uint64_t *a, const uint64_t *b, unsigned int nbits)
{
	for (size_t w = 0; w < bitmap_words(nbits); w++)
		if (a[w] & b[w])
			return true;
	return false;
}

/* Reads the possible CPUs, falling back to "present" and then "online" where "possible"
 * is absent (it is what the kernel sizes per-CPU areas by; older or unusual systems
 * without it still have the others), and the online CPUs (*online NULL if not listed). */
static int read_cpu_masks(const char *root, uint64_t **possible, unsigned int *nr_cpu_ids,
			  uint64_t **online, unsigned int *online_bits)
{
	int e;

	if (read_cpulist_file(root, "cpu/possible", possible, nr_cpu_ids) &&
	    (errno != ENOENT || read_cpulist_file(root, "cpu/present", possible, nr_cpu_ids)) &&
	    (errno != ENOENT || read_cpulist_file(root, "cpu/online", possible, nr_cpu_ids)))
		return -1;
	if (!*nr_cpu_ids) {
		free(*possible);
		*possible = NULL;
		errno = EINVAL;
		return -1;
	}
	*online = NULL;
	if (read_cpulist_file(root, "cpu/online", online, online_bits)) {
		if (errno == ENOENT)
			return 0;
	} else if (any_common_bit(*online, *possible,
				  *online_bits < *nr_cpu_ids ? *online_bits : *nr_cpu_ids)) {
		return 0;
	} else {
		/* a running system has at least the CPU reading the file online: a list
		 * without a possible CPU is not the kernel's (it would leave every CPU
		 * offline) */
		free(*online);
		*online = NULL;
		errno = EINVAL;
	}
	e = errno;
	free(*possible);
	*possible = NULL;
	errno = e;
	return -1;
}

/* Sets t->cpu_to_node from each node's cpulist.  Nodes are walked from the highest id
 * down so that a CPU listed under two nodes (never seen, but cheap to settle) ends up
 * with the lowest. */
static int read_node_cpus(struct pcpu_topology *t, const char *root, const int *ids, int nr_ids)
{
	for (int k = nr_ids - 1; k >= 0; k--) {
		char rel[64];
		uint64_t *cpus;
		unsigned int nbits;

		snprintf(rel, sizeof(rel), "node/node%d/cpulist", ids[k]);
		if (read_cpulist_file(root, rel, &cpus, &nbits)) {
			if (errno == ENOENT)
				continue;
			return -1;
		}
		for (unsigned int cpu = 0; cpu < nbits && cpu < t->nr_cpu_ids; cpu++)
			if (_pcpu_topology_test(cpus, cpu) && _pcpu_topology_test(t->possible, cpu))
				t->cpu_to_node[cpu] = ids[k];
		free(cpus);
	}
	return 0;
}

int _pcpu_topology_read_sysfs(struct pcpu_topology *t, const char *sysfs_root)
{
	uint64_t *possible = NULL, *online = NULL;
	unsigned int nr_cpu_ids = 0, online_bits = 0;
	int *ids = NULL, nr_ids = 0, nr_nodes = 1;
	int e;

	if (!t || !sysfs_root) {
		errno = EINVAL;
		return -1;
	}
	if (read_cpu_masks(sysfs_root, &possible, &nr_cpu_ids, &online, &online_bits))
		return -1;
	if (list_node_dirs(sysfs_root, &ids, &nr_ids))
		goto fail;
	if (nr_ids)
		nr_nodes = ids[nr_ids - 1] + 1;

	if (topology_alloc(t, nr_cpu_ids, nr_nodes))
		goto fail;
	memcpy(t->possible, possible, bitmap_words(nr_cpu_ids) * sizeof(uint64_t));
	for (unsigned int cpu = 0; cpu < nr_cpu_ids; cpu++)
		if (_pcpu_topology_test(possible, cpu) &&
		    (!online || (cpu < online_bits && _pcpu_topology_test(online, cpu))))
			bitmap_set(t->online, cpu);
	t->nr_possible = bitmap_weight(t->possible, nr_cpu_ids);
	t->nr_online = bitmap_weight(t->online, nr_cpu_ids);

	if (read_node_cpus(t, sysfs_root, ids, nr_ids))
		goto fail_free_t;
	for (int k = 0; k < nr_ids; k++)
		read_distance_row(t, sysfs_root, ids[k], ids, nr_ids);

	t->simulated = false;
	free(possible);
	free(online);
	free(ids);
	return 0;

fail_free_t:
	e = errno;
	_pcpu_topology_free(t);
	errno = e;
fail:
	e = errno;
	free(possible);
	free(online);
	free(ids);
	errno = e;
	return -1;
}

int _pcpu_topology_read_cpus(const char *sysfs_root, const char *name, uint64_t *dst,
			    unsigned int nbits)
{
	char rel[64];
	uint64_t *bits;
	unsigned int width;

	snprintf(rel, sizeof(rel), "cpu/%s", name);
	if (read_cpulist_file(sysfs_root, rel, &bits, &width))
		return -1;
	memset(dst, 0, bitmap_words(nbits) * sizeof(*dst));
	for (unsigned int cpu = 0; cpu < width && cpu < nbits; cpu++)
		if (_pcpu_topology_test(bits, cpu))
			bitmap_set(dst, cpu);
	free(bits);
	return 0;
}
