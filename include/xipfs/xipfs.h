/* SPDX-License-Identifier: MIT */
/*
 * libxipfs: the one reader of xipfs images every tool shares.
 *
 * The library works on an image already in memory (a pointer and a length,
 * usually a read-only shared mapping made by xipfs_map_source()).  It never
 * allocates per call (a reading context, struct xipfs_zctx, makes its parts
 * once, on first need), keeps no global state and never writes to the image
 * or to a struct xipfs_image after xipfs_image_open(), so any number of
 * threads may call it at once on the same image.  (The one thing it updates
 * after open is the bitmap of metadata blocks already checked, which
 * xipfs_image_open() allocates and whose bits are set atomically.)
 *
 * Every function returns 0 (or a count) on success and a negative code on
 * failure: a negated errno for ordinary outcomes (-ENOENT, -ENOTDIR,
 * -ENODATA, -ERANGE, -EINVAL, ...) or one of the negated XIPFS_E* codes below
 * when the image itself is damaged.  xipfs_strerror() names either kind.
 * A daemon answers any XIPFS_E* code with EIO.
 */
#ifndef XIPFS_XIPFS_H
#define XIPFS_XIPFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "xipfs/format.h"

/* Image damage, kept apart from errno values so no corruption reads as
 * "no such file". */
enum {
	XIPFS_EBASE = 4096,
	XIPFS_EMAGIC,		/* not an xipfs image */
	XIPFS_EVERSION,		/* format version this reader does not know */
	XIPFS_EFEATURE,		/* unknown incompat feature bit */
	XIPFS_ETRUNC,		/* image shorter than its superblock says */
	XIPFS_ECRC,		/* checksum mismatch */
	XIPFS_ECORRUPT,		/* a field has a value the format forbids */
	XIPFS_EBOUNDS,		/* an offset/length points outside its region */
	XIPFS_EOVERFLOW,	/* offset + length or a product overflows */
	XIPFS_ELOOP,		/* directory cycle or self-reference */
	XIPFS_ELAST
};

/* Is this negative return a sign of a damaged image (as opposed to errno)? */
static inline int xipfs_is_corruption(int err)
{
	return err <= -(XIPFS_EBASE + 1) && err > -XIPFS_ELAST;
}

const char *xipfs_strerror(int err);

/* The decoded superblock and where the image lives.  Read-only after open. */
struct xipfs_image {
	const uint8_t *base;	/* first byte of the image */
	uint64_t length;	/* bytes available at base (>= image_size) */
	uint64_t image_size;
	uint64_t meta_offset, meta_end;	/* metadata region [offset, end) */
	uint64_t data_offset;
	uint64_t inode_offset;
	uint32_t inode_count;
	uint32_t block_log2;
	uint32_t block_size;
	uint32_t compat, incompat, ro_compat;
	uint16_t version_major, version_minor;
	int64_t build_time;
	uint32_t build_time_nsec;
	uint32_t super_crc, meta_crc;
	uint8_t uuid[16];
	uint64_t data_bytes;
	uint32_t file_count, dir_count;
	char volume_name[33];
	/* XIPFS_RO_COMPAT_DATA_CRC: the data CRC table (4 bytes a data block)
	 * and its own CRC32C; both 0 without the feature.  File data ends
	 * where the table starts.  (Added in libxipfs.so.1.) */
	uint64_t crc_offset;
	uint32_t crc_table_crc;
	/* XIPFS_RO_COMPAT_META_CRC: the metadata CRC table (4 bytes a block
	 * of [0, data_offset)) and its own CRC32C; both 0 without it. */
	uint64_t meta_table_offset;
	uint32_t meta_table_crc;
	/* The metadata blocks checked so far, a good and a bad bit each, set
	 * atomically: made by xipfs_image_open() when the image has the
	 * table and checking is on, freed by xipfs_image_close().  NULL:
	 * metadata is not checked block by block. */
	struct xipfs_meta_check *meta_check;
};

/*
 * Validate the superblock (magic, version, features, CRC, geometry) of the
 * image at base[0..length) and fill *img.  O(1): nothing past the superblock
 * is read.  length may exceed the image (a device or a window); an image
 * larger than length fails with -XIPFS_ETRUNC.
 */
int xipfs_image_open(struct xipfs_image *img, const void *base,
		     uint64_t length);

