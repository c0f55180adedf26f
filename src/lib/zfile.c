/* SPDX-License-Identifier: MIT */
/*
 * Compressed files: the cluster table (format.h, struct xipfs_ztable), one
 * cluster's decompression, and the reading context that holds the
 * decompressor.  Reading a file's bytes is data.c's.
 */
#include <errno.h>
#include <lz4.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <zstd.h>

#include "internal.h"

uint32_t xipfs_cluster_count(uint64_t size, uint32_t cluster_log2)
{
	uint64_t n = (size >> cluster_log2) +
		     !!(size & ((1ull << cluster_log2) - 1));

	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

uint64_t xipfs_ztable_size(uint32_t cluster_count)
{
	return (XIPFS_ZTABLE_HDR_SIZE + 4 * (uint64_t)cluster_count + 7) &
	       ~(uint64_t)7;
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
	if (xipfs_meta_ok(img, at, XIPFS_ZTABLE_HDR_SIZE))
		return -XIPFS_ECRC;
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
	    out->cluster_count != xipfs_cluster_count(inode->size,
						      out->cluster_log2))
		return -XIPFS_ECORRUPT;
	if (!xipfs_in_meta(img, at, XIPFS_ZTABLE_HDR_SIZE +
				       4 * (uint64_t)out->cluster_count))
		return -XIPFS_EBOUNDS;
	if (xipfs_meta_ok(img, at + XIPFS_ZTABLE_HDR_SIZE +
				       4 * (uint64_t)(out->cluster_count - 1), 4))
		return -XIPFS_ECRC;
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
	/* the ends of cluster index - 1 and index: one or two blocks */
	if (xipfs_meta_ok(img, zf->table_offset + XIPFS_ZTABLE_HDR_SIZE +
				       4 * (uint64_t)(index ? index - 1 : 0),
			  index ? 8 : 4))
		return -XIPFS_ECRC;
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

/* Made empty: each part is allocated by the first read that needs it. */
struct xipfs_zctx *xipfs_zctx_new(void)
{
	return calloc(1, sizeof(struct xipfs_zctx));
}

void xipfs_zctx_free(struct xipfs_zctx *z)
{
	if (!z)
		return;
	ZSTD_freeDCtx(z->zstd);
	free(z->scratch);
	free(z->buf);
	free(z);
}

void xipfs_zctx_set_check(struct xipfs_zctx *z, xipfs_block_check_fn check,
			  void *arg)
{
	z->check = check;
	z->check_arg = arg;
}

uint64_t xipfs_zctx_clusters(const struct xipfs_zctx *z)
{
	return z->clusters;
}

uint8_t *xipfs_zctx_scratch(struct xipfs_zctx *z)
{
	if (!z->scratch)
		z->scratch = malloc((size_t)1 << XIPFS_CLUSTER_LOG2_MAX);
	return z->scratch;
}

/* Grown in steps of the largest cluster, so a reader whose requests
 * vary in size settles on one buffer after its first large one. */
uint8_t *xipfs_zctx_buffer(struct xipfs_zctx *z, size_t size)
{
	size_t step = (size_t)1 << XIPFS_CLUSTER_LOG2_MAX;

	if (z->buf_size >= size)
		return z->buf;
	if (size > SIZE_MAX - step)
		return NULL;
	size = (size + step - 1) & ~(step - 1);
	free(z->buf);
	z->buf = malloc(size);
	z->buf_size = z->buf ? size : 0;
	return z->buf;
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

	if (!z->zstd && !(z->zstd = ZSTD_createDCtx()))
		return -ENOMEM;
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
