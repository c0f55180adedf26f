/* SPDX-License-Identifier: MIT */
/*
 * Full structural check of an image, for xipfsck and the tests.
 *
 * Two passes: every inode on its own (xipfs_inode_get() plus what only a
 * whole-inode view can tell: xattr order, symlink bytes), then one
 * breadth-first walk of the tree from the root that checks directory order,
 * entry types, parents and link counts.  Each directory is queued at most
 * once (a bitmap), so cycles and directory hard links are reported, never
 * followed, and the walk ends after at most inode_count directories.
 *
 * The inode pass also walks every compressed file's cluster table (each
 * table once, however many inodes share it), and the end checks the data
 * CRC table against its CRC in the superblock.  The data blocks
 * themselves, and whether each stored cluster decompresses, are not
 * looked at here: that is a pass over all file data, xipfsck's data pass
 * (xipfs_data_crc_check(), xipfs_cluster_decompress()), kept apart so a
 * structural check stays a pass over the metadata.
 *
 * Work is bounded by the image, not by what it claims: the walk stops at
 * XIPFS_VERIFY_MAX_PROBLEMS problems (a zeroed or sparse table of 2^32
 * inodes stops after the first page of them), and the tree walk's memory
 * is taken only once every inode has decoded.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define HUGE_ALIGN	(2u << 20)	/* what XIPFS_COMPAT_ALIGN_HUGE promises */

struct verify {
	const struct xipfs_image *img;
	xipfs_report_fn report;
	void *ctx;
	long problems;
	int stopped;		/* the cap was reached: report nothing more */
	uint8_t *bad;		/* bit per inode: failed to decode */
	uint8_t *queued;	/* bit per inode: directory reached */
	uint8_t *ztables;	/* bit per 8 bytes of metadata: cluster
				 * table walked (compressed images only) */
	uint32_t *refs;		/* directory entries naming each inode */
	uint32_t *queue;	/* directories still to walk */
	uint64_t files, dirs;
};

static int bit_get(const uint8_t *map, uint64_t i)
{
	return map[i >> 3] >> (i & 7) & 1;
}

static void bit_set(uint8_t *map, uint64_t i)
{
	map[i >> 3] |= (uint8_t)(1u << (i & 7));
}

__attribute__((format(printf, 4, 5)))
static void problem(struct verify *v, uint32_t ino, int code,
		    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (v->stopped)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v->problems++;
	if (v->report)
		v->report(v->ctx, ino, code, msg);
	if (v->problems < XIPFS_VERIFY_MAX_PROBLEMS)
		return;
	v->stopped = 1;
	if (v->report)
		v->report(v->ctx, 0, 0,
			  "too many problems; verification stopped");
}

/* A name from the image, made safe to print: other bytes become \ooo. */
static const char *printable(char *out, size_t size, const char *name,
			     size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < size; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, size - o, "\\%03o", c);
	}
	out[o] = '\0';
	return out;
}

static void check_xattrs(struct verify *v, const struct xipfs_inode_info *in)
{
	struct xipfs_xattr_info xa, prev = { 0 };
	char buf[4 * XIPFS_XATTR_NAME_MAX + 8];
	uint64_t pos = 0, names = 0;
	int ret;

	while ((ret = xipfs_xattr_next(v->img, in, &pos, &xa)) > 0) {
		names += xa.name_len + 1;
		if (prev.name && xipfs_name_cmp(prev.name, prev.name_len,
						xa.name, xa.name_len) >= 0)
			problem(v, in->ino, -XIPFS_ECORRUPT,
				"xattr '%s' out of order or duplicated",
				printable(buf, sizeof(buf), xa.name,
					  xa.name_len));
		prev = xa;
	}
	if (ret < 0)
		problem(v, in->ino, ret, "xattr block at 0x%llx, entry at +%llu: %s",
			(unsigned long long)in->xattr_offset,
			(unsigned long long)pos, xipfs_strerror(ret));
	if (names > XIPFS_XATTR_LIST_MAX)
		problem(v, in->ino, -XIPFS_ECORRUPT,
			"xattr names take %llu bytes, more than listxattr can return (%d)",
			(unsigned long long)names, XIPFS_XATTR_LIST_MAX);
}

