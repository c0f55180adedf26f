/* SPDX-License-Identifier: MIT */
/*
 * xipfs-corrupt: generate damaged images from a valid one and walk each.
 *
 *   xipfs-corrupt [-q] [-o DIR] IMAGE...
 *   xipfs-corrupt              (no argument: every valid-*.img seed in
 *                               $top_srcdir/tests/check/data/fuzz-corpus)
 *
 * Every damaged image lives in a heap buffer of exactly its length and is
 * walked in this process (walk.c), so ASan/UBSan see any bad access.  Each
 * mutation is tried twice: as is (a CRC should catch it) and with super_crc
 * and meta_crc recomputed (the structural checks must catch it).
 *
 * Every field has a class:
 *   S  structural: any change makes the image invalid, so a mutated image
 *      that xipfs_verify() calls clean is a checker gap (exit 1);
 *   P  structural, but other values can form a different valid image (a
 *      file size, a name offset): listed for a person to judge;
 *   H  harmless: ownership, times, permission bits, labels;
 *   T  truncation: xipfs_image_open() must refuse it;
 *   V  a valid variant: xipfs_verify() must accept it;
 *   D  file data (stored bytes of any file): not xipfs_verify()'s to see,
 *      but with data checksums the walk's xipfs_data_crc_check() must
 *      find it (a gap if not); without them, listed as permissive.
 * A damaged image that verify accepts but on which the walker's own checks
 * or the accessors find damage is a gap too, whatever the class (data
 * damage the walk finds, a block against its CRC or a frame that does not
 * decode, is the data pass's, not a gap).
 *
 * Compressed files add their cluster tables (the header fields and the
 * ends, flipped and set to huge values, a table claiming 2^32 clusters)
 * and data checksums the superblock's crc_offset/crc_table_crc and the
 * table itself.
 *
 * With -o DIR, each truncation and targeted mutation, and a sample of the
 * bit flips (one bit per byte of the superblock and of the first objects,
 * CRC-fixed), is written to DIR/NNNN-<what>.img for shell tests.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xipfs/xipfs.h"
#include "walk.h"

/* Caps on the objects mutated, so a large image stays quick. */
#define MAX_INODES	32
#define MAX_DIRENTS	64
#define MAX_XATTRS	32
#define MAX_DIRS	32
#define WRITE_INODES	8	/* objects whose bit flips -o writes */
#define WRITE_DIRENTS	16
#define WRITE_XATTRS	8
#define MAX_ZTABLES	8
#define WRITE_ZTABLES	2
#define MAX_DATA_FILES	16

struct field {
	const char *name;
	unsigned int off, size;
	char cls;
};

/* Offsets and sizes from format.h's structs: a moved field moves here. */
#define FIELD_SIZE(st, f)	sizeof(((struct st *)0)->f)
/* offset, size: the two arguments that locate a field for set_field() */
#define AT(st, f)		offsetof(struct st, f), FIELD_SIZE(st, f)
#define FIELD(st, f, cls)	{ #f, AT(st, f), cls }
#define SB(f, cls)	FIELD(xipfs_super, f, cls)
#define IN(f, cls)	FIELD(xipfs_inode, f, cls)
#define DE(f, cls)	FIELD(xipfs_dirent, f, cls)
#define XA(f, cls)	FIELD(xipfs_xattr, f, cls)
#define ZT(f, cls)	FIELD(xipfs_ztable, f, cls)

static const struct field sb_fields[] = {
	SB(magic, 'S'),		SB(version_major, 'S'),
	SB(version_minor, 'H'),	SB(compat, 'H'),
	SB(incompat, 'S'),	SB(ro_compat, 'H'),
	SB(block_log2, 'P'),	SB(reserved0, 'S'),
	SB(image_size, 'P'),	SB(meta_offset, 'S'),
	SB(meta_size, 'P'),	SB(data_offset, 'P'),
	SB(inode_offset, 'S'),	SB(inode_count, 'S'),
	SB(root_ino, 'S'),	SB(build_time, 'H'),
	SB(build_time_nsec, 'H'), SB(super_crc, 'S'),
	SB(meta_crc, 'S'),	SB(reserved1, 'S'),
	SB(uuid, 'H'),		SB(data_bytes, 'H'),
	SB(file_count, 'S'),	SB(dir_count, 'S'),
	SB(volume_name, 'H'),	SB(crc_offset, 'S'),
	SB(crc_table_crc, 'S'),	SB(reserved3, 'S'),
	SB(meta_table_offset, 'S'), SB(meta_table_crc, 'S'),
	SB(reserved4, 'S'),	SB(reserved2, 'S'),
};

/* Inode classes depend on the type; see inode_class(). */
static const struct field inode_fields[] = {
	IN(mode, 0),		IN(flags, 0),
	IN(nlink, 'S'),		IN(uid, 'H'),
	IN(gid, 'H'),		IN(size, 0),
	IN(mtime, 'H'),		IN(mtime_nsec, 'H'),
	IN(parent, 'S'),	IN(data, 0),
	IN(xattr_offset, 'P'),	IN(xattr_size, 'P'),
	IN(reserved, 'S'),
};

static const struct field dirent_fields[] = {
	DE(ino, 'S'),		DE(name_len, 'P'),
	DE(type, 'S'),		DE(reserved, 'S'),
	DE(name_offset, 'P'),
};

