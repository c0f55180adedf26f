/* SPDX-License-Identifier: MIT */
/*
 * xipfsck --list: every entry, depth first in directory order, one line
 * each.  The walk trusts nothing: a damaged entry is reported and skipped,
 * a directory met a second time is reported and not entered, and depth is
 * bounded, so a corrupt image cannot make the listing loop.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsck.h"

struct list_walk {
	struct fsck_ctx *ctx;
	struct inode_bits dirs_seen;
	struct pathbuf path;
};

/* A problem at the current path; exit_bit 0 derives it from err. */
static void list_problem_at(struct list_walk *w, uint32_t ino, int exit_bit,
			    const char *message)
{
	char *path = fsck_escape_dup(w->path.buf, w->path.len);

	fsck_err(w->ctx, exit_bit, w->ctx->image_path,
		 "inode %" PRIu32 " (%s): %s", ino, path ? path : "?",
		 message);
	free(path);
}

static void list_problem(struct list_walk *w, uint32_t ino, int err,
			 const char *what)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%s%s%s", what ? what : "",
		 what ? ": " : "", xipfs_strerror(err));
	list_problem_at(w, ino, fsck_err_exit_bit(err), msg);
}

/* Size column: bytes, or "major,minor" for a device. */
static void format_size(const struct xipfs_inode_info *inode, char *out,
			size_t size)
{
	uint32_t type = inode->mode & S_IFMT;

	if (type == S_IFCHR || type == S_IFBLK)
		snprintf(out, size, "%" PRIu64 ",%" PRIu64, inode->rdev_major,
			 inode->rdev_minor);
	else
		snprintf(out, size, "%" PRIu64, inode->size);
}

/* The stored, offset and storage columns of a regular file. */
struct data_cols {
	char stored[24];	/* bytes the file takes in the image */
	char off[24];		/* image offset of its first stored byte */
	const char *kind;	/* map, pack, zstd, lz4, or - */
};

static const char *zalg_name(uint32_t algorithm)
{
	switch (algorithm) {
	case XIPFS_ZALG_ZSTD: return "zstd";
	case XIPFS_ZALG_LZ4: return "lz4";
	default: return "?";
	}
}

/* A compressed file: where its clusters are stored and how many bytes. */
static void format_compressed(struct list_walk *w,
			      const struct xipfs_inode_info *inode,
			      struct data_cols *c)
{
	struct xipfs_zfile_info zf;
	int r = xipfs_zfile_get(&w->ctx->img, inode, &zf);

	if (r < 0) {
		snprintf(c->stored, sizeof(c->stored), "?");
		snprintf(c->off, sizeof(c->off), "?");
		c->kind = "?";
		list_problem(w, inode->ino, r, "cluster table");
		return;
	}
	snprintf(c->stored, sizeof(c->stored), "%" PRIu64, zf.stored_size);
	snprintf(c->off, sizeof(c->off), "0x%" PRIx64, zf.data);
	c->kind = zalg_name(zf.algorithm);
}

/* Where a regular file's bytes are, and how: mapped in place ("map"),
 * packed and only copied ("pack"), or compressed ("zstd", "lz4"). */
static void format_data(struct list_walk *w,
			const struct xipfs_inode_info *inode,
			struct data_cols *c)
{
	if ((inode->mode & S_IFMT) != S_IFREG || inode->size == 0) {
		snprintf(c->stored, sizeof(c->stored), "-");
		snprintf(c->off, sizeof(c->off), "-");
		c->kind = "-";
		return;
	}
	if (inode->flags & XIPFS_INODE_COMPRESSED) {
		format_compressed(w, inode, c);
		return;
	}
	snprintf(c->stored, sizeof(c->stored), "%" PRIu64, inode->size);
	snprintf(c->off, sizeof(c->off), "0x%" PRIx64, inode->data);
	c->kind = xipfs_inode_mappable(&w->ctx->img, inode) > 0 ? "map"
								: "pack";
}

static void print_symlink_target(struct list_walk *w,
				 const struct xipfs_inode_info *inode)
{
	const char *target;
	size_t len;
	int r = xipfs_readlink(&w->ctx->img, inode, &target, &len);

	if (r < 0) {
		fputs(" -> ?", stdout);
		list_problem(w, inode->ino, r, "readlink");
		return;
	}
	fputs(" -> ", stdout);
	fsck_print_escaped(stdout, target, len);
}

static void print_xattrs(struct list_walk *w,
			 const struct xipfs_inode_info *inode)
{
	struct xipfs_xattr_info x;
	uint64_t pos = 0;
	int r;

	while ((r = xipfs_xattr_next(&w->ctx->img, inode, &pos, &x)) > 0) {
		fputs("    xattr ", stdout);
		fsck_print_escaped(stdout, x.name, x.name_len);
		printf(" (%" PRIu32 " byte%s)\n", x.value_len,
		       x.value_len == 1 ? "" : "s");
	}
	if (r < 0)
		list_problem(w, inode->ino, r, "xattrs");
}

