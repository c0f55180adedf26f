/* SPDX-License-Identifier: MIT */
/* Private helpers of libxipfs: range checks shared by every accessor. */
#ifndef XIPFS_LIB_INTERNAL_H
#define XIPFS_LIB_INTERNAL_H

#include "xipfs/xipfs.h"

/* Field offsets inside the on-disk structs, decoded with xipfs_le*(). */
#define SB_MAGIC		0
#define SB_VERSION_MAJOR	4
#define SB_VERSION_MINOR	6
#define SB_COMPAT		8
#define SB_INCOMPAT		12
#define SB_RO_COMPAT		16
#define SB_BLOCK_LOG2		20
#define SB_RESERVED0		21
#define SB_IMAGE_SIZE		24
#define SB_META_OFFSET		32
#define SB_META_SIZE		40
#define SB_DATA_OFFSET		48
#define SB_INODE_OFFSET		56
#define SB_INODE_COUNT		64
#define SB_ROOT_INO		68
#define SB_BUILD_TIME		72
#define SB_BUILD_TIME_NSEC	80
#define SB_SUPER_CRC		84
#define SB_META_CRC		88
#define SB_RESERVED1		92
#define SB_UUID			96
#define SB_DATA_BYTES		112
#define SB_FILE_COUNT		120
#define SB_DIR_COUNT		124
#define SB_VOLUME_NAME		128
#define SB_RESERVED2		160

#define IN_MODE			0
#define IN_FLAGS		2
#define IN_NLINK		4
#define IN_UID			8
#define IN_GID			12
#define IN_SIZE			16
#define IN_MTIME		24
#define IN_MTIME_NSEC		32
#define IN_PARENT		36
#define IN_DATA			40
#define IN_XATTR_OFFSET		48
#define IN_XATTR_SIZE		56
#define IN_RESERVED		60

#define DE_INO			0
#define DE_NAME_LEN		4
#define DE_TYPE			5
#define DE_RESERVED		6
#define DE_NAME_OFFSET		8

#define XA_VALUE_LEN		0
#define XA_NAME_LEN		4
#define XA_RESERVED		6

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

/* A name stored in the image must be usable as one path component. */
int xipfs_name_valid(const char *name, size_t len);

/* Read directory entry index of dir, validated (not its order). */
int xipfs_dirent_at(const struct xipfs_image *img,
		    const struct xipfs_inode_info *dir, uint64_t index,
		    struct xipfs_dirent_info *out);

#endif
