/* SPDX-License-Identifier: MIT */
/* Private helpers of libxipfs: range checks shared by every accessor. */
#ifndef XIPFS_LIB_INTERNAL_H
#define XIPFS_LIB_INTERNAL_H

#include <stddef.h>

#include "xipfs/xipfs.h"

/* map.c: the granule a source maps in: its devdax alignment, else page
 * (xipfs_direct_map too: a devdax device refuses anything smaller). */
uint64_t xipfs_source_granule(int fd, uint64_t page);

/*
 * Field offsets inside the on-disk structs, decoded with xipfs_le*(): taken
 * from the structs of format.h, whose offsets are pinned there, so reader
 * and writer cannot drift apart.
 */
#define SB_MAGIC             offsetof(struct xipfs_super, magic)
#define SB_VERSION_MAJOR     offsetof(struct xipfs_super, version_major)
#define SB_VERSION_MINOR     offsetof(struct xipfs_super, version_minor)
#define SB_COMPAT            offsetof(struct xipfs_super, compat)
#define SB_INCOMPAT          offsetof(struct xipfs_super, incompat)
#define SB_RO_COMPAT         offsetof(struct xipfs_super, ro_compat)
#define SB_BLOCK_LOG2        offsetof(struct xipfs_super, block_log2)
#define SB_RESERVED0         offsetof(struct xipfs_super, reserved0)
#define SB_IMAGE_SIZE        offsetof(struct xipfs_super, image_size)
#define SB_META_OFFSET       offsetof(struct xipfs_super, meta_offset)
#define SB_META_SIZE         offsetof(struct xipfs_super, meta_size)
#define SB_DATA_OFFSET       offsetof(struct xipfs_super, data_offset)
#define SB_INODE_OFFSET      offsetof(struct xipfs_super, inode_offset)
#define SB_INODE_COUNT       offsetof(struct xipfs_super, inode_count)
#define SB_ROOT_INO          offsetof(struct xipfs_super, root_ino)
#define SB_BUILD_TIME        offsetof(struct xipfs_super, build_time)
#define SB_BUILD_TIME_NSEC   offsetof(struct xipfs_super, build_time_nsec)
#define SB_SUPER_CRC         offsetof(struct xipfs_super, super_crc)
#define SB_META_CRC          offsetof(struct xipfs_super, meta_crc)
#define SB_RESERVED1         offsetof(struct xipfs_super, reserved1)
#define SB_UUID              offsetof(struct xipfs_super, uuid)
#define SB_DATA_BYTES        offsetof(struct xipfs_super, data_bytes)
#define SB_FILE_COUNT        offsetof(struct xipfs_super, file_count)
#define SB_DIR_COUNT         offsetof(struct xipfs_super, dir_count)
#define SB_VOLUME_NAME       offsetof(struct xipfs_super, volume_name)
#define SB_CRC_OFFSET        offsetof(struct xipfs_super, crc_offset)
#define SB_CRC_TABLE_CRC     offsetof(struct xipfs_super, crc_table_crc)
#define SB_RESERVED3         offsetof(struct xipfs_super, reserved3)
#define SB_META_TABLE_OFFSET offsetof(struct xipfs_super, meta_table_offset)
#define SB_META_TABLE_CRC    offsetof(struct xipfs_super, meta_table_crc)
#define SB_RESERVED4         offsetof(struct xipfs_super, reserved4)
#define SB_RESERVED2         offsetof(struct xipfs_super, reserved2)
#define SB_VOLUME_NAME_SIZE  sizeof(((struct xipfs_super *)0)->volume_name)
#define IN_MODE              offsetof(struct xipfs_inode, mode)
#define IN_FLAGS             offsetof(struct xipfs_inode, flags)
#define IN_NLINK             offsetof(struct xipfs_inode, nlink)
#define IN_UID               offsetof(struct xipfs_inode, uid)
#define IN_GID               offsetof(struct xipfs_inode, gid)
#define IN_SIZE              offsetof(struct xipfs_inode, size)
#define IN_MTIME             offsetof(struct xipfs_inode, mtime)
#define IN_MTIME_NSEC        offsetof(struct xipfs_inode, mtime_nsec)
#define IN_PARENT            offsetof(struct xipfs_inode, parent)
#define IN_DATA              offsetof(struct xipfs_inode, data)
#define IN_XATTR_OFFSET      offsetof(struct xipfs_inode, xattr_offset)
#define IN_XATTR_SIZE        offsetof(struct xipfs_inode, xattr_size)
#define IN_RESERVED          offsetof(struct xipfs_inode, reserved)
#define DE_INO               offsetof(struct xipfs_dirent, ino)
#define DE_NAME_LEN          offsetof(struct xipfs_dirent, name_len)
#define DE_TYPE              offsetof(struct xipfs_dirent, type)
#define DE_RESERVED          offsetof(struct xipfs_dirent, reserved)
#define DE_NAME_OFFSET       offsetof(struct xipfs_dirent, name_offset)
#define ZT_ALGORITHM         offsetof(struct xipfs_ztable, algorithm)
#define ZT_CLUSTER_LOG2      offsetof(struct xipfs_ztable, cluster_log2)
#define ZT_RESERVED          offsetof(struct xipfs_ztable, reserved)
#define ZT_CLUSTER_COUNT     offsetof(struct xipfs_ztable, cluster_count)
#define ZT_DATA              offsetof(struct xipfs_ztable, data)
#define XA_VALUE_LEN         offsetof(struct xipfs_xattr, value_len)
#define XA_NAME_LEN          offsetof(struct xipfs_xattr, name_len)
#define XA_RESERVED          offsetof(struct xipfs_xattr, reserved)

