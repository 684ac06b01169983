#!/usr/bin/env bats
# net-bridge.bats - a container's network: namespace, veth, bridge, NAT and
# published ports.  Every test runs inside a throwaway "host": a network and
# mount namespace held by a sleep(1) that setup starts (hns runs a command
# there), so the machine's links, routes, nftables and ip_forward are never
# touched; when the holder dies, all of it goes with it.

load helpers
bats_require_minimum_version 1.5.0

NB=$MINIDOCK_BIN/net-bridge

setup() {
	require_root
	common_setup
	export MINIDOCK_NETNS_DIR=$TEST_TMP/netns
	BG_PIDS=()
	throwaway_host
}

teardown() {
	local p
	for p in "${BG_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	end_throwaway_host
	common_teardown
}

# Start net-bridge --name NAME around a sleep, then kill -9 net-bridge
# (not the sleep): what a crash leaves.  BG_PIDS gets net-bridge's PID,
# then the sleep's.
kill_net_bridge_of() {
	nsenter -t "$HOLDER" -n -m -- "$NB" --name "$1" -- sh -c "echo \$\$ > $TEST_TMP/pid; exec sleep 30" \
		</dev/null >/dev/null 2>&1 3>&- &
	BG_PIDS+=($!)
	for _ in $(seq 100); do [ -s "$TEST_TMP/pid" ] && break; sleep 0.05; done
	[ -s "$TEST_TMP/pid" ] || fail "COMMAND never started"
	BG_PIDS+=($(cat "$TEST_TMP/pid"))
	kill -9 "${BG_PIDS[0]}"
	wait "${BG_PIDS[0]}" || true     # reaped: gone, not a zombie
}

# Run a command in container NAME's namespace (from the throwaway host).
cns() { local n=$1; shift; hns nsenter --net="$MINIDOCK_NETNS_DIR/$n" -- "$@"; }

# The throwaway host is as it was before net-bridge: only lo, no rule (or
# RULES_BEFORE, those the test made), forwarding as it was, no namespace
# file, no lease.
assert_nothing_left() {
	wait_veths_gone
	run hns ip -o link show
	assert_output --regexp '^1: lo:'
	assert_equal "${#lines[@]}" 1
	run hns nft list ruleset
	assert_output "${RULES_BEFORE:-}"
	run hns cat /proc/sys/net/ipv4/ip_forward
	assert_output "$FORWARD_BEFORE"
	run ls -A "$MINIDOCK_NETNS_DIR"
	[ "$status" -ne 0 ] || assert_output ""
	if [ -e "$MINIDOCK_RUN_DIR/net/leases" ]; then
		run grep -v '^#' "$MINIDOCK_RUN_DIR/net/leases"
		assert_output ""
	fi
}

@test "net-bridge: eth0 has its address and a default route inside; MINIDOCK_IP is set; COMMAND's status comes back" {
	run hns "$NB" --name web -- sh -c 'ip -4 -o addr show; ip route; echo "ip=$MINIDOCK_IP ns=$MINIDOCK_NETNS"; exit 3'
	assert_equal "$status" 3
	assert_output --regexp 'eth0 +inet 10\.213\.0\.2/16'
	assert_output --regexp 'lo +inet 127\.0\.0\.1/8'
	assert_output --partial 'default via 10.213.0.1 dev eth0'
	assert_output --partial "ip=10.213.0.2 ns=$MINIDOCK_NETNS_DIR/web"
	assert_nothing_left
}

@test "net-bridge: the namespace file works with nsenter, and the host end is on the bridge" {
	run hns "$NB" --name web --subnet 10.77.0.0/24 --ip 10.77.0.9 -- \
		sh -c 'nsenter --net="$MINIDOCK_NETNS" ip -4 -o addr show eth0; nsenter --net=/proc/'"$HOLDER"'/ns/net ip -o link show master minidock0; nsenter --net=/proc/'"$HOLDER"'/ns/net ip -4 -o addr show minidock0'
	assert_success
	assert_output --partial 'inet 10.77.0.9/24'
	assert_output --partial 'veth-web'
	assert_output --partial 'inet 10.77.0.1/24'
	assert_nothing_left
}

