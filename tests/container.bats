#!/usr/bin/env bats
# container.bats - where a container lives and how it ends (issue 20): its
# writable layer and its log on disk, the log bounded; its state true
# whatever moment run is killed at (MINIDOCK_TEST_STOP_AT=N: run kills
# itself with SIGKILL after its Nth state write, see common/lifecycle.h);
# prune beside starts; rm -f and stop through every name; a reboot.
#
# Bridged tests run in a throwaway "host" (helpers.bash), as in run.bats.

load helpers
bats_require_minimum_version 1.5.0

RUN=$MINIDOCK_BIN/run
C=$MINIDOCK_BIN/container

setup() {
	require_root
	common_setup
	export MINIDOCK_NETNS_DIR=$TEST_TMP/netns
	export MINIDOCK_IMAGES=$IMAGES
	[ -f "$IMAGES/busybox.tar" ] || skip "no teaching image (make images)"
	# short (veth-NAME fits in 15 characters) and unique on the machine
	N=c$(printf %04x $((RANDOM % 65536)))
	HOLDER=
	TMPFS=
}

teardown() {
	local n
	[ -z "${PRUNER:-}" ] || { kill "$PRUNER" 2>/dev/null; wait "$PRUNER" 2>/dev/null; }
	for n in $("$C" ls -q 2>/dev/null); do
		if [ -n "$HOLDER" ]; then hns "$C" rm -f "$n"; else "$C" rm -f "$n"; fi
	done >/dev/null 2>&1
	if [ -n "$HOLDER" ]; then hns "$C" prune; else "$C" prune; fi >/dev/null 2>&1
	[ -z "$TMPFS" ] || umount "$TMPFS" 2>/dev/null || true
	end_throwaway_host
	common_teardown
}

# Nothing of container NAME: runtime and disk directories, mount, cgroup,
# and in the throwaway host veth, netns file, nft rule, lease.
assert_nothing_left() {
	local name=$1 mounts
	[ ! -e "$MINIDOCK_RUN_DIR/$name" ] || fail "$MINIDOCK_RUN_DIR/$name left"
	[ ! -e "$MINIDOCK_LIB_DIR/containers/$name" ] || fail "$MINIDOCK_LIB_DIR/containers/$name left"
	run ls -A "$MINIDOCK_RUN_DIR"
	refute_output --regexp '(^|[[:space:]])\.'     # no hidden claim left
	if [ -n "$HOLDER" ]; then mounts=$(hns cat /proc/self/mountinfo); else mounts=$(cat /proc/self/mountinfo); fi
	! grep -q -e "$MINIDOCK_RUN_DIR/" -e "$MINIDOCK_LIB_DIR/containers/" <<<"$mounts" ||
		fail "a mount is left: $(grep -e "$MINIDOCK_RUN_DIR/" -e "$MINIDOCK_LIB_DIR/containers/" <<<"$mounts")"
	[ -z "$(find /sys/fs/cgroup -type d -name "$name" 2>/dev/null)" ] ||
		fail "cgroup left: $(find /sys/fs/cgroup -type d -name "$name")"
	if [ -n "$HOLDER" ]; then
		wait_veths_gone
		run hns ip -o link show
		refute_output --partial veth
		run hns nft list ruleset
		assert_output ""
		run ls -A "$MINIDOCK_NETNS_DIR"
		[ "$status" -ne 0 ] || assert_output ""
		! grep -qs -v '^#' "$MINIDOCK_RUN_DIR/net/leases" ||
			fail "a lease is left: $(cat "$MINIDOCK_RUN_DIR/net/leases")"
	fi
}

@test "container: the writable layer is on disk: with the runtime directory on a 64 MB tmpfs, a container writes 200 MB" {
	TMPFS=$MINIDOCK_RUN_DIR
	mkdir -p "$TMPFS"
	mount -t tmpfs -o size=64m tmpfs "$TMPFS"
	run "$RUN" --rm --network none --name "$N" busybox sh -c \
		'dd if=/dev/zero of=/big bs=1M count=200 2>/dev/null && ls -l /big | awk "{ print \$5 }"'
	assert_success
	assert_output 209715200
	assert_nothing_left "$N"
}

