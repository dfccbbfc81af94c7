/* SPDX-License-Identifier: MIT */
/* chunk_hints.c - keeping a chunk's free-space hints exact: the per-block hints and
 * chunk_md after each allocation and free, and their first computation at set-up.  The
 * invariants every hint keeps, and how this departs from mm/percpu.c, are at the top of
 * chunk.c.  Pure computation, no system calls and no locking. */
#include "chunk_internal.h"

static void md_set_empty(struct pcpu_block_md *md)
{
	md->scan_hint = 0;
	md->scan_hint_start = 0;
	md->contig_hint = md->nr_bits;
	md->contig_hint_start = 0;
	md->left_free = md->nr_bits;
	md->right_free = md->nr_bits;
	md->first_free = 0;
}

static void md_set_full(struct pcpu_block_md *md)
{
	md->scan_hint = 0;
	md->scan_hint_start = 0;
	md->contig_hint = 0;
	md->contig_hint_start = 0;
	md->left_free = 0;
	md->right_free = 0;
	md->first_free = md->nr_bits;
}

/* Ties between equally long runs go to the start with more trailing zero bits, which
 * suits aligned requests better; offset 0 beats everything. */
static inline bool start_better_aligned(int start, int cur)
{
	return cur && (!start || __builtin_ctz((unsigned)start) > __builtin_ctz((unsigned)cur));
}

/*
 * Offers the run [s, e) to the hints of @md.  The run is maximal (bounded by allocated
 * bits or by the edges of what @md describes) and is either new (a free joined it
 * together) or met by a front-to-back rescan.  A hint run lying inside it is stale.
 * Keeps every invariant listed at the top of chunk.c.
 */
static void md_add_free_run(struct pcpu_block_md *md, int s, int e)
{
	int n = e - s;
	bool scan_swallowed = md->scan_hint &&
		ranges_overlap(md->scan_hint_start, md->scan_hint_start + md->scan_hint, s, e);

	if (s < md->first_free)
		md->first_free = s;
	if (s == 0)
		md->left_free = n;
	if (e == md->nr_bits)
		md->right_free = n;
	if (scan_swallowed)
		md->scan_hint = 0;

	if (n > md->contig_hint) {
		/*
		 * The run is the new longest.  A run before it may serve as scan hint: the old
		 * contig run (nothing before it was longer) or the current scan run.
		 */
		bool contig_before = md->contig_hint && md->contig_hint_start < s;
		bool scan_before = md->scan_hint && md->scan_hint_start < s;

		if (contig_before && (!scan_before || md->contig_hint > md->scan_hint ||
				      md->contig_hint_start > md->scan_hint_start)) {
			md->scan_hint = md->contig_hint;
			md->scan_hint_start = md->contig_hint_start;
		} else if (!scan_before) {
			md->scan_hint = 0;
		}
		md->contig_hint = n;
		md->contig_hint_start = s;
	} else if (n == md->contig_hint) {
		if (start_better_aligned(s, md->contig_hint_start)) {
			md->contig_hint_start = s;
			/* a shorter scan run must stay in front of the contig run */
			if (md->scan_hint && md->scan_hint < n && md->scan_hint_start > s)
				md->scan_hint = 0;
		} else if (!md->scan_hint || md->scan_hint < n || md->scan_hint_start < s) {
			/* equally long: valid anywhere; the farther one lets rescans skip more */
			md->scan_hint = n;
			md->scan_hint_start = s;
		}
	} else if (s < md->contig_hint_start) {
		/*
		 * Shorter than the contig run and in front of it: a scan hint only if no run
		 * before it can be longer - it grew out of the scan run, or it starts before
		 * the scan run and beats it, or there is no free bit before it at all.
		 */
		if (scan_swallowed ||
		    (md->scan_hint ? s < md->scan_hint_start && n > md->scan_hint
				   : md->first_free == s)) {
			md->scan_hint = n;
			md->scan_hint_start = s;
		}
	}
}

