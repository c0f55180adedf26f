/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of libxipfs on a small image built in memory.
 *
 * The image (block size 4096, three blocks):
 *   /            dir   ino 1
 *   /b-dev       chr   ino 5   4:64
 *   /d           dir   ino 2
 *   /d/inner     file  ino 7   empty
 *   /file        file  ino 3   5000 bytes at 4096, three xattrs, nlink 2
 *   /hard        file  ino 3   (hard link)
 *   /link        lnk   ino 4   -> "file"
 *   /zz-fifo     fifo  ino 6
 *
 * With `--write FILE` the program only writes that image to FILE, with
 * `--write-packed FILE` the same tree with /file packed at an unaligned
 * offset, and with `--write-zfile FILE` the image of compressed files and
 * data checksums of test_compressed() (seed images for the fuzz corpus).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lz4.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <zstd.h>

#include "xipfs/xipfs.h"
#include "../test.h"

#define BLK		4096u
#define IMG_SIZE	(3 * BLK)
#define NINODES		7
#define FILE_SIZE	5000u
#define INODE_TABLE	XIPFS_SUPER_SIZE

/* Field offsets from format.h's structs, never numbers: a field that moves
 * there moves here, or the build fails. */
#define SB(f)	offsetof(struct xipfs_super, f)
#define IN(f)	offsetof(struct xipfs_inode, f)
#define DE(f)	offsetof(struct xipfs_dirent, f)
#define XA(f)	offsetof(struct xipfs_xattr, f)

/* Where the builder put things, for targeted corruption. */
struct layout {
	uint64_t meta_end;
	uint64_t root_dirents, d_dirents;	/* entry arrays */
	uint64_t xattrs;			/* ino 3's xattr block */
};

static uint8_t *inode_at(uint8_t *img, uint32_t ino)
{
	return img + INODE_TABLE + (ino - 1) * XIPFS_INODE_SIZE;
}

static void put_inode(uint8_t *img, uint32_t ino, uint16_t mode,
		      uint32_t nlink, uint64_t size, uint32_t parent,
		      uint64_t data)
{
	const struct xipfs_inode_info in = {
		.mode = mode, .nlink = nlink, .uid = 1000, .gid = 100,
		.size = size, .mtime = 1700000000, .mtime_nsec = 123456789,
		.parent = parent, .data = data,
	};

	CHECK_EQ(xipfs_encode_inode(inode_at(img, ino), &in), 0);
}

/* Append bytes to the metadata region at *cur (8-aligned when asked). */
static uint64_t put_meta(uint8_t *img, uint64_t *cur, const void *p,
			 size_t len, int align8)
{
	uint64_t at;

	if (align8)
		*cur = (*cur + 7) & ~7ull;
	at = *cur;
	memcpy(img + at, p, len);
	*cur += len;
	return at;
}

struct ent {
	const char *name;
	uint32_t ino;
	uint8_t type;
};

/* Names first, then the 8-aligned array; returns the array's offset. */
static uint64_t put_dir(uint8_t *img, uint64_t *cur, const struct ent *e,
			size_t n)
{
	uint8_t arr[XIPFS_DIRENT_SIZE * 8] = { 0 };

	for (size_t i = 0; i < n; i++) {
		const struct xipfs_dirent_info de = {
			.ino = e[i].ino, .type = e[i].type,
			.name_len = (uint32_t)strlen(e[i].name),
		};
		uint64_t off = put_meta(img, cur, e[i].name, de.name_len, 0);

		CHECK_EQ(xipfs_encode_dirent(arr + XIPFS_DIRENT_SIZE * i, &de,
					     off), 0);
	}
	return put_meta(img, cur, arr, XIPFS_DIRENT_SIZE * n, 1);
}

static void put_xattr(uint8_t *img, uint64_t *cur, const char *name,
		      const void *value, uint32_t value_len)
{
	const struct xipfs_xattr_info xa = {
		.name = name, .name_len = (uint32_t)strlen(name),
		.value = value, .value_len = value_len,
	};

	CHECK_EQ(xipfs_encode_xattr(img + *cur, &xa), 0);
	*cur += XIPFS_XATTR_HDR_SIZE + xa.name_len + value_len;
}

static const uint8_t cap_value[20] = { 0x01, 0x00, 0x00, 0x02, 0x00, 0x20 };

/* Recompute meta_crc and super_crc after an edit. */
static void fix_crcs(uint8_t *img)
{
	uint64_t meta_size = xipfs_le64(img + SB(meta_size));

	if (meta_size <= IMG_SIZE - XIPFS_SUPER_SIZE)
		xipfs_put_le32(img + SB(meta_crc),
			       xipfs_crc32c(0, img + XIPFS_SUPER_SIZE,
					    (size_t)meta_size));
	xipfs_put_le32(img + SB(super_crc), xipfs_super_crc(img));
}

/* The superblock, meta_crc over [XIPFS_SUPER_SIZE, meta_end) first. */
static void put_super(uint8_t *img, uint64_t meta_end)
{
	struct xipfs_image sb = {
		.version_major = XIPFS_VERSION_MAJOR, .block_log2 = 12,
		.image_size = IMG_SIZE, .meta_offset = XIPFS_SUPER_SIZE,
		.meta_end = meta_end, .data_offset = BLK,
		.inode_offset = INODE_TABLE, .inode_count = NINODES,
		.build_time = 1700000000, .data_bytes = FILE_SIZE,
		.file_count = 2, .dir_count = 2, .volume_name = "unit",
		.meta_crc = xipfs_crc32c(0, img + XIPFS_SUPER_SIZE,
					 (size_t)(meta_end - XIPFS_SUPER_SIZE)),
	};

	memcpy(sb.uuid, "0123456789abcdef", 16);
	CHECK_EQ(xipfs_encode_super(img, &sb), 0);
}

static void build_image(uint8_t *img, struct layout *lo)
{
	static const struct ent root[] = {
		{ "b-dev", 5, DT_CHR }, { "d", 2, DT_DIR },
		{ "file", 3, DT_REG },	{ "hard", 3, DT_REG },
		{ "link", 4, DT_LNK },	{ "zz-fifo", 6, DT_FIFO },
	};
	static const struct ent d[] = { { "inner", 7, DT_REG } };
	uint64_t cur = INODE_TABLE + NINODES * XIPFS_INODE_SIZE, xstart;
	uint64_t target;

	memset(img, 0, IMG_SIZE);
	lo->root_dirents = put_dir(img, &cur, root, 6);
	lo->d_dirents = put_dir(img, &cur, d, 1);
	target = put_meta(img, &cur, "file", 4, 0);
	xstart = cur;
	put_xattr(img, &cur, "security.capability", cap_value,
		  sizeof(cap_value));
	put_xattr(img, &cur, "user.a", "x", 1);
	put_xattr(img, &cur, "user.empty", "", 0);
	lo->xattrs = xstart;
	lo->meta_end = cur;

	put_inode(img, 1, S_IFDIR | 0755, 3, 6 * 16, 1, lo->root_dirents);
	put_inode(img, 2, S_IFDIR | 0700, 2, 16, 1, lo->d_dirents);
	put_inode(img, 3, S_IFREG | 0644, 2, FILE_SIZE, 0, BLK);
	xipfs_put_le64(inode_at(img, 3) + IN(xattr_offset), xstart);
	xipfs_put_le32(inode_at(img, 3) + IN(xattr_size),
		       (uint32_t)(cur - xstart));
	put_inode(img, 4, S_IFLNK | 0777, 1, 4, 0, target);
	put_inode(img, 5, S_IFCHR | 0600, 1, 0, 0, 4ull << 32 | 64);
	put_inode(img, 6, S_IFIFO | 0644, 1, 0, 0, 0);
	put_inode(img, 7, S_IFREG | 0644, 1, 0, 0, 0);
	for (uint32_t i = 0; i < FILE_SIZE; i++)
		img[BLK + i] = (uint8_t)(i * 7 + 1);

	put_super(img, cur);
}

/* Over 2 GiB in one call: ISA-L takes an int length, so xipfs_crc32c
 * feeds it in pieces; the result must equal two calls of under 2 GiB.
 * Zero pages of an anonymous mapping cost no memory. */
static void test_crc_huge(void)
{
	size_t half = (size_t)1 << 30, len = ((size_t)2 << 30) + 4097;
	uint8_t *p = mmap(NULL, len, PROT_READ,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	TEST_SECTION("crc32c: one call over 2 GiB equals two under it");
	CHECK(p != MAP_FAILED);
	if (p == MAP_FAILED)
		return;
	CHECK_EQ(xipfs_crc32c(0, p, len),
		 xipfs_crc32c(xipfs_crc32c(0, p, half), p + half, len - half));
	munmap(p, len);
}

static void test_crc(void)
{
	static const char v[] = "123456789";
	uint8_t big[1000];
	uint32_t whole;

	TEST_SECTION("crc32c: known vector, chaining, empty input");
	CHECK_EQ(xipfs_crc32c(0, v, 9), 0xe3069283u);
	CHECK_EQ(xipfs_crc32c(xipfs_crc32c(0, v, 4), v + 4, 5), 0xe3069283u);
	CHECK_EQ(xipfs_crc32c(0, "", 0), 0);
	CHECK_EQ(xipfs_crc32c(0x12345678u, v, 0), 0x12345678u);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 131 + 7);
	whole = xipfs_crc32c(0, big, sizeof(big));
	for (size_t split = 0; split <= sizeof(big); split += 37) {
		uint32_t c = xipfs_crc32c(0, big, split);

		CHECK_EQ(xipfs_crc32c(c, big + split, sizeof(big) - split),
			 whole);
	}
	/* Unaligned start and odd lengths take every code path. */
	CHECK_EQ(xipfs_crc32c(xipfs_crc32c(0, big, 3), big + 3, 997), whole);
	/* 32 zero bytes: a published CRC32C test vector (RFC 3720). */
	memset(big, 0, 32);
	CHECK_EQ(xipfs_crc32c(0, big, 32), 0x8a9136aau);
	memset(big, 0xff, 32);
	CHECK_EQ(xipfs_crc32c(0, big, 32), 0x62a8ab43u);
	test_crc_huge();
}

static void test_le(void)
{
	uint8_t b[16] = { 0 };

	TEST_SECTION("little-endian encode/decode, unaligned");
	xipfs_put_le16(b + 1, 0xa1b2);
	CHECK(b[1] == 0xb2 && b[2] == 0xa1);
	CHECK_EQ(xipfs_le16(b + 1), 0xa1b2);
	xipfs_put_le32(b + 3, 0x01020304u);
	CHECK(b[3] == 4 && b[4] == 3 && b[5] == 2 && b[6] == 1);
	CHECK_EQ(xipfs_le32(b + 3), 0x01020304u);
	xipfs_put_le64(b + 5, 0x8877665544332211ull);
	CHECK(b[5] == 0x11 && b[12] == 0x88);
	CHECK(xipfs_le64(b + 5) == 0x8877665544332211ull);
	xipfs_put_le32(b, 0xffffffffu);
	CHECK(xipfs_le32(b) == 0xffffffffu);
}

/* Open a copy of the good image after edit(copy) and fix_crcs as asked. */
static int open_edited(const uint8_t *good, uint64_t len,
		       void (*edit)(uint8_t *), int fix)
{
	static uint8_t copy[IMG_SIZE];
	struct xipfs_image img;

	memcpy(copy, good, IMG_SIZE);
	edit(copy);
	if (fix)
		fix_crcs(copy);
	return xipfs_image_open(&img, copy, len);
}

