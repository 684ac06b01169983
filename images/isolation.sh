#!/bin/sh
# isolation - what the kernel lets this container see and do, read from
# /proc and /sys: namespaces, capabilities, seccomp, no_new_privs, masked
# and read-only paths, cgroup limits.  Installed as /usr/bin/isolation in
# the teaching image; run it inside a container, then on the host, and
# compare.  (busybox sh; see namespaces(7), capabilities(7), seccomp(2),
# proc(5).)

status() { # status FIELD: the value of FIELD in /proc/self/status
	sed -n "s/^$1:[[:space:]]*//p" /proc/self/status
}

# capabilities(7), bit number = position in this list.
CAPS="CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID
SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW
IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT
SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE
AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM
BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE"

decode_caps() { # decode_caps HEX: "(N) NAME NAME..." of a capability mask
	mask=$((0x$1)) bit=0 n=0 names=
	for name in $CAPS; do
		if [ $(((mask >> bit) & 1)) -eq 1 ]; then
			names="$names $name"
			n=$((n + 1))
		fi
		bit=$((bit + 1))
	done
	[ $n -eq 0 ] && names=" none"
	echo "($n)$names"
}

echo "== namespaces"
# The kernel numbers its initial (host) namespaces 0xEFFFFFF8..0xEFFFFFFF;
# before 6.18, mnt and net had no fixed number.
for ns in cgroup ipc mnt net pid time user uts; do
	link=$(readlink /proc/self/ns/$ns 2>/dev/null) || continue
	ino=${link#*[}
	ino=${ino%]}
	if [ "$ino" -ge 4026531832 ] && [ "$ino" -le 4026531839 ]; then
		who="the host's (initial)"
	elif [ $ns = mnt ] || [ $ns = net ]; then
		who="its own (unsure before Linux 6.18)"
	else
		who="its own"
	fi
	printf '%-7s %-22s %s\n' "$ns" "$link" "$who"
done
echo "processes visible: $(ls -d /proc/[0-9]* | wc -l)"
# The initial user namespace maps all 2^32 ids onto themselves.
if [ "$(awk '{print $1, $2, $3}' /proc/self/uid_map)" = "0 0 4294967295" ]; then
	echo "user ids: the host's own (uid 0 here is root of the host, held back by what follows)"
else
	echo "user ids: mapped ($(awk '{printf "%s->%s x%s ", $1, $2, $3}' /proc/self/uid_map))"
fi

echo "== capabilities (uid $(id -u))"
for set in CapEff:effective CapPrm:permitted CapBnd:bounding CapInh:inheritable CapAmb:ambient; do
	printf '%-12s %s\n' "${set#*:}" "$(decode_caps "$(status "${set%%:*}")")"
done

echo "== system calls"
case "$(status Seccomp)" in
	0) mode=disabled ;;
	1) mode=strict ;;
	2) mode="filter ($(status Seccomp_filters) loaded)" ;;
	*) mode=unknown ;;
esac
echo "seccomp: $mode"
echo "no_new_privs: $(status NoNewPrivs)"

echo "== /proc and /sys"
for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/latency_stats \
	/proc/acpi /proc/scsi /sys/firmware /sys/devices/virtual/powercap; do
	if [ -c "$p" ]; then
		state="masked (/dev/null)"
	elif [ -d "$p" ] && awk -v p="$p" '$5 == p && / - tmpfs / { m = 1 } END { exit !m }' /proc/self/mountinfo; then
		state="masked (empty tmpfs)"
	elif [ -e "$p" ]; then
		state="VISIBLE"
	else
		state="absent on this kernel"
	fi
	printf '%-32s %s\n' "$p" "$state"
done
# The mount a path lives on (the longest mount point above it) and its
# per-mount options (field 6 of /proc/self/mountinfo, see proc(5)).
mount_options() {
	awk -v p="$1" '
		{ mp = $5; if (mp != "/" && p != mp && index(p, mp "/") != 1) next }
		length(mp) >= best { best = length(mp); opts = $6 }
		END { print opts }' /proc/self/mountinfo
}
for p in /proc/sys /proc/sysrq-trigger /proc/irq /proc/bus /proc/fs /sys /sys/fs/cgroup; do
	[ -e "$p" ] || continue
	case ",$(mount_options "$p")," in
		*,ro,*) state=read-only ;;
		*) state=WRITABLE ;;
	esac
	printf '%-32s %s\n' "$p" "$state"
done
echo "devices in /dev: $(find /dev -type c -o -type b 2>/dev/null | wc -l)"

echo "== cgroup ($(sed -n 's/^0:://p' /proc/self/cgroup | head -n1))"
show() { # show LABEL FILE: one limit, if this container can read it
	[ -r "$2" ] && printf '%-16s %s\n' "$1" "$(cat "$2")"
}
cg=/sys/fs/cgroup
if [ -f $cg/cgroup.controllers ]; then
	show memory.max $cg/memory.max
	show pids.max $cg/pids.max
	show cpu.max $cg/cpu.max
elif [ -d $cg/memory ]; then
	show memory.limit $cg/memory/memory.limit_in_bytes
	show pids.max $cg/pids/pids.max
	show cpu.cfs_quota $cg/cpu/cpu.cfs_quota_us
else
	echo "no cgroup filesystem mounted here: limits are only visible from the host"
fi
