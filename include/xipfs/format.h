/* SPDX-License-Identifier: MIT */
/*
 * xipfs on-disk format, version 1.
 *
 * This header is the format and nothing else; man/xipfs.5 is its prose.
 *
 * An image is a linear, read-only, uncompressed file system laid out so that
 * every regular file's data is one contiguous run starting on a block
 * boundary, which lets a reader map any file straight out of the image:
 *
 *   offset 0          struct xipfs_super (256 bytes)
 *   inode_offset      inode table: inode_count x struct xipfs_inode, indexed
 *                     by inode number - 1
 *   ...               directory entry arrays, names, symlink targets and
 *                     xattr blocks, in any order, all inside the metadata
 *                     region [meta_offset, meta_offset + meta_size)
 *   data_offset       file data (block-aligned), packed small files, the
 *                     stored clusters of compressed files, padding
 *   crc_offset        with XIPFS_RO_COMPAT_DATA_CRC only: the data CRC
 *                     table (block-aligned, after all file data)
 *   meta_table_offset with XIPFS_RO_COMPAT_META_CRC only: the metadata CRC
 *                     table (block-aligned, after the data CRC table)
 *   image_size        end; a multiple of the block size
 *
 * All integers are little-endian and fixed-width; no C bitfields; every
 * struct is naturally aligned, and its size and every field's offset are
 * pinned by static asserts (the reader takes its offsets from these structs).
 * Every offset is an absolute byte offset from the start of the image.
 *
 * A reader treats every field as untrusted: each offset, length and count is
 * checked against the region it must lie in before it is used.
 */
#ifndef XIPFS_FORMAT_H
#define XIPFS_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define XIPFS_MAGIC		0x31504958u	/* "XIP1" read as le32 */
#define XIPFS_VERSION_MAJOR	1		/* bumped on incompatible change */
#define XIPFS_VERSION_MINOR	0		/* informational */

#define XIPFS_SUPER_SIZE	256
#define XIPFS_INODE_SIZE	64
#define XIPFS_DIRENT_SIZE	16
#define XIPFS_XATTR_HDR_SIZE	8

#define XIPFS_ROOT_INO		1	/* inode numbers start at 1; 0 is "none" */
#define XIPFS_NAME_MAX		255	/* longest entry name, bytes */
#define XIPFS_SYMLINK_MAX	4095	/* longest symlink target, bytes */
#define XIPFS_XATTR_NAME_MAX	255	/* longest xattr name, bytes */
#define XIPFS_XATTR_VALUE_MAX	65536	/* longest xattr value, bytes */
/* Names of one inode's xattrs with a NUL each, what listxattr(2) returns:
 * at most the kernel's XATTR_LIST_MAX, or no reader could list them. */
#define XIPFS_XATTR_LIST_MAX	65536
/* Device numbers as Linux holds them (12-bit major, 20-bit minor) and as
 * FUSE carries them; a larger one would alias another device. */
#define XIPFS_DEV_MAJOR_MAX	0xfffu
#define XIPFS_DEV_MINOR_MAX	0xfffffu
/* Deepest directory nesting (the root is depth 0): a reader may walk a
 * tree with one open directory per level. */
#define XIPFS_DEPTH_MAX		4096

/* Block sizes a reader must accept: 4, 16 and 64 KiB (log2 12, 14, 16). */
#define XIPFS_BLOCK_LOG2_MIN	12
#define XIPFS_BLOCK_LOG2_MAX	16

/*
 * Feature bits.  A reader ignores unknown compat bits, may read an image
 * with unknown ro_compat bits (every reader is read-only), and refuses an
 * image with any incompat bit it does not know.
 */
