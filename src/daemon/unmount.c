/* SPDX-License-Identifier: MIT */
/*
 * Unmounting only ever the daemon's own mount.  An unmount names a path,
 * and the kernel takes whatever is mounted on top of that path then: if
 * another mount was stacked on the mount point meanwhile (a second xipfs,
 * a tmpfs), libfuse's unmount by path would take that one and leave ours
 * in place, cut off ("Transport endpoint is not connected").
 *
 * So the mount is identified once, right after it is made: its id in
 * /proc/self/mountinfo (the topmost FUSE mount on the path at that moment
 * is the one just made; no stat of the mount point, which would wait for
 * an INIT reply nobody has sent yet), and the directory that holds the
 * mount point, opened O_PATH.  Before any unmount, a statx of the mount
 * point through that directory (AT_STATX_DONT_SYNC: no request to any
 * FUSE daemon, this one's loop may have stopped) must give that id; then
 * the unmount goes through the same directory (root) or fusermount3 (a
 * normal user), a few microseconds later.  The kernel offers no unmount by
 * mount id, so this narrow window is what is left.
 *
 * The idle timer (idle.c) unmounts without MNT_DETACH and without
 * fusermount3's -z: the kernel refuses (EBUSY) a mount that anything uses,
 * a working directory, an open file or directory, a mapping, a mount
 * below it.  An unmount after SIGTERM or SIGINT stays lazy, as libfuse's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xipfs/direct.h"
#include "xipfsd.h"

extern char **environ;

/* What tells this daemon's mount from others on its path. */
struct xipfsd_mount {
	long long id;		/* in /proc/self/mountinfo; -1: unknown */
	int parent_fd;		/* the mount point's directory, O_PATH */
	char *name;		/* the mount point's name in there */
	char *path;		/* the whole path: fusermount3, messages */
};

/* The id of the topmost FUSE mount on path in mountinfo; -1 if none. */
static long long topmost_fuse_mount(const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	long long id = -1, this;

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		char where[PATH_MAX], *sep = strstr(line, " - ");

		/* id parent MAJOR:MINOR root mountpoint ... - fstype ... */
		if (!sep || strncmp(sep + 3, "fuse", 4) ||
		    sscanf(line, "%lld %*u %*s %*s %4095s", &this, where) != 2)
			continue;
		xipfs_mountinfo_unescape(where);
		if (!strcmp(where, path))
			id = this;	/* later lines are mounted on top */
	}
	free(line);
	fclose(f);
	return id;
}

/*
 * Right after fuse_session_mount: what identifies the mount later.  With
 * no memory for it, d->mount stays NULL and the mount is unmounted by
 * path, as libfuse does.
 */
void xipfsd_mount_note(struct xipfsd *d, const char *mountpoint)
{
	struct xipfsd_mount *m = calloc(1, sizeof(*m));
	char *copy = strdup(mountpoint), *slash;

	if (!m || !copy) {
		free(m);
		free(copy);
		return;
	}
	d->mount = m;
	m->parent_fd = -1;
	m->id = -1;
	slash = strrchr(copy, '/');	/* libfuse made it absolute */
	if (slash && slash[1]) {
		*slash = '\0';
		m->parent_fd = open(slash == copy ? "/" : copy,
				    O_PATH | O_DIRECTORY | O_CLOEXEC);
		m->name = strdup(slash + 1);
		m->path = strdup(mountpoint);
		m->id = topmost_fuse_mount(mountpoint);
	}
	free(copy);
	if (m->parent_fd < 0 || !m->name || !m->path || m->id < 0) {
		if (d->verbose)
			fprintf(stderr, "xipfs: %s: cannot tell this mount "
				"from others on the same path; unmounting by "
				"path\n", mountpoint);
		m->id = -1;
		if (m->parent_fd >= 0)
			close(m->parent_fd);
		m->parent_fd = -1;
	}
}

void xipfsd_mount_forget(struct xipfsd *d)
{
	struct xipfsd_mount *m = d->mount;

	if (!m)
		return;
	if (m->parent_fd >= 0)
		close(m->parent_fd);
	free(m->name);
	free(m->path);
	free(m);
	d->mount = NULL;
}

