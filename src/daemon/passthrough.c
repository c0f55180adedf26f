/* SPDX-License-Identifier: MIT */
/*
 * FUSE passthrough onto reflinked extents.  The kernel binds a passed-
 * through FUSE inode to a whole backing file at identical offsets, so each
 * such inode gets a file of its own that shares the image's blocks: a
 * FICLONERANGE of its block-aligned extent into an O_TMPFILE on the image's
 * file system.  Reads and mmap then go to those blocks with no request to
 * the daemon (and, on a DAX file system, to the medium's own pages).
 *
 * State is kept only for inodes that are open, in the mount's table
 * (d->open_inodes): their backing id (0 when served through the page
 * cache) and how many opens they have.  The kernel
 * refuses to mix passthrough and cached opens of one inode, so every open
 * of an inode follows the choice made at its first open.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xipfsd.h"

/* The inodes open now, each with its backing id. */
#define OPEN_BUCKETS 1024
struct xipfsd_open_table {
	pthread_mutex_t lock;
	struct xipfsd_open_inode *bucket[OPEN_BUCKETS];
};

/* One open inode, in its bucket's chain of d->open_inodes. */
struct xipfsd_open_inode {
	uint32_t ino;
	int backing_id;		/* 0: page-cache mode */
	unsigned long opens;
	struct xipfsd_open_inode *next;
};

static struct xipfsd_open_inode **slot(struct xipfsd_open_table *t,
				       uint32_t ino)
{
	struct xipfsd_open_inode **p = &t->bucket[ino % OPEN_BUCKETS];

	while (*p && (*p)->ino != ino)
		p = &(*p)->next;
	return p;
}

#if HAVE_DECL_FUSE_PASSTHROUGH_OPEN
/* Does CAP_SYS_ADMIN (bit 21) show in this process's effective set? */
static int have_sys_admin(void)
{
	char line[256];
	unsigned long long caps = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return (caps >> 21) & 1;
}
#endif

