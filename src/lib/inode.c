/* SPDX-License-Identifier: MIT */
/* Inode decoding: the one place an on-disk inode becomes trusted. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

/* Type-specific rules for size and data; see format.h. */
static int check_regular(const struct xipfs_image *img,
			 const struct xipfs_inode_info *in)
{
	if (in->flags & XIPFS_INODE_COMPRESSED) {
		struct xipfs_zfile_info zf;

		return xipfs_zfile_get(img, in, &zf);
	}
	if (in->size == 0)
		return in->data == 0 ? 0 : -XIPFS_ECORRUPT;
	if (!xipfs_in_range(in->data, in->size, img->data_offset,
			    xipfs_data_end(img)))
		return -XIPFS_EBOUNDS;
	if (in->flags & XIPFS_INODE_PACKED)
		return 0;
	return in->data & (img->block_size - 1) ? -XIPFS_ECORRUPT : 0;
}

static int check_type(const struct xipfs_image *img,
		      struct xipfs_inode_info *in)
{
	switch (in->mode & S_IFMT) {
	case S_IFREG:
		return check_regular(img, in);
	case S_IFDIR:
		if (in->size % XIPFS_DIRENT_SIZE || in->data & 7 ||
		    in->parent == 0 || in->parent > img->inode_count)
			return -XIPFS_ECORRUPT;
		return xipfs_in_meta(img, in->data, in->size) ? 0 :
								-XIPFS_EBOUNDS;
	case S_IFLNK:
		if (in->size == 0 || in->size > XIPFS_SYMLINK_MAX)
			return -XIPFS_ECORRUPT;
		if (!xipfs_in_meta(img, in->data, in->size))
			return -XIPFS_EBOUNDS;
		if (xipfs_meta_ok(img, in->data, in->size))
			return -XIPFS_ECRC;
		/* readlink(2) would stop at a NUL: lstat and it would differ */
		return memchr(img->base + in->data, '\0', in->size) ?
			       -XIPFS_ECORRUPT : 0;
	case S_IFCHR:
	case S_IFBLK:
		in->rdev_major = in->data >> 32;
		in->rdev_minor = in->data & 0xffffffffu;
		/* a number the kernel cannot hold would alias another device */
		if (in->rdev_major > XIPFS_DEV_MAJOR_MAX ||
		    in->rdev_minor > XIPFS_DEV_MINOR_MAX)
			return -XIPFS_ECORRUPT;
		return in->size == 0 ? 0 : -XIPFS_ECORRUPT;
	case S_IFIFO:
	case S_IFSOCK:
		return in->size == 0 && in->data == 0 ? 0 : -XIPFS_ECORRUPT;
	default:
		return -XIPFS_ECORRUPT;
	}
}

static int check_common(const struct xipfs_image *img,
			const struct xipfs_inode_info *in, const uint8_t *p)
{
	if (xipfs_le32(p + IN_RESERVED) || in->flags & ~XIPFS_INODE_FLAGS_KNOWN ||
	    in->mtime_nsec >= 1000000000u || in->nlink == 0)
		return -XIPFS_ECORRUPT;
	if (in->flags & XIPFS_INODE_PACKED &&
	    (!(img->incompat & XIPFS_INCOMPAT_PACKED) || !S_ISREG(in->mode)))
		return -XIPFS_ECORRUPT;
	if (in->flags & XIPFS_INODE_COMPRESSED &&
	    (!(img->incompat & XIPFS_INCOMPAT_COMPRESSED) ||
	     !S_ISREG(in->mode) || in->flags & XIPFS_INODE_PACKED))
		return -XIPFS_ECORRUPT;
	if (!S_ISDIR(in->mode) && in->parent)
		return -XIPFS_ECORRUPT;
	if (in->xattr_size == 0)
		return in->xattr_offset == 0 ? 0 : -XIPFS_ECORRUPT;
	if (img->compat & XIPFS_COMPAT_NO_XATTRS)
		return -XIPFS_ECORRUPT;
	return xipfs_in_meta(img, in->xattr_offset, in->xattr_size) ?
		       0 : -XIPFS_EBOUNDS;
}