static void e_magic(uint8_t *p) { p[SB(magic)] ^= 1; }
static void e_version(uint8_t *p) { xipfs_put_le16(p + SB(version_major), 2); }
static void e_minor(uint8_t *p) { xipfs_put_le16(p + SB(version_minor), 77); }
static void e_incompat(uint8_t *p) { xipfs_put_le32(p + SB(incompat), 0x80000000u); }
static void e_compat(uint8_t *p) { xipfs_put_le32(p + SB(compat), 0x80000000u); }
static void e_rocompat(uint8_t *p) { xipfs_put_le32(p + SB(ro_compat), 0x40u); }
static void e_uuid(uint8_t *p) { p[SB(uuid) + 4] ^= 0x55; }
static void e_log2_small(uint8_t *p) { p[SB(block_log2)] = 11; }
static void e_log2_big(uint8_t *p) { p[SB(block_log2)] = 17; }
static void e_log2_huge(uint8_t *p) { p[SB(block_log2)] = 255; }
static void e_size_odd(uint8_t *p) { xipfs_put_le64(p + SB(image_size), IMG_SIZE - 1); }
static void e_size_big(uint8_t *p) { xipfs_put_le64(p + SB(image_size), IMG_SIZE + BLK); }
static void e_size_max(uint8_t *p) { xipfs_put_le64(p + SB(image_size), ~0ull << 12); }
static void e_meta_off(uint8_t *p) { xipfs_put_le64(p + SB(meta_offset), 512); }
static void e_meta_size(uint8_t *p) { xipfs_put_le64(p + SB(meta_size), ~0ull); }
static void e_meta_past(uint8_t *p) { xipfs_put_le64(p + SB(meta_size), BLK); }
static void e_data_off(uint8_t *p) { xipfs_put_le64(p + SB(data_offset), 4 * BLK); }
static void e_data_odd(uint8_t *p) { xipfs_put_le64(p + SB(data_offset), BLK + 8); }
static void e_inode_off(uint8_t *p) { xipfs_put_le64(p + SB(inode_offset), 260); }
static void e_inode_past(uint8_t *p) { xipfs_put_le64(p + SB(inode_offset), ~0ull << 3); }
static void e_count0(uint8_t *p) { xipfs_put_le32(p + SB(inode_count), 0); }
static void e_count_big(uint8_t *p) { xipfs_put_le32(p + SB(inode_count), ~0u); }
static void e_root(uint8_t *p) { xipfs_put_le32(p + SB(root_ino), 2); }
static void e_nsec(uint8_t *p) { xipfs_put_le32(p + SB(build_time_nsec), 1000000000u); }
static void e_reserved0(uint8_t *p) { p[SB(reserved0)] = 1; }
static void e_reserved2(uint8_t *p) { p[XIPFS_SUPER_SIZE - 1] = 1; }
static void e_none(uint8_t *p) { (void)p; }

static void test_open(const uint8_t *good)
{
	struct xipfs_image img;
	int err;

	TEST_SECTION("xipfs_image_open: good image and every error code");
	err = xipfs_image_open(&img, good, IMG_SIZE);
	CHECK_EQ(err, 0);
	CHECK_EQ(img.block_size, BLK);
	CHECK_EQ(img.block_log2, 12);
	CHECK_EQ(img.image_size, IMG_SIZE);
	CHECK_EQ(img.inode_count, NINODES);
	CHECK_EQ(img.data_offset, BLK);
	CHECK_EQ(img.meta_offset, XIPFS_SUPER_SIZE);
	CHECK_EQ(img.file_count, 2);
	CHECK_EQ(img.dir_count, 2);
	CHECK(strcmp(img.volume_name, "unit") == 0);
	CHECK(memcmp(img.uuid, "0123456789abcdef", 16) == 0);
	CHECK(img.base == good);
	/* A longer window (a device) is fine. */
	{
		static uint8_t bigger[IMG_SIZE + BLK];

		memcpy(bigger, good, IMG_SIZE);
		CHECK_EQ(xipfs_image_open(&img, bigger, sizeof(bigger)), 0);
		CHECK_EQ(img.length, sizeof(bigger));
	}

	CHECK_EQ(xipfs_image_open(&img, good, 0), -XIPFS_EMAGIC);
	/* the start of the magic, cut short: truncated, not "not an image" */
	CHECK_EQ(xipfs_image_open(&img, good, 3), -XIPFS_ETRUNC);
	CHECK_EQ(xipfs_image_open(&img, "XIQ", 3), -XIPFS_EMAGIC);
	CHECK_EQ(xipfs_image_open(&img, good, 4), -XIPFS_ETRUNC);
	CHECK_EQ(xipfs_image_open(&img, good, 255), -XIPFS_ETRUNC);
	CHECK_EQ(xipfs_image_open(&img, good, 256), -XIPFS_ETRUNC);
	CHECK_EQ(xipfs_image_open(&img, good, IMG_SIZE - 1), -XIPFS_ETRUNC);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_none, 0), 0);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_magic, 1), -XIPFS_EMAGIC);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_version, 1), -XIPFS_EVERSION);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_minor, 1), 0);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_incompat, 1), -XIPFS_EFEATURE);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_compat, 1), 0);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_rocompat, 1), 0);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_uuid, 0), -XIPFS_ECRC);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_uuid, 1), 0);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_incompat, 0), -XIPFS_ECRC);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_log2_small, 1),
		 -XIPFS_ECORRUPT);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_log2_big, 1), -XIPFS_ECORRUPT);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_log2_huge, 1),
		 -XIPFS_ECORRUPT);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_size_odd, 1), -XIPFS_ECORRUPT);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_size_big, 1), -XIPFS_ETRUNC);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_size_max, 1), -XIPFS_ETRUNC);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_meta_off, 1), -XIPFS_EBOUNDS);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_meta_size, 1), -XIPFS_EBOUNDS);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_meta_past, 1), -XIPFS_EBOUNDS);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_data_off, 1), -XIPFS_EBOUNDS);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_data_odd, 1), -XIPFS_EBOUNDS);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_inode_off, 1),
		 -XIPFS_ECORRUPT);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_inode_past, 1),
		 -XIPFS_EBOUNDS);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_count0, 1), -XIPFS_ECORRUPT);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_count_big, 1), -XIPFS_EBOUNDS);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_root, 1), -XIPFS_ECORRUPT);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_nsec, 1), -XIPFS_ECORRUPT);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_reserved0, 1),
		 -XIPFS_ECORRUPT);
	CHECK_EQ(open_edited(good, IMG_SIZE, e_reserved2, 1),
		 -XIPFS_ECORRUPT);

	for (int e = XIPFS_EBASE + 1; e < XIPFS_ELAST; e++) {
		CHECK(xipfs_is_corruption(-e));
		CHECK(strlen(xipfs_strerror(-e)) > 0);
	}
	CHECK(!xipfs_is_corruption(-ENOENT));
	CHECK(!xipfs_is_corruption(0));
	CHECK(!xipfs_is_corruption(-XIPFS_ELAST));
	CHECK(!xipfs_is_corruption(-XIPFS_EBASE));
}

static void test_inodes(const struct xipfs_image *img)
{
	struct xipfs_inode_info in;

	TEST_SECTION("xipfs_inode_get: every type, out of range");
	CHECK_EQ(xipfs_inode_get(img, 0, &in), -ENOENT);
	CHECK_EQ(xipfs_inode_get(img, NINODES + 1, &in), -ENOENT);
	CHECK_EQ(xipfs_inode_get(img, UINT32_MAX, &in), -ENOENT);
	for (uint32_t ino = 1; ino <= NINODES; ino++)
		CHECK_EQ(xipfs_inode_get(img, ino, &in), 0);

	CHECK_EQ(xipfs_inode_get(img, 1, &in), 0);
	CHECK(S_ISDIR(in.mode) && in.parent == 1 && in.nlink == 3);
	CHECK_EQ(xipfs_dir_count(&in), 6);
	CHECK_EQ(xipfs_inode_get(img, 3, &in), 0);
	CHECK(in.ino == 3 && in.mode == (S_IFREG | 0644));
	CHECK(in.uid == 1000 && in.gid == 100 && in.nlink == 2);
	CHECK(in.size == FILE_SIZE && in.data == BLK);
	CHECK(in.mtime == 1700000000 && in.mtime_nsec == 123456789);
	CHECK_EQ(xipfs_dir_count(&in), 0);
	CHECK(xipfs_inode_mappable(img, &in));
	CHECK_EQ(xipfs_inode_get(img, 5, &in), 0);
	CHECK(S_ISCHR(in.mode) && in.rdev_major == 4 && in.rdev_minor == 64);
	CHECK_EQ(xipfs_inode_get(img, 6, &in), 0);
	CHECK(S_ISFIFO(in.mode));
	CHECK_EQ(xipfs_inode_get(img, 7, &in), 0);
	CHECK(S_ISREG(in.mode) && in.size == 0);
	CHECK(!xipfs_inode_mappable(img, &in));
}

static void test_lookup(const struct xipfs_image *img)
{
	static const struct { const char *name; uint32_t ino; } hits[] = {
		{ "b-dev", 5 }, { "d", 2 }, { "file", 3 }, { "hard", 3 },
		{ "link", 4 }, { "zz-fifo", 6 }, { ".", 1 }, { "..", 1 },
	};
	static const char *const misses[] = {
		"a", "b", "b-de", "b-dev0", "c", "e", "fil", "file0", "g",
		"hardx", "lin", "m", "zz", "zz-fifo0", "zzz", "\xff", "A",
	};
	struct xipfs_inode_info root, d, f;
	char longname[XIPFS_NAME_MAX + 2];
	uint32_t ino;

	TEST_SECTION("xipfs_lookup: hits, misses around every entry, dots");
	xipfs_inode_get(img, 1, &root);
	xipfs_inode_get(img, 2, &d);
	xipfs_inode_get(img, 3, &f);
	for (size_t i = 0; i < sizeof(hits) / sizeof(hits[0]); i++) {
		ino = 0;
		CHECK_EQ(xipfs_lookup(img, &root, hits[i].name,
				      strlen(hits[i].name), &ino), 0);
		CHECK_EQ(ino, hits[i].ino);
	}
	for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++)
		CHECK_EQ(xipfs_lookup(img, &root, misses[i],
				      strlen(misses[i]), &ino), -ENOENT);
	/* A name given with a length shorter than the string. */
	CHECK_EQ(xipfs_lookup(img, &root, "filexyz", 4, &ino), 0);
	CHECK_EQ(ino, 3);
	CHECK_EQ(xipfs_lookup(img, &root, "", 0, &ino), -ENOENT);
	CHECK_EQ(xipfs_lookup(img, &d, "inner", 5, &ino), 0);
	CHECK_EQ(ino, 7);
	CHECK_EQ(xipfs_lookup(img, &d, "..", 2, &ino), 0);
	CHECK_EQ(ino, 1);
	CHECK_EQ(xipfs_lookup(img, &d, ".", 1, &ino), 0);
	CHECK_EQ(ino, 2);
	CHECK_EQ(xipfs_lookup(img, &d, "inne", 4, &ino), -ENOENT);
	CHECK_EQ(xipfs_lookup(img, &d, "innerr", 6, &ino), -ENOENT);
	CHECK_EQ(xipfs_lookup(img, &f, "x", 1, &ino), -ENOTDIR);
	memset(longname, 'a', sizeof(longname));
	CHECK_EQ(xipfs_lookup(img, &root, longname, XIPFS_NAME_MAX, &ino),
		 -ENOENT);
	CHECK_EQ(xipfs_lookup(img, &root, longname, XIPFS_NAME_MAX + 1, &ino),
		 -ENAMETOOLONG);
}

static void test_readdir(const struct xipfs_image *img)
{
	static const char *const names[] = {
		".", "..", "b-dev", "d", "file", "hard", "link", "zz-fifo",
	};
	static const uint32_t inos[] = { 1, 1, 5, 2, 3, 3, 4, 6 };
	static const uint32_t types[] = {
		DT_DIR, DT_DIR, DT_CHR, DT_DIR, DT_REG, DT_REG, DT_LNK, DT_FIFO,
	};
	uint64_t cookies[9], cookie = 0;
	struct xipfs_inode_info root, f;
	struct xipfs_dirent_info de;
	size_t n = 0;
	int ret;

	TEST_SECTION("xipfs_readdir: every entry, resume from every cookie");
	xipfs_inode_get(img, 1, &root);
	xipfs_inode_get(img, 3, &f);
	cookies[0] = 0;
	while ((ret = xipfs_readdir(img, &root, cookie, &de)) == 1 && n < 8) {
		CHECK(de.name_len == strlen(names[n]) &&
		      memcmp(de.name, names[n], de.name_len) == 0);
		CHECK_EQ(de.ino, inos[n]);
		CHECK_EQ(de.type, types[n]);
		CHECK(de.cookie > cookie);
		cookie = de.cookie;
		cookies[++n] = cookie;
	}
	CHECK_EQ(n, 8);
	CHECK_EQ(xipfs_readdir(img, &root, cookie, &de), 0);
	/* Resume from every cookie: the next entry is the right one. */
	for (size_t i = 0; i < n; i++) {
		CHECK_EQ(xipfs_readdir(img, &root, cookies[i], &de), 1);
		CHECK(de.name_len == strlen(names[i]) &&
		      memcmp(de.name, names[i], de.name_len) == 0);
		CHECK_EQ(de.cookie, cookies[i + 1]);
	}
	CHECK_EQ(xipfs_readdir(img, &root, 1, &de), 1);	/* "." again */
	CHECK(de.name_len == 1 && de.name[0] == '.');
	CHECK_EQ(xipfs_readdir(img, &root, 3 + 6, &de), 0);
	CHECK_EQ(xipfs_readdir(img, &root, 1000, &de), 0);
	CHECK_EQ(xipfs_readdir(img, &root, UINT64_MAX, &de), 0);
	CHECK_EQ(xipfs_readdir(img, &f, 0, &de), -ENOTDIR);
}

