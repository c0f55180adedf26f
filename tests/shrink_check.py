#!/usr/bin/python3
"""shrink_check.py MNT TREE CMD...: reads through a mount whose source
shrinks under it (tests/mount/shrink.sh), compared with the tree.  CMD is same, eio,
upto, mmap-touch, race or evict (see each below)."""
import errno, mmap, os, sys

mnt, tree, cmd = sys.argv[1], sys.argv[2], sys.argv[3]
args = sys.argv[4:]


def pread(path, off, n):
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.pread(fd, n, off)
    finally:
        os.close(fd)


def evict(paths):
    """Drop the cached pages of these files only (no global drop_caches).
    A name the kernel has forgotten meanwhile (another test's drop_caches:
    make check runs two at a time) is looked up again, which fails with EIO
    once the source is gone: then nothing of it is cached to drop, and the
    reads that follow must fail all the same."""
    for p in paths:
        try:
            fd = os.open(p, os.O_RDONLY)
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            print(f"evict: {p}: EIO (forgotten by the kernel, nothing cached)",
                  file=sys.stderr)
            continue
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)


if cmd == "same":		# same REL OFF LEN: the bytes match the tree
    rel, off, n = args[0], int(args[1]), int(args[2])
    got = pread(os.path.join(mnt, rel), off, n)
    want = pread(os.path.join(tree, rel), off, n)
    if got != want:
        sys.exit(f"{rel}[{off}:+{n}]: {len(got)} bytes read, differ from the tree")
elif cmd == "eio":		# eio REL OFF LEN: the read fails with EIO
    rel, off, n = args[0], int(args[1]), int(args[2])
    try:
        got = pread(os.path.join(mnt, rel), off, n)
    except OSError as e:
        if e.errno != errno.EIO:
            sys.exit(f"{rel}[{off}:+{n}]: {e}, want EIO")
    else:
        sys.exit(f"{rel}[{off}:+{n}]: read {len(got)} bytes, want EIO")
elif cmd == "upto":		# upto REL OFF LEN CUT: a read across CUT returns
    # only bytes before CUT, and they match; reading on from there is EIO.
    rel, off, n, cut = args[0], int(args[1]), int(args[2]), int(args[3])
    path = os.path.join(mnt, rel)
    try:
        got = pread(path, off, n)
    except OSError as e:
        if e.errno != errno.EIO:
            sys.exit(f"{rel}[{off}:+{n}]: {e}, want EIO or a short read")
        got = b""
    if len(got) > cut - off:
        sys.exit(f"{rel}[{off}:+{n}]: read {len(got)} bytes, past the cut at {cut}")
    if got != pread(os.path.join(tree, rel), off, len(got)):
        sys.exit(f"{rel}[{off}:+{n}]: the {len(got)} bytes read differ")
    try:
        more = pread(path, off + len(got), n - len(got))
    except OSError as e:
        if e.errno != errno.EIO:
            sys.exit(f"{rel}[{off + len(got)}:]: {e}, want EIO")
    else:
        sys.exit(f"{rel}[{off + len(got)}:]: read {len(more)} bytes, want EIO")
elif cmd == "mmap-touch":	# mmap-touch REL OFF: read one byte through mmap
    rel, off = args[0], int(args[1])
    with open(os.path.join(mnt, rel), "rb") as f:
        m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
        print(m[off])
elif cmd == "race":		# race IMG ORIG REL CUT SECONDS: the image loses
    # its tail and gets it back, over and over, while REL is read across the
    # cut.  Reads may fail (EIO) or stop short, but what they return must be
    # right; afterwards the file must look as it did (size and bytes).
    import threading, time
    img, orig, rel, cut, secs = args[0], args[1], args[2], int(args[3]), float(args[4])
    with open(orig, "rb") as f:
        tail = f.read()[cut:]
    want = open(os.path.join(tree, rel), "rb").read()
    stop = time.monotonic() + secs
    def writer():
        fd = os.open(img, os.O_WRONLY)
        while time.monotonic() < stop:
            os.ftruncate(fd, cut)
            time.sleep(0.0005)
            os.pwrite(fd, tail, cut)
        os.close(fd)
    t = threading.Thread(target=writer)
    t.start()
    path = os.path.join(mnt, rel)
    reads = errors = short = 0
    sizes = set()
    while time.monotonic() < stop:
        fd = os.open(path, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        off = len(want) - (3 << 20)
        try:
            got = os.pread(fd, 1 << 20, off)
            short += len(got) < (1 << 20)
            if got != want[off:off + len(got)]:
                sys.exit(f"race: {rel}[{off}:+{len(got)}] returned wrong bytes")
        except OSError as e:
            if e.errno != errno.EIO:
                sys.exit(f"race: {e}")
            errors += 1
        sizes.add(os.fstat(fd).st_size)
        os.close(fd)
        reads += 1
    t.join()
    print(f"{reads} reads racing the cut: {errors} EIO, {short} short")
    problems = []
    if sizes != {len(want)}:
        problems.append(f"size seen during the race: {sorted(sizes)}")
    st = os.stat(path).st_size
    if st != len(want):
        problems.append(f"after the race {rel} is {st} bytes, not {len(want)}")
    fd = os.open(path, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    got = os.pread(fd, len(want) + 1, 0)
    os.close(fd)
    if got != want:
        problems.append(f"after the race reading {rel} gives {len(got)} bytes, "
                        + ("a prefix" if want.startswith(got) else "wrong bytes"))
    if problems:
        sys.exit("race: " + "; ".join(problems))
elif cmd == "evict":
    evict(args)
else:
    sys.exit(f"shrink_check.py: unknown command {cmd}")
