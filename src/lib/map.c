/* SPDX-License-Identifier: MIT */
/* Map an image source read-only: a file, a block device, or a window. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "xipfs/xipfs.h"
#include "internal.h"

/* Bytes the source holds: the file size, or the device size. */
static int source_size(int fd, uint64_t *size, uint32_t *type)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	*type = st.st_mode & S_IFMT;
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
	return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
}

/*
 * Device DAX (/dev/daxX.Y) refuses mappings that do not start and end on
 * its alignment (often 2 MiB), which sysfs publishes as "align".  Any other
 * source maps at page granularity.
 */
uint64_t xipfs_source_granule(int fd, uint64_t page)
{
	char path[96], buf[32];
	struct stat st;
	unsigned long long align;
	ssize_t n;
	int afd;

	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode))
		return page;
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/align",
		 major(st.st_rdev), minor(st.st_rdev));
	afd = open(path, O_RDONLY | O_CLOEXEC);
	if (afd < 0)
		return page;
	n = read(afd, buf, sizeof(buf) - 1);
	close(afd);
	if (n <= 0)
		return page;
	buf[n] = '\0';
	align = strtoull(buf, NULL, 0);
	/* Only a power of two above the page size changes anything. */
	if (align <= page || (align & (align - 1)) || align > (1ULL << 30))
		return page;
	return align;
}

int xipfs_map_window(uint64_t offset, uint64_t size, uint64_t granule,
		     uint64_t *map_offset, uint64_t *map_len)
{
	uint64_t skew = offset % granule, len;

	if (size == 0 || granule == 0 || (granule & (granule - 1)))
		return -EINVAL;
	if (__builtin_add_overflow(size, skew, &len) ||
	    __builtin_add_overflow(len, granule - 1, &len))
		return -EINVAL;
	len &= ~(granule - 1);
	if (len > SIZE_MAX)
		return -EINVAL;
	*map_offset = offset - skew;
	*map_len = len;
	return 0;
}

int xipfs_map_source(const char *path, uint64_t offset, uint64_t size,
		     struct xipfs_map *map, const char **what)
{
	uint64_t total, page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t map_offset, map_len;
	int err;

	memset(map, 0, sizeof(*map));
	/* O_NONBLOCK: opening a fifo must not wait for a writer. */
	map->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	*what = "open";
	if (map->fd < 0)
		return -errno;
	*what = "not a regular file, block device or memory device";
	err = source_size(map->fd, &total, &map->type);
	if (err)
		goto fail;
	*what = "a memory device needs an explicit size";
	err = -EINVAL;
	if (total == UINT64_MAX && size == 0)
		goto fail;
	*what = "offset/size outside the source";
	if (offset > total)
		goto fail;
	if (size == 0)
		size = total - offset;
	if (size > total - offset)
		goto fail;
	*what = "empty source";
	if (size == 0)
		goto fail;
	*what = "offset/size do not fit the address space";
	if (xipfs_map_window(offset, size, xipfs_source_granule(map->fd, page),
			     &map_offset, &map_len) < 0 ||
	    map_offset > INT64_MAX)
		goto fail;
	*what = "mmap";
	map->map_len = (size_t)map_len;
	map->addr = mmap(NULL, map->map_len, PROT_READ, MAP_SHARED, map->fd,
			 (off_t)map_offset);
	if (map->addr == MAP_FAILED) {
		err = -errno;
		map->addr = NULL;
		goto fail;
	}
	map->offset = offset;
	map->image = (const uint8_t *)map->addr + (offset - map_offset);
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
