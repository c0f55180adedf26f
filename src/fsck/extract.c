/* SPDX-License-Identifier: MIT */
/*
 * xipfsck --extract: recreate an image's tree on the host.
 *
 * Safety rests on three habits, none of which trusts the image:
 *  - everything is created relative to an open directory fd of our own
 *    making; no path string is ever resolved from the target's top;
 *  - every creation is exclusive (mkdirat, O_CREAT|O_EXCL, symlinkat,
 *    mknodat, linkat all fail on an existing name) and every open of what
 *    we created uses O_NOFOLLOW, so nothing is written through a symlink;
 *  - names are re-checked here with xipfs_name_valid() (no '/', '.', '..',
 *    empty), although the reader applied that rule already.
 * The image's structure is verified in full before the first file is
 * created; each file's data is checked as it is copied, and a damaged
 * file is named and left out (no partial file), the rest extracted.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fsck.h"

/* Bytes asked of the library per step while copying a file. */
#define COPY_CHUNK	(1u << 20)
/* Granularity of hole detection: a zero run this long becomes a hole. */
#define ZERO_BLOCK	4096u

/* Things the host cannot do for us, said once per kind, not per file. */
enum {
	NOTE_OWNER = 1u << 0,
	NOTE_DEVICE = 1u << 1,
	NOTE_XATTR_TRUSTED = 1u << 2,
	NOTE_XATTR_SECURITY = 1u << 3,
	NOTE_XATTR_UNSUPPORTED = 1u << 4,
};

/* Hard-link bookkeeping per inode that has nlink > 1. */
enum { LINK_NONE, LINK_MADE, LINK_SKIPPED };

struct links {
	char **path;		/* relative to the target; for LINK_MADE */
	uint8_t *state;		/* LINK_* */
	uint32_t count;
};

/* A directory whose metadata is restored at the very end. */
struct deferred_dir {
	char *rel;		/* path below the target */
	uint32_t ino;
};

struct extract {
	struct fsck_ctx *ctx;
	const struct xipfs_image *img;
	int rootfd;
	int privileged;		/* euid 0: owners and devices restored */
	uid_t uid;
	gid_t gid;
	unsigned noted;		/* NOTE_* already printed */
	int stop;		/* the image turned out damaged: stop */
	int seek_data;		/* SEEK_DATA works on the source */
	struct inode_bits dirs_seen;
	struct links links;
	struct deferred_dir *deferred;	/* modes that would lock us out */
	size_t n_deferred, cap_deferred;
	struct pathbuf path;	/* host path for messages: DIR/a/b */
	size_t rel_start;	/* path.buf + rel_start: the part below DIR */
	struct xipfs_zctx *zctx;	/* the reading context */
};

/* What metadata calls act on: an open fd, or a name in a directory when
 * the object cannot be opened (symlinks, devices, fifos, sockets). */
struct target {
	int fd;			/* -1: use dirfd + name */
	int dirfd;
	const char *name;
};

static const char *shown_path(struct extract *ex, char **tofree)
{
	*tofree = fsck_escape_dup(ex->path.buf, ex->path.len);
	return *tofree ? *tofree : ex->path.buf;
}

/* A host-side failure at the current path. */
static void host_err(struct extract *ex, const char *what, int err)
{
	char *tofree;
	const char *p = shown_path(ex, &tofree);

	fsck_err(ex->ctx, FSCK_EXIT_OPERATIONAL, p, "%s: %s", what,
		 strerror(err));
	free(tofree);
}

/* The image is damaged (or unsafe) at the current path: stop the walk. */
static void image_err(struct extract *ex, uint32_t ino, const char *message)
{
	char *tofree;
	const char *p = shown_path(ex, &tofree);

	fsck_err(ex->ctx, FSCK_EXIT_CORRUPT, ex->ctx->image_path,
		 "inode %" PRIu32 " (%s): %s; extraction stopped", ino, p,
		 message);
	free(tofree);
	ex->stop = 1;
}

