#!/bin/bash
# Mounts by a normal user, through fusermount3: the user reads the files,
# the mount is nosuid,nodev and belongs to that user; another user (and
# root) cannot look inside without allow_other, which fusermount3 refuses
# unless /etc/fuse.conf allows it; uid=/gid= show every file as the user's;
# the user unmounts and the daemon exits 0.  Two system users are created
# for the test and deleted afterwards.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
need_root
need_cmd fusermount3
need_cmd useradd
need_cmd userdel
[ -c /dev/fuse ] || skip "needs /dev/fuse"
[ -u "$(command -v fusermount3)" ] || skip "fusermount3 is not setuid root"

U1=xipfs-t1-$$
U2=xipfs-t2-$$
users=""
user_mounts=""
user_pids=""
# Runs after unmount_all (which may not see mounts root cannot stat).
drop_users() {
	for m in $user_mounts; do
		if awk -v m="$m" '$2 == m { f = 1 } END { exit !f }' /proc/self/mounts; then
			umount -l "$m" || true
		fi
	done
	# The daemons end once unmounted; any that does not is killed, and
	# waited for, since userdel refuses a user who still runs a process.
	for p in $user_pids; do
		for i in $(seq 1 100); do
			kill -0 "$p" 2>/dev/null || break
			[ "$i" != 50 ] || kill "$p" 2>/dev/null || true
			sleep 0.1
		done
	done
	for u in $users; do
		userdel "$u" || echo "could not delete user $u" >&2
		if getent group "$u" >/dev/null; then groupdel "$u" || true; fi
	done
}
cleanup_hooks="$cleanup_hooks drop_users"
for u in "$U1" "$U2"; do
	useradd --system --no-create-home --user-group \
		--home-dir /nonexistent --shell /usr/sbin/nologin "$u" ||
		fail "useradd $u"
	users="$users $u"
done
uid1=$(id -u "$U1") gid1=$(id -g "$U1")


as() { u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"; }

fuse_open_to "$U1" "$U2"

# A tree owned by root, with a file and a directory only root may read.
T=$WORK/tree
mkdir -p "$T/sub" "$T/private-dir"
printf 'hello from the image\n' >"$T/hello.txt"
head -c 200000 /dev/urandom >"$T/sub/data"
head -c 3000 /dev/urandom >"$T/private-dir/inside"
printf 'root only\n' >"$T/secret"
chmod 600 "$T/secret"
chmod 700 "$T/private-dir"
cp "$T/secret" "$WORK/secret.copy"	# what user 1 compares with
cp "$T/private-dir/inside" "$WORK/inside.copy"
chmod 644 "$WORK/secret.copy" "$WORK/inside.copy"
ln -s hello.txt "$T/link"
chmod 4755 "$T/hello.txt"	# setuid bit: the mount must neutralise it
"$MKXIPFS" -q "$T" "$WORK/img.xip"
chmod 644 "$WORK/img.xip"

M=$WORK/m1
mkdir "$M"
chown "$U1:$U1" "$M"
chmod 755 "$M"
user_mounts="$M"

# Where /proc/mounts says MNT is mounted, its options; empty if it is not.
mount_opts() { awk -v m="$1" '$2 == m { print $4 }' /proc/self/mounts; }

# The daemon runs as user 1 in the foreground, so its exit status is ours.
user_mount() {	# user_mount MNT [options]
	m=$1; shift
	# A background job starts with SIGINT ignored (and SIGHUP too under
	# nohup), and libfuse leaves an ignored signal alone: restore the
	# defaults so that SIGINT and SIGHUP work.
	env --default-signal=INT,HUP setpriv --reuid="$U1" --regid="$U1" --init-groups -- \
		"$XIPFS" -f "$@" "$WORK/img.xip" "$m" 2>>"$WORK/xipfs.log" &
	XIPFS_PID=$!
	user_pids="$XIPFS_PID $user_pids"
	for _ in $(seq 1 200); do
		[ -n "$(mount_opts "$m")" ] && return 0
		kill -0 "$XIPFS_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "user mount $* did not appear: $(cat "$WORK/xipfs.log")"
}
user_unmount() {
	as "$U1" fusermount3 -u "$1" || fail "$U1: fusermount3 -u $1 failed"
	set +e
	timeout_pid=$XIPFS_PID
	for _ in $(seq 1 200); do
		kill -0 "$timeout_pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$timeout_pid" 2>/dev/null && fail "daemon still running after fusermount3 -u"
	wait "$XIPFS_PID"
	st=$?
	set -e
	[ $st = 0 ] || fail "daemon exited with status $st: $(cat "$WORK/xipfs.log")"
	[ -z "$(mount_opts "$1")" ] || fail "$1 still mounted"
}

# --- user 1 mounts and reads ---------------------------------------------
user_mount "$M"
opts=$(mount_opts "$M")
case ",$opts," in *,nosuid,*) ;; *) fail "no nosuid: $opts" ;; esac
case ",$opts," in *,nodev,*) ;; *) fail "no nodev: $opts" ;; esac
case ",$opts," in *,ro,*) ;; *) fail "not ro: $opts" ;; esac
case ",$opts," in *,user_id=$uid1,*) ;; *) fail "not user 1's: $opts" ;; esac
[ "$(awk '/^Uid:/ { print $2 "," $3 }' "/proc/$XIPFS_PID/status")" = "$uid1,$uid1" ] ||
	fail "daemon runs as $(grep '^Uid:' "/proc/$XIPFS_PID/status")"
ok "$U1 mounted through fusermount3: $opts"

for f in hello.txt sub/data; do
	as "$U1" cmp "$T/$f" "$M/$f" || fail "$U1 reads $f wrong"
