/* SPDX-License-Identifier: MIT */
/*
 * xipfs-map: show where files of an xipfs mount live in the mount's source,
 * or copy their bytes out of a direct mapping of that source, with no
 * FUSE request on the data path.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "xipfs/direct.h"

static void usage(FILE *out)
{
	fputs(
"usage: xipfs-map [options] FILE...\n"
"\n"
"For each FILE on an xipfs mount, map its bytes straight from the mount's\n"
"source (which you must be able to read) and say where they are:\n"
"  FILE: SOURCE offset OFFSET size SIZE aligned|packed\n"
"A compressed file cannot be mapped (only XIP files can): read it instead.\n"
"\n"
"  -c, --cat       write the bytes, read from the direct mapping, to\n"
"                  standard output instead\n"
"  -h, --help      show this help\n"
"  -V, --version   show the version\n", out);
}

static int write_all(const uint8_t *p, uint64_t len)
{
	while (len) {
		ssize_t n = write(STDOUT_FILENO, p,
				  len > (1 << 30) ? (1 << 30) : (size_t)len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (uint64_t)n;
	}
	return 0;
}

static int map_one(const char *path, int cat)
{
	struct xipfs_direct d;
	const char *what;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "xipfs-map: %s: %s\n", path, strerror(errno));
		return 1;
	}
	err = xipfs_direct_map(fd, &d, &what);
	close(fd);
	if (err == -ENOTTY) {
		fprintf(stderr, "xipfs-map: %s: not a regular file on an "
			"xipfs mount\n", path);
		return 1;
	}
	if (err == -EREMOTE) {
		fprintf(stderr, "xipfs-map: %s: the mount's source is a URL; "
			"its bytes are in no local source to map\n", path);
		return 1;
	}
	if (err == -EMEDIUMTYPE) {
		fprintf(stderr, "xipfs-map: %s: compressed file; only XIP "
			"files can be mapped\n", path);
		return 1;
	}
	if (err) {
		fprintf(stderr, "xipfs-map: %s: %s: %s\n", path, what,
			err == -ESTALE ? "the source path now names another "
			"file" : strerror(-err));
		return 1;
	}
	if (cat) {
		err = write_all(d.data, d.size);
		if (err)
			fprintf(stderr, "xipfs-map: write: %s\n",
				strerror(errno));
	} else {
		printf("%s: %s offset %" PRIu64 " size %" PRIu64 " %s\n", path,
		       d.source, d.where.offset, d.where.size,
		       d.where.flags & XIPFS_WHERE_ALIGNED ? "aligned" :
		       "packed");
	}
	xipfs_direct_unmap(&d);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cat", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int opt, cat = 0, status = 0;

	while ((opt = getopt_long(argc, argv, "chV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': cat = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("xipfs-map (xipfs) %s\n", PACKAGE_VERSION);
			  return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind == argc) {
		fputs("xipfs-map: no file given\n", stderr);
		usage(stderr);
		return 2;
	}
	for (; optind < argc; optind++)
		status |= map_one(argv[optind], cat);
	if (fflush(stdout) == EOF) {
		perror("xipfs-map: stdout");
		status = 1;
	}
	return status;
}
