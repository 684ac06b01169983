#!/usr/bin/env bats
# ns-enter.bats - what a user of ns-enter observes: each namespace seen from
# inside and from the host, the new root and what is (not) reachable from
# it, PID 1's duties, exit codes, --target, and that bad input is refused
# with 125 and leaves nothing behind.

load helpers
bats_require_minimum_version 1.5.0

setup() {
	common_setup
	require_root
	NS=$MINIDOCK_BIN/ns-enter
	[ -x "$NS" ] || skip "no $NS (make)"
	[ -x "$ROOTFS/bin/busybox" ] || skip "no busybox rootfs (make images)"
	chmod 755 "$TEST_TMP"
}

teardown() { common_teardown; }

# Run ns-enter as nobody: user namespaces are for unprivileged users too.
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

# The host's mount table, as mount points: what ns-enter must leave as it
# found it.  Other suites' test directories are left out: they may run at
# the same time on a shared machine (ours, $TEST_TMP, is kept).
host_mounts() {
	awk -v t="$TEST_TMP" '$5 !~ "^/tmp/" || index($5, t) == 1 { print $5 }' \
		/proc/self/mountinfo | sort
}

# Wait (up to 5 s) until FILE contains TEXT.
wait_for() {
	local i
	for i in $(seq 50); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "timed out waiting for '$2' in $1"
}

# ---- smoke ----

@test "ns-enter: --help shows the synopsis, --version the version" {
	run "$NS" --help
	assert_success
	assert_output --partial "Usage: ns-enter"
	assert_output --partial "--target PID"
	run "$NS" --version
	assert_success
	assert_output --partial "ns-enter (minidock)"
}

@test "ns-enter: a container runs a command and passes its output" {
	run "$NS" --all --root "$ROOTFS" -- /bin/echo hello
	assert_success
	assert_output "hello"
}

# ---- every namespace, from inside and outside ----

@test "uts: --hostname changes the hostname inside only" {
	before=$(hostname)
	run "$NS" --uts --hostname inside-box -- hostname
	assert_success
	assert_output "inside-box"
	assert_equal "$(hostname)" "$before"
}

@test "pid: ps inside shows PID 1 and only the container's processes" {
	run "$NS" --all --root "$ROOTFS" -- /bin/ps -o pid,comm
	assert_success
	assert_line --regexp '^ +1 ns-enter$'
	assert_line --regexp '^ +2 ps$'
	assert_equal "${#lines[@]}" 3      # header, init, ps
	# The host sees the same processes under other numbers.
	run "$NS" --pid --mount -- sh -c 'echo $$'
	assert_output "2"
}

@test "pid: without init, COMMAND is PID 1" {
	run "$NS" --all --no-init --root "$ROOTFS" -- /bin/sh -c 'echo $$'
	assert_success
	assert_output "1"
}

@test "net: a new network namespace has only lo, and it is up" {
	run "$NS" --net -- ip -o link show
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_output --regexp '^1: lo: <LOOPBACK,UP'
	[ "$(ip -o link show | wc -l)" -ge 1 ]
	refute [ "$(readlink /proc/self/ns/net)" = "$("$NS" --net -- readlink /proc/self/ns/net)" ]
}

@test "net: --net=FILE joins an existing network namespace" {
	# A namespace kept alive by a bind mount on a file, as ip netns does.
	mount --bind "$TEST_TMP" "$TEST_TMP"
	mount --make-private "$TEST_TMP"
	touch "$TEST_TMP/netns"
	unshare --net="$TEST_TMP/netns" true
	nsenter --net="$TEST_TMP/netns" ip link add probe0 type veth peer name probe1
	run "$NS" --net="$TEST_TMP/netns" -- ip -o link show
	assert_success
	assert_output --partial "probe0"
	# With --root too: the file is opened before pivot_root.
	run "$NS" --all --net="$TEST_TMP/netns" --root "$ROOTFS" -- ip -o link
	assert_success
	assert_output --partial "probe0"
}

