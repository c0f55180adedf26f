/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of mkxipfs's logic, linked against libmkxipfs.a like the
 * program: the hash table (growth, many keys, colliding hashes), the
 * device-table parser on good and bad lines (every error names FILE:LINE),
 * xattr interning (one block per distinct list), the compression options'
 * parsers, the --xip=elf classifier, --xip-list lines and matching,
 * one cluster's compression (raw when it does not shrink), and dedupe's
 * confirmation of a hash match (a collision never merges files).
 */
#include "config.h"

#include <lz4.h>
#include <fcntl.h>
#include <stdlib.h>
#include <zstd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../mkimage/mkxipfs.h"
#include "../test.h"

/* A well-spread hash of i, so that the table sees realistic keys. */
static uint64_t spread(uint64_t i)
{
	return hash_buf(7, &i, sizeof(i));
}

/* How many times id turns up among the candidates for hash. */
static unsigned times_found(const struct htable *t, uint64_t hash,
			    uint32_t id)
{
	struct ht_iter it;
	unsigned n = 0;

	for (uint32_t got = ht_first(t, hash, &it); got != NONE;
	     got = ht_next(t, &it))
		n += got == id;
	return n;
}

static void test_htable_many(void)
{
	struct htable t = { 0 };
	struct ht_iter it;
	unsigned missing = 0, strays = 0;
	const uint32_t n = 100000;

	TEST_SECTION("hash table: empty, many keys, growth");
	CHECK_EQ(ht_first(&t, 42, &it), NONE);
	for (uint32_t i = 0; i < n; i++)
		ht_insert(&t, spread(i), i);
	CHECK_EQ(t.count, n);
	CHECK(t.cap >= 2 * (size_t)n && (t.cap & (t.cap - 1)) == 0);
	for (uint32_t i = 0; i < n; i++)
		missing += times_found(&t, spread(i), i) != 1;
	CHECK_EQ(missing, 0);
	/* hashes never inserted give no candidate */
	for (uint32_t i = n; i < n + 1000; i++)
		strays += ht_first(&t, spread(i), &it) != NONE;
	CHECK_EQ(strays, 0);
	ht_free(&t);
	CHECK(t.slots == NULL && t.cap == 0 && t.count == 0);
	CHECK_EQ(ht_first(&t, spread(1), &it), NONE);
}

static void test_htable_collisions(void)
{
	struct htable t = { 0 };
	unsigned char seen[300] = { 0 };
	struct ht_iter it;
	unsigned count = 0, wrong = 0;

	TEST_SECTION("hash table: equal hashes, equal home slots");
	/* 300 ids under one hash (grows through several sizes meanwhile) */
	for (uint32_t i = 0; i < 300; i++)
		ht_insert(&t, 0xabcdef, i);
	for (uint32_t got = ht_first(&t, 0xabcdef, &it); got != NONE;
	     got = ht_next(&t, &it)) {
		count++;
		if (got >= 300 || seen[got]++)
			wrong++;
	}
	CHECK_EQ(count, 300);
	CHECK_EQ(wrong, 0);
	/* hashes that differ only above the mask share a home slot and the
	 * probe run of the ones above, but are told apart */
	for (uint32_t i = 0; i < 50; i++)
		ht_insert(&t, 0xabcdef | (uint64_t)(i + 1) << 40, 1000 + i);
	for (uint32_t i = 0; i < 50; i++)
		wrong += times_found(&t, 0xabcdef | (uint64_t)(i + 1) << 40,
				     1000 + i) != 1;
	CHECK_EQ(wrong, 0);
	CHECK_EQ(times_found(&t, 0xabcdef, 1000), 0);
	CHECK_EQ(times_found(&t, 0xabcdef, 299), 1);
	ht_free(&t);
}

static char workdir[] = "/tmp/mkimage_test.XXXXXX";

static char *write_file(const char *name, const char *text)
{
	size_t len = strlen(workdir) + strlen(name) + 2;
	char *path = xmalloc(len);
	FILE *f;

	snprintf(path, len, "%s/%s", workdir, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

/* Run devtable_apply with stderr caught; *err gets what it printed. */
static int apply_caught(struct build *b, const char *file, char *err,
			size_t cap)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO), r;
	size_t n = 0;

	fflush(stderr);
	if (!tmp || saved < 0)
		return -99;
	dup2(fileno(tmp), STDERR_FILENO);
	r = devtable_apply(b, file);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(err, 1, cap - 1, tmp);
	err[n] = '\0';
	fclose(tmp);
	return r;
}