static void test_data(const struct xipfs_image *img)
{
	struct xipfs_inode_info f, e, d, l, dev;
	const uint8_t *p;
	const char *t;
	uint64_t off, len;
	size_t avail, tl;

	TEST_SECTION("file_data clipping, file_extent, readlink");
	xipfs_inode_get(img, 3, &f);
	xipfs_inode_get(img, 7, &e);
	xipfs_inode_get(img, 2, &d);
	xipfs_inode_get(img, 4, &l);
	xipfs_inode_get(img, 5, &dev);
	CHECK_EQ(xipfs_file_data(img, &f, 0, 10, &p, &avail), 0);
	CHECK(p == img->base + BLK && avail == 10);
	CHECK_EQ(xipfs_file_data(img, &f, 4990, 100, &p, &avail), 0);
	CHECK(p == img->base + BLK + 4990 && avail == 10);
	CHECK(p[9] == (uint8_t)(4999 * 7 + 1));
	CHECK_EQ(xipfs_file_data(img, &f, 0, UINT64_MAX, &p, &avail), 0);
	CHECK_EQ(avail, FILE_SIZE);
	CHECK_EQ(xipfs_file_data(img, &f, 4999, UINT64_MAX, &p, &avail), 0);
	CHECK_EQ(avail, 1);
	CHECK_EQ(xipfs_file_data(img, &f, FILE_SIZE, 1, &p, &avail), 0);
	CHECK_EQ(avail, 0);
	CHECK_EQ(xipfs_file_data(img, &f, UINT64_MAX, UINT64_MAX, &p, &avail),
		 0);
	CHECK_EQ(avail, 0);
	CHECK_EQ(xipfs_file_data(img, &f, 100, 0, &p, &avail), 0);
	CHECK_EQ(avail, 0);
	CHECK_EQ(xipfs_file_data(img, &e, 0, 100, &p, &avail), 0);
	CHECK_EQ(avail, 0);
	CHECK_EQ(xipfs_file_data(img, &d, 0, 1, &p, &avail), -EISDIR);
	CHECK_EQ(xipfs_file_data(img, &l, 0, 1, &p, &avail), -EINVAL);

	CHECK_EQ(xipfs_file_extent(img, &f, &off, &len), 0);
	CHECK(off == BLK && len == 2 * BLK);
	CHECK_EQ(xipfs_file_extent(img, &e, &off, &len), 0);
	CHECK(off == 0 && len == 0);
	CHECK_EQ(xipfs_file_extent(img, &d, &off, &len), -EINVAL);

	CHECK_EQ(xipfs_readlink(img, &l, &t, &tl), 0);
	CHECK(tl == 4 && memcmp(t, "file", 4) == 0);
	CHECK_EQ(xipfs_readlink(img, &f, &t, &tl), -EINVAL);
	CHECK_EQ(xipfs_readlink(img, &dev, &t, &tl), -EINVAL);
}

static void test_xattrs(const struct xipfs_image *img)
{
	static const char names[] = "security.capability\0user.a\0user.empty";
	struct xipfs_inode_info f, root;
	struct xipfs_xattr_info xa;
	const uint8_t *v;
	char buf[64];
	uint64_t pos = 0;
	size_t len;
	int n = 0;

	TEST_SECTION("xattrs: next, getxattr, listxattr, ERANGE, ENODATA");
	xipfs_inode_get(img, 3, &f);
	xipfs_inode_get(img, 1, &root);
	while (xipfs_xattr_next(img, &f, &pos, &xa) == 1 && n < 10)
		n++;
	CHECK_EQ(n, 3);
	CHECK_EQ(xipfs_xattr_next(img, &f, &pos, &xa), 0);
	CHECK_EQ(xipfs_getxattr(img, &f, "user.a", &v, &len), 0);
	CHECK(len == 1 && v[0] == 'x');
	CHECK_EQ(xipfs_getxattr(img, &f, "user.empty", &v, &len), 0);
	CHECK_EQ(len, 0);
	CHECK_EQ(xipfs_getxattr(img, &f, "security.capability", &v, &len), 0);
	CHECK(len == sizeof(cap_value) && memcmp(v, cap_value, len) == 0);
	CHECK_EQ(xipfs_getxattr(img, &f, "user.b", &v, &len), -ENODATA);
	CHECK_EQ(xipfs_getxattr(img, &f, "user.", &v, &len), -ENODATA);
	CHECK_EQ(xipfs_getxattr(img, &f, "user.ab", &v, &len), -ENODATA);
	CHECK_EQ(xipfs_getxattr(img, &f, "", &v, &len), -ENODATA);
	CHECK_EQ(xipfs_getxattr(img, &root, "user.a", &v, &len), -ENODATA);

	CHECK_EQ(xipfs_listxattr(img, &f, NULL, 0), sizeof(names));
	memset(buf, 0x7f, sizeof(buf));
	CHECK_EQ(xipfs_listxattr(img, &f, buf, sizeof(names)), sizeof(names));
	CHECK(memcmp(buf, names, sizeof(names)) == 0);
	CHECK_EQ(xipfs_listxattr(img, &f, buf, sizeof(buf)), sizeof(names));
	CHECK_EQ(xipfs_listxattr(img, &f, buf, sizeof(names) - 1), -ERANGE);
	CHECK_EQ(xipfs_listxattr(img, &f, buf, 1), -ERANGE);
	CHECK_EQ(xipfs_listxattr(img, &root, NULL, 0), 0);
	CHECK_EQ(xipfs_listxattr(img, &root, buf, sizeof(buf)), 0);
}

static void test_statfs(const struct xipfs_image *img)
{
	struct xipfs_statfs_info st;

	TEST_SECTION("xipfs_statfs");
	xipfs_statfs(img, &st);
	CHECK_EQ(st.block_size, BLK);
	CHECK_EQ(st.blocks, 3);
	CHECK_EQ(st.files, NINODES);
	CHECK_EQ(st.name_max, XIPFS_NAME_MAX);
}

static void count_report(void *ctx, uint32_t ino, int code, const char *msg)
{
	(*(long *)ctx)++;
	CHECK(xipfs_is_corruption(code));
	CHECK(msg != NULL && msg[0] != '\0');
	(void)ino;
}

/* Verify a copy of the good image after edit; CRCs recomputed if fix. */
static long verify_edited(const uint8_t *good, const struct layout *lo,
			  void (*edit)(uint8_t *, const struct layout *),
			  int fix)
{
	static uint8_t copy[IMG_SIZE];
	struct xipfs_image img;
	long reported = 0, ret;

	memcpy(copy, good, IMG_SIZE);
	edit(copy, lo);
	if (fix)
		fix_crcs(copy);
	if (xipfs_image_open(&img, copy, IMG_SIZE))
		return -1000;
	ret = xipfs_verify(&img, count_report, &reported);
	CHECK_EQ(ret, reported);
	return ret;
}

static void swap16(uint8_t *a, uint8_t *b)
{
	uint8_t t[16];

	memcpy(t, a, 16);
	memcpy(a, b, 16);
	memcpy(b, t, 16);
}

static void v_none(uint8_t *p, const struct layout *lo)
{
	(void)p;
	(void)lo;
}

static void v_unsorted(uint8_t *p, const struct layout *lo)
{
	swap16(p + lo->root_dirents + XIPFS_DIRENT_SIZE * 2,
	       p + lo->root_dirents + XIPFS_DIRENT_SIZE * 4);
}

static void v_duplicate(uint8_t *p, const struct layout *lo)
{
	/* "hard" takes the name of "file": a duplicate. */
	memcpy(p + lo->root_dirents + XIPFS_DIRENT_SIZE * 3 + DE(name_len),
	       p + lo->root_dirents + XIPFS_DIRENT_SIZE * 2 + DE(name_len),
	       XIPFS_DIRENT_SIZE - DE(name_len));
}

static void v_cycle(uint8_t *p, const struct layout *lo)
{
	/* d/inner -> the root */
	xipfs_put_le32(p + lo->d_dirents + DE(ino), 1);
	p[lo->d_dirents + DE(type)] = DT_DIR;
}

static void v_self_parent(uint8_t *p, const struct layout *lo)
{
	(void)lo;
	xipfs_put_le32(inode_at(p, 2) + IN(parent), 2);
}

static void v_bad_parent(uint8_t *p, const struct layout *lo)
{
	(void)lo;
	xipfs_put_le32(inode_at(p, 2) + IN(parent), 3);
}

static void v_root_parent(uint8_t *p, const struct layout *lo)
{
	(void)lo;
	xipfs_put_le32(inode_at(p, 1) + IN(parent), 2);
}

static void v_nlink(uint8_t *p, const struct layout *lo)
{
	(void)lo;
	xipfs_put_le32(inode_at(p, 3) + IN(nlink), 1);
}

static void v_dir_nlink(uint8_t *p, const struct layout *lo)
{
	(void)lo;
	xipfs_put_le32(inode_at(p, 1) + IN(nlink), 2);
}

static void v_type(uint8_t *p, const struct layout *lo)
{
	p[lo->root_dirents + XIPFS_DIRENT_SIZE * 2 + DE(type)] = DT_LNK;	/* "file" */
}

static void v_xattr_order(uint8_t *p, const struct layout *lo)
{
	/* "user.a" -> "user.z": now after "user.empty" */
	p[lo->xattrs + XIPFS_XATTR_HDR_SIZE + 19 + sizeof(cap_value) +
	  XIPFS_XATTR_HDR_SIZE + 5] = 'z';
}

static void v_xattr_len(uint8_t *p, const struct layout *lo)
{
	xipfs_put_le32(p + lo->xattrs + XA(value_len), 21);
}

static void v_name_slash(uint8_t *p, const struct layout *lo)
{
	/* the name of "d" becomes "/" */
	p[xipfs_le64(p + lo->root_dirents + XIPFS_DIRENT_SIZE +
		     DE(name_offset))] = '/';
}

static void v_dir_hardlink(uint8_t *p, const struct layout *lo)
{
	/* "zz-fifo" becomes a second name of d */
	xipfs_put_le32(p + lo->root_dirents + XIPFS_DIRENT_SIZE * 5 + DE(ino), 2);
	p[lo->root_dirents + XIPFS_DIRENT_SIZE * 5 + DE(type)] = DT_DIR;
	xipfs_put_le32(inode_at(p, 1) + IN(nlink), 4);
}

static void v_counts(uint8_t *p, const struct layout *lo)
{
	(void)lo;
	xipfs_put_le32(p + SB(file_count), 3);
}

static void v_meta_byte(uint8_t *p, const struct layout *lo)
{
	p[lo->meta_end - 1] ^= 1;	/* last xattr value byte */
}

static void test_verify(const uint8_t *good, const struct layout *lo)
{
	static const struct {
		const char *what;
		void (*edit)(uint8_t *, const struct layout *);
	} bad[] = {
		{ "unsorted entries", v_unsorted },
		{ "duplicate entry", v_duplicate },
		{ "cycle to the root", v_cycle },
		{ "dir is its own parent", v_self_parent },
		{ "wrong parent", v_bad_parent },
		{ "root parent", v_root_parent },
		{ "wrong nlink", v_nlink },
		{ "wrong dir nlink", v_dir_nlink },
		{ "entry type", v_type },
		{ "xattr order", v_xattr_order },
		{ "xattr value_len", v_xattr_len },
		{ "name with a slash", v_name_slash },
		{ "directory hard link", v_dir_hardlink },
		{ "superblock file count", v_counts },
	};
	struct xipfs_image img;

	TEST_SECTION("xipfs_verify: clean image, targeted corruptions");
	CHECK_EQ(xipfs_image_open(&img, good, IMG_SIZE), 0);
	CHECK_EQ(xipfs_check_meta_crc(&img), 0);
	CHECK_EQ(xipfs_verify(&img, NULL, NULL), 0);
	CHECK_EQ(verify_edited(good, lo, v_none, 0), 0);
	/* Metadata damage without a CRC fix: open is O(1) and succeeds. */
	CHECK(verify_edited(good, lo, v_meta_byte, 0) > 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long with_crc = verify_edited(good, lo, bad[i].edit, 0);
		long fixed = verify_edited(good, lo, bad[i].edit, 1);

		if (!CHECK(with_crc != 0 && fixed > 0))
			fprintf(stderr, "  %s: verify %ld (stale CRC), %ld "
				"(CRC fixed)\n", bad[i].what, with_crc, fixed);
	}
}

