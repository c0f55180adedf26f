/* SPDX-License-Identifier: MIT */
/*
 * The FUSE lowlevel handlers.  Inode numbers are the image's own (the root
 * is 1, as FUSE wants; subdir= swaps two numbers, see xipfsd_swap_root),
 * loaded by inode.c.  Every handler sends exactly one reply; the ones that
 * touch the image do so inside a SIGBUS guard (guard.c).  What happened
 * goes to the features at the named points of events.c (push-ahead keeps
 * its own per-inode state from them, so FORGET tells it); passthrough
 * binds OPEN and RELEASE to backing files.  INIT is in init.c, and READ
 * hands the bytes it found to read.c.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "xipfs/direct.h"
#include "xipfsd.h"

/* Some listings read more than fits a page; never allocate more than this. */
#define READDIR_MAX	(128 * 1024)

static struct xipfsd *ctx(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static int lookup_entry(struct xipfsd *d, fuse_ino_t parent, const char *name,
			struct fuse_entry_param *e)
{
	struct xipfs_inode_info dir, child;
	struct xipfs_dirent_info de;
	int err = xipfsd_get_inode(d, parent, &dir);

	if (err)
		return err;
	err = xipfs_lookup_entry(&d->img, &dir, name, strlen(name), &de);
	if (err)
		return xipfsd_errno(d, err, dir.ino);
	err = xipfsd_load_inode(d, de.ino, &child);
	if (err)
		return err;
	/* xipfsck's rule: a mistyped entry or a directory hard link is EIO
	 * ("." and ".." are no stored entries) */
	if (strcmp(name, ".") && strcmp(name, "..") &&
	    (err = xipfs_entry_check(&dir, &de, &child)))
		return xipfsd_errno(d, err, child.ino);
	xipfsd_fill_entry(d, &child, e);
	xipfsd_note_entry(d, dir.ino, de.cookie, child.ino);
	return 0;
}

static void xipfsd_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct xipfsd *d = ctx(req);
	struct xipfsd_guard g;
	struct fuse_entry_param e;
	int err;

	xipfsd_note_request(d, XOP_LOOKUP);

	XIPFSD_GUARD(req, g);
	err = lookup_entry(d, parent, name, &e);
	xipfsd_guard_end();
	if (err == ENOENT) {
		/* ino 0: the kernel caches the name as absent. */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = d->negative_timeout;
		fuse_reply_entry(req, &e);
	} else if (err) {
		fuse_reply_err(req, err);
	} else {
		fuse_reply_entry(req, &e);
	}
}

/* Stateless but for push-ahead, which pushes only inodes the kernel has. */
static void forget_one(struct xipfsd *d, fuse_ino_t ino, uint64_t nlookup)
{
	if (ino <= UINT32_MAX)
		xipfsd_note_forget(d, (uint32_t)xipfsd_to_image(d, ino),
				   nlookup);
}

static void xipfsd_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct xipfsd *d = ctx(req);

	xipfsd_note_request(d, XOP_FORGET);
	forget_one(d, ino, nlookup);
	fuse_reply_none(req);
}

static void xipfsd_forget_multi(fuse_req_t req, size_t count,
				struct fuse_forget_data *forgets)
{
	struct xipfsd *d = ctx(req);

