/* SPDX-License-Identifier: MIT */
/*
 * xipfs-metaflip [-o DIR] [-n FLIPS] IMAGE: one flipped byte at a time
 * across the superblock, the whole metadata region [0, data_offset) and
 * the metadata CRC table, no checksum fixed up.  For each flipped image it
 * walks the tree through libxipfs as a reader would (lookup, attributes,
 * link target, xattrs, file bytes) and requires every facet it gets to be
 * an error or exactly what the undamaged image gives, and no path the
 * undamaged image lacks; and requires xipfs_verify() (or open) to call
 * the image damaged.  With -o, every fourth flipped image is written to
 * DIR for the shell driver to hand to xipfsck.  Exit 0 when every flip
 * passed, 1 otherwise (each failure said on stderr), 2 on bad use.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xipfs/xipfs.h"
#include "walk.h"

#define MAX_DEPTH	32
#define MAX_FACETS	20000

/* "path#facet\tvalue", value "ERR" when the library said damage. */
struct facets {
	char **v;
	size_t n;
};

static void add(struct facets *f, const char *path, const char *facet,
		const char *value)
{
	char *s;

	if (f->n >= MAX_FACETS)
		return;
	if (asprintf(&s, "%s#%s\t%s", path, facet, value) < 0)
		abort();
	f->v[f->n++] = s;
}

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

static void attr_facet(struct facets *f, const char *path,
		       const struct xipfs_inode_info *in)
{
	char v[256];

	snprintf(v, sizeof(v), "ino=%u mode=%o uid=%u gid=%u size=%llu "
		 "mtime=%lld.%09u nlink=%u rdev=%llu:%llu", in->ino, in->mode,
		 in->uid, in->gid, (unsigned long long)in->size,
		 (long long)in->mtime, in->mtime_nsec, in->nlink,
		 (unsigned long long)in->rdev_major,
		 (unsigned long long)in->rdev_minor);
	add(f, path, "attr", v);
}

static void link_facet(struct facets *f, const char *path,
		       const struct xipfs_image *img,
		       const struct xipfs_inode_info *in)
{
	char v[XIPFS_SYMLINK_MAX + 1];
	const char *t;
	size_t len;

	if (xipfs_readlink(img, in, &t, &len)) {
		add(f, path, "link", "ERR");
		return;
	}
	memcpy(v, t, len);
	v[len] = '\0';
	add(f, path, "link", v);
}

static void xattr_facet(struct facets *f, const char *path,
			const struct xipfs_image *img,
			const struct xipfs_inode_info *in)
{
	struct xipfs_xattr_info xa;
	uint64_t pos = 0, h = 0xcbf29ce484222325ull, n = 0;
	char v[64];
	int r;

	while ((r = xipfs_xattr_next(img, in, &pos, &xa)) > 0) {
		h = fnv(h, xa.name, xa.name_len);
		h = fnv(h, "=", 1);
		h = fnv(h, xa.value, xa.value_len);
		n++;
	}
	if (r < 0) {
		add(f, path, "xattr", "ERR");
		return;
	}
	snprintf(v, sizeof(v), "%llu:%016llx", (unsigned long long)n,
		 (unsigned long long)h);
	add(f, path, "xattr", v);
}

static void data_facet(struct facets *f, const char *path,
		       const struct xipfs_image *img,
		       const struct xipfs_inode_info *in, struct xipfs_zctx *z)
{
	uint64_t h = 0xcbf29ce484222325ull, off = 0;
	struct xipfs_file file;
	char v[64];

	if (xipfs_file_open(img, in, &file)) {
		add(f, path, "data", "ERR");
		return;
	}
	while (off < in->size) {
		const uint8_t *p;
		ssize_t n = xipfs_file_pread(img, &file, off, 1 << 16, 0, z, &p);

		if (n <= 0) {
			add(f, path, "data", "ERR");
			return;
		}
		h = fnv(h, p, (size_t)n);
		off += (uint64_t)n;
	}
	snprintf(v, sizeof(v), "%016llx", (unsigned long long)h);
	add(f, path, "data", v);
}

