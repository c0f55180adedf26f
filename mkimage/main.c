/* SPDX-License-Identifier: MIT */
/*
 * mkxipfs: build an xipfs image from a directory or a tar archive.
 * This file holds the command line and the order of the phases.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <lz4.h>
#include <zstd.h>

#include "xipfs/xipfs.h"
#include "mkxipfs.h"

enum {
	OPT_ALL_ROOT = 256, OPT_UID_MAP, OPT_GID_MAP, OPT_FORCE_UID,
	OPT_FORCE_GID, OPT_PACK_SMALL, OPT_ALIGN_HUGE, OPT_MTIME,
	OPT_UUID, OPT_TAR, OPT_CROSS_FS, OPT_COMPRESS, OPT_CLUSTER_SIZE,
	OPT_XIP, OPT_XIP_LIST, OPT_NO_DATA_CRC, OPT_NO_META_CRC, OPT_THREADS,
};

static const struct option long_opts[] = {
	{ "block-size", required_argument, NULL, 'b' },
	{ "all-root", no_argument, NULL, OPT_ALL_ROOT },
	{ "uid-map", required_argument, NULL, OPT_UID_MAP },
	{ "gid-map", required_argument, NULL, OPT_GID_MAP },
	{ "force-uid", required_argument, NULL, OPT_FORCE_UID },
	{ "force-gid", required_argument, NULL, OPT_FORCE_GID },
	{ "pack-small", required_argument, NULL, OPT_PACK_SMALL },
	{ "align-huge", no_argument, NULL, OPT_ALIGN_HUGE },
	{ "mtime", required_argument, NULL, OPT_MTIME },
	{ "exclude", required_argument, NULL, 'e' },
	{ "label", required_argument, NULL, 'L' },
	{ "uuid", required_argument, NULL, OPT_UUID },
	{ "tar", required_argument, NULL, OPT_TAR },
	{ "device-table", required_argument, NULL, 'D' },
	{ "cross-fs", no_argument, NULL, OPT_CROSS_FS },
	{ "compress", required_argument, NULL, OPT_COMPRESS },
	{ "cluster-size", required_argument, NULL, OPT_CLUSTER_SIZE },
	{ "xip", required_argument, NULL, OPT_XIP },
	{ "xip-list", required_argument, NULL, OPT_XIP_LIST },
	{ "no-data-crc", no_argument, NULL, OPT_NO_DATA_CRC },
	{ "no-meta-crc", no_argument, NULL, OPT_NO_META_CRC },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fputs(
"Usage: mkxipfs [OPTIONS] SOURCE IMAGE\n"
"       mkxipfs [OPTIONS] --tar FILE IMAGE\n"
"Build an xipfs image (a linear, execute-in-place file system) from a\n"
"directory or a tar archive.  SOURCE that is not a directory is read as a\n"
"tar archive (plain or compressed); '-' reads one from standard input.\n"
"\n"
"Layout:\n"
"  -b, --block-size=SIZE   4096, 16384 or 65536 (or 4K, 16K, 64K); the page\n"
"                          size of the target (default 4096)\n"
"      --pack-small=N      store files smaller than N bytes (N <= block size)\n"
"                          packed together: smaller image, not mappable\n"
"      --align-huge        start files of 2 MiB or more on a 2 MiB boundary\n"
"  -L, --label=NAME        volume name, up to 31 bytes\n"
"      --uuid=UUID         volume UUID (default: derived from the contents)\n"
"Compression and checksums:\n"
"      --compress=ALG      compress the files that do not stay in place:\n"
"                          zstd[:LEVEL] (1-22, default 15), lz4 or lz4:hc;\n"
"                          implies --xip=elf unless --xip is given\n"
"      --cluster-size=SIZE compressed in clusters of SIZE, 4K to 1M, a\n"
"                          power of two (default 64K)\n"
"      --xip=MODE          which files stay in place (uncompressed and\n"
"                          mappable): all (default), elf (ELF executables\n"
"                          and shared objects) or none\n"
"      --xip-list=FILE     also keep the paths or patterns FILE lists (one\n"
"                          a line, '#' comments; xipfs -o profile= writes it)\n"
"      --threads=N         compress on N threads (default: the CPUs online)\n"
"      --no-data-crc       leave out the CRC32C of every data block\n"
"      --no-meta-crc       leave out the CRC32C of every metadata block\n"
"Input:\n"
"      --tar=FILE          read a tar archive ('-' for standard input)\n"
"  -D, --device-table=FILE apply a device/permission table (repeatable)\n"
"  -e, --exclude=PATTERN   leave out paths matching the fnmatch(3) PATTERN,\n"
"                          tried on the path relative to the root with and\n"
"                          without a leading '/' (repeatable)\n"
"      --cross-fs          descend into other file systems under SOURCE\n"
"Ownership and times:\n"
"      --all-root          make every file owned by 0:0\n"
"      --force-uid=N       make every file owned by user N\n"
"      --force-gid=N       make every file owned by group N\n"
"      --uid-map=FROM:TO[:COUNT]  map user ids (repeatable)\n"
"      --gid-map=FROM:TO[:COUNT]  map group ids (repeatable)\n"
"      --mtime=SECONDS     clamp newer mtimes to SECONDS since the epoch\n"
"                          (default: $SOURCE_DATE_EPOCH, if set)\n"
"Output:\n"
"  -q, --quiet             no progress line and no warnings\n"
"  -v, --verbose           phase lines and a summary\n"
"  -h, --help              this text\n"
"  -V, --version           the version\n"
"\n"
"The same input and options always give a byte-identical image.\n"
"See mkxipfs(1) for the device table format.\n", f);
}

static int bad_usage(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int bad_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("mkxipfs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'mkxipfs --help' for more information.\n", stderr);
	return 2;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	if (!*s || *s == '-')
		return -1;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

static int parse_i64(const char *s, int64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return errno || !*s || *end ? -1 : 0;
}

static int parse_id(const char *s, uint32_t *v)
{
	uint64_t x;

	if (parse_u64(s, &x) < 0 || x >= UINT32_MAX)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

static int parse_block_size(struct build_options *o, const char *s)
{
	uint64_t v;

	if (xipfs_parse_size(s, &v) < 0 ||
	    (v != 4096 && v != 16384 && v != 65536))
		return -1;
	o->block_log2 = (uint32_t)__builtin_ctzll(v);
	return 0;
}

static int parse_map(struct idmap **m, size_t *n, const char *s)
{
	uint32_t from, to, count = 1;
	char buf[64], *a, *b, *cnt;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	a = buf;
	b = strchr(a, ':');
	if (!b)
		return -1;
	*b++ = '\0';
	cnt = strchr(b, ':');
	if (cnt)
		*cnt++ = '\0';
	if (parse_id(a, &from) < 0 || parse_id(b, &to) < 0 ||
	    (cnt && (parse_id(cnt, &count) < 0 || count == 0)) ||
	    (uint64_t)from + count > UINT32_MAX ||
	    (uint64_t)to + count > UINT32_MAX)
		return -1;
	*m = xrealloc_array(*m, *n + 1, sizeof(**m));
	(*m)[(*n)++] = (struct idmap){ from, to, count };
	return 0;
}

static int parse_uuid(uint8_t out[16], const char *s)
{
	int n = 0;

	for (; *s && n < 32; s++) {
		int hi;

		if (*s == '-' && (n == 8 || n == 12 || n == 16 || n == 20))
			continue;
		if (*s >= '0' && *s <= '9')
			hi = *s - '0';
		else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
			hi = (*s | 0x20) - 'a' + 10;
		else
			return -1;
		if (n % 2 == 0)
			out[n / 2] = (uint8_t)(hi << 4);
		else
			out[n / 2] |= (uint8_t)hi;
		n++;
	}
	return n == 32 && !*s ? 0 : -1;
}

static void strlist_add(struct strlist *l, char *s)
{
	l->v = xrealloc_array(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = s;
}

/* The compression options; 1 when ch is not one of them. */
static int parse_compression(struct build_options *o, int ch, char *arg)
{
	char why[160];
	uint64_t v;

	switch (ch) {
	case OPT_COMPRESS:
		return parse_compress(arg, &o->z, why, sizeof(why)) < 0 ?
		       bad_usage("--compress: %s", why) : 0;
	case OPT_CLUSTER_SIZE:
		return parse_cluster_size(arg, &o->z.cluster_log2) < 0 ?
		       bad_usage("--cluster-size: invalid size '%s' (a power "
				 "of two from 4K to 1M)", arg) : 0;
	case OPT_XIP:
		o->xip_given = 1;
		return parse_xip_mode(arg, &o->xip) < 0 ?
		       bad_usage("--xip: invalid mode '%s' (all, elf or none)",
				 arg) : 0;
	case OPT_XIP_LIST:
		o->xip_list = arg;
		return 0;
	case OPT_NO_DATA_CRC:
		o->no_data_crc = 1;
		return 0;
	case OPT_NO_META_CRC:
		o->no_meta_crc = 1;
		return 0;
	case OPT_THREADS:
		if (parse_u64(arg, &v) < 0 || v < 1 || v > 256)
			return bad_usage("--threads: invalid count '%s' (1 to "
					 "256)", arg);
		o->threads = (unsigned)v;
		return 0;
	}
	return 1;
}

