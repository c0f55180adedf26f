/* SPDX-License-Identifier: MIT */
/*
 * A regular file's bytes: the one read entry every reader goes through,
 * whether the bytes lie in place (plain or packed files) or in clusters
 * (compressed files), with the data CRCs checked first for a reader that
 * asks.  A compressed file's table header is decoded once, when the file
 * is opened (struct xipfs_file); a read then only looks up the clusters it
 * meets.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

int xipfs_file_open(const struct xipfs_image *img,
		    const struct xipfs_inode_info *inode, struct xipfs_file *f)
{
	memset(f, 0, sizeof(*f));
	if (!S_ISREG(inode->mode))
		return S_ISDIR(inode->mode) ? -EISDIR : -EINVAL;
	f->inode = *inode;
	if (!(inode->flags & XIPFS_INODE_COMPRESSED))
		return 0;
	f->compressed = 1;
	return xipfs_zfile_get(img, inode, &f->zf);
}

/* Clip [offset, offset + len) to the file; 0 bytes at or past its end. */
static size_t clip(const struct xipfs_inode_info *inode, uint64_t offset,
		   uint64_t len)
{
	uint64_t left;

	if (offset >= inode->size)
		return 0;
	left = inode->size - offset;
	if (len > left)
		len = left;
	return len > SSIZE_MAX ? SSIZE_MAX : (size_t)len;
}

/* The clusters [first, last] that file bytes [offset, offset + n) meet
 * (n > 0, inside the file). */
static int clusters_of(const struct xipfs_image *img,
		       const struct xipfs_file *f, uint64_t offset, size_t n,
		       struct xipfs_cluster_info *first,
		       struct xipfs_cluster_info *last)
{
	uint32_t log2 = f->zf.cluster_log2;
	int err = xipfs_cluster_get(img, &f->inode, &f->zf,
				    (uint32_t)(offset >> log2), first);

	if (err)
		return err;
	return xipfs_cluster_get(img, &f->inode, &f->zf,
				 (uint32_t)((offset + n - 1) >> log2), last);
}

/* The image bytes that file bytes [offset, offset + n) are stored in. */
static int stored_range(const struct xipfs_image *img,
			const struct xipfs_file *f, uint64_t offset, size_t n,
			uint64_t *at, uint64_t *len)
{
	struct xipfs_cluster_info first, last;
	int err;

	*at = f->inode.data + offset;
	*len = n;
	if (!n || !f->compressed)
		return 0;
	err = clusters_of(img, f, offset, n, &first, &last);
	if (err)
		return err;
	*at = first.image_offset;
	*len = last.image_offset + last.stored_len - first.image_offset;
	return 0;
}

/* Every data block of the stored bytes, through z's check or the
 * library's; nothing to check on an image without data checksums. */
static int check_stored(const struct xipfs_image *img,
			const struct xipfs_file *f, uint64_t offset, size_t n,
			struct xipfs_zctx *z)
{
	uint64_t at, len, first, last;
	int err;

	if (!(img->ro_compat & XIPFS_RO_COMPAT_DATA_CRC))
		return 0;
	err = stored_range(img, f, offset, n, &at, &len);
	if (err || len == 0)
		return err;
	/* every file's stored bytes lie before the table (format.h) */
	if (!xipfs_in_range(at, len, img->data_offset, img->crc_offset))
		return -XIPFS_EBOUNDS;
	first = (at - img->data_offset) >> img->block_log2;
	last = (at + len - 1 - img->data_offset) >> img->block_log2;
	for (uint64_t i = first; i <= last; i++) {
		err = z && z->check ? z->check(z->check_arg, f, i) :
				      xipfs_data_block_check(img, i);
		if (err)
			return err;
	}
	return 0;
}

/* One cluster's wanted part [skip, skip + take) into out: straight when
 * the whole cluster is wanted or it is stored raw, else via scratch. */
