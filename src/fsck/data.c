/* SPDX-License-Identifier: MIT */
/*
 * xipfsck's data pass, run after the structural check found nothing:
 * every block of the data region against the data CRC table, then every
 * distinct cluster of the compressed files decompressed to its exact
 * length, through libxipfs' one read entry.
 *
 * The block scan runs in image order and only remembers the first
 * FSCK_DATA_MAX_BAD bad blocks (and counts the rest), so memory is
 * bounded whatever the damage.  Naming the files that hold a bad block
 * needs their paths, which only a tree walk gives; the walk that
 * decompresses does it too, so a damaged image costs one walk more than a
 * clean one: none.  Output stays bounded: after FSCK_DATA_MAX_REPORTS
 * problem lines the rest are only counted.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsck.h"

/* Bad blocks remembered for naming their files; the rest are counted. */
#define FSCK_DATA_MAX_BAD	XIPFS_VERIFY_MAX_PROBLEMS
/* The block scan reads this much at a time (pread into one buffer, or
 * the mapping faulted in), a multiple of every block size. */
#define SCAN_BYTES		(1u << 20)
/* Problem lines printed before the rest are only counted. */
#define FSCK_DATA_MAX_REPORTS	XIPFS_VERIFY_MAX_PROBLEMS

/* A compressed cluster, as the data pass remembers it (decompressing). */
struct cluster_key {
	uint64_t at;		/* image offset of its stored bytes; 0: empty */
	uint32_t stored_len;
	uint32_t length_alg;	/* length | algorithm << 24 */
};

struct seen_clusters {
	struct cluster_key *slot;
	size_t cap, used;	/* cap a power of two, or 0 */
};

struct data_pass {
	struct fsck_ctx *ctx;
	const struct xipfs_image *img;
	int have_crc;
	struct xipfs_data_crc_info dc;

	/* block scan: the first bad blocks, ascending, and who holds them */
	uint64_t bad[FSCK_DATA_MAX_BAD];
	uint8_t held[FSCK_DATA_MAX_BAD];
	size_t n_bad;
	uint64_t bad_blocks;	/* all of them, listed or not */

	/* the walk */
	struct xipfs_zctx *z;
	struct inode_bits files_seen;
	uint8_t *tables;	/* a bit per 8 bytes of metadata: walked */
	struct seen_clusters seen;	/* compressed clusters decompressed */
	int out_of_memory;	/* seen could not grow: the walk stopped */
	uint64_t decompressed;	/* distinct clusters decompressed */
	struct fsck_walk walk;
	int walking;		/* walk set up: to be freed */
	uint64_t clusters, zfiles, bad_clusters;

	/* output */
	uint64_t problems;	/* all of them */
	uint64_t reports;	/* lines printed, at most FSCK_DATA_MAX_REPORTS */
	struct fsck_progress progress;
};

/* One problem line, or a count once the limit is reached. */
__attribute__((format(printf, 2, 3)))
static void data_problem(struct data_pass *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	p->ctx->status |= FSCK_EXIT_CORRUPT;
	p->problems++;
	if (p->reports >= FSCK_DATA_MAX_REPORTS)
		return;
	p->reports++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fsck_err(p->ctx, FSCK_EXIT_CORRUPT, p->ctx->image_path, "%s", msg);
}

/* The same, about the file at the current path. */
__attribute__((format(printf, 3, 4)))
static void file_problem(struct data_pass *p, uint32_t ino, const char *fmt,
			 ...)
{
	char msg[256];
	char *path;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	path = fsck_escape_dup(p->walk.path.buf, p->walk.path.len);
	data_problem(p, "inode %" PRIu32 " (%s): %s", ino, path ? path : "?",
		     msg);
	free(path);
}

static uint64_t block_offset(const struct data_pass *p, uint64_t block)
{
	return p->img->data_offset + (block << p->img->block_log2);
}

/* ---- the block scan ---------------------------------------------------- */

/*
 * Fault in the next stretch of the mapping in one call rather than a page
 * fault every few pages: the scan reads every byte once, in order.  Only
 * a hint; without MADV_POPULATE_READ (Linux 5.14) the reads fault as ever.
 */
static void prefault(const struct data_pass *p, uint64_t block, uint64_t n)
{
#ifdef MADV_POPULATE_READ
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = (uintptr_t)(p->img->base + block_offset(p, block));
	uintptr_t end = start + (uintptr_t)(n << p->img->block_log2);

	start &= ~(page - 1);
	madvise((void *)start, end - start, MADV_POPULATE_READ);
#else
	(void)p, (void)block, (void)n;
#endif
}