/* Defaults that depend on other options, and what cannot go together. */
static int settle_compression(struct build_options *o)
{
	long cpus;

	if (!o->z.alg) {
		if (o->xip_given && o->xip != XIP_ALL)
			return bad_usage("--xip=%s needs --compress",
					 o->xip == XIP_ELF ? "elf" : "none");
		if (o->z.cluster_log2)
			return bad_usage("--cluster-size needs --compress");
		if (o->xip_list)
			return bad_usage("--xip-list needs --compress");
		return 0;
	}
	if (!o->xip_given)
		o->xip = XIP_ELF;
	if (!o->threads) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		o->threads = cpus < 1 ? 1 : cpus > 64 ? 64 : (unsigned)cpus;
	}
	return 0;
}

/* The owner options; 1 when ch is not one of them. */
static int parse_ownership(struct build_options *o, int ch, char *arg)
{
	switch (ch) {
	case OPT_ALL_ROOT:
		o->force_uid = o->force_gid = 1;
		o->uid = o->gid = 0;
		return 0;
	case OPT_UID_MAP:
	case OPT_GID_MAP:
		if ((ch == OPT_UID_MAP ?
		     parse_map(&o->uid_map, &o->n_uid_map, arg) :
		     parse_map(&o->gid_map, &o->n_gid_map, arg)) < 0)
			return bad_usage("invalid id map '%s' (FROM:TO[:COUNT])",
					 arg);
		return 0;
	case OPT_FORCE_UID:
		o->force_uid = 1;
		return parse_id(arg, &o->uid) < 0 ?
		       bad_usage("invalid uid '%s'", arg) : 0;
	case OPT_FORCE_GID:
		o->force_gid = 1;
		return parse_id(arg, &o->gid) < 0 ?
		       bad_usage("invalid gid '%s'", arg) : 0;
	}
	return 1;
}

