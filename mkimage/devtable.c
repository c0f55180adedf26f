/* SPDX-License-Identifier: MIT */
/*
 * Device/permission table: nodes, owners, modes and xattrs a normal user
 * cannot put in the source tree.  Grammar (man/mkxipfs.1 has the prose):
 *
 *   line    := [PATH TYPE ARGS...] ['#' comment]
 *   PATH d  MODE UID GID              directory: create, or adjust
 *   PATH c  MODE UID GID MAJOR MINOR  character device
 *   PATH b  MODE UID GID MAJOR MINOR  block device
 *   PATH p  MODE UID GID              fifo
 *   PATH s  MODE UID GID              socket
 *   PATH l  TARGET [UID GID]          symlink
 *   PATH m  MODE|- UID|- GID|-        modify an existing entry
 *   PATH x  NAME=VALUE | -NAME        set or remove an xattr
 *
 * Fields are separated by blanks; a field may be double-quoted, and
 * backslash escapes (\\ \" \t \n \ooo, "\ ") work in any field.  A '#' that
 * starts a field starts a comment.  MODE is octal permission bits, ids and
 * device numbers decimal.  Lines apply in order, after the input is read.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mkxipfs.h"

#define MAX_FIELDS 8

struct dtline {
	struct build *c;
	const char *file;	/* the table, for messages */
	char where[64 + 4096];	/* "file:line", the prefix of every message */
	char *label;		/* "file:line: PATH" */
	char *f[MAX_FIELDS];
	int nf;
};

static int escape(const char **pp, char *out)
{
	const char *p = *pp;
	int v = 0, i;

	switch (*p) {
	case 'n': *out = '\n'; break;
	case 't': *out = '\t'; break;
	case '\0': return -1;
	default:
		if (*p < '0' || *p > '7') {
			*out = *p;
			break;
		}
		for (i = 0; i < 3 && *p >= '0' && *p <= '7'; i++, p++)
			v = v * 8 + (*p - '0');
		if (v == 0 || v > 255)
			return -1;	/* NUL cannot be in a name */
		*out = (char)v;
		*pp = p;
		return 0;
	}
	*pp = p + 1;
	return 0;
}

/* Split line into fields in place (unescaping only shortens them). */
static int tokenize(struct dtline *d, char *line)
{
	const char *p = line;
	char *out = line;

	d->nf = 0;
	memset(d->f, 0, sizeof(d->f));	/* no field of an earlier line */
	for (;;) {
		int quoted = 0;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			return 0;
		if (d->nf == MAX_FIELDS) {
			msg_err(d->where, "too many fields");
			return -1;
		}
		d->f[d->nf++] = out;
		for (; *p; p++) {
			if (*p == '"') {
				quoted = !quoted;
				continue;
			}
			if (!quoted && (*p == ' ' || *p == '\t' ||
					*p == '\n' || *p == '\r'))
				break;
			if (*p == '\\') {
				p++;
				if (escape(&p, out++) < 0) {
					msg_err(d->where, "bad escape");
					return -1;
				}
				p--;
				continue;
			}
			*out++ = *p;
		}
		if (quoted) {
			msg_err(d->where, "unterminated quote");
			return -1;
		}
		if (*p)
			p++;
		*out++ = '\0';
	}
}

static int parse_num(struct dtline *d, const char *s, int base,
		     uint64_t max, const char *what, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, base);
	if (errno == ERANGE || (!errno && end != s && !*end && *s != '-' &&
				*v > max)) {
		msg_err(d->where, "%s '%s' out of range (at most %llu)", what,
			s, (unsigned long long)max);
		return -1;
	}
	if (errno || end == s || *end || *s == '-') {
		msg_err(d->where, "bad %s '%s'", what, s);
		return -1;
	}
	return 0;
}

/* MODE UID GID from fields i..i+2; '-' keeps the old value when allowed. */
static int parse_owner(struct dtline *d, int i, int allow_keep,
		       struct xnode *n)
{
	uint64_t v;