@test "net-bridge: the nft table exists while COMMAND runs (and nothing else), and is gone afterwards" {
	run hns "$NB" --name web --publish 8080:80 -- nsenter --net=/proc/$HOLDER/ns/net nft list ruleset
	assert_success
	assert_output --partial 'table ip minidock {'
	assert_output --partial 'ip saddr 10.213.0.0/16 oifname != "minidock0" masquerade comment "bridge minidock0"'
	assert_output --regexp 'tcp dport 8080 dnat to 10\.213\.0\.2:80 comment "web"'
	run grep -c '^table' <<<"$output"
	assert_output 1
	assert_nothing_left
}

@test "net-bridge: a bridge of the host's is used, then left as it was found" {
	hns ip link add br-host type bridge
	hns ip addr add 10.50.0.1/24 dev br-host
	run hns "$NB" --name a --bridge br-host -- \
		nsenter --net=/proc/$HOLDER/ns/net ip -4 -o addr show br-host
	assert_success
	assert_output --partial 'inet 10.213.0.1/16'
	run hns "$NB" --name b --bridge br-host --subnet 10.50.0.0/24 -- ip -4 -o addr show eth0
	assert_success
	assert_output --partial 'inet 10.50.0.2/24'
	run hns ip -4 -o addr show br-host
	assert_output --partial 'inet 10.50.0.1/24'
	refute_output --partial '10.213.0.1'
	hns ip link del br-host
	assert_nothing_left
}

@test "net-bridge: without --subnet, a host route over 10.213.0.0/16 makes it take the next default subnet" {
	hns ip link add lan0 type bridge
	hns ip addr add 10.0.0.1/8 dev lan0
	hns ip link set lan0 up
	run hns "$NB" --name a -- ip -4 -o addr show eth0
	assert_success
	assert_output --partial 'inet 172.29.0.2/16'
	run hns "$NB" --name a --subnet 10.213.0.0/16 -- true
	assert_equal "$status" 125
	assert_output --partial "overlaps the host's route 10.0.0.0/8 dev lan0"
	hns ip link del lan0
	assert_nothing_left
}

@test "net-bridge: --no-nat adds no masquerade rule; ip_forward is on while running" {
	run hns "$NB" --name web --no-nat -- nsenter --net=/proc/$HOLDER/ns/net sh -c 'cat /proc/sys/net/ipv4/ip_forward; nft list ruleset'
	assert_success
	assert_line --index 0 1
	refute_output --partial masquerade
	assert_output --partial 'ip saddr 10.213.0.2 oifname != "minidock0" accept comment "web"'
	assert_nothing_left
}

@test "net-bridge: NAT: a container reaches a host beyond the gateway (not with --no-nat), and that host reaches a published port" {
	outside_host
	run hns "$NB" --name nat -- busybox ping -c1 -W2 192.0.2.2
	assert_success
	run hns "$NB" --name nonat --no-nat -- busybox ping -c1 -W1 192.0.2.2
	assert_failure

	mkdir -p "$TEST_TMP/www"
	echo "hello from web" >"$TEST_TMP/www/index.html"
	run hns "$NB" --name web --publish 8080:80 --create
	assert_success
	nsenter -t "$HOLDER" -n -m -- nsenter --net="$MINIDOCK_NETNS_DIR/web" -- \
		busybox httpd -f -p 80 -h "$TEST_TMP/www" </dev/null >/dev/null 2>&1 3>&- &
	BG_PIDS+=($!)
	for _ in $(seq 100); do cns web busybox netstat -ltn | grep -q ':80 ' && break; sleep 0.05; done
	run nsenter -t "$OUTSIDE_PID" -n timeout 5 busybox wget -q -O - http://192.0.2.1:8080/
	assert_output "hello from web"
	run hns "$NB" --name web --delete
	assert_success
	hns ip link del out0
	assert_nothing_left
}

@test "net-bridge: two containers on one bridge ping each other and the gateway" {
	run hns "$NB" --name a --create
	assert_success
	assert_output "$MINIDOCK_NETNS_DIR/a
10.213.0.2"
	run hns "$NB" --name b --create
	assert_success
	assert_line --index 1 10.213.0.3
	run cns a busybox ping -c1 -W1 10.213.0.3
	assert_success
	run cns b busybox ping -c1 -W1 10.213.0.2
	assert_success
	run cns a busybox ping -c1 -W1 10.213.0.1
	assert_success
	run hns "$NB" --name a --delete
	assert_success
	run hns "$NB" --name b --delete
	assert_success
	assert_nothing_left
}

