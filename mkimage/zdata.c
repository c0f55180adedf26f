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
 * Dedupe as in data.c, among compressed files only: a (size, hash) match
 * is confirmed by comparing the two sources, and the later file shares
 * the earlier one's clusters (its own table repeats the ends).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mkxipfs.h"

struct zwriter {
	struct data_writer *w;
	struct zpipe *pipe;
	uint64_t pos;		/* where the next stored byte goes */
};

/* A retired cluster: its stored bytes go where the last one ended. */
static int retire(void *arg, const struct zslot *s)
{
	struct zwriter *zw = arg;
	struct build *c = zw->w->c;
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

/* Do the sources of nodes a (open at fd, off) and b hold the same bytes? */
static int same_sources(struct data_writer *w, uint32_t a, int fd,
			uint64_t off, uint32_t b, int *same)
{
	uint64_t size = w->c->nodes[a].size, boff, done = 0;
	int bfd, r = 0;

	*same = 1;
	if (open_source(w, b, &bfd, &boff) < 0)
		return -1;
	while (r == 0 && *same && done < size) {
		size_t len = size - done < IO_CHUNK ? size - done : IO_CHUNK;

		r = read_exact(w->c, a, fd, w->buf, len, off + done);
		if (r == 0)
			r = read_exact(w->c, b, bfd, w->buf2, len, boff + done);
		*same = r == 0 && !memcmp(w->buf, w->buf2, len);
		done += len;
	}
	close_source(w, b, bfd, 0);
	return r;
}

/* An earlier compressed file with the same bytes: its zfile, or NONE. */
static int find_zdup(struct data_writer *w, uint32_t id, int fd, uint64_t off,
		     uint64_t hash, uint32_t *rep)
{
	const struct build *c = w->c;
	uint64_t size = c->nodes[id].size;
	struct ht_iter it;

	*rep = NONE;
	for (uint32_t zi = ht_first(&w->zwritten, rep_key(size, hash), &it);
	     zi != NONE; zi = ht_next(&w->zwritten, &it)) {
		uint32_t cand = c->zfiles[zi].node;
		int same;

		if (c->nodes[cand].size != size)
			continue;
		if (same_sources(w, id, fd, off, cand, &same) < 0)
			return -1;
		if (same) {
			*rep = zi;
			return 0;
		}
	}
	return 0;
}

/* Feed one file's clusters to the pipeline. */
static int submit_clusters(struct zwriter *zw, uint32_t zi, int fd,
			   uint64_t off)
{
	struct build *c = zw->w->c;
	const struct zfile *zf = &c->zfiles[zi];
	uint64_t size = c->nodes[zf->node].size;
	uint32_t cl = 1u << c->opt.z.cluster_log2;

	for (uint32_t i = 0; i < zf->count; i++) {
		uint64_t at = (uint64_t)i * cl;
		int err;
		struct zslot *s = zpipe_slot(zw->pipe, &err);

		if (err)
			return -1;
		s->len = size - at < cl ? (uint32_t)(size - at) : cl;
		s->zfile = zi;
		s->index = i;
		if (read_exact(c, zf->node, fd, s->in, s->len, off + at) < 0)
			return -1;
		zpipe_submit(zw->pipe, s);
	}
	return 0;
}

static int write_zfile(struct zwriter *zw, uint32_t zi)
{
	struct data_writer *w = zw->w;
	struct build *c = w->c;
	struct zfile *zf = &c->zfiles[zi];
	const struct xnode *n = &c->nodes[zf->node];
	uint64_t off, hash = 0;
	uint32_t rep = NONE;
	int fd, r = 0;

	if (open_source(w, zf->node, &fd, &off) < 0)
		return -1;
	if (n->flags & XN_SHARED_SIZE) {
		r = hash_source(w, zf->node, fd, off, &hash);
		if (r == 0)
			r = find_zdup(w, zf->node, fd, off, hash, &rep);
	}
	if (r == 0 && rep != NONE) {
		zf->rep = rep;
		zf->ends = c->zfiles[rep].ends;
		c->st.dup_files++;
		c->st.dup_bytes += n->size;
		progressed(c, n->size);
	} else if (r == 0) {
		if (n->flags & XN_SHARED_SIZE)
			ht_insert(&w->zwritten, rep_key(n->size, hash), zi);
		r = submit_clusters(zw, zi, fd, off);
	}
	return close_source(w, zf->node, fd, 1) < 0 ? -1 : r;
}

int write_compressed(struct data_writer *w, uint64_t *pos)
{
	struct build *c = w->c;
	struct zwriter zw = { .w = w, .pos = *pos };
	int r = 0;

	zw.pipe = zpipe_new(&c->opt.z, c->opt.threads, retire, &zw);
	if (!zw.pipe) {
		msg_err(NULL, "cannot start the compressor (out of memory?)");
		return -1;
	}
	for (size_t zi = 0; r == 0 && zi < c->nzfiles; zi++)
		r = write_zfile(&zw, (uint32_t)zi);
	if (zpipe_drain(zw.pipe) < 0)
		r = -1;
	zpipe_free(zw.pipe);
	/* a duplicate's clusters are where its representative's went */
	for (size_t zi = 0; zi < c->nzfiles; zi++)
		if (c->zfiles[zi].rep != NONE)
			c->zfiles[zi].data = c->zfiles[c->zfiles[zi].rep].data;
	*pos = zw.pos;
	return r;
}
