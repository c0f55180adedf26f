/* SPDX-License-Identifier: MIT */
/*
 * dirseek: check that a directory reads the same every time, that
 * telldir() positions stay valid, and that the listing is complete.
 *
 *   dirseek [-n SAMPLES] [-s SEED] DIR [NAMES]
 *
 * Reads DIR to the end; then reads it again after rewinddir(), which must
 * give the same sequence, noting telldir() before about SAMPLES random
 * entries and at the end; then seekdir()s to each noted position in
 * shuffled order and checks that readdir() returns the entry that followed
 * it (nothing, at the end).  A FUSE daemon hands out these positions as
 * cookies, so this is what checks that its cookies are stable.  With NAMES
 * (a file of names, one a line) the names read other than "." and ".."
 * must be exactly those: none missing, none extra, none twice.
 *
 * Prints a summary; exit status 1 on a mismatch, 2 on a usage or system
 * error.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Report at most this many mismatches of each kind: one is enough to act. */
#define MAX_REPORTS	10

struct names {
	char **v;
	size_t n, cap;
};

struct mark {
	long pos;	/* telldir() before reading entry 'next' */
	size_t next;	/* index of that entry; n for the end */
};

static unsigned long failures;
static uint64_t rng_state;

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void mismatch(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void mismatch(const char *fmt, ...)
{
	va_list ap;

	if (failures++ >= MAX_REPORTS)
		return;
	va_start(ap, fmt);
	fputs("dirseek: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* xorshift64: reproducible from -s on every libc, unlike random(). */
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void push(struct names *ns, const char *name)
{
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? 2 * ns->cap : 1024;
		ns->v = realloc(ns->v, ns->cap * sizeof(*ns->v));
		if (!ns->v)
			die("realloc");
	}
	ns->v[ns->n] = strdup(name);
	if (!ns->v[ns->n++])
		die("strdup");
}

static void free_names(struct names *ns)
{
	while (ns->n)
		free(ns->v[--ns->n]);
	free(ns->v);
}

/* readdir() that tells the end from an error, which it reports as NULL. */
static struct dirent *next_entry(DIR *dir, const char *path)
{
	struct dirent *de;

	errno = 0;
	de = readdir(dir);
	if (!de && errno)
		die(path);
	return de;
}

static void read_all(DIR *dir, const char *path, struct names *ns)
{
	struct dirent *de;

	while ((de = next_entry(dir, path)))
		push(ns, de->d_name);
}

/*
 * The second pass: the same sequence again, noting positions.  Each of the
 * n + 1 positions (before every entry, and the end) is noted with
 * probability samples / n, the end always, so that the cookie meaning
 * "no more" is checked too.
 */
static size_t reread_marking(DIR *dir, const char *path,
			     const struct names *ns, size_t samples,
			     struct mark *marks)
{
	uint64_t limit = UINT64_MAX;
	struct dirent *de;
	size_t i, k = 0;

	if (samples < ns->n)
		limit = (uint64_t)samples * (UINT64_MAX / ns->n);
	rewinddir(dir);
	for (i = 0; i <= ns->n; i++) {
		if (i == ns->n || rng() < limit)
			marks[k++] = (struct mark){ telldir(dir), i };
		de = next_entry(dir, path);
		if (i == ns->n) {
			if (de)
				mismatch("second pass: extra entry '%s' at the "
					 "end", de->d_name);
		} else if (!de) {
			mismatch("second pass: ends after %zu of %zu entries",
				 i, ns->n);
			break;
		} else if (strcmp(de->d_name, ns->v[i])) {
			mismatch("second pass: entry %zu is '%s', was '%s'", i,
				 de->d_name, ns->v[i]);
		}
	}
	return k;
}

static void shuffle(struct mark *marks, size_t k)
{
	struct mark t;
	size_t i, j;

	for (i = k; i > 1; i--) {
		j = rng() % i;
		t = marks[i - 1];
		marks[i - 1] = marks[j];
		marks[j] = t;
	}
}

static void revisit(DIR *dir, const char *path, const struct names *ns,
		    const struct mark *marks, size_t k)
{
	struct dirent *de;
	size_t i;

	for (i = 0; i < k; i++) {
		seekdir(dir, marks[i].pos);
		de = next_entry(dir, path);
		if (marks[i].next == ns->n) {
			if (de)
				mismatch("seekdir to the end (%ld) gives '%s'",
					 marks[i].pos, de->d_name);
		} else if (!de) {
			mismatch("seekdir(%ld) before entry %zu '%s' gives "
				 "the end", marks[i].pos, marks[i].next,
				 ns->v[marks[i].next]);
		} else if (strcmp(de->d_name, ns->v[marks[i].next])) {
			mismatch("seekdir(%ld) gives '%s', expected '%s'",
				 marks[i].pos, de->d_name,
				 ns->v[marks[i].next]);
		}
	}
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names other than "." and "..", sorted; checks those two are there. */
static struct names proper_names(const struct names *ns)
{
	struct names out = { 0 };
	size_t i, dots = 0, dotdots = 0;

	for (i = 0; i < ns->n; i++) {
		if (!strcmp(ns->v[i], "."))
			dots++;
		else if (!strcmp(ns->v[i], ".."))
			dotdots++;
		else
			push(&out, ns->v[i]);
	}
	if (dots != 1 || dotdots != 1)
		mismatch("'.' listed %zu times, '..' %zu times", dots, dotdots);
	qsort(out.v, out.n, sizeof(*out.v), by_name);
	for (i = 1; i < out.n; i++)
		if (!strcmp(out.v[i - 1], out.v[i]))
			mismatch("'%s' listed twice", out.v[i]);
	return out;
}

static struct names read_names_file(const char *path)
{
	struct names ns = { 0 };
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f = fopen(path, "r");

	if (!f)
		die(path);
	while ((len = getline(&line, &cap, f)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		push(&ns, line);
	}
	if (ferror(f))
		die(path);
	free(line);
	fclose(f);
	qsort(ns.v, ns.n, sizeof(*ns.v), by_name);
	return ns;
}

/* Merge the two sorted lists, naming what is only in one of them. */
static void compare_names(const struct names *got, const struct names *want)
{
	size_t i = 0, j = 0;
	int c;

	if (got->n != want->n)
		mismatch("%zu names listed, %zu expected", got->n, want->n);
	while (i < got->n || j < want->n) {
		if (i == got->n)
			c = 1;
		else if (j == want->n)
			c = -1;
		else
			c = strcmp(got->v[i], want->v[j]);
		if (c < 0)
			mismatch("unexpected name '%s'", got->v[i]);
		else if (c > 0)
			mismatch("name '%s' missing", want->v[j]);
		i += c <= 0;
		j += c >= 0;
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: dirseek [-n SAMPLES] [-s SEED] DIR [NAMES]\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	struct names ns = { 0 }, got, want = { 0 };
	struct mark *marks;
	size_t samples = 1000, k;
	const char *path;
	DIR *dir;
	int opt;

	rng_state = 0x9e3779b97f4a7c15u;
	while ((opt = getopt(argc, argv, "n:s:")) != -1) {
		if (opt == 'n')
			samples = strtoul(optarg, NULL, 0);
		else if (opt == 's')
			rng_state ^= strtoull(optarg, NULL, 0);
		else
			usage();
	}
	if (!rng_state)
		rng_state = 1;	/* xorshift's one fixed point */
	if (optind != argc - 1 && optind != argc - 2)
		usage();
	path = argv[optind];
	dir = opendir(path);
	if (!dir)
		die(path);
	read_all(dir, path, &ns);
	/* n + 1 positions at most; each sampled at most once. */
	marks = calloc(ns.n + 1, sizeof(*marks));
	if (!marks)
		die("calloc");
	k = reread_marking(dir, path, &ns, samples, marks);
	shuffle(marks, k);
	revisit(dir, path, &ns, marks, k);
	closedir(dir);
	got = proper_names(&ns);
	if (optind == argc - 2) {
		want = read_names_file(argv[optind + 1]);
		compare_names(&got, &want);
	}
	printf("dirseek: %s: %zu names, %zu positions revisited, "
	       "%lu mismatches\n", path, got.n, k, failures);
	free(marks);
	free_names(&ns);
	free_names(&got);
	free_names(&want);
	return failures ? 1 : 0;
}
