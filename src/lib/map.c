/* SPDX-License-Identifier: MIT */
/* Map an image source read-only: a file, a block device, or a window. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xipfs/xipfs.h"

/* Bytes the source holds: the file size, or the device size. */
static int source_size(int fd, uint64_t *size, int *is_blockdev)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	*is_blockdev = S_ISBLK(st.st_mode);
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		return 0;
	}
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
	if (S_ISCHR(st.st_mode)) {
		*size = UINT64_MAX;	/* memory device: the caller's size */
		return 0;
	}
	return S_ISDIR(st.st_mode) ? -EISDIR : -ENODEV;
}

int xipfs_map_source(const char *path, uint64_t offset, uint64_t size,
		     struct xipfs_map *map, const char **what)
{
	uint64_t total, page = (uint64_t)sysconf(_SC_PAGESIZE), skew;
	int err;

	memset(map, 0, sizeof(*map));
	/* O_NONBLOCK: opening a fifo must not wait for a writer. */
	map->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	*what = "open";
	if (map->fd < 0)
		return -errno;
	*what = "not a file or device";
	err = source_size(map->fd, &total, &map->is_blockdev);
	if (err)
		goto fail;
	*what = "offset/size outside the source";
	err = -EINVAL;
	if (offset > total || (total == UINT64_MAX && size == 0))
		goto fail;
	if (size == 0)
		size = total - offset;
	if (size > total - offset || size > SIZE_MAX - page)
		goto fail;
	*what = "empty source";
	if (size == 0)
		goto fail;
	*what = "mmap";
	skew = offset % page;
	map->map_len = (size_t)(size + skew);
	map->addr = mmap(NULL, map->map_len, PROT_READ, MAP_SHARED, map->fd,
			 (off_t)(offset - skew));
	if (map->addr == MAP_FAILED) {
		err = -errno;
		map->addr = NULL;
		goto fail;
	}
	map->image = (const uint8_t *)map->addr + skew;
	map->length = size;
	return 0;
fail:
	close(map->fd);
	map->fd = -1;
	return err;
}

void xipfs_unmap_source(struct xipfs_map *map)
{
	if (map->addr)
		munmap(map->addr, map->map_len);
	if (map->fd >= 0)
		close(map->fd);
	map->addr = NULL;
	map->fd = -1;
}
