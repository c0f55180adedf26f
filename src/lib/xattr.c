/* SPDX-License-Identifier: MIT */
/* Extended attributes: a bounded walk over an inode's xattr block. */
#include <errno.h>
#include <string.h>

#include "internal.h"

int xipfs_xattr_next(const struct xipfs_image *img,
		     const struct xipfs_inode_info *inode, uint64_t *pos,
		     struct xipfs_xattr_info *out)
{
	uint64_t size = inode->xattr_size, left;
	const uint8_t *p;

	if (*pos >= size)
		return 0;
	left = size - *pos;
	if (left < XIPFS_XATTR_HDR_SIZE)
		return -XIPFS_EBOUNDS;
	/* The block itself was checked against metadata by xipfs_inode_get(). */
	p = img->base + inode->xattr_offset + *pos;
	out->value_len = xipfs_le32(p + XA_VALUE_LEN);
	out->name_len = xipfs_le16(p + XA_NAME_LEN);
	if (xipfs_le16(p + XA_RESERVED) || out->name_len == 0 ||
	    out->name_len > XIPFS_XATTR_NAME_MAX ||
	    out->value_len > XIPFS_XATTR_VALUE_MAX)
		return -XIPFS_ECORRUPT;
	left -= XIPFS_XATTR_HDR_SIZE;
	if ((uint64_t)out->name_len + out->value_len > left)
		return -XIPFS_EBOUNDS;
	out->name = (const char *)p + XIPFS_XATTR_HDR_SIZE;
	out->value = p + XIPFS_XATTR_HDR_SIZE + out->name_len;
	if (memchr(out->name, '\0', out->name_len))
		return -XIPFS_ECORRUPT;
	*pos += XIPFS_XATTR_HDR_SIZE + out->name_len + out->value_len;
	return 1;
}

int xipfs_getxattr(const struct xipfs_image *img,
		   const struct xipfs_inode_info *inode, const char *name,
		   const uint8_t **value, size_t *len)
{
	size_t name_len = strlen(name);
	struct xipfs_xattr_info xa;
	uint64_t pos = 0;
	int ret;

	while ((ret = xipfs_xattr_next(img, inode, &pos, &xa)) > 0) {
		if (xa.name_len == name_len &&
		    memcmp(xa.name, name, name_len) == 0) {
			*value = xa.value;
			*len = xa.value_len;
			return 0;
		}
	}
	return ret < 0 ? ret : -ENODATA;
}

ssize_t xipfs_listxattr(const struct xipfs_image *img,
			const struct xipfs_inode_info *inode, char *buf,
			size_t size)
{
	struct xipfs_xattr_info xa;
	uint64_t pos = 0;
	size_t total = 0;
	int ret;

	while ((ret = xipfs_xattr_next(img, inode, &pos, &xa)) > 0) {
		if (size) {
			if (size - total < (size_t)xa.name_len + 1)
				return -ERANGE;
			memcpy(buf + total, xa.name, xa.name_len);
			buf[total + xa.name_len] = '\0';
		}
		total += xa.name_len + 1;
	}
	return ret < 0 ? ret : (ssize_t)total;
}