@test "net-bridge: --publish reaches a server in the container from the host, through 127.0.0.1, and from another network" {
	mkdir -p "$TEST_TMP/www"
	echo "hello from web" >"$TEST_TMP/www/index.html"
	run hns "$NB" --name web --publish 8080:80 --publish 127.0.0.1:8081:80 --create
	assert_success
	nsenter -t "$HOLDER" -n -m -- nsenter --net="$MINIDOCK_NETNS_DIR/web" -- \
		busybox httpd -f -p 80 -h "$TEST_TMP/www" </dev/null >/dev/null 2>&1 3>&- &
	BG_PIDS+=($!)
	for _ in $(seq 100); do cns web busybox netstat -ltn | grep -q ':80 ' && break; sleep 0.05; done
	# From the host itself: the bridge address and the loopback.
	run hns timeout 5 busybox wget -q -O - http://10.213.0.1:8080/
	assert_output "hello from web"
	run hns timeout 5 busybox wget -q -O - http://127.0.0.1:8080/
	assert_output "hello from web"
	run hns timeout 5 busybox wget -q -O - http://127.0.0.1:8081/
	assert_output "hello from web"
	# "Another host": a container on another bridge, through prerouting.
	run hns "$NB" --name client --bridge md-other --subnet 10.214.0.0/16 --create
	assert_success
	run cns client timeout 5 busybox wget -q -O - http://10.214.0.1:8080/
	assert_output "hello from web"
	# A neighbour on the same bridge (hairpin).
	run hns "$NB" --name nb --create
	assert_success
	run cns nb timeout 5 busybox wget -q -O - http://10.213.0.1:8080/
	assert_output "hello from web"
	kill "${BG_PIDS[0]}"
	# The published port goes with its container; the others' rules stay.
	run hns "$NB" --name web --delete
	assert_success
	run hns nft list ruleset
	refute_output --partial 'dport 8080'
	assert_output --partial 'comment "bridge minidock0"'
	run hns timeout 5 busybox wget -q -O - http://127.0.0.1:8080/
	assert_failure
	for n in client nb; do
		run hns "$NB" --name $n --delete
		assert_success
	done
	assert_nothing_left
}

@test "net-bridge: --publish HOSTPORT:PORT/udp forwards datagrams to the container" {
	command -v python3 >/dev/null || skip "python3 not installed (make deps)"
	run hns "$NB" --name dns --publish 5353:53/udp --create
	assert_success
	nsenter -t "$HOLDER" -n -m -- nsenter --net="$MINIDOCK_NETNS_DIR/dns" -- python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 53))
s.settimeout(10)
for _ in range(2):
    print(s.recv(100).decode().strip(), flush=True)' </dev/null >"$TEST_TMP/got" 2>&1 3>&- &
	BG_PIDS+=($!)
	for _ in $(seq 100); do cns dns busybox netstat -lun | grep -q ':53 ' && break; sleep 0.05; done
	hns bash -c 'echo via-loopback >/dev/udp/127.0.0.1/5353; echo via-bridge >/dev/udp/10.213.0.1/5353'
	wait "${BG_PIDS[0]}"
	run cat "$TEST_TMP/got"
	assert_output "via-loopback
via-bridge"
	run hns "$NB" --name dns --delete
	assert_success
	assert_nothing_left
}

@test "net-bridge: 20 concurrent net-bridge get 20 distinct addresses, and leave nothing" {
	mkdir -p "$TEST_TMP/ips"
	# Each holds its address until all 20 have one (the "go" file).
	for i in $(seq 20); do
		hns "$NB" --name c$i -- sh -c "echo \$MINIDOCK_IP > $TEST_TMP/ips/c$i.tmp; mv $TEST_TMP/ips/c$i.tmp $TEST_TMP/ips/c$i; while [ ! -e $TEST_TMP/go ]; do sleep 0.05; done" \
			</dev/null >"$TEST_TMP/log$i" 2>&1 3>&- &
		BG_PIDS+=($!)
	done
	for _ in $(seq 400); do
		[ "$(ls "$TEST_TMP/ips" | grep -cv tmp)" -eq 20 ] && break
		sleep 0.05
	done
	touch "$TEST_TMP/go"
	for p in "${BG_PIDS[@]}"; do wait "$p" || fail "a net-bridge failed: $(cat "$TEST_TMP"/log*)"; done
	BG_PIDS=()
	run sh -c "cat $TEST_TMP/ips/c* | sort -u | wc -l"
	assert_output 20
	run sh -c "cat $TEST_TMP/ips/c* | grep -cv '^10\.213\.0\.'"
	assert_output 0
	assert_nothing_left
}

