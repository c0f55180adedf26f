#!/usr/bin/python3
"""private_write.py MOUNTED SOURCE: a private writable mapping of the file
MOUNTED takes a write, which stays in the mapping: the file still reads
as SOURCE.  For tests/mount/passthrough.sh (a passed-through file)."""
import mmap, sys
with open(sys.argv[1], "rb") as f:
    m = mmap.mmap(f.fileno(), 0, flags=mmap.MAP_PRIVATE,
                  prot=mmap.PROT_READ | mmap.PROT_WRITE)
    m[4096:4100] = b"XIPW"
    assert m[4096:4100] == b"XIPW"
    m.close()
with open(sys.argv[1], "rb") as a, open(sys.argv[2], "rb") as b:
    assert a.read() == b.read(), "the private write reached the file"