	xipfsd_note_request(d, XOP_FORGET);
	for (size_t i = 0; i < count; i++)
		forget_one(d, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void xipfsd_getattr(fuse_req_t req, fuse_ino_t ino,
			   struct fuse_file_info *fi)
{
	struct xipfsd *d = ctx(req);
	struct xipfsd_guard g;
	struct xipfs_inode_info inode;
	struct stat st;
	int err;

	xipfsd_note_request(d, XOP_GETATTR);

	XIPFSD_GUARD(req, g);
	err = xipfsd_get_inode(d, ino, &inode);
	xipfsd_guard_end();
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	xipfsd_fill_stat(d, &inode, &st);
	fuse_reply_attr(req, &st, d->attr_timeout);
}

static void xipfsd_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct xipfsd *d = ctx(req);
	struct xipfsd_guard g;
	struct xipfs_inode_info inode;
	char buf[XIPFS_SYMLINK_MAX + 1];
	const char *target;
	size_t len = 0;
	int err;

	xipfsd_note_request(d, XOP_READLINK);

	XIPFSD_GUARD(req, g);
	err = xipfsd_get_inode(d, ino, &inode);
	if (!err) {
		err = xipfs_readlink(&d->img, &inode, &target, &len);
		err = err ? xipfsd_errno(d, err, inode.ino) : 0;
	}
	if (!err && len >= sizeof(buf))
		err = EIO;
	if (!err)
		memcpy(buf, target, len);	/* the reply wants a C string */
	xipfsd_guard_end();
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	buf[len] = '\0';
	fuse_reply_readlink(req, buf);
}

/* Answer an OPEN or OPENDIR, and count what is open (the idle timer
 * leaves a mount with open files alone). */
static int reply_open_counted(fuse_req_t req, struct fuse_file_info *fi)
{
	struct xipfsd *d = ctx(req);	/* the reply frees req */
	int err = fuse_reply_open(req, fi);

	if (!err)
		xipfsd_note_opened(d);
	return err;
}

static void xipfsd_opendir(fuse_req_t req, fuse_ino_t ino,
			   struct fuse_file_info *fi)
{
	xipfsd_note_request(ctx(req), XOP_OPENDIR);
	/*
	 * ENOSYS, as for OPEN: the kernel sends no more OPENDIR or
	 * RELEASEDIR (two of the four requests a small directory cost), and
	 * it still keeps every listing in its cache (measured, kernel 6.18:
	 * a second walk sends no READDIRPLUS).
	 */
	if (!ctx(req)->opendir_requests) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	/* The image never changes: let the kernel keep every listing. */
	fi->cache_readdir = 1;
	fi->keep_cache = 1;
	reply_open_counted(req, fi);
}

static void xipfsd_releasedir(fuse_req_t req, fuse_ino_t ino,
			      struct fuse_file_info *fi)
{
	struct xipfsd *d = ctx(req);

