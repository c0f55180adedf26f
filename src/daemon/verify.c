/* SPDX-License-Identifier: MIT */
/*
 * Data verification, on by default (-o noverify turns it off): before any
 * byte of the image's data leaves the daemon, every data block it is
 * stored in is checked against the image's CRC32C table (format.h,
 * XIPFS_RO_COMPAT_DATA_CRC), so flash rot gives EIO, never wrong bytes.
 * Every door goes through here: READ (read.c), push-ahead (push.c),
 * passthrough (a file's blocks all checked before the kernel gets a clone
 * of them, passthrough.c) and XIPFS_IOC_WHERE (ops.c, before xipfs-map
 * maps a file).
 *
 * How a block is checked decides what verify costs.  Bytes in place are
 * read by the kernel (pread from the source) into a buffer that stays
 * warm, checked there, and served from there, so the bytes served are the
 * bytes checked; checking them in our mapping instead faulted every page
 * of it into this process, which on these machines cost far more than the
 * copy (docs/BENCHMARKS.md).  A compressed file's clusters are checked in
 * the mapping, where the decompressor reads them anyway, before anything
 * is decompressed.
 *
 * A block is checked once per mount: the result is kept in two bitmaps
 * (good, bad), one bit per block of the data region each, so the memory
 * is blocks / 4 bytes (64 KiB per GiB of data at 4 KiB blocks), allocated
 * at mount and touched only where reads land.  Threads set bits with
 * atomic ORs; two threads may check one block at once, which costs time,
 * not correctness.  A damaged file is said once (inode.c's one bit per
 * inode), by path, whichever door met it first.
 *
 * The table itself is checked at mount (one pass over 4 bytes a block);
 * a mount with a damaged table is refused.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xipfsd.h"

#define WORD_BITS	(8 * sizeof(unsigned long))

/* The data blocks whose CRC a READ already checked (good) or found wrong
 * (bad): one bit each per block of the data region. */
struct xipfsd_verify {
	uint64_t blocks;		/* of the data region (the CRC table's) */
	atomic_ulong *good, *bad;
};

int xipfsd_verify_on(const struct xipfsd *d)
{
	return d->verify != NULL;
}

static int bit_test(atomic_ulong *map, uint64_t i)
{
	return (atomic_load_explicit(&map[i / WORD_BITS],
				     memory_order_relaxed) >> (i % WORD_BITS)) & 1;
}

/* Set bit i; was it clear before? */
static int bit_set(atomic_ulong *map, uint64_t i)
{
	unsigned long bit = 1UL << (i % WORD_BITS);

	return !(atomic_fetch_or_explicit(&map[i / WORD_BITS], bit,
					  memory_order_relaxed) & bit);
}

/*
 * asked: 1 for -o verify, 0 for noverify, -1 for the default (on where
 * the image has checksums).  -1 after a message on stderr.
 */
int xipfsd_verify_setup(struct xipfsd *d, int asked)
{
	struct xipfs_data_crc_info dc;
	struct xipfsd_verify *v;
	size_t words;
	int err;

	if (asked == 0)
		return 0;
	if (xipfs_data_crc_get(&d->img, &dc)) {
		/* Nothing to check against: say so once if it was asked
		 * for, and mount (xipfsck can still check the metadata). */
		if (asked == 1)
			fprintf(stderr, "xipfs: %s: verify: the image has no "
				"data checksums (built with --no-data-crc or "
				"by an older mkxipfs); mounting without checking "
				"data\n",
				d->source);
		return 0;
	}
	err = xipfs_data_crc_check_table(&d->img);
	if (err) {
		fprintf(stderr, "xipfs: %s: verify: the data checksum table "
			"is damaged (%s); refusing to mount (xipfsck %s says "
			"more; -o noverify mounts anyway)\n", d->source,
			xipfs_strerror(err), d->source);
		return -1;
	}
	words = (size_t)((dc.blocks + WORD_BITS - 1) / WORD_BITS);
	v = calloc(1, sizeof(*v));
	if (v) {
		v->good = calloc(words ? words : 1, sizeof(atomic_ulong));
		v->bad = calloc(words ? words : 1, sizeof(atomic_ulong));
		v->blocks = dc.blocks;
	}
	d->verify = v;
	if (!v || !v->good || !v->bad) {
		fprintf(stderr, "xipfs: %s: verify: out of memory for %llu "
			"blocks\n", d->source, (unsigned long long)dc.blocks);
		xipfsd_verify_free(d);
		return -1;
	}
	return 0;
}