static void build_init(struct build *b)
{
	memset(b, 0, sizeof(*b));
	b->root_fd = b->spool_fd = b->out_fd = -1;
	b->opt.quiet = 1;
	tree_init(b);
}

static const struct xnode *node_at(struct build *b, const char *path)
{
	uint32_t id;

	return path_resolve(b, path, NULL, &id) < 0 ? NULL : &b->nodes[id];
}

static void test_devtable_good(void)
{
	struct build b;
	const struct xnode *n;
	char err[4096];
	char *file = write_file("good.dt",
		"# a comment line\n"
		"\n"
		"/dev d 755 0 0\n"
		"/dev/tty c 620 0 5 4 64   # trailing comment\n"
		"/dev/sda b 660 0 6 8 0\n"
		"\"/dev/with space\" p 600 1 2\n"
		"/dev/tty m - 7 -\n"
		"/lnk l /dev/tty 3 4\n"
		"/dev/tty x user.tag=0x00ff10\n");

	TEST_SECTION("device table: good lines");
	build_init(&b);
	CHECK_EQ(apply_caught(&b, file, err, sizeof(err)), 0);
	CHECK_EQ(err[0], '\0');
	n = node_at(&b, "/dev");
	CHECK(n && n->mode == (S_IFDIR | 0755));
	n = node_at(&b, "/dev/tty");
	CHECK(n && n->mode == (S_IFCHR | 0620));
	CHECK(n && n->uid == 7 && n->gid == 5);
	CHECK(n && n->data == ((uint64_t)4 << 32 | 64));
	CHECK(n && n->xattr != 0);
	n = node_at(&b, "/dev/sda");
	CHECK(n && n->mode == (S_IFBLK | 0660) && n->data == (uint64_t)8 << 32);
	n = node_at(&b, "/dev/with space");
	CHECK(n && n->mode == (S_IFIFO | 0600) && n->uid == 1 && n->gid == 2);
	n = node_at(&b, "/lnk");
	CHECK(n && S_ISLNK(n->mode) && n->size == 8 &&
	      !memcmp(n->u.target, "/dev/tty", 8) && n->uid == 3);
	if (n && node_at(&b, "/dev/tty")->xattr) {
		struct xa_list l = { 0 };

		CHECK_EQ(xa_load(&b, node_at(&b, "/dev/tty")->xattr, &l), 0);
		CHECK(l.n == 1 && !strcmp(l.v[0].name, "user.tag") &&
		      l.v[0].value_len == 3 &&
		      !memcmp(l.v[0].value, "\x00\xff\x10", 3));
		xa_clear(&l);
		free(l.v);
	}
	tree_free(&b);
	unlink(file);
	free(file);
}

/* One bad line after a good one: it fails, and says FILE:2 and why. */
static void bad_line(const char *line, const char *why)
{
	char text[512], want[4096 + 64], err[4096];
	struct build b;
	char *file;
	int r;

	snprintf(text, sizeof(text), "/d d 755 0 0\n%s\n", line);
	file = write_file("bad.dt", text);
	build_init(&b);
	r = apply_caught(&b, file, err, sizeof(err));
	snprintf(want, sizeof(want), "mkxipfs: %s:2: ", file);
	if (!CHECK(r == -1 && !strncmp(err, want, strlen(want)) &&
		   strstr(err, why)))
		fprintf(stderr, "  line '%s': r=%d, printed '%s'\n", line, r,
			err);
	tree_free(&b);
	unlink(file);
	free(file);
}

