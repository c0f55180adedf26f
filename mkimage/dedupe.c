/* SPDX-License-Identifier: MIT */
/*
 * Deduplication of file data, one table per way of storing (data.c keeps
 * one for in-place and packed files, zdata.c one for compressed files).
 *
 * Only files whose size another file shares can be duplicates (data.c
 * marks them XN_SHARED_SIZE), so only they are hashed.  A (size, hash)
 * match with a file kept earlier is confirmed by comparing the two files'
 * sources byte for byte, so a hash collision costs a compare but never
 * merges different files.
 *
 * Why the sources and not the image: it is the one rule that serves both
 * ways of storing.  A compressed file's bytes in the image are clusters,
 * possibly still in the compression pipeline, so comparing there would
 * mean draining and decompressing; the source is always there.  It costs
 * the same reads as comparing with the image (a file up to IO_CHUNK is
 * still in the caller's buffer from hashing, so only the earlier file is
 * read, through a reader of its own so that the caller's cached directory
 * stays open), and it promises as much as the rest of the builder, which
 * checks a source's size against the scan, never its bytes: a wrong merge
 * would need a 64-bit hash collision and the earlier file rewritten in
 * place, at the same size, between its copy and the compare.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mkxipfs.h"

void dedupe_init(struct dedupe *d, struct build *c)
{
	*d = (struct dedupe){ .c = c };
	source_init(&d->earlier, c);
}

void dedupe_free(struct dedupe *d)
{
	source_free(&d->earlier);
	ht_free(&d->kept);
	free(d->buf);
	d->buf = NULL;
}

/* One 64-bit key for (size, content hash): for two files of one size the
 * keys are equal exactly when the content hashes are. */
static uint64_t dedupe_key(uint64_t size, uint64_t hash)
{
	return hash ^ size * 0x9e3779b97f4a7c15ull;
}

/* Does the earlier file cand hold the bytes of f?  buf holds f whole when
 * it fits (from hashing); otherwise it is read again chunk by chunk. */
static int same_bytes(struct dedupe *d, const struct src_file *f,
		      uint8_t *buf, uint32_t cand, int *same)
{
	struct src_file e;
	uint64_t done = 0;
	int r = 0;

	*same = 1;
	if (source_open(&d->earlier, cand, &e) < 0)
		return -1;
	if (!d->buf)
		d->buf = xmalloc(IO_CHUNK);
	while (r == 0 && *same && done < f->size) {
		size_t len = f->size - done < IO_CHUNK ? f->size - done :
			     IO_CHUNK;

		if (f->size > IO_CHUNK)
			r = source_read(d->c, f, buf, len, done);
		if (r == 0)
			r = source_read(d->c, &e, d->buf, len, done);
		*same = r == 0 && !memcmp(buf, d->buf, len);
		done += len;
	}
	source_close(&d->earlier, &e, 0);
	return r;
}

int dedupe_find(struct dedupe *d, const struct src_file *f, uint8_t *buf,
		uint64_t *key, uint32_t *rep)
{
	uint64_t hash;
	struct ht_iter it;

	*rep = NONE;
	*key = 0;
	if (!(d->c->nodes[f->node].flags & XN_SHARED_SIZE))
		return 0;
	if (source_hash(d->c, f, buf, &hash) < 0)
		return -1;
	*key = dedupe_key(f->size, hash);
	for (uint32_t cand = ht_first(&d->kept, *key, &it); cand != NONE;
	     cand = ht_next(&d->kept, &it)) {
		int same;

		if (d->c->nodes[cand].size != f->size)
			continue;
		if (same_bytes(d, f, buf, cand, &same) < 0)
			return -1;
		if (same) {
			*rep = cand;
			d->c->st.dup_files++;
			d->c->st.dup_bytes += f->size;
			progressed(d->c, f->size);	/* as good as written */
			return 0;
		}
	}
	return 0;
}

void dedupe_keep(struct dedupe *d, uint32_t node, uint64_t key)
{
	if (d->c->nodes[node].flags & XN_SHARED_SIZE)
		ht_insert(&d->kept, key, node);
}