/* The other algorithm, a cluster_log2 that gives the same count (a
 * one-cluster file) and a moved start of the stored bytes all obey the
 * table's rules (the frames then fail to decode: the data pass's find). */
static const struct field ztable_fields[] = {
	ZT(algorithm, 'P'),	ZT(cluster_log2, 'P'),
	ZT(reserved, 'S'),	ZT(cluster_count, 'S'),
	ZT(data, 'P'),
};

/* One end of a cluster table: other ends can still obey every rule (the
 * frames then fail to decode, which is the data pass's to find). */
static const struct field zend_field = { "end", 0, 4, 'P' };

static const struct field xattr_fields[] = {
	XA(value_len, 'S'),
	XA(name_len, 'S'),
	XA(reserved, 'S'),
};

/* Fields that passed verify after a CRC fix, by name. */
struct tally {
	char name[48];
	char cls;
	unsigned long count, changed;	/* changed: observable tree differs */
};

struct ctx {
	const uint8_t *orig;
	size_t len;
	struct xipfs_image img;
	uint64_t fingerprint;
	const char *outdir;
	int quiet;
	unsigned long written;
	/* results */
	unsigned long images, rejected_open, verify_bad, passed, noop;
	unsigned long harmless, permissive, expected_valid;
	unsigned long verify_only;	/* verify saw damage, walker did not */
	unsigned long gaps, crashes, false_pos;
	unsigned long data_caught;	/* data damage the walk's checks found */
	unsigned long by_kind[8];
	struct tally tally[256];
	size_t ntally;
};

enum {
	K_TRUNC, K_FLIP, K_HUGE, K_CYCLE, K_FEATURE, K_PACKED, K_ZTABLE,
	K_DATA, K_NKINDS
};
static const char *const kind_names[] = {
	"truncation", "bit flip", "huge/past-end value", "cycle/self-ref",
	"feature bits", "packed/compressed flag", "cluster table",
	"file data, CRC table",
};

static void tally(struct ctx *c, const char *name, char cls, int changed)
{
	size_t i;

	for (i = 0; i < c->ntally; i++)
		if (c->tally[i].cls == cls && !strcmp(c->tally[i].name, name))
			break;
	if (i == c->ntally) {
		if (c->ntally == sizeof(c->tally) / sizeof(c->tally[0]))
			return;
		snprintf(c->tally[i].name, sizeof(c->tally[i].name), "%s",
			 name);
		c->tally[i].cls = cls;
		c->ntally++;
	}
	c->tally[i].count++;
	c->tally[i].changed += changed != 0;
}

static void set_le(uint8_t *p, unsigned int size, uint64_t v)
{
	for (unsigned int i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void write_image(struct ctx *c, const uint8_t *buf, size_t len,
			const char *what)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%04lu-%s.img", c->outdir,
		 c->written++, what);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(2);
	}
}

/* Damaged file data that passed verify: the data checksums must see it. */
static void data_result(struct ctx *c, const struct walk_summary *s,
			const char *what, const char *field, int changed)
{
	if (c->img.ro_compat & XIPFS_RO_COMPAT_DATA_CRC && !s->data_damage) {
		c->gaps++;
		fprintf(stderr, "GAP %s: damaged data, but no data CRC "
			"check failed\n", what);
		tally(c, field, 'G', changed);
		return;
	}
	c->data_caught += s->data_damage != 0;
	c->permissive++;
	tally(c, field, 'D', changed);
}

/* Walk one damaged image; buf is a heap block of exactly len bytes. */
static void run(struct ctx *c, int kind, uint8_t *buf, size_t len,
		const char *what, const char *field, char cls, int fixed,
		int write)
{
	struct walk_summary s;
	int noop = len == c->len && !memcmp(buf, c->orig, len);
	int changed;

	c->images++;
	c->by_kind[kind]++;
	if (walk_image(buf, len, WALK_VERIFY, &s) < 0 ||
	    (!s.open_err && s.verify < 0)) {
		c->crashes++;
		fprintf(stderr, "FAIL %s: walk or verify could not run\n",
			what);
		return;
	}
	if (write && c->outdir && !noop)
		write_image(c, buf, len, what);
	if (s.open_err) {
		c->rejected_open++;
		if (cls == 'V' && fixed) {
			c->false_pos++;
			fprintf(stderr, "FAIL %s: valid variant refused: %s\n",
				what, xipfs_strerror(s.open_err));
		}
		return;
	}
	if (s.verify > 0) {
		c->verify_bad++;
		if (!walk_found_damage(&s))
			c->verify_only++;
		if (cls == 'V' && fixed) {
			c->false_pos++;
			fprintf(stderr, "FAIL %s: valid variant: %ld problems\n",
				what, s.verify);
		}
		return;
	}
	c->passed++;
	changed = s.fingerprint != c->fingerprint;
	if (noop) {
		c->noop++;
		return;
	}
	if (walk_found_damage(&s)) {
		c->gaps++;
		fprintf(stderr, "GAP %s: verify clean, but the walk found: %s\n",
			what, s.first_problem);
		return;
	}
	if (cls == 'D') {
		data_result(c, &s, what, field, changed);
		return;
	}
	if (!fixed || cls == 'S' || cls == 'T') {
		c->gaps++;
		fprintf(stderr, "GAP %s: %s passes verify%s\n", what, field,
			fixed ? "" : " with a stale CRC");
		tally(c, field, 'G', changed);
		return;
	}
	if (cls == 'V') {
		c->expected_valid++;
		return;
	}
	if (cls == 'H')
		c->harmless++;
	else
		c->permissive++;
	tally(c, field, cls, changed);
}

