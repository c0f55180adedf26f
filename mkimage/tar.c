/* SPDX-License-Identifier: MIT */
/*
 * Tar input through libarchive: ustar, pax (SCHILY.xattr.*, ACLs, sparse)
 * and GNU (long names, sparse), plain or compressed, from a file or stdin.
 *
 * The archive is a stream while the image puts data after metadata, so
 * member data is spooled into an unlinked temporary file (block-aligned per
 * member, holes kept) and copied from there once the layout is known.
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <grp.h>
#include <locale.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xipfs/xipfs.h"
#include "mkxipfs.h"

/* Members of a page or more start page-aligned in the spool, so their holes
 * stay visible to SEEK_HOLE and copy_file_range can reflink them; smaller
 * ones are packed, or a million tiny files would cost a page each. */
#define SPOOL_ALIGN 4096

/* POSIX ACL xattr tags, as the kernel stores them. */
enum {
	ACL_TAG_USER_OBJ = 0x01, ACL_TAG_USER = 0x02, ACL_TAG_GROUP_OBJ = 0x04,
	ACL_TAG_GROUP = 0x08, ACL_TAG_MASK = 0x10, ACL_TAG_OTHER = 0x20,
};

struct acl_ent {
	uint16_t tag, perm;
	uint32_t id;
};

struct tarin {
	struct build *c;
	struct archive *a;
	struct xa_list xa;
	const char *path;	/* member name as in the archive */
	char *label;		/* "ARCHIVE: member", for messages */
	const char *archive;	/* the archive's name, "(stdin)" */
	locale_t utf8;		/* C.UTF-8 for libarchive, or (locale_t)0 */
};

static int acl_tag(int tag)
{
	switch (tag) {
	case ARCHIVE_ENTRY_ACL_USER_OBJ: return ACL_TAG_USER_OBJ;
	case ARCHIVE_ENTRY_ACL_USER: return ACL_TAG_USER;
	case ARCHIVE_ENTRY_ACL_GROUP_OBJ: return ACL_TAG_GROUP_OBJ;
	case ARCHIVE_ENTRY_ACL_GROUP: return ACL_TAG_GROUP;
	case ARCHIVE_ENTRY_ACL_MASK: return ACL_TAG_MASK;
	case ARCHIVE_ENTRY_ACL_OTHER: return ACL_TAG_OTHER;
	default: return 0;
	}
}

