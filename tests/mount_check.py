#!/usr/bin/python3
"""Checks of a mounted image against its source tree, for the mount tests
(what tests/treecmp.py does not look at).  Each is a command:

  mapcmp SRC MNT        every byte through a shared read-only mapping, and
                        only zeros after EOF in the last page; every byte
                        with O_DIRECT; link counts of every node; readdir's
                        inode numbers and types are stat's
  same TREE MNT NAME... each file through read() and through mmap
  preads TREE MNT SEED COUNT NAME...
                        COUNT random preads of each file at odd offsets
                        and lengths (across cluster ends, past EOF), half
                        of them with O_DIRECT, so that READ gets exactly
                        those ranges; every byte matches TREE
  statfs MNT IMAGE SRC BSIZE
                        statvfs: the image's block size, size in blocks,
                        inode count, read-only
  private-map PATH      a private writable mapping is private; opening for
                        writing and a shared writable mapping are refused
  overrides SRC MNT UID GID UMASK
                        every node shows UID, GID and its mode under UMASK
  subdir-ino WHOLE SUB  inode numbers of a subdir= mount are those of the
                        whole image's, its root shown as 1
  past-4g SRC MNT       a 5 GiB file (mount/large-file.sh) through pread and mmap on
                        either side of 4 GiB, matching SRC and its marks
  exit-after-unmount PID MNT
                        unmount MNT, print how long the daemon PID takes to
                        end (or "never" within 10 s)

Exit status 0 when the check holds; messages on standard error.
"""
import ctypes
import errno
import mmap
import os
import random
import select
import stat
import subprocess
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
PAGE = mmap.PAGESIZE
direct_buf = mmap.mmap(-1, 1 << 20)	# page-aligned, as O_DIRECT wants


def last_page_tail(fd, size):
    """The bytes after EOF in the file's last page (Python's mmap stops
    at EOF)."""
    off = size // PAGE * PAGE
    addr = libc.mmap(None, PAGE, mmap.PROT_READ, mmap.MAP_SHARED, fd, off)
    if addr in (None, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), "mmap")
    try:
        return ctypes.string_at(addr + size - off, PAGE - (size - off))
    finally:
        libc.munmap(addr, PAGE)