/* Both variants of a mutation: edit is applied to a fresh copy. */
struct edit {
	unsigned int off, size;	/* a field to set ... */
	uint64_t value;
	unsigned int off2, size2;	/* ... and optionally a second one */
	uint64_t value2;
	int xor_bit;		/* or: flip bit xor_bit - 1 of byte off */
};

static void mutate(struct ctx *c, int kind, const struct edit *e,
		   const char *what, const char *field, char cls, int write)
{
	uint8_t *buf = malloc(c->len);
	char name[160];

	if (!buf) {
		perror("malloc");
		exit(2);
	}
	memcpy(buf, c->orig, c->len);
	if (e->xor_bit) {
		buf[e->off] ^= (uint8_t)(1u << (e->xor_bit - 1));
	} else {
		set_le(buf + e->off, e->size, e->value);
		if (e->size2)
			set_le(buf + e->off2, e->size2, e->value2);
	}
	snprintf(name, sizeof(name), "%s-stale", what);
	run(c, kind, buf, c->len, name, field, cls, 0, write == 2);
	walk_fix_crcs(buf, c->len);
	snprintf(name, sizeof(name), "%s-crcfix", what);
	run(c, kind, buf, c->len, name, field, cls, 1, write != 0);
	free(buf);
}

static void set_field(struct ctx *c, int kind, uint64_t base,
		      unsigned int off, unsigned int size, uint64_t value,
		      const char *what, const char *field, char cls)
{
	struct edit e = { .off = (unsigned int)base + off, .size = size,
			  .value = value };

	mutate(c, kind, &e, what, field, cls, 2);
}

/* ---- truncation ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void truncations(struct ctx *c)
{
	uint64_t cuts[1024], last_fixed = 0;
	size_t n = 0;
	struct xipfs_inode_info in;

	cuts[n++] = 0;
	cuts[n++] = 3;
	cuts[n++] = 4;
	cuts[n++] = XIPFS_SUPER_SIZE - 1;
	cuts[n++] = XIPFS_SUPER_SIZE;
	cuts[n++] = c->img.meta_end;
	cuts[n++] = c->img.data_offset;
	cuts[n++] = c->len - 1;
	for (uint32_t i = 0; i <= c->img.inode_count && i <= MAX_INODES; i++)
		cuts[n++] = c->img.inode_offset + (uint64_t)i * XIPFS_INODE_SIZE;
	if (c->img.ro_compat & XIPFS_RO_COMPAT_DATA_CRC) {
		uint64_t at = xipfs_le64(c->orig + offsetof(struct xipfs_super,
							  crc_offset));

		cuts[n++] = at;
		cuts[n++] = at + 1;
	}
	for (uint32_t ino = 1; ino <= c->img.inode_count && n < 1000; ino++) {
		struct xipfs_zfile_info zf;

		if (xipfs_inode_get(&c->img, ino, &in))
			continue;
		if (S_ISDIR(in.mode)) {
			cuts[n++] = in.data;
			cuts[n++] = in.data + in.size;
		} else if (in.flags & XIPFS_INODE_COMPRESSED &&
			   !xipfs_zfile_get(&c->img, &in, &zf)) {
			cuts[n++] = zf.data + zf.stored_size / 2;
			cuts[n++] = zf.data + zf.stored_size;
		} else if (S_ISREG(in.mode) && in.size) {
			cuts[n++] = in.data + in.size / 2;
			cuts[n++] = in.data + in.size;
		}
	}
	qsort(cuts, n, sizeof(cuts[0]), cmp_u64);
	for (size_t i = 0; i < n; i++) {
		uint64_t cut = cuts[i], fixed_len;
		char what[96];
		uint8_t *buf;

		if (cut >= c->len || (i && cut == cuts[i - 1]))
			continue;
		buf = malloc(cut ? cut : 1);
		if (!buf)
			exit(2);
		memcpy(buf, c->orig, cut);
		snprintf(what, sizeof(what), "trunc-at-%llu",
			 (unsigned long long)cut);
		run(c, K_TRUNC, buf, cut, what, "length", 'T', 1, 1);
		free(buf);
		/* The same cut with image_size and the CRCs made to agree. */
		fixed_len = cut & ~(uint64_t)(c->img.block_size - 1);
		if (fixed_len < XIPFS_SUPER_SIZE || fixed_len == last_fixed)
			continue;
		last_fixed = fixed_len;
		buf = malloc(fixed_len);
		if (!buf)
			exit(2);
		memcpy(buf, c->orig, fixed_len);
		xipfs_put_le64(buf + offsetof(struct xipfs_super, image_size),
			       fixed_len);
		walk_fix_crcs(buf, fixed_len);
		snprintf(what, sizeof(what), "trunc-to-%llu-sizefix",
			 (unsigned long long)fixed_len);
		run(c, K_TRUNC, buf, fixed_len, what, "image_size(truncated)",
		    'S', 1, 1);
		free(buf);
	}
}

/* ---- bit flips ---- */

