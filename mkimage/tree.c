/* SPDX-License-Identifier: MIT */
/*
 * The in-memory tree: nodes (inodes), entries (names) and an index on
 * (directory, name) in the builder's hash table (htable.c) so tar members and device-table lines can find and
 * replace what is already there in O(1).
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xipfs/xipfs.h"
#include "mkxipfs.h"

int tree_init(struct build *c)
{
	c->root = node_new(c, "/");
	c->nodes[c->root].mode = S_IFDIR | 0755;
	c->nodes[c->root].flags |= XN_MTIME_PENDING;
	apply_owner(c, &c->nodes[c->root]);
	return 0;
}

void tree_free(struct build *c)
{
	free(c->nodes);
	free(c->ents);
	ht_free(&c->ent_index);
	free(c->order);
	free(c->children);
	pool_free(&c->names);
	xattr_free(c);
}

/* A fresh node, zeroed; the caller sets type and metadata.  The format
 * numbers inodes with 32 bits and keeps 0 for "none". */
uint32_t node_new(struct build *c, const char *path)
{
	struct xnode *n;

	if (c->nnodes >= UINT32_MAX - 1) {
		msg_err(path, "too many inodes (the format allows %u)",
			UINT32_MAX - 1);
		return NONE;
	}
	if (c->nnodes == c->cap_nodes) {
		c->cap_nodes = c->cap_nodes ? c->cap_nodes * 2 : 1024;
		c->nodes = xrealloc_array(c->nodes, c->cap_nodes,
					  sizeof(*c->nodes));
	}
	n = &c->nodes[c->nnodes];
	memset(n, 0, sizeof(*n));
	n->entry = NONE;
	return (uint32_t)c->nnodes++;
}

static uint64_t ent_hash(uint32_t dir, const char *name, size_t len)
{
	return hash_buf(dir, name, len);
}

uint32_t ent_lookup(const struct build *c, uint32_t dir, const char *name,
		    size_t len)
{
	struct ht_iter it;

	for (uint32_t id = ht_first(&c->ent_index, ent_hash(dir, name, len),
				    &it);
	     id != NONE; id = ht_next(&c->ent_index, &it)) {
		const struct xent *e = &c->ents[id];

		if (e->parent == dir && e->name_len == len &&
		    memcmp(e->name, name, len) == 0)
			return id;
	}
	return NONE;
}

/* Names the format cannot hold, or that would mean something else on
 * extraction, are refused rather than altered. */
int name_check(const char *path, const char *name, size_t len)
{
	if (xipfs_name_valid(name, len))
		return 0;
	/* the library's rule decided; this only picks the message */
	if (len > XIPFS_NAME_MAX)
		msg_err(path, "file name longer than %d bytes", XIPFS_NAME_MAX);
	else if (len && (memchr(name, '/', len) || memchr(name, '\0', len)))
		msg_err(path, "file name contains '/' or NUL");
	else
		msg_err(path, "invalid file name");
	return -1;
}

/* Add name -> node in dir.  The caller has checked it is not there. */
int ent_add(struct build *c, uint32_t dir, const char *name, size_t len,
	    uint32_t node, const char *path)
{
	struct xent *e;

	if (name_check(path, name, len) < 0)
		return -1;
	if (c->nents >= UINT32_MAX - 1) {
		msg_err(path, "too many directory entries");
		return -1;
	}
	if (c->nents == c->cap_ents) {
		c->cap_ents = c->cap_ents ? c->cap_ents * 2 : 1024;
		c->ents = xrealloc_array(c->ents, c->cap_ents,
					 sizeof(*c->ents));
	}
	e = &c->ents[c->nents];
	e->name = pool_add(&c->names, name, len);
	e->name_len = (uint8_t)len;
	e->parent = dir;
	e->node = node;
	if (c->nodes[node].entry == NONE)
		c->nodes[node].entry = (uint32_t)c->nents;
	c->nodes[dir].nchild++;
	ht_insert(&c->ent_index, ent_hash(dir, name, len), (uint32_t)c->nents);
	c->nents++;
	return 0;
}

/*
 * Walk path (tar member, device-table path) inside the image: leading
 * "/" and "./" and empty or "." components are dropped, ".." is refused.
 * *dir is the directory holding the last component, *last that component
 * (NULL for the root itself).  Missing intermediate directories are
 * created when create_parents is set, else they are an error.  Messages
 * name label (e.g. "archive.tar: member") rather than path when given.
 */