const char *xipfsd_mount_path(const struct xipfsd *d)
{
	return d->mount && d->mount->path ? d->mount->path : "the mount point";
}

/* Is the mount on top of the mount point still this daemon's own?  (As
 * before this check existed, when the mount could not be told apart.) */
static int mount_is_ours(const struct xipfsd_mount *m)
{
	struct statx stx;

	if (m->id < 0)
		return 1;
	if (statx(m->parent_fd, m->name, AT_SYMLINK_NOFOLLOW |
		  AT_STATX_DONT_SYNC, STATX_MNT_ID, &stx))
		return 0;
	return (stx.stx_mask & STATX_MNT_ID) &&
	       stx.stx_mnt_id == (unsigned long long)m->id;
}

/* fusermount3 -u [-z] for a normal user's mount; 0 or -EBUSY. */
static int fusermount_unmount(const struct xipfsd_mount *m, int lazy)
{
	char *argv[] = { "fusermount3", "-u", "-q", "--", m->path, NULL,
			 NULL };
	posix_spawnattr_t attr;
	sigset_t none;
	pid_t pid;
	int st, err;

	if (lazy) {
		argv[3] = "-z";
		argv[4] = "--";
		argv[5] = m->path;
	}
	/* our threads block every signal; fusermount3 must not inherit it */
	sigemptyset(&none);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	err = posix_spawnp(&pid, "fusermount3", NULL, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	if (err)
		return -err;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	/* it does not say why; busy is what a non-lazy one meets */
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EBUSY;
}

/*
 * Unmount this daemon's mount and nothing else: 0, -ESTALE when the mount
 * point shows another mount (or ours moved away), -EBUSY when the kernel
 * finds ours in use (lazy = 0), or another negative errno.
 */
static int unmount_own(struct xipfsd *d, int lazy)
{
	const struct xipfsd_mount *m = d->mount;
	char at[64 + NAME_MAX];

	if (!m || !m->path)
		return -ENOMEM;
	if (!mount_is_ours(m))
		return -ESTALE;
	if (geteuid() != 0)
		return fusermount_unmount(m, lazy);
	/* the name, through the directory opened at mount: no component of
	 * the path is looked up again, and the last is never followed */
	if (m->parent_fd >= 0)
		snprintf(at, sizeof(at), "/proc/self/fd/%d/%s", m->parent_fd,
			 m->name);
	if (umount2(m->parent_fd >= 0 ? at : m->path,
		    UMOUNT_NOFOLLOW | (lazy ? MNT_DETACH : 0)))
		return -errno;
	return 0;
}

int xipfsd_unmount_idle(struct xipfsd *d)
{
	return unmount_own(d, 0);
}

/*
 * After the loop: unmount (lazily) if the mount is still ours and still
 * there, and let libfuse free its session's mount state without its
 * unmount by path.  libfuse skips that unmount when the session fd polls
 * POLLERR (the connection is gone); where it is not gone, the fd is
 * replaced by the write end of a pipe with no reader, which polls POLLERR
 * too.  Closing the fd ends the connection, as the daemon's exit would.
 */
void xipfsd_unmount_final(struct xipfsd *d, struct fuse_session *se)
{
	struct pollfd pfd = { .fd = fuse_session_fd(se) };
	int p[2], err;

	if (!d->mount || d->mount->id < 0 || pfd.fd < 0 ||
	    (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR))) {
		fuse_session_unmount(se);
		return;
	}
	err = unmount_own(d, 1);
	if (err == -ESTALE)
		fuse_log(FUSE_LOG_WARNING, "xipfs: %s: another mount covers "
			 "this one, or it moved: not unmounting by path; it "
			 "stays, disconnected, until unmounted\n",
			 d->mount->path);
	else if (err)
		fuse_log(FUSE_LOG_WARNING, "xipfs: %s: cannot unmount: %s\n",
			 d->mount->path, strerror(-err));
	if (pipe2(p, O_CLOEXEC))
		return;		/* libfuse's state leaks; no mount is hit */
	close(p[0]);
	err = dup3(p[1], pfd.fd, O_CLOEXEC);
	close(p[1]);
	if (err >= 0)
		fuse_session_unmount(se);
}