static void block_checked(struct data_pass *p, uint64_t i, int err)
{
	if (err) {
		if (p->n_bad < FSCK_DATA_MAX_BAD)
			p->bad[p->n_bad++] = i;
		p->bad_blocks++;
	}
	fsck_progress_add(&p->progress, p->img->block_size);
}

/*
 * Blocks [i, i + n) read with pread into buf, then checked: copying into
 * one reused buffer costs a fraction of faulting the image's pages into
 * our mapping (measured: docs/BENCHMARKS.md).  0, or -1 when the source
 * cannot be read so (a devdax device has no read(), a short read): the
 * caller then checks these blocks through the mapping.
 */
static int scan_pread(struct data_pass *p, uint8_t *buf, uint64_t i,
		      uint64_t n)
{
	const struct xipfs_map *map = &p->ctx->map;
	size_t len = (size_t)(n << p->img->block_log2);
	off_t at = (off_t)(map->offset + block_offset(p, i));

	if (pread(map->fd, buf, len, at) != (ssize_t)len)
		return -1;
	for (uint64_t k = 0; k < n; k++)
		block_checked(p, i + k, xipfs_data_block_check_bytes(
					p->img, i + k,
					buf + (k << p->img->block_log2)));
	return 0;
}

static void scan_mapped(struct data_pass *p, uint64_t i, uint64_t n)
{
	prefault(p, i, n);
	for (uint64_t k = 0; k < n; k++)
		block_checked(p, i + k, xipfs_data_block_check(p->img, i + k));
}

static void scan_blocks(struct data_pass *p)
{
	uint64_t stretch = SCAN_BYTES >> p->img->block_log2;
	uint8_t *buf = malloc(SCAN_BYTES);

	for (uint64_t i = 0; i < p->dc.blocks; i += stretch) {
		uint64_t n = p->dc.blocks - i < stretch ? p->dc.blocks - i :
							   stretch;

		if (!buf || scan_pread(p, buf, i, n) < 0)
			scan_mapped(p, i, n);
	}
	free(buf);
}

/* Index of the first listed bad block >= block (n_bad when none). */
static size_t first_bad_from(const struct data_pass *p, uint64_t block)
{
	size_t lo = 0, hi = p->n_bad;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->bad[mid] < block)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Report every listed bad block among this file's stored bytes. */
static void claim_bad_blocks(struct data_pass *p,
			     const struct xipfs_inode_info *inode)
{
	uint64_t at, len, first, last;

	if (p->n_bad == 0 || inode->size == 0 ||
	    xipfs_file_stored_range(p->img, inode, 0, inode->size, &at,
				    &len) < 0 || len == 0)
		return;
	first = (at - p->img->data_offset) >> p->img->block_log2;
	last = (at + len - 1 - p->img->data_offset) >> p->img->block_log2;
	for (size_t k = first_bad_from(p, first);
	     k < p->n_bad && p->bad[k] <= last; k++) {
		p->held[k] = 1;
		file_problem(p, inode->ino, "data block %" PRIu64 " (image "
			     "offset 0x%" PRIx64 "): checksum mismatch",
			     p->bad[k], block_offset(p, p->bad[k]));
	}
}

/* Bad blocks no file holds: padding between or after files. */
static void report_padding(struct data_pass *p)
{
	for (size_t k = 0; k < p->n_bad; k++) {
		if (!p->held[k])
			data_problem(p, "data block %" PRIu64 " (image offset "
				     "0x%" PRIx64 "): checksum mismatch in "
				     "padding (no file's data)", p->bad[k],
				     block_offset(p, p->bad[k]));
	}
}

/* ---- decompressing ----------------------------------------------------- */

/*
 * The work is bounded by the image, not by what its files claim: a
 * cluster table shared by several inodes (the format allows it) is walked
 * once, and a cluster several tables point at (mkxipfs's duplicates, or a
 * crafted image) is decompressed once.  Memory: one bit per 8 bytes of
 * metadata for the tables, 16 bytes (at half load) for each distinct
 * compressed cluster, whose count the metadata bounds (4 bytes a table
 * entry).  A hash table, open addressing, grown at half load.
 */
static size_t key_hash(const struct cluster_key *k, size_t cap)
{
	uint64_t h = (k->at ^ (uint64_t)k->stored_len << 32 ^ k->length_alg) *
		     0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 17) & (cap - 1);
}

static struct cluster_key *key_slot(struct cluster_key *slot, size_t cap,
				    const struct cluster_key *k)
{
	size_t i = key_hash(k, cap);

	while (slot[i].at && memcmp(&slot[i], k, sizeof(*k)))
		i = (i + 1) & (cap - 1);
	return &slot[i];
}

