#!/bin/sh
# fetch-kernel.sh DIR - put Debian's stock amd64 kernel in DIR/vmlinuz, and
# its uncompressed form in DIR/vmlinux.
#
# The kernel comes from the linux-image-6.1.0-*-amd64 package that the
# linux-image-amd64 metapackage depends on.  It is downloaded with
# apt-get download and unpacked with dpkg-deb -x: never installed.  Every
# cgroup controller, devtmpfs and the serial console are built in, so no
# module is needed.  What DIR already holds is kept.
#
# vmlinux: QEMU boots an ELF kernel directly (PVH entry point), which spares
# the emulated CPU the xz decompression of vmlinuz: seconds under TCG.
set -eu

dir=$1
mkdir -p "$dir"

kernel_package() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1
}

if [ ! -s "$dir/vmlinuz" ]; then
	pkg=$(kernel_package)
	if [ -z "$pkg" ]; then    # no package lists yet (a fresh container image)
		apt-get update -qq >/dev/null 2>&1 || true
		pkg=$(kernel_package)
	fi
	if [ -z "$pkg" ]; then
		echo "fetch-kernel: no linux-image-*-amd64 package known to apt" >&2
		exit 1
	fi
	tmp=$(mktemp -d "$dir/fetch.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	chmod 755 "$tmp"   # apt-get download drops to the _apt user
	(cd "$tmp" && apt-get download -q "$pkg" >/dev/null)
	dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/root"
	echo "$pkg" > "$dir/kernel-package"
	mv "$tmp"/root/boot/vmlinuz-* "$dir/vmlinuz"   # atomic: tests may share DIR
fi

# The x86 boot header (Documentation/arch/x86/boot.rst): setup_sects at
# 0x1f1, payload_offset at 0x248 from the protected-mode code, which starts
# after the (setup_sects + 1) sectors of 512 bytes.
if [ ! -s "$dir/vmlinux" ] && command -v xz >/dev/null; then
	sects=$(od -A n -t u1 -j $((0x1f1)) -N 1 "$dir/vmlinuz" | tr -d ' ')
	payload=$(od -A n -t u4 -j $((0x248)) -N 4 "$dir/vmlinuz" | tr -d ' ')
	start=$(( (${sects:-4} + 1) * 512 + payload ))
	magic=$(od -A n -t x1 -j "$start" -N 6 "$dir/vmlinuz" | tr -d ' ')
	part=$(mktemp "$dir/vmlinux.XXXXXX")
	if [ "$magic" = fd377a585a00 ] &&
	   tail -c +$((start + 1)) "$dir/vmlinuz" | xz -dc --single-stream > "$part"; then
		mv "$part" "$dir/vmlinux"
	else
		rm -f "$part"   # run-vm.sh boots vmlinuz then
	fi
fi