@test "net-bridge --exec: COMMAND is net-bridge's own process, in the namespace; the network stays until --delete" {
	# The starter sh execs net-bridge, which execs COMMAND: all one PID
	# (a fork would give COMMAND a PID of its own).
	cat > "$TEST_TMP/starter" <<EOS
echo "starter \$\$"
exec "$NB" --name x --exec -- sh -c 'echo "command \$\$"; ip -4 -o addr show eth0; exit 3'
EOS
	run hns sh "$TEST_TMP/starter"
	assert_equal "$status" 3
	starter=$(sed -n 's/^starter //p' <<<"$output")
	[ -n "$starter" ] || fail "no starter PID: $output"
	assert_line "command $starter"
	assert_output --regexp 'eth0 +inet 10\.213\.0\.2/16'
	# nothing was undone: the namespace file, the veth and the lease stay
	run hns "$NB" --list
	assert_output --regexp 'x +10\.213\.0\.2/16 +minidock0 +dead'
	[ -e "$MINIDOCK_NETNS_DIR/x" ] || fail "the namespace file went with COMMAND"
	run hns ip -o link show veth-x
	assert_success
	run hns "$NB" --name x --delete
	assert_success
	assert_nothing_left
	run hns "$NB" --exec -- true
	assert_equal "$status" 125
	assert_output --partial "need --name"
}

@test "net-bridge: after kill -9 of net-bridge, --delete leaves nothing" {
	kill_net_bridge_of k
	run hns "$NB" --list
	assert_output --regexp 'k +10\.213\.0\.2/16 +minidock0 +dead'
	run hns "$NB" --name k --delete
	assert_success
	kill -9 "${BG_PIDS[1]}"
	assert_nothing_left
	[ ! -e "$MINIDOCK_RUN_DIR/k" ] || fail "$MINIDOCK_RUN_DIR/k is left"
}

@test "net-bridge: a lease whose net-bridge was killed is reclaimed by the next one" {
	kill_net_bridge_of k
	run hns "$NB" --name next --ip 10.213.0.2 -- ip -4 -o addr show eth0
	assert_success
	assert_output --partial 'inet 10.213.0.2/16'
	kill -9 "${BG_PIDS[1]}"
	assert_nothing_left
}

@test "net-bridge: SIGTERM to net-bridge reaches COMMAND, whose status comes back, and everything is removed" {
	nsenter -t "$HOLDER" -n -m -- "$NB" --name t -- \
		sh -c "trap 'kill \$!; exit 7' TERM; sleep 30 & echo \$\$ > $TEST_TMP/pid; wait" \
		</dev/null >/dev/null 2>&1 3>&- &
	BG_PIDS+=($!)
	for _ in $(seq 100); do [ -s "$TEST_TMP/pid" ] && break; sleep 0.05; done
	[ -s "$TEST_TMP/pid" ] || fail "COMMAND never started"
	kill -TERM "${BG_PIDS[0]}"
	local st=0
	wait "${BG_PIDS[0]}" || st=$?
	assert_equal "$st" 7
	assert_nothing_left
}

@test "net-bridge: resolv.conf and hosts are written, and only they are removed" {
	run hns "$NB" --name web --dns 192.0.2.53 --ip 10.213.0.7 --create
	assert_success
	run cat "$MINIDOCK_RUN_DIR/web/resolv.conf"
	assert_output "nameserver 192.0.2.53"
	run cat "$MINIDOCK_RUN_DIR/web/hosts"
	assert_line --partial localhost
	assert_line --regexp '^10\.213\.0\.7[[:space:]]+web$'
	echo 1234 >"$MINIDOCK_RUN_DIR/web/pid"      # what run keeps there
	run hns "$NB" --name web --delete
	assert_success
	[ -f "$MINIDOCK_RUN_DIR/web/pid" ] || fail "another tool's file was removed"
	[ ! -e "$MINIDOCK_RUN_DIR/web/hosts" ] || fail "hosts was left"
	[ ! -e "$MINIDOCK_RUN_DIR/web/resolv.conf" ] || fail "resolv.conf was left"
}

