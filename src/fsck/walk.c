/* SPDX-License-Identifier: MIT */
/*
 * The tree walk --list and the data pass share: every entry, depth first
 * in directory order, with its path.  It trusts nothing: a damaged entry
 * is reported and skipped, a directory met a second time is reported and
 * not entered, and depth is bounded, so a corrupt image cannot make it
 * loop.  (--extract walks on its own: it holds a directory fd per level.)
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsck.h"

void fsck_walk_problem_at(struct fsck_walk *w, uint32_t ino, int exit_bit,
			  const char *message)
{
	char *path = fsck_escape_dup(w->path.buf, w->path.len);

	fsck_err(w->ctx, exit_bit, w->ctx->image_path,
		 "inode %" PRIu32 " (%s): %s", ino, path ? path : "?",
		 message);
	free(path);
}

void fsck_walk_problem(struct fsck_walk *w, uint32_t ino, int err,
		       const char *what)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%s%s%s", what ? what : "",
		 what ? ": " : "", xipfs_strerror(err));
	fsck_walk_problem_at(w, ino, fsck_err_exit_bit(err), msg);
}

int fsck_walk_init(struct fsck_walk *w, struct fsck_ctx *ctx,
		   fsck_visit_fn visit, void *arg)
{
	memset(w, 0, sizeof(*w));
	w->ctx = ctx;
	w->visit = visit;
	w->arg = arg;
	if (inode_bits_init(&w->dirs_seen, ctx->img.inode_count) < 0 ||
	    pathbuf_init(&w->path, "/") < 0) {
		fsck_err(ctx, FSCK_EXIT_OPERATIONAL, NULL, "%s",
			 strerror(ENOMEM));
		fsck_walk_free(w);
		return -1;
	}
	return 0;
}

void fsck_walk_free(struct fsck_walk *w)
{
	pathbuf_free(&w->path);
	inode_bits_free(&w->dirs_seen);
}

int fsck_walk_root(struct fsck_walk *w, struct xipfs_inode_info *root)
{
	int r = xipfs_inode_get(&w->ctx->img, XIPFS_ROOT_INO, root);

	if (r < 0) {
		fsck_walk_problem(w, XIPFS_ROOT_INO, r, "root");
		return -1;
	}
	if ((root->mode & S_IFMT) != S_IFDIR) {
		fsck_err(w->ctx, FSCK_EXIT_CORRUPT, w->ctx->image_path,
			 "inode %d: root is not a directory", XIPFS_ROOT_INO);
		return -1;
	}
	return 0;
}

/* One stored entry: visit it, and descend when it is a directory. */
static void walk_entry(struct fsck_walk *w, const struct xipfs_dirent_info *d,
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
		fsck_walk_problem(w, d->ino, r, NULL);
	} else {
		w->visit(w, &inode);
		if ((inode.mode & S_IFMT) == S_IFDIR)
			fsck_walk_dir(w, &inode, depth + 1);
	}
	pathbuf_pop(&w->path, saved);
}

void fsck_walk_dir(struct fsck_walk *w, const struct xipfs_inode_info *dir,
		   unsigned depth)
{
	struct xipfs_dirent_info d;
	uint64_t cookie = 3;	/* 3: the first stored entry, past . and .. */
	int r;

	if (inode_bits_test_set(&w->dirs_seen, dir->ino)) {
		fsck_walk_problem_at(w, dir->ino, FSCK_EXIT_CORRUPT,
				     "directory reached twice; not entered "
				     "again");
		return;
	}
	if (depth > FSCK_MAX_DEPTH) {
		fsck_walk_problem_at(w, dir->ino, FSCK_EXIT_CORRUPT,
				     "nested too deeply; not entered");
		return;
	}
	for (;;) {
		r = xipfs_readdir(&w->ctx->img, dir, cookie, &d);
		if (r == 0)
			break;
		if (r < 0) {
			/* entry i is cookie 3 + i: skip just the bad one */
			fsck_walk_problem(w, dir->ino, r, "directory entry");
			cookie++;
			continue;
		}
		walk_entry(w, &d, depth);
		if (d.cookie <= cookie)
			break;	/* a cursor that does not advance would spin */
		cookie = d.cookie;
	}
}