static void note_once(struct extract *ex, unsigned kind, const char *msg)
{
	if (ex->noted & kind)
		return;
	ex->noted |= kind;
	fsck_note(ex->ctx, NULL, "note: %s", msg);
}

static void show_progress(struct extract *ex)
{
	if (ex->ctx->verbose && !ex->ctx->quiet) {
		fsck_print_escaped(stdout, ex->path.buf, ex->path.len);
		putchar('\n');
	}
}

/* ---- metadata ---------------------------------------------------------- */

static void restore_owner(struct extract *ex, const struct target *t,
			  const struct xipfs_inode_info *inode)
{
	int r;

	if (!ex->privileged) {
		if (inode->uid != ex->uid || inode->gid != ex->gid)
			note_once(ex, NOTE_OWNER, "owners and groups not "
				  "restored (not running as root)");
		return;
	}
	if (t->fd >= 0)
		r = fchown(t->fd, inode->uid, inode->gid);
	else
		r = fchownat(t->dirfd, t->name, inode->uid, inode->gid,
			     AT_SYMLINK_NOFOLLOW);
	if (r < 0)
		host_err(ex, "chown", errno);
}

/* Runs after the owner is set, since chown drops set-id bits. */
static void restore_mode(struct extract *ex, const struct target *t,
			 const struct xipfs_inode_info *inode)
{
	mode_t mode = inode->mode & 07777;
	int r;

	if (t->fd >= 0) {
		r = fchmod(t->fd, mode);
	} else {
		/* mknodat gave the bits (umask is 0); only a chown since can
		 * have dropped set-id bits */
		if (!ex->privileged || !(mode & (S_ISUID | S_ISGID)))
			return;
		r = fchmodat(t->dirfd, t->name, mode, AT_SYMLINK_NOFOLLOW);
	}
	if (r < 0)
		host_err(ex, "chmod", errno);
}

static int set_one_xattr(const struct target *t, const char *name,
			 const void *value, size_t len)
{
	char proc[64];
	char *path;
	size_t n;
	int r;

	if (t->fd >= 0)
		return fsetxattr(t->fd, name, value, len, 0);
	/*
	 * No fd for a symlink or a device: go through the directory fd's
	 * /proc link, so only the final name is looked up (lsetxattr does
	 * not follow it) and no path from the target's top is resolved.
	 */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d/", t->dirfd);
	n = strlen(proc);
	path = malloc(n + strlen(t->name) + 1);
	if (!path) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(path, proc, n);
	strcpy(path + n, t->name);
	r = lsetxattr(path, name, value, len, 0);
	free(path);
	return r;
}

static int has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Non-root cannot set trusted.* or security.capability: say so once. */
static void xattr_failed(struct extract *ex, const char *name, int err)
{
	char what[XIPFS_XATTR_NAME_MAX + 32];

	if (!ex->privileged && (err == EPERM || err == EACCES)) {
		if (has_prefix(name, "trusted.")) {
			note_once(ex, NOTE_XATTR_TRUSTED, "trusted.* xattrs "
				  "not restored (not running as root)");
			return;
		}
		if (has_prefix(name, "security.")) {
			note_once(ex, NOTE_XATTR_SECURITY, "some security.* "
				  "xattrs not restored (not running as root)");
			return;
		}
	}
	if (err == ENOTSUP) {
		if (!(ex->noted & NOTE_XATTR_UNSUPPORTED))
			host_err(ex, "setxattr: the target does not take "
				 "these xattrs", err);
		ex->noted |= NOTE_XATTR_UNSUPPORTED;
		ex->ctx->status |= FSCK_EXIT_OPERATIONAL;
		return;
	}
	snprintf(what, sizeof(what), "setxattr %s", name);
	host_err(ex, what, err);
}

