#!/usr/bin/python3
"""A small, independent reader/patcher of xipfs images, written from
man/xipfs.5 alone, for tests that craft hostile images: it changes one
field and recomputes both checksums, so that the damage is what the tools
must catch (not merely a CRC mismatch).

The layout is tests/xipfmt.py's (format.h's fields by name).

Usage: xipimg.py IMAGE COMMAND ARGS...
  set-sb FIELD VALUE           a superblock field, by its name in format.h
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
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xipfmt import (DIRENT, INODE, RO_COMPAT_DATA_CRC, RO_COMPAT_META_CRC,  # noqa: E402
                    SUPER, XATTR,
                    dirents, fix_crcs, fix_super_crc, inode, inode_offset,
                    name_of, super_of)


def find_entry(img, name):
    """(dirent offset, Dirent) of the first entry called name."""
    for _, off, e in dirents(img):
        if name_of(img, e) == name:
            return off, e
    sys.exit(f"xipimg: no entry named {name!r}")


def entry_ino(img, name):
    return 1 if name == b"/" else find_entry(img, name)[1].ino


def rename(img, old, new):
    assert len(old) == len(new)
    _, e = find_entry(img, old)
    img[e.name_offset:e.name_offset + e.name_len] = new


def set_inode(img, name, field, value):
    INODE.set(img, inode_offset(img, entry_ino(img, name)), field, value)


def set_dirent(img, name, field, value):
    off, _ = find_entry(img, name)
    DIRENT.set(img, off, field, value)


def poke_target(img, name, index, byte):
    img[inode(img, entry_ino(img, name)).data + index] = byte


def poke_xattr(img, name, xname, index, byte):
    f = inode(img, entry_ino(img, name))
    pos, end = f.xattr_offset, f.xattr_offset + f.xattr_size
    while pos < end:
        x = XATTR.read(img, pos)
        at = pos + XATTR.size
        if bytes(img[at:at + x.name_len]) == xname:
            img[at + x.name_len + index] = byte
            return
        pos = at + x.name_len + x.value_len
    sys.exit(f"xipimg: {name!r} has no xattr {xname!r}")


def claim_inodes(img, count):
    """Geometry that is consistent but claims count inodes: the table
    starts at the metadata region and fills it; data follows."""
    block = 1 << super_of(img).block_log2
    inode_off = SUPER.size
    meta_size = count * INODE.size
    data_off = (inode_off + meta_size + block - 1) // block * block
    for field, value in (("image_size", data_off), ("meta_offset", SUPER.size),
                         ("meta_size", meta_size), ("data_offset", data_off),
                         ("inode_offset", inode_off), ("inode_count", count)):
        SUPER.set(img, 0, field, value)
    # no data region is left, so no data CRC table either, nor a metadata
    # CRC table after it
    SUPER.set(img, 0, "ro_compat",
              super_of(img).ro_compat & ~(RO_COMPAT_DATA_CRC | RO_COMPAT_META_CRC))
    for field in ("crc_offset", "crc_table_crc", "reserved3",
                  "meta_table_offset", "meta_table_crc", "reserved4"):
        SUPER.set(img, 0, field, 0)
    return data_off


def main():
    path, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(path, "rb") as f:
        img = bytearray(f.read())
    size, fix = None, True
    if cmd == "set-sb":		# set-sb FIELD VALUE: a superblock field
        SUPER.set(img, 0, args[0], int(args[1], 0))
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
        fix_super_crc(img)
    with open(path, "r+b") as f:
        f.write(img)
        if size is not None:
            f.truncate(size)


if __name__ == "__main__":
    main()