static char inode_class(const struct ctx *c, const struct xipfs_inode_info *in,
			const struct field *f, unsigned int byte, int bit)
{
	unsigned int type = in->mode & S_IFMT;

	if (f->cls)
		return f->cls;
	if (!strcmp(f->name, "mode"))	/* byte 1 bits 4..7: S_IFMT */
		return byte == 1 && bit >= 4 ? 'S' : 'H';
	/* flags byte 0 bit 0: PACKED, a valid change for a file stored in
	 * place when the image allows it; every other bit breaks a rule */
	if (!strcmp(f->name, "flags"))
		return type == S_IFREG && byte == 0 && bit == 0 &&
		       !(in->flags & XIPFS_INODE_COMPRESSED) &&
		       (c->img.incompat & XIPFS_INCOMPAT_PACKED) ? 'P' : 'S';
	/* size and data */
	if (type == S_IFREG || type == S_IFLNK)
		return 'P';
	if ((type == S_IFCHR || type == S_IFBLK) && !strcmp(f->name, "data"))
		return 'H';
	/* An empty directory's array offset points at nothing. */
	if (type == S_IFDIR && in->size == 0 && !strcmp(f->name, "data"))
		return 'P';
	return 'S';
}

/* The kind of object, for the tally: "super", "dirent", "inode(reg)". */
static void object_kind(const char *obj, const struct xipfs_inode_info *in,
			char *kind, size_t size)
{
	static const char *const types[16] = {
		[S_IFREG >> 12] = "reg", [S_IFDIR >> 12] = "dir",
		[S_IFLNK >> 12] = "lnk", [S_IFCHR >> 12] = "chr",
		[S_IFBLK >> 12] = "blk", [S_IFIFO >> 12] = "fifo",
		[S_IFSOCK >> 12] = "sock",
	};
	size_t n = strcspn(obj, "0123456789");

	if (in)
		snprintf(kind, size, "%.*s(%s)", (int)n, obj,
			 types[(in->mode & S_IFMT) >> 12] ?
				 types[(in->mode & S_IFMT) >> 12] : "?");
	else
		snprintf(kind, size, "%.*s", (int)n, obj);
}

/*
 * Feature bits one by one: incompat PACKED and COMPRESSED may be set on an
 * image that does not use them (valid), or cleared on one that does
 * (damage); ro_compat DATA_CRC goes with the superblock's crc fields, so
 * flipping it alone is damage either way.
 */
static char super_bit_class(const struct field *f, unsigned int byte, int bit)
{
	if (!strcmp(f->name, "incompat") && byte == 0 && bit <= 1)
		return 'P';
	if (!strcmp(f->name, "ro_compat") && byte == 0 && bit == 0)
		return 'S';
	return f->cls;
}

static void flip_fields(struct ctx *c, uint64_t base, const char *obj,
			const struct field *fields, size_t nfields,
			const struct xipfs_inode_info *in, int write)
{
	char kind[32];

	object_kind(obj, in, kind, sizeof(kind));
	for (size_t i = 0; i < nfields; i++) {
		const struct field *f = &fields[i];

		for (unsigned int b = 0; b < f->size; b++) {
			for (int bit = 0; bit < 8; bit++) {
				struct edit e = {
					.off = (unsigned int)(base + f->off + b),
					.xor_bit = bit + 1,
				};
				char what[128], field[48];
				char cls = in ? inode_class(c, in, f, b, bit) :
						f->cls;
				unsigned int at = f->off + b;

				if (!in)
					cls = super_bit_class(f, b, bit);
				snprintf(field, sizeof(field), "%s.%s", kind,
					 f->name);
				snprintf(what, sizeof(what),
					 "flip-%s-%s-byte%u-bit%d", obj,
					 f->name, at, bit);
				mutate(c, K_FLIP, &e, what, field, cls,
				       write && bit == (int)(at % 8));
			}
		}
	}
}

static void bit_flips(struct ctx *c)
{
	struct xipfs_inode_info in;
	unsigned int dirents = 0, xattrs = 0;
	char obj[32];

	flip_fields(c, 0, "super", sb_fields,
		    sizeof(sb_fields) / sizeof(sb_fields[0]), NULL, 1);
	for (uint32_t ino = 1; ino <= c->img.inode_count && ino <= MAX_INODES;
	     ino++) {
		if (xipfs_inode_get(&c->img, ino, &in))
			continue;
		snprintf(obj, sizeof(obj), "inode%u", ino);
		flip_fields(c, c->img.inode_offset +
				       (uint64_t)(ino - 1) * XIPFS_INODE_SIZE,
			    obj, inode_fields,
			    sizeof(inode_fields) / sizeof(inode_fields[0]), &in,
			    ino <= WRITE_INODES);
	}
	for (uint32_t ino = 1; ino <= c->img.inode_count; ino++) {
		struct xipfs_xattr_info xa;
		uint64_t pos = 0, hdr = 0;

		if (dirents >= MAX_DIRENTS && xattrs >= MAX_XATTRS)
			break;
		if (xipfs_inode_get(&c->img, ino, &in))
			continue;
		for (uint64_t i = 0; S_ISDIR(in.mode) &&
				     i < xipfs_dir_count(&in) &&
				     dirents < MAX_DIRENTS; i++) {
			snprintf(obj, sizeof(obj), "dirent%u.%llu", ino,
				 (unsigned long long)i);
			flip_fields(c, in.data + i * XIPFS_DIRENT_SIZE, obj,
				    dirent_fields,
				    sizeof(dirent_fields) /
					    sizeof(dirent_fields[0]),
				    NULL, dirents < WRITE_DIRENTS);
			dirents++;
		}
		while (xattrs < MAX_XATTRS &&
		       xipfs_xattr_next(&c->img, &in, &pos, &xa) > 0) {
			snprintf(obj, sizeof(obj), "xattr%u.%llu", ino,
				 (unsigned long long)hdr);
			flip_fields(c, in.xattr_offset + hdr, obj, xattr_fields,
				    sizeof(xattr_fields) /
					    sizeof(xattr_fields[0]),
				    NULL, xattrs < WRITE_XATTRS);
			hdr = pos;
			xattrs++;
		}
	}
}

