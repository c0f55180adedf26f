/* SPDX-License-Identifier: MIT */
/*
 * Encoders: the mirror of the decoders in image.c, inode.c, dir.c and
 * xattr.c, from the same decoded structs and through the same field
 * offsets (internal.h, taken from format.h), so that writer and reader
 * share one description of the layout.
 *
 * An encoder refuses only a value its on-disk field cannot hold (-ERANGE);
 * whether the values make a valid image is for the decoders and
 * xipfs_verify() to say, so a test can encode a damaged object on purpose.
 * Reserved fields are always written as zero.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

int xipfs_encode_super(void *out, const struct xipfs_image *img)
{
	uint8_t *sb = out;

	if (img->block_log2 > UINT8_MAX || img->meta_end < img->meta_offset)
		return -ERANGE;
	memset(sb, 0, XIPFS_SUPER_SIZE);
	xipfs_put_le32(sb + SB_MAGIC, XIPFS_MAGIC);
	xipfs_put_le16(sb + SB_VERSION_MAJOR, img->version_major);
	xipfs_put_le16(sb + SB_VERSION_MINOR, img->version_minor);
	xipfs_put_le32(sb + SB_COMPAT, img->compat);
	xipfs_put_le32(sb + SB_INCOMPAT, img->incompat);
	xipfs_put_le32(sb + SB_RO_COMPAT, img->ro_compat);
	sb[SB_BLOCK_LOG2] = (uint8_t)img->block_log2;
	xipfs_put_le64(sb + SB_IMAGE_SIZE, img->image_size);
	xipfs_put_le64(sb + SB_META_OFFSET, img->meta_offset);
	xipfs_put_le64(sb + SB_META_SIZE, img->meta_end - img->meta_offset);
	xipfs_put_le64(sb + SB_DATA_OFFSET, img->data_offset);
	xipfs_put_le64(sb + SB_INODE_OFFSET, img->inode_offset);
	xipfs_put_le32(sb + SB_INODE_COUNT, img->inode_count);
	xipfs_put_le32(sb + SB_ROOT_INO, XIPFS_ROOT_INO);
	xipfs_put_le64(sb + SB_BUILD_TIME, (uint64_t)img->build_time);
	xipfs_put_le32(sb + SB_BUILD_TIME_NSEC, img->build_time_nsec);
	xipfs_put_le32(sb + SB_META_CRC, img->meta_crc);
	memcpy(sb + SB_UUID, img->uuid, sizeof(img->uuid));
	xipfs_put_le64(sb + SB_DATA_BYTES, img->data_bytes);
	xipfs_put_le32(sb + SB_FILE_COUNT, img->file_count);
	xipfs_put_le32(sb + SB_DIR_COUNT, img->dir_count);
	/* the label up to its first NUL, NUL-padded as the format wants */
	memcpy(sb + SB_VOLUME_NAME, img->volume_name,
	       strnlen(img->volume_name, SB_VOLUME_NAME_SIZE));
	xipfs_put_le64(sb + SB_CRC_OFFSET, img->crc_offset);
	xipfs_put_le32(sb + SB_CRC_TABLE_CRC, img->crc_table_crc);
	xipfs_put_le64(sb + SB_META_TABLE_OFFSET, img->meta_table_offset);
	xipfs_put_le32(sb + SB_META_TABLE_CRC, img->meta_table_crc);
	/* last: the CRC covers every byte written above */
	xipfs_put_le32(sb + SB_SUPER_CRC, xipfs_super_crc(sb));
	return 0;
}

int xipfs_encode_inode(void *out, const struct xipfs_inode_info *in)
{
	uint8_t *p = out;

	if (in->mode > UINT16_MAX || in->flags > UINT16_MAX)
		return -ERANGE;
	memset(p, 0, XIPFS_INODE_SIZE);
	xipfs_put_le16(p + IN_MODE, (uint16_t)in->mode);
	xipfs_put_le16(p + IN_FLAGS, (uint16_t)in->flags);
	xipfs_put_le32(p + IN_NLINK, in->nlink);
	xipfs_put_le32(p + IN_UID, in->uid);
	xipfs_put_le32(p + IN_GID, in->gid);
	xipfs_put_le64(p + IN_SIZE, in->size);
	xipfs_put_le64(p + IN_MTIME, (uint64_t)in->mtime);
	xipfs_put_le32(p + IN_MTIME_NSEC, in->mtime_nsec);
	xipfs_put_le32(p + IN_PARENT, in->parent);
	xipfs_put_le64(p + IN_DATA, in->data);
	xipfs_put_le64(p + IN_XATTR_OFFSET, in->xattr_offset);
	xipfs_put_le32(p + IN_XATTR_SIZE, in->xattr_size);
	return 0;
}

int xipfs_encode_dirent(void *out, const struct xipfs_dirent_info *de,
			uint64_t name_offset)
{
	uint8_t *p = out;

	if (de->name_len > UINT8_MAX || de->type > UINT8_MAX)
		return -ERANGE;
	memset(p, 0, XIPFS_DIRENT_SIZE);
	xipfs_put_le32(p + DE_INO, de->ino);
	p[DE_NAME_LEN] = (uint8_t)de->name_len;
	p[DE_TYPE] = (uint8_t)de->type;
	xipfs_put_le64(p + DE_NAME_OFFSET, name_offset);
	return 0;
}

int xipfs_encode_xattr(void *out, const struct xipfs_xattr_info *xa)
{
	uint8_t *p = out;

	if (xa->name_len > UINT16_MAX)
		return -ERANGE;
	xipfs_put_le32(p + XA_VALUE_LEN, xa->value_len);
	xipfs_put_le16(p + XA_NAME_LEN, (uint16_t)xa->name_len);
	xipfs_put_le16(p + XA_RESERVED, 0);
	p += XIPFS_XATTR_HDR_SIZE;
	if (xa->name_len)
		memcpy(p, xa->name, xa->name_len);
	if (xa->value_len)
		memcpy(p + xa->name_len, xa->value, xa->value_len);
	return 0;
}

int xipfs_encode_ztable(void *out, const struct xipfs_zfile_info *zf,
			const uint32_t *ends)
{
	uint8_t *p = out;

	if (zf->algorithm > UINT8_MAX || zf->cluster_log2 > UINT8_MAX)
		return -ERANGE;
	memset(p, 0, XIPFS_ZTABLE_HDR_SIZE);
	p[ZT_ALGORITHM] = (uint8_t)zf->algorithm;
	p[ZT_CLUSTER_LOG2] = (uint8_t)zf->cluster_log2;
	xipfs_put_le32(p + ZT_CLUSTER_COUNT, zf->cluster_count);
	xipfs_put_le64(p + ZT_DATA, zf->data);
	p += XIPFS_ZTABLE_HDR_SIZE;
	for (uint32_t i = 0; i < zf->cluster_count; i++)
		xipfs_put_le32(p + 4 * (size_t)i, ends[i]);
	return 0;
}

int xipfs_encode_super_data_crc(void *super,
				const struct xipfs_data_crc_info *dc)
{
	uint8_t *sb = super;

	xipfs_put_le64(sb + SB_CRC_OFFSET, dc->table_offset);
	xipfs_put_le32(sb + SB_CRC_TABLE_CRC, dc->table_crc);
	xipfs_put_le32(sb + SB_RESERVED3, 0);
	xipfs_put_le32(sb + SB_SUPER_CRC, xipfs_super_crc(sb));
	return 0;
}
