/* SPDX-License-Identifier: MIT */
/*
 * Metadata checksums (XIPFS_RO_COMPAT_META_CRC, format.h): one CRC32C per
 * block of [0, data_offset), checked lazily.  An accessor checks every
 * block the bytes it is about to use lie in, the first time any accessor
 * meets that block; the verdict is kept in two bitmaps (good, bad) of one
 * bit per metadata block, so the cost is one CRC per block per open image
 * and memory is blocks / 4 bytes (a million-file image has ~45,000
 * metadata blocks: 11 KiB).  Bits are set with atomic ORs: two threads
 * may check one block at once, which costs time, not correctness.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "internal.h"

#define WORD_BITS	(8 * sizeof(unsigned long))

struct xipfs_meta_check {
	uint64_t blocks;
	size_t words;
	atomic_ulong bits[];	/* good: [0, words), bad: [words, 2 words) */
};

int xipfs_meta_crc_get(const struct xipfs_image *img,
		       struct xipfs_meta_crc_info *out)
{
	if (!(img->ro_compat & XIPFS_RO_COMPAT_META_CRC))
		return -ENODATA;
	out->table_offset = img->meta_table_offset;
	out->blocks = img->data_offset >> img->block_log2;
	out->table_crc = img->meta_table_crc;
	return 0;
}

int xipfs_meta_crc_check_table(const struct xipfs_image *img)
{
	struct xipfs_meta_crc_info mc;
	int err = xipfs_meta_crc_get(img, &mc);

	if (err)
		return err;
	/* in bounds: xipfs_image_open() checked the table's geometry */
	return xipfs_crc32c(0, img->base + mc.table_offset, 4 * mc.blocks) ==
			       mc.table_crc ? 0 : -XIPFS_ECRC;
}

int xipfs_meta_block_check(const struct xipfs_image *img, uint64_t index)
{
	static const uint8_t zero_super[XIPFS_SUPER_SIZE];
	struct xipfs_meta_crc_info mc;
	const uint8_t *block;
	uint32_t crc = 0;
	size_t skip = 0;
	int err = xipfs_meta_crc_get(img, &mc);

	if (err)
		return err;
	if (index >= mc.blocks)
		return -ERANGE;
	block = img->base + (index << img->block_log2);
	/* block 0: the superblock counts as zeros (super_crc covers it) */
	if (index == 0) {
		crc = xipfs_crc32c(0, zero_super, sizeof(zero_super));
		skip = XIPFS_SUPER_SIZE;
	}
	crc = xipfs_crc32c(crc, block + skip, img->block_size - skip);
	return crc == xipfs_le32(img->base + mc.table_offset + 4 * index) ?
		       0 : -XIPFS_ECRC;
}

static int bit_test(atomic_ulong *map, uint64_t i)
{
	return (atomic_load_explicit(&map[i / WORD_BITS],
				     memory_order_relaxed) >> (i % WORD_BITS)) & 1;
}

static void bit_set(atomic_ulong *map, uint64_t i)
{
	atomic_fetch_or_explicit(&map[i / WORD_BITS], 1UL << (i % WORD_BITS),
				 memory_order_relaxed);
}

/* Block i, from the bitmaps or checked now and recorded. */
static int block_ok(const struct xipfs_image *img, uint64_t i)
{
	struct xipfs_meta_check *mc = img->meta_check;
	atomic_ulong *good = mc->bits, *bad = mc->bits + mc->words;

	if (bit_test(good, i))
		return 0;
	if (bit_test(bad, i))
		return -XIPFS_ECRC;
	if (xipfs_meta_block_check(img, i)) {
		bit_set(bad, i);
		return -XIPFS_ECRC;
	}
	bit_set(good, i);
	return 0;
}

/* First bad block of [offset, offset + len), inside [0, data_offset). */
static int check_range(const struct xipfs_image *img, uint64_t offset,
		       uint64_t len, uint64_t *bad)
{
	uint64_t first = offset >> img->block_log2;
	uint64_t last = (offset + len - 1) >> img->block_log2;

	for (uint64_t i = first; i <= last; i++) {
		if (block_ok(img, i)) {
			if (bad)
				*bad = i;
			return -XIPFS_ECRC;
		}
	}
	return 0;
}

int xipfs_meta_check(const struct xipfs_image *img, uint64_t offset,
		     uint64_t len, uint64_t *bad)
{
	if (!img->meta_check || len == 0)
		return 0;
	if (!xipfs_in_range(offset, len, 0, img->data_offset))
		return -XIPFS_EBOUNDS;
	return check_range(img, offset, len, bad);
}

int xipfs_meta_check_setup(struct xipfs_image *img)
{
	struct xipfs_meta_crc_info mc;
	struct xipfs_meta_check *m;
	size_t words;
	int err;

	if (xipfs_meta_crc_get(img, &mc))
		return 0;
	err = xipfs_meta_crc_check_table(img);
	if (err)
		return err;
	/* blocks <= data_offset / 4096 < 2^52: words fits any size_t that
	 * can hold the image mapped in memory */
	words = (size_t)((mc.blocks + WORD_BITS - 1) / WORD_BITS);
	m = calloc(1, sizeof(*m) + 2 * words * sizeof(atomic_ulong));
	if (!m)
		return -ENOMEM;
	m->blocks = mc.blocks;
	m->words = words;
	img->meta_check = m;
	return 0;
}

void xipfs_meta_check_free(struct xipfs_image *img)
{
	free(img->meta_check);
	img->meta_check = NULL;
}