/* ---- values pointing past the end ---- */

static void huge_values(struct ctx *c, uint64_t base, const char *obj,
			const struct xipfs_inode_info *in,
			const struct field *f, char cls)
{
	uint64_t mask = f->size == 8 ? UINT64_MAX :
					(1ull << (8 * f->size)) - 1;
	const uint64_t values[] = {
		UINT64_MAX, 1ull << 62, c->len - 1, c->len, c->len + 1,
		(uint64_t)c->img.block_size << 20, 0x80000000ull, 0,
	};
	char what[128], field[48], kind[32];

	object_kind(obj, in, kind, sizeof(kind));
	snprintf(field, sizeof(field), "%s.%s", kind, f->name);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		uint64_t v = values[i] & mask;

		/* Skip values that alias an earlier one after masking. */
		if (i && v == (values[i - 1] & mask))
			continue;
		snprintf(what, sizeof(what), "set-%s-%s-%llx", obj, f->name,
			 (unsigned long long)v);
		set_field(c, K_HUGE, base, f->off, f->size, v, what, field,
			  cls);
	}
}

static const struct field *find_field(const struct field *fields, size_t n,
				      const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(fields[i].name, name))
			return &fields[i];
	return NULL;
}

static void past_end(struct ctx *c)
{
	static const char *const sbf[] = {
		"image_size", "meta_size", "data_offset", "inode_offset",
		"inode_count",
	};
	static const char *const inf[] = {
		"size", "data", "xattr_offset", "xattr_size", "parent", "nlink",
	};
	struct xipfs_inode_info in;
	unsigned int dirents = 0, xattrs = 0;
	char obj[32];

	for (size_t i = 0; i < sizeof(sbf) / sizeof(sbf[0]); i++) {
		const struct field *f = find_field(
			sb_fields, sizeof(sb_fields) / sizeof(sb_fields[0]),
			sbf[i]);

		huge_values(c, 0, "super", NULL, f, f->cls);
	}
	for (uint32_t ino = 1; ino <= c->img.inode_count && ino <= 16; ino++) {
		uint64_t base = c->img.inode_offset +
				(uint64_t)(ino - 1) * XIPFS_INODE_SIZE;

		if (xipfs_inode_get(&c->img, ino, &in))
			continue;
		snprintf(obj, sizeof(obj), "inode%u", ino);
		for (size_t i = 0; i < sizeof(inf) / sizeof(inf[0]); i++) {
			const struct field *f = find_field(
				inode_fields,
				sizeof(inode_fields) / sizeof(inode_fields[0]),
				inf[i]);

			huge_values(c, base, obj, &in, f,
				    inode_class(c, &in, f, 0, 0));
		}
	}
	for (uint32_t ino = 1; ino <= c->img.inode_count; ino++) {
		struct xipfs_xattr_info xa;
		uint64_t pos = 0, hdr = 0;

		if (xipfs_inode_get(&c->img, ino, &in))
			continue;
		for (uint64_t i = 0; S_ISDIR(in.mode) &&
				     i < xipfs_dir_count(&in) && dirents < 32;
		     i++, dirents++) {
			snprintf(obj, sizeof(obj), "dirent%u.%llu", ino,
				 (unsigned long long)i);
			for (size_t k = 0; k < 3; k++)
				huge_values(c, in.data + i * XIPFS_DIRENT_SIZE,
					    obj, NULL, &dirent_fields[k == 2 ? 4 : k],
					    dirent_fields[k == 2 ? 4 : k].cls);
		}
		while (xattrs < 16 &&
		       xipfs_xattr_next(&c->img, &in, &pos, &xa) > 0) {
			snprintf(obj, sizeof(obj), "xattr%u.%llu", ino,
				 (unsigned long long)hdr);
			huge_values(c, in.xattr_offset + hdr, obj, NULL,
				    &xattr_fields[0], 'S');
			huge_values(c, in.xattr_offset + hdr, obj, NULL,
				    &xattr_fields[1], 'S');
			hdr = pos;
			xattrs++;
		}
	}
}

/* ---- cluster tables ---- */

#define NFIELDS(a)	(sizeof(a) / sizeof((a)[0]))

/* The ends worth damaging: the first few and the last. */
static void zends(struct ctx *c, uint32_t ino, const struct xipfs_zfile_info *zf,
		  int write)
{
	const uint32_t picks[] = { 0, 1, 2, zf->cluster_count - 1 };
	char obj[32];

	for (size_t k = 0; k < NFIELDS(picks); k++) {
		uint64_t at = zf->table_offset + XIPFS_ZTABLE_HDR_SIZE +
			      4 * (uint64_t)picks[k];

		if (picks[k] >= zf->cluster_count ||
		    (k == 3 && picks[k] <= 2))
			continue;
		snprintf(obj, sizeof(obj), "zend%u.%u", ino, picks[k]);
		flip_fields(c, at, obj, &zend_field, 1, NULL, write);
		huge_values(c, at, obj, NULL, &zend_field, 'P');
	}
}

