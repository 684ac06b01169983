#!/bin/sh
# copie-etudiant.sh ARCHIVE [SLIDES] - the students' copy of minidock: the
# committed tree (HEAD) as ARCHIVE (.tar.gz), under a minidock/ directory,
# without what .gitattributes marks export-ignore (tp/corrige/: the answers,
# the teacher's guide and this script), plus the rendered slides of SLIDES
# (slides/build: every .html, .pdf and img/*.svg) when given.
#
# `make tp-etudiant` renders the slides, then calls this script.  It only
# reads the repository: uncommitted changes are not in the copy (a warning
# says so).  tp/corrige/GUIDE-ENSEIGNANT.md tells how to hand it out.
set -eu

out=${1:?usage: copie-etudiant.sh ARCHIVE [SLIDES_DIR]}
slides=${2:-}
case $out in /*) ;; *) out=$PWD/$out ;; esac
case $slides in /*|'') ;; *) slides=$PWD/$slides ;; esac
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

git rev-parse --verify -q HEAD >/dev/null || {
	echo "copie-etudiant: $repo is not a git checkout with a commit" >&2
	exit 1
}
git check-attr export-ignore -- tp/corrige/README.md | grep -q ': set$' || {
	echo "copie-etudiant: .gitattributes does not export-ignore tp/corrige/" >&2
	exit 1
}
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
	echo "copie-etudiant: warning: uncommitted changes are not in the copy (HEAD is)" >&2
fi

# git archive --add-file names each file by the last --prefix before it.
set --
if [ -n "$slides" ]; then
	found=
	for f in "$slides"/*.html "$slides"/*.pdf; do
		[ -f "$f" ] || continue
		set -- "$@" --prefix=minidock/slides/build/ --add-file="$f"
		found=1
	done
	[ -n "$found" ] || {
		echo "copie-etudiant: no rendered slides in $slides (make slides)" >&2
		exit 1
	}
	for f in "$slides"/img/*.svg; do
		[ -f "$f" ] && set -- "$@" --prefix=minidock/slides/build/img/ --add-file="$f"
	done
fi
git archive --format=tar.gz -o "$out.tmp" "$@" --prefix=minidock/ HEAD
mv "$out.tmp" "$out"
echo "$out"