/* Offers the hints of block @idx every run from block offset @off on, in order. */
static void block_scan_runs(struct pcpu_chunk_map *m, int idx, int off)
{
	struct pcpu_block_md *md = &m->md_blocks[idx];
	const unsigned long *words = block_alloc_words(m, idx);

	while (off < m->block_bits) {
		int rs = find_next_zero(words, m->block_bits, off), re;

		if (rs >= m->block_bits)
			break;
		re = find_next_one(words, m->block_bits, rs + 1);
		md_add_free_run(md, rs, re);
		off = re + 1;
	}
}

/*
 * Block @idx lost the allocation's bits to its contig run: find the longest run again.
 * The scan run, if any, is the longest run up to its end, so it becomes the contig run
 * and only the bits after it are rescanned.  first_free, left_free and right_free are
 * already right.
 */
static void block_refresh(struct pcpu_chunk_map *m, int idx)
{
	struct pcpu_block_md *md = &m->md_blocks[idx];

	if (md->scan_hint) {
		md->contig_hint = md->scan_hint;
		md->contig_hint_start = md->scan_hint_start;
		md->scan_hint = 0;
		block_scan_runs(m, idx, md->contig_hint_start + md->contig_hint);
	} else {
		md->contig_hint = 0;
		block_scan_runs(m, idx, md->first_free);
	}
}

/* Bits [a, b) of block @idx were just allocated. */
static void block_update_alloc(struct pcpu_chunk_map *m, int idx, int a, int b)
{
	struct pcpu_block_md *md = &m->md_blocks[idx];

	/* every bit before first_free is allocated: taking the rest fills the block */
	if (a == md->first_free && b == m->block_bits) {
		md_set_full(md);
		return;
	}
	/* Beyond the kernel: the block's only run (starting at first_free, so no free bit
	 * before it; reaching the block's end, so none after it) filled from its front, as
	 * fresh blocks fill: the rest of it is the only run left, known without a rescan. */
	if (a == md->first_free && a == md->contig_hint_start &&
	    a + md->contig_hint == m->block_bits) {
		md->first_free = b;
		md->contig_hint_start = b;
		md->contig_hint = m->block_bits - b;
		md->right_free = md->contig_hint;
		md->left_free = min_int(md->left_free, a);
		return;
	}
	if (a == md->first_free)
		md->first_free = find_next_zero(block_alloc_words(m, idx), m->block_bits, b);
	md->left_free = min_int(md->left_free, a);
	md->right_free = min_int(md->right_free, m->block_bits - b);
	if (md->scan_hint &&
	    ranges_overlap(md->scan_hint_start, md->scan_hint_start + md->scan_hint, a, b))
		md->scan_hint = 0;
	if (md->contig_hint &&
	    ranges_overlap(md->contig_hint_start, md->contig_hint_start + md->contig_hint, a, b))
		block_refresh(m, idx);
}

struct run {
	int start, end; /* bits */
};

static int known_run_end(const struct run *known, int nr_known, int bit)
{
	for (int i = 0; i < nr_known; i++)
		if (known[i].start == bit)
			return known[i].end;
	return -1;
}

/*
 * Offers chunk_md every run that can matter from @bit on, in address order, built from
 * the block hints: each block's contig run unless it touches the block's end, and each
 * block's right_free extended through following free blocks into their left_free.  A run
 * that starts at a block's start after a carried run is part of that run and is not
 * offered again.  Runs a block hides (neither its contig run nor at its end) are no
 * longer than a run offered no later than they are, which is all the scan hint needs.
 * @known lists runs whose extent is already known; they are jumped over in one step.
 * @bit must be a free bit that starts a run, an allocated bit, or map_bits.
 */
