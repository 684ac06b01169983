#!/usr/bin/env bats
# run.bats - `run` and `container`, end to end on the teaching images: the
# chain cg-limit -> net-bridge -> ns-enter over an overlayfs of the image's
# layers, and the life of a container (ls, exec, logs, stop, rm, prune).
#
# Tests with --network none run here; every bridged test runs inside a
# throwaway "host" (a network and mount namespace held by a sleep(1) that
# setup starts; hns runs a command there), so the machine's links, routes,
# nftables and ip_forward are never touched.

load helpers
bats_require_minimum_version 1.5.0

RUN=$MINIDOCK_BIN/run
C=$MINIDOCK_BIN/container

setup() {
	require_root
	common_setup
	export MINIDOCK_NETNS_DIR=$TEST_TMP/netns
	export MINIDOCK_IMAGES=$IMAGES
	[ -f "$IMAGES/busybox.tar" ] || skip "no teaching image (make images)"
	# Short names (veth-NAME must fit in 15 characters), unique on the
	# machine: cgroups are not private to this test.
	N=r$(printf %04x $((RANDOM % 65536)))
	N2=s${N#r}
	HOLDER=
	ROOTLESS=
}

teardown() {
	local n
	if [ -n "$ROOTLESS" ]; then
		for n in $(as_user "$TEST_TMP/bin/container" ls -q 2>/dev/null); do
			as_user "$TEST_TMP/bin/container" rm -f "$n"
		done >/dev/null 2>&1
	fi
	# A failed test may leave containers: remove them the way a user would.
	for n in $("$C" ls -q 2>/dev/null); do
		if [ -n "$HOLDER" ]; then hns "$C" rm -f "$n"; else "$C" rm -f "$n"; fi
	done >/dev/null 2>&1
	if [ -S "$TEST_TMP/tmux" ]; then
		tmux -S "$TEST_TMP/tmux" kill-server 2>/dev/null || true
	fi
	end_throwaway_host
	common_teardown
}


# An ordinary user (nobody, 65534) with a home in TEST_TMP, and copies of
# the tools and the image it can read wherever the repository is.
ROOTLESS_UID=65534
as_user() {
	setpriv --reuid=$ROOTLESS_UID --regid=$ROOTLESS_UID --clear-groups \
		env -i HOME="$TEST_TMP/home" XDG_RUNTIME_DIR="$TEST_TMP/home/run" \
		PATH=/usr/bin:/bin MINIDOCK_IMAGES="$TEST_TMP/images" \
		ASAN_OPTIONS="$ASAN_OPTIONS" UBSAN_OPTIONS="$UBSAN_OPTIONS" "$@"
}
rootless_setup() {
	command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
	chmod 711 "$TEST_TMP"
	mkdir -p "$TEST_TMP/home" "$TEST_TMP/bin" "$TEST_TMP/images"
	chown $ROOTLESS_UID:$ROOTLESS_UID "$TEST_TMP/home"
	cp "$MINIDOCK_BIN"/{run,container,ns-enter,img-unpack} "$TEST_TMP/bin/"
	cp "$IMAGES/busybox.tar" "$TEST_TMP/images/"
	chmod -R a+rX "$TEST_TMP/bin" "$TEST_TMP/images"
	ROOTLESS=1
	as_user test -x "$TEST_TMP/bin/run" ||
		skip "$TEST_TMP is out of an ordinary user's reach (set TMPDIR to /tmp)"
	as_user unshare --user --map-root-user true 2>/dev/null ||
		skip "unprivileged user namespaces are disabled on this host"
}

# Nothing of container NAME is left: runtime and disk directories, mount,
# cgroup, and (in the throwaway host) veth, namespace file, nft rule.
assert_nothing_left() {
	local name=$1 mountinfo
	[ ! -e "$MINIDOCK_RUN_DIR/$name" ] || fail "state directory $MINIDOCK_RUN_DIR/$name left"
	[ ! -e "$MINIDOCK_LIB_DIR/containers/$name" ] ||
		fail "disk directory $MINIDOCK_LIB_DIR/containers/$name left"
	if [ -n "$HOLDER" ]; then
		mountinfo=$(hns cat /proc/self/mountinfo)
	else
		mountinfo=$(cat /proc/self/mountinfo)
	fi
	! grep -q -e "$MINIDOCK_RUN_DIR" -e "$MINIDOCK_LIB_DIR/containers" <<<"$mountinfo" ||
		fail "a mount is left: $(grep -e "$MINIDOCK_RUN_DIR" -e "$MINIDOCK_LIB_DIR/containers" <<<"$mountinfo")"
	[ -z "$(find /sys/fs/cgroup -type d -name "$name" 2>/dev/null)" ] ||
		fail "cgroup left: $(find /sys/fs/cgroup -type d -name "$name")"
	if [ -n "$HOLDER" ]; then
		wait_veths_gone
		run hns ip -o link show
		refute_output --partial veth
		run hns nft list ruleset
		assert_output ""
		run ls -A "$MINIDOCK_NETNS_DIR"
		[ "$status" -ne 0 ] || assert_output ""
	fi
}

# The programs from run's supervisor down to the container's COMMAND, one
# child each: " run ns-enter sleep".
process_tree() {
	local p tree=
	p=$(cut -d' ' -f1 "$MINIDOCK_RUN_DIR/$1/supervisor")
	while [ -n "$p" ]; do
		tree="$tree $(cat /proc/$p/comm)"
		p=$(cut -d' ' -f1 /proc/$p/task/$p/children)
	done
	echo "$tree"
}

# ---- the basics ----

@test "run: busybox echo hi; the exit status is the container's; --rm leaves nothing" {
	run "$RUN" --rm --network none --name "$N" busybox echo hi
	assert_success
	assert_output hi
	assert_nothing_left "$N"
	run "$RUN" --rm --network none busybox sh -c 'exit 3'
	assert_equal "$status" 3
	run -127 "$RUN" --rm --network none busybox no-such-command
	assert_equal "$status" 127
	run "$RUN" --rm --network none busybox /etc/passwd
	assert_equal "$status" 126
	# 128+N for a COMMAND killed by signal N (with --init: a PID 1 ignores
	# its own SIGTERM, as in docker run)
	run "$RUN" --rm --init --network none busybox sh -c 'kill -TERM $$'
	assert_equal "$status" 143
	run "$RUN" --rm --network none busybox sh -c 'kill -TERM $$; echo "PID 1 ignored it"'
	assert_success
	assert_output "PID 1 ignored it"
	# -i passes standard input on; without it the container reads nothing
	run sh -c "echo piped | '$RUN' -i --rm --network none busybox cat"
	assert_output piped
	run sh -c "echo piped | '$RUN' --rm --network none busybox cat"
	assert_success
	assert_output ""
	run "$C" ls -q
	assert_output ""
}

@test "run: the image's Env, Cmd and WorkingDir apply; COMMAND, -e, -w, --entrypoint override them as in docker" {
	# layers.tar: Env LAYERS=3, Cmd /opt/app/hello.sh, WorkingDir /opt/app
	run "$RUN" --rm --network none "$IMAGES/layers.tar"
	assert_success
	assert_output "hello from layer 2"
	run "$RUN" --rm --network none layers sh -c 'echo "$LAYERS $PWD $HOSTNAME"; echo "${HOME:-nohome} ${TEST_TMP:-clean}"'
	assert_success
	assert_line --index 0 --regexp '^3 /opt/app [a-z]+_[a-z]+_[0-9]+$'
	# the user's environment does not leak into the container
	assert_line --index 1 --regexp 'clean$'
	run "$RUN" --rm --network none -e LAYERS=4 -e NEW=x -w /tmp layers sh -c 'echo "$LAYERS $NEW $PWD"'
	assert_output "4 x /tmp"
	run "$RUN" --rm --network none --entrypoint /bin/echo layers from entrypoint
	assert_output "from entrypoint"
	run "$RUN" --rm --network none -u www-data busybox id
	assert_output --partial "uid=33(www-data) gid=33(www-data)"
	# HOME as docker sets it: the user's home in the image's /etc/passwd
	# (root's /root), "/" for a user it does not list; -e HOME wins.
	run "$RUN" --rm --network none busybox sh -c 'echo "$HOME"'
	assert_output "/root"
	run "$RUN" --rm --network none -u www-data busybox sh -c 'echo "$HOME"'
	assert_output "$(awk -F: '$1 == "www-data" { print $6 }' "$ROOTFS/etc/passwd")"
	run "$RUN" --rm --network none -u 4242 busybox sh -c 'echo "$HOME"'
	assert_output "/"
	run "$RUN" --rm --network none -e HOME=/srv busybox sh -c 'echo "$HOME"'
	assert_output "/srv"
	# /etc/hostname and /etc/hosts name the container
	run "$RUN" --rm --network none --name "$N" --hostname web1 busybox sh -c 'hostname; cat /etc/hostname; grep web1 /etc/hosts'
	assert_line --index 0 web1
	assert_line --index 1 web1
	assert_line --index 2 --regexp 'web1$'
}

@test "run: --memory past its limit is killed by the OOM killer: cg-limit's message, exit 137" {
	run "$RUN" --rm --network none --name "$N" --memory 32M busybox dd if=/dev/zero of=/dev/null bs=64M count=1
	assert_equal "$status" 137
	assert_output --partial "cg-limit: $N: killed by the OOM killer (memory limit 32M)"
	assert_nothing_left "$N"
}

@test "run: --pids-limit refuses forks past the limit, as cg-limit reports" {
	# The shell starts sleeps until a fork is refused (busybox sh then
	# exits with status 2); the chain's own processes count too.
	run "$RUN" --rm --network none --name "$N" --pids-limit 8 busybox sh -c \
		'for i in $(seq 20); do sleep 5 & echo "started $i"; done'
	assert_equal "$status" 2
	assert_output --partial "can't fork"
	assert_line --regexp "^cg-limit: $N: the pids limit \(8\) refused [0-9]+ forks?$"
	last=$(grep -c '^started' <<<"$output")
	[ "$last" -ge 1 ] && [ "$last" -lt 8 ] || fail "$last sleeps started under --pids-limit 8"
	assert_nothing_left "$N"
}

@test "run: --network none has only lo; --network host shares the host's" {
	run "$RUN" --rm --network none busybox ip -o link
	assert_success
	assert_line --regexp '^1: lo:'
	assert_equal "${#lines[@]}" 1
	throwaway_host
	hns ip link add mdtest0 type bridge
	run hns "$RUN" --rm --network host busybox ip -o link
	assert_output --partial mdtest0
}

@test "run: -v bind-mounts a host directory (ro with :ro); --read-only makes the root read-only" {
	mkdir "$TEST_TMP/vol"
	echo from-host >"$TEST_TMP/vol/in"
	run "$RUN" --rm --network none -v "$TEST_TMP/vol:/data" busybox sh -c 'cat /data/in; echo from-container >/data/out'
	assert_success
	assert_output from-host
	assert_equal "$(cat "$TEST_TMP/vol/out")" from-container
	run "$RUN" --rm --network none -v "$TEST_TMP/vol:/data:ro" busybox sh -c 'echo x >/data/x'
	assert_failure
	assert_output --partial "Read-only file system"
	run "$RUN" --rm --network none --read-only busybox sh -c 'echo x >/tmp/ok && echo tmp-ok; echo x >/etc/x'
	assert_failure
	assert_line tmp-ok
	assert_output --partial "Read-only file system"
}

@test "run: --cap-drop and --cap-add reach ns-enter" {
	run "$RUN" --rm --network none --cap-drop ALL busybox grep CapEff /proc/self/status
	assert_output --regexp 'CapEff:[[:space:]]+0000000000000000$'
	run "$RUN" --rm --network none busybox sh -c 'hostname other 2>&1; hostname'
	assert_output --partial "Operation not permitted"
	run "$RUN" --rm --network none --cap-add SYS_ADMIN busybox sh -c 'hostname other && hostname'
	assert_success
	assert_output other
}

@test "run: only docker's harmless devices open (cg-limit --devices container); --privileged lifts it" {
	run "$RUN" --rm --network none busybox sh -c 'echo x >/dev/null && echo null-ok; head -c 8 /dev/urandom | wc -c'
	assert_success
	assert_output "null-ok
8"
	# seccomp refuses mknod already: without it, the node is made, and
	# the devices cgroup still refuses to open it (/dev/kmsg: c 1:11)
	run "$RUN" --rm --network none --security-opt seccomp=unconfined busybox sh -c \
		'mknod /dev/kmsg c 1 11 && echo mknod-ok; : </dev/kmsg && echo open-ok'
	assert_failure
	assert_line mknod-ok
	assert_output --partial "can't open /dev/kmsg: Operation not permitted"
	refute_line open-ok
	run "$RUN" --rm --network none --privileged busybox sh -c \
		'mknod /dev/kmsg c 1 11 && echo mknod-ok; : </dev/kmsg && echo open-ok'
	assert_success
	assert_line open-ok
	run --separate-stderr "$RUN" --dry-run --name "$N" --network none busybox true
	assert_line --index 0 --regexp "cg-limit --name $N --devices container -- "
	run --separate-stderr "$RUN" --dry-run --privileged --name "$N2" --network none busybox true
	refute_output --partial -- "--devices"
	"$C" rm "$N" "$N2" >/dev/null
}

# ---- users: the image's /etc/passwd, read inside the image ----

# image_with NAME SETUP: a rootfs tarball $TEST_TMP/NAME.tar (run imports it
# as image NAME): the busybox root with SETUP run in it (sh -c, in its dir).
image_with() {
	local dir=$TEST_TMP/$1-root
	cp -a "$ROOTFS" "$dir"
	(cd "$dir" && sh -c "$2") || fail "image $1: $2 failed"
	tar -C "$dir" -cf "$TEST_TMP/$1.tar" .
}

@test "run: the container reads its own limits in /sys/fs/cgroup, read-only, as with docker run" {
	# v2: memory.max at the top; v1 (and hybrid): one directory per hierarchy.
	run "$RUN" --rm --network none --memory 64M --pids-limit 50 busybox sh -c '
		cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes
		cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max
		grep -c " /sys/fs/cgroup[/ ].* ro," /proc/self/mountinfo
		mkdir /sys/fs/cgroup/x 2>&1 || true'
	assert_success
	assert_line --index 0 67108864
	assert_line --index 1 50
	refute_line --index 2 0
	assert_line --index 3 --partial "Read-only file system"
}

@test "run: /etc/hosts, /etc/hostname and /etc/resolv.conf are the container's, writable by its root (read-only with --read-only), as with docker run" {
	run "$RUN" --rm --network none --hostname web1 busybox sh -c '
		echo "10.9.9.9 db" >> /etc/hosts && echo web2 > /etc/hostname &&
		echo "nameserver 10.9.9.1" > /etc/resolv.conf && cat /etc/hosts /etc/hostname /etc/resolv.conf'
	assert_success
	# Docker's first lines, IPv6 included
	assert_line --index 0 --regexp '^127\.0\.0\.1[[:space:]]+localhost$'
	assert_line --index 1 --regexp '^::1[[:space:]]+localhost ip6-localhost ip6-loopback$'
	assert_line --regexp '^ff02::2[[:space:]]+ip6-allrouters$'
	assert_line --regexp 'web1$'
	assert_line "10.9.9.9 db"
	assert_line web2
	assert_line "nameserver 10.9.9.1"
	run "$RUN" --rm --network none --read-only busybox sh -c 'echo x >> /etc/hosts'
	assert_failure
	assert_output --partial "Read-only file system"
}

@test "run and container exec: COMMAND gets the container's environment only, never the caller's nor the chain's MINIDOCK_* variables, as docker" {
	MINIDOCK_PROBE=1 CALLER_ONLY=1 run "$RUN" --rm --network none -e A=1 busybox env
	assert_success
	assert_line A=1
	assert_line HOME=/root
	refute_output --partial MINIDOCK_
	refute_output --partial CALLER_ONLY
	"$RUN" -d --name "$N" --network none -e A=1 busybox sleep 60 >/dev/null
	MINIDOCK_PROBE=1 CALLER_ONLY=1 run "$C" exec -e B=2 "$N" env
	"$C" rm -f "$N" >/dev/null
	assert_success
	assert_line A=1
	assert_line B=2
	refute_output --partial MINIDOCK_
	refute_output --partial CALLER_ONLY
}

@test "run -u NAME: an image whose /etc/passwd is a FIFO is refused at once, not waited on forever" {
	image_with fifo 'rm etc/passwd && mkfifo etc/passwd'
	run timeout 30 "$RUN" --rm --network none -u nobody "$TEST_TMP/fifo.tar" true
	assert_equal "$status" 125
	assert_output --partial "/etc/passwd"
	assert_output --partial "not a regular file"
	run ls -A "$MINIDOCK_RUN_DIR"
	assert_output ""
}

@test "run -u NAME: an image whose /etc/passwd links to /dev/zero is read inside the image, with a bound" {
	image_with zero 'rm etc/passwd && ln -s /dev/zero etc/passwd && mknod dev/zero c 1 5'
	# In a memory cgroup of its own: a run that reads /dev/zero to the end
	# is OOM-killed there (137) instead of filling the machine's memory.
	run timeout 30 "$MINIDOCK_BIN/cg-limit" --name "$N" --memory 256M -- \
		"$RUN" --rm --network none -u nobody "$TEST_TMP/zero.tar" true
	assert_equal "$status" 125
	assert_output --partial "/etc/passwd: not a regular file"
	# without a /dev/zero in the image, the link leads nowhere
	image_with zero2 'rm etc/passwd && ln -s /dev/zero etc/passwd'
	run timeout 30 "$MINIDOCK_BIN/cg-limit" --name "$N" --memory 256M -- \
		"$RUN" --rm --network none -u nobody "$TEST_TMP/zero2.tar" true
	assert_equal "$status" 125
	assert_output --partial "/etc/passwd: No such file or directory"
}

@test "run -u NAME: an image whose etc links to the host's /etc does not get the host's users" {
	# a user of the host's /etc/passwd that the image does not have
	user=$(cut -d: -f1 /etc/passwd | grep -vxF -f <(cut -d: -f1 "$ROOTFS/etc/passwd") | head -n1)
	[ -n "$user" ] || skip "every user of the host is also in the image"
	image_with etclink 'rm -r etc && ln -s /etc etc'
	run timeout 30 "$RUN" --rm --network none -u "$user" "$TEST_TMP/etclink.tar" id
	assert_equal "$status" 125
	assert_output --partial "--user $user: no user $user"
	refute_output --partial "uid="
}

# ---- layers and copy-on-write ----

@test "run: a second container unpacks nothing and does not see what the first one wrote" {
	run "$RUN" --network none --name "$N" busybox sh -c 'echo mine >/etc/mine; rm /etc/os-release; cat /etc/mine'
	assert_success
	assert_output mine
	layers=$(cat "$MINIDOCK_LIB_DIR/images/busybox/layers")
	before=$(stat -c '%i %Y' $layers; ls "$MINIDOCK_LIB_DIR/layers/sha256")
	run "$RUN" --rm --network none --verbose busybox sh -c 'cat /etc/mine; cat /etc/os-release >/dev/null && echo still-there'
	assert_output --partial "nothing to unpack"
	refute_output --partial "img-unpack:"
	assert_line still-there
	assert_line --partial "can't open '/etc/mine'"
	after=$(stat -c '%i %Y' $layers; ls "$MINIDOCK_LIB_DIR/layers/sha256")
	assert_equal "$after" "$before"
	# the write went to the first container's own layer, not the image's
	[ -f "$MINIDOCK_LIB_DIR/containers/$N/upper/etc/mine" ]
	[ ! -e "$layers/etc/mine" ]
	[ -e "$layers/etc/os-release" ]
	run "$C" rm "$N"
	assert_success
	assert_nothing_left "$N"
}

@test "run: without overlayfs (MINIDOCK_STORAGE=copy) a private copy of the image is used" {
	MINIDOCK_STORAGE=copy run "$RUN" --rm --network none --name "$N" busybox sh -c 'echo x >/etc/x; cat /etc/hostname'
	assert_success
	assert_output "$N"
	assert_nothing_left "$N"
}

# ---- the chain ----

@test "run: --dry-run prints the chain, one tool a line; pasted into sh it runs the same container" {
	run --separate-stderr "$RUN" --dry-run --name "$N" --memory 64M --pids-limit 20 --network none busybox sh -c 'echo "it'\''s $(hostname)"; ls /'
	assert_success
	assert_line --index 0 --regexp "cg-limit --name $N --memory 64M --pids 20 --devices container -- \\\\$"
	assert_line --index 1 --regexp "^  [^ ]*ns-enter --all --hostname $N --root [^ ]*/$N/rootfs .* -- \\\\$"
	assert_line --index 2 "  sh -c 'echo \"it'\\''s \$(hostname)\"; ls /'"
	printf '%s\n' "${lines[@]}" >"$TEST_TMP/chain.sh"
	run sh "$TEST_TMP/chain.sh"
	assert_success
	direct=$("$RUN" --rm --network none --hostname "$N" busybox sh -c 'echo "it'\''s $(hostname)"; ls /')
	assert_output "$direct"
	assert_line "it's $N"
	run "$C" rm "$N"
	assert_success
	assert_nothing_left "$N"
	# --verbose goes to every tool
	run --separate-stderr "$RUN" --dry-run --verbose --name "$N" busybox true
	assert_equal "$(grep -c -- '--verbose -- \\$' <<<"$output")" 3
	"$C" rm "$N"
}

@test "run: bad input is refused with a clear error, exit 125, and nothing is created" {
	bad() {
		run "$RUN" "$@"
		assert_equal "$status" 125
		assert_output --partial "$expect"
		run ls -A "$MINIDOCK_RUN_DIR"
		[ "$status" -ne 0 ] || assert_output ""
	}
	expect="image nosuchimage: unknown; import it" bad --network none nosuchimage true
	expect="make images" bad --network none nosuchimage true
	expect="--memory 64X: expected a size" bad --memory 64X busybox true
	expect="--cpus 0: expected a positive number" bad --cpus 0 busybox true
	expect="--pids-limit -1: expected a positive number" bad --pids-limit -1 busybox true
	expect="--network foo: expected bridge, none, host or a network of network ls" bad --network foo busybox true
	expect="--publish 80: expected" bad -p 80 busybox true
	expect="--publish 8080:70000: expected" bad -p 8080:70000 busybox true
	expect="--volume $TEST_TMP/nothere:/x: $TEST_TMP/nothere: No such file" bad -v "$TEST_TMP/nothere:/x" busybox true
	expect="--name a/b: use 1 to 64 of" bad --name a/b busybox true
	expect="no IMAGE given" bad
	expect="unrecognized option" bad --no-such-option busybox true
	# a name in use
	run "$RUN" --network none --name "$N" busybox true
	assert_success
	run "$RUN" --network none --name "$N" busybox echo second
	assert_equal "$status" 125
	assert_output --partial "name $N: already in use"
	refute_output --partial second
	"$C" rm "$N"
}

# ---- detached containers ----

@test "run -d, container ls, logs, exec, stop, rm" {
	run "$RUN" -d --network none --name "$N" busybox sh -c 'echo hello; trap "echo bye; exit 0" TERM; while :; do sleep 0.1; done'
	assert_success
	assert_output "$N"
	run "$C" ls
	assert_line --index 0 --regexp '^NAME +IMAGE +COMMAND +STATE +UPTIME +NETWORK +ADDRESS +PORTS$'
	assert_line --index 1 --regexp "^$N +busybox +sh -c echo hello.* +running +[0-9]+s "
	# exec sees the container's processes: its PID 1, the loop (not its
	# sleep: Ubuntu's busybox sh runs sleep without a fork, NOFORK applet)
	run "$C" exec "$N" sh -c 'hostname; ps -o pid,args | grep -q "^ *1 .*echo hello" && echo sees-pid1; exit 4'
	assert_equal "$status" 4
	assert_line --index 0 "$N"
	assert_line sees-pid1
	run "$C" exec "$N" cat /proc/1/cmdline
	assert_success
	for _ in $(seq 50); do grep -q hello "$MINIDOCK_LIB_DIR/containers/$N/log" && break; sleep 0.05; done
	run "$C" logs "$N"
	assert_output hello
	run script -qec "$C exec -it $N sh -c 'test -t 0 && echo tty-in; stty size'" /dev/null
	assert_output --partial tty-in
	# as docker rm: each name it cannot remove is said, and the status is 1
	run "$C" rm "$N"
	assert_equal "$status" 1
	assert_output --partial "still running"
	run "$C" stop -t 5 "$N"
	assert_success
	run "$C" logs "$N"
	assert_output "hello
bye"
	run "$C" ls
	assert_line --index 1 --regexp "^$N .* exited \(0\) "
	run "$C" exec "$N" true
	assert_equal "$status" 125
	assert_output --partial "not running"
	run "$C" rm "$N"
	assert_success
	assert_nothing_left "$N"
	run "$C" ls -q
	assert_output ""
}

@test "container: a state file hand-edited to a wrong type is named, never a crash" {
	run "$RUN" -d --network none --name "$N" busybox sleep 60
	assert_success
	cfg=$MINIDOCK_RUN_DIR/$N/config.json
	sed -i 's/"PATH=[^"]*"/1/' "$cfg"
	grep -q '^ *1,\?$' "$cfg" || fail "no PATH in the env of $cfg: $(cat "$cfg")"
	run "$C" exec "$N" true
	assert_equal "$status" 125
	assert_output --partial "$cfg"
	assert_output --partial '"env"'
	run "$C" ls
	assert_success
	assert_line --regexp "^$N +busybox +sleep 60 +running "
	assert_output --partial "$cfg"
	# not JSON at all: ls says so and goes on; rm -f still removes it
	echo '{ broken' >"$cfg"
	run "$C" ls
	assert_success
	assert_line --regexp "^$N +.* running "
	assert_output --partial "$cfg"
	run "$C" ls -q
	assert_output "$N"
	run "$C" rm -f "$N"
	assert_success
	assert_nothing_left "$N"
}

@test "container exec: the new process joins the container's cgroups, as docker exec" {
	run "$RUN" -d --network none --name "$N" --memory 64M --pids-limit 50 busybox sleep 60
	assert_success
	run "$C" exec "$N" sh -c 'cat /proc/1/cgroup; echo ---; cat /proc/self/cgroup'
	assert_success
	init=$(sed '/^---$/,$d' <<<"$output")
	exec=$(sed '1,/^---$/d' <<<"$output")
	# in the container's cgroup namespace its own cgroup is "/"; a process
	# left in the caller's cgroup would show a path like /../..
	assert_equal "$exec" "$init"
	if grep -q ':memory:' <<<"$init"; then
		assert_line --regexp '^[0-9]+:memory:/$'
	fi
	"$C" rm -f "$N" >/dev/null
}

@test "run -d: logs -f follows until the container stops; stop sends SIGKILL after -t; a failed start is reported" {
	"$RUN" -d --network none --name "$N" busybox sh -c 'trap "" TERM; for i in 1 2 3; do echo line$i; sleep 0.1; done; while :; do sleep 0.1; done' >/dev/null
	( sleep 0.6; "$C" stop -t 1 "$N" >/dev/null ) &
	start=$(date +%s%N)
	run timeout 10 "$C" logs -f "$N"
	assert_success
	assert_output "line1
line2
line3"
	wait
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$elapsed" -ge 1400 ] || fail "stop did not wait for -t 1 before SIGKILL (${elapsed} ms)"
	run "$C" ls
	assert_line --index 1 --regexp "^$N .* exited \(137\) "
	"$C" rm "$N"
	run -127 "$RUN" -d --network none --name "$N" busybox no-such-command
	assert_output --partial "no-such-command"
	"$C" rm "$N"
}

@test "run -t: a terminal inside (window size, TERM); -it: Ctrl-C reaches the container's job, Ctrl-D ends the shell" {
	command -v script >/dev/null || skip "script (util-linux) not installed"
	run script -qec "stty rows 33 cols 77; $RUN --rm -t --network none busybox sh -c 'stty size; echo \$TERM; test -t 0 && echo tty-in; tty'" /dev/null
	assert_success
	assert_output --partial /dev/console
	assert_output --partial "33 77"
	assert_output --partial xterm
	assert_output --partial tty-in
	command -v tmux >/dev/null || skip "tmux not installed"
	sock=$TEST_TMP/tmux
	tmux -S "$sock" new-session -d -x 90 -y 20 "$RUN --rm -it --network none --name $N busybox sh; echo EXIT=\$? >$TEST_TMP/exit; sleep 30"
	screen() { tmux -S "$sock" capture-pane -p; }
	wait_screen() { for _ in $(seq 100); do screen | grep -q -- "$1" && return 0; sleep 0.05; done; screen; return 1; }
	wait_screen '# *$'
	tmux -S "$sock" send-keys 'stty size' Enter
	wait_screen '^[0-9][0-9]* 90 *$'
	# the window grows: SIGWINCH, and the pty follows
	tmux -S "$sock" resize-window -x 101
	for _ in $(seq 20); do
		tmux -S "$sock" send-keys 'stty size' Enter
		sleep 0.1
		screen | grep -q '^[0-9][0-9]* 101 *$' && break
	done
	wait_screen '^[0-9][0-9]* 101 *$'
	tmux -S "$sock" send-keys 'sleep 30; echo after-sleep' Enter
	sleep 0.3
	tmux -S "$sock" send-keys C-c
	tmux -S "$sock" send-keys 'echo still-here' Enter
	wait_screen '^still-here'
	run screen
	refute_line after-sleep
	tmux -S "$sock" send-keys C-d
	for _ in $(seq 100); do [ -s "$TEST_TMP/exit" ] && break; sleep 0.05; done
	tmux -S "$sock" kill-server
	assert_equal "$(cat "$TEST_TMP/exit")" "EXIT=0"
	assert_nothing_left "$N"
}

# ---- rootless ----

@test "run as an ordinary user: a user namespace maps it to root; images and state in its own directories; limits and bridge refused" {
	rootless_setup
	R=$TEST_TMP/bin/run
	run as_user "$R" --rm busybox id
	assert_success
	assert_output "uid=0(root) gid=0(root)"
	# the single-ID map: root inside is the user outside
	run as_user "$R" --rm --name "$N" busybox sh -c 'cat /proc/self/uid_map; hostname; ip -o link | wc -l'
	assert_success
	assert_line --index 0 --regexp "^ +0 +$ROOTLESS_UID +1$"
	assert_line --index 1 "$N"
	assert_line --index 2 1
	[ -f "$TEST_TMP/home/.local/share/minidock/images/busybox/config.json" ] ||
		fail "the image is not recorded under ~/.local/share/minidock"
	run ls -A "$TEST_TMP/home/run/minidock"
	assert_output ""
	# what needs root is refused, with the reason
	run as_user "$R" --rm --network bridge busybox true
	assert_equal "$status" 125
	assert_output --partial "--network bridge needs root"
	run as_user "$R" --rm --memory 64M busybox true
	assert_equal "$status" 125
	assert_output --partial "--memory 64M: resource limits need root"
	run as_user "$R" --rm -p 8080:80 busybox true
	assert_equal "$status" 125
	# the chain: ns-enter --userns alone
	run --separate-stderr as_user "$R" --dry-run --name "$N" busybox true
	assert_line --index 0 --regexp "ns-enter --userns --all --hostname $N "
	refute_output --partial cg-limit
	as_user "$TEST_TMP/bin/container" rm "$N" >/dev/null
	# detached, then exec and rm, all as the user
	run as_user "$R" -d --name "$N" busybox sleep 60
	assert_success
	run as_user "$TEST_TMP/bin/container" exec "$N" sh -c 'id -u; hostname; ps -o comm | grep -c sleep'
	assert_success
	assert_output "0
$N
1"
	run as_user "$TEST_TMP/bin/container" rm -f "$N"
	assert_success
	run ls -A "$TEST_TMP/home/run/minidock"
	assert_output ""
}

# ---- bridged containers, in a throwaway host ----

@test "run: two bridged containers talk; -p reaches busybox httpd from the host side; container ls shows address and ports" {
	throwaway_host
	run hns "$RUN" -d --name "$N" -p 8080:80 busybox httpd -f -p 80 -h /www
	assert_success
	run hns "$C" ls
	assert_line --regexp "^$N +busybox +httpd -f -p 80 -h /www +running +[0-9]+s +bridge +10\.[0-9.]+ +8080:80$"
	addr=$(grep "^$N " <<<"$output" | grep -o ' 10\.[0-9.]*' | tr -d ' ')
	for _ in $(seq 50); do hns "$C" exec "$N" netstat -ltn | grep -q ':80 ' && break; sleep 0.05; done
	run hns "$RUN" --rm --name "$N2" busybox sh -c "timeout 5 wget -q -O - http://$addr/; ping -c1 -W2 $addr >/dev/null && echo ping-ok"
	assert_success
	assert_line "<h1>Hello from a minidock container</h1>"
	assert_line ping-ok
	run hns timeout 5 busybox wget -q -O - http://127.0.0.1:8080/
	assert_output "<h1>Hello from a minidock container</h1>"
	run hns "$C" stop -t 1 "$N"
	assert_success
	run hns "$C" rm "$N"
	assert_success
	assert_nothing_left "$N"
	assert_nothing_left "$N2"
}

@test "run -d: one process waits beside the container (cg-limit and net-bridge --exec); stop, or an OOM kill, undoes every step" {
	throwaway_host
	run hns "$RUN" -d --name "$N" --memory 64M busybox sleep 60
	assert_success
	# run's supervisor -> ns-enter (cg-limit and net-bridge became it) ->
	# sleep, PID 1 of the container (no --init): nothing else waits
	assert_equal "$(process_tree "$N")" " run ns-enter sleep"
	# PID 1 without a handler ignores SIGTERM (as with docker run): stop
	# waits -t 1, then SIGKILL
	run hns "$C" stop -t 1 "$N"
	assert_success
	run hns "$C" ls
	assert_line --regexp "^$N .* exited \(137\) "
	# stopped, not removed: its cgroup and network are gone already
	[ -z "$(find /sys/fs/cgroup -type d -name "$N" 2>/dev/null)" ] || fail "cgroup left after stop"
	run hns ip -o link show
	refute_output --partial veth
	run hns "$C" rm "$N"
	assert_success
	assert_nothing_left "$N"
	# killed by the OOM killer: its log says so, as cg-limit does in the chain
	run hns "$RUN" -d --name "$N2" --memory 32M busybox sh -c 'sleep 0.2; dd if=/dev/zero of=/dev/null bs=64M count=1'
	assert_success
	for _ in $(seq 100); do hns "$C" ls | grep -q "^$N2 .* exited" && break; sleep 0.05; done
	run hns "$C" ls
	assert_line --regexp "^$N2 .* exited \(137\) "
	run hns "$C" logs "$N2"
	assert_line "cg-limit: $N2: the OOM killer killed 1 process (memory limit 32M)"
	run hns "$C" rm "$N2"
	assert_success
	assert_nothing_left "$N2"
}

@test "run: COMMAND is PID 1 as with docker run; --init puts ns-enter's init there, which passes SIGTERM on and reaps orphans" {
	run "$RUN" --rm --network none busybox sh -c 'echo "pid $$ $(cat /proc/1/comm)"'
	assert_success
	assert_output "pid 1 sh"
	run "$RUN" --rm --init --network none busybox sh -c 'echo "pid $$ $(cat /proc/1/comm)"'
	assert_success
	assert_output "pid 2 ns-enter"
	run "$RUN" -d --init --network none --name "$N" busybox sleep 60
	assert_success
	assert_equal "$(process_tree "$N")" " run ns-enter ns-enter sleep"
	# SIGTERM reaches sleep through the init: no -t wait, status 143
	start=$(date +%s%N)
	run "$C" stop -t 10 "$N"
	assert_success
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$elapsed" -lt 5000 ] || fail "stop waited ${elapsed} ms: SIGTERM did not reach sleep"
	run "$C" ls
	assert_line --regexp "^$N .* exited \(143\) "
	"$C" rm "$N"
	# the init reaps an orphan: no zombie is left under PID 1
	run "$RUN" --rm --init --network none busybox sh -c '(sleep 0.1 &) ; sleep 0.5; ps -o stat,comm | grep -c "^Z" || true'
	assert_success
	assert_output 0
}

@test "run: --rm with a bridge leaves no mount, cgroup, veth, namespace file, nft rule or state directory" {
	throwaway_host
	run hns "$RUN" --rm --name "$N" -p 8081:80 --memory 64M busybox sh -c 'ip -4 -o addr show eth0; cat /etc/resolv.conf; grep -c . /etc/hosts'
	assert_success
	assert_output --regexp 'eth0 +inet 10\.'
	assert_output --partial nameserver
	assert_nothing_left "$N"
}

@test "run: kill -9 of run mid-way, then container rm -f (or prune), leaves nothing" {
	throwaway_host
	hns "$RUN" --name "$N" -p 8082:80 --memory 64M busybox sleep 60 &
	runpid=$!
	for _ in $(seq 100); do hns "$C" ls | grep -q "^$N .* running" && break; sleep 0.05; done
	hns "$C" exec "$N" true || fail "the container did not start"
	kill -9 "$runpid"
	wait "$runpid" || true
	run hns "$C" rm -f "$N"
	assert_success
	assert_nothing_left "$N"
	# a detached container whose supervisor dies: the chain gets SIGTERM
	# (PR_SET_PDEATHSIG), passed on by the init, and ends; prune cleans
	run hns "$RUN" -d --init --name "$N2" busybox sleep 60
	assert_success
	kill -9 "$(cut -d' ' -f1 "$MINIDOCK_RUN_DIR/$N2/supervisor")"
	for _ in $(seq 100); do hns "$C" ls | grep -q "^$N2 .* dead" && break; sleep 0.05; done
	run hns "$C" ls
	assert_line --regexp "^$N2 .* dead "
	run hns "$C" prune
	assert_success
	assert_output "$N2"
	assert_nothing_left "$N2"
	# without --init, sleep as PID 1 ignores that SIGTERM and runs on,
	# unsupervised (as a docker container whose shim died): rm -f ends it
	# and removes everything
	run hns "$RUN" -d --name "$N2" busybox sleep 60
	assert_success
	kill -9 "$(cut -d' ' -f1 "$MINIDOCK_RUN_DIR/$N2/supervisor")"
	sleep 0.3
	run hns "$C" ls
	assert_line --regexp "^$N2 .* running "
	run hns "$C" rm -f "$N2"
	assert_success
	assert_nothing_left "$N2"
}
