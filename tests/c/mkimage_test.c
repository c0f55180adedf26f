/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of mkxipfs's logic, linked against libmkxipfs.a like the
 * program: the hash table (growth, many keys, colliding hashes), the
 * device-table parser on good and bad lines (every error names FILE:LINE),
 * and xattr interning (one block per distinct list).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../mkimage/mkxipfs.h"
#include "test.h"

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
	rmdir(workdir);
	return test_summary(argv[0]);
}
