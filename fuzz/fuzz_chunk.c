/* SPDX-License-Identifier: MIT */
/* fuzz_chunk.c - libFuzzer target for one chunk's bitmap allocator (src/chunk.c): the input
 * picks a chunk shape, then a sequence of alloc / free / wild free / alloc-from-offset /
 * populate / depopulate / balance steps; after every step the chunk is compared with the
 * plain model of tests/chunk_model.h and recounted by _pcpu_chunk_map_verify. */
#include <stdint.h>
#include <stdlib.h>

#include "chunk.h"
#include "../tests/chunk_model.h"
#include "fuzz_input.h"

/* Checks _pcpu_chunk_next_pop / next_unpop over [0, nr_pages): each run they report must be
 * the model's next maximal run of that state. */
static void check_runs(const struct pcpu_chunk_map *m, const struct model *md, bool pop)
{
	int rs = 0, re, expect_rs, expect_re;

	for (;;) {
		bool found = pop ? _pcpu_chunk_next_pop(m, &rs, &re, md->nr_pages)
				 : _pcpu_chunk_next_unpop(m, &rs, &re, md->nr_pages);

		for (expect_rs = rs; expect_rs < md->nr_pages; expect_rs++)
			if (md->populated[expect_rs] == pop)
				break;
		if (!found) {
			CHECK_EQ(expect_rs, md->nr_pages);
			return;
		}
		for (expect_re = expect_rs; expect_re < md->nr_pages; expect_re++)
			if (md->populated[expect_re] != pop)
				break;
		CHECK_EQ(rs, expect_rs);
		CHECK_EQ(re, expect_re);
		if (rs != expect_rs || re != expect_re || re <= rs)
			return;
		rs = re;
	}
}

/*
 * What the allocator's balance does to one chunk: give back every populated page with no
 * allocation in it, then populate up to @want pages from the first unpopulated runs.
 * Walks the chunk's own run iterators, as alloc.c does.
 */
static void balance(struct pcpu_chunk_map *m, struct model *md, int want)
{
	int rs, re;

	check_runs(m, md, true);
	check_runs(m, md, false);
	for (rs = 0; _pcpu_chunk_next_pop(m, &rs, &re, md->nr_pages); rs = re)
		for (int p = rs; p < re; p++)
			if (_pcpu_chunk_page_empty(m, p))
				model_set_populated(m, md, p, p + 1, false);
	model_check_counters(m, md);
	CHECK_EQ(m->nr_empty_pop_pages, 0);
	for (rs = 0; want > 0 && _pcpu_chunk_next_unpop(m, &rs, &re, md->nr_pages); rs = re) {
		if (re - rs > want)
			re = rs + want;
		model_set_populated(m, md, rs, re, true);
		want -= re - rs;
	}
}

/* An alignment from 1 byte up to the chunk's page size. */
static size_t take_align(struct input *in)
{
	unsigned int page_shift = (unsigned int)__builtin_ctz((unsigned int)model_block_bits) + 2;

	return (size_t)1 << (take8(in) % (page_shift + 1));
}

static void step(struct pcpu_chunk_map *m, struct model *md, struct input *in)
{
	unsigned int op = take8(in);
	int unit = md->map_bits * PCPU_MIN_ALLOC_SIZE;

	switch (op % 8) {
	case 0:
	case 1: {
		/* sizes up to the largest allocation, alignments up to a page */
		int bytes = 1 + (int)(take16(in) % (32u << 10));
		size_t align = take_align(in);

		model_check_alloc(m, md, bytes, align, op & 0x80);
		break;
	}
	case 2:
		if (md->nr_live)
			model_check_free(m, md, md->live[take16(in) % (unsigned int)md->nr_live]);
		break;
	case 3: {
		/* a free anywhere: exact, interior, unaligned, double, out of range */
		unsigned int how = take8(in), v = take16(in);
		int off;

		if (how % 4 == 0 && md->nr_live)
			off = md->live[v % (unsigned int)md->nr_live] * PCPU_MIN_ALLOC_SIZE +
			      (int)(how >> 2) - 32;
		else if (how % 4 == 1)
			off = md->recent[v % 16];
		else if (how % 4 == 2)
			off = unit + (int)(v % 64) - 32;
		else
			off = (int)(v * 4 + (how >> 2) % 4) % (unit + 1);
		model_check_free_at(m, md, off);
		break;
	}
	case 4: {
		int bits = 1 + (int)(take16(in) % ((32u << 10) / PCPU_MIN_ALLOC_SIZE));
		size_t align = take_align(in);

		model_check_alloc_from(m, md, bits, align, (int)(take16(in) % (unsigned int)md->map_bits));
		break;
	}
	case 5:
	case 6: {
		int a = (int)(take8(in) % (unsigned int)md->nr_pages);
		int b = a + 1 + (int)(take8(in) % (unsigned int)(md->nr_pages - a));

		model_set_populated(m, md, a, b, op % 8 == 5);
		break;
	}
	default:
		balance(m, md, (int)(take8(in) % (unsigned int)(md->nr_pages + 1)));
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, data + size };
	struct pcpu_chunk_map m;
	struct model md;
	/* 4 to 64 KiB pages, as the allocator supports; bigger pages, fewer of them (a
	 * model check costs a step per bit) */
	int page_order = (int)(take8(&in) % 5), page = 4096 << page_order;
	int max_pages = 12 >> page_order > 1 ? 12 >> page_order : 1;
	int nr_pages = 1 + (int)(take8(&in) % (unsigned int)max_pages);
	int unit = nr_pages * page;
	/* hidden head and tail: any multiple of the bit size, together less than the unit */
	int start_offset = (int)(take16(&in) % (unsigned int)(unit / PCPU_MIN_ALLOC_SIZE)) *
			   PCPU_MIN_ALLOC_SIZE;
	int end_offset = (int)(take16(&in) % (unsigned int)((unit - start_offset) /
							      PCPU_MIN_ALLOC_SIZE)) *
			 PCPU_MIN_ALLOC_SIZE;

	model_block_bits = page / PCPU_MIN_ALLOC_SIZE;
	if (_pcpu_chunk_map_init(&m, (size_t)unit, (size_t)page, start_offset, end_offset)) {
		CHECK(false);
		abort();
	}
	model_init(&md, &m);
	model_verify(&m, &md);
	for (int steps = 0; in.p < in.end && !tu_failures && steps < 4096; steps++) {
		step(&m, &md, &in);
		model_verify(&m, &md);
	}
	if (tu_failures)
		abort();  /* libFuzzer saves the input that got here */
	while (md.nr_live)
		model_check_free(&m, &md, md.live[0]);
	model_verify(&m, &md);
	CHECK_EQ(m.free_bytes, unit - start_offset - end_offset);
	CHECK_EQ(m.chunk_md.contig_hint, md.vis_end - md.vis_start);
	if (tu_failures)
		abort();
	model_destroy(&md);
	_pcpu_chunk_map_destroy(&m);
	return 0;
}
