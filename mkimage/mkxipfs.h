/* SPDX-License-Identifier: MIT */
/*
 * mkxipfs internals: the in-memory tree, the build context and the
 * interfaces between the builder's parts.
 *
 * The flow is strictly phased, each phase owning one file:
 *   ingest   scan.c (directory) or tar.c (libarchive)  -> tree
 *   edit     devtable.c                                -> tree
 *   number   layout.c: inode numbers, nlink, metadata offsets
 *   select   select.c: which files are compressed (before the layout, as
 *            each compressed file needs room for its cluster table)
 *   data     data.c: data placed, deduplicated and copied in one pass;
 *            zdata.c: compressed files' clusters (zpipe.c: the threads);
 *            both read sources through source.c and share dedupe.c
 *   crc      datacrc.c: the data CRC table, read back from the image
 *   write    write.c: metadata, superblock (output.c: temp file, rename)
 *
 * Memory is what a tree of a million entries costs: one struct xnode per
 * inode (hard links share it), one struct xent per name, names and symlink
 * targets in a chunked string pool, xattr blocks interned once.  No source
 * file stays open between phases.
 */
#ifndef MKXIPFS_H
#define MKXIPFS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "xipfs/format.h"

#define NONE UINT32_MAX		/* "no index" for uint32_t node/entry ids */

/* struct xnode.flags */
#define XN_MTIME_PENDING 0x01	/* created by us: mtime set once known */
#define XN_PACKED	 0x02	/* data stored in the packed area */
#define XN_DUP		 0x04	/* data shared with an earlier inode */
#define XN_SPOOLED	 0x08	/* data lives in the tar spool at src */
#define XN_NODESCEND	 0x10	/* mount point: contents left out */
#define XN_SHARED_SIZE	 0x20	/* another file has the same size */
#define XN_COMPRESSED	 0x40	/* stored in clusters: see zfile */
#define XN_XIP_LISTED	 0x80	/* a name of it is in --xip-list */

/*
 * One inode.  Indexed by node id (creation order); the image's inode
 * number (ino) is assigned later, breadth-first in sorted name order, so
 * the id never leaks into the image and the read order of the input does
 * not matter.
 */
struct xnode {
	uint64_t size;		/* file length; symlink target length */
	union {
		uint64_t data;	/* dirs, symlinks, regular files stored in
				 * place or packed: image offset once laid
				 * out */
		uint64_t rdev;	/* devices: major << 32 | minor */
	};
	union {
		uint64_t src;	/* regular, tar input: offset in the spool */
		const char *target;	/* symlink target (not NUL-ended) */
		uint32_t child0;	/* dir, after sorting: first child in
					 * build->children */
	} u;
	int64_t mtime;
	uint32_t mtime_nsec;
	uint32_t mode;
	uint32_t uid, gid;
	uint32_t nlink;		/* computed when numbering */
	uint32_t entry;		/* the entry that created it (source path) */
	uint32_t xattr;		/* xattr blob id + 1; 0: none */
	uint32_t ino;		/* image inode number; 0: unreachable */
	union {			/* by file type, as u: 72 bytes a node */
		uint32_t nchild;	/* dir: entries in it */
		uint32_t zfile;	/* XN_COMPRESSED: its build->zfiles index */
	};
	uint32_t flags;		/* XN_* */
};
_Static_assert(sizeof(struct xnode) == 72, "a million nodes cost 72 MB");

/* One name in a directory. */
struct xent {
	const char *name;	/* in the string pool, not NUL-ended */
	uint32_t parent;	/* node id of the directory */
	uint32_t node;		/* node id it names */
	uint8_t name_len;	/* 1..255 */
};

/* Chunked string pool: pointers stay valid as it grows. */
struct strpool {
	char *chunk;
	size_t used, cap;
	char **chunks;
	size_t nchunks;
};

/* Interned xattr blocks, already in on-disk encoding. */
struct xblob {
	uint64_t pool_off;	/* bytes in xattr_pool */
	uint64_t meta_off;	/* image offset, 0 until laid out */
	uint32_t len;
};

/* htable.c: 64-bit hash -> ids of the caller's array; zeroed is empty. */
struct ht_slot {
	uint64_t hash;
	uint32_t id;		/* NONE: free */
};
struct htable {
	struct ht_slot *slots;
	size_t cap, count;	/* cap: 0 or a power of two */
};
struct ht_iter {
	uint64_t hash;
	size_t slot;
};
void ht_insert(struct htable *t, uint64_t hash, uint32_t id);
uint32_t ht_first(const struct htable *t, uint64_t hash, struct ht_iter *it);
uint32_t ht_next(const struct htable *t, struct ht_iter *it);
void ht_free(struct htable *t);