static void test_corrupt_accessors(const uint8_t *good, const struct layout *lo)
{
	static uint8_t copy[IMG_SIZE];
	struct xipfs_image img;
	struct xipfs_inode_info in;
	struct xipfs_dirent_info de;
	uint32_t ino;

	TEST_SECTION("accessors on damaged objects report damage");
	memcpy(copy, good, IMG_SIZE);
	/* File data past the image end. */
	xipfs_put_le64(inode_at(copy, 3) + IN(size), 3 * BLK);
	CHECK_EQ(xipfs_image_open(&img, copy, IMG_SIZE), 0);
	CHECK_EQ(xipfs_inode_get(&img, 3, &in), -XIPFS_EBOUNDS);
	xipfs_put_le64(inode_at(copy, 3) + IN(size), UINT64_MAX);
	CHECK_EQ(xipfs_inode_get(&img, 3, &in), -XIPFS_EBOUNDS);
	xipfs_put_le64(inode_at(copy, 3) + IN(size), FILE_SIZE);
	/* Packed flag: needs the incompat bit; then not mappable. */
	xipfs_put_le16(inode_at(copy, 3) + IN(flags), XIPFS_INODE_PACKED);
	CHECK_EQ(xipfs_inode_get(&img, 3, &in), -XIPFS_ECORRUPT);
	xipfs_put_le32(copy + SB(incompat), XIPFS_INCOMPAT_PACKED);
	fix_crcs(copy);
	CHECK_EQ(xipfs_image_open(&img, copy, IMG_SIZE), 0);
	CHECK_EQ(xipfs_inode_get(&img, 3, &in), 0);
	CHECK(!xipfs_inode_mappable(&img, &in));
	{
		uint64_t off, len;

		CHECK_EQ(xipfs_file_extent(&img, &in, &off, &len), 0);
		CHECK(off == BLK && len == FILE_SIZE);
	}
	CHECK_EQ(xipfs_verify(&img, NULL, NULL), 0);
	/* Dir array past the metadata. */
	memcpy(copy, good, IMG_SIZE);
	CHECK_EQ(xipfs_image_open(&img, copy, IMG_SIZE), 0);
	xipfs_put_le64(inode_at(copy, 1) + IN(size), UINT64_MAX & ~15ull);
	CHECK_EQ(xipfs_inode_get(&img, 1, &in), -XIPFS_EBOUNDS);
	xipfs_put_le64(inode_at(copy, 1) + IN(size), 6 * 16);
	/* An entry whose name lies past the metadata. */
	xipfs_put_le64(copy + lo->root_dirents + DE(name_offset), UINT64_MAX);
	CHECK_EQ(xipfs_inode_get(&img, 1, &in), 0);
	CHECK_EQ(xipfs_readdir(&img, &in, 3, &de), -XIPFS_EBOUNDS);
	CHECK_EQ(xipfs_lookup(&img, &in, "b-dev", 5, &ino), -XIPFS_EBOUNDS);
	/* An entry naming an inode past the table. */
	memcpy(copy, good, IMG_SIZE);
	xipfs_put_le32(copy + lo->root_dirents + XIPFS_DIRENT_SIZE * 5 + DE(ino),
		       NINODES + 1);
	CHECK_EQ(xipfs_readdir(&img, &in, 3 + 5, &de), -XIPFS_ECORRUPT);
	/* Symlink with an empty or too long target. */
	memcpy(copy, good, IMG_SIZE);
	xipfs_put_le64(inode_at(copy, 4) + IN(size), 0);
	CHECK_EQ(xipfs_inode_get(&img, 4, &in), -XIPFS_ECORRUPT);
	xipfs_put_le64(inode_at(copy, 4) + IN(size), XIPFS_SYMLINK_MAX + 1);
	CHECK_EQ(xipfs_inode_get(&img, 4, &in), -XIPFS_ECORRUPT);
	/* xattr block running past its size. */
	memcpy(copy, good, IMG_SIZE);
	xipfs_put_le32(copy + lo->xattrs + XA(value_len), 1000);
	CHECK_EQ(xipfs_inode_get(&img, 3, &in), 0);
	{
		const uint8_t *v;
		size_t len;

		CHECK_EQ(xipfs_getxattr(&img, &in, "user.a", &v, &len),
			 -XIPFS_EBOUNDS);
		CHECK_EQ(xipfs_listxattr(&img, &in, NULL, 0), -XIPFS_EBOUNDS);
	}
	memcpy(copy, good, IMG_SIZE);
}

/* ---- compressed files and data checksums ---- */

/*
 * A second image, with both new features (block 4096):
 *   /      dir   ino 1
 *   /e     file  ino 5   empty
 *   /l     file  ino 3   LZ4, 8 KiB clusters: lz4, lz4, 300 bytes raw
 *   /x     file  ino 4   5000 bytes in place at 4096
 *   /z     file  ino 2   zstd, 4 KiB clusters: zstd, raw, zstd, zstd,
 *                        1000 bytes zstd (the partial last one)
 * Stored clusters from 3 * 4096 on (l's right after z's, unaligned), then
 * the data CRC table at the next block boundary.
 */
#define Z_NINODES	5
#define Z_MAXSIZE	(16 * BLK)
#define Z_ZSIZE		(4 * 4096 + 1000)
#define Z_ZCOUNT	5
#define Z_LSIZE		(2 * 8192 + 300)
#define Z_LCOUNT	3

struct zimage {
	uint8_t img[Z_MAXSIZE];
	uint64_t size;
	uint64_t zt, lt;		/* cluster tables, in metadata */
	uint64_t zdata, ldata;		/* their stored bytes */
	uint64_t crc_offset, meta_end;
	uint32_t zends[Z_ZCOUNT], lends[Z_LCOUNT];
	uint8_t z[Z_ZSIZE], l[Z_LSIZE];	/* the files' contents */
};

/* xorshift: bytes no compressor shrinks */
static void fill_random(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		p[i] = (uint8_t)seed;
	}
}

static void fill_text(uint8_t *p, size_t n, unsigned salt)
{
	static const char words[] = "execute in place, compressed otherwise; ";

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(words[(i + salt) % (sizeof(words) - 1)] +
				 (i / 512 % 3));
}

/* Store one cluster as the format says: compressed if that shrinks it,
 * else raw.  Returns the stored length. */
static uint32_t store_cluster(uint8_t *out, unsigned alg, const uint8_t *src,
			      uint32_t len)
{
	static uint8_t tmp[2 * 8192 + 1024];
	size_t n;

	if (alg == XIPFS_ZALG_ZSTD) {
		n = ZSTD_compress(tmp, sizeof(tmp), src, len, 3);
		if (ZSTD_isError(n))
			n = len;
	} else {
		int r = LZ4_compress_default((const char *)src, (char *)tmp,
					     (int)len, (int)sizeof(tmp));

		n = r > 0 ? (size_t)r : len;
	}
	if (n >= len) {
		memcpy(out, src, len);
		return len;
	}
	memcpy(out, tmp, n);
	return (uint32_t)n;
}

/* Clusters of one file from *at on; fills ends, returns the table offset. */
static uint64_t put_zfile(struct zimage *zi, uint64_t *cur, uint64_t *at,
			  unsigned alg, unsigned log2, const uint8_t *src,
			  uint64_t size, uint32_t *ends, uint32_t count)
{
	uint8_t table[XIPFS_ZTABLE_HDR_SIZE + 4 * Z_ZCOUNT];
	struct xipfs_zfile_info zf = {
		.algorithm = alg, .cluster_log2 = log2,
		.cluster_count = count, .data = *at,
	};
	uint32_t end = 0;

	for (uint32_t i = 0; i < count; i++) {
		uint64_t off = (uint64_t)i << log2;
		uint32_t len = (uint32_t)(size - off < (1u << log2) ?
						  size - off : 1u << log2);

		end += store_cluster(zi->img + *at + end, alg, src + off, len);
		ends[i] = end;
	}
	*at += end;
	CHECK_EQ(xipfs_encode_ztable(table, &zf, ends), 0);
	return put_meta(zi->img, cur, table,
			XIPFS_ZTABLE_HDR_SIZE + 4 * (size_t)count, 1);
}

/* super_crc, meta_crc and, if asked, the data CRC table and its CRC. */
static void zfix(uint8_t *img, uint64_t size, int data_crcs)
{
	uint64_t meta_size = xipfs_le64(img + SB(meta_size));
	uint64_t at = xipfs_le64(img + SB(crc_offset));

	if (meta_size <= size - XIPFS_SUPER_SIZE)
		xipfs_put_le32(img + SB(meta_crc),
			       xipfs_crc32c(0, img + XIPFS_SUPER_SIZE,
					    (size_t)meta_size));
	if (data_crcs) {
		uint64_t blocks = (at - BLK) / BLK;

		for (uint64_t i = 0; i < blocks; i++)
			xipfs_put_le32(img + at + 4 * i,
				       xipfs_crc32c(0, img + BLK + i * BLK, BLK));
		xipfs_put_le32(img + SB(crc_table_crc),
			       xipfs_crc32c(0, img + at, 4 * blocks));
	}
	xipfs_put_le32(img + SB(super_crc), xipfs_super_crc(img));
}

static void build_zimage(struct zimage *zi)
{
	static const struct ent root[] = {
		{ "e", 5, DT_REG }, { "l", 3, DT_REG },
		{ "x", 4, DT_REG }, { "z", 2, DT_REG },
	};
	uint64_t cur = INODE_TABLE + Z_NINODES * XIPFS_INODE_SIZE, dirents;
	uint64_t at = 3 * BLK, blocks;
	struct xipfs_image sb = {
		.version_major = XIPFS_VERSION_MAJOR, .block_log2 = 12,
		.meta_offset = XIPFS_SUPER_SIZE, .data_offset = BLK,
		.inode_offset = INODE_TABLE, .inode_count = Z_NINODES,
		.incompat = XIPFS_INCOMPAT_COMPRESSED,
		.ro_compat = XIPFS_RO_COMPAT_DATA_CRC,
		.build_time = 1700000000, .file_count = 4, .dir_count = 1,
		.volume_name = "zunit",
	};
	struct xipfs_data_crc_info dc;

	memset(zi, 0, sizeof(*zi));
	fill_text(zi->z, 4096, 0);
	fill_random(zi->z + 4096, 4096, 12345);
	fill_text(zi->z + 8192, 8192 + 1000, 7);
	fill_text(zi->l, 2 * 8192, 3);
	fill_random(zi->l + 2 * 8192, 300, 777);
	dirents = put_dir(zi->img, &cur, root, 4);
	zi->zdata = at;
	zi->zt = put_zfile(zi, &cur, &at, XIPFS_ZALG_ZSTD, 12, zi->z, Z_ZSIZE,
			   zi->zends, Z_ZCOUNT);
	zi->ldata = at;
	zi->lt = put_zfile(zi, &cur, &at, XIPFS_ZALG_LZ4, 13, zi->l, Z_LSIZE,
			   zi->lends, Z_LCOUNT);
	zi->meta_end = cur;
	for (uint32_t i = 0; i < FILE_SIZE; i++)
		zi->img[BLK + i] = (uint8_t)(i * 7 + 1);
	put_inode(zi->img, 1, S_IFDIR | 0755, 2, 4 * 16, 1, dirents);
	put_inode(zi->img, 2, S_IFREG | 0644, 1, Z_ZSIZE, 0, zi->zt);
	put_inode(zi->img, 3, S_IFREG | 0600, 1, Z_LSIZE, 0, zi->lt);
	put_inode(zi->img, 4, S_IFREG | 0755, 1, FILE_SIZE, 0, BLK);
	put_inode(zi->img, 5, S_IFREG | 0644, 1, 0, 0, 0);
	xipfs_put_le16(inode_at(zi->img, 2) + IN(flags), XIPFS_INODE_COMPRESSED);
	xipfs_put_le16(inode_at(zi->img, 3) + IN(flags), XIPFS_INODE_COMPRESSED);

	zi->crc_offset = (at + BLK - 1) & ~(uint64_t)(BLK - 1);
	blocks = (zi->crc_offset - BLK) / BLK;
	zi->size = zi->crc_offset + BLK;	/* 4 bytes a block: one block */
	CHECK(zi->size <= Z_MAXSIZE && 4 * blocks <= BLK);
	sb.image_size = zi->size;
	sb.meta_end = cur;
	sb.data_bytes = FILE_SIZE + at - 3 * BLK;
	CHECK_EQ(xipfs_encode_super(zi->img, &sb), 0);
	dc = (struct xipfs_data_crc_info){ .table_offset = zi->crc_offset };
	CHECK_EQ(xipfs_encode_super_data_crc(zi->img, &dc), 0);
	zfix(zi->img, zi->size, 1);
}

/*
 * xipfs_file_pread() of the same range: the same bytes, in the image for
 * a file stored in place (no copy) and in z's buffer for a compressed one.
 */
static int check_pread(const struct xipfs_image *img,
		       const struct xipfs_inode_info *in, uint64_t off,
		       size_t len, const uint8_t *want, size_t expect,
		       struct xipfs_zctx *z)
{
	struct xipfs_file f;
	const uint8_t *out;
	ssize_t n;
	int in_image;

	if (xipfs_file_open(img, in, &f))
		return 0;
	n = xipfs_file_pread(img, &f, off, len, 0, z, &out);
	if (f.compressed && !z)
		return n == (expect ? -EINVAL : 0);
	if (n != (ssize_t)expect || (expect && memcmp(out, want + off, expect)))
		goto bad;
	in_image = out >= img->base && out < img->base + img->length;
	if (expect && in_image != !f.compressed)
		goto bad;
	return 1;
bad:
	fprintf(stderr, "  ino %u pread(%llu, %zu) = %zd, want %zu\n", in->ino,
		(unsigned long long)off, len, n, expect);
	return 0;
}

