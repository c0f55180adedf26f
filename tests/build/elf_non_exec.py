#!/usr/bin/python3
"""elf_non_exec.py REL CORE: an ELF relocatable object (ET_REL) at REL and a
core-like file (ET_CORE) at CORE, each with a payload: ELF files that
--xip=elf must compress.  For tests/build/xip-select.sh."""
import struct, sys
for path, etype in zip(sys.argv[1:], (1, 4)):
    hdr = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9) + struct.pack("<H", etype)
    open(path, "wb").write(hdr + bytes(1000) + b"payload" * 500)