/*
 * Metadata checks.  On an image with XIPFS_RO_COMPAT_META_CRC,
 * xipfs_image_open() checks the metadata CRC table against its CRC
 * (-XIPFS_ECRC if it does not match: nothing in the metadata can then be
 * trusted) and sets up the lazy check: every accessor below that reads
 * metadata bytes (inode, entry, name, symlink target, xattr block, cluster
 * table) first checks each metadata block those bytes lie in against the
 * table, once per block per open image, and fails with -XIPFS_ECRC when
 * one is damaged.  The check state is allocated (two bits a metadata
 * block): call xipfs_image_close() when done.  Opening stays O(1) but for
 * the table's own CRC (4 bytes a block).  XIPFS_OPEN_NO_META_CHECK turns
 * both off: metadata is then trusted as checked by its structure only, as
 * on an image without the feature.  (LIBXIPFS_0.3)
 */
#define XIPFS_OPEN_NO_META_CHECK	0x1u
int xipfs_image_open_flags(struct xipfs_image *img, const void *base,
			   uint64_t length, unsigned int flags);
/* Free what xipfs_image_open() made; img may be closed twice or never
 * opened (zeroed).  (LIBXIPFS_0.3) */
void xipfs_image_close(struct xipfs_image *img);

/* A decoded, validated inode. */
struct xipfs_inode_info {
	uint32_t ino;
	uint32_t mode;		/* S_IFMT | perms, as in struct stat */
	uint32_t flags;		/* XIPFS_INODE_* */
	uint32_t nlink;
	uint32_t uid, gid;
	uint64_t size;
	int64_t mtime;
	uint32_t mtime_nsec;
	uint32_t parent;	/* dirs only */
	uint64_t data;		/* raw data field; see format.h */
	uint64_t rdev_major, rdev_minor;	/* chr/blk only */
	uint64_t xattr_offset;
	uint32_t xattr_size;
};

/* Is this file's data block-aligned, so that it can be mapped in place? */
int xipfs_inode_mappable(const struct xipfs_image *img,
			 const struct xipfs_inode_info *inode);

/*
 * Read and validate inode ino: the type is known, sizes and offsets lie in
 * their regions, reserved fields are zero.  -ENOENT for ino 0 or past the
 * table; XIPFS_E* for damage.
 */
int xipfs_inode_get(const struct xipfs_image *img, uint32_t ino,
		    struct xipfs_inode_info *out);

/* One directory entry; name points into the image (not NUL-terminated). */
struct xipfs_dirent_info {
	uint32_t ino;
	uint32_t type;		/* DT_* */
	uint32_t name_len;
	const char *name;
	uint64_t cookie;	/* cookie of the entry after this one */
};

/*
 * The rules between a stored entry of dir and the inode it names (child):
 * the entry's type is the inode's, and a directory is named only from its
 * parent (never the root: no directory hard links, no cycles).  0, or
 * -XIPFS_ECORRUPT / -XIPFS_ELOOP.  Every reader that follows an entry
 * applies it, so the mount and xipfsck agree on what is damaged.
 */
int xipfs_entry_check(const struct xipfs_inode_info *dir,
		      const struct xipfs_dirent_info *de,
		      const struct xipfs_inode_info *child);

/* Entries in a directory (not counting "." and ".."). */
uint64_t xipfs_dir_count(const struct xipfs_inode_info *dir);

/*
 * Binary search for name in directory dir.  -ENOENT when absent, -ENOTDIR
 * when dir is no directory, XIPFS_E* when an entry on the path is damaged.
 */
int xipfs_lookup(const struct xipfs_image *img,
		 const struct xipfs_inode_info *dir, const char *name,
		 size_t name_len, uint32_t *ino);

/*
 * The order of names in a directory and in an xattr block: bytewise, memcmp
 * on the common prefix, then the shorter first.  Negative, 0 or positive as
 * a sorts before, equal to or after b.  A writer sorts by it; lookup and
 * xipfs_verify() rely on it.
 */
int xipfs_name_cmp(const char *a, size_t a_len, const char *b, size_t b_len);

/*
 * Can name[0..len) be stored as a directory entry: 1..XIPFS_NAME_MAX bytes,
 * no '/' or NUL, not "." or "..".  1 if so, 0 if not.  The reader rejects
 * any other stored name as damage, so a writer refuses it and an extractor
 * may rely on it as the rule for one path component.
 */
int xipfs_name_valid(const char *name, size_t len);

