#!/usr/bin/python3
"""push_tree.py TOP N: the tree of tests/mount/push-ahead.sh, seeded: N
small files (1 B to 64 KiB, around the page size) in TOP/small and 20
files just over 64 KiB in TOP/big."""
import os, random, sys
top, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(38)
os.makedirs(top + "/small")
os.makedirs(top + "/big")
for i in range(n):
    size = rng.choice([1, 100, 4095, 4096, 4097, 20000, 65536])
    with open("%s/small/f%04d" % (top, i), "wb") as f:
        f.write(rng.randbytes(size))
for i in range(20):
    with open("%s/big/b%02d" % (top, i), "wb") as f:
        f.write(rng.randbytes(65537 + i))