static void walk_dir(struct facets *f, const struct xipfs_image *img,
		     const struct xipfs_inode_info *dir, const char *path,
		     int depth, struct xipfs_zctx *z);

/* Every facet of the entry path, found as de in dir. */
static void visit(struct facets *f, const struct xipfs_image *img,
		  const struct xipfs_inode_info *dir,
		  const struct xipfs_dirent_info *de, const char *path,
		  int depth, struct xipfs_zctx *z)
{
	struct xipfs_inode_info in;
	uint32_t ino;
	char v[32];

	if (xipfs_lookup(img, dir, de->name, de->name_len, &ino)) {
		add(f, path, "lookup", "ERR");
		return;
	}
	snprintf(v, sizeof(v), "%u/%u/%u", ino, de->ino, de->type);
	add(f, path, "lookup", v);
	if (xipfs_inode_get(img, ino, &in) || xipfs_entry_check(dir, de, &in)) {
		add(f, path, "attr", "ERR");
		return;
	}
	attr_facet(f, path, &in);
	xattr_facet(f, path, img, &in);
	if (S_ISLNK(in.mode))
		link_facet(f, path, img, &in);
	if (S_ISREG(in.mode))
		data_facet(f, path, img, &in, z);
	if (S_ISDIR(in.mode) && depth < MAX_DEPTH)
		walk_dir(f, img, &in, path, depth + 1, z);
}

static void walk_dir(struct facets *f, const struct xipfs_image *img,
		     const struct xipfs_inode_info *dir, const char *path,
		     int depth, struct xipfs_zctx *z)
{
	uint64_t count = xipfs_dir_count(dir);

	for (uint64_t i = 0; i < count && f->n < MAX_FACETS; i++) {
		struct xipfs_dirent_info de;
		char child[4096];

		if (xipfs_readdir(img, dir, xipfs_dir_cookie(i), &de) <= 0)
			continue;	/* damage: the entry is left out */
		snprintf(child, sizeof(child), "%s/%.*s", path,
			 (int)de.name_len, de.name);
		visit(f, img, dir, &de, child, depth, z);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Facets of the image at buf; open_err and verify problems out. */
static void facets_of(const uint8_t *buf, size_t len, struct facets *f,
		      int *open_err, long *problems)
{
	struct xipfs_image img;
	struct xipfs_inode_info root;
	struct xipfs_zctx *z = xipfs_zctx_new();

	f->n = 0;
	*problems = 0;
	*open_err = xipfs_image_open(&img, buf, len);
	if (!*open_err) {
		*problems = xipfs_verify(&img, NULL, NULL);
		if (xipfs_inode_get(&img, XIPFS_ROOT_INO, &root))
			add(f, "", "attr", "ERR");
		else {
			attr_facet(f, "", &root);
			xattr_facet(f, "", &img, &root);
			walk_dir(f, &img, &root, "", 0, z);
		}
		xipfs_image_close(&img);
	}
	xipfs_zctx_free(z);
	qsort(f->v, f->n, sizeof(*f->v), cmp_str);
}

static void facets_clear(struct facets *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i]);
	f->n = 0;
}

/* Facets of the flipped image that are neither an error nor the
 * original's: each said, counted. */