static void test_devtable_bad(void)
{
	TEST_SECTION("device table: bad lines name FILE:LINE");
	bad_line("/x q 755 0 0", "unknown type 'q'");
	bad_line("/x", "missing type");
	bad_line("x d 755 0 0", "path must be absolute");
	bad_line("/x d 755 0", "takes 5 fields, not 4");
	bad_line("/x c 620 0 5 4", "takes 7 fields, not 6");
	bad_line("/x d 7558 0 0", "bad mode '7558'");
	bad_line("/x d 17777 0 0", "out of range");
	bad_line("/x d 755 -1 0", "bad uid '-1'");
	bad_line("/x c 620 0 0 4096 0", "major '4096' out of range");
	bad_line("\"/x d 755 0 0", "unterminated quote");
	bad_line("/x d 755 0 0 a b c d e", "too many fields");
	bad_line("/missing/x d 755 0 0", "parent directory does not exist");
	bad_line("/ c 620 0 0 1 1", "is the root directory");
	bad_line("/d x user.a", "expected NAME=VALUE or -NAME");
	bad_line("/d x other.a=1", "not in the user.");
	bad_line("/d x user.a=0xzz", "bad xattr value");
	bad_line("/nope m - - -", "no such entry");
}

static void test_xattr_intern(void)
{
	struct xa_list l = { 0 };
	uint32_t first, again, other;
	struct build b;

	TEST_SECTION("xattrs: equal lists share one block");
	build_init(&b);
	xa_add(&l, NULL, "user.b", "2", 1);
	xa_add(&l, NULL, "user.a", "1", 1);
	CHECK_EQ(xa_intern(&b, &l, NULL, &first), 0);
	xa_clear(&l);
	/* the same attributes in the other order: the same block */
	xa_add(&l, NULL, "user.a", "1", 1);
	xa_add(&l, NULL, "user.b", "2", 1);
	CHECK_EQ(xa_intern(&b, &l, NULL, &again), 0);
	xa_clear(&l);
	xa_add(&l, NULL, "user.a", "1", 1);
	CHECK_EQ(xa_intern(&b, &l, NULL, &other), 0);
	xa_clear(&l);
	CHECK(first != 0 && first == again && other != first);
	CHECK_EQ(b.nblobs, 2);
	CHECK_EQ(xa_intern(&b, &l, NULL, &other), 0);	/* empty list */
	CHECK_EQ(other, 0);
	CHECK_EQ(xa_load(&b, first, &l), 0);
	CHECK(l.n == 2 && !strcmp(l.v[0].name, "user.a") &&
	      !strcmp(l.v[1].name, "user.b"));
	xa_clear(&l);
	free(l.v);
	tree_free(&b);
}

static void test_parse_compress(void)
{
	struct zopts z = { 0 };
	char why[160];
	uint32_t log2 = 0;
	enum xip_mode m = XIP_ALL;

	TEST_SECTION("options: --compress, --cluster-size, --xip");
	CHECK_EQ(parse_compress("zstd", &z, why, sizeof(why)), 0);
	CHECK(z.alg == XIPFS_ZALG_ZSTD && z.level == 15 && z.cluster_log2 == 16);
	CHECK_EQ(parse_compress("zstd:1", &z, why, sizeof(why)), 0);
	CHECK_EQ(z.level, 1);
	CHECK_EQ(parse_compress("zstd:22", &z, why, sizeof(why)), 0);
	CHECK_EQ(parse_compress("lz4", &z, why, sizeof(why)), 0);
	CHECK(z.alg == XIPFS_ZALG_LZ4 && z.level == 0);
	CHECK_EQ(parse_compress("lz4:hc", &z, why, sizeof(why)), 0);
	CHECK(z.alg == XIPFS_ZALG_LZ4 && z.level == 1);
	static const char *const bad[] = {
		"", "zst", "zstdx", "zstd:", "zstd:0", "zstd:23", "zstd:-1",
		"zstd:3x", "zstd:99999999999999999999", "lz4:", "lz4:HC",
		"lz4:hc:9", "xz", ":zstd",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		CHECK_EQ(parse_compress(bad[i], &z, why, sizeof(why)), -1);
		CHECK(why[0] != '\0');
	}
	CHECK_EQ(parse_cluster_size("4K", &log2), 0);
	CHECK_EQ(log2, 12);
	CHECK_EQ(parse_cluster_size("1M", &log2), 0);
	CHECK_EQ(log2, 20);
	CHECK_EQ(parse_cluster_size("65536", &log2), 0);
	CHECK_EQ(log2, 16);
	CHECK_EQ(parse_cluster_size("2K", &log2), -1);
	CHECK_EQ(parse_cluster_size("2M", &log2), -1);
	CHECK_EQ(parse_cluster_size("12K", &log2), -1);
	CHECK_EQ(parse_cluster_size("0", &log2), -1);
	CHECK_EQ(parse_cluster_size("", &log2), -1);
	CHECK_EQ(parse_cluster_size("-4K", &log2), -1);
	CHECK_EQ(parse_xip_mode("elf", &m), 0);
	CHECK_EQ(m, XIP_ELF);
	CHECK_EQ(parse_xip_mode("none", &m), 0);
	CHECK_EQ(m, XIP_NONE);
	CHECK_EQ(parse_xip_mode("all", &m), 0);
	CHECK_EQ(m, XIP_ALL);
	CHECK_EQ(parse_xip_mode("ELF", &m), -1);
	CHECK_EQ(parse_xip_mode("", &m), -1);
}

