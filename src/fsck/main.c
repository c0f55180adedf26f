/* SPDX-License-Identifier: MIT */
/*
 * xipfsck: options, opening the image, and the default action, verify.
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
	if (err < 0) {
		/* whatever the code, the bytes are not a usable image */
		fsck_err(ctx, FSCK_EXIT_CORRUPT, ctx->image_path, "%s",
			 xipfs_strerror(err));
		xipfs_unmap_source(&ctx->map);
		return err;
	}
	return 0;
}

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
