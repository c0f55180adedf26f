/* SPDX-License-Identifier: MIT */
/*
 * Image inodes as the handlers use them: loaded by the number the kernel
 * knows (subdir= swaps two numbers, see xipfsd_swap_root; nothing else is
 * kept per inode, so the mapping needs no bookkeeping), with damage said
 * once per inode (one bit each, whatever door met it) and answered EIO, and shown to the kernel as attributes.  Called
 * inside the handler's SIGBUS guard wherever the image is read.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "xipfsd.h"

#define WORD_BITS	(8 * sizeof(unsigned long))

/* One bit per image inode: its damage was said.  -1 after a message. */
int xipfsd_complaints_setup(struct xipfsd *d)
{
	d->said = calloc(d->img.inode_count / WORD_BITS + 1,
			 sizeof(*d->said));
	if (d->said)
		return 0;
	fprintf(stderr, "xipfs: %s: out of memory\n", d->source);
	return -1;
}

void xipfsd_complaints_free(struct xipfsd *d)
{
	free(d->said);
	d->said = NULL;
}

int xipfsd_complain_once(struct xipfsd *d, uint32_t ino)
{
	if (d->said && ino && ino <= d->img.inode_count) {
		unsigned long bit = 1UL << ((ino - 1) % WORD_BITS);

		if (atomic_fetch_or(&d->said[(ino - 1) / WORD_BITS], bit) & bit)
			return 0;
	}
	return xipfsd_may_complain(d);
}

/* A negative libxipfs return as the errno the kernel should see. */
int xipfsd_errno(struct xipfsd *d, int err, uint32_t ino)
{
	if (!xipfs_is_corruption(err))
		return -err;
	if (xipfsd_complain_once(d, ino))
		fuse_log(FUSE_LOG_ERR, "xipfs: %s: inode %u: %s\n", d->source,
			 ino, xipfs_strerror(err));
	return EIO;
}

/* An inode by its number in the image. */
int xipfsd_load_inode(struct xipfsd *d, uint32_t ino,
		      struct xipfs_inode_info *inode)
{
	int err = xipfs_inode_get(&d->img, ino, inode);

	if (err)
		return xipfsd_errno(d, err, ino);
	/* The mount's root is its own "..", as any file system's root is. */
	if (inode->ino == d->root_ino)
		inode->parent = inode->ino;
	return 0;
}

/* An inode by the number the kernel knows it by. */
int xipfsd_get_inode(struct xipfsd *d, fuse_ino_t ino,
		     struct xipfs_inode_info *inode)
{
	if (ino > UINT32_MAX)
		return ESTALE;
	return xipfsd_load_inode(d, (uint32_t)xipfsd_to_image(d, ino), inode);
}

void xipfsd_fill_stat(const struct xipfsd *d,
		      const struct xipfs_inode_info *inode, struct stat *st)
{
	uint64_t bytes = inode->size;
	mode_t perm = inode->mode & 07777;

	memset(st, 0, sizeof(*st));
	if (S_ISREG(inode->mode) && xipfs_inode_mappable(&d->img, inode))
		bytes = (bytes + d->img.block_size - 1) &
			~(uint64_t)(d->img.block_size - 1);
	if (d->force_umask)
		perm &= ~d->umask;
	st->st_ino = xipfsd_to_fuse(d, inode->ino);
	st->st_mode = (inode->mode & S_IFMT) | perm;
	st->st_nlink = inode->nlink;
	st->st_uid = d->force_uid ? d->uid : inode->uid;
	st->st_gid = d->force_gid ? d->gid : inode->gid;
	st->st_size = (off_t)inode->size;
	st->st_blksize = d->img.block_size;
	st->st_blocks = (blkcnt_t)((bytes + 511) / 512);
	if (S_ISCHR(inode->mode) || S_ISBLK(inode->mode))
		st->st_rdev = makedev((unsigned int)inode->rdev_major,
				      (unsigned int)inode->rdev_minor);
	st->st_mtim.tv_sec = inode->mtime;
	st->st_mtim.tv_nsec = inode->mtime_nsec;
	st->st_atim = st->st_mtim;
	st->st_ctim = st->st_mtim;
}

void xipfsd_fill_entry(const struct xipfsd *d,
		       const struct xipfs_inode_info *inode,
		       struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = xipfsd_to_fuse(d, inode->ino);
	e->generation = 1;
	e->attr_timeout = d->attr_timeout;
	e->entry_timeout = d->entry_timeout;
	xipfsd_fill_stat(d, inode, &e->attr);
}
