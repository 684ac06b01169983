#!/bin/sh
# mkrootfs-busybox.sh BUSYBOX DIR - a minimal root filesystem: the static
# busybox from Debian's busybox-static package, one symlink per applet,
# the files a shell and `id` expect, and the usual empty directories.
# Everything is owned by root and dated 2000-01-01 so the tree is the same
# on every machine (tests compare images against it, file by file).
set -eu
BUSYBOX=$1
DIR=$2
HERE=$(cd "$(dirname "$0")" && pwd)

if ! [ -x "$BUSYBOX" ]; then
	echo "mkrootfs-busybox: $BUSYBOX: not found (apt-get install busybox-static)" >&2
	exit 1
fi
if ! "$BUSYBOX" true; then
	echo "mkrootfs-busybox: $BUSYBOX does not run" >&2
	exit 1
fi

rm -rf "$DIR"
mkdir -p "$DIR"
cd "$DIR"
mkdir -p bin sbin usr/bin usr/sbin etc dev proc sys tmp root home \
	var/log var/tmp run mnt opt srv www
chmod 1777 tmp var/tmp
chmod 700 root

cp "$BUSYBOX" bin/busybox
chmod 755 bin/busybox
# One link per applet, where busybox itself says the applet lives.
"$BUSYBOX" --list-full | while read -r applet; do
	[ "$applet" = bin/busybox ] && continue
	[ -e "$applet" ] || [ -L "$applet" ] || ln -s /bin/busybox "$applet"
done

cat > etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
www-data:x:33:33:www-data:/www:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > etc/group <<'GROUP'
root:x:0:
daemon:x:1:
www-data:x:33:
nogroup:x:65534:
GROUP
echo minidock > etc/hostname
echo '<h1>Hello from a minidock container</h1>' > www/index.html
: > etc/hosts
: > etc/resolv.conf
cat > etc/os-release <<'OS'
NAME="minidock busybox"
ID=busybox
PRETTY_NAME="minidock teaching image (busybox)"
OS
chmod 644 etc/passwd etc/group etc/hostname etc/hosts etc/resolv.conf etc/os-release www/index.html

install -m 755 "$HERE/isolation.sh" usr/bin/isolation  # the TP's isolation report

# Same owner and dates everywhere, for reproducible images.
chown -hR 0:0 .
find . -exec touch -h -d '2000-01-01 00:00:00 UTC' {} +
