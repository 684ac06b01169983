#!/usr/bin/env bats
# tp.bats - the practical session (tp/) works exactly as written.
#
# Every fenced block preceded by <!-- tp:run --> in tp/N-*/README.md is run,
# in order, in ONE shell per step (so variables and `cd` carry over, as in
# the student's terminal), from the repository root, with bin/ on PATH as
# step 0 tells the student, and $MINIDOCK_BIN first (bin-san in the
# sanitized pass).  Markers (tp/README.md, "Pour l'enseignant", says more):
#
#   <!-- tp:run -->            run the next fenced block; it must exit 0
#   <!-- tp:run status=137 --> ... and must exit with that status
#   <!-- tp:expect -->         the next fenced block is what the student sees:
#                              each non-empty line must appear, in this order,
#                              in the output of the last run block (blanks are
#                              squeezed; "…" stands for anything)
#   <!-- tp:skip REASON -->    a command block deliberately not run (the
#                              reason is required: interactive, boots a VM...)
#
# A step runs inside a throwaway host: new net, mount, uts, ipc and pid
# namespaces (a private /run on tmpfs, so /run/netns and /run/minidock are
# fresh), HOME and the minidock state directories in $TEST_TMP.  When the
# step ends, the pid namespace ends and the kernel kills what is left;
# cgroups the step made are deleted in teardown.  Then `tp/verifier N` must
# find everything the step asked the student to do.

load helpers

TP=$REPO/tp

setup() {
	common_setup
	require_root
	export HOME=$TEST_TMP/home
	mkdir -p "$HOME"
	# The C programs of "À vous de coder", as a student who did them.
	export TP_CODE=$TP/corrige/code
}

teardown() {
	tp_cgroups_remove
	# Step 2 copies ns-enter there for the user nobody (and removes it).
	rm -f /tmp/ns-enter
	common_teardown
}

# ---- the step's own cgroups ----
#
# The TP's cgroups have fixed names (tp-mem, tp-pids...).  Made where a
# student makes them, at the top of a v1 hierarchy shared by every run on
# the machine, two runs at once (two checkouts, a try-release.sh root)
# would delete each other's, and the verifier would see the other's.  So
# on a v1 or hybrid host the step runs in cgroups of its own, below the
# test's cgroup in every hierarchy (TP_CGROUPS lists them), in a cgroup
# namespace with /sys/fs/cgroup mounted again inside its mount namespace:
# the step sees its own cgroup as the root, as a container does, and
# cg-limit makes tp-pids below it.  A pure v2 host cannot nest there (the
# test's cgroup holds processes: no controllers for a child), so the step
# runs as before, in the cgroups cg-limit finds by going up.
TP_CGROUPS=()

# The cgroup mounts: "MOUNTPOINT FSTYPE SUPER-OPTIONS", one a line.
tp_cgroup_mounts() {
	awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) ~ /^cgroup2?$/) print $5, $(i + 1), $(i + 3) }' \
		/proc/self/mountinfo
}

# tp_cgroups_make TOKEN: a cgroup tp-step-TOKEN below the test's own in each
# hierarchy; its directories in TP_CGROUPS.  Nothing on a pure v2 host.
tp_cgroups_make() {
	local mnt type opts key own dir
	grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null && return 0
	while read -r mnt type opts; do
		if [ "$type" = cgroup2 ]; then
			own=$(awk -F: '$1 == 0 { print $3 }' /proc/self/cgroup)
		else
			# the hierarchy's line in /proc/self/cgroup: its controllers or name=
			key=$(tr ',' '\n' <<<"$opts" | grep -vxE 'rw|ro|noprefix|clone_children|xattr|nsdelegate|memory_recursiveprot' | head -n1)
			own=$(awk -F: -v k="$key" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == k) print $3 }' /proc/self/cgroup)
		fi
		[ -n "$own" ] || continue
		dir=$mnt${own%/}/tp-step-$1
		mkdir "$dir" || return 1
		TP_CGROUPS+=("$dir")
		# a v1 cpuset takes no task before it has CPUs and memory nodes
		if [ -e "$dir/cpuset.cpus" ]; then
			cat "$dir/../cpuset.cpus" >"$dir/cpuset.cpus" &&
				cat "$dir/../cpuset.mems" >"$dir/cpuset.mems" || return 1
		fi
	done < <(tp_cgroup_mounts)
}