/* An ELF header: class, data (1 LE, 2 BE), e_type. */
static void elf_hdr(uint8_t *h, int cls, int data, unsigned type)
{
	memset(h, 0, ELF_HDR_NEED);
	memcpy(h, "\177ELF", 4);
	h[4] = (uint8_t)cls;
	h[5] = (uint8_t)data;
	h[6] = 1;
	h[data == 2 ? 17 : 16] = (uint8_t)type;
	h[data == 2 ? 16 : 17] = (uint8_t)(type >> 8);
}

static void test_elf_classifier(void)
{
	uint8_t h[64];

	TEST_SECTION("--xip=elf: executables and shared objects stay XIP");
	elf_hdr(h, 2, 1, 2);
	CHECK(elf_stays_xip(h, ELF_HDR_NEED));		/* ET_EXEC */
	elf_hdr(h, 2, 1, 3);
	CHECK(elf_stays_xip(h, sizeof(h)));		/* ET_DYN */
	elf_hdr(h, 1, 2, 3);
	CHECK(elf_stays_xip(h, ELF_HDR_NEED));		/* 32-bit big endian */
	elf_hdr(h, 1, 2, 0x300);
	CHECK(!elf_stays_xip(h, ELF_HDR_NEED));		/* byte order matters */
	elf_hdr(h, 2, 1, 1);
	CHECK(!elf_stays_xip(h, ELF_HDR_NEED));		/* ET_REL */
	elf_hdr(h, 2, 1, 4);
	CHECK(!elf_stays_xip(h, ELF_HDR_NEED));		/* ET_CORE */
	elf_hdr(h, 2, 1, 3);
	CHECK(!elf_stays_xip(h, ELF_HDR_NEED - 1));	/* too short */
	elf_hdr(h, 3, 1, 3);
	CHECK(!elf_stays_xip(h, ELF_HDR_NEED));		/* bad class */
	elf_hdr(h, 2, 0, 3);
	CHECK(!elf_stays_xip(h, ELF_HDR_NEED));		/* bad data */
	elf_hdr(h, 2, 1, 3);
	h[0] = 'E';
	CHECK(!elf_stays_xip(h, ELF_HDR_NEED));		/* no magic */
	memcpy(h, "#!/bin/sh\nexec true\n", 20);
	CHECK(!elf_stays_xip(h, 20));
}

static int line_is(const char *text, const char *want)
{
	char buf[5000];
	const char *path = NULL, *why = NULL;
	size_t len = strlen(text);
	int r;

	memcpy(buf, text, len + 1);
	r = xiplist_line(buf, len, &path, &why);
	if (!want)
		return r == 0;
	if (!strcmp(want, "ERR"))
		return r == -1 && why;
	return r == 1 && !strcmp(path, want);
}