/* Every offset/length pattern that matters, against the known content. */
static void check_reads(const struct xipfs_image *img, uint32_t ino,
			const uint8_t *want, uint64_t size, uint32_t cs,
			struct xipfs_zctx *z)
{
	const uint64_t offs[] = {
		0, 1, cs - 1, cs, cs + 1, 2 * cs - 3, 2 * cs, size - cs,
		size - 1, size, size + 1, size + cs, UINT64_MAX,
	};
	const size_t lens[] = { 0, 1, 7, cs - 1, cs, cs + 1, 2 * cs + 3,
				(size_t)size, SIZE_MAX };
	static uint8_t buf[4 * 8192 + 64];
	struct xipfs_inode_info in;
	unsigned long bad = 0;

	CHECK_EQ(xipfs_inode_get(img, ino, &in), 0);
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			uint64_t off = offs[i];
			size_t len = lens[j], expect;
			ssize_t n;

			expect = off >= size ? 0 :
				 len > size - off ? (size_t)(size - off) : len;
			if (expect > sizeof(buf))
				continue;
			memset(buf, 0xa5, sizeof(buf));
			/* a length past the buffer is fine when clipped */
			n = xipfs_file_read(img, &in, off, buf, len, z);
			if (n != (ssize_t)expect ||
			    (expect && memcmp(buf, want + off, expect)) ||
			    (expect < sizeof(buf) && buf[expect] != 0xa5)) {
				bad++;
				fprintf(stderr, "  ino %u read(%llu, %zu) = %zd, "
					"want %zu\n", ino,
					(unsigned long long)off, len, n, expect);
			}
			bad += !check_pread(img, &in, off, len, want, expect, z);
		}
	}
	CHECK_EQ(bad, 0);
}

static void test_zfile_reads(const struct zimage *zi,
			     const struct xipfs_image *img,
			     struct xipfs_zctx *z)
{
	struct xipfs_inode_info zin, lin, xin, root;
	struct xipfs_zfile_info zf;
	struct xipfs_cluster_info cl;
	const uint8_t *p;
	uint64_t off, len;
	size_t avail;
	uint8_t buf[16];
	uint8_t x[FILE_SIZE];

	TEST_SECTION("compressed files: decode, clusters, every read pattern");
	CHECK_EQ(xipfs_inode_get(img, 2, &zin), 0);
	CHECK_EQ(xipfs_inode_get(img, 3, &lin), 0);
	CHECK_EQ(xipfs_inode_get(img, 4, &xin), 0);
	CHECK_EQ(xipfs_inode_get(img, 1, &root), 0);
	CHECK(zin.flags == XIPFS_INODE_COMPRESSED && zin.size == Z_ZSIZE);
	CHECK(!xipfs_inode_mappable(img, &zin));
	CHECK(xipfs_inode_mappable(img, &xin));
	CHECK_EQ(xipfs_file_data(img, &zin, 0, 1, &p, &avail), -EOPNOTSUPP);
	CHECK_EQ(xipfs_file_extent(img, &zin, &off, &len), -EOPNOTSUPP);
	CHECK_EQ(xipfs_zfile_get(img, &xin, &zf), -EINVAL);
	CHECK_EQ(xipfs_zfile_get(img, &root, &zf), -EINVAL);

	CHECK_EQ(xipfs_zfile_get(img, &zin, &zf), 0);
	CHECK(zf.algorithm == XIPFS_ZALG_ZSTD && zf.cluster_log2 == 12);
	CHECK(zf.cluster_count == Z_ZCOUNT && zf.table_offset == zi->zt);
	CHECK(zf.data == zi->zdata && zf.stored_size == zi->zends[4]);
	for (uint32_t i = 0; i < Z_ZCOUNT; i++) {
		CHECK_EQ(xipfs_cluster_get(img, &zin, &zf, i, &cl), 0);
		CHECK_EQ(cl.file_offset, (uint64_t)i * 4096);
		CHECK_EQ(cl.length, i < 4 ? 4096 : 1000);
		CHECK_EQ(cl.image_offset, zi->zdata + (i ? zi->zends[i - 1] : 0));
		CHECK(cl.stored == img->base + cl.image_offset);
		/* cluster 1 is random: raw; the others shrink */
		CHECK(i == 1 ? cl.stored_len == cl.length :
			       cl.stored_len < cl.length);
	}
	CHECK_EQ(xipfs_cluster_get(img, &zin, &zf, Z_ZCOUNT, &cl), -ERANGE);
	CHECK_EQ(xipfs_cluster_get(img, &zin, &zf, UINT32_MAX, &cl), -ERANGE);
	CHECK_EQ(xipfs_zfile_get(img, &lin, &zf), 0);
	CHECK(zf.algorithm == XIPFS_ZALG_LZ4 && zf.cluster_log2 == 13);
	CHECK_EQ(xipfs_cluster_get(img, &lin, &zf, 2, &cl), 0);
	CHECK(cl.length == 300 && cl.stored_len == 300);	/* raw, partial */
	CHECK_EQ(xipfs_cluster_get(img, &lin, &zf, 0, &cl), 0);
	CHECK(cl.stored_len < cl.length);

	check_reads(img, 2, zi->z, Z_ZSIZE, 4096, z);
	check_reads(img, 3, zi->l, Z_LSIZE, 8192, z);
	for (uint32_t i = 0; i < FILE_SIZE; i++)
		x[i] = (uint8_t)(i * 7 + 1);
	check_reads(img, 4, x, FILE_SIZE, 4096, NULL);
	check_reads(img, 4, x, FILE_SIZE, 4096, z);
	CHECK_EQ(xipfs_file_read(img, &zin, 0, buf, 1, NULL), -EINVAL);
	CHECK_EQ(xipfs_file_read(img, &zin, Z_ZSIZE, buf, 1, NULL), -EINVAL);
	CHECK_EQ(xipfs_file_read(img, &root, 0, buf, 1, z), -EISDIR);

	TEST_SECTION("xipfs_file_stored_range");
	CHECK_EQ(xipfs_file_stored_range(img, &zin, 0, UINT64_MAX, &off, &len), 0);
	CHECK(off == zi->zdata && len == zi->zends[4]);
	/* one byte of the raw cluster 1: exactly its stored bytes */
	CHECK_EQ(xipfs_file_stored_range(img, &zin, 4096 + 10, 1, &off, &len), 0);
	CHECK(off == zi->zdata + zi->zends[0] &&
	      len == zi->zends[1] - zi->zends[0]);
	/* across clusters 0 and 1 */
	CHECK_EQ(xipfs_file_stored_range(img, &zin, 4095, 2, &off, &len), 0);
	CHECK(off == zi->zdata && len == zi->zends[1]);
	CHECK_EQ(xipfs_file_stored_range(img, &zin, Z_ZSIZE - 1, 9, &off, &len), 0);
	CHECK(off == zi->zdata + zi->zends[3] &&
	      len == zi->zends[4] - zi->zends[3]);
	CHECK_EQ(xipfs_file_stored_range(img, &zin, Z_ZSIZE, 9, &off, &len), 0);
	CHECK_EQ(len, 0);
	CHECK_EQ(xipfs_file_stored_range(img, &zin, 5, 0, &off, &len), 0);
	CHECK_EQ(len, 0);
	CHECK_EQ(xipfs_file_stored_range(img, &xin, 10, 20, &off, &len), 0);
	CHECK(off == BLK + 10 && len == 20);
	CHECK_EQ(xipfs_file_stored_range(img, &xin, 4990, 20, &off, &len), 0);
	CHECK(off == BLK + 4990 && len == 10);
	CHECK_EQ(xipfs_file_stored_range(img, &root, 0, 1, &off, &len), -EISDIR);
}

/* Open a copy of the image after edit(copy) with super and meta CRCs
 * fixed; the result of xipfs_inode_get(ino), and verify's count. */
struct zedit_result {
	int open, inode;
	long verify;
};

static struct zedit_result zedit(const struct zimage *zi, uint32_t ino,
				 void (*edit)(uint8_t *, const struct zimage *))
{
	static uint8_t copy[Z_MAXSIZE];
	struct xipfs_image img;
	struct xipfs_inode_info in;
	struct zedit_result r = { .verify = -1 };

	memcpy(copy, zi->img, Z_MAXSIZE);
	edit(copy, zi);
	zfix(copy, zi->size, 0);
	r.open = xipfs_image_open(&img, copy, zi->size);
	if (r.open)
		return r;
	r.inode = xipfs_inode_get(&img, ino, &in);
	r.verify = xipfs_verify(&img, NULL, NULL);
	return r;
}

#define ZT(f)	offsetof(struct xipfs_ztable, f)
#define ZEND(t, i)	((t) + XIPFS_ZTABLE_HDR_SIZE + 4 * (i))

static void z_alg0(uint8_t *p, const struct zimage *zi) { p[zi->zt + ZT(algorithm)] = 0; }
static void z_alg3(uint8_t *p, const struct zimage *zi) { p[zi->zt + ZT(algorithm)] = 3; }
static void z_log11(uint8_t *p, const struct zimage *zi) { p[zi->zt + ZT(cluster_log2)] = 11; }
static void z_log21(uint8_t *p, const struct zimage *zi) { p[zi->zt + ZT(cluster_log2)] = 21; }
static void z_reserved(uint8_t *p, const struct zimage *zi) { p[zi->zt + ZT(reserved)] = 1; }
static void z_count(uint8_t *p, const struct zimage *zi) { xipfs_put_le32(p + zi->zt + ZT(cluster_count), Z_ZCOUNT + 1); }
static void z_count_max(uint8_t *p, const struct zimage *zi) { xipfs_put_le32(p + zi->zt + ZT(cluster_count), UINT32_MAX); }
/* the largest file at 4 KiB clusters: 2^20 ends, far past the metadata */
static void z_huge(uint8_t *p, const struct zimage *zi)
{
	xipfs_put_le32(p + zi->zt + ZT(cluster_count), 1u << 20);
	xipfs_put_le64(inode_at(p, 2) + IN(size), XIPFS_ZFILE_MAX);
}
static void z_size0(uint8_t *p, const struct zimage *zi) { (void)zi; xipfs_put_le64(inode_at(p, 2) + IN(size), 0); }
static void z_size_big(uint8_t *p, const struct zimage *zi) { (void)zi; xipfs_put_le64(inode_at(p, 2) + IN(size), XIPFS_ZFILE_MAX + 1ull); }
static void z_table_unaligned(uint8_t *p, const struct zimage *zi) { xipfs_put_le64(inode_at(p, 2) + IN(data), zi->zt + 4); }
static void z_table_past_meta(uint8_t *p, const struct zimage *zi) { xipfs_put_le64(inode_at(p, 2) + IN(data), (zi->meta_end - 8) & ~7ull); }
static void z_table_in_data(uint8_t *p, const struct zimage *zi) { (void)zi; xipfs_put_le64(inode_at(p, 2) + IN(data), 2 * BLK); }
static void z_last_small(uint8_t *p, const struct zimage *zi) { xipfs_put_le32(p + ZEND(zi->zt, 4), 4); }
static void z_last_big(uint8_t *p, const struct zimage *zi) { xipfs_put_le32(p + ZEND(zi->zt, 4), Z_ZSIZE + 1); }
static void z_data_zero(uint8_t *p, const struct zimage *zi) { xipfs_put_le64(p + zi->zt + ZT(data), 0); }
/* stored bytes that run past crc_offset */
static void z_data_past(uint8_t *p, const struct zimage *zi) { xipfs_put_le64(p + zi->zt + ZT(data), zi->crc_offset - 10); }
static void z_no_incompat(uint8_t *p, const struct zimage *zi) { (void)zi; xipfs_put_le32(p + SB(incompat), 0); }
static void z_with_packed(uint8_t *p, const struct zimage *zi)
{
	(void)zi;
	xipfs_put_le16(inode_at(p, 2) + IN(flags),
		       XIPFS_INODE_COMPRESSED | XIPFS_INODE_PACKED);
	xipfs_put_le32(p + SB(incompat),
		       XIPFS_INCOMPAT_COMPRESSED | XIPFS_INCOMPAT_PACKED);
}
static void z_on_dir(uint8_t *p, const struct zimage *zi) { (void)zi; xipfs_put_le16(inode_at(p, 1) + IN(flags), XIPFS_INODE_COMPRESSED); }
/* a plain file whose bytes cross crc_offset */
static void z_plain_past(uint8_t *p, const struct zimage *zi) { xipfs_put_le64(inode_at(p, 4) + IN(data), zi->crc_offset - BLK); }
/* cluster ends: a stored length of 0, one that falls, one larger than
 * the cluster, one past the stored size */
