#!/bin/sh
# fetch-kernel.sh DIR - put Debian's stock amd64 kernel in DIR/vmlinuz.
#
# The kernel comes from the linux-image-6.1.0-*-amd64 package that the
# linux-image-amd64 metapackage depends on.  It is downloaded with
# apt-get download and unpacked with dpkg-deb -x: never installed.  Every
# cgroup controller, devtmpfs and the serial console are built in, so no
# module is needed.  Nothing is done when DIR/vmlinuz already exists.
set -eu

dir=$1
[ -s "$dir/vmlinuz" ] && exit 0
mkdir -p "$dir"

kernel_package() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1
}
pkg=$(kernel_package)
if [ -z "$pkg" ]; then    # no package lists yet (a fresh container image)
	apt-get update -qq >/dev/null 2>&1 || true
	pkg=$(kernel_package)
fi
if [ -z "$pkg" ]; then
	echo "fetch-kernel: no linux-image-*-amd64 package known to apt (apt-get update?)" >&2
	exit 1
fi

tmp=$(mktemp -d "$dir/fetch.XXXXXX")
chmod 755 "$tmp"   # apt-get download drops to the _apt user
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q "$pkg" >/dev/null)
dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/root"
cp "$tmp"/root/boot/vmlinuz-* "$dir/vmlinuz.part"
echo "$pkg" > "$dir/kernel-package"
mv "$dir/vmlinuz.part" "$dir/vmlinuz"
