/* SPDX-License-Identifier: MIT */
/*
 * The metadata writer: streams the inode table, directory entries, names,
 * symlink targets and xattr blocks where layout.c put them, then the
 * superblock (last, so a torn write never looks valid).  It only reads the
 * layout; the layout never calls it.
 */
#include "config.h"

#include <dirent.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xipfs/xipfs.h"
#include "mkxipfs.h"

/* Where the inode's parent directory is, in image inode numbers. */
static uint32_t parent_ino(const struct build *c, uint32_t id)
{
	if (id == c->root)
		return XIPFS_ROOT_INO;
	return c->nodes[c->ents[c->nodes[id].entry].parent].ino;
}

/* The metadata writer: a buffer flushed to the image, with meta_crc and
 * two independent hashes (for the UUID) taken over every byte. */
struct mstream {
	struct build *c;
	uint8_t *buf;
	size_t len, cap;
	uint64_t off;		/* image offset of buf[0] */
	uint32_t crc;
	struct hasher h1, h2;
	int err;
};

static void ms_flush(struct mstream *m)
{
	if (!m->len || m->err)
		return;
	if (write_all_at(m->c, m->buf, m->len, m->off) < 0)
		m->err = 1;
	m->crc = xipfs_crc32c(m->crc, m->buf, m->len);
	hash_update(&m->h1, m->buf, m->len);
	hash_update(&m->h2, m->buf, m->len);
	m->off += m->len;
	m->len = 0;
}

static uint8_t *ms_reserve(struct mstream *m, size_t len)
{
	uint8_t *p;

	if (m->len + len > m->cap)
		ms_flush(m);
	p = m->buf + m->len;
	m->len += len;
	return p;
}

static void ms_put(struct mstream *m, const void *src, size_t len)
{
	while (len) {
		size_t n = m->cap - m->len < len ? m->cap - m->len : len;

		memcpy(m->buf + m->len, src, n);
		m->len += n;
		src = (const uint8_t *)src + n;
		len -= n;
		if (m->len == m->cap)
			ms_flush(m);
	}
}

static uint64_t inode_size(const struct xnode *n)
{
	if (S_ISDIR(n->mode))
		return (uint64_t)n->nchild * XIPFS_DIRENT_SIZE;
	if (S_ISREG(n->mode) || S_ISLNK(n->mode))
		return n->size;
	return 0;
}

static uint64_t inode_data(const struct build *c, const struct xnode *n)
{
	if (n->flags & XN_COMPRESSED)
		return c->zfiles[n->zfile].table_off;
	if (S_ISREG(n->mode))
		return n->size ? n->data : 0;
	if (S_ISDIR(n->mode) || S_ISLNK(n->mode))
		return n->data;
	if (S_ISCHR(n->mode) || S_ISBLK(n->mode))
		return n->rdev;
	return 0;
}

static void emit_inode(struct mstream *m, uint32_t id)
{
	const struct build *c = m->c;
	const struct xnode *n = &c->nodes[id];
	const struct xblob *b = n->xattr ? &c->blobs[n->xattr - 1] : NULL;
	struct xipfs_inode_info in = {
		.mode = n->mode,
		.flags = (n->flags & XN_PACKED ? XIPFS_INODE_PACKED : 0) |
			 (n->flags & XN_COMPRESSED ? XIPFS_INODE_COMPRESSED : 0),
		.nlink = n->nlink,
		.uid = n->uid,
		.gid = n->gid,
		.size = inode_size(n),
		.mtime = n->mtime,
		.mtime_nsec = n->mtime_nsec,
		.parent = S_ISDIR(n->mode) ? parent_ino(c, id) : 0,
		.data = inode_data(c, n),
		.xattr_offset = b ? b->meta_off : 0,
		.xattr_size = b ? b->len : 0,
	};

	if (xipfs_encode_inode(ms_reserve(m, XIPFS_INODE_SIZE), &in) < 0) {
		msg_err(NULL, "internal error: mode %#o does not fit an inode",
			n->mode);
		m->err = 1;
	}
}

