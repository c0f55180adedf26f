/* SPDX-License-Identifier: MIT */
/*
 * Which regular files are compressed.  Decided before the metadata is
 * laid out, since each compressed file's cluster table lives there (its
 * size depends only on the file's length).
 *
 * --xip=all keeps every file in place; none compresses every file it
 * can; elf keeps ELF executables and shared objects in place, which
 * takes the first bytes of each file (read here: from the spool for tar
 * input, from the source tree otherwise).  Empty files and files over
 * XIPFS_ZFILE_MAX are never compressed: the format does not allow it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mkxipfs.h"

static int read_elf_header(struct data_writer *w, uint32_t id, int *keep)
{
	const struct xnode *n = &w->c->nodes[id];
	uint8_t hdr[ELF_HDR_NEED];
	size_t len = n->size < sizeof(hdr) ? (size_t)n->size : sizeof(hdr);
	uint64_t off;
	int fd, r;

	if (open_source(w, id, &fd, &off) < 0)
		return -1;
	r = read_exact(w->c, id, fd, hdr, len, off);
	*keep = r == 0 && elf_stays_xip(hdr, len);
	return close_source(w, id, fd, 0) < 0 ? -1 : r;
}

static int stays_xip(struct data_writer *w, uint32_t id, int *keep)
{
	const struct build *c = w->c;
	const struct xnode *n = &c->nodes[id];

	*keep = !S_ISREG(n->mode) || n->size == 0 ||
		n->size > XIPFS_ZFILE_MAX;
	if (*keep || c->opt.xip == XIP_NONE)
		return 0;
	return read_elf_header(w, id, keep);
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
		.count = (uint32_t)((n->size + (1u << log2) - 1) >> log2),
		.node = id, .rep = NONE, .ends = c->nzends,
	};
	c->nzends += zf->count;
	n->flags |= XN_COMPRESSED;
	n->data = c->nzfiles++;
	c->st.zfiles++;
	c->st.zbytes += n->size;
}

int select_compressed(struct build *c)
{
	struct data_writer w;
	size_t cap = 0;
	int r = 0;

	if (!c->opt.z.alg || c->opt.xip == XIP_ALL)
		return 0;
	dw_init(&w, c);
	for (uint32_t k = 0; r == 0 && k < c->ninodes; k++) {
		int keep;

		r = stays_xip(&w, c->order[k], &keep);
		if (r == 0 && !keep)
			add_zfile(c, c->order[k], &cap);
	}
	dw_free(&w);
	c->zends = xmalloc(c->nzends * sizeof(*c->zends) + 1);
	return r;
}
