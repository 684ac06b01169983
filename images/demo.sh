#!/bin/sh
# demo.sh - what `make demo` shows when there is no terminal: a few
# commands inside a container, each next to what the host sees.
set -u
cd "$(dirname "$0")/.."
ROOTFS=images/build/busybox/rootfs
say() { printf '\n$ %s\n' "$*"; }

say "hostname   (on the host)"; hostname
say "bin/ns-enter --all --hostname demo --root $ROOTFS -- /bin/sh -c 'hostname; ps; ip -o link; ls /'"
bin/ns-enter --all --hostname demo --root "$ROOTFS" -- \
	/bin/sh -c 'echo "hostname: $(hostname)"; ps; ip -o link; ls /'
status=$?
echo
echo "The container saw its own hostname, PID 1 and only lo: exit status $status."
exit $status