	xipfsd_note_request(d, XOP_RELEASEDIR);
	xipfsd_note_released(d);
	fuse_reply_err(req, 0);
}

/* Append one entry; 0 when it does not fit (or on error, with *err set). */
static size_t add_entry(struct xipfsd *d, fuse_req_t req, char *buf,
			size_t room, const struct xipfs_inode_info *dir,
			const struct xipfs_dirent_info *de, int plus, int *err)
{
	char name[XIPFS_NAME_MAX + 1];
	struct fuse_entry_param e;
	struct xipfs_inode_info inode;
	size_t n;

	memcpy(name, de->name, de->name_len);
	name[de->name_len] = '\0';
	memset(&e, 0, sizeof(e));
	e.attr.st_ino = xipfsd_to_fuse(d, de->ino);
	e.attr.st_mode = DTTOIF(de->type);
	if (!plus) {
		n = fuse_add_direntry(req, buf, room, name, &e.attr, de->cookie);
		return n > room ? 0 : n;
	}
	/* "." and ".." carry no entry: the kernel does not look them up. */
	if (strcmp(name, ".") && strcmp(name, "..")) {
		*err = xipfsd_load_inode(d, de->ino, &inode);
		if (!*err && (*err = xipfs_entry_check(dir, de, &inode)))
			*err = xipfsd_errno(d, *err, inode.ino);
		/* A damaged inode (said by xipfsd_errno) goes out as its name
		 * alone, with no attributes (ino 0: the kernel makes no
		 * dentry), as READDIR lists it: the entries after it stay
		 * visible, and a LOOKUP of it answers EIO. */
		if (*err == EIO)
			*err = 0;
		else if (*err)
			return 0;
		else
			xipfsd_fill_entry(d, &inode, &e);
	}
	n = fuse_add_direntry_plus(req, buf, room, name, &e, de->cookie);
	if (n > room)
		return 0;
	/* handed out with its inode: the kernel now has it */
	if (e.ino)
		xipfsd_note_entry(d, dir->ino, de->cookie, de->ino);
	return n;
}

static void reply_listing(fuse_req_t req, fuse_ino_t ino, char *buf,
			  size_t size, off_t off, int plus)
{
	struct xipfsd *d = ctx(req);
	struct xipfsd_guard g;
	struct xipfs_inode_info dir;
	struct xipfs_dirent_info de;
	uint64_t cookie = (uint64_t)off;
	size_t used = 0, n;
	int err, more;

	XIPFSD_GUARD(req, g);
	err = xipfsd_get_inode(d, ino, &dir);
	while (!err) {
		more = xipfs_readdir(&d->img, &dir, cookie, &de);
		if (more < 0 && xipfs_is_corruption(more) && cookie >= 3 &&
		    cookie < UINT32_MAX) {
			/* a damaged entry (said by xipfsd_errno, within its
			 * budget) is left out: entry i is cookie 3 + i, so
			 * the next one is cookie + 1 */
			xipfsd_errno(d, more, dir.ino);
			cookie++;
			continue;
		}
		if (more <= 0) {
			err = more ? xipfsd_errno(d, more, dir.ino) : 0;
			break;
		}
		n = add_entry(d, req, buf + used, size - used, &dir, &de, plus,
			      &err);
		if (n == 0)
			break;
		used += n;
		cookie = de.cookie;
	}
	xipfsd_guard_end();
	/* Entries already packed go out; the next call meets the error. */
	if (err && used == 0)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, buf, used);
}

static void list_dir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     int plus)
{
	char *buf;

	if (size > READDIR_MAX)
		size = READDIR_MAX;
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	reply_listing(req, ino, buf, size, off, plus);
	free(buf);
}

static void xipfsd_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	xipfsd_note_request(ctx(req), XOP_READDIR);
	list_dir(req, ino, size, off, 0);
}

static void xipfsd_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			       off_t off, struct fuse_file_info *fi)
{
	xipfsd_note_request(ctx(req), XOP_READDIRPLUS);
	list_dir(req, ino, size, off, 1);
}

/* Passthrough: bind this open to the inode's backing file if it has one. */
static void open_passthrough(fuse_req_t req, struct xipfsd *d, fuse_ino_t ino,
			     struct fuse_file_info *fi)
{
	struct xipfsd_guard g;
	struct xipfs_inode_info inode;
	int err, id, intact;

	XIPFSD_GUARD(req, g);
	err = xipfsd_get_inode(d, ino, &inode);
	intact = !err && xipfsd_passthrough_intact(d, &inode);
	xipfsd_guard_end();
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	id = xipfsd_passthrough_open(req, d, &inode, intact);
	if (id < 0) {
		fuse_reply_err(req, -id);
		return;
	}
#if HAVE_DECL_FUSE_PASSTHROUGH_OPEN
	/* keep_cache with passthrough makes the kernel fail the open. */
	fi->backing_id = id;
#endif
	fi->keep_cache = !id;
	fi->noflush = 1;
	if (reply_open_counted(req, fi))
		xipfsd_passthrough_release(req, d, inode.ino);
}

static void xipfsd_open(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	struct xipfsd *d = ctx(req);

	xipfsd_note_request(d, XOP_OPEN);
	/*
	 * ENOSYS tells the kernel (when it offered no-open support) never to
	 * send OPEN or RELEASE again and to keep the page cache: two fewer
	 * round trips per file.
	 */
	if (!d->open_requests) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (ino <= UINT32_MAX)
		xipfsd_note_open(d, (uint32_t)xipfsd_to_image(d, ino),
				 fi->flags);
	if (d->passthrough_active) {
		open_passthrough(req, d, ino, fi);
		return;
	}
	fi->keep_cache = 1;
	fi->noflush = 1;
	reply_open_counted(req, fi);
}