/* Twice the room, the keys placed again; -1 when out of memory. */
static int seen_grow(struct seen_clusters *s)
{
	size_t cap = s->cap ? 2 * s->cap : 1024;
	struct cluster_key *slot = calloc(cap, sizeof(*slot));

	if (!slot)
		return -1;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slot[i].at)
			*key_slot(slot, cap, &s->slot[i]) = s->slot[i];
	free(s->slot);
	s->slot = slot;
	s->cap = cap;
	return 0;
}

/* Was this cluster decompressed already?  Remembers it if not; 1, 0, or
 * -1 when out of memory. */
static int cluster_seen(struct seen_clusters *s,
			const struct xipfs_zfile_info *zf,
			const struct xipfs_cluster_info *cl)
{
	struct cluster_key k = {
		.at = cl->image_offset, .stored_len = cl->stored_len,
		.length_alg = cl->length | zf->algorithm << 24,
	};
	struct cluster_key *at;

	if ((s->used + 1) * 2 > s->cap && seen_grow(s) < 0)
		return -1;
	at = key_slot(s->slot, s->cap, &k);
	if (at->at)
		return 1;
	*at = k;
	s->used++;
	return 0;
}

/* Was the table at this metadata offset walked already?  Marks it. */
static int table_seen(struct data_pass *p, uint64_t table_offset)
{
	uint64_t i = (table_offset - p->img->meta_offset) / 8;
	uint8_t bit = (uint8_t)(1u << (i % 8));
	int was = (p->tables[i / 8] & bit) != 0;

	p->tables[i / 8] |= bit;
	return was;
}

/* Cluster i, if it is compressed and not seen yet, through the one read
 * entry: the whole cluster straight into the reading context. */
static void check_cluster(struct data_pass *p, const struct xipfs_file *f,
			  uint32_t i, const struct xipfs_cluster_info *cl)
{
	const uint8_t *out;
	int seen;

	/* a raw cluster has nothing to check but its CRC */
	if (cl->stored_len == cl->length)
		return;
	seen = cluster_seen(&p->seen, &f->zf, cl);
	if (seen < 0)
		p->out_of_memory = 1;
	if (seen)
		return;
	p->decompressed++;
	if (xipfs_file_pread(p->img, f, cl->file_offset, cl->length, 0, p->z,
			     &out) != (ssize_t)cl->length) {
		p->bad_clusters++;
		file_problem(p, f->inode.ino, "cluster %" PRIu32 " (image "
			     "offset 0x%" PRIx64 ", %" PRIu32 " bytes "
			     "stored): does not decompress to its %"
			     PRIu32 " bytes", i, cl->image_offset,
			     cl->stored_len, cl->length);
	}
	fsck_progress_add(&p->progress, cl->length);
}

/* Every cluster of a compressed file, in file order. */
static void decompress_file(struct data_pass *p,
			    const struct xipfs_inode_info *inode)
{
	struct xipfs_file f;
	struct xipfs_cluster_info cl;
	int r = xipfs_file_open(p->img, inode, &f);

	if (r < 0) {
		file_problem(p, inode->ino, "cluster table: %s",
			     xipfs_strerror(r));
		return;
	}
	if (!f.compressed)
		return;	/* bytes in place: the block scan checked them */
	p->zfiles++;
	p->clusters += f.zf.cluster_count;
	if (table_seen(p, f.zf.table_offset))
		return;
	for (uint32_t i = 0; i < f.zf.cluster_count && !p->out_of_memory;
	     i++) {
		r = xipfs_cluster_get(p->img, inode, &f.zf, i, &cl);
		if (r < 0) {
			file_problem(p, inode->ino, "cluster %" PRIu32 ": %s",
				     i, xipfs_strerror(r));
			p->bad_clusters++;
			return;	/* the table is bad: the rest means nothing */
		}
		check_cluster(p, &f, i, &cl);
	}
}

/* ---- the walk ------------------------------------------------------------ */

static void data_visit(struct fsck_walk *w, const struct xipfs_inode_info *inode)
{
	struct data_pass *p = w->arg;

	/* a hard link's data was seen under its first name */
	if (!S_ISREG(inode->mode) ||
	    inode_bits_test_set(&p->files_seen, inode->ino))
		return;
	claim_bad_blocks(p, inode);
	decompress_file(p, inode);
}

/* Is a walk needed at all: compressed files, or bad blocks to name? */
static int need_walk(const struct data_pass *p)
{
	return p->n_bad || (p->img->incompat & XIPFS_INCOMPAT_COMPRESSED);
}

/* Uncompressed bytes of every compressed inode: the walk's share of the
 * progress line.  One look at each inode, no data touched. */