int xipfs_inode_get(const struct xipfs_image *img, uint32_t ino,
		    struct xipfs_inode_info *out)
{
	const uint8_t *p;
	int err;

	if (ino == 0 || ino > img->inode_count)
		return -ENOENT;
	p = xipfs_inode_raw(img, ino);
	err = xipfs_meta_ok(img, (uint64_t)(p - img->base), XIPFS_INODE_SIZE);
	if (err) {
		*out = (struct xipfs_inode_info){ .ino = ino };
		return err;
	}
	*out = (struct xipfs_inode_info){
		.ino = ino,
		.mode = xipfs_le16(p + IN_MODE),
		.flags = xipfs_le16(p + IN_FLAGS),
		.nlink = xipfs_le32(p + IN_NLINK),
		.uid = xipfs_le32(p + IN_UID),
		.gid = xipfs_le32(p + IN_GID),
		.size = xipfs_le64(p + IN_SIZE),
		.mtime = (int64_t)xipfs_le64(p + IN_MTIME),
		.mtime_nsec = xipfs_le32(p + IN_MTIME_NSEC),
		.parent = xipfs_le32(p + IN_PARENT),
		.data = xipfs_le64(p + IN_DATA),
		.xattr_offset = xipfs_le64(p + IN_XATTR_OFFSET),
		.xattr_size = xipfs_le32(p + IN_XATTR_SIZE),
	};
	err = check_common(img, out, p);
	if (!err)
		err = check_type(img, out);
	return err;
}

int xipfs_inode_mappable(const struct xipfs_image *img,
			 const struct xipfs_inode_info *inode)
{
	return S_ISREG(inode->mode) && inode->size &&
	       !(inode->flags & (XIPFS_INODE_PACKED | XIPFS_INODE_COMPRESSED));
}

int xipfs_file_data(const struct xipfs_image *img,
		    const struct xipfs_inode_info *inode, uint64_t offset,
		    uint64_t len, const uint8_t **ptr, size_t *avail)
{
	uint64_t left;

	if (!S_ISREG(inode->mode))
		return S_ISDIR(inode->mode) ? -EISDIR : -EINVAL;
	if (inode->flags & XIPFS_INODE_COMPRESSED)
		return -EOPNOTSUPP;
	*ptr = img->base + inode->data;
	*avail = 0;
	if (offset >= inode->size)
		return 0;
	left = inode->size - offset;
	if (len > left)
		len = left;
	if (len > SIZE_MAX)
		len = SIZE_MAX;
	*ptr += offset;
	*avail = (size_t)len;
	return 0;
}

int xipfs_file_extent(const struct xipfs_image *img,
		      const struct xipfs_inode_info *inode, uint64_t *offset,
		      uint64_t *length)
{
	uint64_t mask = img->block_size - 1;

	if (!S_ISREG(inode->mode))
		return -EINVAL;
	if (inode->flags & XIPFS_INODE_COMPRESSED)
		return -EOPNOTSUPP;
	*offset = inode->data;
	*length = inode->size;
	if (!xipfs_inode_mappable(img, inode))
		return 0;
	/* image_size is block-aligned, so the rounded extent stays inside. */
	*length = (inode->size + mask) & ~mask;
	return 0;
}

int xipfs_readlink(const struct xipfs_image *img,
		   const struct xipfs_inode_info *inode, const char **target,
		   size_t *len)
{
	if (!S_ISLNK(inode->mode))
		return -EINVAL;
	/* checked by xipfs_inode_get(); again (a bit test) for a caller
	 * that kept the inode from an image opened without checks */
	if (!xipfs_in_meta(img, inode->data, inode->size))
		return -XIPFS_EBOUNDS;
	if (xipfs_meta_ok(img, inode->data, inode->size))
		return -XIPFS_ECRC;
	*target = (const char *)img->base + inode->data;
	*len = (size_t)inode->size;
	return 0;
}
