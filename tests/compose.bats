#!/usr/bin/env bats
# compose.bats - `compose` (issue 15): a compose.yaml read with libyaml,
# every key it does not support refused with its line, the services
# started in depends_on order as PROJECT-SERVICE-1 on PROJECT_default,
# where they reach each other by service name; a named volume across
# down and up; two networks kept apart; run --restart.
#
# Every bridged test runs in a throwaway "host" (helpers.bash): the
# machine's links, routes and nftables are never touched.

load helpers
bats_require_minimum_version 1.5.0

RUN=$MINIDOCK_BIN/run
C=$MINIDOCK_BIN/container
COMPOSE=$MINIDOCK_BIN/compose

setup() {
	common_setup
	export MINIDOCK_NETNS_DIR=$TEST_TMP/netns
	export MINIDOCK_IMAGES=$IMAGES
	unset COMPOSE_PROJECT_NAME
	# a short project name, unique on the machine (cgroups are shared)
	P=p$(printf %04x $((RANDOM % 65536)))
	mkdir -p "$TEST_TMP/$P"
	cd "$TEST_TMP/$P"
	HOLDER=
}

teardown() {
	local n
	cd /
	for n in $("$C" ls -q 2>/dev/null); do
		if [ -n "$HOLDER" ]; then hns "$C" rm -f "$n"; else "$C" rm -f "$n"; fi
	done >/dev/null 2>&1
	if [ -n "$HOLDER" ] && [ -x "$MINIDOCK_BIN/network" ]; then
		for n in $(hns "$MINIDOCK_BIN/network" ls -q 2>/dev/null); do
			hns "$MINIDOCK_BIN/network" rm "$n"
		done >/dev/null 2>&1
	fi
	end_throwaway_host
	common_teardown
}

# The host PID of container NAME's PID 1: down the chain from the pid
# file, the first process in a PID namespace below ours (NSpid: 2 PIDs).
container_init() {
	local pid
	pid=$(awk '{ print $1 }' "$MINIDOCK_RUN_DIR/$1/pid")
	while [ -n "$pid" ]; do
		if [ "$(awk '/^NSpid:/ { print NF }' "/proc/$pid/status")" -gt 2 ]; then
			echo "$pid"
			return
		fi
		pid=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null | awk '{ print $1 }')
	done
}

# compose, in the throwaway host when there is one, from this directory.
compose() {
	if [ -n "$HOLDER" ]; then
		nsenter -t "$HOLDER" -n -m --wd="$PWD" -- "$COMPOSE" "$@"
	else
		"$COMPOSE" "$@"
	fi
}

@test "compose: --help, --version, a verb is needed" {
	run "$COMPOSE" --help
	assert_success
	assert_output --partial "up [-d]"
	run "$COMPOSE" --version
	assert_success
	run -125 "$COMPOSE"
	assert_output --partial "expected a verb"
	run -125 "$COMPOSE" -f /nonexistent.yaml config
	assert_output --partial "open /nonexistent.yaml"
}

@test "compose config: names resolved (project from the directory, PROJECT-SERVICE-1, PROJECT_default), words split, start order" {
	mkdir "$TEST_TMP/My.Shop_1"
	cat > "$TEST_TMP/My.Shop_1/compose.yaml" <<-'YAML'
	services:
	  web:
	    image: busybox
	    command: httpd -f -p 80 -h "/var/www html"
	    ports:
	      - "8080:80"
	    depends_on:
	      db:
	        condition: service_started
	    environment:
	      - MODE=test
	    volumes:
	      - ./www:/var/www:ro
	  db:
	    image: busybox
	    entrypoint: ["sh", "-c"]
	    command: ["echo $$HOME"]
	    environment:
	      ROWS: 3
	    volumes:
	      - data:/data
	    restart: on-failure:3
	    mem_limit: 64m
	    cpus: 0.5
	    pids_limit: 20
	    user: "1000"
	    working_dir: /data
	    hostname: database
	  api:
	    build:
	      context: ./app
	      dockerfile: Dockerfile.dev
	    networks:
	      back:
	networks:
	  back:
	    driver: bridge
	volumes:
	  data:
	YAML
	cd "$TEST_TMP/My.Shop_1"
	run "$COMPOSE" config
	assert_success
	# db first: web depends on it
	assert_line --index 0 "name: myshop_1"
	assert_line --index 2 "  db:"
	assert_line "    container_name: myshop_1-db-1"
	assert_line "    container_name: myshop_1-web-1"
	assert_line "    - /var/www html"
	assert_line "    - echo \$\$HOME"
	assert_line "    - ROWS=3"
	assert_line "    - data:/data"
	assert_line "    - $TEST_TMP/My.Shop_1/www:/var/www:ro"
	assert_line '    - "8080:80"'
	assert_line "    - default"
	assert_line "    restart: on-failure:3"
	assert_line "    name: myshop_1_default"
	assert_line "    name: myshop_1_data"
	# build: the image is named after the service, the paths absolute
	assert_line "    image: myshop_1-api"
	assert_line "      context: $TEST_TMP/My.Shop_1/app"
	assert_line "      dockerfile: Dockerfile.dev"
	assert_line "    - back"
	assert_line "    name: myshop_1_back"
	# -p, then COMPOSE_PROJECT_NAME, win over the directory
	run "$COMPOSE" -p other config
	assert_line "    container_name: other-web-1"
	COMPOSE_PROJECT_NAME=fromenv run "$COMPOSE" config
	assert_line "    container_name: fromenv-web-1"
	run -125 "$COMPOSE" -p Bad.Name config
	assert_output --partial "project name Bad.Name"
}

