#!/usr/bin/python3
"""stored_at.py IMAGE PATH...: where each file's stored bytes lie in the
image, as "PATH START END" (image offsets, END exclusive; for a compressed
file, all its stored clusters, cluster 0 first), and "crc_table OFFSET" for
the data CRC table last.  Read from man/xipfs.5 and format.h (through the
test readers xipfmt.py and zimg.py), not through libxipfs, so that a test
can damage exactly one file's bytes."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xipfmt import INODE_COMPRESSED, super_of, ztable  # noqa: E402
from zimg import lookup  # noqa: E402


def stored(img, path):
    f = lookup(img, path)
    if not f.flags & INODE_COMPRESSED:
        return f.data, f.data + f.size
    hdr, ends = ztable(img, f)
    return hdr.data, hdr.data + ends[-1]


def main():
    img = open(sys.argv[1], "rb").read()
    for p in sys.argv[2:]:
        start, end = stored(img, p)
        print(p, start, end)
    print("crc_table", super_of(img).crc_offset)


if __name__ == "__main__":
    main()