static int parse_one(struct build_options *o, int ch, char *arg)
{
	uint64_t v;
	int r = parse_compression(o, ch, arg);

	if (r == 1)
		r = parse_ownership(o, ch, arg);
	if (r != 1)
		return r;
	switch (ch) {
	case 'b':
		return parse_block_size(o, arg) < 0 ?
		       bad_usage("invalid block size '%s' (4K, 16K or 64K)", arg) : 0;
	case OPT_PACK_SMALL:
		if (xipfs_parse_size(arg, &v) < 0 || v > UINT32_MAX)
			return bad_usage("invalid size '%s'", arg);
		o->pack_small = (uint32_t)v;
		return 0;
	case OPT_ALIGN_HUGE:
		o->align_huge = 1;
		return 0;
	case OPT_MTIME:
		o->have_clamp = 1;
		return parse_i64(arg, &o->clamp) < 0 ?
		       bad_usage("invalid time '%s' (seconds)", arg) : 0;
	case 'e':
		strlist_add(&o->exclude, arg);
		return 0;
	case 'L':
		if (strlen(arg) >= sizeof(o->label))
			return bad_usage("label '%s' is longer than 31 bytes", arg);
		strncpy(o->label, arg, sizeof(o->label));
		return 0;
	case OPT_UUID:
		o->have_uuid = 1;
		return parse_uuid(o->uuid, arg) < 0 ?
		       bad_usage("invalid UUID '%s'", arg) : 0;
	case OPT_TAR:
		o->tar = 1;
		o->source = arg;
		return 0;
	case 'D':
		strlist_add(&o->devtables, arg);
		return 0;
	case OPT_CROSS_FS:
		o->cross_fs = 1;
		return 0;
	case 'q':
		o->quiet = 1;
		return 0;
	case 'v':
		o->verbose = 1;
		return 0;
	case 'h':
		usage(stdout);
		exit(0);
	case 'V':
		/* the compressors' versions decide the compressed bytes */
		printf("mkxipfs (%s) %s\nzstd %s, lz4 %s\n", PACKAGE_NAME,
		       PACKAGE_VERSION, ZSTD_versionString(),
		       LZ4_versionString());
		exit(0);
	default:
		return bad_usage("invalid option");
	}
}