@test "compose config: its output reads back as the same project (container_name, networks and volumes by key with their name, words that would read as numbers quoted)" {
	mkdir app
	cat > app/compose.yaml <<-'YAML'
	name: boutique
	services:
	  web:
	    image: busybox
	    command: [httpd, -f, -p, 80]
	    entrypoint: ["", "yes", "null", "0o17", "1.5", "$$HOME"]
	    user: "1000"
	    pids_limit: 20
	    ports: ["22:22"]
	    volumes: [data:/data, ./www:/www]
	    depends_on: [db]
	  db:
	    image: busybox
	    container_name: boutique-base
	    networks: [back]
	networks:
	  back:
	    name: boutique_arriere
	volumes:
	  data:
	YAML
	run -0 "$COMPOSE" -f app/compose.yaml config
	assert_line '    - "80"'
	assert_line '    - ""'
	assert_line '    - "yes"'
	assert_line '    - "null"'
	assert_line '    - "0o17"'
	assert_line '    - "1.5"'
	assert_line '    - $$HOME'
	assert_line '    user: "1000"'
	assert_line '    pids_limit: "20"'
	assert_line '    - "22:22"'
	assert_line '    container_name: boutique-base'
	assert_line '    - data:/data'
	assert_line '    - back'
	assert_line '    name: boutique_arriere'
	assert_line '    name: boutique_default'
	printf '%s\n' "$output" > "$TEST_TMP/out.yaml"
	# read back, from another directory: the same project
	run -0 "$COMPOSE" -f "$TEST_TMP/out.yaml" config
	assert_output "$(cat "$TEST_TMP/out.yaml")"
	# a network's name, its key in the services
	cat > compose.yaml <<-'YAML'
	services:
	  a:
	    image: busybox
	networks:
	  default:
	    name: shared-net
	YAML
	run -0 "$COMPOSE" config
	assert_line '    - default'
	assert_line '    name: shared-net'
	# bad names, refused with their line
	cat > compose.yaml <<-'YAML'
	services:
	  a:
	    image: busybox
	    container_name: "bad name"
	YAML
	run -125 "$COMPOSE" config
	assert_output --partial "compose.yaml:4: container_name: bad name"
	cat > compose.yaml <<-'YAML'
	services:
	  a:
	    image: busybox
	    container_name: same
	  b:
	    image: busybox
	    container_name: same
	YAML
	run -125 "$COMPOSE" config
	assert_output --partial "container name same"
	cat > compose.yaml <<-'YAML'
	services:
	  a:
	    image: busybox
	volumes:
	  v:
	    name: a/b
	YAML
	run -125 "$COMPOSE" config
	assert_output --partial "compose.yaml:6: volumes.v.name: a/b"
}

