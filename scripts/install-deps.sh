#!/bin/bash
# Install everything xipfs needs to build, test and benchmark on Debian 12.
# As root it runs as is (a fresh machine may have no sudo); as anyone else
# it runs itself again through sudo.  Idempotent.
set -eu
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || die "needs root, and there is no sudo here: run it as root"
	exec sudo -- "$(cd "$(dirname "$0")" && pwd)/$(basename "$0")" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
	build-essential autoconf automake libtool pkg-config clang llvm \
	libclang-rt-dev libarchive-dev \
	attr acl tar python3 util-linux coreutils file bc debootstrap \
	squashfs-tools erofs-utils \
	libfuse3-dev fuse3 squashfuse fio procps gnuplot-nox \
	dpkg-dev meson ninja-build liburing-dev libnuma-dev \
	debhelper lintian xfsprogs btrfs-progs e2fsprogs \
	liblz4-dev libzstd-dev libisal-dev uuid-dev zlib1g-dev \
	libcurl4-openssl-dev openssl \
	qemu-system-x86 busybox-static ndctl daxctl kmod cpio xz-utils >/dev/null
# nginx serves images to the remote-source tests, each starting its own on
# a free port: the package's system service must not start (nor hold port
# 80), which a policy-rc.d answering 101 forbids for the install.
if ! dpkg -s nginx-light >/dev/null 2>&1; then
	made_policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		made_policy=1
	fi
	apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
	[ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
fi
# The kernel makes /dev/fuse 0666 and Debian keeps it so: fusermount3 is
# what guards mounting.  Some machine images make it root's only, which
# stops every user mount (libfuse opens /dev/fuse before it turns to
# fusermount3); put back the default so the demo can mount as its user.
if [ -c /dev/fuse ] && [ "$(stat -c %a /dev/fuse)" != 666 ]; then
	echo "install-deps.sh: /dev/fuse was $(stat -c %a /dev/fuse); made it 666, the kernel's default"
	chmod 0666 /dev/fuse
fi
echo "install-deps.sh: done"