static void z_end_equal(uint8_t *p, const struct zimage *zi) { xipfs_put_le32(p + ZEND(zi->zt, 1), zi->zends[0]); }
static void z_end_falls(uint8_t *p, const struct zimage *zi) { xipfs_put_le32(p + ZEND(zi->zt, 2), zi->zends[0]); }
static void z_end_long(uint8_t *p, const struct zimage *zi) { xipfs_put_le32(p + ZEND(zi->zt, 0), 4097); }
static void z_end_past(uint8_t *p, const struct zimage *zi) { xipfs_put_le32(p + ZEND(zi->zt, 3), zi->zends[4] + 1); }
static void z_same(uint8_t *p, const struct zimage *zi) { (void)p; (void)zi; }

static void test_zfile_errors(const struct zimage *zi)
{
	static const struct {
		const char *what;
		void (*edit)(uint8_t *, const struct zimage *);
		uint32_t ino;
		int inode;	/* what xipfs_inode_get() says */
	} cases[] = {
		{ "algorithm 0", z_alg0, 2, -XIPFS_ECORRUPT },
		{ "algorithm 3", z_alg3, 2, -XIPFS_ECORRUPT },
		{ "cluster_log2 11", z_log11, 2, -XIPFS_ECORRUPT },
		{ "cluster_log2 21", z_log21, 2, -XIPFS_ECORRUPT },
		{ "reserved", z_reserved, 2, -XIPFS_ECORRUPT },
		{ "count mismatch", z_count, 2, -XIPFS_ECORRUPT },
		{ "count 2^32-1", z_count_max, 2, -XIPFS_ECORRUPT },
		{ "2^20 ends", z_huge, 2, -XIPFS_EBOUNDS },
		{ "size 0", z_size0, 2, -XIPFS_ECORRUPT },
		{ "size 4 GiB", z_size_big, 2, -XIPFS_ECORRUPT },
		{ "table unaligned", z_table_unaligned, 2, -XIPFS_ECORRUPT },
		{ "table past metadata", z_table_past_meta, 2, -XIPFS_EBOUNDS },
		{ "table in data", z_table_in_data, 2, -XIPFS_EBOUNDS },
		{ "stored less than a byte a cluster", z_last_small, 2, -XIPFS_ECORRUPT },
		{ "stored more than the file", z_last_big, 2, -XIPFS_ECORRUPT },
		{ "stored bytes in metadata", z_data_zero, 2, -XIPFS_EBOUNDS },
		{ "stored bytes past crc_offset", z_data_past, 2, -XIPFS_EBOUNDS },
		{ "flag without incompat", z_no_incompat, 2, -XIPFS_ECORRUPT },
		{ "flag with PACKED", z_with_packed, 2, -XIPFS_ECORRUPT },
		{ "flag on a directory", z_on_dir, 1, -XIPFS_ECORRUPT },
		{ "plain file past crc_offset", z_plain_past, 4, -XIPFS_EBOUNDS },
		/* O(1) decode passes these; the cluster and verify do not */
		{ "stored length 0", z_end_equal, 2, 0 },
		{ "ends fall", z_end_falls, 2, 0 },
		{ "cluster larger stored", z_end_long, 2, 0 },
		{ "end past stored size", z_end_past, 2, 0 },
	};
	struct zedit_result r = zedit(zi, 2, z_same);

	TEST_SECTION("compressed files: every damaged table field");
	CHECK(r.open == 0 && r.inode == 0 && r.verify == 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = zedit(zi, cases[i].ino, cases[i].edit);
		if (!CHECK(r.open == 0 && r.inode == cases[i].inode &&
			   r.verify > 0))
			fprintf(stderr, "  %s: open %d, inode %d (want %d), "
				"verify %ld\n", cases[i].what, r.open, r.inode,
				cases[i].inode, r.verify);
	}
}

/* The cluster rules, each with its code, on the edited tables above. */
static void check_cluster_err(const struct zimage *zi,
			      void (*edit)(uint8_t *, const struct zimage *),
			      uint32_t index, int want)
{
	static uint8_t copy[Z_MAXSIZE];
	struct xipfs_image img;
	struct xipfs_inode_info in;
	struct xipfs_zfile_info zf;
	struct xipfs_cluster_info cl;
	static uint8_t buf[Z_ZSIZE];
	struct xipfs_zctx *z = xipfs_zctx_new();

	memcpy(copy, zi->img, Z_MAXSIZE);
	edit(copy, zi);
	zfix(copy, zi->size, 0);
	CHECK(z != NULL);
	CHECK_EQ(xipfs_image_open(&img, copy, zi->size), 0);
	CHECK_EQ(xipfs_inode_get(&img, 2, &in), 0);
	CHECK_EQ(xipfs_zfile_get(&img, &in, &zf), 0);
	CHECK_EQ(xipfs_cluster_get(&img, &in, &zf, index, &cl), want);
	/* a read through the cluster fails the same way, never gives bytes */
	CHECK_EQ(xipfs_file_read(&img, &in, 0, buf, sizeof(buf), z), want);
	xipfs_zctx_free(z);
}

static void test_cluster_errors(const struct zimage *zi)
{
	TEST_SECTION("xipfs_cluster_get: non-monotone, empty, long, past the end");
	check_cluster_err(zi, z_end_equal, 1, -XIPFS_ECORRUPT);
	check_cluster_err(zi, z_end_falls, 2, -XIPFS_ECORRUPT);
	check_cluster_err(zi, z_end_long, 0, -XIPFS_ECORRUPT);
	check_cluster_err(zi, z_end_past, 3, -XIPFS_EBOUNDS);
}

/* Decompress a hand-made cluster of length bytes stored as src. */
static int decompress(struct xipfs_zctx *z, unsigned alg, const void *src,
		      size_t stored, uint32_t length)
{
	static uint8_t out[8192];
	const struct xipfs_zfile_info zf = { .algorithm = alg };
	const struct xipfs_cluster_info cl = {
		.stored = src, .stored_len = (uint32_t)stored,
		.length = length,
	};

	return xipfs_cluster_decompress(z, &zf, &cl, out);
}

static void test_frames(struct xipfs_zctx *z)
{
	static uint8_t src[4096], frame[2 * 4096 + 64], lz[4200];
	static const uint8_t skippable[12] = { 0x50, 0x2a, 0x4d, 0x18, 4 };
	size_t n, m, odd = 0;
	int k;

	TEST_SECTION("cluster_decompress: hostile frames");
	fill_text(src, sizeof(src), 1);
	n = ZSTD_compress(frame, sizeof(frame), src, 4096, 3);
	CHECK(!ZSTD_isError(n) && n < 4096);
	CHECK_EQ(decompress(z, XIPFS_ZALG_ZSTD, frame, n, 4096), 0);
	CHECK_EQ(decompress(NULL, XIPFS_ZALG_ZSTD, frame, n, 4096), -EINVAL);
	/* right frame, wrong length either way */
	CHECK_EQ(decompress(z, XIPFS_ZALG_ZSTD, frame, n, 4095), -XIPFS_ECORRUPT);
	CHECK_EQ(decompress(z, XIPFS_ZALG_ZSTD, frame, n, 4097), -XIPFS_ECORRUPT);
	/* a frame of 4095 bytes in a cluster of 4096 */
	m = ZSTD_compress(frame, sizeof(frame), src, 4095, 3);
	CHECK_EQ(decompress(z, XIPFS_ZALG_ZSTD, frame, m, 4096), -XIPFS_ECORRUPT);
	/* two frames that add up, a frame and a trailing byte, a skippable
	 * frame after it: not one frame */
	m = ZSTD_compress(frame, sizeof(frame), src, 2048, 3);
	n = ZSTD_compress(frame + m, sizeof(frame) - m, src + 2048, 2048, 3);
	CHECK_EQ(decompress(z, XIPFS_ZALG_ZSTD, frame, m + n, 4096),
		 -XIPFS_ECORRUPT);
	n = ZSTD_compress(frame, sizeof(frame), src, 4096, 3);
	frame[n] = 0;
	CHECK_EQ(decompress(z, XIPFS_ZALG_ZSTD, frame, n + 1, 4096),
		 -XIPFS_ECORRUPT);
	memcpy(frame + n, skippable, sizeof(skippable));
	CHECK_EQ(decompress(z, XIPFS_ZALG_ZSTD, frame, n + sizeof(skippable),
			    4096), -XIPFS_ECORRUPT);
	CHECK_EQ(decompress(z, XIPFS_ZALG_ZSTD, skippable, sizeof(skippable),
			    4096), -XIPFS_ECORRUPT);
	/* cut short, every byte flipped in turn: an error or the length */
	CHECK_EQ(decompress(z, XIPFS_ZALG_ZSTD, frame, n - 1, 4096),
		 -XIPFS_ECORRUPT);
	CHECK_EQ(decompress(z, XIPFS_ZALG_ZSTD, frame, 3, 4096), -XIPFS_ECORRUPT);
	for (size_t i = 0; i < n; i++) {
		frame[i] ^= 0x10;
		k = decompress(z, XIPFS_ZALG_ZSTD, frame, n, 4096);
		frame[i] ^= 0x10;
		odd += k != 0 && k != -XIPFS_ECORRUPT;
	}
	CHECK_EQ(odd, 0);
	/* the context is fine after all that */
	CHECK_EQ(decompress(z, XIPFS_ZALG_ZSTD, frame, n, 4096), 0);
	/* LZ4 */
	k = LZ4_compress_default((const char *)src, (char *)lz, 4096,
				 (int)sizeof(lz));
	CHECK(k > 0 && k < 4096);
	CHECK_EQ(decompress(z, XIPFS_ZALG_LZ4, lz, (size_t)k, 4096), 0);
	CHECK_EQ(decompress(z, XIPFS_ZALG_LZ4, lz, (size_t)k, 4095),
		 -XIPFS_ECORRUPT);
	CHECK_EQ(decompress(z, XIPFS_ZALG_LZ4, lz, (size_t)k, 4097),
		 -XIPFS_ECORRUPT);
	CHECK_EQ(decompress(z, XIPFS_ZALG_LZ4, lz, (size_t)k - 1, 4096),
		 -XIPFS_ECORRUPT);
	for (int i = 0; i < k; i++) {
		int r;

		lz[i] ^= 0x41;
		r = decompress(z, XIPFS_ZALG_LZ4, lz, (size_t)k, 4096);
		lz[i] ^= 0x41;
		odd += r != 0 && r != -XIPFS_ECORRUPT;
	}
	CHECK_EQ(odd, 0);
	/* a zstd frame read as LZ4, an unknown algorithm; raw needs neither */
	CHECK_EQ(decompress(z, XIPFS_ZALG_LZ4, frame, n, 4096), -XIPFS_ECORRUPT);
	CHECK_EQ(decompress(z, 9, frame, n, 4096), -XIPFS_ECORRUPT);
	CHECK_EQ(decompress(NULL, 9, src, 4096, 4096), 0);
}

