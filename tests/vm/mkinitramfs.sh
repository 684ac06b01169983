#!/bin/sh
# mkinitramfs.sh OUT - the initramfs of the cgroup v2 test VM: Debian's
# busybox-static, the statically linked cg-limit (make static) and the init
# script beside this file, archived in the "newc" cpio format the kernel
# unpacks into its first root filesystem.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$(dirname "$here")")
out=$1

root=$(mktemp -d "${TMPDIR:-/tmp}/minidock-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$repo/bin-static/cg-limit" "$root/bin/cg-limit"
cp "$here/init" "$root/init"
chmod 755 "$root/init"
# The kernel opens /dev/console for init before any devtmpfs is mounted.
mknod -m 600 "$root/dev/console" c 5 1
(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null) > "$out"