# Kill what is left in the step's cgroups (processes the step started), then
# remove them, deepest first.
tp_cgroups_remove() {
	local dir try pid name
	# A pure v2 host: the names the TP uses, where cg-limit put them.
	if [ ${#TP_CGROUPS[@]} -eq 0 ] && [ -x "$MINIDOCK_BIN/cg-limit" ] &&
		grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
		for name in tp-mem tp-pids tp-cpu tp-stats tp-vm tp-ct web tp-chaine tp-tue \
			tp-db tp-web tp-cache boutique-db-1 boutique-web-1; do
			"$MINIDOCK_BIN/cg-limit" --name "$name" --delete >/dev/null 2>&1 || true
		done
	fi
	# « À vous de coder » (code_check) runs the verifier outside a step's
	# cgroups: its cgroup tp-code is where cg-limit puts it.
	[ ! -x "$MINIDOCK_BIN/cg-limit" ] ||
		"$MINIDOCK_BIN/cg-limit" --name tp-code --delete >/dev/null 2>&1 || true
	for dir in "${TP_CGROUPS[@]}"; do
		for try in 1 2 3 4 5 6 7 8 9 10; do
			[ -d "$dir" ] || break
			for pid in $(cat $(find "$dir" -name cgroup.procs) 2>/dev/null); do
				kill -KILL "$pid" 2>/dev/null || true
			done
			find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null && break
			sleep 0.1
		done
		[ ! -d "$dir" ] || echo "# tp: $dir left behind" >&3
	done
	TP_CGROUPS=()
}

# tp_extract README DIR: one file per block in DIR: N.sh (the commands),
# N.status (expected exit status), N.line (line in the README), N.expect.
# Prints the number of run blocks.
tp_extract() {
	awk -v dir="$2" '
	function fail(msg) { print FILENAME ":" NR ": " msg > "/dev/stderr"; bad = 1; exit 1 }
	/^[ \t]*<!-- tp:run( .*)? -->$/ {
		if (pending != "") fail("marker not followed by a block")
		pending = "run"; status = 0
		if (match($0, /status=[0-9]+/)) status = substr($0, RSTART + 7, RLENGTH - 7)
		next
	}
	/^[ \t]*<!-- tp:expect -->$/ {
		if (pending != "") fail("marker not followed by a block")
		if (n == 0 || expected[n]) fail("tp:expect without a tp:run block before it")
		pending = "expect"; next
	}
	/^[ \t]*<!-- tp:skip / { if (pending != "") fail("marker not followed by a block"); next }
	/^[ \t]*```/ {
		if (fence) {
			fence = 0; if (out != "") close(out); out = ""; next
		}
		fence = 1
		if (pending == "run") {
			n++; out = dir "/" n ".sh"; printf "" > out
			print status > (dir "/" n ".status"); close(dir "/" n ".status")
			print NR > (dir "/" n ".line"); close(dir "/" n ".line")
		} else if (pending == "expect") {
			expected[n] = 1; out = dir "/" n ".expect"; printf "" > out
		}
		pending = ""; next
	}
	fence && out != "" { print > out; next }
	!fence && pending != "" && NF > 0 { fail("marker not followed by a block") }
	END { if (!bad) print n + 0 }
	' "$1"
}

# tp_script DIR COUNT: the shell script that runs the blocks of one step,
# each one's output and status kept in DIR.
tp_script() {
	local dir=$1 count=$2 i
	cat <<-EOF
	# The throwaway host: nothing below leaves this mount namespace.
	mount -t tmpfs -o mode=755 tmpfs /run || exit 99
	EOF
	# In a cgroup namespace (tp_cgroups_make): its cgroups mounted again.
	if [ ${#TP_CGROUPS[@]} -gt 0 ]; then
		echo 'mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup || exit 99'
		tp_cgroup_mounts | while read -r mnt type opts; do
			printf 'mkdir -p %s && mount -t %s -o %s %s %s || exit 99\n' \
				"$mnt" "$type" "$opts" "$type" "$mnt"
		done
	fi
	cat <<-EOF
	ip link set lo up || exit 99
	cd "$REPO" || exit 99
	export PATH="\$PWD/bin:\$PATH"
	export PATH="$MINIDOCK_BIN:\$PATH"
	EOF
	for ((i = 1; i <= count; i++)); do
		printf 'echo %d >"%s/current"\n{\n' "$i" "$dir"
		cat "$dir/$i.sh"
		printf '\n} >"%s/%d.out" 2>&1 </dev/null\n' "$dir" "$i"
		printf 'echo $? >"%s/%d.rc"\n' "$dir" "$i"
	done
	printf 'cd "%s" && tp/verifier %s >"%s/verifier.out" 2>&1\n' "$REPO" "$3" "$dir"
	printf 'echo $? >"%s/verifier.rc"\n' "$dir"
}

# tp_match EXPECT OUTPUT: every non-empty line of EXPECT is found, in order,
# in a line of OUTPUT (blanks squeezed, "…" matching anything).
tp_match() {
	awk '
	function squeeze(s) { gsub(/[ \t]+/, " ", s); sub(/^ /, "", s); sub(/ $/, "", s); return s }
	# Does line L contain the pieces of pattern P, in order?
	function matches(l, p,   k, parts, i, pos) {
		k = split(p, parts, "…")
		for (i = 1; i <= k; i++) {
			parts[i] = squeeze(parts[i])
			if (parts[i] == "") continue
			pos = index(l, parts[i]); if (pos == 0) return 0
			l = substr(l, pos + length(parts[i]))
		}
		return 1
	}
	FNR == NR { p = squeeze($0); if (p != "") pat[++np] = p; next }
	{ line[++nl] = squeeze($0) }
	END {
		j = 1
		for (i = 1; i <= np; i++) {
			while (j <= nl && !matches(line[j], pat[i])) j++
			if (j > nl) { print "not found (in this order): " pat[i]; exit 1 }
			j++
		}
	}
	' "$1" "$2"
}

# tp_step N: run step N's blocks as written and check every one.
tp_step() {
	local n=$1 readme dir count i rc want line why
	readme=$(ls "$TP"/"$n"-*/README.md)
	dir=$TEST_TMP/blocks
	mkdir -p "$dir"
	count=$(tp_extract "$readme" "$dir") || fail "bad markers in $readme"
	[ "$count" -gt 0 ] || skip "no runnable block yet in ${readme#$REPO/}"
	# The student's answers (the verifier only checks they exist).
	mkdir -p "$HOME/tp-minidock/$n"
	grep -oE '\*\*Q[0-9]+\.[0-9]+' "$readme" | tr -d '*' |
		sed 's/$/ : réponse/' >"$HOME/tp-minidock/$n/reponses.txt"
	tp_cgroups_make "${TEST_TMP##*.}" || fail "cannot make the step's cgroups"
	tp_script "$dir" "$count" "$n" >"$TEST_TMP/step.sh"
	local cgns=
	[ ${#TP_CGROUPS[@]} -eq 0 ] || cgns=--cgroup
	# The shell joins the step's cgroups, then unshares (the cgroup namespace's
	# root is where it stands).
	if ! bash -c 'for d in "${@:2:$1}"; do echo $$ >"$d/cgroup.procs" || exit 99; done
		shift $(($1 + 1)); exec "$@"' join ${#TP_CGROUPS[@]} "${TP_CGROUPS[@]}" \
		timeout -k 5 150 unshare $cgns --net --mount --uts --ipc --pid --fork --kill-child \
		--mount-proc --propagation private bash "$TEST_TMP/step.sh"; then
		i=$(cat "$dir/current" 2>/dev/null || echo 0)
		echo "step $n did not finish (timeout?) in the block at ${readme#$REPO/}:$(cat "$dir/$i.line" 2>/dev/null)" >&2
		cat "$dir/$i.sh" "$dir/$i.out" >&2 2>/dev/null
		return 1
	fi
	for ((i = 1; i <= count; i++)); do
		line=$(cat "$dir/$i.line")
		want=$(cat "$dir/$i.status")
		rc=$(cat "$dir/$i.rc" 2>/dev/null || echo "not run")
		why=
		if [ "$rc" != "$want" ]; then
			why="exit status $rc, the README expects $want"
		elif [ -f "$dir/$i.expect" ]; then
			why=$(tp_match "$dir/$i.expect" "$dir/$i.out") || true
		fi
		if [ -n "$why" ]; then
			{
				echo "${readme#$REPO/}:$line: $why"
				echo "--- commands"; cat "$dir/$i.sh"
				echo "--- output"; cat "$dir/$i.out" 2>/dev/null
				[ -f "$dir/$i.expect" ] && { echo "--- expected"; cat "$dir/$i.expect"; }
			} >&2
			return 1
		fi
	done
	# What the student did, as the verifier sees it: everything done.
	if [ "$(cat "$dir/verifier.rc")" != 0 ]; then
		echo "tp/verifier $n after the README's commands:" >&2
		cat "$dir/verifier.out" >&2
		return 1
	fi
}

@test "tp: every step has its README, the verifier and the answer key" {
	[ -f "$TP/README.md" ]
	for n in 0 1 2 3 4 5 6 7 8 9 10; do
		ls "$TP/$n"-*/README.md >/dev/null || fail "no README for step $n"
		[ -f "$TP/corrige/$n.md" ] || fail "no answer key tp/corrige/$n.md"
	done
	[ -x "$TP/verifier" ]
}

@test "tp: markers are well formed, every command block is marked when a step is" {
	for readme in "$TP"/[0-9]*-*/README.md; do
		mkdir -p "$TEST_TMP/x"
		tp_extract "$readme" "$TEST_TMP/x" >/dev/null || fail "bad markers in $readme"
		grep -q '^<!-- tp:run' "$readme" || continue
		# In a tested step, no ```sh block is left unmarked by mistake.
		run awk '/^[ \t]*```sh/ && prev !~ /^[ \t]*<!-- tp:(run|skip)/ { print FILENAME ":" NR }
			NF { prev = $0 }' "$readme"
		assert_output ""
	done
}

@test "tp: every slide section a step points at exists (slides/README.md)" {
	[ -f "$REPO/slides/README.md" ] || skip "no slides/README.md"
	for ref in $(grep -ohE '§ [0-9]+\.[0-9]+|#s[0-9]+-[0-9]+' "$TP"/*/README.md | tr -d '§ #' | sort -u); do
		num=${ref#s}; num=${num/-/.}
		grep -q "^| $num | \`s${num/./-}\` |" "$REPO/slides/README.md" ||
			fail "the TP points at slide section $ref, not in slides/README.md"
	done
}

# The "Lire le code" section of each step names functions to read, one a
# line: - `NAME()` dans `FILE` : ...  Each must be defined in FILE.
@test "tp: every function a reading guide names is defined where it says" {
	local readme line fn file n=0 steps=0
	for readme in "$TP"/[0-9]*-*/README.md; do
		grep -q '^## Lire le code' "$readme" || continue
		steps=$((steps + 1))
		while IFS= read -r line; do
			grep -qE '^- `[A-Za-z_0-9]+\(\)` dans `[^`]+` : ' <<<"$line" ||
				fail "$readme: not of the form - \`name()\` dans \`file\` : ...: $line"
			fn=$(sed -E 's/^- `([A-Za-z_0-9]+)\(\)` dans `([^`]+)`.*/\1/' <<<"$line")
			file=$(sed -E 's/^- `([A-Za-z_0-9]+)\(\)` dans `([^`]+)`.*/\2/' <<<"$line")
			[ -f "$REPO/$file" ] || fail "$readme names $file, which does not exist"
			grep -qE "^[a-z].*[ *]$fn\(" "$REPO/$file" ||
				fail "$readme names $fn() in $file, where it is not defined"
			n=$((n + 1))
		done < <(awk '/^## /{on = ($0 ~ /^## Lire le code/)} on && /^- `/' "$readme")
	done
	[ "$steps" -ge 5 ] || fail "only $steps steps have a reading guide (## Lire le code)"
	[ "$n" -ge 20 ] || fail "the reading guides name only $n functions"
}

@test "tp: tp/verifier without a step, or with a bad one, says how to use it" {
	run "$TP/verifier"
	assert_equal "$status" 2
	assert_output --partial "usage: tp/verifier"
	run "$TP/verifier" 11
	assert_equal "$status" 2
	run "$TP/verifier" 1x
	assert_equal "$status" 2
}

@test "tp: tp/verifier on an untouched home directory shows ✘ with a hint" {
	run "$TP/verifier" 1
	assert_equal "$status" 1
	assert_output --partial "✘"
	assert_output --partial "→"
}

@test "tp: tp/verifier 4 sees a network namespace the student left behind" {
	# A throwaway /run, so the leftover is seen by the verifier only.
	run unshare --mount --propagation private sh -c \
		'mount -t tmpfs tmpfs /run && mkdir /run/netns && touch /run/netns/tp-a && "$1" 4' sh "$TP/verifier"
	assert_equal "$status" 1
	assert_output --partial "✘ aucun namespace tp-* n'est resté"
	assert_output --partial "→ net-bridge --name NOM --delete"
}

@test "tp: tp/verifier 2 names AppArmor's sysctl when user namespaces are refused" {
	# Ubuntu 24.04 as the verifier sees it: a sysctl(8) that says 1.
	mkdir -p "$TEST_TMP/path"
	printf '#!/bin/sh\n[ "$2" = kernel.apparmor_restrict_unprivileged_userns ] && echo 1\n' \
		>"$TEST_TMP/path/sysctl"
	chmod +x "$TEST_TMP/path/sysctl"
	PATH=$TEST_TMP/path:$PATH run "$TP/verifier" 2
	assert_equal "$status" 1
	assert_output --partial "✘ user : nobody est root dans son namespace"
	assert_output --partial "AppArmor refuse les namespaces user"
	assert_output --partial "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
	# Elsewhere, no such hint.
	if [ "$(sysctl -n kernel.apparmor_restrict_unprivileged_userns 2>/dev/null)" != 1 ]; then
		run "$TP/verifier" 2
		refute_output --partial "AppArmor"
	fi
}

@test "tp: étape 0, préparation" { tp_step 0; }
@test "tp: étape 1, un conteneur est un système de fichiers" { tp_step 1; }
@test "tp: étape 2, isoler" { tp_step 2; }
@test "tp: étape 3, contraindre" { tp_step 3; }
@test "tp: étape 4, connecter" { tp_step 4; }
@test "tp: étape 5, assembler" { tp_step 5; }
@test "tp: étape 6, sécuriser" { tp_step 6; }
@test "tp: étape 7, conteneur ou machine virtuelle" {
	# Boots a VM under QEMU's TCG: ten seconds or more, so only in the
	# first pass of make check, with the kernel tests/cg-limit.bats fetched.
	[ -z "${MINIDOCK_SAN:-}" ] || skip "boots a VM: run in the unsanitized pass only"
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86 is not installed"
	[ -s "$REPO/images/build/vm/vmlinuz" ] ||
		skip "no VM kernel in images/build/vm (sh tests/vm/fetch-kernel.sh --host images/build/vm)"
	tp_step 7
}
@test "tp: étape 8, construire une image" { tp_step 8; }
@test "tp: étape 9, partager une image" {
	command -v docker-registry >/dev/null || skip "docker-registry is not installed (make deps)"
	tp_step 9
}
@test "tp: étape 10, une application à deux conteneurs" {
	for t in network volume compose; do
		[ -x "$MINIDOCK_BIN/$t" ] || skip "no $t tool"
	done
	tp_step 10
}

# ---- "À vous de coder": the C exercises of steps 2, 3 and 4 ----

@test "tp: the C exercises and their answers compile with gcc and clang, without a warning" {
	for cc in gcc clang; do
		command -v "$cc" >/dev/null || skip "$cc is not installed"
		run make -C "$REPO" -s CC="$cc" BUILD="$TEST_TMP/$cc" exercices
		assert_success
		for f in 2-isoler/isole 3-contraindre/limite 4-connecter/veth corrige/code/isole \
			corrige/code/limite corrige/code/veth; do
			[ -x "$TEST_TMP/$cc/tp/$f" ] || fail "make exercices CC=$cc did not build $f"
		done
	done
	# Each skeleton is its answer with gaps: a few lines, marked TODO.
	for f in 2-isoler/isole 3-contraindre/limite 4-connecter/veth; do
		run grep -c TODO "$TP/$f.c"
		[ "$output" -ge 2 ] || fail "$f.c marks no gap (TODO)"
		[ "$(wc -l <"$TP/$f.c")" -le 150 ] || fail "$f.c is over 150 lines"
	done
}

# code_check N: tp/verifier N in a throwaway host (as tp_step), its
# "À vous de coder" part in $output.
code_check() {
	run timeout -k 5 60 unshare --net --mount --uts --ipc --pid --fork --kill-child \
		--mount-proc --propagation private sh -c \
		'mount -t tmpfs tmpfs /run && ip link set lo up && PATH="$1:$PATH" "$2" "$3"' \
		sh "$MINIDOCK_BIN" "$TP/verifier" "$1"
	output=$(sed -n '/^À vous de coder/,$p' <<<"$output")
	[ -n "$output" ] || fail "tp/verifier $1 has no « À vous de coder » part"
}

@test "tp: tp/verifier 2, 3 and 4 pass the answers of « À vous de coder »" {
	for n in 2 3 4; do
		code_check "$n"
		assert_output --partial "✔ il compile sans avertissement"
		! grep -qF "  ✘ " <<<"$output" || fail "tp/verifier $n: $output"
	done
	assert_output --partial "✔ la paire tp-a / tp-b est créée"
	run ls /run/netns
	refute_output --partial "tp-"
}

@test "tp: tp/verifier 2, 3 and 4 say what the untouched skeletons miss, TODO by TODO" {
	unset TP_CODE
	code_check 2
	assert_output --partial "✘ le shell est le PID 1 de son namespace pid"
	assert_output --partial "→ TODO 1 : CLONE_NEWPID"
	assert_output --partial "✘ sa racine est l'image busybox"
	assert_output --partial "TODO 3 : pivot_root puis umount2"
	assert_output --partial "« isole: still in the host's uts or mount namespace: nothing done (TODO 1) »"
	assert_output --partial "✔ l'hôte garde son nom et ses montages"
	code_check 3
	assert_output --partial "✘ la limite de 32 Mio est écrite"
	assert_output --partial "Function not implemented"
	assert_output --partial "✘ la commande tourne dans le nouveau cgroup"
	assert_output --partial "→ TODO 2 : « 0 » écrit dans cgroup.procs"
	assert_output --partial "pas essayé avant les deux points ci-dessus"
	assert_output --partial "✔ le cgroup est supprimé après la commande"
	code_check 4
	assert_output --partial "✘ la paire tp-a / tp-b est créée"
	assert_output --partial "→ TODO 1 : le nom du pair"
	assert_output --partial "✘ tp-a a l'adresse 10.99.0.1/24"
	assert_output --partial "« veth: RTM_NEWADDR 10.99.0.1/24: Invalid argument »"
	# A broken program: the compiler's error, in the hint.
	mkdir -p "$TEST_TMP/code"
	printf 'int main(void) { return x; }\n' >"$TEST_TMP/code/veth.c"
	TP_CODE=$TEST_TMP/code code_check 4
	assert_output --partial "✘ il compile sans avertissement"
	assert_output --partial "la première : veth.c:1:"
	assert_output --partial "undeclared"
	refute_output --partial "la paire tp-a"
}

@test "tp: no expected output starts with a blank line (the student would look for it)" {
	run awk 'FNR == 1 { e = 0 } /^[ \t]*<!-- tp:expect -->$/ { e = 1; next }
		e == 1 && /^[ \t]*```/ { e = 2; next }
		e == 2 { if ($0 ~ /^[ \t]*$/) print FILENAME ":" FNR; e = 0 }' "$TP"/[0-9]*-*/README.md
	assert_output ""
}