static void emit_dirents(struct mstream *m, const struct xnode *d,
			 uint64_t *name_off)
{
	const struct build *c = m->c;

	for (uint32_t i = 0; i < d->nchild; i++) {
		const struct xent *e = &c->ents[c->children[d->u.child0 + i]];
		const struct xnode *n = &c->nodes[e->node];
		const struct xipfs_dirent_info de = {
			.ino = n->ino, .type = IFTODT(n->mode),
			.name_len = e->name_len,
		};

		/* every field fits: name_len is a uint8_t, a DT_* value < 16 */
		xipfs_encode_dirent(ms_reserve(m, XIPFS_DIRENT_SIZE), &de,
				    *name_off);
		*name_off += e->name_len;
	}
}

static void emit_zeros(struct mstream *m, uint64_t to)
{
	static const uint8_t zero[8];

	while (m->off + m->len < to)
		ms_put(m, zero, to - (m->off + m->len) < 8 ?
			   to - (m->off + m->len) : 8);
}

/* The cluster tables, where layout_ztables() put them. */
static void emit_ztables(struct mstream *m)
{
	const struct build *c = m->c;

	for (size_t i = 0; i < c->nzfiles; i++) {
		const struct zfile *zf = &c->zfiles[i];
		const struct xipfs_zfile_info info = {
			.algorithm = c->opt.z.alg,
			.cluster_log2 = c->opt.z.cluster_log2,
			.cluster_count = zf->count, .data = zf->data,
		};
		uint64_t len = xipfs_ztable_size(zf->count);
		uint8_t *buf = xcalloc(1, len);

		emit_zeros(m, zf->table_off);
		/* cannot fail: the algorithm and log2 are small numbers */
		xipfs_encode_ztable(buf, &info, c->zends + zf->ends);
		ms_put(m, buf, len);
		free(buf);
	}
}

static void emit_all(struct mstream *m)
{
	const struct build *c = m->c;
	uint64_t name_off = c->names_off;

	for (uint32_t k = 0; k < c->ninodes; k++)
		emit_inode(m, c->order[k]);
	for (uint32_t k = 0; k < c->ninodes; k++)
		if (S_ISDIR(c->nodes[c->order[k]].mode))
			emit_dirents(m, &c->nodes[c->order[k]], &name_off);
	for (uint32_t k = 0; k < c->ninodes; k++) {
		const struct xnode *d = &c->nodes[c->order[k]];

		if (!S_ISDIR(d->mode))
			continue;
		for (uint32_t i = 0; i < d->nchild; i++) {
			const struct xent *e =
				&c->ents[c->children[d->u.child0 + i]];

			ms_put(m, e->name, e->name_len);
		}
	}
	for (uint32_t k = 0; k < c->ninodes; k++) {
		const struct xnode *n = &c->nodes[c->order[k]];

		if (S_ISLNK(n->mode))
			ms_put(m, n->u.target, n->size);
	}
	for (uint32_t k = 0; k < c->ninodes; k++) {
		const struct xnode *n = &c->nodes[c->order[k]];
		const struct xblob *b = n->xattr ? &c->blobs[n->xattr - 1] :
					NULL;

		/* first use: the block goes exactly where the stream is */
		if (b && b->meta_off == m->off + m->len)
			ms_put(m, c->xattr_pool + b->pool_off, b->len);
	}
	emit_ztables(m);
}

/*
 * Write the metadata region; return its CRC and a UUID derived from it
 * (and from the superblock fields outside it), RFC 9562 version 8.
 */
