#!/bin/bash
# Run inside the guest that scripts/guest.sh boots, chrooted into the host's
# / (read-only over 9p): every check of every source, one line each in
# WORK/result ("pass SOURCE: CHECK" or "fail SOURCE: CHECK: why"), which
# the host counts.  A source that cannot be set up fails its "setup" check
# and its other checks are not run (counted as that one failure).
#
# Usage (by tests/guest/init): checks.sh WORK
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
work=$1
. "$work/env"		# top, build, image_size, window_size
. "$top/scripts/lib.sh"
prog=guest-checks
res=$work/result
rc=$top/tests/guest/readcheck.py
user=nobody
mnt=/run/mnt
log=/run/tmp/daemon.log
stats=/run/tmp/stats.json	# the root daemon's -o stats= record
daemon=""

pass() { echo "pass $src: $*" >>"$res"; echo "pass $src: $*"; }
fail() { echo "fail $src: $*" >>"$res"; echo "FAIL $src: $*"; }
# check NAME CMD...: one line for CMD's status.
check() {
	local name=$1; shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}
figure() { echo "figure $src: $*" >>"$res"; echo "figure $src: $*"; }

# ---- mounting, as root or as $user
unmount_all() {
	[ -n "$daemon" ] || return 0
	unmount "$mnt" lazy
	reap "$daemon"
	daemon=""
}
cleanup_hooks="unmount_all"
# mount_as WHO OPTS SOURCE: start the daemon in the foreground (-f, -v:
# its messages in $log) and wait for the mount.
mount_as() {
	local who=$1 opts=$2 source=$3
	mkdir -p "$mnt" && chown "$who" "$mnt"
	if [ "$who" = root ]; then
		rm -f "$stats"
		"$build/xipfs" -f -v -o "${opts:+$opts,}stats=$stats" "$source" "$mnt" >"$log" 2>&1 &
	else
		setpriv --reuid="$who" --regid=nogroup --clear-groups \
			"$build/xipfs" -f -v ${opts:+-o "$opts"} "$source" "$mnt" >"$log" 2>&1 &
	fi
	daemon=$!
	wait_mounted "$mnt" "$daemon" && return 0
	sed 's/^/  daemon: /' "$log"
	reap "$daemon"; daemon=""
	return 1
}
# unmount_clean WHO: unmount, and the daemon ends with status 0.
unmount_clean() {
	local who=$1 st
	if [ "$who" = root ]; then
		umount "$mnt" || return 1
	else
		setpriv --reuid="$who" --regid=nogroup --clear-groups fusermount3 -u "$mnt" || return 1
	fi
	wait "$daemon"; st=$?
	daemon=""
	[ $st = 0 ] || { echo "daemon exit $st"; sed 's/^/  daemon: /' "$log"; }
	[ $st = 0 ]
}

# ---- the checks of one mounted image, run as WHO (root cannot enter
# another user's FUSE mount)
run_as() {
	local who=$1; shift
	if [ "$who" = root ]; then "$@"
	else setpriv --reuid="$who" --regid=nogroup --clear-groups "$@"; fi
}
want_sum() { awk -v n="./$1" '$2 == n {print $1}' "$work/manifest"; }
# Captured first: grep -q quitting early would SIGPIPE the program.
exec_prog() {
	local out
	out=$(run_as "$1" "$mnt/bin/prog" --version) && grep -q sha256sum <<<"$out"
}
xmap_bytes() {
	[ "$(run_as "$1" "$build/xipfs-map" -c "$mnt/data/big" | sha256sum | cut -d' ' -f1)" = "$(want_sum data/big)" ]
}
# A compressed file: its bytes were compared by the read check; the
# daemon says it is compressed, so xipfs-map refuses it.
compressed() {
	! run_as "$1" "$build/xipfs-map" "$mnt/text/all-sources.txt" 2>/run/tmp/xmap.err >/dev/null &&
		grep -q compressed /run/tmp/xmap.err
}
# tree_checks WHO PREFIX
tree_checks() {
	local line
	run_as "$1" python3 "$rc" tree "$mnt" "$work/manifest" "$work/names" | while read -r line; do
		case $line in
		pass*) pass "$2${line#pass }" ;;
		*) fail "$2${line#fail }" ;;
		esac
	done
}
# copies_figure: RAM copies per mapped byte when every XIP file is mapped
# and touched, from a cold start (drop_caches before the mount).
copies_figure() {
	python3 "$rc" copies "$mnt" data/big data/odd data/sub/one bin/prog
}
# mounted_checks WHO [PREFIX]: what every source gets.
mounted_checks() {
	local p=${2:-}
	tree_checks "$1" "$p"
	check "${p}exec a program" exec_prog "$1"
	check "${p}xipfs-map -c of an XIP file" xmap_bytes "$1"
	check "${p}compressed file known as such" compressed "$1"
}

