#!/usr/bin/python3
"""A small, independent reader/patcher of xipfs images, written from
man/xipfs.5 alone, for tests that craft hostile images: it renames a
directory entry and recomputes both checksums, so that the damage is what
the tools must catch (not merely a CRC mismatch).

Usage: xipimg.py IMAGE rename OLD NEW   (same length; any directory)
"""
import struct
import sys

SB = struct.Struct("<IHHIIIB3xQQQQQIIqIIII16sQII32s96x")
INODE = struct.Struct("<HHIIIQqIIQQII")
DIRENT = struct.Struct("<IBBHQ")


def crc32c(data, crc=0):
    table = crc32c.table
    if table is None:
        table = crc32c.table = []
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
            table.append(c)
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFFFFFF


crc32c.table = None


def fix_crcs(img):
    meta_off, meta_size = struct.unpack_from("<QQ", img, 32)
    struct.pack_into("<I", img, 88, crc32c(img[meta_off:meta_off + meta_size]))
    struct.pack_into("<I", img, 84, 0)
    struct.pack_into("<I", img, 84, crc32c(img[:256]))


def dirents(img):
    sb = SB.unpack_from(img, 0)
    inode_off, count = sb[11], sb[12]
    for ino in range(1, count + 1):
        f = INODE.unpack_from(img, inode_off + (ino - 1) * 64)
        mode, size, data = f[0], f[5], f[9]
        if mode & 0o170000 != 0o040000:
            continue
        for i in range(size // 16):
            e = DIRENT.unpack_from(img, data + i * 16)
            yield ino, data + i * 16, e


def rename(img, old, new):
    assert len(old) == len(new)
    for _, _, (ino, nlen, typ, _, noff) in dirents(img):
        if bytes(img[noff:noff + nlen]) == old:
            img[noff:noff + nlen] = new
            return
    sys.exit(f"xipimg: no entry named {old!r}")


def main():
    path, cmd = sys.argv[1], sys.argv[2]
    with open(path, "rb") as f:
        img = bytearray(f.read())
    if cmd == "rename":
        rename(img, sys.argv[3].encode(), sys.argv[4].encode())
    else:
        sys.exit(f"xipimg: unknown command {cmd}")
    fix_crcs(img)
    with open(path, "wb") as f:
        f.write(img)


if __name__ == "__main__":
    main()