static void restore_xattrs(struct extract *ex, const struct target *t,
			   const struct xipfs_inode_info *inode)
{
	char name[XIPFS_XATTR_NAME_MAX + 1];
	struct xipfs_xattr_info x;
	uint64_t pos = 0;
	int r;

	while ((r = xipfs_xattr_next(ex->img, inode, &pos, &x)) > 0) {
		if (x.name_len == 0 || x.name_len > XIPFS_XATTR_NAME_MAX ||
		    memchr(x.name, '\0', x.name_len)) {
			image_err(ex, inode->ino, "invalid xattr name");
			return;
		}
		memcpy(name, x.name, x.name_len);
		name[x.name_len] = '\0';
		if (set_one_xattr(t, name, x.value, x.value_len) < 0)
			xattr_failed(ex, name, errno);
	}
	if (r < 0)
		image_err(ex, inode->ino, xipfs_strerror(r));
}

/* Last, as everything before (writing, linking children) moves mtime. */
static void restore_times(struct extract *ex, const struct target *t,
			  const struct xipfs_inode_info *inode)
{
	struct timespec ts[2];
	int r;

	ts[1].tv_sec = (time_t)inode->mtime;
	ts[1].tv_nsec = inode->mtime_nsec;
	ts[0] = ts[1];	/* the image has no atime; mtime is the best guess */
	if (t->fd >= 0)
		r = futimens(t->fd, ts);
	else
		r = utimensat(t->dirfd, t->name, ts, AT_SYMLINK_NOFOLLOW);
	if (r < 0)
		host_err(ex, "set times", errno);
}

/*
 * The order matters: owner first, since chown drops set-id bits and
 * security.capability; xattrs before the mode, since a non-root owner
 * may not set user.* xattrs once the mode takes away write permission;
 * times last.
 */
static void restore_meta(struct extract *ex, const struct target *t,
			 const struct xipfs_inode_info *inode)
{
	restore_owner(ex, t, inode);
	restore_xattrs(ex, t, inode);
	if (ex->stop)
		return;
	if ((inode->mode & S_IFMT) != S_IFLNK)
		restore_mode(ex, t, inode);
	restore_times(ex, t, inode);
}

/* ---- regular file data ------------------------------------------------- */

