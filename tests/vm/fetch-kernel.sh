#!/bin/sh
# fetch-kernel.sh [--host] DIR - put a stock amd64 Linux kernel in
# DIR/vmlinuz, and its uncompressed form in DIR/vmlinux when QEMU can boot it.
#
# With --host (TP step 7), the running kernel, /boot/vmlinuz-$(uname -r),
# when it can be read (root on Debian and Ubuntu): no network at all.
# Otherwise, the kernel package the distribution's metapackage depends on:
# linux-image-amd64 (Debian: linux-image-6.1.0-*-amd64) or
# linux-image-generic (Ubuntu: linux-image-6.8.0-*-generic), downloaded
# with apt-get download and unpacked with dpkg-deb -x: never installed.
# That needs the distribution's archive (internet, or a local mirror).
# Debian's kernel has every cgroup controller, devtmpfs and the serial
# console built in, so no module is needed (tests/vm/run-vm.sh relies on it).
# What DIR already holds is kept.
#
# vmlinux: QEMU boots an ELF kernel directly (PVH entry point), which spares
# the emulated CPU the decompression of vmlinuz: seconds under TCG.
set -eu

host=
if [ "${1:-}" = --host ]; then host=1; shift; fi
dir=${1:?usage: fetch-kernel.sh [--host] DIR}
mkdir -p "$dir"

kernel_package() {
	for meta in linux-image-amd64 linux-image-generic; do
		apt-cache depends "$meta" 2>/dev/null |
			sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-\(amd64\|generic\)\)$/\1/p'
	done | head -n1
}

if [ ! -s "$dir/vmlinuz" ] && [ -n "$host" ] && [ -r "/boot/vmlinuz-$(uname -r)" ]; then
	cp "/boot/vmlinuz-$(uname -r)" "$dir/vmlinuz.tmp"
	echo "host kernel $(uname -r) (/boot/vmlinuz-$(uname -r))" > "$dir/kernel-package"
	mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
fi

if [ ! -s "$dir/vmlinuz" ]; then
	pkg=$(kernel_package)
	if [ -z "$pkg" ]; then    # no package lists yet (a fresh container image)
		apt-get update -qq >/dev/null 2>&1 || true
		pkg=$(kernel_package)
	fi
	if [ -z "$pkg" ]; then
		echo "fetch-kernel: no linux-image-*-amd64 or -generic package known to apt" \
			"(apt-get update needs the distribution's archive: internet or a mirror)" >&2
		exit 1
	fi
	tmp=$(mktemp -d "$dir/fetch.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	chmod 755 "$tmp"   # apt-get download drops to the _apt user
	if ! (cd "$tmp" && apt-get download -q "$pkg" >/dev/null); then
		echo "fetch-kernel: apt-get download $pkg failed: it needs the" \
			"distribution's archive (internet or a mirror)" >&2
		exit 1
	fi
	dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/root"
	echo "$pkg" > "$dir/kernel-package"
	mv "$tmp"/root/boot/vmlinuz-* "$dir/vmlinuz"   # atomic: tests may share DIR
fi

# overlay.ko, uncompressed, for run in the VM (the one module it needs: the
# initramfs has no /lib/modules, and busybox's insmod reads no .xz): from
# the package the kernel came from, downloaded again for an older DIR, or
# from the host's /lib/modules for the host's kernel.  None: run-vm.sh's
# run checks are skipped, and say why.
if [ ! -s "$dir/overlay.ko" ]; then
	pkg=$(cat "$dir/kernel-package" 2>/dev/null || true)
	mods=
	case $pkg in
	"host kernel"*) mods=/lib/modules/$(uname -r) ;;
	linux-image-*)
		# Debian's modules are in the image package, Ubuntu's beside it
		mtmp=$(mktemp -d "$dir/fetch.XXXXXX")
		chmod 755 "$mtmp"
		for p in "$pkg" "linux-modules-${pkg#linux-image-}"; do
			if (cd "$mtmp" && apt-get download -q "$p" >/dev/null 2>&1); then
				dpkg-deb -x "$mtmp"/"$p"_*.deb "$mtmp/root" && mods=$mtmp/root   # /lib/modules, /usr/lib/modules (Debian 13)
			fi
			[ -z "$(find "$mtmp/root" -name 'overlay.ko*' 2>/dev/null)" ] || break
		done ;;
	esac
	ko=$(find ${mods:-/nonexistent} -name 'overlay.ko*' 2>/dev/null | head -n1)
	case $ko in
	*.ko) cp "$ko" "$dir/overlay.ko.tmp" ;;
	*.ko.xz) xz -dc "$ko" > "$dir/overlay.ko.tmp" ;;
	*.ko.zst) zstd -dcq "$ko" > "$dir/overlay.ko.tmp" ;;
	esac
	[ -s "$dir/overlay.ko.tmp" ] && mv "$dir/overlay.ko.tmp" "$dir/overlay.ko"
	rm -rf "$dir/overlay.ko.tmp" ${mtmp:+"$mtmp"}
fi

# The x86 boot header (Documentation/arch/x86/boot.rst): setup_sects at
# 0x1f1, payload_offset at 0x248 and payload_length at 0x24c, from the
# protected-mode code, which starts after the (setup_sects + 1) sectors of
# 512 bytes.  The payload is compressed by xz (Debian), zstd or lz4
# (Ubuntu), or gzip: its first bytes say which.
if [ ! -s "$dir/vmlinux" ]; then
	sects=$(od -A n -t u1 -j $((0x1f1)) -N 1 "$dir/vmlinuz" | tr -d ' ')
	payload=$(od -A n -t u4 -j $((0x248)) -N 4 "$dir/vmlinuz" | tr -d ' ')
	length=$(od -A n -t u4 -j $((0x24c)) -N 4 "$dir/vmlinuz" | tr -d ' ')
	start=$(( (${sects:-4} + 1) * 512 + payload ))
	magic=$(od -A n -t x1 -j "$start" -N 6 "$dir/vmlinuz" | tr -d ' ')
	case $magic in
	fd377a585a00) unpack="xz -dc --single-stream" ;;
	28b52ffd*) unpack="zstd -dcq" ;;
	02214c18*) unpack="lz4 -dcq" ;;
	1f8b*) unpack="gzip -dc" ;;
	*) unpack= ;;
	esac
	part=$(mktemp "$dir/vmlinux.XXXXXX")
	if [ -n "$unpack" ] && command -v "${unpack%% *}" >/dev/null &&
	   tail -c +$((start + 1)) "$dir/vmlinuz" | head -c "${length:-0}" | $unpack > "$part" 2>/dev/null &&
	   # QEMU boots an ELF kernel only by its PVH note (Xen type 0x12).
	   { ! command -v readelf >/dev/null || readelf -n "$part" 2>/dev/null | grep -q 'Xen.*(0x00000012)'; }; then
		mv "$part" "$dir/vmlinux"
	else
		rm -f "$part"   # run-vm.sh and the TP boot vmlinuz then
	fi
fi
