#!/usr/bin/python3
"""Write a fixed pax tar that exercises every part of the image format:
directories, files of edge sizes, a huge-aligned file, a hard link,
symlinks, a fifo, devices, user and ACL xattrs, a long and a UTF-8 name.
The bytes depend on nothing but this script, so the image mkxipfs makes
of it can be pinned by hash (tests/build/image-pin.sh): a refactor that
changes one byte of any image fails there.

Usage: pin_tar.py OUT.tar
"""
import struct
import sys
import tarfile
import io

MTIME = 1_600_000_000


def acl(entries):
    """A system.posix_acl_access value: version 2, then (tag, perm, id)."""
    return struct.pack("<I", 2) + b"".join(
        struct.pack("<HHI", tag, perm, ident) for tag, perm, ident in entries)


def data(n, seed):
    """n bytes of a repeatable, not too compressible pattern."""
    out = bytearray()
    x = seed
    while len(out) < n:
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out += x.to_bytes(8, "little")
    return bytes(out[:n])


def member(name, kind=tarfile.REGTYPE, mode=0o644, uid=0, gid=0, **kw):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.uid, ti.gid = uid, gid
    ti.uname = ti.gname = ""
    ti.mtime = kw.pop("mtime", MTIME)
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti


def main():
    out = sys.argv[1]
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        def add(ti, body=None):
            if body is not None:
                ti.size = len(body)
                tar.addfile(ti, io.BytesIO(body))
            else:
                tar.addfile(ti)

        add(member("./", tarfile.DIRTYPE, 0o755))
        add(member("bin/", tarfile.DIRTYPE, 0o755))
        add(member("etc/", tarfile.DIRTYPE, 0o755, mtime=MTIME + 7))
        add(member("dev/", tarfile.DIRTYPE, 0o755))
        add(member("deep/a/b/c/", tarfile.DIRTYPE, 0o700, uid=1000, gid=100))
        for i, size in enumerate([0, 1, 100, 4095, 4096, 4097, 70000]):
            add(member(f"etc/f{size}", mode=0o640 | (i & 1) * 0o4000,
                       uid=i, gid=2 * i), data(size, i + 1))
        add(member("bin/huge", mode=0o755), data(3 << 20, 99))
        add(member("bin/tool", mode=0o755), b"\x7fELF" + data(20000, 7))
        add(member("bin/tool-link", tarfile.LNKTYPE, linkname="bin/tool"))
        add(member("bin/sh", tarfile.SYMTYPE, 0o777, linkname="tool"))
        add(member("etc/far", tarfile.SYMTYPE, 0o777,
                   linkname="../" * 40 + "x" * 100))
        add(member("dev/null", tarfile.CHRTYPE, 0o666, devmajor=1,
                   devminor=3))
        add(member("dev/sda", tarfile.BLKTYPE, 0o660, gid=6, devmajor=8,
                   devminor=0))
        add(member("dev/fifo", tarfile.FIFOTYPE, 0o600))
        xa = member("etc/xattrs", mode=0o644)
        xa.pax_headers = {
            "SCHILY.xattr.user.comment": "pinned",
            "SCHILY.xattr.trusted.t": "x" * 300,
        }
        add(xa, b"with xattrs\n")
        ac = member("etc/acl", mode=0o640)
        ac.pax_headers = {"SCHILY.xattr.system.posix_acl_access":
                          acl([(1, 6, 0xffffffff), (2, 4, 1000),
                               (4, 4, 0xffffffff), (0x10, 4, 0xffffffff),
                               (0x20, 0, 0xffffffff)])
                          .decode("utf-8", "surrogateescape")}
        add(ac, b"acl\n")
        add(member("etc/" + "n" * 255), b"long name\n")
        add(member("etc/\u00e9t\u00e9-\u65e5\u672c"), b"utf-8\n")
        for i in range(40):
            add(member(f"deep/a/b/c/s{i:02d}", mode=0o600, uid=1000,
                       gid=100), data(i * 37, 200 + i))


if __name__ == "__main__":
    main()
