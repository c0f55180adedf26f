/* SPDX-License-Identifier: MIT */
/* outfile.c: a file the daemon replaces whole, in a directory opened at
 * mount (never resolved by path again). */
#ifndef XIPFSD_OUTFILE_H
#define XIPFSD_OUTFILE_H

#include <pthread.h>
#include <stdio.h>

struct xipfsd_outfile {
	int dirfd;		/* FILE's directory, opened at mount */
	char *name;		/* FILE's last component; NULL: no file */
	char *shown;		/* FILE as given, for messages */
	pthread_mutex_t lock;	/* one writer at a time */
};

/* What goes into the file: 0, or -1 with errno set. */
typedef int (*xipfsd_outfile_fill_fn)(void *ctx, FILE *f);

/* At mount, for -o OPT=FILE: 0, or -1 after a message on stderr. */
int xipfsd_outfile_open(struct xipfsd_outfile *o, const char *opt,
			const char *file);
/* Replace the file with what fill writes: 0 (also with no file), or a
 * negative errno; the old file stays on any failure. */
int xipfsd_outfile_replace(struct xipfsd_outfile *o,
			   xipfsd_outfile_fill_fn fill, void *ctx);
void xipfsd_outfile_close(struct xipfsd_outfile *o);

#endif /* XIPFSD_OUTFILE_H */