static int all_zero(const uint8_t *p, size_t n)
{
	/* p[0] == 0 and every byte equal to its predecessor */
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static int pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/*
 * Write bytes at file offset pos, leaving zero blocks unwritten so the
 * result is sparse.  Block boundaries follow the file offset, so holes
 * line up with the target's blocks.
 */
static int write_sparse(int fd, const uint8_t *p, size_t n, uint64_t pos)
{
	size_t i = 0, run = 0;	/* [run, i): non-zero bytes not written */
	int r;

	while (i < n) {
		size_t blk = ZERO_BLOCK - (size_t)((pos + i) % ZERO_BLOCK);

		if (blk > n - i)
			blk = n - i;
		if (all_zero(p + i, blk)) {
			if (i > run && (r = pwrite_all(fd, p + run, i - run,
						       pos + run)) < 0)
				return r;
			run = i + blk;
		}
		i += blk;
	}
	if (n > run)
		return pwrite_all(fd, p + run, n - run, pos + run);
	return 0;
}

/*
 * How many bytes at ptr are a hole in the source file, so that a 5 GiB
 * file of zeros is skipped without reading (and faulting in) 5 GiB.  May
 * also shorten *avail to end where the source's data run ends.
 */
static size_t source_hole(struct extract *ex, const uint8_t *ptr,
			  size_t *avail)
{
	const struct fsck_ctx *ctx = ex->ctx;
	off_t off, next;

	if (!ex->seek_data)
		return 0;
	off = (off_t)(ctx->offset + (uint64_t)(ptr - ctx->map.image));
	next = lseek(ctx->map.fd, off, SEEK_DATA);
	if (next < 0) {
		if (errno == ENXIO)
			return *avail;	/* nothing but hole to the end */
		ex->seek_data = 0;	/* not supported here: read all */
		return 0;
	}
	if (next > off)
		return (uint64_t)(next - off) < *avail ? (size_t)(next - off)
						       : *avail;
	next = lseek(ctx->map.fd, off, SEEK_HOLE);
	if (next > off && (uint64_t)(next - off) < *avail)
		*avail = (size_t)(next - off);
	return 0;
}

/* Does ptr lie in the image (bytes in place, whose holes the source may
 * tell) rather than in the reading context's buffer? */
static int in_image(const struct extract *ex, const uint8_t *ptr)
{
	return ptr >= ex->img->base && ptr < ex->img->base + ex->img->length;
}

/*
 * The file's data is damaged (a block fails its checksum, a cluster does
 * not decompress): the file is named and not extracted (the caller
 * removes what was written), and the extraction goes on with the rest;
 * xipfsck exits nonzero at the end.
 */
static void data_err(struct extract *ex, const struct xipfs_file *f,
		     uint64_t pos, ssize_t n)
{
	char *tofree;
	const char *p = shown_path(ex, &tofree);

	fsck_err(ex->ctx, n < 0 && !xipfs_is_corruption((int)n) ?
		 FSCK_EXIT_OPERATIONAL : FSCK_EXIT_CORRUPT,
		 ex->ctx->image_path, "inode %" PRIu32 " (%s): %s at byte %"
		 PRIu64 ": %s; file not extracted", f->inode.ino, p,
		 f->compressed ? "cannot decompress the cluster" :
				 "cannot read the data",
		 pos, n < 0 ? xipfs_strerror((int)n) :
			      "file data ends before its size");
	free(tofree);
}

/* The file's bytes, a chunk at a time through the one read entry: in
 * place (holes in the source skipped) or decompressed; each chunk's data
 * blocks checked against their CRCs first (not with -m). */
static int copy_data(struct extract *ex, int fd,
		     const struct xipfs_inode_info *inode)
{
	unsigned int flags = ex->ctx->metadata_only ? 0 : XIPFS_READ_VERIFY;
	struct xipfs_file f;
	uint64_t pos = 0;
	int r = xipfs_file_open(ex->img, inode, &f);

	while (r == 0 && pos < inode->size) {
		const uint8_t *ptr;
		ssize_t n = xipfs_file_pread(ex->img, &f, pos, COPY_CHUNK,
					     flags, ex->zctx, &ptr);
		size_t avail = n > 0 ? (size_t)n : 0, hole;

		if (n <= 0) {
			data_err(ex, &f, pos, n);
			return -1;
		}
		hole = in_image(ex, ptr) ? source_hole(ex, ptr, &avail) : 0;
		if (hole) {
			pos += hole;
			continue;
		}
		r = write_sparse(fd, ptr, avail, pos);
		if (r < 0) {
			host_err(ex, "write", -r);
			return -1;
		}
		pos += avail;
	}
	if (r < 0) {
		data_err(ex, &f, 0, r);
		return -1;
	}
	/* sets the size, and makes any trailing zeros a hole */
	if (inode->size && ftruncate(fd, (off_t)inode->size) < 0) {
		host_err(ex, "truncate", errno);
		return -1;
	}
	return 0;
}

/* ---- one entry of each type ------------------------------------------- */

static int extract_file(struct extract *ex, int dirfd, const char *name,
			const struct xipfs_inode_info *inode)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			O_CLOEXEC, 0600);
	struct target t = { .fd = fd, .dirfd = dirfd, .name = name };
	int r;

	if (fd < 0) {
		host_err(ex, "create", errno);
		return -1;
	}
	r = copy_data(ex, fd, inode);
	if (r == 0)
		restore_meta(ex, &t, inode);
	if (close(fd) < 0 && r == 0) {
		host_err(ex, "close", errno);
		r = -1;
	}
	/* a file cut short must not pass for the image's: we made the name
	 * exclusively, so it is ours to take away */
	if (r < 0 && unlinkat(dirfd, name, 0) < 0)
		host_err(ex, "remove the partial file", errno);
	return r;
}

