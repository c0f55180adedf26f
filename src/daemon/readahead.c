/* SPDX-License-Identifier: MIT */
/*
 * -o readahead=SIZE: the mount's readahead window, which the kernel keeps
 * per backing device in /sys/class/bdi/MAJOR:MINOR/read_ahead_kb.  FUSE
 * starts every mount at 128 KiB and the INIT reply can only lower it, so
 * sysfs is the one way up; only root may write there.  Measured
 * (docs/BENCHMARKS.md, "Defaults by measurement"): 2 MiB made cold
 * sequential reads by copy 1.8x faster (splice gained nothing) and
 * changed nothing else beyond the spread.
 *
 * The device number comes from /proc/self/mountinfo, never from a stat of
 * the mount point: the kernel holds every request on the new mount until
 * the INIT reply, which nobody has sent yet when the mount returns.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xipfs/direct.h"
#include "xipfsd.h"

/* The MAJOR:MINOR of the topmost FUSE mount on mountpoint, in dev[]. */
static int mount_device(const char *mountpoint, char *dev, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int found = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char devno[32], where[4096], *sep = strstr(line, " - ");

		/* id parent MAJOR:MINOR root mountpoint ... - fstype ... */
		if (!sep || strncmp(sep + 3, "fuse", 4) ||
		    sscanf(line, "%*u %*u %31s %*s %4095s", devno, where) != 2)
			continue;
		xipfs_mountinfo_unescape(where);
		if (strcmp(where, mountpoint))
			continue;
		snprintf(dev, len, "%s", devno);
		found = 1;	/* later lines are mounted on top: keep going */
	}
	free(line);
	fclose(f);
	return found ? 0 : -ENOENT;
}

/* What the thread needs, owned by it: the daemon may be gone first. */
struct readahead_job {
	char path[96];
	unsigned int kb;
};

static int write_kb(const char *path, unsigned int kb)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	fprintf(f, "%u\n", kb);
	return fclose(f) ? -errno : 0;
}

static unsigned int read_kb(const char *path)
{
	FILE *f = fopen(path, "re");
	unsigned int kb = 0;

	if (f) {
		if (fscanf(f, "%u", &kb) != 1)
			kb = 0;
		fclose(f);
	}
	return kb;
}

/*
 * The kernel applies the INIT reply (ra_pages = min(ra_pages, the reply's
 * max_readahead), at most the 128 KiB it offered) when libfuse writes it,
 * just after xipfsd_init returns; a value written before that is lost.
 * So: write, wait, read back, until the value has held over two looks
 * (a few milliseconds in all; at most about 100).
 */
static void *apply_main(void *arg)
{
	struct readahead_job *job = arg;
	const struct timespec pause = { 0, 2 * 1000 * 1000 };
	int held = 0, i, err = 0;

	for (i = 0; i < 50 && held < 2; i++) {
		nanosleep(&pause, NULL);
		if (read_kb(job->path) == job->kb) {
			held++;
			continue;
		}
		held = 0;
		err = write_kb(job->path, job->kb);
		if (err)
			break;
	}
	if (held < 2)
		fuse_log(FUSE_LOG_WARNING, "xipfs: readahead: %s did not keep "
			 "%u%s%s\n", job->path, job->kb, err ? ": " : "",
			 err ? strerror(-err) : "");
	free(job);
	return NULL;
}

void xipfsd_readahead_find(struct xipfsd *d, const char *mountpoint)
{
	char dev[32], *real;
	int err;

	if (!d->readahead_kb)
		return;		/* readahead=0: as the kernel set it */
	real = realpath(mountpoint, NULL);
	err = real ? mount_device(real, dev, sizeof(dev)) : -errno;
	free(real);
	if (!err) {
		snprintf(d->readahead_path, sizeof(d->readahead_path),
			 "/sys/class/bdi/%s/read_ahead_kb", dev);
		if (!access(d->readahead_path, W_OK))
			return;
		err = -errno;
	}
	d->readahead_path[0] = '\0';
	/* A normal user's mount keeps the kernel's window; only a readahead=
	 * the user asked for is worth a word. */
	if (d->readahead_explicit || (d->verbose && err != -EACCES))
		fprintf(stderr, "xipfs: readahead=%uK: cannot set the mount's "
			"read_ahead_kb (%s); the kernel's window stays\n",
			d->readahead_kb, strerror(-err));
}

void xipfsd_readahead_apply(struct xipfsd *d)
{
	struct readahead_job *job;

	if (!d->readahead_path[0] || !(job = malloc(sizeof(*job))))
		return;
	snprintf(job->path, sizeof(job->path), "%s", d->readahead_path);
	job->kb = d->readahead_kb;
	/* -v says nothing more: "reads by copy" is the sign of it */
	if (xipfsd_thread_start(NULL, apply_main, job)) {
		free(job);
		fuse_log(FUSE_LOG_WARNING, "xipfs: readahead: no thread\n");
	}
}
