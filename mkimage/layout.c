/* SPDX-License-Identifier: MIT */
/*
 * Inode numbering and the metadata region.
 *
 * Numbers are assigned breadth-first: the root is 1, then each directory,
 * in the order directories were numbered, gives its children consecutive
 * numbers in bytewise name order; a hard link keeps the number of its
 * first occurrence.  Everything derives from names and the tree's shape,
 * so the image does not depend on the order the input was read in.
 *
 * Metadata, from XIPFS_SUPER_SIZE on: the inode table, every directory's
 * entry array (in inode order), all entry names (same order), symlink
 * targets (inode order), xattr blocks (order of first use).  layout_meta()
 * computes the offsets and emit_meta() streams the bytes in the same order.
 */
#include "config.h"

#include <dirent.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xipfs/xipfs.h"
#include "mkxipfs.h"

static int ent_cmp(const void *a, const void *b, void *arg)
{
	const struct xent *ents = arg;
	const struct xent *x = &ents[*(const uint32_t *)a];
	const struct xent *y = &ents[*(const uint32_t *)b];
	int r = memcmp(x->name, y->name,
		       x->name_len < y->name_len ? x->name_len : y->name_len);

	if (r)
		return r;
	return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

/* Group entry ids per directory (counting sort), then sort each group. */
static void build_children(struct build *c)
{
	uint64_t pos = 0;

	c->children = xmalloc(c->nents * sizeof(*c->children) + 1);
	for (size_t i = 0; i < c->nnodes; i++) {
		struct xnode *n = &c->nodes[i];

		if (!S_ISDIR(n->mode))
			continue;
		n->u.child0 = (uint32_t)pos;
		n->nlink = 0;	/* fill counter for now */
		pos += n->nchild;
	}
	for (size_t e = 0; e < c->nents; e++) {
		struct xnode *d = &c->nodes[c->ents[e].parent];

		c->children[d->u.child0 + d->nlink++] = (uint32_t)e;
	}
	for (size_t i = 0; i < c->nnodes; i++) {
		struct xnode *n = &c->nodes[i];

		if (S_ISDIR(n->mode) && n->nchild > 1)
			qsort_r(c->children + n->u.child0, n->nchild,
				sizeof(uint32_t), ent_cmp, c->ents);
	}
	c->nchildren_total = pos;
}

/* A directory past XIPFS_DEPTH_MAX: readers may refuse to walk it. */
static int too_deep(const struct build *c, uint32_t id)
{
	char *path = node_relpath(c, id);

	msg_err(path, "directories nested deeper than %d levels",
		XIPFS_DEPTH_MAX);
	free(path);
	return -1;
}

int number_inodes(struct build *c)
{
	uint32_t next = 1, level_end = 1, depth = 0;

	build_children(c);
	c->order = xmalloc(c->nnodes * sizeof(*c->order));
	for (size_t i = 0; i < c->nnodes; i++)
		c->nodes[i].ino = 0;
	c->nodes[c->root].ino = next++;
	c->nodes[c->root].nlink = 2;
	c->order[0] = c->root;
	/* breadth first: depth grows by one each time a level is done */
	for (uint32_t k = 0; k < next - 1; k++) {
		struct xnode *d = &c->nodes[c->order[k]];

		if (k == level_end) {
			depth++;
			level_end = next - 1;
		}
		if (!S_ISDIR(d->mode))
			continue;
		if (depth > XIPFS_DEPTH_MAX)
			return too_deep(c, c->order[k]);
		for (uint32_t i = 0; i < d->nchild; i++) {
			uint32_t id = c->ents[c->children[d->u.child0 + i]].node;
			struct xnode *n = &c->nodes[id];

			if (S_ISDIR(n->mode))
				d->nlink++;
			if (n->ino) {
				n->nlink++;	/* another hard link */
				continue;
			}
			n->ino = next++;
			n->nlink = S_ISDIR(n->mode) ? 2 : 1;
			c->order[n->ino - 1] = id;
		}
	}
	c->ninodes = next - 1;
	return 0;
}

/* Where the inode's parent directory is, in image inode numbers. */
static uint32_t parent_ino(const struct build *c, uint32_t id)
{
	if (id == c->root)
		return XIPFS_ROOT_INO;
	return c->nodes[c->ents[c->nodes[id].entry].parent].ino;
}

int layout_meta(struct build *c)
{
	uint64_t pos = XIPFS_SUPER_SIZE + (uint64_t)c->ninodes *
		       XIPFS_INODE_SIZE, names = 0;

	for (uint32_t k = 0; k < c->ninodes; k++) {
		struct xnode *n = &c->nodes[c->order[k]];

		if (!S_ISDIR(n->mode))
			continue;
		n->data = pos;
		pos += (uint64_t)n->nchild * XIPFS_DIRENT_SIZE;
		for (uint32_t i = 0; i < n->nchild; i++)
			names += c->ents[c->children[n->u.child0 + i]].name_len;
	}
	c->names_off = pos;
	pos += names;
	c->links_off = pos;
	for (uint32_t k = 0; k < c->ninodes; k++) {
		struct xnode *n = &c->nodes[c->order[k]];

		if (S_ISLNK(n->mode)) {
			n->data = pos;
			pos += n->size;
		}
	}
	c->xattrs_off = pos;
	for (size_t b = 0; b < c->nblobs; b++)
		c->blobs[b].meta_off = 0;
	for (uint32_t k = 0; k < c->ninodes; k++) {
		struct xnode *n = &c->nodes[c->order[k]];
		struct xblob *b = n->xattr ? &c->blobs[n->xattr - 1] : NULL;

		if (b && !b->meta_off) {
			b->meta_off = pos;
			pos += b->len;
		}
	}
	c->meta_end = pos;
	c->data_offset = round_up(pos, 1u << c->opt.block_log2);
	return 0;
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

#define PUT16(p, st, f, v) xipfs_put_le16((p) + offsetof(struct st, f), (v))
#define PUT32(p, st, f, v) xipfs_put_le32((p) + offsetof(struct st, f), (v))
#define PUT64(p, st, f, v) xipfs_put_le64((p) + offsetof(struct st, f), (v))

static uint64_t inode_size(const struct xnode *n)
{
	if (S_ISDIR(n->mode))
		return (uint64_t)n->nchild * XIPFS_DIRENT_SIZE;
	if (S_ISREG(n->mode) || S_ISLNK(n->mode))
		return n->size;
	return 0;
}

static uint64_t inode_data(const struct xnode *n)
{
	if (S_ISREG(n->mode))
		return n->size ? n->data : 0;
	if (S_ISDIR(n->mode) || S_ISLNK(n->mode) || S_ISCHR(n->mode) ||
	    S_ISBLK(n->mode))
		return n->data;
	return 0;
}

static void emit_inode(struct mstream *m, uint32_t id)
{
	const struct build *c = m->c;
	const struct xnode *n = &c->nodes[id];
	const struct xblob *b = n->xattr ? &c->blobs[n->xattr - 1] : NULL;
	uint8_t *p = ms_reserve(m, XIPFS_INODE_SIZE);

	memset(p, 0, XIPFS_INODE_SIZE);
	PUT16(p, xipfs_inode, mode, (uint16_t)n->mode);
	PUT16(p, xipfs_inode, flags,
	      n->flags & XN_PACKED ? XIPFS_INODE_PACKED : 0);
	PUT32(p, xipfs_inode, nlink, n->nlink);
	PUT32(p, xipfs_inode, uid, n->uid);
	PUT32(p, xipfs_inode, gid, n->gid);
	PUT64(p, xipfs_inode, size, inode_size(n));
	PUT64(p, xipfs_inode, mtime, (uint64_t)n->mtime);
	PUT32(p, xipfs_inode, mtime_nsec, n->mtime_nsec);
	PUT32(p, xipfs_inode, parent, S_ISDIR(n->mode) ? parent_ino(c, id) : 0);
	PUT64(p, xipfs_inode, data, inode_data(n));
	PUT64(p, xipfs_inode, xattr_offset, b ? b->meta_off : 0);
	PUT32(p, xipfs_inode, xattr_size, b ? b->len : 0);
}

static void emit_dirents(struct mstream *m, const struct xnode *d,
			 uint64_t *name_off)
{
	const struct build *c = m->c;

	for (uint32_t i = 0; i < d->nchild; i++) {
		const struct xent *e = &c->ents[c->children[d->u.child0 + i]];
		const struct xnode *n = &c->nodes[e->node];
		uint8_t *p = ms_reserve(m, XIPFS_DIRENT_SIZE);

		memset(p, 0, XIPFS_DIRENT_SIZE);
		PUT32(p, xipfs_dirent, ino, n->ino);
		p[offsetof(struct xipfs_dirent, name_len)] = e->name_len;
		p[offsetof(struct xipfs_dirent, type)] =
			(uint8_t)IFTODT(n->mode);
		PUT64(p, xipfs_dirent, name_offset, *name_off);
		*name_off += e->name_len;
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
}

/*
 * Write the metadata region; return its CRC and a UUID derived from it
 * (and from the superblock fields outside it), RFC 9562 version 8.
 */
int emit_meta(struct build *c, uint32_t *meta_crc, uint8_t uuid[16])
{
	struct mstream m = { .c = c, .cap = 1u << 20,
			     .off = XIPFS_SUPER_SIZE };
	const uint64_t fields[] = {
		c->opt.block_log2, c->image_size, (uint64_t)c->build_time,
		c->build_time_nsec, c->st.data_bytes, c->data_offset,
	};
	uint8_t extra[sizeof(fields) + sizeof(c->opt.label)];
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
	hash_update(&m.h1, extra, sizeof(extra));
	hash_update(&m.h2, extra, sizeof(extra));
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