/* Ends that break a rule whatever the rest holds: each must be found. */
static void zend_rules(struct ctx *c, const struct xipfs_inode_info *in,
		       const struct xipfs_zfile_info *zf)
{
	uint64_t ends = zf->table_offset + XIPFS_ZTABLE_HDR_SIZE;
	uint64_t last = ends + 4 * (uint64_t)(zf->cluster_count - 1);
	uint64_t inode = c->img.inode_offset +
			 (uint64_t)(in->ino - 1) * XIPFS_INODE_SIZE;
	char what[128];
	struct edit e;

	snprintf(what, sizeof(what), "zend%u-first-zero", in->ino);
	set_field(c, K_ZTABLE, ends, 0, 4, 0, what, "zend", 'S');
	snprintf(what, sizeof(what), "zend%u-last-past-size", in->ino);
	set_field(c, K_ZTABLE, last, 0, 4, in->size + 1, what, "zend", 'S');
	if (zf->cluster_count >= 2) {
		snprintf(what, sizeof(what), "zend%u-falls", in->ino);
		set_field(c, K_ZTABLE, ends, 0, 4,
			  xipfs_le32(c->orig + ends + 4) + 1, what, "zend",
			  'S');
	}
	/* a table that claims 2^32 - 1 clusters, and the most a 4 GiB - 1
	 * file can have: both refused in O(1) */
	snprintf(what, sizeof(what), "ztable%u-count-2^32", in->ino);
	set_field(c, K_ZTABLE, zf->table_offset, AT(xipfs_ztable, cluster_count),
		  UINT32_MAX, what, "ztable.cluster_count", 'S');
	e = (struct edit){
		.off = (unsigned int)(zf->table_offset +
				      offsetof(struct xipfs_ztable, cluster_count)),
		.size = 4, .value = (1ull << 32) >> XIPFS_CLUSTER_LOG2_MIN,
		.off2 = (unsigned int)(inode + offsetof(struct xipfs_inode, size)),
		.size2 = 8, .value2 = XIPFS_ZFILE_MAX,
	};
	snprintf(what, sizeof(what), "ztable%u-4GiB-file", in->ino);
	if (zf->cluster_log2 == XIPFS_CLUSTER_LOG2_MIN)
		mutate(c, K_ZTABLE, &e, what, "ztable.cluster_count", 'S', 1);
}

static void ztables(struct ctx *c)
{
	struct xipfs_inode_info in;
	struct xipfs_zfile_info zf;
	unsigned int tables = 0;
	char obj[32];

	for (uint32_t ino = 1; ino <= c->img.inode_count && tables < MAX_ZTABLES;
	     ino++) {
		if (xipfs_inode_get(&c->img, ino, &in) ||
		    !(in.flags & XIPFS_INODE_COMPRESSED) ||
		    xipfs_zfile_get(&c->img, &in, &zf))
			continue;
		tables++;
		snprintf(obj, sizeof(obj), "ztable%u", ino);
		flip_fields(c, zf.table_offset, obj, ztable_fields,
			    NFIELDS(ztable_fields), NULL,
			    tables <= WRITE_ZTABLES);
		for (size_t i = 0; i < NFIELDS(ztable_fields); i++)
			huge_values(c, zf.table_offset, obj, NULL,
				    &ztable_fields[i], ztable_fields[i].cls);
		zends(c, ino, &zf, tables <= WRITE_ZTABLES);
		zend_rules(c, &in, &zf);
	}
}

/* ---- file data and the data CRC table ---- */

static void flip_byte(struct ctx *c, uint64_t at, const char *what,
		      const char *field, char cls)
{
	struct edit e = { .off = (unsigned int)at, .xor_bit = 1 };

	mutate(c, K_DATA, &e, what, field, cls, 1);
}

static void data_flips(struct ctx *c)
{
	struct xipfs_inode_info in;
	struct xipfs_data_crc_info dc;
	unsigned int files = 0;
	uint64_t off, len;
	char what[128];

	for (uint32_t ino = 1; ino <= c->img.inode_count &&
			       files < MAX_DATA_FILES; ino++) {
		if (xipfs_inode_get(&c->img, ino, &in) || !S_ISREG(in.mode) ||
		    xipfs_file_stored_range(&c->img, &in, 0, in.size, &off,
					    &len) || len == 0)
			continue;
		files++;
		snprintf(what, sizeof(what), "data%u-first", ino);
		flip_byte(c, off, what, "data", 'D');
		snprintf(what, sizeof(what), "data%u-last", ino);
		flip_byte(c, off + len - 1, what, "data", 'D');
	}
	if (xipfs_data_crc_get(&c->img, &dc))
		return;
	for (uint64_t i = 0; i < dc.blocks; i += dc.blocks / 4 + 1) {
		snprintf(what, sizeof(what), "crc-table-entry%llu",
			 (unsigned long long)i);
		flip_byte(c, dc.table_offset + 4 * i, what, "crc-table", 'S');
	}
	/* after the table, up to the image's end: padding that no reader
	 * serves and no checksum covers, so one variant only */
	if (dc.table_offset + 4 * dc.blocks < c->len) {
		uint8_t *buf = malloc(c->len);

		if (!buf)
			exit(2);
		memcpy(buf, c->orig, c->len);
		buf[c->len - 1] ^= 1;
		run(c, K_DATA, buf, c->len, "crc-table-padding", "padding",
		    'H', 1, 1);
		free(buf);
	}
}

