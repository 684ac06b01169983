# helpers.bash - loaded by every suite: `load helpers`.
#
# MINIDOCK_BIN   the tools under test (bin/, or bin-san/ for the sanitized pass)
# ROOTFS         the busybox teaching root filesystem (make images)
# TEST_TMP       a fresh directory per test, removed by the test's teardown
#                (call common_teardown from your teardown)

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
MINIDOCK_BIN=${MINIDOCK_BIN:-$REPO/bin}
ROOTFS=${ROOTFS:-$REPO/images/build/busybox/rootfs}
IMAGES=$REPO/images/build
export MINIDOCK_BIN ROOTFS IMAGES

# Sanitizer reports must fail the test, not scroll by.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# A private directory for this test, and private state locations so tests
# never touch /run/minidock or /var/lib/minidock of the machine.
common_setup() {
	TEST_TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/minidock-test.XXXXXX")
	export TEST_TMP
	export MINIDOCK_RUN_DIR=$TEST_TMP/run
	export MINIDOCK_LIB_DIR=$TEST_TMP/lib
	# `run NAME` pulls from docker.io what it does not hold: never from a
	# test (nothing listens on port 1; a test sets its own registry here).
	export MINIDOCK_REGISTRY_MIRROR=localhost:1
}

common_teardown() {
	if [ -n "${TEST_TMP:-}" ] && [ -d "$TEST_TMP" ]; then
		# A removed container's disk directory is deleted in the background
		# (containers/.trash, lifecycle.c): let that end first.
		local i
		for ((i = 0; i < 100; i++)); do
			compgen -G "${MINIDOCK_LIB_DIR:-$TEST_TMP/lib}/containers/.trash/*" >/dev/null ||
				compgen -G "$TEST_TMP/home/.local/share/minidock/containers/.trash/*" \
					>/dev/null || break
			sleep 0.05
		done
		# Undo any mount a failed test left below TEST_TMP, deepest first.
		awk -v t="$TEST_TMP" '$5 ~ "^"t {print $5}' /proc/self/mountinfo |
			sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
		rm -rf "$TEST_TMP"
	fi
}

# The cgroup (v1 memory hierarchy, or v2) this test runs in, as a path below
# the hierarchy's root.  Test cgroups go below it, never beside it.
own_cgroup() {
	local controller=${1:-memory}
	awk -F: -v c="$controller" '
		$2 == "" && c == "" { print $3 }
		{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }
	' /proc/self/cgroup | head -n1
}

# Count mounts whose mount point contains STRING (leftover checks).
mounts_matching() {
	grep -c -- "$1" /proc/self/mountinfo || true
}

# Skip (with the reason) when not root: most suites need root.
require_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (run: sudo make check)"
}

# A throwaway "host": a network and mount namespace held by a sleep (its
# PID in HOLDER), so a test never touches the real host's links, routes,
# nftables or ip_forward.  The caller's teardown must call
# end_throwaway_host.  hns runs a command in it.
#
# A new network namespace copies its IPv4 settings, ip_forward among them,
# from the machine's first namespace (net.core.devconf_inherit_init_net=0),
# so it is set to a known value: 0, or the first argument (1: a host that
# already routes, as with Docker), kept in FORWARD_BEFORE for the checks
# that nothing was changed.
throwaway_host() {
	unshare --net --mount --propagation private sleep 600 </dev/null >/dev/null 2>&1 3>&- &
	HOLDER=$!
	# Once it runs sleep, unshare has finished (propagation made private).
	for _ in $(seq 100); do
		[ "$(cat /proc/$HOLDER/comm 2>/dev/null)" = sleep ] && break
		sleep 0.02
	done
	[ "$(readlink /proc/$HOLDER/ns/net)" != "$(readlink /proc/self/ns/net)" ] ||
		fail "the throwaway host namespace was not created"
	hns ip link set lo up
	hns sh -c "echo ${1:-0} > /proc/sys/net/ipv4/ip_forward" ||
		fail "cannot set ip_forward in the throwaway host"
	FORWARD_BEFORE=$(hns cat /proc/sys/net/ipv4/ip_forward)
}

