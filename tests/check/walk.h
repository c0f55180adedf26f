/* SPDX-License-Identifier: MIT */
/*
 * A "touch everything" walker over an image in memory, shared by the
 * corruption corpus tool, the fuzz target and its replay driver.
 *
 * It opens the image, optionally runs xipfs_verify(), then calls every
 * accessor of libxipfs on every inode of the table and walks the tree from
 * the root through readdir cookies and lookup.  Independently of
 * xipfs_verify() it checks the tree's consistency (lookup agrees with
 * readdir, entry types, parents, link counts, reachability, order), so the
 * two can be compared.  Compressed files are read cluster by cluster and
 * through xipfs_file_read(), and every file's stored bytes are checked
 * against the data CRC table, so a fuzzer reaches the decompressors.  Every loop is bounded: a bit per inode and a step
 * budget, so a damaged image cannot make it loop or run for long.
 */
#ifndef XIPFS_TESTS_WALK_H
#define XIPFS_TESTS_WALK_H

#include <stddef.h>
#include <stdint.h>

#define WALK_VERIFY	0x1u	/* also run xipfs_verify() */

struct walk_summary {
	int open_err;		/* xipfs_image_open() result */
	long verify;		/* xipfs_verify() problems; -1 if not run */
	uint64_t inodes;	/* inodes decoded without error */
	uint64_t dirs, files, symlinks, devices, others;
	uint64_t entries;	/* stored directory entries seen */
	uint64_t xattrs;	/* xattr entries seen */
	uint64_t bytes;		/* file bytes read */
	uint64_t sum;		/* sum of every byte read (keeps reads live) */
	uint64_t fingerprint;	/* hash of everything observable */
	uint64_t errors;	/* accessor calls that reported damage */
	uint64_t anomalies;	/* inconsistencies the library let through */
	uint64_t data_damage;	/* data blocks against their CRC, frames that
				 * do not decode: for the data pass, not for
				 * xipfs_verify(), so not counted as damage
				 * by walk_found_damage() */
	unsigned int max_depth;
	int budget_exhausted;	/* stopped early: step budget used up */
	char first_problem[160];	/* first error or anomaly, for humans */
	char first_data_damage[160];
};

/* Read a whole file into a heap block of exactly its size (so a read past
 * the end is a sanitizer error).  Returns 0, or -1 after perror(). */
int walk_load_file(const char *path, uint8_t **data, size_t *len);

/* Walk the image at data[0..len).  Returns 0, or -ENOMEM. */
int walk_image(const void *data, size_t len, unsigned int flags,
	       struct walk_summary *out);

/*
 * Recompute super_crc and meta_crc of the image in buf[0..len) in place
 * (meta_crc only if the metadata region fits in len), so that structural
 * damage, not a checksum, is what a reader must catch.
 */
void walk_fix_crcs(uint8_t *buf, size_t len);

/* Did the walk find the image damaged (errors or anomalies)? */
static inline int walk_found_damage(const struct walk_summary *s)
{
	return s->errors || s->anomalies;
}

#endif
