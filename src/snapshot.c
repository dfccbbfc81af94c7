/* SPDX-License-Identifier: MIT */
/* snapshot.c - the figures and the text of the kernel's percpu_stats, computed from a
 * snapshot of the allocator (snapshot.h).  Pure: no system calls, no locking, no global
 * state, so that this process (stats.c) and percpu-info --pid print with the same code. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

#define BITS_PER_LONG ((int)(sizeof(long) * 8))

static bool test_bit(const unsigned long *map, int bit)
{
	return (map[bit / BITS_PER_LONG] >> (bit % BITS_PER_LONG)) & 1;
}

size_t _pcpu_snap_map_meta_bytes(const struct pcpu_chunk_map *m)
{
	if (m->nr_pages <= 0 || m->block_bits < PCPU_MIN_PAGE_SIZE / PCPU_MIN_ALLOC_SIZE ||
	    m->block_bits > PCPU_MAX_PAGE_SIZE / PCPU_MIN_ALLOC_SIZE ||
	    (m->block_bits & (m->block_bits - 1)) ||
	    (long)m->nr_pages * m->block_bits != m->map_bits ||
	    (size_t)m->map_bits * PCPU_MIN_ALLOC_SIZE > PCPU_CHUNK_MAX_UNIT_BYTES)
		return 0;
	return _pcpu_chunk_map_meta_bytes((size_t)m->map_bits * PCPU_MIN_ALLOC_SIZE,
					 (size_t)m->block_bits * PCPU_MIN_ALLOC_SIZE);
}

int _pcpu_snap_map_rebase(struct pcpu_chunk_map *dst, const struct pcpu_chunk_map *m, void *meta)
{
	size_t bytes = _pcpu_snap_map_meta_bytes(m), off[4];

	if (!bytes)
		return -1;
	/* Every map lies in the meta block: the same offsets into the copy.  A map read from
	 * another process is checked before it is followed. */
	off[0] = (size_t)((const char *)m->alloc_map - (const char *)m->meta);
	off[1] = (size_t)((const char *)m->bound_map - (const char *)m->meta);
	off[2] = (size_t)((const char *)m->populated - (const char *)m->meta);
	off[3] = (size_t)((const char *)m->md_blocks - (const char *)m->meta);
	if (off[0] >= bytes || off[1] >= bytes || off[2] >= bytes ||
	    off[3] > bytes - (size_t)m->nr_pages * sizeof(struct pcpu_block_md) ||
	    off[0] + (size_t)(m->map_bits + 7) / 8 > bytes ||
	    off[1] + (size_t)(m->map_bits + 8) / 8 > bytes ||
	    off[2] + (size_t)(m->nr_pages + 7) / 8 > bytes)
		return -1;
	*dst = *m;
	dst->meta = meta;
	dst->meta_owned = false;
	dst->alloc_map = (unsigned long *)((char *)meta + off[0]);
	dst->bound_map = (unsigned long *)((char *)meta + off[1]);
	dst->populated = (unsigned long *)((char *)meta + off[2]);
	dst->md_blocks = (struct pcpu_block_md *)((char *)meta + off[3]);
	return 0;
}

static int list_rank(const struct pcpu_snap_chunk *c)
{
	return c->kind == PCPU_SNAP_RESERVED ? -2 : c->list == PCPU_SNAP_LISTED ? c->slot : 1 << 20;
}

