#!/usr/bin/env bats
# fidelity.bats - what a container sees is what Docker shows.  One probe
# (tests/probes/fidelity.sh: capabilities, no_new_privs, seccomp, PID 1,
# /dev, mounts with their types and modes, /sys/fs/cgroup, the /etc
# files, the environment, HOME, ulimits, links) runs in `run --rm` and is
# compared with what `docker run --rm` printed for the same image:
# recorded in tests/probes/docker-busybox.expected, and live where Debian's
# docker.io is installed (a dockerd of the test's own, in a throwaway
# network and mount namespace, without iptables: the host is not touched).

load helpers

PROBES=$REPO/tests/probes

setup() {
	common_setup
	require_root
	RUN=$MINIDOCK_BIN/run
	export MINIDOCK_IMAGES=$IMAGES
	[ -f "$IMAGES/busybox.tar" ] || skip "no teaching image (make images)"
	DOCKERD_PID=
}

teardown() {
	stop_own_dockerd
	common_teardown
}

probe_minidock() {
	"$RUN" --rm --network none -v "$PROBES:/probe:ro" "$@" busybox sh /probe/fidelity.sh
}

# The differences minidock keeps, each said where a student reads it:
# - /dev/null, zero, full, random, urandom, tty: bind mounts of the host's
#   nodes (mknod(2) is refused in a user namespace, and one way serves
#   root and rootless containers), where Docker makes them with mknod;
#   same devices, same numbers (ns-enter(1), tp step 6).
# - NoNewPrivs: 1 by default (README, run(1)); the first test asks for
#   Docker's default with --security-opt no-new-privileges=false.
without_known_differences() {
	grep -v -E '^mount: /dev/(full|null|random|tty|urandom|zero) bind rw$'
}

@test "fidelity: run shows what docker run showed on the same image, but for the /dev nodes it binds" {
	run probe_minidock --security-opt no-new-privileges=false
	assert_success
	run diff <(grep -v '^#' "$PROBES/docker-busybox.expected") <(without_known_differences <<<"$output")
	assert_success
	assert_output ""
}

@test "fidelity: no_new_privs is minidock's one stricter default; the /dev nodes are the host's, bound" {
	run probe_minidock
	assert_success
	assert_line "NoNewPrivs: 1"
	assert_line "mount: /dev/null bind rw"
	run diff <(grep -v '^#' "$PROBES/docker-busybox.expected") \
		<(probe_minidock | without_known_differences)
	assert_output --partial "< NoNewPrivs: 0"
	assert_output --partial "> NoNewPrivs: 1"
	[ "$(grep -c '^[<>]' <<<"$output")" -eq 2 ] || fail "more than NoNewPrivs differs: $output"
}

@test "fidelity: the same probe against a live docker run, where Debian's docker.io is installed" {
	command -v dockerd >/dev/null && command -v docker >/dev/null ||
		skip "docker.io is not installed: the recorded expectation stands in"
	# A dockerd of our own (helpers.bash): no bridge, no iptables rules.
	start_own_dockerd "$TEST_TMP/docker"
	docker load -i "$IMAGES/busybox.tar" >/dev/null
	run docker run --rm --network none -v "$PROBES:/probe:ro" busybox sh /probe/fidelity.sh
	assert_success
	local docker_says=$output
	run probe_minidock --security-opt no-new-privileges=false
	assert_success
	run diff <(echo "$docker_says") <(without_known_differences <<<"$output")
	assert_output ""
}
