#!/bin/bash
# Mount an image of the sample tree plus a few thousand generated files and
# compare the mount with the source: every byte through read() and through
# mmap, every stat field the format keeps, xattrs, links; in every read
# mode, single-threaded, with OPEN requests, and over packed files.  Then
# what a read-only mount must refuse or allow, statfs, /proc/mounts and the
# uid=/gid=/umask= overrides.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
need_root
need_cmd setfattr
need_cmd fusermount3
[ -c /dev/fuse ] || skip "needs /dev/fuse"

make_sample_tree "$WORK/tree"

# 2000 files in 40 directories: sizes from 0 to 300 KiB, many of them on or
# one byte either side of a page (and of a 16 KiB block); distinct contents
# cut from a random pool; assorted modes, owners, nanosecond mtimes, a few
# xattrs, and hard links within and across directories.  Seeded, so that a
# failure can be reproduced.
python3 - "$WORK/tree/gen" <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(1107)
pool = rng.randbytes(4 << 20)
edges = [0, 1, 4095, 4096, 4097, 8191, 8192, 8193, 12288, 12289, 16383,
         16384, 16385, 65535, 65536, 65537, 131072, 131073, 307199, 307200]
def size(i):
    if i < len(edges):
        return edges[i]
    r = rng.random()
    if r < 0.15:
        return rng.choice(edges)
    if r < 0.70:
        return rng.randrange(0, 8192)
    if r < 0.95:
        return rng.randrange(8192, 65536)
    return rng.randrange(65536, 300 * 1024 + 1)
files = []
for d in range(40):
    dpath = os.path.join(root, f"d{d:02d}")
    os.makedirs(dpath)
    for f in range(50):
        i = d * 50 + f
        p = os.path.join(dpath, f"f{i:04d}")
        n = size(i)
        off = rng.randrange(0, len(pool) - n + 1)
        with open(p, "wb") as fh:
            fh.write(pool[off:off + n])
        # chown first: it would clear the setgid bit.
        os.chown(p, rng.choice([0, 1, 1000, 65534]), rng.choice([0, 100, 4242]))
        os.chmod(p, rng.choice([0o644, 0o600, 0o755, 0o444, 0o640, 0o2755]))
        if i % 97 == 0:
            os.setxattr(p, "user.n", str(i).encode())
        files.append(p)
    if d % 4 == 0:
        os.makedirs(os.path.join(dpath, "nested", "more"))
# Hard links: some in the same directory, some across, some with 3 names.
for k, p in enumerate(files[::37]):
    os.link(p, f"{p}.ln")
    os.link(p, os.path.join(root, f"d{k * 7 % 40:02d}", f"x{k:03d}"))
    if k % 3 == 0:
        os.link(p, os.path.join(root, f"d{k * 11 % 40:02d}", "nested"
                                if k % 4 == 0 else "", f"y{k:03d}"))
for dirpath, dirnames, filenames in os.walk(root, topdown=False):
    for name in filenames:
        p = os.path.join(dirpath, name)
        os.utime(p, ns=(0, rng.randrange(0, 2**31) * 10**9 + rng.randrange(10**9)))
    os.utime(dirpath, ns=(0, rng.randrange(0, 2**31) * 10**9 + rng.randrange(10**9)))
PY

# What treecmp.py does not look at: every byte through a shared read-only
# mapping, and past the end of the last page's data only zeros (bytes that
# follow the file in the image must not leak in); every byte read with
# O_DIRECT, which skips the page cache; link counts of every node
# (directories too); and that readdir's inode numbers are stat's.
cat >"$WORK/mapcmp.py" <<'PY'
import ctypes, mmap, os, stat, sys
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

src, mnt = sys.argv[1], sys.argv[2]
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
sys.exit(1 if errors else 0)
PY

"$MKXIPFS" -q "$WORK/tree" "$WORK/img.xip"
"$MKXIPFS" -q --pack-small=4096 "$WORK/tree" "$WORK/packed.xip"
"$MKXIPFS" -q --block-size=16384 "$WORK/tree" "$WORK/16k.xip"
"$XIPFSCK" -l "$WORK/packed.xip" | grep -q ' pack ' ||
	fail "--pack-small=4096 packed nothing"
mnt="$WORK/mnt"

# compare NAME IMAGE [xipfs options]: mapped bytes first, on a fresh mount
# (so the pages come from the daemon, not from an earlier read), then
# treecmp.py on another fresh mount.
compare() {
	name=$1 image=$2; shift 2
	xipfs_mount "$image" "$mnt" "$@"
	python3 "$WORK/mapcmp.py" "$WORK/tree" "$mnt" >/dev/null ||
		fail "$name: mapped contents or link counts differ"
	xipfs_unmount "$mnt"
	xipfs_mount "$image" "$mnt" "$@"
	python3 "$TREECMP" "$WORK/tree" "$mnt" >/dev/null ||
		fail "$name: mounted tree differs"
	xipfs_unmount "$mnt"
	! grep -v -e '^xipfs stats' -e ': passthrough off: ' "$WORK/xipfs.log" | grep -q . || fail "$name: daemon complained: $(cat "$WORK/xipfs.log")"
	ok "$name: mount matches the source"
}

compare default "$WORK/img.xip"
compare copy "$WORK/img.xip" -o read=copy
compare splice "$WORK/img.xip" -o read=splice
compare single-threaded "$WORK/img.xip" -s
compare open-requests "$WORK/img.xip" -o open
compare packed "$WORK/packed.xip"
compare packed-copy "$WORK/packed.xip" -o read=copy
compare 16k-blocks "$WORK/16k.xip"
# No caching of names or attributes: every access is a LOOKUP or GETATTR.
compare no-cache "$WORK/img.xip" \
	-o entry_timeout=0,attr_timeout=0,negative_timeout=0

