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

echo "installing:$missing"
apt-get update -qq
# shellcheck disable=SC2086 # one word per package
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
