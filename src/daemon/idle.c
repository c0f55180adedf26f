/* SPDX-License-Identifier: MIT */
/*
 * -o timeout=SECONDS: end the mount once it has had no request for that
 * long and nothing in it is open.  Open files and directories count,
 * since a process may read a file's cached pages or run a program mapped
 * from it for hours without a single request; so with a timeout the
 * daemon answers OPEN (see apply_options) and counts OPEN against RELEASE.
 *
 * A thread of its own waits on a condition variable until the next moment
 * the mount could be idle, so that it costs nothing between checks and
 * stops at once at unmount.  Idle, it unmounts this daemon's own mount
 * (unmount.c) without MNT_DETACH: the kernel knows uses the daemon never
 * hears of (a working directory, a mapping whose file was closed) and
 * refuses with EBUSY while there are any; the timer then looks again a
 * whole timeout later.  A done unmount ends the connection, and with it
 * the loop.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xipfsd.h"

/* The timer's state, made by xipfsd_idle_start when timeout= is given. */
struct xipfsd_idle {
	atomic_llong last_request;	/* CLOCK_MONOTONIC_COARSE ns */
	atomic_long live_opens;		/* files and directories open now */
	pthread_mutex_t lock;
	pthread_cond_t wake;	/* stop, or look again */
	pthread_t thread;
	int stop;
	unsigned int said_covered;	/* "another mount covers it", once */
};

static long long now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Per request: the coarse clock is a read of memory, no system call. */
void xipfsd_idle_touch(struct xipfsd *d)
{
	if (d->idle)
		atomic_store_explicit(&d->idle->last_request,
				      now_ns(CLOCK_MONOTONIC_COARSE),
				      memory_order_relaxed);
}

void xipfsd_idle_opened(struct xipfsd *d, int delta)
{
	if (d->idle)
		atomic_fetch_add(&d->idle->live_opens, delta);
}

/* The earliest moment the mount can be idle; now when it is already. */
static long long idle_at(struct xipfsd *d, long long now)
{
	long long limit = (long long)d->idle_timeout * 1000000000LL;
	long long due = atomic_load(&d->idle->last_request) + limit;
	long open;

	if (due > now)
		return due;
	/* Something is open: look again a whole timeout later (a RELEASE
	 * moves last_request on, so the mount never ends early). */
	open = atomic_load(&d->idle->live_opens);
	if (open <= 0)
		return now;
	if (d->verbose)
		fuse_log(FUSE_LOG_NOTICE, "xipfs: %s: still in use (%ld open); "
			 "serving on\n", d->source, open);
	return now + limit;
}

/*
 * The mount looks idle: unmount it, without MNT_DETACH, so that the kernel
 * refuses if anything still uses it (a working directory inside, say,
 * which sends no request for hours).  Then the kernel ends the connection
 * and the loop returns by itself.  0 when done; else the next moment to
 * look again, a whole timeout on.  Called without the lock: the loop
 * answers requests meanwhile (fusermount3 stats the mount point).
 */
static long long try_unmount(struct xipfsd *d, long long now)
{
	int err;

	if (d->verbose)
		fuse_log(FUSE_LOG_NOTICE, "xipfs: %s: idle for %u s; "
			 "unmounting\n", d->source, d->idle_timeout);
	err = xipfsd_unmount_idle(d);
	if (!err)
		return 0;
	if (err == -ESTALE && !d->idle->said_covered++)
		fuse_log(FUSE_LOG_WARNING, "xipfs: %s: timeout: another mount "
			 "covers %s, or the mount moved; it is not unmounted "
			 "by path\n", d->source, xipfsd_mount_path(d));
	else if (d->verbose)
		fuse_log(FUSE_LOG_NOTICE, "xipfs: %s: still in use (%s); "
			 "serving on\n", d->source, strerror(-err));
	return now + (long long)d->idle_timeout * 1000000000LL;
}

static void *watch(void *arg)
{
	struct xipfsd *d = arg;
	struct xipfsd_idle *idle = d->idle;
	struct timespec until;
	long long now, at, retry = 0;

	pthread_mutex_lock(&idle->lock);
	while (!idle->stop && !fuse_session_exited(d->se)) {
		now = now_ns(CLOCK_MONOTONIC);
		at = idle_at(d, now);
		if (at < retry)
			at = retry;
		if (at <= now) {
			pthread_mutex_unlock(&idle->lock);
			retry = try_unmount(d, now);
			pthread_mutex_lock(&idle->lock);
			if (!retry)
				break;
			continue;
		}
		until.tv_sec = at / 1000000000LL;
		until.tv_nsec = at % 1000000000LL;
		pthread_cond_timedwait(&idle->wake, &idle->lock, &until);
	}
	pthread_mutex_unlock(&idle->lock);
	return NULL;
}

/* The lock and the condition variable, on the clock watch() waits by. */
static int idle_sync_init(struct xipfsd_idle *idle)
{
	pthread_condattr_t attr;
	int err;

	if (pthread_condattr_init(&attr))
		return -1;
	err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) ||
	      pthread_cond_init(&idle->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (err)
		return -1;
	if (pthread_mutex_init(&idle->lock, NULL)) {
		pthread_cond_destroy(&idle->wake);
		return -1;
	}
	return 0;
}

/* Start the timer thread, from the thread that will run the loop; -1
 * with errno set. */
int xipfsd_idle_start(struct xipfsd *d)
{
	struct xipfsd_idle *idle;
	int err;

	if (!d->idle_timeout)
		return 0;
	idle = calloc(1, sizeof(*idle));
	if (!idle)
		return -1;
	if (idle_sync_init(idle)) {
		free(idle);
		errno = ENOMEM;
		return -1;
	}
	d->idle = idle;
	xipfsd_idle_touch(d);
	err = xipfsd_thread_start(&idle->thread, watch, d);
	if (err) {
		d->idle = NULL;
		pthread_mutex_destroy(&idle->lock);
		pthread_cond_destroy(&idle->wake);
		free(idle);
		errno = err;
		return -1;
	}
	return 0;
}

/* After the loop, when no handler can touch the timer any more. */
void xipfsd_idle_stop(struct xipfsd *d)
{
	struct xipfsd_idle *idle = d->idle;

	if (!idle)
		return;
	pthread_mutex_lock(&idle->lock);
	idle->stop = 1;
	pthread_cond_signal(&idle->wake);
	pthread_mutex_unlock(&idle->lock);
	pthread_join(idle->thread, NULL);
	pthread_cond_destroy(&idle->wake);
	pthread_mutex_destroy(&idle->lock);
	d->idle = NULL;
	free(idle);
}