static void print_entry(struct list_walk *w,
			const struct xipfs_inode_info *inode)
{
	char mode[11], size[48], when[48];
	struct data_cols c;

	fsck_mode_string(inode->mode, mode);
	format_size(inode, size, sizeof(size));
	fsck_format_time(inode->mtime, inode->mtime_nsec, w->ctx->verbose > 0,
			 when, sizeof(when));
	format_data(w, inode, &c);
	printf("%8" PRIu32 " %s %5" PRIu32 " %5" PRIu32 " %5" PRIu32
	       " %12s %12s %s %12s %-4s ", inode->ino, mode, inode->nlink,
	       inode->uid, inode->gid, size, c.stored, when, c.off, c.kind);
	fsck_print_escaped(stdout, w->path.buf, w->path.len);
	if ((inode->mode & S_IFMT) == S_IFLNK)
		print_symlink_target(w, inode);
	putchar('\n');
	if (w->ctx->verbose)
		print_xattrs(w, inode);
}

static void list_dir(struct list_walk *w, const struct xipfs_inode_info *dir,
		     unsigned depth);

/* One stored entry: print it, and descend when it is a directory. */
static void list_entry(struct list_walk *w, const struct xipfs_dirent_info *d,
		       unsigned depth)
{
	struct xipfs_inode_info inode;
	size_t saved;
	int r;

	if (pathbuf_push(&w->path, d->name, d->name_len, &saved) < 0) {
		fsck_err(w->ctx, FSCK_EXIT_OPERATIONAL, NULL, "%s",
			 strerror(ENOMEM));
		return;
	}
	r = xipfs_inode_get(&w->ctx->img, d->ino, &inode);
	if (r < 0) {
		list_problem(w, d->ino, r, NULL);
	} else {
		print_entry(w, &inode);
		if ((inode.mode & S_IFMT) == S_IFDIR)
			list_dir(w, &inode, depth + 1);
	}
	pathbuf_pop(&w->path, saved);
}

static void list_dir(struct list_walk *w, const struct xipfs_inode_info *dir,
		     unsigned depth)
{
	struct xipfs_dirent_info d;
	uint64_t cookie = 3;	/* 3: the first stored entry, past . and .. */
	int r;

	if (inode_bits_test_set(&w->dirs_seen, dir->ino)) {
		list_problem_at(w, dir->ino, FSCK_EXIT_CORRUPT,
				"directory reached twice; not entered again");
		return;
	}
	if (depth > FSCK_MAX_DEPTH) {
		list_problem_at(w, dir->ino, FSCK_EXIT_CORRUPT,
				"nested too deeply; not entered");
		return;
	}
	for (;;) {
		r = xipfs_readdir(&w->ctx->img, dir, cookie, &d);
		if (r == 0)
			break;
		if (r < 0) {
			/* entry i is cookie 3 + i: skip just the bad one */
			list_problem(w, dir->ino, r, "directory entry");
			cookie++;
			continue;
		}
		list_entry(w, &d, depth);
		if (d.cookie <= cookie)
			break;	/* a cursor that does not advance would spin */
		cookie = d.cookie;
	}
}

static void print_header(int verbose)
{
	/* the mtime column is 19 wide, 29 with nanoseconds */
	printf("%8s %-10s %5s %5s %5s %12s %12s %-*s %12s %-4s %s\n", "ino",
	       "mode", "nlink", "uid", "gid", "size", "stored",
	       verbose ? 29 : 19, "mtime (UTC)", "offset", "data", "path");
}

int fsck_list(struct fsck_ctx *ctx)
{
	struct list_walk w = { .ctx = ctx };
	struct xipfs_inode_info root;
	int r;

	if (inode_bits_init(&w.dirs_seen, ctx->img.inode_count) < 0 ||
	    pathbuf_init(&w.path, "/") < 0) {
		fsck_err(ctx, FSCK_EXIT_OPERATIONAL, NULL, "%s",
			 strerror(ENOMEM));
		inode_bits_free(&w.dirs_seen);
		return -1;
	}
	r = xipfs_inode_get(&ctx->img, XIPFS_ROOT_INO, &root);
	if (r < 0) {
		list_problem(&w, XIPFS_ROOT_INO, r, "root");
	} else if ((root.mode & S_IFMT) != S_IFDIR) {
		fsck_err(ctx, FSCK_EXIT_CORRUPT, ctx->image_path,
			 "inode %d: root is not a directory", XIPFS_ROOT_INO);
	} else {
		print_header(ctx->verbose);
		print_entry(&w, &root);
		list_dir(&w, &root, 0);
	}
	pathbuf_free(&w.path);
	inode_bits_free(&w.dirs_seen);
	return ctx->status ? -1 : 0;
}