static int parse_args(struct build_options *o, int argc, char **argv)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	int ch, r, want;

	o->block_log2 = 12;
	while ((ch = getopt_long(argc, argv, "b:e:L:D:qvhV", long_opts,
				 NULL)) != -1)
		if ((r = parse_one(o, ch, optarg)))
			return r;
	want = o->tar ? 1 : 2;
	if (argc - optind != want)
		return bad_usage("%s", want == 2 ? "expected SOURCE and IMAGE" :
				 "expected IMAGE after --tar FILE");
	if (!o->tar)
		o->source = argv[optind++];
	o->image = argv[optind];
	if (o->pack_small > (1u << o->block_log2))
		return bad_usage("--pack-small is larger than the block size");
	if ((r = settle_compression(o)))
		return r;
	if (sde && *sde) {
		if (parse_i64(sde, &o->sde) < 0)
			return bad_usage("invalid SOURCE_DATE_EPOCH '%s'", sde);
		o->have_sde = 1;
		if (!o->have_clamp) {
			o->have_clamp = 1;
			o->clamp = o->sde;
		}
	}
	return 0;
}

/* Is SOURCE a tar archive?  Anything but a directory is read as one. */
static int classify_source(struct build *c)
{
	struct stat st;

	if (c->opt.tar || !strcmp(c->opt.source, "-")) {
		c->opt.tar = 1;
	} else if (stat(c->opt.source, &st) < 0) {
		msg_errno(c->opt.source, errno);
		return -1;
	} else if (!S_ISDIR(st.st_mode)) {
		c->opt.tar = 1;
	}
	return 0;
}

/* Remember the existing IMAGE (skipped while scanning); refuse to
 * replace the input or a directory. */
static int check_image(struct build *c)
{
	char *copy = strcpy(xmalloc(strlen(c->opt.image) + 1), c->opt.image);
	struct stat st, in;
	int r = access(dirname(copy), W_OK | X_OK);

	free(copy);
	if (r < 0) {	/* fail before a long scan, not after */
		msg_errno(c->opt.image, errno);
		return -1;
	}
	if (stat(c->opt.image, &st) < 0)
		return errno == ENOENT ? 0 : (msg_errno(c->opt.image, errno), -1);
	if (S_ISDIR(st.st_mode)) {
		msg_err(c->opt.image, "is a directory");
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		msg_err(c->opt.image, "exists and is not a regular file");
		return -1;
	}
	if (strcmp(c->opt.source, "-") && stat(c->opt.source, &in) == 0 &&
	    in.st_dev == st.st_dev && in.st_ino == st.st_ino) {
		msg_err(c->opt.image, "is the input; refusing to overwrite it");
		return -1;
	}
	c->have_image_id = 1;
	c->image_dev = st.st_dev;
	c->image_ino = st.st_ino;
	return 0;
}

/* Build time and mtimes: SOURCE_DATE_EPOCH, else --mtime, else the newest
 * input mtime -- never the clock, so a rebuild is identical. */
static void settle_times(struct build *c)
{
	const struct build_options *o = &c->opt;

	c->build_time = o->have_sde ? o->sde : o->have_clamp ? o->clamp :
			c->have_newest ? c->newest_sec : 0;
	c->build_time_nsec = !o->have_sde && !o->have_clamp && c->have_newest ?
			     c->newest_nsec : 0;
	for (size_t i = 0; i < c->nnodes; i++) {
		struct xnode *n = &c->nodes[i];

		if (n->flags & XN_MTIME_PENDING) {
			n->mtime = o->have_clamp ? o->clamp : c->build_time;
			n->mtime_nsec = 0;
		} else if (o->have_clamp && n->mtime >= o->clamp &&
			   (n->mtime > o->clamp || n->mtime_nsec)) {
			n->mtime = o->clamp;
			n->mtime_nsec = 0;
		}
	}
}

