/* SPDX-License-Identifier: MIT */
/*
 * Compressed files' data: after the in-place and packed files, in inode
 * order, each file's clusters stored byte-contiguous (no alignment: such
 * a file is never mapped), with its table's ends recorded for write.c.
 *
 * A file is read once cluster by cluster into the pipeline's slots
 * (zpipe.c); its stored bytes are written as slots retire, in order.  A
 * file that does not shrink keeps its inode compressed with raw clusters:
 * its table was laid out already, and raw clusters still save the block
 * padding an in-place file would cost.
 *
 * Dedupe (dedupe.c) among compressed files only: the later of two files
 * with the same bytes shares the earlier one's clusters (its own table
 * repeats the ends).
 */
#include "config.h"

#include <stdlib.h>

#include "mkxipfs.h"

struct zwriter {
	struct build *c;
	struct source src;
	struct dedupe dd;
	uint8_t *buf;		/* IO_CHUNK, for hashing */
	struct zpipe *pipe;
	uint64_t pos;		/* where the next stored byte goes */
};

/* A retired cluster: its stored bytes go where the last one ended. */
static int retire(void *arg, const struct zslot *s)
{
	struct zwriter *zw = arg;
	struct build *c = zw->c;
	struct zfile *zf = &c->zfiles[s->zfile];

	if (s->index == 0)
		zf->data = zw->pos;
	if (write_all_at(c, s->out, s->stored, zw->pos) < 0)
		return -1;
	zw->pos += s->stored;
	c->zends[zf->ends + s->index] = (uint32_t)(zw->pos - zf->data);
	c->st.zstored += s->stored;
	c->st.data_bytes += s->stored;
	progressed(c, s->len);
	return 0;
}

/* Feed one file's clusters to the pipeline. */
static int submit_clusters(struct zwriter *zw, uint32_t zi,
			   const struct src_file *f)
{
	struct build *c = zw->c;
	const struct zfile *zf = &c->zfiles[zi];
	uint32_t cl = 1u << c->opt.z.cluster_log2;

	for (uint32_t i = 0; i < zf->count; i++) {
		uint64_t at = (uint64_t)i * cl;
		int err;
		struct zslot *s = zpipe_slot(zw->pipe, &err);

		if (err)
			return -1;
		s->len = f->size - at < cl ? (uint32_t)(f->size - at) : cl;
		s->zfile = zi;
		s->index = i;
		if (source_read(c, f, s->in, s->len, at) < 0)
			return -1;
		zpipe_submit(zw->pipe, s);
	}
	return 0;
}

static int write_zfile(struct zwriter *zw, uint32_t zi)
{
	struct build *c = zw->c;
	struct zfile *zf = &c->zfiles[zi];
	struct src_file f;
	uint64_t key;
	uint32_t rep;
	int r;

	if (source_open(&zw->src, zf->node, &f) < 0)
		return -1;
	r = dedupe_find(&zw->dd, &f, zw->buf, &key, &rep);
	if (r == 0 && rep != NONE) {
		zf->rep = c->nodes[rep].zfile;
		zf->ends = c->zfiles[zf->rep].ends;
	} else if (r == 0) {
		dedupe_keep(&zw->dd, zf->node, key);
		r = submit_clusters(zw, zi, &f);
	}
	return source_close(&zw->src, &f, 1) < 0 ? -1 : r;
}

/* The files' clusters, through the pipeline; a duplicate's clusters are
 * where its representative's went. */
static int write_zfiles(struct zwriter *zw)
{
	struct build *c = zw->c;
	int r = 0;

	c->compressing = 1;	/* it stays: the last progress line says it */
	for (size_t zi = 0; r == 0 && zi < c->nzfiles; zi++)
		r = write_zfile(zw, (uint32_t)zi);
	if (zpipe_drain(zw->pipe) < 0)
		r = -1;
	for (size_t zi = 0; zi < c->nzfiles; zi++)
		if (c->zfiles[zi].rep != NONE)
			c->zfiles[zi].data = c->zfiles[c->zfiles[zi].rep].data;
	return r;
}

int write_compressed(struct build *c, uint64_t *pos)
{
	struct zwriter zw = { .c = c, .pos = *pos };
	int r;

	zw.pipe = zpipe_new(&c->opt.z, c->opt.threads, retire, &zw);
	if (!zw.pipe) {
		msg_err(NULL, "cannot start the compressor (out of memory?)");
		return -1;
	}
	zw.buf = xmalloc(IO_CHUNK);
	source_init(&zw.src, c);
	dedupe_init(&zw.dd, c);
	r = write_zfiles(&zw);
	zpipe_free(zw.pipe);
	dedupe_free(&zw.dd);
	source_free(&zw.src);
	free(zw.buf);
	*pos = zw.pos;
	return r;
}
