#!/bin/sh
# demo.sh - what `make demo` shows when there is no terminal: a container
# next to the host, one idea at a time.  Exits 0 when every step worked.
set -u
cd "$(dirname "$0")/.."
NS=bin/ns-enter
ROOTFS=images/build/busybox/rootfs
failed=0

step() { printf '\n== %s\n' "$*"; }
# Print a command the way a student would type it, then run it.
show() {
	printf '$'
	for word in "$@"; do
		case $word in
		*[!A-Za-z0-9_./=:,-]*) printf " '%s'" "$word" ;;
		*) printf ' %s' "$word" ;;
		esac
	done
	echo
	"$@" || { echo "(exit status $?)"; failed=1; }
}
container() { show "$NS" --all --hostname demo --root "$ROOTFS" -- "$@"; }

step "Its own hostname (uts namespace): the host's is unchanged"
show hostname
container hostname

step "Its own processes (pid namespace): PID 1 is ns-enter's init, the command PID 2"
container ps

step "Its own network (net namespace): only lo"
container ip -o link

step "Its own root filesystem (pivot_root): the busybox image, not the host's /"
container cat /etc/os-release
container sh -c 'cd /../../..; pwd; echo *'

step "Even an ordinary user can make one (user namespace): root inside, nobody outside"
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ]; then
	show setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$NS" --userns --all --root "$ROOTFS" -- sh -c 'id; cat /proc/self/uid_map'
else
	echo "(skipped: needs root and setpriv to become nobody)"
fi

step "What the kernel was asked (--verbose, first lines)"
printf '$ %s\n' "$NS --verbose --all --root $ROOTFS -- /bin/true"
"$NS" --verbose --all --root "$ROOTFS" -- /bin/true 2>&1 | head -n 16
echo "..."

step "COMMAND's exit status comes back through ns-enter"
printf '$ %s\n' "$NS --all --root $ROOTFS -- sh -c 'exit 3'; echo \$?"
"$NS" --all --root "$ROOTFS" -- sh -c 'exit 3'
status=$?
echo "$status"
[ "$status" -eq 3 ] || failed=1

echo
if [ "$failed" -ne 0 ]; then
	echo "Some step failed (see above)."
	exit 1
fi
echo "Run 'sudo make demo' in a terminal for a shell inside the container."
exit 0
