/* SPDX-License-Identifier: MIT */
/* map.c - percpu-info map: each chunk as a row of its pages, one cell per page (a page of
 * every CPU's unit: allocations and population are the same in all of them), classed as
 * full, partly allocated, free and populated, or free and not populated; the first
 * chunk's static variables, reserved region and dynamic region get rows of their own.
 * Fragmentation shows as rows of partly used cells; memory kept for nothing as free,
 * populated ones.  The same rows go to a terminal (colour only on a terminal) or to SVG. */
#include <stdlib.h>
#include <string.h>

#include "map.h"

enum cell { CELL_NONE, CELL_FULL, CELL_PART, CELL_FREE, CELL_UNPOP, CELL_STATIC, NR_CELLS };

static const char cell_char[NR_CELLS] = { ' ', '#', '+', '.', '-', 'S' };
static const char *const cell_ansi[NR_CELLS] = { "", "41", "43", "42", "100", "44" };
static const char *const cell_fill[NR_CELLS] = {
	"none", "#d62728", "#ff9f1c", "#2ca02c", "#e4e4e4", "#1f77b4",
};
static const char *const cell_name[NR_CELLS] = {
	"outside the chunk", "full", "partly allocated", "free, populated",
	"free, not populated", "static variables",
};

#define CELLS_PER_LINE 64

/* A row: one chunk's map, or the static variables (no map). */
struct row {
	char label[48];
	int first_page, nr_pages;              /* unit pages */
	const struct pcpu_snap_chunk *c;       /* NULL: static variables */
};

static bool test_bit(const unsigned long *map, int bit)
{
	const int bpl = (int)(sizeof(long) * 8);

	return (map[bit / bpl] >> (bit % bpl)) & 1;
}

/* Bytes of page @page (of the map) allocated, and visible to the map, in *@alloc, *@vis. */
static void page_bytes(const struct pcpu_chunk_map *m, int page, int *alloc, int *vis)
{
	int lo = page * m->block_bits, hi = lo + m->block_bits;
	int vis_lo = m->start_offset / PCPU_MIN_ALLOC_SIZE;
	int vis_hi = m->map_bits - m->end_offset / PCPU_MIN_ALLOC_SIZE;

	*alloc = *vis = 0;
	for (int bit = lo > vis_lo ? lo : vis_lo; bit < hi && bit < vis_hi; bit++) {
		*vis += PCPU_MIN_ALLOC_SIZE;
		*alloc += test_bit(m->alloc_map, bit) ? PCPU_MIN_ALLOC_SIZE : 0;
	}
}

static enum cell cell_of(const struct row *r, int i, int *alloc, int *vis)
{
	const struct pcpu_chunk_map *m;

	*alloc = *vis = 0;
	if (!r->c)
		return CELL_STATIC;
	m = &r->c->map;
	page_bytes(m, i, alloc, vis);
	if (!*vis)
		return CELL_NONE;
	if (*alloc == *vis)
		return CELL_FULL;
	if (*alloc)
		return CELL_PART;
	return test_bit(m->populated, i) ? CELL_FREE : CELL_UNPOP;
}

/* The rows of @s: the static variables, then the chunks in percpu_stats order.  Returns
 * how many (at most nr_chunks + 1). */
static int make_rows(const struct pcpu_snapshot *s, struct row *rows)
{
	size_t page = s->st.page_size;
	int n = 0;

	if (s->st.static_size) {
		rows[n].c = NULL;
		rows[n].first_page = 0;
		rows[n].nr_pages = (int)((s->st.static_size + page - 1) / page);
		snprintf(rows[n].label, sizeof(rows[n].label), "chunk 0 static");
		n++;
	}
	for (int i = 0; i < s->nr_chunks; i++) {
		const struct pcpu_snap_chunk *c = &s->chunks[i];
		struct row *r = &rows[n++];

		r->c = c;
		r->first_page = (int)(c->unit_start / page);
		r->nr_pages = c->map.nr_pages;
		snprintf(r->label, sizeof(r->label), "chunk %d %s", c->index,
			 c->kind == PCPU_SNAP_RESERVED ? "reserved" :
			 c->kind == PCPU_SNAP_FIRST ? "dynamic" :
			 c->list == PCPU_SNAP_TO_DEPOPULATE ? "to_depopulate" :
			 c->list == PCPU_SNAP_SIDELINED ? "sidelined" : "");
	}
	return n;
}

static void header(FILE *out, const struct pcpu_snapshot *s, const char *who, const char *sep)
{
	fprintf(out, "libpercpu chunk map of %s: %u chunk%s, units of %zu KiB (%zu pages of %zu "
		"KiB), %u units per chunk%s", who, s->st.nr_chunks, s->st.nr_chunks == 1 ? "" : "s",
		s->st.unit_size >> 10, s->st.unit_size / s->st.page_size, s->st.page_size >> 10,
		s->st.nr_units, sep);
}

