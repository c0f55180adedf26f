/* SPDX-License-Identifier: MIT */
/*
 * READ's data path: the handler (ops.c) has found the bytes in the mapped
 * image; this answers with them, by copy (fuse_reply_buf over the mapping)
 * or by splice from the source file through a pipe of the thread's own.
 * Either way the source is checked first, and a source that shrank under
 * the mount gets EIO, never short data.  A compressed file's bytes are
 * decompressed into a buffer of the thread's own, inside the handler's
 * SIGBUS guard (the daemon reads the stored clusters itself).
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
		       size_t len, int packed)
{
	if (!source_covers(d, d->map.offset + (uint64_t)(ptr - d->img.base),
			   len)) {
		xipfsd_reply_lost(req, d);
		return;
	}
	if (fuse_reply_buf(req, (const char *)ptr, len) == 0)
		atomic_fetch_add_explicit(packed ? &d->stats.bytes_packed :
					  &d->stats.bytes_copy, len,
					  memory_order_relaxed);
}

/*
 * Each thread splices into a pipe of its own before replying.  Handing
 * libfuse the source fd instead would let a source that shrank mid-read
 * produce a short reply, which the kernel takes for EOF and caches as the
 * file's new size; here a short splice is seen, and answered with EIO.
 */
struct splice_pipe {
	int fd[2];
	size_t size;		/* capacity: longer reads go by copy */
};

/*
 * What a thread keeps between its requests, each part made the first time
 * it is needed: the splice pipe, and for compressed files a decompression
 * context and the buffer their replies are decompressed into.  It hangs on
 * the mount's key (d->thread_state) and is freed when its thread ends:
 * libfuse's workers and io_uring queue threads end (cancelled and joined)
 * before the loop returns, and xipfsd_read_stop frees the loop thread's.
 */
struct thread_state {
	struct splice_pipe *pipe;
	struct xipfs_zctx *z;
	uint8_t *buf;
	size_t buf_size;
};

static void splice_pipe_free(struct splice_pipe *sp)
{
	if (!sp)
		return;
	close(sp->fd[0]);
	close(sp->fd[1]);
	free(sp);
}

static void thread_state_free(void *p)
{
	struct thread_state *ts = p;

	splice_pipe_free(ts->pipe);
	xipfs_zctx_free(ts->z);
	free(ts->buf);
	free(ts);
}

/* Before the loop starts.  The key lives as long as the mount. */
int xipfsd_read_start(struct xipfsd *d)
{
	if (pthread_key_create(&d->thread_state, thread_state_free))
		return -1;
	d->thread_key = 1;
	return 0;
}

/* After the loop: the state of the thread that ran it (-s). */
void xipfsd_read_stop(struct xipfsd *d)
{
	struct thread_state *ts;

	if (!d->thread_key)
		return;
	ts = pthread_getspecific(d->thread_state);
	if (ts) {
		pthread_setspecific(d->thread_state, NULL);
		thread_state_free(ts);
	}
}

static struct thread_state *thread_state_get(struct xipfsd *d)
{
	struct thread_state *ts = pthread_getspecific(d->thread_state);

	if (ts)
		return ts;
	ts = calloc(1, sizeof(*ts));
	if (ts && pthread_setspecific(d->thread_state, ts)) {
		free(ts);
		ts = NULL;
	}
	return ts;
}

static struct splice_pipe *splice_pipe_get(struct xipfsd *d, size_t len)
{
	struct thread_state *ts = thread_state_get(d);
	struct splice_pipe *sp;
	int size;

