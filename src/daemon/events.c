/* SPDX-License-Identifier: MIT */
/*
 * The named points where the request handlers (ops.c) tell the features
 * what happened, so that the handlers know no feature and a feature no
 * handler.  Each point hands on to the features that are on: the request
 * count (stats) and the idle timer's clock, push-ahead's view of what the
 * kernel holds and where the reader is, the profile's open, exec and read
 * marks, what is open (the idle timer leaves a mount with open files
 * alone), and the bytes served (the mapping's share of the RSS).  Every call here is cheap: a few atomic operations, no system
 * call, no lock but push-ahead's when it has work to hand over.
 */
#include "config.h"

#include "xipfsd.h"

void xipfsd_note_request(struct xipfsd *d, enum xipfsd_op op)
{
	atomic_fetch_add_explicit(&d->stats.ops[op], 1, memory_order_relaxed);
	xipfsd_idle_touch(d);
}

void xipfsd_note_entry(struct xipfsd *d, uint32_t dir, uint64_t cookie,
		       uint32_t ino)
{
	xipfsd_push_note_entry(d, dir, cookie, ino);
}

void xipfsd_note_forget(struct xipfsd *d, uint32_t ino, uint64_t nlookup)
{
	xipfsd_push_note_forget(d, ino, nlookup);
}

void xipfsd_note_open(struct xipfsd *d, uint32_t ino, int flags)
{
	xipfsd_profile_open(d, ino, flags);
}

void xipfsd_note_opened(struct xipfsd *d)
{
	xipfsd_idle_opened(d, 1);
}

void xipfsd_note_released(struct xipfsd *d)
{
	xipfsd_idle_opened(d, -1);
}

void xipfsd_note_read(struct xipfsd *d, uint32_t ino, uint64_t off)
{
	xipfsd_push_note_read(d, ino, off);
}

void xipfsd_note_served(struct xipfsd *d, uint32_t ino, size_t len)
{
	xipfsd_profile_read(d, ino, len);
	xipfsd_resident_served(d, len);
}