static uint64_t compressed_bytes(const struct xipfs_image *img)
{
	struct xipfs_inode_info inode;
	uint64_t sum = 0;

	if (!(img->incompat & XIPFS_INCOMPAT_COMPRESSED))
		return 0;
	for (uint32_t ino = 1; ino <= img->inode_count; ino++) {
		if (xipfs_inode_get(img, ino, &inode) == 0 &&
		    S_ISREG(inode.mode) &&
		    (inode.flags & XIPFS_INODE_COMPRESSED))
			sum += inode.size;
	}
	return sum;
}

/* 0, or -1 when it could not run (said). */
static int walk_tree(struct data_pass *p)
{
	struct xipfs_inode_info root;

	if (!need_walk(p))
		return 0;
	p->z = xipfs_zctx_new();
	p->tables = calloc((size_t)((p->img->meta_end - p->img->meta_offset) /
				    64 + 1), 1);
	if (!p->z || !p->tables ||
	    inode_bits_init(&p->files_seen, p->img->inode_count) < 0) {
		fsck_err(p->ctx, FSCK_EXIT_OPERATIONAL, NULL, "%s",
			 strerror(ENOMEM));
		return -1;
	}
	if (fsck_walk_init(&p->walk, p->ctx, data_visit, p) < 0)
		return -1;
	p->walking = 1;
	if (fsck_walk_root(&p->walk, &root) == 0)
		fsck_walk_dir(&p->walk, &root, 0);
	if (p->out_of_memory) {
		fsck_err(p->ctx, FSCK_EXIT_OPERATIONAL, NULL, "%s",
			 strerror(ENOMEM));
		return -1;
	}
	return 0;
}

static void data_pass_free(struct data_pass *p)
{
	xipfs_zctx_free(p->z);
	free(p->tables);
	free(p->seen.slot);
	inode_bits_free(&p->files_seen);
	if (p->walking)
		fsck_walk_free(&p->walk);
}

/* ---- the pass ------------------------------------------------------------ */

/* The last lines: what was not listed, and the count of each kind. */
static void data_totals(struct data_pass *p)
{
	char blocks[96], clusters[48] = "";
	int n;

	if (p->problems > p->reports)
		fsck_err(p->ctx, FSCK_EXIT_CORRUPT, p->ctx->image_path,
			 "%" PRIu64 " more data problems not listed",
			 p->problems - p->reports);
	if (!p->bad_blocks && !p->bad_clusters)
		return;	/* the one problem said it all */
	n = snprintf(blocks, sizeof(blocks), "%" PRIu64 " bad block%s",
		     p->bad_blocks, p->bad_blocks == 1 ? "" : "s");
	if (p->bad_blocks > p->n_bad)
		snprintf(blocks + n, sizeof(blocks) - (size_t)n, " (files "
			 "named for the first %zu only)", p->n_bad);
	if (p->img->incompat & XIPFS_INCOMPAT_COMPRESSED)
		snprintf(clusters, sizeof(clusters), "%s%" PRIu64
			 " bad cluster%s", p->have_crc ? ", " : "",
			 p->bad_clusters, p->bad_clusters == 1 ? "" : "s");
	/* without checksums there are no blocks to speak of */
	fsck_err(p->ctx, FSCK_EXIT_CORRUPT, p->ctx->image_path, "data: %s%s",
		 p->have_crc ? blocks : "", clusters);
}

int fsck_check_data(struct fsck_ctx *ctx, struct fsck_data_figures *fig)
{
	struct data_pass *p = calloc(1, sizeof(*p));
	int r;

	if (!p) {
		fsck_err(ctx, FSCK_EXIT_OPERATIONAL, NULL, "%s",
			 strerror(ENOMEM));
		return -1;
	}
	p->ctx = ctx;
	p->img = &ctx->img;
	p->have_crc = xipfs_data_crc_get(p->img, &p->dc) == 0;
	if (p->have_crc && (r = xipfs_data_crc_check_table(p->img)) < 0) {
		/* entries that cannot be trusted name no bad block */
		data_problem(p, "data checksum table: %s; data blocks not "
			     "checked", xipfs_strerror(r));
		p->have_crc = 0;
	}
	fsck_progress_start(&p->progress, ctx, "checking data",
			    (p->have_crc ? p->dc.blocks << p->img->block_log2 : 0) +
			    compressed_bytes(p->img));
	if (p->have_crc)
		scan_blocks(p);
	/* a walk that could not run has said why */
	r = walk_tree(p);
	fsck_progress_end(&p->progress);
	if (r == 0)
		report_padding(p);
	if (p->problems)
		data_totals(p);
	*fig = (struct fsck_data_figures){
		.checksummed = p->have_crc,
		.blocks = p->have_crc ? p->dc.blocks : 0,
		.clusters = p->clusters,
		.decompressed = p->decompressed,
		.zfiles = p->zfiles,
	};
	r = r < 0 || p->problems ? -1 : 0;
	data_pass_free(p);
	free(p);
	return r;
}