static int extract_symlink(struct extract *ex, int dirfd, const char *name,
			   const struct xipfs_inode_info *inode)
{
	struct target t = { .fd = -1, .dirfd = dirfd, .name = name };
	char *target;
	const char *raw;
	size_t len;
	int r = xipfs_readlink(ex->img, inode, &raw, &len);

	if (r < 0) {
		image_err(ex, inode->ino, xipfs_strerror(r));
		return -1;
	}
	if (len == 0 || len > XIPFS_SYMLINK_MAX || memchr(raw, '\0', len)) {
		image_err(ex, inode->ino, "invalid symlink target");
		return -1;
	}
	/* the target is stored, never followed: it may point anywhere */
	target = strndup(raw, len);
	if (!target) {
		host_err(ex, "symlink", ENOMEM);
		return -1;
	}
	r = symlinkat(target, dirfd, name);
	free(target);
	if (r < 0) {
		host_err(ex, "symlink", errno);
		return -1;
	}
	restore_meta(ex, &t, inode);
	return 0;
}

/* Devices, fifos and sockets: mknodat makes them all. */
static int extract_node(struct extract *ex, int dirfd, const char *name,
			const struct xipfs_inode_info *inode)
{
	struct target t = { .fd = -1, .dirfd = dirfd, .name = name };
	uint32_t type = inode->mode & S_IFMT;
	dev_t dev = 0;

	if (type == S_IFCHR || type == S_IFBLK) {
		if (!ex->privileged) {
			note_once(ex, NOTE_DEVICE, "device nodes not created "
				  "(not running as root)");
			return 1;
		}
		if (inode->rdev_major > UINT32_MAX ||
		    inode->rdev_minor > UINT32_MAX) {
			image_err(ex, inode->ino, "device number too large");
			return -1;
		}
		dev = makedev((unsigned)inode->rdev_major,
			      (unsigned)inode->rdev_minor);
	}
	if (mknodat(dirfd, name, type | (inode->mode & 07777), dev) < 0) {
		host_err(ex, "mknod", errno);
		return -1;
	}
	restore_meta(ex, &t, inode);
	return 0;
}

static void extract_children(struct extract *ex, int dirfd,
			     const struct xipfs_inode_info *dir,
			     unsigned depth);

/*
 * A directory we could no longer search or write once its mode is set
 * (say 0000, as a normal user) would stop later hard links to files in it,
 * so its metadata waits for the end of the extraction.  The list is in
 * post-order (children first), so each is reached while its parents are
 * still open to us.  Returns 1 when deferred.
 */
static int defer_dir(struct extract *ex, const struct xipfs_inode_info *inode)
{
	struct deferred_dir *d;

	if (ex->privileged || (inode->mode & S_IRWXU) == S_IRWXU)
		return 0;
	if (ex->n_deferred == ex->cap_deferred) {
		size_t cap = ex->cap_deferred ? ex->cap_deferred * 2 : 16;
		void *p = reallocarray(ex->deferred, cap, sizeof(*d));

		if (!p)
			return 0;	/* restore now: only links can suffer */
		ex->deferred = p;
		ex->cap_deferred = cap;
	}
	d = &ex->deferred[ex->n_deferred];
	d->rel = strdup(ex->path.buf + ex->rel_start);
	if (!d->rel)
		return 0;
	d->ino = inode->ino;
	ex->n_deferred++;
	return 1;
}

static int open_parent_beneath(struct extract *ex, char *rel,
			       const char **base);

static void restore_deferred_dir(struct extract *ex, struct deferred_dir *d)
{
	struct xipfs_inode_info inode;
	struct target t = { .fd = -1 };
	size_t saved;

	if (pathbuf_push(&ex->path, d->rel, strlen(d->rel), &saved) < 0) {
		host_err(ex, "path", ENOMEM);
		return;
	}
	t.dirfd = open_parent_beneath(ex, d->rel, &t.name);
	if (t.dirfd >= 0)
		t.fd = openat(t.dirfd, t.name, O_RDONLY | O_DIRECTORY |
			      O_NOFOLLOW | O_CLOEXEC);
	if (t.fd < 0)
		host_err(ex, "open to set its mode", errno);
	else if (xipfs_inode_get(ex->img, d->ino, &inode) == 0)
		restore_meta(ex, &t, &inode);
	if (t.fd >= 0)
		close(t.fd);
	if (t.dirfd >= 0)
		close(t.dirfd);
	pathbuf_pop(&ex->path, saved);
}

