#!/bin/sh
# install-missing.sh PACKAGE[:COMMAND]... - apt-get install the Debian
# packages that are not installed yet, and do nothing when all are there.
# PACKAGE:COMMAND counts PACKAGE as present when COMMAND is on the PATH
# (Node.js or Chromium may come from elsewhere than Debian).
# Used by `make deps`, `make slides` and the bench/ scripts.
set -eu

missing=
for spec in "$@"; do
	pkg=${spec%%:*}
	cmd=${spec#"$pkg"}
	cmd=${cmd#:}
	if [ -n "$cmd" ] && command -v "$cmd" >/dev/null 2>&1; then
		continue
	fi
	dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $pkg"
done
[ -n "$missing" ] || exit 0

apt-get update -qq
# A package this release's archive does not have (Ubuntu 22.04 has no
# bats-assert): said, and left out, so that the others still install.
have=
for pkg in $missing; do
	if apt-cache show "$pkg" 2>/dev/null | grep -q '^Filename:'; then
		have="$have $pkg"
	else
		echo "install-missing: $pkg: not in this release's archive (apt-cache show $pkg): left out" >&2
	fi
done
missing=$have
[ -n "$missing" ] || exit 0
echo "installing:$missing"
# shellcheck disable=SC2086 # one word per package
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
