#!/usr/bin/python3
"""Guest checks of one mounted image against what the host recorded.

  tree MNT MANIFEST NAMES
      prints "pass|fail CHECK: why" for: walk (every name of NAMES, no
      other), read (every file's SHA-256 through read()), mmap (every
      file through a shared read-only mapping equals what read() gave),
      pread (odd offsets and lengths, across page ends and past EOF)
  copies MNT FILE...
      maps every FILE shared and read-only, touches each page, and prints
      "copies C bytes B cached_kb K": C is how much the page cache
      (/proc/meminfo Cached + Buffers) grew per mapped byte
  daxmap MNT FILE
      maps FILE, touches it, prints its smaps entry; exit 0 when the
      mapping carries the flags only a DAX file's mmap sets (FUSE sets
      neither: "hg", VM_HUGEPAGE, or "mm", VM_MIXEDMAP, set by xfs on a
      DAX inode), so the pages are the PMEM's own
  eio MNT FILE
      reading FILE fails with EIO (exit 0), any bytes returned: exit 1
"""
import errno
import hashlib
import mmap
import os
import random
import sys


def walk(mnt):
    names = []
    for root, dirs, files in os.walk(mnt):
        for n in dirs + files:
            names.append("." + os.path.join(root, n)[len(mnt):])
    names.append(".")
    return sorted(names)


def check_tree(mnt, manifest, names_file):
    want = sorted(open(names_file).read().split("\n")[:-1])
    got = walk(mnt)
    if got == want:
        print("pass walk: %d names" % len(got))
    else:
        print("fail walk: differs from the host's: %s" %
              sorted(set(got) ^ set(want))[:5])
    sums = {}
    for line in open(manifest):
        digest, name = line.rstrip("\n").split("  ", 1)
        sums[name] = digest
    bad = {"read": [], "mmap": [], "pread": []}
    rng = random.Random(20)
    for name, digest in sums.items():
        path = os.path.join(mnt, name)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            bad["read"].append("%s: %s" % (name, e))
            continue
        if hashlib.sha256(data).hexdigest() != digest:
            bad["read"].append(name + ": checksum")
            continue
        fd = os.open(path, os.O_RDONLY)
        try:
            if data:
                with mmap.mmap(fd, 0, mmap.MAP_SHARED, mmap.PROT_READ) as m:
                    if m[:] != data:
                        bad["mmap"].append(name)
            for _ in range(64):
                off = rng.randrange(0, len(data) + 5000) | 1
                n = rng.randrange(1, 200000)
                if os.pread(fd, n, off) != data[off:off + n]:
                    bad["pread"].append("%s at %d+%d" % (name, off, n))
                    break
        except OSError as e:
            bad["mmap"].append("%s: %s" % (name, e))
        finally:
            os.close(fd)
    for what, errs in bad.items():
        if what != "read" and bad["read"]:
            print("fail %s: not checked, read failed" % what)
        elif errs:
            print("fail %s: %d files, first %s" % (what, len(errs), errs[0]))
        else:
            print("pass %s: %d files" % (what, len(sums)))


def meminfo(*keys):
    """kB of page cache: file pages (Cached) and a block device's own
    (Buffers), where a block-device source's pages go."""
    total = 0
    for line in open("/proc/meminfo"):
        if line.split(":")[0] in keys:
            total += int(line.split()[1])
    return total


def copies(mnt, files):
    maps, total = [], 0
    before = meminfo("Cached", "Buffers")
    for name in files:
        fd = os.open(os.path.join(mnt, name), os.O_RDONLY)
        size = os.fstat(fd).st_size
        m = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ)
        os.close(fd)
        for off in range(0, size, mmap.PAGESIZE):
            m[off]
        maps.append(m)
        total += size
    after = meminfo("Cached", "Buffers")
    print("copies %.3f bytes %d cached_kb %d" %
          ((after - before) * 1024.0 / max(total, 1), total, after - before))
    for m in maps:
        m.close()


def daxmap(mnt, name):
    path = os.path.join(mnt, name)
    fd = os.open(path, os.O_RDONLY)
    size = os.fstat(fd).st_size
    m = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ)
    os.close(fd)
    for off in range(0, size, mmap.PAGESIZE):
        m[off]
    entry, found = [], False
    for line in open("/proc/self/smaps"):
        head = line.split()
        if head and "-" in head[0] and ":" not in head[0]:
            if found:
                break
            found = line.rstrip().endswith(path)
            entry = []
        if found:
            entry.append(line.rstrip())
    m.close()
    print("\n".join("  smaps: " + e for e in entry), file=sys.stderr)
    flags = [e for e in entry if e.startswith("VmFlags:")]
    return 0 if flags and (" hg" in flags[0] or " mm" in flags[0]) else 1


def eio(mnt, name):
    try:
        with open(os.path.join(mnt, name), "rb") as f:
            data = f.read()
    except OSError as e:
        if e.errno == errno.EIO:
            return 0
        print("%s: %s, not EIO" % (name, e), file=sys.stderr)
        return 1
    print("%s: %d bytes read, no EIO" % (name, len(data)), file=sys.stderr)
    return 1


def main():
    cmd = sys.argv[1]
    if cmd == "tree":
        check_tree(*sys.argv[2:5])
        return 0
    if cmd == "copies":
        copies(sys.argv[2], sys.argv[3:])
        return 0
    if cmd == "daxmap":
        return daxmap(sys.argv[2], sys.argv[3])
    if cmd == "eio":
        return eio(sys.argv[2], sys.argv[3])
    print("unknown command " + cmd, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