# Many readers at once on the multi-threaded daemon, in both read modes.
(cd "$WORK/tree" && find . -type f -print0 | xargs -0 md5sum | sort) >"$WORK/sums"
for mode in copy splice; do
	xipfs_mount "$WORK/img.xip" "$mnt" -o read=$mode
	(cd "$mnt" && find . -type f -print0 | xargs -0 -P 8 -n 16 md5sum | sort) >"$WORK/msums"
	cmp -s "$WORK/sums" "$WORK/msums" || fail "read=$mode: parallel readers got other bytes"
	xipfs_unmount "$mnt"
done
ok "parallel readers"

# statfs: the image's block size, its size in blocks, its inode count, and
# read-only.  A 16 KiB-block image, so that the page size would not pass.
xipfs_mount "$WORK/16k.xip" "$mnt"
python3 - "$mnt" "$WORK/16k.xip" "$WORK/tree" <<'PY' || fail "statfs is wrong"
import os, sys
mnt, image, src = sys.argv[1:]
sv = os.statvfs(mnt)
inodes = {os.lstat(os.path.join(d, n)).st_ino
          for d, ds, fs in os.walk(src) for n in ds + fs} | {os.lstat(src).st_ino}
want = dict(f_bsize=16384, f_frsize=16384,
            f_blocks=os.stat(image).st_size // 16384, f_files=len(inodes),
            f_bfree=0, f_bavail=0, f_namemax=255, rdonly=os.ST_RDONLY)
got = {k: getattr(sv, k) for k in want if k != "rdonly"}
got["rdonly"] = sv.f_flag & os.ST_RDONLY
if got != want:
    sys.exit(f"statfs: {got}, expected {want}")
PY
[ "$(stat -f -c %S "$mnt")" = 16384 ] || fail "stat -f block size: $(stat -f -c %S "$mnt")"
xipfs_unmount "$mnt"
ok "statfs: 16 KiB blocks, size, inodes, read-only"

# /proc/mounts: type fuse.xipfs, ro, and the source's absolute path as the
# name, even when given relative and holding a comma (an option separator).
cp "$WORK/img.xip" "$WORK/a,b.xip"
cd "$WORK"
xipfs_mount "a,b.xip" "$mnt"
cd - >/dev/null
line=$(awk -v m="$mnt" '$2 == m' /proc/mounts)
set -- $line
[ "$1" = "$WORK/a,b.xip" ] || fail "fsname is '$1': $line"
[ "$3" = fuse.xipfs ] || fail "type is '$3': $line"
case ",$4," in *,ro,*) ;; *) fail "not mounted ro: $line" ;; esac
ok "/proc/mounts: $1 $3 $4"

# Nothing can be changed, even by root.
expect_error "Read-only file system" touch "$mnt/new"
expect_error "Read-only file system" touch "$mnt/hello.txt"
expect_error "Read-only file system" mkdir "$mnt/newdir"
expect_error "Read-only file system" rm "$mnt/empty"
expect_error "Read-only file system" rmdir "$mnt/empty-dir"
expect_error "Read-only file system" mv "$mnt/empty" "$mnt/moved"
expect_error "Read-only file system" ln -s x "$mnt/newlink"
expect_error "Read-only file system" chmod 600 "$mnt/hello.txt"
expect_error "Read-only file system" setfattr -n user.x -v 1 "$mnt/hello.txt"
expect_error "Read-only file system" sh -c "echo x >>'$mnt/hello.txt'"
[ -e "$mnt/empty" ] && [ ! -e "$mnt/new" ] && [ ! -e "$mnt/moved" ] ||
	fail "a refused change happened anyway"
ok "writes fail with EROFS"

# A private writable mapping is the process's own copy (the dynamic loader
# maps .data that way); a shared writable one would write the image and is
# refused, as is opening for writing.
python3 - "$mnt/sub/deeper/seventy-k" <<'PY' || fail "writable mappings misbehave"
import errno, mmap, os, sys
path = sys.argv[1]
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
PY
cmp "$WORK/tree/sub/deeper/seventy-k" "$mnt/sub/deeper/seventy-k" ||
	fail "file changed after a private mapping was written"
xipfs_unmount "$mnt"
ok "private mappings are private, shared writable ones refused"

# uid=/gid=/umask= change what every node shows, and the kernel checks
# permissions against what is shown.
xipfs_mount "$WORK/img.xip" "$mnt" -o uid=4321,gid=8765,umask=027,allow_other
python3 - "$WORK/tree" "$mnt" <<'PY' || fail "uid=/gid=/umask= not applied"
import os, stat, sys
src, mnt = sys.argv[1:]
bad = 0
for d, ds, fs in os.walk(src):
    for n in [None] + ds + fs:
        a = d if n is None else os.path.join(d, n)
        b = os.path.join(mnt, os.path.relpath(a, src))
        sa, sb = os.lstat(a), os.lstat(b)
        want = (4321, 8765, stat.S_IFMT(sa.st_mode) | (sa.st_mode & 0o7750))
        got = (sb.st_uid, sb.st_gid, sb.st_mode)
        if stat.S_ISLNK(sa.st_mode):
            want, got = want[:2], got[:2]
        if got != want:
            bad += 1
            print(f"{b}: uid, gid, mode {got}, expected {want}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
cat "$mnt/hello.txt" >/dev/null
setpriv --reuid=nobody --regid=8765 --clear-groups -- cat "$mnt/hello.txt" >/dev/null ||
	fail "group 8765 cannot read a g+r file under gid=8765"
expect_error "Permission denied" as_user stat "$mnt/hello.txt"
xipfs_unmount "$mnt"
ok "uid=, gid=, umask= presented and enforced"
