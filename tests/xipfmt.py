"""The on-disk layout of include/xipfs/format.h for the tests' Python, as
named structs: each field read and written by name, never by its position
in a tuple or by a bare offset.  Independent of the C library on purpose:
the tests that craft or check images (xipimg.py, zimg.py, stored_at.py,
hostile_inputs.py) must not share the code they test.  The offsets below
are pinned against format.h's _Static_asserts at import.
"""
import collections
import struct


class Layout:
    """One little-endian struct: FIELDS is a list of (name, struct format)
    pairs, "Nx" for padding that has no name."""

    def __init__(self, name, fields):
        self.name = name
        self.fields = [(n, f) for n, f in fields if n]
        self.fmt = "<" + "".join(f for _, f in fields)
        self.struct = struct.Struct(self.fmt)
        self.size = self.struct.size
        self.record = collections.namedtuple(name, [n for n, _ in self.fields])
        self.offsets, self.formats = {}, {}
        at = 0
        for n, f in fields:
            if n:
                self.offsets[n], self.formats[n] = at, "<" + f
            at += struct.calcsize("<" + f)

    def read(self, buf, off=0):
        """The struct at OFF as a named tuple."""
        return self.record._make(self.struct.unpack_from(buf, off))

    def write(self, buf, off, rec):
        self.struct.pack_into(buf, off, *rec)

    def set(self, buf, off, field, value):
        """Write one FIELD of the struct at OFF."""
        struct.pack_into(self.formats[field], buf, off + self.offsets[field], value)

    def offset(self, field):
        return self.offsets[field]


SUPER = Layout("Super", [
    ("magic", "I"), ("version_major", "H"), ("version_minor", "H"),
    ("compat", "I"), ("incompat", "I"), ("ro_compat", "I"),
    ("block_log2", "B"), ("", "3x"),
    ("image_size", "Q"), ("meta_offset", "Q"), ("meta_size", "Q"),
    ("data_offset", "Q"), ("inode_offset", "Q"),
    ("inode_count", "I"), ("root_ino", "I"),
    ("build_time", "q"), ("build_time_nsec", "I"),
    ("super_crc", "I"), ("meta_crc", "I"), ("reserved1", "I"),
    ("uuid", "16s"), ("data_bytes", "Q"),
    ("file_count", "I"), ("dir_count", "I"), ("volume_name", "32s"),
    # XIPFS_RO_COMPAT_DATA_CRC (else all zero):
    ("crc_offset", "Q"), ("crc_table_crc", "I"), ("reserved3", "I"),
    # XIPFS_RO_COMPAT_META_CRC (else all zero):
    ("meta_table_offset", "Q"), ("meta_table_crc", "I"), ("reserved4", "I"),
    ("", "64x"),
])
INODE = Layout("Inode", [
    ("mode", "H"), ("flags", "H"), ("nlink", "I"), ("uid", "I"), ("gid", "I"),
    ("size", "Q"), ("mtime", "q"), ("mtime_nsec", "I"), ("parent", "I"),
    ("data", "Q"), ("xattr_offset", "Q"), ("xattr_size", "I"), ("reserved", "I"),
])
DIRENT = Layout("Dirent", [
    ("ino", "I"), ("name_len", "B"), ("type", "B"), ("reserved", "H"),
    ("name_offset", "Q"),
])
XATTR = Layout("Xattr", [("value_len", "I"), ("name_len", "H"), ("reserved", "H")])
ZTABLE = Layout("Ztable", [
    ("algorithm", "B"), ("cluster_log2", "B"), ("reserved", "H"),
    ("cluster_count", "I"), ("data", "Q"),
])

MAGIC = 0x31504958
ROOT_INO = 1
INCOMPAT_PACKED = 0x1
INCOMPAT_COMPRESSED = 0x2
RO_COMPAT_DATA_CRC = 0x1
RO_COMPAT_META_CRC = 0x2
INODE_PACKED = 0x1
INODE_COMPRESSED = 0x2
ZALG = {1: "zstd", 2: "lz4"}
S_IFMT, S_IFDIR, S_IFREG = 0o170000, 0o040000, 0o100000