/* compat: files of 2 MiB and more start on a 2 MiB boundary (PMD mapping). */
#define XIPFS_COMPAT_ALIGN_HUGE		0x00000001u
/*
 * compat: no inode carries xattrs (each has xattr_offset and xattr_size
 * zero; a reader refuses an inode that does not).  A reader may then say
 * once that there are none: FUSE caches an ENOSYS to GETXATTR for the
 * whole mount, where a per-inode ENODATA costs a request on every exec
 * (security.capability) and every ls -l (security.selinux).
 */
#define XIPFS_COMPAT_NO_XATTRS		0x00000002u
#define XIPFS_COMPAT_KNOWN		(XIPFS_COMPAT_ALIGN_HUGE | \
					 XIPFS_COMPAT_NO_XATTRS)
/* incompat: some inodes carry XIPFS_INODE_PACKED (data not block-aligned). */
#define XIPFS_INCOMPAT_PACKED		0x00000001u
/* incompat: some inodes carry XIPFS_INODE_COMPRESSED (struct xipfs_ztable). */
#define XIPFS_INCOMPAT_COMPRESSED	0x00000002u
#define XIPFS_INCOMPAT_KNOWN		(XIPFS_INCOMPAT_PACKED | \
					 XIPFS_INCOMPAT_COMPRESSED)
/*
 * ro_compat: a CRC32C of every block of the data region.  The table lies at
 * crc_offset: crc_blocks = (crc_offset - data_offset) >> block_log2 le32
 * values, entry i the CRC32C of the image bytes [data_offset + i * block,
 * data_offset + (i + 1) * block), whatever they hold (file data, packed
 * files, stored clusters, padding).  Every file's stored bytes lie before
 * crc_offset, so every byte a reader serves is covered; the table's own
 * CRC32C is crc_table_crc in the superblock, which super_crc covers.  A
 * block's CRC checks what is stored (for a compressed file: the stored
 * cluster bytes), so damage is caught before anything is decompressed.
 */
#define XIPFS_RO_COMPAT_DATA_CRC	0x00000001u
/*
 * ro_compat: a CRC32C of every block of [0, data_offset), the metadata
 * and the superblock's block, so a reader can check each metadata block
 * the first time it uses bytes in it, and never trust a flipped inode,
 * entry, name, link target, xattr or cluster table.  The table lies at
 * meta_table_offset: meta_blocks = data_offset >> block_log2 le32 values,
 * entry i the CRC32C of the image bytes [i * block, (i + 1) * block),
 * with the superblock's 256 bytes taken as zero in entry 0 (super_crc
 * covers them, and the superblock holds the table's own CRC32C,
 * meta_table_crc).  The table is block-aligned, after the data (and after
 * the data CRC table when there is one); file data ends before it.
 */
#define XIPFS_RO_COMPAT_META_CRC	0x00000002u
#define XIPFS_RO_COMPAT_KNOWN		(XIPFS_RO_COMPAT_DATA_CRC | \
					 XIPFS_RO_COMPAT_META_CRC)

/*
 * The superblock, at offset 0.  super_crc is the CRC32C (Castagnoli,
 * reflected, initial value and final xor 0xffffffff) of these 256 bytes with
 * super_crc itself taken as zero; meta_crc is the CRC32C of the metadata
 * region.  A reader checks super_crc at open (O(1)); meta_crc costs a pass
 * over the metadata and is checked by xipfsck, not at mount: a reader of
 * an image with XIPFS_RO_COMPAT_META_CRC checks the metadata block by
 * block on first use instead (meta_table_crc at open, O(metadata / 1024)).
 */
