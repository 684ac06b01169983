#!/bin/sh
# bench/ns-enter.sh - how long does a container take to start and stop?
# Times /bin/true in the busybox rootfs, side by side in one run:
#
#   ns-enter --all --root ROOTFS -- /bin/true
#   bwrap --unshare-all --proc /proc --dev /dev --bind ROOTFS / /bin/true
#   runc run            (the default `runc spec`, terminal off)
#
# and prints the median ratios.  Target: ns-enter at most 1.0x bwrap and
# at most 0.2x runc.  Uses hyperfine when installed, else a plain loop.
#
#   sudo sh bench/ns-enter.sh            (RUNS=200 by default)
#   sudo RUNS=50 sh bench/ns-enter.sh   (in ROUNDS=5 turns of RUNS/5 each)
#
# bubblewrap, runc and hyperfine are only needed here (not by make check):
# as root with apt-get, the script installs what is missing; otherwise it
# says what is missing and stops.
set -eu
cd "$(dirname "$0")/.."
REPO=$(pwd)
NS=${MINIDOCK_BIN:-$REPO/bin}/ns-enter
ROOTFS=${ROOTFS:-$REPO/images/build/busybox/rootfs}
RUNS=${RUNS:-200}

say() { printf '%s\n' "$*" >&2; }

[ "$(id -u)" -eq 0 ] || { say "ns-enter.sh: run as root (sudo): runc and --all need it"; exit 1; }
[ -x "$NS" ] || { say "ns-enter.sh: $NS: not built (make)"; exit 1; }
[ -x "$ROOTFS/bin/true" ] || [ -L "$ROOTFS/bin/true" ] ||
	{ say "ns-enter.sh: $ROOTFS: no busybox rootfs (make images)"; exit 1; }

# --- the reference tools ---
missing=
command -v bwrap >/dev/null || missing="$missing bubblewrap"
command -v runc >/dev/null || missing="$missing runc"
command -v hyperfine >/dev/null || missing="$missing hyperfine"
if [ -n "$missing" ] && command -v apt-get >/dev/null; then
	say "ns-enter.sh: installing:$missing"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		$missing >/dev/null || true
fi
for tool in bwrap runc; do
	command -v $tool >/dev/null || {
		say "ns-enter.sh: $tool is missing (apt-get install bubblewrap runc hyperfine)"
		exit 1
	}
done

# --- a runc bundle on the same rootfs: the default spec, terminal off ---
BUNDLE=$(mktemp -d /tmp/minidock-bench.XXXXXX)
trap 'rm -rf "$BUNDLE"' EXIT INT TERM
(cd "$BUNDLE" && runc spec)
sed -i -e 's/"terminal": true/"terminal": false/' \
	-e "s|\"path\": \"rootfs\"|\"path\": \"$ROOTFS\"|" \
	-e 's|"sh"$|"/bin/true"|' "$BUNDLE/config.json"
grep -q '"/bin/true"' "$BUNDLE/config.json" || { say "ns-enter.sh: cannot edit runc's config.json"; exit 1; }

CMD_NS="$NS --all --root $ROOTFS -- /bin/true"
CMD_BWRAP="bwrap --unshare-all --proc /proc --dev /dev --bind $ROOTFS / /bin/true"
CMD_RUNC="runc run --bundle $BUNDLE minidock-bench-$$"

# Each must work before it is timed.
for cmd in "$CMD_NS" "$CMD_BWRAP" "$CMD_RUNC"; do
	$cmd || { say "ns-enter.sh: this does not run: $cmd"; exit 1; }
done

# --- timing: median milliseconds of each, in the order above ---
if command -v hyperfine >/dev/null; then
	# In turns: ROUNDS rounds of RUNS/ROUNDS runs of each, so that a busy
	# moment of a shared machine does not fall on one tool only; the
	# median is over the runs of every round.
	ROUNDS=${ROUNDS:-5}
	r=1
	while [ "$r" -le "$ROUNDS" ]; do
		hyperfine -N --warmup 3 --runs $(( (RUNS + ROUNDS - 1) / ROUNDS )) \
			--export-json "$BUNDLE/times-$r.json" \
			-n ns-enter "$CMD_NS" -n bwrap "$CMD_BWRAP" -n runc "$CMD_RUNC" >/dev/null
		r=$((r + 1))
	done
	medians=$(python3 -c 'import json, statistics, sys
times = {}
for f in sys.argv[1:]:
    for r in json.load(open(f))["results"]:
        times.setdefault(r["command"], []).extend(r["times"])
for n in ("ns-enter", "bwrap", "runc"): print("%.3f" % (statistics.median(times[n]) * 1000), end=" ")' \
		"$BUNDLE"/times-*.json)
else
	say "ns-enter.sh: no hyperfine, timing a loop of $RUNS runs"
	median_ms() {
		i=0
		while [ "$i" -lt "$RUNS" ]; do
			t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N)
			echo $(( (t1 - t0) / 1000 ))
			i=$((i + 1))
		done | sort -n | awk '{ v[NR] = $1 } END { printf "%.3f ", v[int((NR + 1) / 2)] / 1000 }'
	}
	medians="$(median_ms $CMD_NS)$(median_ms $CMD_BWRAP)$(median_ms $CMD_RUNC)"
fi

set -- $medians
echo "median start+stop of /bin/true ($RUNS runs each):"
printf '  %-9s %8.2f ms\n' ns-enter "$1" bwrap "$2" runc "$3"
awk -v ns="$1" -v bw="$2" -v rc="$3" 'BEGIN {
	printf "ns-enter / bwrap = %.2fx   (target <= 1.0x)\n", ns / bw
	printf "ns-enter / runc  = %.2fx   (target <= 0.2x)\n", ns / rc
}'
