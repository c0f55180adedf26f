#!/bin/bash
# The image format is pinned: a fixed tar (tests/pin_tar.py) built with a
# few option sets must give exactly these bytes.  A change to the writer
# that moves one byte of any image fails here; a deliberate format change
# updates the hashes in the same commit and says why.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

python3 "$top_srcdir/tests/pin_tar.py" "$WORK/pin.tar"
cat >"$WORK/pin.dt" <<'TABLE'
/dev/tty d 755 0 0
/dev/tty/S0 c 620 0 5 4 64
/dev/sock s 600 0 0
/etc/f1 m 4755 - 7
/etc/f1 x user.tag=0x00ff10
/etc/xattrs x -user.comment
/lnk l /etc/f1 3 4
TABLE

pin() {	# pin NAME SHA256 [mkxipfs options...]
	name=$1 want=$2; shift 2
	"$MKXIPFS" -q "$@" "$WORK/pin.tar" "$WORK/$name.xip" ||
		fail "$name: mkxipfs failed"
	"$XIPFSCK" -q "$WORK/$name.xip" || fail "$name: image is not clean"
	got=$(sha256sum <"$WORK/$name.xip" | cut -d' ' -f1)
	[ "$got" = "$want" ] || fail "$name: image changed: sha256 $got"
	ok "$name image is byte-identical to the pinned one"
}
# Data CRCs are on by default; these four predate them, so they are built
# without: an image without the new features must not move one byte.
pin default 2bdda671f1eeba9bd512ceffaef9b250dbafbb0abe5caa1b25814ce23699a3af --no-data-crc
pin 16k-packed 132c346b8c906d26b90f0006fce7f7c412adc1be20c20ad2e6ac8c5995ddc295 --no-data-crc \
	-b 16K --pack-small=4096 --align-huge -L pinned \
	--uuid=01234567-89ab-cdef-0123-456789abcdef
pin table 9b457fe4629d5c80ea8fa39ff3cf54babc39e701ee446e02495f1001e9e627ea --no-data-crc \
	-D "$WORK/pin.dt" --uid-map=1000:2000:10 --force-gid=5
pin 64k bd73bd72ac9db3e9ad9d5b85012f74058fd676ef9f46685fcf7ffaff452ae84f --no-data-crc \
	-b 64K --pack-small=100
