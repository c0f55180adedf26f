/* SPDX-License-Identifier: MIT */
/*
 * Files the daemon writes for its user while it runs (-o stats=FILE),
 * replaced whole so that a reader sees the old or the new content, never
 * half of one: a temporary file beside FILE, written, fsync()ed and
 * renameat() over it.
 *
 * FILE's directory is opened once, at mount, with the caller's view of the
 * path; every later step works relative to that descriptor and never
 * follows a name again.  A daemon run by root that re-resolved the path at
 * each write would let a user who owns a directory on it swap in a
 * symlink and have root create files where that user could not (issue
 * 23, defect 5, found for the profile file).  The temporary name is
 * random and created with O_EXCL | O_NOFOLLOW, so nothing planted under
 * it is followed or reused.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

/* FILE's last component: not empty, ".", ".." or too long for a temporary
 * name beside it ('.' NAME '.' 16 hex digits). */
static const char *base_name(const char *file)
{
	const char *slash = strrchr(file, '/');
	const char *base = slash ? slash + 1 : file;

	if (!*base || !strcmp(base, ".") || !strcmp(base, "..") ||
	    strlen(base) > 200)
		return NULL;
	return base;
}

/* The directory part of FILE ("." for none, "/" for the root). */
static char *dir_name(const char *file)
{
	const char *slash = strrchr(file, '/');

	if (!slash)
		return strdup(".");
	if (slash == file)
		return strdup("/");
	return strndup(file, (size_t)(slash - file));
}

int xipfsd_outfile_open(struct xipfsd_outfile *o, const char *opt,
			const char *file)
{
	const char *base = base_name(file), *why = NULL;
	char *dir = dir_name(file);
	struct stat st;

	o->dirfd = -1;
	o->name = o->shown = NULL;
	if (!base)
		why = "not a file name";
	else if (!dir)
		why = strerror(ENOMEM);
	else if ((o->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		why = "its directory cannot be opened";
	else if (faccessat(o->dirfd, ".", W_OK | X_OK, 0))
		why = "its directory is not writable";
	/* rename would replace whatever is there: a directory, a device or
	 * a FIFO is refused; a symlink is replaced, never followed */
	else if (fstatat(o->dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		 !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
		why = "not a regular file";
	free(dir);
	if (!why && (o->name = strdup(base)) && (o->shown = strdup(file))) {
		pthread_mutex_init(&o->lock, NULL);
		return 0;
	}
	fprintf(stderr, "xipfs: %s=%s: %s\n", opt, file,
		why ? why : strerror(ENOMEM));
	if (o->dirfd >= 0)
		close(o->dirfd);
	free(o->name);
	o->name = NULL;
	return -1;
}

/* A struct never opened (all zero) or closed already is left alone. */
void xipfsd_outfile_close(struct xipfsd_outfile *o)
{
	if (!o->name)
		return;
	close(o->dirfd);
	pthread_mutex_destroy(&o->lock);
	free(o->name);
	free(o->shown);
	o->name = o->shown = NULL;
}

/* A new, empty temporary file in the directory: its fd, or -1 (errno). */
static int create_temp(const struct xipfsd_outfile *o, char *tmp, size_t size)
{
	uint64_t r;
	int fd;

	for (int tries = 0; tries < 16; tries++) {
		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return -1;
		snprintf(tmp, size, ".%s.%016llx", o->name,
			 (unsigned long long)r);
		fd = openat(o->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/* fill's output into fd, flushed to the medium; closes fd.  0 or -1. */
static int fill_temp(int fd, xipfsd_outfile_fill_fn fill, void *ctx)
{
	FILE *f = fdopen(fd, "w");
	int err, saved;

	if (!f) {
		close(fd);
		return -1;
	}
	/* fchmod: the umask must not decide who may read a report. */
	err = fchmod(fd, 0644) || fill(ctx, f) || fflush(f) || ferror(f) ||
	      fsync(fd) ? -1 : 0;
	saved = errno;
	if (fclose(f))
		return -1;
	errno = saved;
	return err;
}

int xipfsd_outfile_replace(struct xipfsd_outfile *o,
			   xipfsd_outfile_fill_fn fill, void *ctx)
{
	char tmp[256];
	int fd, err = 0;

	if (!o->name)
		return 0;
	pthread_mutex_lock(&o->lock);
	errno = 0;
	fd = create_temp(o, tmp, sizeof(tmp));
	if (fd < 0 || fill_temp(fd, fill, ctx) ||
	    renameat(o->dirfd, tmp, o->dirfd, o->name)) {
		err = errno ? -errno : -EIO;
		if (fd >= 0)
			unlinkat(o->dirfd, tmp, 0);
	}
	pthread_mutex_unlock(&o->lock);
	return err;
}
