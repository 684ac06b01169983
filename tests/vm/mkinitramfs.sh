#!/bin/sh
# mkinitramfs.sh OUT - the initramfs of the cgroup v2 test VM: Debian's
# busybox-static, the statically linked cg-limit, run and ns-enter (make
# static), the busybox image imported for run, the commands of TP step 3's
# cgroup v2 block, and the init script beside this file, archived in the
# "newc" cpio format the kernel unpacks into its first root filesystem.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$(dirname "$here")")
out=$1

root=$(mktemp -d "${TMPDIR:-/tmp}/minidock-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
for tool in cg-limit run ns-enter; do
	cp "$repo/bin-static/$tool" "$root/bin/$tool"
done
cp "$here/pgrep" "$root/bin/pgrep"   # busybox-static has none
chmod 755 "$root/bin/pgrep"
# overlayfs, for run's writable layer (fetch-kernel.sh)
if [ -s "$repo/images/build/vm/overlay.ko" ]; then
	cp "$repo/images/build/vm/overlay.ko" "$root/overlay.ko"
fi
# The teaching image, imported by the host's run (its img-unpack is not
# static) into a store of the VM's path: only the layer list names it.
lib=$root/var/lib/minidock
if [ -s "$repo/images/build/busybox.tar" ] && [ -x "$repo/bin/run" ]; then
	MINIDOCK_LIB_DIR=$lib MINIDOCK_RUN_DIR=$root/run-prep \
		"$repo/bin/run" --dry-run --name vm-import --network none \
		"$repo/images/build/busybox.tar" true >/dev/null
	MINIDOCK_LIB_DIR=$lib MINIDOCK_RUN_DIR=$root/run-prep \
		"$repo/bin/container" rm vm-import >/dev/null
	rm -rf "$root/run-prep"
	sed -i "s|^$lib/|/var/lib/minidock/|" "$lib/images/busybox/layers"
fi
# TP step 3, section 5 (tp/3-contraindre/README.md): the block that starts
# the limited sleep, the cgroup v2 block, and the one that stops it.
# Every ```sh block of the step, then the three picked by their lines.
awk '/^[ \t]*```sh/ { on = 1; next } /^[ \t]*```/ { on = 0 } on { sub(/^  /, ""); print }' \
	"$repo/tp/3-contraindre/README.md" > "$root/tp3-all.sh"
sed -n '/^cg-limit --name tp-mem --memory 48M/,/^cat \/proc\/\$PID\/cgroup/p;
	/^CG=\/sys\/fs\/cgroup\$(awk -F: .\$1 == 0/,/^cat \$CG\/memory.max/p;
	/^kill %1/,/le cgroup a disparu/p' "$root/tp3-all.sh" > "$root/tp3-v2.sh"
rm "$root/tp3-all.sh"
cp "$here/init" "$root/init"
chmod 755 "$root/init"
# The kernel opens /dev/console for init before any devtmpfs is mounted.
mknod -m 600 "$root/dev/console" c 5 1
(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null) > "$out"
