/* SPDX-License-Identifier: MIT */
/*
 * -o profile=FILE: which files the mount's users ran and read, written as
 * a list mkxipfs --xip-list takes unchanged, for profile-guided XIP (the
 * files that are executed stay uncompressed and mappable).
 *
 * FUSE never sees mmap, so what it does see stands in for it: an OPEN
 * whose flags carry the kernel's __FMODE_EXEC (execve opens a program so;
 * measured on kernel 6.18: flags 0100040 for an exec, 0100000 for an
 * open(2) for reading), and READs of files that start with an ELF header
 * (the dynamic loader reads a shared object's headers before it maps it).
 * Per image inode: a byte of flags and a saturating 32-bit count of the
 * bytes READ served, updated with atomic ops by the handlers.  Reads the
 * page cache answers are not seen, and push-ahead fills the page cache
 * before a file is read at all: so every OPEN marks its file as used (the
 * profile forces OPEN requests on), and a file pushed and then opened is
 * listed like one that was READ.
 *
 * The file is written at unmount and on SIGUSR1 (by the thread that
 * sigwait()s for it, never in a signal handler), replaced whole through
 * outfile.c: in FILE's directory as opened at mount, never by path again
 * (a root daemon's profile may sit in a directory a user controls, who
 * could otherwise swap in a symlink and have root write where it points).
 * Paths come from a walk of the image at that moment (paths.c).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "xipfsd.h"

/* The kernel's __FMODE_EXEC, as it arrives in OPEN's flags; no libc header
 * names it (it is not an open(2) flag). */
#define KERNEL_FMODE_EXEC	040

/*
 * What each image inode was used for: a byte of PROFILE_* flags and the
 * bytes READ served (saturating at UINT32_MAX), five bytes an inode.
 */
#define PROFILE_EXEC	0x1	/* opened for execve() */
#define PROFILE_READ	0x2	/* READ served bytes of it */
#define PROFILE_OPEN	0x4	/* opened: used, whether or not a READ
				 * follows (push-ahead or the page cache
				 * may serve every byte) */
struct xipfsd_profile {
	struct xipfsd_outfile out;	/* FILE, in its directory */
	atomic_uchar *flags;		/* [inode_count + 1] */
	atomic_uint *bytes;		/* [inode_count + 1] */
};

int xipfsd_profile_setup(struct xipfsd *d, const char *file)
{
	struct xipfsd_profile *p;
	size_t n = (size_t)d->img.inode_count + 1;

	if (!file)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p) {
		fprintf(stderr, "xipfs: profile=%s: out of memory\n", file);
		return -1;
	}
	if (xipfsd_outfile_open(&p->out, "profile", file)) {
		free(p);
		return -1;
	}
	d->profile = p;
	p->flags = calloc(n, sizeof(*p->flags));
	p->bytes = calloc(n, sizeof(*p->bytes));
	if (!p->flags || !p->bytes) {
		fprintf(stderr, "xipfs: profile=%s: out of memory\n", file);
		xipfsd_profile_free(d);
		return -1;
	}
	return 0;
}

void xipfsd_profile_free(struct xipfsd *d)
{
	if (!d->profile)
		return;
	xipfsd_outfile_close(&d->profile->out);
	free(d->profile->flags);
	free(d->profile->bytes);
	free(d->profile);
	d->profile = NULL;
}

/* Every OPEN counts as use: the READs that would tell may never come. */
void xipfsd_profile_open(struct xipfsd *d, uint32_t ino, int flags)
{
	unsigned char used = PROFILE_OPEN;

	if (flags & KERNEL_FMODE_EXEC)
		used |= PROFILE_EXEC;
	if (d->profile && ino <= d->img.inode_count)
		atomic_fetch_or_explicit(&d->profile->flags[ino], used,
					 memory_order_relaxed);
}

void xipfsd_profile_read(struct xipfsd *d, uint32_t ino, size_t bytes)
{
	atomic_uint *count;
	unsigned int old, sum;

	if (!d->profile || ino > d->img.inode_count || bytes == 0)
		return;
	atomic_fetch_or_explicit(&d->profile->flags[ino], PROFILE_READ,
				 memory_order_relaxed);
	count = &d->profile->bytes[ino];
	old = atomic_load_explicit(count, memory_order_relaxed);
	do {
		sum = bytes >= UINT32_MAX - old ? UINT32_MAX :
						  old + (unsigned int)bytes;
	} while (sum != old &&
		 !atomic_compare_exchange_weak_explicit(count, &old, sum,
							memory_order_relaxed,
							memory_order_relaxed));
}

/* One write of the profile: the open temporary file, and what the walk
 * needs besides (the inodes already listed: hard links list once). */
struct writer {
	struct xipfsd *d;
	const char *when;	/* "on SIGUSR1", "at unmount" */
	FILE *f;
	struct xipfs_zctx *z;
	uint8_t *listed;	/* a bit per inode */
	unsigned long files, xip;
};

/* Its first bytes, through the one read entry (checked with -o verify,
 * quietly: a READ names a bad block). */
static int starts_elf(struct writer *w, const struct xipfs_inode_info *inode)
{
	struct xipfsd *d = w->d;
	struct xipfs_file f;
	const uint8_t *head;

	return !xipfs_file_open(&d->img, inode, &f) &&
	       xipfs_file_pread(&d->img, &f, 0, 4,
				xipfsd_verify_on(d) ? XIPFS_READ_VERIFY : 0, w->z,
				&head) == 4 &&
	       !memcmp(head, "\177ELF", 4);
}

