/* SPDX-License-Identifier: MIT */
/* vm.c - the address-space backend: the only file that calls mmap, munmap, madvise and
 * mbind.  Chunks are reserved PROT_NONE, committed read-write without reservation of
 * swap (MAP_NORESERVE), populated by prefaulting (so that running out of memory is an
 * error return rather than a fault later), depopulated with MADV_DONTNEED.  The arena of
 * chunks starts in the middle of the largest free range of the address space (read from
 * /proc/self/maps) and grows upward in place with MAP_FIXED_NOREPLACE. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vm.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000 /* Linux 4.17 */
#endif
#define PCPU_MPOL_PREFERRED 1

static void *os_reserve(size_t size, size_t align)
{
	size_t span = size + align;
	char *p = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* trim to the alignment */
	uintptr_t a = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
	size_t head = a - (uintptr_t)p, tail = span - head - size;
	if (head)
		munmap(p, head);
	if (tail)
		munmap((char *)a + size, tail);
	return (void *)a;
}

static int os_commit(void *addr, size_t size, bool huge)
{
	void *p = mmap(addr, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	/* Huge pages only where asked: dynamic chunks populate page by page. */
	madvise(addr, size, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	return 0;
}

static int os_decommit(void *addr, size_t size)
{
	void *p = mmap(addr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
		       -1, 0);
	return p == MAP_FAILED ? -1 : 0;
}

static int populate_supported = 1; /* MADV_POPULATE_WRITE: Linux 5.14 and later */

/* The fallback writes to free per-CPU memory, which ASan builds poison (sanitizer.c). */
__attribute__((no_sanitize_address))
static int os_populate(void *addr, size_t size)
{
	if (__atomic_load_n(&populate_supported, __ATOMIC_RELAXED)) {
		if (madvise(addr, size, MADV_POPULATE_WRITE) == 0)
			return 0;
		if (errno != EINVAL)
			return -1; /* ENOMEM, EFAULT, ... */
		__atomic_store_n(&populate_supported, 0, __ATOMIC_RELAXED);
	}
	/* Older kernels: touch each page.  The range holds no live allocation (it is
	 * unpopulated), so writing a zero there changes nothing anyone reads. */
	size_t page = _pcpu_vm_page_size();
	for (size_t off = 0; off < size; off += page)
		((volatile char *)addr)[off] = 0;
	return 0;
}

static int os_depopulate(void *addr, size_t size)
{
	return madvise(addr, size, MADV_DONTNEED);
}

static int os_bind(void *addr, size_t size, int node)
{
	unsigned long mask[16] = { 0 };

	if (node < 0 || node >= (int)(sizeof(mask) * 8)) {
		errno = EINVAL;
		return -1;
	}
	mask[node / (8 * sizeof(long))] = 1ul << (node % (8 * sizeof(long)));
	return (int)syscall(SYS_mbind, addr, size, PCPU_MPOL_PREFERRED, mask,
			    (unsigned long)(sizeof(mask) * 8), 0ul);
}

static void os_release(void *addr, size_t size)
{
	munmap(addr, size);
}

static int os_reserve_at(void *addr, size_t size)
{
	void *p = mmap(addr, size, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	if (p != addr) { /* a kernel before 4.17 took the address for a hint */
		munmap(p, size);
		errno = EEXIST;
		return -1;
	}
	return 0;
}

/* Parses "start-end ..." lines of /proc/self/maps (ascending) from @fd and returns the
 * largest gap between mappings within [lo, hi) in *@gap_lo, *@gap_len.  Only gaps below
 * a mapping count: above the last one (the stack, near the top of the user address
 * space) the address space may end anywhere, at 2^38 with RISC-V Sv39, at 2^39 with
 * 3-level arm64. */
static void largest_gap(int fd, uintptr_t lo, uintptr_t hi, uintptr_t *gap_lo, size_t *gap_len)
{
	char buf[4096];
	uintptr_t prev = lo, v = 0, start = 0;
	int field = 0; /* 0: start, 1: end, 2: rest of the line */
	ssize_t n;

	*gap_lo = 0;
	*gap_len = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		for (ssize_t i = 0; i < n; i++) {
			char c = buf[i];
			int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

			if (c == '\n') {
				field = 0;
				v = 0;
			} else if (field < 2 && d >= 0) {
				v = v * 16 + (uintptr_t)d;
			} else if (field == 0 && c == '-') {
				start = v;
				v = 0;
				field = 1;
			} else if (field == 1) { /* the end of the range: one mapping */
				if (start < hi && start > prev && start - prev > *gap_len) {
					*gap_lo = prev;
					*gap_len = start - prev;
				}
				if (v > prev)
					prev = v;
				field = 2;
			}
		}
	}
}

static void *os_roomy_address(size_t align)
{
#if UINTPTR_MAX > 0xffffffffu
	/* above 4 GiB (non-PIE executables, MAP_32BIT) and below 2^47 (what lies above
	 * needs a hint there on x86-64 and arm64 with 5-level / 52-bit tables) */
	uintptr_t lo = (uintptr_t)1 << 32, hi = (uintptr_t)1 << 47, gap_lo, mid;
	size_t gap_len;
	int fd;

	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	largest_gap(fd, lo, hi, &gap_lo, &gap_len);
	close(fd);
	if (gap_len < 4 * align)
		return NULL;
	mid = (gap_lo + gap_len / 2) & ~(uintptr_t)(align - 1);
	return mid > gap_lo ? (void *)mid : NULL;
#else
	(void)align; /* 32 bits: no room to spare, the kernel places the arena */
	return NULL;
#endif
}

static uint64_t os_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* the vDSO's cheapest clock */
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const struct pcpu_vm_ops _pcpu_vm_os = {
	.reserve = os_reserve,
	.commit = os_commit,
	.decommit = os_decommit,
	.populate = os_populate,
	.depopulate = os_depopulate,
	.bind = os_bind,
	.release = os_release,
	.reserve_at = os_reserve_at,
	.roomy_address = os_roomy_address,
	.now_ms = os_now_ms,
};

const struct pcpu_vm_ops *_pcpu_vm = &_pcpu_vm_os;

bool _pcpu_vm_thp_available(void)
{
	char buf[128];
	int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, "[never]") == NULL;
}

size_t _pcpu_vm_page_size(void)
{
	static size_t page;
	size_t p = __atomic_load_n(&page, __ATOMIC_RELAXED);

	if (!p) {
		p = (size_t)sysconf(_SC_PAGESIZE);
		__atomic_store_n(&page, p, __ATOMIC_RELAXED);
	}
	return p;
}

void *_pcpu_vm_named_page(const char *name, size_t size)
{
	size_t bytes = (size + _pcpu_vm_page_size() - 1) & ~(_pcpu_vm_page_size() - 1);
	int fd = (int)syscall(SYS_memfd_create, name, 1u /* MFD_CLOEXEC */);
	void *p;

	if (fd < 0)
		return NULL;
	/* private: a fork()ed child writes its own copy */
	p = ftruncate(fd, (off_t)bytes) == 0 ?
		mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

void _pcpu_vm_seal_page(void *addr, size_t size)
{
	(void)mprotect(addr, (size + _pcpu_vm_page_size() - 1) & ~(_pcpu_vm_page_size() - 1),
		       PROT_READ);
}