struct idmap {
	uint32_t from, to, count;
};

/* Exclude patterns and device-table files, from the command line. */
struct strlist {
	char **v;
	size_t n;
};

/* --xip: which files stay in place (uncompressed, mappable). */
enum xip_mode { XIP_ALL, XIP_ELF, XIP_NONE };

/* --compress and --cluster-size: how the other files are stored. */
struct zopts {
	uint32_t alg;		/* 0: no compression; XIPFS_ZALG_* */
	int level;		/* zstd level; lz4: 0 fast, 1 HC */
	uint32_t cluster_log2;
};

struct build_options {
	const char *source;	/* directory or tar; "-" = stdin */
	const char *image;
	int tar;		/* source is a tar archive */
	uint32_t block_log2;
	uint32_t pack_small;	/* 0: off */
	int align_huge;
	int cross_fs;
	int have_clamp;
	int64_t clamp;		/* --mtime, else SOURCE_DATE_EPOCH */
	int have_sde;
	int64_t sde;
	int have_uuid;
	uint8_t uuid[16];
	char label[32];
	int force_uid, force_gid;	/* 0 or 1 */
	uint32_t uid, gid;	/* forced values */
	struct idmap *uid_map, *gid_map;
	size_t n_uid_map, n_gid_map;
	struct strlist exclude;
	struct strlist devtables;
	struct zopts z;
	enum xip_mode xip;
	int xip_given;
	const char *xip_list;	/* --xip-list FILE, or NULL */
	int no_data_crc;
	int no_meta_crc;
	unsigned threads;	/* compression threads, >= 1 */
	int quiet, verbose;
};

/* One compressed file: where its table and clusters are. */
struct zfile {
	uint64_t table_off;	/* of its struct xipfs_ztable, in metadata */
	uint64_t data;		/* image offset of cluster 0's stored bytes */
	uint64_t ends;		/* its first end in build->zends */
	uint32_t count;		/* clusters */
	uint32_t node;
	uint32_t rep;		/* zfile whose clusters it shares, or NONE */
};

struct build_stats {
	uint64_t files, dirs, symlinks, specials, hardlinks;
	uint64_t dup_files, dup_bytes, packed_files;
	uint64_t data_bytes;	/* stored, after dedupe */
	uint64_t zfiles, zbytes;	/* compressed files, their length */
	uint64_t zstored;	/* their bytes as stored, after dedupe */
	uint64_t copied;	/* bytes written so far (progress) */
	uint64_t reflinked;	/* bytes copy_file_range took */
};

struct build {
	struct build_options opt;
	struct build_stats st;

	/* the tree */
	struct xnode *nodes;
	size_t nnodes, cap_nodes;
	struct xent *ents;
	size_t nents, cap_ents;
	struct htable ent_index;	/* hash of (parent, name) -> entry */
	struct strpool names;
	uint32_t root;		/* node id of the root directory */

	/* xattr blocks */
	uint8_t *xattr_pool;
	size_t xattr_pool_len, xattr_pool_cap;
	struct xblob *blobs;
	size_t nblobs, cap_blobs;
	struct htable blob_index;	/* hash of the bytes -> blob id */

	/* after numbering */
	uint32_t *order;	/* order[ino - 1] = node id */
	uint32_t ninodes;
	uint32_t *children;	/* entry ids, grouped per dir, sorted */
	uint64_t nchildren_total;

	/* layout */
	uint64_t meta_end, data_offset, data_end, image_size;
	uint64_t image_bound;	/* image_size can be no larger */
	uint64_t total_bytes;	/* file bytes before dedupe (progress) */
	uint64_t names_off, links_off, xattrs_off;
	int any_packed;
	int any_xattrs;		/* some inode carries xattrs */
	uint64_t ztables_off;	/* first cluster table, in metadata */
	uint64_t crc_offset;	/* data CRC table; 0: none */
	uint32_t crc_table_crc;
	uint64_t meta_table_offset;	/* metadata CRC table; 0: none */
	uint32_t meta_table_crc;
	int64_t build_time;
	uint32_t build_time_nsec;

	/* input */
	int root_fd;		/* directory input */
	dev_t root_dev;
	int have_image_id;	/* existing output file to skip while scanning */
	dev_t image_dev;
	ino_t image_ino;
	int spool_fd;		/* tar input */
	int told_how;		/* the unreadable-tree hint was given */
	uint64_t spool_end;
	int64_t newest_sec;	/* newest input mtime (default build time) */
	uint32_t newest_nsec;
	int have_newest;

	/* compressed files, in inode order */
	struct zfile *zfiles;
	size_t nzfiles;
	uint32_t *zends;	/* every table's ends, end to end */
	uint64_t nzends;

