#!/usr/bin/python3
"""elf_tree.py TOP N: the tree of tests/mount/profile-safety.sh, seeded:
N small files that start like ELF files (a profile lists the ELF files
read) in TOP/lib, 3000 bytes and up."""
import os
import random
import sys

top, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(41)
os.makedirs(top + "/lib")
for i in range(n):
    with open("%s/lib/f%02d.so" % (top, i), "wb") as f:
        f.write(b"\x7fELF" + rng.randbytes(3000 + 100 * i))