/*
 * Every cluster of a compressed file against its neighbours' ends (the
 * decode checked the header and the last end only).  A table shared by
 * several inodes is walked once; for the others only the last cluster,
 * the one whose length depends on the inode's size, is checked again, so
 * the work is one pass over the tables whatever the inodes claim.
 */
static void check_clusters(struct verify *v, const struct xipfs_inode_info *in)
{
	struct xipfs_zfile_info zf;
	struct xipfs_cluster_info cl;
	uint64_t slot;
	uint32_t i = 0;
	int err = xipfs_zfile_get(v->img, in, &zf);

	if (err)
		return;		/* xipfs_inode_get() failed the same way */
	slot = (zf.table_offset - v->img->meta_offset) >> 3;
	if (bit_get(v->ztables, slot))
		i = zf.cluster_count - 1;
	bit_set(v->ztables, slot);
	for (; i < zf.cluster_count; i++) {
		err = xipfs_cluster_get(v->img, in, &zf, i, &cl);
		if (err) {
			problem(v, in->ino, err,
				"cluster %u of %u (table at 0x%llx): %s", i,
				zf.cluster_count,
				(unsigned long long)zf.table_offset,
				xipfs_strerror(err));
			return;
		}
	}
}

/* An inode refused as corrupt that carries xattrs on a NO_XATTRS image:
 * the one refusal whose reason the library's code cannot name.  Its
 * metadata block passed its CRC (else the code would be -XIPFS_ECRC), so
 * the raw field may be read. */
static int xattrs_despite_flag(const struct xipfs_image *img, uint32_t ino)
{
	return img->compat & XIPFS_COMPAT_NO_XATTRS &&
	       xipfs_le32(xipfs_inode_raw(img, ino) + IN_XATTR_SIZE) != 0;
}

static void check_inode(struct verify *v, uint32_t ino)
{
	struct xipfs_inode_info in;
	int err = xipfs_inode_get(v->img, ino, &in);

	if (err) {
		bit_set(v->bad, ino);
		if (err == -XIPFS_ECORRUPT && xattrs_despite_flag(v->img, ino))
			problem(v, ino, err, "carries xattrs, but the superblock says no inode does (no_xattrs)");
		else
			problem(v, ino, err, "%s", xipfs_strerror(err));
		return;
	}
	check_xattrs(v, &in);
	if (in.flags & XIPFS_INODE_COMPRESSED)
		check_clusters(v, &in);
	if (S_ISREG(in.mode))
		v->files++;
	if (S_ISDIR(in.mode))
		v->dirs++;
	if (v->img->compat & XIPFS_COMPAT_ALIGN_HUGE &&
	    xipfs_inode_mappable(v->img, &in) && in.size >= HUGE_ALIGN &&
	    in.data % HUGE_ALIGN)
		problem(v, ino, -XIPFS_ECORRUPT,
			"file of %llu bytes at 0x%llx is not 2 MiB aligned, as ALIGN_HUGE promises",
			(unsigned long long)in.size,
			(unsigned long long)in.data);
}

/* An entry of directory dir: order, type, and the child it leads to. */
static void check_entry(struct verify *v, const struct xipfs_inode_info *dir,
			const struct xipfs_dirent_info *de, unsigned depth,
			size_t *qtail, uint32_t *subdirs)
{
	struct xipfs_inode_info child;
	char name[4 * XIPFS_NAME_MAX + 8];
	int err;

	printable(name, sizeof(name), de->name, de->name_len);
	if (v->refs[de->ino] < UINT32_MAX)
		v->refs[de->ino]++;
	if (bit_get(v->bad, de->ino) ||
	    xipfs_inode_get(v->img, de->ino, &child))
		return;		/* reported by check_inode() */
	/* the rule every reader applies; here with a message for each part */
	err = xipfs_entry_check(dir, de, &child);
	if (err == -XIPFS_ECORRUPT)
		problem(v, dir->ino, err,
			"entry '%s': type %u does not match inode %u",
			name, de->type, de->ino);
	if (!S_ISDIR(child.mode))
		return;
	(*subdirs)++;
	if (de->ino == XIPFS_ROOT_INO || bit_get(v->queued, de->ino)) {
		problem(v, dir->ino, -XIPFS_ELOOP,
			"entry '%s': directory %u reached twice (cycle or directory hard link)",
			name, de->ino);
		return;
	}
	if (err == -XIPFS_ELOOP)
		problem(v, de->ino, err,
			"parent is %u, but it is entered from directory %u",
			child.parent, dir->ino);
	bit_set(v->queued, de->ino);
	if (depth + 1 > XIPFS_DEPTH_MAX) {
		problem(v, de->ino, -XIPFS_ECORRUPT,
			"directory nested deeper than %d levels; not entered",
			XIPFS_DEPTH_MAX);
		return;
	}
	v->queue[(*qtail)++] = de->ino;
}

