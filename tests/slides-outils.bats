#!/usr/bin/env bats
# slides-outils.bats - what the slides and their diagrams claim the tools do
# is what the tools do: every system call or rtnetlink message a slide shows
# (pivot_root(...), unshare(...), clone3(...), setns(...), mount(...),
# umount2(...), RTM_NEWLINK ...) appears in the tools' --verbose output, and
# every chain a slide or slides/img/chaine.svg draws is what run --dry-run
# prints.  "…" on a slide stands for anything.  Needs no Chromium: the
# slides are read as Markdown and SVG.

load helpers

SLIDES=$REPO/slides

setup() {
	common_setup
	require_root
	[ -x "$ROOTFS/bin/busybox" ] || skip "no busybox image (make images)"
	export MINIDOCK_NETNS_DIR=$TEST_TMP/netns
	throwaway_host
}

teardown() {
	local n
	# The containers § 2.13's test started (run -d), in the throwaway host.
	if [ -n "${HOLDER:-}" ] && [ -d "$MINIDOCK_RUN_DIR" ]; then
		for n in $(hns "$MINIDOCK_BIN/container" ls -q 2>/dev/null); do
			hns "$MINIDOCK_BIN/container" rm -f "$n"
		done >/dev/null 2>&1
	fi
	end_throwaway_host
	common_teardown
}

# pieces_match PATTERN FILE: a line of FILE holds the pieces of PATTERN
# ("…" between them), in order (as tests/tp.bats matches expected output).
pieces_match() {
	awk -v p="$1" '
	function found(l,   k, parts, i, pos) {
		k = split(p, parts, "…")
		for (i = 1; i <= k; i++) {
			if (parts[i] == "") continue
			pos = index(l, parts[i]); if (pos == 0) return 0
			l = substr(l, pos + length(parts[i]))
		}
		return 1
	}
	found($0) { ok = 1; exit } END { exit !ok }' "$2"
}

# The tools' traces in $TEST_TMP/verbose.txt, with the test's private
# directories named as on a student's machine (/run/netns).
traces() {
	local out=$TEST_TMP/verbose.txt pid init=
	{
		hns "$MINIDOCK_BIN/ns-enter" --verbose --all --root "$ROOTFS" -- true
		hns "$MINIDOCK_BIN/ns-enter" --verbose --uts --hostname test -- true
		hns "$MINIDOCK_BIN/ns-enter" --verbose --time-offset boottime=86400 -- true
		hns "$MINIDOCK_BIN/net-bridge" --verbose --name web --publish 8080:80 -- true
		# § 2.13: a user-defined network, its own bridge (network(1))
		hns "$MINIDOCK_BIN/network" create app
		hns "$MINIDOCK_BIN/net-bridge" --verbose --network app --name db -- true
	} >"$out" 2>&1 || fail "a traced tool failed: $(cat "$out")"
	# --target: a container that runs, entered, then stopped.
	nsenter -t "$HOLDER" -n -m -- "$MINIDOCK_BIN/ns-enter" --all --root "$ROOTFS" -- sleep 30 \
		</dev/null >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 250); do
		init=$(pgrep -P "$pid") && break
		sleep 0.02
	done
	[ -n "$init" ] || fail "the container to enter did not start"
	hns "$MINIDOCK_BIN/ns-enter" --verbose --target "$init" -- true >>"$out" 2>&1 ||
		fail "ns-enter --target failed: $(cat "$out")"
	kill "$pid"
	wait "$pid" || true
	sed -i "s|$MINIDOCK_NETNS_DIR|/run/netns|g" "$out"
}

# The system calls the slides show, one a line: `name(args)` in inline code
# or in code blocks of slides/*.md, for the calls the tools trace.
slide_calls() {
	grep -ohE '\b(clone3?|unshare|setns|pivot_root|umount2|mount|sethostname|chdir)\([^()]*\)' \
		"$SLIDES"/[0-9][0-9]-*.md | grep -vE '\([0-9]\)$' | sort -u    # not man pages: pivot_root(2)
}

# The rtnetlink and nftables lines of the slides' text blocks: what comes
# before the comment (two spaces or more).
slide_messages() {
	awk '/^```/ { code = !code; next } code && /^(RTM_|nft )/' "$SLIDES"/[0-9][0-9]-*.md |
		sed -E 's/  +.*//' | sort -u
}

