#!/usr/bin/python3
"""Hostile inputs for the builder, generated reproducibly (seeded), for
tests/mount/hostile-input.sh (and build/edge-cases.sh, build/bad-input.sh).

Usage: hostile_inputs.py COMMAND ARGS...
  devtable-lines N SEED     N device-table lines, one a line: the grammar's
                            every type with too few, too many, empty,
                            quoted, escaped, huge and junk fields
  tar-dev OUT MAJOR MINOR   a pax tar holding one character device whose
                            SCHILY.devmajor/devminor are MAJOR and MINOR
  tar-sample OUT            a pax tar with every member kind, xattrs, a
                            hard link and long names
  tar-mutants SRC DIR N SEED   N damaged copies of tar SRC in DIR: cut
                            short, bytes flipped in headers, pax records
                            mangled
  deep-tree DIR DEPTH       DIR/d/d/... DEPTH directories deep
  deep-tar OUT DEPTH        the same as a pax tar (paths past PATH_MAX)
  tar-names OUT DATA NAME...   a pax tar of regular files named NAME...,
                            each holding DATA (names the builder must
                            refuse or normalise)
"""
import io
import os
import random
import sys
import tarfile

TYPES = "dcbpslmx"
FIELD_POOL = [
    "", "-", "0", "644", "0755", "07777", "17777", "99999999999999999999",
    "4095", "4096", "1048575", "1048576", "4294967295", "4294967296",
    "-1", "0x10", "abc", "\"\"", "\"a b\"", "\"unterminated", "\\", "\\0",
    "\\377", "\\400", "\\n", "#comment", "user.a=1", "user.a=0xzz",
    "user.a=0x", "-user.a", "=", "system.posix_acl_access=0xdeadbeef",
    "security.capability=0x00", "trusted.x=\"v\"", "/", "//", "/a/../b",
    "/etc/motd", "x" * 300, "/" + "y" * 5000,
]


def devtable_lines(n, seed):
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        nf = rnd.randrange(0, 10)
        fields = []
        for i in range(nf):
            if i == 0 and rnd.random() < 0.7:
                fields.append(rnd.choice(["/x", "/d/e", "/", "x", "/a b"]))
            elif i == 1 and rnd.random() < 0.8:
                fields.append(rnd.choice(TYPES + "qz"))
            else:
                fields.append(rnd.choice(FIELD_POOL))
        sep = rnd.choice([" ", "\t", "  "])
        line = sep.join(fields)
        if rnd.random() < 0.05:
            line += "\r"
        out.append(line)
    sys.stdout.write("\n".join(out) + "\n")


def add(t, name, kind=tarfile.REGTYPE, data=b"", **kw):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    ti.mtime = 1700000000
    for k, v in kw.items():
        setattr(ti, k, v)
    t.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def tar_dev(out, major, minor):
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        add(t, "dev", tarfile.CHRTYPE, devmajor=1, devminor=1,
            pax_headers={"SCHILY.devmajor": major, "SCHILY.devminor": minor})


def tar_sample(out):
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        add(t, "d", tarfile.DIRTYPE, mode=0o755)
        add(t, "d/f", data=b"hello\n" * 100, mode=0o644,
            pax_headers={"SCHILY.xattr.user.note": "v"})
        add(t, "d/l", tarfile.SYMTYPE, linkname="f")
        add(t, "d/h", tarfile.LNKTYPE, linkname="d/f")
        add(t, "d/c", tarfile.CHRTYPE, devmajor=5, devminor=1)
        add(t, "d/p", tarfile.FIFOTYPE)
        add(t, "d/" + "n" * 200, data=b"long", mode=0o600)


def tar_mutants(src, outdir, n, seed):
    rnd = random.Random(seed)
    base = open(src, "rb").read()
    for i in range(n):
        b = bytearray(base)
        how = rnd.randrange(4)
        if how == 0:
            b = b[:rnd.randrange(1, len(b))]
        elif how == 1:
            for _ in range(rnd.randrange(1, 8)):
                # headers and pax records sit in the first bytes of blocks
                blk = rnd.randrange(len(b) // 512)
                b[blk * 512 + rnd.randrange(512)] = rnd.randrange(256)
        elif how == 2:
            at = b.find(b" path=")
            at = b.find(b"=", rnd.randrange(len(b) // 2)) if at < 0 else at
            b[at:at + 1] = bytes([rnd.choice(b"\0\n 9=")])
        else:
            at = rnd.randrange(len(b))
            b[at:at] = bytes(rnd.randrange(256) for _ in range(7))
        with open(os.path.join(outdir, f"m{i:04d}.tar"), "wb") as f:
            f.write(b)


def deep_tree(top, depth):
    os.makedirs(top, exist_ok=True)
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(depth):
        os.mkdir("d", dir_fd=fd)
        nfd = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    with open(os.open("leaf", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd),
              "w") as f:
        f.write("bottom\n")
    os.close(fd)


def deep_tar(out, depth):
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        for k in range(1, depth + 1):
            add(t, "/".join(["d"] * k), tarfile.DIRTYPE, mode=0o755)
        add(t, "/".join(["d"] * depth + ["leaf"]), data=b"bottom\n")


def tar_names(out, data, names):
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        for name in names:
            add(t, name, data=data.encode())


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "devtable-lines":
        devtable_lines(int(a[0]), int(a[1]))
    elif cmd == "tar-dev":
        tar_dev(a[0], a[1], a[2])
    elif cmd == "tar-sample":
        tar_sample(a[0])
    elif cmd == "tar-mutants":
        tar_mutants(a[0], a[1], int(a[2]), int(a[3]))
    elif cmd == "deep-tar":
        deep_tar(a[0], int(a[1]))
    elif cmd == "tar-names":
        tar_names(a[0], a[1], a[2:])
    elif cmd == "deep-tree":
        deep_tree(a[0], int(a[1]))
    else:
        sys.exit(f"hostile_inputs: unknown command {cmd}")


if __name__ == "__main__":
    main()
