/* SPDX-License-Identifier: MIT */
/*
 * -o verify: before READ serves any bytes, every data block they are
 * stored in is checked against the image's CRC32C table (format.h,
 * XIPFS_RO_COMPAT_DATA_CRC), so flash rot gives EIO, never wrong bytes.
 * For a compressed file the blocks are those of its stored clusters,
 * checked before anything is decompressed.  A block is checked once per
 * mount: the result is kept in two bitmaps (good, bad), one bit per block
 * of the data region each, so the memory is blocks / 4 bytes (64 KiB per
 * GiB of data at 4 KiB blocks), allocated at mount and touched only where
 * reads land.  Threads set bits with atomic ORs; two threads may check
 * one block at once, which costs time, not correctness.
 *
 * The table itself is checked at mount (one pass over 4 bytes a block);
 * a mount with a damaged table is refused.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

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

/* One line per bad block (within the mount's budget), naming the file. */
static void say_bad_block(struct xipfsd *d, const struct xipfs_inode_info *inode,
			  uint64_t block)
{
	char path[4096];
	uint64_t at = d->img.data_offset + (block << d->img.block_log2);

	if (!xipfsd_may_complain(d))
		return;
	/* A walk of the whole tree, but at most ten times a mount. */
	if (xipfsd_path_of(d, inode->ino, path, sizeof(path)))
		path[0] = '\0';
	fuse_log(FUSE_LOG_ERR, "xipfs: %s: inode %u%s%s%s: data block %llu "
		 "(image offset %llu) fails its checksum; answering EIO\n",
		 d->source, inode->ino, path[0] ? " (/" : "", path,
		 path[0] ? ")" : "", (unsigned long long)block,
		 (unsigned long long)at);
}

/* Block i against the table, once a mount; 0 or -EIO. */
static int check_block(struct xipfsd *d, const struct xipfs_inode_info *inode,
		       uint64_t i)
{
	int err;

	if (bit_test(d->verify->good, i))
		return 0;
	if (bit_test(d->verify->bad, i))
		return -EIO;
	atomic_fetch_add_explicit(&d->stats.crc_blocks, 1, memory_order_relaxed);
	err = xipfs_data_block_check(&d->img, i);
	if (!err) {
		bit_set(d->verify->good, i);
		return 0;
	}
	if (err != -XIPFS_ECRC)
		return err;
	atomic_fetch_add_explicit(&d->stats.crc_failures, 1,
				  memory_order_relaxed);
	if (bit_set(d->verify->bad, i))
		say_bad_block(d, inode, i);
	return -EIO;
}

int xipfsd_verify_block(void *arg, const struct xipfs_file *f, uint64_t block)
{
	struct xipfsd *d = arg;

	/* the library checked the range against the table's geometry */
	if (block >= d->verify->blocks)
		return -XIPFS_EBOUNDS;
	return check_block(d, &f->inode, block);
}