@test "slides-outils: every system call a slide shows is in the tools' --verbose output" {
	local verbose=$TEST_TMP/verbose.txt call n=0
	traces
	while IFS= read -r call; do
		pieces_match "$call" "$verbose" ||
			fail "a slide shows $call; no tool traces it (--verbose): $(grep -F "${call%%(*}(" "$verbose" | head -5)"
		n=$((n + 1))
	done < <(slide_calls)
	[ "$n" -ge 8 ] || fail "only $n system calls found on the slides"
	# The ones the issue was about, in the form the tools use.
	slide_calls | grep -qxF 'pivot_root(".", ".")'
	slide_calls | grep -qxF 'umount2(".", MNT_DETACH)'
}

@test "slides-outils: every rtnetlink message a slide shows is one net-bridge sends" {
	local verbose=$TEST_TMP/verbose.txt msg n=0
	traces
	while IFS= read -r msg; do
		pieces_match "$msg" "$verbose" || fail "a slide shows $msg; net-bridge --verbose does not"
		n=$((n + 1))
	done < <(slide_messages)
	[ "$n" -ge 5 ] || fail "only $n rtnetlink lines found on the slides"
	# One RTM_NEWLINK makes the pair with its end already in the container.
	run grep -c '^RTM_NEWLINK veth-web' <(slide_messages)
	assert_output 2     # the pair, then its host end on the bridge
}

# dry_run ARGS...: run --dry-run, on one line, as on a student's machine.
dry_run() {
	hns env PATH="$MINIDOCK_BIN:$PATH" "$MINIDOCK_BIN/run" --dry-run "$@" 2>/dev/null |
		sed -e 's/\\$//' -e "s|$MINIDOCK_BIN/||g" -e "s|$MINIDOCK_RUN_DIR|/run/minidock|g" \
			-e "s|$MINIDOCK_LIB_DIR|/var/lib/minidock|g" \
			-e "s|$MINIDOCK_NETNS_DIR|/run/netns|g" |
		tr -s ' \n' '  '
}

@test "slides-outils: the chain of § 2.7 is what run --dry-run prints" {
	local block cmd real
	# The slide's block: its first line is the command, the rest its output.
	block=$(awk '/^```sh$/ { code = 1; n = 0; next } /^```/ { code = 0 }
		code && ++n == 1 && /run --dry-run/ { take = 1 } code && take { print } !code { take = 0 }' \
		"$SLIDES/02-conteneur.md")
	[ -n "$block" ] || fail "no run --dry-run block on the slides"
	cmd=$(head -n1 <<<"$block" | sed -E 's/^[#$] run --dry-run //')
	# shellcheck disable=SC2086
	real=$(dry_run $cmd)
	echo "$real" >"$TEST_TMP/real.txt"
	pieces_match "$(tail -n +2 <<<"$block" | sed 's/\\$//' | tr -s ' \n' '  ' | sed 's/^ //')" \
		"$TEST_TMP/real.txt" || fail "the slide's chain: $block
run --dry-run $cmd: $real"
}

@test "slides-outils: img/chaine.svg draws the chain run --dry-run prints, the command as PID 1" {
	local svg=$SLIDES/img/chaine.svg line real
	real=$(dry_run --name web --memory 64M --pids-limit 64 -p 8080:80 busybox httpd -f -p 80)
	echo "$real" >"$TEST_TMP/real.txt"
	grep -q -- '--net=/run/netns/web' "$svg" || fail "chaine.svg: ns-enter without --net=/run/netns/web"
	while IFS= read -r line; do
		pieces_match "$line" "$TEST_TMP/real.txt" || fail "chaine.svg draws $line; run --dry-run: $real"
	done < <(sed -nE 's/.*<text[^>]*class="code"[^>]*>([^<]*)<\/text>.*/\1/p' "$svg")
	# run puts no init as PID 1 unless --init: the diagram says so.
	grep -q -- '--no-init' "$TEST_TMP/real.txt"
	grep -q 'PID 1' "$svg" && grep -q -- '--init' "$svg"
}

@test "slides-outils: the slides name the cgroup files cg-limit writes, and no sudo before a tool" {
	local file
	for file in $(grep -ohE '\b(memory\.(max|peak|current|limit_in_bytes)|cpu\.max|pids\.max|cpu\.cfs_(quota|period)_us)\b' \
		"$SLIDES"/[0-9][0-9]-*.md | sort -u); do
		grep -rqF "\"$file\"" "$REPO/cmd/cg-limit.c" "$REPO"/common/*.c ||
			fail "a slide names $file, which cg-limit never uses"
	done
	# sudo's secure_path drops bin/: a slide must not show sudo TOOL.
	run grep -nE 'sudo +(img-unpack|ns-enter|cg-limit|net-bridge|run|container)\b' \
		"$SLIDES"/[0-9][0-9]-*.md "$REPO"/tp/*/README.md
	assert_output ""
}

# slide_block FIRST: the lines after FIRST (a code block's first line,
# a fixed string) up to the end of that block, in slides/02-conteneur.md.
slide_block() {
	awk -v first="$1" '/^```/ { if (take) exit; code = !code; next }
		take { print } code && index($0, first) == 1 { take = 1 }' "$SLIDES/02-conteneur.md"
}

# every_line BLOCK FILE: each non-empty line of BLOCK is (in pieces) a line
# of FILE.
every_line() {
	local line n=0
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		pieces_match "$line" "$2" || fail "the slide shows « $line »; the tools: $(cat "$2")"
		n=$((n + 1))
	done <<<"$1"
	[ "$n" -ge 2 ] || fail "the slide's block has $n lines"
}

@test "slides-outils: § 2.13 shows the hosts file, the volume, the chain's mount and compose's commands the tools make" {
	local P=s$(printf %04x $((RANDOM % 65536))) yaml block
	[ -f "$IMAGES/busybox.tar" ] || skip "no teaching image (make images)"
	export MINIDOCK_IMAGES=$IMAGES
	# The names, as on the slide: $P- (unique on the machine: cgroups) taken off.
	names() {
		sed -e "s/$P-//g" -e "s/${P}x/boutique/g" -e "s|$MINIDOCK_LIB_DIR|/var/lib/minidock|g" \
			-e "s|$MINIDOCK_RUN_DIR|/run/minidock|g"
	}

	# The names: db, then web (alias www) on network app; web's /etc/hosts.
	hns "$MINIDOCK_BIN/network" create app >/dev/null
	hns "$MINIDOCK_BIN/run" -d --name "$P-db" --network app -v "$P-donnees:/data" busybox sleep 600 >/dev/null
	hns "$MINIDOCK_BIN/run" -d --name "$P-web" --network app --network-alias www busybox sleep 600 >/dev/null
	hns "$MINIDOCK_BIN/container" exec "$P-web" cat /etc/hosts | names >"$TEST_TMP/hosts"
	block=$(slide_block '$ container exec web cat /etc/hosts')
	every_line "$block" "$TEST_TMP/hosts"
	# Its source: a file of the container's directory, mounted by ns-enter.
	grep -qF -- '`--volume …/hosts:/etc/hosts`' "$SLIDES/02-conteneur.md" || fail "§ 2.13 lost its --volume"
	dry_run --name "$P-web2" --network app busybox true | names >"$TEST_TMP/chain"
	pieces_match "--volume /run/minidock/web2/hosts:/etc/hosts" "$TEST_TMP/chain" ||
		fail "run --dry-run: $(cat "$TEST_TMP/chain")"
	# The volume's place on the host.
	grep -qF '`/var/lib/minidock/volumes/donnees/_data`' "$SLIDES/02-conteneur.md" || fail "§ 2.13 lost the volume's path"
	hns "$MINIDOCK_BIN/volume" inspect "$P-donnees" | names >"$TEST_TMP/volume"
	grep -qF '"Mountpoint": "/var/lib/minidock/volumes/donnees/_data"' "$TEST_TMP/volume" ||
		fail "volume inspect: $(cat "$TEST_TMP/volume")"

	# compose: the slide's file, up with --verbose, prints the slide's commands.
	yaml=$(awk '/^## 2\.13 / { on = 1 } on && /^```yaml$/ { y = 1; next } y && /^```/ { exit } y' \
		"$SLIDES/02-conteneur.md")
	[ -n "$yaml" ] || fail "no compose.yaml on § 2.13"
	mkdir -p "$TEST_TMP/boutique/www"
	printf '%s\n' "$yaml" >"$TEST_TMP/boutique/compose.yaml"
	hns "$MINIDOCK_BIN/compose" -f "$TEST_TMP/boutique/compose.yaml" -p "${P}x" --verbose up -d 2>&1 |
		grep '^compose:' | names >"$TEST_TMP/up"
	block=$(slide_block '$ compose --verbose up -d')
	every_line "$block" "$TEST_TMP/up"
	# In the order of depends_on: db, then web.
	run grep -n 'run -d' "$TEST_TMP/up"
	assert_line --index 0 --partial "--name=boutique-db-1"
	assert_line --index 1 --partial "--name=boutique-web-1"
	run hns "$MINIDOCK_BIN/compose" -f "$TEST_TMP/boutique/compose.yaml" -p "${P}x" down -v
	assert_success
	run hns "$MINIDOCK_BIN/volume" ls -q
	refute_output --partial "${P}x"
}