static void walk_dir(struct verify *v, uint32_t ino, unsigned depth,
		     size_t *qtail)
{
	struct xipfs_inode_info dir;
	struct xipfs_dirent_info de, prev = { 0 };
	char name[4 * XIPFS_NAME_MAX + 8];
	uint64_t n, i;
	uint32_t subdirs = 0;

	if (xipfs_inode_get(v->img, ino, &dir))
		return;
	n = xipfs_dir_count(&dir);
	for (i = 0; i < n && !v->stopped; i++) {
		int err = xipfs_dirent_at(v->img, &dir, i, &de);

		if (err) {
			problem(v, ino, err, "entry %llu: %s",
				(unsigned long long)i, xipfs_strerror(err));
			continue;
		}
		if (prev.name && xipfs_name_cmp(prev.name, prev.name_len,
						de.name, de.name_len) >= 0)
			problem(v, ino, -XIPFS_ECORRUPT,
				"entry '%s' out of order or duplicated",
				printable(name, sizeof(name), de.name,
					  de.name_len));
		prev = de;
		check_entry(v, &dir, &de, depth, qtail, &subdirs);
	}
	if (!v->stopped && (uint64_t)dir.nlink != 2ull + subdirs)
		problem(v, ino, -XIPFS_ECORRUPT,
			"directory nlink is %u, expected %llu", dir.nlink,
			2ull + subdirs);
}

static void walk_tree(struct verify *v)
{
	struct xipfs_inode_info root;
	size_t head = 0, tail = 0, level_end = 1;
	unsigned depth = 0;

	if (bit_get(v->bad, XIPFS_ROOT_INO))
		return;
	if (xipfs_inode_get(v->img, XIPFS_ROOT_INO, &root) ||
	    !S_ISDIR(root.mode) || root.parent != XIPFS_ROOT_INO) {
		problem(v, XIPFS_ROOT_INO, -XIPFS_ECORRUPT,
			"root is not a directory that is its own parent");
		return;
	}
	bit_set(v->queued, XIPFS_ROOT_INO);
	v->queue[tail++] = XIPFS_ROOT_INO;
	/* breadth first: depth grows by one each time a level is done */
	while (head < tail && !v->stopped) {
		if (head == level_end) {
			depth++;
			level_end = tail;
		}
		walk_dir(v, v->queue[head++], depth, &tail);
	}
}

/* Link counts and reachability, once every entry has been counted. */
static void check_links(struct verify *v)
{
	struct xipfs_inode_info in;

	for (uint32_t ino = 1; ino <= v->img->inode_count && !v->stopped;
	     ino++) {
		if (bit_get(v->bad, ino) || xipfs_inode_get(v->img, ino, &in))
			continue;
		if (ino != XIPFS_ROOT_INO && v->refs[ino] == 0)
			problem(v, ino, -XIPFS_ECORRUPT,
				"inode is not reachable from the root");
		else if (!S_ISDIR(in.mode) && in.nlink != v->refs[ino])
			problem(v, ino, -XIPFS_ECORRUPT,
				"nlink is %u, but %u entries name it",
				in.nlink, v->refs[ino]);
	}
}

/* The data CRC table against crc_table_crc; the blocks it covers are
 * the data pass's (see the top of this file). */
