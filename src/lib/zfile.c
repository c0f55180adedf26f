/* SPDX-License-Identifier: MIT */
/*
 * Compressed files: the cluster table (format.h, struct xipfs_ztable) and
 * reading any regular file's bytes, in place or through its clusters.
 */
#include <errno.h>
#include <lz4.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zstd.h>

#include "internal.h"

struct xipfs_zctx {
	ZSTD_DCtx *zstd;
	uint8_t *scratch;	/* one cluster of the largest size */
};

static uint64_t cluster_count_of(uint64_t size, uint32_t log2)
{
	return (size >> log2) + !!(size & ((1u << log2) - 1));
}

static const uint8_t *table_end(const struct xipfs_image *img,
				const struct xipfs_zfile_info *zf, uint32_t i)
{
	return img->base + zf->table_offset + XIPFS_ZTABLE_HDR_SIZE + 4 * (uint64_t)i;
}

int xipfs_zfile_get(const struct xipfs_image *img,
		    const struct xipfs_inode_info *inode,
		    struct xipfs_zfile_info *out)
{
	const uint8_t *p;
	uint64_t at = inode->data;

	if (!S_ISREG(inode->mode) || !(inode->flags & XIPFS_INODE_COMPRESSED))
		return -EINVAL;
	if (inode->size == 0 || inode->size > XIPFS_ZFILE_MAX || at & 7)
		return -XIPFS_ECORRUPT;
	if (!xipfs_in_meta(img, at, XIPFS_ZTABLE_HDR_SIZE))
		return -XIPFS_EBOUNDS;
	p = img->base + at;
	*out = (struct xipfs_zfile_info){
		.algorithm = p[ZT_ALGORITHM],
		.cluster_log2 = p[ZT_CLUSTER_LOG2],
		.cluster_count = xipfs_le32(p + ZT_CLUSTER_COUNT),
		.table_offset = at,
		.data = xipfs_le64(p + ZT_DATA),
	};
	if ((out->algorithm != XIPFS_ZALG_ZSTD &&
	     out->algorithm != XIPFS_ZALG_LZ4) ||
	    out->cluster_log2 < XIPFS_CLUSTER_LOG2_MIN ||
	    out->cluster_log2 > XIPFS_CLUSTER_LOG2_MAX ||
	    xipfs_le16(p + ZT_RESERVED) ||
	    out->cluster_count != cluster_count_of(inode->size, out->cluster_log2))
		return -XIPFS_ECORRUPT;
	if (!xipfs_in_meta(img, at, XIPFS_ZTABLE_HDR_SIZE +
				       4 * (uint64_t)out->cluster_count))
		return -XIPFS_EBOUNDS;
	out->stored_size = xipfs_le32(table_end(img, out, out->cluster_count - 1));
	/* every cluster holds at least one byte and never grows */
	if (out->stored_size < out->cluster_count || out->stored_size > inode->size)
		return -XIPFS_ECORRUPT;
	if (!xipfs_in_range(out->data, out->stored_size, img->data_offset,
			    xipfs_data_end(img)))
		return -XIPFS_EBOUNDS;
	return 0;
}

int xipfs_cluster_get(const struct xipfs_image *img,
		      const struct xipfs_inode_info *inode,
		      const struct xipfs_zfile_info *zf, uint32_t index,
		      struct xipfs_cluster_info *out)
{
	uint64_t start, end, left;

	if (index >= zf->cluster_count)
		return -ERANGE;
	start = index ? xipfs_le32(table_end(img, zf, index - 1)) : 0;
	end = xipfs_le32(table_end(img, zf, index));
	out->file_offset = (uint64_t)index << zf->cluster_log2;
	left = inode->size - out->file_offset;
	out->length = left < (1u << zf->cluster_log2) ?
			      (uint32_t)left : 1u << zf->cluster_log2;
	if (end <= start || end - start > out->length)
		return -XIPFS_ECORRUPT;
	if (end > zf->stored_size)
		return -XIPFS_EBOUNDS;
	out->stored_len = (uint32_t)(end - start);
	out->image_offset = zf->data + start;
	out->stored = img->base + out->image_offset;
	return 0;
}

struct xipfs_zctx *xipfs_zctx_new(void)
{
	struct xipfs_zctx *z = calloc(1, sizeof(*z));

	if (!z)
		return NULL;
	z->zstd = ZSTD_createDCtx();
	z->scratch = malloc((size_t)1 << XIPFS_CLUSTER_LOG2_MAX);
	if (!z->zstd || !z->scratch) {
		xipfs_zctx_free(z);
		return NULL;
	}
	return z;
}

void xipfs_zctx_free(struct xipfs_zctx *z)
{
	if (!z)
		return;
	ZSTD_freeDCtx(z->zstd);
	free(z->scratch);
	free(z);
}

/*
 * Exactly one zstd frame of the current format that gives exactly length
 * bytes.  The magic test keeps out skippable frames and the legacy
 * formats (older decoders a distribution's libzstd may still carry); the
 * frame-size test keeps out a second frame or trailing bytes, which
 * ZSTD_decompressDCtx() would otherwise decode or skip.  Decoding into a
 * buffer of exactly length bytes needs no window: memory stays z's.
 */