/* The same, giving the whole entry ("." and ".." are made up, cookie 0). */
int xipfs_lookup_entry(const struct xipfs_image *img,
		       const struct xipfs_inode_info *dir, const char *name,
		       size_t name_len, struct xipfs_dirent_info *out);

/*
 * The entry at cookie: 0 or 1 give ".", 2 gives "..", 3 + i gives stored
 * entry i.  Returns 1 with *out filled (out->cookie resumes after it), 0 at
 * the end, or a negative code.  O(1) per call.
 */
int xipfs_readdir(const struct xipfs_image *img,
		  const struct xipfs_inode_info *dir, uint64_t cookie,
		  struct xipfs_dirent_info *out);

/*
 * The cookie arithmetic of xipfs_readdir(), for a caller that keeps entry
 * positions (LIBXIPFS_0.3): the cookie at which stored entry index is
 * read, and the index of the stored entry a cookie resumes after (as
 * returned in its out->cookie); -ERANGE for a cookie that follows "." or
 * "..", or none.
 */
uint64_t xipfs_dir_cookie(uint64_t index);
int xipfs_dir_index_before(uint64_t cookie, uint64_t *index);

/*
 * Locate the bytes [offset, offset + len) of a regular file, clipped to its
 * size: *ptr points into the image, *avail is the number of bytes there
 * (0 at or past end of file).  -EOPNOTSUPP for a compressed file, whose
 * bytes are not in the image as such.  xipfs_file_pread() serves both
 * kinds, and is what a reader of file bytes calls.
 */
int xipfs_file_data(const struct xipfs_image *img,
		    const struct xipfs_inode_info *inode, uint64_t offset,
		    uint64_t len, const uint8_t **ptr, size_t *avail);

/* Image offset and length of a file's data extent, rounded up to whole
 * blocks for a mappable file (what a reflink clone or mmap needs). */
int xipfs_file_extent(const struct xipfs_image *img,
		      const struct xipfs_inode_info *inode, uint64_t *offset,
		      uint64_t *length);

/*
 * Compressed files (XIPFS_INODE_COMPRESSED; format.h, struct xipfs_ztable).
 * Version node LIBXIPFS_0.2.
 */
struct xipfs_zfile_info {
	uint32_t algorithm;	/* XIPFS_ZALG_* */
	uint32_t cluster_log2;
	uint32_t cluster_count;
	uint64_t table_offset;	/* the table header, in metadata */
	uint64_t data;		/* image offset of cluster 0's stored bytes */
	uint64_t stored_size;	/* bytes of all clusters as stored */
};

/* Decode the table of a compressed file (-EINVAL for any other inode);
 * checks the header and the last end, O(1). */
int xipfs_zfile_get(const struct xipfs_image *img,
		    const struct xipfs_inode_info *inode,
		    struct xipfs_zfile_info *out);

/*
 * Cluster geometry, for a writer laying out compressed files and a reader
 * sizing them (LIBXIPFS_0.3): the clusters of a file of size bytes at
 * 1 << cluster_log2 bytes each (UINT32_MAX when more), and the metadata
 * bytes a table of cluster_count clusters takes, rounded up to the
 * 8 bytes where the next one may start.
 */
uint32_t xipfs_cluster_count(uint64_t size, uint32_t cluster_log2);
uint64_t xipfs_ztable_size(uint32_t cluster_count);

/* One cluster, checked against its neighbours' ends. */
struct xipfs_cluster_info {
	uint64_t file_offset;	/* of its first byte: index << cluster_log2 */
	uint64_t image_offset;	/* of its stored bytes */
	const uint8_t *stored;	/* = img->base + image_offset */
	uint32_t length;	/* bytes it holds uncompressed */
	uint32_t stored_len;	/* bytes stored; == length: stored raw */
};

/* Cluster index of a compressed file; -ERANGE past its last. */
int xipfs_cluster_get(const struct xipfs_image *img,
		      const struct xipfs_inode_info *inode,
		      const struct xipfs_zfile_info *zf, uint32_t index,
		      struct xipfs_cluster_info *out);

/*
 * A reading context: the library's only mutable state, one per thread
 * (never shared between threads at once); every reader of file bytes
 * keeps one, whatever the image holds.  It owns the decompressor's state,
 * one scratch cluster and the buffer xipfs_file_pread() decompresses into,
 * each allocated the first time a read needs it and kept for the next
 * (a read of an uncompressed file allocates nothing), and the data block
 * check set by xipfs_zctx_set_check().  xipfs_zctx_new() is NULL when out
 * of memory; a read that cannot get its memory fails with -ENOMEM.
 */
