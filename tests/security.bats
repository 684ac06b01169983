#!/usr/bin/env bats
# security.bats - a default container holds against the classic escapes.
#
# Each attempt is made from inside `ns-enter --all --root ROOTFS`, the way
# `run` starts a container, and must fail.  Where the host allows it at all,
# the same attempt is then shown to succeed with --privileged, or with the
# one protection turned off, so each test is known to test something.
# The attempts are small C programs (tests/probes/probe.c), built static
# and copied into a private copy of the busybox image.

load helpers

setup_file() {
	[ -x "$MINIDOCK_BIN/ns-enter" ] || return 0
	export SEC_ROOT="$BATS_FILE_TMPDIR/rootfs"
	cp -a "$ROOTFS" "$SEC_ROOT"
	cc -static -O1 -o "$SEC_ROOT/bin/probe" "$BATS_TEST_DIRNAME/probes/probe.c"
	# A setuid-root program in the image, as a hostile image would ship.
	install -m 4755 -o 0 -g 0 "$SEC_ROOT/bin/probe" "$SEC_ROOT/bin/suid-probe"
	# A symlink in the image pointing far "up": it must stay in the root.
	ln -s ../../../../../../../.. "$SEC_ROOT/up"
}

setup() {
	require_root
	[ -x "$MINIDOCK_BIN/ns-enter" ] || skip "ns-enter not built yet"
	common_setup
	HOST_PID=
}

teardown() {
	if [ -n "$HOST_PID" ]; then
		kill "$HOST_PID" 2>/dev/null || true
		wait "$HOST_PID" 2>/dev/null || true
	fi
	common_teardown
}

# in_container [NS-ENTER OPTION...] -- COMMAND...: a default container
# (plus the options given), its result in $status and $output.
in_container() {
	run "$MINIDOCK_BIN/ns-enter" --all --root "$SEC_ROOT" "$@"
}

# A process of the host for the container to look for, kill or trace.
start_host_process() {
	sleep 60 &
	HOST_PID=$!
}

# The bits of capabilities(7) NAMES, as /proc/PID/status prints them.
cap_mask() {
	local -A bit=([CHOWN]=0 [DAC_OVERRIDE]=1 [FOWNER]=3 [FSETID]=4 [KILL]=5
		[SETGID]=6 [SETUID]=7 [SETPCAP]=8 [NET_BIND_SERVICE]=10 [NET_ADMIN]=12
		[NET_RAW]=13 [SYS_CHROOT]=18 [SYS_ADMIN]=21 [MKNOD]=27
		[AUDIT_WRITE]=29 [SETFCAP]=31)
	local mask=0 name
	for name in "$@"; do mask=$((mask | (1 << ${bit[$name]}))); done
	printf '%016x\n' "$mask"
}

DOCKER_CAPS="CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP
SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE"

# ---- the protections themselves ----

@test "security: capabilities are Docker's 14 in every set, inheritable and ambient empty" {
	in_container -- cat /proc/self/status
	assert_success
	local want
	want=$(cap_mask $DOCKER_CAPS)
	assert_line "CapEff:	$want"
	assert_line "CapPrm:	$want"
	assert_line "CapBnd:	$want"
	assert_line "CapInh:	0000000000000000"
	assert_line "CapAmb:	0000000000000000"

	in_container --cap-add NET_ADMIN --cap-drop CAP_CHOWN -- cat /proc/self/status
	assert_success
	want=$(cap_mask ${DOCKER_CAPS/CHOWN/} NET_ADMIN)
	assert_line "CapEff:	$want"
	assert_line "CapBnd:	$want"

	in_container --privileged -- cat /proc/self/status
	assert_success
	assert_line "CapEff:	$(awk '$1 == "CapBnd:" {print $2}' /proc/self/status)"
	assert_line "CapInh:	0000000000000000"
}

