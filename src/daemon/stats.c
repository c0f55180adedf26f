/* SPDX-License-Identifier: MIT */
/*
 * Counters of what the daemon did, reported on SIGUSR1 and at unmount, so
 * that a user (and the tests) can see which path served the reads: files
 * in place by copy or splice, packed files, compressed files (bytes and
 * clusters), and with -o verify the blocks checked and those that failed.
 * SIGUSR1 also writes -o profile=FILE.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "xipfsd.h"

static const char *const op_names[XOP_COUNT] = {
	[XOP_LOOKUP] = "LOOKUP", [XOP_FORGET] = "FORGET",
	[XOP_GETATTR] = "GETATTR", [XOP_READLINK] = "READLINK",
	[XOP_OPEN] = "OPEN", [XOP_READ] = "READ", [XOP_OPENDIR] = "OPENDIR",
	[XOP_READDIR] = "READDIR", [XOP_READDIRPLUS] = "READDIRPLUS",
	[XOP_GETXATTR] = "GETXATTR", [XOP_LISTXATTR] = "LISTXATTR",
	[XOP_STATFS] = "STATFS", [XOP_IOCTL] = "IOCTL",
	[XOP_RELEASE] = "RELEASE", [XOP_RELEASEDIR] = "RELEASEDIR",
};

static unsigned long load(atomic_ulong *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

void xipfsd_stats_report(struct xipfsd *d, const char *when)
{
	char line[1024];
	size_t used = 0;
	int n;

	for (int op = 0; op < XOP_COUNT; op++) {
		unsigned long count = load(&d->stats.ops[op]);

		if (!count)
			continue;
		n = snprintf(line + used, sizeof(line) - used, " %s=%lu",
			     op_names[op], count);
		if (n < 0 || (size_t)n >= sizeof(line) - used)
			break;
		used += (size_t)n;
	}
	fuse_log(FUSE_LOG_NOTICE, "xipfs stats (%s): %s: requests:%s\n", when,
		 d->source, used ? line : " none");
	fuse_log(FUSE_LOG_NOTICE, "xipfs stats (%s): %s: read %lu bytes by "
		 "copy, %lu by splice (files in place), %lu of packed files, "
		 "%lu decompressed from %lu clusters; %lu READs over io_uring; "
		 "%lu requests failed on a lost source\n", when, d->source,
		 load(&d->stats.bytes_copy), load(&d->stats.bytes_splice),
		 load(&d->stats.bytes_packed), load(&d->stats.bytes_compressed),
		 load(&d->stats.clusters), load(&d->stats.uring_reads),
		 load(&d->stats.lost));
	if (d->bounce)
		fuse_log(FUSE_LOG_NOTICE, "xipfs stats (%s): %s: %lu of those "
			 "bytes copied through a buffer first (raw page "
			 "frames)\n", when, d->source,
			 load(&d->stats.bytes_bounce));
	if (d->verify.on)
		fuse_log(FUSE_LOG_NOTICE, "xipfs stats (%s): %s: verify: %lu "
			 "blocks checked, %lu failed their checksum\n", when,
			 d->source, load(&d->stats.crc_blocks),
			 load(&d->stats.crc_failures));
	if (d->passthrough_active)
		fuse_log(FUSE_LOG_NOTICE, "xipfs stats (%s): %s: passthrough: "
			 "%lu opens, %lu backing files live, %lu fallbacks to "
			 "the page cache, %lu opens below passthrough_min\n",
			 when, d->source,
			 load(&d->stats.passthrough_opens),
			 load(&d->stats.backing_live),
			 load(&d->stats.fallbacks),
			 load(&d->stats.passthrough_small));
	if (d->push.on)
		fuse_log(FUSE_LOG_NOTICE, "xipfs stats (%s): %s: push-ahead: "
			 "%lu files, %lu bytes pushed; %lu of them READ all "
			 "the same; %lu not pushed, unknown to the kernel\n",
			 when, d->source, load(&d->stats.push_files),
			 load(&d->stats.push_bytes),
			 load(&d->stats.push_missed),
			 load(&d->stats.push_unknown));
}

/* sigwait() in a thread of its own: the report may take locks and log,
 * and the profile is written here.  Cancelled at unmount, but never in
 * the middle of a report (a half-written profile, a held lock). */
static void *report_on_signal(void *arg)
{
	sigset_t set, all;
	int sig;

	/* Only SIGUSR1, by sigwait(): a SIGTERM or SIGHUP handled here would
	 * mark the session exited but wake neither the main thread nor a
	 * worker, and the daemon would not end. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		xipfsd_stats_report(arg, "SIGUSR1");
		xipfsd_profile_write(arg, "on SIGUSR1");
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	}
	return NULL;
}

/*
 * Block SIGUSR1 in this thread, so that every thread started after it
 * (libfuse's workers) inherits the mask and only the reporter takes it.
 */
int xipfsd_stats_start(struct xipfsd *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -1;
	if (pthread_create(&d->reporter.thread, NULL, report_on_signal, d))
		return -1;
	d->reporter.running = 1;
	return 0;
}

void xipfsd_stats_stop(struct xipfsd *d)
{
	if (!d->reporter.running)
		return;
	/* sigwait is a cancellation point */
	pthread_cancel(d->reporter.thread);
	pthread_join(d->reporter.thread, NULL);
	d->reporter.running = 0;
}