@test "net-bridge: the default resolv.conf has no 127.x nameserver" {
	run hns "$NB" --name web -- cat "$MINIDOCK_RUN_DIR/web/resolv.conf"
	assert_success
	assert_output --partial nameserver
	refute_output --regexp 'nameserver 127\.'
	[ ! -e "$MINIDOCK_RUN_DIR/web" ] || fail "$MINIDOCK_RUN_DIR/web was left"
}

@test "net-bridge: --verbose shows the netlink messages" {
	run hns "$NB" --verbose --name web -- true
	assert_success
	assert_output --partial 'RTM_NEWLINK minidock0 type bridge'
	assert_output --partial 'RTM_NEWLINK veth-web type veth peer eth0'
	assert_output --partial 'RTM_NEWADDR 10.213.0.2/16 dev eth0'
	assert_output --partial 'RTM_NEWROUTE default via 10.213.0.1 dev eth0'
	assert_output --partial 'unshare(CLONE_NEWNET)'
	# after COMMAND the veth goes with the namespace, not waited for ...
	assert_output --partial 'RTM_NEWLINK veth-web down'
	assert_output --partial 'veth-web goes with the namespace'
	refute_output --partial 'RTM_DELLINK veth-web'
	# ... while --delete deletes it, and waits
	run hns "$NB" --name web --create
	assert_success
	run hns "$NB" --verbose --name web --delete
	assert_success
	assert_output --partial 'RTM_DELLINK veth-web'
	assert_nothing_left
}

@test "net-bridge: after COMMAND the veth is set down at once and goes with its namespace; a new container of the same name waits for it" {
	# A second network keeps the bridge, so the first one's veth is not
	# swept away with the bridge.
	run hns "$NB" --name keep --create
	assert_success
	run hns "$NB" --name web -- true
	assert_success
	# Right after: the host end is down (off the bridge's forwarding) or
	# already gone; never up.
	run hns ip -o link show veth-web
	if [ "$status" -eq 0 ]; then
		refute_output --partial ',UP'
	fi
	# The same name again, at once: it waits for the old pair to go.
	run hns "$NB" --name web -- ip -4 -o addr show eth0
	assert_success
	assert_output --partial 'inet 10.213.0.'
	for _ in $(seq 100); do hns ip -o link show veth-web >/dev/null 2>&1 || break; sleep 0.05; done
	run hns ip -o link show veth-web
	assert_failure
	run hns "$NB" --name keep --delete
	assert_success
	assert_nothing_left
}

@test "net-bridge: the leases file is replaced whole by rename(2): a reader that opened it keeps every lease; a temporary file a crash left is no trouble" {
	run hns "$NB" --name a --create
	assert_success
	exec 5<"$MINIDOCK_RUN_DIR/net/leases"         # a reader, mid-way
	echo junk >"$MINIDOCK_RUN_DIR/net/leases.new"   # left by a crash
	run hns "$NB" --name b --create
	assert_success
	# Rewritten in place (ftruncate, pwrite), the reader's file would be
	# empty for a moment, then hold b: a crash between lost every lease.
	run cat <&5
	exec 5<&-
	assert_line --regexp '^a 10\.213\.0\.2/16 '
	refute_line --regexp '^b '
	run grep -c '^[ab] ' "$MINIDOCK_RUN_DIR/net/leases"
	assert_output 2
	[ ! -e "$MINIDOCK_RUN_DIR/net/leases.new" ] || fail "the temporary file is left"
	for n in a b; do
		run hns "$NB" --name $n --delete
		assert_success
	done
	assert_nothing_left
}

