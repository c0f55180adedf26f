/* SPDX-License-Identifier: MIT */
/* Superblock validation, statfs figures, CRCs and error names. */
#include <errno.h>
#include <string.h>

#include "internal.h"

const char *xipfs_strerror(int err)
{
	switch (-err) {
	case XIPFS_EMAGIC:	return "not an xipfs image (bad magic)";
	case XIPFS_EVERSION:	return "unsupported format version";
	case XIPFS_EFEATURE:	return "image uses an unknown incompatible feature";
	case XIPFS_ETRUNC:	return "image is truncated";
	case XIPFS_ECRC:	return "checksum mismatch";
	case XIPFS_ECORRUPT:	return "corrupt image: invalid field value";
	case XIPFS_EBOUNDS:	return "corrupt image: offset or length out of bounds";
	case XIPFS_EOVERFLOW:	return "corrupt image: size overflow";
	case XIPFS_ELOOP:	return "corrupt image: directory cycle";
	default:		return strerror(-err);
	}
}

uint32_t xipfs_super_crc(const void *super)
{
	static const uint8_t zero[4];
	const uint8_t *sb = super;
	uint32_t crc = xipfs_crc32c(0, sb, SB_SUPER_CRC);

	crc = xipfs_crc32c(crc, zero, sizeof(zero));
	return xipfs_crc32c(crc, sb + SB_SUPER_CRC + 4,
			    XIPFS_SUPER_SIZE - SB_SUPER_CRC - 4);
}

static int all_zero(const uint8_t *p, size_t len)
{
	while (len--)
		if (*p++)
			return 0;
	return 1;
}

/* Fields that identify the format; checked before anything else is trusted. */
static int check_identity(const uint8_t *sb, uint64_t length)
{
	static const uint8_t magic[4] = { 'X', 'I', 'P', '1' };

	/* fewer bytes than the magic: truncated if they are its start */
	if (length < sizeof(magic))
		return length && !memcmp(sb, magic, (size_t)length) ?
			       -XIPFS_ETRUNC : -XIPFS_EMAGIC;
	if (xipfs_le32(sb + SB_MAGIC) != XIPFS_MAGIC)
		return -XIPFS_EMAGIC;
	if (length < XIPFS_SUPER_SIZE)
		return -XIPFS_ETRUNC;
	if (xipfs_le16(sb + SB_VERSION_MAJOR) != XIPFS_VERSION_MAJOR)
		return -XIPFS_EVERSION;
	if (xipfs_le32(sb + SB_SUPER_CRC) != xipfs_super_crc(sb))
		return -XIPFS_ECRC;
	if (xipfs_le32(sb + SB_INCOMPAT) & ~XIPFS_INCOMPAT_KNOWN)
		return -XIPFS_EFEATURE;
	if (!all_zero(sb + SB_RESERVED0, 3) || xipfs_le32(sb + SB_RESERVED1) ||
	    xipfs_le32(sb + SB_RESERVED3) || xipfs_le32(sb + SB_RESERVED4) ||
	    !all_zero(sb + SB_RESERVED2, XIPFS_SUPER_SIZE - SB_RESERVED2))
		return -XIPFS_ECORRUPT;
	/* without the feature its fields stay zero, as they were reserved */
	if (!(xipfs_le32(sb + SB_RO_COMPAT) & XIPFS_RO_COMPAT_DATA_CRC) &&
	    (xipfs_le64(sb + SB_CRC_OFFSET) || xipfs_le32(sb + SB_CRC_TABLE_CRC)))
		return -XIPFS_ECORRUPT;
	if (!(xipfs_le32(sb + SB_RO_COMPAT) & XIPFS_RO_COMPAT_META_CRC) &&
	    (xipfs_le64(sb + SB_META_TABLE_OFFSET) ||
	     xipfs_le32(sb + SB_META_TABLE_CRC)))
		return -XIPFS_ECORRUPT;
	return 0;
}

/* The data CRC table: block-aligned after the data, inside the image. */
static int check_data_crc(const struct xipfs_image *img)
{
	uint64_t at = img->crc_offset, blocks;

	if (!(img->ro_compat & XIPFS_RO_COMPAT_DATA_CRC))
		return 0;
	if (at & (img->block_size - 1) || at < img->data_offset ||
	    at > img->image_size)
		return -XIPFS_EBOUNDS;
	blocks = (at - img->data_offset) >> img->block_log2;
	/* blocks < 2^52, so 4 * blocks cannot overflow */
	return xipfs_in_range(at, 4 * blocks, 0, img->image_size) ?
		       0 : -XIPFS_EBOUNDS;
}

/* The metadata CRC table: block-aligned, after the data and after the
 * data CRC table, inside the image. */
static int check_meta_crc(const struct xipfs_image *img)
{
	uint64_t at = img->meta_table_offset, after = img->data_offset;

	if (!(img->ro_compat & XIPFS_RO_COMPAT_META_CRC))
		return 0;
	if (img->ro_compat & XIPFS_RO_COMPAT_DATA_CRC)	/* checked before */
		after = img->crc_offset + 4 * ((img->crc_offset -
					       img->data_offset) >>
					      img->block_log2);
	if (at & (img->block_size - 1) || at < after || at > img->image_size)
		return -XIPFS_EBOUNDS;
	/* data_offset >> block_log2 < 2^52: 4 times that cannot overflow */
	return xipfs_in_range(at, 4 * (img->data_offset >> img->block_log2), 0,
			      img->image_size) ? 0 : -XIPFS_EBOUNDS;
}

