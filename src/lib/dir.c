/* SPDX-License-Identifier: MIT */
/* Directories: binary-search lookup and O(1) readdir cookies. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

/* readdir cookies: 0 and 1 give ".", 2 gives "..", 3 + i gives entry i. */
#define COOKIE_DOTDOT	2
#define COOKIE_FIRST	3

uint64_t xipfs_dir_cookie(uint64_t index)
{
	return COOKIE_FIRST + index;
}

int xipfs_dir_index_before(uint64_t cookie, uint64_t *index)
{
	if (cookie <= COOKIE_FIRST)
		return -ERANGE;
	*index = cookie - COOKIE_FIRST - 1;
	return 0;
}

/* Bytewise order: memcmp on the common prefix, then the shorter first.
 * The one order of directory entries and of xattrs: the builder sorts by
 * it, lookup searches by it, xipfs_verify() checks it. */
int xipfs_name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return (alen > blen) - (alen < blen);
}

/* The one rule for entry names: the builder refuses, and the reader and
 * xipfsck's extraction reject, exactly the names it fails. */
int xipfs_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > XIPFS_NAME_MAX)
		return 0;
	if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
		return 0;
	return memchr(name, '/', len) == NULL && memchr(name, '\0', len) == NULL;
}

static int dt_valid(unsigned int type)
{
	switch (type) {
	case DT_REG: case DT_DIR: case DT_LNK: case DT_CHR:
	case DT_BLK: case DT_FIFO: case DT_SOCK:
		return 1;
	default:
		return 0;
	}
}

uint64_t xipfs_dir_count(const struct xipfs_inode_info *dir)
{
	return S_ISDIR(dir->mode) ? dir->size / XIPFS_DIRENT_SIZE : 0;
}

int xipfs_dirent_at(const struct xipfs_image *img,
		    const struct xipfs_inode_info *dir, uint64_t index,
		    struct xipfs_dirent_info *out)
{
	/* In bounds: xipfs_inode_get() checked the whole array. */
	const uint8_t *p = img->base + dir->data + index * XIPFS_DIRENT_SIZE;
	uint64_t name_offset;

	out->name = NULL;
	if (xipfs_meta_ok(img, dir->data + index * XIPFS_DIRENT_SIZE,
			  XIPFS_DIRENT_SIZE))
		return -XIPFS_ECRC;
	name_offset = xipfs_le64(p + DE_NAME_OFFSET);
	out->ino = xipfs_le32(p + DE_INO);
	out->name_len = p[DE_NAME_LEN];
	out->type = p[DE_TYPE];
	out->cookie = COOKIE_FIRST + index + 1;
	out->name = NULL;
	if (!xipfs_in_meta(img, name_offset, out->name_len))
		return -XIPFS_EBOUNDS;
	if (xipfs_meta_ok(img, name_offset, out->name_len))
		return -XIPFS_ECRC;
	if (!xipfs_name_valid((const char *)img->base + name_offset,
			      out->name_len))
		return -XIPFS_ECORRUPT;
	/* a sound name, set even when the rest of the entry is damaged:
	 * lookup still orders its search by it (xipfs_lookup_entry) */
	out->name = (const char *)img->base + name_offset;
	if (out->ino == 0 || out->ino > img->inode_count ||
	    xipfs_le16(p + DE_RESERVED) || !dt_valid(out->type))
		return -XIPFS_ECORRUPT;
	return 0;
}

int xipfs_entry_check(const struct xipfs_inode_info *dir,
		      const struct xipfs_dirent_info *de,
		      const struct xipfs_inode_info *child)
{
	if (de->type != (uint32_t)IFTODT(child->mode))
		return -XIPFS_ECORRUPT;
	/* a directory has one name: the entry in the directory it names as
	 * its parent; anything else is a directory hard link or a cycle */
	if (S_ISDIR(child->mode) &&
	    (child->ino == XIPFS_ROOT_INO || child->parent != dir->ino))
		return -XIPFS_ELOOP;
	return 0;
}

