/* SPDX-License-Identifier: MIT */
/*
 * The daemon's resident memory stays bounded whatever it serves.  Every
 * page of the image a reply copies from (READ by copy, push-ahead's
 * stores, -o verify's checks, metadata) stays mapped in the daemon once
 * touched, so its RSS grew to the size of the image read (2 GB for a 2 GB
 * image) and counted against a cgroup's limit, though the pages are the
 * page cache's (or the device's), not the daemon's.
 *
 * After every TRIM_EVERY bytes served, the thread that crosses the mark
 * drops the whole mapping's page table entries (MADV_DONTNEED).  For the
 * shared, read-only mapping of the source this loses nothing: the pages
 * stay where they were (page cache, tmpfs, device) and the next touch maps
 * them again with a minor fault; a thread copying from the mapping at that
 * moment takes that fault, nothing more.  Zapping a range mostly unmapped
 * costs a walk of its page tables, microseconds even for gigabytes.
 * READ by copy no longer touches the mapping for a file or block source
 * (read.c reads those with pread: re-faulting pages after each trim cost
 * more than the extra copy); this bounds the rest: push-ahead's stores,
 * compressed clusters, metadata, sources without read().  Chosen over
 * dropping each request's range (a system call and a TLB flush per
 * request, and the metadata pages would stay).  PFN-mapped sources (/dev/mem, a BAR) have no pages to count and
 * refuse the advice (EINVAL): trimming stops at the first refusal.
 */
#include "config.h"

#include <sys/mman.h>

#include "xipfsd.h"

/* Bytes served between two trims: the most the mapping adds to the RSS
 * (plus the metadata a walk touched in between). */
#define TRIM_EVERY	(32u << 20)

void xipfsd_resident_served(struct xipfsd *d, size_t len)
{
	unsigned long was;

	if (atomic_load_explicit(&d->trim_off, memory_order_relaxed))
		return;
	was = atomic_fetch_add_explicit(&d->trim_pending, len,
					memory_order_relaxed);
	if (was + len < TRIM_EVERY)
		return;
	/* one thread trims; the others go on counting from zero */
	if (atomic_exchange_explicit(&d->trim_pending, 0,
				     memory_order_relaxed) < TRIM_EVERY)
		return;
	if (madvise(d->map.addr, d->map.map_len, MADV_DONTNEED)) {
		atomic_store_explicit(&d->trim_off, 1, memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&d->stats.trims, 1, memory_order_relaxed);
}
