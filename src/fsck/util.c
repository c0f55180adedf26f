/* SPDX-License-Identifier: MIT */
/* xipfsck helpers: messages, paths, escaping, parsing, mode strings. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsck.h"

__attribute__((format(printf, 2, 0)))
static void vmessage(const char *path, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", FSCK_PROG);
	if (path)
		fprintf(stderr, "%s: ", path);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* A message must not run on from a progress line. */
static void clear_progress(struct fsck_ctx *ctx)
{
	if (!ctx->progress_drawn)
		return;
	fputs("\r\033[K", stderr);
	ctx->progress_drawn = 0;
}

/* An error: recorded in the exit status, printed unless -q. */
void fsck_err(struct fsck_ctx *ctx, int exit_bit, const char *path,
	      const char *fmt, ...)
{
	va_list ap;

	ctx->status |= exit_bit;
	if (ctx->quiet)
		return;
	clear_progress(ctx);
	va_start(ap, fmt);
	vmessage(path, fmt, ap);
	va_end(ap);
}

/* A warning or note: printed unless -q, never changes the exit status. */
void fsck_note(struct fsck_ctx *ctx, const char *path, const char *fmt, ...)
{
	va_list ap;

	if (ctx->quiet)
		return;
	clear_progress(ctx);
	va_start(ap, fmt);
	vmessage(path, fmt, ap);
	va_end(ap);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Look at the clock once per this many bytes done, not per block. */
#define PROGRESS_STEP		(8u << 20)
#define PROGRESS_DELAY_NS	1000000000u
#define PROGRESS_PERIOD_NS	100000000u

void fsck_progress_start(struct fsck_progress *pr, struct fsck_ctx *ctx,
			 const char *what, uint64_t total)
{
	memset(pr, 0, sizeof(*pr));
	pr->ctx = ctx;
	pr->what = what;
	pr->total = total;
	pr->enabled = !ctx->quiet && isatty(STDERR_FILENO) && total > 0;
	pr->next_look = PROGRESS_STEP;
	if (pr->enabled)
		pr->start_ns = now_ns();
}

void fsck_progress_add(struct fsck_progress *pr, uint64_t n)
{
	uint64_t now;

	pr->done += n;
	if (!pr->enabled || pr->done < pr->next_look)
		return;
	pr->next_look = pr->done + PROGRESS_STEP;
	now = now_ns();
	if (now - pr->start_ns < PROGRESS_DELAY_NS ||
	    now - pr->drawn_ns < PROGRESS_PERIOD_NS)
		return;
	pr->drawn_ns = now;
	fprintf(stderr, "\r%s: %s %3u%% (%" PRIu64 " of %" PRIu64 " MiB)"
		"\033[K", FSCK_PROG, pr->what,
		(unsigned)(pr->done >= pr->total ? 100 :
			   pr->done * 100 / pr->total),
		pr->done >> 20, pr->total >> 20);
	fflush(stderr);
	pr->ctx->progress_drawn = 1;
}

void fsck_progress_end(struct fsck_progress *pr)
{
	clear_progress(pr->ctx);
}

/* Which exit bit a library return code deserves. */
int fsck_err_exit_bit(int err)
{
	return xipfs_is_corruption(err) ? FSCK_EXIT_CORRUPT
					: FSCK_EXIT_OPERATIONAL;
}

int pathbuf_init(struct pathbuf *pb, const char *start)
{
	size_t len = strlen(start);

	pb->cap = len + 256;
	pb->buf = malloc(pb->cap);
	if (!pb->buf)
		return -ENOMEM;
	memcpy(pb->buf, start, len + 1);
	pb->len = len;
	return 0;
}

/*
 * Append "/name" (no slash doubled after a trailing one, so the root "/"
 * grows into "/a").  *saved_len lets the caller pop back afterwards.
 */
int pathbuf_push(struct pathbuf *pb, const char *name, size_t len,
		 size_t *saved_len)
{
	int need_slash = pb->len == 0 || pb->buf[pb->len - 1] != '/';
	size_t want = pb->len + (size_t)need_slash + len + 1;

	if (want > pb->cap) {
		size_t cap = pb->cap * 2 > want ? pb->cap * 2 : want;
		char *p = realloc(pb->buf, cap);

		if (!p)
			return -ENOMEM;
		pb->buf = p;
		pb->cap = cap;
	}
	*saved_len = pb->len;
	if (need_slash)
		pb->buf[pb->len++] = '/';
	memcpy(pb->buf + pb->len, name, len);
	pb->len += len;
	pb->buf[pb->len] = '\0';
	return 0;
}

void pathbuf_pop(struct pathbuf *pb, size_t saved_len)
{
	pb->len = saved_len;
	pb->buf[saved_len] = '\0';
}

void pathbuf_free(struct pathbuf *pb)
{
	free(pb->buf);
	pb->buf = NULL;
	pb->len = pb->cap = 0;
}

/*
 * Names and symlink targets are arbitrary bytes; a newline or an escape
 * sequence in one must not forge a line or drive the terminal.  Printable
 * ASCII passes, backslash doubles, everything else becomes \ooo (as ls -b).
 */
static size_t escape_into(char *out, const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\') {
			if (out) {
				out[n] = '\\';
				out[n + 1] = '\\';
			}
			n += 2;
		} else if (c >= 0x20 && c < 0x7f) {
			if (out)
				out[n] = (char)c;
			n++;
		} else {
			if (out) {
				out[n] = '\\';
				out[n + 1] = (char)('0' + (c >> 6));
				out[n + 2] = (char)('0' + ((c >> 3) & 7));
				out[n + 3] = (char)('0' + (c & 7));
			}
			n += 4;
		}
	}
	return n;
}

