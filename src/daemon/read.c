/* SPDX-License-Identifier: MIT */
/*
 * READ's data path: the handler (ops.c) has found the bytes in the mapped
 * image; this answers with them, by copy (fuse_reply_buf over the mapping)
 * or by splice from the source file through a pipe of the thread's own.
 * Either way the source is checked first, and a source that shrank under
 * the mount gets EIO, never short data.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xipfsd.h"

/* The largest READ the kernel sends (FUSE's max_pages of 256). */
#define READ_MAX	(1024 * 1024)

/*
 * Does the source file still hold [pos, pos + len)?  A regular file can
 * shrink under the mount; asking first turns most such reads into a clean
 * EIO before the kernel has to fail a copy (devices keep their size).
 */
static int source_covers(struct xipfsd *d, uint64_t pos, size_t len)
{
	struct stat st;

	if (d->map.type != S_IFREG)
		return 1;
	return fstat(d->map.fd, &st) == 0 && (uint64_t)st.st_size >= pos + len;
}

/*
 * Hand the kernel the mapped bytes; it copies them into its page cache.  If
 * those pages are gone despite the check, the kernel fails the copy and the
 * reader sees EIO.  (The splice path needs no check: it sees a short splice.)
 */
static void reply_copy(fuse_req_t req, struct xipfsd *d, const uint8_t *ptr,
		       size_t len)
{
	if (!source_covers(d, d->map.offset + (uint64_t)(ptr - d->img.base),
			   len)) {
		xipfsd_reply_lost(req, d);
		return;
	}
	if (fuse_reply_buf(req, (const char *)ptr, len) == 0)
		atomic_fetch_add_explicit(&d->stats.bytes_copy, len,
					  memory_order_relaxed);
}

/*
 * Each thread splices into a pipe of its own before replying.  Handing
 * libfuse the source fd instead would let a source that shrank mid-read
 * produce a short reply, which the kernel takes for EOF and caches as the
 * file's new size; here a short splice is seen, and answered with EIO.
 * The pipe hangs on the mount's key (d->splice_pipes) and is closed when
 * its thread ends.
 */
struct splice_pipe {
	int fd[2];
	size_t size;		/* capacity: longer reads go by copy */
};

static void splice_pipe_free(void *p)
{
	struct splice_pipe *sp = p;

	close(sp->fd[0]);
	close(sp->fd[1]);
	free(sp);
}

/* At INIT, once reads are to splice, before the first READ.  The key is
 * never deleted: it lives as long as the mount, which is the process. */
void xipfsd_read_start(struct xipfsd *d)
{
	if (pthread_key_create(&d->splice_pipes, splice_pipe_free))
		abort();
}

static struct splice_pipe *splice_pipe_get(struct xipfsd *d, size_t len)
{
	struct splice_pipe *sp = pthread_getspecific(d->splice_pipes);
	int size;

	if (sp)
		return sp;
	sp = malloc(sizeof(*sp));
	if (!sp)
		return NULL;
	if (pipe2(sp->fd, O_CLOEXEC | O_NONBLOCK)) {
		free(sp);
		return NULL;
	}
	/* Room for the largest READ; a smaller pipe only means copies. */
	(void)fcntl(sp->fd[0], F_SETPIPE_SZ, (int)len);
	size = fcntl(sp->fd[0], F_GETPIPE_SZ);
	sp->size = size > 0 ? (size_t)size : 0;
	pthread_setspecific(d->splice_pipes, sp);
	return sp;
}

/* Empty the pipe after a failed reply, or drop it if that fails too. */
static void splice_pipe_reset(struct xipfsd *d, struct splice_pipe *sp)
{
	char scratch[4096];
	int left = 0;

	while (ioctl(sp->fd[0], FIONREAD, &left) == 0 && left > 0)
		if (read(sp->fd[0], scratch, sizeof(scratch)) <= 0)
			break;
	if (left > 0) {
		pthread_setspecific(d->splice_pipes, NULL);
		splice_pipe_free(sp);
	}
}

/* 0 when the whole range went into the pipe, else an errno. */
static int splice_in(struct xipfsd *d, struct splice_pipe *sp, uint64_t pos,
		     size_t len)
{
	loff_t off = (loff_t)pos;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = splice(d->map.fd, &off, sp->fd[1], NULL, len - done,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n <= 0)
			return n == 0 || errno == EIO ? EIO : errno;
		done += (size_t)n;
	}
	return 0;
}

static void reply_splice(fuse_req_t req, struct xipfsd *d,
			 const uint8_t *ptr, size_t len)
{
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(len);
	uint64_t pos = d->map.offset + (uint64_t)(ptr - d->img.base);
	struct splice_pipe *sp = splice_pipe_get(d, READ_MAX);
	int err;

	if (!sp || len > sp->size) {
		reply_copy(req, d, ptr, len);
		return;
	}
	err = splice_in(d, sp, pos, len);
	if (err == EAGAIN) {
		/* Pipe slots are pages: an unaligned range may need one more
		 * than the pipe has.  Those bytes go by copy. */
		splice_pipe_reset(d, sp);
		reply_copy(req, d, ptr, len);
		return;
	}
	if (err) {
		splice_pipe_reset(d, sp);
		xipfsd_reply_lost(req, d);
		return;
	}
	bv.buf[0].flags = FUSE_BUF_IS_FD;
	bv.buf[0].fd = sp->fd[0];
	if (fuse_reply_data(req, &bv, 0))
		splice_pipe_reset(d, sp);
	else
		atomic_fetch_add_explicit(&d->stats.bytes_splice, len,
					  memory_order_relaxed);
}


/* READ's reply with the image bytes [ptr, ptr + len): spliced when the
 * mount splices and the read spans two pages or more, else copied. */
void xipfsd_reply_read(fuse_req_t req, struct xipfsd *d, const uint8_t *ptr,
		       size_t len)
{
	if (d->splice && len >= 2 * (size_t)d->page_size)
		reply_splice(req, d, ptr, len);
	else
		reply_copy(req, d, ptr, len);
}