static void check_data_crc_table(struct verify *v)
{
	struct xipfs_data_crc_info dc;

	if (xipfs_data_crc_get(v->img, &dc) == 0 &&
	    xipfs_data_crc_check_table(v->img) == -XIPFS_ECRC)
		problem(v, 0, -XIPFS_ECRC,
			"data checksum table at 0x%llx (%llu blocks) does not match its checksum %08x",
			(unsigned long long)dc.table_offset,
			(unsigned long long)dc.blocks, dc.table_crc);
}

/* Each metadata block against its entry, after the table against its
 * CRC: one report per damaged block, by number and offset. */
static void check_meta_crc_table(struct verify *v)
{
	struct xipfs_meta_crc_info mc;

	if (xipfs_meta_crc_get(v->img, &mc))
		return;
	if (xipfs_meta_crc_check_table(v->img) == -XIPFS_ECRC) {
		problem(v, 0, -XIPFS_ECRC,
			"metadata checksum table at 0x%llx (%llu blocks) does not match its checksum %08x",
			(unsigned long long)mc.table_offset,
			(unsigned long long)mc.blocks, mc.table_crc);
		return;
	}
	for (uint64_t i = 0; i < mc.blocks && !v->stopped; i++)
		if (xipfs_meta_block_check(v->img, i) == -XIPFS_ECRC)
			problem(v, 0, -XIPFS_ECRC,
				"metadata block %llu (bytes 0x%llx-0x%llx) does not match its checksum",
				(unsigned long long)i,
				(unsigned long long)(i << v->img->block_log2),
				(unsigned long long)(((i + 1) << v->img->block_log2) - 1));
}

static void check_super(struct verify *v)
{
	const struct xipfs_image *img = v->img;
	uint32_t crc = xipfs_crc32c(0, img->base + img->meta_offset,
				    img->meta_end - img->meta_offset);

	if (crc != img->meta_crc)
		problem(v, 0, -XIPFS_ECRC,
			"metadata checksum is %08x, superblock says %08x",
			crc, img->meta_crc);
	check_data_crc_table(v);
	check_meta_crc_table(v);
	const uint8_t *label = img->base + SB_VOLUME_NAME;
	size_t len = strnlen((const char *)label, SB_VOLUME_NAME_SIZE);

	for (size_t i = len; i < SB_VOLUME_NAME_SIZE; i++) {
		if (label[i]) {
			problem(v, 0, -XIPFS_ECORRUPT,
				"volume name is not NUL-padded");
			break;
		}
	}
	if (v->files != img->file_count || v->dirs != img->dir_count)
		problem(v, 0, -XIPFS_ECORRUPT,
			"superblock counts %u files and %u directories, image holds %llu and %llu",
			img->file_count, img->dir_count,
			(unsigned long long)v->files,
			(unsigned long long)v->dirs);
}

long xipfs_verify(const struct xipfs_image *img, xipfs_report_fn report,
		  void *ctx)
{
	size_t n = (size_t)img->inode_count + 1;
	struct verify v = {
		.img = img, .report = report, .ctx = ctx,
		.bad = calloc(n / 8 + 1, 1),
	};
	long ret = -ENOMEM;

	if (img->incompat & XIPFS_INCOMPAT_COMPRESSED)
		v.ztables = calloc((img->meta_end - img->meta_offset) / 64 + 1,
				   1);
	if (!v.bad || (img->incompat & XIPFS_INCOMPAT_COMPRESSED &&
		       !v.ztables))
		goto out;
	for (uint32_t ino = 1; ino <= img->inode_count && !v.stopped; ino++)
		check_inode(&v, ino);
	if (!v.stopped) {
		v.queued = calloc(n / 8 + 1, 1);
		v.refs = calloc(n, sizeof(uint32_t));
		v.queue = malloc(n * sizeof(uint32_t));
		if (!v.queued || !v.refs || !v.queue)
			goto out;
		walk_tree(&v);
		check_links(&v);
	}
	/* a pass over all metadata says nothing new once the cap is hit */
	if (!v.stopped)
		check_super(&v);
	ret = v.problems;
out:
	free(v.bad);
	free(v.ztables);
	free(v.queued);
	free(v.refs);
	free(v.queue);
	return ret;
}
