/* SPDX-License-Identifier: MIT */
/*
 * Directory input: a depth-first walk with one directory fd per level
 * (openat/fstatat, never following symlinks), hard links found by source
 * (dev, ino), xattrs read with llistxattr/lgetxattr on the full path.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "mkxipfs.h"

/* The full path of the entry being looked at, for messages and xattrs;
 * rel is where the path relative to the root starts. */
struct pathbuf {
	char *s;
	size_t len, cap, rel;
};

/* Multiply-linked source files seen so far, found by (dev, ino). */
struct linkmap {
	struct linkent {
		dev_t dev;
		ino_t ino;
		uint32_t node;
	} *v;
	size_t n, cap;
	struct htable index;	/* hash of (dev, ino) -> index in v */
};

struct scan {
	struct build *c;
	struct pathbuf path;
	struct linkmap links;
	struct xa_list xa;
	char *xbuf, *vbuf;	/* listxattr / getxattr buffers */
	size_t xbuf_cap, vbuf_cap;
};

static size_t path_push(struct pathbuf *p, const char *name)
{
	size_t old = p->len, nl = strlen(name);

	if (p->len + nl + 2 > p->cap) {
		p->cap = (p->len + nl + 2) * 2;
		p->s = xrealloc_array(p->s, p->cap, 1);
	}
	if (p->len && p->s[p->len - 1] != '/')
		p->s[p->len++] = '/';
	memcpy(p->s + p->len, name, nl + 1);
	p->len += nl;
	return old;
}

static const char *relpath(const struct pathbuf *p)
{
	const char *r = p->s + p->rel;

	return *r == '/' ? r + 1 : r;
}

static uint64_t link_hash(dev_t dev, ino_t ino)
{
	return hash_buf(dev, &ino, sizeof(ino));
}

/* The node made for the source inode of st, or NONE. */
static uint32_t link_find(const struct linkmap *m, const struct stat *st)
{
	struct ht_iter it;

	for (uint32_t i = ht_first(&m->index, link_hash(st->st_dev,
							 st->st_ino), &it);
	     i != NONE; i = ht_next(&m->index, &it))
		if (m->v[i].dev == st->st_dev && m->v[i].ino == st->st_ino)
			return m->v[i].node;
	return NONE;
}

static void link_add(struct linkmap *m, const struct stat *st, uint32_t node)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 256;
		m->v = xrealloc_array(m->v, m->cap, sizeof(*m->v));
	}
	m->v[m->n] = (struct linkent){ st->st_dev, st->st_ino, node };
	ht_insert(&m->index, link_hash(st->st_dev, st->st_ino),
		  (uint32_t)m->n++);
}

static ssize_t grow_call(char **buf, size_t *cap,
			 ssize_t (*fn)(const char *, const char *, char *,
				       size_t),
			 const char *path, const char *name)
{
	for (;;) {
		ssize_t n = fn(path, name, NULL, 0);

		if (n <= 0)
			return n;
		if ((size_t)n > *cap) {
			*cap = (size_t)n * 2;
			free(*buf);
			*buf = xmalloc(*cap);
		}
		n = fn(path, name, *buf, *cap);
		if (n >= 0 || errno != ERANGE)
			return n;
	}
}

static ssize_t do_list(const char *path, const char *unused, char *buf,
		       size_t size)
{
	(void)unused;
	return llistxattr(path, buf, size);
}

static ssize_t do_get(const char *path, const char *name, char *buf,
		      size_t size)
{
	return lgetxattr(path, name, buf, size);
}

/* Read an entry's xattrs into a blob; failures cost the attribute, with a
 * warning, not the build. */
static int read_xattrs(struct scan *s, uint32_t *blob)
{
	struct build *c = s->c;
	const char *path = s->path.s;
	ssize_t n = grow_call(&s->xbuf, &s->xbuf_cap, do_list, path, NULL);
	int r;

	*blob = 0;
	if (n < 0 && errno != ENOTSUP)
		msg_warn(c, path, "cannot list xattrs: %s", strerror(errno));
	if (n <= 0)
		return 0;
	for (char *name = s->xbuf; name < s->xbuf + n;
	     name += strlen(name) + 1) {
		ssize_t v;

		if (!xattr_name_ok(name)) {
			msg_warn(c, path, "xattr %s not stored", name);
			continue;
		}
		v = grow_call(&s->vbuf, &s->vbuf_cap, do_get, path, name);
		if (v < 0) {
			if (errno != ENODATA)
				msg_warn(c, path, "cannot read xattr %s: %s",
					 name, strerror(errno));
			continue;
		}
		if (xa_add(&s->xa, path, name, s->vbuf, (size_t)v) < 0) {
			xa_clear(&s->xa);
			return -1;
		}
	}
	r = xa_intern(c, &s->xa, path, blob);
	xa_clear(&s->xa);
	return r;
}

static void set_meta(struct build *c, struct xnode *n, const struct stat *st)
{
	n->mode = st->st_mode;
	n->uid = st->st_uid;
	n->gid = st->st_gid;
	apply_owner(c, n);
	n->mtime = st->st_mtim.tv_sec;
	n->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	n->flags &= ~(uint32_t)XN_MTIME_PENDING;
	note_mtime(c, n->mtime, n->mtime_nsec);
	if (S_ISREG(st->st_mode))
		n->size = (uint64_t)st->st_size;
	else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		n->rdev = (uint64_t)major(st->st_rdev) << 32 |
			  minor(st->st_rdev);
}