	if (!(allow_keep && !strcmp(d->f[i], "-"))) {
		if (parse_num(d, d->f[i], 8, 07777, "mode", &v) < 0)
			return -1;
		n->mode = (n->mode & S_IFMT) | (uint32_t)v;
	}
	if (!(allow_keep && !strcmp(d->f[i + 1], "-"))) {
		if (parse_num(d, d->f[i + 1], 10, UINT32_MAX - 1, "uid", &v) < 0)
			return -1;
		n->uid = (uint32_t)v;
	}
	if (!(allow_keep && !strcmp(d->f[i + 2], "-"))) {
		if (parse_num(d, d->f[i + 2], 10, UINT32_MAX - 1, "gid", &v) < 0)
			return -1;
		n->gid = (uint32_t)v;
	}
	return 0;
}

static int want_fields(struct dtline *d, int min, int max)
{
	if (d->nf >= min && d->nf <= max)
		return 0;
	if (min == max)
		msg_err(d->where, "type '%s' takes %d fields, not %d", d->f[1],
			min, d->nf);
	else
		msg_err(d->where, "type '%s' takes %d or %d fields, not %d",
			d->f[1], min, max, d->nf);
	return -1;
}

/*
 * The node a creating line fills: an existing directory for 'd', else a
 * new node that takes the place of any non-directory already there.
 */
static int place_node(struct dtline *d, int is_dir, uint32_t *id)
{
	struct build *c = d->c;
	const char *last;
	size_t len;
	uint32_t dir, e = NONE;

	if (path_walk(c, d->f[0], d->label, 0, &dir, &last, &len) < 0)
		return -1;
	if (!last && !is_dir) {
		msg_err(d->where, "%s: is the root directory", d->f[0]);
		return -1;
	}
	if (!last) {
		*id = c->root;
		return 0;
	}
	e = ent_lookup(c, dir, last, len);
	if (e != NONE && S_ISDIR(c->nodes[c->ents[e].node].mode)) {
		if (!is_dir) {
			msg_err(d->where, "%s: is a directory", d->f[0]);
			return -1;
		}
		*id = c->ents[e].node;
		return 0;
	}
	if (e != NONE && is_dir) {
		msg_err(d->where, "%s: exists and is not a directory", d->f[0]);
		return -1;
	}
	*id = node_new(c, d->label);
	if (*id == NONE)
		return -1;
	if (e != NONE) {
		msg_info(c, "%s: replacing %s", d->where, d->f[0]);
		c->ents[e].node = *id;
		c->nodes[*id].entry = e;
	} else if (ent_add(c, dir, last, len, *id, d->label) < 0) {
		return -1;
	}
	c->nodes[*id].flags |= XN_MTIME_PENDING;
	return 0;
}

static int line_create(struct dtline *d, char type)
{
	static const uint32_t fmt[] = {
		['d'] = S_IFDIR, ['c'] = S_IFCHR, ['b'] = S_IFBLK,
		['p'] = S_IFIFO, ['s'] = S_IFSOCK,
	};
	int dev = type == 'c' || type == 'b';
	uint64_t maj, min;
	struct xnode *n;
	uint32_t id;

	if (want_fields(d, dev ? 7 : 5, dev ? 7 : 5) < 0)
		return -1;
	if (dev && (parse_num(d, d->f[5], 10, XIPFS_DEV_MAJOR_MAX, "major",
			      &maj) < 0 ||
		    parse_num(d, d->f[6], 10, XIPFS_DEV_MINOR_MAX, "minor",
			      &min) < 0))
		return -1;
	if (place_node(d, type == 'd', &id) < 0)
		return -1;
	n = &d->c->nodes[id];
	n->mode = fmt[(unsigned char)type];
	if (parse_owner(d, 2, 0, n) < 0)
		return -1;
	if (dev)
		n->rdev = maj << 32 | min;
	return 0;
}

