#!/usr/bin/python3
"""Generate the trees the benchmarks and the tests read: seeded, so every
tool sees the same bytes and a failure can be reproduced.  File contents
are slices of one random pool (fast, incompressible, distinct).

Usage: gen-tree.py DIR [--kind KIND] [--files N] [--big-mib M] [--seed S]
                       [--manifest FILE]
       gen-tree.py --kind empty-tar|names-tar [--files N] [--names FILE] TAR
                       (TAR "-": standard output)

Kinds:
  bench      (default) N files (default 50000), log-uniform 1 B-64 KiB, 200
             to a directory, plus a file 'big' of M MiB (default 1024; 0: none).
  mount      N files (default 2000), 50 to a directory: sizes 0-300 KiB, the
             first on or one byte either side of a page or 16 KiB block;
             assorted modes and owners (as root), some xattrs, nested
             directories, hard links within and across directories (some
             with three names), nanosecond mtimes.  Seed 1107 by default.
  stress     N files (default 2500) of 0 to 1 MiB in nested directories
             (depth up to 4) and 40 symbolic links; --manifest FILE writes
             the files, directories and links as JSON.  Seed 1808 by default.
  empty-tar  a ustar stream of N empty files (default 1000000) in
             directories of 1000: a many-inode image without the inodes.
  wide       N entries (default 100000) in DIR itself, entry-NNNNNN, empty
             but every 1000th, which holds its number.
  names-tar  a GNU tar stream of one directory 'big' of N entries (default
             100000) with names of 7 to 255 bytes, a few directories and
             symbolic links among them; --names FILE gets the names, one a
             line, in the order written.
"""
import argparse
import json
import math
import os
import random
import sys
import tarfile

# Sizes on or one byte either side of a 4 KiB page and a 16 KiB block.
EDGES = [0, 1, 4095, 4096, 4097, 8191, 8192, 8193, 12288, 12289, 16383,
         16384, 16385, 65535, 65536, 65537, 131072, 131073, 307199, 307200]


class Pool:
    """Random bytes that files are cut from."""

    def __init__(self, rng, size):
        self.rng, self.data = rng, rng.randbytes(size)

    def cut(self, n):
        off = self.rng.randrange(0, len(self.data) - n + 1)
        return self.data[off:off + n]


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def mixture(rng, table):
    """A size from TABLE: (upper bound of r, size or (lo, hi) for randrange
    or a list to choose from), the first whose bound r is under."""
    r = rng.random()
    for bound, what in table:
        if r < bound or bound == 1:
            break
    if isinstance(what, int):
        return what
    if isinstance(what, list):
        return rng.choice(what)
    return rng.randrange(*what)


def random_mtimes(rng, root):
    """Nanosecond mtimes on everything, deepest first."""
    for dirpath, _, filenames in os.walk(root, topdown=False):
        for name in filenames:
            os.utime(os.path.join(dirpath, name),
                     ns=(0, rng.randrange(0, 2**31) * 10**9 + rng.randrange(10**9)))
        os.utime(dirpath, ns=(0, rng.randrange(0, 2**31) * 10**9 + rng.randrange(10**9)))


def gen_bench(opt, rng):
    blob = rng.randbytes(1 << 16)
    os.makedirs(opt.dir, exist_ok=True)
    total = 0
    for i in range(opt.files):
        d = os.path.join(opt.dir, f"d{i // 200:03d}")
        if i % 200 == 0:
            os.makedirs(d, exist_ok=True)
        size = int(math.exp(rng.uniform(0, math.log(1 << 16))))
        start = rng.randrange(0, (1 << 16) - size + 1)
        write(os.path.join(d, f"f{i:06d}"), blob[start:start + size])
        total += size
    if opt.big_mib:
        chunk = rng.randbytes(1 << 20)
        with open(os.path.join(opt.dir, "big"), "wb") as f:
            for k in range(opt.big_mib):
                f.write(chunk[k % 7:] + chunk[:k % 7])
    return (f"{opt.files} files, {total} bytes small, "
            f"{opt.big_mib} MiB big file in {opt.dir}")