static void decode_super(struct xipfs_image *img, const uint8_t *sb)
{
	img->version_major = xipfs_le16(sb + SB_VERSION_MAJOR);
	img->version_minor = xipfs_le16(sb + SB_VERSION_MINOR);
	img->compat = xipfs_le32(sb + SB_COMPAT);
	img->incompat = xipfs_le32(sb + SB_INCOMPAT);
	img->ro_compat = xipfs_le32(sb + SB_RO_COMPAT);
	img->block_log2 = sb[SB_BLOCK_LOG2];
	img->image_size = xipfs_le64(sb + SB_IMAGE_SIZE);
	img->meta_offset = xipfs_le64(sb + SB_META_OFFSET);
	img->meta_end = xipfs_le64(sb + SB_META_SIZE); /* size until checked */
	img->data_offset = xipfs_le64(sb + SB_DATA_OFFSET);
	img->inode_offset = xipfs_le64(sb + SB_INODE_OFFSET);
	img->inode_count = xipfs_le32(sb + SB_INODE_COUNT);
	img->build_time = (int64_t)xipfs_le64(sb + SB_BUILD_TIME);
	img->build_time_nsec = xipfs_le32(sb + SB_BUILD_TIME_NSEC);
	img->super_crc = xipfs_le32(sb + SB_SUPER_CRC);
	img->meta_crc = xipfs_le32(sb + SB_META_CRC);
	memcpy(img->uuid, sb + SB_UUID, sizeof(img->uuid));
	img->data_bytes = xipfs_le64(sb + SB_DATA_BYTES);
	img->file_count = xipfs_le32(sb + SB_FILE_COUNT);
	img->dir_count = xipfs_le32(sb + SB_DIR_COUNT);
	memcpy(img->volume_name, sb + SB_VOLUME_NAME, SB_VOLUME_NAME_SIZE);
	img->volume_name[SB_VOLUME_NAME_SIZE] = '\0';
	img->crc_offset = xipfs_le64(sb + SB_CRC_OFFSET);
	img->crc_table_crc = xipfs_le32(sb + SB_CRC_TABLE_CRC);
	img->meta_table_offset = xipfs_le64(sb + SB_META_TABLE_OFFSET);
	img->meta_table_crc = xipfs_le32(sb + SB_META_TABLE_CRC);
}

/* Geometry: every region inside the image, in the documented order. */
static int check_geometry(struct xipfs_image *img, const uint8_t *sb,
			  uint64_t length)
{
	uint64_t meta_size = img->meta_end, table;
	int err;

	if (img->block_log2 < XIPFS_BLOCK_LOG2_MIN ||
	    img->block_log2 > XIPFS_BLOCK_LOG2_MAX)
		return -XIPFS_ECORRUPT;
	img->block_size = 1u << img->block_log2;
	if (img->image_size < XIPFS_SUPER_SIZE ||
	    img->image_size & (img->block_size - 1))
		return -XIPFS_ECORRUPT;
	if (img->image_size > length)
		return -XIPFS_ETRUNC;
	if (img->meta_offset != XIPFS_SUPER_SIZE ||
	    img->data_offset & (img->block_size - 1) ||
	    img->data_offset > img->image_size ||
	    !xipfs_in_range(img->meta_offset, meta_size, 0, img->data_offset))
		return -XIPFS_EBOUNDS;
	img->meta_end = img->meta_offset + meta_size;
	if (img->inode_count == 0 ||
	    xipfs_le32(sb + SB_ROOT_INO) != XIPFS_ROOT_INO ||
	    img->inode_offset & 7 || img->build_time_nsec >= 1000000000u)
		return -XIPFS_ECORRUPT;
	table = (uint64_t)img->inode_count * XIPFS_INODE_SIZE; /* < 2^38 */
	if (!xipfs_in_meta(img, img->inode_offset, table))
		return -XIPFS_EBOUNDS;
	err = check_data_crc(img);
	return err ? err : check_meta_crc(img);
}

int xipfs_image_open_flags(struct xipfs_image *img, const void *base,
			   uint64_t length, unsigned int flags)
{
	const uint8_t *sb = base;
	int err;

	memset(img, 0, sizeof(*img));
	err = check_identity(sb, length);
	if (err)
		return err;
	decode_super(img, sb);
	err = check_geometry(img, sb, length);
	if (err)
		return err;
	img->base = sb;
	img->length = length;
	if (flags & XIPFS_OPEN_NO_META_CHECK)
		return 0;
	return xipfs_meta_check_setup(img);
}

int xipfs_image_open(struct xipfs_image *img, const void *base,
		     uint64_t length)
{
	return xipfs_image_open_flags(img, base, length, 0);
}

void xipfs_image_close(struct xipfs_image *img)
{
	xipfs_meta_check_free(img);
}

int xipfs_check_meta_crc(const struct xipfs_image *img)
{
	uint32_t crc = xipfs_crc32c(0, img->base + img->meta_offset,
				    img->meta_end - img->meta_offset);
	return crc == img->meta_crc ? 0 : -XIPFS_ECRC;
}

void xipfs_statfs(const struct xipfs_image *img,
		  struct xipfs_statfs_info *out)
{
	out->block_size = img->block_size;
	out->blocks = img->image_size >> img->block_log2;
	out->files = img->inode_count;
	out->name_max = XIPFS_NAME_MAX;
}
