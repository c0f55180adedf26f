#!/usr/bin/python3
"""Make many inodes of an xipfs image share one compressed file's cluster
table, as the format allows: a small image whose files claim far more
bytes than it holds (issue 23, defect 1).  Written from man/xipfs.5 and
format.h alone, through xipimg.py's layouts; both checksums are fixed up,
so the image is one xipfsck must call clean.

Usage: zshare.py IMAGE SOURCE PREFIX
  every regular file whose entry name starts with PREFIX becomes a copy of
  compressed file SOURCE (an entry name): its inode takes SOURCE's flags,
  size and table (data); prints how many
"""
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from xipimg import (INODE, INODE_FIELDS, dirents,  # noqa: E402
                    entry_ino, fix_crcs, inode_offset, set_struct_field)

INODE_COMPRESSED = 2
DT_REG = 8


def share(img, source, prefix):
    src = INODE.unpack_from(img, inode_offset(img, entry_ino(img, source)))
    flags, size, data = (src[INODE_FIELDS.index(f)]
                         for f in ("flags", "size", "data"))
    if not flags & INODE_COMPRESSED:
        sys.exit(f"zshare: {source!r} is not compressed")
    targets = [e[0] for _, _, e in dirents(img)
               if e[2] == DT_REG and bytes(img[e[4]:e[4] + e[1]]).startswith(prefix)]
    for ino in targets:
        off = inode_offset(img, ino)
        for field, value in (("flags", flags), ("size", size),
                             ("data", data)):
            set_struct_field(img, INODE, INODE_FIELDS, off, field, value)
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
