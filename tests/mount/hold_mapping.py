#!/usr/bin/python3
"""hold_mapping.py FILE: map FILE, close it (so only the mapping keeps it
in use, as RELEASE comes only at munmap), print our pid and the first five
bytes of the mapping, then sleep until killed."""
import mmap
import os
import sys
import time

with open(sys.argv[1], "rb") as f:
    m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
print(os.getpid(), m[:5].decode(), flush=True)
time.sleep(600)