static int compare(const struct facets *orig, const struct facets *got,
		   uint64_t at)
{
	int bad = 0;

	for (size_t i = 0; i < got->n; i++) {
		const char *tab = strchr(got->v[i], '\t');
		size_t key = (size_t)(tab - got->v[i]);
		size_t lo = 0, hi = orig->n;

		if (!strcmp(tab + 1, "ERR"))
			continue;
		while (lo < hi) {	/* the original facet of this key */
			size_t mid = lo + (hi - lo) / 2;
			int c = strncmp(orig->v[mid], got->v[i], key + 1);

			if (c == 0) {
				lo = mid;
				break;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < orig->n && !strcmp(orig->v[lo], got->v[i]))
			continue;
		fprintf(stderr, "flip at 0x%llx: served %s (original: %s)\n",
			(unsigned long long)at, got->v[i],
			lo < orig->n && !strncmp(orig->v[lo], got->v[i], key + 1) ?
			orig->v[lo] : "no such path");
		bad++;
	}
	return bad;
}

static int write_image(const char *dir, uint64_t at, const uint8_t *buf,
		       size_t len)
{
	char name[4096];
	FILE *fp;

	snprintf(name, sizeof(name), "%s/flip-%06llx.img", dir,
		 (unsigned long long)at);
	fp = fopen(name, "wb");
	if (!fp || fwrite(buf, 1, len, fp) != len || fclose(fp)) {
		perror(name);
		return -1;
	}
	return 0;
}

/* Where to flip: n positions spread over [0, data_offset), a few in the
 * superblock's fields and in the metadata CRC table. */
static size_t positions(const struct xipfs_image *img, size_t n, uint64_t *at)
{
	struct xipfs_meta_crc_info mc;
	uint64_t stride = img->data_offset / n ? img->data_offset / n : 1;
	size_t k = 0;

	for (uint64_t off = 0; off < XIPFS_SUPER_SIZE; off += 11)
		at[k++] = off;
	for (size_t i = 0; i < n; i++)
		at[k++] = i * stride + (i * 37) % stride;
	if (!xipfs_meta_crc_get(img, &mc))
		for (uint64_t i = 0; i < 4 * mc.blocks; i += 4 * mc.blocks / 8 + 1)
			at[k++] = mc.table_offset + i;
	return k;
}

int main(int argc, char **argv)
{
	struct facets orig = { 0 }, got = { 0 };
	struct xipfs_image img;
	const char *outdir = NULL;
	size_t len, n = 400, npos;
	uint64_t *at;
	uint8_t *data, *copy;
	long problems;
	int opt, open_err, failed = 0, undetected = 0;

	while ((opt = getopt(argc, argv, "o:n:")) != -1) {
		if (opt == 'o')
			outdir = optarg;
		else if (opt == 'n')
			n = (size_t)strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	if (optind + 1 != argc || n == 0 || n > 100000 ||
	    walk_load_file(argv[optind], &data, &len))
		return 2;
	if (xipfs_image_open(&img, data, len) ||
	    !(img.ro_compat & XIPFS_RO_COMPAT_META_CRC)) {
		fprintf(stderr, "%s: no image with metadata checksums\n",
			argv[optind]);
		return 2;
	}
	orig.v = calloc(MAX_FACETS, sizeof(char *));
	got.v = calloc(MAX_FACETS, sizeof(char *));
	at = calloc(n + 64, sizeof(*at));
	copy = malloc(len);
	if (!orig.v || !got.v || !at || !copy)
		return 2;
	facets_of(data, len, &orig, &open_err, &problems);
	if (open_err || problems || orig.n < 10) {
		fprintf(stderr, "%s: the undamaged image does not walk clean "
			"(%d, %ld problems, %zu facets)\n", argv[optind],
			open_err, problems, orig.n);
		return 2;
	}
	npos = positions(&img, n, at);
	for (size_t i = 0; i < npos; i++) {
		memcpy(copy, data, len);
		copy[at[i]] ^= (uint8_t)(1u << (i % 8));
		facets_of(copy, len, &got, &open_err, &problems);
		failed += compare(&orig, &got, at[i]);
		if (!open_err && problems == 0) {
			fprintf(stderr, "flip at 0x%llx: xipfs_verify calls "
				"it clean\n", (unsigned long long)at[i]);
			undetected++;
		}
		facets_clear(&got);
		if (outdir && i % 4 == 0 &&
		    write_image(outdir, at[i], copy, len))
			return 2;
	}
	printf("%s: %zu flips over 0x0-0x%llx and the table, %zu facets each: "
	       "%d wrong values served, %d flips called clean\n",
	       argv[optind], npos, (unsigned long long)img.data_offset,
	       orig.n, failed, undetected);
	facets_clear(&orig);
	xipfs_image_close(&img);
	free(orig.v);
	free(got.v);
	free(at);
	free(copy);
	free(data);
	return failed || undetected;
}