/* ---- cycles and self-references ---- */

static void cycles(struct ctx *c)
{
	struct xipfs_inode_info dir, child;
	struct xipfs_dirent_info de;
	unsigned int dirs = 0;
	char what[128];

	for (uint32_t ino = 1; ino <= c->img.inode_count && dirs < MAX_DIRS;
	     ino++) {
		uint64_t pbase = c->img.inode_offset +
				 (uint64_t)(ino - 1) * XIPFS_INODE_SIZE;

		if (xipfs_inode_get(&c->img, ino, &dir) || !S_ISDIR(dir.mode))
			continue;
		dirs++;
		snprintf(what, sizeof(what), "cycle-dir%u-parent-self", ino);
		set_field(c, K_CYCLE, pbase, AT(xipfs_inode, parent),
			  ino == XIPFS_ROOT_INO ? 2 : ino, what,
			  "inode.parent", 'S');
		for (uint64_t i = 0; i < xipfs_dir_count(&dir); i++) {
			uint64_t ebase = dir.data + i * XIPFS_DIRENT_SIZE;
			uint32_t targets[3] = { XIPFS_ROOT_INO, ino,
						dir.parent };
			static const char *const tnames[3] = {
				"root", "self", "grandparent"
			};

			if (xipfs_readdir(&c->img, &dir, 3 + i, &de) != 1 ||
			    xipfs_inode_get(&c->img, de.ino, &child) ||
			    !S_ISDIR(child.mode))
				continue;
			for (int t = 0; t < 3; t++) {
				if (t == 2 && ino == XIPFS_ROOT_INO)
					continue;
				snprintf(what, sizeof(what),
					 "cycle-dir%u-entry%llu-to-%s", ino,
					 (unsigned long long)i, tnames[t]);
				set_field(c, K_CYCLE, ebase, AT(xipfs_dirent, ino),
					  targets[t],
					  what, "dirent.ino", 'S');
			}
		}
	}
}

/* ---- feature bits and the packed flag ---- */

/* The COMPRESSED flag on an inode it cannot describe: damage. */
static void compressed_flag(struct ctx *c, const struct xipfs_inode_info *in,
			    uint64_t base)
{
	struct edit e = {
		.off = (unsigned int)base + offsetof(struct xipfs_inode, flags),
		.size = FIELD_SIZE(xipfs_inode, flags),
		.value = in->flags | XIPFS_INODE_COMPRESSED,
		.off2 = offsetof(struct xipfs_super, incompat),
		.size2 = FIELD_SIZE(xipfs_super, incompat),
		.value2 = c->img.incompat | XIPFS_INCOMPAT_COMPRESSED,
	};
	char what[128];

	if (in->flags & XIPFS_INODE_COMPRESSED)
		return;
	snprintf(what, sizeof(what), "compressed-flag-on-%s-%u",
		 S_ISREG(in->mode) ? "plain" : "nonfile", in->ino);
	mutate(c, K_PACKED, &e, what, "inode.flags", 'S', 1);
}

static void features(struct ctx *c)
{
	static const uint32_t bits[] = { 0x80000000u, 0x4u, 0x100u };
	struct xipfs_inode_info in;
	unsigned int files = 0;
	char what[128];

	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		snprintf(what, sizeof(what), "incompat-%x", bits[i]);
		set_field(c, K_FEATURE, 0, AT(xipfs_super, incompat),
			  c->img.incompat | bits[i],
			  what, "super.incompat", 'S');
	}
	/* like PACKED: allowed on an image that has no such inode */
	snprintf(what, sizeof(what), "incompat-compressed-unused");
	set_field(c, K_FEATURE, 0, AT(xipfs_super, incompat),
		  c->img.incompat | XIPFS_INCOMPAT_COMPRESSED, what,
		  "super.incompat", 'V');
	snprintf(what, sizeof(what), "compat-unknown");
	set_field(c, K_FEATURE, 0, AT(xipfs_super, compat),
		  c->img.compat | 0x80000000u, what,
		  "super.compat", 'V');
	snprintf(what, sizeof(what), "ro-compat-unknown");
	set_field(c, K_FEATURE, 0, AT(xipfs_super, ro_compat),
		  c->img.ro_compat | 0x80000000u,
		  what, "super.ro_compat", 'V');
	for (uint32_t ino = 1; ino <= c->img.inode_count && files < 16; ino++) {
		uint64_t base = c->img.inode_offset +
				(uint64_t)(ino - 1) * XIPFS_INODE_SIZE;
		struct edit e = {
			.off = (unsigned int)base +
			       offsetof(struct xipfs_inode, flags),
			.size = FIELD_SIZE(xipfs_inode, flags),
		};

		if (xipfs_inode_get(&c->img, ino, &in))
			continue;
		compressed_flag(c, &in, base);
		e.value = in.flags | XIPFS_INODE_PACKED;
		if (!S_ISREG(in.mode) || in.flags & XIPFS_INODE_COMPRESSED) {
			snprintf(what, sizeof(what), "packed-on-%s-%u",
				 S_ISREG(in.mode) ? "compressed" : "nonfile",
				 ino);
			e.off2 = offsetof(struct xipfs_super, incompat);
			e.size2 = FIELD_SIZE(xipfs_super, incompat);
			e.value2 = c->img.incompat | XIPFS_INCOMPAT_PACKED;
			mutate(c, K_PACKED, &e, what, "inode.flags", 'S', 1);
			continue;
		}
		files++;
		/* The flag without the incompat bit: invalid. */
		e.off2 = offsetof(struct xipfs_super, incompat);
		e.size2 = FIELD_SIZE(xipfs_super, incompat);
		e.value2 = c->img.incompat & ~XIPFS_INCOMPAT_PACKED;
		snprintf(what, sizeof(what), "packed-no-incompat-%u", ino);
		mutate(c, K_PACKED, &e, what, "inode.flags", 'S', 1);
		/* With it: a valid image (the file is just not mappable). */
		e.value2 = c->img.incompat | XIPFS_INCOMPAT_PACKED;
		snprintf(what, sizeof(what), "packed-with-incompat-%u", ino);
		mutate(c, K_PACKED, &e, what, "inode.flags", 'V', 0);
	}
}