struct xipfs_zctx;
struct xipfs_zctx *xipfs_zctx_new(void);
void xipfs_zctx_free(struct xipfs_zctx *z);

/* Decompress (or copy, if raw) cluster cl into out, which has room for
 * cl->length bytes.  0, -XIPFS_ECORRUPT when the stored bytes are not
 * one frame that gives exactly cl->length bytes, or -ENOMEM when z cannot
 * make its zstd decompressor (the first time it needs one). */
int xipfs_cluster_decompress(struct xipfs_zctx *z,
			     const struct xipfs_zfile_info *zf,
			     const struct xipfs_cluster_info *cl, void *out);

/*
 * One regular file opened for reading: its inode and, if it is compressed,
 * its cluster table's header, each decoded and checked once, by
 * xipfs_file_open().  A plain value on the caller's side: nothing is
 * allocated and nothing needs closing.  (LIBXIPFS_0.3)
 */
struct xipfs_file {
	struct xipfs_inode_info inode;
	struct xipfs_zfile_info zf;	/* compressed files; zero otherwise */
	uint32_t compressed;		/* read through clusters */
};

/* -EISDIR or -EINVAL for an inode that is no regular file; XIPFS_E* when
 * a compressed file's table header is damaged. */
int xipfs_file_open(const struct xipfs_image *img,
		    const struct xipfs_inode_info *inode, struct xipfs_file *f);

/*
 * How a reader that asks for data checks (XIPFS_READ_VERIFY) judges one
 * data block: 0 when good, a negative code to fail the read.  Without one
 * set, the library calls xipfs_data_block_check(); a daemon sets its own
 * to remember the blocks already checked and to name the file in its
 * complaint.
 */
typedef int (*xipfs_block_check_fn)(void *arg, const struct xipfs_file *f,
				    uint64_t block);
void xipfs_zctx_set_check(struct xipfs_zctx *z, xipfs_block_check_fn check,
			  void *arg);

/* Clusters z has read (decompressed or copied raw) since it was made. */
uint64_t xipfs_zctx_clusters(const struct xipfs_zctx *z);

/* xipfs_file_pread() flags. */
#define XIPFS_READ_VERIFY	0x1u	/* check the stored bytes' data CRCs
					 * first (none: nothing to check) */

/*
 * The one way to the bytes [offset, offset + len) of a regular file,
 * clipped to its size: the count (0 at or past the end) or a negative code,
 * with *out pointing at them.  Bytes stored in place (plain or packed
 * files) are not copied: *out points into the image, where a caller may
 * also splice them from.  A compressed file's bytes are decompressed into
 * z's buffer (whole clusters straight into it, a partly wanted one through
 * its scratch), valid until z's next read.  With XIPFS_READ_VERIFY every
 * data block the stored bytes lie in (for a compressed file: the stored
 * clusters the range meets) is checked before anything is served or
 * decompressed; a bad one fails the read (-XIPFS_ECRC from the default
 * check).  The table is never decoded again: f holds it.  (LIBXIPFS_0.3)
 *
 * What a caller gets: with XIPFS_READ_VERIFY, on an image with data
 * checksums, bytes whose blocks matched their CRCs when the call checked
 * them (in the mapping, at that moment: a caller that must serve exactly
 * the bytes it checked from a source that can change copies them first,
 * as the daemon does), or an error and no bytes.  On an image without data
 * checksums (XIPFS_RO_COMPAT_DATA_CRC clear) the flag checks nothing and
 * the bytes come as stored.  Without the flag nothing is checked: the
 * bytes as stored, damaged or not.  Whatever the flags, the metadata
 * that leads to the bytes (inode, cluster table) is decoded with every
 * bound checked; the flag is about the data blocks.
 */
ssize_t xipfs_file_pread(const struct xipfs_image *img,
			 const struct xipfs_file *f, uint64_t offset,
			 size_t len, unsigned int flags, struct xipfs_zctx *z,
			 const uint8_t **out);

