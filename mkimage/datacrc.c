/* SPDX-License-Identifier: MIT */
/*
 * The data CRC table (XIPFS_RO_COMPAT_DATA_CRC): one CRC32C per block of
 * [data_offset, crc_offset), at crc_offset, the next block boundary after
 * the data.  It is computed from the image itself, read back once after
 * all data is written: much of it was copied by copy_file_range (often a
 * reflink, never in our memory), and the bytes that count are the ones
 * stored, padding and holes included.  On by default; --no-data-crc
 * leaves it out, and the image is then what it was before the feature.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xipfs/xipfs.h"
#include "mkxipfs.h"

static int read_back(struct build *c, uint8_t *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(c->out_fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			msg_err(c->opt.image, "reading back: %s",
				strerror(n ? errno : EIO));
			return -1;
		}
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int write_data_crc(struct build *c)
{
	uint64_t bs = 1u << c->opt.block_log2;
	uint64_t end = round_up(c->data_end, bs);
	uint64_t blocks = (end - c->data_offset) / bs, done = 0;
	uint8_t *buf, *table;
	int r = 0;

	if (c->opt.no_data_crc)
		return 0;
	buf = xmalloc(IO_CHUNK);
	table = xmalloc(4 * blocks + 1);
	while (r == 0 && done < blocks) {
		uint64_t n = blocks - done < IO_CHUNK / bs ?
			     blocks - done : IO_CHUNK / bs;

		r = read_back(c, buf, n * bs, c->data_offset + done * bs);
		for (uint64_t i = 0; r == 0 && i < n; i++)
			xipfs_put_le32(table + 4 * (done + i),
				       xipfs_crc32c(0, buf + i * bs, bs));
		done += n;
	}
	if (r == 0)
		r = write_all_at(c, table, 4 * blocks, end);
	c->crc_offset = end;
	c->crc_table_crc = xipfs_crc32c(0, table, 4 * blocks);
	c->image_size = round_up(end + 4 * blocks, bs);
	free(buf);
	free(table);
	return r;
}

/*
 * The metadata CRC table (XIPFS_RO_COMPAT_META_CRC): placed now, after the
 * data (and its table), so image_size is final before the metadata and
 * superblock that record it are written; filled by write_meta_crc() once
 * the metadata is.  On by default; --no-meta-crc leaves it out.
 */
int plan_meta_crc(struct build *c)
{
	uint64_t bs = 1u << c->opt.block_log2;
	uint64_t blocks = c->data_offset / bs;

	if (c->opt.no_meta_crc)
		return 0;
	/* image_size: the end of the data, or of the data CRC table */
	c->meta_table_offset = c->image_size;
	c->image_size = round_up(c->meta_table_offset + 4 * blocks, bs);
	return 0;
}

/* Every block of [0, data_offset) read back as written (padding too), the
 * superblock's 256 bytes, not written yet, counted as zeros. */
int write_meta_crc(struct build *c)
{
	uint64_t bs = 1u << c->opt.block_log2;
	uint64_t blocks = c->data_offset / bs, done = 0;
	uint8_t *buf, *table;
	int r = 0;

	if (!c->meta_table_offset)
		return 0;
	/* padding after the metadata may lie past everything written yet
	 * (an image without file data): make the file whole first */
	if (ftruncate(c->out_fd, (off_t)c->image_size) < 0) {
		msg_errno(c->opt.image, errno);
		return -1;
	}
	buf = xmalloc(IO_CHUNK);
	table = xmalloc(4 * blocks + 1);
	while (r == 0 && done < blocks) {
		uint64_t n = blocks - done < IO_CHUNK / bs ?
			     blocks - done : IO_CHUNK / bs;

		r = read_back(c, buf, n * bs, done * bs);
		if (r == 0 && done == 0)
			memset(buf, 0, XIPFS_SUPER_SIZE);
		for (uint64_t i = 0; r == 0 && i < n; i++)
			xipfs_put_le32(table + 4 * (done + i),
				       xipfs_crc32c(0, buf + i * bs, bs));
		done += n;
	}
	if (r == 0)
		r = write_all_at(c, table, 4 * blocks, c->meta_table_offset);
	c->meta_table_crc = xipfs_crc32c(0, table, 4 * blocks);
	free(buf);
	free(table);
	return r;
}