static void chunk_scan_runs(struct pcpu_chunk_map *m, int bit, const struct run *known,
			    int nr_known)
{
	struct pcpu_block_md *cmd = &m->chunk_md;

	while (bit < m->map_bits) {
		int idx = bit_to_block(m, bit), off = bit_to_block_off(m, bit);
		int base = block_to_bit(m, idx);
		const struct pcpu_block_md *blk = &m->md_blocks[idx];
		int end = known_run_end(known, nr_known, bit);
		int start;

		if (end >= 0) {
			md_add_free_run(cmd, bit, end);
			bit = end;
			continue;
		}
		if (blk->contig_hint && blk->contig_hint_start >= off &&
		    blk->contig_hint_start + blk->contig_hint < m->block_bits)
			md_add_free_run(cmd, base + blk->contig_hint_start,
					base + blk->contig_hint_start + blk->contig_hint);
		if (!blk->right_free || m->block_bits - blk->right_free < off) {
			bit = base + m->block_bits;
			continue;
		}
		start = base + m->block_bits - blk->right_free;
		end = known_run_end(known, nr_known, start);
		if (end < 0) {
			end = base + m->block_bits;
			for (int j = idx + 1; j < m->nr_pages; j++) {
				end += m->md_blocks[j].left_free;
				if (m->md_blocks[j].left_free != m->block_bits)
					break;
			}
		}
		md_add_free_run(cmd, start, end);
		bit = end;
	}
}

/* chunk_md lost bits of its contig run: as block_refresh, over block hints.  @known are
 * the pieces of the broken contig run. */
static void chunk_refresh(struct pcpu_chunk_map *m, const struct run *known, int nr_known)
{
	struct pcpu_block_md *cmd = &m->chunk_md;
	int bit;

	if (cmd->scan_hint) {
		cmd->contig_hint = cmd->scan_hint;
		cmd->contig_hint_start = cmd->scan_hint_start;
		cmd->scan_hint = 0;
		bit = cmd->contig_hint_start + cmd->contig_hint;
	} else {
		cmd->contig_hint = 0;
		bit = cmd->first_free;
	}
	chunk_scan_runs(m, bit, known, nr_known);
}

/* First free bit at or after @bit, knowing every bit before @bit is allocated. */
static int first_free_from(const struct pcpu_chunk_map *m, int bit)
{
	int idx = find_next_one(nonfull_map(m), m->nr_pages, bit_to_block(m, bit));

	if (idx >= m->nr_pages)
		return m->map_bits;
	return block_to_bit(m, idx) + m->md_blocks[idx].first_free;
}

/* Block @idx's hints changed: keep its bit in the non-full map in step. */
static inline void note_block_fill(struct pcpu_chunk_map *m, int idx)
{
	if (m->md_blocks[idx].first_free < m->block_bits)
		bit_set(nonfull_map(m), idx);
	else
		bit_clear(nonfull_map(m), idx);
}

void _pcpu_chunk_hints_alloc(struct pcpu_chunk_map *m, int start, int end)
{
	struct pcpu_block_md *cmd = &m->chunk_md;
	int s_idx = bit_to_block(m, start), e_idx = bit_to_block(m, end - 1);

	for (int idx = s_idx; idx <= e_idx; idx++) {
		int base = block_to_bit(m, idx);
		bool was_empty = block_empty(&m->md_blocks[idx]);

		block_update_alloc(m, idx, idx == s_idx ? start - base : 0,
				   idx == e_idx ? end - base : m->block_bits);
		note_block_fill(m, idx);
		if (was_empty && page_populated(m, idx))
			m->nr_empty_pop_pages--;
	}

	if (start == cmd->first_free)
		cmd->first_free = first_free_from(m, end);
	cmd->left_free = min_int(cmd->left_free, start);
	cmd->right_free = min_int(cmd->right_free, m->map_bits - end);
	if (cmd->scan_hint &&
	    ranges_overlap(cmd->scan_hint_start, cmd->scan_hint_start + cmd->scan_hint, start, end))
		cmd->scan_hint = 0;
	if (cmd->contig_hint &&
	    ranges_overlap(cmd->contig_hint_start, cmd->contig_hint_start + cmd->contig_hint,
			   start, end)) {
		struct run known[2];
		int nr_known = 0;

		if (cmd->contig_hint_start < start)
			known[nr_known++] = (struct run){ cmd->contig_hint_start, start };
		if (end < cmd->contig_hint_start + cmd->contig_hint)
			known[nr_known++] = (struct run){ end, cmd->contig_hint_start +
								cmd->contig_hint };
		chunk_refresh(m, known, nr_known);
	}
}

/* Start of the run that ends at @bit (@bit itself was allocated until now): hints
 * before bitmap, block hints for whole free blocks. */
