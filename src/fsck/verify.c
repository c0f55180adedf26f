/* SPDX-License-Identifier: MIT */
/*
 * xipfsck's verification, the default action and the first step of
 * --extract: the structural check (xipfs_verify), then the data pass
 * (data.c), then with -v a summary of what was checked.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "fsck.h"

static void verify_report(void *arg, uint32_t ino, int code,
			  const char *message)
{
	struct fsck_ctx *ctx = arg;

	/* the message already says what is wrong; code 0 is a note */
	if (code == 0)
		fsck_err(ctx, FSCK_EXIT_CORRUPT, ctx->image_path, "%s",
			 message);
	else if (ino == 0)
		fsck_err(ctx, FSCK_EXIT_CORRUPT, ctx->image_path,
			 "superblock: %s", message);
	else
		fsck_err(ctx, FSCK_EXIT_CORRUPT, ctx->image_path,
			 "inode %" PRIu32 ": %s", ino, message);
}

static void verify_summary(const struct fsck_ctx *ctx,
			   const struct fsck_data_figures *fig)
{
	const struct xipfs_image *img = &ctx->img;

	printf("%s: clean, %" PRIu32 " inodes (%" PRIu32 " directories, %"
	       PRIu32 " regular files), %" PRIu64 " data bytes, block size %"
	       PRIu32 "\n", ctx->image_path, img->inode_count, img->dir_count,
	       img->file_count, img->data_bytes, img->block_size);
	printf("%s: data: ", ctx->image_path);
	if (!fig)
		printf("not checked (--metadata-only)");
	else if (fig->checksummed)
		printf("%" PRIu64 " blocks match their checksums", fig->blocks);
	else
		printf("not checksummed (the image has no data CRCs)");
	if (fig && fig->zfiles)
		printf(", %" PRIu64 " clusters of %" PRIu64 " compressed "
		       "files decompress", fig->clusters, fig->zfiles);
	putchar('\n');
}

static void visit_nothing(struct fsck_walk *w,
			  const struct xipfs_inode_info *inode)
{
	(void)w;
	(void)inode;
}

/* The structure check knows a damaged inode by its number only; one walk
 * of the tree (after damage was found) names by path each damaged entry
 * and inode it meets. */
static void name_damage(struct fsck_ctx *ctx)
{
	struct xipfs_inode_info root;
	struct fsck_walk w;

	if (fsck_walk_init(&w, ctx, visit_nothing, NULL) < 0)
		return;
	if (fsck_walk_root(&w, &root) == 0)
		fsck_walk_dir(&w, &root, 0);
	fsck_walk_free(&w);
}

int fsck_verify(struct fsck_ctx *ctx)
{
	struct fsck_data_figures fig;
	long problems = xipfs_verify(&ctx->img, verify_report, ctx);

	if (problems < 0) {
		fsck_err(ctx, fsck_err_exit_bit((int)problems),
			 ctx->image_path, "cannot verify: %s",
			 xipfs_strerror((int)problems));
		return -1;
	}
	if (problems > 0) {
		name_damage(ctx);
		/* the report may have missed nothing, but say the total */
		fsck_err(ctx, FSCK_EXIT_CORRUPT, ctx->image_path,
			 "%ld problem%s found", problems,
			 problems == 1 ? "" : "s");
		return -1;
	}
	/* the data pass only after the structure is sound: only then is it
	 * known which bytes are whose */
	if (!ctx->metadata_only && fsck_check_data(ctx, &fig) < 0)
		return -1;
	/* extract verifies first too; its -v means something else */
	if (ctx->action == FSCK_VERIFY && ctx->verbose && !ctx->quiet)
		verify_summary(ctx, ctx->metadata_only ? NULL : &fig);
	return 0;
}