struct xipfs_super {
	uint32_t magic;		/* XIPFS_MAGIC */
	uint16_t version_major;	/* XIPFS_VERSION_MAJOR */
	uint16_t version_minor;	/* XIPFS_VERSION_MINOR of the writer */
	uint32_t compat;	/* XIPFS_COMPAT_* */
	uint32_t incompat;	/* XIPFS_INCOMPAT_* */
	uint32_t ro_compat;	/* XIPFS_RO_COMPAT_* */
	uint8_t block_log2;	/* block size = 1 << block_log2; 12..16 */
	uint8_t reserved0[3];	/* zero */
	uint64_t image_size;	/* bytes; multiple of the block size */
	uint64_t meta_offset;	/* = XIPFS_SUPER_SIZE */
	uint64_t meta_size;	/* bytes of metadata from meta_offset */
	uint64_t data_offset;	/* first data byte; block-aligned, >= meta end */
	uint64_t inode_offset;	/* inode table; 8-aligned, inside metadata */
	uint32_t inode_count;	/* inodes in the table; >= 1 */
	uint32_t root_ino;	/* XIPFS_ROOT_INO */
	int64_t build_time;	/* seconds since the epoch */
	uint32_t build_time_nsec;	/* < 1e9 */
	uint32_t super_crc;	/* CRC32C of this struct, this field zero */
	uint32_t meta_crc;	/* CRC32C of the metadata region */
	uint32_t reserved1;	/* zero */
	uint8_t uuid[16];	/* volume UUID (RFC 9562 layout) */
	uint64_t data_bytes;	/* sum of file data sizes as stored (deduped) */
	uint32_t file_count;	/* regular file inodes, for statfs */
	uint32_t dir_count;	/* directory inodes */
	char volume_name[32];	/* NUL-padded label, may be empty */
	/* XIPFS_RO_COMPAT_DATA_CRC (else all zero): */
	uint64_t crc_offset;	/* data CRC table; block-aligned, in
				 * [data_offset, image_size) */
	uint32_t crc_table_crc;	/* CRC32C of the table's bytes */
	uint32_t reserved3;	/* zero */
	/* XIPFS_RO_COMPAT_META_CRC (else all zero): */
	uint64_t meta_table_offset;	/* metadata CRC table; block-aligned,
					 * after the data (and data CRC table) */
	uint32_t meta_table_crc;	/* CRC32C of that table's bytes */
	uint32_t reserved4;	/* zero */
	uint8_t reserved2[64];	/* zero */
};
_Static_assert(sizeof(struct xipfs_super) == XIPFS_SUPER_SIZE,
	       "xipfs_super must be 256 bytes");
_Static_assert(offsetof(struct xipfs_super, magic) == 0, "super.magic moved");
_Static_assert(offsetof(struct xipfs_super, version_major) == 4, "super.version_major moved");
_Static_assert(offsetof(struct xipfs_super, version_minor) == 6, "super.version_minor moved");
_Static_assert(offsetof(struct xipfs_super, compat) == 8, "super.compat moved");
_Static_assert(offsetof(struct xipfs_super, incompat) == 12, "super.incompat moved");
_Static_assert(offsetof(struct xipfs_super, ro_compat) == 16, "super.ro_compat moved");
_Static_assert(offsetof(struct xipfs_super, block_log2) == 20, "super.block_log2 moved");
_Static_assert(offsetof(struct xipfs_super, reserved0) == 21, "super.reserved0 moved");
_Static_assert(offsetof(struct xipfs_super, image_size) == 24, "super.image_size moved");
_Static_assert(offsetof(struct xipfs_super, meta_offset) == 32, "super.meta_offset moved");
_Static_assert(offsetof(struct xipfs_super, meta_size) == 40, "super.meta_size moved");
_Static_assert(offsetof(struct xipfs_super, data_offset) == 48, "super.data_offset moved");
_Static_assert(offsetof(struct xipfs_super, inode_offset) == 56, "super.inode_offset moved");
_Static_assert(offsetof(struct xipfs_super, inode_count) == 64, "super.inode_count moved");
_Static_assert(offsetof(struct xipfs_super, root_ino) == 68, "super.root_ino moved");
_Static_assert(offsetof(struct xipfs_super, build_time) == 72, "super.build_time moved");
_Static_assert(offsetof(struct xipfs_super, build_time_nsec) == 80, "super.build_time_nsec moved");
_Static_assert(offsetof(struct xipfs_super, super_crc) == 84, "super.super_crc moved");
_Static_assert(offsetof(struct xipfs_super, meta_crc) == 88, "super.meta_crc moved");
_Static_assert(offsetof(struct xipfs_super, reserved1) == 92, "super.reserved1 moved");
_Static_assert(offsetof(struct xipfs_super, uuid) == 96, "super.uuid moved");
_Static_assert(offsetof(struct xipfs_super, data_bytes) == 112, "super.data_bytes moved");
_Static_assert(offsetof(struct xipfs_super, file_count) == 120, "super.file_count moved");
_Static_assert(offsetof(struct xipfs_super, dir_count) == 124, "super.dir_count moved");
_Static_assert(offsetof(struct xipfs_super, volume_name) == 128, "super.volume_name moved");
_Static_assert(offsetof(struct xipfs_super, crc_offset) == 160, "super.crc_offset moved");
_Static_assert(offsetof(struct xipfs_super, crc_table_crc) == 168, "super.crc_table_crc moved");
_Static_assert(offsetof(struct xipfs_super, reserved3) == 172, "super.reserved3 moved");
_Static_assert(offsetof(struct xipfs_super, meta_table_offset) == 176, "super.meta_table_offset moved");
_Static_assert(offsetof(struct xipfs_super, meta_table_crc) == 184, "super.meta_table_crc moved");
_Static_assert(offsetof(struct xipfs_super, reserved4) == 188, "super.reserved4 moved");
_Static_assert(offsetof(struct xipfs_super, reserved2) == 192, "super.reserved2 moved");