void pcpu_map_text(FILE *out, const struct pcpu_snapshot *s, const char *who, bool colour)
{
	struct row *rows = calloc((size_t)s->nr_chunks + 1, sizeof(*rows));
	int n;

	if (!rows)
		return;
	n = make_rows(s, rows);
	header(out, s, who, "\n");
	fprintf(out, "one cell per page of every CPU's unit:");
	for (int k = CELL_FULL; k < NR_CELLS; k++) {
		if (colour)
			fprintf(out, "  \033[%sm%c\033[0m %s", cell_ansi[k], cell_char[k], cell_name[k]);
		else
			fprintf(out, "  %c %s", cell_char[k], cell_name[k]);
	}
	fprintf(out, "\n");
	for (int i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		for (int p = 0; p < r->nr_pages; p++) {
			int alloc, vis;
			enum cell k = cell_of(r, p, &alloc, &vis);

			if (p % CELLS_PER_LINE == 0)
				fprintf(out, "%s%-24s page %5d |", p ? "|\n" : "",
					p ? "" : r->label, r->first_page + p);
			if (colour && k != CELL_NONE)
				fprintf(out, "\033[%sm%c\033[0m", cell_ansi[k], cell_char[k]);
			else
				fputc(cell_char[k], out);
		}
		fprintf(out, "|\n");
	}
	free(rows);
}

#define SVG_CELL 12
#define SVG_ROW 18
#define SVG_LABEL 190
#define SVG_TOP 70

static void svg_text(FILE *out, int x, int y, const char *text)
{
	fprintf(out, "<text x=\"%d\" y=\"%d\">", x, y);
	for (; *text; text++) {
		if (*text == '<')
			fputs("&lt;", out);
		else if (*text == '&')
			fputs("&amp;", out);
		else
			fputc(*text, out);
	}
	fputs("</text>\n", out);
}

void pcpu_map_svg(FILE *out, const struct pcpu_snapshot *s, const char *who)
{
	struct row *rows = calloc((size_t)s->nr_chunks + 1, sizeof(*rows));
	int n, lines = 0, width = SVG_LABEL + CELLS_PER_LINE * SVG_CELL + 20, y;
	char title[256];

	if (!rows)
		return;
	n = make_rows(s, rows);
	for (int i = 0; i < n; i++)
		lines += (rows[i].nr_pages + CELLS_PER_LINE - 1) / CELLS_PER_LINE;
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"font-family=\"monospace\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		width, SVG_TOP + lines * SVG_ROW + 20);
	snprintf(title, sizeof(title), "libpercpu chunk map of %s", who);
	svg_text(out, 10, 20, title);
	snprintf(title, sizeof(title), "%u chunks, units of %zu KiB (%zu pages of %zu KiB), %u units "
		 "per chunk; one cell per page of every CPU's unit", s->st.nr_chunks,
		 s->st.unit_size >> 10, s->st.unit_size / s->st.page_size, s->st.page_size >> 10,
		 s->st.nr_units);
	svg_text(out, 10, 38, title);
	for (int k = CELL_FULL, x = 10; k < NR_CELLS; k++) {
		fprintf(out, "<rect x=\"%d\" y=\"46\" width=\"%d\" height=\"%d\" fill=\"%s\" "
			"stroke=\"#888\"/>\n", x, SVG_CELL - 2, SVG_CELL - 2, cell_fill[k]);
		svg_text(out, x + SVG_CELL + 2, 56, cell_name[k]);
		x += SVG_CELL + 10 + 8 * (int)strlen(cell_name[k]);
	}
	y = SVG_TOP;
	for (int i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		svg_text(out, 10, y + SVG_CELL, r->label);
		for (int p = 0; p < r->nr_pages; p++) {
			int alloc, vis, x = SVG_LABEL + (p % CELLS_PER_LINE) * SVG_CELL;
			enum cell k = cell_of(r, p, &alloc, &vis);

			if (p && p % CELLS_PER_LINE == 0) {
				char at[32];

				y += SVG_ROW;
				snprintf(at, sizeof(at), "page %d", r->first_page + p);
				svg_text(out, 100, y + SVG_CELL, at);
			}
			if (k == CELL_NONE)
				continue;
			fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" "
				"stroke=\"#888\"><title>%s page %d: %s", x, y, SVG_CELL - 2,
				SVG_ROW - 4, cell_fill[k], r->label, r->first_page + p, cell_name[k]);
			if (r->c)
				fprintf(out, ", %d of %d bytes allocated", alloc, vis);
			fprintf(out, "</title></rect>\n");
		}
		y += SVG_ROW;
	}
	fprintf(out, "</svg>\n");
	free(rows);
}