# format.h pins these; a layout above that drifts fails here.
assert (SUPER.size, INODE.size, DIRENT.size, XATTR.size, ZTABLE.size) == (256, 64, 16, 8, 16)
assert SUPER.offset("super_crc") == 84 and SUPER.offset("meta_crc") == 88
assert SUPER.offset("volume_name") == 128 and SUPER.offset("crc_offset") == 160
assert SUPER.offset("crc_table_crc") == 168 and SUPER.offset("reserved3") == 172
assert INODE.offset("data") == 40 and INODE.offset("reserved") == 60
assert DIRENT.offset("name_offset") == 8 and ZTABLE.offset("data") == 8


def crc32c(data, crc=0):
    """CRC32C (Castagnoli, reflected, init and final xor 0xffffffff)."""
    table = crc32c.table
    if table is None:
        table = crc32c.table = []
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
            table.append(c)
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFFFFFF


crc32c.table = None


def super_of(img):
    return SUPER.read(img, 0)


def fix_crcs(img):
    """Recompute the metadata CRC table (with XIPFS_RO_COMPAT_META_CRC),
    meta_crc, then super_crc (which covers them)."""
    sb = super_of(img)
    fix_meta_table(img, sb)
    SUPER.set(img, 0, "meta_crc", crc32c(img[sb.meta_offset:sb.meta_offset + sb.meta_size]))
    fix_super_crc(img)


def fix_meta_table(img, sb):
    """Each block of [0, data_offset) again, the superblock as zeros."""
    if not sb.ro_compat & RO_COMPAT_META_CRC:
        return
    bs, at = 1 << sb.block_log2, sb.meta_table_offset
    blocks = sb.data_offset >> sb.block_log2
    if sb.data_offset > len(img) or at + 4 * blocks > len(img):
        return
    for i in range(blocks):
        block = bytes(img[i * bs:(i + 1) * bs])
        if i == 0:
            block = bytes(SUPER.size) + block[SUPER.size:]
        img[at + 4 * i:at + 4 * i + 4] = crc32c(block).to_bytes(4, "little")
    SUPER.set(img, 0, "meta_table_crc", crc32c(img[at:at + 4 * blocks]))


def fix_super_crc(img):
    SUPER.set(img, 0, "super_crc", 0)
    SUPER.set(img, 0, "super_crc", crc32c(img[:SUPER.size]))


def inode_offset(img, ino):
    return super_of(img).inode_offset + (ino - 1) * INODE.size


def inode(img, ino):
    return INODE.read(img, inode_offset(img, ino))


def is_dir(ind):
    return ind.mode & S_IFMT == S_IFDIR


def is_reg(ind):
    return ind.mode & S_IFMT == S_IFREG


def dir_entries(img, d):
    """(dirent offset, Dirent) of each entry of the directory Inode d."""
    for i in range(d.size // DIRENT.size):
        off = d.data + i * DIRENT.size
        yield off, DIRENT.read(img, off)


def dirents(img):
    """(directory inode number, dirent offset, Dirent) of every entry."""
    for ino in range(1, super_of(img).inode_count + 1):
        d = inode(img, ino)
        if is_dir(d):
            for off, e in dir_entries(img, d):
                yield ino, off, e


def name_of(img, e):
    return bytes(img[e.name_offset:e.name_offset + e.name_len])


def ztable(img, ind):
    """A compressed inode's cluster table: (Ztable, [end offsets])."""
    hdr = ZTABLE.read(img, ind.data)
    at = ind.data + ZTABLE.size
    ends = list(struct.unpack_from("<%dI" % hdr.cluster_count, img, at))
    return hdr, ends


def data_crc_table(img):
    """(offset, number of blocks, their CRCs) of the data CRC table, or
    None when the image has none."""
    sb = super_of(img)
    if not sb.ro_compat & RO_COMPAT_DATA_CRC:
        return None
    count = (sb.crc_offset - sb.data_offset) >> sb.block_log2
    return sb.crc_offset, count, list(struct.unpack_from("<%dI" % count, img, sb.crc_offset))