int path_walk(struct build *c, const char *path, const char *label,
	      int create_parents, uint32_t *dir, const char **last,
	      size_t *last_len)
{
	const char *p = path, *comp = NULL;
	size_t clen = 0;
	uint32_t cur = c->root;

	if (!label)
		label = path;
	for (;;) {
		const char *s;
		size_t len;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		s = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - s);
		if (len == 1 && s[0] == '.')
			continue;
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			msg_err(label, "path escapes the root");
			return -1;
		}
		if (comp) {
			uint32_t e = ent_lookup(c, cur, comp, clen), n;

			if (e == NONE && !create_parents) {
				msg_err(label, "parent directory does not exist");
				return -1;
			}
			if (e == NONE) {
				n = node_new(c, label);
				if (n == NONE ||
				    ent_add(c, cur, comp, clen, n, label) < 0)
					return -1;
				c->nodes[n].mode = S_IFDIR | 0755;
				c->nodes[n].flags |= XN_MTIME_PENDING;
				apply_owner(c, &c->nodes[n]);
			} else {
				n = c->ents[e].node;
			}
			if (!S_ISDIR(c->nodes[n].mode)) {
				msg_err(label, "a parent is not a directory");
				return -1;
			}
			cur = n;
		}
		comp = s;
		clen = len;
	}
	*dir = cur;
	*last = comp;
	*last_len = clen;
	return 0;
}

/* The node at path, which must exist. */
int path_resolve(struct build *c, const char *path, const char *label,
		 uint32_t *node)
{
	const char *last;
	size_t len;
	uint32_t dir, e;

	if (path_walk(c, path, label, 0, &dir, &last, &len) < 0)
		return -1;
	if (!last) {
		*node = c->root;
		return 0;
	}
	e = ent_lookup(c, dir, last, len);
	if (e == NONE) {
		msg_err(label ? label : path, "no such entry in the image");
		return -1;
	}
	*node = c->ents[e].node;
	return 0;
}

/* Path of a node relative to the root (directory input), malloc'd;
 * "." for the root. */
char *node_relpath(const struct build *c, uint32_t node)
{
	size_t len = 0;
	char *buf, *p;

	for (uint32_t n = node; n != c->root;) {
		const struct xent *e = &c->ents[c->nodes[n].entry];

		len += e->name_len + 1u;
		n = e->parent;
	}
	if (!len)
		return strcpy(xmalloc(2), ".");
	buf = xmalloc(len);
	p = buf + len - 1;
	*p = '\0';
	for (uint32_t n = node; n != c->root;) {
		const struct xent *e = &c->ents[c->nodes[n].entry];

		p -= e->name_len;
		memcpy(p, e->name, e->name_len);
		if (p > buf)
			*--p = '/';
		n = e->parent;
	}
	return buf;
}

uint32_t map_id(const struct idmap *m, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (id >= m[i].from && id - m[i].from < m[i].count)
			return m[i].to + (id - m[i].from);
	return id;
}

void apply_owner(const struct build *c, struct xnode *n)
{
	const struct build_options *o = &c->opt;

	n->uid = o->force_uid ? o->uid : map_id(o->uid_map, o->n_uid_map,
						 n->uid);
	n->gid = o->force_gid ? o->gid : map_id(o->gid_map, o->n_gid_map,
						 n->gid);
}

/* Track the newest input mtime: the build time when nothing pins it. */
void note_mtime(struct build *c, int64_t sec, uint32_t nsec)
{
	if (!c->have_newest || sec > c->newest_sec ||
	    (sec == c->newest_sec && nsec > c->newest_nsec)) {
		c->newest_sec = sec;
		c->newest_nsec = nsec;
		c->have_newest = 1;
	}
}

/* --exclude: fnmatch without FNM_PATHNAME (so '*' crosses '/'), tried on
 * the relative path with and without a leading '/'. */
int excluded(const struct build *c, const char *relpath)
{
	const struct strlist *x = &c->opt.exclude;
	char *slashed;
	int hit = 0;

	if (!x->n)
		return 0;
	slashed = xmalloc(strlen(relpath) + 2);
	slashed[0] = '/';
	strcpy(slashed + 1, relpath);
	for (size_t i = 0; i < x->n && !hit; i++)
		hit = fnmatch(x->v[i], relpath, 0) == 0 ||
		      fnmatch(x->v[i], slashed, 0) == 0;
	free(slashed);
	return hit;
}
