#!/usr/bin/python3
"""Compressed files and data checksums of an xipfs image, read from
man/xipfs.5 and format.h alone (tests/xipfmt.py, independent of libxipfs), for the
builder's tests.

Usage: zimg.py IMAGE COMMAND ARGS...
  check-crc        recompute every data block's CRC32C and the table's own
                   CRC; print "crc: N blocks ok" or fail; fail also when
                   the image has no data CRC table
  storage PATH...  how each file is stored: "PATH xip|packed|zstd|lz4|empty"
                   (PATH from the root, leading '/')
  features         "incompat=0x.. ro_compat=0x.."
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xipfmt import (INODE_COMPRESSED, INODE_PACKED, ROOT_INO, ZALG,  # noqa: E402
                    crc32c, data_crc_table, dir_entries, inode, is_reg, name_of,
                    super_of)


def lookup(img, path):
    """The Inode of PATH (from the root, leading '/')."""
    ino = ROOT_INO
    for name in path.strip("/").split("/"):
        if not name:
            continue
        for _, e in dir_entries(img, inode(img, ino)):
            if name_of(img, e) == name.encode():
                ino = e.ino
                break
        else:
            sys.exit(f"zimg: {path}: not in the image")
    return inode(img, ino)


def storage(img, path):
    f = lookup(img, path)
    if not is_reg(f):
        sys.exit(f"zimg: {path}: not a regular file")
    if f.flags & INODE_COMPRESSED:
        alg = img[f.data]	# the Ztable's algorithm
        return ZALG.get(alg, f"alg{alg}")
    if f.size == 0:
        return "empty"
    return "packed" if f.flags & INODE_PACKED else "xip"


def check_crc(img):
    sb = super_of(img)
    table = data_crc_table(img)
    if table is None:
        sys.exit("zimg: no data CRC table")
    at, blocks, crcs = table
    if crc32c(img[at:at + 4 * blocks]) != sb.crc_table_crc:
        sys.exit("zimg: the table's CRC does not match")
    block = 1 << sb.block_log2
    for i in range(blocks):
        b = img[sb.data_offset + i * block:sb.data_offset + (i + 1) * block]
        if crc32c(b) != crcs[i]:
            sys.exit(f"zimg: block {i} does not match its CRC")
    return blocks


def main():
    img = open(sys.argv[1], "rb").read()
    cmd = sys.argv[2]
    if cmd == "check-crc":
        print(f"crc: {check_crc(img)} blocks ok")
    elif cmd == "storage":
        for p in sys.argv[3:]:
            print(p, storage(img, p))
    elif cmd == "features":
        sb = super_of(img)
        print(f"incompat={sb.incompat:#x} ro_compat={sb.ro_compat:#x}")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
