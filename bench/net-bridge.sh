#!/bin/bash
# bench/net-bridge.sh - how long does it take to give one container its
# network (namespace, veth, bridge, address, route, masquerade) and take it
# away again?  Side by side, in one run:
#
#   net-bridge      --create, then --delete
#   CNI             the reference: the "bridge" plugin with "host-local" IPAM
#                   (Debian's containernetworking-plugins), invoked directly
#                   with CNI_COMMAND=ADD/DEL, plus ip netns add/del
#   ip commands     the same steps typed as ip(8) and nft(8) commands
#
# and the 101st net-bridge setup while 100 containers' networks exist.
# Targets (issue 5): net-bridge <= 0.3x CNI; 101st setup <= 1.5x the first.
#
# Everything happens in a throwaway network and mount namespace: the host's
# links, routes, nftables and /run/netns are never touched.
#
#   sudo bench/net-bridge.sh            (N=50 rounds by default)
set -euo pipefail

N=${N:-50}
REPO=$(cd "$(dirname "$0")/.." && pwd)
NB=${MINIDOCK_BIN:-$REPO/bin}/net-bridge

[ "$(id -u)" -eq 0 ] || { echo "bench/net-bridge.sh: needs root" >&2; exit 1; }

if [ -z "${NB_BENCH_INSIDE:-}" ]; then
	# Bench-only packages (not in the Makefile's DEB_PACKAGES).
	sh "$REPO/common/install-missing.sh" containernetworking-plugins iptables iproute2 nftables
	[ -x "$NB" ] || make -s -C "$REPO" bin/net-bridge
	NB_BENCH_INSIDE=1 exec unshare --net --mount --propagation private "$0" "$@"
fi

# ---- inside the throwaway namespace ----
TMP=$(mktemp -d /tmp/nb-bench.XXXXXX)
trap 'umount "$TMP/run" 2>/dev/null; rm -rf "$TMP"' EXIT
mkdir -p /run/netns
mount -t tmpfs tmpfs /run/netns     # private to this mount namespace
mkdir -p "$TMP/run" && mount -t tmpfs tmpfs "$TMP/run"   # /run is a tmpfs too
ip link set lo up
export MINIDOCK_RUN_DIR=$TMP/run MINIDOCK_NETNS_DIR=/run/netns
CNI=/usr/lib/cni

now() { echo "${EPOCHREALTIME/./}"; }      # microseconds, no fork
# mean milliseconds of N runs of "$@" (called with the round number)
time_rounds() {
	local i t0 total=0
	for i in $(seq "$N"); do
		t0=$(now)
		"$@" "$i"
		total=$((total + $(now) - t0))
	done
	echo "scale=2; $total / $N / 1000" | bc
}

# -- net-bridge --
nb_round() {
	"$NB" --name b$1 --create >/dev/null
	"$NB" --name b$1 --delete
}

# -- CNI bridge + host-local --
cat >"$TMP/cni.json" <<EOF
{ "cniVersion": "1.0.0", "name": "bench", "type": "bridge", "bridge": "cni0",
  "isGateway": true, "ipMasq": true,
  "ipam": { "type": "host-local", "subnet": "10.88.0.0/16", "dataDir": "$TMP/ipam" } }
EOF
cni() {
	CNI_COMMAND=$1 CNI_CONTAINERID=c$2 CNI_NETNS=/run/netns/c$2 CNI_IFNAME=eth0 \
		CNI_PATH=$CNI "$CNI/bridge" <"$TMP/cni.json" >/dev/null
}
cni_round() {
	ip netns add c$1
	cni ADD "$1"
	cni DEL "$1"
	ip netns del c$1
}

# -- the same steps with ip and nft --
nft add table ip ipbench
nft add chain ip ipbench post '{ type nat hook postrouting priority srcnat; }'
ip link add ipbr0 type bridge
ip addr add 10.99.0.1/16 dev ipbr0
ip link set ipbr0 up
ip_round() {
	local n=i$1 a=10.99.$(($1 / 250)).$(($1 % 250 + 2)) h
	ip netns add $n
	ip link add veth-$n type veth peer name eth0 netns $n
	ip link set veth-$n master ipbr0 up
	ip -n $n link set lo up
	ip -n $n addr add $a/16 dev eth0
	ip -n $n link set eth0 up
	ip -n $n route add default via 10.99.0.1
	h=$(nft -a -e add rule ip ipbench post ip saddr $a oifname != ipbr0 masquerade | sed -n 's/.*# handle //p')
	nft delete rule ip ipbench post handle $h
	ip link del veth-$n
	ip netns del $n
}

echo "# setup + teardown of one container's network, mean of $N (ms)"
"$NB" --name anchor --create >/dev/null      # the bridge exists for everyone
ip netns add c0 && cni ADD 0                 # likewise cni0
nb=$(time_rounds nb_round)
cni_ms=$(time_rounds cni_round)
ipc=$(time_rounds ip_round)
printf '%-34s %8s ms\n' "net-bridge --create/--delete" "$nb" \
	"CNI bridge + host-local ADD/DEL" "$cni_ms" "ip + nft commands" "$ipc"
# What the kernel alone costs: deleting a network device waits for an RCU
# barrier (netdev_run_todo), creating a network namespace registers its
# sysctls and loopback.  No tool can go below this floor.
floor_round() {
	unshare --net true
	ip link add fl$1 type veth peer name fp$1
	ip link del fl$1
}
floor=$(time_rounds floor_round)
printf '%-34s %8s ms\n' "floor: unshare -n; veth add; del" "$floor"
printf 'ratio net-bridge / CNI:  %s   (target <= 0.3)\n' "$(echo "scale=2; $nb / $cni_ms" | bc)"
printf 'ratio floor / CNI:       %s\n' "$(echo "scale=2; $floor / $cni_ms" | bc)"
printf 'ratio net-bridge / ip:   %s\n' "$(echo "scale=2; $nb / $ipc" | bc)"
cni DEL 0 && ip netns del c0

M=${M:-15}
echo "# setup alone (ms, median of $M): with 1 network existing, then the 101st with 100"
setup_one() { "$NB" --name s$1 --create >/dev/null; }
delete_one() { "$NB" --name s$1 --delete; }
# median of the setup times of container NAME, M times (deleted after each)
median_setup() {
	local r t0
	for r in $(seq "$M"); do
		t0=$(now); setup_one "$1"; echo $(( $(now) - t0 )); delete_one "$1"
	done | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] / 1000 }'
}
first=$(median_setup first)
for i in $(seq 2 100); do setup_one "$i"; done     # with anchor: 100 exist
last=$(median_setup 101)
for i in $(seq 2 100); do delete_one "$i"; done
printf '%-34s %8s ms\n' "setup, 1 other exists" "$first" "setup, 100 others exist (101st)" "$last"
printf 'ratio 101st / first:     %s   (target <= 1.5)\n' "$(echo "scale=2; $last / $first" | bc)"
"$NB" --name anchor --delete