# Raw page frames (/dev/mem, a PCI resource): -v says READ goes through a
# buffer, and the stats record counts those bytes: bounced, or (verify
# being on by default) served from the buffer a block was first checked
# in; any other source replies straight from its mapping.
said_bounce() { grep -q 'raw page frames (VM_PFNMAP' "$log"; }
counted_bounce() {
	[ "$(stats_get "$stats" read.bounce)" = 1 ] &&
		[ $(($(stats_get "$stats" read.bounce_bytes) +
		     $(stats_get "$stats" read.checked_bytes))) -gt 0 ]
}
bounce_checks() {
	if [ "$1" = bounce ]; then
		check "-v: READ copies through a buffer (raw page frames)" said_bounce
		check "stats: the buffered bytes counted" counted_bounce
	else
		check "-v: READ replies from the mapping" eval '! said_bounce'
		check "stats: no bytes through a buffer" eval \
			'[ "$(stats_get "$stats" read.bounce_bytes)" = 0 ]'
	fi
}

# source_checks NAME SOURCE OPTS FLAGS: mount as root (and as $user with
# FLAGS "user"), every check, unmount clean; the copies figure from the
# root mount.  FLAGS "bounce": a raw page-frame source.
source_checks() {
	src=$1
	local source=$2 opts=$3 flags=${4:-}
	sync; echo 3 >/proc/sys/vm/drop_caches
	if ! mount_as root "$opts" "$source"; then
		fail "mount as root"
		return 1
	fi
	pass "mount as root"
	figure "$(copies_figure)"
	grep -i -E 'raw page|copy|passthrough' "$log" | head -5 | sed 's/^/  -v: /'
	mounted_checks root
	check "unmount clean" unmount_clean root
	grep -E 'stats' "$log" | sed 's/^/  stats: /'
	case " $flags " in *" bounce "*) bounce_checks bounce ;; *) bounce_checks none ;; esac
	case " $flags " in *" user "*) ;; *) return 0 ;; esac
	if ! mount_as "$user" "$opts" "$source"; then
		fail "mount as $user"
		return 1
	fi
	pass "mount as $user"
	mounted_checks "$user" "as $user: "
	check "as $user: unmount clean" unmount_clean "$user"
}

# ---- the sources
extract_check() {
	rm -rf /run/tmp/x
	"$build/xipfsck" -q -x /run/tmp/x -o "$1" -S "$image_size" /dev/mem &&
		(cd /run/tmp/x && sha256sum -c --quiet "$work/manifest")
}
ivshmem_dev() {
	local d
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1110 ] &&
			{ echo "$d"; return 0; }
	done
	return 1
}
# The window's physical address: BAR2, the third line of "resource".
window_addr() { sed -n 3p "$(ivshmem_dev)/resource" | awk '{print $1}'; }

physical_sources() {
	local addr dev
	src=phys
	if ! dev=$(ivshmem_dev) || ! addr=$(window_addr); then
		fail "setup: no ivshmem window"
		return 1
	fi
	echo "ivshmem window at $addr ($dev)"
	source_checks phys /dev/mem "phys=$addr,size=$image_size" bounce
	# The checker reads the same raw page frames in userspace, and
	# extracts with write() from them (a copy the kernel makes unpinned).
	check "xipfsck verifies the image in place" \
		"$build/xipfsck" -q -o "$addr" -S "$image_size" /dev/mem
	check "xipfsck extracts it, every file as the host's" extract_check "$addr"
	source_checks resource2 "$dev/resource2" "" bounce
	uring_checks "$addr"
}

