#!/usr/bin/env bats
# cg-limit.bats - cgroups: memory (OOM kill), pids, CPU quota, cpuset, usage
# statistics, cleanup in every hierarchy, bad input; then the same limits on
# a pure cgroup v2 kernel, booted in a small VM (tests/vm/).

load helpers
bats_require_minimum_version 1.5.0

# The cgroup v2 checks run once, in a VM booted before the host tests
# (about 10 s with QEMU's TCG); the "v2 VM" tests below read its console.
# Not in the sanitized pass: the VM runs the static, non-sanitized build.
setup_file() {
	VM_LOG=$BATS_FILE_TMPDIR/vm.log
	export VM_LOG
	[ -z "${MINIDOCK_SAN:-}" ] || return 0
	[ "$(id -u)" -eq 0 ] || return 0
	command -v qemu-system-x86_64 >/dev/null || return 0
	mkdir -p "$BATS_FILE_TMPDIR/vm"
	sh "$BATS_TEST_DIRNAME/vm/run-vm.sh" "$BATS_FILE_TMPDIR/vm" > "$VM_LOG" 2>&1 ||
		echo "VMHOST status: $?" >> "$VM_LOG"
}

setup() {
	common_setup
	require_root
	CG=$MINIDOCK_BIN/cg-limit
	# unique even between machines' sessions that share PID numbers
	TOKEN=${TEST_TMP##*.}
	NAME=cgtest-$TOKEN-$BATS_TEST_NUMBER
	BG_PID=
	PRIVATE=
	JOIN_PARENT=
}

teardown() {
	if [ -n "$BG_PID" ]; then
		kill -KILL "$BG_PID" 2>/dev/null || true
		wait "$BG_PID" 2>/dev/null || true
	fi
	"$CG" --name "$NAME" --delete >/dev/null 2>&1 || true
	if [ -n "$JOIN_PARENT" ]; then
		"$CG" --name "$NAME" --parent "$JOIN_PARENT" --delete >/dev/null 2>&1 || true
		find /sys/fs/cgroup -depth -type d -name "$JOIN_PARENT" -exec rmdir {} \; 2>/dev/null || true
		PRIVATE=
	fi
	if [ -n "$PRIVATE" ] && [ -d "$PRIVATE" ]; then
		rmdir "$PRIVATE/minidock/$NAME" "$PRIVATE/minidock" 2>/dev/null || true
		rmdir "$PRIVATE" || true
	fi
	common_teardown
}

# The host has cgroup v2 controllers (students' machines) or v1 (this one).
host_is_v2() {
	grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null
}

# No directory called $NAME is left in any cgroup hierarchy.
assert_gone() {
	local left
	# || true: find fails when other cgroups vanish under it (other tests)
	left=$(find /sys/fs/cgroup -type d -name "$NAME" 2>/dev/null || true)
	[ -z "$left" ] || fail "cgroup left behind: $left"
}

# A number from cg-limit --stats --json: json_number FIELD, e.g. usage_usec.
json_number() {
	"$CG" --name "$NAME" --stats --json | grep -o "\"$1\":[0-9a-z]*" | cut -d: -f2
}

# Wait (at most 5 s) until cgroup $NAME holds N processes.
wait_for_pids() {
	for _ in $(seq 50); do
		[ "$(json_number current 2>/dev/null | tail -n1)" = "$1" ] && return 0
		sleep 0.1
	done
	fail "cgroup $NAME never held $1 processes"
}

@test "cg-limit: COMMAND runs in the new cgroup, its status is passed on, nothing is left" {
	run "$CG" --name "$NAME" -- sh -c 'cat /proc/self/cgroup; exit 3'
	assert_equal "$status" 3
	assert_line --regexp "^[0-9]+:(memory)?:.*/minidock/$NAME\$"
	assert_gone
	run -127 "$CG" --name "$NAME" -- /no/such/command
	assert_equal "$status" 127
	assert_gone
	# without --name, a generated name (cg-PID), removed too
	run "$CG" --verbose -- true
	assert_success
	made=$(sed -n 's|^cg-limit: mkdir \(.*/minidock/cg-[0-9-]*\)$|\1|p' <<< "$output")
	[ -n "$made" ] || fail "no cgroup made: $output"
	for dir in $made; do
		[ ! -e "$dir" ] || fail "$dir left behind"
	done
	# a name in use is refused, and the cgroup left as it was
	"$CG" --name "$NAME" -- sleep 10 3>&- &
	BG_PID=$!
	wait_for_pids 1
	run "$CG" --name "$NAME" -- true
	assert_equal "$status" 125
	assert_output --partial "cg-limit: $NAME: a cgroup of that name exists"
	run "$CG" --name "$NAME" --stats
	assert_success
	assert_line --regexp '^pids.current +1$'
	kill -TERM "$BG_PID"
	status=0
	wait "$BG_PID" || status=$?
	BG_PID=
	assert_equal "$status" 143
	assert_gone
}

@test "cg-limit: Ctrl-C (SIGINT) reaches COMMAND, and the cgroup still goes" {
	# COMMAND (sh, then the sleep it execs) leaves another sleep behind in
	# the cgroup: cg-limit must kill it.
	"$CG" --name "$NAME" -- sh -c 'sleep 60 & exec sleep 60' 3>&- &
	BG_PID=$!
	wait_for_pids 2
	kill -INT "$BG_PID"
	status=0
	wait "$BG_PID" || status=$?
	BG_PID=
	assert_equal "$status" 130
	assert_gone
}

@test "cg-limit: past --memory the OOM killer kills COMMAND: message and exit 137" {
	# dd's 64M buffer fits without a limit...
	run "$CG" --name "$NAME" -- dd if=/dev/zero of=/dev/null bs=64M count=1
	assert_success
	# ...not in 32M.
	run "$CG" --name "$NAME" --memory 32M -- dd if=/dev/zero of=/dev/null bs=64M count=1
	assert_equal "$status" 137
	assert_output --partial "cg-limit: $NAME: killed by the OOM killer (memory limit 32M)"
	assert_gone
}

@test "cg-limit: a fork loop stops at --pids, and cg-limit says how many forks were refused" {
	command -v perl >/dev/null || skip "perl (Debian's perl-base) not installed"
	# perl counts its forks: itself plus 9 children make the 10 allowed.
	run "$CG" --name "$NAME" --pids 10 -- perl -e '
		$n = $f = 0;
		for (1..30) {
			$p = fork;
			if (!defined $p) { $f++ } elsif ($p == 0) { sleep 5; exit 0 } else { $n++ }
		}
		print "started $n, refused $f\n"'
	assert_success
	assert_line "started 9, refused 21"
	assert_line "cg-limit: $NAME: the pids limit (10) refused 21 forks"
	# the sleeping children were killed, the cgroup removed
	assert_gone
}

@test "cg-limit: --cpus 0.2 keeps a busy loop near 20% of one CPU (cgroup's own counters)" {
	"$CG" --name "$NAME" --cpus 0.2 -- sh -c 'while :; do :; done' 3>&- &
	BG_PID=$!
	wait_for_pids 1
	sleep 0.3
	u1=$(json_number usage_usec) t1=$EPOCHREALTIME
	sleep 1.5
	u2=$(json_number usage_usec) t2=$EPOCHREALTIME
	throttled=$(json_number throttled_usec)
	quota=$(json_number quota_usec)
	ratio=$(awk -v u1="$u1" -v u2="$u2" -v t1="$t1" -v t2="$t2" \
		'BEGIN { printf "%.3f", (u2 - u1) / 1e6 / (t2 - t1) }')
	echo "# CPU share $ratio, throttled ${throttled} us" >&3
	assert_equal "$quota" 20000
	# At most 0.2 (with a margin); the lower bound only says it ran, as a
	# busy host may give the loop less than its quota.
	awk -v r="$ratio" 'BEGIN { exit !(r > 0.02 && r < 0.3) }' ||
		fail "busy loop used $ratio of a CPU, not about 0.2"
	# SIGTERM reaches COMMAND through cg-limit: 128 + 15
	kill -TERM "$BG_PID"
	status=0
	wait "$BG_PID" || status=$?
	BG_PID=
	assert_equal "$status" 143
	assert_gone
}

@test "cg-limit --exec: the same process joins the cgroup and becomes COMMAND; the cgroup stays until --delete, which reports the OOM kill" {
	# The shell run by --exec is cg-limit's own process: no fork, no waiting.
	run "$CG" --name "$NAME" --memory 32M --exec -- sh -c 'echo "pid $$"; cat /proc/self/cgroup; echo "parent $PPID"'
	assert_success
	assert_line --regexp "^[0-9]+:(memory)?:.*/minidock/$NAME\$"
	# nothing waited to remove it: still there, empty, with its limit
	run "$CG" --name "$NAME" --stats
	assert_success
	assert_line --regexp '^memory.limit +33554432$'
	assert_line --regexp '^pids.current +0$'
	run "$CG" --name "$NAME" --delete
	assert_success
	assert_gone
	# this bash started cg-limit: with --exec the shell is that very PID
	"$CG" --name "$NAME" --exec -- sh -c 'echo $$ > '"$TEST_TMP"'/shpid; exec sleep 30' 3>&- 2>/dev/null &
	BG_PID=$!
	for _ in $(seq 50); do [ -s "$TEST_TMP/shpid" ] && break; sleep 0.1; done
	assert_equal "$(cat "$TEST_TMP/shpid")" "$BG_PID"
	run "$CG" --name "$NAME" --delete
	assert_success
	wait "$BG_PID" || true
	BG_PID=
	assert_gone
	# past the limit: the OOM kill is told by --delete, as by the chain form
	run "$CG" --name "$NAME" --memory 32M --exec -- dd if=/dev/zero of=/dev/null bs=64M count=1
	assert_equal "$status" 137
	run "$CG" --name "$NAME" --delete
	assert_success
	assert_output --regexp "^cg-limit: $NAME: the OOM killer killed 1 process \(memory limit 32M\)$"
	assert_gone
	# --exec needs --name (to be deleted later)
	run "$CG" --exec -- true
	assert_equal "$status" 125
	assert_output --partial "--exec needs --name"
}

@test "cg-limit --exec: a join the kernel refuses is reported (125) and the cgroup removed" {
	host_is_v2 && skip "v2 host: no v1 cpuset to refuse the join"
	cpuset=$(awk '$9 == "cgroup" && $NF ~ /(^|,)cpuset(,|$)/ { print $5; exit }' /proc/self/mountinfo)
	[ -n "$cpuset" ] || skip "no v1 cpuset hierarchy here"
	# A v1 cpuset without memory nodes refuses every process that joins
	# it (ENOSPC, cgroups(7)), after the memory and cpu hierarchies took
	# it: a parent of our own whose cpuset.mems is empty, which the new
	# cgroup copies.
	own=$(own_cgroup cpuset)
	JOIN_PARENT=cgtest-join-$TOKEN
	PRIVATE=$cpuset${own%/}/$JOIN_PARENT
	mkdir "$PRIVATE"
	echo 0 > "$PRIVATE/cpuset.cpus"
	for exec in --exec ""; do
		run "$CG" --name "$NAME" --parent "$JOIN_PARENT" --cpuset 0 $exec -- echo joined
		assert_equal "$status" 125
		refute_output --partial joined
		assert_output --regexp "^cg-limit: $PRIVATE/$NAME/tasks: No space left on device\$"
		assert_gone
		left=$(find /sys/fs/cgroup -type d -name "$JOIN_PARENT" 2>/dev/null || true)
		[ "$left" = "$PRIVATE" ] || fail "parent made by cg-limit left behind: $left"
	done
}

@test "cg-limit: --stats and --json report real usage; --delete kills and removes" {
	"$CG" --name "$NAME" --memory 64M --pids 16 -- \
		sh -c "head -c 16M /dev/zero > $TEST_TMP/fill && { sleep 30 & : > $TEST_TMP/ready; wait; }" 3>&- &
	BG_PID=$!
	for _ in $(seq 50); do [ -e "$TEST_TMP/ready" ] && break; sleep 0.1; done
	[ -e "$TEST_TMP/ready" ] || fail "COMMAND did not start"

	run "$CG" --name "$NAME" --stats
	assert_success
	assert_line --regexp '^memory.current +[0-9]+$'
	assert_line --regexp '^memory.limit +67108864$'
	assert_line --regexp '^pids.current +2$'
	assert_line --regexp '^pids.limit +16$'
	assert_line --regexp '^cpu.usage_usec +[0-9]+$'

	run "$CG" --name "$NAME" --stats --json
	assert_success
	assert_output --regexp '^\{"name":"'"$NAME"'",.*\}$'
	current=$(json_number current | head -n1)
	peak=$(json_number peak)
	# the 16M file's page cache is charged to the cgroup
	[ "$current" -ge 16777216 ] || fail "memory current $current < 16M"
	[ "$peak" -ge "$current" ] || fail "peak $peak < current $current"
	assert_output --partial '"limit":67108864'
	assert_output --partial '"oom_kills":0'
	assert_output --partial '"current":2,"limit":16'

	run "$CG" --name "$NAME" --delete
	assert_success
	status=0
	wait "$BG_PID" || status=$?
	BG_PID=
	assert_equal "$status" 137
	assert_gone
	run "$CG" --name "$NAME" --stats
	assert_equal "$status" 125
	assert_output --partial "$NAME: no such cgroup"
}

@test "cg-limit: sizes take k, m, g in either case; --verbose shows each write" {
	host_is_v2 && file=memory.max || file=memory.limit_in_bytes
	for size in 65536k 65536K 64m 64M 67108864; do
		run "$CG" --verbose --name "$NAME" --memory "$size" -- true
		assert_success
		assert_line "cg-limit: write $file = 67108864"
	done
	run "$CG" --verbose --name "$NAME" --memory 1g -- true
	assert_line "cg-limit: write $file = 1073741824"
	run "$CG" --verbose --name "$NAME" --memory 1G --pids 5 -- true
	assert_line "cg-limit: write pids.max = 5"
	assert_line --regexp "^cg-limit: mkdir /sys/fs/cgroup/.*/minidock/$NAME\$"
	assert_line --regexp "^cg-limit: rmdir /sys/fs/cgroup/.*/minidock/$NAME\$"
	assert_gone
}

@test "cg-limit: --cpuset pins COMMAND; --cpus and --memory-swap are written" {
	run "$CG" --verbose --name "$NAME" --cpuset 0 --cpus 0.5 --memory 64M --memory-swap 96M -- \
		grep Cpus_allowed_list /proc/self/status
	assert_success
	assert_line --regexp '^Cpus_allowed_list:\s+0$'
	if host_is_v2; then
		assert_line "cg-limit: write cpu.max = 50000 100000"
		assert_line "cg-limit: write memory.swap.max = 33554432"
	else
		assert_line "cg-limit: write cpu.cfs_quota_us = 50000"
		assert_line "cg-limit: write memory.memsw.limit_in_bytes = 100663296"
	fi
	assert_gone
}

@test "cg-limit on v1: a chain joins the cpuset and devices hierarchies only when --cpuset or --devices asks" {
	host_is_v2 && skip "v2 host: one hierarchy for every controller (the VM test covers v2)"
	grep -q ':cpuset:' /proc/self/cgroup || skip "no v1 cpuset hierarchy here"
	grep -q ':devices:' /proc/self/cgroup || skip "no v1 devices hierarchy here"
	run "$CG" --name "$NAME" -- cat /proc/self/cgroup
	assert_success
	assert_line --regexp "^[0-9]+:memory:.*/minidock/$NAME\$"
	refute_line --regexp "^[0-9]+:cpuset:.*/$NAME\$"
	refute_line --regexp "^[0-9]+:devices:.*/$NAME\$"
	run "$CG" --name "$NAME" --cpuset 0 --devices container -- cat /proc/self/cgroup
	assert_success
	assert_line --regexp "^[0-9]+:cpuset:.*/minidock/$NAME\$"
	assert_line --regexp "^[0-9]+:devices:.*/minidock/$NAME\$"
	assert_gone
}

@test "cg-limit: the cgroup nests below the caller's own cgroup, and minidock/ goes away" {
	host_is_v2 && skip "v2 host: the caller's cgroup holds processes (the VM test covers v2)"
	mem=$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ { print $5; exit }' /proc/self/mountinfo)
	[ -n "$mem" ] || skip "no v1 memory hierarchy"
	own=$(own_cgroup memory)
	PRIVATE=$mem${own%/}/cgtest-private-$TOKEN
	mkdir "$PRIVATE"
	# A shell moves itself into a private cgroup, then runs cg-limit there.
	run sh -c "echo \$\$ > $PRIVATE/cgroup.procs && exec $CG --name $NAME -- cat /proc/self/cgroup"
	assert_success
	assert_line --regexp "^[0-9]+:memory:${own%/}/cgtest-private-$TOKEN/minidock/$NAME\$"
	cpu_own=$(own_cgroup cpu)
	assert_line --regexp "^[0-9]+:cpu(,cpuacct)?:${cpu_own%/}/minidock/$NAME\$"
	[ ! -e "$PRIVATE/minidock" ] || fail "empty minidock group left in $PRIVATE"
	assert_gone
}

@test "cg-limit: --devices container allows /dev/null, refuses /dev/kmsg (docker's list)" {
	[ -c /dev/kmsg ] || skip "no /dev/kmsg on this host"
	run "$CG" --name "$NAME" -- sh -c ': < /dev/kmsg && echo kmsg-open'
	assert_success
	assert_output "kmsg-open"
	run "$CG" --name "$NAME" --devices container -- \
		sh -c 'echo x > /dev/null && echo null-ok; : < /dev/kmsg && echo kmsg-open'
	refute_line "kmsg-open"
	assert_line "null-ok"
	assert_output --partial "/dev/kmsg: Operation not permitted"
	assert_gone
}

@test "cg-limit: --parent puts the cgroup there, and removes the parent it made" {
	host_is_v2 && skip "v2 host: the test's cgroup holds processes (the VM test covers v2)"
	# a relative PATH starts from the caller's own cgroup in each hierarchy
	own=$(own_cgroup memory) pids_own=$(own_cgroup pids)
	run "$CG" --name "$NAME" --parent "cgtest-parent-$TOKEN" -- cat /proc/self/cgroup
	assert_success
	assert_line --regexp "^[0-9]+:memory:${own%/}/cgtest-parent-$TOKEN/$NAME\$"
	assert_line --regexp "^[0-9]+:pids:${pids_own%/}/cgtest-parent-$TOKEN/$NAME\$"
	[ -z "$(find /sys/fs/cgroup -type d -name "cgtest-parent-$TOKEN" 2>/dev/null || true)" ] ||
		fail "--parent directory left behind"
	assert_gone
}

@test "cg-limit: a refusal half-way (mkdir in the 2nd hierarchy) removes what was made" {
	host_is_v2 && skip "v2 host: one hierarchy"
	own=$(own_cgroup memory) cpu_own=$(own_cgroup cpu)
	[ "$own" != "$cpu_own" ] || skip "same cgroup in the memory and cpu hierarchies"
	# exists in the memory hierarchy, not in the cpu one
	run "$CG" --name "$NAME" --parent "${own%/}/cgtest-half-$TOKEN" -- true
	assert_equal "$status" 125
	assert_output --regexp "^cg-limit: mkdir /sys/fs/cgroup/cpu.*/cgtest-half-$TOKEN: No such file or directory\$"
	[ -z "$(find /sys/fs/cgroup -type d -name "cgtest-half-$TOKEN" 2>/dev/null || true)" ] ||
		fail "half-made cgroup left behind"
	assert_gone
}

@test "cg-limit --info: the layout, the usable controllers, where cgroups go" {
	run "$CG" --info
	assert_success
	assert_line --regexp '^controllers: .*memory'
	assert_line --regexp '^controllers: .*pids'
	if host_is_v2; then
		assert_line "cg-limit uses: cgroup v2"
	else
		assert_line "cg-limit uses: cgroup v1"
		own=$(own_cgroup memory)
		assert_output --partial "/memory${own%/}/minidock/NAME"
		if [ -d /sys/fs/cgroup/unified ]; then
			assert_output --partial "hybrid"
		fi
	fi
}

@test "cg-limit --info: without the empty cgroup2 mount, the same host is plain v1" {
	host_is_v2 && skip "v2 host"
	mountpoint -q /sys/fs/cgroup/unified || skip "no hybrid cgroup2 mount here"
	# in a private mount namespace: the host keeps its mount
	run unshare -m sh -c "umount /sys/fs/cgroup/unified && $CG --info"
	assert_success
	assert_line --regexp '^layout: +cgroup v1 \(legacy\): .*memory'
	assert_line "cg-limit uses: cgroup v1"
	mountpoint -q /sys/fs/cgroup/unified
}

@test "cg-limit: bad values are refused with exit 125 before anything is created" {
	bad() {  # bad MESSAGE-PART OPTION...
		local want=$1
		shift
		run "$CG" --name "$NAME" "$@" -- true
		[ "$status" -eq 125 ] || fail "$* gave status $status, not 125 ($output)"
		assert_output --partial "$want"
		assert_gone
	}
	bad "--memory 64X: not a size" --memory 64X
	bad "--memory -1: not a size" --memory -1
	bad "--memory 1k: the minimum is 6M" --memory 1k
	bad "--memory-swap 32M: must be at least --memory 64M" --memory 64M --memory-swap 32M
	bad "--memory-swap needs --memory" --memory-swap 64M
	bad "--pids -1: not a number" --pids -1
	bad "--pids 0: not a number" --pids 0
	bad "--cpus 0: the range is 0.01 to" --cpus 0
	bad "--cpus -1: not a number of CPUs" --cpus -1
	bad "--cpus 1,5: not a number of CPUs" --cpus 1,5
	bad "--cpus 100000: the range is" --cpus 100000
	bad "--cpuset 0-1,99: CPU 99 does not exist" --cpuset 0-1,99
	bad "--cpuset 1-0: not a CPU list" --cpuset 1-0
	bad "--cpuset x: not a CPU list" --cpuset x
	bad "--devices all: the only policy" --devices all
	bad "--parent ../up: give a cgroup path" --parent ../up
	run "$CG" --name ../escape -- true
	assert_equal "$status" 125
	assert_output --partial "--name ../escape: use"
	run "$CG" --name "$NAME"
	assert_equal "$status" 125
	assert_output --partial "no COMMAND given"
	run "$CG" --stats
	assert_equal "$status" 125
	assert_output --partial "need --name"
	run "$CG" --name "$NAME" --delete
	assert_equal "$status" 125
	assert_output --partial "$NAME: no such cgroup"
	run "$CG" --json --name "$NAME" -- true
	assert_equal "$status" 125
	assert_gone
	run "$CG" --name "$NAME" --memory
	assert_equal "$status" 125
	assert_output "cg-limit: --memory: unknown option, or its value is missing (try 'cg-limit --help')"
	run "$CG" --name "$NAME" --swap 1G -- true
	assert_equal "$status" 125
	assert_output --partial "cg-limit: --swap: unknown option"
	assert_gone
}

# ---- cgroup v2, in the VM (tests/vm/init prints the VMTEST lines) ----

vm_output() {
	[ -z "${MINIDOCK_SAN:-}" ] || skip "the VM runs the static non-sanitized build (first pass only)"
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed (make deps)"
	[ -s "$VM_LOG" ] || fail "the VM did not run"
	grep -q '^VMTEST done' "$VM_LOG" || fail "the VM did not finish: $(tail -n 20 "$VM_LOG")"
	# the lines of check $1, without the "VMTEST check: " prefix
	output=$(sed -n "s/^VMTEST $1: //p" "$VM_LOG" | tr -d '\r')
	lines=()
	while IFS= read -r line; do lines+=("$line"); done <<< "$output"
}

@test "v2 VM: a pure cgroup v2 kernel, and --info says cg-limit uses v2" {
	vm_output controllers
	assert_output --regexp '\bmemory\b.*\bpids\b'
	vm_output "info status"
	assert_output 0
	vm_output info
	assert_line --regexp '^layout: +cgroup v2 \(unified\) on /sys/fs/cgroup$'
	assert_line "cg-limit uses: cgroup v2"
	assert_line "new cgroups:  /sys/fs/cgroup/minidock/NAME"
}

@test "v2 VM: the OOM killer past --memory, reported, exit 137" {
	vm_output "oom status"
	assert_output 137
	vm_output oom
	assert_line "cg-limit: oom: killed by the OOM killer (memory limit 32M)"
}

@test "v2 VM: a fork loop stops at --pids, and the refused forks are counted" {
	vm_output "pids started"
	assert_output 9
	vm_output pids
	assert_line "cg-limit: forks: the pids limit (10) refused 1 fork"
}

@test "v2 VM: --cpus 0.2 writes cpu.max and keeps a busy loop near 20%; SIGTERM is forwarded" {
	vm_output "cpu max"
	assert_output "20000 100000"
	vm_output "cpu usage"
	read -r u1 u2 _ t1 t2 <<< "$output"
	ratio=$(awk -v u1="$u1" -v u2="$u2" -v t1="$t1" -v t2="$t2" \
		'BEGIN { printf "%.3f", (u2 - u1) / 1e6 / (t2 - t1) }')
	echo "# CPU share in the VM: $ratio" >&3
	awk -v r="$ratio" 'BEGIN { exit !(r > 0.02 && r < 0.3) }' ||
		fail "busy loop used $ratio of a CPU, not about 0.2"
	vm_output "cpu json"
	assert_output --regexp '"quota_usec":20000,"period_usec":100000'
	vm_output "cpu status"
	assert_output 143
}

@test "v2 VM: --cpuset, --memory-swap (swap alone in v2), and the controllers enabled on the parent" {
	vm_output "cpuset status"
	assert_output 0
	vm_output cpuset
	assert_line --regexp '^Cpus_allowed_list:\s+1$'
	assert_line "cg-limit: write memory.max = 67108864"
	assert_line "cg-limit: write memory.swap.max = 33554432"
	assert_line "cg-limit: write /sys/fs/cgroup/minidock/cgroup.subtree_control = +memory"
	assert_line "cg-limit: rmdir /sys/fs/cgroup/minidock/set"
}

@test "v2 VM: --devices container is a BPF program: /dev/null yes, /dev/kmsg no" {
	vm_output devices
	assert_line "kmsg-open"   # without --devices
	assert_line --regexp "^cg-limit: bpf\(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE, [0-9]+ instructions\)$"
	assert_line --regexp "^cg-limit: bpf\(BPF_PROG_ATTACH, /sys/fs/cgroup/minidock/cg-[0-9]+, BPF_CGROUP_DEVICE\)$"
	assert_line "null-ok"
	assert_line "sh: can't open /dev/kmsg: Operation not permitted"
	[ "${#lines[@]}" -gt 0 ] && [ "$(grep -c '^kmsg-open$' <<< "$output")" -eq 1 ] ||
		fail "/dev/kmsg opened with --devices container"
}

@test "v2 VM: --stats --json with real numbers, --delete" {
	vm_output "stats json"
	assert_output --regexp '^\{"name":"stats","cgroup_version":2,'
	current=$(grep -o '"memory":{"current":[0-9]*' <<< "$output" | grep -o '[0-9]*$')
	[ "$current" -ge 16777216 ] || fail "memory.current $current < the 16M file"
	assert_output --partial '"limit":67108864'
	assert_output --partial '"current":2,"limit":16'
	vm_output "delete status"
	assert_output 0
	vm_output "stats status"
	assert_output 137
}

@test "v2 VM: --exec joins through cgroup.procs and becomes COMMAND; the cgroup stays until --delete" {
	vm_output "exec status"
	assert_output 0
	vm_output exec
	assert_output "0::/minidock/ex"
	vm_output "exec left"
	assert_output 33554432
	vm_output "exec delete status"
	assert_output 0
}

@test "v2 VM: a caller whose cgroup holds processes is told so; nothing is left behind" {
	vm_output nest
	assert_line "cg-limit: your cgroup /shell holds processes and cannot give controllers to a child (cgroup v2): using /sys/fs/cgroup/minidock instead (see cg-limit --info)"
	assert_line "0::/minidock/nest"
	vm_output "nest info"
	assert_line "note:         your cgroup /shell holds processes, so it cannot give"
	assert_line --partial "mkdir /sys/fs/cgroup/shell/leaf"
	vm_output leftover
	assert_output ""
}

@test "v2 VM: a container of run sees its own cgroup on /sys/fs/cgroup, read-only, with its memory.max" {
	vm_output "run status"
	[ "$output" != "" ] || skip "no run checks in the VM (an older initramfs)"
	grep -q '^VMTEST run: no overlay.ko' "$VM_LOG" &&
		skip "no overlay.ko for the VM's kernel (tests/vm/fetch-kernel.sh could not get it)"
	assert_output 0
	vm_output run
	# --memory 32M, written by cg-limit, read from inside through the
	# cgroup namespace: the container's cgroup is its root, "0::/"
	assert_line --index 0 33554432
	assert_line --index 1 "0::/"
	assert_line --regexp '^cgroup2 /sys/fs/cgroup cgroup2 ro,'
	assert_line "mkdir refused"
	vm_output "run left"
	assert_output ""
}

@test "v2 VM: TP step 3's cgroup v2 block runs as written and shows the limit the TP expects" {
	local readme=$BATS_TEST_DIRNAME/../tp/3-contraindre/README.md want
	vm_output "tp3 status"
	[ "$output" != "" ] || skip "no TP block in the VM (an older initramfs)"
	assert_output 0
	# The README's expected output after the v1 block: 50331648 (48M).
	want=$(awk '/<!-- tp:skip .*cgroup v2/ { on = 1 } on && /<!-- tp:expect -->/ { e = 1; next }
		e && /^```$/ { if (f) exit; f = 1; next } e && f && NF { print; exit }' "$readme")
	assert_equal "$want" 50331648
	vm_output tp3
	assert_line --index 0 "0::/minidock/tp-mem"      # cat /proc/$PID/cgroup
	assert_line --index 1 "$want"                     # memory.max
	assert_line --regexp '^[0-9]+$'                   # memory.current, cgroup.procs
	assert_line "le cgroup a disparu"
}