static int read_symlink(struct scan *s, int dirfd, const char *name,
			struct xnode *n)
{
	char buf[XIPFS_SYMLINK_MAX + 2];
	ssize_t len = readlinkat(dirfd, name, buf, sizeof(buf));

	if (len < 0) {
		msg_source_errno(s->c, s->path.s, errno);
		return -1;
	}
	if (len == 0 || len > XIPFS_SYMLINK_MAX) {
		msg_err(s->path.s, "symlink target empty or longer than %d bytes",
			XIPFS_SYMLINK_MAX);
		return -1;
	}
	n->size = (uint64_t)len;
	n->u.target = pool_add(&s->c->names, buf, (size_t)len);
	return 0;
}

/* One directory entry: stat it and add it (or its hard link). */
static int scan_entry(struct scan *s, int dirfd, uint32_t dir,
		      const char *name)
{
	struct build *c = s->c;
	struct stat st;
	int linked = 0;
	uint32_t id;
	struct xnode *n;

	if (excluded(c, relpath(&s->path))) {
		msg_info(c, "excluded %s", relpath(&s->path));
		return 0;
	}
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT) {
			msg_warn(c, s->path.s, "vanished while scanning");
			return 0;
		}
		msg_source_errno(s->c, s->path.s, errno);
		return -1;
	}
	if (c->have_image_id && st.st_dev == c->image_dev &&
	    st.st_ino == c->image_ino)
		return 0;	/* the image being replaced: never input */
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
		uint32_t first = link_find(&s->links, &st);

		if (first != NONE) {
			c->st.hardlinks++;
			return ent_add(c, dir, name, strlen(name), first,
				       s->path.s);
		}
		linked = 1;
	}
	id = node_new(c, s->path.s);
	if (id == NONE || ent_add(c, dir, name, strlen(name), id,
				  s->path.s) < 0)
		return -1;
	if (linked)
		link_add(&s->links, &st, id);
	n = &c->nodes[id];
	set_meta(c, n, &st);
	if (S_ISLNK(st.st_mode) && read_symlink(s, dirfd, name, n) < 0)
		return -1;
	if (S_ISDIR(st.st_mode) && st.st_dev != c->root_dev &&
	    !c->opt.cross_fs) {
		msg_info(c, "not crossing into %s (another file system)",
			 s->path.s);
		n->flags |= XN_NODESCEND;
	}
	return read_xattrs(s, &c->nodes[id].xattr);
}

static int scan_children(struct scan *s, int dirfd, uint32_t dir);

/* Descend into the subdirectories added for dir: entries [first, last). */
static int scan_subdirs(struct scan *s, int dirfd, size_t first, size_t last)
{
	struct build *c = s->c;

	for (size_t e = first; e < last; e++) {
		uint32_t node = c->ents[e].node;
		char name[XIPFS_NAME_MAX + 1];
		size_t old;
		int fd, r;

		if (!S_ISDIR(c->nodes[node].mode))
			continue;
		if (c->nodes[node].flags & XN_NODESCEND)
			continue;
		memcpy(name, c->ents[e].name, c->ents[e].name_len);
		name[c->ents[e].name_len] = '\0';
		old = path_push(&s->path, name);
		fd = openat(dirfd, name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			msg_source_errno(s->c, s->path.s, errno);
			return -1;
		}
		r = scan_children(s, fd, node);
		close(fd);
		s->path.len = old;
		s->path.s[old] = '\0';
		if (r < 0)
			return -1;
	}
	return 0;
}

/* Read all of dir's entries first, then recurse, so only one directory
 * stream is open at a time and fds grow with depth only. */
static int scan_children(struct scan *s, int dirfd, uint32_t dir)
{
	struct build *c = s->c;
	size_t first = c->nents;
	int fd = dup(dirfd);
	struct dirent *de;
	DIR *d;

	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		msg_source_errno(s->c, s->path.s, errno);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (errno = 0; (de = readdir(d)); errno = 0) {
		size_t old;
		int r;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		old = path_push(&s->path, de->d_name);
		r = scan_entry(s, dirfd, dir, de->d_name);
		s->path.len = old;
		s->path.s[old] = '\0';
		if (r < 0) {
			closedir(d);
			return -1;
		}
	}
	if (errno) {
		msg_source_errno(s->c, s->path.s, errno);
		closedir(d);
		return -1;
	}
	closedir(d);
	return scan_subdirs(s, dirfd, first, c->nents);
}

int scan_dir(struct build *c)
{
	struct scan s = { .c = c };
	struct stat st;
	int r;

	c->root_fd = open(c->opt.source,
			  O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->root_fd < 0 || fstat(c->root_fd, &st) < 0) {
		msg_source_errno(c, c->opt.source, errno);
		return -1;
	}
	c->root_dev = st.st_dev;
	path_push(&s.path, c->opt.source);
	s.path.rel = s.path.len;
	set_meta(c, &c->nodes[c->root], &st);
	r = read_xattrs(&s, &c->nodes[c->root].xattr);
	if (r == 0)
		r = scan_children(&s, c->root_fd, c->root);
	free(s.path.s);
	free(s.links.v);
	ht_free(&s.links.index);
	free(s.xa.v);
	free(s.xbuf);
	free(s.vbuf);
	return r;
}
