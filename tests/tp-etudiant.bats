#!/usr/bin/env bats
# tp-etudiant.bats - the students' copy (make tp-etudiant): every step of the
# TP, the rendered slides, and no answer.  It archives the committed tree
# (HEAD) with git archive, less what .gitattributes marks export-ignore.

load helpers

setup() {
	common_setup
	command -v git >/dev/null || skip "git is not installed"
	git -C "$REPO" rev-parse --verify -q HEAD >/dev/null || skip "not a git checkout"
	# Stand-in rendered slides (tests/slides.bats renders the real ones).
	SLIDES=$TEST_TMP/slides
	mkdir -p "$SLIDES/img"
	echo '<html>' >"$SLIDES/01-virtualisation.html"
	echo '%PDF' >"$SLIDES/01-virtualisation.pdf"
	echo '<svg/>' >"$SLIDES/img/chaine.svg"
}
teardown() { common_teardown; }

# copy: build the students' copy into $TEST_TMP/etudiant.tar.gz and unpack it.
copy() {
	run sh "$REPO/tp/corrige/copie-etudiant.sh" "$TEST_TMP/etudiant.tar.gz" "$SLIDES"
	assert_success
	assert_line "$TEST_TMP/etudiant.tar.gz"
	mkdir "$TEST_TMP/x"
	tar -xzf "$TEST_TMP/etudiant.tar.gz" -C "$TEST_TMP/x"
	COPY=$TEST_TMP/x/minidock
}

@test "tp-etudiant: make tp-etudiant renders the slides, then builds the copy" {
	run make -n -C "$REPO" tp-etudiant
	assert_success
	assert_output --partial "slides"
	assert_output --partial "tp/corrige/copie-etudiant.sh minidock-etudiant.tar.gz slides/build"
}

@test "tp-etudiant: the copy holds every step, the verifier and the rendered slides" {
	copy
	local readme n=0
	for readme in $(git -C "$REPO" ls-tree -r --name-only HEAD tp/ | grep -E '^tp/[0-9]+-[^/]+/README\.md$'); do
		[ -s "$COPY/$readme" ] || fail "$readme is not in the students' copy"
		n=$((n + 1))
	done
	[ "$n" -ge 8 ] || fail "only $n steps in the copy"
	[ -s "$COPY/tp/README.md" ] && [ -x "$COPY/tp/verifier" ] && [ -s "$COPY/Makefile" ]
	[ -s "$COPY/slides/build/01-virtualisation.html" ] || fail "no rendered HTML"
	[ -s "$COPY/slides/build/01-virtualisation.pdf" ] || fail "no rendered PDF"
	[ -s "$COPY/slides/build/img/chaine.svg" ] || fail "no diagram beside the HTML"
	# The C exercises, with their gaps, and make exercices builds them there.
	for f in 2-isoler/isole 3-contraindre/limite 4-connecter/veth; do
		grep -q TODO "$COPY/tp/$f.c" || fail "tp/$f.c, with its TODOs, is not in the copy"
	done
	run make -C "$COPY" -s BUILD="$TEST_TMP/build" exercices
	assert_success
	[ -x "$TEST_TMP/build/tp/4-connecter/veth" ] || fail "make exercices built nothing in the copy"
}

@test "tp-etudiant: the copy holds no answer, no teacher's guide, no link to them" {
	copy
	[ ! -e "$COPY/tp/corrige" ] || fail "tp/corrige/ is in the students' copy"
	run find "$COPY" -iname '*corrige*' -o -iname '*GUIDE-ENSEIGNANT*'
	assert_output ""
	# No answer key heading, no link into tp/corrige, anywhere.
	run grep -rlE '^# Corrigé|\]\((\.\./)*(tp/)?corrige' "$COPY"
	assert_output ""
}

@test "tp-etudiant: without rendered slides, the copy is refused with a reason" {
	run sh "$REPO/tp/corrige/copie-etudiant.sh" "$TEST_TMP/e.tar.gz" "$TEST_TMP/nothing"
	assert_failure
	assert_output --partial "no rendered slides"
	[ ! -e "$TEST_TMP/e.tar.gz" ]
}
