#!/usr/bin/python3
"""Generate the benchmark tree: N small files with log-uniform sizes
between 1 B and 64 KiB in a few hundred directories, plus optionally one big
file.  Deterministic for a given seed, so every tool sees the same bytes.

Usage: gen-tree.py DIR [--files N] [--big-mib M] [--seed S]
"""
import argparse
import math
import os
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--files", type=int, default=50000)
    ap.add_argument("--big-mib", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=1)
    opt = ap.parse_args()
    rng = random.Random(opt.seed)
    blob = rng.randbytes(1 << 16)     # sliced per file: fast, incompressible
    os.makedirs(opt.dir, exist_ok=True)
    total = 0
    for i in range(opt.files):
        d = os.path.join(opt.dir, f"d{i // 200:03d}")
        if i % 200 == 0:
            os.makedirs(d, exist_ok=True)
        size = int(math.exp(rng.uniform(0, math.log(1 << 16))))
        start = rng.randrange(0, (1 << 16) - size + 1)
        with open(os.path.join(d, f"f{i:06d}"), "wb") as f:
            f.write(blob[start:start + size])
        total += size
    if opt.big_mib:
        chunk = rng.randbytes(1 << 20)
        with open(os.path.join(opt.dir, "big"), "wb") as f:
            for k in range(opt.big_mib):
                f.write(chunk[k % 7:] + chunk[:k % 7])
    print(f"gen-tree: {opt.files} files, {total} bytes small, "
          f"{opt.big_mib} MiB big file in {opt.dir}")


if __name__ == "__main__":
    main()
