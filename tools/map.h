/* SPDX-License-Identifier: MIT */
/* map.h - percpu-info map: a picture of every chunk's pages, for a terminal or as SVG. */
#ifndef PCPU_TOOLS_MAP_H
#define PCPU_TOOLS_MAP_H

#include <stdbool.h>
#include <stdio.h>

#include "snapshot.h"

/* Draws @s on @out as text, with ANSI colours if @colour; @who names the process. */
void pcpu_map_text(FILE *out, const struct pcpu_snapshot *s, const char *who, bool colour);
/* The same picture as an SVG document. */
void pcpu_map_svg(FILE *out, const struct pcpu_snapshot *s, const char *who);

#endif
