/* SPDX-License-Identifier: MIT */
/* The "touch everything" walker; see walk.h. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xipfs/xipfs.h"
#include "walk.h"

/* Upper bounds on work per image, whatever the image claims. */
#define WALK_MAX_STEPS		(1u << 22)	/* entries, xattrs, chunks */
#define WALK_MAX_BYTES		(256ull << 20)	/* file bytes read */
#define WALK_MAX_DEPTH		4096u
#define WALK_CHUNK		65536u
/* Decompressed bytes: a small image can claim a 4 GiB file of clusters
 * that each shrink to a few bytes, so these get a budget of their own. */
#define WALK_MAX_ZBYTES		(64ull << 20)
#define WALK_CLUSTER_MAX	(1u << XIPFS_CLUSTER_LOG2_MAX)

struct walker {
	struct xipfs_image img;
	struct walk_summary *s;
	uint64_t steps;
	uint8_t *queued;	/* bit per inode: directory queued */
	uint32_t *refs;		/* entries naming each inode */
	uint32_t *queue;	/* directories to walk, each at most once */
	unsigned int *depth;	/* depth of queue[i] */
	struct xipfs_zctx *z;	/* decompressors, for xipfs_file_read() */
	uint8_t *cluster, *copy;	/* two clusters of the largest size */
	uint64_t zbytes;	/* bytes decompressed so far */
};

static int bit_test_set(uint8_t *map, uint32_t i)
{
	int was = map[i >> 3] >> (i & 7) & 1;

	map[i >> 3] |= (uint8_t)(1u << (i & 7));
	return was;
}

/* FNV-1a, folded over whatever the walk observes. */
static void mix(struct walker *w, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t h = w->s->fingerprint;

	while (len--)
		h = (h ^ *b++) * 0x100000001b3ull;
	w->s->fingerprint = h;
}

static void mix64(struct walker *w, uint64_t v)
{
	uint8_t b[8];

	xipfs_put_le64(b, v);
	mix(w, b, sizeof(b));
}

static int step(struct walker *w)
{
	if (++w->steps > WALK_MAX_STEPS) {
		w->s->budget_exhausted = 1;
		return 0;
	}
	return 1;
}

__attribute__((format(printf, 2, 3)))
static void note(struct walker *w, const char *fmt, ...)
{
	va_list ap;

	if (w->s->first_problem[0])
		return;
	va_start(ap, fmt);
	vsnprintf(w->s->first_problem, sizeof(w->s->first_problem), fmt, ap);
	va_end(ap);
}

/* A library call reported damage (or an unexpected errno). */
static void error(struct walker *w, uint32_t ino, const char *what, int err)
{
	w->s->errors++;
	note(w, "inode %u: %s: %s", ino, what, xipfs_strerror(err));
}

