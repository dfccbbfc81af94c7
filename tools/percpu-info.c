/* SPDX-License-Identifier: MIT */
/* percpu-info.c - command-line view of libpercpu's layout: this process's real first
 * chunk, the layout the kernel's algorithm gives for any simulated machine, the CPU
 * and node topology it starts from, and the allocator of a running process (statistics
 * and a map of its chunks, read from outside: remote.c, map.c). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "layout.h"
#include "map.h"
#include "percpu.h"
#include "remote.h"
#include "size.h"
#include "snapshot.h"
#include "topology.h"

#define SYSFS_ROOT "/sys/devices/system"

static const char *prog = "percpu-info";

static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s\n"
		"       %s layout [--static S] [--reserved R] [--dyn D] [--atom A]\n"
		"                 [--page-size P] [--nodes SPEC | --sysfs DIR] [--embedded]\n"
		"       %s topology [--nodes SPEC | --sysfs DIR]\n"
		"       %s cpu\n"
		"       %s stats [--pid PID]\n"
		"       %s map [--pid PID] [--svg FILE]\n"
		"       %s --help | --version\n"
		"\n"
		"Without a command, prints this process's first chunk: the \"percpu: Embedded\"\n"
		"line and the pcpu-alloc lines, in the kernel's format.\n"
		"\n"
		"layout    prints the pcpu-alloc lines the kernel's pcpu_build_alloc_info gives\n"
		"          for the sizes and topology given\n"
		"topology  prints possible and online CPUs, the CPUs of each node and the node\n"
		"          distances\n"
		"cpu       prints where the current CPU comes from (rseq from glibc, rseq of\n"
		"          libpercpu's own, or sched_getcpu), what indexes units (the CPU, or the\n"
		"          rseq concurrency ID: LIBPERCPU_INDEX=cid) and so how this_cpu operations run\n"
		"stats     prints the allocator statistics of process PID (default: this one) in\n"
		"          the format of the kernel's percpu_stats, per chunk too\n"
		"map       draws the pages of each chunk of process PID (default: this one):\n"
		"          allocated, free and populated, the first chunk's areas; --svg FILE\n"
		"          writes the picture as SVG as well\n"
		"\n"
		"  -s, --static S      static area bytes per CPU (default 0)\n"
		"  -r, --reserved R    reserved area bytes per CPU (default 0)\n"
		"  -d, --dyn D         dynamic area bytes per CPU, raised to %u (default 0)\n"
		"  -a, --atom A        allocation atom, a power of two multiple of the page size\n"
		"                      (default: the page size)\n"
		"  -p, --page-size P   page size, a power of two (default 4096)\n"
		"  -n, --nodes SPEC    simulated machine: CPU lists of node 0, node 1, ...\n"
		"                      separated by ';', e.g. \"0-5,12-17;6-11,18-23\"\n"
		"                      (default: this machine, from sysfs)\n"
		"      --sysfs DIR     read the topology below DIR instead of %s\n"
		"  -e, --embedded      also print the \"percpu: Embedded\" line\n"
		"      --pid PID       stats, map: read process PID (the permission of ptrace)\n"
		"      --svg FILE      map: also write the picture to FILE as SVG\n"
		"  -h, --help          show this help\n"
		"  -V, --version       print the libpercpu version\n"
		"\n"
		"Sizes are bytes, or a number followed by K, M or G (binary: 8K = 8192).\n",
		prog, prog, prog, prog, prog, prog, prog, PCPU_DYNAMIC_EARLY_SIZE, SYSFS_ROOT);
}

/* Reports a usage error and returns the exit status for it. */
static int bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", prog);
	return 2;
}

/* Flushes stdout: the exit status of a command that printed its result, 1 with a
 * message if the output could not be written (a full disk, a closed pipe, /dev/full). */
static int finish_output(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	fprintf(stderr, "%s: cannot write the output: %s\n", prog,
		strerror(errno ? errno : EIO));
	return 1;
}