static int emit_meta(struct build *c, uint32_t *meta_crc, uint8_t uuid[16])
{
	struct mstream m = { .c = c, .cap = 1u << 20,
			     .off = XIPFS_SUPER_SIZE };
	const uint64_t fields[] = {
		c->opt.block_log2, c->image_size, (uint64_t)c->build_time,
		c->build_time_nsec, c->st.data_bytes, c->data_offset,
	};
	uint8_t extra[sizeof(fields) + sizeof(c->opt.label) + 12];
	size_t nextra = sizeof(fields) + sizeof(c->opt.label);
	uint64_t h1, h2;

	m.buf = xmalloc(m.cap);
	hash_init(&m.h1, 0x5846495055554944ull);
	hash_init(&m.h2, 0x0123456789abcdefull);
	emit_all(&m);
	ms_flush(&m);
	free(m.buf);
	if (m.err)
		return -1;
	if (m.off != c->meta_end) {
		msg_err(NULL, "internal error: metadata is %llu bytes, "
			"expected %llu", (unsigned long long)m.off,
			(unsigned long long)c->meta_end);
		return -1;
	}
	/* the superblock fields outside the metadata, in a fixed byte order */
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		xipfs_put_le64(extra + 8 * i, fields[i]);
	memcpy(extra + sizeof(fields), c->opt.label, sizeof(c->opt.label));
	/* with data CRCs the UUID also follows the data; without, the bytes
	 * hashed are what they always were, so old images stay identical */
	if (c->crc_offset) {
		xipfs_put_le64(extra + nextra, c->crc_offset);
		xipfs_put_le32(extra + nextra + 8, c->crc_table_crc);
		nextra += 12;
	}
	hash_update(&m.h1, extra, nextra);
	hash_update(&m.h2, extra, nextra);
	h1 = hash_final(&m.h1);
	h2 = hash_final(&m.h2);
	*meta_crc = m.crc;
	for (int i = 0; i < 8; i++) {
		uuid[i] = (uint8_t)(h1 >> (56 - 8 * i));
		uuid[8 + i] = (uint8_t)(h2 >> (56 - 8 * i));
	}
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x80);	/* version 8 */
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);	/* variant 10 */
	return 0;
}

static void encode_super(const struct build *c, uint8_t *sb, uint32_t meta_crc,
			 const uint8_t uuid[16])
{
	struct xipfs_image img = {
		.version_major = XIPFS_VERSION_MAJOR,
		.version_minor = XIPFS_VERSION_MINOR,
		.compat = (c->opt.align_huge ? XIPFS_COMPAT_ALIGN_HUGE : 0) |
			  (c->any_xattrs ? 0 : XIPFS_COMPAT_NO_XATTRS),
		.incompat = (c->any_packed ? XIPFS_INCOMPAT_PACKED : 0) |
			    (c->nzfiles ? XIPFS_INCOMPAT_COMPRESSED : 0),
		.ro_compat = (c->crc_offset ? XIPFS_RO_COMPAT_DATA_CRC : 0) |
			     (c->meta_table_offset ? XIPFS_RO_COMPAT_META_CRC : 0),
		.block_log2 = c->opt.block_log2,
		.image_size = c->image_size,
		.meta_offset = XIPFS_SUPER_SIZE,
		.meta_end = c->meta_end,
		.data_offset = c->data_offset,
		.inode_offset = XIPFS_SUPER_SIZE,
		.inode_count = c->ninodes,
		.build_time = c->build_time,
		.build_time_nsec = c->build_time_nsec,
		.meta_crc = meta_crc,
		.data_bytes = c->st.data_bytes,
		.file_count = (uint32_t)c->st.files,
		.dir_count = (uint32_t)c->st.dirs,
		.crc_offset = c->crc_offset,
		.crc_table_crc = c->crc_table_crc,
		.meta_table_offset = c->meta_table_offset,
		.meta_table_crc = c->meta_table_crc,
	};

	memcpy(img.uuid, uuid, sizeof(img.uuid));
	memcpy(img.volume_name, c->opt.label, sizeof(c->opt.label));
	/* cannot fail: block_log2 is 12..16 and meta_end follows the super */
	if (xipfs_encode_super(sb, &img) < 0)
		abort();
}

/* Metadata, its CRC table, then the superblock, with the UUID given or
 * derived. */
int write_metadata(struct build *c)
{
	uint8_t sb[XIPFS_SUPER_SIZE], uuid[16];
	uint32_t meta_crc;

	if (emit_meta(c, &meta_crc, uuid) < 0 || write_meta_crc(c) < 0)
		return -1;
	encode_super(c, sb, meta_crc, c->opt.have_uuid ? c->opt.uuid : uuid);
	if (write_all_at(c, sb, sizeof(sb), 0) < 0)
		return -1;
	memcpy(c->opt.uuid, c->opt.have_uuid ? c->opt.uuid : uuid, 16);
	return 0;
}