static int free_run_start(const struct pcpu_chunk_map *m, int bit)
{
	const struct pcpu_block_md *cmd = &m->chunk_md;
	int idx = bit_to_block(m, bit), base = block_to_bit(m, idx), last;

	if (cmd->contig_hint && bit == cmd->contig_hint_start + cmd->contig_hint)
		return cmd->contig_hint_start;
	if (cmd->scan_hint && bit == cmd->scan_hint_start + cmd->scan_hint)
		return cmd->scan_hint_start;
	last = find_prev_one(m->alloc_map, base, bit);
	if (last >= 0)
		return last + 1;
	while (idx > 0) {
		int right_free = m->md_blocks[--idx].right_free;

		base -= right_free;
		if (right_free != m->block_bits)
			break;
	}
	return base;
}

/* End of the run that starts at @bit (@bit - 1 was allocated until now). */
static int free_run_end(const struct pcpu_chunk_map *m, int bit)
{
	const struct pcpu_block_md *cmd = &m->chunk_md;
	int idx, end, next;

	if (bit >= m->map_bits)
		return m->map_bits;
	if (cmd->contig_hint && bit == cmd->contig_hint_start)
		return cmd->contig_hint_start + cmd->contig_hint;
	if (cmd->scan_hint && bit == cmd->scan_hint_start)
		return cmd->scan_hint_start + cmd->scan_hint;
	idx = bit_to_block(m, bit);
	end = block_to_bit(m, idx) + m->block_bits;
	next = find_next_one(m->alloc_map, end, bit);
	if (next < end)
		return next;
	while (++idx < m->nr_pages) {
		int left_free = m->md_blocks[idx].left_free;

		end += left_free;
		if (left_free != m->block_bits)
			break;
	}
	return end;
}

void _pcpu_chunk_hints_free(struct pcpu_chunk_map *m, int start, int end)
{
	int run_start = free_run_start(m, start), run_end = free_run_end(m, end);
	int s_idx = bit_to_block(m, start), e_idx = bit_to_block(m, end - 1);

	for (int idx = s_idx; idx <= e_idx; idx++) {
		struct pcpu_block_md *md = &m->md_blocks[idx];
		int base = block_to_bit(m, idx);
		int lo = max_int(run_start, base) - base;
		int hi = min_int(run_end, base + m->block_bits) - base;

		if (idx != s_idx && idx != e_idx)
			md_set_empty(md);
		else
			md_add_free_run(md, lo, hi);
		bit_set(nonfull_map(m), idx);
		if (lo == 0 && hi == m->block_bits && page_populated(m, idx))
			m->nr_empty_pop_pages++;
	}
	md_add_free_run(&m->chunk_md, run_start, run_end);
}

/* Recomputes all hints of block @idx from its bitmap (set-up only). */
static void block_init_hints(struct pcpu_chunk_map *m, int idx)
{
	struct pcpu_block_md *md = &m->md_blocks[idx];

	md->nr_bits = m->block_bits;
	md_set_full(md);
	block_scan_runs(m, idx, 0);
	note_block_fill(m, idx);
}

/* Recomputes chunk_md from the block hints (set-up only). */
static void chunk_init_hints(struct pcpu_chunk_map *m)
{
	struct pcpu_block_md *cmd = &m->chunk_md;
	int bit;

	cmd->nr_bits = m->map_bits;
	md_set_full(cmd);
	cmd->first_free = first_free_from(m, 0);
	for (bit = 0; bit < m->map_bits; bit += m->block_bits) {
		cmd->left_free += m->md_blocks[bit_to_block(m, bit)].left_free;
		if (m->md_blocks[bit_to_block(m, bit)].left_free != m->block_bits)
			break;
	}
	for (bit = m->map_bits; bit > 0; bit -= m->block_bits) {
		cmd->right_free += m->md_blocks[bit_to_block(m, bit - 1)].right_free;
		if (m->md_blocks[bit_to_block(m, bit - 1)].right_free != m->block_bits)
			break;
	}
	chunk_scan_runs(m, cmd->first_free, NULL, 0);
}

void _pcpu_chunk_init_hints(struct pcpu_chunk_map *m)
{
	for (int idx = 0; idx < m->nr_pages; idx++)
		block_init_hints(m, idx);
	chunk_init_hints(m);
}
