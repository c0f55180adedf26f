#!/usr/bin/python3
"""stored_at.py IMAGE PATH...: where each file's stored bytes lie in the
image, as "PATH START END" (image offsets, END exclusive; for a compressed
file, all its stored clusters, cluster 0 first), and "crc_table OFFSET" for
the data CRC table last.  Read from man/xipfs.5 and format.h (through the
test readers xipimg.py and zimg.py), not through libxipfs, so that a test
can damage exactly one file's bytes."""
import struct
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from zimg import INODE_COMPRESSED, lookup  # noqa: E402


def stored(img, path):
    f = lookup(img, path)
    flags, size, data = f[1], f[5], f[9]
    if not flags & INODE_COMPRESSED:
        return data, data + size
    count, first = struct.unpack_from("<IQ", img, data + 4)
    stored_size = struct.unpack_from("<I", img, data + 16 + 4 * (count - 1))[0]
    return first, first + stored_size


def main():
    img = open(sys.argv[1], "rb").read()
    for p in sys.argv[2:]:
        start, end = stored(img, p)
        print(p, start, end)
    print("crc_table", struct.unpack_from("<Q", img, 160)[0])


if __name__ == "__main__":
    main()