static void xipfsd_release(fuse_req_t req, fuse_ino_t ino,
			   struct fuse_file_info *fi)
{
	struct xipfsd *d = ctx(req);

	xipfsd_note_request(d, XOP_RELEASE);
	xipfsd_note_released(d);
	if (d->passthrough_active && ino <= UINT32_MAX)
		xipfsd_passthrough_release(req, d,
					   (uint32_t)xipfsd_to_image(d, ino));
	fuse_reply_err(req, 0);
}

/* READ's whole path (find, verify, bytes, reply) is read.c's. */
static void xipfsd_read(fuse_req_t req, fuse_ino_t ino, size_t size,
			off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	xipfsd_note_request(ctx(req), XOP_READ);
	xipfsd_read_request(req, ctx(req), ino, size, (uint64_t)off);
}

static void xipfsd_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			    size_t size)
{
	struct xipfsd *d = ctx(req);
	struct xipfsd_guard g;
	struct xipfs_inode_info inode;
	const uint8_t *value = NULL;
	size_t len = 0;
	int err;

	xipfsd_note_request(d, XOP_GETXATTR);
	/* The kernel keeps an ENOSYS for the whole mount: no more GETXATTR,
	 * not for ls -l's security.selinux nor exec's security.capability,
	 * and no ACL (each inode was checked to carry no xattrs).  LISTXATTR
	 * keeps its empty answer: EOPNOTSUPP there would make getfattr and
	 * tar --xattrs complain. */
	if (d->img.compat & XIPFS_COMPAT_NO_XATTRS) {
		fuse_reply_err(req, ENOSYS);
		return;
	}

	XIPFSD_GUARD(req, g);
	err = xipfsd_get_inode(d, ino, &inode);
	if (!err) {
		err = xipfs_getxattr(&d->img, &inode, name, &value, &len);
		err = err ? xipfsd_errno(d, err, inode.ino) : 0;
	}
	xipfsd_guard_end();
	if (err)
		fuse_reply_err(req, err);
	else if (size == 0)
		fuse_reply_xattr(req, len);
	else if (len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, (const char *)value, len);
}

/*
 * trusted.* names are listed only to root, as local file systems list them
 * only to CAP_SYS_ADMIN (the kernel already hides their values).  The
 * request carries no capabilities, so uid 0 stands for them.
 */
static size_t drop_trusted(char *list, size_t len)
{
	size_t in = 0, out = 0, n;

	while (in < len) {
		n = strnlen(list + in, len - in) + 1;
		if (strncmp(list + in, "trusted.", 8)) {
			memmove(list + out, list + in, n);
			out += n;
		}
		in += n;
	}
	return out;
}

static void reply_xattr_names(fuse_req_t req, fuse_ino_t ino, char *buf,
			      size_t size)
{
	struct xipfsd *d = ctx(req);
	struct xipfsd_guard g;
	struct xipfs_inode_info inode;
	ssize_t n = 0;
	int err;

	XIPFSD_GUARD(req, g);
	err = xipfsd_get_inode(d, ino, &inode);
	if (!err) {
		n = xipfs_listxattr(&d->img, &inode, buf, XIPFS_XATTR_LIST_MAX);
		err = n < 0 ? xipfsd_errno(d, (int)n, inode.ino) : 0;
	}
	xipfsd_guard_end();
	if (!err && fuse_req_ctx(req)->uid != 0)
		n = (ssize_t)drop_trusted(buf, (size_t)n);
	if (err)
		fuse_reply_err(req, err == ERANGE ? E2BIG : err);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else if ((size_t)n > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, buf, (size_t)n);
}

/* The whole list is built (it is at most 64 KiB) so that it can be filtered
 * and its length known before the caller's size is considered. */
