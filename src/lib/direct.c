/* SPDX-License-Identifier: MIT */
/* Client side of direct mapping: ask the daemon, then map the source. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "xipfs/direct.h"
#include "xipfs/xipfs.h"
#include "internal.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
void xipfs_mountinfo_unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
					(s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/* The source of the fuse.xipfs mount with device number dev. */
static int mount_source(dev_t dev, char *out, size_t size)
{
	char line[8192], want[32], fstype[64], source[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int found = 0;

	if (!f)
		return -errno;
	snprintf(want, sizeof(want), "%u:%u", major(dev), minor(dev));
	while (!found && fgets(line, sizeof(line), f)) {
		char devfield[32];
		const char *tail = strstr(line, " - ");

		if (sscanf(line, "%*s %*s %31s", devfield) != 1 || !tail ||
		    strcmp(devfield, want) ||
		    sscanf(tail + 3, "%63s %4095s", fstype, source) != 2)
			continue;
		found = !strcmp(fstype, "fuse.xipfs");
	}
	fclose(f);
	if (!found)
		return -ENOENT;
	xipfs_mountinfo_unescape(source);
	if (strlen(source) >= size)
		return -ENAMETOOLONG;
	strcpy(out, source);
	return 0;
}

/*
 * The daemon answers XIPFS_IOC_WHERE for a compressed file with
 * EOPNOTSUPP: its bytes are not in the source as such.  Another file
 * system may give EOPNOTSUPP for an ioctl it does not know, so that
 * answer means "compressed" only from a file on an xipfs mount.
 */
static int where_failed(int fd, int err)
{
	char source[4096];
	struct stat st;

	if (err == EINVAL || err == ENOSYS)
		return -ENOTTY;
	if (err != EOPNOTSUPP)
		return -err;
	if (fstat(fd, &st) < 0 ||
	    mount_source(st.st_dev, source, sizeof(source)) < 0)
		return -ENOTTY;
	return -EMEDIUMTYPE;
}

/* Open the source and check it is the file the daemon maps. */
static int open_source(const struct xipfs_direct *d, int *sfd)
{
	struct stat st;

	*sfd = open(d->source, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (*sfd < 0)
		return -errno;
	if (fstat(*sfd, &st) < 0 || (uint64_t)st.st_dev != d->where.source_dev ||
	    (uint64_t)st.st_ino != d->where.source_ino) {
		close(*sfd);
		return -ESTALE;
	}
	return 0;
}

int xipfs_direct_map(int fd, struct xipfs_direct *out, const char **what)
{
	uint64_t map_offset, map_len, page = (uint64_t)sysconf(_SC_PAGESIZE);
	struct stat st;
	int err, sfd;

	memset(out, 0, sizeof(*out));
	*what = "ask the daemon where the file lives";
	if (ioctl(fd, XIPFS_IOC_WHERE, &out->where) < 0)
		return where_failed(fd, errno);
	*what = "unknown answer from the daemon";
	if (out->where.version != XIPFS_WHERE_VERSION)
		return -EPROTO;
	*what = "find the mount's source";
	if (fstat(fd, &st) < 0)
		return -errno;
	err = mount_source(st.st_dev, out->source, sizeof(out->source));
	if (err)
		return err;
	*what = "open the source";
	err = open_source(out, &sfd);
	if (err)
		return err;
	out->size = out->where.size;
	if (out->size == 0) {
		close(sfd);
		return 0;
	}
	*what = "map the source";
	err = xipfs_map_window(out->where.offset, out->size,
			       xipfs_source_granule(sfd, page), &map_offset,
			       &map_len);
	if (err == 0 && map_offset <= INT64_MAX) {
		out->addr = mmap(NULL, (size_t)map_len, PROT_READ, MAP_SHARED,
				 sfd, (off_t)map_offset);
		err = out->addr == MAP_FAILED ? -errno : 0;
	} else {
		err = -EOVERFLOW;
	}
	close(sfd);
	if (err) {
		out->addr = NULL;
		return err;
	}
	out->map_len = (size_t)map_len;
	out->data = (const uint8_t *)out->addr +
		    (out->where.offset - map_offset);
	return 0;
}

void xipfs_direct_unmap(struct xipfs_direct *d)
{
	if (d->addr)
		munmap(d->addr, d->map_len);
	d->addr = NULL;
	d->data = NULL;
}
