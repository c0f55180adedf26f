/* SPDX-License-Identifier: MIT */
/*
 * File data: placement, deduplication and copying in one pass.
 *
 * The metadata's size does not depend on where data goes, so data is
 * written first, in inode order: block-aligned files (2 MiB-aligned when
 * --align-huge and at least 2 MiB), then the packed area for small files,
 * then the compressed files' clusters (zdata.c), byte-contiguous.
 *
 * Files with the same bytes are stored once (dedupe.c): the file with
 * the lowest inode number keeps the data.  A file whose size no other
 * file shares cannot be a duplicate and goes straight to copy_file_range (a reflink on xfs/btrfs) over the data segments
 * SEEK_DATA/SEEK_HOLE report, so sparse inputs stay sparse: the output was
 * ftruncate'd past the end, so skipped holes read as zeros.  Source files
 * are read through source.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mkxipfs.h"

#define HUGE_ALIGN (2u << 20)
#define SPARSE_MIN (1u << 20)	/* smaller files are copied whole */

/* The in-place and packed files' writer. */
struct data_writer {
	struct build *c;
	struct source src;
	struct dedupe dd;
	uint8_t *buf;		/* IO_CHUNK */
};

static int copy_fallback(struct data_writer *w, const struct src_file *f,
			 uint64_t at, uint64_t dst, uint64_t len)
{
	while (len) {
		size_t n = len < IO_CHUNK ? len : IO_CHUNK;

		if (source_read(w->c, f, w->buf, n, at) < 0 ||
		    write_all_at(w->c, w->buf, n, dst) < 0)
			return -1;
		at += n;
		dst += n;
		len -= n;
		progressed(w->c, n);
	}
	return 0;
}

/* One data segment, [at, at + len) of the file: copy_file_range while the
 * kernel takes it, pread and pwrite where it cannot (other file system,
 * old kernel, special fs). */
static int copy_segment(struct data_writer *w, const struct src_file *f,
			uint64_t at, uint64_t dst, uint64_t len)
{
	struct build *c = w->c;

	while (len && !c->no_cfr) {
		loff_t in = (loff_t)(f->off + at), out = (loff_t)dst;
		ssize_t n = copy_file_range(f->fd, &in, c->out_fd, &out, len,
					    0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EXDEV || errno == EINVAL ||
			      errno == EOPNOTSUPP || errno == ENOTSUP))
			break;		/* this segment by hand */
		if (n < 0 && errno == ENOSYS) {
			c->no_cfr = 1;
			break;
		}
		if (n < 0) {
			msg_err(c->opt.image, "copy: %s", strerror(errno));
			return -1;
		}
		if (n == 0)
			return source_err(c, f->node,
					  "file changed size while reading");
		at += (uint64_t)n;
		dst += (uint64_t)n;
		len -= (uint64_t)n;
		progressed(c, (uint64_t)n);
	}
	return copy_fallback(w, f, at, dst, len);
}

/* Copy the file to dst; a large one by data segment. */
static int copy_file(struct data_writer *w, const struct src_file *f,
		     uint64_t dst)
{
	uint64_t off = f->off, size = f->size, pos = 0;

	if (size < SPARSE_MIN)
		return copy_segment(w, f, 0, dst, size);
	while (pos < size) {
		off_t d = lseek(f->fd, (off_t)(off + pos), SEEK_DATA), h;

		if (d < 0 && errno == ENXIO)
			break;		/* the rest is a hole */
		if (d < 0)
			d = (off_t)(off + pos);	/* no SEEK_DATA: all data */
		if ((uint64_t)d >= off + size)
			break;
		h = lseek(f->fd, d, SEEK_HOLE);
		if (h < 0 || (uint64_t)h > off + size)
			h = (off_t)(off + size);
		progressed(w->c, (uint64_t)d - off - pos);	/* the hole */
		if (copy_segment(w, f, (uint64_t)d - off,
				 dst + (uint64_t)d - off, (uint64_t)(h - d)) < 0)
			return -1;
		pos = (uint64_t)h - off;
	}
	progressed(w->c, size - pos);
	return 0;
}

static uint64_t place(struct build *c, struct xnode *n, uint64_t *pos,
		      int packed)
{
	uint64_t at;

	if (packed) {
		at = *pos;
		*pos += n->size;
		n->flags |= XN_PACKED;
		c->st.packed_files++;
		c->any_packed = 1;
	} else {
		if (c->opt.align_huge && n->size >= HUGE_ALIGN)
			*pos = round_up(*pos, HUGE_ALIGN);
		at = *pos;
		*pos = round_up(*pos + n->size, 1u << c->opt.block_log2);
	}
	n->data = at;
	c->st.data_bytes += n->size;
	return at;
}