@test "container: the log of run -d is rotated (--log-opt max-size, max-file; 5 files of 20 MB by default); logs reads across the rotation" {
	run "$RUN" -d --network none --name "$N" --log-opt max-size=100k --log-opt max-file=3 \
		busybox seq 1 100000
	assert_success
	for _ in $(seq 100); do "$C" ls | grep -q "^$N .* exited" && break; sleep 0.05; done
	files=$(ls "$MINIDOCK_LIB_DIR/containers/$N" | grep -c '^log')
	assert_equal "$files" 3
	bytes=$(cat "$MINIDOCK_LIB_DIR/containers/$N"/log* | wc -c)
	[ "$bytes" -le $((3 * 102400)) ] || fail "$bytes bytes of log kept, more than 3 x 100k"
	# logs: the kept end, whole and in order, across the three files
	run "$C" logs "$N"
	assert_success
	assert_equal "${lines[-1]}" 100000
	first=${lines[0]}
	assert_equal "${#lines[@]}" $((100000 - first + 1))
	"$C" rm "$N"
	run "$RUN" -d --network none --name "$N" --log-opt max-size=10 busybox true
	assert_equal "$status" 125
	assert_output --partial "--log-opt max-size=10: expected a size of at least 1k"
	run "$RUN" -d --network none --name "$N" --log-opt mode=fast busybox true
	assert_equal "$status" 125
	assert_output --partial "expected max-size=SIZE or max-file=N"
	# 150 MB of output, the default bound: 5 files of 20 MB, and its end
	run "$RUN" -d --network none --name "$N" busybox sh -c \
		'yes 0123456789abcdef | head -c 157286400; echo; echo THE-END'
	assert_success
	for _ in $(seq 400); do "$C" ls | grep -q "^$N .* exited" && break; sleep 0.05; done
	run "$C" ls
	assert_line --regexp "^$N .* exited \(0\) "
	assert_equal "$(ls "$MINIDOCK_LIB_DIR/containers/$N" | grep -c '^log')" 5
	bytes=$(cat "$MINIDOCK_LIB_DIR/containers/$N"/log* | wc -c)
	[ "$bytes" -le $((5 * 20 * 1048576)) ] || fail "$bytes bytes kept, more than 5 x 20 MB"
	assert_equal "$("$C" logs "$N" | tail -n 1)" THE-END
	"$C" rm "$N"
}

@test "container: run killed with SIGKILL after each step of its start; ls says dead; prune leaves no mount, cgroup, netns, lease, state or disk entry" {
	throwaway_host
	# the steps: 1 claimed (hidden), 2 disk, 3 rootfs mount, 4 cgroup and
	# network recorded, all made ("created", as docker says of a container
	# never started), 5 the chain started
	for step in 1 2 3 4 5; do
		MINIDOCK_TEST_STOP_AT=$step run -137 hns "$RUN" --init --name "$N" -p 8083:80 \
			--memory 64M busybox sleep 30
		state=dead
		[ "$step" -ne 4 ] || state=created
		if [ "$step" -ge 2 ]; then
			# step 5: PR_SET_PDEATHSIG gave the chain SIGTERM; it unwinds
			for _ in $(seq 100); do hns "$C" ls | grep -q "^$N .* $state" && break; sleep 0.05; done
			run hns "$C" ls
			assert_line --regexp "^$N .* $state "
		fi
		run hns "$C" prune
		assert_success
		[ "$step" -eq 1 ] || assert_output "$N"
		assert_nothing_left "$N"
	done
	# rm killed half-way: ls says removing; prune ends it
	run hns "$RUN" -d --name "$N" busybox sleep 30
	assert_success
	hns "$C" stop -t 0 "$N" >/dev/null
	MINIDOCK_TEST_STOP_AT=1 run -137 hns "$C" rm "$N"
	run hns "$C" ls
	assert_line --regexp "^$N .* removing "
	run hns "$C" prune
	assert_output "$N"
	assert_nothing_left "$N"
}

@test "container: 20 run -d beside a loop of prunes all start; prune never touches a live container" {
	( while :; do "$C" prune >/dev/null 2>&1 || true; echo >>"$TEST_TMP/prunes"; done ) &
	PRUNER=$!
	for i in $(seq 20); do
		"$RUN" -d --network none --name "$N-$i" busybox sleep 1000 >"$TEST_TMP/out.$i" 2>&1 &
	done
	failed=0
	for job in $(jobs -p); do
		[ "$job" = "$PRUNER" ] && continue
		wait "$job" || failed=$((failed + 1))
	done
	kill "$PRUNER"
	wait "$PRUNER" || true
	PRUNER=
	[ "$failed" -eq 0 ] || fail "$failed of 20 failed: $(cat "$TEST_TMP"/out.*)"
	[ "$(wc -l <"$TEST_TMP/prunes")" -ge 2 ] || fail "the prunes did not run beside the starts"
	run "$C" ls
	assert_equal "$(grep -c " running " <<<"$output")" 20
	run "$C" rm -f $(seq -f "$N-%g" 20)
	assert_success
	for i in $(seq 20); do assert_nothing_left "$N-$i"; done
}

