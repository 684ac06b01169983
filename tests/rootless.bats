#!/usr/bin/env bats
# rootless.bats - the two user namespace maps of an ordinary user (issue 8):
# the full map, when /etc/subuid and /etc/subgid give the user a range
# (newuidmap and newgidmap write "0 UID 1" and "1 START COUNT"), and the
# single-ID map "0 UID 1" otherwise; for ns-enter --userns and rootless run.
#
# The user is nobody (65534), already on every machine: no user is added.
# Its range comes from files of the test bind-mounted over /etc/subuid and
# /etc/subgid in a private mount namespace (unshare --mount), which vanishes
# with its process: the host's /etc is never written.

load helpers
bats_require_minimum_version 1.5.0

NOBODY=65534
START=200000

setup() {
	common_setup
	require_root
	[ -x "$MINIDOCK_BIN/ns-enter" ] || skip "no $MINIDOCK_BIN/ns-enter (make)"
	[ -x "$ROOTFS/bin/busybox" ] || skip "no busybox rootfs (make images)"
	command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
	command -v newuidmap >/dev/null && command -v newgidmap >/dev/null ||
		skip "newuidmap, newgidmap not installed (Debian package uidmap)"
	[ -f /etc/subuid ] && [ -f /etc/subgid ] ||
		skip "no /etc/subuid or /etc/subgid to bind a test range over"
	# nobody must reach the tools and the image wherever the repository is
	# (the teaching rootfs is used read-only: /mnt is there already)
	chmod 711 "$TEST_TMP"
	mkdir -p "$TEST_TMP/bin" "$TEST_TMP/home" "$TEST_TMP/images"
	cp "$MINIDOCK_BIN"/{ns-enter,run,container,img-unpack,volume} "$TEST_TMP/bin/"
	chmod -R a+rX "$TEST_TMP/bin"
	chown $NOBODY:$NOBODY "$TEST_TMP/home"
	NS=$TEST_TMP/bin/ns-enter
	as_nobody true "$NS" --help >/dev/null 2>&1 ||
		skip "$TEST_TMP is out of an ordinary user's reach (set TMPDIR to /tmp)"
	as_nobody true unshare --user --map-root-user true 2>/dev/null ||
		skip "unprivileged user namespaces are disabled on this host"
}

teardown() { common_teardown; }

# as_nobody RANGE COMMAND...: COMMAND as nobody, with RANGE ("true": nobody
# owns START..START+65535 in both files; "false": the files are empty).
# $AS_ROOT_FIRST, if set, is run by root in that private mount namespace first.
as_nobody() {
	local range=$1
	shift
	if [ "$range" = true ]; then
		echo "nobody:$START:65536" >"$TEST_TMP/subuid"
		echo "$NOBODY:$START:65536" >"$TEST_TMP/subgid"   # by UID: also read
	else
		: >"$TEST_TMP/subuid"
		: >"$TEST_TMP/subgid"
	fi
	chmod 644 "$TEST_TMP/subuid" "$TEST_TMP/subgid"
	unshare --mount --propagation private sh -c '
		mount --bind "$1" /etc/subuid && mount --bind "$2" /etc/subgid || exit 125
		eval "$AS_ROOT_FIRST" || exit 125
		shift 2
		exec "$@"' sh "$TEST_TMP/subuid" "$TEST_TMP/subgid" \
		setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
		env -i HOME="$TEST_TMP/home" XDG_RUNTIME_DIR="$TEST_TMP/home/run" \
		PATH=/usr/bin:/bin MINIDOCK_IMAGES="$TEST_TMP/images" \
		ASAN_OPTIONS="$ASAN_OPTIONS" UBSAN_OPTIONS="$UBSAN_OPTIONS" "$@"
}

# ---- ns-enter --userns ----

@test "rootless: with a range, root inside is the caller and users 1..65536 are the range" {
	run --separate-stderr as_nobody true "$NS" --verbose --userns -- \
		sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g'
	assert_success
	assert_line --index 0 --regexp "^ +0 +$NOBODY +1$"
	assert_line --index 1 --regexp "^ +1 +$START +65536$"
	assert_line --index 2 --regexp "^ +0 +$NOBODY +1$"
	assert_line --index 3 --regexp "^ +1 +$START +65536$"
	assert_line --index 4 0
	assert_line --index 5 0
	# --verbose names the helpers and their arguments
	[[ "$stderr" =~ "ns-enter: newuidmap "[0-9]+" 0 $NOBODY 1 1 $START 65536" ]] ||
		fail "no newuidmap line in: $stderr"
	[[ "$stderr" =~ "ns-enter: newgidmap "[0-9]+" 0 $NOBODY 1 1 $START 65536" ]] ||
		fail "no newgidmap line in: $stderr"
	[[ "$stderr" != *"uid_map ="* ]] || fail "ns-enter wrote a map itself: $stderr"
}