@test "security: no_new_privs and a seccomp filter by default, --verbose counts the rules" {
	in_container --verbose -- cat /proc/self/status
	assert_success
	assert_line "NoNewPrivs:	1"
	assert_line "Seccomp:	2"
	assert_output --regexp "seccomp\(SECCOMP_SET_MODE_FILTER\): loaded [0-9]+ rules"
	assert_output --partial "prctl(PR_SET_NO_NEW_PRIVS, 1)"
	assert_output --partial "capset("

	in_container --verbose --security-opt seccomp=unconfined --security-opt no-new-privileges=false -- cat /proc/self/status
	assert_success
	assert_line "NoNewPrivs:	0"
	assert_line "Seccomp:	0"
	refute_output --partial "loaded"

	in_container --privileged -- cat /proc/self/status
	assert_line "NoNewPrivs:	0"
	assert_line "Seccomp:	0"
}

@test "security: the default filter is the one make compiled; with --cap-add libseccomp compiles it now" {
	in_container --verbose -- /bin/probe keyctl
	assert_failure
	assert_output --regexp "seccomp\(SECCOMP_SET_MODE_FILTER\): loaded [0-9]+ rules .*, compiled by make"
	assert_output --partial "keyctl: Operation not permitted"
	in_container -- /bin/probe unshare-user
	assert_failure
	assert_output "unshare(CLONE_NEWUSER): Operation not permitted"

	# CAP_SYS_ADMIN lifts the rules on unshare (as in Docker): another
	# program, compiled at start, and unshare(CLONE_NEWUSER) goes through.
	in_container --verbose --cap-add SYS_ADMIN -- /bin/probe unshare-user
	assert_success
	assert_output --regexp "loaded [0-9]+ rules .*, compiled now by libseccomp \(capabilities differ from the default\)"
	refute_output --partial "compiled by make"
	in_container --cap-add SYS_ADMIN -- /bin/probe keyctl
	assert_failure
	assert_output --partial "keyctl: Operation not permitted"
}

