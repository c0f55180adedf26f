/* SPDX-License-Identifier: MIT */
/*
 * Extended attributes: per-inode lists are encoded into the on-disk block
 * format at once and interned, so a million files with one SELinux label
 * share a single block in memory and in the image.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "xipfs/xipfs.h"
#include "mkxipfs.h"

/* Add or replace one attribute (the last value given wins). */
int xa_add(struct xa_list *l, const char *path, const char *name,
	   const void *value, size_t value_len)
{
	size_t nlen = strlen(name);
	struct xa_item *it;

	if (nlen == 0 || nlen > XIPFS_XATTR_NAME_MAX) {
		msg_err(path, "xattr name '%s' is empty or longer than %d bytes",
			name, XIPFS_XATTR_NAME_MAX);
		return -1;
	}
	if (value_len > XIPFS_XATTR_VALUE_MAX) {
		msg_err(path, "xattr %s: value longer than %d bytes", name,
			XIPFS_XATTR_VALUE_MAX);
		return -1;
	}
	if (xipfs_xattr_value_check(name, nlen, value, value_len) < 0) {
		msg_err(path, "xattr %s: not a valid %s value", name,
			strncmp(name, "system.", 7) ? "file capability" :
						      "POSIX ACL");
		return -1;
	}
	xa_remove(l, name);
	if (l->name_bytes + nlen + 1 > XIPFS_XATTR_LIST_MAX) {
		msg_err(path, "xattr %s: the names of this file's xattrs would "
			"exceed %d bytes, more than listxattr can return",
			name, XIPFS_XATTR_LIST_MAX);
		return -1;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->v = xrealloc_array(l->v, l->cap, sizeof(*l->v));
	}
	it = &l->v[l->n++];
	l->name_bytes += nlen + 1;
	it->name = strcpy(xmalloc(nlen + 1), name);
	it->name_len = nlen;
	it->value = xmalloc(value_len);
	if (value_len)
		memcpy(it->value, value, value_len);
	it->value_len = value_len;
	return 0;
}

int xa_remove(struct xa_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].name, name))
			continue;
		free(l->v[i].name);
		free(l->v[i].value);
		l->name_bytes -= l->v[i].name_len + 1;
		l->v[i] = l->v[--l->n];
		return 1;
	}
	return 0;
}

void xa_clear(struct xa_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].value);
	}
	l->n = 0;
	l->name_bytes = 0;
}

static int item_cmp(const void *a, const void *b)
{
	const struct xa_item *x = a, *y = b;

	return xipfs_name_cmp(x->name, x->name_len, y->name, y->name_len);
}

#define BLOB_SEED 0x78617474	/* "xatt" */

static uint32_t blob_find(const struct build *c, uint64_t hash,
			  const uint8_t *buf, size_t len)
{
	struct ht_iter it;

	for (uint32_t id = ht_first(&c->blob_index, hash, &it); id != NONE;
	     id = ht_next(&c->blob_index, &it)) {
		const struct xblob *b = &c->blobs[id];

		if (b->len == len &&
		    !memcmp(c->xattr_pool + b->pool_off, buf, len))
			return id;
	}
	return NONE;
}

static uint32_t blob_store(struct build *c, const uint8_t *buf, size_t len)
{
	uint64_t hash = hash_buf(BLOB_SEED, buf, len);
	uint32_t id = blob_find(c, hash, buf, len);

	if (id != NONE)
		return id;
	if (c->xattr_pool_len + len > c->xattr_pool_cap) {
		c->xattr_pool_cap = (c->xattr_pool_cap + len) * 2;
		c->xattr_pool = xrealloc_array(c->xattr_pool,
					       c->xattr_pool_cap, 1);
	}
	memcpy(c->xattr_pool + c->xattr_pool_len, buf, len);
	if (c->nblobs == c->cap_blobs) {
		c->cap_blobs = c->cap_blobs ? c->cap_blobs * 2 : 64;
		c->blobs = xrealloc_array(c->blobs, c->cap_blobs,
					  sizeof(*c->blobs));
	}
	c->blobs[c->nblobs] = (struct xblob){
		.pool_off = c->xattr_pool_len, .len = (uint32_t)len,
	};
	c->xattr_pool_len += len;
	ht_insert(&c->blob_index, hash, (uint32_t)c->nblobs);
	return (uint32_t)c->nblobs++;
}

/* Encode l (sorted by name, as the format requires) and intern it;
 * *blob is the id + 1 for struct xnode.xattr, 0 for an empty list. */
