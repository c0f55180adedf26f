#!/usr/bin/python3
"""Make many inodes of an xipfs image share one compressed file's cluster
table, as the format allows: a small image whose files claim far more
bytes than it holds (issue 23, defect 1).  Written from man/xipfs.5 and
format.h alone, through xipfmt.py's named structs; both checksums are fixed up,
so the image is one xipfsck must call clean.

Usage: zshare.py IMAGE SOURCE PREFIX
  every regular file whose entry name starts with PREFIX becomes a copy of
  compressed file SOURCE (an entry name): its inode takes SOURCE's flags,
  size and table (data); prints how many
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from xipfmt import (INODE, INODE_COMPRESSED, dirents, fix_crcs,  # noqa: E402
                    inode, inode_offset, name_of)
from xipimg import entry_ino  # noqa: E402

DT_REG = 8


def share(img, source, prefix):
    src = inode(img, entry_ino(img, source))
    if not src.flags & INODE_COMPRESSED:
        sys.exit(f"zshare: {source!r} is not compressed")
    targets = [e.ino for _, _, e in dirents(img)
               if e.type == DT_REG and name_of(img, e).startswith(prefix)]
    for ino in targets:
        off = inode_offset(img, ino)
        for field in ("flags", "size", "data"):
            INODE.set(img, off, field, getattr(src, field))
    return len(targets)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    with open(sys.argv[1], "rb") as f:
        img = bytearray(f.read())
    print(share(img, sys.argv[2].encode(), sys.argv[3].encode()))
    fix_crcs(img)
    with open(sys.argv[1], "wb") as f:
        f.write(img)


if __name__ == "__main__":
    main()
