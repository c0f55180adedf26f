/* SPDX-License-Identifier: MIT */
/*
 * Paths of image inodes.  The daemon keeps none (inode numbers are the
 * image's own), so a name is found by walking the tree from the image's
 * root: for the profile (every inode it lists, in one walk) and for a
 * complaint about a damaged block (rare, and within the message budget).
 * The walk follows an entry only where xipfs_entry_check accepts it, so a
 * damaged image cannot make it loop (directories have one parent), and it
 * stops at WALK_DEPTH levels or a path of PATH_MAX bytes.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "xipfsd.h"

#define WALK_DEPTH	512

struct walk {
	struct xipfsd *d;
	xipfsd_walk_fn fn;
	void *ctx;
	char path[PATH_MAX];
};

/* The entries of dir, whose path is w->path[0, len); nonzero stops. */
static int walk_dir(struct walk *w, const struct xipfs_inode_info *dir,
		    size_t len, int depth)
{
	struct xipfs_dirent_info de;
	struct xipfs_inode_info child;
	uint64_t cookie = 3;	/* past "." and ".." */
	size_t at = len ? len + 1 : 0;
	int more, stop;

	while ((more = xipfs_readdir(&w->d->img, dir, cookie, &de)) != 0) {
		/* a damaged entry (entry i is cookie 3 + i) hides no other */
		if (more < 0 && xipfs_is_corruption(more)) {
			cookie++;
			continue;
		}
		if (more < 0)
			break;
		cookie = de.cookie;
		if (at + de.name_len >= sizeof(w->path) ||
		    xipfs_inode_get(&w->d->img, de.ino, &child) ||
		    xipfs_entry_check(dir, &de, &child))
			continue;	/* too long, or damaged: not named */
		if (len)
			w->path[len] = '/';
		memcpy(w->path + at, de.name, de.name_len);
		w->path[at + de.name_len] = '\0';
		stop = w->fn(w->ctx, w->path, &child);
		if (!stop && S_ISDIR(child.mode) && depth < WALK_DEPTH)
			stop = walk_dir(w, &child, at + de.name_len, depth + 1);
		w->path[len] = '\0';
		if (stop)
			return stop;
	}
	return 0;
}

int xipfsd_walk(struct xipfsd *d, xipfsd_walk_fn fn, void *ctx)
{
	struct xipfs_inode_info root;
	struct walk w = { .d = d, .fn = fn, .ctx = ctx };
	int err = xipfs_inode_get(&d->img, XIPFS_ROOT_INO, &root);

	return err ? err : walk_dir(&w, &root, 0, 0);
}

struct find_one {
	uint32_t ino;
	char *buf;
	size_t size;
};

static int find_ino(void *ctx, const char *path,
		    const struct xipfs_inode_info *inode)
{
	struct find_one *f = ctx;
	size_t n = strlen(path);

	if (inode->ino != f->ino || n >= f->size)
		return 0;
	memcpy(f->buf, path, n + 1);
	return 1;
}

int xipfsd_path_of(struct xipfsd *d, uint32_t ino, char *buf, size_t size)
{
	struct find_one f = { .ino = ino, .buf = buf, .size = size };

	if (size == 0)
		return -ENOENT;
	buf[0] = '\0';
	if (ino == XIPFS_ROOT_INO)
		return 0;
	return xipfsd_walk(d, find_ino, &f) == 1 ? 0 : -ENOENT;
}