/* The longest line mkxipfs --xip-list takes. */
#define LIST_LINE_MAX	4095

/*
 * path as a line mkxipfs --xip-list reads back as that one path: a
 * backslash before each of "*?[\\" (else the line is an fnmatch(3)
 * pattern), and a leading '/' (which it drops) where the name starts with
 * a blank or a '#' (else it is blank or a comment).  0, or -1 when the
 * line would be too long for it.
 */
static int list_line(const char *path, char *line)
{
	size_t n = 0;

	if (*path == ' ' || *path == '\t' || *path == '#')
		line[n++] = '/';
	for (const char *p = path; *p; p++) {
		if (n + 2 > LIST_LINE_MAX)
			return -1;
		if (strchr("*?[\\", *p))
			line[n++] = '\\';
		line[n++] = *p;
	}
	line[n] = '\0';
	return 0;
}

/*
 * One line a file for mkxipfs --xip-list, after a comment saying what was
 * seen; a file that was only read, and is no ELF file, is a comment only
 * (keeping it XIP buys nothing: AXFS's finding), for the reader to take
 * up by hand.  A name with a newline cannot be a line: it is left out.
 */
static int write_one(void *ctx, const char *path,
		     const struct xipfs_inode_info *inode)
{
	struct writer *w = ctx;
	uint32_t ino = inode->ino;
	unsigned int flags, bytes;
	char line[LIST_LINE_MAX + 1];
	int elf;

	if (!S_ISREG(inode->mode) || ino > w->d->img.inode_count ||
	    (w->listed[ino / 8] & (1u << (ino % 8))))
		return 0;
	flags = atomic_load_explicit(&w->d->profile->flags[ino],
				     memory_order_relaxed);
	if (!flags)
		return 0;
	w->listed[ino / 8] |= (uint8_t)(1u << (ino % 8));
	bytes = atomic_load_explicit(&w->d->profile->bytes[ino],
				     memory_order_relaxed);
	elf = starts_elf(w, inode);
	w->files++;
	if (strchr(path, '\n') || list_line(path, line)) {
		fprintf(w->f, "# inode %u: a name with a newline, or too long, "
			"left out\n", ino);
		return 0;
	}
	if (!(flags & PROFILE_EXEC) && !elf) {
		fprintf(w->f, "# read=%u, not ELF: %s\n", bytes, path);
		return 0;
	}
	w->xip++;
	fprintf(w->f, "#%s%s read=%u%s\n%s\n",
		flags & PROFILE_EXEC ? " exec" : "", elf ? " elf" : "",
		bytes, bytes == UINT32_MAX ? "+" : "", line);
	return 0;
}

/* The walk, in a SIGBUS guard of its own: -EIO when the source is lost. */
static int write_entries(struct writer *w)
{
	struct xipfsd_guard g;
	int err;

	xipfsd_guard_current = &g;
	if (sigsetjmp(g.env, 0))
		return -EIO;	/* the handler cleared the guard */
	err = xipfsd_walk(w->d, write_one, w);
	xipfsd_guard_end();
	return err < 0 ? err : 0;
}

static void write_header(struct writer *w, const char *when)
{
	time_t now = time(NULL);
	char stamp[64];

	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
	fprintf(w->f, "# xipfs profile of %s, written %s (%s)\n"
		"# For mkxipfs --xip-list: one path a line, relative to the "
		"image root.\n"
		"# Listed: files opened for execution (exec) and ELF files "
		"read (elf);\n"
		"# read=N: bytes READ served (page-cache hits and pushed "
		"bytes not seen;\n"
		"# every file opened counts as used).  Files only read that "
		"are no ELF\n"
		"# files are in comments.\n",
		w->d->source, when, stamp);
}

/* outfile.c's fill: the header, a line a file, the total; 0, or -1 with
 * errno set (EIO: a lost source or a damaged root). */
static int write_profile(void *ctx, FILE *f)
{
	struct writer *w = ctx;
	size_t map = (size_t)w->d->img.inode_count / 8 + 1;
	int err;

	w->f = f;
	w->listed = calloc(map, 1);
	w->z = xipfs_zctx_new();
	if (!w->listed || !w->z) {
		err = -1;
		errno = ENOMEM;
	} else {
		write_header(w, w->when);
		err = write_entries(w);
		if (err == -EIO)
			xipfsd_say_lost(w->d);
		if (err)
			errno = EIO;
		else
			fprintf(f, "# %lu files used, %lu listed\n",
				w->files, w->xip);
	}
	free(w->listed);
	xipfs_zctx_free(w->z);
	w->listed = NULL;
	w->z = NULL;
	return err ? -1 : 0;
}

void xipfsd_profile_write(struct xipfsd *d, const char *when)
{
	struct xipfsd_profile *p = d->profile;
	struct writer w = { .d = d, .when = when };
	int err;

	if (!p)
		return;
	err = xipfsd_outfile_replace(&p->out, write_profile, &w);
	if (err)
		fuse_log(FUSE_LOG_ERR, "xipfs: profile=%s: cannot write it: "
			 "%s\n", p->out.shown, strerror(-err));
	else if (d->verbose)
		fuse_log(FUSE_LOG_NOTICE, "xipfs: %s: profile written to %s "
			 "(%s): %lu files used, %lu listed\n", d->source,
			 p->out.shown, when, w.files, w.xip);
}