# Run a command in the throwaway host.  (nsenter execs COMMAND: started in
# the background, $! is COMMAND's own PID.)
hns() { nsenter -t "$HOLDER" -n -m -- "$@"; }

# After a chain, net-bridge leaves the veth to its namespace: the kernel
# removes the pair a moment later.  Wait for that (5 s at most) before
# looking for leftovers in the throwaway host.
wait_veths_gone() {
	for _ in $(seq 100); do hns ip -o link show | grep -q veth || return 0; sleep 0.05; done
}

# "Outside": one more namespace behind the throwaway host, 192.0.2.2/24
# on its eth0, 192.0.2.1 on out0 of the throwaway host, with no route back
# to the containers' subnets.  Its PID in OUTSIDE_PID (killed by
# end_throwaway_host); remove out0 with `hns ip link del out0`.
outside_host() {
	nsenter -t "$HOLDER" -n -m -- unshare --net -- sleep 600 </dev/null >/dev/null 2>&1 3>&- &
	OUTSIDE_PID=$!
	for _ in $(seq 100); do
		[ "$(cat /proc/$OUTSIDE_PID/comm 2>/dev/null)" = sleep ] && break
		sleep 0.02
	done
	hns ip link add out0 type veth peer name eth0 netns "$OUTSIDE_PID"
	hns ip addr add 192.0.2.1/24 dev out0
	hns ip link set out0 up
	nsenter -t "$OUTSIDE_PID" -n ip addr add 192.0.2.2/24 dev eth0
	nsenter -t "$OUTSIDE_PID" -n ip link set eth0 up
	nsenter -t "$OUTSIDE_PID" -n ip link set lo up
}

end_throwaway_host() {
	if [ -n "${OUTSIDE_PID:-}" ]; then
		kill -9 "$OUTSIDE_PID" 2>/dev/null || true
		wait "$OUTSIDE_PID" 2>/dev/null || true
		OUTSIDE_PID=
	fi
	if [ -n "${HOLDER:-}" ]; then
		kill -9 "$HOLDER" 2>/dev/null || true
		wait "$HOLDER" 2>/dev/null || true     # killed: 137
		HOLDER=
	fi
	return 0
}

# start_own_dockerd DIR: a dockerd of the test's own (Debian's docker.io),
# its data root, exec root and socket in DIR, in a throwaway network and
# mount namespace, no bridge and no iptables rules.  Sets DOCKERD_PID and
# DOCKER_HOST; stop_own_dockerd in teardown.  Used by fidelity.bats and
# img-tools.bats, where docker.io is installed.
start_own_dockerd() {
	local d=$1
	mkdir -p "$d"
	unshare --net --mount --propagation private sh -c '
		mount -t tmpfs tmpfs /run && ip link set lo up &&
		exec dockerd --data-root="$1/data" --exec-root="$1/exec" --pidfile="$1/pid" \
			-H "unix://$1/sock" --iptables=false --ip6tables=false --bridge=none \
			>"$1/log" 2>&1' sh "$d" &
	DOCKERD_PID=$!
	export DOCKER_HOST=unix://$d/sock
	for _ in $(seq 300); do docker version >/dev/null 2>&1 && break; sleep 0.1; done
	docker version >/dev/null 2>&1 || fail "dockerd did not start: $(tail -5 "$d/log")"
}

stop_own_dockerd() {
	if [ -n "${DOCKERD_PID:-}" ]; then
		kill -TERM "$DOCKERD_PID" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$DOCKERD_PID" 2>/dev/null
		wait "$DOCKERD_PID" 2>/dev/null
		DOCKERD_PID=
	fi
	return 0
}
