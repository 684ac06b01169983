#!/usr/bin/env bats
# network.bats - user-defined networks: network create/ls/inspect/rm, run
# --network NAME, names resolved by the network's hosts files, isolation
# between networks, and a host where Docker's rules drop forwarding.  Every
# test runs inside a throwaway "host" (helpers.bash, throwaway_host), so
# the machine's links, routes and nftables are never touched.

load helpers
bats_require_minimum_version 1.5.0

RUN=$MINIDOCK_BIN/run
C=$MINIDOCK_BIN/container
NET=$MINIDOCK_BIN/network
NB=$MINIDOCK_BIN/net-bridge

setup() {
	require_root
	common_setup
	export MINIDOCK_NETNS_DIR=$TEST_TMP/netns
	export MINIDOCK_IMAGES=$IMAGES
	[ -f "$IMAGES/busybox.tar" ] || skip "no teaching image (make images)"
	# Short names, unique on the machine: cgroups are not private to a test.
	P=n$(printf %04x $((RANDOM % 65536)))
	BG_PIDS=()
	throwaway_host
}

teardown() {
	local n p
	for n in $(hns "$C" ls -q 2>/dev/null); do hns "$C" rm -f "$n"; done >/dev/null 2>&1
	for p in "${BG_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	end_throwaway_host
	common_teardown
}