def gen_mount(opt, rng):
    root = opt.dir
    pool = Pool(rng, 4 << 20)
    table = [(0.15, EDGES), (0.70, (0, 8192)), (0.95, (8192, 65536)),
             (1, (65536, 300 * 1024 + 1))]
    per_dir = 50
    files = []
    for d in range((opt.files + per_dir - 1) // per_dir):
        dpath = os.path.join(root, f"d{d:02d}")
        os.makedirs(dpath)
        for i in range(d * per_dir, min(opt.files, (d + 1) * per_dir)):
            p = os.path.join(dpath, f"f{i:04d}")
            write(p, pool.cut(EDGES[i] if i < len(EDGES) else mixture(rng, table)))
            owner = rng.choice([0, 1, 1000, 65534]), rng.choice([0, 100, 4242])
            mode = rng.choice([0o644, 0o600, 0o755, 0o444, 0o640, 0o2755])
            if os.geteuid() == 0:
                os.chown(p, *owner)	# first: it would clear the setgid bit
            os.chmod(p, mode)
            if i % 97 == 0:
                os.setxattr(p, "user.n", str(i).encode())
            files.append(p)
        if d % 4 == 0:
            os.makedirs(os.path.join(dpath, "nested", "more"))
    ndirs = (opt.files + per_dir - 1) // per_dir
    # Hard links: some in the same directory, some across, some with 3 names.
    for k, p in enumerate(files[::37]):
        os.link(p, f"{p}.ln")
        os.link(p, os.path.join(root, f"d{k * 7 % ndirs:02d}", f"x{k:03d}"))
        if k % 3 == 0:
            os.link(p, os.path.join(root, f"d{k * 11 % ndirs:02d}", "nested"
                                    if k % 4 == 0 else "", f"y{k:03d}"))
    random_mtimes(rng, root)
    return f"{len(files)} files in {ndirs} directories in {root}"


def gen_stress(opt, rng):
    root = opt.dir
    pool = Pool(rng, 8 << 20)
    dirs = [""]
    for i in range(60):
        parent = rng.choice(dirs) if i >= 10 else ""
        d = os.path.join(parent, f"dir{i:02d}")
        if d.count("/") < 4:
            dirs.append(d)
    for d in dirs:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    table = [(0.10, 0), (0.65, (1, 16384)), (0.97, (16384, 131072)),
             (0.995, (131072, 1 << 20)), (1, 1 << 20)]
    files, links = [], []
    for i in range(opt.files):
        rel = os.path.join(rng.choice(dirs), f"f{i:04d}")
        write(os.path.join(root, rel), pool.cut(mixture(rng, table)))
        files.append(rel)
    for i in range(40):
        rel = os.path.join(rng.choice(dirs), f"l{i:02d}")
        os.symlink(os.path.relpath(os.path.join(root, rng.choice(files)),
                                   os.path.dirname(os.path.join(root, rel))),
                   os.path.join(root, rel))
        links.append(rel)
    if opt.manifest:
        with open(opt.manifest, "w") as f:
            json.dump({"files": files, "dirs": dirs, "links": links}, f)
    return f"{len(files)} files, {len(dirs)} directories, {len(links)} links in {root}"


def gen_wide(opt, rng):
    os.makedirs(opt.dir, exist_ok=True)
    for i in range(opt.files):
        fd = os.open(f"{opt.dir}/entry-{i:06d}", os.O_CREAT | os.O_WRONLY, 0o644)
        if i % 1000 == 0:
            os.write(fd, b"%d\n" % i)
        os.close(fd)
    return f"{opt.files} entries in {opt.dir}"


def tar_entry(name, kind=tarfile.REGTYPE, mode=0o644, target=""):
    t = tarfile.TarInfo(name)
    t.type, t.mode, t.linkname, t.mtime = kind, mode, target, 1600000000
    return t


def gen_names_tar(opt, rng):
    out = sys.stdout.buffer if opt.dir == "-" else open(opt.dir, "wb")
    names = open(opt.names, "w") if opt.names else None
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.GNU_FORMAT) as tar:
        tar.addfile(tar_entry("big", tarfile.DIRTYPE, 0o755))
        for i in range(opt.files):
            name = f"e{i:06d}" + "-" * (i * 7919 % 97)
            if i % 1000 == 999:
                name = name.ljust(255, "z")
            if i % 20000 == 1:
                tar.addfile(tar_entry("big/" + name, tarfile.DIRTYPE, 0o755))
            elif i % 20000 == 2:
                tar.addfile(tar_entry("big/" + name, tarfile.SYMTYPE, 0o777, "e000000"))
            else:
                tar.addfile(tar_entry("big/" + name))
            if names:
                print(name, file=names)
    if names:
        names.close()
    if out is not sys.stdout.buffer:
        out.close()
    return f"{opt.files} names in a tar stream"


def gen_empty_tar(opt, rng):
    out = sys.stdout.buffer if opt.dir == "-" else open(opt.dir, "wb")
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.USTAR_FORMAT) as t:
        for i in range(opt.files):
            if i % 1000 == 0:
                d = tarfile.TarInfo(f"d{i // 1000:04d}")
                d.type, d.mode = tarfile.DIRTYPE, 0o755
                t.addfile(d)
            f = tarfile.TarInfo(f"d{i // 1000:04d}/f{i:07d}")
            f.mode = 0o644
            t.addfile(f)
    if out is not sys.stdout.buffer:
        out.close()
    return f"{opt.files} empty files in a tar stream"


KINDS = {"bench": (gen_bench, 50000, 1), "mount": (gen_mount, 2000, 1107),
         "stress": (gen_stress, 2500, 1808), "empty-tar": (gen_empty_tar, 1000000, 0),
         "wide": (gen_wide, 100000, 0), "names-tar": (gen_names_tar, 100000, 0)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--kind", choices=KINDS, default="bench")
    ap.add_argument("--files", type=int)
    ap.add_argument("--big-mib", type=int, default=1024)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--manifest")
    ap.add_argument("--names")
    opt = ap.parse_args()
    fn, files, seed = KINDS[opt.kind]
    opt.files = files if opt.files is None else opt.files
    rng = random.Random(seed if opt.seed is None else opt.seed)
    print(f"gen-tree: {fn(opt, rng)}", file=sys.stderr if opt.dir == "-" else sys.stdout)


if __name__ == "__main__":
    main()
