/* SPDX-License-Identifier: MIT */
/*
 * Counters of what the daemon did, reported on SIGUSR1 and at unmount, so
 * that a user can see which path served the reads: files in place by copy
 * or splice, packed files, compressed files (bytes and clusters), and with
 * -o verify the blocks checked and those that failed.  Two forms: lines
 * for people (the log, with -v at unmount), and with -o stats=FILE a JSON
 * record of every counter for programs (tests, bench scripts), replaced
 * whole at each write (outfile.c).  SIGUSR1 also writes -o profile=FILE.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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
	if (xipfsd_verify_on(d))
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
	if (xipfsd_push_on(d))
		fuse_log(FUSE_LOG_NOTICE, "xipfs stats (%s): %s: push-ahead: "
			 "%lu files, %lu bytes pushed; %lu of them READ all "
			 "the same; %lu not pushed, unknown to the kernel\n",
			 when, d->source, load(&d->stats.push_files),
			 load(&d->stats.push_bytes),
			 load(&d->stats.push_missed),
			 load(&d->stats.push_unknown));
}

/*
 * The record's layout; "version" grows when a field changes meaning or
 * goes away (new fields may come without it).  Every counter is written,
 * zero or not, so a reader never has to guess a default.
 */
#define STATS_RECORD_VERSION	1

/* The length of the UTF-8 sequence at s, or 0 where it is none (a stray
 * byte, an overlong form, a surrogate, beyond U+10FFFF). */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n = *s >= 0xf5 ? 0 : *s >= 0xf0 ? 4 : *s >= 0xe0 ? 3 :
		   *s >= 0xc2 ? 2 : 0;

	if (*s == 0xe0)
		lo = 0xa0;
	else if (*s == 0xed)
		hi = 0x9f;
	else if (*s == 0xf0)
		lo = 0x90;
	else if (*s == 0xf4)
		hi = 0x8f;
	if (n && (s[1] < lo || s[1] > hi))
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* s as a JSON string: quotes, backslashes and control characters escaped,
 * bytes that are no UTF-8 as U+FFFD (a path may be any bytes). */
static void json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	fputc('"', f);
	while (*p) {
		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			fputc(*p++, f);
		} else if ((n = utf8_len(p))) {
			fwrite(p, 1, n, f);
			p += n;
		} else {
			fputs("\\ufffd", f);
			p++;
		}
	}
	fputc('"', f);
}

/* One "name": count pair of a section; first: no comma before it. */
static void json_count(FILE *f, const char *name, atomic_ulong *v, int first)
{
	fprintf(f, "%s\n    \"%s\": %lu", first ? "" : ",", name, load(v));
}

static void json_ops(FILE *f, struct xipfsd_stats *s)
{
	fputs("  \"ops\": {", f);
	for (int op = 0; op < XOP_COUNT; op++)
		json_count(f, op_names[op], &s->ops[op], op == 0);
	fputs("\n  },\n", f);
}

static void json_read(FILE *f, struct xipfsd *d)
{
	struct xipfsd_stats *s = &d->stats;

	fprintf(f, "  \"read\": {\n    \"mode\": \"%s\",",
		d->splice ? "splice" : "copy");
	json_count(f, "copy_bytes", &s->bytes_copy, 1);
	json_count(f, "splice_bytes", &s->bytes_splice, 0);
	json_count(f, "packed_bytes", &s->bytes_packed, 0);
	json_count(f, "compressed_bytes", &s->bytes_compressed, 0);
	json_count(f, "clusters", &s->clusters, 0);
	json_count(f, "uring_reads", &s->uring_reads, 0);
	/* the mapping dropped from the daemon's RSS (resident.c) */
	json_count(f, "trims", &s->trims, 0);
	/* of copy_bytes and packed_bytes: copied through a buffer first,
	 * from a source the kernel cannot pin (bounce.c) */
	json_count(f, "bounce_bytes", &s->bytes_bounce, 0);
	/* of copy_bytes and packed_bytes: served from the copy verify
	 * checked them in (verify.c) */
	json_count(f, "checked_bytes", &s->bytes_checked, 0);
	fprintf(f, ",\n    \"bounce\": %s", d->bounce ? "true" : "false");
	fputs("\n  },\n", f);
}

