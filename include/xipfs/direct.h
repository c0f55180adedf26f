/* SPDX-License-Identifier: MIT */
/*
 * Direct mapping for XIP-aware programs.  An open file on an xipfs mount
 * answers XIPFS_IOC_WHERE with where its bytes sit in the mount's source;
 * xipfs_direct_map() then maps that range of the source itself, so the
 * program reads the image's own pages (the file's, the PMEM device's, or
 * physical memory's) with no FUSE request and no second copy.
 */
#ifndef XIPFS_DIRECT_H
#define XIPFS_DIRECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

/* Fixed-width fields only: the kernel copies _IOC_SIZE bytes verbatim. */
struct xipfs_where {
	uint32_t version;	/* XIPFS_WHERE_VERSION */
	uint32_t flags;		/* XIPFS_WHERE_* */
	uint64_t source_dev;	/* st_dev and st_ino of the source, so a */
	uint64_t source_ino;	/* client can check it opened the same one */
	uint64_t offset;	/* first byte of the file's data in the source */
	uint64_t size;		/* file size in bytes */
	uint32_t block_size;	/* image block size */
	uint32_t reserved;
};

#define XIPFS_WHERE_VERSION	1
#define XIPFS_WHERE_ALIGNED	0x1	/* data starts on a block boundary */
#define XIPFS_WHERE_PACKED	0x2	/* data packed at any byte offset */

/* A restricted (well-formed) ioctl: FUSE allows only those on files. */
#define XIPFS_IOC_WHERE		_IOR('x', 0x01, struct xipfs_where)

_Static_assert(sizeof(struct xipfs_where) == 48, "xipfs_where is 48 bytes");

/* A file's bytes mapped straight from the source. */
struct xipfs_direct {
	const uint8_t *data;	/* size bytes (NULL when size is 0) */
	uint64_t size;
	struct xipfs_where where;
	char source[4096];	/* the source path, from mountinfo */
	void *addr;		/* the mapping, page-aligned */
	size_t map_len;
};

/*
 * Map the file open on fd (a regular file on an xipfs mount) straight from
 * the mount's source, read-only and shared.  The caller must be able to
 * open the source for reading.  Returns 0 or a negated errno; *what names
 * the step that failed: -ENOTTY means fd is not on an xipfs mount,
 * -EMEDIUMTYPE that it is a compressed file (the daemon answers
 * XIPFS_IOC_WHERE for one with EOPNOTSUPP), whose bytes cannot be mapped,
 * -EREMOTE that the mount's source is a URL (its bytes are in no local
 * source).
 * On a mount that verifies data (the daemon's default; -o noverify opts
 * out) the daemon checks every block of the file against the image's
 * data CRCs before it says where the file is, and a file with a block
 * that fails gets -EIO: no mapping of it is made.  The mapping then shows
 * the source as it is; a source that changes later is not checked again.
 */
int xipfs_direct_map(int fd, struct xipfs_direct *out, const char **what);
void xipfs_direct_unmap(struct xipfs_direct *d);

/* Undo /proc/self/mountinfo's \ooo escapes (space, tab, newline,
 * backslash) in a field, in place: how xipfs_direct_map() reads a mount's
 * source, and how a daemon finds its own mount.  (LIBXIPFS_0.3) */
void xipfs_mountinfo_unescape(char *s);

#endif /* XIPFS_DIRECT_H */