def read_direct(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    out, pos = [], 0
    try:
        while n := os.preadv(fd, [direct_buf], pos):
            out.append(direct_buf[:n])
            pos += n
    finally:
        os.close(fd)
    return b"".join(out)


def mapcmp(src, mnt):
    errors, mapped = [], 0
    errors, mapped = [], 0
    for dirpath, dirnames, filenames in os.walk(src):
        rel = os.path.relpath(dirpath, src)
        mdir = os.path.normpath(os.path.join(mnt, rel))
        for e in os.scandir(mdir):
            st = os.lstat(e.path)
            if e.inode() != st.st_ino:
                errors.append(f"{e.path}: d_ino {e.inode()} != st_ino {st.st_ino}")
            if e.is_dir(follow_symlinks=False) != stat.S_ISDIR(st.st_mode):
                errors.append(f"{e.path}: d_type disagrees with st_mode")
        for name in [None] + filenames:
            a = dirpath if name is None else os.path.join(dirpath, name)
            b = mdir if name is None else os.path.join(mdir, name)
            sa = os.lstat(a)
            try:
                sb = os.lstat(b)
            except FileNotFoundError:
                errors.append(f"{b}: missing")
                continue
            if sa.st_nlink != sb.st_nlink:
                errors.append(f"{b}: nlink {sb.st_nlink}, source {sa.st_nlink}")
            if not stat.S_ISREG(sa.st_mode) or sa.st_size == 0:
                continue
            with open(a, "rb") as fa, open(b, "rb") as fb:
                want = fa.read()
                with mmap.mmap(fb.fileno(), 0, prot=mmap.PROT_READ) as m:
                    if len(m) != len(want) or m[:] != want:
                        errors.append(f"{b}: mapped bytes differ")
                if sa.st_size % PAGE and last_page_tail(fb.fileno(),
                                                        sa.st_size).strip(b"\0"):
                    errors.append(f"{b}: bytes after EOF in the last page")
            if read_direct(b) != want:
                errors.append(f"{b}: O_DIRECT bytes differ")
            mapped += 1
    for e in errors[:20]:
        print("mapcmp:", e, file=sys.stderr)
    print(f"mapcmp: {mapped} files mapped, {len(errors)} differences")
    return 1 if errors else 0


def same(tree, mnt, *names):
    for n in names:
        want = open(os.path.join(tree, n), "rb").read()
        with open(os.path.join(mnt, n), "rb") as f:
            if f.read() != want:
                return f"{n}: read() differs"
            if want:
                with mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as m:
                    if m[:] != want:
                        return f"{n}: mmap differs"
    return 0


def pread_ranges(rng, size, count):
    """Offsets and lengths of count reads of a file of size bytes: around
    every power-of-two boundary from 4 KiB (cluster and block ends), near
    EOF and anywhere, of lengths from 1 byte to over 1 MiB."""
    lengths = [1, 2, 7, 511, 4095, 4097, 65535, 65537, 131073, 1048577]
    marks = [size, size - 1] + [1 << k for k in range(12, 25) if 1 << k < size]
    for _ in range(count):
        if rng.random() < 0.5 and marks:
            off = max(0, rng.choice(marks) + rng.randint(-3, 3))
        else:
            off = rng.randrange(max(size, 1) + 10)
        yield off, rng.choice(lengths) if rng.random() < 0.6 else rng.randint(1, 300000)


def preads(tree, mnt, seed, count, *names):
    rng = random.Random(int(seed))
    done = 0
    for n in names:
        want = open(os.path.join(tree, n), "rb").read()
        path = os.path.join(mnt, n)
        fds = [os.open(path, os.O_RDONLY), os.open(path, os.O_RDONLY | os.O_DIRECT)]
        try:
            for i, (off, length) in enumerate(pread_ranges(rng, len(want), int(count))):
                got = os.pread(fds[i % 2], length, off)
                if got != want[off:off + length]:
                    return (f"{n}: pread({length} at {off}{', O_DIRECT' if i % 2 else ''}) "
                            f"gave {len(got)} bytes that differ")
                done += 1
        finally:
            for fd in fds:
                os.close(fd)
    print(f"preads: {done} reads matched")
    return 0


def statfs(mnt, image, src, bsize):
    bsize = int(bsize)
    sv = os.statvfs(mnt)
    inodes = {os.lstat(os.path.join(d, n)).st_ino
              for d, ds, fs in os.walk(src) for n in ds + fs} | {os.lstat(src).st_ino}
    want = dict(f_bsize=bsize, f_frsize=bsize,
                f_blocks=os.stat(image).st_size // bsize, f_files=len(inodes),
                f_bfree=0, f_bavail=0, f_namemax=255, rdonly=os.ST_RDONLY)
    got = {k: getattr(sv, k) for k in want if k != "rdonly"}
    got["rdonly"] = sv.f_flag & os.ST_RDONLY
    if got != want:
        return f"statfs: {got}, expected {want}"
    return 0


def private_map(path):
    fd = os.open(path, os.O_RDONLY)
    orig = os.pread(fd, 70000, 0)
    copy = mmap.mmap(fd, 0, access=mmap.ACCESS_COPY)
    copy[0:4] = b"XIPX"
    copy[69990:70000] = b"0123456789"
    assert copy[0:4] == b"XIPX" and copy[69990:] == b"0123456789"
    assert os.pread(fd, 70000, 0) == orig, "private change reached read()"
    with mmap.mmap(fd, 0, prot=mmap.PROT_READ) as other:
        assert other[:] == orig, "private change reached another mapping"
    with open(path, "rb") as f:
        assert f.read() == orig, "private change reached another open file"
    copy.close()
    def refused(what, code, fn):
        try:
            fn()
        except OSError as e:
            assert e.errno == code, f"{what}: {e}, expected {errno.errorcode[code]}"
            return
        raise AssertionError(f"{what} succeeded")
    refused("O_RDWR open", errno.EROFS, lambda: os.open(path, os.O_RDWR))
    refused("O_WRONLY open", errno.EROFS, lambda: os.open(path, os.O_WRONLY))
    refused("MAP_SHARED|PROT_WRITE", errno.EACCES, lambda: mmap.mmap(
        fd, 0, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE))
    return 0


def overrides(src, mnt, uid, gid, umask):
    uid, gid, umask = int(uid), int(gid), int(umask, 8)
    bad = 0
    for d, ds, fs in os.walk(src):
        for n in [None] + ds + fs:
            a = d if n is None else os.path.join(d, n)
            b = os.path.join(mnt, os.path.relpath(a, src))
            sa, sb = os.lstat(a), os.lstat(b)
            want = (uid, gid, stat.S_IFMT(sa.st_mode) | (sa.st_mode & ~umask & 0o7777))
            got = (sb.st_uid, sb.st_gid, sb.st_mode)
            if stat.S_ISLNK(sa.st_mode):
                want, got = want[:2], got[:2]
            if got != want:
                bad += 1
                print(f"{b}: uid, gid, mode {got}, expected {want}", file=sys.stderr)
    return 1 if bad else 0


def subdir_ino(whole, sub):
    assert os.stat(sub).st_ino == 1
    assert os.stat(os.path.join(sub, "deeper", "..")).st_ino == 1
    moved = os.stat(whole).st_ino
    for top, dirs, files in os.walk(sub):
        for n in dirs + files:
            p = os.path.join(top, n)
            a = os.lstat(p).st_ino
            b = os.lstat(os.path.join(whole, os.path.relpath(p, sub))).st_ino
            assert a == b and a not in (1, moved), (p, a, b)
    return 0


def past_4g(src, mnt):
    G = 1 << 30
    probes = [(0, 8), (4 * G - 1, 1), (4 * G, 1), (4 * G - 8, 16),
              (4 * G + 12345, 13), (4 * G + 12340, 32), (5 * G - 1, 1),
              (5 * G - 100, 100), (2 * G + 777, 64), (5 * G, 10)]
    marks = {(0, 8): b"start\0\0\0", (4 * G - 1, 1): b"B", (4 * G, 1): b"C",
             (4 * G - 8, 16): b"\0" * 7 + b"BC" + b"\0" * 7,
             (4 * G + 12345, 13): b"past four gib", (5 * G - 1, 1): b"E",
             (5 * G, 10): b""}
    a, b = os.open(src, os.O_RDONLY), os.open(mnt, os.O_RDONLY)
    bad = []
    if os.fstat(b).st_size != 5 * G:
        bad.append(f"st_size {os.fstat(b).st_size}")
    for off, n in probes:
        want, got = os.pread(a, n, off), os.pread(b, n, off)
        if got != want or marks.get((off, n), want) != want:
            bad.append(f"pread({n}, {off}): {got!r}, expected {want!r}")
    # Mappings past 4 GiB: the mapped offset itself does not fit in 32 bits.
    for off, n in [(4 * G, 65536), (4 * G - 4096, 8192), (5 * G - 8192, 8192)]:
        with mmap.mmap(b, n, prot=mmap.PROT_READ, offset=off) as m:
            want = os.pread(a, n, off)
            if m[:] != want:
                bad.append(f"mmap({n}, {off}) differs")
    with mmap.mmap(b, 65536, prot=mmap.PROT_READ, offset=4 * G) as m:
        if m[0:1] != b"C" or m[12345:12358] != b"past four gib":
            bad.append(f"mmap at 4 GiB: {m[0:1]!r} {m[12345:12358]!r}")
    for e in bad:
        print("probe:", e, file=sys.stderr)
    return 1 if bad else 0


def exit_after_unmount(pid, mnt):
    fd = os.pidfd_open(int(pid))
    subprocess.run(["fusermount3", "-u", mnt], check=True)
    t0 = time.monotonic()
    ready, _, _ = select.select([fd], [], [], 10)
    print("%.3f" % (time.monotonic() - t0) if ready else "never")
    return 0


COMMANDS = {"mapcmp": mapcmp, "same": same, "preads": preads, "statfs": statfs,
            "private-map": private_map, "overrides": overrides,
            "subdir-ino": subdir_ino, "past-4g": past_4g, "exit-after-unmount": exit_after_unmount}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: mount_check.py {'|'.join(COMMANDS)} ARGS...")
    sys.exit(COMMANDS[sys.argv[1]](*sys.argv[2:]))