static void test_xiplist(void)
{
	static char big[4200];
	struct xiplist l = { 0 };
	char *file;
	FILE *f;

	TEST_SECTION("--xip-list: lines, comments, errors, matching");
	CHECK(line_is("", NULL));
	CHECK(line_is("  \t ", NULL));
	CHECK(line_is("# comment", NULL));
	CHECK(line_is("   # indented comment", NULL));
	CHECK(line_is("/usr/bin/ls", "usr/bin/ls"));
	CHECK(line_is("usr/bin/ls", "usr/bin/ls"));
	CHECK(line_is("/#odd name", "#odd name"));
	CHECK(line_is("/a b/c d ", "a b/c d "));
	CHECK(line_is("usr/lib/*.so*", "usr/lib/*.so*"));
	CHECK(line_is("/", "ERR"));
	CHECK(line_is("a//b", "ERR"));
	CHECK(line_is("a/", "ERR"));
	CHECK(line_is("../etc/passwd", "ERR"));
	CHECK(line_is("a/./b", "ERR"));
	CHECK(line_is("a/..", "ERR"));
	memset(big, 'x', sizeof(big) - 1);
	CHECK(line_is(big, "ERR"));
	/* the limit is the path's: a leading '/' does not count */
	big[0] = '/';
	big[4096] = '\0';
	CHECK(line_is(big, big + 1));		/* '/' and 4095 bytes */
	CHECK(line_is(big + 1, big + 1));	/* 4095 bytes */
	big[4096] = 'x';
	big[4097] = '\0';
	CHECK(line_is(big, "ERR"));		/* '/' and 4096 bytes */
	CHECK(line_is(big + 1, "ERR"));		/* 4096 bytes */
	{
		char nul[] = "a\0b";
		const char *path, *why;

		CHECK_EQ(xiplist_line(nul, 3, &path, &why), -1);
	}
	file = xmalloc(strlen(workdir) + 16);
	sprintf(file, "%s/list", workdir);
	f = fopen(file, "w");
	fputs("# profile\n/bin/sh\nusr/lib/*.so*\n\nlib/ld-[a-z]*\n", f);
	fclose(f);
	CHECK_EQ(xiplist_load(&l, file), 0);
	CHECK_EQ(l.paths.n, 1);
	CHECK_EQ(l.patterns.n, 2);
	CHECK(xiplist_match(&l, "bin/sh"));
	CHECK(!xiplist_match(&l, "bin/sh2"));
	CHECK(!xiplist_match(&l, "bin"));
	CHECK(xiplist_match(&l, "usr/lib/libc.so.6"));
	CHECK(xiplist_match(&l, "usr/lib/x/liby.so"));	/* '*' crosses '/' */
	CHECK(!xiplist_match(&l, "usr/lib/libc.a"));
	CHECK(xiplist_match(&l, "lib/ld-linux.so"));
	xiplist_free(&l);
	f = fopen(file, "w");
	fputs("ok\n\n/a/../b\n", f);
	fclose(f);
	fprintf(stderr, "# expected: an error naming %s:3\n", file);
	CHECK_EQ(xiplist_load(&l, file), -1);
	xiplist_free(&l);
	unlink(file);
	free(file);
}

static void test_zcomp(void)
{
	static uint8_t in[65536], out[65536 + 1024], back[65536];
	struct zopts opts[] = {
		{ XIPFS_ZALG_ZSTD, 3, 16 }, { XIPFS_ZALG_ZSTD, 19, 16 },
		{ XIPFS_ZALG_LZ4, 0, 16 }, { XIPFS_ZALG_LZ4, 1, 16 },
	};
	uint64_t x = 1;

	TEST_SECTION("clusters: compressed frames round trip, raw when not smaller");
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)"xipfs cluster "[i % 14];
	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		struct zcomp *zc = zcomp_new(&opts[k]);
		uint32_t n;

		CHECK(zc != NULL);
		CHECK(zcomp_bound(&opts[k]) <= sizeof(out));
		n = zcomp_cluster(zc, in, sizeof(in), out);
		CHECK(n > 0 && n < 2000);
		if (opts[k].alg == XIPFS_ZALG_ZSTD)
			CHECK_EQ(ZSTD_decompress(back, sizeof(back), out, n),
				 sizeof(in));
		else
			CHECK_EQ(LZ4_decompress_safe((char *)out, (char *)back,
						     (int)n, sizeof(back)),
				 sizeof(in));
		CHECK(!memcmp(back, in, sizeof(in)));
		/* the same input again gives the same bytes (context reuse) */
		CHECK_EQ(zcomp_cluster(zc, in, sizeof(in), back), n);
		CHECK(!memcmp(back, out, n));
		zcomp_free(zc);
	}
	for (size_t i = 0; i < sizeof(in); i++) {	/* incompressible */
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		in[i] = (uint8_t)x;
	}
	{
		struct zcomp *zc = zcomp_new(&opts[0]);

		CHECK_EQ(zcomp_cluster(zc, in, sizeof(in), out), sizeof(in));
		CHECK(!memcmp(out, in, sizeof(in)));
		CHECK_EQ(zcomp_cluster(zc, in, 1, out), 1);	/* one byte */
		zcomp_free(zc);
	}
}

