/* SPDX-License-Identifier: MIT */
/*
 * --xip-list FILE: the files that stay in place whatever --xip says.
 * One path or fnmatch(3) pattern a line, relative to the image root (a
 * leading '/' is dropped); a line that is empty, blank or whose first
 * non-blank character is '#' is ignored; everything else is taken verbatim, so a name with
 * spaces needs no quoting (a name that starts with '#' is written with a
 * leading '/').  Patterns match as --exclude does ('*' crosses '/').  It
 * is also what the daemon's -o profile=FILE writes, so a profile feeds
 * straight back in.  Plain paths go in a hash table (a profile can list
 * thousands); only patterns are tried one by one.
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mkxipfs.h"

#define LINE_MAX_LEN 4095	/* a path: as PATH_MAX less the NUL */

/* Is one component "", "." or ".."?  Those name nothing in an image. */
static int bad_component(const char *s, size_t len)
{
	return len == 0 || (len == 1 && s[0] == '.') ||
	       (len == 2 && s[0] == '.' && s[1] == '.');
}

int xiplist_line(char *line, size_t len, const char **path, const char **why)
{
	size_t i = 0;

	*why = NULL;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len || line[i] == '#')
		return 0;
	if (memchr(line, '\0', len)) {
		*why = "contains a NUL byte";
		return -1;
	}
	line[len] = '\0';
	if (*line == '/') {	/* before the length: a profile writes it */
		line++;
		len--;
	}
	if (len > LINE_MAX_LEN) {
		*why = "longer than 4095 bytes";
		return -1;
	}
	for (const char *p = line, *end = line + len; p <= end;) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		size_t n = slash ? (size_t)(slash - p) : (size_t)(end - p);

		if (bad_component(p, n)) {
			*why = len ? "empty, '.' or '..' path component" :
				     "the root is not a file";
			return -1;
		}
		p += n + 1;
	}
	*path = line;
	return 1;
}

static int is_pattern(const char *s)
{
	return strpbrk(s, "*?[\\") != NULL;
}

static void add_path(struct xiplist *l, const char *path)
{
	char *copy = strcpy(xmalloc(strlen(path) + 1), path);
	struct strlist *to = is_pattern(path) ? &l->patterns : &l->paths;

	to->v = xrealloc_array(to->v, to->n + 1, sizeof(*to->v));
	to->v[to->n] = copy;
	if (to == &l->paths)
		ht_insert(&l->index, hash_buf(0, path, strlen(path)),
			  (uint32_t)to->n);
	to->n++;
}

struct list_reader {
	struct xiplist *l;
	const char *file;
};

static int list_line(void *arg, char *line, size_t len, unsigned long no)
{
	struct list_reader *lr = arg;
	const char *path, *why;

	if (len && line[len - 1] == '\n')
		len--;
	switch (xiplist_line(line, len, &path, &why)) {
	case 1:
		add_path(lr->l, path);
		return 0;
	case -1:
		fprintf(stderr, "mkxipfs: %s:%lu: %s\n", lr->file, no, why);
		return -1;
	}
	return 0;
}

int xiplist_load(struct xiplist *l, const char *file)
{
	struct list_reader lr = { l, file };

	return for_each_line(file, list_line, &lr);
}

int xiplist_match(const struct xiplist *l, const char *relpath)
{
	size_t len = strlen(relpath);
	struct ht_iter it;

	for (uint32_t i = ht_first(&l->index, hash_buf(0, relpath, len), &it);
	     i != NONE; i = ht_next(&l->index, &it))
		if (!strcmp(l->paths.v[i], relpath))
			return 1;
	for (size_t i = 0; i < l->patterns.n; i++)
		if (fnmatch(l->patterns.v[i], relpath, 0) == 0)
			return 1;
	return 0;
}

void xiplist_free(struct xiplist *l)
{
	for (size_t i = 0; i < l->paths.n; i++)
		free(l->paths.v[i]);
	for (size_t i = 0; i < l->patterns.n; i++)
		free(l->patterns.v[i]);
	free(l->paths.v);
	free(l->patterns.v);
	ht_free(&l->index);
	memset(l, 0, sizeof(*l));
}