/* xipfs_inode.flags */
/* Data starts at any byte offset and may share blocks with other files; such
 * a file can be read but not mapped in place.  Needs XIPFS_INCOMPAT_PACKED. */
#define XIPFS_INODE_PACKED	0x0001u
/* The file is stored in independently compressed clusters: data is the
 * offset of its struct xipfs_ztable in metadata.  Such a file can be read
 * but not mapped in place.  Regular files only, never with PACKED; needs
 * XIPFS_INCOMPAT_COMPRESSED. */
#define XIPFS_INODE_COMPRESSED	0x0002u
#define XIPFS_INODE_FLAGS_KNOWN	(XIPFS_INODE_PACKED | XIPFS_INODE_COMPRESSED)

/*
 * An inode: the entry at inode_offset + (ino - 1) * 64.  Inode numbers are
 * the table index plus one, so they are stable and need no lookup table.
 *
 * mode holds the file type (S_IFMT bits, Linux values) and permission bits.
 * What size and data mean depends on the type:
 *   regular  size = file length; data = offset of its first byte, a multiple
 *            of the block size unless XIPFS_INODE_PACKED; data is 0 when
 *            size is 0.  Several inodes may share data (deduplication).
 *            With XIPFS_INODE_COMPRESSED: 1 <= size <= XIPFS_ZFILE_MAX and
 *            data = offset of the file's cluster table (see below).
 *   dir      size = bytes of its entry array (a multiple of 16); data =
 *            offset of that array (8-aligned, inside metadata, also for an
 *            empty directory); parent =
 *            inode number of "..", the root's parent is the root itself.
 *   symlink  size = target length (1..4095); data = offset of the target
 *            (inside metadata, not NUL-terminated, no NUL byte in it).
 *   chr/blk  size = 0; data = device number: major << 32 | minor, major
 *            at most XIPFS_DEV_MAJOR_MAX and minor XIPFS_DEV_MINOR_MAX.
 *   fifo/sock size = 0; data = 0.
 * xattr_offset/xattr_size locate the inode's xattr block inside metadata
 * (both 0 when it has none); inodes may share a block.
 */
