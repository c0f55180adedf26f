/* SPDX-License-Identifier: MIT */
/* Extended attributes: a bounded walk over an inode's xattr block. */
#include <errno.h>
#include <string.h>

#include "internal.h"

/* The kernel's POSIX ACL xattr representation (uapi/linux/posix_acl_xattr.h). */
#define ACL_XATTR_VERSION	2
#define ACL_HDR_SIZE		4
#define ACL_ENTRY_SIZE		8
enum { ACL_USER_OBJ = 0x01, ACL_USER = 0x02, ACL_GROUP_OBJ = 0x04,
       ACL_GROUP = 0x08, ACL_MASK = 0x10, ACL_OTHER = 0x20 };

/* vfs_cap_data (uapi/linux/capability.h): revision and size go together. */
#define CAP_REVISION_MASK	0xff000000u
#define CAP_FLAGS_EFFECTIVE	0x00000001u

/*
 * What the kernel's posix_acl_valid() demands: the tags in the order
 * USER_OBJ, USER..., GROUP_OBJ, GROUP..., MASK, OTHER; one each of the
 * three *_OBJ/OTHER; named ids strictly increasing and valid; a MASK when
 * there are named entries; permissions in rwx.  Anything else makes the
 * kernel refuse the ACL, and with it every permission check on the file.
 */
static int acl_value_ok(const uint8_t *v, size_t len)
{
	uint32_t prev_tag = 0, prev_id = 0, seen = 0;
	size_t n, i;

	if (len < ACL_HDR_SIZE || (len - ACL_HDR_SIZE) % ACL_ENTRY_SIZE ||
	    xipfs_le32(v) != ACL_XATTR_VERSION)
		return 0;
	n = (len - ACL_HDR_SIZE) / ACL_ENTRY_SIZE;
	for (i = 0; i < n; i++) {
		const uint8_t *e = v + ACL_HDR_SIZE + i * ACL_ENTRY_SIZE;
		uint32_t tag = xipfs_le16(e), id = xipfs_le32(e + 4);
		int named = tag == ACL_USER || tag == ACL_GROUP;

		if (xipfs_le16(e + 2) & ~7u || tag < prev_tag)
			return 0;
		switch (tag) {
		case ACL_USER: case ACL_GROUP:
			if (id == UINT32_MAX ||
			    (tag == prev_tag && id <= prev_id))
				return 0;
			break;
		case ACL_USER_OBJ: case ACL_GROUP_OBJ:
		case ACL_MASK: case ACL_OTHER:
			if (seen & tag)
				return 0;
			break;
		default:
			return 0;
		}
		seen |= tag;
		prev_tag = tag;
		prev_id = named ? id : 0;
	}
	if (!(seen & ACL_USER_OBJ) || !(seen & ACL_GROUP_OBJ) ||
	    !(seen & ACL_OTHER))
		return 0;
	return !(seen & (ACL_USER | ACL_GROUP)) || (seen & ACL_MASK);
}

static int cap_value_ok(const uint8_t *v, size_t len)
{
	uint32_t magic;

	if (len < 4)
		return 0;
	magic = xipfs_le32(v);
	if (magic & ~CAP_REVISION_MASK & ~CAP_FLAGS_EFFECTIVE)
		return 0;
	switch (magic & CAP_REVISION_MASK) {
	case 0x01000000u: return len == 12;
	case 0x02000000u: return len == 20;
	case 0x03000000u: return len == 24;
	default: return 0;
	}
}

static int name_is(const char *name, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(name, want, len) == 0;
}

int xipfs_xattr_value_check(const char *name, size_t name_len,
			    const void *value, size_t value_len)
{
	if (name_is(name, name_len, "system.posix_acl_access") ||
	    name_is(name, name_len, "system.posix_acl_default"))
		return acl_value_ok(value, value_len) ? 0 : -XIPFS_ECORRUPT;
	if (name_is(name, name_len, "security.capability"))
		return cap_value_ok(value, value_len) ? 0 : -XIPFS_ECORRUPT;
	return 0;
}

int xipfs_xattr_next(const struct xipfs_image *img,
		     const struct xipfs_inode_info *inode, uint64_t *pos,
		     struct xipfs_xattr_info *out)
{
	uint64_t size = inode->xattr_size, left;
	const uint8_t *p;

	if (*pos >= size)
		return 0;
	/* the whole block each call: a bit test per block once checked */
	if (!xipfs_in_meta(img, inode->xattr_offset, size))
		return -XIPFS_EBOUNDS;
	if (xipfs_meta_ok(img, inode->xattr_offset, size))
		return -XIPFS_ECRC;
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
	if (memchr(out->name, '\0', out->name_len) ||
	    xipfs_xattr_value_check(out->name, out->name_len, out->value,
				    out->value_len))
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
		/* more than listxattr(2) can return: the image broke a rule */
		if (total > XIPFS_XATTR_LIST_MAX)
			return -XIPFS_ECORRUPT;
	}
	return ret < 0 ? ret : (ssize_t)total;
}