@test "ipc: a System V segment made inside is invisible outside" {
	before=$(ipcs -m)
	run "$NS" --ipc -- sh -c 'ipcmk -M 4096 >/dev/null && ipcs -m | grep -c "^0x"'
	assert_success
	assert_output "1"
	assert_equal "$(ipcs -m)" "$before"
}

@test "ipc: --root with --ipc mounts /dev/mqueue" {
	run "$NS" --all --root "$ROOTFS" -- /bin/sh -c 'grep " /dev/mqueue " /proc/self/mountinfo'
	assert_success
	assert_output --partial "mqueue"
}

@test "mount: a mount made inside is invisible on the host" {
	mkdir "$TEST_TMP/mnt"
	run "$NS" --mount --privileged -- sh -c \
		"mount -t tmpfs inside-only $TEST_TMP/mnt && grep -c inside-only /proc/self/mountinfo"
	assert_success
	assert_output "1"
	run grep -c inside-only /proc/self/mountinfo
	assert_output "0"
}

@test "cgroup: /proc/self/cgroup shows / under --cgroup" {
	run "$NS" --cgroup -- cat /proc/self/cgroup
	assert_success
	refute_line --regexp ':/.+$'
	assert_line --regexp ':/$'
}

@test "user: an unprivileged user is root inside --userns" {
	command -v setpriv >/dev/null || skip "no setpriv (util-linux)"
	run as_nobody "$NS" --userns -- id -u
	assert_success
	assert_output "0"
	# ...and is still nobody for the host: the map says so.
	run as_nobody "$NS" --userns -- cat /proc/self/uid_map
	assert_output --regexp '^ +0 +65534 +1$'
}

@test "user: an unprivileged user runs a whole container with --userns" {
	command -v setpriv >/dev/null || skip "no setpriv (util-linux)"
	run as_nobody "$NS" --userns --all --hostname box --root "$ROOTFS" -- \
		/bin/sh -c 'id; hostname; ps -o pid,comm; ls /sys/class >/dev/null && echo sys'
	assert_success
	assert_line "uid=0(root) gid=0(root)"
	assert_line "box"
	assert_line --regexp '^ +1 ns-enter$'
	assert_line "sys"
}

@test "time: --time gives a new time namespace" {
	run "$NS" --time -- readlink /proc/self/ns/time
	assert_success
	refute_output "$(readlink /proc/self/ns/time)"
	assert_output --regexp '^time:\[[0-9]+\]$'
}

@test "time: --time-offset boottime=86400 puts the uptime a day ahead, for root and nobody" {
	host=$(cut -d. -f1 /proc/uptime)
	run "$NS" --time-offset boottime=86400 -- cat /proc/uptime
	assert_success
	[ "${output%%.*}" -ge $((host + 86400)) ] || fail "uptime inside: $output, host: $host"
	# both clocks, as the kernel shows the namespace's offsets
	run "$NS" --time-offset boottime=86400,monotonic=3600 -- cat /proc/self/timens_offsets
	assert_success
	assert_line --regexp '^monotonic +3600 +0$'
	assert_line --regexp '^boottime +86400 +0$'
	# a whole container: busybox's uptime (the TP's command)
	run "$NS" --all --time-offset boottime=86400 --root "$ROOTFS" -- uptime
	assert_success
	assert_output --partial "up 1 day"
	# written after unshare, before the first child is in the namespace
	run "$NS" --verbose --time-offset monotonic=3600 -- true
	assert_success
	assert_equal "$(grep -n -e 'unshare(CLONE_NEWTIME)' -e timens_offsets -e 'clone3(' <<<"$output" | cut -d: -f3-)" \
		" unshare(CLONE_NEWTIME)
 write /proc/self/timens_offsets = \"monotonic 3600 0\"
 clone3(0)"
	# an ordinary user, in a user namespace of its own
	command -v setpriv >/dev/null || skip "no setpriv (util-linux)"
	host=$(cut -d. -f1 /proc/uptime)
	run as_nobody "$NS" --userns --time-offset boottime=86400 -- cat /proc/uptime
	assert_success
	[ "${output%%.*}" -ge $((host + 86400)) ] || fail "uptime inside: $output, host: $host"
}

