/* SPDX-License-Identifier: MIT */
/* fuzz_topology_spec.c - libFuzzer target for the LIBPERCPU_TOPOLOGY grammar
 * (_pcpu_topology_from_spec in src/topology.c) and the kernel CPU-list format it is built
 * on (_pcpu_cpulist_parse).  The input is the specification text.  A small reference
 * parser written from the documented grammar decides acceptance and the CPU set of every
 * node; the library must agree exactly, build a consistent topology when it accepts, and
 * fail with EINVAL and a message when it refuses. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "topology.h"
#include "../tests/testutil.h"

#define MAX_CPU (PCPU_MAX_CPUS - 1)

/* The reference: node n's CPUs as one byte per CPU (value n + 1; 0: not named). */
struct ref {
	unsigned char *node_of;  /* PCPU_MAX_CPUS entries */
	int nr_nodes;
	unsigned int nr_cpu_ids, nr_cpus;
};

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A decimal number in [s, e) of at most @max; leading zeros allowed. */
static bool ref_number(const char *s, const char *e, unsigned long max, unsigned long *v)
{
	*v = 0;
	if (s == e)
		return false;
	for (; s < e; s++) {
		if (*s < '0' || *s > '9')
			return false;
		*v = *v * 10 + (unsigned long)(*s - '0');
		if (*v > max)
			return false;
	}
	return true;
}

/* One element: "A", "A-B" or "A-B:U/G" (A <= B, 1 <= U <= G). */
static bool ref_element(const char *s, const char *e, unsigned long r[4])
{
	const char *dash = memchr(s, '-', (size_t)(e - s)), *colon, *slash;

	r[2] = r[3] = 1;
	if (!dash)
		return ref_number(s, e, MAX_CPU, &r[0]) && (r[1] = r[0], true);
	colon = memchr(dash, ':', (size_t)(e - dash));
	if (!ref_number(s, dash, MAX_CPU, &r[0]) ||
	    !ref_number(dash + 1, colon ? colon : e, MAX_CPU, &r[1]) || r[1] < r[0])
		return false;
	if (!colon)
		return true;
	slash = memchr(colon, '/', (size_t)(e - colon));
	return slash && ref_number(colon + 1, slash, PCPU_MAX_CPUS, &r[2]) &&
	       ref_number(slash + 1, e, PCPU_MAX_CPUS, &r[3]) && r[2] >= 1 && r[3] >= 1 &&
	       r[2] <= r[3];
}

/* Node list [s, e): blanks around it are ignored; elements separated by single commas.
 * A plain CPU list (@list) may be empty and may name a CPU twice, a node's may not. */
static bool ref_node(struct ref *ref, int node, const char *s, const char *e, bool list)
{
	while (s < e && blank(*s))
		s++;
	while (e > s && blank(e[-1]))
		e--;
	if (s == e)
		return list;
	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(e - s)), *end = comma ? comma : e;
		unsigned long r[4];

		if (!ref_element(s, end, r))
			return false;
		for (unsigned long cpu = r[0]; cpu <= r[1]; cpu++) {
			if ((cpu - r[0]) % r[3] >= r[2])
				continue;
			if (ref->node_of[cpu] && !list)
				return false;  /* named twice */
			ref->nr_cpus += !ref->node_of[cpu];
			ref->node_of[cpu] = (unsigned char)(node % 255 + 1);
			if (cpu + 1 > ref->nr_cpu_ids)
				ref->nr_cpu_ids = (unsigned int)cpu + 1;
		}
		if (!comma)
			return true;
		s = comma + 1;
		if (s == e)
			return false;  /* trailing comma */
	}
}

static bool ref_spec(struct ref *ref, const char *spec)
{
	const char *s = spec;

	ref->nr_nodes = 1;
	for (const char *p = spec; *p; p++)
		ref->nr_nodes += *p == ';';
	if (ref->nr_nodes > PCPU_MAX_NODES)
		return false;
	for (int node = 0; node < ref->nr_nodes; node++) {
		const char *e = strchr(s, ';');

		if (!e)
			e = s + strlen(s);
		if (!ref_node(ref, node, s, e, false))
			return false;
		s = *e ? e + 1 : e;
	}
	return true;
}