void fsck_print_escaped(FILE *out, const char *s, size_t len)
{
	char tmp[4 * 64 + 1];

	/* in slices, so no allocation is needed for long names */
	while (len) {
		size_t take = len < 64 ? len : 64;
		size_t n = escape_into(tmp, s, take);

		fwrite(tmp, 1, n, out);
		s += take;
		len -= take;
	}
}

/* A NUL-terminated escaped copy for messages; NULL when out of memory. */
char *fsck_escape_dup(const char *s, size_t len)
{
	size_t n = escape_into(NULL, s, len);
	char *out = malloc(n + 1);

	if (!out)
		return NULL;
	escape_into(out, s, len);
	out[n] = '\0';
	return out;
}

static char type_char(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR: return 'd';
	case S_IFLNK: return 'l';
	case S_IFCHR: return 'c';
	case S_IFBLK: return 'b';
	case S_IFIFO: return 'p';
	case S_IFSOCK: return 's';
	case S_IFREG: return '-';
	default: return '?';
	}
}

/* "drwxr-xr-x", with s/S and t/T for the set-id and sticky bits, as ls. */
void fsck_mode_string(uint32_t mode, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";

	out[0] = type_char(mode);
	for (int i = 0; i < 9; i++)
		out[1 + i] = (mode & (0400u >> i)) ? rwx[i] : '-';
	if (mode & S_ISUID)
		out[3] = (mode & S_IXUSR) ? 's' : 'S';
	if (mode & S_ISGID)
		out[6] = (mode & S_IXGRP) ? 's' : 'S';
	if (mode & S_ISVTX)
		out[9] = (mode & S_IXOTH) ? 't' : 'T';
	out[10] = '\0';
}

/* "2024-01-01 00:00:00" in UTC, or "@SECONDS" when gmtime cannot say. */
void fsck_format_time(int64_t sec, uint32_t nsec, int with_nsec, char *out,
		      size_t size)
{
	struct tm tm;
	time_t t = (time_t)sec;
	size_t n;

	if ((int64_t)t != sec || !gmtime_r(&t, &tm) ||
	    (n = strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm)) == 0) {
		snprintf(out, size, "@%" PRId64, sec);
		return;
	}
	if (with_nsec)
		snprintf(out + n, size - n, ".%09" PRIu32, nsec);
}

int inode_bits_init(struct inode_bits *b, uint32_t inode_count)
{
	b->count = inode_count;
	b->bits = calloc((size_t)inode_count / 8 + 1, 1);
	return b->bits ? 0 : -ENOMEM;
}

int inode_bits_test_set(struct inode_bits *b, uint32_t ino)
{
	uint32_t i;
	int was;

	if (ino == 0 || ino > b->count)
		return 1;	/* out of range: treat as seen, never enter */
	i = ino - 1;
	was = (b->bits[i / 8] >> (i % 8)) & 1;
	b->bits[i / 8] |= (uint8_t)(1u << (i % 8));
	return was;
}

void inode_bits_free(struct inode_bits *b)
{
	free(b->bits);
	b->bits = NULL;
}
