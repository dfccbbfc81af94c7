/* SPDX-License-Identifier: MIT */
/* diag.c - diagnostics: the one way the library reports misuse it cannot recover from
 * (a "libpercpu: CALL: what" line on stderr, then abort(), as the kernel's BUG() would),
 * and the thread token by which its mutexes know their holder (mutex.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "mutex.h"

__thread char _pcpu_thread_token;

void _pcpu_mutex_reentered(const struct pcpu_mutex *l)
{
	_pcpu_fatal("allocator", "its lock %p is taken again by the thread that holds it: a signal "
		    "handler called pcpu_alloc(), pcpu_free() or another allocator function "
		    "(none is async-signal-safe) while its thread was in one", (const void *)l);
}

void _pcpu_fatal(const char *call, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	/* one write: the message is not interleaved with another thread's */
	n = snprintf(msg, sizeof(msg), "libpercpu: %s: ", call);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", msg);
	abort();
}