struct xipfs_inode {
	uint16_t mode;		/* S_IFMT | permission bits */
	uint16_t flags;		/* XIPFS_INODE_* */
	uint32_t nlink;		/* links; dirs: 2 + subdirectories */
	uint32_t uid;
	uint32_t gid;
	uint64_t size;		/* see above */
	int64_t mtime;		/* seconds since the epoch */
	uint32_t mtime_nsec;	/* < 1e9 */
	uint32_t parent;	/* dirs: inode of ".."; others: 0 */
	uint64_t data;		/* see above */
	uint64_t xattr_offset;	/* xattr block, or 0 */
	uint32_t xattr_size;	/* bytes of the xattr block, or 0 */
	uint32_t reserved;	/* zero */
};
_Static_assert(sizeof(struct xipfs_inode) == XIPFS_INODE_SIZE,
	       "xipfs_inode must be 64 bytes");
_Static_assert(offsetof(struct xipfs_inode, mode) == 0, "inode.mode moved");
_Static_assert(offsetof(struct xipfs_inode, flags) == 2, "inode.flags moved");
_Static_assert(offsetof(struct xipfs_inode, nlink) == 4, "inode.nlink moved");
_Static_assert(offsetof(struct xipfs_inode, uid) == 8, "inode.uid moved");
_Static_assert(offsetof(struct xipfs_inode, gid) == 12, "inode.gid moved");
_Static_assert(offsetof(struct xipfs_inode, size) == 16, "inode.size moved");
_Static_assert(offsetof(struct xipfs_inode, mtime) == 24, "inode.mtime moved");
_Static_assert(offsetof(struct xipfs_inode, mtime_nsec) == 32, "inode.mtime_nsec moved");
_Static_assert(offsetof(struct xipfs_inode, parent) == 36, "inode.parent moved");
_Static_assert(offsetof(struct xipfs_inode, data) == 40, "inode.data moved");
_Static_assert(offsetof(struct xipfs_inode, xattr_offset) == 48, "inode.xattr_offset moved");
_Static_assert(offsetof(struct xipfs_inode, xattr_size) == 56, "inode.xattr_size moved");
_Static_assert(offsetof(struct xipfs_inode, reserved) == 60, "inode.reserved moved");

/*
 * A directory entry.  A directory's array is sorted by name, bytewise
 * (memcmp on the common prefix, then the shorter name first), with no
 * duplicates, so lookup is a binary search.  "." and ".." are not stored.
 * The readdir cookie of an entry is its index in the array plus 3 (1 and 2
 * stand for "." and ".."), valid for as long as the image exists.
 */
struct xipfs_dirent {
	uint32_t ino;		/* inode number of the entry */
	uint8_t name_len;	/* 1..255 */
	uint8_t type;		/* DT_* of the inode's type, as in dirent.h */
	uint16_t reserved;	/* zero */
	uint64_t name_offset;	/* offset of the name (no NUL) in metadata */
};
_Static_assert(sizeof(struct xipfs_dirent) == XIPFS_DIRENT_SIZE,
	       "xipfs_dirent must be 16 bytes");
_Static_assert(offsetof(struct xipfs_dirent, ino) == 0, "dirent.ino moved");
_Static_assert(offsetof(struct xipfs_dirent, name_len) == 4, "dirent.name_len moved");
_Static_assert(offsetof(struct xipfs_dirent, type) == 5, "dirent.type moved");
_Static_assert(offsetof(struct xipfs_dirent, reserved) == 6, "dirent.reserved moved");
_Static_assert(offsetof(struct xipfs_dirent, name_offset) == 8, "dirent.name_offset moved");

/*
 * An xattr block is a run of entries, each this header, then name_len bytes
 * of the full name (e.g. "security.capability", no NUL), then value_len
 * bytes of value, the next entry following immediately (no padding).
 * Entries are sorted by name bytewise with no duplicates, and their names
 * with a NUL each add up to at most XIPFS_XATTR_LIST_MAX bytes.  POSIX ACLs
 * are stored as system.posix_acl_access / system.posix_acl_default in the
 * kernel's xattr representation (version 2, little-endian), and must be
 * ACLs the kernel accepts (see xipfs_xattr_value_check()); a
 * security.capability value is a vfs_cap_data of revision 1, 2 or 3.
 */
