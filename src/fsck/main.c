/* SPDX-License-Identifier: MIT */
/*
 * xipfsck: options, opening the image, and running the action asked for
 * (verify.c, list.c, super.c, extract.c).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsck.h"

static void usage(FILE *out)
{
	fprintf(out,
"Usage: %s [OPTIONS] IMAGE\n"
"Verify, list, show or extract an xipfs image.\n"
"\n"
"Actions (one at most; the default is --verify):\n"
"  -n, --verify         check every structural rule and both CRCs, then\n"
"                       every data block against its checksum and every\n"
"                       compressed cluster by decompressing it\n"
"  -l, --list           list every entry with inode, mode, owner, size,\n"
"                       stored size, mtime, data offset and storage\n"
"                       (map, pack, zstd, lz4)\n"
"  -s, --super          print the superblock\n"
"  -x, --extract=DIR    extract the image into DIR (created if missing;\n"
"                       an existing DIR must be empty)\n"
"\n"
"Options:\n"
"  -m, --metadata-only  verify, extract: check the structure only, not\n"
"                       the file data (the quick check)\n"
"  -o, --offset=N       the image starts N bytes into IMAGE\n"
"  -S, --size=N         the image window is N bytes long (default: to end)\n"
"                       N: decimal, 0x hex, optional suffix K, M, G, T\n"
"  -q, --quiet          print nothing; the exit status tells\n"
"  -v, --verbose        verify: a summary; list: xattrs and nanoseconds;\n"
"                       extract: each path as it is written\n"
"  -h, --help           this text\n"
"  -V, --version        print the version\n"
"\n"
"Exit status: 0 clean, 1 damaged or not an xipfs image, 4 usage or\n"
"operational error (bits combine: 5 is both).\n",
		FSCK_PROG);
}

static int set_action(struct fsck_ctx *ctx, enum fsck_action action,
		      int *seen)
{
	if (*seen && ctx->action != action) {
		fprintf(stderr, "%s: only one of --verify, --list, --super, "
			"--extract may be given\n", FSCK_PROG);
		return -1;
	}
	*seen = 1;
	ctx->action = action;
	return 0;
}

static int parse_size_opt(const char *name, const char *arg, uint64_t *out)
{
	if (xipfs_parse_size(arg, out) == 0)
		return 0;
	fprintf(stderr, "%s: invalid %s '%s'\n", FSCK_PROG, name, arg);
	return -1;
}

/* Returns -1 to exit with a usage error, 1 to exit 0 (help/version). */
static int parse_args(struct fsck_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "verify", no_argument, NULL, 'n' },
		{ "list", no_argument, NULL, 'l' },
		{ "super", no_argument, NULL, 's' },
		{ "extract", required_argument, NULL, 'x' },
		{ "metadata-only", no_argument, NULL, 'm' },
		{ "offset", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 'S' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int seen = 0, c, bad = 0;

	while ((c = getopt_long(argc, argv, "nlsx:mo:S:qvhV", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'n': bad |= set_action(ctx, FSCK_VERIFY, &seen); break;
		case 'l': bad |= set_action(ctx, FSCK_LIST, &seen); break;
		case 's': bad |= set_action(ctx, FSCK_SUPER, &seen); break;
		case 'x':
			bad |= set_action(ctx, FSCK_EXTRACT, &seen);
			ctx->extract_dir = optarg;
			break;
		case 'm': ctx->metadata_only = 1; break;
		case 'o': bad |= parse_size_opt("offset", optarg,
						&ctx->offset); break;
		case 'S': bad |= parse_size_opt("size", optarg,
						&ctx->size); break;
		case 'q': ctx->quiet = 1; break;
		case 'v': ctx->verbose++; break;
		case 'h': usage(stdout); return 1;
		case 'V': printf("%s (%s) %s\n", FSCK_PROG, PACKAGE_NAME,
				 PACKAGE_VERSION); return 1;
		default: bad = -1; break;
		}
	}
	if (!bad && optind != argc - 1) {
		fprintf(stderr, "%s: %s\n", FSCK_PROG, optind == argc ?
			"no image given" : "only one image may be given");
		bad = -1;
	}
	if (!bad && ctx->extract_dir && ctx->extract_dir[0] == '\0') {
		fprintf(stderr, "%s: empty --extract directory\n", FSCK_PROG);
		bad = -1;
	}
	if (bad) {
		fprintf(stderr, "Try '%s --help' for more information.\n",
			FSCK_PROG);
		return -1;
	}
	ctx->image_path = argv[optind];
	return 0;
}

/*
 * Look at the source before mapping it: opening a fifo would block for a
 * writer, and a directory or an empty file deserve a plainer message than
 * the mapping step gives.  An empty file is "not an image" (exit 1); the
 * rest are the user's mistake (exit 4).
 */
static int check_source(struct fsck_ctx *ctx)
{
	struct stat st;

	if (stat(ctx->image_path, &st) < 0) {
		fsck_err(ctx, FSCK_EXIT_OPERATIONAL, ctx->image_path, "%s",
			 strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		fsck_err(ctx, FSCK_EXIT_OPERATIONAL, ctx->image_path, "%s",
			 strerror(EISDIR));
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode) &&
	    !S_ISCHR(st.st_mode)) {
		fsck_err(ctx, FSCK_EXIT_OPERATIONAL, ctx->image_path,
			 "not a regular file or a device");
		return -1;
	}
	if (S_ISREG(st.st_mode) && st.st_size == 0 && ctx->offset == 0 &&
	    ctx->size == 0) {
		fsck_err(ctx, FSCK_EXIT_CORRUPT, ctx->image_path,
			 "empty file; not an xipfs image");
		return -1;
	}
	return 0;
}

/*
 * After open failed with a checksum error: was it the metadata CRC table
 * (the superblock itself being sound)?  Then say so, and keep the image
 * open without metadata checks for -s, which only shows the superblock.
 */
static int meta_table_damaged(struct fsck_ctx *ctx)
{
	if (xipfs_image_open_flags(&ctx->img, ctx->map.image, ctx->map.length,
				   XIPFS_OPEN_NO_META_CHECK) < 0)
		return 0;
	fsck_err(ctx, FSCK_EXIT_CORRUPT, ctx->image_path,
		 "metadata checksum table at 0x%llx does not match its "
		 "checksum %08x: no metadata block can be checked",
		 (unsigned long long)ctx->img.meta_table_offset,
		 ctx->img.meta_table_crc);
	if (ctx->action != FSCK_SUPER)
		xipfs_unmap_source(&ctx->map);
	return 1;
}

/*
 * Map the source and validate the superblock.  A source that cannot be
 * opened or mapped is an operational error; one that maps but is no valid
 * image is a damaged image.
 */
static int open_image(struct fsck_ctx *ctx)
{
	const char *what = NULL;
	int err;

	if (check_source(ctx) < 0)
		return -1;
	err = xipfs_map_source(ctx->image_path, ctx->offset, ctx->size,
			       &ctx->map, &what);
	if (err < 0) {
		if (what)
			fsck_err(ctx, fsck_err_exit_bit(err), ctx->image_path,
				 "%s: %s", what, xipfs_strerror(err));
		else
			fsck_err(ctx, fsck_err_exit_bit(err), ctx->image_path,
				 "%s", xipfs_strerror(err));
		return err;
	}
	err = xipfs_image_open(&ctx->img, ctx->map.image, ctx->map.length);
	if (err == -XIPFS_ECRC && meta_table_damaged(ctx))
		return ctx->action == FSCK_SUPER ? 0 : err;
	if (err < 0) {
		/* whatever the code, the bytes are not a usable image */
		fsck_err(ctx, FSCK_EXIT_CORRUPT, ctx->image_path, "%s",
			 xipfs_strerror(err));
		xipfs_unmap_source(&ctx->map);
		return err;
	}
	return 0;
}

static void run_action(struct fsck_ctx *ctx)
{
	switch (ctx->action) {
	case FSCK_VERIFY: fsck_verify(ctx); break;
	case FSCK_LIST: fsck_list(ctx); break;
	case FSCK_SUPER: fsck_super(ctx); break;
	case FSCK_EXTRACT: fsck_extract(ctx); break;
	}
}

int main(int argc, char **argv)
{
	struct fsck_ctx ctx;
	int r;

	memset(&ctx, 0, sizeof(ctx));
	ctx.action = FSCK_VERIFY;
	r = parse_args(&ctx, argc, argv);
	if (r)
		return r > 0 ? FSCK_EXIT_OK : FSCK_EXIT_OPERATIONAL;
	if (open_image(&ctx) == 0) {
		run_action(&ctx);
		xipfs_image_close(&ctx.img);
		xipfs_unmap_source(&ctx.map);
	}
	/* stdout may be a full disk or a closed pipe: say so, not silently */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fsck_err(&ctx, FSCK_EXIT_OPERATIONAL, NULL,
			 "write error on standard output: %s",
			 strerror(errno));
	}
	return ctx.status;
}