void xipfsd_verify_free(struct xipfsd *d)
{
	if (!d->verify)
		return;
	free(d->verify->good);
	free(d->verify->bad);
	free(d->verify);
	d->verify = NULL;
}

/* One line per damaged file (within the mount's budget), naming it by
 * path: the first of its blocks found bad is the one named. */
static void say_damaged(struct xipfsd *d, uint32_t ino, uint64_t block)
{
	char path[4096];
	uint64_t at = d->img.data_offset + (block << d->img.block_log2);

	if (!xipfsd_complain_once(d, ino))
		return;
	/* A walk of the whole tree, but at most ten times a mount. */
	if (xipfsd_path_of(d, ino, path, sizeof(path)))
		path[0] = '\0';
	fuse_log(FUSE_LOG_ERR, "xipfs: %s: inode %u%s%s%s: data block %llu "
		 "(image offset %llu) fails its checksum; answering EIO\n",
		 d->source, ino, path[0] ? " (/" : "", path,
		 path[0] ? ")" : "", (unsigned long long)block,
		 (unsigned long long)at);
}

/* The verdict of block i, checked here when not known yet: against the
 * bytes at block (a copy of its own) or, when block is NULL, in place in
 * the mapping.  0 or -EIO (said once for file ino). */
static int check_block(struct xipfsd *d, uint32_t ino, uint64_t i,
		       const uint8_t *block)
{
	int err;

	if (bit_test(d->verify->good, i))
		return 0;
	if (!bit_test(d->verify->bad, i)) {
		atomic_fetch_add_explicit(&d->stats.crc_blocks, 1,
					  memory_order_relaxed);
		err = block ? xipfs_data_block_check_bytes(&d->img, i, block) :
			      xipfs_data_block_check(&d->img, i);
		if (!err) {
			bit_set(d->verify->good, i);
			return 0;
		}
		if (err != -XIPFS_ECRC)
			return err;
		if (bit_set(d->verify->bad, i))
			atomic_fetch_add_explicit(&d->stats.crc_failures, 1,
						  memory_order_relaxed);
	}
	say_damaged(d, ino, i);
	return -EIO;
}

int xipfsd_verify_block(void *arg, const struct xipfs_file *f, uint64_t block)
{
	struct xipfsd *d = arg;

	/* the library checked the range against the table's geometry */
	if (block >= d->verify->blocks)
		return -XIPFS_EBOUNDS;
	return check_block(d, f->inode.ino, block, NULL);
}

/* The data blocks [*first, *last] holding image bytes [at, at + len)
 * (len > 0); 0, or -EIO when they are not all in the data region. */
static int block_span(const struct xipfsd *d, uint64_t at, uint64_t len,
		      uint64_t *first, uint64_t *last)
{
	uint64_t data = d->img.data_offset;
	uint64_t end = data + (d->verify->blocks << d->img.block_log2);

	if (len == 0 || at < data || at > end || len > end - at)
		return -EIO;
	*first = (at - data) >> d->img.block_log2;
	*last = (at + len - 1 - data) >> d->img.block_log2;
	return 0;
}

/* Data block i found good by a check of the very bytes the source now
 * holds (a remote source checks every block it fetches or finds in its
 * cache): READ need not check it a second time. */
void xipfsd_verify_note_good(struct xipfsd *d, uint64_t i)
{
	if (d->verify && i < d->verify->blocks)
		bit_set(d->verify->good, i);
}