static int acl_cmp(const void *a, const void *b)
{
	const struct acl_ent *x = a, *y = b;

	if (x->tag != y->tag)
		return x->tag < y->tag ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Sort, drop repeated owner/group/other/mask entries (libarchive reports
 * the ones derived from the mode first), add a mask when named entries
 * need one; returns the new count. */
static size_t acl_normalise(struct acl_ent *v, size_t n)
{
	size_t out = 0;
	uint16_t named_perm = 0;
	int have_mask = 0, named = 0;

	qsort(v, n, sizeof(*v), acl_cmp);
	for (size_t i = 0; i < n; i++) {
		if (out && v[out - 1].tag == v[i].tag &&
		    v[out - 1].id == v[i].id)
			continue;
		v[out++] = v[i];
	}
	for (size_t i = 0; i < out; i++) {
		if (v[i].tag == ACL_TAG_MASK)
			have_mask = 1;
		if (v[i].tag & (ACL_TAG_USER | ACL_TAG_GROUP |
				ACL_TAG_GROUP_OBJ))
			named_perm |= v[i].perm;
		if (v[i].tag & (ACL_TAG_USER | ACL_TAG_GROUP))
			named = 1;
	}
	if (named && !have_mask) {
		v[out++] = (struct acl_ent){ ACL_TAG_MASK, named_perm,
					     UINT32_MAX };
		qsort(v, out, sizeof(*v), acl_cmp);
	}
	return out;
}

/*
 * The id of a named ACL entry.  GNU tar writes the qualifier as a name
 * (libarchive then reports id -1), which is numeric with --numeric-owner;
 * a real name is looked up on this host, as extraction would.
 */
static int acl_id(struct tarin *t, int tag, int id, const char *name,
		  uint32_t *out)
{
	char *end;
	unsigned long v;

	if (id >= 0 || !name || !*name) {
		*out = (uint32_t)id;
		return id >= 0 ? 0 : (msg_err(t->label, "ACL entry without an id"), -1);
	}
	errno = 0;
	v = strtoul(name, &end, 10);
	if (!errno && !*end && v < UINT32_MAX) {
		*out = (uint32_t)v;
		return 0;
	}
	if (tag == ARCHIVE_ENTRY_ACL_USER) {
		struct passwd *pw = getpwnam(name);

		if (pw) {
			*out = pw->pw_uid;
			return 0;
		}
	} else {
		struct group *gr = getgrnam(name);

		if (gr) {
			*out = gr->gr_gid;
			return 0;
		}
	}
	msg_err(t->label, "ACL names unknown %s '%s'",
		tag == ARCHIVE_ENTRY_ACL_USER ? "user" : "group", name);
	return -1;
}

/* libarchive leaves the error string NULL for some failures (a pax
 * header cut short, say): never print "(null)". */
static const char *tar_error(struct archive *a)
{
	const char *msg = archive_error_string(a);

	return msg ? msg : "truncated or malformed archive";
}

/* One libarchive ACL (access or default) as system.posix_acl_* in the
 * kernel's binary form, unless the entry already carried that xattr. */
static int acl_to_xattr(struct tarin *t, struct archive_entry *e, int type,
			const char *xname)
{
	const struct build_options *o = &t->c->opt;
	int count = archive_entry_acl_reset(e, type), ty, perm, tag, id;
	struct acl_ent *v;
	const char *name;
	size_t n = 0;
	uint8_t *buf;
	uint32_t qid;
	int r = 0;

	if (count <= 0)
		return 0;
	for (size_t i = 0; i < t->xa.n; i++)
		if (!strcmp(t->xa.v[i].name, xname))
			return 0;
	v = xcalloc((size_t)count + 1, sizeof(*v));
	while (archive_entry_acl_next(e, type, &ty, &perm, &tag, &id,
				      &name) == ARCHIVE_OK && n < (size_t)count) {
		uint16_t k = (uint16_t)acl_tag(tag);

		if (!k)
			continue;	/* NFSv4 "everyone@": not POSIX */
		v[n].tag = k;
		v[n].perm = (uint16_t)(perm & 7);
		v[n].id = UINT32_MAX;
		if ((k == ACL_TAG_USER || k == ACL_TAG_GROUP) &&
		    (r = acl_id(t, tag, id, name, &qid)) < 0)
			break;
		if (k == ACL_TAG_USER)
			v[n].id = map_id(o->uid_map, o->n_uid_map, qid);
		if (k == ACL_TAG_GROUP)
			v[n].id = map_id(o->gid_map, o->n_gid_map, qid);
		n++;
	}
	if (r < 0) {
		free(v);
		return -1;
	}
	n = acl_normalise(v, n);
	buf = xmalloc(4 + 8 * n);
	xipfs_put_le32(buf, 2);
	for (size_t i = 0; i < n; i++) {
		xipfs_put_le16(buf + 4 + 8 * i, v[i].tag);
		xipfs_put_le16(buf + 6 + 8 * i, v[i].perm);
		xipfs_put_le32(buf + 8 + 8 * i, v[i].id);
	}
	r = n ? xa_add(&t->xa, t->label, xname, buf, 4 + 8 * n) : 0;
	free(buf);
	free(v);
	return r;
}

/*
 * With an access ACL that has a mask, the kernel keeps the mask in the
 * mode's group bits; libarchive puts the "group::" entry there instead.
 */
static void acl_mask_to_mode(const struct xa_list *l, struct xnode *node)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct xa_item *it = &l->v[i];

		if (strcmp(it->name, "system.posix_acl_access"))
			continue;
		for (size_t p = 4; p + 8 <= it->value_len; p += 8)
			if (xipfs_le16(it->value + p) == ACL_TAG_MASK)
				node->mode = (node->mode & ~070u) |
					     (uint32_t)(xipfs_le16(it->value + p + 2) & 7) << 3;
	}
}

