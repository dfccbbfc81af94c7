/* SPDX-License-Identifier: MIT */
/* options.c - the LIBPERCPU_* settings: one table, read from the environment here and
 * nowhere else, once, when the library initializes (init.c), with secure_getenv() so
 * that set-user-ID and set-group-ID programs ignore them.  Each is documented in
 * libpercpu(3); tests/check-source.sh checks that the table and the page agree.  Bad
 * values are reported as "libpercpu: NAME=VALUE: why". */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "size.h"

static struct {
	const char *name;
	const char *value; /* NULL if unset or empty */
} options[PCPU_OPT_COUNT] = {
	[PCPU_OPT_PAGE_SIZE] = { "LIBPERCPU_PAGE_SIZE", NULL },
	[PCPU_OPT_RESERVED_SIZE] = { "LIBPERCPU_RESERVED_SIZE", NULL },
	[PCPU_OPT_DYN_SIZE] = { "LIBPERCPU_DYN_SIZE", NULL },
	[PCPU_OPT_ATOM_SIZE] = { "LIBPERCPU_ATOM_SIZE", NULL },
	[PCPU_OPT_TOPOLOGY] = { "LIBPERCPU_TOPOLOGY", NULL },
	[PCPU_OPT_DEBUG] = { "LIBPERCPU_DEBUG", NULL },
	[PCPU_OPT_CPU_SOURCE] = { "LIBPERCPU_CPU_SOURCE", NULL },
	[PCPU_OPT_STATS] = { "LIBPERCPU_STATS", NULL },
	[PCPU_OPT_INDEX] = { "LIBPERCPU_INDEX", NULL },
};

/* Once, by init.c, before anything reads an option (and under its once-control, so no
 * other thread reads them meanwhile). */
void _pcpu_options_read(void)
{
	for (int i = 0; i < PCPU_OPT_COUNT; i++) {
		const char *v = secure_getenv(options[i].name);

		options[i].value = v && *v ? v : NULL; /* an empty value counts as unset */
	}
}

const char *_pcpu_option(enum pcpu_option id)
{
	return options[id].value;
}

int _pcpu_option_bad(enum pcpu_option id, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "libpercpu: %s=%s: ", options[id].name, options[id].value);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	errno = EINVAL;
	return -1;
}

int _pcpu_option_size(enum pcpu_option id, size_t max, size_t *out)
{
	const char *v = options[id].value;

	if (!v)
		return 0;
	switch (_pcpu_parse_size(v, max, out)) {
	case 0:
		return 0;
	case -2:
		return _pcpu_option_bad(id, "more than the limit of %zuM (%zu bytes)", max >> 20, max);
	default:
		return _pcpu_option_bad(id, "not a size (%s)", _pcpu_size_grammar(max));
	}
}

bool _pcpu_option_flag(enum pcpu_option id)
{
	const char *v = options[id].value;

	return v && strcmp(v, "0") != 0;
}
