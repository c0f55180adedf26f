/* SPDX-License-Identifier: MIT */
/*
 * xipfsck --list: every entry, depth first in directory order (walk.c),
 * one line each; the listing goes on around damage.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsck.h"

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
static void format_compressed(struct fsck_walk *w,
			      const struct xipfs_inode_info *inode,
			      struct data_cols *c)
{
	struct xipfs_zfile_info zf;
	int r = xipfs_zfile_get(&w->ctx->img, inode, &zf);

	if (r < 0) {
		snprintf(c->stored, sizeof(c->stored), "?");
		snprintf(c->off, sizeof(c->off), "?");
		c->kind = "?";
		fsck_walk_problem(w, inode->ino, r, "cluster table");
		return;
	}
	snprintf(c->stored, sizeof(c->stored), "%" PRIu64, zf.stored_size);
	snprintf(c->off, sizeof(c->off), "0x%" PRIx64, zf.data);
	c->kind = zalg_name(zf.algorithm);
}

/* Where a regular file's bytes are, and how: mapped in place ("map"),
 * packed and only copied ("pack"), or compressed ("zstd", "lz4"). */
static void format_data(struct fsck_walk *w,
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

static void print_symlink_target(struct fsck_walk *w,
				 const struct xipfs_inode_info *inode)
{
	const char *target;
	size_t len;
	int r = xipfs_readlink(&w->ctx->img, inode, &target, &len);

	if (r < 0) {
		fputs(" -> ?", stdout);
		fsck_walk_problem(w, inode->ino, r, "readlink");
		return;
	}
	fputs(" -> ", stdout);
	fsck_print_escaped(stdout, target, len);
}

static void print_xattrs(struct fsck_walk *w,
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
		fsck_walk_problem(w, inode->ino, r, "xattrs");
}

static void print_entry(struct fsck_walk *w,
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

static void print_header(int verbose)
{
	/* the mtime column is 19 wide, 29 with nanoseconds */
	printf("%8s %-10s %5s %5s %5s %12s %12s %-*s %12s %-4s %s\n", "ino",
	       "mode", "nlink", "uid", "gid", "size", "stored",
	       verbose ? 29 : 19, "mtime (UTC)", "offset", "data", "path");
}

static void list_visit(struct fsck_walk *w,
		       const struct xipfs_inode_info *inode)
{
	print_entry(w, inode);
}

int fsck_list(struct fsck_ctx *ctx)
{
	struct fsck_walk w;
	struct xipfs_inode_info root;

	if (fsck_walk_init(&w, ctx, list_visit, NULL) < 0)
		return -1;
	if (fsck_walk_root(&w, &root) == 0) {
		print_header(ctx->verbose);
		print_entry(&w, &root);
		fsck_walk_dir(&w, &root, 0);
	}
	fsck_walk_free(&w);
	return ctx->status ? -1 : 0;
}
