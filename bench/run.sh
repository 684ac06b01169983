#!/bin/bash
# bench/run.sh - how fast is a whole container, and how many can we keep?
# Side by side, in one run, on the same busybox image/rootfs:
#
#   no network   run --rm --network none busybox /bin/true
#                runc run (default `runc spec`, terminal off)
#                bwrap --unshare-all --proc /proc --dev /dev --bind ROOTFS /
#   bridge       run --rm busybox /bin/true
#                runc run + the CNI bridge plugin (host-local IPAM):
#                ip netns add; CNI ADD; runc run in it; CNI DEL; ip netns del
#
# then 100 detached `sleep` containers with bridge networking: total start
# time, start time of the 100th against the 1st, memory the host spends per
# container beyond the sleeping process itself, and all 100 removed with
# nothing left.  Targets (issue 6): run <= 0.25x runc with no network,
# <= 0.3x runc+CNI with a bridge; under 1 MB per container; the 100th
# start <= 1.5x the 1st.
#
# Everything happens in a throwaway network and mount namespace (the
# host's links, routes, nftables and /run/netns are never touched), with
# minidock's state in temporary directories.  Not part of make check.
#
#   sudo bench/run.sh                  (RUNS=100 timed runs each by default,
#                                       in ROUNDS=5 turns)
#   sudo BASELINE=REV bench/run.sh     also builds git revision REV (in a
#                                       throwaway worktree) and times its run
#                                       in the same turns, and its removal of
#                                       the COUNT containers: whether a change
#                                       kept the ratios, measured in one run
#                                       (a shared VM's speed drifts by 20 %
#                                       from one hour to the next).
set -euo pipefail

RUNS=${RUNS:-100}
COUNT=${COUNT:-100}
REPO=$(cd "$(dirname "$0")/.." && pwd)
BIN=${MINIDOCK_BIN:-$REPO/bin}
ROOTFS=$REPO/images/build/busybox/rootfs

[ "$(id -u)" -eq 0 ] || { echo "bench/run.sh: needs root" >&2; exit 1; }

if [ -z "${RUN_BENCH_INSIDE:-}" ]; then
	# Bench-only packages (not in the Makefile's DEB_PACKAGES).
	sh "$REPO/common/install-missing.sh" runc bubblewrap hyperfine containernetworking-plugins iproute2 bc
	for t in run container cg-limit net-bridge ns-enter img-unpack; do
		[ -x "$BIN/$t" ] || make -s -C "$REPO" "bin/$t"
	done
	[ -f "$REPO/images/build/busybox.tar" ] || make -s -C "$REPO" images
	if [ -n "${BASELINE:-}" ]; then
		BASE_TREE=$(mktemp -d /tmp/run-bench-base.XXXXXX)
		trap 'git -C "$REPO" worktree remove --force "$BASE_TREE" 2>/dev/null; rm -rf "$BASE_TREE"' EXIT
		git -C "$REPO" worktree add -q --detach "$BASE_TREE" "$BASELINE"
		make -s -C "$BASE_TREE" bin/run bin/container bin/cg-limit bin/net-bridge \
			bin/ns-enter bin/img-unpack >/dev/null
		export BASE_BIN=$BASE_TREE/bin
	fi
	RUN_BENCH_INSIDE=1 unshare --net --mount --propagation private "$0" "$@"
	exit
fi

