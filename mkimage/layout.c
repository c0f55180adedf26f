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
 * targets (inode order), xattr blocks (order of first use), then the
 * compressed files' cluster tables (inode order, each 8-aligned, as the
 * format wants).  layout_meta()
 * computes the offsets; write.c streams the bytes in the same order.  This
 * file only computes: it writes nothing and calls nothing of the writer.
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

	return xipfs_name_cmp(x->name, x->name_len, y->name, y->name_len);
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

/* Only images with compressed files get the 8-alignment padding. */
static uint64_t layout_ztables(struct build *c, uint64_t pos)
{
	if (!c->nzfiles)
		return pos;
	pos = round_up(pos, 8);
	c->ztables_off = pos;
	for (size_t i = 0; i < c->nzfiles; i++) {
		c->zfiles[i].table_off = pos;
		pos += xipfs_ztable_size(c->zfiles[i].count);
	}
	return pos;
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
	c->any_xattrs = 0;
	for (size_t b = 0; b < c->nblobs; b++)
		c->blobs[b].meta_off = 0;
	for (uint32_t k = 0; k < c->ninodes; k++) {
		struct xnode *n = &c->nodes[c->order[k]];
		struct xblob *b = n->xattr ? &c->blobs[n->xattr - 1] : NULL;

		if (b)
			c->any_xattrs = 1;
		if (b && !b->meta_off) {
			b->meta_off = pos;
			pos += b->len;
		}
	}
	pos = layout_ztables(c, pos);
	c->meta_end = pos;
	c->data_offset = round_up(pos, 1u << c->opt.block_log2);
	return 0;
}