@test "rootless: with a range, --user 1000 is user 1000 inside and $((START + 999)) on the host" {
	mkdir "$TEST_TMP/vol"
	chmod 1777 "$TEST_TMP/vol"
	run as_nobody true "$NS" --userns --all --root "$ROOTFS" \
		--volume "$TEST_TMP/vol:/mnt" --user 1000:1000 -- \
		sh -c 'id -u; id -g; touch /mnt/made-by-1000'
	assert_success
	assert_output "1000
1000"
	assert_equal "$(stat -c %u:%g "$TEST_TMP/vol/made-by-1000")" \
		"$((START + 999)):$((START + 999))"
	# outside the map: refused before anything is made
	run as_nobody true "$NS" --userns --user 70000 -- true
	assert_equal "$status" 125
	assert_output "ns-enter: --user 70000: outside the user namespace's map (IDs 0 to 65536 inside, from /etc/subuid and /etc/subgid)"
}

@test "rootless: without a range, the single-ID map 0 $NOBODY 1, and --user 1000 refused with the reason" {
	run --separate-stderr as_nobody false "$NS" --verbose --userns -- cat /proc/self/uid_map
	assert_success
	assert_output --regexp "^ +0 +$NOBODY +1$"
	[[ "$stderr" == *"ns-enter: single-id map: no range for nobody in /etc/subuid"* ]] ||
		fail "no reason in: $stderr"
	run as_nobody false "$NS" --userns --user 1000 -- true
	assert_equal "$status" 125
	assert_output --partial "ns-enter: --user 1000: the user namespace maps one ID, yours, to root (single-id map: no range for nobody in /etc/subuid)"
	assert_output --partial "usermod --add-subuids"
}

@test "rootless: --userns=single keeps the single-ID map where a range exists" {
	run --separate-stderr as_nobody true "$NS" --verbose --userns=single -- \
		cat /proc/self/uid_map /proc/self/setgroups
	assert_success
	assert_output --regexp "^ +0 +$NOBODY +1
deny$"
	[[ "$stderr" == *"ns-enter: single-id map: --userns=single"* ]] ||
		fail "no reason in: $stderr"
	run "$NS" --userns=full -- true
	assert_equal "$status" 125
	assert_output "ns-enter: --userns=full: expected --userns or --userns=single"
}

# ---- run, rootless ----

@test "rootless run: --user 1000 works with a range (--rm removes its files), is refused (125, the reason) without" {
	cp "$IMAGES/busybox.tar" "$TEST_TMP/images/"
	chmod -R a+rX "$TEST_TMP/images"
	run as_nobody true "$TEST_TMP/bin/run" --rm --user 1000 busybox \
		sh -c 'id -u; sed -n 2p /proc/self/uid_map'
	assert_success
	assert_line --index 0 1000
	assert_line --index 1 --regexp "^ +1 +$START +65536$"
	# a directory of user 1000 ($((START + 999)) outside) is not the
	# caller's to empty: --rm removes it from a user namespace of the same map
	run as_nobody true "$TEST_TMP/bin/run" --rm --user 1000 busybox \
		sh -c 'mkdir /tmp/d && touch /tmp/d/f && stat -c %u /tmp/d/f'
	assert_success
	assert_output 1000
	run ls -A "$TEST_TMP/home/run/minidock"
	assert_output ""
	# container rm does the same for a detached container
	run as_nobody true "$TEST_TMP/bin/run" -d --name sub --user 1000 busybox \
		sh -c 'mkdir /tmp/d && touch /tmp/d/f && sleep 60'
	assert_success
	run as_nobody true "$TEST_TMP/bin/container" rm -f sub
	assert_success
	run ls -A "$TEST_TMP/home/run/minidock"
	assert_output ""
	run as_nobody false "$TEST_TMP/bin/run" --rm --user 1000 busybox id -u
	assert_equal "$status" 125
	assert_output --partial "--user 1000: the user namespace maps one ID, yours, to root"
	assert_output --partial "usermod --add-subuids"
	# nothing is left: no container, no state
	run as_nobody false "$TEST_TMP/bin/container" ls -q
	assert_output ""
	run ls -A "$TEST_TMP/home/run/minidock"
	assert_output ""
}