/* Topology from --nodes, --sysfs or this machine.  Returns 0, or the exit status. */
static int load_topology(struct pcpu_topology *t, const char *spec, const char *sysfs)
{
	char err[256] = "";

	if (spec) {
		if (_pcpu_topology_from_spec(t, spec, err, sizeof(err)))
			return bad_usage("--nodes '%s': %s", spec, err);
		return 0;
	}
	if (_pcpu_topology_read_sysfs(t, sysfs ? sysfs : SYSFS_ROOT)) {
		fprintf(stderr, "%s: cannot read the CPU topology below %s: %s%s\n", prog,
			sysfs ? sysfs : SYSFS_ROOT, strerror(errno),
			errno == EINVAL ? " (a file that does not parse, or that is not a "
					  "regular file)" : "");
		return 1;
	}
	return 0;
}

enum { OPT_SYSFS = 256 };

static const struct option long_opts[] = {
	{ "static", required_argument, NULL, 's' },
	{ "reserved", required_argument, NULL, 'r' },
	{ "dyn", required_argument, NULL, 'd' },
	{ "atom", required_argument, NULL, 'a' },
	{ "page-size", required_argument, NULL, 'p' },
	{ "nodes", required_argument, NULL, 'n' },
	{ "sysfs", required_argument, NULL, OPT_SYSFS },
	{ "embedded", no_argument, NULL, 'e' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct options {
	struct pcpu_layout_params params;
	const char *atom_text; /* as typed, for error messages */
	const char *page_text;
	bool embedded;
	const char *nodes;
	const char *sysfs;
};

/* Parses the options of a command; @layout says whether size options are allowed. */
static int parse_options(int argc, char **argv, bool layout, struct options *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->params.page_size = 4096;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":s:r:d:a:p:n:eh", long_opts, NULL)) != -1) {
		size_t *dst = NULL;
		const char *name = NULL;

		switch (c) {
		case 's':
			dst = &o->params.static_size, name = "--static";
			break;
		case 'r':
			dst = &o->params.reserved_size, name = "--reserved";
			break;
		case 'd':
			dst = &o->params.dyn_size, name = "--dyn";
			break;
		case 'a':
			dst = &o->params.atom_size, name = "--atom";
			o->atom_text = optarg;
			break;
		case 'p':
			dst = &o->params.page_size, name = "--page-size";
			o->page_text = optarg;
			break;
		case 'n':
			o->nodes = optarg;
			continue;
		case OPT_SYSFS:
			o->sysfs = optarg;
			continue;
		case 'e':
			o->embedded = true;
			continue;
		case 'h':
			usage(stdout);
			exit(finish_output());
		case ':':
			return bad_usage("option '%s' needs a value", argv[optind - 1]);
		default:
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		}
		if (!layout)
			return bad_usage("option '%s' applies to the layout command only", name);
		if (_pcpu_parse_size(optarg, SIZE_MAX, dst))
			return bad_usage("%s: invalid size '%s'", name, optarg);
	}
	if (optind < argc)
		return bad_usage("unexpected argument '%s'", argv[optind]);
	if (o->nodes && o->sysfs)
		return bad_usage("--nodes and --sysfs exclude each other");
	return 0;
}

static int cmd_layout(int argc, char **argv)
{
	struct options o;
	struct pcpu_topology t;
	struct pcpu_alloc_info *ai;
	struct pcpu_layout_params *p = &o.params;
	int ret = parse_options(argc, argv, true, &o);

	if (ret)
		return ret;
	if (!o.atom_text)
		p->atom_size = p->page_size;
	/* Name the offending option before the library's generic EINVAL. */
	if (!p->page_size || (p->page_size & (p->page_size - 1)))
		return bad_usage("--page-size: '%s' is not a power of two", o.page_text);
	if (!p->atom_size || (p->atom_size & (p->atom_size - 1)) || p->atom_size < p->page_size)
		return bad_usage("--atom: '%s' is not a power of two of at least the page size "
				 "(%zu)", o.atom_text ? o.atom_text : "", p->page_size);
	ret = load_topology(&t, o.nodes, o.sysfs);
	if (ret)
		return ret;
	ai = _pcpu_build_alloc_info(&t, p);
	if (!ai) {
		fprintf(stderr, "%s: no layout for these sizes: %s\n", prog, strerror(errno));
		_pcpu_topology_free(&t);
		return errno == EINVAL ? 2 : 1;
	}
	if (o.embedded)
		_pcpu_dump_embedded(stdout, ai);
	_pcpu_dump_alloc_info(stdout, ai);
	_pcpu_free_alloc_info(ai);
	_pcpu_topology_free(&t);
	return finish_output();
}

