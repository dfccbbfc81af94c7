/* SPDX-License-Identifier: MIT */
/* chunk_verify.c - _pcpu_chunk_map_verify: recounts a chunk's maps, counters and every
 * hint from the bitmaps, for the tests, the fuzzer and LIBPERCPU_DEBUG.  Pure, no system
 * calls. */
#include <stdarg.h>
#include <stdio.h>

#include "chunk_internal.h"

/*
 * Everything below recounts from the bitmaps one bit at a time and shares nothing with
 * the maintenance code above, so a slip there cannot hide itself here.
 */

static bool vtest(const unsigned long *map, long bit)
{
	return (map[bit / BITS_PER_WORD] >> (bit % BITS_PER_WORD)) & 1;
}

/* Writes the message to @err (if it has room) and returns -1. */
static int verify_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int verify_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* What one set of hints is checked against: bits [base, base + nr_bits) of the
 * allocation map; messages start with "@what @idx: ". */
struct verify_md_ctx {
	const struct pcpu_chunk_map *m;
	const char *what;
	int idx;
	long base;
	int nr_bits;
	char *err;
	size_t errlen;
};

static int verify_md_fail(const struct verify_md_ctx *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int verify_md_fail(const struct verify_md_ctx *v, const char *fmt, ...)
{
	int n = snprintf(v->err, v->errlen, "%s %d: ", v->what, v->idx);
	va_list ap;

	if (n >= 0 && (size_t)n < v->errlen) {
		va_start(ap, fmt);
		vsnprintf(v->err + n, v->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool verify_md_free(const struct verify_md_ctx *v, int i)
{
	return !vtest(v->m->alloc_map, v->base + i);
}

/* first_free, left_free, right_free and contig_hint against a recount, and the contig
 * run against the bitmap. */
static int verify_md_counts(const struct verify_md_ctx *v, const struct pcpu_block_md *md)
{
	int nr_bits = v->nr_bits, first_free = nr_bits, left = 0, right = 0, longest = 0;
	int run = 0, i;

	for (i = 0; i < nr_bits && verify_md_free(v, i); i++)
		left++;
	for (i = nr_bits - 1; i >= 0 && verify_md_free(v, i); i--)
		right++;
	for (i = 0; i < nr_bits; i++) {
		if (verify_md_free(v, i)) {
			if (first_free == nr_bits)
				first_free = i;
			run++;
			if (run > longest)
				longest = run;
		} else {
			run = 0;
		}
	}
	if (md->first_free != first_free)
		return verify_md_fail(v, "first_free %d, expected %d", md->first_free, first_free);
	if (md->left_free != left)
		return verify_md_fail(v, "left_free %d, expected %d", md->left_free, left);
	if (md->right_free != right)
		return verify_md_fail(v, "right_free %d, expected %d", md->right_free, right);
	if (md->contig_hint != longest)
		return verify_md_fail(v, "contig_hint %d, expected %d", md->contig_hint, longest);
	if (!longest)
		return 0;
	if (md->contig_hint_start < 0 || md->contig_hint_start + longest > nr_bits)
		return verify_md_fail(v, "contig_hint_start %d out of range",
				      md->contig_hint_start);
	for (i = md->contig_hint_start; i < md->contig_hint_start + longest; i++)
		if (!verify_md_free(v, i))
			return verify_md_fail(v, "contig run [%d, +%d) has allocated bit %d",
					      md->contig_hint_start, longest, i);
	return 0;
}

/* The scan run: a whole free run, no longer than the contig run and in front of it
 * unless as long, with no longer run before it. */
static int verify_md_scan(const struct verify_md_ctx *v, const struct pcpu_block_md *md)
{
	int start = md->scan_hint_start, len = md->scan_hint, run = 0, longest_before = 0, i;

	if (len < 0)
		return verify_md_fail(v, "negative scan_hint %d", len);
	if (!len)
		return 0;
	if (start < 0 || start + len > v->nr_bits)
		return verify_md_fail(v, "scan run [%d, +%d) out of range", start, len);
	for (i = start; i < start + len; i++)
		if (!verify_md_free(v, i))
			return verify_md_fail(v, "scan run [%d, +%d) has allocated bit %d", start,
					      len, i);
	if ((start > 0 && verify_md_free(v, start - 1)) ||
	    (start + len < v->nr_bits && verify_md_free(v, start + len)))
		return verify_md_fail(v, "scan run [%d, +%d) is not a whole free run", start, len);
	if (len > md->contig_hint)
		return verify_md_fail(v, "scan_hint %d longer than contig_hint %d", len,
				      md->contig_hint);
	if (start == md->contig_hint_start)
		return verify_md_fail(v, "scan run and contig run both at %d", start);
	if (len < md->contig_hint && start > md->contig_hint_start)
		return verify_md_fail(v, "shorter scan run at %d after contig run at %d", start,
				      md->contig_hint_start);
	for (i = 0; i < start; i++) {
		run = verify_md_free(v, i) ? run + 1 : 0;
		if (run > longest_before)
			longest_before = run;
	}
	if (longest_before > len)
		return verify_md_fail(v, "a run of %d before scan run [%d, +%d)", longest_before,
				      start, len);
	return 0;
}

/* Checks @md against bits [base, base + nr_bits) of the allocation map. */
static int verify_md(const struct pcpu_chunk_map *m, const struct pcpu_block_md *md,
		     const char *what, int idx, int base, int nr_bits, char *err, size_t errlen)
{
	const struct verify_md_ctx v = { m, what, idx, base, nr_bits, err, errlen };

	if (md->nr_bits != nr_bits)
		return verify_md_fail(&v, "nr_bits %d, expected %d", md->nr_bits, nr_bits);
	if (verify_md_counts(&v, md))
		return -1;
	return verify_md_scan(&v, md);
}

/* map_bits agrees with the page count, and the hidden areas fit in the unit. */
static int verify_geometry(const struct pcpu_chunk_map *m, char *err, size_t errlen)
{
	long map_bits = m->map_bits;

	if (m->nr_pages <= 0 || map_bits != (long)m->nr_pages * m->block_bits)
		return verify_fail(err, errlen, "map_bits %ld does not match nr_pages %d",
				   map_bits, m->nr_pages);
	if (m->start_offset < 0 || m->end_offset < 0 || m->start_offset % PCPU_MIN_ALLOC_SIZE ||
	    m->end_offset % PCPU_MIN_ALLOC_SIZE ||
	    (long)m->start_offset + m->end_offset >= map_bits * PCPU_MIN_ALLOC_SIZE)
		return verify_fail(err, errlen, "bad hidden areas: start_offset %d end_offset %d",
				   m->start_offset, m->end_offset);
	return 0;
}

/* The hidden bits (before @start_bits, from @end_bits on) are allocated, and free_bytes
 * counts the free bits. */
static int verify_alloc_map(const struct pcpu_chunk_map *m, long start_bits, long end_bits,
			    char *err, size_t errlen)
{
	long free_bits = 0;

	for (long bit = 0; bit < m->map_bits; bit++) {
		bool used = vtest(m->alloc_map, bit);

		if ((bit < start_bits || bit >= end_bits) && !used)
			return verify_fail(err, errlen, "hidden bit %ld is free", bit);
		if (!used)
			free_bits++;
	}
	if ((long)m->free_bytes != free_bits * PCPU_MIN_ALLOC_SIZE)
		return verify_fail(err, errlen, "free_bytes %d, bitmap has %ld free bytes",
				   m->free_bytes, free_bits * PCPU_MIN_ALLOC_SIZE);
	return 0;
}

/* Boundary bits: exactly the edges of allocated stretches, plus the edges between
 * allocations inside them; the hidden areas are single allocations. */
static int verify_bound_map(const struct pcpu_chunk_map *m, long start_bits, long end_bits,
			    char *err, size_t errlen)
{
	long map_bits = m->map_bits;

	for (long bit = 0; bit <= map_bits; bit++) {
		bool edge = vtest(m->bound_map, bit);
		bool before = bit > 0 && vtest(m->alloc_map, bit - 1);
		bool at = bit < map_bits && vtest(m->alloc_map, bit);

		if (edge && !before && !at)
			return verify_fail(err, errlen, "boundary bit %ld touches no allocation",
					   bit);
		if (!edge && at && !before)
			return verify_fail(err, errlen,
					   "allocated stretch at %ld has no start boundary", bit);
		if (!edge && before && !at)
			return verify_fail(err, errlen,
					   "allocated stretch ending at %ld has no end boundary",
					   bit);
		if (edge && ((bit > 0 && bit < start_bits) || (bit > end_bits && bit < map_bits)))
			return verify_fail(err, errlen, "boundary bit %ld inside a hidden area",
					   bit);
		if (!edge && ((start_bits && (bit == 0 || bit == start_bits)) ||
			      (end_bits < map_bits && (bit == end_bits || bit == map_bits))))
			return verify_fail(err, errlen, "hidden area edge %ld has no boundary bit",
					   bit);
	}
	return 0;
}

/* Every block's hints and non-full bit; counts the populated pages and the populated
 * pages without an allocation. */
static int verify_blocks(const struct pcpu_chunk_map *m, int *nr_populated, int *nr_empty_pop,
			 char *err, size_t errlen)
{
	*nr_populated = *nr_empty_pop = 0;
	for (int page = 0; page < m->nr_pages; page++) {
		bool empty = true, full = true;

		if (verify_md(m, &m->md_blocks[page], "block", page, page * m->block_bits,
			      m->block_bits, err, errlen))
			return -1;
		for (int bit = 0; bit < m->block_bits; bit++) {
			if (vtest(m->alloc_map, (long)page * m->block_bits + bit))
				empty = false;
			else
				full = false;
		}
		if (vtest(nonfull_map(m), page) != !full)
			return verify_fail(err, errlen, "non-full map bit %d is %d, block %s", page,
					   vtest(nonfull_map(m), page),
					   full ? "full" : "has free bits");
		if (vtest(m->populated, page)) {
			(*nr_populated)++;
			*nr_empty_pop += empty;
		}
	}
	return 0;
}

/* The population counters against the counts, and no populated bit past the end. */
static int verify_population(const struct pcpu_chunk_map *m, int nr_populated,
			     int nr_empty_pop, char *err, size_t errlen)
{
	if (m->nr_populated != nr_populated)
		return verify_fail(err, errlen, "nr_populated %d, populated map has %d",
				   m->nr_populated, nr_populated);
	if (m->nr_empty_pop_pages != nr_empty_pop)
		return verify_fail(err, errlen, "nr_empty_pop_pages %d, expected %d",
				   m->nr_empty_pop_pages, nr_empty_pop);
	for (int page = m->nr_pages; page % BITS_PER_WORD; page++)
		if (vtest(m->populated, page))
			return verify_fail(err, errlen, "populated bit %d past the last page", page);
	return 0;
}

int _pcpu_chunk_map_verify(const struct pcpu_chunk_map *m, char *err, size_t errlen)
{
	long start_bits, end_bits;
	int nr_populated, nr_empty_pop;

	if (verify_geometry(m, err, errlen))
		return -1;
	start_bits = m->start_offset / PCPU_MIN_ALLOC_SIZE;
	end_bits = m->map_bits - m->end_offset / PCPU_MIN_ALLOC_SIZE; /* first hidden tail bit */
	if (verify_alloc_map(m, start_bits, end_bits, err, errlen) ||
	    verify_bound_map(m, start_bits, end_bits, err, errlen) ||
	    verify_blocks(m, &nr_populated, &nr_empty_pop, err, errlen) ||
	    verify_md(m, &m->chunk_md, "chunk", 0, 0, m->map_bits, err, errlen))
		return -1;
	return verify_population(m, nr_populated, nr_empty_pop, err, errlen);
}