int xa_intern(struct build *c, struct xa_list *l, const char *path,
	      uint32_t *blob)
{
	size_t len = 0, pos = 0;
	uint8_t *buf;

	*blob = 0;
	if (!l->n)
		return 0;
	qsort(l->v, l->n, sizeof(*l->v), item_cmp);
	for (size_t i = 0; i < l->n; i++)
		len += XIPFS_XATTR_HDR_SIZE + l->v[i].name_len +
		       l->v[i].value_len;
	if (len > UINT32_MAX) {
		msg_err(path, "extended attributes too large");
		return -1;
	}
	buf = xmalloc(len);
	for (size_t i = 0; i < l->n; i++) {
		const struct xa_item *it = &l->v[i];
		/* xa_add() kept both lengths inside their fields */
		const struct xipfs_xattr_info xa = {
			.name = it->name, .name_len = (uint32_t)it->name_len,
			.value = it->value, .value_len = (uint32_t)it->value_len,
		};

		xipfs_encode_xattr(buf + pos, &xa);
		pos += XIPFS_XATTR_HDR_SIZE + it->name_len + it->value_len;
	}
	*blob = blob_store(c, buf, len) + 1;
	free(buf);
	return 0;
}

/* Decode an interned block back into a list (the device table edits). */
int xa_load(const struct build *c, uint32_t blob, struct xa_list *l)
{
	const struct xblob *b;
	const uint8_t *p, *end;

	if (!blob)
		return 0;
	b = &c->blobs[blob - 1];
	p = c->xattr_pool + b->pool_off;
	end = p + b->len;
	while (p < end) {
		uint32_t vlen =
			xipfs_le32(p + offsetof(struct xipfs_xattr, value_len));
		uint16_t nlen =
			xipfs_le16(p + offsetof(struct xipfs_xattr, name_len));
		char name[XIPFS_XATTR_NAME_MAX + 1];

		memcpy(name, p + XIPFS_XATTR_HDR_SIZE, nlen);
		name[nlen] = '\0';
		if (xa_add(l, NULL, name, p + XIPFS_XATTR_HDR_SIZE + nlen,
			   vlen) < 0)
			return -1;
		p += XIPFS_XATTR_HDR_SIZE + nlen + vlen;
	}
	return 0;
}

void xattr_free(struct build *c)
{
	free(c->xattr_pool);
	free(c->blobs);
	ht_free(&c->blob_index);
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

static int b64val(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	return ch == '+' ? 62 : ch == '/' ? 63 : -1;
}

static int parse_hex(const char *s, uint8_t *out, size_t *len)
{
	size_t n = 0;

	for (; *s; s += 2) {
		int hi = hexval(s[0]), lo = s[1] ? hexval(s[1]) : -1;

		if (hi < 0 || lo < 0)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
	}
	*len = n;
	return 0;
}

static int parse_b64(const char *s, uint8_t *out, size_t *len)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	for (; *s && *s != '='; s++) {
		int v = b64val((unsigned char)*s);

		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	while (*s == '=')
		s++;
	if (*s)
		return -1;
	*len = n;
	return 0;
}

/*
 * A value as setfattr(1) takes it: 0x... hex, 0s... base64, otherwise
 * text (the device-table reader has already removed quotes and escapes).
 */
int xa_parse_value(const char *path, const char *text, uint8_t **out,
		   size_t *len)
{
	size_t tl = strlen(text);
	int r = 0;

	*out = xmalloc(tl + 1);
	if (tl >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
		r = parse_hex(text + 2, *out, len);
	else if (tl >= 2 && text[0] == '0' &&
		 (text[1] == 's' || text[1] == 'S'))
		r = parse_b64(text + 2, *out, len);
	else {
		memcpy(*out, text, tl);
		*len = tl;
	}
	if (r < 0) {
		msg_err(path, "bad xattr value '%s'", text);
		free(*out);
		*out = NULL;
	}
	return r;
}

/* Namespaces the format and an extractor can carry.  Other system.*
 * attributes are file-system specific (NFSv4 ACLs, ...). */
int xattr_name_ok(const char *name)
{
	return !strncmp(name, "user.", 5) || !strncmp(name, "trusted.", 8) ||
	       !strncmp(name, "security.", 9) ||
	       !strcmp(name, "system.posix_acl_access") ||
	       !strcmp(name, "system.posix_acl_default");
}