/*
 * Read bytes [offset, offset + len) of any regular file (in place, packed
 * or compressed) into buf, clipped to its size: the count read (0 at or
 * past the end) or a negative code.  Whole clusters decompress straight
 * into buf; only a partly wanted one goes through z's scratch.  z may be
 * NULL for a file that is not compressed (-EINVAL otherwise).  No data CRC
 * is checked here.  The 0.2 interface, for a caller with a buffer of its
 * own: it decodes the table on every call and copies bytes in place, which
 * xipfs_file_pread() does not.
 */
ssize_t xipfs_file_read(const struct xipfs_image *img,
			const struct xipfs_inode_info *inode, uint64_t offset,
			void *buf, size_t len, struct xipfs_zctx *z);

/*
 * The image bytes [*image_offset, + *image_len) that reading file bytes
 * [offset, offset + len) touches: the data itself, or for a compressed
 * file the stored bytes of every cluster the range meets.  *image_len is 0
 * when nothing is (an empty range or one past the end).  What a reader
 * hands to xipfs_data_crc_check() before it serves the bytes.
 */
int xipfs_file_stored_range(const struct xipfs_image *img,
			    const struct xipfs_inode_info *inode,
			    uint64_t offset, uint64_t len,
			    uint64_t *image_offset, uint64_t *image_len);

/*
 * Data checksums (XIPFS_RO_COMPAT_DATA_CRC; format.h).  Block i of the
 * data region is the image bytes [data_offset + i * block_size, + block_size).
 */
struct xipfs_data_crc_info {
	uint64_t table_offset;	/* = super.crc_offset */
	uint64_t blocks;	/* entries in the table */
	uint32_t table_crc;	/* = super.crc_table_crc */
};
/* -ENODATA when the image has no data checksums.  O(1); the geometry was
 * checked by xipfs_image_open(). */
int xipfs_data_crc_get(const struct xipfs_image *img,
		       struct xipfs_data_crc_info *out);
/* The table against crc_table_crc: one pass over 4 bytes per block. */
int xipfs_data_crc_check_table(const struct xipfs_image *img);
/* Block index against its entry: 0, -XIPFS_ECRC, -ERANGE past the table,
 * -ENODATA without data checksums. */
int xipfs_data_block_check(const struct xipfs_image *img, uint64_t index);
/* The same for the block's bytes read by the caller (pread into a buffer
 * of its own, say): block_size bytes at block, against the table entry. */
int xipfs_data_block_check_bytes(const struct xipfs_image *img,
				 uint64_t index, const void *block);
/* Every block that [offset, offset + len) of the image meets; the first
 * bad one's index in *bad (may be NULL).  0 also for len 0, and for an
 * image without data checksums. */
int xipfs_data_crc_check(const struct xipfs_image *img, uint64_t offset,
			 uint64_t len, uint64_t *bad);

/*
 * Metadata checksums (XIPFS_RO_COMPAT_META_CRC; format.h).  Block i of the
 * metadata is the image bytes [i * block_size, (i + 1) * block_size), for
 * every block before data_offset; block 0's CRC takes the superblock as
 * zeros.  (LIBXIPFS_0.3)
 */
struct xipfs_meta_crc_info {
	uint64_t table_offset;	/* = super.meta_table_offset */
	uint64_t blocks;	/* entries: data_offset / block_size */
	uint32_t table_crc;	/* = super.meta_table_crc */
};
/* -ENODATA when the image has no metadata checksums.  O(1). */
int xipfs_meta_crc_get(const struct xipfs_image *img,
		       struct xipfs_meta_crc_info *out);
/* The table against meta_table_crc: one pass over 4 bytes per block. */
int xipfs_meta_crc_check_table(const struct xipfs_image *img);
/* Block index against its entry, computed every call (no state): 0,
 * -XIPFS_ECRC, -ERANGE past the table, -ENODATA without the feature. */
int xipfs_meta_block_check(const struct xipfs_image *img, uint64_t index);
/* The lazy check the accessors make: every metadata block that image
 * bytes [offset, offset + len) meet, each computed once per open image;
 * the first bad block's index in *bad (may be NULL).  0 when checking is
 * off (no feature, XIPFS_OPEN_NO_META_CHECK) or len is 0; -XIPFS_EBOUNDS
 * for a range past the metadata. */
int xipfs_meta_check(const struct xipfs_image *img, uint64_t offset,
		     uint64_t len, uint64_t *bad);

/* A symlink's target; points into the image, not NUL-terminated. */
int xipfs_readlink(const struct xipfs_image *img,
		   const struct xipfs_inode_info *inode, const char **target,
		   size_t *len);

