#!/bin/bash
# bench/compose.sh - what does compose add to the containers it starts?
# Side by side, ROUNDS times, in a throwaway network and mount namespace:
#
#   compose     compose up -d, then compose down, of a 5-service project
#               (one network PROJECT_default, each service on it with its
#               name as alias, depends_on in a chain)
#   by hand     the same: network create, five run -d --network ...
#               --network-alias ..., five container rm -f, network rm
#
# and prints the median of each and their ratio.  Target (issue 15):
# compose <= 1.2x by hand (compose adds a file read, a record written
# after each step, and a `network ls` before it creates).  The host's
# links, routes, nftables and /run/netns are never touched; minidock's
# state goes to temporary directories.  Not part of make check.
#
#   sudo bench/compose.sh          (ROUNDS=10 by default)
set -euo pipefail

ROUNDS=${ROUNDS:-10}
REPO=$(cd "$(dirname "$0")/.." && pwd)
BIN=${MINIDOCK_BIN:-$REPO/bin}

[ "$(id -u)" -eq 0 ] || { echo "bench/compose.sh: needs root" >&2; exit 1; }

if [ -z "${COMPOSE_BENCH_INSIDE:-}" ]; then
	for t in run container cg-limit net-bridge ns-enter network compose; do
		[ -x "$BIN/$t" ] || make -s -C "$REPO" "bin/$t"
	done
	[ -f "$REPO/images/build/busybox.tar" ] || make -s -C "$REPO" images
	COMPOSE_BENCH_INSIDE=1 exec unshare --net --mount --propagation private "$0" "$@"
fi

# ---- inside the throwaway namespace ----
TMP=$(mktemp -d /tmp/compose-bench.XXXXXX)
cleanup() {
	"$BIN/compose" -f "$TMP/bench/compose.yaml" down >/dev/null 2>&1 || true
	for n in $("$BIN/container" ls -q 2>/dev/null); do "$BIN/container" rm -f "$n"; done >/dev/null 2>&1
	"$BIN/network" rm benchnet >/dev/null 2>&1 || true
	"$BIN/container" prune >/dev/null 2>&1 || true
	umount "$TMP/run" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p /run/netns && mount -t tmpfs tmpfs /run/netns   # private to this namespace
mkdir -p "$TMP/run" "$TMP/lib" "$TMP/bench" && mount -t tmpfs tmpfs "$TMP/run"
ip link set lo up
export MINIDOCK_RUN_DIR=$TMP/run MINIDOCK_LIB_DIR=$TMP/lib MINIDOCK_NETNS_DIR=/run/netns
export MINIDOCK_IMAGES=$REPO/images/build
now() { echo "${EPOCHREALTIME/./}"; }      # microseconds, no fork

"$BIN/run" --rm --network none busybox true     # imports the image once

SERVICES="s1 s2 s3 s4 s5"
{
	echo "services:"
	prev=
	for s in $SERVICES; do
		echo "  $s:"
		echo "    image: busybox"
		echo "    command: sleep 600"
		[ -z "$prev" ] || echo "    depends_on: [$prev]"
		prev=$s
	done
} >"$TMP/bench/compose.yaml"

by_compose() {
	"$BIN/compose" -f "$TMP/bench/compose.yaml" up -d >/dev/null
	"$BIN/compose" -f "$TMP/bench/compose.yaml" down >/dev/null
}
by_hand() {
	"$BIN/network" create benchnet >/dev/null
	for s in $SERVICES; do
		"$BIN/run" -d --name "bench-$s-1" --network benchnet --network-alias "$s" \
			busybox sleep 600 >/dev/null
	done
	for s in s5 s4 s3 s2 s1; do "$BIN/container" rm -f "bench-$s-1" >/dev/null; done
	"$BIN/network" rm benchnet >/dev/null
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
by_compose; by_hand                             # warm up: page cache, bridge module
: >"$TMP/compose.times"; : >"$TMP/hand.times"
for _ in $(seq "$ROUNDS"); do
	t0=$(now); by_compose; t1=$(now); by_hand; t2=$(now)
	echo $((t1 - t0)) >>"$TMP/compose.times"
	echo $((t2 - t1)) >>"$TMP/hand.times"
done
c=$(median <"$TMP/compose.times")
h=$(median <"$TMP/hand.times")
printf 'compose up -d + down, 5 services:            %6d ms (median of %d)\n' $((c / 1000)) "$ROUNDS"
printf 'network create + 5 run -d + 5 rm -f + rm:   %6d ms\n' $((h / 1000))
awk -v c="$c" -v h="$h" 'BEGIN { printf "ratio compose / by hand: %.2fx (target <= 1.2x)\n", c / h }'