/* Prints @nbits of @bits in the kernel's list format ("0-5,12-17"), or "(none)". */
static void print_cpulist(const uint64_t *bits, unsigned int nbits, const int *node_of, int node)
{
	bool any = false;

	for (unsigned int c = 0; c < nbits; c++) {
		unsigned int end = c;

		if (!_pcpu_topology_test(bits, c) || (node_of && node_of[c] != node))
			continue;
		while (end + 1 < nbits && _pcpu_topology_test(bits, end + 1) &&
		       (!node_of || node_of[end + 1] == node))
			end++;
		printf(end > c ? "%s%u-%u" : "%s%u", any ? "," : "", c, end);
		any = true;
		c = end;
	}
	printf("%s\n", any ? "" : "(none)");
}

static int cmd_topology(int argc, char **argv)
{
	struct options o;
	struct pcpu_topology t;
	int ret = parse_options(argc, argv, false, &o);

	if (ret)
		return ret;
	ret = load_topology(&t, o.nodes, o.sysfs);
	if (ret)
		return ret;
	printf("source: %s\n", t.simulated ? "simulated (--nodes)" : o.sysfs ? o.sysfs : SYSFS_ROOT);
	printf("possible: ");
	print_cpulist(t.possible, t.nr_cpu_ids, NULL, 0);
	printf("online: ");
	print_cpulist(t.online, t.nr_cpu_ids, NULL, 0);
	printf("nr_cpu_ids: %u, possible: %u, online: %u, nodes: %d\n", t.nr_cpu_ids,
	       t.nr_possible, t.nr_online, t.nr_nodes);
	for (int n = 0; n < t.nr_nodes; n++) {
		printf("node %d cpus: ", n);
		print_cpulist(t.possible, t.nr_cpu_ids, t.cpu_to_node, n);
	}
	printf("node distances:\nnode ");
	for (int n = 0; n < t.nr_nodes; n++)
		printf(" %3d", n);
	printf("\n");
	for (int a = 0; a < t.nr_nodes; a++) {
		printf("%4d:", a);
		for (int b = 0; b < t.nr_nodes; b++)
			printf(" %3d", t.distance[a * t.nr_nodes + b]);
		printf("\n");
	}
	_pcpu_topology_free(&t);
	return finish_output();
}

/* The commands that take no arguments: 0 if there are none, else the exit status of
 * the usage error (or of --help). */
static int no_arguments(int argc, char **argv)
{
	if (argc < 3)
		return 0;
	if (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) {
		usage(stdout);
		return finish_output() ? 1 : -1;
	}
	if (argv[2][0] == '-')
		return bad_usage("unknown option '%s' for '%s'", argv[2], argv[1]);
	return bad_usage("unexpected argument '%s': '%s' takes none", argv[2], argv[1]);
}

static int cmd_cpu(void)
{
	if (pcpu_init() < 0) {
		fprintf(stderr, "%s: cannot initialize: %s\n", prog, strerror(errno));
		return 1;
	}
	printf("current CPU: %u (of %u possible, %u online)\n", pcpu_current_cpu(),
	       pcpu_num_possible_cpus(), pcpu_num_online_cpus());
	printf("CPU source: %s\n", pcpu_cpu_source());
	printf("index: %s\n", pcpu_index_source());
	printf("this_cpu operations: %s\n",
	       __pcpu_fast.rseq_index_bound ? "rseq critical sections, no atomic instructions"
					   : "atomic operations on the current CPU's copy");
	return finish_output();
}

