/* SPDX-License-Identifier: MIT */
/* Data checksums: one CRC32C per block of the data region (format.h). */
#include <errno.h>

#include "internal.h"

int xipfs_data_crc_get(const struct xipfs_image *img,
		       struct xipfs_data_crc_info *out)
{
	if (!(img->ro_compat & XIPFS_RO_COMPAT_DATA_CRC))
		return -ENODATA;
	out->table_offset = img->crc_offset;
	out->blocks = (out->table_offset - img->data_offset) >> img->block_log2;
	out->table_crc = img->crc_table_crc;
	return 0;
}

int xipfs_data_crc_check_table(const struct xipfs_image *img)
{
	struct xipfs_data_crc_info dc;
	int err = xipfs_data_crc_get(img, &dc);

	if (err)
		return err;
	return xipfs_crc32c(0, img->base + dc.table_offset, 4 * dc.blocks) ==
			       dc.table_crc ? 0 : -XIPFS_ECRC;
}

/* The table entry of block index: 0, -ERANGE past the table, -ENODATA
 * without data checksums. */
static int block_entry(const struct xipfs_image *img, uint64_t index,
		       uint32_t *want)
{
	struct xipfs_data_crc_info dc;
	int err = xipfs_data_crc_get(img, &dc);

	if (err)
		return err;
	if (index >= dc.blocks)
		return -ERANGE;
	*want = xipfs_le32(img->base + dc.table_offset + 4 * index);
	return 0;
}

static int block_matches(const struct xipfs_image *img, const void *block,
			 uint32_t want)
{
	return xipfs_crc32c(0, block, img->block_size) == want ? 0 :
								-XIPFS_ECRC;
}

int xipfs_data_block_check_bytes(const struct xipfs_image *img,
				 uint64_t index, const void *block)
{
	uint32_t want;
	int err = block_entry(img, index, &want);

	if (err)
		return err;
	return block_matches(img, block, want);
}

int xipfs_data_block_check(const struct xipfs_image *img, uint64_t index)
{
	uint32_t want;
	int err = block_entry(img, index, &want);

	/* no pointer is made to a block past the table */
	if (err)
		return err;
	return block_matches(img, img->base + img->data_offset +
					  (index << img->block_log2), want);
}

int xipfs_data_crc_check(const struct xipfs_image *img, uint64_t offset,
			 uint64_t len, uint64_t *bad)
{
	struct xipfs_data_crc_info dc;
	uint64_t first, last;

	if (len == 0 || xipfs_data_crc_get(img, &dc))
		return 0;
	if (!xipfs_in_range(offset, len, img->data_offset, dc.table_offset))
		return -XIPFS_EBOUNDS;
	first = (offset - img->data_offset) >> img->block_log2;
	last = (offset + len - 1 - img->data_offset) >> img->block_log2;
	for (uint64_t i = first; i <= last; i++) {
		int err = xipfs_data_block_check(img, i);

		if (err) {
			if (bad)
				*bad = i;
			return err;
		}
	}
	return 0;
}
