/* SPDX-License-Identifier: MIT */
/* stats.c - statistics (the kernel's percpu_stats) and the layout dump. */
#include <errno.h>
#include <string.h>

#include "internal.h"

int pcpu_get_stats(struct pcpu_stats *st)
{
	if (!st) {
		errno = EINVAL;
		return -1;
	}
	if (pcpu_ensure_init())
		return -1;
	/* Everything but the population counts changes only under the lock: one
	 * consistent snapshot (nr_cur_alloc == nr_alloc - nr_dealloc, ...). */
	pthread_mutex_lock(&pcpu.lock);
	*st = pcpu.stats;
	st->nr_static_sections = pcpu_sections_count();
	st->nr_populated_pages = 0;
	st->free_bytes = 0;
	st->nr_populate_calls = __atomic_load_n(&pcpu.nr_populate_calls, __ATOMIC_RELAXED);
	st->nr_depopulate_calls = __atomic_load_n(&pcpu.nr_depopulate_calls, __ATOMIC_RELAXED);
	for (int i = 0; i < pcpu.chunk_hwm; i++) {
		const struct pcpu_chunk *c = pcpu.chunks[i];
		if (!c)
			continue;
		st->nr_populated_pages += (size_t)c->map.nr_populated;
		st->free_bytes += (size_t)c->map.free_bytes;
	}
	st->nr_empty_pop_pages = (size_t)pcpu.nr_empty_pop_pages;
	st->reserved_free = pcpu.reserved_chunk ? (size_t)pcpu.reserved_chunk->map.free_bytes : 0;
	pthread_mutex_unlock(&pcpu.lock);
	return 0;
}

#define P(name, value) fprintf(out, "  %-20s: %12lld\n", name, (long long)(value))

int pcpu_dump_stats(FILE *out)
{
	struct pcpu_stats st;

	if (!out) {
		errno = EINVAL;
		return -1;
	}
	if (pcpu_get_stats(&st))
		return -1;
	fprintf(out, "Percpu Memory Statistics\nAllocation Info:\n%.40s\n",
		"----------------------------------------------------------------");
	P("unit_size", st.unit_size);
	P("static_size", st.static_size);
	P("reserved_size", st.reserved_size);
	P("dyn_size", st.dyn_size);
	P("atom_size", st.atom_size);
	P("page_size", st.page_size);
	P("alloc_size", pcpu.ai->alloc_size);
	fprintf(out, "\nGlobal Stats:\n%.40s\n",
		"----------------------------------------------------------------");
	P("nr_alloc", st.nr_alloc);
	P("nr_dealloc", st.nr_dealloc);
	P("nr_cur_alloc", st.nr_cur_alloc);
	P("nr_max_alloc", st.nr_max_alloc);
	P("nr_chunks", st.nr_chunks);
	P("nr_max_chunks", st.nr_max_chunks);
	P("min_alloc_size", st.min_alloc_size);
	P("max_alloc_size", st.max_alloc_size);
	P("empty_pop_pages", st.nr_empty_pop_pages);
	P("populated_pages", st.nr_populated_pages);
	P("nr_alloc_failed", st.nr_alloc_failed);
	fprintf(out, "\n");
	return 0;
}

int pcpu_dump_layout(FILE *out)
{
	if (!out) {
		errno = EINVAL;
		return -1;
	}
	if (pcpu_ensure_init())
		return -1;
	pcpu_dump_embedded(out, pcpu.ai);
	pcpu_dump_alloc_info(out, pcpu.ai);
	return 0;
}
