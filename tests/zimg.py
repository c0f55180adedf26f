#!/usr/bin/python3
"""Compressed files and data checksums of an xipfs image, read from
man/xipfs.5 and format.h alone (independent of libxipfs), for the
builder's tests.

Usage: zimg.py IMAGE COMMAND ARGS...
  check-crc        recompute every data block's CRC32C and the table's own
                   CRC; print "crc: N blocks ok" or fail; fail also when
                   the image has no data CRC table
  storage PATH...  how each file is stored: "PATH xip|packed|zstd|lz4|empty"
                   (PATH from the root, leading '/')
  features         "incompat=0x.. ro_compat=0x.."
"""
import struct
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from xipimg import DIRENT, INODE, SB, crc32c  # noqa: E402

INODE_PACKED, INODE_COMPRESSED = 1, 2
ALG = {1: "zstd", 2: "lz4"}


def inode(img, ino):
    return INODE.unpack_from(img, SB.unpack_from(img, 0)[11] + (ino - 1) * 64)


def lookup(img, path):
    ino = 1
    for name in [p for p in path.split("/") if p]:
        f = inode(img, ino)
        for i in range(f[5] // 16):
            e = DIRENT.unpack_from(img, f[9] + i * 16)
            if bytes(img[e[4]:e[4] + e[1]]) == name.encode():
                ino = e[0]
                break
        else:
            sys.exit(f"zimg: {path}: not in the image")
    return inode(img, ino)


def storage(img, path):
    f = lookup(img, path)
    flags, size, data = f[1], f[5], f[9]
    if f[0] & 0o170000 != 0o100000:
        sys.exit(f"zimg: {path}: not a regular file")
    if flags & INODE_COMPRESSED:
        return ALG.get(img[data], f"alg{img[data]}")
    if size == 0:
        return "empty"
    return "packed" if flags & INODE_PACKED else "xip"


def check_crc(img):
    block = 1 << img[20]
    data_off = SB.unpack_from(img, 0)[10]
    ro_compat = struct.unpack_from("<I", img, 16)[0]
    at, table_crc = struct.unpack_from("<QI", img, 160)
    if not ro_compat & 1:
        sys.exit("zimg: no data CRC table")
    blocks = (at - data_off) // block
    table = img[at:at + 4 * blocks]
    if crc32c(table) != table_crc:
        sys.exit("zimg: the table's CRC does not match")
    for i in range(blocks):
        b = img[data_off + i * block:data_off + (i + 1) * block]
        if crc32c(b) != struct.unpack_from("<I", table, 4 * i)[0]:
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
        inc, ro = struct.unpack_from("<II", img, 12)
        print(f"incompat={inc:#x} ro_compat={ro:#x}")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
