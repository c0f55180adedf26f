# What the scripts under scripts/ (and the tests, through tests/lib.sh)
# would otherwise each write again: messages that name the script, medians,
# asking mountinfo whether something is mounted, waiting for a mount,
# unmounting, cleanup on any exit, and where the built tools are.
# Sourced by bash, never run.  Sets $top (the source tree) and $prog (the
# script's name, for messages); defines no other variables until asked.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prog=${prog:-$(basename "$0" .sh)}

# ---- messages
say() { echo "$prog: $*" >&2; }
die() { say "$@"; exit 1; }
# need_cmds CMD...: each must be on PATH (or an executable path).
need_cmds() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || die "$t missing (scripts/install-deps.sh installs it)"
	done
}

# ---- numbers: one per line on standard input
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		print NR ? ((NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) : 0 }'
}
# stats FORMAT: "median (min-max)", each printed with FORMAT; "-" for none.
stats() {
	sort -g | awk -v f="$1" '{ v[NR] = $1 } END {
		if (!NR) { print "-"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf f " (" f "-" f ")", m, v[1], v[NR] }'
}

# ---- mounts, always asked of /proc/self/mountinfo (which writes a blank
# as \040) and never of the mount itself: a hung daemon would hang a stat,
# and root cannot stat another user's FUSE mount.
is_mounted() {
	awk -v m="$1" '{ gsub(/\\040/, " ", $5) } $5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo
}
# wait_mounted MNT [PID]: up to 10 s for MNT to be mounted; gives up at
# once when the daemon PID (if given) has ended.
wait_mounted() {
	local _
	for _ in $(seq 1 200); do
		is_mounted "$1" && return 0
		[ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
# mounts_under DIR [fuse|other]: mount points below DIR, newest first;
# only the FUSE ones, or only the others, when asked.
mounts_under() {
	awk -v b="$1/" -v want="${2:-}" '{ gsub(/\\040/, " ", $5) }
	index($5, b) == 1 {
		for (i = 7; $i != "-"; i++) ;
		if (want == "" || (want == "fuse") == ($(i + 1) ~ /^fuse/)) print $5 }' /proc/self/mountinfo | tac
}
# unmount MNT [clean|lazy]: a clean unmount (fusermount3 for a normal
# user's FUSE mount), else a lazy one; "clean" tries only the first, "lazy"
# only the second.
unmount() {
	if [ "${2:-}" != lazy ]; then
		fusermount3 -u "$1" 2>/dev/null || umount "$1" 2>/dev/null && return 0
		[ "${2:-}" != clean ] || return 1
	fi
	fusermount3 -u -z "$1" 2>/dev/null || umount -l "$1" 2>/dev/null
}
# reap PID [NAME]: a foreground daemon ends by itself once unmounted; give
# it 5 s, then kill it (saying so), and collect its status.
reap() {
	local _
	for _ in $(seq 1 500); do kill -0 "$1" 2>/dev/null || break; sleep 0.01; done
	if kill -0 "$1" 2>/dev/null; then
		say "the ${2:-} daemon (pid $1) outlived its unmount; killing it"
		kill "$1"
	fi
	wait "$1" 2>/dev/null || true
}

# ---- the daemon's machine-readable record (xipfs -o stats=FILE), read by
# tests and bench scripts instead of the "xipfs stats" lines, which are
# for people and may be reworded.
# stats_get FILE KEY: one counter on standard output, KEY a dotted path
# ("ops.READ", "read.copy_bytes", "push.on": xipfs(1) lists them); fails
# with a message on a missing file or an unknown key.
stats_get() { python3 "$top/scripts/stats_get.py" "$@"; }
# stats_now FILE PID: have daemon PID write FILE now (SIGUSR1) and wait,
# up to 10 s, until the new record has replaced the old one (a rename:
# FILE's inode changes).
stats_now() {
	local old _
	old=$(stat -c %i "$1" 2>/dev/null || echo none)
	kill -USR1 "$2" || return 1
	for _ in $(seq 1 200); do
		[ "$(stat -c %i "$1" 2>/dev/null || echo none)" = "$old" ] || return 0
		sleep 0.05
	done
	return 1
}

# ---- Debian archive and source packages
# debian_mirror: the URI of the Debian archive this machine's apt
# configuration uses for bookworm (deb822 .sources first, then one-line
# .list files), on standard output; dies when there is none.  Read at run
# time so that no host name is ever written into a file.
debian_mirror() {
	local mirror
	mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '/^URIs:/ {u = $2} /^Suites:/ && / bookworm( |$)/ {print u; exit}')
	[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
	[ -n "$mirror" ] || die "no Debian archive found in the apt configuration"
	echo "$mirror"
}
# debian_source PKG WORK: fetch PKG's source package from the unstable
# suite of that archive and unpack it into WORK/src; the log is WORK/log.
# For peers and libraries newer than Debian 12 has.
debian_source() {
	local pkg=$1 work=$2 mirror
	mirror=$(debian_mirror) || exit 1
	mkdir -p "$work/lists/partial" "$work/archives/partial"
	echo "deb-src $mirror unstable main" >"$work/sources.list"
	local apt_opts=(-q -o Dir::Etc::SourceList="$work/sources.list"
		-o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$work/lists"
		-o Dir::Cache::Archives="$work/archives" -o APT::Get::List-Cleanup=0
		-o APT::Sandbox::User="$(id -un)")
	say "fetching the $pkg source package from the unstable suite"
	apt-get "${apt_opts[@]}" update >"$work/log" 2>&1 ||
		die "apt-get update: $(tail -3 "$work/log")"
	(cd "$work" && apt-get "${apt_opts[@]}" source --download-only "$pkg") >>"$work/log" 2>&1 ||
		die "apt-get source $pkg: $(tail -3 "$work/log")"
	dpkg-source --no-check -x "$work/${pkg}"_*.dsc "$work/src" >>"$work/log" 2>&1 ||
		die "dpkg-source: $(tail -3 "$work/log")"
}

# ---- cleanup: functions named in $cleanup_hooks run on any exit (in that
# order), after an error, Ctrl-C, SIGTERM or SIGHUP too; the exit status is
# kept, and a second signal cannot cut the cleanup short.
cleanup_hooks=""
run_cleanup() {
	local st=$? hook
	set +e
	trap '' INT TERM HUP
	for hook in $cleanup_hooks; do "$hook"; done
	exit $st
}
trap run_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---- the built tools: $XIPFS and the like if set, else the top of the tree.
xipfs=${XIPFS:-$top/xipfs} mkxipfs=${MKXIPFS:-$top/mkxipfs}
xipfsck=${XIPFSCK:-$top/xipfsck} xipbench=${XIPBENCH:-$top/xipbench}
xmap=${XIPFS_MAP:-$top/xipfs-map}
# erofsfuse_path: $EROFSFUSE, else the one scripts/build-erofsfuse.sh put
# in _deps, else erofsfuse on PATH (Debian 12 has none), else the bare name.
erofsfuse_path() {
	local e=${EROFSFUSE:-$top/_deps/erofs-utils/bin/erofsfuse}
	[ -x "$e" ] || e=$(command -v erofsfuse || echo erofsfuse)
	echo "$e"
}
# need_built PATH...: each must be built.
need_built() {
	local t
	for t in "$@"; do [ -x "$t" ] || die "$t not built (make $(basename "$t"))"; done
}
# configure_tree [CONFIGURE-ARGS...]: in $top, generate and run configure
# if that has not been done.
configure_tree() {
	cd "$top"
	[ -x configure ] || autoreconf -fi
	[ -f Makefile ] || ./configure "$@"
}