static int member_xattrs(struct tarin *t, struct archive_entry *e,
			 struct xnode *node)
{
	const char *name;
	const void *value;
	size_t size;
	int r = 0;

	archive_entry_xattr_reset(e);
	while (r == 0 &&
	       archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		if (!xattr_name_ok(name))
			msg_warn(t->c, t->label, "xattr %s not stored", name);
		else
			r = xa_add(&t->xa, t->label, name, value, size);
	}
	if (r == 0)
		r = acl_to_xattr(t, e, ARCHIVE_ENTRY_ACL_TYPE_ACCESS,
				 "system.posix_acl_access");
	if (r == 0)
		r = acl_to_xattr(t, e, ARCHIVE_ENTRY_ACL_TYPE_DEFAULT,
				 "system.posix_acl_default");
	if (r == 0)
		acl_mask_to_mode(&t->xa, node);
	if (r == 0)
		r = xa_intern(t->c, &t->xa, t->label, &node->xattr);
	xa_clear(&t->xa);
	return r;
}

/* Copy the member's data blocks to the spool at their offsets; what
 * libarchive skips (sparse holes) stays a hole. */
static int spool_data(struct tarin *t, struct xnode *n)
{
	struct build *c = t->c;
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	if (n->size >= SPOOL_ALIGN)
		c->spool_end = round_up(c->spool_end, SPOOL_ALIGN);
	n->u.src = c->spool_end;
	n->flags |= XN_SPOOLED;
	c->spool_end += n->size;
	while ((r = archive_read_data_block(t->a, &buf, &len, &off)) ==
	       ARCHIVE_OK) {
		if (off < 0 || (uint64_t)off + len > n->size) {
			msg_err(t->label, "data runs past the member's size");
			return -1;
		}
		if (len && write_all_fd(c->spool_fd, buf, len,
					n->u.src + (uint64_t)off) < 0) {
			msg_err("spool file", "%s", strerror(errno));
			return -1;
		}
	}
	if (r != ARCHIVE_EOF) {
		msg_err(t->label, "%s", tar_error(t->a));
		return -1;
	}
	return 0;
}

/* A device number the kernel cannot hold would alias another device. */
static int set_member_rdev(struct tarin *t, struct archive_entry *e,
			   struct xnode *n)
{
	uint64_t maj = (uint64_t)archive_entry_rdevmajor(e);
	uint64_t min = (uint64_t)archive_entry_rdevminor(e);

	if (maj > XIPFS_DEV_MAJOR_MAX || min > XIPFS_DEV_MINOR_MAX) {
		msg_err(t->label, "device %llu,%llu: Linux holds majors up to "
			"%u and minors up to %u",
			(unsigned long long)maj, (unsigned long long)min,
			XIPFS_DEV_MAJOR_MAX, XIPFS_DEV_MINOR_MAX);
		return -1;
	}
	n->rdev = maj << 32 | min;
	return 0;
}

static int set_member_meta(struct tarin *t, struct archive_entry *e,
			   struct xnode *n)
{
	la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
	const char *target;
	size_t tlen;