static void check_topology(const struct pcpu_topology *t, const struct ref *ref)
{
	unsigned int possible = 0, online = 0;

	CHECK_EQ(t->nr_cpu_ids, ref->nr_cpu_ids);
	CHECK_EQ(t->nr_nodes, ref->nr_nodes);
	CHECK_EQ(t->nr_possible, ref->nr_cpus);
	CHECK_EQ(t->nr_online, ref->nr_cpus);
	CHECK(t->simulated);
	for (unsigned int cpu = 0; cpu < t->nr_cpu_ids && !tu_failures; cpu++) {
		bool named = ref->node_of[cpu] != 0;

		CHECK_EQ(_pcpu_topology_test(t->possible, cpu), named);
		CHECK_EQ(_pcpu_topology_test(t->online, cpu), named);
		possible += _pcpu_topology_test(t->possible, cpu);
		online += _pcpu_topology_test(t->online, cpu);
		if (named)
			CHECK_EQ(t->cpu_to_node[cpu] % 255 + 1, ref->node_of[cpu]);
	}
	CHECK_EQ(possible, t->nr_possible);
	CHECK_EQ(online, t->nr_online);
	for (int a = 0; a < t->nr_nodes && !tu_failures; a++)
		for (int b = 0; b < t->nr_nodes; b++)
			CHECK_EQ(t->distance[a * t->nr_nodes + b],
				 a == b ? PCPU_LOCAL_DISTANCE : PCPU_REMOTE_DISTANCE);
}

/* The same text as a single CPU list: _pcpu_cpulist_parse, where an empty list is valid. */
static void check_cpulist(const char *text, struct ref *ref)
{
	uint64_t *bits = NULL;
	unsigned int nbits = 0;
	bool ok;
	int ret;

	memset(ref->node_of, 0, PCPU_MAX_CPUS);
	ref->nr_cpu_ids = ref->nr_cpus = 0;
	ok = !strchr(text, ';') && ref_node(ref, 0, text, text + strlen(text), true);
	errno = 0;
	ret = _pcpu_cpulist_parse(text, &bits, &nbits);
	CHECK_EQ(ret, ok ? 0 : -1);
	if (ret == 0 && ok) {
		CHECK_EQ(nbits, ref->nr_cpu_ids);
		for (unsigned int cpu = 0; cpu < nbits && !tu_failures; cpu++)
			CHECK_EQ(_pcpu_topology_test(bits, cpu), ref->node_of[cpu] != 0);
	} else if (ret != 0) {
		CHECK_EQ(errno, EINVAL);
	}
	free(bits);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char node_of[PCPU_MAX_CPUS];
	struct ref ref = { node_of, 0, 0, 0 };
	struct pcpu_topology t;
	char *spec = malloc(size + 1), err[256];
	bool ok;
	int ret;

	if (!spec)
		abort();
	memcpy(spec, data, size);
	spec[size] = '\0';  /* the environment holds C strings: stop at the first NUL */

	memset(node_of, 0, sizeof(node_of));
	ok = ref_spec(&ref, spec);
	err[0] = '\0';
	errno = 0;
	ret = _pcpu_topology_from_spec(&t, spec, err, sizeof(err));
	if (ret == 0 && !ok)
		fprintf(stderr, "accepted, the reference refuses: '%s'\n", spec);
	if (ret != 0 && ok)
		fprintf(stderr, "refused (%s), the reference accepts: '%s'\n", err, spec);
	CHECK_EQ(ret, ok ? 0 : -1);
	if (ret == 0 && ok)
		check_topology(&t, &ref);
	if (ret != 0) {
		CHECK_EQ(errno, EINVAL);
		CHECK(err[0] != '\0');
	} else {
		_pcpu_topology_free(&t);
	}

	check_cpulist(spec, &ref);
	free(spec);
	if (tu_failures)
		abort();
	return 0;
}