static int cmp_chunk(const void *a, const void *b)
{
	const struct pcpu_snap_chunk *x = a, *y = b;
	int rx = list_rank(x), ry = list_rank(y);

	if (rx != ry)
		return rx < ry ? -1 : 1;
	if (x->list != y->list)
		return x->list < y->list ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

void _pcpu_snap_sort(struct pcpu_snapshot *s)
{
	if (s->nr_chunks > 1)
		qsort(s->chunks, (size_t)s->nr_chunks, sizeof(*s->chunks), cmp_chunk);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Next bit at or after @bit below @end that is @want in @map, else @end. */
static int next_bit(const unsigned long *map, int bit, int end, bool want)
{
	while (bit < end && test_bit(map, bit) != want)
		bit++;
	return bit;
}

int _pcpu_snap_chunk_stats(const struct pcpu_snap_chunk *c, struct pcpu_chunk_stats *out)
{
	const struct pcpu_chunk_map *m = &c->map;
	int start = m->start_offset / PCPU_MIN_ALLOC_SIZE;
	int end = m->map_bits - m->end_offset / PCPU_MIN_ALLOC_SIZE, last = start, n = 0, nfree;
	long *sizes;

	memset(out, 0, sizeof(*out));
	/* Areas past the last allocation are free space, not fragments. */
	for (int bit = end - 1; bit >= start; bit--) {
		if (test_bit(m->alloc_map, bit)) {
			last = bit + 1;
			break;
		}
	}
	/* Allocations as positive sizes, the free fragments between them as negative: sorted,
	 * the fragments come first, largest first, then the allocations, smallest first. */
	sizes = malloc(sizeof(*sizes) * (size_t)(last - start + 1));
	if (!sizes) {
		errno = ENOMEM;
		return -1;
	}
	for (int bit = start, next; bit < last; bit = next) {
		if (test_bit(m->alloc_map, bit)) {
			next = next_bit(m->bound_map, bit + 1, last, true);
			sizes[n++] = (long)(next - bit) * PCPU_MIN_ALLOC_SIZE;
		} else {
			next = next_bit(m->alloc_map, bit + 1, last, true);
			sizes[n++] = -(long)(next - bit) * PCPU_MIN_ALLOC_SIZE;
		}
	}
	qsort(sizes, (size_t)n, sizeof(*sizes), cmp_long);
	for (nfree = 0; nfree < n && sizes[nfree] < 0; nfree++) {
		out->sum_frag -= sizes[nfree];
		if (-sizes[nfree] > out->max_frag)
			out->max_frag = -sizes[nfree];
	}
	/* the cache's areas are allocated in the map, but their users freed them: the
	 * counts of live allocations (nr_cur_alloc) leave them out, and so does this one */
	out->nr_alloc = n - nfree;
	if (c->nr_cached > 0) /* from another process: not trusted beyond the map's count */
		out->nr_alloc -= c->nr_cached < out->nr_alloc ? c->nr_cached : out->nr_alloc;
	if (n - nfree) {
		out->cur_min_alloc = sizes[nfree];
		out->cur_med_alloc = sizes[nfree + (n - nfree - 1) / 2];
		out->cur_max_alloc = sizes[n - 1];
	}
	free(sizes);
	out->max_alloc_size = (long)c->max_alloc_size;
	out->empty_pop_pages = m->nr_empty_pop_pages;
	out->first_bit = m->chunk_md.first_free;
	out->free_bytes = m->free_bytes;
	out->contig_bytes = (long)m->chunk_md.contig_hint * PCPU_MIN_ALLOC_SIZE;
	return 0;
}

/* "TITLE:", a rule, then a "  NAME   : VALUE" line per field, the kernel's format. */
static void print_fields(FILE *out, const char *title, const char *const *names,
			 const long long *values, int n)
{
	if (title)
		fprintf(out, "%s:\n----------------------------------------\n", title);
	for (int i = 0; i < n; i++)
		fprintf(out, "  %-20s: %12lld\n", names[i], values[i]);
}

static const char *const info_names[] = {
	"unit_size", "static_size", "reserved_size", "dyn_size", "atom_size", "page_size",
	"alloc_size",
};
static const char *const global_names[] = {
	"nr_alloc", "nr_dealloc", "nr_cur_alloc", "nr_max_alloc", "nr_chunks", "nr_max_chunks",
	"min_alloc_size", "max_alloc_size", "empty_pop_pages", "populated_pages",
	"nr_alloc_failed",
};
static const char *const chunk_names[] = {
	"nr_alloc", "max_alloc_size", "empty_pop_pages", "first_bit", "free_bytes",
	"contig_bytes", "sum_frag", "max_frag", "cur_min_alloc", "cur_med_alloc",
	"cur_max_alloc",
};

static const char *chunk_title(const struct pcpu_snap_chunk *c)
{
	if (c->kind == PCPU_SNAP_RESERVED)
		return "Chunk: <- Reserved Chunk";
	if (c->kind == PCPU_SNAP_FIRST)
		return "Chunk: <- First Chunk";
	if (c->list == PCPU_SNAP_TO_DEPOPULATE)
		return "Chunk (to_depopulate)";
	if (c->list == PCPU_SNAP_SIDELINED)
		return "Chunk (sidelined):";
	return "Chunk:";
}

int _pcpu_snap_print(FILE *out, const struct pcpu_snapshot *s)
{
	const struct pcpu_stats *st = &s->st;
	const long long info[] = {
		(long long)st->unit_size, (long long)st->static_size, (long long)st->reserved_size,
		(long long)st->dyn_size, (long long)st->atom_size, (long long)st->page_size,
		(long long)s->alloc_size,
	};
	const long long global[] = {
		(long long)st->nr_alloc, (long long)st->nr_dealloc, (long long)st->nr_cur_alloc,
		(long long)st->nr_max_alloc, st->nr_chunks, st->nr_max_chunks,
		(long long)st->min_alloc_size, (long long)st->max_alloc_size,
		(long long)st->nr_empty_pop_pages, (long long)st->nr_populated_pages,
		(long long)st->nr_alloc_failed,
	};

	fprintf(out, "Percpu Memory Statistics\n");
	print_fields(out, "Allocation Info", info_names, info, 7);
	fprintf(out, "\n");
	print_fields(out, "Global Stats", global_names, global, 11);
	fprintf(out, "\n");
	print_fields(out, "Per Chunk Stats", NULL, NULL, 0);
	for (int i = 0; i < s->nr_chunks; i++) {
		struct pcpu_chunk_stats cs;

		if (_pcpu_snap_chunk_stats(&s->chunks[i], &cs) != 0)
			return -1;
		const long long v[] = {
			cs.nr_alloc, cs.max_alloc_size, cs.empty_pop_pages, cs.first_bit,
			cs.free_bytes, cs.contig_bytes, cs.sum_frag, cs.max_frag, cs.cur_min_alloc,
			cs.cur_med_alloc, cs.cur_max_alloc,
		};
		fprintf(out, "%s\n", chunk_title(&s->chunks[i]));
		print_fields(out, NULL, chunk_names, v, 11);
		fprintf(out, "\n");
	}
	return ferror(out) ? -1 : 0;
}

void _pcpu_snap_totals(struct pcpu_snapshot *s)
{
	s->st.nr_populated_pages = 0;
	s->st.free_bytes = 0;
	s->st.reserved_free = 0;
	for (int i = 0; i < s->nr_chunks; i++) {
		const struct pcpu_chunk_map *m = &s->chunks[i].map;

		if (s->chunks[i].kind == PCPU_SNAP_RESERVED) {
			s->st.reserved_free = (size_t)m->free_bytes;
			continue;
		}
		s->st.nr_populated_pages += (size_t)m->nr_populated;
		s->st.free_bytes += (size_t)m->free_bytes;
	}
}

void _pcpu_snap_free(struct pcpu_snapshot *s)
{
	for (int i = 0; i < s->nr_chunks; i++)
		free(s->chunks[i].map.meta);
	free(s->chunks);
	s->chunks = NULL;
	s->nr_chunks = 0;
}