@test "net-bridge: on a host that already routes (ip_forward on, a FORWARD chain with policy drop, as Docker leaves them), forwarding and those rules stay as they were" {
	end_throwaway_host
	throwaway_host 1
	hns nft add table ip filter
	hns nft add chain ip filter FORWARD '{ type filter hook forward priority filter; policy drop; }'
	RULES_BEFORE=$(hns nft list ruleset)
	run hns "$NB" --name web -- true
	assert_success
	run hns "$NB" --name a --create
	assert_success
	run hns "$NB" --name b --create
	assert_success
	# Docker's chain would drop it all: net-bridge's accepts are appended.
	run hns nft list chain ip filter FORWARD
	assert_output --partial 'iifname "minidock0" counter packets'
	assert_output --partial 'accept comment "minidock bridge minidock0"'
	run cns a busybox ping -c1 -W1 10.213.0.3
	assert_success
	run hns "$NB" --name a --delete
	assert_success
	run hns "$NB" --name b --delete
	assert_success
	assert_nothing_left
}

@test "net-bridge: ip_forward that net-bridge turned on stays on if another program's rules route too (Docker started meanwhile)" {
	run hns "$NB" --name a --create
	assert_success
	run hns cat /proc/sys/net/ipv4/ip_forward
	assert_output 1
	# Docker starts: forwarding is on already, it adds its FORWARD chain
	# and its NAT, and from now on relies on forwarding.
	hns nft add table ip filter
	hns nft add chain ip filter FORWARD '{ type filter hook forward priority filter; policy drop; }'
	run hns "$NB" --verbose --name a --delete
	assert_success
	assert_output --partial 'ip_forward stays 1: the nftables table ip filter may need it'
	FORWARD_BEFORE=1 RULES_BEFORE=$(hns nft list ruleset) assert_nothing_left
	# The next container (net-bridge did not turn it on) leaves it on too.
	run hns "$NB" --name b -- true
	assert_success
	FORWARD_BEFORE=1 RULES_BEFORE=$(hns nft list ruleset) assert_nothing_left
}

@test "net-bridge: --list and --list --json show the networks" {
	run hns "$NB" --name a --publish 8080:80/udp --create
	assert_success
	run hns "$NB" --list
	assert_success
	assert_line --regexp '^a +10\.213\.0\.2/16 +minidock0 +kept +0\.0\.0\.0:8080:80/udp$'
	assert_line --index 0 --regexp '^NAME +ADDRESS +BRIDGE +OWNER +PUBLISH$'
	run hns "$NB" --list --json
	assert_success
	assert_output --partial '"name": "a", "address": "10.213.0.2", "prefix": 16'
	assert_output --partial '"publish": ["0.0.0.0:8080:80/udp"]'
	if command -v python3 >/dev/null; then
		echo "$output" | python3 -c 'import json,sys; n = json.load(sys.stdin)[0]; assert n["name"] == "a" and n["owner"] == "kept", n'
	fi
	run hns "$NB" --name a --delete
	assert_success
	assert_nothing_left
}

@test "net-bridge: exit codes 127 (not found) and 128+N (signal) pass through, and clean up" {
	run -127 hns "$NB" --name web -- /no/such/command
	assert_equal "$status" 127
	run -143 hns "$NB" --name web -- sh -c 'kill -TERM $$'
	# Without --name, the namespace is named after net-bridge's PID.
	run hns "$NB" -- sh -c 'echo "$MINIDOCK_NETNS"; ip -4 -o addr show eth0'
	assert_success
	assert_output --regexp "$MINIDOCK_NETNS_DIR/nb-[0-9]+"
	assert_output --partial 'inet 10.213.0.2/16'
	assert_nothing_left
}