	if (uid < 0 || uid > UINT32_MAX || gid < 0 || gid > UINT32_MAX) {
		msg_err(t->label, "uid or gid out of range");
		return -1;
	}
	n->mode = archive_entry_mode(e);
	n->uid = (uint32_t)uid;
	n->gid = (uint32_t)gid;
	apply_owner(t->c, n);
	n->mtime = archive_entry_mtime(e);
	n->mtime_nsec = archive_entry_mtime_is_set(e) ?
			(uint32_t)archive_entry_mtime_nsec(e) : 0;
	if (n->mtime_nsec >= 1000000000u)
		n->mtime_nsec = 0;
	n->flags &= ~(uint32_t)XN_MTIME_PENDING;
	note_mtime(t->c, n->mtime, n->mtime_nsec);
	switch (archive_entry_filetype(e)) {
	case AE_IFREG:
		if (archive_entry_size(e) < 0) {
			msg_err(t->label, "negative size");
			return -1;
		}
		n->size = (uint64_t)archive_entry_size(e);
		return spool_data(t, n);
	case AE_IFLNK:
		target = archive_entry_symlink(e);
		tlen = target ? strlen(target) : 0;
		if (tlen == 0 || tlen > XIPFS_SYMLINK_MAX) {
			msg_err(t->label, "symlink target empty or longer than %d bytes",
				XIPFS_SYMLINK_MAX);
			return -1;
		}
		n->size = tlen;
		n->u.target = pool_add(&t->c->names, target, tlen);
		return 0;
	case AE_IFCHR:
	case AE_IFBLK:
		return set_member_rdev(t, e, n);
	case AE_IFDIR:
	case AE_IFIFO:
	case AE_IFSOCK:
		return 0;
	default:
		msg_err(t->label, "unsupported member type");
		return -1;
	}
}

static int add_hardlink(struct tarin *t, struct archive_entry *e,
			uint32_t dir, const char *last, size_t len)
{
	struct build *c = t->c;
	uint32_t target, old = ent_lookup(c, dir, last, len);

	if (path_resolve(c, archive_entry_hardlink(e), t->label, &target) < 0)
		return -1;
	if (S_ISDIR(c->nodes[target].mode)) {
		msg_err(t->label, "hard link to a directory");
		return -1;
	}
	c->st.hardlinks++;
	if (old == NONE)
		return ent_add(c, dir, last, len, target, t->label);
	if (S_ISDIR(c->nodes[c->ents[old].node].mode)) {
		msg_err(t->label, "hard link would replace a directory");
		return -1;
	}
	c->ents[old].node = target;
	return 0;
}

/* A member replaces what an earlier member put at the same path, as
 * extraction would, except that a directory only takes new metadata. */
static int add_member(struct tarin *t, struct archive_entry *e)
{
	struct build *c = t->c;
	const char *last;
	size_t len;
	uint32_t dir, old = NONE, id;
	int is_dir = archive_entry_filetype(e) == AE_IFDIR;

	if (path_walk(c, t->path, t->label, 1, &dir, &last, &len) < 0)
		return -1;
	if (archive_entry_hardlink(e))
		return add_hardlink(t, e, dir, last, len);
	if (last)
		old = ent_lookup(c, dir, last, len);
	else if (!is_dir) {
		msg_err(t->label, "the root must be a directory");
		return -1;
	}
	if (!last || (old != NONE && is_dir &&
		      S_ISDIR(c->nodes[c->ents[old].node].mode))) {
		id = last ? c->ents[old].node : c->root;
	} else if (old != NONE && S_ISDIR(c->nodes[c->ents[old].node].mode)) {
		msg_err(t->label, "would replace a directory");
		return -1;
	} else {
		id = node_new(c, t->label);
		if (id == NONE)
			return -1;
		if (old != NONE) {
			c->ents[old].node = id;
			c->nodes[id].entry = old;
		} else if (ent_add(c, dir, last, len, id, t->label) < 0) {
			return -1;
		}
	}
	if (set_member_meta(t, e, &c->nodes[id]) < 0)
		return -1;
	return member_xattrs(t, e, &c->nodes[id]);
}

/* Exclusion applies to a member and, through its parents, to everything
 * under an excluded directory. */
