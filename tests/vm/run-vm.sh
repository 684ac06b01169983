#!/bin/sh
# run-vm.sh WORKDIR - boot Debian's stock kernel under QEMU with a busybox
# initramfs whose init (tests/vm/init) checks cg-limit on a pure cgroup v2
# system, and print the serial console: tests/cg-limit.bats reads the
# "VMTEST ..." lines.
#
# KVM only when the CPU really offers it (vmx or svm): the paravirtual
# /dev/kvm of some cloud VMs cannot boot a stock kernel, and QEMU's TCG
# (pure emulation) boots this one in a few seconds, faster still from the
# uncompressed vmlinux (fetch-kernel.sh).  -M pc: microvm hangs under TCG.
# panic=-1 and -no-reboot turn a kernel panic into QEMU's exit, and
# timeout(1) stops a VM that hangs anyway.  loglevel=2: kernel messages
# (the OOM killer's) would interleave with the lines the test reads.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$(dirname "$here")")
work=$1
cache=$repo/images/build/vm

sh "$here/fetch-kernel.sh" "$cache"
# flock: other checkouts' tests may build the same tree at the same time
mkdir -p "$repo/build-static"
flock "$repo/build-static/.lock" make -s -C "$repo" static >/dev/null
sh "$here/mkinitramfs.sh" "$work/initramfs.cpio"

accel=tcg
if grep -qwE 'vmx|svm' /proc/cpuinfo && [ -w /dev/kvm ]; then
	accel=kvm
fi
kernel=$cache/vmlinuz
[ -s "$cache/vmlinux" ] && kernel=$cache/vmlinux
echo "VMHOST accel: $accel, kernel: $kernel"
exec timeout "${VM_TIMEOUT:-120}" qemu-system-x86_64 \
	-M pc -accel "$accel" -smp 2 -m 256 \
	-nodefaults -display none -serial stdio -monitor none -no-reboot \
	-kernel "$kernel" -initrd "$work/initramfs.cpio" \
	-append "console=ttyS0 panic=-1 quiet loglevel=2" </dev/null