static void restore_deferred(struct extract *ex)
{
	for (size_t i = 0; i < ex->n_deferred && !ex->stop; i++)
		restore_deferred_dir(ex, &ex->deferred[i]);
}

static int extract_dir(struct extract *ex, int dirfd, const char *name,
		       const struct xipfs_inode_info *inode, unsigned depth)
{
	struct target t = { .dirfd = dirfd, .name = name };

	if (inode_bits_test_set(&ex->dirs_seen, inode->ino)) {
		image_err(ex, inode->ino, "directory reached twice");
		return -1;
	}
	if (depth > FSCK_MAX_DEPTH) {
		image_err(ex, inode->ino, "directories nested too deeply");
		return -1;
	}
	/* owner-only until filled: a 0555 directory must take children */
	if (mkdirat(dirfd, name, 0700) < 0) {
		host_err(ex, "mkdir", errno);
		return -1;
	}
	t.fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		      O_CLOEXEC);
	if (t.fd < 0) {
		host_err(ex, "open", errno);
		return -1;
	}
	show_progress(ex);
	extract_children(ex, t.fd, inode, depth);
	if (!ex->stop && !defer_dir(ex, inode))
		restore_meta(ex, &t, inode);
	close(t.fd);
	return 0;
}

/* ---- hard links ------------------------------------------------------- */

/*
 * Open the directory holding rel (a path we created below the target)
 * one component at a time, never following a symlink, so a tree changed
 * under us cannot redirect the link.  *base gets the last component.
 */
static int open_parent_beneath(struct extract *ex, char *rel,
			       const char **base)
{
	char *slash = strrchr(rel, '/');
	char *comp = rel, *next;
	int fd = dup(ex->rootfd), nfd;

	*base = slash ? slash + 1 : rel;
	if (!slash || fd < 0)
		return fd;
	*slash = '\0';
	for (; comp && fd >= 0; comp = next) {
		next = strchr(comp, '/');
		if (next)
			*next++ = '\0';
		nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW |
			     O_CLOEXEC);
		if (next)
			next[-1] = '/';
		close(fd);
		fd = nfd;
	}
	*slash = '/';
	return fd;
}

static int link_again(struct extract *ex, int dirfd, const char *name,
		      uint32_t ino)
{
	const char *base;
	int pfd, r;

	if (ex->links.state[ino - 1] == LINK_SKIPPED)
		return 1;
	pfd = open_parent_beneath(ex, ex->links.path[ino - 1], &base);
	if (pfd < 0) {
		host_err(ex, "link: open first path's directory", errno);
		return -1;
	}
	r = linkat(pfd, base, dirfd, name, 0);
	if (r < 0)
		host_err(ex, "link", errno);
	close(pfd);
	return r < 0 ? -1 : 0;
}

static int links_init(struct extract *ex)
{
	uint32_t n = ex->img->inode_count;

	ex->links.count = n;
	ex->links.path = calloc(n, sizeof(*ex->links.path));
	ex->links.state = calloc(n, 1);
	return ex->links.path && ex->links.state ? 0 : -ENOMEM;
}

static void links_free(struct extract *ex)
{
	if (ex->links.path) {
		for (uint32_t i = 0; i < ex->links.count; i++)
			free(ex->links.path[i]);
	}
	free(ex->links.path);
	free(ex->links.state);
}

/* Remember where inode ino first landed (result > 0: skipped). */
static void links_record(struct extract *ex, uint32_t ino, int result)
{
	if (result < 0)
		return;	/* failed: a later link will fail and say so again */
	if (result > 0) {
		ex->links.state[ino - 1] = LINK_SKIPPED;
		return;
	}
	ex->links.path[ino - 1] = strdup(ex->path.buf + ex->rel_start);
	if (!ex->links.path[ino - 1]) {
		host_err(ex, "remember hard link", ENOMEM);
		return;
	}
	ex->links.state[ino - 1] = LINK_MADE;
}

/* ---- the walk --------------------------------------------------------- */

