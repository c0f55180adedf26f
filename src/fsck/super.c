/* SPDX-License-Identifier: MIT */
/* xipfsck --super: the decoded superblock, one field a line. */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "fsck.h"

struct feature_name {
	uint32_t bit;
	const char *name;
};

static const struct feature_name compat_names[] = {
	{ XIPFS_COMPAT_ALIGN_HUGE, "align_huge" },
	{ XIPFS_COMPAT_NO_XATTRS, "no_xattrs" },
	{ 0, NULL },
};

static const struct feature_name incompat_names[] = {
	{ XIPFS_INCOMPAT_PACKED, "packed" },
	{ XIPFS_INCOMPAT_COMPRESSED, "compressed" },
	{ 0, NULL },
};

static const struct feature_name ro_compat_names[] = {
	{ XIPFS_RO_COMPAT_DATA_CRC, "data_crc" },
	{ XIPFS_RO_COMPAT_META_CRC, "meta_crc" },
	{ 0, NULL },
};

/* "0x00000001 (align_huge unknown:0x00000100)" or "0x00000000 (none)" */
static void print_features(const char *label, uint32_t bits,
			   const struct feature_name *names)
{
	uint32_t left = bits;
	const char *sep = "";

	printf("%-20s 0x%08" PRIx32 " (", label, bits);
	for (const struct feature_name *f = names; f->name; f++) {
		if (bits & f->bit) {
			printf("%s%s", sep, f->name);
			sep = " ";
			left &= ~f->bit;
		}
	}
	if (left)
		printf("%sunknown:0x%08" PRIx32, sep, left);
	else if (bits == 0)
		printf("none");
	printf(")\n");
}

static void print_uuid(const uint8_t u[16])
{
	printf("%-20s ", "uuid:");
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			putchar('-');
		printf("%02x", u[i]);
	}
	putchar('\n');
}

static void print_region(const char *label, uint64_t start, uint64_t len)
{
	printf("%-20s 0x%" PRIx64 " + %" PRIu64 " bytes (to 0x%" PRIx64 ")\n",
	       label, start, len, start + len);
}

static void print_geometry(const struct xipfs_image *img)
{
	printf("%-20s %" PRIu32 " (log2 %" PRIu32 ")\n", "block size:",
	       img->block_size, img->block_log2);
	printf("%-20s %" PRIu64 " (%" PRIu64 " blocks)\n", "image size:",
	       img->image_size, img->image_size >> img->block_log2);
	print_region("metadata:", img->meta_offset,
		     img->meta_end - img->meta_offset);
	printf("%-20s 0x%" PRIx64 "\n", "inode table:", img->inode_offset);
	printf("%-20s 0x%" PRIx64 "\n", "data offset:", img->data_offset);
	printf("%-20s %" PRIu64 " (%" PRIu64 " bytes after data offset)\n",
	       "data bytes:", img->data_bytes,
	       img->image_size - img->data_offset);
}

static void print_counts(const struct xipfs_image *img)
{
	printf("%-20s %" PRIu32 "\n", "inodes:", img->inode_count);
	printf("%-20s %" PRIu32 "\n", "directories:", img->dir_count);
	printf("%-20s %" PRIu32 "\n", "regular files:", img->file_count);
}

static void print_crcs(struct fsck_ctx *ctx)
{
	const struct xipfs_image *img = &ctx->img;
	int r;

	/* open already checked super_crc; meta_crc costs a pass over what
	 * may be gigabytes (or a sparse file's claim): -s shows it, -s -v
	 * checks it here, and the check (xipfsck, -m) always checks it */
	printf("%-20s 0x%08" PRIx32 " (ok)\n", "superblock crc32c:",
	       img->super_crc);
	if (!ctx->verbose) {
		printf("%-20s 0x%08" PRIx32 " (xipfsck and xipfsck -m check "
		       "it; -s -v here)\n",
		       "metadata crc32c:", img->meta_crc);
		return;
	}
	r = xipfs_check_meta_crc(img);
	printf("%-20s 0x%08" PRIx32 " (%s)\n", "metadata crc32c:",
	       img->meta_crc, r == 0 ? "ok" : xipfs_strerror(r));
	if (r < 0)
		fsck_err(ctx, fsck_err_exit_bit(r), ctx->image_path,
			 "metadata: %s", xipfs_strerror(r));
}

