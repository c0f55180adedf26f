/* SPDX-License-Identifier: MIT */
/*
 * Replay the fuzz target over files, so every build (gcc, ASan) runs the
 * committed corpus.  With no argument: every file in
 * $top_srcdir/tests/check/data/fuzz-corpus.  Each file is copied into a heap block
 * of exactly its size, so a read past the end is a sanitizer error.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay(const char *path)
{
	uint8_t *buf;
	size_t size;

	if (walk_load_file(path, &buf, &size))
		return 1;
	LLVMFuzzerTestOneInput(buf, size);
	free(buf);
	return 0;
}

static int replay_dir(const char *dir, int *count)
{
	struct dirent **names;
	char path[8192];
	int n, status = 0;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		perror(dir);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && stat(path, &st) == 0 &&
		    S_ISREG(st.st_mode)) {
			status |= replay(path);
			++*count;
		}
		free(names[i]);
	}
	free(names);
	return status;
}

int main(int argc, char **argv)
{
	char dir[4096];
	const char *top = getenv("top_srcdir");
	int status = 0, count = 0;

	if (argc < 2) {
		snprintf(dir, sizeof(dir), "%s/tests/check/data/fuzz-corpus",
			 top ? top : ".");
		status = replay_dir(dir, &count);
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			status |= replay_dir(argv[i], &count);
		} else {
			status |= replay(argv[i]);
			count++;
		}
	}
	printf("%s: replayed %d inputs%s\n", argv[0], count,
	       status ? ", some unreadable" : "");
	if (count == 0)
		status = 1;
	return status;
}
