#!/bin/sh
# fidelity.sh - what a process sees of its container, one "section: value"
# line each, in an order and a form that do not depend on the runtime:
# run by tests/fidelity.bats inside `run --rm` and inside `docker run --rm`
# on the same busybox image, and compared.  Plain busybox sh.

status() { sed -n "s/^$1:[[:space:]]*//p" /proc/self/status; }

echo "pid1: $(cat /proc/1/comm)"
for f in CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs Seccomp; do
	echo "$f: $(status $f)"
done
echo "uid: $(id -u) gid: $(id -g) groups: $(id -G)"
echo "dev: $(ls /dev | tr '\n' ' ')"
# Mount point, type (or "bind": a file or directory of another tree, whose
# filesystem is the host's business) and whether it is read-only.
while read -r _ _ _ root point opts rest; do
	type=${rest#*- }
	type=${type%% *}
	[ "$root" = / ] || type=bind
	case ",$opts," in *,ro,*) mode=ro ;; *) mode=rw ;; esac
	case $point in /proc/*|/sys/*) continue ;; esac
	echo "mount: $point $type $mode"
done < /proc/self/mountinfo | sort -u
if [ -r /sys/fs/cgroup/memory.max ] || [ -r /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
	echo "sys/fs/cgroup: its own limits"
else
	echo "sys/fs/cgroup: nothing"
fi
for f in hosts hostname resolv.conf; do
	if [ -w /etc/$f ] && (: >> /etc/$f) 2>/dev/null; then echo "etc/$f: writable"; else echo "etc/$f: read-only"; fi
done
echo "hosts: $(grep -v "$(hostname)" /etc/hosts | tr -s '\t ' ' ' | tr '\n' ';')"
# (the shell's own, and the sanitizers' options the test suite passes down
# the chain so that a sanitized tool reports, are not the container's)
echo "env: $(env | cut -d= -f1 | grep -v -E '^(_|SHLVL|PWD|ASAN_OPTIONS|UBSAN_OPTIONS|LSAN_OPTIONS)$' | sort | tr '\n' ' ')"
echo "HOME: $HOME"
echo "core: $(ulimit -c)"
echo "links: $(ls /sys/class/net | tr '\n' ' ')"