static int zstd_cluster(struct xipfs_zctx *z,
			const struct xipfs_cluster_info *cl, void *out)
{
	size_t r;

	if (cl->stored_len < 4 || xipfs_le32(cl->stored) != ZSTD_MAGICNUMBER ||
	    ZSTD_findFrameCompressedSize(cl->stored, cl->stored_len) !=
		    cl->stored_len)
		return -XIPFS_ECORRUPT;
	r = ZSTD_decompressDCtx(z->zstd, out, cl->length, cl->stored,
				cl->stored_len);
	return !ZSTD_isError(r) && r == cl->length ? 0 : -XIPFS_ECORRUPT;
}

/* One LZ4 block; LZ4_decompress_safe() never reads or writes outside the
 * two buffers, whatever the input.  Lengths are at most 1 MiB: ints. */
static int lz4_cluster(const struct xipfs_cluster_info *cl, void *out)
{
	int r = LZ4_decompress_safe((const char *)cl->stored, out,
				    (int)cl->stored_len, (int)cl->length);

	return r >= 0 && (uint32_t)r == cl->length ? 0 : -XIPFS_ECORRUPT;
}

int xipfs_cluster_decompress(struct xipfs_zctx *z,
			     const struct xipfs_zfile_info *zf,
			     const struct xipfs_cluster_info *cl, void *out)
{
	if (cl->stored_len == cl->length) {
		memcpy(out, cl->stored, cl->length);
		return 0;
	}
	if (!z)
		return -EINVAL;
	if (zf->algorithm == XIPFS_ZALG_ZSTD)
		return zstd_cluster(z, cl, out);
	if (zf->algorithm == XIPFS_ZALG_LZ4)
		return lz4_cluster(cl, out);
	return -XIPFS_ECORRUPT;
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

static ssize_t read_clusters(const struct xipfs_image *img,
			     const struct xipfs_inode_info *inode,
			     uint64_t offset, uint8_t *buf, size_t len,
			     struct xipfs_zctx *z)
{
	struct xipfs_zfile_info zf;
	size_t done = 0;
	int err = xipfs_zfile_get(img, inode, &zf);

	if (err)
		return err;
	while (done < len) {
		struct xipfs_cluster_info cl;
		uint64_t pos = offset + done;
		uint32_t skip, take;

		err = xipfs_cluster_get(img, inode, &zf,
					(uint32_t)(pos >> zf.cluster_log2), &cl);
		if (err)
			return err;
		skip = (uint32_t)(pos - cl.file_offset);
		take = cl.length - skip;
		if (take > len - done)
			take = (uint32_t)(len - done);
		if (take == cl.length) {
			err = xipfs_cluster_decompress(z, &zf, &cl, buf + done);
		} else if (cl.stored_len == cl.length) {
			memcpy(buf + done, cl.stored + skip, take);
		} else {
			err = xipfs_cluster_decompress(z, &zf, &cl, z->scratch);
			if (!err)
				memcpy(buf + done, z->scratch + skip, take);
		}
		if (err)
			return err;
		done += take;
	}
	return (ssize_t)done;
}

ssize_t xipfs_file_read(const struct xipfs_image *img,
			const struct xipfs_inode_info *inode, uint64_t offset,
			void *buf, size_t len, struct xipfs_zctx *z)
{
	size_t n;

	if (!S_ISREG(inode->mode))
		return S_ISDIR(inode->mode) ? -EISDIR : -EINVAL;
	if (inode->flags & XIPFS_INODE_COMPRESSED && !z)
		return -EINVAL;
	n = clip(inode, offset, len);
	if (n == 0)	/* offset may be anything: no pointer made from it */
		return 0;
	if (!(inode->flags & XIPFS_INODE_COMPRESSED)) {
		memcpy(buf, img->base + inode->data + offset, n);
		return (ssize_t)n;
	}
	return read_clusters(img, inode, offset, buf, n, z);
}

int xipfs_file_stored_range(const struct xipfs_image *img,
			    const struct xipfs_inode_info *inode,
			    uint64_t offset, uint64_t len,
			    uint64_t *image_offset, uint64_t *image_len)
{
	struct xipfs_zfile_info zf;
	struct xipfs_cluster_info first, last;
	size_t n;
	int err;

	if (!S_ISREG(inode->mode))
		return S_ISDIR(inode->mode) ? -EISDIR : -EINVAL;
	n = clip(inode, offset, len);
	*image_offset = inode->data + offset;
	*image_len = n;
	if (!n || !(inode->flags & XIPFS_INODE_COMPRESSED))
		return 0;
	err = xipfs_zfile_get(img, inode, &zf);
	if (!err)
		err = xipfs_cluster_get(img, inode, &zf,
					(uint32_t)(offset >> zf.cluster_log2),
					&first);
	if (!err)
		err = xipfs_cluster_get(img, inode, &zf,
					(uint32_t)((offset + n - 1) >>
						   zf.cluster_log2), &last);
	if (err)
		return err;
	*image_offset = first.image_offset;
	*image_len = last.image_offset + last.stored_len - first.image_offset;
	return 0;
}
