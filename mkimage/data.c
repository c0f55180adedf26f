/* SPDX-License-Identifier: MIT */
/*
 * File data: placement, deduplication and copying in one pass.
 *
 * The metadata's size does not depend on where data goes, so data is
 * written first, in inode order: block-aligned files (2 MiB-aligned when
 * --align-huge and at least 2 MiB), then the packed area for small files.
 *
 * Only files whose size is shared with another file can be duplicates.
 * Such a file is hashed as it is read; a (size, hash) match against data
 * already written is confirmed by comparing with those bytes in the image,
 * so a hash collision costs a compare but never merges different files.
 * The file with the lowest inode number keeps the data.  Every other file
 * goes straight to copy_file_range (a reflink on xfs/btrfs) over the data
 * segments SEEK_DATA/SEEK_HOLE report, so sparse inputs stay sparse: the
 * output was ftruncate'd past the end, so skipped holes read as zeros.
 * Each source file is opened once.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mkxipfs.h"

#define HUGE_ALIGN (2u << 20)
#define SPARSE_MIN (1u << 20)	/* smaller files are copied whole */

/* Path of a node for messages: SOURCE/relative path. */
static char *src_path(const struct build *c, uint32_t id)
{
	char *rel = node_relpath(c, id);
	size_t len = strlen(c->opt.source) + strlen(rel) + 2;
	char *full = xmalloc(len);
	size_t sl = strlen(c->opt.source);

	snprintf(full, len, "%s%s%s", c->opt.source,
		 sl && c->opt.source[sl - 1] == '/' ? "" : "/", rel);
	free(rel);
	return full;
}

static int src_err(struct build *c, uint32_t id, const char *what)
{
	char *path = src_path(c, id);

	if (what)
		msg_err(path, "%s", what);
	else
		msg_source_errno(c, path, errno);
	free(path);
	return -1;
}

/* The directory holding a source file, cached: files are visited in
 * inode order, which keeps a directory's files together. */
static int parent_fd(struct data_writer *w, uint32_t dir)
{
	struct build *c = w->c;
	char *rel;

	if (dir == c->root)
		return c->root_fd;
	if (w->dir_fd >= 0 && w->dir_node == dir)
		return w->dir_fd;
	if (w->dir_fd >= 0)
		close(w->dir_fd);
	rel = node_relpath(c, dir);
	w->dir_fd = openat(c->root_fd, rel, O_RDONLY | O_DIRECTORY |
			   O_NOFOLLOW | O_CLOEXEC);
	free(rel);
	w->dir_node = w->dir_fd >= 0 ? dir : NONE;
	return w->dir_fd;
}

/* Open a regular file's data: the spool for tar input, else the file in
 * the source tree, checked to be what the scan saw. */