@test "time: a bad --time-offset is refused with the reason and 125" {
	run "$NS" --time-offset boottime=abc -- true
	assert_equal "$status" 125
	assert_output "ns-enter: --time-offset boottime=abc: 'abc' is not a whole number of seconds"
	run "$NS" --time-offset uptime=5 -- true
	assert_equal "$status" 125
	assert_output "ns-enter: --time-offset uptime=5: expected boottime=SECONDS, monotonic=SECONDS or both, comma-separated"
	run "$NS" --time-offset boottime=1,boottime=2 -- true
	assert_equal "$status" 125
	assert_output "ns-enter: --time-offset boottime=1,boottime=2: boottime given twice"
	run "$NS" --time-offset "" -- true
	assert_equal "$status" 125
	assert_output --partial "ns-enter: --time-offset : expected boottime=SECONDS"
	# the kernel's own limit: a clock may not go below zero
	run "$NS" --time-offset boottime=-99999999999 -- true
	assert_equal "$status" 125
	assert_output 'ns-enter: write /proc/self/timens_offsets = "boottime -99999999999 0": Numerical result out of range'
}

# ---- the root filesystem ----

@test "root: the host's filesystem is unreachable, also via /proc/1/root and .." {
	echo secret > "$TEST_TMP/host-marker"
	image="$(ls "$ROOTFS" | tr '\n' ' ')"
	# --privileged: even with every capability (so /proc/1/root opens).
	for security in "" --privileged; do
		run "$NS" --all $security --root "$ROOTFS" -- /bin/sh -c "
			cat $TEST_TMP/host-marker
			cat /proc/1/root$TEST_TMP/host-marker
			cd /../../.. && cat .$TEST_TMP/host-marker
			ls /proc/self/root/ | tr '\n' ' '; echo
			[ \"\$(stat -c %i /..)\" = \"\$(stat -c %i /)\" ] && echo dotdot-is-root"
		refute_output --partial secret
		assert_line "$image"
		assert_line "dotdot-is-root"
	done
	run "$NS" --all --privileged --root "$ROOTFS" -- /bin/ls /proc/1/root/www
	assert_output "index.html"
}

@test "root: PID 1 is not dumpable: /proc/1/root and /proc/1/exe are closed" {
	run "$NS" --all --root "$ROOTFS" -- /bin/sh -c 'ls /proc/1/root/ || readlink /proc/1/exe || echo closed'
	assert_line "closed"
}

@test "root: the container's mount table holds only its own mounts" {
	run "$NS" --all --root "$ROOTFS" -- /bin/sh -c 'cut -d" " -f5 /proc/self/mountinfo'
	assert_success
	for m in / /proc /sys /dev /dev/null /dev/pts /dev/shm /dev/mqueue; do
		assert_line "$m"
	done
	# Nothing else but what /proc, /sys and /dev hold (masked paths...).
	refute_line --regexp '^/[^pds]'
	refute_line --regexp '^/(p[^r]|s[^y]|d[^e])'
}

@test "root: /dev is minimal, /sys read-only, /proc fresh" {
	run "$NS" --all --root "$ROOTFS" -- /bin/sh -c '
		ls /dev | tr "\n" " "; echo
		ls /dev/pts | tr "\n" " "; echo
		echo data > /dev/null && head -c 4 /dev/zero | wc -c
		touch /sys/x 2>/dev/null || echo sys-ro
		for l in stdin fd ptmx; do readlink /dev/$l; done | tr "\n" " "; echo'
	assert_success
	assert_line "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero "
	assert_line "ptmx "
	assert_line "4"
	assert_line "sys-ro"
	assert_line "/proc/self/fd/0 /proc/self/fd pts/ptmx "
}

@test "root: --read-only makes / read-only with a writable /tmp" {
	run "$NS" --all --read-only --root "$ROOTFS" -- /bin/sh -c '
		touch /etc/x 2>/dev/null || echo root-ro
		touch /tmp/x && echo tmp-rw'
	assert_success
	assert_line "root-ro"
	assert_line "tmp-rw"
	[ ! -e "$ROOTFS/etc/x" ]
}

@test "root: --volume binds a directory or a file, read-only with :ro" {
	mkdir "$TEST_TMP/data"
	echo from-host > "$TEST_TMP/data/in"
	echo a-file > "$TEST_TMP/file"
	# Missing mount points are created in the root, as docker does: use a
	# copy, so the shared teaching rootfs stays as it was built.
	cp -a "$ROOTFS" "$TEST_TMP/rootfs"
	run "$NS" --all --root "$TEST_TMP/rootfs" \
		--volume "$TEST_TMP/data:/mnt/data" \
		--volume "$TEST_TMP/file:/mnt/file:ro" -- /bin/sh -c '
		cat /mnt/data/in /mnt/file
		echo from-container > /mnt/data/out
		echo x >> /mnt/file 2>/dev/null || echo file-ro'
	assert_success
	assert_line "from-host"
	assert_line "a-file"
	assert_line "file-ro"
	assert_equal "$(cat "$TEST_TMP/data/out")" "from-container"
	assert_equal "$(cat "$TEST_TMP/file")" "a-file"
	[ -d "$TEST_TMP/rootfs/mnt/data" ] && [ -f "$TEST_TMP/rootfs/mnt/file" ]
	[ ! -e "$ROOTFS/mnt/data" ] && [ ! -e "$ROOTFS/mnt/file" ]
}

@test "root: --tmpfs mounts a tmpfs (nosuid,nodev,noexec unless told), parents before the volumes below them" {
	mkdir "$TEST_TMP/data"
	echo from-host > "$TEST_TMP/data/in"
	cp -a "$ROOTFS" "$TEST_TMP/rootfs"
	# the volume is given first, below the tmpfs: mounted after it, as docker
	run "$NS" --all --read-only --root "$TEST_TMP/rootfs" \
		--volume "$TEST_TMP/data:/run/data" \
		--tmpfs /run:size=1m,mode=1777 --tmpfs /mnt/x:ro,exec -- /bin/sh -c '
		grep " /run " /proc/mounts; grep " /mnt/x " /proc/mounts
		cat /run/data/in; touch /run/f && echo run-writable
		touch /mnt/x/f 2>/dev/null || echo x-ro'
	assert_success
	assert_line --regexp '^tmpfs /run tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k'
	assert_line --regexp '^tmpfs /mnt/x tmpfs ro,nosuid,nodev,relatime'
	assert_line from-host
	assert_line run-writable
	assert_line x-ro
	[ ! -e "$TEST_TMP/rootfs/run/f" ] || fail "the tmpfs wrote into the root"
}

@test "root: --workdir, --env and --user apply to COMMAND" {
	run "$NS" --all --root "$ROOTFS" --workdir /www --env GREETING=hi \
		--env PATH=/bin:/sbin --user 33 -- /bin/sh -c 'pwd; echo $GREETING $PATH; id'
	assert_success
	assert_line "/www"
	assert_line "hi /bin:/sbin"
	assert_line "uid=33(www-data) gid=33(www-data)"
	run "$NS" --all --root "$ROOTFS" --user 65534:0 -- id
	assert_output "uid=65534(nobody) gid=0(root)"
}

# ---- PID 1 and the supervisor ----

@test "init: orphans are reaped, no zombie is left" {
	run "$NS" --all --root "$ROOTFS" -- /bin/sh -c '
		(sleep 0.2 &)
		sleep 0.8
		cat /proc/[0-9]*/stat'
	assert_success
	refute_output --regexp '\) Z '
	assert_output --partial "(ns-enter) S"
}

@test "init: a signal sent to ns-enter reaches COMMAND" {
	"$NS" --all --root "$ROOTFS" -- /bin/sh -c '
		trap "echo got-USR1; exit 7" USR1
		echo ready
		while :; do sleep 0.05; done' >"$TEST_TMP/out" 3>&- &
	pid=$!
	wait_for "$TEST_TMP/out" ready
	kill -USR1 "$pid"
	status=0; wait "$pid" || status=$?
	assert_equal "$status" 7
	assert_equal "$(tail -n1 "$TEST_TMP/out")" "got-USR1"
}

@test "init: SIGTERM gives 143 and SIGINT 130" {
	"$NS" --all --root "$ROOTFS" -- /bin/sh -c 'echo ready; exec sleep 60' \
		>"$TEST_TMP/out" 3>&- &
	pid=$!
	wait_for "$TEST_TMP/out" ready
	kill -TERM "$pid"
	status=0; wait "$pid" || status=$?
	assert_equal "$status" 143

	: >"$TEST_TMP/out"
	"$NS" --all --root "$ROOTFS" -- /bin/sh -c 'echo ready; exec sleep 60' \
		>"$TEST_TMP/out" 3>&- &
	pid=$!
	wait_for "$TEST_TMP/out" ready
	kill -INT "$pid"
	status=0; wait "$pid" || status=$?
	assert_equal "$status" 130
}

@test "init: without init, PID 1 ignores a SIGTERM it has no handler for" {
	"$NS" --all --no-init --root "$ROOTFS" -- /bin/sh -c 'echo ready; exec sleep 60' \
		>"$TEST_TMP/out" 3>&- &
	pid=$!
	wait_for "$TEST_TMP/out" ready
	kill -TERM "$pid"
	sleep 0.3
	kill -0 "$pid"          # the supervisor still waits: sleep is alive
	kill -KILL "$(pgrep -P "$pid")"
	status=0; wait "$pid" || status=$?
	assert_equal "$status" 137
}

@test "init: Ctrl-C at an interactive shell reaches the shell, not ns-enter" {
	command -v script >/dev/null || skip "no script(1) (util-linux)"
	run timeout 20 script -qec "$NS --all --root $ROOTFS -- /bin/sh -i" /dev/null < <(
		sleep 1; printf 'sleep 30\n'; sleep 1; printf '\003'
		sleep 0.3; printf 'echo alive-$?\n'; sleep 0.3; printf 'exit 4\n'; sleep 0.5)
	assert_equal "$status" 4
	assert_output --partial "alive-130"
}

@test "exit status: 0, COMMAND's own, 126, 127" {
	run "$NS" --all --root "$ROOTFS" -- /bin/true
	assert_success
	run "$NS" --all --root "$ROOTFS" -- /bin/sh -c 'exit 3'
	assert_equal "$status" 3
	run "$NS" --all --root "$ROOTFS" -- /etc/passwd
	assert_equal "$status" 126
	assert_output "ns-enter: /etc/passwd: Permission denied"
	run -127 "$NS" --all --root "$ROOTFS" -- /no/such/command
	assert_equal "$status" 127
	assert_output "ns-enter: /no/such/command: No such file or directory"
	run -127 "$NS" --all --root "$ROOTFS" -- bash      # busybox has no bash
}

# ---- --target ----

@test "target: joins a running container's namespaces, root and workdir" {
	"$NS" --all --hostname target-box --root "$ROOTFS" --workdir /www -- \
		/bin/sh -c 'echo ready; exec sleep 60' >"$TEST_TMP/out" 3>&- &
	pid=$!
	wait_for "$TEST_TMP/out" ready
	init=$(pgrep -P "$pid")
	run "$NS" --target "$init" -- /bin/sh -c 'hostname; pwd; ps -o pid,comm; ls /www'
	assert_success
	assert_line "target-box"
	assert_line "/www"
	assert_line --regexp '^ +1 ns-enter$'
	assert_line --regexp '^ +2 sleep$'
	assert_line "index.html"
	run "$NS" --target "$init" --workdir /etc --env X=y -- /bin/sh -c 'pwd; echo $X'
	assert_output "/etc
y"
	kill "$pid"
	wait "$pid" || true
	run "$NS" --target "$init" -- /bin/true
	assert_equal "$status" 125
	assert_output "ns-enter: --target $init: no such process"
}

@test "target: an unprivileged user enters its own --userns container" {
	command -v setpriv >/dev/null || skip "no setpriv (util-linux)"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$NS" --userns --all --hostname user-box --root "$ROOTFS" -- \
		/bin/sh -c 'echo ready; exec sleep 60' >"$TEST_TMP/out" 3>&- &
	pid=$!
	wait_for "$TEST_TMP/out" ready
	# PID 2 (sleep): the init is not dumpable, so not open to its own user.
	command=$(pgrep -P "$(pgrep -P "$pid")")
	run as_nobody "$NS" --target "$command" -- /bin/sh -c 'hostname; id -u; ps -o pid,comm'
	assert_success
	assert_line "user-box"
	assert_line "0"
	assert_line --regexp '^ +2 sleep$'
	kill "$pid"
	wait "$pid" || true
}

# ---- nothing is left behind ----

@test "cleanup: no mount, process or namespace is left on the host" {
	before=$(host_mounts)
	run "$NS" --all --read-only --root "$ROOTFS" --volume "$TEST_TMP:/mnt" -- \
		/bin/sh -c 'sleep 987654 & echo started'
	assert_success
	after=$(host_mounts)
	assert_equal "$after" "$before"
	sleep 0.2
	run pgrep -f 'sleep 987654'
	assert_failure
	# No namespace kept alive by a bind mount (nsfs) on the host.
	run awk -v t="$TEST_TMP" '/ - nsfs / && ($5 !~ "^/tmp/" || index($5, t) == 1)' \
		/proc/self/mountinfo
	assert_output ""
	# The image gained no mount point or file.
	run find "$ROOTFS" -newer "$TEST_TMP" -not -path "$ROOTFS"
	assert_output ""
}

@test "verbose: one line per system call" {
	run "$NS" --verbose --all --root "$ROOTFS" -- /bin/true
	assert_success
	assert_line --regexp '^ns-enter: clone3\(.*CLONE_NEWPID.*\)$'
	assert_line --regexp '^ns-enter: clone3\(.*CLONE_NEWNS.*\)$'
	run "$NS" --verbose --uts --mount -- true
	assert_line "ns-enter: unshare(CLONE_NEWUTS|CLONE_NEWNS)"
	run "$NS" --verbose --all --root "$ROOTFS" -- /bin/true
	assert_line 'ns-enter: pivot_root(".", ".")'
	assert_line 'ns-enter: umount2(".", MNT_DETACH)'
	assert_line --partial 'ns-enter: mount("proc", "/proc", "proc"'
}

# ---- bad input: one line, 125, nothing mounted ----

@test "bad input: each is refused with one line and 125, nothing mounted" {
	before=$(host_mounts)
	dead=$(sh -c 'echo $$')
	check() {
		run "$NS" "$@"
		assert_equal "$status" 125
		assert_equal "${#lines[@]}" 1
		assert_output --regexp '^ns-enter: '
	}
	check --bogus -- /bin/true
	check --all --root "$ROOTFS" /bin/true                 # missing --
	check --all --root "$ROOTFS" --
	check --all --root /no/such/dir -- /bin/true
	check --all --root "$ROOTFS/etc/passwd" -- /bin/true
	check --all --root "$ROOTFS" --volume /no/such/src:/mnt -- /bin/true
	check --all --root "$ROOTFS" --volume "$TEST_TMP" -- /bin/true
	check --target "$dead" -- /bin/true
	check --target abc -- /bin/true
	check --all --root "$ROOTFS" --user root -- /bin/true
	check --all --root "$ROOTFS" --user 1:x -- /bin/true
	check --net=/etc/passwd -- /bin/true
	check --net=/no/such/netns -- /bin/true
	check --all --root "$ROOTFS" --env NOVALUE -- /bin/true
	check --read-only -- /bin/true
	check --all --root "$ROOTFS" --workdir relative -- /bin/true
	check --all --root "$ROOTFS" --tmpfs run -- /bin/true
	check --all --root "$ROOTFS" --tmpfs /run:size=1m,bogus -- /bin/true
	check --tmpfs /run -- /bin/true
	check --all --root "$ROOTFS" --cap-add NO_SUCH_CAP -- /bin/true
	assert_equal "$(host_mounts)" "$before"
}

@test "bad input: a rootfs without the command gives 127, nothing mounted" {
	before=$(host_mounts)
	mkdir "$TEST_TMP/empty"
	run -127 "$NS" --all --root "$TEST_TMP/empty" -- /bin/sh
	assert_output "ns-enter: /bin/sh: No such file or directory"
	assert_equal "$(host_mounts)" "$before"
}