# FUSE over io_uring from raw page frames: libfuse copies a reply into
# its ring buffer.  Where the kernel has FUSE over io_uring (6.14 and
# newer) and xipfs was built with it; elsewhere one line says so.
uring_checks() {
	local knob=/sys/module/fuse/parameters/enable_uring
	src=phys-io_uring
	if [ ! -e $knob ] || ! "$build/xipfs" --version | grep -q 'io_uring yes'; then
		echo "no FUSE over io_uring here (kernel $(uname -r) or libfuse); not checked"
		return 0
	fi
	echo Y >$knob
	mount_as root "phys=$1,size=$image_size,io_uring" /dev/mem || { fail "mount"; return 1; }
	tree_checks root ""
	check "unmount clean" unmount_clean root
	grep -i 'uring' "$log" | sed 's/^/  -v: /'
	check "READs came over io_uring" \
		grep -q '; [1-9][0-9]* READs over io_uring' "$log"
	echo N >$knob
}

# nd_namespace N MODE [ALIGN]: region N's namespace made MODE, its device
# on stdout.  The label area starts empty, so the kernel made one raw
# namespace of the whole region: reconfigure that one.
nd_namespace() {
	local out
	echo "region$1: $(cat "/sys/bus/nd/devices/region$1/size") bytes" >&2
	out=$(ndctl create-namespace -f -e "namespace$1.0" -m "$2" ${3:+-a "$3"} 2>&1) ||
		{ echo "$out" >&2; return 1; }
	echo "$out" | sed -n 's/.*"\(chardev\|blockdev\)":"\([^"]*\)".*/\2/p' | head -1
}

devdax_source() {
	local dev
	src=devdax
	if ! dev=$(nd_namespace 1 devdax 2M) || [ ! -c "/dev/$dev" ]; then
		fail "setup: ndctl create-namespace -m devdax"
		return 1
	fi
	echo "devdax: /dev/$dev, align $(cat "/sys/dev/char/$(stat -c '%Hr:%Lr' "/dev/$dev")/align" 2>&1)"
	ndctl list -N -r region1 2>&1 | tr -d '\n'; echo
	# devdax takes no write(): the image goes in through a shared
	# mapping (no msync: devdax refuses it with EINVAL, and needs none).
	python3 - "/dev/$dev" "$work/image" <<'EOF' || { fail "setup: write the image"; return 1; }
import mmap, os, sys
data = open(sys.argv[2], "rb").read()
fd = os.open(sys.argv[1], os.O_RDWR)
n = (len(data) + (2 << 20) - 1) // (2 << 20) * (2 << 20)
m = mmap.mmap(fd, n, mmap.MAP_SHARED)
m[:len(data)] = data
m.close()
EOF
	source_checks devdax "/dev/$dev" "size=$image_size"
}

pmem_source() {
	local dev
	src=pmem
	if ! dev=$(nd_namespace 0 fsdax) || [ ! -b "/dev/$dev" ]; then
		fail "setup: ndctl create-namespace -m fsdax"
		return 1
	fi
	pmem=/dev/$dev
	dd if="$work/image" of="$pmem" bs=1M conv=fsync status=none ||
		{ fail "setup: write the image"; return 1; }
	# Without udev the node is root's only; a udev rule would give it a group.
	chmod 0644 "$pmem"
	source_checks pmem "$pmem" "" user
}

fsdax_source() {
	local fs=/run/fsdax
	src=fsdax
	[ -n "${pmem:-}" ] || { fail "setup: no pmem device"; return 1; }
	mkdir -p "$fs"
	if ! mkfs.xfs -q -f -m reflink=1 "$pmem" || ! mount -o dax=always "$pmem" "$fs"; then
		fail "setup: xfs -o dax=always on $pmem"
		return 1
	fi
	cp "$work/image" "$fs/image" && cp "$work/image-flipped" "$fs/flipped" &&
		chmod 0644 "$fs/image" "$fs/flipped" || { fail "setup: copy the images"; return 1; }
	source_checks fsdax "$fs/image" "passthrough=off" user
	passthrough_checks "$fs/image"
	verify_checks "$fs/flipped"
	umount "$fs"
}

