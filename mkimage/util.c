/* SPDX-License-Identifier: MIT */
/* Messages, allocation that cannot fail quietly, and the string pool. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mkxipfs.h"

static void vmsg(const char *path, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void vmsg(const char *path, const char *fmt, va_list ap)
{
	fputs("mkxipfs: ", stderr);
	if (path)
		fprintf(stderr, "%s: ", path);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void msg_err(const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(path, fmt, ap);
	va_end(ap);
}

void msg_errno(const char *path, int err)
{
	msg_err(path, "%s", strerror(err));
}

/*
 * An error reading the source tree.  A tree this user may not read (a
 * root filesystem with root-only files, most often) gets, once, what to
 * do about it besides the error.
 */
void msg_source_errno(struct build *c, const char *path, int err)
{
	msg_errno(path, err);
	if ((err != EACCES && err != EPERM) || c->opt.tar || c->told_how)
		return;
	c->told_how = 1;
	fprintf(stderr, "mkxipfs: hint: this user cannot read all of %s; run "
		"mkxipfs as root, or make a tar of the tree as root or under "
		"fakeroot (tar -C %s -cf tree.tar .) and build from it: "
		"mkxipfs --tar tree.tar %s\n", c->opt.source, c->opt.source,
		c->opt.image);
}

void msg_warn(const struct build *c, const char *path, const char *fmt, ...)
{
	va_list ap;

	if (c->opt.quiet)
		return;
	fputs("mkxipfs: warning: ", stderr);
	if (path)
		fprintf(stderr, "%s: ", path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void msg_info(const struct build *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->opt.verbose)
		return;
	va_start(ap, fmt);
	vmsg(NULL, fmt, ap);
	va_end(ap);
}

/* Running out of memory while building is not recoverable in any useful
 * way; say so and leave (the exit path removes the temporary image). */
static _Noreturn void oom(void)
{
	msg_err(NULL, "out of memory");
	exit(1);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc_array(void *p, size_t n, size_t size)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes))
		oom();
	p = realloc(p, bytes ? bytes : 1);
	if (!p)
		oom();
	return p;
}

#define POOL_CHUNK (1u << 20)

const char *pool_add(struct strpool *p, const char *s, size_t len)
{
	char *dst;

	if (p->used + len > p->cap) {
		size_t cap = len > POOL_CHUNK ? len : POOL_CHUNK;

		p->chunks = xrealloc_array(p->chunks, p->nchunks + 1,
					   sizeof(*p->chunks));
		p->chunk = xmalloc(cap);
		p->chunks[p->nchunks++] = p->chunk;
		p->used = 0;
		p->cap = cap;
	}
	dst = p->chunk + p->used;
	memcpy(dst, s, len);
	p->used += len;
	return dst;
}

void pool_free(struct strpool *p)
{
	for (size_t i = 0; i < p->nchunks; i++)
		free(p->chunks[i]);
	free(p->chunks);
	memset(p, 0, sizeof(*p));
}

uint64_t round_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) & ~(align - 1);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Call fn on each line of file (newline kept, len bytes, number no);
 * stop at its first nonzero return.  Reading errors say file. */
int for_each_line(const char *file, line_fn *fn, void *arg)
{
	FILE *f = fopen(file, "re");
	char *line = NULL;
	size_t cap = 0;
	unsigned long no = 0;
	ssize_t len;
	int r = 0;

	if (!f) {
		msg_errno(file, errno);
		return -1;
	}
	while (r == 0 && (len = getline(&line, &cap, f)) >= 0)
		r = fn(arg, line, (size_t)len, ++no);
	if (r == 0 && ferror(f)) {
		msg_errno(file, errno);
		r = -1;
	}
	free(line);
	fclose(f);
	return r;
}