static int cluster_part(struct xipfs_zctx *z, const struct xipfs_file *f,
			const struct xipfs_cluster_info *cl, uint32_t skip,
			uint32_t take, uint8_t *out)
{
	uint8_t *scratch;
	int err;

	if (take == cl->length)
		return xipfs_cluster_decompress(z, &f->zf, cl, out);
	if (cl->stored_len == cl->length) {
		memcpy(out, cl->stored + skip, take);
		return 0;
	}
	scratch = xipfs_zctx_scratch(z);
	if (!scratch)
		return -ENOMEM;
	err = xipfs_cluster_decompress(z, &f->zf, cl, scratch);
	if (!err)
		memcpy(out, scratch + skip, take);
	return err;
}

/* File bytes [offset, offset + len) of a compressed file into buf. */
static int read_clusters(const struct xipfs_image *img,
			 const struct xipfs_file *f, uint64_t offset,
			 uint8_t *buf, size_t len, struct xipfs_zctx *z)
{
	size_t done = 0;

	while (done < len) {
		struct xipfs_cluster_info cl;
		uint64_t pos = offset + done;
		uint32_t skip, take;
		int err = xipfs_cluster_get(img, &f->inode, &f->zf,
					    (uint32_t)(pos >> f->zf.cluster_log2),
					    &cl);

		if (err)
			return err;
		skip = (uint32_t)(pos - cl.file_offset);
		take = cl.length - skip;
		if (take > len - done)
			take = (uint32_t)(len - done);
		err = cluster_part(z, f, &cl, skip, take, buf + done);
		if (err)
			return err;
		z->clusters++;
		done += take;
	}
	return 0;
}

ssize_t xipfs_file_pread(const struct xipfs_image *img,
			 const struct xipfs_file *f, uint64_t offset,
			 size_t len, unsigned int flags, struct xipfs_zctx *z,
			 const uint8_t **out)
{
	size_t n = clip(&f->inode, offset, len);
	uint8_t *buf;
	int err;

	*out = NULL;
	if (n == 0)	/* offset may be anything: no pointer made from it */
		return 0;
	if (flags & XIPFS_READ_VERIFY &&
	    (err = check_stored(img, f, offset, n, z)))
		return err;
	if (!f->compressed) {
		*out = img->base + f->inode.data + offset;
		return (ssize_t)n;
	}
	if (!z)
		return -EINVAL;
	buf = xipfs_zctx_buffer(z, n);
	if (!buf)
		return -ENOMEM;
	err = read_clusters(img, f, offset, buf, n, z);
	if (err)
		return err;
	*out = buf;
	return (ssize_t)n;
}

/* The 0.2 entry, for callers with a buffer of their own: one copy more
 * than xipfs_file_pread() for bytes in place, none for clusters. */
ssize_t xipfs_file_read(const struct xipfs_image *img,
			const struct xipfs_inode_info *inode, uint64_t offset,
			void *buf, size_t len, struct xipfs_zctx *z)
{
	struct xipfs_file f;
	size_t n;
	int err;

	if (!S_ISREG(inode->mode))
		return S_ISDIR(inode->mode) ? -EISDIR : -EINVAL;
	if (inode->flags & XIPFS_INODE_COMPRESSED && !z)
		return -EINVAL;
	n = clip(inode, offset, len);
	if (n == 0)
		return 0;
	err = xipfs_file_open(img, inode, &f);
	if (!err && !f.compressed) {
		memcpy(buf, img->base + inode->data + offset, n);
		return (ssize_t)n;
	}
	if (!err)
		err = read_clusters(img, &f, offset, buf, n, z);
	return err ? err : (ssize_t)n;
}

int xipfs_file_stored_range(const struct xipfs_image *img,
			    const struct xipfs_inode_info *inode,
			    uint64_t offset, uint64_t len,
			    uint64_t *image_offset, uint64_t *image_len)
{
	struct xipfs_file f;
	size_t n;
	int err;

	if (!S_ISREG(inode->mode))
		return S_ISDIR(inode->mode) ? -EISDIR : -EINVAL;
	n = clip(inode, offset, len);
	*image_offset = inode->data + offset;
	*image_len = n;
	if (!n || !(inode->flags & XIPFS_INODE_COMPRESSED))
		return 0;
	err = xipfs_file_open(img, inode, &f);
	return err ? err : stored_range(img, &f, offset, n, image_offset,
					 image_len);
}