static int open_tmpfile(const struct xipfsd *d)
{
	return open(d->backing_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

/* A new file holding a clone of [offset, offset + len) of the source. */
static int clone_range(const struct xipfsd *d, uint64_t offset, uint64_t len,
		       uint64_t size)
{
	struct file_clone_range r = {
		.src_fd = d->map.fd, .src_offset = offset,
		.src_length = len, .dest_offset = 0,
	};
	int fd = open_tmpfile(d), err;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, FICLONERANGE, &r) < 0 || ftruncate(fd, (off_t)size) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * Decide at startup whether passthrough can work: NULL when it can, else
 * the reason (perhaps written into why), for one line in the log (or the
 * refusal with passthrough=on).
 * The kernel's support is known only at INIT; see init_passthrough, init.c.
 */
static const char *passthrough_check(struct xipfsd *d, char *why,
				     size_t why_size)
{
#if !HAVE_DECL_FUSE_PASSTHROUGH_OPEN
	(void)d;
	(void)why;
	(void)why_size;
	return "this libfuse has no passthrough API (libfuse 3.17 or newer "
	       "needed)";
#else
	int fd;

	if (!have_sys_admin())
		return "registering backing files needs CAP_SYS_ADMIN";
	if (d->map.type != S_IFREG)
		return "the source is not a regular file";
	/* One block at the image's start tells whether the file system can
	 * clone at all, and at this alignment. */
	fd = clone_range(d, d->map.offset, d->img.block_size, d->img.block_size);
	if (fd == -EXDEV) {
		snprintf(why, why_size, "%s is not on the image's file "
			 "system", d->backing_dir);
		return why;
	}
	if (fd < 0) {
		snprintf(why, why_size, "cannot clone the image into %s: %s",
			 d->backing_dir, strerror(-fd));
		return why;
	}
	close(fd);
	return NULL;
#endif
}

/* Would inode pass through, size and layout permitting? */
static int may_pass(const struct xipfsd *d, const struct xipfs_inode_info *inode)
{
	return inode->size >= d->passthrough_min && inode->size > 0 &&
	       xipfs_inode_mappable(&d->img, inode);
}

/*
 * The kernel reads a passed-through file's backing clone with no request
 * to the daemon, so verify checks all of the file's blocks before the
 * first open passes it through: once a mount per block (the verdicts are
 * READ's), a whole file's read the first time.
 */
int xipfsd_passthrough_intact(struct xipfsd *d,
			      const struct xipfs_inode_info *inode)
{
	if (!d->passthrough_active || !xipfsd_verify_on(d) ||
	    !S_ISREG(inode->mode) || !may_pass(d, inode))
		return 1;
	return xipfsd_verify_file(d, inode) == 0;
}

/* A backing id for this inode, or 0 to serve it through the page cache. */
static int make_backing(fuse_req_t req, struct xipfsd *d,
		       const struct xipfs_inode_info *inode, int intact)
{
	uint64_t offset, length;
	int fd, id = 0;

	if (inode->size == 0 || !xipfs_inode_mappable(&d->img, inode) ||
	    xipfs_file_extent(&d->img, inode, &offset, &length))
		return 0;
	if (inode->size < d->passthrough_min) {
		atomic_fetch_add(&d->stats.passthrough_small, 1);
		return 0;
	}
	if (!intact) {
		atomic_fetch_add(&d->stats.passthrough_damaged, 1);
		return 0;
	}
	if (atomic_load(&d->stats.backing_live) >= d->max_backing) {
		atomic_fetch_add(&d->stats.fallbacks, 1);
		return 0;
	}
	fd = clone_range(d, d->map.offset + offset, length, inode->size);
	if (fd >= 0) {
#if HAVE_DECL_FUSE_PASSTHROUGH_OPEN
		/* The kernel keeps its own reference to the file. */
		id = fuse_passthrough_open(req, fd);
#endif
		close(fd);
	}
	if (id > 0) {
		atomic_fetch_add(&d->stats.backing_live, 1);
	} else {
		atomic_fetch_add(&d->stats.fallbacks, 1);
		id = 0;
	}
	return id;
}

/*
 * Passthrough needs a clone-capable file system under the source; find out
 * now and say once why not (passthrough=on refuses to mount instead).
 */
int xipfsd_passthrough_setup(struct xipfsd *d)
{
	const char *backing_dir = d->backing_dir_opt;
	char reason[512];
	const char *why;
	char *src;

	if (d->passthrough == XIPFSD_PT_OFF)
		return 0;
	if (backing_dir) {
		d->backing_dir = realpath(backing_dir, NULL);
	} else if ((src = realpath(d->source, NULL))) {
		d->backing_dir = strdup(dirname(src));
		free(src);
	}
	why = d->backing_dir ?
	      passthrough_check(d, reason, sizeof(reason)) :
	      "cannot resolve the backing directory";
	if (!why && !(d->open_inodes = calloc(1, sizeof(*d->open_inodes))))
		why = strerror(ENOMEM);
	if (!why) {
		pthread_mutex_init(&d->open_inodes->lock, NULL);
		d->passthrough_active = 1;
		d->open_requests = 1;
		return 0;
	}
	if (d->passthrough == XIPFSD_PT_ON) {
		fprintf(stderr, "xipfs: %s: passthrough=on: %s\n", d->source,
			why);
		return -1;
	}
	/* auto: the page cache serves, which is no fault; -v says why. */
	if (d->verbose)
		fprintf(stderr, "xipfs: %s: passthrough off: %s\n", d->source,
			why);
	return 0;
}

/* Register an open of inode; returns its backing id (0: page cache). */
int xipfsd_passthrough_open(fuse_req_t req, struct xipfsd *d,
			    const struct xipfs_inode_info *inode, int intact)
{
	struct xipfsd_open_table *t = d->open_inodes;
	struct xipfsd_open_inode **p, *e;
	int id;

	pthread_mutex_lock(&t->lock);
	p = slot(t, inode->ino);
	e = *p;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e) {
			pthread_mutex_unlock(&t->lock);
			return -ENOMEM;
		}
		e->ino = inode->ino;
		e->backing_id = make_backing(req, d, inode, intact);
		*p = e;
	}
	e->opens++;
	id = e->backing_id;
	pthread_mutex_unlock(&t->lock);
	if (id)
		atomic_fetch_add(&d->stats.passthrough_opens, 1);
	return id;
}

/* The last release of an inode drops its backing file. */
void xipfsd_passthrough_release(fuse_req_t req, struct xipfsd *d,
				uint32_t ino)
{
	struct xipfsd_open_table *t = d->open_inodes;
	struct xipfsd_open_inode **p, *e;

	pthread_mutex_lock(&t->lock);
	p = slot(t, ino);
	e = *p;
	if (e && --e->opens == 0) {
		*p = e->next;
		if (e->backing_id) {
#if HAVE_DECL_FUSE_PASSTHROUGH_OPEN
			fuse_passthrough_close(req, e->backing_id);
#endif
			atomic_fetch_sub(&d->stats.backing_live, 1);
		}
		free(e);
	}
	pthread_mutex_unlock(&t->lock);
}

/*
 * After the session: inodes still open when the connection ended (a lazy
 * unmount) are forgotten.  Their backing ids went with the connection.
 */
void xipfsd_passthrough_free(struct xipfsd *d)
{
	struct xipfsd_open_inode *e, *next;

	if (d->open_inodes) {
		for (size_t i = 0; i < OPEN_BUCKETS; i++) {
			for (e = d->open_inodes->bucket[i]; e; e = next) {
				next = e->next;
				free(e);
			}
		}
		pthread_mutex_destroy(&d->open_inodes->lock);
		free(d->open_inodes);
		d->open_inodes = NULL;
	}
	free(d->backing_dir);
	d->backing_dir = NULL;
}