# The PID of COMMAND (busybox) of the container whose supervisor is
# $HOST_PID: supervisor -> init (PID 1 inside) -> COMMAND.
command_pid() {
	local pid=$HOST_PID next
	for _ in 1 2; do
		next=
		for _ in $(seq 100); do
			next=$(cat /proc/"$pid"/task/*/children 2>/dev/null | awk '{print $1}')
			[ -n "$next" ] && break
			sleep 0.05
		done
		[ -n "$next" ] || { fail "no child of $pid"; return 1; }
		pid=$next
	done
	for _ in $(seq 100); do
		[ "$(readlink /proc/"$pid"/exe)" = "$SEC_ROOT/bin/busybox" ] && break
		sleep 0.05
	done
	echo "$pid"
}

# The BPF program the kernel holds for the container's COMMAND (a sleep),
# read back with ptrace(PTRACE_SECCOMP_GET_FILTER), in hex.
loaded_filter() {
	"$MINIDOCK_BIN/ns-enter" --all --root "$SEC_ROOT" "$@" -- sleep 60 &
	HOST_PID=$!
	local pid
	pid=$(command_pid) || return 1
	python3 - "$pid" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
ATTACH, DETACH, GET_FILTER = 16, 17, 0x420c
pid = int(sys.argv[1])
def check(rc, what):
    if rc < 0:
        sys.exit(what + ": " + os.strerror(ctypes.get_errno()))
    return rc
check(libc.ptrace(ATTACH, pid, None, None), "PTRACE_ATTACH")
os.waitpid(pid, 0x40000000)  # __WALL
n = check(libc.ptrace(GET_FILTER, pid, None, None), "PTRACE_SECCOMP_GET_FILTER")
buf = ctypes.create_string_buffer(8 * n)
check(libc.ptrace(GET_FILTER, pid, None, buf), "PTRACE_SECCOMP_GET_FILTER")
check(libc.ptrace(DETACH, pid, None, None), "PTRACE_DETACH")
print(buf.raw.hex())
PY
	local rc=$?
	kill "$HOST_PID" 2>/dev/null
	wait "$HOST_PID" 2>/dev/null
	HOST_PID=
	return $rc
}

@test "security: the program make compiled is, instruction for instruction, the one libseccomp compiles at start" {
	command -v python3 >/dev/null || skip "python3 not installed (make deps)"
	grep -qx 'CONFIG_CHECKPOINT_RESTORE=y' <(zcat /proc/config.gz 2>/dev/null || cat "/boot/config-$(uname -r)" 2>/dev/null) ||
		skip "this kernel cannot show a loaded filter (PTRACE_SECCOMP_GET_FILTER needs CONFIG_CHECKPOINT_RESTORE)"
	local made compiled other
	made=$(loaded_filter) || fail "could not read the filter: $made"
	compiled=$(MINIDOCK_SECCOMP_COMPILE=1 loaded_filter) || fail "could not read the filter: $compiled"
	other=$(loaded_filter --cap-add SYS_ADMIN) || fail "could not read the filter: $other"
	[ ${#made} -gt 100 ] || fail "a program of ${#made} hex digits: $made"
	assert_equal "$made" "$compiled"
	# The comparison does see a difference where there is one.
	[ "$made" != "$other" ] || fail "--cap-add SYS_ADMIN loaded the default program"
	# The program starts by checking the architecture (ld [4]; jeq AUDIT_ARCH).
	[[ "$made" == 2000000004000000* ]] || fail "no architecture check first: ${made:0:32}"
}

@test "security: an unknown capability or security option is refused (exit 125)" {
	in_container --cap-add NO_SUCH_CAP -- true
	assert_equal "$status" 125
	assert_output --partial "ns-enter:"
	assert_output --partial "NO_SUCH_CAP"
	in_container --security-opt seccomp=/etc/profile.json -- true
	assert_equal "$status" 125
	assert_output --partial "seccomp=/etc/profile.json"
}

@test "security: isolation reports the container's protections (the TP's command)" {
	in_container -- isolation
	assert_success
	assert_output --regexp "pid +pid:\[[0-9]+\] +its own"
	assert_output --regexp "user +user:\[[0-9]+\] +the host's \(initial\)"
	assert_output --regexp "effective +\(14\) CHOWN DAC_OVERRIDE"
	assert_line "seccomp: filter (1 loaded)"
	assert_line "no_new_privs: 1"
	assert_output --regexp "/proc/keys +masked \(/dev/null\)"
	assert_output --regexp "/proc/sys +read-only"
	assert_output --regexp "/sys +read-only"

	in_container --privileged -- isolation
	assert_success
	assert_output --regexp "effective +\([0-9]+\) .*SYS_ADMIN"
	assert_line "seccomp: disabled"
	assert_output --regexp "/proc/keys +VISIBLE"
	assert_output --regexp "/proc/sys +WRITABLE"
}

# ---- attempts from inside: the kernel ----

@test "escape: loading a kernel module is refused" {
	in_container -- /bin/probe init_module
	assert_failure
	assert_output "init_module: Operation not permitted"
	# Privileged, the kernel looks at the (junk) module: not a refusal.
	in_container --privileged -- /bin/probe init_module
	refute_output --partial "Operation not permitted"
}

@test "escape: syscalls of the filter: keyctl, personality, open_by_handle_at (shocker)" {
	for attempt in keyctl personality open-by-handle; do
		in_container -- /bin/probe "$attempt"
		assert_failure
		assert_output --partial "Operation not permitted"
		in_container --privileged -- /bin/probe "$attempt"
		assert_success
		assert_output --partial ": ok"
	done
	# keyctl and personality are refused by the filter alone.
	in_container --security-opt seccomp=unconfined -- /bin/probe keyctl
	assert_success
}

@test "escape: mounting anything is refused, the cgroup v1 release_agent too (CVE-2022-0492)" {
	in_container -- /bin/probe mount
	assert_failure
	assert_output "mount: Operation not permitted"
	in_container -- mount -t cgroup -o memory cgroup /mnt
	assert_failure
	# cgroupfs, if any is visible, is read-only, release_agent unreachable.
	in_container -- sh -c 'echo /evil > /sys/fs/cgroup/release_agent'
	assert_failure
	in_container --privileged -- /bin/probe mount
	assert_success
	assert_output "mount: ok"
	# As in Docker, the filter lets mount through when CAP_SYS_ADMIN is given.
	in_container --cap-add SYS_ADMIN -- /bin/probe mount
	assert_success
	assert_output "mount: ok"
}

@test "escape: pivot_root is refused, and chroot does not lead back out" {
	in_container -- /bin/probe pivot_root
	assert_failure
	assert_output "pivot_root: Operation not permitted"
	in_container --privileged -- /bin/probe pivot_root
	refute_output --partial "Operation not permitted"

	echo secret > "$TEST_TMP/host-only"
	# The probe does escape a plain chroot(1)...
	run chroot "$SEC_ROOT" /bin/probe chroot-escape "$TEST_TMP/host-only"
	assert_success
	# ...but not a container, even a privileged one (pivot_root, old root gone).
	in_container -- /bin/probe chroot-escape "$TEST_TMP/host-only"
	assert_failure
	assert_output --partial "No such file or directory"
	in_container --privileged -- /bin/probe chroot-escape "$TEST_TMP/host-only"
	assert_failure
}

@test "escape: host files are not reachable through /proc/1/root, /proc/self/root, a symlink or .." {
	echo secret > "$TEST_TMP/host-only"
	for path in "/proc/1/root$TEST_TMP/host-only" "/proc/self/root$TEST_TMP/host-only" \
		"/up$TEST_TMP/host-only" "/../../../../..$TEST_TMP/host-only"; do
		in_container -- cat "$path"
		assert_failure
		refute_output --partial secret
	done
	# The same ways do reach the container's own files (PID 1, ns-enter's
	# init, is not dumpable: its /proc/1/root is closed to the container).
	in_container -- sh -c 'cat /proc/$$/root/etc/hostname /proc/self/root/etc/hostname /up/etc/hostname /../../etc/hostname'
	assert_success
	assert_output "$(printf 'minidock\nminidock\nminidock\nminidock')"
}

@test "escape: /proc/sys and /sys are read-only; with systempaths=unconfined /proc/sys is not" {
	# Writing the value it already has: harmless if it ever got through.
	in_container -- sh -c 'cat /proc/sys/kernel/core_pattern > /proc/sys/kernel/core_pattern'
	assert_failure
	assert_output --partial "Read-only file system"
	in_container -- sh -c 'echo evil > /proc/sys/kernel/hostname'
	assert_failure
	in_container -- sh -c 'cat /sys/class/net/lo/mtu > /sys/class/net/lo/mtu'
	assert_failure
	assert_output --partial "Read-only file system"
	# kernel.hostname belongs to the container's UTS namespace: allowed
	# when /proc/sys is writable, and the host's name does not change.
	local host
	host=$(hostname)
	in_container --security-opt systempaths=unconfined -- sh -c 'echo inside > /proc/sys/kernel/hostname && hostname'
	assert_success
	assert_output inside
	assert_equal "$(hostname)" "$host"
}

@test "escape: /proc/sysrq-trigger cannot be written" {
	[ -e /proc/sysrq-trigger ] || skip "this kernel has no /proc/sysrq-trigger (CONFIG_MAGIC_SYSRQ)"
	# h: print the help in the kernel log, harmless if it got through.
	in_container -- sh -c 'echo h > /proc/sysrq-trigger'
	assert_failure
}

@test "escape: /proc/kcore, /proc/keys and /proc/timer_list are masked" {
	[ -n "$(head -c 1 /proc/timer_list 2>/dev/null)" ] || skip "this kernel has no /proc/timer_list"
	in_container -- sh -c 'wc -c < /proc/timer_list; [ -c /proc/keys ] && echo keys-masked; [ ! -e /proc/kcore ] || [ -c /proc/kcore ] && echo kcore-masked'
	assert_success
	assert_output "$(printf '0\nkeys-masked\nkcore-masked')"
	in_container --security-opt systempaths=unconfined -- sh -c 'test -n "$(head -c 1 /proc/timer_list)" && test -f /proc/keys && echo visible'
	assert_success
	assert_output visible
}

@test "escape: a block device node for the host disk cannot be made" {
	local dev major minor
	dev=$(mountpoint -d /)
	major=${dev%:*} minor=${dev#*:}
	in_container -- /bin/probe mknod-disk /tmp/disk.$$ "$major" "$minor"
	assert_failure
	assert_output "mknod: Operation not permitted"
	# Without the filter, the node is made (CAP_MKNOD is kept, as Docker
	# does): only a devices cgroup, or the host itself, stops the open.
	in_container --security-opt seccomp=unconfined -- /bin/probe mknod-disk /tmp/disk.$$ "$major" "$minor"
	rm -f "$SEC_ROOT/tmp/disk.$$"
	refute_output --partial "mknod:"
}

@test "escape: a device node shipped in the image does not open (nodev root)" {
	# /dev/null's numbers: harmless if it ever opened, like /dev/vda would not be.
	mknod "$SEC_ROOT/opt/node.$$" c 1 3
	in_container -- sh -c "echo x > /opt/node.$$"
	local denied=$status out=$output
	in_container --privileged -- sh -c "echo x > /opt/node.$$"
	rm -f "$SEC_ROOT/opt/node.$$"
	assert_success
	[ "$denied" -ne 0 ] || fail "the image's device node opened"
	[[ "$out" == *"Permission denied"* ]] || fail "$out"
}

@test "escape: ptrace of a host process is refused" {
	start_host_process
	# Not even visible from the container's pid namespace...
	in_container -- /bin/probe ptrace "$HOST_PID"
	assert_failure
	assert_output "ptrace: No such process"
	# ...and, without the pid namespace, refused for lack of CAP_SYS_PTRACE.
	run "$MINIDOCK_BIN/ns-enter" --mount --uts --ipc --net --root "$SEC_ROOT" -- /bin/probe ptrace "$HOST_PID"
	assert_failure
	assert_output "ptrace: Operation not permitted"
	run "$MINIDOCK_BIN/ns-enter" --mount --uts --ipc --net --privileged --root "$SEC_ROOT" -- /bin/probe ptrace "$HOST_PID"
	assert_success
	assert_output "ptrace: ok"
}

@test "escape: unshare of a user namespace, to regain capabilities, is refused" {
	in_container -- /bin/probe unshare-user
	assert_failure
	assert_output "unshare(CLONE_NEWUSER): Operation not permitted"
	in_container -- unshare -U -r id
	assert_failure
	in_container --security-opt seccomp=unconfined -- /bin/probe unshare-user
	assert_success
}

@test "escape: a setuid-root binary of the image gains nothing (no_new_privs)" {
	findmnt -n -o OPTIONS -T "$SEC_ROOT" | grep -qw nosuid && skip "$BATS_FILE_TMPDIR is mounted nosuid"
	in_container -- /bin/probe drop 1000 /bin/suid-probe euid
	assert_success
	assert_output "euid=1000"
	in_container --security-opt no-new-privileges=false -- /bin/probe drop 1000 /bin/suid-probe euid
	assert_success
	assert_output "euid=0"
}

@test "escape: the host's hostname and clock cannot be changed" {
	local host
	host=$(hostname)
	in_container -- hostname evil
	assert_failure
	in_container --privileged -- sh -c 'hostname inside && hostname'
	assert_success
	assert_output inside
	assert_equal "$(hostname)" "$host"
	# No attempt with the filter off: the clock is the host's own.
	in_container -- /bin/probe settime
	assert_failure
	assert_output "clock_settime: Operation not permitted"
}

@test "escape: host processes can be neither seen nor killed" {
	start_host_process
	in_container -- sh -c "ls /proc/$HOST_PID; kill -0 $HOST_PID"
	assert_failure
	in_container -- sh -c 'ls -d /proc/[0-9]* | wc -l'
	assert_success
	[ "$output" -lt 10 ] || fail "the container sees $output processes"
	kill -0 "$HOST_PID"
	# Without the pid namespace, CAP_KILL (kept, as Docker does) would do it.
	run "$MINIDOCK_BIN/ns-enter" --mount --uts --root "$SEC_ROOT" -- kill -0 "$HOST_PID"
	assert_success
}

# ---- the runtime escapes ----

@test "CVE-2024-21626: no descriptor of the host reaches the container, not even as workdir" {
	echo secret > "$TEST_TMP/host-only"
	in_container -- sh -c 'ls /proc/self/fd/9; cat /proc/self/fd/9/host-only' 9<"$TEST_TMP"
	assert_failure
	refute_output --partial secret
	in_container --workdir /proc/self/fd/9 -- cat host-only 9<"$TEST_TMP"
	assert_failure
	refute_output --partial secret
	# The probe does see the descriptor when one is passed without ns-enter.
	run sh -c 'cat /proc/self/fd/9/host-only' 9<"$TEST_TMP"
	assert_output secret
}

@test "CVE-2019-5736: no process of the container can open a host executable" {
	in_container -- /bin/probe exe-scan
	assert_success
	assert_output "exe-scan: ok"
	# The probe finds one when it can see a host process.
	run "$MINIDOCK_BIN/ns-enter" --mount --uts --privileged --root "$SEC_ROOT" -- /bin/sh -c 'mount -t proc proc /proc && /bin/probe exe-scan'
	assert_failure
	assert_output --partial "is a host file"
}

@test "CVE-2023-28642, CVE-2025-31133: a /proc or /dev/null symlink in the image is not followed" {
	local img="$TEST_TMP/rootfs"
	cp -a "$SEC_ROOT" "$img"
	mkdir "$img/fake"
	echo untouched > "$img/fake/null"
	rm -f "$img/dev/null"
	ln -s /fake/null "$img/dev/null"
	run "$MINIDOCK_BIN/ns-enter" --all --root "$img" -- sh -c '[ -c /dev/null ] && [ -c /proc/keys ] && echo masked'
	if [ "$status" -ne 125 ]; then
		assert_success
		assert_output masked
	fi
	assert_equal "$(cat "$img/fake/null")" untouched

	rmdir "$img/proc"
	ln -s /fake "$img/proc"
	run "$MINIDOCK_BIN/ns-enter" --all --root "$img" -- sh -c 'cat /proc/self/status | grep ^Seccomp: ; [ -c /proc/keys ] && echo masked'
	if [ "$status" -ne 125 ]; then
		assert_success
		assert_output "$(printf 'Seccomp:\t2\nmasked')"
	fi
	assert_equal "$(cat "$img/fake/null")" untouched
}

@test "CVE-2017-5226: TIOCSTI cannot push keystrokes into the host's terminal" {
	command -v script >/dev/null || skip "script(1) not installed (util-linux)"
	# script(1) gives the container a terminal, as an interactive shell has.
	run script -qec "$MINIDOCK_BIN/ns-enter --all --root $SEC_ROOT -- /bin/probe tiocsti" /dev/null
	assert_output --partial "ioctl(TIOCSTI): Operation not permitted"
	run script -qec "$MINIDOCK_BIN/ns-enter --all --root $SEC_ROOT -- /bin/probe tiocsti-high" /dev/null
	assert_output --partial "ioctl(TIOCSTI | 1 << 32): Operation not permitted"
	[ "$(cat /proc/sys/dev/tty/legacy_tiocsti 2>/dev/null)" = 1 ] ||
		skip "the kernel refuses TIOCSTI anyway (dev.tty.legacy_tiocsti=0)"
	run script -qec "$MINIDOCK_BIN/ns-enter --all --security-opt seccomp=unconfined --root $SEC_ROOT -- /bin/probe tiocsti" /dev/null
	assert_output --partial "ioctl(TIOCSTI): ok"
	run script -qec "$MINIDOCK_BIN/ns-enter --all --security-opt seccomp=unconfined --root $SEC_ROOT -- /bin/probe tiocsti-high" /dev/null
	assert_output --partial "ioctl(TIOCSTI | 1 << 32): ok"
}

# ---- the same protections on every way in ----

@test "security: --user runs without capabilities, still filtered" {
	in_container --user 1000 -- cat /proc/self/status
	assert_success
	assert_line "Uid:	1000	1000	1000	1000"
	assert_line "CapEff:	0000000000000000"
	assert_line "CapPrm:	0000000000000000"
	assert_line "NoNewPrivs:	1"
	assert_line "Seccomp:	2"
}

@test "security: ns-enter --target (docker exec) applies the same protections" {
	"$MINIDOCK_BIN/ns-enter" --all --root "$SEC_ROOT" -- sleep 60 &
	HOST_PID=$!
	local pid
	pid=$(command_pid)
	run "$MINIDOCK_BIN/ns-enter" --target "$pid" -- cat /proc/self/status
	assert_success
	assert_line "CapEff:	$(cap_mask $DOCKER_CAPS)"
	assert_line "CapBnd:	$(cap_mask $DOCKER_CAPS)"
	assert_line "NoNewPrivs:	1"
	assert_line "Seccomp:	2"
	run "$MINIDOCK_BIN/ns-enter" --target "$pid" -- /bin/probe mount
	assert_failure
	assert_output "mount: Operation not permitted"
}
