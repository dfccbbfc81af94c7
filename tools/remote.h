/* SPDX-License-Identifier: MIT */
/* remote.h - percpu-info's view into another process: a snapshot of its allocator
 * (snapshot.h), read through its libpercpu anchor (src/anchor.h). */
#ifndef PCPU_TOOLS_REMOTE_H
#define PCPU_TOOLS_REMOTE_H

#include <stddef.h>
#include <sys/types.h>

#include "snapshot.h"

/* Takes a consistent snapshot of process @pid's allocator.  0, or -1 with a one-line
 * reason in @err (no such process, not permitted, not using libpercpu, exited while
 * being read, another libpercpu's layout, a state that would not hold still). */
int _pcpu_remote_snapshot(pid_t pid, struct pcpu_snapshot *s, char *err, size_t errlen);

#endif