	/* output */
	int out_fd;
	char *tmp_path;
	int no_cfr;		/* copy_file_range unusable: use pread */
	int progress;		/* draw the TTY progress line */
	int compressing;	/* in the compressed files' pass */
	uint64_t last_draw_ns;
};

/* util.c */
void msg_err(const char *path, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void msg_errno(const char *path, int err);
void msg_source_errno(struct build *c, const char *path, int err);
void msg_warn(const struct build *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void msg_info(const struct build *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* These never return NULL: they exit on failure. */
void *xmalloc(size_t n) __attribute__((returns_nonnull, malloc));
void *xcalloc(size_t n, size_t size) __attribute__((returns_nonnull, malloc));
void *xrealloc_array(void *p, size_t n, size_t size)
	__attribute__((returns_nonnull));
const char *pool_add(struct strpool *p, const char *s, size_t len);
void pool_free(struct strpool *p);
uint64_t round_up(uint64_t v, uint64_t align);
typedef int line_fn(void *arg, char *line, size_t len, unsigned long no);
int for_each_line(const char *file, line_fn *fn, void *arg);
uint64_t now_ns(void);

/* hash.c: a 64-bit non-cryptographic hash for dedupe and the UUID.  CRC32C
 * is affine in its seed, so seeding it differently adds no bits. */
struct hasher {
	uint64_t h, len;
	uint8_t tail[8];
	unsigned ntail;
};
void hash_init(struct hasher *hs, uint64_t seed);
void hash_update(struct hasher *hs, const void *buf, size_t len);
uint64_t hash_final(const struct hasher *hs);
uint64_t hash_buf(uint64_t seed, const void *buf, size_t len);

/* tree.c */
int tree_init(struct build *c);
void tree_free(struct build *c);
uint32_t node_new(struct build *c, const char *path);
uint32_t ent_lookup(const struct build *c, uint32_t dir, const char *name,
		    size_t len);
int ent_add(struct build *c, uint32_t dir, const char *name, size_t len,
	    uint32_t node, const char *path);
int name_check(const char *path, const char *name, size_t len);
int path_walk(struct build *c, const char *path, const char *label,
	      int create_parents, uint32_t *dir, const char **last,
	      size_t *last_len);
int path_resolve(struct build *c, const char *path, const char *label,
		 uint32_t *node);
char *node_relpath(const struct build *c, uint32_t node);
uint32_t map_id(const struct idmap *m, size_t n, uint32_t id);
void apply_owner(const struct build *c, struct xnode *n);
void note_mtime(struct build *c, int64_t sec, uint32_t nsec);
int excluded(const struct build *c, const char *relpath);

/* xattr.c */
struct xa_item {
	char *name;
	uint8_t *value;
	size_t name_len, value_len;
};
struct xa_list {
	struct xa_item *v;
	size_t n, cap;
	size_t name_bytes;	/* names with a NUL each: what listxattr gives */
};
int xa_add(struct xa_list *l, const char *path, const char *name,
	   const void *value, size_t value_len);
int xa_remove(struct xa_list *l, const char *name);
void xa_clear(struct xa_list *l);
int xa_intern(struct build *c, struct xa_list *l, const char *path,
	      uint32_t *blob);
int xa_load(const struct build *c, uint32_t blob, struct xa_list *l);
int xa_parse_value(const char *path, const char *text, uint8_t **out,
		   size_t *len);
void xattr_free(struct build *c);
int xattr_name_ok(const char *name);

/* scan.c */
int scan_dir(struct build *c);

/* tar.c */
int read_tar(struct build *c);

/* devtable.c */
int devtable_apply(struct build *c, const char *file);

/* layout.c */
int number_inodes(struct build *c);
int layout_meta(struct build *c);

/* source.c: reading a regular file's bytes from the input */
#define IO_CHUNK (1u << 20)	/* the unit of reading and copying */
struct source {
	struct build *c;
	int dir_fd;		/* cached parent directory of sources */
	uint32_t dir_node;
};
struct src_file {		/* one open source file */
	uint32_t node;
	int fd;			/* the file, or the tar spool */
	uint64_t off;		/* where its bytes start in fd */
	uint64_t size;
};
void source_init(struct source *s, struct build *c);
void source_free(struct source *s);
/* Open node id's bytes, checked to be what the scan saw. */
int source_open(struct source *s, uint32_t id, struct src_file *f);
/* Close f; with check, a file that changed size while read is an error. */
int source_close(struct source *s, struct src_file *f, int check);
/* Exactly len bytes at offset at of the file; a short file is an error. */
int source_read(struct build *c, const struct src_file *f, void *buf,
		size_t len, uint64_t at);
/* Hash the whole file through buf (IO_CHUNK bytes): a file that fits is
 * left there. */
int source_hash(struct build *c, const struct src_file *f, uint8_t *buf,
		uint64_t *hash);
/* Say what is wrong with node id's source (errno when what is NULL): -1. */
int source_err(struct build *c, uint32_t id, const char *what);

/* dedupe.c: files with the same bytes as one kept earlier */
struct dedupe {
	struct build *c;
	struct source earlier;	/* opens the kept files to compare */
	struct htable kept;	/* key of (size, content hash) -> node */
	uint8_t *buf;		/* IO_CHUNK, for the kept file's bytes */
};
void dedupe_init(struct dedupe *d, struct build *c);
void dedupe_free(struct dedupe *d);
/* A kept file with the bytes of f: its node in *rep (counted as a
 * duplicate), or NONE.  Only a file of a shared size (XN_SHARED_SIZE) can
 * be one; it is hashed through buf (as source_hash), others not read.
 * *key is for dedupe_keep(). */
int dedupe_find(struct dedupe *d, const struct src_file *f, uint8_t *buf,
		uint64_t *key, uint32_t *rep);
/* Keep a file stored as new, for later files to match. */
void dedupe_keep(struct dedupe *d, uint32_t node, uint64_t key);

/* data.c */
int data_plan(struct build *c);
int write_data(struct build *c);

/* compress.c: option values, the ELF test, one cluster's compression */
int parse_compress(const char *s, struct zopts *z, char *why, size_t len);
int parse_cluster_size(const char *s, uint32_t *log2);
int parse_xip_mode(const char *s, enum xip_mode *m);
int elf_stays_xip(const uint8_t *hdr, size_t len);
#define ELF_HDR_NEED 18		/* bytes elf_stays_xip() looks at */
struct zcomp;
struct zcomp *zcomp_new(const struct zopts *z);
void zcomp_free(struct zcomp *zc);
size_t zcomp_bound(const struct zopts *z);
/* Compress len bytes of in into out (zcomp_bound() bytes): the stored
 * length; len itself, with the bytes copied, when they do not shrink. */
uint32_t zcomp_cluster(struct zcomp *zc, const void *in, uint32_t len,
		       void *out);

/* zpipe.c: clusters compressed by worker threads, retired in order */
struct zslot {
	uint8_t *in, *out;	/* a cluster; zcomp_bound() bytes */
	uint32_t len, stored;	/* in: bytes; out: stored length */
	uint32_t zfile, index;	/* the caller's: which file, which cluster */
	int state;
};
struct zpipe;
typedef int zpipe_retire_fn(void *arg, const struct zslot *s);
struct zpipe *zpipe_new(const struct zopts *z, unsigned threads,
			zpipe_retire_fn *retire, void *arg);
/* A free slot, after retiring the oldest if all are in use (*err: what
 * that retire returned). */
struct zslot *zpipe_slot(struct zpipe *p, int *err);
void zpipe_submit(struct zpipe *p, struct zslot *s);
int zpipe_drain(struct zpipe *p);	/* retire everything submitted */
void zpipe_free(struct zpipe *p);

/* xiplist.c: --xip-list */
struct xiplist {
	struct strlist paths;	/* plain paths, indexed */
	struct htable index;	/* hash of a path -> its index in paths */
	struct strlist patterns;
};
/* One line (len bytes, room for a NUL after): 0 to skip it, 1 with *path
 * set, -1 with *why set. */
int xiplist_line(char *line, size_t len, const char **path, const char **why);
int xiplist_load(struct xiplist *l, const char *file);
int xiplist_match(const struct xiplist *l, const char *relpath);
void xiplist_free(struct xiplist *l);

/* select.c */
int select_compressed(struct build *c);

/* zdata.c: the compressed files' clusters from *pos on; *pos: their end */
int write_compressed(struct build *c, uint64_t *pos);

/* datacrc.c */
int write_data_crc(struct build *c);
int plan_meta_crc(struct build *c);
int write_meta_crc(struct build *c);

/* write.c: metadata and superblock, from the layout */
int write_metadata(struct build *c);

/* output.c */
int output_open(struct build *c);
int output_commit(struct build *c);
void output_abort(struct build *c);
int write_all_at(struct build *c, const void *buf, size_t len, uint64_t off);
int write_all_fd(int fd, const void *buf, size_t len, uint64_t off);
void install_signal_cleanup(void);
int spool_open(struct build *c);

/* progress.c */
void progress_update(struct build *c, int force);
void progressed(struct build *c, uint64_t n);	/* n more bytes done */

#endif /* MKXIPFS_H */