# A bad FILE: compose refuses it with exit 125 and a message naming the
# file, LINE and what is wrong (EXPECTED), and nothing is made.
refused() {
	local line=$1 expected=$2
	cat > compose.yaml
	run -125 "$COMPOSE" up -d
	assert_output --partial "compose.yaml:$line: "
	assert_output --partial "$expected"
	[ ! -e "$MINIDOCK_LIB_DIR/compose" ] || fail "up made a record"
	[ -z "$(ls -A "$MINIDOCK_RUN_DIR" 2>/dev/null)" ] || fail "up started something"
	run -125 "$COMPOSE" config
	assert_output --partial "compose.yaml:$line: "
}

@test "compose: every bad file is refused with its line, and nothing is started" {
	refused 4 "services.web.healthcheck: unsupported key" <<-'YAML'
	services:
	  web:
	    image: busybox
	    healthcheck:
	      test: ["CMD", "true"]
	YAML
	refused 1 "configs: unsupported key" <<-'YAML'
	configs:
	  x: {}
	services:
	  web: {image: busybox}
	YAML
	refused 5 "build.target: unsupported key" <<-'YAML'
	services:
	  web:
	    build:
	      context: .
	      target: dev
	YAML
	refused 5 "depends_on.db.condition: service_healthy: only service_started" <<-'YAML'
	services:
	  web:
	    image: busybox
	    depends_on:
	      db: {condition: service_healthy}
	  db: {image: busybox}
	YAML
	refused 2 "services.web.depends_on: nosuch: no such service" <<-'YAML'
	services:
	  web:
	    image: busybox
	    depends_on: [nosuch]
	YAML
	refused 2 "services.a.depends_on: a cycle: a -> c -> b -> a" <<-'YAML'
	services:
	  a: {image: busybox, depends_on: [c]}
	  b: {image: busybox, depends_on: [a]}
	  c: {image: busybox, depends_on: [b]}
	  d: {image: busybox, depends_on: [b]}
	YAML
	refused 4 "named volume data is not declared" <<-'YAML'
	services:
	  db:
	    image: busybox
	    volumes: ["data:/data"]
	YAML
	refused 4 "networks: back is not declared" <<-'YAML'
	services:
	  db:
	    image: busybox
	    networks: [back]
	YAML
	refused 4 "restart: unless-stopped: expected no, on-failure[:N] or always" <<-'YAML'
	services:
	  db:
	    image: busybox
	    restart: unless-stopped
	YAML
	refused 4 "ports: 80: expected HOSTPORT:PORT" <<-'YAML'
	services:
	  db:
	    image: busybox
	    ports: ["80"]
	YAML
	refused 4 'variables ($NAME) are not replaced' <<-'YAML'
	services:
	  db:
	    image: busybox
	    command: echo ${HOME}
	YAML
	refused 7 "networks: b: minidock's run joins one network" <<-'YAML'
	networks:
	  a:
	  b:
	services:
	  x:
	    image: busybox
	    networks: [a, b]
	YAML
	refused 3 "image: expected a string" <<-'YAML'
	services:
	  db:
	    image: [busybox]
	YAML
	refused 2 "services.db: neither image nor build" <<-'YAML'
	services:
	  db:
	    command: true
	YAML
	refused 4 "YAML: did not find expected ',' or ']', while parsing a flow sequence (line 3)" <<-'YAML'
	services:
	  db:
	  image: [busybox
	YAML
	refused 2 "networks.front.ipam: unsupported key" <<-'YAML'
	networks:
	  front: {ipam: {}}
	services:
	  db: {image: busybox}
	YAML
}

@test "run --restart: on-failure restarts after kill -9 of PID 1 (the count in container ls), always too; never after container stop or rm -f" {
	require_root
	[ -f "$IMAGES/busybox.tar" ] || skip "no teaching image (make images)"
	run -125 "$RUN" --restart always --network none busybox true
	assert_output --partial "needs -d"
	run -125 "$RUN" -d --restart sometimes --network none busybox true
	assert_output --partial "expected no, on-failure[:N] or always"

	"$RUN" -d --name "$P" --network none --restart on-failure busybox sh -c 'echo up; exec sleep 600'
	# kill -9 the container's PID 1: a process this test started (through run)
	for i in 1 2; do
		init=$(container_init "$P")
		[ -n "$init" ] || fail "no PID 1"
		kill -9 "$init"
		for _ in $(seq 100); do
			"$C" ls | grep -q "running (restarted $i)" && break
			sleep 0.05
		done
		run "$C" ls
		assert_line --regexp "^$P .* running \(restarted $i\) "
	done
	run "$C" logs "$P"
	assert_output "$(printf 'up\nup\nup')"
	run "$C" inspect "$P"
	assert_output --partial '"RestartCount": 2,'
	# stop: it stays stopped
	run "$C" stop -t 0 "$P"
	assert_success
	sleep 0.3
	run "$C" ls
	assert_line --regexp "^$P .* exited \(137\) \(restarted 2\) "
	"$C" rm "$P"

	# always: even after status 0; on-failure:2: twice, then it stays ended
	"$RUN" -d --name "$P" --network none --restart always busybox sh -c 'echo once; exec sleep 600'
	"$RUN" -d --name "${P}b" --network none --restart on-failure:2 busybox sh -c 'exit 3'
	for _ in $(seq 100); do
		"$C" ls | grep -q "exited (3) (restarted 2)" && break
		sleep 0.05
	done
	run "$C" ls
	assert_line --regexp "^${P}b .* exited \(3\) \(restarted 2\) "
	# rm -f: no restart, nothing left
	run "$C" rm -f "$P"
	assert_success
	[ ! -e "$MINIDOCK_RUN_DIR/$P" ] || fail "still there"
}

# ---- up and down, in a throwaway host (network and volume: issue 15) ----

bridged_setup() {
	require_root
	[ -f "$IMAGES/busybox.tar" ] || skip "no teaching image (make images)"
	[ -x "$MINIDOCK_BIN/network" ] && [ -x "$MINIDOCK_BIN/volume" ] ||
		skip "no network or volume tool"
	throwaway_host
}

# The shop: web, a busybox httpd whose CGI asks the "database" db over TCP
# by its service name; db serves the rows of its named volume.
write_shop() {
	mkdir -p www/cgi-bin
	cat > www/cgi-bin/rows <<-'SH'
	#!/bin/sh
	echo "Content-Type: text/plain"
	echo
	nc db 5000 </dev/null
	SH
	chmod +x www/cgi-bin/rows
	cat > compose.yaml <<-'YAML'
	services:
	  web:
	    image: busybox
	    command: httpd -f -p 80 -h /www
	    volumes:
	      - ./www:/www:ro
	    ports:
	      - "8080:80"
	    depends_on:
	      db:
	        condition: service_started
	  db:
	    image: busybox
	    command: ["sh", "-c", "[ -f /data/rows ] || echo row1 > /data/rows; exec nc -ll -p 5000 -e cat /data/rows"]
	    volumes:
	      - data:/data
	volumes:
	  data:
	YAML
}

# GET the CGI from inside web, until db answers (it may still be starting).
rows() {
	local i
	for i in $(seq 50); do
		run compose exec web wget -qO- http://127.0.0.1/cgi-bin/rows
		[ "$status" -ne 0 ] || [ -z "$output" ] || return 0
		sleep 0.1
	done
}

@test "compose up/down: web's CGI reaches db by service name; the named volume keeps its data across down and up; down -v removes all" {
	bridged_setup
	write_shop
	run compose up -d
	assert_success
	# db first (web depends on it), then web, each recorded
	assert_line --index 0 "$P-db-1: started"
	assert_line --index 1 "$P-web-1: started"
	run jq -c '[.containers, .networks, .volumes]' "$MINIDOCK_LIB_DIR/compose/$P.json"
	assert_output "[[\"$P-db-1\",\"$P-web-1\"],[\"${P}_default\"],[\"${P}_data\"]]"
	run compose ps
	assert_line --regexp "^$P-db-1 +busybox .* running "
	assert_line --regexp "^$P-web-1 +busybox .* running .* 8080:80"
	rows
	assert_output row1
	compose exec db sh -c 'echo row2 >> /data/rows'

	run compose down
	assert_success
	run hns "$C" ls -q
	assert_output ""
	run hns "$MINIDOCK_BIN/network" ls -q
	refute_output --partial "${P}_default"
	run hns "$MINIDOCK_BIN/volume" ls -q
	assert_output "${P}_data"
	[ ! -e "$MINIDOCK_LIB_DIR/compose/$P.json" ] || fail "the record is left"

	run compose up -d
	assert_success
	rows
	assert_output "$(printf 'row1\nrow2')"
	run compose logs web
	assert_success
	run compose down -v
	assert_success
	run hns "$MINIDOCK_BIN/volume" ls -q
	assert_output ""
	run hns "$C" ls -q
	assert_output ""
	wait_veths_gone
	run hns ip -o link show
	refute_output --partial veth
	run hns nft list ruleset
	refute_output --partial dnat
}

@test "compose: two networks: a service reaches one on its own network by name, not one on the other, even by address" {
	bridged_setup
	# ${P}: unique on the machine, as the cgroups of its containers
	cat > compose.yaml <<-YAML
	name: ${P}iso
	services:
	  a:
	    image: busybox
	    command: sleep 600
	    networks: [front]
	  b:
	    image: busybox
	    command: nc -ll -p 5000 -e echo b
	    networks: [front]
	  c:
	    image: busybox
	    command: nc -ll -p 5000 -e echo c
	    networks: [back]
	networks:
	  front:
	  back:
	YAML
	run compose up -d
	assert_success
	run compose exec a nc -w 2 b 5000
	assert_output b
	run compose exec a nslookup c
	run compose exec a ping -c 1 -W 1 c
	assert_failure
	assert_output --partial "bad address 'c'"
	addr=$(compose exec c hostname -i | awk '{ print $1 }')
	[ -n "$addr" ]
	run compose exec a nc -w 2 "$addr" 5000
	refute_output c
	run compose down
	assert_success
	run hns "$MINIDOCK_BIN/network" ls -q
	assert_output ""
}

@test "compose: restart: always starts a service again after kill -9 of its PID 1; build: through img-build; up without -d follows the logs and stops on SIGINT" {
	bridged_setup
	mkdir app
	printf 'FROM busybox\nRUN echo built > /built\n' > app/Dockerfile
	cat > compose.yaml <<-'YAML'
	services:
	  worker:
	    build: ./app
	    entrypoint: sh -c
	    command: ["trap 'exit 0' TERM; cat /built; sleep 600 & wait"]
	    restart: always
	YAML
	run compose up -d
	assert_success
	init=$(container_init "$P-worker-1")
	[ -n "$init" ] || fail "no PID 1"
	kill -9 "$init"
	for _ in $(seq 100); do
		compose ps | grep -q "running (restarted 1)" && break
		sleep 0.05
	done
	run compose ps
	assert_line --regexp "^$P-worker-1 +$P-worker .* running \(restarted 1\)"
	run compose logs
	assert_output "$(printf '%s | built\n%s | built' "$P-worker-1" "$P-worker-1")"
	compose down

	# up without -d: the logs, then Ctrl-C (SIGINT) stops the containers
	nsenter -t "$HOLDER" -n -m --wd="$PWD" -- "$COMPOSE" up > "$TEST_TMP/up.out" 2>&1 &
	UP=$!
	for _ in $(seq 100); do grep -q "| built" "$TEST_TMP/up.out" && break; sleep 0.05; done
	kill -INT "$UP"
	wait "$UP" || true
	run cat "$TEST_TMP/up.out"
	assert_line "$P-worker-1 | built"
	run compose ps
	assert_line --regexp "^$P-worker-1 .* exited "
	compose down
}

@test "compose: up twice keeps what runs; an up that fails halfway is undone by down, which leaves what is not the project's" {
	bridged_setup
	cat > compose.yaml <<-'YAML'
	services:
	  a:
	    image: busybox
	    command: sleep 600
	  b:
	    image: nosuchimage
	    depends_on: [a]
	YAML
	hns "$RUN" -d --name "$P-other" --network none busybox sleep 600
	run compose up -d
	assert_failure 125
	assert_output --partial "image nosuchimage: unknown"
	assert_output --partial "up stopped at b"
	run compose ps
	assert_line --regexp "^$P-a-1 .* running "
	# b fixed: a second up keeps a, starts b
	sed -i 's/nosuchimage/busybox\n    command: sleep 600/' compose.yaml
	run compose up -d
	assert_success
	assert_line "$P-a-1: running"
	assert_line "$P-b-1: started"
	run compose down
	assert_success
	assert_line --index 0 "$P-b-1: removed"
	assert_line --index 1 "$P-a-1: removed"
	run hns "$C" ls -q
	assert_output "$P-other"
	run compose down
	assert_success
	assert_output --partial "nothing to remove"
	# without the file, -p PROJECT: down works from the record alone
	run compose up -d
	assert_success
	rm compose.yaml
	run -125 compose ps
	assert_output --partial "no compose.yaml"
	run compose -p "$P" down
	assert_success
	assert_line "$P-a-1: removed"
	run hns "$C" ls -q
	assert_output "$P-other"
}

@test "compose: each service key reaches run: environment (map and list), entrypoint, working_dir, user, hostname, mem_limit, pids_limit, cpus, a bind mount" {
	bridged_setup
	mkdir data && echo bound > data/file
	cat > compose.yaml <<-'YAML'
	services:
	  x:
	    image: busybox
	    entrypoint: sh -c
	    command: ["sleep 600"]
	    environment:
	      GREETING: hello world
	      FROM_COMPOSE:
	    working_dir: /tmp
	    user: "1000:1000"
	    hostname: database
	    mem_limit: 64m
	    pids_limit: 32
	    cpus: 0.5
	    volumes: ["./data:/data:ro"]
	  y:
	    image: busybox
	    command: sleep 600
	    environment: [A=1, B=two words]
	YAML
	FROM_COMPOSE=inherited run compose up -d
	assert_success
	run compose exec x sh -c 'echo "$GREETING|$FROM_COMPOSE|$(pwd)|$(id -u):$(id -g)|$(hostname)|$(cat /data/file)"'
	assert_output "hello world|inherited|/tmp|1000:1000|database|bound"
	run compose exec x sh -c 'echo > /data/file'
	assert_failure
	run compose exec y sh -c 'echo "$A|$B"'
	assert_output "1|two words"
	run compose exec x sh -c 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids/pids.max 2>/dev/null'
	assert_line 67108864
	assert_line 32
	run compose down
	assert_success
}

# LINE's cell that starts where HEADER's column COL does, in `container ls`.
column_at() {
	local header=$1 line=$2 col=$3 before
	before=${header%%"$col"*}
	cut -c$((${#before} + 1))- <<<"$line" | awk '{ print $1 }'
}

@test "compose --verbose up -d: run's line quoted for sh, no trace in the logs; container_name and a network's name work; container ls aligned with long network names" {
	bridged_setup
	cat > compose.yaml <<-YAML
	name: ${P}boutique
	services:
	  db:
	    image: busybox
	    container_name: ${P}-base
	    command: ["sh", "-c", "[ -f /tmp/lignes ] || echo 'ligne 1' > /tmp/lignes; cat /tmp/lignes; sleep 600"]
	  web:
	    image: busybox
	    command: sleep 600
	    networks: [front]
	networks:
	  front:
	    name: ${P}_vitrine_du_magasin
	YAML
	run --separate-stderr compose --verbose up -d
	assert_success
	# the line pasted into a shell gives run the same words
	line=$(grep "^compose: run .*--name=${P}-base" <<<"$stderr")
	eval "set -- ${line#compose: }"
	assert_equal "${*: -1}" "[ -f /tmp/lignes ] || echo 'ligne 1' > /tmp/lignes; cat /tmp/lignes; sleep 600"
	assert_equal "$1 $2" "run -d"
	for _ in $(seq 100); do compose logs db | grep -q "ligne 1" && break; sleep 0.05; done
	# the containers' own output, none of the chain's traces
	run compose logs
	assert_output --regexp "^${P}-base +\| ligne 1$"
	run hns "$MINIDOCK_BIN/network" ls -q
	assert_line "${P}_vitrine_du_magasin"
	assert_line "${P}boutique_default"
	run compose exec db cat /tmp/lignes
	assert_output "ligne 1"
	# every column starts where its header does
	run hns "$C" ls
	assert_equal "${#lines[@]}" 3
	for i in 1 2; do
		[[ $(column_at "${lines[0]}" "${lines[$i]}" NETWORK) =~ ^(${P}boutique_default|${P}_vitrine_du_magasin)$ ]] ||
			fail "NETWORK misaligned: ${lines[$i]}"
		[[ $(column_at "${lines[0]}" "${lines[$i]}" ADDRESS) =~ ^10\. ]] ||
			fail "ADDRESS misaligned: ${lines[$i]}"
		assert_equal "$(column_at "${lines[0]}" "${lines[$i]}" PORTS)" "-"
	done
	run compose ps
	assert_line --regexp "^${P}-base +busybox "
	run compose down
	assert_success
	run hns "$C" ls -q
	assert_output ""
	run hns "$MINIDOCK_BIN/network" ls -q
	assert_output ""
}