static void xipfsd_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	xipfsd_note_request(ctx(req), XOP_LISTXATTR);
	char *buf = malloc(XIPFS_XATTR_LIST_MAX);

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	reply_xattr_names(req, ino, buf, size);
	free(buf);
}

static void xipfsd_statfs(fuse_req_t req, fuse_ino_t ino)
{
	xipfsd_note_request(ctx(req), XOP_STATFS);
	struct xipfs_statfs_info info;
	struct statvfs sv;

	xipfs_statfs(&ctx(req)->img, &info);
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = info.block_size;
	sv.f_frsize = info.block_size;
	sv.f_blocks = info.blocks;
	sv.f_files = info.files;
	sv.f_namemax = info.name_max;
	sv.f_flag = ST_RDONLY;
	fuse_reply_statfs(req, &sv);
}

/* XIPFS_IOC_WHERE: where a regular file's bytes sit in the source
 * (EOPNOTSUPP for a compressed file, which xipfs-map cannot map; EIO, with
 * verify, for a file with a block that fails its checksum). */
static void xipfsd_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd,
			 void *arg, struct fuse_file_info *fi, unsigned flags,
			 const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	struct xipfsd *d = ctx(req);
	struct xipfsd_guard g;
	struct xipfs_inode_info inode;
	struct xipfs_where w;
	int err;

	xipfsd_note_request(d, XOP_IOCTL);
	if (cmd != XIPFS_IOC_WHERE || out_bufsz < sizeof(w)) {
		fuse_reply_err(req, ENOTTY);
		return;
	}
	/* a remote source's bytes are in a cache that may lack them */
	if (xipfsd_remote_on(d)) {
		fuse_reply_err(req, EREMOTE);
		return;
	}
	XIPFSD_GUARD(req, g);
	err = xipfsd_get_inode(d, ino, &inode);
	if (!err && !S_ISREG(inode.mode))
		err = ENOTTY;
	/* a compressed file's bytes are not in the source as such; the
	 * client (xipfs_direct_map) reads EOPNOTSUPP as "compressed" */
	if (!err && (inode.flags & XIPFS_INODE_COMPRESSED))
		err = EOPNOTSUPP;
	/* the mapping the client makes is read with no request to us: with
	 * verify, every block of the file is checked first (once a mount) */
	if (!err && xipfsd_verify_on(d) && inode.size &&
	    xipfsd_verify_file(d, &inode))
		err = EIO;
	if (!err) {
		memset(&w, 0, sizeof(w));
		w.version = XIPFS_WHERE_VERSION;
		/* An empty file has nothing to misalign. */
		w.flags = inode.size == 0 ||
			  xipfs_inode_mappable(&d->img, &inode) ?
			  XIPFS_WHERE_ALIGNED : XIPFS_WHERE_PACKED;
		w.source_dev = d->source_dev;
		w.source_ino = d->source_ino;
		w.offset = d->map.offset + inode.data;
		w.size = inode.size;
		w.block_size = d->img.block_size;
	}
	xipfsd_guard_end();
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_ioctl(req, 0, &w, sizeof(w));
}

const struct fuse_lowlevel_ops xipfsd_ops = {
	.init = xipfsd_init,
	.lookup = xipfsd_lookup,
	.forget = xipfsd_forget,
	.forget_multi = xipfsd_forget_multi,
	.getattr = xipfsd_getattr,
	.readlink = xipfsd_readlink,
	.opendir = xipfsd_opendir,
	.releasedir = xipfsd_releasedir,
	.readdir = xipfsd_readdir,
	.readdirplus = xipfsd_readdirplus,
	.open = xipfsd_open,
	.release = xipfsd_release,
	.read = xipfsd_read,
	.getxattr = xipfsd_getxattr,
	.listxattr = xipfsd_listxattr,
	.statfs = xipfsd_statfs,
	.ioctl = xipfsd_ioctl,
};