static int member_excluded(const struct build *c, const char *path)
{
	char *norm = xmalloc(strlen(path) + 1), *q = norm;
	const char *p = path;
	int hit = 0;

	while (*p && !hit) {
		const char *s;

		while (*p == '/')
			p++;
		s = p;
		while (*p && *p != '/')
			p++;
		if (p == s || (p - s == 1 && *s == '.'))
			continue;
		if (q > norm)
			*q++ = '/';
		memcpy(q, s, (size_t)(p - s));
		q += p - s;
		*q = '\0';
		hit = excluded(c, norm);
	}
	free(norm);
	return hit;
}

/*
 * Names are stored as the bytes the archive holds.  libarchive converts a
 * pax name (UTF-8 by definition) to the charset of the current locale; in
 * mkxipfs's C locale that fails for any non-ASCII name and libarchive,
 * keeping the original bytes, warns "Pathname can't be converted".  Under
 * a UTF-8 LC_CTYPE the conversion is the identity, so libarchive's calls
 * run in C.UTF-8 on this thread (uselocale), while the rest of mkxipfs
 * (fnmatch for --exclude) stays in the C locale.  Ustar and GNU names are
 * copied as bytes in any locale.  Without C.UTF-8 all is as before.
 */
static locale_t enter_utf8(const struct tarin *t)
{
	return t->utf8 ? uselocale(t->utf8) : (locale_t)0;
}

static void leave_utf8(locale_t old)
{
	if (old)
		uselocale(old);
}

static int open_archive(struct tarin *t)
{
	const char *src = t->c->opt.source;
	int r;

	locale_t old;

	t->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	old = enter_utf8(t);
	t->a = archive_read_new();
	archive_read_support_filter_all(t->a);
	archive_read_support_format_tar(t->a);
	if (!strcmp(src, "-"))
		r = archive_read_open_fd(t->a, STDIN_FILENO, 1 << 16);
	else
		r = archive_read_open_filename(t->a, src, 1 << 16);
	leave_utf8(old);
	if (r != ARCHIVE_OK) {
		msg_err(strcmp(src, "-") ? src : "stdin", "%s",
			tar_error(t->a));
		return -1;
	}
	return 0;
}

static int next_member(struct tarin *t, struct archive_entry **e)
{
	locale_t old = enter_utf8(t);
	int r = archive_read_next_header(t->a, e);

	leave_utf8(old);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r == ARCHIVE_WARN) {
		msg_warn(t->c, archive_entry_pathname(*e), "%s",
			 tar_error(t->a));
		return 1;
	}
	if (r != ARCHIVE_OK) {
		msg_err(t->c->opt.source, "%s", tar_error(t->a));
		return -1;
	}
	return 1;
}

int read_tar(struct build *c)
{
	struct tarin t = { .c = c };
	struct archive_entry *e;
	size_t len;
	int r;

	t.archive = strcmp(c->opt.source, "-") ? c->opt.source : "(stdin)";
	if (spool_open(c) < 0 || open_archive(&t) < 0)
		goto fail;
	while ((r = next_member(&t, &e)) > 0) {
		t.path = archive_entry_pathname(e);
		if (!t.path)
			t.path = archive_entry_pathname_utf8(e);
		if (!t.path) {
			msg_err(c->opt.source, "member without a usable name");
			goto fail;
		}
		if (member_excluded(c, t.path)) {
			msg_info(c, "excluded %s", t.path);
			continue;
		}
		free(t.label);
		len = strlen(t.archive) + strlen(t.path) + 3;
		t.label = xmalloc(len);
		snprintf(t.label, len, "%s: %s", t.archive, t.path);
		if (add_member(&t, e) < 0)
			goto fail;
	}
	if (r < 0)
		goto fail;
	archive_read_free(t.a);
	if (t.utf8)
		freelocale(t.utf8);
	free(t.xa.v);
	free(t.label);
	return 0;
fail:
	free(t.label);
	if (t.a)
		archive_read_free(t.a);
	if (t.utf8)
		freelocale(t.utf8);
	xa_clear(&t.xa);
	free(t.xa.v);
	return -1;
}
