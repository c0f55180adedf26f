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
# wait_gone PID [SECONDS]: up to SECONDS (default 10) for process PID to
# end; 1 if it still runs then.
wait_gone() {
	local _
	for _ in $(seq 1 $((${2:-10} * 20))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}
# reap PID [NAME]: a foreground daemon ends by itself once unmounted; give
# it 5 s, then kill it (saying so), and collect its status.
reap() {
	if ! wait_gone "$1" 5; then
		say "the ${2:-} daemon (pid $1) outlived its unmount; killing it"
		kill "$1"
	fi
	wait "$1" 2>/dev/null || true
}

# ---- FUSE daemons, one way for every script and test: in the foreground
# (-f) but in the background, so that the caller holds the PID, knows
# when the mount is there, and reaps it after the unmount.
declare -A daemon_pid=()	# NAME -> PID of what start_daemon started
daemon_hint=""			# added to start_daemon's message when it dies
# start_daemon NAME LOG MNT COMMAND...: COMMAND (a FUSE daemon run with
# -f, mounting MNT) in the background, standard input /dev/null, its
# output appended to LOG; sets daemon_pid[NAME] and waits for MNT to be
# mounted.  Dies naming the command, with the end of LOG, when the daemon
# ends first or 10 s pass (the caller's cleanup then undoes the rest).
start_daemon() {
	local name=$1 log=$2 mnt=$3
	shift 3
	mkdir -p "$mnt"
	"$@" </dev/null >>"$log" 2>&1 &
	daemon_pid[$name]=$!
	wait_mounted "$mnt" "${daemon_pid[$name]}" ||
		die "$name did not mount on $mnt$daemon_hint: $*: $(tail -n 20 "$log")"
}
# reap_daemons: reap every daemon start_daemon started (after unmounting).
reap_daemons() {
	local n
	for n in "${!daemon_pid[@]}"; do
		reap "${daemon_pid[$n]}" "$n"
		unset "daemon_pid[$n]"
	done
}

# ---- benchmarks: one work directory on tmpfs, one way to drop caches,
# one option parser.
# bench_workdir NAME: a new directory for NAME under $BENCH_DIR (default
# /dev/shm, which is tmpfs) in $base, removed (never across a mount) on
# any exit after the caller's own hooks; warns when it is not on tmpfs.
bench_workdir() {
	base=$(mktemp -d "${BENCH_DIR:-/dev/shm}/xipfs-$1.XXXXXX") ||
		die "cannot make a work directory in ${BENCH_DIR:-/dev/shm}"
	# Mount points are found in /proc/self/mountinfo, which escapes blanks.
	case $base in *[[:space:]]*) rmdir "$base"; die "BENCH_DIR must not contain blanks";; esac
	[ "$(stat -f -c %T "$base")" = tmpfs ] ||
		say "warning: $base is not on tmpfs, the figures include its medium"
	cleanup_hooks="$cleanup_hooks remove_workdir"
}
remove_workdir() { [ -z "${base:-}" ] || rm -rf --one-file-system "$base"; }
# drop_caches: write back, then drop the page cache, dentries and inodes
# (root), so that the next read is cold.
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
# parse_options SPEC... -- ARGS...: long options into variables.  A SPEC
# is NAME=VAR (--NAME VALUE or --NAME=VALUE sets VAR), NAME=+VAR (the same,
# each VALUE appended to the array VAR), NAME=#VAR (a whole number from 0)
# or NAME (a flag: --NAME sets the variable of that name, - made _, to 1).
# -h and --help run the script's usage function and exit 0; anything else
# dies, pointing at --help.  Arguments that are not options are left in
# the array $args.
parse_options() {
	local -A _spec=()
	local _s _o _v
	while [ "$1" != -- ]; do
		case $1 in *=*) _spec[${1%%=*}]=${1#*=};; *) _spec[$1]=!;; esac
		shift
	done
	shift
	args=()
	while [ $# -gt 0 ]; do
		case $1 in
		-h|--help) usage; exit 0;;
		--*=*) set -- "${1%%=*}" "${1#*=}" "${@:2}"; continue;;
		--*) _o=${1#--}; [ -n "${_spec[$_o]:-}" ] || die "unknown option '$1' (--help)";;
		*) args+=("$1"); shift; continue;;
		esac
		_s=${_spec[$_o]}
		if [ "$_s" = ! ]; then
			printf -v "${_o//-/_}" 1
			shift
			continue
		fi
		[ $# -ge 2 ] || die "$1 needs a value (--help)"
		_v=$2
		case $_s in
		+*) eval "${_s#+}+=(\"\$_v\")";;
		[#]*) [[ $_v =~ ^[0-9]+$ ]] || die "$1 wants a number, not '$_v'"
			printf -v "${_s#[#]}" %s "$_v";;
		*) printf -v "$_s" %s "$_v";;
		esac
		shift 2
	done
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
# libfuse_version PROGRAM: the version of the libfuse3 PROGRAM is linked
# with (3.14.0), from the file name its ldd names; nothing if none.
libfuse_version() {
	readlink -f "$(ldd "$1" 2>/dev/null | awk '/libfuse3/ {print $3}')" 2>/dev/null |
		sed -n 's/.*libfuse3\.so\.//p'
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
# measure_targets: the benchmarks' target selection.  measured[] gets the
# targets of $targets (in that order) that no check gave a reason in
# why[]; none left is an error.  on TARGET: whether it is measured.
measure_targets() {
	local t
	measured=()
	for t in $targets; do [ -n "${why[$t]:-}" ] || measured+=("$t"); done
	[ ${#measured[@]} -gt 0 ] || die "no target left to measure"
}
on() { case " ${measured[*]} " in *" $1 "*) return 0;; esac; return 1; }