/* The data CRC table: where, how many blocks, and (with -v) its CRC. */
static void print_data_crc(struct fsck_ctx *ctx)
{
	struct xipfs_data_crc_info dc;
	int r;

	if (xipfs_data_crc_get(&ctx->img, &dc) < 0) {
		printf("%-20s none\n", "data crc table:");
		return;
	}
	print_region("data crc table:", dc.table_offset, 4 * dc.blocks);
	printf("%-20s %" PRIu64 "\n", "data crc blocks:", dc.blocks);
	if (!ctx->verbose) {
		printf("%-20s 0x%08" PRIx32 " (xipfsck and xipfsck -m "
		       "check it; -s -v here)\n", "table crc32c:",
		       dc.table_crc);
		return;
	}
	r = xipfs_data_crc_check_table(&ctx->img);
	printf("%-20s 0x%08" PRIx32 " (%s)\n", "table crc32c:", dc.table_crc,
	       r == 0 ? "ok" : xipfs_strerror(r));
	if (r < 0)
		fsck_err(ctx, fsck_err_exit_bit(r), ctx->image_path,
			 "data crc table: %s", xipfs_strerror(r));
}

/* The metadata CRC table: where, how many blocks, its CRC (checked at
 * open) and, with -v, every block. */
static void print_meta_crc(struct fsck_ctx *ctx)
{
	struct xipfs_meta_crc_info mc;
	uint64_t bad = 0;
	int r;

	if (xipfs_meta_crc_get(&ctx->img, &mc) < 0) {
		printf("%-20s none\n", "meta crc table:");
		return;
	}
	print_region("meta crc table:", mc.table_offset, 4 * mc.blocks);
	printf("%-20s %" PRIu64 "\n", "meta crc blocks:", mc.blocks);
	r = xipfs_meta_crc_check_table(&ctx->img);
	printf("%-20s 0x%08" PRIx32 " (%s)\n", "table crc32c:", mc.table_crc,
	       r == 0 ? "ok" : xipfs_strerror(r));
	if (r < 0 || !ctx->verbose)
		return;
	for (uint64_t i = 0; i < mc.blocks; i++) {
		if (xipfs_meta_block_check(&ctx->img, i) == 0)
			continue;
		bad++;
		fsck_err(ctx, FSCK_EXIT_CORRUPT, ctx->image_path,
			 "metadata block %" PRIu64 " (offset 0x%" PRIx64
			 ") does not match its checksum", i,
			 i << ctx->img.block_log2);
	}
	printf("%-20s %" PRIu64 " of %" PRIu64 " damaged\n",
	       "meta crc check:", bad, mc.blocks);
}

int fsck_super(struct fsck_ctx *ctx)
{
	const struct xipfs_image *img = &ctx->img;
	char when[64];

	printf("%-20s 0x%08" PRIx32 " (\"XIP1\")\n", "magic:", XIPFS_MAGIC);
	printf("%-20s %u.%u\n", "version:", img->version_major,
	       img->version_minor);
	print_features("compat:", img->compat, compat_names);
	print_features("incompat:", img->incompat, incompat_names);
	print_features("ro_compat:", img->ro_compat, ro_compat_names);
	print_geometry(img);
	print_counts(img);
	fsck_format_time(img->build_time, img->build_time_nsec, 1, when,
			 sizeof(when));
	printf("%-20s %s UTC (%" PRId64 ")\n", "build time:", when,
	       img->build_time);
	print_uuid(img->uuid);
	print_crcs(ctx);
	print_data_crc(ctx);
	print_meta_crc(ctx);
	printf("%-20s \"", "label:");
	fsck_print_escaped(stdout, img->volume_name,
			   strnlen(img->volume_name,
				   sizeof(img->volume_name)));
	printf("\"\n");
	return 0;
}