@test "net-bridge: bad input is refused with exit 125 and nothing is created" {
	run hns "$NB" --subnet 10.0.0.0/33 -- true
	assert_equal "$status" 125
	assert_output --partial 'net-bridge: --subnet 10.0.0.0/33'
	run hns "$NB" --subnet banana -- true
	assert_equal "$status" 125
	assert_output --partial 'expected ADDRESS/PREFIX'
	run hns "$NB" --subnet 10.0.0.1/16 -- true
	assert_equal "$status" 125
	assert_output --partial 'host bits are set'
	run hns "$NB" --ip 10.9.0.2 -- true
	assert_equal "$status" 125
	assert_output --partial 'not in the subnet 10.213.0.0/16'
	run hns "$NB" --ip 10.213.0.1 -- true
	assert_equal "$status" 125
	assert_output --partial 'reserved'
	run hns "$NB" --bridge this-name-is-too-long -- true
	assert_equal "$status" 125
	assert_output --partial 'interface name is 1 to 15'
	run hns "$NB" --publish 80 -- true
	assert_equal "$status" 125
	assert_output --partial '--publish 80: expected'
	run hns "$NB" --publish 8080:80/sctp -- true
	assert_equal "$status" 125
	run hns "$NB" --publish 8080:70000 -- true
	assert_equal "$status" 125
	run hns "$NB" --name ../etc -- true
	assert_equal "$status" 125
	run hns "$NB" --name web
	assert_equal "$status" 125
	assert_output --partial 'no COMMAND'
	run -125 hns "$NB" --network nosuch -- true
	assert_output 'net-bridge: --network nosuch: no such network (network create nosuch)'
	run -125 hns "$NB" --alias db -- true
	assert_output --partial '--alias db: names are shared on a user-defined network only'
	run -125 hns "$NB" --add-host db -- true
	assert_output --partial '--add-host db: expected NAME:IP'
	run -125 hns "$NB" --add-host db:300.1.1.1 -- true
	assert_output --partial '--add-host db:300.1.1.1: expected NAME:IP'
	assert_nothing_left
}

@test "net-bridge: a name, an address or a port in use, or a subnet on a host route, is refused and nothing is added" {
	run hns "$NB" --name a --publish 8080:80 --create
	assert_success
	hns nft list ruleset >"$TEST_TMP/rules.before"
	hns ip -o link show | awk '{print $2}' >"$TEST_TMP/links.before"
	cp "$MINIDOCK_RUN_DIR/net/leases" "$TEST_TMP/leases.before"
	run hns "$NB" --name a -- true
	assert_equal "$status" 125
	assert_output --partial '--name a: already in use'
	run hns "$NB" --name b --ip 10.213.0.2 -- true
	assert_equal "$status" 125
	assert_output --partial '--ip 10.213.0.2: already taken by a'
	run hns "$NB" --name b --publish 8080:81 -- true
	assert_equal "$status" 125
	assert_output --partial 'host port 8080/tcp is already published by a'
	nsenter -t "$HOLDER" -n -m -- busybox nc -l -p 9090 </dev/null >/dev/null 2>&1 3>&- &
	BG_PIDS+=($!)
	for _ in $(seq 100); do hns busybox netstat -ltn | grep -q ':9090 ' && break; sleep 0.05; done
	run hns "$NB" --name b --publish 9090:80 -- true
	assert_equal "$status" 125
	assert_output --partial 'host port 9090/tcp is in use by a program of the host'
	run hns "$NB" --name b --bridge lo -- true
	assert_equal "$status" 125
	assert_output --partial '--bridge lo: this interface is not a bridge'
	hns ip link add veth-zz type veth peer name zz-peer
	run hns "$NB" --name zz -- true
	assert_equal "$status" 125
	assert_output --partial 'an interface veth-zz already exists'
	hns ip link add d0 type bridge
	hns ip link set d0 up
	hns ip addr add 10.99.0.1/16 dev d0
	hns ip -o link show | awk '{print $2}' >"$TEST_TMP/links.before"
	run hns "$NB" --name b --subnet 10.99.128.0/17 --bridge md-b -- true
	assert_equal "$status" 125
	assert_output --partial 'overlaps the host'"'"'s route 10.99.0.0/16 dev d0'
	run hns nft list ruleset
	assert_output "$(cat "$TEST_TMP/rules.before")"
	run sh -c "nsenter -t $HOLDER -n ip -o link show | awk '{print \$2}'"
	assert_output "$(cat "$TEST_TMP/links.before")"
	run cat "$MINIDOCK_RUN_DIR/net/leases"
	assert_output "$(cat "$TEST_TMP/leases.before")"
	[ ! -e "$MINIDOCK_NETNS_DIR/b" ] || fail "a namespace file was created"
	run hns "$NB" --name a --delete
	assert_success
	run hns "$NB" --name a --delete
	assert_equal "$status" 125
	assert_output --partial 'no such container network'
}