/* Options of stats and map: --pid PID, --svg FILE (map only).  0, or the exit status. */
static int parse_view_options(int argc, char **argv, bool map, pid_t *pid, const char **svg)
{
	*pid = 0;
	*svg = NULL;
	for (int i = 2; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(opt, "--help") || !strcmp(opt, "-h")) {
			usage(stdout);
			return finish_output() ? 1 : -1;
		}
		if (strcmp(opt, "--pid") && (!map || strcmp(opt, "--svg"))) {
			if (opt[0] == '-')
				return bad_usage("unknown option '%s' for '%s'", opt, argv[1]);
			return bad_usage("unexpected argument '%s'", opt);
		}
		if (!val)
			return bad_usage("option '%s' needs a value", opt);
		i++;
		if (!strcmp(opt, "--svg")) {
			*svg = val;
			continue;
		}
		char *end;
		errno = 0;
		long v = strtol(val, &end, 10);
		if (errno || end == val || *end || v <= 0 || v > INT_MAX)
			return bad_usage("--pid: '%s' is not a process ID", val);
		*pid = (pid_t)v;
	}
	return 0;
}

/* A snapshot of process @pid's allocator, or of this process's for 0.  0, or 1 with the
 * reason on stderr. */
static int snapshot(pid_t pid, struct pcpu_snapshot *s)
{
	char err[512];

	if (!pid) {
		if (_pcpu_snap_take_self(s) == 0)
			return 0;
		fprintf(stderr, "%s: cannot read the allocator statistics: %s\n", prog,
			strerror(errno));
		return 1;
	}
	if (_pcpu_remote_snapshot(pid, s, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "%s: %s\n", prog, err);
	return 1;
}

static int cmd_stats(int argc, char **argv)
{
	struct pcpu_snapshot s;
	const char *svg;
	pid_t pid;
	int ret = parse_view_options(argc, argv, false, &pid, &svg);

	if (ret)
		return ret < 0 ? 0 : ret;
	if (snapshot(pid, &s))
		return 1;
	ret = _pcpu_snap_print(stdout, &s);
	_pcpu_snap_free(&s);
	if (ret && errno == ENOMEM) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	return finish_output();
}

static int cmd_map(int argc, char **argv)
{
	struct pcpu_snapshot s;
	const char *svg;
	char who[64];
	pid_t pid;
	FILE *f;
	int ret = parse_view_options(argc, argv, true, &pid, &svg);

	if (ret)
		return ret < 0 ? 0 : ret;
	if (snapshot(pid, &s))
		return 1;
	snprintf(who, sizeof(who), "process %d", pid ? (int)pid : (int)getpid());
	pcpu_map_text(stdout, &s, who, isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
	if (svg) {
		f = fopen(svg, "w");
		if (f)
			pcpu_map_svg(f, &s, who);
		if (!f || fclose(f) != 0) {
			fprintf(stderr, "%s: --svg %s: %s\n", prog, svg, strerror(errno));
			_pcpu_snap_free(&s);
			return 1;
		}
	}
	_pcpu_snap_free(&s);
	return finish_output();
}

int main(int argc, char **argv)
{
	int ret;

	if (argc < 2) {
		if (pcpu_dump_layout(stdout) < 0) {
			fprintf(stderr, "%s: cannot set up the per-CPU layout: %s\n", prog,
				strerror(errno));
			return 1;
		}
		return finish_output();
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		if (argc > 2)
			return bad_usage("unexpected argument '%s': '%s' takes none", argv[2], argv[1]);
		usage(stdout);
		return finish_output();
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		if (argc > 2)
			return bad_usage("unexpected argument '%s': '%s' takes none", argv[2], argv[1]);
		printf("percpu-info (libpercpu) %s\n", pcpu_version());
		return finish_output();
	}
	if (!strcmp(argv[1], "layout"))
		return cmd_layout(argc - 1, argv + 1);
	if (!strcmp(argv[1], "topology"))
		return cmd_topology(argc - 1, argv + 1);
	if (!strcmp(argv[1], "stats"))
		return cmd_stats(argc, argv);
	if (!strcmp(argv[1], "map"))
		return cmd_map(argc, argv);
	if (!strcmp(argv[1], "cpu")) {
		ret = no_arguments(argc, argv);
		if (ret)
			return ret < 0 ? 0 : ret;
		return cmd_cpu();
	}
	if (argv[1][0] == '-')
		return bad_usage("unknown option '%s' (options follow a command)", argv[1]);
	return bad_usage("unknown command '%s'", argv[1]);
}
