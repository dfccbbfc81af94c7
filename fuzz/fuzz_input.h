/* SPDX-License-Identifier: MIT */
/* fuzz_input.h - the fuzz targets read their input as a stream of small numbers: take8(), take16()
 * and take_bytes() consume it front to back, and give zeros once it is used up, so that
 * every input, however short, decodes to something. */
#ifndef PCPU_FUZZ_INPUT_H
#define PCPU_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p, *end;
};

static inline unsigned int take8(struct input *in)
{
	return in->p < in->end ? *in->p++ : 0;
}

static inline unsigned int take16(struct input *in)
{
	unsigned int lo = take8(in);

	return lo | take8(in) << 8;
}

/* @n bytes, little-endian (n <= 8). */
static inline uint64_t take_bytes(struct input *in, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v |= (uint64_t)take8(in) << (8 * i);
	return v;
}

#endif
