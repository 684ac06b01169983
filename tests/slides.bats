#!/usr/bin/env bats
# slides.bats - the course slides (slides/) render without network to HTML
# and PDF, and what a student opens works: every slide is shown and nothing
# on it is cut off, every diagram loads, every link and anchor resolves, the
# PDF has one page per slide.  Needs what `make slides` installs.

load helpers

SLIDES=$REPO/slides

# Render once for the whole file, in a private directory, inside a network
# namespace of its own: no CDN, no registry, nothing but the disk.
# (bats 1.8 cannot skip from setup_file: the reason waits in a file for setup.)
setup_file() {
	export SLIDES_BUILD=$BATS_FILE_TMPDIR/build SLIDES_SKIP=$BATS_FILE_TMPDIR/skip
	if [ "${MINIDOCK_SAN:-}" = 1 ]; then
		echo "the slides run no C code: checked in the first pass only" >"$SLIDES_SKIP"
		return 0
	fi
	# Ubuntu: Qt WebEngine prints the PDF (Chromium is a snap there: see
	# slides/Makefile), and nothing can start the headless Chromium of
	# check-render.mjs.
	PDF_WITH=$(make -s -C "$SLIDES" pdf-with)
	export PDF_WITH
	if [ "$PDF_WITH" = qt ]; then
		python3 -c 'import PyQt6.QtWebEngineCore' 2>/dev/null || {
			echo "python3-pyqt6.qtwebengine missing: run make slides first (it installs it)" >"$SLIDES_SKIP"
			return 0; }
	elif ! [ -x "${CHROME_PATH:-/usr/bin/chromium}" ]; then
		echo "Chromium missing: run make slides first (it installs it)" >"$SLIDES_SKIP"
		return 0
	fi
	if ! [ -x "$SLIDES/node_modules/.bin/marp" ] || ! command -v pdfinfo >/dev/null; then
		echo "Marp CLI or pdfinfo missing: run make slides first (it installs them)" >"$SLIDES_SKIP"
		return 0
	fi
	local offline= status=0
	[ "$(id -u)" -ne 0 ] || offline="unshare --net"
	$offline make -s -C "$SLIDES" BUILD="$SLIDES_BUILD" \
		>"$BATS_FILE_TMPDIR/make.out" 2>&1 || status=$?
	echo "$status" >"$BATS_FILE_TMPDIR/make.status"
}

setup() {
	[ ! -s "$SLIDES_SKIP" ] || skip "$(cat "$SLIDES_SKIP")"
	common_setup
}
teardown() { common_teardown; }

decks() {
	for md in "$SLIDES"/[0-9][0-9]-*.md; do basename "$md" .md; done
}

# Slides in a Marp file: the `---` lines outside code blocks, less the two
# of the front matter, plus one.
slides_in() {
	awk '/^```/ { code = !code } !code && /^---$/ { n++ } END { print n - 1 }' "$1"
}

@test "slides: make slides renders every deck to HTML and PDF without network" {
	run cat "$BATS_FILE_TMPDIR/make.out"
	[ "$(cat "$BATS_FILE_TMPDIR/make.status")" -eq 0 ] || fail "make slides failed: $output"
	[ "$(decks | wc -l)" -ge 2 ] || fail "fewer than two decks in slides/"
	for deck in $(decks); do
		[ -s "$SLIDES_BUILD/$deck.html" ] || fail "no $deck.html"
		[ -s "$SLIDES_BUILD/$deck.pdf" ] || fail "no $deck.pdf"
	done
	for svg in "$SLIDES"/img/*.svg; do
		cmp -s "$svg" "$SLIDES_BUILD/img/${svg##*/}" || fail "img/${svg##*/} not beside the HTML"
	done
	run find "$SLIDES_BUILD" -name "*.tmp"
	assert_output ""
}