/*
 * Is [off, off + len) inside [start, end)?  Written so that no sum can
 * overflow: off and len come straight from the image.
 */
static inline int xipfs_in_range(uint64_t off, uint64_t len, uint64_t start,
				 uint64_t end)
{
	return off >= start && off <= end && len <= end - off;
}

static inline int xipfs_in_meta(const struct xipfs_image *img, uint64_t off,
				uint64_t len)
{
	return xipfs_in_range(off, len, img->meta_offset, img->meta_end);
}

/*
 * The end of the region file data may occupy: crc_offset with data
 * checksums (so every served byte is covered), else image_size.
 */
static inline uint64_t xipfs_data_end(const struct xipfs_image *img)
{
	if (img->ro_compat & XIPFS_RO_COMPAT_DATA_CRC)
		return img->crc_offset;
	if (img->ro_compat & XIPFS_RO_COMPAT_META_CRC)
		return img->meta_table_offset;
	return img->image_size;
}

/* Where inode ino (1..inode_count) is stored: in bounds, as
 * xipfs_image_open() checked the whole table. */
static inline const uint8_t *xipfs_inode_raw(const struct xipfs_image *img,
					     uint32_t ino)
{
	return img->base + img->inode_offset +
	       (uint64_t)(ino - 1) * XIPFS_INODE_SIZE;
}

/* xipfs_meta_check() as the accessors call it: inline, so an image
 * without checks pays one test. */
static inline int xipfs_meta_ok(const struct xipfs_image *img, uint64_t off,
				uint64_t len)
{
	return img->meta_check ? xipfs_meta_check(img, off, len, NULL) : 0;
}

/* metacrc.c: for xipfs_image_open()/close(). */
int xipfs_meta_check_setup(struct xipfs_image *img);
void xipfs_meta_check_free(struct xipfs_image *img);

/* zfile.c: a reading context (xipfs.h).  The ZSTD_DCtx stays opaque. */
struct ZSTD_DCtx_s;
struct xipfs_zctx {
	struct ZSTD_DCtx_s *zstd;
	uint8_t *scratch;	/* one cluster of the largest size */
	uint8_t *buf;		/* what xipfs_file_pread() decompresses into */
	size_t buf_size;
	xipfs_block_check_fn check;	/* XIPFS_READ_VERIFY's, or NULL */
	void *check_arg;
	uint64_t clusters;	/* read through this context */
};

/* z's scratch cluster and its read buffer of at least size bytes, made
 * on first use; NULL when out of memory. */
uint8_t *xipfs_zctx_scratch(struct xipfs_zctx *z);
uint8_t *xipfs_zctx_buffer(struct xipfs_zctx *z, size_t size);

/* Read directory entry index of dir, validated (not its order). */
int xipfs_dirent_at(const struct xipfs_image *img,
		    const struct xipfs_inode_info *dir, uint64_t index,
		    struct xipfs_dirent_info *out);

#endif