# The throwaway host's nftables rules, without their counters.
rules() { hns nft list ruleset 2>/dev/null | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/'; }

# The throwaway host has only lo, no nftables rule but those before
# (RULES_BEFORE), no lease, no network record.
assert_nothing_left() {
	wait_veths_gone
	run hns ip -o link show
	assert_output --regexp '^1: lo:'
	assert_equal "${#lines[@]}" 1
	run rules
	assert_output "${RULES_BEFORE:-}"
	run ls "$MINIDOCK_LIB_DIR/networks"
	[ "$status" -ne 0 ] || refute_output --partial .json
}

@test "network: create, ls, inspect and rm a network; a bridge and a subnet of its own each" {
	run hns "$NET" create "$P-a"
	assert_success
	assert_output "$P-a"
	run hns "$NET" create "$P-b"
	assert_success
	run hns "$NET" ls
	assert_success
	assert_line --index 0 --regexp '^NAME +BRIDGE +SUBNET +CONTAINERS$'
	assert_line --index 1 --regexp "^$P-a +md-$P-a +10\.214\.0\.0/16 +0$"
	assert_line --index 2 --regexp "^$P-b +md-$P-b +10\.215\.0\.0/16 +0$"
	run hns "$NET" ls -q
	assert_output "$P-a
$P-b"
	run hns "$NET" inspect "$P-a"
	assert_success
	run jq -r '.name, .bridge, .subnet, (.containers | length)' <<<"$output"
	assert_output "$P-a
md-$P-a
10.214.0.0/16
0"
	run hns "$NET" rm "$P-a" "$P-b"
	assert_success
	run hns "$NET" ls -q
	assert_output ""
	assert_nothing_left
}

@test "network: a long name gets a short bridge (15 characters at most); --subnet is used as given" {
	run hns "$NET" create --subnet 192.168.77.0/24 a-rather-long-network-name
	assert_success
	run hns "$NET" inspect a-rather-long-network-name
	run jq -r '.bridge, .subnet' <<<"$output"
	assert_line --index 0 --regexp '^md-[0-9a-f]{8}$'
	assert_line --index 1 192.168.77.0/24
	run hns "$RUN" --rm --network a-rather-long-network-name busybox ip -4 -o addr show eth0
	assert_success
	assert_output --partial 'inet 192.168.77.2/24'
	run hns "$NET" rm a-rather-long-network-name
	assert_success
	assert_nothing_left
}

@test "network: containers reach each other by name and alias; names come and go as they start and stop" {
	hns "$NET" create app >/dev/null
	run hns "$RUN" -d --name "$P-db" --network app --network-alias database --network-alias store busybox sleep 60
	assert_success
	run hns "$RUN" --rm --name "$P-web" --network app busybox sh -c \
		"ping -c1 -W2 $P-db >/dev/null && ping -c1 -W2 database >/dev/null && ping -c1 -W2 store >/dev/null && echo by-name"
	assert_success
	assert_output by-name
	# A container that starts later is seen by one already running.
	run hns "$RUN" -d --name "$P-late" --network app busybox sleep 60
	assert_success
	run hns "$C" exec "$P-db" ping -c1 -W2 "$P-late"
	assert_success
	run hns "$C" exec "$P-db" grep -c "$P-late" /etc/hosts
	assert_output 1
	# Stopped, its name goes from the others' /etc/hosts.
	run hns "$C" rm -f "$P-late"
	assert_success
	run hns "$C" exec "$P-db" cat /etc/hosts
	refute_output --partial "$P-late"
	assert_output --partial "$P-db database store"
	run hns "$C" rm -f "$P-db"
	assert_success
	run hns "$NET" rm app
	assert_success
	assert_nothing_left
}

@test "network: container ls and container inspect show the network" {
	hns "$NET" create app >/dev/null
	run hns "$RUN" -d --name "$P-a" --network app busybox sleep 60
	assert_success
	run hns "$C" ls
	assert_line --index 0 --partial NETWORK
	assert_line --regexp "^$P-a .* app +10\.214\.0\.2 "
	run hns "$C" inspect "$P-a"
	assert_success
	run jq -r '.[0].NetworkSettings.Network' <<<"$output"
	assert_output app
	# The chain run prints: net-bridge is told the network and the names.
	run hns "$RUN" --dry-run --name "$P-b" --network app --network-alias b2 --add-host h:192.0.2.9 busybox true
	assert_success
	assert_line --partial "net-bridge --name $P-b --network app --alias b2 --add-host h:192.0.2.9 -- \\"
	hns "$C" rm -f "$P-a" "$P-b" >/dev/null
	hns "$NET" rm app >/dev/null
	assert_nothing_left
}

@test "network: 8 containers started at once on a network each know the 7 others (the hosts files are rewritten under the leases' lock)" {
	hns "$NET" create app >/dev/null
	local pids=()
	for i in 1 2 3 4 5 6 7 8; do
		hns "$RUN" -d --name "$P-$i" --network app busybox sleep 60 >"$TEST_TMP/out.$i" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"       # not the throwaway host's holder
	for i in 1 2 3 4 5 6 7 8; do
		run cat "$TEST_TMP/out.$i"
		assert_output "$P-$i"
	done
	for i in 1 2 3 4 5 6 7 8; do
		run hns "$C" exec "$P-$i" grep -c "^10\.214\.0\.[0-9]*	$P-" /etc/hosts
		assert_output 8
	done
	run hns "$C" exec "$P-1" ping -c1 -W2 "$P-8"
	assert_success
	for i in 1 2 3 4 5 6 7 8; do hns "$C" rm -f "$P-$i" >/dev/null; done
	hns "$NET" rm app >/dev/null
	assert_nothing_left
}

@test "network: the default bridge resolves no names (as Docker's); --add-host works on any network" {
	run hns "$RUN" -d --name "$P-a" busybox sleep 60
	assert_success
	run hns "$RUN" --rm --add-host db.example:192.0.2.9 busybox sh -c "ping -c1 -W1 $P-a || echo no-name; cat /etc/hosts"
	assert_success
	assert_line no-name
	assert_output --partial "bad address '$P-a'"
	assert_output --partial "$(printf '192.0.2.9\tdb.example')"
	run hns "$RUN" --rm --network none --add-host db.example:192.0.2.9 busybox grep db.example /etc/hosts
	assert_success
	assert_output "$(printf '192.0.2.9\tdb.example')"
	hns "$NET" create app >/dev/null
	run hns "$RUN" --rm --network app --add-host db.example:192.0.2.9 busybox grep db.example /etc/hosts
	assert_output "$(printf '192.0.2.9\tdb.example')"
	hns "$C" rm -f "$P-a" >/dev/null
	hns "$NET" rm app >/dev/null
	assert_nothing_left
}

@test "network: rm is refused (125) while a container is attached, and works once it is gone" {
	hns "$NET" create app >/dev/null
	run hns "$RUN" -d --name "$P-a" --network app busybox sleep 60
	assert_success
	run -125 hns "$NET" rm app
	assert_output "network: rm app: containers are attached: $P-a (container rm -f them first)"
	run hns "$NET" ls -q
	assert_output app
	hns "$C" rm -f "$P-a" >/dev/null
	run hns "$NET" rm app
	assert_success
	assert_nothing_left
}

@test "network: bad input is refused with exit 125 and nothing is created" {
	run -125 hns "$NET" create
	assert_output --partial 'expected one NAME'
	run -125 hns "$NET" create bridge
	assert_output --partial 'predefined network'
	run -125 hns "$NET" create -- -bad
	assert_output --partial 'use 1 to 64'
	run -125 hns "$NET" create --subnet 10.214.0.1/16 x
	assert_output --partial 'host bits are set'
	hns "$NET" create --subnet 10.50.0.0/16 app >/dev/null
	run -125 hns "$NET" create app
	assert_output --partial 'a network of that name exists'
	run -125 hns "$NET" create --subnet 10.50.128.0/24 other
	assert_output "network: create --subnet 10.50.128.0/24: overlaps network app (10.50.0.0/16)"
	hns ip link add dummy0 type bridge
	hns ip addr add 10.99.0.1/16 dev dummy0
	hns ip link set dummy0 up
	run -125 hns "$NET" create --subnet 10.99.0.0/24 other
	assert_output --partial "overlaps the host's route 10.99.0.0/16"
	hns ip link del dummy0
	run -1 hns "$NET" rm nosuch
	assert_output "network: rm nosuch: no such network"
	run -125 hns "$NET" frobnicate
	assert_output --partial 'unknown verb'
	run -125 hns "$RUN" --rm --network nosuch busybox true
	assert_output --partial '--network nosuch: expected bridge, none, host or a network of network ls (network create nosuch makes one)'
	run -125 hns "$RUN" --rm --network-alias x busybox true
	assert_output --partial '--network-alias x: needs a user-defined network'
	run -125 hns "$RUN" --rm --add-host nocolon busybox true
	assert_output --partial '--add-host nocolon: expected NAME:IP'
	run -125 hns "$RUN" --rm --network app --network-alias 'bad/alias' busybox true
	assert_output --partial 'use 1 to 64'
	run hns "$C" ls -q
	assert_output ""
	hns "$NET" rm app >/dev/null
	assert_nothing_left
}

# A web server in container NAME on network NET (or the default bridge),
# published on host port PORT, once it listens.
web_on() {
	local name=$1 net=$2 port=$3
	run hns "$RUN" -d --name "$name" ${net:+--network "$net"} -p "$port:80" busybox httpd -f -p 80 -h /www
	assert_success
	for _ in $(seq 100); do hns "$C" exec "$name" netstat -ltn | grep -q ':80 ' && break; sleep 0.05; done
}

# From container FROM (running): ping ADDRESS, then fetch URL; says which work.
reach() {
	hns "$C" exec "$1" sh -c "ping -c1 -W1 $2 >/dev/null && echo ping-ok || echo ping-no
		timeout 2 wget -q -O - $3 >/dev/null 2>&1 && echo web-ok || echo web-no"
}

@test "network: containers of different networks (and of the default bridge) cannot reach each other; a published port they can; the same network can" {
	hns "$NET" create a >/dev/null
	hns "$NET" create b >/dev/null
	web_on "$P-a1" a 8081
	web_on "$P-d1" "" 8082
	run hns "$RUN" -d --name "$P-a2" --network a busybox sleep 60
	assert_success
	run hns "$RUN" -d --name "$P-b1" --network b busybox sleep 60
	assert_success
	run reach "$P-a2" "$P-a1" "http://$P-a1/"          # the same network
	assert_output "ping-ok
web-ok"
	run reach "$P-b1" 10.214.0.2 http://10.214.0.2/    # b -> a
	assert_output "ping-no
web-no"
	run reach "$P-b1" 10.213.0.2 http://10.213.0.2/    # b -> the default bridge
	assert_output "ping-no
web-no"
	run reach "$P-d1" 10.214.0.2 http://10.214.0.2/    # the default bridge -> a
	assert_output "ping-no
web-no"
	run reach "$P-a2" 10.213.0.2 http://10.213.0.2/    # a -> the default bridge
	assert_output "ping-no
web-no"
	# A published port, through the host (its gateway address): yes.
	run reach "$P-b1" 10.215.0.1 http://10.215.0.1:8081/
	assert_output "ping-ok
web-ok"
	run hns nft list chain ip minidock forward
	assert_output --regexp 'iifname "md-b" oifname != "md-b" oifname "md-\*" ct status .*dnat.* drop comment "bridge md-b"'
	for n in "$P-a1" "$P-a2" "$P-b1" "$P-d1"; do hns "$C" rm -f "$n" >/dev/null; done
	hns "$NET" rm a b >/dev/null
	assert_nothing_left
}

@test "network: beside Docker (iptables-nft FORWARD policy drop, DOCKER-USER, br_netfilter), containers still talk to each other, to published ports and outside; Docker's rules are left as they were" {
	end_throwaway_host
	throwaway_host 1
	# The rules dockerd writes at start (iptables-nft), docker0 included.
	hns sh -e -c '
		iptables-nft -P FORWARD DROP
		for c in DOCKER DOCKER-USER DOCKER-ISOLATION-STAGE-1 DOCKER-ISOLATION-STAGE-2; do iptables-nft -N $c; done
		iptables-nft -A FORWARD -j DOCKER-USER
		iptables-nft -A FORWARD -j DOCKER-ISOLATION-STAGE-1
		iptables-nft -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
		iptables-nft -A FORWARD -o docker0 -j DOCKER
		iptables-nft -A FORWARD -i docker0 ! -o docker0 -j ACCEPT
		iptables-nft -A FORWARD -i docker0 -o docker0 -j ACCEPT
		iptables-nft -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
		iptables-nft -A DOCKER-ISOLATION-STAGE-1 -j RETURN
		iptables-nft -A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
		iptables-nft -A DOCKER-ISOLATION-STAGE-2 -j RETURN
		iptables-nft -A DOCKER-USER -j RETURN
		iptables-nft -t nat -N DOCKER
		iptables-nft -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
		iptables-nft -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE'
	# br_netfilter: bridged frames go through iptables' FORWARD too.
	[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] ||
		skip "br_netfilter is not loaded on this machine (Docker loads it)"
	hns sysctl -qw net.bridge.bridge-nf-call-iptables=1
	run hns cat /proc/sys/net/bridge/bridge-nf-call-iptables
	assert_output 1
	RULES_BEFORE=$(rules)
	outside_host
	hns "$NET" create app >/dev/null
	web_on "$P-web" app 8080
	run hns "$RUN" -d --name "$P-cli" --network app busybox sleep 60
	assert_success
	run hns "$RUN" -d --name "$P-def" busybox sleep 60
	assert_success
	# The same bridge (through iptables' FORWARD with br_netfilter), by name.
	run reach "$P-cli" "$P-web" "http://$P-web/"
	assert_output "ping-ok
web-ok"
	# Outside, from a user-defined network and from the default bridge.
	run reach "$P-cli" 192.0.2.2 http://192.0.2.2:1/
	assert_line --index 0 ping-ok
	run reach "$P-def" 192.0.2.2 http://192.0.2.2:1/
	assert_line --index 0 ping-ok
	# A published port, from outside and from the default bridge.
	run nsenter -t "$OUTSIDE_PID" -n timeout 5 busybox wget -q -O - http://192.0.2.1:8080/
	assert_output "<h1>Hello from a minidock container</h1>"
	run reach "$P-def" 10.213.0.1 http://10.213.0.1:8080/
	assert_line --index 1 web-ok
	# Still apart; and Docker's iptables still reads its chain.
	run reach "$P-def" 10.214.0.2 http://10.214.0.2/
	assert_output "ping-no
web-no"
	run hns iptables-nft -L FORWARD -n
	assert_success
	assert_output --partial '/* minidock bridge md-app */'
	for n in "$P-web" "$P-cli" "$P-def"; do hns "$C" rm -f "$n" >/dev/null; done
	hns "$NET" rm app >/dev/null
	hns ip link del out0
	FORWARD_BEFORE=1 assert_nothing_left
}

@test "network: net-bridge --network alone: names shared with --alias; a neighbour whose state directory is gone keeps nobody off" {
	hns "$NET" create app >/dev/null
	run hns "$NB" --name "$P-a" --network app --alias first --create
	assert_success
	assert_line --index 1 10.214.0.2
	run hns "$NB" --name "$P-b" --network app --create
	assert_success
	run cat "$MINIDOCK_RUN_DIR/$P-b/hosts"
	assert_line "$(printf '10.214.0.3\t%s' "$P-b")"
	assert_line "$(printf '10.214.0.2\t%s first' "$P-a")"
	run hns nsenter --net="$MINIDOCK_NETNS_DIR/$P-b" busybox ping -c1 -W2 10.214.0.2
	assert_success
	rm -r "$MINIDOCK_RUN_DIR/$P-a"
	run hns "$NB" --name "$P-c" --network app --create
	assert_success
	run cat "$MINIDOCK_RUN_DIR/$P-c/hosts"
	assert_line "$(printf '10.214.0.2\t%s' "$P-a")"
	assert_line "$(printf '10.214.0.3\t%s' "$P-b")"
	for n in a b c; do
		run hns "$NB" --name "$P-$n" --delete
		assert_success
	done
	hns "$NET" rm app >/dev/null
	assert_nothing_left
}
