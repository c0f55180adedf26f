#!/usr/bin/python3
"""A small, independent reader/patcher of xipfs images, written from
man/xipfs.5 alone, for tests that craft hostile images: it changes one
field and recomputes both checksums, so that the damage is what the tools
must catch (not merely a CRC mismatch).

Usage: xipimg.py IMAGE COMMAND ARGS...
  set-sb FORMAT OFFSET VALUE   a superblock field (struct FORMAT, e.g. <I)
  flip OFFSET                  flip the bits of one byte; CRCs left wrong
  rename OLD NEW               rename an entry (same length; any directory)
  set-inode NAME FIELD VALUE   an inode field (mode, nlink, data, ...) of
                               the entry NAME ('/' is the root)
  set-dirent NAME FIELD VALUE  a field (ino, type) of the entry NAME
  poke-target NAME INDEX BYTE  one byte of symlink NAME's target
  poke-xattr NAME XNAME INDEX BYTE   one byte of xattr XNAME's value
  claim-inodes COUNT           the superblock claims COUNT inodes and a
                               metadata region to hold them; the file is
                               extended (sparse) to the size that claims
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


INODE_FIELDS = ("mode", "flags", "nlink", "uid", "gid", "size", "mtime",
                "mtime_nsec", "parent", "data", "xattr_offset", "xattr_size",
                "reserved")
DIRENT_FIELDS = ("ino", "name_len", "type", "reserved", "name_offset")


def inode_offset(img, ino):
    return SB.unpack_from(img, 0)[11] + (ino - 1) * 64


def find_entry(img, name):
    """(dirent offset, dirent fields) of the first entry called name."""
    for _, off, e in dirents(img):
        if bytes(img[e[4]:e[4] + e[1]]) == name:
            return off, e
    sys.exit(f"xipimg: no entry named {name!r}")


def entry_ino(img, name):
    return 1 if name == b"/" else find_entry(img, name)[1][0]


def set_struct_field(img, st, fields, off, field, value):
    vals = list(st.unpack_from(img, off))
    vals[fields.index(field)] = value
    st.pack_into(img, off, *vals)


def rename(img, old, new):
    assert len(old) == len(new)
    off, e = find_entry(img, old)
    img[e[4]:e[4] + e[1]] = new


def set_inode(img, name, field, value):
    off = inode_offset(img, entry_ino(img, name))
    set_struct_field(img, INODE, INODE_FIELDS, off, field, value)


def set_dirent(img, name, field, value):
    off, _ = find_entry(img, name)
    set_struct_field(img, DIRENT, DIRENT_FIELDS, off, field, value)


def poke_target(img, name, index, byte):
    f = INODE.unpack_from(img, inode_offset(img, entry_ino(img, name)))
    img[f[9] + index] = byte


def poke_xattr(img, name, xname, index, byte):
    f = INODE.unpack_from(img, inode_offset(img, entry_ino(img, name)))
    pos, end = f[10], f[10] + f[11]
    while pos < end:
        vlen, nlen, _ = struct.unpack_from("<IHH", img, pos)
        if bytes(img[pos + 8:pos + 8 + nlen]) == xname:
            img[pos + 8 + nlen + index] = byte
            return
        pos += 8 + nlen + vlen
    sys.exit(f"xipimg: {name!r} has no xattr {xname!r}")


def claim_inodes(img, count):
    """Geometry that is consistent but claims count inodes: the table
    starts at the metadata region and fills it; data follows."""
    block = 1 << img[20]
    inode_off = 256
    meta_size = count * 64
    data_off = (inode_off + meta_size + block - 1) // block * block
    struct.pack_into("<QQQQQI", img, 24, data_off, 256, meta_size, data_off,
                     inode_off, count)
    # no data region is left, so no data CRC table either
    ro_compat = struct.unpack_from("<I", img, 16)[0] & ~1
    struct.pack_into("<I", img, 16, ro_compat)
    struct.pack_into("<QII", img, 160, 0, 0, 0)
    return data_off


def main():
    path, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(path, "rb") as f:
        img = bytearray(f.read())
    size, fix = None, True
    if cmd == "set-sb":		# set-sb FORMAT OFFSET VALUE: a superblock field
        struct.pack_into(args[0], img, int(args[1]), int(args[2], 0))
    elif cmd == "flip":		# flip OFFSET: the byte's bits, CRCs left wrong
        img[int(args[0])] ^= 0xff
        fix = False
    elif cmd == "rename":
        rename(img, args[0].encode(), args[1].encode())
    elif cmd == "set-inode":
        set_inode(img, args[0].encode(), args[1], int(args[2], 0))
    elif cmd == "set-dirent":
        set_dirent(img, args[0].encode(), args[1], int(args[2], 0))
    elif cmd == "poke-target":
        poke_target(img, args[0].encode(), int(args[1]), int(args[2], 0))
    elif cmd == "poke-xattr":
        poke_xattr(img, args[0].encode(), args[1].encode(), int(args[2]),
                   int(args[3], 0))
    elif cmd == "claim-inodes":
        size = claim_inodes(img, int(args[0], 0))
    else:
        sys.exit(f"xipimg: unknown command {cmd}")
    if size is None:
        if fix:
            fix_crcs(img)
    else:
        # the metadata CRC would cost a pass over the claimed size: only
        # the superblock's is made right, which is what opening checks
        struct.pack_into("<I", img, 84, 0)
        struct.pack_into("<I", img, 84, crc32c(img[:256]))
    with open(path, "r+b") as f:
        f.write(img)
        if size is not None:
            f.truncate(size)


if __name__ == "__main__":
    main()