# True XIP: with passthrough, every XIP file mapped adds (near) nothing to
# the page cache and the mapping is DAX; without, its size.  Expected where
# the kernel offers FUSE passthrough (6.9 and newer) and xipfs was built
# with libfuse 3.17 or newer; elsewhere the default (auto) falls back with
# one line that says why and the mount works, and passthrough=on refuses
# to mount, saying why.
expect_xip() {
	local v
	v=$(uname -r | awk -F. '{print $1 * 1000 + $2}')
	[ "$v" -ge 6009 ] && "$build/xipfs" --version | grep -q 'passthrough yes'
}
passthrough_checks() {
	local image=$1 fig copies
	src=fsdax-passthrough
	sync; echo 3 >/proc/sys/vm/drop_caches
	mount_as root "passthrough_min=0" "$image" || { fail "mount"; return 1; }
	fig=$(copies_figure)
	figure "$fig"
	grep -i passthrough "$log" | sed 's/^/  -v: /'
	copies=$(echo "$fig" | awk '{print $2}')
	if expect_xip; then
		check "true XIP: page cache grew $copies bytes per mapped byte" \
			awk -v c="$copies" 'BEGIN { exit !(c < 0.1) }'
		check "true XIP: mappings are DAX (smaps)" \
			python3 "$rc" daxmap "$mnt" data/big
		tree_checks root "passthrough: "
		check "unmount clean" unmount_clean root
	else
		check "no passthrough here: the fallback said why in one line" \
			[ "$(grep -c 'passthrough off: ' "$log")" = 1 ]
		check "fallback: page cache grew $copies bytes per mapped byte" \
			awk -v c="$copies" 'BEGIN { exit !(c > 0.9) }'
		tree_checks root "fallback: "
		check "unmount clean" unmount_clean root
		# The kernel's INIT answer comes after the mount appears: the
		# daemon then ends by itself, nonzero, with one line.
		local st
		timeout 60 "$build/xipfs" -f -o passthrough=on "$image" "$mnt" >"$log" 2>&1
		st=$?
		is_mounted "$mnt" && unmount "$mnt" lazy
		sed 's/^/  daemon: /' "$log"
		check "passthrough=on refused (exit $st), saying why" \
			eval '[ $st != 0 ] && [ $st != 124 ] && grep -q "passthrough=on: " "$log"'
	fi
	# The same without passthrough: the files' size in page cache.
	src=fsdax
	sync; echo 3 >/proc/sys/vm/drop_caches
	mount_as root "passthrough=off" "$image" || { fail "mount passthrough=off"; return 1; }
	copies=$(copies_figure | awk '{print $2}')
	check "passthrough=off: page cache grew $copies bytes per mapped byte" \
		awk -v c="$copies" 'BEGIN { exit !(c > 0.9) }'
	unmount_clean root
}

# -o verify on the image with one flipped data byte: EIO for that file,
# the others read.
verify_checks() {
	src=fsdax-verify
	mount_as root "verify" "$1" || { fail "mount"; return 1; }
	check "flipped byte gives EIO" python3 "$rc" eio "$mnt" data/odd
	check "other files read" \
		[ "$(sha256sum <"$mnt/data/big" | cut -d' ' -f1)" = "$(want_sum data/big)" ]
	check "unmount clean" unmount_clean root
}

mtd_source() {
	local addr
	src=mtdblock
	addr=$(window_addr) || { fail "setup: no window"; return 1; }
	if ! insmod /run/late/phram.ko "phram=xipfs,$addr,$window_size" ||
		! wait_dev /dev/mtdblock0; then
		fail "setup: phram over the window"
		return 1
	fi
	source_checks mtdblock /dev/mtdblock0 ""
}
wait_dev() {
	local _
	for _ in $(seq 1 100); do [ -b "$1" ] && return 0; sleep 0.1; done
	return 1
}

chmod 0666 /dev/fuse	# no udev here to make it so
echo "kernel $(uname -r), libfuse of $build/xipfs: $(ldd "$build/xipfs" | grep -o 'libfuse3[^ ]* => [^ ]*')"
physical_sources
devdax_source
pmem_source
fsdax_source
mtd_source
echo "checks done"