static int corrupt_one(const char *path, const char *outdir, int quiet)
{
	static struct ctx c;
	struct walk_summary s;
	uint8_t *data;
	int status = 0;

	memset(&c, 0, sizeof(c));
	if (walk_load_file(path, &data, &c.len))
		return 2;
	c.orig = data;
	c.outdir = outdir;
	c.quiet = quiet;
	if (xipfs_image_open(&c.img, data, c.len) ||
	    c.img.image_size != c.len || walk_image(data, c.len, WALK_VERIFY,
						    &s) ||
	    s.verify != 0 || walk_found_damage(&s)) {
		fprintf(stderr, "%s: not a clean image of exactly its size\n",
			path);
		free(data);
		return 2;
	}
	c.fingerprint = s.fingerprint;
	if (outdir && mkdir(outdir, 0755) && errno != EEXIST) {
		perror(outdir);
		free(data);
		return 2;
	}

	truncations(&c);
	bit_flips(&c);
	past_end(&c);
	cycles(&c);
	features(&c);
	ztables(&c);
	data_flips(&c);

	printf("%s: %zu bytes, %u inodes, block %u\n", path, c.len,
	       c.img.inode_count, c.img.block_size);
	for (int k = 0; k < K_NKINDS; k++)
		printf("  %-22s %6lu images\n", kind_names[k], c.by_kind[k]);
	printf("  images %lu: rejected at open %lu, verify found problems "
	       "%lu, passed verify %lu\n",
	       c.images, c.rejected_open, c.verify_bad, c.passed);
	printf("  of those passing: %lu unchanged bytes, %lu valid variants, "
	       "%lu harmless fields, %lu permissive fields, %lu gaps\n",
	       c.noop, c.expected_valid, c.harmless, c.permissive, c.gaps);
	printf("  verify found damage the walker did not see: %lu\n",
	       c.verify_only);
	printf("  damaged data the data checks found: %lu\n", c.data_caught);
	if (c.outdir)
		printf("  wrote %lu images to %s\n", c.written, c.outdir);
	xipfs_image_close(&c.img);
	for (size_t i = 0; i < c.ntally; i++) {
		const struct tally *t = &c.tally[i];

		if (quiet && t->cls == 'H')
			continue;
		printf("  passed verify after change (%s): %-28s x%lu "
		       "(%lu changed what a reader sees)\n",
		       t->cls == 'H' ? "harmless" :
		       t->cls == 'P' ? "valid alternative? judge" :
		       t->cls == 'D' ? "file data: the data pass's" : "GAP",
		       t->name, t->count, t->changed);
	}
	if (c.gaps || c.crashes || c.false_pos) {
		printf("  FAIL: %lu gaps, %lu crash-class, %lu valid variants "
		       "refused\n", c.gaps, c.crashes, c.false_pos);
		status = 1;
	}
	free(data);
	return status;
}

/* No argument: every valid-*.img seed of the committed corpus. */
static int corrupt_seeds(int quiet)
{
	const char *top = getenv("top_srcdir");
	char dir[4096], path[8192];
	struct dirent **names;
	int n, status = 0, found = 0;

	snprintf(dir, sizeof(dir), "%s/tests/check/data/fuzz-corpus",
		 top ? top : ".");
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		perror(dir);
		return 2;
	}
	for (int i = 0; i < n; i++) {
		if (!strncmp(names[i]->d_name, "valid-", 6)) {
			int ret;

			snprintf(path, sizeof(path), "%s/%s", dir,
				 names[i]->d_name);
			ret = corrupt_one(path, NULL, quiet);
			if (ret > status)
				status = ret;
			found++;
		}
		free(names[i]);
	}
	free(names);
	if (!found) {
		fprintf(stderr, "%s: no valid-*.img seed\n", dir);
		return 2;
	}
	return status;
}

int main(int argc, char **argv)
{
	const char *outdir = NULL;
	int opt, quiet = 0, status = 0;

	while ((opt = getopt(argc, argv, "o:q")) != -1) {
		switch (opt) {
		case 'o':
			outdir = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			fprintf(stderr, "usage: %s [-q] [-o DIR] IMAGE...\n",
				argv[0]);
			return 2;
		}
	}
	if (optind == argc)
		return corrupt_seeds(quiet);
	for (int i = optind; i < argc; i++) {
		int ret = corrupt_one(argv[i], outdir, quiet);

		if (ret > status)
			status = ret;
	}
	return status;
}
