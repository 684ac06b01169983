#!/bin/sh
# try-release.sh RELEASE [DIR] - the README's promise, tried on a fresh
# machine of a Debian or Ubuntu RELEASE (bookworm, trixie; noble
# where an Ubuntu archive is reachable), as a teacher would before a lab.
#
#   1. debootstrap --variant=minbase RELEASE DIR (kept and reused: remove
#      DIR to start afresh; MIRROR=URL to choose the archive);
#   2. a clone of this repository's HEAD in DIR/src;
#   3. DIR entered as a machine: its own mount, pid, uts and ipc
#      namespaces, pivot_root(2) into it, the host's kernel and network;
#      /tmp a tmpfs, as Debian 13 has it;
#   4. inside, as root: apt-get install make sudo (a minimal system lacks
#      them; the host's local certificate authorities go in too, for a lab
#      behind a proxy), then the README's two commands, `sudo make demo` and
#      `sudo make check`.  Their output goes to DIR/src/try-release.log.
#
# Exit status: that of `make check` (0 when every test passed).  Run as
# root; it needs debootstrap (apt-get install debootstrap) and 3-4 GB in DIR.
set -eu

release=${1:?usage: tests/distro/try-release.sh RELEASE [DIR]}
dir=${2:-/var/tmp/minidock-try-$release}
repo=$(cd "$(dirname "$0")/../.." && pwd)

case $release in
jammy|noble|oracular|plucky) mirror=${MIRROR:-http://archive.ubuntu.com/ubuntu} ;;
*) mirror=${MIRROR:-http://deb.debian.org/debian} ;;
esac

[ "$(id -u)" -eq 0 ] || { echo "try-release.sh: run as root" >&2; exit 2; }
command -v debootstrap >/dev/null ||
	{ echo "try-release.sh: debootstrap is missing (apt-get install debootstrap)" >&2; exit 2; }

if [ ! -e "$dir/.debootstrap-done" ]; then
	mkdir -p "$dir"
	# Debian has no Ubuntu keyring: without one, the Release files of an
	# Ubuntu archive cannot be checked (say so, and go on).
	check=
	case $mirror in *ubuntu*)
		[ -e /usr/share/keyrings/ubuntu-archive-keyring.gpg ] || {
			echo "try-release.sh: no ubuntu-archive-keyring.gpg: signatures not checked" >&2
			check=--no-check-gpg; } ;;
	esac
	debootstrap $check --variant=minbase "$release" "$dir" "$mirror"
	# A real Ubuntu installation has universe (bats-support, bats-assert)
	# and the updates; debootstrap writes main only.
	case $mirror in *ubuntu*)
		echo "deb $mirror $release main universe
deb $mirror $release-updates main universe
deb $mirror $release-security main universe" > "$dir/etc/apt/sources.list" ;;
	esac
	touch "$dir/.debootstrap-done"
fi
# A lab behind a proxy with a certificate authority of its own (as this
# workplace is): the host's local CAs go in too, for apt, git and npm.
if [ -d /usr/local/share/ca-certificates ]; then
	mkdir -p "$dir/usr/local/share/ca-certificates"
	cp -r /usr/local/share/ca-certificates/. "$dir/usr/local/share/ca-certificates/"
fi
rm -rf "$dir/src"
git clone -q "$repo" "$dir/src"

status=0
unshare --mount --pid --uts --ipc --fork --propagation private sh -eu -c '
	root=$1
	mount --bind "$root" "$root"
	cd "$root"
	mount -t proc proc proc
	mount --rbind /sys sys
	mount --rbind /dev dev
	mount -t tmpfs tmpfs run
	mount -t tmpfs tmpfs tmp
	cp /etc/resolv.conf etc/resolv.conf
	hostname "try-$2"
	# An installed system names localhost in /etc/hosts, and Go programs
	# (skopeo) ask DNS otherwise; some debootstrap roots have no such line.
	grep -q "^127\.0\.0\.1[[:space:]].*localhost" etc/hosts 2>/dev/null ||
		printf "127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n" >> etc/hosts
	grep -q "[[:space:]]try-$2\$" etc/hosts ||
		printf "127.0.1.1\ttry-%s\n" "$2" >> etc/hosts
	mkdir -p .old
	pivot_root . .old
	umount -l /.old
	rmdir /.old
	exec env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive sh -c "
		apt-get update -qq && apt-get install -y -qq make sudo git ca-certificates >/dev/null &&
		update-ca-certificates >/dev/null &&
		echo cafile=/etc/ssl/certs/ca-certificates.crt > /etc/npmrc &&
		cd /src && { sudo make demo </dev/null && sudo make check; } > try-release.log 2>&1"
' sh "$dir" "$release" || status=$?
tail -n 3 "$dir/src/try-release.log"
exit $status