static int extract_by_type(struct extract *ex, int dirfd, const char *name,
			   const struct xipfs_inode_info *inode,
			   unsigned depth)
{
	switch (inode->mode & S_IFMT) {
	case S_IFDIR: return extract_dir(ex, dirfd, name, inode, depth + 1);
	case S_IFREG: return extract_file(ex, dirfd, name, inode);
	case S_IFLNK: return extract_symlink(ex, dirfd, name, inode);
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK: return extract_node(ex, dirfd, name, inode);
	default:
		image_err(ex, inode->ino, "unknown file type");
		return -1;
	}
}

static void extract_entry(struct extract *ex, int dirfd, const char *name,
			  const struct xipfs_inode_info *inode, unsigned depth)
{
	int shared = inode->nlink > 1 && (inode->mode & S_IFMT) != S_IFDIR;
	int r;

	if (shared && ex->links.state[inode->ino - 1] != LINK_NONE) {
		r = link_again(ex, dirfd, name, inode->ino);
		if (r >= 0) {
			if (r == 0)
				show_progress(ex);
			return;
		}
		/* the link failed (said above): never lose the name */
		fsck_note(ex->ctx, NULL, "note: writing a separate copy instead");
	}
	r = extract_by_type(ex, dirfd, name, inode, depth);
	if (r == 0 && (inode->mode & S_IFMT) != S_IFDIR)
		show_progress(ex);
	if (shared && ex->links.state[inode->ino - 1] == LINK_NONE)
		links_record(ex, inode->ino, r);
}

/* Validate one stored entry and hand it on; returns -1 to stop the walk. */
static int extract_dirent(struct extract *ex, int dirfd,
			  const struct xipfs_dirent_info *d, unsigned depth)
{
	char name[XIPFS_NAME_MAX + 1];
	struct xipfs_inode_info inode;
	size_t saved;
	int r;

	if (pathbuf_push(&ex->path, d->name, d->name_len, &saved) < 0) {
		host_err(ex, "path", ENOMEM);
		return -1;
	}
	if (!xipfs_name_valid(d->name, d->name_len)) {
		/* refused: it could name something outside this directory */
		image_err(ex, d->ino, "unsafe entry name refused");
	} else if ((r = xipfs_inode_get(ex->img, d->ino, &inode)) < 0) {
		image_err(ex, d->ino, xipfs_strerror(r));
	} else {
		memcpy(name, d->name, d->name_len);
		name[d->name_len] = '\0';
		extract_entry(ex, dirfd, name, &inode, depth);
	}
	pathbuf_pop(&ex->path, saved);
	return ex->stop ? -1 : 0;
}

static void extract_children(struct extract *ex, int dirfd,
			     const struct xipfs_inode_info *dir,
			     unsigned depth)
{
	struct xipfs_dirent_info d;
	uint64_t cookie = 3;	/* the first stored entry, past . and .. */
	int r;

	while (!ex->stop) {
		r = xipfs_readdir(ex->img, dir, cookie, &d);
		if (r == 0)
			break;
		if (r < 0) {
			image_err(ex, dir->ino, xipfs_strerror(r));
			break;
		}
		if (extract_dirent(ex, dirfd, &d, depth) < 0)
			break;
		if (d.cookie <= cookie) {
			image_err(ex, dir->ino, "directory cursor stuck");
			break;
		}
		cookie = d.cookie;
	}
}

/* ---- the target directory --------------------------------------------- */

static int dir_is_empty(int fd)
{
	int dfd = dup(fd);
	DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	int empty = 1;

	if (!dir) {
		if (dfd >= 0)
			close(dfd);
		return -errno;
	}
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = 0;
			break;
		}
	}
	closedir(dir);
	return empty;
}

/* Create DIR, or accept it when it exists, is a directory and is empty. */
static int open_target(struct fsck_ctx *ctx)
{
	const char *dir = ctx->extract_dir;
	int created = mkdir(dir, 0700) == 0;
	int fd, r;

	if (!created && errno != EEXIST) {
		fsck_err(ctx, FSCK_EXIT_OPERATIONAL, dir, "mkdir: %s",
			 strerror(errno));
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fsck_err(ctx, FSCK_EXIT_OPERATIONAL, dir, "%s",
			 strerror(errno));
		return -1;
	}
	r = created ? 1 : dir_is_empty(fd);
	if (r <= 0) {
		fsck_err(ctx, FSCK_EXIT_OPERATIONAL, dir, "%s",
			 r == 0 ? "directory not empty; refusing to extract "
			 "into it" : strerror(-r));
		close(fd);
		return -1;
	}
	return fd;
}

