/* SPDX-License-Identifier: MIT */
/* stats.c - statistics (the kernel's percpu_stats, per chunk too) of this process, the
 * layout dump, and LIBPERCPU_STATS (the statistics printed at exit). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "anchor.h"
#include "internal.h"
#include "snapshot.h"

/* The counters of struct pcpu_stats (pcpu_lock held). */
static void get_stats_locked(struct pcpu_stats *st)
{
	*st = _pcpu_alloc.stats;
	st->nr_static_sections = _pcpu_sections_count();
	st->nr_populated_pages = 0;
	st->free_bytes = 0;
	st->nr_populate_calls = __atomic_load_n(&_pcpu_alloc.nr_populate_calls, __ATOMIC_RELAXED);
	st->nr_depopulate_calls = __atomic_load_n(&_pcpu_alloc.nr_depopulate_calls, __ATOMIC_RELAXED);
	for (int i = 0; i < _pcpu_alloc.chunk_hwm; i++) {
		const struct pcpu_chunk *c = _pcpu_alloc.chunks[i];
		if (!c)
			continue;
		st->nr_populated_pages += (size_t)c->map.nr_populated;
		st->free_bytes += (size_t)c->map.free_bytes;
	}
	st->nr_empty_pop_pages = (size_t)_pcpu_alloc.nr_empty_pop_pages;
	st->reserved_free = _pcpu_alloc.reserved_chunk ? (size_t)_pcpu_alloc.reserved_chunk->map.free_bytes : 0;
}

int pcpu_get_stats(struct pcpu_stats *st)
{
	if (!st) {
		errno = EINVAL;
		return -1;
	}
	if (_pcpu_ensure_init())
		return -1;
	/* Everything but the population counts changes only under the lock: one
	 * consistent snapshot (nr_cur_alloc == nr_alloc - nr_dealloc, ...). */
	_pcpu_mutex_lock(&_pcpu_alloc.lock);
	get_stats_locked(st);
	_pcpu_mutex_unlock(&_pcpu_alloc.lock);
	return 0;
}

/* The chunk @i of the snapshot order: the reserved chunk, then the arena's. */
static const struct pcpu_chunk *chunk_at(int i)
{
	if (_pcpu_alloc.reserved_chunk && i-- == 0)
		return _pcpu_alloc.reserved_chunk;
	return i < _pcpu_alloc.chunk_hwm ? _pcpu_alloc.chunks[i] : NULL;
}

/* Copies the statistics and every chunk's maps.  Chunks are made and destroyed only
 * under alloc_mutex: holding it, the copies are allocated before pcpu_lock is taken (no
 * malloc under it), and the chunks are the same once it is. */
static int take_snapshot(struct pcpu_snapshot *s)
{
	int n = 0, slots = _pcpu_alloc.chunk_hwm + 1, ret = -1;

	memset(s, 0, sizeof(*s));
	_pcpu_mutex_lock(&_pcpu_alloc.alloc_mutex);
	s->chunks = calloc((size_t)slots, sizeof(*s->chunks));
	if (!s->chunks)
		goto out;
	for (int i = 0; i < slots; i++) {
		const struct pcpu_chunk *c = chunk_at(i);

		if (!c)
			continue;
		s->chunks[n].map.meta = malloc(_pcpu_snap_map_meta_bytes(&c->map));
		if (!s->chunks[n++].map.meta)
			goto out;
	}
	_pcpu_mutex_lock(&_pcpu_alloc.lock);
	get_stats_locked(&s->st);
	s->alloc_size = _pcpu_geo->ai->alloc_size;
	for (int i = 0; i < slots; i++) {
		const struct pcpu_chunk *c = chunk_at(i);
		struct pcpu_snap_chunk *sc = &s->chunks[s->nr_chunks];
		void *meta = sc->map.meta;

		if (!c)
			continue;
		memcpy(meta, c->map.meta, _pcpu_snap_map_meta_bytes(&c->map));
		(void)_pcpu_snap_map_rebase(&sc->map, &c->map, meta); /* our own: consistent */
		sc->index = c->index;
		sc->slot = c->slot;
		sc->kind = c == _pcpu_alloc.reserved_chunk ? PCPU_SNAP_RESERVED :
			   c == _pcpu_alloc.first_chunk ? PCPU_SNAP_FIRST : PCPU_SNAP_DYNAMIC;
		sc->list = c->slot == _pcpu_alloc.to_depopulate_slot ? PCPU_SNAP_TO_DEPOPULATE :
			   c->slot == _pcpu_alloc.sidelined_slot ? PCPU_SNAP_SIDELINED : PCPU_SNAP_LISTED;
		sc->unit_start = (size_t)(c->base - _pcpu_geo->arena) -
				 (size_t)c->index * _pcpu_geo->chunk_bytes;
		sc->max_alloc_size = c->max_alloc_size;
		sc->nr_cached = c->nr_cached;
		s->nr_chunks++;
	}
	_pcpu_mutex_unlock(&_pcpu_alloc.lock);
	_pcpu_snap_sort(s);
	ret = 0;
out:
	_pcpu_mutex_unlock(&_pcpu_alloc.alloc_mutex);
	if (ret) {
		for (int i = 0; i < n; i++)
			free(s->chunks[i].map.meta);
		free(s->chunks);
		errno = ENOMEM;
	}
	return ret;
}

int _pcpu_snap_take_self(struct pcpu_snapshot *s)
{
	return _pcpu_ensure_init() ? -1 : take_snapshot(s);
}

int pcpu_dump_stats(FILE *out)
{
	struct pcpu_snapshot s;
	int ret;

	if (!out) {
		errno = EINVAL;
		return -1;
	}
	if (_pcpu_snap_take_self(&s))
		return -1;
	ret = _pcpu_snap_print(out, &s);
	_pcpu_snap_free(&s);
	if (ret)
		errno = EIO;
	return ret;
}

int pcpu_dump_layout(FILE *out)
{
	if (!out) {
		errno = EINVAL;
		return -1;
	}
	if (_pcpu_ensure_init())
		return -1;
	_pcpu_dump_embedded(out, _pcpu_geo->ai);
	_pcpu_dump_alloc_info(out, _pcpu_geo->ai);
	return 0;
}

static void print_at_exit(void)
{
	fflush(stdout);
	if (pcpu_dump_stats(stderr) != 0)
		fprintf(stderr, "libpercpu: LIBPERCPU_STATS: cannot print the statistics: %s\n",
			strerror(errno));
}

static bool stats_at_exit;

int _pcpu_stats_read_setting(void)
{
	const char *v = _pcpu_option(PCPU_OPT_STATS);

	stats_at_exit = false;
	if (!v || !strcmp(v, "0"))
		return 0;
	if (strcmp(v, "stderr") && strcmp(v, "1"))
		return _pcpu_option_bad(PCPU_OPT_STATS, "not 'stderr' (or 1), nor '0' (off)");
	stats_at_exit = true;
	return 0;
}

void _pcpu_stats_arm_exit(void)
{
	if (stats_at_exit && atexit(print_at_exit) != 0)
		fprintf(stderr, "libpercpu: LIBPERCPU_STATS: cannot register the exit handler\n");
}
