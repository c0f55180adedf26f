#!/usr/bin/python3
"""rootfs_storage.py TAR IMAGE LISTING TESTS: how every regular file of the
root filesystem is stored in IMAGE (read by TESTS/zimg.py, without
libxipfs) against what TAR holds: ELF executables and shared objects in
place, every other file with data compressed with zstd; and the files
xipfsck -l (LISTING) shows as mappable are exactly the ELF ones.  For
tests/mount/rootfs.sh."""
import re, sys, tarfile
tar, img_path, listing, tests = sys.argv[1:]
sys.path.insert(0, tests)
from zimg import storage


def elf_in_place(head):
    # ELF executables and shared objects (e_type 2, 3), either byte order.
    if len(head) < 18 or head[:4] != b"\x7fELF" or head[4] not in (1, 2):
        return False
    order = {1: "little", 2: "big"}.get(head[5])
    return order is not None and int.from_bytes(head[16:18], order) in (2, 3)


want = {}
with tarfile.open(tar) as t:
    for m in t:
        path = "/" + m.name.lstrip("./")
        if m.isreg():
            head = t.extractfile(m).read(18)
            want[path] = "empty" if m.size == 0 else "xip" if elf_in_place(head) else "zstd"
        elif m.islnk():	# a hard link: its target came first
            want[path] = want["/" + m.linkname.lstrip("./")]
img = open(img_path, "rb").read()
bad = [f"{p}: {storage(img, p)}, want {w}" for p, w in sorted(want.items())
       if storage(img, p) != w]
mappable = set()
for line in open(listing):
    m = re.match(r"\s*\d+ -\S+ .* (map|pack|zstd|lz4|-)\s+(/.*)$", line)
    if m and m.group(1) == "map":
        mappable.add(m.group(2))
xip = {p for p, w in want.items() if w == "xip"}
bad += [f"{p}: xipfsck -l says mappable" for p in sorted(mappable - xip)]
bad += [f"{p}: xipfsck -l says not mappable" for p in sorted(xip - mappable)]
if bad:
    print("\n".join(bad[:20]), file=sys.stderr)
kinds = {k: sum(1 for w in want.values() if w == k) for k in ("xip", "zstd", "empty")}
print(f"ok: paths of regular files: {kinds['xip']} ELF in place, "
      f"{kinds['zstd']} compressed, {kinds['empty']} empty")
sys.exit(1 if bad or not kinds["xip"] or not kinds["zstd"] else 0)
