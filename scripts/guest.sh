#!/bin/bash
# The guest checks: xipfs on the sources it exists for (physical memory
# through /dev/mem and a PCI BAR's sysfs resource file, a PMEM block device,
# a devdax device, a file on an fsdax xfs, an MTD block device over phram),
# which this host lacks, in a QEMU guest (TCG) running a Debian kernel.
# One boot per kernel runs every check (tests/guest/checks.sh): boots
# under TCG take half a minute or more.
#
# Usage: scripts/guest.sh [--kernel newest|bookworm|all] [--build DIR]
#                         [--timeout S] [--keep]
#   --kernel  which Debian kernel(s) to boot (scripts/guest-kernel.sh):
#             newest (trixie-backports), bookworm (6.1), all (default)
#   --build   the build tree whose xipfs, mkxipfs and xipfs-map run in the
#             guest (default: the top of the source tree); build it against
#             libfuse 3.18 for the passthrough checks
#   --timeout seconds a guest may run before it is killed, counted as a
#             failure (default: $XIPFS_GUEST_TIMEOUT or 900)
#   --keep    keep the work directory (images, console, kernel log)
# Prints one line per check, "PASS KERNEL SOURCE: CHECK" or "FAIL ...",
# "FIGURE KERNEL SOURCE: copies C ..." for the RAM copies one mapping of
# every XIP file cost (page cache growth per mapped byte; not a check),
# then "guest: N passed, N failed"; exits 0 only when every check of every
# kernel passed, the guest said it was done and its kernel log has no
# WARNING, BUG or oops.  Needs root (the guest's NVDIMM and ivshmem
# backing files, 9p export of /); scripts/install-deps.sh installs QEMU,
# busybox-static and the rest.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
kernels=all build=$top timeout=${XIPFS_GUEST_TIMEOUT:-900} keep=0
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernels=$2; shift 2 ;;
	--build) build=$(cd "$2" && pwd); shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	*) die "unknown argument $1 (see the top of $0)" ;;
	esac
done
[ "$kernels" = all ] && kernels="newest bookworm"
[ "$(id -u)" = 0 ] || die "needs root"
need_cmds qemu-system-x86_64 cpio xz modprobe sha256sum timeout python3
[ -x /bin/busybox ] && file -L /bin/busybox | grep -q 'statically linked' ||
	die "/bin/busybox is not busybox-static (scripts/install-deps.sh installs it)"
need_built "$build/xipfs" "$build/mkxipfs" "$build/xipfs-map"