/* One xattr; name and value point into the image. */
struct xipfs_xattr_info {
	const char *name;
	uint32_t name_len;
	const uint8_t *value;
	uint32_t value_len;
};

/*
 * Walk an inode's xattrs: start with *pos = 0; each call returns 1 and the
 * next entry, 0 at the end, or a negative code.
 */
int xipfs_xattr_next(const struct xipfs_image *img,
		     const struct xipfs_inode_info *inode, uint64_t *pos,
		     struct xipfs_xattr_info *out);

/*
 * The rule for values the kernel interprets: a POSIX ACL
 * (system.posix_acl_access/default) must be one the kernel accepts, a
 * security.capability a vfs_cap_data of revision 1, 2 or 3.  0 when the
 * value is acceptable (any other name is), -XIPFS_ECORRUPT if not.  The
 * reader applies it to every entry (xipfs_xattr_next() fails on a bad
 * value); a writer calls it before storing one.
 */
int xipfs_xattr_value_check(const char *name, size_t name_len,
			    const void *value, size_t value_len);

/* The value of xattr name (NUL-terminated); -ENODATA when absent. */
int xipfs_getxattr(const struct xipfs_image *img,
		   const struct xipfs_inode_info *inode, const char *name,
		   const uint8_t **value, size_t *len);

/*
 * listxattr(2) semantics: write the NUL-separated names into buf and return
 * the byte count; with size 0 just return the count; -ERANGE when buf is
 * too small; -XIPFS_ECORRUPT when the names exceed XIPFS_XATTR_LIST_MAX.
 */
ssize_t xipfs_listxattr(const struct xipfs_image *img,
			const struct xipfs_inode_info *inode, char *buf,
			size_t size);

/* Figures for statfs(2). */
struct xipfs_statfs_info {
	uint64_t block_size;
	uint64_t blocks;	/* image size in blocks */
	uint64_t files;		/* inodes */
	uint32_t name_max;
};
void xipfs_statfs(const struct xipfs_image *img,
		  struct xipfs_statfs_info *out);

/* CRC32C (Castagnoli) as used by the format; crc is the previous value
 * (0 to start), so calls can be chained over pieces. */
uint32_t xipfs_crc32c(uint32_t crc, const void *buf, size_t len);

/* CRC32C of a superblock image (256 bytes) with the super_crc field zeroed. */
uint32_t xipfs_super_crc(const void *super);

/* Check meta_crc: a pass over the whole metadata region. */
int xipfs_check_meta_crc(const struct xipfs_image *img);

/*
 * Full structural check: every inode, every directory (sorted, unique,
 * valid names, parents consistent, reachable once, no cycles), nlink
 * counts, symlinks, xattr blocks and data ranges (every file's stored
 * bytes before crc_offset), every compressed file's whole cluster table,
 * plus the metadata CRC and the data CRC table's own CRC.  The data blocks
 * are not read: checking them against the table and decompressing every
 * cluster is a pass over all data, left to the caller
 * (xipfs_data_crc_check(), xipfs_cluster_decompress(); xipfsck does it
 * unless asked for metadata only).  Calls
 * report(ctx, ino, code, message) for each problem found (ino 0 for the
 * superblock) and returns the number of problems, or a negative code if the
 * walk could not run (out of memory).  It stops after
 * XIPFS_VERIFY_MAX_PROBLEMS problems (saying so in one more report, with
 * ino 0 and code 0: a note, not a problem), so
 * time and output stay bounded whatever a damaged image claims.  Memory:
 * two bits and eight bytes per inode, taken once every inode decoded, and
 * with XIPFS_INCOMPAT_COMPRESSED one bit per 8 bytes of metadata (a
 * cluster table shared by several inodes is walked once).
 */
#define XIPFS_VERIFY_MAX_PROBLEMS	100
typedef void (*xipfs_report_fn)(void *ctx, uint32_t ino, int code,
				const char *message);
long xipfs_verify(const struct xipfs_image *img, xipfs_report_fn report,
		  void *ctx);

/*
 * Map a source read-only and shared: a regular file, a block device, or a
 * memory character device (/dev/mem, /dev/daxX.Y; size required), window
 * [offset, offset + size) (size 0: to the end).  The mapping starts at a
 * page boundary, or at the device's alignment for device DAX; map->image
 * points at offset.  Errors are negated errno values; *what names the step
 * that failed, for the message.
 */