done
[ "$(as "$U1" readlink "$M/link")" = hello.txt ] || fail "$U1: readlink"
[ "$(as "$U1" stat -c '%u:%g %a' "$M/hello.txt")" = "0:0 4755" ] ||
	fail "owner/mode of hello.txt: $(as "$U1" stat -c '%u:%g %a' "$M/hello.txt")"
# The image's own permissions apply: user 1 is not root.
expect_error "Permission denied" as "$U1" cat "$M/secret"
expect_error "Permission denied" as "$U1" ls "$M/private-dir"
# Read-only.
expect_error "Read-only file system" as "$U1" touch "$M/new"
ok "$U1 reads the files; stored owners and modes are enforced; read-only"

# Nobody else gets in, not even root: the mount has no allow_other.
expect_error "Permission denied" as "$U2" ls "$M"
expect_error "Permission denied" as "$U2" cat "$M/hello.txt"
expect_error "Permission denied" ls "$M"
ok "$U2 and root are denied without allow_other"

# Another user cannot unmount it either.
expect_error "fusermount3" as "$U2" fusermount3 -u "$M"
[ -n "$(mount_opts "$M")" ] || fail "$U2 unmounted $U1's mount"
ok "$U2 cannot unmount $U1's mount"

user_unmount "$M"
ok "$U1 unmounted with fusermount3 -u, daemon exited 0"

# --- allow_other ---------------------------------------------------------
# Not allowed to a normal user unless /etc/fuse.conf says user_allow_other.
set +e
as "$U1" "$XIPFS" -o allow_other "$WORK/img.xip" "$M" >"$WORK/out" 2>"$WORK/err"
st=$?
set -e
if grep -q '^[[:space:]]*user_allow_other' /etc/fuse.conf 2>/dev/null; then
	[ $st = 0 ] || fail "allow_other refused although fuse.conf allows it: $(cat "$WORK/err")"
	as "$U2" cmp "$T/hello.txt" "$M/hello.txt" ||
		fail "$U2 cannot read with allow_other"
	as "$U1" fusermount3 -u "$M"
	ok "allow_other: allowed by /etc/fuse.conf, $U2 reads"
else
	[ -z "$(mount_opts "$M")" ] || {
		umount -l "$M"
		fail "allow_other mounted although /etc/fuse.conf forbids it"
	}
	[ $st = 1 ] || fail "allow_other: status $st, want 1"
	grep -q "fusermount3: option allow_other only allowed if 'user_allow_other' is set" "$WORK/err" ||
		fail "allow_other: fusermount3's refusal not shown: $(cat "$WORK/err")"
	ok "allow_other refused by fusermount3: $(cat "$WORK/err")"
fi

# --- a mount point the user does not own ---------------------------------
mkdir "$WORK/rootdir"
chmod 755 "$WORK/rootdir"
user_mounts="$user_mounts $WORK/rootdir"
set +e
as "$U1" "$XIPFS" "$WORK/img.xip" "$WORK/rootdir" >"$WORK/out" 2>"$WORK/err"
st=$?
set -e
[ -z "$(mount_opts "$WORK/rootdir")" ] || fail "$U1 mounted on a root-owned directory"
[ $st = 1 ] || fail "root-owned mount point: status $st, want 1"
grep -q "fusermount3: .*$WORK/rootdir" "$WORK/err" ||
	fail "root-owned mount point: $(cat "$WORK/err")"
ok "$U1 cannot mount on a directory it cannot write: $(head -1 "$WORK/err")"

# --- uid=/gid= -----------------------------------------------------------
user_mount "$M" -o "uid=$uid1,gid=$gid1"
for f in hello.txt secret sub sub/data private-dir private-dir/inside; do
	[ "$(as "$U1" stat -c '%u:%g' "$M/$f")" = "$uid1:$gid1" ] ||
		fail "uid=/gid=: $f owned by $(as "$U1" stat -c '%u:%g' "$M/$f")"
done
# Permission bits stay; with user 1 as the owner, the owner bits apply.
[ "$(as "$U1" stat -c %a "$M/secret")" = 600 ] || fail "uid=: mode of secret changed"
as "$U1" cmp "$WORK/secret.copy" "$M/secret" || fail "$U1 cannot read secret with uid="
as "$U1" cmp "$WORK/inside.copy" "$M/private-dir/inside" ||
	fail "$U1 cannot read private-dir/inside with uid="
expect_error "Permission denied" as "$U2" ls "$M"
user_unmount "$M"
ok "uid=$uid1,gid=$gid1: every file is $U1's, and $U1 may read what only root could"

# --- SIGTERM -------------------------------------------------------------
# The man page: SIGINT, SIGTERM and SIGHUP unmount and end the daemon; for a
# user's mount that unmount goes through fusermount3 as well.
for sig in TERM INT HUP; do
	user_mount "$M"
	as "$U1" cat "$M/hello.txt" >/dev/null || fail "$U1 cannot read before SIG$sig"
	kill -s "$sig" "$XIPFS_PID"
	for _ in $(seq 1 200); do
		kill -0 "$XIPFS_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$XIPFS_PID" 2>/dev/null && fail "daemon still running 10 s after SIG$sig"
	set +e
	wait "$XIPFS_PID"
	st=$?
	set -e
	[ -z "$(mount_opts "$M")" ] || fail "SIG$sig left $M mounted"
	# xipfs(1): exit status 0 after a clean unmount.
	[ $st = 0 ] || problem "SIG$sig: clean unmount, but the daemon exited with status $st"
done
check_problems
ok "SIGTERM, SIGINT and SIGHUP unmount a user's mount and end the daemon with status 0"