@test "container: rm -f a nosuch b removes a and b, names nosuch, exits 1; stop the same; every name is free again" {
	"$RUN" -d --network none --name "$N-a" busybox sleep 60 >/dev/null
	"$RUN" -d --network none --name "$N-b" busybox sleep 60 >/dev/null
	run "$C" stop -t 0 "$N-a" "$N-nosuch" "$N-b"
	assert_equal "$status" 1
	assert_line "container: $N-nosuch: no such container (see: container ls)"
	assert_line "$N-a"
	assert_line "$N-b"
	run "$C" ls
	assert_line --regexp "^$N-a .* exited "
	assert_line --regexp "^$N-b .* exited "
	"$RUN" -d --network none --name "$N-a" --rm busybox sleep 60 2>/dev/null && fail "a name in use was given again"
	"$C" rm "$N-a" "$N-b" >/dev/null
	"$RUN" -d --network none --name "$N-a" busybox sleep 60 >/dev/null
	"$RUN" -d --network none --name "$N-b" busybox sleep 60 >/dev/null
	run "$C" rm -f "$N-a" "$N-nosuch" "$N-b"
	assert_equal "$status" 1
	assert_line "container: $N-nosuch: no such container (see: container ls)"
	assert_line "$N-a"
	assert_line "$N-b"
	assert_nothing_left "$N-a"
	assert_nothing_left "$N-b"
	run "$C" ls -q
	assert_output ""
	run "$RUN" --rm --network none --name "$N-a" busybox echo free
	assert_output free
	run "$RUN" --rm --network none --name "$N-b" busybox echo free
	assert_output free
}

@test "container: a reboot (the runtime directory emptied), then prune, leaves nothing on disk" {
	"$RUN" --network none --name "$N-x" busybox sh -c 'echo kept >/file' >/dev/null
	run --separate-stderr "$RUN" --dry-run --network none --name "$N-y" busybox true
	assert_success
	"$C" ls -q | grep -q "$N-y" || fail "the --dry-run container is not listed"
	# what a reboot does: processes and mounts gone, /run (a tmpfs) empty
	umount "$MINIDOCK_LIB_DIR/containers/$N-y/rootfs"
	rm -rf "$MINIDOCK_RUN_DIR"/*
	[ -f "$MINIDOCK_LIB_DIR/containers/$N-x/upper/file" ] || fail "the writable layer is not on disk"
	run "$C" ls -q
	assert_output ""
	run "$C" prune
	assert_success
	assert_line "$N-x"
	assert_line "$N-y"
	run ls -A "$MINIDOCK_LIB_DIR/containers"
	assert_output ""
	assert_nothing_left "$N-x"
	assert_nothing_left "$N-y"
}

@test "container: rm frees the name at once and deletes the disk directory in the background (md-reclaim); prune finishes what a crash left" {
	"$RUN" -d --network none --name "$N-r" busybox sh -c 'dd if=/dev/zero of=/big bs=1M count=30 2>/dev/null; sleep 1000' >/dev/null
	for _ in $(seq 100); do
		[ "$(stat -c %s "$MINIDOCK_LIB_DIR/containers/$N-r/upper/big" 2>/dev/null)" = 31457280 ] && break
		sleep 0.1
	done
	run --separate-stderr "$C" --verbose rm -f "$N-r"
	assert_success
	assert [ -n "$(grep -E "rename\(\"$MINIDOCK_LIB_DIR/containers/$N-r\", \"$MINIDOCK_LIB_DIR/containers/\.trash/$N-r\.[0-9]+\.0\"\), removed in the background \(pid [0-9]+\)" <<<"$stderr")" ]
	[ ! -e "$MINIDOCK_LIB_DIR/containers/$N-r" ] || fail "containers/$N-r is still there"
	# the name is free at once, its disk directory new
	run "$RUN" --rm --network none --name "$N-r" busybox sh -c 'ls /big 2>&1; echo again'
	assert_line again
	refute_line /big
	# what a crash left in .trash (a removal without its md-reclaim)
	mkdir -p "$MINIDOCK_LIB_DIR/containers/.trash/$N-x.1.0/upper/d"
	echo left >"$MINIDOCK_LIB_DIR/containers/.trash/$N-x.1.0/upper/d/f"
	run "$C" prune
	assert_success
	[ ! -e "$MINIDOCK_LIB_DIR/containers/.trash" ] || fail ".trash left: $(ls -AR "$MINIDOCK_LIB_DIR/containers/.trash")"
	assert_nothing_left "$N-r"
}
