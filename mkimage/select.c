/* SPDX-License-Identifier: MIT */
/*
 * Which regular files are compressed.  Decided before the metadata is
 * laid out, since each compressed file's cluster table lives there (its
 * size depends only on the file's length).
 *
 * --xip=all keeps every file in place; none compresses every file it
 * can; elf keeps ELF executables and shared objects in place, which
 * takes the first bytes of each file (read here: from the spool for tar
 * input, from the source tree otherwise).  --xip-list keeps more files
 * in place: any name of a file (hard links too) may match.  Empty files
 * and files over
 * XIPFS_ZFILE_MAX are never compressed: the format does not allow it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mkxipfs.h"
#include "xipfs/xipfs.h"

static int read_elf_header(struct source *src, uint32_t id, int *keep)
{
	uint8_t hdr[ELF_HDR_NEED];
	struct src_file f;
	size_t len;
	int r;

	if (source_open(src, id, &f) < 0)
		return -1;
	len = f.size < sizeof(hdr) ? (size_t)f.size : sizeof(hdr);
	r = source_read(src->c, &f, hdr, len, 0);
	*keep = r == 0 && elf_stays_xip(hdr, len);
	return source_close(src, &f, 0) < 0 ? -1 : r;
}

static int stays_xip(struct source *src, uint32_t id, int *keep)
{
	const struct build *c = src->c;
	const struct xnode *n = &c->nodes[id];

	*keep = !S_ISREG(n->mode) || n->size == 0 ||
		n->size > XIPFS_ZFILE_MAX || n->flags & XN_XIP_LISTED;
	if (*keep || c->opt.xip == XIP_NONE)
		return 0;
	return read_elf_header(src, id, keep);
}

static void add_zfile(struct build *c, uint32_t id, size_t *cap)
{
	struct xnode *n = &c->nodes[id];
	uint32_t log2 = c->opt.z.cluster_log2;
	struct zfile *zf;

	if (c->nzfiles == *cap) {
		*cap = *cap ? 2 * *cap : 256;
		c->zfiles = xrealloc_array(c->zfiles, *cap, sizeof(*c->zfiles));
	}
	zf = &c->zfiles[c->nzfiles];
	*zf = (struct zfile){
		.count = xipfs_cluster_count(n->size, log2),
		.node = id, .rep = NONE, .ends = c->nzends,
	};
	c->nzends += zf->count;
	n->flags |= XN_COMPRESSED;
	n->zfile = (uint32_t)c->nzfiles++;
	c->st.zfiles++;
	c->st.zbytes += n->size;
}

/* Mark every regular file one of whose names --xip-list matches. */
static int mark_listed(struct build *c)
{
	struct xiplist l = { 0 };

	if (!c->opt.xip_list)
		return 0;
	if (xiplist_load(&l, c->opt.xip_list) < 0)
		return -1;
	for (size_t e = 0; e < c->nents; e++) {
		const struct xent *x = &c->ents[e];
		struct xnode *n = &c->nodes[x->node];
		char *dir, *path;
		size_t len;

		if (!S_ISREG(n->mode) || !n->ino)
			continue;
		dir = node_relpath(c, x->parent);
		len = strlen(dir) + x->name_len + 2;
		path = xmalloc(len);
		if (x->parent == c->root)
			snprintf(path, len, "%.*s", (int)x->name_len, x->name);
		else
			snprintf(path, len, "%s/%.*s", dir, (int)x->name_len,
				 x->name);
		if (xiplist_match(&l, path))
			n->flags |= XN_XIP_LISTED;
		free(path);
		free(dir);
	}
	xiplist_free(&l);
	return 0;
}

int select_compressed(struct build *c)
{
	struct source src;
	size_t cap = 0;
	int r = 0;

	if (!c->opt.z.alg)
		return 0;
	if (mark_listed(c) < 0)	/* checked even when it changes nothing */
		return -1;
	if (c->opt.xip == XIP_ALL)
		return 0;
	source_init(&src, c);
	for (uint32_t k = 0; r == 0 && k < c->ninodes; k++) {
		int keep;

		r = stays_xip(&src, c->order[k], &keep);
		if (r == 0 && !keep)
			add_zfile(c, c->order[k], &cap);
	}
	source_free(&src);
	c->zends = xmalloc(c->nzends * sizeof(*c->zends) + 1);
	return r;
}