static void tally(struct build *c)
{
	for (uint32_t k = 0; k < c->ninodes; k++) {
		uint32_t mode = c->nodes[c->order[k]].mode;

		if (S_ISREG(mode))
			c->st.files++;
		else if (S_ISDIR(mode))
			c->st.dirs++;
		else if (S_ISLNK(mode))
			c->st.symlinks++;
		else
			c->st.specials++;
	}
}

static void summary(const struct build *c)
{
	const struct build_stats *s = &c->st;
	const uint8_t *u = c->opt.uuid;

	msg_info(c, "done: %u inodes (%llu dirs, %llu files, %llu symlinks, "
		 "%llu special), %llu hard links", c->ninodes,
		 (unsigned long long)s->dirs, (unsigned long long)s->files,
		 (unsigned long long)s->symlinks,
		 (unsigned long long)s->specials,
		 (unsigned long long)s->hardlinks);
	msg_info(c, "data: %llu bytes stored, %llu duplicate files (%llu "
		 "bytes saved), %llu packed", (unsigned long long)s->data_bytes,
		 (unsigned long long)s->dup_files,
		 (unsigned long long)s->dup_bytes,
		 (unsigned long long)s->packed_files);
	if (s->zfiles)
		msg_info(c, "compressed: %llu files, %llu bytes stored as %llu",
			 (unsigned long long)s->zfiles,
			 (unsigned long long)s->zbytes,
			 (unsigned long long)s->zstored);
	msg_info(c, "image: %s, %llu bytes, metadata %llu bytes, block size "
		 "%u, uuid %02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x", c->opt.image,
		 (unsigned long long)c->image_size,
		 (unsigned long long)(c->meta_end - XIPFS_SUPER_SIZE),
		 1u << c->opt.block_log2, u[0], u[1], u[2], u[3], u[4], u[5],
		 u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
		 u[15]);
}

static int ingest(struct build *c)
{
	msg_info(c, "scanning %s%s", c->opt.tar ? "tar archive " : "",
		 strcmp(c->opt.source, "-") ? c->opt.source : "(stdin)");
	if ((c->opt.tar ? read_tar(c) : scan_dir(c)) < 0)
		return -1;
	for (size_t i = 0; i < c->opt.devtables.n; i++)
		if (devtable_apply(c, c->opt.devtables.v[i]) < 0)
			return -1;
	return 0;
}

static int build(struct build *c)
{
	if (classify_source(c) < 0 || check_image(c) < 0 || tree_init(c) < 0 ||
	    ingest(c) < 0)
		return -1;
	settle_times(c);
	if (number_inodes(c) < 0)
		return -1;
	tally(c);
	if (select_compressed(c) < 0)
		return -1;
	msg_info(c, "layout: %u inodes, %zu entries", c->ninodes, c->nents);
	if (layout_meta(c) < 0 || data_plan(c) < 0)
		return -1;
	msg_info(c, "writing %llu bytes of file data",
		 (unsigned long long)c->total_bytes);
	c->progress = !c->opt.quiet && isatty(STDERR_FILENO) &&
		      c->total_bytes > 0;
	if (output_open(c) < 0 || write_data(c) < 0 || write_data_crc(c) < 0 ||
	    plan_meta_crc(c) < 0 ||
	    write_metadata(c) < 0 || output_commit(c) < 0)
		return -1;
	summary(c);
	return 0;
}

int main(int argc, char **argv)
{
	struct build c = { .root_fd = -1, .spool_fd = -1, .out_fd = -1 };
	int r;

	r = parse_args(&c.opt, argc, argv);
	if (r)
		return r;
	install_signal_cleanup();
	r = build(&c) < 0 ? 1 : 0;
	if (r)
		output_abort(&c);
	if (c.root_fd >= 0)
		close(c.root_fd);
	if (c.spool_fd >= 0)
		close(c.spool_fd);
	tree_free(&c);
	free(c.opt.exclude.v);
	free(c.opt.devtables.v);
	free(c.opt.uid_map);
	free(c.opt.gid_map);
	free(c.zfiles);
	free(c.zends);
	return r;
}