static void test_data_crc(const struct zimage *zi, const struct xipfs_image *unit)
{
	static uint8_t copy[Z_MAXSIZE];
	struct xipfs_image img;
	struct xipfs_data_crc_info dc;
	uint64_t bad = 77, blocks = (zi->crc_offset - BLK) / BLK, at;

	TEST_SECTION("data checksums: table, blocks, a flipped byte found");
	CHECK_EQ(xipfs_image_open(&img, zi->img, zi->size), 0);
	CHECK_EQ(xipfs_data_crc_get(&img, &dc), 0);
	CHECK(dc.table_offset == zi->crc_offset && dc.blocks == blocks);
	CHECK_EQ(dc.table_crc, xipfs_le32(zi->img + SB(crc_table_crc)));
	CHECK_EQ(xipfs_data_crc_check_table(&img), 0);
	for (uint64_t i = 0; i < blocks; i++)
		CHECK_EQ(xipfs_data_block_check(&img, i), 0);
	CHECK_EQ(xipfs_data_block_check(&img, blocks), -ERANGE);
	CHECK_EQ(xipfs_data_block_check(&img, UINT64_MAX), -ERANGE);
	CHECK_EQ(xipfs_data_crc_check(&img, BLK, zi->crc_offset - BLK, &bad), 0);
	CHECK_EQ(xipfs_data_crc_check(&img, BLK, 0, &bad), 0);
	CHECK_EQ(xipfs_data_crc_check(&img, 0, 0, &bad), 0);
	CHECK_EQ(xipfs_data_crc_check(&img, zi->crc_offset - 1, 2, &bad),
		 -XIPFS_EBOUNDS);
	CHECK_EQ(xipfs_data_crc_check(&img, BLK - 1, 1, &bad), -XIPFS_EBOUNDS);
	CHECK_EQ(xipfs_data_crc_check(&img, UINT64_MAX, 2, &bad),
		 -XIPFS_EBOUNDS);
	CHECK_EQ(bad, 77);
	/* without the feature: ENODATA, and nothing to check */
	CHECK_EQ(xipfs_data_crc_get(unit, &dc), -ENODATA);
	CHECK_EQ(xipfs_data_crc_check_table(unit), -ENODATA);
	CHECK_EQ(xipfs_data_block_check(unit, 0), -ENODATA);
	CHECK_EQ(xipfs_data_crc_check(unit, BLK, 10, &bad), 0);

	/* a byte of /x in its second block, one of z's first cluster */
	memcpy(copy, zi->img, zi->size);
	copy[BLK + 4500] ^= 0x20;
	at = zi->zdata + 5;
	copy[at] ^= 0x01;
	CHECK_EQ(xipfs_image_open(&img, copy, zi->size), 0);
	CHECK_EQ(xipfs_verify(&img, NULL, NULL), 0);	/* not verify's job */
	CHECK_EQ(xipfs_data_block_check(&img, 0), 0);
	CHECK_EQ(xipfs_data_block_check(&img, 1), -XIPFS_ECRC);
	CHECK_EQ(xipfs_data_block_check(&img, (at - BLK) / BLK), -XIPFS_ECRC);
	/* the same blocks' bytes as a caller reads them: the bad copy's
	 * second block fails, the good image's bytes pass for it */
	CHECK_EQ(xipfs_data_block_check_bytes(&img, 1, copy + 2 * BLK), -XIPFS_ECRC);
	CHECK_EQ(xipfs_data_block_check_bytes(&img, 1, zi->img + 2 * BLK), 0);
	CHECK_EQ(xipfs_data_block_check_bytes(&img, blocks, zi->img), -ERANGE);
	CHECK_EQ(xipfs_data_block_check_bytes(unit, 0, zi->img), -ENODATA);
	CHECK_EQ(xipfs_data_crc_check(&img, BLK, 4096, &bad), 0);
	CHECK_EQ(xipfs_data_crc_check(&img, BLK, FILE_SIZE, &bad), -XIPFS_ECRC);
	CHECK_EQ(bad, 1);
	CHECK_EQ(xipfs_data_crc_check(&img, BLK + 4500, 1, NULL), -XIPFS_ECRC);
	CHECK_EQ(xipfs_data_crc_check(&img, zi->zdata, 1, &bad), -XIPFS_ECRC);
	CHECK_EQ(bad, (at - BLK) / BLK);
	{
		/* what a reader does: the stored range of what it serves */
		struct xipfs_inode_info in;
		uint64_t off, len;

		CHECK_EQ(xipfs_inode_get(&img, 2, &in), 0);
		CHECK_EQ(xipfs_file_stored_range(&img, &in, 100, 10, &off,
						 &len), 0);
		CHECK_EQ(xipfs_data_crc_check(&img, off, len, &bad),
			 -XIPFS_ECRC);
		CHECK_EQ(xipfs_inode_get(&img, 3, &in), 0);
		CHECK_EQ(xipfs_file_stored_range(&img, &in, Z_LSIZE - 1, 1,
						 &off, &len), 0);
		CHECK_EQ(xipfs_data_crc_check(&img, off, len, &bad),
			 (off - BLK) / BLK == (at - BLK) / BLK ?
				 -XIPFS_ECRC : 0);
	}
	/* the table's own CRC: one problem for verify */
	memcpy(copy, zi->img, zi->size);
	copy[zi->crc_offset + 1] ^= 1;
	CHECK_EQ(xipfs_image_open(&img, copy, zi->size), 0);
	CHECK_EQ(xipfs_data_crc_check_table(&img), -XIPFS_ECRC);
	CHECK_EQ(xipfs_verify(&img, NULL, NULL), 1);
	CHECK_EQ(xipfs_data_block_check(&img, 0), -XIPFS_ECRC);
}

/* The superblock's data CRC fields at open. */
static int open_crc_edit(const struct zimage *zi, uint32_t ro_compat,
			 uint64_t crc_offset, uint32_t reserved3)
{
	static uint8_t copy[Z_MAXSIZE];
	struct xipfs_image img;

	memcpy(copy, zi->img, zi->size);
	xipfs_put_le32(copy + SB(ro_compat), ro_compat);
	xipfs_put_le64(copy + SB(crc_offset), crc_offset);
	xipfs_put_le32(copy + SB(reserved3), reserved3);
	zfix(copy, zi->size, 0);
	return xipfs_image_open(&img, copy, zi->size);
}

static void test_data_crc_open(const struct zimage *zi)
{
	const uint32_t dcrc = XIPFS_RO_COMPAT_DATA_CRC;

	TEST_SECTION("data checksums: the superblock's fields at open");
	CHECK_EQ(open_crc_edit(zi, dcrc, zi->crc_offset, 0), 0);
	CHECK_EQ(open_crc_edit(zi, dcrc, zi->crc_offset, 1), -XIPFS_ECORRUPT);
	CHECK_EQ(open_crc_edit(zi, dcrc, zi->crc_offset + 8, 0), -XIPFS_EBOUNDS);
	CHECK_EQ(open_crc_edit(zi, dcrc, 0, 0), -XIPFS_EBOUNDS);
	CHECK_EQ(open_crc_edit(zi, dcrc, zi->size, 0), -XIPFS_EBOUNDS);
	CHECK_EQ(open_crc_edit(zi, dcrc, zi->size + BLK, 0), -XIPFS_EBOUNDS);
	CHECK_EQ(open_crc_edit(zi, dcrc, UINT64_MAX & ~(uint64_t)(BLK - 1), 0),
		 -XIPFS_EBOUNDS);
	/* a table at the data's start covers no block: valid */
	CHECK_EQ(open_crc_edit(zi, dcrc, BLK, 0), 0);
	/* the fields were reserved: without the feature they stay zero */
	CHECK_EQ(open_crc_edit(zi, 0, zi->crc_offset, 0), -XIPFS_ECORRUPT);
	CHECK_EQ(open_crc_edit(zi, 0, 0, 0), -XIPFS_ECORRUPT);	/* table CRC */
}

static void test_zencode(const struct zimage *zi, const struct xipfs_image *img)
{
	uint8_t buf[XIPFS_ZTABLE_HDR_SIZE + 4 * Z_ZCOUNT], sb[XIPFS_SUPER_SIZE];
	struct xipfs_zfile_info zf = { .algorithm = 256 };
	struct xipfs_data_crc_info dc;
	uint32_t ends[Z_ZCOUNT];

	TEST_SECTION("encoders: cluster table and data CRC fields round trip");
	CHECK_EQ(xipfs_encode_ztable(buf, &zf, ends), -ERANGE);
	zf = (struct xipfs_zfile_info){ .cluster_log2 = 256 };
	CHECK_EQ(xipfs_encode_ztable(buf, &zf, ends), -ERANGE);
	for (uint32_t ino = 2; ino <= 3; ino++) {
		struct xipfs_inode_info in;
		struct xipfs_cluster_info cl;
		size_t len;

		CHECK_EQ(xipfs_inode_get(img, ino, &in), 0);
		CHECK_EQ(xipfs_zfile_get(img, &in, &zf), 0);
		for (uint32_t i = 0; i < zf.cluster_count; i++) {
			CHECK_EQ(xipfs_cluster_get(img, &in, &zf, i, &cl), 0);
			ends[i] = (uint32_t)(cl.image_offset - zf.data) +
				  cl.stored_len;
		}
		CHECK_EQ(xipfs_encode_ztable(buf, &zf, ends), 0);
		len = XIPFS_ZTABLE_HDR_SIZE + 4 * (size_t)zf.cluster_count;
		CHECK(memcmp(buf, img->base + zf.table_offset, len) == 0);
	}
	CHECK(zf.table_offset == zi->lt);
	/* the one encoder writes the data CRC fields, from the struct */
	CHECK(img->crc_offset == zi->crc_offset && img->crc_table_crc != 0);
	CHECK_EQ(xipfs_encode_super(sb, img), 0);
	CHECK(memcmp(sb, img->base, XIPFS_SUPER_SIZE) == 0);
	/* the 0.2 interface puts the same fields into an encoded superblock */
	CHECK_EQ(xipfs_data_crc_get(img, &dc), 0);
	CHECK_EQ(xipfs_encode_super_data_crc(sb, &dc), 0);
	CHECK(memcmp(sb, img->base, XIPFS_SUPER_SIZE) == 0);
}

/* An incompat bit with no inode that needs it: valid, as with PACKED. */
static void test_unused_incompat(const uint8_t *good)
{
	static uint8_t copy[IMG_SIZE];
	struct xipfs_image img;

	TEST_SECTION("COMPRESSED or PACKED set, no inode using it: valid");
	for (uint32_t bit = 1; bit <= 2; bit++) {
		memcpy(copy, good, IMG_SIZE);
		xipfs_put_le32(copy + SB(incompat), bit);
		fix_crcs(copy);
		CHECK_EQ(xipfs_image_open(&img, copy, IMG_SIZE), 0);
		CHECK_EQ(xipfs_verify(&img, NULL, NULL), 0);
	}
}

/* A check of the caller's: counts the blocks it is asked about, and
 * fails them when told to. */
struct block_count {
	uint64_t blocks;
	int fail;
};

static int count_block(void *arg, const struct xipfs_file *f, uint64_t block)
{
	struct block_count *bc = arg;

	(void)f, (void)block;
	bc->blocks++;
	return bc->fail ? -EIO : 0;
}

/* XIPFS_READ_VERIFY: the stored bytes' blocks, by the library's check or
 * the context's, before any byte is given; a failed block fails the read. */
static void test_pread_verify(const struct xipfs_image *img)
{
	struct xipfs_zctx *z = xipfs_zctx_new();
	struct block_count bc = { 0, 0 };
	struct xipfs_inode_info zin;
	struct xipfs_file f;
	const uint8_t *out;

	TEST_SECTION("xipfs_file_pread with XIPFS_READ_VERIFY");
	if (!CHECK(z != NULL))
		return;
	CHECK_EQ(xipfs_inode_get(img, 2, &zin), 0);
	CHECK_EQ(xipfs_file_open(img, &zin, &f), 0);
	CHECK(f.compressed && f.zf.cluster_count == Z_ZCOUNT);
	CHECK_EQ(xipfs_file_pread(img, &f, 0, Z_ZSIZE, XIPFS_READ_VERIFY, z,
				  &out), Z_ZSIZE);
	CHECK_EQ(xipfs_zctx_clusters(z), Z_ZCOUNT);
	xipfs_zctx_set_check(z, count_block, &bc);
	CHECK_EQ(xipfs_file_pread(img, &f, 0, Z_ZSIZE, XIPFS_READ_VERIFY, z,
				  &out), Z_ZSIZE);
	CHECK(bc.blocks > 0);
	bc.fail = 1;
	out = (const uint8_t *)1;
	CHECK_EQ(xipfs_file_pread(img, &f, 0, 1, XIPFS_READ_VERIFY, z, &out),
		 -EIO);
	CHECK(out == NULL);
	/* no verify asked: the check is not called */
	bc.blocks = 0;
	CHECK_EQ(xipfs_file_pread(img, &f, 0, 1, 0, z, &out), 1);
	CHECK_EQ(bc.blocks, 0);
	xipfs_zctx_free(z);
}

static void test_compressed(const uint8_t *good, const struct xipfs_image *unit)
{
	static struct zimage zi;
	struct xipfs_image img;
	struct xipfs_zctx *z = xipfs_zctx_new();

	build_zimage(&zi);
	if (!CHECK(z != NULL) ||
	    !CHECK(xipfs_image_open(&img, zi.img, zi.size) == 0))
		return;
	CHECK_EQ(xipfs_verify(&img, NULL, NULL), 0);
	test_zfile_reads(&zi, &img, z);
	test_pread_verify(&img);
	test_zfile_errors(&zi);
	test_cluster_errors(&zi);
	test_frames(z);
	test_data_crc(&zi, unit);
	test_data_crc_open(&zi);
	test_zencode(&zi, &img);
	test_unused_incompat(good);
	xipfs_zctx_free(z);
}

static int write_image(const char *path, const uint8_t *img, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(img, 1, size, f) != size) {
		perror(path);
		if (f)
			fclose(f);
		return 1;
	}
	return fclose(f) != 0;
}

/* Mapping windows: page granularity and a 2 MiB device-DAX alignment. */
static void test_map_window(void)
{
	uint64_t off, len;

	CHECK_EQ(xipfs_map_window(0, 1, 4096, &off, &len), 0);
	CHECK_EQ(off, 0);
	CHECK_EQ(len, 4096);
	CHECK_EQ(xipfs_map_window(5000, 10000, 4096, &off, &len), 0);
	CHECK_EQ(off, 4096);
	CHECK_EQ(len, 12288);	/* [4096, 16384) covers [5000, 15000) */
	CHECK_EQ(xipfs_map_window(3 << 20, 1 << 20, 2 << 20, &off, &len), 0);
	CHECK_EQ(off, 2 << 20);
	CHECK_EQ(len, 2 << 20);
	CHECK_EQ(xipfs_map_window(1 << 20, 2 << 20, 2 << 20, &off, &len), 0);
	CHECK_EQ(off, 0);
	CHECK_EQ(len, 4 << 20);
	CHECK_EQ(xipfs_map_window(0, 0, 4096, &off, &len), -EINVAL);
	CHECK_EQ(xipfs_map_window(0, 1, 3000, &off, &len), -EINVAL);
	CHECK_EQ(xipfs_map_window(4095, UINT64_MAX - 100, 4096, &off, &len),
		 -EINVAL);
}