static int line_symlink(struct dtline *d)
{
	struct xnode *n;
	size_t tlen;
	uint64_t v;
	uint32_t id;

	if (d->nf != 3 && d->nf != 5) {
		/* want_fields() would take 4: between 3 and 5 */
		msg_err(d->where, "type 'l' takes 3 or 5 fields, not %d",
			d->nf);
		return -1;
	}
	tlen = strlen(d->f[2]);
	if (tlen == 0 || tlen > XIPFS_SYMLINK_MAX) {
		msg_err(d->where, "symlink target empty or longer than %d bytes",
			XIPFS_SYMLINK_MAX);
		return -1;
	}
	if (place_node(d, 0, &id) < 0)
		return -1;
	n = &d->c->nodes[id];
	n->mode = S_IFLNK | 0777;
	n->size = tlen;
	n->u.target = pool_add(&d->c->names, d->f[2], tlen);
	if (d->nf == 5) {
		if (parse_num(d, d->f[3], 10, UINT32_MAX - 1, "uid", &v) < 0)
			return -1;
		n->uid = (uint32_t)v;
		if (parse_num(d, d->f[4], 10, UINT32_MAX - 1, "gid", &v) < 0)
			return -1;
		n->gid = (uint32_t)v;
	}
	return 0;
}

static int line_modify(struct dtline *d)
{
	uint32_t id;

	if (want_fields(d, 5, 5) < 0 || path_resolve(d->c, d->f[0], d->label, &id) < 0)
		return -1;
	return parse_owner(d, 2, 1, &d->c->nodes[id]);
}

static int line_xattr(struct dtline *d)
{
	struct xa_list l = { 0 };
	char *name, *eq;
	int remove;
	uint8_t *val = NULL;
	size_t vlen = 0;
	uint32_t id;
	int r;

	/* the field count first: no field past it is read */
	if (want_fields(d, 3, 3) < 0 || path_resolve(d->c, d->f[0], d->label, &id) < 0)
		return -1;
	name = d->f[2];
	eq = strchr(name, '=');
	remove = name[0] == '-' && !eq;
	if (remove)
		name++;
	else if (!eq) {
		msg_err(d->where, "expected NAME=VALUE or -NAME");
		return -1;
	} else
		*eq = '\0';
	if (!xattr_name_ok(name)) {
		msg_err(d->where, "xattr name '%s' not in the user., trusted., "
			"security. or system.posix_acl_ namespaces", name);
		return -1;
	}
	if (!remove && xa_parse_value(d->where, eq + 1, &val, &vlen) < 0)
		return -1;
	r = xa_load(d->c, d->c->nodes[id].xattr, &l);
	if (r == 0)
		r = remove ? (xa_remove(&l, name), 0) :
			     xa_add(&l, d->where, name, val, vlen);
	if (r == 0)
		r = xa_intern(d->c, &l, d->where, &d->c->nodes[id].xattr);
	xa_clear(&l);
	free(l.v);
	free(val);
	return r;
}

static int apply_line(struct dtline *d)
{
	const char *t;
	size_t len;

	if (d->nf == 0)
		return 0;
	if (d->nf < 2) {
		msg_err(d->where, "missing type");
		return -1;
	}
	if (d->f[0][0] != '/') {
		msg_err(d->where, "%s: path must be absolute", d->f[0]);
		return -1;
	}
	free(d->label);
	len = strlen(d->where) + strlen(d->f[0]) + 3;
	d->label = xmalloc(len);
	snprintf(d->label, len, "%s: %s", d->where, d->f[0]);
	t = d->f[1];
	if (strlen(t) != 1 || !strchr("dcbpslmx", t[0])) {
		msg_err(d->where, "unknown type '%s'", t);
		return -1;
	}
	switch (t[0]) {
	case 'l': return line_symlink(d);
	case 'm': return line_modify(d);
	case 'x': return line_xattr(d);
	default: return line_create(d, t[0]);
	}
}

/* One line of the table; d->where says FILE:LINE in its messages. */
static int table_line(void *arg, char *line, size_t len, unsigned long no)
{
	struct dtline *d = arg;
	int r;

	snprintf(d->where, sizeof(d->where), "%s:%lu", d->file, no);
	if (strlen(line) != len) {
		msg_err(d->where, "NUL byte in line");
		return -1;
	}
	r = tokenize(d, line);
	return r ? r : apply_line(d);
}

int devtable_apply(struct build *c, const char *file)
{
	struct dtline d = { .c = c, .file = file };
	int r = for_each_line(file, table_line, &d);

	free(d.label);
	return r;
}