/* The readable entry of [lo, hi) nearest mid (whose name is not): first
 * above, then below; -1 when there is none. */
static int readable_near(const struct xipfs_image *img,
			 const struct xipfs_inode_info *dir, uint64_t lo,
			 uint64_t hi, uint64_t mid, struct xipfs_dirent_info *out,
			 uint64_t *at, int *err)
{
	for (uint64_t i = mid + 1; i < hi; i++) {
		*err = xipfs_dirent_at(img, dir, i, out);
		if (out->name) {
			*at = i;
			return 0;
		}
	}
	for (uint64_t i = mid; i-- > lo;) {
		*err = xipfs_dirent_at(img, dir, i, out);
		if (out->name) {
			*at = i;
			return 0;
		}
	}
	return -1;
}

int xipfs_lookup_entry(const struct xipfs_image *img,
		       const struct xipfs_inode_info *dir, const char *name,
		       size_t name_len, struct xipfs_dirent_info *out)
{
	uint64_t lo = 0, hi = xipfs_dir_count(dir);
	int damage = 0, maybe = 0;

	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	if (name_len == 1 && name[0] == '.') {
		*out = (struct xipfs_dirent_info){ .ino = dir->ino,
			.type = DT_DIR, .name_len = 1, .name = "." };
		return 0;
	}
	if (name_len == 2 && name[0] == '.' && name[1] == '.') {
		*out = (struct xipfs_dirent_info){ .ino = dir->parent,
			.type = DT_DIR, .name_len = 2, .name = ".." };
		return 0;
	}
	if (name_len > XIPFS_NAME_MAX)
		return -ENAMETOOLONG;
	/* Terminates after log2(count) steps, and a scan of [lo, hi) where
	 * an entry's name cannot be read, whatever the entries hold. */
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2, at = mid;
		int err = xipfs_dirent_at(img, dir, mid, out), c;

		/* An entry damaged but for its name still says which way to
		 * go: its damage is the answer only when it is the one asked
		 * for, and hides no other name.  One whose name cannot be
		 * read (a damaged block) lets the nearest readable entry
		 * steer, and is the answer only if the name may be in it. */
		if (!out->name) {
			damage = err;
			if (readable_near(img, dir, lo, hi, mid, out, &at, &err))
				return damage;
		}
		c = xipfs_name_cmp(name, name_len, out->name, out->name_len);
		if (c == 0)
			return err;
		if (c < 0) {
			hi = at < mid ? at : mid;
			if (at > mid)	/* [mid, at) unreadable, may hold it */
				maybe = 1;
		} else if (at < mid) {	/* (at, hi) all unreadable */
			return damage;
		} else {
			lo = at + 1;
		}
	}
	return maybe ? damage : -ENOENT;
}

int xipfs_lookup(const struct xipfs_image *img,
		 const struct xipfs_inode_info *dir, const char *name,
		 size_t name_len, uint32_t *ino)
{
	struct xipfs_dirent_info de;
	int err = xipfs_lookup_entry(img, dir, name, name_len, &de);

	if (!err)
		*ino = de.ino;
	return err;
}

int xipfs_readdir(const struct xipfs_image *img,
		  const struct xipfs_inode_info *dir, uint64_t cookie,
		  struct xipfs_dirent_info *out)
{
	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	if (cookie < COOKIE_DOTDOT) {
		*out = (struct xipfs_dirent_info){ .ino = dir->ino,
			.type = DT_DIR, .name_len = 1, .name = ".",
			.cookie = COOKIE_DOTDOT };
		return 1;
	}
	if (cookie == COOKIE_DOTDOT) {
		*out = (struct xipfs_dirent_info){ .ino = dir->parent,
			.type = DT_DIR, .name_len = 2, .name = "..",
			.cookie = COOKIE_FIRST };
		return 1;
	}
	if (cookie - COOKIE_FIRST >= xipfs_dir_count(dir))
		return 0;
	int err = xipfs_dirent_at(img, dir, cookie - COOKIE_FIRST, out);
	return err ? err : 1;
}