/* The features' counters, each section with its "on". */
static void json_features(FILE *f, struct xipfsd *d)
{
	struct xipfsd_stats *s = &d->stats;

	fprintf(f, "  \"verify\": {\n    \"on\": %s,",
		xipfsd_verify_on(d) ? "true" : "false");
	json_count(f, "blocks_checked", &s->crc_blocks, 1);
	json_count(f, "blocks_failed", &s->crc_failures, 0);
	fprintf(f, "\n  },\n  \"passthrough\": {\n    \"on\": %s,",
		d->passthrough_active ? "true" : "false");
	json_count(f, "opens", &s->passthrough_opens, 1);
	json_count(f, "backing_live", &s->backing_live, 0);
	json_count(f, "fallbacks", &s->fallbacks, 0);
	json_count(f, "below_min", &s->passthrough_small, 0);
	json_count(f, "damaged", &s->passthrough_damaged, 0);
	fprintf(f, "\n  },\n  \"push\": {\n    \"on\": %s,",
		xipfsd_push_on(d) ? "true" : "false");
	json_count(f, "files", &s->push_files, 1);
	json_count(f, "bytes", &s->push_bytes, 0);
	json_count(f, "missed", &s->push_missed, 0);
	json_count(f, "unknown", &s->push_unknown, 0);
	json_count(f, "damaged", &s->push_damaged, 0);
	fputs("\n  }\n", f);
}

struct record {
	struct xipfsd *d;
	const char *when;
};

static int write_record(void *ctx, FILE *f)
{
	struct record *r = ctx;

	fprintf(f, "{\n  \"version\": %d,\n  \"source\": ",
		STATS_RECORD_VERSION);
	json_string(f, r->d->source);
	fprintf(f, ",\n  \"when\": \"%s\",\n  \"lost\": %lu,\n",
		r->when, load(&r->d->stats.lost));
	xipfsd_remote_json(f, r->d);
	json_ops(f, &r->d->stats);
	json_read(f, r->d);
	json_features(f, r->d);
	fputs("}\n", f);
	return 0;
}

/* -o stats=FILE, replaced whole; when: "unmount" or "SIGUSR1". */
void xipfsd_stats_record(struct xipfsd *d, const char *when)
{
	struct record r = { d, when };
	int err = xipfsd_outfile_replace(&d->stats_file, write_record, &r);

	if (err)
		fuse_log(FUSE_LOG_ERR, "xipfs: stats=%s: cannot write it: %s\n",
			 d->stats_file.shown, strerror(-err));
}

/* The thread that reports on SIGUSR1. */
struct xipfsd_reporter {
	pthread_t thread;
};

/* sigwait() in a thread of its own: the report may take locks and log,
 * and the profile is written here.  Cancelled at unmount, but never in
 * the middle of a report (a half-written profile, a held lock).  Only
 * SIGUSR1 is taken here, by sigwait(): the thread starts with every
 * signal blocked (xipfsd_thread_start), since a SIGTERM or SIGHUP handled
 * here would mark the session exited but wake neither the main thread
 * nor a worker, and the daemon would not end. */
static void *report_on_signal(void *arg)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		xipfsd_stats_report(arg, "SIGUSR1");
		xipfsd_stats_record(arg, "SIGUSR1");
		xipfsd_profile_write(arg, "on SIGUSR1");
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	}
	return NULL;
}

/*
 * Block SIGUSR1 in this thread, so that every thread started after it
 * (libfuse's workers) inherits the mask and only the reporter takes it.
 * -1 with errno set.
 */
int xipfsd_stats_start(struct xipfsd *d)
{
	struct xipfsd_reporter *r;
	sigset_t set;
	int err;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	err = pthread_sigmask(SIG_BLOCK, &set, NULL);
	r = err ? NULL : calloc(1, sizeof(*r));
	if (!err && !r)
		err = ENOMEM;
	if (!err)
		err = xipfsd_thread_start(&r->thread, report_on_signal, d);
	if (err) {
		free(r);
		errno = err;
		return -1;
	}
	d->reporter = r;
	return 0;
}

void xipfsd_stats_stop(struct xipfsd *d)
{
	if (!d->reporter)
		return;
	/* sigwait is a cancellation point */
	pthread_cancel(d->reporter->thread);
	pthread_join(d->reporter->thread, NULL);
	free(d->reporter);
	d->reporter = NULL;
}