# ---- inside the throwaway namespace ----
TMP=$(mktemp -d /tmp/run-bench.XXXXXX)
MEMCG=
cleanup() {
	"$BIN/container" prune >/dev/null 2>&1 || true
	"$BIN/net-bridge" --name bench-anchor --delete >/dev/null 2>&1 || true
	[ -z "${BASE_ENV:-}" ] || $BASE_ENV "$BASE_BIN/net-bridge" --name bench-anchor-base --delete >/dev/null 2>&1 || true
	if [ -n "$MEMCG" ] && [ -d "$MEMCG" ]; then
		echo $$ >"$(dirname "$MEMCG")/cgroup.procs" 2>/dev/null
		rmdir "$MEMCG" 2>/dev/null
	fi
	[ -z "${BASE_ENV:-}" ] || $BASE_ENV "$BASE_BIN/container" prune >/dev/null 2>&1 || true
	umount "$TMP/run" "$TMP/run-base" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p /run/netns && mount -t tmpfs tmpfs /run/netns   # private to this namespace
mkdir -p "$TMP/run" "$TMP/lib" && mount -t tmpfs tmpfs "$TMP/run"
ip link set lo up
export MINIDOCK_RUN_DIR=$TMP/run MINIDOCK_LIB_DIR=$TMP/lib MINIDOCK_NETNS_DIR=/run/netns
export MINIDOCK_IMAGES=$REPO/images/build
RUN=$BIN/run
CTR=$BIN/container
CNI=/usr/lib/cni
now() { echo "${EPOCHREALTIME/./}"; }      # microseconds, no fork

"$RUN" --rm --network none busybox true     # imports the image once
# The baseline (BASELINE=REV) keeps its state apart: its store may differ.
BASE_ENV=
if [ -n "${BASE_BIN:-}" ]; then
	mkdir -p "$TMP/run-base" "$TMP/lib-base" && mount -t tmpfs tmpfs "$TMP/run-base"
	BASE_ENV="env MINIDOCK_RUN_DIR=$TMP/run-base MINIDOCK_LIB_DIR=$TMP/lib-base"
	$BASE_ENV "$BASE_BIN/run" --rm --network none busybox true
fi

# ---- a runc bundle on the same rootfs, and its CNI network ----
mkdir -p "$TMP/bundle" "$TMP/bundle-net"
(cd "$TMP/bundle" && runc spec)
sed -i -e 's/"terminal": true/"terminal": false/' \
	-e "s|\"path\": \"rootfs\"|\"path\": \"$ROOTFS\"|" \
	-e 's|"sh"$|"/bin/true"|' "$TMP/bundle/config.json"
# The same, joining the namespace CNI set up instead of an empty one.
sed -e 's|"type": "network"$|"type": "network", "path": "/run/netns/cnibench"|' \
	"$TMP/bundle/config.json" >"$TMP/bundle-net/config.json"
grep -q cnibench "$TMP/bundle-net/config.json" || { echo "cannot edit runc's config.json" >&2; exit 1; }
cat >"$TMP/cni.json" <<EOF
{ "cniVersion": "1.0.0", "name": "bench", "type": "bridge", "bridge": "cni0",
  "isGateway": true, "ipMasq": true,
  "ipam": { "type": "host-local", "subnet": "10.88.0.0/16", "dataDir": "$TMP/ipam" } }
EOF
cat >"$TMP/runc-cni.sh" <<EOF
#!/bin/sh
set -e
cni() { CNI_COMMAND=\$1 CNI_CONTAINERID=cnibench CNI_NETNS=/run/netns/cnibench CNI_IFNAME=eth0 \\
	CNI_PATH=$CNI $CNI/bridge <$TMP/cni.json >/dev/null; }
ip netns add cnibench
cni ADD
runc run --bundle $TMP/bundle-net cnibench
cni DEL
ip netns del cnibench
EOF
chmod +x "$TMP/runc-cni.sh"

# The contenders take turns: ROUNDS rounds of RUNS/ROUNDS runs each, so a
# busy moment of a shared machine does not fall on one of them only; the
# median is over every run of every round.
ROUNDS=${ROUNDS:-5}
PER_ROUND=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
in_turns() {  # in_turns NAME hyperfine-arguments...: $TMP/NAME-1.json ...
	local name=$1 r
	shift
	for r in $(seq "$ROUNDS"); do
		hyperfine -N --warmup 3 --runs "$PER_ROUND" --export-json "$TMP/$name-$r.json" "$@" >/dev/null
	done
}
median_of() {  # "NAME<tab>median ms" for each command, over every round's json
	python3 -c 'import json, statistics, sys
times = {}
for f in sys.argv[1:]:
    for r in json.load(open(f))["results"]:
        times.setdefault(r["command"], []).extend(r["times"])
for c, t in times.items(): print("%s\t%.3f" % (c, statistics.median(t) * 1000))' "$@"
}

echo "# start + stop of /bin/true, median of $((PER_ROUND * ROUNDS)) runs in $ROUNDS turns (ms)"
base_args=()
[ -z "$BASE_ENV" ] ||
	base_args=(-n "run (baseline)" "$BASE_ENV $BASE_BIN/run --rm --network none busybox /bin/true")
in_turns nonet \
	-n "run --network none" "$RUN --rm --network none busybox /bin/true" \
	"${base_args[@]}" \
	-n "runc" "runc run --bundle $TMP/bundle runbench" \
	-n "bwrap" "bwrap --unshare-all --proc /proc --dev /dev --bind $ROOTFS / /bin/true"
# The same work on both sides: the CNI plugin creates cni0 at its first
# ADD and never deletes it, and docker0 stays too; net-bridge deletes
# minidock0 with its last container.  A container network kept aside
# (--create) keeps minidock0 up during the runs, as cni0 is after the
# warm-up, so each run times one container's network, not the bridge's.
"$BIN/net-bridge" --name bench-anchor --create >/dev/null
# The baseline keeps its own leases: its own anchor, or its last container
# would delete minidock0 under ours.
[ -z "$BASE_ENV" ] || $BASE_ENV "$BASE_BIN/net-bridge" --name bench-anchor-base --create >/dev/null
[ -z "$BASE_ENV" ] ||
	base_args=(-n "run (bridge, baseline)" "$BASE_ENV $BASE_BIN/run --rm busybox /bin/true")
in_turns net \
	-n "run (bridge)" "$RUN --rm busybox /bin/true" \
	"${base_args[@]}" \
	-n "runc + CNI bridge" "sh $TMP/runc-cni.sh"
[ -z "$BASE_ENV" ] || $BASE_ENV "$BASE_BIN/net-bridge" --name bench-anchor-base --delete
"$BIN/net-bridge" --name bench-anchor --delete
median_of "$TMP"/nonet-*.json >"$TMP/m"
median_of "$TMP"/net-*.json >>"$TMP/m"
awk -F'\t' '{ printf "  %-28s %8.2f\n", $1, $2 }' "$TMP/m"
get() { awk -F'\t' -v n="$1" '$1 == n { print $2 }' "$TMP/m"; }
printf 'run / runc        = %s   (target <= 0.25)\n' "$(echo "scale=3; $(get 'run --network none') / $(get runc)" | bc)"
printf 'run / bwrap       = %s\n' "$(echo "scale=3; $(get 'run --network none') / $(get bwrap)" | bc)"
[ -z "$BASE_ENV" ] ||
	printf 'baseline / runc   = %s   (run of %s)\n' \
		"$(echo "scale=3; $(get 'run (baseline)') / $(get runc)" | bc)" "$BASELINE"
printf 'run / runc + CNI  = %s   (target <= 0.3, bridge)\n' \
	"$(echo "scale=3; $(get 'run (bridge)') / $(get 'runc + CNI bridge')" | bc)"
[ -z "$BASE_ENV" ] ||
	printf 'baseline / runc + CNI = %s   (bridge, run of %s)\n' \
		"$(echo "scale=3; $(get 'run (bridge, baseline)') / $(get 'runc + CNI bridge')" | bc)" "$BASELINE"

echo "# $COUNT detached sleep containers, bridge networking"
# Memory: what a memory cgroup of our own is charged (the processes, and
# the kernel objects they allocate: namespaces, veths, cgroups, mounts),
# below the cgroup we run in, so every container's cgroup nests in it.
# MemAvailable of the whole machine instead when there is no such cgroup
# (noisy on a shared machine).
MEMCG=
own=$(awk -F: '{ n = split($2, c, ","); for (i = 1; i <= n; i++) if (c[i] == "memory") print $3 }' /proc/self/cgroup)
if [ -n "$own" ] && [ -d "/sys/fs/cgroup/memory$own" ]; then
	MEMCG=/sys/fs/cgroup/memory$own/run-bench-$$; USAGE=memory.usage_in_bytes
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	own=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
	MEMCG=/sys/fs/cgroup$own/run-bench-$$; USAGE=memory.current
fi
if [ -n "$MEMCG" ] && mkdir "$MEMCG" 2>/dev/null && echo $$ >"$MEMCG/cgroup.procs" 2>/dev/null; then
	avail() { echo $(( $(cat "$MEMCG/$USAGE") / -1024 )); }   # minus: "used" grows
	memhow="memory cgroup $MEMCG"
else
	MEMCG=
	avail() { awk '/^MemAvailable:/ { print $2 }' /proc/meminfo; }
	memhow="MemAvailable"
fi
sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
mem0=$(avail)
t_all=$(now)
for i in $(seq "$COUNT"); do
	t0=$(now)
	"$RUN" -d --name "b$i" busybox sleep 3600 >/dev/null
	echo $(( $(now) - t0 ))
done >"$TMP/starts"
t_all=$(( $(now) - t_all ))
sleep 1
mem1=$(avail)
running=$("$CTR" ls | grep -c ' running ' || true)
# The sleeping processes' own memory, and the chain's (every process of
# each container but the sleep: run's supervisor and ns-enter, which
# cg-limit --exec and net-bridge --exec became; no init without --init),
# as PSS: shared pages split between their users.
pss() { awk '/^Pss:/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
sleep_kb=0; chain_kb=0
for i in $(seq "$COUNT"); do
	sup=$(cut -d' ' -f1 "$MINIDOCK_RUN_DIR/b$i/supervisor")
	# walk the chain down from the supervisor
	p=$sup
	while [ -n "$p" ]; do
		if [ "$(cat /proc/$p/comm)" = sleep ]; then
			sleep_kb=$((sleep_kb + $(pss $p)))
		else
			chain_kb=$((chain_kb + $(pss $p)))
		fi
		p=$(cut -d' ' -f1 "/proc/$p/task/$p/children" 2>/dev/null || true)
	done
done
first=$(head -n5 "$TMP/starts" | awk '{ s += $1 } END { printf "%.2f", s / NR / 1000 }')
last=$(tail -n5 "$TMP/starts" | awk '{ s += $1 } END { printf "%.2f", s / NR / 1000 }')
printf '  running:                     %d of %d\n' "$running" "$COUNT"
printf '  total start time:            %.2f s\n' "$(echo "scale=3; $t_all / 1000000" | bc)"
printf '  start, first 5 (mean):       %s ms\n' "$first"
printf '  start, last 5 (mean):        %s ms\n' "$last"
printf '  ratio last / first:          %s   (target <= 1.5)\n' "$(echo "scale=2; $last / $first" | bc)"
printf '  host memory used, per container:                %d kB   (%s)\n' $(( (mem0 - mem1) / COUNT )) "$memhow"
printf '  of which the sleep itself (PSS):                %d kB\n' $(( sleep_kb / COUNT ))
printf '  of which the chain processes (PSS):             %d kB\n' $(( chain_kb / COUNT ))
printf '  beyond the sleeping process:                    %d kB   (target < 1024)\n' \
	$(( (mem0 - mem1 - sleep_kb) / COUNT ))

t0=$(now)
for i in $(seq "$COUNT"); do "$CTR" rm -f "b$i" >/dev/null; done
if [ -n "$MEMCG" ]; then
	echo $$ >"$(dirname "$MEMCG")/cgroup.procs"
	rmdir "$MEMCG" 2>/dev/null || true
fi
printf '  all removed in:              %.2f s\n' "$(echo "scale=3; ($(now) - $t0) / 1000000" | bc)"
# Their disk directories are removed in the background (lifecycle.c,
# reclaim_disk); prune waits for that: how much longer it took.
t0=$(now)
"$CTR" prune >/dev/null
printf '  + background removals:       %.2f s more\n' "$(echo "scale=3; ($(now) - $t0) / 1000000" | bc)"
# The kernel removes a deleted namespace's veth asynchronously: give it
# a moment before looking.
for _ in $(seq 50); do ip -o link show | grep -q veth || break; sleep 0.1; done
left=$(
	"$CTR" ls -q
	ip -o link show | grep -c veth || true
	ls /run/netns
	nft list tables | grep -c 'table ip minidock' || true   # (CNI leaves its iptables nat table)
	find /sys/fs/cgroup -type d -name 'b[0-9]*' 2>/dev/null | grep minidock || true
	grep -c -e "$MINIDOCK_RUN_DIR/" -e "$MINIDOCK_LIB_DIR/containers/" /proc/self/mountinfo || true
	ls "$MINIDOCK_LIB_DIR/containers" 2>/dev/null
)
if [ "$(echo "$left" | tr -d '0\n')" = "" ]; then
	echo "  nothing left: no container, veth, netns file, minidock nft table, cgroup, mount or disk directory"
else
	echo "  LEFT BEHIND:"; echo "$left" | sed 's/^/    /'
fi

if [ -n "$BASE_ENV" ]; then
	# Turn about, so that both see the same machine (and the same disk).
	echo "# $COUNT detached containers each, this tree and baseline $BASELINE in turn"
	ts=0 tb=0 rs=0 rb=0
	for i in $(seq "$COUNT"); do
		t0=$(now); "$RUN" -d --name "m$i" busybox sleep 3600 >/dev/null; ts=$((ts + $(now) - t0))
		t0=$(now); $BASE_ENV "$BASE_BIN/run" -d --name "b$i" busybox sleep 3600 >/dev/null
		tb=$((tb + $(now) - t0))
	done
	sleep 1
	for i in $(seq "$COUNT"); do
		t0=$(now); "$CTR" rm -f "m$i" >/dev/null; rs=$((rs + $(now) - t0))
		t0=$(now); $BASE_ENV "$BASE_BIN/container" rm -f "b$i" >/dev/null; rb=$((rb + $(now) - t0))
	done
	"$CTR" prune >/dev/null
	$BASE_ENV "$BASE_BIN/container" prune >/dev/null
	printf '  started in:                  %.2f s   (baseline %.2f s)\n' \
		"$(echo "scale=3; $ts / 1000000" | bc)" "$(echo "scale=3; $tb / 1000000" | bc)"
	printf '  removed in:                  %.2f s   (baseline %.2f s)\n' \
		"$(echo "scale=3; $rs / 1000000" | bc)" "$(echo "scale=3; $rb / 1000000" | bc)"
fi