# On the disk (the guest sees the host's / over 9p, and the NVDIMM files
# are mapped whole), readable by the guest's normal user.
work=$(mktemp -d "${TMPDIR:-/var/tmp}/xipfs-guest.XXXXXX")
chmod 755 "$work"
remove_work() {
	if [ $keep = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
cleanup_hooks="remove_work"

# Sizes: the ivshmem window must be a power of two; the NVDIMMs N x 16 MiB
# plus the label area, or ndctl cannot align a namespace (xfs wants 300 MB
# or more on the fsdax one; the devdax one stays much larger than the image).
label=$((128 * 1024))
pmem_size=$((24 * 16 * 1024 * 1024 + label))
dax_size=$((4 * 16 * 1024 * 1024 + label))
window_size=$((32 * 1024 * 1024))

# The tree and its images: one for every source (an ELF program and large
# data files in place, text compressed, data CRCs), the same with one data
# byte flipped, and what the guest compares against (checksums taken here:
# 9p reads are slow).
make_images() {
	local t=$work/tree
	mkdir -p "$t/bin" "$t/data/sub" "$t/text"
	cp /usr/bin/sha256sum "$t/bin/prog"
	head -c $((16 * 1024 * 1024)) /dev/urandom >"$t/data/big"
	head -c 12345 /dev/urandom >"$t/data/odd"
	head -c 1 /dev/urandom >"$t/data/sub/one"
	: >"$t/data/sub/empty"
	local f
	for f in "$top"/src/lib/*.c; do
		cp "$f" "$t/text/$(basename "$f").txt"
	done
	cat "$top"/src/*/*.c >"$t/text/all-sources.txt"
	ln -s ../data/big "$t/text/link"
	printf 'data/*\ndata/sub/*\n' >"$work/xip-list"
	"$build/mkxipfs" --compress=zstd --xip=elf --xip-list="$work/xip-list" \
		"$t" "$work/image" >"$work/mkxipfs.log" 2>&1 ||
		die "mkxipfs: $(tail -3 "$work/mkxipfs.log")"
	(cd "$t" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$work/manifest"
	(cd "$t" && find . | sort) >"$work/names"
	# The flipped byte: the middle of data/odd, stored in place.
	local at
	at=$(python3 "$top/tests/stored_at.py" "$work/image" data/odd | awk '$1 == "data/odd" {print $2 + 6000}')
	cp "$work/image" "$work/image-flipped"
	python3 - "$work/image-flipped" "$at" <<'EOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2]))
    f.write(bytes([b[0] ^ 0xff]))
EOF
	# The physical window holds the image at its start.
	cp "$work/image" "$work/window"
	truncate -s $window_size "$work/window"
	truncate -s $pmem_size "$work/nvdimm-pmem"
	truncate -s $dax_size "$work/nvdimm-dax"
	cat >"$work/env" <<EOF
top=$top
build=$build
image_size=$(stat -c %s "$work/image")
window_size=$window_size
EOF
}

# make_initramfs KDIR OUT: busybox, /init and the kernel's own modules
# that the checks need, with what they depend on, decompressed, in load order.
guest_modules="virtio_pci 9p 9pnet_virtio fuse nfit nd_pmem dax_pmem device_dax
	xfs mtd mtdblock"
late_modules="phram"
make_initramfs() {
	local kdir=$1 out=$2 ver root=$work/initramfs m line
	ver=$(cat "$kdir/version")
	rm -rf "$root" && mkdir -p "$root"/{bin,proc,sys,dev,modules,late}
	cp /bin/busybox "$root/bin/busybox"
	cp "$top/tests/guest/init" "$root/init"
	chmod 755 "$root/init"
	: >"$root/modules.list"
	for m in $guest_modules $late_modules; do
		modprobe -C /dev/null -d "$kdir/modules" -S "$ver" --show-depends "$m" ||
			die "$ver has no module $m"
	done | awk '$1 == "insmod" && !seen[$2]++ {print $2}' | while read -r line; do
		m=$(basename "$line" .xz)
		case " $late_modules " in
		*" ${m%.ko} "*) xz -dc -f "$line" >"$root/late/$m"; continue ;;
		esac
		xz -dc -f "$line" >"$root/modules/$m"
		echo "$m" >>"$root/modules.list"
	done
	(cd "$root" && find . | cpio -o -H newc --quiet) >"$out"
}

# boot KERNEL-NAME: one guest, every check; its lines go to $work/KERNEL/.
boot() {
	local name=$1 kdir out=$work/$1 start end
	kdir=$("$top/scripts/guest-kernel.sh" "$name") || die "no $name kernel"
	mkdir -p "$out"
	make_initramfs "$kdir" "$work/initramfs-$name.cpio"
	: >"$work/result"
	truncate -s 0 "$work/nvdimm-pmem" "$work/nvdimm-dax"
	truncate -s $pmem_size "$work/nvdimm-pmem"
	truncate -s $dax_size "$work/nvdimm-dax"
	say "booting $(cat "$kdir/version") (timeout ${timeout}s)"
	start=$(date +%s.%N)
	set +e
	timeout -k 10 "$timeout" qemu-system-x86_64 -machine pc,nvdimm=on -accel tcg \
		-m 1G,slots=4,maxmem=4G -smp 2 -nographic -no-reboot -nic none \
		-kernel "$kdir/vmlinuz" -initrd "$work/initramfs-$name.cpio" \
		-append "console=ttyS0 quiet panic=-1 xipfs.top=$top xipfs.work=$work" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap \
		-virtfs local,path="$work",mount_tag=work,security_model=passthrough,multidevs=remap \
		-object memory-backend-file,id=pmem,share=on,mem-path="$work/nvdimm-pmem",size=$pmem_size \
		-device nvdimm,memdev=pmem,id=nv0,label-size=$label \
		-object memory-backend-file,id=dax,share=on,mem-path="$work/nvdimm-dax",size=$dax_size \
		-device nvdimm,memdev=dax,id=nv1,label-size=$label \
		-object memory-backend-file,id=win,share=on,mem-path="$work/window",size=$window_size \
		-device ivshmem-plain,memdev=win \
		>"$out/console" 2>&1 </dev/null
	local st=$?
	set -e
	end=$(date +%s.%N)
	mv "$work/result" "$out/result"
	for f in checks.log dmesg; do [ -f "$work/$f" ] && mv "$work/$f" "$out/"; done
	echo "$st" >"$out/qemu-status"
	awk -v s="$start" -v e="$end" 'BEGIN { printf "%.0f\n", e - s }' >"$out/seconds"
}

# report KERNEL-NAME: its lines, counted into $passed and $failed.
report() {
	local name=$1 out=$work/$1 line ver
	ver=$(sed -n 's/^kernel //p' "$out/result" | head -1)
	while read -r line; do
		case $line in
		"pass "*) passed=$((passed + 1)); echo "PASS $name ${line#pass }" ;;
		"fail "*) failed=$((failed + 1)); echo "FAIL $name ${line#fail }" ;;
		"figure "*) echo "FIGURE $name ${line#figure }" ;;
		esac
	done <"$out/result"
	# The run as a whole: the guest finished, and its kernel stayed sane.
	if [ "$(cat "$out/qemu-status")" = 124 ] || [ "$(cat "$out/qemu-status")" = 137 ]; then
		failed=$((failed + 1)); echo "FAIL $name guest: killed after ${timeout}s"
	elif ! grep -q '^checks exit' "$out/result"; then
		failed=$((failed + 1)); echo "FAIL $name guest: the checks never finished"
		tail -20 "$out/console"
	else
		passed=$((passed + 1)); echo "PASS $name guest: ran to the end"
	fi
	if cat "$out/dmesg" "$out/console" 2>/dev/null |
		grep -E 'WARNING:|BUG:|Oops|general protection|Call Trace' >"$out/kernel-bad"; then
		failed=$((failed + 1)); echo "FAIL $name guest: kernel log: $(head -1 "$out/kernel-bad")"
	else
		passed=$((passed + 1)); echo "PASS $name guest: kernel log clean"
	fi
	say "$name: kernel ${ver:-?}, booted to /init in $(sed -n 's/^boot //p' "$out/result")s, whole run $(cat "$out/seconds")s"
	grep -q '^fail' "$out/result" && sed 's/^/  checks.log: /' "$out/checks.log" | tail -40 >&2
	return 0
}

make_images
passed=0 failed=0
for k in $kernels; do
	boot "$k"
	report "$k"
done
echo "guest: $passed passed, $failed failed"
[ $failed = 0 ]
