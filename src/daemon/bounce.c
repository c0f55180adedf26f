/* SPDX-License-Identifier: MIT */
/*
 * Sources the kernel cannot pin.  /dev/mem and a PCI BAR's sysfs resource
 * file map raw page frames (VM_PFNMAP / VM_IO): no struct page stands
 * behind them, so get_user_pages() fails on them.  FUSE's device write
 * pins the reply's user pages to copy from them, and so do splice and
 * fuse_lowlevel_notify_store: a reply written straight from such a mapping
 * fails with EFAULT ("fuse: writing device: Bad address") and the reader
 * gets EIO.  Userspace loads from the mapping work, so for these sources
 * READ copies the bytes into a buffer of the thread's own and replies with
 * that (read.c), and push-ahead stays off.  Decided once per mount, from
 * the kernel's own flags for the mapping (/proc/self/smaps VmFlags "pf"
 * or "io"), not by trying a READ.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "xipfsd.h"

/*
 * 1 when the mapping that starts at addr is PFN or I/O mapped, 0 when it
 * is not, -1 when smaps cannot say (no /proc).
 */
static int mapping_is_pfn(const void *addr)
{
	char line[8192], want[32];
	FILE *f = fopen("/proc/self/smaps", "re");
	int in_vma = 0, found = -1;

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "%" PRIxPTR "-", (uintptr_t)addr);
	while (found < 0 && fgets(line, sizeof(line), f)) {
		if (!in_vma) {
			in_vma = !strncmp(line, want, strlen(want));
			continue;
		}
		if (strncmp(line, "VmFlags:", 8))
			continue;
		found = strstr(line, " pf") || strstr(line, " io");
	}
	fclose(f);
	return found;
}

void xipfsd_bounce_decide(struct xipfsd *d)
{
	int pfn = mapping_is_pfn(d->map.addr);

	/* Without smaps, a memory device is taken to be /dev/mem-like:
	 * copying through a buffer works for every source. */
	d->bounce = pfn > 0 || (pfn < 0 && d->map.type == S_IFCHR);
	if (!d->bounce)
		return;
	if (d->read_mode == XIPFSD_READ_SPLICE && d->read_explicit)
		fprintf(stderr, "xipfs: %s: read=splice cannot move page "
			"frames the kernel cannot pin; reading by copy\n",
			d->source);
	d->read_mode = XIPFSD_READ_COPY;
	xipfsd_push_free(d);
	if (d->verbose)
		fprintf(stderr, "xipfs: %s: raw page frames (%s): READ "
			"replies are copied through a buffer first, no "
			"splice or push-ahead (the kernel cannot pin them)\n",
			d->source, pfn > 0 ? "VM_PFNMAP/VM_IO mapping" :
			"memory device, no /proc to ask");
}

/*
 * READ's reply from a bounce source: the bytes copied into buf (the
 * thread's own, at least len bytes) first; counted as copied, and apart.
 * The copy reads the source, so it runs inside a SIGBUS guard like every
 * other read of the image.
 */
void xipfsd_reply_bounce(fuse_req_t req, struct xipfsd *d, uint8_t *buf,
			 const uint8_t *ptr, size_t len, int packed)
{
	struct xipfsd_guard g;

	XIPFSD_GUARD(req, g);
	memcpy(buf, ptr, len);
	xipfsd_guard_end();
	if (fuse_reply_buf(req, (const char *)buf, len))
		return;
	atomic_fetch_add_explicit(packed ? &d->stats.bytes_packed :
				  &d->stats.bytes_copy, len,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&d->stats.bytes_bounce, len,
				  memory_order_relaxed);
}

/*
 * Can the source's bytes be read with pread?  A file or block device can;
 * a memory device (/dev/mem, device DAX) has no read(), and raw page
 * frames behind a file (a PCI BAR's sysfs resource file) answer it with
 * EIO: those are copied from the mapping.
 */
int xipfsd_source_reads(const struct xipfsd *d)
{
	return !d->bounce &&
	       (d->map.type == S_IFREG || d->map.type == S_IFBLK);
}