int open_source(struct data_writer *w, uint32_t id, int *fd, uint64_t *off)
{
	struct build *c = w->c;
	const struct xnode *n = &c->nodes[id];
	const struct xent *e = &c->ents[n->entry];
	char name[XIPFS_NAME_MAX + 1];
	struct stat st;
	int dfd;

	*off = 0;
	if (n->flags & XN_SPOOLED) {
		*fd = c->spool_fd;
		*off = n->u.src;
		return 0;
	}
	memcpy(name, e->name, e->name_len);
	name[e->name_len] = '\0';
	dfd = parent_fd(w, e->parent);
	*fd = dfd < 0 ? -1 : openat(dfd, name, O_RDONLY | O_NOFOLLOW |
				     O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (*fd < 0 || fstat(*fd, &st) < 0) {
		src_err(c, id, NULL);
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != n->size) {
		src_err(c, id, "changed since it was scanned");
		goto fail;
	}
	return 0;
fail:
	if (*fd >= 0)
		close(*fd);
	return -1;
}

/* Close a source; a file that changed size while read is an error. */
int close_source(struct data_writer *w, uint32_t id, int fd, int check)
{
	struct build *c = w->c;
	struct stat st;
	int r = 0;

	if (fd == c->spool_fd)
		return 0;
	if (check && (fstat(fd, &st) < 0 ||
		      (uint64_t)st.st_size != c->nodes[id].size))
		r = src_err(c, id, "file changed size while reading");
	close(fd);
	return r;
}

/* pread exactly len bytes; a short file is an error, not zeros. */
int read_exact(struct build *c, uint32_t id, int fd, void *buf,
		      size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return src_err(c, id, n ? NULL :
				       "file changed size while reading");
		buf = (uint8_t *)buf + n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

void progressed(struct build *c, uint64_t n)
{
	c->st.copied += n;
	progress_update(c, 0);
}

static int copy_fallback(struct data_writer *w, uint32_t id, int fd, uint64_t src,
			 uint64_t dst, uint64_t len)
{
	while (len) {
		size_t n = len < IO_CHUNK ? len : IO_CHUNK;

		if (read_exact(w->c, id, fd, w->buf, n, src) < 0 ||
		    write_all_at(w->c, w->buf, n, dst) < 0)
			return -1;
		src += n;
		dst += n;
		len -= n;
		progressed(w->c, n);
	}
	return 0;
}

/* One data segment: copy_file_range while the kernel takes it, pread and
 * pwrite where it cannot (other file system, old kernel, special fs). */
static int copy_segment(struct data_writer *w, uint32_t id, int fd, uint64_t src,
			uint64_t dst, uint64_t len)
{
	struct build *c = w->c;

	while (len && !c->no_cfr) {
		loff_t in = (loff_t)src, out = (loff_t)dst;
		ssize_t n = copy_file_range(fd, &in, c->out_fd, &out, len, 0);

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
			return src_err(c, id, "file changed size while reading");
		src += (uint64_t)n;
		dst += (uint64_t)n;
		len -= (uint64_t)n;
		progressed(c, (uint64_t)n);
	}
	return copy_fallback(w, id, fd, src, dst, len);
}

/* Copy [off, off + size) of fd to dst; large files by data segment. */
static int copy_file(struct data_writer *w, uint32_t id, int fd, uint64_t off,
		     uint64_t dst)
{
	uint64_t size = w->c->nodes[id].size, pos = 0;

	if (size < SPARSE_MIN)
		return copy_segment(w, id, fd, off, dst, size);
	while (pos < size) {
		off_t d = lseek(fd, (off_t)(off + pos), SEEK_DATA), h;

		if (d < 0 && errno == ENXIO)
			break;		/* the rest is a hole */
		if (d < 0)
			d = (off_t)(off + pos);	/* no SEEK_DATA: all data */
		if ((uint64_t)d >= off + size)
			break;
		h = lseek(fd, d, SEEK_HOLE);
		if (h < 0 || (uint64_t)h > off + size)
			h = (off_t)(off + size);
		progressed(w->c, (uint64_t)d - off - pos);	/* the hole */
		if (copy_segment(w, id, fd, (uint64_t)d,
				 dst + (uint64_t)d - off, (uint64_t)(h - d)) < 0)
			return -1;
		pos = (uint64_t)h - off;
	}
	progressed(w->c, size - pos);
	return 0;
}

/* One 64-bit key for (size, content hash): for two files of one size the
 * keys are equal exactly when the content hashes are. */
uint64_t rep_key(uint64_t size, uint64_t hash)
{
	return hash ^ size * 0x9e3779b97f4a7c15ull;
}

/* Hash the whole file; for a small one, leave its bytes in w->buf. */
int hash_source(struct data_writer *w, uint32_t id, int fd, uint64_t off,
		       uint64_t *h)
{
	uint64_t size = w->c->nodes[id].size, done = 0;
	struct hasher hs;

	hash_init(&hs, 0);
	while (done < size) {
		size_t len = size - done < IO_CHUNK ? size - done : IO_CHUNK;

		if (read_exact(w->c, id, fd, w->buf, len, off + done) < 0)
			return -1;
		hash_update(&hs, w->buf, len);
		done += len;
	}
	*h = hash_final(&hs);
	return 0;
}

/* Does the source (fd, off) hold the same bytes as the image at dst? */
static int same_as_image(struct data_writer *w, uint32_t id, int fd, uint64_t off,
			 uint64_t dst, int *same)
{
	struct build *c = w->c;
	uint64_t size = c->nodes[id].size, done = 0;

	*same = 1;
	while (*same && done < size) {
		size_t len = size - done < IO_CHUNK ? size - done : IO_CHUNK;

		if (size > IO_CHUNK &&
		    read_exact(c, id, fd, w->buf, len, off + done) < 0)
			return -1;
		if (pread(c->out_fd, w->buf2, len, (off_t)(dst + done)) !=
		    (ssize_t)len) {
			msg_err(c->opt.image, "reading back: %s",
				strerror(errno ? errno : EIO));
			return -1;
		}
		*same = !memcmp(w->buf, w->buf2, len);
		done += len;
	}
	return 0;
}

/* An earlier file with the same bytes, or NONE. */
static int find_dup(struct data_writer *w, uint32_t id, int fd, uint64_t off,
		    uint64_t hash, uint32_t *rep)
{
	uint64_t size = w->c->nodes[id].size;

	struct ht_iter it;

	*rep = NONE;
	for (uint32_t cand = ht_first(&w->written, rep_key(size, hash), &it);
	     cand != NONE; cand = ht_next(&w->written, &it)) {
		int same;

		if (w->c->nodes[cand].size != size)
			continue;
		if (same_as_image(w, id, fd, off, w->c->nodes[cand].data,
				  &same) < 0)
			return -1;
		if (same) {
			*rep = cand;
			return 0;
		}
	}
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

/* Place and write one file, or point it at identical data. */
static int write_one(struct data_writer *w, uint32_t id, uint64_t *pos,
		     int packed)
{
	struct build *c = w->c;
	struct xnode *n = &c->nodes[id];
	uint64_t off, hash = 0;
	uint32_t rep = NONE;
	int fd, r;

	if (open_source(w, id, &fd, &off) < 0)
		return -1;
	if (!(n->flags & XN_SHARED_SIZE)) {
		r = copy_file(w, id, fd, off, place(c, n, pos, packed));
		return close_source(w, id, fd, 1) < 0 ? -1 : r;
	}
	r = hash_source(w, id, fd, off, &hash);
	if (r == 0)
		r = find_dup(w, id, fd, off, hash, &rep);
	if (r == 0 && rep != NONE) {
		n->flags |= XN_DUP | (c->nodes[rep].flags & XN_PACKED);
		n->data = c->nodes[rep].data;
		c->st.dup_files++;
		c->st.dup_bytes += n->size;
		progressed(c, n->size);
	} else if (r == 0) {
		uint64_t at = place(c, n, pos, packed);

		/* a small file is still in w->buf from hashing */
		if (n->size <= IO_CHUNK) {
			r = write_all_at(c, w->buf, n->size, at);
			progressed(c, n->size);
		} else {
			r = copy_file(w, id, fd, off, at);
		}
		ht_insert(&w->written, rep_key(n->size, hash), id);
	}
	return close_source(w, id, fd, 1) < 0 ? -1 : r;
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

void dw_init(struct data_writer *w, struct build *c)
{
	*w = (struct data_writer){ .c = c, .dir_fd = -1, .dir_node = NONE };
	w->buf = xmalloc(IO_CHUNK);
	w->buf2 = xmalloc(IO_CHUNK);
}

void dw_free(struct data_writer *w)
{
	if (w->dir_fd >= 0)
		close(w->dir_fd);
	w->dir_fd = -1;
	free(w->buf);
	free(w->buf2);
	w->buf = w->buf2 = NULL;
	ht_free(&w->written);
	ht_free(&w->zwritten);
}

int write_data(struct build *c)
{
	struct data_writer w;
	uint64_t pos = c->data_offset;
	int r = 0;

	dw_init(&w, c);
	for (int packed = 0; packed < 2; packed++) {
		for (uint32_t k = 0; r == 0 && k < c->ninodes; k++) {
			const struct xnode *n = &c->nodes[c->order[k]];

			if (S_ISREG(n->mode) && n->size &&
			    pass_of(c, n) == packed)
				r = write_one(&w, c->order[k], &pos, packed);
		}
	}
	/* after the packed area: clusters need no alignment either */
	if (r == 0 && c->nzfiles)
		r = write_compressed(&w, &pos);
	dw_free(&w);
	c->data_end = pos;
	c->image_size = round_up(pos, 1u << c->opt.block_log2);
	progress_update(c, 1);
	return r;
}
