/* SPDX-License-Identifier: MIT */
/*
 * The source reader: a regular file's bytes as the input holds them, for
 * the phases that read file data (select.c looks at a file's first bytes;
 * data.c and zdata.c copy, hash and compare whole files).  It is the end
 * of the data phase's chain of calls: it calls nothing of theirs.
 *
 * A file comes from the tar spool (tar input) or from the source tree,
 * opened below its parent directory and checked to be what the scan saw.
 * Files are visited in inode order, which keeps a directory's files
 * together, so the reader keeps the last parent directory open.  It owns
 * no data buffer: each caller reads into memory of its own, so that
 * looking at 18 bytes costs no more than 18 bytes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mkxipfs.h"

void source_init(struct source *s, struct build *c)
{
	*s = (struct source){ .c = c, .dir_fd = -1, .dir_node = NONE };
}

void source_free(struct source *s)
{
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	s->dir_fd = -1;
	s->dir_node = NONE;
}

/* Path of a node for messages: SOURCE/relative path. */
static char *src_path(const struct build *c, uint32_t id)
{
	char *rel = node_relpath(c, id);
	size_t sl = strlen(c->opt.source), len = sl + strlen(rel) + 2;
	char *full = xmalloc(len);

	snprintf(full, len, "%s%s%s", c->opt.source,
		 sl && c->opt.source[sl - 1] == '/' ? "" : "/", rel);
	free(rel);
	return full;
}

int source_err(struct build *c, uint32_t id, const char *what)
{
	char *path = src_path(c, id);

	if (what)
		msg_err(path, "%s", what);
	else
		msg_source_errno(c, path, errno);
	free(path);
	return -1;
}

/* The directory holding a source file, cached (see the top). */
static int parent_fd(struct source *s, uint32_t dir)
{
	struct build *c = s->c;
	char *rel;

	if (dir == c->root)
		return c->root_fd;
	if (s->dir_fd >= 0 && s->dir_node == dir)
		return s->dir_fd;
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	rel = node_relpath(c, dir);
	s->dir_fd = openat(c->root_fd, rel, O_RDONLY | O_DIRECTORY |
			   O_NOFOLLOW | O_CLOEXEC);
	free(rel);
	s->dir_node = s->dir_fd >= 0 ? dir : NONE;
	return s->dir_fd;
}

int source_open(struct source *s, uint32_t id, struct src_file *f)
{
	struct build *c = s->c;
	const struct xnode *n = &c->nodes[id];
	const struct xent *e = &c->ents[n->entry];
	char name[XIPFS_NAME_MAX + 1];
	struct stat st;
	int dfd;

	*f = (struct src_file){ .node = id, .fd = -1, .size = n->size };
	if (n->flags & XN_SPOOLED) {
		f->fd = c->spool_fd;
		f->off = n->u.src;
		return 0;
	}
	memcpy(name, e->name, e->name_len);
	name[e->name_len] = '\0';
	dfd = parent_fd(s, e->parent);
	f->fd = dfd < 0 ? -1 : openat(dfd, name, O_RDONLY | O_NOFOLLOW |
				       O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (f->fd < 0 || fstat(f->fd, &st) < 0) {
		source_err(c, id, NULL);
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != n->size) {
		source_err(c, id, "changed since it was scanned");
		goto fail;
	}
	return 0;
fail:
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	return -1;
}

int source_close(struct source *s, struct src_file *f, int check)
{
	struct stat st;
	int r = 0;

	if (f->fd < 0 || f->fd == s->c->spool_fd)
		return 0;
	if (check && (fstat(f->fd, &st) < 0 || (uint64_t)st.st_size != f->size))
		r = source_err(s->c, f->node, "file changed size while reading");
	close(f->fd);
	f->fd = -1;
	return r;
}

int source_read(struct build *c, const struct src_file *f, void *buf,
		size_t len, uint64_t at)
{
	uint64_t off = f->off + at;

	while (len) {
		ssize_t n = pread(f->fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return source_err(c, f->node, n ? NULL :
					  "file changed size while reading");
		buf = (uint8_t *)buf + n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int source_hash(struct build *c, const struct src_file *f, uint8_t *buf,
		uint64_t *hash)
{
	uint64_t done = 0;
	struct hasher hs;

	hash_init(&hs, 0);
	while (done < f->size) {
		size_t len = f->size - done < IO_CHUNK ? f->size - done :
			     IO_CHUNK;

		if (source_read(c, f, buf, len, done) < 0)
			return -1;
		hash_update(&hs, buf, len);
		done += len;
	}
	*hash = hash_final(&hs);
	return 0;
}