int xipfsd_verify_known(struct xipfsd *d, uint64_t at, uint64_t len)
{
	uint64_t first, last;

	if (block_span(d, at, len, &first, &last))
		return 0;
	for (uint64_t i = first; i <= last; i++)
		if (!bit_test(d->verify->good, i))
			return 0;
	return 1;
}

size_t xipfsd_verify_span(const struct xipfsd *d, size_t len)
{
	return len + 2 * (size_t)d->img.block_size;
}

/*
 * The image's bytes [at, at + len) into buf, by the kernel: pread from the
 * source file or device.  Reading the blocks through our own mapping would
 * fault every page of it into this process first, which is what made
 * -o verify cost up to 0.12x on cold reads (docs/BENCHMARKS.md); a copy
 * into a buffer that stays warm costs a fraction of that.  Memory devices
 * (/dev/mem, device DAX) and raw page frames behind a file (a PCI BAR's
 * sysfs resource file, which answers read() with EIO) are copied from the
 * mapping, inside the caller's guard.  0, or -ENODATA when the source no longer holds
 * them.
 */
static int read_image(struct xipfsd *d, uint64_t at, size_t len, uint8_t *buf)
{
	ssize_t n;

	if (!xipfsd_source_reads(d)) {
		memcpy(buf, d->img.base + at, len);
		return 0;
	}
	n = pread(d->map.fd, buf, len, (off_t)(d->map.offset + at));
	return n == (ssize_t)len ? 0 : -ENODATA;
}

int xipfsd_verify_copy(struct xipfsd *d, uint32_t ino, uint64_t at,
		       size_t len, uint8_t *buf, const uint8_t **out)
{
	uint32_t log2 = d->img.block_log2;
	uint64_t first, last, start;
	int err = block_span(d, at, len, &first, &last);

	if (err)
		return err;
	/* a block known bad fails the read before anything is copied */
	for (uint64_t i = first; i <= last; i++)
		if (bit_test(d->verify->bad, i))
			return check_block(d, ino, i, NULL);
	start = d->img.data_offset + (first << log2);
	err = read_image(d, start, (size_t)((last - first + 1) << log2), buf);
	if (err)
		return err;
	for (uint64_t i = first; i <= last; i++) {
		err = check_block(d, ino, i, buf + ((i - first) << log2));
		if (err)
			return err;
	}
	*out = buf + (at - start);
	return 0;
}

/* Chunks of this many bytes at a time for a whole file's check. */
#define FILE_CHUNK	(1024 * 1024)

/* Every block of image bytes [at, at + len) checked in the mapping: for
 * sources without read() (xipfsd_source_reads), whose pages are no part
 * of the RSS.  A fault (the source gone) leaves through the caller's guard with
 * nothing allocated here. */
static int verify_in_place(struct xipfsd *d, uint32_t ino, uint64_t at,
			   uint64_t len)
{
	uint64_t first = 0, last = 0;
	int err;

	if (len == 0)
		return 0;
	err = block_span(d, at, len, &first, &last);
	for (uint64_t i = first; !err && i <= last; i++)
		err = check_block(d, ino, i, NULL);
	return err;
}

int xipfsd_verify_file(struct xipfsd *d, const struct xipfs_inode_info *inode)
{
	uint64_t at, len, done;
	const uint8_t *out;
	uint8_t *buf = NULL;
	int err = 0;

	if (xipfs_file_stored_range(&d->img, inode, 0, inode->size, &at, &len))
		return -EIO;
	if (!xipfsd_source_reads(d))
		return verify_in_place(d, inode->ino, at, len);
	for (done = 0; !err && done < len; done += FILE_CHUNK) {
		size_t n = len - done < FILE_CHUNK ? (size_t)(len - done) :
						     FILE_CHUNK;

		if (xipfsd_verify_known(d, at + done, n))
			continue;
		if (!buf && !(buf = malloc(xipfsd_verify_span(d, FILE_CHUNK))))
			err = -ENOMEM;
		else
			err = xipfsd_verify_copy(d, inode->ino, at + done, n,
						 buf, &out);
	}
	free(buf);
	return err;
}