/* The library accepted something the walker finds inconsistent. */
__attribute__((format(printf, 3, 4)))
static void anomaly(struct walker *w, uint32_t ino, const char *fmt, ...)
{
	char msg[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	w->s->anomalies++;
	note(w, "inode %u: %s", ino, msg);
}

/* Damage in the data itself (a block against its CRC, a frame that does
 * not decode): the data pass's to find, not xipfs_verify()'s. */
static void data_damage(struct walker *w, uint32_t ino, const char *what,
			int err)
{
	w->s->data_damage++;
	mix64(w, (uint64_t)(uint32_t)err);
	if (!w->s->first_data_damage[0])
		snprintf(w->s->first_data_damage,
			 sizeof(w->s->first_data_damage), "inode %u: %s: %s",
			 ino, what, xipfs_strerror(err));
}

static void take_bytes(struct walker *w, const uint8_t *p, size_t len)
{
	uint32_t crc = xipfs_crc32c(0, p, len);

	for (size_t i = 0; i < len; i++)
		w->s->sum += p[i];
	mix(w, &crc, sizeof(crc));
	w->s->bytes += len;
}

/*
 * xipfs_file_read() of [off, off + len) must give want[0..len); a
 * partial range of a cluster goes through the context's scratch, a whole
 * one straight into the buffer, so both paths are compared.
 */
static void read_matches(struct walker *w, const struct xipfs_inode_info *in,
			 uint64_t off, const uint8_t *want, size_t len)
{
	ssize_t n = xipfs_file_read(&w->img, in, off, w->copy, len, w->z);
	struct xipfs_file f;
	const uint8_t *out;

	if (n < 0)
		error(w, in->ino, "file_read", (int)n);
	else if ((size_t)n != len || memcmp(w->copy, want, len))
		anomaly(w, in->ino, "file_read at %llu gives other bytes",
			(unsigned long long)off);
	/* the one read entry gives the same bytes; with the data CRCs
	 * checked first it gives them or an error, never others */
	if (xipfs_file_open(&w->img, in, &f))
		return;
	for (unsigned int flags = 0; flags <= XIPFS_READ_VERIFY; flags++) {
		ssize_t np = xipfs_file_pread(&w->img, &f, off, len, flags,
					      w->z, &out);

		if (!flags && (np < 0) != (n < 0))
			anomaly(w, in->ino, "file_pread and file_read at %llu "
				"disagree", (unsigned long long)off);
		else if (np >= 0 && ((size_t)np != len ||
				     memcmp(out, want, len)))
			anomaly(w, in->ino, "file_pread at %llu gives other "
				"bytes", (unsigned long long)off);
	}
}

/* One cluster: decoded on its own, then through xipfs_file_read(). */
static void touch_cluster(struct walker *w, const struct xipfs_inode_info *in,
			  const struct xipfs_zfile_info *zf, uint32_t i)
{
	struct xipfs_cluster_info cl;
	int err = xipfs_cluster_get(&w->img, in, zf, i, &cl);

	if (err) {
		error(w, in->ino, "cluster_get", err);
		return;
	}
	mix64(w, (uint64_t)cl.stored_len << 32 | cl.length);
	w->zbytes += 3ull * cl.length;
	err = xipfs_cluster_decompress(w->z, zf, &cl, w->cluster);
	if (err) {
		data_damage(w, in->ino, "cluster_decompress", err);
		return;
	}
	take_bytes(w, w->cluster, cl.length);
	read_matches(w, in, cl.file_offset, w->cluster, cl.length);
	read_matches(w, in, cl.file_offset + cl.length / 3,
		     w->cluster + cl.length / 3, cl.length / 3);
}

/* A compressed file: every cluster, the ranges that cross or pass its
 * ends, and the calls that must refuse it. */
static void touch_zfile(struct walker *w, const struct xipfs_inode_info *in)
{
	struct xipfs_zfile_info zf;
	struct xipfs_cluster_info cl;
	uint64_t off, len;
	const uint8_t *p;
	size_t avail;
	uint32_t i;
	int err;

	if (xipfs_file_data(&w->img, in, 0, 1, &p, &avail) != -EOPNOTSUPP ||
	    xipfs_file_extent(&w->img, in, &off, &len) != -EOPNOTSUPP ||
	    xipfs_inode_mappable(&w->img, in))
		anomaly(w, in->ino, "a compressed file is served in place");
	if (xipfs_file_read(&w->img, in, 0, w->copy, 1, NULL) != -EINVAL)
		anomaly(w, in->ino, "file_read without a context");
	err = xipfs_zfile_get(&w->img, in, &zf);
	if (err) {
		error(w, in->ino, "zfile_get", err);
		return;
	}
	mix64(w, (uint64_t)zf.algorithm << 32 | zf.cluster_log2);
	for (i = 0; i < zf.cluster_count; i++) {
		if (!step(w) || w->zbytes >= WALK_MAX_ZBYTES)
			return;
		touch_cluster(w, in, &zf, i);
	}
	if (xipfs_cluster_get(&w->img, in, &zf, i, &cl) != -ERANGE)
		anomaly(w, in->ino, "cluster_get past the last cluster");
	/* a range across the last two clusters' boundary, and past the end */
	off = in->size > 2 ? in->size - 2 : 0;
	err = (int)xipfs_file_read(&w->img, in, off, w->copy, 8, w->z);
	if (err >= 0 && (uint64_t)err != in->size - off)
		anomaly(w, in->ino, "read at the end gave %d bytes", err);
	if (xipfs_file_read(&w->img, in, in->size, w->copy, 1, w->z) != 0 ||
	    xipfs_file_read(&w->img, in, UINT64_MAX, w->copy, 1, w->z) != 0)
		anomaly(w, in->ino, "read past end gave bytes");
}

/* The data CRC of every block the file's stored bytes meet. */
static void touch_data_crc(struct walker *w, const struct xipfs_inode_info *in)
{
	uint64_t off, len, bad = UINT64_MAX;
	int err = xipfs_file_stored_range(&w->img, in, 0, in->size, &off,
					  &len);

	if (err) {
		error(w, in->ino, "file_stored_range", err);
		return;
	}
	mix64(w, off);
	mix64(w, len);
	err = xipfs_data_crc_check(&w->img, off, len, &bad);
	if (err == -XIPFS_ECRC)
		data_damage(w, in->ino, "data_crc_check", err);
	else if (err)
		error(w, in->ino, "data_crc_check", err);
	if (err && bad == UINT64_MAX)
		anomaly(w, in->ino, "data_crc_check names no block");
}

static void touch_file(struct walker *w, const struct xipfs_inode_info *in)
{
	uint64_t off = 0, ext_off, ext_len;
	const uint8_t *p;
	size_t avail;
	int err;

	touch_data_crc(w, in);
	if (in->flags & XIPFS_INODE_COMPRESSED) {
		touch_zfile(w, in);
		return;
	}

	err = xipfs_file_extent(&w->img, in, &ext_off, &ext_len);
	if (err) {
		error(w, in->ino, "file_extent", err);
	} else if (ext_len && (ext_off > w->img.image_size ||
			       ext_len > w->img.image_size - ext_off)) {
		anomaly(w, in->ino, "extent [%llu,+%llu) beyond the image",
			(unsigned long long)ext_off,
			(unsigned long long)ext_len);
	}
	mix64(w, (uint64_t)xipfs_inode_mappable(&w->img, in));
	for (;;) {
		if (!step(w) || w->s->bytes >= WALK_MAX_BYTES)
			return;
		err = xipfs_file_data(&w->img, in, off, WALK_CHUNK, &p,
				      &avail);
		if (err) {
			error(w, in->ino, "file_data", err);
			return;
		}
		if (avail == 0)
			break;
		take_bytes(w, p, avail);
		/* the copying reader agrees with the pointer one */
		read_matches(w, in, off, p, avail < 4096 ? avail : 4096);
		off += avail;
	}
	if (off != in->size)
		anomaly(w, in->ino, "read %llu bytes of %llu",
			(unsigned long long)off, (unsigned long long)in->size);
	/* A read far past the end must give nothing. */
	err = xipfs_file_data(&w->img, in, UINT64_MAX, 1, &p, &avail);
	if (err || avail)
		anomaly(w, in->ino, "read past end gave %zu bytes", avail);
}

static void touch_symlink(struct walker *w, const struct xipfs_inode_info *in)
{
	const char *target;
	size_t len;
	int err = xipfs_readlink(&w->img, in, &target, &len);

	if (err) {
		error(w, in->ino, "readlink", err);
		return;
	}
	for (size_t i = 0; i < len; i++)
		w->s->sum += (uint8_t)target[i];
	mix(w, target, len);
	if (len == 0 || memchr(target, '\0', len))
		anomaly(w, in->ino, "symlink target empty or holds a NUL");
}

static void touch_xattrs(struct walker *w, const struct xipfs_inode_info *in)
{
	struct xipfs_xattr_info xa, prev = { 0 };
	uint64_t pos = 0, names = 0;
	ssize_t total;
	int ret;

	while (step(w) &&
	       (ret = xipfs_xattr_next(&w->img, in, &pos, &xa)) > 0) {
		char name[XIPFS_XATTR_NAME_MAX + 1];
		const uint8_t *value;
		size_t len;
		int err;

		w->s->xattrs++;
		names += xa.name_len + 1;
		mix(w, xa.name, xa.name_len);
		mix(w, xa.value, xa.value_len);
		for (uint32_t i = 0; i < xa.value_len; i++)
			w->s->sum += xa.value[i];
		if (prev.name && xipfs_name_cmp(prev.name, prev.name_len,
						xa.name, xa.name_len) >= 0)
			anomaly(w, in->ino, "xattr '%.*s' out of order",
				(int)xa.name_len, xa.name);
		prev = xa;
		/* name_len <= 255 and holds no NUL: xattr_next checked. */
		memcpy(name, xa.name, xa.name_len);
		name[xa.name_len] = '\0';
		err = xipfs_getxattr(&w->img, in, name, &value, &len);
		if (err)
			error(w, in->ino, "getxattr", err);
		else if (value != xa.value || len != xa.value_len)
			anomaly(w, in->ino, "getxattr '%s' finds another value",
				name);
	}
	if (w->s->budget_exhausted)
		return;
	if (ret < 0) {
		error(w, in->ino, "xattr_next", ret);
		return;
	}
	total = xipfs_listxattr(&w->img, in, NULL, 0);
	if (total < 0) {
		error(w, in->ino, "listxattr", (int)total);
	} else if ((uint64_t)total != names) {
		anomaly(w, in->ino, "listxattr size %zd, expected %llu", total,
			(unsigned long long)names);
	} else if (total > 0) {
		char *buf = malloc((size_t)total);

		if (buf) {
			if (xipfs_listxattr(&w->img, in, buf, (size_t)total) !=
			    total)
				anomaly(w, in->ino, "listxattr into buffer");
			if (xipfs_listxattr(&w->img, in, buf,
					    (size_t)total - 1) != -ERANGE &&
			    total > 1)
				anomaly(w, in->ino, "listxattr short buffer");
			mix(w, buf, (size_t)total);
			free(buf);
		}
	}
}

/* Every accessor on one inode of the table, reachable or not. */
static void touch_inode(struct walker *w, uint32_t ino)
{
	struct xipfs_inode_info in;
	int err = xipfs_inode_get(&w->img, ino, &in);

	if (err) {
		error(w, ino, "inode_get", err);
		return;
	}
	w->s->inodes++;
	mix64(w, ino);
	mix64(w, in.mode);
	mix64(w, in.uid);
	mix64(w, (uint64_t)in.gid << 32 | in.nlink);
	mix64(w, (uint64_t)in.mtime);
	mix64(w, in.mtime_nsec);
	mix64(w, S_ISDIR(in.mode) ? 0 : in.size);
	switch (in.mode & S_IFMT) {
	case S_IFREG:
		w->s->files++;
		touch_file(w, &in);
		break;
	case S_IFDIR:
		w->s->dirs++;
		break;
	case S_IFLNK:
		w->s->symlinks++;
		touch_symlink(w, &in);
		break;
	case S_IFCHR:
	case S_IFBLK:
		w->s->devices++;
		mix64(w, in.rdev_major);
		mix64(w, in.rdev_minor);
		break;
	default:
		w->s->others++;
		break;
	}
	if (!S_ISREG(in.mode)) {
		const uint8_t *p;
		size_t avail;

		if (xipfs_file_data(&w->img, &in, 0, 1, &p, &avail) == 0)
			anomaly(w, ino, "file_data on a non-file succeeded");
	}
	touch_xattrs(w, &in);
}

/* One directory: readdir through every cookie, lookup of every name. */
static void walk_dir(struct walker *w, uint32_t ino, unsigned int depth,
		     size_t *tail)
{
	struct xipfs_inode_info dir, child;
	struct xipfs_dirent_info de, prev = { 0 };
	uint64_t cookie = 0, subdirs = 0, index = 0;
	uint32_t found;
	int ret, err;

	if (depth > w->s->max_depth)
		w->s->max_depth = depth;
	err = xipfs_inode_get(&w->img, ino, &dir);
	if (err)
		return;		/* counted by touch_inode() */
	while (step(w) &&
	       (ret = xipfs_readdir(&w->img, &dir, cookie, &de)) > 0) {
		if (de.cookie <= cookie) {
			anomaly(w, ino, "readdir cookie does not advance");
			return;
		}
		cookie = de.cookie;
		if (index++ < 2) {
			uint32_t want = index == 1 ? ino : dir.parent;

			if (de.ino != want || de.type != DT_DIR)
				anomaly(w, ino, "readdir dot entry %llu",
					(unsigned long long)index);
			continue;
		}
		w->s->entries++;
		mix(w, de.name, de.name_len);
		mix64(w, de.ino);
		if (prev.name && xipfs_name_cmp(prev.name, prev.name_len,
						de.name, de.name_len) >= 0)
			anomaly(w, ino, "entry '%.*s' out of order",
				(int)de.name_len, de.name);
		prev = de;
		err = xipfs_lookup(&w->img, &dir, de.name, de.name_len,
				   &found);
		if (err)
			error(w, ino, "lookup", err);
		else if (found != de.ino)
			anomaly(w, ino, "lookup '%.*s' gives %u, readdir %u",
				(int)de.name_len, de.name, found, de.ino);
		if (w->refs[de.ino] < UINT32_MAX)
			w->refs[de.ino]++;
		err = xipfs_inode_get(&w->img, de.ino, &child);
		if (err)
			continue;	/* counted by touch_inode() */
		if (de.type != (uint32_t)IFTODT(child.mode))
			anomaly(w, ino, "entry '%.*s' type %u, inode %o",
				(int)de.name_len, de.name, de.type,
				child.mode);
		if (!S_ISDIR(child.mode))
			continue;
		subdirs++;
		if (de.ino == XIPFS_ROOT_INO ||
		    bit_test_set(w->queued, de.ino)) {
			anomaly(w, ino, "directory %u reached twice", de.ino);
			continue;
		}
		if (child.parent != ino)
			anomaly(w, de.ino, "parent %u, entered from %u",
				child.parent, ino);
		if (depth + 1 > WALK_MAX_DEPTH) {
			/* Legal but absurd: stop descending, skip link checks. */
			w->s->budget_exhausted = 1;
			continue;
		}
		w->depth[*tail] = depth + 1;
		w->queue[(*tail)++] = de.ino;
	}
	if (w->s->budget_exhausted)
		return;
	if (ret < 0)
		error(w, ino, "readdir", ret);
	if (index < 2)
		anomaly(w, ino, "readdir gave no dot entries");
	if (dir.nlink != 2 + subdirs)
		anomaly(w, ino, "dir nlink %u, %llu subdirectories", dir.nlink,
			(unsigned long long)subdirs);
	/* "." and "..", and misses around the first name. */
	if (xipfs_lookup(&w->img, &dir, ".", 1, &found) || found != ino)
		anomaly(w, ino, "lookup '.'");
	if (xipfs_lookup(&w->img, &dir, "..", 2, &found) ||
	    found != dir.parent)
		anomaly(w, ino, "lookup '..'");
	err = xipfs_lookup(&w->img, &dir, "", 0, &found);
	if (err != -ENOENT && !xipfs_is_corruption(err))
		anomaly(w, ino, "lookup of the empty name gives %d", err);
}

static void walk_tree(struct walker *w)
{
	struct xipfs_inode_info root;
	size_t head = 0, tail = 0;

	if (xipfs_inode_get(&w->img, XIPFS_ROOT_INO, &root))
		return;
	if (!S_ISDIR(root.mode) || root.parent != XIPFS_ROOT_INO) {
		anomaly(w, XIPFS_ROOT_INO, "root is not its own parent dir");
		if (!S_ISDIR(root.mode))
			return;
	}
	bit_test_set(w->queued, XIPFS_ROOT_INO);
	w->depth[tail] = 0;
	w->queue[tail++] = XIPFS_ROOT_INO;
	while (head < tail && !w->s->budget_exhausted) {
		walk_dir(w, w->queue[head], w->depth[head], &tail);
		head++;
	}
}

static void check_links(struct walker *w)
{
	struct xipfs_inode_info in;
	uint64_t files = 0, dirs = 0;

	for (uint32_t ino = 1; ino <= w->img.inode_count; ino++) {
		if (xipfs_inode_get(&w->img, ino, &in))
			continue;
		files += S_ISREG(in.mode) != 0;
		dirs += S_ISDIR(in.mode) != 0;
		if (ino != XIPFS_ROOT_INO && w->refs[ino] == 0)
			anomaly(w, ino, "not reachable from the root");
		else if (!S_ISDIR(in.mode) && in.nlink != w->refs[ino])
			anomaly(w, ino, "nlink %u, %u entries", in.nlink,
				w->refs[ino]);
	}
	if (files != w->img.file_count || dirs != w->img.dir_count)
		anomaly(w, 0, "superblock file/dir counts");
}

/* The data CRC table and the calls around it, once per image. */
static void touch_data_crc_table(struct walker *w)
{
	struct xipfs_data_crc_info dc;
	int err = xipfs_data_crc_get(&w->img, &dc);

	if (err == -ENODATA) {
		if (xipfs_data_block_check(&w->img, 0) != -ENODATA ||
		    xipfs_data_crc_check_table(&w->img) != -ENODATA)
			anomaly(w, 0, "data CRC calls without the feature");
		return;
	}
	mix64(w, dc.table_offset);
	mix64(w, dc.blocks);
	if (xipfs_data_crc_check_table(&w->img))
		error(w, 0, "data CRC table", -XIPFS_ECRC);
	if (xipfs_data_block_check(&w->img, dc.blocks) != -ERANGE)
		anomaly(w, 0, "data_block_check past the table");
	if (dc.blocks && xipfs_data_crc_check(&w->img, dc.table_offset, 1,
					      NULL) != -XIPFS_EBOUNDS)
		anomaly(w, 0, "data_crc_check of the table itself");
}

/* The metadata CRC table again from the (damaged) blocks, where the
 * superblock's fields for it fit in len. */
static void fix_meta_table(uint8_t *buf, size_t len)
{
	static const uint8_t zero[XIPFS_SUPER_SIZE];
	uint64_t at = xipfs_le64(buf + offsetof(struct xipfs_super,
					      meta_table_offset));
	uint64_t data = xipfs_le64(buf + offsetof(struct xipfs_super,
						data_offset));
	unsigned int log2 = buf[offsetof(struct xipfs_super, block_log2)];
	uint64_t bs, blocks;

	if (!(xipfs_le32(buf + offsetof(struct xipfs_super, ro_compat)) &
	      XIPFS_RO_COMPAT_META_CRC) || log2 < XIPFS_BLOCK_LOG2_MIN ||
	    log2 > XIPFS_BLOCK_LOG2_MAX)
		return;
	bs = 1u << log2;
	blocks = data >> log2;
	if (data > len || at > len || 4 * blocks > len - at)
		return;
	for (uint64_t i = 0; i < blocks; i++) {
		uint32_t crc = i ? 0 : xipfs_crc32c(0, zero, sizeof(zero));
		size_t skip = i ? 0 : XIPFS_SUPER_SIZE;

		crc = xipfs_crc32c(crc, buf + i * bs + skip, bs - skip);
		xipfs_put_le32(buf + at + 4 * i, crc);
	}
	xipfs_put_le32(buf + offsetof(struct xipfs_super, meta_table_crc),
		       xipfs_crc32c(0, buf + at, 4 * blocks));
}

void walk_fix_crcs(uint8_t *buf, size_t len)
{
	uint64_t meta_size;

	if (len < XIPFS_SUPER_SIZE)
		return;
	fix_meta_table(buf, len);
	meta_size = xipfs_le64(buf + offsetof(struct xipfs_super, meta_size));
	if (meta_size <= len - XIPFS_SUPER_SIZE)
		xipfs_put_le32(buf + offsetof(struct xipfs_super, meta_crc),
			       xipfs_crc32c(0, buf + XIPFS_SUPER_SIZE,
					    (size_t)meta_size));
	xipfs_put_le32(buf + offsetof(struct xipfs_super, super_crc),
		       xipfs_super_crc(buf));
}

int walk_image(const void *data, size_t len, unsigned int flags,
	       struct walk_summary *out)
{
	struct walker w = { .s = out };
	struct xipfs_statfs_info st;
	size_t n;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->verify = -1;
	out->fingerprint = 0xcbf29ce484222325ull;
	out->open_err = xipfs_image_open(&w.img, data, len);
	if (out->open_err)
		return 0;
	if (flags & WALK_VERIFY)
		out->verify = xipfs_verify(&w.img, NULL, NULL);
	if (xipfs_check_meta_crc(&w.img))
		anomaly(&w, 0, "metadata checksum");
	touch_data_crc_table(&w);
	xipfs_statfs(&w.img, &st);
	if (st.block_size != w.img.block_size || st.files != w.img.inode_count ||
	    st.blocks * st.block_size != w.img.image_size)
		anomaly(&w, 0, "statfs figures");

	/* The table bounds inode_count by len / 64, so these fit. */
	n = (size_t)w.img.inode_count + 1;
	w.queued = calloc(n / 8 + 1, 1);
	w.refs = calloc(n, sizeof(*w.refs));
	w.queue = calloc(n, sizeof(*w.queue));
	w.depth = calloc(n, sizeof(*w.depth));
	w.z = xipfs_zctx_new();
	w.cluster = malloc(WALK_CLUSTER_MAX);
	w.copy = malloc(WALK_CLUSTER_MAX);
	if (!w.queued || !w.refs || !w.queue || !w.depth || !w.z ||
	    !w.cluster || !w.copy) {
		ret = -ENOMEM;
		goto out;
	}
	for (uint32_t ino = 1; ino <= w.img.inode_count; ino++) {
		if (!step(&w))
			break;
		touch_inode(&w, ino);
	}
	{
		/* Past the table: a clean -ENOENT, never a read. */
		struct xipfs_inode_info in;

		if (xipfs_inode_get(&w.img, 0, &in) != -ENOENT ||
		    (w.img.inode_count < UINT32_MAX &&
		     xipfs_inode_get(&w.img, w.img.inode_count + 1, &in) !=
			     -ENOENT))
			anomaly(&w, 0, "inode_get outside the table");
	}
	walk_tree(&w);
	if (!out->budget_exhausted)
		check_links(&w);
out:
	xipfs_image_close(&w.img);
	free(w.queued);
	free(w.refs);
	free(w.queue);
	free(w.depth);
	xipfs_zctx_free(w.z);
	free(w.cluster);
	free(w.copy);
	return ret;
}

int walk_load_file(const char *path, uint8_t **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long size;

	if (!f || fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		perror(path);
		if (f)
			fclose(f);
		return -1;
	}
	*len = (size_t)size;
	*data = malloc(*len ? *len : 1);
	if (!*data || fread(*data, 1, *len, f) != *len) {
		perror(path);
		fclose(f);
		free(*data);
		return -1;
	}
	fclose(f);
	return 0;
}