/* Write a file that is no duplicate, and keep it for later files to
 * match (key from dedupe_find). */
static int write_new(struct data_writer *w, const struct src_file *f,
		     uint64_t *pos, int packed, uint64_t key)
{
	struct build *c = w->c;
	struct xnode *n = &c->nodes[f->node];
	uint64_t at = place(c, n, pos, packed);
	int r;

	if (!(n->flags & XN_SHARED_SIZE))	/* not hashed, not kept */
		return copy_file(w, f, at);
	/* a small file is still in w->buf from hashing */
	if (n->size <= IO_CHUNK) {
		r = write_all_at(c, w->buf, n->size, at);
		progressed(c, n->size);
	} else {
		r = copy_file(w, f, at);
	}
	dedupe_keep(&w->dd, f->node, key);
	return r;
}

/* Place and write one file, or point it at identical data. */
static int write_one(struct data_writer *w, uint32_t id, uint64_t *pos,
		     int packed)
{
	struct build *c = w->c;
	struct xnode *n = &c->nodes[id];
	struct src_file f;
	uint64_t key;
	uint32_t rep;
	int r;

	if (source_open(&w->src, id, &f) < 0)
		return -1;
	r = dedupe_find(&w->dd, &f, w->buf, &key, &rep);
	if (r == 0 && rep != NONE) {
		n->flags |= XN_DUP | (c->nodes[rep].flags & XN_PACKED);
		n->data = c->nodes[rep].data;
	} else if (r == 0) {
		r = write_new(w, &f, pos, packed, key);
	}
	return source_close(&w->src, &f, 1) < 0 ? -1 : r;
}

/* Which pass stores a file: 0 in place, 1 packed, 2 in clusters. */
static int pass_of(const struct build *c, const struct xnode *n)
{
	if (n->flags & XN_COMPRESSED)
		return 2;
	return n->size > 0 && n->size < c->opt.pack_small;
}

/* Mark files whose size another file shares: only they can be dups. */
static int size_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int shares(const uint64_t *v, size_t n, uint64_t size)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] < size)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo + 1 < n && v[lo] == size && v[lo + 1] == size;
}

/*
 * Before writing: find shared sizes, the bytes to copy (for progress) and
 * an upper bound of the image size, so that the output can be extended
 * once and every unwritten byte reads back as zero.
 */
int data_plan(struct build *c)
{
	uint64_t *sizes = xmalloc(c->ninodes * sizeof(*sizes) + 1);
	uint64_t bs = 1u << c->opt.block_log2, bound = c->data_offset;
	size_t n = 0;

	for (uint32_t k = 0; k < c->ninodes; k++) {
		const struct xnode *x = &c->nodes[c->order[k]];

		if (S_ISREG(x->mode) && x->size)
			sizes[n++] = x->size;
	}
	qsort(sizes, n, sizeof(*sizes), size_cmp);
	for (uint32_t k = 0; k < c->ninodes; k++) {
		struct xnode *x = &c->nodes[c->order[k]];

		if (!S_ISREG(x->mode) || !x->size)
			continue;
		if (shares(sizes, n, x->size))
			x->flags |= XN_SHARED_SIZE;
		c->total_bytes += x->size;
		if (x->flags & XN_COMPRESSED)	/* no cluster ever grows */
			bound += x->size;
		else
			bound += round_up(x->size, bs) +
				 (c->opt.align_huge && x->size >= HUGE_ALIGN ?
				  HUGE_ALIGN : 0);
	}
	free(sizes);
	bound = round_up(bound, bs);
	if (!c->opt.no_data_crc)	/* the CRC table, one le32 a block */
		bound += round_up((bound - c->data_offset) / bs * 4, bs);
	c->image_bound = bound;
	return 0;
}

int write_data(struct build *c)
{
	struct data_writer w = { .c = c, .buf = xmalloc(IO_CHUNK) };
	uint64_t pos = c->data_offset;
	int r = 0;

	source_init(&w.src, c);
	dedupe_init(&w.dd, c);
	for (int packed = 0; packed < 2; packed++) {
		for (uint32_t k = 0; r == 0 && k < c->ninodes; k++) {
			const struct xnode *n = &c->nodes[c->order[k]];

			if (S_ISREG(n->mode) && n->size &&
			    pass_of(c, n) == packed)
				r = write_one(&w, c->order[k], &pos, packed);
		}
	}
	dedupe_free(&w.dd);
	source_free(&w.src);
	free(w.buf);
	/* after the packed area: clusters need no alignment either */
	if (r == 0 && c->nzfiles)
		r = write_compressed(c, &pos);
	c->data_end = pos;
	c->image_size = round_up(pos, 1u << c->opt.block_log2);
	progress_update(c, 1);
	return r;
}