@test "slides: in headless Chromium every slide shows, every image loads, every link resolves" {
	[ "$PDF_WITH" != qt ] ||
		skip "no Chromium to drive here (Ubuntu's is a snap): the PDF comes from Qt WebEngine, checked page by page below"
	local offline=
	[ "$(id -u)" -ne 0 ] || offline="unshare --net"
	run env TMPDIR="$TEST_TMP" $offline node "$SLIDES/check-render.mjs" "$SLIDES_BUILD"/*.html
	assert_success
	for deck in $(decks); do
		assert_line --regexp "^$deck.html: $(slides_in "$SLIDES/$deck.md") slides, "
	done
}

@test "slides: each PDF has one page per slide of its Markdown" {
	for deck in $(decks); do
		run pdfinfo "$SLIDES_BUILD/$deck.pdf"
		assert_success
		assert_line --regexp "^Pages: +$(slides_in "$SLIDES/$deck.md")$"
	done
}

@test "slides: every section anchor of slides/README.md exists, and every section is listed" {
	run grep -ohE '`s[0-9]+-[0-9]+`' "$SLIDES/README.md"
	assert_success
	local listed=$output anchor deck n=0
	for anchor in $listed; do
		anchor=${anchor//\`/}
		grep -lq "id=\"$anchor\"" "$SLIDES_BUILD"/*.html || fail "README lists $anchor: no slide has it"
		n=$((n + 1))
	done
	for deck in $(decks); do
		for anchor in $(grep -oE '^## [0-9]+\.[0-9]+ ' "$SLIDES/$deck.md" | sed -E 's/## ([0-9]+)\.([0-9]+) /s\1-\2/'); do
			grep -q "id=\"$anchor\"" "$SLIDES_BUILD/$deck.html" || fail "$deck: no anchor $anchor"
			[[ " $(echo $listed | tr -d '`') " == *" $anchor "* ]] || fail "$deck: $anchor not in slides/README.md"
		done
	done
	[ "$n" -ge 20 ] || fail "only $n sections listed"
}

@test "slides: every diagram of slides/img appears on a slide" {
	for svg in "$SLIDES"/img/*.svg; do
		grep -q "img/${svg##*/}" "$SLIDES"/[0-9][0-9]-*.md || fail "img/${svg##*/} is on no slide"
	done
}

@test "slides: part 2 maps every minidock tool and every TP step" {
	local part2=$SLIDES/02-conteneur.md
	for tool in img-unpack ns-enter cg-limit net-bridge run img-build network volume compose; do
		grep -q "\`$tool" "$part2" || fail "part 2 never names $tool"
	done
	for step in 0 1 2 3 4 5 6 7 8 9 10; do
		grep -q "TP, étape $step" "$part2" || fail "part 2 never points at TP step $step"
	done
}

@test "slides: every label of the diagrams is at least 16 px, readable on a projector" {
	local svg size
	for svg in "$SLIDES"/img/*.svg; do
		for size in $(grep -oE 'font-size(="|: *)[0-9.]+' "$svg" | grep -oE '[0-9.]+$'); do
			awk -v s="$size" 'BEGIN { exit !(s >= 16) }' ||
				fail "img/${svg##*/}: a label of ${size} px (at least 16)"
		done
	done
}

@test "slides: the seed deck's notions stay, what is beyond the course is optional, each part-2 section is summed up" {
	local part1=$SLIDES/01-virtualisation.md part2=$SLIDES/02-conteneur.md notion
	for notion in cloisonnement 'VPS' 'Virtual Environment' 'même architecture' 'moins isolée' \
		'Un seul hyperviseur par machine' 'dom0' 'Hyper-V' 'Deux profils' 'développeur' \
		'administrateur réseau / cloud' 'de préférence un par conteneur'; do
		grep -qF "$notion" "$part1" || fail "part 1 lost the seed deck's « $notion »"
	done
	# One framing: containers are isolators, under system virtualisation.
	# (the table "système | applicative": no container in its third column)
	run awk -F'|' '$2 ~ /exemples/ && $4 ~ /onteneur|Docker/' "$part1"
	assert_output ""
	grep -qE '^\| exemples \|.*isolateurs.*conteneurs.*\| machine Java' "$part1" ||
		fail "part 1: containers are not filed under system virtualisation"
	# Beyond the course: marked optional (the two lines before the title).
	for title in 'Popek et Goldberg' 'Des évasions réelles'; do
		run grep -h -B3 "^## $title" "$part1" "$part2"
		assert_output --partial '_class: optionnel'
	done
	# Every section of part 2 but the synthesis (2.10) ends with « À retenir ».
	run awk '/^```/ { code = !code } code { next }
		/^## 2\.[0-9]+ / { if (open != "") print open; open = ($2 == "2.10") ? "" : $2 }
		/^## À retenir/ { open = "" }
		END { if (open != "") print open }' "$part2"
	assert_output ""
}