struct xipfs_map {
	int fd;
	void *addr;		/* mapping start (page-aligned) */
	size_t map_len;
	const uint8_t *image;	/* = addr + (offset % granule) */
	uint64_t offset;	/* where image sits in the source */
	uint64_t length;	/* bytes available at image */
	uint32_t type;		/* S_IFREG, S_IFBLK or S_IFCHR */
};
int xipfs_map_source(const char *path, uint64_t offset, uint64_t size,
		     struct xipfs_map *map, const char **what);
void xipfs_unmap_source(struct xipfs_map *map);

/*
 * The mapping that covers [offset, offset + size) when mappings must start
 * and end on a multiple of granule (a power of two: the page size, or a
 * device-DAX alignment).  -EINVAL if it cannot be expressed.
 */
int xipfs_map_window(uint64_t offset, uint64_t size, uint64_t granule,
		     uint64_t *map_offset, uint64_t *map_len);

/*
 * A byte count as given on a command line: decimal, 0x hex or 0 octal, with
 * an optional binary suffix K, M, G or T (also KiB, MB...).  -EINVAL or
 * -ERANGE when it is not one.
 */
int xipfs_parse_size(const char *arg, uint64_t *out);

/*
 * Encoders, the decoders' mirror: fill the on-disk little-endian bytes of
 * one object from its decoded form, for a writer.  Each writes the whole
 * object (reserved fields zero) and refuses only a value its field cannot
 * hold (-ERANGE); whether the values make a valid image is what the
 * decoders and xipfs_verify() judge.  Fields the decoders derive are
 * ignored: the inode's ino, rdev_major and rdev_minor (data holds the
 * device number), the entry's name pointer and cookie.
 *
 * xipfs_encode_super: XIPFS_SUPER_SIZE bytes from img's decoded fields
 * (base, length, block_size and super_crc are ignored; crc_offset and
 * crc_table_crc are written as given, so 0 without DATA_CRC); magic and
 * root_ino are the format's, meta_size is meta_end - meta_offset, the
 * volume name is NUL-padded, and super_crc is computed last, over the
 * encoded bytes.
 */
int xipfs_encode_super(void *out, const struct xipfs_image *img);
/* XIPFS_INODE_SIZE bytes. */
int xipfs_encode_inode(void *out, const struct xipfs_inode_info *inode);
/* XIPFS_DIRENT_SIZE bytes: de's ino, type and name_len, and where the name
 * is stored (the decoded entry holds a pointer instead). */
int xipfs_encode_dirent(void *out, const struct xipfs_dirent_info *de,
			uint64_t name_offset);
/* A whole xattr entry: the XIPFS_XATTR_HDR_SIZE header, then name_len bytes
 * of name and value_len bytes of value. */
int xipfs_encode_xattr(void *out, const struct xipfs_xattr_info *xa);

/*
 * A cluster table: XIPFS_ZTABLE_HDR_SIZE + 4 * cluster_count bytes from
 * zf's algorithm, cluster_log2, cluster_count and data, then ends
 * (cluster_count values, each cluster's end relative to data).
 * (LIBXIPFS_0.2)
 */
int xipfs_encode_ztable(void *out, const struct xipfs_zfile_info *zf,
			const uint32_t *ends);
/* Put the data CRC fields (crc_offset, crc_table_crc) into an encoded
 * superblock and compute its super_crc again.  (LIBXIPFS_0.2; since
 * xipfs_encode_super() writes them from struct xipfs_image, only for
 * callers of the 0.2 interface.) */
int xipfs_encode_super_data_crc(void *super,
				const struct xipfs_data_crc_info *dc);

/* Little-endian decoders: the format is read through these, never by
 * casting bytes to structs, so host byte order and alignment do not matter. */
static inline uint16_t xipfs_le16(const void *p)
{
	const uint8_t *b = p;
	return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t xipfs_le32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static inline uint64_t xipfs_le64(const void *p)
{
	const uint8_t *b = p;
	return (uint64_t)xipfs_le32(b) | (uint64_t)xipfs_le32(b + 4) << 32;
}

static inline void xipfs_put_le16(void *p, uint16_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static inline void xipfs_put_le32(void *p, uint32_t v)
{
	uint8_t *b = p;
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static inline void xipfs_put_le64(void *p, uint64_t v)
{
	xipfs_put_le32(p, (uint32_t)v);
	xipfs_put_le32((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

#endif /* XIPFS_XIPFS_H */
