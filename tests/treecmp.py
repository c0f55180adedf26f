#!/usr/bin/python3
"""Compare two directory trees the way a round trip must preserve them.

Usage: treecmp.py [--no-owner] [--skip-xattr PREFIX]... [--clamp T]
                  [--mtime-sec] A B

Checks, for every path: node type, permission bits (incl. setuid/sticky),
owner (unless --no-owner), size and every byte, mtime to the nanosecond
(after clamping A's to T with --clamp), symlink target, device number,
every xattr (names and values), and that hard-link groups match.  Prints
each difference and exits 1 if there is any.
"""
import argparse
import os
import stat
import sys


def walk(root):
    out = {".": root}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            out[os.path.relpath(full, root)] = full
    return out


def xattrs(path, skip):
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    return {n: os.getxattr(path, n, follow_symlinks=False)
            for n in sorted(names) if not n.startswith(tuple(skip))}


def same_bytes(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-owner", action="store_true")
    ap.add_argument("--skip-xattr", action="append", default=[])
    ap.add_argument("--clamp", type=int)
    ap.add_argument("--mtime-sec", action="store_true",
                    help="compare mtimes to the second (formats without ns)")
    ap.add_argument("a")
    ap.add_argument("b")
    opt = ap.parse_args()
    errors = []
    ta, tb = walk(opt.a), walk(opt.b)
    for p in sorted(set(ta) ^ set(tb)):
        errors.append(f"{p}: only in {'A' if p in ta else 'B'}")
    links_a, links_b = {}, {}
    for p in sorted(set(ta) & set(tb)):
        sa, sb = os.lstat(ta[p]), os.lstat(tb[p])
        def diff(what, x, y):
            if x != y:
                errors.append(f"{p}: {what} {x!r} != {y!r}")
        diff("type", stat.S_IFMT(sa.st_mode), stat.S_IFMT(sb.st_mode))
        if stat.S_IFMT(sa.st_mode) != stat.S_IFMT(sb.st_mode):
            continue
        if not stat.S_ISLNK(sa.st_mode):
            diff("mode", oct(stat.S_IMODE(sa.st_mode)),
                 oct(stat.S_IMODE(sb.st_mode)))
        if not opt.no_owner:
            diff("uid", sa.st_uid, sb.st_uid)
            diff("gid", sa.st_gid, sb.st_gid)
        mtime = sa.st_mtime_ns
        if opt.clamp is not None:
            mtime = min(mtime, opt.clamp * 10**9)
        if opt.mtime_sec:
            diff("mtime", mtime // 10**9, sb.st_mtime_ns // 10**9)
        else:
            diff("mtime_ns", mtime, sb.st_mtime_ns)
        if stat.S_ISREG(sa.st_mode):
            diff("size", sa.st_size, sb.st_size)
            if sa.st_size == sb.st_size and not same_bytes(ta[p], tb[p]):
                errors.append(f"{p}: contents differ")
            links_a.setdefault((sa.st_dev, sa.st_ino), set()).add(p)
            links_b.setdefault((sb.st_dev, sb.st_ino), set()).add(p)
        if stat.S_ISLNK(sa.st_mode):
            diff("target", os.readlink(ta[p]), os.readlink(tb[p]))
        if stat.S_ISCHR(sa.st_mode) or stat.S_ISBLK(sa.st_mode):
            diff("rdev", sa.st_rdev, sb.st_rdev)
        diff("xattrs", xattrs(ta[p], opt.skip_xattr),
             xattrs(tb[p], opt.skip_xattr))
    groups = lambda m: sorted(sorted(g) for g in m.values() if len(g) > 1)
    if groups(links_a) != groups(links_b):
        errors.append(f"hard links {groups(links_a)} != {groups(links_b)}")
    for e in errors:
        print("treecmp:", e, file=sys.stderr)
    print(f"treecmp: {len(set(ta) & set(tb))} paths compared, "
          f"{len(errors)} differences")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