@test "rootless run: a named volume is in the user's own data directory, filled from the image, kept after the container" {
	cp "$IMAGES/busybox.tar" "$TEST_TMP/images/"
	chmod -R a+rX "$TEST_TMP/images"
	run as_nobody false "$TEST_TMP/bin/run" --rm -v data:/etc busybox \
		sh -c 'echo kept >/etc/new; stat -c %u /etc/passwd'
	assert_success
	assert_output 0
	data=$TEST_TMP/home/.local/share/minidock/volumes/data/_data
	assert_equal "$(cat "$data/new")" kept
	assert_equal "$(stat -c %u "$data/passwd")" $NOBODY
	run as_nobody false "$TEST_TMP/bin/run" --rm -v data:/etc:ro busybox cat /etc/new
	assert_success
	assert_output kept
	run as_nobody false "$TEST_TMP/bin/volume" ls -q
	assert_output data
	run as_nobody false "$TEST_TMP/bin/volume" rm data
	assert_success
	[ ! -e "$data" ] || fail "$data left"
}

# ---- run, rootless: overlayfs in the user namespace (issue 20) ----

# The layer directories of the image nobody imported, lowest first.
nobody_layers() { cat "$TEST_TMP/home/.local/share/minidock/images/busybox/layers"; }

@test "rootless run: the root is an overlayfs ns-enter mounts in the user namespace, not a copy" {
	cp "$IMAGES/busybox.tar" "$TEST_TMP/images/"
	chmod -R a+rX "$TEST_TMP/images"
	run --separate-stderr as_nobody true "$TEST_TMP/bin/run" --verbose --name ov busybox \
		sh -c 'grep " / / " /proc/self/mountinfo; stat -c %i /bin/busybox
		       echo new > /new; rm /etc/passwd'
	assert_success
	[[ "$stderr" == *"run: rootless: overlayfs mounted by ns-enter in the user namespace"* ]] ||
		fail "no reason in: $stderr"
	[[ "$stderr" == *'ns-enter: mount("overlay", '*',userxattr")'* ]] ||
		fail "ns-enter did not mount it: $stderr"
	# / is an overlay of the stored layer, and nothing was copied: the
	# busybox binary seen inside is the very file of the layer (its inode)
	assert_line --index 0 --regexp " / / .* - overlay overlay .*lowerdir=$TEST_TMP/home/.local/share/minidock/layers/sha256/"
	local layer
	layer=$(nobody_layers)
	[ -d "$layer" ] || fail "no layer stored: $layer"
	assert_line --index 1 "$(stat -c %i "$layer/bin/busybox")"
	# the writes are in the container's upper directory, on disk; the layer is unchanged
	local upper=$TEST_TMP/home/.local/share/minidock/containers/ov/upper
	assert_equal "$(cat "$upper/new")" new
	assert_equal "$(stat -c '%F %t:%T' "$upper/etc/passwd")" "character special file 0:0"
	[ ! -e "$layer/new" ] && [ -s "$layer/etc/passwd" ] || fail "the layer was written to"
	[ ! -e "$TEST_TMP/home/.local/share/minidock/containers/ov/rootfs/bin" ] ||
		fail "the root was populated on the host (a copy)"
	run as_nobody true "$TEST_TMP/bin/container" rm ov
	assert_success
	run ls -A "$TEST_TMP/home/.local/share/minidock/containers" "$TEST_TMP/home/run/minidock"
	refute_output --partial ov
}

@test "rootless run: where the kernel refuses the overlayfs, a copy, and --verbose says why" {
	cp "$IMAGES/busybox.tar" "$TEST_TMP/images/"
	chmod -R a+rX "$TEST_TMP/images"
	run -0 as_nobody true "$TEST_TMP/bin/run" --rm busybox true
	# the layers on an overlayfs over an overlayfs, in run's private mount
	# namespace: a third overlayfs on them passes the kernel's stacking
	# limit (2), so the mount is refused; the image is copied from its file
	local layers=$TEST_TMP/home/.local/share/minidock/layers
	mkdir "$TEST_TMP/o1" "$TEST_TMP/o2" "$TEST_TMP/e"
	AS_ROOT_FIRST="mount -t overlay o1 -o lowerdir=$layers:$TEST_TMP/e $TEST_TMP/o1 &&
		mount -t overlay o2 -o lowerdir=$TEST_TMP/o1:$TEST_TMP/e $TEST_TMP/o2 &&
		mount --bind $TEST_TMP/o2 $layers" \
	run --separate-stderr as_nobody true "$TEST_TMP/bin/run" --verbose --rm busybox \
		sh -c 'grep " / / " /proc/self/mountinfo; cat /etc/hostname >/dev/null && echo ran'
	assert_success
	assert_line ran
	refute_output --partial overlay
	[[ "$stderr" == *"run: rootless: overlayfs refused in a user namespace here (Invalid argument): a private copy of the image"* ]] ||
		fail "no reason in: $stderr"
}