	if (!ts)
		return NULL;
	if (ts->pipe)
		return ts->pipe;
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
	ts->pipe = sp;
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
		((struct thread_state *)pthread_getspecific(d->thread_state))
			->pipe = NULL;
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
			 const uint8_t *ptr, size_t len, int packed)
{
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(len);
	uint64_t pos = d->map.offset + (uint64_t)(ptr - d->img.base);
	struct splice_pipe *sp = splice_pipe_get(d, READ_MAX);
	int err;

	if (!sp || len > sp->size) {
		reply_copy(req, d, ptr, len, packed);
		return;
	}
	err = splice_in(d, sp, pos, len);
	if (err == EAGAIN) {
		/* Pipe slots are pages: an unaligned range may need one more
		 * than the pipe has.  Those bytes go by copy. */
		splice_pipe_reset(d, sp);
		reply_copy(req, d, ptr, len, packed);
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
		atomic_fetch_add_explicit(packed ? &d->stats.bytes_packed :
					  &d->stats.bytes_splice, len,
					  memory_order_relaxed);
}


static void reply_bounced(fuse_req_t req, struct xipfsd *d,
			  const uint8_t *ptr, size_t len, int packed);

/* READ's reply with the image bytes [ptr, ptr + len): through the thread's
 * buffer from a source the kernel cannot pin (bounce.c), spliced when the
 * mount splices and the read spans two pages or more, else copied.
 * packed: of a packed file (counted apart from files stored in place). */
void xipfsd_reply_read(fuse_req_t req, struct xipfsd *d, const uint8_t *ptr,
		       size_t len, int packed)
{
	if (d->bounce)
		reply_bounced(req, d, ptr, len, packed);
	else if (d->splice && len >= 2 * (size_t)d->page_size)
		reply_splice(req, d, ptr, len, packed);
	else
		reply_copy(req, d, ptr, len, packed);
}

/*
 * A compressed file's bytes are decompressed into the thread's buffer,
 * whole clusters straight from the mapping (partial ones through the
 * context's scratch cluster), and that buffer is the reply: no other
 * copy.  The buffer is as large as the largest READ the thread has seen
 * (at least READ_MAX), and stays for the thread's next one.
 */
static uint8_t *zread_buffer(struct thread_state *ts, size_t size)
{
	if (size < READ_MAX)
		size = READ_MAX;
	if (ts->buf_size >= size)
		return ts->buf;
	free(ts->buf);
	ts->buf = malloc(size);
	ts->buf_size = ts->buf ? size : 0;
	return ts->buf;
}

/* The bounce copy goes into the buffer compressed files use. */
static void reply_bounced(fuse_req_t req, struct xipfsd *d,
			  const uint8_t *ptr, size_t len, int packed)
{
	struct thread_state *ts = thread_state_get(d);
	uint8_t *buf = ts ? zread_buffer(ts, len) : NULL;

	if (!buf)
		fuse_reply_err(req, ENOMEM);
	else
		xipfsd_reply_bounce(req, d, buf, ptr, len, packed);
}

/* How many clusters [off, off + n) of a compressed file meets (n > 0). */
static unsigned long clusters_met(const struct xipfsd *d,
				  const struct xipfs_inode_info *inode,
				  uint64_t off, size_t n)
{
	struct xipfs_zfile_info zf;

	if (xipfs_zfile_get(&d->img, inode, &zf))
		return 0;
	return (unsigned long)(((off + n - 1) >> zf.cluster_log2) -
			       (off >> zf.cluster_log2) + 1);
}

ssize_t xipfsd_zread(struct xipfsd *d, const struct xipfs_inode_info *inode,
		     uint64_t off, size_t size, const uint8_t **out)
{
	struct thread_state *ts = thread_state_get(d);
	uint8_t *buf;
	ssize_t n;

	if (!ts)
		return -ENOMEM;
	if (!ts->z && !(ts->z = xipfs_zctx_new()))
		return -ENOMEM;
	buf = zread_buffer(ts, size);
	if (!buf)
		return -ENOMEM;
	n = xipfs_file_read(&d->img, inode, off, buf, size, ts->z);
	if (n > 0)
		atomic_fetch_add_explicit(&d->stats.clusters,
					  clusters_met(d, inode, off, (size_t)n),
					  memory_order_relaxed);
	*out = buf;
	return n;
}

void xipfsd_reply_zread(fuse_req_t req, struct xipfsd *d, const uint8_t *buf,
			size_t len)
{
	if (fuse_reply_buf(req, (const char *)buf, len) == 0)
		atomic_fetch_add_explicit(&d->stats.bytes_compressed, len,
					  memory_order_relaxed);
}
