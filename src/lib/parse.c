/* SPDX-License-Identifier: MIT */
/* Parsing shared by the tools' command lines. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#include "xipfs/xipfs.h"

/*
 * A byte count for offset/size options: decimal, 0x hex or 0 octal, with an
 * optional binary suffix K, M, G or T (KiB and up), since image windows are
 * usually given in those units.
 */
int xipfs_parse_size(const char *arg, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!isdigit((unsigned char)arg[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(arg, &end, 0);
	if (errno)
		return -errno;
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	default: break;
	}
	if (shift && (*end == 'i' || *end == 'I'))
		end++;
	if (shift && (*end == 'B' || *end == 'b'))
		end++;
	if (*end != '\0')
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}