struct xipfs_xattr {
	uint32_t value_len;	/* 0..65536 */
	uint16_t name_len;	/* 1..255 */
	uint16_t reserved;	/* zero */
};
_Static_assert(sizeof(struct xipfs_xattr) == XIPFS_XATTR_HDR_SIZE,
	       "xipfs_xattr header must be 8 bytes");
_Static_assert(offsetof(struct xipfs_xattr, value_len) == 0, "xattr.value_len moved");
_Static_assert(offsetof(struct xipfs_xattr, name_len) == 4, "xattr.name_len moved");
_Static_assert(offsetof(struct xipfs_xattr, reserved) == 6, "xattr.reserved moved");

/*
 * A compressed file's cluster table, 8-aligned inside metadata: this
 * header, then cluster_count le32 end offsets.  The file is cut into
 * clusters of 1 << cluster_log2 bytes (the last one shorter), each stored
 * on its own, so any byte range is read by touching only its clusters.
 * Cluster i is stored at [data + end[i - 1], data + end[i]) (end[-1] = 0):
 * the ends never decrease, and a cluster's stored length s and its length
 * l (the cluster size, or what is left of the file) obey 1 <= s <= l.
 * s == l means the cluster is stored raw (it did not shrink); s < l that
 * it is one frame of the algorithm (a zstd frame, or an LZ4 block as
 * LZ4_compress_default makes) that decompresses to exactly l bytes.  The
 * stored bytes lie in the data region at any byte offset, with no
 * alignment; inodes with the same content may share a table.
 *
 * A reader checks the header and end[cluster_count - 1] when it decodes
 * the inode (O(1): a table that claims 2^32 clusters costs nothing, as it
 * must fit inside metadata), and each cluster's pair of ends when it
 * touches the cluster.
 */
#define XIPFS_ZALG_ZSTD		1
#define XIPFS_ZALG_LZ4		2
/* Cluster sizes: 4 KiB to 1 MiB, which bounds a reader's scratch buffer. */
#define XIPFS_CLUSTER_LOG2_MIN	12
#define XIPFS_CLUSTER_LOG2_MAX	20
/* Largest compressed file: its stored ends must fit in 32 bits. */
#define XIPFS_ZFILE_MAX		0xffffffffu
#define XIPFS_ZTABLE_HDR_SIZE	16

struct xipfs_ztable {
	uint8_t algorithm;	/* XIPFS_ZALG_* */
	uint8_t cluster_log2;	/* XIPFS_CLUSTER_LOG2_MIN..MAX */
	uint16_t reserved;	/* zero */
	uint32_t cluster_count;	/* = ceil(size / cluster size), >= 1 */
	uint64_t data;		/* image offset of cluster 0's stored bytes */
	/* uint32_t end[cluster_count] follows */
};
_Static_assert(sizeof(struct xipfs_ztable) == XIPFS_ZTABLE_HDR_SIZE,
	       "xipfs_ztable header must be 16 bytes");
_Static_assert(offsetof(struct xipfs_ztable, algorithm) == 0, "ztable.algorithm moved");
_Static_assert(offsetof(struct xipfs_ztable, cluster_log2) == 1, "ztable.cluster_log2 moved");
_Static_assert(offsetof(struct xipfs_ztable, reserved) == 2, "ztable.reserved moved");
_Static_assert(offsetof(struct xipfs_ztable, cluster_count) == 4, "ztable.cluster_count moved");
_Static_assert(offsetof(struct xipfs_ztable, data) == 8, "ztable.data moved");

#endif /* XIPFS_FORMAT_H */