/* One fd per directory level is held open: allow as many as we may. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int extract_init(struct extract *ex, struct fsck_ctx *ctx)
{
	const char *dir = ctx->extract_dir;
	struct stat st;

	memset(ex, 0, sizeof(*ex));
	ex->ctx = ctx;
	ex->img = &ctx->img;
	ex->rootfd = -1;
	ex->privileged = geteuid() == 0;
	ex->uid = geteuid();
	ex->gid = getegid();
	/* SEEK_DATA means something only on a regular file */
	ex->seek_data = fstat(ctx->map.fd, &st) == 0 && S_ISREG(st.st_mode);
	/* its buffer and decompressor come with the first compressed file */
	ex->zctx = xipfs_zctx_new();
	if (!ex->zctx || inode_bits_init(&ex->dirs_seen, ctx->img.inode_count) < 0 ||
	    links_init(ex) < 0 || pathbuf_init(&ex->path, dir) < 0)
		goto nomem;
	ex->rel_start = ex->path.len +
			(ex->path.len && dir[ex->path.len - 1] != '/');
	return 0;
nomem:
	fsck_err(ctx, FSCK_EXIT_OPERATIONAL, NULL, "%s", strerror(ENOMEM));
	return -1;
}

static void extract_fini(struct extract *ex)
{
	if (ex->rootfd >= 0)
		close(ex->rootfd);
	links_free(ex);
	for (size_t i = 0; i < ex->n_deferred; i++)
		free(ex->deferred[i].rel);
	free(ex->deferred);
	pathbuf_free(&ex->path);
	inode_bits_free(&ex->dirs_seen);
	xipfs_zctx_free(ex->zctx);
}

static void extract_root(struct extract *ex)
{
	struct xipfs_inode_info root;
	struct target t = { .fd = ex->rootfd, .dirfd = -1, .name = NULL };
	int r = xipfs_inode_get(ex->img, XIPFS_ROOT_INO, &root);

	if (r < 0 || (root.mode & S_IFMT) != S_IFDIR) {
		image_err(ex, XIPFS_ROOT_INO, r < 0 ? xipfs_strerror(r)
				: "root is not a directory");
		return;
	}
	inode_bits_test_set(&ex->dirs_seen, XIPFS_ROOT_INO);
	extract_children(ex, ex->rootfd, &root, 0);
	restore_deferred(ex);
	/* the image root's mode, owner and times go to DIR itself, as tar
	 * does with "./" */
	if (!ex->stop)
		restore_meta(ex, &t, &root);
}

/*
 * Before anything is created, the structure is checked in full (the data
 * checksum table included) and a damaged one refused.  The file data is
 * checked file by file as it is copied (copy_data): one damaged file
 * costs only itself, and the image is read once.
 */
static int verify_structure(struct fsck_ctx *ctx)
{
	int metadata_only = ctx->metadata_only, r;

	ctx->metadata_only = 1;
	r = fsck_verify(ctx);
	ctx->metadata_only = metadata_only;
	return r;
}

int fsck_extract(struct fsck_ctx *ctx)
{
	struct extract ex;

	if (verify_structure(ctx) < 0) {
		fsck_err(ctx, FSCK_EXIT_CORRUPT, ctx->image_path,
			 "image is damaged; nothing extracted");
		return -1;
	}
	if (extract_init(&ex, ctx) == 0) {
		raise_fd_limit();
		umask(0);	/* modes are set exactly, never masked */
		ex.rootfd = open_target(ctx);
		if (ex.rootfd >= 0)
			extract_root(&ex);
	}
	extract_fini(&ex);
	return ctx->status ? -1 : 0;
}