/* Byte counts on command lines. */
static void test_parse_size(void)
{
	uint64_t v = 7;

	CHECK(xipfs_parse_size("0", &v) == 0 && v == 0);
	CHECK(xipfs_parse_size("1M", &v) == 0 && v == 1 << 20);
	CHECK(xipfs_parse_size("0x100000", &v) == 0 && v == 1 << 20);
	CHECK(xipfs_parse_size("4KiB", &v) == 0 && v == 4096);
	CHECK(xipfs_parse_size("2g", &v) == 0 && v == 2ULL << 30);
	CHECK(xipfs_parse_size("18446744073709551615", &v) == 0 &&
	      v == UINT64_MAX);
	CHECK_EQ(xipfs_parse_size("", &v), -EINVAL);
	CHECK_EQ(xipfs_parse_size("-1", &v), -EINVAL);
	CHECK_EQ(xipfs_parse_size("12x", &v), -EINVAL);
	CHECK_EQ(xipfs_parse_size("1MX", &v), -EINVAL);
	CHECK_EQ(xipfs_parse_size("99999999999999999999", &v), -ERANGE);
	CHECK_EQ(xipfs_parse_size("16777216T", &v), -ERANGE);
}

/* One ACL entry in the kernel's xattr form. */
static size_t acl_put(uint8_t *p, size_t at, uint16_t tag, uint16_t perm,
		      uint32_t id)
{
	xipfs_put_le16(p + at, tag);
	xipfs_put_le16(p + at + 2, perm);
	xipfs_put_le32(p + at + 4, id);
	return at + 8;
}

static int acl_check(const uint8_t *v, size_t len)
{
	static const char name[] = "system.posix_acl_access";

	return xipfs_xattr_value_check(name, sizeof(name) - 1, v, len);
}

/* The kernel's rules for ACL and capability values, one by one. */
static void test_xattr_values(void)
{
	uint8_t v[64] = { 2, 0, 0, 0 };
	uint8_t cap[24] = { 0 };
	static const char capname[] = "security.capability";
	size_t n;

	TEST_SECTION("xattr values");
	n = acl_put(v, 4, 0x01, 6, UINT32_MAX);
	n = acl_put(v, n, 0x04, 4, UINT32_MAX);
	CHECK_EQ(acl_check(v, acl_put(v, n, 0x20, 4, UINT32_MAX)), 0);
	CHECK(acl_check(v, n) < 0);			/* no OTHER */
	CHECK(acl_check(v, 3) < 0);			/* no header */
	CHECK(acl_check(v, acl_put(v, n, 0x20, 4, 0) + 1) < 0); /* ragged */
	/* a named user needs a mask; ids strictly rising */
	n = acl_put(v, 4, 0x01, 6, 0);
	n = acl_put(v, n, 0x02, 4, 1000);
	n = acl_put(v, n, 0x04, 4, 0);
	CHECK(acl_check(v, acl_put(v, n, 0x20, 4, 0)) < 0);
	CHECK_EQ(acl_check(v, acl_put(v, acl_put(v, n, 0x10, 7, 0),
				      0x20, 4, 0)), 0);
	n = acl_put(v, 4, 0x01, 6, 0);
	n = acl_put(v, n, 0x02, 4, 1000);
	n = acl_put(v, n, 0x02, 4, 1000);		/* duplicate id */
	n = acl_put(v, n, 0x04, 4, 0);
	CHECK(acl_check(v, acl_put(v, acl_put(v, n, 0x10, 7, 0),
				   0x20, 4, 0)) < 0);
	n = acl_put(v, 4, 0x04, 4, 0);			/* out of order */
	n = acl_put(v, n, 0x01, 6, 0);
	CHECK(acl_check(v, acl_put(v, n, 0x20, 4, 0)) < 0);
	n = acl_put(v, 4, 0x01, 8, 0);			/* perm past rwx */
	n = acl_put(v, n, 0x04, 4, 0);
	CHECK(acl_check(v, acl_put(v, n, 0x20, 4, 0)) < 0);
	xipfs_put_le32(v, 0xdeadbeef);
	CHECK(acl_check(v, n) < 0);			/* version */
	/* capabilities: revision and size go together */
	xipfs_put_le32(cap, 0x02000001);
	CHECK_EQ(xipfs_xattr_value_check(capname, sizeof(capname) - 1, cap, 20), 0);
	CHECK(xipfs_xattr_value_check(capname, sizeof(capname) - 1, cap, 24) < 0);
	xipfs_put_le32(cap, 0x03000000);
	CHECK_EQ(xipfs_xattr_value_check(capname, sizeof(capname) - 1, cap, 24), 0);
	xipfs_put_le32(cap, 0x03000002);		/* unknown flag */
	CHECK(xipfs_xattr_value_check(capname, sizeof(capname) - 1, cap, 24) < 0);
	/* other names: any value */
	CHECK_EQ(xipfs_xattr_value_check("user.x", 6, v, 3), 0);
}

/* Decode every object of the image, encode it again: the same bytes. */
static void test_encode_roundtrip(const struct xipfs_image *img)
{
	uint8_t buf[XIPFS_SUPER_SIZE];

	TEST_SECTION("encoders: decode -> encode gives the image's bytes");
	CHECK_EQ(xipfs_encode_super(buf, img), 0);
	CHECK(memcmp(buf, img->base, XIPFS_SUPER_SIZE) == 0);
	for (uint32_t ino = 1; ino <= img->inode_count; ino++) {
		struct xipfs_inode_info in;
		struct xipfs_dirent_info de;
		struct xipfs_xattr_info xa;
		uint64_t pos = 0, at = 0;

		CHECK_EQ(xipfs_inode_get(img, ino, &in), 0);
		CHECK_EQ(xipfs_encode_inode(buf, &in), 0);
		CHECK(memcmp(buf, img->base + img->inode_offset +
				     (ino - 1) * XIPFS_INODE_SIZE,
			     XIPFS_INODE_SIZE) == 0);
		for (uint64_t i = 0; i < xipfs_dir_count(&in); i++) {
			CHECK_EQ(xipfs_readdir(img, &in, 3 + i, &de), 1);
			CHECK_EQ(xipfs_encode_dirent(buf, &de, (uint64_t)(
				(const uint8_t *)de.name - img->base)), 0);
			CHECK(memcmp(buf, img->base + in.data +
					     i * XIPFS_DIRENT_SIZE,
				     XIPFS_DIRENT_SIZE) == 0);
		}
		while (xipfs_xattr_next(img, &in, &pos, &xa) > 0) {
			size_t len = XIPFS_XATTR_HDR_SIZE + xa.name_len +
				     xa.value_len;

			CHECK(len <= sizeof(buf));
			CHECK_EQ(xipfs_encode_xattr(buf, &xa), 0);
			CHECK(memcmp(buf, img->base + in.xattr_offset + at,
				     len) == 0);
			at = pos;
		}
	}
}

/* What a field cannot hold is refused, not cut short. */
static void test_encode_range(void)
{
	uint8_t buf[XIPFS_SUPER_SIZE];
	struct xipfs_image sb = { .block_log2 = 256 };
	struct xipfs_inode_info in = { .mode = 0x10000 };
	struct xipfs_dirent_info de = { .name_len = 256 };
	struct xipfs_xattr_info xa = { .name_len = 0x10000 };

	TEST_SECTION("encoders: values too wide for their field");
	CHECK_EQ(xipfs_encode_super(buf, &sb), -ERANGE);
	sb = (struct xipfs_image){ .meta_offset = 1 };
	CHECK_EQ(xipfs_encode_super(buf, &sb), -ERANGE);
	CHECK_EQ(xipfs_encode_inode(buf, &in), -ERANGE);
	in = (struct xipfs_inode_info){ .flags = 0x10000 };
	CHECK_EQ(xipfs_encode_inode(buf, &in), -ERANGE);
	CHECK_EQ(xipfs_encode_dirent(buf, &de, 0), -ERANGE);
	de = (struct xipfs_dirent_info){ .type = 256 };
	CHECK_EQ(xipfs_encode_dirent(buf, &de, 0), -ERANGE);
	CHECK_EQ(xipfs_encode_xattr(buf, &xa), -ERANGE);
	/* an encoded superblock opens: its CRC is the encoder's */
	sb = (struct xipfs_image){ .version_major = XIPFS_VERSION_MAJOR,
		.block_log2 = 12, .image_size = BLK,
		.meta_offset = XIPFS_SUPER_SIZE,
		.meta_end = XIPFS_SUPER_SIZE + XIPFS_INODE_SIZE,
		.data_offset = BLK, .inode_offset = XIPFS_SUPER_SIZE,
		.inode_count = 1, .super_crc = 0xdeadbeef };
	CHECK_EQ(xipfs_encode_super(buf, &sb), 0);
	CHECK_EQ(xipfs_le32(buf + SB(super_crc)), xipfs_super_crc(buf));
	CHECK_EQ(xipfs_le32(buf + SB(root_ino)), XIPFS_ROOT_INO);
}

/* The one name order and the one name rule. */
static void test_names(void)
{
	char nul[2] = { 'a', '\0' }, longname[XIPFS_NAME_MAX + 1];

	TEST_SECTION("xipfs_name_cmp and xipfs_name_valid");
	CHECK(xipfs_name_cmp("a", 1, "b", 1) < 0);
	CHECK(xipfs_name_cmp("b", 1, "a", 1) > 0);
	CHECK(xipfs_name_cmp("ab", 2, "ab", 2) == 0);
	CHECK(xipfs_name_cmp("a", 1, "ab", 2) < 0);	/* prefix first */
	CHECK(xipfs_name_cmp("ab", 2, "a", 1) > 0);
	CHECK(xipfs_name_cmp("\xff", 1, "a", 1) > 0);	/* unsigned bytes */
	CHECK(xipfs_name_cmp("Z", 1, "a", 1) < 0);	/* no locale */
	CHECK(xipfs_name_cmp("", 0, "", 0) == 0);
	memset(longname, 'x', sizeof(longname));
	CHECK(xipfs_name_valid("a", 1));
	CHECK(xipfs_name_valid("...", 3));
	CHECK(xipfs_name_valid(".a", 2));
	CHECK(xipfs_name_valid(longname, XIPFS_NAME_MAX));
	CHECK(!xipfs_name_valid(longname, XIPFS_NAME_MAX + 1));
	CHECK(!xipfs_name_valid("", 0));
	CHECK(!xipfs_name_valid(".", 1));
	CHECK(!xipfs_name_valid("..", 2));
	CHECK(!xipfs_name_valid("a/b", 3));
	CHECK(!xipfs_name_valid(nul, 2));
}

int main(int argc, char **argv)
{
	static uint8_t good[IMG_SIZE];
	struct layout lo;
	struct xipfs_image img;

	build_image(good, &lo);
	if (argc == 3 && strcmp(argv[1], "--write") == 0)
		return write_image(argv[2], good, IMG_SIZE);
	if (argc == 3 && strcmp(argv[1], "--write-packed") == 0) {
		/* The same tree with /file packed at an unaligned offset. */
		static uint8_t packed[IMG_SIZE];

		memcpy(packed, good, IMG_SIZE);
		memmove(packed + BLK + 100, packed + BLK, FILE_SIZE);
		memset(packed + BLK, 0, 100);
		xipfs_put_le64(inode_at(packed, 3) + IN(data), BLK + 100);
		xipfs_put_le16(inode_at(packed, 3) + IN(flags), XIPFS_INODE_PACKED);
		xipfs_put_le32(packed + SB(incompat), XIPFS_INCOMPAT_PACKED);
		fix_crcs(packed);
		return write_image(argv[2], packed, IMG_SIZE);
	}
	if (argc == 3 && strcmp(argv[1], "--write-zfile") == 0) {
		static struct zimage zi;

		build_zimage(&zi);
		return write_image(argv[2], zi.img, zi.size);
	}
	test_crc();
	test_le();
	test_map_window();
	test_parse_size();
	test_xattr_values();
	test_open(good);
	if (!CHECK(xipfs_image_open(&img, good, IMG_SIZE) == 0))
		return test_summary(argv[0]);
	test_inodes(&img);
	test_lookup(&img);
	test_readdir(&img);
	test_data(&img);
	test_xattrs(&img);
	test_statfs(&img);
	test_encode_roundtrip(&img);
	test_encode_range();
	test_names();
	test_verify(good, &lo);
	test_corrupt_accessors(good, &lo);
	test_compressed(good, &img);
	return test_summary(argv[0]);
}