/* A regular file under the root, in the build and in workdir: n bytes of
 * ch, the last one last. */
static uint32_t source_node(struct build *b, const char *name, int ch,
			    size_t n, int last)
{
	char *text = xmalloc(n + 1), *path;
	uint32_t id;

	memset(text, ch, n);
	text[n - 1] = (char)last;
	text[n] = '\0';
	path = write_file(name, text);
	id = node_new(b, path);
	b->nodes[id].mode = S_IFREG | 0644;
	b->nodes[id].size = n;
	b->nodes[id].flags |= XN_SHARED_SIZE;
	ent_add(b, b->root, name, strlen(name), id, path);
	free(path);
	free(text);
	return id;
}

/* Look f's node up in d: its representative, or NONE (-1 on error). */
static uint32_t dedupe_lookup(struct dedupe *d, struct source *src,
			      uint32_t id, uint8_t *buf, uint64_t *key)
{
	struct src_file f;
	uint32_t rep = NONE;

	if (source_open(src, id, &f) < 0)
		return (uint32_t)-2;
	if (dedupe_find(d, &f, buf, key, &rep) < 0)
		rep = (uint32_t)-2;
	return source_close(src, &f, 1) < 0 ? (uint32_t)-2 : rep;
}

/* Files one byte apart kept under one key (as a hash collision would):
 * only the file with the same bytes is taken, small or over IO_CHUNK. */
static void test_dedupe_size(size_t n)
{
	static const char *const names[] = { "dd-first", "dd-other", "dd-copy" };
	uint8_t *buf = xmalloc(IO_CHUNK);
	struct build b;
	struct source src;
	struct dedupe d;
	uint64_t key = 0, key2 = 0;
	uint32_t first, other, copy;

	build_init(&b);
	b.opt.source = workdir;
	b.root_fd = open(workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	first = source_node(&b, names[0], 'x', n, 'a');
	other = source_node(&b, names[1], 'x', n, 'b');
	copy = source_node(&b, names[2], 'x', n, 'a');
	source_init(&src, &b);
	dedupe_init(&d, &b);
	CHECK_EQ(dedupe_lookup(&d, &src, first, buf, &key), NONE);
	dedupe_keep(&d, other, key);	/* a collision with other bytes */
	CHECK_EQ(dedupe_lookup(&d, &src, copy, buf, &key2), NONE);
	CHECK_EQ(key2, key);
	CHECK_EQ(b.st.dup_files, 0);
	dedupe_keep(&d, first, key);
	CHECK_EQ(dedupe_lookup(&d, &src, copy, buf, &key2), first);
	CHECK_EQ(b.st.dup_files, 1);
	CHECK_EQ(b.st.dup_bytes, n);
	b.nodes[copy].flags &= ~XN_SHARED_SIZE;	/* a size of its own */
	CHECK_EQ(dedupe_lookup(&d, &src, copy, buf, &key2), NONE);
	dedupe_free(&d);
	source_free(&src);
	close(b.root_fd);
	tree_free(&b);
	for (size_t i = 0; i < 3; i++) {
		char path[sizeof(workdir) + 16];

		snprintf(path, sizeof(path), "%s/%s", workdir, names[i]);
		unlink(path);
	}
	free(buf);
}

static void test_dedupe(void)
{
	TEST_SECTION("dedupe: a hash match is confirmed byte for byte");
	test_dedupe_size(3000);
	test_dedupe_size(IO_CHUNK + IO_CHUNK / 2);
}

int main(int argc, char **argv)
{
	(void)argc;
	if (!mkdtemp(workdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_htable_many();
	test_htable_collisions();
	test_devtable_good();
	test_devtable_bad();
	test_xattr_intern();
	test_parse_compress();
	test_elf_classifier();
	test_xiplist();
	test_zcomp();
	test_dedupe();
	rmdir(workdir);
	return test_summary(argv[0]);
}
