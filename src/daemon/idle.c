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
 * stops at once at unmount.  To end the session it does what SIGTERM
 * does: libfuse's handler marks the session exited, and the signal wakes
 * the main thread from its wait; the loop then returns and main() unmounts
 * as after any other stop.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "xipfsd.h"

/* The timer's state, made by xipfsd_idle_start when timeout= is given. */
struct xipfsd_idle {
	atomic_llong last_request;	/* CLOCK_MONOTONIC_COARSE ns */
	atomic_long live_opens;		/* files and directories open now */
	pthread_mutex_t lock;
	pthread_cond_t wake;	/* stop, or look again */
	pthread_t thread, main;	/* main: the loop's, to be sent SIGTERM */
	int stop;
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

	if (due > now)
		return due;
	/* Something is open: look again a whole timeout later (a RELEASE
	 * moves last_request on, so the mount never ends early). */
	return atomic_load(&d->idle->live_opens) > 0 ? now + limit : now;
}

static void *watch(void *arg)
{
	struct xipfsd *d = arg;
	struct xipfsd_idle *idle = d->idle;
	struct timespec until;
	long long now, at;

	pthread_mutex_lock(&idle->lock);
	while (!idle->stop) {
		now = now_ns(CLOCK_MONOTONIC);
		at = idle_at(d, now);
		if (at <= now)
			break;
		until.tv_sec = at / 1000000000LL;
		until.tv_nsec = at % 1000000000LL;
		pthread_cond_timedwait(&idle->wake, &idle->lock, &until);
	}
	if (!idle->stop && !fuse_session_exited(d->se)) {
		if (d->verbose)
			fuse_log(FUSE_LOG_NOTICE, "xipfs: %s: idle for %u s; "
				 "unmounting\n", d->source, d->idle_timeout);
		pthread_kill(idle->main, SIGTERM);
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
	idle->main = pthread_self();
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
